# -*- test-case-name: tests.services.walrus.test_operations -*-
"""
The Walrus's operation layer: S3 operations with S3's authorisation rules,
over an L{eucalyptus.services.walrus.interfaces.IObjectStore}.

The REST shim and the S3 SOAP service both call L{ObjectOperations}; neither
knows about ACLs or the store.  L{WalrusOperations} is the component's
internal SOAP face (C{DescribeServices}).  Every method takes the caller's
L{eucalyptus.services.walrus.acl.Identity} first and returns a Deferred.
"""

import ipaddress
import re
import time
from dataclasses import replace

from twisted.internet import defer

from eucalyptus.errors import AccessDenied
from eucalyptus.services.base import ComponentOperations
from eucalyptus.services.walrus import acl as acls
from eucalyptus.services.walrus.errors import (
    InvalidArgument,
    InvalidBucketName,
    KeyTooLongError,
    NoSuchKey,
    NoSuchUpload,
    NoSuchVersion,
)

__all__ = ["WalrusOperations", "ObjectOperations", "check_bucket_name", "check_key"]

MAX_KEY_BYTES = 1024
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class WalrusOperations(ComponentOperations):
    """
    The Walrus as a cloud component: it answers C{DescribeServices}.
    """

    component = "walrus"
    service_type = "walrus"


def check_bucket_name(name):
    """
    @raise InvalidBucketName: not a DNS-compatible S3 bucket name.
    """
    bad = (
        not _BUCKET_NAME.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or name.startswith("xn--")
        or name.endswith("-s3alias")
    )
    if not bad:
        try:
            ipaddress.IPv4Address(name)
            bad = True
        except ValueError:
            pass
    if bad:
        raise InvalidBucketName(BucketName=name)


def check_key(key):
    """
    @raise KeyTooLongError: over 1024 UTF-8 bytes.
    @raise InvalidArgument: empty.
    """
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise KeyTooLongError(MaxSizeAllowed=str(MAX_KEY_BYTES), Size=str(size))
    if not key:
        raise InvalidArgument("An object key must not be empty.")


class ObjectOperations:
    """
    Buckets and objects, as S3 has them, for the callers the ACLs allow.

    @ivar store: the L{IObjectStore}.
    @ivar directory: who the accounts are: C{name_of(account_id)} (the
        display name, or C{None}) and C{async load_names(ids)} (returning
        the ids that name no account), as
        L{eucalyptus.services.walrus.identities.Identities} has them.
    @ivar names: C{directory.name_of}, for the shims' owner elements.
    """

    def __init__(self, store, directory, clock=time.time):
        """
        @param store: the L{IObjectStore}.
        @param directory: see L{directory}.
        @param clock: seconds since the epoch, for timestamps.
        """
        self.store = store
        self.directory = directory
        self.names = directory.name_of
        self.clock = clock

    # -- authorisation -------------------------------------------------------

    def _allowed(self, caller, acl_text, permission):
        if caller.privileged:
            return True
        if caller.node:
            return False
        return acls.Acl.loads(acl_text).allows(caller, permission)

    def _reads_objects(self, caller, permission):
        """
        Whether C{caller} is a node reading an object (the only thing a
        node may do, whatever the ACLs say).
        """
        return caller.node and permission == "READ"

    @defer.inlineCallbacks
    def bucket_for(self, caller, name, permission):
        """
        The bucket C{name} if C{caller} has C{permission} on it.

        @raise NoSuchBucket: there is none.
        @raise AccessDenied: the caller lacks the permission.
        """
        bucket = yield self.store.get_bucket(name)
        if not self._allowed(caller, bucket.acl, permission):
            raise AccessDenied()
        return bucket

    def _owner_only(self, caller, bucket):
        if not (caller.privileged or caller.account_id == bucket.owner):
            raise AccessDenied()

    def _require_account(self, caller):
        if caller.anonymous:
            raise AccessDenied("Anonymous users cannot do this.")

    # -- buckets -------------------------------------------------------------

    def list_buckets(self, caller):
        """
        ListBuckets: the caller's own buckets.
        """
        self._require_account(caller)
        return self.store.list_buckets(caller.account_id)

    @defer.inlineCallbacks
    def create_bucket(self, caller, name, region, headers):
        """
        CreateBucket, with the ACL the headers ask for.
        """
        self._require_account(caller)
        check_bucket_name(name)
        acl = yield self._new_acl(caller.account_id, headers, None)
        bucket = yield self.store.create_bucket(name, caller.account_id, region, acl.dumps(), self.clock())
        return bucket

    def head_bucket(self, caller, name):
        """
        HeadBucket: the bucket, if the caller may list it.
        """
        return self.bucket_for(caller, name, "READ")

    @defer.inlineCallbacks
    def owned_bucket(self, caller, name):
        """
        The bucket, if the caller owns it: for location, versioning, CORS
        and deletion.
        """
        bucket = yield self.store.get_bucket(name)
        self._owner_only(caller, bucket)
        return bucket

    @defer.inlineCallbacks
    def delete_bucket(self, caller, name):
        """
        DeleteBucket.
        """
        yield self.owned_bucket(caller, name)
        yield self.store.delete_bucket(name)

    @defer.inlineCallbacks
    def configure_bucket(self, caller, name, **changes):
        """
        PutBucketVersioning, PutBucketCors, DeleteBucketCors: owner only.
        """
        yield self.owned_bucket(caller, name)
        bucket = yield self.store.update_bucket(name, **changes)
        return bucket

    @defer.inlineCallbacks
    def get_bucket_acl(self, caller, name):
        """
        GetBucketAcl.
        """
        bucket = yield self.bucket_for(caller, name, "READ_ACP")
        return acls.Acl.loads(bucket.acl)

    @defer.inlineCallbacks
    def put_bucket_acl(self, caller, name, headers, body):
        """
        PutBucketAcl, from headers or a policy document.
        """
        bucket = yield self.bucket_for(caller, name, "WRITE_ACP")
        acl = yield self._new_acl(bucket.owner, headers, body)
        yield self.store.update_bucket(name, acl=acl.dumps())

    @defer.inlineCallbacks
    def _new_acl(self, owner, headers, body, bucket=None):
        """
        The ACL a request asks for (a policy document or headers), its
        grantees checked against the accounts and named.

        @raise InvalidArgument: a grant names an id no account has.
        """
        yield self._load_names({owner} | ({bucket.owner} if bucket else set()))
        name = self.names(owner) or ""
        if body:
            acl = acls.from_xml(body, owner, name, self.names)
        elif bucket is None:
            acl = acls.from_request(headers, owner, name, self.names)
        else:
            acl = acls.from_request(headers, owner, name, self.names, bucket.owner, self.names(bucket.owner) or "")
        people = {g.grantee for g in acl.grants if g.kind == "CanonicalUser"}
        unknown = yield self._load_names(people)
        if unknown:
            raise InvalidArgument("Invalid id", ArgumentName="CanonicalUser/ID", ArgumentValue=sorted(unknown)[0])
        named = tuple(
            replace(g, display_name=self.names(g.grantee) or "") if g.kind == "CanonicalUser" else g for g in acl.grants
        )
        return acls.Acl(acl.owner, acl.owner_name, named)

    def _load_names(self, account_ids):
        return defer.ensureDeferred(self.directory.load_names(account_ids))

    # -- listing -------------------------------------------------------------

    @defer.inlineCallbacks
    def list_objects(self, caller, name, **page):
        """
        ListObjects (v1 and v2; the shim turns tokens into markers).
        """
        yield self.bucket_for(caller, name, "READ")
        listing = yield self.store.list_objects(name, **page)
        yield self._load_names({entry.owner for entry in listing.objects})
        return listing

    @defer.inlineCallbacks
    def list_versions(self, caller, name, **page):
        """
        ListObjectVersions.
        """
        yield self.bucket_for(caller, name, "READ")
        listing = yield self.store.list_versions(name, **page)
        yield self._load_names({entry.owner for entry in listing.versions})
        return listing

    @defer.inlineCallbacks
    def list_uploads(self, caller, name, **page):
        """
        ListMultipartUploads.
        """
        yield self.bucket_for(caller, name, "READ")
        listing = yield self.store.list_uploads(name, **page)
        yield self._load_names({entry.owner for entry in listing.uploads})
        return listing

    # -- objects -------------------------------------------------------------

    @defer.inlineCallbacks
    def put_object(self, caller, name, key, spool, headers, metadata, acl_headers):
        """
        PutObject: C{spool} (finished) becomes the newest version.
        """
        check_key(key)
        bucket = yield self.bucket_for(caller, name, "WRITE")
        owner = self._object_owner(caller, bucket)
        acl = yield self._new_acl(owner, acl_headers, None, bucket)
        version = yield self.store.put_object(name, key, spool, headers, metadata, acl.dumps(), owner, self.clock())
        return version

    def _object_owner(self, caller, bucket):
        return bucket.owner if caller.anonymous or caller.privileged else caller.account_id

    @defer.inlineCallbacks
    def get_object(self, caller, name, key, version_id=None, permission="READ"):
        """
        GetObject and HeadObject: the version's description, if the caller
        may read it.  The shim then reads the bytes with L{read}.

        @raise NoSuchKey: there is no such key (or its newest version is a
            delete marker), and the caller may list the bucket.
        @raise AccessDenied: the caller may not read the version, or there
            is none and the caller may not list the bucket.
        """
        check_key(key)
        bucket = yield self.store.get_bucket(name)
        try:
            version = yield self.store.get_object(name, key, version_id)
        except (NoSuchKey, NoSuchVersion):
            # S3 says a key is missing only to callers who could list the
            # bucket and see that for themselves.
            if not (self._reads_objects(caller, permission) or self._allowed(caller, bucket.acl, "READ")):
                raise AccessDenied()
            raise
        if not (self._reads_objects(caller, permission) or self._allowed(caller, version.acl, permission)):
            raise AccessDenied()
        return version

    def read(self, version, start=0, end=None):
        """
        The bytes of a version the caller was allowed by L{get_object}.
        """
        return self.store.read(version, start, end)

    @defer.inlineCallbacks
    def delete_object(self, caller, name, key, version_id=None):
        """
        DeleteObject: removes, or adds a delete marker.
        """
        check_key(key)
        yield self.bucket_for(caller, name, "WRITE")
        result = yield self.store.delete_object(name, key, version_id, self.clock())
        return result

    @defer.inlineCallbacks
    def copy_object(self, caller, source, name, key, headers, metadata, acl_headers):
        """
        CopyObject: C{source} is a version L{get_object} returned for this
        caller.
        """
        check_key(key)
        bucket = yield self.bucket_for(caller, name, "WRITE")
        owner = self._object_owner(caller, bucket)
        acl = yield self._new_acl(owner, acl_headers, None, bucket)
        version = yield self.store.copy_object(source, name, key, headers, metadata, acl.dumps(), owner, self.clock())
        return version

    @defer.inlineCallbacks
    def get_object_acl(self, caller, name, key, version_id=None):
        """
        GetObjectAcl.
        """
        version = yield self.get_object(caller, name, key, version_id, "READ_ACP")
        return acls.Acl.loads(version.acl)

    @defer.inlineCallbacks
    def put_object_acl(self, caller, name, key, version_id, headers, body):
        """
        PutObjectAcl.
        """
        version = yield self.get_object(caller, name, key, version_id, "WRITE_ACP")
        bucket = yield self.store.get_bucket(name)
        acl = yield self._new_acl(version.owner, headers, body, bucket)
        yield self.store.update_object(name, key, version.version_id, acl.dumps())

    # -- multipart -----------------------------------------------------------

    @defer.inlineCallbacks
    def create_upload(self, caller, name, key, headers, metadata, acl_headers):
        """
        CreateMultipartUpload.
        """
        check_key(key)
        bucket = yield self.bucket_for(caller, name, "WRITE")
        owner = self._object_owner(caller, bucket)
        acl = yield self._new_acl(owner, acl_headers, None, bucket)
        upload = yield self.store.create_upload(name, key, headers, metadata, acl.dumps(), owner, self.clock())
        return upload

    @defer.inlineCallbacks
    def upload_for(self, caller, name, key, upload_id):
        """
        The upload C{upload_id} of C{key}, if the caller may write the
        bucket.
        """
        check_key(key)
        yield self.bucket_for(caller, name, "WRITE")
        if not upload_id:
            raise NoSuchUpload(UploadId=upload_id)
        upload = yield self.store.get_upload(name, key, upload_id)
        return upload

    @defer.inlineCallbacks
    def put_part(self, caller, name, key, upload_id, part_number, spool):
        """
        UploadPart.
        """
        upload = yield self.upload_for(caller, name, key, upload_id)
        part = yield self.store.put_part(upload, part_number, spool, self.clock())
        return part

    @defer.inlineCallbacks
    def copy_part(self, caller, name, key, upload_id, part_number, source, start, end):
        """
        UploadPartCopy: C{source} is a version L{get_object} returned.
        """
        upload = yield self.upload_for(caller, name, key, upload_id)
        part = yield self.store.copy_part(upload, part_number, source, start, end, self.clock())
        return part

    @defer.inlineCallbacks
    def complete_upload(self, caller, name, key, upload_id, parts):
        """
        CompleteMultipartUpload.
        """
        upload = yield self.upload_for(caller, name, key, upload_id)
        version = yield self.store.complete_upload(upload, parts, self.clock())
        return version

    @defer.inlineCallbacks
    def abort_upload(self, caller, name, key, upload_id):
        """
        AbortMultipartUpload.
        """
        upload = yield self.upload_for(caller, name, key, upload_id)
        yield self.store.abort_upload(upload)

    @defer.inlineCallbacks
    def list_parts(self, caller, name, key, upload_id, **page):
        """
        ListParts.
        """
        upload = yield self.upload_for(caller, name, key, upload_id)
        listing = yield self.store.list_parts(upload, **page)
        return listing

    # -- CORS ----------------------------------------------------------------

    def cors_of(self, name):
        """
        The bucket for a CORS preflight, which is not authenticated.
        """
        return self.store.get_bucket(name)

