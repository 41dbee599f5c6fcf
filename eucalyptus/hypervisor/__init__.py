# -*- test-case-name: tests.hypervisor.test_libvirt -*-
"""
The hypervisor boundary: L{interfaces.IHypervisor} and its drivers.

L{DRIVERS} is the explicit map from the C{HYPERVISOR} setting to a driver;
L{open_hypervisor} opens one.  Drivers are never imported by a name taken
from configuration.
"""

from functools import partial

from eucalyptus.hypervisor.libvirt import LibvirtHypervisor

__all__ = ["DRIVERS", "open_hypervisor"]

#: C{HYPERVISOR} (lower-cased) to a factory taking C{timeout} and
#: C{reactor}: C{kvm} is libvirt's C{qemu:///system} (guests use KVM when
#: the host's probe says it works, TCG otherwise); C{test} is libvirt's own
#: in-process C{test:///default} driver.
DRIVERS = {
    "kvm": partial(LibvirtHypervisor, "qemu:///system"),
    "test": partial(LibvirtHypervisor, "test:///default"),
}


def open_hypervisor(name, timeout=60.0, reactor=None):
    """
    The driver the C{HYPERVISOR} setting names.  Nothing connects until the
    first call.

    @param name: C{kvm} or C{test} (any case).
    @param timeout: seconds any one hypervisor call may take.
    @return: an L{interfaces.IHypervisor} provider.
    @raise ValueError: C{name} is not in L{DRIVERS}.
    """
    factory = DRIVERS.get(name.lower())
    if factory is None:
        raise ValueError(f"Unknown hypervisor {name!r}; HYPERVISOR must be one of: {', '.join(sorted(DRIVERS))}")
    return factory(timeout=timeout, reactor=reactor)
