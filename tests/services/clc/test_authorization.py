# -*- test-case-name: tests.services.clc.test_authorization -*-
"""
Two accounts on a live Cloud Controller, through boto3: bob can neither
see nor touch anything of alice's (key pairs, security groups, images,
instances, tags), whatever action he tries, and each refusal is the
C{NotFound} error EC2 gives for something that does not exist, word for
word the same as for an id nobody has, so that it does not even tell him
the resource exists.  The cloud administrators see every account's
instances and images when they ask for C{verbose}.

No cluster runs here: alice's images and instances are written straight
into the cloud database (as the metadata tests do), and the zone's CC is a
stand-in that records what it is asked, which for bob must be nothing.
"""

from datetime import datetime, timezone
from types import SimpleNamespace

from twisted.internet import defer
from twisted.trial import unittest

from eucalyptus.services.clc import images
from eucalyptus.services.clc import instances as store
from eucalyptus.services.clc.clusters import Resources
from tests.services.clc.ec2_harness import error_of, in_thread
from tests.services.clc.test_tags import ED25519_PUBLIC, LiveAccounts

__all__ = ["NOW", "insert_image", "insert_instance", "RecordingClusterClient", "enable_zone"]

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


def insert_image(db, image_id, account_id, kind="machine", kernel_id=None, public=False):
    """
    A registered image of C{account_id}, as L{images} keeps it.

    @param db: the cloud database's engine.
    """
    with db.begin() as conn:
        conn.execute(images.images.insert().values(
            image_id=image_id, account_id=account_id, kind=kind, name=image_id, description=None,
            architecture="x86_64", location=f"bucket/{image_id}.manifest.xml",
            manifest_url=f"http://127.0.0.1:1/bucket/{image_id}.manifest.xml", kernel_id=kernel_id,
            ramdisk_id=None, manifest_kernel_id=None, manifest_ramdisk_id=None,
            root_device_name="/dev/sda1" if kind == "machine" else None, block_devices="[]",
            state=images.AVAILABLE, public=public, size=4096, bundled_size=4128, created=NOW, changed=NOW,
        ))  # fmt: skip


def insert_instance(db, instance_id, account_id, image_id, state=store.RUNNING, key_name=None, groups=()):
    """
    An instance of C{account_id} in zone C{east}, in a reservation of its
    own, as the cluster poll would have left it.

    @param groups: the C{(group id, group name)} pairs it is in.
    @return: its reservation id.
    """
    reservation_id = "r-" + instance_id.partition("-")[2]
    with db.begin() as conn:
        conn.execute(store.reservations.insert().values(
            reservation_id=reservation_id, account_id=account_id, requester="AIDA" + account_id, created=NOW,
        ))
        conn.execute(store.instances.insert().values(
            instance_id=instance_id, reservation_id=reservation_id, account_id=account_id, image_id=image_id,
            instance_type="m1.small", key_name=key_name, zone="east", launch_index=0, state=state, reason="",
            mac=None, user_data=None, architecture="x86_64", launched=NOW, changed=NOW,
        ))
        for group_id, group_name in groups:
            conn.execute(store.instance_groups.insert().values(
                instance_id=instance_id, group_id=group_id, group_name=group_name,
            ))
    return reservation_id


class RecordingClusterClient:
    """
    A stand-in for a zone's CC client: it records each call; it answers
    C{RunInstances} by starting C{minCount} of the instances asked for,
    and any other call with an empty answer.

    @ivar calls: C{(operation, request)} pairs, in order.
    @ivar url: where it says the CC is (the administrators' C{verbose}
        zone listing shows it).
    """

    url = "http://cc.invalid:8774/axis2/services/EucalyptusCC"

    def __init__(self):
        self.calls = []

    def call(self, operation, request):
        self.calls.append((operation, request))
        if operation == "RunInstances":
            started = request.instanceIds[: request.minCount]
            return defer.succeed(SimpleNamespace(instances=[SimpleNamespace(instanceId=i) for i in started]))
        return defer.succeed(SimpleNamespace(consoleOutput=""))


def enable_zone(live, available, client):
    """
    Make the zone of a L{tests.services.clc.ec2_harness.LiveCloudController}
    look as a poll leaves it: C{ENABLED}, with room for C{available} more
    C{m1.small} instances, its CC replaced by C{client}.

    @return: the zone's L{eucalyptus.services.clc.clusters.Cluster}.
    """
    cluster = live.service.cloud.clusters[live.settings["ZONE"]]
    cluster.state = "ENABLED"
    cluster.resources = {"m1.small": Resources(available, max(available, 1))}
    cluster.client = client
    return cluster


#: A tag bob tries to put on alice's resources.
_TAG = [{"Key": "k", "Value": "v"}]

#: Ids of each kind that nobody has.
_NOBODYS = {"key": "key-0123456789abcdef0", "sg": "sg-0badf00d", "emi": "emi-0badf00d", "i": "i-0badf00d"}


class AuthorizationTests(unittest.TestCase):
    """
    alice has a key pair, a security group with a rule, a private machine
    image (booting the administrators' public kernel), a running and a
    stopped instance, and tags on all of them; bob has a key pair and a
    machine image of his own, so that only alice's part of a request can
    be what is refused.
    """

    timeout = 120

    @defer.inlineCallbacks
    def setUp(self):
        self.accounts = LiveAccounts(self)
        self.live = self.accounts.live
        self.admin = self.live.client()
        self.alice, self.bob = self.accounts.alice, self.accounts.bob
        for client in (self.admin, self.alice, self.bob):
            self.addCleanup(client.close)
        self.cc = RecordingClusterClient()
        enable_zone(self.live, 4, self.cc)
        self.alice_id = self.accounts.alice_key.account_id
        self.bob_id = self.accounts.bob_key.account_id
        db = self.live.service.cloud.db
        insert_image(db, "eki-00000001", self.live.key.account_id, kind="kernel", public=True)
        insert_image(db, "emi-000a11ce", self.alice_id, kernel_id="eki-00000001")
        insert_image(db, "emi-00000b0b", self.bob_id, kernel_id="eki-00000001")
        key = yield in_thread(self.alice.import_key_pair, KeyName="alice-key", PublicKeyMaterial=ED25519_PUBLIC)
        yield in_thread(self.bob.create_key_pair, KeyName="bob-key")
        group = yield in_thread(self.alice.create_security_group, GroupName="alice-web", Description="alice's")
        yield in_thread(self.alice.authorize_security_group_ingress, GroupId=group["GroupId"], IpProtocol="tcp",
                        FromPort=22, ToPort=22, CidrIp="10.9.8.0/24")  # fmt: skip
        self.key_id, self.fingerprint, self.group_id = key["KeyPairId"], key["KeyFingerprint"], group["GroupId"]
        self.running, self.stopped = "i-000a11ce", "i-0000a11c"
        groups = [(self.group_id, "alice-web")]
        insert_instance(db, self.running, self.alice_id, "emi-000a11ce", key_name="alice-key", groups=groups)
        insert_instance(db, self.stopped, self.alice_id, "emi-000a11ce", state=store.STOPPED, groups=groups)
        self.resources = {"key": self.key_id, "sg": self.group_id, "emi": "emi-000a11ce", "i": self.running}
        yield in_thread(self.alice.create_tags, Resources=list(self.resources.values()) + [self.stopped],
                        Tags=[{"Key": "Name", "Value": "alice-secret"}])  # fmt: skip
        #: What no answer to bob may contain.
        self.secrets = [self.alice_id, "alice-secret", self.fingerprint, "alice's", "10.9.8.0"]

    def hidden(self, code, call, kwargs_for, kind, given=None):
        """
        Call one of bob's client methods on alice's resource of C{kind} and
        on nobody's (blocking): both are refused with C{code} and the same
        words, and nothing of alice's shows.

        @param kwargs_for: the call's parameters for an id.
        @param given: alice's id, if not her resource of C{kind}.
        """
        alice = given or self.resources[kind]
        real = error_of(call, **kwargs_for(alice))
        fake = error_of(call, **kwargs_for(_NOBODYS[kind]))
        self.assertEqual(real[:2], (code, 400), (call.__name__, real))
        self.assertEqual(real[:2], fake[:2], call.__name__)
        self.assertEqual(real[2].replace(alice, "<id>"), fake[2].replace(_NOBODYS[kind], "<id>"), call.__name__)
        self.assertSecretsKept(real[2])

    def assertSecretsKept(self, text):
        for secret in self.secrets:
            self.assertNotIn(secret, str(text))

    def alice_unchanged(self):
        """
        alice still has everything as she made it, and the zone's CC was
        asked nothing (blocking).
        """
        pairs = self.alice.describe_key_pairs()["KeyPairs"]
        self.assertEqual([(k["KeyName"], k["KeyPairId"]) for k in pairs], [("alice-key", self.key_id)])
        (group,) = self.alice.describe_security_groups(GroupIds=[self.group_id])["SecurityGroups"]
        self.assertEqual([(p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]],
                         [(22, ["10.9.8.0/24"])])  # fmt: skip
        (image,) = self.alice.describe_images(ImageIds=["emi-000a11ce"])["Images"]
        self.assertEqual((image["State"], image["Public"]), ("available", False))
        attribute = self.alice.describe_image_attribute(ImageId="emi-000a11ce", Attribute="launchPermission")
        self.assertEqual(attribute["LaunchPermissions"], [])
        answer = self.alice.describe_instances()
        states = {i["InstanceId"]: i["State"]["Name"] for r in answer["Reservations"] for i in r["Instances"]}
        self.assertEqual(states, {self.running: "running", self.stopped: "stopped"})
        tags = self.alice.describe_tags()["Tags"]
        self.assertEqual(sorted(t["ResourceId"] for t in tags), sorted([*self.resources.values(), self.stopped]))
        self.assertEqual({t["Value"] for t in tags}, {"alice-secret"})
        self.assertEqual(self.cc.calls, [])

    def bob_sees_nothing(self):
        """
        bob's listings hold only his own things (blocking).
        """
        answers = [
            self.bob.describe_key_pairs(),
            self.bob.describe_security_groups(),
            self.bob.describe_images(),
            self.bob.describe_images(ExecutableUsers=["all", "self"]),
            self.bob.describe_images(Owners=[self.alice_id]),
            self.bob.describe_instances(),
            self.bob.describe_instance_status(IncludeAllInstances=True),
            self.bob.describe_tags(),
            self.bob.describe_tags(Filters=[{"Name": "resource-id", "Values": list(self.resources.values())}]),
            self.bob.describe_tags(Filters=[{"Name": "value", "Values": ["alice-secret"]}]),
        ]
        for answer in answers:
            answer.pop("ResponseMetadata")
            self.assertSecretsKept(answer)
            for alice in [*self.resources.values(), self.stopped, "alice-key", "alice-web"]:
                self.assertNotIn(alice, str(answer))
        self.assertEqual([k["KeyName"] for k in answers[0]["KeyPairs"]], ["bob-key"])
        self.assertEqual([g["GroupName"] for g in answers[1]["SecurityGroups"]], ["default"])
        self.assertEqual([i["ImageId"] for i in answers[2]["Images"]], ["eki-00000001", "emi-00000b0b"])
        self.assertEqual((answers[4]["Images"], answers[5]["Reservations"], answers[7]["Tags"]), ([], [], []))

    @defer.inlineCallbacks
    def test_listings(self):
        """
        bob's listings show none of alice's key pairs, groups, images,
        instances or tags, however he filters them; asking for
        C{verbose} does not help him.
        """
        yield in_thread(self.bob_sees_nothing)
        code, _, _, _, _ = yield in_thread(error_of, self.bob.describe_images, ImageIds=["verbose"])
        self.assertEqual(code, "InvalidAMIID.Malformed")
        code, _, message, _, _ = yield in_thread(error_of, self.bob.describe_instances, InstanceIds=["verbose"])
        self.assertEqual(code, "InvalidInstanceID.NotFound")
        self.assertSecretsKept(message)

    def _key_pairs(self):
        bob = self.bob
        self.hidden("InvalidKeyPair.NotFound", bob.describe_key_pairs, lambda i: dict(KeyPairIds=[i]), "key")
        self.hidden("InvalidKeyPair.NotFound", bob.describe_key_pairs, lambda n: dict(KeyNames=[n]), "key",
                    given="alice-key")  # fmt: skip
        self.hidden("InvalidKeyPair.NotFound", bob.create_tags,
                    lambda i: dict(Resources=[i], Tags=[{"Key": "Name", "Value": "bob's now"}]), "key")  # fmt: skip
        self.hidden("InvalidKeyPair.NotFound", bob.delete_tags, lambda i: dict(Resources=[i]), "key")
        self.hidden("InvalidKeyPair.NotFound", bob.run_instances,
                    lambda n: dict(ImageId="emi-00000b0b", MinCount=1, MaxCount=1, KeyName=n), "key",
                    given="alice-key")  # fmt: skip
        # As in EC2, deleting a key pair the caller does not have succeeds
        # and changes nothing, for alice's as for nobody's.
        for params in (dict(KeyName="alice-key"), dict(KeyPairId=self.key_id)):
            answer = bob.delete_key_pair(**params)
            self.assertNotIn(self.key_id, str({k: v for k, v in answer.items() if k != "ResponseMetadata"}))
        self.alice_unchanged()

    def test_key_pairs(self):
        """
        bob cannot describe, tag, untag, launch with or delete alice's key
        pair, by name or by id.
        """
        return in_thread(self._key_pairs)

    def _groups(self):
        bob = self.bob
        rule = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        for call, kwargs_for in (
            (bob.describe_security_groups, lambda i: dict(GroupIds=[i])),
            (bob.delete_security_group, lambda i: dict(GroupId=i)),
            (bob.authorize_security_group_ingress, lambda i: dict(GroupId=i, IpPermissions=rule)),
            (bob.authorize_security_group_egress, lambda i: dict(GroupId=i, IpPermissions=rule)),
            (bob.revoke_security_group_ingress,
             lambda i: dict(GroupId=i, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                       "IpRanges": [{"CidrIp": "10.9.8.0/24"}]}])),
            (bob.revoke_security_group_egress,
             lambda i: dict(GroupId=i, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])),
            (bob.create_tags, lambda i: dict(Resources=[i], Tags=_TAG)),
            (bob.delete_tags, lambda i: dict(Resources=[i])),
            (bob.run_instances,
             lambda i: dict(ImageId="emi-00000b0b", MinCount=1, MaxCount=1, SecurityGroupIds=[i])),
        ):  # fmt: skip
            self.hidden("InvalidGroup.NotFound", call, kwargs_for, "sg")
        for call, kwargs_for in (
            (bob.describe_security_groups, lambda n: dict(GroupNames=[n])),
            (bob.delete_security_group, lambda n: dict(GroupName=n)),
            (bob.authorize_security_group_ingress,
             lambda n: dict(GroupName=n, IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="0.0.0.0/0")),
            (bob.revoke_security_group_ingress,
             lambda n: dict(GroupName=n, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="10.9.8.0/24")),
            (bob.run_instances,
             lambda n: dict(ImageId="emi-00000b0b", MinCount=1, MaxCount=1, SecurityGroups=[n])),
        ):  # fmt: skip
            self.hidden("InvalidGroup.NotFound", call, kwargs_for, "sg", given="alice-web")
        # bob's group of the same name is his own, and alice's is untouched.
        mine = bob.create_security_group(GroupName="alice-web", Description="bob's")
        bob.authorize_security_group_ingress(GroupName="alice-web", IpProtocol="tcp", FromPort=80, ToPort=80,
                                             CidrIp="0.0.0.0/0")  # fmt: skip
        bob.delete_security_group(GroupName="alice-web")
        self.assertNotEqual(mine["GroupId"], self.group_id)
        self.alice_unchanged()

    def test_security_groups(self):
        """
        bob cannot describe, delete, authorize into, revoke from, tag,
        untag or launch into alice's security group, by id or by name; a
        group of his own of the same name is his.
        """
        return in_thread(self._groups)

    def _images(self):
        bob = self.bob
        for call, kwargs_for in (
            (bob.describe_images, lambda i: dict(ImageIds=[i])),
            (bob.describe_image_attribute, lambda i: dict(ImageId=i, Attribute="launchPermission")),
            (bob.describe_image_attribute, lambda i: dict(ImageId=i, Attribute="kernel")),
            (bob.modify_image_attribute,
             lambda i: dict(ImageId=i, LaunchPermission={"Add": [{"UserId": self.bob_id}]})),
            (bob.modify_image_attribute,
             lambda i: dict(ImageId=i, LaunchPermission={"Add": [{"Group": "all"}]})),
            (bob.modify_image_attribute, lambda i: dict(ImageId=i, Description={"Value": "x"})),
            (bob.reset_image_attribute, lambda i: dict(ImageId=i, Attribute="launchPermission")),
            (bob.deregister_image, lambda i: dict(ImageId=i)),
            (bob.run_instances, lambda i: dict(ImageId=i, MinCount=1, MaxCount=1)),
            (bob.create_tags, lambda i: dict(Resources=[i], Tags=_TAG)),
            (bob.delete_tags, lambda i: dict(Resources=[i])),
        ):  # fmt: skip
            self.hidden("InvalidAMIID.NotFound", call, kwargs_for, "emi")
        self.alice_unchanged()

    def test_images(self):
        """
        bob cannot describe alice's private image or its attributes, give
        himself or everyone launch permission, change or reset it,
        deregister it, tag it or launch it.
        """
        return in_thread(self._images)

    def _instances(self):
        bob = self.bob
        for call, kwargs_for in (
            (bob.describe_instances, lambda i: dict(InstanceIds=[i])),
            (bob.describe_instance_status, lambda i: dict(InstanceIds=[i])),
            (bob.describe_instance_attribute,
             lambda i: dict(InstanceId=i, Attribute="userData")),
            (bob.terminate_instances, lambda i: dict(InstanceIds=[i])),
            (bob.stop_instances, lambda i: dict(InstanceIds=[i])),
            (bob.reboot_instances, lambda i: dict(InstanceIds=[i])),
            (bob.get_console_output, lambda i: dict(InstanceId=i)),
            (bob.create_tags, lambda i: dict(Resources=[i], Tags=_TAG)),
            (bob.delete_tags, lambda i: dict(Resources=[i])),
        ):  # fmt: skip
            self.hidden("InvalidInstanceID.NotFound", call, kwargs_for, "i")
        for call, kwargs_for in (
            (bob.start_instances, lambda i: dict(InstanceIds=[i])),
            (bob.modify_instance_attribute,
             lambda i: dict(InstanceId=i, InstanceType={"Value": "m1.small"})),
            (bob.terminate_instances, lambda i: dict(InstanceIds=[i])),
        ):  # fmt: skip
            self.hidden("InvalidInstanceID.NotFound", call, kwargs_for, "i", given=self.stopped)
        # One of alice's among bob's own: the whole request is refused.
        reservation = bob.run_instances(ImageId="emi-00000b0b", MinCount=1, MaxCount=1)
        (mine,) = [i["InstanceId"] for i in reservation["Instances"]]
        self.cc.calls.clear()
        code, _, message, _, _ = error_of(bob.terminate_instances, InstanceIds=[mine, self.running])
        self.assertEqual(code, "InvalidInstanceID.NotFound")
        self.assertSecretsKept(message)
        self.assertNotIn(mine, message)
        self.alice_unchanged()

    def test_instances(self):
        """
        bob cannot describe alice's instances, their status or attributes,
        terminate, stop, start, reboot or modify them, read their console
        or tag them; nothing is asked of the zone's CC.
        """
        return in_thread(self._instances)

    def _tags(self):
        bob = self.bob
        guessed = [{"Key": "Name", "Value": "alice-secret"}]
        for kind in self.resources:
            self.hidden(self.not_found(kind), bob.delete_tags, lambda i: dict(Resources=[i], Tags=guessed), kind)
        # A request naming bob's resource and alice's tags neither.
        (mine,) = [k["KeyPairId"] for k in bob.describe_key_pairs()["KeyPairs"]]
        code, _, message, _, _ = error_of(bob.create_tags, Resources=[mine, self.running],
                                          Tags=[{"Key": "owner", "Value": "bob"}])  # fmt: skip
        self.assertEqual(code, "InvalidInstanceID.NotFound")
        self.assertEqual(bob.describe_tags()["Tags"], [])
        self.bob_sees_nothing()
        self.alice_unchanged()

    @staticmethod
    def not_found(kind):
        return {"key": "InvalidKeyPair.NotFound", "sg": "InvalidGroup.NotFound", "emi": "InvalidAMIID.NotFound",
                "i": "InvalidInstanceID.NotFound"}[kind]  # fmt: skip

    def test_tags(self):
        """
        bob cannot delete alice's tags (by key and value, which he might
        guess) on any kind of resource; a request tagging his resource and
        hers tags neither.
        """
        return in_thread(self._tags)

    def _administrators(self):
        answer = self.admin.describe_instances()
        self.assertEqual(answer["Reservations"], [])
        answer = self.admin.describe_instances(InstanceIds=["verbose"])
        owners = {i["InstanceId"]: r["OwnerId"] for r in answer["Reservations"] for i in r["Instances"]}
        self.assertEqual(owners, {self.running: self.alice_id, self.stopped: self.alice_id})
        answer = self.admin.describe_instances(InstanceIds=["verbose", self.running])
        self.assertEqual([i["InstanceId"] for r in answer["Reservations"] for i in r["Instances"]], [self.running])
        answer = self.admin.describe_images()
        self.assertEqual([i["ImageId"] for i in answer["Images"]], ["eki-00000001"])
        answer = self.admin.describe_images(ImageIds=["verbose"])
        owners = {i["ImageId"]: i["OwnerId"] for i in answer["Images"]}
        self.assertEqual(owners, {"eki-00000001": self.live.key.account_id, "emi-000a11ce": self.alice_id,
                                  "emi-00000b0b": self.bob_id})  # fmt: skip
        answer = self.admin.describe_images(ImageIds=["verbose"], Owners=[self.alice_id])
        self.assertEqual([i["ImageId"] for i in answer["Images"]], ["emi-000a11ce"])

    def test_administrators_verbose(self):
        """
        The administrators' own listings hold only their own instances and
        the images they may launch; with C{verbose}, every account's
        instances (with their owners) and images.
        """
        return in_thread(self._administrators)
