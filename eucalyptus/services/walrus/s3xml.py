# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
The XML of the S3 API: the namespace, an element maker, safe parsing of
request documents, the time formats, and the error document.
"""

import time
from email.utils import formatdate, parsedate_to_datetime

from lxml import etree
from lxml.builder import ElementMaker

from eucalyptus.services.walrus.errors import MalformedXML
from eucalyptus.xmlsafe import parse_untrusted

__all__ = [
    "S3",
    "S3_NS",
    "XSI_NS",
    "parse_xml",
    "text_of",
    "iso_time",
    "http_date",
    "parse_http_date",
    "to_bytes",
    "error_document",
]

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
S3 = ElementMaker(namespace=S3_NS, nsmap={None: S3_NS, "xsi": XSI_NS})


def parse_xml(body, error=MalformedXML):
    """
    Parse a request document.

    @raise error: not well-formed, or with a DTD or entities.
    """
    if not body or not body.strip():
        raise error("The request document is empty.")
    return parse_untrusted(body, error)


def text_of(element, path):
    """
    The text at C{path} (slash-separated local names) below C{element},
    whatever namespace the client used (S3 accepts documents with and
    without its namespace), or C{None}.
    """
    for name in path.split("/"):
        found = None
        for child in element:
            if isinstance(child.tag, str) and etree.QName(child).localname == name:
                found = child
                break
        if found is None:
            return None
        element = found
    return element.text or ""


def iso_time(seconds):
    """
    S3's timestamp form: C{2006-02-03T16:45:09.000Z}.
    """
    millis = int(round(seconds * 1000)) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def http_date(seconds):
    """
    An RFC 7231 date, as in C{Last-Modified}.
    """
    return formatdate(seconds, usegmt=True)


def parse_http_date(text):
    """
    Seconds since the epoch of an HTTP date, or C{None} if it is not one.
    """
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def to_bytes(element):
    """
    Serialise a response document with its XML declaration.
    """
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def error_document(error, resource, request_id):
    """
    The body of an S3 error response.

    @param error: an L{eucalyptus.errors.EucalyptusError}.
    """
    root = etree.Element("Error")
    for name, value in [("Code", error.code), ("Message", error.message)] + list(
        getattr(error, "details", {}).items()
    ):
        etree.SubElement(root, name).text = str(value)
    etree.SubElement(root, "Resource").text = resource
    etree.SubElement(root, "RequestId").text = request_id
    return to_bytes(root)
