"""
The CC's side of the VM network: instance MACs and the network operations
of each C{VNET_MODE}.
"""

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import ClientError, InvalidParameterValue
from eucalyptus.services.cc.network import SYSTEM, ClusterNetwork, UnsupportedOperation, mac_for


class MacForTests(SynchronousTestCase):
    """
    L{mac_for}.
    """

    def test_eight_digits(self):
        """
        The default prefix, then the id's eight hex digits in pairs.
        """
        self.assertEqual(mac_for("i-0123abcd"), "d0:0d:01:23:ab:cd")

    def test_long_id(self):
        """
        A 17-digit id gives its last eight digits.
        """
        self.assertEqual(mac_for("i-0123456789abcdef0"), "d0:0d:9a:bc:de:f0")

    def test_prefix(self):
        """
        A configured prefix is used, in lower case.
        """
        self.assertEqual(mac_for("i-0123abcd", "AA:BB"), "aa:bb:01:23:ab:cd")

    def test_bad_ids(self):
        """
        An id without eight to seventeen hex digits after its
        prefix cannot give a MAC.
        """
        for bad in (None, "", "i-0123abc", "i-0123abcz", "0123abcd", "i-", "i-0123456789abcdef01"):
            error = self.assertRaises(InvalidParameterValue, mac_for, bad)
            self.assertEqual(error.code, "InvalidParameterValue")
            self.assertIn(repr(bad), str(error))


class SystemModeTests(SynchronousTestCase):
    """
    In C{SYSTEM} mode the network is the data centre's.
    """

    def setUp(self):
        self.network = ClusterNetwork(SYSTEM, "172.31.0.0", "255.255.0.0", 32)

    def test_group_operations_are_no_ops(self):
        """
        Starting and stopping a group's network and configuring its rules
        succeed and do nothing.
        """
        self.assertIsNone(self.network.start_network("000000000001", "default"))
        self.assertIsNone(self.network.stop_network("000000000001", "default"))
        self.assertIsNone(self.network.configure("000000000001", []))

    def test_assign_refused(self):
        """
        Assigning or unassigning an elastic IP is refused as unsupported,
        naming both addresses.
        """
        for operation in (self.network.assign_address, self.network.unassign_address):
            error = self.assertRaises(UnsupportedOperation, operation, "192.0.2.10", "172.31.0.5")
            self.assertIsInstance(error, ClientError)
            self.assertEqual((error.code, error.http_status), ("UnsupportedOperation", 400))
            self.assertIn("192.0.2.10", str(error))
            self.assertIn("172.31.0.5", str(error))

    def test_no_public_addresses(self):
        """
        There are no public addresses.
        """
        self.assertEqual(self.network.public_addresses(), [])

    def test_describe(self):
        """
        C{DescribeNetworks} reports the mode, the private range and no
        VLANs or active networks.
        """
        self.assertEqual(
            self.network.describe(),
            dict(
                mode="SYSTEM", useVlans=0, addrsPerNet=32, addrIndexMin=0, addrIndexMax=0, vlanMin=0, vlanMax=0,
                vnetSubnet="172.31.0.0", vnetNetmask="255.255.0.0", activeNetworks=[],
            ),
        )


class ManagedModeTests(SynchronousTestCase):
    """
    In C{MANAGED-NOVLAN} mode the operations are refused until the cluster
    can carry them out.
    """

    def setUp(self):
        self.network = ClusterNetwork("MANAGED-NOVLAN", "10.20.0.0", "255.255.0.0", 16)

    def test_group_operations_refused(self):
        """
        Starting, stopping and configuring a group's network are refused,
        naming the mode.
        """
        calls = (
            (self.network.start_network, ("000000000001", "default")),
            (self.network.stop_network, ("000000000001", "default")),
            (self.network.configure, ("000000000001", [])),
        )
        for operation, args in calls:
            error = self.assertRaises(UnsupportedOperation, operation, *args)
            self.assertEqual(error.code, "UnsupportedOperation")
            self.assertIn("MANAGED-NOVLAN", str(error))

    def test_assign_refused(self):
        """
        Elastic IPs are refused here too.
        """
        self.assertRaises(UnsupportedOperation, self.network.assign_address, "192.0.2.10", "10.20.0.5")

    def test_describe(self):
        """
        C{DescribeNetworks} reports the mode and the configured range.
        """
        described = self.network.describe()
        self.assertEqual(
            (described["mode"], described["vnetSubnet"], described["vnetNetmask"], described["addrsPerNet"]),
            ("MANAGED-NOVLAN", "10.20.0.0", "255.255.0.0", 16),
        )
