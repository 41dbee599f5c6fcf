"""
Tests for L{eucalyptus.volume_connection}.
"""

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import FailedCheck, InvalidParameterValue
from eucalyptus.security.keys import create_pair
from eucalyptus.volume_connection import VolumeConnection, decrypt_secret, encrypt_secret

NODE = create_pair("nc-zone-1")
OTHER = create_pair("nc-zone-2")
IQN = "iqn.2009-06.com.eucalyptus.zone-1:vol-0123abcd"


class SecretTests(SynchronousTestCase):
    """
    Secrets only the node can read.
    """

    def test_round_trip(self):
        """
        What is encrypted to the node certificate decrypts with its key, and
        differs each time.
        """
        first, second = encrypt_secret(NODE.certificate, "s3cret"), encrypt_secret(NODE.certificate, "s3cret")
        self.assertNotEqual(first, second)
        self.assertEqual(decrypt_secret(NODE.key, first), "s3cret")

    def test_other_key(self):
        """
        Another key cannot read it, nor can anyone read garbage.
        """
        token = encrypt_secret(NODE.certificate, "s3cret")
        self.assertRaises(FailedCheck, decrypt_secret, OTHER.key, token)
        self.assertRaises(FailedCheck, decrypt_secret, NODE.key, "bm90IGEgc2VjcmV0")


class ConnectionTests(SynchronousTestCase):
    """
    The connection string.
    """

    def connection(self, hosts=(("10.0.0.9", 3260),)):
        return VolumeConnection("iscsi", hosts, f"{IQN}/1", "vol-0123abcd", encrypt_secret(NODE.certificate, "pw"))

    def test_format(self):
        """
        An iSCSI connection is a URI of the portal, target and LUN.
        """
        text = str(self.connection())
        self.assertTrue(text.startswith(f"iscsi://10.0.0.9:3260/{IQN}/1?user=vol-0123abcd&secret="), text)
        self.assertTrue(text.endswith("&cipher=rsa-oaep-sha256"), text)

    def test_parse(self):
        """
        It reads back as it was written, IPv6 and several hosts included.
        """
        for hosts in ((("10.0.0.9", 3260),), (("fd00::9", 3260), ("mon2", 6789))):
            connection = self.connection(hosts)
            parsed = VolumeConnection.parse(str(connection))
            self.assertEqual(parsed, connection)
            self.assertEqual((parsed.target, parsed.lun, parsed.password(NODE.key)), (IQN, 1, "pw"))

    def test_bad(self):
        """
        Anything else is refused with a message.
        """
        good = str(self.connection())
        for bad in ("/dev/sdb", "sc://vol-1,token", good.replace("iscsi://", "nbd://"),
                    good.replace("rsa-oaep-sha256", "rsa-pkcs1"), good.replace("user=vol-0123abcd&", ""),
                    good.replace("10.0.0.9:3260", "10.0.0.9"), f"iscsi://h:1/{IQN}?user=u&secret=s&cipher=rsa-oaep-sha256"):  # fmt: skip
            self.assertRaises(InvalidParameterValue, VolumeConnection.parse, bad)
