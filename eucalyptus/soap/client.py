# -*- test-case-name: tests.soap.test_client -*-
"""
The signed SOAP client components use to call each other.

C{SoapClient.call("ncDescribeInstances", request)} serialises a spyne request
object with the service's own application, signs it (WS-Addressing To, Action
and MessageID, timestamp, body), POSTs it over a persistent connection pool,
verifies the signed reply against the pinned certificate of the peer
(including that C{RelatesTo} names our request), and fires with the typed
response object, or fails with the L{eucalyptus.errors.EucalyptusError}
subclass matching the fault, L{RequestTimeout} or L{ServiceUnavailable}.
"""

from io import BytesIO

from lxml import etree
from spyne.util.xml import get_object_as_xml, get_xml_as_object
from twisted.internet import defer, error as net_error
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers

from eucalyptus.errors import ClientError, EucalyptusError, InvalidSecurity, RequestTimeout, ServiceUnavailable
from eucalyptus.security import wssec
from eucalyptus.soap.envelope import BODY, FAULT, envelope_with, from_fault, parse

__all__ = ["SoapClient", "method_types"]


def method_types(app, operation):
    """
    The request and response classes of an operation of a spyne application.

    @raise KeyError: when the application has no such operation.
    """
    tns = app.interface.get_tns()
    (descriptor,) = app.interface.service_method_map["{%s}%s" % (tns, operation)][:1]
    return descriptor.in_message, descriptor.out_message


class SoapClient:
    """
    A client of one SOAP service endpoint.

    @ivar url: the endpoint URL (also the signed C{wsa:To}).
    """

    def __init__(
        self,
        url,
        app,
        service_name,
        credential=None,
        verifier=None,
        timeout=60,
        ttl=300,
        reactor=None,
        pool=None,
    ):
        """
        @param url: the endpoint, e.g. C{http://10.0.0.5:8775/axis2/services/EucalyptusNC}.
        @param app: the spyne application of the service (its types).
        @param service_name: the WSDL service name (C{EucalyptusNC}, ...).
        @param credential: our key and certificate; C{None} sends unsigned.
        @param verifier: a L{wssec.Verifier} pinning the peer's certificate;
            C{None} accepts unsigned replies.
        @param timeout: seconds to wait for the whole call.
        @param ttl: lifetime of our signed requests, seconds.
        @param reactor: the reactor; the global one by default.
        @param pool: an C{HTTPConnectionPool} to share; a new persistent one
            by default.
        """
        if reactor is None:
            from twisted.internet import reactor
        self.url = url
        self.app = app
        self.service_name = service_name
        self.credential = credential
        self.verifier = verifier
        self.timeout = timeout
        self.ttl = ttl
        self._reactor = reactor
        self._pool = pool or HTTPConnectionPool(reactor, persistent=True)
        self._agent = Agent(reactor, pool=self._pool)

    def build(self, operation, request):
        """
        The signed request envelope (C{bytes}) and its MessageID.
        """
        request_type, _ = method_types(self.app, operation)
        body = get_object_as_xml(request, request_type, operation)
        envelope = envelope_with(body)
        message_id = wssec.new_message_id()
        if self.credential is not None:
            addressing = wssec.Addressing(self.url, f"{self.service_name}#{operation}", message_id)
            wssec.sign(envelope, self.credential, addressing, ttl=self.ttl)
        return etree.tostring(envelope, xml_declaration=True, encoding="utf-8"), message_id

    def call(self, operation, request):
        """
        Call C{operation} with the spyne object C{request}.

        @return: a Deferred firing with the response object.
        """
        data, message_id = self.build(operation, request)
        headers = Headers(
            {
                b"content-type": [b"text/xml; charset=utf-8"],
                b"soapaction": [f'"{self.service_name}#{operation}"'.encode("ascii")],
            }
        )
        d = self._agent.request(b"POST", self.url.encode("ascii"), headers, FileBodyProducer(BytesIO(data)))
        d.addCallback(lambda response: readBody(response))
        timed_out = []
        d.addTimeout(self.timeout, self._reactor, onTimeoutCancel=lambda result, _: timed_out.append(True) or result)
        d.addErrback(self._transport_error, operation, timed_out)
        d.addCallback(self.read_reply, operation, message_id)
        return d

    def read_reply(self, data, operation, message_id):
        """
        Verify a reply and turn it into a response object or an error.
        """
        envelope = parse(data)
        if self.verifier is not None:
            try:
                verified = self.verifier.verify(envelope, reply=True)
            except EucalyptusError as e:
                raise type(e)(f"The reply to {operation} failed verification: {e}{_fault_text(envelope)}")
            if verified.addressing.relates_to != message_id:
                raise InvalidSecurity(f"The reply to {operation} does not relate to our request.")
            envelope = verified.envelope()
        body = envelope.find(BODY)
        if body is None or len(body) != 1:
            raise ClientError(f"The reply to {operation} has no result.")
        if body[0].tag == FAULT:
            raise from_fault(body[0])
        _, response_type = method_types(self.app, operation)
        return get_xml_as_object(body[0], response_type)

    def _transport_error(self, failure, operation, timed_out):
        # The Agent wraps a cancellation in ResponseNeverReceived.  Ours (the
        # call's own timeout) is a RequestTimeout; a caller's stays a
        # cancellation, for the caller's own timeout to report.
        cancelled = any(reason.check(defer.CancelledError) for reason in getattr(failure.value, "reasons", ()))
        if timed_out:
            raise RequestTimeout(f"{self.url} did not answer {operation} within {self.timeout} s.")
        if cancelled or failure.check(defer.CancelledError):
            raise defer.CancelledError(f"the call of {operation} on {self.url} was cancelled")
        if failure.check(net_error.ConnectError, net_error.ConnectionLost, net_error.DNSLookupError):
            raise ServiceUnavailable(f"{self.url} is unreachable: {failure.getErrorMessage()}")
        if failure.check(EucalyptusError):
            return failure
        if failure.type.__name__ in ("ResponseFailed", "RequestTransmissionFailed", "ResponseNeverReceived"):
            raise ServiceUnavailable(f"{self.url} failed during {operation}: {failure.getErrorMessage()}")
        return failure

    def close(self):
        """
        Close the pooled connections.

        @return: a Deferred that fires when they are closed.
        """
        return self._pool.closeCachedConnections()


def _fault_text(envelope):
    """
    The unverified fault string of a reply, to help a person see why it
    failed (never acted on).
    """
    text = envelope.findtext(f"{BODY}/{FAULT}/faultstring")
    return f" (unverified fault: {text})" if text else ""
