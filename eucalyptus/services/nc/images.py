# -*- test-case-name: tests.services.nc.test_images -*-
"""
The node's image cache (C{INSTANCE_PATH/cache}): the images its instances
are built from, downloaded once, kept while there is room, and removed
least recently used first.

Each entry is a directory named by its key::

    <key>/image        the image, complete and checked
    <key>/entry.json   {key, image_id, url, size, last_used}

The key is the image id and a short digest of the URL without its query,
so an image registered again under the same id (a new manifest) is a new
entry.  The record is written (fsynced, renamed) only after the image is
complete, and an entry is only ever visible with its record: on start, a
directory without a valid record (a download cut short), or whose image is
not the record's size, is deleted, and so are leftover temporary files.
That scan runs when the cache is made, before the node serves; everything
later on disk runs in threads.

Reference counts are the instances using an entry; an entry with none may
be evicted to make room for a download.  Concurrent requests for one image
share one download.  Cache bookkeeping is in the reactor thread; every
change on disk (records, removals) runs in a thread, one at a time.

The fetcher (L{eucalyptus.services.nc.fetch.Fetcher}) gives
C{size(url)}, the size when it is known in advance (room is made before the
download, else after it), and C{fetch(url, destination)}, firing with the
size once the image is there, complete and checked.
"""

import json
import os
import re
import shutil
from dataclasses import dataclass
from hashlib import sha256
from itertools import count

from twisted.internet import defer, threads
from twisted.logger import Logger
from twisted.python.failure import Failure

from eucalyptus.services.nc.errors import CacheFull
from eucalyptus.files import write_atomically

__all__ = ["ImageCache", "CacheEntry", "CacheUsage", "cache_key", "IMAGE", "RECORD"]

IMAGE = "image"
RECORD = "entry.json"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def cache_key(image_id, url):
    """
    The key of an image: its id (made safe as a file name) and the first
    12 hex digits of the SHA-256 of its URL without the query.
    """
    name = _UNSAFE.sub("_", image_id)[:64].lstrip(".") or "image"
    return f"{name}-{sha256(url.partition('?')[0].encode('utf-8')).hexdigest()[:12]}"


@dataclass(frozen=True)
class CacheEntry:
    """
    A complete image in the cache, as handed to its users.

    @ivar key: the entry's key (give it back to L{ImageCache.release}).
    @ivar path: the image file; read-only to its users.
    @ivar size: its size in bytes.
    """

    key: str
    image_id: str
    path: str
    size: int


@dataclass(frozen=True)
class CacheUsage:
    """
    How full the cache is.

    @ivar capacity_bytes: 0 when unlimited.
    @ivar entries: the number of complete images.
    """

    used_bytes: int
    capacity_bytes: int
    entries: int


#: What an entry's record holds.
_FIELDS = ("key", "image_id", "url", "size", "last_used")


@dataclass
class _Entry:
    key: str
    image_id: str
    url: str
    size: int
    last_used: float
    references: int = 0
    tick: int = 0

    def record(self):
        return {k: getattr(self, k) for k in _FIELDS}


class ImageCache:
    """
    The image cache of one node.

    @ivar root: the cache directory.
    @ivar capacity_bytes: the most bytes of images kept (0: no limit).
    @ivar fetcher: the L{eucalyptus.services.nc.fetch.Fetcher}.
    """

    _log = Logger()

    def __init__(self, root, capacity_bytes, fetcher, reactor=None, run_in_thread=None):
        """
        @param root: the cache directory (created if missing); its
            complete entries are indexed and the rest deleted, now.
        @param capacity_bytes: see L{capacity_bytes}.
        @param fetcher: see L{fetcher} and the module docstring.
        @param run_in_thread: C{run_in_thread(f, *args)} runs blocking
            C{f(*args)} off the reactor, returning a Deferred (the reactor's
            thread pool by default).
        """
        if reactor is None:
            from twisted.internet import reactor
        self.root = root
        self.capacity_bytes = capacity_bytes
        self.fetcher = fetcher
        self._reactor = reactor
        self._run = run_in_thread or (
            lambda f, *args: threads.deferToThreadPool(reactor, reactor.getThreadPool(), f, *args)
        )
        self._flights = {}
        self._reserved = {}
        self._disk = defer.DeferredLock()
        self._ticks = count(1)
        records, removed = _scan(root)
        for name in removed:
            self._log.info("Image cache: removed the incomplete entry {key}", key=name)
        self._entries = {}
        for record in sorted(records, key=lambda r: (r["last_used"], r["key"])):
            self._entries[record["key"]] = _Entry(**record, tick=next(self._ticks))

    # -- using entries ----------------------------------------------------------

    def acquire(self, image_id, url):
        """
        The image C{image_id} at C{url}, downloaded unless it is cached, and
        held (its reference count incremented) until L{release}d.

        @return: a Deferred firing with a L{CacheEntry}.
        @raise CacheFull: it does not fit, even with every unused image
            removed.
        @raise eucalyptus.services.nc.errors.ImageNotFound: see
            L{eucalyptus.services.nc.fetch.Fetcher.fetch}; likewise
            C{ImageCorrupt} and C{ImageFetchFailed}.
        """
        key = cache_key(image_id, url)
        entry = self._entries.get(key)
        if entry is not None:
            return defer.succeed(self._hold(entry))
        waiter = defer.Deferred()
        if key in self._flights:
            self._flights[key].append(waiter)
        else:
            self._flights[key] = [waiter]
            defer.Deferred.fromCoroutine(self._fill(key, image_id, url))
        return waiter

    def adopt(self, image_id, url):
        """
        Hold an image that is already cached (for the instances found
        running after a restart).

        @return: its L{CacheEntry}, or L{None} if it is not cached.
        """
        entry = self._entries.get(cache_key(image_id, url))
        return self._hold(entry) if entry is not None else None

    def release(self, key):
        """
        Let go of an entry L{acquire} or L{adopt} gave: once nobody holds
        it, it may be evicted.
        """
        entry = self._entries.get(key)
        if entry is None or entry.references <= 0:
            self._log.warn("Image cache: {key} released but not held", key=key)
            return
        entry.references -= 1
        self._touch(entry)

    def usage(self):
        """
        @return: a L{CacheUsage}.
        """
        entries = self._entries
        return CacheUsage(sum(e.size for e in entries.values()), self.capacity_bytes, len(entries))

    def entries(self):
        """
        @return: C{(key, size, references, last_used)} of each complete
            entry, least recently used first.
        """
        return [(e.key, e.size, e.references, e.last_used) for e in sorted(self._entries.values(), key=_lru)]

    def settled(self):
        """
        @return: a Deferred firing once the changes on disk asked for so
            far (records of recent use, removals) are done.
        """
        return self._disk.run(defer.succeed, None)

    def _path(self, key, name=IMAGE):
        return os.path.join(self.root, key, name)

    def _hold(self, entry):
        entry.references += 1
        self._touch(entry)
        return CacheEntry(entry.key, entry.image_id, self._path(entry.key), entry.size)

    def _touch(self, entry):
        entry.last_used = self._reactor.seconds()
        entry.tick = next(self._ticks)
        self._background(_write_record, os.path.join(self.root, entry.key), entry.record(), False)

    # -- filling ----------------------------------------------------------------

    async def _fill(self, key, image_id, url):
        """
        Download an image for everyone waiting for it.
        """
        try:
            entry = await self._download(key, image_id, url)
        except BaseException:
            failure = Failure()
            for waiter in self._flights.pop(key):
                waiter.errback(failure)
            return
        waiters = self._flights.pop(key)
        entry.references = len(waiters)
        self._entries[key] = entry
        for waiter in waiters:
            waiter.callback(CacheEntry(key, image_id, self._path(key), entry.size))

    async def _download(self, key, image_id, url):
        expected = await self.fetcher.size(url)
        await self._reserve(key, image_id, expected or 0)
        directory = os.path.join(self.root, key)
        try:
            await self._locked(_fresh_directory, directory)
            size = await self.fetcher.fetch(url, self._path(key))
            if size > (expected or 0):
                await self._reserve(key, image_id, size)
            entry = _Entry(key, image_id, url.partition("?")[0], size, self._reactor.seconds(),
                           tick=next(self._ticks))  # fmt: skip
            await self._locked(_write_record, directory, entry.record(), True)
            self._log.info("Image cache: {image_id} ({size} bytes) is {key}", image_id=image_id, size=size, key=key)
            return entry
        except BaseException:
            await self._locked(_remove_tree, directory)
            raise
        finally:
            self._reserved.pop(key, None)

    async def _reserve(self, key, image_id, size):
        """
        Set aside C{size} bytes for the download of C{key}, evicting the
        least recently used unheld entries as needed.

        @raise CacheFull: even evicting them all would not make room.
        """
        victims = []
        if self.capacity_bytes:
            taken = sum(e.size for e in self._entries.values())
            taken += sum(n for k, n in self._reserved.items() if k != key)
            excess = taken + size - self.capacity_bytes
            unheld = sorted((e for e in self._entries.values() if not e.references), key=_lru)
            if excess > sum(e.size for e in unheld):
                raise CacheFull(
                    f"The image {image_id} needs {size} bytes; the image cache holds {self.capacity_bytes} bytes "
                    f"and {taken - sum(e.size for e in unheld)} of them are in use. Raise NC_CACHE_SIZE or stop "
                    "instances."
                )
            for entry in unheld:
                if excess <= 0:
                    break
                victims.append(entry)
                excess -= entry.size
        self._reserved[key] = size
        for entry in victims:
            del self._entries[entry.key]
            self._log.info("Image cache: evicting {key} ({size} bytes)", key=entry.key, size=entry.size)
        await defer.gatherResults([self._locked(_remove_tree, os.path.join(self.root, e.key)) for e in victims])

    # -- the disk ---------------------------------------------------------------

    def _locked(self, f, *args):
        """
        Run C{f(*args)} in a thread, after every disk change asked before.
        """
        return self._disk.run(self._run, f, *args)

    def _background(self, f, *args):
        self._locked(f, *args).addErrback(lambda failure: self._log.failure("Image cache: {f} failed", failure, f=f))


def _lru(entry):
    return (entry.last_used, entry.tick)


def _write_record(directory, record, durable):
    """
    Write an entry's record (unless the entry has been removed meanwhile).
    """
    if os.path.isdir(directory):
        write_atomically(os.path.join(directory, RECORD), json.dumps(record), durable)


def _remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)


def _fresh_directory(path):
    _remove_tree(path)
    os.makedirs(path)


def _read_record(directory, name):
    """
    An entry's record if the entry is complete, else L{None}.
    """
    try:
        with open(os.path.join(directory, RECORD)) as f:
            record = json.load(f)
        size = os.stat(os.path.join(directory, IMAGE)).st_size
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or set(record) != set(_FIELDS):
        return None
    if record["key"] != name or record["size"] != size or cache_key(record["image_id"], record["url"]) != name:
        return None
    return record


def _scan(root):
    """
    The records of the complete entries under C{root}; everything else is
    deleted.

    @return: C{(records, names of the removed entries)}.
    """
    os.makedirs(root, exist_ok=True)
    records, removed = [], []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if os.path.islink(path) or not os.path.isdir(path):
            os.unlink(path)
            continue
        record = _read_record(path, name)
        if record is None:
            _remove_tree(path)
            removed.append(name)
            continue
        for leftover in os.listdir(path):
            if leftover not in (IMAGE, RECORD):
                leftover = os.path.join(path, leftover)
                if os.path.isdir(leftover):
                    _remove_tree(leftover)
                else:
                    os.unlink(leftover)
        records.append(record)
    return records, removed
