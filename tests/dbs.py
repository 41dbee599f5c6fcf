# -*- test-case-name: tests.test_database -*-
"""
Persistence tests run against both databases the cloud supports: SQLite
(the default) and PostgreSQL.

A suite is a mixin, not a L{TestCase}, whose tests ask
C{self.database_url()} for a fresh, empty database (each call makes another
one, dropped when the test ends) and may look at C{self.backend}
(C{"sqlite"} or C{"postgresql"})::

    class AccountStoreTestsMixin:
        def test_round_trip(self):
            store = AccountStore(self.database_url())
            ...

    AccountStoreSQLiteTests, AccountStorePostgreSQLTests = on_both_databases(AccountStoreTestsMixin)

L{on_both_databases} returns the two test cases under the names shown
(assign them to those names so trial can find them again by name); writing
them out is the same thing::

    class AccountStoreSQLiteTests(SQLiteDatabase, AccountStoreTestsMixin, SynchronousTestCase):
        ...

The SQLite database is a file in the test's temporary directory.  The
PostgreSQL database is made on the server of L{POSTGRESQL_URL} (by default
the role and database C{make postgres} makes on 127.0.0.1) under a name of
its own, and dropped in the test's cleanup.  When that server cannot be
reached the PostgreSQL tests B{fail}, saying to run C{make postgres}: CI
installs PostgreSQL, so a skip would hide a broken setup.
"""

import os
import secrets

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.database import close_engine

__all__ = ["SQLiteDatabase", "PostgreSQLDatabase", "on_both_databases", "POSTGRESQL_URL"]

#: The server the PostgreSQL tests make their databases on, as a database
#: there its role may connect to; the role must be allowed to create
#: databases.  C{EUCALYPTUS_TEST_POSTGRESQL_URL} overrides it.
POSTGRESQL_URL = os.environ.get(
    "EUCALYPTUS_TEST_POSTGRESQL_URL", "postgresql+psycopg://eucalyptus:eucalyptus@127.0.0.1:5432/eucalyptus"
)

_PREFIX = "euca_test_"


class SQLiteDatabase:
    """
    Tests on SQLite: each database a new file in the test's temporary
    directory.
    """

    backend = "sqlite"

    def database_url(self):
        """
        The URL of a new, empty SQLite database, its engine closed when the
        test ends.
        """
        url = "sqlite:///" + os.path.abspath(os.path.join(self.mktemp(), "cloud.sqlite"))
        self.addCleanup(close_engine, url)
        return url


class _Server:
    """
    The PostgreSQL server, reached once per test process with an
    autocommit connection (C{CREATE DATABASE} cannot run in a
    transaction).
    """

    def __init__(self, url):
        self.url = make_url(url)
        self._engine = None
        self._error = None

    def _connect(self):
        if self._error is not None:
            raise self._error
        if self._engine is None:
            engine = create_engine(
                self.url, isolation_level="AUTOCOMMIT", pool_size=1, connect_args={"connect_timeout": 5}
            )
            try:
                with engine.connect() as db:
                    db.execute(text("SELECT 1"))
                    self._drop_stale(db)
            except DBAPIError as e:
                engine.dispose()
                shown = self.url.render_as_string(hide_password=True)
                self._error = AssertionError(
                    f"PostgreSQL is not reachable at {shown}: {e.orig}\n"
                    "Run `make postgres` (it installs and starts PostgreSQL and makes the test role), "
                    "or point EUCALYPTUS_TEST_POSTGRESQL_URL at a server where the role may create databases."
                )
                raise self._error
            self._engine = engine
        return self._engine.connect()

    def _drop_stale(self, db):
        """
        Drop the test databases left by test processes of this machine that
        died before their cleanup ran (their names carry the process id).
        """
        if self.url.host not in (None, "", "127.0.0.1", "localhost", "::1"):
            return
        names = db.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"), {"prefix": _PREFIX + "%"}
        ).scalars()
        for name in list(names):
            pid = name[len(_PREFIX):].split("_")[0]
            if pid.isdigit() and not _alive(int(pid)):
                db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def create(self):
        """
        A new, empty database.

        @return: its name and URL.
        @raise AssertionError: the server cannot be reached.
        """
        name = f"{_PREFIX}{os.getpid()}_{secrets.token_hex(6)}"
        with self._connect() as db:
            db.execute(text(f'CREATE DATABASE "{name}"'))
        return name, self.url.set(database=name).render_as_string(hide_password=False)

    def close(self):
        """
        Close the connection to the server.
        """
        if self._engine is not None:
            self._engine.dispose()

    def drop(self, name):
        """
        Drop database C{name}, ending any connection still open to it.
        """
        with self._connect() as db:
            db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_server = _Server(POSTGRESQL_URL)


class PostgreSQLDatabase:
    """
    Tests on PostgreSQL: each database made on the L{POSTGRESQL_URL}
    server under a name of its own, and dropped when the test ends.
    """

    backend = "postgresql"

    def database_url(self):
        """
        The URL of a new, empty PostgreSQL database, dropped (its engine
        closed first) when the test ends.

        @raise twisted.trial.unittest.FailTest: the server cannot be
            reached; the message says to run C{make postgres}.
        """
        try:
            name, url = _server.create()
        except AssertionError as e:
            self.fail(str(e))
        self.addCleanup(_server.drop, name)
        self.addCleanup(close_engine, url)
        return url


def on_both_databases(suite, base=SynchronousTestCase):
    """
    The test cases that run C{suite} on SQLite and on PostgreSQL.

    @param suite: a mixin class of tests named C{I{Name}TestsMixin} (or
        C{I{Name}Tests}) that call C{self.database_url()}.
    @param base: the L{TestCase} class to build on.
    @return: the classes C{I{Name}SQLiteTests} and
        C{I{Name}PostgreSQLTests}, in that order.
    """
    stem = suite.__name__.removesuffix("Mixin").removesuffix("Tests")
    cases = []
    for database in (SQLiteDatabase, PostgreSQLDatabase):
        label = database.__name__.removesuffix("Database")
        name = f"{stem}{label}Tests"
        doc = f"{(suite.__doc__ or suite.__name__).strip()}\n\nOn {label}."
        case = type(name, (database, suite, base), {"__doc__": doc, "__module__": suite.__module__})
        case.__qualname__ = name
        cases.append(case)
    return tuple(cases)
