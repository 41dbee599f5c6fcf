# -*- test-case-name: tests.services.sc.test_service,tests.services.test_daemons -*-
"""
The Storage Controller as a service tree.

L{make_service} builds the collaborators from the configuration: the
volume store C{SC_BACKEND} names, the iSCSI exports through the tgtd on
C{SC_TGT_CONTROL_PORT}, the snapshot bucket in Walrus, the records in
C{<data dir>/sc}, the thread pools, the L{Volumes} and L{Snapshots}
models and their SOAP operations, served at C{/services/Storage} with
WS-Security pinning the cloud and node certificates.

L{StorageControllerService} listens at once but answers only
C{DescribeServices} (C{NOTREADY}) until it has cleaned up what a stop left
in the store, read its records, settled what the stop interrupted (a
volume being made is C{failed} unless the store has it whole; a snapshot
being uploaded is C{failed}).  Then it reads back from tgtd which
volumes are exported where, and aborts what failed snapshots left in
Walrus.
"""

import os
import re
import secrets
import threading

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from eucalyptus.accounts import ADMIN_ACCOUNT, AccountStore
from eucalyptus.config import CloudConfig, StorageConfig
from eucalyptus.errors import StorageError
from eucalyptus.security.keys import KeyStore
from eucalyptus.services.base import ComponentService, mount, soap_endpoint
from eucalyptus.services.build import endpoint_url
from eucalyptus.services.sc.backends import backend_from_config
from eucalyptus.services.sc.backends.interfaces import GiB
from eucalyptus.services.sc.iscsi import ISCSIExports, Tgtadm
from eucalyptus.services.sc.jobs import Jobs
from eucalyptus.services.sc.operations import StorageOperations
from eucalyptus.services.sc.records import RecordStore, StorageState
from eucalyptus.services.sc.snapshots import Snapshots
from eucalyptus.services.sc.soap import CallerVerifier, StorageSoapResource
from eucalyptus.services.sc.volumes import Volumes
from eucalyptus.services.sc.walrus import PART_SIZE, SnapshotObjects
from eucalyptus.threads import Workers
from eucalyptus.wsdl import SERVICE_NAMES, make_application

__all__ = ["make_service", "StorageControllerService", "PATH", "administrators_key", "bucket_name"]

PATH = "services/Storage"


def bucket_name(zone):
    """
    A new name for a zone's snapshot bucket: C{snapshots-<zone>-<random>}
    (the original's prefix; the random part so no user can take the name
    first).
    """
    label = re.sub(r"[^a-z0-9-]+", "-", zone.lower()).strip("-")[:30].strip("-") or "zone"
    return f"snapshots-{label}-{secrets.token_hex(4)}"


def administrators_key(database_url):
    """
    C{credentials()} for L{SnapshotObjects}: the active access key of the
    C{eucalyptus} account's admin user, read from the cloud database (which
    is opened the first time, in the calling thread).
    """
    lock = threading.Lock()
    stores = []

    def credentials():
        with lock:
            if not stores:
                stores.append(AccountStore(database_url))
        keys = [key for key in stores[0].keys_of(ADMIN_ACCOUNT) if key is not None and key.status == "Active"]
        return keys[0] if keys else None

    return credentials


class StorageControllerService(service.MultiService):
    """
    The SC: its site, its thread pools and its start-up.

    @ivar operations: the L{StorageOperations}.
    @ivar ready: a Deferred firing once the SC is C{ENABLED} (or has
        failed to start: then C{operations.problem} says why).
    @ivar cleaned: a Deferred firing once the clean-up that follows has
        run (for tests).
    """

    _log = Logger()

    def __init__(self, component, operations, store, backend, exports, pools, jobs):
        """
        @param component: the L{ComponentService} serving the SOAP endpoint.
        @param operations: the L{StorageOperations}.
        @param store: the L{RecordStore}.
        @param exports: the L{ISCSIExports}.
        @param pools: the C{(lane, blocking, transfers)} L{Workers}.
        @param jobs: the L{Jobs}.
        """
        service.MultiService.__init__(self)
        self.component = component
        self.operations = operations
        self.volumes = operations.volumes
        self.snapshots = operations.snapshots
        self.store = store
        self.backend = backend
        self.exports = exports
        self.lane, self.blocking, self.transfers = pools
        self.jobs = jobs
        self.ready = defer.succeed(None)
        self.cleaned = defer.succeed(None)
        component.setServiceParent(self)

    @property
    def root(self):
        return self.component.root

    def startService(self):
        for pool in (self.lane, self.blocking, self.transfers):
            pool.start()
        service.MultiService.startService(self)
        self.ready = self._start()
        self.ready.addErrback(self._failed_to_start)

    @defer.inlineCallbacks
    def _start(self):
        zone = self.operations.config.zone
        removed = yield self.blocking.submit(self.backend.recover)
        if removed:
            self._log.info("Removed what a stop left in the store: {names}", names=", ".join(removed))
        yield self.volumes.state.load()
        self.snapshots.objects.bucket = yield self.lane.submit(self.store.setting, "bucket", lambda: bucket_name(zone))
        complete = yield self.blocking.submit(lambda: {v.volume_id: v.size // GiB for v in self.backend.list()})
        for record in self.volumes.recover(complete) + self.snapshots.recover():
            yield self.volumes.state.save(record)
        self.operations.state = "ENABLED"
        self._log.info("Storage controller ready: {volumes} volumes ({backend}), {snapshots} snapshots in {bucket}",
                       volumes=len(self.volumes.state.volumes), backend=self.backend.name,
                       snapshots=len(self.snapshots.state.snapshots), bucket=self.snapshots.objects.bucket)  # fmt: skip
        self.cleaned = self._clean_up().addErrback(lambda failure: self._log.failure("Cleaning up failed", failure))

    @defer.inlineCallbacks
    def _clean_up(self):
        """
        Once serving: read back from tgtd which volumes it exports where
        (C{DeleteStorageVolume} asks tgtd again before it refuses, so
        nothing waits for this), and abort the uploads of failed
        snapshots.
        """
        try:
            exported = yield self.blocking.submit(self.exports.exported)
        except StorageError as e:
            self._log.warn("Cannot read the exports back from tgtd (the records keep theirs): {error}", error=e)
        else:
            for record in self.volumes.reconcile(exported):
                yield self.volumes.state.save(record)
        yield self.snapshots.clean_up()

    def _failed_to_start(self, failure):
        self.operations.problem = failure.getErrorMessage()
        self._log.failure("The storage controller could not start", failure)

    @defer.inlineCallbacks
    def stopService(self):
        yield service.MultiService.stopService(self)
        yield self.ready
        yield self.cleaned
        yield self.jobs.cancel_all()
        yield self.blocking.submit(self.snapshots.objects.close)
        for pool in (self.transfers, self.blocking, self.lane):
            yield pool.stop()


def make_service(settings, root=None, keystore=None, reactor=None, tgtadm=None, walrus_url=None,
                 part_size=PART_SIZE, threads=2):  # fmt: skip
    """
    The Storage Controller's service.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{KeyStore} (for tests); the data directory's by
        default.
    @param reactor: the reactor; the global one by default.
    @param tgtadm: a L{Tgtadm} (for tests: one over a fake tgtd); by
        default one for the tgtd on C{SC_TGT_CONTROL_PORT}.
    @param walrus_url: Walrus's S3 endpoint; by default its own port,
        C{http://WALRUS_HOST:WALRUS_PORT}.
    @param part_size: compressed bytes per uploaded part of a snapshot.
    @param threads: threads for short blocking calls, and as many for
        transfers.
    """
    if reactor is None:
        from twisted.internet import reactor
    config = StorageConfig.from_settings(settings)
    keystore = keystore or KeyStore(config.keys_dir)
    backend = backend_from_config(config)
    exports = ISCSIExports(
        backend, tgtadm or Tgtadm(control_port=config.tgt_control_port), config.zone,
        (config.iscsi_host, config.iscsi_port), keystore.certificate("node", config.zone),
    )  # fmt: skip
    url = walrus_url or f"http://{settings['WALRUS_HOST']}:{settings['WALRUS_PORT']}"
    objects = SnapshotObjects(url, administrators_key(CloudConfig.from_settings(settings).database_url), "", part_size)
    pools = (Workers(reactor, 1, "sc-records"), Workers(reactor, threads, "sc-blocking"),
             Workers(reactor, threads, "sc-transfers"))  # fmt: skip
    lane, blocking, transfers = pools
    store = RecordStore(os.path.join(config.data_dir, "sc"))
    state = StorageState(store, lane)
    jobs = Jobs()
    volumes = Volumes(state, backend, exports, objects, blocking, transfers, jobs)
    snapshots = Snapshots(state, backend, objects, blocking, transfers, jobs, reactor)
    operations = StorageOperations(config, endpoint_url(settings["SC_HOST"], config.port, PATH), volumes, snapshots)
    operations.state = "NOTREADY"
    endpoint = soap_endpoint(config, keystore, "sc", operations, make_application("sc"), SERVICE_NAMES["sc"])
    if endpoint.verifier is not None:
        roles = {"cloud": keystore.certificate("cloud"), "node": keystore.certificate("node", config.zone)}
        endpoint.verifier = CallerVerifier(endpoint.verifier, roles)
    component = ComponentService(config, root)
    mount(component.root, PATH, StorageSoapResource(endpoint))
    component.operations = operations
    return StorageControllerService(component, operations, store, backend, exports, pools, jobs)
