# -*- test-case-name: tests.services.clc.test_iam_credentials -*-
"""
Tests for L{eucalyptus.credentials}: a user's credentials bundle, sourced
by a real shell and used by boto3 against a live EC2 and IAM site.
"""

import os
import stat
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from twisted.internet import defer
from twisted.trial import unittest

from eucalyptus import credentials
from eucalyptus.accounts import LimitExceeded, NoSuchEntity, certificates
from eucalyptus.config import config_from_string
from eucalyptus.errors import ClientError
from eucalyptus.security.keys import KeyStore
from tests.services.clc.ec2_harness import in_thread
from tests.services.clc.iam_harness import LiveIam

_VARIABLES = (
    "EC2_URL",
    "S3_URL",
    "EUARE_URL",
    "AWS_IAM_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "EC2_ACCESS_KEY",
    "EC2_SECRET_KEY",
    "EC2_CERT",
    "EC2_PRIVATE_KEY",
    "EUCALYPTUS_CERT",
    "EC2_USER_ID",
    "AWS_CREDENTIAL_FILE",
    "AWS_DEFAULT_REGION",
)


def sourced(eucarc):
    """
    The variables a shell has after sourcing C{eucarc} from elsewhere.
    """
    script = f'. "{eucarc}"; ' + "; ".join(f'printf "%s\\n" "${name}"' for name in _VARIABLES)
    out = subprocess.run(["bash", "-c", script], cwd="/", check=True, capture_output=True, text=True).stdout
    return dict(zip(_VARIABLES, out.splitlines()))


class EndpointsTests(unittest.SynchronousTestCase):
    """
    L{credentials.endpoints} from the configuration.
    """

    def test_endpoints(self):
        """
        EC2 and IAM at the CLC, S3 at Walrus.
        """
        settings = config_from_string(
            'CLC_HOST="clc.example"\nCLC_PORT="8773"\nWALRUS_HOST="s3.example"\nWALRUS_PORT="8780"\n',
            os.path.abspath(self.mktemp()),
        )
        self.assertEqual(
            credentials.endpoints(settings),
            credentials.Endpoints(
                "http://clc.example:8773/services/Eucalyptus",
                "http://s3.example:8780/services/Walrus",
                "http://clc.example:8773/services/Euare",
            ),
        )


class BundleTests(unittest.TestCase):
    """
    L{credentials.user_credentials} for a user made through IAM.
    """

    timeout = 120

    @defer.inlineCallbacks
    def setUp(self):
        self.live = LiveIam(self)
        self.cloud = KeyStore(os.path.join(self.live.data, "keys")).credential("cloud")
        self.urls = credentials.Endpoints(self.live.ec2_url, "http://127.0.0.1:1/services/Walrus", self.live.iam_url)
        self.iam = self.live.client()
        yield in_thread(self.iam.create_user, UserName="dave")

    def bundle(self, user="dave", account="eucalyptus", directory=None):
        directory = directory or os.path.abspath(self.mktemp())
        return in_thread(
            credentials.user_credentials, self.live.accounts, self.cloud, account, user, directory, self.urls
        )

    @defer.inlineCallbacks
    def test_bundle_works(self):
        """
        The user had no key: the bundle makes one; its eucarc, sourced,
        sets every variable, and boto3 with them signs EC2 and IAM requests
        as the user; the key and certificate files are the user's, the
        private key readable by the owner alone.
        """
        eucarc = yield self.bundle()
        env = sourced(eucarc)
        directory = os.path.dirname(eucarc)
        self.assertEqual(
            (env["EC2_URL"], env["EUARE_URL"], env["AWS_IAM_URL"]),
            (self.live.ec2_url, self.live.iam_url, self.live.iam_url),
        )
        self.assertEqual(env["EC2_USER_ID"], self.live.key.account_id)
        self.assertEqual(
            (env["EC2_ACCESS_KEY"], env["EC2_SECRET_KEY"]), (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
        )
        files = ("dave-cert.pem", "dave-pk.pem", "cloud-cert.pem", "iamrc")
        self.assertEqual(
            (env["EC2_CERT"], env["EC2_PRIVATE_KEY"], env["EUCALYPTUS_CERT"], env["AWS_CREDENTIAL_FILE"]),
            tuple(os.path.join(os.path.realpath(directory), name) for name in files),
        )
        self.assertEqual(stat.S_IMODE(os.stat(env["EC2_PRIVATE_KEY"]).st_mode), 0o600)
        with open(env["AWS_CREDENTIAL_FILE"]) as f:
            self.assertEqual(
                f.read(), f"AWSAccessKeyId={env['AWS_ACCESS_KEY_ID']}\nAWSSecretKey={env['AWS_SECRET_ACCESS_KEY']}\n"
            )
        key = {"AccessKeyId": env["AWS_ACCESS_KEY_ID"], "SecretAccessKey": env["AWS_SECRET_ACCESS_KEY"]}
        regions = yield in_thread(self.live.client("ec2", key=key).describe_regions)
        self.assertEqual(regions["Regions"][0]["Endpoint"], env["EC2_URL"])
        me = (yield in_thread(self.live.client(key=key).get_user))["User"]
        self.assertEqual(me["UserName"], "dave")

    @defer.inlineCallbacks
    def test_certificate(self):
        """
        The user's certificate is issued by the cloud, names the user and
        account, matches the private key, and is recorded for the user.
        """
        eucarc = yield self.bundle()
        directory = os.path.dirname(eucarc)
        with open(os.path.join(directory, "dave-cert.pem"), "rb") as f:
            pem = f.read()
        certificate = x509.load_pem_x509_certificate(pem)
        certificate.verify_directly_issued_by(self.cloud.certificate)
        with open(os.path.join(directory, "cloud-cert.pem"), "rb") as f:
            self.assertEqual(x509.load_pem_x509_certificate(f.read()), self.cloud.certificate)
        self.assertEqual(
            certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value, "dave@eucalyptus"
        )
        with open(os.path.join(directory, "dave-pk.pem"), "rb") as f:
            private = serialization.load_pem_private_key(f.read(), password=None)
        self.assertEqual(private.public_key().public_numbers(), certificate.public_key().public_numbers())
        user = yield in_thread(self.live.accounts.user, self.live.key.account_id, "dave")
        query = select(certificates.c.pem).where(certificates.c.user_id == user.user_id)
        with self.live.accounts.engine.connect() as db:
            recorded = db.execute(query).scalars().all()
        self.assertEqual(recorded, [pem.decode()])

    @defer.inlineCallbacks
    def test_again(self):
        """
        A second bundle keeps the user's active key and makes a new
        certificate; a directory that holds credentials is refused.
        """
        first = sourced((yield self.bundle()))
        directory = os.path.abspath(self.mktemp())
        second = sourced((yield self.bundle(directory=directory)))
        self.assertEqual(first["AWS_ACCESS_KEY_ID"], second["AWS_ACCESS_KEY_ID"])
        with open(first["EC2_CERT"]) as one, open(second["EC2_CERT"]) as two:
            self.assertNotEqual(one.read(), two.read())
        yield self.assertFailure(self.bundle(directory=directory), ClientError)

    @defer.inlineCallbacks
    def test_refused(self):
        """
        No such user or account is C{NoSuchEntity}; a user with only
        inactive keys, as many as it may have, is C{LimitExceeded}.
        """
        yield self.assertFailure(self.bundle(user="nobody"), NoSuchEntity)
        yield self.assertFailure(self.bundle(account="nowhere"), NoSuchEntity)
        for _ in range(2):
            key = (yield in_thread(self.iam.create_access_key, UserName="dave"))["AccessKey"]
            yield in_thread(
                self.iam.update_access_key, UserName="dave", AccessKeyId=key["AccessKeyId"], Status="Inactive"
            )
        yield self.assertFailure(self.bundle(), LimitExceeded)
