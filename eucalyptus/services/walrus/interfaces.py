# -*- test-case-name: tests.services.walrus.test_store -*-
"""
The boundary between Walrus's S3 operations and the place the bytes live.

L{IObjectStore} knows buckets, object versions and multipart uploads with S3's
semantics (versioning, listing order, part rules), and nothing of HTTP,
signatures or who may do what: the operations layer
(L{eucalyptus.services.walrus.operations}) authorises first and then asks
the store.  The local store keeps data in files and metadata in SQLite; a
store backed by a Ceph RADOS Gateway would implement the same interface.

Keys are C{str} (any Unicode a client sends, up to 1024 UTF-8 bytes) and sort
by their UTF-8 bytes, as S3 lists them.  ACLs, CORS rules and content headers
are opaque to the store: it keeps and returns what it is given.
"""

from dataclasses import dataclass, field

from zope.interface import Attribute, Interface

__all__ = [
    "IObjectStore",
    "ISpool",
    "Bucket",
    "ObjectVersion",
    "Listing",
    "VersionListing",
    "Upload",
    "Part",
    "UploadListing",
    "PartListing",
    "SpoolResult",
    "NULL_VERSION",
]

NULL_VERSION = "null"


@dataclass(frozen=True)
class Bucket:
    """
    A bucket.

    @ivar versioning: C{""} (never enabled), C{"Enabled"} or C{"Suspended"}.
    @ivar acl: the operations layer's serialised ACL.
    @ivar cors: the bucket's CORS configuration (serialised) or C{None}.
    """

    name: str
    owner: str
    created: float
    region: str = ""
    versioning: str = ""
    acl: str = ""
    cors: str | None = None


@dataclass(frozen=True)
class ObjectVersion:
    """
    One version of one key: an object, or a delete marker.

    @ivar version_id: C{NULL_VERSION} for objects written while versioning
        was never enabled or is suspended.
    @ivar etag: the entity tag without quotes: the MD5 hex digest, or
        C{"<md5 of part md5s>-<N>"} for a multipart object.
    @ivar headers: the stored content headers (lower-case names:
        content-type, content-encoding, content-disposition, cache-control,
        expires, content-language).
    @ivar metadata: user metadata, names without the C{x-amz-meta-} prefix.
    @ivar parts: the sizes of the parts a multipart object was made of
        (empty for a single PUT).
    @ivar locator: the store's own reference to exactly this version's
        data, opaque to callers (C{None} when the caller built the value).
        L{IObjectStore.read} uses it so that a version replaced in between
        (the C{null} version) is never read with another version's bytes.
    """

    bucket: str
    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    size: int
    etag: str
    last_modified: float
    owner: str
    headers: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    acl: str = ""
    parts: tuple = ()
    locator: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Listing:
    """
    One page of ListObjects.

    @ivar next_marker: the last key or common prefix returned, when truncated.
    """

    objects: list
    common_prefixes: list
    is_truncated: bool
    next_marker: str | None


@dataclass(frozen=True)
class VersionListing:
    """
    One page of ListObjectVersions: versions and delete markers together,
    keys ascending, newest version of each key first.
    """

    versions: list
    common_prefixes: list
    is_truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None


@dataclass(frozen=True)
class Upload:
    """
    A multipart upload in progress.
    """

    upload_id: str
    bucket: str
    key: str
    initiated: float
    owner: str
    headers: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    acl: str = ""


@dataclass(frozen=True)
class Part:
    """
    One uploaded part.  C{etag} is the MD5 hex of the part, without quotes.
    """

    part_number: int
    size: int
    etag: str
    last_modified: float


@dataclass(frozen=True)
class UploadListing:
    """
    One page of ListMultipartUploads.
    """

    uploads: list
    common_prefixes: list
    is_truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None


@dataclass(frozen=True)
class PartListing:
    """
    One page of ListParts.
    """

    upload: Upload
    parts: list
    is_truncated: bool
    next_part_number_marker: int | None


@dataclass(frozen=True)
class SpoolResult:
    """
    What a finished spool holds: its size and digests (hex).

    @ivar sha256: C{None} when the spool was made with C{sha256=False}.
    """

    size: int
    md5: str
    sha256: str | None


class ISpool(Interface):
    """
    Incoming object data on its way into the store.  Bytes are written as
    they arrive from the network, without blocking the caller on disk; the
    store makes them durable only when they become an object or a part.
    """

    def write(data):
        """
        Append C{data} (bytes).  Never blocks on disk.
        """

    def finish():
        """
        No more data.  Calling it again returns the same outcome.

        @return: a Deferred that fires with a L{SpoolResult} once every byte
            is written (not yet fsynced).
        """

    def drained(low=0):
        """
        @return: a Deferred that fires once L{backlog} is at most C{low}
            bytes (at once if it already is): when to resume a producer
            paused because the backlog grew.
        """

    def discard():
        """
        Throw the data away (the request failed or was refused).  Safe to
        call more than once and after L{finish}.
        """

    backlog = Attribute("Bytes written but not yet on disk; callers pause their producer when it grows.")


class IObjectStore(Interface):
    """
    Buckets, versions and multipart uploads, with S3's rules.  Every method
    returns a Deferred and never blocks the reactor.  Errors are
    L{eucalyptus.errors.EucalyptusError} subclasses with the S3 code
    (C{NoSuchBucket}, C{NoSuchKey}, ...).  Every change is durable when its
    Deferred fires: data fsynced before the metadata commits.  Data a change
    freed may stay on disk a moment longer; no version refers to it.
    """

    def start():
        """
        Open the store; remove temporary files and data no object refers to
        (left by a crash or an abort).  @return: a Deferred.
        """

    def stop():
        """
        Finish pending writes and close.  @return: a Deferred.
        """

    def spool(sha256=True):
        """
        @param sha256: whether the data's SHA-256 is needed (it costs CPU;
            only a body whose signature declares it needs it).
        @return: a new L{ISpool} for data that will become an object or part.
        """

    def create_bucket(name, owner, region, acl, created):
        """
        Make a bucket.

        @raise BucketAlreadyOwnedByYou: C{owner} has it already.
        @raise BucketAlreadyExists: another owner has it.
        @return: Deferred L{Bucket}.
        """

    def get_bucket(name):
        """
        @raise NoSuchBucket: there is none.
        @return: Deferred L{Bucket}, as of the last change any caller was
            told of (or later).
        """

    def list_buckets(owner):
        """
        @return: Deferred list of L{Bucket} owned by C{owner}, by name.
        """

    def update_bucket(name, **changes):
        """
        Change C{versioning}, C{acl} or C{cors} (C{None} removes CORS).

        @raise NoSuchBucket: there is none.
        @return: Deferred L{Bucket}, as changed.
        """

    def delete_bucket(name):
        """
        Remove an empty bucket; aborts its multipart uploads.

        @raise BucketNotEmpty: it holds any version or delete marker.
        @raise NoSuchBucket: there is none.
        """

    def put_object(bucket, key, spool, headers, metadata, acl, owner, modified):
        """
        Make C{spool}'s data the newest version of C{key}.  Unversioned or
        suspended buckets replace the C{null} version (its data is freed);
        enabled buckets add a version with a new id.

        @param spool: a finished L{ISpool} from L{spool}.
        @return: Deferred L{ObjectVersion}.
        """

    def get_object(bucket, key, version_id=None):
        """
        @param version_id: C{None} for the newest.
        @raise NoSuchKey: no such key, or its newest version is a delete
            marker (the error's C{delete_marker} is C{True} then).
        @raise NoSuchVersion: C{version_id} names no version of C{key}.
        @raise MethodNotAllowed: C{version_id} names a delete marker.
        @return: Deferred L{ObjectVersion}.
        """

    def read(version, start=0, end=None):
        """
        Open the bytes C{[start, end)} of a version for reading.

        @return: Deferred of an open binary file-like object with C{read(n)}
            and C{close()}; reads block only on the page cache and stay
            within the range.  It may also have C{read_later(n)}, returning
            a Deferred of the bytes read off the reactor thread, one call
            after the other.
        """

    def delete_object(bucket, key, version_id=None, modified=None, owner=None):
        """
        Delete.  Without C{version_id}: in an unversioned bucket, remove the
        object (no error if absent); in a versioned one, add a delete marker
        (C{null} id when suspended) owned by C{owner} (C{None}: the bucket's
        owner).  With C{version_id}: remove exactly that version or marker.

        @return: Deferred L{ObjectVersion} describing what was removed or the
            marker that was added (C{delete_marker} set accordingly), or
            C{None} when nothing existed.
        """

    def copy_object(source, bucket, key, headers, metadata, acl, owner, modified):
        """
        Make a new version of C{key} in C{bucket} with the data of the
        version C{source}, without copying bytes where the file system can
        share them.

        @return: Deferred L{ObjectVersion}.
        """

    def update_object(bucket, key, version_id, acl):
        """
        Replace a version's ACL.  @return: Deferred L{ObjectVersion}.
        """

    def list_objects(bucket, prefix="", delimiter="", marker="", max_keys=1000):
        """
        The newest non-deleted version of each key after C{marker} starting
        with C{prefix}, keys rolled up into common prefixes at the first
        C{delimiter} after the prefix.  Each common prefix counts once
        towards C{max_keys}.

        @return: Deferred L{Listing}.
        """

    def list_versions(bucket, prefix="", delimiter="", key_marker="", version_id_marker="", max_keys=1000):
        """
        Every version and delete marker.  @return: Deferred L{VersionListing}.
        """

    def create_upload(bucket, key, headers, metadata, acl, owner, initiated):
        """
        @return: Deferred L{Upload} with a fresh id.
        """

    def get_upload(bucket, key, upload_id):
        """
        @raise NoSuchUpload: not in progress (never was, completed or aborted).
        @return: Deferred L{Upload}.
        """

    def put_part(upload, part_number, spool, modified):
        """
        Store (or replace) part C{part_number} of C{upload}.

        @return: Deferred L{Part}.
        """

    def copy_part(upload, part_number, source, start, end, modified):
        """
        Store part C{part_number} from bytes C{[start, end)} of version
        C{source}.  @return: Deferred L{Part}.
        """

    def list_parts(upload, part_number_marker=0, max_parts=1000):
        """
        @return: Deferred L{PartListing}.
        """

    def complete_upload(upload, parts, modified):
        """
        Join the listed parts into the newest version of the upload's key.

        @param parts: a list of C{(part_number, etag)}, as the client sent.
        @raise InvalidPartOrder: numbers not strictly ascending.
        @raise InvalidPart: a part missing or its etag different.
        @raise EntityTooSmall: a part other than the last under 5 MiB.
        @return: Deferred L{ObjectVersion}; parts not listed are freed.
        """

    def abort_upload(upload):
        """
        Forget the upload and free its parts.
        """

    def list_uploads(bucket, prefix="", delimiter="", key_marker="", upload_id_marker="", max_uploads=1000):
        """
        @return: Deferred L{UploadListing}.
        """
