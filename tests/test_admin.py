# -*- test-case-name: tests.test_admin -*-
"""
Tests for L{eucalyptus.admin} and L{eucalyptus.accounts}.
"""

import io
import os
import stat
import subprocess
from contextlib import redirect_stdout

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus import admin
from eucalyptus.accounts import ADMIN_ACCOUNT, AccountStore
from eucalyptus.config import CloudConfig, config_from_string
from eucalyptus.security import keys

EUCARC_VARIABLES = (
    "EC2_URL",
    "S3_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "EC2_ACCESS_KEY",
    "EC2_SECRET_KEY",
    "EC2_CERT",
    "EC2_PRIVATE_KEY",
    "EUCALYPTUS_CERT",
    "EC2_USER_ID",
    "AWS_DEFAULT_REGION",
)


class InitTests(SynchronousTestCase):
    """
    C{euca-admin init} makes keys and the admin's credentials once.
    """

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        self.settings = config_from_string('ZONE="east"', self.data)
        self.out = io.StringIO()
        self.eucarc = admin.initialise(self.settings, zones=("west",), out=self.out)

    def test_key_files(self):
        """
        The cloud pair and each zone's cluster and node pairs exist with the
        original names; private keys are 0600.
        """
        names = ["cloud-cert.pem", "cloud-pk.pem"] + [
            f"{zone}/{name}"
            for zone in ("east", "west")
            for name in ("cluster-cert.pem", "cluster-pk.pem", "node-cert.pem", "node-pk.pem")
        ]
        for name in names:
            path = os.path.join(self.data, "keys", name)
            self.assertTrue(os.path.exists(path), name)
            if name.endswith("-pk.pem"):
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, name)

    def test_eucarc(self):
        """
        The eucarc, sourced by a shell, exports every variable, the key pair
        files it names exist, and its access key is in the account store.
        """
        script = f'source "{self.eucarc}" && ' + " && ".join(f'echo "{v}=${v}"' for v in EUCARC_VARIABLES)
        output = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
        values = dict(line.split("=", 1) for line in output.splitlines())
        self.assertEqual(set(values), set(EUCARC_VARIABLES))
        self.assertTrue(all(values.values()), values)
        self.assertTrue(values["EC2_URL"].endswith(":8773/services/Eucalyptus"))
        for name in ("EC2_CERT", "EC2_PRIVATE_KEY", "EUCALYPTUS_CERT"):
            self.assertTrue(os.path.exists(values[name]), name)
        store = AccountStore(CloudConfig.from_settings(self.settings).database_url)
        key = store.access_key(values["AWS_ACCESS_KEY_ID"])
        self.assertEqual((key.secret_key, key.account_name, key.status), (values["AWS_SECRET_ACCESS_KEY"], ADMIN_ACCOUNT, "Active"))
        self.assertEqual(key.account_id, values["EC2_USER_ID"])
        user_cert = keys.load_certificate(values["EC2_CERT"])
        self.assertEqual(user_cert.issuer, keys.load_certificate(values["EUCALYPTUS_CERT"]).subject)

    def test_again_keeps_everything(self):
        """
        A second run changes no file and says what exists.
        """
        before = _snapshot(self.data)
        out = io.StringIO()
        eucarc = admin.initialise(self.settings, zones=("west",), out=out)
        self.assertEqual(eucarc, self.eucarc)
        self.assertEqual(_snapshot(self.data, skip_db=True), _snapshot_without_db(before))
        self.assertIn("exists, kept", out.getvalue())
        self.assertNotIn("created", out.getvalue())

    def test_new_zone_later(self):
        """
        A later run with a new zone adds only that zone's keys.
        """
        out = io.StringIO()
        admin.initialise(self.settings, zones=("west", "north"), out=out)
        self.assertTrue(os.path.exists(os.path.join(self.data, "keys", "north", "node-pk.pem")))
        self.assertEqual(out.getvalue().count("created"), 2)


def _snapshot(top, skip_db=False):
    found = {}
    for directory, _, files in os.walk(top):
        for name in files:
            path = os.path.join(directory, name)
            if skip_db and os.sep + "db" + os.sep in path:
                continue
            with open(path, "rb") as f:
                found[path] = f.read()
    return found


def _snapshot_without_db(snapshot):
    return {path: data for path, data in snapshot.items() if os.sep + "db" + os.sep not in path}


class AddAccountTests(SynchronousTestCase):
    """
    C{euca-admin add-account} makes a user account with its own credentials.
    """

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        self.conf = os.path.join(self.data, "eucalyptus.conf")
        os.makedirs(self.data)
        with open(self.conf, "w") as f:
            f.write('ZONE="east"\n')
        admin.main(["--config", self.conf, "--data-dir", self.data, "init"])

    def test_account_with_its_own_keys(self):
        """
        The new account's eucarc names a key of that account, not the
        admin's; running it again keeps everything.
        """
        self.assertEqual(admin.main(["--config", self.conf, "--data-dir", self.data, "add-account", "alice"]), 0)
        eucarc = os.path.join(self.data, "credentials", "alice", "eucarc")
        with open(eucarc) as f:
            text = f.read()
        key_id = text.split("AWS_ACCESS_KEY_ID=")[1].split()[0]
        store = AccountStore(CloudConfig.from_settings(config_from_string('ZONE="east"', self.data)).database_url)
        self.assertEqual(store.access_key(key_id).account_name, "alice")
        self.assertEqual(admin.main(["--config", self.conf, "--data-dir", self.data, "add-account", "alice"]), 0)
        with open(eucarc) as f:
            self.assertEqual(f.read(), text)

    def test_bad_name(self):
        """
        A name that is not a plain lower-case word is refused before
        anything is written.
        """
        self.assertEqual(admin.main(["--config", self.conf, "--data-dir", self.data, "add-account", "../evil"]), 2)
        self.assertFalse(os.path.exists(os.path.join(self.data, "evil")))


class CloudCommandTests(SynchronousTestCase):
    """
    C{euca-admin credentials}, C{instance-types} and
    C{modify-instance-type}.
    """

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        self.conf = os.path.join(self.data, "eucalyptus.conf")
        os.makedirs(self.data)
        with open(self.conf, "w") as f:
            f.write('ZONE="east"\n')
        self.admin("init")

    def admin(self, *args):
        out = io.StringIO()
        with redirect_stdout(out):
            status = admin.main(["--config", self.conf, "--data-dir", self.data, *args])
        return status, out.getvalue()

    def test_credentials(self):
        """
        A user's credentials go to their own directory, with a key of that
        user and a certificate signed by the cloud.
        """
        self.assertEqual(self.admin("add-account", "alice")[0], 0)
        status, output = self.admin("credentials", "alice")
        self.assertEqual(status, 0)
        directory = os.path.join(self.data, "credentials", "alice", "admin")
        self.assertIn(os.path.join(directory, "eucarc"), output)
        with open(os.path.join(directory, "eucarc")) as f:
            key_id = f.read().split("AWS_ACCESS_KEY_ID=")[1].split()[0]
        store = AccountStore(CloudConfig.from_settings(config_from_string('ZONE="east"', self.data)).database_url)
        self.assertEqual(store.access_key(key_id).account_name, "alice")
        cloud = keys.load_certificate(os.path.join(self.data, "keys", "cloud-cert.pem"))
        mine = keys.load_certificate(os.path.join(directory, "admin-cert.pem"))
        self.assertEqual(mine.issuer, cloud.subject)

    def test_instance_types(self):
        """
        The VM types are listed; an administrator changes one; an unknown
        one is refused.
        """
        status, output = self.admin("instance-types")
        self.assertEqual(status, 0)
        self.assertIn("m1.small", output)
        status, output = self.admin("modify-instance-type", "m1.small", "--cores", "2", "--memory", "512")
        self.assertEqual(status, 0)
        self.assertEqual(output.split()[:6], ["m1.small", "2", "cores", "512", "MB", output.split()[5]])
        status, output = self.admin("instance-types")
        self.assertIn("m1.small", output)
        self.assertIn("512 MB", [line for line in output.splitlines() if line.startswith("m1.small ")][0])
        self.assertEqual(self.admin("modify-instance-type", "m9.huge", "--cores", "2")[0], 2)
