# -*- test-case-name: tests.hypervisor.test_libvirt -*-
"""
L{Lane}: blocking calls on one connection, run one at a time on one thread,
each bounded by a timeout.

A lane queues calls in the reactor thread and hands them one by one to its
L{_Worker}, a thread owning the connection (opened there on first use);
answers come back with C{callFromThread}.  A call still running after the
timeout fails with L{HypervisorTimeout}.  Blocking C calls cannot be
interrupted, so the lane abandons that worker (a daemon thread that may
stay stuck forever; if it ever wakes it closes its connection and ends,
and its late answer is dropped) and serves the next calls, those already
queued included, on a fresh worker with a fresh connection.
"""

import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from eucalyptus.hypervisor.errors import HypervisorTimeout

__all__ = ["Lane", "outcome", "fire"]


def outcome(fn, *args):
    """
    C{fn(*args)}, or the L{Failure} it raised.
    """
    try:
        return fn(*args)
    except BaseException:
        return Failure()


def fire(d, result):
    """
    Fire C{d} with C{result}, an errback if it is a L{Failure}; nothing if
    the caller cancelled C{d} already.
    """
    if d.called:
        return
    if isinstance(result, Failure):
        d.errback(result)
    else:
        d.callback(result)


@dataclass(eq=False)
class _Call:
    """
    One queued call: its label, what runs on the worker, the caller's
    Deferred and the timer that bounds it.
    """

    label: str
    job: Callable
    deferred: Deferred = field(default_factory=Deferred)
    timer: object = None


class _Worker:
    """
    One thread and the connection it opens on first use.  Only the thread
    touches the connection.
    """

    _log = Logger()

    def __init__(self, reactor, name, connect):
        """
        @param connect: opens the connection; called on the thread.
        """
        self._reactor = reactor
        self._connect = connect
        self._connection = None
        self._queue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def connection(self):
        """
        The connection, opened now if need be.  Call it on the worker's
        thread.
        """
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def close_connection(self):
        """
        Close the connection if it is open.  Call it on the worker's thread.
        """
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def run(self, job, deliver):
        """
        Run C{job(self)} on the thread, then call C{deliver} with its result
        or L{Failure} in the reactor thread.
        """
        self._queue.put((job, deliver))

    def stop(self):
        """
        End the thread once the jobs queued so far are done; it closes its
        connection on the way out.
        """
        self._queue.put(None)

    def _loop(self):
        while True:
            item = self._queue.get()
            if item is None:
                break
            job, deliver = item
            self._reactor.callFromThread(deliver, outcome(job, self))
        closed = outcome(self.close_connection)
        if isinstance(closed, Failure):
            self._reactor.callFromThread(self._log.failure, "Closing a connection failed", closed)


class Lane:
    """
    Calls on one connection, in order, on one thread at a time.

    @ivar where: names the connection in errors and logs (a URI).
    """

    _log = Logger()

    def __init__(self, reactor, where, connect, timeout):
        """
        @param connect: opens a connection; called on a worker's thread.
        @param timeout: seconds any one call may take.
        """
        self.where = where
        self._reactor = reactor
        self._connect = connect
        self._timeout = timeout
        self._pending = deque()
        self._current = None
        self._worker = None
        self._numbers = count(1)

    def submit(self, label, job):
        """
        Queue C{job(worker)} to run on the worker thread, where
        C{worker.connection()} is the connection.

        @param label: names the call in errors and logs.
        @return: Deferred result; L{HypervisorTimeout} when it took longer
            than the timeout.
        """
        call = _Call(label, job)
        self._pending.append(call)
        self._next()
        return call.deferred

    def close(self):
        """
        Close the connection and end the thread after the calls queued so
        far.

        @return: Deferred C{None}.
        """
        if self._worker is None and self._current is None:
            return succeed(None)
        return self.submit("close", lambda worker: worker.close_connection()).addBoth(self._stop_worker)

    def _next(self):
        if self._current is not None or not self._pending:
            return
        call = self._current = self._pending.popleft()
        if self._worker is None:
            self._worker = _Worker(self._reactor, f"{self.where} #{next(self._numbers)}", self._connect)
        call.timer = self._reactor.callLater(self._timeout, self._timed_out, call)
        self._worker.run(call.job, lambda result: self._finished(call, result))

    def _finished(self, call, result):
        if call is not self._current:
            self._log.info("Dropped the late answer of {label} on {where}", label=call.label, where=self.where)
            return
        call.timer.cancel()
        self._current = None
        self._next()
        fire(call.deferred, result)

    def _timed_out(self, call):
        self._current = None
        worker, self._worker = self._worker, None
        worker.stop()
        self._log.warn(
            "{label} on {where} took over {timeout} s; abandoned thread {thread}",
            label=call.label,
            where=self.where,
            timeout=self._timeout,
            thread=worker.thread.name,
        )
        self._next()
        message = f"{call.label} on {self.where} did not return within {self._timeout:g} s"
        fire(call.deferred, Failure(HypervisorTimeout(message)))

    def _stop_worker(self, result):
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        return result
