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
blobs a reader has open are unlinked only when it closes them.  The caller
is answered as soon as the commit is durable; the freed blobs are unlinked
afterwards (and L{LocalObjectStore.stop} waits for that).

Buckets read are cached: this store is the only writer of its catalog, and
every bucket change it makes drops the cached copy before its caller hears
of it, so the cache never answers with a bucket older than the last change
a caller saw.  Writes still check the bucket inside their transaction.

The transaction functions (C{_txn_*}) run on the catalog's writer thread and
raise the S3 errors; the methods run in the reactor thread and only wait.
"""

import functools
import os
import secrets

from twisted.internet.defer import DeferredList, inlineCallbacks, succeed
from twisted.logger import Logger
from zope.interface import implementer

from eucalyptus.services.walrus import catalog, errors, listing
from eucalyptus.services.walrus import transactions as txn
from eucalyptus.services.walrus.blobs import BlobStore
from eucalyptus.services.walrus.interfaces import Bucket, IObjectStore, Part, Upload
from eucalyptus.services.walrus.transactions import MAX_KEY_BYTES, MAX_PART_NUMBER, MIN_PART_SIZE

__all__ = ["LocalObjectStore", "MIN_PART_SIZE", "MAX_PART_NUMBER", "MAX_KEY_BYTES"]

_BUCKET_CACHE = 4096


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

    def __init__(self, root, reactor=None, readers=2, io_threads=3, spool_writers=2, threaded=True):
        """
        @param root: the Walrus storage directory.
        @param readers: catalog reader threads.
        @param io_threads: threads for fsync, rename, link, copy, unlink.
        @param spool_writers: lanes that write incoming data and read
            outgoing data (each with a hashing lane).
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
        self._buckets = {}
        self._bucket_changes = 0

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

    def spool(self, sha256=True):
        """
        See L{IObjectStore.spool}.
        """
        return self.blobs.spool(sha256)

    def _bucket_write(self, name, fn, *args):
        """
        Run a transaction that changes bucket C{name}, dropping the cached
        copy before it starts and again before its caller is answered.
        """
        self._forget_bucket(name)

        def forget(result):
            self._forget_bucket(name)
            return result

        return self.catalog.write(fn, *args).addBoth(forget)

    def _forget_bucket(self, name):
        self._bucket_changes += 1
        self._buckets.pop(name, None)

    @_tracked
    def create_bucket(self, name, owner, region, acl, created):
        """
        See L{IObjectStore.create_bucket}.
        """
        return (yield self._bucket_write(name, txn.txn_create_bucket, Bucket(name, owner, created, region, "", acl)))

    def get_bucket(self, name):
        """
        See L{IObjectStore.get_bucket}.  Answers from the cache when it can.
        """
        cached = self._buckets.get(name)
        if cached is not None:
            return succeed(cached)
        return self._read_bucket(name, self._bucket_changes)

    @_tracked
    def _read_bucket(self, name, changes):
        found = yield self.catalog.read(txn.existing_bucket, name)
        if changes == self._bucket_changes:
            if len(self._buckets) >= _BUCKET_CACHE:
                self._buckets.clear()
            self._buckets[name] = found
        return found

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
        return (yield self._bucket_write(name, txn.txn_update_bucket, name, changes))

    @_tracked
    def delete_bucket(self, name):
        """
        See L{IObjectStore.delete_bucket}.
        """
        freed = yield self._bucket_write(name, txn.txn_delete_bucket, name)
        self._free_later(freed)

    @_tracked
    def put_object(self, bucket, key, spool, headers, metadata, acl, owner, modified):
        """
        See L{IObjectStore.put_object}.
        """
        try:
            txn.check_key(key)
            result = yield spool.finish()
            blob_id = yield self.blobs.commit(spool)
        except BaseException:
            spool.discard()
            raise
        fields = txn.version_fields(bucket, key, result.size, result.md5, modified, owner, headers, metadata, acl)
        return (yield self._commit_version(fields, ((blob_id, result.size, result.md5),)))

    @_tracked
    def get_object(self, bucket, key, version_id=None):
        """
        See L{IObjectStore.get_object}.  A C{NoSuchKey} for a delete marker
        has C{delete_marker} in its details and the marker's C{version_id}
        as an attribute.  The same job checks that the version's blobs are
        there, so that L{read} can open them without another.
        """
        return (yield self.catalog.read(txn.get_probed_version, bucket, key, version_id, self.blobs.probe))

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
        result, freed = yield self.catalog.write(txn.txn_delete, bucket, key, version_id, modified, owner)
        self._free_later(freed)
        return result

    @_tracked
    def copy_object(self, source, bucket, key, headers, metadata, acl, owner, modified):
        """
        See L{IObjectStore.copy_object}.  The copy's blobs are hard links
        to the source's: no byte is copied.
        """
        txn.check_key(key)
        source = yield self._located(source)
        if source.delete_marker:
            raise errors.InvalidRequest("The source of a copy cannot be a delete marker.")
        try:
            linked = yield self.blobs.link([blob[0] for blob in source.locator])
        except FileNotFoundError:
            raise errors.NoSuchKey(Key=source.key)
        locator = tuple((new, *blob[1:]) for new, blob in zip(linked, source.locator))
        fields = txn.version_fields(bucket, key, source.size, source.etag, modified, owner, headers, metadata, acl, source.parts)
        return (yield self._commit_version(fields, locator))

    @_tracked
    def update_object(self, bucket, key, version_id, acl):
        """
        See L{IObjectStore.update_object}.
        """
        return (yield self.catalog.write(txn.txn_update_object, bucket, key, version_id, acl))

    @_tracked
    def list_objects(self, bucket, prefix="", delimiter="", marker="", max_keys=1000):
        """
        See L{IObjectStore.list_objects}.
        """
        return (yield self.catalog.read(listing.objects_page, bucket, prefix, delimiter, marker, max_keys))

    @_tracked
    def list_versions(self, bucket, prefix="", delimiter="", key_marker="", version_id_marker="", max_keys=1000):
        """
        See L{IObjectStore.list_versions}.

        @raise InvalidArgument: C{version_id_marker} without C{key_marker},
            or naming no version of it.
        """
        args = (bucket, prefix, delimiter, key_marker, version_id_marker, max_keys)
        return (yield self.catalog.read(listing.versions_page, *args))

    @_tracked
    def create_upload(self, bucket, key, headers, metadata, acl, owner, initiated):
        """
        See L{IObjectStore.create_upload}.
        """
        txn.check_key(key)
        new = Upload(secrets.token_urlsafe(48), bucket, key, initiated, owner, dict(headers), dict(metadata), acl)
        return (yield self.catalog.write(txn.txn_create_upload, new))

    @_tracked
    def get_upload(self, bucket, key, upload_id):
        """
        See L{IObjectStore.get_upload}.
        """
        return (yield self.catalog.read(txn.get_upload, bucket, key, upload_id))

    @_tracked
    def put_part(self, upload, part_number, spool, modified):
        """
        See L{IObjectStore.put_part}.

        @raise InvalidArgument: C{part_number} is not in 1..10000.
        @raise NoSuchUpload: the upload is not in progress.
        """
        try:
            txn.check_part_number(part_number)
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
        txn.check_part_number(part_number)
        source = yield self._located(source)
        if source.delete_marker:
            raise errors.InvalidRequest("The source of a copy cannot be a delete marker.")
        if not 0 <= start <= end <= source.size:
            raise errors.InvalidRange(RangeRequested=f"bytes={start}-{end - 1}", ActualObjectSize=source.size)
        whole = txn.whole_blob(source.locator, start, end)
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
        return (yield self.catalog.read(txn.list_parts, upload, part_number_marker, max_parts))

    @_tracked
    def complete_upload(self, upload, parts, modified):
        """
        See L{IObjectStore.complete_upload}.  The object's data is the list
        of its parts' blobs: nothing is copied.

        @raise MalformedXML: C{parts} is empty.
        @raise NoSuchUpload: the upload is not in progress.
        """
        version, freed = yield self.catalog.write(txn.txn_complete, upload, list(parts), modified)
        self._free_later(freed)
        return version

    @_tracked
    def abort_upload(self, upload):
        """
        See L{IObjectStore.abort_upload}.

        @raise NoSuchUpload: the upload is not in progress.
        """
        freed = yield self.catalog.write(txn.txn_abort, upload.upload_id)
        self._free_later(freed)

    @_tracked
    def list_uploads(self, bucket, prefix="", delimiter="", key_marker="", upload_id_marker="", max_uploads=1000):
        """
        See L{IObjectStore.list_uploads}.
        """
        args = (bucket, prefix, delimiter, key_marker, upload_id_marker, max_uploads)
        return (yield self.catalog.read(listing.uploads_page, *args))

    @inlineCallbacks
    def _located(self, version):
        if version.locator is None:
            version = yield self.catalog.read(
                txn.get_probed_version, version.bucket, version.key, version.version_id, self.blobs.probe
            )
        return version

    @inlineCallbacks
    def _commit_version(self, fields, locator):
        try:
            version, freed = yield self.catalog.write(txn.txn_add_version, dict(fields, locator=tuple(locator)))
        except BaseException:
            yield self._free([blob[0] for blob in locator])
            raise
        self._free_later(freed)
        return version

    @inlineCallbacks
    def _commit_part(self, upload, part, blob_id):
        try:
            replaced = yield self.catalog.write(txn.txn_put_part, upload.upload_id, part, blob_id)
        except BaseException:
            yield self._free([blob_id])
            raise
        self._free_later([replaced] if replaced else [])
        return part

    @inlineCallbacks
    def _free(self, blob_ids):
        failed = yield self.blobs.free(blob_ids)
        for blob_id, error in failed:
            self._log.error("Cannot remove blob {blob}: {error}", blob=blob_id, error=error)

    def _free_later(self, blob_ids):
        """
        Unlink freed blobs without keeping the caller waiting; L{stop} waits
        for it, and a crash before it leaves blobs L{start} removes.
        """
        if blob_ids:
            d = self._free(blob_ids)
            if not d.called:
                self._pending.add(d)
                d.addBoth(self._untrack, d)
