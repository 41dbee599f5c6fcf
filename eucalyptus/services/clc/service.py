# -*- test-case-name: tests.services.test_daemons,tests.services.clc.test_walrus_proxy,tests.services.clc.test_ec2_boto3 -*-
"""
The Cloud Controller as a service tree.

At C{/services/Eucalyptus} it answers both its internal SOAP service and
the EC2 Query API users drive with C{aws ec2} and boto3; on its own site the
Query API is also at C{/}.
"""

from eucalyptus.accounts import AccountStore
from eucalyptus.config import CloudConfig
from eucalyptus.security import trust
from eucalyptus.security.keys import KeyStore
from eucalyptus.security.wssec import Verifier
from eucalyptus.services.base import mount
from eucalyptus.services.build import build_component, endpoint_url
from eucalyptus.services.clc.clusters import Cluster, ClusterPoller
from eucalyptus.services.clc.cloud import Cloud
from eucalyptus.services.clc.db import open_cloud_database
from eucalyptus.services.clc.ec2.actions import ACTIONS
from eucalyptus.services.clc.ec2.dispatch import Dispatcher, Region
from eucalyptus.services.clc.ec2.resource import Ec2QueryResource, SoapOrQueryResource
from eucalyptus.services.clc.iam.resource import PATH as IAM_PATH
from eucalyptus.services.clc.iam.resource import iam_resource
from eucalyptus.services.clc.metadata import mount_metadata
from eucalyptus.services.clc.operations import CloudOperations
from eucalyptus.services.clc.walrus_proxy import WalrusProxy, serve
from eucalyptus.services.walrus.identities import Identities
from eucalyptus.services.walrus.service import PATH as WALRUS_PATH
from eucalyptus.soap.client import SoapClient
from eucalyptus.wsdl import SERVICE_NAMES, make_application

__all__ = ["make_service", "PATH", "REGION", "WALRUS_PATH", "CC_PATH"]

#: Where each zone's CC answers.
CC_PATH = "axis2/services/EucalyptusCC"

#: Where the CLC's SOAP service and the EC2 Query API answer.
PATH = "services/Eucalyptus"

#: The name of the cloud's one region.
REGION = "eucalyptus"


def make_service(settings, root=None, keystore=None, walrus_proxy=False, reactor=None):
    """
    The Cloud Controller's C{MultiService}.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    @param walrus_proxy: forward C{/services/Walrus} on the CLC's port to
        Walrus's own port (C{WALRUS_HOST}, C{WALRUS_PORT}), for when Walrus
        runs as its own daemon.  The whole cloud in one process leaves it
        off and mounts Walrus's resource there instead.
    @param reactor: the reactor the proxy connects with; the global one by
        default.
    @return: the service; its C{ec2} attribute is the L{Ec2QueryResource},
        its C{cloud} the L{Cloud} the EC2 actions work with.
    """
    if reactor is None:
        from twisted.internet import reactor
    config = CloudConfig.from_settings(settings)
    keystore = keystore or KeyStore(config.keys_dir)
    clc = build_component("clc", config, CloudOperations, PATH, settings["CLC_HOST"], root=root, keystore=keystore)
    region = Region(REGION, clc.operations.url, (config.zone,))
    accounts = AccountStore(config.database_url)
    clc.cloud = Cloud(config, settings, open_cloud_database(config.database_url), accounts, keystore, clock=reactor)
    clc.cloud.clusters[config.zone] = Cluster(config.zone, _cluster_client(settings, config, keystore, reactor))
    clc.poller = ClusterPoller(clc.cloud, settings["CLC_POLLING_FREQUENCY"], reactor=reactor)
    clc.poller.setServiceParent(clc)
    identities = Identities(accounts)
    clc.ec2 = Ec2QueryResource(Dispatcher(ACTIONS, region, cloud=clc.cloud), identities)
    mount(clc.root, PATH, SoapOrQueryResource(_resource_at(clc.root, PATH), clc.ec2))
    clc.iam = iam_resource(accounts, identities)
    mount(clc.root, IAM_PATH, clc.iam)
    mount_metadata(clc.root, clc.cloud)
    if clc.site is not None:
        clc.root.putChild(b"", clc.ec2)
    if walrus_proxy:
        if clc.site is None:
            raise ValueError("The Walrus proxy needs the CLC's own site, not a shared resource tree.")
        proxy = WalrusProxy(settings["WALRUS_HOST"], settings["WALRUS_PORT"], WALRUS_PATH, reactor=reactor)
        serve(proxy, clc.site, clc.root, WALRUS_PATH).setServiceParent(clc)
        clc.walrus_proxy = proxy
    return clc


def _cluster_client(settings, config, keystore, reactor):
    """
    A client of the zone's CC: signed with the cloud key, trusting only the
    zone's cluster certificate.
    """
    url = endpoint_url(settings["CC_HOST"], settings["CC_PORT"], CC_PATH)
    credential = verifier = None
    if config.ws_security:
        credential = trust.own_credential(keystore, "clc", config.zone)
        verifier = Verifier([trust.peer_certificate(keystore, "cc", config.zone)], allow_sha1=config.allow_sha1)
    return SoapClient(url, make_application("cc"), SERVICE_NAMES["cc"], credential=credential, verifier=verifier,
                      timeout=config.soap_timeout, reactor=reactor)


def _resource_at(root, path):
    """
    The resource mounted at C{path} (C{"a/b"}) below C{root}.
    """
    node = root
    for part in path.split("/"):
        node = node.children[part.encode("ascii")]
    return node
