# -*- test-case-name: tests.services.walrus.test_store -*-
"""
L{LocalObjectStore}: S3's rules over files (L{blobs}) and SQLite
(L{catalog}).

The order of every change is what makes it lose nothing: the data is made
durable first (fsync, rename, fsync of the directory), then one catalog
transaction makes it visible and detaches whatever it replaced, and only
after that commit are the freed blobs unlinked.  A crash in between leaves
blobs nobody refers to, which L{LocalObjectStore.start} removes.  A reader
sees the old version or the new one: each version names its own blobs, and
blobs a reader has open are unlinked only when it closes them.

The transaction functions (C{_txn_*}) run on the catalog's writer thread and
raise the S3 errors; the methods run in the reactor thread and only wait.
"""

import functools
import hashlib
import os
import secrets
from dataclasses import replace

from twisted.internet.defer import DeferredList, inlineCallbacks
from twisted.logger import Logger
from zope.interface import implementer

from eucalyptus.services.walrus import catalog, errors
from eucalyptus.services.walrus.blobs import BlobStore
from eucalyptus.services.walrus.interfaces import (
    NULL_VERSION,
    Bucket,
    IObjectStore,
    ObjectVersion,
    Part,
    PartListing,
    Upload,
)

__all__ = ["LocalObjectStore", "MIN_PART_SIZE", "MAX_PART_NUMBER", "MAX_KEY_BYTES"]

MIN_PART_SIZE = 5 << 20
MAX_PART_NUMBER = 10000
MAX_KEY_BYTES = 1024


def _tracked(method):
    """
    Make C{method} an C{inlineCallbacks} method whose Deferred
    L{LocalObjectStore.stop} waits for.
    """
    method = inlineCallbacks(method)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        d = method(self, *args, **kwargs)
        if not d.called:
            self._pending.add(d)
            d.addBoth(self._untrack, d)
        return d

    return wrapper


@implementer(IObjectStore)
class LocalObjectStore:
    """
    An L{IObjectStore} keeping data under C{root/data} and metadata in
    C{root/catalog.sqlite}.  Call L{start} (and wait) before anything else.

    @ivar blobs: the L{BlobStore} of the data files.
    @ivar catalog: the L{catalog.Catalog} of the metadata.
    """

    _log = Logger()

    def __init__(self, root, reactor=None, readers=3, io_threads=4, spool_writers=4, threaded=True):
        """
        @param root: the Walrus storage directory.
        @param readers: catalog reader threads.
        @param io_threads: threads for fsync, rename, link, copy, unlink.
        @param spool_writers: threads that write and hash incoming data.
        @param threaded: C{False} runs every blocking call in the caller's
            thread, so tests can use C{successResultOf}; never in a server.
        """
        if reactor is None:
            from twisted.internet import reactor
        self.root = root
        self._reactor = reactor
        scale = 1 if threaded else 0
        self.blobs = BlobStore(root, reactor, io_threads * scale, spool_writers * scale)
        self.catalog = catalog.Catalog(os.path.join(root, "catalog.sqlite"), reactor, readers * scale)
        self._pending = set()

    def _untrack(self, result, d):
        self._pending.discard(d)
        return result

    @inlineCallbacks
    def start(self):
        """
        See L{IObjectStore.start}.
        """
        yield self.blobs.start()
        yield self.catalog.start()
        referenced = yield self.catalog.read(catalog.referenced_blobs)
        removed = yield self.blobs.sweep(referenced)
        if removed:
            self._log.info("Removed {count} blobs no object refers to", count=len(removed))

    @inlineCallbacks
    def stop(self):
        """
        See L{IObjectStore.stop}.
        """
        while self._pending:
            yield DeferredList(list(self._pending))
        yield self.catalog.stop()
        yield self.blobs.stop()

    def spool(self):
        """
        See L{IObjectStore.spool}.
        """
        return self.blobs.spool()

    @_tracked
    def create_bucket(self, name, owner, region, acl, created):
        """
        See L{IObjectStore.create_bucket}.
        """
        return (yield self.catalog.write(_txn_create_bucket, Bucket(name, owner, created, region, "", acl)))

    @_tracked
    def get_bucket(self, name):
        """
        See L{IObjectStore.get_bucket}.
        """
        return (yield self.catalog.read(_existing_bucket, name))

    @_tracked
    def list_buckets(self, owner):
        """
        See L{IObjectStore.list_buckets}.
        """
        return (yield self.catalog.read(catalog.buckets, owner))

    @_tracked
    def update_bucket(self, name, **changes):
        """
        See L{IObjectStore.update_bucket}.

        @raise IllegalVersioningConfigurationException: C{versioning} is
            neither C{Enabled} nor C{Suspended}.
        """
        if "versioning" in changes and changes["versioning"] not in ("Enabled", "Suspended"):
            raise errors.IllegalVersioningConfigurationException()
        return (yield self.catalog.write(_txn_update_bucket, name, changes))

    @_tracked
    def delete_bucket(self, name):
        """
        See L{IObjectStore.delete_bucket}.
        """
        freed = yield self.catalog.write(_txn_delete_bucket, name)
        yield self._free(freed)

    @_tracked
    def put_object(self, bucket, key, spool, headers, metadata, acl, owner, modified):
        """
        See L{IObjectStore.put_object}.
        """
        try:
            _check_key(key)
            result = yield spool.finish()
            blob_id = yield self.blobs.commit(spool)
        except BaseException:
            spool.discard()
            raise
        fields = _fields(bucket, key, result.size, result.md5, modified, owner, headers, metadata, acl)
        return (yield self._commit_version(fields, ((blob_id, result.size, result.md5),)))

    @_tracked
    def get_object(self, bucket, key, version_id=None):
        """
        See L{IObjectStore.get_object}.  A C{NoSuchKey} for a delete marker
        has C{delete_marker} in its details and the marker's C{version_id}
        as an attribute.
        """
        return (yield self.catalog.read(_get_version, bucket, key, version_id))

    @_tracked
    def read(self, version, start=0, end=None):
        """
        See L{IObjectStore.read}.  Close the reader when done: its blobs
        stay on disk until then.

        @raise InvalidRange: not C{0 <= start <= end <= size}.
        @raise MethodNotAllowed: C{version} is a delete marker.
        @raise NoSuchKey: the version was removed meanwhile.
        """
        version = yield self._located(version)
        if version.delete_marker:
            raise errors.MethodNotAllowed(ResourceType="DeleteMarker")
        end = version.size if end is None else end
        if not 0 <= start <= end <= version.size:
            raise errors.InvalidRange(RangeRequested=f"bytes={start}-{end - 1}", ActualObjectSize=version.size)
        try:
            return (yield self.blobs.open(version.locator, start, end))
        except FileNotFoundError:
            raise errors.NoSuchKey(Key=version.key)

    @_tracked
    def delete_object(self, bucket, key, version_id=None, modified=None, owner=None):
        """
        See L{IObjectStore.delete_object}.
        """
        modified = self._reactor.seconds() if modified is None else modified
        result, freed = yield self.catalog.write(_txn_delete, bucket, key, version_id, modified, owner)
        yield self._free(freed)
        return result

    @_tracked
    def copy_object(self, source, bucket, key, headers, metadata, acl, owner, modified):
        """
        See L{IObjectStore.copy_object}.  The copy's blobs are hard links
        to the source's: no byte is copied.
        """
        _check_key(key)
        source = yield self._located(source)
        if source.delete_marker:
            raise errors.InvalidRequest("The source of a copy cannot be a delete marker.")
        try:
            linked = yield self.blobs.link([blob[0] for blob in source.locator])
        except FileNotFoundError:
            raise errors.NoSuchKey(Key=source.key)
        locator = tuple((new, *blob[1:]) for new, blob in zip(linked, source.locator))
        fields = _fields(bucket, key, source.size, source.etag, modified, owner, headers, metadata, acl, source.parts)
        return (yield self._commit_version(fields, locator))

    @_tracked
    def update_object(self, bucket, key, version_id, acl):
        """
        See L{IObjectStore.update_object}.
        """
        return (yield self.catalog.write(_txn_update_object, bucket, key, version_id, acl))

    @_tracked
    def list_objects(self, bucket, prefix="", delimiter="", marker="", max_keys=1000):
        """
        See L{IObjectStore.list_objects}.
        """
        return (yield self.catalog.read(_list_objects, bucket, prefix, delimiter, marker, max_keys))

    @_tracked
    def list_versions(self, bucket, prefix="", delimiter="", key_marker="", version_id_marker="", max_keys=1000):
        """
        See L{IObjectStore.list_versions}.

        @raise InvalidArgument: C{version_id_marker} without C{key_marker},
            or naming no version of it.
        """
        args = (bucket, prefix, delimiter, key_marker, version_id_marker, max_keys)
        return (yield self.catalog.read(_list_versions, *args))

    @_tracked
    def create_upload(self, bucket, key, headers, metadata, acl, owner, initiated):
        """
        See L{IObjectStore.create_upload}.
        """
        _check_key(key)
        new = Upload(secrets.token_urlsafe(48), bucket, key, initiated, owner, dict(headers), dict(metadata), acl)
        return (yield self.catalog.write(_txn_create_upload, new))

    @_tracked
    def get_upload(self, bucket, key, upload_id):
        """
        See L{IObjectStore.get_upload}.
        """
        return (yield self.catalog.read(_get_upload, bucket, key, upload_id))

    @_tracked
    def put_part(self, upload, part_number, spool, modified):
        """
        See L{IObjectStore.put_part}.

        @raise InvalidArgument: C{part_number} is not in 1..10000.
        @raise NoSuchUpload: the upload is not in progress.
        """
        try:
            _check_part_number(part_number)
            result = yield spool.finish()
            blob_id = yield self.blobs.commit(spool)
        except BaseException:
            spool.discard()
            raise
        part = Part(part_number, result.size, result.md5, modified)
        return (yield self._commit_part(upload, part, blob_id))

    @_tracked
    def copy_part(self, upload, part_number, source, start, end, modified):
        """
        See L{IObjectStore.copy_part}.  A range that is exactly one blob of
        the source (a whole single-PUT object, or one part of a multipart
        one) is hard-linked; any other range is copied.
        """
        _check_part_number(part_number)
        source = yield self._located(source)
        if source.delete_marker:
            raise errors.InvalidRequest("The source of a copy cannot be a delete marker.")
        if not 0 <= start <= end <= source.size:
            raise errors.InvalidRange(RangeRequested=f"bytes={start}-{end - 1}", ActualObjectSize=source.size)
        whole = _whole_blob(source.locator, start, end)
        try:
            if whole is not None:
                (blob_id,) = yield self.blobs.link([whole[0]])
                size, md5 = whole[1], whole[2]
            else:
                blob_id, size, md5 = yield self.blobs.copy_range(source.locator, start, end)
        except FileNotFoundError:
            raise errors.NoSuchKey(Key=source.key)
        return (yield self._commit_part(upload, Part(part_number, size, md5, modified), blob_id))

    @_tracked
    def list_parts(self, upload, part_number_marker=0, max_parts=1000):
        """
        See L{IObjectStore.list_parts}.
        """
        return (yield self.catalog.read(_list_parts, upload, part_number_marker, max_parts))

    @_tracked
    def complete_upload(self, upload, parts, modified):
        """
        See L{IObjectStore.complete_upload}.  The object's data is the list
        of its parts' blobs: nothing is copied.

        @raise MalformedXML: C{parts} is empty.
        @raise NoSuchUpload: the upload is not in progress.
        """
        version, freed = yield self.catalog.write(_txn_complete, upload, list(parts), modified)
        yield self._free(freed)
        return version

    @_tracked
    def abort_upload(self, upload):
        """
        See L{IObjectStore.abort_upload}.

        @raise NoSuchUpload: the upload is not in progress.
        """
        freed = yield self.catalog.write(_txn_abort, upload.upload_id)
        yield self._free(freed)

    @_tracked
    def list_uploads(self, bucket, prefix="", delimiter="", key_marker="", upload_id_marker="", max_uploads=1000):
        """
        See L{IObjectStore.list_uploads}.
        """
        args = (bucket, prefix, delimiter, key_marker, upload_id_marker, max_uploads)
        return (yield self.catalog.read(_list_uploads, *args))

    @inlineCallbacks
    def _located(self, version):
        if version.locator is None:
            version = yield self.catalog.read(_get_version, version.bucket, version.key, version.version_id)
        return version

    @inlineCallbacks
    def _commit_version(self, fields, locator):
        try:
            version, freed = yield self.catalog.write(_txn_add_version, dict(fields, locator=tuple(locator)))
        except BaseException:
            yield self._free([blob[0] for blob in locator])
            raise
        yield self._free(freed)
        return version

    @inlineCallbacks
    def _commit_part(self, upload, part, blob_id):
        try:
            replaced = yield self.catalog.write(_txn_put_part, upload.upload_id, part, blob_id)
        except BaseException:
            yield self._free([blob_id])
            raise
        yield self._free([replaced] if replaced else [])
        return part

    @inlineCallbacks
    def _free(self, blob_ids):
        failed = yield self.blobs.free(blob_ids)
        for blob_id, error in failed:
            self._log.error("Cannot remove blob {blob}: {error}", blob=blob_id, error=error)


def _check_key(key):
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise errors.InvalidArgument("Object keys must be valid Unicode.", ArgumentName="key")
    if not size:
        raise errors.InvalidArgument("Object keys cannot be empty.", ArgumentName="key")
    if size > MAX_KEY_BYTES:
        raise errors.KeyTooLongError(Size=size, MaxSizeAllowed=MAX_KEY_BYTES)


def _check_part_number(number):
    if not isinstance(number, int) or not 1 <= number <= MAX_PART_NUMBER:
        raise errors.InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=number,
        )


def _fields(bucket, key, size, etag, modified, owner, headers, metadata, acl, parts=()):
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


def _whole_blob(locator, start, end):
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


def _existing_bucket(conn, name):
    found = catalog.bucket(conn, name)
    if found is None:
        raise errors.NoSuchBucket(BucketName=name)
    return found


def _get_version(conn, bucket, key, version_id):
    _existing_bucket(conn, bucket)
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


def _txn_create_bucket(conn, new):
    old = catalog.bucket(conn, new.name)
    if old is not None:
        if old.owner == new.owner:
            raise errors.BucketAlreadyOwnedByYou(BucketName=new.name)
        raise errors.BucketAlreadyExists(BucketName=new.name)
    catalog.insert_bucket(conn, new)
    return new


def _txn_update_bucket(conn, name, changes):
    _existing_bucket(conn, name)
    catalog.update_bucket(conn, name, changes)
    return catalog.bucket(conn, name)


def _txn_delete_bucket(conn, name):
    _existing_bucket(conn, name)
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


def _txn_add_version(conn, fields):
    return _add(conn, _existing_bucket(conn, fields["bucket"]), fields)


def _txn_delete(conn, bucket, key, version_id, modified, owner):
    found = _existing_bucket(conn, bucket)
    if version_id is not None or not found.versioning:
        old = catalog.version(conn, bucket, key, NULL_VERSION if version_id is None else version_id)
        if old is None:
            return None, []
        return old, catalog.remove_version(conn, old)
    marker = _fields(bucket, key, 0, "", modified, found.owner if owner is None else owner, {}, {}, "")
    return _add(conn, found, dict(marker, delete_marker=True, locator=()))


def _txn_update_object(conn, bucket, key, version_id, acl):
    found = _get_version(conn, bucket, key, version_id)
    catalog.set_version_acl(conn, found, acl)
    return replace(found, acl=acl)


def _list_objects(conn, bucket, prefix, delimiter, marker, max_keys):
    _existing_bucket(conn, bucket)
    return catalog.list_objects(conn, bucket, prefix, delimiter, marker, max_keys)


def _list_versions(conn, bucket, prefix, delimiter, key_marker, version_id_marker, max_keys):
    _existing_bucket(conn, bucket)
    seq = None
    if version_id_marker:
        if not key_marker:
            raise errors.InvalidArgument("A version-id marker cannot be specified without a key marker.")
        seq = catalog.seq_of(conn, "versions", bucket=bucket, key=key_marker, version_id=version_id_marker)
        if seq is None:
            raise errors.InvalidArgument("Invalid version id specified", ArgumentName="version-id-marker", ArgumentValue=version_id_marker)
    return catalog.list_versions(conn, bucket, prefix, delimiter, key_marker, seq, max_keys)


def _txn_create_upload(conn, new):
    _existing_bucket(conn, new.bucket)
    catalog.insert_upload(conn, new)
    return new


def _get_upload(conn, bucket, key, upload_id):
    _existing_bucket(conn, bucket)
    found = catalog.upload(conn, upload_id)
    if found is None or found.bucket != bucket or found.key != key:
        raise errors.NoSuchUpload(UploadId=upload_id)
    return found


def _current_upload(conn, upload_id):
    found = catalog.upload(conn, upload_id)
    if found is None:
        raise errors.NoSuchUpload(UploadId=upload_id)
    return found


def _txn_put_part(conn, upload_id, part, blob_id):
    _current_upload(conn, upload_id)
    return catalog.put_part(conn, upload_id, part, blob_id)


def _list_parts(conn, upload, marker, limit):
    current = _current_upload(conn, upload.upload_id)
    found = catalog.list_parts(conn, upload.upload_id, marker, max(limit, 0) + 1)
    truncated = len(found) > limit
    found = found[: max(limit, 0)]
    return PartListing(current, found, truncated, found[-1].part_number if truncated and found else None)


def _txn_complete(conn, upload, listed, modified):
    current = _current_upload(conn, upload.upload_id)
    bucket = _existing_bucket(conn, current.bucket)
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
    fields = _fields(
        current.bucket, current.key, size, f"{digest}-{len(chosen)}", modified, current.owner,
        current.headers, current.metadata, current.acl, [part.size for part, _ in chosen],
    )
    locator = tuple((blob_id, part.size, part.etag) for part, blob_id in chosen)
    version, freed = _add(conn, bucket, dict(fields, locator=locator))
    used = {blob_id for _, blob_id in chosen}
    freed.extend(blob_id for blob_id in catalog.delete_upload(conn, upload.upload_id) if blob_id not in used)
    return version, freed


def _txn_abort(conn, upload_id):
    _current_upload(conn, upload_id)
    return catalog.delete_upload(conn, upload_id)


def _list_uploads(conn, bucket, prefix, delimiter, key_marker, upload_id_marker, max_uploads):
    _existing_bucket(conn, bucket)
    seq = catalog.seq_of(conn, "uploads", upload_id=upload_id_marker) if key_marker and upload_id_marker else None
    return catalog.list_uploads(conn, bucket, prefix, delimiter, key_marker, seq, max_uploads)
