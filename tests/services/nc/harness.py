"""
A Node Controller model on libvirt's own C{test:///default} driver for
fast tests: real driver thread, real image cache and disk tools (qemu-img,
mkfs), images served by a local fetcher instead of Walrus (the fetcher's own
tests and the end-to-end test use a real Walrus).
"""

import os

from twisted.internet import defer, reactor
from twisted.trial import unittest

from eucalyptus.config import NodeConfig, config_from_string
from eucalyptus.hypervisor.libvirt import LibvirtHypervisor
from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.disks import DiskBuilder
from eucalyptus.services.nc.errors import ImageNotFound
from eucalyptus.services.nc.images import ImageCache
from eucalyptus.services.nc.lifecycle import Monitor, adopt
from eucalyptus.services.nc.node import Node
from eucalyptus.services.nc.sensors import Sensors
from eucalyptus.threads import Workers

__all__ = ["LocalFetcher", "NodeTestCase", "spec", "URLS", "MiB"]

MiB = 1024**2
URLS = {
    "kernel": ("eki-11111111", "http://walrus.test/images/vmlinuz"),
    "ramdisk": ("eri-22222222", "http://walrus.test/images/initrd.img"),
    "machine": ("emi-33333333", "http://walrus.test/images/root.img"),
}


class LocalFetcher:
    """
    Serves image URLs from bytes in memory, counting downloads.

    @ivar images: URL to content; a missing URL is L{ImageNotFound}.
    @ivar fetched: the URLs downloaded, in order.
    @ivar gate: when set, a Deferred every download waits for.
    """

    def __init__(self, images):
        self.images = dict(images)
        self.fetched = []
        self.gate = None

    @defer.inlineCallbacks
    def fetch(self, url, destination):
        self.fetched.append(url)
        if self.gate is not None:
            yield self.gate
        if url not in self.images:
            raise ImageNotFound(f"{url} does not exist")
        with open(destination, "wb") as f:
            f.write(self.images[url])
        return len(self.images[url])

    def size(self, url):
        """
        Sizes are not known before the download.
        """
        return defer.succeed(None)

    def close(self):
        pass


def spec(instance_id="i-0123abcd", user="alice", cores=1, memory=128, disk=1, mac="d0:0d:01:23:ab:cd"):
    """
    An instance as a CC would ask for it.
    """
    return records.Instance(
        instance_id=instance_id,
        user_id=user,
        reservation_id="r-00000001",
        image_id=URLS["machine"][0],
        kernel_id=URLS["kernel"][0],
        ramdisk_id=URLS["ramdisk"][0],
        vm=records.VmType("m1.test", memory, cores, disk, []),
        net=records.NetConfig(mac=mac, private_ip="172.31.0.5"),
    )


class NodeTestCase(unittest.TestCase):
    """
    Base of tests that drive a L{Node} on the test driver.
    """

    config_text = (
        'HYPERVISOR="test"\nSHUTDOWN_GRACE_PERIOD_SEC="1"\nNC_BOOTING_CLEANUP_THRESHOLD="60"\n'
        'NC_TEARDOWN_STATE_DURATION="180"\nVNET_BRIDGE=""\nMAX_MEM="4096"\nMAX_CORES="8"\nNC_WORK_SIZE="20480"\n'
    )

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        os.makedirs(self.data)
        self.config = NodeConfig.from_settings(config_from_string(self.config_text, self.data))
        os.makedirs(os.path.join(self.config.instance_path, "work"))
        self.fetcher = LocalFetcher(
            {URLS["kernel"][1]: b"kernel" * 100, URLS["ramdisk"][1]: b"initrd" * 100, URLS["machine"][1]: b"\0" * MiB}
        )
        self.hypervisor = self.make_hypervisor()
        self.addCleanup(self.hypervisor.close)
        self.node = self.make_node()

    def make_hypervisor(self):
        """
        The driver the node runs on: libvirt's test driver.
        """
        return LibvirtHypervisor("test:///default", timeout=10)

    def make_node(self, cache_bytes=64 * MiB):
        """
        A node over the shared hypervisor and instance directory (a second
        one stands for the same node after a restart).
        """
        cache = ImageCache(os.path.join(self.config.instance_path, "cache"), cache_bytes, self.fetcher, reactor=reactor)
        self.addCleanup(cache.settled)
        files = Workers(reactor, 1, "nc-files-test")
        files.start()
        self.addCleanup(files.stop)
        node = Node(self.config, self.hypervisor, cache, DiskBuilder(4), files, 20 * 1024**3, reactor)
        self.sensors = Sensors()
        self.monitor = Monitor(node, self.sensors)
        return node

    @defer.inlineCallbacks
    def start(self, node=None):
        """
        What the service does before it serves: learn the host, adopt.
        """
        node = node or self.node
        node.host = yield node.hypervisor.host()
        adopted = yield adopt(node)
        return adopted

    @defer.inlineCallbacks
    def settled(self, node=None):
        """
        Wait until no background work is left on the node.
        """
        node = node or self.node
        while node.busy:
            yield defer.DeferredList(list(node.busy.values()))

    def directory(self, instance_id, user="alice"):
        return os.path.join(self.config.instance_path, "work", user, instance_id)

