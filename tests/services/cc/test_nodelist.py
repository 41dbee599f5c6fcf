"""
The CC's nodes, from C{NODES} in eucalyptus.conf and followed as it changes.
"""

import os

from twisted.logger import LogLevel, capturedLogs
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.services.build import endpoint_url
from eucalyptus.services.cc.nodelist import NodeList
from eucalyptus.services.cc.nodes import DOWN, ENABLED, InstanceCache
from tests.services.cc.test_nodes import FIGURES, instance

SERVICE = "axis2/services/EucalyptusNC"


def url(host, port=8775):
    return endpoint_url(host, port, SERVICE)


class EntriesTests(SynchronousTestCase):
    """
    Records made from C{NODES} entries, and finding them.
    """

    def setUp(self):
        self.nodes = NodeList(["10.0.0.5", "node-b:9001", "node-c:1", "node-c:2"], 8775, SERVICE, InstanceCache())

    def test_records(self):
        """
        Each entry is a record named by its entry, in C{NODES} order, down
        until polled; a bare host takes the default port, C{host:port} its
        own.
        """
        self.assertEqual(len(self.nodes), 4)
        self.assertEqual(
            [(record.host, record.url, record.state) for record in self.nodes],
            [
                ("10.0.0.5", "http://10.0.0.5:8775/axis2/services/EucalyptusNC", DOWN),
                ("node-b:9001", "http://node-b:9001/axis2/services/EucalyptusNC", DOWN),
                ("node-c:1", url("node-c", 1), DOWN),
                ("node-c:2", url("node-c", 2), DOWN),
            ],
        )

    def test_duplicate_entry(self):
        """
        An entry listed twice is one node.
        """
        nodes = NodeList(["a", "b", "a"], 8775, SERVICE, InstanceCache())
        self.assertEqual([record.host for record in nodes], ["a", "b"])

    def test_bad_entry(self):
        """
        An entry that is not a node is refused.
        """
        self.assertRaises(ValueError, NodeList, ["a", "b:http"], 8775, SERVICE, InstanceCache())

    def test_find_entry(self):
        """
        A record is found by its entry.
        """
        for entry in ("10.0.0.5", "node-b:9001", "node-c:2"):
            self.assertEqual(self.nodes.find(entry).host, entry)

    def test_find_bare_host(self):
        """
        A C{host:port} node is found by its bare host when no other node
        has that host; an ambiguous or unknown name finds nothing.
        """
        self.assertEqual(self.nodes.find("node-b").host, "node-b:9001")
        self.assertIsNone(self.nodes.find("node-c"))
        self.assertIsNone(self.nodes.find("node-d"))
        self.assertIsNone(self.nodes.find("10.0.0"))

    def test_exact_entry_wins(self):
        """
        An entry that is exactly the name is found even when another entry
        has that host with a port.
        """
        nodes = NodeList(["a:9001", "a"], 8775, SERVICE, InstanceCache())
        self.assertEqual(nodes.find("a").url, url("a"))

    def test_no_config_path(self):
        """
        Without a configuration file, reloading changes nothing.
        """
        before = list(self.nodes)
        self.assertFalse(self.nodes.reload())
        self.assertEqual([id(r) for r in self.nodes], [id(r) for r in before])


class ReloadTests(SynchronousTestCase):
    """
    L{NodeList.reload} follows C{NODES} in a real configuration file.
    """

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        os.makedirs(self.data)
        self.path = os.path.join(self.data, "eucalyptus.conf")
        self.write('NODES="a b:9001"')
        self.cache = InstanceCache()
        self.nodes = NodeList(("a", "b:9001"), 8775, SERVICE, self.cache, self.path, self.data)
        self.before = {record.host: record for record in self.nodes}
        for record in self.nodes:
            record.answered("enabled", FIGURES, 10)

    def write(self, nodes_line):
        """
        Rewrite the file, making sure its modification time moves on even
        on a file system with coarse timestamps.
        """
        previous = os.stat(self.path).st_mtime_ns if os.path.exists(self.path) else 0
        with open(self.path, "w") as f:
            f.write(f'# the cluster\nZONE="east"\n{nodes_line}\n')
        stamp = max(os.stat(self.path).st_mtime_ns, previous + 1_000_000_000)
        os.utime(self.path, ns=(stamp, stamp))

    def hosts(self):
        return [record.host for record in self.nodes]

    def test_unchanged_file(self):
        """
        A file that did not change is not re-read: no change, same records.
        """
        self.assertFalse(self.nodes.reload())
        self.assertEqual(self.hosts(), ["a", "b:9001"])
        for record in self.nodes:
            self.assertIs(record, self.before[record.host])

    def test_touched_same_nodes(self):
        """
        A file rewritten with the same nodes is no change, and the records
        stay the same objects with what they knew.
        """
        self.write('NODES="a  b:9001"')
        self.assertFalse(self.nodes.reload())
        for record in self.nodes:
            self.assertIs(record, self.before[record.host])
            self.assertEqual(record.state, ENABLED)

    def test_node_added(self):
        """
        A node added to the file gets a new record, down until polled; the
        others are the very same records.
        """
        self.write('NODES="a b:9001 10.0.0.7"')
        with capturedLogs() as events:
            self.assertTrue(self.nodes.reload())
        self.assertEqual(self.hosts(), ["a", "b:9001", "10.0.0.7"])
        added = self.nodes.find("10.0.0.7")
        self.assertEqual((added.state, added.url), (DOWN, url("10.0.0.7")))
        self.assertIs(self.nodes.find("a"), self.before["a"])
        self.assertIs(self.nodes.find("b:9001"), self.before["b:9001"])
        self.assertEqual(self.nodes.find("a").state, ENABLED)
        joined = [e for e in events if e.get("host") == "10.0.0.7"]
        self.assertEqual(len(joined), 1)
        self.assertEqual(joined[0]["url"], url("10.0.0.7"))

    def test_node_removed(self):
        """
        A node removed from the file loses its record and its instances
        leave the cache; the other node and its instances stay.
        """
        self.cache.update("a", [instance("i-a1"), instance("i-a2")], 10)
        self.cache.update("b:9001", [instance("i-b1")], 10)
        self.write('NODES="b:9001"')
        with capturedLogs() as events:
            self.assertTrue(self.nodes.reload())
        self.assertEqual(self.hosts(), ["b:9001"])
        self.assertIs(self.nodes.find("b:9001"), self.before["b:9001"])
        self.assertIsNone(self.nodes.find("a"))
        self.assertEqual([entry.instance.instanceId for entry in self.cache.describe()], ["i-b1"])
        (left,) = [e for e in events if e.get("host") == "a"]
        self.assertEqual(left["ids"], ["i-a1", "i-a2"])

    def test_reordered(self):
        """
        The records follow the file's order; reordering is a change but
        keeps every record.
        """
        self.write('NODES="b:9001 a"')
        self.assertTrue(self.nodes.reload())
        self.assertEqual(self.hosts(), ["b:9001", "a"])
        for record in self.nodes:
            self.assertIs(record, self.before[record.host])

    def test_port_changed(self):
        """
        An entry whose port changed is another node: a new record, and the
        old one's instances go.
        """
        self.cache.update("b:9001", [instance("i-b1")], 10)
        self.write('NODES="a b:9002"')
        self.assertTrue(self.nodes.reload())
        self.assertEqual(self.hosts(), ["a", "b:9002"])
        self.assertEqual((self.nodes.find("b").url, self.nodes.find("b").state), (url("b", 9002), DOWN))
        self.assertEqual(len(self.cache), 0)

    def test_file_no_longer_parses(self):
        """
        A file with an unknown key is logged as an error and ignored: the
        nodes stay as they were.  Once fixed, it is followed again.
        """
        self.cache.update("a", [instance("i-a1")], 10)
        self.write('NODES="c"\nNO_SUCH_KEY="1"')
        with capturedLogs() as events:
            self.assertFalse(self.nodes.reload())
        self.assertEqual(self.hosts(), ["a", "b:9001"])
        for record in self.nodes:
            self.assertIs(record, self.before[record.host])
        self.assertIn("i-a1", self.cache)
        (error,) = [e for e in events if e["log_level"] == LogLevel.error]
        self.assertEqual(error["path"], self.path)
        self.assertIn("NO_SUCH_KEY", str(error["error"]))
        self.assertFalse(self.nodes.reload())
        self.write('NODES="c"')
        self.assertTrue(self.nodes.reload())
        self.assertEqual(self.hosts(), ["c"])

    def test_file_removed(self):
        """
        A file that went away is logged and ignored, not read as a file
        with no nodes: the nodes and their instances stay.  Once it is
        back, it is followed again.
        """
        self.cache.update("a", [instance("i-a1")], 10)
        os.unlink(self.path)
        with capturedLogs() as events:
            self.assertFalse(self.nodes.reload())
        self.assertEqual(self.hosts(), ["a", "b:9001"])
        self.assertIn("i-a1", self.cache)
        (error,) = [e for e in events if e["log_level"] == LogLevel.error]
        self.assertEqual(error["path"], self.path)
        self.write('NODES="a"')
        self.assertTrue(self.nodes.reload())
        self.assertEqual(self.hosts(), ["a"])

    def test_bad_entry_in_file(self):
        """
        A file naming something that is not a node is ignored too.
        """
        self.write('NODES="a b:http"')
        with capturedLogs() as events:
            self.assertFalse(self.nodes.reload())
        self.assertEqual(self.hosts(), ["a", "b:9001"])
        self.assertEqual(len([e for e in events if e["log_level"] == LogLevel.error]), 1)
