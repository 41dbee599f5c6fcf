# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
The body of an object or part upload, checked before it becomes data:
its length, its C{Content-MD5}, its C{x-amz-checksum-*}, and what its signature says about it (the
SHA-256 a SigV4 request declared, or the chunk signatures of an aws-chunked
body).  A body that fails any check is discarded and never visible.
"""

import base64
import binascii

from eucalyptus.security import awsauth
from eucalyptus.services.walrus.body import MAX_OBJECT_SIZE, SpoolSink
from eucalyptus.services.walrus.checksums import BodyChecksum
from eucalyptus.services.walrus.errors import (
    BadDigest,
    EntityTooLarge,
    IncompleteBody,
    InvalidDigest,
    MissingContentLength,
)

__all__ = ["received_body", "expected_md5"]


def expected_md5(call):
    """
    The hex MD5 a request's C{Content-MD5} states, or C{None} without one.

    @raise InvalidDigest: the header is not a base64 MD5.
    """
    stated = call.header("content-md5")
    if stated is None:
        return None
    try:
        digest = base64.b64decode(stated, validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 16:
        raise InvalidDigest(**{"Content-MD5": stated})
    return digest.hex()


async def received_body(store, call):
    """
    The request's body in a finished spool, checked.

    @param store: the L{IObjectStore} (for bodies small enough to have been
        kept in memory).
    @return: the finished L{ISpool}; the caller hands it to the store.
    @raise EntityTooLarge: over 5 GiB.
    @raise MissingContentLength: neither a length nor chunked encoding.
    @raise BadDigest: C{Content-MD5} or the declared
        C{x-amz-checksum-*} does not match.
    @raise eucalyptus.errors.XAmzContentSHA256Mismatch: nor does the
        declared SHA-256.
    @raise eucalyptus.errors.SignatureDoesNotMatch: a chunk signature is
        wrong.
    """
    request = call.request
    if getattr(request, "too_large", False):
        raise EntityTooLarge(MaxSizeAllowed=str(MAX_OBJECT_SIZE))
    if call.header("content-length") is None and call.header("transfer-encoding") is None:
        raise MissingContentLength()
    expected_md5_hex = expected_md5(call)
    content = request.content
    if isinstance(content, SpoolSink):
        spool, decoder, checksum = content.spool, content.decoder, content.checksum
        if content.error is not None:
            spool.discard()
            raise content.error
    else:
        sha256 = call.auth is not None and call.auth.payload_sha256 is not None
        spool, decoder = store.spool(sha256=sha256), awsauth.chunked_decoder(call.signed)
        checksum = None
        try:
            checksum = BodyChecksum.for_headers(call.headers)
            content.seek(0)
            data = content.read()
            for piece in decoder.feed(data) if decoder is not None else [data]:
                spool.write(piece)
                if checksum is not None:
                    checksum.update(piece)
        except BaseException:
            spool.discard()
            raise
    try:
        if decoder is not None:
            decoder.finish()
        result = await spool.finish()
        if result.size > MAX_OBJECT_SIZE:
            raise EntityTooLarge(MaxSizeAllowed=str(MAX_OBJECT_SIZE))
        declared = call.header("content-length")
        if decoder is None and declared is not None and declared.isdigit() and int(declared) != result.size:
            raise IncompleteBody()
        if expected_md5_hex is not None and expected_md5_hex != result.md5:
            raise BadDigest(ExpectedDigest=call.header("content-md5"), CalculatedDigest=result.md5)
        if call.auth is not None and call.auth.chunks is not None:
            decoder.verify(call.auth.chunks)
        elif call.auth is not None:
            # A spool computes the SHA-256 only when the headers declared
            # one; should it be missing anyway, nothing matches it.
            call.auth.check_payload_sha256(result.sha256 or "")
        if checksum is not None:
            stated = checksum.check(call.headers, decoder.trailers if decoder is not None else ())
            call.request.setHeader(checksum.header, stated)
    except BaseException:
        spool.discard()
        raise
    return spool
