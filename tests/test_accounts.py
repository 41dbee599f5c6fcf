# -*- test-case-name: tests.test_accounts -*-
"""
Tests for what L{eucalyptus.accounts} does for IAM: accounts, users and
access keys scoped to an account, on SQLite and PostgreSQL, and the
migration of a database made before users had paths and dates.
"""

import threading
from datetime import datetime, timezone

from sqlalchemy import Column, ForeignKey, MetaData, String, Table, inspect, select
from sqlalchemy.exc import IntegrityError

from eucalyptus import accounts as store_module
from eucalyptus.accounts import (
    ADMIN_USER,
    AccountStore,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    valid_account_name,
)
from eucalyptus.database import migrate, open_engine, schema_version
from tests import dbs


def _version_1(db):
    """
    The accounts schema as migration 1 made it before migration 2 existed.
    """
    old = MetaData()
    Table("accounts", old, Column("account_id", String(12), primary_key=True), Column("name", String(64), unique=True))
    Table(
        "users",
        old,
        Column("user_id", String(21), primary_key=True),
        Column("account_id", String(12), ForeignKey("accounts.account_id"), nullable=False),
        Column("name", String(64), nullable=False),
    )
    Table(
        "access_keys",
        old,
        Column("access_key_id", String(20), primary_key=True),
        Column("secret_key", String(40), nullable=False),
        Column("user_id", String(21), ForeignKey("users.user_id"), nullable=False),
        Column("status", String(8), nullable=False),
    )
    Table(
        "certificates",
        old,
        Column("certificate_id", String(32), primary_key=True),
        Column("user_id", String(21), ForeignKey("users.user_id"), nullable=False),
        Column("pem", String, nullable=False),
        Column("status", String(8), nullable=False),
    )
    old.create_all(db)
    db.execute(old.tables["accounts"].insert().values(account_id="111111111111", name="old"))
    db.execute(old.tables["users"].insert().values(user_id="AIDAOLD", account_id="111111111111", name="admin"))
    db.execute(
        old.tables["access_keys"].insert().values(
            access_key_id="AKIOLD", secret_key="s" * 40, user_id="AIDAOLD", status="Active"
        )
    )


class IamStoreTestsMixin:
    """
    Users and keys of an account, never another's.
    """

    def setUp(self):
        self.store = AccountStore(self.database_url())
        self.red = self.store.new_account("red")
        self.blue = self.store.new_account("blue")

    def test_new_account(self):
        """
        A new account has its admin user and no key; its name must be a
        valid one and unique.
        """
        self.assertEqual(self.store.account("red"), self.red)
        self.assertEqual(self.store.account(self.red.account_id), self.red)
        self.assertIsNone(self.store.account("green"))
        self.assertEqual([u.name for u in self.store.users_of(self.red.account_id)], [ADMIN_USER])
        self.assertEqual(self.store.user_keys(self.red.account_id, ADMIN_USER), [])
        self.assertRaises(EntityAlreadyExists, self.store.new_account, "red")
        self.assertRaises(InvalidInput, self.store.new_account, "Red")
        self.assertEqual([a.name for a in self.store.all_accounts()], ["blue", "red"])

    def test_account_names(self):
        """
        Account names are lower-case letters, digits and hyphens, 1 to 63,
        not starting with a hyphen.
        """
        for name in ("a", "acme-2", "9" * 63):
            self.assertTrue(valid_account_name(name), name)
        for name in ("", "-a", "A", "a_b", "a" * 64, "a/b"):
            self.assertFalse(valid_account_name(name), name)

    def test_users(self):
        """
        Users have a path, an id, an ARN and a creation date; names are
        unique in an account whatever their case, and may repeat across
        accounts; another account's user is not found.
        """
        before = datetime.now(timezone.utc)
        user = self.store.create_user(self.red.account_id, "Ann", "/ops/")
        self.assertEqual(user.arn, f"arn:aws:iam::{self.red.account_id}:user/ops/Ann")
        self.assertEqual(self.store.user(self.red.account_id, "ann"), user)
        self.assertGreaterEqual(user.created, before)
        self.assertRaises(EntityAlreadyExists, self.store.create_user, self.red.account_id, "ANN")
        self.store.create_user(self.blue.account_id, "ann")
        self.assertRaises(NoSuchEntity, self.store.user, self.blue.account_id, "nobody")
        self.assertEqual([u.name for u in self.store.users_of(self.red.account_id, "/ops/")], ["Ann"])

    def test_keys(self):
        """
        At most two keys per user; keys of another account's user, or
        another user's, are not found to change or delete; a user with keys
        cannot be deleted, and the account's admin never.
        """
        self.store.create_user(self.red.account_id, "ann")
        first = self.store.add_access_key(self.red.account_id, "ann")
        second = self.store.add_access_key(self.red.account_id, "ANN")
        self.assertRaises(LimitExceeded, self.store.add_access_key, self.red.account_id, "ann")
        self.assertEqual(
            [k.access_key_id for k in self.store.user_keys(self.red.account_id, "ann")],
            sorted([first.access_key_id, second.access_key_id], key=lambda k: k != first.access_key_id),
        )
        self.assertRaises(NoSuchEntity, self.store.add_access_key, self.blue.account_id, "ann")
        for account, user in ((self.blue.account_id, ADMIN_USER), (self.red.account_id, ADMIN_USER)):
            self.assertRaises(
                NoSuchEntity, self.store.set_key_status, account, user, first.access_key_id, "Inactive"
            )
            self.assertRaises(NoSuchEntity, self.store.delete_access_key, account, user, first.access_key_id)
        self.assertRaises(InvalidInput, self.store.set_key_status, self.red.account_id, "ann", first.access_key_id, "x")
        self.store.set_key_status(self.red.account_id, "ann", first.access_key_id, "Inactive")
        self.assertEqual(self.store.access_key(first.access_key_id).status, "Inactive")
        self.assertRaises(DeleteConflict, self.store.delete_user, self.red.account_id, "ann")
        self.store.delete_access_key(self.red.account_id, "ann", first.access_key_id)
        self.store.delete_access_key(self.red.account_id, "ann", second.access_key_id)
        self.assertIsNone(self.store.access_key(first.access_key_id))
        self.store.add_certificate(self.store.user(self.red.account_id, "ann").user_id, "-----BEGIN CERTIFICATE-----")
        self.store.delete_user(self.red.account_id, "ann")
        self.assertRaises(NoSuchEntity, self.store.user, self.red.account_id, "ann")
        self.assertRaises(DeleteConflict, self.store.delete_user, self.red.account_id, ADMIN_USER)

    def test_key_limit_under_concurrency(self):
        """
        Requests adding keys to one user at the same time still leave it
        two: the others are C{LimitExceeded}, none fails otherwise.
        """
        self.store.create_user(self.red.account_id, "busy")
        barrier = threading.Barrier(8)
        outcomes = []

        def add():
            barrier.wait()
            try:
                self.store.add_access_key(self.red.account_id, "busy")
                outcomes.append("added")
            except LimitExceeded:
                outcomes.append("limit")
            except Exception as e:
                outcomes.append(repr(e))

        workers = [threading.Thread(target=add) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self.assertEqual(sorted(outcomes), ["added"] * 2 + ["limit"] * 6)
        self.assertEqual(len(self.store.user_keys(self.red.account_id, "busy")), 2)

    def test_existing_calls_unchanged(self):
        """
        C{create_account} still makes an account with a key, and a second
        one of the same name still fails in the database.
        """
        key = self.store.create_account("green")
        self.assertEqual(self.store.keys_of("green"), [key])
        self.assertIsNotNone(key.created)
        self.assertRaises(IntegrityError, self.store.create_account, "green")


IamStoreSQLiteTests, IamStorePostgreSQLTests = dbs.on_both_databases(IamStoreTestsMixin)


class MigrationTestsMixin:
    """
    A database at version 1 of the accounts schema gets paths, dates and
    case-insensitive user names.
    """

    def test_from_version_1(self):
        """
        The old account's user gets the root path and a date, its key a
        date, and works as before; a user name differing only in case is
        then refused.
        """
        url = self.database_url()
        migrate(open_engine(url), "accounts", [_version_1])
        store = AccountStore(url)
        self.assertEqual(schema_version(store.engine, "accounts"), len(store_module.MIGRATIONS))
        self.assertEqual(len(store_module.MIGRATIONS), 2)
        user = store.user("111111111111", "ADMIN")
        self.assertEqual((user.path, user.created is not None), ("/", True))
        key = store.access_key("AKIOLD")
        self.assertEqual((key.account_name, key.status, key.created is not None), ("old", "Active", True))
        self.assertRaises(EntityAlreadyExists, store.create_user, "111111111111", "Admin")
        columns = {c["name"] for c in inspect(store.engine).get_columns("users")}
        self.assertLessEqual({"path", "created"}, columns)
        with store.engine.connect() as db:
            paths = db.execute(select(store_module.users.c.path)).scalars().all()
        self.assertEqual(paths, ["/"])


MigrationSQLiteTests, MigrationPostgreSQLTests = dbs.on_both_databases(MigrationTestsMixin)
