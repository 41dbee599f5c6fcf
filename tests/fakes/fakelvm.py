# -*- test-case-name: tests.services.sc.test_lvm,tests.services.sc.test_backends -*-
"""
A fake of the LVM tools the SC's LVM backend runs.
"""

import json
import os
import subprocess

__all__ = ["FakeLvm"]


class FakeLvm:
    """
    A runner (shaped like L{eucalyptus.commands.run}) that answers the LVM
    command lines L{LvmBackend} uses, with one file per logical volume under
    C{<dev>/<vg>/}.  A new LV is filled with C{DIRTY} bytes, as reused
    extents hold another volume's data, so a backend that forgets to zero
    one is caught.  Command lines it does not know fail the test.

    @ivar calls: every argument vector it ran.
    """

    DIRTY = b"\xdd"

    def __init__(self, testcase, volume_group, capacity):
        self.testcase = testcase
        self.volume_group = volume_group
        self.capacity = capacity
        self.dev = os.path.abspath(testcase.mktemp())
        os.makedirs(os.path.join(self.dev, volume_group))
        self.origins = {}
        self.calls = []

    def _path(self, name):
        return os.path.join(self.dev, self.volume_group, name)

    def names(self):
        return sorted(os.listdir(os.path.join(self.dev, self.volume_group)))

    def _lv(self, spec):
        group, _, name = spec.partition("/")
        self.testcase.assertEqual(group, self.volume_group)
        return name

    def __call__(self, argv, stdin=None, timeout=None):
        self.calls.append(list(argv))
        tool, args = argv[0], list(argv[1:])
        return getattr(self, "_" + tool)(args)

    def _fail(self, message):
        return b"", message.encode() + b"\n", 5

    def _lvs(self, args):
        self.testcase.assertEqual(args[:-1], ["--reportformat", "json", "--units", "b", "--nosuffix", "-o",
                                              "lv_name,lv_size,origin"])  # fmt: skip
        rows = [
            {"lv_name": name, "lv_size": str(os.path.getsize(self._path(name))), "origin": self.origins.get(name, "")}
            for name in self.names()
        ]
        return json.dumps({"report": [{"lv": rows}]}).encode(), b"", 0

    def _lvcreate(self, args):
        self.testcase.assertEqual(args[0], "--yes")
        snapshot = args[1] == "--snapshot"
        rest = args[2:] if snapshot else args[1:]
        self.testcase.assertEqual((rest[0], rest[2]), ("--name", "--size"))
        name, size = rest[1], int(rest[3].rstrip("b"))
        if os.path.exists(self._path(name)):
            return self._fail(f'  Logical Volume "{name}" already exists in volume group "{self.volume_group}"')
        used = sum(os.path.getsize(self._path(lv)) for lv in self.names())
        if used + size > self.capacity:
            return self._fail(f'  Volume group "{self.volume_group}" has insufficient free space (0 extents).')
        if snapshot:
            origin = self._lv(rest[4])
            subprocess.run(["cp", "--sparse=always", self._path(origin), self._path(name)], check=True)
            self.origins[name] = origin
        else:
            self.testcase.assertEqual(rest[4], self.volume_group)
            with open(self._path(name), "wb") as f:
                f.write(self.DIRTY * min(size, 1024**2))
                f.truncate(size)
        return b"", b"", 0

    def _blkdiscard(self, args):
        self.testcase.assertEqual(args[0], "--zeroout")
        size = os.path.getsize(args[1])
        with open(args[1], "r+b") as f:
            f.truncate(0)
            f.truncate(size)
        return b"", b"", 0

    def _lvremove(self, args):
        self.testcase.assertEqual(args[0], "--yes")
        name = self._lv(args[1])
        if not os.path.exists(self._path(name)):
            return self._fail(f'  Failed to find logical volume "{args[1]}"')
        os.unlink(self._path(name))
        self.origins.pop(name, None)
        return b"", b"", 0

    def _lvrename(self, args):
        group, old, new = args
        self.testcase.assertEqual(group, self.volume_group)
        os.rename(self._path(old), self._path(new))
        return b"", b"", 0

    def _lvextend(self, args):
        self.testcase.assertEqual(args[0], "--size")
        with open(self._path(self._lv(args[2])), "r+b") as f:
            f.truncate(int(args[1].rstrip("b")))
        return b"", b"", 0
