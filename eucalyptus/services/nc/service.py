# -*- test-case-name: tests.services.nc.test_service -*-
"""
The Node Controller as a service tree.

L{make_service} reads the configuration and builds the collaborators: the
hypervisor driver chosen by C{HYPERVISOR}, the image cache with its
downloader (signing with the node's own key), the disk builder, the
L{Node} model and its SOAP operations.  L{NodeControllerService} starts
them in order: the node learns its host and adopts what it was running
before it listens or monitors anything.
"""

import functools
import os
import stat

from twisted.application import service
from twisted.internet import defer, utils
from twisted.logger import Logger

from eucalyptus.config import NodeConfig
from eucalyptus.errors import ConfigError, IncorrectInstanceState, InternalError
from eucalyptus.hypervisor import open_hypervisor
from eucalyptus.security import trust
from eucalyptus.security.keys import KeyStore
from eucalyptus.services.build import build_component
from eucalyptus.services.nc.disks import DiskBuilder
from eucalyptus.services.nc.fetch import Fetcher
from eucalyptus.services.nc.images import ImageCache
from eucalyptus.services.nc.lifecycle import Monitor, adopt
from eucalyptus.services.nc.node import Node
from eucalyptus.services.nc.operations import NodeOperations
from eucalyptus.services.nc.resources import automatic_sizes
from eucalyptus.services.nc.sensors import Sensors
from eucalyptus.services.nc.volumes import Volumes
from eucalyptus.threads import Workers

__all__ = ["make_service", "NodeControllerService"]


class NodeControllerService(service.MultiService):
    """
    The node: its SOAP site and its monitor, started once the node knows its
    host and has adopted its instances.

    @ivar node: the L{Node}.
    @ivar operations: the L{NodeOperations}.
    @ivar ready: a Deferred firing once the node serves (for tests).
    """

    _log = Logger()

    def __init__(self, node, component, monitor, fetcher):
        service.MultiService.__init__(self)
        self.node = node
        self.reactor = node.reactor
        self.operations = component.operations
        self.fetcher = fetcher
        self.ready = None
        component.setServiceParent(self)
        monitor.setServiceParent(self)

    def startService(self):
        self.node.files.start()
        self.ready = self._start()
        self.ready.addErrback(self._failed_to_start)

    @defer.inlineCallbacks
    def _start(self):
        self.node.host = yield self.node.hypervisor.host()
        adopted = yield adopt(self.node)
        self.operations.state = "ENABLED"
        self._log.info(
            "Node on {uri} ({kind}): {cores} cores, {memory} MiB; adopted {count} instances",
            uri=self.node.hypervisor.uri, kind=self.node.host.domain_type, cores=self.node.host.cores,
            memory=self.node.host.memory_mib, count=len(adopted),
        )
        service.MultiService.startService(self)

    def _failed_to_start(self, failure):
        self._log.failure("The node controller could not start", failure)
        self.reactor.stop()

    @defer.inlineCallbacks
    def stopService(self):
        if self.running:
            yield service.MultiService.stopService(self)
        yield self.node.hypervisor.close()
        self.fetcher.close()
        yield self.node.files.stop()


def power_down(command, node):
    """
    C{ncPowerDown}: run the configured command, once no instance is left.
    """
    if node.live():
        raise IncorrectInstanceState("The node still has instances; it powers down only when idle.")
    argv = command.split()
    d = utils.getProcessOutputAndValue(argv[0], argv[1:], env=os.environ)

    def finished(result):
        _, err, code = result
        if code != 0:
            why = err.decode("utf-8", "replace").strip() or f"exit status {code}"
            raise InternalError(f"The power-down command {command!r} failed: {why}")

    return d.addCallback(finished)


def _private_keys(keystore, zone):
    """
    The private keys this node can decrypt bundles with: its own and, where
    the cloud shares its key directory (one machine), the cloud's.
    """
    keys = [keystore.credential("node", zone).key]
    if os.path.exists(keystore.key_path("cloud")):
        keys.append(keystore.credential("cloud").key)
    return keys


def _check_reachable(path):
    """
    libvirt runs qemu as an unprivileged user (C{libvirt-qemu}) that must be
    able to enter every directory above the instance files.

    @raise ConfigError: one of them is closed to other users.
    """
    directory = os.path.abspath(path)
    while True:
        if not os.stat(directory).st_mode & stat.S_IXOTH:
            raise ConfigError(
                f"INSTANCE_PATH {path} is not reachable by qemu: {directory} is closed to other users "
                f"(chmod o+x {directory}, or choose another INSTANCE_PATH)."
            )
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def make_service(settings, root=None, keystore=None, hypervisor=None, reactor=None):
    """
    The Node Controller's service.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{KeyStore} (tests); the data directory's by default.
    @param hypervisor: an L{IHypervisor} (tests); by default the driver
        C{HYPERVISOR} names.
    """
    if reactor is None:
        from twisted.internet import reactor
    config = NodeConfig.from_settings(settings)
    keystore = keystore or KeyStore(config.keys_dir)
    os.makedirs(os.path.join(config.instance_path, "work"), mode=0o755, exist_ok=True)
    cache_bytes, work_bytes = automatic_sizes(config.instance_path, config.cache_size_mb, config.work_size_mb)
    if hypervisor is None and config.hypervisor.lower() == "kvm":
        _check_reachable(config.instance_path)
    hypervisor = hypervisor or open_hypervisor(config.hypervisor.lower(), timeout=config.libvirt_timeout, reactor=reactor)
    fetcher = Fetcher(
        trust.own_credential(keystore, "nc", config.zone),
        max_attempts=config.download_attempts,
        reactor=reactor,
        private_keys=_private_keys(keystore, config.zone),
    )
    cache = ImageCache(os.path.join(config.instance_path, "cache"), cache_bytes, fetcher, reactor=reactor)
    files = Workers(reactor, 1, "nc-files")
    node = Node(config, hypervisor, cache, DiskBuilder(config.concurrent_disk_ops), files, work_bytes, reactor)
    sensors = Sensors()
    power = functools.partial(power_down, settings["NC_POWERDOWN_COMMAND"]) if settings["NC_POWERDOWN_COMMAND"] else None
    operations = functools.partial(NodeOperations, node=node, sensors=sensors, volumes=Volumes(node), power=power)
    component = build_component("nc", config, operations, config.service_path, config.host, root=root, keystore=keystore)
    monitor = Monitor(node, sensors)
    return NodeControllerService(node, component, monitor, fetcher)
