"""
The real Storage Controller service: signed SOAP calls over HTTP from the
CLC (cloud key) and from a node (node key), what each may call, and a
volume exported by a real tgtd that qemu's iSCSI initiator opens with the
connection string a node receives.
"""

import os

from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from eucalyptus import admin
from eucalyptus.errors import FailedCheck, UnauthorizedOperation
from eucalyptus.security import trust
from eucalyptus.security.keys import KeyStore
from eucalyptus.security.wssec import Verifier
from eucalyptus.soap.client import SoapClient
from eucalyptus.volume_connection import VolumeConnection
from eucalyptus.wsdl import SERVICE_NAMES, common, make_application
from eucalyptus.wsdl import sc_types as t
from tests.daemons import until
from tests.services.sc.harness import Tgtd, run
from tests.services.sc.storage import OTHER, VOLUME, StorageHarness, request
from tests.services.sc.test_iscsi import _url

GiB = 1024**3
ZONE = "zone-1"


class SignedSoapTests(TestCase):
    """
    The SC on its own port, called with WS-Security.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.sc = yield StorageHarness(self, walrus_up=False, listen=True).start()
        self.keys = KeyStore(os.path.join(self.sc.data, "keys"))
        self.clc = self.client_for(admin.component_client(self.sc.settings, "sc", self.sc.sc_url, reactor))
        self.node = self.signing_as("node", ZONE)
        self.cluster = self.signing_as("cluster", ZONE)

    def client_for(self, client):
        self.addCleanup(client.close)
        return client

    def signing_as(self, role, zone):
        return self.client_for(SoapClient(
            self.sc.sc_url, make_application("sc"), SERVICE_NAMES["sc"], credential=self.keys.credential(role, zone),
            verifier=Verifier([trust.peer_certificate(self.keys, "sc", ZONE)]), timeout=10, reactor=reactor,
        ))  # fmt: skip

    @defer.inlineCallbacks
    def available(self, volume_id):
        yield self.clc.call("CreateStorageVolume", request(t.CreateStorageVolumeType, volumeId=volume_id, size=1))

        @defer.inlineCallbacks
        def check():
            response = yield self.clc.call("DescribeStorageVolumes",
                                           request(t.DescribeStorageVolumesType, volumeSet=[volume_id]))  # fmt: skip
            return response.volumeSet[0].status == "available"

        yield until(self, f"{volume_id} available", check, 10, interval=0.05)

    @defer.inlineCallbacks
    def test_clc_and_node(self):
        """
        The CLC makes a volume and gets its token; the node exports it with
        that token and unexports it.
        """
        yield self.available(VOLUME)
        token = (yield self.clc.call("GetVolumeToken", request(t.GetVolumeTokenType, volumeId=VOLUME))).token
        exported = yield self.node.call("ExportVolume", request(
            t.ExportVolumeType, volumeId=VOLUME, token=token, ip="10.1.2.3", iqn="iqn.1993-08.org.debian:01:n1"
        ))  # fmt: skip
        connection = VolumeConnection.parse(exported.connectionString)
        self.assertEqual(exported.volumeId, VOLUME)
        self.assertEqual(connection.user, VOLUME)
        self.assertEqual(list(self.sc.tgtd.accounts.values()), [connection.password(self.keys.credential("node", ZONE).key)])
        yield self.node.call("UnexportVolume", request(t.UnexportVolumeType, volumeId=VOLUME, token=token, ip="10.1.2.3"))
        self.assertEqual(self.sc.tgtd.targets, {})

    @defer.inlineCallbacks
    def test_node_limited(self):
        """
        A node's signature does not make volumes, hand out tokens or
        delete; it may ask C{DescribeServices}.
        """
        yield self.available(VOLUME)
        for name, message in (
            ("CreateStorageVolume", request(t.CreateStorageVolumeType, volumeId=OTHER, size=1)),
            ("GetVolumeToken", request(t.GetVolumeTokenType, volumeId=VOLUME)),
            ("DeleteStorageVolume", request(t.DeleteStorageVolumeType, volumeId=VOLUME)),
            ("DescribeStorageVolumes", request(t.DescribeStorageVolumesType)),
        ):
            error = yield self.assertFailure(self.node.call(name, message), UnauthorizedOperation)
            self.assertIn(f"A node signature does not allow {name}", error.message)
        self.assertIsNone(self.sc.service.volumes.state.volumes.get(OTHER))
        statuses = yield self.node.call("DescribeServices", request(common.DescribeServicesType))
        self.assertEqual(statuses.serviceStatuses[0].localState, "ENABLED")

    @defer.inlineCallbacks
    def test_other_keys(self):
        """
        A call signed by a key the SC does not pin (the cluster's) is
        refused before it is read.
        """
        yield self.assertFailure(
            self.cluster.call("DescribeStorageVolumes", request(t.DescribeStorageVolumesType)), FailedCheck
        )


class RealTgtdTests(TestCase):
    """
    A volume exported through the SC by a real tgtd of the test's own.
    """

    timeout = 120

    @defer.inlineCallbacks
    def setUp(self):
        self.tgtd = Tgtd(self)
        self.sc = yield StorageHarness(self, walrus_up=False, tgtadm=self.tgtd.tgtadm,
                                       portal=("127.0.0.1", self.tgtd.port)).start()  # fmt: skip
        yield self.sc.volume(VOLUME)
        self.sc.write(VOLUME, 4096, b"\xa5" * 4096)

    @defer.inlineCallbacks
    def test_export(self):
        """
        qemu opens the exported volume with the decrypted CHAP password and
        reads what the volume holds; after C{UnexportVolume} the target is
        gone.
        """
        token = (yield self.sc.call("GetVolumeToken", t.GetVolumeTokenType, volumeId=VOLUME)).token
        exported = yield self.sc.call("ExportVolume", t.ExportVolumeType, volumeId=VOLUME, token=token, ip="127.0.0.1")
        connection = VolumeConnection.parse(exported.connectionString)
        keys = KeyStore(os.path.join(self.sc.data, "keys"))
        url = _url(connection, connection.password(keys.credential("node", ZONE).key))
        code, out, err = yield self.sc.in_thread(run, ["qemu-img", "info", "--output=json", url], timeout=60)
        self.assertEqual(code, 0, err)
        self.assertIn(f'"virtual-size": {GiB}', out)
        code, out, err = yield self.sc.in_thread(run, ["qemu-io", "-f", "raw", "-c", "read -P 0xa5 4096 4096", url],
                                                 timeout=60)  # fmt: skip
        self.assertEqual(code, 0, err + out)
        self.assertNotIn("Pattern verification failed", out)
        yield self.sc.call("UnexportVolume", t.UnexportVolumeType, volumeId=VOLUME, token=token, ip="127.0.0.1")
        self.assertEqual(self.tgtd.tgtadm.targets(), [])
