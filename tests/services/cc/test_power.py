"""
POWERSAVE: powering idle nodes down and waking them with Wake-on-LAN.
"""

import dataclasses
import os
import socket

from twisted.internet import task
from twisted.logger import LogLevel, capturedLogs
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import ServiceUnavailable
from eucalyptus.services.cc.nodes import ASLEEP, DISABLED, DOWN, ENABLED, NodeRecord
from eucalyptus.services.cc.power import Power, magic_packet, neighbour_mac, send_wake_packet
from tests.services.cc.test_nodes import FIGURES
from tests.services.cc.test_poller import FakeNodeClient

#: A node running nothing: every available figure is the maximum.
EMPTY = dataclasses.replace(FIGURES, cores_available=4, memory_available=2048, disk_available=40)

MAC = "52:54:00:ab:cd:01"

ARP_TABLE = """\
IP address       HW type     Flags       HW address            Mask     Device
10.0.0.5         0x1         0x2         52:54:00:AB:CD:01     *        eucabr0
10.0.0.6         0x1         0x0         00:00:00:00:00:00     *        eucabr0
10.0.0.50        0x1         0x2         52:54:00:00:00:50     *        eth0
10.0.0.7         0x1         0x2         52:54:00:00:00:07     *        eth0
"""


class MagicPacketTests(SynchronousTestCase):
    """
    L{magic_packet}.
    """

    def test_layout(self):
        """
        Six C{0xff} bytes, then the six bytes of the address sixteen times.
        """
        packet = magic_packet(MAC)
        self.assertEqual(len(packet), 102)
        self.assertEqual(packet[:6], b"\xff" * 6)
        for i in range(16):
            self.assertEqual(packet[6 + 6 * i : 12 + 6 * i], b"\x52\x54\x00\xab\xcd\x01")

    def test_spellings(self):
        """
        Upper case and hyphens spell the same address.
        """
        self.assertEqual(magic_packet("52-54-00-AB-CD-01"), magic_packet(MAC))

    def test_bad_address(self):
        """
        Anything that is not six two-digit hex octets is refused.
        """
        for bad in ("", "52:54:00:ab:cd", "52:54:00:ab:cd:01:02", "525400abcd01", "52:54:0:ab:cd:01",
                    "52:54:00:ab:cd:0g"):
            self.assertRaises(ValueError, magic_packet, bad)


class NeighbourMacTests(SynchronousTestCase):
    """
    L{neighbour_mac} reads a C{/proc/net/arp}-format table.
    """

    def setUp(self):
        self.table = self.mktemp()
        with open(self.table, "w") as f:
            f.write(ARP_TABLE)

    def test_found(self):
        """
        A complete entry gives the address, in lower case.
        """
        self.assertEqual(neighbour_mac("10.0.0.5", self.table), MAC)
        self.assertEqual(neighbour_mac("10.0.0.7", self.table), "52:54:00:00:00:07")

    def test_host_and_port(self):
        """
        A C{host:port} entry is looked up by its host.
        """
        self.assertEqual(neighbour_mac("10.0.0.5:9001", self.table), MAC)

    def test_incomplete(self):
        """
        An incomplete entry (all-zero address) is no address.
        """
        self.assertEqual(neighbour_mac("10.0.0.6", self.table), "")

    def test_exact_match(self):
        """
        Only the exact address matches, not one it is a prefix of, and the
        header line is not an entry.
        """
        self.assertEqual(neighbour_mac("10.0.0.50", self.table), "52:54:00:00:00:50")
        self.assertEqual(neighbour_mac("10.0.0.9", self.table), "")
        self.assertEqual(neighbour_mac("IP", self.table), "")

    def test_no_table(self):
        """
        A table that cannot be read gives no address.
        """
        self.assertEqual(neighbour_mac("10.0.0.5", os.path.join(self.mktemp(), "arp")), "")


class SendWakePacketTests(SynchronousTestCase):
    """
    L{send_wake_packet} sends a real datagram.
    """

    def test_sends_magic_packet(self):
        """
        The datagram that arrives is the magic packet of the address.
        """
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(receiver.close)
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        send_wake_packet(MAC, address=receiver.getsockname())
        data, _ = receiver.recvfrom(1024)
        self.assertEqual(data, magic_packet(MAC))


class PowerTestCase(SynchronousTestCase):
    """
    Nodes on fake clients, a fake clock, a fake neighbour table and a fake
    packet sender.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(1000)
        self.clients = {}
        self.records = []
        self.macs = {}
        self.asked = []
        self.sent = []
        self.power = Power(
            self.records, self.client_for, self.clock, idle_threshold=300, wake_threshold=30,
            mac_of=self.mac_of, send=self.sent.append, check_interval=1.0,
        )

    def client_for(self, record):
        return self.clients[record.host]

    def mac_of(self, host):
        self.asked.append(host)
        return self.macs.get(host, "")

    def node(self, host, idle_since=None, instances=0, resources=EMPTY):
        """
        An enabled node that answered at time 0 with C{instances} instances;
        empty ones idle since C{idle_since}.
        """
        record = NodeRecord(host, f"http://{host}:8775/nc")
        record.answered("enabled", resources, 0)
        record.counted(instances, idle_since if idle_since is not None else 0)
        self.records.append(record)
        self.clients[host] = FakeNodeClient([])
        return record


class AfterPassTests(PowerTestCase):
    """
    L{Power.after_pass}: learning addresses and powering idle nodes down.
    """

    def test_idle_node_powered_down(self):
        """
        A node idle for at least the threshold is asked to power down and is
        asleep, saying why; one idle for less, one with instances and one
        not enabled are left alone.
        """
        idle = self.node("idle", idle_since=700)
        recent = self.node("recent", idle_since=701)
        busy = self.node("busy", instances=2, resources=FIGURES)
        disabled = self.node("disabled", idle_since=0)
        disabled.disable("maintenance")
        self.successResultOf(self.power.after_pass())
        self.assertEqual(self.clients["idle"].calls, ["ncPowerDown"])
        for host in ("recent", "busy", "disabled"):
            self.assertEqual(self.clients[host].calls, [], host)
        self.assertEqual(idle.state, ASLEEP)
        self.assertEqual(idle.reason, "powered down after 300 s without instances")
        self.assertEqual((recent.state, busy.state, disabled.state), (ENABLED, ENABLED, DISABLED))

    def test_idle_but_reported_instances(self):
        """
        A node whose figures show instances running is not idle, whatever
        its idle time says.
        """
        record = self.node("used", idle_since=0, resources=FIGURES)
        self.successResultOf(self.power.after_pass())
        self.assertEqual((self.clients["used"].calls, record.state), ([], ENABLED))

    def test_later_pass(self):
        """
        A node idle for less than the threshold goes down on a later pass,
        once the threshold is reached, and only once.
        """
        record = self.node("n", idle_since=900)
        self.successResultOf(self.power.after_pass())
        self.assertEqual(record.state, ENABLED)
        self.clock.advance(200)
        self.successResultOf(self.power.after_pass())
        self.assertEqual(record.state, ASLEEP)
        self.successResultOf(self.power.after_pass())
        self.assertEqual(self.clients["n"].calls, ["ncPowerDown"])

    def test_power_down_refused(self):
        """
        A node that fails C{ncPowerDown} stays enabled, and the refusal is
        logged; the pass still completes.
        """
        record = self.node("n", idle_since=0)
        self.clients["n"].error = ServiceUnavailable("no powerdown command")
        with capturedLogs() as events:
            self.successResultOf(self.power.after_pass())
        self.assertEqual((record.state, record.reason), (ENABLED, "answering"))
        (warning,) = [e for e in events if e["log_level"] == LogLevel.warn]
        self.assertEqual(warning["host"], "n")
        self.assertIn("no powerdown command", str(warning["error"]))

    def test_learns_macs(self):
        """
        Enabled nodes without an address have it looked up; a node that has
        one, or is not enabled, is not asked about; an unknown address stays
        unknown.
        """
        self.macs = {"a": MAC, "b": "52:54:00:00:00:0b", "down": "52:54:00:00:00:0d"}
        a = self.node("a", instances=1, resources=FIGURES)
        b = self.node("b", instances=1, resources=FIGURES)
        b.mac = "52:54:00:00:00:99"
        unknown = self.node("unknown", instances=1, resources=FIGURES)
        down = self.node("down", instances=1, resources=FIGURES)
        down.failed("timeout", 10)
        self.successResultOf(self.power.after_pass())
        self.assertEqual(self.asked, ["a", "unknown"])
        self.assertEqual((a.mac, b.mac, unknown.mac, down.mac), (MAC, "52:54:00:00:00:99", "", ""))

    def test_learns_mac_before_powering_down(self):
        """
        A node powered down in the same pass has its address learnt first,
        so that it can be woken.
        """
        self.macs = {"n": MAC}
        record = self.node("n", idle_since=0)
        self.successResultOf(self.power.after_pass())
        self.assertEqual((record.state, record.mac), (ASLEEP, MAC))


class WakeTests(PowerTestCase):
    """
    L{Power.wake}.
    """

    def asleep(self, host="n", mac=MAC):
        record = self.node(host, idle_since=0)
        record.state, record.reason, record.mac = ASLEEP, "powered down", mac
        return record

    def test_wakes_and_waits(self):
        """
        A sleeping node with a known address gets its wake packet, is down
        until a poll finds it enabled, and the wait ends then.
        """
        record = self.asleep()
        d = self.power.wake(record)
        self.assertEqual(self.sent, [MAC])
        self.assertEqual(record.state, DOWN)
        self.assertIn(MAC, record.reason)
        self.clock.callLater(5, record.answered, "enabled", EMPTY, self.clock.seconds() + 5)
        for _ in range(4):
            self.clock.advance(1)
            self.assertNoResult(d)
        self.clock.advance(1)
        self.clock.advance(1)
        self.assertIsNone(self.successResultOf(d))
        self.assertEqual(self.sent, [MAC])

    def test_times_out(self):
        """
        A node that does not come up within the wake threshold is
        unavailable, naming it.
        """
        record = self.asleep()
        d = self.power.wake(record)
        self.clock.pump([1] * 29)
        self.assertNoResult(d)
        self.clock.advance(1)
        failure = self.failureResultOf(d, ServiceUnavailable)
        self.assertIn("n did not wake within 30 s", str(failure.value))
        self.assertEqual(record.state, DOWN)

    def test_no_mac(self):
        """
        A sleeping node whose address is unknown cannot be woken: it is
        unavailable at once, no packet is sent and it stays asleep.
        """
        record = self.asleep(mac="")
        failure = self.failureResultOf(self.power.wake(record), ServiceUnavailable)
        self.assertIn("hardware address is unknown", str(failure.value))
        self.assertEqual((self.sent, record.state), ([], ASLEEP))

    def test_already_waking(self):
        """
        A node already waking gets no second packet; every waiter is told
        once it is enabled.
        """
        record = self.asleep()
        first = self.power.wake(record)
        self.clock.advance(3)
        second = self.power.wake(record)
        self.assertEqual(self.sent, [MAC])
        self.assertNoResult(first)
        self.assertNoResult(second)
        record.answered("enabled", EMPTY, self.clock.seconds())
        self.clock.advance(1)
        self.successResultOf(first)
        self.successResultOf(second)
        self.assertEqual(self.sent, [MAC])

    def test_enabled(self):
        """
        An enabled node needs no waking.
        """
        record = self.node("n", instances=1, resources=FIGURES)
        self.successResultOf(self.power.wake(record))
        self.assertEqual(self.sent, [])
