# -*- test-case-name: tests.hypervisor.test_libvirt -*-
"""
Tests for L{eucalyptus.hypervisor.libvirt} beyond the contract: its thread,
its timeouts, its error mapping and its KVM probe, mostly with the fake
libvirt module (hangs and injected errors); for the driver map in
L{eucalyptus.hypervisor}; and for the fake itself against the real module.
"""

import inspect
import secrets
import threading
import time

import libvirt
from lxml import etree
from lxml.builder import E
from twisted.internet import reactor, threads
from twisted.internet.defer import gatherResults, inlineCallbacks
from twisted.internet.task import deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase

from eucalyptus.hypervisor import DRIVERS, open_hypervisor, probe
from eucalyptus.hypervisor.errors import DomainNotFound, HypervisorError, HypervisorTimeout
from eucalyptus.hypervisor.libvirt import LibvirtHypervisor
from tests.fakes import fakelibvirt
from tests.fakes.fakelibvirt import FakeLibvirt

__all__ = ["FakeLibvirtTests", "ThreadTests", "TimeoutTests", "ErrorTests", "ProbeTests", "TestDriverTests", "DriverMapTests"]


def _signature(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def _domain(name):
    devices = E.devices(E.disk(E.source(file="/images/root.img"), E.target(dev="vda", bus="virtio"), type="file"))
    return etree.tostring(E.domain(E.name(name), E.memory("64", unit="MiB"), E.vcpu("1"), devices, type="qemu"), encoding="unicode")


def _disk(target):
    return etree.tostring(E.disk(E.source(file="/images/volume.img"), E.target(dev=target, bus="scsi"), type="file"), encoding="unicode")


class FakeLibvirtTests(SynchronousTestCase):
    """
    The fake libvirt module matches the real one wherever the driver uses it.
    """

    def assert_arg_spec_matches(self, fake, real):
        """
        C{fake} takes the same parameters as C{real}: names, kinds, defaults.
        """
        self.assertEqual(_signature(fake), _signature(real), f"{fake.__qualname__} differs from libvirt")

    def test_functions(self):
        """
        The module functions match.
        """
        fake = FakeLibvirt()
        self.assert_arg_spec_matches(fake.open, libvirt.open)
        self.assert_arg_spec_matches(fake.registerErrorHandler, libvirt.registerErrorHandler)

    def test_methods(self):
        """
        Every public method of the fake connection, domain and error
        matches the real class's method of the same name.
        """
        for fake_class, real_class in [
            (fakelibvirt.virConnect, libvirt.virConnect),
            (fakelibvirt.virDomain, libvirt.virDomain),
            (fakelibvirt.libvirtError, libvirt.libvirtError),
        ]:
            methods = [name for name, value in vars(fake_class).items() if callable(value) and not name.startswith("_")]
            self.assertTrue(methods)
            for name in methods:
                self.assert_arg_spec_matches(getattr(fake_class, name), getattr(real_class, name))
        self.assert_arg_spec_matches(fakelibvirt.libvirtError.__init__, libvirt.libvirtError.__init__)

    def test_constants(self):
        """
        The fake's constants have the real values.
        """
        names = [name for name in vars(FakeLibvirt) if name.startswith("VIR_")]
        self.assertTrue(names)
        self.assertEqual({name: getattr(FakeLibvirt, name) for name in names}, {name: getattr(libvirt, name) for name in names})


class _FakeDriverMixin:
    """
    A driver on a fake libvirtd holding one domain, C{self.name}.
    """

    driver_timeout = 10.0

    def setUp(self):
        self.fake = FakeLibvirt()
        self.name = "i-12345678"
        self.fake.open().createXML(_domain(self.name))
        del self.fake.calls[:]
        self.driver = LibvirtHypervisor("qemu:///system", domain_type="qemu", timeout=self.driver_timeout, libvirt_module=self.fake)
        self.addCleanup(self.driver.close)


class ThreadTests(_FakeDriverMixin, TestCase):
    """
    Every libvirt call runs on the driver's one thread, never the reactor's.
    """

    @inlineCallbacks
    def test_one_thread(self):
        """
        Calls of every kind, including the connection's opening, run on one
        thread that is not the reactor thread.
        """
        yield self.driver.host()
        yield self.driver.list_domains()
        yield self.driver.attach_device(self.name, _disk("sdb"))
        yield self.driver.stats(self.name)
        yield self.assertFailure(self.driver.describe("i-00000000"), DomainNotFound)
        self.assertEqual(len(self.fake.threads()), 1)
        self.assertIsNot(self.fake.threads()[0], threading.current_thread())
        self.assertEqual(self.fake.calls[0][0], "open")
        self.assertEqual([call for call, _ in self.fake.calls].count("open"), 1)

    def test_error_handler(self):
        """
        The driver silences libvirt's default error printer.
        """
        self.assertEqual(len(self.fake.handlers), 1)

    @inlineCallbacks
    def test_close(self):
        """
        L{LibvirtHypervisor.close} closes the connection and ends the thread.
        """
        yield self.driver.list_domains()
        (thread,) = self.fake.threads()
        yield self.driver.close()
        yield threads.deferToThread(thread.join, 5)
        self.assertFalse(thread.is_alive())
        self.assertEqual(self.fake.closed, 1)


class TimeoutTests(_FakeDriverMixin, TestCase):
    """
    A hung libvirt call times out and does not block the calls after it.
    """

    driver_timeout = 0.5

    @inlineCallbacks
    def test_hang(self):
        """
        A call that hangs fails with L{HypervisorTimeout} naming the call and
        the URI within the timeout; a call queued behind it and the next call
        succeed on a fresh thread and a fresh connection.
        """
        yield self.driver.list_domains()
        self.addCleanup(self.fake.hang("lookupByName").set)
        started = time.monotonic()
        hung = self.driver.describe(self.name)
        queued = self.driver.list_domains()
        failure = yield self.assertFailure(hung, HypervisorTimeout)
        self.assertLess(time.monotonic() - started, self.driver_timeout + 1)
        self.assertIn("describe('i-12345678')", str(failure))
        self.assertIn("qemu:///system", str(failure))
        self.assertEqual([domain.name for domain in (yield queued)], [self.name])
        self.assertEqual((yield self.driver.describe(self.name)).name, self.name)
        first, second = self.fake.threads()
        self.assertEqual([call for call, thread in self.fake.calls if thread is second][0], "open")

    @inlineCallbacks
    def test_late_answer(self):
        """
        When the abandoned thread finally returns, its answer is dropped, it
        closes its connection and ends, and the driver carries on.
        """
        release = self.fake.hang("lookupByName")
        self.addCleanup(release.set)
        yield self.assertFailure(self.driver.describe(self.name), HypervisorTimeout)
        (abandoned,) = self.fake.threads()
        release.set()
        yield threads.deferToThread(abandoned.join, 5)
        self.assertFalse(abandoned.is_alive())
        yield deferLater(reactor, 0, lambda: None)  # its answer reaches the reactor
        self.assertEqual(self.fake.closed, 1)
        self.assertEqual((yield self.driver.describe(self.name)).name, self.name)


class ErrorTests(_FakeDriverMixin, TestCase):
    """
    libvirt errors become L{HypervisorError}s.
    """

    @inlineCallbacks
    def test_no_domain(self):
        """
        C{VIR_ERR_NO_DOMAIN}, from whichever call, is L{DomainNotFound}.
        """
        self.fake.fail("info", libvirt.VIR_ERR_NO_DOMAIN, "Domain not found")
        yield self.assertFailure(self.driver.describe(self.name), DomainNotFound)

    @inlineCallbacks
    def test_other(self):
        """
        Any other code is a plain L{HypervisorError} carrying libvirt's
        message, the call and the URI.
        """
        self.fake.fail("destroy", libvirt.VIR_ERR_OPERATION_FAILED, "operation failed: the tea is cold")
        failure = yield self.assertFailure(self.driver.destroy(self.name), HypervisorError)
        self.assertNotIsInstance(failure, DomainNotFound)
        self.assertEqual(str(failure), "destroy('i-12345678') on qemu:///system: operation failed: the tea is cold")

    @inlineCallbacks
    def test_connect(self):
        """
        A failure to connect is a L{HypervisorError}, and the next call
        tries again.
        """
        self.fake.fail("open", libvirt.VIR_ERR_SYSTEM_ERROR, "Failed to connect socket")
        failure = yield self.assertFailure(self.driver.list_domains(), HypervisorError)
        self.assertIn("Failed to connect socket", str(failure))
        self.assertEqual(len((yield self.driver.list_domains())), 1)

    @inlineCallbacks
    def test_device_without_target(self):
        """
        A device description without C{<target dev>} is refused before
        libvirt sees it.
        """
        disk = etree.tostring(E.disk(E.source(file="/images/v.img"), type="file"), encoding="unicode")
        yield self.assertFailure(self.driver.attach_device(self.name, disk), HypervisorError)
        yield self.assertFailure(self.driver.attach_device(self.name, "<disk"), HypervisorError)
        self.assertNotIn("attachDeviceFlags", [call for call, _ in self.fake.calls])

    @inlineCallbacks
    def test_detach_by_target(self):
        """
        Unplugging goes by target: libvirt gets the device it has there.
        """
        yield self.driver.attach_device(self.name, _disk("sdb"))
        yield self.driver.detach_device(self.name, etree.tostring(E.disk(E.target(dev="sdb")), encoding="unicode"))
        self.assertEqual(self.fake.domains[self.name].device("sdb"), None)


class ProbeTests(TestCase):
    """
    Which domain type C{host()} reports, and when it probes for KVM.
    """

    def probe_answers(self, answer):
        calls = []

        def kvm_works():
            calls.append(threading.current_thread())
            return answer

        self.patch(probe, "kvm_works", kvm_works)
        return calls

    def driver(self, uri="qemu:///system", domain_type=None):
        driver = LibvirtHypervisor(uri, domain_type=domain_type, libvirt_module=FakeLibvirt())
        self.addCleanup(driver.close)
        return driver

    @inlineCallbacks
    def test_probed_once(self):
        """
        The probe runs once per driver, off the reactor thread, however
        many calls wait for it; no KVM means C{qemu}.
        """
        calls = self.probe_answers(False)
        driver = self.driver()
        first, second = yield gatherResults([driver.host(), driver.host()])
        third = yield driver.host()
        self.assertEqual((first.domain_type, first.name), ("qemu", "QEMU"))
        self.assertEqual(first, second)
        self.assertEqual(first, third)
        self.assertEqual(len(calls), 1)
        self.assertIsNot(calls[0], threading.current_thread())

    @inlineCallbacks
    def test_kvm(self):
        """
        When KVM works, guests get C{kvm}.
        """
        self.probe_answers(True)
        host = yield self.driver().host()
        self.assertEqual((host.domain_type, host.name, host.cores, host.memory_mib), ("kvm", "KVM", 2, 2048))

    @inlineCallbacks
    def test_not_probed(self):
        """
        A configured domain type, or the test driver, skips the probe.
        """
        calls = self.probe_answers(True)
        self.assertEqual((yield self.driver(domain_type="qemu").host()).domain_type, "qemu")
        self.assertEqual((yield self.driver("test:///default").host()).domain_type, "test")
        self.assertEqual(calls, [])


class TestDriverTests(TestCase):
    """
    The device emulation the driver keeps for libvirt's test driver.
    """

    @inlineCallbacks
    def test_stats_with_attached_disk(self):
        """
        A disk attached on the test driver counts as idle in C{stats}, and
        is forgotten with its domain.
        """
        driver = LibvirtHypervisor("test:///default", timeout=10)
        self.addCleanup(driver.close)
        name = f"euca-test-{secrets.token_hex(4)}"
        disk = E.disk(E.source(file="/images/root.img"), E.target(dev="vda"), type="file")
        xml = E.domain(E.name(name), E.memory("64", unit="MiB"), E.os(E.type("hvm")), E.devices(disk), type="test")
        yield driver.create(etree.tostring(xml, encoding="unicode"))
        yield driver.attach_device(name, _disk("sdb"))
        stats = yield driver.stats(name)
        self.assertGreaterEqual(stats.disk_read_bytes, 0)
        yield driver.destroy(name)
        yield driver.create(etree.tostring(xml, encoding="unicode"))
        self.addCleanup(driver.destroy, name)
        self.assertNotIn("sdb", (yield driver.domain_xml(name)))


class DriverMapTests(SynchronousTestCase):
    """
    L{open_hypervisor} picks a driver from the explicit L{DRIVERS} map.
    """

    def test_names(self):
        """
        C{kvm} and C{test} are the drivers, in any case.
        """
        self.assertEqual(sorted(DRIVERS), ["kvm", "test"])
        self.assertEqual(open_hypervisor("KVM", timeout=5).uri, "qemu:///system")
        self.assertEqual(open_hypervisor("test").uri, "test:///default")

    def test_unknown(self):
        """
        Any other name is a C{ValueError} listing the allowed ones.
        """
        error = self.assertRaises(ValueError, open_hypervisor, "eucalyptus.hypervisor.libvirt.LibvirtHypervisor")
        self.assertIn("kvm, test", str(error))
