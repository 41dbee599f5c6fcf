# -*- test-case-name: tests.services.cc.test_nodes -*-
"""
What the Cluster Controller knows about its nodes and their instances.

Pure bookkeeping over the answers of C{ncDescribeResource} and
C{ncDescribeInstances}: no I/O, no reactor.  Times are plain seconds from
whatever clock the caller uses (the poller's).

A L{NodeRecord} is one node in C{NODES}: its state (L{ENABLED},
L{DISABLED} for maintenance, L{DOWN} when it does not answer, L{ASLEEP}
when POWERSAVE powered it off), why, and its last reported resources.  The
L{InstanceCache} is every instance some node reported, with the node that
last reported it; an entry no node has reported for C{INSTANCE_TIMEOUT}
seconds is dropped (the original C{refresh_instances} invalidation).
"""

from dataclasses import dataclass, replace
from typing import Optional

from eucalyptus.capacity import WIRE_NAMES, Capacity
from eucalyptus.services.cc.scheduler import ASLEEP, DISABLED, DOWN, ENABLED, NodeView

__all__ = [
    "ENABLED", "DISABLED", "DOWN", "ASLEEP", "STATES",
    "NodeResources", "NodeRecord", "CachedInstance", "InstanceCache", "parse_node",
]

#: Every node state.
STATES = (ENABLED, DISABLED, DOWN, ASLEEP)


@dataclass(frozen=True)
class NodeResources(Capacity):
    """
    A node's last C{ncDescribeResource} answer: its L{Capacity}, its
    hypervisor and its iSCSI initiator name.
    """

    hypervisor: str = ""
    iqn: str = ""

    @classmethod
    def from_response(cls, response):
        """
        The figures of an C{ncDescribeResourceResponseType}.

        @raise ValueError: a figure is missing or not a number.
        """
        missing = [name for name in WIRE_NAMES.values() if getattr(response, name) is None]
        if missing:
            raise ValueError(f"the node's resource answer lacks {', '.join(missing)}")
        return cls(
            **{field: int(getattr(response, name)) for field, name in WIRE_NAMES.items()},
            hypervisor=response.hypervisor or "",
            iqn=response.iqn or "",
        )


def parse_node(entry, default_port):
    """
    One C{NODES} entry, C{host} or C{host:port}.

    @return: the host and the port.
    @raise ValueError: for an empty host or a bad port.
    """
    host, colon, port = entry.rpartition(":")
    if not colon:
        host, port = entry, str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{entry!r} is not a node (host or host:port)")
    return host, int(port)


@dataclass
class NodeRecord:
    """
    One node as the CC knows it.

    @ivar host: the node's host, as in C{NODES}.
    @ivar url: its SOAP endpoint.
    @ivar state: one of L{STATES}; L{DOWN} until it first answers.
    @ivar reason: why it is in that state, for people.
    @ivar resources: its last L{NodeResources}, or C{None} before it answered.
    @ivar last_seen: when it last answered a poll, or C{None}.
    @ivar failures: consecutive polls it failed.
    @ivar idle_since: when it was first seen with no instances, or C{None}
        while it has some (POWERSAVE).
    @ivar mac: its hardware address when known, for Wake-on-LAN.
    """

    host: str
    url: str
    state: str = DOWN
    reason: str = "not polled yet"
    resources: Optional[NodeResources] = None
    last_seen: Optional[float] = None
    failures: int = 0
    idle_since: Optional[float] = None
    mac: str = ""

    def answered(self, status, resources, now):
        """
        The node answered a poll: it is L{ENABLED} or, when it says so,
        L{DISABLED}.

        @param status: the C{nodeStatus} it reported.
        @param resources: its L{NodeResources}.
        @param now: the time of the answer.
        """
        status = (status or "").lower()
        if status == ENABLED:
            self.state, self.reason = ENABLED, "answering"
        elif status == DISABLED:
            self.state, self.reason = DISABLED, "the node reports itself disabled"
        else:
            self.state, self.reason = DISABLED, f"the node reports the unknown status {status!r}"
        self.resources = resources
        self.last_seen = now
        self.failures = 0

    def failed(self, why, now):
        """
        The node did not answer a poll, or answered nonsense: it is L{DOWN}.

        @param why: what went wrong, for people.
        @param now: the time the poll gave up.
        """
        self.failures += 1
        self.state = DOWN
        if self.last_seen is None:
            self.reason = f"never answered: {why}"
        else:
            self.reason = f"no answer for {now - self.last_seen:.0f} s: {why}"

    def disable(self, reason):
        """
        Take the node out of scheduling (maintenance, or the CC's own doing):
        it is L{DISABLED} until it next answers a poll as enabled.
        """
        self.state, self.reason = DISABLED, reason

    def counted(self, instances, now):
        """
        The node reported C{instances} instances at C{now}: track how long
        it has been idle.
        """
        if instances:
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now

    def reserve(self, shape):
        """
        An instance of L{VmShape} C{shape} was just started here: lower the
        available figures until the next poll says how things are.
        """
        self.idle_since = None
        if self.resources is not None:
            self.resources = replace(
                self.resources,
                cores_available=self.resources.cores_available - shape.cores,
                memory_available=self.resources.memory_available - shape.memory,
                disk_available=self.resources.disk_available - shape.disk,
            )

    def view(self):
        """
        The node as the scheduler sees it (no resources: nothing available).

        @return: a L{NodeView}.
        """
        figures = self.resources.figures() if self.resources else dict.fromkeys(WIRE_NAMES, 0)
        return NodeView(name=self.host, state=self.state, idle_since=self.idle_since, **figures)


@dataclass(frozen=True)
class CachedInstance:
    """
    One instance as a node last reported it.

    @ivar host: the node that last reported it.
    @ivar instance: the C{instanceType} it reported.
    @ivar reported: when a node last reported it.
    """

    host: str
    instance: object
    reported: float


class InstanceCache:
    """
    Every instance some node reported, by instance id.
    """

    def __init__(self):
        self._entries = {}

    def __len__(self):
        return len(self._entries)

    def __contains__(self, instance_id):
        return instance_id in self._entries

    def running(self):
        """
        How many cached instances count against C{MAX_INSTANCES_PER_CC}:
        all but those being torn down.
        """
        return sum(1 for entry in self._entries.values() if entry.instance.stateName != "Teardown")

    def get(self, instance_id):
        """
        @return: the L{CachedInstance} of C{instance_id}, or C{None}.
        """
        return self._entries.get(instance_id)

    def place(self, host, instance, now):
        """
        The CC just started C{instance} (an C{instanceType}) on C{host}: it
        is there from now on, before any poll reports it.
        """
        self._entries[instance.instanceId] = CachedInstance(host, instance, now)

    def update(self, host, instances, now):
        """
        Record what node C{host} reported: each instance is now on that host,
        as reported, seen at C{now} -- unless the cache has it on another
        node, in which case this one is a second copy.

        @param instances: its C{instanceType}s (each with an C{instanceId}).
        @return: the ids C{host} reported that the cache has on another
            node (second copies, left out), sorted.
        """
        copies = []
        for instance in instances:
            key = instance.instanceId
            if not key:
                continue
            entry = self._entries.get(key)
            if entry is not None and entry.host != host:
                copies.append(key)
            else:
                self._entries[key] = CachedInstance(host, instance, now)
        return sorted(copies)

    def forget_host(self, host):
        """
        Drop every instance last reported by C{host} (a deregistered node).

        @return: the ids dropped, sorted.
        """
        gone = sorted(key for key, entry in self._entries.items() if entry.host == host)
        for key in gone:
            del self._entries[key]
        return gone

    def drop_stale(self, now, timeout):
        """
        Forget every instance no node has reported for more than C{timeout}
        seconds (C{INSTANCE_TIMEOUT}).

        @return: the ids dropped, sorted.
        """
        stale = sorted(key for key, entry in self._entries.items() if now - entry.reported > timeout)
        for key in stale:
            del self._entries[key]
        return stale

    def describe(self, ids=None):
        """
        The cached instances, by id, as C{DescribeInstances} answers.

        @param ids: the instance ids wanted; all when empty or C{None}.
            Unknown ids are left out.
        @return: a list of L{CachedInstance}, sorted by instance id.
        """
        keys = sorted(self._entries) if not ids else sorted(set(ids) & set(self._entries))
        return [self._entries[key] for key in keys]

    def on_host(self, host):
        """
        @return: the L{CachedInstance}s last reported by C{host}, by id.
        """
        return [entry for key, entry in sorted(self._entries.items()) if entry.host == host]
