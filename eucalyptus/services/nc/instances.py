# -*- test-case-name: tests.services.nc.test_instances -*-
"""
What the Node Controller remembers about each instance, and the states it
moves through.

Internally an instance is C{Staging} while its disks are built, C{Booting}
once libvirt started its domain, then whatever libvirt says (C{Running},
C{Blocked}, C{Paused}, C{Shutdown}, C{Shutoff}, C{Crashed}) until it is torn
down (C{Teardown}).  Upward, to the CC, only C{Pending}, C{Extant} and
C{Teardown} are reported, mapped as the original's C{change_state} does.

The record is kept as C{instance.json} in the instance's directory,
C{INSTANCE_PATH/work/<user>/<instance>/}, rewritten atomically on every
change, so a restarted NC can adopt what it was running.
"""

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace

from eucalyptus.files import write_atomically

__all__ = [
    "STAGING", "BOOTING", "RUNNING", "BLOCKED", "PAUSED", "SHUTDOWN", "SHUTOFF", "CRASHED",
    "TEARDOWN", "CANCELED", "PENDING", "EXTANT",
    "Instance", "Volume", "NetConfig", "VmType", "BootRecord",
    "reported_state", "from_libvirt", "valid_instance_id",
    "save", "load", "RECORD",
]

STAGING = "Staging"
BOOTING = "Booting"
RUNNING = "Running"
BLOCKED = "Waiting"
PAUSED = "Paused"
SHUTDOWN = "Shutdown"
SHUTOFF = "Shutoff"
CRASHED = "Crashed"
TEARDOWN = "Teardown"
CANCELED = "Canceled"

#: The three states reported upward.
PENDING = "Pending"
EXTANT = "Extant"

_ALWAYS = {STAGING: PENDING, CANCELED: PENDING, BOOTING: EXTANT, RUNNING: EXTANT, BLOCKED: EXTANT,
           PAUSED: EXTANT, TEARDOWN: TEARDOWN}

#: libvirt's domain state names to the NC's internal states.
_FROM_LIBVIRT = {"running": RUNNING, "blocked": BLOCKED, "paused": PAUSED, "shutdown": SHUTDOWN,
                 "shutoff": SHUTOFF, "crashed": CRASHED, "pmsuspended": PAUSED, "nostate": RUNNING}

_INSTANCE_ID = re.compile(r"^i-[0-9a-fA-F]{8}([0-9a-fA-F]{9})?$")

#: The record's file name in the instance directory.
RECORD = "instance.json"


def reported_state(new_state, previously_reported):
    """
    What the CC hears when an instance enters C{new_state}: shut-off and
    crashed instances stay C{Extant} once they were, else C{Pending}.
    """
    if new_state in _ALWAYS:
        return _ALWAYS[new_state]
    return EXTANT if previously_reported == EXTANT else PENDING


def from_libvirt(domain_state):
    """
    The internal state for one of libvirt's domain states.
    """
    return _FROM_LIBVIRT[domain_state]


def valid_instance_id(instance_id):
    """
    Whether C{instance_id} looks like an EC2 instance id (C{i-} and 8 or 17
    hex digits).
    """
    return bool(instance_id and _INSTANCE_ID.match(instance_id))


@dataclass
class BootRecord:
    """
    One virtual boot record: where a disk or boot file comes from.
    """

    type: str
    resource_location: str = "none"
    guest_device: str = "none"
    size: int = -1
    format: str = "none"
    id: str = ""


@dataclass
class VmType:
    """
    The shape of the VM: memory MB, cores, disk GB and its boot records.
    """

    name: str
    memory: int
    cores: int
    disk: int
    boot_records: list = field(default_factory=list)


@dataclass
class NetConfig:
    """
    The instance's primary network interface.
    """

    mac: str = ""
    private_ip: str = ""
    public_ip: str = ""
    vlan: int = -1
    network_index: int = -1
    interface_id: str = ""
    device: int = 0


@dataclass
class Volume:
    """
    An attached (or attaching, detaching) volume.
    """

    volume_id: str
    remote_dev: str
    local_dev: str
    target: str
    state: str = "attached"


@dataclass
class Instance:
    """
    Everything the NC knows about one instance.

    The first group of fields is what C{ncRunInstance} passed in and is
    echoed back; the rest is the NC's own: C{images} maps a role
    (C{kernel}, C{ramdisk}, C{machine}) to the image id, URL and cache key
    it uses, C{disks} a guest device (C{vda}) to its file, and C{stopped}
    says the user stopped it (C{ncStopInstance}) so its disks are kept.
    """

    instance_id: str
    user_id: str
    reservation_id: str = ""
    uuid: str = ""
    image_id: str = ""
    kernel_id: str = ""
    ramdisk_id: str = ""
    owner_id: str = ""
    account_id: str = ""
    key_name: str = ""
    vm: VmType = None
    net: NetConfig = field(default_factory=NetConfig)
    user_data: str = ""
    launch_index: str = ""
    platform: str = "linux"
    group_names: list = field(default_factory=list)
    group_ids: list = field(default_factory=list)
    root_directive: str = ""
    expiry_time: float = None
    # The NC's own.
    state: str = STAGING
    reported: str = PENDING
    launch_time: float = 0.0
    state_time: float = 0.0
    boot_time: float = None
    domain_state: str = ""
    failure: str = ""
    stopped: bool = False
    volumes: list = field(default_factory=list)
    images: dict = field(default_factory=dict)
    disks: dict = field(default_factory=dict)

    def enter(self, state, now):
        """
        Move to C{state} at time C{now}, updating the reported state.
        """
        if state == self.state:
            return
        self.state = state
        self.reported = reported_state(state, self.reported)
        self.state_time = now

    def volume(self, volume_id):
        """
        The attached volume of that id, or C{None}.
        """
        for volume in self.volumes:
            if volume.volume_id == volume_id:
                return volume
        return None

    def copy(self):
        """
        A copy whose later changes do not show in this one.
        """
        return from_dict(to_dict(self))


def to_dict(instance):
    """
    The record as plain JSON-able data.
    """
    return asdict(instance)


def from_dict(data):
    """
    The record from L{to_dict}'s data; unknown keys (from a newer NC) are
    ignored.
    """
    known = {f.name for f in fields(Instance)}
    data = {key: value for key, value in data.items() if key in known}
    vm = data.get("vm")
    if vm is not None:
        vm = dict(vm)
        vm["boot_records"] = [BootRecord(**record) for record in vm.get("boot_records", [])]
        data["vm"] = VmType(**vm)
    data["net"] = NetConfig(**data.get("net", {}))
    data["volumes"] = [Volume(**volume) for volume in data.get("volumes", [])]
    return replace(Instance(instance_id=data.pop("instance_id"), user_id=data.pop("user_id")), **data)


def save(instance, directory):
    """
    Write the record into C{directory} atomically and durably (blocking:
    run it in a thread).
    """
    write_atomically(os.path.join(directory, RECORD), json.dumps(to_dict(instance), indent=1, sort_keys=True))


def load(directory):
    """
    Read the record from C{directory} (blocking).

    @raise ValueError: the record is missing or unreadable.
    """
    path = os.path.join(directory, RECORD)
    try:
        with open(path, encoding="utf-8") as f:
            return from_dict(json.load(f))
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{path}: {e}")
