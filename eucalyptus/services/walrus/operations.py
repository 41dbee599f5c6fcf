# -*- test-case-name: tests.services.test_daemons -*-
"""
The Walrus's operation layer: what it does, behind C{invoke}.
"""

from eucalyptus.services.base import ComponentOperations

__all__ = ["WalrusOperations"]


class WalrusOperations(ComponentOperations):
    """
    The Walrus.  Today it answers C{DescribeServices}; every other
    operation of its WSDL is a C{NotImplemented} fault until it arrives.
    """

    component = "walrus"
    service_type = "walrus"
