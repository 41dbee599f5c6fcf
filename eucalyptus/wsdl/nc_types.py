# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Request and response types of the Node Controller contract
(C{eucalyptus_nc.wsdl}, service C{EucalyptusNC}).

Every message extends L{EucalyptusMessage}.  The XSD names are the original
ones: C{ncRunInstanceType} / C{ncRunInstanceResponseType} and so on.  Wire
quirks kept on purpose: C{keyName} carries the SSH public key text, not its
name; C{hasFloopy} is spelled that way; C{ncDescribeResource} is singular.
"""

from spyne import Boolean, ComplexModel, DateTime, Double, Integer32, Unicode

from eucalyptus.wsdl.common import (
    NAMESPACE, NO_FIELDS, BundleTaskType, EucalyptusMessage, NetConfigType,
    SensorsResourceType, VirtualMachineType, VolumeType, repeated)

__all__ = [
    "InstanceType",
    "NcRunInstanceType", "NcRunInstanceResponseType",
    "NcDescribeInstancesType", "NcDescribeInstancesResponseType",
    "NcTerminateInstanceType", "NcTerminateInstanceResponseType",
    "NcRebootInstanceType", "NcRebootInstanceResponseType",
    "NcGetConsoleOutputType", "NcGetConsoleOutputResponseType",
    "NcDescribeResourceType", "NcDescribeResourceResponseType",
    "NcStartNetworkType", "NcStartNetworkResponseType",
    "NcAttachVolumeType", "NcAttachVolumeResponseType",
    "NcDetachVolumeType", "NcDetachVolumeResponseType",
    "NcPowerDownType", "NcPowerDownResponseType",
    "NcBundleInstanceType", "NcBundleInstanceResponseType",
    "NcCancelBundleTaskType", "NcCancelBundleTaskResponseType",
    "NcDescribeBundleTasksType", "NcDescribeBundleTasksResponseType",
    "NcAssignAddressType", "NcAssignAddressResponseType",
    "NcCreateImageType", "NcCreateImageResponseType",
    "NcBundleRestartInstanceType", "NcBundleRestartInstanceResponseType",
    "NcDescribeSensorsType", "NcDescribeSensorsResponseType",
    "NcModifyNodeType", "NcModifyNodeResponseType",
    "NcMigrateInstancesType", "NcMigrateInstancesResponseType",
    "NcStartInstanceType", "NcStartInstanceResponseType",
    "NcStopInstanceType", "NcStopInstanceResponseType",
    "NcBroadcastNetworkInfoType", "NcBroadcastNetworkInfoResponseType",
    "NcAttachNetworkInterfaceType", "NcAttachNetworkInterfaceResponseType",
    "NcDetachNetworkInterfaceType", "NcDetachNetworkInterfaceResponseType",
]

String = Unicode
Int = Integer32


class InstanceType(ComplexModel):
    """
    An instance as the NC reports it (C{instanceType} in the NC WSDL).
    """

    __namespace__ = NAMESPACE
    __type_name__ = "instanceType"

    # Passed in by ncRunInstance.
    uuid = String
    reservationId = String
    instanceId = String
    imageId = String
    kernelId = String
    ramdiskId = String
    userId = String
    ownerId = String
    accountId = String
    keyName = String
    instanceType = VirtualMachineType
    netParams = NetConfigType
    # Reported by the NC.
    stateName = String
    bundleTaskStateName = String
    bundleTaskProgress = Double
    createImageStateName = String
    launchTime = DateTime
    expiryTime = DateTime
    blkbytes = Int
    netbytes = Int
    guestStateName = String
    migrationStateName = String
    migrationSource = String
    migrationDestination = String
    # Kept by the NC for safekeeping.
    userData = String
    launchIndex = String
    platform = String
    groupNames = repeated(String, 64)
    groupIds = repeated(String, 64)
    volumes = repeated(VolumeType, 64)
    serviceTag = String
    hasFloopy = Int
    secondaryNetConfig = repeated(NetConfigType)


class NcRunInstanceType(EucalyptusMessage):
    __type_name__ = "ncRunInstanceType"
    imageId = String
    kernelId = String
    ramdiskId = String
    imageURL = String
    kernelURL = String
    ramdiskURL = String
    ownerId = String
    accountId = String
    reservationId = String
    instanceId = String
    uuid = String
    instanceType = VirtualMachineType
    keyName = String
    netParams = NetConfigType
    userData = String
    credential = String
    launchIndex = String
    platform = String
    expiryTime = DateTime
    groupNames = repeated(String, 64)
    rootDirective = String
    groupIds = repeated(String, 64)
    secondaryNetConfig = repeated(NetConfigType)


class NcRunInstanceResponseType(EucalyptusMessage):
    __type_name__ = "ncRunInstanceResponseType"
    instance = InstanceType


class NcDescribeInstancesType(EucalyptusMessage):
    __type_name__ = "ncDescribeInstancesType"
    instanceIds = repeated(String)


class NcDescribeInstancesResponseType(EucalyptusMessage):
    __type_name__ = "ncDescribeInstancesResponseType"
    instances = repeated(InstanceType)


class NcTerminateInstanceType(EucalyptusMessage):
    __type_name__ = "ncTerminateInstanceType"
    instanceId = String
    force = Boolean


class NcTerminateInstanceResponseType(EucalyptusMessage):
    __type_name__ = "ncTerminateInstanceResponseType"
    instanceId = String
    shutdownState = String
    previousState = String


class NcRebootInstanceType(EucalyptusMessage):
    __type_name__ = "ncRebootInstanceType"
    instanceId = String


class NcRebootInstanceResponseType(EucalyptusMessage):
    __type_name__ = "ncRebootInstanceResponseType"
    status = Boolean


class NcGetConsoleOutputType(EucalyptusMessage):
    __type_name__ = "ncGetConsoleOutputType"
    instanceId = String


class NcGetConsoleOutputResponseType(EucalyptusMessage):
    __type_name__ = "ncGetConsoleOutputResponseType"
    consoleOutput = String


class NcDescribeResourceType(EucalyptusMessage):
    __type_name__ = "ncDescribeResourceType"
    resourceType = String


class NcDescribeResourceResponseType(EucalyptusMessage):
    __type_name__ = "ncDescribeResourceResponseType"
    nodeStatus = String
    migrationCapable = Boolean
    iqn = String
    memorySizeMax = Int
    memorySizeAvailable = Int
    diskSizeMax = Int
    diskSizeAvailable = Int
    numberOfCoresMax = Int
    numberOfCoresAvailable = Int
    publicSubnets = String
    hypervisor = String


class NcStartNetworkType(EucalyptusMessage):
    __type_name__ = "ncStartNetworkType"
    remoteHosts = repeated(String)
    remoteHostPort = Int
    vlan = Int
    uuid = String


class NcStartNetworkResponseType(EucalyptusMessage):
    __type_name__ = "ncStartNetworkResponseType"
    networkStatus = String


class NcAttachVolumeType(EucalyptusMessage):
    __type_name__ = "ncAttachVolumeType"
    instanceId = String
    volumeId = String
    remoteDev = String
    localDev = String


class NcAttachVolumeResponseType(EucalyptusMessage):
    __type_name__ = "ncAttachVolumeResponseType"
    _type_info = NO_FIELDS


class NcDetachVolumeType(EucalyptusMessage):
    __type_name__ = "ncDetachVolumeType"
    instanceId = String
    volumeId = String
    remoteDev = String
    localDev = String
    force = Boolean


class NcDetachVolumeResponseType(EucalyptusMessage):
    __type_name__ = "ncDetachVolumeResponseType"
    _type_info = NO_FIELDS


class NcPowerDownType(EucalyptusMessage):
    __type_name__ = "ncPowerDownType"
    _type_info = NO_FIELDS


class NcPowerDownResponseType(EucalyptusMessage):
    __type_name__ = "ncPowerDownResponseType"
    _type_info = NO_FIELDS


class NcBundleInstanceType(EucalyptusMessage):
    __type_name__ = "ncBundleInstanceType"
    instanceId = String
    bucketName = String
    filePrefix = String
    objectStorageURL = String
    userPublicKey = String
    cloudPublicKey = String
    S3Policy = String
    S3PolicySig = String
    architecture = String


class NcBundleInstanceResponseType(EucalyptusMessage):
    __type_name__ = "ncBundleInstanceResponseType"
    _type_info = NO_FIELDS


class NcCancelBundleTaskType(EucalyptusMessage):
    __type_name__ = "ncCancelBundleTaskType"
    instanceId = String


class NcCancelBundleTaskResponseType(EucalyptusMessage):
    __type_name__ = "ncCancelBundleTaskResponseType"
    _type_info = NO_FIELDS


class NcDescribeBundleTasksType(EucalyptusMessage):
    __type_name__ = "ncDescribeBundleTasksType"
    instanceIds = repeated(String)


class NcDescribeBundleTasksResponseType(EucalyptusMessage):
    __type_name__ = "ncDescribeBundleTasksResponseType"
    bundleTasks = repeated(BundleTaskType)


class NcAssignAddressType(EucalyptusMessage):
    __type_name__ = "ncAssignAddressType"
    instanceId = String
    publicIp = String


class NcAssignAddressResponseType(EucalyptusMessage):
    __type_name__ = "ncAssignAddressResponseType"
    _type_info = NO_FIELDS


class NcCreateImageType(EucalyptusMessage):
    __type_name__ = "ncCreateImageType"
    instanceId = String
    volumeId = String
    remoteDev = String


class NcCreateImageResponseType(EucalyptusMessage):
    __type_name__ = "ncCreateImageResponseType"
    _type_info = NO_FIELDS


class NcBundleRestartInstanceType(EucalyptusMessage):
    __type_name__ = "ncBundleRestartInstanceType"
    instanceId = String


class NcBundleRestartInstanceResponseType(EucalyptusMessage):
    __type_name__ = "ncBundleRestartInstanceResponseType"
    _type_info = NO_FIELDS


class NcDescribeSensorsType(EucalyptusMessage):
    __type_name__ = "ncDescribeSensorsType"
    historySize = Int
    collectionIntervalTimeMs = Int
    instanceIds = repeated(String)
    sensorIds = repeated(String)


class NcDescribeSensorsResponseType(EucalyptusMessage):
    __type_name__ = "ncDescribeSensorsResponseType"
    sensorsResources = repeated(SensorsResourceType)


class NcModifyNodeType(EucalyptusMessage):
    __type_name__ = "ncModifyNodeType"
    stateName = String


class NcModifyNodeResponseType(EucalyptusMessage):
    __type_name__ = "ncModifyNodeResponseType"
    _type_info = NO_FIELDS


class NcMigrateInstancesType(EucalyptusMessage):
    __type_name__ = "ncMigrateInstancesType"
    instances = repeated(InstanceType)
    action = String
    credentials = String
    resourceLocation = repeated(String)


class NcMigrateInstancesResponseType(EucalyptusMessage):
    __type_name__ = "ncMigrateInstancesResponseType"
    _type_info = NO_FIELDS


class NcStartInstanceType(EucalyptusMessage):
    __type_name__ = "ncStartInstanceType"
    instanceId = String


class NcStartInstanceResponseType(EucalyptusMessage):
    __type_name__ = "ncStartInstanceResponseType"
    _type_info = NO_FIELDS


class NcStopInstanceType(EucalyptusMessage):
    __type_name__ = "ncStopInstanceType"
    instanceId = String


class NcStopInstanceResponseType(EucalyptusMessage):
    __type_name__ = "ncStopInstanceResponseType"
    _type_info = NO_FIELDS


class NcBroadcastNetworkInfoType(EucalyptusMessage):
    __type_name__ = "ncBroadcastNetworkInfoType"
    networkInfo = String


class NcBroadcastNetworkInfoResponseType(EucalyptusMessage):
    __type_name__ = "ncBroadcastNetworkInfoResponseType"
    _type_info = NO_FIELDS


class NcAttachNetworkInterfaceType(EucalyptusMessage):
    __type_name__ = "ncAttachNetworkInterfaceType"
    instanceId = String
    netConfig = NetConfigType


class NcAttachNetworkInterfaceResponseType(EucalyptusMessage):
    __type_name__ = "ncAttachNetworkInterfaceResponseType"
    _type_info = NO_FIELDS


class NcDetachNetworkInterfaceType(EucalyptusMessage):
    __type_name__ = "ncDetachNetworkInterfaceType"
    instanceId = String
    attachmentId = String
    force = Boolean


class NcDetachNetworkInterfaceResponseType(EucalyptusMessage):
    __type_name__ = "ncDetachNetworkInterfaceResponseType"
    _type_info = NO_FIELDS
