"""
The LVM backend: its command lines and its reading of LVM's answers against
a fake runner, the same command lines against the real LVM tools on a
volume group over a loop device, and the whole backend contract on a real
volume group where the kernel has device-mapper.
"""

import os
import secrets
import subprocess

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import (
    InsufficientVolumeCapacity,
    StorageError,
    StorageTimeout,
    VolumeAlreadyExists,
    VolumeNotFound,
)
from eucalyptus.services.sc.backends.interfaces import GiB, VolumeInfo
from eucalyptus.services.sc.backends.lvm import LvmBackend
from tests.services.sc.contract import SNAPSHOT, VOLUME, VolumeBackendContractTestsMixin
from tests.fakes.fakelvm import FakeLvm
from tests.services.sc.harness import loop_device, lvm_metadata_only, run


def _device_mapper():
    """
    Why LVs cannot be activated here, or C{None} when they can.
    """
    with open("/proc/misc") as f:
        if any(line.split()[-1:] == ["device-mapper"] for line in f):
            return None
    release = os.uname().release
    modules = f"/lib/modules/{release}"
    loadable = "dm_mod may be loadable (modprobe dm_mod)" if os.path.isdir(modules) else f"no {modules} to load dm_mod from"
    return (
        f"this kernel ({release}) has no device-mapper (no 'device-mapper' in /proc/misc; {loadable}), so "
        "lvcreate fails with 'Required device-mapper target(s) not detected' and no LV gets a device to "
        "write, read or snapshot; LvmToolTests covers what works without it"
    )


NO_DEVICE_MAPPER = _device_mapper()


class CommandLineTests(SynchronousTestCase):
    """
    What the backend asks LVM, on L{FakeLvm}.
    """

    def setUp(self):
        self.lvm = FakeLvm(self, "vg0", 8 * GiB)
        self.backend = LvmBackend("vg0", self.lvm, dev=self.lvm.dev)

    def device(self, name):
        return os.path.join(self.lvm.dev, "vg0", name)

    def test_create(self):
        """
        A volume is made as C{tmp-<id>}, zeroed whole, then renamed.
        """
        self.backend.create(VOLUME, 2)
        lvs = ["lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "lv_name,lv_size,origin", "vg0"]
        self.assertEqual(self.lvm.calls, [
            lvs,
            ["lvcreate", "--yes", "--name", f"tmp-{VOLUME}", "--size", f"{2 * GiB}b", "vg0"],
            ["blkdiscard", "--zeroout", self.device(f"tmp-{VOLUME}")],
            ["lvrename", "vg0", f"tmp-{VOLUME}", VOLUME],
        ])  # fmt: skip

    def test_snapshot_resize_delete(self):
        """
        A copy is an LVM snapshot as large as its origin; growth is
        lvextend; removal lvremove.
        """
        self.backend.create(VOLUME, 1)
        del self.lvm.calls[:]
        copy = self.backend.snapshot(VOLUME, SNAPSHOT)
        self.assertEqual(self.lvm.calls[-1],
                         ["lvcreate", "--yes", "--snapshot", "--name", SNAPSHOT, "--size", f"{GiB}b", f"vg0/{VOLUME}"])  # fmt: skip
        copy.release()
        self.assertEqual(self.lvm.calls[-1], ["lvremove", "--yes", f"vg0/{SNAPSHOT}"])
        self.backend.resize(VOLUME, 2)
        self.assertEqual(self.lvm.calls[-1], ["lvextend", "--size", f"{2 * GiB}b", f"vg0/{VOLUME}"])
        self.backend.delete(VOLUME)
        self.assertEqual(self.lvm.calls[-1], ["lvremove", "--yes", f"vg0/{VOLUME}"])

    def test_export_path(self):
        """
        tgt serves the LV's device node.
        """
        self.backend.create(VOLUME, 1)
        self.assertEqual(tuple(self.backend.export_path(VOLUME)), ("rdwr", self.device(VOLUME)))

    def test_full(self):
        """
        LVM's "insufficient free space" is InsufficientVolumeCapacity.
        """
        error = self.assertRaises(InsufficientVolumeCapacity, self.backend.create, VOLUME, 9)
        self.assertIn("vg0", error.message)
        self.assertEqual(self.lvm.names(), [])

    def test_lists_only_volumes(self):
        """
        Temporary LVs, snapshots and LVs of others are not volumes.
        """
        self.backend.create(VOLUME, 1)
        self.lvm(["lvcreate", "--yes", "--name", "home", "--size", "1024b", "vg0"])
        self.lvm(["lvcreate", "--yes", "--name", "tmp-vol-00000009", "--size", "1024b", "vg0"])
        self.backend.snapshot(VOLUME, SNAPSHOT)
        self.assertEqual(self.backend.list(), [VolumeInfo(VOLUME, GiB, GiB)])

    def test_tool_failure(self):
        """
        Any other failure is a StorageError naming the command and what LVM
        said.
        """

        def broken(argv, stdin=None, timeout=None):
            return b"", b"  Volume group \"vg0\" not found\n", 5

        error = self.assertRaises(StorageError, LvmBackend("vg0", broken).list)
        self.assertIn("lvs --reportformat json", error.message)
        self.assertIn('Volume group "vg0" not found', error.message)

    def test_unreadable_report(self):
        """
        A report that is not LVM's JSON is a StorageError, not a crash.
        """
        backend = LvmBackend("vg0", lambda argv, stdin=None, timeout=None: (b"  LV VG\n", b"", 0))
        self.assertIn("Cannot read what lvs reports", self.assertRaises(StorageError, backend.list).message)

    def test_timeout(self):
        """
        A tool that hangs is a StorageTimeout.
        """

        def hung(argv, stdin=None, timeout=None):
            raise subprocess.TimeoutExpired(argv, timeout)

        self.assertRaises(StorageTimeout, LvmBackend("vg0", hung).list)

    def test_not_installed(self):
        """
        Without LVM installed the error says so.
        """

        def missing(argv, stdin=None, timeout=None):
            raise FileNotFoundError(argv[0])

        self.assertIn("lvs is not installed", self.assertRaises(StorageError, LvmBackend("vg0", missing).list).message)


def _volume_group(testcase, size, run_lvm):
    """
    A new volume group of its own on a loop device, removed after the test.
    """
    device = loop_device(testcase, size)
    group = f"euca-test-{secrets.token_hex(4)}"
    for argv in (["pvcreate", "-q", device], ["vgcreate", "-q", group, device]):
        code, out, err = run(argv)
        testcase.assertEqual(code, 0, f"{' '.join(argv)} failed: {err or out}")
    testcase.addCleanup(lambda: run(["pvremove", "-q", device]))
    testcase.addCleanup(lambda: run_lvm(["vgremove", "-q", "--yes", group]))
    return group


class LvmToolTests(SynchronousTestCase):
    """
    The backend's command lines run by the real LVM tools, on a volume
    group over a loop device, without device-mapper: the tools change the
    group's metadata only (C{--driverloaded n}) and no LV gets a device, so
    nothing here writes or reads volume data (L{LvmContractTests} does,
    where the kernel allows it).
    """

    def setUp(self):
        self.group = _volume_group(self, 4 * GiB, lvm_metadata_only)
        self.backend = LvmBackend(self.group, lvm_metadata_only)

    def test_lifecycle(self):
        """
        Create, list, grow and delete, as LVM reports them.
        """
        self.backend.create(VOLUME, 1)
        self.assertEqual(self.backend.list(), [VolumeInfo(VOLUME, GiB, GiB)])
        self.assertTrue(self.backend.exists(VOLUME))
        self.backend.resize(VOLUME, 2)
        self.assertEqual(self.backend.describe(VOLUME).size, 2 * GiB)
        self.assertEqual(self.backend.export_path(VOLUME).path, f"/dev/{self.group}/{VOLUME}")
        self.backend.delete(VOLUME)
        self.assertEqual(self.backend.list(), [])

    def test_errors(self):
        """
        LVM's own refusals become the backend's errors.
        """
        self.backend.create(VOLUME, 1)
        self.assertRaises(VolumeAlreadyExists, self.backend._tool,
                          "lvcreate", "--yes", "--name", VOLUME, "--size", f"{GiB}b", self.group)  # fmt: skip
        self.assertRaises(InsufficientVolumeCapacity, self.backend.create, "vol-00000002", 4)
        self.assertRaises(VolumeNotFound, self.backend.remove_lv, "vol-00000003")
        self.assertEqual([volume.volume_id for volume in self.backend.list()], [VOLUME])

    def test_recover(self):
        """
        A temporary LV a crash left is removed.
        """
        self.backend.create(VOLUME, 1)
        self.backend._tool("lvcreate", "--yes", "--name", "tmp-vol-00000009", "--size", f"{GiB}b", self.group)
        self.assertEqual(self.backend.recover(), ["tmp-vol-00000009"])
        self.assertEqual(sorted(self.backend.logical_volumes()), [VOLUME])


class LvmContractTests(VolumeBackendContractTestsMixin, SynchronousTestCase):
    """
    The whole contract on a real volume group, data and snapshots included.
    """

    skip = NO_DEVICE_MAPPER

    def make_backend(self, limit_gib):
        if not hasattr(self, "group"):
            from eucalyptus.commands import run as run_lvm

            self.group = _volume_group(self, 16 * GiB, run_lvm)
        return LvmBackend(self.group, max_total_gib=limit_gib)

    def leftovers(self):
        volumes = {volume.volume_id for volume in self.backend.list()}
        return sorted(name for name in self.backend.logical_volumes() if name not in volumes)

    def make_leftovers(self):
        self.backend._tool("lvcreate", "--yes", "--name", "tmp-vol-00000009", "--size", f"{GiB}b", self.group)
        self.backend._tool("lvcreate", "--yes", "--snapshot", "--name", "snap-00000001", "--size", f"{GiB}b",
                           f"{self.group}/{VOLUME}")  # fmt: skip
        return ["snap-00000001", "tmp-vol-00000009"]
