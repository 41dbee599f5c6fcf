"""
The Cloud Controller's EC2 Query API (issue 6) against C{moto_server}, in
one run:

    EUCALYPTUS_HOME=$PWD/var .venv/bin/python bench/ec2.py \\
        [--instances 100,1000,5000] [--seconds 10] [--processes 3] \\
        [--connections 8] [--calls 20] [--budget 40] [--user-data 1024] \\
        [--profile] [--keep]

Our side is a real zone: C{twistd -n} of C{euca-walrus}, C{euca-nc} (on
C{HYPERVISOR="test"}: libvirt's C{test:///default} driver, disks still built
with C{qemu-img}/C{mkfs}), C{euca-cc} and C{euca-clc}, with a kernel,
ramdisk and machine bundle uploaded to Walrus and registered.  The other
side is C{.venv/bin/moto_server}, started by this run.  Requests come from
the lean signed client of C{bench/ec2_load.py} (SigV4 computed for every
request, raw keep-alive HTTP/1.1, answers read whole but not parsed), not
boto3, so that the client is not what is measured.

(1) C{DescribeInstances} of every instance of an account holding 100,
    1,000 and 5,000 instances (C{--instances}): C{--calls} listings one
    after another on one connection, fewer (at least 3) when they would
    take more than C{--budget} seconds; a listing follows C{NextToken}
    (moto answers 100 reservations at a time; ours everything at once).
    Median, p90 and best latency, answer size, the server's CPU per
    listing (C{/proc/<pid>/stat}, over the listings after the first) and
    the cores the rest of the machine used meanwhile.  Target: median under
    250 ms at 5,000.  Our instances are rows written straight into the
    CLC's database (SQLite in the data directory) before the daemon starts:
    25 per reservation, two tags each (C{Name}, C{group} = C{even} or
    C{odd} by reservation), one security group, C{--user-data} bytes of
    user data, running, with addresses; they are in a zone no cluster of
    this cloud serves (C{zone-archive}), so that the CLC's poll, which
    declares instances its cluster does not report lost, leaves them alone.
    moto's are made with C{RunInstances} of 25 with the same tags and user
    data, one region per size.  The first listing of each is parsed with
    botocore to count the instances.
(2) Throughput at C{--connections} concurrent keep-alive connections spread
    over C{--processes} forked load processes, C{--seconds} timed after
    C{--warmup} seconds, for C{DescribeRegions}; C{DescribeInstances} with
    the filters C{instance-state-name=running} and C{tag:group=even} over
    the 100-instance account (50 match); and C{RunInstances} of one
    C{m1.small} per call (ours through the CC and the NC on the test
    hypervisor, after one untimed launch that fills the node's cache).
    Requests per second, errors, latency, and CPU milliseconds per request
    of the server, of the other daemons, of the load processes and of the
    rest of the machine, with the cores busy: the machine has two, so the
    load generator and whatever else runs compete with the server, and the
    server's CPU per request is the figure to compare when it is
    saturated.  Every instance started is terminated afterwards.

C{--profile} adds a py-spy record of the CLC daemon during five listings
of the largest account and during 5 s of C{RunInstances}, and a cProfile of
one C{DescribeInstances} of the largest account by the CLC built in this
process (L{make_service}) with its dispatcher called directly.  Figures are
printed, never checked.  Every process and the temporary directory are
removed at the end, also on errors and Ctrl-C (C{--keep} keeps the
directory and its logs).
"""

import argparse
import base64
import cProfile
import ctypes
import io
import os
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
sys.path.insert(0, PROJECT)
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.parsers import create_parser  # noqa: E402

from ec2_load import (  # noqa: E402
    VERSION, Client, cpu_seconds, form_body, machine_busy, percentile, run_load, status_kib,
)
from s3_load import PySpy, summarize_profile  # noqa: E402
from eucalyptus import admin, bundle  # noqa: E402
from eucalyptus.accounts import ADMIN_ACCOUNT, ADMIN_USER, AccountStore  # noqa: E402
from eucalyptus.config import CloudConfig, config_from_file  # noqa: E402
from eucalyptus.security import keys  # noqa: E402
from tests.daemons import free_ports  # noqa: E402

TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")
MOTO = os.path.join(os.path.dirname(sys.executable), "moto_server")
PORT_KEYS = ("CLC_PORT", "WALRUS_PORT", "SC_PORT", "CC_PORT", "NC_PORT")
CLC_PATH = "/services/Eucalyptus"

#: One node with room for far more m1.small than a run starts.
ZONE_SETTINGS = (
    'HYPERVISOR="test"\nVNET_MODE="SYSTEM"\nVNET_BRIDGE=""\nMAX_CORES="4096"\nMAX_MEM="1048576"\n'
    'NC_WORK_SIZE="40000000"\nNC_CACHE_SIZE="1024"\nNODES="127.0.0.1"\nSHUTDOWN_GRACE_PERIOD_SEC="5"\n'
)

#: Where the seeded instances live: no cluster of this cloud serves it.
ARCHIVE_ZONE = "zone-archive"
PER_RESERVATION = 25

#: moto's region for each use.
MOTO_REGIONS = ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
MOTO_RUN_REGION = "sa-east-1"

FILTERS = {"Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "running",
           "Filter.2.Name": "tag:group", "Filter.2.Value.1": "even"}


def _die_with_parent():
    """
    In a child, before exec: SIGTERM when the bench dies, however it dies.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Zone:
    """
    A data directory with its configuration, and the daemons running on it.
    """

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="bench-ec2-")
        self.log_dir = os.path.join(self.base, "log")
        os.makedirs(self.log_dir)
        *daemon_ports, self.moto_port = free_ports(len(PORT_KEYS) + 1)
        ports = dict(zip(PORT_KEYS, daemon_ports))
        self.conf = os.path.join(self.base, "eucalyptus.conf")
        with open(self.conf, "w") as f:
            f.write(f'LISTEN_ADDRESS="127.0.0.1"\nINSTANCE_PATH="{os.path.join(self.base, "instances")}"\n')
            f.writelines(f'{key}="{port}"\n' for key, port in ports.items())
            f.write(ZONE_SETTINGS)
        self.settings = config_from_file(self.conf, self.base)
        admin.initialise(self.settings, out=io.StringIO())
        self.database_url = CloudConfig.from_settings(self.settings).database_url
        self.walrus_url = f"http://127.0.0.1:{self.settings['WALRUS_PORT']}"
        self.clc_port = int(self.settings["CLC_PORT"])
        self.processes = {}

    def start(self, name, argv):
        out = open(os.path.join(self.log_dir, f"{name}.out"), "wb")
        process = subprocess.Popen(argv, cwd=PROJECT, env=dict(os.environ, PYTHONPATH=PROJECT), stdout=out,
                                   stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        out.close()
        self.processes[name] = process
        return process

    def start_daemon(self, plugin):
        log = os.path.join(self.log_dir, f"{plugin}.log")
        return self.start(plugin, [TWISTD, "-n", "--logfile", log, "--pidfile", "", plugin, "--config", self.conf,
                                   "--data-dir", self.base])

    def pids(self):
        return {name: process.pid for name, process in self.processes.items()}

    def check_alive(self):
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.log_dir} (--keep keeps it)")

    def stop(self, grace=20):
        start = time.monotonic()
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        killed = []
        for name, process in self.processes.items():
            try:
                process.wait(max(0.1, start + grace - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                killed.append(name)
        return time.monotonic() - start, killed


# Setting up: accounts, seeded instances, images.


def seed_ours(zone, key, count, first, user_data=None):
    """
    Write C{count} running instances of the account of C{key} into the
    cloud database, C{PER_RESERVATION} per reservation.

    @param first: the first instance number (ids are C{i-<hex>}).
    @param user_data: their user data (base64 text), as C{RunInstances}
        keeps it.
    """
    from eucalyptus.services.cc.network import mac_for
    from eucalyptus.services.clc import instances as store
    from eucalyptus.services.clc.db import open_cloud_database
    from eucalyptus.services.clc.tags import resource_tags

    now = datetime.now(timezone.utc)
    node = f"http://127.0.0.1:{zone.settings['NC_PORT']}/{zone.settings['NC_SERVICE']}"
    reservations, rows, groups, tags = [], [], [], []
    for n in range(count):
        batch = n // PER_RESERVATION
        reservation_id = f"r-{first + batch:08x}"
        if n % PER_RESERVATION == 0:
            reservations.append(dict(reservation_id=reservation_id, account_id=key.account_id, requester=key.user_id,
                                     client_token=None, created=now))
        instance_id = f"i-{first + n:08x}"
        rows.append(dict(
            instance_id=instance_id, reservation_id=reservation_id, account_id=key.account_id,
            image_id="emi-0000bee0", kernel_id="eki-0000bee1", ramdisk_id="eri-0000bee2", instance_type="m1.small",
            key_name="bench", zone=ARCHIVE_ZONE, launch_index=n % PER_RESERVATION, state=store.RUNNING, reason="",
            mac=mac_for(instance_id), private_ip=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
            public_ip=f"172.16.{n >> 8 & 255}.{n & 255}", node=node, user_data=user_data, architecture="x86_64",
            launched=now, changed=now, missing_since=None,
        ))
        groups.append(dict(instance_id=instance_id, group_id=f"sg-{first:08x}", group_name="default"))
        tags.append(dict(account_id=key.account_id, resource_id=instance_id, key="Name", value=f"bench-{batch}"))
        tags.append(dict(account_id=key.account_id, resource_id=instance_id, key="group",
                         value="even" if batch % 2 == 0 else "odd"))
    engine = open_cloud_database(zone.database_url)
    with engine.begin() as conn:
        conn.execute(store.reservations.insert(), reservations)
        conn.execute(store.instances.insert(), rows)
        conn.execute(store.instance_groups.insert(), groups)
        conn.execute(resource_tags.insert(), tags)


def seed_moto(client, image_id, count, user_data=None):
    """
    C{RunInstances} of C{PER_RESERVATION} at a time in moto, tagged as ours.

    @return: the seconds it took.
    """
    start = time.monotonic()
    for batch in range(-(-count // PER_RESERVATION)):
        size = min(PER_RESERVATION, count - batch * PER_RESERVATION)
        status, body = client.call("RunInstances", {
            "ImageId": image_id, "MinCount": size, "MaxCount": size, "InstanceType": "m1.small",
            "TagSpecification.1.ResourceType": "instance",
            "TagSpecification.1.Tag.1.Key": "Name", "TagSpecification.1.Tag.1.Value": f"bench-{batch}",
            "TagSpecification.1.Tag.2.Key": "group", "TagSpecification.1.Tag.2.Value": "odd" if batch % 2 else "even",
            **({"UserData": user_data} if user_data else {}),
        })
        if status != 200:
            raise RuntimeError(f"moto RunInstances: {status} {body[:300]!r}")
    return time.monotonic() - start


def register_images(zone, ec2, s3):
    """
    Bundle, upload and register a kernel, a ramdisk and a machine image as
    the cloud administrator (as C{tests/services/clc/test_cloud.py} does).

    @return: the machine image's id.
    """
    settings = zone.settings
    credentials = os.path.join(settings.data_dir, "credentials", ADMIN_USER)
    credential = keys.Credential(
        keys.load_private_key(os.path.join(credentials, f"{ADMIN_USER}-pk.pem")),
        keys.load_certificate(os.path.join(credentials, f"{ADMIN_USER}-cert.pem")),
    )
    cloud_cert = keys.KeyStore(os.path.join(settings.data_dir, "keys")).certificate("cloud")
    account = AccountStore(zone.database_url).keys_of(ADMIN_ACCOUNT)[0].account_id
    work = os.path.join(zone.base, "bundles")
    for _ in range(300):
        try:
            s3.create_bucket(Bucket="images")
            break
        except Exception:
            time.sleep(0.2)
    else:
        raise RuntimeError("Walrus did not start")

    def register(name, kind, **options):
        image = os.path.join(work, name)
        os.makedirs(work, exist_ok=True)
        with open(image, "wb") as f:
            f.write(os.urandom(4096) if kind != "machine" else b"\0" * 1024**2)
        out = os.path.join(work, f"{name}.bundle")
        os.makedirs(out)
        manifest = bundle.make_bundle(image, out, cloud_cert, credential, kind=kind, account=account, **options)
        for filename in sorted(os.listdir(out)):
            s3.upload_file(os.path.join(out, filename), "images", f"{name}/{filename}")
        return ec2.register_image(ImageLocation=f"images/{name}/{os.path.basename(manifest)}", Name=name)["ImageId"]

    eki = register("vmlinuz", "kernel")
    eri = register("initrd", "ramdisk")
    return register("root.img", "machine", kernel_id=eki, ramdisk_id=eri)


def wait_for_room(zone, ec2, seconds=120):
    """
    Wait until the zone is available with room for m1.small (the CLC has
    polled the CC, which has polled the node).
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        zone.check_alive()
        try:
            zones = ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
            small = [z["State"] for z in zones if z["ZoneName"] == "|- m1.small"]
            if zones[0]["State"] == "available" and small and not small[0].startswith("0000"):
                return
        except Exception:
            pass
        time.sleep(0.5)
    raise RuntimeError("the zone never had room for m1.small")


def wait_for_moto(client, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _ = client.call("DescribeRegions")
            if status == 200:
                return
        except OSError:
            client.close()
        if time.monotonic() > deadline:
            raise RuntimeError("moto_server did not start")
        time.sleep(0.2)


# (1) DescribeInstances latency.


_PARSER = create_parser("ec2")


def _count_instances(body):
    """
    The instances botocore reads from a C{DescribeInstances} answer.
    """
    shape = botocore.session.get_session().get_service_model("ec2").operation_model("DescribeInstances").output_shape
    parsed = _PARSER.parse({"body": body, "headers": {}, "status_code": 200}, shape)
    return sum(len(r["Instances"]) for r in parsed["Reservations"])


def _list_all(client):
    """
    One listing of every instance: C{DescribeInstances}, then again with
    each C{NextToken} until there is none (moto answers 100 reservations
    at a time).

    @return: the bodies of the pages.
    """
    bodies, params = [], {}
    while True:
        status, body = client.call("DescribeInstances", params)
        if status != 200:
            raise RuntimeError(f"DescribeInstances: {status} {body[:300]!r}")
        bodies.append(body)
        token = re.search(rb"<nextToken>([^<]+)</nextToken>", body)
        if token is None:
            return bodies
        params = {"NextToken": token.group(1).decode()}


def describe_latency(client, pid, calls, budget):
    """
    Listings of every instance (L{_list_all}) one after another on one
    connection: at most C{calls}, fewer (at least 3) when they would take
    more than C{budget} seconds in all.

    @return: a dict of figures.
    """
    walls, cpus = [], []
    pages = size = count = None
    machine = machine_busy()
    own = sum(os.times()[:2])
    server = cpu_seconds(pid)
    while len(walls) < calls:
        cpu = cpu_seconds(pid)
        start = time.perf_counter()
        bodies = _list_all(client)
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds(pid) - cpu)
        if count is None:
            pages, size, count = len(bodies), sum(map(len, bodies)), sum(map(_count_instances, bodies))
            machine, own, server = machine_busy(), sum(os.times()[:2]), cpu_seconds(pid)
            first = len(walls)
        if len(walls) >= 3 and sum(walls) + statistics.median(walls) > budget:
            break
    # The rest of the machine while the calls after the first (which this
    # process spent parsing) ran: other processes compete for the two cores.
    elapsed = sum(walls[first:])
    server = cpu_seconds(pid) - server
    other = (machine_busy() - machine) - (sum(os.times()[:2]) - own) - server
    later = len(walls) - first
    walls.sort()
    return dict(calls=len(walls), median=statistics.median(walls), p90=percentile(walls, 0.9), best=walls[0],
                cpu=server / later if later else statistics.median(cpus), pages=pages, bytes=size, count=count,
                rss=status_kib(pid, "VmRSS") / 1024, other=max(0.0, other) / elapsed if elapsed else float("nan"))


def _print_latency(rows):
    print("\n(1) DescribeInstances of every instance of an account (all pages), one listing at a time; ms")
    print(f"{'server':>6} | {'instances':>9} | {'seen':>5} | {'pages':>5} | {'calls':>5} | {'median':>8} | "
          f"{'p90':>8} | {'best':>8} | {'server CPU':>10} | {'us/instance':>11} | {'KiB':>6} | {'RSS MiB':>7} | "
          f"{'other cores':>11}")
    for server, n, r in rows:
        print(f"{server:>6} | {n:>9} | {r['count']:>5} | {r['pages']:>5} | {r['calls']:>5} | "
              f"{1000 * r['median']:>8.1f} | {1000 * r['p90']:>8.1f} | {1000 * r['best']:>8.1f} | "
              f"{1000 * r['cpu']:>10.1f} | {1e6 * r['median'] / n:>11.1f} | {r['bytes'] / 1024:>6.0f} | "
              f"{r['rss']:>7.0f} | {r['other']:>11.2f}")


# (2) Throughput.


def throughput(endpoint, credentials, action, params, options, pids, check):
    """
    L{run_load} of one request, the same on every connection.
    """
    body = form_body(action, params)
    return run_load(endpoint, credentials, [[body]] * options.connections, options.processes, options.warmup,
                    options.seconds, pids, check=check)


def _print_throughput(action, rows, zone=None):
    print(f"\n(2) {action}: requests/s at a fixed concurrency; CPU ms per request of each process")
    print(f"{'server':>6} | {'req/s':>7} | {'ok':>6} | {'errors':>6} | {'median ms':>9} | {'p90 ms':>7} | "
          f"{'server':>7} | {'CC':>6} | {'NC':>6} | {'Walrus':>6} | {'load':>6} | {'other':>6} | {'machine':>7} | "
          f"{'busy cores':>10} | {'other cores':>11}")
    for server, result, server_name in rows:
        lat = result.latencies
        per = result.per_request_ms
        daemons = [per(name) if name in result.cpu and server == "ours" else 0.0
                   for name in ("euca-cc", "euca-nc", "euca-walrus")]
        print(f"{server:>6} | {result.rate:>7.1f} | {result.ok:>6} | {sum(result.errors.values()):>6} | "
              f"{1000 * percentile(lat, 0.5):>9.1f} | {1000 * percentile(lat, 0.9):>7.1f} | {per(server_name):>7.2f} | "
              f"{daemons[0]:>6.2f} | {daemons[1]:>6.2f} | {daemons[2]:>6.2f} | {per('load'):>6.2f} | "
              f"{per('other'):>6.2f} | {per('machine'):>7.2f} | {result.cpu['machine'] / result.seconds:>10.2f} | "
              f"{result.cpu['other'] / result.seconds:>11.2f}")
        for status, sample in result.samples:
            print(f"         error {status}: {sample[:300]!r}")
        if server == "ours" and result.errors and zone is not None:
            for line in logged_failures(zone, "euca-clc"):
                print(f"         CLC log: {line}")


_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def logged_failures(zone, name, limit=3):
    """
    The failures a daemon logged (C{... failed} and the last line of the
    traceback after it), for answers that were errors.
    """
    lines = []
    for path in sorted(p for p in os.listdir(zone.log_dir) if p.startswith(f"{name}.log")):
        with open(os.path.join(zone.log_dir, path), encoding="utf-8", errors="replace") as f:
            lines += f.read().splitlines()
    found = []
    for index, line in enumerate(lines):
        if "Traceback" in line or (" failed" in line and "POST" not in line):
            block = [line]
            for after in lines[index + 1:index + 80]:
                if _STAMP.match(after):
                    break
                block.append(after)
            found.append(f"{line[:200]} ... {block[-1].strip()[:300]}")
            if len(found) >= limit:
                break
    return found


def _ids(body):
    return list(dict.fromkeys(re.findall(rb"<instanceId>(i-[0-9a-f]+)</instanceId>", body)))


def terminate_all(client, ids, wait_seconds=0):
    """
    C{TerminateInstances} of C{ids}, 50 per call; then, if asked, wait until
    a C{DescribeInstances} shows none of them pending, running or
    shutting down.

    @return: seconds to the answers, seconds until terminated (or None),
        errors.
    """
    errors = []
    start = time.monotonic()
    for index in range(0, len(ids), 50):
        chunk = ids[index:index + 50]
        status, body = client.call("TerminateInstances",
                                   {f"InstanceId.{n}": i.decode() for n, i in enumerate(chunk, 1)})
        if status != 200:
            errors.append(f"{status}: {body[:200]!r}")
    answered = time.monotonic() - start
    done = None
    while wait_seconds and time.monotonic() - start < wait_seconds:
        status, body = client.call("DescribeInstances")
        states = re.findall(rb"<instanceState><code>\d+</code><name>([a-z-]+)</name>", body)
        if status == 200 and not [s for s in states if s in (b"pending", b"running", b"shutting-down")]:
            done = time.monotonic() - start
            break
        time.sleep(1)
    return answered, done, errors


# The profiles.


PY_SPY = os.path.join(os.path.dirname(sys.executable), "py-spy")


def spy(zone, pid, name, work):
    """
    C{py-spy record} of process C{pid} while C{work()} runs.

    @return: the lines of its summary.
    """
    out = os.path.join(zone.base, f"{name}.pyspy")
    recorder = PySpy(PY_SPY, pid, out).start()
    try:
        work()
    finally:
        recorder.stop()
    if not os.path.exists(out):
        return ["    (py-spy wrote nothing)"]
    total, threads, leaves, inclusive = summarize_profile(out, top=12)
    lines = [f"    {total} samples; by thread: " + ", ".join(f"{t} {n}" for t, n in threads.most_common(4))]
    lines.append("    busiest functions (own samples):")
    lines += [f"      {n:>6} {100 * n / total:5.1f}%  {frame}" for frame, n in leaves]
    lines.append("    inclusive:")
    lines += [f"      {n:>6} {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive]
    return lines



def profile_describe(zone, key, calls=5):
    """
    cProfile one C{DescribeInstances} of the account of C{key}, the CLC
    built in this process and its dispatcher called directly (blocking
    actions inline), after timing C{calls} such calls.

    @return: the median seconds and the profile's text.
    """
    from twisted.internet import defer

    from eucalyptus.services.clc.ec2.actions import ACTIONS
    from eucalyptus.services.clc.ec2.dispatch import Caller, Dispatcher
    from eucalyptus.services.clc.service import make_service

    clc = make_service(zone.settings)
    dispatcher = Dispatcher(ACTIONS, clc.ec2.dispatcher.region, run_in_thread=defer.maybeDeferred, cloud=clc.cloud)
    caller = Caller(key.account_id, key.account_name, key.user_id, key.user_name, key.access_key_id, False)
    params = {"Action": "DescribeInstances", "Version": VERSION}

    def once():
        out = []
        dispatcher.dispatch(caller, "bench", params).addBoth(out.append)
        if not isinstance(out[0], bytes):
            out[0].raiseException()
        return out[0]

    once()
    walls = []
    for _ in range(calls):
        start = time.perf_counter()
        once()
        walls.append(time.perf_counter() - start)
    profiler = cProfile.Profile()
    profiler.enable()
    once()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(r"eucalyptus/|sqlalchemy/engine|lxml", 20)
    return statistics.median(walls), out.getvalue()


def main(options, zone):
    begun = time.monotonic()
    store = AccountStore(zone.database_url)
    admin_key = store.keys_of(ADMIN_ACCOUNT)[0]
    sizes = sorted(set(options.instances) | {options.filter_instances})
    user_data = base64.b64encode(os.urandom(options.user_data)).decode("ascii") if options.user_data else None
    keys_by_size = {}
    for index, size in enumerate(sizes):
        keys_by_size[size] = store.create_account(f"bench{size}")
        seed_ours(zone, keys_by_size[size], size, 0x10000000 * (index + 1), user_data)
    print(f"Seeded {sum(sizes)} instances into the CLC's database ({', '.join(map(str, sizes))}) in "
          f"{time.monotonic() - begun:.1f} s")

    for plugin in ("euca-walrus", "euca-nc", "euca-cc", "euca-clc"):
        zone.start_daemon(plugin)
    zone.start("moto", [MOTO, "-p", str(zone.moto_port)])
    moto_endpoint = lambda region: ("127.0.0.1", zone.moto_port, "/", region)  # noqa: E731
    moto_credentials = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    clc_endpoint = ("127.0.0.1", zone.clc_port, CLC_PATH, "eucalyptus")
    clc_url = f"http://127.0.0.1:{zone.clc_port}{CLC_PATH}"
    boto_options = dict(region_name="eucalyptus", aws_access_key_id=admin_key.access_key_id,
                        aws_secret_access_key=admin_key.secret_key)
    ec2 = boto3.client("ec2", endpoint_url=clc_url, config=Config(retries={"max_attempts": 1}), **boto_options)
    s3 = boto3.client("s3", endpoint_url=zone.walrus_url, config=Config(s3={"addressing_style": "path"}),
                      **boto_options)

    # moto's instances first, while our daemons start.
    moto_image = boto3.client(
        "ec2", endpoint_url=f"http://127.0.0.1:{zone.moto_port}", region_name=MOTO_REGIONS[0],
        aws_access_key_id=moto_credentials[0], aws_secret_access_key=moto_credentials[1],
    )
    wait_for_moto(Client(moto_endpoint(MOTO_REGIONS[0]), moto_credentials))
    ami = moto_image.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    moto_regions = dict(zip(sizes, MOTO_REGIONS))
    for size in sizes:
        seconds = seed_moto(Client(moto_endpoint(moto_regions[size]), moto_credentials), ami, size, user_data)
        print(f"moto: RunInstances of {size} ({PER_RESERVATION} per call) in {moto_regions[size]}: {seconds:.1f} s")

    emi = register_images(zone, ec2, s3)
    wait_for_room(zone, ec2)
    print(f"Zone ready, image {emi} registered, {time.monotonic() - begun:.1f} s after the start")
    pids = zone.pids()

    # (1)
    latency = []
    for size in options.instances:
        client = Client(clc_endpoint, (keys_by_size[size].access_key_id, keys_by_size[size].secret_key))
        latency.append(("ours", size, describe_latency(client, pids["euca-clc"], options.calls, options.budget)))
        client.close()
    for size in options.instances:
        client = Client(moto_endpoint(moto_regions[size]), moto_credentials)
        latency.append(("moto", size, describe_latency(client, pids["moto"], options.calls, options.budget)))
        client.close()
    _print_latency(latency)

    # (2)
    filtered_key = keys_by_size[options.filter_instances]
    cases = [
        ("DescribeRegions", {}, lambda b: b"<regionInfo>" in b,
         (clc_endpoint, (admin_key.access_key_id, admin_key.secret_key)),
         (moto_endpoint(MOTO_REGIONS[0]), moto_credentials)),
        (f"DescribeInstances with 2 filters over {options.filter_instances} instances", FILTERS,
         lambda b: b"<reservationSet>" in b,
         (clc_endpoint, (filtered_key.access_key_id, filtered_key.secret_key)),
         (moto_endpoint(moto_regions[options.filter_instances]), moto_credentials)),
    ]
    ratios = []
    for title, params, check, ours, moto in cases:
        action = title.split()[0]
        rows = []
        for server, (endpoint, credentials), name in (("ours", ours, "euca-clc"), ("moto", moto, "moto")):
            zone.check_alive()
            result = throughput(endpoint, credentials, action, params, options, pids, check)
            rows.append((server, result, name))
        _print_throughput(title, rows, zone)
        ratios.append((title, rows))

    # RunInstances: one untimed launch fills the node's image cache.
    admin_client = Client(clc_endpoint, (admin_key.access_key_id, admin_key.secret_key))
    status, body = admin_client.call("RunInstances", {"ImageId": emi, "MinCount": 1, "MaxCount": 1})
    if status != 200:
        raise RuntimeError(f"RunInstances: {status} {body[:400]!r}")
    time.sleep(2)
    run_params = {"ours": {"ImageId": emi, "MinCount": 1, "MaxCount": 1, "InstanceType": "m1.small"},
                  "moto": {"ImageId": ami, "MinCount": 1, "MaxCount": 1, "InstanceType": "m1.small"}}
    rows = []
    for server, endpoint, credentials, name in (
        ("ours", clc_endpoint, (admin_key.access_key_id, admin_key.secret_key), "euca-clc"),
        ("moto", moto_endpoint(MOTO_RUN_REGION), moto_credentials, "moto"),
    ):
        zone.check_alive()
        result = throughput(endpoint, credentials, "RunInstances", run_params[server], options, pids,
                            lambda b: b"<instanceId>" in b)
        rows.append((server, result, name))
    _print_throughput("RunInstances of 1 m1.small (ours: through the CC and the NC, test hypervisor)", rows, zone)
    ratios.append(("RunInstances", rows))

    if options.profile:
        largest = max(options.instances)
        client = Client(clc_endpoint, (keys_by_size[largest].access_key_id, keys_by_size[largest].secret_key))
        lines = spy(zone, pids["euca-clc"], "describe", lambda: [_list_all(client) for _ in range(5)])
        client.close()
        print(f"\n(3) py-spy of the CLC daemon during 5 DescribeInstances of {largest}:")
        print("\n".join(lines))
        lines = spy(zone, pids["euca-clc"], "run", lambda: throughput(
            clc_endpoint, (admin_key.access_key_id, admin_key.secret_key), "RunInstances", run_params["ours"],
            argparse.Namespace(**dict(vars(options), seconds=5.0, warmup=0.5)), pids, lambda b: b"<instanceId>" in b))
        print(f"\n    py-spy of the CLC daemon during 5 s of RunInstances at {options.connections} connections:")
        print("\n".join(lines))
        median, text = profile_describe(zone, keys_by_size[largest])
        print(f"\n    DescribeInstances of {largest} in this process (dispatcher called directly, no HTTP, no "
              f"signature): median {1000 * median:.1f} ms; cProfile of one more call:")
        print("\n".join("    " + line for line in text.splitlines() if line.strip()))

    ours_ids = [i for body in _list_all(admin_client) for i in _ids(body)]
    answered, done, errors = terminate_all(admin_client, ours_ids, wait_seconds=180)
    print(f"    ours: TerminateInstances of {len(ours_ids)} (50 per call): answered in {answered:.1f} s, all "
          f"terminated {'after %.1f s' % done if done is not None else 'not within 180 s'}; {len(errors)} errors")
    for error in errors[:3]:
        print(f"      {error}")
    moto_client = Client(moto_endpoint(MOTO_RUN_REGION), moto_credentials)
    moto_ids = [i for body in _list_all(moto_client) for i in _ids(body)]
    answered, _, errors = terminate_all(moto_client, moto_ids)
    print(f"    moto: TerminateInstances of {len(moto_ids)}: answered in {answered:.1f} s; {len(errors)} errors")

    print("\nSummary")
    for server, n, r in latency:
        if n == max(options.instances):
            print(f"  DescribeInstances of {n}, {server}: median {1000 * r['median']:.1f} ms, p90 "
                  f"{1000 * r['p90']:.1f} ms, server CPU {1000 * r['cpu']:.1f} ms")
    by = {(s, n): r for s, n, r in latency}
    for n in options.instances:
        if ("ours", n) in by and ("moto", n) in by:
            print(f"  DescribeInstances of {n}: moto/ours latency x{by['moto', n]['median'] / by['ours', n]['median']:.1f}")
    for title, rows in ratios:
        (_, ours, ours_name), (_, moto, moto_name) = rows
        cpu_ratio = moto.per_request_ms(moto_name) / ours.per_request_ms(ours_name)
        print(f"  {title}: ours {ours.rate:.1f}/s, moto {moto.rate:.1f}/s: x{ours.rate / moto.rate:.2f}; server CPU "
              f"per request ours {ours.per_request_ms(ours_name):.2f} ms, moto {moto.per_request_ms(moto_name):.2f} ms "
              f"(moto/ours x{cpu_ratio:.2f})")
    print(f"Whole run: {time.monotonic() - begun:.0f} s")


def _counts(text):
    return [int(word) for word in text.split(",") if word]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=_counts, default=[100, 1000, 5000],
                        help="account sizes for DescribeInstances latency")
    parser.add_argument("--filter-instances", type=int, default=100,
                        help="the account size of the filtered DescribeInstances throughput")
    parser.add_argument("--user-data", type=int, default=1024,
                        help="bytes of user data of each seeded instance (before base64)")
    parser.add_argument("--calls", type=int, default=20, help="DescribeInstances calls per size")
    parser.add_argument("--budget", type=float, default=40.0,
                        help="seconds of DescribeInstances calls per size and server, at least 3 calls")
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per throughput figure")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds before each window")
    parser.add_argument("--processes", type=int, default=3, help="load generator processes")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections in all")
    parser.add_argument("--profile", action="store_true", help="cProfile DescribeInstances at the largest size")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    options = parser.parse_args()
    zone = Zone()
    try:
        main(options, zone)
    finally:
        seconds, killed = zone.stop()
        print(f"Stopped every process in {seconds:.1f} s" + (f"; killed after SIGTERM: {killed}" if killed else ""))
        if options.keep:
            print(f"Kept {zone.base}")
        else:
            shutil.rmtree(zone.base, ignore_errors=True)
