# -*- test-case-name: tests.services.clc.test_ec2_awscli -*-
"""
The EC2 Query API through the aws CLI, as a user drives it: C{aws ec2 ...}
in a real subprocess against a live Cloud Controller, with the key
C{euca-admin init} made.
"""

import json
import os
import sys

from twisted.internet import defer, utils
from twisted.trial import unittest

from tests.services.clc.ec2_harness import LiveCloudController

AWS = os.path.join(os.path.dirname(sys.executable), "aws")


class AwsCliTests(unittest.TestCase):
    """
    C{aws ec2 describe-regions} and C{describe-availability-zones}.
    """

    timeout = 120

    def setUp(self):
        self.live = LiveCloudController(self)
        self.home = os.path.abspath(self.mktemp())
        os.makedirs(self.home)

    def run_aws(self, *args, endpoint=None):
        """
        Run C{aws --endpoint-url <endpoint> <args>}.

        @return: a Deferred of C{(stdout, stderr, exit code)} as text.
        """
        argv = ["--endpoint-url", endpoint or self.live.ec2_url, "--output", "json", *args]
        d = utils.getProcessOutputAndValue(AWS, argv, env=self.live.environment(self.home), path=self.home)
        return d.addCallback(lambda result: (result[0].decode(), result[1].decode(), result[2]))

    @defer.inlineCallbacks
    def aws(self, *args, endpoint=None):
        """
        Run C{aws}; fail the test with its output if it fails; parse its
        JSON.
        """
        out, err, code = yield self.run_aws(*args, endpoint=endpoint)
        if code != 0:
            self.fail(f"aws {' '.join(args)} exited {code}:\n{out}\n{err}")
        return json.loads(out)

    @defer.inlineCallbacks
    def test_describe_regions(self):
        """
        The region and its endpoint, at C{/services/Eucalyptus} and at C{/}.
        """
        for endpoint in (self.live.ec2_url, self.live.url):
            answer = yield self.aws("ec2", "describe-regions", endpoint=endpoint)
            self.assertEqual([r["RegionName"] for r in answer["Regions"]], ["eucalyptus"])
            self.assertTrue(answer["Regions"][0]["Endpoint"].endswith("/services/Eucalyptus"))

    @defer.inlineCallbacks
    def test_describe_availability_zones(self):
        """
        The configured zone (its cluster answering), selected by name and by
        filter.
        """
        self.live.service.cloud.clusters["east"].state = "ENABLED"
        answer = yield self.aws(
            "ec2", "describe-availability-zones", "--zone-names", "east", "--filters", "Name=state,Values=available"
        )
        self.assertEqual([(z["ZoneName"], z["State"]) for z in answer["AvailabilityZones"]], [("east", "available")])

    @defer.inlineCallbacks
    def test_error(self):
        """
        An unknown zone fails the command with EC2's code and message.
        """
        out, err, code = yield self.run_aws("ec2", "describe-availability-zones", "--zone-names", "nowhere")
        self.assertNotEqual(code, 0)
        self.assertIn("InvalidParameterValue", err)
        self.assertIn("nowhere", err)
