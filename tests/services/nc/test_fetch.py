"""
Tests for L{eucalyptus.services.nc.fetch}: a node downloading images from a
live Walrus on loopback with its zone's node key, and from a small server
of our own that truncates bodies and lies about ETags.

The helpers here (L{NodeWalrus}, L{LyingServer}, L{AutoClock}) are shared
with L{tests.services.nc.test_images}.
"""

import hashlib
import os
import socket
from urllib.parse import quote

from twisted.internet import defer, reactor, task, threads
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from eucalyptus import bundle
from eucalyptus.security.keys import KeyStore, create_pair, write_certificate, write_private_key
from eucalyptus.services.nc.errors import ImageCorrupt, ImageFetchFailed, ImageNotFound
from eucalyptus.services.nc.fetch import Fetcher
from tests.services.walrus.harness import LiveWalrus, in_thread

ZONE = "zone-1"
NODE = create_pair("nc-" + ZONE)
CLOUD = create_pair("eucalyptus")
USER = create_pair("admin@alice", issuer=CLOUD)
STRANGER = create_pair("nc-elsewhere")
IMAGE = os.urandom(2 * 1024 * 1024 + 12345)


class NodeWalrus(LiveWalrus):
    """
    A live Walrus whose key directory holds the cloud's keys and zone-1's
    node keys, and which trusts that node key.

    @ivar keystore: the L{KeyStore} Walrus and the node share.
    """

    @defer.inlineCallbacks
    def start(self):
        yield LiveWalrus.start(self)
        self.keystore = KeyStore(os.path.join(self.root, "keys"))
        for role, zone, pair in (("cloud", None, CLOUD), ("node", ZONE, NODE)):
            write_certificate(self.keystore.cert_path(role, zone), pair.certificate)
            write_private_key(self.keystore.key_path(role, zone), pair.key)
        self.objects.directory.keys_dir = self.keystore.path
        self.s3 = self.client("alice")
        self.buckets = set()
        return self

    def put(self, bucket, key, data):
        """
        Upload C{data} as alice (private), blocking; return its URL.
        """
        if bucket not in self.buckets:
            self.s3.create_bucket(Bucket=bucket)
            self.buckets.add(bucket)
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)
        return self.url_of(bucket, key)

    def url_of(self, bucket, key):
        """
        The URL of an object at the cloud port's path.
        """
        return f"{self.url}/services/Walrus/{bucket}/{quote(key)}"

    def put_bundle(self, testcase, image, bucket="bundles", prefix="img/", part_size=200_000):
        """
        Bundle C{image} for the cloud certificate and upload its parts and
        manifest below C{prefix}, blocking.

        @return: the manifest's URL and the bundle's L{bundle.Manifest}.
        """
        directory = os.path.abspath(testcase.mktemp())
        os.makedirs(os.path.join(directory, "out"))
        with open(os.path.join(directory, "disk.img"), "wb") as f:
            f.write(image)
        account = self.keys["alice"].account_id
        path = bundle.make_bundle(
            os.path.join(directory, "disk.img"), os.path.join(directory, "out"), CLOUD.certificate, USER,
            part_size=part_size, account=account,
        )  # fmt: skip
        for name in os.listdir(os.path.join(directory, "out")):
            with open(os.path.join(directory, "out", name), "rb") as f:
                self.put(bucket, prefix + name, f.read())
        with open(path, "rb") as f:
            manifest = bundle.parse_manifest(f.read())
        return self.url_of(bucket, prefix + os.path.basename(path)), manifest


class AutoClock(task.Clock):
    """
    A clock for a fetcher's backoff: each delay asked for is recorded and
    let pass at the reactor's next turn, so no real time goes by.

    @ivar delays: the delays asked for, in order.
    """

    def __init__(self):
        task.Clock.__init__(self)
        self.delays = []

    def callLater(self, delay, f, *args, **kwargs):
        call = task.Clock.callLater(self, delay, f, *args, **kwargs)
        self.delays.append(delay)
        reactor.callLater(0, self.advance, delay)
        return call


class LyingImage(Resource):
    """
    Serves C{data}, behaving on the n-th GET as C{behaviours[n]} says
    (the last one repeats): C{ok}, C{truncate} (declares the whole length,
    sends half, hangs up), C{etag} (a plain ETag that is not the MD5),
    C{multipart} (an ETag of the multipart kind, not an MD5), C{503}.
    A HEAD is answered as C{ok}.

    @ivar requests: the GETs seen.
    """

    isLeaf = True

    def __init__(self, data, behaviours):
        Resource.__init__(self)
        self.data = data
        self.behaviours = list(behaviours)
        self.requests = []

    def render(self, request):
        behaviour = "ok"
        if request.method != b"HEAD":
            behaviour = self.behaviours[min(len(self.requests), len(self.behaviours) - 1)]
            self.requests.append(request.method)
        if behaviour == "503":
            request.setResponseCode(503)
            return b"<Error><Code>ServiceUnavailable</Code></Error>"
        etag = {
            "etag": hashlib.md5(self.data + b"x").hexdigest(),
            "multipart": hashlib.md5(b"parts").hexdigest() + "-2",
        }.get(behaviour, hashlib.md5(self.data).hexdigest())
        request.setHeader("etag", f'"{etag}"')
        request.setHeader("content-length", str(len(self.data)))
        if request.method == b"HEAD":
            return b""
        if behaviour == "truncate":
            request.write(self.data[: len(self.data) // 2])
            request.channel.transport.unregisterProducer()
            request.channel.transport.loseConnection()
            return NOT_DONE_YET
        return self.data


def lying_server(testcase, data, behaviours):
    """
    Start a L{LyingImage} on loopback.

    @return: the resource and the URL to fetch.
    """
    resource = LyingImage(data, behaviours)
    port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")
    testcase.addCleanup(port.stopListening)
    return resource, f"http://127.0.0.1:{port.getHost().port}/bucket/image.img"


def closed_port_url():
    """
    A URL on a loopback port nothing listens on.
    """
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/bucket/image.img"


def leftovers(directory):
    """
    The files in C{directory}, temporary ones included.
    """
    return sorted(os.listdir(directory))


class FetchTestCase(unittest.TestCase):
    """
    A live Walrus trusting zone-1's node key, and a scratch directory.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.walrus = yield NodeWalrus(self).start()
        self.directory = os.path.abspath(self.mktemp())
        os.makedirs(self.directory)
        self.destination = os.path.join(self.directory, "image")

    def fetcher(self, credential=None, clock=None, **kwargs):
        """
        A fetcher with the node's credential from the shared key store,
        real threads and an L{AutoClock} for its backoff.
        """
        self.clock = clock or AutoClock()
        credential = credential or self.walrus.keystore.credential("node", ZONE)
        return Fetcher(credential, reactor=self.clock, run_in_thread=threads.deferToThread, **kwargs)


class FetchTests(FetchTestCase):
    """
    L{Fetcher.fetch} downloads plain images with node credentials.
    """

    @defer.inlineCallbacks
    def test_fetch(self):
        """
        A private image of a user's bucket is downloaded, in several chunks,
        to the destination; nothing else is left beside it.
        """
        url = yield in_thread(self.walrus.put, "images", "disk one.img", IMAGE)
        fetcher = Fetcher(self.walrus.keystore.credential("node", ZONE))
        size = yield fetcher.fetch(url, self.destination)
        self.assertEqual(size, len(IMAGE))
        with open(self.destination, "rb") as f:
            self.assertEqual(f.read(), IMAGE)
        self.assertEqual(leftovers(self.directory), ["image"])

    @defer.inlineCallbacks
    def test_size(self):
        """
        L{Fetcher.size} asks Walrus for the image's size.
        """
        url = yield in_thread(self.walrus.put, "images", "disk.img", IMAGE)
        size = yield self.fetcher().size(url)
        self.assertEqual(size, len(IMAGE))

    @defer.inlineCallbacks
    def test_not_found(self):
        """
        A missing image is L{ImageNotFound} at once: no retry, no file.
        """
        url = yield in_thread(self.walrus.put, "images", "disk.img", b"x")
        fetcher = self.fetcher()
        error = yield self.assertFailure(fetcher.fetch(url + "-gone", self.destination), ImageNotFound)
        self.assertIn("NoSuchKey", error.message)
        self.assertEqual(self.clock.delays, [])
        self.assertEqual(leftovers(self.directory), [])
        yield self.assertFailure(fetcher.size(url + "-gone"), ImageNotFound)

    @defer.inlineCallbacks
    def test_forbidden(self):
        """
        A key Walrus does not trust is refused (403): L{ImageFetchFailed}
        at once, saying what to check.
        """
        url = yield in_thread(self.walrus.put, "images", "disk.img", b"x")
        fetcher = self.fetcher(credential=STRANGER)
        error = yield self.assertFailure(fetcher.fetch(url, self.destination), ImageFetchFailed)
        self.assertIn("403 (AccessDenied)", error.message)
        self.assertIn("node-cert.pem", error.message)
        self.assertEqual(self.clock.delays, [])
        self.assertEqual(leftovers(self.directory), [])


class LyingServerTests(FetchTestCase):
    """
    Transfers that go wrong are retried with backoff; bytes that are not
    the image never reach the destination.
    """

    @defer.inlineCallbacks
    def assert_corrupt(self, behaviours):
        resource, url = lying_server(self, IMAGE, behaviours)
        fetcher = self.fetcher(max_attempts=3)
        error = yield self.assertFailure(fetcher.fetch(url, self.destination), ImageCorrupt)
        self.assertEqual(len(resource.requests), 3)
        self.assertEqual(self.clock.delays, [2.0, 4.0])
        self.assertEqual(leftovers(self.directory), [])
        return error

    @defer.inlineCallbacks
    def test_truncated(self):
        """
        A body shorter than its Content-Length is retried, then
        L{ImageCorrupt}; no partial file is left.
        """
        error = yield self.assert_corrupt(["truncate"])
        self.assertIn("failed 3 times", error.message)

    @defer.inlineCallbacks
    def test_lying_etag(self):
        """
        A body whose MD5 is not its (plain) ETag is retried, then
        L{ImageCorrupt}; no file is left.
        """
        error = yield self.assert_corrupt(["etag"])
        self.assertIn("the MD5 is", error.message)

    @defer.inlineCallbacks
    def test_recovers(self):
        """
        A bad transfer followed by a good one gives the image.
        """
        resource, url = lying_server(self, IMAGE, ["truncate", "etag", "ok"])
        size = yield self.fetcher().fetch(url, self.destination)
        self.assertEqual((size, len(resource.requests), self.clock.delays), (len(IMAGE), 3, [2.0, 4.0]))
        with open(self.destination, "rb") as f:
            self.assertEqual(f.read(), IMAGE)

    @defer.inlineCallbacks
    def test_multipart_etag(self):
        """
        A multipart ETag (C{<md5>-<parts>}) is not an MD5 of the body and is
        not checked.
        """
        resource, url = lying_server(self, IMAGE, ["multipart"])
        size = yield self.fetcher().fetch(url, self.destination)
        self.assertEqual((size, len(resource.requests)), (len(IMAGE), 1))

    @defer.inlineCallbacks
    def test_server_error(self):
        """
        Server errors are retried, then L{ImageFetchFailed} naming the last.
        """
        resource, url = lying_server(self, IMAGE, ["503"])
        error = yield self.assertFailure(self.fetcher(max_attempts=4).fetch(url, self.destination), ImageFetchFailed)
        self.assertIn("HTTP 503", error.message)
        self.assertEqual((len(resource.requests), self.clock.delays), (4, [2.0, 4.0, 8.0]))
        self.assertEqual(leftovers(self.directory), [])


class BackoffTests(unittest.SynchronousTestCase):
    """
    The waits between attempts double from C{first_delay} up to
    C{max_delay}, on the injected reactor's clock.
    """

    def test_grow_and_cap(self):
        """
        With Walrus unreachable, the waits are 2, 4, 8, then capped at 10
        seconds, and after C{max_attempts} attempts the fetch fails.
        """
        clock = task.Clock()
        directory = self.mktemp()
        os.makedirs(directory)
        fetcher = Fetcher(NODE, max_attempts=6, first_delay=2.0, max_delay=10.0, reactor=clock,
                          run_in_thread=lambda f, *args: defer.maybeDeferred(f, *args))  # fmt: skip
        d = fetcher.fetch(closed_port_url(), os.path.join(directory, "image"))
        delays = []
        while clock.getDelayedCalls():
            (call,) = clock.getDelayedCalls()
            delays.append(call.getTime() - clock.seconds())
            self.assertNoResult(d)
            clock.advance(delays[-1])
        self.assertEqual(delays, [2.0, 4.0, 8.0, 10.0, 10.0])
        error = self.failureResultOf(d, ImageFetchFailed).value
        self.assertIn("failed 6 times", error.message)
        self.assertEqual(os.listdir(directory), [])

    def test_close(self):
        """
        Closing the fetcher ends a download waiting to try again.
        """
        clock = task.Clock()
        directory = self.mktemp()
        os.makedirs(directory)
        fetcher = Fetcher(NODE, reactor=clock, run_in_thread=lambda f, *args: defer.maybeDeferred(f, *args))
        d = fetcher.fetch(closed_port_url(), os.path.join(directory, "image"))
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        fetcher.close()
        self.assertIn("stopping", self.failureResultOf(d, ImageFetchFailed).value.message)
        self.assertEqual(clock.getDelayedCalls(), [])


class BundleTests(FetchTestCase):
    """
    A URL ending in C{.manifest.xml} is an Eucalyptus bundle: manifest,
    parts, unbundled with the node's keys.
    """

    IMAGE = os.urandom(700_000)

    @defer.inlineCallbacks
    def setUp(self):
        yield FetchTestCase.setUp(self)
        self.url, self.manifest = yield in_thread(self.walrus.put_bundle, self, self.IMAGE)
        self.assertGreater(len(self.manifest.parts), 2)

    @defer.inlineCallbacks
    def test_bundle(self):
        """
        The parts are downloaded from the manifest's directory, checked and
        unbundled into the image.
        """
        fetcher = self.fetcher(private_keys=[STRANGER.key, CLOUD.key])
        size = yield fetcher.fetch(self.url, self.destination)
        self.assertEqual(size, len(self.IMAGE))
        with open(self.destination, "rb") as f:
            self.assertEqual(f.read(), self.IMAGE)
        self.assertEqual(leftovers(self.directory), ["image"])

    @defer.inlineCallbacks
    def test_size(self):
        """
        The size of a bundle's image is the manifest's.
        """
        size = yield self.fetcher().size(self.url)
        self.assertEqual(size, len(self.IMAGE))

    @defer.inlineCallbacks
    def test_tampered_part(self):
        """
        A part whose SHA-1 is not the manifest's is refused:
        L{ImageCorrupt}, not retried, and nothing is kept.
        """
        part = self.manifest.parts[1]

        def tamper():
            body = bytearray(self.walrus.s3.get_object(Bucket="bundles", Key="img/" + part.filename)["Body"].read())
            body[100] ^= 1
            self.walrus.put("bundles", "img/" + part.filename, bytes(body))

        yield in_thread(tamper)
        fetcher = self.fetcher(private_keys=[CLOUD.key])
        error = yield self.assertFailure(fetcher.fetch(self.url, self.destination), ImageCorrupt)
        self.assertIn(part.filename, error.message)
        self.assertIn("SHA-1", error.message)
        self.assertEqual(self.clock.delays, [])
        self.assertEqual(leftovers(self.directory), [])

    @defer.inlineCallbacks
    def test_missing_part(self):
        """
        A missing part is L{ImageNotFound}, and nothing is kept.
        """
        yield in_thread(self.walrus.s3.delete_object, Bucket="bundles", Key="img/" + self.manifest.parts[-1].filename)
        fetcher = self.fetcher(private_keys=[CLOUD.key])
        yield self.assertFailure(fetcher.fetch(self.url, self.destination), ImageNotFound)
        self.assertEqual(leftovers(self.directory), [])

    @defer.inlineCallbacks
    def test_foreign_keys(self):
        """
        A bundle none of the node's keys opens is L{ImageFetchFailed}.
        """
        fetcher = self.fetcher(private_keys=[STRANGER.key])
        error = yield self.assertFailure(fetcher.fetch(self.url, self.destination), ImageFetchFailed)
        self.assertIn("cannot be opened by this node", error.message)
        self.assertEqual(leftovers(self.directory), [])

    @defer.inlineCallbacks
    def test_bad_manifest(self):
        """
        A manifest that is not one is L{ImageCorrupt}.
        """
        url = yield in_thread(self.walrus.put, "bundles", "img/junk.manifest.xml", b"<manifest/>")
        fetcher = self.fetcher(private_keys=[CLOUD.key])
        yield self.assertFailure(fetcher.fetch(url, self.destination), ImageCorrupt)
        self.assertEqual(leftovers(self.directory), [])
