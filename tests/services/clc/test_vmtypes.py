# -*- test-case-name: tests.services.clc.test_vmtypes -*-
"""
Tests for L{eucalyptus.services.clc.vmtypes}: the default VM types in the
cloud database (SQLite and PostgreSQL), changing them, and
C{DescribeInstanceTypes}, directly and through boto3.
"""

from sqlalchemy import func, select
from twisted.internet import defer
from twisted.trial import unittest
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc import vmtypes
from eucalyptus.services.clc.cloud import Cloud
from eucalyptus.services.clc.db import open_cloud_database
from eucalyptus.services.clc.ec2.dispatch import Caller, RequestContext
from eucalyptus.services.clc.ec2.errors import InvalidInstanceType, InvalidPaginationToken
from tests.dbs import SQLiteDatabase, on_both_databases
from tests.services.clc.ec2_harness import LiveCloudController, error_of, in_thread

_USER = Caller("123456789012", "alice", "AIDAALICE", "admin", "AKIALICE")


class VmTypeStoreTestsMixin:
    """
    The VM types table: seeded when created, read, changed.
    """

    def setUp(self):
        self.url = self.database_url()
        self.db = open_cloud_database(self.url)

    def test_seeded(self):
        """
        A new cloud database has Eucalyptus's 18 default types, smallest
        first, with the sizes of the reference list.
        """
        with self.db.connect() as conn:
            types = vmtypes.all_vm_types(conn)
        self.assertEqual([vm.name for vm in types], [row[0] for row in vmtypes.DEFAULT_TYPES])
        self.assertEqual(len(types), 18)
        by_name = {vm.name: vm for vm in types}
        self.assertEqual(by_name["m1.small"], vmtypes.VmType("m1.small", 1, 256, 5, 2, False))
        self.assertEqual(by_name["c1.medium"], vmtypes.VmType("c1.medium", 2, 512, 10, 2, False))
        self.assertEqual(by_name["hs1.8xlarge"], vmtypes.VmType("hs1.8xlarge", 48, 119808, 24000, 8, False))
        self.assertTrue(by_name["t1.micro"].ebs_only)
        self.assertIn(vmtypes.DEFAULT_TYPE, by_name)

    def test_vm_type(self):
        """
        L{vmtypes.vm_type} finds a type by name; an unknown name is
        C{InvalidParameterValue}, "Invalid instance type".
        """
        with self.db.connect() as conn:
            self.assertEqual(vmtypes.vm_type(conn, "m1.large").cores, 2)
            error = self.assertRaises(InvalidParameterValue, vmtypes.vm_type, conn, "m9.huge")
        self.assertEqual(error.code, "InvalidParameterValue")
        self.assertIn("Invalid instance type", error.message)

    def test_modify(self):
        """
        L{vmtypes.modify_vm_type} changes what it is given and keeps the
        rest; the change lasts, and opening the database again neither
        seeds the table again nor undoes it.
        """
        with self.db.begin() as conn:
            changed = vmtypes.modify_vm_type(conn, "m1.small", cores=2, disk=8)
        self.assertEqual(changed, vmtypes.VmType("m1.small", 2, 256, 8, 2, False))
        with self.db.begin() as conn:
            vmtypes.modify_vm_type(conn, "m1.small", memory=384)
        again = open_cloud_database(self.url)
        with again.connect() as conn:
            self.assertEqual(vmtypes.vm_type(conn, "m1.small"), vmtypes.VmType("m1.small", 2, 384, 8, 2, False))
            count = conn.execute(select(func.count()).select_from(vmtypes.vm_types)).scalar()
        self.assertEqual(count, len(vmtypes.DEFAULT_TYPES))

    def test_modify_nothing(self):
        """
        Without values the type is returned unchanged.
        """
        with self.db.begin() as conn:
            self.assertEqual(vmtypes.modify_vm_type(conn, "c1.xlarge"), vmtypes.vm_type(conn, "c1.xlarge"))

    def test_modify_refused(self):
        """
        An unknown type, or a size that is not a positive whole number, is
        C{InvalidParameterValue} and changes nothing.
        """
        for name, values in [
            ("m9.huge", {"cores": 1}),
            ("m1.small", {"cores": 0}),
            ("m1.small", {"memory": -256}),
            ("m1.small", {"disk": "5"}),
            ("m1.small", {"cores": True}),
            ("m1.small", {"memory": 2**31}),
        ]:
            with self.db.begin() as conn:
                self.assertRaises(InvalidParameterValue, vmtypes.modify_vm_type, conn, name, **values)
        with self.db.connect() as conn:
            self.assertEqual(vmtypes.vm_type(conn, "m1.small"), vmtypes.VmType("m1.small", 1, 256, 5, 2, False))


VmTypeStoreSQLiteTests, VmTypeStorePostgreSQLTests = on_both_databases(VmTypeStoreTestsMixin)


class DescribeInstanceTypesTests(SQLiteDatabase, SynchronousTestCase):
    """
    The C{DescribeInstanceTypes} action, called directly.
    """

    def setUp(self):
        self.db = open_cloud_database(self.database_url())
        cloud = Cloud(None, None, self.db, None, None)
        self.context = RequestContext("req", "DescribeInstanceTypes", "2016-11-15", _USER, None, cloud)

    def describe(self, **params):
        return vmtypes.describe_instance_types(self.context, params)

    def test_all(self):
        """
        Every type, in order, with its size in AWS's C{InstanceTypeInfo}.
        """
        answer = self.describe()
        self.assertIsNone(answer["NextToken"])
        names = [info["InstanceType"] for info in answer["InstanceTypes"]]
        self.assertEqual(names, [row[0] for row in vmtypes.DEFAULT_TYPES])
        small = answer["InstanceTypes"][1]
        self.assertEqual(small["VCpuInfo"]["DefaultVCpus"], 1)
        self.assertEqual(small["MemoryInfo"], {"SizeInMiB": 256})
        self.assertEqual(small["InstanceStorageInfo"]["TotalSizeInGB"], 5)
        self.assertEqual(small["SupportedRootDeviceTypes"], ["instance-store"])
        micro = answer["InstanceTypes"][0]
        self.assertFalse(micro["InstanceStorageSupported"])
        self.assertNotIn("InstanceStorageInfo", micro)
        self.assertEqual(micro["SupportedRootDeviceTypes"], ["ebs"])

    def test_named(self):
        """
        C{InstanceTypes} narrows the answer; a type the cloud does not have
        is C{InvalidInstanceType}.
        """
        answer = self.describe(InstanceTypes=["c1.xlarge", "m1.small"])
        self.assertEqual([i["InstanceType"] for i in answer["InstanceTypes"]], ["m1.small", "c1.xlarge"])
        error = self.assertRaises(InvalidInstanceType, self.describe, InstanceTypes=["m1.small", "x9.big"])
        self.assertIn("x9.big", error.message)

    def test_filters(self):
        """
        The filters of AWS's C{DescribeInstanceTypes} on the VM types'
        sizes, with wildcards; an unknown filter is refused.
        """

        def names(*filters):
            answer = self.describe(Filters=[{"Name": n, "Values": v} for n, v in filters])
            return [i["InstanceType"] for i in answer["InstanceTypes"]]

        self.assertEqual(names(("vcpu-info.default-vcpus", ["16"])), ["cc2.8xlarge", "cg1.4xlarge", "cr1.8xlarge"])
        self.assertEqual(names(("memory-info.size-in-mib", ["512"]), ("vcpu-info.default-vcpus", ["2"])),
                         ["c1.medium", "m1.large"])  # fmt: skip
        self.assertEqual(names(("instance-type", ["m3.*"])), ["m3.xlarge", "m3.2xlarge"])
        self.assertEqual(names(("instance-storage-info.total-size-in-gb", ["240"])), ["cr1.8xlarge"])
        self.assertEqual(names(("instance-storage-info.disk.type", ["ssd"])), ["hi1.4xlarge", "cr1.8xlarge"])
        self.assertEqual(names(("supported-root-device-type", ["ebs"])), ["t1.micro", "m3.xlarge", "m3.2xlarge"])
        self.assertEqual(len(names(("processor-info.supported-architecture", ["x86_64"]))), 18)
        self.assertRaises(InvalidParameterValue, names, ("colour", ["blue"]))

    def test_paging(self):
        """
        C{MaxResults} (5 to 100) pages the types in order, C{NextToken}
        continues; other tokens and sizes are refused.
        """
        seen, token = [], None
        while True:
            params = {"MaxResults": 5}
            if token:
                params["NextToken"] = token
            answer = self.describe(**params)
            seen.extend(i["InstanceType"] for i in answer["InstanceTypes"])
            token = answer["NextToken"]
            if token is None:
                break
        self.assertEqual(seen, [row[0] for row in vmtypes.DEFAULT_TYPES])
        self.assertRaises(InvalidParameterValue, self.describe, MaxResults=4)
        self.assertRaises(InvalidParameterValue, self.describe, MaxResults=101)
        self.assertRaises(InvalidPaginationToken, self.describe, MaxResults=5, NextToken="nonsense")

    def test_changed_sizes(self):
        """
        A type an administrator changed is described with its new size.
        """
        with self.db.begin() as conn:
            vmtypes.modify_vm_type(conn, "m1.small", cores=4, memory=1024, disk=20)
        info = self.describe(InstanceTypes=["m1.small"])["InstanceTypes"][0]
        self.assertEqual(info["VCpuInfo"]["DefaultVCpus"], 4)
        self.assertEqual(info["VCpuInfo"]["ValidCores"], [1, 2, 3, 4])
        self.assertEqual(info["MemoryInfo"]["SizeInMiB"], 1024)
        self.assertEqual(info["InstanceStorageInfo"]["Disks"], [{"SizeInGB": 20, "Count": 1, "Type": "hdd"}])


class DescribeInstanceTypesBoto3Tests(unittest.TestCase):
    """
    C{DescribeInstanceTypes} through boto3 against a live Cloud Controller.
    """

    timeout = 120

    def setUp(self):
        self.live = LiveCloudController(self)
        self.ec2 = self.live.client()

    @defer.inlineCallbacks
    def test_paginator(self):
        """
        boto3's paginator walks every type; botocore reads the
        C{InstanceTypeInfo} back as it was meant.
        """

        def walk():
            pages = self.ec2.get_paginator("describe_instance_types").paginate(PaginationConfig={"PageSize": 7})
            return [info for page in pages for info in page["InstanceTypes"]]

        infos = yield in_thread(walk)
        self.assertEqual([i["InstanceType"] for i in infos], [row[0] for row in vmtypes.DEFAULT_TYPES])
        small = infos[1]
        self.assertEqual(small["VCpuInfo"]["DefaultVCpus"], 1)
        self.assertEqual(small["MemoryInfo"]["SizeInMiB"], 256)
        self.assertEqual(small["InstanceStorageInfo"]["Disks"], [{"SizeInGB": 5, "Count": 1, "Type": "hdd"}])
        self.assertEqual(small["NetworkInfo"]["MaximumNetworkInterfaces"], 2)

    @defer.inlineCallbacks
    def test_filter_and_errors(self):
        """
        A filter on vCPUs through the wire; an unknown type is
        C{InvalidInstanceType} (400).
        """
        answer = yield in_thread(
            self.ec2.describe_instance_types, Filters=[{"Name": "vcpu-info.default-vcpus", "Values": ["8"]}]
        )
        self.assertEqual(
            [i["InstanceType"] for i in answer["InstanceTypes"]], ["cc1.4xlarge", "m2.4xlarge", "hi1.4xlarge"]
        )
        code, status, message, _, _ = yield in_thread(
            error_of, self.ec2.describe_instance_types, InstanceTypes=["m1.small", "p9.giant"]
        )
        self.assertEqual((code, status), ("InvalidInstanceType", 400))
        self.assertIn("p9.giant", message)
