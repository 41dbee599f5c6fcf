# -*- test-case-name: tests.soap.test_envelope -*-
"""
Tests for L{eucalyptus.soap.envelope}: safe parsing of received bytes, and
errors turned into SOAP faults and back.
"""

from lxml import etree
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import (
    ClientError,
    EntityTooLarge,
    EucalyptusError,
    FailedCheck,
    InvalidSecurity,
    MalformedMessage,
    MessageExpired,
    NotImplementedOperation,
    ReplayedMessage,
    RequestTimeout,
    SecurityError,
    ServiceUnavailable,
    UnknownOperation,
)
from eucalyptus.soap.envelope import BODY, FAULT, envelope_with, from_fault, parse, to_fault
from tests.security.helpers import LAUGHS

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

GOOD = b"""<?xml version="1.0" encoding="utf-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body><ns:DescribeServices xmlns:ns="http://eucalyptus.ucsb.edu/"/></soapenv:Body>
</soapenv:Envelope>"""

DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE soapenv:Envelope>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body/>
</soapenv:Envelope>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE soapenv:Envelope SYSTEM "http://127.0.0.1:1/evil.dtd">
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body/>
</soapenv:Envelope>"""

INTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE soapenv:Envelope [<!ENTITY greeting "hello">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body><x>&greeting;</x></soapenv:Body>
</soapenv:Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body><x>&xxe;</x></soapenv:Body>
</soapenv:Envelope>"""



class ParseTests(SynchronousTestCase):
    """
    L{parse} accepts plain SOAP 1.1 envelopes and refuses everything else
    with L{MalformedMessage}.
    """

    def assertMalformed(self, data, words):
        """
        L{parse} refuses C{data} with L{MalformedMessage} whose message
        contains C{words}.
        """
        exc = self.assertRaises(MalformedMessage, parse, data)
        self.assertIn(words, str(exc))
        self.assertEqual(exc.code, "MalformedMessage")
        return exc

    def test_envelope(self):
        """
        A SOAP 1.1 envelope is returned as its root element.
        """
        envelope = parse(GOOD)
        self.assertEqual(envelope.tag, f"{{{SOAP_ENV}}}Envelope")
        self.assertEqual(envelope.find(BODY)[0].tag, "{http://eucalyptus.ucsb.edu/}DescribeServices")

    def test_comments_and_processing_instructions_dropped(self):
        """
        Comments and processing instructions do not reach the caller.
        """
        data = GOOD.replace(b"<soapenv:Body>", b"<soapenv:Body><!-- c --><?pi x?>")
        body = parse(data).find(BODY)
        self.assertEqual([child.tag for child in body], ["{http://eucalyptus.ucsb.edu/}DescribeServices"])

    def test_doctype(self):
        """
        A document type declaration, even without entities, is refused.
        """
        self.assertMalformed(DOCTYPE, "DTD")

    def test_external_dtd(self):
        """
        A reference to an external DTD is refused without fetching it.
        """
        self.assertMalformed(EXTERNAL_DTD, "DTD")

    def test_internal_entity(self):
        """
        An internal entity declaration and reference is refused.
        """
        self.assertMalformed(INTERNAL_ENTITY, "DTD")

    def test_external_entity(self):
        """
        An external entity naming a local file is refused, and the file's
        content is not in the error.
        """
        with open("/etc/passwd") as f:
            secret = f.readline().strip()
        exc = self.assertMalformed(EXTERNAL_ENTITY, "DTD")
        self.assertNotIn(secret, str(exc))

    def test_billion_laughs(self):
        """
        An entity-expansion bomb is refused (by libxml2's amplification limit
        or by the DTD check) with a short message.
        """
        exc = self.assertRaises(MalformedMessage, parse, LAUGHS)
        self.assertNotIn("lollol", str(exc))
        self.assertLess(len(str(exc)), 500)

    def test_not_an_envelope(self):
        """
        A well-formed document whose root is not a SOAP 1.1 envelope is
        refused.
        """
        self.assertMalformed(b"<Envelope><Body/></Envelope>", "not a SOAP 1.1 envelope")

    def test_soap12_envelope(self):
        """
        A SOAP 1.2 envelope is refused.
        """
        data = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>'
        self.assertMalformed(data, "not a SOAP 1.1 envelope")

    def test_malformed(self):
        """
        Bytes that are not well-formed XML are refused.
        """
        self.assertMalformed(b"<soapenv:Envelope><unclosed>", "not well-formed")

    def test_empty(self):
        """
        An empty body is refused.
        """
        self.assertMalformed(b"", "not well-formed")


def round_trip(error):
    """
    The error L{from_fault} reads from the wire bytes of C{to_fault(error)}.
    """
    fault = parse(etree.tostring(to_fault(error))).find(f"{BODY}/{FAULT}")
    return from_fault(fault)


class FaultTests(SynchronousTestCase):
    """
    L{to_fault} writes the fault codes peers expect, and L{from_fault} reads
    them back as the same error.
    """

    def assertRoundTrip(self, cls):
        """
        An instance of C{cls} comes back from its fault as an instance of
        exactly C{cls} with the same message.
        """
        error = round_trip(cls(f"a {cls.__name__} happened"))
        self.assertIs(type(error), cls)
        self.assertEqual(str(error), f"a {cls.__name__} happened")
        self.assertEqual(error.code, cls.code)

    def test_security_fault_code(self):
        """
        A WS-Security failure's fault code is its C{wsse:} code.
        """
        fault = to_fault(MessageExpired()).find(f"{BODY}/{FAULT}")
        self.assertEqual(fault.findtext("faultcode"), "wsse:MessageExpired")
        self.assertEqual(fault.findtext("faultstring"), MessageExpired.message)

    def test_security_fault_code_prefix_declared(self):
        """
        The C{wsse:} prefix of the fault code is declared in the fault, so a
        peer can resolve the QName.
        """
        fault = to_fault(FailedCheck()).find(f"{BODY}/{FAULT}")
        self.assertEqual(fault.findtext("faultcode"), "wsse:FailedCheck")
        self.assertIn("oasis-200401-wss-wssecurity-secext", fault.nsmap["wsse"])

    def test_client_fault_code(self):
        """
        A client error's fault code is C{soapenv:Client.<Code>}.
        """
        fault = to_fault(UnknownOperation()).find(f"{BODY}/{FAULT}")
        self.assertEqual(fault.findtext("faultcode"), "soapenv:Client.UnknownOperation")

    def test_server_fault_code(self):
        """
        A server error's fault code is C{soapenv:Server.<Code>}.
        """
        fault = to_fault(NotImplementedOperation()).find(f"{BODY}/{FAULT}")
        self.assertEqual(fault.findtext("faultcode"), "soapenv:Server.NotImplemented")

    def test_unknown_exception(self):
        """
        An exception that is not a L{EucalyptusError} becomes a generic
        internal error, without its text.
        """
        fault = to_fault(ValueError("secret detail")).find(f"{BODY}/{FAULT}")
        self.assertEqual(fault.findtext("faultcode"), "soapenv:Server.InternalError")
        self.assertNotIn("secret detail", etree.tostring(fault).decode())

    def test_unknown_code(self):
        """
        A fault with a code we do not know becomes a plain
        L{EucalyptusError} carrying that code and the fault string.
        """
        fault = envelope_with(etree.Element(FAULT)).find(f"{BODY}/{FAULT}")
        etree.SubElement(fault, "faultcode").text = "soapenv:Server.Weird"
        etree.SubElement(fault, "faultstring").text = "something odd"
        error = from_fault(fault)
        self.assertIs(type(error), EucalyptusError)
        self.assertEqual((error.code, str(error)), ("soapenv:Server.Weird", "something odd"))

    def test_failed_check(self):
        """
        L{FailedCheck} survives the round trip.
        """
        self.assertRoundTrip(FailedCheck)

    def test_message_expired(self):
        """
        L{MessageExpired} survives the round trip.
        """
        self.assertRoundTrip(MessageExpired)

    def test_security_error(self):
        """
        L{SecurityError} survives the round trip.
        """
        self.assertRoundTrip(SecurityError)

    def test_invalid_security(self):
        """
        L{InvalidSecurity} survives the round trip.
        """
        self.assertRoundTrip(InvalidSecurity)


    def test_replayed_message(self):
        """
        L{ReplayedMessage} survives the round trip.
        """
        self.assertRoundTrip(ReplayedMessage)


    def test_wsse_invalid_security_is_security_error(self):
        """
        Whatever class comes back for C{wsse:InvalidSecurity}, it is a
        L{SecurityError} with that code and the message sent.
        """
        for cls in (InvalidSecurity, ReplayedMessage):
            error = round_trip(cls("refused"))
            self.assertIsInstance(error, SecurityError)
            self.assertEqual((error.code, str(error)), ("wsse:InvalidSecurity", "refused"))

    def test_client_error(self):
        """
        L{ClientError} survives the round trip.
        """
        self.assertRoundTrip(ClientError)

    def test_malformed_message(self):
        """
        L{MalformedMessage} survives the round trip.
        """
        self.assertRoundTrip(MalformedMessage)

    def test_entity_too_large(self):
        """
        L{EntityTooLarge} survives the round trip.
        """
        self.assertRoundTrip(EntityTooLarge)

    def test_unknown_operation(self):
        """
        L{UnknownOperation} survives the round trip.
        """
        self.assertRoundTrip(UnknownOperation)

    def test_not_implemented(self):
        """
        L{NotImplementedOperation} survives the round trip.
        """
        self.assertRoundTrip(NotImplementedOperation)

    def test_service_unavailable(self):
        """
        L{ServiceUnavailable} and L{RequestTimeout} survive the round trip.
        """
        self.assertRoundTrip(ServiceUnavailable)
        self.assertRoundTrip(RequestTimeout)
