# -*- test-case-name: tests.services.clc.test_ec2_query -*-
"""
Tests for L{eucalyptus.services.clc.ec2.query} and
L{eucalyptus.services.clc.ec2.model}: requests written by botocore (a boto3
EC2 client whose requests are caught, and botocore's C{EC2Serializer} over
the whole model) read back into what was sent.
"""

import base64
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

from botocore.serialize import create_serializer
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2 import model
from eucalyptus.services.clc.ec2.errors import (
    MalformedQueryString,
    MissingParameter,
    NoSuchVersion,
    UnknownParameter,
)
from eucalyptus.services.clc.ec2.query import parse_input, request_parameters, wire_names
from tests.security.test_ec2sigv2 import ec2_client
from tests.security.test_sigv4 import body_of
from tests.services.clc.shapes import OPERATIONS, has_required, prune, values_of, walk_structures

RUN_INSTANCES = {
    "ImageId": "emi-12345678",
    "MinCount": 1,
    "MaxCount": 3,
    "InstanceType": "m1.small",
    "KeyName": "my key",
    "UserData": "#!/bin/sh\necho hi\n",
    "ClientToken": "token-1",
    "SecurityGroupIds": ["sg-1", "sg-2"],
    "SecurityGroups": ["default"],
    "Placement": {"AvailabilityZone": "zone-1"},
    "Monitoring": {"Enabled": True},
    "BlockDeviceMappings": [
        {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 20, "DeleteOnTermination": False, "VolumeType": "standard"}},
        {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},
        {"DeviceName": "/dev/sdc", "NoDevice": ""},
    ],
    "TagSpecifications": [
        {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web & db"}, {"Key": "empty", "Value": ""}]},
        {"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "v"}]},
    ],
}

AUTHORIZE_INGRESS = {
    "GroupName": "web",
    "IpPermissions": [
        {
            "IpProtocol": "tcp",
            "FromPort": 22,
            "ToPort": 22,
            "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "ssh from the office"}, {"CidrIp": "0.0.0.0/0"}],
            "UserIdGroupPairs": [{"GroupName": "admins", "UserId": "123456789012"}],
        },
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "192.168.0.0/16"}]},
    ],
}

DESCRIBE_INSTANCES = {
    "InstanceIds": ["i-1", "i-2", "i-3"],
    "Filters": [
        {"Name": "instance-state-name", "Values": ["running", "pending"]},
        {"Name": "tag:Name", "Values": ["web*"]},
    ],
    "DryRun": False,
}


def sent_by_boto3(case, action, params):
    """
    The flat parameters a boto3 EC2 client sends for C{action}.
    """
    client, sent = ec2_client(case, signature_version="v4")
    method = client.meta.method_to_api_mapping
    name = next(python for python, api in method.items() if api == action)
    getattr(client, name)(**params)
    return request_parameters(b"", body_of(sent[-1]))


def serialized(action, params):
    """
    The flat parameters botocore's C{EC2Serializer} writes for C{action},
    as a form body decodes them.
    """
    operation = model.operation(action)
    body = create_serializer("ec2", include_validation=False).serialize_to_request(params, operation)["body"]
    return request_parameters(urlencode(body).encode())


class Boto3RequestTests(SynchronousTestCase):
    """
    What boto3 sends for complex inputs reads back as the input.
    """

    def assertRoundTrip(self, action, params):
        flat = sent_by_boto3(self, action, params)
        self.assertEqual(flat["Action"], action)
        self.assertEqual(flat["Version"], model.LATEST_VERSION)
        self.assertEqual(parse_input(model.operation(action), flat), params)
        return flat

    def test_run_instances(self):
        """
        C{RunInstances} with block device mappings, tag specifications,
        nested structures and lists of strings.  boto3 base64-encodes the
        C{UserData} (a string in the model), which stays encoded.
        """
        flat = sent_by_boto3(self, "RunInstances", RUN_INSTANCES)
        expected = dict(RUN_INSTANCES, UserData=base64.b64encode(RUN_INSTANCES["UserData"].encode()).decode())
        self.assertEqual(parse_input(model.operation("RunInstances"), flat), expected)
        self.assertEqual(flat["BlockDeviceMapping.1.Ebs.VolumeSize"], "20")
        self.assertEqual(flat["TagSpecification.1.Tag.1.Value"], "web & db")

    def test_authorize_security_group_ingress(self):
        """
        C{AuthorizeSecurityGroupIngress} with its nested C{IpPermissions}.
        """
        flat = self.assertRoundTrip("AuthorizeSecurityGroupIngress", AUTHORIZE_INGRESS)
        self.assertEqual(flat["IpPermissions.1.IpRanges.2.CidrIp"], "0.0.0.0/0")

    def test_describe_instances(self):
        """
        C{DescribeInstances} with C{Filter.N.Name}, C{Filter.N.Value.M} and
        a boolean.
        """
        flat = self.assertRoundTrip("DescribeInstances", DESCRIBE_INSTANCES)
        self.assertEqual(flat["Filter.1.Value.2"], "pending")

    def test_blob(self):
        """
        A blob (C{ImportKeyPair}'s C{PublicKeyMaterial}) comes back as the
        bytes boto3 was given; C{UserData}, a string in the model, stays
        the string it was.
        """
        params = {"KeyName": "k", "PublicKeyMaterial": b"ssh-rsa AAAA\xff\x00 me@host"}
        self.assertRoundTrip("ImportKeyPair", params)

    def test_query_name(self):
        """
        A member with a C{queryName} (C{DescribeImages}'s
        C{ExecutableUsers}) is read under that name.
        """
        flat = self.assertRoundTrip("DescribeImages", {"ExecutableUsers": ["self"], "Owners": ["amazon"]})
        self.assertEqual(flat["ExecutableBy.1"], "self")

    def test_timestamp(self):
        """
        Timestamps come back as aware UTC datetimes.
        """
        start = datetime(2016, 11, 15, 12, 30, 1, 250000, tzinfo=timezone.utc)
        self.assertRoundTrip("DescribeSpotPriceHistory", {"StartTime": start, "EndTime": start.replace(microsecond=0)})


class ModelTests(SynchronousTestCase):
    """
    The parser inverts botocore's C{EC2Serializer} for every action.
    """

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(OPERATIONS).flatmap(lambda name: st.tuples(st.just(name), _inputs(name))))
    def test_every_action(self, case):
        """
        Random inputs of random actions, serialised by botocore and sent as
        a form body, parse back to themselves (less what the protocol drops:
        empty lists and structures; inputs that then lack a required member
        are left out, as the parser rightly refuses them).
        """
        action, params = case
        expected = prune(params)
        operation = model.operation(action)
        assume(operation.input_shape is None or has_required(operation.input_shape, expected))
        self.assertEqual(parse_input(operation, serialized(action, params)), expected)

    def test_wire_names_unique(self):
        """
        No two members of an input structure share a wire name.
        """
        for shape in walk_structures():
            names = list(wire_names(shape).values())
            self.assertEqual(len(names), len(set(names)), shape.name)


def _inputs(action):
    shape = model.operation(action).input_shape
    return st.just({}) if shape is None else values_of(shape)


class ErrorTests(SynchronousTestCase):
    """
    What is not a valid input is refused with EC2's codes and a message
    naming the parameter.
    """

    def assertRefused(self, error, action, params, *words):
        raised = self.assertRaises(error, parse_input, model.operation(action), params)
        for word in words:
            self.assertIn(word, raised.message)
        return raised

    def test_unknown(self):
        """
        A name the action does not have, at the top or nested, is
        C{UnknownParameter}.
        """
        self.assertRefused(UnknownParameter, "DescribeRegions", {"RegionNames.1": "x"}, "RegionNames")
        self.assertRefused(UnknownParameter, "DescribeRegions", {"Filter.1.Colour": "x"}, "Filter.1.Colour")
        self.assertRefused(UnknownParameter, "DescribeRegions", {"RegionName.first": "x"}, "RegionName.first")
        self.assertRefused(UnknownParameter, "DescribeRegions", {"DryRun.1": "true"}, "DryRun.1")

    def test_control_parameters_ignored(self):
        """
        C{Action}, C{Version} and the signing parameters are not input.
        """
        params = {
            "Action": "DescribeRegions",
            "Version": "2016-11-15",
            "AWSAccessKeyId": "A",
            "Signature": "s",
            "SignatureMethod": "HmacSHA256",
            "SignatureVersion": "2",
            "Timestamp": "t",
            "X-Amz-Date": "d",
            "RegionName.1": "eucalyptus",
        }
        self.assertEqual(parse_input(model.operation("DescribeRegions"), params), {"RegionNames": ["eucalyptus"]})

    def test_bad_types(self):
        """
        A value that is not of its member's type is C{InvalidParameterValue}
        naming the parameter and the value.
        """
        self.assertRefused(InvalidParameterValue, "DescribeInstances", {"MaxResults": "lots"}, "MaxResults", "lots")
        self.assertRefused(InvalidParameterValue, "DescribeRegions", {"DryRun": "yes"}, "DryRun", "true or false")
        self.assertRefused(
            InvalidParameterValue,
            "RunInstances",
            {"ImageId": "e", "MinCount": "1", "MaxCount": "1", "BlockDeviceMapping.1.Ebs.VolumeSize": "1.5"},
            "BlockDeviceMapping.1.Ebs.VolumeSize",
        )
        self.assertRefused(
            InvalidParameterValue, "DescribeSpotPriceHistory", {"StartTime": "last week"}, "StartTime", "ISO 8601"
        )
        self.assertRefused(
            InvalidParameterValue, "ImportKeyPair", {"KeyName": "k", "PublicKeyMaterial": "not base64!"}, "base64"
        )

    def test_shapes_misused(self):
        """
        A list sent without numbers, or a structure sent as a value, is
        C{InvalidParameterValue}; list numbers must be positive integers.
        """
        self.assertRefused(InvalidParameterValue, "DescribeRegions", {"RegionName": "eucalyptus"}, "RegionName.1")
        self.assertRefused(InvalidParameterValue, "RunInstances", {"MinCount": "1", "MaxCount": "1", "Placement": "z"})
        self.assertRefused(UnknownParameter, "DescribeRegions", {"RegionName.0": "x"}, "RegionName.0")
        self.assertEqual(parse_input(model.operation("DescribeRegions"), {"RegionName": ""}), {"RegionNames": []})

    def test_list_order(self):
        """
        List members are ordered by their numbers, which need not be
        contiguous.
        """
        params = {"RegionName.10": "c", "RegionName.2": "b", "RegionName.1": "a"}
        self.assertEqual(parse_input(model.operation("DescribeRegions"), params), {"RegionNames": ["a", "b", "c"]})

    def test_missing_required(self):
        """
        A required member, at the top or nested, is C{MissingParameter}.
        """
        self.assertRefused(MissingParameter, "RunInstances", {"MinCount": "1"}, "MaxCount")
        self.assertRefused(MissingParameter, "CreateTags", {"ResourceId.1": "i-1"}, "Tag")


class RequestParameterTests(SynchronousTestCase):
    """
    L{request_parameters} decodes the query and the body.
    """

    def test_query_and_body(self):
        """
        Parameters come from both, decoded as forms are (C{+} is a space).
        """
        params = request_parameters(b"Action=DescribeRegions&Version=2016-11-15", b"RegionName.1=a+b%2Bc&Empty=")
        self.assertEqual(
            params, {"Action": "DescribeRegions", "Version": "2016-11-15", "RegionName.1": "a b+c", "Empty": ""}
        )

    def test_twice(self):
        """
        A name given twice, in one part or across both, is refused.
        """
        self.assertRaises(InvalidParameterValue, request_parameters, b"A=1&A=2")
        self.assertRaises(InvalidParameterValue, request_parameters, b"A=1", b"A=1")

    def test_not_utf8(self):
        """
        Bytes that are not UTF-8, raw or percent-encoded, are
        C{MalformedQueryString}.
        """
        self.assertRaises(MalformedQueryString, request_parameters, b"A=%FF")
        self.assertRaises(MalformedQueryString, request_parameters, b"A=\xff")
        self.assertEqual(request_parameters(b"A=caf%C3%A9"), {"A": "caf\u00e9"})

    def test_parse_qsl_agrees(self):
        """
        A body built by C{urlencode} reads back as C{parse_qsl} reads it.
        """
        body = urlencode({"Filter.1.Value.1": "a&b=c", "Filter.1.Name": "\u00fcml"}).encode()
        self.assertEqual(request_parameters(body), dict(parse_qsl(body.decode())))


class VersionTests(SynchronousTestCase):
    """
    L{model.check_version}: EC2 API versions from 2009-11-30 to 2016-11-15.
    """

    def test_accepted(self):
        """
        The first, the last (which botocore sends), and those between pass.
        """
        for version in ("2009-11-30", "2012-05-01", "2014-10-01", "2016-11-15"):
            model.check_version(version)
        self.assertEqual(model.service_model().api_version, model.LATEST_VERSION)

    def test_refused(self):
        """
        Older, newer and malformed versions are C{NoSuchVersion}; none at
        all is C{MissingParameter}.
        """
        for version in ("2009-07-15", "2017-01-01", "latest", "2016-11-15x"):
            self.assertRaises(NoSuchVersion, model.check_version, version)
        self.assertRaises(MissingParameter, model.check_version, None)
        self.assertRaises(MissingParameter, model.check_version, "")

    def test_unknown_action(self):
        """
        A name EC2 does not have has no model.
        """
        self.assertIsNone(model.operation("LaunchRockets"))
        self.assertEqual(model.operation("DescribeRegions").name, "DescribeRegions")
