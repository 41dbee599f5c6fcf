# -*- test-case-name: tests.services.walrus.test_catalog -*-
"""
The listings of the catalog: ListObjects, ListObjectVersions and
ListMultipartUploads over the SQLite tables of
L{eucalyptus.services.walrus.catalog}.

A listing walks the key index in order, rolls keys up into common prefixes
at the first delimiter after the prefix, and after each common prefix seeks
past it in the index instead of reading the keys under it.  Keys are in the
C{BINARY} collation, which compares UTF-8 bytes: S3's order.
"""

from eucalyptus.services.walrus import catalog, errors
from eucalyptus.services.walrus.catalog import upload_of, version_of
from eucalyptus.services.walrus.interfaces import Listing, UploadListing, VersionListing

__all__ = [
    "successor", "list_objects", "list_versions", "list_uploads", "objects_page", "versions_page", "uploads_page",
]  # fmt: skip


def successor(prefix):
    """
    The least string greater than every string that starts with C{prefix},
    in code point order (which is UTF-8 byte order).

    @return: a C{str}, or C{None} when there is none.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop()) + 1
        if last <= 0x10FFFF:
            return "".join(chars) + chr(0xE000 if last == 0xD800 else last)
    return None


def _start(prefix, delimiter, marker):
    """
    Where a listing after C{marker} begins: C{(lower, inclusive)}.  A marker
    that is a common prefix (as a truncated page returns) skips every key
    under it.
    """
    if not marker or marker < prefix:
        return prefix, True
    if delimiter and marker.startswith(prefix):
        at = marker.find(delimiter, len(prefix))
        if at >= 0 and at + len(delimiter) == len(marker):
            return successor(marker), True
    return marker, False


def _walk(fetch, prefix, delimiter, lower, inclusive, limit, items=()):
    """
    Collect up to C{limit} entries, rolling keys up into common prefixes;
    after each common prefix seek past it in the index.

    @param fetch: C{fetch(lower, inclusive, upper, n)} returns a cursor
        over up to C{n} rows ordered by key with C{lower <= key} (C{<} unless inclusive)
        and C{key < upper} (unless C{upper} is C{None}).
    @return: C{(items, truncated)}; an item is C{(key, row)} or
        C{(common_prefix, None)}.
    """
    items = list(items)
    upper = successor(prefix) if prefix else None
    while lower is not None:
        rows = fetch(lower, inclusive, upper, limit - len(items) + 1)
        lower = None
        try:
            for row in rows:
                if len(items) >= limit:
                    return items, True
                key = row["key"]
                at = key.find(delimiter, len(prefix)) if delimiter else -1
                if at < 0:
                    items.append((key, row))
                else:
                    common = key[: at + len(delimiter)]
                    items.append((common, None))
                    lower, inclusive = successor(common), True
                    break
        finally:
            rows.close()
    return items, False


def _fetcher(conn, select, where, args, order):
    def fetch(lower, inclusive, upper, n):
        sql = f"{select} WHERE {where} AND key {'>=' if inclusive else '>'} ?"
        params = [*args, lower]
        if upper is not None:
            sql += " AND key < ?"
            params.append(upper)
        return conn.execute(f"{sql} ORDER BY {order} LIMIT ?", [*params, n])

    return fetch


def list_objects(conn, bucket, prefix, delimiter, marker, limit):
    """
    One page of ListObjects over the live newest versions.  @return: a
    L{Listing}.
    """
    if limit <= 0:
        return Listing([], [], False, None)
    fetch = _fetcher(
        conn, "SELECT * FROM versions", "bucket = ? AND is_latest = 1 AND delete_marker = 0", [bucket], "key"
    )
    items, truncated = _walk(fetch, prefix, delimiter, *_start(prefix, delimiter, marker), limit)
    return Listing(
        objects=[version_of(row) for _, row in items if row is not None],
        common_prefixes=[name for name, row in items if row is None],
        is_truncated=truncated,
        next_marker=items[-1][0] if truncated else None,
    )


def _resumed(conn, table, newest_first, bucket, prefix, delimiter, key_marker, seq, limit):
    """
    The entries of a listing of C{table} by key and age that resumes after
    row C{seq} of C{key_marker} (C{None}: after all of C{key_marker}).

    @return: C{(items, truncated)} as L{_walk}.
    """
    lower, inclusive = _start(prefix, delimiter, key_marker)
    head = []
    rolled_up = delimiter and key_marker.find(delimiter, len(prefix)) >= 0
    if seq is not None and lower == key_marker and not rolled_up:
        order = "seq < ? ORDER BY seq DESC" if newest_first else "seq > ? ORDER BY seq"
        sql = f"SELECT * FROM {table} WHERE bucket = ? AND key = ? AND {order} LIMIT ?"
        head = [(row["key"], row) for row in conn.execute(sql, (bucket, key_marker, seq, limit + 1))]
        if len(head) > limit:
            return head[:limit], True
    order = "key, seq DESC" if newest_first else "key, seq"
    fetch = _fetcher(conn, f"SELECT * FROM {table}", "bucket = ?", [bucket], order)
    return _walk(fetch, prefix, delimiter, lower, inclusive, limit, head)


def _markers(items, truncated, id_column):
    if not truncated:
        return None, None
    name, row = items[-1]
    return name, None if row is None else row[id_column]


def list_versions(conn, bucket, prefix, delimiter, key_marker, seq, limit):
    """
    One page of ListObjectVersions: keys ascending, newest first, after
    version C{seq} of C{key_marker}.  @return: a L{VersionListing}.
    """
    if limit <= 0:
        return VersionListing([], [], False, None, None)
    items, truncated = _resumed(conn, "versions", True, bucket, prefix, delimiter, key_marker, seq, limit)
    versions = [version_of(row) for _, row in items if row is not None]
    common = [name for name, row in items if row is None]
    return VersionListing(versions, common, truncated, *_markers(items, truncated, "version_id"))


def list_uploads(conn, bucket, prefix, delimiter, key_marker, seq, limit):
    """
    One page of ListMultipartUploads: keys ascending, oldest upload first,
    after upload C{seq} of C{key_marker}.  @return: an L{UploadListing}.
    """
    if limit <= 0:
        return UploadListing([], [], False, None, None)
    items, truncated = _resumed(conn, "uploads", False, bucket, prefix, delimiter, key_marker, seq, limit)
    uploads = [upload_of(row) for _, row in items if row is not None]
    common = [name for name, row in items if row is None]
    return UploadListing(uploads, common, truncated, *_markers(items, truncated, "upload_id"))


def _existing_bucket(conn, name):
    if catalog.bucket(conn, name) is None:
        raise errors.NoSuchBucket(BucketName=name)


def objects_page(conn, bucket, prefix, delimiter, marker, max_keys):
    """
    L{list_objects} of an existing bucket.

    @raise NoSuchBucket: there is none.
    """
    _existing_bucket(conn, bucket)
    return list_objects(conn, bucket, prefix, delimiter, marker, max_keys)


def versions_page(conn, bucket, prefix, delimiter, key_marker, version_id_marker, max_keys):
    """
    L{list_versions} of an existing bucket, after the version called
    C{version_id_marker} of C{key_marker}.

    @raise NoSuchBucket: there is none.
    @raise InvalidArgument: C{version_id_marker} without C{key_marker}, or
        naming no version of it.
    """
    _existing_bucket(conn, bucket)
    seq = None
    if version_id_marker:
        if not key_marker:
            raise errors.InvalidArgument("A version-id marker cannot be specified without a key marker.")
        seq = catalog.seq_of(conn, "versions", bucket=bucket, key=key_marker, version_id=version_id_marker)
        if seq is None:
            raise errors.InvalidArgument("Invalid version id specified", ArgumentName="version-id-marker", ArgumentValue=version_id_marker)
    return list_versions(conn, bucket, prefix, delimiter, key_marker, seq, max_keys)


def uploads_page(conn, bucket, prefix, delimiter, key_marker, upload_id_marker, max_uploads):
    """
    L{list_uploads} of an existing bucket, after upload C{upload_id_marker}
    of C{key_marker}.

    @raise NoSuchBucket: there is none.
    """
    _existing_bucket(conn, bucket)
    seq = catalog.seq_of(conn, "uploads", upload_id=upload_id_marker) if key_marker and upload_id_marker else None
    return list_uploads(conn, bucket, prefix, delimiter, key_marker, seq, max_uploads)
