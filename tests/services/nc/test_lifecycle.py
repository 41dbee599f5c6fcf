"""
The monitor's rules and the adoption of instances after a restart.
"""

import os

from twisted.internet import defer

from eucalyptus.hypervisor.interfaces import DomainInfo
from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.domain import domain_xml
from tests.services.nc.harness import URLS, NodeTestCase, spec


class _Reporting:
    """
    A hypervisor whose C{list_domains} reports every domain in one state,
    delegating everything else.
    """

    def __init__(self, hypervisor, state):
        self._hypervisor = hypervisor
        self._state = state

    def __getattr__(self, name):
        return getattr(self._hypervisor, name)

    @defer.inlineCallbacks
    def list_domains(self):
        domains = yield self._hypervisor.list_domains()
        return [DomainInfo(d.name, d.uuid, self._state, d.memory_kib, d.vcpus) for d in domains]


class MonitorTests(NodeTestCase):
    """
    The monitor pass.
    """

    @defer.inlineCallbacks
    def test_booting_too_long(self):
        """
        An instance libvirt has not shown running within the booting
        threshold is torn down with the reason recorded.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        self.node.hypervisor = _Reporting(self.hypervisor, "paused")
        yield self.monitor.run_once()
        self.assertEqual(self.node.get("i-0123abcd").state, records.BOOTING)
        self.node.get("i-0123abcd").boot_time -= self.config.booting_threshold
        yield self.monitor.run_once()
        yield self.settled()
        instance = self.node.get("i-0123abcd")
        self.assertEqual(instance.state, records.TEARDOWN)
        self.assertIn("not running", instance.failure)

    @defer.inlineCallbacks
    def test_start_up_ends_during_listing(self):
        """
        An instance still starting when the pass lists the domains, whose
        start-up ends before the pass reaches it, is not judged by that
        listing (which may not show its domain yet): it stays up.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        hypervisor, node = self.hypervisor, self.node
        starting = defer.Deferred()

        class Listing:
            def __getattr__(self, name):
                return getattr(hypervisor, name)

            def list_domains(self):
                # The listing is taken while the start-up is under way and
                # answers once it has ended, without the new domain.
                node.busy.pop("i-0123abcd")
                return defer.succeed([])

        node.busy["i-0123abcd"] = starting
        node.hypervisor = Listing()
        yield self.monitor.run_once()
        node.hypervisor = hypervisor
        self.assertEqual(node.get("i-0123abcd").state, records.BOOTING)

    @defer.inlineCallbacks
    def test_crashed(self):
        """
        A crashed domain is destroyed and its instance torn down; it stays
        C{Extant} until then, as the original reports it.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        yield self.monitor.run_once()
        self.node.hypervisor = _Reporting(self.hypervisor, "crashed")
        yield self.monitor.run_once()
        yield self.settled()
        self.assertEqual(self.node.get("i-0123abcd").state, records.TEARDOWN)
        domains = yield self.hypervisor.list_domains()
        self.assertNotIn("i-0123abcd", [d.name for d in domains])

    @defer.inlineCallbacks
    def test_staging_too_long(self):
        """
        An instance staging longer than the threshold is canceled and torn
        down once its download ends.
        """
        yield self.start()
        self.fetcher.gate = defer.Deferred()
        self.node.run_instance(spec(), URLS)
        self.node.get("i-0123abcd").launch_time -= self.config.staging_threshold
        yield self.monitor.run_once()
        self.assertEqual(self.node.get("i-0123abcd").state, records.CANCELED)
        self.fetcher.gate.callback(None)
        yield self.settled()
        instance = self.node.get("i-0123abcd")
        self.assertEqual(instance.state, records.TEARDOWN)
        self.assertIn("staging took longer", instance.failure)
        self.assertEqual([refs for _, _, refs, _ in self.node.cache.entries()], [0, 0, 0])

    @defer.inlineCallbacks
    def test_orphan_destroyed(self):
        """
        A domain of this node with no live instance (a create that timed
        out, say) is destroyed; another node's and foreign domains are left
        alone.
        """
        yield self.start()
        mine = dict(kernel="/k", console=os.path.join(self.directory("i-0000dead"), "console.log"), disks=[])
        yield self.hypervisor.create(domain_xml(spec("i-0000dead"), mine, "test", ""))
        theirs = dict(kernel="/k", console="/elsewhere/work/alice/i-0000beef/console.log", disks=[])
        yield self.hypervisor.create(domain_xml(spec("i-0000beef"), theirs, "test", ""))
        yield self.monitor.run_once()
        names = [d.name for d in (yield self.hypervisor.list_domains())]
        self.assertNotIn("i-0000dead", names)
        self.assertIn("test", names)
        self.assertIn("i-0000beef", names)
        yield self.hypervisor.destroy("i-0000beef")


class AdoptionTests(NodeTestCase):
    """
    A restarted node picks up where it was.
    """

    @defer.inlineCallbacks
    def test_running_adopted(self):
        """
        After a restart the running instance is known again with its state,
        its images referenced in the cache, and nothing started twice.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        yield self.monitor.run_once()
        restarted = self.make_node()
        adopted = yield self.start(restarted)
        self.assertEqual(adopted, ["i-0123abcd"])
        instance = restarted.get("i-0123abcd")
        self.assertEqual((instance.state, instance.reported), (records.RUNNING, records.EXTANT))
        self.assertEqual(sorted(refs for _, _, refs, _ in restarted.cache.entries()), [1, 1, 1])
        self.assertEqual(len(self.fetcher.fetched), 3)
        restarted.run_instance(spec(), URLS)
        self.assertEqual(restarted.busy, {})
        restarted.terminate("i-0123abcd", force=True)
        yield self.settled(restarted)
        self.assertEqual(sorted(refs for _, _, refs, _ in restarted.cache.entries()), [0, 0, 0])

    @defer.inlineCallbacks
    def test_dead_domain_torn_down(self):
        """
        An instance whose domain died while the node was down is torn down
        at start and reported as C{Teardown}.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        yield self.hypervisor.destroy("i-0123abcd")
        restarted = self.make_node()
        adopted = yield self.start(restarted)
        self.assertEqual(adopted, [])
        yield self.settled(restarted)
        self.assertEqual(restarted.get("i-0123abcd").reported, records.TEARDOWN)
        self.assertNotIn("root.qcow2", os.listdir(self.directory("i-0123abcd")))

    @defer.inlineCallbacks
    def test_leftover_directory_removed(self):
        """
        An instance directory without a readable record is removed.
        """
        leftover = self.directory("i-0000beef")
        os.makedirs(leftover)
        with open(os.path.join(leftover, "instance.json"), "w") as f:
            f.write("{not json")
        yield self.start()
        self.assertFalse(os.path.exists(leftover))
