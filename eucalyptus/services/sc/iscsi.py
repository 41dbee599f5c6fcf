# -*- test-case-name: tests.services.sc.test_iscsi -*-
"""
Exporting volumes to nodes over iSCSI with the userspace target daemon
C{tgtd} (Debian package C{tgt}), driven by C{tgtadm --lld iscsi}.

Each exported volume is one target, named C{iqn.2009-06.com.eucalyptus.
<zone>:<volume id>} (the original's prefix; the volume id where it had
C{store<N>}, so the targets alone say which volume each serves), with:

  - LUN 1 backed by what the backend answers for the volume
    (L{IVolumeBackend.export_path}: a file, a device, an RBD image);
  - an access list of the node addresses the volume is exported to, and
    only those.  tgt admits an initiator matching I{either} an address or
    an initiator-name entry, so names are never added: one would widen
    access to any host that presents that name;
  - a CHAP account, the volume id as user name with a random password,
    bound to the target: a node must present both its address and the
    password.

The node learns the password from the connection string
(L{eucalyptus.volume_connection}), encrypted to the zone's node certificate.

C{tgtd} keeps its targets when the SC restarts; the SC keeps nothing but
the passwords, in memory.  Every call therefore reads the targets back from
C{tgtadm --op show} and repairs what it finds: a target of the volume
already there is reused (exporting twice to a node answers the same
target), and when the SC no longer knows its password (it restarted) the
account is made again with a new one, which does not disturb sessions
already logged in.  Known limit: C{tgtadm} takes the password on its
command line, so it is visible in the process list for the instant the
command runs (as in the original).

Everything here blocks: call it from a worker thread.
"""

import ipaddress
import re
import secrets
import string
import threading
from dataclasses import dataclass, field

from twisted.logger import Logger

from eucalyptus import commands
from eucalyptus.errors import InvalidParameterValue, StorageError, StorageTimeout
from eucalyptus.services.sc.backends.interfaces import BackingStore, check_volume_id
from eucalyptus.volume_connection import VolumeConnection, encrypt_secret

__all__ = ["Tgtadm", "Target", "ISCSIExports", "parse_targets", "parse_accounts", "IQN_PREFIX", "LUN"]

IQN_PREFIX = "iqn.2009-06.com.eucalyptus"
#: The LUN a volume is served as (some initiators refuse LUN 0, which tgt
#: keeps for its controller).
LUN = 1
_ALPHABET = string.ascii_letters + string.digits
#: Length of a CHAP password (the original: 16, what Windows accepts).
PASSWORD_LENGTH = 16


@dataclass
class Target:
    """
    A target as C{tgtadm --op show} reports it.

    @ivar luns: LUN to L{BackingStore}, LUN 0 (tgt's controller) left out.
    @ivar accounts: the CHAP user names bound to it (incoming).
    @ivar acl: the initiator addresses (and names) allowed in.
    @ivar sessions: the addresses of initiators connected now.
    """

    tid: int
    name: str
    luns: dict = field(default_factory=dict)
    accounts: list = field(default_factory=list)
    acl: list = field(default_factory=list)
    sessions: list = field(default_factory=list)


_TARGET = re.compile(r"^Target (\d+): (\S+)$")


def parse_targets(text):
    """
    Read the output of C{tgtadm --lld iscsi --op show --mode target}.

    @param text: the output, text.
    @return: a list of L{Target}s, in tgtd's order.
    """
    targets = []
    section = lun = None
    kind = None
    for line in text.splitlines():
        match = _TARGET.match(line)
        if match:
            targets.append(Target(int(match.group(1)), match.group(2)))
            section = lun = None
            continue
        if not targets or not line.strip():
            continue
        target = targets[-1]
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(": ")
        if indent == 4:
            section = line.strip().rstrip(":")
        elif section == "LUN information" and key == "LUN":
            lun = int(value)
        elif section == "LUN information" and key == "Backing store type":
            kind = value
        elif section == "LUN information" and key == "Backing store path" and lun:
            target.luns[lun] = BackingStore(kind, value)
        elif section == "I_T nexus information" and key == "IP Address":
            target.sessions.append(value)
        elif section == "Account information" and indent == 8:
            if not line.strip().endswith("(outgoing)"):
                target.accounts.append(line.strip())
        elif section == "ACL information" and indent == 8:
            target.acl.append(line.strip())
    return targets


def parse_accounts(text):
    """
    Read the output of C{tgtadm --lld iscsi --op show --mode account}.

    @return: the user names.
    """
    return [line.strip() for line in text.splitlines()[1:] if line.strip()]


class Tgtadm:
    """
    The C{tgtadm} command lines for one C{tgtd}, through an injected runner.
    """

    def __init__(self, run=commands.run, control_port=0, timeout=30):
        """
        @param run: a runner shaped like L{eucalyptus.commands.run}.
        @param control_port: the daemon's control port (C{tgtd -C}); 0 for
            tgtd's default.
        @param timeout: seconds a C{tgtadm} may take.
        """
        self._run = run
        self.control_port = control_port
        self._timeout = timeout

    def __call__(self, *args):
        """
        Run C{tgtadm --lld iscsi <args>}.

        @return: its output, text.
        @raise StorageError: it failed; the message says what tgtadm said
            and, when no daemon answers, how to start one.
        """
        argv = ["tgtadm"] + (["-C", str(self.control_port)] if self.control_port else []) + ["--lld", "iscsi"]
        try:
            out = commands.check(self._run, argv + list(args), StorageError, timeout=self._timeout,
                                 timeout_error=StorageTimeout)  # fmt: skip
        except StorageTimeout:
            raise
        except StorageError as e:
            if "not connected" in e.message or "can't send the request" in e.message:
                raise StorageError(
                    f"No tgtd answers on control port {self.control_port} (start it: make iscsi-target): {e.message}"
                )
            raise
        return out.decode("utf-8", "replace")

    def targets(self):
        """
        Every target of the daemon, parsed (L{parse_targets}).
        """
        return parse_targets(self("--mode", "target", "--op", "show"))

    def accounts(self):
        """
        The CHAP user names the daemon knows.
        """
        return parse_accounts(self("--mode", "account", "--op", "show"))

    def new_target(self, tid, name):
        """
        Make target C{tid} named C{name}.
        """
        self("--mode", "target", "--op", "new", "--tid", str(tid), "--targetname", name)

    def delete_target(self, tid):
        """
        Remove target C{tid}, its LUNs and any session on it.
        """
        self("--mode", "target", "--op", "delete", "--force", "--tid", str(tid))

    def new_lun(self, tid, lun, store):
        """
        Serve L{BackingStore} C{store} as LUN C{lun} of target C{tid}.
        """
        self("--mode", "logicalunit", "--op", "new", "--tid", str(tid), "--lun", str(lun),
             "--bstype", store.type, "--backing-store", store.path)  # fmt: skip

    def bind_address(self, tid, address):
        """
        Let initiators at C{address} into target C{tid}.
        """
        self("--mode", "target", "--op", "bind", "--tid", str(tid), "--initiator-address", address)

    def unbind_address(self, tid, address):
        """
        Stop letting C{address} into target C{tid}.
        """
        self("--mode", "target", "--op", "unbind", "--tid", str(tid), "--initiator-address", address)

    def new_account(self, user, password):
        """
        Make CHAP account C{user}.
        """
        self("--mode", "account", "--op", "new", "--user", user, "--password", password)

    def delete_account(self, user):
        """
        Remove CHAP account C{user} (and its bindings).
        """
        self("--mode", "account", "--op", "delete", "--user", user)

    def bind_account(self, tid, user):
        """
        Require C{user}'s CHAP credentials to log in to target C{tid}.
        """
        self("--mode", "account", "--op", "bind", "--tid", str(tid), "--user", user)


def _zone_label(zone):
    return re.sub(r"[^a-z0-9.-]+", "-", zone.lower()).strip("-.") or "zone"


class ISCSIExports:
    """
    The SC's iSCSI exports: one tgt target per exported volume.
    """

    _log = Logger()

    def __init__(self, backend, tgtadm, zone, portal, node_certificate):
        """
        @param backend: the L{IVolumeBackend} the volumes live in.
        @param tgtadm: a L{Tgtadm}.
        @param zone: the availability zone, part of every target name.
        @param portal: C{(host, port)} nodes reach tgtd on
            (C{SC_ISCSI_HOST}, C{SC_ISCSI_PORT}).
        @param node_certificate: the zone's node certificate; passwords are
            encrypted to it.
        """
        self._backend = backend
        self.tgtadm = tgtadm
        self.prefix = f"{IQN_PREFIX}.{_zone_label(zone)}:"
        self._portal = portal
        self._certificate = node_certificate
        self._passwords = {}
        self._lock = threading.Lock()

    def target_name(self, volume_id):
        """
        The IQN of C{volume_id}'s target (lower case, as iSCSI names are).
        """
        return self.prefix + volume_id.lower()

    def _find(self, volume_id):
        name = self.target_name(volume_id)
        for target in self.tgtadm.targets():
            if target.name == name:
                return target
        return None

    def exported(self):
        """
        What tgtd exports for this SC now.

        @return: a dict of volume id (lower case) to the list of node
            addresses it is exported to.
        """
        return {
            target.name[len(self.prefix) :]: list(target.acl)
            for target in self.tgtadm.targets()
            if target.name.startswith(self.prefix)
        }

    def export(self, volume_id, node_ip):
        """
        Export a volume to the node at C{node_ip}: make (or reuse) its
        target, let that address in, and answer how to connect.  A volume
        may be exported to several nodes at once (a migration needs two);
        who may attach it is the CLC's decision, not this one's.

        @return: a L{VolumeConnection}.
        @raise VolumeNotFound: the backend has no such volume.
        @raise InvalidParameterValue: C{node_ip} is not an IP address.
        @raise StorageError: tgtadm failed (nothing half-made is left).
        """
        check_volume_id(volume_id)
        address = _address(node_ip)
        store = self._backend.export_path(volume_id)
        with self._lock:
            target = self._find(volume_id)
            if target is not None and target.luns.get(LUN) != store:
                self._log.warn("Target {name} serves {found}, not {store}: making it again",
                               name=target.name, found=target.luns.get(LUN), store=store)  # fmt: skip
                self._remove(target, volume_id)
                target = None
            if target is None:
                target = self._create(volume_id, store)
            elif volume_id not in self._passwords or volume_id not in target.accounts:
                self._account(target.tid, volume_id)
            if address not in target.acl:
                self.tgtadm.bind_address(target.tid, address)
            password = self._passwords[volume_id]
        host, port = self._portal
        return VolumeConnection(
            "iscsi", ((host, port),), f"{target.name}/{LUN}", volume_id, encrypt_secret(self._certificate, password)
        )

    def unexport(self, volume_id, node_ip=None):
        """
        Stop exporting a volume to the node at C{node_ip}; once no node is
        left (or with C{node_ip} C{None}) remove its target, LUN and
        account.  Unexporting what is not exported does nothing.
        """
        check_volume_id(volume_id)
        address = None if node_ip is None else _address(node_ip)
        with self._lock:
            target = self._find(volume_id)
            if target is None:
                self._passwords.pop(volume_id, None)
                return
            if address is not None:
                if address in target.acl:
                    self.tgtadm.unbind_address(target.tid, address)
                if set(target.acl) - {address}:
                    return
            self._remove(target, volume_id)

    def _create(self, volume_id, store):
        name = self.target_name(volume_id)
        for attempt in range(5):
            tid = 1 + max((target.tid for target in self.tgtadm.targets()), default=0)
            try:
                self.tgtadm.new_target(tid, name)
                break
            except StorageError as e:
                if "exist" not in e.message or attempt == 4:
                    raise
        target = Target(tid, name)
        try:
            self.tgtadm.new_lun(tid, LUN, store)
            self._account(tid, volume_id)
        except BaseException:
            try:
                self._remove(target, volume_id)
            except StorageError as e:
                self._log.error("Cannot undo the half-made target {name}: {error}", name=name, error=e.message)
            raise
        target.luns[LUN] = store
        target.accounts.append(volume_id)
        return target

    def _account(self, tid, user):
        """
        Make C{user}'s CHAP account anew with a new password, bound to the
        target.
        """
        password = "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))
        if user in self.tgtadm.accounts():
            self.tgtadm.delete_account(user)
        self.tgtadm.new_account(user, password)
        self._passwords[user] = password
        self.tgtadm.bind_account(tid, user)

    def _remove(self, target, user):
        """
        Remove a target (and the LUN and sessions it has) and its account,
        going on past what is already gone.
        """
        self._passwords.pop(user, None)
        failures = []
        for step in (lambda: self.tgtadm.delete_target(target.tid), lambda: self._delete_account(user)):
            try:
                step()
            except StorageError as e:
                failures.append(e.message)
        if failures:
            raise StorageError("; ".join(failures))

    def _delete_account(self, user):
        if user in self.tgtadm.accounts():
            self.tgtadm.delete_account(user)


def _address(node_ip):
    try:
        return str(ipaddress.ip_address(node_ip))
    except ValueError:
        raise InvalidParameterValue(f"The node address {node_ip!r} is not an IP address.")
