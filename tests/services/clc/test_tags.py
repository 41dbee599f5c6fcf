# -*- test-case-name: tests.services.clc.test_tags -*-
"""
Tests for L{eucalyptus.services.clc.tags}: the actions called directly on
SQLite and PostgreSQL (L{tests.dbs}), and through boto3 against a live
Cloud Controller.

L{CloudDatabase} and L{LiveAccounts} are shared with the tests of key pairs
and security groups.
"""

import boto3
from botocore.config import Config
from twisted.internet import defer
from twisted.trial import unittest

from eucalyptus.accounts import AccountStore
from eucalyptus.config import CloudConfig
from eucalyptus.errors import InstanceNotFound, InvalidParameterValue
from eucalyptus.services.clc import groups, keypairs, tags
from eucalyptus.services.clc.cloud import Cloud
from eucalyptus.services.clc.db import open_cloud_database
from eucalyptus.services.clc.ec2.dispatch import Caller, Region, RequestContext
from eucalyptus.services.clc.ec2.errors import (
    GroupNotFound,
    InvalidID,
    InvalidPaginationToken,
    KeyPairNotFound,
    MissingParameter,
    TagLimitExceeded,
)
from eucalyptus.services.clc.ec2.filters import select
from tests.dbs import on_both_databases
from tests.services.clc.ec2_harness import LiveCloudController, error_of, in_thread

__all__ = ["CloudDatabase", "LiveAccounts", "ED25519_PUBLIC"]

#: An OpenSSH ED25519 public key, as a user's C{.pub} file holds it.
ED25519_PUBLIC = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@example\n"

_REGION = Region("eucalyptus", "http://127.0.0.1:8773/services/Eucalyptus", ("east",))


class CloudDatabase:
    """
    A fresh cloud database with two accounts, alice and bob, and the
    actions called as either of them, in the calling thread.
    """

    def __init__(self, url):
        self.accounts = AccountStore(url)
        self.engine = open_cloud_database(url)
        self.cloud = Cloud(None, None, self.engine, self.accounts, None)
        self.alice = self.accounts.create_account("alice").account_id
        self.bob = self.accounts.create_account("bob").account_id

    def context(self, account_id):
        """
        The L{RequestContext} of a request of C{account_id}.
        """
        caller = Caller(account_id, "name", "AIDA" + account_id, "admin", "AKI" + account_id)
        return RequestContext("request-1", "Action", "2016-11-15", caller, _REGION, self.cloud)

    def call(self, action, account_id, **params):
        """
        Call an action as C{account_id} with its parsed input.
        """
        return action(self.context(account_id), params)

    def fails(self, testcase, error, action, account_id, **params):
        """
        Call an action that must raise C{error}.

        @return: the error.
        """
        return testcase.assertRaises(error, self.call, action, account_id, **params)


class LiveAccounts:
    """
    A live Cloud Controller (L{LiveCloudController}) and boto3 clients of
    two new accounts on it, alice and bob.
    """

    def __init__(self, testcase):
        self.live = LiveCloudController(testcase)
        store = AccountStore(CloudConfig.from_settings(self.live.settings).database_url)
        self.alice_key = store.create_account("alice")
        self.bob_key = store.create_account("bob")
        self.alice = self.client(self.alice_key)
        self.bob = self.client(self.bob_key)

    def client(self, key):
        """
        A boto3 EC2 client signed with C{key}, without retries.
        """
        return boto3.client(
            "ec2",
            endpoint_url=self.live.ec2_url,
            region_name="eucalyptus",
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_key,
            config=Config(retries={"max_attempts": 1}),
        )


def _tags(*pairs):
    return [{"Key": key, "Value": value} for key, value in pairs]


class TagsTestsMixin:
    """
    The tag actions and helpers on a cloud database.
    """

    def setUp(self):
        self.db = CloudDatabase(self.database_url())
        self.key = self.db.call(keypairs.import_key_pair, self.db.alice, KeyName="k", PublicKeyMaterial=ED25519_PUBLIC)[
            "KeyPairId"
        ]
        self.group = self.db.call(groups.create_security_group, self.db.alice, GroupName="g", Description="d")[
            "GroupId"
        ]

    def describe(self, account_id=None, **params):
        return self.db.call(tags.describe_tags, account_id or self.db.alice, **params)["Tags"]

    def test_create_and_describe(self):
        """
        C{CreateTags} tags every resource given; C{DescribeTags} lists the
        tags by resource id and key, with each resource's type.
        """
        result = self.db.call(
            tags.create_tags, self.db.alice, Resources=[self.key, self.group], Tags=_tags(("Name", "web"), ("env", ""))
        )
        self.assertIsNone(result)
        self.assertEqual(
            self.describe(),
            sorted(
                [
                    {"ResourceId": self.key, "ResourceType": "key-pair", "Key": "Name", "Value": "web"},
                    {"ResourceId": self.key, "ResourceType": "key-pair", "Key": "env", "Value": ""},
                    {"ResourceId": self.group, "ResourceType": "security-group", "Key": "Name", "Value": "web"},
                    {"ResourceId": self.group, "ResourceType": "security-group", "Key": "env", "Value": ""},
                ],
                key=lambda tag: (tag["ResourceId"], tag["Key"]),
            ),
        )

    def test_missing_value(self):
        """
        A tag without a value has the empty value.
        """
        self.db.call(tags.create_tags, self.db.alice, Resources=[self.key], Tags=[{"Key": "solo"}])
        self.assertEqual([tag["Value"] for tag in self.describe()], [""])

    def test_overwrite(self):
        """
        Tagging a key again replaces its value, idempotently.
        """
        for value in ("one", "two", "two"):
            self.db.call(tags.create_tags, self.db.alice, Resources=[self.key], Tags=_tags(("Name", value)))
        self.assertEqual([(tag["Key"], tag["Value"]) for tag in self.describe()], [("Name", "two")])

    def test_filters(self):
        """
        C{key}, C{value}, C{resource-id}, C{resource-type} and C{tag:<key>}
        filters, with wildcards; an unknown filter is refused.
        """
        self.db.call(
            tags.create_tags, self.db.alice, Resources=[self.key], Tags=_tags(("Name", "web-1"), ("tier", "a"))
        )
        self.db.call(tags.create_tags, self.db.alice, Resources=[self.group], Tags=_tags(("Name", "db"), ("tier", "b")))

        def found(*filters):
            chosen = self.describe(Filters=[{"Name": name, "Values": values} for name, values in filters])
            return [(tag["ResourceId"], tag["Key"]) for tag in chosen]

        self.assertEqual(found(("key", ["Name"]), ("value", ["web*"])), [(self.key, "Name")])
        self.assertEqual(found(("resource-type", ["security-group"])), [(self.group, "Name"), (self.group, "tier")])
        self.assertEqual(found(("resource-id", [self.key]), ("key", ["tier"])), [(self.key, "tier")])
        self.assertEqual(found(("tag:tier", ["b"]), ("key", ["Name"])), [(self.group, "Name")])
        self.assertEqual(found(("value", ["nothing"])), [])
        self.db.fails(
            self,
            InvalidParameterValue,
            tags.describe_tags,
            self.db.alice,
            Filters=[{"Name": "colour", "Values": ["x"]}],
        )

    def test_pages(self):
        """
        C{MaxResults} pages the listing; the C{NextToken}s walk all of it
        once; C{MaxResults} is 5 to 1000 and a token must be one of ours.
        """
        self.db.call(
            tags.create_tags,
            self.db.alice,
            Resources=[self.key, self.group],
            Tags=_tags(*((f"k{n}", "v") for n in range(6))),
        )
        everything = self.describe()
        self.assertEqual(len(everything), 12)
        seen, token = [], None
        while True:
            params = {"MaxResults": 5} if token is None else {"MaxResults": 5, "NextToken": token}
            answer = self.db.call(tags.describe_tags, self.db.alice, **params)
            seen.extend(answer["Tags"])
            token = answer["NextToken"]
            if token is None:
                break
        self.assertEqual(seen, everything)
        self.db.fails(self, InvalidParameterValue, tags.describe_tags, self.db.alice, MaxResults=4)
        self.db.fails(self, InvalidPaginationToken, tags.describe_tags, self.db.alice, NextToken="bogus")

    def test_delete(self):
        """
        C{DeleteTags}: a key alone goes whatever its value; a key with a
        value only when the value is that (the empty value included);
        without tags, every tag goes; deleting what is not there is fine.
        """
        self.db.call(
            tags.create_tags,
            self.db.alice,
            Resources=[self.key],
            Tags=_tags(("a", "1"), ("b", "2"), ("c", ""), ("d", "4")),
        )
        delete = tags.delete_tags
        self.db.call(delete, self.db.alice, Resources=[self.key], Tags=[{"Key": "a"}, {"Key": "b", "Value": "other"}])
        self.db.call(delete, self.db.alice, Resources=[self.key], Tags=[{"Key": "c", "Value": ""}, {"Key": "zzz"}])
        self.assertEqual([tag["Key"] for tag in self.describe()], ["b", "d"])
        self.db.call(delete, self.db.alice, Resources=[self.key])
        self.assertEqual(self.describe(), [])
        self.db.call(delete, self.db.alice, Resources=[self.key], Tags=[{"Key": "a"}])

    def test_limits(self):
        """
        At most 50 tags per resource (counting those it has); keys of 1 to
        128 characters not starting with C{aws:}; values of up to 256.
        Nothing is written when a request is refused.
        """
        many = _tags(*((f"k{n}", "v") for n in range(49)))
        self.db.call(tags.create_tags, self.db.alice, Resources=[self.key], Tags=many)
        error = self.db.fails(
            self,
            TagLimitExceeded,
            tags.create_tags,
            self.db.alice,
            Resources=[self.key],
            Tags=_tags(("x", ""), ("y", "")),
        )
        self.assertIn(self.key, error.message)
        self.db.call(tags.create_tags, self.db.alice, Resources=[self.key], Tags=_tags(("k0", "new"), ("x", "")))
        self.assertEqual(len(self.describe()), 50)
        for bad in ("k" * 129, "", "aws:name", "AWS:x"):
            self.db.fails(
                self,
                InvalidParameterValue,
                tags.create_tags,
                self.db.alice,
                Resources=[self.group],
                Tags=_tags((bad, "")),
            )
        self.db.call(tags.create_tags, self.db.alice, Resources=[self.group], Tags=_tags(("k" * 128, "v" * 256)))
        self.db.fails(
            self,
            InvalidParameterValue,
            tags.create_tags,
            self.db.alice,
            Resources=[self.group],
            Tags=_tags(("v", "v" * 257)),
        )
        self.db.fails(
            self, MissingParameter, tags.create_tags, self.db.alice, Resources=[self.group], Tags=[{"Value": "v"}]
        )
        self.db.fails(self, MissingParameter, tags.create_tags, self.db.alice, Resources=[], Tags=_tags(("a", "")))

    def test_unknown_resources(self):
        """
        An id of no taggable kind is C{InvalidID}; one of a known kind that
        does not exist is that kind's C{NotFound}; nothing is tagged when
        one resource of the request is refused.
        """
        for resource, error in (
            ("foo-12345678", InvalidID),
            ("not an id", InvalidID),
            ("i-12345678", InstanceNotFound),
            ("sg-12345678", GroupNotFound),
            ("key-12345678", KeyPairNotFound),
        ):
            raised = self.db.fails(
                self, error, tags.create_tags, self.db.alice, Resources=[self.key, resource], Tags=_tags(("a", ""))
            )
            self.assertIn(resource, raised.message)
        self.assertEqual(self.describe(), [])

    def test_other_accounts(self):
        """
        Bob can neither tag, untag nor see alice's resources' tags: he is
        told they do not exist, as if they did not.
        """
        self.db.call(tags.create_tags, self.db.alice, Resources=[self.key, self.group], Tags=_tags(("a", "1")))
        for resource, error in ((self.key, KeyPairNotFound), (self.group, GroupNotFound)):
            self.db.fails(self, error, tags.create_tags, self.db.bob, Resources=[resource], Tags=_tags(("b", "")))
            self.db.fails(self, error, tags.delete_tags, self.db.bob, Resources=[resource])
        self.assertEqual(self.describe(self.db.bob), [])
        self.assertEqual(len(self.describe()), 2)

    def test_deleted_resources_lose_their_tags(self):
        """
        Deleting a key pair or a group deletes its tags.
        """
        self.db.call(tags.create_tags, self.db.alice, Resources=[self.key, self.group], Tags=_tags(("a", "1")))
        self.db.call(keypairs.delete_key_pair, self.db.alice, KeyName="k")
        self.db.call(groups.delete_security_group, self.db.alice, GroupId=self.group)
        self.assertEqual(self.describe(), [])

    def test_tags_of(self):
        """
        L{tags.tags_of} gives each resource asked for its tags, sorted by
        key, and the empty list to those without; L{tags.item_tags} lets
        L{select} read C{tag:} filters from them.
        """
        self.db.call(tags.create_tags, self.db.alice, Resources=[self.key], Tags=_tags(("b", "2"), ("a", "1")))
        with self.db.engine.begin() as conn:
            found = tags.tags_of(conn, self.db.alice, [self.key, self.group, self.key])
            self.assertEqual(tags.tags_of(conn, self.db.bob, [self.key]), {self.key: []})
        self.assertEqual(found, {self.key: _tags(("a", "1"), ("b", "2")), self.group: []})
        items = [{"Id": resource, "Tags": found[resource]} for resource in found]
        chosen = select(items, [{"Name": "tag:a", "Values": ["1"]}], {}, tags_of=tags.item_tags)
        self.assertEqual([item["Id"] for item in chosen], [self.key])
        chosen = select(items, [{"Name": "tag-key", "Values": ["b"]}], {}, tags_of=tags.item_tags)
        self.assertEqual([item["Id"] for item in chosen], [self.key])

    def test_tag_specifications(self):
        """
        L{tags.apply_tag_specifications} applies the tags for the new
        resource's type, skips other types the action takes, and refuses
        types it does not take and specifications without a type.
        """
        specs = [
            {"ResourceType": "security-group", "Tags": _tags(("Name", "g"), ("b", ""))},
            {"ResourceType": "instance", "Tags": _tags(("x", "y"))},
        ]
        with self.db.engine.begin() as conn:
            applied = tags.apply_tag_specifications(
                conn, self.db.alice, "security-group", self.group, specs, allowed=("instance",)
            )
            self.assertRaises(
                InvalidParameterValue,
                tags.apply_tag_specifications,
                conn,
                self.db.alice,
                "security-group",
                self.group,
                specs,
            )
            self.assertRaises(
                InvalidParameterValue,
                tags.apply_tag_specifications,
                conn,
                self.db.alice,
                "key-pair",
                self.key,
                [{"Tags": []}],
            )
            self.assertEqual(tags.apply_tag_specifications(conn, self.db.alice, "key-pair", self.key, None), [])
        self.assertEqual(applied, _tags(("Name", "g"), ("b", "")))
        self.assertEqual(
            [(tag["ResourceId"], tag["Key"]) for tag in self.describe()], [(self.group, "Name"), (self.group, "b")]
        )

    def test_registered_owner(self):
        """
        A module registers who owns ids of its prefixes, and may name the
        error for ids the caller does not own; prefixes of no taggable kind
        are refused.
        """
        saved = dict(tags._OWNERS)
        self.addCleanup(lambda: (tags._OWNERS.clear(), tags._OWNERS.update(saved)))
        owned = {(self.db.alice, "eipalloc-1234abcd")}
        tags.register_owner(("eipalloc",), lambda conn, account, resource: (account, resource) in owned, GroupNotFound)
        self.db.call(tags.create_tags, self.db.alice, Resources=["eipalloc-1234abcd"], Tags=_tags(("a", "")))
        self.assertEqual(self.describe()[0]["ResourceType"], "elastic-ip")
        self.db.fails(
            self, GroupNotFound, tags.create_tags, self.db.bob, Resources=["eipalloc-1234abcd"], Tags=_tags(("a", ""))
        )
        self.assertRaises(ValueError, tags.register_owner, ("vpc",), lambda *args: True)

    def test_resource_type(self):
        """
        L{tags.resource_type} reads the kind of resource from the id's
        prefix.
        """
        for resource, kind in (
            ("i-12345678", "instance"),
            ("emi-12345678", "image"),
            ("eki-12345678", "image"),
            ("ami-12345678901234567", "image"),
            ("vol-12345678", "volume"),
            ("snap-12345678", "snapshot"),
            ("sg-12345678", "security-group"),
            ("key-12345678", "key-pair"),
            ("eipalloc-12345678", "elastic-ip"),
            ("vpc-12345678", None),
            ("i-", None),
            ("nothing", None),
        ):
            self.assertEqual(tags.resource_type(resource), kind, resource)


TagsSQLiteTests, TagsPostgreSQLTests = on_both_databases(TagsTestsMixin)


class TagsLiveTests(unittest.TestCase):
    """
    The tag actions through boto3 against a live Cloud Controller.
    """

    timeout = 120

    def setUp(self):
        self.accounts = LiveAccounts(self)

    @defer.inlineCallbacks
    def test_tags(self):
        """
        Create, describe (filtered, and page by page with boto3's
        paginator), delete; bob cannot touch alice's tags; a missing
        instance is C{InvalidInstanceID.NotFound}, a bad id C{InvalidID}.
        """
        alice, bob = self.accounts.alice, self.accounts.bob
        group = (yield in_thread(alice.create_security_group, GroupName="web", Description="web"))["GroupId"]
        key = (yield in_thread(alice.create_key_pair, KeyName="k"))["KeyPairId"]
        yield in_thread(alice.create_tags, Resources=[group, key], Tags=_tags(*((f"k{n}", str(n)) for n in range(6))))
        answer = yield in_thread(
            alice.describe_tags,
            Filters=[{"Name": "resource-type", "Values": ["key-pair"]}, {"Name": "value", "Values": ["1", "2"]}],
        )
        self.assertEqual(
            answer["Tags"],
            [
                {"ResourceId": key, "ResourceType": "key-pair", "Key": "k1", "Value": "1"},
                {"ResourceId": key, "ResourceType": "key-pair", "Key": "k2", "Value": "2"},
            ],
        )

        def every_page():
            pages = list(alice.get_paginator("describe_tags").paginate(PaginationConfig={"PageSize": 5}))
            return [len(page["Tags"]) for page in pages], [tag for page in pages for tag in page["Tags"]]

        sizes, everything = yield in_thread(every_page)
        self.assertEqual(sizes, [5, 5, 2])
        self.assertEqual(len({(tag["ResourceId"], tag["Key"]) for tag in everything}), 12)

        error = yield in_thread(error_of, bob.create_tags, Resources=[group], Tags=_tags(("x", "")))
        self.assertEqual(error[:3], ("InvalidGroup.NotFound", 400, f"The security group '{group}' does not exist"))
        error = yield in_thread(error_of, bob.delete_tags, Resources=[key])
        self.assertEqual(error[:2], ("InvalidKeyPair.NotFound", 400))
        self.assertEqual((yield in_thread(bob.describe_tags))["Tags"], [])
        error = yield in_thread(error_of, alice.create_tags, Resources=["i-12345678"], Tags=_tags(("x", "")))
        self.assertEqual(error[:2], ("InvalidInstanceID.NotFound", 400))
        error = yield in_thread(error_of, alice.create_tags, Resources=["vpc-12345678"], Tags=_tags(("x", "")))
        self.assertEqual(error[:2], ("InvalidID", 400))
        error = yield in_thread(error_of, alice.create_tags, Resources=[group], Tags=_tags(("aws:x", "")))
        self.assertEqual(error[:2], ("InvalidParameterValue", 400))

        yield in_thread(alice.delete_tags, Resources=[group, key], Tags=[{"Key": "k0"}, {"Key": "k1", "Value": "no"}])
        answer = yield in_thread(alice.describe_tags, Filters=[{"Name": "key", "Values": ["k0", "k1"]}])
        self.assertEqual({(tag["ResourceId"], tag["Key"]) for tag in answer["Tags"]}, {(group, "k1"), (key, "k1")})
        yield in_thread(alice.delete_tags, Resources=[group])
        answer = yield in_thread(alice.describe_tags, Filters=[{"Name": "resource-id", "Values": [group]}])
        self.assertEqual(answer["Tags"], [])
