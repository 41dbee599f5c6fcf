# -*- test-case-name: tests.hypervisor.test_libvirt,tests.hypervisor.test_contract -*-
"""
L{LibvirtHypervisor}: L{IHypervisor} over one libvirt connection.

One thread per connection.  Every libvirt call runs, one at a time and in
order, on the driver's own thread (a L{Lane}), which opens the connection
on first use; answers come back to the reactor thread with
C{callFromThread}.  The reactor thread never calls libvirt.

Timeouts.  A call that has not returned after C{timeout} seconds fails
with L{HypervisorTimeout}; the lane abandons the thread stuck in libvirt
and runs the next calls on a fresh thread with a fresh connection.

The test driver.  libvirt's C{test:///default} cannot hot-plug devices,
so for C{test:} URIs only, the driver keeps the devices attached to each
domain (by UUID) itself: L{attach_device} checks and records them,
L{detach_device} forgets them, L{domain_xml} shows them and L{stats}
counts them as idle.  That is the only emulation here; everything else is
libvirt's own behaviour.  Note that the test driver's state belongs to the
process's open connections: a fresh connection after a timeout may not see
the domains the old one made.
"""

import threading
import time

from lxml import etree
from twisted.internet.defer import Deferred, fail, inlineCallbacks, succeed
from twisted.python.failure import Failure
from zope.interface import implementer

from eucalyptus.hypervisor import probe
from eucalyptus.hypervisor.errors import DeviceBusy, DomainNotFound, HypervisorError
from eucalyptus.hypervisor.interfaces import DOMAIN_STATES, DomainInfo, DomainStats, HostInfo, IHypervisor
from eucalyptus.hypervisor.lane import Lane, fire, outcome

__all__ = ["LibvirtHypervisor"]

#: What C{host().name} says for each domain type.
_NAMES = {"kvm": "KVM", "qemu": "QEMU", "test": "TEST"}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _real_libvirt():
    import libvirt

    return libvirt


def _silence(context, error):
    """
    libvirt's error callback: say nothing (errors arrive as exceptions).
    """


def _parse(xml):
    try:
        return etree.fromstring(xml.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as e:
        raise HypervisorError(f"not an XML description: {e}") from e


def _target_of(device):
    target = device.find("target")
    dev = target.get("dev") if target is not None else None
    if not dev:
        raise HypervisorError(f"a <{device.tag}> to plug or unplug needs a <target dev=...>")
    return dev


def _devices_by_target(tree):
    return {target.get("dev"): target.getparent() for target in tree.xpath("devices/*/target[@dev]")}


def _total(rows, column):
    """
    The sum of one column of libvirt counters; -1 means not counted.
    """
    return sum(max(int(row[column]), 0) for row in rows)


def _info(domain):
    state, _, memory, vcpus, _ = domain.info()
    return DomainInfo(
        name=domain.name(),
        uuid=domain.UUIDString(),
        state=DOMAIN_STATES[state] if 0 <= state < len(DOMAIN_STATES) else "nostate",
        memory_kib=int(memory),
        vcpus=int(vcpus),
    )


@implementer(IHypervisor)
class LibvirtHypervisor:
    """
    L{IHypervisor} over one libvirt connection, run on its own thread.

    @ivar uri: the connection URI.
    """

    def __init__(self, uri, domain_type=None, timeout=60.0, reactor=None, libvirt_module=None):
        """
        @param uri: e.g. C{qemu:///system} or C{test:///default}.
        @param domain_type: the C{<domain type>} guests get here; by default
            C{test} on the test driver, otherwise C{kvm} or C{qemu} as
            L{probe.kvm_works} finds (probed once, on first L{host}).
        @param timeout: seconds any one libvirt call may take.
        @param libvirt_module: the C{libvirt} module (tests pass a fake).
        """
        if reactor is None:
            from twisted.internet import reactor
        self.uri = uri
        self._reactor = reactor
        self._libvirt = libvirt_module if libvirt_module is not None else _real_libvirt()
        self._libvirt.registerErrorHandler(_silence, None)
        self._test_driver = uri.startswith("test:")
        self._domain_type = domain_type or ("test" if self._test_driver else None)
        self._probe_waiters = []
        self._attached = {}  # test driver only: domain UUID -> {target: device XML}
        self._lane = Lane(self._reactor, uri, lambda: self._libvirt.open(uri), timeout)
        self._closed = False

    # IHypervisor

    @inlineCallbacks
    def host(self):
        info = yield self._call("host", lambda connection: connection.getInfo())
        domain_type = yield self._guest_type()
        return HostInfo(
            cores=int(info[2]),
            memory_mib=int(info[1]),
            domain_type=domain_type,
            name=_NAMES.get(domain_type, domain_type.upper()),
        )

    def list_domains(self):
        return self._call("list_domains", self._list)

    def describe(self, name):
        return self._call(f"describe({name!r})", lambda connection: _info(connection.lookupByName(name)))

    def domain_xml(self, name):
        return self._call(f"domain_xml({name!r})", self._domain_xml, name)

    def create(self, xml):
        return self._call("create", lambda connection: _info(connection.createXML(xml, 0)))

    def shutdown(self, name):
        return self._call(f"shutdown({name!r})", self._shutdown, name)

    def destroy(self, name):
        return self._call(f"destroy({name!r})", self._destroy, name)

    def reboot(self, name):
        return self._call(f"reboot({name!r})", self._reboot, name)

    def attach_device(self, name, xml):
        return self._call(f"attach_device({name!r})", self._attach, name, xml)

    def detach_device(self, name, xml):
        return self._call(f"detach_device({name!r})", self._detach, name, xml)

    def stats(self, name):
        return self._call(f"stats({name!r})", self._stats, name)

    def close(self):
        if self._closed:
            return succeed(None)
        self._closed = True
        return self._lane.close().addErrback(self._close_failed)

    # The jobs, run on the lane's thread.

    def _list(self, connection):
        domains = []
        for domain in connection.listAllDomains(0):
            try:
                domains.append(_info(domain))
            except self._libvirt.libvirtError as e:
                if e.get_error_code() != self._libvirt.VIR_ERR_NO_DOMAIN:
                    raise
                # It went away between the listing and the look: not listed.
        return domains

    def _domain_xml(self, connection, name):
        domain = connection.lookupByName(name)
        xml = domain.XMLDesc(0)
        attached = self._attached.get(domain.UUIDString())
        if not attached:
            return xml
        tree = _parse(xml)
        devices = tree.find("devices")
        if devices is None:
            devices = etree.SubElement(tree, "devices")
        devices.extend(_parse(device) for device in attached.values())
        return etree.tostring(tree, encoding="unicode")

    def _shutdown(self, connection, name):
        domain = connection.lookupByName(name)
        if self._test_driver:
            # The test driver takes no ACPI flag; a transient domain goes at once.
            self._attached.pop(domain.UUIDString(), None)
            domain.shutdown()
        else:
            domain.shutdownFlags(self._libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)

    def _reboot(self, connection, name):
        connection.lookupByName(name).reboot(0)

    def _destroy(self, connection, name):
        domain = connection.lookupByName(name)
        self._attached.pop(domain.UUIDString(), None)
        domain.destroy()

    def _attach(self, connection, name, xml):
        domain = connection.lookupByName(name)
        target = _target_of(_parse(xml))
        attached = self._attached.get(domain.UUIDString(), {})
        if target in attached or target in _devices_by_target(_parse(domain.XMLDesc(0))):
            raise DeviceBusy(f"attach_device({name!r}) on {self.uri}: target {target} is already in use")
        if self._test_driver:
            self._attached.setdefault(domain.UUIDString(), {})[target] = xml
        else:
            domain.attachDeviceFlags(xml, self._libvirt.VIR_DOMAIN_AFFECT_LIVE)

    def _detach(self, connection, name, xml):
        domain = connection.lookupByName(name)
        target = _target_of(_parse(xml))
        attached = self._attached.get(domain.UUIDString(), {})
        if target in attached:
            del attached[target]
            return
        live = _devices_by_target(_parse(domain.XMLDesc(0)))
        if target not in live:
            raise HypervisorError(f"detach_device({name!r}) on {self.uri}: no device has target {target}")
        # Unplug what libvirt has at that target, whatever else the caller's XML says.
        domain.detachDeviceFlags(etree.tostring(live[target], encoding="unicode"), self._libvirt.VIR_DOMAIN_AFFECT_LIVE)

    def _stats(self, connection, name):
        domain = connection.lookupByName(name)
        _, _, _, vcpus, cpu_time = domain.info()
        timestamp = time.time()
        tree = _parse(domain.XMLDesc(0))
        # (read ops, read bytes, write ops, write bytes, errors) per disk
        disks = [domain.blockStats(dev) for dev in tree.xpath("devices/disk[source]/target/@dev")]
        # (rx bytes, rx packets, rx errors, rx drops, tx bytes, ...) per interface
        nics = [domain.interfaceStats(dev) for dev in tree.xpath("devices/interface/target/@dev")]
        return DomainStats(
            timestamp=timestamp,
            cpu_time_ns=int(cpu_time),
            vcpus=int(vcpus),
            disk_read_bytes=_total(disks, 1),
            disk_write_bytes=_total(disks, 3),
            disk_read_ops=_total(disks, 0),
            disk_write_ops=_total(disks, 2),
            net_rx_bytes=_total(nics, 0),
            net_tx_bytes=_total(nics, 4),
        )

    # Calls go through the lane.

    def _call(self, label, fn, *args):
        """
        Queue C{fn(connection, *args)} for the driver's thread.

        @param label: names the call in errors and logs.
        @return: Deferred result; libvirt errors arrive translated.
        """
        if self._closed:
            return fail(HypervisorError(f"{label} on {self.uri}: the driver is closed"))
        return self._lane.submit(label, self._translating(label, lambda worker: fn(worker.connection(), *args)))

    def _translating(self, label, body):
        def job(worker):
            try:
                return body(worker)
            except self._libvirt.libvirtError as e:
                raise self._translate(label, e) from e

        return job

    def _close_failed(self, failure):
        failure.trap(self._libvirt.libvirtError)
        raise self._translate("close", failure.value)

    def _translate(self, label, error):
        message = f"{label} on {self.uri}: {error.get_error_message() or error}"
        if error.get_error_code() == self._libvirt.VIR_ERR_NO_DOMAIN:
            return DomainNotFound(message)
        return HypervisorError(message)

    # The KVM probe, once per driver.

    def _guest_type(self):
        if self._domain_type is not None:
            return succeed(self._domain_type)
        d = Deferred()
        self._probe_waiters.append(d)
        if len(self._probe_waiters) == 1:
            threading.Thread(target=self._probe, name=f"kvm probe for {self.uri}", daemon=True).start()
        return d

    def _probe(self):
        self._reactor.callFromThread(self._probed, outcome(probe.kvm_works))

    def _probed(self, result):
        if not isinstance(result, Failure):
            self._domain_type = result = "kvm" if result else "qemu"
        waiters, self._probe_waiters = self._probe_waiters, []
        for d in waiters:
            fire(d, result)
