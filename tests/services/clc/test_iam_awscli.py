# -*- test-case-name: tests.services.clc.test_iam_awscli -*-
"""
The IAM API through the aws CLI, as a user drives it: C{aws iam ...} in a
real subprocess against a live site, with the key C{euca-admin init} made.
"""

import json
import os
import sys

from twisted.internet import defer, utils
from twisted.trial import unittest

from tests.services.clc.ec2_harness import cli_environment
from tests.services.clc.iam_harness import LiveIam

AWS = os.path.join(os.path.dirname(sys.executable), "aws")


class AwsCliTests(unittest.TestCase):
    """
    C{aws iam create-user} and C{list-users}.
    """

    timeout = 120

    def setUp(self):
        self.live = LiveIam(self)
        self.home = os.path.abspath(self.mktemp())
        os.makedirs(self.home)

    def run_aws(self, *args):
        """
        Run C{aws --endpoint-url <IAM URL> <args>}.

        @return: a Deferred of C{(stdout, stderr, exit code)} as text.
        """
        argv = ["--endpoint-url", self.live.iam_url, "--output", "json", *args]
        env = cli_environment(self.live.key, self.home)
        d = utils.getProcessOutputAndValue(AWS, argv, env=env, path=self.home)
        return d.addCallback(lambda result: (result[0].decode(), result[1].decode(), result[2]))

    @defer.inlineCallbacks
    def test_users(self):
        """
        A user made with C{aws iam create-user} is listed by
        C{aws iam list-users}; a second is refused with IAM's code.
        """
        out, err, code = yield self.run_aws("iam", "create-user", "--user-name", "cli-user", "--path", "/cli/")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["User"]["Path"], "/cli/")
        out, err, code = yield self.run_aws("iam", "list-users")
        self.assertEqual(code, 0, err)
        self.assertEqual([u["UserName"] for u in json.loads(out)["Users"]], ["admin", "cli-user"])
        out, err, code = yield self.run_aws("iam", "create-user", "--user-name", "cli-user")
        self.assertNotEqual(code, 0)
        self.assertIn("EntityAlreadyExists", err)
