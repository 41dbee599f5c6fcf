# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Types of the Amazon S3 SOAP API, 2006-03-01 (C{AmazonS3.wsdl}), as Walrus
serves it.

Type and element names are those of Amazon's C{AmazonS3.xsd}, in its
namespace L{S3_NAMESPACE}: the data types (ACLs, listings, results).  The
request and response elements built from them are in
L{eucalyptus.wsdl.s3_messages}.

spyne notes: a model with no field of its own is only recorded as the base
of another when the subclass names it in C{__extends__}, which the empty
C{Grantee} and C{User} need; C{xsd:choice} is not available, so
C{ListVersionsResult} lists its C{Version} entries before its
C{DeleteMarker} entries (each entry carries its key, version id and
C{IsLatest}).
"""

from spyne import Boolean, ByteArray, ComplexModel, DateTime, Integer32, Integer64, Unicode

from eucalyptus.wsdl.common import repeated

__all__ = [
    "S3_NAMESPACE",
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
    "S3Model",
    "required",
    "RequiredVersioningStatus",
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


def required(model):
    """
    @return: C{model} as a required, non-nillable element.
    """
    return model.customize(min_occurs=1, nillable=False)


_PERMISSIONS = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")
_STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "GLACIER", "UNKNOWN")
_VERSIONING = ("Enabled", "Suspended")

Permission = _enumeration("Permission", *_PERMISSIONS, required=True)
StorageClass = _enumeration("StorageClass", *_STORAGE_CLASSES)
_RequiredStorageClass = _enumeration("StorageClass", *_STORAGE_CLASSES, required=True)
MetadataDirective = _enumeration("MetadataDirective", "COPY", "REPLACE")
VersioningStatus = _enumeration("VersioningStatus", *_VERSIONING)
RequiredVersioningStatus = _enumeration("VersioningStatus", *_VERSIONING, required=True)
MfaDeleteStatus = _enumeration("MfaDeleteStatus", "Enabled", "Disabled")

class S3Model(ComplexModel):
    """
    Base of the models below: it only sets the namespace (a model with no
    fields is never recorded as a base, so this adds nothing to the schema).
    """

    __namespace__ = S3_NAMESPACE


class MetadataEntry(S3Model):
    """
    One metadata item: a content header (C{Content-Type}, ...) or a user
    metadata name (without C{x-amz-meta-}) and its value.
    """

    Name = Required
    Value = Required


class Status(S3Model):
    """
    An HTTP-like status code and its description.
    """

    Code = Integer32(min_occurs=1, nillable=False)
    Description = Required


class Result(S3Model):
    """
    The base of results that carry a L{Status}.
    """

    Status = required(Status)


class Grantee(S3Model):
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


class Grant(S3Model):
    """
    One permission given to one grantee.
    """

    Grantee = required(Grantee)
    Permission = Permission


class AccessControlList(S3Model):
    """
    The grants of a bucket or an object.
    """

    Grant = repeated(Grant, 100)


class AccessControlPolicy(S3Model):
    """
    The owner and the grants of a bucket or an object.
    """

    Owner = required(CanonicalUser)
    AccessControlList = required(AccessControlList)


class CreateBucketResult(S3Model):
    """
    The bucket made by C{CreateBucket}.
    """

    BucketName = Required


class ListAllMyBucketsEntry(S3Model):
    """
    One bucket of C{ListAllMyBuckets}.
    """

    Name = Required
    CreationDate = RequiredDateTime


class ListAllMyBucketsList(S3Model):
    """
    The buckets of C{ListAllMyBuckets}.
    """

    Bucket = repeated(ListAllMyBucketsEntry)


class ListAllMyBucketsResult(S3Model):
    """
    The caller and the buckets it owns.
    """

    Owner = required(CanonicalUser)
    Buckets = required(ListAllMyBucketsList)


class ListEntry(S3Model):
    """
    One object of C{ListBucket}.  C{ETag} is quoted, as in S3.
    """

    Key = Required
    LastModified = RequiredDateTime
    ETag = Required
    Size = RequiredLong
    Owner = CanonicalUser
    StorageClass = _RequiredStorageClass


class PrefixEntry(S3Model):
    """
    One common prefix of a listing.
    """

    Prefix = Required


class ListBucketResult(S3Model):
    """
    One page of C{ListBucket}.
    """

    Metadata = repeated(MetadataEntry)
    Name = Required
    Prefix = Required
    Marker = Required
    NextMarker = String
    MaxKeys = Integer32(min_occurs=1, nillable=False)
    Delimiter = String
    IsTruncated = RequiredBoolean
    Contents = repeated(ListEntry)
    CommonPrefixes = repeated(PrefixEntry)


class VersionEntry(S3Model):
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


class DeleteMarkerEntry(S3Model):
    """
    One delete marker of C{ListVersions}.
    """

    Key = Required
    VersionId = Required
    IsLatest = RequiredBoolean
    LastModified = RequiredDateTime
    Owner = CanonicalUser


class ListVersionsResult(S3Model):
    """
    One page of C{ListVersions}: versions, then delete markers.
    """

    Metadata = repeated(MetadataEntry)
    Name = Required
    Prefix = Required
    KeyMarker = Required
    VersionIdMarker = Required
    NextKeyMarker = String
    NextVersionIdMarker = String
    MaxKeys = Integer32(min_occurs=1, nillable=False)
    Delimiter = String
    IsTruncated = RequiredBoolean
    Version = repeated(VersionEntry)
    DeleteMarker = repeated(DeleteMarkerEntry)
    CommonPrefixes = repeated(PrefixEntry)


class PutObjectResult(S3Model):
    """
    The object C{PutObjectInline} stored.
    """

    ETag = Required
    LastModified = RequiredDateTime


class GetObjectResult(Result):
    """
    An object's metadata and (inline) data, as C{GetObject} asked.
    """

    Metadata = repeated(MetadataEntry)
    Data = ByteArray(min_occurs=1, nillable=True)
    LastModified = RequiredDateTime
    ETag = Required


class CopyObjectResult(S3Model):
    """
    The object C{CopyObject} made.
    """

    LastModified = RequiredDateTime
    ETag = Required


class VersioningConfiguration(S3Model):
    """
    A bucket's versioning state; no C{Status} when it was never enabled.
    """

    Status = VersioningStatus
    MfaDelete = MfaDeleteStatus


class GetBucketLocationResult(S3Model):
    """
    A bucket's region; empty for the default region.
    """

    LocationConstraint = String
