# -*- test-case-name: tests.services.cc.test_nodelist -*-
"""
The cluster's nodes: C{NODES} from eucalyptus.conf, followed as it changes.

C{euca-admin register-node} and C{deregister-node} edit C{NODES} in the
configuration file, as the original C{euca_conf} did; the CC notices the
file changed before its next poll pass and brings its L{NodeRecord}s in
line: a new entry gets a record (C{down} until it answers), an entry that
went away loses its record and its instances leave the cache.  Records of
entries that stayed are the same objects, so nothing about them is lost.
"""

import os

from twisted.logger import Logger

from eucalyptus.config import ConfigError, config_from_file
from eucalyptus.services.build import endpoint_url
from eucalyptus.services.cc.nodes import NodeRecord, parse_node

__all__ = ["NodeList"]


class NodeList:
    """
    The L{NodeRecord}s of the cluster, in C{NODES} order.  Iterating gives
    the records.
    """

    _log = Logger()

    def __init__(self, entries, default_port, service_path, cache, config_path="", data_dir=None):
        """
        @param entries: the C{NODES} entries (C{host} or C{host:port}).
        @param default_port: C{NC_PORT}.
        @param service_path: C{NC_SERVICE}.
        @param cache: the L{InstanceCache}; a removed node's instances go.
        @param config_path: the configuration file to follow; none when
            empty.
        @param data_dir: the data directory the file is read with.
        @raise ValueError: for an entry that is not a node.
        """
        self.default_port = default_port
        self.service_path = service_path
        self.cache = cache
        self.config_path = config_path
        self.data_dir = data_dir
        self._records = []
        self._stamp = self._file_stamp()
        self._apply(entries)

    def __iter__(self):
        return iter(list(self._records))

    def __len__(self):
        return len(self._records)

    def find(self, name):
        """
        @return: the record of node C{name} (its C{NODES} entry, or its
            host when that is unambiguous), or C{None}.
        """
        for record in self._records:
            if record.host == name:
                return record
        matches = [r for r in self._records if r.host.rpartition(":")[0] == name]
        return matches[0] if len(matches) == 1 else None

    def reload(self):
        """
        Re-read C{NODES} when the configuration file changed since last
        time.  A file that no longer parses is logged and ignored.

        @return: C{True} when the nodes changed.
        """
        stamp = self._file_stamp()
        if not self.config_path or stamp == self._stamp:
            return False
        self._stamp = stamp
        if stamp is None:
            # config_from_file would read a missing file as all defaults: no nodes.
            self._log.error("Not changing the nodes: {path} is missing", path=self.config_path)
            return False
        try:
            entries = config_from_file(self.config_path, self.data_dir)["NODES"]
            return self._apply(entries)
        except (ConfigError, ValueError, OSError) as e:
            self._log.error("Not changing the nodes: {path} cannot be read: {error}", path=self.config_path, error=e)
            return False

    def _file_stamp(self):
        try:
            stat = os.stat(self.config_path) if self.config_path else None
        except OSError:
            return None
        return stat and (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _apply(self, entries):
        wanted = {}
        for entry in entries:
            host, port = parse_node(entry, self.default_port)
            wanted.setdefault(entry, endpoint_url(host, port, self.service_path))
        current = {record.host: record for record in self._records}
        records = [
            current[entry] if entry in current and current[entry].url == url else NodeRecord(entry, url)
            for entry, url in wanted.items()
        ]
        kept = {id(record) for record in records}
        for record in self._records:
            if id(record) not in kept:
                dropped = self.cache.forget_host(record.host)
                self._log.info(
                    "Node {host} left the cluster; forgot its instances {ids}", host=record.host, ids=dropped
                )
        for record in records:
            if record.host not in current:
                self._log.info("Node {host} joined the cluster at {url}", host=record.host, url=record.url)
        changed = [id(r) for r in records] != [id(r) for r in self._records]
        self._records = records
        return changed
