# -*- test-case-name: tests.test_testimage -*-
"""
Tests for L{eucalyptus.testimage}.

The image is built once per test run into the trial directory, with the
downloaded packages kept in C{$EUCALYPTUS_HOME/images/cache} (the
checkout's C{var/images/cache} when that is not set), so only the first run
on a machine downloads.  Booting it is the Node Controller's end-to-end
test's business.
"""

import gzip
import io
import os
import struct
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus import testimage

_CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(os.environ.get("EUCALYPTUS_HOME") or os.path.join(_CHECKOUT, "var"), "images", "cache")

_built = {}


def built():
    """
    Build the image once per process; return its L{testimage.ImagePaths}
    and the progress lines of that build.
    """
    if not _built:
        lines = []
        out_dir = os.path.abspath("testimage")
        _built["paths"] = testimage.build_test_image(out_dir, CACHE, progress=lines.append)
        _built["lines"] = lines
    return _built["paths"], _built["lines"]


def read_cpio(data):
    """
    Parse a newc cpio archive into C{{name: (mode, rdev, data)}}.
    """
    entries = {}
    offset = 0
    while True:
        header = data[offset : offset + 110]
        assert header[:6] == b"070701", header[:6]
        fields = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
        mode, size, rdev, namesize = fields[1], fields[6], (fields[9], fields[10]), fields[11]
        name = data[offset + 110 : offset + 110 + namesize - 1].decode()
        offset += 110 + namesize
        offset += -offset % 4
        body = data[offset : offset + size]
        offset += size
        offset += -offset % 4
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, rdev, body)


def is_static_elf(data):
    """
    Whether C{data} is a 64-bit ELF executable with no program interpreter.
    """
    if data[:5] != b"\x7fELF\x02":
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    types = [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]
    return 3 not in types


class ImageTests(SynchronousTestCase):
    """
    L{testimage.build_test_image} writes a kernel, an initramfs and a root
    file system.
    """

    def setUp(self):
        self.paths, self.lines = built()
        with open(self.paths.ramdisk, "rb") as f:
            self.cpio = read_cpio(gzip.decompress(f.read()))
        self.init = self.cpio["init"][2].decode()

    def test_outputs(self):
        """
        The three files are there, readable by everyone (libvirt's qemu runs
        as another user), in a directory everyone can enter.
        """
        self.assertEqual([os.path.basename(path) for path in self.paths], ["vmlinuz", "initrd.img", "root.img"])
        for path in self.paths:
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o644, path)
        self.assertEqual(os.stat(os.path.dirname(self.paths.kernel)).st_mode & 0o005, 0o005)
        with open(self.paths.kernel, "rb") as f:
            self.assertEqual(f.read(0x206)[0x202:], b"HdrS", "a bzImage")

    def test_busybox(self):
        """
        C{/bin/busybox} is the static binary, and C{/init} runs it.
        """
        mode, _, busybox = self.cpio["bin/busybox"]
        self.assertEqual(mode, 0o100755)
        self.assertTrue(is_static_elf(busybox))
        self.assertEqual(self.cpio["init"][0], 0o100755)
        self.assertTrue(self.init.startswith("#!/bin/busybox sh\n"))

    def test_init_syntax(self):
        """
        The init script parses (C{busybox sh -n}, with the image's own
        busybox).
        """
        busybox = os.path.abspath("busybox-from-initrd")
        with open(busybox, "wb") as f:
            f.write(self.cpio["bin/busybox"][2])
        os.chmod(busybox, 0o755)
        for name in ("init", "etc/acpi/PWRF/00000080"):
            script = os.path.abspath(name.replace("/", "_"))
            with open(script, "wb") as f:
                f.write(self.cpio[name][2])
            subprocess.run([busybox, "sh", "-n", script], check=True)

    def test_init_prints(self):
        """
        C{/init} prints the boot line, the root marker, disks, and starts
        acpid; it never ends.
        """
        self.assertIn('say() { echo "EUCALYPTUS-TEST-IMAGE: $*"; }', self.init)
        self.assertEqual(testimage.BOOTED, "EUCALYPTUS-TEST-IMAGE: booted")
        for fragment in ("say booted", "mount -t ext4 -o ro /dev/vda", "/marker", 'say "disk $d', "acpid -c /etc/acpi"):
            self.assertIn(fragment, self.init)
        self.assertTrue(self.init.rstrip().endswith("done"))
        self.assertIn("while true; do", self.init)

    def test_console(self):
        """
        C{/dev/console} exists before devtmpfs is mounted, so that init has
        a console.
        """
        mode, rdev, _ = self.cpio["dev/console"]
        self.assertEqual((mode & 0o170000, rdev), (0o020000, (5, 1)))

    def test_power_button(self):
        """
        The power button handler is where busybox acpid looks for it and
        forces the power off.
        """
        mode, _, handler = self.cpio["etc/acpi/PWRF/00000080"]
        self.assertEqual(mode, 0o100755)
        self.assertIn(b"poweroff -f", handler)

    def test_modules(self):
        """
        The needed modules are in the archive and loaded after what they
        depend on.
        """
        modules = [name for name in self.cpio if name.endswith(".ko")]
        names = {os.path.basename(name)[:-3]: name for name in modules}
        for name in (
            "virtio",
            "virtio_ring",
            "virtio_pci",
            "virtio_pci_modern_dev",
            "virtio_pci_legacy_dev",
            "virtio_blk",
            "virtio_net",
            "net_failover",
            "failover",
            "ext4",
            "jbd2",
            "mbcache",
            "crc16",
            "crc32c_generic",
            "button",
            "evdev",
        ):
            self.assertIn(name, names)
        load_line = next(line for line in self.init.splitlines() if line.startswith("for m in "))
        order = [os.path.basename(path)[:-3] for path in load_line[len("for m in ") : -len("; do")].split()]
        self.assertEqual(sorted(order), sorted(names))
        for before, after in (
            ("virtio_ring", "virtio"),
            ("virtio", "virtio_pci"),
            ("virtio_pci_modern_dev", "virtio_pci"),
            ("virtio", "virtio_blk"),
            ("failover", "net_failover"),
            ("net_failover", "virtio_net"),
            ("jbd2", "ext4"),
            ("mbcache", "ext4"),
            ("crc16", "ext4"),
            ("crc32c_generic", "ext4"),
        ):
            self.assertLess(order.index(before), order.index(after), f"{before} before {after}")

    def test_root(self):
        """
        The root image is a bare ext4 file system whose C{/marker} holds the
        known line.
        """
        self.assertEqual(os.path.getsize(self.paths.root), 16 * 1024 * 1024)
        marker = subprocess.run(
            ["debugfs", "-R", "cat /marker", self.paths.root], capture_output=True, check=True, text=True
        ).stdout
        self.assertEqual(marker, testimage.ROOT_MARKER + "\n")
        with open(self.paths.root, "rb") as f:
            f.seek(1024 + 56)
            self.assertEqual(f.read(2), b"\x53\xef", "the ext superblock magic at offset 1080")

    def test_idempotent(self):
        """
        A second build changes nothing and says so.
        """
        before = [os.stat(path).st_mtime_ns for path in self.paths]
        lines = []
        again = testimage.build_test_image(os.path.dirname(self.paths.kernel), CACHE, progress=lines.append)
        self.assertEqual(again, self.paths)
        self.assertEqual([os.stat(path).st_mtime_ns for path in self.paths], before)
        self.assertEqual(len(lines), 1)
        self.assertIn("up to date", lines[0])

    def test_main(self):
        """
        C{euca-test-image DIR} builds into C{DIR}, printing progress lines
        (here, that it is up to date).
        """
        out = io.StringIO()
        self.patch(sys, "stdout", out)
        status = testimage.main([os.path.dirname(self.paths.kernel), "--cache", CACHE])
        self.assertEqual(status, 0)
        self.assertIn("up to date", out.getvalue())


class ResolveModulesTests(SynchronousTestCase):
    """
    L{testimage.resolve_modules} orders modules from C{depmod}'s files.
    """

    def module_dir(self, dep, softdep="", alias="", builtin=""):
        path = self.mktemp()
        os.makedirs(path)
        for name, text in (
            ("modules.dep", dep),
            ("modules.softdep", softdep),
            ("modules.alias", alias),
            ("modules.builtin", builtin),
        ):
            with open(os.path.join(path, name), "w") as f:
                f.write(text)
        return path

    def test_order(self):
        """
        Dependencies come first, each once; soft dependencies are resolved
        through aliases, preferring the generic implementation; built-in
        modules are left out.
        """
        path = self.module_dir(
            "kernel/a.ko: kernel/b.ko kernel/c-d.ko\nkernel/b.ko: kernel/c-d.ko\nkernel/c-d.ko:\n"
            "kernel/crc_fast.ko:\nkernel/crc_generic.ko:\nkernel/e.ko: kernel/b.ko\n",
            softdep="# Soft dependencies\nsoftdep a pre: crypto-crc post: x\n",
            alias="alias crypto-crc crc_fast\nalias crypto-crc crc_generic\n",
            builtin="kernel/f.ko\n",
        )
        self.assertEqual(
            testimage.resolve_modules(path, ("a", "e", "f")),
            ["kernel/crc_generic.ko", "kernel/c-d.ko", "kernel/b.ko", "kernel/a.ko", "kernel/e.ko"],
        )

    def test_unknown(self):
        """
        A module that is neither in C{modules.dep} nor built in is an error
        naming it.
        """
        path = self.module_dir("kernel/a.ko: kernel/gone.ko\n")
        error = self.assertRaises(testimage.TestImageError, testimage.resolve_modules, path, ("a",))
        self.assertIn("gone", str(error))
