# -*- test-case-name: tests.services.clc.test_walrus_proxy -*-
"""
Tests for L{eucalyptus.services.clc.walrus_proxy}: S3 on the cloud's port
forwarded to a live Walrus on another loopback port, driven by boto3 and by
plain sockets, plus the streaming body on its own.
"""

import hashlib
import http.client
import io
import os
import socket
import urllib.request
from urllib.parse import urlsplit

import boto3
import boto3.s3.transfer
from botocore.config import Config
from botocore.exceptions import ClientError
from lxml import etree
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.protocols.policies import WrappingFactory
from twisted.internet.testing import StringTransport
from twisted.trial import unittest
from twisted.web.iweb import UNKNOWN_LENGTH
from twisted.web.resource import Resource

from eucalyptus import admin
from eucalyptus.config import config_from_string
from eucalyptus.services.clc import service as clc
from eucalyptus.services.clc.walrus_proxy import ProxyRequest, StreamedBody, WalrusProxy, serve
from eucalyptus.services.walrus import service as walrus
from eucalyptus.soap.resource import SoapSite
from tests.services.walrus.harness import LiveWalrus, error_code, in_thread, raw_request, status_of

__all__ = [
    "StreamedBodyTests",
    "ProxyRoutingTests",
    "ProxiedS3Tests",
    "ProxiedStreamingTests",
    "WalrusDownTests",
    "DisconnectTests",
    "CloudControllerServiceTests",
]

PATH = "services/Walrus"
SOAP_LIMIT = 10 << 20
MiB = 1 << 20


class _Consumer:
    """
    The upstream connection as a L{StreamedBody} sees it.
    """

    def __init__(self):
        self.data = []

    def write(self, data):
        self.data.append(data)


class _Echo(Resource):
    """
    Another resource on the CLC's site: says how much body it was given and
    whether the site's SOAP limit cut it off.
    """

    isLeaf = True

    def render_POST(self, request):
        return b"%d %d" % (len(request.content.read()), bool(getattr(request, "body_too_large", False)))


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Front:
    """
    A CLC-style site on loopback: a L{SoapSite} with the SOAP limit, the
    proxy at C{/services/Walrus} and an ordinary resource at
    C{/services/Eucalyptus}.

    @ivar url: the S3 endpoint through the proxy.
    """

    def __init__(self, testcase, walrus_port):
        self.testcase = testcase
        self.proxy = WalrusProxy("127.0.0.1", walrus_port, PATH)
        root = Resource()
        root.putChild(b"services", Resource())
        root.children[b"services"].putChild(b"Eucalyptus", _Echo())
        self.site = SoapSite(root, max_body=SOAP_LIMIT)
        self.site.timeOut = None
        self.service = serve(self.proxy, self.site, root, PATH)
        self.connections = WrappingFactory(self.site)
        self.port = reactor.listenTCP(0, self.connections, interface="127.0.0.1")
        testcase.addCleanup(self._stop)
        self.base = f"http://127.0.0.1:{self.port.getHost().port}"
        self.url = self.base + "/" + PATH

    @defer.inlineCallbacks
    def _stop(self):
        yield self.port.stopListening()
        for wrapper in list(self.connections.protocols):
            wrapper.transport.abortConnection()
        yield self.service.stopService()
        yield deferLater(reactor, 0.05, lambda: None)


def _connections_to(walrus):
    """
    How many connections the live Walrus has open.
    """
    return len(walrus.connections.protocols)


@defer.inlineCallbacks
def _until(predicate, timeout=10.0):
    """
    Wait (without blocking the reactor) until C{predicate()} is true.
    """
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return True
        yield deferLater(reactor, 0.05, lambda: None)
    return predicate()


class StreamedBodyTests(unittest.SynchronousTestCase):
    """
    L{StreamedBody} passes chunks through, buffers a little before the
    upstream connection opens, and pauses the client when it must.
    """

    def setUp(self):
        self.client = StringTransport()
        self.body = StreamedBody(self.client, 3 * MiB)
        self.consumer = _Consumer()

    def test_length(self):
        """
        The declared length is the producer's length; no declared length is
        L{UNKNOWN_LENGTH}, which makes the upstream request chunked.
        """
        self.assertEqual(self.body.length, 3 * MiB)
        self.assertIs(StreamedBody(self.client, None).length, UNKNOWN_LENGTH)

    def test_waits_for_the_connection(self):
        """
        Chunks that arrive before the upstream connection opens are held,
        up to a limit past which the client is paused; once it opens they
        are written in order and the client resumes.
        """
        chunk = b"x" * (MiB // 2)
        self.body.write(chunk)
        self.body.write(chunk)
        self.assertEqual(self.client.producerState, "producing")
        self.body.write(chunk)
        self.assertEqual(self.client.producerState, "paused")
        done = self.body.startProducing(self.consumer)
        self.assertEqual(self.consumer.data, [chunk] * 3)
        self.assertEqual(self.client.producerState, "producing")
        self.assertNoResult(done)

    def test_passes_chunks_through(self):
        """
        Once the connection is open, chunks are not held at all, and the
        body is complete when the request is.
        """
        done = self.body.startProducing(self.consumer)
        self.body.write(b"abc")
        self.assertEqual(self.consumer.data, [b"abc"])
        self.body.finish()
        self.assertIsNone(self.successResultOf(done))
        self.assertEqual(self.body.received, 3)

    def test_upstream_backpressure(self):
        """
        When the upstream connection pauses the body, the client's socket is
        paused, and resumed with it.
        """
        self.body.startProducing(self.consumer)
        self.body.pauseProducing()
        self.assertEqual(self.client.producerState, "paused")
        self.body.resumeProducing()
        self.assertEqual(self.client.producerState, "producing")

    def test_finish_gives_the_socket_back(self):
        """
        A body completed while the client is paused resumes it (the channel
        reads the next request), and later upstream pauses leave the client
        alone.
        """
        self.body.startProducing(self.consumer)
        self.body.pauseProducing()
        self.body.finish()
        self.assertEqual(self.client.producerState, "producing")
        self.body.pauseProducing()
        self.assertEqual(self.client.producerState, "producing")

    def test_stopped(self):
        """
        After the upstream request stops, the rest of the body is read and
        dropped, and the client is not left paused.
        """
        self.body.write(b"x" * (2 * MiB))
        self.assertEqual(self.client.producerState, "paused")
        self.body.stopProducing()
        self.assertEqual(self.client.producerState, "producing")
        self.body.write(b"more")
        self.assertEqual(self.body.received, 2 * MiB + 4)

    def test_cancel(self):
        """
        Cancelling the production (the upstream request was cancelled) stops
        it.
        """
        done = self.body.startProducing(self.consumer)
        done.cancel()
        self.failureResultOf(done, defer.CancelledError)
        self.body.write(b"late")
        self.assertEqual(self.consumer.data, [])

    def test_nothing_to_read(self):
        """
        As a request's C{content} it reads empty, so Twisted parses no form
        out of it.
        """
        self.body.write(b"a=b")
        self.assertEqual((self.body.tell(), self.body.read()), (0, b""))


class ProxyRoutingTests(unittest.SynchronousTestCase):
    """
    Which request targets the proxy takes.
    """

    def setUp(self):
        self.proxy = WalrusProxy("127.0.0.1", 8776, PATH, reactor=reactor)

    def tearDown(self):
        self.proxy.close()

    def test_claims(self):
        """
        Targets at or below the mount path, with or without a query, and
        with segments escaped as Twisted unescapes them, are the proxy's.
        """
        for target in (
            b"/services/Walrus",
            b"/services/Walrus/",
            b"/services/Walrus?uploads",
            b"/services/Walrus/bucket/a%20key?acl",
            b"/services/%57alrus/bucket",
        ):
            self.assertTrue(self.proxy.claims(target), target)

    def test_does_not_claim(self):
        """
        Other paths, near misses and absolute-form targets are not.
        """
        for target in (
            b"/services/Eucalyptus",
            b"/services/WalrusX/b",
            b"//services/Walrus/b",
            b"/services%2FWalrus/b",
            b"http://host/services/Walrus/b",
            b"*",
        ):
            self.assertFalse(self.proxy.claims(target), target)

    def test_ipv6_origin(self):
        """
        An IPv6 Walrus address is bracketed in the upstream URL.
        """
        proxy = WalrusProxy("::1", 8776, PATH, reactor=reactor)
        self.addCleanup(proxy.close)
        self.assertEqual(proxy.origin, b"http://[::1]:8776")

    def test_serve(self):
        """
        L{serve} mounts the proxy and makes the site stream below it.
        """
        root = Resource()
        site = SoapSite(root, max_body=SOAP_LIMIT)
        serve(self.proxy, site, root, PATH)
        self.assertIs(root.children[b"services"].children[b"Walrus"], self.proxy)
        self.assertIs(site.requestFactory, ProxyRequest)
        self.assertIs(site.walrus_proxy, self.proxy)


class ProxyTestCase(unittest.TestCase):
    """
    A live Walrus and a CLC-style site proxying to it; C{self.s3} is alice's
    boto3 client through the proxy.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.walrus = yield LiveWalrus(self).start()
        self.front = Front(self, self.walrus.port.getHost().port)
        self.s3 = self.walrus.client("alice", endpoint=self.front.url)

    def raw(self, method, path, headers=None, body=None):
        """
        One unsigned HTTP request to the proxy's site, in a thread.
        """
        return in_thread(raw_request, self.front.base, method, path, headers, body)


class ProxiedS3Tests(ProxyTestCase):
    """
    The S3 API through the proxy behaves as Walrus does.
    """

    @defer.inlineCallbacks
    def test_round_trip(self):
        """
        A bucket made, an object put and read back with its metadata, and
        listed with a delimiter.
        """
        s3 = self.s3

        def scenario():
            s3.create_bucket(Bucket="photos")
            put = s3.put_object(Bucket="photos", Key="a b/c%d.txt", Body=b"hello world", Metadata={"colour": "blue"}, ContentType="text/plain")
            s3.put_object(Bucket="photos", Key="top.txt", Body=b"top")
            got = s3.get_object(Bucket="photos", Key="a b/c%d.txt")
            listing = s3.list_objects_v2(Bucket="photos", Delimiter="/")
            head = s3.head_object(Bucket="photos", Key="a b/c%d.txt")
            return put, got, got["Body"].read(), listing, head

        put, got, body, listing, head = yield in_thread(scenario)
        self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(b"hello world").hexdigest())
        self.assertEqual(body, b"hello world")
        self.assertEqual(got["Metadata"], {"colour": "blue"})
        self.assertEqual(got["ContentType"], "text/plain")
        self.assertEqual(got["ContentLength"], 11)
        self.assertEqual([p["Prefix"] for p in listing["CommonPrefixes"]], ["a b/"])
        self.assertEqual([c["Key"] for c in listing["Contents"]], ["top.txt"])
        self.assertEqual((head["ContentLength"], head["Metadata"]), (11, {"colour": "blue"}))

    @defer.inlineCallbacks
    def test_metadata_names_lower_case(self):
        """
        User metadata and the other C{x-amz-} headers reach the client with
        lower-case names, as Walrus sends them, although Twisted would
        capitalise them.
        """
        yield in_thread(self.s3.create_bucket, Bucket="meta")
        yield in_thread(self.s3.put_object, Bucket="meta", Key="k", Body=b"v", Metadata={"Mixed-Case": "x"})
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": "meta", "Key": "k"})
        path = url[len(self.front.base) :]
        status, _, body = yield self.raw("GET", path)
        self.assertEqual((status, body), (200, b"v"))
        names = yield in_thread(self._raw_header_names, path)
        amz = [name for name in names if name.lower().startswith("x-amz-")]
        self.assertIn("x-amz-meta-mixed-case", amz)
        self.assertEqual(amz, [name.lower() for name in amz])

    def _raw_header_names(self, path):
        connection = http.client.HTTPConnection("127.0.0.1", self.front.port.getHost().port, timeout=30)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return [name for name, _ in response.getheaders()]
        finally:
            connection.close()

    @defer.inlineCallbacks
    def test_errors_pass_through(self):
        """
        Walrus's errors reach the client with their code and status:
        C{NoSuchKey} for a GET, a bare 404 for a HEAD, C{NoSuchBucket}.
        """
        yield in_thread(self.s3.create_bucket, Bucket="empty")
        e = yield self.assertFailure(in_thread(self.s3.get_object, Bucket="empty", Key="nothing"), ClientError)
        self.assertEqual((error_code(e), status_of(e)), ("NoSuchKey", 404))
        e = yield self.assertFailure(in_thread(self.s3.head_object, Bucket="empty", Key="nothing"), ClientError)
        self.assertEqual(status_of(e), 404)
        e = yield self.assertFailure(in_thread(self.s3.list_objects, Bucket="nowhere"), ClientError)
        self.assertEqual((error_code(e), status_of(e)), ("NoSuchBucket", 404))

    @defer.inlineCallbacks
    def test_not_modified(self):
        """
        A conditional GET that matches answers 304 with no body.
        """
        yield in_thread(self.s3.create_bucket, Bucket="cond")
        put = yield in_thread(self.s3.put_object, Bucket="cond", Key="k", Body=b"data")
        e = yield self.assertFailure(in_thread(self.s3.get_object, Bucket="cond", Key="k", IfNoneMatch=put["ETag"]), ClientError)
        self.assertEqual(status_of(e), 304)

    @defer.inlineCallbacks
    def test_signature_versions(self):
        """
        Requests signed with SigV2 and with SigV4 both verify on Walrus
        through the proxy, keys needing escapes included.
        """
        for version in ("s3", "s3v4"):
            s3 = self.walrus.client("alice", endpoint=self.front.url, signature_version=version)
            bucket = "sig-" + version
            yield in_thread(s3.create_bucket, Bucket=bucket)
            yield in_thread(s3.put_object, Bucket=bucket, Key="k?x=1&y", Body=b"signed " + version.encode())
            got = yield in_thread(s3.get_object, Bucket=bucket, Key="k?x=1&y")
            self.assertEqual(got["Body"].read(), b"signed " + version.encode())

    @defer.inlineCallbacks
    def test_wrong_secret(self):
        """
        The proxy adds no authority: a request signed with a wrong secret is
        refused by Walrus with C{SignatureDoesNotMatch}.
        """
        key = self.walrus.keys["alice"]
        s3 = boto3.client(
            "s3",
            endpoint_url=self.front.url,
            region_name="us-east-1",
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key="wrong-secret",
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )
        e = yield self.assertFailure(in_thread(s3.list_buckets), ClientError)
        self.assertEqual((error_code(e), status_of(e)), ("SignatureDoesNotMatch", 403))

    @defer.inlineCallbacks
    def test_presigned_get(self):
        """
        A URL presigned for the proxy's endpoint reads the object through it.
        """
        yield in_thread(self.s3.create_bucket, Bucket="shared")
        yield in_thread(self.s3.put_object, Bucket="shared", Key="note", Body=b"for anyone with the URL")
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "note"}, ExpiresIn=60)

        def fetch():
            with urllib.request.urlopen(url) as response:
                return response.status, response.read()

        self.assertEqual((yield in_thread(fetch)), (200, b"for anyone with the URL"))

    @defer.inlineCallbacks
    def test_other_paths_keep_the_soap_limit(self):
        """
        The rest of the CLC's site still refuses bodies past the SOAP limit
        without keeping them, and takes smaller ones as before.
        """
        status, _, body = yield self.raw("POST", "/services/Eucalyptus", body=b"x" * (SOAP_LIMIT + 1))
        self.assertEqual((status, body), (200, b"0 1"))
        status, _, body = yield self.raw("POST", "/services/Eucalyptus", body=b"x" * 1000)
        self.assertEqual((status, body), (200, b"1000 0"))


class ProxiedStreamingTests(ProxyTestCase):
    """
    Large bodies both ways, multipart uploads, chunked requests.
    """

    @defer.inlineCallbacks
    def test_large_object(self):
        """
        A 20 MiB object goes up and comes back down through the proxy
        intact.  It is twice the site's SOAP limit, so it went upstream as
        it arrived: a buffered body that large would have been refused.
        """
        data = os.urandom(20 * MiB)
        yield in_thread(self.s3.create_bucket, Bucket="big")
        yield in_thread(self.s3.put_object, Bucket="big", Key="blob", Body=data)

        def download():
            return self.s3.get_object(Bucket="big", Key="blob")["Body"].read()

        got = yield in_thread(download)
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(data).hexdigest())

    @defer.inlineCallbacks
    def test_multipart_upload_file(self):
        """
        C{upload_file} above a small threshold makes a multipart upload
        through the proxy; C{download_file} reads it back.
        """
        source = os.path.abspath(self.mktemp())
        target = source + ".back"
        data = os.urandom(12 * MiB + 123)
        with open(source, "wb") as f:
            f.write(data)
        config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
        yield in_thread(self.s3.create_bucket, Bucket="parts")
        yield in_thread(self.s3.upload_file, source, "parts", "file.bin", Config=config)
        head = yield in_thread(self.s3.head_object, Bucket="parts", Key="file.bin")
        self.assertTrue(head["ETag"].endswith('-3"'), head["ETag"])
        yield in_thread(self.s3.download_file, "parts", "file.bin", target, Config=config)
        with open(target, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())

    @defer.inlineCallbacks
    def test_chunked_request(self):
        """
        A body of undeclared length (chunked transfer coding), here a PUT
        to a presigned URL, goes upstream chunked and is stored whole.
        """
        yield in_thread(self.s3.create_bucket, Bucket="chunks")
        url = self.s3.generate_presigned_url("put_object", Params={"Bucket": "chunks", "Key": "c"}, ExpiresIn=60)

        def put(target):
            parts = urlsplit(target)
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                connection.request("PUT", parts.path + "?" + parts.query, body=iter([b"abc", b"def"]), encode_chunked=True)
                response = connection.getresponse()
                return response.status, response.read()
            finally:
                connection.close()

        self.assertEqual((yield in_thread(put, url)), (200, b""))
        got = yield in_thread(self.s3.get_object, Bucket="chunks", Key="c")
        self.assertEqual(got["Body"].read(), b"abcdef")


class WalrusDownTests(unittest.TestCase):
    """
    With nothing listening on Walrus's port, the proxy answers S3's
    C{ServiceUnavailable}.
    """

    def setUp(self):
        self.front = Front(self, _free_port())

    @defer.inlineCallbacks
    def test_error_document(self):
        """
        The answer is 503 with an S3 error document: Code, Message,
        Resource and RequestId, the request id also in the headers.
        """
        status, headers, body = yield in_thread(raw_request, self.front.base, "GET", "/services/Walrus/bucket/some%20key")
        self.assertEqual(status, 503)
        self.assertEqual(headers["content-type"], "application/xml")
        document = etree.fromstring(body)
        self.assertEqual(document.tag, "Error")
        self.assertEqual(document.findtext("Code"), "ServiceUnavailable")
        self.assertTrue(document.findtext("Message"))
        self.assertEqual(document.findtext("Resource"), "/bucket/some key")
        self.assertEqual(document.findtext("RequestId"), headers["x-amz-request-id"])

    @defer.inlineCallbacks
    def test_boto3(self):
        """
        boto3 sees C{ServiceUnavailable}, 503, for a read, an upload with a
        body (read and dropped) and a HEAD (no body).
        """
        walrus = LiveWalrus(self)
        s3 = walrus.client("alice", endpoint=self.front.url)
        e = yield self.assertFailure(in_thread(s3.list_buckets), ClientError)
        self.assertEqual((error_code(e), status_of(e)), ("ServiceUnavailable", 503))
        e = yield self.assertFailure(in_thread(s3.put_object, Bucket="b", Key="k", Body=b"x" * (3 * MiB)), ClientError)
        self.assertEqual((error_code(e), status_of(e)), ("ServiceUnavailable", 503))
        e = yield self.assertFailure(in_thread(s3.head_object, Bucket="b", Key="k"), ClientError)
        self.assertEqual(status_of(e), 503)


class DisconnectTests(ProxyTestCase):
    """
    A client that goes away takes its upstream request with it.
    """

    def _port(self):
        return self.front.port.getHost().port

    @defer.inlineCallbacks
    def test_during_upload(self):
        """
        A client that closes its connection halfway through a body cancels
        the upstream request: Walrus's connection is closed.
        """
        yield in_thread(self.s3.create_bucket, Bucket="gone")
        yield self.front.proxy.close()
        self.assertTrue((yield _until(lambda: _connections_to(self.walrus) == 0)))
        sock = socket.create_connection(("127.0.0.1", self._port()))
        self.addCleanup(sock.close)
        head = b"PUT /services/Walrus/gone/k HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (50 * MiB,)
        yield in_thread(sock.sendall, head + b"x" * MiB)
        self.assertTrue((yield _until(lambda: _connections_to(self.walrus) == 1)))
        sock.close()
        self.assertTrue((yield _until(lambda: _connections_to(self.walrus) == 0)))

    @defer.inlineCallbacks
    def test_during_download(self):
        """
        A client that stops reading a large object and closes its connection
        closes the upstream connection too, instead of leaving it pooled
        half-read.
        """
        yield in_thread(self.s3.create_bucket, Bucket="gone")
        yield in_thread(self.s3.put_object, Bucket="gone", Key="big", Body=os.urandom(20 * MiB))
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": "gone", "Key": "big"})
        path = url[len(self.front.base) :].encode("ascii")
        yield self.front.proxy.close()
        self.assertTrue((yield _until(lambda: _connections_to(self.walrus) == 0)))
        sock = socket.create_connection(("127.0.0.1", self._port()))
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        yield in_thread(sock.sendall, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        first = yield in_thread(sock.recv, 4096)
        self.assertTrue(first.startswith(b"HTTP/1.1 200"), first[:100])
        self.assertEqual(_connections_to(self.walrus), 1)
        sock.close()
        self.assertTrue((yield _until(lambda: _connections_to(self.walrus) == 0)))
        # Walrus logs the client it was sending to (the proxy) going away.
        self.flushLoggedErrors(ConnectionError)


class CloudControllerServiceTests(unittest.TestCase):
    """
    The CLC built by L{clc.make_service}, as C{euca-clc} builds it, in front
    of a Walrus built by L{walrus.make_service}.
    """

    timeout = 60

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        os.makedirs(self.data)
        self.clc_port, self.walrus_port = _free_port(), _free_port()
        self.settings = config_from_string(
            f'LISTEN_ADDRESS="127.0.0.1"\nCLC_PORT="{self.clc_port}"\nWALRUS_PORT="{self.walrus_port}"\n', self.data
        )
        admin.initialise(self.settings, out=io.StringIO())

    @defer.inlineCallbacks
    def _start(self, service):
        service.startService()
        self.addCleanup(service.stopService)
        yield deferLater(reactor, 0.1, lambda: None)

    @defer.inlineCallbacks
    def test_soap_through_the_proxy(self):
        """
        Walrus's signed SOAP C{DescribeServices}, POSTed to the CLC's port
        at C{/services/Walrus}, is answered by the Walrus daemon.
        """
        yield self._start(walrus.make_service(self.settings))
        front = clc.make_service(self.settings, walrus_proxy=True)
        yield self._start(front)
        url = f"http://127.0.0.1:{self.clc_port}/services/Walrus"
        statuses = yield admin.describe_services(self.settings, "walrus", url, reactor)
        self.assertEqual([s.localState for s in statuses], ["ENABLED"])
        self.assertEqual(statuses[0].serviceId.uris, [f"http://127.0.0.1:{self.walrus_port}/services/Walrus"])
        statuses = yield admin.describe_services(self.settings, "clc", f"http://127.0.0.1:{self.clc_port}/services/Eucalyptus", reactor)
        self.assertEqual([s.localState for s in statuses], ["ENABLED"])

    def test_off_by_default(self):
        """
        Without C{walrus_proxy} (the whole cloud in one process) nothing is
        mounted at C{/services/Walrus}.
        """
        front = clc.make_service(self.settings)
        self.assertNotIn(b"Walrus", front.root.children[b"services"].children)
        self.assertFalse(hasattr(front.site, "walrus_proxy"))

    def test_needs_own_site(self):
        """
        The proxy cannot be asked for when the CLC mounts into another
        site's resource tree.
        """
        self.assertRaises(ValueError, clc.make_service, self.settings, root=Resource(), walrus_proxy=True)
