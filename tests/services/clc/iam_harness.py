# -*- test-case-name: tests.services.clc.test_iam_boto3,tests.services.clc.test_iam_awscli -*-
"""
A live IAM API for tests that drive it with real clients (boto3, the aws
CLI): a data directory made by C{euca-admin init}'s
L{eucalyptus.admin.initialise}, and a site on a loopback port with the IAM
resource at C{/services/Euare} and the EC2 Query API (the real action
table) at C{/services/Eucalyptus}, sharing one
L{eucalyptus.services.walrus.identities.Identities}, as the CLC mounts
them.  Client calls block, so tests run them in threads.
"""

import http.client
import io
import os
from urllib.parse import urlencode, urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from lxml import etree
from twisted.internet import reactor
from twisted.protocols.policies import WrappingFactory
from twisted.web.resource import Resource
from twisted.web.server import Site

from eucalyptus import admin
from eucalyptus.accounts import AccountStore
from eucalyptus.config import CloudConfig, config_from_string
from eucalyptus.database import close_engine
from eucalyptus.services.base import mount
from eucalyptus.services.clc.ec2.actions import ACTIONS
from eucalyptus.services.clc.ec2.dispatch import Dispatcher, Region
from eucalyptus.services.clc.ec2.resource import Ec2QueryResource
from eucalyptus.services.clc.iam.model import NAMESPACE
from eucalyptus.services.clc.iam.resource import PATH, iam_resource
from eucalyptus.services.walrus.identities import Identities
from tests.daemons import free_ports
from tests.services.clc.ec2_harness import LiveCloudController, admin_key

__all__ = ["LiveIam", "signed_post", "text_at"]


class LiveIam:
    """
    IAM and EC2 on 127.0.0.1, with the C{eucalyptus} account's key.

    @ivar settings: the parsed configuration (C{ZONE="east"}).
    @ivar accounts: the L{AccountStore}.
    @ivar identities: the L{Identities} both APIs authenticate with.
    @ivar key: the administrators' L{eucalyptus.accounts.AccessKey}.
    @ivar iam_url: C{http://127.0.0.1:<port>/services/Euare}.
    @ivar ec2_url: C{http://127.0.0.1:<port>/services/Eucalyptus}.
    """

    def __init__(self, testcase):
        self.data = os.path.abspath(testcase.mktemp())
        os.makedirs(self.data)
        clc_port, walrus_port = free_ports(2)
        self.settings = config_from_string(
            f'LISTEN_ADDRESS="127.0.0.1"\nCLC_PORT="{clc_port}"\nWALRUS_PORT="{walrus_port}"\nZONE="east"\n',
            self.data,
        )
        admin.initialise(self.settings, out=io.StringIO())
        self.key = admin_key(self.settings)
        url = CloudConfig.from_settings(self.settings).database_url
        testcase.addCleanup(close_engine, url)
        self.accounts = AccountStore(url)
        self.identities = Identities(self.accounts)
        root = Resource()
        site = Site(root)
        site.timeOut = None
        self.connections = WrappingFactory(site)
        self.port = reactor.listenTCP(0, self.connections, interface="127.0.0.1")
        testcase.addCleanup(self._disconnect)
        testcase.addCleanup(self.port.stopListening)
        site_url = f"http://127.0.0.1:{self.port.getHost().port}"
        self.ec2_url = site_url + "/services/Eucalyptus"
        self.iam_url = f"{site_url}/{PATH}"
        region = Region("eucalyptus", self.ec2_url, ("east",))
        mount(root, "services/Eucalyptus", Ec2QueryResource(Dispatcher(ACTIONS, region), self.identities))
        mount(root, PATH, iam_resource(self.accounts, self.identities))

    # Dropping kept-alive connections is the EC2 harness's.
    _disconnect = LiveCloudController._disconnect

    def client(self, service="iam", key=None, **config):
        """
        A boto3 client of IAM (or C{"ec2"}) signed with the administrators'
        key or C{key} (an L{AccessKey} or a boto3 C{AccessKey} dict),
        without retries.
        """
        key = key or self.key
        if isinstance(key, dict):
            key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
        else:
            key_id, secret = key.access_key_id, key.secret_key
        options = {"retries": {"max_attempts": 1}}
        options.update(config)
        return boto3.client(
            service,
            endpoint_url=self.iam_url if service == "iam" else self.ec2_url,
            region_name="eucalyptus",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=Config(**options),
        )


def signed_post(url, key, params, service="iam", secret=None):
    """
    POST C{params} as a form signed with SigV4 by botocore (with C{key},
    or another C{secret}), and read the answer: for the actions boto3's
    model does not have (C{CreateAccount}) and the parameters it does not
    send (C{DelegateAccount}).  Blocking.

    @return: C{(status, document root)}.
    """
    request = AWSRequest(
        method="POST",
        url=url,
        data=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(key.access_key_id, secret or key.secret_key), service, "eucalyptus").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    try:
        connection.request("POST", parts.path, body=prepared.body, headers=dict(prepared.headers, Connection="close"))
        response = connection.getresponse()
        return response.status, etree.fromstring(response.read())
    finally:
        connection.close()


def text_at(root, path):
    """
    The text at C{path} (C{"CreateAccountResult/Account/AccountId"}) below
    an IAM document's root, each step in IAM's namespace.
    """
    return root.findtext("/".join(f"{{{NAMESPACE}}}{step}" for step in path.split("/")))
