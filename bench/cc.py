"""
The Cluster Controller at scale (issue 5): a zone of many simulated nodes,
all in one run:

    EUCALYPTUS_HOME=$PWD/var .venv/bin/python bench/cc.py \\
        [--nodes 50,100,200] [--instances 1000] [--nodes-per-process 50] \\
        [--cycles 5] [--batches 10,1] [--unknown 5] [--profile] [--keep]

The nodes are real Node Controller services (L{make_service}, the code
C{twistd euca-nc} runs) on libvirt's C{test:///default} driver, several per
process (this script's C{--serve-nodes} mode), each on its own port and
instance directory, each answering its own WS-Security-signed SOAP with the
zone's node key, as the nodes of one zone do.  Each offers 8 cores, 2 GiB
and 8 GiB of disk: room for eight C{m1.small} (1 core, 256 MiB, 1 GiB).
Walrus (C{twistd euca-walrus}) holds small kernel, ramdisk and machine
images that every node fetches, signed, into its own cache.

(a) The poll cycle.  A Cluster Controller is built in this process
    (L{eucalyptus.services.cc.service.make_service}, not started) over the
    first 50, 100, then 200 nodes, and C{poller.poll_once()} (every node:
    C{ncDescribeResource} then C{ncDescribeInstances}, at most 32 at once)
    is run C{--cycles} times back to back after a first, cold one.  Wall
    time, and CPU seconds of this process (the nodes run elsewhere, so
    that is the CC's), per cycle; the nodes' own CPU per cycle is shown
    too, because on this machine they share its two cores with the CC.
    The target is a cycle well inside C{NC_POLLING_FREQUENCY} (6 s).
    Measured on idle nodes, and again with the instances of (b) running.
(b) RunInstances.  The CC daemon (C{twistd euca-cc}, C{NODES} = every
    node, default C{ROUNDROBIN}) is asked, with signed SOAP as the CLC
    asks, for C{--instances} instances of C{m1.small}, in each plan of
    C{--batches} (10: ten requests of a tenth each, one after another; 1:
    one request for all): instances per second until the answers are back,
    and until the CC's C{DescribeInstances} shows every one C{Extant} (the
    CC learns it at its next poll, so this includes up to one poll period);
    placement spread per node (from C{serviceTag}); errors of every kind
    (faults, instances missing from the answers, instances not Extant,
    launcher retries in the CC's log); the cost of one C{DescribeInstances}
    of them all (the CLC asks every 6 s); then C{TerminateInstances} of
    all of them, timed, until none is left running.  After the first plan
    the daemon is stopped for (a) with instances, then restarted: the time
    it takes to be enabled again over all the nodes and instances.

(c) C{TerminateInstances} of C{--unknown} ids no node has (the CC asks
    every enabled node about each): time, CPU, connections opened, and
    nodes the CC's poller marked down meanwhile.

C{--profile} adds a cProfile of one poll cycle at the largest node count
(idle and with instances) and of one C{DescribeInstances} of all the
instances (a CC started in this process, client and server together).

Every phase also reports the CPU seconds the rest of the machine used
(C{other}): with only two cores, figures taken while other work runs are
not worth much.  Timings are printed, never checked.  Every process and the temporary
directory are removed at the end, also on errors and Ctrl-C.
"""

import argparse
import cProfile
import ctypes
import io
import os
import pstats
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
sys.path.insert(0, PROJECT)

from twisted.application import service  # noqa: E402
from twisted.internet import defer, reactor, task, threads  # noqa: E402
from twisted.logger import (  # noqa: E402
    FilteringLogObserver, LogLevel, LogLevelFilterPredicate, globalLogBeginner, textFileLogObserver,
)

from eucalyptus import admin  # noqa: E402
from eucalyptus.accounts import AccountStore  # noqa: E402
from eucalyptus.config import CloudConfig, config_from_string, set_value  # noqa: E402
from eucalyptus.security import trust  # noqa: E402
from eucalyptus.security.keys import KeyStore  # noqa: E402
from eucalyptus.security.wssec import Verifier  # noqa: E402
from eucalyptus.services.cc import service as cc_service  # noqa: E402
from eucalyptus.services.cc.nodes import ENABLED  # noqa: E402
from eucalyptus.services.nc import service as nc_service  # noqa: E402
from eucalyptus.soap.client import SoapClient  # noqa: E402
from eucalyptus.wsdl import SERVICE_NAMES, cc_types, common, make_application  # noqa: E402
from tests.daemons import free_ports  # noqa: E402

TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")
CC_PATH = "axis2/services/EucalyptusCC"
IMAGES = {"kernel": b"kernel" * 1000, "ramdisk": b"initrd" * 1000, "machine": b"\0" * 1024**2}
IMAGE_IDS = {"kernel": "eki-00000001", "ramdisk": "eri-00000002", "machine": "emi-00000003"}

#: Each node: eight m1.small fit (cores, memory and disk alike).
NODE_SETTINGS = (
    'HYPERVISOR="test"\nMAX_CORES="8"\nMAX_MEM="2048"\nNC_WORK_SIZE="8192"\nNC_CACHE_SIZE="256"\n'
    'SHUTDOWN_GRACE_PERIOD_SEC="5"\n'
)
ZONE_SETTINGS = 'VNET_MODE="SYSTEM"\nVNET_BRIDGE=""\nNC_POLLING_FREQUENCY="6"\nSOAP_TIMEOUT="30"\n'
PORT_KEYS = ("CLC_PORT", "WALRUS_PORT", "SC_PORT", "CC_PORT")


def _die_with_parent():
    """
    In a child, before exec: receive SIGTERM when the bench dies, however
    it dies (Linux's C{PR_SET_PDEATHSIG}), so no node outlives it.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _cpu_seconds(pid):
    """
    User plus system CPU seconds of process C{pid} so far, all its threads
    and the children it waited for (the nodes' C{qemu-img}).
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(field) for field in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _machine_busy():
    """
    CPU seconds the whole machine has spent busy (not idle, not waiting).
    """
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Meter:
    """
    CPU seconds used since it was made: by this process, the node hosts,
    the CC daemon, Walrus, and every other process on the machine (which
    should be near zero for figures to mean anything: the bench has only
    two cores).
    """

    def __init__(self, zone):
        self.zone = zone
        self.start = self._now()

    def _now(self):
        zone = self.zone
        return dict(
            wall=time.perf_counter(), bench=time.process_time(), hosts=zone.host_cpu(),
            cc=_cpu_seconds(zone.cc.pid) if zone.cc else 0.0, walrus=_cpu_seconds(zone.walrus.pid),
            machine=_machine_busy(),
        )

    def read(self):
        """
        @return: the seconds used since, by key (C{other}: the rest of the
            machine), and C{wall}.
        """
        now = self._now()
        used = {key: now[key] - self.start[key] for key in now}
        used["other"] = max(0.0, used["machine"] - used["bench"] - used["hosts"] - used["cc"] - used["walrus"])
        return used


def _status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# The node host: this script with --serve-nodes.


def serve_nodes(options):
    """
    Run one Node Controller service per port of C{--ports} in this process,
    until SIGTERM.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    log = open(options.log, "a", encoding="utf-8")
    globalLogBeginner.beginLoggingTo(
        [FilteringLogObserver(textFileLogObserver(log), [LogLevelFilterPredicate(LogLevel.info)])],
        redirectStandardIO=False,
    )
    with open(options.config, encoding="utf-8") as f:
        text = f.read()
    top = service.MultiService()
    for port in options.ports.split(","):
        node_text = set_value(text, "NC_PORT", port)
        node_text = set_value(node_text, "INSTANCE_PATH", os.path.join(options.instances_path, port))
        nc_service.make_service(config_from_string(node_text, options.data_dir), reactor=reactor).setServiceParent(top)
    reactor.callWhenRunning(top.startService)
    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)
    reactor.run()


# The zone: Walrus, the node hosts and the CC daemon.


class Zone:
    """
    A data directory with its configuration and keys, and the processes
    running on it.

    @ivar nodes: the C{NODES} entries (C{127.0.0.1:port}), in order.
    @ivar hosts: the node host processes.
    """

    def __init__(self, count, per_process):
        self.base = tempfile.mkdtemp(prefix="bench-cc-")
        self.log_dir = os.path.join(self.base, "log")
        os.makedirs(self.log_dir)
        ports = free_ports(len(PORT_KEYS) + count)
        self.nodes = [f"127.0.0.1:{port}" for port in ports[len(PORT_KEYS):]]
        self.per_process = per_process
        self.text = (
            'LISTEN_ADDRESS="127.0.0.1"\n' + "".join(f'{key}="{port}"\n' for key, port in zip(PORT_KEYS, ports))
            + ZONE_SETTINGS + NODE_SETTINGS
        )
        self.conf = self.write_conf("eucalyptus", NODES=" ".join(self.nodes))
        self.settings = self.settings_for(self.nodes)
        admin.initialise(self.settings, out=io.StringIO())
        self.walrus_url = f"http://127.0.0.1:{self.settings['WALRUS_PORT']}"
        self.cc_url = f"http://127.0.0.1:{self.settings['CC_PORT']}/{CC_PATH}"
        self.processes = []
        self.hosts = []
        self.walrus = self.cc = None
        self.cc_log = None
        self.client_parts = {}

    def write_conf(self, name, **values):
        text = self.text
        for key, value in values.items():
            text = set_value(text, key, str(value))
        path = os.path.join(self.base, f"{name}.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def settings_for(self, entries):
        """
        The zone's settings with C{NODES} set to C{entries}.
        """
        return config_from_string(set_value(self.text, "NODES", " ".join(entries)), self.base)

    def node_url(self, entry):
        return f"http://{entry}/{self.settings['NC_SERVICE']}"

    def _spawn(self, argv, name):
        out = open(os.path.join(self.log_dir, f"{name}.out"), "wb")
        process = subprocess.Popen(
            argv, cwd=PROJECT, env=dict(os.environ, PYTHONPATH=PROJECT), stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        out.close()
        self.processes.append(process)
        return process

    def start_daemon(self, plugin, name):
        log = os.path.join(self.log_dir, f"{name}.log")
        argv = [TWISTD, "-n", "--logfile", log, "--pidfile", "", plugin, "--config", self.conf, "--data-dir", self.base]
        return self._spawn(argv, name), log

    def start_hosts(self):
        instances = os.path.join(self.base, "instances")
        for index in range(0, len(self.nodes), self.per_process):
            ports = [entry.rpartition(":")[2] for entry in self.nodes[index:index + self.per_process]]
            name = f"nodes-{index // self.per_process}"
            self.hosts.append(self._spawn([
                sys.executable, os.path.abspath(__file__), "--serve-nodes", "--ports", ",".join(ports),
                "--config", self.conf, "--data-dir", self.base, "--instances-dir", instances,
                "--log", os.path.join(self.log_dir, f"{name}.log"),
            ], name))

    def check_alive(self):
        """
        @raise RuntimeError: a process of the zone has died.
        """
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{' '.join(process.args[:4])}... exited with {process.returncode}; "
                                   f"see {self.log_dir} (kept with --keep)")

    def host_cpu(self):
        return sum(_cpu_seconds(process.pid) for process in self.hosts)

    def stop_process(self, process, grace=20):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self, grace=20):
        """
        SIGTERM to every process still running, SIGKILL to those still
        running C{grace} seconds later.

        @return: the seconds that took, and the names of those killed.
        """
        start = time.monotonic()
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        killed = []
        for process in self.processes:
            try:
                process.wait(max(0.1, start + grace - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                killed.append(os.path.basename(process.args[0]) + " " + process.args[1 + (process.args[1] == "-n")])
        return time.monotonic() - start, killed

    def upload(self):
        """
        The images into Walrus (a thread: boto3 blocks).

        @return: the account id and the images' URLs by role.
        """
        import boto3  # only here: the node hosts need not load it
        from botocore.config import Config

        key = AccountStore(CloudConfig.from_settings(self.settings).database_url).create_account("bench")
        s3 = boto3.client(
            "s3", endpoint_url=self.walrus_url, region_name="us-east-1", aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_key, config=Config(s3={"addressing_style": "path"}),
        )
        for _ in range(300):
            try:
                s3.create_bucket(Bucket="images")
                break
            except Exception:
                time.sleep(0.2)
        else:
            raise RuntimeError("Walrus did not start")
        urls = {}
        for role, data in IMAGES.items():
            s3.put_object(Bucket="images", Key=role, Body=data)
            urls[role] = f"{self.walrus_url}/images/{role}"
        return key.account_id, urls


def _sleep(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


def component_client(zone, component, url, timeout=10):
    """
    L{eucalyptus.admin.component_client}, with the keys and the spyne
    application loaded once per component rather than once per client
    (loading two private keys costs some 70 ms, and the bench makes a
    client per node).
    """
    parts = zone.client_parts
    if component not in parts:
        keystore, name = KeyStore(os.path.join(zone.base, "keys")), zone.settings["ZONE"]
        parts[component] = dict(
            app=make_application(component), service_name=SERVICE_NAMES[component],
            credential=trust.caller_credential(keystore, component, name),
            verifier=Verifier([trust.peer_certificate(keystore, component, name)], allow_sha1=False),
        )
    return SoapClient(url, timeout=timeout, reactor=reactor, **parts[component])


@defer.inlineCallbacks
def until_enabled(zone, component, urls, seconds=300):
    """
    Wait until every URL answers a signed C{DescribeServices} with
    C{ENABLED}, twenty at a time.

    @return: seconds waited.
    """
    start = time.monotonic()
    clients = {url: component_client(zone, component, url) for url in urls}
    semaphore = defer.DeferredSemaphore(20)

    def enabled(client):
        request = common.DescribeServicesType(correlationId="status", userId="eucalyptus")
        d = semaphore.run(client.call, "DescribeServices", request)
        d.addCallback(lambda answer: bool(answer.serviceStatuses) and answer.serviceStatuses[0].localState == "ENABLED")
        return d.addErrback(lambda _: False)

    waiting = list(urls)
    try:
        while waiting:
            zone.check_alive()
            answers = yield defer.gatherResults([enabled(clients[url]) for url in waiting])
            waiting = [url for url, ok in zip(waiting, answers) if not ok]
            if waiting and time.monotonic() - start > seconds:
                raise RuntimeError(f"{len(waiting)} {component} endpoints never enabled, e.g. {waiting[0]}")
            if waiting:
                yield _sleep(0.5)
    finally:
        yield defer.gatherResults([client.close() for client in clients.values()])
    return time.monotonic() - start


# (a) The poll cycle, with the CC in this process.


@defer.inlineCallbacks
def poll_cycles(zone, count, cycles, profile=False):
    """
    Build a CC over the first C{count} nodes and time C{cycles + 1} poll
    passes (the first, cold one, reported apart), then one more under
    cProfile when asked.

    @return: a dict of figures.
    """
    component = cc_service.make_service(zone.settings_for(zone.nodes[:count]), reactor=reactor)
    poller = component.poller
    used = []
    profile_text = None
    try:
        for _ in range(cycles + 1):
            meter = Meter(zone)
            yield poller.poll_once()
            used.append(meter.read())
            yield _sleep(0.2)
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            yield poller.poll_once()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(15)
            stats.sort_stats("cumulative").print_stats(r"eucalyptus/|spyne/util/xml|signxml/", 20)
            profile_text = out.getvalue()
    finally:
        yield poller.close_clients()
    records = list(component.nodes)
    warm = used[1:]
    return dict(
        nodes=count, enabled=sum(record.state == ENABLED for record in records), instances=len(poller.cache),
        cold=used[0], walls=[u["wall"] for u in warm], cpus=[u["bench"] for u in warm],
        node_cpus=[u["hosts"] for u in warm], other=max(u["other"] for u in warm),
        down=[f"{record.host}: {record.reason}" for record in records if record.state != ENABLED][:3],
        profile=profile_text,
    )


def _print_polls(label, rows):
    print(f"\n(a) Poll cycle, {label}: poll_once() of the in-process CC; median (max) over the warm cycles")
    print(f"{'nodes':>6} | {'enabled':>7} | {'instances':>9} | {'wall s':>15} | {'CC CPU s/cycle':>15} | "
          f"{'CC CPU ms/node':>14} | {'nodes CPU s/cycle':>17} | {'cold wall/CPU s':>15} | {'other CPU s':>11}")
    for row in rows:
        n, wall, cpu = row["nodes"], row["walls"], row["cpus"]
        print(f"{n:>6} | {row['enabled']:>7} | {row['instances']:>9} | "
              f"{statistics.median(wall):>6.3f} ({max(wall):.3f}) | {statistics.median(cpu):>6.3f} ({max(cpu):.3f}) | "
              f"{1000 * statistics.median(cpu) / n:>14.2f} | {statistics.median(row['node_cpus']):>17.3f} | "
              f"{row['cold']['wall']:>7.3f}/{row['cold']['bench']:.3f} | {row['other']:>11.2f}")
        for reason in row["down"]:
            print(f"       not enabled: {reason}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(f"       {first['nodes']} -> {last['nodes']} nodes (x{last['nodes'] / first['nodes']:g}): wall x"
              f"{statistics.median(last['walls']) / statistics.median(first['walls']):.2f}, CC CPU x"
              f"{statistics.median(last['cpus']) / statistics.median(first['cpus']):.2f}")
    if rows and rows[-1]["profile"]:
        print(f"\n    cProfile of one more cycle at {rows[-1]['nodes']} nodes:")
        print("\n".join("    " + line for line in rows[-1]["profile"].splitlines() if line.strip()))


@defer.inlineCallbacks
def measure_polls(zone, counts, cycles, profile):
    rows = []
    for count in counts:
        rows.append((yield poll_cycles(zone, count, cycles, profile and count == counts[-1])))
        zone.check_alive()
    return rows


# (b) RunInstances through the CC daemon.


def run_request(account, urls, ids, reservation):
    """
    The CLC's C{RunInstances} for instances C{ids} of type m1.small.
    """
    vm = common.VirtualMachineType(name="m1.small", memory=256, cores=1, disk=1, virtualBootRecord=[
        common.VirtualBootRecordType(type=role, resourceLocation=url, id=IMAGE_IDS[role], guestDeviceName="none",
                                     size=-1, format="none")
        for role, url in urls.items()
    ])
    return cc_types.RunInstancesType(
        correlationId=reservation, userId=account, ownerId=account, accountId=account, reservationId=reservation,
        imageId=IMAGE_IDS["machine"], kernelId=IMAGE_IDS["kernel"], ramdiskId=IMAGE_IDS["ramdisk"],
        imageURL=urls["machine"], kernelURL=urls["kernel"], ramdiskURL=urls["ramdisk"], instanceType=vm,
        maxCount=len(ids), minCount=len(ids), instanceIds=list(ids), keyName="",
    )


@defer.inlineCallbacks
def describe(client, ids):
    """
    @return: instance id to C{(stateName, serviceTag)}.
    """
    answer = yield client.call(
        "DescribeInstances", cc_types.DescribeInstancesType(correlationId="b", userId="eucalyptus", instanceIds=ids)
    )
    return {i.instanceId: (i.stateName, i.serviceTag) for i in answer.instances or []}


def _log_lines(path, *needles):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [line.rstrip() for line in f if any(needle in line for needle in needles)]
    except OSError:
        return []


def _cc_client(zone):
    return component_client(zone, "cc", zone.cc_url, timeout=600)


@defer.inlineCallbacks
def run_plan(zone, client, account, urls, ids, batches, seconds=600):
    """
    Start C{ids} in C{batches} requests one after another, then wait until
    the CC describes each as Extant (asking only about those that are not
    yet), and count errors of every kind.

    @return: a dict of figures.
    """
    retries_before = len(_log_lines(zone.cc_log, "could not start"))
    size = -(-len(ids) // batches)
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    faults, answered = [], {}
    meter = Meter(zone)
    for number, chunk in enumerate(chunks):
        try:
            answer = yield client.call("RunInstances", run_request(account, urls, chunk, f"r-{chunk[0][2:]}"))
        except Exception as e:
            faults.append(f"request {number}: {type(e).__name__}: {e}")
            continue
        answered.update((i.instanceId, i.serviceTag) for i in answer.instances or [])
    at_answers = meter.read()
    states, waiting = {}, list(answered)
    while waiting and at_answers["wall"] + meter.read()["wall"] < seconds:
        zone.check_alive()
        states.update((yield describe(client, waiting)))
        waiting = [i for i in waiting if states.get(i, ("Pending",))[0] == "Pending"]
        if waiting:
            yield _sleep(1)
    at_extant = meter.read()
    states = yield describe(client, ids)
    per_node = {zone.node_url(entry): 0 for entry in zone.nodes}
    for state, tag in states.values():
        per_node[tag] = per_node.get(tag, 0) + 1
    counts = list(per_node.values())
    not_extant = {i: states.get(i, ("missing", ""))[0] for i in ids if states.get(i, ("", ""))[0] != "Extant"}
    return dict(
        batches=len(chunks), requested=len(ids), answered=len(answered), started=list(answered), faults=faults,
        at_answers=at_answers,
        at_extant=at_extant, extant=len(ids) - len(not_extant), not_extant=not_extant,
        spread=(min(counts), max(counts), statistics.mean(counts), sum(1 for c in counts if c)),
        retries=_log_lines(zone.cc_log, "could not start")[retries_before:],
    )


@defer.inlineCallbacks
def describe_cost(zone, client, ids, calls=3):
    """
    C{calls} DescribeInstances of C{ids}, one after another.

    @return: median wall seconds, median CC daemon CPU seconds, median CPU
        seconds of this process (the client: verify and parse).
    """
    walls, server, client_cpu = [], [], []
    for _ in range(calls):
        meter = Meter(zone)
        yield describe(client, ids)
        used = meter.read()
        walls.append(used["wall"])
        server.append(used["cc"])
        client_cpu.append(used["bench"])
    return statistics.median(walls), statistics.median(server), statistics.median(client_cpu)


@defer.inlineCallbacks
def terminate_all(zone, client, ids, seconds=300):
    """
    C{TerminateInstances} of C{ids}, in requests of at most 100, and wait
    until the CC shows none of them Pending or Extant.

    @return: the answer time, the time until none runs, how many the CC
        said it terminated, and the errors.
    """
    errors, terminated = [], 0
    start = time.monotonic()
    for index in range(0, len(ids), 100):
        chunk = ids[index:index + 100]
        try:
            answer = yield client.call("TerminateInstances", cc_types.TerminateInstancesType(
                correlationId="t", userId="eucalyptus", instanceIds=chunk))
            terminated += sum(bool(flag) for flag in answer.isTerminated or [])
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
    answered = time.monotonic() - start
    waiting = list(ids)
    while waiting and time.monotonic() - start < seconds:
        states = yield describe(client, waiting)
        waiting = [i for i, (state, _) in states.items() if state in ("Pending", "Extant")]
        if waiting:
            yield _sleep(1)
    if waiting:
        errors.append(f"{len(waiting)} instances still running after {seconds} s, e.g. {waiting[0]}")
    return answered, time.monotonic() - start, terminated, errors


@defer.inlineCallbacks
def profile_describe(zone, ids):
    """
    cProfile one C{DescribeInstances} of C{ids} against a CC built and
    started in this process (client and server both show; the CC daemon
    must be stopped: this one listens on its port).  The CC polls once to
    fill its cache, and not again while profiled.

    @return: the profile's text and the CPU seconds of the call.
    """
    text = set_value(set_value(zone.text, "NODES", " ".join(zone.nodes)), "NC_POLLING_FREQUENCY", "3600")
    component = cc_service.make_service(config_from_string(text, zone.base), reactor=reactor)
    component.startService()
    client = _cc_client(zone)
    try:
        yield component.poller.poll_once()
        yield describe(client, ids)
        profiler = cProfile.Profile()
        cpu = time.process_time()
        profiler.enable()
        yield describe(client, ids)
        profiler.disable()
        cpu = time.process_time() - cpu
    finally:
        yield client.close()
        yield component.stopService()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(12)
    stats.sort_stats("cumulative").print_stats(r"eucalyptus/|spyne/util/xml|spyne/server|signxml/", 16)
    return out.getvalue(), cpu


@defer.inlineCallbacks
def terminate_unknown(zone, client, count):
    """
    One C{TerminateInstances} of C{count} ids no node has: the CC asks
    every enabled node about each of them.

    @return: the figures (seconds, CPU, connections the CC opened, nodes
        it marked down meanwhile).
    """
    ids = [f"i-{0x7f000000 + n:08x}" for n in range(count)]
    opened = len(_log_lines(zone.cc_log, "Starting factory"))
    down = len(_log_lines(zone.cc_log, "is down"))
    meter = Meter(zone)
    answer = yield client.call("TerminateInstances", cc_types.TerminateInstancesType(
        correlationId="t", userId="eucalyptus", instanceIds=ids))
    used = meter.read()
    yield _sleep(7)  # one more poll period: do the nodes still answer?
    return dict(
        used=used, terminated=sum(bool(flag) for flag in answer.isTerminated or []),
        opened=len(_log_lines(zone.cc_log, "Starting factory")) - opened,
        down=len(_log_lines(zone.cc_log, "is down")) - down,
    )


def _print_unknown(count, nodes, figures):
    used = figures["used"]
    print(f"\n(c) TerminateInstances of {count} ids no node has, {nodes} nodes: {used['wall']:.2f} s; CPU s: CC daemon "
          f"{used['cc']:.2f}, node hosts {used['hosts']:.2f}, other {used['other']:.2f}; the CC opened "
          f"{figures['opened']} connections ({count} x {nodes} = {count * nodes} calls), marked {figures['down']} "
          f"nodes down during it and the next poll; {figures['terminated']} reported terminated")


def _errors(figures):
    return len(figures["faults"]) + (figures["requested"] - figures["answered"]) + len(figures["not_extant"])


def _print_run(figures, nodes):
    n = figures["requested"]
    answers, extant = figures["at_answers"], figures["at_extant"]
    low, high, mean, used = figures["spread"]
    print(f"\n(b) RunInstances of {n} m1.small in {figures['batches']} request(s) of {n // figures['batches']} "
          f"on {nodes} nodes, ROUNDROBIN, through the CC daemon")
    print(f"    answers back:   {answers['wall']:7.2f} s {n / answers['wall']:7.1f} instances/s; CPU s: CC daemon "
          f"{answers['cc']:.1f}, node hosts {answers['hosts']:.1f}, Walrus {answers['walrus']:.1f}, "
          f"other {answers['other']:.1f}")
    print(f"    all Extant:     {extant['wall']:7.2f} s {n / extant['wall']:7.1f} instances/s ({figures['extant']} "
          f"Extant; the CC learns it at its next poll); CPU s: CC daemon {extant['cc']:.1f}, node hosts "
          f"{extant['hosts']:.1f}, other {extant['other']:.1f}")
    print(f"    spread:         min {low} / max {high} / mean {mean:.2f} instances per node, "
          f"on {used} of {nodes} nodes")
    print(f"    errors:         {_errors(figures)} ({len(figures['faults'])} faults, {n - figures['answered']} "
          f"missing from the answers, {len(figures['not_extant'])} not Extant); launcher retries in the CC log: "
          f"{len(figures['retries'])}")
    for fault in figures["faults"][:3]:
        print(f"      fault: {fault}")
    for instance_id, state in list(figures["not_extant"].items())[:3]:
        print(f"      {instance_id}: {state}")
    for line in figures["retries"][:3]:
        print(f"      {line}")


def _print_terminate(count, result):
    answered, done, terminated, errors = result
    print(f"    TerminateInstances of {count} (requests of 100): answers in {answered:.2f} s, none Pending or "
          f"Extant after {done:.2f} s; {terminated} reported terminated; {len(errors)} errors")
    for error in errors[:3]:
        print(f"      {error}")


@defer.inlineCallbacks
def start_cc(zone):
    """
    Start the CC daemon and wait until it is enabled (its first poll pass
    is done).

    @return: the seconds that took.
    """
    zone.cc, zone.cc_log = zone.start_daemon("euca-cc", f"cc-{len(zone.processes)}")
    return (yield until_enabled(zone, "cc", [zone.cc_url]))


def stop_cc(zone):
    zone.stop_process(zone.cc)
    zone.processes.remove(zone.cc)
    zone.cc = None


@defer.inlineCallbacks
def main(reactor, options, zone):
    counts = sorted(options.counts)
    start = time.monotonic()
    zone.walrus, _ = zone.start_daemon("euca-walrus", "walrus")
    zone.start_hosts()
    yield until_enabled(zone, "walrus", [f"{zone.walrus_url}/services/Walrus"])
    account, urls = yield threads.deferToThread(zone.upload)
    waited = yield until_enabled(zone, "nc", [zone.node_url(entry) for entry in zone.nodes])
    rss = [_status(p.pid, "VmRSS") / 1024 for p in zone.hosts]
    threads_per = [_status(p.pid, "Threads") for p in zone.hosts]
    print(f"{len(zone.nodes)} nodes in {len(zone.hosts)} processes enabled {time.monotonic() - start:.1f} s after "
          f"start ({waited:.1f} s after Walrus); node host RSS {statistics.mean(rss):.0f} MiB "
          f"({statistics.mean(rss) / zone.per_process:.1f} MiB per node), {max(threads_per)} threads per process")
    quiet = Meter(zone)
    yield _sleep(6)
    idle_hosts = quiet.read()
    idle = yield measure_polls(zone, counts, options.cycles, options.profile)
    _print_polls("idle nodes", idle)

    loaded, runs = [], []
    for plan, batches in enumerate(options.batches):
        ids = [f"i-{0x10000000 * (plan + 1) + n:08x}" for n in range(options.instances)]
        if zone.cc is None:
            yield start_cc(zone)
        client = _cc_client(zone)
        try:
            figures = yield run_plan(zone, client, account, urls, ids, batches)
            runs.append(figures)
            _print_run(figures, len(zone.nodes))
            cost = yield describe_cost(zone, client, ids)
            print(f"    DescribeInstances of all {len(ids)}: {cost[0]:.3f} s; CPU s: CC daemon {cost[1]:.3f}, "
                  f"client {cost[2]:.3f}")
        finally:
            yield client.close()
        if plan == 0:
            # One CC at a time: the daemon stops while this process polls.
            stop_cc(zone)
            quiet = Meter(zone)
            yield _sleep(6)
            loaded_hosts = quiet.read()
            loaded = yield measure_polls(zone, counts, options.cycles, options.profile)
            _print_polls(f"nodes running the {options.instances} instances", loaded)
            print(f"\n    Node hosts' own CPU with no CC polling (monitors), over 6 s: {idle_hosts['hosts']:.2f} s "
                  f"idle, {loaded_hosts['hosts']:.2f} s with the instances")
            if options.profile:
                text, cpu = yield profile_describe(zone, ids)
                print(f"\n    cProfile of one DescribeInstances of {len(ids)}, CC and client in one process "
                      f"({cpu:.2f} CPU s together):")
                print("\n".join("    " + line for line in text.splitlines() if line.strip()))
            restart = yield start_cc(zone)
            client = _cc_client(zone)
            seen = yield describe(client, ids)
            yield client.close()
            print(f"\n    CC daemon restarted with {len(zone.nodes)} nodes and {len(ids)} instances: enabled after "
                  f"{restart:.1f} s, describing {sum(state == 'Extant' for state, _ in seen.values())} as Extant")
        # Only what started: an id no node has is looked for on every node.
        started = figures["started"]
        client = _cc_client(zone)
        try:
            result = yield terminate_all(zone, client, started)
            if plan == len(options.batches) - 1 and options.unknown:
                unknown = yield terminate_unknown(zone, client, options.unknown)
        finally:
            yield client.close()
        _print_terminate(len(started), result)
    if options.unknown:
        _print_unknown(options.unknown, len(zone.nodes), unknown)

    print("\nSummary (poll cycle of the CC over N nodes; CPU is the CC's own, the nodes run in other processes)")
    print(f"{'nodes':>6} | {'instances':>9} | {'cycle wall median/max s':>23} | {'CC CPU s/cycle':>14} | "
          f"{'CC CPU ms/node':>14} | {'nodes CPU s/cycle':>17} | {'other CPU s, max':>16}")
    for row in idle + loaded:
        print(f"{row['nodes']:>6} | {row['instances']:>9} | "
              f"{statistics.median(row['walls']):>11.3f} / {max(row['walls']):<9.3f} | "
              f"{statistics.median(row['cpus']):>14.3f} | "
              f"{1000 * statistics.median(row['cpus']) / row['nodes']:>14.2f} | "
              f"{statistics.median(row['node_cpus']):>17.3f} | {row['other']:>16.2f}")
    for figures in runs:
        low, high, mean, _ = figures["spread"]
        n = figures["requested"]
        print(f"RunInstances of {n} in {figures['batches']} request(s): {n / figures['at_answers']['wall']:.1f}/s to "
              f"the answers, {n / figures['at_extant']['wall']:.1f}/s to all Extant; spread {low}/{high}/{mean:.2f} "
              f"(min/max/mean per node); errors {_errors(figures)}; launcher retries {len(figures['retries'])}")
    print(f"Whole run: {time.monotonic() - start:.0f} s")


def _counts(text):
    return [int(word) for word in text.split(",") if word]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", dest="counts", type=_counts, default=[50, 100, 200],
                        help="node counts to poll (the largest is the zone's size)")
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--nodes-per-process", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=5, help="warm poll cycles per node count")
    parser.add_argument("--batches", type=_counts, default=[10, 1],
                        help="one RunInstances plan per entry: the instances in that many requests")
    parser.add_argument("--unknown", type=int, default=5,
                        help="then TerminateInstances of this many ids no node has (0: skip)")
    parser.add_argument("--profile", action="store_true", help="cProfile one cycle at the largest node count")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    parser.add_argument("--serve-nodes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--instances-dir", dest="instances_path", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_nodes:
        serve_nodes(options)
        sys.exit(0)
    zone = Zone(max(options.counts), options.nodes_per_process)
    try:
        task.react(main, [options, zone])
    finally:
        seconds, killed = zone.stop()
        print(f"Stopped every process in {seconds:.1f} s" + (f"; killed after SIGTERM: {killed}" if killed else ""))
        if options.keep:
            print(f"Kept {zone.base}")
        else:
            shutil.rmtree(zone.base, ignore_errors=True)
