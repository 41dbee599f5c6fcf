# -*- test-case-name: tests.security.test_sigv2 -*-
"""
Tests for L{eucalyptus.security.sigv2} through L{eucalyptus.security.awsauth}.

Requests are signed by botocore (C{signature_version="s3"}, i.e.
C{HmacV1Auth} and C{HmacV1QueryAuth}) at every way Walrus is reached.
"""

import base64
import hashlib

import botocore.auth
from botocore.credentials import Credentials
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import (
    AccessDenied,
    InvalidAccessKeyId,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)
from eucalyptus.security import sigv2
from eucalyptus.security.awsauth import InvalidArgument, SignedRequest, authenticate
from tests.security.test_sigv4 import (
    AKID,
    CLOUD,
    DOMAIN,
    ENDPOINTS,
    NOW,
    ODD_KEYS,
    SECRET,
    WALRUS,
    AuthTestsMixin,
    freeze,
    replace,
    s3_client,
    sign_request,
    to_signed,
)

#: The Date botocore sends at L{NOW}.
DATE = "Thu, 29 Feb 2024 12:00:00 GMT"


class HeaderTests(AuthTestsMixin, SynchronousTestCase):
    """
    Requests signed with an C{Authorization: AWS <key id>:<signature>}
    header.
    """

    def setUp(self):
        freeze(self)

    def test_botocore_operations(self):
        """
        What a boto3 client sends with SigV2 authenticates, whichever way
        Walrus is addressed, sub-resources and all.
        """
        for endpoint in ENDPOINTS:
            client, sent = s3_client(endpoint, signature_version="s3")
            client.put_object(
                Bucket="bucket", Key="k", Body=b"hello", ContentType="text/plain",
                ContentMD5=base64.b64encode(hashlib.md5(b"hello").digest()).decode(), Metadata={"a": "b"},
            )
            client.get_object(Bucket="bucket", Key="k", VersionId="v+1/2", ResponseContentType="text/plain")
            client.list_objects_v2(Bucket="bucket", Prefix="a b/")
            client.get_bucket_acl(Bucket="bucket")
            client.list_buckets()
            client.create_bucket(Bucket="bucket")
            client.delete_objects(Bucket="bucket", Delete={"Objects": [{"Key": "k"}]})
            client.upload_part(Bucket="bucket", Key="k", UploadId="u/1", PartNumber=2, Body=b"part")
            for prepared in sent:
                who = self.assertAuthenticated(to_signed(prepared), scheme="sigv2")
                self.assertEqual((who.payload_sha256, who.chunks), (None, None))

    def test_odd_keys(self):
        """
        Keys with spaces, C{%}, non-ASCII letters, C{+}, C{~} and C{//} are
        signed over the path as sent.
        """
        for endpoint in ENDPOINTS:
            client, sent = s3_client(endpoint, signature_version="s3")
            for key in ODD_KEYS:
                client.get_object(Bucket="bucket", Key=key)
            for prepared in sent:
                self.assertAuthenticated(to_signed(prepared), scheme="sigv2")

    def test_tampered(self):
        """
        Changing what SigV2 signs (the method, the path, a sub-resource, the
        content type, an C{x-amz-*} header, the date) or signing with another
        secret gives C{SignatureDoesNotMatch} with the string to sign.
        """
        client, sent = s3_client(WALRUS, signature_version="s3")
        client.put_object(Bucket="bucket", Key="k", Body=b"data", ContentType="text/plain", Metadata={"a": "b"})
        good = to_signed(sent[0])
        for change in [
            {"method": "POST"},
            {"path": "/bucket/K"},
            {"add_query": [("acl", "")]},
            {"add_query": [("versionId", "2")]},
            {"headers": {"content-type": "text/html"}},
            {"headers": {"content-md5": "x"}},
            {"headers": {"x-amz-meta-a": "c"}},
            {"headers": {"x-amz-acl": "public-read"}},
            {"headers": {"date": "Thu, 29 Feb 2024 12:00:01 GMT"}},
        ]:
            error = self.assertRefused(SignatureDoesNotMatch, replace(good, **change))
            self.assertEqual(error.details["AWSAccessKeyId"], AKID)
            self.assertEqual(good.headers["authorization"], f"AWS {AKID}:{error.details['SignatureProvided']}")
            text = error.details["StringToSign"]
            self.assertRegex(text, r"(?s)^(PUT|POST)\n.*\n/bucket/[kK](\?acl|\?versionId=2)?$")
            self.assertEqual(bytes.fromhex(error.details["StringToSignBytes"]).decode(), text)
        self.assertRaises(SignatureDoesNotMatch, authenticate, good, {AKID: "other"}.get, NOW)

    def test_string_to_sign(self):
        """
        The string to sign reported is what botocore signs (its default
        checksum headers included).
        """
        client, sent = s3_client(WALRUS, signature_version="s3")
        client.put_object(Bucket="bucket", Key="k", Body=b"", ContentType="text/plain", Metadata={"b": "2", "a": "1"})
        error = self.assertRefused(SignatureDoesNotMatch, replace(to_signed(sent[0]), method="POST"))
        self.assertEqual(
            error.details["StringToSign"],
            f"POST\n\ntext/plain\n{DATE}\nx-amz-checksum-crc32:AAAAAA==\nx-amz-meta-a:1\nx-amz-meta-b:2\n"
            "x-amz-sdk-checksum-algorithm:CRC32\n/bucket/k",
        )

    def test_ordinary_parameters_unsigned(self):
        """
        SigV2 does not sign query parameters that are not sub-resources.
        """
        client, sent = s3_client(WALRUS, signature_version="s3")
        client.list_objects(Bucket="bucket", Prefix="a")
        self.assertAuthenticated(replace(to_signed(sent[0]), add_query=[("prefix", "b")]), scheme="sigv2")

    def test_full_path(self):
        """
        A client that signs the path it sends, mount point included (boto 2,
        euca2ools), authenticates under C{/services/Walrus} too.
        """
        signer = botocore.auth.HmacV1Auth(Credentials(AKID, SECRET))
        prepared = sign_request(signer, "GET", CLOUD + "/bucket/a%20b?acl")
        self.assertAuthenticated(to_signed(prepared), scheme="sigv2")

    def test_virtual_host(self):
        """
        A virtual-host request is signed over C{/bucket} and the path.
        """
        signer = botocore.auth.HmacV1Auth(Credentials(AKID, SECRET))
        for url, auth_path in [
            (f"http://bucket.{DOMAIN}:8776/k%2B", "/bucket/k%2B"),
            (f"http://bucket.{DOMAIN}:8776/", "/bucket/"),
            (f"http://bucket.{DOMAIN}:8773/services/Walrus?uploads", "/bucket/"),
        ]:
            prepared = sign_request(signer, "GET", url, auth_path=auth_path)
            self.assertAuthenticated(to_signed(prepared), scheme="sigv2")

    def test_amz_date(self):
        """
        With C{x-amz-date}, the Date line may be empty (the documented rule,
        boto 2) or the C{Date} header (botocore); C{x-amz-date} is the one
        held to the clock.
        """
        amz_date = "Thu, 29 Feb 2024 12:10:00 GMT"
        text = sigv2.string_to_sign("GET", "", "", "", [("x-amz-date", amz_date)], "/bucket/k")
        request = SignedRequest.from_target(
            "GET",
            "/bucket/k",
            [("Host", "h"), ("x-amz-date", amz_date), ("Authorization", f"AWS {AKID}:{sigv2.sign(SECRET, text)}")],
        )
        self.assertAuthenticated(request, scheme="sigv2")
        self.assertAuthenticated(replace(request, headers={"date": "Mon, 1 Jan 2001 00:00:00 GMT"}), scheme="sigv2")
        self.assertRefused(RequestTimeTooSkewed, request, now=NOW - 301)
        signer = botocore.auth.HmacV1Auth(Credentials(AKID, SECRET))
        prepared = sign_request(signer, "GET", WALRUS + "/bucket/k", headers={"x-amz-date": amz_date})
        self.assertAuthenticated(to_signed(prepared), scheme="sigv2")

    def test_skew(self):
        """
        A C{Date} more than 15 minutes away from our clock is
        C{RequestTimeTooSkewed}, whose details botocore reads.
        """
        client, sent = s3_client(WALRUS, signature_version="s3")
        client.get_object(Bucket="bucket", Key="k")
        request = to_signed(sent[0])
        self.assertAuthenticated(request, now=NOW + 900, scheme="sigv2")
        error = self.assertRefused(RequestTimeTooSkewed, request, now=NOW - 901)
        self.assertEqual(
            error.details,
            {"RequestTime": DATE, "ServerTime": "2024-02-29T11:44:59Z", "MaxAllowedSkewMilliseconds": "900000"},
        )

    def test_no_date(self):
        """
        Without a date that can be read the request is C{AccessDenied}.
        """
        client, sent = s3_client(WALRUS, signature_version="s3")
        client.get_object(Bucket="bucket", Key="k")
        for date in (None, "soon"):
            self.assertRefused(AccessDenied, replace(to_signed(sent[0]), headers={"date": date}))

    def test_malformed(self):
        """
        A header that is not C{AWS <key id>:<signature>} is
        C{InvalidArgument} naming the C{Authorization} header.
        """
        client, sent = s3_client(WALRUS, signature_version="s3")
        client.get_object(Bucket="bucket", Key="k")
        for header in ("AWS", f"AWS {AKID}", "AWS :x", f"AWS {AKID}:"):
            error = self.assertRefused(InvalidArgument, replace(to_signed(sent[0]), headers={"authorization": header}))
            self.assertEqual(error.details["ArgumentName"], "Authorization")

    def test_unknown_key(self):
        """
        An access key id without a secret is C{InvalidAccessKeyId}.
        """
        client, sent = s3_client(WALRUS, signature_version="s3", credentials=("AKIDUNKNOWN", SECRET))
        client.get_object(Bucket="bucket", Key="k")
        self.assertRefused(InvalidAccessKeyId, to_signed(sent[0]))

    def test_security_token(self):
        """
        A session token is signed as an C{x-amz-*} header and handed back.
        """
        client, sent = s3_client(WALRUS, signature_version="s3", credentials=(AKID, SECRET, "TOKEN"))
        client.get_object(Bucket="bucket", Key="k")
        self.assertEqual(self.assertAuthenticated(to_signed(sent[0]), scheme="sigv2").security_token, "TOKEN")

    def test_s3_only(self):
        """
        SigV2 in its S3 form is refused for other services.
        """
        client, sent = s3_client(WALRUS, signature_version="s3")
        client.get_object(Bucket="bucket", Key="k")
        self.assertRefused(InvalidArgument, to_signed(sent[0]), service="ec2")


class ResourceTests(SynchronousTestCase):
    """
    L{sigv2.resource_paths} and L{sigv2.canonical_resource}.
    """

    def paths(self, path, virtual_bucket=None, mount=""):
        request = SignedRequest("GET", path, [], {}, virtual_bucket=virtual_bucket, mount=mount)
        return sigv2.resource_paths(request)

    def test_paths(self):
        """
        The mount point is tried removed and kept, a bucket alone with and
        without its slash, and a virtual host's bucket is put in front.
        """
        self.assertEqual(self.paths("/"), ["/"])
        self.assertEqual(self.paths("/b"), ["/b/", "/b"])
        self.assertEqual(self.paths("/b/k"), ["/b/k"])
        self.assertEqual(self.paths("/m/b/k", mount="/m"), ["/b/k", "/m/b/k"])
        self.assertEqual(self.paths("/m/b", mount="/m/"), ["/b/", "/b", "/m/b"])
        self.assertEqual(self.paths("/m", mount="/m"), ["/", "/m/", "/m"])
        self.assertEqual(self.paths("/mm/b", mount="/m"), ["/mm/b"])
        self.assertEqual(self.paths("/", virtual_bucket="b"), ["/b/"])
        self.assertEqual(self.paths("/k", virtual_bucket="b"), ["/b/k"])
        self.assertEqual(self.paths("/m", virtual_bucket="b", mount="/m"), ["/b/", "/b/m"])

    def test_subresources(self):
        """
        Sub-resources are sorted by name, valueless ones bare, values
        decoded; other parameters are left out.
        """
        query = [("versionId", "a/b+c"), ("prefix", "x"), ("acl", ""), ("response-content-type", "text/plain")]
        self.assertEqual(
            sigv2.canonical_resource("/b/k", query),
            "/b/k?acl&response-content-type=text/plain&versionId=a/b+c",
        )
        self.assertEqual(sigv2.canonical_resource("/b/k", [("prefix", "x")]), "/b/k")


class QueryTests(AuthTestsMixin, SynchronousTestCase):
    """
    SigV2 presigned URLs (C{AWSAccessKeyId}, C{Expires}, C{Signature}).
    """

    def setUp(self):
        freeze(self)

    def presigned(self, endpoint=WALRUS, operation="get_object", credentials=(AKID, SECRET), expires=300, **params):
        client, _ = s3_client(endpoint, signature_version="s3", credentials=credentials)
        params.setdefault("Bucket", "bucket")
        params.setdefault("Key", "k")
        return client.generate_presigned_url(operation, Params=params, ExpiresIn=expires)

    def test_botocore_presigned(self):
        """
        boto3's SigV2 presigned URLs authenticate at every endpoint, for odd
        keys and with sub-resources too.
        """
        for endpoint in ENDPOINTS:
            for key in ["k"] + ODD_KEYS:
                url = self.presigned(endpoint, Key=key, ResponseContentType="text/plain")
                self.assertAuthenticated(to_signed(url, headers=[], method="GET"), scheme="sigv2")

    def test_signed_headers(self):
        """
        The content type and C{x-amz-*} headers botocore signs travel as
        query parameters; a header sent instead must be the same.
        """
        url = self.presigned(operation="put_object", ContentType="text/plain", Metadata={"a": "b"})
        self.assertAuthenticated(to_signed(url, headers=[], method="PUT"), scheme="sigv2")
        self.assertAuthenticated(to_signed(url, headers=[("Content-Type", "text/plain")], method="PUT"), scheme="sigv2")
        wrong = to_signed(url, headers=[("Content-Type", "text/html")], method="PUT")
        self.assertRefused(SignatureDoesNotMatch, wrong)

    def test_security_token(self):
        """
        The session token travels in the query, is signed, and is handed
        back.
        """
        url = self.presigned(credentials=(AKID, SECRET, "TOKEN"))
        self.assertIn("x-amz-security-token=TOKEN", url)
        who = self.assertAuthenticated(to_signed(url, headers=[], method="GET"), scheme="sigv2")
        self.assertEqual(who.security_token, "TOKEN")

    def test_expiry(self):
        """
        The URL works until C{Expires}, then is C{AccessDenied}.
        """
        request = to_signed(self.presigned(expires=300), headers=[], method="GET")
        self.assertAuthenticated(request, now=NOW + 300, scheme="sigv2")
        error = self.assertRefused(AccessDenied, request, now=NOW + 301)
        self.assertEqual(error.message, "Request has expired")
        self.assertEqual(error.details, {"Expires": "2024-02-29T12:05:00Z", "ServerTime": "2024-02-29T12:05:01Z"})

    def test_tampered(self):
        """
        Changing the expiry, the method or the path breaks the signature.
        """
        good = to_signed(self.presigned(), headers=[], method="GET")
        later = [(n, str(NOW + 3600) if n == "Expires" else v) for n, v in good.query]
        for change in [{"query": later}, {"method": "DELETE"}, {"path": "/bucket/j"}]:
            self.assertRefused(SignatureDoesNotMatch, replace(good, **change))

    def test_parameters(self):
        """
        Missing or unreadable parameters are C{AccessDenied}.
        """
        good = to_signed(self.presigned(), headers=[], method="GET")
        for name in ("Expires", "Signature"):
            self.assertRefused(AccessDenied, replace(good, query=[(n, v) for n, v in good.query if n != name]))
        soon = [(n, "soon" if n == "Expires" else v) for n, v in good.query]
        self.assertRefused(AccessDenied, replace(good, query=soon))

    def test_plus_in_signature(self):
        """
        A C{+} of the signature sent unencoded, hence decoded as a space, is
        still read as C{+}.
        """
        for n in range(100):
            url = self.presigned(Key=f"k{n}")
            if "%2B" in url.partition("Signature=")[2].partition("&")[0]:
                break
        else:
            self.fail("no signature with a +")
        raw = url.replace("%2B", "+")
        self.assertAuthenticated(to_signed(raw, headers=[], method="GET"), scheme="sigv2")
