"""
A libvirt call that hangs: bounded by the driver's timeout, the instance
marked failed, the node still answering.
"""

from twisted.internet import defer, reactor, task

from eucalyptus.hypervisor.libvirt import LibvirtHypervisor
from eucalyptus.services.nc import instances as records
from tests.fakes.fakelibvirt import FakeLibvirt
from tests.services.nc.harness import URLS, NodeTestCase, spec


class HangTests(NodeTestCase):
    """
    The node on a libvirt whose C{createXML} hangs once.
    """

    def make_hypervisor(self):
        self.fake = FakeLibvirt()
        return LibvirtHypervisor("qemu:///system", domain_type="qemu", timeout=0.5, libvirt_module=self.fake)

    @defer.inlineCallbacks
    def test_create_hangs(self):
        """
        The instance whose create hangs fails with the timeout recorded; the
        node answers and starts the next instance; when the hung create
        finally returns, the domain it made is destroyed as an orphan.
        """
        yield self.start()
        release = self.fake.hang("createXML")
        self.addCleanup(release.set)
        self.node.run_instance(spec("i-00000001", mac="d0:0d:00:00:00:01"), URLS)
        yield self.settled()
        failed = self.node.get("i-00000001")
        self.assertEqual(failed.state, records.TEARDOWN)
        self.assertIn("did not return", failed.failure)
        self.node.run_instance(spec("i-00000002", mac="d0:0d:00:00:00:02"), URLS)
        yield self.settled()
        self.assertEqual(self.node.get("i-00000002").state, records.BOOTING)
        self.assertEqual(self.node.resources().cores_available, 7)
        release.set()
        for _ in range(500):
            if "i-00000001" in self.fake.domains:
                break
            yield task.deferLater(reactor, 0.01, lambda: None)
        yield self.monitor.run_once()
        self.assertEqual(sorted(self.fake.domains), ["i-00000002"])
