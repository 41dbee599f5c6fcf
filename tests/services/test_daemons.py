# -*- test-case-name: tests.services.test_daemons -*-
"""
The real daemons: each twistd plugin starts, answers a signed
C{DescribeServices} at its original path, logs to its log file and stops
cleanly on SIGTERM.
"""

from twisted.internet import defer
from twisted.trial.unittest import TestCase

from eucalyptus import admin
from tests.daemons import Daemons


class DaemonTests(TestCase):
    """
    Start twistd processes the way C{make cloud} does and talk to them.
    """

    timeout = 120

    def setUp(self):
        self.daemons = Daemons(self)
        self.settings = self.daemons.settings

    @defer.inlineCallbacks
    def test_each_daemon(self):
        """
        Each of the five plugins, as its own daemon, answers a signed
        C{DescribeServices} at its original path with C{ENABLED}, logs the
        call (Walrus, which keeps no access log, its start), and exits with
        status 0 on SIGTERM.
        """
        started = []
        for component, url in admin.component_endpoints(self.settings):
            started.append((component, url) + self.daemons.start(f"euca-{component}"))
        for component, url, process, log in started:
            statuses = yield self.daemons.until_enabled(component, url)
            self.assertEqual([s.localState for s in statuses], ["ENABLED"])
            self.assertEqual(statuses[0].serviceId.uris, [url])
        for component, url, process, log in started:
            yield self.daemons.stop(process)
            with open(log) as f:
                text = f.read()
            if component == "walrus":
                self.assertIn("StreamingSite starting on", text)
            else:
                self.assertIn('"POST /' + url.split("/", 3)[3], text)
            self.assertIn("Received SIGTERM, shutting down", text)
            self.assertIn("Server Shut Down", text)

    @defer.inlineCallbacks
    def test_all_in_one(self):
        """
        C{twistd eucalyptus} runs the five components in one process: the
        CLC, Walrus and the SC share the CLC's port at their own paths, the
        CC and NC have their own.
        """
        process, log = self.daemons.start("eucalyptus")
        clc_port = self.settings["CLC_PORT"]
        endpoints = dict(admin.component_endpoints(self.settings))
        endpoints["walrus"] = f"http://127.0.0.1:{clc_port}/services/Walrus"
        endpoints["sc"] = f"http://127.0.0.1:{clc_port}/services/Storage"
        for component, url in endpoints.items():
            statuses = yield self.daemons.until_enabled(component, url)
            self.assertEqual(statuses[0].localState, "ENABLED")
        yield self.daemons.stop(process)
