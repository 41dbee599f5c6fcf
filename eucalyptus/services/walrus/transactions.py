# -*- test-case-name: tests.services.walrus.test_store -*-
"""
The catalog transactions of L{eucalyptus.services.walrus.store}: S3's rules
as functions of a SQLite connection.

The C{txn_*} functions run in a write transaction on the catalog's writer
thread (one savepoint each); the others are reads.  They raise the S3
errors, which roll back only their own savepoint.
"""

import hashlib
import secrets
from dataclasses import replace

from eucalyptus.services.walrus import catalog, errors
from eucalyptus.services.walrus.blobs import Locator
from eucalyptus.services.walrus.interfaces import NULL_VERSION, ObjectVersion, PartListing

__all__ = [
    "MIN_PART_SIZE", "MAX_PART_NUMBER", "MAX_KEY_BYTES",
    "check_key", "check_part_number", "version_fields", "whole_blob", "existing_bucket", "get_version", "get_probed_version",
    "txn_create_bucket", "txn_update_bucket", "txn_delete_bucket", "txn_add_version", "txn_delete", "txn_update_object",
    "txn_create_upload", "get_upload", "txn_put_part", "list_parts", "txn_complete", "txn_abort",
]  # fmt: skip

MIN_PART_SIZE = 5 << 20
MAX_PART_NUMBER = 10000
MAX_KEY_BYTES = 1024


def check_key(key):
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise errors.InvalidArgument("Object keys must be valid Unicode.", ArgumentName="key")
    if not size:
        raise errors.InvalidArgument("Object keys cannot be empty.", ArgumentName="key")
    if size > MAX_KEY_BYTES:
        raise errors.KeyTooLongError(Size=size, MaxSizeAllowed=MAX_KEY_BYTES)


def check_part_number(number):
    if not isinstance(number, int) or not 1 <= number <= MAX_PART_NUMBER:
        raise errors.InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=number,
        )


def version_fields(bucket, key, size, etag, modified, owner, headers, metadata, acl, parts=()):
    return dict(
        bucket=bucket,
        key=key,
        delete_marker=False,
        size=size,
        etag=etag,
        last_modified=modified,
        owner=owner,
        headers=dict(headers),
        metadata=dict(metadata),
        acl=acl,
        parts=tuple(parts),
    )


def whole_blob(locator, start, end):
    """
    @return: the blob of C{locator} that is exactly C{[start, end)}, or
        C{None}.
    """
    position = 0
    for blob in locator:
        if position == start and position + blob[1] == end and blob[1]:
            return blob
        position += blob[1]
    return None


def _unquote(etag):
    return etag.strip().strip('"').lower()


def existing_bucket(conn, name):
    found = catalog.bucket(conn, name)
    if found is None:
        raise errors.NoSuchBucket(BucketName=name)
    return found


def get_probed_version(conn, bucket, key, version_id, probe):
    found = get_version(conn, bucket, key, version_id)
    return replace(found, locator=Locator.probed(found.locator, probe(found.locator)))


def get_version(conn, bucket, key, version_id):
    existing_bucket(conn, bucket)
    found = catalog.version(conn, bucket, key, version_id)
    if found is None:
        if version_id is None:
            raise errors.NoSuchKey(Key=key)
        raise errors.NoSuchVersion(Key=key, VersionId=version_id)
    if found.delete_marker:
        if version_id is None:
            error = errors.NoSuchKey(Key=key, delete_marker=True)
        else:
            error = errors.MethodNotAllowed(ResourceType="DeleteMarker")
        error.delete_marker = True
        error.version_id = found.version_id
        raise error
    return found


def txn_create_bucket(conn, new):
    old = catalog.bucket(conn, new.name)
    if old is not None:
        if old.owner == new.owner:
            raise errors.BucketAlreadyOwnedByYou(BucketName=new.name)
        raise errors.BucketAlreadyExists(BucketName=new.name)
    catalog.insert_bucket(conn, new)
    return new


def txn_update_bucket(conn, name, changes):
    existing_bucket(conn, name)
    catalog.update_bucket(conn, name, changes)
    return catalog.bucket(conn, name)


def txn_delete_bucket(conn, name):
    existing_bucket(conn, name)
    if catalog.has_versions(conn, name):
        raise errors.BucketNotEmpty(BucketName=name)
    freed = []
    for upload_id in catalog.bucket_uploads(conn, name):
        freed.extend(catalog.delete_upload(conn, upload_id))
    catalog.delete_bucket(conn, name)
    return freed


def _add(conn, bucket, fields):
    """
    Add a version (or marker) by the bucket's versioning rules.

    @return: C{(ObjectVersion, freed blob ids)}.
    """
    freed = []
    if bucket.versioning == "Enabled":
        version_id = secrets.token_urlsafe(24)
    else:
        version_id = NULL_VERSION
        old = catalog.version(conn, bucket.name, fields["key"], NULL_VERSION)
        if old is not None:
            freed = catalog.remove_version(conn, old)
    new = ObjectVersion(version_id=version_id, is_latest=True, **fields)
    catalog.add_version(conn, new)
    return new, freed


def txn_add_version(conn, fields):
    return _add(conn, existing_bucket(conn, fields["bucket"]), fields)


def txn_delete(conn, bucket, key, version_id, modified, owner):
    found = existing_bucket(conn, bucket)
    if version_id is not None or not found.versioning:
        old = catalog.version(conn, bucket, key, NULL_VERSION if version_id is None else version_id)
        if old is None:
            return None, []
        return old, catalog.remove_version(conn, old)
    marker = version_fields(bucket, key, 0, "", modified, found.owner if owner is None else owner, {}, {}, "")
    return _add(conn, found, dict(marker, delete_marker=True, locator=()))


def txn_update_object(conn, bucket, key, version_id, acl):
    found = get_version(conn, bucket, key, version_id)
    catalog.set_version_acl(conn, found, acl)
    return replace(found, acl=acl)


def txn_create_upload(conn, new):
    existing_bucket(conn, new.bucket)
    catalog.insert_upload(conn, new)
    return new


def get_upload(conn, bucket, key, upload_id):
    existing_bucket(conn, bucket)
    found = catalog.upload(conn, upload_id)
    if found is None or found.bucket != bucket or found.key != key:
        raise errors.NoSuchUpload(UploadId=upload_id)
    return found


def _current_upload(conn, upload_id):
    found = catalog.upload(conn, upload_id)
    if found is None:
        raise errors.NoSuchUpload(UploadId=upload_id)
    return found


def txn_put_part(conn, upload_id, part, blob_id):
    _current_upload(conn, upload_id)
    return catalog.put_part(conn, upload_id, part, blob_id)


def list_parts(conn, upload, marker, limit):
    current = _current_upload(conn, upload.upload_id)
    found = catalog.list_parts(conn, upload.upload_id, marker, max(limit, 0) + 1)
    truncated = len(found) > limit
    found = found[: max(limit, 0)]
    return PartListing(current, found, truncated, found[-1].part_number if truncated and found else None)


def txn_complete(conn, upload, listed, modified):
    current = _current_upload(conn, upload.upload_id)
    bucket = existing_bucket(conn, current.bucket)
    if not listed:
        raise errors.MalformedXML("You must specify at least one part.")
    numbers = [number for number, _ in listed]
    if any(later <= earlier for earlier, later in zip(numbers, numbers[1:])):
        raise errors.InvalidPartOrder(UploadId=upload.upload_id)
    stored = catalog.parts(conn, upload.upload_id)
    chosen = []
    for number, etag in listed:
        found = stored.get(number)
        if found is None or found[0].etag != _unquote(etag):
            raise errors.InvalidPart(UploadId=upload.upload_id, PartNumber=number, ETag=_unquote(etag))
        chosen.append(found)
    for part, _ in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise errors.EntityTooSmall(
                ProposedSize=part.size, MinSizeAllowed=MIN_PART_SIZE, PartNumber=part.part_number, ETag=part.etag
            )
    digest = hashlib.md5(b"".join(bytes.fromhex(part.etag) for part, _ in chosen)).hexdigest()
    size = sum(part.size for part, _ in chosen)
    new = version_fields(
        current.bucket, current.key, size, f"{digest}-{len(chosen)}", modified, current.owner,
        current.headers, current.metadata, current.acl, [part.size for part, _ in chosen],
    )
    locator = tuple((blob_id, part.size, part.etag) for part, blob_id in chosen)
    version, freed = _add(conn, bucket, dict(new, locator=locator))
    used = {blob_id for _, blob_id in chosen}
    freed.extend(blob_id for blob_id in catalog.delete_upload(conn, upload.upload_id) if blob_id not in used)
    return version, freed


def txn_abort(conn, upload_id):
    _current_upload(conn, upload_id)
    return catalog.delete_upload(conn, upload_id)
