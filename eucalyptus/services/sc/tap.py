# -*- test-case-name: tests.services.test_daemons -*-
"""
The twistd plugin of the Storage Controller: C{twistd -n euca-sc}.
"""

from eucalyptus.services import taps
from eucalyptus.services.sc import service

__all__ = ["Options", "makeService"]

Options = taps.Options


def makeService(options):
    """
    Build the Storage Controller from the options' configuration file and data
    directory.
    """
    return service.make_service(taps.settings_from(options))
