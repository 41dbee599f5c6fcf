# -*- test-case-name: tests.services.test_daemons,tests.services.clc.test_walrus_proxy -*-
"""
The Cloud Controller as a service tree.
"""

from eucalyptus.config import CloudConfig
from eucalyptus.services.build import build_component
from eucalyptus.services.clc.operations import CloudOperations
from eucalyptus.services.clc.walrus_proxy import WalrusProxy, serve
from eucalyptus.services.walrus.service import PATH as WALRUS_PATH

__all__ = ["make_service", "WALRUS_PATH"]


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
    """
    config = CloudConfig.from_settings(settings)
    clc = build_component(
        "clc", config, CloudOperations, "services/Eucalyptus", settings["CLC_HOST"], root=root, keystore=keystore
    )
    if walrus_proxy:
        if clc.site is None:
            raise ValueError("The Walrus proxy needs the CLC's own site, not a shared resource tree.")
        proxy = WalrusProxy(settings["WALRUS_HOST"], settings["WALRUS_PORT"], WALRUS_PATH, reactor=reactor)
        serve(proxy, clc.site, clc.root, WALRUS_PATH).setServiceParent(clc)
        clc.walrus_proxy = proxy
    return clc
