"""
Walrus through boto3, the way users reach it: a live daemon-like site on
loopback, real signatures, real store.  This module covers buckets; objects,
listings, multipart uploads, versioning, ACLs, CORS, errors and
authentication have their own C{test_boto3_*} modules, and
C{test_properties} checks keys, metadata and paging with Hypothesis.
"""

import hashlib

from twisted.internet import defer

from tests.services.walrus.harness import WalrusTestCase, in_thread, replace_body


class Boto3BasicsTests(WalrusTestCase):
    """
    Buckets and objects through boto3.
    """

    @defer.inlineCallbacks
    def test_bucket_object_round_trip(self):
        """
        A bucket made, an object put with metadata, read back whole and by
        range, listed, deleted.
        """
        s3 = self.s3

        def scenario():
            s3.create_bucket(Bucket="photos")
            put = s3.put_object(Bucket="photos", Key="a b/c%d.txt", Body=b"hello world", Metadata={"colour": "blue"}, ContentType="text/plain")
            got = s3.get_object(Bucket="photos", Key="a b/c%d.txt")
            ranged = s3.get_object(Bucket="photos", Key="a b/c%d.txt", Range="bytes=6-")
            listing = s3.list_objects_v2(Bucket="photos", Delimiter="/")
            names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
            s3.delete_object(Bucket="photos", Key="a b/c%d.txt")
            after = s3.list_objects(Bucket="photos")
            return put, got, got["Body"].read(), ranged["Body"].read(), listing, names, after

        put, got, body, tail, listing, names, after = yield in_thread(scenario)
        self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(b"hello world").hexdigest())
        self.assertEqual(body, b"hello world")
        self.assertEqual(got["Metadata"], {"colour": "blue"})
        self.assertEqual(got["ContentType"], "text/plain")
        self.assertEqual(tail, b"world")
        self.assertEqual([p["Prefix"] for p in listing["CommonPrefixes"]], ["a b/"])
        self.assertEqual(names, ["photos"])
        self.assertNotIn("Contents", after)

    def test_missing_bucket(self):
        """
        A missing bucket is NoSuchBucket, 404.
        """
        return self.assert_error("NoSuchBucket", 404, self.s3.list_objects, Bucket="nothing-here")


class CreateBucketTests(WalrusTestCase):
    """
    CreateBucket, its location constraint, and the names S3 refuses.
    """

    @defer.inlineCallbacks
    def test_without_configuration(self):
        """
        A bucket made without a configuration is in the default region:
        GetBucketLocation answers an empty LocationConstraint.
        """
        made = yield in_thread(self.s3.create_bucket, Bucket="plain")
        location = yield in_thread(self.s3.get_bucket_location, Bucket="plain")
        self.assertEqual(made["Location"], "/plain")
        self.assertIsNone(location["LocationConstraint"])

    @defer.inlineCallbacks
    def test_location_constraint(self):
        """
        The LocationConstraint of CreateBucketConfiguration is what
        GetBucketLocation answers, and HeadBucket names it.
        """
        yield in_thread(
            self.s3.create_bucket, Bucket="placed", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        location = yield in_thread(self.s3.get_bucket_location, Bucket="placed")
        head = yield in_thread(self.s3.head_bucket, Bucket="placed")
        self.assertEqual(location["LocationConstraint"], "eu-west-1")
        self.assertEqual(head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"], "eu-west-1")

    @defer.inlineCallbacks
    def test_already_owned_by_you(self):
        """
        Creating one's own bucket again is BucketAlreadyOwnedByYou, 409.
        """
        yield in_thread(self.s3.create_bucket, Bucket="mine")
        yield self.assert_error("BucketAlreadyOwnedByYou", 409, self.s3.create_bucket, Bucket="mine")

    @defer.inlineCallbacks
    def test_already_exists(self):
        """
        Creating another account's bucket is BucketAlreadyExists, 409, and
        leaves the bucket with its owner.
        """
        yield in_thread(self.s3.create_bucket, Bucket="taken")
        yield self.assert_error("BucketAlreadyExists", 409, self.walrus.client("bob").create_bucket, Bucket="taken")
        yield in_thread(self.s3.head_bucket, Bucket="taken")

    @defer.inlineCallbacks
    def test_invalid_names(self):
        """
        Too short, too long, upper case, IP-address-like, C{..}, and a
        leading or trailing dash are InvalidBucketName, 400.
        """
        for name in ("ab", "x" * 64, "UpperCase", "192.168.1.1", "a..b", "-dash", "dash-", "a.-b"):
            yield self.assert_error("InvalidBucketName", 400, self.s3.create_bucket, Bucket=name)
        buckets = yield in_thread(self.s3.list_buckets)
        self.assertEqual(buckets["Buckets"], [])

    @defer.inlineCallbacks
    def test_valid_edge_names(self):
        """
        Three and 63 characters, dots and dashes inside, are accepted.
        """
        for name in ("abc", "x" * 63, "a.b-c.d", "1.2.3.4x"):
            yield in_thread(self.s3.create_bucket, Bucket=name)
        buckets = yield in_thread(self.s3.list_buckets)
        self.assertEqual(sorted(b["Name"] for b in buckets["Buckets"]), sorted(["abc", "x" * 63, "a.b-c.d", "1.2.3.4x"]))

    def test_malformed_configuration(self):
        """
        A CreateBucketConfiguration that is not XML is MalformedXML.
        """
        s3 = self.s3

        def send():
            replace_body(s3, "CreateBucket", b"<CreateBucketConfiguration>")
            s3.create_bucket(Bucket="broken", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

        return self.assert_error("MalformedXML", 400, send)

    def test_anonymous(self):
        """
        An anonymous caller cannot create a bucket: AccessDenied, 403.
        """
        return self.assert_error("AccessDenied", 403, self.walrus.client(None).create_bucket, Bucket="nobody")


class HeadBucketTests(WalrusTestCase):
    """
    HeadBucket: 200, 404, 403.
    """

    @defer.inlineCallbacks
    def test_exists(self):
        """
        One's own bucket answers 200.
        """
        yield in_thread(self.s3.create_bucket, Bucket="here")
        head = yield in_thread(self.s3.head_bucket, Bucket="here")
        self.assertEqual(head["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_missing(self):
        """
        A missing bucket is 404 (botocore names it by the status: HEAD has no
        body).
        """
        return self.assert_error("404", 404, self.s3.head_bucket, Bucket="gone-bucket")

    @defer.inlineCallbacks
    def test_other_accounts_private_bucket(self):
        """
        Another account's private bucket is 403 to bob and to anonymous.
        """
        yield in_thread(self.s3.create_bucket, Bucket="private-one")
        yield self.assert_error("403", 403, self.walrus.client("bob").head_bucket, Bucket="private-one")
        yield self.assert_error("403", 403, self.walrus.client(None).head_bucket, Bucket="private-one")

    @defer.inlineCallbacks
    def test_public_read_bucket(self):
        """
        A public-read bucket answers 200 to anyone.
        """
        yield in_thread(self.s3.create_bucket, Bucket="open-one", ACL="public-read")
        head = yield in_thread(self.walrus.client(None).head_bucket, Bucket="open-one")
        self.assertEqual(head["ResponseMetadata"]["HTTPStatusCode"], 200)


class DeleteBucketTests(WalrusTestCase):
    """
    DeleteBucket.
    """

    @defer.inlineCallbacks
    def test_empty(self):
        """
        An empty bucket is deleted with 204 and is then gone.
        """
        yield in_thread(self.s3.create_bucket, Bucket="short-lived")
        deleted = yield in_thread(self.s3.delete_bucket, Bucket="short-lived")
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 204)
        yield self.assert_error("404", 404, self.s3.head_bucket, Bucket="short-lived")
        yield self.assert_error("NoSuchBucket", 404, self.s3.delete_bucket, Bucket="short-lived")

    @defer.inlineCallbacks
    def test_not_empty(self):
        """
        A bucket with an object is BucketNotEmpty, 409, and stays.
        """
        yield in_thread(self.s3.create_bucket, Bucket="full")
        yield in_thread(self.s3.put_object, Bucket="full", Key="k", Body=b"x")
        yield self.assert_error("BucketNotEmpty", 409, self.s3.delete_bucket, Bucket="full")
        yield in_thread(self.s3.head_bucket, Bucket="full")

    @defer.inlineCallbacks
    def test_not_empty_with_versions(self):
        """
        A versioned bucket whose only object is behind a delete marker is
        still not empty.
        """
        yield in_thread(self.s3.create_bucket, Bucket="layered")
        yield in_thread(self.s3.put_bucket_versioning, Bucket="layered", VersioningConfiguration={"Status": "Enabled"})
        yield in_thread(self.s3.put_object, Bucket="layered", Key="k", Body=b"x")
        yield in_thread(self.s3.delete_object, Bucket="layered", Key="k")
        yield self.assert_error("BucketNotEmpty", 409, self.s3.delete_bucket, Bucket="layered")

    @defer.inlineCallbacks
    def test_other_account(self):
        """
        Bob cannot delete alice's bucket, even an empty one: AccessDenied.
        """
        yield in_thread(self.s3.create_bucket, Bucket="alices", ACL="public-read-write")
        yield self.assert_error("AccessDenied", 403, self.walrus.client("bob").delete_bucket, Bucket="alices")


class ListBucketsTests(WalrusTestCase):
    """
    ListBuckets.
    """

    @defer.inlineCallbacks
    def test_only_callers(self):
        """
        Each account sees only its own buckets, in name order, with itself as
        the owner.
        """
        bob = self.walrus.client("bob")
        for name in ("zeta", "alpha"):
            yield in_thread(self.s3.create_bucket, Bucket=name)
        yield in_thread(bob.create_bucket, Bucket="bobs")
        mine = yield in_thread(self.s3.list_buckets)
        theirs = yield in_thread(bob.list_buckets)
        self.assertEqual([b["Name"] for b in mine["Buckets"]], ["alpha", "zeta"])
        self.assertEqual([b["Name"] for b in theirs["Buckets"]], ["bobs"])
        self.assertEqual(mine["Owner"]["ID"], self.walrus.keys["alice"].account_id)
        self.assertEqual(mine["Owner"]["DisplayName"], "alice")
        self.assertNotEqual(mine["Owner"]["ID"], theirs["Owner"]["ID"])

    def test_anonymous(self):
        """
        Anonymous callers cannot list buckets.
        """
        return self.assert_error("AccessDenied", 403, self.walrus.client(None).list_buckets)
