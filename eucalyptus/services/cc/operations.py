# -*- test-case-name: tests.services.test_daemons -*-
"""
The Cluster Controller's operation layer: what it does, behind C{invoke}.
"""

from eucalyptus.services.base import ComponentOperations

__all__ = ["ClusterOperations"]


class ClusterOperations(ComponentOperations):
    """
    The Cluster Controller.  Today it answers C{DescribeServices}; every other
    operation of its WSDL is a C{NotImplemented} fault until it arrives.
    """

    component = "cc"
    service_type = "cluster"
