# -*- test-case-name: tests.services.clc.test_ec2_query,tests.services.clc.test_iam_protocol -*-
"""
Reading an EC2 Query request: flat C{name=value} parameters in, the nested
dict an action works on out.

The parameters are the inverse of what botocore's C{EC2Serializer} writes
from the action's input shape (for the C{ec2} protocol):

  - a structure member is named by its C{queryName}, else by its
    C{locationName} with the first letter in upper case, else by its member
    name, and nested members are joined with dots
    (C{BlockDeviceMapping.1.Ebs.VolumeSize});
  - a list is its members numbered from 1 (C{InstanceId.1},
    C{Filter.1.Value.2}); the numbers need not be contiguous and set the
    order;
  - integers, booleans (C{true}/C{false}), floats, ISO 8601 timestamps and
    base64 blobs are converted; strings are kept as sent.

The result is keyed by botocore's member names, so an action receives what
a boto3 caller passed (C{{"Filters": [{"Name": ..., "Values": [...]}]}}).
Parameters the shape does not have are refused (C{UnknownParameter}), as
are values of the wrong type and missing required members
(C{InvalidParameterValue}, C{MissingParameter}).

The other query APIs (IAM, STS, ...: botocore's C{query} protocol, which
the model's metadata names) differ in two ways: a member is named by its
C{locationName} as it is, else by its member name, and a list's members
are numbered below C{member} (C{Tags.member.1.Key}), or below the list
member's C{locationName}, unless the list is flattened.
"""

import base64
import binascii
import functools
import math
import re
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.security.ec2sigv2 import AUTH_PARAMETERS
from eucalyptus.services.clc.ec2.errors import MalformedQueryString, MissingParameter, UnknownParameter
from eucalyptus.services.clc.ec2.serialize import xml_safe

__all__ = ["CONTROL_PARAMETERS", "request_parameters", "parse_input", "wire_names"]

#: Parameters that steer or sign the request instead of being the action's
#: input.
CONTROL_PARAMETERS = frozenset(("Action", "Version")) | AUTH_PARAMETERS

_INTEGER = re.compile(r"[+-]?\d{1,19}")
_INDEX = re.compile(r"[1-9]\d{0,8}")


def request_parameters(*encoded):
    """
    The parameters of a request, from its query string and its form body.

    @param encoded: C{application/x-www-form-urlencoded} L{bytes} (the raw
        query, the body), each possibly empty.
    @return: a dict from name to value.
    @raise MalformedQueryString: they are not UTF-8 once decoded.
    @raise InvalidParameterValue: a name is given twice, or a name or value
        holds a character XML cannot carry (a control character): no
        answer could echo it, now or when it is described later.
    """
    params = {}
    for text in encoded:
        try:
            pairs = parse_qsl(text.decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise MalformedQueryString("The query string or body is not UTF-8.")
        for name, value in pairs:
            if name in params:
                raise InvalidParameterValue(f"The parameter {name} is given more than once.")
            if xml_safe(name) != name or xml_safe(value) != value:
                raise InvalidParameterValue(
                    f"The parameter {xml_safe(name)} holds a control character, which this API does not take."
                )
            params[name] = value
    return params


def parse_input(operation_model, params):
    """
    The input of an action, from the request's flat parameters.

    @param operation_model: the action's botocore C{OperationModel}.
    @param params: name to value, as L{request_parameters} returns them;
        L{CONTROL_PARAMETERS} and C{X-Amz-*} (a presigned SigV4 URL's) are
        left out.
    @return: a dict keyed by the input shape's member names.
    @raise UnknownParameter: a parameter the action does not take.
    @raise InvalidParameterValue: a value of the wrong type or form.
    @raise MissingParameter: a required member is missing.
    """
    entries = [
        (tuple(name.split(".")), value, name)
        for name, value in params.items()
        if name not in CONTROL_PARAMETERS and not name.startswith("X-Amz-")
    ]
    shape = operation_model.input_shape
    if shape is None:
        if entries:
            raise UnknownParameter(f"The parameter {entries[0][2]} is not recognized")
        return {}
    return _structure(shape, entries, "", operation_model.metadata.get("protocol", "ec2"))


@functools.cache
def _wire_index(shape, protocol):
    """
    Wire name to member name of a structure shape; see L{wire_names}.
    """
    return {wire: member for member, wire in wire_names(shape, protocol).items()}


def wire_names(shape, protocol="ec2"):
    """
    The name each member of a structure shape has on the wire, as
    botocore's C{EC2Serializer._get_serialized_name} gives it (or, for
    the C{query} protocol, C{QuerySerializer}'s).

    @return: a dict from member name to wire name.
    """
    names = {}
    for member, member_shape in shape.members.items():
        serialization = member_shape.serialization
        if protocol != "ec2":
            names[member] = serialization.get("name", member)
        elif "queryName" in serialization:
            names[member] = serialization["queryName"]
        elif "name" in serialization:
            names[member] = serialization["name"][0].upper() + serialization["name"][1:]
        else:
            names[member] = member
    return names


def _dotted(prefix, part):
    return f"{prefix}.{part}" if prefix else part


def _parse(shape, entries, name, protocol):
    """
    The value of one shape from the entries below its name.

    @param entries: C{(remaining parts, value, full name)} triples.
    @param name: the wire name of this value (for messages).
    @param protocol: botocore's protocol name (C{ec2}, C{query}).
    """
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, entries, name, protocol)
    if kind == "list":
        return _list(shape, entries, name, protocol)
    for parts, value, full_name in entries:
        if parts:
            raise UnknownParameter(f"The parameter {full_name} is not recognized")
    ((_, value, _),) = entries
    return scalar(kind, value, name)


def _structure(shape, entries, name, protocol):
    groups = {}
    index = _wire_index(shape, protocol)
    for parts, value, full_name in entries:
        if not parts:
            raise InvalidParameterValue(
                f"The parameter {full_name} takes members: send {full_name}.<name>=<value>."
            )
        member = index.get(parts[0])
        if member is None:
            raise UnknownParameter(f"The parameter {_dotted(name, parts[0])} is not recognized")
        groups.setdefault(member, []).append((parts[1:], value, full_name))
    wire = wire_names(shape, protocol)
    result = {
        member: _parse(shape.members[member], member_entries, _dotted(name, wire[member]), protocol)
        for member, member_entries in groups.items()
    }
    for member in shape.required_members:
        if member not in result:
            raise MissingParameter(f"The request must contain the parameter {_dotted(name, wire[member])}")
    return result


def _list(shape, entries, name, protocol):
    wrapper = None
    if protocol != "ec2" and not shape.serialization.get("flattened"):
        wrapper = shape.member.serialization.get("name", "member")
        name = f"{name}.{wrapper}"
    groups = {}
    for parts, value, full_name in entries:
        if not parts:
            if value == "" and len(entries) == 1:
                # The query protocol's way of sending an empty list.
                return []
            raise InvalidParameterValue(f"The parameter {full_name} is a list: send {name}.1, {name}.2, ...")
        if wrapper is not None:
            if parts[0] != wrapper:
                raise UnknownParameter(f"The parameter {_dotted(name.rpartition('.')[0], parts[0])} is not recognized")
            parts = parts[1:]
            if not parts:
                raise InvalidParameterValue(f"The parameter {full_name} is a list: send {name}.1, {name}.2, ...")
        if not _INDEX.fullmatch(parts[0]):
            raise UnknownParameter(f"The parameter {_dotted(name, parts[0])} is not recognized")
        groups.setdefault(int(parts[0]), []).append((parts[1:], value, full_name))
    return [_parse(shape.member, groups[number], f"{name}.{number}", protocol) for number in sorted(groups)]


def _invalid(value, name, expected):
    return InvalidParameterValue(f"Invalid value '{value}' for parameter {name}: expected {expected}.")


def _string(value, name):
    return value


def _integer(value, name):
    if not _INTEGER.fullmatch(value):
        raise _invalid(value, name, "an integer")
    return int(value)


def _boolean(value, name):
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise _invalid(value, name, "true or false")
    return lowered == "true"


def _float(value, name):
    try:
        number = float(value)
    except ValueError:
        raise _invalid(value, name, "a number")
    if not math.isfinite(number):
        raise _invalid(value, name, "a finite number")
    return number


def _timestamp(value, name):
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(value, name, "an ISO 8601 date and time such as 2016-11-15T12:00:00Z")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _blob(value, name):
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameterValue(f"Value for parameter {name} is invalid: it is not base64-encoded.")


def scalar(kind, value, name):
    """
    The value of a scalar member of botocore type C{kind} (C{string},
    C{integer}, C{boolean}, C{timestamp}, ...) from its text.

    @param name: the parameter's name, for the error message.
    @raise InvalidParameterValue: the text is not a value of that type.
    """
    return _SCALARS[kind](value, name)


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
