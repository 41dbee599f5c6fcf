# -*- test-case-name: tests.services.test_daemons -*-
"""
The Node Controller's operation layer: what it does, behind C{invoke}.
"""

from eucalyptus.services.base import ComponentOperations

__all__ = ["NodeOperations"]


class NodeOperations(ComponentOperations):
    """
    The Node Controller.  Today it answers C{DescribeServices}; every other
    operation of its WSDL is a C{NotImplemented} fault until it arrives.
    """

    component = "nc"
    service_type = "node"
