# -*- test-case-name: tests.services.sc.test_iscsi -*-
"""
A fake of C{tgtadm} and the C{tgtd} it drives.
"""

import os

__all__ = ["FakeTgtd"]


_LUN0 = """        LUN: 0
            Type: controller
            Backing store type: null
            Backing store path: None
            Backing store flags: 
"""


class FakeTgtd:
    """
    A runner (shaped like L{eucalyptus.commands.run}) that answers the
    C{tgtadm} command lines L{Tgtadm} makes the way C{tgtd} does, from
    state in memory, with tgtadm's own messages and status 22 for refusals.
    L{tests.services.sc.test_iscsi} checks that its C{show} output reads
    the same as a real tgtd's.

    @ivar targets: tid to C{{"name", "luns", "accounts", "acl"}}.
    @ivar accounts: user to password.
    @ivar fail: C{(mode, op)} to a message: that request fails.
    @ivar calls: every argument vector run.
    """

    def __init__(self, testcase, paths_exist=True):
        self.testcase = testcase
        self.targets = {}
        self.accounts = {}
        self.fail = {}
        self.calls = []
        self._paths_exist = paths_exist

    def __call__(self, argv, stdin=None, timeout=None):
        self.calls.append(list(argv))
        self.testcase.assertEqual(argv[0], "tgtadm")
        args = list(argv[1:])
        if args[:1] == ["-C"]:
            args = args[2:]
        self.testcase.assertEqual(args[:2], ["--lld", "iscsi"])
        options, flags = {}, set()
        rest = args[2:]
        while rest:
            option = rest.pop(0)
            if option in ("--force", "--outgoing"):
                flags.add(option)
            else:
                options[option] = rest.pop(0)
        request = (options["--mode"], options["--op"])
        if request in self.fail:
            return self._refuse(self.fail[request])
        handler = getattr(self, "_" + "_".join(request))
        return handler(options, flags)

    def _refuse(self, message):
        return b"", f"tgtadm: {message}\n".encode(), 22

    def _ok(self, out=""):
        return out.encode(), b"", 0

    def _target(self, options):
        return self.targets.get(int(options["--tid"]))

    def _target_new(self, options, flags):
        tid, name = int(options["--tid"]), options["--targetname"]
        if tid in self.targets or any(target["name"] == name for target in self.targets.values()):
            return self._refuse("this target already exists")
        self.targets[tid] = {"name": name, "luns": {}, "accounts": [], "acl": []}
        return self._ok()

    def _target_delete(self, options, flags):
        if self._target(options) is None:
            return self._refuse("can't find the target")
        del self.targets[int(options["--tid"])]
        return self._ok()

    def _target_bind(self, options, flags):
        target = self._target(options)
        if target is None:
            return self._refuse("can't find the target")
        if options["--initiator-address"] in target["acl"]:
            return self._refuse("this access control rule already exists")
        target["acl"].append(options["--initiator-address"])
        return self._ok()

    def _target_unbind(self, options, flags):
        target = self._target(options)
        if target is None:
            return self._refuse("can't find the target")
        if options["--initiator-address"] not in target["acl"]:
            return self._refuse("this access control rule does not exist")
        target["acl"].remove(options["--initiator-address"])
        return self._ok()

    def _target_show(self, options, flags):
        out = []
        for tid in sorted(self.targets):
            target = self.targets[tid]
            out.append(f"Target {tid}: {target['name']}\n    System information:\n        Driver: iscsi\n"
                       "        State: ready\n    I_T nexus information:\n    LUN information:\n" + _LUN0)  # fmt: skip
            for lun, (kind, path) in sorted(target["luns"].items()):
                out.append(f"        LUN: {lun}\n            Type: disk\n            Backing store type: {kind}\n"
                           f"            Backing store path: {path}\n            Backing store flags: \n")  # fmt: skip
            out.append("    Account information:\n" + "".join(f"        {user}\n" for user in target["accounts"]))
            out.append("    ACL information:\n" + "".join(f"        {address}\n" for address in target["acl"]))
        return self._ok("".join(out))

    def _logicalunit_new(self, options, flags):
        target = self._target(options)
        if target is None:
            return self._refuse("can't find the target")
        if not self._paths_exist or not os.path.exists(options["--backing-store"]):
            return self._refuse("invalid request")
        target["luns"][int(options["--lun"])] = (options["--bstype"], options["--backing-store"])
        return self._ok()

    def _account_new(self, options, flags):
        if options["--user"] in self.accounts:
            return self._refuse("this account already exists")
        self.accounts[options["--user"]] = options["--password"]
        return self._ok()

    def _account_delete(self, options, flags):
        user = options["--user"]
        if user not in self.accounts:
            return self._refuse("can't find the account")
        del self.accounts[user]
        for target in self.targets.values():
            if user in target["accounts"]:
                target["accounts"].remove(user)
        return self._ok()

    def _account_bind(self, options, flags):
        target = self._target(options)
        if target is None:
            return self._refuse("can't find the target")
        if options["--user"] not in self.accounts:
            return self._refuse("can't find the account")
        target["accounts"].append(options["--user"])
        return self._ok()

    def _account_show(self, options, flags):
        # tgtd keeps accounts newest first.
        return self._ok("Account list:\n" + "".join(f"    {user}\n" for user in reversed(self.accounts)))
