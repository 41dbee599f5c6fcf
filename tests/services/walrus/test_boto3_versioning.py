"""
Bucket versioning through boto3: versions, delete markers, suspension.
"""

from twisted.internet import defer

from tests.services.walrus.harness import WalrusTestCase, in_thread


class VersioningTestCase(WalrusTestCase):
    """
    Alice's bucket C{history}, versioning enabled.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="history")
        yield self.set_status("Enabled")

    def set_status(self, status):
        return in_thread(self.s3.put_bucket_versioning, Bucket="history", VersioningConfiguration={"Status": status})

    def put(self, key, body):
        return in_thread(self.s3.put_object, Bucket="history", Key=key, Body=body)

    def read(self, key, **kwargs):
        def call():
            got = self.s3.get_object(Bucket="history", Key=key, **kwargs)
            return got, got["Body"].read()

        return in_thread(call)

    def versions(self, **kwargs):
        return in_thread(self.s3.list_object_versions, Bucket="history", **kwargs)


class VersioningStatusTests(WalrusTestCase):
    """
    GetBucketVersioning and PutBucketVersioning.
    """

    @defer.inlineCallbacks
    def test_status(self):
        """
        A new bucket has no Status; Enabled and Suspended are reported back.
        """
        yield in_thread(self.s3.create_bucket, Bucket="status")
        never = yield in_thread(self.s3.get_bucket_versioning, Bucket="status")
        self.assertNotIn("Status", never)
        for status in ("Enabled", "Suspended", "Enabled"):
            yield in_thread(self.s3.put_bucket_versioning, Bucket="status", VersioningConfiguration={"Status": status})
            now = yield in_thread(self.s3.get_bucket_versioning, Bucket="status")
            self.assertEqual(now["Status"], status)

    @defer.inlineCallbacks
    def test_other_account(self):
        """
        Only the owner reads or changes versioning.
        """
        yield in_thread(self.s3.create_bucket, Bucket="status", ACL="public-read-write")
        bob = self.walrus.client("bob")
        yield self.assert_error("AccessDenied", 403, bob.get_bucket_versioning, Bucket="status")
        yield self.assert_error(
            "AccessDenied", 403, bob.put_bucket_versioning, Bucket="status", VersioningConfiguration={"Status": "Enabled"}
        )

    @defer.inlineCallbacks
    def test_bad_status(self):
        """
        A status other than Enabled or Suspended is
        IllegalVersioningConfigurationException.
        """
        yield in_thread(self.s3.create_bucket, Bucket="status")
        yield self.assert_error(
            "IllegalVersioningConfigurationException",
            400,
            self.s3.put_bucket_versioning,
            Bucket="status",
            VersioningConfiguration={"Status": "Disabled"},
        )


class VersionsTests(VersioningTestCase):
    """
    Versions of one key.
    """

    @defer.inlineCallbacks
    def test_two_puts(self):
        """
        Two PUTs make two versions; the newest is read by default, each by
        its id, and both are listed newest first.
        """
        first = yield self.put("k", b"one")
        second = yield self.put("k", b"two")
        self.assertNotEqual(first["VersionId"], second["VersionId"])
        latest, body = yield self.read("k")
        self.assertEqual((body, latest["VersionId"]), (b"two", second["VersionId"]))
        old, body = yield self.read("k", VersionId=first["VersionId"])
        self.assertEqual((body, old["VersionId"]), (b"one", first["VersionId"]))
        head = yield in_thread(self.s3.head_object, Bucket="history", Key="k", VersionId=first["VersionId"])
        self.assertEqual(head["ContentLength"], 3)
        listing = yield self.versions()
        self.assertEqual(
            [(v["Key"], v["VersionId"], v["IsLatest"], v["Size"]) for v in listing["Versions"]],
            [("k", second["VersionId"], True, 3), ("k", first["VersionId"], False, 3)],
        )
        self.assertNotIn("DeleteMarkers", listing)

    @defer.inlineCallbacks
    def test_delete_marker(self):
        """
        DELETE without a version id adds a delete marker: GET is NoSuchKey,
        HEAD 404, the old version still readable by id, and deleting the
        marker restores the object.
        """
        first = yield self.put("k", b"one")
        deleted = yield in_thread(self.s3.delete_object, Bucket="history", Key="k")
        self.assertTrue(deleted["DeleteMarker"])
        marker = deleted["VersionId"]
        error = yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="history", Key="k")
        self.assertEqual(error.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker"), "true")
        self.assertEqual(error.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-version-id"), marker)
        self.assertNotIn("delete_marker", error.response["Error"])
        error = yield self.assert_error("404", 404, self.s3.head_object, Bucket="history", Key="k")
        self.assertEqual(error.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker"), "true")
        _, body = yield self.read("k", VersionId=first["VersionId"])
        self.assertEqual(body, b"one")
        listing = yield self.versions()
        self.assertEqual([(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]], [(marker, True)])
        self.assertEqual([(v["VersionId"], v["IsLatest"]) for v in listing["Versions"]], [(first["VersionId"], False)])
        objects = yield in_thread(self.s3.list_objects_v2, Bucket="history")
        self.assertEqual(objects["KeyCount"], 0)
        removed = yield in_thread(self.s3.delete_object, Bucket="history", Key="k", VersionId=marker)
        self.assertTrue(removed["DeleteMarker"])
        self.assertEqual(removed["VersionId"], marker)
        _, body = yield self.read("k")
        self.assertEqual(body, b"one")

    @defer.inlineCallbacks
    def test_get_delete_marker_by_id(self):
        """
        GET of a delete marker by its id is MethodNotAllowed, 405, naming
        the marker in x-amz-delete-marker and x-amz-version-id.
        """
        yield self.put("k", b"one")
        deleted = yield in_thread(self.s3.delete_object, Bucket="history", Key="k")
        error = yield self.assert_error(
            "MethodNotAllowed", 405, self.s3.get_object, Bucket="history", Key="k", VersionId=deleted["VersionId"]
        )
        headers = error.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual((headers.get("x-amz-delete-marker"), headers.get("x-amz-version-id")), ("true", deleted["VersionId"]))
        self.assertEqual(error.response["Error"].get("ResourceType"), "DeleteMarker")

    @defer.inlineCallbacks
    def test_delete_version(self):
        """
        Deleting a specific version removes it for good and the previous one
        becomes current.
        """
        first = yield self.put("k", b"one")
        second = yield self.put("k", b"two")
        removed = yield in_thread(self.s3.delete_object, Bucket="history", Key="k", VersionId=second["VersionId"])
        self.assertEqual(removed["VersionId"], second["VersionId"])
        self.assertNotIn("DeleteMarker", removed)
        _, body = yield self.read("k")
        self.assertEqual(body, b"one")
        yield self.assert_error("NoSuchVersion", 404, self.s3.get_object, Bucket="history", Key="k", VersionId=second["VersionId"])
        listing = yield self.versions()
        self.assertEqual([v["VersionId"] for v in listing["Versions"]], [first["VersionId"]])

    @defer.inlineCallbacks
    def test_version_of_another_key(self):
        """
        The version id of another key is NoSuchVersion, 404.
        """
        yield self.put("k", b"one")
        other = yield self.put("j", b"two")
        yield self.assert_error("NoSuchVersion", 404, self.s3.get_object, Bucket="history", Key="k", VersionId=other["VersionId"])

    @defer.inlineCallbacks
    def test_delete_objects_versions(self):
        """
        DeleteObjects with version ids deletes those versions and reports
        them; without, it reports the delete marker made.
        """
        first = yield self.put("k", b"one")
        yield self.put("k", b"two")
        yield self.put("j", b"j")
        result = yield in_thread(
            self.s3.delete_objects,
            Bucket="history",
            Delete={"Objects": [{"Key": "k", "VersionId": first["VersionId"]}, {"Key": "j"}]},
        )
        deleted = {d["Key"]: d for d in result["Deleted"]}
        self.assertEqual(deleted["k"]["VersionId"], first["VersionId"])
        self.assertTrue(deleted["j"]["DeleteMarker"])
        self.assertIn("DeleteMarkerVersionId", deleted["j"])
        listing = yield self.versions(Prefix="k")
        self.assertEqual(len(listing["Versions"]), 1)

    @defer.inlineCallbacks
    def test_copy_version(self):
        """
        CopyObject of an old version copies that version and names it.
        """
        first = yield self.put("k", b"one")
        yield self.put("k", b"two")
        copied = yield in_thread(
            self.s3.copy_object, Bucket="history", Key="c", CopySource={"Bucket": "history", "Key": "k", "VersionId": first["VersionId"]}
        )
        self.assertEqual(copied["CopySourceVersionId"], first["VersionId"])
        self.assertIn("VersionId", copied)
        _, body = yield self.read("c")
        self.assertEqual(body, b"one")


    @defer.inlineCallbacks
    def test_restore_by_copy(self):
        """
        Copying an old version onto its own key (no REPLACE) restores it as
        a new current version, as S3 documents.
        """
        first = yield self.put("k", b"one")
        yield self.put("k", b"two")
        restored = yield in_thread(
            self.s3.copy_object, Bucket="history", Key="k", CopySource={"Bucket": "history", "Key": "k", "VersionId": first["VersionId"]}
        )
        _, body = yield self.read("k")
        self.assertEqual(body, b"one")
        listing = yield self.versions()
        self.assertEqual(len(listing["Versions"]), 3)
        self.assertEqual(listing["Versions"][0]["VersionId"], restored["VersionId"])

    @defer.inlineCallbacks
    def test_special_keys(self):
        """
        Versions of keys with spaces, C{+}, C{%} and control characters are
        listed exactly (boto3 asks for encoding-type=url).
        """
        keys = ["a b", "c+d", "e%20f", "g\x01h", "ü/日"]
        for key in keys:
            yield self.put(key, b"x")
        listing = yield self.versions()
        self.assertEqual([v["Key"] for v in listing["Versions"]], sorted(keys, key=lambda k: k.encode("utf-8")))
        page = yield self.versions(MaxKeys=2)
        self.assertEqual(page["NextKeyMarker"], "c+d")
        rest = yield self.versions(KeyMarker=page["NextKeyMarker"])
        self.assertEqual([v["Key"] for v in rest["Versions"]], ["e%20f", "g\x01h", "ü/日"])


class SuspendedTests(VersioningTestCase):
    """
    Suspended versioning: the null version.
    """

    @defer.inlineCallbacks
    def test_null_version_replaced(self):
        """
        While suspended, PUTs replace the null version and keep the versions
        made while enabled.
        """
        kept = yield self.put("k", b"kept")
        yield self.set_status("Suspended")
        first = yield self.put("k", b"null one")
        second = yield self.put("k", b"null two")
        self.assertNotIn("VersionId", first)
        self.assertNotIn("VersionId", second)
        listing = yield self.versions()
        self.assertEqual(
            [(v["VersionId"], v["IsLatest"], v["Size"]) for v in listing["Versions"]],
            [("null", True, 8), (kept["VersionId"], False, 4)],
        )
        _, body = yield self.read("k", VersionId="null")
        self.assertEqual(body, b"null two")

    @defer.inlineCallbacks
    def test_unversioned_objects_are_null(self):
        """
        Objects made before versioning was ever enabled are the null
        version afterwards.
        """
        yield in_thread(self.s3.create_bucket, Bucket="late")
        yield in_thread(self.s3.put_object, Bucket="late", Key="k", Body=b"old")
        yield in_thread(self.s3.put_bucket_versioning, Bucket="late", VersioningConfiguration={"Status": "Enabled"})
        new = yield in_thread(self.s3.put_object, Bucket="late", Key="k", Body=b"new")
        listing = yield in_thread(self.s3.list_object_versions, Bucket="late")
        self.assertEqual([v["VersionId"] for v in listing["Versions"]], [new["VersionId"], "null"])

    @defer.inlineCallbacks
    def test_suspended_delete(self):
        """
        DELETE while suspended makes a null delete marker in place of the
        null version.
        """
        kept = yield self.put("k", b"kept")
        yield self.set_status("Suspended")
        yield self.put("k", b"null")
        deleted = yield in_thread(self.s3.delete_object, Bucket="history", Key="k")
        self.assertTrue(deleted["DeleteMarker"])
        listing = yield self.versions()
        self.assertEqual([m["VersionId"] for m in listing["DeleteMarkers"]], ["null"])
        self.assertEqual([v["VersionId"] for v in listing["Versions"]], [kept["VersionId"]])


class VersionListingTests(VersioningTestCase):
    """
    ListObjectVersions paging.
    """

    @defer.inlineCallbacks
    def test_pages(self):
        """
        The paginator with one entry per page lists every version and
        marker once, in order.
        """
        ids = []
        for key, body in (("a", b"1"), ("a", b"2"), ("b", b"1"), ("c/x", b"1")):
            put = yield self.put(key, body)
            ids.append((key, put["VersionId"]))
        yield in_thread(self.s3.delete_object, Bucket="history", Key="b")

        def walk():
            seen = []
            for page in self.s3.get_paginator("list_object_versions").paginate(Bucket="history", PaginationConfig={"PageSize": 1}):
                entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
                seen += [(e["Key"], e["VersionId"]) for e in entries]
            return seen

        seen = yield in_thread(walk)
        whole = yield self.versions()
        everything = [(e["Key"], e["VersionId"]) for e in whole["Versions"] + whole["DeleteMarkers"]]
        self.assertEqual(sorted(seen), sorted(everything))
        self.assertEqual(len(seen), 5)
        self.assertEqual(len(set(seen)), 5)

    @defer.inlineCallbacks
    def test_prefix_delimiter(self):
        """
        Prefix and delimiter work as for ListObjects.
        """
        for key in ("a", "d/1", "d/2"):
            yield self.put(key, b"x")
        listing = yield self.versions(Delimiter="/")
        self.assertEqual([v["Key"] for v in listing["Versions"]], ["a"])
        self.assertEqual([p["Prefix"] for p in listing["CommonPrefixes"]], ["d/"])
