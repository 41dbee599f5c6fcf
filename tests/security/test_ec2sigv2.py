# -*- test-case-name: tests.security.test_ec2sigv2 -*-
"""
Tests for L{eucalyptus.security.ec2sigv2} through
L{eucalyptus.security.awsauth}: EC2 requests signed by botocore's
C{SigV2Auth} (a boto3 EC2 client whose requests are caught before they are
sent), as C{POST} forms and as C{GET} queries, and by hand for what
botocore does not send (C{HmacSHA1}, C{Expires}).
"""

import time
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

import botocore.auth
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import IncompleteSignature, InvalidAccessKeyId, RequestExpired, SignatureDoesNotMatch
from eucalyptus.security import ec2sigv2
from eucalyptus.security.awsauth import InvalidArgument, SignedRequest
from tests.security.test_sigv4 import AKID, NOW, SECRET, SESSION, AuthTestsMixin, body_of, freeze

EC2 = "http://127.0.0.1:8773/services/Eucalyptus"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


class _Body:
    def stream(self, **kwargs):
        return iter([b"<DescribeRegionsResponse/>"])


def ec2_client(case, signature_version="v2", secret=SECRET):
    """
    A boto3 EC2 client whose requests are caught, signed, instead of sent;
    botocore believes the time is L{NOW}.

    @return: C{(client, sent)}.
    """
    freeze(case)
    gmtime = time.gmtime
    clock = SimpleNamespace(
        time=lambda: NOW, gmtime=lambda t=None: gmtime(NOW if t is None else t), strftime=time.strftime
    )
    case.patch(botocore.auth, "time", clock)
    client = SESSION.client(
        "ec2",
        endpoint_url=EC2,
        aws_access_key_id=AKID,
        aws_secret_access_key=secret,
        region_name="eucalyptus",
        config=Config(signature_version=signature_version, retries={"max_attempts": 1}),
    )
    sent = []

    def capture(request, **kwargs):
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Body())

    client.meta.events.register("before-send", capture)
    return client, sent


def as_signed(prepared):
    """
    The L{SignedRequest} the HTTP layer makes of a caught botocore request.
    """
    target = prepared.url.split("//", 1)[1].partition("/")[2]
    headers = list(prepared.headers.items()) + [("Host", "127.0.0.1:8773")]
    return SignedRequest.from_target(prepared.method, "/" + target, headers, body=body_of(prepared))


def by_hand(params, method="GET", secret=SECRET, signature_method="HmacSHA256", host="127.0.0.1:8773"):
    """
    A request signed here with L{ec2sigv2.sign}, its parameters in the query.
    """
    params = dict(params, AWSAccessKeyId=AKID, SignatureVersion="2", SignatureMethod=signature_method)
    digest = ec2sigv2.METHODS[signature_method]
    text = ec2sigv2.string_to_sign(method, host, "/services/Eucalyptus", list(params.items()))
    params["Signature"] = ec2sigv2.sign(secret, text, digest)
    return SignedRequest.from_target(method, "/services/Eucalyptus?" + urlencode(params), [("Host", host)])


TIMESTAMP = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW))


class BotocoreTests(AuthTestsMixin, SynchronousTestCase):
    """
    Requests botocore signs with C{signature_version="v2"}.
    """

    def test_post_form(self):
        """
        botocore's C{POST} carries the signing parameters in its form body,
        which is what is checked.
        """
        client, sent = ec2_client(self)
        client.describe_availability_zones(Filters=[{"Name": "zone-name", "Values": ["a b+c*"]}])
        signed = as_signed(sent[0])
        self.assertEqual(signed.method, "POST")
        self.assertEqual(dict(signed.form)["SignatureVersion"], "2")
        self.assertEqual(self.assertAuthenticated(signed, scheme="sigv2", service="ec2").access_key_id, AKID)

    def test_get_query(self):
        """
        The same parameters moved to the query of a C{GET} verify too.
        """
        client, sent = ec2_client(self)
        client.describe_regions(RegionNames=["eucalyptus"])
        body = body_of(sent[0]).decode()
        text = ec2sigv2.string_to_sign("GET", "127.0.0.1:8773", "/services/Eucalyptus", parse_qsl(body))
        params = dict(parse_qsl(body), Signature=ec2sigv2.sign(SECRET, text))
        signed = SignedRequest.from_target(
            "GET", "/services/Eucalyptus?" + urlencode(params), [("Host", "127.0.0.1:8773")]
        )
        self.assertAuthenticated(signed, scheme="sigv2", service="ec2")

    def test_tampered(self):
        """
        A parameter changed after signing fails the signature.
        """
        client, sent = ec2_client(self)
        client.describe_regions(RegionNames=["eucalyptus"])
        signed = as_signed(sent[0])
        body = signed.body.replace(b"eucalyptus", b"elsewhere")
        self.assertRefused(SignatureDoesNotMatch, SignedRequest(**{**vars(signed), "body": body}), service="ec2")

    def test_wrong_secret(self):
        """
        A request signed with another secret fails the signature.
        """
        client, sent = ec2_client(self, secret="not the secret")
        client.describe_regions()
        self.assertRefused(SignatureDoesNotMatch, as_signed(sent[0]), service="ec2")

    def test_skew(self):
        """
        A C{Timestamp} more than the allowed skew away is C{RequestExpired}.
        """
        client, sent = ec2_client(self)
        client.describe_regions()
        self.assertRefused(RequestExpired, as_signed(sent[0]), now=NOW + 901, service="ec2")
        self.assertAuthenticated(as_signed(sent[0]), scheme="sigv2", now=NOW + 899, service="ec2")

    def test_sigv4_post(self):
        """
        botocore's default EC2 signature, SigV4 over the form body, verifies
        for service C{ec2}; a changed body does not.
        """
        client, sent = ec2_client(self, signature_version="v4")
        client.describe_regions()
        signed = as_signed(sent[0])
        self.assertAuthenticated(signed, service="ec2")
        changed = SignedRequest(**{**vars(signed), "body": signed.body + b"&DryRun=true"})
        self.assertRefused(SignatureDoesNotMatch, changed, service="ec2")


class HandSignedTests(AuthTestsMixin, SynchronousTestCase):
    """
    What other clients (boto 2, euca2ools) may send.
    """

    def test_hmac_sha1(self):
        """
        C{HmacSHA1} is accepted.
        """
        signed = by_hand({"Action": "DescribeRegions", "Timestamp": TIMESTAMP}, signature_method="HmacSHA1")
        self.assertAuthenticated(signed, scheme="sigv2", service="ec2")

    def test_host_case(self):
        """
        The host is signed in lower case, whatever case the client sent.
        """
        params = {"Action": "DescribeRegions", "Timestamp": TIMESTAMP}
        signed = by_hand(params, host="cloud.example.com")
        sent = SignedRequest(**{**vars(signed), "headers": {"host": "Cloud.Example.COM"}})
        self.assertAuthenticated(sent, scheme="sigv2", service="ec2")

    def test_expires(self):
        """
        An C{Expires} in the future is accepted instead of C{Timestamp}; once
        it has passed the request is C{RequestExpired}.
        """
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW + 60))
        signed = by_hand({"Action": "DescribeRegions", "Expires": later})
        self.assertAuthenticated(signed, scheme="sigv2", service="ec2")
        self.assertRefused(RequestExpired, signed, now=NOW + 61, service="ec2")

    def test_incomplete(self):
        """
        Without a date, with another signature version or method, or with a
        signing parameter twice, the signature is C{IncompleteSignature}.
        """
        for params in (
            {"Action": "DescribeRegions"},
            {"Action": "DescribeRegions", "Timestamp": "yesterday"},
        ):
            self.assertRefused(IncompleteSignature, by_hand(params), service="ec2")
        base = by_hand({"Action": "DescribeRegions", "Timestamp": TIMESTAMP})
        for name, value in (("SignatureVersion", "1"), ("SignatureMethod", "HmacMD5")):
            query = [(n, value if n == name else v) for n, v in base.query]
            self.assertRefused(IncompleteSignature, SignedRequest(**{**vars(base), "query": query}), service="ec2")
        twice = SignedRequest(**{**vars(base), "query": base.query + [("Timestamp", TIMESTAMP)]})
        self.assertRefused(IncompleteSignature, twice, service="ec2")

    def test_unknown_key(self):
        """
        A key the cloud does not have is C{InvalidAccessKeyId}.
        """
        signed = by_hand({"Action": "DescribeRegions", "Timestamp": TIMESTAMP})
        query = [(n, "AKIDUNKNOWN" if n == "AWSAccessKeyId" else v) for n, v in signed.query]
        self.assertRefused(InvalidAccessKeyId, SignedRequest(**{**vars(signed), "query": query}), service="ec2")

    def test_form_needs_form_type(self):
        """
        A body is read for parameters only when it is a form; otherwise the
        request is not signed at all.
        """
        params = {"Action": "DescribeRegions", "Timestamp": TIMESTAMP}
        signed = by_hand(params, method="POST")
        body = urlencode(signed.query).encode()
        as_form = SignedRequest("POST", signed.path, [], {"host": signed.host, "content-type": FORM}, body=body)
        self.assertAuthenticated(as_form, scheme="sigv2", service="ec2")
        as_text = SignedRequest("POST", signed.path, [], {"host": signed.host, "content-type": "text/plain"}, body=body)
        self.assertIsNone(self.authenticate(as_text, service="ec2"))

    def test_s3_header_refused(self):
        """
        S3's SigV2 C{Authorization} header is not the query APIs' SigV2.
        """
        signed = SignedRequest("GET", "/", [], {"host": "h", "authorization": "AWS AKIDEXAMPLE:c2ln", "date": "x"})
        self.assertRefused(InvalidArgument, signed, service="ec2")
