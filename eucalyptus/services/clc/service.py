# -*- test-case-name: tests.services.test_daemons -*-
"""
The Cloud Controller as a service tree.
"""

from eucalyptus.config import CloudConfig
from eucalyptus.services.build import build_component
from eucalyptus.services.clc.operations import CloudOperations

__all__ = ["make_service"]


def make_service(settings, root=None, keystore=None):
    """
    The Cloud Controller's C{MultiService}.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    """
    config = CloudConfig.from_settings(settings)
    return build_component(
        "clc", config, CloudOperations, "services/Eucalyptus", settings["CLC_HOST"], root=root, keystore=keystore
    )
