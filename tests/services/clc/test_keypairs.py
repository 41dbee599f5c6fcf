# -*- test-case-name: tests.services.clc.test_keypairs -*-
"""
Tests for L{eucalyptus.services.clc.keypairs}: key material and
fingerprints checked against OpenSSH's and OpenSSL's tools, the actions
called directly on SQLite and PostgreSQL, and through boto3 against a live
Cloud Controller.
"""

import base64
import hashlib
import os
import re
import shutil
import subprocess
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from twisted.internet import defer
from twisted.trial import unittest
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc import keypairs, tags
from eucalyptus.services.clc.ec2.errors import KeyFormatInvalid, KeyPairDuplicate, KeyPairNotFound, MissingParameter
from tests.dbs import on_both_databases
from tests.services.clc.ec2_harness import error_of, in_thread
from tests.services.clc.test_tags import ED25519_PUBLIC, CloudDatabase, LiveAccounts

_TOOLS = shutil.which("ssh-keygen") and shutil.which("openssl")
_COLON_HEX = re.compile(r"([0-9a-f]{2}:){15}[0-9a-f]{2}|([0-9a-f]{2}:){19}[0-9a-f]{2}")


def _run(*command, data=None):
    """
    Run a tool and give its standard output.
    """
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout


def _digest(output):
    """
    The digest C{openssl md5 -c} or C{openssl sha1 -c} printed.
    """
    return output.decode("ascii").split("=", 1)[1].strip()


def _openssh_sha256(path):
    """
    The SHA-256 fingerprint C{ssh-keygen -l} prints, without C{SHA256:}.
    """
    return _run("ssh-keygen", "-l", "-E", "sha256", "-f", path).split()[1].decode("ascii")[len("SHA256:") :]


class KeyMaterialTests(SynchronousTestCase):
    """
    L{keypairs.generate} and L{keypairs.read_public_key} agree with
    OpenSSH and OpenSSL on keys and fingerprints.
    """

    if not _TOOLS:
        skip = "ssh-keygen and openssl are needed"

    def setUp(self):
        self.directory = self.mktemp()
        os.makedirs(self.directory)

    def path(self, name, content=None):
        path = os.path.join(self.directory, name)
        if content is not None:
            with open(path, "wb") as f:
                f.write(content)
            os.chmod(path, 0o600)
        return path

    def keygen(self, kind, *options):
        path = self.path(kind)
        _run("ssh-keygen", "-q", "-t", kind, *options, "-N", "", "-C", "me@example", "-f", path)
        with open(path + ".pub", "rb") as f:
            return path, f.read()

    def test_created_rsa(self):
        """
        A created RSA key: a PKCS#1 PEM private key of 2048 bits whose
        public key OpenSSH derives as ours, and whose fingerprint is the
        SHA-1 of its PKCS#8 DER form, as C{openssl sha1 -c} prints it.
        """
        private, public, fingerprint = keypairs.generate("rsa")
        self.assertTrue(private.startswith("-----BEGIN RSA PRIVATE KEY-----\n"))
        self.assertEqual(serialization.load_pem_private_key(private.encode(), None).key_size, 2048)
        path = self.path("created", private.encode("ascii"))
        self.assertEqual(_run("ssh-keygen", "-y", "-f", path).decode().split()[:2], public.split())
        pkcs8 = _run("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", path, "-outform", "DER")
        self.assertEqual(fingerprint, _digest(_run("openssl", "sha1", "-c", data=pkcs8)))
        self.assertRegex(fingerprint, _COLON_HEX)

    def test_created_ed25519(self):
        """
        A created ED25519 key: an OpenSSH private key whose fingerprint is
        OpenSSH's SHA-256 one, with base64's padding.
        """
        private, public, fingerprint = keypairs.generate("ed25519")
        self.assertTrue(private.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n"))
        path = self.path("created", private.encode("ascii"))
        self.assertEqual(_run("ssh-keygen", "-y", "-f", path).decode().split()[:2], public.split())
        self.assertTrue(public.startswith("ssh-ed25519 "))
        self.assertEqual(fingerprint, _openssh_sha256(path) + "=")

    def test_imported_rsa(self):
        """
        An RSA public key, as an OpenSSH line, an RFC 4716 file, a PEM
        SubjectPublicKeyInfo and base64 DER, reads the same: its OpenSSH
        text, and the MD5 of its DER SubjectPublicKeyInfo as fingerprint
        (what C{openssl md5 -c} prints).
        """
        path, line = self.keygen("rsa", "-b", "2048")
        rfc4716 = _run("ssh-keygen", "-e", "-f", path + ".pub")
        pem = _run("ssh-keygen", "-e", "-m", "PKCS8", "-f", path + ".pub")
        der = _run("openssl", "pkey", "-pubin", "-outform", "DER", data=pem)
        expected = _digest(_run("openssl", "md5", "-c", data=der))
        for material in (line, line.strip(), rfc4716, pem, base64.encodebytes(der)):
            self.assertEqual(keypairs.read_public_key(material), ("rsa", " ".join(line.decode().split()[:2]), expected))

    def test_imported_ed25519(self):
        """
        An ED25519 public key, as an OpenSSH line or an RFC 4716 file: its
        fingerprint is OpenSSH's SHA-256 one, with base64's padding.
        """
        path, line = self.keygen("ed25519")
        rfc4716 = _run("ssh-keygen", "-e", "-f", path + ".pub")
        expected = _openssh_sha256(path + ".pub") + "="
        for material in (line, rfc4716):
            self.assertEqual(
                keypairs.read_public_key(material), ("ed25519", " ".join(line.decode().split()[:2]), expected)
            )

    def test_refused(self):
        """
        Garbage, truncated keys, ECDSA keys and RSA keys under 1024 bits are
        C{InvalidKey.Format}, with a message saying what is taken.
        """
        small = rsa.RSAPublicNumbers(65537, (1 << 511) | 12345).public_key()
        ecdsa = ec.generate_private_key(ec.SECP256R1()).public_key()
        for material in (
            b"hello",
            b"",
            b"\xff\xfe\x00",
            b"ssh-rsa AAAA",
            b"ssh-rsa",
            b"---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n",
            small.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
            ecdsa.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        ):
            error = self.assertRaises(KeyFormatInvalid, keypairs.read_public_key, material)
            self.assertEqual(error.code, "InvalidKey.Format")
            self.assertTrue(re.search("ssh-keygen|OpenSSH|bits", error.message), error.message)


class NameTests(SynchronousTestCase):
    """
    L{keypairs.check_name}.
    """

    def test_names(self):
        """
        1 to 255 printable ASCII characters.
        """
        for name in ("k", "my key", "a" * 255, "x!@#$%^&*()_+-=[]{};:'\",.<>/?|~`"):
            keypairs.check_name(name)
        for name in ("", "a" * 256, "ключ", "tab\there", "new\nline"):
            self.assertRaises(InvalidParameterValue, keypairs.check_name, name)


class KeyPairsTestsMixin:
    """
    The key pair actions on a cloud database.
    """

    def setUp(self):
        self.db = CloudDatabase(self.database_url())

    def describe(self, account_id=None, **params):
        return self.db.call(keypairs.describe_key_pairs, account_id or self.db.alice, **params)["KeyPairs"]

    def test_create(self):
        """
        C{CreateKeyPair} answers the private key once; C{DescribeKeyPairs}
        shows the pair without it, and with its public key when asked;
        L{keypairs.public_key} gives the public key for instances.
        """
        created = self.db.call(keypairs.create_key_pair, self.db.alice, KeyName="mine")
        self.assertEqual(set(created), {"KeyName", "KeyPairId", "KeyFingerprint", "KeyMaterial", "Tags"})
        self.assertEqual(created["KeyName"], "mine")
        self.assertTrue(created["KeyPairId"].startswith("key-"))
        self.assertIsNone(created["Tags"])
        self.assertIn("PRIVATE KEY", created["KeyMaterial"])
        (pair,) = self.describe()
        self.assertEqual(
            {k: pair[k] for k in ("KeyName", "KeyPairId", "KeyFingerprint", "KeyType", "Tags", "PublicKey")},
            {
                "KeyName": "mine",
                "KeyPairId": created["KeyPairId"],
                "KeyFingerprint": created["KeyFingerprint"],
                "KeyType": "rsa",
                "Tags": [],
                "PublicKey": None,
            },
        )
        self.assertIsInstance(pair["CreateTime"], datetime)
        self.assertIsNotNone(pair["CreateTime"].tzinfo)
        (pair,) = self.describe(IncludePublicKey=True)
        self.assertRegex(pair["PublicKey"], r"^ssh-rsa AAAA\S+ mine$")
        with self.db.engine.begin() as conn:
            self.assertEqual(keypairs.public_key(conn, self.db.alice, "mine"), pair["PublicKey"])
            self.assertIsNone(keypairs.public_key(conn, self.db.bob, "mine"))
            self.assertIsNone(keypairs.public_key(conn, self.db.alice, "other"))

    def test_create_ed25519(self):
        """
        C{KeyType} C{ed25519} makes an ED25519 pair.
        """
        created = self.db.call(keypairs.create_key_pair, self.db.alice, KeyName="ed", KeyType="ed25519")
        self.assertIn("OPENSSH PRIVATE KEY", created["KeyMaterial"])
        self.assertEqual(self.describe()[0]["KeyType"], "ed25519")

    def test_create_refused(self):
        """
        Bad names, C{KeyFormat} C{ppk} and unknown key types are
        C{InvalidParameterValue}; nothing is stored.
        """
        for params in (
            {"KeyName": ""},
            {"KeyName": "x" * 256},
            {"KeyName": "k", "KeyFormat": "ppk"},
            {"KeyName": "k", "KeyType": "dsa"},
        ):
            self.db.fails(self, InvalidParameterValue, keypairs.create_key_pair, self.db.alice, **params)
        self.assertEqual(self.describe(), [])

    def test_import(self):
        """
        C{ImportKeyPair} stores the public key under the pair's name and
        answers its fingerprint; garbage is C{InvalidKey.Format}.
        """
        imported = self.db.call(
            keypairs.import_key_pair, self.db.alice, KeyName="laptop", PublicKeyMaterial=ED25519_PUBLIC
        )
        blob = base64.b64decode(ED25519_PUBLIC.split()[1])
        fingerprint = base64.b64encode(hashlib.sha256(blob).digest()).decode()
        self.assertEqual(imported["KeyFingerprint"], fingerprint)
        (pair,) = self.describe(IncludePublicKey=True)
        self.assertEqual(pair["PublicKey"], " ".join(ED25519_PUBLIC.decode().split()[:2]) + " laptop")
        self.assertEqual((pair["KeyType"], pair["KeyPairId"]), ("ed25519", imported["KeyPairId"]))
        self.db.fails(
            self,
            KeyFormatInvalid,
            keypairs.import_key_pair,
            self.db.alice,
            KeyName="bad",
            PublicKeyMaterial=b"nonsense",
        )

    def test_duplicate(self):
        """
        A second pair of a name is C{InvalidKeyPair.Duplicate}, made or
        imported; another account may use the same name.
        """
        first = self.db.call(keypairs.create_key_pair, self.db.alice, KeyName="k")
        error = self.db.fails(self, KeyPairDuplicate, keypairs.create_key_pair, self.db.alice, KeyName="k")
        self.assertEqual(error.message, "The keypair 'k' already exists.")
        self.db.fails(
            self,
            KeyPairDuplicate,
            keypairs.import_key_pair,
            self.db.alice,
            KeyName="k",
            PublicKeyMaterial=ED25519_PUBLIC,
        )
        self.assertEqual([pair["KeyFingerprint"] for pair in self.describe()], [first["KeyFingerprint"]])
        self.db.call(keypairs.create_key_pair, self.db.bob, KeyName="k")
        self.assertEqual(len(self.describe(self.db.bob)), 1)

    def test_delete(self):
        """
        C{DeleteKeyPair} by name or id; deleting one that does not exist
        succeeds, as in EC2; one of the two parameters is needed.
        """
        one = self.db.call(keypairs.create_key_pair, self.db.alice, KeyName="one", KeyType="ed25519")
        self.db.call(keypairs.create_key_pair, self.db.alice, KeyName="two", KeyType="ed25519")
        self.assertEqual(
            self.db.call(keypairs.delete_key_pair, self.db.alice, KeyPairId=one["KeyPairId"]),
            {"Return": True, "KeyPairId": one["KeyPairId"]},
        )
        self.assertEqual(self.db.call(keypairs.delete_key_pair, self.db.alice, KeyName="two")["Return"], True)
        self.assertEqual(self.describe(), [])
        for params in ({"KeyName": "two"}, {"KeyPairId": "key-12345678"}):
            self.assertEqual(
                self.db.call(keypairs.delete_key_pair, self.db.alice, **params), {"Return": True, "KeyPairId": None}
            )
        self.db.fails(self, MissingParameter, keypairs.delete_key_pair, self.db.alice)

    def test_describe(self):
        """
        C{KeyNames} and C{KeyPairIds} choose pairs (a missing one is
        C{InvalidKeyPair.NotFound} naming it); filters C{key-name},
        C{key-pair-id}, C{fingerprint}, C{key-type} and C{tag:} narrow the
        listing, which is sorted by name.
        """
        made = {
            name: self.db.call(
                keypairs.create_key_pair,
                self.db.alice,
                KeyName=name,
                KeyType="ed25519",
                TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "team", "Value": name[0]}]}],
            )
            for name in ("web-2", "db", "web-1")
        }
        self.assertEqual(made["db"]["Tags"], [{"Key": "team", "Value": "d"}])

        def names(**params):
            return [pair["KeyName"] for pair in self.describe(**params)]

        self.assertEqual(names(), ["db", "web-1", "web-2"])
        self.assertEqual(names(KeyNames=["web-2", "db"]), ["db", "web-2"])
        self.assertEqual(names(KeyNames=["db"], KeyPairIds=[made["web-1"]["KeyPairId"]]), ["db", "web-1"])
        self.assertEqual(names(Filters=[{"Name": "key-name", "Values": ["web-*"]}]), ["web-1", "web-2"])
        self.assertEqual(names(Filters=[{"Name": "fingerprint", "Values": [made["db"]["KeyFingerprint"]]}]), ["db"])
        self.assertEqual(names(Filters=[{"Name": "key-pair-id", "Values": [made["web-2"]["KeyPairId"]]}]), ["web-2"])
        self.assertEqual(names(Filters=[{"Name": "key-type", "Values": ["rsa"]}]), [])
        self.assertEqual(names(Filters=[{"Name": "tag:team", "Values": ["w"]}]), ["web-1", "web-2"])
        self.assertEqual(self.describe(KeyNames=["db"])[0]["Tags"], [{"Key": "team", "Value": "d"}])
        error = self.db.fails(
            self, KeyPairNotFound, keypairs.describe_key_pairs, self.db.alice, KeyNames=["db", "nope"]
        )
        self.assertEqual(error.message, "The key pair 'nope' does not exist")
        self.db.fails(self, KeyPairNotFound, keypairs.describe_key_pairs, self.db.alice, KeyPairIds=["key-12345678"])
        self.db.fails(
            self,
            InvalidParameterValue,
            keypairs.describe_key_pairs,
            self.db.alice,
            Filters=[{"Name": "owner", "Values": ["x"]}],
        )

    def test_other_accounts(self):
        """
        Bob neither sees alice's pairs, nor can delete or tag them: he is
        told exactly what he would be told if they did not exist.
        """
        pair = self.db.call(keypairs.create_key_pair, self.db.alice, KeyName="secret", KeyType="ed25519")
        self.assertEqual(self.describe(self.db.bob), [])
        mine = self.db.fails(self, KeyPairNotFound, keypairs.describe_key_pairs, self.db.bob, KeyNames=["secret"])
        self.assertEqual(mine.message, "The key pair 'secret' does not exist")
        self.db.fails(self, KeyPairNotFound, keypairs.describe_key_pairs, self.db.bob, KeyPairIds=[pair["KeyPairId"]])
        for params in ({"KeyName": "secret"}, {"KeyPairId": pair["KeyPairId"]}):
            self.assertEqual(
                self.db.call(keypairs.delete_key_pair, self.db.bob, **params), {"Return": True, "KeyPairId": None}
            )
        self.db.fails(
            self,
            KeyPairNotFound,
            tags.create_tags,
            self.db.bob,
            Resources=[pair["KeyPairId"]],
            Tags=[{"Key": "a", "Value": ""}],
        )
        self.assertEqual([p["KeyName"] for p in self.describe()], ["secret"])


KeyPairsSQLiteTests, KeyPairsPostgreSQLTests = on_both_databases(KeyPairsTestsMixin)


class KeyPairsLiveTests(unittest.TestCase):
    """
    The key pair actions through boto3 against a live Cloud Controller.
    """

    timeout = 120

    def setUp(self):
        self.accounts = LiveAccounts(self)

    @defer.inlineCallbacks
    def test_key_pairs(self):
        """
        Create, import (boto3 base64-encodes the key file), describe,
        delete, with EC2's error codes.
        """
        alice = self.accounts.alice
        created = yield in_thread(alice.create_key_pair, KeyName="made")
        self.assertTrue(created["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----"))
        self.assertRegex(created["KeyFingerprint"], _COLON_HEX)
        imported = yield in_thread(alice.import_key_pair, KeyName="laptop", PublicKeyMaterial=ED25519_PUBLIC)
        self.assertTrue(imported["KeyPairId"].startswith("key-"))
        answer = yield in_thread(alice.describe_key_pairs, IncludePublicKey=True)
        self.assertEqual([pair["KeyName"] for pair in answer["KeyPairs"]], ["laptop", "made"])
        self.assertEqual(answer["KeyPairs"][0]["PublicKey"], " ".join(ED25519_PUBLIC.decode().split()[:2]) + " laptop")
        self.assertEqual(answer["KeyPairs"][1]["KeyFingerprint"], created["KeyFingerprint"])
        self.assertNotIn("KeyMaterial", answer["KeyPairs"][1])

        error = yield in_thread(error_of, alice.create_key_pair, KeyName="made")
        self.assertEqual(error[:3], ("InvalidKeyPair.Duplicate", 400, "The keypair 'made' already exists."))
        error = yield in_thread(error_of, alice.describe_key_pairs, KeyNames=["missing"])
        self.assertEqual(error[:3], ("InvalidKeyPair.NotFound", 400, "The key pair 'missing' does not exist"))
        error = yield in_thread(error_of, alice.import_key_pair, KeyName="bad", PublicKeyMaterial=b"not a key")
        self.assertEqual(error[:2], ("InvalidKey.Format", 400))
        error = yield in_thread(error_of, alice.create_key_pair, KeyName="x" * 256)
        self.assertEqual(error[:2], ("InvalidParameterValue", 400))

        answer = yield in_thread(alice.delete_key_pair, KeyName="made")
        self.assertEqual((answer["Return"], answer["KeyPairId"]), (True, created["KeyPairId"]))
        answer = yield in_thread(alice.delete_key_pair, KeyName="made")
        self.assertTrue(answer["Return"])
        yield in_thread(alice.delete_key_pair, KeyPairId=imported["KeyPairId"])
        self.assertEqual((yield in_thread(alice.describe_key_pairs))["KeyPairs"], [])

    @defer.inlineCallbacks
    def test_other_accounts(self):
        """
        Bob cannot see, delete or tag alice's key pair, and what he is told
        is what he would be told of one that does not exist; he can have a
        pair of the same name.
        """
        alice, bob = self.accounts.alice, self.accounts.bob
        pair = yield in_thread(alice.create_key_pair, KeyName="shared-name", KeyType="ed25519")
        self.assertEqual((yield in_thread(bob.describe_key_pairs))["KeyPairs"], [])
        theirs = yield in_thread(error_of, bob.describe_key_pairs, KeyNames=["shared-name"])
        nobodys = yield in_thread(error_of, bob.describe_key_pairs, KeyNames=["no-such-name"])
        self.assertEqual(theirs[:2], nobodys[:2])
        self.assertEqual(theirs[2].replace("shared-name", "no-such-name"), nobodys[2])
        error = yield in_thread(error_of, bob.describe_key_pairs, KeyPairIds=[pair["KeyPairId"]])
        self.assertEqual(error[:2], ("InvalidKeyPair.NotFound", 400))
        yield in_thread(bob.delete_key_pair, KeyName="shared-name")
        yield in_thread(bob.delete_key_pair, KeyPairId=pair["KeyPairId"])
        error = yield in_thread(
            error_of, bob.create_tags, Resources=[pair["KeyPairId"]], Tags=[{"Key": "a", "Value": ""}]
        )
        self.assertEqual(error[:2], ("InvalidKeyPair.NotFound", 400))
        answer = yield in_thread(alice.describe_key_pairs)
        self.assertEqual([p["KeyPairId"] for p in answer["KeyPairs"]], [pair["KeyPairId"]])
        own = yield in_thread(bob.create_key_pair, KeyName="shared-name", KeyType="ed25519")
        self.assertNotEqual(own["KeyFingerprint"], pair["KeyFingerprint"])
