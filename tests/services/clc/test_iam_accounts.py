# -*- test-case-name: tests.services.clc.test_iam_accounts -*-
"""
Eucalyptus's account actions on a live IAM site (C{CreateAccount},
C{ListAccounts}, C{DelegateAccount}: raw requests signed with SigV4, since
boto3's model lacks them), and the wall between accounts: one account's
users never see, change or use another's users and keys.
"""

import urllib.error
import urllib.request

from botocore import parsers
from lxml import etree
from twisted.internet import defer
from twisted.trial import unittest

from eucalyptus.services.clc.iam import model
from tests.services.clc.ec2_harness import error_of, in_thread
from tests.services.clc.iam_harness import LiveIam, signed_post, text_at

_VERSION = {"Version": model.VERSION}


class AccountTests(unittest.TestCase):
    """
    C{CreateAccount} and C{ListAccounts}, the administrators' alone.
    """

    timeout = 120

    def setUp(self):
        self.live = LiveIam(self)

    def post(self, params, key=None):
        return in_thread(signed_post, self.live.iam_url, key or self.live.key, dict(params, **_VERSION))

    @defer.inlineCallbacks
    def test_create_account(self):
        """
        C{CreateAccount} answers the new account's name and 12-digit id in
        the document euca2ools reads (botocore's query parser reads it back
        with this cloud's model); the account has its C{admin} user and no
        key; a second account of that name is C{EntityAlreadyExists}.
        """
        status, root = yield self.post({"Action": "CreateAccount", "AccountName": "acme"})
        self.assertEqual(status, 200)
        account_id = text_at(root, "CreateAccountResult/Account/AccountId")
        self.assertEqual(text_at(root, "CreateAccountResult/Account/AccountName"), "acme")
        self.assertRegex(account_id, r"^\d{12}$")
        self.assertEqual(len(text_at(root, "ResponseMetadata/RequestId")), 36)
        parsed = parsers.QueryParser().parse(
            {"body": etree.tostring(root), "headers": {}, "status_code": 200},
            model.operation("CreateAccount").output_shape,
        )
        self.assertEqual(parsed["Account"], {"AccountName": "acme", "AccountId": account_id})
        users = yield in_thread(self.live.accounts.users_of, account_id)
        self.assertEqual([u.name for u in users], ["admin"])
        self.assertEqual((yield in_thread(self.live.accounts.user_keys, account_id, "admin")), [])

        status, root = yield self.post({"Action": "CreateAccount", "AccountName": "acme"})
        self.assertEqual((status, text_at(root, "Error/Code")), (409, "EntityAlreadyExists"))
        self.assertEqual(text_at(root, "Error/Type"), "Sender")

    @defer.inlineCallbacks
    def test_list_accounts(self):
        """
        C{ListAccounts} lists every account by name.
        """
        yield self.post({"Action": "CreateAccount", "AccountName": "zeta"})
        status, root = yield self.post({"Action": "ListAccounts"})
        self.assertEqual(status, 200)
        names = [m.findtext(f"{{{model.NAMESPACE}}}AccountName") for m in root.iter(f"{{{model.NAMESPACE}}}member")]
        self.assertEqual(names, ["eucalyptus", "zeta"])

    @defer.inlineCallbacks
    def test_invalid_name(self):
        """
        An account name that is not lower-case letters, digits and hyphens
        is C{ValidationError}; no name is C{MissingParameter}.
        """
        status, root = yield self.post({"Action": "CreateAccount", "AccountName": "Upper_Case"})
        self.assertEqual((status, text_at(root, "Error/Code")), (400, "ValidationError"))
        status, root = yield self.post({"Action": "CreateAccount"})
        self.assertEqual((status, text_at(root, "Error/Code")), (400, "MissingParameter"))

    @defer.inlineCallbacks
    def test_protocol_errors(self):
        """
        An unsigned request is C{MissingAuthenticationToken}, an action IAM
        does not have C{InvalidAction}, another version C{InvalidAction}.
        """

        def unsigned():
            try:
                urllib.request.urlopen(self.live.iam_url + "?Action=ListUsers&Version=2010-05-08")
            except urllib.error.HTTPError as e:
                return e.code, etree.fromstring(e.read())

        status, root = yield in_thread(unsigned)
        self.assertEqual((status, text_at(root, "Error/Code")), (403, "MissingAuthenticationToken"))
        status, root = yield self.post({"Action": "LaunchRockets"})
        self.assertEqual((status, text_at(root, "Error/Code")), (400, "InvalidAction"))
        status, root = yield in_thread(
            signed_post, self.live.iam_url, self.live.key, {"Action": "ListUsers", "Version": "2016-11-15"}
        )
        self.assertEqual((status, text_at(root, "Error/Code")), (400, "InvalidAction"))

    @defer.inlineCallbacks
    def test_delegate(self):
        """
        An administrator acts as another account's C{admin} with
        C{DelegateAccount} (by name or id): here making that admin's first
        key, with which the account then works on its own.
        """
        status, root = yield self.post({"Action": "CreateAccount", "AccountName": "newco"})
        account_id = text_at(root, "CreateAccountResult/Account/AccountId")
        status, root = yield self.post({"Action": "CreateAccessKey", "DelegateAccount": "newco"})
        self.assertEqual(status, 200)
        key = {
            "AccessKeyId": text_at(root, "CreateAccessKeyResult/AccessKey/AccessKeyId"),
            "SecretAccessKey": text_at(root, "CreateAccessKeyResult/AccessKey/SecretAccessKey"),
        }
        self.assertEqual(text_at(root, "CreateAccessKeyResult/AccessKey/UserName"), "admin")
        status, root = yield self.post({"Action": "CreateUser", "UserName": "hire", "DelegateAccount": account_id})
        self.assertEqual(text_at(root, "CreateUserResult/User/Arn"), f"arn:aws:iam::{account_id}:user/hire")
        newco = self.live.client(key=key)
        me = (yield in_thread(newco.get_user))["User"]
        self.assertEqual(me["Arn"], f"arn:aws:iam::{account_id}:user/admin")
        self.assertEqual([u["UserName"] for u in (yield in_thread(newco.list_users))["Users"]], ["admin", "hire"])
        status, root = yield self.post({"Action": "ListUsers", "DelegateAccount": "nowhere"})
        self.assertEqual((status, text_at(root, "Error/Code")), (404, "NoSuchEntity"))


class IsolationTests(unittest.TestCase):
    """
    Two accounts, each with a user and a key: neither sees, changes or
    uses the other's.
    """

    timeout = 120

    @defer.inlineCallbacks
    def setUp(self):
        self.live = LiveIam(self)
        self.clients = {}
        self.keys = {}
        for account in ("red", "blue"):
            yield in_thread(
                signed_post, self.live.iam_url, self.live.key,
                {"Action": "CreateAccount", "AccountName": account, **_VERSION},
            )
            status, root = yield in_thread(
                signed_post, self.live.iam_url, self.live.key,
                {"Action": "CreateAccessKey", "DelegateAccount": account, **_VERSION},
            )
            key = {
                "AccessKeyId": text_at(root, "CreateAccessKeyResult/AccessKey/AccessKeyId"),
                "SecretAccessKey": text_at(root, "CreateAccessKeyResult/AccessKey/SecretAccessKey"),
            }
            client = self.live.client(key=key)
            yield in_thread(client.create_user, UserName=f"{account}-user")
            self.keys[account] = (yield in_thread(client.create_access_key, UserName=f"{account}-user"))["AccessKey"]
            self.clients[account] = client

    @defer.inlineCallbacks
    def test_users_unseen(self):
        """
        An account lists only its own users; another's user, by name, is
        C{NoSuchEntity} to get, delete, list keys of or make keys for.
        """
        red = self.clients["red"]
        names = [u["UserName"] for u in (yield in_thread(red.list_users))["Users"]]
        self.assertEqual(names, ["admin", "red-user"])
        for call, kwargs in (
            (red.get_user, {}),
            (red.delete_user, {}),
            (red.list_access_keys, {}),
            (red.create_access_key, {}),
        ):
            error = yield in_thread(error_of, call, UserName="blue-user", **kwargs)
            self.assertEqual(error[:2], ("NoSuchEntity", 404), call)

    @defer.inlineCallbacks
    def test_keys_untouched(self):
        """
        Another account's key cannot be deactivated or deleted, whichever
        user is named; it keeps signing for its own account.
        """
        red, blue_key = self.clients["red"], self.keys["blue"]
        for user in ({}, {"UserName": "red-user"}, {"UserName": "blue-user"}):
            error = yield in_thread(
                error_of, red.update_access_key, AccessKeyId=blue_key["AccessKeyId"], Status="Inactive", **user
            )
            self.assertEqual(error[:2], ("NoSuchEntity", 404))
            error = yield in_thread(error_of, red.delete_access_key, AccessKeyId=blue_key["AccessKeyId"], **user)
            self.assertEqual(error[:2], ("NoSuchEntity", 404))
        blue_user = self.live.client(key=blue_key)
        me = (yield in_thread(blue_user.get_user))["User"]
        self.assertEqual(me["UserName"], "blue-user")
        regions = yield in_thread(self.live.client("ec2", key=blue_key).describe_regions)
        self.assertEqual(len(regions["Regions"]), 1)

    @defer.inlineCallbacks
    def test_no_administration(self):
        """
        An account that is not the administrators' may not create or list
        accounts, nor act as another (C{AccessDenied}).
        """
        key = yield in_thread(self.live.accounts.access_key, self.keys["red"]["AccessKeyId"])
        for params in (
            {"Action": "CreateAccount", "AccountName": "mine"},
            {"Action": "ListAccounts"},
            {"Action": "ListUsers", "DelegateAccount": "blue"},
        ):
            status, root = yield in_thread(signed_post, self.live.iam_url, key, dict(params, **_VERSION))
            self.assertEqual((status, text_at(root, "Error/Code")), (403, "AccessDenied"), params)
