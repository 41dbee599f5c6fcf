"""
The CC's poll of its nodes: fake nodes on a fake clock, then two real NCs
over signed SOAP.
"""

import inspect
import io
import os

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import SynchronousTestCase, TestCase

from eucalyptus import admin
from eucalyptus.config import config_from_string
from eucalyptus.errors import ServiceUnavailable
from eucalyptus.security import keys
from eucalyptus.services.cc.nodes import ASLEEP, DISABLED, DOWN, ENABLED, InstanceCache, NodeRecord
from eucalyptus.services.cc.poller import NodePoller
from eucalyptus.services.nc.service import make_service
from eucalyptus.soap.client import SoapClient
from eucalyptus.wsdl import nc_types
from tests.daemons import free_ports
from tests.services.cc.test_nodes import instance, resource_answer


class FakeNodeClient:
    """
    A node's SOAP client that answers from what the test sets.

    @ivar status: the C{nodeStatus} it reports.
    @ivar instances: the instances it reports.
    @ivar error: when set, every call fails with it.
    @ivar manual: when set, calls wait in C{pending} for the test.
    @ivar in_flight: a shared list of the calls under way (all fakes).
    """

    def __init__(self, in_flight, status="enabled", instances=()):
        self.in_flight = in_flight
        self.status = status
        self.instances = list(instances)
        self.error = None
        self.manual = False
        self.pending = []
        self.calls = []
        self.closed = False

    def call(self, operation, request):
        self.calls.append(operation)
        if self.error is not None:
            return defer.fail(self.error)
        if operation == "ncDescribeResource":
            response = resource_answer(self.status)
        else:
            response = nc_types.NcDescribeInstancesResponseType(instances=list(self.instances))
        if not self.manual:
            return defer.succeed(response)
        d = defer.Deferred(lambda d: self.in_flight.remove(d))
        self.in_flight.append(d)
        self.pending.append((d, response))
        return d

    def answer(self):
        """
        Answer the oldest waiting call.
        """
        d, response = self.pending.pop(0)
        self.in_flight.remove(d)
        d.callback(response)

    def close(self):
        self.closed = True
        return defer.succeed(None)


class PollerTestCase(SynchronousTestCase):
    """
    Nodes C{a}, C{b} and C{c} on fake clients and a fake clock.
    """

    hosts = ("a", "b", "c")

    def setUp(self):
        self.clock = task.Clock()
        self.in_flight = []
        self.clients = {host: FakeNodeClient(self.in_flight, instances=[instance(f"i-{host}")]) for host in self.hosts}
        self.records = [NodeRecord(host, f"http://{host}:8775/nc") for host in self.hosts]
        self.cache = InstanceCache()
        self.poller = self.make_poller(self.records, self.cache)

    def make_poller(self, records, cache, concurrency=8):
        return NodePoller(
            records, cache, lambda record: self.clients[record.host], interval=6, per_node_timeout=5,
            concurrency=concurrency, instance_timeout=300, reactor=self.clock,
        )

    def states(self):
        return {record.host: record.state for record in self.records}


class FakeNodeClientTests(SynchronousTestCase):
    """
    The fake is shaped like the real client.
    """

    def test_signatures(self):
        """
        C{call} and C{close} take what L{SoapClient}'s take.
        """
        for name in ("call", "close"):
            self.assertEqual(inspect.signature(getattr(FakeNodeClient, name)), inspect.signature(getattr(SoapClient, name)))


class PassTests(PollerTestCase):
    """
    One pass over every node.
    """

    def test_answers_applied(self):
        """
        Every node that answers is enabled with its figures, and its
        instances are cached on it; each node was asked for resources, then
        instances.
        """
        self.clock.advance(100)
        self.successResultOf(self.poller.poll_once())
        self.assertEqual(self.states(), {"a": ENABLED, "b": ENABLED, "c": ENABLED})
        self.assertEqual(self.records[0].resources.memory_available, 1024)
        self.assertEqual(self.records[0].last_seen, 100)
        self.assertEqual([(e.instance.instanceId, e.host) for e in self.cache.describe()],
                         [("i-a", "a"), ("i-b", "b"), ("i-c", "c")])
        self.assertEqual(self.clients["a"].calls, ["ncDescribeResource", "ncDescribeInstances"])
        self.assertEqual(self.poller.passes, 1)

    def test_concurrency_bound(self):
        """
        At most C{concurrency} nodes are polled at once; as one finishes the
        next starts, and the pass ends when all have answered.
        """
        self.poller = self.make_poller(self.records, self.cache, concurrency=2)
        for client in self.clients.values():
            client.manual = True
        done = self.poller.poll_once()
        self.assertEqual((len(self.in_flight), self.clients["c"].calls), (2, []))
        self.clients["a"].answer()
        self.assertEqual(len(self.in_flight), 2)
        self.clients["a"].answer()
        self.assertEqual(self.states()["a"], ENABLED)
        self.assertEqual(self.clients["c"].calls, ["ncDescribeResource"])
        self.assertNoResult(done)
        while self.in_flight:
            next(client for client in self.clients.values() if client.pending).answer()
        self.successResultOf(done)
        self.assertEqual(set(self.states().values()), {ENABLED})

    def test_hanging_node(self):
        """
        A node that does not answer is down after the per-node timeout; the
        others' answers are applied as they arrive, before it times out.
        """
        self.clients["b"].manual = True
        done = self.poller.poll_once()
        self.assertEqual(self.states(), {"a": ENABLED, "b": DOWN, "c": ENABLED})
        self.assertEqual(len(self.cache), 2)
        self.assertNoResult(done)
        self.clock.advance(5)
        self.successResultOf(done)
        self.assertEqual(self.in_flight, [])
        self.assertEqual((self.records[1].reason, self.records[1].failures), ("never answered: no answer within 5 s", 1))

    def test_failure_and_recovery(self):
        """
        A node that fails is down with the reason and for how long it has
        been silent, and is enabled again at its next good answer.
        """
        self.successResultOf(self.poller.poll_once())
        self.clients["c"].error = ServiceUnavailable("http://c:8775/nc is unreachable: connection refused")
        self.clock.advance(6)
        self.successResultOf(self.poller.poll_once())
        self.clock.advance(6)
        self.successResultOf(self.poller.poll_once())
        record = self.records[2]
        self.assertEqual((record.state, record.failures), (DOWN, 2))
        self.assertEqual(record.reason, "no answer for 12 s: http://c:8775/nc is unreachable: connection refused")
        self.assertEqual(self.states()["a"], ENABLED)
        self.clients["c"].error = None
        self.clock.advance(6)
        self.successResultOf(self.poller.poll_once())
        self.assertEqual((record.state, record.failures, record.last_seen), (ENABLED, 0, 18))

    def test_bad_answer(self):
        """
        A node whose answer lacks its figures is down, saying so.
        """
        self.clients["a"].call = lambda operation, request: defer.succeed(resource_answer(numberOfCoresMax=None))
        self.successResultOf(self.poller.poll_once())
        self.assertEqual(self.records[0].state, DOWN)
        self.assertIn("numberOfCoresMax", self.records[0].reason)

    def test_disabled(self):
        """
        A node that reports itself disabled is disabled, its instances still
        cached.
        """
        self.clients["b"].status = "disabled"
        self.successResultOf(self.poller.poll_once())
        self.assertEqual(self.states(), {"a": ENABLED, "b": DISABLED, "c": ENABLED})
        self.assertIn("i-b", self.cache)

    def test_asleep_not_polled(self):
        """
        A node asleep (POWERSAVE) is not asked and stays asleep.
        """
        self.records[0].state = ASLEEP
        self.successResultOf(self.poller.poll_once())
        self.assertEqual((self.clients["a"].calls, self.states()["a"]), ([], ASLEEP))

    def test_pass_under_way(self):
        """
        Asking for a pass during one waits for that one rather than
        starting another.
        """
        self.clients["a"].manual = True
        first, second = self.poller.poll_once(), self.poller.poll_once()
        self.assertEqual(self.clients["b"].calls, ["ncDescribeResource", "ncDescribeInstances"])
        self.clients["a"].answer()
        self.clients["a"].answer()
        self.successResultOf(first)
        self.successResultOf(second)
        self.assertEqual(self.poller.passes, 1)


class InstanceTimeoutTests(PollerTestCase):
    """
    Instances no node reports for C{INSTANCE_TIMEOUT} are dropped.
    """

    def test_dropped(self):
        """
        An instance its node stops reporting, and those of a node that is
        down, stay cached until the timeout, then are dropped.
        """
        self.successResultOf(self.poller.poll_once())
        self.clients["a"].instances = []
        self.clients["b"].error = ServiceUnavailable("unreachable")
        self.clock.advance(300)
        self.successResultOf(self.poller.poll_once())
        self.assertEqual([e.instance.instanceId for e in self.cache.describe()], ["i-a", "i-b", "i-c"])
        self.clock.advance(6)
        self.successResultOf(self.poller.poll_once())
        self.assertEqual([e.instance.instanceId for e in self.cache.describe()], ["i-c"])

    def test_restart_rebuilds(self):
        """
        A CC restarted with fresh records and an empty cache knows every
        node and instance again after one pass.
        """
        self.clients["c"].status = "disabled"
        self.successResultOf(self.poller.poll_once())
        before = [(e.host, e.instance.instanceId) for e in self.cache.describe()]
        self.records = [NodeRecord(host, f"http://{host}:8775/nc") for host in self.hosts]
        self.cache = InstanceCache()
        self.successResultOf(self.make_poller(self.records, self.cache).poll_once())
        self.assertEqual([(e.host, e.instance.instanceId) for e in self.cache.describe()], before)
        self.assertEqual(self.states(), {"a": ENABLED, "b": ENABLED, "c": DISABLED})


class ServiceTests(PollerTestCase):
    """
    The poller as a child service.
    """

    def test_timer(self):
        """
        Starting polls at once and then every interval; stopping stops the
        polls and closes the clients.
        """
        self.poller.startService()
        self.assertEqual(self.poller.passes, 1)
        self.clock.advance(6)
        self.assertEqual(self.poller.passes, 2)
        self.successResultOf(self.poller.stopService())
        self.clock.advance(60)
        self.assertEqual(self.poller.passes, 2)
        self.assertTrue(all(client.closed for client in self.clients.values()))

    def test_stop_waits_for_pass(self):
        """
        Stopping during a pass waits for it (bounded by the timeout).
        """
        self.clients["a"].manual = True
        self.poller.startService()
        stopped = self.poller.stopService()
        self.assertNoResult(stopped)
        self.clock.advance(5)
        self.successResultOf(stopped)
        self.assertEqual(self.records[0].state, DOWN)


class RealNodesTests(TestCase):
    """
    Two real NCs on the test driver, polled over signed SOAP.
    """

    timeout = 120

    def start_node(self, settings):
        service = make_service(settings, keystore=keys.KeyStore(os.path.join(settings.data_dir, "keys")))
        service.startService()
        self.addCleanup(lambda: service.stopService() if service.running else None)
        return service

    @defer.inlineCallbacks
    def test_two_nodes(self):
        """
        Both nodes are enabled with their figures after a pass; once one is
        stopped, the next pass finds it down and the other still enabled.
        """
        data = os.path.abspath(self.mktemp())
        os.makedirs(data)
        ports = free_ports(2)
        settings = []
        for port in ports:
            path = os.path.join(data, f"instances-{port}")
            os.makedirs(path)
            settings.append(config_from_string(
                f'HYPERVISOR="test"\nNC_PORT="{port}"\nLISTEN_ADDRESS="127.0.0.1"\nVNET_BRIDGE=""\n'
                f'INSTANCE_PATH="{path}"\n', data,
            ))
        admin.initialise(settings[0], out=io.StringIO())
        services = [self.start_node(s) for s in settings]
        yield defer.gatherResults([service.ready for service in services])
        records = [
            NodeRecord(f"127.0.0.1:{port}", f"http://127.0.0.1:{port}/{s['NC_SERVICE']}") for port, s in zip(ports, settings)
        ]
        poller = NodePoller(
            records, InstanceCache(), lambda record: admin.component_client(settings[0], "nc", record.url, reactor, 10),
            per_node_timeout=10, concurrency=2, reactor=reactor,
        )
        self.addCleanup(poller.close_clients)
        yield poller.poll_once()
        self.assertEqual([record.state for record in records], [ENABLED, ENABLED], [r.reason for r in records])
        self.assertEqual(records[0].resources.hypervisor, "TEST")
        yield services[1].stopService()
        # A stopped daemon's connections die with its process; a service
        # stopped in-process keeps serving the connections already open.
        yield poller.close_clients()
        yield poller.poll_once()
        self.assertEqual([record.state for record in records], [ENABLED, DOWN])
        self.assertIn("unreachable", records[1].reason)
