# -*- test-case-name: tests.services.sc.test_operations,tests.services.sc.test_snapshots -*-
"""
Volumes: made empty or restored from a snapshot, exported to nodes over
iSCSI, deleted.

C{CreateStorageVolume} records the volume C{creating} and answers; the
volume is made on a worker thread (empty) or streamed back from its
snapshot's object in Walrus on a transfer thread (restored, into a volume
of the snapshot's size or larger), and becomes C{available}, or C{failed}
with the reason.  The backend never shows a volume before its last byte is
written, so a failure leaves nothing half-made behind.

Exports follow the original 4.x flow: the CLC asks C{GetVolumeToken} for
the volume's token and passes it down to the node (C{sc://<volume
id>,<token>}); the node calls C{ExportVolume} with it and its address and
receives the connection string of L{eucalyptus.volume_connection};
C{UnexportVolume} ends it.  A volume exported to any node is not deleted.
Calls touching one volume (export, unexport, token, delete) run one after
the other.
"""

import hmac
import ipaddress
from collections import defaultdict

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from eucalyptus.errors import (
    IncorrectState,
    InvalidParameterValue,
    StorageError,
    UnauthorizedOperation,
    VolumeAlreadyExists,
    VolumeInUse,
    VolumeNotFound,
)
from eucalyptus.services.sc.backends.interfaces import GiB, check_size, check_snapshot_id, check_volume_id
from eucalyptus.services.sc.records import AVAILABLE, COMPLETED, CREATING, FAILED, PENDING, VolumeRecord, new_token, now
from eucalyptus.services.sc.snapshots import reason_of
from eucalyptus.services.sc.walrus import object_key

__all__ = ["Volumes"]


def _address(ip):
    try:
        return str(ipaddress.ip_address(ip or ""))
    except ValueError:
        raise InvalidParameterValue(f"The node address {ip!r} is not an IP address.")


class Volumes:
    """
    The volumes of one Storage Controller.
    """

    _log = Logger()

    def __init__(self, state, backend, exports, objects, blocking, transfers, jobs):
        """
        @param state: the L{StorageState}.
        @param backend: the L{IVolumeBackend}.
        @param exports: the L{ISCSIExports}.
        @param objects: the L{SnapshotObjects} in Walrus.
        @param blocking: L{Workers} for short blocking calls.
        @param transfers: L{Workers} for restores.
        @param jobs: the L{Jobs} in progress.
        """
        self.state = state
        self.backend = backend
        self.exports = exports
        self.objects = objects
        self.blocking = blocking
        self.transfers = transfers
        self.jobs = jobs
        self._locks = defaultdict(defer.DeferredLock)

    def get(self, volume_id):
        """
        @raise VolumeNotFound: this SC has no such volume.
        """
        record = self.state.volumes.get(check_volume_id(volume_id))
        if record is None:
            raise VolumeNotFound(f"The volume '{volume_id}' does not exist.")
        return record

    def describe(self, volume_ids=None):
        """
        The volumes named (those this SC knows), or all.

        @return: a list of L{VolumeRecord}s, by id.
        """
        if volume_ids:
            found = (self.state.volumes.get(i) for i in volume_ids)
            return [record for record in found if record is not None]
        return [self.state.volumes[i] for i in sorted(self.state.volumes)]

    def _exclusive(self, volume_id, work, *args):
        """
        Run C{work(*args)} once no other call on C{volume_id} runs.
        """
        lock = self._locks[volume_id]

        def done(result):
            if not lock.locked and not lock.waiting:
                self._locks.pop(volume_id, None)
            return result

        return lock.run(work, *args).addBoth(done)

    # Creating.

    def _size_for(self, size, snapshot_id):
        """
        The size to make a volume: the one asked for, at least the
        snapshot's; C{0} when only the snapshot's object can say.
        """
        if not snapshot_id:
            check_size(size)
            return size
        check_snapshot_id(snapshot_id)
        if size:
            check_size(size)
        snapshot = self.state.snapshots.get(snapshot_id)
        if snapshot is None:
            return size or 0
        if snapshot.status != COMPLETED:
            raise IncorrectState(f"Snapshot {snapshot_id} is {snapshot.status}; only a completed one can be restored.")
        if size and size < snapshot.size:
            raise InvalidParameterValue(
                f"Snapshot {snapshot_id} is of a {snapshot.size} GiB volume; it cannot be restored into {size} GiB."
            )
        return size or snapshot.size

    @defer.inlineCallbacks
    def create(self, volume_id, size=None, snapshot_id=None):
        """
        Start making a volume, empty (C{size} GiB) or from a snapshot (of
        its size, or C{size} if larger).  Asking again for the same volume
        answers it as it is.

        @return: a Deferred firing with the L{VolumeRecord}, C{creating},
            once it is recorded.
        @raise VolumeAlreadyExists: a different volume has that id.
        @raise InvalidParameterValue: a bad size, or smaller than the
            snapshot.
        @raise IncorrectState: the snapshot is not completed.
        """
        check_volume_id(volume_id)
        size = self._size_for(size, snapshot_id)
        existing = self.state.volumes.get(volume_id)
        if existing is not None:
            if existing.snapshot_id == (snapshot_id or "") and (not size or existing.size in (0, size)):
                return existing
            raise VolumeAlreadyExists(f"Volume {volume_id} exists already.")
        record = VolumeRecord(volume_id, size, CREATING, now(), snapshot_id or "")
        yield self.state.add(record)
        self.jobs.run(volume_id, lambda job: self._make(record, job))
        return record

    @defer.inlineCallbacks
    def _make(self, record, job):
        try:
            if record.snapshot_id:
                snapshot = self.state.snapshots.get(record.snapshot_id)
                if snapshot is not None:
                    bucket, key = snapshot.bucket, snapshot.key
                else:
                    bucket, key = self.objects.bucket, object_key(record.snapshot_id)
                record.size = yield self.transfers.submit(
                    self._restore, record.volume_id, record.size, bucket, key, job
                )
            else:
                yield self.blocking.submit(self.backend.create, record.volume_id, record.size)
        except Exception:
            record.status, record.reason = FAILED, reason_of(Failure())
            self._log.error("Volume {id} failed: {reason}", id=record.volume_id, reason=record.reason)
        else:
            record.status = AVAILABLE
            self._log.info("Volume {id} available: {size} GiB{source}", id=record.volume_id, size=record.size,
                           source=f" from {record.snapshot_id}" if record.snapshot_id else "")  # fmt: skip
        if self.state.volumes.get(record.volume_id) is record:
            yield self.state.save(record)

    def _restore(self, volume_id, size, bucket, key, job):
        """
        On a transfer thread: stream a snapshot's object into a new volume.

        @return: the volume's size, GiB.
        """
        metadata, reader = self.objects.open(bucket, key, job.cancelled)
        try:
            raw = metadata.get("size", "")
            gib = metadata.get("volume-size-gib", "")
            need = max(int(gib) if gib.isdigit() else 0, -(-int(raw) // GiB) if raw.isdigit() else 0, 1)
            size = size or need
            if size < need:
                raise InvalidParameterValue(
                    f"The snapshot is of a {need} GiB volume; it cannot be restored into {size} GiB."
                )
            self.backend.create_from(volume_id, size, reader)
        finally:
            reader.close()
        return size

    # Deleting.

    def delete(self, volume_id):
        """
        Delete a volume.  Its snapshots stay.

        @raise VolumeNotFound: no such volume.
        @raise IncorrectState: it is being created.
        @raise VolumeInUse: it is exported to a node, or a snapshot of it
            is being taken.
        """
        record = self.get(volume_id)
        return self._exclusive(volume_id, self._delete, record)

    @defer.inlineCallbacks
    def _delete(self, record):
        volume_id = record.volume_id
        if record.status == CREATING:
            raise IncorrectState(f"Volume {volume_id} is being created; delete it once it is available or failed.")
        for snapshot in self.state.snapshots.values():
            if snapshot.volume_id == volume_id and snapshot.status == PENDING:
                raise VolumeInUse(f"Snapshot {snapshot.snapshot_id} of {volume_id} is being taken.")
        if record.exports:
            yield self._check_exports(record)
        try:
            yield self.blocking.submit(self.backend.delete, volume_id)
        except VolumeNotFound:
            if record.status != FAILED:
                self._log.warn("Volume {id} was already gone from the store", id=volume_id)
        if self.state.volumes.get(volume_id) is record:
            yield self.state.remove(record)
        self._log.info("Volume {id} deleted", id=volume_id)

    @defer.inlineCallbacks
    def _check_exports(self, record):
        """
        Refuse to delete a volume tgtd still exports (what tgtd says wins
        over the record: a restarted tgtd has forgotten every target).
        """
        try:
            exported = yield self.blocking.submit(self.exports.exported)
        except StorageError as e:
            raise VolumeInUse(
                f"Volume {record.volume_id} was exported to {', '.join(record.exports)} and tgtd cannot say "
                f"whether it still is: {e.message}"
            )
        live = exported.get(record.volume_id.lower(), [])
        if live != record.exports:
            record.exports = live
            yield self.state.save(record)
        if live:
            raise VolumeInUse(f"Volume {record.volume_id} is exported to {', '.join(live)}; unexport it first.")

    # Exports.

    def _ready(self, volume_id):
        record = self.get(volume_id)
        if record.status != AVAILABLE:
            raise IncorrectState(f"Volume {volume_id} is {record.status}, not available.")
        return record

    def _check_token(self, record, token):
        if not record.token or not hmac.compare_digest(record.token.encode(), (token or "").encode()):
            raise UnauthorizedOperation(f"The token does not grant access to {record.volume_id}.")

    def token(self, volume_id):
        """
        The volume's token, made the first time.

        @return: a Deferred firing with the token (text).
        """
        record = self._ready(volume_id)
        return self._exclusive(volume_id, self._token, record)

    @defer.inlineCallbacks
    def _token(self, record):
        if not record.token:
            record.token = new_token()
            yield self.state.save(record)
        return record.token

    def export(self, volume_id, token, ip):
        """
        Export the volume to the node at C{ip}.

        @return: a Deferred firing with the connection string (text).
        @raise UnauthorizedOperation: the token is wrong.
        @raise IncorrectState: the volume is not available.
        """
        record = self._ready(volume_id)
        self._check_token(record, token)
        return self._exclusive(volume_id, self._export, record, _address(ip))

    @defer.inlineCallbacks
    def _export(self, record, address):
        connection = yield self.blocking.submit(self.exports.export, record.volume_id, address)
        if address not in record.exports:
            record.exports.append(address)
            yield self.state.save(record)
        self._log.info("Volume {id} exported to {address}", id=record.volume_id, address=address)
        return str(connection)

    def unexport(self, volume_id, token, ip):
        """
        Stop exporting the volume to the node at C{ip}.

        @raise UnauthorizedOperation: the token is wrong.
        """
        record = self.get(volume_id)
        self._check_token(record, token)
        return self._exclusive(volume_id, self._unexport, record, _address(ip))

    @defer.inlineCallbacks
    def _unexport(self, record, address):
        yield self.blocking.submit(self.exports.unexport, record.volume_id, address)
        if address in record.exports:
            record.exports.remove(address)
            yield self.state.save(record)
        self._log.info("Volume {id} unexported from {address}", id=record.volume_id, address=address)

    # Start-up.

    def recover(self, complete):
        """
        At start-up: a volume left C{creating} is C{available} if the
        backend has it whole (the SC stopped just before recording it),
        else C{failed}.

        @param complete: the volumes the backend has: id to size, GiB.
        @return: the records changed (to save).
        """
        changed = []
        for record in self.state.volumes.values():
            if record.status == CREATING:
                if record.volume_id in complete:
                    record.status, record.size = AVAILABLE, record.size or complete[record.volume_id]
                else:
                    record.status, record.reason = FAILED, "The storage controller stopped while it was being created."
                changed.append(record)
            elif record.status == AVAILABLE and record.volume_id not in complete:
                self._log.error("Volume {id} is recorded available but the store does not have it", id=record.volume_id)
        return changed

    def reconcile(self, exported):
        """
        At start-up: take which nodes each volume is exported to from what
        tgtd exports.

        @param exported: L{ISCSIExports.exported}.
        @return: the records changed (to save).
        """
        changed = []
        for record in self.state.volumes.values():
            live = exported.get(record.volume_id.lower(), [])
            if live != record.exports:
                record.exports = list(live)
                changed.append(record)
        return changed
