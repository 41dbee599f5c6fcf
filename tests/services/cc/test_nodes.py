"""
The CC's bookkeeping of its nodes and their instances.
"""

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.services.cc.nodes import (
    ASLEEP, DISABLED, DOWN, ENABLED, InstanceCache, NodeRecord, NodeResources, parse_node)
from eucalyptus.services.cc.scheduler import VmShape
from eucalyptus.wsdl import common, nc_types


def resource_answer(status="enabled", **figures):
    """
    An C{ncDescribeResource} answer with small figures.
    """
    values = dict(
        nodeStatus=status, numberOfCoresMax=4, numberOfCoresAvailable=3, memorySizeMax=2048,
        memorySizeAvailable=1024, diskSizeMax=40, diskSizeAvailable=30, hypervisor="TEST", iqn="iqn.x",
    )
    values.update(figures)
    return nc_types.NcDescribeResourceResponseType(correlationId="c", userId="u", **values)


def instance(instance_id, type_name="m1.small", state="Extant"):
    """
    An C{instanceType} as a node reports it.
    """
    return nc_types.InstanceType(
        instanceId=instance_id, stateName=state,
        instanceType=common.VirtualMachineType(name=type_name, memory=256, cores=1, disk=2),
    )


FIGURES = NodeResources(4, 3, 2048, 1024, 40, 30, "TEST", "iqn.x")


class NodeResourcesTests(SynchronousTestCase):
    """
    L{NodeResources.from_response}.
    """

    def test_from_response(self):
        """
        The figures, hypervisor and IQN of the answer are kept.
        """
        self.assertEqual(NodeResources.from_response(resource_answer()), FIGURES)

    def test_missing_figure(self):
        """
        An answer without a figure is refused, naming it.
        """
        error = self.assertRaises(ValueError, NodeResources.from_response, resource_answer(diskSizeMax=None))
        self.assertIn("diskSizeMax", str(error))


class NodeRecordTests(SynchronousTestCase):
    """
    A node's state and why.
    """

    def setUp(self):
        self.record = NodeRecord("10.0.0.5", "http://10.0.0.5:8775/axis2/services/EucalyptusNC")

    def test_initially_down(self):
        """
        A node is down, with no resources, until it first answers.
        """
        self.assertEqual((self.record.state, self.record.resources, self.record.last_seen), (DOWN, None, None))
        self.assertEqual(self.record.reason, "not polled yet")

    def test_answered(self):
        """
        An enabled answer makes it enabled, keeps its figures and when, and
        clears its failures.
        """
        self.record.failed("connection refused", 5)
        self.record.answered("enabled", FIGURES, 12)
        self.assertEqual(self.record.state, ENABLED)
        self.assertEqual((self.record.resources, self.record.last_seen, self.record.failures), (FIGURES, 12, 0))

    def test_disabled(self):
        """
        A node that says it is disabled (for maintenance) is disabled, and
        says why; an unknown status counts as disabled too.
        """
        self.record.answered("DISABLED", FIGURES, 1)
        self.assertEqual((self.record.state, self.record.reason), (DISABLED, "the node reports itself disabled"))
        self.record.answered("broken", FIGURES, 2)
        self.assertEqual(self.record.state, DISABLED)
        self.assertIn("'broken'", self.record.reason)

    def test_failed(self):
        """
        Failures make it down and count; the reason says for how long it
        has not answered, and why.
        """
        self.record.failed("connection refused", 3)
        self.assertEqual((self.record.state, self.record.failures), (DOWN, 1))
        self.assertEqual(self.record.reason, "never answered: connection refused")
        self.record.answered("enabled", FIGURES, 6)
        self.record.failed("connection refused", 12)
        self.record.failed("connection refused", 18)
        self.assertEqual(self.record.failures, 2)
        self.assertEqual(self.record.reason, "no answer for 12 s: connection refused")

    def test_view(self):
        """
        The scheduler's view has the node's state and figures; a node that
        never answered offers nothing.
        """
        empty = self.record.view()
        self.assertEqual((empty.name, empty.state, empty.cores_available, empty.memory_max), ("10.0.0.5", DOWN, 0, 0))
        self.record.answered("enabled", FIGURES, 1)
        self.record.state = ASLEEP
        self.record.counted(0, 7)
        view = self.record.view()
        self.assertEqual(
            (view.state, view.cores_max, view.cores_available, view.memory_available, view.disk_available,
             view.idle_since),
            (ASLEEP, 4, 3, 1024, 30, 7),
        )


    def test_idle_since(self):
        """
        A node is idle from the first poll that found it empty until a poll
        finds an instance or the CC starts one there.
        """
        self.record.counted(0, 10)
        self.record.counted(0, 16)
        self.assertEqual(self.record.idle_since, 10)
        self.record.counted(2, 22)
        self.assertIsNone(self.record.idle_since)
        self.record.counted(0, 28)
        self.record.reserve(VmShape(1, 128, 1))
        self.assertIsNone(self.record.idle_since)

    def test_reserve(self):
        """
        Starting an instance lowers the available figures until the next
        poll; the maxima stay.
        """
        self.record.answered("enabled", FIGURES, 1)
        self.record.reserve(VmShape(2, 512, 10))
        figures = self.record.resources
        self.assertEqual(
            (figures.cores_available, figures.memory_available, figures.disk_available, figures.cores_max),
            (1, 512, 20, 4),
        )

    def test_disable(self):
        """
        A disabled node says why.
        """
        self.record.answered("enabled", FIGURES, 1)
        self.record.disable("maintenance")
        self.assertEqual((self.record.state, self.record.reason), (DISABLED, "maintenance"))


class ParseNodeTests(SynchronousTestCase):
    """
    C{NODES} entries.
    """

    def test_host(self):
        """
        A bare host takes the default port.
        """
        self.assertEqual(parse_node("10.0.0.5", 8775), ("10.0.0.5", 8775))

    def test_host_and_port(self):
        """
        C{host:port} names its port.
        """
        self.assertEqual(parse_node("node-3:9001", 8775), ("node-3", 9001))

    def test_bad(self):
        """
        A missing host or a port that is not one is refused, naming the entry.
        """
        for entry in (":8775", "node:", "node:http", "node:70000", "node:0"):
            error = self.assertRaises(ValueError, parse_node, entry, 8775)
            self.assertIn(repr(entry), str(error))


class InstanceCacheTests(SynchronousTestCase):
    """
    L{InstanceCache}: what the nodes reported, and for how long.
    """

    def setUp(self):
        self.cache = InstanceCache()

    def test_update_and_describe(self):
        """
        Reported instances are described by id, sorted, with their node,
        type and time; unknown ids are left out; no ids means all.
        """
        self.cache.update("a", [instance("i-2"), instance("i-1", "c1.medium")], 10)
        self.cache.update("b", [instance("i-3")], 11)
        self.assertEqual([entry.instance.instanceId for entry in self.cache.describe()], ["i-1", "i-2", "i-3"])
        (entry,) = self.cache.describe(["i-1", "i-9"])
        self.assertEqual((entry.host, entry.instance.instanceType.name, entry.reported), ("a", "c1.medium", 10))
        self.assertEqual(len(self.cache), 3)
        self.assertIn("i-3", self.cache)
        self.assertEqual([e.instance.instanceId for e in self.cache.on_host("a")], ["i-1", "i-2"])

    def test_second_copy(self):
        """
        An instance the cache has on one node, reported by another, is a
        second copy: named, and the cache keeps the first node's; once the
        first node's entry is dropped, the other node's report is taken.
        """
        self.cache.update("a", [instance("i-1")], 10)
        self.assertEqual(self.cache.update("b", [instance("i-1", "m1.large"), instance("i-2")], 20), ["i-1"])
        entry = self.cache.get("i-1")
        self.assertEqual((entry.host, entry.instance.instanceType.name, entry.reported), ("a", "m1.small", 10))
        self.assertEqual(self.cache.get("i-2").host, "b")
        self.cache.drop_stale(400, 300)
        self.assertEqual(self.cache.update("b", [instance("i-1")], 400), [])
        self.assertEqual(self.cache.get("i-1").host, "b")

    def test_place(self):
        """
        An instance the CC started is on its node before any poll; the same
        instance reported by another node is a second copy.
        """
        self.cache.place("a", instance("i-1", state="Pending"), 5)
        self.assertEqual((self.cache.get("i-1").host, self.cache.get("i-1").instance.stateName), ("a", "Pending"))
        self.assertEqual(self.cache.update("b", [instance("i-1")], 6), ["i-1"])
        self.assertEqual(self.cache.update("a", [instance("i-1")], 6), [])
        self.assertEqual(self.cache.get("i-1").instance.stateName, "Extant")

    def test_forget_host(self):
        """
        Forgetting a node drops exactly its instances.
        """
        self.cache.update("a", [instance("i-1"), instance("i-2")], 0)
        self.cache.update("b", [instance("i-3")], 0)
        self.assertEqual(self.cache.forget_host("a"), ["i-1", "i-2"])
        self.assertEqual([entry.instance.instanceId for entry in self.cache.describe()], ["i-3"])

    def test_drop_stale(self):
        """
        An instance is dropped once no node has reported it for more than
        the timeout; one reported again stays.
        """
        self.cache.update("a", [instance("i-1"), instance("i-2")], 0)
        self.cache.update("a", [instance("i-2")], 200)
        self.assertEqual(self.cache.drop_stale(300, 300), [])
        self.assertEqual(self.cache.drop_stale(301, 300), ["i-1"])
        self.assertEqual([entry.instance.instanceId for entry in self.cache.describe()], ["i-2"])
        self.assertIsNone(self.cache.get("i-1"))

    def test_no_instance_id(self):
        """
        A report without an instance id is ignored.
        """
        self.cache.update("a", [instance(None)], 0)
        self.assertEqual(len(self.cache), 0)
