# -*- test-case-name: tests.services.clc.test_ec2_boto3,tests.services.clc.test_ec2_awscli -*-
"""
A live Cloud Controller for tests that drive the EC2 Query API with real
clients (boto3, the aws CLI): a data directory made by C{euca-admin init}'s
L{eucalyptus.admin.initialise}, the service built by
L{eucalyptus.services.clc.service.make_service}, and its site listening on
a loopback port.  Client calls block, so tests run them in threads.
"""

import io
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from twisted.internet import defer, reactor, threads
from twisted.internet.task import deferLater
from twisted.protocols.policies import WrappingFactory

from eucalyptus import admin
from eucalyptus.accounts import ADMIN_ACCOUNT, AccountStore
from eucalyptus.config import CloudConfig, config_from_string
from eucalyptus.services.clc import service as clc
from tests.daemons import free_ports

__all__ = ["LiveCloudController", "in_thread", "error_of", "admin_key", "cli_environment"]


def in_thread(function, *args, **kwargs):
    """
    Run a blocking client call off the reactor.
    """
    return threads.deferToThread(function, *args, **kwargs)


def error_of(call, *args, **kwargs):
    """
    Call a boto3 method that must fail.

    @return: C{(code, HTTP status, message, request id, x-amzn-requestid)}.
    """
    try:
        call(*args, **kwargs)
    except ClientError as e:
        metadata = e.response["ResponseMetadata"]
        return (
            e.response["Error"]["Code"],
            metadata["HTTPStatusCode"],
            e.response["Error"]["Message"],
            metadata.get("RequestId"),
            metadata["HTTPHeaders"].get("x-amzn-requestid"),
        )
    raise AssertionError(f"{call.__name__} did not fail")


class LiveCloudController:
    """
    The CLC's site on 127.0.0.1, with the C{eucalyptus} account's key.

    @ivar settings: the parsed configuration (C{ZONE="east"}).
    @ivar key: the administrators' L{eucalyptus.accounts.AccessKey}.
    @ivar service: the CLC's service (not started: its site is listened
        here, so the test can drop the connections clients keep open).
    @ivar url: C{http://127.0.0.1:<port>}; the EC2 endpoint is
        L{ec2_url}, and C{url + "/"} answers too.
    """

    def __init__(self, testcase):
        self.testcase = testcase
        self.data = os.path.abspath(testcase.mktemp())
        os.makedirs(self.data)
        clc_port, walrus_port = free_ports(2)
        self.settings = config_from_string(
            f'LISTEN_ADDRESS="127.0.0.1"\nCLC_PORT="{clc_port}"\nWALRUS_PORT="{walrus_port}"\nZONE="east"\n',
            self.data,
        )
        admin.initialise(self.settings, out=io.StringIO())
        self.key = admin_key(self.settings)
        self.service = clc.make_service(self.settings)
        self.service.site.timeOut = None
        self.connections = WrappingFactory(self.service.site)
        self.port = reactor.listenTCP(0, self.connections, interface="127.0.0.1")
        testcase.addCleanup(self._disconnect)
        testcase.addCleanup(self.port.stopListening)
        self.url = f"http://127.0.0.1:{self.port.getHost().port}"
        self.ec2_url = self.url + "/services/Eucalyptus"

    @defer.inlineCallbacks
    def _disconnect(self):
        """
        Drop the connections clients keep alive, and let the reactor see it.
        """
        for wrapper in list(self.connections.protocols):
            wrapper.transport.abortConnection()
        for _ in range(1000):
            if not self.connections.protocols:
                return
            yield deferLater(reactor, 0, lambda: None)

    def client(self, endpoint=None, secret=None, **config):
        """
        A boto3 EC2 client signed with the administrators' key (or another
        C{secret}), without retries.
        """
        options = {"retries": {"max_attempts": 1}}
        options.update(config)
        return boto3.client(
            "ec2",
            endpoint_url=endpoint or self.ec2_url,
            region_name="eucalyptus",
            aws_access_key_id=self.key.access_key_id,
            aws_secret_access_key=secret or self.key.secret_key,
            config=Config(**options),
        )

    def environment(self, home):
        """
        The environment the aws CLI runs with: this key, no user files.
        """
        return cli_environment(self.key, home)


def admin_key(settings):
    """
    The administrators' access key in the account store of C{settings}.
    """
    accounts = AccountStore(CloudConfig.from_settings(settings).database_url)
    try:
        return accounts.keys_of(ADMIN_ACCOUNT)[0]
    finally:
        accounts.engine.dispose()


def cli_environment(key, home):
    """
    The environment the aws CLI runs with: C{key}, region C{eucalyptus}, and
    no configuration but what is in C{home}.
    """
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "AWS_ACCESS_KEY_ID": key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": key.secret_key,
        "AWS_DEFAULT_REGION": "eucalyptus",
        "AWS_CONFIG_FILE": os.path.join(home, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
    }
