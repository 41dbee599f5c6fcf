# -*- test-case-name: tests.services.test_daemons -*-
"""
The twistd plugin of the Cloud Controller: C{twistd -n euca-clc}.
"""

from eucalyptus.services import taps
from eucalyptus.services.clc import service

__all__ = ["Options", "makeService"]

Options = taps.Options


def makeService(options):
    """
    Build the Cloud Controller from the options' configuration file and data
    directory.  As its own daemon it forwards C{/services/Walrus} to the
    Walrus daemon.
    """
    return service.make_service(taps.settings_from(options), walrus_proxy=True)
