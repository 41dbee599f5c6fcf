# -*- test-case-name: tests.services.test_daemons -*-
"""
The Storage Controller's operation layer: what it does, behind C{invoke}.
"""

from eucalyptus.services.base import ComponentOperations

__all__ = ["StorageOperations"]


class StorageOperations(ComponentOperations):
    """
    The Storage Controller.  Today it answers C{DescribeServices}; every other
    operation of its WSDL is a C{NotImplemented} fault until it arrives.
    """

    component = "sc"
    service_type = "storage"
