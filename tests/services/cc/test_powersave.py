"""
POWERSAVE end to end, in one process: a real Walrus, two real NC services
on libvirt's test driver (each on its own port), and a CC whose Wake-on-LAN
packets go to a UDP socket the test listens on.  An idle node is powered
down with ncPowerDown (its command runs; the test then stops the service,
as the machine would go off); when the awake node is full, the CC wakes the
sleeping one with a real magic packet, which the test answers by starting
the node again, and the instance starts there.
"""

import functools
import io
import os

from twisted.internet import defer, protocol, reactor, task, threads
from twisted.trial.unittest import TestCase

from eucalyptus import admin
from eucalyptus.config import config_from_string, set_value
from eucalyptus.services.build import endpoint_url
from eucalyptus.services.cc import service as cc
from eucalyptus.services.cc.power import magic_packet, send_wake_packet
from eucalyptus.services.nc import service as nc
from eucalyptus.services.walrus import service as walrus
from eucalyptus.wsdl import cc_types
from tests.daemons import free_ports
from tests.services.cc.zone import CC_PATH, ZONE_SETTINGS, run_request, upload_images

MACS = ("02:00:00:00:00:01", "02:00:00:00:00:02")


class WakeListener(protocol.DatagramProtocol):
    """
    Receives the wake packets and calls C{woken(mac)} for each.
    """

    def __init__(self, woken):
        self.woken = woken
        self.packets = []

    def datagramReceived(self, data, address):
        self.packets.append(data)
        for mac in MACS:
            if data == magic_packet(mac):
                self.woken(mac)


class PowersaveTests(TestCase):
    """
    Two nodes, room for four small instances each, SCHEDPOLICY=POWERSAVE.
    """

    timeout = 120

    @defer.inlineCallbacks
    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        os.makedirs(self.data)
        ports = free_ports(5)
        walrus_port, cc_port, wake_port = ports[:3]
        self.entries = [f"127.0.0.1:{port}" for port in ports[3:]]
        text = ZONE_SETTINGS + (
            f'LISTEN_ADDRESS="127.0.0.1"\nWALRUS_PORT="{walrus_port}"\nCC_PORT="{cc_port}"\n'
            f'NODES="{" ".join(self.entries)}"\nSCHEDPOLICY="POWERSAVE"\nPOWER_IDLETHRESH="2"\n'
            'POWER_WAKETHRESH="30"\n'
        )
        self.text = text
        self.settings = config_from_string(text, self.data)
        admin.initialise(self.settings, out=io.StringIO())
        self.walrus = walrus.make_service(self.settings)
        self.walrus.startService()
        self.addCleanup(self.walrus.stopService)
        yield self.walrus.listening()
        self.account, self.urls = yield threads.deferToThread(
            upload_images, self.settings, f"http://127.0.0.1:{walrus_port}"
        )
        self.nodes = {}
        for entry in self.entries:
            yield self.start_node(entry)
        self.listener = WakeListener(self.woken)
        port = reactor.listenUDP(wake_port, self.listener, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.cluster = cc.make_service(self.settings, power_options=dict(
            mac_of=lambda host: MACS[self.entries.index(host)],
            send=functools.partial(send_wake_packet, address=("127.0.0.1", wake_port)),
            check_interval=0.1,
        ))
        self.cluster.startService()
        self.addCleanup(self.cluster.stopService)
        yield self.cluster.poller.first_pass()
        self.client = admin.component_client(
            self.settings, "cc", endpoint_url("127.0.0.1", cc_port, CC_PATH), reactor, timeout=60
        )
        self.addCleanup(self.client.close)

    def node_settings(self, entry):
        """
        The settings of one node: its port, instance directory and a
        power-down command that leaves a mark.
        """
        port = entry.rpartition(":")[2]
        text = self.text
        values = dict(
            NC_PORT=port, INSTANCE_PATH=os.path.join(self.data, port),
            NC_POWERDOWN_COMMAND=f"touch {os.path.join(self.data, f'asleep-{port}')}",
        )
        for key, value in values.items():
            text = set_value(text, key, value)
        return config_from_string(text, self.data)

    @defer.inlineCallbacks
    def start_node(self, entry):
        service = nc.make_service(self.node_settings(entry))
        service.startService()
        self.nodes[entry] = service
        self.addCleanup(lambda: service.running and service.stopService())
        yield service.ready

    def woken(self, mac):
        entry = self.entries[MACS.index(mac)]
        if not self.nodes[entry].running:
            self.start_node(entry)

    def record(self, entry):
        return self.cluster.nodes.find(entry)

    @defer.inlineCallbacks
    def until(self, what, check, seconds=30):
        for _ in range(int(seconds / 0.1)):
            if check():
                return
            yield task.deferLater(reactor, 0.1, lambda: None)
        self.fail(f"timed out waiting for {what}")

    @defer.inlineCallbacks
    def test_power_down_and_wake(self):
        """
        Both nodes idle: both are powered down after POWER_IDLETHRESH.  An
        instance then wakes the first; five more fill it and wake the
        second for the fifth.
        """
        yield self.until("both nodes asleep", lambda: all(self.record(e).state == "asleep" for e in self.entries))
        for entry in self.entries:
            self.assertTrue(os.path.exists(os.path.join(self.data, f"asleep-{entry.rpartition(':')[2]}")))
            self.assertIn("powered down after", self.record(entry).reason)
            yield self.nodes[entry].stopService()
        answer = yield self.client.call("RunInstances", run_request(self.account, self.urls, ["i-00000001"]))
        self.assertEqual([i.serviceTag for i in answer.instances], [self.record(self.entries[0]).url])
        self.assertEqual(self.listener.packets, [magic_packet(MACS[0])])
        ids = [f"i-0000000{n}" for n in range(2, 7)]
        answer = yield self.client.call("RunInstances", run_request(self.account, self.urls, ids))
        tags = [i.serviceTag for i in answer.instances]
        self.assertEqual(tags, [self.record(self.entries[0]).url] * 3 + [self.record(self.entries[1]).url] * 2)
        self.assertEqual(self.listener.packets, [magic_packet(MACS[0]), magic_packet(MACS[1])])
        described = yield self.client.call(
            "DescribeInstances", cc_types.DescribeInstancesType(correlationId="c", userId="u", instanceIds=[])
        )
        self.assertEqual(len(described.instances), 6)

