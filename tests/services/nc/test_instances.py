"""
Instance records: the state mapping and the saved record.
"""

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.instances import EXTANT, PENDING, TEARDOWN


class StateTests(SynchronousTestCase):
    """
    Internal states as the CC hears them.
    """

    def test_mapping(self):
        """
        Staging and canceled are Pending; booting, running, blocked and
        paused are Extant; teardown is Teardown.
        """
        for state in (records.STAGING, records.CANCELED):
            self.assertEqual(records.reported_state(state, EXTANT), PENDING)
        for state in (records.BOOTING, records.RUNNING, records.BLOCKED, records.PAUSED):
            self.assertEqual(records.reported_state(state, PENDING), EXTANT)
        self.assertEqual(records.reported_state(TEARDOWN, EXTANT), TEARDOWN)

    def test_shutoff_keeps_extant(self):
        """
        Shut-off, shutdown and crashed stay Extant once Extant, else Pending.
        """
        for state in (records.SHUTOFF, records.SHUTDOWN, records.CRASHED):
            self.assertEqual(records.reported_state(state, EXTANT), EXTANT)
            self.assertEqual(records.reported_state(state, PENDING), PENDING)

    def test_enter(self):
        """
        Entering a state updates the reported state and the time.
        """
        instance = records.Instance("i-12345678", "alice")
        instance.enter(records.BOOTING, 10.0)
        instance.enter(records.SHUTOFF, 20.0)
        self.assertEqual((instance.state, instance.reported, instance.state_time), (records.SHUTOFF, EXTANT, 20.0))

    def test_libvirt_states(self):
        """
        Every libvirt domain state has an internal state.
        """
        from eucalyptus.hypervisor.interfaces import DOMAIN_STATES

        for name in DOMAIN_STATES:
            self.assertIn(records.from_libvirt(name), records.__dict__.values())
        self.assertEqual(records.from_libvirt("shutoff"), records.SHUTOFF)

    def test_instance_ids(self):
        """
        Instance ids are C{i-} with 8 or 17 hex digits.
        """
        self.assertTrue(records.valid_instance_id("i-0123abcd"))
        self.assertTrue(records.valid_instance_id("i-0123456789abcdef0"))
        for bad in ("", "i-", "i-xyz12345", "vol-12345678", "i-0123abcd/../x"):
            self.assertFalse(records.valid_instance_id(bad), bad)


class RecordTests(SynchronousTestCase):
    """
    The record on disk.
    """

    def test_round_trip(self):
        """
        A saved record loads back equal, nested types included.
        """
        directory = self.mktemp()
        import os

        os.makedirs(directory)
        instance = records.Instance(
            "i-12345678", "alice", vm=records.VmType("m1.small", 256, 1, 5, [records.BootRecord("machine", "http://x")]),
            net=records.NetConfig(mac="d0:0d:12:34:56:78"),
            volumes=[records.Volume("vol-1", "/dev/x", "/dev/sdf", "vdf")],
            images={"kernel": {"id": "eki-1", "url": "http://k", "key": "k1"}},
        )
        records.save(instance, directory)
        self.assertEqual(records.load(directory), instance)
        self.assertEqual(os.listdir(directory), [records.RECORD])

    def test_unreadable(self):
        """
        A missing or broken record is a ValueError naming the file.
        """
        directory = self.mktemp()
        error = self.assertRaises(ValueError, records.load, directory)
        self.assertIn(records.RECORD, str(error))
