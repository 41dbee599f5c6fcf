# -*- test-case-name: tests.services.walrus.test_soap -*-
"""
The operations of Walrus's S3 SOAP API: one function per operation of
C{AmazonS3.wsdl}, from the deserialised request model to the response
model, over L{eucalyptus.services.walrus.operations.ObjectOperations}.
Each takes the L{eucalyptus.services.walrus.soap.S3SoapCall} (the caller's
identity, the request element as sent, object reads) and the request.
"""

import copy
import datetime

from lxml import etree

from eucalyptus.errors import AwsError
from eucalyptus.services.walrus.errors import (
    IllegalVersioningConfigurationException,
    IncompleteBody,
    InvalidArgument,
    InvalidLocationConstraint,
    InvalidRequest,
    MalformedACLError,
    NotModified,
    PreconditionFailed,
)
from eucalyptus.services.walrus.rest_buckets import REGION
from eucalyptus.services.walrus.rest_objects import (
    CONTENT_HEADERS,
    check_conditions,
    content_headers,
    parse_range,
    user_metadata,
)
from eucalyptus.services.walrus.s3xml import S3, S3_NS, XSI_NS, http_date
from eucalyptus.wsdl import s3_messages as m
from eucalyptus.wsdl import s3_types as t

__all__ = ["OPERATIONS", "InlineDataTooLarge", "MAX_INLINE_DATA", "child_text"]

#: The most object data one message carries (Amazon: "1MB or smaller").
MAX_INLINE_DATA = 1 << 20

_MAX_KEYS = 1000
_XSI_TYPE = f"{{{XSI_NS}}}type"
_GRANT_HEADERS = {
    "READ": "x-amz-grant-read",
    "WRITE": "x-amz-grant-write",
    "READ_ACP": "x-amz-grant-read-acp",
    "WRITE_ACP": "x-amz-grant-write-acp",
    "FULL_CONTROL": "x-amz-grant-full-control",
}
_GRANTEE_VALUES = {"CanonicalUser": ("id", "ID"), "Group": ("uri", "URI"), "AmazonCustomerByEmail": ("emailAddress", "EmailAddress")}


class InlineDataTooLarge(AwsError):
    """
    Object data over L{MAX_INLINE_DATA} in one message.
    """

    code = "InlineDataTooLargeError"
    http_status = 400
    message = "Inline data exceeds the maximum allowed size."


def child_text(element, name):
    """
    The stripped text of the child C{name} (S3 namespace) of a request
    element, or C{""}.
    """
    return (element.findtext(f"{{{S3_NS}}}{name}") or "").strip()


# -- conversions ----------------------------------------------------------------


def _when(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def _owner(account_id, names):
    return t.CanonicalUser(ID=account_id or "", DisplayName=names(account_id) or "")


def _status(code, description):
    return t.Status(Code=code, Description=description)


def _max_keys(value):
    if value is None:
        return _MAX_KEYS
    if value < 0:
        raise InvalidArgument("MaxKeys must not be negative.", ArgumentName="MaxKeys", ArgumentValue=str(value))
    return min(value, _MAX_KEYS)


def _data(value):
    """
    The bytes of a spyne C{ByteArray} value (a sequence of chunks).
    """
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return b"".join(value)


class _Headers:
    """
    Request headers made from SOAP fields, for the REST helpers that read a
    call's headers (C{content_headers}, C{user_metadata},
    C{check_conditions}).
    """

    def __init__(self, headers):
        self.headers = headers

    def header(self, name, default=None):
        return self.headers.get(name, default)


def _metadata_headers(entries):
    """
    Content headers and C{x-amz-meta-} headers from C{Metadata} entries.
    """
    headers = {}
    for entry in entries or ():
        name = entry.Name.strip().lower()
        headers[name if name in CONTENT_HEADERS else "x-amz-meta-" + name] = entry.Value
    return _Headers(headers)


def _metadata_entries(version):
    """
    The C{Metadata} entries of a version: its content headers
    (C{Content-Type}, ...) and its user metadata.
    """
    entries = [
        t.MetadataEntry(Name="-".join(part.capitalize() for part in name.split("-")), Value=value)
        for name, value in version.headers.items()
    ]
    return entries + [t.MetadataEntry(Name=name, Value=value) for name, value in version.metadata.items()]


def _condition_headers(prefix, if_match, if_none_match, modified_since, unmodified_since):
    headers = {}
    if if_match:
        headers[prefix + "if-match"] = ", ".join(if_match)
    if if_none_match:
        headers[prefix + "if-none-match"] = ", ".join(if_none_match)
    if modified_since is not None:
        headers[prefix + "if-modified-since"] = http_date(modified_since.timestamp())
    if unmodified_since is not None:
        headers[prefix + "if-unmodified-since"] = http_date(unmodified_since.timestamp())
    return _Headers(headers)


def _grants(acl):
    """
    The grants of a request's C{AccessControlList} element.

    @return: C{(grantee type, value, permission)} rows; the type is the
        local name of the grantee's C{xsi:type} when it is in the S3
        namespace.
    @raise MalformedACLError: a grantee of another or no type.
    """
    rows = []
    for grant in acl.iterfind(f"{{{S3_NS}}}Grant"):
        grantee = grant.find(f"{{{S3_NS}}}Grantee")
        kind = _grantee_type(grantee) if grantee is not None else None
        if kind not in _GRANTEE_VALUES:
            raise MalformedACLError()
        value = child_text(grantee, _GRANTEE_VALUES[kind][1])
        rows.append((kind, value, child_text(grant, "Permission")))
    return rows


def _grantee_type(grantee):
    prefix, _, local = (grantee.get(_XSI_TYPE) or "").rpartition(":")
    return local if grantee.nsmap.get(prefix or None) == S3_NS else None


def _acl_headers(element):
    """
    The C{x-amz-grant-*} headers that stand for a request's
    C{AccessControlList} (none: the default, private).
    """
    acl = element.find(f"{{{S3_NS}}}AccessControlList")
    if acl is None:
        return {}
    headers = {}
    for kind, value, permission in _grants(acl):
        if permission not in _GRANT_HEADERS:
            raise MalformedACLError()
        item = f'{_GRANTEE_VALUES[kind][0]}="{value}"'
        name = _GRANT_HEADERS[permission]
        headers[name] = headers[name] + ", " + item if name in headers else item
    return headers


def _policy_document(element):
    """
    The C{AccessControlPolicy} document of a request's C{AccessControlList},
    for L{eucalyptus.services.walrus.acl.from_xml}: the grants as sent, with
    each grantee's C{xsi:type} written without a prefix.
    """
    original = element.find(f"{{{S3_NS}}}AccessControlList")
    acl = copy.deepcopy(original)
    # Types are resolved in the request, where their prefixes are declared.
    for sent, grantee in zip(original.iter(f"{{{S3_NS}}}Grantee"), acl.iter(f"{{{S3_NS}}}Grantee")):
        kind = _grantee_type(sent)
        if kind is None:
            raise MalformedACLError()
        grantee.set(_XSI_TYPE, kind)
    policy = S3.AccessControlPolicy()
    policy.append(acl)
    return etree.tostring(policy)


def _policy(acl):
    """
    The C{AccessControlPolicy} model of an L{eucalyptus.services.walrus.acl.Acl}.
    """
    grants = []
    for grant in acl.grants:
        if grant.kind == "Group":
            grantee = t.Group(URI=grant.grantee)
        else:
            grantee = t.CanonicalUser(ID=grant.grantee, DisplayName=grant.display_name)
        grants.append(t.Grant(Grantee=grantee, Permission=grant.permission))
    return t.AccessControlPolicy(
        Owner=t.CanonicalUser(ID=acl.owner, DisplayName=acl.owner_name),
        AccessControlList=t.AccessControlList(Grant=grants),
    )


# -- operations -----------------------------------------------------------------


async def list_all_my_buckets(call, request):
    """
    ListAllMyBuckets: the caller's buckets.
    """
    buckets = await call.objects.list_buckets(call.identity)
    entries = [t.ListAllMyBucketsEntry(Name=b.name, CreationDate=_when(b.created)) for b in buckets]
    return m.ListAllMyBucketsResponseType(
        ListAllMyBucketsResponse=t.ListAllMyBucketsResult(
            Owner=_owner(call.identity.account_id, call.objects.names),
            Buckets=t.ListAllMyBucketsList(Bucket=entries),
        )
    )


async def create_bucket(call, request):
    """
    CreateBucket, with the request's ACL and region.
    """
    region = request.LocationConstraint or ""
    if region and not REGION.match(region):
        raise InvalidLocationConstraint(LocationConstraint=region)
    await call.objects.create_bucket(call.identity, request.Bucket, region, _acl_headers(call.element))
    return m.CreateBucketResponseType(CreateBucketResponse=t.CreateBucketResult(BucketName=request.Bucket))


async def delete_bucket(call, request):
    """
    DeleteBucket.
    """
    await call.objects.delete_bucket(call.identity, request.Bucket)
    return m.DeleteBucketResponseType(DeleteBucketResponse=_status(204, "No Content"))


def _list_entry(version, names):
    return t.ListEntry(
        Key=version.key,
        LastModified=_when(version.last_modified),
        ETag=f'"{version.etag}"',
        Size=version.size,
        Owner=_owner(version.owner, names),
        StorageClass="STANDARD",
    )


async def list_bucket(call, request):
    """
    ListBucket: one page of objects and common prefixes.
    """
    prefix, delimiter, marker = request.Prefix or "", request.Delimiter or "", request.Marker or ""
    limit = _max_keys(request.MaxKeys)
    listing = await call.objects.list_objects(
        call.identity, request.Bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=limit
    )
    result = t.ListBucketResult(
        Name=request.Bucket,
        Prefix=prefix,
        Marker=marker,
        MaxKeys=limit,
        IsTruncated=listing.is_truncated,
        Contents=[_list_entry(v, call.objects.names) for v in listing.objects],
        CommonPrefixes=[t.PrefixEntry(Prefix=p) for p in listing.common_prefixes],
    )
    if delimiter:
        result.Delimiter = delimiter
        if listing.is_truncated:
            result.NextMarker = listing.next_marker
    return m.ListBucketResponseType(ListBucketResponse=result)


async def list_versions(call, request):
    """
    ListVersions: one page of versions and delete markers.
    """
    prefix, delimiter = request.Prefix or "", request.Delimiter or ""
    key_marker, version_marker = request.KeyMarker or "", request.VersionIdMarker or ""
    limit = _max_keys(request.MaxKeys)
    listing = await call.objects.list_versions(
        call.identity, request.Bucket, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
        version_id_marker=version_marker, max_keys=limit,
    )  # fmt: skip
    names = call.objects.names
    result = t.ListVersionsResult(
        Name=request.Bucket, Prefix=prefix, KeyMarker=key_marker, VersionIdMarker=version_marker, MaxKeys=limit,
        IsTruncated=listing.is_truncated, Version=[], DeleteMarker=[],
        CommonPrefixes=[t.PrefixEntry(Prefix=p) for p in listing.common_prefixes],
    )  # fmt: skip
    if delimiter:
        result.Delimiter = delimiter
    if listing.is_truncated:
        result.NextKeyMarker, result.NextVersionIdMarker = listing.next_key_marker, listing.next_version_id_marker
    for v in listing.versions:
        common = {"Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest, "LastModified": _when(v.last_modified)}
        if v.delete_marker:
            result.DeleteMarker.append(t.DeleteMarkerEntry(Owner=_owner(v.owner, names), **common))
        else:
            result.Version.append(
                t.VersionEntry(ETag=f'"{v.etag}"', Size=v.size, Owner=_owner(v.owner, names), StorageClass="STANDARD", **common)
            )
    return m.ListVersionsResponseType(ListVersionsResponse=result)


async def put_object_inline(call, request):
    """
    PutObjectInline: store the message's data (at most L{MAX_INLINE_DATA}).
    """
    data = _data(request.Data)
    if len(data) > MAX_INLINE_DATA:
        raise InlineDataTooLarge(f"PutObjectInline carries at most {MAX_INLINE_DATA} bytes; use the REST API.")
    if request.ContentLength != len(data):
        raise IncompleteBody(f"ContentLength is {request.ContentLength} but Data holds {len(data)} bytes.")
    fields = _metadata_headers(request.Metadata)
    headers, metadata = content_headers(fields), user_metadata(fields)
    acl_headers = _acl_headers(call.element)
    spool = call.objects.store.spool()
    try:
        spool.write(data)
        await spool.finish()
        version = await call.objects.put_object(
            call.identity, request.Bucket, request.Key, spool, headers, metadata, acl_headers
        )
    except BaseException:
        spool.discard()
        raise
    result = t.PutObjectResult(ETag=f'"{version.etag}"', LastModified=_when(version.last_modified))
    return m.PutObjectInlineResponseType(PutObjectInlineResponse=result)


async def _get_object(call, request, extended):
    """
    The C{GetObjectResult} of C{GetObject} or, with C{extended},
    C{GetObjectExtended}.
    """
    version = await call.objects.get_object(call.identity, request.Bucket, request.Key, request.VersionId)
    start, end, status = 0, version.size, _status(200, "OK")
    if extended:
        try:
            conditions = _condition_headers(
                "", request.IfMatch, request.IfNoneMatch, request.IfModifiedSince, request.IfUnmodifiedSince
            )
            check_conditions(conditions, version)
        except (PreconditionFailed, NotModified):
            if not request.ReturnCompleteObjectOnConditionFailure:
                raise
        else:
            if request.ByteRangeStart is not None or request.ByteRangeEnd is not None:
                first = request.ByteRangeStart if request.ByteRangeStart is not None else 0
                last = request.ByteRangeEnd if request.ByteRangeEnd is not None else ""
                span = parse_range(f"bytes={first}-{last}", version.size)
                if span is not None:
                    (start, end), status = span, _status(206, "Partial Content")
    data = None
    if request.GetData:
        if end - start > MAX_INLINE_DATA:
            raise InlineDataTooLarge(
                f"The object is {end - start} bytes; fetch at most {MAX_INLINE_DATA} bytes at a time with "
                "GetObjectExtended ByteRangeStart and ByteRangeEnd, or use the REST API."
            )
        data = [await call.read(version, start, end)]
    return t.GetObjectResult(
        Status=status,
        Metadata=_metadata_entries(version) if request.GetMetadata else [],
        Data=data,
        LastModified=_when(version.last_modified),
        ETag=f'"{version.etag}"',
    )


async def get_object(call, request):
    """
    GetObject.
    """
    return m.GetObjectResponseType(GetObjectResponse=await _get_object(call, request, False))


async def get_object_extended(call, request):
    """
    GetObjectExtended: GetObject with a byte range and conditions.
    """
    return m.GetObjectExtendedResponseType(GetObjectResponse=await _get_object(call, request, True))


async def copy_object(call, request):
    """
    CopyObject, with the source's or the request's metadata.
    """
    objects = call.objects
    source = await objects.get_object(call.identity, request.SourceBucket, request.SourceKey, request.VersionId)
    conditions = _condition_headers(
        "x-amz-copy-source-", request.CopySourceIfMatch, request.CopySourceIfNoneMatch,
        request.CopySourceIfModifiedSince, request.CopySourceIfUnmodifiedSince,
    )  # fmt: skip
    check_conditions(conditions, source, "x-amz-copy-source-", PreconditionFailed)
    if (request.MetadataDirective or "COPY") == "COPY":
        headers, metadata = source.headers, source.metadata
        same = (source.bucket, source.key) == (request.DestinationBucket, request.DestinationKey)
        if same and request.VersionId is None:
            raise InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata."
            )
    else:
        fields = _metadata_headers(request.Metadata)
        headers, metadata = content_headers(fields), user_metadata(fields)
    version = await objects.copy_object(
        call.identity, source, request.DestinationBucket, request.DestinationKey, headers, metadata,
        _acl_headers(call.element),
    )  # fmt: skip
    result = t.CopyObjectResult(LastModified=_when(version.last_modified), ETag=f'"{version.etag}"')
    return m.CopyObjectResponseType(CopyObjectResult=result)


async def delete_object(call, request):
    """
    DeleteObject (one version with C{VersionId}).
    """
    await call.objects.delete_object(call.identity, request.Bucket, request.Key, request.VersionId)
    return m.DeleteObjectResponseType(DeleteObjectResponse=_status(204, "No Content"))


async def get_bucket_acl(call, request):
    """
    GetBucketAccessControlPolicy.
    """
    acl = await call.objects.get_bucket_acl(call.identity, request.Bucket)
    return m.GetBucketAccessControlPolicyResponseType(GetBucketAccessControlPolicyResponse=_policy(acl))


async def set_bucket_acl(call, request):
    """
    SetBucketAccessControlPolicy: the request's grants replace the bucket's.
    """
    await call.objects.put_bucket_acl(call.identity, request.Bucket, {}, _policy_document(call.element))
    return m.SetBucketAccessControlPolicyResponseType()


async def get_object_acl(call, request):
    """
    GetObjectAccessControlPolicy.
    """
    acl = await call.objects.get_object_acl(call.identity, request.Bucket, request.Key, request.VersionId)
    return m.GetObjectAccessControlPolicyResponseType(GetObjectAccessControlPolicyResponse=_policy(acl))


async def set_object_acl(call, request):
    """
    SetObjectAccessControlPolicy: the request's grants replace the object's.
    """
    await call.objects.put_object_acl(
        call.identity, request.Bucket, request.Key, request.VersionId, {}, _policy_document(call.element)
    )
    return m.SetObjectAccessControlPolicyResponseType()


async def get_bucket_location(call, request):
    """
    GetBucketLocation: the region, empty for the default one.
    """
    bucket = await call.objects.owned_bucket(call.identity, request.Bucket)
    region = bucket.region if bucket.region != "us-east-1" else ""
    return m.GetBucketLocationResponseType(GetBucketLocationResponse=t.GetBucketLocationResult(LocationConstraint=region))


async def get_versioning(call, request):
    """
    GetBucketVersioningStatus.
    """
    bucket = await call.objects.owned_bucket(call.identity, request.Bucket)
    configuration = t.VersioningConfiguration(Status=bucket.versioning or None)
    return m.GetBucketVersioningStatusResponseType(GetBucketVersioningStatusResponse=configuration)


async def set_versioning(call, request):
    """
    SetBucketVersioningStatus: C{Enabled} or C{Suspended}.
    """
    if request.VersioningStatus not in ("Enabled", "Suspended"):
        raise IllegalVersioningConfigurationException()
    await call.objects.configure_bucket(call.identity, request.Bucket, versioning=request.VersioningStatus)
    return m.SetBucketVersioningStatusResponseType()


#: Operation name to its C{async (call, request) -> response} function.
OPERATIONS = {
    "ListAllMyBuckets": list_all_my_buckets,
    "CreateBucket": create_bucket,
    "DeleteBucket": delete_bucket,
    "ListBucket": list_bucket,
    "PutObjectInline": put_object_inline,
    "GetObject": get_object,
    "GetObjectExtended": get_object_extended,
    "CopyObject": copy_object,
    "DeleteObject": delete_object,
    "GetBucketAccessControlPolicy": get_bucket_acl,
    "SetBucketAccessControlPolicy": set_bucket_acl,
    "GetObjectAccessControlPolicy": get_object_acl,
    "SetObjectAccessControlPolicy": set_object_acl,
    "GetBucketLocation": get_bucket_location,
    "GetBucketVersioningStatus": get_versioning,
    "SetBucketVersioningStatus": set_versioning,
    "ListVersions": list_versions,
}
