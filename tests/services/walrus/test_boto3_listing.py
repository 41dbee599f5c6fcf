"""
ListObjects (v1 and v2) through boto3: prefixes, delimiters, markers,
continuation tokens, page sizes and paginators.
"""

from twisted.internet import defer

from tests.services.walrus.harness import WalrusTestCase, in_thread

KEYS = ("a", "b/1", "b/2", "b/3", "c/x/1", "c/x/2", "c/y", "d", "e")


class ListingTestCase(WalrusTestCase):
    """
    Alice's bucket C{list} holding L{KEYS}.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="list")

        def fill():
            for key in KEYS:
                self.s3.put_object(Bucket="list", Key=key, Body=key.encode())

        yield in_thread(fill)

    def v1(self, **kwargs):
        return in_thread(self.s3.list_objects, Bucket="list", **kwargs)

    def v2(self, **kwargs):
        return in_thread(self.s3.list_objects_v2, Bucket="list", **kwargs)


def keys_of(page):
    return [c["Key"] for c in page.get("Contents", [])]


def prefixes_of(page):
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


class ListObjectsV1Tests(ListingTestCase):
    """
    ListObjects, version 1.
    """

    @defer.inlineCallbacks
    def test_all(self):
        """
        Every key in byte order with size, ETag, owner and storage class.
        """
        page = yield self.v1()
        self.assertEqual(keys_of(page), list(KEYS))
        self.assertFalse(page["IsTruncated"])
        self.assertEqual(page["MaxKeys"], 1000)
        self.assertEqual(page["Name"], "list")
        first = page["Contents"][0]
        self.assertEqual((first["Size"], first["StorageClass"]), (1, "STANDARD"))
        self.assertEqual(first["Owner"]["ID"], self.walrus.keys["alice"].account_id)

    @defer.inlineCallbacks
    def test_prefix_and_delimiter(self):
        """
        A delimiter rolls keys up into common prefixes; a prefix narrows.
        """
        top = yield self.v1(Delimiter="/")
        inner = yield self.v1(Delimiter="/", Prefix="c/")
        prefix_only = yield self.v1(Prefix="b/")
        self.assertEqual((keys_of(top), prefixes_of(top)), (["a", "d", "e"], ["b/", "c/"]))
        self.assertEqual((keys_of(inner), prefixes_of(inner)), (["c/y"], ["c/x/"]))
        self.assertEqual(inner["Prefix"], "c/")
        self.assertEqual(inner["Delimiter"], "/")
        self.assertEqual(keys_of(prefix_only), ["b/1", "b/2", "b/3"])

    @defer.inlineCallbacks
    def test_marker(self):
        """
        Keys after the marker, the marker itself excluded.
        """
        page = yield self.v1(Marker="c/x/1")
        self.assertEqual(keys_of(page), ["c/x/2", "c/y", "d", "e"])
        self.assertEqual(page["Marker"], "c/x/1")

    @defer.inlineCallbacks
    def test_max_keys(self):
        """
        A truncated page without a delimiter has no NextMarker; the last key
        is the next marker.
        """
        page = yield self.v1(MaxKeys=3)
        self.assertEqual(keys_of(page), ["a", "b/1", "b/2"])
        self.assertTrue(page["IsTruncated"])
        self.assertNotIn("NextMarker", page)
        rest = yield self.v1(Marker="b/2")
        self.assertEqual(keys_of(rest), list(KEYS[3:]))

    @defer.inlineCallbacks
    def test_common_prefixes_counted_once(self):
        """
        A common prefix counts once toward MaxKeys and is not repeated on
        the next page (NextMarker is the prefix).
        """
        page = yield self.v1(Delimiter="/", MaxKeys=2)
        self.assertEqual((keys_of(page), prefixes_of(page)), (["a"], ["b/"]))
        self.assertTrue(page["IsTruncated"])
        self.assertEqual(page["NextMarker"], "b/")
        following = yield self.v1(Delimiter="/", MaxKeys=2, Marker=page["NextMarker"])
        self.assertEqual((keys_of(following), prefixes_of(following)), (["d"], ["c/"]))
        self.assertEqual(following["NextMarker"], "d")
        last = yield self.v1(Delimiter="/", MaxKeys=2, Marker=following["NextMarker"])
        self.assertEqual((keys_of(last), prefixes_of(last)), (["e"], []))
        self.assertFalse(last["IsTruncated"])

    @defer.inlineCallbacks
    def test_max_keys_zero(self):
        """
        MaxKeys 0 lists nothing.
        """
        page = yield self.v1(MaxKeys=0)
        self.assertEqual((keys_of(page), page["MaxKeys"]), ([], 0))

    @defer.inlineCallbacks
    def test_paginator(self):
        """
        boto3's paginator with one key per page walks the whole listing once,
        with and without a delimiter.
        """

        def walk(**kwargs):
            keys, prefixes = [], []
            for page in self.s3.get_paginator("list_objects").paginate(Bucket="list", PaginationConfig={"PageSize": 1}, **kwargs):
                keys += keys_of(page)
                prefixes += prefixes_of(page)
            return keys, prefixes

        flat = yield in_thread(walk)
        rolled = yield in_thread(walk, Delimiter="/")
        self.assertEqual(flat, (list(KEYS), []))
        self.assertEqual(rolled, (["a", "d", "e"], ["b/", "c/"]))

    @defer.inlineCallbacks
    def test_no_encoding_type(self):
        """
        Without encoding-type the keys are XML text, not URL-encoded.
        """
        yield in_thread(self.s3.put_object, Bucket="list", Key="sp ace+ü", Body=b"")
        yield in_thread(self.s3.put_bucket_acl, Bucket="list", ACL="public-read")
        status, _, body = yield self.raw("GET", "/list?prefix=sp")
        self.assertEqual(status, 200)
        self.assertIn("<Key>sp ace+ü</Key>".encode(), body)
        self.assertNotIn(b"EncodingType", body)

    @defer.inlineCallbacks
    def test_url_encoding(self):
        """
        With encoding-type=url (boto3's default) keys, prefixes, markers and
        delimiters come back URL-encoded and boto3 decodes them.
        """
        for key in ("x y/1", "x y/2", "x+y"):
            yield in_thread(self.s3.put_object, Bucket="list", Key=key, Body=b"")
        page = yield self.v1(Prefix="x", Delimiter="/", Marker="x")
        self.assertEqual((keys_of(page), prefixes_of(page)), (["x+y"], ["x y/"]))
        self.assertEqual(page["EncodingType"], "url")

    def test_bad_max_keys(self):
        """
        A negative max-keys is InvalidArgument.
        """
        return self.assert_error("InvalidArgument", 400, self.s3.list_objects, Bucket="list", MaxKeys=-1)

    def test_bad_encoding_type(self):
        """
        An encoding type other than url is InvalidArgument.
        """
        return self.assert_error("InvalidArgument", 400, self.s3.list_objects, Bucket="list", EncodingType="base64")


class ListObjectsV2Tests(ListingTestCase):
    """
    ListObjectsV2.
    """

    @defer.inlineCallbacks
    def test_key_count_and_owner(self):
        """
        KeyCount counts keys and prefixes; owners only with FetchOwner.
        """
        page = yield self.v2(Delimiter="/")
        owned = yield self.v2(FetchOwner=True)
        self.assertEqual(page["KeyCount"], 5)
        self.assertNotIn("Owner", page["Contents"][0])
        self.assertEqual(owned["Contents"][0]["Owner"]["ID"], self.walrus.keys["alice"].account_id)

    @defer.inlineCallbacks
    def test_continuation(self):
        """
        Continuation tokens walk the listing in pages with nothing repeated
        or lost; the request's token is echoed.
        """
        seen = []
        token = None
        pages = 0
        while True:
            kwargs = {"ContinuationToken": token} if token else {}
            page = yield self.v2(MaxKeys=4, **kwargs)
            pages += 1
            seen += keys_of(page)
            self.assertEqual(page.get("ContinuationToken"), token)
            if not page["IsTruncated"]:
                self.assertNotIn("NextContinuationToken", page)
                break
            token = page["NextContinuationToken"]
        self.assertEqual((seen, pages), (list(KEYS), 3))

    @defer.inlineCallbacks
    def test_start_after(self):
        """
        StartAfter skips keys up to and including it, and is echoed.
        """
        page = yield self.v2(StartAfter="b/3")
        self.assertEqual(keys_of(page), ["c/x/1", "c/x/2", "c/y", "d", "e"])
        self.assertEqual(page["StartAfter"], "b/3")

    @defer.inlineCallbacks
    def test_continuation_overrides_start_after(self):
        """
        With both, the continuation token decides where the page starts.
        """
        first = yield self.v2(MaxKeys=6)
        page = yield self.v2(StartAfter="a", ContinuationToken=first["NextContinuationToken"])
        self.assertEqual(keys_of(page), ["c/y", "d", "e"])

    @defer.inlineCallbacks
    def test_delimiter_pages(self):
        """
        Paging a rolled-up listing returns each common prefix once.
        """

        def walk():
            keys, prefixes = [], []
            paginator = self.s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket="list", Delimiter="/", Prefix="c/", PaginationConfig={"PageSize": 1}):
                keys += keys_of(page)
                prefixes += prefixes_of(page)
            return keys, prefixes

        result = yield in_thread(walk)
        self.assertEqual(result, (["c/y"], ["c/x/"]))

    def test_bad_token(self):
        """
        A continuation token Walrus did not make is InvalidArgument.
        """
        return self.assert_error(
            "InvalidArgument", 400, self.s3.list_objects_v2, Bucket="list", ContinuationToken="!!not a token!!"
        )

    @defer.inlineCallbacks
    def test_other_account(self):
        """
        Bob cannot list alice's private bucket; anyone can list a public-read
        one.
        """
        yield self.assert_error("AccessDenied", 403, self.walrus.client("bob").list_objects_v2, Bucket="list")
        yield in_thread(self.s3.put_bucket_acl, Bucket="list", ACL="public-read")
        page = yield in_thread(self.walrus.client(None).list_objects_v2, Bucket="list")
        self.assertEqual(keys_of(page), list(KEYS))
