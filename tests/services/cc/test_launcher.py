"""
The CC's RunInstances: placement by each policy, failover to the next node
within the retry window, and all or nothing below minCount -- over fake
nodes on a fake clock.
"""

from twisted.internet import defer, task
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InsufficientInstanceCapacity, InvalidParameterValue, ServiceUnavailable
from eucalyptus.services.cc.launcher import Launcher, nc_request, shape_of
from eucalyptus.services.cc.nodes import ASLEEP, DOWN, ENABLED, InstanceCache, NodeRecord
from eucalyptus.services.cc.poller import NodePoller
from eucalyptus.services.cc.scheduler import GREEDY, POWERSAVE, ROUNDROBIN, SchedulerState
from eucalyptus.wsdl import cc_types, common, nc_types
from tests.services.cc.test_nodes import FIGURES, instance, resource_answer

SMALL = common.VirtualMachineType(name="m1.small", cores=1, memory=256, disk=5)


def run_request(count, min_count=None, prefix="i-0000000", **fields):
    """
    A RunInstances request for C{count} instances with ids C{i-00000001}...
    """
    return cc_types.RunInstancesType(
        correlationId="c", userId="alice", imageId="emi-1", kernelId="eki-1", ramdiskId="eri-1",
        imageURL="http://w/emi", kernelURL="http://w/eki", ramdiskURL="http://w/eri", instanceType=SMALL,
        keyName="k", maxCount=count, minCount=min_count if min_count is not None else count,
        reservationId="r-1", instanceIds=[f"{prefix}{n + 1}" for n in range(count)], ownerId="alice",
        accountId="000000000001", **fields,
    )


class LaunchingNode:
    """
    A node's SOAP client that starts instances, refuses, fails or hangs as
    the test says.

    @ivar started: the ids it started, in order.
    @ivar mode: C{"ok"}, C{"fail"} (ServiceUnavailable), C{"refuse"}
        (InvalidParameterValue) or C{"hang"}.
    """

    def __init__(self, host):
        self.host = host
        self.mode = "ok"
        self.started = []
        self.terminated = []
        self.instances = []
        self.calls = []

    def call(self, operation, request):
        self.calls.append(operation)
        if self.mode == "hang":
            return defer.Deferred()
        if self.mode == "fail":
            return defer.fail(ServiceUnavailable(f"{self.host} is unreachable"))
        if operation == "ncRunInstance":
            if self.mode == "refuse":
                return defer.fail(InvalidParameterValue("Invalid MAC address"))
            self.started.append(request.instanceId)
            self.instances.append(instance(request.instanceId, state="Staging"))
            answer = nc_types.InstanceType(
                instanceId=request.instanceId, stateName="Staging", reservationId=request.reservationId,
                instanceType=request.instanceType, netParams=request.netParams,
            )
            return defer.succeed(nc_types.NcRunInstanceResponseType(instance=answer))
        if operation == "ncTerminateInstance":
            self.terminated.append(request.instanceId)
            return defer.succeed(nc_types.NcTerminateInstanceResponseType(instanceId=request.instanceId))
        if operation == "ncDescribeResource":
            return defer.succeed(resource_answer())
        if operation == "ncDescribeInstances":
            return defer.succeed(nc_types.NcDescribeInstancesResponseType(instances=list(self.instances)))
        raise AssertionError(f"unexpected {operation}")

    def close(self):
        return defer.succeed(None)


class LauncherTestCase(SynchronousTestCase):
    """
    Nodes C{a}, C{b}, C{c}, each with room for 3 small instances (3 cores
    available).
    """

    def setUp(self):
        self.clock = task.Clock()
        self.nodes = {host: LaunchingNode(host) for host in "abc"}
        self.records = [NodeRecord(host, f"http://{host}:8775/nc") for host in "abc"]
        for record in self.records:
            record.answered("enabled", FIGURES, 0)
        self.cache = InstanceCache()
        self.state = SchedulerState()

    def launcher(self, policy=ROUNDROBIN, waker=None):
        return Launcher(
            lambda: self.records, self.cache, lambda record: self.nodes[record.host], policy, self.state, self.clock,
            per_node_timeout=5, retry_window=15, waker=waker,
        )

    def launch(self, launcher, request):
        d = launcher.run(request)
        self.clock.advance(0)
        return d

    def placed(self):
        return {host: node.started for host, node in self.nodes.items()}


class PlacementTests(LauncherTestCase):
    """
    Where each policy puts a request's instances.
    """

    def test_round_robin(self):
        """
        Round robin spreads one instance per node in NODES order, and the
        next request continues where the last one stopped.
        """
        launched = self.successResultOf(self.launch(self.launcher(), run_request(4)))
        self.assertEqual([i.instanceId for i in launched], ["i-00000001", "i-00000002", "i-00000003", "i-00000004"])
        self.assertEqual(
            [i.serviceTag for i in launched], ["http://a:8775/nc", "http://b:8775/nc", "http://c:8775/nc", "http://a:8775/nc"]
        )
        self.successResultOf(self.launch(self.launcher(), run_request(1, prefix="i-1000000")))
        self.assertEqual(self.nodes["b"].started, ["i-00000002", "i-10000001"])

    def test_greedy(self):
        """
        Greedy fills the first node before the next.
        """
        self.successResultOf(self.launch(self.launcher(GREEDY), run_request(4)))
        self.assertEqual(self.placed(), {"a": ["i-00000001", "i-00000002", "i-00000003"], "b": ["i-00000004"], "c": []})

    def test_reserved_until_polled(self):
        """
        A started instance's share is taken off its node's figures at once,
        so a second request does not overfill it before the next poll.
        """
        self.successResultOf(self.launch(self.launcher(GREEDY), run_request(2)))
        self.successResultOf(self.launch(self.launcher(GREEDY), run_request(2, prefix="i-1000000")))
        self.assertEqual(self.placed()["a"], ["i-00000001", "i-00000002", "i-10000001"])
        self.assertEqual(self.placed()["b"], ["i-10000002"])

    def test_instances_cached_at_once(self):
        """
        Started instances are described before any poll, on their node.
        """
        self.successResultOf(self.launch(self.launcher(), run_request(2)))
        self.assertEqual([(e.host, e.instance.stateName) for e in self.cache.describe()], [("a", "Staging"), ("b", "Staging")])

    def test_disabled_and_down_skipped(self):
        """
        Only enabled nodes take instances.
        """
        self.records[0].disable("maintenance")
        self.records[1].failed("no answer", 1)
        self.successResultOf(self.launch(self.launcher(), run_request(2)))
        self.assertEqual(self.placed(), {"a": [], "b": [], "c": ["i-00000001", "i-00000002"]})


class FailoverTests(LauncherTestCase):
    """
    A node that fails or hangs during RunInstances.
    """

    def test_failed_node_skipped(self):
        """
        An instance whose node fails is started on the next node; the
        failed node gets nothing else in this request.
        """
        self.nodes["a"].mode = "fail"
        launched = self.successResultOf(self.launch(self.launcher(), run_request(3)))
        self.assertEqual(len(launched), 3)
        self.assertEqual(self.placed(), {"a": [], "b": ["i-00000001", "i-00000002"], "c": ["i-00000003"]})

    def test_hung_node_times_out(self):
        """
        An instance whose node does not answer within the per-node timeout
        goes to the next node.
        """
        self.nodes["a"].mode = "hang"
        d = self.launch(self.launcher(), run_request(1))
        self.clock.advance(4.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        (launched,) = self.successResultOf(d)
        self.assertEqual((launched.instanceId, launched.serviceTag), ("i-00000001", "http://b:8775/nc"))

    def test_retry_window(self):
        """
        Past the retry window an instance is not placed again: with every
        node hanging, one node after another times out until the window is
        over, then the request fails.
        """
        self.records.append(NodeRecord("d", "http://d:8775/nc"))
        self.records[-1].answered("enabled", FIGURES, 0)
        self.nodes["d"] = LaunchingNode("d")
        for node in self.nodes.values():
            node.mode = "hang"
        d = self.launch(self.launcher(), run_request(1))
        self.clock.pump([5, 5, 5])
        failure = self.failureResultOf(d, InsufficientInstanceCapacity)
        self.assertIn("no answer within 5 s", failure.value.message)
        self.assertEqual([node.calls.count("ncRunInstance") for node in self.nodes.values()], [1, 1, 1, 0])

    def test_refusal_not_retried(self):
        """
        A node saying the request itself is invalid is believed: no other
        node is asked, and the reason is given.
        """
        self.nodes["a"].mode = "refuse"
        failure = self.failureResultOf(self.launch(self.launcher(), run_request(1)), InsufficientInstanceCapacity)
        self.assertIn("Invalid MAC address", failure.value.message)
        self.assertEqual(self.nodes["b"].calls, [])

    def test_second_copy_terminated(self):
        """
        A node that timed out but started the instance anyway has a second
        copy: the next poll finds it and terminates it there, and the cache
        keeps the instance where RunInstances put it.
        """
        slow = self.nodes["a"]
        slow.mode = "hang"
        d = self.launch(self.launcher(), run_request(1))
        self.clock.advance(5)
        self.successResultOf(d)
        slow.mode = "ok"
        slow.instances.append(instance("i-00000001"))
        poller = NodePoller(self.records, self.cache, lambda record: self.nodes[record.host], reactor=self.clock)
        self.successResultOf(poller.poll_once())
        self.assertEqual(slow.terminated, ["i-00000001"])
        self.assertEqual(self.cache.get("i-00000001").host, "b")


class CountTests(LauncherTestCase):
    """
    minCount and maxCount.
    """

    def test_up_to_max(self):
        """
        With room for fewer than maxCount but at least minCount, as many as
        fit start.
        """
        launched = self.successResultOf(self.launch(self.launcher(), run_request(12, min_count=2)))
        self.assertEqual(len(launched), 9)

    def test_below_min_nothing_starts(self):
        """
        Fewer than minCount fit: nothing is started and the error says how
        many could be placed.
        """
        failure = self.failureResultOf(self.launch(self.launcher(), run_request(10)), InsufficientInstanceCapacity)
        self.assertIn("placed 9 of at least 10", failure.value.message)
        self.assertEqual(self.placed(), {"a": [], "b": [], "c": []})

    def test_below_min_after_failures_undone(self):
        """
        When failures leave fewer than minCount started, the started ones
        are terminated: all or nothing.
        """
        self.nodes["b"].mode = "fail"
        self.nodes["c"].mode = "fail"
        failure = self.failureResultOf(self.launch(self.launcher(), run_request(4)), InsufficientInstanceCapacity)
        self.assertIn("Only 3 of at least 4", failure.value.message)
        self.assertEqual(sorted(self.nodes["a"].terminated), sorted(self.nodes["a"].started))
        self.assertEqual(len(self.nodes["a"].started), 3)

    def test_cluster_limit(self):
        """
        MAX_INSTANCES_PER_CC bounds a request: maxCount is cut to what the
        limit leaves, and a minCount beyond it is refused.
        """
        launcher = self.launcher()
        launcher.max_instances = 5
        self.cache.place("c", instance("i-0000dead", state="Teardown"), 0)
        self.successResultOf(self.launch(launcher, run_request(2)))
        launched = self.successResultOf(self.launch(launcher, run_request(4, min_count=1, prefix="i-1000000")))
        self.assertEqual(len(launched), 3)
        failure = self.failureResultOf(self.launch(launcher, run_request(1, prefix="i-2000000")),
                                       InsufficientInstanceCapacity)
        self.assertIn("at most 5 instances", failure.value.message)

    def test_bad_counts(self):
        """
        Counts that make no sense, too few ids or repeated ids are refused.
        """
        for request in (
            run_request(2, min_count=3), run_request(0),
            cc_types.RunInstancesType(instanceType=SMALL, maxCount=2, minCount=1, instanceIds=["i-00000001"]),
            cc_types.RunInstancesType(instanceType=SMALL, maxCount=2, minCount=1, instanceIds=["i-00000001"] * 2),
        ):
            self.failureResultOf(self.launch(self.launcher(), request), InvalidParameterValue)
        self.assertEqual(self.placed(), {"a": [], "b": [], "c": []})


class PowersaveTests(LauncherTestCase):
    """
    POWERSAVE wakes a sleeping node when the awake ones are full.
    """

    def test_wakes_sleeping_node(self):
        """
        The instance that does not fit on awake nodes waits for the sleeping
        node to be woken, then starts there.
        """
        self.records[0].disable("maintenance")
        self.records[1].state = ASLEEP
        woken = []

        def waker(record):
            woken.append(record.host)
            record.state = DOWN
            return task.deferLater(self.clock, 30, lambda: setattr(record, "state", ENABLED))

        d = self.launch(self.launcher(POWERSAVE, waker), run_request(4))
        self.assertNoResult(d)
        self.clock.advance(30)
        launched = self.successResultOf(d)
        self.assertEqual(woken, ["b"])
        self.assertEqual(self.placed(), {"a": [], "b": ["i-00000004"], "c": ["i-00000001", "i-00000002", "i-00000003"]})
        self.assertEqual(len(launched), 4)


class RequestTests(SynchronousTestCase):
    """
    The ncRunInstance request built for each instance.
    """

    def test_fields(self):
        """
        Each instance gets its own id, MAC (given or derived from the id),
        launch index and the request's images, type and groups.
        """
        request = run_request(2, macAddresses=["d0:0d:aa:bb:cc:dd"], netNames=["default"], launchIndex="0", vlan=10)
        first, second = nc_request(request, 0, "d0:0d"), nc_request(request, 1, "d0:0d")
        self.assertEqual((first.instanceId, first.netParams.privateMacAddress, first.launchIndex),
                         ("i-00000001", "d0:0d:aa:bb:cc:dd", "0"))
        self.assertEqual((second.instanceId, second.netParams.privateMacAddress, second.launchIndex),
                         ("i-00000002", "d0:0d:00:00:00:02", "1"))
        self.assertEqual((second.imageURL, second.kernelURL, second.instanceType.name, second.groupNames, second.uuid),
                         ("http://w/emi", "http://w/eki", "m1.small", ["default"], "i-00000002"))
        self.assertEqual(second.netParams.vlan, 10)

    def test_shape(self):
        """
        The instance type must give positive cores, memory and disk.
        """
        self.assertEqual((shape_of(SMALL).cores, shape_of(SMALL).memory, shape_of(SMALL).disk), (1, 256, 5))
        for vm in (None, common.VirtualMachineType(name="x", cores=1, memory=0, disk=1)):
            self.assertRaises(InvalidParameterValue, shape_of, vm)
