# -*- test-case-name: tests.test_bundle -*-
"""
Unbundling: the parts' bytes, decrypted, gunzipped and untarred back into
the image, streaming.
"""

import hashlib
import os

from eucalyptus.bundle.keys import _aes_cbc
from eucalyptus.bundle.manifest import _IO_CHUNK, BundleError
from eucalyptus.bundle.readers import _Gunzip, _TarReader


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
        @param key: the 16-byte AES key (from
            L{eucalyptus.bundle.decrypt_key}).
        @param iv: the 16-byte IV.
        @param out_file: an open binary file the image is written to.
        @param digest: the expected hex SHA-1
            (L{eucalyptus.bundle.Manifest.digest}), or C{None} to only
            compute it.
        @param size: the expected image size
            (L{eucalyptus.bundle.Manifest.size}), or C{None}.
        """
        if len(key) != 16 or len(iv) != 16:
            raise BundleError("An AES-128 bundle key and IV are 16 bytes each.")
        self._expected_digest = digest.lower() if digest else None
        self._expected_size = size
        cipher, pkcs7 = _aes_cbc(key, iv)
        self._decryptor = cipher.decryptor()
        self._unpadder = pkcs7.unpadder()
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

    @param manifest: the L{eucalyptus.bundle.Manifest}.
    @param part_directory: where the part files are.
    @param key: the AES key (from L{eucalyptus.bundle.decrypt_key}); C{iv}
        likewise.
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
