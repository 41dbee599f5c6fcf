# -*- test-case-name: tests.services.clc.test_cloud,tests.services.clc.test_restart -*-
"""
One zone as real daemons for end-to-end tests of the Cloud Controller: the
C{euca-walrus}, C{euca-nc} (on libvirt's test driver), C{euca-cc} and
C{euca-clc} twistd daemons of L{tests.daemons}, the administrators' boto3
clients, and what a user does before running instances: bundle images,
upload them to Walrus and register them.
"""

import os

import boto3
from botocore.config import Config
from twisted.internet import defer, threads

from eucalyptus import bundle
from eucalyptus.accounts import ADMIN_ACCOUNT, ADMIN_USER, AccountStore
from eucalyptus.config import CloudConfig
from eucalyptus.security import keys
from eucalyptus.services.build import endpoint_url
from tests.daemons import Daemons, until

__all__ = ["ZONE_SETTINGS", "Zone", "in_thread"]

ZONE_SETTINGS = (
    'HYPERVISOR="test"\nVNET_MODE="SYSTEM"\nVNET_BRIDGE=""\nMAX_CORES="4"\nMAX_MEM="2048"\nNC_WORK_SIZE="20480"\n'
    'NC_POLLING_FREQUENCY="1"\nCLC_POLLING_FREQUENCY="1"\nNODES="127.0.0.1"\n'
)

#: The daemons of a zone in the order they start, by component.
PLUGINS = {"walrus": "euca-walrus", "nc": "euca-nc", "cc": "euca-cc", "clc": "euca-clc"}


def in_thread(function, *args, **kwargs):
    """
    Run a blocking client call off the reactor.
    """
    return threads.deferToThread(function, *args, **kwargs)


class Zone:
    """
    A zone's daemons, driven by the administrators' credentials.

    @ivar daemons: the L{Daemons}.
    @ivar settings: their configuration.
    @ivar urls: component to the URL its C{DescribeServices} answers at.
    @ivar processes: component to its running daemon.
    @ivar ec2: a boto3 EC2 client of the CLC; likewise C{s3} of Walrus.
    """

    def __init__(self, testcase):
        self.testcase = testcase
        self.daemons = Daemons(testcase, ZONE_SETTINGS)
        settings = self.settings = self.daemons.settings
        self.walrus_url = f"http://127.0.0.1:{settings['WALRUS_PORT']}"
        self.ec2_url = endpoint_url("127.0.0.1", settings["CLC_PORT"], "services/Eucalyptus")
        self.urls = {
            "walrus": f"{self.walrus_url}/services/Walrus",
            "nc": endpoint_url("127.0.0.1", settings["NC_PORT"], settings["NC_SERVICE"]),
            "cc": endpoint_url("127.0.0.1", settings["CC_PORT"], "axis2/services/EucalyptusCC"),
            "clc": self.ec2_url,
        }
        self.processes = {}
        self.work = os.path.abspath(testcase.mktemp())
        os.makedirs(self.work)

    @defer.inlineCallbacks
    def start(self):
        """
        Start every daemon, wait until each is C{ENABLED}, make the clients,
        and wait until the CLC sees room in the zone for C{m1.small}.
        """
        for component in PLUGINS:
            self.processes[component], _ = self.daemons.start(PLUGINS[component])
        for component in PLUGINS:
            yield self.daemons.until_enabled(component, self.urls[component])
        settings = self.settings
        key = AccountStore(CloudConfig.from_settings(settings).database_url).keys_of(ADMIN_ACCOUNT)[0]
        credentials = os.path.join(settings.data_dir, "credentials", ADMIN_USER)
        self.credential = keys.Credential(
            keys.load_private_key(os.path.join(credentials, f"{ADMIN_USER}-pk.pem")),
            keys.load_certificate(os.path.join(credentials, f"{ADMIN_USER}-cert.pem")),
        )
        self.cloud_cert = keys.KeyStore(os.path.join(settings.data_dir, "keys")).certificate("cloud")
        self.account = key.account_id
        self._options = dict(region_name="eucalyptus", aws_access_key_id=key.access_key_id,
                             aws_secret_access_key=key.secret_key)  # fmt: skip
        self.connect()
        self.s3 = boto3.client("s3", endpoint_url=self.walrus_url, config=Config(s3={"addressing_style": "path"}),
                               **self._options)  # fmt: skip
        self.testcase.addCleanup(self.s3.close)
        yield self.until_room()

    def connect(self):
        """
        A new EC2 client (the one before keeps connections to a CLC that
        may have gone).

        @return: it, also as C{ec2}.
        """
        self.ec2 = boto3.client("ec2", endpoint_url=self.ec2_url, config=Config(retries={"max_attempts": 1}),
                                **self._options)  # fmt: skip
        self.testcase.addCleanup(self.ec2.close)
        return self.ec2

    @defer.inlineCallbacks
    def restart(self, component):
        """
        Start a component's daemon again (after it was stopped or killed)
        and wait until it is C{ENABLED}.
        """
        self.processes[component], _ = self.daemons.start(PLUGINS[component])
        yield self.daemons.until_enabled(component, self.urls[component])

    def room(self):
        """
        Whether the verbose zone listing shows the zone available, with
        room for C{m1.small} (blocking).
        """
        zones = self.ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
        small = [z["State"] for z in zones if z["ZoneName"] == "|- m1.small"]
        return zones[0]["State"] == "available" and small and not small[0].startswith("0000")

    def until_room(self, seconds=60):
        return until(self.testcase, "the zone to have room", lambda: in_thread(self.room), seconds)

    def register(self, name, kind, **options):
        """
        Bundle an image of C{kind}, upload it to Walrus and register it
        (blocking).

        @return: its id.
        """
        image = os.path.join(self.work, name)
        with open(image, "wb") as f:
            f.write(os.urandom(4096) if kind != "machine" else b"\0" * 1024**2)
        out = os.path.join(self.work, f"{name}.bundle")
        os.makedirs(out)
        manifest = bundle.make_bundle(image, out, self.cloud_cert, self.credential, kind=kind, account=self.account,
                                      **options)
        if "images" not in [b["Name"] for b in self.s3.list_buckets()["Buckets"]]:
            self.s3.create_bucket(Bucket="images")
        for filename in sorted(os.listdir(out)):
            self.s3.upload_file(os.path.join(out, filename), "images", f"{name}/{filename}")
        location = f"images/{name}/{os.path.basename(manifest)}"
        return self.ec2.register_image(ImageLocation=location, Name=name)["ImageId"]

    def images(self):
        """
        Register a kernel, a ramdisk and a machine image booting them
        (blocking).

        @return: the machine image's id.
        """
        eki = self.register("vmlinuz", "kernel")
        eri = self.register("initrd", "ramdisk")
        return self.register("root.img", "machine", kernel_id=eki, ramdisk_id=eri)

    def states(self, ids):
        """
        Instance id to state name, for C{ids} (blocking).
        """
        answer = self.ec2.describe_instances(InstanceIds=ids)
        return {i["InstanceId"]: i["State"]["Name"] for r in answer["Reservations"] for i in r["Instances"]}

    def until_states(self, ids, state, seconds=60):
        """
        Wait until every one of C{ids} is in C{state}.
        """
        return until(self.testcase, f"{ids} {state}",
                     lambda: in_thread(self.states, ids).addCallback(lambda s: set(s.values()) == {state}),
                     seconds)  # fmt: skip
