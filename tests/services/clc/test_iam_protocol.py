# -*- test-case-name: tests.services.clc.test_iam_protocol -*-
"""
Tests for the IAM API's protocol in process: the model and its Eucalyptus
extension, C{query}-protocol parameters, answers and errors read back by
botocore's own parser, the mapping of signature failures, and the
resource driven with L{DummyRequest}s signed with query SigV2.
"""

import io
import os
from datetime import datetime, timezone
from urllib.parse import urlencode

from botocore import parsers
from lxml import etree
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.test.requesthelper import DummyRequest

from eucalyptus import errors as shared
from eucalyptus.accounts import AccountStore
from eucalyptus.security import ec2sigv2
from eucalyptus.security.sigv4 import PresignedUrlExpired
from eucalyptus.services.clc.ec2.errors import AuthFailure, InvalidAction, UnknownParameter
from eucalyptus.services.clc.iam import errors, model, serialize
from eucalyptus.services.clc.iam.actions import ACTIONS, Directory
from eucalyptus.services.clc.iam.resource import iam_resource
from eucalyptus.services.walrus.identities import Identities

NOW = 1479211200.0
TIMESTAMP = "2016-11-15T12:00:00Z"
HOST = "clc.example.com:8773"
PATH = "/services/Euare"
FORM = b"application/x-www-form-urlencoded; charset=utf-8"


def inline(function, *args):
    return defer.maybeDeferred(function, *args)


def parse_answer(action, document, status=200):
    """
    What botocore's C{QueryParser} reads from an answer, as a boto3 client
    would.
    """
    response = {"body": document, "headers": {}, "status_code": status}
    return parsers.QueryParser().parse(response, model.operation(action).output_shape)


class ModelTests(SynchronousTestCase):
    """
    L{model}: botocore's IAM model with Eucalyptus's account actions.
    """

    def test_actions(self):
        """
        Every action of the table is in the model, with Eucalyptus's two
        added; unknown names are L{None}.
        """
        self.assertEqual({name for name in ACTIONS if model.operation(name) is None}, set())
        self.assertEqual(model.operation("CreateAccount").input_shape.required_members, ["AccountName"])
        output = model.operation("ListAccounts").output_shape
        self.assertEqual(output.serialization["resultWrapper"], "ListAccountsResult")
        self.assertIsNone(model.operation("LaunchRockets"))
        self.assertEqual(model.service_model().metadata["protocol"], "query")

    def test_errors_as_modelled(self):
        """
        The errors this API raises carry the code and status botocore's
        model gives them.
        """
        shapes = model.model_data()["shapes"]
        for error, shape in (
            (errors.NoSuchEntity, "NoSuchEntityException"),
            (errors.EntityAlreadyExists, "EntityAlreadyExistsException"),
            (errors.DeleteConflict, "DeleteConflictException"),
            (errors.LimitExceeded, "LimitExceededException"),
            (errors.InvalidInput, "InvalidInputException"),
        ):
            modelled = shapes[shape]["error"]
            self.assertEqual((error.code, error.http_status), (modelled["code"], modelled["httpStatusCode"]))

    def test_version(self):
        """
        Only C{2010-05-08} is answered.
        """
        model.check_version("2010-05-08")
        self.assertRaises(InvalidAction, model.check_version, "2016-11-15")
        self.assertRaises(shared.AwsError, model.check_version, None)


class ParseTests(SynchronousTestCase):
    """
    L{model.parse_input}: the C{query} protocol's parameters and the
    model's constraints.
    """

    def parse(self, action, **params):
        return model.parse_input(model.operation(action), params)

    def test_member_lists(self):
        """
        A list's items are numbered below C{member}; an empty value is an
        empty list; EC2's numbering without C{member} is unknown.
        """
        tags = {
            "Tags.member.2.Key": "k2",
            "Tags.member.2.Value": "v2",
            "Tags.member.1.Key": "k1",
            "Tags.member.1.Value": "v1",
        }
        parsed = self.parse("CreateUser", UserName="a", **tags)
        self.assertEqual(parsed["Tags"], [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])
        self.assertEqual(self.parse("CreateUser", UserName="a", Tags="")["Tags"], [])
        self.assertRaises(UnknownParameter, self.parse, "CreateUser", UserName="a", **{"Tags.1.Key": "k"})
        self.assertRaises(shared.InvalidParameterValue, self.parse, "CreateUser", UserName="a", **{"Tags.member": "k"})

    def test_constraints(self):
        """
        Patterns, lengths, ranges and enumerations of the model are
        checked, each broken one counted in the message.
        """
        error = self.assertRaises(errors.ValidationError, self.parse, "CreateUser", UserName="é", Path="nope")
        self.assertTrue(error.message.startswith("2 validation errors detected: "), error.message)
        self.assertIn("Value 'nope' at 'path' failed to satisfy constraint", error.message)
        error = self.assertRaises(errors.ValidationError, self.parse, "ListUsers", MaxItems="1001")
        self.assertIn("have value less than or equal to 1000", error.message)
        self.assertRaises(errors.ValidationError, self.parse, "UpdateAccessKey", AccessKeyId="A" * 20, Status="On")
        self.assertRaises(errors.ValidationError, self.parse, "CreateAccount", AccountName="-leading")
        self.assertEqual(self.parse("ListUsers", PathPrefix="/a/", MaxItems="5"), {"PathPrefix": "/a/", "MaxItems": 5})

    def test_delegate(self):
        """
        C{DelegateAccount} is taken out of the parameters and handed on.
        """
        self.assertEqual(self.parse("ListUsers", DelegateAccount="acme"), {model.DELEGATE: "acme"})


class SerializeTests(SynchronousTestCase):
    """
    L{serialize}: answers and errors as botocore reads them.
    """

    def test_list_users(self):
        """
        Lists are C{member}s, booleans and dates as botocore parses them,
        inside the C{resultWrapper}, with the request id.
        """
        created = datetime(2016, 11, 15, 12, 0, tzinfo=timezone.utc)
        user = {"Path": "/", "UserName": "u", "UserId": "AIDAX", "Arn": "arn:aws:iam::1:user/u", "CreateDate": created}
        document = serialize.response_document(
            model.operation("ListUsers"), {"Users": [user], "IsTruncated": False}, "req-1", model.VERSION
        )
        root = etree.fromstring(document)
        self.assertEqual(root.tag, f"{{{model.NAMESPACE}}}ListUsersResponse")
        parsed = parse_answer("ListUsers", document)
        self.assertEqual((parsed["Users"], parsed["IsTruncated"]), ([user], False))
        self.assertEqual(parsed["ResponseMetadata"]["RequestId"], "req-1")

    def test_no_output(self):
        """
        An action without output answers its response metadata alone.
        """
        document = serialize.response_document(model.operation("DeleteUser"), None, "req-2", model.VERSION)
        root = etree.fromstring(document)
        self.assertEqual([child.tag for child in root], [f"{{{model.NAMESPACE}}}ResponseMetadata"])
        self.assertRaises(
            ValueError, serialize.response_document, model.operation("DeleteUser"), {"x": 1}, "r", model.VERSION
        )

    def test_error(self):
        """
        An error is IAM's C{ErrorResponse}: C{Sender} for the caller's
        faults, C{Receiver} for ours; botocore reads code, message and
        request id.
        """
        document = serialize.error_document(errors.NoSuchEntity("gone"), "req-3")
        parsed = parse_answer("GetUser", document, 404)
        self.assertEqual(parsed["Error"], {"Type": "Sender", "Code": "NoSuchEntity", "Message": "gone"})
        self.assertEqual(parsed["ResponseMetadata"]["RequestId"], "req-3")
        root = etree.fromstring(serialize.error_document(shared.InternalError(), "req-4"))
        self.assertEqual(root.findtext(f"{{{model.NAMESPACE}}}Error/{{{model.NAMESPACE}}}Type"), "Receiver")


class AuthErrorTests(SynchronousTestCase):
    """
    L{errors.from_auth_error}: what a failed signature check answers.
    """

    def test_mapping(self):
        """
        Unknown or inactive keys, wrong signatures, unsigned requests,
        stale dates and the rest each have IAM's code.
        """
        cases = [
            (shared.InvalidAccessKeyId(), "InvalidClientTokenId", 403),
            (shared.SignatureDoesNotMatch(), "SignatureDoesNotMatch", 403),
            (AuthFailure("not signed"), "MissingAuthenticationToken", 403),
            (shared.RequestTimeTooSkewed(RequestTime="a", ServerTime="b"), "RequestExpired", 400),
            (PresignedUrlExpired(Expires="x"), "RequestExpired", 400),
            (shared.AuthorizationHeaderMalformed("bad scope"), "IncompleteSignature", 400),
        ]
        for error, code, status in cases:
            answer = errors.from_auth_error(error)
            self.assertEqual((answer.code, answer.http_status), (code, status), error)
        self.assertEqual(errors.from_auth_error(shared.AuthorizationHeaderMalformed("bad scope")).message, "bad scope")


def request_for(method, query=b"", body=b""):
    request = DummyRequest([])
    request.method = method
    request.uri = PATH.encode() + (b"?" + query if query else b"")
    request.path = PATH.encode()
    request.content = io.BytesIO(body)
    request.requestHeaders.setRawHeaders(b"host", [HOST.encode()])
    if body:
        request.requestHeaders.setRawHeaders(b"content-type", [FORM])
    return request


class ResourceTests(SynchronousTestCase):
    """
    L{iam_resource} in process, keys from a real account store read
    inline, a fixed clock.
    """

    def setUp(self):
        directory = os.path.abspath(self.mktemp())
        self.accounts = AccountStore("sqlite:///" + os.path.join(directory, "cloud.sqlite"))
        self.addCleanup(self.accounts.engine.dispose)
        self.key = self.accounts.create_account("eucalyptus")
        self.identities = Identities(self.accounts, lookup=inline)
        self.resource = iam_resource(self.accounts, self.identities, run_in_thread=inline, clock=lambda: NOW)

    def signed(self, params, method="POST"):
        params = dict(
            params,
            Version=model.VERSION,
            AWSAccessKeyId=self.key.access_key_id,
            SignatureVersion="2",
            SignatureMethod="HmacSHA256",
            Timestamp=TIMESTAMP,
        )
        text = ec2sigv2.string_to_sign(method, HOST, PATH, list(params.items()))
        params["Signature"] = ec2sigv2.sign(self.key.secret_key, text)
        return urlencode(params).encode()

    def render(self, request):
        self.resource.render(request)
        self.assertTrue(request.finished)
        root = etree.fromstring(b"".join(request.written))
        header = request.responseHeaders.getRawHeaders(b"x-amzn-requestid")[0].decode()
        return request.responseCode, root, header

    def test_sigv2_post_and_get(self):
        """
        Query SigV2 in a form body and in the query string; the answer's
        request id is the header's.
        """
        for request in (
            request_for(b"POST", body=self.signed({"Action": "CreateUser", "UserName": "ann"})),
            request_for(b"GET", query=self.signed({"Action": "GetUser", "UserName": "ann"}, "GET")),
        ):
            status, root, header = self.render(request)
            self.assertEqual(status, 200)
            parsed = parse_answer(root.tag.partition("}")[2][: -len("Response")], etree.tostring(root))
            self.assertEqual(parsed["User"]["UserName"], "ann")
            self.assertEqual(parsed["ResponseMetadata"]["RequestId"], header)

    def test_unsigned(self):
        """
        An unsigned request is C{MissingAuthenticationToken}, in an
        C{ErrorResponse} carrying the request id.
        """
        status, root, header = self.render(request_for(b"GET", query=b"Action=ListUsers&Version=2010-05-08"))
        ns = f"{{{model.NAMESPACE}}}"
        self.assertEqual((status, root.findtext(f"{ns}Error/{ns}Code")), (403, "MissingAuthenticationToken"))
        self.assertEqual(root.findtext(f"{ns}RequestId"), header)

    def test_unexpected_error(self):
        """
        An action that fails unexpectedly is logged and answered
        C{InternalError} (500, C{Receiver}), without the traceback.
        """
        def broken(context, params):
            raise RuntimeError("secret detail")

        self.resource.dispatcher.actions["ListUsers"] = broken
        status, root, _ = self.render(request_for(b"POST", body=self.signed({"Action": "ListUsers"})))
        ns = f"{{{model.NAMESPACE}}}"
        self.assertEqual((status, root.findtext(f"{ns}Error/{ns}Code")), (500, "InternalError"))
        self.assertEqual(root.findtext(f"{ns}Error/{ns}Type"), "Receiver")
        self.assertNotIn(b"secret detail", etree.tostring(root))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


class KeyCacheTests(SynchronousTestCase):
    """
    L{Identities.forget} and L{Directory.forget}: a key changed through
    IAM stops working at once in this process, not after the cache time.
    """

    def setUp(self):
        directory = os.path.abspath(self.mktemp())
        self.accounts = AccountStore("sqlite:///" + os.path.join(directory, "cloud.sqlite"))
        self.addCleanup(self.accounts.engine.dispose)
        self.key = self.accounts.create_account("alice")

    def test_forget(self):
        """
        A deactivated key is still cached as active until forgotten (or its
        time is up); every cache of the directory forgets it.
        """
        caches = [Identities(self.accounts, lookup=inline, clock=lambda: 0.0) for _ in range(2)]
        for cache in caches:
            self.assertEqual(self.successResultOf(cache.key_for(self.key.access_key_id)).status, "Active")
        self.accounts.set_key_status(self.key.account_id, "admin", self.key.access_key_id, "Inactive")
        self.assertEqual(caches[0]._secret_for(self.key.access_key_id), self.key.secret_key)
        Directory(self.accounts, caches, inline).forget(self.key.access_key_id)
        for cache in caches:
            self.assertEqual(self.successResultOf(cache.key_for(self.key.access_key_id)).status, "Inactive")
            self.assertIsNone(cache._secret_for(self.key.access_key_id))
