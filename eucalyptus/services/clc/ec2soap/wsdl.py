# -*- test-case-name: tests.services.clc.test_ec2_soap_wsdl -*-
"""
The WSDL of the EC2 SOAP API, generated from botocore's model for the
actions this cloud answers, and checked in as C{eucalyptus/wsdl/ec2.wsdl}.

It is document/literal SOAP 1.1 in the namespace of
L{eucalyptus.services.clc.ec2.model.LATEST_VERSION}: for each action an
element C{<Action>} of the input shape's type and an element
C{<Action>Response} of type C{<Action>ResponseType} (C{requestId}, then
the output shape's members, or C{return} for an action without output);
one complex type per structure and list shape they reach, with the element
names of L{eucalyptus.services.clc.ec2soap.shapes}; scalars are XML
Schema types.  Enumerations are plain strings.

C{python -m eucalyptus.services.clc.ec2soap.wsdl} prints the generated
WSDL (C{--write} replaces the checked-in file with it).
"""

import os
import sys

from lxml import etree

from eucalyptus.services.clc.ec2 import model
from eucalyptus.services.clc.ec2soap.shapes import list_item_name, member_element_names

__all__ = ["PATH", "LOCATION", "generate", "checked_in", "main"]

#: The checked-in WSDL.
PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))), "wsdl", "ec2.wsdl")

#: The service address written in the WSDL; clients give their cloud's.
LOCATION = "http://localhost:8773/services/Eucalyptus"

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XS = "http://www.w3.org/2001/XMLSchema"
HTTP = "http://schemas.xmlsoap.org/soap/http"

_XS_TYPES = {
    "string": "xs:string",
    "integer": "xs:int",
    "long": "xs:long",
    "boolean": "xs:boolean",
    "float": "xs:float",
    "double": "xs:double",
    "timestamp": "xs:dateTime",
    "blob": "xs:base64Binary",
}


def _w(name):
    return f"{{{WSDL}}}{name}"


def _xs(name):
    return f"{{{XS}}}{name}"


def _soap(name):
    return f"{{{SOAP}}}{name}"


def _type_of(shape, types):
    """
    The XML Schema type name of a shape, adding its complex type (and
    those it reaches) to C{types} when it is a structure or a list.
    """
    if shape.type_name in _XS_TYPES:
        return _XS_TYPES[shape.type_name]
    if shape.type_name not in ("structure", "list"):
        raise ValueError(f"{shape.name} is a {shape.type_name}, which EC2 SOAP does not carry")
    if shape.name not in types:
        types[shape.name] = None  # Reserved first: shapes may be recursive.
        complex_type = etree.Element(_xs("complexType"), name=shape.name)
        sequence = etree.SubElement(complex_type, _xs("sequence"))
        if shape.type_name == "list":
            etree.SubElement(
                sequence, _xs("element"), name=list_item_name(shape), type=_type_of(shape.member, types),
                minOccurs="0", maxOccurs="unbounded",
            )  # fmt: skip
        else:
            _add_members(sequence, shape, types)
        types[shape.name] = complex_type
    return "tns:" + shape.name


def _add_members(sequence, shape, types):
    names = member_element_names(shape)
    required = set(shape.required_members)
    for member, member_shape in shape.members.items():
        element = etree.SubElement(sequence, _xs("element"), name=names[member], type=_type_of(member_shape, types))
        if member not in required:
            element.set("minOccurs", "0")


def _response_type(operation_model, types):
    complex_type = etree.Element(_xs("complexType"), name=f"{operation_model.name}ResponseType")
    sequence = etree.SubElement(complex_type, _xs("sequence"))
    etree.SubElement(sequence, _xs("element"), name="requestId", type="xs:string")
    if operation_model.output_shape is None:
        etree.SubElement(sequence, _xs("element"), name="return", type="xs:boolean")
    else:
        _add_members(sequence, operation_model.output_shape, types)
    return complex_type


def generate(actions, version=model.LATEST_VERSION, location=LOCATION):
    """
    The WSDL of some EC2 actions.

    @param actions: the action names (C{ACTIONS}' keys).
    @param version: the API version: the target namespace.
    @param location: the service address to write.
    @return: the document, UTF-8.
    @rtype: L{bytes}
    @raise ValueError: two types would have one name.
    """
    ns = model.namespace(version)
    definitions = etree.Element(
        _w("definitions"), nsmap={"wsdl": WSDL, "soap": SOAP, "xs": XS, "tns": ns}, name="AmazonEC2", targetNamespace=ns
    )
    schema = etree.SubElement(
        etree.SubElement(definitions, _w("types")), _xs("schema"), targetNamespace=ns, elementFormDefault="qualified"
    )
    types, elements, responses = {}, [], []
    names = sorted(actions)
    for name in names:
        operation_model = model.operation(name)
        if operation_model.input_shape is None:
            request_type = f"{name}RequestType"
            responses.append(etree.Element(_xs("complexType"), name=request_type))
            etree.SubElement(responses[-1], _xs("sequence"))
            request_type = "tns:" + request_type
        else:
            request_type = _type_of(operation_model.input_shape, types)
        responses.append(_response_type(operation_model, types))
        elements.append(etree.Element(_xs("element"), name=name, type=request_type))
        elements.append(etree.Element(_xs("element"), name=f"{name}Response", type=f"tns:{name}ResponseType"))
    schema.extend(elements)
    all_types = sorted([*types.values(), *responses], key=lambda t: t.get("name"))
    seen = [t.get("name") for t in all_types]
    if len(seen) != len(set(seen)):
        raise ValueError(f"Two types share a name among {sorted(n for n in seen if seen.count(n) > 1)}")
    schema.extend(all_types)

    for name in names:
        for suffix, element in (("Request", name), ("Response", f"{name}Response")):
            message = etree.SubElement(definitions, _w("message"), name=f"{name}{suffix}Msg")
            etree.SubElement(message, _w("part"), name="body", element=f"tns:{element}")
    port_type = etree.SubElement(definitions, _w("portType"), name="AmazonEC2PortType")
    for name in names:
        operation = etree.SubElement(port_type, _w("operation"), name=name)
        etree.SubElement(operation, _w("input"), message=f"tns:{name}RequestMsg")
        etree.SubElement(operation, _w("output"), message=f"tns:{name}ResponseMsg")
    binding = etree.SubElement(definitions, _w("binding"), name="AmazonEC2Binding", type="tns:AmazonEC2PortType")
    etree.SubElement(binding, _soap("binding"), style="document", transport=HTTP)
    for name in names:
        operation = etree.SubElement(binding, _w("operation"), name=name)
        etree.SubElement(operation, _soap("operation"), soapAction=name)
        for direction in ("input", "output"):
            etree.SubElement(etree.SubElement(operation, _w(direction)), _soap("body"), use="literal")
    service = etree.SubElement(definitions, _w("service"), name="AmazonEC2")
    port = etree.SubElement(service, _w("port"), name="AmazonEC2Port", binding="tns:AmazonEC2Binding")
    etree.SubElement(port, _soap("address"), location=location)
    return etree.tostring(definitions, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def checked_in():
    """
    The checked-in WSDL, as L{bytes}.
    """
    with open(PATH, "rb") as f:
        return f.read()


def main(argv=None):
    """
    Print the WSDL of the actions this cloud answers; with C{--write},
    write it to L{PATH} instead.
    """
    from eucalyptus.services.clc.ec2.actions import ACTIONS

    argv = sys.argv[1:] if argv is None else argv
    document = generate(ACTIONS)
    if argv == ["--write"]:
        with open(PATH, "wb") as f:
            f.write(document)
    else:
        sys.stdout.buffer.write(document)


if __name__ == "__main__":
    main()
