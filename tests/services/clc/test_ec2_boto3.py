# -*- test-case-name: tests.services.clc.test_ec2_boto3 -*-
"""
The EC2 Query API of a live Cloud Controller driven by boto3 (SigV4, SigV2,
presigned URLs) and by hand-signed requests, over real HTTP on loopback.
"""

import http.client
import urllib.request
from urllib.parse import urlencode, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from lxml import etree
from twisted.internet import defer, reactor
from twisted.trial import unittest

from eucalyptus import admin
from eucalyptus.services.clc import service as clc
from eucalyptus.services.clc.clusters import Resources
from tests.services.clc.ec2_harness import LiveCloudController, error_of, in_thread


def signed_post(live, params, url=None):
    """
    POST C{params} as a form, signed with SigV4 by botocore, and read the
    answer.

    @return: C{(status, document root, x-amzn-requestid)}.
    """
    url = url or live.ec2_url
    request = AWSRequest(
        method="POST",
        url=url,
        data=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(live.key.access_key_id, live.key.secret_key), "ec2", "eucalyptus").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    try:
        headers = dict(prepared.headers, Connection="close")
        connection.request("POST", parts.path or "/", body=prepared.body, headers=headers)
        response = connection.getresponse()
        return response.status, etree.fromstring(response.read()), response.getheader("x-amzn-requestid")
    finally:
        connection.close()


class Boto3Tests(unittest.TestCase):
    """
    boto3 against the CLC's site.
    """

    timeout = 120

    def setUp(self):
        self.live = LiveCloudController(self)
        self.endpoint = f"http://127.0.0.1:{self.live.settings['CLC_PORT']}/services/Eucalyptus"

    @defer.inlineCallbacks
    def test_describe_regions(self):
        """
        SigV4 at C{/services/Eucalyptus}: one region at the CLC's EC2 URL
        (the C{EC2_URL} of the eucarc); the request id of the document is
        the C{x-amzn-requestid} header.
        """
        answer = yield in_thread(self.live.client().describe_regions)
        self.assertEqual(
            answer["Regions"],
            [{"RegionName": "eucalyptus", "Endpoint": self.endpoint, "OptInStatus": "opt-in-not-required"}],
        )
        metadata = answer["ResponseMetadata"]
        self.assertEqual(metadata["RequestId"], metadata["HTTPHeaders"]["x-amzn-requestid"])
        self.assertEqual(len(metadata["RequestId"]), 36)

    @defer.inlineCallbacks
    def test_root_path(self):
        """
        The API answers at C{/} of the CLC's site too.
        """
        answer = yield in_thread(self.live.client(endpoint=self.live.url + "/").describe_availability_zones)
        self.assertEqual([zone["ZoneName"] for zone in answer["AvailabilityZones"]], ["east"])

    @defer.inlineCallbacks
    def test_describe_availability_zones(self):
        """
        The configured zone, unavailable until its cluster answers, then
        available; names and filters select it.
        """
        client = self.live.client()
        answer = yield in_thread(client.describe_availability_zones)
        self.assertEqual([z["State"] for z in answer["AvailabilityZones"]], ["unavailable"])
        self.live.service.cloud.clusters["east"].state = "ENABLED"
        answer = yield in_thread(
            client.describe_availability_zones,
            ZoneNames=["east"],
            Filters=[{"Name": "state", "Values": ["available"]}, {"Name": "region-name", "Values": ["euca*"]}],
        )
        (zone,) = answer["AvailabilityZones"]
        self.assertEqual((zone["ZoneName"], zone["State"], zone["RegionName"]), ("east", "available", "eucalyptus"))
        answer = yield in_thread(
            client.describe_availability_zones, Filters=[{"Name": "zone-name", "Values": ["west"]}]
        )
        self.assertEqual(answer["AvailabilityZones"], [])
        error = yield in_thread(error_of, client.describe_availability_zones, ZoneNames=["west"])
        self.assertEqual(error[:2], ("InvalidParameterValue", 400))

    @defer.inlineCallbacks
    def test_verbose_zones(self):
        """
        An administrator asking for C{verbose} zones gets Eucalyptus's
        listing: the zone, then per VM type the free and maximum counts
        the cluster last reported, and the type's figures.
        """
        cluster = self.live.service.cloud.clusters["east"]
        cluster.state = "ENABLED"
        cluster.resources = {"m1.small": Resources(available=3, maximum=8)}
        answer = yield in_thread(self.live.client().describe_availability_zones, ZoneNames=["verbose"])
        listing = {z["ZoneName"]: z["State"] for z in answer["AvailabilityZones"]}
        self.assertEqual(listing["east"], "available")
        self.assertEqual(listing["|- vm types"], "free / max   cpu   ram  disk")
        self.assertEqual(listing["|- m1.small"].split()[:3], ["0003", "/", "0008"])
        self.assertEqual(listing["|- m1.large"].split()[:3], ["0000", "/", "0000"])

    @defer.inlineCallbacks
    def test_sigv2(self):
        """
        A client signing with SigV2 (C{SignatureVersion=2}, C{HmacSHA256}
        in the form body) is answered.
        """
        client = self.live.client(signature_version="v2")
        sent = []
        client.meta.events.register("before-send", lambda request, **kwargs: sent.append(request.body))
        answer = yield in_thread(client.describe_regions, RegionNames=["eucalyptus"])
        self.assertEqual(len(answer["Regions"]), 1)
        self.assertIn("SignatureVersion=2", sent[0])
        self.assertIn("SignatureMethod=HmacSHA256", sent[0])

    @defer.inlineCallbacks
    def test_presigned(self):
        """
        SigV4 presigned URLs are answered: for C{GET} when asked, and for
        the action's own method, C{POST} (with an empty body), by default.
        """
        client = self.live.client()

        def fetch(method):
            url = client.generate_presigned_url(
                "describe_regions", Params={"RegionNames": ["eucalyptus"]}, HttpMethod=method
            )
            self.assertIn("X-Amz-Signature=", url)
            request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
            with urllib.request.urlopen(request) as response:
                return response.status, response.read()

        for method in ("GET", "POST"):
            status, body = yield in_thread(fetch, method)
            self.assertEqual(status, 200)
            self.assertEqual(etree.fromstring(body).findtext("{*}regionInfo/{*}item/{*}regionName"), "eucalyptus")

    @defer.inlineCallbacks
    def test_wrong_secret(self):
        """
        A request signed with the wrong secret is C{AuthFailure} (401) with
        a request id; the server goes on answering.
        """
        error = yield in_thread(error_of, self.live.client(secret="not-the-secret").describe_regions)
        code, status, _, request_id, header = error
        self.assertEqual((code, status), ("AuthFailure", 401))
        self.assertEqual(request_id, header)
        error = yield in_thread(error_of, self.live.client(secret="x", signature_version="v2").describe_regions)
        self.assertEqual(error[:2], ("AuthFailure", 401))
        answer = yield in_thread(self.live.client().describe_regions)
        self.assertEqual(len(answer["Regions"]), 1)

    @defer.inlineCallbacks
    def test_skewed_clock(self):
        """
        A request dated far from the server's clock is C{RequestExpired}.
        """
        self.live.service.ec2.clock = lambda: 0.0
        error = yield in_thread(error_of, self.live.client().describe_regions)
        self.assertEqual(error[:2], ("RequestExpired", 400))

    @defer.inlineCallbacks
    def test_unsupported_and_dry_run(self):
        """
        An EC2 action this cloud does not do yet is C{UnsupportedOperation};
        C{DryRun} of one it does is C{DryRunOperation} (412); an unknown
        region is C{InvalidParameterValue}.
        """
        client = self.live.client()
        error = yield in_thread(error_of, client.describe_vpcs)
        self.assertEqual(error[:2], ("UnsupportedOperation", 400))
        self.assertIn("DescribeVpcs", error[2])
        error = yield in_thread(error_of, client.describe_regions, DryRun=True)
        self.assertEqual(error[:2], ("DryRunOperation", 412))
        error = yield in_thread(error_of, client.describe_regions, RegionNames=["us-east-1"])
        self.assertEqual(error[:2], ("InvalidParameterValue", 400))
        self.assertIn("us-east-1", error[2])

    @defer.inlineCallbacks
    def test_hand_signed_errors(self):
        """
        Signed requests boto3 would not send: an unknown action is
        C{InvalidAction}, a value of the wrong type C{InvalidParameterValue}
        naming it, an unknown parameter C{UnknownParameter}, an unanswered
        version C{NoSuchVersion}; each with its request id.
        """
        for params, code, word in (
            ({"Action": "LaunchRockets", "Version": "2016-11-15"}, "InvalidAction", "LaunchRockets"),
            (
                {"Action": "DescribeRegions", "Version": "2016-11-15", "DryRun": "maybe"},
                "InvalidParameterValue",
                "DryRun",
            ),
            ({"Action": "DescribeRegions", "Version": "2016-11-15", "Colour": "red"}, "UnknownParameter", "Colour"),
            ({"Action": "DescribeRegions", "Version": "2006-10-01"}, "NoSuchVersion", "2006-10-01"),
        ):
            status, root, header = yield in_thread(signed_post, self.live, params)
            self.assertEqual((status, root.findtext("Errors/Error/Code")), (400, code))
            self.assertIn(word, root.findtext("Errors/Error/Message"))
            self.assertEqual(root.findtext("RequestID"), header)

    @defer.inlineCallbacks
    def test_old_version(self):
        """
        A request naming an old API version is answered in that version's
        namespace.
        """
        params = {"Action": "DescribeRegions", "Version": "2009-11-30"}
        status, root, _ = yield in_thread(signed_post, self.live, params)
        self.assertEqual(status, 200)
        self.assertEqual(etree.QName(root).namespace, "http://ec2.amazonaws.com/doc/2009-11-30/")

    @defer.inlineCallbacks
    def test_soap_still_served(self):
        """
        The CLC's signed SOAP C{DescribeServices} is still answered at
        C{/services/Eucalyptus}, next to the Query API.
        """
        statuses = yield admin.describe_services(self.live.settings, "clc", self.live.ec2_url, reactor)
        self.assertEqual([s.localState for s in statuses], ["ENABLED"])


class ServiceTests(unittest.TestCase):
    """
    The CLC service as C{euca-clc} runs it, listening on its own port.
    """

    timeout = 60

    @defer.inlineCallbacks
    def test_listening(self):
        """
        Started, the service answers the Query API at its configured port.
        """
        live = LiveCloudController(self)
        service = clc.make_service(live.settings)
        service.startService()
        self.addCleanup(service.stopService)
        live.ec2_url = f"http://127.0.0.1:{live.settings['CLC_PORT']}/services/Eucalyptus"
        status, root, _ = yield in_thread(signed_post, live, {"Action": "DescribeRegions", "Version": "2016-11-15"})
        self.assertEqual(status, 200)
        self.assertEqual(root.findtext("{*}regionInfo/{*}item/{*}regionEndpoint"), live.ec2_url)
