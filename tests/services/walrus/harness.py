"""
A live Walrus on a loopback port for tests that drive it with real S3
clients (boto3, the aws CLI): real store, real account database, real
HTTP.  Client calls block, so tests run them with C{deferToThread}.
"""

import atexit
import base64
import hashlib
import os
import shutil
import tempfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from twisted.internet import defer, reactor, threads
from twisted.internet.task import deferLater
from twisted.protocols.policies import WrappingFactory
from twisted.trial import unittest

from eucalyptus.accounts import AccountStore
from eucalyptus.services.walrus.body import StreamingSite
from eucalyptus.services.walrus.identities import Identities
from eucalyptus.services.walrus.operations import ObjectOperations
from eucalyptus.services.walrus.rest import WalrusResource
from eucalyptus.services.walrus.soap import S3SoapResource
from eucalyptus.services.walrus.store import LocalObjectStore

__all__ = ["LiveWalrus", "WalrusTestCase", "in_thread", "error_code", "status_of", "raw_request", "replace_body"]

PREFIX = b"/services/Walrus"


def in_thread(function, *args, **kwargs):
    """
    Run a blocking client call off the reactor.
    """
    return threads.deferToThread(function, *args, **kwargs)


_TEMPLATE = []


def _account_template():
    """
    An account database with C{alice}, C{bob} and C{eucalyptus}, made once
    per test run; each L{LiveWalrus} works on its own copy of the file.

    @return: the file's path and the account name to access key map.
    """
    if not _TEMPLATE:
        directory = tempfile.mkdtemp(prefix="walrus-accounts-")
        atexit.register(shutil.rmtree, directory, True)
        path = os.path.join(directory, "cloud.sqlite")
        accounts = AccountStore("sqlite:///" + path)
        keys = {name: accounts.create_account(name) for name in ("alice", "bob", "eucalyptus")}
        accounts.engine.dispose()
        _TEMPLATE.append((path, keys))
    return _TEMPLATE[0]


def _scratch_directory(testcase):
    """
    A directory for one Walrus, on disk like a real one.
    """
    root = os.path.abspath(testcase.mktemp())
    os.makedirs(root)
    return root


@defer.inlineCallbacks
def _until(condition, turns=1000):
    """
    Let the reactor turn until C{condition()} holds (or C{turns} passed).
    """
    for _ in range(turns):
        if condition():
            return
        yield deferLater(reactor, 0, lambda: None)


class LiveWalrus:
    """
    A Walrus listening on 127.0.0.1 with accounts C{alice} and C{bob}.

    @ivar keys: account name to its L{eucalyptus.accounts.AccessKey}.
    @ivar url: the endpoint at C{/}; C{url + "/services/Walrus"} is the
        cloud-port style.
    """

    def __init__(self, testcase):
        self.testcase = testcase
        self.root = _scratch_directory(testcase)
        os.makedirs(os.path.join(self.root, "db"))
        template, self.keys = _account_template()
        database = os.path.join(self.root, "db", "cloud.sqlite")
        shutil.copyfile(template, database)
        self.accounts = AccountStore("sqlite:///" + database)

    @defer.inlineCallbacks
    def start(self):
        """
        Open the store and listen; cleanups close both.
        """
        self.store = LocalObjectStore(os.path.join(self.root, "walrus"))
        yield self.store.start()
        self.testcase.addCleanup(self.store.stop)
        identities = Identities(self.accounts)
        self.objects = ObjectOperations(self.store, identities)
        self.s3soap = S3SoapResource(self.objects, identities)
        resource = WalrusResource(self.objects, identities, None, ("localhost",), prefix=PREFIX, s3soap=self.s3soap)
        site = StreamingSite(resource, 10 << 20, self.store.spool)
        site.timeOut = None
        self.connections = WrappingFactory(site)
        self.port = reactor.listenTCP(0, self.connections, interface="127.0.0.1")
        self.testcase.addCleanup(self._disconnect)
        self.testcase.addCleanup(self.port.stopListening)
        self.url = f"http://127.0.0.1:{self.port.getHost().port}"
        return self

    def _disconnect(self):
        """
        Drop the connections clients keep alive, and let the reactor see it.
        """
        for wrapper in list(self.connections.protocols):
            wrapper.transport.abortConnection()
        return _until(lambda: not self.connections.protocols)

    def client(self, account="alice", endpoint=None, **config):
        """
        A boto3 S3 client signed with C{account}'s key (anonymous when
        C{account} is C{None}).
        """
        options = {"retries": {"max_attempts": 1}, "s3": {"addressing_style": "path"}}
        options.update(config)
        if account is None:
            from botocore import UNSIGNED

            options["signature_version"] = UNSIGNED
            key = None
        else:
            key = self.keys[account]
        return boto3.client(
            "s3",
            endpoint_url=endpoint or self.url,
            region_name="us-east-1",
            aws_access_key_id=key.access_key_id if key else "x",
            aws_secret_access_key=key.secret_key if key else "x",
            config=Config(**options),
        )


def error_code(error):
    """
    The S3 error code of a botocore C{ClientError}.
    """
    return error.response["Error"]["Code"]


def status_of(error):
    """
    The HTTP status of a botocore C{ClientError}.
    """
    return error.response["ResponseMetadata"]["HTTPStatusCode"]


def raw_request(url, method, path, headers=None, body=None):
    """
    One plain HTTP request (no signature unless the caller put one in the
    path or headers), blocking.

    @return: C{(status, headers, body)}; header names lower-case.
    """
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


class WalrusTestCase(unittest.TestCase):
    """
    A live Walrus per test, C{self.s3} signed as alice, and helpers to
    assert on S3 error codes.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.walrus = yield LiveWalrus(self).start()
        self.s3 = self.walrus.client("alice")

    def assert_error(self, code, status, function, *args, **kwargs):
        """
        Run a blocking client call that must fail with S3 error C{code} and
        HTTP C{status}.

        @return: a Deferred firing with the C{ClientError}.
        """
        return self.assert_fails(code, status, in_thread(function, *args, **kwargs))

    @defer.inlineCallbacks
    def assert_fails(self, code, status, deferred):
        """
        C{deferred} must fail with a C{ClientError} of S3 error C{code} and
        HTTP C{status}.

        @return: a Deferred firing with the C{ClientError}.
        """
        error = yield self.assertFailure(deferred, ClientError)
        self.assertEqual((error_code(error), status_of(error)), (code, status), error.response)
        return error

    def raw(self, method, path, headers=None, body=None):
        """
        L{raw_request} to this Walrus, in a thread.
        """
        return in_thread(raw_request, self.walrus.url, method, path, headers, body)


def replace_body(client, operation, body):
    """
    Make C{client} send C{body} instead of what it serialised for
    C{operation} (C{"CreateBucket"}), still signed.
    """

    def hook(request, **kwargs):
        request.data = body
        for name in list(request.headers.keys()):
            lower = name.lower()
            if lower in ("content-md5", "content-length", "x-amz-sdk-checksum-algorithm") or lower.startswith("x-amz-checksum-"):
                del request.headers[name]
        request.headers["Content-Length"] = str(len(body))
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")
        request.headers["Content-MD5"] = md5

    client.meta.events.register_first(f"before-sign.s3.{operation}", hook)
