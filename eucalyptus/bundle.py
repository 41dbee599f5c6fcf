# -*- test-case-name: tests.test_bundle -*-
"""
The Eucalyptus/EC2 image bundle, manifest version C{2007-10-10}.

A bundle is what C{euca-bundle-image} makes of an image file and what
C{RegisterImage} points at::

    image -> tar (one member) -> gzip -> AES-128-CBC -> parts of 10 MiB

The AES key and IV are random; PKCS#7 pads the last block (what C{openssl enc
-aes-128-cbc -K <hex> -iv <hex>} does, so C{openssl enc -d} and C{tar xzO}
undo a bundle).  The parts are C{<name>.part.<n>}, C{n} counting from 0, and
C{<name>.manifest.xml} describes them::

    <manifest>
      <version>2007-10-10</version>
      <bundler><name/><version/><release/></bundler>
      <machine_configuration>
        <architecture>x86_64</architecture>
        <kernel_id/> <ramdisk_id/>             (optional; "true" in kernel
                                                and ramdisk bundles)
        <block_device_mapping><mapping><virtual/><device/></mapping>...
      </machine_configuration>
      <image>
        <name/> <user>account id</user> <type>machine|kernel|ramdisk</type>
        <digest algorithm="SHA1"/> <size/> <bundled_size/>
        <ec2_encrypted_key algorithm="AES-128-CBC"/> <user_encrypted_key .../>
        <ec2_encrypted_iv/> <user_encrypted_iv/>
        <parts count="N"><part index="0"><filename/><digest algorithm="SHA1"/>
        </part>...</parts>
      </image>
      <signature/>
    </manifest>

Conventions, as euca2ools 3 (C{euca2ools/bundle/manifest.py},
C{commands/bundle/bundle.py}, C{bundle/pipes/core.py}) has them:

 - C{image/digest} is the SHA-1 of the I{uncompressed tar stream}, every byte
   of it including the headers and the end-of-archive padding: euca2ools
   hashes between C{tar} and C{gzip} when bundling and between C{gunzip} and
   C{tar} when unbundling.  It is not the digest of the image file itself.
 - C{size} is the image file's size, C{bundled_size} the sum of the parts'
   sizes (the encrypted stream), each part's C{digest} the SHA-1 of its bytes.
 - What the RSA keys encrypt (PKCS#1 v1.5) is the key and IV I{as 32
   lower-case hex characters}, the strings given to C{openssl enc -K/-iv};
   the encrypted bytes are hex in the manifest.  C{ec2_*} are encrypted to
   the cloud certificate, C{user_*} to the bundling user's.
 - The signature is hex RSA-SHA1 (PKCS#1 v1.5) by the user's key over the
   serialised C{<machine_configuration>} element followed by the serialised
   C{<image>} element, exactly as they stand in the manifest.

When reading, L{parse_manifest} re-serialises the two parsed elements with
lxml to get the signed bytes, so what is verified is exactly what is then
interpreted (never a substring found by searching the text, which a
manifest could fool).  Manifests written by lxml (euca2ools 3, this module)
re-serialise byte for byte.

L{make_bundle} and L{Unbundler} stream: memory use does not grow with the
image.
"""

import hashlib
import os
import re
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.exceptions import InvalidSignature
from lxml import etree
from lxml.builder import E

from eucalyptus import __version__
from eucalyptus.errors import ClientError
from eucalyptus.xmlsafe import parse_untrusted

__all__ = [
    "MANIFEST_VERSION",
    "PART_SIZE",
    "KINDS",
    "BundleError",
    "Part",
    "Manifest",
    "parse_manifest",
    "verify_signature",
    "decrypt_key",
    "Unbundler",
    "unbundle",
    "make_bundle",
]

MANIFEST_VERSION = "2007-10-10"
PART_SIZE = 10 * 1024 * 1024
KINDS = ("machine", "kernel", "ramdisk")
ENCRYPTION = "AES-128-CBC"
DIGEST = "SHA1"

#: The block device mapping euca2ools writes into machine bundles.
DEFAULT_MAPPING = (("ami", "sda1"), ("root", "/dev/sda1"), ("ephemeral0", "sda2"), ("swap", "sda3"))

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_IO_CHUNK = 1024 * 1024


class BundleError(ClientError):
    """
    A bundle or its manifest is malformed, does not verify, or does not
    decrypt; the message says which and what to do.
    """

    code = "InvalidManifest"
    message = "The image bundle is invalid."


@dataclass(frozen=True)
class Part:
    """
    One part of a bundle.

    @ivar index: its place, from 0.
    @ivar filename: its file name (a plain name, no directory).
    @ivar digest: the lower-case hex SHA-1 of its bytes.
    """

    index: int
    filename: str
    digest: str


@dataclass(frozen=True)
class Manifest:
    """
    A parsed manifest.  Nothing in it is trusted until L{verify_signature}
    has checked it against the uploader's certificate.

    @ivar kind: C{machine}, C{kernel} or C{ramdisk}.
    @ivar size: the image's size in bytes.
    @ivar bundled_size: the sum of the parts' sizes.
    @ivar digest: lower-case hex SHA-1 of the tar stream (see the module
        docstring).
    @ivar parts: the L{Part}s, sorted by index, indexes 0 to n-1.
    @ivar ec2_encrypted_key: hex, RSA-encrypted to the cloud certificate;
        likewise the IV and the C{user_*} pair (to the user's certificate;
        C{None} when the manifest has none).
    @ivar kernel_id: the C{kernel_id} of the machine configuration, or
        C{None}; C{"true"} in a kernel bundle.  Likewise C{ramdisk_id}.
    @ivar account: the uploader's account id (C{image/user}).
    @ivar signature: the signature's bytes.
    @ivar signed_data: the bytes the signature covers.
    @ivar block_device_mapping: C{{virtual: device}}.
    """

    name: str
    kind: str
    size: int
    bundled_size: int
    digest: str
    parts: list
    ec2_encrypted_key: str
    ec2_encrypted_iv: str
    user_encrypted_key: str
    user_encrypted_iv: str
    kernel_id: str
    ramdisk_id: str
    architecture: str
    account: str
    signature: bytes
    signed_data: bytes
    block_device_mapping: dict = field(default_factory=dict)


# Reading a manifest


def _children(parent, tag):
    return [child for child in parent if child.tag == tag]


def _one(parent, tag, required=True):
    found = _children(parent, tag)
    if len(found) > 1:
        raise BundleError(f"The manifest has {len(found)} <{tag}> elements in <{parent.tag}>; it must have one.")
    if not found:
        if required:
            raise BundleError(f"The manifest has no <{tag}> in <{parent.tag}>.")
        return None
    return found[0]


def _text(parent, tag, required=True):
    element = _one(parent, tag, required)
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        if required:
            raise BundleError(f"The manifest's <{parent.tag}><{tag}> is empty.")
        return None
    return text


def _integer(parent, tag):
    text = _text(parent, tag)
    if not text.isdigit():
        raise BundleError(f"The manifest's <{parent.tag}><{tag}> is {text!r}, not a number of bytes.")
    return int(text)


def _hex(parent, tag, required=True):
    text = _text(parent, tag, required)
    if text is not None and not _HEX.match(text):
        raise BundleError(f"The manifest's <{parent.tag}><{tag}> is not hexadecimal.")
    return text


def _sha1(parent, tag):
    element = _one(parent, tag)
    algorithm = element.get("algorithm", DIGEST)
    if algorithm.upper() != DIGEST:
        raise BundleError(f"The manifest's <{parent.tag}><{tag}> uses {algorithm!r}; only SHA1 is known.")
    text = (element.text or "").strip()
    if not _SHA1.match(text):
        raise BundleError(f"The manifest's <{parent.tag}><{tag}> is not a hex SHA-1 digest.")
    return text.lower()


def _part_filename(text, index):
    if (
        os.path.basename(text) != text
        or text in (".", "..")
        or "\\" in text
        or "\0" in text
        or len(text.encode("utf-8")) > 255
    ):
        raise BundleError(f"The manifest names part {index} {text!r}; a part must be a plain file name.")
    return text


def _parts(image):
    parts_element = _one(image, "parts")
    parts = []
    for element in _children(parts_element, "part"):
        index = element.get("index", "")
        if not index.isdigit():
            raise BundleError(f"The manifest has a <part> whose index is {index!r}, not a number.")
        index = int(index)
        parts.append(Part(index, _part_filename(_text(element, "filename"), index), _sha1(element, "digest")))
    parts.sort(key=lambda part: part.index)
    if [part.index for part in parts] != list(range(len(parts))):
        raise BundleError("The manifest's part indexes are not 0, 1, 2, ... each once.")
    if not parts:
        raise BundleError("The manifest lists no parts.")
    count = parts_element.get("count")
    if count is not None and count != str(len(parts)):
        raise BundleError(f"The manifest says there are {count} parts but lists {len(parts)}.")
    if len({part.filename for part in parts}) != len(parts):
        raise BundleError("The manifest names the same part file twice.")
    return parts


def _mapping(configuration):
    mapping = {}
    block = _one(configuration, "block_device_mapping", required=False)
    if block is not None:
        for element in _children(block, "mapping"):
            mapping[_text(element, "virtual")] = _text(element, "device")
    return mapping


def parse_manifest(xml_bytes):
    """
    Parse a manifest received from a user or read from Walrus.

    @param xml_bytes: the manifest document, C{bytes}.
    @return: a L{Manifest}; its signature is not checked yet.
    @raise BundleError: the document is not well-formed, not a version
        2007-10-10 manifest, or lacks or repeats something a bundle needs.
    """
    root = parse_untrusted(xml_bytes, BundleError)
    if root.tag != "manifest":
        raise BundleError(f"The document is a <{root.tag}>, not an image <manifest>.")
    version = _text(root, "version")
    if version != MANIFEST_VERSION:
        raise BundleError(f"The manifest is version {version!r}; only {MANIFEST_VERSION} bundles are understood.")
    configuration = _one(root, "machine_configuration")
    image = _one(root, "image")
    kind = _text(image, "type")
    if kind not in KINDS:
        raise BundleError(f"The manifest's image type is {kind!r}; it must be machine, kernel or ramdisk.")
    encryption = _one(image, "ec2_encrypted_key").get("algorithm", ENCRYPTION)
    if encryption.upper() != ENCRYPTION:
        raise BundleError(f"The bundle is encrypted with {encryption!r}; only AES-128-CBC is known.")
    signature = _hex(root, "signature")
    if len(signature) % 2:
        raise BundleError("The manifest's signature has an odd number of hex digits.")
    return Manifest(
        name=_text(image, "name"),
        kind=kind,
        size=_integer(image, "size"),
        bundled_size=_integer(image, "bundled_size"),
        digest=_sha1(image, "digest"),
        parts=_parts(image),
        ec2_encrypted_key=_hex(image, "ec2_encrypted_key"),
        ec2_encrypted_iv=_hex(image, "ec2_encrypted_iv"),
        user_encrypted_key=_hex(image, "user_encrypted_key", required=False),
        user_encrypted_iv=_hex(image, "user_encrypted_iv", required=False),
        kernel_id=_text(configuration, "kernel_id", required=False),
        ramdisk_id=_text(configuration, "ramdisk_id", required=False),
        architecture=_text(configuration, "architecture", required=False),
        account=_text(image, "user"),
        signature=bytes.fromhex(signature),
        signed_data=_signed_data(configuration, image),
        block_device_mapping=_mapping(configuration),
    )


def _signed_data(configuration, image):
    return etree.tostring(configuration, with_tail=False) + etree.tostring(image, with_tail=False)


def verify_signature(manifest, certificate):
    """
    Check that the manifest was signed by the holder of C{certificate}.

    @param manifest: a L{Manifest}.
    @param certificate: the uploader's X.509 certificate (C{cryptography}).
    @raise BundleError: the signature does not verify with that certificate.
    """
    try:
        certificate.public_key().verify(manifest.signature, manifest.signed_data, padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, ValueError, TypeError):
        raise BundleError(
            "The manifest's signature does not verify with the uploader's certificate: "
            "the manifest was changed after it was signed, or was signed with another key."
        )


# Keys


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

    @param manifest: a L{Manifest}.
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


# Unbundling


class _TarReader:
    """
    A push parser for a tar stream that must hold exactly one regular file,
    whose bytes go to C{write}.

    Understood besides plain ustar/GNU headers: pax extended headers (their
    C{size} overrides the header's), GNU long names, base-256 sizes.
    Anything else (directories, links, devices, a second file) is refused.
    """

    _HEADER, _DATA, _EXTENDED, _PADDING, _END = range(5)
    _NAMES = {
        b"1": "a hard link",
        b"2": "a symbolic link",
        b"3": "a character device",
        b"4": "a block device",
        b"5": "a directory",
        b"6": "a FIFO",
        b"S": "a sparse file",
    }
    _EXTENDED_LIMIT = 1024 * 1024

    def __init__(self, write):
        self._write = write
        self._state = self._HEADER
        self._block = bytearray()
        self._remaining = 0
        self._padding = 0
        self._extended = None
        self._extended_kind = None
        self._pax_size = None
        self.files = 0
        self.size = 0

    def feed(self, data):
        view = memoryview(data)
        while view:
            if self._state == self._HEADER:
                take = 512 - len(self._block)
                self._block += view[:take]
                view = view[take:]
                if len(self._block) == 512:
                    block, self._block = bytes(self._block), bytearray()
                    self._header(block)
            elif self._state == self._DATA:
                chunk = view[: self._remaining]
                self._write(chunk)
                self._remaining -= len(chunk)
                view = view[len(chunk) :]
                if not self._remaining:
                    self._state = self._PADDING
            elif self._state == self._EXTENDED:
                chunk = view[: self._remaining]
                self._extended += chunk
                self._remaining -= len(chunk)
                view = view[len(chunk) :]
                if not self._remaining:
                    self._extended_done()
                    self._state = self._PADDING
            elif self._state == self._PADDING:
                skip = min(self._padding, len(view))
                self._padding -= skip
                view = view[skip:]
            else:
                if any(view):
                    raise BundleError("The bundle's tar has data after its end-of-archive marker.")
                return
            if self._state == self._PADDING and not self._padding:
                self._state = self._HEADER

    def finish(self):
        if self._state not in (self._HEADER, self._END) or self._block:
            raise BundleError("The bundle's tar stream is truncated.")
        if self.files != 1:
            raise BundleError("The bundle's tar holds no file; an image bundle holds exactly one.")

    def _header(self, block):
        if not any(block):
            self._state = self._END
            return
        _check_header_checksum(block)
        kind = block[156:157]
        size = _tar_number(block[124:136])
        padding = -size % 512
        if kind in (b"0", b"\0", b"7"):
            if self.files:
                raise BundleError("The bundle's tar holds more than one file; an image bundle holds exactly one.")
            if self._pax_size is not None:
                size, self._pax_size = self._pax_size, None
                padding = -size % 512
            self.files = 1
            self.size = size
            self._remaining, self._padding = size, padding
            self._state = self._DATA if size else self._PADDING
        elif kind in (b"x", b"g", b"L", b"K"):
            if size > self._EXTENDED_LIMIT:
                raise BundleError("The bundle's tar has an extended header larger than 1 MiB.")
            self._extended, self._extended_kind = bytearray(), kind
            self._remaining, self._padding = size, padding
            if size:
                self._state = self._EXTENDED
            else:
                self._extended_done()
                self._state = self._PADDING
        else:
            what = self._NAMES.get(kind, f"an entry of type {kind!r}")
            raise BundleError(f"The bundle's tar holds {what}; an image bundle holds exactly one regular file.")

    def _extended_done(self):
        if self._extended_kind == b"x":
            size = _pax_records(bytes(self._extended)).get(b"size")
            if size is not None:
                if not size.isdigit():
                    raise BundleError("The bundle's tar has a pax size that is not a number.")
                self._pax_size = int(size)
        self._extended = None


def _check_header_checksum(block):
    stored = _tar_number(block[148:156])
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = unsigned - 2 * sum(b for b in block[:148] + block[156:] if b > 127)
    if stored not in (unsigned, signed):
        raise BundleError("The bundle's tar has a header with a bad checksum: the stream is corrupt.")


def _tar_number(field_bytes):
    if field_bytes[:1] == b"\x80":
        return int.from_bytes(field_bytes[1:], "big")
    if field_bytes[:1] == b"\xff":
        raise BundleError("The bundle's tar has a negative number in a header.")
    text = field_bytes.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise BundleError("The bundle's tar has a header field that is not a number: the stream is corrupt.")


def _pax_records(data):
    records = {}
    while data:
        length, _, rest = data.partition(b" ")
        if not length.isdigit() or int(length) > len(data) or int(length) <= len(length) + 1:
            raise BundleError("The bundle's tar has a malformed pax header.")
        record, data = data[len(length) + 1 : int(length)], data[int(length) :]
        key, equals, value = record.rstrip(b"\n").partition(b"=")
        if not equals:
            raise BundleError("The bundle's tar has a malformed pax header.")
        records[key] = value
    return records


class _Gunzip:
    """
    Push gunzip of one or more concatenated gzip members, producing at most
    L{_IO_CHUNK} bytes of output at a time.
    """

    def __init__(self, write):
        self._write = write
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data):
        inflater = self._inflater
        try:
            while True:
                out = inflater.decompress(data, _IO_CHUNK)
                if out:
                    self._write(out)
                if inflater.eof:
                    data = inflater.unused_data
                    if not data:
                        return
                    inflater = self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    continue
                data = inflater.unconsumed_tail
                if not data and len(out) < _IO_CHUNK:
                    return
        except zlib.error as e:
            raise BundleError(
                "The bundle does not decrypt to gzip data: the key is wrong, "
                f"or the parts are corrupt or out of order ({e})."
            )

    def finish(self):
        self.feed(b"")
        if not self._inflater.eof:
            raise BundleError("The bundle's gzip stream is truncated: a part is missing or short.")


class Unbundler:
    """
    Turn a bundle's concatenated parts back into the image, streaming.

    C{feed} the parts' bytes in order, in chunks of any size, then call
    C{finish}.  The image is written to C{out_file} as it comes; the caller
    must throw it away if C{finish} (or C{feed}) raises.

    Per-part digests are the caller's to check (L{unbundle} does); this
    checks the decryption padding, that the tar holds exactly one regular
    file, and the whole stream's digest and size when they are given.

    @ivar digest: after C{finish}, the hex SHA-1 of the tar stream.
    @ivar size: after C{finish}, the image's size.
    """

    def __init__(self, key, iv, out_file, digest=None, size=None):
        """
        @param key: the 16-byte AES key (from L{decrypt_key}).
        @param iv: the 16-byte IV.
        @param out_file: an open binary file the image is written to.
        @param digest: the expected hex SHA-1 (L{Manifest.digest}), or
            C{None} to only compute it.
        @param size: the expected image size (L{Manifest.size}), or C{None}.
        """
        if len(key) != 16 or len(iv) != 16:
            raise BundleError("An AES-128 bundle key and IV are 16 bytes each.")
        self._expected_digest = digest.lower() if digest else None
        self._expected_size = size
        self._decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        self._unpadder = sympadding.PKCS7(128).unpadder()
        self._sha1 = hashlib.sha1()
        self._tar = _TarReader(out_file.write)
        self._gunzip = _Gunzip(self._plain)
        self._failed = None
        self.digest = None
        self.size = None

    def _plain(self, data):
        self._sha1.update(data)
        self._tar.feed(data)

    def _guarded(self, step, *args):
        if self._failed is not None:
            raise BundleError(f"The unbundling already failed: {self._failed}")
        try:
            step(*args)
        except BundleError as e:
            self._failed = e
            raise

    def feed(self, data):
        """
        Take the next bytes of the concatenated parts.

        @raise BundleError: they do not decrypt, gunzip or untar.
        """
        self._guarded(self._feed, data)

    def _feed(self, data):
        self._gunzip.feed(self._unpadder.update(self._decryptor.update(data)))

    def finish(self):
        """
        Check the end of the stream.

        @return: the hex SHA-1 of the tar stream.
        @raise BundleError: the padding is wrong, the stream is truncated,
            the tar does not hold exactly one regular file, or the digest or
            size is not the expected one.
        """
        self._guarded(self._finish)
        return self.digest

    def _finish(self):
        try:
            last = self._unpadder.update(self._decryptor.finalize())
            last += self._unpadder.finalize()
        except ValueError:
            raise BundleError(
                "The bundle's encryption padding is wrong: the key is wrong, or a part is missing, short or corrupt."
            )
        self._gunzip.feed(last)
        self._gunzip.finish()
        self._tar.finish()
        digest = self._sha1.hexdigest()
        if self._expected_digest is not None and digest != self._expected_digest:
            raise BundleError(
                f"The unbundled image's digest is {digest}, the manifest says {self._expected_digest}: "
                "the bundle is corrupt or does not belong to this manifest."
            )
        if self._expected_size is not None and self._tar.size != self._expected_size:
            raise BundleError(
                f"The unbundled image is {self._tar.size} bytes, the manifest says {self._expected_size}."
            )
        self.digest, self.size = digest, self._tar.size


def unbundle(manifest, part_directory, key, iv, out_file):
    """
    Unbundle parts from a local directory, checking each part's digest.

    @param manifest: the L{Manifest}.
    @param part_directory: where the part files are.
    @param key: the AES key (from L{decrypt_key}); C{iv} likewise.
    @param out_file: an open binary file the image is written to.
    @return: the hex SHA-1 of the tar stream.
    @raise BundleError: a part is missing or corrupt, or see L{Unbundler}.
    """
    unbundler = Unbundler(key, iv, out_file, digest=manifest.digest, size=manifest.size)
    total = 0
    for part in manifest.parts:
        path = os.path.join(part_directory, part.filename)
        digest = hashlib.sha1()
        failure = None
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(_IO_CHUNK), b""):
                    digest.update(chunk)
                    total += len(chunk)
                    if failure is None:
                        try:
                            unbundler.feed(chunk)
                        except BundleError as e:
                            # Read on: a corrupt part explains this better.
                            failure = e
        except FileNotFoundError:
            raise BundleError(f"Part {part.index} of the bundle, {part.filename}, is missing from {part_directory}.")
        if digest.hexdigest() != part.digest:
            raise BundleError(
                f"Part {part.index} of the bundle, {part.filename}, is corrupt: its SHA-1 is "
                f"{digest.hexdigest()}, the manifest says {part.digest}."
            )
        if failure is not None:
            raise failure
    if total != manifest.bundled_size:
        raise BundleError(f"The parts hold {total} bytes, the manifest says {manifest.bundled_size}.")
    return unbundler.finish()


# Bundling


class _PartWriter:
    """
    Split a byte stream into part files of C{part_size} bytes.
    """

    def __init__(self, directory, prefix, part_size):
        self._directory = directory
        self._prefix = prefix
        self._part_size = part_size
        self._file = None
        self._digest = None
        self._written = 0
        self.parts = []
        self.total = 0

    def write(self, data):
        view = memoryview(data)
        while view:
            if self._file is None:
                filename = f"{self._prefix}.part.{len(self.parts)}"
                self._file = open(os.path.join(self._directory, filename), "wb")
                self._digest, self._written = hashlib.sha1(), 0
                self.parts.append(filename)
            chunk = view[: self._part_size - self._written]
            self._file.write(chunk)
            self._digest.update(chunk)
            self._written += len(chunk)
            self.total += len(chunk)
            view = view[len(chunk) :]
            if self._written == self._part_size:
                self._close_part()

    def _close_part(self):
        self._file.close()
        self._file = None
        index = len(self.parts) - 1
        self.parts[index] = Part(index, self.parts[index], self._digest.hexdigest())

    def close(self):
        if self._file is not None:
            self._close_part()

    def abort(self):
        if self._file is not None:
            self._file.close()
            self._file = None


class _BundleStream:
    """
    The file object C{tarfile} writes the tar stream into: hashes it, then
    gzips, encrypts and splits it.
    """

    def __init__(self, key, iv, parts):
        self.digest = hashlib.sha1()
        self._deflater = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self._encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        self._padder = sympadding.PKCS7(128).padder()
        self._parts = parts

    def _encrypt(self, data):
        self._parts.write(self._encryptor.update(self._padder.update(data)))

    def write(self, data):
        self.digest.update(data)
        self._encrypt(self._deflater.compress(data))
        return len(data)

    def close(self):
        self._encrypt(self._deflater.flush())
        self._parts.write(self._encryptor.update(self._padder.finalize()) + self._encryptor.finalize())


def _public_encrypt(certificate, secret):
    return certificate.public_key().encrypt(secret.hex().encode("ascii"), padding.PKCS1v15()).hex()


def _machine_configuration(kind, architecture, kernel_id, ramdisk_id):
    configuration = E.machine_configuration(E.architecture(architecture))
    if kind == "kernel":
        kernel_id = "true"
    elif kind == "ramdisk":
        ramdisk_id = "true"
    if kernel_id:
        configuration.append(E.kernel_id(kernel_id))
    if ramdisk_id:
        configuration.append(E.ramdisk_id(ramdisk_id))
    if kind == "machine":
        configuration.append(
            E.block_device_mapping(
                *(E.mapping(E.virtual(virtual), E.device(device)) for virtual, device in DEFAULT_MAPPING)
            )
        )
    return configuration


def make_bundle(
    image_path,
    out_dir,
    cloud_certificate,
    user_credential,
    kind="machine",
    part_size=PART_SIZE,
    kernel_id=None,
    ramdisk_id=None,
    architecture="x86_64",
    name=None,
    account=None,
):
    """
    Bundle an image file: write its parts and C{<name>.manifest.xml} into
    C{out_dir}, streaming (memory use does not grow with the image).

    @param image_path: the image file.
    @param out_dir: an existing directory for the parts and the manifest.
    @param cloud_certificate: the cloud's certificate (C{EUCALYPTUS_CERT}),
        which gets the C{ec2_encrypted_*} key and IV.
    @param user_credential: the bundling user's
        L{eucalyptus.security.keys.Credential}: its certificate gets the
        C{user_encrypted_*} copy, its key signs the manifest.
    @param kind: C{machine}, C{kernel} or C{ramdisk}; kernel and ramdisk
        bundles carry C{kernel_id} or C{ramdisk_id} C{"true"}.
    @param part_size: the size of each part but the last.
    @param kernel_id: for a machine image, its default kernel (C{eki-...}).
    @param ramdisk_id: for a machine image, its default ramdisk.
    @param architecture: C{x86_64} or C{i386}.
    @param name: the image name and file prefix; the image's file name by
        default.
    @param account: the uploader's account id (C{EC2_USER_ID}), which the
        manifest's C{image/user} carries.
    @return: the manifest's path.
    @raise ValueError: an argument is not usable (unknown kind, no account,
        a name that is not a plain file name).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not account:
        raise ValueError("make_bundle needs the uploader's account id (account=, EC2_USER_ID)")
    if part_size < 1:
        raise ValueError("part_size must be positive")
    name = name or os.path.basename(image_path)
    if os.path.basename(name) != name or name in (".", "..") or "\\" in name or "\0" in name:
        raise ValueError(f"the image name {name!r} must be a plain file name")
    key, iv = os.urandom(16), os.urandom(16)
    parts = _PartWriter(out_dir, name, part_size)
    stream = _BundleStream(key, iv, parts)
    with open(image_path, "rb") as image:
        info = os.fstat(image.fileno())
        member = tarfile.TarInfo(name)
        member.size, member.mtime, member.mode = info.st_size, int(info.st_mtime), 0o644
        try:
            with tarfile.open(fileobj=stream, mode="w|", format=tarfile.GNU_FORMAT) as archive:
                archive.copybufsize = _IO_CHUNK
                archive.addfile(member, image)
            stream.close()
        except BaseException:
            parts.abort()
            raise
    parts.close()
    image_element = E.image(
        E.name(name),
        E.user(account),
        E.digest(stream.digest.hexdigest(), algorithm=DIGEST),
        E.size(str(member.size)),
        E.bundled_size(str(parts.total)),
        E.type(kind),
        E.ec2_encrypted_key(_public_encrypt(cloud_certificate, key), algorithm=ENCRYPTION),
        E.user_encrypted_key(_public_encrypt(user_credential.certificate, key), algorithm=ENCRYPTION),
        E.ec2_encrypted_iv(_public_encrypt(cloud_certificate, iv)),
        E.user_encrypted_iv(_public_encrypt(user_credential.certificate, iv)),
        E.parts(
            *(
                E.part(E.filename(part.filename), E.digest(part.digest, algorithm=DIGEST), index=str(part.index))
                for part in parts.parts
            ),
            count=str(len(parts.parts)),
        ),
    )
    configuration = _machine_configuration(kind, architecture, kernel_id, ramdisk_id)
    signature = user_credential.key.sign(_signed_data(configuration, image_element), padding.PKCS1v15(), hashes.SHA1())
    manifest = E.manifest(
        E.version(MANIFEST_VERSION),
        E.bundler(E.name("eucalyptus"), E.version(__version__), E.release("0")),
        configuration,
        image_element,
        E.signature(signature.hex()),
    )
    path = os.path.join(out_dir, f"{name}.manifest.xml")
    fd, temporary = tempfile.mkstemp(prefix=".manifest-", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(etree.tostring(manifest))
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path
