# -*- test-case-name: tests.services.clc.test_walrus_proxy -*-
"""
Walrus on the cloud's port when the CLC and Walrus are separate daemons.

Users reach S3 at C{/services/Walrus} on the CLC's port (8773).  In one
process Walrus's own resource is mounted there; when C{euca-clc} and
C{euca-walrus} run apart, the CLC mounts a L{WalrusProxy} there instead.
The proxy forwards each request unchanged (method, raw URI with its query,
headers including C{Host}, body) to Walrus's own port, where the same paths
are served, so SigV2, SigV4, presigned URLs and Walrus's signed SOAP service
all verify exactly as the client signed them.  The answer comes back the
same way: status, reason, end-to-end headers (C{x-amz-meta-*} names kept in
lower case) and body.

Bodies stream both ways with flat memory.  Twisted reads a request's whole
body before it dispatches the request, so the upload cannot wait for
L{WalrusProxy.render}: a L{ProxyRequest} (the CLC site's request factory)
looks at the request line as soon as the headers are in, and when the
target is below the proxy's path it opens the upstream request at once and
hands the body to it chunk by chunk as it arrives (L{StreamedBody}), pausing
the client's socket while Walrus's is behind.  Nothing is spooled on the
CLC's disk, the upload ends at Walrus when it ends here, and every other
path on the site keeps L{LimitedRequest}'s SOAP limit.  Responses stream
back with the upstream connection registered as the producer of the
client's request.

If Walrus cannot be reached the client gets S3's C{ServiceUnavailable}
(503) document; if the client goes away, the upstream request is cancelled
and its connection closed.
"""

import io
import secrets
from urllib.parse import unquote_to_bytes

from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectError, ConnectionDone, ConnectionLost, DNSLookupError
from twisted.internet.error import TimeoutError as UserTimeout
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.web import http
from twisted.web.client import (
    Agent,
    FileBodyProducer,
    HTTPConnectionPool,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from eucalyptus.errors import EntityTooLarge, InternalError, ServiceUnavailable
from eucalyptus.services.base import mount
from eucalyptus.services.walrus.body import S3Headers
from eucalyptus.services.walrus.s3xml import error_document
from eucalyptus.soap.resource import LimitedRequest

__all__ = ["WalrusProxy", "ProxyRequest", "StreamedBody", "WalrusProxyService", "serve"]

# Headers that describe one connection, not the message (RFC 9110 7.6.1),
# plus the framing the client library writes again for the next hop.
_HOP_BY_HOP = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate", b"proxy-authorization",
     b"te", b"trailer", b"transfer-encoding", b"upgrade")
)  # fmt: skip
_REQUEST_FRAMING = frozenset((b"content-length",))

# How much of a body may wait here for the upstream connection to open
# before the client's socket is paused.
_BUFFER_LIMIT = 1 << 20

# Failures that mean Walrus could not be reached or went away mid-call.
_UNREACHABLE = (
    ConnectError,
    DNSLookupError,
    UserTimeout,
    ConnectionLost,
    ConnectionDone,
    ResponseFailed,
    ResponseNeverReceived,
    RequestTransmissionFailed,
    RequestNotSent,
)


def _end_to_end(headers, drop=frozenset()):
    """
    A copy of C{headers} without the hop-by-hop ones (and those the
    C{Connection} header names) and without C{drop}.

    @param headers: a L{Headers}.
    @param drop: more lower-case names to leave out.
    @return: a new L{Headers}.
    """
    named = {
        token.strip().lower()
        for value in headers.getRawHeaders(b"connection", [])
        for token in value.split(b",")
    }
    left_out = _HOP_BY_HOP | drop | named
    copy = Headers()
    for name, values in headers.getAllRawHeaders():
        if name.lower() not in left_out:
            copy.setRawHeaders(name, values)
    return copy


def _request_line(channel):
    """
    The method and raw target of the request whose headers C{channel} has
    just read, or C{None}.

    Twisted parses the request line first but gives it to the request only
    in C{requestReceived}, after the whole body; until then the HTTP/1.1
    channel keeps it in C{_command} and C{_path}.  This is the one private
    detail the proxy relies on.  Without it (another channel type, a later
    Twisted) requests take the buffered path: L{WalrusProxy.render} still
    forwards them, but bodies above the SOAP limit are refused, which the
    large-upload tests would show at once.
    """
    method = getattr(channel, "_command", None)
    target = getattr(channel, "_path", None)
    if isinstance(method, bytes) and isinstance(target, bytes):
        return method, target
    return None


@implementer(IBodyProducer)
class StreamedBody:
    """
    The body of a proxied request, on its way through.

    To Twisted's request it is the C{content} file: the channel writes each
    chunk into it as it arrives.  To the upstream request it is the
    L{IBodyProducer}: the chunks go straight to the upstream connection, and
    when that connection's buffer is full it pauses this producer, which
    pauses the client's socket.  Chunks that arrive before the connection is
    open wait here, and past L{_BUFFER_LIMIT} the client's socket is paused
    until it opens.  When the upstream request fails or is cancelled, the
    rest of the body is read and dropped so the client can be answered.

    @ivar length: the declared length, or L{UNKNOWN_LENGTH} (chunked).
    @ivar received: bytes received from the client so far.
    """

    def __init__(self, transport, length):
        """
        @param transport: the client's transport, to pause and resume.
        @param length: the declared length of the body, or C{None}.
        """
        self.length = UNKNOWN_LENGTH if length is None else length
        self.received = 0
        self._client = transport
        self._waiting = []
        self._waiting_size = 0
        self._consumer = None
        self._produced = None
        self._complete = False
        self._stopped = False
        self._paused_upstream = False
        self._paused_client = False

    # The side Twisted's request writes into.

    def write(self, data):
        """
        One chunk of the body, from the client.
        """
        self.received += len(data)
        if self._stopped:
            return
        if self._consumer is not None:
            self._consumer.write(data)
            return
        self._waiting.append(data)
        self._waiting_size += len(data)
        if self._waiting_size > _BUFFER_LIMIT:
            self._pause_client()

    def finish(self):
        """
        The whole body has arrived: give the client's socket back to the
        channel and tell the upstream request the body is complete.
        """
        self._complete = True
        self._resume_client()
        if self._consumer is not None and not self._stopped:
            self._produced.callback(None)

    def tell(self):
        """
        Nothing of the body can be read back here; saying it is empty also
        keeps Twisted from parsing a form out of a C{POST}.
        """
        return 0

    def seek(self, offset, whence=0):
        """
        Twisted rewinds C{content} before dispatch; there is nothing to rewind.
        """
        return 0

    def read(self, size=-1):
        """
        The body went upstream; nothing is kept to read.
        """
        return b""

    def close(self):
        """
        Nothing to release: the body was never stored.
        """

    # The side the upstream request consumes.

    def startProducing(self, consumer):
        """
        The upstream connection is open and the request's headers are sent.
        """
        self._consumer = consumer
        self._produced = Deferred(lambda _: self.stopProducing())
        waiting, self._waiting, self._waiting_size = self._waiting, [], 0
        for data in waiting:
            consumer.write(data)
        if self._complete:
            self._produced.callback(None)
        elif not self._paused_upstream:
            self._resume_client()
        return self._produced

    def pauseProducing(self):
        """
        The upstream connection is behind: stop reading from the client.
        """
        self._paused_upstream = True
        self._pause_client()

    def resumeProducing(self):
        """
        The upstream connection caught up.
        """
        self._paused_upstream = False
        self._resume_client()

    def stopProducing(self):
        """
        The upstream request is gone: drop the rest of the body.
        """
        self._stopped = True
        self._waiting, self._waiting_size = [], 0
        self._resume_client()

    def _pause_client(self):
        if not (self._complete or self._stopped or self._paused_client):
            self._paused_client = True
            self._client.pauseProducing()

    def _resume_client(self):
        if self._paused_client:
            self._paused_client = False
            self._client.resumeProducing()


class _Exchange:
    """
    One request forwarded to Walrus and its answer on the way back.

    It starts when the request's headers are in (or, on the buffered path,
    when it is rendered) and answers once the request is rendered and the
    upstream answer is known, whichever comes last.

    @ivar gone: the client went away; whatever Walrus answers is dropped.
    """

    _log = Logger()

    def __init__(self, proxy, request, method, target, body):
        """
        @param proxy: the L{WalrusProxy}.
        @param request: the client's request.
        @param method: the request method, as the client sent it.
        @param target: the raw request target (path and query).
        @param body: an L{IBodyProducer} for the body, or C{None}.
        """
        self.proxy = proxy
        self.request = request
        self.body = body
        self.gone = False
        self._answering = False
        self._relay = None
        headers = _end_to_end(request.requestHeaders, _REQUEST_FRAMING)
        try:
            self._answer = proxy.agent.request(method, proxy.origin + target, headers, body)
        except Exception:
            # The agent checks the method and URI before it returns a Deferred.
            self._answer = fail()
        self._answer.addErrback(self._stop_body)
        request.notifyFinish().addErrback(self._client_gone)

    def answer(self):
        """
        The request was rendered: relay Walrus's answer when it comes.
        """
        if not self._answering:
            self._answering = True
            self._answer.addCallbacks(self._relay_response, self._relay_failure)
            self._answer.addErrback(lambda f: self._log.failure("Relaying a Walrus answer failed", f))

    def _stop_body(self, failure):
        if isinstance(self.body, StreamedBody):
            self.body.stopProducing()
        return failure

    def _client_gone(self, reason):
        self.gone = True
        self._answer.cancel()
        if self._relay is not None and self._relay.transport is not None:
            self._relay.transport.stopProducing()
        self.answer()

    def _relay_response(self, response):
        if self.gone:
            response.deliverBody(_Drop())
            return
        request = self.request
        request.setResponseCode(response.code, response.phrase)
        headers = S3Headers()
        for name, values in request.responseHeaders.getAllRawHeaders():
            headers.setRawHeaders(name, values)
        for name, values in _end_to_end(response.headers).getAllRawHeaders():
            headers.setRawHeaders(name, values)
        no_body = request.method == b"HEAD" or response.code in http.NO_BODY_CODES
        if response.length is not UNKNOWN_LENGTH and not no_body:
            headers.setRawHeaders(b"content-length", [b"%d" % (response.length,)])
        request.responseHeaders = headers
        # Walrus chose the content type, or chose none.
        request.defaultContentType = None
        self._relay = _Relay(self)
        response.deliverBody(self._relay)

    def _relay_failure(self, failure):
        if self.gone:
            return
        if failure.check(*_UNREACHABLE):
            self._log.warn(
                "Walrus at {origin} did not answer {method} {uri}: {reason}",
                origin=self.proxy.origin.decode("ascii"),
                method=self.request.method,
                uri=self.request.uri,
                reason=failure.getErrorMessage(),
            )
            error = ServiceUnavailable("Walrus cannot be reached just now. Please try again.")
        else:
            self._log.failure("Forwarding {uri} to Walrus failed", failure, uri=self.request.uri)
            error = InternalError()
        self.proxy.refuse(self.request, error)


class _Relay(Protocol):
    """
    Walrus's response body, written to the client as it arrives, with the
    upstream connection as the producer of the client's request so a slow
    client slows Walrus down.
    """

    _log = Logger()

    def __init__(self, exchange):
        self.exchange = exchange

    def connectionMade(self):
        if not self.exchange.gone:
            self.exchange.request.registerProducer(self.transport, True)

    def dataReceived(self, data):
        if not self.exchange.gone:
            self.exchange.request.write(data)

    def connectionLost(self, reason):
        if self.exchange.gone:
            return
        request = self.exchange.request
        request.unregisterProducer()
        if reason.check(ResponseDone, http.PotentialDataLoss):
            request.finish()
            return
        # The status line is out: all that is left is to cut the response
        # short so the client sees it is incomplete.
        self._log.warn("Walrus's answer to {uri} broke off: {reason}", uri=request.uri, reason=reason.getErrorMessage())
        request.loseConnection()


class _Drop(Protocol):
    """
    Takes a response nobody will read and closes its connection.
    """

    def connectionMade(self):
        self.transport.stopProducing()


class WalrusProxy(Resource):
    """
    S3 and Walrus's SOAP service forwarded to Walrus's own port.

    @ivar origin: C{b"http://host:port"} of Walrus.
    @ivar segments: the path segments the proxy is mounted at.
    @ivar agent: the L{Agent} forwarding requests.
    """

    isLeaf = True
    _log = Logger()

    def __init__(self, host, port, path, reactor=None, connect_timeout=10):
        """
        @param host: the name or address of Walrus (C{WALRUS_HOST}).
        @param port: Walrus's own port (C{WALRUS_PORT}).
        @param path: where the proxy is mounted, e.g. C{"services/Walrus"}.
        @param reactor: the reactor; the global one by default.
        @param connect_timeout: seconds to wait for a connection to Walrus.
        """
        Resource.__init__(self)
        if reactor is None:
            from twisted.internet import reactor
        host = f"[{host}]" if ":" in host else host
        self.origin = f"http://{host}:{port}".encode("ascii")
        self.segments = tuple(part.encode("ascii") for part in path.strip("/").split("/"))
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = 8
        self.agent = Agent(reactor, connectTimeout=connect_timeout, pool=self.pool)

    def claims(self, target):
        """
        Whether the site routes the raw request target C{target} to this
        proxy: its path's first segments, unquoted as Twisted unquotes them
        while finding the resource, are the mount path.
        """
        path = target.split(b"?", 1)[0]
        if not path.startswith(b"/"):
            return False
        segments = tuple(unquote_to_bytes(part) for part in path[1:].split(b"/"))
        return segments[: len(self.segments)] == self.segments

    def forward(self, request, method, target, body):
        """
        Start sending a request to Walrus.

        @param request: the client's request, to answer later.
        @param method: the method the client sent.
        @param target: the raw request target (path and query).
        @param body: an L{IBodyProducer} of the body, or C{None}.
        @return: the exchange; call its C{answer()} once the request is
            rendered.
        """
        return _Exchange(self, request, method, target, body)

    def render(self, request):
        """
        Answer with Walrus's answer: the request already went upstream while
        its body arrived, or goes now with the body Twisted buffered.
        """
        exchange = getattr(request, "walrus_exchange", None)
        if exchange is None:
            if getattr(request, "body_too_large", False):
                self.refuse(request, EntityTooLarge())
                return NOT_DONE_YET
            body = None
            if request.content is not None and request.content.seek(0, io.SEEK_END):
                request.content.seek(0)
                body = FileBodyProducer(request.content)
            exchange = self.forward(request, request.method, request.uri, body)
        exchange.answer()
        return NOT_DONE_YET

    def refuse(self, request, error):
        """
        Answer C{request} with the S3 error document of C{error}.

        @param error: an L{eucalyptus.errors.EucalyptusError}.
        """
        request_id = secrets.token_hex(8).upper()
        headers = S3Headers()
        for name, values in request.responseHeaders.getAllRawHeaders():
            headers.setRawHeaders(name, values)
        request.responseHeaders = headers
        request.setResponseCode(error.http_status)
        request.setHeader(b"x-amz-request-id", request_id)
        request.setHeader(b"x-amz-id-2", request_id)
        if request.method != b"HEAD":
            body = error_document(error, self._resource_of(request), request_id)
            request.setHeader(b"content-type", b"application/xml")
            request.setHeader(b"content-length", b"%d" % (len(body),))
            request.write(body)
        request.finish()

    def _resource_of(self, request):
        """
        The bucket and key an error is about: the path below the mount point.
        """
        segments = request.path.split(b"/")[1 + len(self.segments) :]
        return unquote_to_bytes(b"/" + b"/".join(segments)).decode("utf-8", "replace")

    def close(self):
        """
        Close the idle connections to Walrus.

        @return: a Deferred firing when they are closed.
        """
        return self.pool.closeCachedConnections()


class ProxyRequest(LimitedRequest):
    """
    The CLC site's request: below the site's C{walrus_proxy}, the request
    goes upstream as soon as its headers are in and its body streams
    through a L{StreamedBody}; everywhere else it is a L{LimitedRequest}.

    @ivar walrus_exchange: the upstream exchange of a streamed request, or
        C{None}.
    """

    walrus_exchange = None

    def gotLength(self, length):
        proxy = getattr(self.channel.site, "walrus_proxy", None)
        line = _request_line(self.channel)
        if proxy is None or line is None or not proxy.claims(line[1]):
            LimitedRequest.gotLength(self, length)
            return
        method, target = line
        if length == 0 and not self.requestHeaders.hasHeader(b"content-length"):
            body, self.content = None, io.BytesIO()
        else:
            body = self.content = StreamedBody(self.channel.transport, length)
        self.walrus_exchange = proxy.forward(self, method, target, body)

    def handleContentChunk(self, data):
        if self.walrus_exchange is None:
            LimitedRequest.handleContentChunk(self, data)
        else:
            self.content.write(data)

    def requestReceived(self, command, path, version):
        if self.walrus_exchange is not None and self.walrus_exchange.body is not None:
            self.walrus_exchange.body.finish()
        LimitedRequest.requestReceived(self, command, path, version)


class WalrusProxyService(Service):
    """
    Closes the proxy's connections to Walrus when the CLC stops.
    """

    def __init__(self, proxy):
        """
        @param proxy: the L{WalrusProxy}.
        """
        self.proxy = proxy

    def stopService(self):
        Service.stopService(self)
        return self.proxy.close()


def serve(proxy, site, root, path):
    """
    Mount C{proxy} at C{path} below C{root} and have C{site} stream the
    requests below it.

    @param proxy: the L{WalrusProxy}.
    @param site: the L{eucalyptus.soap.resource.SoapSite} serving C{root}.
    @param root: the site's root resource.
    @param path: the mount path, e.g. C{"services/Walrus"}.
    @return: a L{WalrusProxyService} to add to the component's service.
    """
    mount(root, path, proxy)
    site.requestFactory = ProxyRequest
    site.walrus_proxy = proxy
    return WalrusProxyService(proxy)
