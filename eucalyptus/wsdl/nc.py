# -*- test-case-name: tests.wsdl.test_contract -*-
"""
The Node Controller SOAP service, C{EucalyptusNC} (C{eucalyptus_nc.wsdl}).

Served at C{http://<node>:8775/axis2/services/EucalyptusNC}; the CC is its
only caller.  Each row of L{NC_OPERATIONS} is one operation; see
L{eucalyptus.wsdl.binding.operation} for what every operation does.
"""

from eucalyptus.wsdl import nc_types as t
from eucalyptus.wsdl.binding import service_class
from eucalyptus.wsdl.common import (
    DescribeServicesResponseType, DescribeServicesType)

__all__ = ["NC_OPERATIONS", "EucalyptusNC"]

#: (operation, request type, response type).
NC_OPERATIONS = [
    ("ncRunInstance", t.NcRunInstanceType, t.NcRunInstanceResponseType),
    ("ncDescribeInstances", t.NcDescribeInstancesType,
     t.NcDescribeInstancesResponseType),
    ("ncTerminateInstance", t.NcTerminateInstanceType,
     t.NcTerminateInstanceResponseType),
    ("ncRebootInstance", t.NcRebootInstanceType,
     t.NcRebootInstanceResponseType),
    ("ncGetConsoleOutput", t.NcGetConsoleOutputType,
     t.NcGetConsoleOutputResponseType),
    ("ncDescribeResource", t.NcDescribeResourceType,
     t.NcDescribeResourceResponseType),
    ("ncStartNetwork", t.NcStartNetworkType, t.NcStartNetworkResponseType),
    ("ncAttachVolume", t.NcAttachVolumeType, t.NcAttachVolumeResponseType),
    ("ncDetachVolume", t.NcDetachVolumeType, t.NcDetachVolumeResponseType),
    ("ncPowerDown", t.NcPowerDownType, t.NcPowerDownResponseType),
    ("ncBundleInstance", t.NcBundleInstanceType,
     t.NcBundleInstanceResponseType),
    ("ncCancelBundleTask", t.NcCancelBundleTaskType,
     t.NcCancelBundleTaskResponseType),
    ("ncDescribeBundleTasks", t.NcDescribeBundleTasksType,
     t.NcDescribeBundleTasksResponseType),
    ("ncAssignAddress", t.NcAssignAddressType, t.NcAssignAddressResponseType),
    ("ncCreateImage", t.NcCreateImageType, t.NcCreateImageResponseType),
    ("ncBundleRestartInstance", t.NcBundleRestartInstanceType,
     t.NcBundleRestartInstanceResponseType),
    ("ncDescribeSensors", t.NcDescribeSensorsType,
     t.NcDescribeSensorsResponseType),
    ("ncModifyNode", t.NcModifyNodeType, t.NcModifyNodeResponseType),
    ("ncMigrateInstances", t.NcMigrateInstancesType,
     t.NcMigrateInstancesResponseType),
    ("ncStartInstance", t.NcStartInstanceType, t.NcStartInstanceResponseType),
    ("ncStopInstance", t.NcStopInstanceType, t.NcStopInstanceResponseType),
    ("ncBroadcastNetworkInfo", t.NcBroadcastNetworkInfoType,
     t.NcBroadcastNetworkInfoResponseType),
    ("ncAttachNetworkInterface", t.NcAttachNetworkInterfaceType,
     t.NcAttachNetworkInterfaceResponseType),
    ("ncDetachNetworkInterface", t.NcDetachNetworkInterfaceType,
     t.NcDetachNetworkInterfaceResponseType),
    ("DescribeServices", DescribeServicesType, DescribeServicesResponseType),
]

EucalyptusNC = service_class(
    "EucalyptusNC", NC_OPERATIONS, __name__,
    "The SOAP operations of a Node Controller.")
