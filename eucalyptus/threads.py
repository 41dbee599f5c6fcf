# -*- test-case-name: tests.services.walrus.test_blobs -*-
"""
L{Workers}: threads that run blocking calls (Walrus's storage, the NC's
instance files) and answer in the reactor thread.

Every pool serves one queue in order and answers in the reactor thread.  A
pool of one thread is a I{lane}: the jobs given to it run one after the
other, which is what keeps the chunks of one spool (or one reader) in
order without a lock.
"""

import queue
import threading

from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

__all__ = ["Workers"]


class Workers:
    """
    Threads serving one queue of jobs in order, answering in the reactor
    thread.  With C{count} 0 every job runs at once in the caller's thread
    (for tests, like Buildbot's C{NonThreadPool}).

    @ivar inline: C{True} when jobs run in the caller's thread.
    """

    _log = Logger()

    def __init__(self, reactor, count, name, on_exit=None):
        """
        @param on_exit: called in each thread as it stops (to close a
            per-thread connection).
        """
        self._reactor = reactor
        self._count = count
        self._name = name
        self._on_exit = on_exit
        self._queue = queue.SimpleQueue()
        self._running = 0
        self._stopped = []
        self.inline = count == 0

    def start(self):
        """
        Start the threads.
        """
        for index in range(self._count):
            thread = threading.Thread(target=self._loop, name=f"{self._name}-{index}", daemon=True)
            self._running += 1
            thread.start()

    def submit(self, fn, *args):
        """
        Run C{fn(*args)} on a thread.

        @return: a Deferred firing in the reactor thread with its result.
        """
        if self.inline:
            try:
                return succeed(fn(*args))
            except BaseException:
                return fail()
        d = Deferred()
        self._queue.put((fn, args, d))
        return d

    def post(self, fn, *args):
        """
        Run C{fn(*args)} on a thread without waiting for it; an error is
        logged.  Safe to call from any thread.
        """
        if self.inline:
            self._run(fn, args, None)
        else:
            self._queue.put((fn, args, None))

    def to_reactor(self, fn, *args):
        """
        Call C{fn(*args)} in the reactor thread (at once when inline).
        """
        if self.inline:
            fn(*args)
        else:
            self._reactor.callFromThread(fn, *args)

    def stop(self):
        """
        Stop the threads once the jobs queued so far are done.

        @return: a Deferred firing when every thread has stopped.
        """
        if self.inline or not self._running:
            if self.inline and self._on_exit is not None:
                self._on_exit()
            return succeed(None)
        d = Deferred()
        if not self._stopped:
            for _ in range(self._running):
                self._queue.put(None)
        self._stopped.append(d)
        return d

    def _loop(self):
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    break
                self._run(*job)
        finally:
            if self._on_exit is not None:
                self._on_exit()
            self._reactor.callFromThread(self._exited)

    def _run(self, fn, args, d):
        try:
            result = fn(*args)
        except BaseException:
            failure = Failure()
            if d is None:
                self.to_reactor(self._log_failure, failure)
            else:
                self.to_reactor(d.errback, failure)
        else:
            if d is not None:
                self.to_reactor(d.callback, result)

    def _log_failure(self, failure):
        self._log.failure("Background job on {name} failed", failure, name=self._name)

    def _exited(self):
        self._running -= 1
        if not self._running:
            waiting, self._stopped = self._stopped, []
            for d in waiting:
                d.callback(None)
