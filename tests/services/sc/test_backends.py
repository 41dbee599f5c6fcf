"""
The volume backend contract, run against the file backend and against the
LVM backend on a fake LVM; and the choice of backend from the configuration.
"""

import os

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.config import StorageConfig, config_from_string
from eucalyptus.errors import ConfigError
from eucalyptus.services.sc.backends import backend_from_config
from eucalyptus.services.sc.backends.files import SNAPSHOTS, FileBackend
from eucalyptus.services.sc.backends.interfaces import GiB
from eucalyptus.services.sc.backends.lvm import LvmBackend
from tests.services.sc.contract import VOLUME, VolumeBackendContractTestsMixin
from tests.fakes.fakelvm import FakeLvm


class FileContractTests(VolumeBackendContractTestsMixin, SynchronousTestCase):
    """
    The file backend, in a directory of the test's file system.
    """

    def make_backend(self, limit_gib):
        self.directory = os.path.abspath(self.mktemp())
        return FileBackend(self.directory, limit_gib)

    def leftovers(self):
        volumes = {volume.volume_id for volume in self.backend.list()}
        names = set(os.listdir(self.directory)) - volumes - {SNAPSHOTS}
        return sorted(names | set(os.listdir(os.path.join(self.directory, SNAPSHOTS))))

    def make_leftovers(self):
        names = [f".{VOLUME[:-1]}9.x1y2z3.tmp", os.path.join(SNAPSHOTS, f"{VOLUME}.snap-00000001")]
        for name in names:
            with open(os.path.join(self.directory, name), "wb") as f:
                f.write(b"partial")
        return sorted(os.path.basename(name) for name in names)


class FakeLvmContractTests(VolumeBackendContractTestsMixin, SynchronousTestCase):
    """
    The LVM backend on L{FakeLvm}: its logic, with LVM's tools faked.
    """

    def make_backend(self, limit_gib):
        self.lvm = FakeLvm(self, "vg0", 64 * GiB)
        return LvmBackend("vg0", self.lvm, limit_gib, dev=self.lvm.dev)

    def leftovers(self):
        volumes = {volume.volume_id for volume in self.backend.list()}
        return [name for name in self.lvm.names() if name not in volumes]

    def make_leftovers(self):
        self.lvm(["lvcreate", "--yes", "--name", "tmp-vol-00000009", "--size", f"{GiB}b", "vg0"])
        self.lvm(["lvcreate", "--yes", "--snapshot", "--name", "snap-00000001", "--size", f"{GiB}b", f"vg0/{VOLUME}"])
        return ["snap-00000001", "tmp-vol-00000009"]


class ChoiceTests(SynchronousTestCase):
    """
    C{SC_BACKEND} picks the backend.
    """

    def config(self, text):
        return StorageConfig.from_settings(config_from_string(text, os.path.abspath(self.mktemp())))

    def test_default(self):
        """
        By default volumes are files in volumes/ of the data directory.
        """
        config = self.config("")
        backend = backend_from_config(config)
        self.assertIsInstance(backend, FileBackend)
        self.assertEqual(backend.directory, os.path.join(config.data_dir, "volumes"))

    def test_directory(self):
        """
        SC_VOLUMES_DIR moves them.
        """
        directory = os.path.abspath(self.mktemp())
        self.assertEqual(backend_from_config(self.config(f'SC_VOLUMES_DIR="{directory}"')).directory, directory)

    def test_lvm(self):
        """
        SC_BACKEND=LVM uses SC_VOLUME_GROUP, and the limit.
        """
        backend = backend_from_config(self.config('SC_BACKEND="lvm"\nSC_VOLUME_GROUP="vg9"\nSC_MAX_TOTAL_VOLUME_GB="5"'))
        self.assertIsInstance(backend, LvmBackend)
        self.assertEqual((backend.volume_group, backend._limit), ("vg9", 5))

    def test_lvm_needs_group(self):
        """
        LVM without a volume group is a configuration error naming the key.
        """
        error = self.assertRaises(ConfigError, backend_from_config, self.config('SC_BACKEND="LVM"'))
        self.assertIn("SC_VOLUME_GROUP", error.message)

    def test_iscsi_portal(self):
        """
        The iSCSI portal defaults to SC_HOST and port 3260.
        """
        config = self.config('SC_HOST="10.0.0.5"')
        self.assertEqual((config.iscsi_host, config.iscsi_port, config.tgt_control_port), ("10.0.0.5", 3260, 0))
        config = self.config('SC_ISCSI_HOST="10.1.0.5"\nSC_ISCSI_PORT="3261"\nSC_TGT_CONTROL_PORT="7"')
        self.assertEqual((config.iscsi_host, config.iscsi_port, config.tgt_control_port), ("10.1.0.5", 3261, 7))
