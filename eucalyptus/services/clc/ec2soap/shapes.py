# -*- test-case-name: tests.services.clc.test_ec2_soap_shapes -*-
"""
EC2 SOAP messages by botocore's model.

A request's body holds one element named after the action, in the
namespace of its API version::

    <DescribeRegions xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
      <RegionName><RegionName>eucalyptus</RegionName></RegionName>
    </DescribeRegions>

Its members follow the rules the responses are written by
(L{eucalyptus.services.clc.ec2.serialize}): each member is the element of
its C{locationName} (else its member name); a list is a wrapper element
whose members are named by the list member's C{locationName} (else
C{item}); scalars are XML Schema lexical forms.  L{parse_input} turns such
an element into the dict the action takes (keyed by botocore's member
names), as L{eucalyptus.services.clc.ec2.query.parse_input} does for the
Query API.

The answer is the Query API's response element inside a SOAP 1.1
envelope; an error is a SOAP fault whose C{faultcode} is EC2's code after
C{Client.} or C{Server.} (C{Client.InvalidInstanceID.NotFound}).

L{SOAP_API} is the L{eucalyptus.services.clc.ec2.dispatch.Api} the
resource dispatches with: its C{params} are the C{Action}, the C{Version}
and, under L{REQUEST}, the request element.
"""

import re

from lxml import etree

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2 import model, query, serialize
from eucalyptus.services.clc.ec2.dispatch import Api
from eucalyptus.services.clc.ec2.errors import MissingParameter, UnknownParameter

__all__ = [
    "SOAP_ENV",
    "NAMESPACE_PREFIX",
    "REQUEST",
    "SOAP_API",
    "member_element_names",
    "list_item_name",
    "version_of",
    "parse_input",
    "response_envelope",
    "fault_envelope",
]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

#: Every EC2 API version's namespace starts so.
NAMESPACE_PREFIX = "http://ec2.amazonaws.com/doc/"

#: The key of the request element in the params given to the dispatcher.
REQUEST = "soap:request"

_VERSION_NAMESPACE = re.compile(re.escape(NAMESPACE_PREFIX) + r"([^/]+)/")


def version_of(namespace):
    """
    The API version of an EC2 namespace, or L{None} if it is not one.

    @param namespace: C{http://ec2.amazonaws.com/doc/2016-11-15/}.
    """
    match = _VERSION_NAMESPACE.fullmatch(namespace or "")
    return match.group(1) if match else None


def member_element_names(shape):
    """
    The element name of each member of a structure shape: its
    C{locationName}, else its member name.

    @return: a dict from member name to element name.
    """
    return {member: member_shape.serialization.get("name", member) for member, member_shape in shape.members.items()}


def list_item_name(shape):
    """
    The element name of the members of a list shape.
    """
    return shape.member.serialization.get("name", "item")


def parse_input(operation_model, params):
    """
    The input of an action from its SOAP request element.

    @param operation_model: the action's botocore C{OperationModel}.
    @param params: the dispatcher's params; the element is under L{REQUEST}.
    @return: a dict keyed by the input shape's member names.
    @raise UnknownParameter: an element the action does not take.
    @raise InvalidParameterValue: a value of the wrong type or form.
    @raise MissingParameter: a required member is missing.
    """
    element = params[REQUEST]
    shape = operation_model.input_shape
    if shape is None:
        for child in element.iterchildren(etree.Element):
            raise UnknownParameter(f"The parameter {etree.QName(child).localname} is not recognized")
        return {}
    return _structure(shape, element, operation_model.name)


def _children(element, path):
    """
    The element children of C{element}; text beside them is refused.
    """
    if (element.text or "").strip() or any((child.tail or "").strip() for child in element):
        raise InvalidParameterValue(f"The parameter {path} takes elements, not text.")
    return list(element.iterchildren(etree.Element))


def _parse(shape, element, path):
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, element, path)
    if kind == "list":
        return _list(shape, element, path)
    if len(element):
        raise InvalidParameterValue(f"The parameter {path} takes a value, not elements.")
    return _scalar(kind, element.text or "", path)


def _structure(shape, element, path):
    namespace = etree.QName(element).namespace
    names = member_element_names(shape)
    index = {name: member for member, name in names.items()}
    result = {}
    for child in _children(element, path):
        name = etree.QName(child)
        member = index.get(name.localname) if name.namespace == namespace else None
        if member is None:
            raise UnknownParameter(f"The parameter {path}.{name.localname} is not recognized")
        if member in result:
            raise InvalidParameterValue(f"The parameter {path}.{name.localname} is given more than once.")
        result[member] = _parse(shape.members[member], child, f"{path}.{name.localname}")
    for member in shape.required_members:
        if member not in result:
            raise MissingParameter(f"The request must contain the parameter {path}.{names[member]}")
    return result


def _list(shape, element, path):
    namespace = etree.QName(element).namespace
    item = list_item_name(shape)
    values = []
    for child in _children(element, path):
        name = etree.QName(child)
        if name.localname != item or name.namespace != namespace:
            raise UnknownParameter(f"The parameter {path}.{name.localname} is not recognized: send {item} elements")
        values.append(_parse(shape.member, child, f"{path}.{item}"))
    return values


#: xsd:boolean's numeric spellings, as the Query API spells them.
_XSD_BOOLEANS = {"1": "true", "0": "false"}


def _scalar(kind, text, path):
    """
    A scalar from an element's text: the Query API's conversion, after
    XML's leading and trailing blanks and xsd:boolean's C{1}/C{0}.
    """
    if kind != "string":
        text = text.strip()
    if kind == "boolean":
        text = _XSD_BOOLEANS.get(text, text)
    return query.scalar(kind, text, path)


def _envelope():
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def response_envelope(operation_model, result, request_id, version):
    """
    The SOAP envelope answering an action: the Query API's response
    element in the body.

    @param operation_model: the action's botocore C{OperationModel}.
    @param result: a dict keyed by the output shape's member names, or
        L{None}.
    @param request_id: the request's id.
    @param version: the API version the request named: the namespace.
    @return: the UTF-8 document.
    @rtype: L{bytes}
    @raise ValueError: C{result} does not fit the output shape.
    """
    ns = model.namespace(version)
    envelope, body = _envelope()
    response = etree.SubElement(body, f"{{{ns}}}{operation_model.name}Response", nsmap={None: ns})
    etree.SubElement(response, f"{{{ns}}}requestId").text = request_id
    shape = operation_model.output_shape
    if shape is None:
        if result:
            raise ValueError(f"{operation_model.name} has no output, but its result is {result!r}")
        etree.SubElement(response, f"{{{ns}}}return").text = "true"
    else:
        serialize.write_members(response, shape, result or {}, ns, operation_model.name)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def fault_envelope(error, request_id):
    """
    The SOAP fault for an error: C{faultcode} C{Client.<code>} (or
    C{Server.<code>} for the cloud's own failures), the message as
    C{faultstring}, and the request id in the C{detail}.

    @param error: an L{eucalyptus.errors.EucalyptusError}.
    @rtype: L{bytes}
    """
    envelope, body = _envelope()
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    side = "Server" if error.http_status >= 500 else "Client"
    etree.SubElement(fault, "faultcode").text = f"{side}.{error.code}"
    etree.SubElement(fault, "faultstring").text = error.message
    etree.SubElement(etree.SubElement(fault, "detail"), "RequestID").text = request_id
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


#: The EC2 API as the SOAP resource dispatches it.
SOAP_API = Api("EC2", model.operation, model.check_version, parse_input, response_envelope)
