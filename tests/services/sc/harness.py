# -*- test-case-name: tests.services.sc.test_iscsi,tests.services.sc.test_lvm,tests.services.sc.test_files -*-
"""
What the Storage Controller's tests run against: a C{tgtd} of their own
(L{Tgtd}), mounted file systems (L{mount_btrfs}, L{mount_tmpfs}), loop
devices (L{loop_device}), and streams that fail on purpose.  The fakes of the
tools are in L{tests.fakes.fakelvm} and L{tests.fakes.faketgt}.

The daemons and mounts are real and need root, C{tgt}, C{btrfs-progs} and
loop devices (C{make deps}); without them the tests fail rather than skip.
"""

import os
import random
import socket
import subprocess
import time

from eucalyptus import commands
from eucalyptus.services.sc.iscsi import Tgtadm
from tests.daemons import free_ports

__all__ = [
    "Tgtd",
    "mount_btrfs",
    "mount_tmpfs",
    "loop_device",
    "run",
    "FailingStream",
    "ZeroStream",
    "lvm_metadata_only",
]

_SOCKETS = "/var/run/tgtd"


def run(argv, timeout=60):
    """
    Run a tool for a test; answer C{(code, out, err)} as text.
    """
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def _wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


class Tgtd:
    """
    A C{tgtd} in the foreground, listening for iSCSI on C{127.0.0.1:port}
    with its own control port, so tests never touch the host's tgtd; stopped
    (targets deleted, then C{tgtadm --op delete --mode system}, else
    SIGKILL) when the test ends.

    @ivar port: the iSCSI port.
    @ivar control_port: the control port (C{tgtd -C}).
    @ivar tgtadm: a L{Tgtadm} for it.
    """

    def __init__(self, testcase):
        self._testcase = testcase
        for _ in range(5):
            self.port = free_ports(1)[0]
            self.control_port = random.randint(1024, 32767)  # tgtd keeps it in a C short
            if os.path.exists(f"{_SOCKETS}/socket.{self.control_port}.lock"):
                continue
            log = testcase.mktemp()
            with open(log, "wb") as out:
                self.process = subprocess.Popen(
                    ["tgtd", "-f", "-C", str(self.control_port), "--iscsi", f"portal=127.0.0.1:{self.port}"],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            if _wait_until(lambda: self._ready() or self.process.poll() is not None, 10) and self._ready():
                break
            self._kill()
        else:
            raise AssertionError(f"tgtd did not start; its last log: {open(log).read()}")
        self.tgtadm = Tgtadm(control_port=self.control_port)
        testcase.addCleanup(self.stop)

    def _ready(self):
        if self.process.poll() is not None:
            return False
        code, _, _ = run(["tgtadm", "-C", str(self.control_port), "--op", "show", "--mode", "sys"])
        if code:
            return False
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def _kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            for target in self.tgtadm.targets():
                self.tgtadm.delete_target(target.tid)
            run(["tgtadm", "-C", str(self.control_port), "--op", "delete", "--mode", "system"])
            if not _wait_until(lambda: self.process.poll() is not None, 10):
                self._kill()
        self.process.wait()
        for suffix in ("", ".lock"):
            path = f"{_SOCKETS}/socket.{self.control_port}{suffix}"
            if os.path.exists(path):
                os.unlink(path)


def _mount(testcase, argv):
    directory = os.path.abspath(testcase.mktemp())
    os.makedirs(directory)
    code, out, err = run(argv + [directory])
    testcase.assertEqual(code, 0, f"{' '.join(argv)} failed: {err or out}")
    testcase.addCleanup(lambda: run(["umount", directory]))
    return directory


def mount_btrfs(testcase, size=256 * 1024**2):
    """
    A fresh btrfs (which clones files with reflinks) mounted from a sparse
    image through a loop device; unmounted after the test.

    @return: the mount point.
    """
    image = os.path.abspath(testcase.mktemp())
    with open(image, "wb") as f:
        f.truncate(size)
    code, out, err = run(["mkfs.btrfs", "-q", image])
    testcase.assertEqual(code, 0, f"mkfs.btrfs failed (package btrfs-progs): {err or out}")
    return _mount(testcase, ["mount", "-o", "loop", image])


def mount_tmpfs(testcase, size):
    """
    A tmpfs of C{size} bytes (to run out of space in); unmounted after the
    test.
    """
    return _mount(testcase, ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs"])


def loop_device(testcase, size):
    """
    A loop device over a new sparse file of C{size} bytes, detached after
    the test.

    @return: the device path.
    """
    image = os.path.abspath(testcase.mktemp())
    with open(image, "wb") as f:
        f.truncate(size)
    code, out, err = run(["losetup", "--find", "--show", image])
    testcase.assertEqual(code, 0, f"losetup failed: {err or out}")
    device = out.strip()
    testcase.addCleanup(lambda: run(["losetup", "--detach", device]))
    return device


class FailingStream:
    """
    A source that yields C{chunks} chunks of C{byte}, calling C{during}
    after the first, then fails with C{error} (the network going away
    half-way through a restore).
    """

    def __init__(self, chunks, error=OSError("the snapshot download broke off"), byte=b"\x5a", during=None):
        self._left = chunks
        self._error = error
        self._byte = byte
        self._during = during
        self._reads = 0

    def read(self, size):
        self._reads += 1
        if self._reads == 2 and self._during is not None:
            self._during()
        if self._left == 0:
            if self._error is None:
                return b""
            raise self._error
        self._left -= 1
        return self._byte * size


class ZeroStream:
    """
    C{length} zero bytes, then one non-zero chunk of C{tail} bytes, made as
    they are read (a large image costs no memory).
    """

    def __init__(self, length, tail=b""):
        self._left = length
        self._tail = tail

    def read(self, size):
        if self._left:
            count = min(size, self._left)
            self._left -= count
            return bytes(count)
        tail, self._tail = self._tail, b""
        return tail


def lvm_metadata_only(argv, stdin=None, timeout=None):
    """
    A runner for the real LVM tools on a kernel without device-mapper: they
    run with C{--driverloaded n}, so they change the volume group's
    metadata but make no device nodes, and C{blkdiscard} (which needs the
    node) is skipped.  What this proves is that LVM accepts the backend's
    command lines and that the backend reads LVM's real output, not that
    data reaches a volume.
    """
    if argv[0] == "blkdiscard":
        return b"", b"", 0
    return commands.run([argv[0], "--driverloaded", "n"] + list(argv[1:]), stdin=stdin, timeout=timeout)
