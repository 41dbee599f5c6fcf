"""
Node Controllers reading images from a live Walrus with their zone's node
key (L{eucalyptus.security.nodeauth}): any object may be read, nothing else
done.
"""

import os
import time

from twisted.internet import defer

from eucalyptus.security import nodeauth
from eucalyptus.security.keys import create_pair, write_certificate
from eucalyptus.services.walrus.s3xml import parse_xml, text_of
from tests.services.walrus.harness import WalrusTestCase, in_thread, raw_request

NODE = create_pair("nc-zone-1")
STRANGER = create_pair("nc-elsewhere")
IMAGE = os.urandom(3000)


def node_request(walrus, method, path, credential=NODE, body=None, signed_path=None):
    """
    A request signed with a node key, blocking.

    @param signed_path: the path to sign, when not the one sent (a forgery).
    @return: C{(status, headers, body)}.
    """
    headers = nodeauth.sign_headers(method, walrus.url + (signed_path or path), credential, time.time())
    return raw_request(walrus.url, method, path, headers, body)


def error_of(body):
    """
    The S3 error code of an error document.
    """
    return text_of(parse_xml(body, ValueError), "Code")


class NodeReadTests(WalrusTestCase):
    """
    A request signed by a node key of the cloud reads any object.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        keys = os.path.abspath(self.mktemp())
        write_certificate(os.path.join(keys, "zone-1", "node-cert.pem"), NODE.certificate)
        self.walrus.objects.directory.keys_dir = keys
        yield in_thread(self.s3.create_bucket, Bucket="images")
        yield in_thread(self.s3.put_object, Bucket="images", Key="disk one.img", Body=IMAGE)

    def node(self, method, path, **kwargs):
        return in_thread(node_request, self.walrus, method, path, **kwargs)

    @defer.inlineCallbacks
    def test_get(self):
        """
        A node GETs a private object of a user's bucket.
        """
        status, headers, body = yield self.node("GET", "/images/disk%20one.img")
        self.assertEqual((status, body), (200, IMAGE))
        self.assertEqual(headers["content-length"], str(len(IMAGE)))

    @defer.inlineCallbacks
    def test_get_below_mount(self):
        """
        It does at the cloud port's path too.
        """
        status, _, body = yield self.node("GET", "/services/Walrus/images/disk%20one.img")
        self.assertEqual((status, body), (200, IMAGE))

    @defer.inlineCallbacks
    def test_head(self):
        """
        A node HEADs an object.
        """
        status, headers, _ = yield self.node("HEAD", "/images/disk%20one.img")
        self.assertEqual((status, headers["content-length"]), (200, str(len(IMAGE))))

    @defer.inlineCallbacks
    def test_missing(self):
        """
        A missing key is C{NoSuchKey}: the node may know what is not there.
        """
        status, _, body = yield self.node("GET", "/images/nothing.img")
        self.assertEqual((status, error_of(body)), (404, "NoSuchKey"))

    @defer.inlineCallbacks
    def test_nothing_else(self):
        """
        Everything but reading an object is denied: writing, deleting,
        listing, reading ACLs, creating buckets.
        """
        for method, path in [
            ("PUT", "/images/new.img"),
            ("DELETE", "/images/disk%20one.img"),
            ("GET", "/images"),
            ("HEAD", "/images"),
            ("GET", "/"),
            ("GET", "/images/disk%20one.img?acl"),
            ("PUT", "/newbucket"),
        ]:
            status, _, body = yield self.node(method, path, body=b"x" if path == "/images/new.img" else None)
            self.assertEqual(status, 403, (method, path))
            if method != "HEAD":
                self.assertEqual(error_of(body), "AccessDenied", (method, path))
        listing = yield in_thread(self.s3.list_objects_v2, Bucket="images")
        self.assertEqual([o["Key"] for o in listing["Contents"]], ["disk one.img"])

    @defer.inlineCallbacks
    def test_public_bucket(self):
        """
        Not even a bucket anyone may write is writable by a node.
        """
        yield in_thread(self.s3.create_bucket, Bucket="open", ACL="public-read-write")
        status, _, body = yield self.node("PUT", "/open/new.img", body=b"x")
        self.assertEqual((status, error_of(body)), (403, "AccessDenied"))

    @defer.inlineCallbacks
    def test_unknown_certificate(self):
        """
        A key whose certificate is not a node certificate of this cloud is
        denied.
        """
        status, _, body = yield self.node("GET", "/images/disk%20one.img", credential=STRANGER)
        self.assertEqual((status, error_of(body)), (403, "AccessDenied"))

    @defer.inlineCallbacks
    def test_bad_signature(self):
        """
        A signature for another object does not match.
        """
        status, _, body = yield self.node("GET", "/images/disk%20one.img", signed_path="/images/other.img")
        self.assertEqual((status, error_of(body)), (403, "SignatureDoesNotMatch"))

    @defer.inlineCallbacks
    def test_new_zone(self):
        """
        A zone's node certificate added later is trusted once the cached
        set is older than the identities' time to live.
        """
        identities = self.walrus.objects.directory
        yield self.node("GET", "/images/disk%20one.img")
        write_certificate(os.path.join(identities.keys_dir, "zone-2", "node-cert.pem"), STRANGER.certificate)
        identities.ttl = 0.0
        status, _, body = yield self.node("GET", "/images/disk%20one.img", credential=STRANGER)
        self.assertEqual((status, body), (200, IMAGE))


class NoNodesTests(WalrusTestCase):
    """
    A Walrus given no key directory does not know the scheme.
    """

    @defer.inlineCallbacks
    def test_refused(self):
        """
        The node scheme is an unsupported authorization type there.
        """
        status, _, body = yield in_thread(node_request, self.walrus, "GET", "/images/x.img")
        self.assertEqual((status, error_of(body)), (400, "InvalidArgument"))
