"""
Tests for L{eucalyptus.nodeadmin}: the node commands that edit C{NODES} and
place a node's keys.  The paths that ask the CC are covered by the
integration tests.
"""

import io
import os
import stat
import sys

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus import admin
from eucalyptus.config import config_from_file, config_from_string
from eucalyptus.nodeadmin import NodeAdminError, deregister_node, register_node

CONF = """\
# The cluster east.
ZONE="east"
# Its nodes.
NODES="10.0.0.5 10.0.0.6:9001"
"""

#: The files a node needs, relative to its keys directory.
NODE_FILES = ("east/node-cert.pem", "east/node-pk.pem", "east/cluster-cert.pem", "cloud-cert.pem")


class NodeAdminTestCase(SynchronousTestCase):
    """
    A data directory with the cloud's keys, and a configuration file with
    two nodes.
    """

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        os.makedirs(self.data)
        self.conf = os.path.join(self.data, "eucalyptus.conf")
        with open(self.conf, "w") as f:
            f.write(CONF)
        admin.initialise(self.settings(), out=io.StringIO())

    def settings(self):
        """
        The configuration file, as it is now.
        """
        return config_from_file(self.conf, self.data)

    def text(self):
        with open(self.conf) as f:
            return f.read()


class RegisterTests(NodeAdminTestCase):
    """
    L{register_node}.
    """

    def test_adds_entry(self):
        """
        The entry is added after the others, and the file keeps its other
        settings and comments.
        """
        self.assertEqual(register_node(self.settings(), "10.0.0.7"), ["registered node 10.0.0.7"])
        settings = self.settings()
        self.assertEqual(settings["NODES"], ("10.0.0.5", "10.0.0.6:9001", "10.0.0.7"))
        self.assertEqual(settings["ZONE"], "east")
        self.assertIn("# Its nodes.\n", self.text())
        register_node(settings, "node-8:9002")
        self.assertEqual(self.settings()["NODES"], ("10.0.0.5", "10.0.0.6:9001", "10.0.0.7", "node-8:9002"))

    def test_duplicate(self):
        """
        An entry already registered is refused and the file is left alone.
        """
        error = self.assertRaises(NodeAdminError, register_node, self.settings(), "10.0.0.6:9001")
        self.assertIn("already registered", str(error))
        self.assertEqual(self.text(), CONF)

    def test_malformed(self):
        """
        An entry that is not C{host} or C{host:port} is refused and the file
        is left alone.
        """
        for entry in ("10.0.0.7:http", ":8775", "node:0", "node:70000"):
            error = self.assertRaises(NodeAdminError, register_node, self.settings(), entry)
            self.assertEqual(error.code, "InvalidParameterValue")
            self.assertIn(repr(entry), str(error))
        self.assertEqual(self.text(), CONF)

    def test_no_file(self):
        """
        Settings that were not read from a file have nowhere to record the
        node.
        """
        settings = config_from_string('ZONE="east"', self.data)
        error = self.assertRaises(NodeAdminError, register_node, settings, "10.0.0.7")
        self.assertIn("no configuration file", str(error))


class PlaceKeysTests(NodeAdminTestCase):
    """
    L{register_node} with C{keys_to} places the node's keys.
    """

    def setUp(self):
        NodeAdminTestCase.setUp(self)
        self.keys_to = os.path.abspath(self.mktemp())

    def test_placed(self):
        """
        The zone's node pair and cluster certificate go under the zone, the
        cloud certificate at the top, byte for byte, the private key 0600;
        no other private key is placed.
        """
        said = register_node(self.settings(), "10.0.0.7", self.keys_to)
        self.assertEqual(said, [f"placed 4 key file(s) under {self.keys_to}", "registered node 10.0.0.7"])
        for name in NODE_FILES:
            with open(os.path.join(self.data, "keys", name), "rb") as f:
                source = f.read()
            with open(os.path.join(self.keys_to, name), "rb") as f:
                self.assertEqual(f.read(), source, name)
        mode = stat.S_IMODE(os.stat(os.path.join(self.keys_to, "east", "node-pk.pem")).st_mode)
        self.assertEqual(mode, 0o600)
        placed = sorted(
            os.path.relpath(os.path.join(directory, name), self.keys_to)
            for directory, _, names in os.walk(self.keys_to)
            for name in names
        )
        self.assertEqual(placed, sorted(NODE_FILES))
        self.assertEqual(self.settings()["NODES"][-1], "10.0.0.7")

    def test_second_placement_writes_nothing(self):
        """
        Placing the keys again where they already are writes no file.
        """
        register_node(self.settings(), "10.0.0.7", self.keys_to)
        before = {name: os.stat(os.path.join(self.keys_to, name)) for name in NODE_FILES}
        said = register_node(self.settings(), "10.0.0.8", self.keys_to)
        self.assertEqual(said, [f"keys already in {self.keys_to}", "registered node 10.0.0.8"])
        for name in NODE_FILES:
            after = os.stat(os.path.join(self.keys_to, name))
            self.assertEqual((after.st_ino, after.st_mtime_ns), (before[name].st_ino, before[name].st_mtime_ns), name)

    def test_changed_file_replaced(self):
        """
        A placed file whose content differs is replaced; the others are
        left alone.
        """
        register_node(self.settings(), "10.0.0.7", self.keys_to)
        stale = os.path.join(self.keys_to, "cloud-cert.pem")
        with open(stale, "wb") as f:
            f.write(b"old certificate")
        said = register_node(self.settings(), "10.0.0.8", self.keys_to)
        self.assertEqual(said[0], f"placed 1 key file(s) under {self.keys_to}")
        with open(os.path.join(self.data, "keys", "cloud-cert.pem"), "rb") as source, open(stale, "rb") as placed:
            self.assertEqual(placed.read(), source.read())


class DeregisterTests(NodeAdminTestCase):
    """
    L{deregister_node} with C{force}, which does not ask the CC.
    """

    def test_forced(self):
        """
        The entry is removed from the file; the others and the rest of the
        file stay.
        """
        said = self.successResultOf(deregister_node(self.settings(), "10.0.0.5", force=True))
        self.assertEqual(said, ["deregistered node 10.0.0.5"])
        self.assertEqual(self.settings()["NODES"], ("10.0.0.6:9001",))
        self.assertEqual(self.text(), CONF.replace("10.0.0.5 ", ""))

    def test_last_node(self):
        """
        Removing the last node leaves no nodes.
        """
        self.successResultOf(deregister_node(self.settings(), "10.0.0.5", force=True))
        self.successResultOf(deregister_node(self.settings(), "10.0.0.6:9001", force=True))
        self.assertEqual(self.settings()["NODES"], ())

    def test_not_registered(self):
        """
        An entry that is not registered is refused, listing the nodes; a
        bare host does not stand for a C{host:port} entry.
        """
        for entry in ("10.0.0.9", "10.0.0.6"):
            failure = self.failureResultOf(deregister_node(self.settings(), entry, force=True), NodeAdminError)
            self.assertIn(f"Node {entry} is not registered", str(failure.value))
            self.assertIn("10.0.0.5 10.0.0.6:9001", str(failure.value))
        self.assertEqual(self.text(), CONF)


class CommandTests(NodeAdminTestCase):
    """
    C{euca-admin register-node}.
    """

    def setUp(self):
        NodeAdminTestCase.setUp(self)
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.patch(sys, "stdout", self.out)
        self.patch(sys, "stderr", self.err)

    def main(self, *args):
        return admin.main(["--config", self.conf, "--data-dir", self.data] + list(args))

    def test_register(self):
        """
        The command registers the node and says so.
        """
        self.assertEqual(self.main("register-node", "10.0.0.7"), 0)
        self.assertEqual(self.out.getvalue(), "registered node 10.0.0.7\n")
        self.assertEqual(self.settings()["NODES"], ("10.0.0.5", "10.0.0.6:9001", "10.0.0.7"))

    def test_register_with_keys(self):
        """
        With C{--keys-to} the keys are placed too.
        """
        keys_to = os.path.abspath(self.mktemp())
        self.assertEqual(self.main("register-node", "10.0.0.7", "--keys-to", keys_to), 0)
        self.assertEqual(
            self.out.getvalue(), f"placed 4 key file(s) under {keys_to}\nregistered node 10.0.0.7\n"
        )
        self.assertTrue(os.path.exists(os.path.join(keys_to, "east", "node-pk.pem")))

    def test_register_duplicate(self):
        """
        A refused registration exits 2 and says why on standard error.
        """
        self.assertEqual(self.main("register-node", "10.0.0.5"), 2)
        self.assertEqual(self.out.getvalue(), "")
        self.assertIn("euca-admin: Node 10.0.0.5 is already registered", self.err.getvalue())
        self.assertEqual(self.text(), CONF)
