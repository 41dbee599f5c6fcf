"""
The CC's DescribeResources and DescribeInstances, answered from what its
poller learnt: a real in-process NC on libvirt's test driver, a real CC,
signed SOAP both ways.
"""

import io
import os

from twisted.internet import defer, reactor
from twisted.trial.unittest import SynchronousTestCase, TestCase

from eucalyptus import admin
from eucalyptus.capacity import Capacity
from eucalyptus.config import config_from_string
from eucalyptus.services.cc import service as cc
from eucalyptus.services.cc.nodes import InstanceCache
from eucalyptus.services.cc.operations import instances_of
from eucalyptus.services.nc import service as nc
from eucalyptus.wsdl import cc_types, common, nc_types
from tests.daemons import free_ports

SMALL = common.VirtualMachineType(name="m1.small", memory=256, cores=1, disk=5)
LARGE = common.VirtualMachineType(name="m1.large", memory=512, cores=2, disk=10)


class InstancesOfTests(SynchronousTestCase):
    """
    How many instances of a type a node holds.
    """

    def test_smallest_figure_wins(self):
        """
        The scarcest of cores, memory and disk decides, for the maxima and
        for what is available.
        """
        capacity = Capacity(8, 2, 4096, 1024, 100, 100)
        self.assertEqual(instances_of(capacity, SMALL, available=False), 8)
        self.assertEqual(instances_of(capacity, SMALL, available=True), 2)
        self.assertEqual(instances_of(capacity, LARGE, available=True), 1)


class ClusterOperationsTests(TestCase):
    """
    A CC polling one real NC.
    """

    @defer.inlineCallbacks
    def setUp(self):
        data = os.path.abspath(self.mktemp())
        os.makedirs(data)
        nc_port, cc_port = free_ports(2)
        self.settings = config_from_string(
            f'LISTEN_ADDRESS="127.0.0.1"\nHYPERVISOR="test"\nVNET_BRIDGE=""\nNC_PORT="{nc_port}"\nCC_PORT="{cc_port}"\n'
            f'NODES="127.0.0.1"\nINSTANCE_PATH="{data}/instances"\n',
            data,
        )
        admin.initialise(self.settings, out=io.StringIO())
        self.node = nc.make_service(self.settings)
        self.node.startService()
        self.addCleanup(self.node.stopService)
        yield self.node.ready
        self.cluster = cc.make_service(self.settings)
        self.cluster.startService()
        self.addCleanup(self.cluster.stopService)
        yield self.cluster.poller.poll_once()
        self.client = admin.component_client(
            self.settings, "cc", f"http://127.0.0.1:{cc_port}/axis2/services/EucalyptusCC", reactor
        )
        self.addCleanup(self.client.close)
        self.nc_url = f"http://127.0.0.1:{nc_port}/{self.settings['NC_SERVICE']}"

    @defer.inlineCallbacks
    def test_describe_resources(self):
        """
        The CLC's signed DescribeResources is answered from the poll: the
        node's capacity per VM type, its URL as service tag and its
        hypervisor.
        """
        node = admin.component_client(self.settings, "nc", self.nc_url, reactor)
        self.addCleanup(node.close)
        figures = yield node.call("ncDescribeResource", nc_types.NcDescribeResourceType(correlationId="c", userId="u"))
        expected = min(figures.numberOfCoresMax // 1, figures.memorySizeMax // 256, figures.diskSizeMax // 5)
        answer = yield self.client.call(
            "DescribeResources", cc_types.DescribeResourcesType(correlationId="c", userId="u", instanceTypes=[SMALL])
        )
        (small,) = answer.resources
        self.assertEqual((small.instanceType.name, small.maxInstances, small.availableInstances),
                         ("m1.small", expected, expected))
        self.assertEqual(answer.serviceTags, [self.nc_url])
        self.assertEqual(answer.nodes[0].hypervisor, "TEST")

    @defer.inlineCallbacks
    def test_describe_instances(self):
        """
        DescribeInstances answers from the cache, each instance tagged with
        its node's URL; an unknown id is left out.
        """
        self.assertIsInstance(self.cluster.operations.cache, InstanceCache)
        reported = nc_types.InstanceType(instanceId="i-12345678", stateName="Extant", reservationId="r-1")
        self.cluster.operations.cache.update("127.0.0.1", [reported], reactor.seconds())
        answer = yield self.client.call(
            "DescribeInstances", cc_types.DescribeInstancesType(correlationId="c", userId="u", instanceIds=[])
        )
        (instance,) = answer.instances
        self.assertEqual((instance.instanceId, instance.stateName, instance.serviceTag),
                         ("i-12345678", "Extant", self.nc_url))
        answer = yield self.client.call(
            "DescribeInstances", cc_types.DescribeInstancesType(correlationId="c", userId="u", instanceIds=["i-99999999"])
        )
        self.assertFalse(answer.instances)
