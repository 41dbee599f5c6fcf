# -*- test-case-name: tests.wsdl.test_contract -*-
"""
How a table of operations becomes a spyne service and a WSDL.

Every Eucalyptus operation is document/literal I{bare}: the SOAP body holds
one element named after the operation (C{ncRunInstance}, typed
C{ncRunInstanceType}) and the reply one element named C{<operation>Response}.
The body of every operation is the same delegation::

    return ctx.udc.invoke("<operation>", request)

where C{ctx.udc} is set by the hosting resource to the component's
operations object.  C{invoke} may return a response object or a
L{Deferred <twisted.internet.defer.Deferred>}; the hosting resource waits
for the latter.

spyne writes the operation name itself as C{soapAction}; the original
contracts use C{<Service>#<operation>}.  L{EucalyptusWsdl11} rewrites it.
L{EucalyptusInterfaceDocuments} makes it the application's own document
(C{app.interface.docs.wsdl11}), and L{build_wsdl} uses it too: a host that
serves C{?wsdl} must build the document with one of those two, not with a
plain C{spyne.interface.wsdl.Wsdl11}.
"""

from lxml import etree
from spyne import ServiceBase, rpc
from spyne.const.xml import WSDL11, WSDL11_SOAP
from spyne.interface import InterfaceDocumentsBase
from spyne.interface.wsdl import Wsdl11

__all__ = [
    "operation",
    "service_class",
    "service_soap_action",
    "EucalyptusWsdl11",
    "EucalyptusInterfaceDocuments",
    "build_wsdl",
    "SOAP_ACTION_TEMPLATE",
]

#: The soapAction of an operation, as a C{str.format} template over
#: C{service} and C{operation}.  A service class may set its own
#: C{soap_action_template} (the S3 service: C{""}, as in Amazon's WSDL).
SOAP_ACTION_TEMPLATE = "{service}#{operation}"


def operation(name, request_type, response_type):
    """
    Declare one bare document/literal operation that delegates to
    C{ctx.udc.invoke(name, request)}.

    @param name: the operation name, which is also the request element name;
        the response element is C{name + "Response"}.
    @param request_type: the request model, a subclass of
        L{eucalyptus.wsdl.common.EucalyptusMessage}.
    @param response_type: the response model.
    @return: a spyne-decorated function, to be placed in a C{ServiceBase}
        class body under the attribute C{name}.
    """
    def call(ctx, request):
        return ctx.udc.invoke(name, request)

    # spyne keys methods by function name: two functions both named "call"
    # in one application would collide.
    call.__name__ = call.__qualname__ = name
    call.__doc__ = "SOAP operation C{%s}: delegate to C{ctx.udc}." % (name,)
    return rpc(
        request_type,
        _body_style="bare",
        _returns=response_type,
        _operation_name=name,
        _in_message_name=name,
        _out_message_name=name + "Response",
    )(call)


def service_class(name, operations, module, doc):
    """
    Build a spyne C{ServiceBase} subclass from a table of operations.

    @param name: the class name, which is also the SOAP service name
        (C{EucalyptusNC}).
    @param operations: rows of C{(name, request_type, response_type)}, in
        WSDL order.
    @param module: the C{__name__} of the declaring module.
    @param doc: the class docstring.
    @return: the new C{ServiceBase} subclass.
    """
    body = {"__module__": module, "__doc__": doc}
    for row in operations:
        if row[0] in body:
            raise ValueError("operation %r declared twice" % (row[0],))
        body[row[0]] = operation(*row)
    return type(name, (ServiceBase,), body)


def service_soap_action(service, operation_name):
    """
    The soapAction of one operation, as the WSDL declares it.

    @param service: a class built by L{service_class}.
    @param operation_name: the operation name (C{ncRunInstance}).
    @return: C{"<Service>#<operation>"}, e.g. C{"EucalyptusNC#ncRunInstance"}.
    @raise KeyError: if C{service} has no such operation.
    """
    method = service.public_methods[operation_name]
    return _soap_action(service.__name__, method, _template(service))


def _template(service):
    """
    @return: the soapAction template of a service class.
    """
    return getattr(service, "soap_action_template", SOAP_ACTION_TEMPLATE)


def _soap_action(service_name, method, template=SOAP_ACTION_TEMPLATE):
    """
    @param service_name: the SOAP service name (C{EucalyptusNC}).
    @param method: a spyne method descriptor made by L{operation}.
    @param template: the service's L{SOAP_ACTION_TEMPLATE}.
    @return: the soapAction of C{method}, which is also the WS-Addressing
        Action the hosting resource expects.
    """
    return template.format(service=service_name, operation=method.operation_name)


class EucalyptusWsdl11(Wsdl11):
    """
    spyne's WSDL 1.1 document, with C{<Service>#<operation>} soapActions.
    """

    def add_bindings_for_methods(self, service, root, service_name,
                                 cb_binding):
        """
        Let spyne write the binding, then set each operation's soapAction.
        """
        binding = super().add_bindings_for_methods(
            service, root, service_name, cb_binding)
        actions = {
            method.operation_name: _soap_action(
                service_name, method, _template(service))
            for method in service.public_methods.values()}
        for element in binding.iterfind(WSDL11("operation")):
            soap_operation = element.find(WSDL11_SOAP("operation"))
            soap_operation.set("soapAction", actions[element.get("name")])
        return binding


class EucalyptusInterfaceDocuments(InterfaceDocumentsBase):
    """
    The interface documents of a Eucalyptus application: L{EucalyptusWsdl11}
    is both the WSDL and the schema the C{lxml} validator uses.

    Pass the class as C{documents_container} to C{spyne.Application}.
    """

    def __init__(self, interface):
        super().__init__(interface, wsdl11=EucalyptusWsdl11(interface))


def build_wsdl(application, url):
    """
    Build the WSDL of an application without a server.

    A fresh document object is used each time: a spyne C{Wsdl11} caches its
    portType and service elements and cannot be built twice.

    @param application: a C{spyne.Application} from
        L{eucalyptus.wsdl.make_application}.
    @param url: the endpoint URL written in C{soap:address}.
    @return: the WSDL, pretty-printed UTF-8 XML.
    @rtype: L{bytes}
    """
    document = EucalyptusWsdl11(application.interface)
    document.build_interface_document(url)
    tree = etree.fromstring(document.get_interface_document())
    return etree.tostring(
        tree, pretty_print=True, xml_declaration=True, encoding="UTF-8")
