# -*- test-case-name: tests.soap.test_client -*-
"""
Tests for L{eucalyptus.soap.client.SoapClient}: typed replies and faults
from a live NC endpoint, refusal of replies the client cannot trust, and
transport failures (a silent peer, a closed port).
"""

import time

from lxml import etree
from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool

from eucalyptus.errors import (
    ClientError,
    FailedCheck,
    InvalidSecurity,
    MalformedMessage,
    NotImplementedOperation,
    RequestTimeout,
    SecurityError,
    ServiceUnavailable,
    UnknownOperation,
)
from eucalyptus.security.wssec import ANONYMOUS, Addressing, Verifier, new_message_id, sign
from eucalyptus.soap.client import SoapClient
from eucalyptus.soap.envelope import envelope_with, to_fault
from eucalyptus.wsdl.common import DescribeServicesResponseType
from eucalyptus.wsdl.nc_types import NcPowerDownType
from tests.security.helpers import CLIENT, SERVER, STRANGER
from tests.soap.harness import APP, SERVICE, ConnectionTracker, NodeEndpointMixin, describe_services

URL = "http://127.0.0.1:8775/axis2/services/EucalyptusNC"


class LiveEndpointTests(NodeEndpointMixin, TestCase):
    """
    L{SoapClient.call} against the live NC endpoint.
    """

    async def test_describe_services(self):
        """
        C{DescribeServices} fires with the typed response, echoing the
        correlation id and saying it succeeded.
        """
        response = await self.client.call("DescribeServices", describe_services("corr-1"))
        self.assertIsInstance(response, DescribeServicesResponseType)
        self.assertEqual(response.correlationId, "corr-1")
        self.assertEqual(response.userId, "u")
        self.assertIs(response._return, True)
        (status,) = response.serviceStatuses
        self.assertEqual(status.serviceId.type, "node")
        self.assertEqual(list(status.serviceId.uris), [self.url])

    async def test_not_implemented(self):
        """
        A fault comes back as the matching error class:
        L{NotImplementedOperation} for C{ncPowerDown}.
        """
        d = self.client.call("ncPowerDown", NcPowerDownType(correlationId="t", userId="u"))
        exc = await self.assertFailure(d, NotImplementedOperation)
        self.assertIn("ncPowerDown", str(exc))

    async def test_reply_signed_by_unpinned_key(self):
        """
        A client pinning another certificate than the server's refuses the
        reply with L{FailedCheck}.
        """
        client = self.make_client(pinned=STRANGER)
        exc = await self.assertFailure(client.call("DescribeServices", describe_services()), SecurityError)
        self.assertIs(type(exc), FailedCheck)
        self.assertIn("failed verification", str(exc))

    async def test_request_refused_by_server(self):
        """
        A client the server does not pin gets the server's
        C{wsse:FailedCheck} fault as L{FailedCheck}.
        """
        client = self.make_client(credential=STRANGER)
        exc = await self.assertFailure(client.call("DescribeServices", describe_services()), SecurityError)
        self.assertIs(type(exc), FailedCheck)
        self.assertIn("differs from the key on disk", str(exc))


class _Silent(Protocol):
    """
    Accepts a connection and never answers.
    """


class TransportFailureTests(TestCase):
    """
    Transport failures become L{RequestTimeout} and L{ServiceUnavailable}.
    """

    def setUp(self):
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.addCleanup(self.pool.closeCachedConnections)

    def client(self, url, timeout):
        return SoapClient(
            url,
            APP,
            SERVICE,
            credential=CLIENT,
            verifier=Verifier([SERVER.certificate]),
            timeout=timeout,
            pool=self.pool,
        )

    async def test_timeout(self):
        """
        A peer that accepts the connection and never answers makes the call
        fail with L{RequestTimeout} after the client's timeout.
        """
        tracker = ConnectionTracker()
        factory = Factory.forProtocol(_Silent)
        factory.buildProtocol = lambda addr, build=factory.buildProtocol: tracker.watch(build(addr))
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(tracker.close)
        url = f"http://127.0.0.1:{port.getHost().port}/axis2/services/EucalyptusNC"
        started = time.monotonic()
        d = self.client(url, timeout=0.5).call("DescribeServices", describe_services())
        exc = await self.assertFailure(d, RequestTimeout)
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("did not answer DescribeServices within 0.5 s", str(exc))

    async def test_connection_refused(self):
        """
        A closed port makes the call fail with L{ServiceUnavailable} (not a
        timeout).
        """
        port = reactor.listenTCP(0, Factory.forProtocol(_Silent), interface="127.0.0.1")
        number = port.getHost().port
        await port.stopListening()
        url = f"http://127.0.0.1:{number}/axis2/services/EucalyptusNC"
        d = self.client(url, timeout=5).call("DescribeServices", describe_services())
        exc = await self.assertFailure(d, ServiceUnavailable)
        self.assertIs(type(exc), ServiceUnavailable)
        self.assertIn("unreachable", str(exc))


def reply(body_child, relates_to, credential=SERVER, action=f"{SERVICE}#DescribeServicesResponse"):
    """
    The bytes of a reply envelope holding C{body_child}, signed by
    C{credential} as relating to C{relates_to}.
    """
    envelope = envelope_with(body_child)
    sign(envelope, credential, Addressing(ANONYMOUS, action, new_message_id(), relates_to))
    return etree.tostring(envelope)


def response_element(correlation_id="t"):
    """
    A C{DescribeServicesResponse} element.
    """
    ns = "http://eucalyptus.ucsb.edu/"
    element = etree.Element(f"{{{ns}}}DescribeServicesResponse", nsmap={"ns": ns})
    etree.SubElement(element, f"{{{ns}}}correlationId").text = correlation_id
    etree.SubElement(element, f"{{{ns}}}return").text = "true"
    return element


class ReadReplyTests(SynchronousTestCase):
    """
    L{SoapClient.read_reply} trusts only replies signed by the pinned peer
    for this request.
    """

    def setUp(self):
        self.client = SoapClient(URL, APP, SERVICE, credential=CLIENT, verifier=Verifier([SERVER.certificate]))
        self.message_id = new_message_id()

    def test_typed_response(self):
        """
        A signed reply relating to our request becomes the typed response.
        """
        data = reply(response_element("c-9"), self.message_id)
        response = self.client.read_reply(data, "DescribeServices", self.message_id)
        self.assertIsInstance(response, DescribeServicesResponseType)
        self.assertEqual(response.correlationId, "c-9")

    def test_relates_to_other_request(self):
        """
        A signed reply relating to another request is refused with
        L{InvalidSecurity}.
        """
        data = reply(response_element(), new_message_id())
        exc = self.assertRaises(SecurityError, self.client.read_reply, data, "DescribeServices", self.message_id)
        self.assertIs(type(exc), InvalidSecurity)
        self.assertIn("does not relate to our request", str(exc))

    def test_unsigned_reply(self):
        """
        An unsigned reply is refused with L{InvalidSecurity}.
        """
        data = etree.tostring(envelope_with(response_element()))
        exc = self.assertRaises(SecurityError, self.client.read_reply, data, "DescribeServices", self.message_id)
        self.assertIs(type(exc), InvalidSecurity)

    def test_unsigned_fault(self):
        """
        An unsigned fault is refused as a security failure, not raised as the
        error it claims to be; its text is shown for diagnosis only.
        """
        data = etree.tostring(to_fault(UnknownOperation("forged")))
        exc = self.assertRaises(SecurityError, self.client.read_reply, data, "DescribeServices", self.message_id)
        self.assertIs(type(exc), InvalidSecurity)
        self.assertIn("(unverified fault: forged)", str(exc))

    def test_signed_fault(self):
        """
        A signed fault relating to our request is raised as its error class
        with its message.
        """
        fault = to_fault(UnknownOperation("no such thing")).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
        data = reply(fault, self.message_id, action=f"{SERVICE}#Fault")
        exc = self.assertRaises(ClientError, self.client.read_reply, data, "DescribeServices", self.message_id)
        self.assertIs(type(exc), UnknownOperation)
        self.assertEqual(str(exc), "no such thing")

    def test_malformed_reply(self):
        """
        A reply that is not XML is refused with L{MalformedMessage}.
        """
        exc = self.assertRaises(ClientError, self.client.read_reply, b"<html>", "DescribeServices", self.message_id)
        self.assertIs(type(exc), MalformedMessage)
