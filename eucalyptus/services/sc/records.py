# -*- test-case-name: tests.services.sc.test_records -*-
"""
What the Storage Controller remembers across restarts: one small JSON
record per volume and per snapshot, in its own directory of the data
directory (C{<data dir>/sc/volumes/<id>.json},
C{<data dir>/sc/snapshots/<id>.json}), each written whole
(L{eucalyptus.files.write_atomically}) so a crash leaves the old record or
the new, never a part.

The records are the SC's view (status, size, token, where a snapshot's
object is); the volumes themselves live in the backend and the snapshots'
data in Walrus.  L{StorageState} holds them in memory, where the reactor
thread reads and changes them, and writes them in order on one worker
thread.
"""

import json
import os
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone

from twisted.logger import Logger

from eucalyptus.files import fsync_directory, write_atomically

__all__ = [
    "VolumeRecord",
    "SnapshotRecord",
    "RecordStore",
    "StorageState",
    "CREATING",
    "AVAILABLE",
    "FAILED",
    "PENDING",
    "COMPLETED",
    "now",
    "new_token",
]

#: Volume states (the original SC's): being made, usable, broken.
CREATING, AVAILABLE, FAILED = "creating", "available", "failed"
#: Snapshot states: being copied and uploaded, stored in Walrus, broken.
PENDING, COMPLETED = "pending", "completed"


def now():
    """
    The time now, UTC, as an ISO 8601 text (what records keep).
    """
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class VolumeRecord:
    """
    One volume as the SC knows it.

    @ivar size: GiB.
    @ivar status: L{CREATING}, L{AVAILABLE} or L{FAILED}.
    @ivar create_time: ISO 8601, UTC.
    @ivar snapshot_id: the snapshot it was restored from, or C{""}.
    @ivar reason: why it failed.
    @ivar token: what C{ExportVolume} must present (L{new_token}), or
        C{""} before the first C{GetVolumeToken}.
    @ivar exports: the node addresses it is exported to.
    """

    volume_id: str
    size: int
    status: str
    create_time: str
    snapshot_id: str = ""
    reason: str = ""
    token: str = ""
    exports: list = field(default_factory=list)

    kind = "volumes"

    @property
    def name(self):
        return self.volume_id


@dataclass
class SnapshotRecord:
    """
    One snapshot as the SC knows it.

    @ivar status: L{PENDING}, L{COMPLETED} or L{FAILED}.
    @ivar start_time: ISO 8601, UTC.
    @ivar size: GiB of the volume it was taken of.
    @ivar bucket: the Walrus bucket of its object.
    @ivar key: the object's key.
    @ivar upload_id: the multipart upload in progress (or left behind by a
        failure, to abort), else C{""}.
    @ivar progress: percent uploaded.
    @ivar stored: bytes of the compressed object.
    @ivar point_in_time: whether the copy was one instant of the volume
        (see L{IVolumeCopy.point_in_time}).
    @ivar reason: why it failed.
    """

    snapshot_id: str
    volume_id: str
    status: str
    start_time: str
    size: int
    bucket: str = ""
    key: str = ""
    upload_id: str = ""
    progress: int = 0
    stored: int = 0
    point_in_time: bool = False
    reason: str = ""

    kind = "snapshots"

    @property
    def name(self):
        return self.snapshot_id


def new_token():
    """
    A volume token: 256 random bits, URL-safe text.
    """
    return secrets.token_urlsafe(32)


_TYPES = {"volumes": VolumeRecord, "snapshots": SnapshotRecord}


class RecordStore:
    """
    The record files, in one directory.  Every method blocks.
    """

    _log = Logger()

    def __init__(self, directory):
        """
        @param directory: the SC's state directory; made if missing.
        """
        self.directory = os.path.abspath(directory)
        for kind in _TYPES:
            os.makedirs(os.path.join(self.directory, kind), mode=0o700, exist_ok=True)

    def _path(self, kind, name):
        if "/" in name or name.startswith("."):
            raise ValueError(f"Not a record name: {name!r}")
        return os.path.join(self.directory, kind, name + ".json")

    def load(self):
        """
        Every record on disk.  A file that cannot be read is logged and
        left where it is.

        @return: C{(volumes, snapshots)}, dicts of id to record.
        """
        found = {}
        for kind, record_type in _TYPES.items():
            found[kind] = records = {}
            directory = os.path.join(self.directory, kind)
            names = set(f.name for f in fields(record_type))
            for entry in sorted(os.listdir(directory)):
                if entry.startswith(".") or not entry.endswith(".json"):
                    continue
                try:
                    with open(os.path.join(directory, entry), encoding="utf-8") as f:
                        data = json.load(f)
                    record = record_type(**{k: v for k, v in data.items() if k in names})
                except (OSError, ValueError, TypeError) as e:
                    self._log.error("Cannot read the record {path}: {error}", path=entry, error=e)
                    continue
                if record.name + ".json" != entry:
                    self._log.error("The record {path} names {name}; left out", path=entry, name=record.name)
                    continue
                records[record.name] = record
        return found["volumes"], found["snapshots"]

    def save(self, kind, name, data):
        """
        Write one record.

        @param data: its fields, a dict (taken on the reactor thread, so
            later changes do not race with the write).
        """
        write_atomically(self._path(kind, name), json.dumps(data, sort_keys=True), mode=0o600)

    def remove(self, kind, name):
        """
        Remove one record; removing what is gone does nothing.
        """
        try:
            os.unlink(self._path(kind, name))
        except FileNotFoundError:
            return
        fsync_directory(os.path.join(self.directory, kind))

    def setting(self, name, default):
        """
        A value kept in C{<directory>/<name>}, written with C{default()}
        the first time.
        """
        path = os.path.join(self.directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                value = f.read().strip()
        except FileNotFoundError:
            value = ""
        if not value:
            value = default()
            write_atomically(path, value + "\n", mode=0o600)
        return value


class StorageState:
    """
    The volumes and snapshots in memory, and their writes to disk in
    order.  Read and changed only on the reactor thread.

    @ivar volumes: volume id to L{VolumeRecord}.
    @ivar snapshots: snapshot id to L{SnapshotRecord}.
    """

    def __init__(self, store, lane):
        """
        @param store: the L{RecordStore}.
        @param lane: a L{eucalyptus.threads.Workers} of one thread, on
            which the writes run one after the other.
        """
        self.store = store
        self.lane = lane
        self.volumes = {}
        self.snapshots = {}

    def load(self):
        """
        Read the records from disk.

        @return: a Deferred firing when they are in memory.
        """

        def loaded(result):
            self.volumes, self.snapshots = result

        return self.lane.submit(self.store.load).addCallback(loaded)

    def save(self, record):
        """
        Write a record as it is now.

        @return: a Deferred firing once it is on disk.
        """
        return self.lane.submit(self.store.save, record.kind, record.name, asdict(record))

    def add(self, record):
        """
        Keep a new record, and write it.
        """
        getattr(self, record.kind)[record.name] = record
        return self.save(record)

    def remove(self, record):
        """
        Forget a record and remove its file.
        """
        getattr(self, record.kind).pop(record.name, None)
        return self.lane.submit(self.store.remove, record.kind, record.name)

