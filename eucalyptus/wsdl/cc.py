# -*- test-case-name: tests.wsdl.test_contract -*-
"""
The Cluster Controller SOAP service, C{EucalyptusCC} (C{eucalyptus_cc.wsdl}).

Served at C{http://<host>:8774/axis2/services/EucalyptusCC}; the CLC is its
only caller.  Each row of L{CC_OPERATIONS} is one operation; see
L{eucalyptus.wsdl.binding.operation} for what every operation does.
"""

from eucalyptus.wsdl import cc_types as t
from eucalyptus.wsdl.binding import service_class
from eucalyptus.wsdl.common import (
    DescribeServicesResponseType, DescribeServicesType)

__all__ = ["CC_OPERATIONS", "EucalyptusCC"]

#: (operation, request type, response type).
CC_OPERATIONS = [
    ("RunInstances", t.RunInstancesType, t.RunInstancesResponseType),
    ("DescribeInstances", t.DescribeInstancesType,
     t.DescribeInstancesResponseType),
    ("TerminateInstances", t.TerminateInstancesType,
     t.TerminateInstancesResponseType),
    ("RebootInstances", t.RebootInstancesType, t.RebootInstancesResponseType),
    ("GetConsoleOutput", t.GetConsoleOutputType,
     t.GetConsoleOutputResponseType),
    ("DescribeResources", t.DescribeResourcesType,
     t.DescribeResourcesResponseType),
    ("StartNetwork", t.StartNetworkType, t.StartNetworkResponseType),
    ("StopNetwork", t.StopNetworkType, t.StopNetworkResponseType),
    ("ConfigureNetwork", t.ConfigureNetworkType,
     t.ConfigureNetworkResponseType),
    ("AssignAddress", t.AssignAddressType, t.AssignAddressResponseType),
    ("UnassignAddress", t.UnassignAddressType, t.UnassignAddressResponseType),
    ("DescribePublicAddresses", t.DescribePublicAddressesType,
     t.DescribePublicAddressesResponseType),
    ("RegisterImage", t.RegisterImageType, t.RegisterImageResponseType),
    ("DescribeNetworks", t.DescribeNetworksType,
     t.DescribeNetworksResponseType),
    ("AttachVolume", t.AttachVolumeType, t.AttachVolumeResponseType),
    ("DetachVolume", t.DetachVolumeType, t.DetachVolumeResponseType),
    ("BundleInstance", t.BundleInstanceType, t.BundleInstanceResponseType),
    ("CancelBundleTask", t.CancelBundleTaskType,
     t.CancelBundleTaskResponseType),
    ("DescribeBundleTasks", t.DescribeBundleTasksType,
     t.DescribeBundleTasksResponseType),
    ("CreateImage", t.CreateImageType, t.CreateImageResponseType),
    ("DescribeServices", DescribeServicesType, DescribeServicesResponseType),
    ("StartService", t.StartServiceType, t.StartServiceResponseType),
    ("StopService", t.StopServiceType, t.StopServiceResponseType),
    ("EnableService", t.EnableServiceType, t.EnableServiceResponseType),
    ("DisableService", t.DisableServiceType, t.DisableServiceResponseType),
    ("ShutdownService", t.ShutdownServiceType, t.ShutdownServiceResponseType),
    ("BundleRestartInstance", t.BundleRestartInstanceType,
     t.BundleRestartInstanceResponseType),
    ("DescribeSensors", t.DescribeSensorsType, t.DescribeSensorsResponseType),
    ("ModifyNode", t.ModifyNodeType, t.ModifyNodeResponseType),
    ("MigrateInstances", t.MigrateInstancesType,
     t.MigrateInstancesResponseType),
    ("StartInstance", t.StartInstanceType, t.StartInstanceResponseType),
    ("StopInstance", t.StopInstanceType, t.StopInstanceResponseType),
    ("BroadcastNetworkInfo", t.BroadcastNetworkInfoType,
     t.BroadcastNetworkInfoResponseType),
    ("AttachNetworkInterface", t.AttachNetworkInterfaceType,
     t.AttachNetworkInterfaceResponseType),
    ("DetachNetworkInterface", t.DetachNetworkInterfaceType,
     t.DetachNetworkInterfaceResponseType),
]

EucalyptusCC = service_class(
    "EucalyptusCC", CC_OPERATIONS, __name__,
    "The SOAP operations of a Cluster Controller.")
