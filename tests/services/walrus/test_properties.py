"""
Properties of Walrus through boto3, checked with Hypothesis against a live
server: any key round-trips and lists back exactly, metadata round-trips,
and paging a listing with any page size gives the whole listing.

Each Hypothesis run happens in one thread (boto3 blocks) while the reactor
serves it; example counts are small to keep the suite fast.
"""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet import defer

from tests.services.walrus.harness import WalrusTestCase, in_thread

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)

FRAGMENTS = st.sampled_from(["../", "./", "//", "/", "%", "%2F", "%25", "+", " ", "\x01", "\t", "\n", "\r", "?", "#", "&", "=", ";", "~", "*", "é", "日本", "\U0001f600", "\x7f", "\ufeff"])
KEYS = (
    st.lists(st.one_of(FRAGMENTS, st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)), min_size=1, max_size=12)
    .map("".join)
    .filter(lambda key: len(key.encode("utf-8")) <= 1024)
)
LONG_KEYS = st.integers(min_value=1, max_value=1024).flatmap(
    lambda size: st.text(st.sampled_from("a/é%+ \x01日"), min_size=size // 3, max_size=size)
).filter(lambda key: 0 < len(key.encode("utf-8")) <= 1024)

TOKEN = "abcdefghijklmnopqrstuvwxyz0123456789-_"
METADATA = st.dictionaries(
    st.text(st.sampled_from(TOKEN), min_size=1, max_size=20),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=0, max_size=40).flatmap(
        lambda edge: st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(lambda middle: (edge + middle + edge).strip())
    ),
    max_size=8,
)


class KeyPropertyTests(WalrusTestCase):
    """
    Keys of any UTF-8 (up to 1024 bytes) are stored and listed exactly.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="keys")

    def check_key(self, key):
        """
        Put C{key}, read it back, and find it first in v1 and v2 listings
        with it as prefix (botocore asks for encoding-type=url).
        """
        s3 = self.s3
        s3.put_object(Bucket="keys", Key=key, Body=key.encode("utf-8"))
        body = s3.get_object(Bucket="keys", Key=key)["Body"].read()
        assert body == key.encode("utf-8"), (key, body)
        v2 = s3.list_objects_v2(Bucket="keys", Prefix=key, MaxKeys=1)
        assert v2["Contents"][0]["Key"] == key, (key, v2["Contents"][0]["Key"])
        v1 = s3.list_objects(Bucket="keys", Prefix=key, MaxKeys=1)
        assert v1["Contents"][0]["Key"] == key, (key, v1["Contents"][0]["Key"])
        assert s3.head_object(Bucket="keys", Key=key)["ContentLength"] == len(body)

    def test_any_key(self):
        """
        Keys mixing path tricks, percent signs, spaces, control characters
        and any Unicode round-trip and list back byte for byte.
        """

        @SETTINGS
        @given(KEYS)
        def run(key):
            self.check_key(key)

        return in_thread(run)

    def test_long_keys(self):
        """
        Keys of every length up to 1024 bytes round-trip.
        """

        @settings(SETTINGS, max_examples=20)
        @given(LONG_KEYS)
        def run(key):
            self.check_key(key)

        return in_thread(run)

    @defer.inlineCallbacks
    def test_listing_order(self):
        """
        A listing of many odd keys is them in UTF-8 byte order, each once.
        """
        s3 = self.s3

        @settings(SETTINGS, max_examples=10)
        @given(st.lists(KEYS, min_size=1, max_size=8, unique=True))
        def run(keys):
            for key in keys:
                s3.put_object(Bucket="keys", Key=key, Body=b"")

        yield in_thread(run)

        def everything():
            listed = []
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket="keys"):
                listed += [c["Key"] for c in page.get("Contents", [])]
            return listed

        listed = yield in_thread(everything)
        self.assertEqual(listed, sorted(set(listed), key=lambda k: k.encode("utf-8")))
        self.assertTrue(listed)


class MetadataPropertyTests(WalrusTestCase):
    """
    User metadata round-trips.
    """

    def test_round_trip(self):
        """
        Any ASCII metadata (lower-case names, values without edge spaces)
        comes back equal on GET and HEAD.
        """
        s3 = self.s3

        @SETTINGS
        @given(METADATA)
        def run(metadata):
            s3.put_object(Bucket="meta", Key="k", Body=b"", Metadata=metadata)
            assert s3.get_object(Bucket="meta", Key="k")["Metadata"] == metadata
            assert s3.head_object(Bucket="meta", Key="k")["Metadata"] == metadata

        def scenario():
            s3.create_bucket(Bucket="meta")
            run()

        return in_thread(scenario)


LISTING_KEYS = st.lists(st.text(st.sampled_from("ab/c."), min_size=1, max_size=6), min_size=0, max_size=14, unique=True)


class PaginationPropertyTests(WalrusTestCase):
    """
    Paging a listing with any page size gives the one-page listing.
    """

    def test_pages_equal_whole(self):
        """
        For any keys, prefix, delimiter and MaxKeys, v1 pages (following
        NextMarker or the last key) and v2 pages (following continuation
        tokens) add up to the whole listing, nothing twice.
        """
        s3 = self.s3
        counter = itertools.count()

        def pages_v1(bucket, max_keys, **kwargs):
            keys, prefixes, marker = [], [], ""
            while True:
                page = s3.list_objects(Bucket=bucket, MaxKeys=max_keys, Marker=marker, **kwargs)
                keys += [c["Key"] for c in page.get("Contents", [])]
                prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
                if not page["IsTruncated"]:
                    return keys, prefixes
                marker = page.get("NextMarker") or keys[-1]
                assert len(page.get("Contents", [])) + len(page.get("CommonPrefixes", [])) == max_keys

        def pages_v2(bucket, max_keys, **kwargs):
            keys, prefixes, token = [], [], None
            while True:
                extra = {"ContinuationToken": token} if token else {}
                page = s3.list_objects_v2(Bucket=bucket, MaxKeys=max_keys, **kwargs, **extra)
                keys += [c["Key"] for c in page.get("Contents", [])]
                prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
                assert page["KeyCount"] == len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
                if not page["IsTruncated"]:
                    return keys, prefixes
                token = page["NextContinuationToken"]

        @settings(SETTINGS, max_examples=25)
        @given(
            LISTING_KEYS,
            st.integers(min_value=1, max_value=16),
            st.sampled_from(["", "/", "."]),
            st.sampled_from(["", "a", "a/", "b"]),
        )
        def run(keys, max_keys, delimiter, prefix):
            bucket = f"page-{next(counter)}"
            s3.create_bucket(Bucket=bucket)
            for key in keys:
                s3.put_object(Bucket=bucket, Key=key, Body=b"")
            kwargs = {"Prefix": prefix}
            if delimiter:
                kwargs["Delimiter"] = delimiter
            whole = s3.list_objects(Bucket=bucket, **kwargs)
            expected = ([c["Key"] for c in whole.get("Contents", [])], [p["Prefix"] for p in whole.get("CommonPrefixes", [])])
            assert not whole["IsTruncated"]
            matching = sorted((k for k in keys if k.startswith(prefix)), key=lambda k: k.encode("utf-8"))
            if not delimiter:
                assert expected == (matching, []), (expected, matching)
            assert pages_v1(bucket, max_keys, **kwargs) == expected
            assert pages_v2(bucket, max_keys, **kwargs) == expected

        return in_thread(run)
