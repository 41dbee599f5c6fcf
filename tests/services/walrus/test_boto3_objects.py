"""
Objects through boto3: PUT, GET and HEAD with their headers, digests,
ranges and conditions; keys; DELETE and multi-object delete; CopyObject.
"""

import base64
import datetime
import hashlib
import os

from twisted.internet import defer

from eucalyptus.services.walrus.body import MEMORY_LIMIT
from tests.services.walrus.harness import WalrusTestCase, in_thread


def md5_etag(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


class ObjectTestCase(WalrusTestCase):
    """
    Alice's bucket C{box} with C{hello} holding C{hello world}.
    """

    body = b"hello world"

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="box")
        self.put = yield in_thread(self.s3.put_object, Bucket="box", Key="hello", Body=self.body)

    def get(self, **kwargs):
        """
        GetObject in C{box}, reading the body: C{(response, body)}.
        """

        def call():
            response = self.s3.get_object(Bucket="box", **kwargs)
            return response, response["Body"].read()

        return in_thread(call)


class PutGetTests(ObjectTestCase):
    """
    PutObject, GetObject and HeadObject with content headers and metadata.
    """

    @defer.inlineCallbacks
    def test_content_headers_round_trip(self):
        """
        The six content headers and user metadata given at PUT come back on
        GET and HEAD.
        """
        expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        yield in_thread(
            self.s3.put_object,
            Bucket="box",
            Key="doc",
            Body=b"<p>hi</p>",
            ContentType="text/html; charset=utf-8",
            ContentEncoding="identity",
            ContentDisposition='attachment; filename="doc.html"',
            CacheControl="max-age=60",
            Expires=expires,
            ContentLanguage="fr",
            Metadata={"colour": "blue", "Mixed-Case": "Value With Spaces"},
        )
        got, body = yield self.get(Key="doc")
        head = yield in_thread(self.s3.head_object, Bucket="box", Key="doc")
        for response in (got, head):
            self.assertEqual(response["ContentType"], "text/html; charset=utf-8")
            self.assertEqual(response["ContentEncoding"], "identity")
            self.assertEqual(response["ContentDisposition"], 'attachment; filename="doc.html"')
            self.assertEqual(response["CacheControl"], "max-age=60")
            self.assertEqual(response["ContentLanguage"], "fr")
            self.assertEqual(response["ExpiresString"], "Wed, 02 Jan 2030 03:04:05 GMT")
            self.assertEqual(response["Metadata"], {"colour": "blue", "mixed-case": "Value With Spaces"})
            self.assertEqual(response["ContentLength"], 9)
            self.assertEqual(response["ETag"], md5_etag(b"<p>hi</p>"))
            self.assertEqual(response["AcceptRanges"], "bytes")
        self.assertEqual(body, b"<p>hi</p>")

    @defer.inlineCallbacks
    def test_default_content_type(self):
        """
        An object put without a Content-Type is C{binary/octet-stream}.
        """
        head = yield in_thread(self.s3.head_object, Bucket="box", Key="hello")
        self.assertEqual(head["ContentType"], "binary/octet-stream")

    @defer.inlineCallbacks
    def test_overwrite(self):
        """
        A second PUT replaces the body, headers and metadata.
        """
        yield in_thread(self.s3.put_object, Bucket="box", Key="hello", Body=b"x", Metadata={"a": "1"}, ContentType="text/plain")
        yield in_thread(self.s3.put_object, Bucket="box", Key="hello", Body=b"yy", Metadata={"b": "2"})
        got, body = yield self.get(Key="hello")
        self.assertEqual((body, got["Metadata"], got["ContentType"]), (b"yy", {"b": "2"}, "binary/octet-stream"))

    @defer.inlineCallbacks
    def test_last_modified(self):
        """
        Last-Modified is a whole-second time near now, the same on GET, HEAD
        and in the listing.
        """
        got, _ = yield self.get(Key="hello")
        head = yield in_thread(self.s3.head_object, Bucket="box", Key="hello")
        listing = yield in_thread(self.s3.list_objects_v2, Bucket="box")
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertEqual(got["LastModified"], head["LastModified"])
        self.assertEqual(listing["Contents"][0]["LastModified"].replace(microsecond=0), got["LastModified"])
        self.assertLess(abs((now - got["LastModified"]).total_seconds()), 3600)

    @defer.inlineCallbacks
    def test_empty_object(self):
        """
        A zero-byte object has the MD5 of nothing and reads back empty.
        """
        put = yield in_thread(self.s3.put_object, Bucket="box", Key="empty", Body=b"")
        got, body = yield self.get(Key="empty")
        head = yield in_thread(self.s3.head_object, Bucket="box", Key="empty")
        self.assertEqual(put["ETag"], md5_etag(b""))
        self.assertEqual((body, got["ContentLength"], head["ContentLength"]), (b"", 0, 0))

    @defer.inlineCallbacks
    def test_five_mebibytes(self):
        """
        A 5 MiB object (spooled, not held in memory) reads back byte for byte.
        """
        data = os.urandom(5 << 20)
        put = yield in_thread(self.s3.put_object, Bucket="box", Key="big", Body=data)
        got, body = yield self.get(Key="big")
        _, middle = yield self.get(Key="big", Range="bytes=3000000-3000099")
        self.assertEqual(put["ETag"], md5_etag(data))
        self.assertEqual(got["ContentLength"], 5 << 20)
        self.assertTrue(body == data)
        self.assertEqual(middle, data[3000000:3000100])

    @defer.inlineCallbacks
    def test_file_body(self):
        """
        A seekable file body (as boto3 users pass open files) is stored.
        """
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"from a file" * 1000)
        with open(path, "rb") as f:
            yield in_thread(self.s3.put_object, Bucket="box", Key="file", Body=f)
        _, body = yield self.get(Key="file")
        self.assertEqual(body, b"from a file" * 1000)

    @defer.inlineCallbacks
    def test_conditional_write_refused(self):
        """
        A conditional PUT (If-None-Match: *, If-Match) is refused with
        NotImplemented, not carried out without its check, and the object
        is unchanged.
        """
        yield self.assert_error("NotImplemented", 501, self.s3.put_object, Bucket="box", Key="hello", Body=b"new", IfNoneMatch="*")
        yield self.assert_error("NotImplemented", 501, self.s3.put_object, Bucket="box", Key="hello", Body=b"new", IfMatch=self.put["ETag"])
        _, body = yield self.get(Key="hello")
        self.assertEqual(body, self.body)

    def test_missing_key(self):
        """
        GET of a missing key is NoSuchKey, 404.
        """
        return self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="box", Key="nothing")

    def test_head_missing_key(self):
        """
        HEAD of a missing key is 404, with no body.
        """
        return self.assert_error("404", 404, self.s3.head_object, Bucket="box", Key="nothing")

    def test_missing_bucket(self):
        """
        PUT into a missing bucket is NoSuchBucket.
        """
        return self.assert_error("NoSuchBucket", 404, self.s3.put_object, Bucket="no-bucket", Key="k", Body=b"")

    def test_metadata_too_large(self):
        """
        User metadata over 2 KB is MetadataTooLarge, 400.
        """
        return self.assert_error(
            "MetadataTooLarge", 400, self.s3.put_object, Bucket="box", Key="k", Body=b"", Metadata={"big": "x" * 2100}
        )


class DigestTests(ObjectTestCase):
    """
    Content-MD5 and the flexible checksums of a PUT.
    """

    @defer.inlineCallbacks
    def test_correct_md5(self):
        """
        A matching Content-MD5 is accepted.
        """
        put = yield in_thread(self.s3.put_object, Bucket="box", Key="k", Body=b"abc", ContentMD5=b64md5(b"abc"))
        self.assertEqual(put["ETag"], md5_etag(b"abc"))

    @defer.inlineCallbacks
    def test_wrong_md5(self):
        """
        A well-formed Content-MD5 of other bytes is BadDigest, 400, and
        nothing is stored.
        """
        yield self.assert_error(
            "BadDigest", 400, self.s3.put_object, Bucket="box", Key="k", Body=b"abc", ContentMD5=b64md5(b"abd")
        )
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="box", Key="k")

    @defer.inlineCallbacks
    def test_wrong_md5_large(self):
        """
        BadDigest for a body large enough to be spooled, and the old version
        stays.
        """
        data = b"z" * (MEMORY_LIMIT + 1)
        yield self.assert_error(
            "BadDigest", 400, self.s3.put_object, Bucket="box", Key="hello", Body=data, ContentMD5=b64md5(b"abd")
        )
        _, body = yield self.get(Key="hello")
        self.assertEqual(body, self.body)

    @defer.inlineCallbacks
    def test_malformed_md5(self):
        """
        A Content-MD5 that is not base64 of 16 bytes is InvalidDigest, 400.
        """
        for bad in ("not base64!", base64.b64encode(b"short").decode()):
            yield self.assert_error(
                "InvalidDigest", 400, self.s3.put_object, Bucket="box", Key="k", Body=b"abc", ContentMD5=bad
            )

    @defer.inlineCallbacks
    def test_checksums(self):
        """
        Each flexible checksum algorithm botocore computes without awscrt is
        accepted, and the stored bytes are the body.
        """
        for algorithm in ("CRC32", "SHA1", "SHA256"):
            yield in_thread(self.s3.put_object, Bucket="box", Key=algorithm, Body=b"summed", ChecksumAlgorithm=algorithm)
            _, body = yield self.get(Key=algorithm)
            self.assertEqual(body, b"summed")

    @defer.inlineCallbacks
    def test_wrong_checksum(self):
        """
        An C{x-amz-checksum-sha256} that does not match the body is
        BadDigest, 400, and nothing is stored.
        """
        wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        yield self.assert_error(
            "BadDigest", 400, self.s3.put_object, Bucket="box", Key="k", Body=b"abc", ChecksumSHA256=wrong
        )
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="box", Key="k")

    @defer.inlineCallbacks
    def test_checksum_large_body(self):
        """
        The checksum of a body large enough to be spooled is checked as it
        arrives: right is stored (and echoed), wrong is BadDigest.
        """
        data = os.urandom(MEMORY_LIMIT + 1)
        put = yield in_thread(self.s3.put_object, Bucket="box", Key="big", Body=data, ChecksumAlgorithm="SHA1")
        self.assertEqual(put["ChecksumSHA1"], base64.b64encode(hashlib.sha1(data).digest()).decode())
        yield self.assert_error(
            "BadDigest", 400, self.s3.put_object, Bucket="box", Key="big", Body=b"x" + data, ChecksumCRC32="AAAAAA=="
        )
        _, body = yield self.get(Key="big")
        self.assertTrue(body == data)

    @defer.inlineCallbacks
    def test_wrong_crc32(self):
        """
        A wrong C{x-amz-checksum-crc32} is BadDigest, 400.
        """
        yield self.assert_error(
            "BadDigest", 400, self.s3.put_object, Bucket="box", Key="k", Body=b"abc", ChecksumCRC32="AAAAAA=="
        )


class RangeTests(ObjectTestCase):
    """
    GetObject with a Range.
    """

    @defer.inlineCallbacks
    def test_forms(self):
        """
        C{a-b}, C{a-}, C{-n} and an end past the object answer 206 with the
        bytes and Content-Range S3 gives.
        """
        cases = {
            "bytes=0-4": (b"hello", "bytes 0-4/11"),
            "bytes=6-": (b"world", "bytes 6-10/11"),
            "bytes=-3": (b"rld", "bytes 8-10/11"),
            "bytes=4-100": (b"o world", "bytes 4-10/11"),
            "bytes=-100": (self.body, "bytes 0-10/11"),
            "bytes=10-10": (b"d", "bytes 10-10/11"),
        }
        for text, (expected, content_range) in cases.items():
            got, body = yield self.get(Key="hello", Range=text)
            self.assertEqual(
                (body, got["ContentRange"], got["ContentLength"], got["ResponseMetadata"]["HTTPStatusCode"]),
                (expected, content_range, len(expected), 206),
                text,
            )

    @defer.inlineCallbacks
    def test_unsatisfiable(self):
        """
        A range starting past the end is InvalidRange, 416.
        """
        for text in ("bytes=11-", "bytes=100-200", "bytes=-0"):
            yield self.assert_error("InvalidRange", 416, self.s3.get_object, Bucket="box", Key="hello", Range=text)

    @defer.inlineCallbacks
    def test_ignored(self):
        """
        Ranges S3 ignores (reversed, not bytes, several) give the whole
        object with 200.
        """
        for text in ("bytes=5-2", "lines=1-2", "bytes=0-1,3-4", "bytes=x-y"):
            got, body = yield self.get(Key="hello", Range=text)
            self.assertEqual((body, got["ResponseMetadata"]["HTTPStatusCode"]), (self.body, 200), text)

    @defer.inlineCallbacks
    def test_head(self):
        """
        HEAD with a Range answers 206 with the range's length.
        """
        head = yield in_thread(self.s3.head_object, Bucket="box", Key="hello", Range="bytes=0-1")
        self.assertEqual((head["ContentLength"], head["ContentRange"]), (2, "bytes 0-1/11"))


class ConditionalTests(ObjectTestCase):
    """
    If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since.
    """

    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)

    @defer.inlineCallbacks
    def test_if_match(self):
        """
        If-Match with the ETag (quoted or not, or C{*}) reads; another is
        PreconditionFailed, 412.
        """
        etag = self.put["ETag"]
        for value in (etag, etag.strip('"'), "*", '"other", ' + etag):
            _, body = yield self.get(Key="hello", IfMatch=value)
            self.assertEqual(body, self.body)
        yield self.assert_error("PreconditionFailed", 412, self.s3.get_object, Bucket="box", Key="hello", IfMatch='"nope"')
        yield self.assert_error("412", 412, self.s3.head_object, Bucket="box", Key="hello", IfMatch='"nope"')

    @defer.inlineCallbacks
    def test_if_none_match(self):
        """
        If-None-Match with the ETag is 304 Not Modified; another reads.
        """
        yield self.assert_error("304", 304, self.s3.get_object, Bucket="box", Key="hello", IfNoneMatch=self.put["ETag"])
        yield self.assert_error("304", 304, self.s3.head_object, Bucket="box", Key="hello", IfNoneMatch=self.put["ETag"])
        _, body = yield self.get(Key="hello", IfNoneMatch='"other"')
        self.assertEqual(body, self.body)

    @defer.inlineCallbacks
    def test_if_modified_since(self):
        """
        If-Modified-Since in the future is 304; in the past reads.
        """
        yield self.assert_error("304", 304, self.s3.get_object, Bucket="box", Key="hello", IfModifiedSince=self.future)
        _, body = yield self.get(Key="hello", IfModifiedSince=self.past)
        self.assertEqual(body, self.body)

    @defer.inlineCallbacks
    def test_if_unmodified_since(self):
        """
        If-Unmodified-Since in the past is PreconditionFailed; in the future
        reads.
        """
        yield self.assert_error(
            "PreconditionFailed", 412, self.s3.get_object, Bucket="box", Key="hello", IfUnmodifiedSince=self.past
        )
        _, body = yield self.get(Key="hello", IfUnmodifiedSince=self.future)
        self.assertEqual(body, self.body)

    @defer.inlineCallbacks
    def test_combinations(self):
        """
        If-Match true wins over If-Unmodified-Since false (200); If-None-Match
        false with If-Modified-Since true is 304.
        """
        _, body = yield self.get(Key="hello", IfMatch=self.put["ETag"], IfUnmodifiedSince=self.past)
        self.assertEqual(body, self.body)
        yield self.assert_error(
            "304", 304, self.s3.get_object, Bucket="box", Key="hello", IfNoneMatch=self.put["ETag"], IfModifiedSince=self.past
        )

    @defer.inlineCallbacks
    def test_not_modified_headers(self):
        """
        A 304 carries the ETag and a request id and no body.
        """
        status, headers, body = yield self.signed_raw("GET", "/box/hello", {"If-None-Match": self.put["ETag"]})
        self.assertEqual((status, body), (304, b""))
        self.assertEqual(headers["etag"], self.put["ETag"])
        self.assertIn("x-amz-request-id", headers)

    def signed_raw(self, method, path, headers):
        """
        A request through a presigned URL with extra headers.
        """
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": "box", "Key": "hello"})
        return self.raw(method, url[len(self.walrus.url) :], headers)


class ResponseOverrideTests(ObjectTestCase):
    """
    The C{response-*} query parameters of GetObject.
    """

    @defer.inlineCallbacks
    def test_overrides(self):
        """
        Each override replaces its header in the response only.
        """
        got, _ = yield self.get(
            Key="hello",
            ResponseContentType="text/csv",
            ResponseContentLanguage="de",
            ResponseExpires=datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc),
            ResponseCacheControl="no-cache",
            ResponseContentDisposition="inline",
            ResponseContentEncoding="identity",
        )
        self.assertEqual(got["ContentType"], "text/csv")
        self.assertEqual(got["ContentLanguage"], "de")
        self.assertEqual(got["ExpiresString"], "Wed, 01 Jan 2031 00:00:00 GMT")
        self.assertEqual(got["CacheControl"], "no-cache")
        self.assertEqual(got["ContentDisposition"], "inline")
        self.assertEqual(got["ContentEncoding"], "identity")
        plain, _ = yield self.get(Key="hello")
        self.assertEqual(plain["ContentType"], "binary/octet-stream")

    @defer.inlineCallbacks
    def test_anonymous(self):
        """
        Anonymous callers cannot override response headers: InvalidRequest.
        """
        yield in_thread(self.s3.put_object_acl, Bucket="box", Key="hello", ACL="public-read")
        yield self.assert_error(
            "InvalidRequest", 400, self.walrus.client(None).get_object, Bucket="box", Key="hello", ResponseContentType="a/b"
        )


SPECIAL_KEYS = (
    "a b",
    "plus+sign",
    "per%cent",
    "per%2Fcent",
    "../up",
    "a//b",
    "/leading",
    "trailing/",
    "q?mark=1&x",
    "hash#tag",
    "tilde~star*",
    "ünïcødé/日本",
    "ctrl\x01char",
    "tab\tand\nnewline",
    "quote\"'<&>",
    "semi;colon,comma",
    ".",
    "..",
    "emoji-\U0001f600",
)


class KeyTests(ObjectTestCase):
    """
    Keys with characters that need care, and key length.
    """

    @defer.inlineCallbacks
    def test_special_keys(self):
        """
        Each key is stored, read back, and listed exactly as written.
        """
        for key in SPECIAL_KEYS:
            yield in_thread(self.s3.put_object, Bucket="box", Key=key, Body=key.encode("utf-8"))
        for key in SPECIAL_KEYS:
            _, body = yield self.get(Key=key)
            self.assertEqual(body, key.encode("utf-8"), key)
        listing = yield in_thread(self.s3.list_objects, Bucket="box")
        v2 = yield in_thread(self.s3.list_objects_v2, Bucket="box")
        expected = sorted(SPECIAL_KEYS + ("hello",), key=lambda k: k.encode("utf-8"))
        self.assertEqual([c["Key"] for c in listing["Contents"]], expected)
        self.assertEqual([c["Key"] for c in v2["Contents"]], expected)

    @defer.inlineCallbacks
    def test_longest_key(self):
        """
        A key of 1024 UTF-8 bytes is accepted.
        """
        key = "é" * 512
        yield in_thread(self.s3.put_object, Bucket="box", Key=key, Body=b"long")
        _, body = yield self.get(Key=key)
        self.assertEqual(body, b"long")

    @defer.inlineCallbacks
    def test_key_too_long(self):
        """
        A key of 1025 bytes is KeyTooLongError, 400, for PUT, GET and
        multipart.
        """
        key = "k" * 1025
        yield self.assert_error("KeyTooLongError", 400, self.s3.put_object, Bucket="box", Key=key, Body=b"")
        yield self.assert_error("KeyTooLongError", 400, self.s3.get_object, Bucket="box", Key=key)
        yield self.assert_error("KeyTooLongError", 400, self.s3.create_multipart_upload, Bucket="box", Key="é" * 513)


class DeleteTests(ObjectTestCase):
    """
    DeleteObject and DeleteObjects.
    """

    @defer.inlineCallbacks
    def test_delete(self):
        """
        DELETE answers 204 and the key is gone.
        """
        deleted = yield in_thread(self.s3.delete_object, Bucket="box", Key="hello")
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 204)
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="box", Key="hello")

    @defer.inlineCallbacks
    def test_delete_missing(self):
        """
        Deleting a missing key is also 204.
        """
        deleted = yield in_thread(self.s3.delete_object, Bucket="box", Key="never-was")
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 204)

    def test_delete_missing_bucket(self):
        """
        Deleting in a missing bucket is NoSuchBucket.
        """
        return self.assert_error("NoSuchBucket", 404, self.s3.delete_object, Bucket="no-bucket", Key="k")

    @defer.inlineCallbacks
    def test_delete_objects(self):
        """
        DeleteObjects reports every key, present or not, as Deleted.
        """
        yield in_thread(self.s3.put_object, Bucket="box", Key="two", Body=b"2")
        result = yield in_thread(
            self.s3.delete_objects,
            Bucket="box",
            Delete={"Objects": [{"Key": "hello"}, {"Key": "two"}, {"Key": "missing"}]},
        )
        self.assertEqual(sorted(d["Key"] for d in result["Deleted"]), ["hello", "missing", "two"])
        self.assertNotIn("Errors", result)
        listing = yield in_thread(self.s3.list_objects_v2, Bucket="box")
        self.assertEqual(listing["KeyCount"], 0)

    def test_delete_objects_missing_bucket(self):
        """
        DeleteObjects in a missing bucket fails as a whole with NoSuchBucket.
        """
        return self.assert_error("NoSuchBucket", 404, self.s3.delete_objects, Bucket="no-bucket", Delete={"Objects": [{"Key": "k"}]})

    @defer.inlineCallbacks
    def test_delete_objects_quiet(self):
        """
        Quiet DeleteObjects reports nothing when all succeed.
        """
        result = yield in_thread(
            self.s3.delete_objects, Bucket="box", Delete={"Objects": [{"Key": "hello"}, {"Key": "missing"}], "Quiet": True}
        )
        self.assertNotIn("Deleted", result)
        self.assertNotIn("Errors", result)
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="box", Key="hello")

    @defer.inlineCallbacks
    def test_delete_objects_special_keys(self):
        """
        Keys with XML-special characters, carriage returns and newlines are
        deleted by DeleteObjects (botocore escapes them in the document).
        """
        keys = ["a&b<c>", "quote\"'", "new\nline", "car\rriage", "ünï"]
        for key in keys:
            yield in_thread(self.s3.put_object, Bucket="box", Key=key, Body=b"")
        result = yield in_thread(self.s3.delete_objects, Bucket="box", Delete={"Objects": [{"Key": k} for k in keys]})
        self.assertEqual(sorted(d["Key"] for d in result["Deleted"]), sorted(keys))
        listing = yield in_thread(self.s3.list_objects_v2, Bucket="box")
        self.assertEqual([c["Key"] for c in listing["Contents"]], ["hello"])

    @defer.inlineCallbacks
    def test_delete_objects_denied(self):
        """
        Bob's DeleteObjects in alice's bucket answers 200 with an
        AccessDenied error for each key, as S3 does, and deletes nothing.
        """
        bob = self.walrus.client("bob")
        result = yield in_thread(bob.delete_objects, Bucket="box", Delete={"Objects": [{"Key": "hello"}, {"Key": "x"}]})
        self.assertEqual(sorted((e["Key"], e["Code"]) for e in result["Errors"]), [("hello", "AccessDenied"), ("x", "AccessDenied")])
        self.assertNotIn("Deleted", result)
        _, body = yield self.get(Key="hello")
        self.assertEqual(body, self.body)


class CopyTests(ObjectTestCase):
    """
    CopyObject.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield ObjectTestCase.setUp(self)
        self.source = yield in_thread(
            self.s3.put_object,
            Bucket="box",
            Key="src",
            Body=b"copy me",
            ContentType="text/plain",
            CacheControl="no-store",
            Metadata={"origin": "src"},
        )

    @defer.inlineCallbacks
    def test_copy_keeps_metadata(self):
        """
        The default directive COPY keeps content headers and metadata, and
        the result names the same ETag.
        """
        result = yield in_thread(self.s3.copy_object, Bucket="box", Key="dst", CopySource={"Bucket": "box", "Key": "src"})
        got, body = yield self.get(Key="dst")
        self.assertEqual(result["CopyObjectResult"]["ETag"], md5_etag(b"copy me"))
        self.assertEqual(body, b"copy me")
        self.assertEqual((got["ContentType"], got["CacheControl"], got["Metadata"]), ("text/plain", "no-store", {"origin": "src"}))

    @defer.inlineCallbacks
    def test_copy_replace(self):
        """
        REPLACE takes the headers and metadata of the copy request.
        """
        yield in_thread(
            self.s3.copy_object,
            Bucket="box",
            Key="dst",
            CopySource="box/src",
            MetadataDirective="REPLACE",
            Metadata={"new": "yes"},
            ContentType="application/json",
        )
        got, body = yield self.get(Key="dst")
        self.assertEqual(body, b"copy me")
        self.assertEqual(got["Metadata"], {"new": "yes"})
        self.assertEqual(got["ContentType"], "application/json")
        self.assertNotIn("CacheControl", got)

    def test_copy_onto_itself(self):
        """
        Copying an object onto itself without REPLACE is InvalidRequest.
        """
        return self.assert_error(
            "InvalidRequest", 400, self.s3.copy_object, Bucket="box", Key="src", CopySource={"Bucket": "box", "Key": "src"}
        )

    @defer.inlineCallbacks
    def test_copy_onto_itself_replace(self):
        """
        With REPLACE, copying onto itself changes the metadata in place.
        """
        yield in_thread(
            self.s3.copy_object, Bucket="box", Key="src", CopySource="box/src", MetadataDirective="REPLACE", Metadata={"v": "2"}
        )
        got, body = yield self.get(Key="src")
        self.assertEqual((body, got["Metadata"]), (b"copy me", {"v": "2"}))

    @defer.inlineCallbacks
    def test_copy_source_conditions(self):
        """
        A failing x-amz-copy-source-if-match (or if-none-match, or dates) is
        PreconditionFailed, 412; a holding one copies.
        """
        copy = self.s3.copy_object
        yield self.assert_error("PreconditionFailed", 412, copy, Bucket="box", Key="dst", CopySource="box/src", CopySourceIfMatch='"nope"')
        yield self.assert_error(
            "PreconditionFailed", 412, copy, Bucket="box", Key="dst", CopySource="box/src", CopySourceIfNoneMatch=self.source["ETag"]
        )
        yield self.assert_error(
            "PreconditionFailed",
            412,
            copy,
            Bucket="box",
            Key="dst",
            CopySource="box/src",
            CopySourceIfModifiedSince=datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc),
        )
        yield self.assert_error(
            "PreconditionFailed",
            412,
            copy,
            Bucket="box",
            Key="dst",
            CopySource="box/src",
            CopySourceIfUnmodifiedSince=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
        )
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="box", Key="dst")
        yield in_thread(copy, Bucket="box", Key="dst", CopySource="box/src", CopySourceIfMatch=self.source["ETag"])

    @defer.inlineCallbacks
    def test_copy_across_buckets(self):
        """
        An object copies into another bucket of the same account.
        """
        yield in_thread(self.s3.create_bucket, Bucket="other")
        yield in_thread(self.s3.copy_object, Bucket="other", Key="there", CopySource={"Bucket": "box", "Key": "src"})
        got = yield in_thread(self.s3.get_object, Bucket="other", Key="there")
        body = yield in_thread(got["Body"].read)
        self.assertEqual(body, b"copy me")

    @defer.inlineCallbacks
    def test_copy_special_key(self):
        """
        A source key with spaces, C{+}, C{%} and non-ASCII copies.
        """
        key = "dir one/a+b%20ü?.txt"
        yield in_thread(self.s3.put_object, Bucket="box", Key=key, Body=b"odd")
        yield in_thread(self.s3.copy_object, Bucket="box", Key=key + ".copy", CopySource={"Bucket": "box", "Key": key})
        _, body = yield self.get(Key=key + ".copy")
        self.assertEqual(body, b"odd")

    @defer.inlineCallbacks
    def test_copy_from_private_object(self):
        """
        Bob copying alice's private object into his own bucket is
        AccessDenied, 403.
        """
        bob = self.walrus.client("bob")
        yield in_thread(bob.create_bucket, Bucket="bobs")
        yield self.assert_error("AccessDenied", 403, bob.copy_object, Bucket="bobs", Key="stolen", CopySource="box/src")

    @defer.inlineCallbacks
    def test_copy_into_foreign_bucket(self):
        """
        Alice copying into bob's private bucket is AccessDenied.
        """
        bob = self.walrus.client("bob")
        yield in_thread(bob.create_bucket, Bucket="bobs")
        yield self.assert_error("AccessDenied", 403, self.s3.copy_object, Bucket="bobs", Key="pushed", CopySource="box/src")

    @defer.inlineCallbacks
    def test_copy_missing_source(self):
        """
        A missing source is NoSuchKey; a missing source bucket NoSuchBucket.
        """
        yield self.assert_error("NoSuchKey", 404, self.s3.copy_object, Bucket="box", Key="dst", CopySource="box/none")
        yield self.assert_error("NoSuchBucket", 404, self.s3.copy_object, Bucket="box", Key="dst", CopySource="nobucket/none")

    @defer.inlineCallbacks
    def test_copy_acl(self):
        """
        A copy gets the ACL of the copy request (private by default), not the
        source's.
        """
        yield in_thread(self.s3.put_object_acl, Bucket="box", Key="src", ACL="public-read")
        yield in_thread(self.s3.copy_object, Bucket="box", Key="dst", CopySource="box/src")
        yield in_thread(self.s3.copy_object, Bucket="box", Key="pub", CopySource="box/src", ACL="public-read")
        anonymous = self.walrus.client(None)
        yield self.assert_error("AccessDenied", 403, anonymous.get_object, Bucket="box", Key="dst")
        yield in_thread(anonymous.get_object, Bucket="box", Key="pub")
