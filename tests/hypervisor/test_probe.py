# -*- test-case-name: tests.hypervisor.test_probe -*-
"""
Tests for L{eucalyptus.hypervisor.probe}, with real qemu: the boot sector
prints its marker under TCG (so the probe works), and the KVM probe answers
within its timeout and leaves no qemu behind.
"""

import os
import time

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.hypervisor.probe import boot_sector, boots, kvm_works

__all__ = ["BootSectorTests", "ProbeTests"]


def _qemu_children():
    """
    The qemu processes this test process started that still exist
    (zombies included).
    """
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        command, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == os.getpid() and command.startswith("qemu"):
            found.append(int(pid))
    return found


class BootSectorTests(SynchronousTestCase):
    """
    L{boot_sector} builds a bootable sector carrying its marker.
    """

    def test_layout(self):
        """
        512 bytes, the marker inside, the boot signature at the end.
        """
        sector = boot_sector("EUCA-MARK")
        self.assertEqual(len(sector), 512)
        self.assertIn(b"EUCA-MARK\r\n\0", sector)
        self.assertEqual(sector[-2:], b"\x55\xaa")

    def test_limits(self):
        """
        A marker that does not fit, or a loop count C{loop} cannot do, is
        refused.
        """
        self.assertRaises(ValueError, boot_sector, "x" * 500)
        self.assertRaises(ValueError, boot_sector, "x", spins=0)
        self.assertRaises(ValueError, boot_sector, "x", spins=1 << 32)


class ProbeTests(SynchronousTestCase):
    """
    The probe under real qemu.
    """

    def test_tcg_prints_marker(self):
        """
        Under TCG the sector runs its loop and prints its marker: the probe
        itself works, so a KVM failure means KVM, not the probe.
        """
        self.assertTrue(boots("tcg", timeout=10.0))
        self.assertEqual(_qemu_children(), [])

    def test_timeout(self):
        """
        A marker that does not come in time is a C{False}, and qemu is gone.
        """
        self.assertFalse(boots("tcg", timeout=0.01))
        self.assertEqual(_qemu_children(), [])

    def test_no_qemu(self):
        """
        Without the qemu binary the answer is C{False}.
        """
        self.assertFalse(boots("tcg", qemu="/nonexistent/qemu-system-x86_64"))

    def test_kvm_works(self):
        """
        L{kvm_works} answers a bool within its timeout (plus qemu's start
        and end) and leaves no qemu process behind.
        """
        started = time.monotonic()
        works = kvm_works(timeout=1.0)
        self.assertIsInstance(works, bool)
        self.assertLess(time.monotonic() - started, 1.0 + 2.0)
        self.assertEqual(_qemu_children(), [])
