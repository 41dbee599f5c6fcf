# -*- test-case-name: tests.services.clc.test_ec2_serialize -*-
"""
Tests for L{eucalyptus.services.clc.ec2.serialize}: documents written from
result dicts, read back by botocore's own C{EC2QueryParser} into the same
dicts, for hand-made results and for random results of every action.
"""

from datetime import datetime, timedelta, timezone

from botocore.parsers import create_parser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InstanceNotFound, InternalError
from eucalyptus.services.clc.ec2 import model
from eucalyptus.services.clc.ec2.serialize import error_document, response_document, timestamp_text
from tests.services.clc.shapes import OPERATIONS, values_of, walk_structures

REQUEST_ID = "5d2b3a3c-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
LAUNCHED = datetime(2016, 11, 15, 12, 30, 1, 250000, tzinfo=timezone.utc)

DESCRIBE_INSTANCES = {
    "Reservations": [
        {
            "ReservationId": "r-12345678",
            "OwnerId": "123456789012",
            "Groups": [{"GroupName": "default", "GroupId": "sg-1"}],
            "Instances": [
                {
                    "InstanceId": "i-12345678",
                    "ImageId": "emi-12345678",
                    "State": {"Code": 16, "Name": "running"},
                    "PrivateDnsName": "euca-172-31-0-2.eucalyptus.internal",
                    "KeyName": "my key",
                    "AmiLaunchIndex": 0,
                    "InstanceType": "m1.small",
                    "LaunchTime": LAUNCHED,
                    "Placement": {"AvailabilityZone": "zone-1", "Tenancy": "default"},
                    "Monitoring": {"State": "disabled"},
                    "EbsOptimized": False,
                    "BlockDeviceMappings": [
                        {
                            "DeviceName": "/dev/sda1",
                            "Ebs": {
                                "VolumeId": "vol-1",
                                "Status": "attached",
                                "AttachTime": LAUNCHED,
                                "DeleteOnTermination": True,
                            },
                        }
                    ],
                    "Tags": [{"Key": "Name", "Value": "web <1> & \"db\""}, {"Key": "empty", "Value": ""}],
                    "SecurityGroups": [{"GroupName": "default", "GroupId": "sg-1"}],
                    "ProductCodes": [],
                },
                {"InstanceId": "i-87654321", "State": {"Code": 48, "Name": "terminated"}, "Tags": []},
            ],
        }
    ],
    "NextToken": "next",
}

DESCRIBE_VOLUMES = {
    "Volumes": [
        {
            "VolumeId": "vol-1",
            "Size": 20,
            "SnapshotId": "",
            "AvailabilityZone": "zone-1",
            "State": "in-use",
            "CreateTime": LAUNCHED,
            "Attachments": [
                {
                    "VolumeId": "vol-1",
                    "InstanceId": "i-12345678",
                    "Device": "/dev/sdb",
                    "State": "attached",
                    "AttachTime": LAUNCHED,
                    "DeleteOnTermination": False,
                }
            ],
            "VolumeType": "standard",
            "Encrypted": False,
        }
    ]
}

DESCRIBE_SECURITY_GROUPS = {
    "SecurityGroups": [
        {
            "OwnerId": "123456789012",
            "GroupName": "web",
            "GroupId": "sg-2",
            "Description": "web servers",
            "IpPermissions": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 80,
                    "ToPort": 80,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    "UserIdGroupPairs": [{"UserId": "123456789012", "GroupName": "admins", "GroupId": "sg-3"}],
                },
                {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [], "UserIdGroupPairs": []},
            ],
            "IpPermissionsEgress": [],
        }
    ]
}


def parsed(action, document, status=200):
    """
    What botocore makes of a document answering C{action}.
    """
    operation = model.operation(action)
    response = {"body": document, "headers": {}, "status_code": status}
    return create_parser("ec2").parse(response, operation.output_shape)


def without_metadata(result):
    return {key: value for key, value in result.items() if key != "ResponseMetadata"}


class ResponseTests(SynchronousTestCase):
    """
    Hand-made results of the actions users call most.
    """

    def assertRoundTrip(self, action, result, version=model.LATEST_VERSION):
        document = response_document(model.operation(action), result, REQUEST_ID, version)
        back = parsed(action, document)
        self.assertEqual(back["ResponseMetadata"]["RequestId"], REQUEST_ID)
        self.assertEqual(without_metadata(back), result)
        return etree.fromstring(document)

    def test_describe_instances(self):
        """
        Reservations holding instances holding tags, block devices and
        timestamps; EC2's element names, C{<item>}s and namespace.
        """
        root = self.assertRoundTrip("DescribeInstances", DESCRIBE_INSTANCES)
        ns = {"ec2": "http://ec2.amazonaws.com/doc/2016-11-15/"}
        self.assertEqual(root.tag, "{http://ec2.amazonaws.com/doc/2016-11-15/}DescribeInstancesResponse")
        self.assertEqual(root.findtext("ec2:requestId", namespaces=ns), REQUEST_ID)
        path = "ec2:reservationSet/ec2:item/ec2:instancesSet/ec2:item/"
        self.assertEqual(root.findtext(path + "ec2:tagSet/ec2:item/ec2:key", namespaces=ns), "Name")
        self.assertEqual(root.findtext(path + "ec2:instanceState/ec2:code", namespaces=ns), "16")
        self.assertEqual(root.findtext(path + "ec2:launchTime", namespaces=ns), "2016-11-15T12:30:01.250Z")
        self.assertEqual(root.findtext(path + "ec2:ebsOptimized", namespaces=ns), "false")

    def test_describe_volumes(self):
        """
        Volumes with their attachments.
        """
        self.assertRoundTrip("DescribeVolumes", DESCRIBE_VOLUMES)

    def test_describe_security_groups(self):
        """
        Groups with their permissions, empty lists included.
        """
        self.assertRoundTrip("DescribeSecurityGroups", DESCRIBE_SECURITY_GROUPS)

    def test_old_version(self):
        """
        The namespace is the version the request named.
        """
        root = self.assertRoundTrip("DescribeRegions", {"Regions": []}, version="2012-05-01")
        self.assertEqual(etree.QName(root).namespace, "http://ec2.amazonaws.com/doc/2012-05-01/")

    def test_no_output(self):
        """
        An action without an output shape answers C{<return>true</return>}.
        """
        document = response_document(model.operation("CreateTags"), None, REQUEST_ID, model.LATEST_VERSION)
        root = etree.fromstring(document)
        self.assertEqual(root.findtext("{*}return"), "true")
        back = parsed("CreateTags", document)
        self.assertEqual(back["ResponseMetadata"]["RequestId"], REQUEST_ID)
        self.assertEqual(without_metadata(back), {})

    def test_wrong_results(self):
        """
        A result that does not fit its shape is a bug: L{ValueError}.
        """
        operation = model.operation("DescribeRegions")
        for result in (
            {"Regionz": []},
            {"Regions": "eucalyptus"},
            {"Regions": [{"RegionName": 7}]},
            {"Regions": [{"OptInStatus": True}]},
            {"Regions": ["eucalyptus"]},
        ):
            self.assertRaises(ValueError, response_document, operation, result, REQUEST_ID, model.LATEST_VERSION)
        self.assertRaises(
            ValueError, response_document, model.operation("CreateTags"), {"Return": True}, REQUEST_ID, "2016-11-15"
        )

    def test_none_left_out(self):
        """
        Members that are L{None} are not written.
        """
        result = {"Regions": [{"RegionName": "eucalyptus", "Endpoint": None}]}
        document = response_document(model.operation("DescribeRegions"), result, REQUEST_ID, model.LATEST_VERSION)
        self.assertNotIn(b"regionEndpoint", document)


class TimestampTests(SynchronousTestCase):
    """
    L{timestamp_text}.
    """

    def test_forms(self):
        """
        Aware, naive (UTC) and epoch times are written in UTC with
        milliseconds.
        """
        east = timezone(timedelta(hours=2))
        self.assertEqual(timestamp_text(datetime(2016, 11, 15, 14, 0, tzinfo=east)), "2016-11-15T12:00:00.000Z")
        self.assertEqual(timestamp_text(datetime(2016, 11, 15, 12, 0, 0, 999999)), "2016-11-15T12:00:00.999Z")
        self.assertEqual(timestamp_text(1479211200.5), "2016-11-15T12:00:00.500Z")


class ErrorDocumentTests(SynchronousTestCase):
    """
    L{error_document}: EC2's C{Response/Errors/Error} with the C{RequestID}.
    """

    def test_botocore_reads_it(self):
        """
        botocore finds the code, the message and the request id.
        """
        document = error_document(InstanceNotFound("The instance ID 'i-1' does not exist"), REQUEST_ID)
        back = parsed("DescribeInstances", document, status=400)
        self.assertEqual(
            back["Error"], {"Code": "InvalidInstanceID.NotFound", "Message": "The instance ID 'i-1' does not exist"}
        )
        self.assertEqual(back["ResponseMetadata"]["RequestId"], REQUEST_ID)

    def test_layout(self):
        """
        The elements are EC2's, without a namespace.
        """
        root = etree.fromstring(error_document(InternalError(), REQUEST_ID))
        self.assertEqual(root.tag, "Response")
        self.assertEqual(root.findtext("Errors/Error/Code"), "InternalError")
        self.assertEqual(root.findtext("RequestID"), REQUEST_ID)


# Times as EC2 writes them: to the millisecond.
_MILLISECOND_TIMES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


def _outputs(action):
    shape = model.operation(action).output_shape
    return st.just(None) if shape is None else values_of(shape, times=_MILLISECOND_TIMES)


class ModelTests(SynchronousTestCase):
    """
    The serialiser writes what botocore's parser reads, for every action.
    """

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(OPERATIONS).flatmap(lambda name: st.tuples(st.just(name), _outputs(name))))
    def test_every_action(self, case):
        """
        Random results of random actions read back as themselves.
        """
        action, result = case
        document = response_document(model.operation(action), result, REQUEST_ID, model.LATEST_VERSION)
        self.assertEqual(without_metadata(parsed(action, document)), result or {})

    def test_location_names_unique(self):
        """
        No two members of an output structure share an element name.
        """
        for shape in walk_structures(output=True):
            names = [member.serialization.get("name", name) for name, member in shape.members.items()]
            self.assertEqual(len(names), len(set(names)), shape.name)
