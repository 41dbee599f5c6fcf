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
from eucalyptus.services.build import build_component, endpoint_url
from eucalyptus.services.cc.nodes import InstanceCache, NodeRecord
from eucalyptus.services.cc.operations import ClusterOperations
from eucalyptus.services.cc.poller import NodePoller
from eucalyptus.soap.client import SoapClient
from eucalyptus.wsdl import SERVICE_NAMES, make_application

__all__ = ["make_service"]


def _node_clients(config, keystore, reactor):
    """
    C{client_for(record)}: a SOAP client of one node, as the CC calls it.
    """
    app = make_application("nc")
    if config.ws_security:
        credential = trust.own_credential(keystore, "cc", config.zone)
        verifier = Verifier([trust.peer_certificate(keystore, "nc", config.zone)], allow_sha1=config.allow_sha1)
    else:
        credential = verifier = None

    def client_for(record):
        return SoapClient(
            record.url, app, SERVICE_NAMES["nc"], credential=credential, verifier=verifier,
            timeout=config.soap_timeout, reactor=reactor,
        )

    return client_for


def make_service(settings, root=None, keystore=None, reactor=None):
    """
    The Cluster Controller's C{MultiService}.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    """
    config = ClusterConfig.from_settings(settings)
    keystore = keystore or KeyStore(config.keys_dir)
    records = [NodeRecord(host, endpoint_url(host, config.node_port, config.node_service)) for host in config.nodes]
    cache = InstanceCache()
    operations = functools.partial(ClusterOperations, records=records, cache=cache)
    component = build_component(
        "cc", config, operations, "axis2/services/EucalyptusCC", settings["CC_HOST"], root=root, keystore=keystore
    )
    poller = NodePoller(
        records, cache, _node_clients(config, keystore, reactor), interval=config.poll_interval,
        per_node_timeout=2 * config.poll_interval, instance_timeout=config.instance_timeout, reactor=reactor,
    )
    poller.setServiceParent(component)
    component.poller = poller
    return component
