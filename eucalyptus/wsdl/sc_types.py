# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Request and response types of the Storage Controller contract
(C{eucalyptus_sc.wsdl}, service C{EucalyptusSC}).

The original C-visible SC WSDL only had C{ExportVolume} and
C{UnexportVolume} (what an NC calls); the rest of the SC's message set was
Java-only (CLC to SC).  Here all of it is one SOAP contract in the common
namespace, with the field names of the Java messages.  Sizes are in GiB,
times are C{xs:dateTime}, C{progress} is a percentage string such as
C{"100%"} as in the EC2 API.
"""

from spyne import ComplexModel, DateTime, Integer32, Unicode

from eucalyptus.wsdl.common import (
    NAMESPACE, NO_FIELDS, EucalyptusMessage, repeated)

__all__ = [
    "StorageVolumeType", "StorageSnapshotType", "ComponentPropertyType",
    "CreateStorageVolumeType", "CreateStorageVolumeResponseType",
    "DeleteStorageVolumeType", "DeleteStorageVolumeResponseType",
    "DescribeStorageVolumesType", "DescribeStorageVolumesResponseType",
    "CreateStorageSnapshotType", "CreateStorageSnapshotResponseType",
    "DeleteStorageSnapshotType", "DeleteStorageSnapshotResponseType",
    "DescribeStorageSnapshotsType", "DescribeStorageSnapshotsResponseType",
    "AttachStorageVolumeType", "AttachStorageVolumeResponseType",
    "DetachStorageVolumeType", "DetachStorageVolumeResponseType",
    "ExportVolumeType", "ExportVolumeResponseType",
    "UnexportVolumeType", "UnexportVolumeResponseType",
    "GetVolumeTokenType", "GetVolumeTokenResponseType",
    "GetStorageVolumeType", "GetStorageVolumeResponseType",
    "CloneVolumeType", "CloneVolumeResponseType",
    "ConvertVolumesType", "ConvertVolumesResponseType",
    "GetStorageConfigurationType", "GetStorageConfigurationResponseType",
    "UpdateStorageConfigurationType", "UpdateStorageConfigurationResponseType",
]

String = Unicode
Int = Integer32


class StorageVolumeType(ComplexModel):
    """
    A volume as the SC describes it.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "storageVolumeType"

    volumeId = String
    size = Int
    snapshotId = String
    status = String
    createTime = DateTime
    actualDeviceName = String


class StorageSnapshotType(ComplexModel):
    """
    A snapshot as the SC describes it.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "storageSnapshotType"

    snapshotId = String
    volumeId = String
    status = String
    startTime = DateTime
    progress = String


class ComponentPropertyType(ComplexModel):
    """
    One configurable property of the SC (C{GetStorageConfiguration}).
    """

    __namespace__ = NAMESPACE
    __type_name__ = "componentPropertyType"

    type = String
    displayName = String
    value = String
    qualifiedName = String


class CreateStorageVolumeType(EucalyptusMessage):
    __type_name__ = "CreateStorageVolumeType"
    volumeId = String
    size = Int
    snapshotId = String
    parentVolumeId = String


class CreateStorageVolumeResponseType(EucalyptusMessage):
    __type_name__ = "CreateStorageVolumeResponseType"
    volumeId = String
    size = Int
    snapshotId = String
    status = String
    createTime = DateTime


class DeleteStorageVolumeType(EucalyptusMessage):
    __type_name__ = "DeleteStorageVolumeType"
    volumeId = String


class DeleteStorageVolumeResponseType(EucalyptusMessage):
    __type_name__ = "DeleteStorageVolumeResponseType"
    _type_info = NO_FIELDS


class DescribeStorageVolumesType(EucalyptusMessage):
    __type_name__ = "DescribeStorageVolumesType"
    volumeSet = repeated(String)


class DescribeStorageVolumesResponseType(EucalyptusMessage):
    __type_name__ = "DescribeStorageVolumesResponseType"
    volumeSet = repeated(StorageVolumeType)


class CreateStorageSnapshotType(EucalyptusMessage):
    __type_name__ = "CreateStorageSnapshotType"
    volumeId = String
    snapshotId = String


class CreateStorageSnapshotResponseType(EucalyptusMessage):
    __type_name__ = "CreateStorageSnapshotResponseType"
    snapshotId = String
    volumeId = String
    status = String
    startTime = DateTime
    progress = String


class DeleteStorageSnapshotType(EucalyptusMessage):
    __type_name__ = "DeleteStorageSnapshotType"
    snapshotId = String


class DeleteStorageSnapshotResponseType(EucalyptusMessage):
    __type_name__ = "DeleteStorageSnapshotResponseType"
    _type_info = NO_FIELDS


class DescribeStorageSnapshotsType(EucalyptusMessage):
    __type_name__ = "DescribeStorageSnapshotsType"
    snapshotSet = repeated(String)


class DescribeStorageSnapshotsResponseType(EucalyptusMessage):
    __type_name__ = "DescribeStorageSnapshotsResponseType"
    snapshotSet = repeated(StorageSnapshotType)


class AttachStorageVolumeType(EucalyptusMessage):
    __type_name__ = "AttachStorageVolumeType"
    volumeId = String
    nodeIqn = String


class AttachStorageVolumeResponseType(EucalyptusMessage):
    __type_name__ = "AttachStorageVolumeResponseType"
    remoteDeviceString = String


class DetachStorageVolumeType(EucalyptusMessage):
    __type_name__ = "DetachStorageVolumeType"
    volumeId = String
    nodeIqn = String


class DetachStorageVolumeResponseType(EucalyptusMessage):
    __type_name__ = "DetachStorageVolumeResponseType"
    _type_info = NO_FIELDS


class ExportVolumeType(EucalyptusMessage):
    # ip and iqn are those of the NC that will connect to the volume.
    __type_name__ = "ExportVolumeType"
    volumeId = String
    token = String
    ip = String
    iqn = String


class ExportVolumeResponseType(EucalyptusMessage):
    __type_name__ = "ExportVolumeResponseType"
    volumeId = String
    connectionString = String


class UnexportVolumeType(EucalyptusMessage):
    __type_name__ = "UnexportVolumeType"
    volumeId = String
    token = String
    ip = String
    iqn = String


class UnexportVolumeResponseType(EucalyptusMessage):
    __type_name__ = "UnexportVolumeResponseType"
    _type_info = NO_FIELDS


class GetVolumeTokenType(EucalyptusMessage):
    __type_name__ = "GetVolumeTokenType"
    volumeId = String


class GetVolumeTokenResponseType(EucalyptusMessage):
    __type_name__ = "GetVolumeTokenResponseType"
    volumeId = String
    token = String


class GetStorageVolumeType(EucalyptusMessage):
    __type_name__ = "GetStorageVolumeType"
    volumeId = String


class GetStorageVolumeResponseType(EucalyptusMessage):
    __type_name__ = "GetStorageVolumeResponseType"
    volumeId = String
    size = Int
    snapshotId = String
    status = String
    createTime = DateTime
    actualDeviceName = String


class CloneVolumeType(EucalyptusMessage):
    __type_name__ = "CloneVolumeType"
    volumeId = String


class CloneVolumeResponseType(EucalyptusMessage):
    __type_name__ = "CloneVolumeResponseType"
    _type_info = NO_FIELDS


class ConvertVolumesType(EucalyptusMessage):
    __type_name__ = "ConvertVolumesType"
    originalProvider = String


class ConvertVolumesResponseType(EucalyptusMessage):
    __type_name__ = "ConvertVolumesResponseType"
    _type_info = NO_FIELDS


class GetStorageConfigurationType(EucalyptusMessage):
    __type_name__ = "GetStorageConfigurationType"
    name = String


class GetStorageConfigurationResponseType(EucalyptusMessage):
    __type_name__ = "GetStorageConfigurationResponseType"
    name = String
    storageParams = repeated(ComponentPropertyType)


class UpdateStorageConfigurationType(EucalyptusMessage):
    __type_name__ = "UpdateStorageConfigurationType"
    name = String
    storageParams = repeated(ComponentPropertyType)


class UpdateStorageConfigurationResponseType(EucalyptusMessage):
    __type_name__ = "UpdateStorageConfigurationResponseType"
    _type_info = NO_FIELDS
