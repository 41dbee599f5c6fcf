# -*- test-case-name: tests.services.clc.test_db -*-
"""
The Cloud Controller's tables: everything a user can see lives here.

Every resource table's module defines its tables on L{metadata} and is
listed in L{TABLE_MODULES}; L{open_cloud_database} imports them all, then
brings the C{clc} schema up to date with L{MIGRATIONS} (version 1 creates
every table; later versions alter what exists).  Every resource row carries
the C{account_id} that owns it: queries filter on it, so one account never
sees another's resources.

The calls are blocking: EC2 actions that use them are marked
L{eucalyptus.services.clc.ec2.dispatch.blocking} and run in a thread.
"""

import importlib
import secrets

from sqlalchemy import MetaData

from eucalyptus.database import migrate, open_engine

__all__ = ["metadata", "open_cloud_database", "new_id", "TABLE_MODULES", "MIGRATIONS"]

metadata = MetaData()

#: The modules whose tables make up the CLC's schema.
TABLE_MODULES = (
    "eucalyptus.services.clc.keypairs",
    "eucalyptus.services.clc.groups",
    "eucalyptus.services.clc.tags",
    "eucalyptus.services.clc.images",
    "eucalyptus.services.clc.vmtypes",
    "eucalyptus.services.clc.instances",
)


def _create_all(db):
    for name in TABLE_MODULES:
        importlib.import_module(name)
    metadata.create_all(db)


#: The C{clc} schema's migrations, in order.
MIGRATIONS = [_create_all]


def open_cloud_database(url):
    """
    The engine of the cloud database at C{url}, its C{clc} schema up to
    date.
    """
    for name in TABLE_MODULES:
        importlib.import_module(name)
    engine = open_engine(url)
    migrate(engine, "clc", MIGRATIONS)
    return engine


def new_id(prefix):
    """
    A new resource id: C{prefix}, a dash and eight random hex digits, as
    Eucalyptus names them (C{i-1a2b3c4d}, C{emi-...}, C{vol-...}).
    """
    return f"{prefix}-{secrets.token_hex(4)}"
