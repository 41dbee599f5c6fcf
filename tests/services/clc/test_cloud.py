"""
The CLC driving a real zone: the C{euca-walrus}, C{euca-clc}, C{euca-cc}
and C{euca-nc} daemons (the NC on libvirt's test driver), bundles uploaded
to Walrus and registered, and instances run, described, stopped, started,
rebooted and terminated through boto3 as a user would.
"""

from twisted.internet import defer
from twisted.trial.unittest import TestCase

from tests.services.clc.zone_harness import Zone, in_thread


class CloudTests(TestCase):
    """
    One zone with one node, driven by the administrators' credentials.
    """

    timeout = 240

    @defer.inlineCallbacks
    def setUp(self):
        self.zone = Zone(self)
        yield self.zone.start()
        self.ec2 = self.zone.ec2

    @defer.inlineCallbacks
    def test_instance_lifecycle(self):
        """
        Run two instances of a registered image with a key pair and a group;
        they go pending then running with the node they run on; console
        output comes from the node; stop, start, reboot and terminate go
        through; terminated instances stay visible.
        """
        emi = yield in_thread(self.zone.images)
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
        yield self.zone.until_states(ids, "running")
        described = yield in_thread(self.ec2.describe_instances, Filters=[
            {"Name": "instance-state-name", "Values": ["running"]}, {"Name": "key-name", "Values": ["mine"]}])
        (reservation,) = described["Reservations"]
        self.assertEqual(sorted(i["InstanceId"] for i in reservation["Instances"]), ids)
        console = yield in_thread(self.ec2.get_console_output, InstanceId=ids[0])
        self.assertEqual(console["InstanceId"], ids[0])
        yield in_thread(self.ec2.reboot_instances, InstanceIds=ids)
        stopping = yield in_thread(self.ec2.stop_instances, InstanceIds=[ids[0]])
        self.assertEqual(stopping["StoppingInstances"][0]["CurrentState"]["Name"], "stopping")
        yield self.zone.until_states([ids[0]], "stopped")
        yield in_thread(self.ec2.start_instances, InstanceIds=[ids[0]])
        yield self.zone.until_states([ids[0]], "running")
        done = yield in_thread(self.ec2.terminate_instances, InstanceIds=ids)
        self.assertEqual({t["CurrentState"]["Name"] for t in done["TerminatingInstances"]}, {"shutting-down"})
        yield self.zone.until_states(ids, "terminated")

    @defer.inlineCallbacks
    def test_errors(self):
        """
        The codes EC2 clients expect: an unknown image, instance or key
        pair; more instances than fit.
        """
        emi = yield in_thread(self.zone.images)
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
