# -*- test-case-name: tests.services.cc.test_scheduler -*-
"""
Where the Cluster Controller places each new instance (C{SCHEDPOLICY}).

Pure, synchronous code over the CC's last view of its nodes: no I/O, no
reactor.  The poller builds a L{NodeView} per node from C{ncDescribeResource}
(C{numberOfCoresMax/Available}, C{memorySizeMax/Available} in MB,
C{diskSizeMax/Available} in GB) and calls L{schedule} or L{schedule_batch}.

A node is a candidate when it is C{enabled} and its available cores, memory
and disk each cover the VM type (the original C{schedule_instance*}
feasibility test).  The policies, in C{NODES} order:

  - C{ROUNDROBIN} (default): start at the index saved in L{SchedulerState},
    take the first candidate, save the index after it (wrapping).
  - C{GREEDY}: the first candidate.
  - C{POWERSAVE}: as C{GREEDY} over awake nodes; when none fits, the first
    C{asleep} node that would fit, which the caller must wake (Wake-on-LAN).
    L{nodes_to_power_down} names the nodes idle longer than
    C{POWER_IDLETHRESH}.
"""

from dataclasses import dataclass, replace
from typing import Optional

from eucalyptus.capacity import Capacity
from eucalyptus.errors import InsufficientInstanceCapacity

__all__ = [
    "ENABLED", "DISABLED", "DOWN", "ASLEEP", "ROUNDROBIN", "GREEDY", "POWERSAVE", "POLICIES",
    "VmShape", "NodeView", "SchedulerState", "Placement", "NoCapacity",
    "schedule", "schedule_batch", "reserve", "nodes_to_power_down",
]

ENABLED = "enabled"
DISABLED = "disabled"
DOWN = "down"
ASLEEP = "asleep"

ROUNDROBIN = "ROUNDROBIN"
GREEDY = "GREEDY"
POWERSAVE = "POWERSAVE"
#: Every policy, the default first.
POLICIES = (ROUNDROBIN, GREEDY, POWERSAVE)


@dataclass(frozen=True)
class VmShape:
    """
    What one instance needs: cores, memory (MB) and disk (GB).
    """

    cores: int
    memory: int
    disk: int


@dataclass(frozen=True)
class NodeView(Capacity):
    """
    One node as the CC last saw it: its L{Capacity} and

    @ivar name: the node's host, as in C{NODES}.
    @ivar state: L{ENABLED}, L{DISABLED}, L{DOWN} or L{ASLEEP}.
    @ivar idle_since: when its last instance left (seconds, the poller's
        clock), or C{None} when it has instances or the CC has not yet seen
        it empty.
    """

    name: str = ""
    state: str = ENABLED
    idle_since: Optional[float] = None


@dataclass
class SchedulerState:
    """
    What a policy remembers between calls: the round-robin index
    (the original C{schedState}).  One per CC; mutated by L{schedule}.
    """

    next_index: int = 0


@dataclass(frozen=True)
class Placement:
    """
    The node chosen for one instance.

    @ivar node: the node's name.
    @ivar wake: C{True} when the node is asleep and must be woken first.
    """

    node: str
    wake: bool = False


class NoCapacity(InsufficientInstanceCapacity):
    """
    No node the policy may use has room for the instance; the message says
    what was needed and the most any such node had free.
    """


def _describe(cores, memory, disk):
    return f"{cores} cores, {memory} MB memory, {disk} GB disk"


def _no_capacity(nodes, shape, usable):
    """
    The L{NoCapacity} for C{shape} over C{nodes}, C{usable} being the ones
    the policy may use.
    """
    needed = _describe(shape.cores, shape.memory, shape.disk)
    if not usable:
        states = ", ".join(f"{n.name} {n.state}" for n in nodes) or "none registered"
        return NoCapacity(f"Not enough capacity for {needed}: no usable node ({states})")
    best = _describe(
        max(n.cores_available for n in usable),
        max(n.memory_available for n in usable),
        max(n.disk_available for n in usable),
    )
    return NoCapacity(
        f"Not enough capacity for {needed}: the most free on any of "
        f"{len(usable)} usable node(s) is {best}"
    )


def _round_robin(nodes, shape, state):
    count = len(nodes)
    start = state.next_index % count if count else 0
    for step in range(count):
        index = (start + step) % count
        node = nodes[index]
        if node.state == ENABLED and node.fits(shape):
            state.next_index = (index + 1) % count
            return Placement(node.name)
    return None


def _greedy(nodes, shape, state):
    for node in nodes:
        if node.state == ENABLED and node.fits(shape):
            return Placement(node.name)
    return None


def _powersave(nodes, shape, state):
    placement = _greedy(nodes, shape, state)
    if placement is not None:
        return placement
    for node in nodes:
        if node.state == ASLEEP and node.fits(shape):
            return Placement(node.name, wake=True)
    return None


_POLICIES = {ROUNDROBIN: _round_robin, GREEDY: _greedy, POWERSAVE: _powersave}


def schedule(policy, nodes, shape, state):
    """
    Choose the node for one instance.

    @param policy: L{ROUNDROBIN}, L{GREEDY} or L{POWERSAVE}.
    @param nodes: the L{NodeView}s in C{NODES} order.
    @param shape: the L{VmShape} the instance needs.
    @param state: the CC's L{SchedulerState}; round robin advances it.
    @return: the L{Placement}.
    @raise NoCapacity: when no node the policy may use has room.
    @raise ValueError: for an unknown policy.
    """
    try:
        choose = _POLICIES[policy]
    except KeyError:
        raise ValueError(f"unknown scheduling policy {policy!r}; allowed: {', '.join(POLICIES)}") from None
    placement = choose(nodes, shape, state)
    if placement is None:
        usable = {ENABLED, ASLEEP} if policy == POWERSAVE else {ENABLED}
        raise _no_capacity(nodes, shape, [n for n in nodes if n.state in usable])
    return placement


def reserve(node, shape):
    """
    C{node} with one more instance of C{shape} on it: the available figures
    lowered and C{idle_since} cleared.

    @raise ValueError: when C{shape} does not fit.
    """
    if not node.fits(shape):
        raise ValueError(f"{_describe(shape.cores, shape.memory, shape.disk)} does not fit on {node.name}")
    return replace(
        node,
        cores_available=node.cores_available - shape.cores,
        memory_available=node.memory_available - shape.memory,
        disk_available=node.disk_available - shape.disk,
        idle_since=None,
    )


def schedule_batch(policy, nodes, shape, min_count, max_count, state):
    """
    Place up to C{max_count} instances one after another, each against the
    views as the ones before it left them (RunInstances C{minCount} /
    C{maxCount}: all or nothing below C{minCount}).

    @return: a tuple of the L{Placement}s, in launch order, and the
        L{NodeView}s with every placement reserved.
    @raise NoCapacity: when fewer than C{min_count} fit; C{state} is then
        left as it was.
    """
    saved = SchedulerState(state.next_index)
    views = list(nodes)
    placements = []
    while len(placements) < max_count:
        try:
            placement = schedule(policy, views, shape, state)
        except NoCapacity as error:
            if len(placements) >= min_count:
                break
            state.next_index = saved.next_index
            raise NoCapacity(f"{error.message} (placed {len(placements)} of at least {min_count})") from None
        index = next(i for i, n in enumerate(views) if n.name == placement.node)
        views[index] = reserve(views[index], shape)
        placements.append(placement)
    return placements, views


def nodes_to_power_down(nodes, now, idle_threshold):
    """
    The names of the enabled nodes with no instances that have been idle for
    at least C{idle_threshold} seconds (POWERSAVE's C{POWER_IDLETHRESH}).

    @param now: the current time, on the clock C{idle_since} uses.
    """
    return [
        node.name
        for node in nodes
        if node.state == ENABLED
        and node.is_empty()
        and node.idle_since is not None
        and now - node.idle_since >= idle_threshold
    ]
