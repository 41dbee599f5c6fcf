# -*- test-case-name: tests.services.nc.test_operations -*-
"""
The Node Controller's SOAP operations: a thin shim between the WSDL's
message types and L{eucalyptus.services.nc.node.Node}.

Every request arrives here already WS-Security verified against the pinned
cluster certificate; the table in L{NodeOperations.operations} is the one
way in.
"""

from datetime import datetime, timezone

from twisted.internet import defer

from eucalyptus.capacity import WIRE_NAMES
from eucalyptus.errors import InvalidParameterValue, NotImplementedOperation
from eucalyptus.services.base import ComponentOperations, respond
from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.node import IMAGE_ROLES
from eucalyptus.wsdl import common, nc_types as t

__all__ = ["NodeOperations", "spec_from_request", "instance_type"]

_INT_MAX = 2**31 - 1
_RUNNING = (records.BOOTING, records.RUNNING, records.BLOCKED, records.PAUSED)


def _time(seconds):
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def spec_from_request(request):
    """
    The instance an C{ncRunInstance} request asks for, and the role to
    C{(image id, URL)} map of its images (from its boot records, else from
    the C{imageURL}, C{kernelURL} and C{ramdiskURL} fields).
    """
    vm_type = request.instanceType
    vm = None
    if vm_type is not None:
        boot = [
            records.BootRecord(
                type=record.type or "",
                resource_location=record.resourceLocation or "none",
                guest_device=record.guestDeviceName or "none",
                size=record.size if record.size is not None else -1,
                format=record.format or "none",
                id=record.id or "",
            )
            for record in vm_type.virtualBootRecord or []
        ]
        vm = records.VmType(vm_type.name or "", vm_type.memory or 0, vm_type.cores or 0, vm_type.disk or 0, boot)
    net = request.netParams
    spec = records.Instance(
        instance_id=request.instanceId or "",
        user_id=request.ownerId or request.userId or "",
        reservation_id=request.reservationId or "",
        uuid=request.uuid or "",
        image_id=request.imageId or "",
        kernel_id=request.kernelId or "",
        ramdisk_id=request.ramdiskId or "",
        owner_id=request.ownerId or "",
        account_id=request.accountId or "",
        key_name=request.keyName or "",
        vm=vm,
        net=records.NetConfig(
            mac=(net.privateMacAddress or "").lower(),
            private_ip=net.privateIp or "",
            public_ip=net.publicIp or "",
            vlan=net.vlan if net.vlan is not None else -1,
            network_index=net.networkIndex if net.networkIndex is not None else -1,
            interface_id=net.interfaceId or "",
            device=net.device or 0,
        )
        if net is not None
        else records.NetConfig(),
        user_data=request.userData or "",
        launch_index=request.launchIndex or "",
        platform=request.platform or "linux",
        group_names=list(request.groupNames or []),
        group_ids=list(request.groupIds or []),
        root_directive=request.rootDirective or "",
        expiry_time=request.expiryTime.timestamp() if request.expiryTime else None,
    )
    return spec, _image_urls(request, vm)


def _image_urls(request, vm):
    fields = {
        "kernel": (request.kernelId, request.kernelURL),
        "ramdisk": (request.ramdiskId, request.ramdiskURL),
        "machine": (request.imageId, request.imageURL),
    }
    for record in vm.boot_records if vm is not None else []:
        if record.type in IMAGE_ROLES and record.resource_location not in ("", "none"):
            fields[record.type] = (record.id or fields[record.type][0], record.resource_location)
    urls = {}
    for role, (image_id, url) in fields.items():
        if not url:
            continue
        if not url.startswith(("http://", "https://")):
            raise InvalidParameterValue(f"The {role} location {url!r} is not an http(s) URL of Walrus.")
        urls[role] = (image_id or role, url)
    return urls


def instance_type(instance, counters=None):
    """
    The WSDL's C{instanceType} for an instance record.

    @param counters: C{(block bytes, network bytes)} to report.
    """
    vm = instance.vm
    blkbytes, netbytes = counters or (0, 0)
    return t.InstanceType(
        uuid=instance.uuid,
        reservationId=instance.reservation_id,
        instanceId=instance.instance_id,
        imageId=instance.image_id,
        kernelId=instance.kernel_id,
        ramdiskId=instance.ramdisk_id,
        userId=instance.user_id,
        ownerId=instance.owner_id,
        accountId=instance.account_id,
        keyName=instance.key_name,
        instanceType=common.VirtualMachineType(
            name=vm.name,
            memory=vm.memory,
            cores=vm.cores,
            disk=vm.disk,
            virtualBootRecord=[
                common.VirtualBootRecordType(
                    resourceLocation=r.resource_location, guestDeviceName=r.guest_device, size=r.size,
                    format=r.format, id=r.id, type=r.type,
                )
                for r in vm.boot_records
            ],
        )
        if vm is not None
        else None,
        netParams=common.NetConfigType(
            interfaceId=instance.net.interface_id,
            device=instance.net.device,
            privateMacAddress=instance.net.mac,
            privateIp=instance.net.private_ip,
            publicIp=instance.net.public_ip,
            vlan=instance.net.vlan,
            networkIndex=instance.net.network_index,
        ),
        stateName=instance.reported,
        bundleTaskStateName="none",
        createImageStateName="none",
        launchTime=_time(instance.launch_time),
        expiryTime=_time(instance.expiry_time),
        blkbytes=min(blkbytes, _INT_MAX),
        netbytes=min(netbytes, _INT_MAX),
        guestStateName="poweredOn" if instance.state in _RUNNING else "poweredOff",
        migrationStateName="none",
        userData=instance.user_data,
        launchIndex=instance.launch_index,
        platform=instance.platform,
        groupNames=instance.group_names,
        groupIds=instance.group_ids,
        volumes=[
            common.VolumeType(volumeId=v.volume_id, remoteDev=v.remote_dev, localDev=v.local_dev, state=v.state)
            for v in instance.volumes
        ],
        hasFloopy=0,
    )


class NodeOperations(ComponentOperations):
    """
    The Node Controller's operations.

    @ivar node: the L{Node}; C{None} in a node that only answers
        C{DescribeServices} (the SOAP tests).
    @ivar extras: C{volumes} (L{eucalyptus.services.nc.volumes.Volumes}),
        C{sensors} and C{power} collaborators.
    """

    component = "nc"
    service_type = "node"

    def __init__(self, config, url, node=None, sensors=None, volumes=None, power=None):
        self.node = node
        self.sensors = sensors
        self.volumes = volumes
        self.power = power
        ComponentOperations.__init__(self, config, url)
        if node is not None and node.host is None:
            # Until it knows its host and has adopted its instances.
            self.state = "NOTREADY"

    def operations(self):
        if self.node is None:
            return {}
        return {
            "ncRunInstance": self.run_instance,
            "ncDescribeInstances": self.describe_instances,
            "ncTerminateInstance": self.terminate_instance,
            "ncRebootInstance": self.reboot_instance,
            "ncGetConsoleOutput": self.get_console_output,
            "ncDescribeResource": self.describe_resource,
            "ncStartInstance": self.start_instance,
            "ncStopInstance": self.stop_instance,
            "ncAttachVolume": self.attach_volume,
            "ncDetachVolume": self.detach_volume,
            "ncAssignAddress": self.assign_address,
            "ncStartNetwork": self.start_network,
            "ncPowerDown": self.power_down,
            "ncModifyNode": self.modify_node,
            "ncDescribeSensors": self.describe_sensors,
        }

    def _counters(self, instance):
        series = {s.metric: s.points for s in self.sensors.series(instance.instance_id, history=1)}

        def last(*names):
            return int(sum(series[name][-1][1] for name in names if series.get(name)))

        return last("DiskReadBytes", "DiskWriteBytes"), last("NetworkIn", "NetworkOut")

    def _instance(self, instance):
        return instance_type(instance, self._counters(instance))

    def run_instance(self, request):
        spec, urls = spec_from_request(request)
        instance = self.node.run_instance(spec, urls)
        return respond(request, t.NcRunInstanceResponseType, instance=self._instance(instance))

    def describe_instances(self, request):
        found = self.node.describe(request.instanceIds or ())
        return respond(request, t.NcDescribeInstancesResponseType, instances=[self._instance(i) for i in found])

    def terminate_instance(self, request):
        previous, now = self.node.terminate(request.instanceId, bool(request.force))
        return respond(
            request, t.NcTerminateInstanceResponseType, instanceId=request.instanceId, shutdownState=now,
            previousState=previous,
        )

    @defer.inlineCallbacks
    def reboot_instance(self, request):
        yield self.node.reboot(request.instanceId)
        return respond(request, t.NcRebootInstanceResponseType, status=True)

    @defer.inlineCallbacks
    def get_console_output(self, request):
        output = yield self.node.console_output(request.instanceId)
        return respond(request, t.NcGetConsoleOutputResponseType, consoleOutput=output)

    def describe_resource(self, request):
        figures = self.node.resources().figures()
        return respond(
            request,
            t.NcDescribeResourceResponseType,
            nodeStatus="enabled" if self.node.enabled else "disabled",
            migrationCapable=False,
            iqn="",
            publicSubnets="",
            hypervisor=self.node.host.name,
            **{wire: figures[field] for field, wire in WIRE_NAMES.items()},
        )

    @defer.inlineCallbacks
    def start_instance(self, request):
        yield self.node.start(request.instanceId)
        return respond(request, t.NcStartInstanceResponseType)

    def stop_instance(self, request):
        self.node.stop(request.instanceId)
        return respond(request, t.NcStopInstanceResponseType)

    @defer.inlineCallbacks
    def attach_volume(self, request):
        yield self.volumes.attach(request.instanceId, request.volumeId, request.remoteDev, request.localDev)
        return respond(request, t.NcAttachVolumeResponseType)

    @defer.inlineCallbacks
    def detach_volume(self, request):
        yield self.volumes.detach(
            request.instanceId, request.volumeId, request.remoteDev, request.localDev, bool(request.force)
        )
        return respond(request, t.NcDetachVolumeResponseType)

    @defer.inlineCallbacks
    def assign_address(self, request):
        instance = self.node.get(request.instanceId)
        instance.net.public_ip = request.publicIp or ""
        yield self.node.save(instance)
        return respond(request, t.NcAssignAddressResponseType)

    def start_network(self, request):
        # The VM network is the networking issue's; the node's side of it
        # needs nothing before then.
        return respond(request, t.NcStartNetworkResponseType, networkStatus="SUCCESS")

    @defer.inlineCallbacks
    def power_down(self, request):
        if self.power is None:
            raise NotImplementedOperation("This node has no power-down command configured.")
        yield self.power(self.node)
        return respond(request, t.NcPowerDownResponseType)

    def modify_node(self, request):
        state = (request.stateName or "").lower()
        if state not in ("enabled", "disabled"):
            raise InvalidParameterValue(f"stateName must be 'enabled' or 'disabled', not {request.stateName!r}.")
        self.node.enabled = state == "enabled"
        return respond(request, t.NcModifyNodeResponseType)

    def describe_sensors(self, request):
        wanted = set(request.instanceIds or ())
        history = request.historySize or None
        interval = request.collectionIntervalTimeMs or 5000
        resources = []
        for instance in self.node.live():
            if wanted and instance.instance_id not in wanted:
                continue
            metrics = []
            for series in self.sensors.series(instance.instance_id, history, request.sensorIds or ()):
                dimension = common.MetricDimensionsType(
                    dimensionName=series.dimension,
                    sequenceNum=len(series.points),
                    values=[
                        common.MetricDimensionsValuesType(timestamp=_time(stamp), value=value)
                        for stamp, value in series.points
                    ],
                )
                counter = common.MetricCounterType(type=series.type, collectionIntervalMs=interval, dimensions=[dimension])
                metrics.append(common.MetricsResourceType(metricName=series.metric, counters=[counter]))
            resources.append(
                common.SensorsResourceType(
                    resourceName=instance.instance_id, resourceType="instance", resourceUuid=instance.uuid,
                    metrics=metrics,
                )
            )
        return respond(request, t.NcDescribeSensorsResponseType, sensorsResources=resources)
