# -*- test-case-name: tests.services.sc.test_compression -*-
"""
The gzip form a snapshot is stored in, written and read as streams.

A snapshot is a raw volume image, mostly zeros on a young volume.  The
writer (L{GzipWriter}) emits a gzip file of several members (RFC 1952
allows any number; C{gunzip} and Python's C{gzip} module read them as one
stream): each run of non-zero data is one deflate member, and each whole
chunk of zeros is a copy of one small, pre-compressed member of
L{CHUNK} zero bytes, so the empty part of a 100 GiB volume costs neither
compression time nor more than about 1 KiB per MiB of object.

The reader (L{GunzipReader}) inflates member after member, checks every
member's CRC and length (zlib does), and at the end checks that the image
is exactly as long as the snapshot said, so a truncated or corrupt object
is an error rather than a short volume.
"""

import errno
import gzip
import os
import stat
import zlib

from eucalyptus.errors import StorageError

__all__ = ["CHUNK", "GzipWriter", "GunzipReader", "SparseReader"]

#: The unit a volume is read in, and the size of one zero member.
CHUNK = 1024**2
_ZEROS = bytes(CHUNK)
_ZERO_MEMBER = gzip.compress(_ZEROS, compresslevel=9, mtime=0)
_GZIP = 16 + zlib.MAX_WBITS


class SparseReader:
    """
    A raw image read from an open file or device, where the holes of a
    sparse file are answered as zeros without reading them (reading a
    hole makes the kernel zero page-cache pages for it, which costs more
    than compressing them).
    """

    def __init__(self, f, size):
        """
        @param f: the open file (its descriptor is read with C{pread}).
        @param size: the image's length (a device's C{st_size} is 0).
        @raise OSError: C{f} is a file shorter than C{size}.
        """
        self._fd = f.fileno()
        status = os.fstat(self._fd)
        if stat.S_ISREG(status.st_mode) and status.st_size < size:
            raise OSError(errno.EIO, f"The copy holds {status.st_size} bytes, not {size}.")
        self._size = size
        self._position = 0
        self._data = 0
        self._holes = True

    def _next_data(self):
        """
        Where the next data at or after the position begins (the end when
        only a hole is left); the position itself where holes cannot be
        found.
        """
        if self._holes and self._data <= self._position:
            try:
                self._data = os.lseek(self._fd, self._position, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    self._data = self._size
                elif e.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                    self._holes = False
                else:
                    raise
        return self._data if self._holes else self._position

    def read(self, size=CHUNK):
        size = min(CHUNK if size is None or size < 0 else size, self._size - self._position)
        if size <= 0:
            return b""
        if self._next_data() >= self._position + size:
            chunk = _ZEROS if size == CHUNK else bytes(size)
        else:
            chunk = os.pread(self._fd, size, self._position)
            if not chunk:
                raise OSError(errno.EIO, f"The copy ended at {self._position} bytes, before its {self._size}.")
        self._position += len(chunk)
        return chunk


class GzipWriter:
    """
    Compress a raw image given chunk by chunk.

    @ivar raw: raw bytes taken so far.
    """

    def __init__(self, level=6):
        """
        @param level: the deflate level of the non-zero data.
        """
        self._level = level
        self._member = None
        self._emitted = False
        self.raw = 0

    def add(self, chunk):
        """
        Take the next chunk of the image.

        @param chunk: bytes; a chunk of exactly L{CHUNK} zeros is stored as
            the pre-compressed zero member.
        @return: the compressed bytes ready so far (maybe C{b""}).
        """
        self.raw += len(chunk)
        if len(chunk) == CHUNK and chunk == _ZEROS:
            out = self._close() + _ZERO_MEMBER
        else:
            if self._member is None:
                self._member = zlib.compressobj(self._level, zlib.DEFLATED, _GZIP)
            out = self._member.compress(chunk)
        self._emitted = self._emitted or bool(out)
        return out

    def _close(self):
        if self._member is None:
            return b""
        member, self._member = self._member, None
        return member.flush()

    def finish(self):
        """
        End the image.

        @return: the last compressed bytes (an empty member for an empty
            image, so the result is always a gzip file).
        """
        out = self._close()
        if not out and not self._emitted:
            out = gzip.compress(b"", mtime=0)
        return out


class GunzipReader:
    """
    A raw image read from a gzip stream of one or more members: a binary
    stream with C{read(n)}.  A member that is byte for byte the writer's
    zero member is answered without inflating it.

    @ivar raw: raw bytes read so far.
    """

    def __init__(self, source, size=None, cancelled=None):
        """
        @param source: the compressed stream: C{read(n)} returns up to C{n}
            bytes, C{b""} at its end; C{close()}.
        @param size: the image's length in bytes, checked at the end; or
            C{None}.
        @param cancelled: a C{threading.Event}; once it is set, C{read}
            raises L{StorageError}.
        """
        self._source = source
        self._size = size
        self._cancelled = cancelled
        self._buffer = b""
        self._offset = 0
        self._inflater = None
        self._members = 0
        self._ended = False
        self.raw = 0

    def close(self):
        """
        Close the compressed stream.
        """
        self._source.close()

    def _fill(self, need):
        """
        Have at least C{need} compressed bytes past the offset, unless the
        source ends first.

        @return: whether there are.
        """
        while len(self._buffer) - self._offset < need:
            more = self._source.read(CHUNK)
            if not more:
                return False
            self._buffer = self._buffer[self._offset :] + more
            self._offset = 0
        return True

    def read(self, size=-1):
        """
        Up to C{size} bytes of the image; C{b""} at its end.

        @raise StorageError: the object is corrupt, truncated or of the
            wrong length, or the read was cancelled.
        """
        if self._cancelled is not None and self._cancelled.is_set():
            raise StorageError("The transfer was cancelled.")
        if size is None or size < 0:
            size = CHUNK
        while not self._ended:
            if self._inflater is None:
                if not self._fill(1):
                    self._end()
                    break
                zero = size >= CHUNK and self._fill(len(_ZERO_MEMBER))
                if zero and self._buffer.startswith(_ZERO_MEMBER, self._offset):
                    self._offset += len(_ZERO_MEMBER)
                    self._members += 1
                    out = _ZEROS
                else:
                    self._inflater = zlib.decompressobj(_GZIP)
                    continue
            else:
                out = self._inflate(size)
            if out:
                self.raw += len(out)
                if self._size is not None and self.raw > self._size:
                    raise StorageError(f"The snapshot holds more than the {self._size} bytes it should.")
                return out
        return b""

    def _inflate(self, size):
        """
        Inflate up to C{size} bytes of the current member.
        """
        if not self._fill(1):
            raise StorageError("The snapshot's data ends in the middle of a member (the object is truncated).")
        view = memoryview(self._buffer)[self._offset :]
        try:
            out = self._inflater.decompress(view, size)
        except zlib.error as e:
            raise StorageError(f"The snapshot's data is corrupt: {e}.")
        if self._inflater.eof:
            self._offset += len(view) - len(self._inflater.unused_data)
            self._inflater = None
            self._members += 1
        else:
            self._offset += len(view) - len(self._inflater.unconsumed_tail)
        return out

    def _end(self):
        """
        The source ended between two members: after at least one, with
        exactly the image's length.
        """
        if not self._members:
            raise StorageError("The snapshot's data is empty (the object is truncated).")
        if self._size is not None and self.raw != self._size:
            raise StorageError(f"The snapshot holds {self.raw} bytes, not the {self._size} it should.")
        self._ended = True
