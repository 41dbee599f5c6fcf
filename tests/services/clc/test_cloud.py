"""
The CLC driving a real zone: the C{euca-walrus}, C{euca-clc}, C{euca-cc}
and C{euca-nc} daemons (the NC on libvirt's test driver), bundles uploaded
to Walrus and registered, and instances run, described, stopped, started,
rebooted and terminated through boto3 as a user would.
"""

import os
import tempfile

import boto3
from botocore.config import Config
from twisted.internet import defer, reactor, threads
from twisted.trial.unittest import TestCase

from eucalyptus import bundle
from eucalyptus.accounts import ADMIN_ACCOUNT, ADMIN_USER, AccountStore
from eucalyptus.config import CloudConfig
from eucalyptus.security import keys
from eucalyptus.services.build import endpoint_url
from tests.daemons import Daemons, until

ZONE_SETTINGS = (
    'HYPERVISOR="test"\nVNET_MODE="SYSTEM"\nVNET_BRIDGE=""\nMAX_CORES="4"\nMAX_MEM="2048"\nNC_WORK_SIZE="20480"\n'
    'NC_POLLING_FREQUENCY="1"\nCLC_POLLING_FREQUENCY="1"\nNODES="127.0.0.1"\n'
)


def in_thread(function, *args, **kwargs):
    return threads.deferToThread(function, *args, **kwargs)


class CloudTests(TestCase):
    """
    One zone with one node, driven by the administrators' credentials.
    """

    timeout = 240

    @defer.inlineCallbacks
    def setUp(self):
        self.daemons = Daemons(self, ZONE_SETTINGS)
        settings = self.daemons.settings
        for plugin in ("euca-walrus", "euca-nc", "euca-cc", "euca-clc"):
            self.daemons.start(plugin)
        walrus = f"http://127.0.0.1:{settings['WALRUS_PORT']}"
        yield self.daemons.until_enabled("walrus", f"{walrus}/services/Walrus")
        yield self.daemons.until_enabled("nc", endpoint_url("127.0.0.1", settings["NC_PORT"], settings["NC_SERVICE"]))
        yield self.daemons.until_enabled("cc", endpoint_url("127.0.0.1", settings["CC_PORT"], "axis2/services/EucalyptusCC"))
        clc = endpoint_url("127.0.0.1", settings["CLC_PORT"], "services/Eucalyptus")
        yield self.daemons.until_enabled("clc", clc)
        key = AccountStore(CloudConfig.from_settings(settings).database_url).keys_of(ADMIN_ACCOUNT)[0]
        credentials = os.path.join(settings.data_dir, "credentials", ADMIN_USER)
        self.credential = keys.Credential(
            keys.load_private_key(os.path.join(credentials, f"{ADMIN_USER}-pk.pem")),
            keys.load_certificate(os.path.join(credentials, f"{ADMIN_USER}-cert.pem")),
        )
        self.cloud_cert = keys.KeyStore(os.path.join(settings.data_dir, "keys")).certificate("cloud")
        self.account = key.account_id
        options = dict(region_name="eucalyptus", aws_access_key_id=key.access_key_id,
                       aws_secret_access_key=key.secret_key)
        self.ec2 = boto3.client("ec2", endpoint_url=clc, config=Config(retries={"max_attempts": 1}), **options)
        self.s3 = boto3.client("s3", endpoint_url=walrus, config=Config(s3={"addressing_style": "path"}), **options)
        self.addCleanup(self.ec2.close)
        self.addCleanup(self.s3.close)
        self.work = tempfile.mkdtemp(dir=os.path.abspath(self.mktemp().rsplit("/", 1)[0]))
        yield until(self, "the zone to have room", lambda: in_thread(self._room), 60)

    def _room(self):
        """
        The verbose zone listing shows room for m1.small.
        """
        zones = self.ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
        small = [z["State"] for z in zones if z["ZoneName"] == "|- m1.small"]
        return zones[0]["State"] == "available" and small and not small[0].startswith("0000")

    def _register(self, name, kind, **options):
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

    def _images(self):
        eki = self._register("vmlinuz", "kernel")
        eri = self._register("initrd", "ramdisk")
        return self._register("root.img", "machine", kernel_id=eki, ramdisk_id=eri)

    def _states(self, ids):
        answer = self.ec2.describe_instances(InstanceIds=ids)
        return {i["InstanceId"]: i["State"]["Name"] for r in answer["Reservations"] for i in r["Instances"]}

    def _until_states(self, ids, state, seconds=60):
        return until(self, f"{ids} {state}",
                     lambda: in_thread(self._states, ids).addCallback(lambda s: set(s.values()) == {state}), seconds)

    @defer.inlineCallbacks
    def test_instance_lifecycle(self):
        """
        Run two instances of a registered image with a key pair and a group;
        they go pending then running with the node they run on; console
        output comes from the node; stop, start, reboot and terminate go
        through; terminated instances stay visible.
        """
        emi = yield in_thread(self._images)
        yield in_thread(self.ec2.create_key_pair, KeyName="mine")
        yield in_thread(self.ec2.create_security_group, GroupName="web", Description="web servers")
        answer = yield in_thread(self.ec2.run_instances, ImageId=emi, MinCount=2, MaxCount=2, KeyName="mine",
                                 SecurityGroups=["web"], InstanceType="m1.small", UserData="hello",
                                 ClientToken="first-launch")
        ids = sorted(i["InstanceId"] for i in answer["Instances"])
        self.assertEqual(len(ids), 2)
        self.assertEqual({i["State"]["Name"] for i in answer["Instances"]}, {"pending"})
        self.assertEqual([g["GroupName"] for g in answer["Groups"]], ["web"])
        again = yield in_thread(self.ec2.run_instances, ImageId=emi, MinCount=2, MaxCount=2, KeyName="mine",
                                SecurityGroups=["web"], ClientToken="first-launch")
        self.assertEqual(again["ReservationId"], answer["ReservationId"])
        yield self._until_states(ids, "running")
        described = yield in_thread(self.ec2.describe_instances, Filters=[
            {"Name": "instance-state-name", "Values": ["running"]}, {"Name": "key-name", "Values": ["mine"]}])
        (reservation,) = described["Reservations"]
        self.assertEqual(sorted(i["InstanceId"] for i in reservation["Instances"]), ids)
        console = yield in_thread(self.ec2.get_console_output, InstanceId=ids[0])
        self.assertEqual(console["InstanceId"], ids[0])
        yield in_thread(self.ec2.reboot_instances, InstanceIds=ids)
        stopping = yield in_thread(self.ec2.stop_instances, InstanceIds=[ids[0]])
        self.assertEqual(stopping["StoppingInstances"][0]["CurrentState"]["Name"], "stopping")
        yield self._until_states([ids[0]], "stopped")
        yield in_thread(self.ec2.start_instances, InstanceIds=[ids[0]])
        yield self._until_states([ids[0]], "running")
        done = yield in_thread(self.ec2.terminate_instances, InstanceIds=ids)
        self.assertEqual({t["CurrentState"]["Name"] for t in done["TerminatingInstances"]}, {"shutting-down"})
        yield self._until_states(ids, "terminated")

    @defer.inlineCallbacks
    def test_errors(self):
        """
        The codes EC2 clients expect: an unknown image, instance or key
        pair; more instances than fit.
        """
        emi = yield in_thread(self._images)
        for call, kwargs, code in (
            (self.ec2.run_instances, dict(ImageId="emi-0badf00d", MinCount=1, MaxCount=1), "InvalidAMIID.NotFound"),
            (self.ec2.run_instances, dict(ImageId=emi, MinCount=1, MaxCount=1, KeyName="none"),
             "InvalidKeyPair.NotFound"),
            (self.ec2.run_instances, dict(ImageId=emi, MinCount=50, MaxCount=50), "InsufficientInstanceCapacity"),
            (self.ec2.terminate_instances, dict(InstanceIds=["i-0badf00d"]), "InvalidInstanceID.NotFound"),
        ):
            try:
                yield in_thread(call, **kwargs)
            except self.ec2.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], code, kwargs)
            else:
                self.fail(f"{kwargs} succeeded")
        answer = yield in_thread(self.ec2.describe_instances)
        self.assertEqual(answer["Reservations"], [])
