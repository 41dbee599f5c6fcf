# -*- test-case-name: tests.services.nc.test_domain -*-
"""
The libvirt domain of an instance, as XML.

Linux instances boot their kernel and ramdisk directly with the root device
and C{console=ttyS0} on the command line; the serial console goes to the
instance's C{console.log}; disks are virtio (C{vda} root, C{vdb} ephemeral,
C{vdc} swap) unless configured otherwise; the NIC is bridged with the
instance's MAC when a bridge is configured.  The domain carries a metadata
element naming its user and instance directory, so an NC can tell its own
domains from anyone else's (another NC on the same libvirtd included).
"""

import os

from lxml import etree
from lxml.builder import ElementMaker

__all__ = ["domain_xml", "disk_xml", "target_name", "METADATA_NS", "directory_of"]

#: The namespace of the NC's metadata element in a domain.
METADATA_NS = "http://eucalyptus.com/ns/nc/1"

E = ElementMaker()
M = ElementMaker(namespace=METADATA_NS, nsmap={"euca": METADATA_NS})


def target_name(device, virtio):
    """
    The guest device name libvirt gets for a requested one: C{/dev/sdf},
    C{sdf} or C{vdf} become C{vdf} on virtio, C{sdf} otherwise.

    @raise ValueError: not a disk device name.
    """
    name = device.rsplit("/", 1)[-1]
    if len(name) < 3 or name[:2] not in ("sd", "vd", "hd", "xv") or not name[2:].isalnum():
        raise ValueError(f"{device!r} is not a disk device name such as /dev/sdf")
    if name.startswith("xvd"):
        name = name[1:]
    return ("vd" if virtio else "sd") + name[2:]


def _bus(target):
    return "virtio" if target.startswith("vd") else "scsi"


def disk_xml(source, target, disk_format="raw", serial=None, read_only=False):
    """
    A C{<disk>} element for a file or block device at C{source}, seen by the
    guest as C{target}.
    """
    block = source.startswith("/dev/")
    disk = E.disk(
        E.driver(name="qemu", type=disk_format),
        E.source(**({"dev": source} if block else {"file": source})),
        E.target(dev=target, bus=_bus(target)),
        type="block" if block else "file",
        device="disk",
    )
    if serial:
        disk.append(E.serial(serial))
    if read_only:
        disk.append(E.readonly())
    return disk


def domain_xml(instance, paths, domain_type, bridge, virtio_net=True):
    """
    The domain definition of C{instance}.

    @param paths: a mapping with C{kernel}, C{ramdisk} (optional), C{console}
        and C{disks}, a list of C{(source, target, format)}; the first disk
        is the root.
    @param domain_type: C{kvm}, C{qemu} or C{test}.
    @param bridge: the bridge to put the NIC on, or C{""} for no NIC.
    @return: the XML text.
    """
    vm = instance.vm
    root_target = paths["disks"][0][1] if paths["disks"] else "vda"
    cmdline = instance.root_directive or f"root=/dev/{root_target}"
    boot = [E.type("hvm", arch="x86_64", machine="pc"), E.kernel(paths["kernel"])]
    if paths.get("ramdisk"):
        boot.append(E.initrd(paths["ramdisk"]))
    boot.append(E.cmdline(f"{cmdline} console=ttyS0"))
    devices = E.devices(*[disk_xml(source, target, disk_format) for source, target, disk_format in paths["disks"]])
    if bridge and instance.net.mac:
        devices.append(
            E.interface(
                E.mac(address=instance.net.mac),
                E.source(bridge=bridge),
                E.model(type="virtio" if virtio_net else "e1000"),
                type="bridge",
            )
        )
    devices.append(E.serial(E.source(path=paths["console"]), E.target(port="0"), type="file"))
    domain = E.domain(
        E.name(instance.instance_id),
        E.metadata(
            M.instance(
                M.user(instance.user_id),
                M.reservation(instance.reservation_id),
                M.directory(os.path.dirname(paths["console"])),
            )
        ),
        E.memory(str(vm.memory * 1024), unit="KiB"),
        E.vcpu(str(vm.cores)),
        E.os(*boot),
        E.features(E.acpi()),
        E.clock(offset="utc"),
        E.on_poweroff("destroy"),
        E.on_reboot("restart"),
        E.on_crash("destroy"),
        devices,
        type=domain_type,
    )
    return etree.tostring(domain, encoding="unicode")


def directory_of(xml_text):
    """
    The instance directory in a domain's NC metadata, or C{None} when the
    domain is not an NC's.
    """
    root = etree.fromstring(xml_text.encode("utf-8"))
    return root.findtext(f"metadata/{{{METADATA_NS}}}instance/{{{METADATA_NS}}}directory")
