"""
How the CLC follows its clusters: EC2 states from what the nodes report,
reconciling the database with a cluster's DescribeInstances, and the poll
of a cluster that is down, starting or answering.
"""

import os
from datetime import datetime, timedelta, timezone

from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import ServiceUnavailable
from eucalyptus.services.clc import instances as store
from eucalyptus.services.clc.cloud import Cloud
from eucalyptus.services.clc.clusters import Cluster, ClusterPoller, Resources, reconcile
from eucalyptus.services.clc.db import open_cloud_database
from eucalyptus.wsdl import cc_types, common

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def reported(instance_id, state="Extant", power="poweredOn", node="http://n1/nc", ip=None):
    """
    An instance as a CC describes it.
    """
    return cc_types.CcInstanceType(
        instanceId=instance_id, stateName=state, guestStateName=power, serviceTag=node,
        netParams=common.NetConfigType(privateIp=ip or "0.0.0.0", publicIp="0.0.0.0"),
    )


class ReportedStateTests(SynchronousTestCase):
    """
    L{store.reported_state}.
    """

    def test_table(self):
        """
        Each database state and report gives the EC2 state EC2 users expect.
        """
        cases = [
            (store.PENDING, "Pending", True, store.PENDING),
            (store.PENDING, "Extant", True, store.RUNNING),
            (store.RUNNING, "Extant", True, store.RUNNING),
            (store.RUNNING, "Teardown", False, store.TERMINATED),
            (store.SHUTTING_DOWN, "Extant", True, store.SHUTTING_DOWN),
            (store.SHUTTING_DOWN, "Teardown", False, store.TERMINATED),
            (store.STOPPING, "Extant", True, store.STOPPING),
            (store.STOPPING, "Extant", False, store.STOPPED),
            (store.STOPPED, "Extant", False, store.STOPPED),
            (store.PENDING, "Extant", False, store.PENDING),
            (store.RUNNING, "Extant", False, store.STOPPED),
            (store.STOPPED, "Extant", True, store.RUNNING),
            (store.STOPPED, "Pending", False, store.STOPPED),
            (store.TERMINATED, "Extant", True, store.TERMINATED),
        ]
        for current, state, on, expected in cases:
            self.assertEqual(store.reported_state(current, state, on), expected, (current, state, on))


class DatabaseTestCase(SynchronousTestCase):
    """
    A cloud database with a reservation of three instances in zone C{east}.
    """

    def setUp(self):
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        self.db = open_cloud_database(f"sqlite:///{path}/cloud.sqlite")
        with self.db.begin() as conn:
            conn.execute(store.reservations.insert().values(
                reservation_id="r-00000001", account_id="000000000001", requester="AIDA1", created=T0
            ))
            for n, state in enumerate((store.PENDING, store.RUNNING, store.SHUTTING_DOWN), 1):
                conn.execute(store.instances.insert().values(
                    instance_id=f"i-0000000{n}", reservation_id="r-00000001", account_id="000000000001",
                    image_id="emi-1", instance_type="m1.small", zone="east", launch_index=n - 1, state=state,
                    reason="", launched=T0, changed=T0,
                ))

    def states(self):
        with self.db.connect() as conn:
            return {row.instance_id: (row.state, row.reason) for row in store.rows(conn)}

    def reconcile(self, instances, now):
        with self.db.begin() as conn:
            return reconcile(conn, "east", instances, now)


class ReconcileTests(DatabaseTestCase):
    """
    L{reconcile}.
    """

    def test_reported_states(self):
        """
        Reported instances take the state, node and address the cluster
        gives.
        """
        again = self.reconcile(
            [reported("i-00000001", ip="10.0.0.7"), reported("i-00000002"), reported("i-00000003", "Teardown")], T0
        )
        self.assertEqual(again, {"terminate": [], "stop": []})
        self.assertEqual({k: v[0] for k, v in self.states().items()},
                         {"i-00000001": "running", "i-00000002": "running", "i-00000003": "terminated"})
        with self.db.connect() as conn:
            (row,) = store.rows(conn, ids=["i-00000001"])
        self.assertEqual((row.private_ip, row.node), ("10.0.0.7", "http://n1/nc"))

    def test_asks_again(self):
        """
        An instance being terminated that the cluster still runs is named to
        be terminated again.
        """
        again = self.reconcile([reported("i-00000001"), reported("i-00000002"), reported("i-00000003")], T0)
        self.assertEqual(again["terminate"], ["i-00000003"])

    def test_lost(self):
        """
        An instance the cluster stops reporting is terminated after
        LOST_AFTER, saying why; one being terminated is terminated at once.
        """
        self.reconcile([], T0)
        states = self.states()
        self.assertEqual(states["i-00000002"][0], "running")
        self.assertEqual(states["i-00000003"][0], "terminated")
        self.reconcile([], T0 + timedelta(seconds=store.LOST_AFTER - 1))
        self.assertEqual(self.states()["i-00000002"][0], "running")
        self.reconcile([], T0 + timedelta(seconds=store.LOST_AFTER))
        state, reason = self.states()["i-00000002"]
        self.assertEqual(state, "terminated")
        self.assertIn("stopped reporting", reason)

    def test_reported_again_resets(self):
        """
        Missing once then reported again: not lost.
        """
        self.reconcile([], T0)
        self.reconcile([reported("i-00000002")], T0 + timedelta(seconds=10))
        self.reconcile([], T0 + timedelta(seconds=store.LOST_AFTER + 5))
        self.assertEqual(self.states()["i-00000002"][0], "running")

    def test_forget_terminated(self):
        """
        Terminated instances are forgotten after the hour, with their empty
        reservation.
        """
        self.reconcile([], T0)
        with self.db.begin() as conn:
            store.set_state(conn, ["i-00000001", "i-00000002"], store.TERMINATED, "", T0)
            self.assertEqual(store.forget_terminated(conn, T0 + timedelta(seconds=1)), 3)
            self.assertEqual(store.rows(conn), [])
            self.assertEqual(conn.execute(store.reservations.select()).all(), [])


class FakeCluster:
    """
    A CC client answering from what the test sets.
    """

    def __init__(self):
        self.error = None
        self.instances = []
        self.calls = []

    def call(self, operation, request):
        self.calls.append((operation, request))
        if self.error is not None:
            return defer.fail(self.error)
        if operation == "DescribeResources":
            resources = [cc_types.CcResourceType(instanceType=vm, availableInstances=3, maxInstances=8)
                         for vm in request.instanceTypes]
            return defer.succeed(cc_types.DescribeResourcesResponseType(resources=resources, serviceTags=["n1"]))
        if operation == "DescribeInstances":
            return defer.succeed(cc_types.DescribeInstancesResponseType(instances=list(self.instances)))
        return defer.succeed(None)


class PollerTests(DatabaseTestCase):
    """
    L{ClusterPoller} over a fake CC.
    """

    def setUp(self):
        DatabaseTestCase.setUp(self)
        self.client = FakeCluster()
        self.cluster = Cluster("east", self.client)
        cloud = Cloud(None, None, self.db, None, None, clusters={"east": self.cluster})
        self.poller = ClusterPoller(cloud, run_in_thread=lambda f, *a: defer.maybeDeferred(f, *a))

    def test_answering(self):
        """
        A cluster that answers is enabled with its resources per type, and
        the instances follow its report; ones to terminate are asked again.
        """
        self.client.instances = [reported("i-00000001"), reported("i-00000002"), reported("i-00000003")]
        self.successResultOf(self.poller.poll_once())
        self.assertEqual(self.cluster.state, "ENABLED")
        self.assertEqual(self.cluster.resources["m1.small"], Resources(3, 8))
        self.assertEqual(self.states()["i-00000001"][0], "running")
        terminate = [request for operation, request in self.client.calls if operation == "TerminateInstances"]
        self.assertEqual([r.instanceIds for r in terminate], [["i-00000003"]])

    def test_starting_cluster_says_nothing(self):
        """
        A CC that is starting (or down) is marked so and its silence does
        not make instances lost.
        """
        self.client.error = ServiceUnavailable("The cc is starting; try again in a few seconds.")
        for _ in range(3):
            self.successResultOf(self.poller.poll_once())
        self.assertEqual(self.cluster.state, "NOTREADY")
        self.assertEqual(self.states()["i-00000002"][0], "running")
