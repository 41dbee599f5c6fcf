# -*- test-case-name: tests.wsdl.test_contract -*-
"""
The C{Empyrean} SOAP service (C{eucalyptus_empyrean.wsdl}): the service
topology operation that the CLC and Walrus daemons answer at
C{http://<host>:8773/services/Empyrean}.
"""

from eucalyptus.wsdl.binding import service_class
from eucalyptus.wsdl.common import (
    DescribeServicesResponseType, DescribeServicesType)

__all__ = ["EMPYREAN_OPERATIONS", "Empyrean"]

#: (operation, request type, response type).
EMPYREAN_OPERATIONS = [
    ("DescribeServices", DescribeServicesType, DescribeServicesResponseType),
]

Empyrean = service_class(
    "Empyrean", EMPYREAN_OPERATIONS, __name__,
    "The service-topology operations of the CLC and Walrus.")
