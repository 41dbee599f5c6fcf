"""
The CC's bookkeeping of its nodes and their instances.
"""

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.services.cc.nodes import (
    ASLEEP, DISABLED, DOWN, ENABLED, InstanceCache, NodeRecord, NodeResources)
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
        view = self.record.view(idle_since=7)
        self.assertEqual(
            (view.state, view.cores_max, view.cores_available, view.memory_available, view.disk_available,
             view.idle_since),
            (ASLEEP, 4, 3, 1024, 30, 7),
        )


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

    def test_latest_report_wins(self):
        """
        An instance reported by another node (after a migration) is on that
        node, with the latest type and time.
        """
        self.cache.update("a", [instance("i-1")], 10)
        self.cache.update("b", [instance("i-1", "m1.large")], 20)
        entry = self.cache.get("i-1")
        self.assertEqual((entry.host, entry.instance.instanceType.name, entry.reported), ("b", "m1.large", 20))

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
