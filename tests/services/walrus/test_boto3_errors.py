"""
Error answers: the S3 error document and request ids on every response,
and bad request documents answered with S3's codes (never a 500) by a
server that stays up.
"""

from lxml import etree
from twisted.internet import defer

from tests.services.walrus.harness import WalrusTestCase, in_thread, replace_body

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<VersioningConfiguration><Status>&lol3;</Status></VersioningConfiguration>"""


class RequestIdTests(WalrusTestCase):
    """
    C{x-amz-request-id} on every answer, and the error document.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="ids", ACL="public-read")
        yield in_thread(self.s3.put_object, Bucket="ids", Key="k", Body=b"v", ACL="public-read")

    @defer.inlineCallbacks
    def test_every_response(self):
        """
        Successes, errors, HEAD errors, 304s and preflights all carry a
        request id, different each time, and x-amz-id-2.
        """
        requests = [
            ("GET", "/ids/k", {}),
            ("GET", "/ids/missing", {}),
            ("HEAD", "/ids/missing", {}),
            ("GET", "/ids/k", {"If-None-Match": "*"}),
            ("GET", "/nowhere/k", {}),
            ("GET", "/", {}),
            ("PUT", "/ids/k?tagging", {}),
            ("OPTIONS", "/ids/k", {"Origin": "http://a", "Access-Control-Request-Method": "GET"}),
            ("GET", "/ids", {}),
        ]
        seen = set()
        for method, path, headers in requests:
            status, answer, _ = yield self.raw(method, path, headers)
            self.assertIn("x-amz-request-id", answer, (method, path, status))
            self.assertIn("x-amz-id-2", answer, (method, path, status))
            seen.add(answer["x-amz-request-id"])
        self.assertEqual(len(seen), len(requests))

    @defer.inlineCallbacks
    def test_error_document(self):
        """
        An error body is C{<Error>} with Code, Message, Resource and a
        RequestId equal to the header.
        """
        status, headers, body = yield self.raw("GET", "/ids/no%20such")
        root = etree.fromstring(body)
        self.assertEqual(status, 404)
        self.assertEqual(root.tag, "Error")
        self.assertEqual(root.findtext("Code"), "NoSuchKey")
        self.assertEqual(root.findtext("Message"), "The specified key does not exist.")
        self.assertEqual(root.findtext("Resource"), "/ids/no such")
        self.assertEqual(root.findtext("RequestId"), headers["x-amz-request-id"])
        self.assertEqual(headers["content-type"], "application/xml")

    @defer.inlineCallbacks
    def test_boto3_sees_request_id(self):
        """
        botocore reads the RequestId of errors and successes.
        """
        error = yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="ids", Key="nope")
        metadata = error.response["ResponseMetadata"]
        self.assertEqual(metadata["RequestId"], metadata["HTTPHeaders"]["x-amz-request-id"])
        self.assertTrue(metadata["RequestId"])
        self.assertEqual(error.response["Error"]["Message"], "The specified key does not exist.")

    @defer.inlineCallbacks
    def test_head_error_has_no_body(self):
        """
        A HEAD error has its status and headers and no body.
        """
        status, headers, body = yield self.raw("HEAD", "/ids/missing")
        self.assertEqual((status, body), (404, b""))

    @defer.inlineCallbacks
    def test_not_implemented(self):
        """
        A subresource Walrus does not offer is NotImplemented, 501.
        """
        yield self.assert_error("NotImplemented", 501, self.s3.get_bucket_tagging, Bucket="ids")
        yield self.assert_error(
            "NotImplemented", 501, self.s3.put_object_tagging, Bucket="ids", Key="k", Tagging={"TagSet": []}
        )

    @defer.inlineCallbacks
    def test_bad_utf8_key(self):
        """
        A key that is not UTF-8 is InvalidArgument, not a 500.
        """
        status, _, body = yield self.raw("GET", "/ids/%FF%FE")
        self.assertEqual((status, etree.fromstring(body).findtext("Code")), (400, "InvalidArgument"))


class MalformedDocumentTests(WalrusTestCase):
    """
    Request documents that are not what S3 expects.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="docs")
        self.addCleanup(self.check_alive)

    @defer.inlineCallbacks
    def check_alive(self):
        """
        After each bad document the server still answers.
        """
        buckets = yield in_thread(self.walrus.client("alice").list_buckets)
        self.assertEqual([b["Name"] for b in buckets["Buckets"]], ["docs"])

    def send(self, operation, body, code, status=400, **kwargs):
        """
        Call C{operation} with its body replaced by C{body}: error C{code}.
        """
        client = self.walrus.client("alice")
        replace_body(client, "".join(part.capitalize() for part in operation.split("_")), body)
        return self.assert_error(code, status, getattr(client, operation), **kwargs)

    @defer.inlineCallbacks
    def test_versioning(self):
        """
        PutBucketVersioning with broken, foreign, empty and entity-laden
        documents is MalformedXML.
        """
        kwargs = {"Bucket": "docs", "VersioningConfiguration": {"Status": "Enabled"}}
        for body in (b"<VersioningConfiguration>", b"not xml at all", b"\xff\xfe<", LAUGHS, b"<a><b></a>"):
            yield self.send("put_bucket_versioning", body, "MalformedXML", **kwargs)
        yield self.send("put_bucket_versioning", b"<Other><Status>Enabled</Status></Other>", "IllegalVersioningConfigurationException", **kwargs)

    @defer.inlineCallbacks
    def test_acl(self):
        """
        PutBucketAcl and PutObjectAcl with bad documents are
        MalformedACLError.
        """
        yield in_thread(self.s3.put_object, Bucket="docs", Key="k", Body=b"")
        policy = {"Grants": [], "Owner": {"ID": self.walrus.keys["alice"].account_id}}
        bad_grant = (
            b'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><AccessControlList><Grant>'
            b'<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Martian"><ID>x</ID></Grantee>'
            b"<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"
        )
        bad_permission = bad_grant.replace(b"Martian", b"CanonicalUser").replace(b"<Permission>READ", b"<Permission>EVERYTHING")
        for body in (b"<AccessControlPolicy>", b"<Wrong/>", LAUGHS, bad_grant, bad_permission):
            yield self.send("put_bucket_acl", body, "MalformedACLError", Bucket="docs", AccessControlPolicy=policy)
            yield self.send("put_object_acl", body, "MalformedACLError", Bucket="docs", Key="k", AccessControlPolicy=policy)

    @defer.inlineCallbacks
    def test_complete_multipart(self):
        """
        CompleteMultipartUpload with bad documents is MalformedXML, and the
        upload survives it.
        """
        upload = yield in_thread(self.s3.create_multipart_upload, Bucket="docs", Key="m")
        part = yield in_thread(self.s3.upload_part, Bucket="docs", Key="m", UploadId=upload["UploadId"], PartNumber=1, Body=b"p")
        kwargs = {"Bucket": "docs", "Key": "m", "UploadId": upload["UploadId"], "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}}
        for body in (
            b"<CompleteMultipartUpload>",
            b"<CompleteMultipartUpload/>",
            b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
            b"<Wrong/>",
            LAUGHS,
        ):
            yield self.send("complete_multipart_upload", body, "MalformedXML", **kwargs)
        yield in_thread(self.s3.complete_multipart_upload, **kwargs)

    @defer.inlineCallbacks
    def test_delete_objects(self):
        """
        DeleteObjects with bad documents is MalformedXML; with over 1000
        keys too.
        """
        kwargs = {"Bucket": "docs", "Delete": {"Objects": [{"Key": "k"}]}}
        too_many = b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>"
        for body in (b"<Delete>", b"<Delete/>", b"<Delete><Object/></Delete>", b"<Wrong/>", LAUGHS, too_many):
            yield self.send("delete_objects", body, "MalformedXML", **kwargs)

    @defer.inlineCallbacks
    def test_delete_objects_bad_md5(self):
        """
        DeleteObjects whose Content-MD5 does not match is BadDigest.
        """
        client = self.walrus.client("alice")

        def wrong_md5(request, **kwargs):
            request.headers["Content-MD5"] = "1B2M2Y8AsgTpgAmY7PhCfg=="

        client.meta.events.register("before-sign.s3.DeleteObjects", wrong_md5)
        yield self.assert_error("BadDigest", 400, client.delete_objects, Bucket="docs", Delete={"Objects": [{"Key": "k"}]})

    @defer.inlineCallbacks
    def test_cors(self):
        """
        PutBucketCors with bad documents is MalformedXML.
        """
        kwargs = {"Bucket": "docs", "CORSConfiguration": {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}}
        for body in (b"<CORSConfiguration>", b"<CORSConfiguration/>", b"<Wrong/>", LAUGHS):
            yield self.send("put_bucket_cors", body, "MalformedXML", **kwargs)

    @defer.inlineCallbacks
    def test_oversized_document(self):
        """
        A configuration document over 1 MiB is MalformedXML, whether the body
        was kept in memory or spooled (never cut short and parsed).
        """
        for count in (40000, 120000):
            body = b"<Delete>" + b"<Object><Key>k</Key></Object>" * count + b"</Delete>"
            self.assertGreater(len(body), 1 << 20)
            yield self.send("delete_objects", body, "MalformedXML", Bucket="docs", Delete={"Objects": [{"Key": "k"}]})

    @defer.inlineCallbacks
    def test_create_bucket(self):
        """
        CreateBucket with a broken configuration or a bad location is
        refused and makes no bucket.
        """
        kwargs = {"Bucket": "newer", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}
        yield self.send("create_bucket", b"<CreateBucketConfiguration>", "MalformedXML", **kwargs)
        yield self.send("create_bucket", LAUGHS, "MalformedXML", **kwargs)
        yield self.send("create_bucket", b"<Other><LocationConstraint>x</LocationConstraint></Other>", "MalformedXML", **kwargs)
        yield self.assert_error(
            "InvalidLocationConstraint",
            400,
            self.s3.create_bucket,
            Bucket="newer",
            CreateBucketConfiguration={"LocationConstraint": "Not A Region!"},
        )
