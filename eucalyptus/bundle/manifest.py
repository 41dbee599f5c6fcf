# -*- test-case-name: tests.test_bundle -*-
"""
The manifest of a bundle (C{<name>.manifest.xml}): the format's constants,
L{BundleError}, the parsed L{Manifest}, reading it, checking its signature,
and writing one.  The format is described in L{eucalyptus.bundle}.
"""

import os
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.exceptions import InvalidSignature
from lxml import etree
from lxml.builder import E

from eucalyptus import __version__
from eucalyptus.errors import ClientError
from eucalyptus.files import write_atomically
from eucalyptus.xmlsafe import parse_untrusted

MANIFEST_VERSION = "2007-10-10"
PART_SIZE = 10 * 1024 * 1024
KINDS = ("machine", "kernel", "ramdisk")
ENCRYPTION = "AES-128-CBC"
DIGEST = "SHA1"

#: The block device mapping euca2ools writes into machine bundles.
DEFAULT_MAPPING = (("ami", "sda1"), ("root", "/dev/sda1"), ("ephemeral0", "sda2"), ("swap", "sda3"))

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
#: How much is read, inflated or copied at a time when streaming.
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
    @ivar digest: lower-case hex SHA-1 of the tar stream (see
        L{eucalyptus.bundle}).
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


def _plain_name(text):
    """
    Whether C{text} is a plain file name: no directory, not C{.} or C{..},
    no backslash, no NUL.
    """
    return os.path.basename(text) == text and text not in (".", "..") and "\\" not in text and "\0" not in text


def _part_filename(text, index):
    if not _plain_name(text) or len(text.encode("utf-8")) > 255:
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


# Writing a manifest


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


def _write_manifest(out_dir, name, configuration, image, signing_key):
    """
    Sign C{configuration} and C{image} and write the manifest to
    C{out_dir/<name>.manifest.xml}, atomically (through a temporary file in
    C{out_dir}).

    @param out_dir: the bundle's directory.
    @param name: the image name.
    @param configuration: the C{<machine_configuration>} element.
    @param image: the C{<image>} element.
    @param signing_key: the bundling user's RSA private key.
    @return: the manifest's path.
    """
    signature = signing_key.sign(_signed_data(configuration, image), padding.PKCS1v15(), hashes.SHA1())
    manifest = E.manifest(
        E.version(MANIFEST_VERSION),
        E.bundler(E.name("eucalyptus"), E.version(__version__), E.release("0")),
        configuration,
        image,
        E.signature(signature.hex()),
    )
    path = os.path.join(out_dir, f"{name}.manifest.xml")
    write_atomically(path, etree.tostring(manifest), durable=False)
    return path
