"""
Tests for L{eucalyptus.services.cc.scheduler}: the placement policies.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InsufficientInstanceCapacity
from eucalyptus.services.cc.scheduler import (
    ASLEEP,
    DISABLED,
    DOWN,
    ENABLED,
    GREEDY,
    POLICIES,
    POWERSAVE,
    ROUNDROBIN,
    NoCapacity,
    NodeView,
    Placement,
    SchedulerState,
    VmShape,
    nodes_to_power_down,
    reserve,
    schedule,
    schedule_batch,
)

SMALL = VmShape(cores=1, memory=256, disk=5)
LARGE = VmShape(cores=4, memory=4096, disk=40)


def node(name, state=ENABLED, cores=4, memory=4096, disk=40, free=None, idle_since=None):
    """
    A node with the given maximum; C{free} (cores, memory, disk) defaults to all of it.
    """
    cores_free, memory_free, disk_free = free if free is not None else (cores, memory, disk)
    return NodeView(
        cores_max=cores, cores_available=cores_free, memory_max=memory, memory_available=memory_free, disk_max=disk,
        disk_available=disk_free, name=name, state=state, idle_since=idle_since,
    )


def choose(policy, nodes, shape, state, times):
    """
    The node names C{schedule} picks over C{times} calls, without reserving.
    """
    return [schedule(policy, nodes, shape, state).node for _ in range(times)]


class RoundRobinTests(SynchronousTestCase):
    """
    C{ROUNDROBIN} continues after the node it chose last.
    """

    def test_order_and_wrap(self):
        """
        Successive calls walk the nodes in order and wrap round to the first.
        """
        nodes = [node("a"), node("b"), node("c")]
        state = SchedulerState()
        self.assertEqual(choose(ROUNDROBIN, nodes, SMALL, state, 7), ["a", "b", "c", "a", "b", "c", "a"])
        self.assertEqual(state.next_index, 1)

    def test_skips_unusable(self):
        """
        Disabled, down, asleep and full nodes are passed over.
        """
        nodes = [
            node("a"),
            node("b", DISABLED),
            node("c", DOWN),
            node("d", ASLEEP),
            node("e", free=(0, 4096, 40)),
            node("f"),
        ]
        self.assertEqual(choose(ROUNDROBIN, nodes, SMALL, SchedulerState(), 4), ["a", "f", "a", "f"])

    def test_continues_after_full_node(self):
        """
        When the node whose turn it is has filled up, the next one with room
        is chosen and the rotation continues after it.
        """
        state = SchedulerState()
        nodes = [node("a"), node("b"), node("c")]
        self.assertEqual(choose(ROUNDROBIN, nodes, SMALL, state, 1), ["a"])
        nodes[1] = node("b", free=(4, 100, 40))
        self.assertEqual(choose(ROUNDROBIN, nodes, SMALL, state, 3), ["c", "a", "c"])

    def test_saved_index_beyond_list(self):
        """
        A saved index past the end (a node was deregistered) wraps.
        """
        state = SchedulerState(next_index=5)
        self.assertEqual(choose(ROUNDROBIN, [node("a"), node("b")], SMALL, state, 2), ["b", "a"])

    def test_failure_keeps_index(self):
        """
        A call that finds no room leaves the saved index alone.
        """
        state = SchedulerState(next_index=1)
        self.assertRaises(NoCapacity, schedule, ROUNDROBIN, [node("a"), node("b")], VmShape(8, 1, 1), state)
        self.assertEqual(state.next_index, 1)


class GreedyTests(SynchronousTestCase):
    """
    C{GREEDY} takes the first node in order that fits.
    """

    def test_always_first(self):
        """
        While the first node has room it gets every instance.
        """
        nodes = [node("a"), node("b")]
        self.assertEqual(choose(GREEDY, nodes, SMALL, SchedulerState(), 3), ["a", "a", "a"])

    def test_skips_unusable(self):
        """
        Disabled, down, asleep and full nodes are passed over; asleep ones
        are never woken.
        """
        nodes = [node("a", DISABLED), node("b", DOWN), node("c", ASLEEP), node("d", free=(1, 4096, 4)), node("e")]
        self.assertEqual(schedule(GREEDY, nodes, SMALL, SchedulerState()), Placement("e"))
        self.assertRaises(NoCapacity, schedule, GREEDY, nodes[:4], SMALL, SchedulerState())

    def test_state_untouched(self):
        """
        Greedy does not move the round-robin index.
        """
        state = SchedulerState(next_index=2)
        schedule(GREEDY, [node("a")], SMALL, state)
        self.assertEqual(state.next_index, 2)


class PowerSaveTests(SynchronousTestCase):
    """
    C{POWERSAVE} packs onto awake nodes and wakes a sleeping one only when needed.
    """

    def test_packs_awake_nodes(self):
        """
        Awake nodes are filled in order before any asleep node is woken.
        """
        nodes = [node("a", ASLEEP), node("b", cores=2), node("c", cores=2)]
        placements, _ = schedule_batch(POWERSAVE, nodes, SMALL, 5, 5, SchedulerState())
        self.assertEqual(
            placements,
            [Placement("b"), Placement("b"), Placement("c"), Placement("c"), Placement("a", wake=True)],
        )

    def test_wakes_first_asleep_that_fits(self):
        """
        With no awake node fitting, the first asleep node with room is
        returned with C{wake} set.
        """
        nodes = [node("a", free=(0, 0, 0)), node("b", ASLEEP, cores=2), node("c", ASLEEP), node("d", ASLEEP)]
        self.assertEqual(schedule(POWERSAVE, nodes, LARGE, SchedulerState()), Placement("c", wake=True))

    def test_down_never_woken(self):
        """
        Down and disabled nodes are not candidates even under POWERSAVE.
        """
        self.assertRaises(NoCapacity, schedule, POWERSAVE, [node("a", DOWN), node("b", DISABLED)], SMALL, SchedulerState())


class ReserveTests(SynchronousTestCase):
    """
    L{reserve} and L{schedule_batch}.
    """

    def test_reserve_lowers_available(self):
        """
        Reserving lowers each available figure by the shape and clears the
        idle time; maxima are untouched.
        """
        reserved = reserve(node("a", idle_since=10.0), SMALL)
        self.assertEqual(reserved, node("a", free=(3, 3840, 35)))

    def test_reserve_refuses_overfill(self):
        """
        Reserving a shape that does not fit is a programming error.
        """
        self.assertRaises(ValueError, reserve, node("a", free=(0, 4096, 40)), SMALL)

    def test_batch_round_robin_fills_nodes(self):
        """
        A batch spreads round robin and, as nodes fill, continues on the
        ones with room, until the maximum count is placed.
        """
        nodes = [node("a", cores=1), node("b", cores=3), node("c", cores=2)]
        state = SchedulerState()
        placements, views = schedule_batch(ROUNDROBIN, nodes, SMALL, 1, 6, state)
        self.assertEqual([p.node for p in placements], ["a", "b", "c", "b", "c", "b"])
        self.assertEqual([v.cores_available for v in views], [0, 0, 0])
        self.assertEqual(state.next_index, 2)

    def test_batch_stops_at_capacity_above_min(self):
        """
        When room runs out after C{minCount}, the batch is what fitted.
        """
        placements, _ = schedule_batch(GREEDY, [node("a", cores=2)], SMALL, 1, 5, SchedulerState())
        self.assertEqual(len(placements), 2)

    def test_batch_all_or_nothing_below_min(self):
        """
        Fewer than C{minCount} fitting raises and leaves the round-robin
        index where it was.
        """
        state = SchedulerState(next_index=1)
        error = self.assertRaises(
            NoCapacity, schedule_batch, ROUNDROBIN, [node("a", cores=2), node("b", cores=1)], SMALL, 4, 4, state
        )
        self.assertIn("placed 3 of at least 4", error.message)
        self.assertEqual(state.next_index, 1)


class NoCapacityTests(SynchronousTestCase):
    """
    The error says what was needed and the most the zone had.
    """

    def test_message(self):
        """
        The message gives the shape and the largest free figure of each kind
        over the usable nodes, ignoring unusable ones.
        """
        nodes = [node("a", free=(2, 512, 30)), node("b", free=(1, 2048, 10)), node("c", DOWN)]
        error = self.assertRaises(NoCapacity, schedule, ROUNDROBIN, nodes, LARGE, SchedulerState())
        self.assertIsInstance(error, InsufficientInstanceCapacity)
        self.assertEqual(error.code, "InsufficientInstanceCapacity")
        self.assertEqual(
            str(error),
            "Not enough capacity for 4 cores, 4096 MB memory, 40 GB disk: the most free on any of "
            "2 usable node(s) is 2 cores, 2048 MB memory, 30 GB disk",
        )

    def test_no_usable_node(self):
        """
        With no usable node the message lists every node's state.
        """
        error = self.assertRaises(NoCapacity, schedule, GREEDY, [node("a", DOWN), node("b", ASLEEP)], SMALL, SchedulerState())
        self.assertIn("no usable node (a down, b asleep)", error.message)
        error = self.assertRaises(NoCapacity, schedule, GREEDY, [], SMALL, SchedulerState())
        self.assertIn("none registered", error.message)

    def test_unknown_policy(self):
        """
        An unknown policy is refused, naming the allowed ones.
        """
        error = self.assertRaises(ValueError, schedule, "RANDOM", [node("a")], SMALL, SchedulerState())
        self.assertIn("ROUNDROBIN, GREEDY, POWERSAVE", str(error))


class PowerDownTests(SynchronousTestCase):
    """
    L{nodes_to_power_down} picks enabled, empty nodes idle long enough.
    """

    def test_candidates(self):
        """
        Only enabled nodes with nothing on them, idle for at least the
        threshold, are named.
        """
        nodes = [
            node("idle", idle_since=100.0),
            node("exact", idle_since=400.0),
            node("recent", idle_since=401.0),
            node("busy", free=(3, 4096, 40), idle_since=100.0),
            node("unknown"),
            node("asleep", ASLEEP, idle_since=100.0),
            node("disabled", DISABLED, idle_since=100.0),
        ]
        self.assertEqual(nodes_to_power_down(nodes, now=700.0, idle_threshold=300), ["idle", "exact"])


_states = st.sampled_from([ENABLED, DISABLED, DOWN, ASLEEP])


@st.composite
def _nodes(draw):
    views = []
    for index in range(draw(st.integers(0, 6))):
        cores, memory, disk = draw(st.integers(0, 8)), draw(st.integers(0, 8192)), draw(st.integers(0, 80))
        free = (draw(st.integers(0, cores)), draw(st.integers(0, memory)), draw(st.integers(0, disk)))
        views.append(node(f"n{index}", draw(_states), cores, memory, disk, free))
    return views


_shapes = st.builds(VmShape, st.integers(0, 8), st.integers(0, 8192), st.integers(0, 80))


class PropertyTests(SynchronousTestCase):
    """
    Whatever the policy chooses is usable and has room.
    """

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.sampled_from(POLICIES), _nodes(), _shapes, st.integers(0, 10))
    def test_choice_fits(self, policy, nodes, shape, index):
        """
        The chosen node is enabled (or asleep and to be woken, POWERSAVE
        only) and fits the shape; C{NoCapacity} means no node the policy may
        use fits.
        """
        by_name = {n.name: n for n in nodes}
        try:
            placement = schedule(policy, nodes, shape, SchedulerState(index))
        except NoCapacity:
            usable = {ENABLED, ASLEEP} if policy == POWERSAVE else {ENABLED}
            self.assertFalse([n for n in nodes if n.state in usable and n.fits(shape)])
            return
        chosen = by_name[placement.node]
        self.assertTrue(chosen.fits(shape))
        if placement.wake:
            self.assertEqual((policy, chosen.state), (POWERSAVE, ASLEEP))
            self.assertFalse([n for n in nodes if n.state == ENABLED and n.fits(shape)])
        else:
            self.assertEqual(chosen.state, ENABLED)
