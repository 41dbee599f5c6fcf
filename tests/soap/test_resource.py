# -*- test-case-name: tests.soap.test_resource -*-
"""
Tests for L{eucalyptus.soap.resource}: the attacks of
L{tests.security.test_wssec} and hostile XML sent over real HTTP to a live
NC endpoint.

Every refused request must be answered with HTTP 500 and a SOAP fault with
the right code, signed by the server as a reply, and the endpoint must go on
serving correctly signed requests afterwards.
"""

import copy
import time

from lxml import etree
from twisted.internet import defer
from twisted.trial.unittest import TestCase
from twisted.web.client import UNKNOWN_LENGTH, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from eucalyptus.security.wssec import WSA, Verifier
from eucalyptus.soap.envelope import envelope_with, parse
from eucalyptus.wsdl.nc_types import NcPowerDownType
from tests.security.helpers import (
    BODY,
    HEADER,
    ID,
    LAUGHS,
    SERVER,
    STRANGER,
    resign,
    signed_parts,
)
from tests.soap.harness import SERVICE, NodeEndpointMixin, describe_services

NS = "http://eucalyptus.ucsb.edu/"
CORRELATION = f"{{{NS}}}DescribeServices/{{{NS}}}correlationId"

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body><ns:DescribeServices xmlns:ns="http://eucalyptus.ucsb.edu/">
    <ns:correlationId>&xxe;</ns:correlationId>
  </ns:DescribeServices></soapenv:Body>
</soapenv:Envelope>"""



def tamper(data, edit):
    """
    Parse C{data}, apply C{edit} to the envelope, and serialise it again.
    """
    envelope = parse(data)
    edit(envelope)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


@implementer(IBodyProducer)
class _ChunkedBody:
    """
    A request body of unknown length, so the agent sends it chunked (no
    Content-Length for the server to refuse early).
    """

    length = UNKNOWN_LENGTH

    def __init__(self, data):
        self.data = data

    def startProducing(self, consumer):
        for start in range(0, len(self.data), 16_384):
            consumer.write(self.data[start : start + 16_384])
        return defer.succeed(None)

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class ServingTests(NodeEndpointMixin, TestCase):
    """
    The endpoint answers good requests and serves its WSDL.
    """

    async def test_describe_services(self):
        """
        A signed C{DescribeServices} gets HTTP 200 and a reply signed by the
        server that relates to the request.
        """
        data, message_id = self.client.build("DescribeServices", describe_services("good"))
        status, answer = await self.post(data)
        self.assertEqual(status, 200, answer)
        verified = Verifier([SERVER.certificate]).verify(parse(answer), reply=True)
        self.assertEqual(verified.addressing.relates_to, message_id)
        self.assertEqual(verified.addressing.action, f"{SERVICE}#DescribeServicesResponse")
        (response,) = verified.body
        self.assertEqual(etree.QName(response).localname, "DescribeServicesResponse")
        self.assertEqual(response.findtext(f"{{{NS}}}correlationId"), "good")

    async def test_wsdl(self):
        """
        C{GET ?wsdl} returns the service's WSDL document.
        """
        status, answer = await self.get(self.url + "?wsdl")
        self.assertEqual(status, 200)
        root = etree.fromstring(answer)
        self.assertEqual(root.tag, "{http://schemas.xmlsoap.org/wsdl/}definitions")
        self.assertIn(b"ncPowerDown", answer)

    async def test_get_without_wsdl(self):
        """
        A C{GET} without C{?wsdl} is refused with 405 Method Not Allowed.
        """
        status, _ = await self.get(self.url)
        self.assertEqual(status, 405)


class SecurityFaultTests(NodeEndpointMixin, TestCase):
    """
    Requests that fail WS-Security are answered with signed C{wsse:} faults.
    """

    async def test_unsigned(self):
        """
        An unsigned request gets C{wsse:InvalidSecurity}.
        """
        body = self.request_body("DescribeServices", describe_services())
        data = etree.tostring(envelope_with(body))
        await self.assertRefused(data, "wsse:InvalidSecurity", relates_to="unknown")

    async def test_tampered_body(self):
        """
        A request whose Body changed after signing gets C{wsse:FailedCheck}.
        """
        data, message_id = self.client.build("DescribeServices", describe_services())

        def edit(envelope):
            envelope.find(f"{BODY}/{CORRELATION}").text = "evil"

        await self.assertRefused(tamper(data, edit), "wsse:FailedCheck", relates_to=message_id)

    async def _tampered_header(self, name, value):
        data, _ = self.client.build("DescribeServices", describe_services())

        def edit(envelope):
            envelope.find(f"{HEADER}/{{{WSA}}}{name}").text = value

        await self.assertRefused(tamper(data, edit), "wsse:FailedCheck")

    async def test_tampered_to(self):
        """
        A request whose signed To changed gets C{wsse:FailedCheck}.
        """
        await self._tampered_header("To", self.url.replace("EucalyptusNC", "EucalyptusCC"))

    async def test_tampered_action(self):
        """
        A request whose signed Action changed gets C{wsse:FailedCheck}.
        """
        await self._tampered_header("Action", f"{SERVICE}#ncPowerDown")

    async def test_tampered_message_id(self):
        """
        A request whose signed MessageID changed gets C{wsse:FailedCheck}.
        """
        await self._tampered_header("MessageID", "urn:uuid:00000000000000000000000000000000")

    async def test_unpinned_certificate(self):
        """
        A request validly signed by a key the endpoint does not pin gets
        C{wsse:FailedCheck}.
        """
        data, _ = self.make_client(credential=STRANGER).build("DescribeServices", describe_services())
        fault = await self.assertRefused(data, "wsse:FailedCheck")
        self.assertIn("differs from the key on disk", fault.findtext("faultstring"))

    async def test_expired(self):
        """
        A request signed long ago gets C{wsse:MessageExpired}.
        """
        body = self.request_body("DescribeServices", describe_services())
        data, _ = self.sign_request(body, f"{SERVICE}#DescribeServices", now=time.time() - 1000)
        await self.assertRefused(data, "wsse:MessageExpired")

    async def test_future(self):
        """
        A request timestamped well in the future gets C{wsse:MessageExpired}.
        """
        body = self.request_body("DescribeServices", describe_services())
        data, _ = self.sign_request(body, f"{SERVICE}#DescribeServices", now=time.time() + 1000)
        fault = await self.assertRefused(data, "wsse:MessageExpired")
        self.assertIn("future", fault.findtext("faultstring"))

    async def test_replayed(self):
        """
        The same signed bytes POSTed twice succeed once, then get
        C{wsse:InvalidSecurity}.
        """
        data, message_id = self.client.build("DescribeServices", describe_services())
        status, _ = await self.post(data)
        self.assertEqual(status, 200)
        fault = await self.assertRefused(data, "wsse:InvalidSecurity", relates_to=message_id)
        self.assertIn("already received", fault.findtext("faultstring"))

    async def test_second_body_in_header(self):
        """
        The signed Body kept in a header while an attacker Body takes its
        place gets C{wsse:InvalidSecurity}.
        """
        data, _ = self.client.build("DescribeServices", describe_services())

        def edit(envelope):
            body = envelope.find(BODY)
            etree.SubElement(envelope.find(HEADER), "{urn:evil}Wrapper").append(copy.deepcopy(body))
            del body.attrib[ID]
            body.find(CORRELATION).text = "evil"

        await self.assertRefused(tamper(data, edit), "wsse:InvalidSecurity")

    async def test_body_moved_into_header(self):
        """
        The signed Body moved into the Header and an unsigned Body put in its
        place gets C{wsse:InvalidSecurity}.
        """
        data, _ = self.client.build("DescribeServices", describe_services())
        evil = self.request_body("ncPowerDown", NcPowerDownType(correlationId="evil", userId="u"))

        def edit(envelope):
            envelope.find(HEADER).append(envelope.find(BODY))
            etree.SubElement(envelope, BODY).append(evil)

        await self.assertRefused(tamper(data, edit), "wsse:InvalidSecurity")

    async def test_duplicated_id(self):
        """
        An attacker element carrying the signed Body's Id gets
        C{wsse:FailedCheck} (the reference is ambiguous).
        """
        data, _ = self.client.build("DescribeServices", describe_services())

        def edit(envelope):
            evil = etree.SubElement(envelope.find(HEADER), "{urn:evil}Payload")
            evil.set(ID, envelope.find(BODY).get(ID))

        fault = await self.assertRefused(tamper(data, edit), "wsse:FailedCheck")
        self.assertIn("Ambiguous", fault.findtext("faultstring"))

    async def test_sha1(self):
        """
        A request signed with RSA-SHA1 by the pinned key gets
        C{wsse:FailedCheck} from an endpoint that does not allow SHA-1.
        """
        data, _ = self.client.build("DescribeServices", describe_services())

        def edit(envelope):
            resign(envelope, self.client.credential, signed_parts(envelope), sha1=True)

        await self.assertRefused(tamper(data, edit), "wsse:FailedCheck")

    async def test_action_of_another_operation(self):
        """
        A signed Action naming another operation than the Body's gets
        C{wsse:InvalidSecurity}.
        """
        body = self.request_body("DescribeServices", describe_services())
        data, _ = self.sign_request(body, f"{SERVICE}#ncPowerDown")
        fault = await self.assertRefused(data, "wsse:InvalidSecurity")
        self.assertIn("does not match", fault.findtext("faultstring"))

    async def test_action_of_another_service(self):
        """
        A signed Action naming another service gets C{wsse:InvalidSecurity}.
        """
        data, _ = self.make_client(service_name="EucalyptusCC").build("DescribeServices", describe_services())
        await self.assertRefused(data, "wsse:InvalidSecurity")

    async def test_to_another_endpoint(self):
        """
        A request signed for another endpoint path gets
        C{wsse:InvalidSecurity}.
        """
        other = self.url.replace("EucalyptusNC", "EucalyptusCC")
        data, _ = self.make_client(url=other).build("DescribeServices", describe_services())
        fault = await self.assertRefused(data, "wsse:InvalidSecurity")
        self.assertIn("is not this endpoint", fault.findtext("faultstring"))


class MalformedRequestTests(NodeEndpointMixin, TestCase):
    """
    Hostile or broken XML is answered with signed client faults.
    """

    async def test_external_entity(self):
        """
        A DTD declaring an external entity gets
        C{soapenv:Client.MalformedMessage}, and nothing of the file leaks.
        """
        with open("/etc/passwd", "rb") as f:
            secret = f.readline().strip()
        status, answer = await self.post(XXE)
        self.assertSignedFault(status, answer, "soapenv:Client.MalformedMessage")
        self.assertNotIn(secret, answer)
        self.assertNotIn(b"root:", answer)
        await self.assertServing()

    async def test_billion_laughs(self):
        """
        An entity-expansion bomb gets C{soapenv:Client.MalformedMessage},
        quickly and in a small answer.
        """
        started = time.monotonic()
        status, answer = await self.post(LAUGHS)
        self.assertLess(time.monotonic() - started, 5)
        self.assertSignedFault(status, answer, "soapenv:Client.MalformedMessage")
        self.assertLess(len(answer), 20_000)
        self.assertNotIn(b"lollol", answer)
        await self.assertServing()

    async def test_too_large(self):
        """
        A body larger than C{max_body} gets C{soapenv:Client.EntityTooLarge}.
        """
        await self.assertRefused(b"<" + b"x" * 200_000 + b"/>", "soapenv:Client.EntityTooLarge")

    async def test_too_large_chunked(self):
        """
        A chunked body (no Content-Length) that grows past C{max_body} gets
        C{soapenv:Client.EntityTooLarge}.
        """
        headers = Headers({b"content-type": [b"text/xml; charset=utf-8"]})
        body = _ChunkedBody(b"<" + b"x" * 200_000 + b"/>")
        response = await self.agent.request(b"POST", self.url.encode("ascii"), headers, body)
        answer = await readBody(response)
        self.assertSignedFault(response.code, answer, "soapenv:Client.EntityTooLarge")
        await self.assertServing()

    async def test_malformed(self):
        """
        Bytes that are not well-formed XML get
        C{soapenv:Client.MalformedMessage}.
        """
        await self.assertRefused(b"<soapenv:Envelope><unclosed>", "soapenv:Client.MalformedMessage")

    async def test_not_an_envelope(self):
        """
        A well-formed document that is not a SOAP envelope gets
        C{soapenv:Client.MalformedMessage}.
        """
        await self.assertRefused(b"<hello/>", "soapenv:Client.MalformedMessage")


class OperationFaultTests(NodeEndpointMixin, TestCase):
    """
    Correctly signed requests for operations the NC does not do are
    answered with signed faults.
    """

    async def test_unknown_operation(self):
        """
        A signed request for an operation outside the WSDL gets
        C{soapenv:Client.UnknownOperation}.
        """
        body = etree.Element(f"{{{NS}}}ncNoSuchThing", nsmap={"ns": NS})
        data, message_id = self.sign_request(body, f"{SERVICE}#ncNoSuchThing")
        await self.assertRefused(data, "soapenv:Client.UnknownOperation", relates_to=message_id)

    async def test_not_implemented(self):
        """
        A signed request for a declared but unimplemented operation
        (C{ncPowerDown}) gets C{soapenv:Server.NotImplemented}.
        """
        data, message_id = self.client.build("ncPowerDown", NcPowerDownType(correlationId="t", userId="u"))
        fault = await self.assertRefused(data, "soapenv:Server.NotImplemented", relates_to=message_id)
        self.assertIn("ncPowerDown", fault.findtext("faultstring"))

    async def test_request_not_matching_wsdl(self):
        """
        A signed request whose Body does not match the operation's schema
        gets a C{soapenv:Client.Client} fault.
        """
        body = self.request_body("DescribeServices", describe_services())
        etree.SubElement(body, f"{{{NS}}}noSuchField").text = "x"
        data, _ = self.sign_request(body, f"{SERVICE}#DescribeServices")
        await self.assertRefused(data, "soapenv:Client.Client")
