# -*- test-case-name: tests.soap.test_resource -*-
"""
Hosting a spyne application as a Twisted resource, with WS-Security.

spyne's own Twisted module does not import on current Twisted, and we want
the security layer to sit between the wire and spyne anyway, so this module
drives spyne's pipeline itself:

    bytes -> safe parse -> WS-Security verify -> a clean envelope holding only
    the signed Body -> spyne (validate, find the method, deserialise) ->
    operations.invoke(name, request) -> Deferred -> spyne serialises the
    reply -> sign -> bytes

Every failure on that path becomes a (signed) SOAP fault through
L{eucalyptus.soap.envelope.to_fault}; the daemon keeps serving.
"""

from urllib.parse import urlsplit

from lxml import etree
from spyne import MethodContext
from spyne.model.fault import Fault
from spyne.protocol import ProtocolBase
from spyne.server import ServerBase
from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import http, server
from twisted.web.resource import Resource

from eucalyptus.errors import (
    ClientError,
    EntityTooLarge,
    EucalyptusError,
    InternalError,
    InvalidSecurity,
    UnknownOperation,
)
from eucalyptus.security import wssec
from eucalyptus.soap.envelope import BODY, parse, to_fault
from eucalyptus.wsdl.binding import build_wsdl

__all__ = ["SoapResource", "SoapSite", "LimitedRequest", "ServiceEndpoint"]

_CONTENT_TYPE = b"text/xml; charset=utf-8"


class LimitedRequest(server.Request):
    """
    A request that stops keeping its body once it passes the site's
    C{max_body}, so an oversized request costs no memory or disk; the resource
    then answers with a fault.
    """

    body_too_large = False
    _received = 0

    def gotLength(self, length):
        limit = getattr(self.channel.site, "max_body", None)
        if length is not None and limit is not None and length > limit:
            self.body_too_large = True
            length = 0
        server.Request.gotLength(self, length)

    def handleContentChunk(self, data):
        limit = getattr(self.channel.site, "max_body", None)
        self._received += len(data)
        if limit is not None and self._received > limit:
            self.body_too_large = True
        if not self.body_too_large:
            server.Request.handleContentChunk(self, data)


class SoapSite(server.Site):
    """
    A L{server.Site} whose requests refuse bodies larger than C{max_body}.
    """

    requestFactory = LimitedRequest

    def __init__(self, resource, max_body, **kwargs):
        server.Site.__init__(self, resource, **kwargs)
        self.max_body = max_body


class _SpyneDriver(ServerBase):
    """
    The smallest spyne server: it only lends spyne's pipeline methods to
    L{SoapResource}.
    """

    transport = "http://schemas.xmlsoap.org/soap/http"


class ServiceEndpoint:
    """
    What a SOAP resource serves and how it signs.

    @ivar app: the spyne C{Application} (from L{eucalyptus.wsdl}).
    @ivar service_name: the WSDL service name, the prefix of every
        C{wsa:Action} (C{EucalyptusNC}, ...).
    @ivar operations: the component's operations object; its
        C{invoke(name, request)} returns a response or a Deferred.
    @ivar credential: our key and certificate, to sign replies; C{None} when
        WS-Security is off.
    @ivar verifier: the L{wssec.Verifier} holding the pinned peers; C{None}
        when WS-Security is off.
    @ivar ttl: lifetime of our signed replies, seconds.
    """

    def __init__(self, app, service_name, operations, credential=None, verifier=None, ttl=300):
        self.app = app
        self.service_name = service_name
        self.operations = operations
        self.credential = credential
        self.verifier = verifier
        self.ttl = ttl


class SoapResource(Resource):
    """
    One SOAP service at one path: C{POST} for calls, C{GET ?wsdl} for the
    contract.
    """

    isLeaf = True
    _log = Logger()

    def __init__(self, endpoint):
        """
        @param endpoint: the L{ServiceEndpoint} to serve.
        """
        Resource.__init__(self)
        self.endpoint = endpoint
        self._driver = _SpyneDriver(endpoint.app)
        self._wsdl = {}

    def render_GET(self, request):
        if urlsplit(request.uri).query.lower() != b"wsdl":
            request.setResponseCode(http.NOT_ALLOWED)
            request.setHeader(b"allow", b"POST")
            return b"POST a SOAP 1.1 message here, or GET ?wsdl for the contract.\n"
        url = self._endpoint_url(request)
        if url not in self._wsdl:
            # The Eucalyptus document, whose soapActions are <Service>#<operation>.
            self._wsdl[url] = build_wsdl(self.endpoint.app, url)
        request.setHeader(b"content-type", _CONTENT_TYPE)
        return self._wsdl[url]

    def _endpoint_url(self, request):
        """
        The URL written in the served WSDL's C{soap:address}: this
        resource's own.
        """
        return request.prePathURL().decode("ascii")

    def _operations_for(self, element):
        """
        The object whose C{invoke} answers one request (the spyne
        C{ctx.udc}): the endpoint's operations, whatever the request.

        @param element: the Body's operation element.
        """
        return self.endpoint.operations

    def render_POST(self, request):
        finished = []
        request.notifyFinish().addBoth(finished.append)
        relates_to = None
        try:
            if getattr(request, "body_too_large", False):
                raise EntityTooLarge()
            envelope = parse(request.content.read())
            relates_to = envelope.findtext(f"{{{wssec.SOAP_ENV}}}Header/{{{wssec.WSA}}}MessageID")
            d = self._call(request, envelope)
        except Exception:
            d = defer.fail()
        d.addCallbacks(self._reply, self._fault, callbackArgs=(relates_to,), errbackArgs=(relates_to,))

        def write(answer):
            status, body = answer
            if finished:
                return
            request.setResponseCode(status)
            request.setHeader(b"content-type", _CONTENT_TYPE)
            request.write(body)
            request.finish()

        d.addCallback(write)
        d.addErrback(lambda f: self._log.failure("Writing a SOAP answer failed", f))
        return server.NOT_DONE_YET

    def _call(self, request, envelope):
        """
        Verify, dispatch and return a Deferred of (operation name, reply
        envelope element).
        """
        endpoint = self.endpoint
        if endpoint.verifier is not None:
            verified = endpoint.verifier.verify(envelope)
            envelope = verified.envelope()
        body = envelope.find(BODY)
        if body is None or len(body) != 1:
            raise ClientError("The Body must hold exactly one operation element.")
        operation = etree.QName(body[0]).localname
        if endpoint.verifier is not None:
            _check_addressing(verified.addressing, endpoint.service_name, operation, request.path)
        if body[0].tag not in endpoint.app.interface.service_method_map:
            raise UnknownOperation(f"The operation {operation} is not defined by this service.")
        operations = self._operations_for(body[0])
        return self._dispatch(envelope, operation, operations).addCallback(lambda reply: (operation, reply))

    def _dispatch(self, envelope, operation, operations):
        protocol = self.endpoint.app.in_protocol
        ctx = MethodContext(self._driver, MethodContext.SERVER)
        ctx.in_document = (envelope, {})
        try:
            protocol.decompose_incoming_envelope(ctx, ProtocolBase.REQUEST)
            contexts = protocol.generate_method_contexts(ctx)
        except Fault as e:
            raise _client_error(e, operation)
        ctx = contexts[0]
        ctx.udc = operations
        self._driver.get_in_object(ctx)
        if ctx.in_error is not None:
            raise _client_error(ctx.in_error, operation)
        self._driver.get_out_object(ctx)
        if ctx.out_error is not None:
            raise InternalError(f"{operation} failed: {ctx.out_error}")
        (result,) = ctx.out_object
        return defer.maybeDeferred(lambda: result).addCallback(self._serialise, ctx)

    def _serialise(self, result, ctx):
        ctx.out_object = (result,)
        ctx.out_protocol.serialize(ctx, message=ProtocolBase.RESPONSE)
        return ctx.out_document

    def _sign(self, envelope, action, relates_to):
        endpoint = self.endpoint
        if endpoint.credential is not None:
            addressing = wssec.Addressing(
                wssec.ANONYMOUS, action, wssec.new_message_id(), relates_to or "unknown"
            )
            wssec.sign(envelope, endpoint.credential, addressing, ttl=endpoint.ttl)
        return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")

    def _reply(self, answer, relates_to):
        operation, envelope = answer
        action = f"{self.endpoint.service_name}#{operation}Response"
        return http.OK, self._sign(envelope, action, relates_to)

    def _fault(self, failure, relates_to):
        error = failure.value
        if not isinstance(error, EucalyptusError):
            self._log.failure("Unexpected error serving a SOAP call", failure)
            error = InternalError()
        action = f"{self.endpoint.service_name}#Fault"
        return http.INTERNAL_SERVER_ERROR, self._sign(to_fault(error), action, relates_to)


def _client_error(fault, operation):
    """
    The error for a fault spyne raised while reading a request.
    """
    code = str(getattr(fault, "faultcode", ""))
    if "ResourceNotFound" in code or "MethodNotFound" in code:
        return UnknownOperation(f"The operation {operation} is not defined by this service.")
    return ClientError(f"The {operation} request does not match the WSDL: {fault.faultstring}")


def _check_addressing(addressing, service_name, operation, path):
    """
    The signed Action must name this service and the Body's operation, and
    the signed To must name this endpoint's path, so a signed message cannot
    be replayed against another service or operation.
    """
    if addressing.action != f"{service_name}#{operation}":
        raise InvalidSecurity(
            f"The signed Action {addressing.action!r} does not match {service_name}#{operation}."
        )
    to_path = urlsplit(addressing.to or "").path.encode("utf-8")
    if to_path.rstrip(b"/") != path.rstrip(b"/"):
        raise InvalidSecurity(f"The signed To {addressing.to!r} is not this endpoint.")

