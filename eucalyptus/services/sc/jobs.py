# -*- test-case-name: tests.services.sc.test_operations -*-
"""
The Storage Controller's work in progress: a volume being created or
restored, a snapshot being copied and uploaded.  Each runs after the
operation that started it has answered; L{Jobs} knows which are running,
lets a caller wait for one to end, and cancels them (a deleted snapshot, a
stopping SC).
"""

import threading

from twisted.internet import defer
from twisted.logger import Logger

__all__ = ["Job", "Jobs"]


class Job:
    """
    One piece of work.

    @ivar name: the volume or snapshot id it works on.
    @ivar cancelled: a C{threading.Event} the work checks between steps.
    """

    def __init__(self, name):
        self.name = name
        self.cancelled = threading.Event()
        self._waiting = []

    def wait(self):
        """
        @return: a Deferred firing (with C{None}) once the work has ended.
        """
        d = defer.Deferred()
        self._waiting.append(d)
        return d

    def _ended(self):
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(None)


class Jobs:
    """
    The running L{Job}s, by name.  Used on the reactor thread only.
    """

    _log = Logger()

    def __init__(self):
        self._running = {}

    def __contains__(self, name):
        return name in self._running

    def run(self, name, work):
        """
        Start C{work(job)}, which returns a Deferred and handles its own
        errors (anything it lets through is logged).

        @return: the L{Job}.
        """
        job = self._running[name] = Job(name)

        def ended(result):
            if self._running.get(name) is job:
                del self._running[name]
            job._ended()
            return result

        d = defer.maybeDeferred(work, job)
        d.addErrback(lambda failure: self._log.failure("The work on {name} failed", failure, name=name))
        d.addBoth(ended)
        return job

    def wait(self, name):
        """
        @return: a Deferred firing once the job C{name} (if any) has ended.
        """
        job = self._running.get(name)
        return job.wait() if job is not None else defer.succeed(None)

    def cancel(self, name):
        """
        Ask job C{name} (if any) to stop.

        @return: a Deferred firing once it has ended.
        """
        job = self._running.get(name)
        if job is None:
            return defer.succeed(None)
        job.cancelled.set()
        return job.wait()

    def settled(self):
        """
        @return: a Deferred firing once every job running now has ended.
        """
        return defer.gatherResults([job.wait() for job in list(self._running.values())]).addCallback(lambda _: None)

    def cancel_all(self):
        """
        Ask every job to stop.

        @return: a Deferred firing once all have ended.
        """
        for job in self._running.values():
            job.cancelled.set()
        return self.settled()
