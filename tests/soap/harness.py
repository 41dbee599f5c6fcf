# -*- test-case-name: tests.soap.test_resource -*-
"""
A live Node Controller SOAP endpoint on a loopback port, for the SOAP
resource and client tests.

L{NodeEndpointMixin} starts a L{SoapSite} serving the NC application with
WS-Security on (it signs with L{SERVER} and pins L{CLIENT}), gives the test a
signed L{SoapClient} and a raw HTTP agent, and on cleanup closes every
connection on both sides and the port, so trial finds a clean reactor.
"""

from io import BytesIO

from lxml import etree
from spyne.util.xml import get_object_as_xml
from twisted.internet import defer, reactor
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource

from eucalyptus.config import NodeConfig, config_from_string
from eucalyptus.security.wssec import Addressing, Verifier, new_message_id, sign
from eucalyptus.services.base import mount
from eucalyptus.services.nc.operations import NodeOperations
from eucalyptus.soap.client import SoapClient, method_types
from eucalyptus.soap.envelope import FAULT, envelope_with, parse
from eucalyptus.soap.resource import ServiceEndpoint, SoapResource, SoapSite
from eucalyptus.wsdl import SERVICE_NAMES, make_application
from eucalyptus.wsdl.common import DescribeServicesType
from tests.security.helpers import CLIENT, SERVER

__all__ = ["APP", "SERVICE", "PATH", "ConnectionTracker", "NodeEndpointMixin", "describe_services"]

APP = make_application("nc")
SERVICE = SERVICE_NAMES["nc"]
PATH = "axis2/services/EucalyptusNC"


def describe_services(correlation_id="t"):
    """
    A C{DescribeServices} request.
    """
    return DescribeServicesType(correlationId=correlation_id, userId="u")


class ConnectionTracker:
    """
    Remembers the server-side protocols of a listening port so a test can
    close them and wait until they are gone.
    """

    def __init__(self):
        self._open = {}

    def watch(self, protocol):
        """
        Track C{protocol} from its connection until its connection is lost.

        @return: C{protocol}.
        """
        lost = defer.Deferred()
        make_connection = protocol.makeConnection
        connection_lost = protocol.connectionLost

        def makeConnection(transport):
            self._open[protocol] = (transport, lost)
            make_connection(transport)

        def connectionLost(reason):
            self._open.pop(protocol, None)
            try:
                connection_lost(reason)
            finally:
                lost.callback(None)

        protocol.makeConnection = makeConnection
        protocol.connectionLost = connectionLost
        return protocol

    def close(self):
        """
        Abort every open connection.

        @return: a Deferred that fires when all are lost.
        """
        waiting = []
        for transport, lost in list(self._open.values()):
            waiting.append(lost)
            transport.abortConnection()
        return defer.gatherResults(waiting)


class _TrackedSite(SoapSite):
    """
    A L{SoapSite} whose connections a L{ConnectionTracker} follows.
    """

    def __init__(self, resource, max_body, tracker):
        SoapSite.__init__(self, resource, max_body=max_body)
        self.tracker = tracker

    def buildProtocol(self, addr):
        return self.tracker.watch(SoapSite.buildProtocol(self, addr))


class NodeEndpointMixin:
    """
    Serve the NC SOAP endpoint on a loopback port for each test.

    @ivar url: the endpoint URL.
    @ivar client: a L{SoapClient} signing with L{CLIENT} and pinning
        L{SERVER}.
    @ivar agent: a raw HTTP agent for hand-made requests.
    """

    max_body = 50_000

    def setUp(self):
        tracker = ConnectionTracker()
        root = Resource()
        site = _TrackedSite(root, self.max_body, tracker)
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.url = f"http://127.0.0.1:{port.getHost().port}/{PATH}"
        config = NodeConfig.from_settings(config_from_string("", self.mktemp()))
        self.endpoint = ServiceEndpoint(
            APP,
            SERVICE,
            NodeOperations(config, self.url),
            credential=SERVER,
            verifier=Verifier([CLIENT.certificate]),
        )
        mount(root, PATH, SoapResource(self.endpoint))
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.agent = Agent(reactor, pool=self.pool)
        self.client = self.make_client()

        async def stop():
            await self.pool.closeCachedConnections()
            await tracker.close()
            await port.stopListening()

        self.addCleanup(lambda: defer.Deferred.fromCoroutine(stop()))

    def make_client(self, url=None, service_name=SERVICE, credential=CLIENT, pinned=SERVER, timeout=5):
        """
        A L{SoapClient} of the endpoint sharing the test's connection pool.
        """
        return SoapClient(
            url or self.url,
            APP,
            service_name,
            credential=credential,
            verifier=Verifier([pinned.certificate]),
            timeout=timeout,
            pool=self.pool,
        )

    def sign_request(self, body, action, now=None):
        """
        A request signed by L{CLIENT} for this endpoint whose Body holds the
        element C{body} and whose signed Action is C{action}, signed at
        C{now} (POSIX seconds; the current time by default).

        @return: the envelope bytes and its MessageID.
        """
        envelope = envelope_with(body)
        message_id = new_message_id()
        sign(envelope, CLIENT, Addressing(self.url, action, message_id), now=now)
        return etree.tostring(envelope, xml_declaration=True, encoding="utf-8"), message_id

    def request_body(self, operation, request):
        """
        The Body element of a request object, as the client serialises it.
        """
        request_type, _ = method_types(APP, operation)
        return get_object_as_xml(request, request_type, operation)

    async def post(self, data, url=None):
        """
        POST raw bytes to the endpoint.

        @return: the HTTP status and the response body.
        """
        headers = Headers({b"content-type": [b"text/xml; charset=utf-8"]})
        target = (url or self.url).encode("ascii")
        response = await self.agent.request(b"POST", target, headers, FileBodyProducer(BytesIO(data)))
        return response.code, await readBody(response)

    async def get(self, url):
        """
        GET a URL.

        @return: the HTTP status and the response body.
        """
        response = await self.agent.request(b"GET", url.encode("ascii"))
        return response.code, await readBody(response)

    def assertSignedFault(self, status, data, faultcode, relates_to=None):
        """
        C{data} is a SOAP fault with C{faultcode}, answered with HTTP 500 and
        signed by L{SERVER} as a reply (to C{relates_to} when given).

        @return: the verified C{soap:Fault} element.
        """
        self.assertEqual(status, 500, data)
        verified = Verifier([SERVER.certificate]).verify(parse(data), reply=True)
        self.assertEqual(verified.addressing.action, f"{SERVICE}#Fault")
        if relates_to is not None:
            self.assertEqual(verified.addressing.relates_to, relates_to)
        (fault,) = verified.body
        self.assertEqual(fault.tag, FAULT)
        self.assertEqual(fault.findtext("faultcode"), faultcode, fault.findtext("faultstring"))
        return fault

    async def assertServing(self):
        """
        A correctly signed C{DescribeServices} through L{SoapClient} still
        succeeds.
        """
        response = await self.client.call("DescribeServices", describe_services("still-serving"))
        self.assertEqual(response.correlationId, "still-serving")
        self.assertIs(response._return, True)

    async def assertRefused(self, data, faultcode, relates_to=None):
        """
        POSTing C{data} is answered with a signed fault with C{faultcode},
        and the endpoint keeps serving good requests afterwards.

        @return: the verified C{soap:Fault} element.
        """
        status, answer = await self.post(data)
        fault = self.assertSignedFault(status, answer, faultcode, relates_to)
        await self.assertServing()
        return fault
