# -*- test-case-name: tests.services.walrus.test_soap -*-
"""
The Amazon S3 SOAP API of Walrus (2006-03-01, C{AmazonS3.wsdl}).

L{S3SoapResource} answers C{POST <Walrus>/soap} and C{GET <Walrus>/soap?wsdl}.
It drives spyne through L{eucalyptus.soap.resource.SoapResource} (safe
parsing, schema validation, faults), with no WS-Security: S3 SOAP callers
sign each request themselves with C{AWSAccessKeyId}, C{Timestamp} and
C{Signature} = base64(HMAC-SHA1(secret, "AmazonS3" + operation +
Timestamp)), checked by L{verify_soap_signature}.  A request without
C{AWSAccessKeyId} is anonymous.

Each operation is a function of L{OPERATIONS} (in
L{eucalyptus.services.walrus.soap_operations}) over the same
L{eucalyptus.services.walrus.operations.ObjectOperations} the REST API
uses; S3 semantics shared with REST (content headers, user metadata,
conditions, ranges) come from L{eucalyptus.services.walrus.rest_objects}.
Errors are SOAP faults C{soapenv:Client.<S3 code>} or
C{soapenv:Server.InternalError} (L{eucalyptus.soap.envelope.to_fault}).

Object data travels inline, base64 in the message: at most
L{MAX_INLINE_DATA} each way, as Amazon limited C{PutObjectInline}.  Larger
objects are read with C{GetObjectExtended} byte ranges, or through REST.
"""

import base64
import datetime
import hashlib
import hmac
import time
from urllib.parse import urlsplit, urlunsplit

from twisted.internet import defer, threads
from twisted.python.failure import Failure

from eucalyptus.errors import (
    AwsError,
    ClientError,
    InvalidAccessKeyId,
    MalformedMessage,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)
from eucalyptus.services.walrus.acl import ANONYMOUS
from eucalyptus.services.walrus.body import MEMORY_LIMIT, SpoolSink
from eucalyptus.services.walrus.errors import InvalidArgument, MalformedXML
from eucalyptus.services.walrus.s3xml import iso_time
from eucalyptus.services.walrus.soap_operations import MAX_INLINE_DATA, OPERATIONS, InlineDataTooLarge, child_text
from eucalyptus.soap.resource import ServiceEndpoint, SoapResource
from eucalyptus.wsdl import SERVICE_NAMES, make_application

__all__ = [
    "S3SoapResource",
    "S3SoapCall",
    "OPERATIONS",
    "verify_soap_signature",
    "soap_signature",
    "InlineDataTooLarge",
    "MissingSecurityElement",
    "MAX_SKEW",
    "MAX_INLINE_DATA",
]

#: How far a request's C{Timestamp} may be from our clock, seconds.
MAX_SKEW = 15 * 60

_CONTENT_TYPE = b"text/xml; charset=utf-8"


class MissingSecurityElement(AwsError):
    """
    A signed request (it names an C{AWSAccessKeyId}) without its
    C{Timestamp} or C{Signature}.
    """

    code = "MissingSecurityElement"
    http_status = 400
    message = "The SOAP 1.1 request is missing a security element."


# -- authentication -----------------------------------------------------------


def soap_signature(secret, operation, timestamp_text):
    """
    The S3 SOAP signature of a request.

    @param secret: the secret access key.
    @param operation: the operation name (C{ListAllMyBuckets}).
    @param timestamp_text: the request's C{Timestamp}, as sent.
    @return: base64(HMAC-SHA1(secret, "AmazonS3" + operation + timestamp)).
    @rtype: L{str}
    """
    text = "AmazonS3" + operation + timestamp_text
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _timestamp_seconds(text):
    """
    @return: seconds since the epoch of an C{xsd:dateTime} (UTC when it has
        no offset).
    @raise InvalidArgument: not a date and time.
    """
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument("The Timestamp is not an ISO 8601 date and time.", ArgumentName="Timestamp", ArgumentValue=text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


def verify_soap_signature(access_key_id, timestamp_text, signature, operation, secret, now=None):
    """
    Check the signature of an S3 SOAP request.

    @param access_key_id: the C{AWSAccessKeyId} the request names.
    @param timestamp_text: its C{Timestamp}, exactly as sent.
    @param signature: its C{Signature}.
    @param operation: the operation (the Body element's local name).
    @param secret: the secret key of C{access_key_id}.
    @param now: seconds since the epoch (default: now).
    @raise MissingSecurityElement: no C{Timestamp} or no C{Signature}.
    @raise InvalidArgument: the C{Timestamp} is not a date and time.
    @raise RequestTimeTooSkewed: it is more than L{MAX_SKEW} from C{now}.
    @raise SignatureDoesNotMatch: the signature is not
        L{soap_signature}C{(secret, operation, timestamp_text)}.
    """
    if not timestamp_text or not signature:
        raise MissingSecurityElement(AWSAccessKeyId=access_key_id)
    now = time.time() if now is None else now
    if abs(now - _timestamp_seconds(timestamp_text)) > MAX_SKEW:
        raise RequestTimeTooSkewed(
            RequestTime=timestamp_text, ServerTime=iso_time(now), MaxAllowedSkewMilliseconds=str(MAX_SKEW * 1000)
        )
    expected = soap_signature(secret, operation, timestamp_text)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8")):
        raise SignatureDoesNotMatch(AWSAccessKeyId=access_key_id, StringToSign="AmazonS3" + operation + timestamp_text)


# -- the resource --------------------------------------------------------------


class S3SoapResource(SoapResource):
    """
    The S3 SOAP endpoint: C{POST} a request, C{GET ?wsdl} for the contract.

    @ivar objects: the L{ObjectOperations}.
    @ivar identities: the L{eucalyptus.services.walrus.identities.Identities}.
    """

    def __init__(self, objects, identities, clock=time.time, in_thread=threads.deferToThread):
        """
        @param objects: the L{ObjectOperations}.
        @param identities: the Walrus L{Identities}.
        @param clock: seconds since the epoch, for timestamp skew.
        @param in_thread: runs a blocking call off the reactor and returns a
            Deferred (reading object data); tests run it inline.
        """
        SoapResource.__init__(self, ServiceEndpoint(make_application("s3"), SERVICE_NAMES["s3"], None))
        self.objects = objects
        self.identities = identities
        self.clock = clock
        self.in_thread = in_thread

    def _endpoint_url(self, request):
        # The resource answers below a WalrusResource leaf: the URL is the
        # request's own path, not the leaf's.
        parts = urlsplit(request.prePathURL().decode("ascii"))
        return urlunsplit((parts.scheme, parts.netloc, request.path.decode("latin-1"), "", ""))

    def _operations_for(self, element):
        return S3SoapCall(self, element)

    def render_POST(self, request):
        if isinstance(request.content, SpoolSink) or getattr(request, "too_large", False):
            # Bodies over the site's memory limit go to a spool we cannot
            # read back; no S3 SOAP message is legitimately that large.
            if isinstance(request.content, SpoolSink):
                request.content.close()
            error = InlineDataTooLarge(
                f"A SOAP message to Walrus is limited to {MEMORY_LIMIT} bytes, inline data in base64 included; "
                "store larger objects with the REST API."
            )
            status, body = self._fault(Failure(error), None)
            request.setResponseCode(status)
            request.setHeader(b"content-type", _CONTENT_TYPE)
            return body
        return SoapResource.render_POST(self, request)

    def _fault(self, failure, relates_to):
        # Unparseable XML and requests the schema refuses are S3's
        # MalformedXML, not the internal services' generic Client fault.
        if type(failure.value) in (ClientError, MalformedMessage):
            failure = Failure(MalformedXML(failure.value.message))
        return SoapResource._fault(self, failure, relates_to)

    async def authenticate(self, operation, element):
        """
        The identity that signed a request.

        @param operation: the operation name.
        @param element: the request element (the Body's child).
        @return: the caller's L{eucalyptus.services.walrus.acl.Identity};
            L{ANONYMOUS} without C{AWSAccessKeyId}.
        @raise InvalidAccessKeyId: the key is unknown or inactive.
        @raise eucalyptus.errors.AwsError: see L{verify_soap_signature}.
        """
        access_key_id = child_text(element, "AWSAccessKeyId")
        if not access_key_id:
            return ANONYMOUS
        key = await self.identities.key_for(access_key_id)
        if key is None or key.status != "Active":
            raise InvalidAccessKeyId(AWSAccessKeyId=access_key_id)
        verify_soap_signature(
            access_key_id, child_text(element, "Timestamp"), child_text(element, "Signature"), operation, key.secret_key,
            now=self.clock(),
        )
        return self.identities.identity_of(key)


class S3SoapCall:
    """
    One S3 SOAP request, as spyne's C{ctx.udc}: L{invoke} authenticates and
    runs the operation.

    @ivar soap: the L{S3SoapResource}.
    @ivar element: the request element, for what must be read as sent
        (the C{Timestamp} text, C{xsi:type}s of ACL grantees).
    @ivar identity: the caller, once authenticated.
    """

    def __init__(self, soap, element):
        self.soap = soap
        self.element = element
        self.identity = None

    @property
    def objects(self):
        """
        The L{ObjectOperations} the request runs against.
        """
        return self.soap.objects

    def invoke(self, name, request):
        """
        Answer operation C{name}.

        @param request: the deserialised request (an L{s3_types} model).
        @return: a Deferred response model.
        """
        return defer.Deferred.fromCoroutine(self._run(name, request))

    async def _run(self, name, request):
        self.identity = await self.soap.authenticate(name, self.element)
        return await OPERATIONS[name](self, request)

    async def read(self, version, start, end):
        """
        The bytes C{[start, end)} of a version, read off the reactor.
        """
        if end <= start:
            return b""
        reader = await self.objects.read(version, start, end)
        return await self.soap.in_thread(_read_all, reader)


def _read_all(reader):
    try:
        return reader.read()
    finally:
        reader.close()
