"""
The NC's SOAP operations: the shim over the node model, and the served
service with WS-Security on the wire.
"""

import base64
import functools
import io
import os

from twisted.internet import defer

from eucalyptus import admin
from eucalyptus.config import config_from_string
from eucalyptus.errors import (
    IncorrectInstanceState, InstanceNotFound, InternalError, InvalidParameterValue, InvalidSecurity, NotImplementedOperation,
    ServiceUnavailable)
from eucalyptus.security import keys
from eucalyptus.services.nc.operations import NodeOperations
from eucalyptus.services.nc.service import power_down, make_service
from eucalyptus.soap.client import SoapClient
from eucalyptus.wsdl import SERVICE_NAMES, common, make_application, nc_types as t
from tests.daemons import free_ports
from tests.services.nc.harness import URLS, NodeTestCase, spec
from tests.services.nc.test_boot import node_client


def run_request(instance_id="i-0123abcd", mac="D0:0D:01:23:AB:CD", **fields):
    """
    An C{ncRunInstance} request as the CC sends it, with boot records.
    """
    records = [
        common.VirtualBootRecordType(type=role, resourceLocation=url, id=image_id, guestDeviceName="none", size=-1,
                                     format="none")
        for role, (image_id, url) in URLS.items()
    ]
    values = dict(
        correlationId="c", userId="alice", instanceId=instance_id, reservationId="r-1", ownerId="alice",
        accountId="alice", imageId="emi-33333333", kernelId="eki-11111111", ramdiskId="eri-22222222",
        instanceType=common.VirtualMachineType(name="m1.small", memory=256, cores=1, disk=2, virtualBootRecord=records),
        keyName="ssh-rsa AAAA alice@host", netParams=common.NetConfigType(privateMacAddress=mac, privateIp="172.31.0.9"),
        userData=base64.b64encode(b"hello").decode(), launchIndex="0", groupNames=["default"],
    )
    values.update(fields)
    return t.NcRunInstanceType(**values)


class ShimTests(NodeTestCase):
    """
    Requests in, responses out, through C{invoke}.
    """

    def setUp(self):
        NodeTestCase.setUp(self)
        self.operations = NodeOperations(self.config, "http://nc", self.node, self.sensors, None, None)

    @defer.inlineCallbacks
    def start(self, node=None):
        """
        Until the node has started, only C{DescribeServices} is answered.
        """
        yield self.assertFailure(self.call("ncDescribeResource", t.NcDescribeResourceType), ServiceUnavailable)
        adopted = yield NodeTestCase.start(self, node)
        self.operations.state = "ENABLED"
        return adopted

    def call(self, name, request_type, **fields):
        return self.operations.invoke(name, request_type(correlationId="c", userId="alice", **fields))

    @defer.inlineCallbacks
    def test_run_and_describe(self):
        """
        The run answer echoes what was asked (the MAC lower-cased) with
        C{Pending}; DescribeInstances then reports it C{Extant}.
        """
        yield self.start()
        answer = yield self.operations.invoke("ncRunInstance", run_request())
        instance = answer.instance
        self.assertEqual((instance.instanceId, instance.stateName), ("i-0123abcd", "Pending"))
        self.assertEqual(instance.netParams.privateMacAddress, "d0:0d:01:23:ab:cd")
        self.assertEqual(instance.instanceType.virtualBootRecord[0].resourceLocation, URLS["kernel"][1])
        self.assertEqual((instance.keyName, instance.groupNames), ("ssh-rsa AAAA alice@host", ["default"]))
        yield self.settled()
        described = yield self.call("ncDescribeInstances", t.NcDescribeInstancesType, instanceIds=[])
        self.assertEqual([i.stateName for i in described.instances], ["Extant"])
        self.assertEqual(described.instances[0].guestStateName, "poweredOn")

    @defer.inlineCallbacks
    def test_resources_and_modify(self):
        """
        ncDescribeResource reports maxima and availability; ncModifyNode
        disables the node and the status says so.
        """
        yield self.start()
        resource = yield self.call("ncDescribeResource", t.NcDescribeResourceType)
        self.assertEqual((resource.numberOfCoresMax, resource.memorySizeMax, resource.diskSizeMax), (8, 4096, 20))
        self.assertEqual((resource.nodeStatus, resource.hypervisor), ("enabled", "TEST"))
        yield self.call("ncModifyNode", t.NcModifyNodeType, stateName="disabled")
        resource = yield self.call("ncDescribeResource", t.NcDescribeResourceType)
        self.assertEqual(resource.nodeStatus, "disabled")
        yield self.assertFailure(self.call("ncModifyNode", t.NcModifyNodeType, stateName="asleep"), InvalidParameterValue)

    @defer.inlineCallbacks
    def test_faults(self):
        """
        Unknown instances, non-http image locations and power-down without
        a command are faults with their codes.
        """
        yield self.start()
        yield self.assertFailure(
            self.call("ncTerminateInstance", t.NcTerminateInstanceType, instanceId="i-99999999"), InstanceNotFound
        )
        yield self.assertFailure(
            self.call("ncGetConsoleOutput", t.NcGetConsoleOutputType, instanceId="i-99999999"), InstanceNotFound
        )
        bad = run_request(imageURL="file:///etc/passwd")
        bad.instanceType.virtualBootRecord[2].resourceLocation = "file:///etc/shadow"
        error = yield self.assertFailure(self.operations.invoke("ncRunInstance", bad), InvalidParameterValue)
        self.assertIn("file:///etc/shadow", error.message)
        yield self.assertFailure(self.call("ncPowerDown", t.NcPowerDownType), NotImplementedOperation)

    @defer.inlineCallbacks
    def test_address_network_stop_start(self):
        """
        ncAssignAddress records the public address; ncStartNetwork answers
        SUCCESS; ncStopInstance powers off keeping the instance Extant and
        ncStartInstance boots it again.
        """
        yield self.start()
        yield self.operations.invoke("ncRunInstance", run_request())
        yield self.settled()
        yield self.call("ncAssignAddress", t.NcAssignAddressType, instanceId="i-0123abcd", publicIp="192.0.2.7")
        described = yield self.call("ncDescribeInstances", t.NcDescribeInstancesType, instanceIds=["i-0123abcd"])
        self.assertEqual(described.instances[0].netParams.publicIp, "192.0.2.7")
        network = yield self.call("ncStartNetwork", t.NcStartNetworkType, remoteHosts=[], remoteHostPort=0, vlan=-1)
        self.assertEqual(network.networkStatus, "SUCCESS")
        yield self.call("ncStopInstance", t.NcStopInstanceType, instanceId="i-0123abcd")
        yield self.settled()
        described = yield self.call("ncDescribeInstances", t.NcDescribeInstancesType, instanceIds=["i-0123abcd"])
        self.assertEqual((described.instances[0].stateName, described.instances[0].guestStateName),
                         ("Extant", "poweredOff"))
        yield self.call("ncStartInstance", t.NcStartInstanceType, instanceId="i-0123abcd")
        described = yield self.call("ncDescribeInstances", t.NcDescribeInstancesType, instanceIds=["i-0123abcd"])
        self.assertEqual(described.instances[0].guestStateName, "poweredOn")

    @defer.inlineCallbacks
    def test_sensors(self):
        """
        After two monitor passes every metric has points; CPU utilisation is
        a percentage.
        """
        yield self.start()
        yield self.operations.invoke("ncRunInstance", run_request())
        yield self.settled()
        yield self.monitor.run_once()
        yield self.monitor.run_once()
        answer = yield self.call(
            "ncDescribeSensors", t.NcDescribeSensorsType, historySize=5, collectionIntervalTimeMs=5000,
            instanceIds=["i-0123abcd"], sensorIds=[],
        )
        (resource,) = answer.sensorsResources
        self.assertEqual(resource.resourceName, "i-0123abcd")
        metrics = {m.metricName: m.counters[0] for m in resource.metrics}
        self.assertEqual(set(metrics), {"CPUUtilization", "DiskReadOps", "DiskWriteOps", "DiskReadBytes",
                                        "DiskWriteBytes", "NetworkIn", "NetworkOut"})
        cpu = metrics["CPUUtilization"].dimensions[0].values
        self.assertEqual(len(cpu), 1)
        self.assertTrue(0.0 <= cpu[0].value <= 100.0)
        self.assertEqual(len(metrics["DiskReadBytes"].dimensions[0].values), 2)


class PowerDownTests(NodeTestCase):
    """
    ncPowerDown runs the configured command once the node is idle.
    """

    @defer.inlineCallbacks
    def test_power_down(self):
        """
        With instances the node refuses; idle, it runs the command.
        """
        marker = os.path.join(self.data, "powered-down")
        power = functools.partial(power_down, f"touch {marker}")
        operations = NodeOperations(self.config, "http://nc", self.node, self.sensors, None, power)
        yield self.start()
        operations.state = "ENABLED"
        self.node.run_instance(spec(), URLS)
        request = t.NcPowerDownType(correlationId="c", userId="u")
        yield self.assertFailure(operations.invoke("ncPowerDown", request), IncorrectInstanceState)
        self.assertFalse(os.path.exists(marker))
        yield self.settled()
        self.node.terminate("i-0123abcd", force=True)
        yield self.settled()
        yield operations.invoke("ncPowerDown", request)
        self.assertTrue(os.path.exists(marker))

    @defer.inlineCallbacks
    def test_command_fails(self):
        """
        A power-down command that fails is an error saying why, not a
        node that claims to be going down.
        """
        power = functools.partial(power_down, f"mkdir {self.data}")
        operations = NodeOperations(self.config, "http://nc", self.node, self.sensors, None, power)
        yield self.start()
        operations.state = "ENABLED"
        error = yield self.assertFailure(
            operations.invoke("ncPowerDown", t.NcPowerDownType(correlationId="c", userId="u")), InternalError
        )
        self.assertIn("File exists", error.message)


class ServedTests(NodeTestCase):
    """
    The whole NC service over HTTP with WS-Security.
    """

    @defer.inlineCallbacks
    def test_signed_calls(self):
        """
        A call signed with the cluster key is answered; an unknown instance
        is a fault with its code over the wire; an unsigned call is refused.
        """
        (port,) = free_ports(1)
        settings = config_from_string(
            f'HYPERVISOR="test"\nNC_PORT="{port}"\nLISTEN_ADDRESS="127.0.0.1"\nVNET_BRIDGE=""\n', self.data
        )
        admin.initialise(settings, out=io.StringIO())
        service = make_service(settings, keystore=keys.KeyStore(os.path.join(self.data, "keys")))
        service.startService()
        self.addCleanup(service.stopService)
        yield service.ready
        url = f"http://127.0.0.1:{port}/{settings['NC_SERVICE']}"
        client = node_client(settings, url)
        self.addCleanup(client.close)
        resource = yield client.call("ncDescribeResource", t.NcDescribeResourceType(correlationId="c", userId="u"))
        self.assertEqual(resource.hypervisor, "TEST")
        yield self.assertFailure(
            client.call("ncRebootInstance", t.NcRebootInstanceType(correlationId="c", userId="u", instanceId="i-12345678")),
            InstanceNotFound,
        )
        unsigned = SoapClient(url, make_application("nc"), SERVICE_NAMES["nc"])
        self.addCleanup(unsigned.close)
        yield self.assertFailure(
            unsigned.call("ncDescribeResource", t.NcDescribeResourceType(correlationId="c", userId="u")), InvalidSecurity
        )
