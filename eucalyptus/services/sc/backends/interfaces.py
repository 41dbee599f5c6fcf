# -*- test-case-name: tests.services.sc.test_backends -*-
"""
The boundary between the Storage Controller and the place volumes live.

The SC speaks only L{IVolumeBackend}.  The default backend keeps each volume
as a sparse raw file (L{eucalyptus.services.sc.backends.files}); the LVM
backend as a logical volume of a configured volume group
(L{eucalyptus.services.sc.backends.lvm}).  A Ceph RBD backend fits the same
interface without changing its callers: C{create} is C{rbd create},
C{snapshot} an RBD snapshot whose L{IVolumeCopy.open} streams
C{rbd export pool/image@snap -}, and L{IVolumeBackend.export_path} answers
C{BackingStore("rbd", "pool/image")}, which tgt serves with its C{rbd}
backing-store type (Debian's C{tgt-rbd}).

Every method B{blocks}: it does file I/O or runs a tool and returns when
that is done.  The SC calls them from a worker thread
(L{eucalyptus.threads.Workers}), never from the reactor.  Implementations
are safe to call from several threads at once.

Volumes are named by their id (C{vol-} and 8 or 17 hex digits), which is
checked before it reaches a path or a command line; sizes are whole GiB as
EC2 has them.  A volume that is being created or restored is never visible
(to L{IVolumeBackend.exists}, C{describe}, C{list}, or under its final name
in the store) until it is complete: bad input or a failure half-way leaves
nothing behind.

Errors are L{eucalyptus.errors} classes: L{InvalidVolumeID},
L{InvalidSnapshotID}, L{InvalidParameterValue} (a bad size, a shrink),
L{VolumeNotFound}, L{VolumeAlreadyExists}, L{VolumeInUse},
L{VolumeLimitExceeded} (past C{SC_MAX_TOTAL_VOLUME_GB}),
L{InsufficientVolumeCapacity} (the store is full), L{StorageError} (a tool
failed; the message says which and why).
"""

import re
from dataclasses import dataclass
from typing import NamedTuple

from zope.interface import Attribute, Interface

from eucalyptus.errors import InvalidParameterValue, InvalidSnapshotID, InvalidVolumeID, VolumeLimitExceeded

__all__ = [
    "IVolumeBackend",
    "IVolumeCopy",
    "VolumeInfo",
    "BackingStore",
    "GiB",
    "MAX_SIZE_GIB",
    "check_volume_id",
    "check_snapshot_id",
    "check_size",
    "check_limit",
    "is_volume_id",
    "write_image",
]

GiB = 1024**3
#: The largest volume EC2 creates (16 TiB).
MAX_SIZE_GIB = 16384

_CHUNK = 1024**2
_ZEROS = bytes(_CHUNK)
_VOLUME_ID = re.compile(r"\Avol-[0-9a-fA-F]{8}(?:[0-9a-fA-F]{9})?\Z")
_SNAPSHOT_ID = re.compile(r"\Asnap-[0-9a-fA-F]{8}(?:[0-9a-fA-F]{9})?\Z")


@dataclass(frozen=True)
class VolumeInfo:
    """
    One volume as the store has it.

    @ivar volume_id: its id.
    @ivar size: its size, bytes (a whole number of GiB).
    @ivar allocated: bytes of the store it takes now (less than C{size}
        for a sparse file; C{size} for a logical volume).
    """

    volume_id: str
    size: int
    allocated: int


class BackingStore(NamedTuple):
    """
    What tgt serves a volume from: C{tgtadm --bstype <type> --backing-store
    <path>}.

    @ivar type: tgt's backing-store type: C{rdwr} for a file or block
        device, C{rbd} for a Ceph image.
    @ivar path: a file or device path, or C{pool/image} for C{rbd}.
    """

    type: str
    path: str


class IVolumeCopy(Interface):
    """
    A read-only, point-in-time copy of a volume taken for a snapshot: read
    it as a stream (to compress and upload it), then release it.
    """

    volume_id = Attribute("The id of the volume it was taken from.")
    snapshot_id = Attribute("The snapshot id it was taken for.")
    size = Attribute("Its size in bytes (the volume's when it was taken).")
    point_in_time = Attribute(
        "C{True} when the copy is one instant of the volume (a reflink clone, an LVM or RBD snapshot): "
        "crash-consistent even if the volume was being written while it was taken.  C{False} when it is "
        "a plain copy, read block after block: exact for a volume nobody writes, torn for one being written."
    )

    def open():
        """
        Open the copy for reading from its first byte.  Blocking.

        @return: a binary file object with C{read(n)}, to be closed by the
            caller; L{SnapshotNotFound} once the copy is released.
        """

    def release():
        """
        Remove the copy and free the space it takes.  Releasing twice does
        nothing.  Blocking.
        """


class IVolumeBackend(Interface):
    """
    A store of volumes.  Every method blocks; see the module docstring.
    """

    name = Attribute("The backend's name, as C{SC_BACKEND} has it (C{FILE}, C{LVM}).")

    def create(volume_id, size_gib):
        """
        Create an empty volume (every byte reads as zero) of C{size_gib} GiB.

        @raise VolumeAlreadyExists: a volume of that id exists (it is left
            as it was).
        @raise VolumeLimitExceeded: the store's configured total would be
            exceeded.
        @raise InsufficientVolumeCapacity: the store is full.
        """

    def create_from(volume_id, size_gib, source):
        """
        Create a volume of C{size_gib} GiB holding a raw image read from
        C{source} (a snapshot being restored), zeros after its end.  The
        volume appears only once every byte is written; if reading
        C{source} fails, or it holds more than C{size_gib} GiB, nothing is
        left behind.

        @param source: a binary stream: C{read(n)} returns up to C{n}
            bytes, C{b""} at its end.
        @raise InvalidParameterValue: C{source} is larger than the volume.
        @raise VolumeAlreadyExists: a volume of that id exists.
        @raise InsufficientVolumeCapacity: the store ran out of space while
            writing.
        @raise Exception: whatever C{source.read} raised, after cleaning up.
        """

    def delete(volume_id):
        """
        Remove a volume and free its space.  Unexport the volume first:
        the backend does not know about iSCSI targets.

        @raise VolumeNotFound: there is no such volume.
        @raise VolumeInUse: a snapshot copy of it is held (release the copy
            first: an LVM origin cannot outlive its snapshots), or the
            store refuses because the volume is open.
        """

    def exists(volume_id):
        """
        Whether a complete volume of that id exists.

        @return: C{bool}.
        """

    def describe(volume_id):
        """
        One volume.

        @return: a L{VolumeInfo}.
        @raise VolumeNotFound: there is no such volume.
        """

    def list():
        """
        Every complete volume in the store (none being created, no snapshot
        copies, nothing the SC did not make), ordered by id.

        @return: a list of L{VolumeInfo}.
        """

    def snapshot(volume_id, snapshot_id):
        """
        Take a read-only copy of the volume as it is now, for snapshot
        C{snapshot_id}.  Where the store can (a reflink clone on btrfs or
        XFS, an LVM or RBD snapshot) the copy is one instant of the volume
        even while an instance writes to it through iSCSI, i.e.
        crash-consistent; otherwise it is a plain copy and says so with
        L{IVolumeCopy.point_in_time}.

        @return: an L{IVolumeCopy}; release it once read.
        @raise VolumeNotFound: there is no such volume.
        @raise InvalidParameterValue: a copy for that snapshot exists.
        @raise InsufficientVolumeCapacity: no room for the copy.
        """

    def export_path(volume_id):
        """
        What tgt serves the volume from.

        @return: a L{BackingStore}, e.g. C{("rdwr", "/var/lib/.../vol-...")}
            or C{("rbd", "pool/vol-...")}.
        @raise VolumeNotFound: there is no such volume.
        """

    def resize(volume_id, size_gib):
        """
        Grow a volume to C{size_gib} GiB (the new bytes read as zero).  An
        exported volume's target keeps the old size until it is exported
        again.

        @raise InvalidParameterValue: C{size_gib} is smaller than the
            volume (shrinking would lose data).
        @raise VolumeNotFound: there is no such volume.
        @raise VolumeLimitExceeded: past the configured total.
        """

    def recover():
        """
        Remove what an interrupted C{create}, C{create_from} or C{snapshot}
        left behind (temporary files or logical volumes, snapshot copies: a
        restarted SC has no upload in progress).  Call it once at start-up,
        before any other method.

        @return: a list of the names removed.
        """


def is_volume_id(name):
    """
    Whether C{name} is a well-formed volume id.
    """
    return bool(_VOLUME_ID.match(name))


def check_volume_id(volume_id):
    """
    Insist that C{volume_id} is a volume id, so it is safe in a path, an LV
    name or a tgt account name.

    @return: C{volume_id}.
    @raise InvalidVolumeID: it is not.
    """
    if not isinstance(volume_id, str) or not _VOLUME_ID.match(volume_id):
        raise InvalidVolumeID(f"Invalid id: {volume_id!r} (expecting vol-xxxxxxxx).")
    return volume_id


def check_snapshot_id(snapshot_id):
    """
    Insist that C{snapshot_id} is a snapshot id.

    @return: C{snapshot_id}.
    @raise InvalidSnapshotID: it is not.
    """
    if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID.match(snapshot_id):
        raise InvalidSnapshotID(f"Invalid id: {snapshot_id!r} (expecting snap-xxxxxxxx).")
    return snapshot_id


def check_size(size_gib):
    """
    Insist on a volume size EC2 allows: a whole number of GiB from 1 to
    L{MAX_SIZE_GIB}.

    @return: the size in bytes.
    @raise InvalidParameterValue: it is not.
    """
    if isinstance(size_gib, bool) or not isinstance(size_gib, int) or not 1 <= size_gib <= MAX_SIZE_GIB:
        raise InvalidParameterValue(f"Invalid volume size {size_gib!r}: a whole number of GiB from 1 to {MAX_SIZE_GIB}.")
    return size_gib * GiB


def check_limit(volumes, adding_bytes, limit_gib):
    """
    Insist that C{adding_bytes} more keep the store within C{limit_gib}.

    @param volumes: the L{VolumeInfo}s in the store now.
    @param limit_gib: the configured total; 0 for no limit.
    @raise VolumeLimitExceeded: it would not.
    """
    if not limit_gib:
        return
    used = sum(volume.size for volume in volumes)
    if used + adding_bytes > limit_gib * GiB:
        raise VolumeLimitExceeded(
            f"{adding_bytes // GiB} GiB more would exceed the limit of {limit_gib} GiB "
            f"({used // GiB} GiB in use; SC_MAX_TOTAL_VOLUME_GB)."
        )


def write_image(source, f, size):
    """
    Write the raw image C{source} holds into C{f} from its start, leaving
    chunks of zeros unwritten (holes in a file; already zero on a zeroed
    device).

    @param source: a binary stream with C{read(n)}.
    @param f: a binary file open for writing, as large as the volume or
        sparse.
    @param size: the volume's size in bytes.
    @raise InvalidParameterValue: C{source} holds more than C{size} bytes.
    """
    written = 0
    while True:
        chunk = source.read(_CHUNK)
        if not chunk:
            return
        if written + len(chunk) > size:
            raise InvalidParameterValue(
                f"The snapshot holds more than {size // GiB} GiB; restore it into a volume at least its size."
            )
        zeros = chunk == _ZEROS if len(chunk) == _CHUNK else not chunk.strip(b"\0")
        if not zeros:
            f.seek(written)
            f.write(chunk)
        written += len(chunk)
