# -*- test-case-name: tests.services.sc.test_files -*-
"""
The default volume store: one sparse raw file per volume, named by the
volume id, in the volumes directory (C{SC_VOLUMES_DIR}, the original's
C{/var/lib/eucalyptus/volumes}).  tgt serves the file itself
(C{--bstype rdwr}).

A volume is written under a temporary dot-name and takes its final name
only when complete (L{eucalyptus.files.atomic_file}, with a hard link that
never overwrites), so a failed or interrupted create or restore leaves no
volume behind, and L{FileBackend.recover} removes the temporary file a
crash leaves.  Chunks of zeros are never written: a new volume allocates
nothing, and a restored one only its non-zero chunks.

Snapshot copies live in C{.snapshots/} beside the volumes, each named
C{<volume id>.<snapshot id>}; a volume is not deleted while it has one.
On a file system that shares blocks between files (btrfs, XFS with
reflink) a copy is a reflink clone (C{FICLONE}, what C{cp --reflink}
does): one instant of the volume, made under the file's inode lock so that
each write lands wholly before or after it, hence crash-consistent even
while tgtd writes the volume for an instance; it costs no space until the
volume changes.  Elsewhere (ext4, tmpfs) the copy
is an ordinary sparse copy read front to back while the volume may change:
exact for a detached volume, torn for one being written, and
L{FileCopy.point_in_time} says which it is.

Everything here blocks (see L{eucalyptus.services.sc.backends.interfaces}).
"""

import errno
import fcntl
import os
import threading

from zope.interface import implementer

from eucalyptus.errors import (
    InsufficientVolumeCapacity,
    InvalidParameterValue,
    SnapshotNotFound,
    VolumeAlreadyExists,
    VolumeInUse,
    VolumeNotFound,
)
from eucalyptus.files import atomic_file, fsync_directory
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

__all__ = ["FileBackend", "FileCopy", "FICLONE"]

#: C{ioctl(dest, FICLONE, src)}: make C{dest} share all of C{src}'s blocks.
FICLONE = 0x40049409
#: Errors meaning "this file system cannot clone".
_NO_CLONE = {errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EPERM}
_FULL = {errno.ENOSPC, errno.EDQUOT}
CHUNK = 1024**2
SNAPSHOTS = ".snapshots"


@implementer(IVolumeCopy)
class FileCopy:
    """
    A snapshot copy: a read-only file in C{.snapshots/}.
    """

    def __init__(self, path, volume_id, snapshot_id, size, point_in_time):
        self.path = path
        self.volume_id = volume_id
        self.snapshot_id = snapshot_id
        self.size = size
        self.point_in_time = point_in_time

    def open(self):
        try:
            return open(self.path, "rb")
        except FileNotFoundError:
            raise SnapshotNotFound(f"The copy of {self.volume_id} for {self.snapshot_id} was released.")

    def release(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


@implementer(IVolumeBackend)
class FileBackend:
    """
    Volumes as sparse raw files in one directory.

    @ivar directory: the volumes directory.
    """

    name = "FILE"

    def __init__(self, directory, max_total_gib=0):
        """
        @param directory: the volumes directory; made if missing.
        @param max_total_gib: C{SC_MAX_TOTAL_VOLUME_GB}; 0 for no limit.
        """
        self.directory = os.path.abspath(directory)
        self._copies = os.path.join(self.directory, SNAPSHOTS)
        os.makedirs(self._copies, mode=0o700, exist_ok=True)
        self._limit = max_total_gib
        self._lock = threading.Lock()
        self._pending = {}

    def _path(self, volume_id):
        return os.path.join(self.directory, check_volume_id(volume_id))

    def _reserve(self, volume_id, size):
        """
        Claim C{volume_id} and C{size} bytes for a volume being written, so
        that concurrent creates neither collide nor pass the limit together.
        """
        with self._lock:
            if volume_id in self._pending or os.path.lexists(self._path(volume_id)):
                raise VolumeAlreadyExists(f"Volume {volume_id} already exists.")
            check_limit(self.list(), size + sum(self._pending.values()), self._limit)
            self._pending[volume_id] = size

    def _write(self, volume_id, size, source=None):
        path = self._path(volume_id)
        self._reserve(volume_id, size)
        try:
            with atomic_file(path, mode=0o600, replace=False) as f:
                if source is not None:
                    write_image(source, f, size)
                f.truncate(size)
        except FileExistsError:
            raise VolumeAlreadyExists(f"Volume {volume_id} already exists.")
        except OSError as e:
            if e.errno in _FULL:
                raise InsufficientVolumeCapacity(f"No space left in {self.directory} for {volume_id}: {e.strerror}.")
            raise
        finally:
            with self._lock:
                del self._pending[volume_id]

    def create(self, volume_id, size_gib):
        self._write(volume_id, check_size(size_gib))

    def create_from(self, volume_id, size_gib, source):
        self._write(volume_id, check_size(size_gib), source)

    def _copies_of(self, volume_id=None, snapshot_id=None):
        """
        The names in C{.snapshots/} of the copies of C{volume_id}, or for
        C{snapshot_id}: each is C{<volume id>.<snapshot id>}.
        """
        return sorted(
            name
            for name in os.listdir(self._copies)
            if not name.startswith(".")
            and (volume_id is None or name.partition(".")[0] == volume_id)
            and (snapshot_id is None or name.partition(".")[2] == snapshot_id)
        )

    def delete(self, volume_id):
        path = self._path(volume_id)
        copies = self._copies_of(volume_id=volume_id)
        if copies:
            raise VolumeInUse(f"Volume {volume_id} has snapshot copies in progress: {', '.join(copies)}.")
        try:
            os.unlink(path)
        except FileNotFoundError:
            raise VolumeNotFound(f"Volume {volume_id} does not exist.")
        fsync_directory(self.directory)

    def exists(self, volume_id):
        return os.path.isfile(self._path(volume_id))

    def describe(self, volume_id):
        try:
            status = os.stat(self._path(volume_id))
        except FileNotFoundError:
            raise VolumeNotFound(f"Volume {volume_id} does not exist.")
        return VolumeInfo(volume_id, status.st_size, status.st_blocks * 512)

    def list(self):
        volumes = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if is_volume_id(entry.name) and entry.is_file(follow_symlinks=False):
                    status = entry.stat(follow_symlinks=False)
                    volumes.append(VolumeInfo(entry.name, status.st_size, status.st_blocks * 512))
        return sorted(volumes, key=lambda volume: volume.volume_id)

    def snapshot(self, volume_id, snapshot_id):
        source = self._path(volume_id)
        destination = os.path.join(self._copies, f"{volume_id}.{check_snapshot_id(snapshot_id)}")
        if self._copies_of(snapshot_id=snapshot_id):
            raise InvalidParameterValue(f"A copy for {snapshot_id} exists already.")
        try:
            volume = open(source, "rb")
        except FileNotFoundError:
            raise VolumeNotFound(f"Volume {volume_id} does not exist.")
        try:
            with volume, atomic_file(destination, durable=False, mode=0o400, replace=False) as copy:
                point_in_time = _clone(volume, copy)
                if not point_in_time:
                    _sparse_copy(volume.fileno(), copy.fileno())
                size = os.fstat(copy.fileno()).st_size
        except FileExistsError:
            raise InvalidParameterValue(f"A copy for {snapshot_id} exists already.")
        except OSError as e:
            if e.errno in _FULL:
                raise InsufficientVolumeCapacity(f"No space left in {self.directory} to copy {volume_id}: {e.strerror}.")
            raise
        return FileCopy(destination, volume_id, snapshot_id, size, point_in_time)

    def export_path(self, volume_id):
        path = self._path(volume_id)
        if not os.path.isfile(path):
            raise VolumeNotFound(f"Volume {volume_id} does not exist.")
        return BackingStore("rdwr", path)

    def resize(self, volume_id, size_gib):
        size = check_size(size_gib)
        with self._lock:
            current = self.describe(volume_id).size
            if size < current:
                raise InvalidParameterValue(
                    f"Volume {volume_id} has {current // GiB} GiB; it can grow but not shrink to {size_gib} GiB."
                )
            check_limit(self.list(), size - current + sum(self._pending.values()), self._limit)
            with open(self._path(volume_id), "r+b") as f:
                f.truncate(size)
                os.fsync(f.fileno())

    def recover(self):
        removed = []
        for directory in (self.directory, self._copies):
            for name in os.listdir(directory):
                path = os.path.join(directory, name)
                partial = name.startswith(".vol-") and name.endswith(".tmp")
                if (partial or directory == self._copies) and os.path.isfile(path):
                    os.unlink(path)
                    removed.append(name)
        return sorted(removed)


def _clone(source, destination):
    """
    Make C{destination} share C{source}'s blocks, in one step.

    @return: C{True} if the file system did it; C{False} if it cannot.
    """
    try:
        fcntl.ioctl(destination.fileno(), FICLONE, source.fileno())
    except OSError as e:
        if e.errno in _NO_CLONE:
            return False
        raise
    return True


def _sparse_copy(source, destination):
    """
    Copy file descriptor C{source} to C{destination} block range by block
    range, skipping its holes.
    """
    size = os.fstat(source).st_size
    offset = 0
    while offset < size:
        try:
            data = os.lseek(source, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            raise
        hole = os.lseek(source, data, os.SEEK_HOLE)
        _copy_range(source, destination, data, hole)
        offset = hole
    os.ftruncate(destination, size)


def _copy_range(source, destination, start, end):
    position = start
    while position < end:
        count = min(end - position, 64 * CHUNK)
        try:
            copied = os.copy_file_range(source, destination, count, position, position)
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            chunk = os.pread(source, min(count, CHUNK), position)
            copied = os.pwrite(destination, chunk, position) if chunk else 0
        if not copied:
            return
        position += copied
