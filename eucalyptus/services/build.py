# -*- test-case-name: tests.services.test_daemons -*-
"""
Building a component's service from its configuration: the part every
component's C{service.py} shares.
"""

from eucalyptus.security.keys import KeyStore
from eucalyptus.services.base import ComponentService, soap_endpoint
from eucalyptus.wsdl import SERVICE_NAMES, make_application

__all__ = ["build_component", "endpoint_url"]


def endpoint_url(host, port, path):
    """
    The URL of a SOAP endpoint.
    """
    return f"http://{host}:{port}/{path.strip('/')}"


def build_component(component, config, operations_type, path, url_host, root=None, keystore=None):
    """
    A L{ComponentService} serving C{component}'s SOAP service at C{path}.

    @param component: C{clc}, C{walrus}, C{cc}, C{sc} or C{nc}.
    @param config: the component's configuration dataclass.
    @param operations_type: the component's operations class, called with
        C{(config, url)}.
    @param path: the service path, e.g. C{axis2/services/EucalyptusNC}.
    @param url_host: the host name others use to reach this component.
    @param root: a resource tree to mount into (shared port), or C{None}.
    @param keystore: a L{KeyStore}; by default the one in the data directory.
    @return: the L{ComponentService}; its C{operations} attribute is the
        operations object.
    """
    keystore = keystore or KeyStore(config.keys_dir)
    operations = operations_type(config, endpoint_url(url_host, config.port, path))
    app = make_application(component)
    endpoint = soap_endpoint(config, keystore, component, operations, app, SERVICE_NAMES[component])
    component_service = ComponentService(config, root)
    component_service.add_soap(path, endpoint)
    component_service.operations = operations
    return component_service
