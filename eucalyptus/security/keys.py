# -*- test-case-name: tests.security.test_keys -*-
"""
The cloud's keys and certificates.

The layout is the original one, under C{<data dir>/keys/}::

    cloud-cert.pem  cloud-pk.pem            the cloud (CLC) pair
    <zone>/cluster-cert.pem  cluster-pk.pem the zone's cluster controller pair
    <zone>/node-cert.pem     node-pk.pem    the zone's node controllers' pair

Every pair is RSA 2048 with a self-signed SHA-512 certificate valid for five
years, subject C{CN=<name>, OU=Eucalyptus, O=Cloud, C=US}.  Private keys are
written with mode 0600, once: an existing file is never overwritten.

L{KeyStore} reads them back as L{Credential}s; which certificate each link
pins is decided by L{eucalyptus.security.trust}.
"""

import datetime
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "Credential",
    "KeyStore",
    "create_pair",
    "write_private_key",
    "write_certificate",
    "load_certificate",
    "load_private_key",
]

KEY_SIZE = 2048
VALID_DAYS = 5 * 365


@dataclass(frozen=True)
class Credential:
    """
    A private key and its certificate, loaded once.

    @ivar key: the RSA private key (C{cryptography} object).
    @ivar certificate: the X.509 certificate.
    @ivar cert_der: the certificate's DER bytes (what a BinarySecurityToken
        carries and what pinning compares).
    """

    key: object
    certificate: x509.Certificate

    @property
    def cert_der(self):
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def cert_pem(self):
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Eucalyptus"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cloud"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
    )


def create_pair(common_name, issuer=None, now=None):
    """
    Make a new RSA 2048 key and a SHA-512 certificate for it.

    @param common_name: the certificate's CN (C{eucalyptus}, C{cc-zone-1}, ...).
    @param issuer: a L{Credential} that signs the certificate; C{None} for a
        self-signed one.
    @param now: the time the certificate starts (for tests).
    @return: a L{Credential}.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    subject = _name(common_name)
    issuer_name = issuer.certificate.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    return Credential(key, builder.sign(signing_key, hashes.SHA512()))


def _write_once(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, mode)


def write_private_key(path, key):
    """
    Write a private key as unencrypted PEM, mode 0600; never overwrite.

    @raise FileExistsError: when the file exists.
    """
    _write_once(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        0o600,
    )


def write_certificate(path, certificate):
    """
    Write a certificate as PEM, mode 0644; never overwrite.

    @raise FileExistsError: when the file exists.
    """
    _write_once(path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)


def load_certificate(path):
    """
    Read a PEM certificate.
    """
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def load_private_key(path):
    """
    Read an unencrypted PEM private key.
    """
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


class KeyStore:
    """
    The key directory of one host, read on demand and cached.

    @ivar path: the directory (C{<data dir>/keys}).
    """

    def __init__(self, path):
        self.path = path
        self._cache = {}

    def cert_path(self, role, zone=None):
        """
        Where the certificate of C{role} (C{cloud}, C{cluster}, C{node}) is.
        """
        return self._path(role, zone, "cert")

    def key_path(self, role, zone=None):
        """
        Where the private key of C{role} is.
        """
        return self._path(role, zone, "pk")

    def _path(self, role, zone, kind):
        if role == "cloud":
            return os.path.join(self.path, f"cloud-{kind}.pem")
        if role in ("cluster", "node"):
            if not zone:
                raise ValueError(f"the {role} keys belong to a zone")
            return os.path.join(self.path, zone, f"{role}-{kind}.pem")
        raise ValueError(f"unknown key role {role!r}")

    def certificate(self, role, zone=None):
        """
        The certificate of C{role}, cached.
        """
        path = self.cert_path(role, zone)
        if path not in self._cache:
            self._cache[path] = load_certificate(path)
        return self._cache[path]

    def credential(self, role, zone=None):
        """
        The private key and certificate of C{role}, cached.
        """
        path = self.key_path(role, zone)
        if path not in self._cache:
            self._cache[path] = Credential(load_private_key(path), self.certificate(role, zone))
        return self._cache[path]
