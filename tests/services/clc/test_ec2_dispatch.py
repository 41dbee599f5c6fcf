# -*- test-case-name: tests.services.clc.test_ec2_dispatch -*-
"""
Tests for L{eucalyptus.services.clc.ec2.dispatch} and the first actions,
L{eucalyptus.services.clc.ec2.regions}, driven with flat parameters as a
request carries them and answered with documents botocore parses.
"""

from botocore.parsers import create_parser
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2 import model
from eucalyptus.services.clc.ec2.actions import ACTIONS
from eucalyptus.services.clc.ec2.dispatch import Caller, Dispatcher, Region, blocking
from eucalyptus.services.clc.ec2.errors import (
    DryRunOperation,
    InvalidAction,
    MissingAction,
    MissingParameter,
    NoSuchVersion,
    UnknownParameter,
    UnsupportedOperation,
)

CALLER = Caller("123456789012", "alice", "AIDA1", "admin", "AKI1")
REGION = Region("eucalyptus", "http://clc.example.com:8773/services/Eucalyptus", ("east", "west"))
VERSION = model.LATEST_VERSION


def inline(function, *args):
    """
    Run a blocking action at once (the dispatcher's C{run_in_thread} in
    tests).
    """
    return defer.maybeDeferred(function, *args)


class DispatcherTests(SynchronousTestCase):
    """
    The dispatcher's checks, in order, and its calling convention.
    """

    def setUp(self):
        self.seen = []
        self.threaded = []

        def in_thread(function, *args):
            self.threaded.append(function.__name__)
            return inline(function, *args)

        def describe_key_pairs(context, params):
            self.seen.append((context, params))
            return {"KeyPairs": [{"KeyName": "k", "KeyFingerprint": "f"}]}

        @blocking
        def describe_volumes(context, params):
            return defer.succeed({"Volumes": []})

        self.dispatcher = Dispatcher(
            {"DescribeKeyPairs": describe_key_pairs, "DescribeVolumes": describe_volumes}, REGION, in_thread
        )

    def dispatch(self, **params):
        return self.dispatcher.dispatch(CALLER, "req-1", params)

    def refused(self, error, **params):
        return self.failureResultOf(self.dispatch(**params), error).value

    def test_answer(self):
        """
        The action gets a context and its parsed input; its result becomes
        the response document.
        """
        document = self.successResultOf(
            self.dispatch(Action="DescribeKeyPairs", Version=VERSION, **{"KeyName.1": "k"})
        )
        context, params = self.seen[0]
        self.assertEqual(params, {"KeyNames": ["k"]})
        self.assertEqual((context.request_id, context.action, context.version), ("req-1", "DescribeKeyPairs", VERSION))
        self.assertIs(context.caller, CALLER)
        self.assertIs(context.region, REGION)
        response = {"body": document, "headers": {}, "status_code": 200}
        parsed = create_parser("ec2").parse(response, model.operation("DescribeKeyPairs").output_shape)
        self.assertEqual(parsed["KeyPairs"], [{"KeyName": "k", "KeyFingerprint": "f"}])
        self.assertEqual(parsed["ResponseMetadata"]["RequestId"], "req-1")

    def test_blocking(self):
        """
        An action marked L{blocking} runs through C{run_in_thread}; the
        others do not.
        """
        self.successResultOf(self.dispatch(Action="DescribeVolumes", Version=VERSION))
        self.successResultOf(self.dispatch(Action="DescribeKeyPairs", Version=VERSION))
        self.assertEqual(self.threaded, ["describe_volumes"])

    def test_action_checks(self):
        """
        No C{Action} is C{MissingAction}; a name EC2 does not have is
        C{InvalidAction}; one it has that the table lacks is
        C{UnsupportedOperation}, before its parameters are looked at.
        """
        self.refused(MissingAction, Version=VERSION)
        error = self.refused(InvalidAction, Action="LaunchRockets", Version=VERSION)
        self.assertIn("LaunchRockets", error.message)
        error = self.refused(UnsupportedOperation, Action="RunInstances", Version=VERSION, Bogus="1")
        self.assertIn("RunInstances", error.message)

    def test_version_checks(self):
        """
        C{Version} is required and must be one this cloud answers; it is
        checked before the action.
        """
        self.refused(MissingParameter, Action="DescribeKeyPairs")
        self.refused(NoSuchVersion, Action="LaunchRockets", Version="2030-01-01")

    def test_input_checks(self):
        """
        The input is checked against the model before the action runs.
        """
        self.refused(UnknownParameter, Action="DescribeKeyPairs", Version=VERSION, Colour="red")
        self.assertEqual(self.seen, [])

    def test_dry_run(self):
        """
        C{DryRun=true} is answered C{DryRunOperation} without running the
        action; C{DryRun=false} runs it.
        """
        self.refused(DryRunOperation, Action="DescribeKeyPairs", Version=VERSION, DryRun="true")
        self.assertEqual(self.seen, [])
        self.successResultOf(self.dispatch(Action="DescribeKeyPairs", Version=VERSION, DryRun="false"))
        self.assertEqual(len(self.seen), 1)

    def test_bad_result(self):
        """
        A result that does not fit the output shape fails the request
        (the resource answers C{InternalError}).
        """
        dispatcher = Dispatcher({"DescribeKeyPairs": lambda c, p: {"Keys": []}}, REGION, inline)
        d = dispatcher.dispatch(CALLER, "r", {"Action": "DescribeKeyPairs", "Version": VERSION})
        self.failureResultOf(d, ValueError)

    def test_table_checked(self):
        """
        A table naming an action EC2 does not have is refused at once.
        """
        self.assertRaises(ValueError, Dispatcher, {"LaunchRockets": lambda c, p: {}}, REGION)


class RegionActionTests(SynchronousTestCase):
    """
    C{DescribeRegions} and C{DescribeAvailabilityZones} through the real
    action table.
    """

    def setUp(self):
        self.dispatcher = Dispatcher(ACTIONS, REGION, inline)

    def call(self, action, **params):
        d = self.dispatcher.dispatch(CALLER, "req", dict(params, Action=action, Version=VERSION))
        response = {"body": self.successResultOf(d), "headers": {}, "status_code": 200}
        return create_parser("ec2").parse(response, model.operation(action).output_shape)

    def refused(self, error, action, **params):
        d = self.dispatcher.dispatch(CALLER, "req", dict(params, Action=action, Version=VERSION))
        return self.failureResultOf(d, error).value

    def test_regions(self):
        """
        One region, C{eucalyptus}, at the CLC's EC2 URL.
        """
        self.assertEqual(
            self.call("DescribeRegions")["Regions"],
            [{"RegionName": "eucalyptus", "Endpoint": REGION.endpoint, "OptInStatus": "opt-in-not-required"}],
        )

    def test_region_names(self):
        """
        C{RegionNames} may name the region; any other name is
        C{InvalidParameterValue}.
        """
        self.assertEqual(len(self.call("DescribeRegions", **{"RegionName.1": "eucalyptus"})["Regions"]), 1)
        error = self.refused(InvalidParameterValue, "DescribeRegions", **{"RegionName.1": "us-east-1"})
        self.assertIn("us-east-1", error.message)

    def test_region_filters(self):
        """
        C{region-name} and C{endpoint} filters.
        """
        regions = self.call("DescribeRegions", **{"Filter.1.Name": "region-name", "Filter.1.Value.1": "euca*"})
        self.assertEqual(len(regions["Regions"]), 1)
        regions = self.call("DescribeRegions", **{"Filter.1.Name": "endpoint", "Filter.1.Value.1": "https://*"})
        self.assertEqual(regions["Regions"], [])
        self.refused(InvalidParameterValue, "DescribeRegions", **{"Filter.1.Name": "colour", "Filter.1.Value.1": "x"})

    def test_zones(self):
        """
        Every zone, available, in the region.
        """
        zones = self.call("DescribeAvailabilityZones")["AvailabilityZones"]
        self.assertEqual([z["ZoneName"] for z in zones], ["east", "west"])
        self.assertEqual({(z["State"], z["RegionName"]) for z in zones}, {("available", "eucalyptus")})

    def test_zone_names(self):
        """
        C{ZoneNames} and C{ZoneIds} select zones; unknown ones are
        C{InvalidParameterValue}.
        """
        zones = self.call("DescribeAvailabilityZones", **{"ZoneName.1": "west"})["AvailabilityZones"]
        self.assertEqual([z["ZoneName"] for z in zones], ["west"])
        zones = self.call("DescribeAvailabilityZones", **{"ZoneId.1": "east"})["AvailabilityZones"]
        self.assertEqual([z["ZoneName"] for z in zones], ["east"])
        error = self.refused(InvalidParameterValue, "DescribeAvailabilityZones", **{"ZoneName.1": "north"})
        self.assertIn("north", error.message)

    def test_zone_filters(self):
        """
        C{zone-name}, C{state} and C{region-name} filters.
        """

        def names(**params):
            return [z["ZoneName"] for z in self.call("DescribeAvailabilityZones", **params)["AvailabilityZones"]]

        self.assertEqual(names(**{"Filter.1.Name": "zone-name", "Filter.1.Value.1": "w*"}), ["west"])
        self.assertEqual(names(**{"Filter.1.Name": "state", "Filter.1.Value.1": "unavailable"}), [])
        self.assertEqual(
            names(
                **{
                    "Filter.1.Name": "region-name",
                    "Filter.1.Value.1": "eucalyptus",
                    "Filter.2.Name": "zone-name",
                    "Filter.2.Value.1": "east",
                    "Filter.2.Value.2": "west",
                }
            ),
            ["east", "west"],
        )
