"""
Volumes hot-plugged into running instances, on libvirt's test driver.
"""

import os

from twisted.internet import defer

from eucalyptus.errors import (
    AttachmentNotFound, IncorrectInstanceState, InstanceNotFound, InvalidParameterValue, VolumeInUse)
from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.volumes import Volumes
from tests.services.nc.harness import URLS, NodeTestCase, spec


class VolumeTests(NodeTestCase):
    """
    ncAttachVolume and ncDetachVolume.
    """

    @defer.inlineCallbacks
    def setUp(self):
        NodeTestCase.setUp(self)
        self.volumes = Volumes(self.node)
        self.disk = os.path.join(self.data, "vol-1.img")
        with open(self.disk, "wb") as f:
            f.truncate(1024**2)
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()

    @defer.inlineCallbacks
    def test_attach_detach(self):
        """
        An attached volume shows in the domain and the record as C{vdf}; it
        goes on detach.
        """
        yield self.volumes.attach("i-0123abcd", "vol-00000001", self.disk, "/dev/sdf")
        (volume,) = self.node.get("i-0123abcd").volumes
        self.assertEqual((volume.target, volume.state), ("vdf", "attached"))
        self.assertIn("vol-00000001", (yield self.hypervisor.domain_xml("i-0123abcd")))
        self.assertEqual(records.load(self.directory("i-0123abcd")).volumes, [volume])
        yield self.volumes.detach("i-0123abcd", "vol-00000001", self.disk, "/dev/sdf")
        self.assertEqual(self.node.get("i-0123abcd").volumes, [])
        self.assertNotIn("vol-00000001", (yield self.hypervisor.domain_xml("i-0123abcd")))

    @defer.inlineCallbacks
    def test_device_in_use(self):
        """
        A device taken by the root disk or another volume is refused, and
        the same volume twice is C{VolumeInUse}; nothing changes.
        """
        error = yield self.assertFailure(
            self.volumes.attach("i-0123abcd", "vol-00000001", self.disk, "/dev/sda"), InvalidParameterValue
        )
        self.assertIn("already in use", error.message)
        yield self.volumes.attach("i-0123abcd", "vol-00000001", self.disk, "/dev/sdf")
        yield self.assertFailure(
            self.volumes.attach("i-0123abcd", "vol-00000002", self.disk, "/dev/vdf"), InvalidParameterValue
        )
        yield self.assertFailure(
            self.volumes.attach("i-0123abcd", "vol-00000001", self.disk, "/dev/sdg"), VolumeInUse
        )
        self.assertEqual([v.volume_id for v in self.node.get("i-0123abcd").volumes], ["vol-00000001"])

    @defer.inlineCallbacks
    def test_bad_requests(self):
        """
        Unknown instances, missing devices, nonsense device names and
        detaching what is not attached are refused with their codes.
        """
        yield self.assertFailure(
            self.volumes.attach("i-99999999", "vol-00000001", self.disk, "/dev/sdf"), InstanceNotFound
        )
        yield self.assertFailure(
            self.volumes.attach("i-0123abcd", "vol-00000001", "/nonexistent", "/dev/sdf"), InvalidParameterValue
        )
        yield self.assertFailure(
            self.volumes.attach("i-0123abcd", "vol-00000001", self.disk, "eth0"), InvalidParameterValue
        )
        yield self.assertFailure(
            self.volumes.detach("i-0123abcd", "vol-00000009", self.disk, "/dev/sdf"), AttachmentNotFound
        )
        self.node.terminate("i-0123abcd", force=True)
        yield self.settled()
        yield self.assertFailure(
            self.volumes.attach("i-0123abcd", "vol-00000001", self.disk, "/dev/sdf"), IncorrectInstanceState
        )
