# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
S3 REST handlers for the service and for buckets: listing buckets and
objects, bucket configuration (ACL, versioning, location, CORS) and
multi-object delete.  Each handler is C{async (objects, call)}.
"""

import base64
import binascii
import hashlib
import re
from urllib.parse import quote_plus

from lxml import etree

from eucalyptus.errors import AwsError
from eucalyptus.services.walrus import cors
from eucalyptus.services.walrus.call import reply_empty, reply_xml, xml_body
from eucalyptus.services.walrus.errors import (
    BadDigest,
    IllegalVersioningConfigurationException,
    InvalidArgument,
    InvalidLocationConstraint,
    MalformedXML,
    NoSuchBucket,
    NoSuchCORSConfiguration,
)
from eucalyptus.services.walrus.s3xml import S3, iso_time, parse_xml, text_of
from eucalyptus.services.walrus.upload import expected_md5

__all__ = [
    "list_buckets",
    "create_bucket",
    "head_bucket",
    "delete_bucket",
    "list_objects",
    "list_versions",
    "list_uploads",
    "get_bucket_acl",
    "put_bucket_acl",
    "get_versioning",
    "put_versioning",
    "get_location",
    "get_cors",
    "put_cors",
    "delete_cors",
    "delete_objects",
    "acl_body",
    "owner_element",
    "encoder",
    "max_count",
    "REGION",
]

REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_MAX_DELETE = 1000


def owner_element(account_id, names, tag="Owner"):
    """
    An C{Owner} (or C{Initiator}) element.
    """
    return getattr(S3, tag)(S3.ID(account_id), S3.DisplayName(names(account_id) or ""))


def encoder(call):
    """
    The function that writes keys and prefixes into a listing:
    URL-encoding when the client asked for C{encoding-type=url}.

    @raise InvalidArgument: another encoding type.
    """
    kind = call.arg("encoding-type")
    if kind is None:
        return lambda text: text
    if kind != "url":
        raise InvalidArgument("Invalid Encoding Method specified in Request", ArgumentName="encoding-type", ArgumentValue=kind)
    return lambda text: quote_plus(text, safe="/")


def max_count(call, name, default=1000):
    """
    A non-negative integer paging argument, capped at 1000.

    @raise InvalidArgument: not a non-negative integer.
    """
    text = call.arg(name)
    if text is None:
        return default
    if not text.isdigit():
        raise InvalidArgument(f"Provided {name} not an integer or within integer range", ArgumentName=name, ArgumentValue=text)
    return min(int(text), 1000)


async def list_buckets(objects, call):
    buckets = await objects.list_buckets(call.identity)
    entries = [S3.Bucket(S3.Name(b.name), S3.CreationDate(iso_time(b.created))) for b in buckets]
    owner = owner_element(call.identity.account_id, objects.names)
    reply_xml(call, S3.ListAllMyBucketsResult(owner, S3.Buckets(*entries)))


async def create_bucket(objects, call):
    region = ""
    body = xml_body(call)
    if body.strip():
        root = parse_xml(body)
        if etree.QName(root).localname != "CreateBucketConfiguration":
            raise MalformedXML()
        region = text_of(root, "LocationConstraint") or ""
        if region and not REGION.match(region):
            raise InvalidLocationConstraint(LocationConstraint=region)
    await objects.create_bucket(call.identity, call.bucket, region, call.headers)
    reply_empty(call, headers={"Location": "/" + call.bucket})


async def head_bucket(objects, call):
    bucket = await objects.head_bucket(call.identity, call.bucket)
    reply_empty(call, headers={"x-amz-bucket-region": bucket.region or "us-east-1"})


async def delete_bucket(objects, call):
    await objects.delete_bucket(call.identity, call.bucket)
    reply_empty(call, 204)


def _content_elements(version, encode, names, fetch_owner=True):
    elements = [
        S3.Key(encode(version.key)),
        S3.LastModified(iso_time(version.last_modified)),
        S3.ETag(f'"{version.etag}"'),
        S3.Size(str(version.size)),
    ]
    if fetch_owner:
        elements.append(owner_element(version.owner, names))
    elements.append(S3.StorageClass("STANDARD"))
    return elements


async def list_objects(objects, call):
    encode = encoder(call)
    prefix, delimiter = call.arg("prefix", ""), call.arg("delimiter", "")
    limit = max_count(call, "max-keys")
    v2 = call.arg("list-type") == "2"
    if v2:
        token = call.arg("continuation-token")
        marker = _decode_token(token) if token is not None else call.arg("start-after", "")
    else:
        marker = call.arg("marker", "")
    listing = await objects.list_objects(
        call.identity, call.bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=limit
    )
    fetch_owner = not v2 or call.arg("fetch-owner") == "true"
    contents = [S3.Contents(*_content_elements(v, encode, objects.names, fetch_owner)) for v in listing.objects]
    prefixes = _common_prefixes(listing, encode)
    head = [S3.Name(call.bucket), S3.Prefix(encode(prefix))]
    if v2:
        head += [S3.KeyCount(str(len(contents) + len(prefixes)))]
        if call.arg("continuation-token") is not None:
            head.append(S3.ContinuationToken(call.arg("continuation-token")))
        if call.arg("start-after") is not None:
            head.append(S3.StartAfter(encode(call.arg("start-after"))))
        if listing.is_truncated:
            head.append(S3.NextContinuationToken(_encode_token(listing.next_marker)))
    else:
        head.append(S3.Marker(encode(marker)))
        if listing.is_truncated and delimiter:
            head.append(S3.NextMarker(encode(listing.next_marker)))
    head += [S3.MaxKeys(str(limit))]
    head += _listing_tail(call, delimiter, encode, listing.is_truncated)
    reply_xml(call, S3.ListBucketResult(*head, *contents, *prefixes))


def _listing_tail(call, delimiter, encode, truncated):
    """
    The elements every listing has after its markers: C{Delimiter},
    C{EncodingType} when asked for, C{IsTruncated}.
    """
    tail = [S3.Delimiter(encode(delimiter))] if delimiter else []
    if call.arg("encoding-type"):
        tail.append(S3.EncodingType("url"))
    tail.append(S3.IsTruncated("true" if truncated else "false"))
    return tail


def _common_prefixes(listing, encode):
    return [S3.CommonPrefixes(S3.Prefix(encode(p))) for p in listing.common_prefixes]


def _encode_token(key):
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def _decode_token(token):
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidArgument("The continuation token provided is incorrect", ArgumentName="continuation-token")


async def list_versions(objects, call):
    encode = encoder(call)
    prefix, delimiter = call.arg("prefix", ""), call.arg("delimiter", "")
    key_marker, version_marker = call.arg("key-marker", ""), call.arg("version-id-marker", "")
    limit = max_count(call, "max-keys")
    listing = await objects.list_versions(
        call.identity,
        call.bucket,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker,
        version_id_marker=version_marker,
        max_keys=limit,
    )
    head = [S3.Name(call.bucket), S3.Prefix(encode(prefix)), S3.KeyMarker(encode(key_marker))]
    head.append(S3.VersionIdMarker(version_marker))
    if listing.is_truncated:
        head.append(S3.NextKeyMarker(encode(listing.next_key_marker)))
        head.append(S3.NextVersionIdMarker(listing.next_version_id_marker))
    head.append(S3.MaxKeys(str(limit)))
    head += _listing_tail(call, delimiter, encode, listing.is_truncated)
    entries = []
    for v in listing.versions:
        common = [S3.Key(encode(v.key)), S3.VersionId(v.version_id), S3.IsLatest("true" if v.is_latest else "false")]
        common.append(S3.LastModified(iso_time(v.last_modified)))
        if v.delete_marker:
            entries.append(S3.DeleteMarker(*common, owner_element(v.owner, objects.names)))
        else:
            rest = [S3.ETag(f'"{v.etag}"'), S3.Size(str(v.size)), S3.StorageClass("STANDARD")]
            entries.append(S3.Version(*common, *rest, owner_element(v.owner, objects.names)))
    prefixes = _common_prefixes(listing, encode)
    reply_xml(call, S3.ListVersionsResult(*head, *entries, *prefixes))


async def list_uploads(objects, call):
    encode = encoder(call)
    prefix, delimiter = call.arg("prefix", ""), call.arg("delimiter", "")
    key_marker, upload_marker = call.arg("key-marker", ""), call.arg("upload-id-marker", "")
    limit = max_count(call, "max-uploads")
    listing = await objects.list_uploads(
        call.identity,
        call.bucket,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker,
        upload_id_marker=upload_marker,
        max_uploads=limit,
    )
    head = [S3.Bucket(call.bucket), S3.KeyMarker(encode(key_marker)), S3.UploadIdMarker(upload_marker)]
    if listing.is_truncated:
        head += [S3.NextKeyMarker(encode(listing.next_key_marker)), S3.NextUploadIdMarker(listing.next_upload_id_marker)]
    head += [S3.Prefix(encode(prefix)), S3.MaxUploads(str(limit))]
    head += _listing_tail(call, delimiter, encode, listing.is_truncated)
    uploads = [
        S3.Upload(
            S3.Key(encode(u.key)),
            S3.UploadId(u.upload_id),
            owner_element(u.owner, objects.names, "Initiator"),
            owner_element(u.owner, objects.names),
            S3.StorageClass("STANDARD"),
            S3.Initiated(iso_time(u.initiated)),
        )
        for u in listing.uploads
    ]
    prefixes = _common_prefixes(listing, encode)
    reply_xml(call, S3.ListMultipartUploadsResult(*head, *uploads, *prefixes))


def acl_body(call):
    """
    The policy document of a PutBucketAcl or PutObjectAcl, or C{None} when
    the ACL comes from headers.
    """
    body = xml_body(call)
    return body if body.strip() else None


async def get_bucket_acl(objects, call):
    acl = await objects.get_bucket_acl(call.identity, call.bucket)
    reply_xml(call, acl.to_xml())


async def put_bucket_acl(objects, call):
    await objects.put_bucket_acl(call.identity, call.bucket, call.headers, acl_body(call))
    reply_empty(call)


async def get_versioning(objects, call):
    bucket = await objects.owned_bucket(call.identity, call.bucket)
    document = S3.VersioningConfiguration()
    if bucket.versioning:
        document.append(S3.Status(bucket.versioning))
    reply_xml(call, document)


async def put_versioning(objects, call):
    root = parse_xml(xml_body(call))
    status = text_of(root, "Status")
    if etree.QName(root).localname != "VersioningConfiguration" or status not in ("Enabled", "Suspended"):
        raise IllegalVersioningConfigurationException()
    await objects.configure_bucket(call.identity, call.bucket, versioning=status)
    reply_empty(call)


async def get_location(objects, call):
    bucket = await objects.owned_bucket(call.identity, call.bucket)
    element = S3.LocationConstraint()
    if bucket.region and bucket.region != "us-east-1":
        element.text = bucket.region
    reply_xml(call, element)


async def get_cors(objects, call):
    bucket = await objects.owned_bucket(call.identity, call.bucket)
    if not bucket.cors:
        raise NoSuchCORSConfiguration(BucketName=call.bucket)
    reply_xml(call, cors.cors_to_xml(bucket.cors))


async def put_cors(objects, call):
    rules = cors.parse_cors(xml_body(call))
    await objects.configure_bucket(call.identity, call.bucket, cors=rules)
    reply_empty(call)


async def delete_cors(objects, call):
    await objects.configure_bucket(call.identity, call.bucket, cors=None)
    reply_empty(call, 204)


def check_content_md5(call, body):
    """
    Check a small body against its C{Content-MD5}, when there is one.

    @raise InvalidDigest: the header is not a base64 MD5.
    @raise BadDigest: it does not match.
    """
    stated = expected_md5(call)
    if stated is not None and stated != hashlib.md5(body).hexdigest():
        raise BadDigest(ExpectedDigest=call.header("content-md5"))


async def delete_objects(objects, call):
    body = xml_body(call)
    check_content_md5(call, body)
    root = parse_xml(body)
    if etree.QName(root).localname != "Delete":
        raise MalformedXML()
    quiet = (text_of(root, "Quiet") or "").lower() == "true"
    entries = [child for child in root if isinstance(child.tag, str) and etree.QName(child).localname == "Object"]
    if not entries or len(entries) > _MAX_DELETE:
        raise MalformedXML(f"A Delete request names from 1 to {_MAX_DELETE} objects.")
    results = []
    for entry in entries:
        key, version_id = text_of(entry, "Key"), text_of(entry, "VersionId")
        if key is None:
            raise MalformedXML("Each Object needs a Key.")
        try:
            removed = await objects.delete_object(call.identity, call.bucket, key, version_id or None)
        except NoSuchBucket:
            raise
        except AwsError as e:
            results.append(S3.Error(S3.Key(key), S3.Code(e.code), S3.Message(e.message)))
            continue
        if quiet:
            continue
        deleted = S3.Deleted(S3.Key(key))
        if version_id:
            deleted.append(S3.VersionId(version_id))
        if removed is not None and removed.delete_marker:
            deleted.append(S3.DeleteMarker("true"))
            if not version_id:
                deleted.append(S3.DeleteMarkerVersionId(removed.version_id))
        results.append(deleted)
    reply_xml(call, S3.DeleteResult(*results))
