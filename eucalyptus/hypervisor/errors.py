"""
The errors a hypervisor driver reports.
"""

__all__ = ["HypervisorError", "DomainNotFound", "HypervisorTimeout", "DeviceBusy"]


class HypervisorError(Exception):
    """
    The hypervisor refused or failed a call; the message says why.
    """


class DomainNotFound(HypervisorError):
    """
    No domain of that name exists.
    """


class HypervisorTimeout(HypervisorError):
    """
    A call did not return within the driver's timeout.
    """


class DeviceBusy(HypervisorError):
    """
    A device's target (e.g. C{vdb}) is already in use in that domain.
    """
