# -*- test-case-name: tests.test_accounts -*-
"""
Accounts, users, access keys and user certificates.

They live in the cloud database (SQLite in the data directory by default, or
the C{DATABASE_URL} of eucalyptus.conf).  Every resource of the cloud belongs
to an account; the C{eucalyptus} account, made by C{euca-admin init}, is the
administrators'.  The calls here are blocking: services run them in a thread.
"""

import os
import secrets
import string
from dataclasses import dataclass

from sqlalchemy import Column, ForeignKey, MetaData, String, Table, create_engine, event, select

__all__ = ["AccountStore", "AccessKey", "ADMIN_ACCOUNT", "ADMIN_USER"]

ADMIN_ACCOUNT = "eucalyptus"
ADMIN_USER = "admin"

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("name", String(64), unique=True, nullable=False),
)
users = Table(
    "users",
    metadata,
    Column("user_id", String(21), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id"), nullable=False),
    Column("name", String(64), nullable=False),
)
access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(20), primary_key=True),
    Column("secret_key", String(40), nullable=False),
    Column("user_id", String(21), ForeignKey("users.user_id"), nullable=False),
    Column("status", String(8), nullable=False, default="Active"),
)
certificates = Table(
    "certificates",
    metadata,
    Column("certificate_id", String(32), primary_key=True),
    Column("user_id", String(21), ForeignKey("users.user_id"), nullable=False),
    Column("pem", String, nullable=False),
    Column("status", String(8), nullable=False, default="Active"),
)


@dataclass(frozen=True)
class AccessKey:
    """
    An access key and whose it is.
    """

    access_key_id: str
    secret_key: str
    user_id: str
    account_id: str
    account_name: str
    user_name: str
    status: str


def _random(alphabet, length):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _sqlite_pragmas(connection, _record):
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class AccountStore:
    """
    The accounts in the cloud database.
    """

    def __init__(self, url):
        """
        @param url: an SQLAlchemy URL; for SQLite the directory is created.
        """
        if url.startswith("sqlite:///"):
            os.makedirs(os.path.dirname(url[len("sqlite:///") :]), mode=0o700, exist_ok=True)
        self.engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    def account_id(self, name):
        """
        The id of the account called C{name}, or C{None}.
        """
        with self.engine.connect() as db:
            return db.execute(select(accounts.c.account_id).where(accounts.c.name == name)).scalar()

    def account_names(self, account_ids):
        """
        The names of the accounts among C{account_ids} that exist.

        @return: a dict from account id to name.
        """
        query = select(accounts.c.account_id, accounts.c.name).where(accounts.c.account_id.in_(list(account_ids)))
        with self.engine.connect() as db:
            return dict(db.execute(query).all())

    def create_account(self, name, user_name=ADMIN_USER):
        """
        A new account with one user and one access key.

        @return: the new L{AccessKey}.
        """
        account_id = _random(string.digits, 12)
        user_id = "AIDA" + _random(string.ascii_uppercase + string.digits, 17)
        with self.engine.begin() as db:
            db.execute(accounts.insert().values(account_id=account_id, name=name))
            db.execute(users.insert().values(user_id=user_id, account_id=account_id, name=user_name))
        return self.create_access_key(user_id)

    def create_access_key(self, user_id):
        """
        A new active access key for a user.

        @return: the new L{AccessKey}.
        """
        key_id = "AKI" + _random(string.ascii_uppercase + string.digits, 17)
        secret = _random(string.ascii_letters + string.digits, 40)
        with self.engine.begin() as db:
            db.execute(
                access_keys.insert().values(access_key_id=key_id, secret_key=secret, user_id=user_id, status="Active")
            )
        return self.access_key(key_id)

    def add_certificate(self, user_id, pem):
        """
        Record a user's X.509 certificate (PEM text).
        """
        with self.engine.begin() as db:
            db.execute(
                certificates.insert().values(certificate_id=secrets.token_hex(16), user_id=user_id, pem=pem)
            )

    def access_key(self, access_key_id):
        """
        The L{AccessKey} with this id, or C{None}.
        """
        query = (
            select(
                access_keys.c.access_key_id,
                access_keys.c.secret_key,
                users.c.user_id,
                accounts.c.account_id,
                accounts.c.name,
                users.c.name,
                access_keys.c.status,
            )
            .join_from(access_keys, users)
            .join(accounts)
            .where(access_keys.c.access_key_id == access_key_id)
        )
        with self.engine.connect() as db:
            row = db.execute(query).first()
        return AccessKey(*row) if row else None

    def keys_of(self, account_name, user_name=ADMIN_USER):
        """
        The access keys of a user of an account.
        """
        query = (
            select(access_keys.c.access_key_id)
            .join_from(access_keys, users)
            .join(accounts)
            .where(accounts.c.name == account_name, users.c.name == user_name)
        )
        with self.engine.connect() as db:
            ids = db.execute(query).scalars().all()
        return [self.access_key(key_id) for key_id in ids]
