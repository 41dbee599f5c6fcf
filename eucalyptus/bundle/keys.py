# -*- test-case-name: tests.test_bundle -*-
"""
The keys of a bundle: the random AES-128-CBC key and IV that encrypt the
stream, and their RSA (PKCS#1 v1.5) encryption to the cloud's and the
user's certificates in the manifest.
"""

from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from eucalyptus.bundle.manifest import _HEX, BundleError


def _aes_cbc(key, iv):
    """
    The bundle stream's cipher and padding.

    @param key: the 16-byte AES key; C{iv} likewise.
    @return: C{(cipher, pkcs7)}: the AES-128-CBC C{Cipher} and the PKCS#7
        padding for its 128-bit blocks.
    """
    return Cipher(algorithms.AES(key), modes.CBC(iv)), sympadding.PKCS7(128)


def _rsa_open(private_key, hex_ciphertext):
    # PKCS#1 v1.5 decryption with the wrong key does not always fail
    # (OpenSSL's implicit rejection returns random bytes): the 32 hex
    # characters are what tell a right key from a wrong one.
    plain = private_key.decrypt(bytes.fromhex(hex_ciphertext), padding.PKCS1v15())
    if len(plain) != 32 or not _HEX.match(plain.decode("latin-1")):
        raise ValueError("not a hex AES-128 key")
    return bytes.fromhex(plain.decode("ascii"))


def decrypt_key(manifest, private_keys):
    """
    Recover the bundle's AES key and IV.

    @param manifest: a L{eucalyptus.bundle.Manifest}.
    @param private_keys: RSA private keys (C{cryptography}) to try, in order,
        on the cloud's and then on the user's encrypted key and IV.
    @return: C{(key, iv)}, 16 bytes each.
    @raise BundleError: none of the keys opens either pair.
    """
    pairs = [
        (manifest.ec2_encrypted_key, manifest.ec2_encrypted_iv),
        (manifest.user_encrypted_key, manifest.user_encrypted_iv),
    ]
    for private_key in private_keys:
        for encrypted_key, encrypted_iv in pairs:
            if not encrypted_key or not encrypted_iv:
                continue
            try:
                return _rsa_open(private_key, encrypted_key), _rsa_open(private_key, encrypted_iv)
            except (ValueError, TypeError):
                continue
    raise BundleError(
        f"None of the {len(private_keys)} private key(s) given opens the key of bundle {manifest.name!r}: "
        "it was bundled for another cloud certificate or user."
    )


def _public_encrypt(certificate, secret):
    # The inverse of _rsa_open: hex of the RSA encryption of the hex secret.
    return certificate.public_key().encrypt(secret.hex().encode("ascii"), padding.PKCS1v15()).hex()
