# -*- test-case-name: tests.services.clc.test_iam_boto3 -*-
"""
The IAM API of a live CLC site driven by boto3's C{iam} client (SigV4 and
SigV2) over real HTTP on loopback: users, access keys, their errors, and
keys made through IAM signing EC2 requests until they are deactivated or
deleted.
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.services.clc.ec2_harness import error_of, in_thread
from tests.services.clc.iam_harness import LiveIam


class UserTests(unittest.TestCase):
    """
    C{CreateUser}, C{GetUser}, C{ListUsers}, C{DeleteUser}.
    """

    timeout = 120

    def setUp(self):
        self.live = LiveIam(self)
        self.iam = self.live.client()

    @defer.inlineCallbacks
    def test_create_get_delete(self):
        """
        A new user answers with its path, id, ARN and date; C{GetUser}
        finds it by name whatever the case, and the caller without a name;
        once deleted it is C{NoSuchEntity}.
        """
        created = (yield in_thread(self.iam.create_user, UserName="alice", Path="/dev/"))["User"]
        self.assertEqual((created["UserName"], created["Path"]), ("alice", "/dev/"))
        self.assertTrue(created["UserId"].startswith("AIDA"))
        self.assertEqual(created["Arn"], f"arn:aws:iam::{self.live.key.account_id}:user/dev/alice")
        self.assertIsNotNone(created["CreateDate"].tzinfo)
        found = (yield in_thread(self.iam.get_user, UserName="ALICE"))["User"]
        self.assertEqual(found, created)
        me = (yield in_thread(self.iam.get_user))["User"]
        self.assertEqual((me["UserName"], me["UserId"]), ("admin", self.live.key.user_id))
        answer = yield in_thread(self.iam.delete_user, UserName="alice")
        self.assertEqual(answer["ResponseMetadata"]["HTTPStatusCode"], 200)
        error = yield in_thread(error_of, self.iam.get_user, UserName="alice")
        self.assertEqual(error[:2], ("NoSuchEntity", 404))
        error = yield in_thread(error_of, self.iam.delete_user, UserName="alice")
        self.assertEqual(error[:2], ("NoSuchEntity", 404))

    @defer.inlineCallbacks
    def test_duplicate(self):
        """
        A second user of the same name, whatever its case, is
        C{EntityAlreadyExists}; the request id of an error is the header's.
        """
        yield in_thread(self.iam.create_user, UserName="bob")
        code, status, message, request_id, header = yield in_thread(error_of, self.iam.create_user, UserName="Bob")
        self.assertEqual((code, status), ("EntityAlreadyExists", 409))
        self.assertIn("Bob", message)
        self.assertEqual(request_id, header)

    @defer.inlineCallbacks
    def test_list_paths_and_pages(self):
        """
        C{ListUsers} lists by name, keeps those under C{PathPrefix}, and
        pages with C{MaxItems} and C{Marker} (boto3's paginator follows).
        """
        for name, path in (("dora", "/ops/"), ("carl", "/ops/night/"), ("erin", "/dev/"), ("abe", "/")):
            yield in_thread(self.iam.create_user, UserName=name, Path=path)
        everyone = (yield in_thread(self.iam.list_users))
        self.assertEqual([u["UserName"] for u in everyone["Users"]], ["abe", "admin", "carl", "dora", "erin"])
        self.assertFalse(everyone["IsTruncated"])
        ops = yield in_thread(self.iam.list_users, PathPrefix="/ops/")
        self.assertEqual([u["UserName"] for u in ops["Users"]], ["carl", "dora"])
        first = yield in_thread(self.iam.list_users, MaxItems=2)
        self.assertEqual(([u["UserName"] for u in first["Users"]], first["IsTruncated"]), (["abe", "admin"], True))
        second = yield in_thread(self.iam.list_users, MaxItems=2, Marker=first["Marker"])
        self.assertEqual([u["UserName"] for u in second["Users"]], ["carl", "dora"])

        def paginate():
            pages = self.iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
            return [u["UserName"] for page in pages for u in page["Users"]]

        self.assertEqual((yield in_thread(paginate)), ["abe", "admin", "carl", "dora", "erin"])
        error = yield in_thread(error_of, self.iam.list_users, Marker="not-a-marker")
        self.assertEqual(error[:2], ("InvalidInput", 400))

    @defer.inlineCallbacks
    def test_admin_user_stays(self):
        """
        The account's C{admin} user cannot be deleted.
        """
        error = yield in_thread(error_of, self.iam.delete_user, UserName="admin")
        self.assertEqual(error[:2], ("DeleteConflict", 409))

    @defer.inlineCallbacks
    def test_unsupported_members(self):
        """
        Tags on a user are refused rather than dropped.
        """
        error = yield in_thread(
            error_of, self.iam.create_user, UserName="tagged", Tags=[{"Key": "team", "Value": "blue"}]
        )
        self.assertEqual(error[:2], ("InvalidInput", 400))
        error = yield in_thread(error_of, self.iam.get_user, UserName="tagged")
        self.assertEqual(error[0], "NoSuchEntity")

    @defer.inlineCallbacks
    def test_sigv2(self):
        """
        The query APIs' signature version 2 signs IAM requests too.
        """
        client = self.live.client(signature_version="v2")
        yield in_thread(client.create_user, UserName="v2user")
        names = [u["UserName"] for u in (yield in_thread(client.list_users))["Users"]]
        self.assertIn("v2user", names)
        wrong = self.live.client(signature_version="v2", key=_wrong(self.live.key))
        error = yield in_thread(error_of, wrong.list_users)
        self.assertEqual(error[:2], ("SignatureDoesNotMatch", 403))

    @defer.inlineCallbacks
    def test_signature_errors(self):
        """
        A wrong secret is C{SignatureDoesNotMatch}, an unknown key
        C{InvalidClientTokenId}, both 403, in IAM's C{ErrorResponse}.
        """
        error = yield in_thread(error_of, self.live.client(key=_wrong(self.live.key)).list_users)
        self.assertEqual(error[:2], ("SignatureDoesNotMatch", 403))
        unknown = {"AccessKeyId": "AKINOSUCHKEY00000000", "SecretAccessKey": "x" * 40}
        error = yield in_thread(error_of, self.live.client(key=unknown).list_users)
        self.assertEqual(error[:2], ("InvalidClientTokenId", 403))


def _wrong(key):
    return {"AccessKeyId": key.access_key_id, "SecretAccessKey": "w" * 40}


class AccessKeyTests(unittest.TestCase):
    """
    C{CreateAccessKey}, C{ListAccessKeys}, C{UpdateAccessKey},
    C{DeleteAccessKey}, and what the keys can sign.
    """

    timeout = 120

    def setUp(self):
        self.live = LiveIam(self)
        self.iam = self.live.client()

    @defer.inlineCallbacks
    def test_lifecycle(self):
        """
        A user gets at most two keys (C{LimitExceeded}); listing shows them
        without secrets; a user with keys cannot be deleted
        (C{DeleteConflict}); C{UpdateAccessKey} deactivates; once its keys
        are deleted the user can be.
        """
        yield in_thread(self.iam.create_user, UserName="kim")
        first = (yield in_thread(self.iam.create_access_key, UserName="kim"))["AccessKey"]
        self.assertEqual((first["UserName"], first["Status"], len(first["SecretAccessKey"])), ("kim", "Active", 40))
        second = (yield in_thread(self.iam.create_access_key, UserName="kim"))["AccessKey"]
        error = yield in_thread(error_of, self.iam.create_access_key, UserName="kim")
        self.assertEqual(error[:2], ("LimitExceeded", 409))
        listed = (yield in_thread(self.iam.list_access_keys, UserName="kim"))["AccessKeyMetadata"]
        self.assertEqual(
            sorted(k["AccessKeyId"] for k in listed), sorted([first["AccessKeyId"], second["AccessKeyId"]])
        )
        self.assertTrue(all("SecretAccessKey" not in k for k in listed))
        error = yield in_thread(error_of, self.iam.delete_user, UserName="kim")
        self.assertEqual(error[:2], ("DeleteConflict", 409))
        yield in_thread(self.iam.update_access_key, UserName="kim", AccessKeyId=first["AccessKeyId"], Status="Inactive")
        listed = (yield in_thread(self.iam.list_access_keys, UserName="kim"))["AccessKeyMetadata"]
        self.assertEqual({k["AccessKeyId"]: k["Status"] for k in listed}[first["AccessKeyId"]], "Inactive")
        for key in (first, second):
            yield in_thread(self.iam.delete_access_key, UserName="kim", AccessKeyId=key["AccessKeyId"])
        error = yield in_thread(error_of, self.iam.delete_access_key, UserName="kim", AccessKeyId=first["AccessKeyId"])
        self.assertEqual(error[:2], ("NoSuchEntity", 404))
        yield in_thread(self.iam.delete_user, UserName="kim")

    @defer.inlineCallbacks
    def test_own_keys(self):
        """
        Without C{UserName}, the key actions work on the caller's own keys:
        the administrator has the key C{init} made and may add one more.
        """
        listed = (yield in_thread(self.iam.list_access_keys))["AccessKeyMetadata"]
        self.assertEqual([(k["UserName"], k["AccessKeyId"]) for k in listed], [("admin", self.live.key.access_key_id)])
        new = (yield in_thread(self.iam.create_access_key))["AccessKey"]
        self.assertEqual(new["UserName"], "admin")
        error = yield in_thread(error_of, self.iam.create_access_key)
        self.assertEqual(error[0], "LimitExceeded")

    @defer.inlineCallbacks
    def test_invalid_values(self):
        """
        What the model forbids is C{ValidationError} (a user name with a
        space: botocore checks no patterns), a status the model has but
        keys here cannot take C{InvalidInput}, an unknown user
        C{NoSuchEntity}.
        """
        code, status, message = (yield in_thread(error_of, self.iam.create_user, UserName="two words"))[:3]
        self.assertEqual((code, status), ("ValidationError", 400))
        self.assertIn("at 'userName' failed to satisfy constraint", message)
        error = yield in_thread(
            error_of, self.iam.update_access_key, AccessKeyId=self.live.key.access_key_id, Status="Expired"
        )
        self.assertEqual(error[:2], ("InvalidInput", 400))
        error = yield in_thread(error_of, self.iam.create_access_key, UserName="nobody")
        self.assertEqual(error[:2], ("NoSuchEntity", 404))

    @defer.inlineCallbacks
    def test_key_signs_ec2_until_deactivated_or_deleted(self):
        """
        A key made through IAM signs EC2's C{DescribeRegions} and IAM
        requests; once C{Inactive} both refuse it at once (EC2
        C{AuthFailure}, IAM C{InvalidClientTokenId}); made C{Active} again
        it works; once deleted it is refused again.
        """
        yield in_thread(self.iam.create_user, UserName="worker")
        key = (yield in_thread(self.iam.create_access_key, UserName="worker"))["AccessKey"]
        ec2, own_iam = self.live.client("ec2", key=key), self.live.client(key=key)
        regions = yield in_thread(ec2.describe_regions)
        self.assertEqual([r["RegionName"] for r in regions["Regions"]], ["eucalyptus"])
        self.assertEqual((yield in_thread(own_iam.get_user))["User"]["UserName"], "worker")

        yield in_thread(
            self.iam.update_access_key, UserName="worker", AccessKeyId=key["AccessKeyId"], Status="Inactive"
        )
        error = yield in_thread(error_of, ec2.describe_regions)
        self.assertEqual(error[:2], ("AuthFailure", 401))
        error = yield in_thread(error_of, own_iam.get_user)
        self.assertEqual(error[:2], ("InvalidClientTokenId", 403))

        yield in_thread(self.iam.update_access_key, UserName="worker", AccessKeyId=key["AccessKeyId"], Status="Active")
        yield in_thread(ec2.describe_regions)

        yield in_thread(self.iam.delete_access_key, UserName="worker", AccessKeyId=key["AccessKeyId"])
        error = yield in_thread(error_of, ec2.describe_regions)
        self.assertEqual(error[:2], ("AuthFailure", 401))
        error = yield in_thread(error_of, own_iam.list_users)
        self.assertEqual(error[:2], ("InvalidClientTokenId", 403))

    @defer.inlineCallbacks
    def test_user_deactivates_own_key(self):
        """
        A user may deactivate the key it signs with; the next request with
        it is refused.
        """
        yield in_thread(self.iam.create_user, UserName="self")
        key = (yield in_thread(self.iam.create_access_key, UserName="self"))["AccessKey"]
        own = self.live.client(key=key)
        yield in_thread(own.update_access_key, AccessKeyId=key["AccessKeyId"], Status="Inactive")
        error = yield in_thread(error_of, own.list_access_keys)
        self.assertEqual(error[0], "InvalidClientTokenId")
