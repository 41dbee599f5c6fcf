# -*- test-case-name: tests.services.sc.test_lvm -*-
"""
Volumes as logical volumes of one volume group (C{SC_VOLUME_GROUP}), the
original's C{das} manager: C{lvcreate}, C{lvremove}, C{lvextend},
C{lvrename} and C{lvs --reportformat json}, run through an injected runner
(L{eucalyptus.commands.run}) so the command lines can be checked without
LVM.  tgt serves the LV's device (C{/dev/<vg>/<volume id>}).

A new LV reuses extents that deleted volumes held, and C{lvcreate} zeroes
only its first 4 KiB, so every new volume is zeroed whole (C{blkdiscard
--zeroout}: the device's WRITE ZEROES where it has one) before anyone can
read it: no volume ever shows another's data.  A restore is written into
C{tmp-<volume id>} and renamed when complete; L{LvmBackend.recover} removes
what an interrupted one leaves.

A snapshot copy is an LVM snapshot (C{lvcreate --snapshot}) as large as its
origin, so it cannot overflow: one instant of the volume, crash-consistent
even while an instance writes to it.  An origin cannot be removed while it
has one.

Everything here blocks (see L{eucalyptus.services.sc.backends.interfaces}).
"""

import json
import os
import threading

from zope.interface import implementer

from eucalyptus import commands
from eucalyptus.errors import (
    InsufficientVolumeCapacity,
    InvalidParameterValue,
    SnapshotNotFound,
    StorageError,
    StorageTimeout,
    VolumeAlreadyExists,
    VolumeInUse,
    VolumeNotFound,
)
from eucalyptus.services.sc.backends.interfaces import (
    GiB,
    BackingStore,
    IVolumeBackend,
    IVolumeCopy,
    VolumeInfo,
    check_limit,
    check_size,
    check_snapshot_id,
    check_volume_id,
    is_volume_id,
    write_image,
)

__all__ = ["LvmBackend", "LvmCopy", "TEMPORARY_PREFIX"]

TEMPORARY_PREFIX = "tmp-"
#: Seconds an LVM tool may take (zeroing a large volume takes longest).
TIMEOUT = 3600


@implementer(IVolumeCopy)
class LvmCopy:
    """
    A snapshot copy: an LVM snapshot of the volume, read through its device.
    """

    def __init__(self, backend, volume_id, snapshot_id, size):
        self._backend = backend
        self.volume_id = volume_id
        self.snapshot_id = snapshot_id
        self.size = size
        self.point_in_time = True

    def open(self):
        try:
            return open(self._backend.device(self.snapshot_id), "rb")
        except FileNotFoundError:
            raise SnapshotNotFound(f"The copy of {self.volume_id} for {self.snapshot_id} was released.")

    def release(self):
        self._backend.remove_lv(self.snapshot_id, missing_ok=True)


@implementer(IVolumeBackend)
class LvmBackend:
    """
    Volumes as logical volumes of one volume group.

    @ivar volume_group: the group's name.
    """

    name = "LVM"

    def __init__(self, volume_group, run=commands.run, max_total_gib=0, dev="/dev"):
        """
        @param run: a runner shaped like L{eucalyptus.commands.run}.
        @param max_total_gib: C{SC_MAX_TOTAL_VOLUME_GB}; 0 for no limit.
        @param dev: where LVM makes device nodes (for tests).
        """
        self.volume_group = volume_group
        self._run = run
        self._limit = max_total_gib
        self._dev = dev
        self._lock = threading.Lock()

    def _tool(self, *argv):
        """
        Run an LVM tool (or C{blkdiscard}); turn what it says about a
        failure into our error classes.
        """
        try:
            return commands.check(self._run, argv, StorageError, timeout=TIMEOUT, timeout_error=StorageTimeout)
        except StorageError as e:
            text = e.message.lower()
            if "insufficient free space" in text or "insufficient suitable" in text:
                raise InsufficientVolumeCapacity(f"Volume group {self.volume_group} is full: {e.message}")
            if "already exists" in text:
                raise VolumeAlreadyExists(e.message)
            if "failed to find logical volume" in text:
                raise VolumeNotFound(e.message)
            if " in use" in text or "is open" in text:
                raise VolumeInUse(e.message)
            raise

    def device(self, lv_name):
        """
        The device node of logical volume C{lv_name}.
        """
        return os.path.join(self._dev, self.volume_group, lv_name)

    def logical_volumes(self):
        """
        Every LV of the group, as C{lvs} reports it.

        @return: a dict of LV name to C{(size in bytes, origin name or "")}.
        """
        out = self._tool(
            "lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "lv_name,lv_size,origin",
            self.volume_group,
        )  # fmt: skip
        try:
            rows = [row for report in json.loads(out)["report"] for row in report.get("lv", [])]
            return {row["lv_name"]: (int(row["lv_size"]), row.get("origin", "")) for row in rows}
        except (ValueError, KeyError, TypeError) as e:
            raise StorageError(f"Cannot read what lvs reports for {self.volume_group}: {e}")

    def remove_lv(self, lv_name, missing_ok=False):
        """
        Remove logical volume C{lv_name} of the group.
        """
        try:
            self._tool("lvremove", "--yes", f"{self.volume_group}/{lv_name}")
        except VolumeNotFound:
            if not missing_ok:
                raise

    def _volumes(self, lvs):
        return sorted(
            (VolumeInfo(name, size, size) for name, (size, origin) in lvs.items() if is_volume_id(name) and not origin),
            key=lambda volume: volume.volume_id,
        )

    def _new(self, volume_id, size):
        """
        A zeroed LV of C{size} bytes named C{tmp-<volume id>}, invisible to
        L{list} until L{_publish} renames it.
        """
        temporary = TEMPORARY_PREFIX + volume_id
        with self._lock:
            lvs = self.logical_volumes()
            if volume_id in lvs or temporary in lvs:
                raise VolumeAlreadyExists(f"Volume {volume_id} already exists.")
            check_limit(self._volumes(lvs), size, self._limit)
            self._tool("lvcreate", "--yes", "--name", temporary, "--size", f"{size}b", self.volume_group)
        try:
            self._tool("blkdiscard", "--zeroout", self.device(temporary))
        except BaseException:
            self.remove_lv(temporary, missing_ok=True)
            raise
        return temporary

    def _publish(self, temporary, volume_id, source=None):
        try:
            if source is not None:
                with open(self.device(temporary), "r+b") as f:
                    write_image(source, f, f.seek(0, os.SEEK_END))
                    f.flush()
                    os.fsync(f.fileno())
            self._tool("lvrename", self.volume_group, temporary, volume_id)
        except BaseException:
            self.remove_lv(temporary, missing_ok=True)
            raise

    def create(self, volume_id, size_gib):
        size = check_size(size_gib)
        self._publish(self._new(check_volume_id(volume_id), size), volume_id)

    def create_from(self, volume_id, size_gib, source):
        size = check_size(size_gib)
        self._publish(self._new(check_volume_id(volume_id), size), volume_id, source)

    def delete(self, volume_id):
        check_volume_id(volume_id)
        with self._lock:
            lvs = self.logical_volumes()
            if volume_id not in lvs or lvs[volume_id][1]:
                raise VolumeNotFound(f"Volume {volume_id} does not exist.")
            copies = sorted(name for name, (_, origin) in lvs.items() if origin == volume_id)
            if copies:
                raise VolumeInUse(f"Volume {volume_id} has snapshot copies in progress: {', '.join(copies)}.")
            self.remove_lv(volume_id)

    def exists(self, volume_id):
        check_volume_id(volume_id)
        return any(volume.volume_id == volume_id for volume in self.list())

    def describe(self, volume_id):
        check_volume_id(volume_id)
        for volume in self.list():
            if volume.volume_id == volume_id:
                return volume
        raise VolumeNotFound(f"Volume {volume_id} does not exist.")

    def list(self):
        return self._volumes(self.logical_volumes())

    def snapshot(self, volume_id, snapshot_id):
        check_snapshot_id(snapshot_id)
        with self._lock:
            lvs = self.logical_volumes()
            if snapshot_id in lvs:
                raise InvalidParameterValue(f"A copy for {snapshot_id} exists already.")
            size = self.describe(volume_id).size
            self._tool(
                "lvcreate", "--yes", "--snapshot", "--name", snapshot_id, "--size", f"{size}b",
                f"{self.volume_group}/{volume_id}",
            )  # fmt: skip
        return LvmCopy(self, volume_id, snapshot_id, size)

    def export_path(self, volume_id):
        self.describe(volume_id)
        return BackingStore("rdwr", self.device(volume_id))

    def resize(self, volume_id, size_gib):
        size = check_size(size_gib)
        with self._lock:
            volumes = self.list()
            current = {volume.volume_id: volume.size for volume in volumes}.get(check_volume_id(volume_id))
            if current is None:
                raise VolumeNotFound(f"Volume {volume_id} does not exist.")
            if size < current:
                raise InvalidParameterValue(
                    f"Volume {volume_id} has {current // GiB} GiB; it can grow but not shrink to {size_gib} GiB."
                )
            if size == current:
                return
            check_limit(volumes, size - current, self._limit)
            self._tool("lvextend", "--size", f"{size}b", f"{self.volume_group}/{volume_id}")

    def recover(self):
        removed = []
        for name, (_, origin) in sorted(self.logical_volumes().items(), key=lambda item: not item[1][1]):
            temporary = name.startswith(TEMPORARY_PREFIX) and is_volume_id(name[len(TEMPORARY_PREFIX) :])
            if temporary or (origin and name.startswith("snap-")):
                self.remove_lv(name, missing_ok=True)
                removed.append(name)
        return sorted(removed)
