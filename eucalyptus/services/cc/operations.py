# -*- test-case-name: tests.services.cc.test_operations -*-
"""
The Cluster Controller's operation layer: what it does, behind C{invoke}.

C{DescribeResources} and C{DescribeInstances} are answered from what the
L{eucalyptus.services.cc.poller.NodePoller} last learnt from the nodes,
never by asking them while the CLC waits.  C{RunInstances} goes through the
L{Launcher}; the other instance operations are sent to the node the cache
has the instance on, each call bounded by the per-node timeout.
"""

from twisted.internet import defer

from eucalyptus.errors import EucalyptusError, InstanceNotFound, InvalidParameterValue
from eucalyptus.services.base import ComponentOperations, respond
from eucalyptus.services.cc.launcher import cc_instance
from eucalyptus.services.cc.nodes import DISABLED, ENABLED
from eucalyptus.wsdl import cc_types as t
from eucalyptus.wsdl import nc_types

__all__ = ["ClusterOperations", "instances_of"]


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


def _header(request):
    return dict(correlationId=request.correlationId, userId=request.userId)


class ClusterOperations(ComponentOperations):
    """
    The Cluster Controller.

    @ivar nodes: the cluster's L{NodeList} (C{None}: it only answers
        C{DescribeServices}).
    @ivar cache: the L{InstanceCache} the poller fills.
    """

    component = "cc"
    service_type = "cluster"

    def __init__(self, config, url, nodes=None, cache=None, launcher=None, client_for=None, network=None):
        """
        @param nodes: the L{NodeList}.
        @param cache: the L{InstanceCache}.
        @param launcher: the L{Launcher} of C{RunInstances}.
        @param client_for: a L{NodeRecord} to its SOAP client (which times
            out after C{soap_timeout}).
        @param network: the L{ClusterNetwork}.
        """
        self.nodes = nodes
        self.cache = cache
        self.launcher = launcher
        self.client_for = client_for
        self.network = network
        ComponentOperations.__init__(self, config, url)

    def operations(self):
        if self.nodes is None:
            return {}
        return {
            "RunInstances": self.run_instances,
            "DescribeInstances": self.describe_instances,
            "TerminateInstances": self.terminate_instances,
            "RebootInstances": self.reboot_instances,
            "StartInstance": self.start_instance,
            "StopInstance": self.stop_instance,
            "GetConsoleOutput": self.get_console_output,
            "AttachVolume": self.attach_volume,
            "DetachVolume": self.detach_volume,
            "DescribeResources": self.describe_resources,
            "DescribeSensors": self.describe_sensors,
            "ModifyNode": self.modify_node,
            "StartNetwork": self.start_network,
            "StopNetwork": self.stop_network,
            "ConfigureNetwork": self.configure_network,
            "AssignAddress": self.assign_address,
            "UnassignAddress": self.unassign_address,
            "DescribeNetworks": self.describe_networks,
            "DescribePublicAddresses": self.describe_public_addresses,
        }

    def describe_services(self, request):
        """
        C{DescribeServices}, with one detail per node: its state and why.
        """
        response = ComponentOperations.describe_services(self, request)
        if self.nodes is not None:
            response.serviceStatuses[0].details = [f"node {r.host} {r.state}: {r.reason}" for r in self.nodes]
        return response

    # Talking to nodes.

    def _call(self, record, operation, request):
        return self.client_for(record).call(operation, request)

    def _node_of(self, instance_id):
        """
        @return: the L{NodeRecord} the cache has C{instance_id} on.
        @raise InstanceNotFound: when no node reported it.
        """
        entry = self.cache.get(instance_id) if instance_id else None
        record = self.nodes.find(entry.host) if entry is not None else None
        if record is None:
            raise InstanceNotFound(f"The instance ID '{instance_id}' is not running on this cluster.")
        return record

    def _on_its_node(self, request, operation, request_type, **fields):
        record = self._node_of(request.instanceId)
        return self._call(record, operation, request_type(instanceId=request.instanceId, **_header(request), **fields))

    # Instances.

    @defer.inlineCallbacks
    def run_instances(self, request):
        """
        Place and start the instances (see L{Launcher.run}).
        """
        instances = yield self.launcher.run(request)
        return respond(request, t.RunInstancesResponseType, instances=instances)

    def describe_instances(self, request):
        """
        The instances the nodes last reported (all when no ids are given),
        each tagged with the URL of its node.
        """
        urls = {record.host: record.url for record in self.nodes}
        instances = [
            cc_instance(cached.instance, urls.get(cached.host, ""))
            for cached in self.cache.describe(request.instanceIds or None)
        ]
        return respond(request, t.DescribeInstancesResponseType, instances=instances)

    @defer.inlineCallbacks
    def terminate_instances(self, request):
        """
        Terminate each instance on its node.  An instance no node reported
        is not on this cluster (the cache has every instance the nodes run
        and every one this CC started; a restarted CC answers only once it
        has polled), so it is not terminated.

        @return: C{isTerminated}, one flag per id, in order.
        """
        ids = request.instanceIds or []
        flags = yield defer.gatherResults([self._terminate(request, instance_id) for instance_id in ids])
        return respond(request, t.TerminateInstancesResponseType, isTerminated=flags)

    @defer.inlineCallbacks
    def _terminate(self, request, instance_id):
        entry = self.cache.get(instance_id)
        record = self.nodes.find(entry.host) if entry is not None else None
        if record is None:
            return False
        order = nc_types.NcTerminateInstanceType(instanceId=instance_id, force=bool(request.force), **_header(request))
        try:
            yield self._call(record, "ncTerminateInstance", order)
        except EucalyptusError as e:
            self._log.warn("Node {host} did not terminate {instance_id}: {error}", host=record.host,
                           instance_id=instance_id, error=e.message)
            return False
        return True

    @defer.inlineCallbacks
    def reboot_instances(self, request):
        """
        Reboot each instance on its node.

        @raise InstanceNotFound: for an id no node reported (nothing is
            rebooted then).
        """
        ids = request.instanceIds or []
        records = [self._node_of(instance_id) for instance_id in ids]
        yield defer.gatherResults([
            self._call(record, "ncRebootInstance", nc_types.NcRebootInstanceType(instanceId=i, **_header(request)))
            for record, i in zip(records, ids)
        ], consumeErrors=True).addErrback(lambda failure: failure.value.subFailure)
        return respond(request, t.RebootInstancesResponseType)

    @defer.inlineCallbacks
    def start_instance(self, request):
        """
        Start a stopped instance on its node.
        """
        yield self._on_its_node(request, "ncStartInstance", nc_types.NcStartInstanceType)
        return respond(request, t.StartInstanceResponseType)

    @defer.inlineCallbacks
    def stop_instance(self, request):
        """
        Stop an instance on its node, keeping its disks.
        """
        yield self._on_its_node(request, "ncStopInstance", nc_types.NcStopInstanceType)
        return respond(request, t.StopInstanceResponseType)

    @defer.inlineCallbacks
    def get_console_output(self, request):
        """
        The instance's console output, base64, from its node.
        """
        answer = yield self._on_its_node(request, "ncGetConsoleOutput", nc_types.NcGetConsoleOutputType)
        return respond(request, t.GetConsoleOutputResponseType, consoleOutput=answer.consoleOutput)

    @defer.inlineCallbacks
    def attach_volume(self, request):
        """
        Attach a volume to an instance, on its node.
        """
        yield self._on_its_node(
            request, "ncAttachVolume", nc_types.NcAttachVolumeType,
            volumeId=request.volumeId, remoteDev=request.remoteDev, localDev=request.localDev,
        )
        return respond(request, t.AttachVolumeResponseType)

    @defer.inlineCallbacks
    def detach_volume(self, request):
        """
        Detach a volume from an instance, on its node.
        """
        yield self._on_its_node(
            request, "ncDetachVolume", nc_types.NcDetachVolumeType,
            volumeId=request.volumeId, remoteDev=request.remoteDev, localDev=request.localDev,
            force=bool(request.force),
        )
        return respond(request, t.DetachVolumeResponseType)

    @defer.inlineCallbacks
    def describe_sensors(self, request):
        """
        The sensor readings of the instances asked about (all when none),
        from their nodes in parallel.
        """
        by_host = {}
        for cached in self.cache.describe(request.instanceIds or None):
            by_host.setdefault(cached.host, []).append(cached.instance.instanceId)
        calls = []
        for host, ids in sorted(by_host.items()):
            record = self.nodes.find(host)
            if record is None:
                continue
            ask = nc_types.NcDescribeSensorsType(
                historySize=request.historySize, collectionIntervalTimeMs=request.collectionIntervalTimeMs,
                instanceIds=ids, sensorIds=request.sensorIds, **_header(request),
            )
            calls.append(self._call(record, "ncDescribeSensors", ask))
        answers = yield defer.DeferredList(calls, consumeErrors=True)
        resources = [r for ok, answer in answers if ok for r in answer.sensorsResources or []]
        return respond(request, t.DescribeSensorsResponseType, sensorsResources=resources)

    # Nodes and capacity.

    @defer.inlineCallbacks
    def modify_node(self, request):
        """
        Enable a node, or disable it for maintenance (it keeps its
        instances but gets no new ones).  The node is named by the header's
        C{nodeName}, as in C{NODES}.
        """
        state = (request.stateName or "").lower()
        if state not in (ENABLED, DISABLED):
            raise InvalidParameterValue(f"stateName must be 'enabled' or 'disabled', not {request.stateName!r}.")
        record = self.nodes.find(request.nodeName or "")
        if record is None:
            known = ", ".join(r.host for r in self.nodes) or "none"
            raise InvalidParameterValue(f"No node {request.nodeName!r} in this cluster (nodes: {known}).")
        yield self._call(record, "ncModifyNode", nc_types.NcModifyNodeType(stateName=state, **_header(request)))
        if state == DISABLED:
            record.disable("disabled for maintenance by the administrator")
        elif record.resources is not None:
            record.state, record.reason = ENABLED, "enabled by the administrator"
        self._log.info("Node {host} is {state}: {reason}", host=record.host, state=record.state, reason=record.reason)
        return respond(request, t.ModifyNodeResponseType)

    def describe_resources(self, request):
        """
        For each VM type asked about, how many instances the enabled nodes
        hold at most and how many more fit now (each capped at
        C{MAX_INSTANCES_PER_CC}); and the nodes.
        """
        usable = [r for r in self.nodes if r.state == ENABLED and r.resources is not None]
        cap = self.config.max_instances
        resources = [
            t.CcResourceType(
                instanceType=vm,
                maxInstances=min(cap, sum(instances_of(r.resources, vm, False) for r in usable)),
                availableInstances=min(
                    max(0, cap - self.cache.running()), sum(instances_of(r.resources, vm, True) for r in usable)
                ),
            )
            for vm in request.instanceTypes or []
        ]
        answered = [r for r in self.nodes if r.resources is not None]
        nodes = [
            t.CcNodeType(serviceTag=r.url, iqn=r.resources.iqn, hypervisor=r.resources.hypervisor) for r in answered
        ]
        return respond(
            request, t.DescribeResourcesResponseType, resources=resources, serviceTags=[r.url for r in answered],
            nodes=nodes,
        )

    # The network (see eucalyptus.services.cc.network).

    def start_network(self, request):
        self.network.start_network(request.accountId, request.netName)
        return respond(request, t.StartNetworkResponseType)

    def stop_network(self, request):
        self.network.stop_network(request.accountId, request.netName)
        return respond(request, t.StopNetworkResponseType)

    def configure_network(self, request):
        self.network.configure(request.accountId, request.rules or [])
        return respond(request, t.ConfigureNetworkResponseType)

    def assign_address(self, request):
        self.network.assign_address(request.source, request.dest)
        return respond(request, t.AssignAddressResponseType)

    def unassign_address(self, request):
        self.network.unassign_address(request.source, request.dest)
        return respond(request, t.UnassignAddressResponseType)

    def describe_networks(self, request):
        return respond(request, t.DescribeNetworksResponseType, **self.network.describe())

    def describe_public_addresses(self, request):
        addresses = [
            t.PublicAddressType(uuid=uuid, sourceAddress=public, destAddress=private)
            for uuid, public, private in self.network.public_addresses()
        ]
        return respond(request, t.DescribePublicAddressesResponseType, addresses=addresses)
