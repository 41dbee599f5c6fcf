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
import functools
import numbers
import re
import threading
from datetime import datetime, timezone

from lxml import etree
from lxml.etree import SubElement

from eucalyptus.services.clc.ec2.model import namespace

__all__ = ["CONTENT_TYPE", "response_document", "error_document", "xml_safe", "timestamp_text", "write_members"]

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
        # Below the root the elements are made without a namespace: written
        # out, they are inside the root's default namespace declaration and
        # the document is the same, but lxml need not look the namespace up
        # for each of them (a third of the time of a large answer).  Only a
        # document written at once, as here, may do this.
        _write_members(root, shape, result or {}, _tags(None), operation_model.name, "item")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


#: A character XML 1.0 cannot carry (NUL and the other C0 controls but tab
#: and line ends, surrogates, U+FFFE and U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text):
    """
    C{text} with each character XML cannot carry written as a C{\\uXXXX}
    escape, so that a message quoting what a request sent can always be
    answered.
    """
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def error_document(error, request_id):
    """
    The error document of EC2 for C{error}.

    @param error: an L{eucalyptus.errors.EucalyptusError}.
    @rtype: L{bytes}
    """
    root = etree.Element("Response")
    item = etree.SubElement(etree.SubElement(root, "Errors"), "Error")
    etree.SubElement(item, "Code").text = error.code
    etree.SubElement(item, "Message").text = xml_safe(error.message)
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
    _write_members(parent, shape, value, _tags(ns), path, list_item)


def _write_members(parent, shape, value, tags, path, list_item):
    try:
        _plan(shape, list_item).write(parent, value, tags)
    except _Misfit as misfit:
        raise ValueError(path + "".join(reversed(misfit.steps)) + misfit.message) from None


# How a shape is written is worked out once per shape (L{_plan}): a
# structure's members in order with their element names and writers, a
# list's item element.  Writing a value then only walks the value.  Where a
# value does not fit, L{_Misfit} carries the message while each level adds
# its step of the path, so that the path is only built when it is needed.


class _Misfit(Exception):
    """
    A value does not fit its shape.

    @ivar message: what is wrong, after the path (C{" must be a string, not 7"}).
    @ivar steps: the steps of the path from the value up (C{".Regions"},
        C{"[0]"}), innermost first.
    """

    def __init__(self, message):
        Exception.__init__(self, message)
        self.message = message
        self.steps = []


class _Tags(dict):
    """
    Local element name to its qualified tag in one namespace (to itself
    for no namespace), made when first asked for.
    """

    def __init__(self, ns):
        dict.__init__(self)
        self.ns = ns

    def __missing__(self, name):
        tag = self[name] = name if self.ns is None else f"{{{self.ns}}}{name}"
        return tag


@functools.lru_cache(maxsize=32)
def _tags(ns):
    return _Tags(ns)


#: C{(shape, list_item)} to the plan of that shape; only complete plans are
#: here, so that threads read it without a lock.
_PLANS = {}
_PLANNING = threading.Lock()


def _plan(shape, list_item):
    """
    The plan of writing values of a structure or list C{shape}, made the
    first time it is needed.
    """
    plan = _PLANS.get((shape, list_item))
    if plan is None:
        with _PLANNING:
            made = {}
            plan = _make(shape, list_item, made)
            _PLANS.update(made)
    return plan


def _make(shape, list_item, made):
    """
    The plan of C{shape}, made with those of the shapes it contains unless
    they are in L{_PLANS} or C{made} already (a shape that contains itself
    finds its own plan there, not yet complete, while it is being made).

    @param made: the plans made so far, by key; the new ones are added.
    """
    key = (shape, list_item)
    plan = _PLANS.get(key) or made.get(key)
    if plan is None:
        plan = made[key] = _StructurePlan(shape.name) if shape.type_name == "structure" else _ListPlan(shape.name)
        plan.fill(shape, list_item, made)
    return plan


def _writer(shape, list_item, made):
    """
    How a member of C{shape} is written: C{(convert, plan)}, one of them
    L{None}: a scalar's text conversion, or the plan of a structure or list.
    """
    if shape.type_name in ("structure", "list"):
        return None, _make(shape, list_item, made)
    convert = _SCALARS.get(shape.type_name)
    if convert is None:
        # Found out when a value comes, as before plans: no shape of the
        # actions' outputs is of such a kind.
        convert = functools.partial(_no_scalar, shape.type_name)
    return convert, None


class _StructurePlan:
    """
    How a structure's values are written.

    @ivar names: the member names of the shape.
    @ivar members: C{(member, element name, convert, plan)} in the shape's
        order.
    """

    def __init__(self, shape_name):
        self.shape_name = shape_name
        self.names = frozenset()
        self.members = ()

    def fill(self, shape, list_item, made):
        self.names = frozenset(shape.members)
        self.members = tuple(
            (member, member_shape.serialization.get("name", member), *_writer(member_shape, list_item, made))
            for member, member_shape in shape.members.items()
        )

    def write(self, parent, value, tags):
        if not isinstance(value, dict):
            raise _Misfit(f" must be a dict for {self.shape_name}, not {value!r}")
        if not value.keys() <= self.names:
            raise _Misfit(f" has members {sorted(set(value) - self.names)} that {self.shape_name} does not have")
        get = value.get
        for member, name, convert, plan in self.members:
            member_value = get(member)
            if member_value is not None:
                try:
                    if convert is not None:
                        SubElement(parent, tags[name]).text = convert(member_value)
                    else:
                        plan.write(SubElement(parent, tags[name]), member_value, tags)
                except _Misfit as misfit:
                    misfit.steps.append(f".{member}")
                    raise


class _ListPlan:
    """
    How a list's values are written: an element per item.

    @ivar item: the items' element name.
    """

    def __init__(self, shape_name):
        self.shape_name = shape_name
        self.item = None
        self.convert = self.plan = None

    def fill(self, shape, list_item, made):
        self.item = shape.member.serialization.get("name", list_item)
        self.convert, self.plan = _writer(shape.member, list_item, made)

    def write(self, element, value, tags):
        if isinstance(value, (str, bytes, dict)):
            raise _Misfit(f" must be a list for {self.shape_name}, not {value!r}")
        tag, convert, plan = tags[self.item], self.convert, self.plan
        for index, item in enumerate(value):
            try:
                if convert is not None:
                    SubElement(element, tag).text = convert(item)
                else:
                    plan.write(SubElement(element, tag), item, tags)
            except _Misfit as misfit:
                misfit.steps.append(f"[{index}]")
                raise


def _no_scalar(kind, value):
    raise KeyError(kind)


def _string(value):
    if not isinstance(value, str):
        raise _Misfit(f" must be a string, not {value!r}")
    return value


def _integer(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _Misfit(f" must be an integer, not {value!r}")
    return str(int(value))


def _boolean(value):
    if not isinstance(value, bool):
        raise _Misfit(f" must be a bool, not {value!r}")
    return "true" if value else "false"


def _float(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _Misfit(f" must be a number, not {value!r}")
    return repr(float(value))


def _blob(value):
    if not isinstance(value, bytes):
        raise _Misfit(f" must be bytes, not {value!r}")
    return base64.b64encode(value).decode("ascii")


def _timestamp(value):
    if isinstance(value, bool) or not isinstance(value, (datetime, numbers.Real)):
        raise _Misfit(f" must be a datetime or seconds since the epoch, not {value!r}")
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
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    if value.year >= 1000:
        # The same text, twice as fast (a listing writes one per instance).
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
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
