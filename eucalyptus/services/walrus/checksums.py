# -*- test-case-name: tests.services.walrus.test_boto3_objects -*-
"""
The flexible checksums of S3 uploads: C{x-amz-checksum-<algorithm>}, sent
as a header or as a trailer of an C{aws-chunked} body, checked against the
bytes that arrived.

Walrus computes CRC32, SHA-1 and SHA-256 (the algorithms botocore uses by
itself, without C{awscrt}).  CRC32C and CRC64NVME need a native library
Walrus does not depend on; a body declaring one of them is accepted
unchecked (its C{Content-MD5}, signature and length are still checked).
"""

import base64
import binascii
import hashlib
import zlib

from eucalyptus.services.walrus.errors import BadDigest, InvalidRequest

__all__ = ["BodyChecksum", "CHECKED", "UNCHECKED"]

_PREFIX = "x-amz-checksum-"


class _Crc32:
    """
    CRC32 with the C{hashlib} interface.
    """

    def __init__(self):
        self._value = 0

    def update(self, data):
        self._value = zlib.crc32(data, self._value)

    def digest(self):
        return self._value.to_bytes(4, "big")


CHECKED = {"crc32": _Crc32, "sha1": hashlib.sha1, "sha256": hashlib.sha256}
UNCHECKED = ("crc32c", "crc64nvme")


class BodyChecksum:
    """
    The checksum a request declares for its body, computed as the body
    arrives.

    @ivar algorithm: the lower-case algorithm name (C{"crc32"}).
    @ivar header: where the value comes from, C{x-amz-checksum-<algorithm>}.
    """

    def __init__(self, algorithm):
        self.algorithm = algorithm
        self.header = _PREFIX + algorithm
        factory = CHECKED.get(algorithm)
        self._hash = factory() if factory is not None else None

    @classmethod
    def for_headers(cls, headers):
        """
        The checksum a request's headers declare (a value header, or the
        name announced in C{x-amz-trailer}), or C{None}.

        @param headers: lower-case header names to values.
        @raise InvalidRequest: an unknown algorithm, or more than one.
        """
        names = [name[len(_PREFIX) :] for name in headers if name.startswith(_PREFIX)]
        names = [name for name in names if name not in ("algorithm", "mode", "type")]
        trailer = headers.get("x-amz-trailer", "").strip().lower()
        if trailer.startswith(_PREFIX):
            names.append(trailer[len(_PREFIX) :])
        if not names:
            return None
        if len(set(names)) > 1:
            raise InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        if names[0] not in CHECKED and names[0] not in UNCHECKED:
            raise InvalidRequest("Value for x-amz-checksum-algorithm header is invalid.")
        return cls(names[0])

    def update(self, data):
        """
        Add the next bytes of the body.
        """
        if self._hash is not None:
            self._hash.update(data)

    def check(self, headers, trailers=()):
        """
        Compare the declared value with the bytes seen.

        @param headers: the request's headers.
        @param trailers: the C{(name, value)} trailers of an C{aws-chunked}
            body.
        @return: the declared value (base64), for the response header.
        @raise InvalidRequest: the value is missing or not base64.
        @raise BadDigest: it does not match.
        """
        stated = headers.get(self.header)
        if stated is None:
            stated = dict(trailers).get(self.header)
        if stated is None:
            raise InvalidRequest(f"The {self.header} trailer was announced but not sent.")
        try:
            digest = base64.b64decode(stated, validate=True)
        except binascii.Error:
            raise InvalidRequest(f"Value for {self.header} header is invalid.")
        if self._hash is not None and digest != self._hash.digest():
            raise BadDigest(f"The {self.algorithm.upper()} you specified did not match the calculated checksum.")
        return stated
