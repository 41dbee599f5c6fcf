# -*- test-case-name: tests.services.clc.test_ec2_serialize,tests.services.clc.test_iam_protocol -*-
"""
Writing EC2 responses: an action's result dict, keyed by botocore's member
names, becomes the XML document botocore's C{EC2QueryParser} reads back
into the same dict::

    <DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
      <requestId>6a5d5f3e-...</requestId>
      <regionInfo>
        <item><regionName>eucalyptus</regionName>...</item>
      </regionInfo>
    </DescribeRegionsResponse>

Each member is written under its C{locationName} (else its member name);
a list is a wrapper element of C{<item>}s (empty when the list is);
timestamps are ISO 8601 in UTC with milliseconds (C{2016-11-15T12:00:00.000Z});
booleans are C{true}/C{false}; blobs are base64.  An action with no output
shape answers C{<return>true</return>}, as EC2 does.

Errors are EC2's C{Response/Errors/Error} document with the C{RequestID}.
A result holding a key its shape does not have is a bug in the action and
raises L{ValueError}.
"""

import base64
import numbers
from datetime import datetime, timezone

from lxml import etree

from eucalyptus.services.clc.ec2.model import namespace

__all__ = ["CONTENT_TYPE", "response_document", "error_document", "timestamp_text", "write_members"]

#: The content type of every EC2 answer.
CONTENT_TYPE = b"text/xml;charset=UTF-8"


def response_document(operation_model, result, request_id, version):
    """
    The response document of an action.

    @param operation_model: the action's botocore C{OperationModel}.
    @param result: a dict keyed by the output shape's member names (members
        that are L{None} or missing are left out), or L{None}.
    @param request_id: the request's id.
    @param version: the API version the request named: the namespace.
    @return: the UTF-8 document.
    @rtype: L{bytes}
    @raise ValueError: C{result} does not fit the output shape.
    """
    ns = namespace(version)
    root = etree.Element(f"{{{ns}}}{operation_model.name}Response", nsmap={None: ns})
    etree.SubElement(root, f"{{{ns}}}requestId").text = request_id
    shape = operation_model.output_shape
    if shape is None:
        if result:
            raise ValueError(f"{operation_model.name} has no output, but its result is {result!r}")
        etree.SubElement(root, f"{{{ns}}}return").text = "true"
    else:
        write_members(root, shape, result or {}, ns, operation_model.name)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def error_document(error, request_id):
    """
    The error document of EC2 for C{error}.

    @param error: an L{eucalyptus.errors.EucalyptusError}.
    @rtype: L{bytes}
    """
    root = etree.Element("Response")
    item = etree.SubElement(etree.SubElement(root, "Errors"), "Error")
    etree.SubElement(item, "Code").text = error.code
    etree.SubElement(item, "Message").text = error.message
    etree.SubElement(root, "RequestID").text = request_id
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def write_members(parent, shape, value, ns, path, list_item="item"):
    """
    Write the members of a structure value under C{parent}.

    @param ns: the namespace of the elements.
    @param path: where the value is, for messages (C{"DescribeRegions"}).
    @param list_item: the element of a list's members when their shape
        names none: C{item} for EC2, C{member} for the other query APIs.
    @raise ValueError: C{value} does not fit C{shape}.
    """
    if not isinstance(value, dict):
        raise ValueError(f"{path} must be a dict for {shape.name}, not {value!r}")
    unknown = set(value) - set(shape.members)
    if unknown:
        raise ValueError(f"{path} has members {sorted(unknown)} that {shape.name} does not have")
    for member, member_shape in shape.members.items():
        member_value = value.get(member)
        if member_value is not None:
            name = member_shape.serialization.get("name", member)
            element = etree.SubElement(parent, f"{{{ns}}}{name}")
            _write(element, member_shape, member_value, ns, f"{path}.{member}", list_item)


def _write(element, shape, value, ns, path, list_item):
    """
    Write one value of C{shape} into C{element}.
    """
    kind = shape.type_name
    if kind == "structure":
        write_members(element, shape, value, ns, path, list_item)
    elif kind == "list":
        if isinstance(value, (str, bytes, dict)):
            raise ValueError(f"{path} must be a list for {shape.name}, not {value!r}")
        tag = f"{{{ns}}}{shape.member.serialization.get('name', list_item)}"
        for index, item in enumerate(value):
            _write(etree.SubElement(element, tag), shape.member, item, ns, f"{path}[{index}]", list_item)
    else:
        element.text = _SCALARS[kind](value, path)


def _string(value, path):
    if not isinstance(value, str):
        raise ValueError(f"{path} must be a string, not {value!r}")
    return value


def _integer(value, path):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{path} must be an integer, not {value!r}")
    return str(int(value))


def _boolean(value, path):
    if not isinstance(value, bool):
        raise ValueError(f"{path} must be a bool, not {value!r}")
    return "true" if value else "false"


def _float(value, path):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{path} must be a number, not {value!r}")
    return repr(float(value))


def _blob(value, path):
    if not isinstance(value, bytes):
        raise ValueError(f"{path} must be bytes, not {value!r}")
    return base64.b64encode(value).decode("ascii")


def _timestamp(value, path):
    if isinstance(value, bool) or not isinstance(value, (datetime, numbers.Real)):
        raise ValueError(f"{path} must be a datetime or seconds since the epoch, not {value!r}")
    return timestamp_text(value)


def timestamp_text(value):
    """
    A time as EC2 writes it: ISO 8601 in UTC with milliseconds.

    @param value: an aware L{datetime}, a naive one (taken as UTC), or
        seconds since the epoch.
    @return: e.g. C{"2016-11-15T12:00:00.000Z"}.
    """
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(value, timezone.utc)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


_SCALARS = {
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "boolean": _boolean,
    "float": _float,
    "double": _float,
    "timestamp": _timestamp,
    "blob": _blob,
}
