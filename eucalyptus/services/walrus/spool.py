# -*- test-case-name: tests.services.walrus.test_blobs -*-
"""
L{Spool}: incoming object data on its way to becoming a blob.

A small body stays in memory (the blob store then writes, fsyncs and renames
it in one job); a large one is handed, in batches of about 1 MiB, to a
writer I{lane} that writes it to a temporary file while a hashing lane
computes its digests, so hashing and writing overlap.  The writer also asks
the kernel to start writing back as it goes, so the fsync at commit has
little left to do.
"""

import ctypes
import ctypes.util
import hashlib
import os
import threading

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure
from zope.interface import implementer

from eucalyptus.services.walrus.interfaces import ISpool, SpoolResult

__all__ = ["Spool", "write_all", "unlink_quietly", "BATCH"]

# Bytes a spool gathers in the reactor thread before it hands them to its
# threads; a spool finished with no more than this never touches tmp/.
BATCH = 1 << 20
# Digests of in-memory spools up to this size are taken in the reactor.
_INLINE_HASH = 64 << 10
# A streaming spool asks the kernel to start writing back every this many
# bytes, so the fsync at commit finds little left to do.
_WRITEBACK = 16 << 20


def _writeback_starter():
    """
    C{sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)} from the C
    library, which starts writing dirty pages back without waiting (and
    releases the GIL, as every C{ctypes} call does); a no-op where there is
    none.  It only schedules I/O: durability still comes from C{fsync}.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        call = libc.sync_file_range
    except (OSError, AttributeError):
        return lambda fd, offset, length: None
    call.argtypes = (ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint)
    return lambda fd, offset, length: call(fd, offset, length, 2)


_start_writeback = _writeback_starter()


def write_all(fd, chunks):
    """
    Write every chunk to C{fd}, with as few system calls as it takes.
    """
    chunks = [memoryview(chunk) for chunk in chunks if chunk]
    while chunks:
        written = os.writev(fd, chunks[:1024])
        while written:
            if written >= len(chunks[0]):
                written -= len(chunks.pop(0))
            else:
                chunks[0] = chunks[0][written:]
                written = 0


@implementer(ISpool)
class Spool:
    """
    Incoming data, kept in memory while it is small and streamed to a
    temporary file once it is not.

    The reactor thread only gathers chunks (L{write} never blocks) and hands
    them over in batches of about 1 MiB: a writer I{lane} (one thread, so
    batches stay in order) writes them while a hashing lane computes the
    digests.  States: C{open}, C{finished}, then C{taken} (it became a
    blob) or C{discarded}.

    @ivar path: the temporary file (it exists only once data was streamed).
    """

    def __init__(self, path, writer, hasher=None, sha256=True):
        """
        @param writer: the single-thread L{Workers} this spool writes on.
        @param hasher: the single-thread L{Workers} it hashes on (C{None}:
            the writer hashes too).
        @param sha256: whether L{SpoolResult.sha256} is wanted (else
            C{None}): only a body whose signature covers its SHA-256 needs
            it.
        """
        self.path = path
        self._writer = writer
        self._hasher = hasher
        self._lock = threading.Lock()
        self._gathered = []
        self._gathered_size = 0
        self._queued = 0
        self._streaming = False
        self._drain_waiters = []
        self._state = "open"
        self._outcome = None
        self._finish_waiters = []
        self._data = None
        self._halves = {}
        # Updated under the lock by the writer and the hasher:
        self._written = 0
        self._hashed = 0
        # Touched only on the writer thread:
        self._fd = None
        self._error = None
        self._synced = 0
        # Touched only on the hashing thread:
        self._md5 = hashlib.md5()
        self._sha256 = hashlib.sha256() if sha256 else None

    @property
    def backlog(self):
        """
        Bytes written to the spool but not yet both on disk and hashed.
        """
        with self._lock:
            return self._gathered_size + self._queued - min(self._written, self._hashed)

    def write(self, data):
        """
        Add C{data}; it is handed to the threads once a batch is gathered.

        @raise ValueError: after L{finish} or L{discard}.
        """
        if self._state != "open":
            raise ValueError(f"write to a {self._state} spool")
        if not data:
            return
        self._gathered.append(data)
        self._gathered_size += len(data)
        if self._gathered_size >= BATCH:
            self._hand_over()

    def _hand_over(self):
        """
        Queue the gathered chunks for the writer and the hasher.
        """
        if not self._gathered:
            return
        chunks, size = self._gathered, self._gathered_size
        with self._lock:
            self._gathered, self._gathered_size = [], 0
            self._queued += size
        self._streaming = True
        self._writer.post(self._write, chunks, size)
        (self._hasher or self._writer).post(self._hash, chunks, size)

    def drained(self, low=0):
        """
        See L{ISpool.drained}.  Hands over what was gathered, so the
        backlog can go down.
        """
        if self.backlog > low:
            self._hand_over()
        with self._lock:
            if self._gathered_size + self._queued - min(self._written, self._hashed) <= low:
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
            if not self._streaming:
                self._finish_in_memory()
            else:
                self._hand_over()
                self._writer.post(self._finish_file)
                (self._hasher or self._writer).post(self._finish_hashes)
        d = Deferred()
        if self._outcome is not None:
            self._deliver(d, self._outcome)
        elif self._state == "discarded":
            d.errback(ValueError("the spool was discarded before it was finished"))
        else:
            self._finish_waiters.append(d)
        return d

    def _finish_in_memory(self):
        chunks = self._gathered
        self._data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._gathered, self._gathered_size = [], 0
        if len(self._data) <= _INLINE_HASH or self._writer.inline:
            self._finished(self._digests(self._data))
        else:
            data = self._data
            self._writer.post(lambda: self._writer.to_reactor(self._finished, self._digests(data)))

    def _digests(self, data):
        self._md5.update(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        return SpoolResult(len(data), self._md5.hexdigest(), None if self._sha256 is None else self._sha256.hexdigest())

    def discard(self):
        """
        See L{ISpool.discard}.  Does nothing once the data became a blob.
        """
        if self._state in ("taken", "discarded"):
            return
        self._state = "discarded"
        self._data = None
        self._gathered, self._gathered_size = [], 0
        if self._streaming:
            self._writer.post(self._discard)

    def take(self):
        """
        Hand the finished data over to the caller, who will commit it.

        @return: C{(fd, data)}: the open file descriptor of the temporary
            file (written, not fsynced) and C{None}, or C{None} and the bytes
            of a spool that stayed in memory.
        @raise ValueError: the spool is not finished and whole.
        """
        if self._state != "finished" or not isinstance(self._outcome, SpoolResult):
            raise ValueError(f"cannot commit a {self._state} spool")
        self._state = "taken"
        data, self._data = self._data, None
        return (None, data) if data is not None else (self._fd, None)

    def _write(self, chunks, size):
        try:
            if self._error is None and self._state != "discarded":
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
                write_all(self._fd, chunks)
                position = self._written + size
                if position - self._synced >= _WRITEBACK:
                    _start_writeback(self._fd, self._synced, position - self._synced)
                    self._synced = position
        except Exception:
            self._error = Failure()
        finally:
            self._progress(size, 0)

    def _hash(self, chunks, size):
        try:
            for chunk in chunks:
                self._md5.update(chunk)
                if self._sha256 is not None:
                    self._sha256.update(chunk)
        finally:
            self._progress(0, size)

    def _progress(self, written, hashed):
        with self._lock:
            self._written += written
            self._hashed += hashed
            backlog = self._gathered_size + self._queued - min(self._written, self._hashed)
            ready = [d for low, d in self._drain_waiters if backlog <= low]
            self._drain_waiters = [(low, d) for low, d in self._drain_waiters if backlog > low]
        if ready:
            self._writer.to_reactor(_fire_all, ready)

    def _finish_file(self):
        outcome = self._error
        if outcome is None and self._state == "discarded":
            outcome = Failure(ValueError("the spool was discarded"))
        self._writer.to_reactor(self._half_finished, "file", outcome)

    def _finish_hashes(self):
        digests = (self._md5.hexdigest(), None if self._sha256 is None else self._sha256.hexdigest())
        (self._hasher or self._writer).to_reactor(self._half_finished, "hashes", digests)

    def _half_finished(self, half, value):
        self._halves[half] = value
        if len(self._halves) == 2:
            error = self._halves["file"]
            self._finished(error if error is not None else SpoolResult(self._queued, *self._halves["hashes"]))

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
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        unlink_quietly(self.path)


def _fire_all(deferreds):
    for d in deferreds:
        d.callback(None)




def unlink_quietly(path):
    """
    Remove C{path} if it is there.
    """
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
