"""
Tests for L{eucalyptus.services.clc.ec2soap.shapes}, L{..wsdl} and the
routing of EC2 SOAP requests, without a network.
"""

import io
from datetime import datetime, timezone

import zeep
from lxml import etree
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.test.requesthelper import DummyRequest

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2 import model, serialize
from eucalyptus.services.clc.ec2.actions import ACTIONS
from eucalyptus.services.clc.ec2.errors import MissingParameter, UnknownParameter
from eucalyptus.services.clc.ec2.resource import SoapOrQueryResource
from eucalyptus.services.clc.ec2soap import shapes, wsdl
from eucalyptus.services.clc.ec2soap.resource import is_ec2_soap, is_ec2_wsdl

NS = model.namespace(model.LATEST_VERSION)
BINDING = f"{{{NS}}}AmazonEC2Binding"
EC2_ENVELOPE = (
    f'<s:Envelope xmlns:s="{shapes.SOAP_ENV}"><s:Header/>'
    f'<s:Body><DescribeRegions xmlns="{NS}"/></s:Body></s:Envelope>'
)
INTERNAL_ENVELOPE = (
    f'<s:Envelope xmlns:s="{shapes.SOAP_ENV}">'
    '<s:Body><x xmlns="http://eucalyptus.ucsb.edu/"/></s:Body></s:Envelope>'
)


def _request(action, xml_members=""):
    return etree.fromstring(f'<{action} xmlns="{NS}">{xml_members}</{action}>')


def _parse(action, xml_members=""):
    return shapes.parse_input(model.operation(action), {shapes.REQUEST: _request(action, xml_members)})


def _post(body, headers=()):
    request = DummyRequest([])
    request.method = b"POST"
    request.uri = b"/services/Eucalyptus"
    request.content = io.BytesIO(body)
    for name, value in headers:
        request.requestHeaders.addRawHeader(name, value)
    return request


class ParseInputTests(SynchronousTestCase):
    """
    L{shapes.parse_input}: request elements to action inputs.
    """

    def test_round_trip(self):
        """
        What the response writer's rules write from an input, the parser
        reads back: nested structures, lists, integers, booleans,
        timestamps.
        """
        operation = model.operation("RunInstances")
        value = {
            "ImageId": "emi-12345678",
            "MinCount": 1,
            "MaxCount": 2,
            "KeyName": "k",
            "SecurityGroups": ["default", "web"],
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8, "DeleteOnTermination": True}}
            ],
            "DryRun": False,
        }
        element = etree.Element(f"{{{NS}}}RunInstances")
        serialize.write_members(element, operation.input_shape, value, NS, "RunInstances")
        self.assertEqual(shapes.parse_input(operation, {shapes.REQUEST: element}), value)
        moment = datetime(2016, 11, 15, 12, tzinfo=timezone.utc)
        element = etree.Element(f"{{{NS}}}DescribeSpotPriceHistory")
        serialize.write_members(
            element, model.operation("DescribeSpotPriceHistory").input_shape, {"StartTime": moment}, NS, "x"
        )
        parsed = shapes.parse_input(model.operation("DescribeSpotPriceHistory"), {shapes.REQUEST: element})
        self.assertEqual(parsed, {"StartTime": moment})

    def test_zeep_request(self):
        """
        What zeep writes from the WSDL is what the parser reads.
        """
        client = zeep.Client(wsdl.PATH)
        service = client.create_service(BINDING, "http://localhost/")
        envelope = client.create_message(
            service, "DescribeRegions", RegionName={"RegionName": ["a", "b"]}, AllRegions=True,
            Filter={"Filter": [{"Name": "region-name", "Value": {"item": ["a"]}}]},
        )  # fmt: skip
        body = envelope.find(f"{{{shapes.SOAP_ENV}}}Body")[0]
        parsed = shapes.parse_input(model.operation("DescribeRegions"), {shapes.REQUEST: body})
        filters = [{"Name": "region-name", "Values": ["a"]}]
        self.assertEqual(parsed, {"RegionNames": ["a", "b"], "AllRegions": True, "Filters": filters})

    def test_refusals(self):
        """
        Unknown elements, wrong values, repeats and missing required
        members are refused with EC2's codes.
        """
        self.assertRaises(UnknownParameter, _parse, "DescribeRegions", "<Bogus/>")
        self.assertRaises(InvalidParameterValue, _parse, "DescribeRegions", "<AllRegions>maybe</AllRegions>")
        self.assertRaises(
            InvalidParameterValue, _parse, "DescribeRegions", "<AllRegions>true</AllRegions><AllRegions>1</AllRegions>"
        )
        self.assertRaises(UnknownParameter, _parse, "DescribeRegions", "<RegionName><item>a</item></RegionName>")
        self.assertRaises(MissingParameter, _parse, "CreateKeyPair")
        self.assertEqual(_parse("CreateKeyPair", "<KeyName>k</KeyName>"), {"KeyName": "k"})

    def test_other_namespace(self):
        """
        A member element in another namespace is not a member.
        """
        element = etree.fromstring(f'<DescribeRegions xmlns="{NS}"><x:AllRegions xmlns:x="urn:x">true</x:AllRegions>'
                                   "</DescribeRegions>")  # fmt: skip
        self.assertRaises(
            UnknownParameter, shapes.parse_input, model.operation("DescribeRegions"), {shapes.REQUEST: element}
        )


class EnvelopeTests(SynchronousTestCase):
    """
    L{shapes.response_envelope} and L{shapes.fault_envelope}.
    """

    def test_response(self):
        """
        The response element of the Query API, in a SOAP body.
        """
        document = shapes.response_envelope(
            model.operation("DescribeRegions"), {"Regions": [{"RegionName": "r"}]}, "id-1", model.LATEST_VERSION
        )
        response = etree.fromstring(document)[0][0]
        self.assertEqual(response.tag, f"{{{NS}}}DescribeRegionsResponse")
        self.assertEqual(response.findtext(f"{{{NS}}}requestId"), "id-1")
        self.assertEqual(response.findtext(f"{{{NS}}}regionInfo/{{{NS}}}item/{{{NS}}}regionName"), "r")

    def test_fault(self):
        """
        A fault's code is EC2's after C{Client.} or C{Server.}.
        """
        fault = etree.fromstring(shapes.fault_envelope(MissingParameter("no"), "id-2"))[0][0]
        self.assertEqual(fault.findtext("faultcode"), "Client.MissingParameter")
        self.assertEqual(fault.findtext("faultstring"), "no")
        self.assertEqual(fault.findtext("detail/RequestID"), "id-2")


class WsdlTests(SynchronousTestCase):
    """
    L{wsdl}: the checked-in WSDL.
    """

    def test_golden(self):
        """
        The checked-in WSDL is the one generated from the model for the
        actions this cloud answers (regenerate it with C{python -m
        eucalyptus.services.clc.ec2soap.wsdl --write}).
        """
        self.assertTrue(
            wsdl.generate(ACTIONS) == wsdl.checked_in(),
            "eucalyptus/wsdl/ec2.wsdl is not the WSDL of ACTIONS: regenerate it with "
            "python -m eucalyptus.services.clc.ec2soap.wsdl --write",
        )

    def test_zeep_loads(self):
        """
        zeep reads it, and finds one document/literal operation per action.
        """
        client = zeep.Client(wsdl.PATH)
        binding = client.wsdl.bindings[BINDING]
        self.assertEqual(sorted(binding._operations), sorted(ACTIONS))
        self.assertEqual(binding._operations["DescribeRegions"].soapaction, "DescribeRegions")
        self.assertEqual(binding._operations["DescribeRegions"].style, "document")


class RoutingTests(SynchronousTestCase):
    """
    L{is_ec2_soap}, L{is_ec2_wsdl} and L{SoapOrQueryResource}.
    """

    def test_is_ec2_soap(self):
        """
        A POSTed envelope whose body element is in an EC2 namespace is EC2
        SOAP, with or without a header; the internal SOAP service's and
        other documents are not; the body is left unread.
        """
        ec2 = EC2_ENVELOPE
        internal = INTERNAL_ENVELOPE
        request = _post(ec2.encode(), [(b"soapaction", b"DescribeRegions")])
        self.assertTrue(is_ec2_soap(request))
        self.assertEqual(request.content.read(), ec2.encode())
        self.assertTrue(is_ec2_soap(_post(ec2.replace("<s:Header/>", "").encode())))
        for body in (internal.encode(), b"<x/>", b"Action=DescribeRegions", b"<<<"):
            self.assertFalse(is_ec2_soap(_post(body)))

    def test_routes(self):
        """
        EC2 SOAP goes to the EC2 SOAP resource, other SOAP to the SOAP
        resource.
        """

        class Named:
            def __init__(self, name):
                self.name = name

            def render(self, request):
                return self.name

        resource = SoapOrQueryResource(Named(b"soap"), Named(b"query"), Named(b"ec2"))
        ec2 = EC2_ENVELOPE
        internal = INTERNAL_ENVELOPE
        headers = [(b"content-type", b"text/xml")]
        self.assertEqual(resource.render(_post(ec2.encode(), headers)), b"ec2")
        self.assertEqual(resource.render(_post(internal.encode(), headers)), b"soap")
        wsdl_request = DummyRequest([])
        wsdl_request.uri = b"/services/Eucalyptus?wsdl=ec2"
        self.assertTrue(is_ec2_wsdl(wsdl_request))
        self.assertEqual(resource.render(wsdl_request), b"ec2")
