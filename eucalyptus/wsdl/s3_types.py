# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Types of the Amazon S3 SOAP API, 2006-03-01 (C{AmazonS3.wsdl}), as Walrus
serves it.

Type and element names are those of Amazon's C{AmazonS3.xsd}, in its
namespace L{S3_NAMESPACE}.  Amazon declared each request and response
element with an anonymous type; spyne needs named ones, so the element
C{ListBucket} has the type C{ListBucketType} and C{ListBucketResponse} the
type C{ListBucketResponseType}.  Those names never appear on the wire.

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

spyne notes: a model with no field of its own is only recorded as the base
of another when the subclass names it in C{__extends__}, which the empty
C{Grantee} and C{User} need; C{xsd:choice} is not available, so
C{ListVersionsResult} lists its C{Version} entries before its
C{DeleteMarker} entries (each entry carries its key, version id and
C{IsLatest}).
"""

from spyne import Boolean, ByteArray, ComplexModel, DateTime, Integer32, Integer64, Unicode

__all__ = [
    "S3_NAMESPACE",
    "AUTHENTICATION",
    "Permission",
    "StorageClass",
    "MetadataDirective",
    "VersioningStatus",
    "MfaDeleteStatus",
    "MetadataEntry",
    "Status",
    "Result",
    "Grantee",
    "User",
    "AmazonCustomerByEmail",
    "CanonicalUser",
    "Group",
    "Grant",
    "AccessControlList",
    "AccessControlPolicy",
    "CreateBucketResult",
    "ListAllMyBucketsEntry",
    "ListAllMyBucketsList",
    "ListAllMyBucketsResult",
    "ListEntry",
    "PrefixEntry",
    "ListBucketResult",
    "VersionEntry",
    "DeleteMarkerEntry",
    "ListVersionsResult",
    "PutObjectResult",
    "GetObjectResult",
    "CopyObjectResult",
    "VersioningConfiguration",
    "GetBucketLocationResult",
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

#: Target namespace of the S3 SOAP API.
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

# Optional (minOccurs 0) and required (minOccurs 1) XSD primitives.
String = Unicode
Required = Unicode(min_occurs=1, nillable=False)
Int = Integer32
Long = Integer64
RequiredLong = Integer64(min_occurs=1, nillable=False)
RequiredBoolean = Boolean(min_occurs=1, nillable=False)
RequiredDateTime = DateTime(min_occurs=1, nillable=False)


def _enumeration(name, *values, required=False):
    """
    @param required: make the element required, which must be done here:
        customizing an enumeration afterwards would derive a new, unnamed
        simple type from it.
    @return: a named C{xsd:string} restriction to C{values}, in
        L{S3_NAMESPACE}; its Python values are plain strings.
    """
    occurs = {"min_occurs": 1, "nillable": False} if required else {}
    return Unicode(values=list(values), type_name=name, __namespace__=S3_NAMESPACE, **occurs)


def _required(model):
    """
    @return: C{model} as a required, non-nillable element.
    """
    return model.customize(min_occurs=1, nillable=False)


def _repeated(model, max_occurs="unbounded"):
    """
    @return: C{model} as an optional repeated element (a list in Python).
    """
    return model.customize(min_occurs=0, max_occurs=max_occurs)


_PERMISSIONS = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")
_STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "GLACIER", "UNKNOWN")
_VERSIONING = ("Enabled", "Suspended")

Permission = _enumeration("Permission", *_PERMISSIONS, required=True)
StorageClass = _enumeration("StorageClass", *_STORAGE_CLASSES)
_RequiredStorageClass = _enumeration("StorageClass", *_STORAGE_CLASSES, required=True)
MetadataDirective = _enumeration("MetadataDirective", "COPY", "REPLACE")
VersioningStatus = _enumeration("VersioningStatus", *_VERSIONING)
_RequiredVersioningStatus = _enumeration("VersioningStatus", *_VERSIONING, required=True)
MfaDeleteStatus = _enumeration("MfaDeleteStatus", "Enabled", "Disabled")

#: The authentication fields that end every request.  C{Timestamp} is an
#: C{xsd:dateTime}; the signature covers its text exactly as sent.
AUTHENTICATION = [
    ("AWSAccessKeyId", String),
    ("Timestamp", DateTime),
    ("Signature", String),
    ("Credential", String),
]


class _S3Model(ComplexModel):
    """
    Base of the models below: it only sets the namespace (a model with no
    fields is never recorded as a base, so this adds nothing to the schema).
    """

    __namespace__ = S3_NAMESPACE


class MetadataEntry(_S3Model):
    """
    One metadata item: a content header (C{Content-Type}, ...) or a user
    metadata name (without C{x-amz-meta-}) and its value.
    """

    Name = Required
    Value = Required


class Status(_S3Model):
    """
    An HTTP-like status code and its description.
    """

    Code = Integer32(min_occurs=1, nillable=False)
    Description = Required


class Result(_S3Model):
    """
    The base of results that carry a L{Status}.
    """

    Status = _required(Status)


class Grantee(_S3Model):
    """
    Who a grant is for: an abstract type, sent as one of its subtypes with
    C{xsi:type}.
    """


class User(Grantee):
    """
    A grantee that is one account (abstract).
    """

    __extends__ = Grantee


class AmazonCustomerByEmail(User):
    """
    A grantee named by e-mail address (Walrus cannot resolve these).
    """

    __extends__ = User
    EmailAddress = Required


class CanonicalUser(User):
    """
    An account by its canonical id (the Walrus account id).
    """

    __extends__ = User
    ID = Required
    DisplayName = String


class Group(Grantee):
    """
    A predefined group (C{http://acs.amazonaws.com/groups/global/AllUsers},
    ...).
    """

    __extends__ = Grantee
    URI = Required


class Grant(_S3Model):
    """
    One permission given to one grantee.
    """

    Grantee = _required(Grantee)
    Permission = Permission


class AccessControlList(_S3Model):
    """
    The grants of a bucket or an object.
    """

    Grant = _repeated(Grant, 100)


class AccessControlPolicy(_S3Model):
    """
    The owner and the grants of a bucket or an object.
    """

    Owner = _required(CanonicalUser)
    AccessControlList = _required(AccessControlList)


class CreateBucketResult(_S3Model):
    """
    The bucket made by C{CreateBucket}.
    """

    BucketName = Required


class ListAllMyBucketsEntry(_S3Model):
    """
    One bucket of C{ListAllMyBuckets}.
    """

    Name = Required
    CreationDate = RequiredDateTime


class ListAllMyBucketsList(_S3Model):
    """
    The buckets of C{ListAllMyBuckets}.
    """

    Bucket = _repeated(ListAllMyBucketsEntry)


class ListAllMyBucketsResult(_S3Model):
    """
    The caller and the buckets it owns.
    """

    Owner = _required(CanonicalUser)
    Buckets = _required(ListAllMyBucketsList)


class ListEntry(_S3Model):
    """
    One object of C{ListBucket}.  C{ETag} is quoted, as in S3.
    """

    Key = Required
    LastModified = RequiredDateTime
    ETag = Required
    Size = RequiredLong
    Owner = CanonicalUser
    StorageClass = _RequiredStorageClass


class PrefixEntry(_S3Model):
    """
    One common prefix of a listing.
    """

    Prefix = Required


class ListBucketResult(_S3Model):
    """
    One page of C{ListBucket}.
    """

    Metadata = _repeated(MetadataEntry)
    Name = Required
    Prefix = Required
    Marker = Required
    NextMarker = String
    MaxKeys = Integer32(min_occurs=1, nillable=False)
    Delimiter = String
    IsTruncated = RequiredBoolean
    Contents = _repeated(ListEntry)
    CommonPrefixes = _repeated(PrefixEntry)


class VersionEntry(_S3Model):
    """
    One object version of C{ListVersions}.
    """

    Key = Required
    VersionId = Required
    IsLatest = RequiredBoolean
    LastModified = RequiredDateTime
    ETag = Required
    Size = RequiredLong
    Owner = CanonicalUser
    StorageClass = _RequiredStorageClass


class DeleteMarkerEntry(_S3Model):
    """
    One delete marker of C{ListVersions}.
    """

    Key = Required
    VersionId = Required
    IsLatest = RequiredBoolean
    LastModified = RequiredDateTime
    Owner = CanonicalUser


class ListVersionsResult(_S3Model):
    """
    One page of C{ListVersions}: versions, then delete markers.
    """

    Metadata = _repeated(MetadataEntry)
    Name = Required
    Prefix = Required
    KeyMarker = Required
    VersionIdMarker = Required
    NextKeyMarker = String
    NextVersionIdMarker = String
    MaxKeys = Integer32(min_occurs=1, nillable=False)
    Delimiter = String
    IsTruncated = RequiredBoolean
    Version = _repeated(VersionEntry)
    DeleteMarker = _repeated(DeleteMarkerEntry)
    CommonPrefixes = _repeated(PrefixEntry)


class PutObjectResult(_S3Model):
    """
    The object C{PutObjectInline} stored.
    """

    ETag = Required
    LastModified = RequiredDateTime


class GetObjectResult(Result):
    """
    An object's metadata and (inline) data, as C{GetObject} asked.
    """

    Metadata = _repeated(MetadataEntry)
    Data = ByteArray(min_occurs=1, nillable=True)
    LastModified = RequiredDateTime
    ETag = Required


class CopyObjectResult(_S3Model):
    """
    The object C{CopyObject} made.
    """

    LastModified = RequiredDateTime
    ETag = Required


class VersioningConfiguration(_S3Model):
    """
    A bucket's versioning state; no C{Status} when it was never enabled.
    """

    Status = VersioningStatus
    MfaDelete = MfaDeleteStatus


class GetBucketLocationResult(_S3Model):
    """
    A bucket's region; empty for the default region.
    """

    LocationConstraint = String


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
        (_S3Model,),
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
    fields = list(fields) or [("_no_fields", Unicode(exc_interface=True))]
    return type(
        type_name,
        (_S3Model,),
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
        ("Metadata", _repeated(MetadataEntry, 100)),
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
        ("IfMatch", _repeated(String, 100)),
        ("IfNoneMatch", _repeated(String, 100)),
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
        ("Metadata", _repeated(MetadataEntry, 100)),
        ("AccessControlList", AccessControlList),
        ("CopySourceIfModifiedSince", DateTime),
        ("CopySourceIfUnmodifiedSince", DateTime),
        ("CopySourceIfMatch", _repeated(String, 100)),
        ("CopySourceIfNoneMatch", _repeated(String, 100)),
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
    [_BUCKET, ("AccessControlList", _required(AccessControlList))],
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
    [_BUCKET, _KEY, ("AccessControlList", _required(AccessControlList)), _VERSION_ID],
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
    [_BUCKET, ("VersioningStatus", _RequiredVersioningStatus)],
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
