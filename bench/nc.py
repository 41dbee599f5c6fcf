"""
The Node Controller's figures (issue 4), all in one run:

    .venv/bin/python bench/nc.py [--runs 10] [--cold-mib 256] [--many 100]

(a) With the image cached, the time from C{ncRunInstance} to the qemu
    process running (libvirt reports the domain running), median of
    C{--runs} instances started one after another (target: under 1 s), and
    to the test image's marker on the serial console (qemu TCG).
(b) Cold-cache fetch speed: the NC's own downloader (node-signed GET,
    MD5 and length checked, fsync) against Walrus's GET of the same object
    by a plain HTTP client in the same run.
(c) C{--many} instances asked for at once of an NC on libvirt's
    C{test:///default} driver: instances per second until all are Extant,
    errors, and the NC's memory afterwards.

Real daemons (C{twistd euca-walrus}, C{euca-nc}), real libvirtd and qemu;
needs C{make hypervisor test-image} first (C{make test} does both).
"""

import argparse
import http.client
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
sys.path.insert(0, PROJECT)

import boto3  # noqa: E402
import libvirt  # noqa: E402
from botocore.config import Config  # noqa: E402
from twisted.internet import defer, task, threads  # noqa: E402

from eucalyptus import admin  # noqa: E402
from eucalyptus.accounts import AccountStore  # noqa: E402
from eucalyptus.config import CloudConfig, NodeConfig, config_from_file, data_dir  # noqa: E402
from eucalyptus.security import keys, trust  # noqa: E402
from eucalyptus.services.nc.fetch import Fetcher  # noqa: E402
from eucalyptus.testimage import build_test_image  # noqa: E402
from eucalyptus.wsdl import common, nc_types as t  # noqa: E402
from tests.daemons import free_ports  # noqa: E402

TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")
MARKER = b"EUCALYPTUS-TEST-IMAGE: booted"
IMAGES = os.path.join(data_dir(), "images")
FILES = {"kernel": "vmlinuz", "ramdisk": "initrd.img", "machine": "root.img"}
IDS = {"kernel": "eki-00000001", "ramdisk": "eri-00000002", "machine": "emi-00000003"}


class Cloud:
    """
    A data directory with Walrus and NC daemons.
    """

    def __init__(self, base, extra=""):
        self.base = base
        self.processes = []
        ports = free_ports(3)
        self.conf = os.path.join(base, "eucalyptus.conf")
        with open(self.conf, "w") as f:
            f.write(f'LISTEN_ADDRESS="127.0.0.1"\nWALRUS_PORT="{ports[0]}"\nNC_PORT="{ports[1]}"\n'
                    f'CLC_PORT="{ports[2]}"\nVNET_BRIDGE=""\nSHUTDOWN_GRACE_PERIOD_SEC="5"\n{extra}')
        self.settings = config_from_file(self.conf, base)
        admin.initialise(self.settings, out=io.StringIO())
        self.walrus_url = f"http://127.0.0.1:{ports[0]}"
        self.nc_url = f"http://127.0.0.1:{ports[1]}/{self.settings['NC_SERVICE']}"

    def start(self, plugin, conf=None):
        log = os.path.join(self.base, f"{plugin}-{len(self.processes)}.log")
        process = subprocess.Popen(
            [TWISTD, "-n", "--logfile", log, "--pidfile", "", plugin, "--config", conf or self.conf,
             "--data-dir", self.base],
            cwd=PROJECT, env=dict(os.environ, PYTHONPATH=PROJECT),
        )
        self.processes.append(process)
        return process

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()


@defer.inlineCallbacks
def _until(check, seconds, interval=0.01):
    from twisted.internet import reactor

    deadline = time.monotonic() + seconds
    while True:
        result = yield check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        yield task.deferLater(reactor, interval, lambda: None)


@defer.inlineCallbacks
def _until_ready(client):
    def ready():
        d = client.call("DescribeServices", common.DescribeServicesType(correlationId="b", userId="b"))
        d.addCallback(lambda r: r.serviceStatuses[0].localState == "ENABLED")
        return d.addErrback(lambda f: False)

    yield _until(ready, 120, 0.2)


def _s3(cloud):
    key = AccountStore(CloudConfig.from_settings(cloud.settings).database_url).create_account("bench")
    s3 = boto3.client("s3", endpoint_url=cloud.walrus_url, region_name="us-east-1",
                      aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_key,
                      config=Config(s3={"addressing_style": "path"}))
    for _ in range(300):
        try:
            s3.create_bucket(Bucket="images")
            return key, s3
        except Exception:
            time.sleep(0.2)
    raise RuntimeError("Walrus did not start")


def _upload_test_image(cloud, s3):
    build_test_image(os.path.join(IMAGES, "test"), os.path.join(IMAGES, "cache"))
    urls = {}
    for role, name in FILES.items():
        s3.upload_file(os.path.join(IMAGES, "test", name), "images", f"test/{name}")
        urls[role] = f"{cloud.walrus_url}/images/test/{name}"
    return urls


def _run_request(account, urls, instance_id, memory=256, mac=""):
    vm = common.VirtualMachineType(name="m1.small", memory=memory, cores=1, disk=1, virtualBootRecord=[
        common.VirtualBootRecordType(type=role, resourceLocation=url, id=IDS[role], guestDeviceName="none", size=-1,
                                     format="none") for role, url in urls.items()])
    return t.NcRunInstanceType(
        correlationId="bench", userId=account, instanceId=instance_id, reservationId="r-bench", ownerId=account,
        accountId=account, imageId=IDS["machine"], kernelId=IDS["kernel"], ramdiskId=IDS["ramdisk"],
        instanceType=vm, keyName="", netParams=common.NetConfigType(privateMacAddress=mac),
    )


libvirt.registerErrorHandler(lambda context, error: None, None)


def _domain_running(connection, name):
    try:
        return connection.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_RUNNING
    except libvirt.libvirtError:
        return False


def _marker_seen(path):
    try:
        with open(path, "rb") as f:
            return MARKER in f.read()
    except FileNotFoundError:
        return False


@defer.inlineCallbacks
def boot_times(cloud, client, account, urls, runs):
    """
    (a): run, wait for the domain running and for the marker, terminate.
    """
    connection = libvirt.open("qemu:///system")
    instances = NodeConfig.from_settings(cloud.settings).instance_path
    running, marker = [], []
    for index in range(runs + 1):
        instance_id = f"i-{0xbe000000 + index:08x}"
        console = os.path.join(instances, "work", account, instance_id, "console.log")
        start = time.monotonic()
        yield client.call("ncRunInstance", _run_request(account, urls, instance_id))
        yield _until(lambda: threads.deferToThread(_domain_running, connection, instance_id), 60)
        up = time.monotonic()
        yield _until(lambda: threads.deferToThread(_marker_seen, console), 120, 0.05)
        seen = time.monotonic()
        if index:  # the first run fills the cache
            running.append(up - start)
            marker.append(seen - start)
        yield client.call("ncTerminateInstance", t.NcTerminateInstanceType(
            correlationId="b", userId="b", instanceId=instance_id, force=True))
        yield _until(lambda: threads.deferToThread(lambda: not _domain_running(connection, instance_id)), 60)
    connection.close()
    return running, marker


def _walrus_get(url, destination):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    connection.request("GET", parts.path + "?" + parts.query)
    response = connection.getresponse()
    with open(destination, "wb") as f:
        while True:
            chunk = response.read(1 << 20)
            if not chunk:
                break
            f.write(chunk)
    connection.close()


@defer.inlineCallbacks
def cold_fetch(cloud, s3, size_mib, rounds=3):
    """
    (b): the NC's downloader against a plain GET of the same object.
    """
    from twisted.internet import reactor

    source = os.path.join(cloud.base, "cold.img")
    with open(source, "wb") as f:
        for _ in range(size_mib):
            f.write(os.urandom(1 << 20))
    yield threads.deferToThread(s3.upload_file, source, "images", "cold.img")
    os.unlink(source)
    keystore = keys.KeyStore(os.path.join(cloud.base, "keys"))
    fetcher = Fetcher(trust.own_credential(keystore, "nc", cloud.settings["ZONE"]), reactor=reactor)
    url = f"{cloud.walrus_url}/images/cold.img"
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "images", "Key": "cold.img"})
    nc, walrus = [], []
    for _ in range(rounds):
        destination = os.path.join(cloud.base, "fetched.img")
        start = time.monotonic()
        yield fetcher.fetch(url, destination)
        nc.append(size_mib / (time.monotonic() - start))
        os.unlink(destination)
        start = time.monotonic()
        yield threads.deferToThread(_walrus_get, presigned, destination)
        walrus.append(size_mib / (time.monotonic() - start))
        os.unlink(destination)
    fetcher.close()
    return nc, walrus


def _rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@defer.inlineCallbacks
def many(cloud, account, urls, count):
    """
    (c): C{count} instances at once on the test driver.
    """
    from twisted.internet import reactor

    port = free_ports(1)[0]
    conf = os.path.join(cloud.base, "test-nc.conf")
    with open(cloud.conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text + f'NC_PORT="{port}"\nHYPERVISOR="test"\nINSTANCE_PATH="{cloud.base}/test-instances"\n'
                       'MAX_CORES="100000"\nMAX_MEM="10000000"\nNC_WORK_SIZE="100000000"\n')
    process = cloud.start("euca-nc", conf)
    url = f"http://127.0.0.1:{port}/{cloud.settings['NC_SERVICE']}"
    client = admin.component_client(cloud.settings, "nc", url, reactor, timeout=300)
    yield _until_ready(client)
    ids = [f"i-{0xca000000 + index:08x}" for index in range(count)]
    start = time.monotonic()
    answers = yield defer.DeferredList(
        [client.call("ncRunInstance", _run_request(account, urls, i, memory=128)) for i in ids], consumeErrors=True)
    faults = [f.getErrorMessage() for ok, f in answers if not ok]

    @defer.inlineCallbacks
    def states():
        response = yield client.call("ncDescribeInstances", t.NcDescribeInstancesType(
            correlationId="b", userId="b", instanceIds=[]))
        return [i.stateName for i in response.instances]

    yield _until(lambda: states().addCallback(lambda s: "Pending" not in s), 600, 0.1)
    elapsed = time.monotonic() - start
    final = yield states()
    rss = _rss_mib(process.pid)
    yield client.close()
    return count / elapsed, elapsed, faults, final.count("Extant"), rss


@defer.inlineCallbacks
def main(reactor, options):
    base = tempfile.mkdtemp(prefix="bench-nc-")
    os.chmod(base, 0o755)
    cloud = Cloud(base)
    try:
        cloud.start("euca-walrus")
        cloud.start("euca-nc")
        key, s3 = yield threads.deferToThread(_s3, cloud)
        urls = yield threads.deferToThread(_upload_test_image, cloud, s3)
        client = admin.component_client(cloud.settings, "nc", cloud.nc_url, reactor, timeout=120)
        yield _until_ready(client)
        running, marker = yield boot_times(cloud, client, key.account_id, urls, options.runs)
        print(f"(a) ncRunInstance -> qemu running, image cached: median {statistics.median(running):.3f} s "
              f"(min {min(running):.3f}, max {max(running):.3f}, n={len(running)}; target < 1 s)")
        print(f"    ncRunInstance -> marker on the console (TCG): median {statistics.median(marker):.2f} s "
              f"(min {min(marker):.2f}, max {max(marker):.2f})")
        yield client.close()
        nc, walrus = yield cold_fetch(cloud, s3, options.cold_mib)
        print(f"(b) cold fetch of {options.cold_mib} MiB: NC downloader {statistics.median(nc):.0f} MiB/s, "
              f"Walrus GET {statistics.median(walrus):.0f} MiB/s (medians of {len(nc)}; ratio "
              f"{statistics.median(nc) / statistics.median(walrus):.2f})")
        rate, elapsed, faults, extant, rss = yield many(cloud, key.account_id, urls, options.many)
        print(f"(c) {options.many} instances at once on test:///default: {rate:.1f} instances/s "
              f"({elapsed:.2f} s), {len(faults)} faults, {extant} Extant, NC RSS after {rss:.0f} MiB")
        for fault in faults[:3]:
            print("    fault:", fault)
    finally:
        cloud.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cold-mib", type=int, default=256)
    parser.add_argument("--many", type=int, default=100)
    task.react(main, [parser.parse_args()])
