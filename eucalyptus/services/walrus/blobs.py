# -*- test-case-name: tests.services.walrus.test_blobs -*-
"""
Object data as files: spools filling up in C{tmp/}, blobs in C{data/}.

A blob is one immutable file, C{data/<2 hex>/<32 hex>}: its name is a
random id, never anything a client chose, so keys never reach the file
system.  A L{Spool} gathers incoming data; a small one stays in memory and
L{BlobStore.commit} writes, fsyncs and renames it in one job, a large one
is written to a temporary file in C{tmp/} (the same file system) by a
writer thread while a second thread hashes it, and its commit fsyncs and
renames that file.  Either way the directory is fsynced too.  Each blob
name belongs to one catalog entry; copies are hard links under new names,
so freeing a name never frees data another entry still uses.

Every blocking call runs on a L{Workers} thread.  A blob a reader has open is
I{pinned}: freeing it is put off until the reader closes, so a reader sees a
whole old version or an error before it starts, never a missing piece.
"""

import hashlib
import os
import threading
import random

from twisted.internet.defer import fail, gatherResults, succeed
from twisted.logger import Logger

from eucalyptus.services.walrus.spool import Spool, unlink_quietly, write_all
from eucalyptus.threads import Workers
from eucalyptus.files import fsync_directory

__all__ = ["BlobReader", "BlobStore", "Locator", "SMALL"]

_COPY_CHUNK = 1 << 20
# Versions up to this size have their bytes read by L{BlobStore.probe}.
SMALL = 64 << 10


class Locator(tuple):
    """
    A version's blobs (C{(blob_id, size, md5)} each, in order) together
    with what L{BlobStore.probe} found: a mark proving they all existed at
    a moment after which L{BlobStore.open} can tell whether any was freed,
    and, for a small version, its bytes.  It lets a GET open its blobs
    without another trip to a thread.

    @ivar probe: the mark, or C{None}.
    @ivar data: the bytes of a small version, or C{None}.
    """

    probe = None
    data = None

    @classmethod
    def probed(cls, blobs, found):
        """
        @param found: what L{BlobStore.probe} returned.
        @return: a L{Locator} of C{blobs} carrying it.
        """
        locator = cls(blobs)
        locator.probe, locator.data = found
        return locator


class _BytesReader:
    """
    A L{BlobReader} over bytes already read.
    """

    def __init__(self, data):
        self._data = memoryview(data)
        self.closed = False

    def read(self, size=-1):
        if self.closed:
            raise ValueError("read from a closed reader")
        size = len(self._data) if size is None or size < 0 else size
        data, self._data = bytes(self._data[:size]), self._data[size:]
        return data

    def read_later(self, size):
        try:
            return succeed(self.read(size))
        except ValueError:
            return fail()

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class BlobReader:
    """
    A binary file-like object over a byte range spread across blobs.  It
    opens each blob when it reaches it; the blobs are pinned until
    L{close}.  With a I{lane} it can also read on that thread
    (L{read_later}), one read after the other.
    """

    def __init__(self, segments, on_close=None, lane=None):
        """
        @param segments: C{(path, offset, length)} to read in order.
        @param on_close: called once, when the reader has closed.
        @param lane: the single-thread L{Workers} L{read_later} and the
            closing run on, or C{None}.
        """
        self._segments = [s for s in segments if s[2] > 0]
        self._on_close = on_close
        self._lane = lane
        self._index = 0
        self._position = 0
        self._fd = None
        self.remaining = sum(s[2] for s in self._segments)
        self.closed = False

    def read(self, size=-1):
        """
        Read up to C{size} bytes (all that remain when negative); fewer
        only at the end of the range.
        """
        if self.closed:
            raise ValueError("read from a closed BlobReader")
        return self._read(size)

    def read_later(self, size):
        """
        Read up to C{size} bytes on the reader's lane (in the caller's
        thread without one).

        @return: a Deferred firing with the bytes (C{b""} at the end).
        """
        if self.closed:
            return fail(ValueError("read from a closed BlobReader"))
        if self._lane is None:
            try:
                return succeed(self._read(size))
            except BaseException:
                return fail()
        return self._lane.submit(self._read, size)

    def _read(self, size):
        want = self.remaining if size is None or size < 0 else min(size, self.remaining)
        chunks = []
        while want > 0:
            path, offset, length = self._segments[self._index]
            if self._fd is None:
                self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                if length - self._position > _COPY_CHUNK:
                    os.posix_fadvise(self._fd, offset + self._position, length - self._position, os.POSIX_FADV_SEQUENTIAL)
            data = os.pread(self._fd, min(want, length - self._position), offset + self._position)
            if not data:
                raise OSError(f"blob {path} is shorter than catalogued")
            chunks.append(data)
            want -= len(data)
            self.remaining -= len(data)
            self._position += len(data)
            if self._position == length:
                os.close(self._fd)
                self._fd = None
                self._index += 1
                self._position = 0
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self):
        """
        Close the open blob and unpin the range (on the lane, after the
        reads queued there).
        """
        if self.closed:
            return
        self.closed = True
        if self._lane is None:
            self._close()
        else:
            self._lane.post(self._close)

    def _close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._on_close is not None:
            self._on_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class BlobStore:
    """
    The files under a Walrus root: C{tmp/} for spools, C{data/} for blobs.
    """

    _log = Logger()

    def __init__(self, root, reactor, io_threads=3, spool_writers=2):
        """
        @param io_threads: threads for fsync, rename, link, copy and unlink;
            0 runs them inline (tests).
        @param spool_writers: lanes spools and readers are spread over (each
            spool or reader stays on one), each with a hashing lane beside
            it; 0 runs them inline (tests).
        """
        self.root = root
        self.data = os.path.join(root, "data")
        self.tmp = os.path.join(root, "tmp")
        self._io = Workers(reactor, io_threads, "walrus-io")
        lanes = max(1, spool_writers)
        self._lanes = [Workers(reactor, 1 if spool_writers else 0, f"walrus-lane-{i}") for i in range(lanes)]
        self._hashers = [Workers(reactor, 1 if spool_writers else 0, f"walrus-hash-{i}") for i in range(lanes)]
        self._next_lane = 0
        self._lock = threading.Lock()
        self._pins = {}
        self._dying = set()
        self._put_off = set()
        self._frees = 0
        # Blob ids are 128 random bits, as a UUID4 has, from a generator
        # seeded once: no system call per id.
        self._random = random.Random(os.urandom(32))

    def _new_id(self):
        return f"{self._random.getrandbits(128):032x}"

    def start(self):
        """
        Start the threads and make the directories; empty C{tmp/}.

        @return: a Deferred.
        """
        self._io.start()
        for lane in self._lanes + self._hashers:
            lane.start()
        return self._io.submit(self._prepare)

    def stop(self):
        """
        Stop the threads once queued work is done.  @return: a Deferred.
        """
        stopping = gatherResults([lane.stop() for lane in self._lanes + self._hashers], consumeErrors=True)
        return stopping.addCallback(lambda _: self._io.stop())

    def path(self, blob_id):
        """
        @return: the file of blob C{blob_id}.
        """
        return os.path.join(self.data, blob_id[:2], blob_id)

    def _new_path(self, blob_id):
        """
        The file of a blob about to be made, its directory created (and
        made durable) on first use.
        """
        path = self.path(blob_id)
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, exist_ok=True)
            fsync_directory(self.data)
        return path

    def _lane(self):
        index = self._next_lane % len(self._lanes)
        self._next_lane += 1
        return index

    def spool(self, sha256=True):
        """
        @param sha256: whether the spool computes the data's SHA-256.
        @return: a new L{Spool} in C{tmp/}, on the next lane.
        """
        index = self._lane()
        return Spool(os.path.join(self.tmp, self._new_id()), self._lanes[index], self._hashers[index], sha256)

    def commit(self, spool):
        """
        Make a finished spool a durable blob: its bytes written (if they
        were in memory) and fsynced, the file renamed into C{data/}, the
        directory fsynced, all in one job.

        @return: a Deferred firing with the new blob id.
        """
        fd, data = spool.take()
        return self._io.submit(self._commit, fd, data, spool.path, self._new_id())

    def link(self, blob_ids):
        """
        Give each blob a second name (a hard link) without copying.

        @return: a Deferred firing with the new ids, in order.
        @raise FileNotFoundError: a blob was freed already.
        """
        return self._io.submit(self._link, list(blob_ids))

    def probe(self, segments):
        """
        Check, in any thread, that every blob of C{segments} exists, and
        read them when they hold L{SMALL} bytes or fewer.

        @param segments: C{(blob_id, size, ...)}.
        @return: C{(mark, data)}: a mark for L{open} (which then need not
            look again unless a blob was freed since) or C{None} when a blob
            is gone or going, and the bytes or C{None}.
        """
        ids = [segment[0] for segment in segments]
        with self._lock:
            mark = self._frees
            if self._dying.intersection(ids):
                return None, None
        small = sum(segment[1] for segment in segments) <= SMALL
        chunks = []
        try:
            for blob_id, size, *_ in segments:
                if not small:
                    os.stat(self.path(blob_id))
                    continue
                with open(self.path(blob_id), "rb", buffering=0) as f:
                    data = f.read(size)
                if len(data) != size:
                    return None, None
                chunks.append(data)
        except FileNotFoundError:
            return None, None
        return mark, b"".join(chunks) if small else None

    def open(self, segments, start, end):
        """
        Open bytes C{[start, end)} of the concatenation of C{segments}.
        When C{segments} is a L{Locator} with the bytes, or whose probe is
        still good (no blob was freed since), this answers at once.

        @param segments: C{(blob_id, size, ...)} in order.
        @return: a Deferred L{BlobReader}.
        @raise FileNotFoundError: a blob was freed already.
        """
        data = getattr(segments, "data", None)
        if data is not None:
            return succeed(_BytesReader(data[start:end]))
        ranges = list(_ranges(segments, start, end))
        ids = [blob_id for blob_id, _, _ in ranges]
        probe = getattr(segments, "probe", None)
        with self._lock:
            if self._dying.intersection(ids):
                return fail(FileNotFoundError("the version was replaced"))
            for blob_id in ids:
                self._pins[blob_id] = self._pins.get(blob_id, 0) + 1
            fresh = probe is not None and probe == self._frees
        paths = [(self.path(blob_id), offset, length) for blob_id, offset, length in ranges]
        lane = self._lanes[self._lane()]

        def opened(_=None):
            return BlobReader(paths, on_close=lambda: self._unpin(ids), lane=lane)

        if fresh:
            return succeed(opened())

        def missing(failure):
            self._unpin(ids)
            return failure

        return self._io.submit(self._check, paths).addCallbacks(opened, missing)

    def copy_range(self, segments, start, end):
        """
        Copy bytes C{[start, end)} of C{segments} into a new blob.

        @return: a Deferred firing with C{(blob_id, size, md5 hex)}.
        """
        return self.open(segments, start, end).addCallback(lambda reader: self._io.submit(self._copy, reader))

    def free(self, blob_ids):
        """
        Remove blobs no catalog entry refers to any more (those a reader has
        open go when it closes them).

        @return: a Deferred firing with a list of C{(blob_id, error)} for
            files that could not be removed.
        """
        blob_ids = list(blob_ids)
        if not blob_ids:
            return succeed([])
        return self._io.submit(self._free, blob_ids)

    def sweep(self, referenced):
        """
        Remove every blob not in C{referenced} (left by a crash between the
        rename and the commit, or between the commit and the unlink).

        @return: a Deferred firing with the ids removed.
        """
        return self._io.submit(self._sweep, frozenset(referenced))

    def _prepare(self):
        for path in (self.root, self.tmp, self.data):
            os.makedirs(path, exist_ok=True)
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
        for path in (self.data, self.tmp, self.root):
            fsync_directory(path)

    def _commit(self, fd, data, tmp, blob_id):
        path = self._new_path(blob_id)
        try:
            try:
                if data is not None:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
                    write_all(fd, (data,))
                os.fsync(fd)
            finally:
                if fd is not None:
                    os.close(fd)
            os.rename(tmp, path)
            fsync_directory(os.path.dirname(path))
        except BaseException:
            for leftover in (tmp, path):
                unlink_quietly(leftover)
            raise
        return blob_id

    def _link(self, blob_ids):
        made = []
        try:
            for blob_id in blob_ids:
                new = self._new_id()
                os.link(self.path(blob_id), self._new_path(new))
                made.append(new)
            for directory in {os.path.dirname(self.path(new)) for new in made}:
                fsync_directory(directory)
        except BaseException:
            for new in made:
                unlink_quietly(self.path(new))
            raise
        return made

    def _check(self, segments):
        for path, _, _ in segments:
            os.stat(path)

    def _copy(self, reader):
        blob_id = self._new_id()
        tmp = os.path.join(self.tmp, blob_id)
        md5 = hashlib.md5()
        size = 0
        try:
            with reader, open(tmp, "xb") as out:
                while True:
                    data = reader.read(_COPY_CHUNK)
                    if not data:
                        break
                    md5.update(data)
                    out.write(data)
                    size += len(data)
                out.flush()
                os.fsync(out.fileno())
            os.rename(tmp, self._new_path(blob_id))
            fsync_directory(os.path.dirname(self.path(blob_id)))
        except BaseException:
            for leftover in (tmp, self.path(blob_id)):
                unlink_quietly(leftover)
            raise
        return blob_id, size, md5.hexdigest()

    def _free(self, blob_ids):
        with self._lock:
            now = [b for b in blob_ids if not self._pins.get(b)]
            self._put_off.update(b for b in blob_ids if self._pins.get(b))
            self._dying.update(now)
            if now:
                self._frees += 1
        errors = []
        try:
            for blob_id in now:
                try:
                    os.unlink(self.path(blob_id))
                except FileNotFoundError:
                    pass
                except OSError as e:
                    errors.append((blob_id, e))
        finally:
            with self._lock:
                self._dying.difference_update(now)
        return errors

    def _unpin(self, blob_ids):
        release = []
        with self._lock:
            for blob_id in blob_ids:
                count = self._pins[blob_id] - 1
                if count:
                    self._pins[blob_id] = count
                else:
                    del self._pins[blob_id]
                    if blob_id in self._put_off:
                        self._put_off.discard(blob_id)
                        release.append(blob_id)
        if release:
            self._io.post(self._free_and_log, release)

    def _free_and_log(self, blob_ids):
        for blob_id, error in self._free(blob_ids):
            self._io.to_reactor(self._log.error, "Cannot remove blob {blob}: {error}", blob=blob_id, error=error)

    def _sweep(self, referenced):
        removed = []
        for directory in sorted(os.listdir(self.data)):
            for name in os.listdir(os.path.join(self.data, directory)):
                if name not in referenced:
                    os.unlink(os.path.join(self.data, directory, name))
                    removed.append(name)
        return removed


def _ranges(segments, start, end):
    """
    Yield C{(blob_id, offset, length)} for the part of each segment within
    C{[start, end)} of their concatenation.
    """
    position = 0
    for segment in segments:
        blob_id, size = segment[0], segment[1]
        low, high = max(start, position), min(end, position + size)
        if low < high:
            yield blob_id, low - position, high - low
        position += size
