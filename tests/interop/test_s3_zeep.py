# -*- test-case-name: tests.interop.test_s3_zeep -*-
"""
Walrus's S3 SOAP API through zeep: a client generated from the WSDL the
live Walrus serves at C{/soap?wsdl}, signing each request the way Amazon's
S3 SOAP API asks (C{AWSAccessKeyId}, C{Timestamp}, C{Signature}).

Every operation of reference 1.7 round-trips; wrong signatures, skewed
timestamps and unknown keys are refused with their S3 fault codes; ACLs
hold; and objects stored through SOAP and REST (boto3) are the same
objects.  zeep and boto3 block, so their calls run in threads.
"""

import datetime
import hashlib

import requests
from lxml import etree
from twisted.internet import defer
from zeep import Client
from zeep.exceptions import Fault
from zeep.transports import Transport

from eucalyptus.services.walrus.acl import ALL_USERS
from eucalyptus.services.walrus.soap import MAX_INLINE_DATA, soap_signature
from eucalyptus.wsdl.s3_types import S3_NAMESPACE
from tests.services.walrus.harness import WalrusTestCase, in_thread

__all__ = ["S3SoapClient", "S3SoapZeepTests", "S3SoapAuthenticationTests", "S3SoapInteropTests"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def timestamp(offset=0):
    """
    @param offset: seconds from now.
    @return: an S3 SOAP C{Timestamp} text, C{2006-03-01T12:00:00.183Z}.
    """
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


class S3SoapClient:
    """
    A zeep client of Walrus's S3 SOAP endpoint, signing as one account.

    @ivar zeep: the C{zeep.Client}, built from the served WSDL.
    """

    def __init__(self, walrus, account="alice", url=None):
        """
        @param walrus: the L{tests.services.walrus.harness.LiveWalrus}.
        @param account: who signs (C{None}: anonymous).
        @param url: the SOAP endpoint (default: C{<walrus>/soap}).
        """
        session = requests.Session()
        self.zeep = Client((url or walrus.url + "/soap") + "?wsdl", transport=Transport(session=session))
        self.key = walrus.keys[account] if account else None
        self.skew = 0
        self.secret = self.key.secret_key if self.key else None

    def type(self, name):
        """
        @return: the zeep type C{name} of the S3 namespace.
        """
        return self.zeep.get_type("{%s}%s" % (S3_NAMESPACE, name))

    def call(self, operation, **fields):
        """
        Send one signed request.

        @return: the zeep result.
        @raise zeep.exceptions.Fault: the S3 fault.
        """
        if self.key is not None:
            stamp = timestamp(self.skew)
            fields.update(
                AWSAccessKeyId=self.key.access_key_id,
                Timestamp=stamp,
                Signature=soap_signature(self.secret, operation, stamp),
            )
        return getattr(self.zeep.service, operation)(**fields)

    def acl(self, *grants):
        """
        An C{AccessControlList} value.

        @param grants: C{(grantee, permission)}; a grantee is an account id
            or a group URI.
        """
        items = []
        for grantee, permission in grants:
            if grantee.startswith("http://"):
                value = self.type("Group")(URI=grantee)
            else:
                value = self.type("CanonicalUser")(ID=grantee)
            items.append({"Grantee": value, "Permission": permission})
        return {"Grant": items}


class _SoapTestCase(WalrusTestCase):
    """
    A live Walrus and a zeep client signed as alice (C{self.soap}).
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        self.soap = yield in_thread(S3SoapClient, self.walrus)

    def client(self, account):
        """
        @return: a Deferred L{S3SoapClient} for C{account}.
        """
        return in_thread(S3SoapClient, self.walrus, account)

    @defer.inlineCallbacks
    def assert_fault(self, code, client, operation, **fields):
        """
        C{client.call(operation, **fields)} fails with fault code
        C{soapenv:Client.<code>} (C{code} may name C{Server.<x>}).

        @return: a Deferred firing with the zeep C{Fault}.
        """
        fault = yield self.assertFailure(in_thread(client.call, operation, **fields), Fault)
        expected = code if "." in code else "Client." + code
        self.assertEqual(fault.code.split(":")[-1], expected, fault.message)
        return fault


class S3SoapZeepTests(_SoapTestCase):
    """
    Every operation round-trips through zeep.
    """

    @defer.inlineCallbacks
    def test_wsdl(self):
        """
        The served WSDL names C{/soap} as the endpoint and declares every
        operation with an empty soapAction, as Amazon's does.
        """
        service = self.soap.zeep.service
        self.assertEqual(service._binding_options["address"], self.walrus.url + "/soap")
        operations = self.soap.zeep.service._binding._operations
        self.assertEqual(len(operations), 17)
        self.assertEqual({op.soapaction for op in operations.values()}, {""})
        cloud = yield in_thread(S3SoapClient, self.walrus, "alice", self.walrus.url + "/services/Walrus/soap")
        self.assertEqual(cloud.zeep.service._binding_options["address"], self.walrus.url + "/services/Walrus/soap")

    @defer.inlineCallbacks
    def test_buckets(self):
        """
        CreateBucket, ListAllMyBuckets, GetBucketLocation (default and a
        region) and DeleteBucket.
        """
        soap = self.soap

        def scenario():
            made = soap.call("CreateBucket", Bucket="soap-one")
            soap.call("CreateBucket", Bucket="soap-two", LocationConstraint="eu-west-1")
            listed = soap.call("ListAllMyBuckets")
            default = soap.call("GetBucketLocation", Bucket="soap-one")
            placed = soap.call("GetBucketLocation", Bucket="soap-two")
            deleted = soap.call("DeleteBucket", Bucket="soap-two")
            after = soap.call("ListAllMyBuckets")
            return made, listed, default, placed, deleted, after

        made, listed, default, placed, deleted, after = yield in_thread(scenario)
        # zeep hands back the only field of a one-field result.
        self.assertEqual(made, "soap-one")
        self.assertEqual([b.Name for b in listed.Buckets.Bucket], ["soap-one", "soap-two"])
        self.assertEqual(listed.Owner.ID, self.walrus.keys["alice"].account_id)
        self.assertEqual(listed.Owner.DisplayName, "alice")
        self.assertIsInstance(listed.Buckets.Bucket[0].CreationDate, datetime.datetime)
        self.assertFalse(default)
        self.assertEqual(placed, "eu-west-1")
        self.assertEqual((deleted.Code, deleted.Description), (204, "No Content"))
        self.assertEqual([b.Name for b in after.Buckets.Bucket], ["soap-one"])

    @defer.inlineCallbacks
    def test_objects(self):
        """
        PutObjectInline with metadata, ListBucket with a delimiter,
        GetObject with data and metadata, GetObjectExtended with a byte
        range, CopyObject, DeleteObject.
        """
        soap = self.soap
        data = b"hello, world of SOAP"

        def scenario():
            soap.call("CreateBucket", Bucket="things")
            put = soap.call(
                "PutObjectInline", Bucket="things", Key="docs/a.txt", Data=data, ContentLength=len(data),
                Metadata=[{"Name": "Content-Type", "Value": "text/plain"}, {"Name": "colour", "Value": "blue"}],
            )  # fmt: skip
            soap.call("PutObjectInline", Bucket="things", Key="top", Data=b"", ContentLength=0)
            listing = soap.call("ListBucket", Bucket="things", Delimiter="/")
            whole = soap.call("GetObject", Bucket="things", Key="docs/a.txt", GetMetadata=True, GetData=True, InlineData=True)
            ranged = soap.call(
                "GetObjectExtended", Bucket="things", Key="docs/a.txt", GetMetadata=False, GetData=True,
                InlineData=True, ByteRangeStart=7, ByteRangeEnd=11,
            )  # fmt: skip
            copied = soap.call(
                "CopyObject", SourceBucket="things", SourceKey="docs/a.txt", DestinationBucket="things",
                DestinationKey="copy.txt",
            )  # fmt: skip
            copy = soap.call("GetObject", Bucket="things", Key="copy.txt", GetMetadata=True, GetData=True, InlineData=True)
            deleted = soap.call("DeleteObject", Bucket="things", Key="copy.txt")
            after = soap.call("ListBucket", Bucket="things", Prefix="c")
            return put, listing, whole, ranged, copied, copy, deleted, after

        put, listing, whole, ranged, copied, copy, deleted, after = yield in_thread(scenario)
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        self.assertEqual(put.ETag, etag)
        self.assertIsInstance(put.LastModified, datetime.datetime)
        self.assertEqual([c.Key for c in listing.Contents], ["top"])
        self.assertEqual([p.Prefix for p in listing.CommonPrefixes], ["docs/"])
        self.assertEqual((listing.Name, listing.Delimiter, listing.MaxKeys, listing.IsTruncated), ("things", "/", 1000, False))
        self.assertEqual(listing.Contents[0].Owner.ID, self.walrus.keys["alice"].account_id)
        self.assertEqual((listing.Contents[0].Size, listing.Contents[0].StorageClass), (0, "STANDARD"))
        self.assertEqual((whole.Status.Code, whole.Data, whole.ETag), (200, data, etag))
        self.assertEqual({m.Name: m.Value for m in whole.Metadata}, {"Content-Type": "text/plain", "colour": "blue"})
        self.assertEqual((ranged.Status.Code, ranged.Data, ranged.Metadata), (206, b"world", []))
        self.assertEqual(copied.ETag, etag)
        self.assertEqual(copy.Data, data)
        self.assertEqual({m.Name: m.Value for m in copy.Metadata}, {"Content-Type": "text/plain", "colour": "blue"})
        self.assertEqual(deleted.Code, 204)
        self.assertEqual(after.Contents, [])

    @defer.inlineCallbacks
    def test_conditions(self):
        """
        GetObjectExtended honours IfMatch and IfNoneMatch (PreconditionFailed,
        NotModified) unless ReturnCompleteObjectOnConditionFailure; GetData
        false returns metadata only.
        """
        soap = self.soap

        def scenario():
            soap.call("CreateBucket", Bucket="conditional")
            put = soap.call("PutObjectInline", Bucket="conditional", Key="k", Data=b"abc", ContentLength=3)
            matched = soap.call(
                "GetObjectExtended", Bucket="conditional", Key="k", GetMetadata=True, GetData=False, InlineData=True,
                IfMatch=[put.ETag],
            )  # fmt: skip
            forced = soap.call(
                "GetObjectExtended", Bucket="conditional", Key="k", GetMetadata=False, GetData=True, InlineData=True,
                IfMatch=['"0000"'], ReturnCompleteObjectOnConditionFailure=True, ByteRangeStart=1,
            )  # fmt: skip
            return put, matched, forced

        put, matched, forced = yield in_thread(scenario)
        self.assertEqual((matched.Status.Code, matched.Data), (200, None))
        self.assertEqual(forced.Data, b"abc")
        fields = {"Bucket": "conditional", "Key": "k", "GetMetadata": False, "GetData": True, "InlineData": True}
        yield self.assert_fault("PreconditionFailed", soap, "GetObjectExtended", IfMatch=['"0000"'], **fields)
        yield self.assert_fault("NotModified", soap, "GetObjectExtended", IfNoneMatch=[put.ETag], **fields)

    @defer.inlineCallbacks
    def test_acls(self):
        """
        Get/SetBucketAccessControlPolicy and Get/SetObjectAccessControlPolicy:
        a grant to everyone lets an anonymous caller read; grantees come
        back with their types.
        """
        soap = self.soap
        alice = self.walrus.keys["alice"].account_id
        anonymous = yield self.client(None)

        def scenario():
            soap.call("CreateBucket", Bucket="shared")
            soap.call("PutObjectInline", Bucket="shared", Key="k", Data=b"public", ContentLength=6)
            before = soap.call("GetBucketAccessControlPolicy", Bucket="shared")
            acl = soap.acl((alice, "FULL_CONTROL"), (ALL_USERS, "READ"))
            soap.call("SetBucketAccessControlPolicy", Bucket="shared", AccessControlList=acl)
            soap.call("SetObjectAccessControlPolicy", Bucket="shared", Key="k", AccessControlList=acl)
            bucket = soap.call("GetBucketAccessControlPolicy", Bucket="shared")
            obj = soap.call("GetObjectAccessControlPolicy", Bucket="shared", Key="k")
            listed = anonymous.call("ListBucket", Bucket="shared")
            read = anonymous.call("GetObject", Bucket="shared", Key="k", GetMetadata=False, GetData=True, InlineData=True)
            return before, bucket, obj, listed, read

        before, bucket, obj, listed, read = yield in_thread(scenario)
        self.assertEqual(before.Owner.ID, alice)
        self.assertEqual(
            [(type(g.Grantee).__name__, g.Grantee.ID, g.Permission) for g in before.AccessControlList.Grant],
            [("CanonicalUser", alice, "FULL_CONTROL")],
        )
        for policy in (bucket, obj):
            grants = [(type(g.Grantee).__name__, g.Permission) for g in policy.AccessControlList.Grant]
            self.assertEqual(grants, [("CanonicalUser", "FULL_CONTROL"), ("Group", "READ")])
            self.assertEqual(policy.AccessControlList.Grant[1].Grantee.URI, ALL_USERS)
        self.assertEqual([c.Key for c in listed.Contents], ["k"])
        self.assertEqual(read.Data, b"public")

    @defer.inlineCallbacks
    def test_acl_on_put(self):
        """
        The AccessControlList of PutObjectInline and CreateBucket becomes the
        new resource's ACL.
        """
        soap = self.soap
        alice = self.walrus.keys["alice"].account_id

        def scenario():
            acl = soap.acl((alice, "FULL_CONTROL"), (ALL_USERS, "READ"))
            soap.call("CreateBucket", Bucket="open-bucket", AccessControlList=acl)
            soap.call("PutObjectInline", Bucket="open-bucket", Key="k", Data=b"x", ContentLength=1, AccessControlList=acl)
            return (
                soap.call("GetBucketAccessControlPolicy", Bucket="open-bucket"),
                soap.call("GetObjectAccessControlPolicy", Bucket="open-bucket", Key="k"),
            )

        for policy in (yield in_thread(scenario)):
            grants = sorted((type(g.Grantee).__name__, g.Permission) for g in policy.AccessControlList.Grant)
            self.assertEqual(grants, [("CanonicalUser", "FULL_CONTROL"), ("Group", "READ")])

    @defer.inlineCallbacks
    def test_versioning(self):
        """
        SetBucketVersioningStatus and GetBucketVersioningStatus; ListVersions
        shows every version and the delete marker; GetObject reads an old
        version by C{VersionId}.
        """
        soap = self.soap

        def scenario():
            soap.call("CreateBucket", Bucket="history")
            never = soap.call("GetBucketVersioningStatus", Bucket="history")
            soap.call("SetBucketVersioningStatus", Bucket="history", VersioningStatus="Enabled")
            enabled = soap.call("GetBucketVersioningStatus", Bucket="history")
            soap.call("PutObjectInline", Bucket="history", Key="k", Data=b"one", ContentLength=3)
            soap.call("PutObjectInline", Bucket="history", Key="k", Data=b"two", ContentLength=3)
            soap.call("DeleteObject", Bucket="history", Key="k")
            versions = soap.call("ListVersions", Bucket="history")
            oldest = versions.Version[-1].VersionId
            old = soap.call(
                "GetObject", Bucket="history", Key="k", GetMetadata=False, GetData=True, InlineData=True, VersionId=oldest
            )
            return never, enabled, versions, old

        never, enabled, versions, old = yield in_thread(scenario)
        # An empty VersioningConfiguration: zeep makes it None.
        self.assertIsNone(never)
        self.assertEqual(enabled.Status, "Enabled")
        self.assertEqual([(v.Key, v.IsLatest, v.Size) for v in versions.Version], [("k", False, 3), ("k", False, 3)])
        self.assertEqual([(m.Key, m.IsLatest) for m in versions.DeleteMarker], [("k", True)])
        self.assertEqual((versions.Name, versions.IsTruncated), ("history", False))
        self.assertEqual(old.Data, b"one")
        yield self.assert_fault(
            "NoSuchKey", self.soap, "GetObject", Bucket="history", Key="k", GetMetadata=False, GetData=True,
            InlineData=True,
        )  # fmt: skip

    @defer.inlineCallbacks
    def test_errors(self):
        """
        S3 errors are faults C{soapenv:Client.<Code>}: NoSuchBucket,
        BucketNotEmpty, InvalidBucketName, AccessDenied for anonymous
        ListAllMyBuckets, and MalformedXML for a request the schema refuses.
        """
        soap = self.soap
        fault = yield self.assert_fault("NoSuchBucket", soap, "ListBucket", Bucket="missing-bucket")
        self.assertEqual(fault.message, "The specified bucket does not exist.")
        yield in_thread(soap.call, "CreateBucket", Bucket="full-bucket")
        yield in_thread(soap.call, "PutObjectInline", Bucket="full-bucket", Key="k", Data=b"x", ContentLength=1)
        yield self.assert_fault("BucketNotEmpty", soap, "DeleteBucket", Bucket="full-bucket")
        yield self.assert_fault("InvalidBucketName", soap, "CreateBucket", Bucket="Bad_Name")
        yield self.assert_fault("IncompleteBody", soap, "PutObjectInline", Bucket="full-bucket", Key="k", Data=b"x", ContentLength=2)
        anonymous = yield self.client(None)
        yield self.assert_fault("AccessDenied", anonymous, "ListAllMyBuckets")
        status, _, body = yield self.raw(
            "POST", "/soap", {"Content-Type": "text/xml"},
            b'<e:Envelope xmlns:e="%s"><e:Body><ListBucket xmlns="%s"/></e:Body></e:Envelope>'
            % (SOAP_ENV.encode(), S3_NAMESPACE.encode()),
        )  # fmt: skip
        self.assertEqual(status, 500)
        self.assertEqual(etree.fromstring(body).findtext(".//faultcode"), "soapenv:Client.MalformedXML")

    @defer.inlineCallbacks
    def test_inline_limit(self):
        """
        PutObjectInline refuses more than 1 MiB of data with
        InlineDataTooLargeError; the object is not stored.
        """
        yield in_thread(self.soap.call, "CreateBucket", Bucket="big")
        data = b"x" * (MAX_INLINE_DATA + 1)
        yield self.assert_fault(
            "InlineDataTooLargeError", self.soap, "PutObjectInline", Bucket="big", Key="k", Data=data,
            ContentLength=len(data),
        )  # fmt: skip
        listing = yield in_thread(self.soap.call, "ListBucket", Bucket="big")
        self.assertEqual(listing.Contents, [])


class S3SoapAuthenticationTests(_SoapTestCase):
    """
    The S3 SOAP signature: wrong, skewed, unknown key, someone else's
    object.
    """

    def test_wrong_signature(self):
        """
        A signature made with another secret is SignatureDoesNotMatch.
        """
        self.soap.secret = "not-the-secret"
        return self.assert_fault("SignatureDoesNotMatch", self.soap, "ListAllMyBuckets")

    @defer.inlineCallbacks
    def test_skewed_timestamp(self):
        """
        A timestamp 20 minutes away is RequestTimeTooSkewed; 10 minutes is
        accepted.
        """
        self.soap.skew = 10 * 60
        yield in_thread(self.soap.call, "ListAllMyBuckets")
        self.soap.skew = -20 * 60
        yield self.assert_fault("RequestTimeTooSkewed", self.soap, "ListAllMyBuckets")

    def test_unknown_key(self):
        """
        An access key id nobody has is InvalidAccessKeyId.
        """
        key = self.soap.key
        self.soap.key = type(key)(**{**key.__dict__, "access_key_id": "AKIDNOBODYHASTHIS00"})
        return self.assert_fault("InvalidAccessKeyId", self.soap, "ListAllMyBuckets")

    @defer.inlineCallbacks
    def test_private_object(self):
        """
        Bob cannot read, list or change alice's private object: AccessDenied.
        """
        yield in_thread(self.soap.call, "CreateBucket", Bucket="alices")
        yield in_thread(self.soap.call, "PutObjectInline", Bucket="alices", Key="secret", Data=b"s", ContentLength=1)
        bob = yield self.client("bob")
        read = {"GetMetadata": True, "GetData": True, "InlineData": True}
        yield self.assert_fault("AccessDenied", bob, "GetObject", Bucket="alices", Key="secret", **read)
        yield self.assert_fault("AccessDenied", bob, "ListBucket", Bucket="alices")
        yield self.assert_fault("AccessDenied", bob, "GetObjectAccessControlPolicy", Bucket="alices", Key="secret")
        yield self.assert_fault("AccessDenied", bob, "DeleteObject", Bucket="alices", Key="secret")


class S3SoapInteropTests(_SoapTestCase):
    """
    SOAP and REST are two faces of one store.
    """

    @defer.inlineCallbacks
    def test_soap_to_boto3(self):
        """
        An object put through SOAP, with metadata, reads back through boto3.
        """
        soap, s3 = self.soap, self.s3
        data = bytes(range(256)) * 4

        def scenario():
            soap.call("CreateBucket", Bucket="from-soap")
            soap.call(
                "PutObjectInline", Bucket="from-soap", Key="bin/data", Data=data, ContentLength=len(data),
                Metadata=[{"Name": "Content-Type", "Value": "application/x-test"}, {"Name": "Origin", "Value": "soap"}],
            )  # fmt: skip
            got = s3.get_object(Bucket="from-soap", Key="bin/data")
            return got, got["Body"].read()

        got, body = yield in_thread(scenario)
        self.assertEqual(body, data)
        self.assertEqual(got["ContentType"], "application/x-test")
        self.assertEqual(got["Metadata"], {"origin": "soap"})
        self.assertEqual(got["ETag"], '"%s"' % hashlib.md5(data).hexdigest())

    @defer.inlineCallbacks
    def test_boto3_to_soap(self):
        """
        An object put through boto3 reads back through SOAP, at the cloud
        port's path too.
        """
        s3 = self.s3
        cloud = yield in_thread(S3SoapClient, self.walrus, "alice", self.walrus.url + "/services/Walrus/soap")

        def scenario():
            s3.create_bucket(Bucket="from-rest")
            s3.put_object(Bucket="from-rest", Key="note", Body=b"via REST", Metadata={"kind": "memo"})
            return cloud.call("GetObject", Bucket="from-rest", Key="note", GetMetadata=True, GetData=True, InlineData=True)

        got = yield in_thread(scenario)
        self.assertEqual(got.Data, b"via REST")
        self.assertEqual({m.Name: m.Value for m in got.Metadata}, {"Content-Type": "binary/octet-stream", "kind": "memo"})
