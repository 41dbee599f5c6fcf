# -*- test-case-name: tests.services.walrus.test_blobs -*-
"""
Object data as files: spools filling up in C{tmp/}, blobs in C{data/}.

A blob is one immutable file, C{data/<2 hex>/<uuid hex>}: its name is a
random id, never anything a client chose, so keys never reach the file
system.  A L{Spool} is a temporary file in C{tmp/} (the same file system)
written by a writer thread as data arrives; L{BlobStore.commit} makes it a
blob (fsync, rename, fsync of the directory).  Each blob name belongs to one
catalog entry; copies are hard links under new names, so freeing a name
never frees data another entry still uses.

Every blocking call runs on a L{Workers} thread.  A blob a reader has open is
I{pinned}: freeing it is put off until the reader closes, so a reader sees a
whole old version or an error before it starts, never a missing piece.
"""

import hashlib
import os
import queue
import threading
import uuid

from twisted.internet.defer import Deferred, fail, gatherResults, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from eucalyptus.services.walrus.interfaces import ISpool, SpoolResult

__all__ = ["Workers", "Spool", "BlobReader", "BlobStore", "fsync_directory"]

_COPY_CHUNK = 1 << 20


def fsync_directory(path):
    """
    Make the entries of directory C{path} durable.
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Workers:
    """
    Threads serving one queue of jobs in order, answering in the reactor
    thread.  With C{count} 0 every job runs at once in the caller's thread
    (for tests, like Buildbot's C{NonThreadPool}).

    @ivar inline: C{True} when jobs run in the caller's thread.
    """

    _log = Logger()

    def __init__(self, reactor, count, name, on_exit=None):
        """
        @param on_exit: called in each thread as it stops (to close a
            per-thread connection).
        """
        self._reactor = reactor
        self._count = count
        self._name = name
        self._on_exit = on_exit
        self._queue = queue.SimpleQueue()
        self._running = 0
        self._stopped = []
        self.inline = count == 0

    def start(self):
        """
        Start the threads.
        """
        for index in range(self._count):
            thread = threading.Thread(target=self._loop, name=f"{self._name}-{index}", daemon=True)
            self._running += 1
            thread.start()

    def submit(self, fn, *args):
        """
        Run C{fn(*args)} on a thread.

        @return: a Deferred firing in the reactor thread with its result.
        """
        if self.inline:
            try:
                return succeed(fn(*args))
            except BaseException:
                return fail()
        d = Deferred()
        self._queue.put((fn, args, d))
        return d

    def post(self, fn, *args):
        """
        Run C{fn(*args)} on a thread without waiting for it; an error is
        logged.  Safe to call from any thread.
        """
        if self.inline:
            self._run(fn, args, None)
        else:
            self._queue.put((fn, args, None))

    def to_reactor(self, fn, *args):
        """
        Call C{fn(*args)} in the reactor thread (at once when inline).
        """
        if self.inline:
            fn(*args)
        else:
            self._reactor.callFromThread(fn, *args)

    def stop(self):
        """
        Stop the threads once the jobs queued so far are done.

        @return: a Deferred firing when every thread has stopped.
        """
        if self.inline or not self._running:
            if self.inline and self._on_exit is not None:
                self._on_exit()
            return succeed(None)
        d = Deferred()
        if not self._stopped:
            for _ in range(self._running):
                self._queue.put(None)
        self._stopped.append(d)
        return d

    def _loop(self):
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    break
                self._run(*job)
        finally:
            if self._on_exit is not None:
                self._on_exit()
            self._reactor.callFromThread(self._exited)

    def _run(self, fn, args, d):
        try:
            result = fn(*args)
        except BaseException:
            failure = Failure()
            if d is None:
                self.to_reactor(self._log_failure, failure)
            else:
                self.to_reactor(d.errback, failure)
        else:
            if d is not None:
                self.to_reactor(d.callback, result)

    def _log_failure(self, failure):
        self._log.failure("Background job on {name} failed", failure, name=self._name)

    def _exited(self):
        self._running -= 1
        if not self._running:
            waiting, self._stopped = self._stopped, []
            for d in waiting:
                d.callback(None)


@implementer(ISpool)
class Spool:
    """
    A temporary file filled by one writer thread, which also hashes.

    The reactor thread only queues chunks (L{write} never blocks); the
    writer thread opens, writes and hashes.  States: C{open}, C{finished},
    then C{taken} (it became a blob) or C{discarded}.

    @ivar path: the temporary file.
    """

    def __init__(self, path, writer):
        """
        @param writer: the single-thread L{Workers} this spool writes on;
            its order keeps the chunks in order.
        """
        self.path = path
        self._writer = writer
        self._lock = threading.Lock()
        self._backlog = 0
        self._drain_waiters = []
        self._state = "open"
        self._outcome = None
        self._finish_waiters = []
        # Touched only on the writer thread:
        self._file = None
        self._error = None
        self._size = 0
        self._md5 = hashlib.md5()
        self._sha256 = hashlib.sha256()

    @property
    def backlog(self):
        """
        Bytes queued for the writer thread.
        """
        return self._backlog

    def write(self, data):
        """
        Queue C{data} for the writer thread.

        @raise ValueError: after L{finish} or L{discard}.
        """
        if self._state != "open":
            raise ValueError(f"write to a {self._state} spool")
        if not data:
            return
        with self._lock:
            self._backlog += len(data)
        self._writer.post(self._write, data)

    def drained(self, low=0):
        """
        See L{ISpool.drained}.
        """
        with self._lock:
            if self._backlog <= low:
                return succeed(None)
            d = Deferred()
            self._drain_waiters.append((low, d))
            return d

    def finish(self):
        """
        See L{ISpool.finish}.
        """
        if self._state == "open":
            self._state = "finished"
            self._writer.post(self._finish)
        d = Deferred()
        if self._outcome is not None:
            self._deliver(d, self._outcome)
        elif self._state == "discarded":
            d.errback(ValueError("the spool was discarded before it was finished"))
        else:
            self._finish_waiters.append(d)
        return d

    def discard(self):
        """
        See L{ISpool.discard}.  Does nothing once the data became a blob.
        """
        if self._state in ("taken", "discarded"):
            return
        self._state = "discarded"
        self._writer.post(self._discard)

    def take(self):
        """
        Hand the finished file over to the caller, who will commit it.

        @return: the open file object (flushed, not fsynced).
        @raise ValueError: the spool is not finished and whole.
        """
        if self._state != "finished" or not isinstance(self._outcome, SpoolResult):
            raise ValueError(f"cannot commit a {self._state} spool")
        self._state = "taken"
        return self._file

    def _write(self, data):
        try:
            if self._error is None and self._state != "discarded":
                if self._file is None:
                    self._file = open(self.path, "xb")
                self._md5.update(data)
                self._sha256.update(data)
                self._file.write(data)
                self._size += len(data)
        except Exception:
            self._error = Failure()
        finally:
            with self._lock:
                self._backlog -= len(data)
                ready = [d for low, d in self._drain_waiters if self._backlog <= low]
                self._drain_waiters = [(low, d) for low, d in self._drain_waiters if self._backlog > low]
            if ready:
                self._writer.to_reactor(_fire_all, ready)

    def _finish(self):
        outcome = self._error
        if outcome is None and self._state != "discarded":
            try:
                if self._file is None:
                    self._file = open(self.path, "xb")
                self._file.flush()
                outcome = SpoolResult(self._size, self._md5.hexdigest(), self._sha256.hexdigest())
            except Exception:
                outcome = Failure()
        if outcome is None:
            outcome = Failure(ValueError("the spool was discarded"))
        self._writer.to_reactor(self._finished, outcome)

    def _finished(self, outcome):
        self._outcome = outcome
        waiting, self._finish_waiters = self._finish_waiters, []
        for d in waiting:
            self._deliver(d, outcome)

    @staticmethod
    def _deliver(d, outcome):
        if isinstance(outcome, Failure):
            d.errback(outcome)
        else:
            d.callback(outcome)

    def _discard(self):
        if self._file is not None:
            self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _fire_all(deferreds):
    for d in deferreds:
        d.callback(None)


class BlobReader:
    """
    A binary file-like object over a byte range spread across blobs.  It
    opens each blob when it reaches it; the blobs are pinned until
    L{close}.
    """

    def __init__(self, segments, on_close=None):
        """
        @param segments: C{(path, offset, length)} to read in order.
        @param on_close: called once by L{close}.
        """
        self._segments = [s for s in segments if s[2] > 0]
        self._on_close = on_close
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
        want = self.remaining if size is None or size < 0 else min(size, self.remaining)
        chunks = []
        while want > 0:
            path, offset, length = self._segments[self._index]
            if self._fd is None:
                self._fd = os.open(path, os.O_RDONLY)
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
        return b"".join(chunks)

    def close(self):
        """
        Close the open blob and unpin the range.
        """
        if self.closed:
            return
        self.closed = True
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

    def __init__(self, root, reactor, io_threads=4, spool_writers=4):
        """
        @param io_threads: threads for fsync, rename, link, copy and unlink;
            0 runs them inline (tests).
        @param spool_writers: writer threads spools are spread over (each
            spool stays on one); 0 writes inline (tests).
        """
        self.root = root
        self.data = os.path.join(root, "data")
        self.tmp = os.path.join(root, "tmp")
        self._io = Workers(reactor, io_threads, "walrus-io")
        self._writers = [Workers(reactor, 1 if spool_writers else 0, f"walrus-spool-{i}") for i in range(max(1, spool_writers))]
        self._next_writer = 0
        self._lock = threading.Lock()
        self._pins = {}
        self._dying = set()
        self._put_off = set()

    def start(self):
        """
        Start the threads and make the directories; empty C{tmp/}.

        @return: a Deferred.
        """
        self._io.start()
        for writer in self._writers:
            writer.start()
        return self._io.submit(self._prepare)

    def stop(self):
        """
        Stop the threads once queued work is done.  @return: a Deferred.
        """
        stopping = gatherResults([writer.stop() for writer in self._writers], consumeErrors=True)
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

    def spool(self):
        """
        @return: a new L{Spool} in C{tmp/}, on the next writer thread.
        """
        writer = self._writers[self._next_writer % len(self._writers)]
        self._next_writer += 1
        return Spool(os.path.join(self.tmp, uuid.uuid4().hex), writer)

    def commit(self, spool):
        """
        Make a finished spool a durable blob.

        @return: a Deferred firing with the new blob id.
        """
        return self._io.submit(self._commit, spool.take(), spool.path, uuid.uuid4().hex)

    def link(self, blob_ids):
        """
        Give each blob a second name (a hard link) without copying.

        @return: a Deferred firing with the new ids, in order.
        @raise FileNotFoundError: a blob was freed already.
        """
        return self._io.submit(self._link, list(blob_ids))

    def open(self, segments, start, end):
        """
        Open bytes C{[start, end)} of the concatenation of C{segments}.

        @param segments: C{(blob_id, size, ...)} in order.
        @return: a Deferred L{BlobReader}.
        @raise FileNotFoundError: a blob was freed already.
        """
        ranges = list(_ranges(segments, start, end))
        ids = [blob_id for blob_id, _, _ in ranges]
        with self._lock:
            if self._dying.intersection(ids):
                return fail(FileNotFoundError("the version was replaced"))
            for blob_id in ids:
                self._pins[blob_id] = self._pins.get(blob_id, 0) + 1
        segments = [(self.path(blob_id), offset, length) for blob_id, offset, length in ranges]
        d = self._io.submit(self._check, segments)

        def opened(_):
            return BlobReader(segments, on_close=lambda: self._unpin(ids))

        def missing(failure):
            self._unpin(ids)
            return failure

        return d.addCallbacks(opened, missing)

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

    def _commit(self, file, tmp, blob_id):
        path = self._new_path(blob_id)
        try:
            try:
                file.flush()
                os.fsync(file.fileno())
            finally:
                file.close()
            os.rename(tmp, path)
            fsync_directory(os.path.dirname(path))
        except BaseException:
            for leftover in (tmp, path):
                _unlink_quietly(leftover)
            raise
        return blob_id

    def _link(self, blob_ids):
        made = []
        try:
            for blob_id in blob_ids:
                new = uuid.uuid4().hex
                os.link(self.path(blob_id), self._new_path(new))
                made.append(new)
            for directory in {os.path.dirname(self.path(new)) for new in made}:
                fsync_directory(directory)
        except BaseException:
            for new in made:
                _unlink_quietly(self.path(new))
            raise
        return made

    def _check(self, segments):
        for path, _, _ in segments:
            os.stat(path)

    def _copy(self, reader):
        blob_id = uuid.uuid4().hex
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
                _unlink_quietly(leftover)
            raise
        return blob_id, size, md5.hexdigest()

    def _free(self, blob_ids):
        with self._lock:
            now = [b for b in blob_ids if not self._pins.get(b)]
            self._put_off.update(b for b in blob_ids if self._pins.get(b))
            self._dying.update(now)
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


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
