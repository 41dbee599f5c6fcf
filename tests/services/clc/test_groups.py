# -*- test-case-name: tests.services.clc.test_groups -*-
"""
Tests for L{eucalyptus.services.clc.groups}: the actions called directly on
SQLite and PostgreSQL (L{tests.dbs}), and through boto3 against a live
Cloud Controller.
"""

from twisted.internet import defer
from twisted.trial import unittest

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc import grouppermissions, groups, tags
from eucalyptus.services.clc.ec2.errors import (
    CannotDelete,
    GroupDuplicate,
    GroupIdMalformed,
    GroupInUse,
    GroupNotFound,
    InvalidParameterCombination,
    MissingParameter,
    PermissionDuplicate,
    PermissionNotFound,
)
from eucalyptus.services.clc.groups import Rule
from tests.dbs import on_both_databases
from tests.services.clc.ec2_harness import error_of, in_thread
from tests.services.clc.test_tags import CloudDatabase, LiveAccounts


def _tcp(port, *cidrs):
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr} for cidr in cidrs]}


def _from_group(protocol, low, high, **pair):
    return {"IpProtocol": protocol, "FromPort": low, "ToPort": high, "UserIdGroupPairs": [pair]}


class GroupsTestsMixin:
    """
    The security group actions and helpers on a cloud database.
    """

    def setUp(self):
        self.db = CloudDatabase(self.database_url())

    def create(self, name, account_id=None, **params):
        return self.db.call(
            groups.create_security_group,
            account_id or self.db.alice,
            GroupName=name,
            Description=f"the {name} group",
            **params,
        )["GroupId"]

    def describe(self, account_id=None, **params):
        return self.db.call(groups.describe_security_groups, account_id or self.db.alice, **params)["SecurityGroups"]

    def group(self, name, account_id=None):
        (found,) = self.describe(account_id, GroupNames=[name])
        return found

    def rules(self, group_id, account_id=None):
        with self.db.engine.begin() as conn:
            return groups.rules_of(conn, account_id or self.db.alice, group_id)

    def authorize(self, account_id=None, egress=False, **params):
        action = grouppermissions.authorize_security_group_egress if egress else grouppermissions.authorize_security_group_ingress
        return self.db.call(action, account_id or self.db.alice, **params)

    def revoke(self, account_id=None, egress=False, **params):
        action = grouppermissions.revoke_security_group_egress if egress else grouppermissions.revoke_security_group_ingress
        return self.db.call(action, account_id or self.db.alice, **params)

    def test_default_group(self):
        """
        Describing an account's groups makes its C{default} group, once:
        its members may reach each other by TCP, UDP and ICMP, and may send
        anything anywhere.
        """
        (default,) = self.describe()
        self.assertEqual(self.describe(), [default])
        self.assertEqual(
            (default["GroupName"], default["Description"], default["OwnerId"]),
            ("default", "default group", self.db.alice),
        )
        pair = {"UserId": self.db.alice, "GroupId": default["GroupId"], "GroupName": "default"}
        self.assertEqual(
            [(p["IpProtocol"], p["FromPort"], p["ToPort"], p["UserIdGroupPairs"]) for p in default["IpPermissions"]],
            [("tcp", 0, 65535, [pair]), ("udp", 0, 65535, [pair]), ("icmp", -1, -1, [pair])],
        )
        (out,) = default["IpPermissionsEgress"]
        self.assertEqual(
            (out["IpProtocol"], out["IpRanges"], out.get("FromPort")), ("-1", [{"CidrIp": "0.0.0.0/0"}], None)
        )
        with self.db.engine.begin() as conn:
            self.assertEqual(groups.ensure_default(conn, self.db.alice), default["GroupId"])
            other = groups.ensure_default(conn, self.db.bob)
        self.assertEqual(self.group("default", self.db.bob)["GroupId"], other)
        self.assertNotEqual(other, default["GroupId"])

    def test_create(self):
        """
        C{CreateSecurityGroup} makes a group with the egress rule every
        group starts with and no ingress rules, tagged as asked.
        """
        answer = self.db.call(
            groups.create_security_group,
            self.db.alice,
            GroupName="web servers",
            Description="Port 80 & 443",
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "Name", "Value": "web"}]}],
        )
        self.assertTrue(answer["GroupId"].startswith("sg-"))
        self.assertEqual(answer["Tags"], [{"Key": "Name", "Value": "web"}])
        group = self.group("web servers")
        self.assertEqual((group["GroupId"], group["Description"]), (answer["GroupId"], "Port 80 & 443"))
        self.assertEqual(group["IpPermissions"], [])
        self.assertEqual(group["Tags"], [{"Key": "Name", "Value": "web"}])
        self.assertEqual(self.rules(answer["GroupId"]), [Rule(True, "-1", cidr="0.0.0.0/0")])

    def test_create_refused(self):
        """
        A name of the caller's groups (C{default} included) is
        C{InvalidGroup.Duplicate}; names starting with C{sg-}, names and
        descriptions not of 1 to 255 ASCII characters and a C{VpcId} are
        refused.
        """
        self.create("web")
        for name in ("web", "default"):
            error = self.db.fails(
                self, GroupDuplicate, groups.create_security_group, self.db.alice, GroupName=name, Description="d"
            )
            self.assertEqual(error.message, f"The security group '{name}' already exists")
        self.create("web", self.db.bob)
        for params, error in (
            ({"GroupName": "sg-123", "Description": "d"}, InvalidParameterValue),
            ({"GroupName": "x" * 256, "Description": "d"}, InvalidParameterValue),
            ({"GroupName": "grüppe", "Description": "d"}, InvalidParameterValue),
            ({"GroupName": "g", "Description": "x" * 256}, InvalidParameterValue),
            ({"GroupName": "g", "Description": ""}, MissingParameter),
            ({"GroupName": "", "Description": "d"}, MissingParameter),
            ({"GroupName": "g", "Description": "d", "VpcId": "vpc-1"}, InvalidParameterValue),
        ):
            self.db.fails(self, error, groups.create_security_group, self.db.alice, **params)
        self.assertEqual(sorted(g["GroupName"] for g in self.describe()), ["default", "web"])

    def test_delete(self):
        """
        C{DeleteSecurityGroup} by name or id; a missing group is
        C{InvalidGroup.NotFound}, the default group C{CannotDelete}; one of
        the two parameters is needed.
        """
        first, second = self.create("first"), self.create("second")
        self.assertEqual(
            self.db.call(groups.delete_security_group, self.db.alice, GroupName="first"),
            {"Return": True, "GroupId": first},
        )
        self.db.call(groups.delete_security_group, self.db.alice, GroupId=second)
        self.assertEqual([g["GroupName"] for g in self.describe()], ["default"])
        self.assertEqual(self.rules(second), [])
        error = self.db.fails(self, GroupNotFound, groups.delete_security_group, self.db.alice, GroupName="first")
        self.assertEqual(error.message, "The security group 'first' does not exist")
        self.db.fails(self, GroupNotFound, groups.delete_security_group, self.db.alice, GroupId=second)
        self.db.fails(self, GroupIdMalformed, groups.delete_security_group, self.db.alice, GroupId="first")
        self.db.fails(self, CannotDelete, groups.delete_security_group, self.db.alice, GroupName="default")
        self.db.fails(self, MissingParameter, groups.delete_security_group, self.db.alice)

    def test_delete_in_use(self):
        """
        A group instances use (as the registered functions say), or that
        other groups of its account name in their rules, is
        C{InvalidGroup.InUse}.
        """
        web, db = self.create("web"), self.create("db")
        used = set()
        in_use = lambda conn, account_id: used if account_id == self.db.alice else set()  # noqa: E731
        groups.register_in_use(in_use)
        self.addCleanup(groups.unregister_in_use, in_use)
        used.add(web)
        error = self.db.fails(self, GroupInUse, groups.delete_security_group, self.db.alice, GroupId=web)
        self.assertIn("web", error.message)
        used.clear()
        self.authorize(GroupId=db, IpPermissions=[_from_group("tcp", 5432, 5432, GroupId=web)])
        error = self.db.fails(self, GroupInUse, groups.delete_security_group, self.db.alice, GroupId=web)
        self.assertIn(db, error.message)
        self.revoke(GroupId=db, IpPermissions=[_from_group("tcp", 5432, 5432, GroupId=web)])
        self.authorize(GroupId=web, IpPermissions=[_from_group("tcp", 80, 80, GroupId=web)])
        self.db.call(groups.delete_security_group, self.db.alice, GroupId=web)

    def test_delete_named_by_another_account(self):
        """
        Deleting a group takes with it other accounts' rules that name it:
        the group they let in is gone, and they could not stop the owner.
        """
        web = self.create("web")
        bobs = self.create("bobs", self.db.bob)
        self.authorize(
            self.db.bob, GroupId=bobs, IpPermissions=[_from_group("tcp", 22, 22, UserId=self.db.alice, GroupName="web")]
        )
        self.assertEqual(len(self.group("bobs", self.db.bob)["IpPermissions"]), 1)
        self.db.call(groups.delete_security_group, self.db.alice, GroupId=web)
        self.assertEqual(self.group("bobs", self.db.bob)["IpPermissions"], [])

    def test_describe(self):
        """
        C{GroupNames} and C{GroupIds} choose groups; a missing one is
        C{InvalidGroup.NotFound}, an id not C{sg-...}
        C{InvalidGroupId.Malformed}; the listing is sorted by id.
        """
        web, db = self.create("web"), self.create("db")
        default = self.group("default")["GroupId"]
        self.assertEqual([g["GroupId"] for g in self.describe()], sorted([web, db, default]))
        self.assertEqual(
            [g["GroupName"] for g in self.describe(GroupNames=["web"], GroupIds=[db])],
            sorted(["web", "db"], key=lambda name: {"web": web, "db": db}[name]),
        )
        error = self.db.fails(
            self, GroupNotFound, groups.describe_security_groups, self.db.alice, GroupNames=["web", "nope"]
        )
        self.assertEqual(error.message, "The security group 'nope' does not exist")
        self.db.fails(self, GroupNotFound, groups.describe_security_groups, self.db.alice, GroupIds=["sg-12345678"])
        error = self.db.fails(self, GroupIdMalformed, groups.describe_security_groups, self.db.alice, GroupIds=["web"])
        self.assertEqual(error.message, 'Invalid id: "web" (expecting "sg-...")')

    def test_filters(self):
        """
        The group and rule filters of C{DescribeSecurityGroups}.
        """
        web, db = self.create("web"), self.create(
            "db", TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "tier", "Value": "data"}]}]
        )
        self.authorize(GroupId=web, IpPermissions=[_tcp(80, "0.0.0.0/0"), _tcp(443, "10.0.0.0/8")])
        self.authorize(GroupId=web, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}])
        self.authorize(GroupId=db, IpPermissions=[_from_group("tcp", 5432, 5432, GroupName="web")])
        self.authorize(GroupId=db, egress=True, IpPermissions=[_tcp(53, "10.1.1.1/32")])

        def names(name, *values):
            return sorted(g["GroupName"] for g in self.describe(Filters=[{"Name": name, "Values": list(values)}]))

        self.assertEqual(names("group-name", "w*"), ["web"])
        self.assertEqual(names("group-id", db), ["db"])
        self.assertEqual(names("description", "the d*", "default group"), ["db", "default"])
        self.assertEqual(names("owner-id", self.db.alice), ["db", "default", "web"])
        self.assertEqual(names("owner-id", self.db.bob), [])
        self.assertEqual(names("ip-permission.protocol", "icmp"), ["default"])
        self.assertEqual(names("ip-permission.from-port", "443"), ["web"])
        self.assertEqual(names("ip-permission.to-port", "5432"), ["db"])
        self.assertEqual(names("ip-permission.cidr", "10.*"), ["web"])
        self.assertEqual(names("ip-permission.group-name", "web"), ["db"])
        self.assertEqual(names("ip-permission.group-id", web), ["db"])
        self.assertEqual(names("ip-permission.user-id", self.db.alice), ["db", "default"])
        self.assertEqual(names("egress.ip-permission.cidr", "10.1.1.1/32"), ["db"])
        self.assertEqual(names("egress.ip-permission.protocol", "-1"), ["db", "default", "web"])
        self.assertEqual(names("tag:tier", "data"), ["db"])
        self.db.fails(
            self,
            InvalidParameterValue,
            groups.describe_security_groups,
            self.db.alice,
            Filters=[{"Name": "vpc", "Values": ["x"]}],
        )

    def test_pages(self):
        """
        C{MaxResults} and C{NextToken} walk the groups page by page.
        """
        for number in range(11):
            self.create(f"g{number}")
        seen, token = [], None
        while True:
            params = {"MaxResults": 5} if token is None else {"MaxResults": 5, "NextToken": token}
            answer = self.db.call(groups.describe_security_groups, self.db.alice, **params)
            seen.append(len(answer["SecurityGroups"]))
            token = answer["NextToken"]
            if token is None:
                break
        self.assertEqual(seen, [5, 5, 2])

    def test_authorize(self):
        """
        C{AuthorizeSecurityGroupIngress} with C{IpPermissions}: rules of the
        same protocol and ports show as one permission; CIDRs are
        normalised; protocols by name (any case) or number; descriptions
        kept.
        """
        web = self.create("web")
        answer = self.authorize(
            GroupName="web",
            IpPermissions=[
                {
                    "IpProtocol": "TCP",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "10.0.0.7/8", "Description": "office"}],
                },
                {"IpProtocol": "6", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "192.168.1.0/24"}]},
                {"IpProtocol": "17", "FromPort": 53, "ToPort": 53, "UserIdGroupPairs": [{"GroupName": "default"}]},
                {"IpProtocol": "1", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                {"IpProtocol": "47", "FromPort": 1, "ToPort": 2, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "172.16.0.0/12"}]},
            ],
        )
        self.assertEqual(answer, {"Return": True})
        default = self.group("default")["GroupId"]
        permissions = self.group("web")["IpPermissions"]
        self.assertEqual(
            [(p["IpProtocol"], p.get("FromPort"), p.get("ToPort")) for p in permissions],
            [("tcp", 22, 22), ("udp", 53, 53), ("icmp", 8, -1), ("47", None, None), ("-1", None, None)],
        )
        self.assertEqual(
            permissions[0]["IpRanges"],
            [{"CidrIp": "10.0.0.0/8", "Description": "office"}, {"CidrIp": "192.168.1.0/24"}],
        )
        self.assertEqual(
            permissions[1]["UserIdGroupPairs"],
            [{"UserId": self.db.alice, "GroupId": default, "GroupName": "default"}],
        )
        self.assertIn(Rule(False, "udp", 53, 53, peer_account_id=self.db.alice, peer_group_id=default), self.rules(web))

    def test_flat_parameters(self):
        """
        The old flat parameters: a CIDR rule (from anywhere without
        C{CidrIp}), and a source group alone, which lets in all of TCP, UDP
        and ICMP from it as in EC2-Classic; they cannot be mixed with
        C{IpPermissions}.
        """
        web = self.create("web")
        self.authorize(GroupId=web, IpProtocol="tcp", FromPort=80, ToPort=81, CidrIp="203.0.113.0/24")
        self.authorize(GroupId=web, IpProtocol="tcp", FromPort=22, ToPort=22)
        self.authorize(GroupId=web, SourceSecurityGroupName="default", SourceSecurityGroupOwnerId=self.db.alice)
        self.authorize(GroupId=web, SourceSecurityGroupName="web", IpProtocol="udp", FromPort=9, ToPort=9)
        default = self.group("default")["GroupId"]
        self.assertEqual(
            self.rules(web),
            [
                Rule(False, "tcp", 80, 81, cidr="203.0.113.0/24"),
                Rule(False, "tcp", 22, 22, cidr="0.0.0.0/0"),
                Rule(False, "tcp", 0, 65535, peer_account_id=self.db.alice, peer_group_id=default),
                Rule(False, "udp", 0, 65535, peer_account_id=self.db.alice, peer_group_id=default),
                Rule(False, "icmp", -1, -1, peer_account_id=self.db.alice, peer_group_id=default),
                Rule(False, "udp", 9, 9, peer_account_id=self.db.alice, peer_group_id=web),
                Rule(True, "-1", cidr="0.0.0.0/0"),
            ],
        )
        self.assertEqual(self.rules(web)[2].peer_group_name, "default")
        for params, error in (
            ({"IpProtocol": "tcp", "IpPermissions": [_tcp(1, "0.0.0.0/0")]}, InvalidParameterCombination),
            ({"SourceSecurityGroupName": "web", "CidrIp": "0.0.0.0/0"}, InvalidParameterCombination),
            ({"SourceSecurityGroupOwnerId": self.db.alice}, MissingParameter),
            ({"FromPort": 1, "ToPort": 2, "CidrIp": "0.0.0.0/0"}, MissingParameter),
            ({}, MissingParameter),
        ):
            self.db.fails(self, error, grouppermissions.authorize_security_group_ingress, self.db.alice, GroupId=web, **params)

    def test_rule_validation(self):
        """
        Unknown protocols, missing or out-of-range ports and ICMP types,
        malformed CIDRs, IPv6 and permissions without a peer are refused
        with messages that say what to send; nothing is added.
        """
        web = self.create("web")
        for permission, error, words in (
            (
                {"IpProtocol": "sctp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                InvalidParameterValue,
                "Unknown protocol",
            ),
            ({"IpProtocol": "256", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, InvalidParameterValue, "Unknown protocol"),
            (
                {"IpProtocol": "tcp", "FromPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                InvalidParameterValue,
                "both from and to ports with TCP/UDP",
            ),
            (
                {"IpProtocol": "udp", "FromPort": -1, "ToPort": 5, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                InvalidParameterValue,
                "(-1) out of range",
            ),
            (
                {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 65536, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                InvalidParameterValue,
                "(65536) out of range",
            ),
            (
                {"IpProtocol": "tcp", "FromPort": 90, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                InvalidParameterValue,
                "from port (90) is greater",
            ),
            ({"IpProtocol": "icmp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, InvalidParameterValue, "with ICMP"),
            (
                {"IpProtocol": "icmp", "FromPort": 256, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                InvalidParameterValue,
                "ICMP type (256)",
            ),
            (
                {"IpProtocol": "icmp", "FromPort": -1, "ToPort": 3, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                InvalidParameterValue,
                "code must be -1",
            ),
            (_tcp(22, "10.0.0.0/33"), InvalidParameterValue, "not a valid CIDR block"),
            (_tcp(22, "10.0.0.0"), InvalidParameterValue, "not a valid CIDR block"),
            (_tcp(22, "fe80::/10"), InvalidParameterValue, "not a valid CIDR block"),
            (
                {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                InvalidParameterValue,
                "IPv4",
            ),
            ({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1}, MissingParameter, "IpRanges"),
            (_from_group("tcp", 1, 1), MissingParameter, "GroupId or GroupName"),
            (
                {**_tcp(1), "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "x" * 256}]},
                InvalidParameterValue,
                "at most 255",
            ),
            (_from_group("tcp", 1, 1, GroupName="nope"), GroupNotFound, "'nope'"),
            (_from_group("tcp", 1, 1, GroupId="nope"), GroupIdMalformed, "nope"),
        ):
            raised = self.db.fails(
                self,
                error,
                grouppermissions.authorize_security_group_ingress,
                self.db.alice,
                GroupId=web,
                IpPermissions=[_tcp(1, "0.0.0.0/0"), permission],
            )
            self.assertIn(words, raised.message)
        self.assertEqual(self.group("web")["IpPermissions"], [])

    def test_duplicate(self):
        """
        A rule the group has is C{InvalidPermission.Duplicate}, whatever its
        description, and nothing of the request is added; the same rule in
        the other direction is another rule.
        """
        web = self.create("web")
        self.authorize(GroupId=web, IpPermissions=[_tcp(22, "10.0.0.0/8")])
        error = self.db.fails(
            self,
            PermissionDuplicate,
            grouppermissions.authorize_security_group_ingress,
            self.db.alice,
            GroupId=web,
            IpPermissions=[
                _tcp(80, "0.0.0.0/0"),
                {**_tcp(22), "IpRanges": [{"CidrIp": "10.1.2.3/8", "Description": "again"}]},
            ],
        )
        self.assertEqual(
            error.message,
            'the specified rule "peer: 10.0.0.0/8, TCP, from port: 22, to port: 22, ALLOW" already exists',
        )
        self.db.fails(
            self,
            PermissionDuplicate,
            grouppermissions.authorize_security_group_ingress,
            self.db.alice,
            GroupId=web,
            IpPermissions=[_tcp(25, "0.0.0.0/0", "0.0.0.0/0")],
        )
        self.assertEqual(len(self.group("web")["IpPermissions"]), 1)
        self.authorize(GroupId=web, egress=True, IpPermissions=[_tcp(22, "10.0.0.0/8")])

    def test_revoke(self):
        """
        C{RevokeSecurityGroupIngress} removes the rules named (by
        C{IpPermissions} or flat parameters); a rule the group does not
        have is C{InvalidPermission.NotFound} and nothing is revoked.
        """
        web = self.create("web")
        self.authorize(GroupId=web, IpPermissions=[_tcp(22, "10.0.0.0/8", "192.168.0.0/16"), _tcp(80, "0.0.0.0/0")])
        self.authorize(GroupId=web, SourceSecurityGroupName="default")
        error = self.db.fails(
            self,
            PermissionNotFound,
            grouppermissions.revoke_security_group_ingress,
            self.db.alice,
            GroupId=web,
            IpPermissions=[_tcp(80, "0.0.0.0/0"), _tcp(81, "0.0.0.0/0")],
        )
        self.assertIn("does not exist in this security group", error.message)
        self.assertEqual(self.revoke(GroupId=web, IpPermissions=[_tcp(22, "10.0.0.1/8")]), {"Return": True})
        self.revoke(GroupName="web", IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="0.0.0.0/0")
        self.revoke(GroupName="web", SourceSecurityGroupName="default")
        self.assertEqual(
            self.rules(web), [Rule(False, "tcp", 22, 22, cidr="192.168.0.0/16"), Rule(True, "-1", cidr="0.0.0.0/0")]
        )
        self.db.fails(
            self,
            PermissionNotFound,
            grouppermissions.revoke_security_group_ingress,
            self.db.alice,
            GroupId=web,
            IpPermissions=[_tcp(22, "10.0.0.0/8")],
        )

    def test_egress(self):
        """
        Egress rules are authorized and revoked like ingress ones, by group
        id; revoking the rule every group starts with closes the way out.
        """
        web = self.create("web")
        self.revoke(
            egress=True, GroupId=web, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        )
        self.assertEqual(self.group("web")["IpPermissionsEgress"], [])
        self.authorize(
            egress=True,
            GroupId=web,
            IpPermissions=[_tcp(443, "0.0.0.0/0"), _from_group("udp", 53, 53, GroupName="default")],
        )
        self.assertEqual([rule.egress for rule in self.rules(web)], [True, True])
        self.db.fails(
            self,
            PermissionDuplicate,
            grouppermissions.authorize_security_group_egress,
            self.db.alice,
            GroupId=web,
            IpPermissions=[_tcp(443, "0.0.0.0/0")],
        )
        self.revoke(egress=True, GroupId=web, IpPermissions=[_tcp(443, "0.0.0.0/0")])
        self.assertEqual(self.group("web")["IpPermissionsEgress"][0]["IpProtocol"], "udp")

    def test_another_accounts_group(self):
        """
        A rule may let in another account's group, named by its owner's id
        and the group's name or id; the default group of an account that
        never used groups is made for it; an account or group that does not
        exist is C{InvalidGroup.NotFound}.
        """
        web = self.create("web")
        bobs = self.create("bobs", self.db.bob)
        self.authorize(
            GroupId=web,
            IpPermissions=[
                _from_group("tcp", 80, 80, UserId=self.db.bob, GroupName="bobs"),
                _from_group("tcp", 81, 81, UserId=self.db.bob, GroupId=bobs),
            ],
        )
        carol = self.db.accounts.create_account("carol").account_id
        self.authorize(GroupId=web, IpPermissions=[_from_group("tcp", 82, 82, UserId=carol, GroupName="default")])
        carols_default = self.group("default", carol)["GroupId"]
        pairs = [p["UserIdGroupPairs"][0] for p in self.group("web")["IpPermissions"]]
        self.assertEqual(
            [(pair["UserId"], pair["GroupId"], pair["GroupName"]) for pair in pairs],
            [(self.db.bob, bobs, "bobs"), (self.db.bob, bobs, "bobs"), (carol, carols_default, "default")],
        )
        for pair in (
            {"UserId": "999999999999", "GroupName": "default"},
            {"UserId": self.db.bob, "GroupName": "web"},
            {"GroupId": bobs},
        ):
            self.db.fails(
                self,
                GroupNotFound,
                grouppermissions.authorize_security_group_ingress,
                self.db.alice,
                GroupId=web,
                IpPermissions=[_from_group("tcp", 1, 1, **pair)],
            )

    def test_other_accounts(self):
        """
        Alice cannot see, delete, authorize, revoke or tag bob's groups: she
        is told they do not exist, exactly as if they did not.
        """
        bobs = self.create("bobs", self.db.bob)
        self.authorize(self.db.bob, GroupId=bobs, IpPermissions=[_tcp(22, "0.0.0.0/0")])
        self.assertNotIn(bobs, [g["GroupId"] for g in self.describe()])
        for action, params in (
            (groups.describe_security_groups, {"GroupIds": [bobs]}),
            (groups.delete_security_group, {"GroupId": bobs}),
            (grouppermissions.authorize_security_group_ingress, {"GroupId": bobs, "IpPermissions": [_tcp(23, "0.0.0.0/0")]}),
            (grouppermissions.authorize_security_group_egress, {"GroupId": bobs, "IpPermissions": [_tcp(23, "0.0.0.0/0")]}),
            (grouppermissions.revoke_security_group_ingress, {"GroupId": bobs, "IpPermissions": [_tcp(22, "0.0.0.0/0")]}),
            (tags.create_tags, {"Resources": [bobs], "Tags": [{"Key": "a", "Value": "b"}]}),
        ):
            error = self.db.fails(self, GroupNotFound, action, self.db.alice, **params)
            self.assertEqual(error.message, f"The security group '{bobs}' does not exist")
        for action, params in (
            (groups.describe_security_groups, {"GroupNames": ["bobs"]}),
            (groups.delete_security_group, {"GroupName": "bobs"}),
            (grouppermissions.authorize_security_group_ingress, {"GroupName": "bobs", "IpPermissions": [_tcp(23, "0.0.0.0/0")]}),
        ):
            error = self.db.fails(self, GroupNotFound, action, self.db.alice, **params)
            self.assertEqual(error.message, "The security group 'bobs' does not exist")
        self.assertEqual(len(self.group("bobs", self.db.bob)["IpPermissions"]), 1)

    def test_launch_helpers(self):
        """
        L{groups.group_ids_by_name} and L{groups.groups_for_launch} resolve
        the groups C{RunInstances} names, making C{default} if need be.
        """
        web = self.create("web")
        with self.db.engine.begin() as conn:
            default = groups.ensure_default(conn, self.db.alice)
            self.assertEqual(groups.group_ids_by_name(conn, self.db.alice, ["web", "default"]), [web, default])
            self.assertEqual(
                groups.groups_for_launch(conn, self.db.alice, names=["web"], ids=[default, web]),
                [{"GroupId": web, "GroupName": "web"}, {"GroupId": default, "GroupName": "default"}],
            )
            self.assertRaises(GroupNotFound, groups.group_ids_by_name, conn, self.db.alice, ["nope"])
            self.assertRaises(GroupNotFound, groups.groups_for_launch, conn, self.db.bob, ids=[web])
            self.assertEqual(len(groups.group_ids_by_name(conn, self.db.bob, ["default"])), 1)
            self.assertEqual(groups.rules_of(conn, self.db.bob, web), [])


GroupsSQLiteTests, GroupsPostgreSQLTests = on_both_databases(GroupsTestsMixin)


class GroupsLiveTests(unittest.TestCase):
    """
    The security group actions through boto3 against a live Cloud
    Controller.
    """

    timeout = 120

    def setUp(self):
        self.accounts = LiveAccounts(self)

    @defer.inlineCallbacks
    def test_security_groups(self):
        """
        Create, authorize (C{IpPermissions} and flat), describe, revoke and
        delete, with EC2's error codes.
        """
        alice = self.accounts.alice
        web = (yield in_thread(alice.create_security_group, GroupName="web", Description="web servers"))["GroupId"]
        yield in_thread(
            alice.authorize_security_group_ingress,
            GroupId=web,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 80,
                    "ToPort": 80,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "http"}],
                },
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupName": "default"}]},
            ],
        )
        answer = yield in_thread(
            alice.authorize_security_group_ingress,
            GroupName="web",
            IpProtocol="icmp",
            FromPort=-1,
            ToPort=-1,
            CidrIp="10.0.0.0/8",
        )
        self.assertTrue(answer["Return"])
        (group,) = (yield in_thread(alice.describe_security_groups, GroupNames=["web"]))["SecurityGroups"]
        self.assertEqual(
            (group["GroupId"], group["Description"], group["OwnerId"]),
            (web, "web servers", self.accounts.alice_key.account_id),
        )
        self.assertEqual(
            [(p["IpProtocol"], p["FromPort"], p["ToPort"]) for p in group["IpPermissions"]],
            [("tcp", 80, 80), ("tcp", 22, 22), ("icmp", -1, -1)],
        )
        self.assertEqual(group["IpPermissions"][0]["IpRanges"], [{"CidrIp": "0.0.0.0/0", "Description": "http"}])
        self.assertEqual(group["IpPermissions"][1]["UserIdGroupPairs"][0]["GroupName"], "default")
        self.assertEqual(group["IpPermissionsEgress"][0]["IpProtocol"], "-1")
        answer = yield in_thread(
            alice.describe_security_groups, Filters=[{"Name": "ip-permission.from-port", "Values": ["80"]}]
        )
        self.assertEqual([g["GroupId"] for g in answer["SecurityGroups"]], [web])

        for call, kwargs, code in (
            (alice.create_security_group, {"GroupName": "web", "Description": "again"}, "InvalidGroup.Duplicate"),
            (
                alice.authorize_security_group_ingress,
                {"GroupId": web, "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"},
                "InvalidPermission.Duplicate",
            ),
            (
                alice.authorize_security_group_ingress,
                {"GroupId": web, "IpProtocol": "tcp", "FromPort": 80, "ToPort": 70, "CidrIp": "0.0.0.0/0"},
                "InvalidParameterValue",
            ),
            (
                alice.authorize_security_group_ingress,
                {"GroupId": web, "IpProtocol": "tcp", "FromPort": 1, "ToPort": 2, "CidrIp": "10.0.0.0/40"},
                "InvalidParameterValue",
            ),
            (
                alice.revoke_security_group_ingress,
                {"GroupId": web, "IpProtocol": "tcp", "FromPort": 81, "ToPort": 81, "CidrIp": "0.0.0.0/0"},
                "InvalidPermission.NotFound",
            ),
            (alice.describe_security_groups, {"GroupNames": ["nope"]}, "InvalidGroup.NotFound"),
            (alice.describe_security_groups, {"GroupIds": ["nope"]}, "InvalidGroupId.Malformed"),
            (alice.delete_security_group, {"GroupName": "default"}, "CannotDelete"),
            (alice.delete_security_group, {"GroupName": "nope"}, "InvalidGroup.NotFound"),
        ):
            error = yield in_thread(error_of, call, **kwargs)
            self.assertEqual(error[:2], (code, 400), (call, kwargs, error))

        answer = yield in_thread(
            alice.revoke_security_group_ingress,
            GroupId=web,
            IpProtocol="tcp",
            FromPort=80,
            ToPort=80,
            CidrIp="0.0.0.0/0",
        )
        self.assertTrue(answer["Return"])
        yield in_thread(
            alice.revoke_security_group_egress,
            GroupId=web,
            IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        yield in_thread(
            alice.authorize_security_group_egress,
            GroupId=web,
            IpPermissions=[
                {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.2/32"}]}
            ],
        )
        (group,) = (yield in_thread(alice.describe_security_groups, GroupIds=[web]))["SecurityGroups"]
        self.assertEqual(len(group["IpPermissions"]), 2)
        self.assertEqual(
            [(p["IpProtocol"], p["IpRanges"]) for p in group["IpPermissionsEgress"]],
            [("udp", [{"CidrIp": "10.0.0.2/32"}])],
        )
        answer = yield in_thread(alice.delete_security_group, GroupId=web)
        self.assertEqual((answer["Return"], answer["GroupId"]), (True, web))
        answer = yield in_thread(alice.describe_security_groups)
        self.assertEqual([g["GroupName"] for g in answer["SecurityGroups"]], ["default"])

    @defer.inlineCallbacks
    def test_other_accounts(self):
        """
        Alice cannot see, delete, authorize, revoke or tag bob's group, and
        what she is told is what she is told of a group that does not
        exist; she may let bob's group into hers by his account id and its
        name.
        """
        alice, bob = self.accounts.alice, self.accounts.bob
        bobs = (yield in_thread(bob.create_security_group, GroupName="bobs", Description="bob's"))["GroupId"]
        nobodys = "sg-0badcafe"
        rule = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        answer = yield in_thread(alice.describe_security_groups)
        self.assertNotIn(bobs, [g["GroupId"] for g in answer["SecurityGroups"]])
        for call, kwargs in (
            (alice.describe_security_groups, lambda group: {"GroupIds": [group]}),
            (alice.delete_security_group, lambda group: {"GroupId": group}),
            (alice.authorize_security_group_ingress, lambda group: {"GroupId": group, "IpPermissions": rule}),
            (alice.revoke_security_group_ingress, lambda group: {"GroupId": group, "IpPermissions": rule}),
            (alice.create_tags, lambda group: {"Resources": [group], "Tags": [{"Key": "a", "Value": "b"}]}),
        ):
            theirs = yield in_thread(error_of, call, **kwargs(bobs))
            missing = yield in_thread(error_of, call, **kwargs(nobodys))
            self.assertEqual(theirs[:2], ("InvalidGroup.NotFound", 400))
            self.assertEqual((theirs[0], theirs[2].replace(bobs, nobodys)), missing[:1] + missing[2:3])
        error = yield in_thread(error_of, alice.describe_security_groups, GroupNames=["bobs"])
        self.assertEqual(error[:3], ("InvalidGroup.NotFound", 400, "The security group 'bobs' does not exist"))

        bob_id = self.accounts.bob_key.account_id
        yield in_thread(
            alice.authorize_security_group_ingress,
            GroupName="default",
            SourceSecurityGroupName="bobs",
            SourceSecurityGroupOwnerId=bob_id,
        )
        (group,) = (yield in_thread(alice.describe_security_groups, GroupNames=["default"]))["SecurityGroups"]
        theirs = [pair for p in group["IpPermissions"] for pair in p["UserIdGroupPairs"] if pair["UserId"] == bob_id]
        self.assertEqual([pair["GroupId"] for pair in theirs], [bobs] * 3)
        (group,) = (yield in_thread(bob.describe_security_groups, GroupIds=[bobs]))["SecurityGroups"]
        self.assertEqual(group["IpPermissions"], [])
