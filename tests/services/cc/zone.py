"""
A whole zone for the CC's end-to-end tests: the real C{euca-walrus},
C{euca-cc} and several C{euca-nc} daemons on libvirt's C{test} driver, each
NC on its own port and instance directory, small images in Walrus, and the
CC driven by signed SOAP as the CLC drives it.
"""

import os
import signal

import boto3
from botocore.config import Config
from twisted.internet import defer, reactor, threads

from eucalyptus import admin
from eucalyptus.accounts import AccountStore
from eucalyptus.config import CloudConfig, config_from_file, set_value
from eucalyptus.services.build import endpoint_url
from eucalyptus.wsdl import cc_types, common
from tests.daemons import Daemons, free_ports, until

__all__ = ["Zone", "CC_PATH", "upload_images", "run_request"]

CC_PATH = "axis2/services/EucalyptusCC"
IMAGES = {"kernel": b"kernel" * 1000, "ramdisk": b"initrd" * 1000, "machine": b"\0" * 1024**2}
IMAGE_IDS = {"kernel": "eki-00000001", "ramdisk": "eri-00000002", "machine": "emi-00000003"}

#: Each NC offers 4 cores, 2 GiB of memory and 20 GiB of disk: room for
#: four of L{SMALL}.
NODE_SETTINGS = 'HYPERVISOR="test"\nMAX_CORES="4"\nMAX_MEM="2048"\nNC_WORK_SIZE="20480"\n'
ZONE_SETTINGS = 'VNET_MODE="SYSTEM"\nVNET_BRIDGE=""\nNC_POLLING_FREQUENCY="1"\nSOAP_TIMEOUT="5"\n' + NODE_SETTINGS


def upload_images(settings, walrus_url):
    """
    Make account C{alice} and put the small images in Walrus (blocking).

    @return: the account id, and role to image URL.
    """
    key = AccountStore(CloudConfig.from_settings(settings).database_url).create_account("alice")
    s3 = boto3.client(
        "s3", endpoint_url=walrus_url, region_name="us-east-1", aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_key, config=Config(s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket="images")
    urls = {}
    for role, data in IMAGES.items():
        s3.put_object(Bucket="images", Key=role, Body=data)
        urls[role] = f"{walrus_url}/images/{role}"
    return key.account_id, urls


def run_request(account, urls, ids, min_count=None):
    """
    A C{RunInstances} request of C{account} for instances C{ids} of type
    C{m1.small} (1 core, 256 MB, 1 GB) from the images at C{urls}.
    """
    vm = common.VirtualMachineType(name="m1.small", memory=256, cores=1, disk=1, virtualBootRecord=[
        common.VirtualBootRecordType(type=role, resourceLocation=url, id=IMAGE_IDS[role], guestDeviceName="none",
                                     size=-1, format="none")
        for role, url in urls.items()
    ])
    return cc_types.RunInstancesType(
        correlationId="run", userId=account, ownerId=account, accountId=account,
        reservationId="r-00000001", imageId=IMAGE_IDS["machine"], kernelId=IMAGE_IDS["kernel"],
        ramdiskId=IMAGE_IDS["ramdisk"], imageURL=urls["machine"], kernelURL=urls["kernel"],
        ramdiskURL=urls["ramdisk"], instanceType=vm, maxCount=len(ids),
        minCount=len(ids) if min_count is None else min_count, instanceIds=list(ids), keyName="",
    )


class Zone:
    """
    The daemons of one zone and a client of its CC.

    @ivar nodes: the C{NODES} entries (C{127.0.0.1:port}), in order.
    @ivar processes: entry to the NC's process.
    """

    def __init__(self, testcase, count=3, extra=""):
        self.testcase = testcase
        self.daemons = Daemons(testcase, ZONE_SETTINGS + extra)
        self.ports = free_ports(count)
        self.nodes = [f"127.0.0.1:{port}" for port in self.ports]
        self.processes = {}
        self._set(NODES=" ".join(self.nodes))
        self.cc_url = endpoint_url("127.0.0.1", self.settings["CC_PORT"], CC_PATH)
        self.walrus_url = f"http://127.0.0.1:{self.settings['WALRUS_PORT']}"
        self.client = None
        self.account = self.urls = None
        self.cc = None

    @property
    def settings(self):
        return self.daemons.settings

    def _set(self, **values):
        with open(self.daemons.conf, encoding="utf-8") as f:
            text = f.read()
        for key, value in values.items():
            text = set_value(text, key, str(value))
        with open(self.daemons.conf, "w", encoding="utf-8") as f:
            f.write(text)
        self.daemons.settings = config_from_file(self.daemons.conf, self.daemons.data)

    def node_url(self, entry):
        host, _, port = entry.partition(":")
        return endpoint_url(host, port, self.settings["NC_SERVICE"])

    @defer.inlineCallbacks
    def start(self):
        """
        Start Walrus with the images, every NC, then the CC; wait until the
        CC is enabled (its first poll is done).
        """
        walrus, _ = self.daemons.start("euca-walrus")
        for entry in self.nodes:
            self.start_node(entry)
        yield self.daemons.until_enabled("walrus", f"{self.walrus_url}/services/Walrus")
        self.account, self.urls = yield threads.deferToThread(upload_images, self.settings, self.walrus_url)
        for entry in self.nodes:
            yield self.daemons.until_enabled("nc", self.node_url(entry))
        yield self.start_cc()

    def start_node(self, entry, data=None):
        """
        Start the NC of C{entry} on its own port and instance directory.
        """
        port = entry.rpartition(":")[2]
        conf = self.daemons.variant(
            f"nc-{port}", NC_PORT=port, INSTANCE_PATH=os.path.join(self.daemons.instances, port)
        )
        self.processes[entry], _ = self.daemons.start("euca-nc", conf, name=f"nc-{port}", data=data)
        return self.processes[entry]

    @defer.inlineCallbacks
    def start_cc(self):
        """
        Start the CC and wait until it is enabled.
        """
        self.cc, _ = self.daemons.start("euca-cc")
        yield self.daemons.until_enabled("cc", self.cc_url)
        if self.client is None:
            self.client = admin.component_client(self.settings, "cc", self.cc_url, reactor, timeout=30)
            self.testcase.addCleanup(self.client.close)

    def run_request(self, ids, min_count=None):
        """
        A C{RunInstances} request for instances C{ids} of type C{m1.small}.
        """
        return run_request(self.account, self.urls, ids, min_count)

    def call(self, operation, request_type, **fields):
        """
        Call the CC as the CLC does.
        """
        return self.client.call(operation, request_type(correlationId="t", userId="eucalyptus", **fields))

    @defer.inlineCallbacks
    def describe(self, ids=()):
        """
        @return: instance id to the URL of its node, as the CC describes.
        """
        answer = yield self.call("DescribeInstances", cc_types.DescribeInstancesType, instanceIds=list(ids))
        return {i.instanceId: i.serviceTag for i in answer.instances or []}

    @defer.inlineCallbacks
    def node_details(self):
        """
        @return: node entry to its state, from the CC's DescribeServices.
        """
        answer = yield self.call("DescribeServices", common.DescribeServicesType)
        details = answer.serviceStatuses[0].details or []
        return {line.split()[1]: line.split()[2].rstrip(":") for line in details}

    def until(self, what, check, seconds=30):
        """
        Wait until C{check()} (which may return a Deferred) is true.
        """
        return until(self.testcase, what, check, seconds)

    def until_node(self, entry, state, seconds=30):
        """
        Wait until the CC reports node C{entry} in C{state}.
        """
        return self.until(
            f"node {entry} {state}", lambda: self.node_details().addCallback(lambda d: d.get(entry) == state), seconds
        )

    def signal(self, entry, number):
        """
        Send signal C{number} to the NC of C{entry}.
        """
        self.processes[entry].send_signal(number)
        if number == signal.SIGSTOP:
            self.testcase.addCleanup(self._continue, self.processes[entry])

    def _continue(self, process):
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
