# -*- test-case-name: tests.test_accounts -*-
"""
Accounts, users, access keys and user certificates.

They live in the cloud database (SQLite in the data directory by default, or
the C{DATABASE_URL} of eucalyptus.conf).  Every resource of the cloud belongs
to an account; the C{eucalyptus} account, made by C{euca-admin init}, is the
administrators'.  The calls here are blocking: services run them in a thread.

What IAM does with them (L{eucalyptus.services.clc.iam}) is here too, each
scoped to one account: users (names unique in their account whatever their
case, each with a path), and at most L{MAX_ACCESS_KEYS} access keys per
user, C{Active} or C{Inactive}.  Its errors carry IAM's codes.
"""

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    func,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateIndex

from eucalyptus.errors import AwsError

from eucalyptus.database import migrate, open_engine

__all__ = [
    "AccountStore",
    "Account",
    "User",
    "AccessKey",
    "ADMIN_ACCOUNT",
    "ADMIN_USER",
    "MAX_ACCESS_KEYS",
    "valid_account_name",
    "NoSuchEntity",
    "EntityAlreadyExists",
    "DeleteConflict",
    "LimitExceeded",
    "InvalidInput",
]

ADMIN_ACCOUNT = "eucalyptus"
ADMIN_USER = "admin"

#: How many access keys a user may have, as in AWS.
MAX_ACCESS_KEYS = 2

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
    Column("path", String(512), nullable=False, server_default="/"),
    Column("created", DateTime(timezone=True)),
)
#: A user's name is unique in its account, whatever its case (as in IAM).
users_by_name = Index("users_account_name", users.c.account_id, func.lower(users.c.name), unique=True)
access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(20), primary_key=True),
    Column("secret_key", String(40), nullable=False),
    Column("user_id", String(21), ForeignKey("users.user_id"), nullable=False),
    Column("status", String(8), nullable=False, default="Active"),
    Column("created", DateTime(timezone=True)),
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
    created: datetime = None


@dataclass(frozen=True)
class Account:
    """
    An account: a 12-digit id and a unique name.
    """

    account_id: str
    name: str


@dataclass(frozen=True)
class User:
    """
    A user of an account.

    @ivar path: its IAM path (C{/}, C{/division/}).
    @ivar created: when it was made (an aware L{datetime}).
    """

    user_id: str
    account_id: str
    name: str
    path: str
    created: datetime

    @property
    def arn(self):
        """
        Its ARN, C{arn:aws:iam::<account id>:user<path><name>}.
        """
        return f"arn:aws:iam::{self.account_id}:user{self.path}{self.name}"


class NoSuchEntity(AwsError):
    """
    No such user or access key in the account.
    """

    code = "NoSuchEntity"
    http_status = 404
    message = "The request was rejected because it referenced an entity that does not exist."


class EntityAlreadyExists(AwsError):
    """
    An account or a user of that name exists.
    """

    code = "EntityAlreadyExists"
    http_status = 409
    message = "The request was rejected because it attempted to create a resource that already exists."


class DeleteConflict(AwsError):
    """
    The entity cannot be deleted while others depend on it (a user's keys).
    """

    code = "DeleteConflict"
    http_status = 409
    message = (
        "The request was rejected because it attempted to delete a resource that has attached subordinate entities."
    )


class LimitExceeded(AwsError):
    """
    A user already has L{MAX_ACCESS_KEYS} access keys.
    """

    code = "LimitExceeded"
    http_status = 409
    message = "The request was rejected because it attempted to create resources beyond the current limits."


class InvalidInput(AwsError):
    """
    A value the account store does not accept (an account name, ...).
    """

    code = "InvalidInput"
    message = "The request was rejected because an invalid or out-of-range value was supplied for an input parameter."


_ACCOUNT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def valid_account_name(name):
    """
    Whether C{name} can name an account: 1 to 63 lower-case letters,
    digits and hyphens, starting with a letter or digit (it names a
    directory of credentials too).
    """
    return bool(_ACCOUNT_NAME.fullmatch(name))


def _random(alphabet, length):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _now():
    return datetime.now(timezone.utc)


def _utc(value):
    """
    A time read back from the database as an aware L{datetime} (SQLite
    keeps none of its zone; L{None} stays L{None}).
    """
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _add_user_paths_and_dates(db):
    """
    Migration 2: users get a path and a creation time, access keys a
    creation time (those made before are dated now), and user names become
    unique in their account whatever their case.  A database that
    migration 1 made with these already (its tables are today's) is left
    as it is.
    """
    now = _now()
    for table, names in ((users, ("path", "created")), (access_keys, ("created",))):
        present = {column["name"] for column in inspect(db).get_columns(table.name)}
        for name in names:
            if name in present:
                continue
            column = table.c[name]
            ddl = f"ALTER TABLE {table.name} ADD COLUMN {name} {column.type.compile(dialect=db.dialect)}"
            if column.server_default is not None:
                ddl += f" DEFAULT '{column.server_default.arg}' NOT NULL"
            db.execute(text(ddl))
        if "created" in names:
            db.execute(table.update().where(table.c.created.is_(None)).values(created=now))
    db.execute(CreateIndex(users_by_name, if_not_exists=True))


#: The accounts schema's migrations, in order.
MIGRATIONS = [lambda db: metadata.create_all(db), _add_user_paths_and_dates]


class AccountStore:
    """
    The accounts in the cloud database.
    """

    def __init__(self, url):
        """
        @param url: an SQLAlchemy URL (see L{eucalyptus.database}).
        """
        self.engine = open_engine(url)
        migrate(self.engine, "accounts", MIGRATIONS)

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
            db.execute(
                users.insert().values(user_id=user_id, account_id=account_id, name=user_name, created=_now())
            )
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
                access_keys.insert().values(
                    access_key_id=key_id, secret_key=secret, user_id=user_id, status="Active", created=_now()
                )
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
                access_keys.c.created,
            )
            .join_from(access_keys, users)
            .join(accounts)
            .where(access_keys.c.access_key_id == access_key_id)
        )
        with self.engine.connect() as db:
            row = db.execute(query).first()
        return AccessKey(*row[:-1], _utc(row[-1])) if row else None

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

    # What IAM does: every call is scoped to one account.

    def account(self, name_or_id):
        """
        The L{Account} with this name or id, or C{None}.
        """
        query = select(accounts.c.account_id, accounts.c.name).where(
            (accounts.c.name == name_or_id) | (accounts.c.account_id == name_or_id)
        )
        with self.engine.connect() as db:
            row = db.execute(query).first()
        return Account(*row) if row else None

    def all_accounts(self):
        """
        Every account, by name.
        """
        with self.engine.connect() as db:
            rows = db.execute(select(accounts.c.account_id, accounts.c.name).order_by(accounts.c.name)).all()
        return [Account(*row) for row in rows]

    def new_account(self, name):
        """
        A new account with its L{ADMIN_USER} and no access key.

        @return: the L{Account}.
        @raise InvalidInput: C{name} is not L{valid_account_name}.
        @raise EntityAlreadyExists: an account has that name.
        """
        if not valid_account_name(name):
            raise InvalidInput(
                f"Invalid account name {name!r}: use 1 to 63 lower-case letters, digits and hyphens, "
                "starting with a letter or digit."
            )
        account = Account(_random(string.digits, 12), name)
        user_id = "AIDA" + _random(string.ascii_uppercase + string.digits, 17)
        try:
            with self.engine.begin() as db:
                db.execute(accounts.insert().values(account_id=account.account_id, name=name))
                db.execute(
                    users.insert().values(
                        user_id=user_id, account_id=account.account_id, name=ADMIN_USER, created=_now()
                    )
                )
        except IntegrityError:
            raise EntityAlreadyExists(f"The account {name} already exists.")
        return account

    def _user_row(self, db, account_id, name, lock=False):
        """
        The row of a user of an account, its name matched whatever its case.

        @raise NoSuchEntity: there is none.
        """
        query = select(users).where(users.c.account_id == account_id, func.lower(users.c.name) == name.lower())
        row = db.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return row

    @staticmethod
    def _user(row):
        return User(row.user_id, row.account_id, row.name, row.path, _utc(row.created))

    def user(self, account_id, name):
        """
        The L{User} of an account called C{name}.

        @raise NoSuchEntity: the account has no such user.
        """
        with self.engine.connect() as db:
            return self._user(self._user_row(db, account_id, name))

    def users_of(self, account_id, path_prefix="/"):
        """
        The L{User}s of an account whose path starts with C{path_prefix},
        in no particular order.
        """
        with self.engine.connect() as db:
            rows = db.execute(select(users).where(users.c.account_id == account_id)).all()
        return [self._user(row) for row in rows if row.path.startswith(path_prefix)]

    def create_user(self, account_id, name, path="/"):
        """
        A new user of an account.

        @return: the L{User}.
        @raise EntityAlreadyExists: the account has a user of that name
            (whatever its case).
        """
        user = User(
            "AIDA" + _random(string.ascii_uppercase + string.digits, 17), account_id, name, path, _now()
        )
        try:
            with self.engine.begin() as db:
                db.execute(
                    users.insert().values(
                        user_id=user.user_id, account_id=account_id, name=name, path=path, created=user.created
                    )
                )
        except IntegrityError:
            raise EntityAlreadyExists(f"User with name {name} already exists.")
        return user

    def delete_user(self, account_id, name):
        """
        Delete a user of an account, with the certificates it was given.

        @raise NoSuchEntity: the account has no such user.
        @raise DeleteConflict: the user still has access keys, or is the
            account's L{ADMIN_USER}.
        """
        try:
            with self.engine.begin() as db:
                user = self._user_row(db, account_id, name, lock=True)
                if user.name == ADMIN_USER:
                    raise DeleteConflict(f"Cannot delete the account's {ADMIN_USER} user.")
                keys = select(func.count()).select_from(access_keys).where(access_keys.c.user_id == user.user_id)
                if db.execute(keys).scalar():
                    raise DeleteConflict("Cannot delete entity, must delete access keys first.")
                db.execute(certificates.delete().where(certificates.c.user_id == user.user_id))
                db.execute(users.delete().where(users.c.user_id == user.user_id))
        except IntegrityError:
            # A key was added meanwhile.
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")

    def add_access_key(self, account_id, user_name):
        """
        A new active access key for a user of an account, unless it has
        L{MAX_ACCESS_KEYS} already.

        @return: the new L{AccessKey}.
        @raise NoSuchEntity: the account has no such user.
        @raise LimitExceeded: the user has as many keys as it may.
        """
        key_id = "AKI" + _random(string.ascii_uppercase + string.digits, 17)
        secret = _random(string.ascii_letters + string.digits, 40)
        with self.engine.begin() as db:
            user = self._user_row(db, account_id, user_name, lock=True)
            # One statement counts and inserts, so two requests at once
            # cannot both add a second key (the row lock does it on
            # PostgreSQL, SQLite's single writer on SQLite).
            count = (
                select(func.count())
                .select_from(access_keys)
                .where(access_keys.c.user_id == user.user_id)
                .scalar_subquery()
            )
            chosen = select(
                literal(key_id),
                literal(secret),
                literal(user.user_id),
                literal("Active"),
                literal(_now(), DateTime(timezone=True)),
            ).where(count < MAX_ACCESS_KEYS)
            columns = ["access_key_id", "secret_key", "user_id", "status", "created"]
            db.execute(access_keys.insert().from_select(columns, chosen))
            # (The rowcount of an INSERT ... SELECT is not known everywhere.)
            added = select(access_keys.c.access_key_id).where(access_keys.c.access_key_id == key_id)
            if db.execute(added).first() is None:
                raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}")
        return self.access_key(key_id)

    def user_keys(self, account_id, user_name):
        """
        The access keys of a user of an account, oldest first.

        @raise NoSuchEntity: the account has no such user.
        """
        with self.engine.connect() as db:
            user = self._user_row(db, account_id, user_name)
            query = (
                select(access_keys.c.access_key_id)
                .where(access_keys.c.user_id == user.user_id)
                .order_by(access_keys.c.created, access_keys.c.access_key_id)
            )
            ids = db.execute(query).scalars().all()
        return [self.access_key(key_id) for key_id in ids]

    def _key_of_user(self, db, account_id, user_name, access_key_id):
        """
        The condition selecting an access key of a user of an account.

        @raise NoSuchEntity: the account has no such user.
        """
        user = self._user_row(db, account_id, user_name)
        return (access_keys.c.access_key_id == access_key_id) & (access_keys.c.user_id == user.user_id)

    def set_key_status(self, account_id, user_name, access_key_id, status):
        """
        Make an access key of a user of an account C{Active} or
        C{Inactive}: an inactive key authenticates nothing.

        @raise NoSuchEntity: the user has no such key.
        @raise InvalidInput: C{status} is neither.
        """
        if status not in ("Active", "Inactive"):
            raise InvalidInput(f"Invalid status {status!r}: use Active or Inactive.")
        with self.engine.begin() as db:
            where = self._key_of_user(db, account_id, user_name, access_key_id)
            if db.execute(access_keys.update().where(where).values(status=status)).rowcount != 1:
                raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")

    def delete_access_key(self, account_id, user_name, access_key_id):
        """
        Delete an access key of a user of an account.

        @raise NoSuchEntity: the user has no such key.
        """
        with self.engine.begin() as db:
            where = self._key_of_user(db, account_id, user_name, access_key_id)
            if db.execute(access_keys.delete().where(where)).rowcount != 1:
                raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
