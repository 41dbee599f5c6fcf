"""
Planning and building an instance's disks with the real tools.
"""

import os
import subprocess

from twisted.internet import defer
from twisted.trial import unittest

from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.disks import GiB, SWAP_BYTES, DiskBuilder, DiskError, plan


class PlanTests(unittest.SynchronousTestCase):
    """
    Which disks an instance gets.
    """

    def test_default(self):
        """
        Without boot records: the root, then the rest of the type's disk as
        ext3 ephemeral, and 512 MiB of swap.
        """
        vm = records.VmType("m1.small", 256, 1, 5)
        disks = plan(vm, GiB, True)
        self.assertEqual(
            disks, [("root", "vda", GiB, "qcow2"), ("ephemeral", "vdb", 4 * GiB - SWAP_BYTES, "ext3"),
                    ("swap", "vdc", SWAP_BYTES, "swap")]
        )

    def test_boot_records(self):
        """
        Boot records give the sizes and formats; without swap record, no swap.
        """
        vm = records.VmType("m1.small", 256, 1, 5, [
            records.BootRecord("machine", "http://x", "sda1", 2 * GiB),
            records.BootRecord("ephemeral0", "none", "sda2", GiB, "ext2"),
        ])
        self.assertEqual(plan(vm, GiB, False), [("root", "sda", 2 * GiB, "qcow2"), ("ephemeral", "sdb", GiB, "ext2")])

    def test_too_large(self):
        """
        A machine image larger than the type's disk is refused, naming both.
        """
        error = self.assertRaises(DiskError, plan, records.VmType("m1.small", 256, 1, 1), 2 * GiB, True)
        self.assertIn("m1.small", error.message)


class BuildTests(unittest.TestCase):
    """
    The disks on disk.
    """

    @defer.inlineCallbacks
    def test_build(self):
        """
        The root is a qcow2 overlay backed by the image; the ephemeral disk
        holds an ext3 file system; the swap a swap signature.
        """
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        image = os.path.join(directory, "image.raw")
        with open(image, "wb") as f:
            f.truncate(64 * 1024**2)
        vm = records.VmType("m1.tiny", 128, 1, 1)
        disks = yield DiskBuilder(2).build(directory, vm, image, 64 * 1024**2, True)
        self.assertEqual([target for _, target, _ in disks], ["vda", "vdb", "vdc"])
        info = subprocess.run(["qemu-img", "info", "--output=json", disks[0][0]], capture_output=True, text=True)
        self.assertIn(f'"backing-filename": "{image}"', info.stdout)
        kind = subprocess.run(["blkid", "-o", "value", "-s", "TYPE", disks[1][0]], capture_output=True, text=True)
        self.assertEqual(kind.stdout.strip(), "ext3")
        kind = subprocess.run(["blkid", "-o", "value", "-s", "TYPE", disks[2][0]], capture_output=True, text=True)
        self.assertEqual(kind.stdout.strip(), "swap")

    @defer.inlineCallbacks
    def test_tool_failure(self):
        """
        A failing tool is a DiskError with its message.
        """
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        vm = records.VmType("m1.tiny", 128, 1, 1)
        error = yield self.assertFailure(
            DiskBuilder(1).build(directory, vm, "/nonexistent/image", 1024, True), DiskError
        )
        self.assertIn("qemu-img", error.message)
