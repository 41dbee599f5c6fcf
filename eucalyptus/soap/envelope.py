# -*- test-case-name: tests.soap.test_envelope -*-
"""
SOAP 1.1 envelopes: parsing received bytes safely, and faults both ways.

L{parse} refuses what a web service must never process: DTDs (and with them
external entities and entity-expansion bombs), documents that are not a SOAP
envelope, and anything that is not well-formed.  L{to_fault} is the one place
where an exception becomes a SOAP fault; L{from_fault} turns a received fault
back into the matching L{eucalyptus.errors.EucalyptusError}.
"""

from lxml import etree

from eucalyptus.errors import EucalyptusError, InternalError, MalformedMessage, SecurityError
from eucalyptus.security.wssec import BODY, ENVELOPE, SOAP_ENV, WSA, WSSE, WSU
from eucalyptus.xmlsafe import parse_untrusted

__all__ = ["parse", "envelope_with", "to_fault", "from_fault", "FAULT", "BODY"]

FAULT = f"{{{SOAP_ENV}}}Fault"
EUCA_FAULT_NS = "http://eucalyptus.ucsb.edu/fault"


def parse(data):
    """
    Parse a received SOAP envelope.

    @param data: the request or reply body, C{bytes}.
    @return: the C{soap:Envelope} element.
    @raise MalformedMessage: when the bytes are not well-formed XML, carry a
        DTD or entity declarations, or are not a SOAP 1.1 envelope.
    """
    root = parse_untrusted(data, MalformedMessage)
    if root.tag != ENVELOPE:
        raise MalformedMessage("The message is not a SOAP 1.1 envelope.")
    return root


def envelope_with(body_child):
    """
    A new envelope whose Body holds C{body_child}.
    """
    namespaces = {"soapenv": SOAP_ENV, "wsa": WSA, "wsse": WSSE, "wsu": WSU}
    envelope = etree.Element(ENVELOPE, nsmap=namespaces)
    etree.SubElement(envelope, BODY).append(body_child)
    return envelope


def _fault_code(error):
    if isinstance(error, SecurityError):
        return error.code
    return f"soapenv:{error.fault_kind}.{error.code}"


def to_fault(error):
    """
    The SOAP fault envelope for an error.

    WS-Security failures carry their C{wsse:} code as the fault code, as the
    WS-Security specification says; others carry
    C{soapenv:Client.<Code>} or C{soapenv:Server.<Code>}.  Unknown exceptions
    should be logged and replaced by L{InternalError} before they get here.

    @param error: a L{EucalyptusError}.
    @return: a C{soap:Envelope} element.
    """
    if not isinstance(error, EucalyptusError):
        error = InternalError()
    fault = etree.Element(FAULT, nsmap={"soapenv": SOAP_ENV, "wsse": WSSE})
    etree.SubElement(fault, "faultcode").text = _fault_code(error)
    etree.SubElement(fault, "faultstring").text = error.message
    detail = etree.SubElement(fault, "detail")
    etree.SubElement(detail, f"{{{EUCA_FAULT_NS}}}code", nsmap={"euca": EUCA_FAULT_NS}).text = error.code
    etree.SubElement(detail, f"{{{EUCA_FAULT_NS}}}type").text = type(error).__name__
    return envelope_with(fault)


def _error_classes():
    """
    Every L{EucalyptusError} class, by name and by code: the most general
    class of each (S3's errors reuse some names of L{eucalyptus.errors}).
    """
    pending = [EucalyptusError]
    by_name, by_code = {}, {}
    while pending:
        cls = pending.pop(0)
        by_name.setdefault(cls.__name__, cls)
        by_code.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return by_name, by_code


def from_fault(fault):
    """
    The error a received C{soap:Fault} element stands for.

    @param fault: the C{soap:Fault} element.
    @return: an instance of the L{EucalyptusError} subclass the fault names
        (when its code agrees), else of the most general class with the
        fault's code, else a plain L{EucalyptusError} carrying the code; the
        fault string is its message.
    """
    code = fault.findtext("detail/{%s}code" % EUCA_FAULT_NS) or fault.findtext("faultcode") or ""
    message = fault.findtext("faultstring") or "The peer answered with a fault."
    by_name, by_code = _error_classes()
    cls = by_name.get(fault.findtext("detail/{%s}type" % EUCA_FAULT_NS))
    if cls is None or cls.code != code:
        cls = by_code.get(code)
    if cls is None:
        error = EucalyptusError(message)
        error.code = code
        return error
    return cls(message)
