# -*- test-case-name: tests.test_database -*-
"""
Tests for L{eucalyptus.database}, the account store and the CLC schema on
it, each run against SQLite and PostgreSQL (L{tests.dbs}), and for the
L{tests.dbs} helper itself.
"""

import os
import sqlite3
import stat

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus import accounts, database
from eucalyptus.accounts import ADMIN_USER, AccountStore, users
from eucalyptus.database import SchemaTooNew, close_engine, migrate, open_engine, schema_version
from eucalyptus.services.clc import db as clc_db
from tests import dbs

__all__ = []

_tables = MetaData()
first = Table("first", _tables, Column("id", Integer, primary_key=True), Column("name", String(32)))
second = Table("second", _tables, Column("id", Integer, primary_key=True))


def _table_names(engine):
    return set(inspect(engine).get_table_names())


class _Recorder:
    """
    Migrations that record which of them ran: the first creates table
    C{first}, the second C{second}, the third adds a row to C{first}.
    """

    def __init__(self):
        self.ran = []

    def _step(self, number, work):
        def step(db):
            self.ran.append(number)
            work(db)

        return step

    def migrations(self, count):
        works = [
            lambda db: first.create(db),
            lambda db: second.create(db),
            lambda db: db.execute(first.insert().values(name="third")),
        ]
        return [self._step(n + 1, work) for n, work in enumerate(works[:count])]


class Broken(Exception):
    """
    A migration failed on purpose.
    """


def _lock_is_free(backend, url):
    """
    Whether another connection could take the migration lock now.
    """
    if backend == "sqlite":
        raw = sqlite3.connect(make_url(url).database, timeout=0, isolation_level=None)
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        else:
            raw.execute("ROLLBACK")
            return True
        finally:
            raw.close()
    other = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
    try:
        with other.connect() as db:
            free = db.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": database._MIGRATION_LOCK})
            return free.scalar()
    finally:
        other.dispose()


class MigrateTestsMixin:
    """
    L{migrate} applies a schema's new migrations once each, atomically, and
    refuses a database newer than the code.
    """

    def setUp(self):
        self.url = self.database_url()
        self.engine = open_engine(self.url)
        self.recorder = _Recorder()

    def test_fresh(self):
        """
        A fresh database is at version 0; migrating it runs every migration
        in order and records the last version.
        """
        self.assertEqual(schema_version(self.engine, "test"), 0)
        self.assertEqual(migrate(self.engine, "test", self.recorder.migrations(2)), 2)
        self.assertEqual(self.recorder.ran, [1, 2])
        self.assertEqual(schema_version(self.engine, "test"), 2)
        self.assertLessEqual({"first", "second", "schema_versions"}, _table_names(self.engine))

    def test_again(self):
        """
        Migrating an up-to-date database runs nothing.
        """
        migrate(self.engine, "test", self.recorder.migrations(2))
        self.assertEqual(migrate(self.engine, "test", self.recorder.migrations(2)), 2)
        self.assertEqual(self.recorder.ran, [1, 2])

    def test_newer_code(self):
        """
        Code with more migrations runs only the ones the database has not
        seen.
        """
        migrate(self.engine, "test", self.recorder.migrations(1))
        self.assertEqual(migrate(self.engine, "test", self.recorder.migrations(3)), 3)
        self.assertEqual(self.recorder.ran, [1, 2, 3])
        with self.engine.connect() as db:
            self.assertEqual(db.execute(select(first.c.name)).scalars().all(), ["third"])

    def test_schema_too_new(self):
        """
        A database at a later version than the code knows is refused with
        L{SchemaTooNew}, and left at its version.
        """
        migrate(self.engine, "test", self.recorder.migrations(2))
        error = self.assertRaises(SchemaTooNew, migrate, self.engine, "test", self.recorder.migrations(1))
        self.assertIn("at version 2", str(error))
        self.assertEqual(schema_version(self.engine, "test"), 2)
        self.assertEqual(self.recorder.ran, [1, 2])

    def test_failure_rolls_back(self):
        """
        A migration that raises leaves no trace, its DDL included: the
        tables, rows and version are those of the migration before, and a
        corrected migration applies afterwards.
        """
        migrate(self.engine, "test", self.recorder.migrations(1))

        def broken(db):
            second.create(db)
            db.execute(first.insert().values(name="half"))
            raise Broken()

        self.assertRaises(Broken, migrate, self.engine, "test", self.recorder.migrations(1) + [broken])
        self.assertEqual(schema_version(self.engine, "test"), 1)
        self.assertNotIn("second", _table_names(self.engine))
        with self.engine.connect() as db:
            self.assertEqual(db.execute(select(first.c.name)).scalars().all(), [])
        self.assertEqual(migrate(self.engine, "test", self.recorder.migrations(2)), 2)
        self.assertIn("second", _table_names(self.engine))

    def test_failure_of_first(self):
        """
        A failing first migration leaves the schema unversioned.
        """

        def broken(db):
            first.create(db)
            raise Broken()

        self.assertRaises(Broken, migrate, self.engine, "test", [broken])
        self.assertEqual(schema_version(self.engine, "test"), 0)
        self.assertNotIn("first", _table_names(self.engine))

    def test_schemas_independent(self):
        """
        Each schema has its own version.
        """
        migrate(self.engine, "one", self.recorder.migrations(2))
        self.assertEqual(migrate(self.engine, "two", [lambda db: None]), 1)
        self.assertEqual(migrate(self.engine, "two", [lambda db: None] * 3), 3)
        self.assertEqual((schema_version(self.engine, "one"), schema_version(self.engine, "two")), (2, 3))
        self.assertRaises(SchemaTooNew, migrate, self.engine, "one", [lambda db: None])
        self.assertEqual(schema_version(self.engine, "two"), 3)

    def test_lock(self):
        """
        A migration runs holding the migration lock, so a second process
        migrating the same database waits for it; the lock is free after.
        """
        seen = []
        migrate(self.engine, "test", [lambda db: seen.append(_lock_is_free(self.backend, self.url))])
        self.assertEqual(seen, [False])
        self.assertTrue(_lock_is_free(self.backend, self.url))


MigrateSQLiteTests, MigratePostgreSQLTests = dbs.on_both_databases(MigrateTestsMixin)


class EngineTestsMixin:
    """
    L{open_engine} keeps one engine per URL, L{close_engine} forgets it,
    and what was committed survives both.
    """

    def test_one_per_url(self):
        """
        Opening a URL twice gives the same engine; after L{close_engine} it
        gives a new one.
        """
        url = self.database_url()
        engine = open_engine(url)
        self.assertIs(open_engine(url), engine)
        close_engine(url)
        self.assertIsNot(open_engine(url), engine)
        close_engine(url)
        close_engine(url)

    def test_durable(self):
        """
        Rows committed through one engine are there through a new engine of
        the same URL once the first is closed.
        """
        url = self.database_url()
        engine = open_engine(url)
        migrate(engine, "test", [lambda db: first.create(db)])
        with engine.begin() as db:
            db.execute(first.insert().values(name="kept"))
        close_engine(url)
        again = open_engine(url)
        self.assertIsNot(again, engine)
        with again.connect() as db:
            self.assertEqual(db.execute(select(first.c.name)).scalars().all(), ["kept"])
        self.assertEqual(schema_version(again, "test"), 1)

    def test_foreign_keys(self):
        """
        A row naming a parent that does not exist is refused.
        """
        store = AccountStore(self.database_url())
        with self.assertRaises(IntegrityError):
            with store.engine.begin() as db:
                db.execute(users.insert().values(user_id="AIDANOBODY", account_id="000000000000", name="x"))

    def test_dialect(self):
        """
        The engine speaks the backend's dialect; PostgreSQL's through
        psycopg (3).
        """
        engine = open_engine(self.database_url())
        self.assertEqual(engine.dialect.name, self.backend)
        if self.backend == "postgresql":
            self.assertEqual(engine.dialect.driver, "psycopg")


EngineSQLiteTests, EnginePostgreSQLTests = dbs.on_both_databases(EngineTestsMixin)


class SQLiteTests(SynchronousTestCase):
    """
    SQLite engines run in WAL mode with foreign keys on.
    """

    def setUp(self):
        self.url = "sqlite:///" + os.path.abspath(self.mktemp()) + "/sub/dir/cloud.sqlite"
        self.addCleanup(close_engine, self.url)

    def test_pragmas(self):
        """
        Every connection has WAL journaling, foreign keys and a busy
        timeout.
        """
        with open_engine(self.url).connect() as db:
            self.assertEqual(db.exec_driver_sql("PRAGMA journal_mode").scalar(), "wal")
            self.assertEqual(db.exec_driver_sql("PRAGMA foreign_keys").scalar(), 1)
            self.assertEqual(db.exec_driver_sql("PRAGMA busy_timeout").scalar(), 10000)

    def test_directory(self):
        """
        The database's directory is made, private to its owner.
        """
        with open_engine(self.url).connect() as db:
            db.exec_driver_sql("SELECT 1")
        directory = os.path.dirname(make_url(self.url).database)
        self.assertTrue(os.path.exists(os.path.join(directory, "cloud.sqlite")))
        self.assertEqual(stat.S_IMODE(os.stat(directory).st_mode), 0o700)

    def test_memory(self):
        """
        An in-memory database needs no directory.
        """
        for url in ("sqlite://", "sqlite:///:memory:"):
            self.addCleanup(close_engine, url)
            with open_engine(url).connect() as db:
                self.assertEqual(db.exec_driver_sql("SELECT 1").scalar(), 1)


class PostgreSQLURLTests(SynchronousTestCase):
    """
    A PostgreSQL URL without a driver means psycopg (3), whatever
    SQLAlchemy's default.
    """

    def test_default_driver(self):
        """
        C{postgresql://} and C{postgresql+psycopg://} give psycopg engines;
        nothing connects until used.
        """
        for url in ("postgresql://u:p@127.0.0.1:1/d", "postgresql+psycopg://u:p@127.0.0.1:1/d"):
            self.addCleanup(close_engine, url)
            self.assertEqual(open_engine(url).dialect.driver, "psycopg")


class AccountStoreTestsMixin:
    """
    The account store keeps accounts, users and keys in the database.
    """

    def setUp(self):
        self.url = self.database_url()
        self.store = AccountStore(self.url)

    def test_round_trip(self):
        """
        A new account's access key reads back with its secret, user and
        account, and through a new store after the engine is closed.
        """
        key = self.store.create_account("alice")
        self.assertEqual((key.account_name, key.user_name, key.status), ("alice", ADMIN_USER, "Active"))
        self.assertEqual(self.store.account_id("alice"), key.account_id)
        close_engine(self.url)
        again = AccountStore(self.url)
        self.assertEqual(again.access_key(key.access_key_id), key)
        self.assertEqual(again.keys_of("alice"), [key])
        self.assertEqual(again.account_names([key.account_id, "999999999999"]), {key.account_id: "alice"})

    def test_more_keys(self):
        """
        A user may have several keys; unknown names and keys are C{None}.
        """
        key = self.store.create_account("bob", user_name="robert")
        other = self.store.create_access_key(key.user_id)
        self.store.add_certificate(key.user_id, "-----BEGIN CERTIFICATE-----\n")
        self.assertEqual(
            sorted(k.access_key_id for k in self.store.keys_of("bob", "robert")),
            sorted([key.access_key_id, other.access_key_id]),
        )
        self.assertIsNone(self.store.account_id("nobody"))
        self.assertIsNone(self.store.access_key("AKINOSUCHKEY"))

    def test_unique_names(self):
        """
        Two accounts cannot share a name.
        """
        self.store.create_account("carol")
        self.assertRaises(IntegrityError, self.store.create_account, "carol")

    def test_versioned(self):
        """
        The store's schema is versioned, and opening the store again
        migrates nothing.
        """
        self.assertEqual(schema_version(self.store.engine, "accounts"), len(accounts.MIGRATIONS))
        AccountStore(self.url)
        self.assertEqual(schema_version(self.store.engine, "accounts"), len(accounts.MIGRATIONS))


AccountStoreSQLiteTests, AccountStorePostgreSQLTests = dbs.on_both_databases(AccountStoreTestsMixin)


class CloudSchemaTestsMixin:
    """
    L{clc_db.open_cloud_database} makes every table of the CLC's schema.
    """

    def test_tables(self):
        """
        Every table on L{clc_db.metadata}, from every module of
        L{clc_db.TABLE_MODULES}, exists, and the C{clc} schema is at its
        latest version.
        """
        engine = clc_db.open_cloud_database(self.database_url())
        self.assertLessEqual(set(clc_db.metadata.tables), _table_names(engine))
        self.assertEqual(schema_version(engine, "clc"), len(clc_db.MIGRATIONS))

    def test_beside_accounts(self):
        """
        The accounts and the CLC's tables share one database, each schema
        versioned on its own, and reopening changes nothing.
        """
        url = self.database_url()
        AccountStore(url)
        engine = clc_db.open_cloud_database(url)
        self.assertIs(clc_db.open_cloud_database(url), engine)
        self.assertEqual(
            (schema_version(engine, "accounts"), schema_version(engine, "clc")), (len(accounts.MIGRATIONS), len(clc_db.MIGRATIONS))
        )
        self.assertLessEqual({"accounts", "users", "access_keys"} | set(clc_db.metadata.tables), _table_names(engine))


CloudSchemaSQLiteTests, CloudSchemaPostgreSQLTests = dbs.on_both_databases(CloudSchemaTestsMixin)


class DatabasesHelperTests(SynchronousTestCase):
    """
    L{dbs.on_both_databases} makes a SQLite and a PostgreSQL test case;
    each database is gone when its test ends; an unreachable PostgreSQL
    fails the test, naming C{make postgres}.
    """

    def _run_both(self, mixin, name):
        cases = dbs.on_both_databases(mixin)
        results = []
        for case in cases:
            result = TestResult()
            case(name).run(result)
            results.append(result)
        return cases, results

    def test_classes(self):
        """
        The two classes are named after the suite and carry its docstring.
        """
        sqlite, postgresql = dbs.on_both_databases(MigrateTestsMixin)
        self.assertEqual((sqlite.__name__, postgresql.__name__), ("MigrateSQLiteTests", "MigratePostgreSQLTests"))
        self.assertEqual((sqlite.backend, postgresql.backend), ("sqlite", "postgresql"))
        self.assertIn("refuses a database newer", postgresql.__doc__)
        self.assertTrue(issubclass(sqlite, SynchronousTestCase))
        self.assertEqual(sqlite.__module__, __name__)

    def test_dropped(self):
        """
        Each call gives a new, empty database; after the test, its engine is
        closed and the PostgreSQL database dropped.
        """
        urls = []

        class Suite:
            def test_it(self):
                for _ in range(2):
                    url = self.database_url()
                    urls.append((url, open_engine(url)))
                    migrate(urls[-1][1], "test", [lambda db: first.create(db)])

        _, results = self._run_both(Suite, "test_it")
        self.assertEqual([(r.errors, r.failures, r.successes) for r in results], [([], [], 1)] * 2)
        self.assertEqual(len({url for url, _ in urls}), 4)
        for url, engine in urls:
            self.addCleanup(close_engine, url)
            self.assertIsNot(open_engine(url), engine)
        names = [make_url(url).database for url, _ in urls[2:]]
        server = create_engine(make_url(dbs.POSTGRESQL_URL))
        self.addCleanup(server.dispose)
        with server.connect() as db:
            query = text("SELECT count(*) FROM pg_database WHERE datname IN (:a, :b)")
            self.assertEqual(db.execute(query, dict(zip("ab", names))).scalar(), 0)

    def test_unreachable(self):
        """
        When PostgreSQL does not answer, the PostgreSQL test fails (not
        skips) saying to run C{make postgres}; the SQLite one passes.
        """
        self.patch(dbs, "_server", dbs._Server("postgresql+psycopg://eucalyptus:secret@127.0.0.1:1/eucalyptus"))

        class Suite:
            def test_it(self):
                self.database_url()

        _, (sqlite, postgresql) = self._run_both(Suite, "test_it")
        self.assertEqual((sqlite.successes, sqlite.failures, sqlite.errors), (1, [], []))
        self.assertEqual((postgresql.successes, postgresql.skips, postgresql.errors), (0, [], []))
        [(_, failure)] = postgresql.failures
        message = failure.getErrorMessage()
        self.assertIn("make postgres", message)
        self.assertIn("127.0.0.1:1", message)
        self.assertNotIn("secret", message)

    def test_stale(self):
        """
        The first connection of a test process drops the test databases of
        processes that died before their cleanup, and keeps the others'.
        """
        server = create_engine(make_url(dbs.POSTGRESQL_URL), isolation_level="AUTOCOMMIT")
        self.addCleanup(server.dispose)
        dead, alive = f"euca_test_{2**31 - 1}_stale", f"euca_test_{os.getpid()}_mine"
        with server.connect() as db:
            for name in (dead, alive):
                db.execute(text(f'CREATE DATABASE "{name}"'))
        fresh = dbs._Server(dbs.POSTGRESQL_URL)
        self.addCleanup(fresh.close)
        self.addCleanup(fresh.drop, alive)
        name, _ = fresh.create()
        fresh.drop(name)
        with server.connect() as db:
            query = text("SELECT datname FROM pg_database WHERE datname IN (:dead, :alive)")
            self.assertEqual(db.execute(query, {"dead": dead, "alive": alive}).scalars().all(), [alive])
