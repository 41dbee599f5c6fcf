# -*- test-case-name: tests.services.test_base -*-
"""
What every component's service shares.

L{ComponentOperations} is the base of each component's operation layer: it
holds the explicit table of implemented operations (the one dispatch choke
point the SOAP adapter calls through C{invoke}) and answers
C{DescribeServices}.  L{ComponentService} is the C{MultiService} a component
runs as: its SOAP resources mounted on a site listening at the configured port,
plus whatever children the component adds (pollers, monitors).
"""

import socket

from twisted.application import service, strports
from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.resource import Resource

from eucalyptus.errors import NotImplementedOperation, ServiceUnavailable
from eucalyptus.security import trust
from eucalyptus.security.wssec import Verifier
from eucalyptus.soap.resource import ServiceEndpoint, SoapResource, SoapSite
from eucalyptus.wsdl import common

__all__ = ["ComponentOperations", "ComponentService", "respond", "soap_endpoint", "mount"]


def respond(request, response_type, **fields):
    """
    A response of C{response_type} that echoes the request's correlation and
    user ids and says it succeeded.
    """
    response = response_type(**fields)
    response.correlationId = request.correlationId
    response.userId = request.userId
    response._return = True
    return response


class ComponentOperations:
    """
    Base of a component's operation layer.

    Subclasses set L{component} and L{service_type} and return their own
    operations from L{operations}, a dict from WSDL operation name to a
    method taking the request object.

    @cvar component: C{clc}, C{walrus}, C{cc}, C{sc} or C{nc}.
    @cvar service_type: the C{serviceInfoType.type} reported by
        C{DescribeServices}.
    @ivar state: the service state (C{ENABLED}, C{DISABLED}, C{NOTREADY}
        while starting, ...).
    """

    component = None
    service_type = None
    _log = Logger()

    def __init__(self, config, url):
        """
        @param config: the component's configuration dataclass.
        @param url: the URL this component's SOAP service answers at.
        """
        self.config = config
        self.url = url
        self.state = "ENABLED"
        self._table = dict(self.operations(), DescribeServices=self.describe_services)

    def operations(self):
        """
        The operations this component implements beyond C{DescribeServices}.
        """
        return {}

    def invoke(self, name, request):
        """
        Run operation C{name}; the SOAP adapter's only way in.  While the
        component is C{NOTREADY} (still starting) only C{DescribeServices}
        is answered.

        @return: a Deferred firing with the response object.
        """
        if self.state == "NOTREADY" and name != "DescribeServices":
            return defer.fail(
                ServiceUnavailable(f"The {self.component} is starting; try again in a few seconds.")
            )
        method = self._table.get(name)
        if method is None:
            return defer.fail(
                NotImplementedOperation(f"{name} is in the WSDL but the {self.component} does not do it yet.")
            )
        return defer.maybeDeferred(method, request)

    def describe_services(self, request):
        """
        C{DescribeServices}: this component's identity and state.
        """
        status = common.ServiceStatusType(
            serviceId=common.ServiceInfoType(
                partition=self.config.zone if self.component in ("cc", "sc", "nc") else "eucalyptus",
                type=self.service_type,
                name=f"{socket.gethostname()}:{self.config.port}",
                uris=[self.url],
            ),
            localState=self.state,
            localEpoch=0,
            details=[],
        )
        return respond(request, common.DescribeServicesResponseType, serviceStatuses=[status])


def soap_endpoint(config, keystore, component, operations, app, service_name):
    """
    The L{ServiceEndpoint} of a component, signing and verifying as
    L{eucalyptus.security.trust} says unless WS-Security is off.
    """
    if not config.ws_security:
        return ServiceEndpoint(app, service_name, operations)
    verifier = Verifier(
        trust.pinned_certificates(keystore, component, config.zone),
        ttl=config.ttl,
        skew=config.skew,
        allow_sha1=config.allow_sha1,
    )
    credential = trust.own_credential(keystore, component, config.zone)
    return ServiceEndpoint(app, service_name, operations, credential, verifier, config.ttl)


def mount(root, path, resource):
    """
    Put C{resource} at C{path} (C{"a/b/c"}) under C{root}, creating the
    intermediate resources.
    """
    parts = [part.encode("ascii") for part in path.strip("/").split("/")]
    node = root
    for part in parts[:-1]:
        child = node.children.get(part)
        if child is None:
            child = Resource()
            node.putChild(part, child)
        node = child
    node.putChild(parts[-1], resource)


class ComponentService(service.MultiService):
    """
    A component as a service tree: a site on its port with its SOAP
    resources, and the children the component adds.

    @ivar root: the root resource of the component's site.
    @ivar site: that site, or C{None} when mounted into another's.
    """

    def __init__(self, config, root=None):
        """
        @param config: the component's configuration (address, port, limits).
        @param root: the resource tree of another component's site to mount
            into (components sharing one port in one process); by default
            the component gets its own site listening on its port.
        """
        service.MultiService.__init__(self)
        self.config = config
        if root is None:
            root = Resource()
            site = SoapSite(root, max_body=config.max_body)
            listen = f"tcp:{config.port}:interface={config.listen_address}"
            strports.service(listen, site).setServiceParent(self)
        else:
            site = None
        self.root = root
        self.site = site

    def add_soap(self, path, endpoint):
        """
        Serve a L{ServiceEndpoint} at C{path}.
        """
        mount(self.root, path, SoapResource(endpoint))
