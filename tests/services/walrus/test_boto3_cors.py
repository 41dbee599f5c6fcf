"""
Bucket CORS through boto3 and through the plain HTTP a browser sends:
configuration calls, preflight C{OPTIONS}, and headers on actual requests.
"""

from lxml import etree
from twisted.internet import defer

from tests.services.walrus.harness import WalrusTestCase, in_thread

RULES = [
    {"AllowedOrigins": ["http://www.example1.com"], "AllowedMethods": ["PUT", "POST", "DELETE"], "AllowedHeaders": ["*"], "ID": "writers"},
    {"AllowedOrigins": ["http://www.example2.com"], "AllowedMethods": ["GET"]},
    {
        "AllowedOrigins": ["http://*.sample.com"],
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedHeaders": ["x-amz-*"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"],
        "MaxAgeSeconds": 3000,
    },
]


def error_of(body):
    """
    The Code and Message of an S3 error document.
    """
    root = etree.fromstring(body)
    return root.findtext("Code"), root.findtext("Message")


class CorsConfigurationTests(WalrusTestCase):
    """
    PutBucketCors, GetBucketCors, DeleteBucketCors.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="web")

    @defer.inlineCallbacks
    def test_round_trip(self):
        """
        The rules put are the rules got.
        """
        yield in_thread(self.s3.put_bucket_cors, Bucket="web", CORSConfiguration={"CORSRules": RULES})
        got = yield in_thread(self.s3.get_bucket_cors, Bucket="web")
        self.assertEqual(got["CORSRules"], RULES)

    @defer.inlineCallbacks
    def test_delete(self):
        """
        Before a put and after a delete, GetBucketCors is
        NoSuchCORSConfiguration, 404; delete answers 204.
        """
        yield self.assert_error("NoSuchCORSConfiguration", 404, self.s3.get_bucket_cors, Bucket="web")
        yield in_thread(self.s3.put_bucket_cors, Bucket="web", CORSConfiguration={"CORSRules": RULES})
        deleted = yield in_thread(self.s3.delete_bucket_cors, Bucket="web")
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 204)
        yield self.assert_error("NoSuchCORSConfiguration", 404, self.s3.get_bucket_cors, Bucket="web")

    def test_unsupported_method(self):
        """
        A rule with a method CORS cannot allow is InvalidRequest.
        """
        rules = [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]
        return self.assert_error("InvalidRequest", 400, self.s3.put_bucket_cors, Bucket="web", CORSConfiguration={"CORSRules": rules})

    @defer.inlineCallbacks
    def test_other_account(self):
        """
        Only the owner reads or changes the configuration.
        """
        bob = self.walrus.client("bob")
        yield in_thread(self.s3.put_bucket_acl, Bucket="web", ACL="public-read-write")
        yield self.assert_error("AccessDenied", 403, bob.get_bucket_cors, Bucket="web")
        yield self.assert_error("AccessDenied", 403, bob.put_bucket_cors, Bucket="web", CORSConfiguration={"CORSRules": RULES})
        yield self.assert_error("AccessDenied", 403, bob.delete_bucket_cors, Bucket="web")


class PreflightTests(WalrusTestCase):
    """
    Browser preflight C{OPTIONS} requests, unauthenticated.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="web")

    def configure(self):
        return in_thread(self.s3.put_bucket_cors, Bucket="web", CORSConfiguration={"CORSRules": RULES})

    def preflight(self, headers, path="/web/some/key"):
        return self.raw("OPTIONS", path, headers)

    @defer.inlineCallbacks
    def test_allowed(self):
        """
        A matching rule answers 200 with the CORS headers and no body.
        """
        yield self.configure()
        status, headers, body = yield self.preflight({"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type,x-amz-meta-a"})
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["access-control-allow-origin"], "http://www.example1.com")
        self.assertEqual(headers["access-control-allow-methods"], "PUT, POST, DELETE")
        self.assertEqual(headers["access-control-allow-headers"], "content-type, x-amz-meta-a")
        self.assertEqual(headers["access-control-allow-credentials"], "true")
        self.assertEqual(headers["content-length"], "0")
        self.assertIn("x-amz-request-id", headers)

    @defer.inlineCallbacks
    def test_bucket_level(self):
        """
        A preflight of the bucket itself is answered by the same rules.
        """
        yield self.configure()
        status, headers, _ = yield self.preflight({"Origin": "http://a.sample.com", "Access-Control-Request-Method": "GET"}, "/web")
        self.assertEqual(status, 200)
        self.assertEqual((headers["access-control-max-age"], headers["access-control-expose-headers"]), ("3000", "ETag, x-amz-request-id"))

    @defer.inlineCallbacks
    def test_not_matching(self):
        """
        No matching origin, method or header is 403 AccessForbidden.
        """
        yield self.configure()
        for headers in (
            {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
            {"Origin": "http://www.example2.com", "Access-Control-Request-Method": "PUT"},
            {"Origin": "http://a.sample.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
        ):
            status, answer, body = yield self.preflight(headers)
            self.assertEqual((status, error_of(body)[0]), (403, "AccessForbidden"), headers)
            self.assertNotIn("access-control-allow-origin", answer)

    @defer.inlineCallbacks
    def test_not_enabled(self):
        """
        A bucket without CORS answers 403 AccessForbidden.
        """
        status, _, body = yield self.preflight({"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT"})
        self.assertEqual((status, error_of(body)), (403, ("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")))

    @defer.inlineCallbacks
    def test_insufficient(self):
        """
        No Origin, or no usable method, is 400 BadRequest.
        """
        yield self.configure()
        status, _, body = yield self.preflight({"Access-Control-Request-Method": "GET"})
        self.assertEqual((status, error_of(body)), (400, ("BadRequest", "Insufficient information. Origin request header needed.")))
        status, _, body = yield self.preflight({"Origin": "http://www.example1.com"})
        self.assertEqual((status, error_of(body)), (400, ("BadRequest", "Invalid Access-Control-Request-Method: null")))

    @defer.inlineCallbacks
    def test_missing_bucket(self):
        """
        A preflight for a missing bucket is NoSuchBucket.
        """
        status, _, body = yield self.preflight({"Origin": "http://a", "Access-Control-Request-Method": "GET"}, "/nowhere/k")
        self.assertEqual((status, error_of(body)[0]), (404, "NoSuchBucket"))


class ActualRequestTests(WalrusTestCase):
    """
    CORS headers on ordinary requests that carry an Origin.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        yield in_thread(self.s3.create_bucket, Bucket="web")
        yield in_thread(self.s3.put_bucket_cors, Bucket="web", CORSConfiguration={"CORSRules": RULES})
        yield in_thread(self.s3.put_object, Bucket="web", Key="page", Body=b"<p/>", ACL="public-read")

    @defer.inlineCallbacks
    def test_get_with_origin(self):
        """
        A GET from an allowed origin gets the rule's headers.
        """
        status, headers, body = yield self.raw("GET", "/web/page", {"Origin": "http://www.example2.com"})
        self.assertEqual((status, body), (200, b"<p/>"))
        self.assertEqual(headers["access-control-allow-origin"], "http://www.example2.com")
        self.assertEqual(headers["access-control-allow-methods"], "GET")

    @defer.inlineCallbacks
    def test_signed_get_with_origin(self):
        """
        A signed boto3 GET with an Origin header gets them too.
        """

        def call():
            self.s3.meta.events.register_first("before-sign.s3.GetObject", _origin("http://x.sample.com"))
            return self.s3.get_object(Bucket="web", Key="page")

        got = yield in_thread(call)
        headers = got["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers["access-control-allow-origin"], "http://x.sample.com")
        self.assertEqual(headers["access-control-expose-headers"], "ETag, x-amz-request-id")

    @defer.inlineCallbacks
    def test_disallowed_origin(self):
        """
        A GET from another origin is served without CORS headers (the
        browser then hides it).
        """
        status, headers, _ = yield self.raw("GET", "/web/page", {"Origin": "http://evil.example"})
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", headers)

    @defer.inlineCallbacks
    def test_error_with_origin(self):
        """
        An error answer to an allowed origin carries the CORS headers, so
        the page can read the error.
        """
        status, headers, _ = yield self.raw("GET", "/web/missing", {"Origin": "http://www.example2.com"})
        self.assertEqual(status, 403)
        self.assertEqual(headers["access-control-allow-origin"], "http://www.example2.com")


def _origin(value):
    def hook(request, **kwargs):
        request.headers["Origin"] = value

    return hook
