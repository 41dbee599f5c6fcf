# -*- test-case-name: tests.services.cc.test_scheduler,tests.services.nc.test_node -*-
"""
What a node can give instances: the figures C{ncDescribeResource} carries,
shared by the NC (which reports them) and the CC (which schedules by them).
"""

from dataclasses import dataclass, fields

__all__ = ["Capacity", "WIRE_NAMES"]

#: Each figure's name in C{ncDescribeResourceResponseType}.
WIRE_NAMES = {
    "cores_max": "numberOfCoresMax",
    "cores_available": "numberOfCoresAvailable",
    "memory_max": "memorySizeMax",
    "memory_available": "memorySizeAvailable",
    "disk_max": "diskSizeMax",
    "disk_available": "diskSizeAvailable",
}


@dataclass(frozen=True)
class Capacity:
    """
    Maximum and available cores, memory (MB) and disk (GB).
    """

    cores_max: int
    cores_available: int
    memory_max: int
    memory_available: int
    disk_max: int
    disk_available: int

    def fits(self, shape):
        """
        Whether the available cores, memory and disk each cover C{shape}
        (anything with C{cores}, C{memory} and C{disk}: a VM type).
        """
        return (
            shape.cores <= self.cores_available
            and shape.memory <= self.memory_available
            and shape.disk <= self.disk_available
        )

    def is_empty(self):
        """
        Whether no instance uses anything: every available figure is the maximum.
        """
        return (
            self.cores_available == self.cores_max
            and self.memory_available == self.memory_max
            and self.disk_available == self.disk_max
        )

    def figures(self):
        """
        The six figures by field name (to build a subclass from this one).
        """
        return {f.name: getattr(self, f.name) for f in fields(Capacity)}
