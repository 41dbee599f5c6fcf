# -*- test-case-name: tests.services.walrus.test_store -*-
"""
Tests for L{eucalyptus.services.walrus.store.LocalObjectStore}: S3's rules,
the file system it leaves and what survives a restart.

Most tests run the store with its blocking work inline (C{threaded=False})
and use C{successResultOf}; L{ThreadedStoreTests} runs the real threads
against the real reactor.
"""

import hashlib
import itertools
import os
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.defer import gatherResults, inlineCallbacks
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from eucalyptus.services.walrus import catalog, errors
from eucalyptus.services.walrus.interfaces import IObjectStore, ObjectVersion
from eucalyptus.services.walrus.store import MIN_PART_SIZE, LocalObjectStore

__all__ = [
    "BucketTests",
    "ObjectTests",
    "VersioningTests",
    "ListingTests",
    "MultipartTests",
    "RestartTests",
    "ThreadedStoreTests",
]

_WEIRD_KEYS = ["../x", "a//b", "%", "with space", "\x01ctl", "/lead", ".", "..", "é" * 512, "😀" * 256]


def _names(root):
    """
    Every file and directory name under C{root}.
    """
    return {name for _, dirs, files in os.walk(root) for name in dirs + files}


class _StoreMixin:
    """
    An inline store in a temporary directory with a bucket C{b}.
    """

    def setUp(self):
        self.root = self.mktemp()
        self.clock = Clock()
        self.store = self.open_store()
        self.result(self.store.create_bucket("b", "owner", "", "acl", 1.0))

    def open_store(self):
        store = LocalObjectStore(self.root, reactor=self.clock, threaded=False)
        self.successResultOf(store.start())
        self.addCleanup(lambda: self.successResultOf(store.stop()))
        return store

    def result(self, d):
        return self.successResultOf(d)

    def error(self, d, kind):
        return self.failureResultOf(d, kind).value

    def spool(self, body):
        spool = self.store.spool()
        spool.write(body)
        return spool

    def put(self, key, body=b"data", bucket="b", metadata=None):
        self.clock.advance(1)
        spool = self.spool(body)
        return self.result(
            self.store.put_object(bucket, key, spool, {"content-type": "text/plain"}, metadata or {}, "acl", "owner", self.clock.seconds())
        )

    def body(self, version, start=0, end=None):
        with self.result(self.store.read(version, start, end)) as reader:
            return reader.read()

    def blob_paths(self, version):
        return [self.store.blobs.path(blob[0]) for blob in version.locator]

    def keys(self, bucket="b", **kwargs):
        return [v.key for v in self.result(self.store.list_objects(bucket, **kwargs)).objects]


class BucketTests(_StoreMixin, SynchronousTestCase):
    """
    Creating, finding, changing and deleting buckets.
    """

    def test_interface(self):
        """
        L{LocalObjectStore} provides L{IObjectStore}.
        """
        self.assertTrue(verifyObject(IObjectStore, self.store))

    def test_create_and_list(self):
        """
        Buckets are listed by owner, by name; creating an existing one
        fails with the code that says whose it is.
        """
        self.result(self.store.create_bucket("a", "owner", "eu", "", 2.0))
        self.result(self.store.create_bucket("c", "other", "", "", 2.0))
        self.assertEqual([b.name for b in self.result(self.store.list_buckets("owner"))], ["a", "b"])
        self.assertEqual(self.result(self.store.get_bucket("a")).region, "eu")
        e = self.error(self.store.create_bucket("b", "owner", "", "", 3.0), errors.BucketAlreadyOwnedByYou)
        self.assertEqual(e.details, {"BucketName": "b"})
        self.error(self.store.create_bucket("b", "other", "", "", 3.0), errors.BucketAlreadyExists)
        e = self.error(self.store.get_bucket("nope"), errors.NoSuchBucket)
        self.assertEqual(e.details, {"BucketName": "nope"})

    def test_update(self):
        """
        Versioning, ACL and CORS change; a bad versioning state and a missing
        bucket are refused.
        """
        bucket = self.result(self.store.update_bucket("b", versioning="Enabled", acl="new", cors="<x/>"))
        self.assertEqual((bucket.versioning, bucket.acl, bucket.cors), ("Enabled", "new", "<x/>"))
        self.assertIsNone(self.result(self.store.update_bucket("b", cors=None)).cors)
        self.error(self.store.update_bucket("b", versioning=""), errors.IllegalVersioningConfigurationException)
        self.error(self.store.update_bucket("nope", acl=""), errors.NoSuchBucket)

    def test_delete(self):
        """
        A bucket with an object or only a delete marker is not empty; once
        empty it goes, taking its uploads and their parts with it.
        """
        self.result(self.store.update_bucket("b", versioning="Enabled"))
        version = self.put("k")
        self.error(self.store.delete_bucket("b"), errors.BucketNotEmpty)
        self.result(self.store.delete_object("b", "k", version.version_id))
        marker = self.result(self.store.delete_object("b", "k"))
        e = self.error(self.store.delete_bucket("b"), errors.BucketNotEmpty)
        self.assertEqual(e.details, {"BucketName": "b"})
        self.result(self.store.delete_object("b", "k", marker.version_id))
        upload = self.result(self.store.create_upload("b", "m", {}, {}, "", "owner", 5.0))
        self.result(self.store.put_part(upload, 1, self.spool(b"part"), 6.0))
        self.result(self.store.delete_bucket("b"))
        self.error(self.store.get_bucket("b"), errors.NoSuchBucket)
        self.error(self.store.get_upload("b", "m", upload.upload_id), errors.NoSuchBucket)
        self.assertEqual([n for _, _, files in os.walk(self.store.blobs.data) for n in files], [])
        self.error(self.store.delete_bucket("b"), errors.NoSuchBucket)


class ObjectTests(_StoreMixin, SynchronousTestCase):
    """
    Putting, reading, overwriting, copying and deleting objects.
    """

    def test_put_get_read(self):
        """
        A put object is described and read back byte for byte, by range too.
        """
        version = self.put("k", b"hello world", metadata={"color": "red"})
        self.assertEqual(version.etag, hashlib.md5(b"hello world").hexdigest())
        self.assertEqual((version.version_id, version.size, version.parts), ("null", 11, ()))
        got = self.result(self.store.get_object("b", "k"))
        self.assertEqual(got, version)
        self.assertEqual((got.metadata, got.headers), ({"color": "red"}, {"content-type": "text/plain"}))
        self.assertEqual(self.body(got), b"hello world")
        self.assertEqual(self.body(got, 6, 9), b"wor")
        self.assertEqual(self.body(got, 11, 11), b"")
        e = self.error(self.store.read(got, 5, 12), errors.InvalidRange)
        self.assertEqual(e.details["ActualObjectSize"], 11)
        e = self.error(self.store.get_object("b", "nope"), errors.NoSuchKey)
        self.assertEqual(e.details, {"Key": "nope"})
        self.error(self.store.get_object("nope", "k"), errors.NoSuchBucket)

    def test_empty_object(self):
        """
        An empty body is an object of size 0 with the MD5 of nothing.
        """
        version = self.put("empty", b"")
        self.assertEqual((version.size, version.etag), (0, hashlib.md5(b"").hexdigest()))
        self.assertEqual(self.body(version), b"")

    def test_overwrite_is_atomic(self):
        """
        Overwriting frees the old data; a reader that opened the old version
        reads all of it, and the old description never reads the new data.
        """
        old = self.put("k", b"old data")
        reader = self.result(self.store.read(old))
        new = self.put("k", b"new")
        self.assertEqual(reader.read(), b"old data")
        reader.close()
        self.assertFalse(any(os.path.exists(p) for p in self.blob_paths(old)))
        self.error(self.store.read(old), errors.NoSuchKey)
        self.assertEqual(self.body(self.result(self.store.get_object("b", "k"))), b"new")
        self.assertEqual(self.body(ObjectVersion("b", "k", "null", True, False, 3, "", 0.0, "")), b"new")
        self.assertEqual(new.version_id, "null")

    def test_delete_unversioned(self):
        """
        Deleting removes the object and its data; deleting again is no error
        and reports nothing.
        """
        version = self.put("k")
        removed = self.result(self.store.delete_object("b", "k"))
        self.assertEqual((removed.key, removed.delete_marker), ("k", False))
        self.assertIsNone(self.result(self.store.delete_object("b", "k")))
        self.error(self.store.get_object("b", "k"), errors.NoSuchKey)
        self.assertFalse(os.path.exists(self.blob_paths(version)[0]))
        self.assertEqual(self.result(self.store.list_versions("b")).versions, [])

    def test_strange_keys(self):
        """
        Keys that look like paths, escapes, controls or 1024 UTF-8 bytes are
        stored and listed exactly and never reach the file system; longer
        keys are refused.
        """
        for key in _WEIRD_KEYS:
            self.put(key, key.encode())
        self.assertEqual(self.keys(), sorted(_WEIRD_KEYS, key=lambda k: k.encode()))
        for key in _WEIRD_KEYS:
            self.assertEqual(self.body(self.result(self.store.get_object("b", key))), key.encode())
        chosen = re.compile(r"([0-9a-f]{2}|[0-9a-f]{32}|data|tmp|catalog\.sqlite(-wal|-shm)?)\Z")
        self.assertEqual([name for name in _names(self.root) if not chosen.match(name)], [])
        spool = self.spool(b"x")
        e = self.error(self.store.put_object("b", "k" * 1025, spool, {}, {}, "", "owner", 1.0), errors.KeyTooLongError)
        self.assertEqual(e.details["MaxSizeAllowed"], 1024)
        self.assertEqual(os.listdir(self.store.blobs.tmp), [])
        self.error(self.store.create_upload("b", "\ud800", {}, {}, "", "owner", 1.0), errors.InvalidArgument)

    def test_copy_shares_inode(self):
        """
        A copy hard-links the source's blobs: same inodes, new names; the
        copy outlives an overwrite of its source.
        """
        source = self.put("src", b"shared bytes")
        copy = self.result(self.store.copy_object(source, "b", "dst", {}, {"m": "1"}, "", "owner", 9.0))
        self.assertEqual((copy.key, copy.etag, copy.metadata, copy.size), ("dst", source.etag, {"m": "1"}, 12))
        (src_path,), (dst_path,) = self.blob_paths(source), self.blob_paths(copy)
        self.assertNotEqual(src_path, dst_path)
        self.assertEqual(os.stat(src_path).st_ino, os.stat(dst_path).st_ino)
        self.put("src", b"replaced")
        self.assertEqual(self.body(self.result(self.store.get_object("b", "dst"))), b"shared bytes")
        self.error(self.store.copy_object(source, "b", "x", {}, {}, "", "owner", 9.0), errors.NoSuchKey)

    def test_update_acl(self):
        """
        A version's ACL can be replaced; a missing key cannot.
        """
        self.put("k")
        self.assertEqual(self.result(self.store.update_object("b", "k", None, "new acl")).acl, "new acl")
        self.assertEqual(self.result(self.store.get_object("b", "k")).acl, "new acl")
        self.error(self.store.update_object("b", "nope", None, ""), errors.NoSuchKey)


class VersioningTests(_StoreMixin, SynchronousTestCase):
    """
    Versions and delete markers in unversioned, enabled and suspended
    buckets.
    """

    def versions(self, key="k"):
        listing = self.result(self.store.list_versions("b", prefix=key))
        return [(v.version_id, v.delete_marker, v.is_latest) for v in listing.versions]

    def test_enabled(self):
        """
        Each put adds a version, newest first; a plain delete adds a marker
        that hides the key; deleting the marker brings the object back.
        """
        null = self.put("k", b"v0")
        self.result(self.store.update_bucket("b", versioning="Enabled"))
        one, two = self.put("k", b"v1"), self.put("k", b"v2")
        self.assertNotIn(one.version_id, ("null", two.version_id))
        self.assertEqual(self.versions(), [(two.version_id, False, True), (one.version_id, False, False), ("null", False, False)])
        self.assertEqual(self.body(self.result(self.store.get_object("b", "k", one.version_id))), b"v1")
        self.assertEqual(self.body(self.result(self.store.get_object("b", "k", "null"))), b"v0")
        marker = self.result(self.store.delete_object("b", "k", modified=20.0, owner="deleter"))
        self.assertEqual((marker.delete_marker, marker.owner, marker.last_modified), (True, "deleter", 20.0))
        e = self.error(self.store.get_object("b", "k"), errors.NoSuchKey)
        self.assertEqual((e.details["delete_marker"], e.version_id), (True, marker.version_id))
        e = self.error(self.store.get_object("b", "k", marker.version_id), errors.MethodNotAllowed)
        self.assertEqual(e.details, {"ResourceType": "DeleteMarker"})
        self.error(self.store.read(marker), errors.MethodNotAllowed)
        self.assertEqual(self.keys(), [])
        removed = self.result(self.store.delete_object("b", "k", marker.version_id))
        self.assertTrue(removed.delete_marker)
        self.assertEqual(self.result(self.store.get_object("b", "k")).version_id, two.version_id)
        self.result(self.store.delete_object("b", "k", two.version_id))
        self.assertEqual(self.versions(), [(one.version_id, False, True), ("null", False, False)])
        self.assertFalse(os.path.exists(self.blob_paths(two)[0]))
        self.assertTrue(os.path.exists(self.blob_paths(null)[0]))
        e = self.error(self.store.get_object("b", "k", "nope"), errors.NoSuchVersion)
        self.assertEqual(e.details, {"Key": "k", "VersionId": "nope"})
        self.assertIsNone(self.result(self.store.delete_object("b", "k", "nope")))

    def test_suspended(self):
        """
        In a suspended bucket a put replaces the C{null} version (freeing
        its data) and keeps the others; a delete replaces it with a C{null}
        delete marker.
        """
        self.result(self.store.update_bucket("b", versioning="Enabled"))
        kept = self.put("k", b"kept")
        self.result(self.store.update_bucket("b", versioning="Suspended"))
        first = self.put("k", b"first")
        second = self.put("k", b"second")
        self.assertEqual(self.versions(), [("null", False, True), (kept.version_id, False, False)])
        self.assertFalse(os.path.exists(self.blob_paths(first)[0]))
        self.assertEqual(self.body(self.result(self.store.get_object("b", "k"))), b"second")
        marker = self.result(self.store.delete_object("b", "k"))
        self.assertEqual((marker.version_id, marker.delete_marker), ("null", True))
        self.assertEqual(self.versions(), [("null", True, True), (kept.version_id, False, False)])
        self.assertFalse(os.path.exists(self.blob_paths(second)[0]))
        self.put("k", b"third")
        self.assertEqual(self.versions(), [("null", False, True), (kept.version_id, False, False)])


class ListingTests(_StoreMixin, SynchronousTestCase):
    """
    ListObjects, ListObjectVersions and ListMultipartUploads pages.
    """

    _bucket_names = itertools.count()

    def listing_names(self, listing):
        return sorted([v.key for v in listing.objects] + listing.common_prefixes, key=lambda k: k.encode())

    def pages(self, bucket, prefix, delimiter, size):
        """
        Every entry of every page of a listing, and the page sizes.
        """
        names, sizes, marker = [], [], ""
        while True:
            listing = self.result(self.store.list_objects(bucket, prefix, delimiter, marker, size))
            page = self.listing_names(listing)
            names.extend(page)
            sizes.append(len(page))
            if not listing.is_truncated:
                return names, sizes
            self.assertEqual(listing.next_marker, page[-1])
            marker = listing.next_marker

    def test_prefix_delimiter(self):
        """
        Keys roll up at the first delimiter after the prefix; deleted keys
        are not listed.
        """
        for key in ["a/1", "a/2", "a/b/3", "ab", "b", "c/d"]:
            self.put(key)
        self.result(self.store.delete_object("b", "b"))
        listing = self.result(self.store.list_objects("b", delimiter="/"))
        self.assertEqual(([v.key for v in listing.objects], listing.common_prefixes), (["ab"], ["a/", "c/"]))
        listing = self.result(self.store.list_objects("b", prefix="a/", delimiter="/"))
        self.assertEqual(([v.key for v in listing.objects], listing.common_prefixes), (["a/1", "a/2"], ["a/b/"]))
        self.assertEqual(self.keys(prefix="a"), ["a/1", "a/2", "a/b/3", "ab"])
        self.assertEqual(self.keys(marker="a/2"), ["a/b/3", "ab", "c/d"])
        self.error(self.store.list_objects("nope"), errors.NoSuchBucket)

    def test_common_prefixes_count_once(self):
        """
        A common prefix counts once towards C{max_keys}, and a page ending
        on one resumes after everything under it.
        """
        for key in [f"a/{i}" for i in range(10)] + ["b", "c/1", "c/2", "d"]:
            self.put(key)
        names, sizes = self.pages("b", "", "/", 2)
        self.assertEqual((names, sizes), (["a/", "b", "c/", "d"], [2, 2]))
        listing = self.result(self.store.list_objects("b", delimiter="/", max_keys=3))
        self.assertEqual((listing.common_prefixes, listing.next_marker), (["a/", "c/"], "c/"))

    @settings(max_examples=60, deadline=None)
    @given(
        keys=st.sets(st.text(alphabet="ab/\x01é😀", min_size=1, max_size=5), max_size=20),
        prefix=st.sampled_from(["", "a", "a/", "é"]),
        delimiter=st.sampled_from(["", "/", "a", "é", "a/", "//"]),
        size=st.integers(1, 6),
    )
    def test_pagination_matches_model(self, keys, prefix, delimiter, size):
        """
        For any keys, prefix, delimiter and page size, the pages joined
        equal the whole listing of a plain in-memory model.
        """
        bucket = f"prop{next(self._bucket_names)}"
        self.result(self.store.create_bucket(bucket, "owner", "", "", 1.0))
        for key in keys:
            self.put(key, b"", bucket=bucket)
        model = set()
        for key in keys:
            if key.startswith(prefix):
                at = key.find(delimiter, len(prefix)) if delimiter else -1
                model.add(key if at < 0 else key[: at + len(delimiter)])
        model = sorted(model, key=lambda k: k.encode())
        names, sizes = self.pages(bucket, prefix, delimiter, size)
        self.assertEqual(names, model)
        self.assertTrue(all(n <= size for n in sizes))
        self.assertEqual(self.listing_names(self.result(self.store.list_objects(bucket, prefix, delimiter))), model)

    def test_versions_pages(self):
        """
        Version pages resume at the key and version markers and join into the
        whole listing; a version marker needs a key marker.
        """
        self.result(self.store.update_bucket("b", versioning="Enabled"))
        for key in ["a", "a", "b", "c", "c", "c"]:
            self.put(key)
        self.result(self.store.delete_object("b", "b"))
        whole = [(v.key, v.version_id) for v in self.result(self.store.list_versions("b")).versions]
        self.assertEqual([k for k, _ in whole], ["a", "a", "b", "b", "c", "c", "c"])
        joined, markers = [], ("", "")
        while True:
            page = self.result(self.store.list_versions("b", key_marker=markers[0], version_id_marker=markers[1], max_keys=2))
            joined.extend((v.key, v.version_id) for v in page.versions)
            if not page.is_truncated:
                break
            markers = (page.next_key_marker, page.next_version_id_marker)
        self.assertEqual(joined, whole)
        self.error(self.store.list_versions("b", version_id_marker="x"), errors.InvalidArgument)
        self.error(self.store.list_versions("b", key_marker="a", version_id_marker="x"), errors.InvalidArgument)

    def test_uploads(self):
        """
        Uploads list by key then age, with prefixes, delimiters and markers.
        """
        made = [self.result(self.store.create_upload("b", key, {}, {}, "", "owner", 1.0)) for key in ["x/1", "y", "y", "z"]]
        listing = self.result(self.store.list_uploads("b", delimiter="/"))
        self.assertEqual(listing.common_prefixes, ["x/"])
        self.assertEqual([u.upload_id for u in listing.uploads], [u.upload_id for u in made[1:]])
        page = self.result(self.store.list_uploads("b", max_uploads=2))
        self.assertEqual((page.is_truncated, page.next_key_marker, page.next_upload_id_marker), (True, "y", made[1].upload_id))
        rest = self.result(self.store.list_uploads("b", key_marker="y", upload_id_marker=made[1].upload_id))
        self.assertEqual([u.upload_id for u in rest.uploads], [made[2].upload_id, made[3].upload_id])
        self.assertEqual([u.key for u in self.result(self.store.list_uploads("b", key_marker="y")).uploads], ["z"])


class MultipartTests(_StoreMixin, SynchronousTestCase):
    """
    Multipart uploads: parts, completion and every refusal.
    """

    big = b"p" * MIN_PART_SIZE

    def setUp(self):
        _StoreMixin.setUp(self)
        self.upload = self.result(self.store.create_upload("b", "obj", {"content-type": "x/y"}, {"m": "v"}, "acl", "owner", 2.0))

    def part(self, number, body):
        return self.result(self.store.put_part(self.upload, number, self.spool(body), 3.0))

    def complete(self, parts):
        return self.store.complete_upload(self.upload, parts, 4.0)

    def test_complete(self):
        """
        The object is the listed parts in order, its ETag the MD5 of their
        MD5s and the count; parts not listed are freed; no data is copied.
        """
        one, two, last = self.part(1, self.big), self.part(2, b"q" * MIN_PART_SIZE), self.part(3, b"end")
        unused = self.part(4, b"unused")
        self.assertEqual([p.part_number for p in self.result(self.store.list_parts(self.upload)).parts], [1, 2, 3, 4])
        paths = {n: self.store.blobs.path(b) for n, b in self._part_blobs().items()}
        version = self.result(self.complete([(1, f'"{one.etag}"'), (2, two.etag.upper()), (3, last.etag)]))
        digest = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in (one, two, last))).hexdigest()
        self.assertEqual(version.etag, f"{digest}-3")
        self.assertEqual((version.size, version.parts, version.metadata), (2 * MIN_PART_SIZE + 3, (MIN_PART_SIZE,) * 2 + (3,), {"m": "v"}))
        self.assertEqual(self.blob_paths(version), [paths[1], paths[2], paths[3]])
        self.assertFalse(os.path.exists(paths[4]))
        self.assertEqual(self.body(version, MIN_PART_SIZE - 2, MIN_PART_SIZE + 2), b"ppqq")
        self.assertEqual(self.body(version, 2 * MIN_PART_SIZE), b"end")
        self.error(self.store.get_upload("b", "obj", self.upload.upload_id), errors.NoSuchUpload)
        self.error(self.complete([(1, one.etag)]), errors.NoSuchUpload)
        self.assertEqual(unused.size, 6)

    def _part_blobs(self):
        found = self.result(self.store.catalog.read(catalog.parts, self.upload.upload_id))
        return {number: blob for number, (_, blob) in found.items()}

    def test_replace_part(self):
        """
        Uploading a part number again replaces the part and frees the old
        data.
        """
        self.part(1, b"old")
        old = self.store.blobs.path(self._part_blobs()[1])
        new = self.part(1, b"new")
        self.assertFalse(os.path.exists(old))
        self.assertEqual(self.result(self.store.list_parts(self.upload)).parts, [new])

    def test_list_parts_pages(self):
        """
        Parts list in pages after a part number marker.
        """
        for number in (1, 2, 5):
            self.part(number, b"x")
        page = self.result(self.store.list_parts(self.upload, max_parts=2))
        self.assertEqual(([p.part_number for p in page.parts], page.is_truncated, page.next_part_number_marker), ([1, 2], True, 2))
        page = self.result(self.store.list_parts(self.upload, part_number_marker=2))
        self.assertEqual(([p.part_number for p in page.parts], page.is_truncated), ([5], False))
        self.assertEqual(page.upload, self.upload)

    def test_refusals(self):
        """
        Out of order, missing, mismatched, too small, empty and badly
        numbered parts are refused with S3's codes and details.
        """
        one, two, three = self.part(1, self.big), self.part(2, b"small"), self.part(3, b"end")
        e = self.error(self.complete([(2, two.etag), (1, one.etag)]), errors.InvalidPartOrder)
        self.assertEqual(e.details, {"UploadId": self.upload.upload_id})
        self.error(self.complete([(1, one.etag), (1, one.etag)]), errors.InvalidPartOrder)
        e = self.error(self.complete([(1, one.etag), (7, one.etag)]), errors.InvalidPart)
        self.assertEqual(e.details, {"UploadId": self.upload.upload_id, "PartNumber": 7, "ETag": one.etag})
        self.error(self.complete([(1, two.etag)]), errors.InvalidPart)
        e = self.error(self.complete([(1, one.etag), (2, two.etag), (3, three.etag)]), errors.EntityTooSmall)
        details = (e.details["ProposedSize"], e.details["MinSizeAllowed"], e.details["PartNumber"])
        self.assertEqual(details, (5, MIN_PART_SIZE, 2))
        self.error(self.complete([]), errors.MalformedXML)
        for number in (0, 10001):
            e = self.error(self.store.put_part(self.upload, number, self.spool(b"x"), 3.0), errors.InvalidArgument)
            self.assertEqual(e.details["ArgumentValue"], number)
        self.assertEqual(os.listdir(self.store.blobs.tmp), [])
        self.error(self.store.get_upload("b", "other", self.upload.upload_id), errors.NoSuchUpload)
        self.assertEqual(self.result(self.store.get_upload("b", "obj", self.upload.upload_id)), self.upload)

    def test_abort(self):
        """
        Aborting forgets the upload and frees its parts; later parts and a
        second abort find no upload.
        """
        self.part(1, b"x")
        path = self.store.blobs.path(self._part_blobs()[1])
        self.result(self.store.abort_upload(self.upload))
        self.assertFalse(os.path.exists(path))
        self.error(self.store.abort_upload(self.upload), errors.NoSuchUpload)
        self.error(self.store.put_part(self.upload, 1, self.spool(b"x"), 3.0), errors.NoSuchUpload)
        self.error(self.store.list_parts(self.upload), errors.NoSuchUpload)
        self.assertEqual(os.listdir(self.store.blobs.tmp), [])
        self.assertEqual(self.result(self.store.list_uploads("b")).uploads, [])

    def test_copy_part(self):
        """
        A whole object or a whole part becomes a part by hard link; a
        partial range is copied, with the MD5 of the range as its ETag.
        """
        size = MIN_PART_SIZE
        source = self.put("src", b"s" * (size - 10) + b"0123456789")
        whole = self.result(self.store.copy_part(self.upload, 1, source, 0, size, 3.0))
        self.assertEqual((whole.size, whole.etag), (size, source.etag))
        linked = self.store.blobs.path(self._part_blobs()[1])
        self.assertEqual(os.stat(linked).st_ino, os.stat(self.blob_paths(source)[0]).st_ino)
        ranged = self.result(self.store.copy_part(self.upload, 2, source, size - 8, size - 5, 3.0))
        self.assertEqual((ranged.size, ranged.etag), (3, hashlib.md5(b"234").hexdigest()))
        self.assertNotEqual(os.stat(self.store.blobs.path(self._part_blobs()[2])).st_ino, os.stat(linked).st_ino)
        self.error(self.store.copy_part(self.upload, 3, source, 5, size + 1, 3.0), errors.InvalidRange)
        version = self.result(self.complete([(1, whole.etag), (2, ranged.etag)]))
        self.assertEqual(self.body(version, size - 10), b"0123456789234")
        copy = self.result(self.store.copy_object(version, "b", "copy", {}, {}, "", "owner", 5.0))
        self.assertEqual([os.stat(p).st_ino for p in self.blob_paths(copy)], [os.stat(p).st_ino for p in self.blob_paths(version)])
        self.assertEqual((copy.etag, copy.parts), (version.etag, version.parts))


class RestartTests(_StoreMixin, SynchronousTestCase):
    """
    What a restart keeps and what it cleans up.
    """

    def test_reopen(self):
        """
        A reopened store has every committed bucket, version and upload.
        """
        self.result(self.store.update_bucket("b", versioning="Enabled"))
        one, two = self.put("k", b"one"), self.put("k", b"two")
        upload = self.result(self.store.create_upload("b", "m", {}, {}, "", "owner", 1.0))
        self.result(self.store.put_part(upload, 1, self.spool(b"part"), 2.0))
        self.result(self.store.stop())
        self.store = self.open_store()
        self.assertEqual(self.result(self.store.get_bucket("b")).versioning, "Enabled")
        self.assertEqual(self.body(self.result(self.store.get_object("b", "k", one.version_id))), b"one")
        self.assertEqual(self.result(self.store.get_object("b", "k")), two)
        self.assertEqual(len(self.result(self.store.list_parts(upload)).parts), 1)

    def test_sweep_orphans(self):
        """
        Start removes temporary files and blobs no version or part refers
        to, and keeps the ones that are referred to.
        """
        kept = self.put("k", b"kept")
        upload = self.result(self.store.create_upload("b", "m", {}, {}, "", "owner", 1.0))
        self.result(self.store.put_part(upload, 1, self.spool(b"part"), 2.0))
        self.result(self.store.stop())
        orphan = self.store.blobs.path("ab" + "0" * 30)
        tmp = os.path.join(self.store.blobs.tmp, "half-written")
        os.makedirs(os.path.dirname(orphan), exist_ok=True)
        for path in (orphan, tmp):
            with open(path, "wb") as f:
                f.write(b"junk")
        self.store = self.open_store()
        self.assertFalse(os.path.exists(orphan) or os.path.exists(tmp))
        self.assertTrue(os.path.exists(self.blob_paths(kept)[0]))
        self.assertEqual(self.body(self.result(self.store.get_object("b", "k"))), b"kept")
        self.assertEqual(len([n for _, _, files in os.walk(self.store.blobs.data) for n in files]), 2)


class ThreadedStoreTests(TestCase):
    """
    The store with its real threads, against the real reactor.
    """

    def setUp(self):
        self.root = os.path.abspath(self.mktemp())
        self.store = LocalObjectStore(self.root)
        self.addCleanup(lambda: self.store.stop())
        return self.store.start().addCallback(lambda _: self.store.create_bucket("b", "owner", "", "", 1.0))

    @inlineCallbacks
    def _put(self, key, body):
        spool = self.store.spool()
        spool.write(body)
        return (yield self.store.put_object("b", key, spool, {}, {}, "", "owner", 2.0))

    @inlineCallbacks
    def test_concurrent_puts(self):
        """
        Fifty puts at once all commit, each with its own data, and all are
        listed as soon as they have fired.
        """
        keys = [f"key{i:02}" for i in range(50)]
        versions = yield gatherResults([self._put(key, key.encode() * 1000) for key in keys])
        self.assertEqual([v.key for v in versions], keys)
        listing = yield self.store.list_objects("b")
        self.assertEqual([v.key for v in listing.objects], keys)
        for version in versions[::7]:
            reader = yield self.store.read(version)
            self.assertEqual(reader.read(), version.key.encode() * 1000)
            reader.close()

    @inlineCallbacks
    def test_reopen(self):
        """
        Objects put through the threaded store are there after a restart.
        """
        yield self._put("k", b"body")
        yield self.store.stop()
        self.store = LocalObjectStore(self.root)
        yield self.store.start()
        version = yield self.store.get_object("b", "k")
        reader = yield self.store.read(version)
        self.assertEqual(reader.read(), b"body")
        reader.close()
