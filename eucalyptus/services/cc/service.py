# -*- test-case-name: tests.services.cc.test_operations -*-
"""
The Cluster Controller as a service tree: its SOAP service and the poller
of its nodes (C{NODES}), whose calls are signed with the cluster key and
whose answers must be signed by the zone's node certificate.
"""

import functools

from eucalyptus.config import ClusterConfig
from eucalyptus.security import trust
from eucalyptus.security.keys import KeyStore
from eucalyptus.security.wssec import Verifier
from eucalyptus.services.build import build_component
from eucalyptus.services.cc.launcher import Launcher
from eucalyptus.services.cc.network import ClusterNetwork
from eucalyptus.services.cc.nodelist import NodeList
from eucalyptus.services.cc.nodes import InstanceCache
from eucalyptus.services.cc.operations import ClusterOperations
from eucalyptus.services.cc.poller import NodePoller
from eucalyptus.services.cc.power import Power
from eucalyptus.services.cc.scheduler import POWERSAVE, SchedulerState
from eucalyptus.soap.client import SoapClient
from eucalyptus.wsdl import SERVICE_NAMES, make_application

__all__ = ["make_service", "RETRY_WINDOW", "RUN_TIMEOUT"]

#: Seconds during which RunInstances places a failed instance again
#: (the original's 15 s; POWERSAVE waits C{POWER_WAKETHRESH} instead).
RETRY_WINDOW = 15

#: Seconds a node has to answer ncRunInstance: it only checks and records
#: the request before answering (the images are fetched afterwards), so a
#: node that takes longer is treated as failed and the next one is tried.
RUN_TIMEOUT = 5


def _node_clients(config, keystore, reactor):
    """
    C{client_for(record)}: a SOAP client of one node, as the CC calls it,
    one per node URL and kept (its connections are pooled).
    """
    app = make_application("nc")
    if config.ws_security:
        credential = trust.own_credential(keystore, "cc", config.zone)
        verifier = Verifier([trust.peer_certificate(keystore, "nc", config.zone)], allow_sha1=config.allow_sha1)
    else:
        credential = verifier = None

    clients = {}

    def client_for(record):
        if record.url not in clients:
            clients[record.url] = SoapClient(
                record.url, app, SERVICE_NAMES["nc"], credential=credential, verifier=verifier,
                timeout=config.soap_timeout, reactor=reactor,
            )
        return clients[record.url]

    return client_for


def make_service(settings, root=None, keystore=None, reactor=None, power_options=None):
    """
    The Cluster Controller's C{MultiService}.  It answers only
    C{DescribeServices} (as C{NOTREADY}) until its first poll pass is
    done, so that a restarted CC never schedules or describes from an
    empty cache.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    @param reactor: the reactor (the global one by default).
    @param power_options: more keyword arguments for L{Power} (tests: how
        MAC addresses are found, how wake packets are sent).
    """
    if reactor is None:
        from twisted.internet import reactor
    config = ClusterConfig.from_settings(settings)
    keystore = keystore or KeyStore(config.keys_dir)
    cache = InstanceCache()
    nodes = NodeList(
        config.nodes, config.node_port, config.node_service, cache, config.config_path, settings.data_dir
    )
    clients = _node_clients(config, keystore, reactor)
    powersave = config.sched_policy == POWERSAVE
    power = Power(
        nodes, clients, reactor, config.power_idle, config.power_wake, **(power_options or {})
    ) if powersave else None
    launcher = Launcher(
        lambda: list(nodes), cache, clients, config.sched_policy, SchedulerState(), reactor,
        per_node_timeout=min(RUN_TIMEOUT, config.soap_timeout), retry_window=config.power_wake if powersave else RETRY_WINDOW,
        mac_prefix=config.mac_prefix, waker=power.wake if power else None, max_instances=config.max_instances,
    )
    network = ClusterNetwork(config.vnet_mode, config.vnet_subnet, config.vnet_netmask, config.addresses_per_net)
    operations = functools.partial(
        ClusterOperations, nodes=nodes, cache=cache, launcher=launcher, client_for=clients, network=network
    )
    component = build_component(
        "cc", config, operations, "axis2/services/EucalyptusCC", settings["CC_HOST"], root=root, keystore=keystore
    )
    component.operations.state = "NOTREADY"
    poller = NodePoller(
        nodes, cache, clients, interval=config.poll_interval, per_node_timeout=2 * config.poll_interval,
        instance_timeout=config.instance_timeout, reactor=reactor, before_pass=nodes.reload,
        after_pass=power.after_pass if power else None,
    )
    poller.first_pass().addCallback(lambda _: setattr(component.operations, "state", "ENABLED"))
    poller.setServiceParent(component)
    component.poller = poller
    component.nodes = nodes
    return component
