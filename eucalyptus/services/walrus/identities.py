# -*- test-case-name: tests.services.walrus.test_rest,tests.services.clc.test_ec2_resource,tests.services.clc.test_iam_protocol -*-
"""
Who signed an S3 request: access keys from the cloud's account store,
checked by L{eucalyptus.security.awsauth}, become
L{eucalyptus.services.walrus.acl.Identity}s; so do the node certificates
of the key directory (C{keys/<zone>/node-cert.pem}), for the Node
Controllers' image downloads (L{eucalyptus.security.nodeauth}).

Keys and certificates are cached for a short time so a busy client costs
no database query or file read per request; those run in a thread.
"""

import time

from twisted.internet import threads

from eucalyptus.accounts import ADMIN_ACCOUNT
from eucalyptus.security import awsauth, nodeauth
from eucalyptus.services.walrus.acl import ANONYMOUS, Identity

__all__ = ["Identities"]


class _NotCached(Exception):
    def __init__(self, access_key_id):
        Exception.__init__(self, access_key_id)
        self.access_key_id = access_key_id


class _NodesNotCached(Exception):
    pass


class _NodeCertificates:
    """
    The node certificates as L{nodeauth.verify} looks them up for one
    request: the cached set if it is fresh, else a reload is asked for.

    @ivar found: fingerprint to C{(zone, certificate)}, once taken.
    """

    def __init__(self, identities):
        self._identities = identities
        self.found = None

    def get(self, fingerprint):
        if self.found is None:
            loaded_at, found = self._identities._nodes
            if loaded_at is None or self._identities.clock() - loaded_at > self._identities.ttl:
                raise _NodesNotCached()
            self.found = found
        entry = self.found.get(fingerprint)
        return entry[1] if entry is not None else None


class Identities:
    """
    The callers Walrus knows, from the cloud's account store.

    @ivar ttl: seconds a looked-up key (or the set of node certificates)
        is trusted before it is read again (a disabled key stops working
        within this time).
    @ivar keys_dir: the key directory whose C{<zone>/node-cert.pem} sign
        node requests, or L{None}: node requests are refused.
    """

    def __init__(self, accounts, ttl=30.0, clock=time.monotonic, lookup=threads.deferToThread, keys_dir=None):
        """
        @param accounts: the L{eucalyptus.accounts.AccountStore}.
        @param lookup: runs a blocking call off the reactor, returning a
            Deferred (C{deferToThread}; tests run it inline).
        @param keys_dir: see L{keys_dir}.
        """
        self.accounts = accounts
        self.ttl = ttl
        self.clock = clock
        self.lookup = lookup
        self.keys_dir = keys_dir
        self._keys = {}
        self._names = {}
        self._nodes = (None, {})

    def _secret_for(self, access_key_id):
        cached = self._keys.get(access_key_id)
        if cached is None or self.clock() - cached[0] > self.ttl:
            raise _NotCached(access_key_id)
        key = cached[1]
        return key.secret_key if key is not None and key.status == "Active" else None

    async def authenticate(self, signed, now, service="s3"):
        """
        The identity behind a request.

        @param signed: the L{awsauth.SignedRequest}.
        @param now: seconds since the epoch.
        @param service: the service the request is for (C{"ec2"} for the
            Cloud Controller's EC2 Query API, which shares these keys).
        @return: C{(identity, authenticated)}; L{ANONYMOUS} and C{None} for
            an unsigned request.
        @raise eucalyptus.errors.AwsError: the signature is wrong, the key
            unknown, the time skewed, ...
        """
        nodes = _NodeCertificates(self) if self.keys_dir is not None else None
        while True:
            try:
                auth = awsauth.authenticate(signed, self._secret_for, now, service, node_certificates=nodes)
                break
            except _NotCached as missing:
                await self.key_for(missing.access_key_id)
            except _NodesNotCached:
                nodes.found = await self._load_nodes()
        if auth is None:
            return ANONYMOUS, None
        if auth.scheme == nodeauth.SCHEME:
            zone = nodes.found[auth.access_key_id][0]
            return Identity(None, "node:" + zone, auth.access_key_id, node=True), auth
        return self.identity_of(self._keys[auth.access_key_id][1]), auth

    async def _load_nodes(self):
        """
        Read the node certificates again (in a thread).
        """
        found = await self.lookup(nodeauth.node_certificates, self.keys_dir)
        self._nodes = (self.clock(), found)
        return found

    async def key_for(self, access_key_id):
        """
        The L{eucalyptus.accounts.AccessKey} with this id (cached), or
        C{None}.
        """
        cached = self._keys.get(access_key_id)
        if cached is not None and self.clock() - cached[0] <= self.ttl:
            return cached[1]
        key = await self.lookup(self.accounts.access_key, access_key_id)
        self._keys[access_key_id] = (self.clock(), key)
        if key is not None:
            self._names[key.account_id] = key.account_name
        return key

    def forget(self, access_key_id):
        """
        Drop what is cached of an access key, so the next request signed
        with it reads it again: for whoever changes keys in this process
        (IAM's C{UpdateAccessKey}, C{DeleteAccessKey}), whose change then
        takes effect at once rather than within L{ttl}.
        """
        self._keys.pop(access_key_id, None)

    def identity_of(self, key):
        """
        The L{Identity} of whoever holds an access key.  The cloud
        administrators' account is privileged.
        """
        return Identity(key.account_id, key.account_name, key.access_key_id, key.account_name == ADMIN_ACCOUNT)

    def name_of(self, account_id):
        """
        The display name of an account seen or loaded so far, or C{None}.
        """
        return self._names.get(account_id)

    async def load_names(self, account_ids):
        """
        Make L{name_of} know the accounts among C{account_ids} that exist.

        @return: the ids that name no account.
        """
        missing = {a for a in account_ids if a and a not in self._names}
        if missing:
            self._names.update(await self.lookup(self.accounts.account_names, missing))
        return {a for a in missing if a not in self._names}
