# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
The S3 REST API of Walrus: one resource that authenticates each request
once, finds the operation in an explicit routing table, and answers with
S3's headers, XML documents and error bodies.

Addressing: path style below wherever the resource is mounted
(C{/services/Walrus/<bucket>/<key>} on the cloud's port, C{/<bucket>/<key>}
on Walrus's own), and virtual-host style (C{Host: <bucket>.<domain>}) for
the configured domains.  Keys are taken from the raw request path, so
C{%2F}, C{//} and C{..} reach the store exactly as the client sent them.
The handlers themselves are in L{eucalyptus.services.walrus.handlers}.
"""

import time
from urllib.parse import parse_qsl, unquote_to_bytes

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from eucalyptus.errors import EucalyptusError, InternalError
from eucalyptus.security import awsauth
from eucalyptus.services.walrus import cors
from eucalyptus.services.walrus import rest_buckets, rest_objects
from eucalyptus.services.walrus.body import header_dict
from eucalyptus.services.walrus.call import S3Call, new_request_id, not_implemented, reply_empty
from eucalyptus.services.walrus.errors import InvalidArgument, NotModified
from eucalyptus.services.walrus.s3xml import error_document

__all__ = ["WalrusResource", "ROUTES"]

BUCKET_SUBRESOURCES = (
    "acl", "cors", "versioning", "location", "versions", "uploads", "delete", "policy", "lifecycle",
    "tagging", "website", "logging", "notification", "replication", "encryption", "requestPayment",
    "accelerate", "ownershipControls", "publicAccessBlock", "object-lock", "analytics", "metrics",
    "inventory", "intelligent-tiering", "policyStatus",
)  # fmt: skip
OBJECT_SUBRESOURCES = (
    "acl", "uploads", "uploadId", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes",
)  # fmt: skip


def _split_path(raw):
    """
    The bucket and key of a raw path below the mount point (C{b"/b/k%20x"}).

    @raise InvalidArgument: the key is not UTF-8.
    """
    bucket, _, key = raw[1:].partition(b"/") if raw.startswith(b"/") else (raw, b"", b"")
    try:
        return unquote_to_bytes(bucket).decode("utf-8"), unquote_to_bytes(key).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument("Object keys and bucket names must be UTF-8.")


class WalrusResource(Resource):
    """
    The S3 REST API.  C{POST} at the mount point itself goes to C{soap}
    (Walrus's SOAP services).
    """

    isLeaf = True
    _log = Logger()

    def __init__(self, objects, identities, soap=None, domains=(), prefix=None, clock=time.time, s3soap=None):
        """
        @param objects: the L{ObjectOperations}.
        @param identities: the L{eucalyptus.services.walrus.identities.Identities}.
        @param soap: the resource answering SOAP at the mount point, or C{None}.
        @param domains: host names under which C{<bucket>.<domain>} is
            virtual-host addressing.
        @param prefix: a path (C{b"/services/Walrus"}) also accepted before
            the bucket when the resource is a site's root, so the paths of
            the cloud's port work on Walrus's own port too.
        @param clock: seconds since the epoch, for signature dates.
        @param s3soap: the S3 SOAP resource answering C{POST <mount>/soap}
            and C{GET <mount>/soap?wsdl}, or C{None}.
        """
        Resource.__init__(self)
        self.objects = objects
        self.identities = identities
        self.soap = soap
        self.domains = tuple(domains)
        self.prefix = prefix
        self.clock = clock
        self.s3soap = s3soap

    def render(self, request):
        mount = self._mount(request)
        raw_path = request.path[len(mount) :]
        query = request.uri.partition(b"?")[2]
        at_root = raw_path in (b"", b"/")
        if self.soap is not None and at_root and (request.method, query) in ((b"POST", b""), (b"GET", b"wsdl")):
            return self.soap.render(request)
        if self.s3soap is not None and raw_path == b"/soap" and (request.method, query) in ((b"POST", b""), (b"GET", b"wsdl")):
            return self.s3soap.render(request)
        defer.ensureDeferred(self._serve(request, mount.decode("ascii"), raw_path))
        return NOT_DONE_YET

    def _mount(self, request):
        mounted = b"/".join(request.prepath)
        if mounted:
            return b"/" + mounted
        path = request.path
        if self.prefix and path.startswith(self.prefix) and path[len(self.prefix) : len(self.prefix) + 1] in (b"", b"/"):
            return self.prefix
        return b""

    def _virtual_bucket(self, headers):
        host = headers.get("host", "").rsplit(":", 1)[0].lower()
        for domain in self.domains:
            if host.endswith("." + domain):
                return host[: -len(domain) - 1]
        return None

    def _parse(self, request, mount, raw_path):
        headers = header_dict(request)
        query_text = request.uri.partition(b"?")[2].decode("latin-1")
        query = {}
        pairs = parse_qsl(query_text, keep_blank_values=True)
        for name, value in pairs:
            query.setdefault(name, value)
        virtual = self._virtual_bucket(headers)
        if virtual is not None:
            raw_path = b"/" + virtual.encode("utf-8") + (raw_path if raw_path.startswith(b"/") else b"/")
        bucket, key = _split_path(raw_path)
        level = "object" if key else "bucket" if bucket else "service"
        resource = "/" + bucket + ("/" + key if key else "")
        call = S3Call(request, request.method.decode("ascii"), level, bucket, key, query, headers, resource)
        call.signed = awsauth.SignedRequest(call.method, request.path.decode("latin-1"), pairs, headers, virtual, mount)
        return call

    async def _serve(self, request, mount, raw_path):
        call = None
        try:
            call = self._parse(request, mount, raw_path)
            if call.method == "OPTIONS":
                await self._preflight(call)
                return
            call.identity, call.auth = await self.identities.authenticate(call.signed, self.clock())
            if call.header("origin") and call.bucket:
                await self._cors_headers(call)
            handler = ROUTES.get((call.level, call.method, self._subresource(call)), not_implemented)
            await handler(self.objects, call)
        except Exception as e:
            self._fail(request, call, Failure(e))
        finally:
            if not request.finished and not request._disconnected:
                request.finish()

    def _subresource(self, call):
        names = BUCKET_SUBRESOURCES if call.level == "bucket" else OBJECT_SUBRESOURCES
        for name in names:
            if name in call.query:
                return name
        return ""

    async def _preflight(self, call):
        origin, method = call.header("origin"), call.header("access-control-request-method")
        cors.check_preflight(origin, method)
        rules = (await self.objects.cors_of(call.bucket)).cors if call.bucket else None
        for name, value in cors.preflight(rules, origin, method, call.header("access-control-request-headers")).items():
            call.request.setHeader(name, value)
        reply_empty(call)

    async def _cors_headers(self, call):
        try:
            bucket = await self.objects.cors_of(call.bucket)
        except EucalyptusError:
            return
        rule = cors.matching_rule(bucket.cors, call.header("origin"), call.method)
        if rule is not None:
            for name, value in cors.response_headers(rule, call.header("origin")).items():
                call.request.setHeader(name, value)

    def _fail(self, request, call, failure):
        error = failure.value
        if not isinstance(error, EucalyptusError):
            self._log.failure("S3 request {uri} failed", failure, uri=request.uri)
            error = InternalError()
        if request.startedWriting or request._disconnected:
            if not request._disconnected:
                request.loseConnection()
            return
        request_id = call.request_id if call else new_request_id()
        request.setResponseCode(error.http_status)
        request.setHeader("x-amz-request-id", request_id)
        request.setHeader("x-amz-id-2", request_id)
        if isinstance(error, NotModified) or request.method == b"HEAD":
            return
        body = error_document(error, call.resource if call else request.path.decode("latin-1"), request_id)
        request.setHeader("content-type", "application/xml")
        request.setHeader("content-length", str(len(body)))
        request.write(body)



_B, _O = rest_buckets, rest_objects
ROUTES = {
    ("service", "GET", ""): _B.list_buckets,
    ("bucket", "PUT", ""): _B.create_bucket,
    ("bucket", "HEAD", ""): _B.head_bucket,
    ("bucket", "DELETE", ""): _B.delete_bucket,
    ("bucket", "GET", ""): _B.list_objects,
    ("bucket", "GET", "versions"): _B.list_versions,
    ("bucket", "GET", "uploads"): _B.list_uploads,
    ("bucket", "GET", "acl"): _B.get_bucket_acl,
    ("bucket", "PUT", "acl"): _B.put_bucket_acl,
    ("bucket", "GET", "versioning"): _B.get_versioning,
    ("bucket", "PUT", "versioning"): _B.put_versioning,
    ("bucket", "GET", "location"): _B.get_location,
    ("bucket", "GET", "cors"): _B.get_cors,
    ("bucket", "PUT", "cors"): _B.put_cors,
    ("bucket", "DELETE", "cors"): _B.delete_cors,
    ("bucket", "POST", "delete"): _B.delete_objects,
    ("object", "PUT", ""): _O.put_object,
    ("object", "GET", ""): _O.get_object,
    ("object", "HEAD", ""): _O.head_object,
    ("object", "DELETE", ""): _O.delete_object,
    ("object", "GET", "acl"): _O.get_object_acl,
    ("object", "PUT", "acl"): _O.put_object_acl,
    ("object", "POST", "uploads"): _O.create_upload,
    ("object", "PUT", "uploadId"): _O.upload_part,
    ("object", "POST", "uploadId"): _O.complete_upload,
    ("object", "DELETE", "uploadId"): _O.abort_upload,
    ("object", "GET", "uploadId"): _O.list_parts,
}
