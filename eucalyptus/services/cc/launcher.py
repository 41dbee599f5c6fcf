# -*- test-case-name: tests.services.cc.test_launcher -*-
"""
The Cluster Controller's C{RunInstances}: place each instance with the
scheduler and start it with C{ncRunInstance}.

All of a request's instances are placed first, against the nodes as the
last poll left them (L{schedule_batch}: fewer than C{minCount} fit, the
request fails and nothing starts).  Then they are started in parallel, a
bounded number at once.  A node that refuses or does not answer within
C{per_node_timeout} is left out for the rest of the request and the
instance is placed again, on another node, until C{retry_window} seconds
have passed since the request came in.  A request fault (the node says the
request itself is invalid) is not retried: every node would say the same.

An instance is started at most once: a node that timed out may still have
started it, so the cache notes where the instance finally went and the
poller terminates any second copy the moment its node reports it (see
L{eucalyptus.services.cc.nodes.InstanceCache.update}).  When fewer than
C{minCount} instances started, the ones that did are terminated and the
request fails: all or nothing below C{minCount}.
"""

from dataclasses import replace

from twisted.internet import defer
from twisted.logger import Logger

from eucalyptus.errors import InsufficientInstanceCapacity, InvalidParameterValue
from eucalyptus.services.cc.network import mac_for
from eucalyptus.services.cc.nodes import DOWN
from eucalyptus.services.cc.scheduler import NoCapacity, VmShape, reserve, schedule, schedule_batch
from eucalyptus.wsdl import cc_types, common, nc_types

__all__ = ["Launcher", "shape_of", "nc_request", "cc_instance"]

_CC_FIELDS = [name for name in cc_types.CcInstanceType._type_info if name != "serviceTag"]


def shape_of(vm):
    """
    The L{VmShape} of a C{virtualMachineType}.

    @raise InvalidParameterValue: when it lacks positive cores, memory or disk.
    """
    if vm is None:
        raise InvalidParameterValue("RunInstances needs an instanceType.")
    figures = (vm.cores or 0, vm.memory or 0, vm.disk or 0)
    if min(figures) < 1:
        raise InvalidParameterValue(
            f"The instance type {vm.name!r} must give positive cores, memory and disk, not {figures}."
        )
    return VmShape(*figures)


def _item(values, index):
    return values[index] if values and index < len(values) else None


def nc_request(request, index, mac_prefix):
    """
    The C{ncRunInstance} request for instance number C{index} of a
    C{RunInstances} request.
    """
    instance_id = request.instanceIds[index]
    net = common.NetConfigType(
        privateMacAddress=_item(request.macAddresses, index) or mac_for(instance_id, mac_prefix),
        privateIp=_item(request.privateIps, index) or "0.0.0.0",
        publicIp="0.0.0.0",
        vlan=request.vlan if request.vlan is not None else -1,
        networkIndex=_item(request.networkIndexList, index) if request.networkIndexList else -1,
    )
    launch_index = str(int(request.launchIndex or 0) + index)
    return nc_types.NcRunInstanceType(
        correlationId=request.correlationId, userId=request.userId,
        imageId=request.imageId, kernelId=request.kernelId, ramdiskId=request.ramdiskId,
        imageURL=request.imageURL, kernelURL=request.kernelURL, ramdiskURL=request.ramdiskURL,
        ownerId=request.ownerId, accountId=request.accountId, reservationId=request.reservationId,
        instanceId=instance_id, uuid=_item(request.uuids, index) or instance_id, instanceType=request.instanceType,
        keyName=request.keyName, netParams=net, userData=request.userData, credential=request.credential,
        launchIndex=launch_index, platform=request.platform, expiryTime=request.expiryTime,
        groupNames=list(request.netNames or []), rootDirective=request.rootDirective,
    )


def cc_instance(instance, url):
    """
    The C{ccInstanceType} of a node's C{instanceType}, tagged with the
    node's URL.
    """
    return cc_types.CcInstanceType(serviceTag=url, **{name: getattr(instance, name, None) for name in _CC_FIELDS})


def _check_counts(request):
    """
    @return: C{(minCount, maxCount)} of C{request}.
    @raise InvalidParameterValue: for counts that make no sense or too few
        instance ids.
    """
    max_count = request.maxCount if request.maxCount is not None else 1
    min_count = request.minCount if request.minCount is not None else max_count
    if not 1 <= min_count <= max_count:
        raise InvalidParameterValue(f"Need 1 <= minCount <= maxCount, not minCount={min_count}, maxCount={max_count}.")
    ids = request.instanceIds or []
    if len(ids) < max_count:
        raise InvalidParameterValue(f"maxCount is {max_count} but only {len(ids)} instance ids were given.")
    if len(set(ids[:max_count])) != max_count:
        raise InvalidParameterValue("The instance ids of one request must differ.")
    return min_count, max_count


class Launcher:
    """
    Starts the instances of C{RunInstances} requests on the nodes.

    @ivar state: the scheduler's L{SchedulerState}, kept across requests.
    """

    _log = Logger()

    def __init__(
        self, records, cache, client_for, policy, state, clock, per_node_timeout=20, retry_window=15, concurrency=16,
        mac_prefix="d0:0d", waker=None, max_instances=2048,
    ):
        """
        @param records: a callable returning the current L{NodeRecord}s, in
            C{NODES} order.
        @param cache: the L{InstanceCache}; started instances go in at once.
        @param client_for: a L{NodeRecord} to its SOAP client.
        @param policy: C{ROUNDROBIN}, C{GREEDY} or C{POWERSAVE}.
        @param state: the L{SchedulerState} the policy advances.
        @param clock: the reactor (time and timeouts).
        @param per_node_timeout: seconds a node has to answer C{ncRunInstance}.
        @param retry_window: seconds after a request came in during which a
            failed instance is placed again.
        @param concurrency: instances started at once, per request.
        @param mac_prefix: C{VNET_MACPREFIX}, for instances without a MAC.
        @param waker: when POWERSAVE places on a sleeping node, called with
            its L{NodeRecord}; returns a Deferred firing once it is awake.
        @param max_instances: C{MAX_INSTANCES_PER_CC}: the most instances
            the cluster runs at once.
        """
        self.records = records
        self.cache = cache
        self.client_for = client_for
        self.policy = policy
        self.state = state
        self.clock = clock
        self.per_node_timeout = per_node_timeout
        self.retry_window = retry_window
        self.concurrency = concurrency
        self.mac_prefix = mac_prefix
        self.waker = waker
        self.max_instances = max_instances

    @defer.inlineCallbacks
    def run(self, request):
        """
        Start the instances of a C{RunInstances} request.

        @return: a Deferred firing with the C{ccInstanceType}s started, in
            launch order.
        @raise InvalidParameterValue: for a malformed request.
        @raise InsufficientInstanceCapacity: when fewer than C{minCount}
            could be placed or started (none is left running).
        """
        shape = shape_of(request.instanceType)
        min_count, max_count = _check_counts(request)
        running = self.cache.running()
        room = self.max_instances - running
        if room < min_count:
            raise InsufficientInstanceCapacity(
                f"This cluster runs at most {self.max_instances} instances (MAX_INSTANCES_PER_CC) and has "
                f"{running}; {min_count} more do not fit."
            )
        max_count = min(max_count, room)
        records = {record.host: record for record in self.records()}
        placements, views = schedule_batch(
            self.policy, [record.view() for record in records.values()], shape, min_count, max_count, self.state
        )
        attempt = _Attempt(self, request, shape, records, views, self.clock.seconds() + self.retry_window)
        semaphore = defer.DeferredSemaphore(self.concurrency)
        started = yield defer.gatherResults(
            [semaphore.run(attempt.start, index, placement) for index, placement in enumerate(placements)],
            consumeErrors=True,
        )
        launched = [instance for instance in started if instance is not None]
        if len(launched) < min_count:
            yield self._undo(launched, records, request)
            reasons = "; ".join(sorted(set(attempt.reasons.values()))) or "no node could take them"
            raise InsufficientInstanceCapacity(
                f"Only {len(launched)} of at least {min_count} instances could be started: {reasons}"
            )
        return launched

    @defer.inlineCallbacks
    def _undo(self, launched, records, request):
        by_url = {record.url: record for record in records.values()}
        for instance in launched:
            record = by_url[instance.serviceTag]
            terminate = nc_types.NcTerminateInstanceType(
                correlationId=request.correlationId, userId=request.userId, instanceId=instance.instanceId, force=True
            )
            try:
                yield self.client_for(record).call("ncTerminateInstance", terminate)
            except Exception as e:
                self._log.warn(
                    "Could not terminate {instance_id} on {host} after a failed launch: {error}",
                    instance_id=instance.instanceId, host=record.host, error=e,
                )


class _Attempt:
    """
    One C{RunInstances} request under way: the views it reserved, the nodes
    it gave up on and why.
    """

    _log = Logger()

    def __init__(self, launcher, request, shape, records, views, deadline):
        self.launcher = launcher
        self.request = request
        self.shape = shape
        self.records = records
        self.views = views
        self.deadline = deadline
        self.reasons = {}

    @defer.inlineCallbacks
    def start(self, index, placement):
        """
        Start instance number C{index} on its placement, or on the next node
        the policy picks when that one fails.

        @return: a Deferred firing with its C{ccInstanceType}, or C{None}
            when it could not be started anywhere.
        """
        launcher = self.launcher
        node_request = nc_request(self.request, index, launcher.mac_prefix)
        while True:
            record = self.records[placement.node]
            try:
                if placement.wake:
                    yield launcher.waker(record)
                answer = yield self._call(record, node_request)
            except InvalidParameterValue as e:
                self.reasons[record.host] = f"{record.host} refused {node_request.instanceId}: {e.message}"
                return None
            except Exception as e:
                self._give_up_on(record, e, node_request.instanceId)
            else:
                record.reserve(self.shape)
                launcher.cache.place(record.host, answer.instance, launcher.clock.seconds())
                return cc_instance(answer.instance, record.url)
            if launcher.clock.seconds() >= self.deadline:
                return None
            try:
                placement = schedule(launcher.policy, self.views, self.shape, launcher.state)
            except NoCapacity as e:
                self.reasons["capacity"] = e.message
                return None
            self._reserve(placement.node)

    def _call(self, record, node_request):
        d = self.launcher.client_for(record).call("ncRunInstance", node_request)
        return d.addTimeout(self.launcher.per_node_timeout, self.launcher.clock)

    def _give_up_on(self, record, error, instance_id):
        if isinstance(error, defer.TimeoutError):
            why = f"no answer within {self.launcher.per_node_timeout} s"
        else:
            why = getattr(error, "message", None) or str(error) or type(error).__name__
        self.reasons[record.host] = f"{record.host}: {why}"
        self._log.warn("Node {host} could not start {instance_id}: {why}", host=record.host, instance_id=instance_id,
                       why=why)
        index = self._index(record.host)
        self.views[index] = replace(self.views[index], state=DOWN)

    def _index(self, name):
        return next(i for i, view in enumerate(self.views) if view.name == name)

    def _reserve(self, name):
        index = self._index(name)
        self.views[index] = reserve(self.views[index], self.shape)

