"""
Multipart uploads through boto3: the low-level calls, their errors, part
copies, and boto3's managed transfers.
"""

import hashlib
import os

from boto3.s3.transfer import TransferConfig
from twisted.internet import defer

from tests.services.walrus.harness import WalrusTestCase, in_thread

MIB = 1 << 20


def multipart_etag(*parts):
    """
    S3's ETag of an object made of C{parts}.
    """
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), len(parts))


class MultipartTestCase(WalrusTestCase):
    """
    Alice's bucket C{parts} and an upload of C{big} started in it.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="parts")
        upload = yield in_thread(self.s3.create_multipart_upload, Bucket="parts", Key="big", ContentType="video/mp4", Metadata={"m": "1"})
        self.upload_id = upload["UploadId"]

    def part(self, number, body, **kwargs):
        return in_thread(
            self.s3.upload_part, Bucket="parts", Key="big", UploadId=self.upload_id, PartNumber=number, Body=body, **kwargs
        )

    def complete(self, parts, **kwargs):
        return in_thread(
            self.s3.complete_multipart_upload,
            Bucket="parts",
            Key="big",
            UploadId=self.upload_id,
            MultipartUpload={"Parts": parts},
            **kwargs,
        )


class MultipartUploadTests(MultipartTestCase):
    """
    Create, upload parts, list, complete.
    """

    @defer.inlineCallbacks
    def test_three_parts(self):
        """
        Parts of 5 MiB, 5 MiB and 1 byte make one object whose ETag is the
        MD5 of the part digests with C{-3}, with the upload's headers.
        """
        bodies = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"!"]
        etags = []
        for number, body in enumerate(bodies, 1):
            answer = yield self.part(number, body)
            self.assertEqual(answer["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
            etags.append(answer["ETag"])
        listed = yield in_thread(self.s3.list_parts, Bucket="parts", Key="big", UploadId=self.upload_id)
        self.assertEqual([(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]], [(1, etags[0], 5 * MIB), (2, etags[1], 5 * MIB), (3, etags[2], 1)])
        self.assertEqual(listed["Initiator"]["ID"], self.walrus.keys["alice"].account_id)
        done = yield self.complete([{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)])
        self.assertEqual(done["ETag"], multipart_etag(*bodies))
        self.assertEqual((done["Bucket"], done["Key"]), ("parts", "big"))

        def read():
            got = self.s3.get_object(Bucket="parts", Key="big")
            return got, got["Body"].read()

        got, data = yield in_thread(read)
        self.assertTrue(data == b"".join(bodies))
        self.assertEqual(got["ETag"], done["ETag"])
        self.assertEqual(got["ContentLength"], 10 * MIB + 1)
        self.assertEqual((got["ContentType"], got["Metadata"]), ("video/mp4", {"m": "1"}))
        uploads = yield in_thread(self.s3.list_multipart_uploads, Bucket="parts")
        self.assertNotIn("Uploads", uploads)

        def read_part(number):
            got = self.s3.get_object(Bucket="parts", Key="big", PartNumber=number)
            return got, got["Body"].read()

        second, data = yield in_thread(read_part, 2)
        self.assertTrue(data == bodies[1])
        self.assertEqual((second["PartsCount"], second["ContentRange"]), (3, "bytes %d-%d/%d" % (5 * MIB, 10 * MIB - 1, 10 * MIB + 1)))
        head = yield in_thread(self.s3.head_object, Bucket="parts", Key="big", PartNumber=3)
        self.assertEqual((head["ContentLength"], head["PartsCount"]), (1, 3))
        yield self.assert_error("InvalidPartNumber", 416, self.s3.get_object, Bucket="parts", Key="big", PartNumber=4)
        yield self.assert_error("InvalidRequest", 400, self.s3.get_object, Bucket="parts", Key="big", PartNumber=1, Range="bytes=0-1")

    @defer.inlineCallbacks
    def test_single_small_part(self):
        """
        One part, however small, is a whole object.
        """
        answer = yield self.part(1, b"tiny")
        done = yield self.complete([{"PartNumber": 1, "ETag": answer["ETag"]}])
        self.assertEqual(done["ETag"], multipart_etag(b"tiny"))

    @defer.inlineCallbacks
    def test_part_number_of_single_put(self):
        """
        Part 1 of an object made by one PUT is all of it, as a 206 range;
        part 2 is InvalidPartNumber.
        """
        yield in_thread(self.s3.put_object, Bucket="parts", Key="single", Body=b"0123456789")
        got = yield in_thread(self.s3.get_object, Bucket="parts", Key="single", PartNumber=1)
        body = yield in_thread(got["Body"].read)
        self.assertEqual((body, got["ContentRange"], got["ResponseMetadata"]["HTTPStatusCode"]), (b"0123456789", "bytes 0-9/10", 206))
        self.assertNotIn("PartsCount", got)
        yield self.assert_error("InvalidPartNumber", 416, self.s3.get_object, Bucket="parts", Key="single", PartNumber=2)

    @defer.inlineCallbacks
    def test_conditional_complete_refused(self):
        """
        A conditional CompleteMultipartUpload (If-None-Match) is refused with
        NotImplemented rather than completed without the check.
        """
        answer = yield self.part(1, b"tiny")
        yield self.assert_fails(
            "NotImplemented", 501, self.complete([{"PartNumber": 1, "ETag": answer["ETag"]}], IfNoneMatch="*")
        )
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="parts", Key="big")

    @defer.inlineCallbacks
    def test_part_replaced(self):
        """
        Uploading a part number again replaces the part.
        """
        yield self.part(1, b"first")
        again = yield self.part(1, b"second")
        listed = yield in_thread(self.s3.list_parts, Bucket="parts", Key="big", UploadId=self.upload_id)
        self.assertEqual([(p["PartNumber"], p["ETag"]) for p in listed["Parts"]], [(1, again["ETag"])])

    @defer.inlineCallbacks
    def test_list_parts_pages(self):
        """
        ListParts pages with MaxParts and PartNumberMarker.
        """
        for number in (1, 2, 3):
            yield self.part(number, b"p%d" % number)
        first = yield in_thread(self.s3.list_parts, Bucket="parts", Key="big", UploadId=self.upload_id, MaxParts=2)
        self.assertEqual([p["PartNumber"] for p in first["Parts"]], [1, 2])
        self.assertTrue(first["IsTruncated"])
        self.assertEqual(first["NextPartNumberMarker"], 2)
        rest = yield in_thread(
            self.s3.list_parts, Bucket="parts", Key="big", UploadId=self.upload_id, PartNumberMarker=2
        )
        self.assertEqual([p["PartNumber"] for p in rest["Parts"]], [3])
        self.assertFalse(rest["IsTruncated"])

    @defer.inlineCallbacks
    def test_list_multipart_uploads(self):
        """
        Uploads in progress are listed by key, with prefix and delimiter.
        """
        second = yield in_thread(self.s3.create_multipart_upload, Bucket="parts", Key="dir/one")
        listed = yield in_thread(self.s3.list_multipart_uploads, Bucket="parts")
        rolled = yield in_thread(self.s3.list_multipart_uploads, Bucket="parts", Delimiter="/")
        self.assertEqual([(u["Key"], u["UploadId"]) for u in listed["Uploads"]], [("big", self.upload_id), ("dir/one", second["UploadId"])])
        self.assertEqual(listed["Uploads"][0]["Initiator"]["DisplayName"], "alice")
        self.assertEqual([u["Key"] for u in rolled["Uploads"]], ["big"])
        self.assertEqual([p["Prefix"] for p in rolled["CommonPrefixes"]], ["dir/"])

    @defer.inlineCallbacks
    def test_list_multipart_uploads_pages(self):
        """
        MaxUploads pages through uploads with key and upload-id markers.
        """
        for key in ("k1", "k2"):
            yield in_thread(self.s3.create_multipart_upload, Bucket="parts", Key=key)

        def walk():
            keys = []
            for page in self.s3.get_paginator("list_multipart_uploads").paginate(Bucket="parts", PaginationConfig={"PageSize": 1}):
                keys += [u["Key"] for u in page.get("Uploads", [])]
            return keys

        keys = yield in_thread(walk)
        self.assertEqual(keys, ["big", "k1", "k2"])


class MultipartErrorTests(MultipartTestCase):
    """
    What CompleteMultipartUpload and friends refuse.
    """

    @defer.inlineCallbacks
    def test_parts_out_of_order(self):
        """
        Parts listed in descending order are InvalidPartOrder.
        """
        one = yield self.part(1, b"a" * (5 * MIB))
        two = yield self.part(2, b"b")
        yield self.assert_fails(
            "InvalidPartOrder", 400, self.complete([{"PartNumber": 2, "ETag": two["ETag"]}, {"PartNumber": 1, "ETag": one["ETag"]}])
        )

    def assert_complete_error(self, code, parts):
        def call():
            return self.s3.complete_multipart_upload(
                Bucket="parts", Key="big", UploadId=self.upload_id, MultipartUpload={"Parts": parts}
            )

        return self.assert_error(code, 400, call)

    @defer.inlineCallbacks
    def test_wrong_etag(self):
        """
        A part named with another ETag is InvalidPart.
        """
        yield self.part(1, b"a")
        yield self.assert_complete_error("InvalidPart", [{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}])

    @defer.inlineCallbacks
    def test_missing_part(self):
        """
        A part never uploaded is InvalidPart.
        """
        one = yield self.part(1, b"a" * (5 * MIB))
        yield self.assert_complete_error("InvalidPart", [{"PartNumber": 1, "ETag": one["ETag"]}, {"PartNumber": 2, "ETag": one["ETag"]}])

    @defer.inlineCallbacks
    def test_small_part(self):
        """
        A part under 5 MiB that is not the last is EntityTooSmall, and the
        upload can still be completed properly.
        """
        one = yield self.part(1, b"a" * (5 * MIB - 1))
        two = yield self.part(2, b"b")
        parts = [{"PartNumber": 1, "ETag": one["ETag"]}, {"PartNumber": 2, "ETag": two["ETag"]}]
        yield self.assert_complete_error("EntityTooSmall", parts)
        done = yield self.complete(parts[1:])
        self.assertEqual(done["ETag"], multipart_etag(b"b"))

    @defer.inlineCallbacks
    def test_abort(self):
        """
        An aborted upload answers NoSuchUpload to parts, listing and
        completion, and leaves no object.
        """
        one = yield self.part(1, b"a")
        aborted = yield in_thread(self.s3.abort_multipart_upload, Bucket="parts", Key="big", UploadId=self.upload_id)
        self.assertEqual(aborted["ResponseMetadata"]["HTTPStatusCode"], 204)
        yield self.assert_error("NoSuchUpload", 404, self.s3.list_parts, Bucket="parts", Key="big", UploadId=self.upload_id)
        yield self.assert_fails("NoSuchUpload", 404, self.part(2, b"b"))
        yield self.assert_fails("NoSuchUpload", 404, self.complete([{"PartNumber": 1, "ETag": one["ETag"]}]))
        yield self.assert_error("NoSuchUpload", 404, self.s3.abort_multipart_upload, Bucket="parts", Key="big", UploadId=self.upload_id)
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="parts", Key="big")

    def test_unknown_upload(self):
        """
        An upload id never issued is NoSuchUpload.
        """
        return self.assert_error("NoSuchUpload", 404, self.s3.list_parts, Bucket="parts", Key="big", UploadId="no-such-upload")

    def test_upload_of_other_key(self):
        """
        An upload id used with another key is NoSuchUpload.
        """
        return self.assert_error("NoSuchUpload", 404, self.s3.list_parts, Bucket="parts", Key="other", UploadId=self.upload_id)

    @defer.inlineCallbacks
    def test_bad_part_numbers(self):
        """
        Part numbers outside 1..10000 are InvalidArgument.
        """
        for number in (0, 10001):
            yield self.assert_fails("InvalidArgument", 400, self.part(number, b"x"))

    @defer.inlineCallbacks
    def test_completed_once(self):
        """
        After completion the upload id is gone: NoSuchUpload.
        """
        one = yield self.part(1, b"a")
        parts = [{"PartNumber": 1, "ETag": one["ETag"]}]
        yield self.complete(parts)
        yield self.assert_fails("NoSuchUpload", 404, self.complete(parts))

    @defer.inlineCallbacks
    def test_other_account(self):
        """
        Bob cannot upload parts to, list, or abort alice's upload.
        """
        bob = self.walrus.client("bob")
        kwargs = {"Bucket": "parts", "Key": "big", "UploadId": self.upload_id}
        yield self.assert_error("AccessDenied", 403, bob.upload_part, PartNumber=1, Body=b"x", **kwargs)
        yield self.assert_error("AccessDenied", 403, bob.list_parts, **kwargs)
        yield self.assert_error("AccessDenied", 403, bob.abort_multipart_upload, **kwargs)
        yield self.assert_error("AccessDenied", 403, bob.list_multipart_uploads, Bucket="parts")


class UploadPartCopyTests(MultipartTestCase):
    """
    UploadPartCopy.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield MultipartTestCase.setUp(self)
        self.data = os.urandom(6 * MIB)
        yield in_thread(self.s3.put_object, Bucket="parts", Key="source", Body=self.data)

    def copy_part(self, number, **kwargs):
        return in_thread(
            self.s3.upload_part_copy,
            Bucket="parts",
            Key="big",
            UploadId=self.upload_id,
            PartNumber=number,
            CopySource={"Bucket": "parts", "Key": "source"},
            **kwargs,
        )

    @defer.inlineCallbacks
    def test_whole_and_ranged(self):
        """
        A whole-object part and a ranged part make an object of those bytes.
        """
        whole = yield self.copy_part(1)
        ranged = yield self.copy_part(2, CopySourceRange="bytes=100-199")
        self.assertEqual(whole["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(self.data).hexdigest())
        self.assertEqual(ranged["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(self.data[100:200]).hexdigest())
        yield self.complete([{"PartNumber": 1, "ETag": whole["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": ranged["CopyPartResult"]["ETag"]}])
        got = yield in_thread(self.s3.get_object, Bucket="parts", Key="big")
        body = yield in_thread(got["Body"].read)
        self.assertTrue(body == self.data + self.data[100:200])

    @defer.inlineCallbacks
    def test_bad_ranges(self):
        """
        A copy range not inside the source, or not of the form
        C{bytes=first-last}, is InvalidArgument (S3 does not clip it as it
        does a GET's Range).
        """
        for text in ("bytes=%d-%d" % (6 * MIB, 7 * MIB), "bytes=0-%d" % (6 * MIB), "bytes=-10", "bytes=10-", "bytes=9-3", "10-20"):
            yield self.assert_fails("InvalidArgument", 400, self.copy_part(1, CopySourceRange=text))
        last = yield self.copy_part(1, CopySourceRange="bytes=0-%d" % (6 * MIB - 1))
        self.assertEqual(last["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(self.data).hexdigest())

    def test_source_condition(self):
        """
        A failing copy-source If-Match is PreconditionFailed.
        """
        return self.assert_fails("PreconditionFailed", 412, self.copy_part(1, CopySourceIfMatch='"nope"'))

    @defer.inlineCallbacks
    def test_private_source(self):
        """
        Bob cannot copy alice's private object into his own upload.
        """
        bob = self.walrus.client("bob")
        yield in_thread(bob.create_bucket, Bucket="bobs")
        upload = yield in_thread(bob.create_multipart_upload, Bucket="bobs", Key="k")
        yield self.assert_error(
            "AccessDenied",
            403,
            bob.upload_part_copy,
            Bucket="bobs",
            Key="k",
            UploadId=upload["UploadId"],
            PartNumber=1,
            CopySource="parts/source",
        )


class TransferTests(WalrusTestCase):
    """
    boto3's managed transfers, made to go multipart.
    """

    @defer.inlineCallbacks
    def test_upload_and_download_file(self):
        """
        upload_file above the threshold goes multipart; download_file gets
        it back in ranged parts, byte for byte.
        """
        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
        data = os.urandom(11 * MIB + 7)
        source, target = self.mktemp(), self.mktemp()
        with open(source, "wb") as f:
            f.write(data)
        yield in_thread(self.s3.create_bucket, Bucket="transfers")
        yield in_thread(self.s3.upload_file, source, "transfers", "file.bin", Config=config)
        head = yield in_thread(self.s3.head_object, Bucket="transfers", Key="file.bin")
        yield in_thread(self.s3.download_file, "transfers", "file.bin", target, Config=config)
        with open(target, "rb") as f:
            self.assertTrue(f.read() == data)
        self.assertTrue(head["ETag"].endswith('-3"'), head["ETag"])
        chunks = [data[:5 * MIB], data[5 * MIB : 10 * MIB], data[10 * MIB :]]
        self.assertEqual(head["ETag"], multipart_etag(*chunks))

    @defer.inlineCallbacks
    def test_upload_fileobj(self):
        """
        upload_fileobj from an unseekable stream goes multipart.
        """

        class Stream:
            def __init__(self, data):
                self.data = data

            def read(self, size=-1):
                size = len(self.data) if size is None or size < 0 else size
                out, self.data = self.data[:size], self.data[size:]
                return out

        data = os.urandom(6 * MIB)
        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=1)
        yield in_thread(self.s3.create_bucket, Bucket="transfers")
        yield in_thread(self.s3.upload_fileobj, Stream(data), "transfers", "stream.bin", Config=config)
        got = yield in_thread(self.s3.get_object, Bucket="transfers", Key="stream.bin")
        body = yield in_thread(got["Body"].read)
        self.assertTrue(body == data)
        self.assertTrue(got["ETag"].endswith('-2"'), got["ETag"])
