"""
The libvirt domain XML of an instance.
"""

from lxml import etree
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.domain import directory_of, disk_xml, domain_xml, target_name


def _instance(mac="d0:0d:00:00:00:01"):
    return records.Instance(
        "i-12345678", "alice", reservation_id="r-1", vm=records.VmType("m1.small", 256, 2, 5),
        net=records.NetConfig(mac=mac),
    )


PATHS = dict(
    kernel="/c/vmlinuz", ramdisk="/c/initrd", console="/w/console.log",
    disks=[("/w/root.qcow2", "vda", "qcow2"), ("/w/ephemeral.img", "vdb", "raw")],
)


class DomainTests(SynchronousTestCase):
    """
    What the domain definition says.
    """

    def test_direct_kernel_boot(self):
        """
        Kernel, ramdisk and a command line with the root device and the
        serial console; memory and cores from the type; a TCG domain type.
        """
        root = etree.fromstring(domain_xml(_instance(), PATHS, "qemu", "").encode())
        self.assertEqual(root.get("type"), "qemu")
        self.assertEqual(root.findtext("name"), "i-12345678")
        self.assertEqual(root.findtext("os/kernel"), "/c/vmlinuz")
        self.assertEqual(root.findtext("os/initrd"), "/c/initrd")
        self.assertEqual(root.findtext("os/cmdline"), "root=/dev/vda console=ttyS0")
        self.assertEqual(root.findtext("memory"), str(256 * 1024))
        self.assertEqual(root.findtext("vcpu"), "2")
        self.assertEqual(root.find("devices/serial/source").get("path"), "/w/console.log")
        disks = root.findall("devices/disk")
        self.assertEqual([d.find("target").get("dev") for d in disks], ["vda", "vdb"])
        self.assertEqual([d.find("target").get("bus") for d in disks], ["virtio", "virtio"])
        self.assertEqual(disks[0].find("driver").get("type"), "qcow2")
        self.assertIsNone(root.find("devices/interface"))

    def test_bridged_nic(self):
        """
        With a bridge configured the NIC is bridged with the instance's MAC.
        """
        root = etree.fromstring(domain_xml(_instance(), PATHS, "kvm", "eucabr0").encode())
        nic = root.find("devices/interface")
        self.assertEqual(nic.get("type"), "bridge")
        self.assertEqual(nic.find("mac").get("address"), "d0:0d:00:00:00:01")
        self.assertEqual(nic.find("source").get("bridge"), "eucabr0")

    def test_owner(self):
        """
        The NC's metadata names the instance directory; foreign domains have
        none.
        """
        self.assertEqual(directory_of(domain_xml(_instance(), PATHS, "qemu", "")), "/w")
        self.assertIsNone(directory_of("<domain><name>other</name></domain>"))

    def test_targets(self):
        """
        Requested device names become virtio (or SCSI) targets; nonsense is
        refused.
        """
        self.assertEqual(target_name("/dev/sdf", True), "vdf")
        self.assertEqual(target_name("sdf", False), "sdf")
        self.assertEqual(target_name("/dev/xvdg", True), "vdg")
        for bad in ("", "/dev/", "eth0", "/dev/sd"):
            self.assertRaises(ValueError, target_name, bad, True)

    def test_block_disk(self):
        """
        A device path is a block disk, a file path a file disk.
        """
        self.assertEqual(disk_xml("/dev/sdz", "vdf").get("type"), "block")
        self.assertEqual(disk_xml("/tmp/v.img", "vdf", serial="vol-1").findtext("serial"), "vol-1")
