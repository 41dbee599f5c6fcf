"""
The errors a hypervisor driver reports.
"""

from eucalyptus.errors import EucalyptusError

__all__ = ["HypervisorError", "DomainNotFound", "HypervisorTimeout", "DeviceBusy"]


class HypervisorError(EucalyptusError):
    """
    The hypervisor refused or failed a call; the message says why.
    """

    code = "HypervisorError"


class DomainNotFound(HypervisorError):
    """
    No domain of that name exists.
    """

    code = "DomainNotFound"


class HypervisorTimeout(HypervisorError):
    """
    A call did not return within the driver's timeout.
    """

    code = "HypervisorTimeout"


class DeviceBusy(HypervisorError):
    """
    A device's target (e.g. C{vdb}) is already in use in that domain.
    """

    code = "DeviceBusy"
