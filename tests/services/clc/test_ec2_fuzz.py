# -*- test-case-name: tests.services.clc.test_ec2_fuzz -*-
"""
Random EC2 Query requests, correctly signed with the administrators' key,
against a live Cloud Controller (and an in-process Walrus, so that image
registration reaches one): whatever the parameters, the answer is a
well-formed EC2 success or error document carrying its request id, and
never a server error.

The requests are made by L{hypothesis}: an action of
L{eucalyptus.services.clc.ec2.actions.ACTIONS} (or an unknown, unsupported
or missing one), its input shape from botocore's model walked with values
of the right type or not (huge numbers, unicode, control characters, very
long strings, base64 that is not), list members numbered with gaps or
badly, members left out, unknown and repeated parameters, and now and then
a form body that is not a form at all.  The examples are derandomized and
kept in no database, so every run sends the same requests.
"""

import base64
import http.client
import string
from urllib.parse import quote, urlencode, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import update
from twisted.internet import defer
from twisted.trial import unittest

from eucalyptus.services.clc import images
from eucalyptus.services.clc.ec2 import model, query
from eucalyptus.services.clc.ec2.actions import ACTIONS
from eucalyptus.services.clc.instances import STOPPED
from tests.services.clc.ec2_harness import LiveCloudController, error_of, in_thread
from tests.services.clc.test_authorization import RecordingClusterClient, enable_zone, insert_image, insert_instance
from tests.services.clc.test_images import CloudWalrus

__all__ = ["signed_request", "check_answer"]

#: How many requests the property sends.
EXAMPLES = 500

#: Actions the model has that this cloud does not do, names EC2 does not
#: have, and names in the wrong case.
_OTHER_ACTIONS = ["CreateVpc", "AllocateAddress", "LaunchRockets", "describeregions", "DESCRIBEINSTANCES", "",
                  "Describe Regions", "DescribeRegions\x00", "\u00e9t\u00e9"]

_VERSIONS = [model.LATEST_VERSION, model.FIRST_VERSION, "2014-06-15", "", "2006-10-01", "2099-01-01", "9999-99-99",
             "latest", "2016-11-15 ", "2016-11-15\x00", "\u0662\u0660\u0661\u0666-11-15"]

#: Values that mean something to some action.
_MEANINGFUL = ["", "verbose", "default", "self", "all", "true", "false", "TRUE", "null", "None", "NaN", "inf", "-inf",
               "-1", "0", "1", "1e400", "0x10", "   ", "i-0badf00d", "i-", "emi-00000001", "EMI-ABCDEF01",
               "eki-0123456789abcdef0", "ami-12345678", "sg-00000000", "sg-", "key-0123456789abcdef0", "r-00000000",
               "m1.small", "east", "tcp", "icmp", "-1", "0.0.0.0/0", "10.0.0.0/33", "::/0", "instance",
               "launchPermission", "instanceType", "userData", "bucket/x.manifest.xml", "/x.manifest.xml",
               "bucket/../x.manifest.xml", "tag:Name", "tag-key", "instance-state-name", "owner-id", "*", "?",
               "%", "&", "=", "+", "2016-11-15T12:00:00Z", "not-a-date", "AAAA", "====", "aGVsbG8=", "\x00", "\x01",
               "\ufffe", "\uffff", "\U0010ffff", "\u202e", "a\nb", "\r\n", "<x/>", "]]>", "&amp;", "'\"",
               "000000000000", "123456789012", "1234567890123"]

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)

#: Values of any parameter, whatever its type.
_JUNK = st.one_of(
    st.sampled_from(_MEANINGFUL),
    _TEXT,
    st.integers(-(10**40), 10**40).map(str),
    st.integers(1, 6).map(lambda n: "x" * (3000 * n)),
    st.lists(st.sampled_from(_MEANINGFUL), min_size=1, max_size=40).map(",".join),
)

#: Values of the right type, by botocore type name.
_TYPED = {
    "string": st.one_of(st.sampled_from(_MEANINGFUL), st.text(string.ascii_letters + string.digits + "-._:/",
                                                              max_size=20)),
    "integer": st.one_of(st.integers(-5, 70000), st.integers(-(2**70), 2**70)).map(str),
    "long": st.integers(-(2**70), 2**70).map(str),
    "boolean": st.sampled_from(["true", "false", "True", "FALSE"]),
    "float": st.floats(allow_nan=True, allow_infinity=True).map(repr),
    "double": st.floats(allow_nan=True, allow_infinity=True).map(repr),
    "timestamp": st.datetimes(timezones=st.sampled_from([None])).map(lambda d: d.isoformat() + "Z"),
    "blob": st.binary(max_size=48).map(lambda b: base64.b64encode(b).decode("ascii")),
}

#: Values of members of these names that make a request go further (a
#: launch of the image the administrators have, with counts it can take).
_HINTS = {
    "ImageId": st.sampled_from(["emi-00000001", "emi-00000001", "eki-00000001", "emi-0badf00d"]),
    "MinCount": st.sampled_from(["1", "1", "2", "0", "3"]),
    "MaxCount": st.sampled_from(["1", "2", "2", "5", "0"]),
    "InstanceType": st.sampled_from(["m1.small", "m1.small", "c1.medium", "t2.micro"]),
    "KeyName": st.sampled_from(["k", "mine", "default"]),
    "GroupName": st.sampled_from(["default", "g"]),
    "InstanceId": st.sampled_from(["i-00000001", "i-00000002", "i-0badf00d", "verbose"]),
    "ResourceId": st.sampled_from(["i-00000001", "emi-00000001", "i-0badf00d", "sg-0badf00d"]),
}

#: Names of parameters no action has, or not like that.
_UNKNOWN_NAMES = ["Foo", "Filter.1.Value.2.Extra", "Filter.0.Name", "X-Amz-Foo", "Action.1", "DryRun.1", "MaxResults",
                  "InstanceId.1.Name", ".", "..", "a..b", "Filter.1.", ""]

#: List member numbers, good and bad.
_INDICES = ["1", "2", "3", "5", "17", "999999999", "1000000000", "0", "01", "-1", "x", "", "1.5", "\u0661"]

_MAX_DEPTH = 4

#: The longest query sent in a URL (twisted.web reads request lines of up
#: to 16 KiB).
_MAX_QUERY = 8000


def _odd(draw, chaos):
    """
    Whether to do something odd here: never at chaos 0, more often the
    higher it is (up to 3).
    """
    return chaos > 0 and draw(st.integers(0, 12)) < chaos * chaos


def _flat(draw, shape, name, depth, out, chaos):
    """
    Draw flat parameters for C{shape} at C{name} (empty: the input itself)
    into C{out}: as botocore would name and type them at C{chaos} 0, with
    more and more that is wrong as it grows.
    """
    kind = shape.type_name
    if name and _odd(draw, chaos - 1):
        # A scalar where a structure or list goes, or members below a scalar.
        out.append((name if kind in ("structure", "list") else f"{name}.Member", draw(_JUNK)))
        return
    if kind == "structure":
        if depth >= _MAX_DEPTH:
            return
        members = sorted(shape.members)
        wire = query.wire_names(shape)
        chosen = draw(st.lists(st.sampled_from(members), max_size=min(4, len(members)), unique=True)) if members else []
        required = [] if _odd(draw, chaos) else [m for m in shape.required_members if m not in chosen]
        required += [m for m in members if m in _HINTS and m not in chosen + required and draw(st.integers(0, 3))]
        for member in required + chosen:
            if member == "DryRun" and draw(st.integers(0, 3)):
                # Mostly left out: it stops the request before the action.
                continue
            _flat(draw, shape.members[member], f"{name}.{wire[member]}" if name else wire[member], depth + 1, out,
                  chaos)
    elif kind == "list":
        if depth >= _MAX_DEPTH:
            return
        count = draw(st.integers(0, 3))
        indices = draw(st.lists(st.sampled_from(_INDICES), min_size=count, max_size=count, unique=True)) \
            if _odd(draw, chaos) else [str(n) for n in range(1, count + 1)]
        for index in indices:
            _flat(draw, shape.member, f"{name}.{index}", depth + 1, out, chaos)
    else:
        parent, _, last = name.rpartition(".")
        hint = _HINTS.get(parent.rpartition(".")[2] if last.isdigit() else last)
        out.append((name, draw(_JUNK if _odd(draw, chaos) else hint if hint is not None else _TYPED.get(kind, _TEXT))))


@st.composite
def requests(draw):
    """
    A random request: C{(action sent or None, method, parameters as a list
    of pairs, or a raw body)}.
    """
    chaos = draw(st.integers(0, 3))
    if _odd(draw, chaos - 2):
        body = draw(st.one_of(
            st.binary(max_size=200),
            st.sampled_from([b"%", b"%zz", b"a=%ff%fe", b"&&&==&", b"=", b"Action",
                             b"Action=DescribeRegions&Version=2016-11-15&%C0%80=1",
                             b"Action=DescribeRegions&Version=2016-11-15&Name=%ED%A0%80"]),
        ))
        return None, "POST", body
    action = draw(st.sampled_from(_OTHER_ACTIONS if _odd(draw, chaos - 1) else sorted(ACTIONS)))
    pairs = []
    if action or draw(st.booleans()):
        pairs.append(("Action", action))
    if not _odd(draw, chaos - 1):
        pairs.append(("Version", draw(st.sampled_from([model.LATEST_VERSION, model.FIRST_VERSION]))))
    else:
        version = draw(st.sampled_from(_VERSIONS))
        if version or draw(st.booleans()):
            pairs.append(("Version", version))
    operation = model.operation(action)
    if operation is not None and operation.input_shape is not None:
        _flat(draw, operation.input_shape, "", 0, pairs, chaos)
    while _odd(draw, chaos - 1):
        name = draw(st.one_of(st.sampled_from(_UNKNOWN_NAMES), _TEXT))
        pairs.append((name, draw(_JUNK)))
    if pairs and _odd(draw, chaos - 1):
        name, value = draw(st.sampled_from(pairs))
        pairs.append((name, draw(st.one_of(st.just(value), _JUNK))))
    if draw(st.booleans()):
        pairs = draw(st.permutations(pairs))
    method = draw(st.sampled_from(["POST", "POST", "GET"]))
    return action, method, pairs


def signed_request(live, method, params, body=None):
    """
    Send one request signed with SigV4 by botocore (blocking).

    @param params: C{(name, value)} pairs: the form body of a C{POST}, the
        query of a C{GET}.
    @param body: raw bytes to C{POST} instead.
    @return: C{(status, headers, body)}.
    """
    url = live.ec2_url
    headers = {}
    if body is None:
        encoded = urlencode(params, quote_via=quote, safe="-_.~")
        if method == "GET" and len(encoded) > _MAX_QUERY:
            # A request line longer than the HTTP server reads is dropped
            # before it is an EC2 request at all; as clients do, send it as
            # a form instead.
            method = "POST"
        if method == "GET":
            url, body = f"{url}?{encoded}", b""
        else:
            body = encoded.encode("ascii")
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(live.key.access_key_id, live.key.secret_key), "ec2", "eucalyptus").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(prepared.headers, Connection="close")
        connection.request(method, target, body=prepared.body or None, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def check_answer(action, status, headers, body):
    """
    Check that an answer is a well-formed EC2 document with its request id.

    @param action: the C{Action} sent, or L{None} if not known.
    @raise AssertionError: it is not, or it is a server error.
    """
    request_id = headers.get("x-amzn-requestid")
    assert request_id, f"no x-amzn-requestid: {status} {headers} {body[:500]!r}"
    assert status < 500, f"server error {status}: {body[:2000]!r}"
    assert headers.get("content-type", "").startswith("text/xml"), headers
    root = etree.fromstring(body)
    if status == 200:
        name = etree.QName(root)
        assert name.namespace.startswith("http://ec2.amazonaws.com/doc/"), name
        if action is not None:
            assert name.localname == f"{action}Response", (action, name)
        assert root.findtext(f"{{{name.namespace}}}requestId") == request_id, body[:500]
    else:
        assert 400 <= status < 500, status
        assert root.tag == "Response", body[:500]
        (error,) = root.findall("Errors/Error")
        assert error.findtext("Code"), body[:500]
        assert error.find("Message") is not None, body[:500]
        assert root.findtext("RequestID") == request_id, body[:500]


class RandomRequestTests(unittest.TestCase):
    """
    Random signed requests to a live Cloud Controller.
    """

    timeout = 240

    @defer.inlineCallbacks
    def setUp(self):
        self.live = LiveCloudController(self)
        yield CloudWalrus(self, self.live.settings).start()
        # The zone is up as far as the CLC knows, with room for two more
        # instances, and its CC starts what it is asked to: a launch is
        # refused for what it asks, never for a zone that is down (a 503
        # that would say nothing about the request).  The administrators
        # have a kernel and a machine image to launch.
        enable_zone(self.live, 2, RecordingClusterClient())
        db, admin = self.live.service.cloud.db, self.live.key.account_id
        insert_image(db, "eki-00000001", admin, kind="kernel", public=True)
        insert_image(db, "emi-00000001", admin, kernel_id="eki-00000001")
        insert_instance(db, "i-00000001", admin, "emi-00000001")
        insert_instance(db, "i-00000002", admin, "emi-00000001", state=STOPPED)
        self.seen = {}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(requests())
    def _random_request(self, request):
        """
        Send one random request and check its answer (blocking); count the
        answers by code in C{self.seen}.
        """
        action, method, params = request
        # Each request starts with the images there to launch (an earlier
        # one may have deregistered them).
        with self.live.service.cloud.db.begin() as conn:
            conn.execute(update(images.images).values(state=images.AVAILABLE))
        if isinstance(params, bytes):
            status, headers, body = signed_request(self.live, method, None, params)
        else:
            status, headers, body = signed_request(self.live, method, params)
        check_answer(action, status, headers, body)
        key = "success" if status == 200 else etree.fromstring(body).findtext("Errors/Error/Code")
        self.seen[key] = self.seen.get(key, 0) + 1

    @defer.inlineCallbacks
    def test_random_requests(self):
        """
        Every random request is answered with a success or error document
        and its request id, never with a server error; the answers are
        not all the same refusal; and the cloud still answers ordinary
        requests afterwards.
        """
        yield in_thread(self._random_request)
        self.assertGreater(len(self.seen), 5, self.seen)
        self.assertIn("success", self.seen)
        client = self.live.client()
        self.addCleanup(client.close)
        answer = yield in_thread(client.describe_regions)
        self.assertEqual([r["RegionName"] for r in answer["Regions"]], ["eucalyptus"])
        yield in_thread(client.create_key_pair, KeyName="after-the-fuzz")
        answer = yield in_thread(client.describe_key_pairs, KeyNames=["after-the-fuzz"])
        self.assertEqual([k["KeyName"] for k in answer["KeyPairs"]], ["after-the-fuzz"])

    @defer.inlineCallbacks
    def test_unrepresentable_text(self):
        """
        Names and values holding characters XML cannot carry (NUL, other
        control characters, U+FFFE) are refused in an error document that
        can be read, and an action that would have to echo them never
        stores them.
        """
        client = self.live.client()
        self.addCleanup(client.close)
        for params in (
            [("Action", "DescribeRegions"), ("Version", model.LATEST_VERSION), ("Bad\x01Name", "x")],
            [("Action", "DescribeRegions"), ("Version", "\x00")],
            [("Action", "Launch\x07Rockets"), ("Version", model.LATEST_VERSION)],
            [("Action", "CreateSecurityGroup"), ("Version", model.LATEST_VERSION), ("GroupName", "g\x01"),
             ("GroupDescription", "d")],
            [("Action", "CreateTags"), ("Version", model.LATEST_VERSION), ("ResourceId.1", "sg-00000000"),
             ("Tag.1.Key", "k"), ("Tag.1.Value", "\ufffe")],
        ):
            status, headers, body = yield in_thread(signed_request, self.live, "POST", params)
            check_answer(None, status, headers, body)
            self.assertEqual(status, 400, body)
        group = yield in_thread(client.create_security_group, GroupName="g", Description="d")
        params = [("Action", "CreateTags"), ("Version", model.LATEST_VERSION), ("ResourceId.1", group["GroupId"]),
                  ("Tag.1.Key", "k\x1b"), ("Tag.1.Value", "v")]
        status, headers, body = yield in_thread(signed_request, self.live, "POST", params)
        check_answer(None, status, headers, body)
        self.assertEqual(status, 400, body)
        answer = yield in_thread(client.describe_tags)
        self.assertEqual(answer["Tags"], [])


class LaunchBoundsTests(unittest.TestCase):
    """
    C{RunInstances} counts at the edges of what the zone can take.
    """

    timeout = 60

    def setUp(self):
        self.live = LiveCloudController(self)
        self.client = self.live.client()
        self.addCleanup(self.client.close)
        self.cc = RecordingClusterClient()
        enable_zone(self.live, 2, self.cc)
        db, admin = self.live.service.cloud.db, self.live.key.account_id
        insert_image(db, "eki-00000001", admin, kind="kernel", public=True)
        insert_image(db, "emi-00000001", admin, kernel_id="eki-00000001")

    @defer.inlineCallbacks
    def test_huge_max_count(self):
        """
        A C{MaxCount} far beyond the zone's room asks the zone for no more
        instances than it has room for (instead of writing a row for each
        one asked), and the reservation holds what was started.
        """
        answer = yield in_thread(self.client.run_instances, ImageId="emi-00000001", MinCount=1, MaxCount=2**62)
        ((operation, request),) = self.cc.calls
        self.assertEqual(operation, "RunInstances")
        self.assertLessEqual(len(request.instanceIds), 2)
        self.assertEqual(request.maxCount, len(request.instanceIds))
        self.assertEqual(len(answer["Instances"]), 1)

    @defer.inlineCallbacks
    def test_refusals(self):
        """
        What cannot be launched is refused before the zone's CC is asked:
        no image; a minimum beyond the room of the zone, whether chosen or
        asked for; a zone that is not enabled, or that does not exist.
        """
        for params, code, status in (
            (dict(MinCount=1, MaxCount=1), "MissingParameter", 400),
            (dict(ImageId="emi-00000001", MinCount=3, MaxCount=3), "InsufficientInstanceCapacity", 400),
            (dict(ImageId="emi-00000001", MinCount=2**62, MaxCount=2**62, Placement={"AvailabilityZone": "east"}),
             "InsufficientInstanceCapacity", 400),
            (dict(ImageId="emi-00000001", MinCount=1, MaxCount=1, Placement={"AvailabilityZone": "west"}),
             "InvalidParameterValue", 400),
        ):  # fmt: skip
            error = yield in_thread(error_of, self.client.run_instances, **params)
            self.assertEqual(error[:2], (code, status), params)
        self.live.service.cloud.clusters["east"].state = "NOTREADY"
        error = yield in_thread(error_of, self.client.run_instances, ImageId="emi-00000001", MinCount=1, MaxCount=1,
                                Placement={"AvailabilityZone": "east"})  # fmt: skip
        self.assertEqual(error[:2], ("Unavailable", 503))
        self.assertEqual(self.cc.calls, [])
