# -*- test-case-name: tests.services.test_daemons -*-
"""
The twistd plugin of the Cluster Controller: C{twistd -n euca-cc}.
"""

from eucalyptus.services import taps
from eucalyptus.services.cc import service

__all__ = ["Options", "makeService"]

Options = taps.Options


def makeService(options):
    """
    Build the Cluster Controller from the options' configuration file and data
    directory.
    """
    return service.make_service(taps.settings_from(options))
