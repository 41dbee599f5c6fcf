# -*- test-case-name: tests.services.test_daemons,tests.services.clc.test_walrus_proxy,tests.services.clc.test_ec2_boto3 -*-
"""
The Cloud Controller as a service tree.

At C{/services/Eucalyptus} it answers both its internal SOAP service and
the EC2 Query API users drive with C{aws ec2} and boto3; on its own site the
Query API is also at C{/}.
"""

from eucalyptus.accounts import AccountStore
from eucalyptus.config import CloudConfig
from eucalyptus.services.base import mount
from eucalyptus.services.build import build_component
from eucalyptus.services.clc.ec2.actions import ACTIONS
from eucalyptus.services.clc.ec2.dispatch import Dispatcher, Region
from eucalyptus.services.clc.ec2.resource import Ec2QueryResource, SoapOrQueryResource
from eucalyptus.services.clc.operations import CloudOperations
from eucalyptus.services.clc.walrus_proxy import WalrusProxy, serve
from eucalyptus.services.walrus.identities import Identities
from eucalyptus.services.walrus.service import PATH as WALRUS_PATH

__all__ = ["make_service", "PATH", "REGION", "WALRUS_PATH"]

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
    @return: the service; its C{ec2} attribute is the L{Ec2QueryResource}.
    """
    config = CloudConfig.from_settings(settings)
    clc = build_component("clc", config, CloudOperations, PATH, settings["CLC_HOST"], root=root, keystore=keystore)
    region = Region(REGION, clc.operations.url, (config.zone,))
    clc.ec2 = Ec2QueryResource(Dispatcher(ACTIONS, region), Identities(AccountStore(config.database_url)))
    mount(clc.root, PATH, SoapOrQueryResource(_resource_at(clc.root, PATH), clc.ec2))
    if clc.site is not None:
        clc.root.putChild(b"", clc.ec2)
    if walrus_proxy:
        if clc.site is None:
            raise ValueError("The Walrus proxy needs the CLC's own site, not a shared resource tree.")
        proxy = WalrusProxy(settings["WALRUS_HOST"], settings["WALRUS_PORT"], WALRUS_PATH, reactor=reactor)
        serve(proxy, clc.site, clc.root, WALRUS_PATH).setServiceParent(clc)
        clc.walrus_proxy = proxy
    return clc


def _resource_at(root, path):
    """
    The resource mounted at C{path} (C{"a/b"}) below C{root}.
    """
    node = root
    for part in path.split("/"):
        node = node.children[part.encode("ascii")]
    return node
