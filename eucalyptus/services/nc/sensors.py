# -*- test-case-name: tests.services.nc.test_sensors -*-
"""
The counters C{ncDescribeSensors} reports, read from libvirt.

Each monitor pass reads every running domain's cumulative counters; the
last samples are kept per instance.  C{CPUUtilization} is the percentage of
the instance's virtual CPUs used between two samples (an average); the disk
and network metrics are the cumulative counters themselves (summations),
as the original's sensor code reports them.
"""

from collections import deque
from dataclasses import dataclass

from twisted.internet import defer
from twisted.logger import Logger

from eucalyptus.hypervisor.errors import HypervisorError
from eucalyptus.services.nc.instances import BLOCKED, BOOTING, PAUSED, RUNNING

__all__ = ["Sensors", "Series", "METRICS"]

#: Metric name to (counter type, dimension, DomainStats field or None).
METRICS = {
    "CPUUtilization": ("average", "default", None),
    "DiskReadOps": ("summation", "root", "disk_read_ops"),
    "DiskWriteOps": ("summation", "root", "disk_write_ops"),
    "DiskReadBytes": ("summation", "root", "disk_read_bytes"),
    "DiskWriteBytes": ("summation", "root", "disk_write_bytes"),
    "NetworkIn": ("summation", "total", "net_rx_bytes"),
    "NetworkOut": ("summation", "total", "net_tx_bytes"),
}

_SAMPLED = (BOOTING, RUNNING, BLOCKED, PAUSED)


@dataclass(frozen=True)
class Series:
    """
    One metric of one instance: its counter type, dimension name and
    C{(timestamp, value)} points, oldest first.
    """

    metric: str
    type: str
    dimension: str
    points: list


class Sensors:
    """
    The recent counter samples of every running instance.

    @ivar keep: samples kept per instance.
    """

    _log = Logger()

    def __init__(self, keep=60):
        self.keep = keep
        self._samples = {}

    @defer.inlineCallbacks
    def sample(self, node):
        """
        Read the counters of every running instance of C{node} once.
        """
        running = {i.instance_id for i in node.instances.values() if i.state in _SAMPLED}
        for gone in set(self._samples) - running:
            del self._samples[gone]
        for instance_id in sorted(running):
            try:
                stats = yield node.hypervisor.stats(instance_id)
            except HypervisorError as e:
                self._log.debug("No counters for {i}: {e}", i=instance_id, e=e)
                continue
            self._samples.setdefault(instance_id, deque(maxlen=self.keep)).append(stats)

    def series(self, instance_id, history=None, metrics=()):
        """
        The metrics of one instance.

        @param history: at most this many points per metric (the newest).
        @param metrics: the metric names wanted; all when empty.
        @return: a list of L{Series}, in L{METRICS} order.
        """
        samples = list(self._samples.get(instance_id, ()))
        wanted = [name for name in METRICS if not metrics or name in metrics]
        result = []
        for name in wanted:
            kind, dimension, field = METRICS[name]
            if field is None:
                points = [(b.timestamp, _cpu_percent(a, b)) for a, b in zip(samples, samples[1:])]
            else:
                points = [(s.timestamp, float(getattr(s, field))) for s in samples]
            if history:
                points = points[-history:]
            result.append(Series(name, kind, dimension, points))
        return result


def _cpu_percent(before, after):
    elapsed = after.timestamp - before.timestamp
    if elapsed <= 0 or after.vcpus <= 0:
        return 0.0
    used = max(0, after.cpu_time_ns - before.cpu_time_ns) / 1e9
    return min(100.0, 100.0 * used / (elapsed * after.vcpus))
