"""
Real twistd daemons for tests: a data directory with its own configuration
and keys, daemons started the way C{make cloud} starts them, signed
C{DescribeServices} polls until they answer, and SIGTERM to stop them.
"""

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from twisted.internet import defer, reactor, task

from eucalyptus import admin
from eucalyptus.config import config_from_file, set_value
from eucalyptus.errors import EucalyptusError

__all__ = ["Daemons", "free_ports", "qemu_directory", "until", "PROJECT", "PORT_KEYS"]

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")
PORT_KEYS = ("CLC_PORT", "WALRUS_PORT", "SC_PORT", "CC_PORT", "NC_PORT")


def free_ports(count):
    """
    C{count} TCP ports free on loopback right now.
    """
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@defer.inlineCallbacks
def until(testcase, what, check, seconds, interval=0.2):
    """
    Wait until C{check()} (which may return a Deferred) gives something
    true, and return it; fail C{testcase} after C{seconds}.
    """
    deadline = time.monotonic() + seconds
    while True:
        result = yield check()
        if result:
            return result
        if time.monotonic() > deadline:
            testcase.fail(f"timed out waiting for {what}")
        yield task.deferLater(reactor, interval, lambda: None)


def qemu_directory(testcase):
    """
    A new directory that libvirt's unprivileged qemu can reach whatever the
    checkout's own permissions (it may sit below a private directory), under
    C{/var/tmp}; removed after the test.
    """
    directory = tempfile.mkdtemp(prefix="euca-test-", dir="/var/tmp")
    os.chmod(directory, 0o755)
    testcase.addCleanup(shutil.rmtree, directory, True)
    return directory


class Daemons:
    """
    A cloud's data directory and the daemons a test starts on it.

    @ivar data: the data directory (keys, logs, state).
    @ivar instances: the NC's C{INSTANCE_PATH}, where qemu can reach it.
    @ivar settings: the parsed configuration.
    """

    def __init__(self, testcase, extra=""):
        """
        @param extra: more C{KEY="value"} lines for eucalyptus.conf.
        """
        self.testcase = testcase
        self.data = os.path.abspath(testcase.mktemp())
        os.makedirs(self.data)
        self.instances = os.path.join(qemu_directory(testcase), "instances")
        ports = dict(zip(PORT_KEYS, free_ports(len(PORT_KEYS))))
        self.conf = os.path.join(self.data, "eucalyptus.conf")
        with open(self.conf, "w") as f:
            f.write(f'LISTEN_ADDRESS="127.0.0.1"\nINSTANCE_PATH="{self.instances}"\n')
            f.writelines(f'{key}="{port}"\n' for key, port in ports.items())
            f.write(extra)
        self.settings = config_from_file(self.conf, self.data)
        admin.initialise(self.settings, out=io.StringIO())
        self.processes = []
        testcase.addCleanup(self.kill_all)

    def start(self, plugin, conf=None, name=None, data=None):
        """
        Start C{twistd -n <plugin>}.

        @param conf: another configuration file (a second NC).
        @param name: the log's name; the plugin's by default.
        @param data: another data directory.
        @return: the process and its log file's path.
        """
        data = data or self.data
        log = os.path.join(data, "log", f"{name or plugin}.log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        env = dict(os.environ, PYTHONPATH=PROJECT)
        process = subprocess.Popen(
            [TWISTD, "-n", "--logfile", log, "--pidfile", "", plugin, "--config", conf or self.conf, "--data-dir", data],
            cwd=PROJECT,
            env=env,
        )
        self.processes.append(process)
        return process, log

    def variant(self, name, **values):
        """
        A copy of the configuration file with some keys set otherwise (a
        second NC on its own port and instance directory).

        @return: the new file's path.
        """
        with open(self.conf, encoding="utf-8") as f:
            text = f.read()
        for key, value in values.items():
            text = set_value(text, key, str(value))
        path = os.path.join(self.data, f"{name}.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def kill_all(self):
        """
        Kill whatever is still running.
        """
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    @defer.inlineCallbacks
    def until_enabled(self, component, url, tries=150):
        """
        Poll C{component} with a signed C{DescribeServices} until it answers
        C{ENABLED} (a node is C{NOTREADY} until it has probed its hypervisor
        and adopted its instances).

        @return: its service statuses.
        """
        last = None
        for _ in range(tries):
            try:
                statuses = yield admin.describe_services(self.settings, component, url, reactor, timeout=5)
                if statuses and statuses[0].localState == "ENABLED":
                    return statuses
                last = statuses[0].localState if statuses else "no status"
            except EucalyptusError as e:
                last = e
            yield task.deferLater(reactor, 0.2, lambda: None)
        self.testcase.fail(f"{component} at {url} never answered: {last}")

    @defer.inlineCallbacks
    def stop(self, process):
        """
        SIGTERM, and check the daemon stopped in an orderly way.
        """
        process.send_signal(signal.SIGTERM)
        for _ in range(300):
            if process.poll() is not None:
                break
            yield task.deferLater(reactor, 0.1, lambda: None)
        # After a clean shutdown twistd re-raises the signal it received, so
        # the status is -SIGTERM; the log shows the shutdown was orderly.
        self.testcase.assertEqual(process.poll(), -signal.SIGTERM, "the daemon did not stop on SIGTERM")
