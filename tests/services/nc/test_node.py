"""
The Node Controller's model on libvirt's test driver: running, describing,
terminating, bad input, resources and the image cache accounting.
"""

import base64
import os

from twisted.internet import defer

from eucalyptus.errors import (
    IncorrectInstanceState, InstanceNotFound, InsufficientInstanceCapacity, InvalidParameterValue, ServiceUnavailable)
from eucalyptus.hypervisor.errors import DomainNotFound
from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.node import DOMAIN_XML
from tests.services.nc.harness import URLS, NodeTestCase, spec


class RunInstanceTests(NodeTestCase):
    """
    C{run_instance} through to a created domain.
    """

    @defer.inlineCallbacks
    def test_staging_then_booting(self):
        """
        The answer is C{Staging} (reported C{Pending}); once the start-up is
        done the domain exists and the instance is C{Booting} (C{Extant}).
        """
        yield self.start()
        answer = self.node.run_instance(spec(), URLS)
        self.assertEqual((answer.state, answer.reported), (records.STAGING, records.PENDING))
        yield self.settled()
        instance = self.node.get("i-0123abcd")
        self.assertEqual((instance.state, instance.reported), (records.BOOTING, records.EXTANT))
        info = yield self.hypervisor.describe("i-0123abcd")
        self.assertEqual(info.state, "running")
        self.assertEqual(info.memory_kib, 128 * 1024)
        xml = yield self.hypervisor.domain_xml("i-0123abcd")
        self.assertIn(os.path.join(self.config.instance_path, "cache"), xml)
        self.assertIn("d0:0d:01:23:ab:cd", self.node.describe()[0].net.mac)

    @defer.inlineCallbacks
    def test_instance_directory(self):
        """
        The instance directory holds the record, the domain XML and the
        disks: a qcow2 root over the cached machine image.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        directory = self.directory("i-0123abcd")
        names = set(os.listdir(directory))
        self.assertTrue({"instance.json", DOMAIN_XML, "root.qcow2", "console.append.log"} <= names, names)
        saved = records.load(directory)
        self.assertEqual(saved.state, records.BOOTING)
        self.assertEqual(set(saved.images), {"kernel", "ramdisk", "machine"})
        self.assertEqual(sorted(saved.disks)[0], "vda")

    @defer.inlineCallbacks
    def test_monitor_sees_running(self):
        """
        A monitor pass moves a booting instance to what libvirt reports.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        yield self.monitor.run_once()
        self.assertEqual(self.node.get("i-0123abcd").state, records.RUNNING)

    @defer.inlineCallbacks
    def test_idempotent(self):
        """
        A second C{ncRunInstance} for the same id answers with the existing
        instance and starts nothing.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        again = self.node.run_instance(spec(), URLS)
        self.assertEqual(again.state, records.BOOTING)
        self.assertEqual(self.node.busy, {})
        domains = yield self.hypervisor.list_domains()
        self.assertEqual([d.name for d in domains].count("i-0123abcd"), 1)

    @defer.inlineCallbacks
    def test_images_shared(self):
        """
        Two instances of one image download each image once.
        """
        yield self.start()
        self.node.run_instance(spec("i-00000001", mac="d0:0d:00:00:00:01"), URLS)
        self.node.run_instance(spec("i-00000002", mac="d0:0d:00:00:00:02"), URLS)
        yield self.settled()
        self.assertEqual(sorted(self.fetcher.fetched), sorted(url for _, url in URLS.values()))
        references = sorted(refs for _, _, refs, _ in self.node.cache.entries())
        self.assertEqual(references, [2, 2, 2])


class BadInputTests(NodeTestCase):
    """
    Requests the node refuses, and failures it records.
    """

    @defer.inlineCallbacks
    def test_refused(self):
        """
        Bad ids, a missing kernel, an oversized type, a duplicate MAC and a
        disabled node are refused with the codes a client expects.
        """
        yield self.start()
        self.assertRaises(InvalidParameterValue, self.node.run_instance, spec("i-bad"), URLS)
        self.assertRaises(InvalidParameterValue, self.node.run_instance, spec(user="../x"), URLS)
        self.assertRaises(InvalidParameterValue, self.node.run_instance, spec(), {"machine": URLS["machine"]})
        error = self.assertRaises(InsufficientInstanceCapacity, self.node.run_instance, spec(cores=64), URLS)
        self.assertIn("64 cores", error.message)
        self.node.run_instance(spec("i-00000001"), URLS)
        error = self.assertRaises(InvalidParameterValue, self.node.run_instance, spec("i-00000002"), URLS)
        self.assertIn("already used by i-00000001", error.message)
        self.node.enabled = False
        self.assertRaises(ServiceUnavailable, self.node.run_instance, spec("i-00000003", mac=""), URLS)
        yield self.settled()

    @defer.inlineCallbacks
    def test_unknown_instance(self):
        """
        Every operation on an unknown instance id is C{InvalidInstanceID.NotFound}.
        """
        yield self.start()
        self.assertRaises(InstanceNotFound, self.node.terminate, "i-99999999")
        self.assertRaises(InstanceNotFound, self.node.reboot, "i-99999999")
        self.assertRaises(InstanceNotFound, self.node.console_output, "i-99999999")
        self.assertEqual(self.node.describe(["i-99999999"]), [])

    @defer.inlineCallbacks
    def test_missing_image(self):
        """
        An image URL that does not exist ends the instance in C{Teardown}
        with the reason in its record and its console output; no domain,
        no cache reference, no disks are left.
        """
        yield self.start()
        urls = dict(URLS, machine=("emi-44444444", "http://walrus.test/images/missing.img"))
        self.node.run_instance(spec(), urls)
        yield self.settled()
        instance = self.node.get("i-0123abcd")
        self.assertEqual(instance.state, records.TEARDOWN)
        self.assertIn("missing.img", instance.failure)
        yield self.assertFailure(self.hypervisor.describe("i-0123abcd"), DomainNotFound)
        self.assertEqual([refs for _, _, refs, _ in self.node.cache.entries()], [0, 0])
        self.assertEqual(sorted(os.listdir(self.directory("i-0123abcd"))), ["console.append.log"])
        output = yield self.node.console_output("i-0123abcd")
        self.assertIn(b"missing.img", base64.b64decode(output))


class TerminateTests(NodeTestCase):
    """
    Terminating, and what is left afterwards.
    """

    @defer.inlineCallbacks
    def test_terminate(self):
        """
        Terminate powers off, destroys, releases the images and deletes the
        disks; the instance is C{Teardown}, its console logs kept until it is
        forgotten.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        previous, now = self.node.terminate("i-0123abcd")
        self.assertEqual(previous, records.EXTANT)
        yield self.settled()
        instance = self.node.get("i-0123abcd")
        self.assertEqual(instance.reported, records.TEARDOWN)
        yield self.assertFailure(self.hypervisor.describe("i-0123abcd"), DomainNotFound)
        self.assertEqual([refs for _, _, refs, _ in self.node.cache.entries()], [0, 0, 0])
        self.assertEqual(sorted(os.listdir(self.directory("i-0123abcd"))), ["console.append.log"])
        self.assertEqual(self.node.terminate("i-0123abcd"), (records.TEARDOWN, records.TEARDOWN))

    @defer.inlineCallbacks
    def test_forgotten(self):
        """
        A torn-down instance is forgotten after the teardown duration, with
        its directory.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        self.node.terminate("i-0123abcd", force=True)
        yield self.settled()
        yield self.monitor.run_once()
        self.assertIn("i-0123abcd", self.node.instances)
        self.node.get("i-0123abcd").state_time -= self.config.teardown_duration
        yield self.monitor.run_once()
        self.assertNotIn("i-0123abcd", self.node.instances)
        self.assertFalse(os.path.exists(self.directory("i-0123abcd")))

    @defer.inlineCallbacks
    def test_terminate_while_staging(self):
        """
        Terminating an instance whose images are still downloading cancels
        it: it never gets a domain.
        """
        yield self.start()
        self.fetcher.gate = defer.Deferred()
        self.node.run_instance(spec(), URLS)
        self.assertEqual(self.node.terminate("i-0123abcd"), (records.PENDING, records.PENDING))
        self.fetcher.gate.callback(None)
        yield self.settled()
        self.assertEqual(self.node.get("i-0123abcd").state, records.TEARDOWN)
        domains = yield self.hypervisor.list_domains()
        self.assertNotIn("i-0123abcd", [d.name for d in domains])

    @defer.inlineCallbacks
    def test_stop_start(self):
        """
        A stopped instance keeps its disks and boots again on start.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        self.node.stop("i-0123abcd")
        yield self.settled()
        instance = self.node.get("i-0123abcd")
        self.assertEqual((instance.state, instance.reported), (records.SHUTOFF, records.EXTANT))
        self.assertIn("root.qcow2", os.listdir(self.directory("i-0123abcd")))
        yield self.monitor.run_once()
        self.assertEqual(self.node.get("i-0123abcd").state, records.SHUTOFF)
        self.assertRaises(IncorrectInstanceState, self.node.reboot, "i-0123abcd")
        yield self.node.start("i-0123abcd")
        info = yield self.hypervisor.describe("i-0123abcd")
        self.assertEqual(info.state, "running")

    @defer.inlineCallbacks
    def test_domain_vanishes(self):
        """
        A domain that disappears behind the node's back (the guest powered
        off) is noticed by the monitor and torn down.
        """
        yield self.start()
        self.node.run_instance(spec(), URLS)
        yield self.settled()
        yield self.hypervisor.destroy("i-0123abcd")
        yield self.monitor.run_once()
        yield self.settled()
        self.assertEqual(self.node.get("i-0123abcd").state, records.TEARDOWN)


class ResourceTests(NodeTestCase):
    """
    What the node offers falls and rises with its instances.
    """

    @defer.inlineCallbacks
    def test_available(self):
        """
        Available cores, memory and disk fall by the type's while an instance
        lives and come back after it is torn down.
        """
        yield self.start()
        before = self.node.resources()
        self.assertEqual((before.cores_max, before.memory_max, before.disk_max), (8, 4096, 20))
        self.assertEqual(before.cores_available, 8)
        self.node.run_instance(spec(cores=2, memory=512, disk=3), URLS)
        during = self.node.resources()
        self.assertEqual((during.cores_available, during.memory_available, during.disk_available), (6, 3584, 17))
        yield self.settled()
        self.node.terminate("i-0123abcd", force=True)
        yield self.settled()
        self.assertEqual(self.node.resources(), before)
