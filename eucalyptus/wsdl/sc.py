# -*- test-case-name: tests.wsdl.test_contract -*-
"""
The Storage Controller SOAP service, C{EucalyptusSC} (C{eucalyptus_sc.wsdl}).

Served at C{http://<host>:8773/services/Storage}.  The CLC calls the volume
and snapshot operations; NCs call C{ExportVolume} and C{UnexportVolume}.
"""

from eucalyptus.wsdl import sc_types as t
from eucalyptus.wsdl.binding import service_class
from eucalyptus.wsdl.common import (
    DescribeServicesResponseType, DescribeServicesType)

__all__ = ["SC_OPERATIONS", "EucalyptusSC"]

#: (operation, request type, response type).
SC_OPERATIONS = [
    ("CreateStorageVolume", t.CreateStorageVolumeType,
     t.CreateStorageVolumeResponseType),
    ("DeleteStorageVolume", t.DeleteStorageVolumeType,
     t.DeleteStorageVolumeResponseType),
    ("DescribeStorageVolumes", t.DescribeStorageVolumesType,
     t.DescribeStorageVolumesResponseType),
    ("CreateStorageSnapshot", t.CreateStorageSnapshotType,
     t.CreateStorageSnapshotResponseType),
    ("DeleteStorageSnapshot", t.DeleteStorageSnapshotType,
     t.DeleteStorageSnapshotResponseType),
    ("DescribeStorageSnapshots", t.DescribeStorageSnapshotsType,
     t.DescribeStorageSnapshotsResponseType),
    ("AttachStorageVolume", t.AttachStorageVolumeType,
     t.AttachStorageVolumeResponseType),
    ("DetachStorageVolume", t.DetachStorageVolumeType,
     t.DetachStorageVolumeResponseType),
    ("ExportVolume", t.ExportVolumeType, t.ExportVolumeResponseType),
    ("UnexportVolume", t.UnexportVolumeType, t.UnexportVolumeResponseType),
    ("GetVolumeToken", t.GetVolumeTokenType, t.GetVolumeTokenResponseType),
    ("GetStorageVolume", t.GetStorageVolumeType,
     t.GetStorageVolumeResponseType),
    ("CloneVolume", t.CloneVolumeType, t.CloneVolumeResponseType),
    ("ConvertVolumes", t.ConvertVolumesType, t.ConvertVolumesResponseType),
    ("GetStorageConfiguration", t.GetStorageConfigurationType,
     t.GetStorageConfigurationResponseType),
    ("UpdateStorageConfiguration", t.UpdateStorageConfigurationType,
     t.UpdateStorageConfigurationResponseType),
    ("DescribeServices", DescribeServicesType, DescribeServicesResponseType),
]

EucalyptusSC = service_class(
    "EucalyptusSC", SC_OPERATIONS, __name__,
    "The SOAP operations of a Storage Controller.")
