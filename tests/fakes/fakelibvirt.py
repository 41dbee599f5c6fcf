# -*- test-case-name: tests.hypervisor.test_libvirt -*-
"""
A fake C{libvirt} module for what libvirt's own C{test:///default} driver
cannot do: calls that hang and calls that fail with a chosen error code.

Pass a L{FakeLibvirt} as C{LibvirtHypervisor(..., libvirt_module=fake)}.  It
stands for one libvirtd: every connection it opens sees the same domains
(like C{qemu:///system}), hot-plug edits the domain's XML, a guest ignores
ACPI requests, and every call records the thread that made it.  Only what
the driver uses is here, and the signatures are checked against the real
module (C{tests.hypervisor.test_libvirt.FakeLibvirtTests}), so the fake
cannot drift from it.
"""

import threading
import uuid

from lxml import etree

__all__ = ["FakeLibvirt", "libvirtError", "virConnect", "virDomain"]

VIR_ERR_INTERNAL_ERROR = 1
VIR_ERR_NO_SUPPORT = 3
VIR_ERR_INVALID_ARG = 8
VIR_ERR_OPERATION_FAILED = 9
VIR_ERR_NO_DOMAIN = 42
VIR_DOMAIN_RUNNING = 1
VIR_DOMAIN_AFFECT_LIVE = 1
VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN = 1

_UNITS = {"KiB": 1, "k": 1, "MiB": 1024, "M": 1024, "GiB": 1024**2, "G": 1024**2}


class libvirtError(Exception):
    """
    What libvirt raises; the code and message are set by the fake.
    """

    def __init__(self, defmsg):
        Exception.__init__(self, defmsg)
        self.code = VIR_ERR_INTERNAL_ERROR
        self.message = defmsg

    def get_error_code(self):
        return self.code

    def get_error_message(self):
        return self.message


def _error(code, message):
    error = libvirtError(message)
    error.code = code
    return error


class FakeLibvirt:
    """
    Stands in for the C{libvirt} module, with its own pretend libvirtd.

    @ivar domains: domain name to L{_Record}.
    @ivar calls: C{(call name, thread)} for every call, in order.
    @ivar handlers: the error handlers registered.
    @ivar closed: how many connections were closed.
    """

    libvirtError = libvirtError
    VIR_ERR_INTERNAL_ERROR = VIR_ERR_INTERNAL_ERROR
    VIR_ERR_NO_SUPPORT = VIR_ERR_NO_SUPPORT
    VIR_ERR_INVALID_ARG = VIR_ERR_INVALID_ARG
    VIR_ERR_OPERATION_FAILED = VIR_ERR_OPERATION_FAILED
    VIR_ERR_NO_DOMAIN = VIR_ERR_NO_DOMAIN
    VIR_DOMAIN_RUNNING = VIR_DOMAIN_RUNNING
    VIR_DOMAIN_AFFECT_LIVE = VIR_DOMAIN_AFFECT_LIVE
    VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN = VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN

    def __init__(self):
        self.domains = {}
        self.calls = []
        self.handlers = []
        self.closed = 0
        self._faults = {}
        self._lock = threading.Lock()

    # The test's controls.

    def hang(self, call):
        """
        Make the next C{call} (e.g. C{"lookupByName"}) block until the
        returned event is set; set it in the test's cleanup.
        """
        event = threading.Event()
        self._faults.setdefault(call, []).append(event.wait)
        return event

    def fail(self, call, code, message="injected failure"):
        """
        Make the next C{call} raise L{libvirtError} with C{code}.
        """

        def raise_error():
            raise _error(code, message)

        self._faults.setdefault(call, []).append(raise_error)

    def threads(self):
        """
        The threads that made calls, in order, without repeats.
        """
        return list(dict.fromkeys(thread for _, thread in self.calls))

    def enter(self, call):
        """
        Record C{call} and play its injected fault, if any.
        """
        with self._lock:
            self.calls.append((call, threading.current_thread()))
            faults = self._faults.get(call)
            fault = faults.pop(0) if faults else None
        if fault is not None:
            fault()

    # The module's functions.

    def open(self, name=None):
        self.enter("open")
        return virConnect(self, name)

    def registerErrorHandler(self, f, ctx):
        self.handlers.append((f, ctx))
        return 0


class _Record:
    """
    One domain of the pretend libvirtd.
    """

    def __init__(self, tree):
        self.tree = tree
        self.name = tree.findtext("name")
        self.uuid = str(uuid.uuid4())
        etree.SubElement(tree, "uuid").text = self.uuid
        memory = tree.find("memory")
        self.memory_kib = int(memory.text) * _UNITS[memory.get("unit", "KiB")]
        self.vcpus = int(tree.findtext("vcpu", "1"))
        if tree.find("devices") is None:
            etree.SubElement(tree, "devices")

    def device(self, target):
        return next(iter(self.tree.xpath("devices/*[target/@dev=$dev]", dev=target)), None)


class virConnect:
    """
    A connection to the fake's libvirtd.
    """

    def __init__(self, fake, uri):
        self._fake = fake
        self.uri = uri

    def getInfo(self):
        self._fake.enter("getInfo")
        return ["x86_64", 2048, 2, 2000, 1, 1, 2, 1]

    def listAllDomains(self, flags=0):
        self._fake.enter("listAllDomains")
        return [virDomain(self, record) for record in list(self._fake.domains.values())]

    def lookupByName(self, name):
        self._fake.enter("lookupByName")
        record = self._fake.domains.get(name)
        if record is None:
            raise _error(VIR_ERR_NO_DOMAIN, f"Domain not found: no domain with matching name '{name}'")
        return virDomain(self, record)

    def createXML(self, xmlDesc, flags=0):
        self._fake.enter("createXML")
        record = _Record(etree.fromstring(xmlDesc))
        if record.name in self._fake.domains:
            raise _error(VIR_ERR_OPERATION_FAILED, f"operation failed: domain '{record.name}' already exists")
        self._fake.domains[record.name] = record
        return virDomain(self, record)

    def close(self):
        self._fake.enter("close")
        self._fake.closed += 1
        return 0


class virDomain:
    """
    A handle on one of the fake's domains.
    """

    def __init__(self, conn, _obj):
        self._fake = conn._fake
        self._record = _obj

    def _enter(self, call):
        self._fake.enter(call)
        if self._fake.domains.get(self._record.name) is not self._record:
            raise _error(VIR_ERR_NO_DOMAIN, "Domain not found")
        return self._record

    def name(self):
        return self._enter("name").name

    def UUIDString(self):
        return self._enter("UUIDString").uuid

    def info(self):
        record = self._enter("info")
        return [VIR_DOMAIN_RUNNING, record.memory_kib, record.memory_kib, record.vcpus, 1000]

    def XMLDesc(self, flags=0):
        return etree.tostring(self._enter("XMLDesc").tree, encoding="unicode")

    def shutdown(self):
        self._enter("shutdown")
        return 0

    def shutdownFlags(self, flags=0):
        self._enter("shutdownFlags")
        return 0

    def reboot(self, flags=0):
        self._enter("reboot")
        return 0

    def destroy(self):
        record = self._enter("destroy")
        del self._fake.domains[record.name]
        return 0

    def attachDeviceFlags(self, xml, flags=0):
        record = self._enter("attachDeviceFlags")
        device = etree.fromstring(xml)
        if record.device(device.find("target").get("dev")) is not None:
            raise _error(VIR_ERR_OPERATION_FAILED, "operation failed: target already exists")
        record.tree.find("devices").append(device)
        return 0

    def detachDeviceFlags(self, xml, flags=0):
        record = self._enter("detachDeviceFlags")
        device = record.device(etree.fromstring(xml).find("target").get("dev"))
        if device is None:
            raise _error(VIR_ERR_OPERATION_FAILED, "operation failed: device not found")
        device.getparent().remove(device)
        return 0

    def blockStats(self, path):
        if self._enter("blockStats").device(path) is None:
            raise _error(VIR_ERR_INVALID_ARG, f"invalid argument: invalid path: {path}")
        return (1, 512, 2, 1024, -1)

    def interfaceStats(self, path):
        if self._enter("interfaceStats").device(path) is None:
            raise _error(VIR_ERR_INVALID_ARG, f"invalid argument: '{path}' is not a known interface")
        return (100, 1, 0, 0, 200, 2, 0, 0)
