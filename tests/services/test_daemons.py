# -*- test-case-name: tests.services.test_daemons -*-
"""
The real daemons: each twistd plugin starts, answers a signed
C{DescribeServices} at its original path, logs to its log file and stops
cleanly on SIGTERM.
"""

import io
import os
import signal
import socket
import subprocess
import sys

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import TestCase

from eucalyptus import admin
from eucalyptus.config import config_from_file
from eucalyptus.errors import EucalyptusError

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")
PORT_KEYS = ("CLC_PORT", "WALRUS_PORT", "SC_PORT", "CC_PORT", "NC_PORT")


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class DaemonTests(TestCase):
    """
    Start twistd processes the way C{make cloud} does and talk to them.
    """

    timeout = 120

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        os.makedirs(self.data)
        ports = dict(zip(PORT_KEYS, _free_ports(len(PORT_KEYS))))
        self.conf = os.path.join(self.data, "eucalyptus.conf")
        with open(self.conf, "w") as f:
            f.write('LISTEN_ADDRESS="127.0.0.1"\n')
            f.writelines(f'{key}="{port}"\n' for key, port in ports.items())
        self.settings = config_from_file(self.conf, self.data)
        admin.initialise(self.settings, out=io.StringIO())
        self.processes = []
        self.addCleanup(self._kill_all)

    def _start(self, plugin):
        log = os.path.join(self.data, "log", f"{plugin}.log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        env = dict(os.environ, PYTHONPATH=PROJECT)
        process = subprocess.Popen(
            [TWISTD, "-n", "--logfile", log, "--pidfile", "", plugin, "--config", self.conf, "--data-dir", self.data],
            cwd=PROJECT,
            env=env,
        )
        self.processes.append(process)
        return process, log

    def _kill_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    @defer.inlineCallbacks
    def _until_enabled(self, component, url, tries=150):
        last = None
        for _ in range(tries):
            try:
                statuses = yield admin.describe_services(self.settings, component, url, reactor, timeout=5)
                return statuses
            except EucalyptusError as e:
                last = e
            yield task.deferLater(reactor, 0.2, lambda: None)
        self.fail(f"{component} at {url} never answered: {last}")

    @defer.inlineCallbacks
    def _stop(self, process):
        process.send_signal(signal.SIGTERM)
        for _ in range(100):
            if process.poll() is not None:
                break
            yield task.deferLater(reactor, 0.1, lambda: None)
        # After a clean shutdown twistd re-raises the signal it received, so
        # the status is -SIGTERM; the log shows the shutdown was orderly.
        self.assertEqual(process.poll(), -signal.SIGTERM, "the daemon did not stop on SIGTERM")

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
            started.append((component, url) + self._start(f"euca-{component}"))
        for component, url, process, log in started:
            statuses = yield self._until_enabled(component, url)
            self.assertEqual([s.localState for s in statuses], ["ENABLED"])
            self.assertEqual(statuses[0].serviceId.uris, [url])
        for component, url, process, log in started:
            yield self._stop(process)
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
        process, log = self._start("eucalyptus")
        clc_port = self.settings["CLC_PORT"]
        endpoints = dict(admin.component_endpoints(self.settings))
        endpoints["walrus"] = f"http://127.0.0.1:{clc_port}/services/Walrus"
        endpoints["sc"] = f"http://127.0.0.1:{clc_port}/services/Storage"
        for component, url in endpoints.items():
            statuses = yield self._until_enabled(component, url)
            self.assertEqual(statuses[0].localState, "ENABLED")
        yield self._stop(process)
