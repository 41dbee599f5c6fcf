"""
iSCSI exports: C{tgtadm} command lines and the reading of C{tgtadm --op
show} against a fake tgtd, then exports of real file volumes by a real
C{tgtd} on a free port, read and written by qemu's own iSCSI initiator
(C{qemu-img}, C{qemu-io}, package C{qemu-block-extra}), the way an NC's qemu
will open them.
"""

import os

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InvalidParameterValue, InvalidVolumeID, StorageError, VolumeNotFound
from eucalyptus.security.keys import create_pair
from eucalyptus.services.sc.backends.files import FileBackend
from eucalyptus.services.sc.backends.interfaces import BackingStore, GiB
from eucalyptus.services.sc.iscsi import ISCSIExports, Target, Tgtadm, parse_accounts, parse_targets
from eucalyptus.volume_connection import VolumeConnection
from tests.services.sc.contract import OTHER, VOLUME
from tests.fakes.faketgt import FakeTgtd
from tests.services.sc.harness import Tgtd, run

NODE = create_pair("nc-zone-1")
STRANGER = create_pair("nc-zone-2")
IQN = f"iqn.2009-06.com.eucalyptus.zone-1:{VOLUME}"
MiB = 1024**2

#: What tgtd 1.0.85 showed with a qemu initiator logged in.
SHOW = """\
Target 1: iqn.2009-06.com.eucalyptus.zone-1:vol-0123abcd
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 1
            Initiator: iqn.2008-11.org.linux-kvm alias: none
            Connection: 0
                IP Address: 127.0.0.1
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00010000
            SCSI SN: beaf10
            Size: 0 MB, Block size: 1
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: null
            Backing store path: None
            Backing store flags: 
        LUN: 1
            Type: disk
            SCSI ID: IET     00010001
            SCSI SN: beaf11
            Size: 67 MB, Block size: 512
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: rdwr
            Backing store path: /tmp/sc_scratch/vol.img
            Backing store flags: 
    Account information:
        vol-0123abcd
        out1 (outgoing)
    ACL information:
        127.0.0.1
        10.1.2.3
Target 3: iqn.2001-04.com.example:other
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            Backing store type: null
            Backing store path: None
            Backing store flags: 
    Account information:
    ACL information:
"""  # noqa: W291 (tgtd's trailing spaces)


class ParseTests(SynchronousTestCase):
    """
    Reading what tgtadm prints.
    """

    def test_targets(self):
        """
        Targets, their LUNs (not LUN 0), incoming accounts, ACL and
        connected initiators.
        """
        self.assertEqual(parse_targets(SHOW), [
            Target(1, IQN, {1: BackingStore("rdwr", "/tmp/sc_scratch/vol.img")}, [VOLUME],
                   ["127.0.0.1", "10.1.2.3"], ["127.0.0.1"]),
            Target(3, "iqn.2001-04.com.example:other"),
        ])  # fmt: skip

    def test_accounts(self):
        """
        The account list.
        """
        self.assertEqual(parse_accounts("Account list:\n    vol-0123abcd\n    other\n"), [VOLUME, "other"])
        self.assertEqual(parse_accounts("Account list:\n"), [])


class ExportTests(SynchronousTestCase):
    """
    Exports against L{FakeTgtd}.
    """

    def setUp(self):
        self.backend = FileBackend(os.path.abspath(self.mktemp()))
        self.backend.create(VOLUME, 1)
        self.tgtd = FakeTgtd(self)
        self.exports = self.make_exports()

    def make_exports(self, zone="zone-1"):
        return ISCSIExports(self.backend, Tgtadm(self.tgtd, 7), zone, ("10.0.0.9", 3260), NODE.certificate)

    def test_commands(self):
        """
        A first export makes a target, LUN 1 on the volume's file, a CHAP
        account bound to it, and lets the node's address in.
        """
        self.exports.export(VOLUME, "10.0.0.21")
        path = self.backend.export_path(VOLUME).path
        base = ["tgtadm", "-C", "7", "--lld", "iscsi"]
        password = self.tgtd.accounts[VOLUME]
        self.assertEqual([call[len(base):] for call in self.tgtd.calls], [
            ["--mode", "target", "--op", "show"],
            ["--mode", "target", "--op", "show"],
            ["--mode", "target", "--op", "new", "--tid", "1", "--targetname", IQN],
            ["--mode", "logicalunit", "--op", "new", "--tid", "1", "--lun", "1", "--bstype", "rdwr",
             "--backing-store", path],
            ["--mode", "account", "--op", "show"],
            ["--mode", "account", "--op", "new", "--user", VOLUME, "--password", password],
            ["--mode", "account", "--op", "bind", "--tid", "1", "--user", VOLUME],
            ["--mode", "target", "--op", "bind", "--tid", "1", "--initiator-address", "10.0.0.21"],
        ])  # fmt: skip
        self.assertTrue(all(call[: len(base)] == base for call in self.tgtd.calls))
        self.assertEqual(len(password), 16)

    def test_connection(self):
        """
        The answer names the portal, target and LUN, and carries the CHAP
        password encrypted to the node certificate.
        """
        connection = self.exports.export(VOLUME, "10.0.0.21")
        self.assertEqual((connection.protocol, connection.hosts, connection.name, connection.user),
                         ("iscsi", (("10.0.0.9", 3260),), f"{IQN}/1", VOLUME))  # fmt: skip
        self.assertEqual(connection.password(NODE.key), self.tgtd.accounts[VOLUME])
        self.assertNotIn(self.tgtd.accounts[VOLUME], str(connection))
        self.assertEqual(VolumeConnection.parse(str(connection)), connection)

    def test_again(self):
        """
        Exporting again to the same node changes nothing and answers the
        same target and password.
        """
        first = self.exports.export(VOLUME, "10.0.0.21")
        calls = len(self.tgtd.calls)
        second = self.exports.export(VOLUME, "10.0.0.21")
        self.assertEqual((second.name, second.password(NODE.key)), (first.name, first.password(NODE.key)))
        self.assertEqual([call[5:8] for call in self.tgtd.calls[calls:]], [["--mode", "target", "--op"]])
        self.assertEqual(list(self.tgtd.targets), [1])

    def test_two_nodes(self):
        """
        A second node is added to the same target's ACL; unexporting from
        one leaves the other, from the last removes the target and account.
        """
        self.exports.export(VOLUME, "10.0.0.21")
        self.exports.export(VOLUME, "10.0.0.22")
        self.assertEqual(self.tgtd.targets[1]["acl"], ["10.0.0.21", "10.0.0.22"])
        self.assertEqual(self.exports.exported(), {VOLUME: ["10.0.0.21", "10.0.0.22"]})
        self.exports.unexport(VOLUME, "10.0.0.21")
        self.assertEqual(self.tgtd.targets[1]["acl"], ["10.0.0.22"])
        self.exports.unexport(VOLUME, "10.0.0.22")
        self.assertEqual((self.tgtd.targets, self.tgtd.accounts), ({}, {}))

    def test_unexport_all(self):
        """
        Unexporting without a node removes the export whoever has it;
        unexporting what is not exported does nothing.
        """
        self.exports.export(VOLUME, "10.0.0.21")
        self.exports.export(VOLUME, "10.0.0.22")
        self.exports.unexport(VOLUME)
        self.assertEqual((self.tgtd.targets, self.tgtd.accounts), ({}, {}))
        self.exports.unexport(VOLUME)
        self.exports.unexport(VOLUME, "10.0.0.21")

    def test_rollback(self):
        """
        When a step fails, what was made before it is removed and the error
        names the tgtadm command.
        """
        self.tgtd.fail[("account", "bind")] = "can't find the target"
        error = self.assertRaises(StorageError, self.exports.export, VOLUME, "10.0.0.21")
        self.assertIn("--op bind", error.message)
        self.assertIn("can't find the target", error.message)
        self.assertEqual((self.tgtd.targets, self.tgtd.accounts), ({}, {}))
        del self.tgtd.fail[("account", "bind")]
        self.exports.export(VOLUME, "10.0.0.21")

    def test_restarted(self):
        """
        An SC that restarted (tgtd kept the target) reuses the target and
        gives the account a new password, as it cannot read the old one.
        """
        first = self.exports.export(VOLUME, "10.0.0.21")
        restarted = self.make_exports()
        second = restarted.export(VOLUME, "10.0.0.21")
        self.assertEqual((list(self.tgtd.targets), second.name), ([1], first.name))
        self.assertNotEqual(second.password(NODE.key), first.password(NODE.key))
        self.assertEqual(second.password(NODE.key), self.tgtd.accounts[VOLUME])
        self.assertEqual(self.tgtd.targets[1]["accounts"], [VOLUME])

    def test_stale_target(self):
        """
        A target of the volume's name serving something else is made again.
        """
        self.tgtd.targets[1] = {"name": IQN, "luns": {1: ("rdwr", "/elsewhere")}, "accounts": [], "acl": []}
        self.exports.export(VOLUME, "10.0.0.21")
        (target,) = self.tgtd.targets.values()
        self.assertEqual(target["luns"][1], tuple(self.backend.export_path(VOLUME)))

    def test_others_targets(self):
        """
        Targets that are not this SC's keep their ids and are not listed.
        """
        self.tgtd.targets[1] = {"name": "iqn.2001-04.com.example:x", "luns": {}, "accounts": [], "acl": []}
        self.tgtd.targets[4] = {"name": "iqn.2009-06.com.eucalyptus.zone-2:vol-11111111", "luns": {},
                                "accounts": [], "acl": []}  # fmt: skip
        self.exports.export(VOLUME, "10.0.0.21")
        self.assertEqual(self.tgtd.targets[5]["name"], IQN)
        self.assertEqual(self.exports.exported(), {VOLUME: ["10.0.0.21"]})
        self.exports.unexport(VOLUME)
        self.assertEqual(sorted(self.tgtd.targets), [1, 4])

    def test_zone_in_name(self):
        """
        The zone is part of the target name, in IQN characters.
        """
        self.assertEqual(self.make_exports("Zone_A").target_name("vol-ABCDEF01"),
                         "iqn.2009-06.com.eucalyptus.zone-a:vol-abcdef01")  # fmt: skip

    def test_bad_input(self):
        """
        A malformed volume id or node address, or a volume that does not
        exist, is refused before tgtd is asked anything.
        """
        self.assertRaises(InvalidVolumeID, self.exports.export, "vol-../x", "10.0.0.21")
        self.assertRaises(InvalidParameterValue, self.exports.export, VOLUME, "10.0.0.21 --op delete")
        self.assertRaises(VolumeNotFound, self.exports.export, OTHER, "10.0.0.21")
        self.assertEqual(self.tgtd.calls, [])

    def test_no_daemon(self):
        """
        When no tgtd answers, the error says how to start one.
        """

        def down(argv, stdin=None, timeout=None):
            return b"", b"tgtadm: failed to send request hdr to tgt daemon, Transport endpoint is not connected\n", 107

        error = self.assertRaises(StorageError, Tgtadm(down, 7).targets)
        self.assertIn("No tgtd answers on control port 7 (start it: make iscsi-target)", error.message)


def _url(connection, password, user=None):
    (host, port), = connection.hosts
    return f"iscsi://{user or connection.user}%{password}@{host}:{port}/{connection.name}"


class RealTgtdTests(SynchronousTestCase):
    """
    File volumes exported by a real tgtd of the test's own, opened by
    qemu's iSCSI initiator from 127.0.0.1.
    """

    def setUp(self):
        self.tgtd = Tgtd(self)
        self.backend = FileBackend(os.path.abspath(self.mktemp()))
        self.backend.create(VOLUME, 1)
        self.exports = ISCSIExports(self.backend, self.tgtd.tgtadm, "zone-1", ("127.0.0.1", self.tgtd.port),
                                    NODE.certificate)  # fmt: skip

    def qemu(self, *argv):
        return run(list(argv), timeout=120)

    def test_read_write(self):
        """
        A node holding the node key logs in with the decrypted password and
        reads and writes the volume's file.
        """
        connection = self.exports.export(VOLUME, "127.0.0.1")
        url = _url(connection, connection.password(NODE.key))
        code, out, err = self.qemu("qemu-img", "info", "--output=json", url)
        self.assertEqual(code, 0, err)
        self.assertIn(f'"virtual-size": {GiB}', out)
        code, out, err = self.qemu("qemu-io", "-f", "raw", "-c", f"write -P 0xa5 {MiB} 65536", url)
        self.assertEqual(code, 0, err + out)
        path = self.backend.export_path(VOLUME).path
        with open(path, "rb") as f:
            f.seek(MiB)
            self.assertEqual(f.read(65537), b"\xa5" * 65536 + b"\0")
        with open(path, "r+b") as f:
            f.seek(2 * MiB)
            f.write(b"\x5c" * 4096)
        code, out, err = self.qemu("qemu-io", "-f", "raw", "-c", f"read -P 0x5c {2 * MiB} 4096", url)
        self.assertEqual(code, 0, err + out)

    def test_wrong_password(self):
        """
        A wrong CHAP password, or another key's idea of it, is refused.
        """
        connection = self.exports.export(VOLUME, "127.0.0.1")
        code, out, err = self.qemu("qemu-img", "info", _url(connection, "not-the-password"))
        self.assertNotEqual(code, 0)
        self.assertIn("Authentication failure", err)
        self.assertRaises(Exception, connection.password, STRANGER.key)

    def test_other_node(self):
        """
        A volume exported to another node's address refuses this one, even
        with the right password; exported to this one too, it admits it.
        """
        connection = self.exports.export(VOLUME, "127.0.0.2")
        url = _url(connection, connection.password(NODE.key))
        code, out, err = self.qemu("qemu-img", "info", url)
        self.assertNotEqual(code, 0)
        self.assertIn("Failed to log in to target", err)
        self.exports.export(VOLUME, "127.0.0.1")
        code, out, err = self.qemu("qemu-img", "info", url)
        self.assertEqual(code, 0, err)

    def test_unexport(self):
        """
        After unexport the target, its account and ACL are gone and the
        node cannot log in.
        """
        connection = self.exports.export(VOLUME, "127.0.0.1")
        self.exports.unexport(VOLUME, "127.0.0.1")
        self.assertEqual((self.tgtd.tgtadm.targets(), self.tgtd.tgtadm.accounts()), ([], []))
        code, out, err = self.qemu("qemu-img", "info", _url(connection, connection.password(NODE.key)))
        self.assertNotEqual(code, 0)

    def test_restarted(self):
        """
        After an SC restart the same target is answered with a new password
        that works, and the old one no longer does.
        """
        first = self.exports.export(VOLUME, "127.0.0.1")
        self.assertEqual(self.exports.export(VOLUME, "127.0.0.1").password(NODE.key), first.password(NODE.key))
        restarted = ISCSIExports(self.backend, Tgtadm(control_port=self.tgtd.control_port), "zone-1",
                                 ("127.0.0.1", self.tgtd.port), NODE.certificate)  # fmt: skip
        self.assertEqual(restarted.exported(), {VOLUME: ["127.0.0.1"]})
        second = restarted.export(VOLUME, "127.0.0.1")
        self.assertEqual(second.name, first.name)
        self.assertEqual(len(self.tgtd.tgtadm.targets()), 1)
        code, out, err = self.qemu("qemu-img", "info", _url(second, second.password(NODE.key)))
        self.assertEqual(code, 0, err)
        code, out, err = self.qemu("qemu-img", "info", _url(first, first.password(NODE.key)))
        self.assertIn("Authentication failure", err)

    def test_fake_reads_the_same(self):
        """
        L{FakeTgtd} shows what the real tgtd shows, as L{parse_targets}
        and L{parse_accounts} read it.
        """
        self.backend.create(OTHER, 1)
        fake = FakeTgtd(self)
        fake_exports = ISCSIExports(self.backend, Tgtadm(fake), "zone-1", ("127.0.0.1", 1), NODE.certificate)
        for exports in (self.exports, fake_exports):
            exports.export(VOLUME, "127.0.0.1")
            exports.export(VOLUME, "127.0.0.3")
            exports.export(OTHER, "127.0.0.4")
            exports.unexport(VOLUME, "127.0.0.1")
        self.assertEqual(self.tgtd.tgtadm.targets(), Tgtadm(fake).targets())
        self.assertEqual(self.tgtd.tgtadm.accounts(), Tgtadm(fake).accounts())
