# -*- test-case-name: tests.services.walrus.test_soap -*-
"""
Tests for L{eucalyptus.services.walrus.soap}: the S3 SOAP signature, the
fault form, and L{S3SoapResource} over a real object store whose blocking
work runs inline, driven with in-memory requests (no sockets, no threads,
a L{Clock} for time).  The same API through zeep over HTTP is in
L{tests.interop.test_s3_zeep}.
"""

import base64
import hashlib
import hmac
import io

from lxml import etree
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from eucalyptus.accounts import AccessKey
from eucalyptus.errors import ClientError, InternalError, RequestTimeTooSkewed, SignatureDoesNotMatch
from eucalyptus.services.walrus import soap, soap_operations
from eucalyptus.services.walrus.body import SpoolSink
from eucalyptus.services.walrus.errors import MalformedACLError, NoSuchBucket
from eucalyptus.services.walrus.identities import Identities
from eucalyptus.services.walrus.operations import ObjectOperations
from eucalyptus.services.walrus.rest import WalrusResource
from eucalyptus.services.walrus.s3xml import iso_time
from eucalyptus.services.walrus.soap import (
    OPERATIONS,
    InlineDataTooLarge,
    MissingSecurityElement,
    S3SoapResource,
    soap_signature,
    verify_soap_signature,
)
from eucalyptus.services.walrus.store import LocalObjectStore
from eucalyptus.soap.envelope import envelope_with, to_fault
from eucalyptus.wsdl.s3 import S3_OPERATIONS
from eucalyptus.wsdl.s3_types import S3_NAMESPACE

__all__ = [
    "SignatureTests",
    "FaultTests",
    "AclConversionTests",
    "S3SoapResourceTests",
    "RoutingTests",
]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NOW = 1_700_000_000.0
SECRET = "uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o"
STAMP = "2006-03-01T12:00:00.183Z"
STAMP_SECONDS = 1141214400.183


def s3(name):
    """
    @return: the Clark name of C{name} in the S3 namespace.
    """
    return f"{{{S3_NAMESPACE}}}{name}"


class SignatureTests(SynchronousTestCase):
    """
    L{verify_soap_signature}: HMAC-SHA1 over C{"AmazonS3" + operation +
    Timestamp}, the Timestamp as sent, at most 15 minutes away.
    """

    def test_signature(self):
        """
        The signature is base64(HMAC-SHA1(secret, "AmazonS3" + operation +
        timestamp)).
        """
        expected = base64.b64encode(
            hmac.new(SECRET.encode(), b"AmazonS3ListAllMyBuckets" + STAMP.encode(), hashlib.sha1).digest()
        ).decode()
        self.assertEqual(soap_signature(SECRET, "ListAllMyBuckets", STAMP), expected)

    def test_valid(self):
        """
        A request signed with the key's secret, for this operation, at this
        time, passes.
        """
        signature = soap_signature(SECRET, "CreateBucket", STAMP)
        verify_soap_signature("AKID", STAMP, signature, "CreateBucket", SECRET, now=STAMP_SECONDS)

    def test_wrong_secret(self):
        """
        A signature made with another secret is C{SignatureDoesNotMatch}.
        """
        signature = soap_signature("another secret", "CreateBucket", STAMP)
        self.assertRaises(
            SignatureDoesNotMatch, verify_soap_signature, "AKID", STAMP, signature, "CreateBucket", SECRET,
            now=STAMP_SECONDS,
        )  # fmt: skip

    def test_other_operation(self):
        """
        A signature made for another operation does not match: it cannot be
        replayed against a different operation.
        """
        signature = soap_signature(SECRET, "ListAllMyBuckets", STAMP)
        self.assertRaises(
            SignatureDoesNotMatch, verify_soap_signature, "AKID", STAMP, signature, "DeleteBucket", SECRET,
            now=STAMP_SECONDS,
        )  # fmt: skip

    def test_timestamp_as_sent(self):
        """
        The signature covers the Timestamp text exactly as sent: the same
        instant spelled differently does not match.
        """
        signature = soap_signature(SECRET, "CreateBucket", STAMP)
        other = "2006-03-01T12:00:00.183000Z"
        self.assertRaises(
            SignatureDoesNotMatch, verify_soap_signature, "AKID", other, signature, "CreateBucket", SECRET,
            now=STAMP_SECONDS,
        )  # fmt: skip

    def test_skew(self):
        """
        Fifteen minutes either way is accepted; a second more is
        C{RequestTimeTooSkewed}.
        """
        signature = soap_signature(SECRET, "CreateBucket", STAMP)
        for offset in (-900, 900):
            verify_soap_signature("AKID", STAMP, signature, "CreateBucket", SECRET, now=STAMP_SECONDS + offset)
        for offset in (-901, 901):
            self.assertRaises(
                RequestTimeTooSkewed, verify_soap_signature, "AKID", STAMP, signature, "CreateBucket", SECRET,
                now=STAMP_SECONDS + offset,
            )  # fmt: skip

    def test_offsets(self):
        """
        A Timestamp with a UTC offset is that instant; one without is UTC.
        """
        for text in ("2006-03-01T14:00:00.183+02:00", "2006-03-01T12:00:00.183"):
            signature = soap_signature(SECRET, "CreateBucket", text)
            verify_soap_signature("AKID", text, signature, "CreateBucket", SECRET, now=STAMP_SECONDS)

    def test_missing(self):
        """
        A signed request without its Timestamp or its Signature is
        C{MissingSecurityElement}.
        """
        signature = soap_signature(SECRET, "CreateBucket", STAMP)
        self.assertRaises(MissingSecurityElement, verify_soap_signature, "AKID", "", signature, "CreateBucket", SECRET)
        self.assertRaises(MissingSecurityElement, verify_soap_signature, "AKID", STAMP, "", "CreateBucket", SECRET)

    def test_not_a_date(self):
        """
        A Timestamp that is not a date is C{InvalidArgument}.
        """
        error = self.assertRaises(
            ClientError, verify_soap_signature, "AKID", "yesterday", "x", "CreateBucket", SECRET, now=NOW
        )
        self.assertEqual(error.code, "InvalidArgument")


def _fault_of(body):
    """
    @return: C{(faultcode, faultstring)} of a fault envelope (bytes).
    """
    fault = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    return fault.findtext("faultcode"), fault.findtext("faultstring")


class FaultTests(SynchronousTestCase):
    """
    S3 errors become faults C{soapenv:Client.<S3 code>}; ours
    C{soapenv:Server.InternalError}.
    """

    def test_client_fault(self):
        """
        An S3 error is C{soapenv:Client.<Code>} with its message.
        """
        body = etree.tostring(to_fault(NoSuchBucket()))
        self.assertEqual(_fault_of(body), ("soapenv:Client.NoSuchBucket", "The specified bucket does not exist."))
        body = etree.tostring(to_fault(InlineDataTooLarge()))
        self.assertEqual(_fault_of(body)[0], "soapenv:Client.InlineDataTooLargeError")

    def test_server_fault(self):
        """
        Our own failure is C{soapenv:Server.InternalError}.
        """
        self.assertEqual(_fault_of(etree.tostring(to_fault(InternalError())))[0], "soapenv:Server.InternalError")

    def test_resource_mapping(self):
        """
        The resource turns the generic client error of a request the schema
        refuses into S3's C{MalformedXML}, and an unexpected exception into
        C{Server.InternalError} (logged).
        """
        resource = S3SoapResource(None, None)
        status, body = resource._fault(Failure(ClientError("The request does not match the WSDL.")), None)
        self.assertEqual(status, 500)
        self.assertEqual(_fault_of(body), ("soapenv:Client.MalformedXML", "The request does not match the WSDL."))
        _, body = resource._fault(Failure(RuntimeError("boom")), None)
        self.assertEqual(_fault_of(body)[0], "soapenv:Server.InternalError")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


def _grant(kind, permission, prefix="s3", namespace=S3_NAMESPACE, **fields):
    """
    @return: the XML text of one C{Grant} whose grantee has C{xsi:type}
        C{prefix:kind}, C{prefix} bound to C{namespace} on the grantee.
    """
    values = "".join(f"<s3:{name}>{value}</s3:{name}>" for name, value in fields.items())
    return (
        f'<s3:Grant><s3:Grantee xmlns:{prefix}="{namespace}" xsi:type="{prefix}:{kind}">{values}</s3:Grantee>'
        f"<s3:Permission>{permission}</s3:Permission></s3:Grant>"
    )


def _acl_request(operation, *grants):
    """
    A parsed request element holding an C{AccessControlList} of C{grants}
    (XML text from L{_grant}), as a client sends it: the prefixes the
    grantees' types use are declared where the client put them.
    """
    text = (
        f'<s3:{operation} xmlns:s3="{S3_NAMESPACE}" xmlns:xsi="{XSI}">'
        f'<s3:AccessControlList>{"".join(grants)}</s3:AccessControlList></s3:{operation}>'
    )
    return etree.fromstring(text)


class AclConversionTests(SynchronousTestCase):
    """
    A request's C{AccessControlList} becomes grant headers (new buckets and
    objects) or a policy document (the Set*AccessControlPolicy
    operations), whatever prefix the client bound the S3 namespace to.
    """

    def test_headers(self):
        """
        Canonical users become C{id="..."}, groups C{uri="..."}, e-mail
        grantees C{emailAddress="..."}, one header per permission.
        """
        request = _acl_request(
            "PutObjectInline",
            _grant("CanonicalUser", "FULL_CONTROL", ID="123"),
            _grant("Group", "READ", prefix="g", URI="http://acs.amazonaws.com/groups/global/AllUsers"),
            _grant("AmazonCustomerByEmail", "READ", EmailAddress="a@example.com"),
        )
        self.assertEqual(
            soap_operations._acl_headers(request),
            {
                "x-amz-grant-full-control": 'id="123"',
                "x-amz-grant-read": 'uri="http://acs.amazonaws.com/groups/global/AllUsers", emailAddress="a@example.com"',
            },
        )

    def test_no_acl(self):
        """
        Without an C{AccessControlList}, no headers: the default (private).
        """
        self.assertEqual(soap_operations._acl_headers(etree.Element(s3("CreateBucket"))), {})

    def test_foreign_type(self):
        """
        A grantee type outside the S3 namespace is C{MalformedACLError}.
        """
        request = _acl_request("SetBucketAccessControlPolicy", _grant("CanonicalUser", "READ", "o", "urn:other", ID="1"))
        self.assertRaises(MalformedACLError, soap_operations._acl_headers, request)
        self.assertRaises(MalformedACLError, soap_operations._policy_document, request)

    def test_policy_document(self):
        """
        The policy document carries the grants with unprefixed types, as
        L{eucalyptus.services.walrus.acl.from_xml} reads them, even when the
        type's prefix was declared only in the request.
        """
        request = etree.fromstring(
            f'<SetBucketAccessControlPolicy xmlns="{S3_NAMESPACE}" xmlns:t="{S3_NAMESPACE}" xmlns:xsi="{XSI}">'
            '<AccessControlList><Grant><Grantee xsi:type="t:Group"><URI>u</URI></Grantee>'
            "<Permission>READ</Permission></Grant></AccessControlList></SetBucketAccessControlPolicy>"
        )
        policy = etree.fromstring(soap_operations._policy_document(request))
        self.assertEqual(policy.tag, s3("AccessControlPolicy"))
        grantee = policy.find(f"{s3('AccessControlList')}/{s3('Grant')}/{s3('Grantee')}")
        self.assertEqual(grantee.get(f"{{{XSI}}}type"), "Group")


class _Accounts:
    """
    An account store with a fixed set of access keys.
    """

    def __init__(self, *keys):
        self.keys = {key.access_key_id: key for key in keys}

    def access_key(self, access_key_id):
        return self.keys.get(access_key_id)


def _key(name, status="Active"):
    """
    @return: an L{AccessKey} of account C{name}.
    """
    return AccessKey(f"AKID{name.upper()}", f"secret-of-{name}", f"user-{name}", f"id-{name}", name, "admin", status)


class _Request(DummyRequest):
    """
    A L{DummyRequest} with a body and the URL methods the resource uses.
    """

    def __init__(self, method, path, body=b"", query=b""):
        DummyRequest.__init__(self, [])
        self.method = method
        self.path = path
        self.uri = path + (b"?" + query if query else b"")
        self.content = io.BytesIO(body)

    def prePathURL(self):
        return b"http://walrus.example:8776/"


class S3SoapResourceTests(SynchronousTestCase):
    """
    L{S3SoapResource} over a real store run inline: authentication,
    operations and limits.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(NOW)
        store = LocalObjectStore(self.mktemp(), reactor=self.clock, threaded=False)
        self.successResultOf(store.start())
        self.addCleanup(lambda: self.successResultOf(store.stop()))
        self.store = store
        self.alice, self.bob = _key("alice"), _key("bob")
        accounts = _Accounts(self.alice, self.bob, _key("carol", status="Inactive"))
        identities = Identities(accounts, clock=self.clock.seconds, lookup=lambda f, *a: defer.succeed(f(*a)))
        objects = ObjectOperations(store, identities, clock=self.clock.seconds)
        self.resource = S3SoapResource(
            objects, identities, clock=self.clock.seconds, in_thread=lambda f, *a: defer.maybeDeferred(f, *a)
        )

    def envelope(self, operation, *fields, key="alice", stamp=None, signature=None):
        """
        A request envelope: C{fields} (C{(name, text or element)}) then, when
        C{key} names an account, its signature fields.
        """
        element = etree.Element(s3(operation), nsmap={"s3": S3_NAMESPACE})
        for name, value in fields:
            if isinstance(value, etree._Element):
                element.append(value)
            else:
                etree.SubElement(element, s3(name)).text = value
        if key is not None:
            access_key = getattr(self, key, None) or _key(key)
            stamp = stamp or iso_time(self.clock.seconds())
            for name, value in (
                ("AWSAccessKeyId", access_key.access_key_id),
                ("Timestamp", stamp),
                ("Signature", signature or soap_signature(access_key.secret_key, operation, stamp)),
            ):
                etree.SubElement(element, s3(name)).text = value
        return etree.tostring(envelope_with(element))

    def post(self, body, request=None):
        """
        POST C{body}; the resource must answer synchronously.

        @return: C{(status, parsed reply envelope)}.
        """
        request = request or _Request(b"POST", b"/soap", body)
        result = self.resource.render(request)
        if result is not NOT_DONE_YET:
            request.write(result)
            request.finish()
        self.assertTrue(request.finished)
        return request.responseCode or 200, etree.fromstring(b"".join(request.written))

    def call(self, operation, *fields, **options):
        """
        Send one operation that must succeed.

        @return: the response element (the Body's child).
        """
        status, reply = self.post(self.envelope(operation, *fields, **options))
        self.assertEqual(status, 200, etree.tostring(reply))
        return reply.find(f"{{{SOAP_ENV}}}Body")[0]

    def fault(self, operation, *fields, **options):
        """
        Send one operation that must fail.

        @return: C{(faultcode, faultstring)}.
        """
        status, reply = self.post(self.envelope(operation, *fields, **options))
        self.assertEqual(status, 500)
        return _fault_of(etree.tostring(reply))

    def test_operations_table(self):
        """
        Every operation of the WSDL has exactly one function.
        """
        self.assertEqual(set(OPERATIONS), {row[0] for row in S3_OPERATIONS})

    def test_wsdl(self):
        """
        C{GET ?wsdl} serves the contract with the request's own URL (the
        C{/soap} path below Walrus) as the endpoint.
        """
        request = _Request(b"GET", b"/services/Walrus/soap", query=b"wsdl")
        document = etree.fromstring(self.resource.render(request))
        address = document.find(f"{{{WSDL}}}service/{{{WSDL}}}port/{{{WSDL_SOAP}}}address")
        self.assertEqual(address.get("location"), "http://walrus.example:8776/services/Walrus/soap")

    def test_signed_calls(self):
        """
        CreateBucket then ListAllMyBuckets, signed by alice.
        """
        made = self.call("CreateBucket", ("Bucket", "pictures"))
        self.assertEqual(made.findtext(f"{s3('CreateBucketResponse')}/{s3('BucketName')}"), "pictures")
        listed = self.call("ListAllMyBuckets").find(s3("ListAllMyBucketsResponse"))
        self.assertEqual(listed.findtext(f"{s3('Owner')}/{s3('ID')}"), "id-alice")
        self.assertEqual(listed.findtext(f"{s3('Owner')}/{s3('DisplayName')}"), "alice")
        self.assertEqual(
            [e.text for e in listed.iterfind(f"{s3('Buckets')}/{s3('Bucket')}/{s3('Name')}")], ["pictures"]
        )

    def test_anonymous(self):
        """
        Without C{AWSAccessKeyId} the caller is anonymous, who may not list
        buckets: C{Client.AccessDenied}.
        """
        self.assertEqual(self.fault("ListAllMyBuckets", key=None)[0], "soapenv:Client.AccessDenied")

    def test_unknown_or_inactive_key(self):
        """
        An unknown or inactive key is C{Client.InvalidAccessKeyId}.
        """
        self.assertEqual(self.fault("ListAllMyBuckets", key="mallory")[0], "soapenv:Client.InvalidAccessKeyId")
        self.assertEqual(self.fault("ListAllMyBuckets", key="carol")[0], "soapenv:Client.InvalidAccessKeyId")

    def test_wrong_signature(self):
        """
        A wrong signature is C{Client.SignatureDoesNotMatch}.
        """
        code, _ = self.fault("ListAllMyBuckets", signature=soap_signature("guess", "ListAllMyBuckets", STAMP))
        self.assertEqual(code, "soapenv:Client.SignatureDoesNotMatch")

    def test_skewed(self):
        """
        A Timestamp more than 15 minutes from the clock is
        C{Client.RequestTimeTooSkewed}.
        """
        stamp = iso_time(NOW - 16 * 60)
        self.assertEqual(self.fault("ListAllMyBuckets", stamp=stamp)[0], "soapenv:Client.RequestTimeTooSkewed")

    def test_missing_signature(self):
        """
        A key without a signature is C{Client.MissingSecurityElement}.
        """
        element = etree.Element(s3("ListAllMyBuckets"))
        etree.SubElement(element, s3("AWSAccessKeyId")).text = self.alice.access_key_id
        status, reply = self.post(etree.tostring(envelope_with(element)))
        self.assertEqual(_fault_of(etree.tostring(reply))[0], "soapenv:Client.MissingSecurityElement")

    def test_malformed(self):
        """
        Bytes that are not a SOAP envelope, and a request missing a
        required element, are C{Client.MalformedXML}.
        """
        for body in (b"<not-soap/>", self.envelope("ListBucket")):
            status, reply = self.post(body)
            self.assertEqual((status, _fault_of(etree.tostring(reply))[0]), (500, "soapenv:Client.MalformedXML"))

    def test_unknown_operation(self):
        """
        An element that names no operation is C{Client.UnknownOperation}.
        """
        self.assertEqual(self.fault("PostObject", ("Bucket", "bkt"))[0], "soapenv:Client.UnknownOperation")

    def put(self, key, data, *fields):
        """
        PutObjectInline C{data} as C{key} of bucket C{bkt}.
        """
        return self.call(
            "PutObjectInline", ("Bucket", "bkt"), ("Key", key), *fields,
            ("Data", base64.b64encode(data).decode()), ("ContentLength", str(len(data))),
        )  # fmt: skip

    def test_inline_limit(self):
        """
        1 MiB of inline data is stored; a byte more is
        C{Client.InlineDataTooLargeError}.
        """
        self.call("CreateBucket", ("Bucket", "bkt"))
        self.put("full", b"x" * soap.MAX_INLINE_DATA)
        data = base64.b64encode(b"x" * (soap.MAX_INLINE_DATA + 1)).decode()
        code, message = self.fault(
            "PutObjectInline", ("Bucket", "bkt"), ("Key", "over"), ("Data", data),
            ("ContentLength", str(soap.MAX_INLINE_DATA + 1)),
        )  # fmt: skip
        self.assertEqual(code, "soapenv:Client.InlineDataTooLargeError")
        self.assertIn(str(soap.MAX_INLINE_DATA), message)

    def test_spooled_message(self):
        """
        A message too large for memory (its body went to a spool) is refused
        with C{Client.InlineDataTooLargeError} and its spool discarded.
        """
        discarded = []
        spool = type("Spool", (), {"write": lambda self, data: None, "discard": lambda self: discarded.append(True)})()
        request = _Request(b"POST", b"/soap")
        request.content = SpoolSink(spool, transport=None)
        status, reply = self.post(None, request)
        self.assertEqual((status, _fault_of(etree.tostring(reply))[0]), (500, "soapenv:Client.InlineDataTooLargeError"))
        self.assertEqual(discarded, [True])

    def test_get_limit(self):
        """
        Data beyond the inline limit is refused; a byte range within it, or
        metadata only, is answered.
        """
        self.call("CreateBucket", ("Bucket", "bkt"))
        self.put("k", b"0123456789")
        self.patch(soap_operations, "MAX_INLINE_DATA", 4)
        flags = [("GetMetadata", "true"), ("GetData", "true"), ("InlineData", "true")]
        code, _ = self.fault("GetObject", ("Bucket", "bkt"), ("Key", "k"), *flags)
        self.assertEqual(code, "soapenv:Client.InlineDataTooLargeError")
        ranged = self.call(
            "GetObjectExtended", ("Bucket", "bkt"), ("Key", "k"), *flags, ("ByteRangeStart", "2"), ("ByteRangeEnd", "5")
        ).find(s3("GetObjectResponse"))
        self.assertEqual(base64.b64decode(ranged.findtext(s3("Data"))), b"2345")
        self.assertEqual(ranged.findtext(f"{s3('Status')}/{s3('Code')}"), "206")
        head = self.call(
            "GetObject", ("Bucket", "bkt"), ("Key", "k"), ("GetMetadata", "true"), ("GetData", "false"), ("InlineData", "true")
        ).find(s3("GetObjectResponse"))
        self.assertEqual(head.find(s3("Data")).get(f"{{{XSI}}}nil"), "true")
        self.assertEqual(head.findtext(s3("ETag")), '"%s"' % hashlib.md5(b"0123456789").hexdigest())

    def test_email_grantee(self):
        """
        A grant to an e-mail address cannot be resolved:
        C{Client.UnresolvableGrantByEmailAddress}.
        """
        self.call("CreateBucket", ("Bucket", "bkt"))
        request = _acl_request("X", _grant("AmazonCustomerByEmail", "READ", EmailAddress="a@example.com"))
        acl = request[0]
        code, _ = self.fault("SetBucketAccessControlPolicy", ("Bucket", "bkt"), ("AccessControlList", acl))
        self.assertEqual(code, "soapenv:Client.UnresolvableGrantByEmailAddress")

    def test_bob_denied(self):
        """
        Bob cannot read alice's private object: C{Client.AccessDenied}.
        """
        self.call("CreateBucket", ("Bucket", "bkt"))
        self.put("k", b"private")
        flags = [("GetMetadata", "true"), ("GetData", "true"), ("InlineData", "true")]
        self.assertEqual(self.fault("GetObject", ("Bucket", "bkt"), ("Key", "k"), *flags, key="bob")[0], "soapenv:Client.AccessDenied")


class _RecordingResource:
    """
    Stands for the S3 SOAP resource: records the requests it renders.
    """

    def __init__(self):
        self.rendered = []

    def render(self, request):
        self.rendered.append((request.method, request.uri))
        return b"soap"


class RoutingTests(SynchronousTestCase):
    """
    L{WalrusResource} sends C{POST <mount>/soap} and C{GET <mount>/soap?wsdl}
    to the S3 SOAP resource and everything else to REST.
    """

    def render(self, method, path, query=b""):
        """
        @return: what the S3 SOAP resource rendered, and whether REST served.
        """
        s3soap = _RecordingResource()
        resource = WalrusResource(None, None, prefix=b"/services/Walrus", s3soap=s3soap)
        served = []
        resource._serve = lambda request, mount, raw_path: served.append(raw_path) or defer.succeed(None)
        resource.render(_Request(method, path, query=query))
        return s3soap.rendered, served

    def test_soap(self):
        """
        C{POST /soap} and C{GET /soap?wsdl}, on Walrus's port and below
        C{/services/Walrus}, are SOAP.
        """
        for path in (b"/soap", b"/services/Walrus/soap"):
            self.assertEqual(self.render(b"POST", path), ([(b"POST", path)], []))
            self.assertEqual(self.render(b"GET", path, b"wsdl"), ([(b"GET", path + b"?wsdl")], []))

    def test_rest(self):
        """
        The bucket C{soap} itself, other queries, and keys below it are REST.
        """
        for method, path, query in (
            (b"GET", b"/soap", b""),
            (b"POST", b"/soap", b"delete"),
            (b"PUT", b"/soap", b""),
            (b"POST", b"/soap/key", b""),
            (b"GET", b"/soap", b"acl"),
        ):
            self.assertEqual(self.render(method, path, query)[0], [])
