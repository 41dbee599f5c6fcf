# -*- test-case-name: tests.services.sc.test_snapshots -*-
"""
Snapshots: a point-in-time copy of a volume (the backend's
L{IVolumeBackend.snapshot}: a reflink clone, an LVM or RBD snapshot),
compressed and uploaded to Walrus part by part
(L{eucalyptus.services.sc.walrus}), then released.

C{CreateStorageSnapshot} answers with the snapshot C{pending} once the
copy is taken (or after L{COPY_WAIT} seconds for a slow plain copy); the
upload then runs on a transfer thread, its progress (the share of the volume covered by the
parts uploaded) visible in C{DescribeStorageSnapshots}.  It ends
C{completed}, or C{failed} with its reason, the copy released and any
partial upload aborted: the volume itself is never touched.  Deleting a
snapshot cancels its upload if it is still running and removes its object.
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from eucalyptus.errors import (
    EucalyptusError,
    IncorrectState,
    SnapshotAlreadyExists,
    SnapshotNotFound,
    VolumeNotFound,
)
from eucalyptus.services.sc.backends.interfaces import check_snapshot_id, check_volume_id
from eucalyptus.services.sc.compression import SparseReader
from eucalyptus.services.sc.records import AVAILABLE, COMPLETED, CREATING, FAILED, PENDING, SnapshotRecord, now
from eucalyptus.services.sc.walrus import object_key

__all__ = ["Snapshots", "reason_of", "COPY_WAIT"]

#: Seconds C{CreateStorageSnapshot} waits for the volume's copy to be
#: taken before it answers (a reflink clone, an LVM snapshot or the copy of
#: a small volume take far less), so that the snapshot is the volume as it
#: was when the call was answered; a slower copy (a plain copy of a large
#: volume) is taken after the answer.
COPY_WAIT = 10


def reason_of(failure):
    """
    The text a failed volume or snapshot records: an error's own message,
    else the exception's type and text.
    """
    error = failure.value
    if isinstance(error, EucalyptusError):
        return error.message
    return f"{type(error).__name__}: {error}"


class Snapshots:
    """
    The snapshots of one Storage Controller.
    """

    _log = Logger()

    def __init__(self, state, backend, objects, blocking, transfers, jobs, clock, copy_wait=COPY_WAIT):
        """
        @param state: the L{StorageState}.
        @param backend: the L{IVolumeBackend}.
        @param objects: the L{SnapshotObjects} in Walrus.
        @param blocking: L{Workers} for short blocking calls.
        @param transfers: L{Workers} for uploads.
        @param jobs: the L{Jobs} in progress.
        @param clock: an C{IReactorTime}.
        @param copy_wait: seconds C{create} waits for the copy.
        """
        self.clock = clock
        self.copy_wait = copy_wait
        self.state = state
        self.backend = backend
        self.objects = objects
        self.blocking = blocking
        self.transfers = transfers
        self.jobs = jobs

    def get(self, snapshot_id):
        """
        @raise SnapshotNotFound: this SC has no such snapshot.
        """
        record = self.state.snapshots.get(check_snapshot_id(snapshot_id))
        if record is None:
            raise SnapshotNotFound(f"The snapshot '{snapshot_id}' does not exist.")
        return record

    def describe(self, snapshot_ids=None):
        """
        The snapshots named (those this SC knows), or all.

        @return: a list of L{SnapshotRecord}s, by id.
        """
        if snapshot_ids:
            found = (self.state.snapshots.get(i) for i in snapshot_ids)
            return [record for record in found if record is not None]
        return [self.state.snapshots[i] for i in sorted(self.state.snapshots)]

    @defer.inlineCallbacks
    def create(self, volume_id, snapshot_id):
        """
        Start a snapshot of a volume.  Asking again for the same snapshot
        of the same volume answers the snapshot as it is.

        @return: a Deferred firing with the L{SnapshotRecord}, C{pending},
            once it is recorded and the volume's copy is taken (or
            L{COPY_WAIT} seconds have passed).
        @raise VolumeNotFound: no such volume.
        @raise IncorrectState: the volume is not C{available}.
        @raise SnapshotAlreadyExists: the id names a snapshot of another
            volume.
        """
        check_volume_id(volume_id)
        check_snapshot_id(snapshot_id)
        existing = self.state.snapshots.get(snapshot_id)
        if existing is not None:
            if existing.volume_id != volume_id:
                raise SnapshotAlreadyExists(f"Snapshot {snapshot_id} exists already, of {existing.volume_id}.")
            return existing
        volume = self.state.volumes.get(volume_id)
        if volume is None:
            raise VolumeNotFound(f"The volume '{volume_id}' does not exist.")
        if volume.status != AVAILABLE:
            raise IncorrectState(f"Volume {volume_id} is {volume.status}; only an available volume can be snapshotted.")
        record = SnapshotRecord(
            snapshot_id, volume_id, PENDING, now(), volume.size, bucket=self.objects.bucket, key=object_key(snapshot_id)
        )
        yield self.state.add(record)
        copied = defer.Deferred()
        self.jobs.run(snapshot_id, lambda job: self._take(record, job, copied))
        yield self._within(copied, self.copy_wait)
        return record

    def _within(self, d, seconds):
        """
        A Deferred firing (with C{None}) when C{d} fires or C{seconds}
        have passed, whichever is first.
        """
        result = defer.Deferred()

        def fire(_=None):
            if not result.called:
                result.callback(None)

        timer = self.clock.callLater(seconds, fire)

        def done(_):
            if timer.active():
                timer.cancel()
            fire()

        d.addBoth(done)
        return result

    @defer.inlineCallbacks
    def _take(self, record, job, copied):
        """
        Copy, upload, release; record how it ended.

        @param copied: fired once the copy is taken (or failed).
        """
        copy = None
        try:
            try:
                copy = yield self.blocking.submit(self.backend.snapshot, record.volume_id, record.snapshot_id)
            finally:
                copied.callback(None)
            record.point_in_time = copy.point_in_time
            record.stored = yield self.transfers.submit(self._upload, record, copy, job)
        except Exception:
            reason = reason_of(Failure())
            if copy is not None:
                yield self._release(copy)
            yield self._fail(record, reason)
            return
        yield self._release(copy)
        record.status, record.progress, record.upload_id = COMPLETED, 100, ""
        yield self.state.save(record)
        self._log.info("Snapshot {snapshot_id} of {volume_id} stored: {stored} bytes in {bucket}/{key}",
                       snapshot_id=record.snapshot_id, volume_id=record.volume_id, stored=record.stored,
                       bucket=record.bucket, key=record.key)  # fmt: skip

    def _upload(self, record, copy, job):
        """
        On a transfer thread: read the copy into Walrus.
        """
        size = copy.size
        metadata = {
            "snapshot-id": record.snapshot_id,
            "volume-id": record.volume_id,
            "size": str(size),
            "volume-size-gib": str(record.size),
        }

        def progress(done):
            self.transfers.to_reactor(self._progress, record, done, size)

        def started(upload_id):
            self.transfers.to_reactor(self._started, record, upload_id)

        with copy.open() as f:
            source = SparseReader(f, size)
            return self.objects.upload(source, size, record.key, metadata, progress, job.cancelled, started)

    def _progress(self, record, done, size):
        record.progress = min(99, done * 100 // size) if size else 99

    def _started(self, record, upload_id):
        record.upload_id = upload_id
        self.state.save(record).addErrback(
            lambda failure: self._log.failure("Cannot record the upload of {id}", failure, id=record.snapshot_id)
        )

    def _release(self, copy):
        return self.blocking.submit(copy.release).addErrback(
            lambda failure: self._log.failure("Cannot release the copy for {id}", failure, id=copy.snapshot_id)
        )

    @defer.inlineCallbacks
    def _fail(self, record, reason):
        """
        Record a failed snapshot, after removing what it uploaded (if
        Walrus lets us; else the upload id stays for a later delete).
        """
        record.status, record.reason = FAILED, reason
        self._log.error("Snapshot {snapshot_id} of {volume_id} failed: {reason}",
                        snapshot_id=record.snapshot_id, volume_id=record.volume_id, reason=reason)  # fmt: skip
        if record.upload_id:
            yield self._discard(record)
        yield self.state.save(record)

    @defer.inlineCallbacks
    def _discard(self, record):
        """
        Abort a failed snapshot's upload; log when Walrus will not.

        @return: a Deferred firing with whether it worked.
        """
        try:
            yield self.blocking.submit(self.objects.discard, record.bucket, record.key, record.upload_id)
        except EucalyptusError as e:
            self._log.warn("Cannot remove the partial upload of {id} yet: {error}", id=record.snapshot_id, error=e)
            return False
        record.upload_id = ""
        return True

    @defer.inlineCallbacks
    def delete(self, snapshot_id):
        """
        Delete a snapshot: stop its upload if it runs, remove its object
        from Walrus, forget it.  Volumes restored from it are not touched.

        @raise SnapshotNotFound: no such snapshot.
        @raise IncorrectState: a volume is being restored from it.
        @raise StorageError: Walrus did not delete the object (the snapshot
            is kept, to delete again).
        """
        record = self.get(snapshot_id)
        for volume in self.state.volumes.values():
            if volume.status == CREATING and volume.snapshot_id == snapshot_id:
                raise IncorrectState(f"Volume {volume.volume_id} is being restored from {snapshot_id}.")
        yield self.jobs.cancel(snapshot_id)
        if record.status != FAILED or record.upload_id:
            yield self.blocking.submit(self.objects.discard, record.bucket, record.key, record.upload_id)
        if self.state.snapshots.get(snapshot_id) is record:
            yield self.state.remove(record)
            self._log.info("Snapshot {id} deleted", id=snapshot_id)

    def recover(self):
        """
        At start-up: a snapshot left C{pending} by the SC that stopped has
        no upload running any more, so it failed.

        @return: the records changed (to save).
        """
        changed = []
        for record in self.state.snapshots.values():
            if record.status == PENDING:
                record.status, record.reason = FAILED, "The storage controller stopped while it was being taken."
                changed.append(record)
        return changed

    @defer.inlineCallbacks
    def clean_up(self):
        """
        Abort the uploads failed snapshots left in Walrus (after a
        restart, or when Walrus was away as they failed).
        """
        for record in list(self.state.snapshots.values()):
            if record.status == FAILED and record.upload_id and record.snapshot_id not in self.jobs:
                if (yield self._discard(record)) and self.state.snapshots.get(record.snapshot_id) is record:
                    yield self.state.save(record)
