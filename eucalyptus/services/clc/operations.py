# -*- test-case-name: tests.services.test_daemons -*-
"""
The Cloud Controller's operation layer: what it does, behind C{invoke}.
"""

from eucalyptus.services.base import ComponentOperations

__all__ = ["CloudOperations"]


class CloudOperations(ComponentOperations):
    """
    The Cloud Controller.  Today it answers C{DescribeServices}; every other
    operation of its WSDL is a C{NotImplemented} fault until it arrives.
    """

    component = "clc"
    service_type = "eucalyptus"
