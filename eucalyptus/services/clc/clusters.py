# -*- test-case-name: tests.services.clc.test_clusters -*-
"""
The Cloud Controller's clusters: one CC per availability zone, called with
SOAP signed by the cloud key, answering with the zone's cluster key.

Every C{CLC_POLLING_FREQUENCY} seconds the L{ClusterPoller} asks each CC
for its resources (per VM type) and its instances, and brings the database
in line (L{reconcile}): reported states become EC2 states; instances a
user asked to stop or terminate that the cluster still runs are asked
again (the first request may have been lost with a CC that was down); an
instance the cluster stopped reporting for L{instances.LOST_AFTER} seconds
is terminated, saying so.  A CC that is starting (C{NOTREADY}) or down is
left alone: its silence says nothing about instances.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from twisted.application.internet import TimerService
from twisted.internet import defer, threads
from twisted.logger import Logger
from sqlalchemy import update

from eucalyptus.accounts import ADMIN_ACCOUNT
from eucalyptus.errors import EucalyptusError
from eucalyptus.services.clc import instances as store
from eucalyptus.services.clc import vmtypes
from eucalyptus.wsdl import cc_types, common

__all__ = ["Cluster", "ClusterPoller", "reconcile", "Resources"]


@dataclass(frozen=True)
class Resources:
    """
    What a zone can take of one VM type: C{available} more now, C{maximum}
    in all.
    """

    available: int
    maximum: int


@dataclass
class Cluster:
    """
    One zone's CC as the CLC knows it.

    @ivar zone: the availability zone.
    @ivar client: a SOAP client of its CC.
    @ivar state: C{ENABLED} once it answered a poll, else C{DOWN} or
        C{NOTREADY}, with C{reason}.
    @ivar resources: VM type name to L{Resources}, from the last poll.
    @ivar nodes: the node URLs the CC last reported.
    """

    zone: str
    client: object
    state: str = "DOWN"
    reason: str = "not polled yet"
    resources: dict = field(default_factory=dict)
    nodes: tuple = ()

    def call(self, operation, request_type, **fields):
        """
        Call the CC as the cloud.

        @return: a Deferred firing with the response.
        """
        return self.client.call(operation, request_type(correlationId=operation, userId=ADMIN_ACCOUNT, **fields))


def _now():
    return datetime.now(timezone.utc)


def reconcile(conn, zone, reported, now=None):
    """
    Bring zone C{zone}'s instances in the database in line with what its
    cluster reported.

    @param reported: the cluster's C{ccInstanceType}s.
    @return: a dict with the ids to ask the cluster again about:
        C{"terminate"} and C{"stop"}.
    """
    now = now or _now()
    by_id = {instance.instanceId: instance for instance in reported}
    again = {"terminate": [], "stop": []}
    for row in store.rows(conn, zone=zone, states=store.LIVE_STATES):
        instance = by_id.get(row.instance_id)
        if instance is None:
            _missing(conn, row, now)
            continue
        state = store.reported_state(row.state, instance.stateName, instance.guestStateName != "poweredOff")
        changes = dict(missing_since=None, node=instance.serviceTag or row.node)
        net = instance.netParams
        if net is not None:
            for column, value in (("private_ip", net.privateIp), ("public_ip", net.publicIp)):
                if value and value != "0.0.0.0":
                    changes[column] = value
        if state != row.state:
            changes.update(state=state, changed=now, reason=_reason(state, row.reason))
        conn.execute(update(store.instances).where(store.instances.c.instance_id == row.instance_id).values(**changes))
        if state == store.SHUTTING_DOWN and instance.stateName != "Teardown":
            again["terminate"].append(row.instance_id)
        elif state == store.STOPPING and instance.guestStateName != "poweredOff":
            again["stop"].append(row.instance_id)
    return again


def _reason(state, previous):
    if state == store.TERMINATED and not previous:
        return "Server.InstanceTerminated: the instance was shut down on its node"
    return previous if state in (store.SHUTTING_DOWN, store.STOPPING, store.TERMINATED, store.STOPPED) else ""


def _missing(conn, row, now):
    """
    The cluster did not report an instance the database has.
    """
    where = store.instances.c.instance_id == row.instance_id
    if row.state == store.SHUTTING_DOWN:
        conn.execute(update(store.instances).where(where).values(state=store.TERMINATED, changed=now))
        return
    since = store.aware(row.missing_since)
    if since is None:
        conn.execute(update(store.instances).where(where).values(missing_since=now))
    elif now - since >= timedelta(seconds=store.LOST_AFTER):
        conn.execute(update(store.instances).where(where).values(
            state=store.TERMINATED, changed=now, missing_since=None,
            reason=f"Server.InternalError: the cluster stopped reporting the instance ({row.state} before)",
        ))


class ClusterPoller(TimerService):
    """
    Polls every cluster each C{interval} seconds.

    @ivar passes: how many passes finished.
    """

    _log = Logger()

    def __init__(self, cloud, interval=6, reactor=None, run_in_thread=threads.deferToThread):
        """
        @param cloud: the L{Cloud}; its C{clusters} are polled.
        @param interval: C{CLC_POLLING_FREQUENCY}, seconds.
        @param run_in_thread: how database work runs (tests: inline).
        """
        TimerService.__init__(self, interval, self.poll_once)
        if reactor is not None:
            self.clock = reactor
        self.cloud = cloud
        self.passes = 0
        self._run_in_thread = run_in_thread

    @defer.inlineCallbacks
    def poll_once(self):
        """
        Poll every cluster once; never fails.
        """
        for cluster in list(self.cloud.clusters.values()):
            try:
                yield self._poll(cluster)
            except Exception:
                self._log.failure("Polling the cluster of {zone} failed", zone=cluster.zone)
        yield self._run_in_thread(self._forget_old)
        self.passes += 1

    @defer.inlineCallbacks
    def _poll(self, cluster):
        types = yield self._run_in_thread(self._vm_types)
        try:
            described = yield cluster.call("DescribeResources", cc_types.DescribeResourcesType, instanceTypes=types)
            answer = yield cluster.call("DescribeInstances", cc_types.DescribeInstancesType, instanceIds=[])
        except EucalyptusError as e:
            self._down(cluster, "NOTREADY" if e.code == "ServiceUnavailable" else "DOWN", e.message)
            return
        if cluster.state != "ENABLED":
            self._log.info("The cluster of {zone} answers", zone=cluster.zone)
        cluster.state, cluster.reason = "ENABLED", "answering"
        cluster.resources = {
            r.instanceType.name: Resources(r.availableInstances or 0, r.maxInstances or 0)
            for r in described.resources or []
        }
        cluster.nodes = tuple(described.serviceTags or ())
        again = yield self._run_in_thread(self._reconcile, cluster.zone, answer.instances or [])
        if again["terminate"]:
            yield cluster.call("TerminateInstances", cc_types.TerminateInstancesType, instanceIds=again["terminate"])
        for instance_id in again["stop"]:
            yield cluster.call("StopInstance", cc_types.StopInstanceType, instanceId=instance_id)

    def _down(self, cluster, state, reason):
        if (cluster.state, cluster.reason) != (state, reason):
            self._log.warn("The cluster of {zone} is {state}: {reason}", zone=cluster.zone, state=state, reason=reason)
        cluster.state, cluster.reason = state, reason

    def _vm_types(self):
        with self.cloud.db.connect() as conn:
            return [
                common.VirtualMachineType(name=t.name, cores=t.cores, memory=t.memory, disk=t.disk)
                for t in vmtypes.all_vm_types(conn)
            ]

    def _reconcile(self, zone, reported):
        with self.cloud.db.begin() as conn:
            return reconcile(conn, zone, reported)

    def _forget_old(self):
        with self.cloud.db.begin() as conn:
            store.forget_terminated(conn, _now() - timedelta(seconds=store.TERMINATED_VISIBLE))
