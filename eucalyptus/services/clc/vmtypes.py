# -*- test-case-name: tests.services.clc.test_vmtypes -*-
"""
VM types: the sizes an instance can have (C{m1.small}: 1 core, 256 MB of
memory, 5 GB of disk), kept in the cloud database so an administrator can
change them, and C{DescribeInstanceTypes}.

The table is filled with Eucalyptus's default types (3.3 to 4.4, the list
of C{VmTypes.java}; see L{DEFAULT_TYPES}) when the schema's first
migration creates it, so every cloud database has them from the start.
An administrator changes a type's cores, memory or disk with
L{modify_vm_type}; EC2 has no action for that (Eucalyptus had its own,
C{ModifyInstanceTypeAttribute}, behind C{euca-modify-instance-type}).

A type's disk is the total the node carves for an instance of it (root,
ephemeral and swap), in whole GB, as the CC and NC account it.

The functions taking a connection are blocking; the EC2 action runs in a
thread.
"""

from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Integer, String, Table, event, select, update

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.db import metadata
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import InvalidInstanceType
from eucalyptus.services.clc.ec2.filters import select as select_items
from eucalyptus.services.clc.ec2.paging import page

__all__ = [
    "ACTIONS",
    "DEFAULT_TYPE",
    "DEFAULT_TYPES",
    "VmType",
    "vm_types",
    "vm_type",
    "all_vm_types",
    "modify_vm_type",
    "describe_instance_types",
    "instance_type_info",
]

#: The type an instance gets when C{RunInstances} names none
#: (C{cloud.vmtypes.default_type_name}).
DEFAULT_TYPE = "m1.small"

#: Eucalyptus's default types: name, cores, memory MB, disk GB, the most
#: network interfaces, and whether the type is EBS-only (no instance
#: store: it boots EBS-backed images only).
DEFAULT_TYPES = (
    ("t1.micro", 1, 256, 5, 2, True),
    ("m1.small", 1, 256, 5, 2, False),
    ("m1.medium", 1, 512, 10, 2, False),
    ("c1.medium", 2, 512, 10, 2, False),
    ("m1.large", 2, 512, 10, 3, False),
    ("m1.xlarge", 2, 1024, 10, 4, False),
    ("m2.xlarge", 2, 2048, 10, 4, False),
    ("c1.xlarge", 2, 2048, 10, 4, False),
    ("m3.xlarge", 4, 2048, 15, 4, True),
    ("m2.2xlarge", 2, 4096, 30, 4, False),
    ("m3.2xlarge", 4, 4096, 30, 4, True),
    ("cc1.4xlarge", 8, 3072, 60, 4, False),
    ("m2.4xlarge", 8, 4096, 60, 8, False),
    ("hi1.4xlarge", 8, 6144, 120, 8, False),
    ("cc2.8xlarge", 16, 6144, 120, 8, False),
    ("cg1.4xlarge", 16, 12288, 200, 8, False),
    ("cr1.8xlarge", 16, 16384, 240, 8, False),
    ("hs1.8xlarge", 48, 119808, 24000, 8, False),
)

#: Types whose instance store is solid state.
_SSD = frozenset(("hi1.4xlarge", "cr1.8xlarge"))

#: The largest value an administrator may give cores, memory (MB) or disk
#: (GB): what the cluster's SOAP messages carry (a 32-bit int).
_LIMIT = 2**31 - 1

vm_types = Table(
    "vm_types",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("cores", Integer, nullable=False),
    Column("memory", Integer, nullable=False),
    Column("disk", Integer, nullable=False),
    Column("max_nics", Integer, nullable=False),
    Column("ebs_only", Boolean, nullable=False),
)


@event.listens_for(vm_types, "after_create")
def _seed(table, connection, **_):
    """
    Fill the new table with L{DEFAULT_TYPES}, in the migration that makes
    it.
    """
    connection.execute(
        table.insert(),
        [
            dict(name=name, position=position, cores=cores, memory=memory, disk=disk, max_nics=nics, ebs_only=ebs)
            for position, (name, cores, memory, disk, nics, ebs) in enumerate(DEFAULT_TYPES)
        ],
    )


@dataclass(frozen=True)
class VmType:
    """
    One VM type.

    @ivar cores: virtual CPUs.
    @ivar memory: memory in MB.
    @ivar disk: disk in GB (root, ephemeral and swap together).
    @ivar max_nics: the most network interfaces an instance may have.
    @ivar ebs_only: no instance store; only EBS-backed images boot on it.
    """

    name: str
    cores: int
    memory: int
    disk: int
    max_nics: int = 2
    ebs_only: bool = False


def _from_row(row):
    return VmType(row.name, row.cores, row.memory, row.disk, row.max_nics, bool(row.ebs_only))


def all_vm_types(conn):
    """
    Every VM type, in Eucalyptus's order (smallest first).

    @param conn: a connection to the cloud database.
    @return: a list of L{VmType}.
    """
    query = select(vm_types).order_by(vm_types.c.position, vm_types.c.name)
    return [_from_row(row) for row in conn.execute(query)]


def vm_type(conn, name):
    """
    The VM type called C{name}, for C{RunInstances}.

    @raise InvalidParameterValue: there is none (C{Invalid instance type}).
    """
    row = conn.execute(select(vm_types).where(vm_types.c.name == name)).first()
    if row is None:
        raise InvalidParameterValue(f"Invalid instance type: {name}")
    return _from_row(row)


def _size(what, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _LIMIT:
        raise InvalidParameterValue(
            f"The {what} of a VM type must be a whole number from 1 to {_LIMIT}, not {value!r}."
        )
    return value


def modify_vm_type(conn, name, cores=None, memory=None, disk=None):
    """
    Change a VM type (an administrator's act; EC2 has no action for it).
    Instances already running keep the size they started with; the
    clusters learn the new size with their next C{DescribeResources}.

    @param conn: a connection in a transaction.
    @param cores: the new number of virtual CPUs, or L{None} to keep it;
        likewise C{memory} (MB) and C{disk} (GB).
    @return: the changed L{VmType}.
    @raise InvalidParameterValue: no such type, or a value that is not a
        positive whole number.
    """
    values = {
        key: value
        for key, value in (("cores", _size("cores", cores)), ("memory", _size("memory", memory)),
                           ("disk", _size("disk", disk)))
        if value is not None
    }  # fmt: skip
    current = vm_type(conn, name)
    if values:
        conn.execute(update(vm_types).where(vm_types.c.name == name).values(**values))
    return vm_type(conn, current.name)


def instance_type_info(vm):
    """
    A VM type as C{DescribeInstanceTypes} describes it (C{InstanceTypeInfo}).
    """
    info = {
        "InstanceType": vm.name,
        "CurrentGeneration": True,
        "FreeTierEligible": False,
        "SupportedUsageClasses": ["on-demand"],
        "SupportedRootDeviceTypes": ["ebs"] if vm.ebs_only else ["instance-store"],
        "SupportedVirtualizationTypes": ["paravirtual"],
        "BareMetal": False,
        "ProcessorInfo": {"SupportedArchitectures": ["i386", "x86_64"]},
        "VCpuInfo": {
            "DefaultVCpus": vm.cores,
            "DefaultCores": vm.cores,
            "DefaultThreadsPerCore": 1,
            "ValidCores": list(range(1, vm.cores + 1)) if vm.cores <= 128 else [vm.cores],
            "ValidThreadsPerCore": [1],
        },
        "MemoryInfo": {"SizeInMiB": vm.memory},
        "InstanceStorageSupported": not vm.ebs_only,
        "EbsInfo": {"EbsOptimizedSupport": "unsupported", "EncryptionSupport": "unsupported",
                    "NvmeSupport": "unsupported"},
        "NetworkInfo": {
            "NetworkPerformance": "Moderate",
            "MaximumNetworkInterfaces": vm.max_nics,
            "MaximumNetworkCards": 1,
            "DefaultNetworkCardIndex": 0,
            "Ipv4AddressesPerInterface": 1,
            "Ipv6AddressesPerInterface": 0,
            "Ipv6Supported": False,
            "EnaSupport": "unsupported",
            "EfaSupported": False,
            "EncryptionInTransitSupported": False,
        },
        "PlacementGroupInfo": {"SupportedStrategies": []},
        "HibernationSupported": False,
        "BurstablePerformanceSupported": False,
        "DedicatedHostsSupported": False,
        "AutoRecoverySupported": False,
        "SupportedBootModes": ["legacy-bios"],
    }  # fmt: skip
    if not vm.ebs_only:
        kind = "ssd" if vm.name in _SSD else "hdd"
        info["InstanceStorageInfo"] = {
            "TotalSizeInGB": vm.disk,
            "Disks": [{"SizeInGB": vm.disk, "Count": 1, "Type": kind}],
            "NvmeSupport": "unsupported",
            "EncryptionSupport": "unsupported",
        }
    return info


_FILTERS = {
    "instance-type": lambda i: i["InstanceType"],
    "current-generation": lambda i: i["CurrentGeneration"],
    "free-tier-eligible": lambda i: i["FreeTierEligible"],
    "bare-metal": lambda i: i["BareMetal"],
    "burstable-performance-supported": lambda i: i["BurstablePerformanceSupported"],
    "dedicated-hosts-supported": lambda i: i["DedicatedHostsSupported"],
    "hibernation-supported": lambda i: i["HibernationSupported"],
    "auto-recovery-supported": lambda i: i["AutoRecoverySupported"],
    "supported-usage-class": lambda i: i["SupportedUsageClasses"],
    "supported-root-device-type": lambda i: i["SupportedRootDeviceTypes"],
    "supported-virtualization-type": lambda i: i["SupportedVirtualizationTypes"],
    "supported-boot-mode": lambda i: i["SupportedBootModes"],
    "processor-info.supported-architecture": lambda i: i["ProcessorInfo"]["SupportedArchitectures"],
    "vcpu-info.default-vcpus": lambda i: i["VCpuInfo"]["DefaultVCpus"],
    "vcpu-info.default-cores": lambda i: i["VCpuInfo"]["DefaultCores"],
    "vcpu-info.default-threads-per-core": lambda i: i["VCpuInfo"]["DefaultThreadsPerCore"],
    "vcpu-info.valid-cores": lambda i: i["VCpuInfo"]["ValidCores"],
    "vcpu-info.valid-threads-per-core": lambda i: i["VCpuInfo"]["ValidThreadsPerCore"],
    "memory-info.size-in-mib": lambda i: i["MemoryInfo"]["SizeInMiB"],
    "instance-storage-supported": lambda i: i["InstanceStorageSupported"],
    "instance-storage-info.total-size-in-gb": lambda i: (i.get("InstanceStorageInfo") or {}).get("TotalSizeInGB"),
    "instance-storage-info.disk.size-in-gb": lambda i: [
        d["SizeInGB"] for d in (i.get("InstanceStorageInfo") or {}).get("Disks", [])
    ],
    "instance-storage-info.disk.count": lambda i: [
        d["Count"] for d in (i.get("InstanceStorageInfo") or {}).get("Disks", [])
    ],
    "instance-storage-info.disk.type": lambda i: [
        d["Type"] for d in (i.get("InstanceStorageInfo") or {}).get("Disks", [])
    ],
    "network-info.maximum-network-interfaces": lambda i: i["NetworkInfo"]["MaximumNetworkInterfaces"],
    "network-info.ipv4-addresses-per-interface": lambda i: i["NetworkInfo"]["Ipv4AddressesPerInterface"],
    "network-info.ipv6-supported": lambda i: i["NetworkInfo"]["Ipv6Supported"],
    "network-info.ena-support": lambda i: i["NetworkInfo"]["EnaSupport"],
    "network-info.efa-supported": lambda i: i["NetworkInfo"]["EfaSupported"],
    "network-info.network-performance": lambda i: i["NetworkInfo"]["NetworkPerformance"],
}


@blocking
def describe_instance_types(context, params):
    """
    C{DescribeInstanceTypes}: the cloud's VM types, with their size.

    @raise InvalidInstanceType: C{InstanceTypes} names a type the cloud
        does not have.
    @raise InvalidParameterValue: an unknown filter, or C{MaxResults} out
        of 5 to 100.
    """
    with context.cloud.db.connect() as conn:
        types = all_vm_types(conn)
    asked = params.get("InstanceTypes") or []
    known = {vm.name for vm in types}
    missing = [name for name in asked if name not in known]
    if missing:
        raise InvalidInstanceType(f"The following supplied instance types do not exist: [{', '.join(missing)}]")
    order = {vm.name: f"{position:05d}" for position, vm in enumerate(types)}
    if asked:
        types = [vm for vm in types if vm.name in asked]
    items = select_items([instance_type_info(vm) for vm in types], params.get("Filters"), _FILTERS)
    chosen, token = page(
        items, lambda i: order[i["InstanceType"]], params.get("MaxResults"), params.get("NextToken"), 5, 100
    )
    return {"InstanceTypes": chosen, "NextToken": token}


#: EC2 action name to its function.
ACTIONS = {"DescribeInstanceTypes": describe_instance_types}
