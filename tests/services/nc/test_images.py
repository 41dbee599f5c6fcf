"""
Tests for L{eucalyptus.services.nc.images}: the node's image cache over a
real L{eucalyptus.services.nc.fetch.Fetcher} and a live Walrus on loopback.
"""

import json
import os

from twisted.internet import defer, threads
from twisted.trial import unittest

from eucalyptus.services.nc.errors import CacheFull, ImageCorrupt, ImageNotFound
from eucalyptus.services.nc.fetch import Fetcher
from eucalyptus.services.nc.images import RECORD, CacheEntry, CacheUsage, ImageCache, cache_key
from tests.services.nc.test_fetch import CLOUD, ZONE, AutoClock, NodeWalrus, lying_server

SIZE = 1000


class CountingFetcher:
    """
    A L{Fetcher} that counts what it is asked.

    @ivar sized: the URLs whose size was asked for.
    @ivar downloads: the URLs downloaded.
    """

    def __init__(self, fetcher):
        self.fetcher = fetcher
        self.sized = []
        self.downloads = []

    def size(self, url):
        self.sized.append(url)
        return self.fetcher.size(url)

    def fetch(self, url, destination):
        self.downloads.append(url)
        return self.fetcher.fetch(url, destination)


class UnsizedFetcher(CountingFetcher):
    """
    A fetcher that cannot tell sizes before the download.
    """

    def size(self, url):
        self.sized.append(url)
        return defer.succeed(None)


class ImageCacheTestCase(unittest.TestCase):
    """
    A live Walrus holding images C{a} to C{e} of L{SIZE} bytes each.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.walrus = yield NodeWalrus(self).start()
        self.root = os.path.join(os.path.abspath(self.mktemp()), "cache")
        self.images = {name: os.urandom(SIZE) for name in "abcde"}
        self.urls = {}
        for name, data in self.images.items():
            self.urls[name] = yield threads.deferToThread(self.walrus.put, "images", name + ".img", data)
        self.fetcher = CountingFetcher(self.node_fetcher())

    def node_fetcher(self, **kwargs):
        """
        A real fetcher with the node's credential and keys.
        """
        credential = self.walrus.keystore.credential("node", ZONE)
        return Fetcher(credential, reactor=AutoClock(), run_in_thread=threads.deferToThread,
                       private_keys=[CLOUD.key], **kwargs)  # fmt: skip

    def cache(self, capacity=0, fetcher=None):
        return ImageCache(self.root, capacity, fetcher or self.fetcher)

    def acquire(self, cache, name):
        return cache.acquire("emi-" + name, self.urls[name])

    @defer.inlineCallbacks
    def use(self, cache, *names):
        """
        Acquire and release images, one after the other.
        """
        for name in names:
            entry = yield self.acquire(cache, name)
            cache.release(entry.key)

    def key(self, name):
        return cache_key("emi-" + name, self.urls[name])

    def cached(self, cache):
        """
        The names of the cached images, least recently used first.
        """
        names = {self.key(name): name for name in self.images}
        return "".join(names[key] for key, _, _, _ in cache.entries())

    def on_disk(self):
        return sorted(os.listdir(self.root))


class AcquireTests(ImageCacheTestCase):
    """
    L{ImageCache.acquire} downloads an image once and holds it.
    """

    @defer.inlineCallbacks
    def test_acquire(self):
        """
        The entry names the complete image; its record says where it came
        from and its size.
        """
        cache = self.cache(10 * SIZE)
        entry = yield self.acquire(cache, "a")
        self.assertEqual(entry, CacheEntry(self.key("a"), "emi-a", os.path.join(self.root, self.key("a"), "image"), SIZE))
        with open(entry.path, "rb") as f:
            self.assertEqual(f.read(), self.images["a"])
        self.assertEqual(cache.usage(), CacheUsage(SIZE, 10 * SIZE, 1))
        self.assertEqual([(k, s, r) for k, s, r, _ in cache.entries()], [(self.key("a"), SIZE, 1)])
        yield cache.settled()
        with open(os.path.join(self.root, entry.key, RECORD)) as f:
            record = json.load(f)
        self.assertEqual(
            {k: record[k] for k in ("key", "image_id", "url", "size")},
            {"key": entry.key, "image_id": "emi-a", "url": self.urls["a"], "size": SIZE},
        )
        self.assertEqual(sorted(os.listdir(os.path.join(self.root, entry.key))), [RECORD, "image"])

    @defer.inlineCallbacks
    def test_cached(self):
        """
        A cached image is not downloaded again; each acquire is a reference
        and each release lets one go.
        """
        cache = self.cache()
        first = yield self.acquire(cache, "a")
        second = yield self.acquire(cache, "a")
        self.assertEqual((first, len(self.fetcher.downloads)), (second, 1))
        self.assertEqual(cache.entries()[0][2], 2)
        cache.release(first.key)
        cache.release(first.key)
        cache.release(first.key)
        self.assertEqual(cache.entries()[0][2], 0)

    @defer.inlineCallbacks
    def test_single_flight(self):
        """
        Ten concurrent acquires of one image download it once and all get
        the same entry, each holding it.
        """
        cache = self.cache()
        results = yield defer.gatherResults([self.acquire(cache, "a") for _ in range(10)])
        self.assertEqual(len(set(results)), 1)
        self.assertEqual(self.fetcher.downloads, [self.urls["a"]])
        self.assertEqual(cache.entries()[0][2], 10)

    @defer.inlineCallbacks
    def test_single_flight_failure(self):
        """
        Concurrent acquires of a missing image share one failure.
        """
        cache = self.cache()
        calls = [cache.acquire("emi-x", self.urls["a"] + "-gone") for _ in range(5)]
        for call in calls:
            yield self.assertFailure(call, ImageNotFound)
        self.assertEqual((len(self.fetcher.sized), self.fetcher.downloads), (1, []))
        self.assertEqual((cache.entries(), self.on_disk()), ([], []))

    @defer.inlineCallbacks
    def test_keys(self):
        """
        A new image under the same id is another entry; the query string
        does not make one.
        """
        cache = self.cache()
        a = yield cache.acquire("emi-a", self.urls["a"])
        again = yield cache.acquire("emi-a", self.urls["a"] + "?x-token=1")
        other = yield cache.acquire("emi-a", self.urls["b"])
        self.assertEqual(a.key, again.key)
        self.assertNotEqual(a.key, other.key)
        self.assertTrue(a.key.startswith("emi-a-"))
        with open(other.path, "rb") as f:
            self.assertEqual(f.read(), self.images["b"])

    @defer.inlineCallbacks
    def test_corrupt_not_kept(self):
        """
        A download that fails its checks leaves nothing, and the next
        acquire tries again.
        """
        _, url = lying_server(self, self.images["a"], ["truncate", "ok"])
        cache = self.cache(fetcher=CountingFetcher(self.node_fetcher(max_attempts=1)))
        yield self.assertFailure(cache.acquire("emi-lie", url), ImageCorrupt)
        self.assertEqual((cache.entries(), self.on_disk()), ([], []))
        entry = yield cache.acquire("emi-lie", url)
        self.assertEqual(entry.size, SIZE)

    @defer.inlineCallbacks
    def test_bundle(self):
        """
        A bundle is cached as its image.
        """
        url, _ = yield threads.deferToThread(self.walrus.put_bundle, self, self.images["e"] * 300)
        entry = yield self.cache().acquire("emi-bundle", url)
        with open(entry.path, "rb") as f:
            self.assertEqual(f.read(), self.images["e"] * 300)


class EvictionTests(ImageCacheTestCase):
    """
    Unheld images make room for new ones, least recently used first.
    """

    @defer.inlineCallbacks
    def test_lru(self):
        """
        The least recently used unheld images are evicted, and only as many
        as needed.
        """
        cache = self.cache(3 * SIZE)
        yield self.use(cache, "a", "b", "c", "a")
        self.assertEqual(self.cached(cache), "bca")
        yield self.use(cache, "d")
        self.assertEqual(self.cached(cache), "cad")
        yield self.use(cache, "e")
        self.assertEqual(self.cached(cache), "ade")
        yield cache.settled()
        self.assertEqual(self.on_disk(), sorted(self.key(n) for n in "ade"))

    @defer.inlineCallbacks
    def test_held_kept(self):
        """
        A held image is never evicted; when only held images would make
        room, the download is L{CacheFull} and leaves nothing.
        """
        cache = self.cache(2 * SIZE)
        held = yield self.acquire(cache, "a")
        yield self.use(cache, "b")
        c = yield self.acquire(cache, "c")
        self.assertEqual(self.cached(cache), "ac")
        error = yield self.assertFailure(self.acquire(cache, "d"), CacheFull)
        self.assertIn("emi-d", error.message)
        self.assertEqual(self.cached(cache), "ac")
        yield cache.settled()
        self.assertEqual(self.on_disk(), sorted([held.key, c.key]))
        cache.release(held.key)
        yield self.use(cache, "d")
        self.assertEqual(self.cached(cache), "cd")

    @defer.inlineCallbacks
    def test_too_big(self):
        """
        An image larger than the whole cache is L{CacheFull} before it is
        downloaded, and nothing is evicted for it.
        """
        cache = self.cache(SIZE // 2)
        yield self.assertFailure(self.acquire(cache, "a"), CacheFull)
        self.assertEqual((self.fetcher.downloads, self.on_disk()), ([], []))

    @defer.inlineCallbacks
    def test_size_unknown(self):
        """
        When the size is known only after the download, room is made then;
        if there is none, the image is thrown away.
        """
        cache = self.cache(2 * SIZE, fetcher=UnsizedFetcher(self.node_fetcher()))
        yield self.use(cache, "a", "b", "c")
        self.assertEqual(self.cached(cache), "bc")
        held = []
        for name in "bc":
            held.append((yield self.acquire(cache, name)))
        yield self.assertFailure(self.acquire(cache, "d"), CacheFull)
        yield cache.settled()
        self.assertEqual(self.on_disk(), sorted(entry.key for entry in held))

    @defer.inlineCallbacks
    def test_unlimited(self):
        """
        A capacity of 0 keeps everything.
        """
        cache = self.cache(0)
        yield self.use(cache, *"abcde")
        self.assertEqual(cache.usage(), CacheUsage(5 * SIZE, 0, 5))


class RestartTests(ImageCacheTestCase):
    """
    A new cache over the same directory knows the complete entries and
    nothing else.
    """

    @defer.inlineCallbacks
    def test_restart(self):
        """
        Complete entries come back unheld, in their order of use; a
        half-written entry, a corrupt record and leftover temporary files
        are deleted.
        """
        cache = self.cache(10 * SIZE)
        yield self.use(cache, "b", "a")
        held = yield self.acquire(cache, "c")
        yield cache.settled()
        half = os.path.join(self.root, "emi-half-0123456789ab")
        os.makedirs(half)
        with open(os.path.join(half, ".image.x1y2.part"), "wb") as f:
            f.write(b"partial")
        with open(os.path.join(self.root, held.key, ".image.z9.part"), "wb") as f:
            f.write(b"leftover")
        with open(os.path.join(self.root, self.key("b"), RECORD), "r+") as f:
            f.truncate(10)

        restarted = self.cache(10 * SIZE)
        self.assertEqual(self.cached(restarted), "ac")
        self.assertEqual([refs for _, _, refs, _ in restarted.entries()], [0, 0])
        self.assertEqual(self.on_disk(), sorted([self.key("a"), held.key]))
        self.assertEqual(sorted(os.listdir(os.path.join(self.root, held.key))), [RECORD, "image"])
        adopted = restarted.adopt("emi-c", self.urls["c"])
        self.assertEqual(adopted, held)
        self.assertEqual(restarted.entries()[-1][2], 1)
        self.assertIsNone(restarted.adopt("emi-b", self.urls["b"]))
        again = yield self.acquire(restarted, "a")
        self.assertEqual((again.key, len(self.fetcher.downloads)), (self.key("a"), 3))
