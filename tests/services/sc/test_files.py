"""
The file backend on real file systems: sparse volumes, volumes that appear
only when whole, full disks, and snapshot copies that are one instant of a
volume being written (btrfs, reflink) or honestly not (ext4, tmpfs).
"""

import os
import struct
import threading

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InsufficientVolumeCapacity, VolumeAlreadyExists
from eucalyptus.services.sc.backends.files import SNAPSHOTS, FileBackend
from eucalyptus.services.sc.backends.interfaces import GiB
from tests.services.sc.contract import SNAPSHOT, VOLUME
from tests.services.sc.harness import FailingStream, ZeroStream, mount_btrfs, mount_tmpfs

MiB = 1024**2
BLOCK = 4096
BLOCKS = 1024


def _block(generation, index):
    return struct.pack("<QQ", generation, index) * (BLOCK // 16)


class SparseTests(SynchronousTestCase):
    """
    Volumes take space only for what is written in them.
    """

    def setUp(self):
        self.directory = os.path.abspath(self.mktemp())
        self.backend = FileBackend(self.directory)

    def test_new_volume_allocates_nothing(self):
        """
        A new 4 GiB volume is a 4 GiB file with no blocks, readable only by
        its owner.
        """
        self.backend.create(VOLUME, 4)
        status = os.stat(os.path.join(self.directory, VOLUME))
        self.assertEqual((status.st_size, status.st_blocks, status.st_mode & 0o777), (4 * GiB, 0, 0o600))
        self.assertEqual(self.backend.describe(VOLUME).allocated, 0)

    def test_restore_keeps_holes(self):
        """
        Restoring an image that is mostly zeros writes only its data.
        """
        self.backend.create_from(VOLUME, 1, ZeroStream(512 * MiB, b"\x01" * MiB))
        allocated = os.stat(os.path.join(self.directory, VOLUME)).st_blocks * 512
        self.assertGreaterEqual(allocated, MiB)
        self.assertLess(allocated, 2 * MiB)

    def test_written_under_a_temporary_name(self):
        """
        While a restore runs, the bytes go to a dot file beside the volumes;
        only that temporary file exists.
        """
        seen = []
        stream = FailingStream(2, None, during=lambda: seen.append(sorted(os.listdir(self.directory))))
        self.backend.create_from(VOLUME, 1, stream)
        (names,) = seen
        self.assertEqual(len(names), 2)
        self.assertEqual(names[0], SNAPSHOTS)
        self.assertTrue(names[1].startswith(f".{VOLUME}.") and names[1].endswith(".tmp"), names)
        self.assertEqual(sorted(os.listdir(self.directory)), [SNAPSHOTS, VOLUME])

    def test_concurrent_creates(self):
        """
        Of several threads creating the same volume at once, one succeeds
        and the others are told it exists.
        """
        results = []
        barrier = threading.Barrier(4)

        def create():
            barrier.wait()
            try:
                self.backend.create_from(VOLUME, 1, FailingStream(4, None))
                results.append("created")
            except VolumeAlreadyExists:
                results.append("exists")

        threads = [threading.Thread(target=create) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(results), ["created", "exists", "exists", "exists"])
        self.assertEqual(sorted(os.listdir(self.directory)), [SNAPSHOTS, VOLUME])

    def test_plain_copy(self):
        """
        Where the file system cannot clone (ext4 here), a snapshot copy is
        a sparse copy, exact for a volume nobody writes, and says it is not
        point-in-time.
        """
        self.backend.create(VOLUME, 1)
        data = os.urandom(MiB)
        with open(self.backend.export_path(VOLUME).path, "r+b") as f:
            f.seek(GiB // 2)
            f.write(data)
        copy = self.backend.snapshot(VOLUME, SNAPSHOT)
        self.addCleanup(copy.release)
        self.assertFalse(copy.point_in_time)
        with copy.open() as f:
            f.seek(GiB // 2 - 1)
            self.assertEqual(f.read(MiB + 2), b"\0" + data + b"\0")
        self.assertLess(os.stat(copy.path).st_blocks * 512, 2 * MiB)


class FullDiskTests(SynchronousTestCase):
    """
    A volumes directory that runs out of space.
    """

    def setUp(self):
        self.directory = mount_tmpfs(self, 8 * MiB)
        self.backend = FileBackend(self.directory)

    def test_restore(self):
        """
        A restore that does not fit is InsufficientVolumeCapacity and leaves
        nothing, and the space is free again.
        """
        stream = FailingStream(16, None, byte=b"\x01")
        error = self.assertRaises(InsufficientVolumeCapacity, self.backend.create_from, VOLUME, 1, stream)
        self.assertIn(VOLUME, error.message)
        self.assertEqual(os.listdir(self.directory), [SNAPSHOTS])
        self.backend.create_from(VOLUME, 1, FailingStream(4, None, byte=b"\x01"))

    def test_snapshot(self):
        """
        A copy that does not fit is InsufficientVolumeCapacity and leaves
        nothing.
        """
        self.backend.create_from(VOLUME, 1, FailingStream(5, None, byte=b"\x01"))
        self.assertRaises(InsufficientVolumeCapacity, self.backend.snapshot, VOLUME, SNAPSHOT)
        self.assertEqual(os.listdir(os.path.join(self.directory, SNAPSHOTS)), [])


class ReflinkTests(SynchronousTestCase):
    """
    On btrfs a snapshot copy is a reflink clone: one instant of the volume
    even while it is written.
    """

    def setUp(self):
        self.backend = FileBackend(os.path.join(mount_btrfs(self), "volumes"))
        self.backend.create(VOLUME, 1)
        self.path = self.backend.export_path(VOLUME).path

    def test_clone(self):
        """
        The copy is point-in-time and holds the volume's data.
        """
        data = os.urandom(MiB)
        with open(self.path, "r+b") as f:
            f.write(data)
        copy = self.backend.snapshot(VOLUME, SNAPSHOT)
        self.addCleanup(copy.release)
        self.assertTrue(copy.point_in_time)
        with copy.open() as f:
            self.assertEqual(f.read(MiB + 1), data + b"\0")

    def assert_one_instant(self, data):
        """
        C{data} is the region as a writer rewriting blocks 0, 1, 2, ... in
        order, pass after pass, left it at one instant: every block whole,
        blocks before some point from pass C{g}, the rest from pass C{g-1}.

        @return: C{g}.
        """
        stamps = []
        for index in range(BLOCKS):
            block = data[index * BLOCK : (index + 1) * BLOCK]
            generation, where = struct.unpack_from("<QQ", block)
            self.assertEqual(block, _block(generation, index), f"block {index} is torn")
            stamps.append(generation)
        newest = stamps[0]
        self.assertEqual(stamps, sorted(stamps, reverse=True), "a later block is newer than an earlier one")
        self.assertGreaterEqual(stamps[-1], newest - 1, "the copy spans more than one pass")
        return newest

    def test_point_in_time_while_written(self):
        """
        Copies taken while another thread keeps rewriting the volume (as
        tgtd does for an instance, with pwrite) each show one instant.
        """
        stop = threading.Event()
        first_pass = threading.Event()
        fd = os.open(self.path, os.O_WRONLY)

        def writer():
            generation = 0
            while not stop.is_set():
                generation += 1
                for index in range(BLOCKS):
                    os.pwrite(fd, _block(generation, index), index * BLOCK)
                first_pass.set()

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            self.assertTrue(first_pass.wait(60), "the writer did not finish a pass")
            for number in range(20):
                copy = self.backend.snapshot(VOLUME, f"snap-{number:08x}")
                try:
                    self.assertTrue(copy.point_in_time)
                    with copy.open() as f:
                        self.assert_one_instant(f.read(BLOCKS * BLOCK))
                finally:
                    copy.release()
        finally:
            stop.set()
            thread.join()
            os.close(fd)
