"""
The end-to-end tier of the Node Controller: the real C{euca-walrus} and
C{euca-nc} daemons, real libvirtd and qemu (TCG), the offline test image
uploaded to Walrus, and signed SOAP calls as the CC makes them.  A real
guest boots; its marker shows in C{ncGetConsoleOutput}; it reboots; it is
terminated; nothing is left behind.
"""

import base64
import os
import secrets
import time

import boto3
import libvirt
from botocore.config import Config
from twisted.internet import defer, reactor, threads
from twisted.trial.unittest import TestCase

from eucalyptus.accounts import AccountStore
from eucalyptus.config import CloudConfig
from eucalyptus import admin
from eucalyptus.wsdl import common, nc_types as t
from eucalyptus.testimage import build_test_image
from tests.daemons import PROJECT, Daemons, until

MARKER = b"EUCALYPTUS-TEST-IMAGE: booted"
READY = b"EUCALYPTUS-TEST-IMAGE: ready"
#: A fresh instance id per run: libvirtd is the machine's, shared with any
#: other run of this test.
INSTANCE = f"i-{secrets.token_hex(4)}"
#: Where C{make test-image} builds the image (and its package cache).
IMAGES = os.path.join(os.environ.get("EUCALYPTUS_HOME", os.path.join(PROJECT, "var")), "images")
IMAGE_DIR = os.path.join(IMAGES, "test")
IMAGE_IDS = {"kernel": "eki-00000001", "ramdisk": "eri-00000002", "machine": "emi-00000003"}
IMAGE_FILES = {"kernel": "vmlinuz", "ramdisk": "initrd.img", "machine": "root.img"}


def node_client(settings, url):
    """
    A SOAP client of the NC signing as its cluster, as the CC's.
    """
    return admin.component_client(settings, "nc", url, reactor, timeout=60)


class RealBootTests(TestCase):
    """
    One real guest through its whole life.
    """

    timeout = 400

    def setUp(self):
        self.daemons = Daemons(self, 'VNET_BRIDGE=""\nSHUTDOWN_GRACE_PERIOD_SEC="30"\n')
        self.settings = self.daemons.settings
        self.instances = self.daemons.instances
        self.addCleanup(self._no_domain_left)

    def _no_domain_left(self):
        connection = libvirt.open("qemu:///system")
        try:
            for domain in connection.listAllDomains():
                if domain.name() == INSTANCE:
                    domain.destroy()
        finally:
            connection.close()

    def _upload(self):
        build_test_image(IMAGE_DIR, os.path.join(IMAGES, "cache"))
        key = AccountStore(CloudConfig.from_settings(self.settings).database_url).create_account("alice")
        s3 = boto3.client(
            "s3", endpoint_url=self.walrus_url, region_name="us-east-1", aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_key, config=Config(s3={"addressing_style": "path"}),
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                s3.create_bucket(Bucket="images")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        urls = {}
        for role, name in IMAGE_FILES.items():
            s3.upload_file(os.path.join(IMAGE_DIR, name), "images", f"test/{name}")
            urls[role] = f"{self.walrus_url}/images/test/{name}"
        return key.account_id, urls

    def _run_request(self, account, urls):
        vm = common.VirtualMachineType(name="m1.small", memory=256, cores=1, disk=1, virtualBootRecord=[
            common.VirtualBootRecordType(type=role, resourceLocation=url, id=IMAGE_IDS[role], guestDeviceName="none",
                                         size=-1, format="none")
            for role, url in urls.items()
        ])
        return t.NcRunInstanceType(
            correlationId="boot", userId=account, instanceId=INSTANCE, reservationId="r-0badf00d",
            ownerId=account, accountId=account, imageId="emi-test", kernelId="eki-test", ramdiskId="eri-test",
            instanceType=vm, keyName="", netParams=common.NetConfigType(privateMacAddress="d0:0d:0b:ad:f0:0d"),
        )

    def _until(self, what, check, seconds):
        return until(self, what, check, seconds, interval=0.5)

    @defer.inlineCallbacks
    def _state(self, client):
        response = yield client.call("ncDescribeInstances", t.NcDescribeInstancesType(
            correlationId="d", userId="u", instanceIds=[INSTANCE]))
        return response.instances[0].stateName if response.instances else None

    @defer.inlineCallbacks
    def _console(self, client):
        response = yield client.call("ncGetConsoleOutput", t.NcGetConsoleOutputType(
            correlationId="c", userId="u", instanceId=INSTANCE))
        return base64.b64decode(response.consoleOutput)

    @defer.inlineCallbacks
    def test_boot_reboot_terminate(self):
        """
        The guest boots to its marker, its disk counters show in the sensors,
        it reboots (the marker twice), a restarted NC adopts it, and on
        terminate its domain, its disks and its cache references go.
        """
        self.walrus_url = f"http://127.0.0.1:{self.settings['WALRUS_PORT']}"
        nc_url = f"http://127.0.0.1:{self.settings['NC_PORT']}/{self.settings['NC_SERVICE']}"
        self.daemons.start("euca-walrus")
        nc, log = self.daemons.start("euca-nc")
        yield self.daemons.until_enabled("nc", nc_url)
        account, urls = yield threads.deferToThread(self._upload)
        client = node_client(self.settings, nc_url)
        self.addCleanup(client.close)

        response = yield client.call("ncRunInstance", self._run_request(account, urls))
        self.assertEqual(response.instance.stateName, "Pending")
        yield self._until("Extant", lambda: self._state(client).addCallback(lambda s: s == "Extant"), 120)
        # The guest handles the ACPI power button (reboot, shutdown) once it
        # says it is ready.
        console = yield self._until("the guest to be ready", lambda: self._console(client).addCallback(
            lambda text: text if READY in text else None), 120)
        self.assertIn(MARKER, console)
        self.assertIn(f"NC: staging {INSTANCE}".encode(), console)
        self.assertIn(b"EUCALYPTUS-TEST-IMAGE: root", console)

        sensors = yield client.call("ncDescribeSensors", t.NcDescribeSensorsType(
            correlationId="s", userId="u", historySize=10, collectionIntervalTimeMs=5000,
            instanceIds=[INSTANCE], sensorIds=["DiskReadBytes"]))
        (metric,) = sensors.sensorsResources[0].metrics
        self.assertGreater(max(v.value for v in metric.counters[0].dimensions[0].values), 0)
        resources = yield client.call("ncDescribeResource", t.NcDescribeResourceType(correlationId="r", userId="u"))
        self.assertEqual(resources.numberOfCoresAvailable, resources.numberOfCoresMax - 1)
        self.assertEqual(resources.hypervisor, "QEMU")

        reboot = yield client.call("ncRebootInstance", t.NcRebootInstanceType(
            correlationId="b", userId="u", instanceId=INSTANCE))
        self.assertTrue(reboot.status)
        yield self._until("the guest ready after the reboot", lambda: self._console(client).addCallback(
            lambda text: text.count(MARKER) >= 2 and text.count(READY) >= 2), 120)

        # A restarted NC adopts the running guest.
        yield client.close()
        yield self.daemons.stop(nc)
        nc, log = self.daemons.start("euca-nc")
        yield self.daemons.until_enabled("nc", nc_url)
        client = node_client(self.settings, nc_url)
        self.addCleanup(client.close)
        self.assertEqual((yield self._state(client)), "Extant")
        with open(log) as f:
            self.assertIn("adopted 1 instances", f.read())

        terminated = yield client.call("ncTerminateInstance", t.NcTerminateInstanceType(
            correlationId="t", userId="u", instanceId=INSTANCE, force=False))
        self.assertEqual(terminated.previousState, "Extant")
        yield self._until("Teardown", lambda: self._state(client).addCallback(lambda s: s == "Teardown"), 90)
        connection = libvirt.open("qemu:///system")
        self.addCleanup(connection.close)
        self.assertNotIn(INSTANCE, [d.name() for d in connection.listAllDomains()])
        directory = os.path.join(self.instances, "work", account, INSTANCE)
        self.assertEqual(sorted(os.listdir(directory)), ["console.append.log", "console.log"])
        cache = os.path.join(self.instances, "cache")
        self.assertEqual(len(os.listdir(cache)), 3)
        resources = yield client.call("ncDescribeResource", t.NcDescribeResourceType(correlationId="r", userId="u"))
        self.assertEqual(resources.numberOfCoresAvailable, resources.numberOfCoresMax)
        yield self.daemons.stop(nc)
