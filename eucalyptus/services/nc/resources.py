# -*- test-case-name: tests.services.nc.test_resources -*-
"""
What a node offers to instances, as C{ncDescribeResource} reports it.

Maximum cores and memory come from the host (less 256 MB of memory kept
for the host) unless C{MAX_CORES} / C{MAX_MEM} say otherwise (cores may
exceed the physical count: overcommit); maximum disk is C{NC_WORK_SIZE} or,
automatically, the instance file system less the image cache.  Available is
the maximum less what every instance not torn down uses, never below zero.
"""

import os

from eucalyptus.capacity import Capacity
from eucalyptus.services.nc.instances import TEARDOWN

__all__ = ["node_resources", "HOST_RESERVE_MB", "automatic_sizes"]

#: Memory kept for the host, MB (the original's 256).
HOST_RESERVE_MB = 256
_MiB = 1024**2
_GiB = 1024**3


def automatic_sizes(instance_path, cache_size_mb, work_size_mb):
    """
    The image cache and instance work sizes in bytes, from the configuration
    or, where it says 0 (automatic), from the file system holding
    C{instance_path}: a quarter of it for the cache, the rest for work.
    """
    stat = os.statvfs(instance_path)
    total = stat.f_blocks * stat.f_frsize
    cache = cache_size_mb * _MiB if cache_size_mb else total // 4
    work = work_size_mb * _MiB if work_size_mb else max(0, total - cache)
    return cache, work


def node_resources(host, max_cores, max_mem, work_bytes, instances):
    """
    The node's resources.

    @param host: the hypervisor's L{HostInfo}.
    @param max_cores: C{MAX_CORES} (0: the host's).
    @param max_mem: C{MAX_MEM} in MB (0: the host's less the reserve).
    @param work_bytes: space for instance disks.
    @param instances: every instance the node knows.
    """
    cores = max_cores or host.cores
    memory = max_mem or max(0, host.memory_mib - HOST_RESERVE_MB)
    disk = work_bytes // _GiB
    live = [instance.vm for instance in instances if instance.state != TEARDOWN and instance.vm is not None]
    return Capacity(
        cores_max=cores,
        cores_available=max(0, cores - sum(vm.cores for vm in live)),
        memory_max=memory,
        memory_available=max(0, memory - sum(vm.memory for vm in live)),
        disk_max=disk,
        disk_available=max(0, disk - sum(vm.disk for vm in live)),
    )
