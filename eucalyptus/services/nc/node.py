# -*- test-case-name: tests.services.nc.test_node -*-
"""
The Node Controller's model: the instances on this host and what can be
done to them, with no knowledge of SOAP.

C{run_instance} records the instance as C{Staging} and answers at once; the
start-up (images from the cache, disks, the domain) goes on in the
background and ends in C{Booting} or, on any failure, in a recorded failure
and C{Teardown}.  Terminating asks the guest to power off, waits the grace
period, then destroys the domain.  L{eucalyptus.services.nc.lifecycle}
keeps the records in step with libvirt every few seconds and adopts
running domains after a restart.
"""

import os
import re
import shutil

from twisted.internet import defer
from twisted.internet.task import deferLater
from twisted.logger import Logger

from eucalyptus.errors import (
    EucalyptusError, IncorrectInstanceState, InstanceNotFound, InsufficientInstanceCapacity, InvalidParameterValue,
    ServiceUnavailable)
from eucalyptus.hypervisor.errors import DomainNotFound
from eucalyptus.services.nc import console, instances as records
from eucalyptus.services.nc.domain import domain_xml
from eucalyptus.services.nc.instances import (
    BOOTING, CANCELED, RUNNING, SHUTDOWN, SHUTOFF, STAGING, TEARDOWN, valid_instance_id)
from eucalyptus.services.nc.resources import node_resources

__all__ = ["Node", "DOMAIN_XML", "IMAGE_ROLES"]

#: The domain definition's file name in the instance directory.
DOMAIN_XML = "instance-libvirt.xml"
#: The images an instance boots from, in the order they are fetched.
IMAGE_ROLES = ("kernel", "ramdisk", "machine")
_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_KEEP_AFTER_TEARDOWN = (console.SERIAL_LOG, console.NC_LOG)


class Node:
    """
    The instances of one node.

    @ivar instances: instance id to L{records.Instance}.
    @ivar enabled: C{False} while disabled for maintenance (no new instances).
    @ivar host: the hypervisor's L{HostInfo}, once started.
    """

    _log = Logger()

    def __init__(self, config, hypervisor, cache, disks, files, work_bytes, reactor):
        """
        @param config: the L{eucalyptus.config.NodeConfig}.
        @param hypervisor: an L{IHypervisor}.
        @param cache: the L{eucalyptus.services.nc.images.ImageCache}.
        @param disks: a L{eucalyptus.services.nc.disks.DiskBuilder}.
        @param files: a one-thread L{Workers} lane for the instance files.
        @param work_bytes: space for instance disks.
        """
        self.config = config
        self.hypervisor = hypervisor
        self.cache = cache
        self.disks = disks
        self.files = files
        self.work_bytes = work_bytes
        self.reactor = reactor
        self.instances = {}
        self.enabled = True
        self.host = None
        self.busy = {}

    # Lookups.

    def directory(self, instance):
        """
        C{INSTANCE_PATH/work/<user>/<instance>}.
        """
        return os.path.join(self.config.instance_path, "work", instance.user_id, instance.instance_id)

    def get(self, instance_id):
        """
        The instance of that id.

        @raise InstanceNotFound: there is none on this node.
        """
        instance = self.instances.get(instance_id)
        if instance is None:
            raise InstanceNotFound(f"The instance ID '{instance_id}' does not exist on this node.")
        return instance

    def describe(self, instance_ids=()):
        """
        Copies of the named instances (all when none are named); unknown ids
        are left out, as the original does.
        """
        wanted = set(instance_ids)
        return [i.copy() for i in self.instances.values() if not wanted or i.instance_id in wanted]

    def resources(self):
        """
        The node's L{eucalyptus.capacity.Capacity}.
        """
        return node_resources(
            self.host, self.config.max_cores, self.config.max_mem, self.work_bytes, self.instances.values()
        )

    def live(self):
        """
        The instances not torn down.
        """
        return [i for i in self.instances.values() if i.state != TEARDOWN]

    # Records and notes.

    def now(self):
        return self.reactor.seconds()

    def enter(self, instance, state, why=None):
        """
        Move C{instance} to C{state}, note why, and save its record.

        @return: a Deferred firing once the record is on disk.
        """
        instance.enter(state, self.now())
        if why:
            self.note(instance, why)
        return self.save(instance)

    def save(self, instance):
        """
        Write the instance's record (not once it is torn down).
        """
        if instance.state == TEARDOWN:
            return defer.succeed(None)
        return self.files.submit(records.save, instance.copy(), self.directory(instance))

    def note(self, instance, message):
        """
        A line in the instance's own log (the head of its console output).
        """
        self._log.info("{instance}: {message}", instance=instance.instance_id, message=message)
        self.files.post(_note_if_present, self.directory(instance), message, self.now())

    # Running.

    def run_instance(self, spec, urls):
        """
        Start an instance, or answer with the existing one for an instance id
        this node already has (C{ncRunInstance} is idempotent).

        @param spec: the L{records.Instance} as requested.
        @param urls: role (C{kernel}, C{ramdisk}, C{machine}) to C{(image id,
            URL)}; C{kernel} and C{machine} are required.
        @return: a copy of the instance record, C{Staging}.
        """
        existing = self.instances.get(spec.instance_id)
        if existing is not None:
            return existing.copy()
        self._check_run(spec, urls)
        instance = spec.copy()
        instance.launch_time = instance.state_time = self.now()
        instance.state, instance.reported = STAGING, records.PENDING
        self.instances[instance.instance_id] = instance
        self._background(instance, self._start_up(instance, urls))
        return instance.copy()

    def _check_run(self, spec, urls):
        if not self.enabled:
            raise ServiceUnavailable("This node is disabled for maintenance and takes no new instances.")
        if not valid_instance_id(spec.instance_id):
            raise InvalidParameterValue(f"Invalid instance id {spec.instance_id!r}.")
        if not spec.user_id or not _USER.match(spec.user_id):
            raise InvalidParameterValue(f"Invalid user id {spec.user_id!r}.")
        vm = spec.vm
        if vm is None or vm.cores < 1 or vm.memory < 1 or vm.disk < 1:
            raise InvalidParameterValue("The instance type must give positive cores, memory and disk.")
        for role in ("kernel", "machine"):
            if not urls.get(role) or not urls[role][1]:
                raise InvalidParameterValue(f"No {role} image location was given.")
        mac = spec.net.mac
        if mac:
            if not _MAC.match(mac):
                raise InvalidParameterValue(f"Invalid MAC address {mac!r}; use lower-case xx:xx:xx:xx:xx:xx.")
            for other in self.live():
                if other.net.mac == mac:
                    raise InvalidParameterValue(f"MAC address {mac} is already used by {other.instance_id}.")
        available = self.resources()
        if not available.fits(vm):
            raise InsufficientInstanceCapacity(
                f"{vm.name} needs {vm.cores} cores, {vm.memory} MB and {vm.disk} GB; this node has "
                f"{available.cores_available} of {available.cores_max} cores, {available.memory_available} of "
                f"{available.memory_max} MB and {available.disk_available} of {available.disk_max} GB free."
            )

    def _background(self, instance, d):
        """
        Track a background operation on C{instance}; its failure is logged.
        """
        instance_id = instance.instance_id
        self.busy[instance_id] = d

        def done(result):
            if self.busy.get(instance_id) is d:
                del self.busy[instance_id]

        d.addErrback(lambda f: self._log.failure("Background work on {i} failed", f, i=instance_id))
        d.addBoth(done)

    @defer.inlineCallbacks
    def _start_up(self, instance, urls):
        directory = self.directory(instance)
        try:
            yield self.files.submit(os.makedirs, directory, 0o755, True)
            self.note(instance, f"staging {instance.instance_id} ({instance.vm.name})")
            yield self.save(instance)
            entries = yield self._acquire_images(instance, urls)
            self._check_canceled(instance)
            machine = entries["machine"]
            built = yield self.disks.build(directory, instance.vm, machine.path, machine.size, self.config.virtio_root)
            instance.disks = {target: path for path, target, _ in built}
            paths = dict(
                kernel=entries["kernel"].path,
                ramdisk=entries["ramdisk"].path if "ramdisk" in entries else None,
                console=os.path.join(directory, console.SERIAL_LOG),
                disks=built,
            )
            xml = domain_xml(instance, paths, self.host.domain_type, self.config.bridge, self.config.virtio_net)
            yield self.files.submit(_write, os.path.join(directory, DOMAIN_XML), xml)
            self._check_canceled(instance)
            yield self.save(instance)
            yield self.hypervisor.create(xml)
        except Exception as e:
            yield self._fail(instance, e)
            return
        if instance.state == CANCELED:
            yield self.tear_down(instance)
            return
        instance.boot_time = self.now()
        yield self.enter(instance, BOOTING, "domain created; booting")

    def _check_canceled(self, instance):
        if instance.state != STAGING:
            raise _Canceled()

    @defer.inlineCallbacks
    def _acquire_images(self, instance, urls):
        entries = {}

        def acquired(entry, role, image_id, url):
            instance.images[role] = dict(id=image_id, url=url, key=entry.key)
            entries[role] = entry

        calls = []
        for role in IMAGE_ROLES:
            if urls.get(role) and urls[role][1]:
                image_id, url = urls[role]
                d = self.cache.acquire(image_id, url)
                d.addCallback(acquired, role, image_id, url)
                calls.append(d)
        # Wait for every image, so that each one acquired is recorded (and
        # released by the tear-down) even when another one failed.
        for ok, result in (yield defer.DeferredList(calls, consumeErrors=True)):
            if not ok:
                result.raiseException()
        return entries

    @defer.inlineCallbacks
    def _fail(self, instance, error):
        """
        Record why the start-up failed and tear the instance down.
        """
        if isinstance(error, _Canceled):
            why = "canceled: terminated while staging"
        else:
            why = getattr(error, "message", None) or str(error) or type(error).__name__
            instance.failure = why
            if not isinstance(error, EucalyptusError):
                self._log.failure("Start-up of {i} failed", i=instance.instance_id)
            why = f"failed: {why}"
        yield self.enter(instance, SHUTOFF if instance.state != CANCELED else CANCELED, why)
        yield self.tear_down(instance)

    # Ending.

    @defer.inlineCallbacks
    def tear_down(self, instance):
        """
        Destroy what is left of the domain, release the images and delete the
        disks; the instance is C{Teardown} and remembered for a while.
        """
        try:
            yield self.hypervisor.destroy(instance.instance_id)
        except DomainNotFound:
            pass
        except Exception as e:
            self.note(instance, f"destroying the domain failed: {e}")
        for image in instance.images.values():
            self.cache.release(image["key"])
        instance.images = {}
        instance.disks = {}
        yield self.files.submit(_remove_all_but, self.directory(instance), _KEEP_AFTER_TEARDOWN)
        yield self.enter(instance, TEARDOWN, "torn down")

    def forget(self, instance):
        """
        Drop a torn-down instance and its directory.
        """
        del self.instances[instance.instance_id]
        return self.files.submit(shutil.rmtree, self.directory(instance), True)

    def terminate(self, instance_id, force=False):
        """
        Terminate an instance: power off (at once when C{force}), destroy,
        tear down, in the background.

        @return: C{(previous, now)} reported states.
        """
        instance = self.get(instance_id)
        previous = instance.reported
        if instance.state == STAGING:
            instance.enter(CANCELED, self.now())
        elif instance.state in (TEARDOWN, CANCELED):
            pass
        elif instance_id in self.busy:
            self.busy[instance_id].addBoth(lambda _: self.terminate(instance_id, force) and None)
        else:
            self._background(instance, self._power_off(instance, force, keep=False))
        return previous, instance.reported

    @defer.inlineCallbacks
    def _power_off(self, instance, force, keep):
        if not force and instance.state != SHUTOFF:
            yield self.enter(instance, SHUTDOWN, "shutting down")
            yield self._wait_for_power_off(instance)
        if keep:
            try:
                yield self.hypervisor.destroy(instance.instance_id)
            except DomainNotFound:
                pass
            yield self.enter(instance, SHUTOFF, "stopped")
        else:
            yield self.tear_down(instance)

    @defer.inlineCallbacks
    def _wait_for_power_off(self, instance):
        try:
            yield self.hypervisor.shutdown(instance.instance_id)
        except DomainNotFound:
            return
        deadline = self.now() + self.config.shutdown_grace
        while self.now() < deadline:
            try:
                info = yield self.hypervisor.describe(instance.instance_id)
            except DomainNotFound:
                return
            if info.state == "shutoff":
                return
            yield deferLater(self.reactor, min(2, self.config.shutdown_grace), lambda: None)
        self.note(instance, f"no power-off within {self.config.shutdown_grace} s; destroying")

    def reboot(self, instance_id):
        """
        Ask the guest to reboot.
        """
        instance = self.running(instance_id, "reboot")
        return self.hypervisor.reboot(instance.instance_id)

    def stop(self, instance_id):
        """
        Power an instance off but keep its disks (C{ncStopInstance}).
        """
        instance = self.running(instance_id, "stop")
        instance.stopped = True
        self._background(instance, self._power_off(instance, False, keep=True))

    @defer.inlineCallbacks
    def start(self, instance_id):
        """
        Boot a stopped instance again from its saved domain.
        """
        instance = self.get(instance_id)
        if not instance.stopped or instance.state != SHUTOFF or instance_id in self.busy:
            raise IncorrectInstanceState(f"Instance {instance_id} is not stopped.")
        xml = yield self.files.submit(_read, os.path.join(self.directory(instance), DOMAIN_XML))
        yield self.hypervisor.create(xml)
        instance.stopped = False
        instance.boot_time = self.now()
        yield self.enter(instance, BOOTING, "started again")

    def running(self, instance_id, action):
        """
        The instance, which must be running for C{action}.

        @raise IncorrectInstanceState: it is not (or is busy stopping).
        """
        instance = self.get(instance_id)
        if instance.state not in (BOOTING, RUNNING, records.BLOCKED, records.PAUSED) or instance_id in self.busy:
            raise IncorrectInstanceState(f"Cannot {action} instance {instance_id} while it is {instance.state}.")
        return instance

    def console_output(self, instance_id):
        """
        The base64 console output.
        """
        instance = self.get(instance_id)
        return self.files.submit(console.console_output, self.directory(instance))


class _Canceled(Exception):
    """
    The instance was terminated while it was staging.
    """


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _note_if_present(directory, message, now):
    if os.path.isdir(directory):
        console.note(directory, message, now)


def _remove_all_but(directory, keep):
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        if name not in keep:
            path = os.path.join(directory, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
