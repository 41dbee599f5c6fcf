# -*- test-case-name: tests.services.sc.test_operations,tests.services.sc.test_service -*-
"""
The Storage Controller's operation layer: its SOAP operations
(C{eucalyptus_sc.wsdl}) over the L{Volumes} and L{Snapshots} models.

Who may call what: the SC pins the cloud certificate (the CLC) and its
zone's node certificate (NCs).  The CLC may call every operation; a node
only L{NODE_OPERATIONS} (exporting and unexporting a volume, with the token
the CLC gave it), which L{StorageOperations.for_caller} enforces with what
the SOAP layer says signed the call.  A node cannot ask for a token
itself: the token is the CLC's consent to one attachment.

A volume or snapshot that failed says why in the C{statusMessage} of
C{DescribeStorageVolumes} and C{DescribeStorageSnapshots}
(C{"<id>: <reason>"}, one per line), the one free-text field the WSDL has.
"""

from datetime import datetime

from twisted.internet import defer

from eucalyptus.errors import InvalidParameterValue, UnauthorizedOperation
from eucalyptus.services.base import ComponentOperations, respond
from eucalyptus.services.sc.records import FAILED
from eucalyptus.wsdl import sc_types as t

__all__ = ["StorageOperations", "CallerOperations", "NODE_OPERATIONS", "CLOUD", "NODE"]

#: The roles that sign calls to the SC (L{eucalyptus.security.trust}).
CLOUD, NODE = "cloud", "node"
#: What a node may call.
NODE_OPERATIONS = frozenset({"ExportVolume", "UnexportVolume", "DescribeServices"})


def _time(text):
    return datetime.fromisoformat(text) if text else None


def _volume(record):
    return dict(
        volumeId=record.volume_id, size=record.size, snapshotId=record.snapshot_id or None, status=record.status,
        createTime=_time(record.create_time),
    )  # fmt: skip


def _snapshot(record):
    return dict(
        snapshotId=record.snapshot_id, volumeId=record.volume_id, status=record.status,
        startTime=_time(record.start_time), progress=f"{record.progress}%",
    )  # fmt: skip


def _reasons(records):
    lines = [f"{record.name}: {record.reason}" for record in records if record.status == FAILED and record.reason]
    return "\n".join(lines) or None


class CallerOperations:
    """
    The operations as one caller may use them: what the SOAP layer calls
    C{invoke} on for a call signed by C{role}.
    """

    def __init__(self, operations, role):
        """
        @param operations: the L{StorageOperations}.
        @param role: L{CLOUD}, L{NODE}, or C{None} when WS-Security is off
            (every call allowed).
        """
        self.operations = operations
        self.role = role

    def invoke(self, name, request):
        if self.role not in (None, CLOUD) and not (self.role == NODE and name in NODE_OPERATIONS):
            return defer.fail(UnauthorizedOperation(f"A {self.role or 'unknown'} signature does not allow {name}."))
        return self.operations.invoke(name, request)


class StorageOperations(ComponentOperations):
    """
    The Storage Controller.

    @ivar volumes: the L{Volumes} (C{None}: only C{DescribeServices}).
    @ivar snapshots: the L{Snapshots}.
    @ivar problem: why the SC is not ready, when it failed to start.
    """

    component = "sc"
    service_type = "storage"

    def __init__(self, config, url, volumes=None, snapshots=None):
        """
        @param volumes: the L{Volumes}.
        @param snapshots: the L{Snapshots}.
        """
        self.volumes = volumes
        self.snapshots = snapshots
        self.problem = None
        ComponentOperations.__init__(self, config, url)

    def operations(self):
        if self.volumes is None:
            return {}
        return {
            "CreateStorageVolume": self.create_storage_volume,
            "DeleteStorageVolume": self.delete_storage_volume,
            "DescribeStorageVolumes": self.describe_storage_volumes,
            "GetStorageVolume": self.get_storage_volume,
            "CreateStorageSnapshot": self.create_storage_snapshot,
            "DeleteStorageSnapshot": self.delete_storage_snapshot,
            "DescribeStorageSnapshots": self.describe_storage_snapshots,
            "GetVolumeToken": self.get_volume_token,
            "ExportVolume": self.export_volume,
            "UnexportVolume": self.unexport_volume,
            "GetStorageConfiguration": self.get_storage_configuration,
        }

    def for_caller(self, role):
        """
        The operations as a caller signing with C{role}'s key may use them.
        """
        return CallerOperations(self, role)

    def describe_services(self, request):
        """
        C{DescribeServices}, with how many volumes and snapshots there are,
        or why the SC could not start.
        """
        response = ComponentOperations.describe_services(self, request)
        details = []
        if self.problem:
            details.append(f"not started: {self.problem}")
        elif self.volumes is not None and self.state != "NOTREADY":
            state = self.volumes.state
            details.append(f"{len(state.volumes)} volumes, {len(state.snapshots)} snapshots")
        response.serviceStatuses[0].details = details
        return response

    # Volumes.

    @defer.inlineCallbacks
    def create_storage_volume(self, request):
        """
        Make a volume, empty (C{size} GiB) or from C{snapshotId} (C{size}
        may then be larger than the snapshot, or left out).  Answers
        C{creating}; C{DescribeStorageVolumes} says when it is
        C{available} or C{failed}.
        """
        if request.parentVolumeId:
            raise InvalidParameterValue("Cloning a volume (parentVolumeId) is not supported; snapshot it instead.")
        record = yield self.volumes.create(request.volumeId, request.size, request.snapshotId)
        return respond(request, t.CreateStorageVolumeResponseType, **_volume(record))

    @defer.inlineCallbacks
    def delete_storage_volume(self, request):
        """
        Delete a volume (not while exported); its snapshots stay.
        """
        yield self.volumes.delete(request.volumeId)
        return respond(request, t.DeleteStorageVolumeResponseType)

    def describe_storage_volumes(self, request):
        """
        The volumes named in C{volumeSet} that this SC has (all when it is
        empty).
        """
        records = self.volumes.describe(request.volumeSet)
        response = respond(request, t.DescribeStorageVolumesResponseType,
                           volumeSet=[t.StorageVolumeType(**_volume(r)) for r in records])  # fmt: skip
        response.statusMessage = _reasons(records)
        return response

    def get_storage_volume(self, request):
        """
        One volume.
        """
        record = self.volumes.get(request.volumeId)
        response = respond(request, t.GetStorageVolumeResponseType, **_volume(record))
        response.statusMessage = _reasons([record])
        return response

    # Snapshots.

    @defer.inlineCallbacks
    def create_storage_snapshot(self, request):
        """
        Start a snapshot of a volume; answers it C{pending}, 0%.
        """
        record = yield self.snapshots.create(request.volumeId, request.snapshotId)
        return respond(request, t.CreateStorageSnapshotResponseType, **_snapshot(record))

    @defer.inlineCallbacks
    def delete_storage_snapshot(self, request):
        """
        Delete a snapshot and its object in Walrus (cancelling its upload
        if it runs).
        """
        yield self.snapshots.delete(request.snapshotId)
        return respond(request, t.DeleteStorageSnapshotResponseType)

    def describe_storage_snapshots(self, request):
        """
        The snapshots named in C{snapshotSet} that this SC has (all when it
        is empty), with their upload progress.
        """
        records = self.snapshots.describe(request.snapshotSet)
        response = respond(request, t.DescribeStorageSnapshotsResponseType,
                           snapshotSet=[t.StorageSnapshotType(**_snapshot(r)) for r in records])  # fmt: skip
        response.statusMessage = _reasons(records)
        return response

    # Exports.

    @defer.inlineCallbacks
    def get_volume_token(self, request):
        """
        The token a node presents to C{ExportVolume} (the CLC passes it on
        as C{sc://<volume id>,<token>}).
        """
        token = yield self.volumes.token(request.volumeId)
        return respond(request, t.GetVolumeTokenResponseType, volumeId=request.volumeId, token=token)

    @defer.inlineCallbacks
    def export_volume(self, request):
        """
        Export a volume over iSCSI to the node at C{ip}; answers the
        connection string (L{eucalyptus.volume_connection}).  C{iqn} is
        not used: tgt's access list holds addresses only.
        """
        connection = yield self.volumes.export(request.volumeId, request.token, request.ip)
        return respond(request, t.ExportVolumeResponseType, volumeId=request.volumeId, connectionString=connection)

    @defer.inlineCallbacks
    def unexport_volume(self, request):
        """
        Stop exporting a volume to the node at C{ip}.
        """
        yield self.volumes.unexport(request.volumeId, request.token, request.ip)
        return respond(request, t.UnexportVolumeResponseType)

    # Configuration.

    def get_storage_configuration(self, request):
        """
        The SC's settings, as the original's C{<zone>.storage.*}
        properties.
        """
        config, zone = self.config, self.config.zone
        values = [
            ("blockstoragemanager", "Volume store", self.volumes.backend.name),
            ("volumesdir", "Volumes directory (FILE)", config.volumes_dir),
            ("volumegroup", "Volume group (LVM)", config.volume_group),
            ("maxtotalvolumesizeingb", "Most GiB of volumes (0: no limit)", str(config.max_total_gib)),
            ("iscsiportal", "iSCSI portal", f"{config.iscsi_host}:{config.iscsi_port}"),
            ("snapshotbucket", "Walrus bucket of snapshots", self.snapshots.objects.bucket),
            ("walrusurl", "Walrus URL", self.snapshots.objects.url),
        ]
        params = [
            t.ComponentPropertyType(
                type="KEYVALUE", displayName=display, value=value, qualifiedName=f"{zone}.storage.{name}"
            )
            for name, display, value in values
        ]
        return respond(request, t.GetStorageConfigurationResponseType, name=request.name or zone, storageParams=params)
