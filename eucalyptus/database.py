# -*- test-case-name: tests.test_database -*-
"""
The cloud database: one SQLAlchemy engine per URL, SQLite in the data
directory by default (WAL, foreign keys on) or PostgreSQL when
C{DATABASE_URL} says so, and versioned schema migrations.

A PostgreSQL URL may name the driver or not: C{postgresql://user:password@
host/database} uses psycopg (3), the driver the project installs, whatever
SQLAlchemy's own default for that version is.  C{make postgres} starts the
local cluster and makes a role and a database for it:
C{postgresql://eucalyptus:eucalyptus@127.0.0.1/eucalyptus}.

Each part of the cloud that keeps tables (accounts, the CLC's resources)
names its schema and lists its migrations in order; L{migrate} applies the
ones a database has not seen yet, each in its own transaction together with
the version it reaches in C{schema_versions}, so a failing migration leaves
both the tables and the version as they were (SQLite DDL included).  The
migrating transaction holds a lock (C{BEGIN IMMEDIATE} on SQLite, an
advisory lock on PostgreSQL), so daemons starting together on one database
do not migrate it twice.  A database newer than the code is refused rather
than guessed at.
"""

import os
import threading

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url

__all__ = ["open_engine", "close_engine", "migrate", "schema_version", "SchemaTooNew"]

_versions_metadata = MetaData()
schema_versions = Table(
    "schema_versions",
    _versions_metadata,
    Column("schema", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
)

#: The PostgreSQL advisory lock that migrations hold ("eucamig").
_MIGRATION_LOCK = 0x65_75_63_61_6D_69_67

_engines = {}
_engines_lock = threading.Lock()


class SchemaTooNew(Exception):
    """
    The database was written by a newer version of the cloud.
    """


def _sqlite_pragmas(connection, _record):
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _create_engine(url):
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not path.startswith("file:") and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def open_engine(url):
    """
    The engine of database C{url}, made once per URL and process.  For
    SQLite the directory is created (mode 0700).

    @param url: an SQLAlchemy URL; C{postgresql://} means psycopg (3).
    @return: a L{sqlalchemy.engine.Engine}.
    """
    with _engines_lock:
        if url not in _engines:
            _engines[url] = _create_engine(url)
        return _engines[url]


def close_engine(url):
    """
    Close the pooled connections of the engine of C{url} and forget it: the
    next L{open_engine} of that URL makes a new engine.  Nothing happens if
    there is none.  Connections still checked out stay open until returned.
    """
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def _locked_transaction(engine):
    """
    Begin a transaction that holds the migration lock until it ends.

    @return: a L{sqlalchemy.engine.Connection} whose transaction the caller
        commits (or closes to roll back).
    """
    db = engine.connect()
    try:
        if engine.dialect.name == "sqlite":
            # pysqlite only begins transactions before DML on its own, which
            # would leave a migration's DDL outside the transaction.
            db.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    except BaseException:
        db.close()
        raise
    return db


def _version(db, schema):
    return db.execute(select(schema_versions.c.version).where(schema_versions.c.schema == schema)).scalar() or 0


def schema_version(engine, schema):
    """
    The version schema C{schema} of the database is at: 0 if it was never
    migrated.
    """
    with engine.connect() as db:
        if not inspect(db).has_table(schema_versions.name):
            return 0
        return _version(db, schema)


def migrate(engine, schema, migrations):
    """
    Bring schema C{schema} of the database up to date.

    @param migrations: the migrations in order; migration I{n} (1-based) is
        a callable taking a connection inside a transaction, committed with
        the new version only if it returns.
    @return: the version reached.
    @raise SchemaTooNew: the database is at a later version than
        C{migrations} knows.
    """
    while True:
        with _locked_transaction(engine) as db:
            _versions_metadata.create_all(db)
            version = _version(db, schema)
            if version > len(migrations):
                raise SchemaTooNew(
                    f"The database's {schema} schema is at version {version}; "
                    f"this code knows up to {len(migrations)}."
                )
            if version == len(migrations):
                db.commit()
                return version
            migrations[version](db)
            if version == 0:
                db.execute(schema_versions.insert().values(schema=schema, version=1))
            else:
                db.execute(
                    schema_versions.update().where(schema_versions.c.schema == schema).values(version=version + 1)
                )
            db.commit()
