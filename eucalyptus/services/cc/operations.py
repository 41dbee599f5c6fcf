# -*- test-case-name: tests.services.cc.test_operations -*-
"""
The Cluster Controller's operation layer: what it does, behind C{invoke}.

C{DescribeResources} and C{DescribeInstances} are answered from what the
L{eucalyptus.services.cc.poller.NodePoller} last learnt from the nodes,
never by asking them while the CLC waits.
"""

from eucalyptus.services.base import ComponentOperations, respond
from eucalyptus.services.cc.nodes import ENABLED
from eucalyptus.wsdl import cc_types as t

__all__ = ["ClusterOperations", "instances_of"]

_COPIED = [name for name in t.CcInstanceType._type_info if name != "serviceTag"]


def instances_of(capacity, vm, available):
    """
    How many instances of VM type C{vm} fit in a node's L{Capacity}: its
    available figures when C{available}, else its maxima.
    """
    if available:
        figures = (capacity.cores_available, capacity.memory_available, capacity.disk_available)
    else:
        figures = (capacity.cores_max, capacity.memory_max, capacity.disk_max)
    needs = (vm.cores or 0, vm.memory or 0, vm.disk or 0)
    return min((have // need for have, need in zip(figures, needs) if need > 0), default=0)


class ClusterOperations(ComponentOperations):
    """
    The Cluster Controller.

    @ivar records: the L{NodeRecord}s of its nodes (C{None}: it only
        answers C{DescribeServices}).
    @ivar cache: the L{InstanceCache} the poller fills.
    """

    component = "cc"
    service_type = "cluster"

    def __init__(self, config, url, records=None, cache=None):
        self.records = records
        self.cache = cache
        ComponentOperations.__init__(self, config, url)

    def operations(self):
        if self.records is None:
            return {}
        return {"DescribeResources": self.describe_resources, "DescribeInstances": self.describe_instances}

    def describe_resources(self, request):
        """
        For each VM type asked about, how many instances the enabled nodes
        hold at most and how many more fit now; and the nodes.
        """
        usable = [r for r in self.records if r.state == ENABLED and r.resources is not None]
        resources = [
            t.CcResourceType(
                instanceType=vm,
                maxInstances=sum(instances_of(r.resources, vm, False) for r in usable),
                availableInstances=sum(instances_of(r.resources, vm, True) for r in usable),
            )
            for vm in request.instanceTypes or []
        ]
        answered = [r for r in self.records if r.resources is not None]
        nodes = [
            t.CcNodeType(serviceTag=r.url, iqn=r.resources.iqn, hypervisor=r.resources.hypervisor) for r in answered
        ]
        return respond(
            request, t.DescribeResourcesResponseType, resources=resources, serviceTags=[r.url for r in answered],
            nodes=nodes,
        )

    def describe_instances(self, request):
        """
        The instances the nodes last reported (all when no ids are given),
        each tagged with the URL of its node.
        """
        urls = {r.host: r.url for r in self.records}
        instances = [
            t.CcInstanceType(serviceTag=urls.get(cached.host, ""), **{n: getattr(cached.instance, n, None) for n in _COPIED})
            for cached in self.cache.describe(request.instanceIds or None)
        ]
        return respond(request, t.DescribeInstancesResponseType, instances=instances)
