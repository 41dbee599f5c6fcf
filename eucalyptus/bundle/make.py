# -*- test-case-name: tests.test_bundle -*-
"""
Bundling: an image file made into parts and a signed manifest, streaming.
"""

import hashlib
import os
import tarfile
import zlib

from lxml.builder import E

from eucalyptus.bundle.keys import _aes_cbc, _public_encrypt
from eucalyptus.bundle.manifest import (
    _IO_CHUNK,
    DIGEST,
    ENCRYPTION,
    KINDS,
    PART_SIZE,
    Part,
    _machine_configuration,
    _plain_name,
    _write_manifest,
)


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
        cipher, pkcs7 = _aes_cbc(key, iv)
        self._encryptor = cipher.encryptor()
        self._padder = pkcs7.padder()
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
    if not _plain_name(name):
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
    return _write_manifest(out_dir, name, configuration, image_element, user_credential.key)
