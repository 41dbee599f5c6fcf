# -*- test-case-name: tests.services.nc.test_disks -*-
"""
An instance's disks, built in its directory from the cached images.

The root disk is a qcow2 overlay whose backing file is the cached machine
image, so starting an instance copies nothing; the ephemeral disk is a
sparse file with a file system, the swap disk a sparse file with a swap
signature, each sized by the boot records of the VM type (or, without
them, the type's disk less the root image and 512 MiB of swap).  The tools
(C{qemu-img}, C{truncate}, C{mkfs}, C{mkswap}) run as child processes, never on the
reactor.
"""

import os

from twisted.internet import defer

from eucalyptus import commands
from eucalyptus.errors import EucalyptusError

__all__ = ["DiskError", "DiskBuilder", "plan", "SWAP_BYTES", "GiB"]

GiB = 1024**3
#: Swap size when the boot records do not give one (the original's default).
SWAP_BYTES = 512 * 1024**2

_MKFS = {"ext2": "mkfs.ext2", "ext3": "mkfs.ext3", "ext4": "mkfs.ext4"}


class DiskError(EucalyptusError):
    """
    An instance's disks could not be built.
    """

    code = "DiskError"
    fault_kind = "Server"


def plan(vm, image_size, virtio):
    """
    The disks an instance of type C{vm} gets: a list of C{(role, target,
    size, format)} with role C{root}, C{ephemeral} or C{swap}.

    @param image_size: bytes of the machine image.
    @raise DiskError: the image does not fit the type's disk.
    """
    prefix = "vd" if virtio else "sd"
    budget = vm.disk * GiB
    if image_size > budget:
        raise DiskError(
            f"The machine image ({image_size} bytes) is larger than the {vm.name} disk ({vm.disk} GB); "
            "choose a larger instance type."
        )
    records = {record.type: record for record in vm.boot_records}
    machine = records.get("machine")
    root_size = max(image_size, machine.size if machine is not None and machine.size > 0 else 0)
    disks = [("root", prefix + "a", root_size, "qcow2")]
    ephemeral = records.get("ephemeral0") or records.get("ephemeral")
    swap = records.get("swap")
    if records:
        if ephemeral is not None and ephemeral.size > 0:
            disks.append(("ephemeral", prefix + "b", ephemeral.size, ephemeral.format or "ext3"))
        if swap is not None and swap.size > 0:
            disks.append(("swap", prefix + "c", swap.size, "swap"))
        return disks
    swap_size = SWAP_BYTES if budget - root_size >= SWAP_BYTES else 0
    ephemeral_size = budget - root_size - swap_size
    if ephemeral_size >= 64 * 1024**2:
        disks.append(("ephemeral", prefix + "b", ephemeral_size, "ext3"))
    if swap_size:
        disks.append(("swap", prefix + "c", swap_size, "swap"))
    return disks


class DiskBuilder:
    """
    Builds disks with the command-line tools.

    @ivar limit: a C{DeferredSemaphore} bounding disk-heavy work
        (C{CONCURRENT_DISK_OPS}).
    """

    def __init__(self, concurrent=4, run=None):
        """
        @param run: C{run(executable, args)} returning a Deferred of
            C{(out, err, code)}; L{eucalyptus.commands.spawn} by default.
        """
        self.limit = defer.DeferredSemaphore(max(1, concurrent))
        self._run = run or commands.spawn

    @defer.inlineCallbacks
    def _tool(self, *argv):
        out, err, code = yield self._run(argv[0], argv[1:])
        if code != 0:
            raise DiskError(commands.failure_message(argv, out, err, code))

    @defer.inlineCallbacks
    def build(self, directory, vm, image_path, image_size, virtio):
        """
        Build every disk of an instance in C{directory}.

        @return: Deferred list of C{(path, target, format)}, root first.
        """
        disks = []
        yield self.limit.acquire()
        try:
            for role, target, size, fmt in plan(vm, image_size, virtio):
                path = os.path.join(directory, f"{role}.img" if role != "root" else "root.qcow2")
                if role == "root":
                    yield self._tool(
                        "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image_path, path, str(size)
                    )
                    disks.append((path, target, "qcow2"))
                    continue
                yield self._tool("truncate", "-s", str(size), path)
                if fmt == "swap":
                    yield self._tool("mkswap", path)
                elif fmt in _MKFS:
                    yield self._tool(_MKFS[fmt], "-F", "-q", "-E", "lazy_itable_init=1,lazy_journal_init=1", path)
                disks.append((path, target, "raw"))
        finally:
            self.limit.release()
        return disks
