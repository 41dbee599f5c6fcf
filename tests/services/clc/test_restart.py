# -*- test-case-name: tests.services.clc.test_restart -*-
"""
Restarts in a running zone of real daemons (L{zone_harness}): the Cloud
Controller killed outright (SIGKILL, no orderly stop) and started again
loses nothing it acknowledged and goes on working; the Cluster Controller
stopped and started again while the Cloud Controller runs leaves every
instance running in C{DescribeInstances} throughout, however long the
Cloud Controller finds it down or starting.
"""

import signal
import time

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import TestCase

from eucalyptus import admin
from eucalyptus.errors import EucalyptusError
from tests.services.clc.zone_harness import Zone, in_thread

__all__ = []


def _sleep(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


class RestartTests(TestCase):
    """
    One zone with one node, two instances running in it.
    """

    timeout = 300

    @defer.inlineCallbacks
    def setUp(self):
        self.zone = Zone(self)
        yield self.zone.start()
        ec2 = self.zone.ec2
        self.emi = yield in_thread(self.zone.images)
        yield in_thread(ec2.create_key_pair, KeyName="mine")
        yield in_thread(ec2.create_security_group, GroupName="web", Description="web servers")
        answer = yield in_thread(ec2.run_instances, ImageId=self.emi, MinCount=2, MaxCount=2, KeyName="mine",
                                 SecurityGroups=["web"], ClientToken="before-restart")  # fmt: skip
        self.reservation = answer["ReservationId"]
        self.ids = sorted(i["InstanceId"] for i in answer["Instances"])
        yield in_thread(ec2.create_tags, Resources=self.ids, Tags=[{"Key": "role", "Value": "web"}])
        yield self.zone.until_states(self.ids, "running")

    def snapshot(self):
        """
        What the cloud says of everything made so far (blocking): the
        instances (without their launch order), key pairs, groups, images
        and tags.
        """
        ec2 = self.zone.ec2
        instances = {}
        for reservation in ec2.describe_instances()["Reservations"]:
            for instance in reservation["Instances"]:
                instances[instance["InstanceId"]] = (
                    reservation["ReservationId"], instance["State"]["Name"], instance["ImageId"],
                    instance.get("KeyName"), instance.get("PrivateIpAddress"), instance["LaunchTime"],
                    tuple(g["GroupName"] for g in instance["SecurityGroups"]),
                    tuple(sorted((t["Key"], t["Value"]) for t in instance.get("Tags", []))),
                )  # fmt: skip
        return {
            "instances": instances,
            "key pairs": sorted((k["KeyName"], k["KeyFingerprint"]) for k in ec2.describe_key_pairs()["KeyPairs"]),
            "groups": sorted((g["GroupId"], g["GroupName"]) for g in ec2.describe_security_groups()["SecurityGroups"]),
            "images": sorted((i["ImageId"], i["State"]) for i in ec2.describe_images()["Images"]),
            "tags": sorted((t["ResourceId"], t["Key"], t["Value"]) for t in ec2.describe_tags()["Tags"]),
        }

    @defer.inlineCallbacks
    def test_clc_killed(self):
        """
        After SIGKILL and a new start the CLC describes the same instances
        (running, in the same reservation, with their key pair, groups,
        address and tags), key pairs, groups, images and tags; a retried
        launch with the same client token is the same reservation; a new
        launch runs and every instance terminates.
        """
        before = yield in_thread(self.snapshot)
        self.assertEqual({i[1] for i in before["instances"].values()}, {"running"})
        self.assertEqual(sorted(before["instances"]), self.ids)
        ec2 = yield self.kill_clc()
        after = yield in_thread(self.snapshot)
        self.assertEqual(after, before)
        # The zone's instances, as the CLC learns them again from its CC.
        yield self.zone.until_room()
        yield _sleep(3)
        self.assertEqual((yield in_thread(self.snapshot)), before)
        again = yield in_thread(ec2.run_instances, ImageId=self.emi, MinCount=2, MaxCount=2, KeyName="mine",
                                SecurityGroups=["web"], ClientToken="before-restart")  # fmt: skip
        self.assertEqual((again["ReservationId"], sorted(i["InstanceId"] for i in again["Instances"])),
                         (self.reservation, self.ids))  # fmt: skip
        answer = yield in_thread(ec2.run_instances, ImageId=self.emi, MinCount=1, MaxCount=1, KeyName="mine")
        (new,) = [i["InstanceId"] for i in answer["Instances"]]
        self.assertNotIn(new, self.ids)
        yield self.zone.until_states([new], "running")
        done = yield in_thread(ec2.terminate_instances, InstanceIds=[*self.ids, new])
        self.assertEqual({t["CurrentState"]["Name"] for t in done["TerminatingInstances"]}, {"shutting-down"})
        yield self.zone.until_states([*self.ids, new], "terminated")

    @defer.inlineCallbacks
    def kill_clc(self):
        """
        SIGKILL the CLC, wait until it is gone, and start it again.
        """
        process = self.zone.processes["clc"]
        process.send_signal(signal.SIGKILL)
        for _ in range(100):
            if process.poll() is not None:
                break
            yield _sleep(0.1)
        self.assertEqual(process.poll(), -signal.SIGKILL)
        yield self.zone.restart("clc")
        return self.zone.connect()

    @defer.inlineCallbacks
    def test_clc_killed_after_acknowledging(self):
        """
        What the CLC acknowledged just before it was killed is there after
        it starts again: a launch still pending goes on to run, a key pair
        and tags made last are kept.
        """
        ec2 = self.zone.ec2
        answer = yield in_thread(ec2.run_instances, ImageId=self.emi, MinCount=1, MaxCount=1, KeyName="mine")
        (new,) = [i["InstanceId"] for i in answer["Instances"]]
        pair = yield in_thread(ec2.create_key_pair, KeyName="last")
        yield in_thread(ec2.create_tags, Resources=[new], Tags=[{"Key": "made", "Value": "last"}])
        ec2 = yield self.kill_clc()
        states = yield in_thread(self.zone.states, [new, *self.ids])
        self.assertIn(states[new], ("pending", "running"))
        yield self.zone.until_states([new, *self.ids], "running")
        pairs = yield in_thread(ec2.describe_key_pairs, KeyNames=["last"])
        self.assertEqual([k["KeyFingerprint"] for k in pairs["KeyPairs"]], [pair["KeyFingerprint"]])
        tags = yield in_thread(ec2.describe_tags, Filters=[{"Name": "resource-id", "Values": [new]}])
        self.assertEqual([(t["Key"], t["Value"]) for t in tags["Tags"]], [("made", "last")])
        yield in_thread(ec2.terminate_instances, InstanceIds=[new, *self.ids])
        yield self.zone.until_states([new, *self.ids], "terminated")

    def running_throughout(self):
        """
        Check once that every instance is described, running (blocking).
        """
        states = self.zone.states(self.ids)
        self.assertEqual(states, {i: "running" for i in self.ids})

    def zone_state(self):
        """
        The zone's state as the CLC tells it (blocking).
        """
        (zone,) = self.zone.ec2.describe_availability_zones()["AvailabilityZones"]
        return zone["State"]

    @defer.inlineCallbacks
    def watch(self, seconds, until=None):
        """
        Check every half second for C{seconds} that the instances run, or
        until C{until()} fires with something true.

        @return: whether C{until} came true (L{None} without one).
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            yield in_thread(self.running_throughout)
            if until is not None and (yield until()):
                return True
            yield _sleep(0.5)
        return None if until is None else False

    @defer.inlineCallbacks
    def cc_enabled(self):
        """
        Whether the CC answers C{DescribeServices} as C{ENABLED}.
        """
        try:
            statuses = yield admin.describe_services(self.zone.settings, "cc", self.zone.urls["cc"], reactor,
                                                     timeout=2)  # fmt: skip
        except EucalyptusError:
            return False
        return bool(statuses) and statuses[0].localState == "ENABLED"

    @defer.inlineCallbacks
    def test_cc_restarted(self):
        """
        With the CC stopped (SIGTERM) the CLC says the zone is unavailable
        but still describes every instance running; so it does while the CC
        starts again, is C{NOTREADY} and then answers, and for some polls
        after; the CC then terminates them.
        """
        yield self.zone.daemons.stop(self.zone.processes["cc"])
        noticed = yield self.watch(30, lambda: in_thread(self.zone_state).addCallback(lambda s: s != "available"))
        self.assertTrue(noticed, "the CLC never noticed the CC was down")
        # Several of the CLC's polls (one a second) find it down.
        yield self.watch(5)
        self.zone.processes["cc"], _ = self.zone.daemons.start("euca-cc")
        enabled = yield self.watch(60, self.cc_enabled)
        self.assertTrue(enabled, "the CC never came back")
        answered = yield self.watch(30, lambda: in_thread(self.zone_state).addCallback(lambda s: s == "available"))
        self.assertTrue(answered, "the CLC never heard from the CC again")
        yield self.watch(5)
        done = yield in_thread(self.zone.ec2.terminate_instances, InstanceIds=self.ids)
        self.assertEqual({t["CurrentState"]["Name"] for t in done["TerminatingInstances"]}, {"shutting-down"})
        yield self.zone.until_states(self.ids, "terminated")
