# -*- test-case-name: tests.services.clc.test_iam_protocol -*-
"""
Writing IAM answers, as botocore's C{QueryParser} reads them::

    <CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
      <CreateUserResult>
        <User><Path>/</Path><UserName>alice</UserName>...</User>
      </CreateUserResult>
      <ResponseMetadata><RequestId>6a5d5f3e-...</RequestId></ResponseMetadata>
    </CreateUserResponse>

The result element is the output's C{resultWrapper}; an action without
output answers only its C{ResponseMetadata}.  Members are written as EC2's
are (L{eucalyptus.services.clc.ec2.serialize.write_members}) but a list's
items are C{<member>}s.  Errors are C{ErrorResponse} documents whose
C{Type} is C{Sender} for the caller's faults and C{Receiver} for ours.
"""

from lxml import etree

from eucalyptus.services.clc.ec2.serialize import CONTENT_TYPE, write_members, xml_safe
from eucalyptus.services.clc.iam.model import NAMESPACE

__all__ = ["CONTENT_TYPE", "response_document", "error_document"]


def response_document(operation_model, result, request_id, version):
    """
    The answer of an action.

    @param operation_model: the action's botocore C{OperationModel}.
    @param result: a dict keyed by the output shape's member names, or
        L{None}.
    @param request_id: the request's id.
    @param version: the API version the request named (there is one).
    @rtype: L{bytes}
    @raise ValueError: C{result} does not fit the output shape.
    """
    ns = NAMESPACE
    root = etree.Element(f"{{{ns}}}{operation_model.name}Response", nsmap={None: ns})
    shape = operation_model.output_shape
    if shape is None:
        if result:
            raise ValueError(f"{operation_model.name} has no output, but its result is {result!r}")
    else:
        wrapper = etree.SubElement(root, f"{{{ns}}}{shape.serialization['resultWrapper']}")
        write_members(wrapper, shape, result or {}, ns, operation_model.name, list_item="member")
    metadata = etree.SubElement(root, f"{{{ns}}}ResponseMetadata")
    etree.SubElement(metadata, f"{{{ns}}}RequestId").text = request_id
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def error_document(error, request_id):
    """
    IAM's error document for C{error}.

    @param error: an L{eucalyptus.errors.EucalyptusError}.
    @rtype: L{bytes}
    """
    ns = NAMESPACE
    root = etree.Element(f"{{{ns}}}ErrorResponse", nsmap={None: ns})
    item = etree.SubElement(root, f"{{{ns}}}Error")
    etree.SubElement(item, f"{{{ns}}}Type").text = "Sender" if error.http_status < 500 else "Receiver"
    etree.SubElement(item, f"{{{ns}}}Code").text = error.code
    etree.SubElement(item, f"{{{ns}}}Message").text = xml_safe(error.message)
    etree.SubElement(root, f"{{{ns}}}RequestId").text = request_id
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
