# -*- test-case-name: tests.test_config -*-
"""
Tests for L{eucalyptus.config}.
"""

import dataclasses
import os
import re

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus import config
from eucalyptus.errors import ConfigError

CONF = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conf", "eucalyptus.conf")


class ParseTests(SynchronousTestCase):
    """
    L{config.parse} reads C{KEY="value"} lines the way a shell would.
    """

    def test_quotes(self):
        """
        Double, single and no quotes all give the value without its quotes.
        """
        parsed = config.parse("NODES=\"a b\"\nCC_PORT='8774'\nHYPERVISOR=test\n")
        self.assertEqual(parsed, {"NODES": "a b", "CC_PORT": "8774", "HYPERVISOR": "test"})

    def test_comments(self):
        """
        Whole-line and trailing comments are ignored; a C{#} inside quotes is
        part of the value.
        """
        parsed = config.parse('# a comment\nNODES="h1 # not a comment" # trailing\n  # indented\n')
        self.assertEqual(parsed, {"NODES": "h1 # not a comment"})

    def test_continuation(self):
        """
        A backslash before a newline joins the lines, inside double quotes and
        outside quotes, but not inside single quotes.
        """
        parsed = config.parse('NODES="h1 \\\nh2"\nHYPERVISOR=te\\\nst\nVNET_DNS=\'a\\\nb\'\n')
        self.assertEqual(parsed["NODES"], "h1 h2")
        self.assertEqual(parsed["HYPERVISOR"], "test")
        self.assertEqual(parsed["VNET_DNS"], "a\\\nb")

    def test_export(self):
        """
        An optional C{export} before an assignment is accepted.
        """
        self.assertEqual(config.parse('export CC_PORT="1"'), {"CC_PORT": "1"})

    def test_escaped_quote(self):
        """
        A backslash-escaped double quote inside double quotes is kept.
        """
        self.assertEqual(config.parse('VNET_DNS="a\\"b"'), {"VNET_DNS": 'a"b'})

    def test_unknown_key(self):
        """
        An unknown key is an error that lists the allowed keys.
        """
        error = self.assertRaises(ConfigError, config.parse, 'NO_SUCH_KEY="1"', "test.conf")
        self.assertIn("test.conf: unknown key NO_SUCH_KEY", str(error))
        for key in ("CC_PORT", "NC_PORT", "NODES", "HYPERVISOR"):
            self.assertIn(key, str(error))

    def test_not_an_assignment(self):
        """
        A word that is not an assignment is an error.
        """
        error = self.assertRaises(ConfigError, config.parse, "NODES")
        self.assertIn("not a KEY", str(error))

    def test_unterminated_quote(self):
        """
        An unterminated quote is an error, not a crash.
        """
        self.assertRaises(ConfigError, config.parse, 'NODES="h1')


class SettingsTests(SynchronousTestCase):
    """
    Typed settings and the per-component views.
    """

    def test_defaults(self):
        """
        An empty file gives the defaults, typed.
        """
        settings = config.config_from_string("", "/tmp/data")
        self.assertEqual(settings["CC_PORT"], 8774)
        self.assertEqual(settings["NC_PORT"], 8775)
        self.assertEqual(settings["CLC_PORT"], 8773)
        self.assertIs(settings["ENABLE_WS_SECURITY"], True)
        self.assertEqual(settings["SCHEDPOLICY"], "ROUNDROBIN")
        self.assertEqual(settings["NODES"], ())
        self.assertEqual(settings.data_dir, "/tmp/data")

    def test_bad_value(self):
        """
        A value of the wrong type names the key and the value.
        """
        error = self.assertRaises(ConfigError, config.config_from_string, 'CC_PORT="x"')
        self.assertIn("CC_PORT='x'", str(error))
        error = self.assertRaises(ConfigError, config.config_from_string, 'SCHEDPOLICY="FASTEST"')
        self.assertIn("ROUNDROBIN", str(error))

    def test_node_config(self):
        """
        The node view carries the NC keys and defaults its instance path into
        the data directory.
        """
        settings = config.config_from_string('HYPERVISOR="test"\nMAX_CORES="4"', "/d")
        node = config.NodeConfig.from_settings(settings)
        self.assertEqual((node.hypervisor, node.max_cores, node.port), ("TEST", 4, 8775))
        self.assertEqual(node.instance_path, "/d/instances")
        self.assertEqual(node.keys_dir, "/d/keys")

    def test_cluster_config(self):
        """
        The cluster view splits C{NODES} into hosts.
        """
        settings = config.config_from_string('NODES="10.0.0.1  10.0.0.2"\nSCHEDPOLICY="greedy"', "/d")
        cluster = config.ClusterConfig.from_settings(settings)
        self.assertEqual(cluster.nodes, ("10.0.0.1", "10.0.0.2"))
        self.assertEqual(cluster.sched_policy, "GREEDY")

    def test_cloud_database(self):
        """
        Without C{DATABASE_URL} the CLC uses SQLite in the data directory.
        """
        cloud = config.CloudConfig.from_settings(config.config_from_string("", "/d"))
        self.assertEqual(cloud.database_url, "sqlite:////d/db/cloud.sqlite")

    def test_frozen(self):
        """
        Component configurations cannot be changed.
        """
        node = config.NodeConfig.from_settings(config.config_from_string("", "/d"))
        self.assertRaises(dataclasses.FrozenInstanceError, setattr, node, "max_cores", 3)

    def test_missing_file(self):
        """
        A missing file means every default.
        """
        settings = config.config_from_file(os.path.join(self.mktemp(), "none.conf"), "/d")
        self.assertEqual(settings["CC_PORT"], 8774)

    def test_data_dir(self):
        """
        The data directory is C{$EUCALYPTUS_HOME}, else C{./var}.
        """
        self.assertEqual(config.data_dir({"EUCALYPTUS_HOME": "/x"}), "/x")
        self.assertEqual(config.data_dir({}), os.path.abspath("var"))


class ShippedFileTests(SynchronousTestCase):
    """
    The shipped conf/eucalyptus.conf.
    """

    def test_parses(self):
        """
        The shipped file parses and sets every key the cloud knows.
        """
        with open(CONF) as f:
            parsed = config.parse(f.read(), CONF)
        self.assertEqual(set(parsed), set(config.KEYS))

    def test_every_key_documented(self):
        """
        Every key is preceded by a comment that names its default.
        """
        with open(CONF) as f:
            text = f.read()
        for key, spec in config.KEYS.items():
            match = re.search(r"^# (.+)\n" + key + "=", text, re.MULTILINE)
            self.assertIsNotNone(match, f"{key} has no comment")
            self.assertIn(f'Default "{spec.default}"', match.group(1))


class SetValueTests(SynchronousTestCase):
    """
    L{config.set_value} edits one key of a configuration file's text.
    """

    def test_replaces_in_place(self):
        """
        The assignment is replaced where it was; comments and every other
        line stay as they were.
        """
        text = '# the cluster\nZONE="east"\n\n# nodes of this cluster\nNODES="a b"  # trailing\nCC_PORT=\'8774\'\n'
        self.assertEqual(
            config.set_value(text, "NODES", "a b c:9001"),
            '# the cluster\nZONE="east"\n\n# nodes of this cluster\nNODES="a b c:9001"\nCC_PORT=\'8774\'\n',
        )

    def test_export(self):
        """
        An C{export}ed assignment is replaced too.
        """
        text = 'ZONE="east"\n  export NODES="a"\nCC_PORT="1"\n'
        edited = config.set_value(text, "NODES", "b")
        self.assertEqual(config.parse(edited), {"ZONE": "east", "NODES": "b", "CC_PORT": "1"})
        self.assertEqual(len(edited.splitlines()), 3)
        self.assertNotIn('"a"', edited)

    def test_continued_assignment(self):
        """
        An assignment continued over several lines with backslash-newline is
        replaced whole.
        """
        text = 'NODES="a \\\n  b \\\n  c"\nCC_PORT="1"\n'
        self.assertEqual(config.set_value(text, "NODES", "d"), 'NODES="d"\nCC_PORT="1"\n')

    def test_later_duplicates_dropped(self):
        """
        Later assignments of the key, which would win in a shell, are
        dropped.
        """
        text = 'NODES="a"\nCC_PORT="1"\nNODES="b \\\nc"\nZONE="east"\n'
        self.assertEqual(config.set_value(text, "NODES", "x"), 'NODES="x"\nCC_PORT="1"\nZONE="east"\n')

    def test_appended(self):
        """
        A key not assigned yet is appended; a commented-out assignment is
        left as a comment, and a similar key is not taken for it.
        """
        text = '# NODES="old"\nCC_PORT="1"'
        self.assertEqual(config.set_value(text, "NODES", "a"), '# NODES="old"\nCC_PORT="1"\nNODES="a"\n')
        self.assertEqual(config.set_value("", "NODES", "a"), 'NODES="a"\n')
        self.assertEqual(config.set_value('CC_PORT="1"\n', "CLC_PORT", "2"), 'CC_PORT="1"\nCLC_PORT="2"\n')

    def test_round_trip(self):
        """
        The shipped file with a key set parses to the same values but that
        key's.
        """
        with open(CONF) as f:
            text = f.read()
        before = config.parse(text, CONF)
        after = config.parse(config.set_value(text, "NODES", "10.0.0.1 10.0.0.2:9001"), CONF)
        self.assertEqual(after, dict(before, NODES="10.0.0.1 10.0.0.2:9001"))
        self.assertEqual(config.config_from_string(config.set_value(text, "NODES", ""))["NODES"], ())

    def test_unknown_key(self):
        """
        An unknown key is refused.
        """
        error = self.assertRaises(ConfigError, config.set_value, "", "NO_SUCH_KEY", "1")
        self.assertIn("NO_SUCH_KEY", str(error))

    def test_unquotable_values(self):
        """
        A value that double quotes cannot carry literally is refused.
        """
        for value in ('a"b', "a$b", "a`b`", "a\\b", "a\nb"):
            error = self.assertRaises(ConfigError, config.set_value, 'NODES="a"\n', "NODES", value)
            self.assertIn("NODES", str(error))

    def test_multiline_quoted_value(self):
        """
        A value quoted across lines without backslashes cannot be edited
        line by line: refused rather than written broken.
        """
        error = self.assertRaises(ConfigError, config.set_value, 'NODES="a\nb"\nCC_PORT="1"\n', "NODES", "x")
        self.assertIn("set it by hand", str(error))
