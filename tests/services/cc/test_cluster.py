"""
The end-to-end tier of the Cluster Controller: real C{euca-walrus},
C{euca-cc} and three C{euca-nc} daemons on libvirt's test driver, each NC
on its own port, and signed SOAP calls as the CLC makes them.  Instances
are placed by each policy; a node is killed, hung and restarted; the CC is
restarted; nodes are registered and deregistered with C{euca-admin}.
"""

import os
import signal
import subprocess
import sys

from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from eucalyptus.errors import SecurityError
from eucalyptus.security.keys import KeyStore
from eucalyptus.soap.client import SoapClient
from eucalyptus.wsdl import SERVICE_NAMES, cc_types, common, make_application
from tests.daemons import PROJECT, free_ports
from tests.services.cc.zone import Zone

ADMIN = [os.path.join(os.path.dirname(sys.executable), "euca-admin")]
SMALL = common.VirtualMachineType(name="m1.small", memory=256, cores=1, disk=1)


def ids(first, count):
    return [f"i-{n:08x}" for n in range(first, first + count)]


class ZoneTestCase(TestCase):
    """
    A started zone of three nodes.
    """

    timeout = 180
    extra = ""

    @defer.inlineCallbacks
    def setUp(self):
        self.zone = Zone(self, 3, self.extra)
        yield self.zone.start()

    def run_instances(self, instance_ids, min_count=None):
        return self.zone.client.call("RunInstances", self.zone.run_request(instance_ids, min_count))

    def admin(self, *args):
        """
        Run C{euca-admin} on the zone's configuration, as an administrator.

        @return: its exit status and output.
        """
        done = subprocess.run(
            ADMIN + ["--config", self.zone.daemons.conf, "--data-dir", self.zone.daemons.data, *args],
            capture_output=True, text=True, cwd=PROJECT, env=dict(os.environ, PYTHONPATH=PROJECT),
        )
        return done.returncode, done.stdout + done.stderr

    def spread(self, described):
        urls = [self.zone.node_url(entry) for entry in self.zone.nodes]
        return [sum(1 for url in described.values() if url == node) for node in urls]


class RoundRobinTests(ZoneTestCase):
    """
    The default policy, and what the CLC does with instances afterwards.
    """

    @defer.inlineCallbacks
    def test_spread_and_lifecycle(self):
        """
        Six instances go two to each node in turn; they are described at once
        and after polls; resources count them; console output, reboot and
        termination reach their node.
        """
        answer = yield self.run_instances(ids(1, 6))
        self.assertEqual([i.instanceId for i in answer.instances], ids(1, 6))
        urls = [self.zone.node_url(entry) for entry in self.zone.nodes]
        self.assertEqual([i.serviceTag for i in answer.instances], urls + urls)
        described = yield self.zone.describe()
        self.assertEqual(self.spread(described), [2, 2, 2])
        yield self.zone.until("the nodes to report running instances", self._all_running)
        resources = yield self.zone.call("DescribeResources", cc_types.DescribeResourcesType, instanceTypes=[SMALL])
        (small,) = resources.resources
        self.assertEqual((small.maxInstances, small.availableInstances), (12, 6))
        console = yield self.zone.call("GetConsoleOutput", cc_types.GetConsoleOutputType, instanceId=ids(1, 1)[0])
        self.assertTrue(console.consoleOutput)
        yield self.zone.call("RebootInstances", cc_types.RebootInstancesType, instanceIds=ids(1, 2))
        done = yield self.zone.call(
            "TerminateInstances", cc_types.TerminateInstancesType, instanceIds=ids(1, 6) + ["i-0fffffff"]
        )
        self.assertEqual(done.isTerminated, [True] * 6 + [False])

    @defer.inlineCallbacks
    def _all_running(self):
        answer = yield self.zone.call("DescribeInstances", cc_types.DescribeInstancesType, instanceIds=[])
        states = {i.stateName for i in answer.instances or []}
        return states == {"Extant"}

    @defer.inlineCallbacks
    def test_unknown_instance(self):
        """
        An operation on an instance no node runs says so with the EC2 code.
        """
        error = yield self.assertFailure(
            self.zone.call("GetConsoleOutput", cc_types.GetConsoleOutputType, instanceId="i-0badf00d"), Exception
        )
        self.assertEqual(error.code, "InvalidInstanceID.NotFound")

    @defer.inlineCallbacks
    def test_only_the_cloud_may_call(self):
        """
        A call signed with the zone's node key instead of the cloud's is
        refused; the CC still answers the CLC afterwards.
        """
        keystore = KeyStore(os.path.join(self.zone.daemons.data, "keys"))
        impostor = SoapClient(
            self.zone.cc_url, make_application("cc"), SERVICE_NAMES["cc"],
            credential=keystore.credential("node", self.zone.settings["ZONE"]), reactor=reactor,
        )
        self.addCleanup(impostor.close)
        request = self.zone.run_request(ids(1, 1))
        yield self.assertFailure(impostor.call("RunInstances", request), SecurityError)
        self.assertEqual((yield self.zone.describe()), {})

    @defer.inlineCallbacks
    def test_capacity(self):
        """
        More than fit with minCount above what fits: nothing starts and the
        error says why; up to maxCount with a lower minCount: as many as fit.
        """
        error = yield self.assertFailure(self.run_instances(ids(1, 13)), Exception)
        self.assertEqual(error.code, "InsufficientInstanceCapacity")
        self.assertEqual((yield self.zone.describe()), {})
        answer = yield self.run_instances(ids(1, 13), min_count=1)
        self.assertEqual(len(answer.instances), 12)


class GreedyTests(ZoneTestCase):
    """
    SCHEDPOLICY=GREEDY.
    """

    extra = 'SCHEDPOLICY="GREEDY"\n'

    @defer.inlineCallbacks
    def test_packs_first_node(self):
        """
        Greedy fills the first node (four fit) before the second.
        """
        yield self.run_instances(ids(1, 5))
        self.assertEqual(self.spread((yield self.zone.describe())), [4, 1, 0])


class FaultTests(ZoneTestCase):
    """
    Nodes that die, hang or come back; a CC that restarts.
    """

    @defer.inlineCallbacks
    def test_node_killed_and_restarted(self):
        """
        A killed node is marked down and gets no instances; restarted, it
        comes back on its own and takes instances again.
        """
        victim = self.zone.nodes[1]
        self.zone.processes[victim].kill()
        self.zone.processes[victim].wait()
        yield self.zone.until_node(victim, "down")
        answer = yield self.run_instances(ids(1, 4))
        self.assertEqual(len(answer.instances), 4)
        self.assertEqual(self.spread((yield self.zone.describe())), [2, 0, 2])
        self.zone.start_node(victim)
        yield self.zone.until_node(victim, "enabled")
        yield self.run_instances(ids(5, 3))
        self.assertEqual(self.spread((yield self.zone.describe())), [3, 1, 3])

    @defer.inlineCallbacks
    def test_node_dies_during_run(self):
        """
        A node that stopped answering since the last poll fails its
        ncRunInstance; its instances go to the other nodes, none is lost.
        """
        victim = self.zone.nodes[0]
        self.zone.processes[victim].kill()
        self.zone.processes[victim].wait()
        answer = yield self.run_instances(ids(1, 3))
        self.assertEqual(sorted(i.instanceId for i in answer.instances), ids(1, 3))
        self.assertNotIn(self.zone.node_url(victim), {i.serviceTag for i in answer.instances})

    @defer.inlineCallbacks
    def test_hung_node(self):
        """
        A node that hangs (SIGSTOP) is marked down within the per-node
        timeout while the CC keeps answering from its cache; it gets no
        instances; resumed, it comes back.
        """
        hung = self.zone.nodes[2]
        self.zone.signal(hung, signal.SIGSTOP)
        yield self.zone.until_node(hung, "down", seconds=15)
        answer = yield self.run_instances(ids(1, 2))
        self.assertNotIn(self.zone.node_url(hung), {i.serviceTag for i in answer.instances})
        self.zone.signal(hung, signal.SIGCONT)
        yield self.zone.until_node(hung, "enabled", seconds=15)

    @defer.inlineCallbacks
    def test_cc_restart_rebuilds(self):
        """
        A restarted CC answers only DescribeServices until it has polled its
        nodes, then describes the same instances on the same nodes.
        """
        yield self.run_instances(ids(1, 5))
        before = yield self.zone.describe()
        yield self.zone.daemons.stop(self.zone.cc)
        yield self.zone.start_cc()
        after = yield self.zone.describe()
        self.assertEqual(after, before)


class RegistrationTests(ZoneTestCase):
    """
    C{euca-admin register-node}, C{deregister-node}, C{modify-node} and
    C{nodes} against the running zone.
    """

    @defer.inlineCallbacks
    def test_register_new_node(self):
        """
        A node with its own data directory gets its keys placed by
        register-node, starts with them, and the running CC picks it up.
        """
        entry = f"127.0.0.1:{free_ports(1)[0]}"
        data = os.path.abspath(self.mktemp())
        status, output = self.admin("register-node", entry, "--keys-to", os.path.join(data, "keys"))
        self.assertEqual(status, 0, output)
        self.assertIn(f"registered node {entry}", output)
        self.zone.start_node(entry, data=data)
        yield self.zone.until_node(entry, "enabled")
        status, output = self.admin("nodes")
        self.assertIn(f"node {entry} enabled", output)

    @defer.inlineCallbacks
    def test_deregister_with_instances(self):
        """
        A node with instances is only deregistered with --force; then the
        CC forgets its instances and places nothing there.
        """
        yield self.run_instances(ids(1, 3))
        leaving = self.zone.nodes[0]
        status, output = self.admin("deregister-node", leaving)
        self.assertEqual(status, 2)
        self.assertIn("still runs i-00000001", output)
        status, output = self.admin("deregister-node", leaving, "--force")
        self.assertEqual(status, 0, output)
        yield self.zone.until("the CC to drop the node", lambda: self.zone.node_details().addCallback(
            lambda states: leaving not in states))
        described = yield self.zone.describe()
        self.assertEqual(sorted(described), ids(2, 2))
        answer = yield self.run_instances(ids(10, 4))
        self.assertNotIn(self.zone.node_url(leaving), {i.serviceTag for i in answer.instances})

    @defer.inlineCallbacks
    def test_maintenance(self):
        """
        A node disabled for maintenance keeps its instances, gets no new
        ones, and is enabled again.
        """
        node = self.zone.nodes[0]
        yield self.run_instances(ids(1, 1))
        status, output = self.admin("modify-node", node, "--state", "disabled")
        self.assertEqual(status, 0, output)
        yield self.zone.until_node(node, "disabled")
        answer = yield self.run_instances(ids(2, 3))
        self.assertNotIn(self.zone.node_url(node), {i.serviceTag for i in answer.instances})
        self.assertIn("i-00000001", (yield self.zone.describe()))
        status, output = self.admin("modify-node", node, "--state", "enabled")
        self.assertEqual(status, 0, output)
        yield self.zone.until_node(node, "enabled")
