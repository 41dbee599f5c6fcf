# -*- test-case-name: tests.services.clc.test_ec2_daemon -*-
"""
The EC2 Query API of the real daemon: C{twistd -n eucalyptus} (the whole
cloud in one process, where the CLC's port also carries Walrus), driven by
the aws CLI with the administrators' key.
"""

import json
import os
import sys

from twisted.internet import defer, utils
from twisted.trial.unittest import TestCase

from tests.daemons import Daemons
from tests.services.clc.ec2_harness import admin_key, cli_environment

AWS = os.path.join(os.path.dirname(sys.executable), "aws")


class AllInOneTests(TestCase):
    """
    C{aws ec2} against C{twistd -n eucalyptus}.
    """

    timeout = 120

    @defer.inlineCallbacks
    def test_describe(self):
        """
        Once the CLC answers its signed SOAP C{DescribeServices} at
        C{/services/Eucalyptus}, C{aws ec2 describe-regions} and
        C{describe-availability-zones} answer at the same URL, C{EC2_URL}.
        """
        daemons = Daemons(self)
        settings = daemons.settings
        process, log = daemons.start("eucalyptus")
        url = f"http://127.0.0.1:{settings['CLC_PORT']}/services/Eucalyptus"
        yield daemons.until_enabled("clc", url)
        home = os.path.abspath(self.mktemp())
        os.makedirs(home)
        env = cli_environment(admin_key(settings), home)
        answers = {}
        for command in ("describe-regions", "describe-availability-zones"):
            out, err, code = yield utils.getProcessOutputAndValue(
                AWS, ["--endpoint-url", url, "--output", "json", "ec2", command], env=env, path=home
            )
            self.assertEqual(code, 0, err.decode())
            answers[command] = json.loads(out)
        self.assertEqual(answers["describe-regions"]["Regions"][0]["Endpoint"], url)
        zones = answers["describe-availability-zones"]["AvailabilityZones"]
        self.assertEqual([(z["ZoneName"], z["State"]) for z in zones], [(settings["ZONE"], "available")])
        yield daemons.stop(process)
