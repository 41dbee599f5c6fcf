# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Request and response types of the Cluster Controller contract
(C{eucalyptus_cc.wsdl}, service C{EucalyptusCC}).

Every message extends L{EucalyptusMessage}; XSD names are the original ones
(C{RunInstancesType} / C{RunInstancesResponseType}, C{ccInstanceType}...).
"""

from spyne import Boolean, ComplexModel, DateTime, Double, Integer32, Unicode

from eucalyptus.wsdl.common import (
    NAMESPACE, NO_FIELDS, BundleTaskType, EucalyptusMessage, NetConfigType,
    SensorsResourceType, ServiceInfoType, VirtualMachineType, VolumeType,
    repeated)

__all__ = [
    "CcInstanceType", "CcResourceType", "CcNodeType", "NetworkRule",
    "PublicAddressType", "NetworkType",
    "RunInstancesType", "RunInstancesResponseType",
    "DescribeInstancesType", "DescribeInstancesResponseType",
    "TerminateInstancesType", "TerminateInstancesResponseType",
    "RebootInstancesType", "RebootInstancesResponseType",
    "GetConsoleOutputType", "GetConsoleOutputResponseType",
    "DescribeResourcesType", "DescribeResourcesResponseType",
    "StartNetworkType", "StartNetworkResponseType",
    "StopNetworkType", "StopNetworkResponseType",
    "ConfigureNetworkType", "ConfigureNetworkResponseType",
    "AssignAddressType", "AssignAddressResponseType",
    "UnassignAddressType", "UnassignAddressResponseType",
    "DescribePublicAddressesType", "DescribePublicAddressesResponseType",
    "RegisterImageType", "RegisterImageResponseType",
    "DescribeNetworksType", "DescribeNetworksResponseType",
    "AttachVolumeType", "AttachVolumeResponseType",
    "DetachVolumeType", "DetachVolumeResponseType",
    "BundleInstanceType", "BundleInstanceResponseType",
    "CancelBundleTaskType", "CancelBundleTaskResponseType",
    "DescribeBundleTasksType", "DescribeBundleTasksResponseType",
    "CreateImageType", "CreateImageResponseType",
    "StartServiceType", "StartServiceResponseType",
    "StopServiceType", "StopServiceResponseType",
    "EnableServiceType", "EnableServiceResponseType",
    "DisableServiceType", "DisableServiceResponseType",
    "ShutdownServiceType", "ShutdownServiceResponseType",
    "BundleRestartInstanceType", "BundleRestartInstanceResponseType",
    "DescribeSensorsType", "DescribeSensorsResponseType",
    "ModifyNodeType", "ModifyNodeResponseType",
    "MigrateInstancesType", "MigrateInstancesResponseType",
    "StartInstanceType", "StartInstanceResponseType",
    "StopInstanceType", "StopInstanceResponseType",
    "BroadcastNetworkInfoType", "BroadcastNetworkInfoResponseType",
    "AttachNetworkInterfaceType", "AttachNetworkInterfaceResponseType",
    "DetachNetworkInterfaceType", "DetachNetworkInterfaceResponseType",
]

String = Unicode
Int = Integer32


class CcInstanceType(ComplexModel):
    """
    An instance as the CC reports it; C{serviceTag} is the URL of its NC.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "ccInstanceType"

    uuid = String
    imageId = String
    kernelId = String
    ramdiskId = String
    instanceId = String
    instanceType = VirtualMachineType
    keyName = String
    launchTime = DateTime
    expiryTime = DateTime
    stateName = String
    netParams = NetConfigType
    ownerId = String
    accountId = String
    reservationId = String
    serviceTag = String
    userData = String
    launchIndex = String
    platform = String
    bundleTaskStateName = String
    bundleTaskProgress = Double
    createImageStateName = String
    blkbytes = Int
    netbytes = Int
    guestStateName = String
    migrationStateName = String
    migrationSource = String
    migrationDestination = String
    groupNames = repeated(String, 64)
    volumes = repeated(VolumeType, 64)
    secondaryNetConfig = repeated(NetConfigType)


class CcResourceType(ComplexModel):
    """
    Capacity of the cluster for one instance type.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "ccResourceType"

    instanceType = VirtualMachineType
    maxInstances = Int
    availableInstances = Int


class CcNodeType(ComplexModel):
    """
    One node (NC) of the cluster.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "ccNodeType"

    serviceTag = String
    iqn = String
    hypervisor = String


class NetworkRule(ComplexModel):
    """
    One security-group rule (C{firewall-open} or C{firewall-close}).
    """

    __namespace__ = NAMESPACE
    __type_name__ = "networkRule"

    type = String
    sourceNames = repeated(String)
    userNames = repeated(String)
    sourceNets = repeated(String)
    destUserName = String
    destName = String
    protocol = String
    portRangeMin = Int
    portRangeMax = Int


class PublicAddressType(ComplexModel):
    """
    A public address and the private address it is mapped to.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "publicAddressType"

    uuid = String
    sourceAddress = String
    destAddress = String


class NetworkType(ComplexModel):
    """
    One active (VLAN) network of the cluster.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "networkType"

    uuid = String
    vlan = Int
    netName = String
    userName = String
    activeAddrs = repeated(Int)


class RunInstancesType(EucalyptusMessage):
    __type_name__ = "RunInstancesType"
    imageId = String
    kernelId = String
    ramdiskId = String
    imageURL = String
    kernelURL = String
    ramdiskURL = String
    instanceType = VirtualMachineType
    keyName = String
    maxCount = Int
    minCount = Int
    reservationId = String
    instanceIds = repeated(String)
    netNames = repeated(String)
    netIds = repeated(String)
    macAddresses = repeated(String)
    networkIndexList = repeated(Int)
    privateIps = repeated(String)
    uuids = repeated(String)
    vlan = Int
    userData = String
    credential = String
    launchIndex = String
    platform = String
    expiryTime = DateTime
    ownerId = String
    accountId = String
    rootDirective = String
    primaryEniAttachmentId = String
    secondaryNetConfig = repeated(NetConfigType)


class RunInstancesResponseType(EucalyptusMessage):
    __type_name__ = "RunInstancesResponseType"
    instances = repeated(CcInstanceType)


class DescribeInstancesType(EucalyptusMessage):
    __type_name__ = "DescribeInstancesType"
    instanceIds = repeated(String)


class DescribeInstancesResponseType(EucalyptusMessage):
    __type_name__ = "DescribeInstancesResponseType"
    instances = repeated(CcInstanceType)


class TerminateInstancesType(EucalyptusMessage):
    __type_name__ = "TerminateInstancesType"
    instanceIds = repeated(String)
    force = Boolean


class TerminateInstancesResponseType(EucalyptusMessage):
    __type_name__ = "TerminateInstancesResponseType"
    isTerminated = repeated(Boolean)


class RebootInstancesType(EucalyptusMessage):
    __type_name__ = "RebootInstancesType"
    instanceIds = repeated(String)


class RebootInstancesResponseType(EucalyptusMessage):
    __type_name__ = "RebootInstancesResponseType"
    _type_info = NO_FIELDS


class GetConsoleOutputType(EucalyptusMessage):
    __type_name__ = "GetConsoleOutputType"
    instanceId = String


class GetConsoleOutputResponseType(EucalyptusMessage):
    __type_name__ = "GetConsoleOutputResponseType"
    consoleOutput = String


class DescribeResourcesType(EucalyptusMessage):
    __type_name__ = "DescribeResourcesType"
    instanceTypes = repeated(VirtualMachineType)


class DescribeResourcesResponseType(EucalyptusMessage):
    __type_name__ = "DescribeResourcesResponseType"
    resources = repeated(CcResourceType)
    serviceTags = repeated(String)
    nodes = repeated(CcNodeType)


class StartNetworkType(EucalyptusMessage):
    __type_name__ = "StartNetworkType"
    uuid = String
    vlan = Int
    netName = String
    groupId = String
    vmsubdomain = String
    nameserver = String
    clusterControllers = repeated(String)
    accountId = String


class StartNetworkResponseType(EucalyptusMessage):
    __type_name__ = "StartNetworkResponseType"
    _type_info = NO_FIELDS


class StopNetworkType(EucalyptusMessage):
    __type_name__ = "StopNetworkType"
    vlan = Int
    netName = String
    accountId = String


class StopNetworkResponseType(EucalyptusMessage):
    __type_name__ = "StopNetworkResponseType"
    _type_info = NO_FIELDS


class ConfigureNetworkType(EucalyptusMessage):
    __type_name__ = "ConfigureNetworkType"
    rules = repeated(NetworkRule)
    accountId = String


class ConfigureNetworkResponseType(EucalyptusMessage):
    __type_name__ = "ConfigureNetworkResponseType"
    _type_info = NO_FIELDS


class AssignAddressType(EucalyptusMessage):
    __type_name__ = "AssignAddressType"
    uuid = String
    source = String
    dest = String


class AssignAddressResponseType(EucalyptusMessage):
    __type_name__ = "AssignAddressResponseType"
    _type_info = NO_FIELDS


class UnassignAddressType(EucalyptusMessage):
    __type_name__ = "UnassignAddressType"
    source = String
    dest = String


class UnassignAddressResponseType(EucalyptusMessage):
    __type_name__ = "UnassignAddressResponseType"
    _type_info = NO_FIELDS


class DescribePublicAddressesType(EucalyptusMessage):
    __type_name__ = "DescribePublicAddressesType"
    _type_info = NO_FIELDS


class DescribePublicAddressesResponseType(EucalyptusMessage):
    __type_name__ = "DescribePublicAddressesResponseType"
    addresses = repeated(PublicAddressType)


class RegisterImageType(EucalyptusMessage):
    # Legacy (1.x) operation: the CC only recorded the manifest location.
    __type_name__ = "RegisterImageType"
    amiId = String
    imageLocation = String


class RegisterImageResponseType(EucalyptusMessage):
    __type_name__ = "RegisterImageResponseType"
    _type_info = NO_FIELDS


class DescribeNetworksType(EucalyptusMessage):
    __type_name__ = "DescribeNetworksType"
    vmsubdomain = String
    nameserver = String
    clusterControllers = repeated(String)


class DescribeNetworksResponseType(EucalyptusMessage):
    __type_name__ = "DescribeNetworksResponseType"
    useVlans = Int
    mode = String
    addrsPerNet = Int
    addrIndexMin = Int
    addrIndexMax = Int
    vlanMin = Int
    vlanMax = Int
    vnetSubnet = String
    vnetNetmask = String
    activeNetworks = repeated(NetworkType)


class AttachVolumeType(EucalyptusMessage):
    __type_name__ = "AttachVolumeType"
    volumeId = String
    instanceId = String
    remoteDev = String
    localDev = String


class AttachVolumeResponseType(EucalyptusMessage):
    __type_name__ = "AttachVolumeResponseType"
    _type_info = NO_FIELDS


class DetachVolumeType(EucalyptusMessage):
    __type_name__ = "DetachVolumeType"
    volumeId = String
    instanceId = String
    remoteDev = String
    localDev = String
    force = Boolean


class DetachVolumeResponseType(EucalyptusMessage):
    __type_name__ = "DetachVolumeResponseType"
    _type_info = NO_FIELDS


class BundleInstanceType(EucalyptusMessage):
    __type_name__ = "BundleInstanceType"
    instanceId = String
    bucketName = String
    filePrefix = String
    objectStorageURL = String
    userPublicKey = String
    S3Policy = String
    S3PolicySig = String
    architecture = String


class BundleInstanceResponseType(EucalyptusMessage):
    __type_name__ = "BundleInstanceResponseType"
    _type_info = NO_FIELDS


class CancelBundleTaskType(EucalyptusMessage):
    __type_name__ = "CancelBundleTaskType"
    instanceId = String


class CancelBundleTaskResponseType(EucalyptusMessage):
    __type_name__ = "CancelBundleTaskResponseType"
    _type_info = NO_FIELDS


class DescribeBundleTasksType(EucalyptusMessage):
    __type_name__ = "DescribeBundleTasksType"
    instanceIds = repeated(String)


class DescribeBundleTasksResponseType(EucalyptusMessage):
    __type_name__ = "DescribeBundleTasksResponseType"
    bundleTasks = repeated(BundleTaskType)


class CreateImageType(EucalyptusMessage):
    __type_name__ = "CreateImageType"
    instanceId = String
    volumeId = String
    remoteDev = String


class CreateImageResponseType(EucalyptusMessage):
    __type_name__ = "CreateImageResponseType"
    _type_info = NO_FIELDS


def _service_transition(type_name, doc):
    """
    Build the message type of one service state transition
    (C{StartService}, C{StopService}...): requests and responses carry the
    same C{serviceIds[]} and C{instancesIds[]}.

    @param type_name: the XSD type name.
    @param doc: the class docstring.
    @return: a new L{EucalyptusMessage} subclass.
    """
    return type(type_name[0].upper() + type_name[1:], (EucalyptusMessage,), {
        "__doc__": doc,
        "__module__": __name__,
        "__type_name__": type_name,
        "serviceIds": repeated(ServiceInfoType),
        "instancesIds": repeated(String),
    })


StartServiceType = _service_transition(
    "StartServiceType", "Request of C{StartService}.")
StartServiceResponseType = _service_transition(
    "StartServiceResponseType", "Response of C{StartService}.")
StopServiceType = _service_transition(
    "StopServiceType", "Request of C{StopService}.")
StopServiceResponseType = _service_transition(
    "StopServiceResponseType", "Response of C{StopService}.")
EnableServiceType = _service_transition(
    "EnableServiceType", "Request of C{EnableService}.")
EnableServiceResponseType = _service_transition(
    "EnableServiceResponseType", "Response of C{EnableService}.")
DisableServiceType = _service_transition(
    "DisableServiceType", "Request of C{DisableService}.")
DisableServiceResponseType = _service_transition(
    "DisableServiceResponseType", "Response of C{DisableService}.")
ShutdownServiceType = _service_transition(
    "ShutdownServiceType", "Request of C{ShutdownService}.")
ShutdownServiceResponseType = _service_transition(
    "ShutdownServiceResponseType", "Response of C{ShutdownService}.")


class BundleRestartInstanceType(EucalyptusMessage):
    __type_name__ = "BundleRestartInstanceType"
    instanceId = String


class BundleRestartInstanceResponseType(EucalyptusMessage):
    __type_name__ = "BundleRestartInstanceResponseType"
    _type_info = NO_FIELDS


class DescribeSensorsType(EucalyptusMessage):
    __type_name__ = "DescribeSensorsType"
    historySize = Int
    collectionIntervalTimeMs = Int
    instanceIds = repeated(String)
    sensorIds = repeated(String)


class DescribeSensorsResponseType(EucalyptusMessage):
    __type_name__ = "DescribeSensorsResponseType"
    sensorsResources = repeated(SensorsResourceType)


class ModifyNodeType(EucalyptusMessage):
    # The node to modify travels in the header's nodeName.
    __type_name__ = "ModifyNodeType"
    stateName = String


class ModifyNodeResponseType(EucalyptusMessage):
    __type_name__ = "ModifyNodeResponseType"
    _type_info = NO_FIELDS


class MigrateInstancesType(EucalyptusMessage):
    __type_name__ = "MigrateInstancesType"
    sourceHost = String
    instanceId = String
    destinationHost = repeated(String)
    allowHosts = Boolean
    resourceLocation = repeated(String)


class MigrateInstancesResponseType(EucalyptusMessage):
    __type_name__ = "MigrateInstancesResponseType"
    _type_info = NO_FIELDS


class StartInstanceType(EucalyptusMessage):
    __type_name__ = "StartInstanceType"
    instanceId = String


class StartInstanceResponseType(EucalyptusMessage):
    __type_name__ = "StartInstanceResponseType"
    _type_info = NO_FIELDS


class StopInstanceType(EucalyptusMessage):
    __type_name__ = "StopInstanceType"
    instanceId = String


class StopInstanceResponseType(EucalyptusMessage):
    __type_name__ = "StopInstanceResponseType"
    _type_info = NO_FIELDS


class BroadcastNetworkInfoType(EucalyptusMessage):
    __type_name__ = "BroadcastNetworkInfoType"
    version = String
    appliedVersion = String
    networkInfo = String


class BroadcastNetworkInfoResponseType(EucalyptusMessage):
    __type_name__ = "BroadcastNetworkInfoResponseType"
    _type_info = NO_FIELDS


class AttachNetworkInterfaceType(EucalyptusMessage):
    __type_name__ = "AttachNetworkInterfaceType"
    instanceId = String
    netConfig = NetConfigType


class AttachNetworkInterfaceResponseType(EucalyptusMessage):
    __type_name__ = "AttachNetworkInterfaceResponseType"
    _type_info = NO_FIELDS


class DetachNetworkInterfaceType(EucalyptusMessage):
    __type_name__ = "DetachNetworkInterfaceType"
    instanceId = String
    attachmentId = String
    force = Boolean


class DetachNetworkInterfaceResponseType(EucalyptusMessage):
    __type_name__ = "DetachNetworkInterfaceResponseType"
    _type_info = NO_FIELDS
