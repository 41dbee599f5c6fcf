"""
Authentication through boto3 and plain HTTP: presigned URLs (SigV4 and
SigV2), bad keys and signatures, the C{/services/Walrus} path, virtual-host
addressing, and the aws-chunked bodies botocore streams.
"""

import base64
import datetime
import hashlib
import os
import urllib.error
import urllib.request
import zlib

import boto3
import botocore.auth
from botocore.config import Config
from twisted.internet import defer

from eucalyptus.services.walrus.body import MEMORY_LIMIT
from tests.services.walrus.harness import WalrusTestCase, in_thread


def fetch(url, method="GET", data=None, headers=None):
    """
    A blocking urllib request: C{(status, headers, body)}, errors included.
    """
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def code_of(body):
    """
    The Code of an S3 error document.
    """
    from lxml import etree

    return etree.fromstring(body).findtext("Code")


class PresignedTests(WalrusTestCase):
    """
    Presigned URLs used by a client that knows nothing of S3.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="shared")
        yield in_thread(self.s3.put_object, Bucket="shared", Key="report 1.txt", Body=b"quarterly")

    def signer(self, version):
        return self.walrus.client("alice", signature_version=version)

    @defer.inlineCallbacks
    def test_get(self):
        """
        A presigned GET works with SigV4 and SigV2, and the URL carries the
        signature in its query.
        """
        for version, marker in (("s3v4", "X-Amz-Signature="), ("s3", "Signature=")):
            url = self.signer(version).generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report 1.txt"}, ExpiresIn=300)
            self.assertIn(marker, url)
            status, headers, body = yield in_thread(fetch, url)
            self.assertEqual((status, body), (200, b"quarterly"), version)
            self.assertIn("x-amz-request-id", headers)

    @defer.inlineCallbacks
    def test_get_with_overrides(self):
        """
        Signed response-* overrides (a download link naming the file) and
        subresources (C{?acl}) work with SigV4 and SigV2.
        """
        for version in ("s3v4", "s3"):
            signer = self.signer(version)
            params = {"Bucket": "shared", "Key": "report 1.txt", "ResponseContentDisposition": 'attachment; filename="r 1.txt"', "ResponseContentType": "text/plain"}
            url = signer.generate_presigned_url("get_object", Params=params)
            status, headers, body = yield in_thread(fetch, url)
            self.assertEqual((status, body), (200, b"quarterly"), version)
            self.assertEqual(headers["content-disposition"], 'attachment; filename="r 1.txt"')
            self.assertEqual(headers["content-type"], "text/plain")
            url = signer.generate_presigned_url("get_object_acl", Params={"Bucket": "shared", "Key": "report 1.txt"})
            status, _, body = yield in_thread(fetch, url)
            self.assertEqual(status, 200, (version, body))
            self.assertIn(b"AccessControlPolicy", body)

    @defer.inlineCallbacks
    def test_put(self):
        """
        A presigned PUT stores the body sent with urllib, with SigV4 and
        SigV2 (which signs the Content-Type, so urllib's default one is
        signed too).
        """
        for version in ("s3v4", "s3"):
            key = f"upload-{version}"
            params = {"Bucket": "shared", "Key": key, "ContentType": "application/x-www-form-urlencoded"}
            url = self.signer(version).generate_presigned_url("put_object", Params=params, ExpiresIn=300)
            status, headers, body = yield in_thread(fetch, url, "PUT", b"sent by a browser")
            self.assertEqual(status, 200, (version, body))
            self.assertEqual(headers["etag"], '"%s"' % hashlib.md5(b"sent by a browser").hexdigest())
            got = yield in_thread(self.s3.get_object, Bucket="shared", Key=key)
            body = yield in_thread(got["Body"].read)
            self.assertEqual(body, b"sent by a browser")

    @defer.inlineCallbacks
    def test_put_with_signed_content_type(self):
        """
        A presigned PUT that signed a Content-Type needs that Content-Type.
        """
        url = self.signer("s3v4").generate_presigned_url(
            "put_object", Params={"Bucket": "shared", "Key": "typed", "ContentType": "text/csv"}, ExpiresIn=300
        )
        status, _, _ = yield in_thread(fetch, url, "PUT", b"a,b", {"Content-Type": "text/csv"})
        self.assertEqual(status, 200)
        head = yield in_thread(self.s3.head_object, Bucket="shared", Key="typed")
        self.assertEqual(head["ContentType"], "text/csv")

    @defer.inlineCallbacks
    def test_v2_signs_content_type(self):
        """
        A SigV2 presigned PUT sent with another Content-Type than it signed
        is SignatureDoesNotMatch.
        """
        url = self.signer("s3").generate_presigned_url("put_object", Params={"Bucket": "shared", "Key": "k"}, ExpiresIn=300)
        status, _, body = yield in_thread(fetch, url, "PUT", b"x", {"Content-Type": "text/plain"})
        self.assertEqual((status, code_of(body)), (403, "SignatureDoesNotMatch"))

    @defer.inlineCallbacks
    def test_expired_v4(self):
        """
        A SigV4 URL signed two hours ago for one hour is AccessDenied.
        """
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
        self.patch(botocore.auth, "get_current_datetime", lambda: past)
        url = self.signer("s3v4").generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report 1.txt"}, ExpiresIn=3600)
        status, _, body = yield in_thread(fetch, url)
        self.assertEqual((status, code_of(body)), (403, "AccessDenied"))

    @defer.inlineCallbacks
    def test_expired_v2(self):
        """
        A SigV2 URL whose Expires has passed is AccessDenied.
        """
        self.patch(botocore.auth.HmacV1QueryAuth, "_get_date", lambda signer: str(int(datetime.datetime.now().timestamp()) - 60))
        url = self.signer("s3").generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report 1.txt"})
        status, _, body = yield in_thread(fetch, url)
        self.assertEqual((status, code_of(body)), (403, "AccessDenied"))

    @defer.inlineCallbacks
    def test_tampered(self):
        """
        A presigned URL used for another key is SignatureDoesNotMatch.
        """
        url = self.signer("s3v4").generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report 1.txt"})
        status, _, body = yield in_thread(fetch, url.replace("report%201.txt", "other"))
        self.assertEqual((status, code_of(body)), (403, "SignatureDoesNotMatch"))

    @defer.inlineCallbacks
    def test_presigned_by_bob(self):
        """
        A URL presigned by bob carries bob's rights, not alice's.
        """
        url = self.walrus.client("bob").generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report 1.txt"})
        status, _, body = yield in_thread(fetch, url)
        self.assertEqual((status, code_of(body)), (403, "AccessDenied"))


class CredentialTests(WalrusTestCase):
    """
    Wrong keys and clocks.
    """

    def client_with(self, key_id, secret, version="s3v4"):
        return boto3.client(
            "s3",
            endpoint_url=self.walrus.url,
            region_name="us-east-1",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=Config(signature_version=version, retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    @defer.inlineCallbacks
    def test_wrong_secret(self):
        """
        The right key id with a wrong secret is SignatureDoesNotMatch, 403,
        for SigV4 and SigV2.
        """
        key = self.walrus.keys["alice"]
        for version in ("s3v4", "s3"):
            client = self.client_with(key.access_key_id, "x" * 40, version)
            error = yield self.assert_error("SignatureDoesNotMatch", 403, client.list_buckets)
            self.assertIn("StringToSign", error.response["Error"])

    @defer.inlineCallbacks
    def test_unknown_key(self):
        """
        A key id nobody has is InvalidAccessKeyId, 403.
        """
        for version in ("s3v4", "s3"):
            client = self.client_with("AKIDOESNOTEXIST00000", "x" * 40, version)
            yield self.assert_error("InvalidAccessKeyId", 403, client.list_buckets)

    def test_skewed_clock(self):
        """
        A request signed an hour ago is RequestTimeTooSkewed.
        """
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        self.patch(botocore.auth, "get_current_datetime", lambda: past)
        return self.assert_error("RequestTimeTooSkewed", 403, self.s3.list_buckets)


class EndpointTests(WalrusTestCase):
    """
    The C{/services/Walrus} path and virtual-host addressing.
    """

    @defer.inlineCallbacks
    def test_services_walrus_path(self):
        """
        Below C{/services/Walrus}, SigV4 and SigV2 clients make buckets, put,
        list, copy, read and delete, and multipart uploads complete.
        """
        for version in ("s3v4", "s3"):
            client = self.walrus.client("alice", endpoint=self.walrus.url + "/services/Walrus", signature_version=version)
            bucket = f"cloud-{version}"

            def scenario():
                client.create_bucket(Bucket=bucket)
                client.put_object(Bucket=bucket, Key="dir/a b+c", Body=b"via cloud port", Metadata={"k": "v"})
                client.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "dir/a b+c"})
                upload = client.create_multipart_upload(Bucket=bucket, Key="mp")
                part = client.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"p")
                client.complete_multipart_upload(
                    Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
                )
                keys = [c["Key"] for c in client.list_objects_v2(Bucket=bucket)["Contents"]]
                got = client.get_object(Bucket=bucket, Key="dir/a b+c")
                body = got["Body"].read()
                acl = client.get_bucket_acl(Bucket=bucket)
                client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
                client.delete_bucket(Bucket=bucket)
                return keys, body, got["Metadata"], acl

            keys, body, metadata, acl = yield in_thread(scenario)
            self.assertEqual(keys, ["copy", "dir/a b+c", "mp"], version)
            self.assertEqual((body, metadata), (b"via cloud port", {"k": "v"}))
            self.assertEqual(acl["Owner"]["DisplayName"], "alice")
        buckets = yield in_thread(self.s3.list_buckets)
        self.assertEqual(buckets["Buckets"], [])

    @defer.inlineCallbacks
    def test_same_store(self):
        """
        What is put below C{/services/Walrus} is read at C{/}.
        """
        cloud = self.walrus.client("alice", endpoint=self.walrus.url + "/services/Walrus")
        yield in_thread(cloud.create_bucket, Bucket="both")
        yield in_thread(cloud.put_object, Bucket="both", Key="k", Body=b"one store")
        got = yield in_thread(self.s3.get_object, Bucket="both", Key="k")
        body = yield in_thread(got["Body"].read)
        self.assertEqual(body, b"one store")

    @defer.inlineCallbacks
    def test_virtual_host(self):
        """
        C{<bucket>.localhost} addressing, signed with SigV4 and SigV2.
        """
        port = self.walrus.port.getHost().port
        yield in_thread(self.s3.create_bucket, Bucket="vhost")
        for version in ("s3v4", "s3"):
            client = self.walrus.client(
                "alice", endpoint=f"http://localhost:{port}", signature_version=version, s3={"addressing_style": "virtual"}
            )
            client.meta.events.register("before-send.s3", _to_loopback)

            def scenario():
                client.put_object(Bucket="vhost", Key="a/b c", Body=b"virtual")
                listing = client.list_objects_v2(Bucket="vhost")
                return client.get_object(Bucket="vhost", Key="a/b c")["Body"].read(), listing

            body, listing = yield in_thread(scenario)
            self.assertEqual(body, b"virtual")
            self.assertEqual([c["Key"] for c in listing["Contents"]], ["a/b c"])


def _to_loopback(request, **kwargs):
    """
    Send a request for C{<bucket>.localhost} to 127.0.0.1, keeping its Host
    (no resolver is needed for virtual-host names).
    """
    scheme, _, rest = request.url.partition("://")
    host, _, path = rest.partition("/")
    request.headers["Host"] = host
    request.url = f"{scheme}://127.0.0.1:{host.rpartition(':')[2]}/{path}"


def _trailer_checksums(params, context, **kwargs):
    """
    Make botocore send its checksum as an aws-chunked trailer, as it does
    over HTTPS (over plain HTTP it sends a header instead).
    """
    algorithm = context.get("checksum", {}).get("request_algorithm")
    if isinstance(algorithm, dict):
        algorithm["in"] = "trailer"


class AwsChunkedTests(WalrusTestCase):
    """
    aws-chunked bodies with trailing checksums
    (C{STREAMING-UNSIGNED-PAYLOAD-TRAILER}), as botocore sends them over
    HTTPS.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="chunks")
        self.s3.meta.events.register("before-call.s3", _trailer_checksums)
        self.sent = []
        self.s3.meta.events.register("before-send.s3", self._record)

    def _record(self, request, **kwargs):
        self.sent.append(dict(request.headers))

    @defer.inlineCallbacks
    def test_put_object(self):
        """
        A chunked PutObject with a CRC32 trailer is stored as sent, small
        and spooled.
        """
        for size in (11, MEMORY_LIMIT + 1):
            data = os.urandom(size)
            put = yield in_thread(self.s3.put_object, Bucket="chunks", Key="k", Body=data)
            self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(data).hexdigest())
            got = yield in_thread(self.s3.get_object, Bucket="chunks", Key="k")
            body = yield in_thread(got["Body"].read)
            self.assertTrue(body == data)
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in self.sent[0].items()}
        self.assertEqual(headers["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        self.assertEqual(headers["x-amz-trailer"], "x-amz-checksum-crc32")
        self.assertEqual(headers["content-encoding"], "aws-chunked")

    @defer.inlineCallbacks
    def test_content_encoding_kept(self):
        """
        A Content-Encoding besides aws-chunked is kept; aws-chunked is not.
        """
        yield in_thread(self.s3.put_object, Bucket="chunks", Key="z", Body=b"zipped?", ContentEncoding="gzip")
        head = yield in_thread(self.s3.head_object, Bucket="chunks", Key="z")
        self.assertEqual(head["ContentEncoding"], "gzip")

    @defer.inlineCallbacks
    def test_upload_part(self):
        """
        Chunked parts make a multipart object.
        """
        upload = yield in_thread(self.s3.create_multipart_upload, Bucket="chunks", Key="m")
        part = yield in_thread(
            self.s3.upload_part, Bucket="chunks", Key="m", UploadId=upload["UploadId"], PartNumber=1, Body=b"chunked part", ChecksumAlgorithm="SHA256"
        )
        yield in_thread(
            self.s3.complete_multipart_upload,
            Bucket="chunks",
            Key="m",
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        got = yield in_thread(self.s3.get_object, Bucket="chunks", Key="m")
        body = yield in_thread(got["Body"].read)
        self.assertEqual(body, b"chunked part")

    @defer.inlineCallbacks
    def test_wrong_trailer(self):
        """
        A trailer checksum that does not match the data is BadDigest, and
        nothing is stored.
        """

        def corrupt(request, **kwargs):
            data = b"the real data"
            wrong = base64.b64encode(zlib.crc32(b"other data").to_bytes(4, "big"))
            request.body = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(data), data, wrong)

        self.s3.meta.events.register("before-send.s3.PutObject", corrupt)
        yield self.assert_error("BadDigest", 400, self.s3.put_object, Bucket="chunks", Key="bad", Body=b"the real data")
        self.s3.meta.events.unregister("before-send.s3.PutObject", corrupt)
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="chunks", Key="bad")

    @defer.inlineCallbacks
    def test_missing_trailer(self):
        """
        A trailer announced but not sent is InvalidRequest, and nothing is
        stored.
        """

        def drop_trailer(request, **kwargs):
            request.body = b"5\r\nhello\r\n0\r\n\r\n"

        self.s3.meta.events.register("before-send.s3.PutObject", drop_trailer)
        yield self.assert_error("InvalidRequest", 400, self.s3.put_object, Bucket="chunks", Key="bad", Body=b"hello")
        self.s3.meta.events.unregister("before-send.s3.PutObject", drop_trailer)
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="chunks", Key="bad")
