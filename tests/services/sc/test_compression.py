"""
The gzip form of snapshots: many members, zero chunks pre-compressed,
read back with every member and the total length checked; and the sparse
reading of a volume copy.
"""

import gzip
import io
import os
import threading

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import StorageError
from eucalyptus.services.sc.compression import CHUNK, GunzipReader, GzipWriter, SparseReader


def compress(data, chunk=CHUNK):
    writer = GzipWriter()
    out = b"".join(writer.add(data[i : i + chunk]) for i in range(0, len(data), chunk))
    return out + writer.finish()


def inflate(stream, size=None, read=CHUNK):
    reader = GunzipReader(io.BytesIO(stream), size)
    parts = []
    while True:
        part = reader.read(read)
        if not part:
            return b"".join(parts)
        parts.append(part)


class GzipTests(SynchronousTestCase):
    """
    L{GzipWriter} and L{GunzipReader}.
    """

    def setUp(self):
        self.data = os.urandom(3000) + bytes(CHUNK - 3000) + bytes(3 * CHUNK) + b"x" * (CHUNK + 5) + bytes(CHUNK)

    def test_round_trip(self):
        """
        What the writer makes is gzip any tool reads, and the reader gives
        back the same bytes whatever it is asked for at a time.
        """
        stream = compress(self.data)
        self.assertEqual(gzip.decompress(stream), self.data)
        self.assertEqual(inflate(stream, len(self.data)), self.data)
        self.assertEqual(inflate(stream, len(self.data), read=4000), self.data)

    def test_zero_chunks(self):
        """
        A GiB of zeros takes about a KiB per MiB.
        """
        writer = GzipWriter()
        zeros = bytes(CHUNK)
        stream = b"".join(writer.add(zeros) for _ in range(1024)) + writer.finish()
        self.assertLess(len(stream), 1024 * 1100)
        self.assertEqual(inflate(stream, 1024 * CHUNK), bytes(1024 * CHUNK))

    def test_empty(self):
        """
        An empty image is still a gzip file.
        """
        stream = GzipWriter().finish()
        self.assertEqual(gzip.decompress(stream), b"")
        self.assertEqual(inflate(stream, 0), b"")

    def test_other_gzip(self):
        """
        A plain one-member gzip file reads too.
        """
        self.assertEqual(inflate(gzip.compress(b"abc" * 100000), 300000, read=7000), b"abc" * 100000)

    def test_truncated(self):
        """
        A stream cut anywhere, or empty, is an error, not a short image.
        """
        stream = compress(self.data)
        for cut in (0, 10, len(stream) // 2, len(stream) - 1):
            self.assertRaises(StorageError, inflate, stream[:cut], len(self.data))

    def test_length(self):
        """
        An image longer or shorter than it should be is an error.
        """
        stream = compress(self.data)
        self.assertRaises(StorageError, inflate, stream, len(self.data) - 1)
        self.assertRaises(StorageError, inflate, stream, len(self.data) + 1)

    def test_corrupt(self):
        """
        A corrupt member is an error.
        """
        stream = bytearray(compress(os.urandom(CHUNK)))
        stream[len(stream) // 2] ^= 0xFF
        self.assertRaises(StorageError, inflate, bytes(stream), CHUNK)

    def test_cancelled(self):
        """
        Once cancelled, reading fails.
        """
        cancelled = threading.Event()
        reader = GunzipReader(io.BytesIO(compress(self.data)), len(self.data), cancelled)
        reader.read(CHUNK)
        cancelled.set()
        self.assertRaises(StorageError, reader.read, CHUNK)


class SparseReaderTests(SynchronousTestCase):
    """
    L{SparseReader}.
    """

    def test_reads_data_and_holes(self):
        """
        A sparse file reads as it is, holes as zeros, to its size.
        """
        path = self.mktemp()
        with open(path, "wb") as f:
            f.truncate(8 * CHUNK + 123)
            f.seek(CHUNK + 5)
            f.write(b"data" * 1000)
            f.seek(6 * CHUNK)
            f.write(os.urandom(CHUNK))
        with open(path, "rb") as f:
            expected = f.read()
            reader = SparseReader(f, len(expected))
            parts = []
            while True:
                part = reader.read(CHUNK)
                if not part:
                    break
                parts.append(part)
        self.assertEqual(b"".join(parts), expected)
        self.assertTrue(all(len(part) == CHUNK for part in parts[:-1]))

    def test_short(self):
        """
        A copy shorter than its size is an error.
        """
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"x" * 100)
        with open(path, "rb") as f:
            self.assertRaises(OSError, SparseReader, f, 200)
