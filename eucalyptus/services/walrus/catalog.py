# -*- test-case-name: tests.services.walrus.test_catalog -*-
"""
Walrus metadata in SQLite: buckets, object versions, uploads and parts.

L{Catalog} owns the threads and connections.  Every write goes through one
writer thread that does I{group commit}: it takes every transaction function
waiting in its queue, runs each inside its own C{SAVEPOINT} of one SQLite
transaction (a function that raises rolls back only itself), commits once and
then answers every caller in the reactor thread.  Reads run on a few reader
threads, each with its own connection, in a read transaction (one snapshot).
The database is in WAL mode with C{synchronous=FULL}: a commit is on disk when
its Deferred fires, and every read started later sees it.

The module functions are the SQL the store's transaction functions are made
of (the listings are in L{eucalyptus.services.walrus.listing}).  Keys are C{TEXT} in the C{BINARY} collation, which compares UTF-8 bytes:
S3's order.  A version's data is C{blobs}, a JSON list of
C{[blob_id, size, md5 hex]} in order (a multipart object lists its parts'
blobs, so completing an upload copies nothing).
"""

import json
import queue
import sqlite3
import threading

from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from eucalyptus.services.walrus.interfaces import Bucket, ObjectVersion, Part, Upload
from eucalyptus.threads import Workers

__all__ = [
    "Catalog", "SCHEMA", "referenced_blobs", "version_of", "upload_of",
    "bucket", "buckets", "insert_bucket", "update_bucket", "delete_bucket", "has_versions",
    "seq_of", "version", "add_version", "remove_version", "set_version_acl",
    "insert_upload", "upload", "delete_upload", "bucket_uploads", "put_part", "parts", "list_parts",
]  # fmt: skip

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, owner TEXT NOT NULL, created REAL NOT NULL, region TEXT NOT NULL,
    versioning TEXT NOT NULL, acl TEXT NOT NULL, cors TEXT
);
CREATE INDEX IF NOT EXISTS buckets_by_owner ON buckets (owner, name);
CREATE TABLE IF NOT EXISTS versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL, key TEXT NOT NULL COLLATE BINARY, version_id TEXT NOT NULL,
    is_latest INTEGER NOT NULL, delete_marker INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    last_modified REAL NOT NULL, owner TEXT NOT NULL, headers TEXT NOT NULL, metadata TEXT NOT NULL,
    acl TEXT NOT NULL, blobs TEXT NOT NULL, parts TEXT NOT NULL,
    UNIQUE (bucket, key, version_id)
);
CREATE INDEX IF NOT EXISTS versions_by_key ON versions (bucket, key, seq DESC);
CREATE INDEX IF NOT EXISTS versions_live ON versions (bucket, key) WHERE is_latest = 1 AND delete_marker = 0;
CREATE TABLE IF NOT EXISTS uploads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, upload_id TEXT NOT NULL UNIQUE,
    bucket TEXT NOT NULL, key TEXT NOT NULL COLLATE BINARY, initiated REAL NOT NULL, owner TEXT NOT NULL,
    headers TEXT NOT NULL, metadata TEXT NOT NULL, acl TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, seq);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    last_modified REAL NOT NULL, blob TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
PRAGMA user_version = 1;
"""

_MAX_BATCH = 1024
_STOP = object()


def _connect(path, readonly=False):
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    return conn


class Catalog:
    """
    The SQLite database of one Walrus, its writer thread and reader threads.

    @ivar batches: write transactions run so far.
    @ivar writes: transaction functions run so far (more than C{batches}
        when group commit joined them).
    """

    _log = Logger()

    def __init__(self, path, reactor, readers=3):
        """
        @param path: the database file.
        @param readers: reader threads; 0 runs reads and writes in the
            caller's thread (tests only).
        """
        self._path = path
        self._reactor = reactor
        self._inline = readers == 0
        self._local = threading.local()
        self._readers = Workers(reactor, readers, "walrus-catalog-read", on_exit=self._close_reader)
        self._queue = queue.SimpleQueue()
        self._conn = None
        self._writer = None
        self._started = None
        self._stopped = None
        self.batches = 0
        self.writes = 0

    def start(self):
        """
        Open the database, creating the schema.  @return: a Deferred.
        """
        if self._inline:
            try:
                self._conn = self._open_writer()
            except Exception:
                return fail()
            return succeed(None)
        self._started = Deferred()
        self._writer = threading.Thread(target=self._write_loop, name="walrus-catalog-write", daemon=True)
        self._writer.start()
        self._readers.start()
        return self._started

    def stop(self):
        """
        Commit what is queued, then close every connection.

        @return: a Deferred.
        """
        if self._inline:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            return self._readers.stop()
        if self._writer is None or not self._writer.is_alive():
            return self._readers.stop()
        self._stopped = Deferred()
        self._queue.put(_STOP)
        return self._stopped.addCallback(lambda _: self._readers.stop())

    def write(self, fn, *args):
        """
        Run C{fn(connection, *args)} in a write transaction.

        @return: a Deferred firing with its result after the commit, or
            failing with its exception (its changes rolled back).
        """
        if self._inline:
            d = Deferred()
            self._deliver(self._run_batch(self._conn, [(fn, args, d)]))
            return d
        d = Deferred()
        self._queue.put((fn, args, d))
        return d

    def read(self, fn, *args):
        """
        Run C{fn(connection, *args)} in a read transaction on a reader
        thread.  @return: a Deferred with its result.
        """
        return self._readers.submit(self._read, fn, args)

    def _open_writer(self):
        conn = _connect(self._path)
        conn.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
        return conn

    def _write_loop(self):
        try:
            conn = self._open_writer()
        except Exception:
            self._reactor.callFromThread(self._started.errback, Failure())
            return
        self._reactor.callFromThread(self._started.callback, None)
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = _STOP in batch
            jobs = [job for job in batch if job is not _STOP]
            if not jobs:
                continue
            try:
                outcomes = self._run_batch(conn, jobs)
            except Exception:
                # Even ROLLBACK failed: the callers get this error, and a
                # new connection replaces the one in an unknown state.
                failure = Failure()
                outcomes = [(d, failure) for _, _, d in jobs]
                self._reactor.callFromThread(self._log.failure, "Catalog transaction failed to roll back", failure)
                conn.close()
                conn = _connect(self._path)
            self._reactor.callFromThread(self._deliver, outcomes)
        conn.close()
        self._reactor.callFromThread(self._stopped.callback, None)

    def _run_batch(self, conn, jobs):
        """
        Run C{jobs} in one transaction, each in a savepoint.

        @return: C{(deferred, result or Failure)} for each job.
        """
        outcomes = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, args, d in jobs:
                conn.execute("SAVEPOINT job")
                try:
                    result = fn(conn, *args)
                except Exception:
                    result = Failure()
                    conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                outcomes.append((d, result))
            conn.execute("COMMIT")
        except Exception:
            failure = Failure()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(d, failure) for _, _, d in jobs]
        return outcomes

    def _deliver(self, outcomes):
        self.batches += 1
        self.writes += len(outcomes)
        for d, result in outcomes:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(result)

    def _read(self, fn, args):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self._path, readonly=True)
        conn.execute("BEGIN")
        try:
            return fn(conn, *args)
        finally:
            conn.execute("COMMIT")

    def _close_reader(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _bucket(row):
    return Bucket(**{name: row[name] for name in ("name", "owner", "created", "region", "versioning", "acl", "cors")})


def bucket(conn, name):
    """
    @return: the L{Bucket} called C{name}, or C{None}.
    """
    row = conn.execute("SELECT * FROM buckets WHERE name = ?", (name,)).fetchone()
    return None if row is None else _bucket(row)


def buckets(conn, owner):
    """
    @return: the L{Bucket}s of C{owner}, by name.
    """
    return [_bucket(row) for row in conn.execute("SELECT * FROM buckets WHERE owner = ? ORDER BY name", (owner,))]


def insert_bucket(conn, new):
    """
    Add L{Bucket} C{new}.
    """
    conn.execute(
        "INSERT INTO buckets (name, owner, created, region, versioning, acl, cors) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (new.name, new.owner, new.created, new.region, new.versioning, new.acl, new.cors),
    )


def update_bucket(conn, name, changes):
    """
    Set C{changes} (column to value) on bucket C{name}.
    """
    for column, value in changes.items():
        if column not in ("versioning", "acl", "cors"):
            raise TypeError(f"a bucket has no changeable {column!r}")
        conn.execute(f"UPDATE buckets SET {column} = ? WHERE name = ?", (value, name))


def delete_bucket(conn, name):
    """
    Remove bucket C{name}'s row.
    """
    conn.execute("DELETE FROM buckets WHERE name = ?", (name,))


def has_versions(conn, name):
    """
    @return: whether any version or delete marker is in bucket C{name}.
    """
    return conn.execute("SELECT 1 FROM versions WHERE bucket = ? LIMIT 1", (name,)).fetchone() is not None


_VERSION_COLUMNS = ("bucket", "key", "version_id", "size", "etag", "last_modified", "owner", "acl")
_UPLOAD_COLUMNS = ("upload_id", "bucket", "key", "initiated", "owner", "acl")


def version_of(row):
    return ObjectVersion(
        **{name: row[name] for name in _VERSION_COLUMNS},
        is_latest=bool(row["is_latest"]),
        delete_marker=bool(row["delete_marker"]),
        headers=json.loads(row["headers"]),
        metadata=json.loads(row["metadata"]),
        parts=tuple(json.loads(row["parts"])),
        locator=tuple(tuple(blob) for blob in json.loads(row["blobs"])),
    )


def version(conn, bucket, key, version_id=None):
    """
    @return: the L{ObjectVersion} of C{key} called C{version_id} (the newest
        when C{None}), or C{None}.
    """
    if version_id is None:
        sql, args = "bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1", (bucket, key)
    else:
        sql, args = "bucket = ? AND key = ? AND version_id = ?", (bucket, key, version_id)
    row = conn.execute(f"SELECT * FROM versions WHERE {sql}", args).fetchone()
    return None if row is None else version_of(row)


def seq_of(conn, table, **where):
    """
    @return: the sequence number of the row of C{table} (C{versions} or
        C{uploads}) with the values C{where}, or C{None}.
    """
    clause = " AND ".join(f"{column} = ?" for column in where)
    row = conn.execute(f"SELECT seq FROM {table} WHERE {clause}", tuple(where.values())).fetchone()
    return None if row is None else row[0]


def add_version(conn, new):
    """
    Add L{ObjectVersion} C{new} as the newest version of its key.
    """
    conn.execute("UPDATE versions SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1", (new.bucket, new.key))
    values = [getattr(new, name) for name in _VERSION_COLUMNS] + [
        int(new.delete_marker),
        json.dumps(new.headers),
        json.dumps(new.metadata),
        json.dumps([list(blob) for blob in new.locator or ()]),
        json.dumps(list(new.parts)),
    ]
    columns = ", ".join(_VERSION_COLUMNS)
    conn.execute(
        f"INSERT INTO versions ({columns}, delete_marker, headers, metadata, blobs, parts, is_latest)"
        f" VALUES ({', '.join('?' * len(values))}, 1)",
        values,
    )


def remove_version(conn, old):
    """
    Remove L{ObjectVersion} C{old}; the next newest becomes the latest.

    @return: the blob ids it held.
    """
    conn.execute("DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?", (old.bucket, old.key, old.version_id))
    conn.execute(
        "UPDATE versions SET is_latest = 1 WHERE seq = "
        "(SELECT seq FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1)",
        (old.bucket, old.key),
    )
    return [blob[0] for blob in old.locator or ()]


def set_version_acl(conn, target, acl):
    """
    Replace the ACL of L{ObjectVersion} C{target}.
    """
    conn.execute(
        "UPDATE versions SET acl = ? WHERE bucket = ? AND key = ? AND version_id = ?",
        (acl, target.bucket, target.key, target.version_id),
    )


def upload_of(row):
    return Upload(
        **{name: row[name] for name in _UPLOAD_COLUMNS},
        headers=json.loads(row["headers"]),
        metadata=json.loads(row["metadata"]),
    )


def insert_upload(conn, new):
    """
    Add L{Upload} C{new}.
    """
    values = [getattr(new, name) for name in _UPLOAD_COLUMNS] + [json.dumps(new.headers), json.dumps(new.metadata)]
    conn.execute(
        f"INSERT INTO uploads ({', '.join(_UPLOAD_COLUMNS)}, headers, metadata) VALUES ({', '.join('?' * len(values))})",
        values,
    )


def upload(conn, upload_id):
    """
    @return: the L{Upload} C{upload_id}, or C{None}.
    """
    row = conn.execute("SELECT * FROM uploads WHERE upload_id = ?", (upload_id,)).fetchone()
    return None if row is None else upload_of(row)


def delete_upload(conn, upload_id):
    """
    Forget upload C{upload_id} and its parts.

    @return: the blob ids of its parts.
    """
    blobs = [row[0] for row in conn.execute("SELECT blob FROM parts WHERE upload_id = ?", (upload_id,))]
    conn.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
    conn.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
    return blobs


def bucket_uploads(conn, name):
    """
    @return: the ids of the uploads in progress in bucket C{name}.
    """
    return [row[0] for row in conn.execute("SELECT upload_id FROM uploads WHERE bucket = ?", (name,))]


def put_part(conn, upload_id, part, blob_id):
    """
    Store L{Part} C{part} of C{upload_id}, held in blob C{blob_id}.

    @return: the blob id of the part it replaced, or C{None}.
    """
    row = conn.execute(
        "SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?", (upload_id, part.part_number)
    ).fetchone()
    conn.execute(
        "INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, last_modified, blob) VALUES (?, ?, ?, ?, ?, ?)",
        (upload_id, part.part_number, part.size, part.etag, part.last_modified, blob_id),
    )
    return None if row is None else row[0]


def _part(row):
    return Part(row["part_number"], row["size"], row["etag"], row["last_modified"])


def parts(conn, upload_id):
    """
    @return: part number to C{(L{Part}, blob_id)} for every part.
    """
    rows = conn.execute("SELECT * FROM parts WHERE upload_id = ?", (upload_id,))
    return {row["part_number"]: (_part(row), row["blob"]) for row in rows}


def list_parts(conn, upload_id, marker, limit):
    """
    @return: up to C{limit} L{Part}s numbered above C{marker}, in order.
    """
    rows = conn.execute(
        "SELECT * FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
        (upload_id, marker, limit),
    )
    return [_part(row) for row in rows]


def referenced_blobs(conn):
    """
    @return: the set of every blob id a version or a part refers to.
    """
    rows = conn.execute(
        "SELECT json_extract(j.value, '$[0]') FROM versions, json_each(versions.blobs) AS j"
        " UNION ALL SELECT blob FROM parts"
    )
    return {row[0] for row in rows}
