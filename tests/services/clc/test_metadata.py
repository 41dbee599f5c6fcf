"""
The instance metadata service on a live CLC: the instance is found by the
address the request comes from (here 127.0.0.1), and answers EC2's paths.
"""

import base64
from datetime import datetime, timezone
from urllib.error import HTTPError
from urllib.request import urlopen

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.internet import defer
from twisted.trial.unittest import TestCase

from eucalyptus.services.clc import instances as store
from eucalyptus.services.clc.metadata import VERSIONS
from tests.services.clc.ec2_harness import LiveCloudController, in_thread

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


def fetch(url):
    """
    GET C{url}: C{(status, body)}.
    """
    try:
        with urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except HTTPError as e:
        return e.code, e.read()


class MetadataTests(TestCase):
    """
    One running instance at 127.0.0.1 with a key pair, a group and user
    data.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.live = LiveCloudController(self)
        public = ed25519.Ed25519PrivateKey.generate().public_key()
        self.openssh = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        client = self.live.client()
        yield in_thread(client.import_key_pair, KeyName="mine", PublicKeyMaterial=self.openssh)
        with self.live.service.cloud.db.begin() as conn:
            conn.execute(store.reservations.insert().values(
                reservation_id="r-0000abcd", account_id=self.live.key.account_id, requester="AIDA", created=NOW,
            ))
            conn.execute(store.instances.insert().values(
                instance_id="i-0000abcd", reservation_id="r-0000abcd", account_id=self.live.key.account_id,
                image_id="emi-00000001", kernel_id="eki-00000002", instance_type="m1.small", key_name="mine",
                zone="east", launch_index=0, state=store.RUNNING, reason="", mac="d0:0d:00:00:ab:cd",
                private_ip="127.0.0.1", public_ip="192.0.2.10",
                user_data=base64.b64encode(b"#!/bin/sh\necho hello\n").decode(), launched=NOW, changed=NOW,
            ))
            conn.execute(store.instance_groups.insert().values(
                instance_id="i-0000abcd", group_id="sg-00000001", group_name="web",
            ))

    def get(self, path):
        return in_thread(fetch, self.live.url + path)

    @defer.inlineCallbacks
    def test_keys(self):
        """
        The meta-data keys give the instance's facts, under latest and a
        dated version.
        """
        expected = {
            "instance-id": b"i-0000abcd", "ami-id": b"emi-00000001", "kernel-id": b"eki-00000002",
            "instance-type": b"m1.small", "local-ipv4": b"127.0.0.1", "public-ipv4": b"192.0.2.10",
            "placement/availability-zone": b"east", "reservation-id": b"r-0000abcd", "security-groups": b"web",
            "ami-launch-index": b"0", "mac": b"d0:0d:00:00:ab:cd",
        }
        for version in ("latest", "2009-04-04"):
            for key, value in expected.items():
                self.assertEqual((yield self.get(f"/{version}/meta-data/{key}")), (200, value), key)

    @defer.inlineCallbacks
    def test_listings(self):
        """
        Directories list their entries, sub-directories with a slash.
        """
        status, body = yield self.get("/latest/meta-data/")
        names = body.decode().splitlines()
        self.assertEqual(status, 200)
        for name in ("instance-id", "placement/", "public-keys/", "network/"):
            self.assertIn(name, names)
        self.assertEqual((yield self.get("/latest/")), (200, b"dynamic\nmeta-data/\nuser-data"))
        self.assertEqual((yield self.get("/latest/meta-data/public-keys/")), (200, b"0=mine"))
        self.assertEqual((yield self.get("/latest/meta-data/placement")), (200, b"availability-zone"))

    @defer.inlineCallbacks
    def test_public_key_and_user_data(self):
        """
        The key pair's public key (named after the key pair, as EC2 does)
        and the user data, decoded.
        """
        status, body = yield self.get("/latest/meta-data/public-keys/0/openssh-key")
        self.assertEqual((status, body.split()[:2]), (200, self.openssh.split()[:2]))
        self.assertEqual((yield self.get("/latest/user-data")), (200, b"#!/bin/sh\necho hello\n"))

    @defer.inlineCallbacks
    def test_unknown(self):
        """
        Unknown keys are 404; so is everything for an address no live
        instance has.
        """
        self.assertEqual((yield self.get("/latest/meta-data/nothing-here"))[0], 404)
        with self.live.service.cloud.db.begin() as conn:
            store.set_state(conn, ["i-0000abcd"], store.TERMINATED, "", NOW)
        self.assertEqual((yield self.get("/latest/meta-data/instance-id"))[0], 404)

    def test_versions(self):
        """
        EC2's versions are all answered.
        """
        self.assertIn("1.0", VERSIONS)
        self.assertIn("latest", VERSIONS)
