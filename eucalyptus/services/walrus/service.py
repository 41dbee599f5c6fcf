# -*- test-case-name: tests.services.test_daemons -*-
"""
The Walrus as a service tree.
"""

from eucalyptus.config import WalrusConfig
from eucalyptus.services.build import build_component
from eucalyptus.services.walrus.operations import WalrusOperations

__all__ = ["make_service"]


def make_service(settings, root=None, keystore=None):
    """
    The Walrus's C{MultiService}.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: a resource tree to mount into when sharing a port.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    """
    config = WalrusConfig.from_settings(settings)
    return build_component(
        "walrus", config, WalrusOperations, "services/Walrus", settings["WALRUS_HOST"], root=root, keystore=keystore
    )
