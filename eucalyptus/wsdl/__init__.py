# -*- test-case-name: tests.wsdl.test_contract -*-
"""
The SOAP contracts between Eucalyptus components.

The checked-in C{*.wsdl} files in this package are the contracts; the spyne
models (L{eucalyptus.wsdl.types}) and services (L{eucalyptus.wsdl.nc},
L{eucalyptus.wsdl.cc}, L{eucalyptus.wsdl.sc}, L{eucalyptus.wsdl.empyrean},
and Walrus's Amazon S3 SOAP API in L{eucalyptus.wsdl.s3}) generate them,
and C{tests/wsdl} proves that generated and checked-in documents agree.  Regenerate a file with::

    python -m eucalyptus.wsdl.dump nc > eucalyptus/wsdl/eucalyptus_nc.wsdl

Hosting: L{make_application} returns the spyne application of a component.
Every operation calls C{ctx.udc.invoke(operation_name, request)}, so the
resource that hosts the application sets C{ctx.udc} to the component's
operations object (for example from the application's C{method_call}
event); C{invoke} returns a response object or a Deferred.
"""

import os

from spyne import Application
from spyne.protocol.soap import Soap11

from eucalyptus.wsdl.binding import (
    EucalyptusInterfaceDocuments, service_soap_action)
from eucalyptus.wsdl.cc import EucalyptusCC
from eucalyptus.wsdl.common import NAMESPACE
from eucalyptus.wsdl.empyrean import Empyrean
from eucalyptus.wsdl.nc import EucalyptusNC
from eucalyptus.wsdl.s3 import AmazonS3
from eucalyptus.wsdl.s3_types import S3_NAMESPACE
from eucalyptus.wsdl.sc import EucalyptusSC

__all__ = [
    "NAMESPACE",
    "NAMESPACES",
    "SOAP_HTTP_TRANSPORT",
    "WSDL_FILES",
    "SERVICE_NAMES",
    "SERVICES",
    "make_application",
    "wsdl_path",
    "soap_action",
]

#: The SOAP-over-HTTP transport URI written in the WSDL binding.
SOAP_HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"

#: Component name to the checked-in WSDL file describing it.
WSDL_FILES = {
    "nc": "eucalyptus_nc.wsdl",
    "cc": "eucalyptus_cc.wsdl",
    "sc": "eucalyptus_sc.wsdl",
    "clc": "eucalyptus_empyrean.wsdl",
    "walrus": "eucalyptus_empyrean.wsdl",
    "s3": "AmazonS3.wsdl",
}

#: Component name to its SOAP service name.
SERVICE_NAMES = {
    "nc": "EucalyptusNC",
    "cc": "EucalyptusCC",
    "sc": "EucalyptusSC",
    "clc": "Empyrean",
    "walrus": "Empyrean",
    "s3": "AmazonS3",
}

#: Component name to its spyne C{ServiceBase} class.
SERVICES = {
    "nc": EucalyptusNC,
    "cc": EucalyptusCC,
    "sc": EucalyptusSC,
    "clc": Empyrean,
    "walrus": Empyrean,
    "s3": AmazonS3,
}

#: Component name to its target namespace, where it is not L{NAMESPACE}.
NAMESPACES = {"s3": S3_NAMESPACE}

#: Components whose replies name derived types with C{xsi:type} (S3 ACL
#: grantees).
_POLYMORPHIC = {"s3"}


def _check_component(component):
    """
    @param component: a component name.
    @raise ValueError: if C{component} is not one of L{SERVICES}.
    """
    if component not in SERVICES:
        raise ValueError("unknown component %r; expected one of %s" % (
            component, ", ".join(sorted(SERVICES))))


def make_application(component):
    """
    Build the spyne application that serves a component's SOAP contract.

    @param component: one of C{"nc"}, C{"cc"}, C{"sc"}, C{"clc"},
        C{"walrus"}, C{"s3"} (Walrus's S3 SOAP API).
    @return: a new C{spyne.Application} (SOAP 1.1 in and out, requests
        validated with lxml against the schema).
    @raise ValueError: for an unknown component.
    """
    _check_component(component)
    application = Application(
        [SERVICES[component]],
        tns=NAMESPACES.get(component, NAMESPACE),
        name=SERVICE_NAMES[component],
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(polymorphic=component in _POLYMORPHIC),
        documents_container=EucalyptusInterfaceDocuments,
    )
    # A spyne server transport sets this when it wraps the application; set
    # it here too so that a WSDL built without a server says SOAP over HTTP.
    application.transport = SOAP_HTTP_TRANSPORT
    return application


def wsdl_path(component):
    """
    @param component: one of the keys of L{WSDL_FILES}.
    @return: the path of the checked-in WSDL file of C{component}.
    @raise ValueError: for an unknown component.
    """
    _check_component(component)
    return os.path.join(os.path.dirname(__file__), WSDL_FILES[component])


def soap_action(component, operation_name):
    """
    @param component: one of the keys of L{SERVICES}.
    @param operation_name: an operation of that component.
    @return: the soapAction (and WS-Addressing Action) of the operation, e.g.
        C{soap_action("nc", "ncRunInstance") == "EucalyptusNC#ncRunInstance"}.
    @raise ValueError: for an unknown component.
    @raise KeyError: for an unknown operation.
    """
    _check_component(component)
    return service_soap_action(SERVICES[component], operation_name)
