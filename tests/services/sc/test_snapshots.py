"""
Snapshots through the SC's operations, stored in a real Walrus: taken,
compressed and uploaded in parts with their progress visible, restored
byte for byte into a volume of the same or a larger size, deleted with
their objects; and what happens when Walrus is away or a snapshot is
missing.
"""

import os
import threading

from botocore.exceptions import ClientError
from twisted.internet import defer, threads
from twisted.trial.unittest import TestCase

from eucalyptus.errors import (
    IncorrectState,
    InvalidParameterValue,
    SnapshotAlreadyExists,
    SnapshotNotFound,
    VolumeInUse,
    VolumeNotFound,
)
from eucalyptus.services.sc.walrus import object_key
from eucalyptus.wsdl import sc_types as t
from tests.services.sc.harness import mount_btrfs
from tests.services.sc.storage import OTHER, SECOND, SNAPSHOT, THIRD, VOLUME, MiB, StorageHarness, digest

GiB = 1024**3


class SnapshotTests(TestCase):
    """
    Snapshots of file volumes, in the Walrus of L{StorageHarness}.
    """

    timeout = 120

    @defer.inlineCallbacks
    def setUp(self):
        self.sc = yield StorageHarness(self).start()
        volume = yield self.sc.volume(VOLUME)
        self.assertEqual(volume.status, "available")
        self.head = os.urandom(64 * 1024)
        self.middle = os.urandom(3 * MiB + 17)
        self.sc.write(VOLUME, 0, self.head)
        self.sc.write(VOLUME, 300 * MiB + 5, self.middle)
        self.sc.write(VOLUME, GiB - 4096, b"\xee" * 4096)

    @defer.inlineCallbacks
    def test_snapshot_and_restore_larger(self):
        """
        A snapshot completes at 100%, stored as one private gzip object in
        the SC's bucket; restored into a 2 GiB volume it holds the same
        first GiB, byte for byte, and zeros after.
        """
        created = yield self.sc.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=VOLUME,
                                     snapshotId=SNAPSHOT)  # fmt: skip
        self.assertEqual((created.snapshotId, created.volumeId, created.status), (SNAPSHOT, VOLUME, "pending"))
        self.assertIsNotNone(created.startTime)
        yield self.sc.settled()
        snapshot = yield self.sc.describe_snapshot(SNAPSHOT)
        self.assertEqual((snapshot.status, snapshot.progress), ("completed", "100%"))
        keys, uploads = yield self.sc.objects()
        self.assertEqual((keys, uploads), ([object_key(SNAPSHOT)], []))
        record = self.sc.service.snapshots.get(SNAPSHOT)
        self.assertLess(record.stored, 8 * MiB)

        restored = yield self.sc.volume(OTHER, size=2, snapshot_id=SNAPSHOT)
        self.assertEqual((restored.status, restored.size, restored.snapshotId), ("available", 2, SNAPSHOT))
        self.assertEqual(os.path.getsize(self.sc.path(OTHER)), 2 * GiB)
        self.assertEqual(digest(self.sc.path(OTHER), GiB), digest(self.sc.path(VOLUME)))
        with open(self.sc.path(OTHER), "rb") as f:
            f.seek(GiB)
            self.assertEqual(f.read(MiB), bytes(MiB))
            f.seek(2 * GiB - MiB)
            self.assertEqual(f.read(), bytes(MiB))

    @defer.inlineCallbacks
    def test_restore_same_size(self):
        """
        Without a size a restored volume is the snapshot's size.
        """
        yield self.sc.snapshot(VOLUME, SNAPSHOT)
        response = yield self.sc.call("CreateStorageVolume", t.CreateStorageVolumeType, volumeId=OTHER,
                                      snapshotId=SNAPSHOT)  # fmt: skip
        self.assertEqual((response.status, response.size), ("creating", 1))
        yield self.sc.settled()
        volume = yield self.sc.describe_volume(OTHER)
        self.assertEqual((volume.status, volume.size), ("available", 1))
        self.assertEqual(digest(self.sc.path(OTHER)), digest(self.sc.path(VOLUME)))

    @defer.inlineCallbacks
    def test_restore_smaller(self):
        """
        A snapshot is not restored into a smaller volume.
        """
        yield self.sc.volume(THIRD, size=2)
        yield self.sc.snapshot(THIRD, SNAPSHOT)
        yield self.assertFailure(
            self.sc.call("CreateStorageVolume", t.CreateStorageVolumeType, volumeId=OTHER, size=1, snapshotId=SNAPSHOT),
            InvalidParameterValue,
        )
        self.assertIsNone((yield self.sc.describe_volume(OTHER)))

    @defer.inlineCallbacks
    def test_users_cannot_read(self):
        """
        The snapshot bucket belongs to the administrators' account: another
        account can neither list it nor read the object.
        """
        yield self.sc.snapshot(VOLUME, SNAPSHOT)

        def as_alice():
            s3 = self.sc.s3("alice")
            codes = []
            for call in (lambda: s3.list_objects_v2(Bucket=self.sc.bucket),
                         lambda: s3.get_object(Bucket=self.sc.bucket, Key=object_key(SNAPSHOT))):  # fmt: skip
                try:
                    call()
                except ClientError as e:
                    codes.append(e.response["Error"]["Code"])
            owner = self.sc.s3().get_bucket_acl(Bucket=self.sc.bucket)
            return codes, owner

        codes, acl = yield self.sc.in_thread(as_alice)
        self.assertEqual(codes, ["AccessDenied", "AccessDenied"])
        self.assertEqual([g["Permission"] for g in acl["Grants"]], ["FULL_CONTROL"])
        self.assertEqual(acl["Grants"][0]["Grantee"]["ID"], acl["Owner"]["ID"])

    @defer.inlineCallbacks
    def test_progress(self):
        """
        While a snapshot of 40 MiB of incompressible data uploads in 5 MiB
        parts, C{DescribeStorageSnapshots} reports it C{pending} with a
        progress that grows between 0% and 100%.
        """
        self.sc.write(VOLUME, 500 * MiB, os.urandom(40 * MiB))
        yield self.sc.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=VOLUME, snapshotId=SNAPSHOT)
        seen = []
        while True:
            snapshot = yield self.sc.describe_snapshot(SNAPSHOT)
            seen.append((snapshot.status, int(snapshot.progress.rstrip("%"))))
            if snapshot.status != "pending":
                break
            yield self.sc.pause(0.005)
        self.assertEqual(seen[-1], ("completed", 100))
        during = [progress for status, progress in seen if status == "pending"]
        self.assertEqual(during, sorted(during))
        self.assertTrue([p for p in during if 0 < p < 100], f"no progress seen between 0% and 100%: {seen}")
        self.assertGreater(self.sc.service.snapshots.get(SNAPSHOT).stored, 40 * MiB)

    @defer.inlineCallbacks
    def test_delete_snapshot(self):
        """
        Deleting a snapshot removes its object; the volume stays.
        """
        yield self.sc.snapshot(VOLUME, SNAPSHOT)
        yield self.sc.call("DeleteStorageSnapshot", t.DeleteStorageSnapshotType, snapshotId=SNAPSHOT)
        self.assertEqual((yield self.sc.objects()), ([], []))
        self.assertIsNone((yield self.sc.describe_snapshot(SNAPSHOT)))
        self.assertEqual((yield self.sc.describe_volume(VOLUME)).status, "available")
        yield self.assertFailure(
            self.sc.call("DeleteStorageSnapshot", t.DeleteStorageSnapshotType, snapshotId=SNAPSHOT), SnapshotNotFound
        )

    @defer.inlineCallbacks
    def test_delete_pending(self):
        """
        Deleting a snapshot while it uploads cancels the upload and leaves
        neither object nor unfinished upload behind.
        """
        self.sc.write(VOLUME, 500 * MiB, os.urandom(40 * MiB))
        yield self.sc.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=VOLUME, snapshotId=SNAPSHOT)
        while not self.sc.service.snapshots.get(SNAPSHOT).upload_id:
            yield self.sc.pause(0.005)
        yield self.sc.call("DeleteStorageSnapshot", t.DeleteStorageSnapshotType, snapshotId=SNAPSHOT)
        self.assertEqual((yield self.sc.objects()), ([], []))
        self.assertIsNone((yield self.sc.describe_snapshot(SNAPSHOT)))
        self.assertEqual(os.listdir(os.path.join(self.sc.data, "volumes", ".snapshots")), [])

    @defer.inlineCallbacks
    def test_delete_volume_keeps_snapshots(self):
        """
        Deleting a volume leaves its snapshots and their objects, which
        still restore.
        """
        yield self.sc.snapshot(VOLUME, SNAPSHOT)
        expected = digest(self.sc.path(VOLUME))
        yield self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME)
        self.assertFalse(os.path.exists(self.sc.path(VOLUME)))
        self.assertEqual((yield self.sc.describe_snapshot(SNAPSHOT)).status, "completed")
        self.assertEqual((yield self.sc.objects())[0], [object_key(SNAPSHOT)])
        restored = yield self.sc.volume(OTHER, snapshot_id=SNAPSHOT)
        self.assertEqual(restored.status, "available")
        self.assertEqual(digest(self.sc.path(OTHER)), expected)

    @defer.inlineCallbacks
    def test_snapshot_again(self):
        """
        Asking again for the same snapshot answers it; the same id for
        another volume, a missing or unavailable volume are refused.
        """
        yield self.sc.snapshot(VOLUME, SNAPSHOT)
        again = yield self.sc.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=VOLUME,
                                   snapshotId=SNAPSHOT)  # fmt: skip
        self.assertEqual(again.status, "completed")
        yield self.sc.volume(OTHER)
        for volume_id, snapshot_id, error in ((OTHER, SNAPSHOT, SnapshotAlreadyExists),
                                              (THIRD, SECOND, VolumeNotFound)):  # fmt: skip
            yield self.assertFailure(
                self.sc.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=volume_id,
                             snapshotId=snapshot_id), error,
            )  # fmt: skip

    @defer.inlineCallbacks
    def test_volume_busy_while_snapshot_pending(self):
        """
        A volume is not deleted while a snapshot of it is being taken, nor
        is a snapshot restored before it completes.
        """
        self.sc.write(VOLUME, 500 * MiB, os.urandom(20 * MiB))
        yield self.sc.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=VOLUME, snapshotId=SNAPSHOT)
        yield self.assertFailure(
            self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME), VolumeInUse
        )
        yield self.assertFailure(
            self.sc.call("CreateStorageVolume", t.CreateStorageVolumeType, volumeId=OTHER, snapshotId=SNAPSHOT),
            IncorrectState,
        )
        yield self.sc.settled()
        yield self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME)

    @defer.inlineCallbacks
    def test_restore_missing(self):
        """
        Restoring a snapshot Walrus does not have fails the volume, with
        the reason, and leaves nothing in the store.
        """
        response = yield self.sc.call("CreateStorageVolume", t.CreateStorageVolumeType, volumeId=OTHER, size=1,
                                      snapshotId=SECOND)  # fmt: skip
        self.assertEqual(response.status, "creating")
        yield self.sc.settled()
        described = yield self.sc.call("DescribeStorageVolumes", t.DescribeStorageVolumesType, volumeSet=[OTHER])
        self.assertEqual(described.volumeSet[0].status, "failed")
        self.assertIn(f"{OTHER}: There is no snapshot object {object_key(SECOND)}", described.statusMessage)
        self.assertFalse(os.path.exists(self.sc.path(OTHER)))
        yield self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=OTHER)
        self.assertIsNone((yield self.sc.describe_volume(OTHER)))

    @defer.inlineCallbacks
    def test_restore_corrupt(self):
        """
        A snapshot object cut short in Walrus fails the restore; no volume
        is left.
        """
        yield self.sc.snapshot(VOLUME, SNAPSHOT)

        def truncate():
            s3 = self.sc.s3()
            key = object_key(SNAPSHOT)
            answer = s3.get_object(Bucket=self.sc.bucket, Key=key)
            data = answer["Body"].read()
            s3.put_object(Bucket=self.sc.bucket, Key=key, Body=data[: len(data) // 2], Metadata=answer["Metadata"])

        yield self.sc.in_thread(truncate)
        volume = yield self.sc.volume(OTHER, snapshot_id=SNAPSHOT)
        self.assertEqual(volume.status, "failed")
        self.assertFalse(os.path.exists(self.sc.path(OTHER)))
        self.assertIn("truncated", self.sc.service.volumes.get(OTHER).reason)


class PointInTimeTests(TestCase):
    """
    What a snapshot holds of a volume being written.
    """

    timeout = 120

    @defer.inlineCallbacks
    def test_as_answered(self):
        """
        A snapshot holds the volume as it was when C{CreateStorageSnapshot}
        answered: a write made right after the answer is not in it.
        """
        self.sc = yield StorageHarness(self).start()
        yield self.sc.volume(VOLUME)
        self.sc.write(VOLUME, 5 * MiB, b"before" * 100)
        yield self.sc.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=VOLUME, snapshotId=SNAPSHOT)
        self.sc.write(VOLUME, 5 * MiB, b"after!" * 100)
        yield self.sc.settled()
        yield self.sc.volume(OTHER, snapshot_id=SNAPSHOT)
        with open(self.sc.path(OTHER), "rb") as f:
            f.seek(5 * MiB)
            self.assertEqual(f.read(600), b"before" * 100)

    @defer.inlineCallbacks
    def test_written_while_taken(self):
        """
        On a file system that clones files (btrfs), a snapshot of a volume
        written all the while by another thread (as tgtd writes for an
        instance) is one instant of it: every block whole, and the blocks
        the writer had rewritten in its current pass followed by those of
        its previous pass.
        """
        self.sc = yield StorageHarness(self, volumes_dir=os.path.join(mount_btrfs(self, 2 * GiB), "volumes")).start()
        yield self.sc.volume(VOLUME)
        blocks, size = 64, 64 * 1024
        stop = threading.Event()

        def writer():
            with open(self.sc.path(VOLUME), "r+b", buffering=0) as f:
                rounds = 0
                while not stop.is_set():
                    rounds += 1
                    for block in range(blocks):
                        f.seek(block * size)
                        f.write(bytes([rounds % 251 + 1]) * size)
            return rounds

        running = threads.deferToThread(writer)
        yield self.sc.pause(0.2)
        yield self.sc.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=VOLUME, snapshotId=SNAPSHOT)
        stop.set()
        rounds = yield running
        yield self.sc.settled()
        self.assertTrue(self.sc.service.snapshots.get(SNAPSHOT).point_in_time)
        restored = yield self.sc.volume(OTHER, snapshot_id=SNAPSHOT)
        self.assertEqual(restored.status, "available")
        with open(self.sc.path(OTHER), "rb") as f:
            image = f.read(blocks * size)
        passes = []
        for block in range(blocks):
            data = image[block * size : (block + 1) * size]
            self.assertEqual(data, data[:1] * size, f"block {block} is torn")
            passes.append(data[0])
        steps = [i for i in range(1, blocks) if passes[i] != passes[i - 1]]
        self.assertLessEqual(len(steps), 1, passes)
        if steps:
            self.assertEqual(passes[0] % 251, (passes[-1] + 1) % 251)
        self.assertGreater(rounds, 1)


class WalrusDownTests(TestCase):
    """
    Snapshots when Walrus does not answer.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.sc = yield StorageHarness(self, walrus_up=False).start()

    @defer.inlineCallbacks
    def test_snapshot_fails(self):
        """
        A snapshot fails, saying Walrus did not answer; the volume stays
        available with its data, no copy is left, and the failed snapshot
        can be deleted.
        """
        yield self.sc.volume(VOLUME)
        self.sc.write(VOLUME, 4096, b"data" * 1024)
        before = digest(self.sc.path(VOLUME))
        snapshot = yield self.sc.snapshot(VOLUME, SNAPSHOT)
        self.assertEqual(snapshot.status, "failed")
        response = yield self.sc.call("DescribeStorageSnapshots", t.DescribeStorageSnapshotsType)
        self.assertIn(f"{SNAPSHOT}: Walrus at {self.sc.walrus_url} did not", response.statusMessage)
        self.assertEqual((yield self.sc.describe_volume(VOLUME)).status, "available")
        self.assertEqual(digest(self.sc.path(VOLUME)), before)
        self.assertEqual(os.listdir(os.path.join(self.sc.data, "volumes", ".snapshots")), [])
        yield self.sc.call("DeleteStorageSnapshot", t.DeleteStorageSnapshotType, snapshotId=SNAPSHOT)
        yield self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME)
