# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
One S3 REST request as the handlers see it, and the ways to answer it.
"""

import itertools
import os
from dataclasses import dataclass, field

from eucalyptus.services.walrus.body import SpoolSink
from eucalyptus.services.walrus.errors import MalformedXML, Unimplemented
from eucalyptus.services.walrus.s3xml import to_bytes

__all__ = ["S3Call", "new_request_id", "reply_xml", "reply_empty", "common_headers", "xml_body", "not_implemented", "MAX_XML_BODY"]

MAX_XML_BODY = 1 << 20

# Request ids: a random start, then counting (unique within a process
# without a system call per request).
_request_ids = itertools.count(int.from_bytes(os.urandom(6), "big") << 16)


def new_request_id():
    """
    A new request id: 16 upper-case hex digits, as S3's look.
    """
    return f"{next(_request_ids) & ((1 << 64) - 1):016X}"


@dataclass
class S3Call:
    """
    One S3 request, parsed.

    @ivar level: C{service}, C{bucket} or C{object}.
    @ivar query: the first value of each query parameter (C{""} when it has
        no value, as in C{?acl}).
    @ivar headers: lower-case header names to values.
    @ivar resource: C{/bucket/key}, for error documents.
    @ivar identity: the caller's L{eucalyptus.services.walrus.acl.Identity}.
    @ivar auth: how the request was signed (L{eucalyptus.security.awsauth}),
        for checking the body.
    """

    request: object
    method: str
    level: str
    bucket: str
    key: str
    query: dict
    headers: dict
    resource: str
    signed: object = None
    request_id: str = field(default_factory=new_request_id)
    identity: object = None
    auth: object = None

    def arg(self, name, default=None):
        """
        A query parameter.
        """
        return self.query.get(name, default)

    def header(self, name, default=None):
        """
        A request header (lower-case name).
        """
        return self.headers.get(name, default)


def common_headers(call):
    """
    The headers every S3 response has.
    """
    call.request.setHeader("x-amz-request-id", call.request_id)
    call.request.setHeader("x-amz-id-2", call.request_id)


def reply_xml(call, element, status=200):
    """
    Answer with an XML document.
    """
    body = to_bytes(element)
    call.request.setResponseCode(status)
    call.request.setHeader("content-type", "application/xml")
    call.request.setHeader("content-length", str(len(body)))
    common_headers(call)
    call.request.write(body)


def reply_empty(call, status=200, headers=None):
    """
    Answer with no body.
    """
    call.request.setResponseCode(status)
    for name, value in (headers or {}).items():
        call.request.setHeader(name, value)
    call.request.setHeader("content-length", "0")
    common_headers(call)


def xml_body(call):
    """
    The request's XML document, as bytes.

    @raise MalformedXML: the body is larger than any S3 configuration
        document (L{MAX_XML_BODY}), whether it went to a spool or not; it is
        never cut short and parsed.
    """
    content = call.request.content
    too_large = MalformedXML(f"The document is larger than {MAX_XML_BODY} bytes.")
    if isinstance(content, SpoolSink) or content is None:
        raise too_large
    content.seek(0)
    body = content.read(MAX_XML_BODY + 1)
    if len(body) > MAX_XML_BODY:
        raise too_large
    return body


async def not_implemented(objects, call):
    """
    A subresource Walrus does not offer.
    """
    raise Unimplemented(f"Walrus does not implement {call.method} ?{'&'.join(call.query)} on a {call.level}.")
