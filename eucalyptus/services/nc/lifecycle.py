# -*- test-case-name: tests.services.nc.test_lifecycle -*-
"""
Keeping the instance records in step with libvirt.

L{Monitor} is a child service that every C{MONITORING_PERIOD} (5 s) reads
every domain once and applies the original NC's rules: a C{Booting}
instance becomes whatever libvirt reports; one that libvirt has not shown
running within C{NC_BOOTING_CLEANUP_THRESHOLD} is terminated; one stuck
C{Staging} longer than C{NC_STAGING_CLEANUP_THRESHOLD} is canceled; an
instance whose domain is gone (the guest powered itself off or crashed) is
torn down; a C{Teardown} entry is forgotten after
C{NC_TEARDOWN_STATE_DURATION}; a domain of ours with no live record (left
by a create that timed out, say) is destroyed.  It also samples each running
domain's counters for C{ncDescribeSensors}.

L{adopt} runs once at start: every saved record meets its domain again, so
a restarted NC goes on reporting and managing what it was running, and
tears down what died while it was away.
"""

import os
import shutil

from twisted.application.internet import TimerService
from twisted.internet import defer
from twisted.logger import Logger

from eucalyptus.hypervisor.errors import DomainNotFound, HypervisorError
from eucalyptus.services.nc import instances as records
from eucalyptus.services.nc.domain import directory_of
from eucalyptus.services.nc.instances import BOOTING, CANCELED, RUNNING, SHUTOFF, STAGING, TEARDOWN

__all__ = ["Monitor", "adopt", "MONITORING_PERIOD"]

#: Seconds between monitor passes (the original's MONITORING_PERIOD).
MONITORING_PERIOD = 5


class Monitor(TimerService):
    """
    The periodic pass over a node's instances.
    """

    _log = Logger()

    def __init__(self, node, sensors, period=MONITORING_PERIOD):
        TimerService.__init__(self, period, self.run_once)
        self.node = node
        self.sensors = sensors
        self.clock = node.reactor
        self._foreign = set()

    def run_once(self):
        """
        One pass; errors are logged, never raised (the timer keeps going).
        """
        d = self._pass()
        d.addErrback(lambda f: self._log.failure("Monitor pass failed", f))
        return d

    @defer.inlineCallbacks
    def _pass(self):
        node = self.node
        # Only instances settled before the listing are judged by it: one
        # whose start-up ends while the listing is taken has a domain the
        # listing may not show.
        settled = {i for i, instance in node.instances.items() if i not in node.busy and instance.state != STAGING}
        domains = {domain.name: domain for domain in (yield node.hypervisor.list_domains())}
        now = node.now()
        for instance in list(node.instances.values()):
            if instance.state == TEARDOWN:
                if now - instance.state_time >= node.config.teardown_duration:
                    yield node.forget(instance)
                continue
            if instance.state == STAGING:
                self._staging(instance, now)
                continue
            if instance.instance_id in node.busy or instance.state == CANCELED or instance.instance_id not in settled:
                continue
            yield self._refresh(instance, domains.get(instance.instance_id), now)
        yield self._destroy_orphans(domains)
        yield self.sensors.sample(node)

    def _staging(self, instance, now):
        """
        Cancel a start-up that takes too long; it tears the instance down
        when its current step ends (downloads give up after their retries).
        """
        if now - instance.launch_time >= self.node.config.staging_threshold:
            instance.failure = f"staging took longer than {self.node.config.staging_threshold} s"
            self.node.note(instance, instance.failure)
            instance.enter(CANCELED, now)

    def _refresh(self, instance, domain, now):
        node = self.node
        if domain is None:
            if instance.stopped:
                return defer.succeed(None)
            return _end(node, instance, "the domain is gone (the guest powered off or crashed)")
        state = records.from_libvirt(domain.state)
        if instance.state == BOOTING and state != RUNNING:
            if now - (instance.boot_time or now) >= node.config.booting_threshold:
                instance.failure = f"not running {node.config.booting_threshold} s after it was created"
                return _end(node, instance, instance.failure)
            return defer.succeed(None)
        if state in (SHUTOFF, records.CRASHED):
            return _end(node, instance, f"the domain is {domain.state}")
        if state != instance.state:
            return node.enter(instance, state, f"libvirt reports {domain.state}")
        return defer.succeed(None)

    @defer.inlineCallbacks
    def _destroy_orphans(self, domains):
        node = self.node
        live = {instance.instance_id for instance in node.live()}
        work = os.path.join(node.config.instance_path, "work")
        # Domains found to be someone else's are not read again while they exist.
        self._foreign &= {domain.uuid for domain in domains.values()}
        for name, domain in domains.items():
            if name in live or name in node.busy or domain.uuid in self._foreign:
                continue
            try:
                xml = yield node.hypervisor.domain_xml(name)
                directory = directory_of(xml)
                if directory is None or not directory.startswith(work + os.sep):
                    self._foreign.add(domain.uuid)
                    continue
                self._log.warn("Destroying domain {name}: no instance of this node runs in it", name=name)
                yield node.hypervisor.destroy(name)
            except DomainNotFound:
                pass
            except HypervisorError as e:
                self._log.warn("Could not destroy orphan domain {name}: {e}", name=name, e=e)


def _end(node, instance, why):
    node.note(instance, why)
    instance.enter(SHUTOFF, node.now())
    return node.tear_down(instance)


@defer.inlineCallbacks
def adopt(node):
    """
    Load every saved instance record and meet it with its domain: running
    ones are managed again (their images re-referenced in the cache),
    stopped ones kept, the rest torn down.  Leftover directories without a
    record are removed.

    @return: Deferred list of the adopted instance ids.
    """
    found = yield node.files.submit(_scan, os.path.join(node.config.instance_path, "work"))
    domains = {domain.name: domain for domain in (yield node.hypervisor.list_domains())}
    adopted = []
    for directory, instance in found:
        if instance is None:
            yield node.files.submit(_remove_tree, directory)
            continue
        node.instances[instance.instance_id] = instance
        for image in instance.images.values():
            entry = node.cache.adopt(image["id"], image["url"])
            image["key"] = None if entry is None else entry.key
        instance.images = {role: image for role, image in instance.images.items() if image["key"] is not None}
        domain = domains.get(instance.instance_id)
        if domain is not None and instance.state not in (STAGING, CANCELED):
            node.note(instance, "adopted after a node controller restart")
            instance.enter(records.from_libvirt(domain.state), node.now())
            yield node.save(instance)
            adopted.append(instance.instance_id)
        elif instance.stopped:
            adopted.append(instance.instance_id)
        else:
            yield _end(node, instance, "its domain did not survive the node controller restart")
    return adopted


def _scan(work):
    """
    Every instance directory under C{work} with its record (C{None} when it
    has none or it cannot be read).
    """
    found = []
    if not os.path.isdir(work):
        return found
    for user in sorted(os.listdir(work)):
        for name in sorted(os.listdir(os.path.join(work, user))):
            directory = os.path.join(work, user, name)
            try:
                found.append((directory, records.load(directory)))
            except ValueError:
                found.append((directory, None))
    return found


def _remove_tree(directory):
    shutil.rmtree(directory, ignore_errors=True)
