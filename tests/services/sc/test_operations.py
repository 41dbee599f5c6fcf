"""
The Storage Controller's volume operations, on the file backend and a fake
tgtd: volumes made, described and deleted; tokens and exports; who may call
what; and what an SC restart keeps and settles.
"""

import json
import os

from twisted.internet import defer
from twisted.trial.unittest import TestCase
from twisted.web.resource import Resource

from eucalyptus.errors import (
    IncorrectState,
    InvalidParameterValue,
    InvalidVolumeID,
    NotImplementedOperation,
    ServiceUnavailable,
    UnauthorizedOperation,
    VolumeAlreadyExists,
    VolumeInUse,
    VolumeNotFound,
)
from eucalyptus.security.keys import KeyStore
from eucalyptus.services.sc import service as sc
from eucalyptus.services.sc.operations import CLOUD, NODE
from eucalyptus.volume_connection import VolumeConnection
from eucalyptus.wsdl import common
from eucalyptus.wsdl import sc_types as t
from tests.services.sc.storage import OTHER, SNAPSHOT, THIRD, VOLUME, StorageHarness, request

GiB = 1024**3
NODE_IP = "10.1.2.3"


class VolumeTests(TestCase):
    """
    Volumes through L{StorageOperations}, as the CLC calls them.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.sc = yield StorageHarness(self, walrus_up=False).start()

    @defer.inlineCallbacks
    def test_create(self):
        """
        C{CreateStorageVolume} answers C{creating}; the volume becomes
        C{available}, a sparse file of its size in the volumes directory.
        """
        response = yield self.sc.call("CreateStorageVolume", t.CreateStorageVolumeType, volumeId=VOLUME, size=2)
        self.assertEqual((response.volumeId, response.size, response.status), (VOLUME, 2, "creating"))
        self.assertTrue(response._return)
        self.assertIsNotNone(response.createTime)
        yield self.sc.settled()
        volume = yield self.sc.describe_volume(VOLUME)
        self.assertEqual((volume.volumeId, volume.size, volume.status, volume.snapshotId), (VOLUME, 2, "available", None))
        self.assertEqual(volume.createTime, response.createTime)
        self.assertEqual(os.path.getsize(self.sc.path(VOLUME)), 2 * GiB)
        self.assertEqual(os.stat(self.sc.path(VOLUME)).st_blocks, 0)

    @defer.inlineCallbacks
    def test_describe(self):
        """
        Without ids every volume is described, in id order; with ids the
        ones this SC has (others are left out).
        """
        for volume_id in (OTHER, VOLUME):
            yield self.sc.volume(volume_id)
        response = yield self.sc.call("DescribeStorageVolumes", t.DescribeStorageVolumesType)
        self.assertEqual([v.volumeId for v in response.volumeSet], [VOLUME, OTHER])
        response = yield self.sc.call("DescribeStorageVolumes", t.DescribeStorageVolumesType,
                                      volumeSet=[OTHER, THIRD, "junk"])  # fmt: skip
        self.assertEqual([v.volumeId for v in response.volumeSet], [OTHER])
        self.assertIsNone(response.statusMessage)
        single = yield self.sc.call("GetStorageVolume", t.GetStorageVolumeType, volumeId=OTHER)
        self.assertEqual((single.volumeId, single.size, single.status), (OTHER, 1, "available"))

    @defer.inlineCallbacks
    def test_create_again(self):
        """
        Asking again for the same volume answers it (a CLC retrying after
        a timeout); another size under the same id is refused.
        """
        first = yield self.sc.volume(VOLUME)
        again = yield self.sc.call("CreateStorageVolume", t.CreateStorageVolumeType, volumeId=VOLUME, size=1)
        self.assertEqual((again.status, again.createTime), ("available", first.createTime))
        yield self.assertFailure(
            self.sc.call("CreateStorageVolume", t.CreateStorageVolumeType, volumeId=VOLUME, size=3), VolumeAlreadyExists
        )

    @defer.inlineCallbacks
    def test_bad_requests(self):
        """
        Bad ids and sizes are refused before anything is recorded; so is
        cloning, which the SC does not do.
        """
        for fields, error in (
            (dict(volumeId="vol-nope", size=1), InvalidVolumeID),
            (dict(volumeId=VOLUME, size=0), InvalidParameterValue),
            (dict(volumeId=VOLUME), InvalidParameterValue),
            (dict(volumeId=VOLUME, size=16385), InvalidParameterValue),
            (dict(volumeId=VOLUME, size=1, parentVolumeId=OTHER), InvalidParameterValue),
        ):
            yield self.assertFailure(self.sc.call("CreateStorageVolume", t.CreateStorageVolumeType, **fields), error)
        self.assertEqual(self.sc.service.volumes.describe(), [])
        self.assertEqual(os.listdir(os.path.join(self.sc.data, "sc", "volumes")), [])

    @defer.inlineCallbacks
    def test_create_fails(self):
        """
        A volume the store cannot make is C{failed}, with the reason, and
        nothing is left in the store; deleting it forgets it.
        """
        self.sc.service.backend._limit = 1
        yield self.sc.volume(OTHER)
        volume = yield self.sc.volume(VOLUME, size=2)
        self.assertEqual(volume.status, "failed")
        response = yield self.sc.call("DescribeStorageVolumes", t.DescribeStorageVolumesType)
        self.assertIn(f"{VOLUME}: 2 GiB more would exceed the limit of 1 GiB", response.statusMessage)
        self.assertFalse(os.path.exists(self.sc.path(VOLUME)))
        yield self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME)
        self.assertEqual([v.volume_id for v in self.sc.service.volumes.describe()], [OTHER])

    @defer.inlineCallbacks
    def test_delete(self):
        """
        C{DeleteStorageVolume} removes the volume's file and record; a
        missing volume is C{InvalidVolume.NotFound}.
        """
        yield self.sc.volume(VOLUME)
        response = yield self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME)
        self.assertTrue(response._return)
        self.assertFalse(os.path.exists(self.sc.path(VOLUME)))
        self.assertIsNone((yield self.sc.describe_volume(VOLUME)))
        self.assertEqual(os.listdir(os.path.join(self.sc.data, "sc", "volumes")), [])
        yield self.assertFailure(
            self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME), VolumeNotFound
        )

    @defer.inlineCallbacks
    def test_configuration(self):
        """
        C{GetStorageConfiguration} lists the SC's settings as
        C{<zone>.storage.*} properties.
        """
        response = yield self.sc.call("GetStorageConfiguration", t.GetStorageConfigurationType)
        self.assertEqual(response.name, "zone-1")
        params = {p.qualifiedName: p.value for p in response.storageParams}
        self.assertEqual(params["zone-1.storage.blockstoragemanager"], "FILE")
        self.assertEqual(params["zone-1.storage.volumesdir"], os.path.join(self.sc.data, "volumes"))
        self.assertEqual(params["zone-1.storage.iscsiportal"], "10.0.0.9:3260")
        self.assertEqual(params["zone-1.storage.snapshotbucket"], self.sc.bucket)
        self.assertRegex(self.sc.bucket, r"^snapshots-zone-1-[0-9a-f]{8}$")

    @defer.inlineCallbacks
    def test_not_implemented(self):
        """
        The WSDL operations the SC does not do are C{NotImplemented}.
        """
        yield self.assertFailure(
            self.sc.call("AttachStorageVolume", t.AttachStorageVolumeType, volumeId=VOLUME), NotImplementedOperation
        )


class ExportTests(TestCase):
    """
    Tokens, exports and unexports through a fake tgtd.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.sc = yield StorageHarness(self, walrus_up=False).start()
        yield self.sc.volume(VOLUME)
        response = yield self.sc.call("GetVolumeToken", t.GetVolumeTokenType, volumeId=VOLUME)
        self.token = response.token
        self.keys = KeyStore(os.path.join(self.sc.data, "keys"))

    def export(self, token=None, ip=NODE_IP, volume_id=VOLUME):
        return self.sc.call("ExportVolume", t.ExportVolumeType, volumeId=volume_id, token=token or self.token, ip=ip,
                            iqn="iqn.1993-08.org.debian:01:node")  # fmt: skip

    def unexport(self, token=None, ip=NODE_IP):
        return self.sc.call("UnexportVolume", t.UnexportVolumeType, volumeId=VOLUME, token=token or self.token, ip=ip)

    @defer.inlineCallbacks
    def test_token(self):
        """
        A volume's token is long, random and the same each time it is
        asked for.
        """
        again = yield self.sc.call("GetVolumeToken", t.GetVolumeTokenType, volumeId=VOLUME)
        self.assertEqual((again.volumeId, again.token), (VOLUME, self.token))
        self.assertGreaterEqual(len(self.token), 40)

    @defer.inlineCallbacks
    def test_export(self):
        """
        C{ExportVolume} with the token makes the volume's target, lets the
        node's address in and answers a connection string whose CHAP
        password only the zone's node key decrypts.
        """
        response = yield self.export()
        connection = VolumeConnection.parse(response.connectionString)
        self.assertEqual(connection.hosts, (("10.0.0.9", 3260),))
        self.assertEqual(connection.name, f"iqn.2009-06.com.eucalyptus.zone-1:{VOLUME}/1")
        password = connection.password(self.keys.credential("node", "zone-1").key)
        self.assertEqual(self.sc.tgtd.accounts, {VOLUME: password})
        (target,) = self.sc.tgtd.targets.values()
        self.assertEqual(target["acl"], [NODE_IP])
        self.assertEqual(target["luns"][1], ("rdwr", self.sc.path(VOLUME)))
        self.assertEqual(self.sc.service.volumes.get(VOLUME).exports, [NODE_IP])

    @defer.inlineCallbacks
    def test_wrong_token(self):
        """
        A wrong or missing token exports nothing; nor does a volume without
        a token yet, or a bad address.
        """
        yield self.assertFailure(self.export(token="x" * 43), UnauthorizedOperation)
        yield self.sc.volume(OTHER)
        yield self.assertFailure(self.export(volume_id=OTHER), UnauthorizedOperation)
        yield self.assertFailure(self.export(ip="node-7"), InvalidParameterValue)
        yield self.assertFailure(self.unexport(token="x" * 43), UnauthorizedOperation)
        self.assertEqual(self.sc.tgtd.targets, {})

    @defer.inlineCallbacks
    def test_delete_exported(self):
        """
        An exported volume is not deleted; once unexported from every node
        it is.
        """
        yield self.export()
        yield self.export(ip="10.1.2.4")
        delete = lambda: self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME)  # noqa: E731
        error = yield self.assertFailure(delete(), VolumeInUse)
        self.assertIn("10.1.2.3, 10.1.2.4", error.message)
        yield self.unexport()
        yield self.assertFailure(delete(), VolumeInUse)
        yield self.unexport(ip="10.1.2.4")
        self.assertEqual(self.sc.tgtd.targets, {})
        yield delete()
        self.assertFalse(os.path.exists(self.sc.path(VOLUME)))

    @defer.inlineCallbacks
    def test_tgtd_restarted(self):
        """
        When tgtd forgot its targets (it restarted), the volume is no longer
        exported and may be deleted.
        """
        yield self.export()
        self.sc.tgtd.targets.clear()
        yield self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME)

    @defer.inlineCallbacks
    def test_no_tgtd(self):
        """
        When tgtd cannot say whether a volume recorded exported still is,
        it is not deleted.
        """
        yield self.export()
        self.sc.tgtd.fail[("target", "show")] = "can't send the request to the tgt daemon, Transport endpoint is not connected"
        error = yield self.assertFailure(
            self.sc.call("DeleteStorageVolume", t.DeleteStorageVolumeType, volumeId=VOLUME), VolumeInUse
        )
        self.assertIn("tgtd cannot say", error.message)
        self.assertTrue(os.path.exists(self.sc.path(VOLUME)))

    @defer.inlineCallbacks
    def test_not_available(self):
        """
        A volume still being made or failed has no token.
        """
        self.sc.service.backend._limit = 1
        yield self.sc.volume(OTHER, size=2)
        yield self.assertFailure(self.sc.call("GetVolumeToken", t.GetVolumeTokenType, volumeId=OTHER), IncorrectState)

    def test_callers(self):
        """
        The cloud may call everything; a node only C{ExportVolume},
        C{UnexportVolume} and C{DescribeServices}; a signer of no known
        role nothing at all.
        """
        ops = self.sc.ops
        create = request(t.CreateStorageVolumeType, volumeId=OTHER, size=1)
        token = request(t.GetVolumeTokenType, volumeId=VOLUME)
        self.failureResultOf(ops.for_caller(NODE).invoke("CreateStorageVolume", create), UnauthorizedOperation)
        self.failureResultOf(ops.for_caller(NODE).invoke("GetVolumeToken", token), UnauthorizedOperation)
        self.failureResultOf(ops.for_caller("unknown").invoke("DescribeServices", request(common.DescribeServicesType)),
                             UnauthorizedOperation)  # fmt: skip
        self.successResultOf(ops.for_caller(NODE).invoke("DescribeServices", request(common.DescribeServicesType)))
        self.assertEqual(self.successResultOf(ops.for_caller(CLOUD).invoke("GetVolumeToken", token)).token, self.token)
        return self.sc.settled()


class RestartTests(TestCase):
    """
    What a restarted SC knows.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.sc = yield StorageHarness(self, walrus_up=False).start()

    def record(self, kind, name):
        with open(os.path.join(self.sc.data, "sc", kind, name + ".json")) as f:
            return json.load(f)

    def write_record(self, kind, name, **fields):
        with open(os.path.join(self.sc.data, "sc", kind, name + ".json"), "w") as f:
            json.dump(fields, f)

    @defer.inlineCallbacks
    def test_keeps_state(self):
        """
        Volumes, tokens, exports and the bucket name survive a restart.
        """
        yield self.sc.volume(VOLUME, size=2)
        yield self.sc.volume(OTHER)
        token = (yield self.sc.call("GetVolumeToken", t.GetVolumeTokenType, volumeId=VOLUME)).token
        yield self.sc.call("ExportVolume", t.ExportVolumeType, volumeId=VOLUME, token=token, ip=NODE_IP)
        before = yield self.sc.call("DescribeStorageVolumes", t.DescribeStorageVolumesType)
        bucket = self.sc.bucket
        yield self.sc.restart()
        after = yield self.sc.call("DescribeStorageVolumes", t.DescribeStorageVolumesType)
        self.assertEqual([(v.volumeId, v.size, v.status, v.createTime) for v in after.volumeSet],
                         [(v.volumeId, v.size, v.status, v.createTime) for v in before.volumeSet])  # fmt: skip
        self.assertEqual(self.sc.bucket, bucket)
        self.assertEqual(self.sc.service.volumes.get(VOLUME).exports, [NODE_IP])
        yield self.sc.call("UnexportVolume", t.UnexportVolumeType, volumeId=VOLUME, token=token, ip=NODE_IP)
        self.assertEqual(self.sc.tgtd.targets, {})
        self.assertEqual(self.record("volumes", VOLUME)["exports"], [])

    @defer.inlineCallbacks
    def test_settles_interrupted(self):
        """
        After a restart a volume left C{creating} is C{failed} if the store
        does not have it and C{available} if it does; a snapshot left
        C{pending} is C{failed}; exports are read back from tgtd.
        """
        yield self.sc.volume(VOLUME)
        yield self.sc.service.stopService()
        created = "2024-05-01T10:00:00.000+00:00"
        self.write_record("volumes", OTHER, volume_id=OTHER, size=1, status="creating", create_time=created)
        self.write_record("volumes", VOLUME, volume_id=VOLUME, size=1, status="creating", create_time=created,
                          exports=["10.9.9.9"])  # fmt: skip
        self.write_record("snapshots", SNAPSHOT, snapshot_id=SNAPSHOT, volume_id=VOLUME, status="pending",
                          start_time=created, size=1)  # fmt: skip
        yield self.sc.start_sc()
        self.assertEqual(self.sc.service.volumes.get(OTHER).status, "failed")
        self.assertEqual(self.sc.service.volumes.get(VOLUME).status, "available")
        self.assertEqual(self.sc.service.volumes.get(VOLUME).exports, [])
        self.assertEqual(self.sc.service.snapshots.get(SNAPSHOT).status, "failed")
        self.assertEqual(self.record("volumes", OTHER)["status"], "failed")
        self.assertIn("stopped while", self.record("snapshots", SNAPSHOT)["reason"])

    @defer.inlineCallbacks
    def test_not_ready_until_loaded(self):
        """
        Until its records are read the SC answers only C{DescribeServices},
        as C{NOTREADY}.
        """
        yield self.sc.service.stopService()
        service = sc.make_service(self.sc.settings, root=Resource(), tgtadm=self.sc.tgtadm,
                                  walrus_url=self.sc.walrus_url)  # fmt: skip
        ops = service.operations
        self.assertEqual(ops.state, "NOTREADY")
        described = yield ops.invoke("DescribeServices", request(common.DescribeServicesType))
        self.assertEqual(described.serviceStatuses[0].localState, "NOTREADY")
        yield self.assertFailure(ops.invoke("DescribeStorageVolumes", request(t.DescribeStorageVolumesType)),
                                 ServiceUnavailable)  # fmt: skip
        service.startService()
        self.addCleanup(service.stopService)
        yield service.ready
        self.assertEqual(ops.state, "ENABLED")
        described = yield ops.invoke("DescribeServices", request(common.DescribeServicesType))
        self.assertEqual(described.serviceStatuses[0].details, ["0 volumes, 0 snapshots"])
