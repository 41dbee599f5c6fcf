# -*- test-case-name: tests.services.cc.test_poller -*-
"""
The Cluster Controller's poll of its nodes (C{NC_POLLING_FREQUENCY}).

Every pass asks every node that is not asleep for C{ncDescribeResource}
then C{ncDescribeInstances}, in parallel but at most C{concurrency} nodes
at once, each node bounded by C{per_node_timeout}.  Each node's answer is
applied to its L{NodeRecord} and to the L{InstanceCache} as soon as it
arrives, so a slow node delays nobody's figures but its own.  A node that
fails or times out is L{DOWN} with the reason and comes back on its own at
its next good answer.  After the pass, instances no node has reported for
C{INSTANCE_TIMEOUT} are dropped.

A node that reports an instance the cache has on another node holds a
second copy (a node that timed out during C{RunInstances} may have started
it after all): the poller terminates that copy there and then.

Asleep nodes (powered down by POWERSAVE) are not polled: they cannot
answer, and the power code that wakes one sets its state back to L{DOWN}
so the next pass finds it.
"""

from twisted.application.internet import TimerService
from twisted.internet import defer
from twisted.logger import Logger

from eucalyptus.accounts import ADMIN_ACCOUNT
from eucalyptus.services.cc.nodes import ASLEEP, DOWN, ENABLED, NodeResources
from eucalyptus.wsdl import nc_types

__all__ = ["NodePoller"]


class NodePoller(TimerService):
    """
    Polls every node each C{interval} seconds, from when it starts.

    @ivar records: the L{NodeRecord}s polled, an iterable the CC may
        change between passes (register and deregister nodes).
    @ivar cache: the L{InstanceCache} updated.
    @ivar passes: how many passes finished.
    """

    _log = Logger()

    def __init__(
        self, records, cache, client_for, interval=6, per_node_timeout=20, concurrency=32, instance_timeout=300,
        reactor=None, before_pass=None, after_pass=None,
    ):
        """
        @param records: the L{NodeRecord}s to poll.
        @param cache: the L{InstanceCache} to update.
        @param client_for: called with a L{NodeRecord}, a SOAP client of that
            node (with C{call(operation, request)} returning a Deferred, and
            C{close()}).  Called once per node and URL; the
            poller closes them when it stops.
        @param interval: seconds between passes (C{NC_POLLING_FREQUENCY}).
        @param per_node_timeout: seconds one node has for both calls.
        @param concurrency: how many nodes are polled at once.
        @param instance_timeout: C{INSTANCE_TIMEOUT}, seconds.
        @param reactor: the clock (the global reactor by default).
        @param before_pass: called with no arguments before each pass (the
            CC re-reads C{NODES}).
        @param after_pass: called with no arguments after each pass; may
            return a Deferred the pass waits for (POWERSAVE).
        """
        if reactor is None:
            from twisted.internet import reactor
        TimerService.__init__(self, interval, self.poll_once)
        self.clock = reactor
        self.records = records
        self.cache = cache
        self.client_for = client_for
        self.per_node_timeout = per_node_timeout
        self.instance_timeout = instance_timeout
        self.passes = 0
        self._semaphore = defer.DeferredSemaphore(concurrency)
        self._clients = {}
        self._waiting = []
        self._before_pass = before_pass
        self._first_waiters = []
        self._after_pass_hook = after_pass

    def poll_once(self):
        """
        Poll every node once.  When a pass is already under way, wait for
        that one instead of starting another.

        @return: a Deferred firing with C{None} when the pass is done; it
            never fails.
        """
        done = defer.Deferred()
        self._waiting.append(done)
        if len(self._waiting) == 1:
            self._pass().addBoth(self._finished)
        return done

    def first_pass(self):
        """
        @return: a Deferred firing once the first pass is over (at once when
            it is).
        """
        if self.passes:
            return defer.succeed(None)
        d = defer.Deferred()
        self._first_waiters.append(d)
        return d

    def stopService(self):
        """
        Stop polling; once the pass under way is done, close the clients.
        """
        d = TimerService.stopService(self)
        d.addCallback(lambda _: self.close_clients())
        return d

    def _finished(self, _):
        waiting, self._waiting = self._waiting + self._first_waiters, []
        self._first_waiters = []
        for done in waiting:
            done.callback(None)

    def _pass(self):
        number = self.passes + 1
        d = defer.maybeDeferred(self._before_pass or (lambda: None))
        d.addCallback(lambda _: self._poll_all(number))
        d.addErrback(lambda failure: self._log.failure("Node poll pass {number} failed", failure, number=number))
        return d

    def _poll_all(self, number):
        polled = [record for record in self.records if record.state != ASLEEP]
        polls = [self._semaphore.run(self._poll, record, number) for record in polled]
        d = defer.gatherResults(polls, consumeErrors=True)
        d.addCallback(lambda _: self._after_pass(number, polled))
        return d

    def _after_pass(self, number, polled):
        self.passes = number
        self._close_departed()
        dropped = self.cache.drop_stale(self.clock.seconds(), self.instance_timeout)
        for instance_id in dropped:
            self._log.info(
                "Dropped {instance_id}: no node reported it for {timeout} s",
                instance_id=instance_id, timeout=self.instance_timeout,
            )
        self._log.debug(
            "Poll pass {number}: {enabled} of {count} nodes enabled, {down} down, {instances} instances",
            number=number, count=len(polled), enabled=sum(record.state == ENABLED for record in polled),
            down=sum(record.state == DOWN for record in polled), instances=len(self.cache),
        )
        if self._after_pass_hook is not None:
            return self._after_pass_hook()

    def _close_departed(self):
        present = {(record.host, record.url) for record in self.records}
        for key in [key for key in self._clients if key not in present]:
            defer.maybeDeferred(self._clients.pop(key).close)

    def _client(self, record):
        key = (record.host, record.url)
        if key not in self._clients:
            self._clients[key] = self.client_for(record)
        return self._clients[key]

    def _poll(self, record, number):
        """
        Poll one node and apply its answer.

        @return: a Deferred that never fails.
        """
        fields = dict(correlationId=f"poll-{number}-{record.host}", userId=ADMIN_ACCOUNT)
        d = defer.maybeDeferred(lambda: self._client(record).call(
            "ncDescribeResource", nc_types.NcDescribeResourceType(**fields)
        ))

        def instances(resource):
            call = self._client(record).call("ncDescribeInstances", nc_types.NcDescribeInstancesType(**fields))
            return call.addCallback(lambda described: (resource, described))

        d.addCallback(instances)
        d.addTimeout(self.per_node_timeout, self.clock)
        d.addCallback(self._answered, record)
        d.addErrback(self._failed, record)
        d.addErrback(lambda failure: self._log.failure("Polling {host} failed", failure, host=record.host))
        return d

    def _answered(self, answers, record):
        resource, described = answers
        now = self.clock.seconds()
        before = record.state
        record.answered(resource.nodeStatus, NodeResources.from_response(resource), now)
        record.counted(len(described.instances or []), now)
        for instance_id in self.cache.update(record.host, described.instances or [], now):
            self._terminate_copy(record, instance_id)
        if before != record.state:
            self._log.info("Node {host} is {state}: {reason}", host=record.host, state=record.state, reason=record.reason)

    def _terminate_copy(self, record, instance_id):
        where = self.cache.get(instance_id).host
        self._log.warn(
            "Node {host} runs a second copy of {instance_id} (it is on {where}); terminating that copy",
            host=record.host, instance_id=instance_id, where=where,
        )
        order = nc_types.NcTerminateInstanceType(
            correlationId=f"second-copy-{instance_id}", userId=ADMIN_ACCOUNT, instanceId=instance_id, force=True
        )
        d = self._client(record).call("ncTerminateInstance", order)
        d.addErrback(lambda failure: self._log.failure(
            "Could not terminate the second copy of {instance_id} on {host}", failure,
            instance_id=instance_id, host=record.host,
        ))

    def _failed(self, failure, record):
        if failure.check(defer.TimeoutError):
            why = f"no answer within {self.per_node_timeout} s"
        else:
            why = failure.getErrorMessage() or failure.type.__name__
        before = record.state
        record.failed(why, self.clock.seconds())
        if before != DOWN:
            self._log.warn("Node {host} is down: {reason}", host=record.host, reason=record.reason)

    def close_clients(self):
        """
        Close every node client made so far (and their pooled connections);
        the next pass makes new ones.

        @return: a Deferred firing when they are closed.
        """
        clients, self._clients = list(self._clients.values()), {}
        closing = [defer.maybeDeferred(client.close) for client in clients]
        return defer.DeferredList(closing, consumeErrors=True).addCallback(lambda _: None)
