# -*- test-case-name: tests.services.clc.test_ec2_resource -*-
"""
Tests for L{eucalyptus.services.clc.ec2.resource} in process: requests as
L{DummyRequest}s, keys from a real account store read inline, a fixed
clock.
"""

import io
import os
from urllib.parse import urlencode

from lxml import etree
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyRequest

from eucalyptus.accounts import AccountStore
from eucalyptus.errors import (
    InvalidAccessKeyId,
    RequestExpired,
    RequestTimeTooSkewed,
    ServiceUnavailable,
    SignatureDoesNotMatch,
)
from eucalyptus.security import ec2sigv2
from eucalyptus.services.clc.ec2 import model
from eucalyptus.services.clc.ec2.actions import ACTIONS
from eucalyptus.security.sigv4 import PresignedUrlExpired
from eucalyptus.services.clc.ec2.dispatch import Dispatcher, Region
from eucalyptus.services.clc.ec2.errors import AuthFailure, from_auth_error
from eucalyptus.services.clc.ec2.resource import Ec2QueryResource, SoapOrQueryResource, is_soap
from eucalyptus.services.walrus.identities import Identities

NOW = 1479211200.0
TIMESTAMP = "2016-11-15T12:00:00Z"
HOST = "clc.example.com:8773"
PATH = "/services/Eucalyptus"
REGION = Region("eucalyptus", f"http://{HOST}{PATH}", ("zone-1",))
FORM = b"application/x-www-form-urlencoded; charset=utf-8"


def inline(function, *args):
    return defer.maybeDeferred(function, *args)


def request_for(method, query=b"", body=b"", headers=()):
    """
    A L{DummyRequest} for C{PATH}.
    """
    request = DummyRequest([])
    request.method = method
    request.uri = PATH.encode() + (b"?" + query if query else b"")
    request.path = PATH.encode()
    request.content = io.BytesIO(body)
    request.requestHeaders.setRawHeaders(b"host", [HOST.encode()])
    for name, value in headers:
        request.requestHeaders.setRawHeaders(name, [value])
    return request


class _Recorder(Resource):
    """
    Stands for the SOAP resource: says it was asked.
    """

    isLeaf = True

    def render(self, request):
        return b"soap"


class QueryResourceTests(SynchronousTestCase):
    """
    Authentication, answers and errors of L{Ec2QueryResource}.
    """

    def setUp(self):
        directory = os.path.abspath(self.mktemp())
        self.accounts = AccountStore("sqlite:///" + os.path.join(directory, "cloud.sqlite"))
        self.addCleanup(self.accounts.engine.dispose)
        self.key = self.accounts.create_account("alice")
        self.actions = dict(ACTIONS)
        self.resource = Ec2QueryResource(
            Dispatcher(self.actions, REGION, inline), Identities(self.accounts, lookup=inline), clock=lambda: NOW
        )

    def signed_params(self, params, method="GET", secret=None):
        params = dict(
            params,
            AWSAccessKeyId=self.key.access_key_id,
            SignatureVersion="2",
            SignatureMethod="HmacSHA256",
            Timestamp=TIMESTAMP,
        )
        text = ec2sigv2.string_to_sign(method, HOST, PATH, list(params.items()))
        params["Signature"] = ec2sigv2.sign(secret or self.key.secret_key, text)
        return urlencode(params).encode()

    def render(self, request):
        self.resource.render(request)
        self.assertTrue(request.finished)
        root = etree.fromstring(b"".join(request.written))
        header = request.responseHeaders.getRawHeaders(b"x-amzn-requestid")[0].decode()
        return request.responseCode, root, header

    def assertError(self, request, status, code):
        answer, root, header = self.render(request)
        self.assertEqual((answer, root.findtext("Errors/Error/Code")), (status, code))
        self.assertEqual(root.findtext("RequestID"), header)
        return root.findtext("Errors/Error/Message")

    def test_get(self):
        """
        A signed C{GET} is answered with the document, its request id also
        in the C{x-amzn-requestid} header.
        """
        query = self.signed_params({"Action": "DescribeRegions", "Version": "2016-11-15"})
        status, root, header = self.render(request_for(b"GET", query))
        self.assertEqual(status, 200)
        self.assertEqual(root.findtext("{*}requestId"), header)
        self.assertEqual(root.findtext("{*}regionInfo/{*}item/{*}regionEndpoint"), REGION.endpoint)

    def test_post_form(self):
        """
        A signed form C{POST} is answered; the version named sets the
        namespace.
        """
        body = self.signed_params({"Action": "DescribeAvailabilityZones", "Version": "2010-08-31"}, method="POST")
        request = request_for(b"POST", body=body, headers=[(b"content-type", FORM)])
        status, root, _ = self.render(request)
        self.assertEqual(status, 200)
        self.assertEqual(etree.QName(root).namespace, "http://ec2.amazonaws.com/doc/2010-08-31/")

    def test_request_ids_differ(self):
        """
        Every request gets its own id.
        """
        query = self.signed_params({"Action": "DescribeRegions", "Version": "2016-11-15"})
        ids = {self.render(request_for(b"GET", query))[2] for _ in range(3)}
        self.assertEqual(len(ids), 3)

    def test_unsigned(self):
        """
        An unsigned request is C{AuthFailure} (401).
        """
        request = request_for(b"GET", b"Action=DescribeRegions&Version=2016-11-15")
        message = self.assertError(request, 401, "AuthFailure")
        self.assertIn("not signed", message)

    def test_wrong_secret(self):
        """
        A bad signature is C{AuthFailure}, not S3's code.
        """
        query = self.signed_params({"Action": "DescribeRegions", "Version": "2016-11-15"}, secret="wrong")
        self.assertError(request_for(b"GET", query), 401, "AuthFailure")

    def test_skewed(self):
        """
        A request dated too far from our clock is C{RequestExpired}.
        """
        self.resource.clock = lambda: NOW + 3600
        query = self.signed_params({"Action": "DescribeRegions", "Version": "2016-11-15"})
        self.assertError(request_for(b"GET", query), 400, "RequestExpired")

    def test_signed_then_checked(self):
        """
        Errors of the request itself come after authentication: an unknown
        action is C{InvalidAction}, a bad version C{NoSuchVersion}, an
        unknown parameter C{UnknownParameter}.
        """
        for params, code in (
            ({"Action": "LaunchRockets", "Version": "2016-11-15"}, "InvalidAction"),
            ({"Action": "DescribeRegions", "Version": "2020-01-01"}, "NoSuchVersion"),
            ({"Action": "DescribeRegions", "Version": "2016-11-15", "Colour": "red"}, "UnknownParameter"),
            ({"Version": "2016-11-15"}, "MissingAction"),
        ):
            self.assertError(request_for(b"GET", self.signed_params(params)), 400, code)

    def test_not_utf8(self):
        """
        Parameters that are not UTF-8 are C{MalformedQueryString}.
        """
        # Signed over the value as authentication reads %FF: U+FFFD.
        params = {"Action": "DescribeRegions", "Version": "2016-11-15", "RegionName.1": "\ufffd"}
        query = self.signed_params(params).replace(b"%EF%BF%BD", b"%FF")
        self.assertError(request_for(b"GET", query), 400, "MalformedQueryString")

    def test_too_large(self):
        """
        A body the site cut off, or sent to Walrus's spool (which reads
        back nothing of what it received), is refused.
        """
        request = request_for(b"POST", body=b"", headers=[(b"content-type", FORM)])
        request.body_too_large = True
        self.assertError(request, 413, "EntityTooLarge")

        class Spooled:
            def read(self):
                return b""

            def tell(self):
                return 3 << 20

        request = request_for(b"POST", headers=[(b"content-type", FORM)])
        request.content = Spooled()
        self.assertError(request, 413, "EntityTooLarge")

    def test_internal_error(self):
        """
        An unexpected exception is logged and answered C{InternalError}
        (500) without its details.
        """

        def broken(context, params):
            raise RuntimeError("secret details")

        self.actions["DescribeRegions"] = broken
        self.resource.dispatcher = Dispatcher(self.actions, REGION, inline)
        query = self.signed_params({"Action": "DescribeRegions", "Version": "2016-11-15"})
        message = self.assertError(request_for(b"GET", query), 500, "InternalError")
        self.assertNotIn("secret", message)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_component_errors(self):
        """
        A L{eucalyptus.errors.EucalyptusError} an action raises is answered
        with its code and status.
        """

        def unavailable(context, params):
            raise ServiceUnavailable("The cluster is not answering.")

        self.actions["DescribeRegions"] = unavailable
        self.resource.dispatcher = Dispatcher(self.actions, REGION, inline)
        query = self.signed_params({"Action": "DescribeRegions", "Version": "2016-11-15"})
        message = self.assertError(request_for(b"GET", query), 503, "ServiceUnavailable")
        self.assertEqual(message, "The cluster is not answering.")

    def test_client_gone(self):
        """
        When the client went away before the answer, nothing is written.
        """
        answer = defer.Deferred()
        self.actions["DescribeRegions"] = lambda context, params: answer
        self.resource.dispatcher = Dispatcher(self.actions, REGION, inline)
        request = request_for(b"GET", self.signed_params({"Action": "DescribeRegions", "Version": "2016-11-15"}))
        self.resource.render(request)
        request.processingFailed(ConnectionError("gone"))
        answer.callback({"Regions": []})
        self.assertEqual(request.written, [])

    def test_versions_answered(self):
        """
        The oldest and newest versions are answered.
        """
        for version in (model.FIRST_VERSION, model.LATEST_VERSION):
            query = self.signed_params({"Action": "DescribeRegions", "Version": version})
            self.assertEqual(self.render(request_for(b"GET", query))[0], 200)


class RoutingTests(SynchronousTestCase):
    """
    L{SoapOrQueryResource} and L{is_soap}.
    """

    def test_is_soap(self):
        """
        XML and SOAP C{POST}s, C{SOAPAction} headers and C{GET ?wsdl} are
        SOAP; forms and queries are not.
        """
        soap = [
            request_for(b"POST", body=b"<x/>", headers=[(b"content-type", b"text/xml; charset=utf-8")]),
            request_for(b"POST", body=b"<x/>", headers=[(b"content-type", b"application/soap+xml")]),
            request_for(b"POST", body=b"<x/>", headers=[(b"soapaction", b'"DescribeServices"')]),
            request_for(b"GET", b"wsdl"),
            request_for(b"GET", b"WSDL"),
        ]
        query = [
            request_for(b"POST", body=b"Action=X", headers=[(b"content-type", FORM)]),
            request_for(b"GET", b"Action=DescribeRegions"),
            request_for(b"GET"),
            request_for(b"PUT", body=b"<x/>", headers=[(b"content-type", b"text/xml")]),
        ]
        self.assertEqual([is_soap(r) for r in soap], [True] * len(soap))
        self.assertEqual([is_soap(r) for r in query], [False] * len(query))

    def test_routes(self):
        """
        The resource renders the request with the one it belongs to.
        """

        class Query(_Recorder):
            def render(self, request):
                return b"query"

        resource = SoapOrQueryResource(_Recorder(), Query())
        self.assertEqual(resource.render(request_for(b"GET", b"wsdl")), b"soap")
        self.assertEqual(resource.render(request_for(b"GET", b"Action=DescribeRegions")), b"query")


class AuthErrorTests(SynchronousTestCase):
    """
    L{from_auth_error}: what the signature checks raise, in EC2's words.
    """

    def test_auth_failure(self):
        """
        A wrong signature or an unknown key is C{AuthFailure}, keeping the
        reason.
        """
        for error in (SignatureDoesNotMatch(StringToSign="x"), InvalidAccessKeyId("No such key")):
            answer = from_auth_error(error)
            self.assertIsInstance(answer, AuthFailure)
            self.assertIn(error.message, answer.message)
            self.assertEqual(answer.http_status, 401)

    def test_expired(self):
        """
        Skew and expired presigned URLs are C{RequestExpired}.
        """
        skewed = RequestTimeTooSkewed(
            RequestTime="20160101T000000Z", ServerTime="2016-11-15T12:00:00Z", MaxAllowedSkewMilliseconds="900000"
        )
        for error in (skewed, PresignedUrlExpired("Request has expired", Expires="2016-11-15T11:00:00Z")):
            answer = from_auth_error(error)
            self.assertEqual((answer.code, answer.http_status), ("RequestExpired", 400))
        self.assertIn("900 seconds", from_auth_error(skewed).message)
        already = RequestExpired("late")
        self.assertIs(from_auth_error(already), already)
