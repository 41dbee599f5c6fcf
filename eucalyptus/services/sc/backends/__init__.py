# -*- test-case-name: tests.services.sc.test_backends -*-
"""
The Storage Controller's volume stores, behind
L{interfaces.IVolumeBackend}, chosen by C{SC_BACKEND} from an explicit map.
"""

from eucalyptus import commands
from eucalyptus.errors import ConfigError
from eucalyptus.services.sc.backends.files import FileBackend
from eucalyptus.services.sc.backends.lvm import LvmBackend

__all__ = ["BACKENDS", "backend_from_config"]


def _files(config, run):
    return FileBackend(config.volumes_dir, config.max_total_gib)


def _lvm(config, run):
    if not config.volume_group:
        raise ConfigError("SC_BACKEND=LVM needs SC_VOLUME_GROUP, the volume group to create volumes in.")
    return LvmBackend(config.volume_group, run, config.max_total_gib)


#: C{SC_BACKEND} to a factory taking the L{StorageConfig} and a runner.
BACKENDS = {"FILE": _files, "LVM": _lvm}


def backend_from_config(config, run=commands.run):
    """
    The volume store C{config} names.

    @param config: a L{eucalyptus.config.StorageConfig}.
    @param run: the runner the backend's tools run through.
    @return: an L{interfaces.IVolumeBackend} provider.
    @raise ConfigError: the configuration is incomplete.
    """
    return BACKENDS[config.backend](config, run)
