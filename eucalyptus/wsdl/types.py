# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Every spyne model of the Eucalyptus SOAP contracts, in one namespace.

Import message types from here (C{from eucalyptus.wsdl.types import
NcRunInstanceType}).  The definitions live in four smaller modules:
L{eucalyptus.wsdl.common} (the C{eucalyptusMessage} header, shared data
types, C{DescribeServices}), L{eucalyptus.wsdl.nc_types},
L{eucalyptus.wsdl.cc_types} and L{eucalyptus.wsdl.sc_types}.
"""

from eucalyptus.wsdl import cc_types, common, nc_types, sc_types
from eucalyptus.wsdl.cc_types import *  # noqa: F401,F403
from eucalyptus.wsdl.common import *  # noqa: F401,F403
from eucalyptus.wsdl.nc_types import *  # noqa: F401,F403
from eucalyptus.wsdl.sc_types import *  # noqa: F401,F403

__all__ = (
    list(common.__all__) + list(nc_types.__all__) + list(cc_types.__all__)
    + list(sc_types.__all__))
