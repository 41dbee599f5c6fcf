# -*- test-case-name: tests.services.walrus.test_blobs -*-
"""
Tests for L{eucalyptus.services.walrus.blobs}: worker threads, spools, blob
files, readers, pins and the sweep.
"""

import hashlib
import os
import resource
import threading

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from eucalyptus.services.walrus.blobs import SMALL, BlobReader, BlobStore, Locator
from eucalyptus.threads import Workers
from eucalyptus.services.walrus.interfaces import ISpool, SpoolResult
from eucalyptus.services.walrus.spool import BATCH

__all__ = ["WorkersTests", "SpoolTests", "BlobReaderTests", "BlobStoreTests"]


def _files(path):
    return sorted(name for _, _, names in os.walk(path) for name in names)


class WorkersTests(TestCase):
    """
    L{Workers} runs jobs on its threads and answers in the reactor thread.
    """

    def test_inline(self):
        """
        With no threads, a job runs at once in the caller's thread.
        """
        workers = Workers(Clock(), 0, "test")
        d = workers.submit(threading.current_thread)
        self.assertIs(self.successResultOf(d), threading.current_thread())

    @inlineCallbacks
    def test_threaded(self):
        """
        A job runs on a worker thread; its result and its errors come back
        through the Deferred in the reactor thread.
        """
        workers = Workers(reactor, 2, "test")
        workers.start()
        self.addCleanup(workers.stop)
        thread = yield workers.submit(threading.current_thread)
        self.assertIsNot(thread, threading.current_thread())
        yield self.assertFailure(workers.submit(int, "x"), ValueError)

    @inlineCallbacks
    def test_stop_after_queued_jobs(self):
        """
        L{Workers.stop} lets the queued jobs finish, runs C{on_exit} in each
        thread and then fires.
        """
        done, exits = [], []
        workers = Workers(reactor, 3, "test", on_exit=lambda: exits.append(1))
        workers.start()
        for index in range(20):
            workers.post(done.append, index)
        yield workers.stop()
        self.assertEqual(sorted(done), list(range(20)))
        self.assertEqual(len(exits), 3)


class SpoolTests(TestCase):
    """
    A L{Spool} hashes and writes on its writer thread, with a backlog the
    caller can wait on.
    """

    def setUp(self):
        self.root = os.path.abspath(self.mktemp())
        self.blobs = BlobStore(self.root, reactor, io_threads=1, spool_writers=2)
        self.addCleanup(self.blobs.stop)
        return self.blobs.start()

    @inlineCallbacks
    def test_digests(self):
        """
        L{Spool.finish} fires with the size, MD5 and SHA-256 of what was
        written; calling it again gives the same result.
        """
        spool = self.blobs.spool()
        self.assertTrue(verifyObject(ISpool, spool))
        spool.write(b"hello ")
        spool.write(b"")
        spool.write(b"world")
        result = yield spool.finish()
        body = b"hello world"
        self.assertEqual(result, SpoolResult(11, hashlib.md5(body).hexdigest(), hashlib.sha256(body).hexdigest()))
        self.assertEqual((yield spool.finish()), result)
        self.assertRaises(ValueError, spool.write, b"more")
        spool.discard()

    @inlineCallbacks
    def test_large_upload_flat_memory(self):
        """
        64 MiB written in 64 KiB chunks, pausing whenever the backlog is over
        4 MiB as the HTTP layer does, finishes with the right MD5, never
        holds more than the high-water mark plus a chunk, and does not grow
        the process by the size of the upload.
        """
        chunk = bytes(range(256)) * 256
        high, most = 4 << 20, 0
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        spool = self.blobs.spool()
        md5 = hashlib.md5()
        for _ in range(1024):
            spool.write(chunk)
            md5.update(chunk)
            most = max(most, spool.backlog)
            if spool.backlog > high:
                yield spool.drained(high // 2)
                self.assertLessEqual(spool.backlog, high // 2)
        result = yield spool.finish()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.assertEqual((result.size, result.md5), (64 << 20, md5.hexdigest()))
        self.assertEqual(spool.backlog, 0)
        self.assertLessEqual(most, high + len(chunk))
        self.assertLess((after - before) * 1024, 48 << 20)
        self.assertEqual(os.path.getsize(spool.path), 64 << 20)
        spool.discard()

    def test_drained_at_once(self):
        """
        L{Spool.drained} fires at once when the backlog is already low.
        """
        spool = self.blobs.spool()
        self.assertIsNone(self.successResultOf(spool.drained()))
        spool.discard()

    @inlineCallbacks
    def test_discard(self):
        """
        A discarded spool leaves no file; later writes are refused and a
        later discard does nothing.
        """
        spool = self.blobs.spool()
        spool.write(b"d" * (BATCH + 1))
        yield spool.finish()
        self.assertTrue(os.path.exists(spool.path))
        spool.discard()
        spool.discard()
        yield self.blobs.stop()
        self.assertFalse(os.path.exists(spool.path))
        self.assertRaises(ValueError, spool.write, b"x")

    @inlineCallbacks
    def test_small_stays_in_memory(self):
        """
        A spool finished with no more than a batch never makes a file, and
        its commit writes it durably in one job.
        """
        spool = self.blobs.spool()
        spool.write(b"small")
        result = yield spool.finish()
        self.assertEqual(result.md5, hashlib.md5(b"small").hexdigest())
        self.assertFalse(os.path.exists(spool.path))
        blob_id = yield self.blobs.commit(spool)
        with open(self.blobs.path(blob_id), "rb") as f:
            self.assertEqual(f.read(), b"small")
        self.assertEqual(os.listdir(self.blobs.tmp), [])

    @inlineCallbacks
    def test_without_sha256(self):
        """
        A spool told no SHA-256 is needed leaves it out, in memory or
        streamed, and still has the MD5.
        """
        for body in (b"x" * 100, b"y" * (3 * BATCH + 5), b"z" * (BATCH // 2)):
            spool = self.blobs.spool(sha256=False)
            spool.write(body)
            result = yield spool.finish()
            self.assertEqual(result, SpoolResult(len(body), hashlib.md5(body).hexdigest(), None))
            spool.discard()

    @inlineCallbacks
    def test_streamed_commit(self):
        """
        A body streamed in many chunks is hashed and written in order, and
        its commit renames the temporary file into C{data/}.
        """
        chunks = [bytes([i % 251]) * (40000 + i) for i in range(100)]
        body = b"".join(chunks)
        spool = self.blobs.spool()
        for chunk in chunks:
            spool.write(chunk)
        result = yield spool.finish()
        self.assertEqual(result, SpoolResult(len(body), hashlib.md5(body).hexdigest(), hashlib.sha256(body).hexdigest()))
        blob_id = yield self.blobs.commit(spool)
        with open(self.blobs.path(blob_id), "rb") as f:
            self.assertEqual(f.read(), body)
        self.assertEqual(os.listdir(self.blobs.tmp), [])

    @inlineCallbacks
    def test_write_error(self):
        """
        An error on the writer thread (here: no C{tmp/} directory) fails
        L{Spool.finish}, and the backlog still drains.
        """
        os.rmdir(self.blobs.tmp)
        spool = self.blobs.spool()
        spool.write(b"x" * 100000)
        yield spool.drained()
        yield self.assertFailure(spool.finish(), FileNotFoundError)
        spool.discard()


class BlobReaderTests(SynchronousTestCase):
    """
    L{BlobReader} reads a byte range across several files.
    """

    def setUp(self):
        self.dir = self.mktemp()
        os.makedirs(self.dir)
        self.paths = []
        for index, body in enumerate([b"0123456789", b"", b"abcdef"]):
            path = os.path.join(self.dir, str(index))
            with open(path, "wb") as f:
                f.write(body)
            self.paths.append(path)

    def test_across_segments(self):
        """
        C{read(n)} returns exactly C{n} bytes across file boundaries until
        the range ends, then C{b""}; C{close} calls C{on_close} once.
        """
        closed = []
        segments = [(self.paths[0], 3, 7), (self.paths[1], 0, 0), (self.paths[2], 0, 4)]
        reader = BlobReader(segments, on_close=lambda: closed.append(1))
        self.assertEqual(reader.read(5), b"34567")
        self.assertEqual(reader.read(4), b"89ab")
        self.assertEqual(reader.read(100), b"cd")
        self.assertEqual(reader.read(1), b"")
        reader.close()
        reader.close()
        self.assertEqual(closed, [1])
        self.assertRaises(ValueError, reader.read)

    def test_read_all(self):
        """
        C{read()} returns everything that remains.
        """
        with BlobReader([(self.paths[0], 0, 10), (self.paths[2], 2, 4)]) as reader:
            self.assertEqual(reader.read(2), b"01")
            self.assertEqual(reader.read(), b"23456789cdef")

    def test_shorter_file(self):
        """
        A file shorter than its segment is an error, not silent truncation.
        """
        with BlobReader([(self.paths[2], 0, 10)]) as reader:
            self.assertRaises(OSError, reader.read)


class BlobStoreTests(SynchronousTestCase):
    """
    L{BlobStore} with its work inline: commit, link, open, copy, free and
    sweep.
    """

    def setUp(self):
        self.root = self.mktemp()
        self.blobs = BlobStore(self.root, Clock(), io_threads=0, spool_writers=0)
        self.successResultOf(self.blobs.start())
        self.addCleanup(self.blobs.stop)

    def _blob(self, body):
        spool = self.blobs.spool()
        spool.write(body)
        self.successResultOf(spool.finish())
        return self.successResultOf(self.blobs.commit(spool))

    def test_commit(self):
        """
        A committed spool is renamed to C{data/<2 hex>/<id>} and C{tmp/} is
        empty; a committed spool ignores L{Spool.discard}.
        """
        spool = self.blobs.spool()
        spool.write(b"body")
        self.successResultOf(spool.finish())
        blob_id = self.successResultOf(self.blobs.commit(spool))
        spool.discard()
        self.assertEqual(os.listdir(self.blobs.tmp), [])
        path = self.blobs.path(blob_id)
        self.assertEqual(path, os.path.join(self.root, "data", blob_id[:2], blob_id))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"body")

    def test_commit_unfinished(self):
        """
        Only a finished spool can become a blob.
        """
        spool = self.blobs.spool()
        self.assertRaises(ValueError, self.blobs.commit, spool)

    def test_link_shares_inode(self):
        """
        L{BlobStore.link} gives new names to the same inodes.
        """
        blob_id = self._blob(b"shared")
        (copy,) = self.successResultOf(self.blobs.link([blob_id]))
        self.assertNotEqual(copy, blob_id)
        self.assertEqual(os.stat(self.blobs.path(copy)).st_ino, os.stat(self.blobs.path(blob_id)).st_ino)
        self.failureResultOf(self.blobs.link(["0" * 32]), FileNotFoundError)

    def test_open_and_copy_range(self):
        """
        A range across two blobs reads and copies correctly.
        """
        segments = [(self._blob(b"hello "), 6, ""), (self._blob(b"world"), 5, "")]
        with self.successResultOf(self.blobs.open(segments, 3, 8)) as reader:
            self.assertEqual(reader.read(), b"lo wo")
        blob_id, size, md5 = self.successResultOf(self.blobs.copy_range(segments, 4, 11))
        self.assertEqual((size, md5), (7, hashlib.md5(b"o world").hexdigest()))
        with open(self.blobs.path(blob_id), "rb") as f:
            self.assertEqual(f.read(), b"o world")

    def test_pinned_blob_freed_on_close(self):
        """
        A blob freed while a reader has it open stays until the reader
        closes; a freed blob cannot be opened.
        """
        blob_id = self._blob(b"pinned")
        reader = self.successResultOf(self.blobs.open([(blob_id, 6)], 0, 6))
        self.assertEqual(self.successResultOf(self.blobs.free([blob_id])), [])
        self.assertTrue(os.path.exists(self.blobs.path(blob_id)))
        self.assertEqual(reader.read(), b"pinned")
        reader.close()
        self.assertFalse(os.path.exists(self.blobs.path(blob_id)))
        self.failureResultOf(self.blobs.open([(blob_id, 6)], 0, 6), FileNotFoundError)

    def test_probed_open(self):
        """
        A L{Locator} probed before any blob was freed opens without another
        look; a blob freed after the probe is caught by the look L{open}
        then makes.
        """
        body = b"p" * (SMALL + 1)
        blob_id = self._blob(body)
        other = self._blob(b"other")
        locator = Locator.probed([(blob_id, len(body))], self.blobs.probe([(blob_id, len(body))]))
        self.assertIsNotNone(locator.probe)
        self.assertIsNone(locator.data)
        with self.successResultOf(self.blobs.open(locator, 1, 4)) as reader:
            self.assertEqual(self.successResultOf(reader.read_later(10)), b"ppp")
        self.successResultOf(self.blobs.free([other]))
        self.successResultOf(self.blobs.free([blob_id]))
        self.failureResultOf(self.blobs.open(locator, 0, 6), FileNotFoundError)
        self.assertEqual(self.blobs.probe([(blob_id, len(body))]), (None, None))

    def test_probe_reads_small(self):
        """
        L{BlobStore.probe} reads a small version's bytes, and a reader
        opened from them needs no file.
        """
        first, second = self._blob(b"hello "), self._blob(b"world")
        segments = [(first, 6, ""), (second, 5, "")]
        locator = Locator.probed(segments, self.blobs.probe(segments))
        self.assertEqual(locator.data, b"hello world")
        self.successResultOf(self.blobs.free([first, second]))
        with self.successResultOf(self.blobs.open(locator, 3, 8)) as reader:
            self.assertEqual(reader.read(2), b"lo")
            self.assertEqual(self.successResultOf(reader.read_later(10)), b" wo")
            self.assertEqual(reader.read(), b"")

    def test_sweep(self):
        """
        L{BlobStore.sweep} removes the blobs not named, and a restart empties
        C{tmp/}.
        """
        keep, lose = self._blob(b"keep"), self._blob(b"lose")
        with open(os.path.join(self.blobs.tmp, "leftover"), "wb") as f:
            f.write(b"partial upload")
        self.assertEqual(self.successResultOf(self.blobs.sweep({keep})), [lose])
        self.successResultOf(self.blobs.start())
        self.assertEqual(_files(self.root), [keep])
