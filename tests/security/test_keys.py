# -*- test-case-name: tests.security.test_keys -*-
"""
Tests for L{eucalyptus.security.keys} and L{eucalyptus.security.trust}.
"""

import os
import stat

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.security import keys, trust

PAIR = keys.create_pair("cc-zone-1")


class CreatePairTests(SynchronousTestCase):
    """
    L{keys.create_pair} makes the original kind of key pair.
    """

    def test_shape(self):
        """
        RSA 2048, SHA-512, five years, subject CN/OU/O/C as the original.
        """
        cert = PAIR.certificate
        self.assertEqual(PAIR.key.key_size, 2048)
        self.assertIsInstance(cert.signature_hash_algorithm, hashes.SHA512)
        self.assertEqual(cert.subject.rfc4514_string(), "C=US,O=Cloud,OU=Eucalyptus,CN=cc-zone-1")
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        self.assertGreaterEqual(lifetime.days, 5 * 365)

    def test_issued(self):
        """
        A certificate issued by another pair carries its issuer and verifies
        with its key.
        """
        user = keys.create_pair("admin@eucalyptus", issuer=PAIR)
        self.assertEqual(user.certificate.issuer, PAIR.certificate.subject)
        PAIR.certificate.public_key().verify(
            user.certificate.signature,
            user.certificate.tbs_certificate_bytes,
            padding.PKCS1v15(),
            user.certificate.signature_hash_algorithm,
        )


class WriteTests(SynchronousTestCase):
    """
    Keys are written once, private keys with mode 0600.
    """

    def test_modes(self):
        """
        Private keys are 0600, certificates 0644.
        """
        directory = self.mktemp()
        keys.write_private_key(os.path.join(directory, "k.pem"), PAIR.key)
        keys.write_certificate(os.path.join(directory, "c.pem"), PAIR.certificate)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(directory, "k.pem")).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(directory, "c.pem")).st_mode), 0o644)

    def test_never_overwrites(self):
        """
        Writing over an existing key fails and leaves it as it was.
        """
        path = os.path.join(self.mktemp(), "k.pem")
        keys.write_private_key(path, PAIR.key)
        with open(path, "rb") as f:
            before = f.read()
        other = keys.create_pair("other")
        self.assertRaises(FileExistsError, keys.write_private_key, path, other.key)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), before)


class KeyStoreTests(SynchronousTestCase):
    """
    L{keys.KeyStore} finds the original file names.
    """

    def test_paths(self):
        """
        Cloud keys are at the top, cluster and node keys in the zone's folder.
        """
        store = keys.KeyStore("/k")
        self.assertEqual(store.cert_path("cloud"), "/k/cloud-cert.pem")
        self.assertEqual(store.key_path("cloud"), "/k/cloud-pk.pem")
        self.assertEqual(store.cert_path("cluster", "z"), "/k/z/cluster-cert.pem")
        self.assertEqual(store.key_path("node", "z"), "/k/z/node-pk.pem")
        self.assertRaises(ValueError, store.cert_path, "node")
        self.assertRaises(ValueError, store.cert_path, "walrus")

    def test_round_trip(self):
        """
        What is written is read back as the same credential.
        """
        store = keys.KeyStore(self.mktemp())
        keys.write_private_key(store.key_path("node", "z"), PAIR.key)
        keys.write_certificate(store.cert_path("node", "z"), PAIR.certificate)
        credential = store.credential("node", "z")
        self.assertEqual(credential.cert_der, PAIR.cert_der)
        self.assertEqual(credential.key.private_numbers(), PAIR.key.private_numbers())


class TrustTests(SynchronousTestCase):
    """
    L{trust} says who signs with which key and who pins what.
    """

    def test_links(self):
        """
        The CC pins the cloud cert, the NC the cluster cert, the SC the cloud
        and node certs; the CC's replies are signed with the cluster key.
        """
        self.assertEqual(trust.PINS["cc"], ("cloud",))
        self.assertEqual(trust.PINS["nc"], ("cluster",))
        self.assertEqual(set(trust.PINS["sc"]), {"cloud", "node"})
        self.assertEqual(trust.SIGNS_WITH["cc"], "cluster")
        self.assertEqual(trust.SIGNS_WITH["nc"], "node")

    def test_every_caller_is_pinned(self):
        """
        Every link's caller signs with a key its callee pins: CLC to CC and
        SC, CC to NC, NC to SC.
        """
        for caller, callee in (("clc", "cc"), ("clc", "sc"), ("cc", "nc"), ("nc", "sc"), ("clc", "walrus")):
            self.assertIn(trust.SIGNS_WITH[caller], trust.PINS[callee], f"{caller} -> {callee}")
