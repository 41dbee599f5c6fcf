# -*- test-case-name: tests.hypervisor.test_contract -*-
"""
The boundary between the Node Controller and the hypervisor.

The NC speaks only L{IHypervisor}; every driver (libvirt with qemu, libvirt's
own C{test:///default}) provides it, and one contract test suite runs against
each.  Every method returns a C{Deferred}; the work happens off the reactor.
Domains are named by the instance id they run (C{i-...}) and are transient:
destroying one forgets it.
"""

from dataclasses import dataclass

from zope.interface import Attribute, Interface

__all__ = [
    "IHypervisor",
    "HostInfo",
    "DomainInfo",
    "DomainStats",
    "DOMAIN_STATES",
]

#: The states a domain can be in, as libvirt names them (C{virDomainState}).
DOMAIN_STATES = ("nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended")


@dataclass(frozen=True)
class HostInfo:
    """
    What the host offers.

    @ivar cores: logical CPUs.
    @ivar memory_mib: physical memory, MiB.
    @ivar domain_type: the libvirt C{<domain type=...>} guests get here:
        C{kvm} when hardware virtualisation was probed and works, C{qemu}
        (TCG) otherwise, C{test} on the test driver.
    @ivar name: what C{ncDescribeResource} reports as C{hypervisor}
        (C{KVM}, C{QEMU}, C{TEST}).
    """

    cores: int
    memory_mib: int
    domain_type: str
    name: str


@dataclass(frozen=True)
class DomainInfo:
    """
    A domain as the hypervisor reports it.

    @ivar name: the domain name (the instance id).
    @ivar uuid: the domain UUID, text.
    @ivar state: one of L{DOMAIN_STATES}.
    @ivar memory_kib: current memory.
    @ivar vcpus: virtual CPUs.
    """

    name: str
    uuid: str
    state: str
    memory_kib: int
    vcpus: int


@dataclass(frozen=True)
class DomainStats:
    """
    Cumulative counters of one domain, read at one moment.

    @ivar timestamp: C{time.time()} when read.
    @ivar cpu_time_ns: CPU time the guest used since it started.
    @ivar vcpus: virtual CPUs (to turn CPU time into a utilisation).
    @ivar disk_read_bytes, disk_write_bytes, disk_read_ops,
        disk_write_ops: summed over the domain's disks.
    @ivar net_rx_bytes, net_tx_bytes: summed over its network interfaces.
    """

    timestamp: float
    cpu_time_ns: int
    vcpus: int
    disk_read_bytes: int
    disk_write_bytes: int
    disk_read_ops: int
    disk_write_ops: int
    net_rx_bytes: int
    net_tx_bytes: int


class IHypervisor(Interface):
    """
    A hypervisor on one host, reached through one connection.

    Failures arrive as errbacks with
    L{eucalyptus.hypervisor.errors.HypervisorError} or a subclass:
    L{DomainNotFound} when the named domain does not exist,
    L{HypervisorTimeout} when a call did not return within the driver's
    timeout (the driver stays usable: later calls are not stuck behind the
    hung one), L{DeviceBusy} when a device target is already in use.
    """

    uri = Attribute("The connection URI, e.g. C{qemu:///system} or C{test:///default}.")

    def host():
        """
        What the host offers and which domain type guests get.

        @return: Deferred L{HostInfo}.
        """

    def list_domains():
        """
        Every domain that exists now, running or not.

        @return: Deferred list of L{DomainInfo}.
        """

    def describe(name):
        """
        One domain.

        @return: Deferred L{DomainInfo}; L{DomainNotFound} when there is none.
        """

    def domain_xml(name):
        """
        The live XML description of a domain (what libvirt made of the
        definition: assigned UUID, device addresses, attached disks).

        @return: Deferred text.
        """

    def create(xml):
        """
        Create and start a transient domain from its XML description.  The
        Deferred fires once the hypervisor has started it (for qemu: the
        qemu process is running), not when the guest has booted.

        @return: Deferred L{DomainInfo}; L{HypervisorError} when the
            description is refused or a domain of that name exists.
        """

    def shutdown(name):
        """
        Ask the guest to power off (ACPI power button).  The guest may take
        its time or ignore it; callers follow up with L{destroy} after a
        grace period.

        @return: Deferred C{None}.
        """

    def destroy(name):
        """
        Power the domain off at once and forget it.

        @return: Deferred C{None}; L{DomainNotFound} if it is already gone.
        """

    def reboot(name):
        """
        Ask the guest to reboot (ACPI); the domain keeps its identity.

        @return: Deferred C{None}.
        """

    def attach_device(name, xml):
        """
        Hot-plug a device (a C{<disk>} or C{<interface>} element) into the
        running domain.

        @return: Deferred C{None}; L{DeviceBusy} when the C{<target dev>}
            is already taken.
        """

    def detach_device(name, xml):
        """
        Unplug a device previously attached (matched by its C{<target dev>}).

        @return: Deferred C{None}; L{HypervisorError} when no such device.
        """

    def stats(name):
        """
        The domain's cumulative CPU, disk and network counters.

        @return: Deferred L{DomainStats}.
        """

    def close():
        """
        Close the connection and stop the driver's thread.  Later calls
        fail.

        @return: Deferred C{None}.
        """
