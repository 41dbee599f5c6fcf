# -*- test-case-name: tests.wsdl.test_contract -*-
"""
The request and response elements of the Amazon S3 SOAP API, 2006-03-01
(C{AmazonS3.wsdl}), built from the data types of
L{eucalyptus.wsdl.s3_types}.

Amazon declared each request and response element with an anonymous type;
spyne needs named ones, so the element C{ListBucket} has the type
C{ListBucketType} and C{ListBucketResponse} the type
C{ListBucketResponseType}.  Those names never appear on the wire.

Every request ends with the S3 SOAP authentication fields
(L{AUTHENTICATION}: C{AWSAccessKeyId}, C{Timestamp}, C{Signature},
C{Credential}), all optional: a request without C{AWSAccessKeyId} is
anonymous.  Every response element wraps one result element, usually named
like the response (C{ListBucketResponse/ListBucketResponse}); Amazon's two
exceptions are kept: C{GetObjectExtendedResponse/GetObjectResponse} and
C{CopyObjectResponse/CopyObjectResult}.

Walrus's additions, each optional and placed just before the
authentication fields so that a request written for Amazon's schema stays
valid: C{LocationConstraint} in C{CreateBucket}, C{VersionId} in
C{GetObject}, C{GetObjectExtended}, C{DeleteObject}, the object ACL
operations and C{CopyObject} (there: the source's version), and the
Eucalyptus operations C{GetBucketLocation}, C{GetBucketVersioningStatus},
C{SetBucketVersioningStatus} and C{ListVersions}.
"""

from spyne import Boolean, ByteArray, DateTime

from eucalyptus.wsdl.common import NO_FIELDS, repeated
from eucalyptus.wsdl.s3_types import (
    AccessControlList,
    AccessControlPolicy,
    CopyObjectResult,
    CreateBucketResult,
    GetBucketLocationResult,
    GetObjectResult,
    Int,
    ListAllMyBucketsResult,
    ListBucketResult,
    ListVersionsResult,
    Long,
    MetadataDirective,
    MetadataEntry,
    PutObjectResult,
    Required,
    RequiredBoolean,
    RequiredLong,
    RequiredVersioningStatus,
    S3Model,
    Status,
    StorageClass,
    String,
    VersioningConfiguration,
    required,
)

__all__ = [
    "AUTHENTICATION",
    "ListAllMyBucketsType", "ListAllMyBucketsResponseType",
    "CreateBucketType", "CreateBucketResponseType",
    "DeleteBucketType", "DeleteBucketResponseType",
    "ListBucketType", "ListBucketResponseType",
    "PutObjectInlineType", "PutObjectInlineResponseType",
    "GetObjectType", "GetObjectResponseType",
    "GetObjectExtendedType", "GetObjectExtendedResponseType",
    "CopyObjectType", "CopyObjectResponseType",
    "DeleteObjectType", "DeleteObjectResponseType",
    "GetBucketAccessControlPolicyType", "GetBucketAccessControlPolicyResponseType",
    "SetBucketAccessControlPolicyType", "SetBucketAccessControlPolicyResponseType",
    "GetObjectAccessControlPolicyType", "GetObjectAccessControlPolicyResponseType",
    "SetObjectAccessControlPolicyType", "SetObjectAccessControlPolicyResponseType",
    "GetBucketLocationType", "GetBucketLocationResponseType",
    "GetBucketVersioningStatusType", "GetBucketVersioningStatusResponseType",
    "SetBucketVersioningStatusType", "SetBucketVersioningStatusResponseType",
    "ListVersionsType", "ListVersionsResponseType",
]

#: The authentication fields that end every request.  C{Timestamp} is an
#: C{xsd:dateTime}; the signature covers its text exactly as sent.
AUTHENTICATION = [
    ("AWSAccessKeyId", String),
    ("Timestamp", DateTime),
    ("Signature", String),
    ("Credential", String),
]



def _request(name, fields, doc):
    """
    Declare the type of a request element: C{fields} then L{AUTHENTICATION}.

    @param name: the element (operation) name; the type is C{name + "Type"}.
    @param fields: C{(name, spyne type)} rows, in XSD order.
    @param doc: the class docstring.
    @return: the new model class.
    """
    return type(
        name + "Type",
        (S3Model,),
        {"__type_name__": name + "Type", "__doc__": doc, "__module__": __name__,
         "_type_info": list(fields) + AUTHENTICATION},
    )


def _response(name, fields, doc):
    """
    Declare the type of a response element.

    @param name: the operation name; the type is C{name + "ResponseType"}.
    @param fields: C{(name, spyne type)} rows; none for an empty response
        (spyne then gets a placeholder it never writes, see
        L{eucalyptus.wsdl.common.NO_FIELDS}).
    @return: the new model class.
    """
    type_name = name + "ResponseType"
    fields = list(fields) or NO_FIELDS
    return type(
        type_name,
        (S3Model,),
        {"__type_name__": type_name, "__doc__": doc, "__module__": __name__, "_type_info": fields},
    )


_BUCKET = ("Bucket", Required)
_KEY = ("Key", Required)
_VERSION_ID = ("VersionId", String)
_GET_FLAGS = [("GetMetadata", RequiredBoolean), ("GetData", RequiredBoolean), ("InlineData", RequiredBoolean)]

ListAllMyBucketsType = _request("ListAllMyBuckets", [], "Request: the caller's buckets.")
ListAllMyBucketsResponseType = _response(
    "ListAllMyBuckets", [("ListAllMyBucketsResponse", ListAllMyBucketsResult)], "Response of C{ListAllMyBuckets}.")

CreateBucketType = _request(
    "CreateBucket",
    [_BUCKET, ("AccessControlList", AccessControlList), ("LocationConstraint", String)],
    "Request: make a bucket, with an ACL (default: private) and a region.",
)
CreateBucketResponseType = _response(
    "CreateBucket", [("CreateBucketResponse", CreateBucketResult)], "Response of C{CreateBucket}.")

DeleteBucketType = _request("DeleteBucket", [_BUCKET], "Request: remove an empty bucket.")
DeleteBucketResponseType = _response(
    "DeleteBucket", [("DeleteBucketResponse", Status)], "Response of C{DeleteBucket}.")

ListBucketType = _request(
    "ListBucket",
    [_BUCKET, ("Prefix", String), ("Marker", String), ("MaxKeys", Int), ("Delimiter", String)],
    "Request: one page of a bucket's objects.",
)
ListBucketResponseType = _response(
    "ListBucket", [("ListBucketResponse", ListBucketResult)], "Response of C{ListBucket}.")

PutObjectInlineType = _request(
    "PutObjectInline",
    [
        _BUCKET,
        _KEY,
        ("Metadata", repeated(MetadataEntry, 100)),
        ("Data", ByteArray(min_occurs=1, nillable=False)),
        ("ContentLength", RequiredLong),
        ("AccessControlList", AccessControlList),
        ("StorageClass", StorageClass),
    ],
    "Request: store a small object (at most 1 MiB) sent in the message.",
)
PutObjectInlineResponseType = _response(
    "PutObjectInline", [("PutObjectInlineResponse", PutObjectResult)], "Response of C{PutObjectInline}.")

GetObjectType = _request(
    "GetObject", [_BUCKET, _KEY, *_GET_FLAGS, _VERSION_ID], "Request: an object's metadata and data.")
GetObjectResponseType = _response(
    "GetObject", [("GetObjectResponse", GetObjectResult)], "Response of C{GetObject}.")

GetObjectExtendedType = _request(
    "GetObjectExtended",
    [
        _BUCKET,
        _KEY,
        *_GET_FLAGS,
        ("ByteRangeStart", Long),
        ("ByteRangeEnd", Long),
        ("IfModifiedSince", DateTime),
        ("IfUnmodifiedSince", DateTime),
        ("IfMatch", repeated(String, 100)),
        ("IfNoneMatch", repeated(String, 100)),
        ("ReturnCompleteObjectOnConditionFailure", Boolean),
        _VERSION_ID,
    ],
    "Request: C{GetObject} with a byte range and conditions.",
)
GetObjectExtendedResponseType = _response(
    "GetObjectExtended", [("GetObjectResponse", GetObjectResult)], "Response of C{GetObjectExtended}.")

CopyObjectType = _request(
    "CopyObject",
    [
        ("SourceBucket", Required),
        ("SourceKey", Required),
        ("DestinationBucket", Required),
        ("DestinationKey", Required),
        ("MetadataDirective", MetadataDirective),
        ("Metadata", repeated(MetadataEntry, 100)),
        ("AccessControlList", AccessControlList),
        ("CopySourceIfModifiedSince", DateTime),
        ("CopySourceIfUnmodifiedSince", DateTime),
        ("CopySourceIfMatch", repeated(String, 100)),
        ("CopySourceIfNoneMatch", repeated(String, 100)),
        ("StorageClass", StorageClass),
        _VERSION_ID,
    ],
    "Request: copy an object (C{VersionId}: the source's version).",
)
CopyObjectResponseType = _response(
    "CopyObject", [("CopyObjectResult", CopyObjectResult)], "Response of C{CopyObject}.")

DeleteObjectType = _request(
    "DeleteObject", [_BUCKET, _KEY, _VERSION_ID], "Request: delete an object (or one version of it).")
DeleteObjectResponseType = _response(
    "DeleteObject", [("DeleteObjectResponse", Status)], "Response of C{DeleteObject}.")

GetBucketAccessControlPolicyType = _request(
    "GetBucketAccessControlPolicy", [_BUCKET], "Request: a bucket's ACL.")
GetBucketAccessControlPolicyResponseType = _response(
    "GetBucketAccessControlPolicy",
    [("GetBucketAccessControlPolicyResponse", AccessControlPolicy)],
    "Response of C{GetBucketAccessControlPolicy}.",
)

SetBucketAccessControlPolicyType = _request(
    "SetBucketAccessControlPolicy",
    [_BUCKET, ("AccessControlList", required(AccessControlList))],
    "Request: replace a bucket's grants.",
)
SetBucketAccessControlPolicyResponseType = _response(
    "SetBucketAccessControlPolicy", [], "Response of C{SetBucketAccessControlPolicy} (empty).")

GetObjectAccessControlPolicyType = _request(
    "GetObjectAccessControlPolicy", [_BUCKET, _KEY, _VERSION_ID], "Request: an object's ACL.")
GetObjectAccessControlPolicyResponseType = _response(
    "GetObjectAccessControlPolicy",
    [("GetObjectAccessControlPolicyResponse", AccessControlPolicy)],
    "Response of C{GetObjectAccessControlPolicy}.",
)

SetObjectAccessControlPolicyType = _request(
    "SetObjectAccessControlPolicy",
    [_BUCKET, _KEY, ("AccessControlList", required(AccessControlList)), _VERSION_ID],
    "Request: replace an object's grants.",
)
SetObjectAccessControlPolicyResponseType = _response(
    "SetObjectAccessControlPolicy", [], "Response of C{SetObjectAccessControlPolicy} (empty).")

GetBucketLocationType = _request("GetBucketLocation", [_BUCKET], "Request: a bucket's region.")
GetBucketLocationResponseType = _response(
    "GetBucketLocation",
    [("GetBucketLocationResponse", GetBucketLocationResult)],
    "Response of C{GetBucketLocation}.",
)

GetBucketVersioningStatusType = _request(
    "GetBucketVersioningStatus", [_BUCKET], "Request: a bucket's versioning state.")
GetBucketVersioningStatusResponseType = _response(
    "GetBucketVersioningStatus",
    [("GetBucketVersioningStatusResponse", VersioningConfiguration)],
    "Response of C{GetBucketVersioningStatus}.",
)

SetBucketVersioningStatusType = _request(
    "SetBucketVersioningStatus",
    [_BUCKET, ("VersioningStatus", RequiredVersioningStatus)],
    "Request: enable or suspend versioning (Eucalyptus's element name).",
)
SetBucketVersioningStatusResponseType = _response(
    "SetBucketVersioningStatus", [], "Response of C{SetBucketVersioningStatus} (empty).")

ListVersionsType = _request(
    "ListVersions",
    [
        _BUCKET,
        ("Prefix", String),
        ("KeyMarker", String),
        ("VersionIdMarker", String),
        ("MaxKeys", Int),
        ("Delimiter", String),
    ],
    "Request: one page of a bucket's versions and delete markers.",
)
ListVersionsResponseType = _response(
    "ListVersions", [("ListVersionsResponse", ListVersionsResult)], "Response of C{ListVersions}.")
