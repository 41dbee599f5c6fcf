# -*- test-case-name: tests.services.test_daemons -*-
"""
The Node Controller as a service tree.
"""

from eucalyptus.config import NodeConfig
from eucalyptus.services.build import build_component
from eucalyptus.services.nc.operations import NodeOperations

__all__ = ["make_service"]


def make_service(settings, root=None, keystore=None):
    """
    The Node Controller's C{MultiService}.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    """
    config = NodeConfig.from_settings(settings)
    return build_component(
        "nc", config, NodeOperations, config.service_path, "127.0.0.1", root=root, keystore=keystore
    )
