# -*- test-case-name: tests.services.test_daemons -*-
"""
The twistd plugin of the Node Controller: C{twistd -n euca-nc}.
"""

from eucalyptus.services import taps
from eucalyptus.services.nc import service

__all__ = ["Options", "makeService"]

Options = taps.Options


def makeService(options):
    """
    Build the Node Controller from the options' configuration file and data
    directory.
    """
    return service.make_service(taps.settings_from(options))
