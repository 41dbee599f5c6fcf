# -*- test-case-name: tests.services.walrus.test_catalog -*-
"""
Tests for L{eucalyptus.services.walrus.catalog}: key order, listing walks,
group commit and reader threads.
"""

import os
import threading

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.defer import gatherResults, inlineCallbacks
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from eucalyptus.services.walrus import catalog
from eucalyptus.services.walrus import listing as listings
from eucalyptus.services.walrus.interfaces import Bucket, ObjectVersion

__all__ = ["SuccessorTests", "KeyOrderTests", "GroupCommitTests"]

_KEYS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)


def _version(key, bucket="b"):
    return ObjectVersion(bucket, key, "null", True, False, 0, "", 0.0, "o", locator=())


def _add_keys(conn, keys, bucket="b"):
    catalog.insert_bucket(conn, Bucket(bucket, "o", 0.0))
    for key in keys:
        catalog.add_version(conn, _version(key, bucket))


class _CountingConnection:
    """
    A connection that counts the rows its queries' cursors yield.
    """

    def __init__(self, conn):
        self.conn = conn
        self.rows = 0

    def execute(self, sql, args=()):
        return _CountingCursor(self, self.conn.execute(sql, args))


class _CountingCursor:
    def __init__(self, counter, cursor):
        self._counter = counter
        self._cursor = cursor

    def __iter__(self):
        for row in self._cursor:
            self._counter.rows += 1
            yield row

    def fetchall(self):
        return list(self)

    def fetchone(self):
        return next(iter(self), None)

    def close(self):
        self._cursor.close()


class SuccessorTests(SynchronousTestCase):
    """
    L{listings.successor} is the least string above a prefix and all its
    extensions.
    """

    def test_examples(self):
        """
        The last character is incremented, skipping the surrogates and
        carrying past U+10FFFF.
        """
        self.assertEqual(listings.successor("a/"), "a0")
        self.assertEqual(listings.successor("a\U0010ffff"), "b")
        self.assertEqual(listings.successor("\ud7ff"), "\ue000")
        self.assertIsNone(listings.successor(""))
        self.assertIsNone(listings.successor("\U0010ffff"))

    @given(_KEYS.filter(bool), _KEYS)
    def test_bounds(self, prefix, rest):
        """
        Every extension of a prefix sorts (in UTF-8 bytes) below the
        successor, and the successor itself does not start with the prefix.
        """
        bound = listings.successor(prefix)
        if bound is not None:
            self.assertLess((prefix + rest).encode(), bound.encode())
            self.assertFalse(bound.startswith(prefix))


class KeyOrderTests(SynchronousTestCase):
    """
    Keys are stored byte-exact and listed in UTF-8 byte order.
    """

    def setUp(self):
        self.catalog = catalog.Catalog(self.mktemp(), Clock(), readers=0)
        self.successResultOf(self.catalog.start())
        self.addCleanup(self.catalog.stop)

    def test_utf8_order(self):
        """
        Keys above U+FFFF sort after U+FF61 (as in UTF-8, not UTF-16), and
        control characters, NUL included, sort first.
        """
        keys = ["\uff61", "\U0001f600", "\x01", "a", "a\x00b", "\x7f", "\u00e9", "\uffff", "\ue000", "A", " "]
        self.successResultOf(self.catalog.write(_add_keys, keys))
        listing = self.successResultOf(self.catalog.read(listings.list_objects, "b", "", "", "", 1000))
        self.assertEqual([v.key for v in listing.objects], sorted(keys, key=lambda k: k.encode("utf-8")))

    def test_delimiter_seeks(self):
        """
        A common prefix is skipped with an index seek: listing with a
        delimiter over 2,000 keys under two prefixes reads a handful of
        rows, not the keys under them.
        """
        keys = [f"{d}/{i:04}" for d in "ab" for i in range(1000)] + ["c", "d/x"]
        self.successResultOf(self.catalog.write(_add_keys, keys))

        def counted(conn):
            counting = _CountingConnection(conn)
            return listings.list_objects(counting, "b", "", "/", "", 1000), counting.rows

        listing, rows = self.successResultOf(self.catalog.read(counted))
        self.assertEqual(listing.common_prefixes, ["a/", "b/", "d/"])
        self.assertEqual([v.key for v in listing.objects], ["c"])
        self.assertLess(rows, 20)

    def test_version_marker(self):
        """
        Version listings resume inside a key after a version's sequence
        number, newest first.
        """

        def add(conn):
            _add_keys(conn, [])
            for number in range(3):
                catalog.add_version(conn, ObjectVersion("b", "k", f"v{number}", True, False, 0, "", 0.0, "o"))
            catalog.add_version(conn, _version("l"))
            return catalog.seq_of(conn, "versions", bucket="b", key="k", version_id="v1")

        seq = self.successResultOf(self.catalog.write(add))
        page = self.successResultOf(self.catalog.read(listings.list_versions, "b", "", "", "k", seq, 1))
        self.assertEqual([(v.key, v.version_id) for v in page.versions], [("k", "v0")])
        self.assertEqual((page.next_key_marker, page.next_version_id_marker), ("k", "v0"))
        self.assertTrue(page.is_truncated)
        page = self.successResultOf(self.catalog.read(listings.list_versions, "b", "", "", "k", seq, 10))
        self.assertEqual([(v.key, v.version_id) for v in page.versions], [("k", "v0"), ("l", "null")])
        self.assertFalse(page.is_truncated)


class GroupCommitTests(TestCase):
    """
    Writes wait in one queue and commit together; reads run on reader
    threads and see every committed write.
    """

    def setUp(self):
        self.path = os.path.abspath(self.mktemp())
        self.catalog = catalog.Catalog(self.path, reactor)
        self.addCleanup(lambda: self.catalog.stop())
        return self.catalog.start().addCallback(lambda _: self.catalog.write(_add_keys, []))

    def _hold_writer(self):
        """
        Queue a write that blocks the writer thread until the returned
        event is set.
        """
        started, release = threading.Event(), threading.Event()

        def blocking(conn):
            started.set()
            release.wait(30)

        held = self.catalog.write(blocking)
        started.wait(30)
        return held, release

    @inlineCallbacks
    def test_batched(self):
        """
        Ten writes queued while the writer is busy commit in one
        transaction, and each caller gets its own result.
        """
        batches, writes = self.catalog.batches, self.catalog.writes
        held, release = self._hold_writer()
        queued = [self.catalog.write(lambda conn, n=n: catalog.add_version(conn, _version(f"k{n}")) or n) for n in range(10)]
        release.set()
        yield held
        self.assertEqual((yield gatherResults(queued)), list(range(10)))
        self.assertEqual((self.catalog.batches - batches, self.catalog.writes - writes), (2, 11))

    @inlineCallbacks
    def test_savepoints(self):
        """
        A function that fails in a batch rolls back only its own changes.
        """
        held, release = self._hold_writer()

        def failing(conn):
            catalog.add_version(conn, _version("bad"))
            raise KeyError("bad")

        good = self.catalog.write(lambda conn: catalog.add_version(conn, _version("good1")))
        bad = self.catalog.write(failing)
        later = self.catalog.write(lambda conn: catalog.add_version(conn, _version("good2")))
        release.set()
        yield held
        yield good
        yield self.assertFailure(bad, KeyError)
        yield later
        listing = yield self.catalog.read(listings.list_objects, "b", "", "", "", 10)
        self.assertEqual([v.key for v in listing.objects], ["good1", "good2"])

    @inlineCallbacks
    def test_threads_and_read_after_write(self):
        """
        Neither reads nor writes run on the reactor thread, and a read
        issued after a write's Deferred fired sees it, also after a restart.
        """
        main = threading.current_thread()
        threads = []

        def write(conn):
            threads.append(threading.current_thread())
            catalog.add_version(conn, _version("seen"))

        def read(conn):
            threads.append(threading.current_thread())
            return catalog.version(conn, "b", "seen")

        yield self.catalog.write(write)
        self.assertEqual((yield self.catalog.read(read)).key, "seen")
        self.assertNotIn(main, threads)
        yield self.catalog.stop()
        self.catalog = catalog.Catalog(self.path, reactor)
        yield self.catalog.start()
        self.assertEqual((yield self.catalog.read(read)).key, "seen")
