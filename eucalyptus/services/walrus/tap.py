# -*- test-case-name: tests.services.test_daemons -*-
"""
The twistd plugin of the Walrus: C{twistd -n euca-walrus}.
"""

from eucalyptus.services import taps
from eucalyptus.services.walrus import service

__all__ = ["Options", "makeService"]

Options = taps.Options


def makeService(options):
    """
    Build the Walrus from the options' configuration file and data
    directory.
    """
    return service.make_service(taps.settings_from(options))
