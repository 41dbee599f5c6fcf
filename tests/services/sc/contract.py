# -*- test-case-name: tests.services.sc.test_backends,tests.services.sc.test_lvm -*-
"""
One contract for every L{IVolumeBackend}: L{VolumeBackendContractTestsMixin}
runs against the file backend, against the LVM backend on L{FakeLvm}, and
against the LVM backend on a real volume group where the kernel allows it.
"""

import os

from eucalyptus.errors import (
    InvalidParameterValue,
    InvalidVolumeID,
    SnapshotNotFound,
    VolumeAlreadyExists,
    VolumeInUse,
    VolumeLimitExceeded,
    VolumeNotFound,
)
from eucalyptus.services.sc.backends.interfaces import MAX_SIZE_GIB, GiB, IVolumeBackend, IVolumeCopy, VolumeInfo
from tests.hypervisor.test_contract import assert_provides
from tests.services.sc.harness import FailingStream, ZeroStream

__all__ = ["VolumeBackendContractTestsMixin", "VOLUME", "OTHER", "SNAPSHOT"]

VOLUME = "vol-0123abcd"
OTHER = "vol-89ef4567"
SNAPSHOT = "snap-00c0ffee"
MiB = 1024**2


class VolumeBackendContractTestsMixin:
    """
    The behaviour every volume backend owes its callers.  A subclass
    defines C{make_backend(limit_gib)}, C{leftovers()} (the names in the
    store that are not complete volumes) and C{make_leftovers()} (what a
    crash half-way through a restore and a snapshot leaves).
    """

    def setUp(self):
        self.backend = self.make_backend(0)

    def write(self, volume_id, offset, data):
        with open(self.backend.export_path(volume_id).path, "r+b") as f:
            f.seek(offset)
            f.write(data)

    def read(self, volume_id, offset, length):
        with open(self.backend.export_path(volume_id).path, "rb") as f:
            f.seek(offset)
            return f.read(length)

    def test_provides(self):
        """
        The backend and its copies provide their interfaces, with the
        declared parameters.
        """
        assert_provides(self, IVolumeBackend, self.backend)
        self.backend.create(VOLUME, 1)
        copy = self.backend.snapshot(VOLUME, SNAPSHOT)
        self.addCleanup(copy.release)
        assert_provides(self, IVolumeCopy, copy)

    def test_create(self):
        """
        A new volume exists with its size, is listed, and reads as zeros.
        """
        self.backend.create(VOLUME, 1)
        self.assertTrue(self.backend.exists(VOLUME))
        info = self.backend.describe(VOLUME)
        self.assertEqual((info.volume_id, info.size), (VOLUME, GiB))
        self.assertEqual(self.backend.list(), [info])
        self.assertEqual(self.read(VOLUME, 0, MiB), bytes(MiB))
        self.assertEqual(self.read(VOLUME, GiB - MiB, MiB), bytes(MiB))
        self.assertEqual(self.leftovers(), [])

    def test_list_ordered(self):
        """
        Volumes are listed by id.
        """
        self.backend.create(OTHER, 1)
        self.backend.create(VOLUME, 2)
        self.assertEqual([volume.volume_id for volume in self.backend.list()], [VOLUME, OTHER])

    def test_create_duplicate(self):
        """
        Creating an existing volume is refused and leaves it as it was.
        """
        self.backend.create(VOLUME, 1)
        self.write(VOLUME, 0, b"keep me")
        self.assertRaises(VolumeAlreadyExists, self.backend.create, VOLUME, 2)
        self.assertRaises(VolumeAlreadyExists, self.backend.create_from, VOLUME, 1, ZeroStream(MiB))
        self.assertEqual(self.read(VOLUME, 0, 7), b"keep me")
        self.assertEqual(self.backend.describe(VOLUME).size, GiB)

    def test_malformed_ids(self):
        """
        Anything but a volume id is refused before it reaches a path or a
        command line.
        """
        for bad in ("vol-1", "../vol-0123abcd", "vol-0123abcg", "", None, "snap-0123abcd", "vol-0123abcd/x"):
            for call in (
                lambda: self.backend.create(bad, 1),
                lambda: self.backend.create_from(bad, 1, ZeroStream(0)),
                lambda: self.backend.describe(bad),
                lambda: self.backend.delete(bad),
                lambda: self.backend.exists(bad),
                lambda: self.backend.export_path(bad),
                lambda: self.backend.snapshot(bad, SNAPSHOT),
            ):
                self.assertRaises(InvalidVolumeID, call)
        self.assertEqual(self.backend.list(), [])

    def test_bad_sizes(self):
        """
        Sizes are whole GiB from 1 to 16384; others create nothing.
        """
        for bad in (0, -1, 1.5, "1", True, MAX_SIZE_GIB + 1):
            self.assertRaises(InvalidParameterValue, self.backend.create, VOLUME, bad)
            self.assertRaises(InvalidParameterValue, self.backend.create_from, VOLUME, bad, ZeroStream(0))
        self.assertEqual((self.backend.list(), self.leftovers()), ([], []))

    def test_missing(self):
        """
        A volume that does not exist is not found by any call.
        """
        self.assertFalse(self.backend.exists(VOLUME))
        for call in (
            lambda: self.backend.describe(VOLUME),
            lambda: self.backend.delete(VOLUME),
            lambda: self.backend.export_path(VOLUME),
            lambda: self.backend.resize(VOLUME, 2),
            lambda: self.backend.snapshot(VOLUME, SNAPSHOT),
        ):
            self.assertRaises(VolumeNotFound, call)

    def test_create_from(self):
        """
        A restored volume holds the image, then zeros up to its size.
        """
        image = os.urandom(3 * MiB + 5)
        self.backend.create_from(VOLUME, 1, _Stream(image))
        self.assertEqual(self.backend.describe(VOLUME).size, GiB)
        self.assertEqual(self.read(VOLUME, 0, len(image) + MiB), image + bytes(MiB))
        self.assertEqual(self.leftovers(), [])

    def test_create_from_exact_size(self):
        """
        An image exactly as large as the volume fits.
        """
        self.backend.create_from(VOLUME, 1, ZeroStream(GiB - 3, b"end"))
        self.assertEqual(self.read(VOLUME, GiB - 4, 8), b"\0end")

    def test_create_from_too_large(self):
        """
        An image larger than the volume is refused and nothing is left.
        """
        error = self.assertRaises(InvalidParameterValue, self.backend.create_from, VOLUME, 1, ZeroStream(GiB, b"!"))
        self.assertIn("1 GiB", error.message)
        self.assertFalse(self.backend.exists(VOLUME))
        self.assertEqual(self.leftovers(), [])

    def test_create_from_failure(self):
        """
        When the source fails half-way its error comes out and no volume,
        whole or partial, is left.
        """
        error = OSError("the snapshot download broke off")
        raised = self.assertRaises(OSError, self.backend.create_from, VOLUME, 1, FailingStream(3, error))
        self.assertIs(raised, error)
        self.assertFalse(self.backend.exists(VOLUME))
        self.assertEqual((self.backend.list(), self.leftovers()), ([], []))

    def test_invisible_while_restoring(self):
        """
        A volume being restored is not visible until it is complete.
        """
        seen = []

        def during():
            seen.append((self.backend.exists(VOLUME), self.backend.list()))
            self.assertRaises(VolumeNotFound, self.backend.export_path, VOLUME)

        self.backend.create_from(VOLUME, 1, FailingStream(3, None, during=during))
        self.assertEqual(seen, [(False, [])])
        self.assertEqual(self.read(VOLUME, 0, 3 * MiB + 1), b"\x5a" * 3 * MiB + b"\0")

    def test_snapshot(self):
        """
        A copy holds the volume as it was when taken, whatever is written
        to the volume afterwards; it is released once, then gone.
        """
        self.backend.create(VOLUME, 1)
        self.write(VOLUME, MiB, b"before")
        copy = self.backend.snapshot(VOLUME, SNAPSHOT)
        self.write(VOLUME, MiB, b"after!")
        self.assertEqual((copy.volume_id, copy.snapshot_id, copy.size), (VOLUME, SNAPSHOT, GiB))
        with copy.open() as f:
            f.seek(MiB)
            self.assertEqual(f.read(6), b"before")
        self.assertEqual(self.backend.list(), [self.backend.describe(VOLUME)])
        copy.release()
        copy.release()
        self.assertRaises(SnapshotNotFound, copy.open)
        self.assertEqual(self.leftovers(), [])

    def test_snapshot_duplicate(self):
        """
        A second copy for the same snapshot is refused.
        """
        self.backend.create(VOLUME, 1)
        self.backend.create(OTHER, 1)
        copy = self.backend.snapshot(VOLUME, SNAPSHOT)
        self.addCleanup(copy.release)
        self.assertRaises(InvalidParameterValue, self.backend.snapshot, OTHER, SNAPSHOT)

    def test_delete(self):
        """
        A deleted volume is gone; deleting it again is not found.
        """
        self.backend.create(VOLUME, 1)
        self.backend.delete(VOLUME)
        self.assertEqual((self.backend.exists(VOLUME), self.backend.list()), (False, []))
        self.assertRaises(VolumeNotFound, self.backend.delete, VOLUME)
        self.assertEqual(self.leftovers(), [])

    def test_delete_with_copy(self):
        """
        A volume is not deleted while a snapshot copy of it is held.
        """
        self.backend.create(VOLUME, 1)
        copy = self.backend.snapshot(VOLUME, SNAPSHOT)
        self.assertRaises(VolumeInUse, self.backend.delete, VOLUME)
        copy.release()
        self.backend.delete(VOLUME)

    def test_resize(self):
        """
        A volume grows and keeps its data; it does not shrink.
        """
        self.backend.create(VOLUME, 1)
        self.write(VOLUME, 0, b"data")
        self.backend.resize(VOLUME, 3)
        self.assertEqual(self.backend.describe(VOLUME).size, 3 * GiB)
        self.assertEqual(self.read(VOLUME, 0, 4), b"data")
        self.assertEqual(self.read(VOLUME, 2 * GiB, 4), bytes(4))
        self.assertRaises(InvalidParameterValue, self.backend.resize, VOLUME, 2)
        self.backend.resize(VOLUME, 3)
        self.assertEqual(self.backend.describe(VOLUME).size, 3 * GiB)

    def test_limit(self):
        """
        Past the configured total, creates, restores and growth are refused.
        """
        self.backend = self.make_backend(3)
        self.backend.create(VOLUME, 2)
        self.assertRaises(VolumeLimitExceeded, self.backend.create, OTHER, 2)
        self.assertRaises(VolumeLimitExceeded, self.backend.create_from, OTHER, 2, ZeroStream(0))
        self.assertRaises(VolumeLimitExceeded, self.backend.resize, VOLUME, 4)
        self.backend.create(OTHER, 1)
        self.assertEqual(sum(volume.size for volume in self.backend.list()), 3 * GiB)

    def test_export_path(self):
        """
        tgt serves a volume with C{rdwr} from a path that exists.
        """
        self.backend.create(VOLUME, 1)
        store = self.backend.export_path(VOLUME)
        self.assertEqual(store.type, "rdwr")
        self.assertTrue(os.path.exists(store.path))

    def test_recover(self):
        """
        What a crash leaves half-done is removed at start-up; volumes stay.
        """
        self.backend.create(VOLUME, 1)
        names = self.make_leftovers()
        self.assertNotEqual(self.leftovers(), [])
        self.assertEqual(self.backend.recover(), names)
        self.assertEqual(self.leftovers(), [])
        self.assertEqual(self.backend.list(), [VolumeInfo(VOLUME, GiB, self.backend.describe(VOLUME).allocated)])


class _Stream:
    def __init__(self, data, chunk=MiB // 3):
        self._data = data
        self._chunk = chunk

    def read(self, size):
        piece, self._data = self._data[: min(size, self._chunk)], self._data[min(size, self._chunk) :]
        return piece
