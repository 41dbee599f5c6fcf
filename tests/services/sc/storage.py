# -*- test-case-name: tests.services.sc.test_operations,tests.services.sc.test_snapshots,tests.services.sc.test_service -*-
"""
A Storage Controller for tests, in the test's process: a data directory
with the cloud's keys and the administrators' account, a real Walrus on a
free loopback port, and the real SC service (file backend in the data
directory) whose tgtadm drives L{FakeTgtd} (or a real tgtd of the test's
own).  The SC's thread pools are real threads: its uploads and restores
talk to the Walrus served by the test's reactor.
"""

import hashlib
import io
import os

import boto3
from botocore.config import Config
from twisted.internet import defer, reactor, task, threads
from twisted.web.resource import Resource

from eucalyptus import admin
from eucalyptus.accounts import ADMIN_ACCOUNT, AccountStore
from eucalyptus.config import CloudConfig, config_from_string
from eucalyptus.services.sc import service as sc
from eucalyptus.services.sc.iscsi import Tgtadm
from eucalyptus.wsdl import sc_types as t
from tests.daemons import free_ports
from tests.services.clc.test_images import CloudWalrus
from tests.fakes.faketgt import FakeTgtd

__all__ = ["StorageHarness", "MiB", "VOLUME", "OTHER", "THIRD", "SNAPSHOT", "SECOND", "digest", "request"]

MiB = 1024**2
VOLUME = "vol-0123abcd"
OTHER = "vol-89ef4567"
THIRD = "vol-00001111"
SNAPSHOT = "snap-00c0ffee"
SECOND = "snap-0000beef"
#: The least part S3 takes; small parts make many progress steps.
PART_SIZE = 5 * MiB


def request(request_type, **fields):
    """
    An SC request as the CLC sends it.
    """
    return request_type(correlationId="test", userId=ADMIN_ACCOUNT, **fields)


def digest(path, length=None):
    """
    The SHA-256 of the first C{length} bytes of a file (all of it by
    default).
    """
    sha = hashlib.sha256()
    left = os.path.getsize(path) if length is None else length
    with open(path, "rb") as f:
        while left:
            chunk = f.read(min(left, 4 * MiB))
            if not chunk:
                break
            sha.update(chunk)
            left -= len(chunk)
    return sha.hexdigest()


class StorageHarness:
    """
    The SC and its Walrus.

    @ivar settings: the parsed settings.
    @ivar service: the running L{StorageControllerService}.
    @ivar ops: its L{StorageOperations}.
    @ivar tgtd: the L{FakeTgtd} (kept across restarts, as tgtd outlives
        the SC).
    """

    def __init__(self, testcase, walrus_up=True, listen=False, tgtadm=None, portal=("10.0.0.9", 3260),
                 part_size=PART_SIZE, volumes_dir=None):  # fmt: skip
        """
        @param walrus_up: run Walrus; otherwise the SC's Walrus URL is a
            port nobody listens on.
        @param listen: the SC listens on its own port (signed SOAP tests);
            otherwise it is mounted in a resource tree nobody serves.
        @param tgtadm: a L{Tgtadm} of a real tgtd; a fake one by default.
        @param portal: the iSCSI portal written into connection strings.
        @param volumes_dir: the file backend's directory; C{volumes/} in
            the data directory by default.
        """
        self.testcase = testcase
        self.walrus_up = walrus_up
        self.listen = listen
        self.part_size = part_size
        self.tgtd = FakeTgtd(testcase)
        self.tgtadm = tgtadm or Tgtadm(self.tgtd, 7)
        self.data = os.path.abspath(testcase.mktemp())
        os.makedirs(self.data)
        self.volumes_dir = volumes_dir or os.path.join(self.data, "volumes")
        self.walrus_port, self.sc_port, self.dead_port = free_ports(3)
        text = (
            f'LISTEN_ADDRESS="127.0.0.1"\nZONE="zone-1"\nWALRUS_PORT="{self.walrus_port}"\n'
            f'SC_PORT="{self.sc_port}"\nSC_ISCSI_HOST="{portal[0]}"\nSC_ISCSI_PORT="{portal[1]}"\n'
            f'SC_VOLUMES_DIR="{self.volumes_dir}"\n'
        )
        self.settings = config_from_string(text, self.data)
        admin.initialise(self.settings, out=io.StringIO())
        self.walrus_url = f"http://127.0.0.1:{self.walrus_port if walrus_up else self.dead_port}"
        self.sc_url = f"http://127.0.0.1:{self.sc_port}/{sc.PATH}"
        self.service = None

    @defer.inlineCallbacks
    def start(self):
        """
        Start Walrus (once) and the SC; fire when the SC is ready.
        """
        if self.walrus_up and not hasattr(self, "walrus"):
            self.walrus = yield CloudWalrus(self.testcase, self.settings).start()
        yield self.start_sc()
        return self

    @defer.inlineCallbacks
    def start_sc(self):
        """
        Start a new SC over the same data directory and tgtd.
        """
        self.service = sc.make_service(
            self.settings, root=None if self.listen else Resource(), tgtadm=self.tgtadm, walrus_url=self.walrus_url,
            part_size=self.part_size,
        )  # fmt: skip
        self.service.startService()
        service = self.service
        self.testcase.addCleanup(lambda: service.running and service.stopService())
        yield self.service.ready
        yield self.service.cleaned
        self.ops = self.service.operations
        self.testcase.assertEqual(self.ops.state, "ENABLED", self.ops.problem)

    @defer.inlineCallbacks
    def restart(self):
        """
        Stop the SC and start another on the same data.
        """
        yield self.service.stopService()
        yield self.start_sc()

    def call(self, name, request_type, **fields):
        """
        Invoke an operation as the CLC would.
        """
        return self.ops.invoke(name, request(request_type, **fields))

    def settled(self):
        """
        Fire once no volume or snapshot is being worked on.
        """
        return self.service.jobs.settled()

    @defer.inlineCallbacks
    def volume(self, volume_id, size=1, snapshot_id=None):
        """
        Create a volume and wait until it is no longer C{creating}.

        @return: its L{StorageVolumeType}.
        """
        yield self.call("CreateStorageVolume", t.CreateStorageVolumeType, volumeId=volume_id, size=size,
                        snapshotId=snapshot_id)  # fmt: skip
        yield self.settled()
        return (yield self.describe_volume(volume_id))

    @defer.inlineCallbacks
    def describe_volume(self, volume_id):
        response = yield self.call("DescribeStorageVolumes", t.DescribeStorageVolumesType, volumeSet=[volume_id])
        return response.volumeSet[0] if response.volumeSet else None

    @defer.inlineCallbacks
    def snapshot(self, volume_id, snapshot_id):
        """
        Take a snapshot and wait until it is no longer C{pending}.

        @return: its L{StorageSnapshotType}.
        """
        yield self.call("CreateStorageSnapshot", t.CreateStorageSnapshotType, volumeId=volume_id,
                        snapshotId=snapshot_id)  # fmt: skip
        yield self.settled()
        return (yield self.describe_snapshot(snapshot_id))

    @defer.inlineCallbacks
    def describe_snapshot(self, snapshot_id):
        response = yield self.call("DescribeStorageSnapshots", t.DescribeStorageSnapshotsType, snapshotSet=[snapshot_id])
        return response.snapshotSet[0] if response.snapshotSet else None

    def path(self, volume_id):
        """
        The file of a volume in the file backend.
        """
        return os.path.join(self.volumes_dir, volume_id)

    def write(self, volume_id, offset, data):
        with open(self.path(volume_id), "r+b") as f:
            f.seek(offset)
            f.write(data)

    @property
    def bucket(self):
        return self.service.snapshots.objects.bucket

    def s3(self, account=ADMIN_ACCOUNT):
        """
        A boto3 S3 client of Walrus signing as C{account}'s admin user (made
        if need be).  Blocking.
        """
        store = AccountStore(CloudConfig.from_settings(self.settings).database_url)
        keys = store.keys_of(account)
        key = keys[0] if keys else store.create_account(account)
        return boto3.client(
            "s3", endpoint_url=self.walrus_url, region_name="us-east-1", aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_key, config=Config(s3={"addressing_style": "path"}),
        )  # fmt: skip

    def in_thread(self, fn, *args, **kwargs):
        return threads.deferToThread(fn, *args, **kwargs)

    @defer.inlineCallbacks
    def objects(self):
        """
        The keys in the snapshot bucket and its unfinished uploads.
        """

        def list_all():
            s3 = self.s3()
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]
            uploads = [u["Key"] for u in s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])]
            return keys, uploads

        return (yield self.in_thread(list_all))

    def pause(self, seconds=0.01):
        return task.deferLater(reactor, seconds, lambda: None)
