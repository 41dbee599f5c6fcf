# -*- test-case-name: tests.services.clc.test_db -*-
"""
What the Cloud Controller's EC2 actions work with, besides the request: the
cloud database, the account store, the keys, the configuration, and the
cloud's clusters.  One L{Cloud} per CLC; every L{RequestContext} carries it.
"""

from dataclasses import dataclass, field

__all__ = ["Cloud"]


@dataclass
class Cloud:
    """
    The Cloud Controller's collaborators.

    @ivar config: the L{eucalyptus.config.CloudConfig}.
    @ivar settings: the whole L{eucalyptus.config.Settings}.
    @ivar db: the SQLAlchemy engine of the cloud database (L{db}).
    @ivar accounts: the L{eucalyptus.accounts.AccountStore}.
    @ivar keystore: the L{eucalyptus.security.keys.KeyStore}.
    @ivar clusters: zone name to that zone's cluster (its CC client and
        what the CLC last learnt from it).
    @ivar clock: the reactor.
    """

    config: object
    settings: object
    db: object
    accounts: object
    keystore: object
    clusters: dict = field(default_factory=dict)
    clock: object = None
