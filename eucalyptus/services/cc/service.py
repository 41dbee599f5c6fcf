# -*- test-case-name: tests.services.test_daemons -*-
"""
The Cluster Controller as a service tree.
"""

from eucalyptus.config import ClusterConfig
from eucalyptus.services.build import build_component
from eucalyptus.services.cc.operations import ClusterOperations

__all__ = ["make_service"]


def make_service(settings, root=None, keystore=None):
    """
    The Cluster Controller's C{MultiService}.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    """
    config = ClusterConfig.from_settings(settings)
    return build_component(
        "cc", config, ClusterOperations, "axis2/services/EucalyptusCC", settings["CC_HOST"], root=root, keystore=keystore
    )
