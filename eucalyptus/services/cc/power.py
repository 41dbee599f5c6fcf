# -*- test-case-name: tests.services.cc.test_power -*-
"""
POWERSAVE: nodes idle for C{POWER_IDLETHRESH} seconds are powered down with
C{ncPowerDown}; a sleeping node the scheduler picks is woken with a
Wake-on-LAN packet and used once it answers, within C{POWER_WAKETHRESH}.

A node's hardware address comes from the kernel's neighbour table
(C{/proc/net/arp}) once the node has answered a poll, as the original CC
learnt it; without one a sleeping node cannot be woken and says so.
"""

import socket

from twisted.internet import defer, task
from twisted.logger import Logger

from eucalyptus.accounts import ADMIN_ACCOUNT
from eucalyptus.errors import ServiceUnavailable
from eucalyptus.services.cc.nodes import ASLEEP, DOWN, ENABLED
from eucalyptus.services.cc.scheduler import nodes_to_power_down
from eucalyptus.wsdl import nc_types

__all__ = ["magic_packet", "neighbour_mac", "send_wake_packet", "Power"]

#: Where Wake-on-LAN packets go: the local broadcast, the discard port.
WAKE_ADDRESS = ("255.255.255.255", 9)


def magic_packet(mac):
    """
    The Wake-on-LAN packet for C{mac}: six C{0xff} bytes, then the address
    sixteen times.

    @raise ValueError: for something that is not a MAC address.
    """
    octets = mac.replace("-", ":").split(":")
    if len(octets) != 6 or not all(len(o) == 2 for o in octets):
        raise ValueError(f"{mac!r} is not a MAC address")
    address = bytes.fromhex("".join(octets))
    return b"\xff" * 6 + address * 16


def neighbour_mac(host, table="/proc/net/arp"):
    """
    The hardware address the kernel's neighbour table has for C{host} (an
    IPv4 address, or C{host:port}), or C{""}.
    """
    address = host.rpartition(":")[0] if host.count(":") == 1 else host
    try:
        with open(table, encoding="ascii") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and fields[0] == address and fields[3] != "00:00:00:00:00:00":
            return fields[3].lower()
    return ""


def send_wake_packet(mac, address=WAKE_ADDRESS):
    """
    Broadcast the Wake-on-LAN packet of C{mac} over UDP.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.sendto(magic_packet(mac), address)


class Power:
    """
    The power side of POWERSAVE, over the cluster's nodes.
    """

    _log = Logger()

    def __init__(
        self, nodes, client_for, clock, idle_threshold=300, wake_threshold=300, mac_of=neighbour_mac,
        send=send_wake_packet, check_interval=1.0,
    ):
        """
        @param nodes: the L{NodeList} (or any iterable of L{NodeRecord}s).
        @param client_for: a L{NodeRecord} to its SOAP client.
        @param clock: the reactor.
        @param idle_threshold: C{POWER_IDLETHRESH}, seconds.
        @param wake_threshold: C{POWER_WAKETHRESH}, seconds.
        @param mac_of: a node's host to its hardware address, or C{""}.
        @param send: sends the wake packet of a MAC address.
        @param check_interval: seconds between looks at a waking node.
        """
        self.nodes = nodes
        self.client_for = client_for
        self.clock = clock
        self.idle_threshold = idle_threshold
        self.wake_threshold = wake_threshold
        self.mac_of = mac_of
        self.send = send
        self.check_interval = check_interval

    def after_pass(self):
        """
        After a poll pass: learn the addresses of nodes that answered, and
        power down the ones idle too long.

        @return: a Deferred firing when the power-downs were asked for.
        """
        records = list(self.nodes)
        for record in records:
            if record.state == ENABLED and not record.mac:
                record.mac = self.mac_of(record.host)
        now = self.clock.seconds()
        idle = set(nodes_to_power_down([record.view() for record in records], now, self.idle_threshold))
        return defer.DeferredList(
            [self._power_down(record, now) for record in records if record.host in idle], consumeErrors=True
        )

    @defer.inlineCallbacks
    def _power_down(self, record, now):
        idle = now - record.idle_since
        order = nc_types.NcPowerDownType(correlationId=f"powerdown-{record.host}", userId=ADMIN_ACCOUNT)
        try:
            yield self.client_for(record).call("ncPowerDown", order)
        except Exception as e:
            self._log.warn("Node {host} would not power down: {error}", host=record.host, error=e)
            return
        record.state, record.reason = ASLEEP, f"powered down after {idle:.0f} s without instances"
        self._log.info("Node {host} is asleep: {reason}", host=record.host, reason=record.reason)

    @defer.inlineCallbacks
    def wake(self, record):
        """
        Wake a sleeping node and wait until a poll finds it enabled.  Its
        idle time starts again, so it is not powered down before the
        instance it was woken for arrives.

        @return: a Deferred firing once it is enabled.
        @raise ServiceUnavailable: when its address is unknown or it did not
            come up within C{POWER_WAKETHRESH}.
        """
        if record.state == ASLEEP:
            if not record.mac:
                raise ServiceUnavailable(f"Node {record.host} is asleep and its hardware address is unknown.")
            self.send(record.mac)
            record.state, record.reason = DOWN, f"woken with a Wake-on-LAN packet to {record.mac}"
            record.idle_since = None
            self._log.info("Waking node {host} ({mac})", host=record.host, mac=record.mac)
        deadline = self.clock.seconds() + self.wake_threshold
        while record.state != ENABLED:
            if self.clock.seconds() >= deadline:
                raise ServiceUnavailable(f"Node {record.host} did not wake within {self.wake_threshold} s.")
            yield task.deferLater(self.clock, self.check_interval, lambda: None)
