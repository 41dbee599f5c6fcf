# -*- test-case-name: tests.services.test_daemons -*-
"""
The Storage Controller as a service tree.
"""

from eucalyptus.config import StorageConfig
from eucalyptus.services.build import build_component
from eucalyptus.services.sc.operations import StorageOperations

__all__ = ["make_service"]


def make_service(settings, root=None, keystore=None):
    """
    The Storage Controller's C{MultiService}.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    """
    config = StorageConfig.from_settings(settings)
    return build_component(
        "sc", config, StorageOperations, "services/Storage", settings["SC_HOST"], root=root, keystore=keystore
    )
