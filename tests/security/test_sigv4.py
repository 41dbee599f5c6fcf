# -*- test-case-name: tests.security.test_sigv4 -*-
"""
Tests for L{eucalyptus.security.sigv4} through L{eucalyptus.security.awsauth}.

Requests are signed by botocore itself (a boto3 client whose requests are
caught before they are sent, and botocore's signers used directly), turned
into L{SignedRequest}s the way the HTTP layer will, and authenticated.  The
helpers at the top are shared with C{test_sigv2} and C{test_awschunked}.
"""

import calendar
import dataclasses
import email.utils
import hashlib
import time
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import urlsplit

import boto3
import botocore.auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    InvalidAccessKeyId,
    MissingSecurityHeader,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)
from eucalyptus.security import sigv4
from eucalyptus.security.awsauth import (
    InvalidArgument,
    InvalidRequest,
    SignedRequest,
    authenticate,
)

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY~EXAMPLE%KEY"
KEYS = {AKID: SECRET}
REGION = "eucalyptus"
#: The time botocore signs at (see L{freeze}): 2024-02-29T12:00:00Z.
NOW = calendar.timegm((2024, 2, 29, 12, 0, 0))

WALRUS = "http://127.0.0.1:8776"
CLOUD = "http://127.0.0.1:8773/services/Walrus"
DOMAIN = "walrus.example.com"
VIRTUAL = f"http://{DOMAIN}:8776"
VIRTUAL_CLOUD = f"http://{DOMAIN}:8773/services/Walrus"
#: Endpoint URL -> (mount, addressing style).
ENDPOINTS = {
    WALRUS: ("", "path"),
    CLOUD: ("/services/Walrus", "path"),
    VIRTUAL: ("", "virtual"),
    VIRTUAL_CLOUD: ("/services/Walrus", "virtual"),
}
#: Keys that are awkward to encode.
ODD_KEYS = [
    "a b", "100%", "caf\u00e9/\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9", "1+1=2", "~user", "//double//slash",
    "a/../b", "?#&=",
]

SESSION = boto3.session.Session()


def freeze(case, now=NOW):
    """
    Make botocore's signers believe the time is C{now} for the rest of the
    test C{case}.
    """
    case.patch(
        botocore.auth,
        "get_current_datetime",
        lambda remove_tzinfo=True: datetime.fromtimestamp(now, timezone.utc).replace(tzinfo=None),
    )
    case.patch(
        botocore.auth,
        "formatdate",
        lambda timeval=None, localtime=False, usegmt=False: email.utils.formatdate(
            now if timeval is None else timeval, localtime, usegmt
        ),
    )
    case.patch(botocore.auth, "time", SimpleNamespace(time=lambda: now, gmtime=time.gmtime, strftime=time.strftime))


class _EmptyBody:
    def stream(self, **kwargs):
        return iter([b""])


def s3_client(endpoint, signature_version="s3v4", credentials=(AKID, SECRET), **config):
    """
    A boto3 S3 client whose requests are caught, signed, instead of sent.

    @return: C{(client, sent)}; C{sent} collects the prepared requests and
        each gets an empty 200 answer.
    """
    mount, addressing = ENDPOINTS.get(endpoint, ("", "path"))
    access, secret, *token = credentials
    client = SESSION.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        aws_session_token=token[0] if token else None,
        region_name=REGION,
        config=Config(signature_version=signature_version, s3={"addressing_style": addressing}, **config),
    )
    sent = []

    def capture(request, **kwargs):
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _EmptyBody())

    client.meta.events.register("before-send", capture)
    return client, sent


def body_of(prepared):
    """
    The body bytes of a botocore prepared request.
    """
    body = prepared.body
    if hasattr(body, "read"):
        return body.read()
    if isinstance(body, str):
        return body.encode("utf-8")
    return body or b""


def to_signed(prepared, headers=None, method=None):
    """
    The L{SignedRequest} the HTTP layer would make of a botocore request (or
    of a presigned URL given as C{prepared}, with C{headers} to send).
    """
    url = prepared if isinstance(prepared, str) else prepared.url
    parts = urlsplit(url)
    mount = "/services/Walrus" if parts.port == 8773 else ""
    bucket = None
    if parts.hostname.endswith("." + DOMAIN):
        bucket = parts.hostname[: -len(DOMAIN) - 1]
    if headers is None:
        headers = prepared.headers.items()
    pairs = [(name, value) for name, value in headers]
    if not any(name.lower() == "host" for name, _ in pairs):
        pairs.append(("Host", parts.netloc))
    target = parts.path + ("?" + parts.query if parts.query else "")
    return SignedRequest.from_target(
        method or prepared.method, target, pairs, virtual_bucket=bucket, mount=mount
    )


def replace(request, **changes):
    """
    A copy of C{request} with C{changes}; C{headers} and C{query} changes
    are merged into / appended to the originals (a L{None} header value
    removes it).
    """
    headers = dict(request.headers)
    for name, value in changes.pop("headers", {}).items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    query = list(changes.pop("query", request.query)) + changes.pop("add_query", [])
    return dataclasses.replace(request, headers=headers, query=query, **changes)


def sign_request(signer, method, url, headers=None, data=b"", context=None, auth_path=None):
    """
    Sign a botocore L{AWSRequest} with C{signer} (a botocore signer
    instance) and return the prepared request.
    """
    request = AWSRequest(method=method, url=url, headers=headers or {}, data=data, auth_path=auth_path)
    request.context.update(context or {})
    signer.add_auth(request)
    return request.prepare()


class AuthTestsMixin:
    """
    Assertions for authentication results and errors.
    """

    def authenticate(self, request, now=NOW, **kwargs):
        return authenticate(request, KEYS.get, now, **kwargs)

    def assertAuthenticated(self, request, scheme="sigv4", **kwargs):
        who = self.authenticate(request, **kwargs)
        self.assertIsNotNone(who)
        self.assertEqual((who.access_key_id, who.scheme), (AKID, scheme))
        return who

    def assertRefused(self, error, request, now=NOW, **kwargs):
        """
        Authenticating C{request} raises C{error}; return the exception.
        """
        return self.assertRaises(error, authenticate, request, KEYS.get, now, **kwargs)


class HeaderTests(AuthTestsMixin, SynchronousTestCase):
    """
    Requests signed with an C{Authorization: AWS4-HMAC-SHA256} header.
    """

    def setUp(self):
        freeze(self)

    def test_botocore_operations(self):
        """
        What a boto3 client sends authenticates, whichever way Walrus is
        addressed: its own port, under C{/services/Walrus}, virtual-host
        style; the signed body hash is reported.
        """
        for endpoint in ENDPOINTS:
            client, sent = s3_client(endpoint)
            client.put_object(Bucket="bucket", Key="k", Body=b"hello world")
            client.get_object(Bucket="bucket", Key="k", VersionId="v+1/2", Range="bytes=0-1")
            client.list_objects_v2(Bucket="bucket", Prefix="a b/", Delimiter="/")
            client.get_bucket_acl(Bucket="bucket")
            client.list_buckets()
            client.delete_objects(Bucket="bucket", Delete={"Objects": [{"Key": "k"}]})
            for prepared in sent:
                who = self.assertAuthenticated(to_signed(prepared))
                who.check_payload_sha256(hashlib.sha256(body_of(prepared)).hexdigest())
            self.assertEqual(
                self.authenticate(to_signed(sent[0])).payload_sha256,
                hashlib.sha256(b"hello world").hexdigest(),
            )

    def test_odd_keys(self):
        """
        Keys with spaces, C{%}, non-ASCII letters, C{+}, C{~}, C{//} and dot
        segments are signed over the path as sent.
        """
        for endpoint in (WALRUS, CLOUD, VIRTUAL):
            client, sent = s3_client(endpoint)
            for key in ODD_KEYS:
                client.put_object(Bucket="bucket", Key=key, Body=b"x", Metadata={"note": "a  b"})
            for prepared in sent:
                self.assertAuthenticated(to_signed(prepared))

    def test_any_region(self):
        """
        Whatever region the credential scope names is accepted.
        """
        for region in ("us-east-1", "eucalyptus", "x"):
            prepared = sign_request(
                botocore.auth.S3SigV4Auth(Credentials(AKID, SECRET), "s3", region), "GET", WALRUS + "/b/k"
            )
            self.assertAuthenticated(to_signed(prepared))

    def test_tampered(self):
        """
        Changing anything signed (the method, the path, a query parameter, a
        signed header, the date, the body hash) or signing with another
        secret gives C{SignatureDoesNotMatch} with what S3 gives to debug.
        """
        client, sent = s3_client(WALRUS)
        client.put_object(Bucket="bucket", Key="k", Body=b"data", ContentType="text/plain")
        good = to_signed(sent[0])
        changes = [
            {"method": "POST"},
            {"path": "/bucket/K"},
            {"path": "/bucket/%6b"},
            {"add_query": [("acl", "")]},
            {"headers": {"content-type": "text/html"}},
            {"headers": {"x-amz-date": "20240229T120001Z"}},
            {"headers": {"x-amz-content-sha256": hashlib.sha256(b"other").hexdigest()}},
        ]
        for change in changes:
            error = self.assertRefused(SignatureDoesNotMatch, replace(good, **change))
            self.assertEqual(error.details["AWSAccessKeyId"], AKID)
            self.assertIn(error.details["SignatureProvided"], good.headers["authorization"])
            self.assertIn("\n20240229/eucalyptus/s3/aws4_request\n", error.details["StringToSign"])
            self.assertIn("\n/bucket/", error.details["CanonicalRequest"])
            for name in ("CanonicalRequest", "StringToSign"):
                self.assertEqual(bytes.fromhex(error.details[name + "Bytes"]).decode(), error.details[name])
        error = self.assertRaises(SignatureDoesNotMatch, authenticate, good, {AKID: "other"}.get, NOW)
        self.assertEqual(error.code, "SignatureDoesNotMatch")

    def test_body_hash(self):
        """
        A body that is not the one whose hash was signed is refused with
        C{XAmzContentSHA256Mismatch}, carrying both hashes.
        """
        client, sent = s3_client(WALRUS)
        client.put_object(Bucket="bucket", Key="k", Body=b"data")
        who = self.assertAuthenticated(to_signed(sent[0]))
        other = hashlib.sha256(b"dat4").hexdigest()
        error = self.assertRaises(XAmzContentSHA256Mismatch, who.check_payload_sha256, other)
        self.assertEqual(error.details["S3ComputedContentSHA256"], other)
        self.assertEqual(error.details["ClientComputedContentSHA256"], hashlib.sha256(b"data").hexdigest())

    def test_unsigned_payload(self):
        """
        C{UNSIGNED-PAYLOAD} leaves nothing to check about the body.
        """
        prepared = sign_request(
            botocore.auth.S3SigV4Auth(Credentials(AKID, SECRET), "s3", REGION),
            "PUT",
            WALRUS + "/b/k",
            data=b"body",
            context={"client_config": Config(s3={"payload_signing_enabled": False})},
        )
        self.assertEqual(prepared.headers["X-Amz-Content-SHA256"], "UNSIGNED-PAYLOAD")
        who = self.assertAuthenticated(to_signed(prepared))
        self.assertEqual((who.payload_sha256, who.chunks), (None, None))
        who.check_payload_sha256(hashlib.sha256(b"anything").hexdigest())

    def test_date_header(self):
        """
        A request dated by C{Date} rather than C{x-amz-date} authenticates,
        and its C{Date} is held to the clock.
        """
        prepared = sign_request(
            botocore.auth.S3SigV4Auth(Credentials(AKID, SECRET), "s3", REGION),
            "GET",
            WALRUS + "/b/k",
            headers={"Date": "x"},
        )
        self.assertNotIn("X-Amz-Date", prepared.headers)
        self.assertAuthenticated(to_signed(prepared))
        self.assertRefused(RequestTimeTooSkewed, to_signed(prepared), now=NOW + 901)

    def test_skew(self):
        """
        A request more than 15 minutes away from our clock is refused with
        C{RequestTimeTooSkewed}, whose details botocore uses to correct its
        clock; up to 15 minutes is accepted.
        """
        client, sent = s3_client(WALRUS)
        client.get_object(Bucket="bucket", Key="k")
        request = to_signed(sent[0])
        self.assertAuthenticated(request, now=NOW + 900)
        self.assertAuthenticated(request, now=NOW - 900)
        error = self.assertRefused(RequestTimeTooSkewed, request, now=NOW + 901)
        self.assertEqual(
            error.details,
            {
                "RequestTime": "20240229T120000Z",
                "ServerTime": "2024-02-29T12:15:01Z",
                "MaxAllowedSkewMilliseconds": "900000",
            },
        )
        self.assertRefused(RequestTimeTooSkewed, request, now=NOW - 901)
        self.assertRefused(RequestTimeTooSkewed, request, now=NOW + 60, max_skew=30)

    def test_no_date(self):
        """
        Without C{x-amz-date} or C{Date}, or with one that cannot be read,
        the request is refused with C{AccessDenied}.
        """
        client, sent = s3_client(WALRUS)
        client.get_object(Bucket="bucket", Key="k")
        request = to_signed(sent[0])
        for date in (None, "yesterday"):
            error = self.assertRefused(AccessDenied, replace(request, headers={"x-amz-date": date}))
            self.assertIn("Date or x-amz-date", error.message)

    def test_credential_scope(self):
        """
        The scope's date must be the request's, its service ours, its
        terminal C{aws4_request}: else C{AuthorizationHeaderMalformed}.
        """
        client, sent = s3_client(WALRUS)
        client.get_object(Bucket="bucket", Key="k")
        request = to_signed(sent[0])
        header = request.headers["authorization"]
        for old, new, why in [
            ("/20240229/", "/20240228/", "Invalid credential date"),
            ("/s3/", "/ec2/", 'incorrect service "ec2"'),
            ("/aws4_request", "/aws5_request", "incorrect terminal"),
            (f"{AKID}/20240229", f"{AKID}/20240229/extra", "Credential is mal-formed"),
        ]:
            changed = replace(request, headers={"authorization": header.replace(old, new)})
            error = self.assertRefused(AuthorizationHeaderMalformed, changed)
            self.assertIn(why, error.message)
        self.assertRefused(AuthorizationHeaderMalformed, request, service="ec2")

    def test_host_must_be_signed(self):
        """
        A signature that does not cover C{Host} is refused.
        """
        client, sent = s3_client(WALRUS)
        client.get_object(Bucket="bucket", Key="k")
        request = to_signed(sent[0])
        header = request.headers["authorization"].replace("SignedHeaders=host;", "SignedHeaders=")
        error = self.assertRefused(AuthorizationHeaderMalformed, replace(request, headers={"authorization": header}))
        self.assertIn("host", error.message)

    def test_unsigned_amz_headers(self):
        """
        An C{x-amz-*} header that the signature does not cover is refused
        with C{AccessDenied}, naming it: it could have been added by anyone.
        """
        client, sent = s3_client(WALRUS)
        client.put_object(Bucket="bucket", Key="k", Body=b"")
        request = replace(to_signed(sent[0]), headers={"x-amz-acl": "public-read", "x-amz-meta-a": "b"})
        error = self.assertRefused(AccessDenied, request)
        self.assertEqual(error.details, {"HeadersNotSigned": "x-amz-acl, x-amz-meta-a"})
        self.assertAuthenticated(replace(to_signed(sent[0]), headers={"user-agent": "curl"}))

    def test_content_sha256(self):
        """
        S3 requests must say how the body is signed (C{InvalidRequest}
        without C{x-amz-content-sha256}, C{InvalidArgument} for a value that
        is not a hash nor a known constant).
        """
        client, sent = s3_client(WALRUS)
        client.get_object(Bucket="bucket", Key="k")
        request = to_signed(sent[0])
        error = self.assertRefused(InvalidRequest, replace(request, headers={"x-amz-content-sha256": None}))
        self.assertIn("x-amz-content-sha256", error.message)
        error = self.assertRefused(InvalidArgument, replace(request, headers={"x-amz-content-sha256": "abc"}))
        self.assertEqual(error.details["ArgumentName"], "x-amz-content-sha256")

    def test_malformed(self):
        """
        An C{Authorization} header without its three components is
        C{AuthorizationHeaderMalformed}; another scheme is C{InvalidArgument}.
        """
        client, sent = s3_client(WALRUS)
        client.get_object(Bucket="bucket", Key="k")
        request = to_signed(sent[0])
        for header in ("AWS4-HMAC-SHA256", f"AWS4-HMAC-SHA256 Credential={AKID}/20240229/x/s3/aws4_request"):
            self.assertRefused(AuthorizationHeaderMalformed, replace(request, headers={"authorization": header}))
        for header in ("Bearer x", "AWS4-HMAC-SHA512 Credential=x", ""):
            error = self.assertRefused(InvalidArgument, replace(request, headers={"authorization": header}))
            self.assertEqual(error.message, "Unsupported Authorization Type")

    def test_unknown_key(self):
        """
        An access key id without a secret is C{InvalidAccessKeyId}.
        """
        client, sent = s3_client(WALRUS, credentials=("AKIDUNKNOWN", SECRET))
        client.get_object(Bucket="bucket", Key="k")
        error = self.assertRefused(InvalidAccessKeyId, to_signed(sent[0]))
        self.assertEqual(error.details, {"AWSAccessKeyId": "AKIDUNKNOWN"})

    def test_security_token(self):
        """
        A session token is signed and handed back (checking it is the
        caller's business).
        """
        client, sent = s3_client(WALRUS, credentials=(AKID, SECRET, "TOKEN"))
        client.get_object(Bucket="bucket", Key="k")
        self.assertEqual(self.assertAuthenticated(to_signed(sent[0])).security_token, "TOKEN")

    def test_repeated_headers(self):
        """
        A header sent twice is signed as its values joined by commas, with
        runs of spaces collapsed.
        """
        prepared = sign_request(
            botocore.auth.S3SigV4Auth(Credentials(AKID, SECRET), "s3", REGION),
            "GET",
            WALRUS + "/b/k",
            headers={"x-amz-meta-a": "one  two,three"},
        )
        headers = [(k, v) for k, v in prepared.headers.items() if k != "x-amz-meta-a"]
        headers += [("X-Amz-Meta-A", "  one  two "), ("x-amz-meta-a", "three")]
        self.assertAuthenticated(to_signed(prepared, headers=headers))

    def test_other_service(self):
        """
        For services other than S3 (the EC2 Query API) the path is
        normalised and the body hashed when no C{x-amz-content-sha256} is
        sent.
        """
        form = b"Action=DescribeInstances&Version=2016-11-15"
        prepared = sign_request(
            botocore.auth.SigV4Auth(Credentials(AKID, SECRET), "ec2", REGION),
            "POST",
            "http://127.0.0.1:8773/services/compute/",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            data=form,
        )
        request = replace(to_signed(prepared), body=form)
        who = self.assertAuthenticated(request, service="ec2")
        self.assertIsNone(who.payload_sha256)
        self.assertRefused(SignatureDoesNotMatch, replace(request, body=form + b"&DryRun=true"), service="ec2")
        self.assertRefused(AuthorizationHeaderMalformed, request)
        self.assertEqual(sigv4.canonical_uri("/a/./b//../c%20d/", "ec2"), "/a/c%2520d/")


class QueryTests(AuthTestsMixin, SynchronousTestCase):
    """
    Presigned URLs (C{X-Amz-Algorithm}, C{X-Amz-Credential}, ...).
    """

    def setUp(self):
        freeze(self)

    def presigned(self, endpoint=WALRUS, operation="get_object", expires=300, **params):
        client, _ = s3_client(endpoint)
        params.setdefault("Bucket", "bucket")
        params.setdefault("Key", "k")
        return client.generate_presigned_url(operation, Params=params, ExpiresIn=expires)

    def test_botocore_presigned(self):
        """
        boto3's presigned URLs authenticate at every endpoint, for odd keys
        too; their payload is unsigned.
        """
        for endpoint in ENDPOINTS:
            for key in ["k"] + ODD_KEYS:
                url = self.presigned(endpoint, Key=key, ResponseContentType="text/plain")
                who = self.assertAuthenticated(to_signed(url, headers=[], method="GET"))
                self.assertEqual((who.payload_sha256, who.chunks), (None, None))

    def test_signed_headers(self):
        """
        Headers signed into a presigned PUT must be sent as signed.
        """
        url = self.presigned(operation="put_object", ContentType="text/plain", Metadata={"a": "b"})
        headers = [("Content-Type", "text/plain"), ("x-amz-meta-a", "b")]
        self.assertAuthenticated(to_signed(url, headers=headers, method="PUT"))
        wrong = [("Content-Type", "text/html"), ("x-amz-meta-a", "b")]
        self.assertRefused(SignatureDoesNotMatch, to_signed(url, headers=wrong, method="PUT"))
        extra = headers + [("x-amz-acl", "public-read")]
        self.assertRefused(AccessDenied, to_signed(url, headers=extra, method="PUT"))

    def test_signer(self):
        """
        botocore's C{S3SigV4QueryAuth}, used directly, makes URLs that
        authenticate.
        """
        signer = botocore.auth.S3SigV4QueryAuth(Credentials(AKID, SECRET, "TOKEN"), "s3", REGION, expires=60)
        prepared = sign_request(signer, "DELETE", CLOUD + "/bucket/a%20b?versionId=3")
        who = self.assertAuthenticated(to_signed(prepared.url, headers=[], method="DELETE"))
        self.assertEqual(who.security_token, "TOKEN")

    def test_tampered(self):
        """
        Changing the method, the path, a parameter or the date of a presigned
        URL breaks its signature.
        """
        url = self.presigned()
        good = to_signed(url, headers=[], method="GET")
        for change in [
            {"method": "DELETE"},
            {"path": "/bucket/other"},
            {"add_query": [("versionId", "1")]},
            {"query": [(n, "20240229T120001Z" if n == "X-Amz-Date" else v) for n, v in good.query]},
            {"query": [(n, "301" if n == "X-Amz-Expires" else v) for n, v in good.query]},
        ]:
            error = self.assertRefused(SignatureDoesNotMatch, replace(good, **change))
            self.assertIn("UNSIGNED-PAYLOAD", error.details["CanonicalRequest"])
        self.assertRaises(SignatureDoesNotMatch, authenticate, good, {AKID: "other"}.get, NOW)

    def test_expiry(self):
        """
        A presigned URL works until it expires, then is C{AccessDenied} with
        its expiry; the clock skew allowance does not extend it.
        """
        request = to_signed(self.presigned(expires=300), headers=[], method="GET")
        self.assertAuthenticated(request, now=NOW + 300)
        error = self.assertRefused(AccessDenied, request, now=NOW + 301)
        self.assertEqual(error.message, "Request has expired")
        self.assertEqual(
            error.details,
            {"X-Amz-Expires": "300", "Expires": "2024-02-29T12:05:00Z", "ServerTime": "2024-02-29T12:05:01Z"},
        )
        error = self.assertRefused(AccessDenied, request, now=NOW - 901)
        self.assertEqual(error.message, "Request is not valid yet")

    def test_expires_range(self):
        """
        C{X-Amz-Expires} runs from one second to a week.
        """
        self.assertAuthenticated(to_signed(self.presigned(expires=604800), headers=[], method="GET"))
        for expires in (604801, 0):
            request = to_signed(self.presigned(expires=expires), headers=[], method="GET")
            error = self.assertRefused(AuthorizationQueryParametersError, request)
            self.assertIn("X-Amz-Expires", error.message)

    def test_parameters(self):
        """
        Missing, repeated or wrong signing parameters are
        C{AuthorizationQueryParametersError}; mixing query and header
        authentication is C{InvalidArgument}.
        """
        good = to_signed(self.presigned(), headers=[], method="GET")
        for name in ("X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires", "X-Amz-Credential"):
            query = [(n, v) for n, v in good.query if n != name]
            self.assertRefused(AuthorizationQueryParametersError, replace(good, query=query))
        for name, value in [("X-Amz-Algorithm", "AWS4-HMAC-SHA1"), ("X-Amz-Date", "2024-02-29"),
                            ("X-Amz-Credential", "AKID/20240229/x/s3")]:
            query = [(n, value if n == name else v) for n, v in good.query]
            self.assertRefused(AuthorizationQueryParametersError, replace(good, query=query))
        self.assertRefused(AuthorizationQueryParametersError, replace(good, add_query=[("X-Amz-Signature", "0")]))
        self.assertRefused(InvalidArgument, replace(good, headers={"authorization": "AWS4-HMAC-SHA256 x"}))
        self.assertRefused(InvalidArgument, replace(good, add_query=[("Signature", "x")]))

    def test_anonymous(self):
        """
        A request with no signature at all is anonymous: L{None}.
        """
        request = SignedRequest.from_target("GET", "/bucket/k?acl", [("Host", "h")])
        self.assertIsNone(self.authenticate(request))

    def test_presigned_body_hash(self):
        """
        A presigned request may declare a signed body hash, which must then
        be signed and is then checked.
        """
        signer = botocore.auth.S3SigV4QueryAuth(Credentials(AKID, SECRET), "s3", REGION, expires=60)
        digest = hashlib.sha256(b"x").hexdigest()
        prepared = sign_request(signer, "PUT", WALRUS + "/b/k", headers={"X-Amz-Content-SHA256": digest})
        request = to_signed(prepared.url, headers=[("x-amz-content-sha256", digest)], method="PUT")
        who = self.assertAuthenticated(request)
        self.assertEqual(who.payload_sha256, digest)


class MissingDecodedLengthTests(AuthTestsMixin, SynchronousTestCase):
    """
    An C{aws-chunked} request must say how long its decoded body is.
    """

    def setUp(self):
        freeze(self)

    def test_missing(self):
        """
        Without C{x-amz-decoded-content-length}: C{MissingSecurityHeader}.
        """
        prepared = sign_request(
            botocore.auth.SigV4Auth(Credentials(AKID, SECRET), "s3", REGION),
            "PUT",
            WALRUS + "/b/k",
            headers={"X-Amz-Content-SHA256": sigv4.STREAMING_PAYLOAD, "X-Amz-Date": "20240229T120000Z"},
        )
        self.assertRefused(MissingSecurityHeader, to_signed(prepared))
