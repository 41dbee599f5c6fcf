# -*- test-case-name: tests.services.clc.test_iam_walrus -*-
"""
Walrus refuses an access key that IAM made C{Inactive}: its identity
lookup is the same L{eucalyptus.services.walrus.identities.Identities} the
EC2 and IAM APIs use, which treats an inactive key as unknown.
"""

from twisted.internet import defer

from tests.services.clc.ec2_harness import error_of
from tests.services.walrus.harness import WalrusTestCase, in_thread


class InactiveKeyTests(WalrusTestCase):
    """
    S3 requests signed with an inactive key.
    """

    timeout = 120

    @defer.inlineCallbacks
    def test_inactive_key_refused(self):
        """
        A key made C{Inactive} (as C{UpdateAccessKey} does) before Walrus
        reads it is C{InvalidAccessKeyId} (403); another account's active
        key still works.
        """
        bob = self.walrus.keys["bob"]
        yield in_thread(self.walrus.accounts.set_key_status, bob.account_id, "admin", bob.access_key_id, "Inactive")
        code, status = (yield in_thread(error_of, self.walrus.client("bob").list_buckets))[:2]
        self.assertEqual((code, status), ("InvalidAccessKeyId", 403))
        answer = yield in_thread(self.s3.list_buckets)
        self.assertEqual(answer["Buckets"], [])
