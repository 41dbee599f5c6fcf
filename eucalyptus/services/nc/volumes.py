# -*- test-case-name: tests.services.nc.test_volumes -*-
"""
Volumes hot-plugged into running instances (C{ncAttachVolume},
C{ncDetachVolume}).

The guest device is the requested C{localDev} (C{/dev/sdf} becomes C{vdf}
on virtio); a device already taken by one of the instance's disks or
volumes is refused before libvirt is asked.  C{remoteDev} names what to
attach: today a file or block device on this node (the storage issue adds
the SC's iSCSI exports behind the same call).
"""

import os

from lxml import etree
from twisted.internet import defer

from eucalyptus.errors import AttachmentNotFound, InvalidParameterValue, VolumeInUse
from eucalyptus.hypervisor.errors import DeviceBusy
from eucalyptus.services.nc.domain import disk_xml, target_name
from eucalyptus.services.nc.instances import Volume

__all__ = ["Volumes"]


class Volumes:
    """
    Attaching and detaching volumes on one node.
    """

    def __init__(self, node):
        self.node = node

    def _source(self, remote_dev):
        if not remote_dev or not os.path.isabs(remote_dev):
            raise InvalidParameterValue(f"remoteDev {remote_dev!r} is not a device or file path on this node.")
        return remote_dev

    def _target(self, instance, local_dev):
        try:
            target = target_name(local_dev or "", self.node.config.virtio_disk)
        except ValueError as e:
            raise InvalidParameterValue(str(e))
        taken = set(instance.disks) | {volume.target for volume in instance.volumes}
        if target in taken:
            raise InvalidParameterValue(f"Attachment point {local_dev} is already in use on {instance.instance_id}.")
        return target

    @defer.inlineCallbacks
    def attach(self, instance_id, volume_id, remote_dev, local_dev):
        """
        Hot-plug a volume into a running instance.
        """
        instance = self.node.running(instance_id, "attach a volume to")
        if not volume_id:
            raise InvalidParameterValue("volumeId is required.")
        if instance.volume(volume_id) is not None:
            raise VolumeInUse(f"Volume {volume_id} is already attached to {instance_id}.")
        target = self._target(instance, local_dev)
        source = yield self.node.files.submit(_existing, self._source(remote_dev))
        volume = Volume(volume_id, remote_dev, local_dev, target, state="attaching")
        instance.volumes.append(volume)
        xml = _xml(volume, source)
        try:
            yield self.node.hypervisor.attach_device(instance_id, xml)
        except DeviceBusy:
            instance.volumes.remove(volume)
            raise InvalidParameterValue(f"Attachment point {local_dev} is already in use on {instance_id}.")
        except Exception:
            instance.volumes.remove(volume)
            raise
        volume.state = "attached"
        self.node.note(instance, f"attached {volume_id} as {target}")
        yield self.node.save(instance)

    @defer.inlineCallbacks
    def detach(self, instance_id, volume_id, remote_dev, local_dev, force=False):
        """
        Unplug a volume; with C{force} the record goes even if libvirt
        refuses.
        """
        instance = self.node.get(instance_id)
        volume = instance.volume(volume_id)
        if volume is None:
            raise AttachmentNotFound(f"Volume {volume_id} is not attached to {instance_id}.")
        volume.state = "detaching"
        try:
            yield self.node.hypervisor.detach_device(instance_id, _xml(volume, volume.remote_dev))
        except Exception:
            if not force:
                volume.state = "attached"
                raise
        instance.volumes.remove(volume)
        self.node.note(instance, f"detached {volume_id} from {volume.target}")
        yield self.node.save(instance)


def _xml(volume, source):
    return etree.tostring(disk_xml(source, volume.target, "raw", serial=volume.volume_id), encoding="unicode")


def _existing(path):
    if not os.path.exists(path):
        raise InvalidParameterValue(f"remoteDev {path} does not exist on this node.")
    return path
