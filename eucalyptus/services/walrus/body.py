# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
Request bodies that go straight into the object store.

Twisted reads a request's whole body before it dispatches the request.  For
S3 that body can be 5 GiB, so a L{StreamingRequest} on a site that has a
C{spool_factory} (called as C{spool_factory(sha256=...)}, like
L{eucalyptus.services.walrus.interfaces.IObjectStore.spool}) sends any body larger than L{MEMORY_LIMIT} (or of unknown
length) into an L{eucalyptus.services.walrus.interfaces.ISpool} as it
arrives: the data lands once, in the store's own temporary file, and the
socket is paused while the spool's writer is behind, so memory stays flat.
Smaller bodies stay in memory, as Twisted keeps them.
"""

import io
import re

from twisted.web import http
from twisted.web.http_headers import Headers

from eucalyptus.errors import AwsError
from eucalyptus.security import awsauth
from eucalyptus.services.walrus.checksums import BodyChecksum
from eucalyptus.soap.resource import LimitedRequest, SoapSite

__all__ = [
    "StreamingRequest", "StreamingSite", "SpoolSink", "header_dict", "needs_sha256", "MEMORY_LIMIT", "MAX_OBJECT_SIZE",
]  # fmt: skip

MEMORY_LIMIT = 2 << 20
MAX_OBJECT_SIZE = 5 << 30
_HIGH_WATER = 16 << 20
_LOW_WATER = 4 << 20
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def needs_sha256(headers):
    """
    Whether a body's SHA-256 must be computed: only when the request
    declares it in C{x-amz-content-sha256} (a SigV4 signature covers it).
    An C{aws-chunked} body is checked chunk by chunk instead, and an
    C{x-amz-checksum-sha256} has its own hash.

    @param headers: lower-case header names to values.
    """
    return bool(_SHA256_HEX.fullmatch(headers.get("x-amz-content-sha256", "").strip()))


def header_dict(request):
    """
    A request's headers as lower-case names to values (repeated headers
    joined by commas).
    """
    return {
        name.decode("latin-1").lower(): b",".join(values).decode("latin-1")
        for name, values in request.requestHeaders.getAllRawHeaders()
    }


class SpoolSink:
    """
    The C{content} of a request whose body goes to a spool.  It has the
    file-like C{write} Twisted calls, and pauses the connection while the
    spool's backlog is above the high-water mark.

    @ivar spool: the L{ISpool} receiving the data.
    @ivar decoder: the aws-chunked decoder the data passes through first,
        or C{None}.
    @ivar error: the L{AwsError} the decoder raised (the data after it is
        dropped; the request fails with it).
    @ivar received: bytes received so far.
    @ivar checksum: the L{BodyChecksum} the decoded data also goes
        through, or C{None}.
    """

    checksum = None

    def __init__(self, spool, transport, decoder=None):
        self.spool = spool
        self.decoder = decoder
        self.error = None
        self.received = 0
        self._transport = transport
        self._paused = False

    def write(self, data):
        self.received += len(data)
        if self.error is not None:
            return
        try:
            pieces = self.decoder.feed(data) if self.decoder is not None else (data,)
        except AwsError as e:
            self.error = e
            return
        for piece in pieces:
            self.spool.write(piece)
            if self.checksum is not None:
                self.checksum.update(piece)
        if not self._paused and self.spool.backlog > _HIGH_WATER:
            self._paused = True
            self._transport.pauseProducing()
            self.spool.drained(_LOW_WATER).addCallback(self._resume)

    def _resume(self, _):
        self._paused = False
        self._transport.resumeProducing()

    def seek(self, offset, whence=0):
        """
        Twisted rewinds C{content} before dispatch; a spool has nothing to
        rewind.
        """
        return 0

    def tell(self):
        return self.received

    def read(self, size=-1):
        """
        A spooled body is not read back through the request.
        """
        return b""

    def close(self):
        """
        Discard the data unless it was used (the spool ignores a late
        discard of used data).
        """
        self.spool.discard()


class S3Headers(Headers):
    """
    Response headers that send C{x-amz-*} names in lower case, as S3 does:
    clients take user metadata names from them verbatim, and Twisted would
    capitalise them.
    """

    def getAllRawHeaders(self):
        for name, values in Headers.getAllRawHeaders(self):
            lower = name.lower()
            yield (lower if lower.startswith(b"x-amz-") else name), values


class StreamingRequest(LimitedRequest):
    """
    A request whose large body is spooled into the object store.

    @ivar too_large: the declared length passes L{MAX_OBJECT_SIZE}; the body
        is dropped and the resource answers C{EntityTooLarge}.
    """

    too_large = False

    def __init__(self, channel, *args, **kwargs):
        # S3 bodies are data or XML, never HTML forms for Twisted to parse.
        kwargs.setdefault("parsePOSTFormSubmission", False)
        LimitedRequest.__init__(self, channel, *args, **kwargs)
        self.responseHeaders = S3Headers()

    def gotLength(self, length):
        factory = getattr(self.channel.site, "spool_factory", None)
        if factory is None or (length is not None and length <= MEMORY_LIMIT):
            LimitedRequest.gotLength(self, length)
            return
        if length is not None and length > MAX_OBJECT_SIZE + (MAX_OBJECT_SIZE >> 6):
            self.too_large = True
            self.content = io.BytesIO()
            return
        headers = header_dict(self)
        decoder = awsauth.chunked_decoder(awsauth.SignedRequest("", "", [], headers))
        self.content = SpoolSink(factory(sha256=needs_sha256(headers)), self.channel.transport, decoder)
        try:
            self.content.checksum = BodyChecksum.for_headers(headers)
        except AwsError as e:
            self.content.error = e

    def handleContentChunk(self, data):
        if isinstance(self.content, SpoolSink):
            self.content.write(data)
        elif not self.too_large:
            LimitedRequest.handleContentChunk(self, data)



class S3Channel(http.HTTPChannel):
    """
    An HTTP/1.1 connection that asks the kernel for its local address once,
    not for every request (Twisted's C{Request} wants it each time).
    """

    _host = None

    def getHost(self):
        if self._host is None:
            self._host = http.HTTPChannel.getHost(self)
        return self._host


class StreamingSite(SoapSite):
    """
    A site whose requests spool large bodies into C{spool_factory()}.
    """

    requestFactory = StreamingRequest
    protocol = S3Channel

    def __init__(self, resource, max_body, spool_factory, **kwargs):
        SoapSite.__init__(self, resource, max_body, **kwargs)
        self.spool_factory = spool_factory

    def log(self, request):
        """
        Write no access-log line per request: at thousands of requests a
        second the daemon's log would cost more than the requests (S3
        clients get the request id of every response instead).
        """
