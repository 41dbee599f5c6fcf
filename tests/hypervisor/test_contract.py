# -*- test-case-name: tests.hypervisor.test_contract -*-
"""
One contract for every L{IHypervisor}: L{HypervisorContractTestsMixin} runs
against libvirt's C{test:///default}, against real qemu guests on
C{qemu:///system} (TCG, C{<domain type='qemu'>}) and against the fake
libvirt module, so the fake is held to the same contract.

The qemu tests need libvirtd: without it they fail, they are not skipped.
Each qemu guest boots the probe's halting boot sector from a raw disk, so
it costs about half a second to start; domains are grouped into few tests
because libvirt takes a second or more to destroy one on some hosts.
"""

import inspect
from dataclasses import asdict
import os
import secrets

from lxml import etree
from lxml.builder import E
from twisted.internet.defer import inlineCallbacks
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer
from zope.interface.exceptions import Invalid
from zope.interface.interface import Method
from zope.interface.verify import verifyObject

from eucalyptus.hypervisor.errors import DeviceBusy, DomainNotFound, HypervisorError
from eucalyptus.hypervisor.interfaces import DOMAIN_STATES, DomainInfo, DomainStats, HostInfo, IHypervisor
from eucalyptus.hypervisor.libvirt import LibvirtHypervisor
from eucalyptus.hypervisor.probe import boot_sector
from tests.daemons import qemu_directory
from tests.fakes.fakelibvirt import FakeLibvirt

__all__ = [
    "assert_provides",
    "HypervisorContractTestsMixin",
    "TestDriverContractTests",
    "QemuContractTests",
    "FakeLibvirtContractTests",
    "ProvidesCheckTests",
]

_HOST_NAMES = {"kvm": "KVM", "qemu": "QEMU", "test": "TEST"}


def assert_provides(testcase, interface, provider):
    """
    Fail C{testcase} unless C{provider} fully provides C{interface}:
    C{verifyObject} passes and every name the interface declares exists on
    the provider, each method on its class with the same parameter names.
    """
    verifyObject(interface, provider)
    for name in interface.names(all=True):
        declared = interface[name]
        testcase.assertTrue(hasattr(provider, name), f"{type(provider).__name__} has no {name}")
        if not isinstance(declared, Method):
            continue
        implemented = getattr(type(provider), name, None)
        testcase.assertTrue(callable(implemented), f"{type(provider).__name__}.{name} is not a method")
        parameters = list(inspect.signature(implemented).parameters)[1:]
        testcase.assertEqual(
            parameters,
            list(declared.getSignatureInfo()["positional"]),
            f"{type(provider).__name__}.{name} parameters differ from {interface.__name__}.{name}",
        )


def _disk(source, target, bus):
    return E.disk(
        E.driver(name="qemu", type="raw"),
        E.source(file=source),
        E.target(dev=target, bus=bus),
        type="file",
        device="disk",
    )


def _text(element):
    return etree.tostring(element, encoding="unicode")


def _targets(xml):
    return etree.fromstring(xml).xpath("devices/*/target/@dev")


class HypervisorContractTestsMixin:
    """
    What every L{IHypervisor} does.  A test case using this provides:

      - C{make_driver()}: the driver under test;
      - C{domain_description(name)}: XML of a small domain with one
        vCPU, 64 MiB and no disk at target C{sdb};
      - C{disk_description(target)}: XML of a disk to hot-plug;
      - C{domain_types}: the domain types L{IHypervisor.host} may report.

    Every domain a test makes is destroyed in its cleanup, pass or fail.
    """

    def setUp(self):
        self.driver = self.make_driver()
        self.addCleanup(self.driver.close)
        self.created = []
        self.addCleanup(self._destroy_created)

    @inlineCallbacks
    def _destroy_created(self):
        for name in self.created:
            try:
                yield self.driver.destroy(name)
            except DomainNotFound:
                pass  # The test destroyed or shut it down itself.

    @inlineCallbacks
    def create_domain(self):
        """
        Create a uniquely named domain, to be destroyed in cleanup.

        @return: Deferred L{DomainInfo}.
        """
        name = f"euca-contract-{secrets.token_hex(4)}"
        self.created.append(name)
        info = yield self.driver.create(self.domain_description(name))
        return info

    def test_provides(self):
        """
        The driver provides L{IHypervisor}: every method, with the declared
        parameter names, and the C{uri} attribute.
        """
        assert_provides(self, IHypervisor, self.driver)

    @inlineCallbacks
    def test_host(self):
        """
        L{IHypervisor.host} reports positive integer cores and memory, the
        domain type guests get here and the matching name.
        """
        host = yield self.driver.host()
        self.assertIsInstance(host, HostInfo)
        self.assertIsInstance(host.cores, int)
        self.assertIsInstance(host.memory_mib, int)
        self.assertGreater(host.cores, 0)
        self.assertGreater(host.memory_mib, 0)
        self.assertIn(host.domain_type, self.domain_types)
        self.assertEqual(host.name, _HOST_NAMES[host.domain_type])

    @inlineCallbacks
    def test_lifecycle(self):
        """
        A created domain runs, is listed and described alike, has XML naming
        it, cannot be created twice, keeps its identity through a reboot, and
        once destroyed is not found.
        """
        info = yield self.create_domain()
        self.assertIsInstance(info, DomainInfo)
        self.assertEqual((info.state, info.vcpus, info.memory_kib), ("running", 1, 64 * 1024))
        listed = {domain.name: domain for domain in (yield self.driver.list_domains())}
        self.assertEqual(listed[info.name], info)
        self.assertEqual((yield self.driver.describe(info.name)), info)
        self.assertEqual(etree.fromstring((yield self.driver.domain_xml(info.name))).findtext("name"), info.name)

        yield self.assertFailure(self.driver.create(self.domain_description(info.name)), HypervisorError)
        self.assertEqual((yield self.driver.describe(info.name)).uuid, info.uuid)

        self.assertIsNone((yield self.driver.reboot(info.name)))
        self.assertEqual((yield self.driver.describe(info.name)).uuid, info.uuid)

        self.assertIsNone((yield self.driver.destroy(info.name)))
        yield self.assertFailure(self.driver.describe(info.name), DomainNotFound)
        yield self.assertFailure(self.driver.destroy(info.name), DomainNotFound)
        self.assertNotIn(info.name, [domain.name for domain in (yield self.driver.list_domains())])

    @inlineCallbacks
    def test_devices(self):
        """
        A hot-plugged disk shows in the domain's XML; plugging another at
        the same target is L{DeviceBusy}; unplugging it removes it and frees
        the target; unplugging what is not there is a L{HypervisorError}.
        """
        name = (yield self.create_domain()).name
        yield self.driver.attach_device(name, self.disk_description("sdb"))
        self.assertIn("sdb", _targets((yield self.driver.domain_xml(name))))
        yield self.assertFailure(self.driver.attach_device(name, self.disk_description("sdb")), DeviceBusy)

        yield self.driver.detach_device(name, self.disk_description("sdb"))
        self.assertNotIn("sdb", _targets((yield self.driver.domain_xml(name))))
        yield self.assertFailure(self.driver.detach_device(name, self.disk_description("sdb")), HypervisorError)
        yield self.driver.attach_device(name, self.disk_description("sdb"))
        self.assertIn("sdb", _targets((yield self.driver.domain_xml(name))))

    @inlineCallbacks
    def test_stats_and_shutdown(self):
        """
        L{IHypervisor.stats} gives integer counters and a float timestamp
        (with a hot-plugged disk too); L{IHypervisor.shutdown} is accepted,
        after which the guest is either still there or gone.
        """
        name = (yield self.create_domain()).name
        yield self.driver.attach_device(name, self.disk_description("sdb"))
        stats = yield self.driver.stats(name)
        self.assertIsInstance(stats, DomainStats)
        self.assertIsInstance(stats.timestamp, float)
        counters = {field: value for field, value in asdict(stats).items() if field != "timestamp"}
        self.assertEqual({field: type(value) for field, value in counters.items()}, dict.fromkeys(counters, int))
        self.assertTrue(all(value >= 0 for value in counters.values()), counters)
        self.assertEqual(stats.vcpus, 1)

        self.assertIsNone((yield self.driver.shutdown(name)))
        try:
            info = yield self.driver.describe(name)
        except DomainNotFound:
            return
        self.assertIn(info.state, DOMAIN_STATES)

    @inlineCallbacks
    def test_unknown_domain(self):
        """
        Naming a domain that does not exist is L{DomainNotFound}.
        """
        name = f"euca-contract-missing-{secrets.token_hex(4)}"
        for call in (self.driver.describe, self.driver.domain_xml, self.driver.destroy, self.driver.stats):
            yield self.assertFailure(call(name), DomainNotFound)
        yield self.assertFailure(self.driver.attach_device(name, self.disk_description("sdb")), DomainNotFound)

    @inlineCallbacks
    def test_close(self):
        """
        After L{IHypervisor.close} calls fail with L{HypervisorError}; a
        second close is harmless.
        """
        yield self.driver.list_domains()
        yield self.driver.close()
        yield self.assertFailure(self.driver.list_domains(), HypervisorError)
        yield self.driver.close()


class TestDriverContractTests(HypervisorContractTestsMixin, TestCase):
    """
    The contract on libvirt's own in-process C{test:///default} driver.
    """

    domain_types = ("test",)

    def make_driver(self):
        return LibvirtHypervisor("test:///default", timeout=10)

    def domain_description(self, name):
        return _text(
            E.domain(
                E.name(name),
                E.memory("64", unit="MiB"),
                E.vcpu("1"),
                E.os(E.type("hvm")),
                E.devices(_disk("/nonexistent/root.img", "vda", "virtio"), E.interface(type="ethernet")),
                type="test",
            )
        )

    def disk_description(self, target):
        return _text(_disk("/nonexistent/volume.img", target, "scsi"))


class FakeLibvirtContractTests(HypervisorContractTestsMixin, TestCase):
    """
    The contract on the fake libvirt module the other tests inject, so the
    fake behaves as the real drivers do.
    """

    domain_types = ("qemu",)

    def make_driver(self):
        return LibvirtHypervisor("qemu:///system", domain_type="qemu", timeout=10, libvirt_module=FakeLibvirt())

    def domain_description(self, name):
        interface = E.interface(E.target(dev="vnet0"), type="ethernet")
        devices = E.devices(_disk("/images/root.img", "vda", "virtio"), interface)
        return _text(E.domain(E.name(name), E.memory("64", unit="MiB"), E.vcpu("1"), devices, type="qemu"))

    def disk_description(self, target):
        return _text(_disk("/images/volume.img", target, "scsi"))


class QemuContractTests(HypervisorContractTestsMixin, TestCase):
    """
    The contract on C{qemu:///system} with real qemu guests under TCG: each
    boots a halting boot sector from a raw IDE disk, has a virtio-scsi
    controller for hot-plugged disks and a tap interface (C{type='ethernet'})
    for network counters.
    """

    domain_types = ("qemu",)

    def make_driver(self):
        return LibvirtHypervisor("qemu:///system", domain_type="qemu", timeout=30)

    @inlineCallbacks
    def setUp(self):
        HypervisorContractTestsMixin.setUp(self)
        # qemu runs as another user (libvirt relabels the images, not the
        # directories).
        directory = qemu_directory(self)
        self.boot_image = os.path.join(directory, "boot.img")
        with open(self.boot_image, "wb") as f:
            f.write(boot_sector("euca contract guest", spins=1))
        self.volume_image = os.path.join(directory, "volume.img")
        with open(self.volume_image, "wb") as f:
            f.truncate(1024 * 1024)
        try:
            yield self.driver.list_domains()
        except HypervisorError as e:
            self.fail(f"libvirtd must run for these tests (start it with `virtlogd -d; libvirtd -d`): {e}")

    def domain_description(self, name):
        return _text(
            E.domain(
                E.name(name),
                E.memory("64", unit="MiB"),
                E.vcpu("1"),
                E.os(E.type("hvm", arch="x86_64", machine="pc"), E.boot(dev="hd")),
                E.devices(
                    _disk(self.boot_image, "hda", "ide"),
                    E.controller(type="scsi", model="virtio-scsi"),
                    E.controller(type="usb", model="none"),
                    E.interface(E.model(type="virtio"), E.rom(enabled="no"), type="ethernet"),
                    E.memballoon(model="none"),
                ),
                type="qemu",
            )
        )

    def disk_description(self, target):
        return _text(_disk(self.volume_image, target, "scsi"))


class _Renamed(LibvirtHypervisor):
    def describe(self, instance):
        return LibvirtHypervisor.describe(self, instance)


_Missing = implementer(IHypervisor)(type("_Missing", (), {k: v for k, v in vars(LibvirtHypervisor).items() if k != "stats"}))


class ProvidesCheckTests(SynchronousTestCase):
    """
    L{assert_provides} fails a driver whose methods are missing or renamed,
    so the contract cannot pass by accident.
    """

    def test_passes(self):
        """
        The real driver passes.
        """
        assert_provides(self, IHypervisor, LibvirtHypervisor("test:///default", libvirt_module=FakeLibvirt()))

    def test_renamed_parameter(self):
        """
        A method whose parameter is renamed fails the check.
        """
        driver = _Renamed("test:///default", libvirt_module=FakeLibvirt())
        self.assertRaises(self.failureException, assert_provides, self, IHypervisor, driver)

    def test_missing_method(self):
        """
        A missing method fails the check.
        """
        driver = _Missing("test:///default", libvirt_module=FakeLibvirt())
        self.assertRaises(Invalid, assert_provides, self, IHypervisor, driver)
