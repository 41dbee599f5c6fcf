"""
Tests for L{eucalyptus.services.walrus.cors}: parsing CORS configurations,
rendering them, and answering preflight and actual requests.
"""

import json

from lxml import etree
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.services.walrus import cors
from eucalyptus.services.walrus.errors import CORSBadRequest, CORSForbidden, InvalidRequest, MalformedXML
from eucalyptus.services.walrus.s3xml import to_bytes

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def document(*rules, ns=NS):
    return f"<CORSConfiguration {ns}>{''.join(rules)}</CORSConfiguration>".encode()


def rule(origins=("*",), methods=("GET",), headers=(), expose=(), max_age=None, rule_id=None):
    parts = [f"<ID>{rule_id}</ID>"] if rule_id else []
    parts += [f"<AllowedOrigin>{o}</AllowedOrigin>" for o in origins]
    parts += [f"<AllowedMethod>{m}</AllowedMethod>" for m in methods]
    parts += [f"<AllowedHeader>{h}</AllowedHeader>" for h in headers]
    parts += [f"<ExposeHeader>{h}</ExposeHeader>" for h in expose]
    if max_age is not None:
        parts.append(f"<MaxAgeSeconds>{max_age}</MaxAgeSeconds>")
    return "<CORSRule>" + "".join(parts) + "</CORSRule>"


# The configuration of Eucalyptus's own CORS test suite (nephoria), whose
# expected answers were taken from AWS.
NEPHORIA = cors.parse_cors(
    document(
        rule(["http://www.example1.com"], ["PUT", "POST", "DELETE"], ["*"], rule_id="Rule 1"),
        rule(["http://www.example2.com"], ["GET"], rule_id="Rule 2"),
        rule(["*"], ["HEAD"], rule_id="Rule 3"),
        rule(
            ["http://www.corstest*.com", "http://*.sample.com"],
            ["GET", "HEAD", "PUT", "POST", "DELETE"],
            ["x-amz-*", "Content-*"],
            ["x-amz-server-side-encryption", "x-amz-request-id", "x-amz-id-2"],
            3000,
        ),
    )
)
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


class ParseTests(SynchronousTestCase):
    """
    L{cors.parse_cors} and L{cors.cors_to_xml}.
    """

    def test_round_trip(self):
        """
        A configuration renders back with the same rules, fields in S3's
        order.
        """
        text = cors.parse_cors(document(rule(["http://a.example"], ["GET", "PUT"], ["*"], ["ETag"], 60, "one")))
        rendered = etree.fromstring(to_bytes(cors.cors_to_xml(text)))
        names = [etree.QName(e).localname for e in rendered[0]]
        self.assertEqual(names, ["ID", "AllowedOrigin", "AllowedMethod", "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds"])
        self.assertEqual(cors.parse_cors(to_bytes(cors.cors_to_xml(text))), text)

    def test_without_namespace(self):
        """
        A document without S3's namespace is accepted, as S3 accepts it.
        """
        text = cors.parse_cors(document(rule(), ns=""))
        self.assertEqual(json.loads(text)[0]["origins"], ["*"])

    def test_malformed(self):
        """
        Not XML, another root, no rules, a rule without an origin or method,
        an unknown element or a bad MaxAgeSeconds are MalformedXML.
        """
        for body in (
            b"<CORSConfiguration>",
            b"<Other/>",
            document(),
            document("<CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"),
            document("<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>"),
            document(rule().replace("</CORSRule>", "<Colour>red</Colour></CORSRule>")),
            document(rule(max_age="soon")),
            document("<Stray/>"),
            document(*[rule()] * 101),
        ):
            self.assertRaises(MalformedXML, cors.parse_cors, body)

    def test_unsupported_method(self):
        """
        A method CORS cannot allow is InvalidRequest, naming it.
        """
        error = self.assertRaises(InvalidRequest, cors.parse_cors, document(rule(methods=["PATCH"])))
        self.assertIn("PATCH", error.message)

    def test_two_wildcards(self):
        """
        An origin or header with two wildcards is InvalidRequest.
        """
        self.assertRaises(InvalidRequest, cors.parse_cors, document(rule(origins=["http://*.*.example"])))
        self.assertRaises(InvalidRequest, cors.parse_cors, document(rule(headers=["x-*-*"])))

    def test_hundred_rules(self):
        """
        A hundred rules are allowed.
        """
        self.assertEqual(len(json.loads(cors.parse_cors(document(*[rule()] * 100)))), 100)

    def test_entities_refused(self):
        """
        A document with a DTD (entity expansion) is refused, not expanded.
        """
        body = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><CORSConfiguration>' + rule(origins=["&a;"]).encode() + b"</CORSConfiguration>"
        self.assertRaises(MalformedXML, cors.parse_cors, body)


class MatchingTests(SynchronousTestCase):
    """
    L{cors.matching_rule}.
    """

    def test_first_matching_rule(self):
        """
        The first rule allowing the origin and method wins.
        """
        self.assertEqual(cors.matching_rule(NEPHORIA, "http://www.example2.com", "GET")["id"], "Rule 2")
        self.assertEqual(cors.matching_rule(NEPHORIA, "http://anything", "HEAD")["id"], "Rule 3")
        self.assertIsNone(cors.matching_rule(NEPHORIA, "http://www.example2.com", "PUT"))

    def test_origin_wildcard(self):
        """
        C{*} in an origin stands for any characters; the port is part of the
        origin; matching is case-sensitive.
        """
        self.assertIsNotNone(cors.matching_rule(NEPHORIA, "http://this.sample.com", "DELETE"))
        self.assertIsNone(cors.matching_rule(NEPHORIA, "http://this.sample.com:80", "DELETE"))
        self.assertIsNone(cors.matching_rule(NEPHORIA, "HTTP://THIS.SAMPLE.COM", "DELETE"))

    def test_only_star_is_special(self):
        """
        C{?} and C{[} in an origin are plain characters, not patterns.
        """
        rules = cors.parse_cors(document(rule(origins=["http://a?.example", "http://[ab].example"])))
        self.assertIsNone(cors.matching_rule(rules, "http://ab.example", "GET"))
        self.assertIsNone(cors.matching_rule(rules, "http://a.example", "GET"))
        self.assertIsNotNone(cors.matching_rule(rules, "http://a?.example", "GET"))
        self.assertIsNotNone(cors.matching_rule(rules, "http://[ab].example", "GET"))

    def test_headers(self):
        """
        Every requested header must match an allowed one, case-insensitively.
        """
        origin = "http://www.corstest1.com"
        self.assertIsNotNone(cors.matching_rule(NEPHORIA, origin, "PUT", ["X-Amz-Date", "content-length"]))
        self.assertIsNone(cors.matching_rule(NEPHORIA, origin, "PUT", ["x-amz-date", "Date"]))

    def test_no_rules(self):
        """
        No configuration matches nothing.
        """
        self.assertIsNone(cors.matching_rule(None, "http://a", "GET"))


class PreflightTests(SynchronousTestCase):
    """
    L{cors.preflight}, with the answers Eucalyptus's CORS suite took from
    AWS.
    """

    def test_no_origin(self):
        """
        No Origin is BadRequest, 400.
        """
        error = self.assertRaises(CORSBadRequest, cors.preflight, NEPHORIA, None, "GET", None)
        self.assertEqual((error.code, error.http_status, error.message), ("BadRequest", 400, "Insufficient information. Origin request header needed."))

    def test_bad_method(self):
        """
        A missing or unsupported method is BadRequest naming it.
        """
        for method, shown in ((None, "null"), ("BLAH", "BLAH"), ("OPTIONS", "OPTIONS")):
            error = self.assertRaises(CORSBadRequest, cors.preflight, NEPHORIA, "http://www.example1.com", method, None)
            self.assertEqual(error.message, f"Invalid Access-Control-Request-Method: {shown}")

    def test_not_enabled(self):
        """
        A bucket without CORS is AccessForbidden, 403.
        """
        error = self.assertRaises(CORSForbidden, cors.preflight, None, "http://www.example1.com", "POST", None)
        self.assertEqual((error.code, error.http_status, error.message), ("AccessForbidden", 403, "CORSResponse: CORS is not enabled for this bucket."))

    def test_not_allowed(self):
        """
        No matching rule is AccessForbidden.
        """
        error = self.assertRaises(CORSForbidden, cors.preflight, NEPHORIA, "http://www.mycorssite1.com", "GET", None)
        self.assertTrue(error.message.startswith("CORSResponse: This CORS request is not allowed."))
        self.assertRaises(CORSForbidden, cors.preflight, NEPHORIA, "http://www.corstest1.company.com", "DELETE", "x-amz-date,Date")

    def test_specific_origin(self):
        """
        A named origin is echoed with credentials allowed and the rule's
        methods in order.
        """
        headers = cors.preflight(NEPHORIA, "http://www.example1.com", "POST", None)
        self.assertEqual(
            headers,
            {
                "Access-Control-Allow-Origin": "http://www.example1.com",
                "Access-Control-Allow-Methods": "PUT, POST, DELETE",
                "Access-Control-Allow-Credentials": "true",
                "Vary": VARY,
            },
        )

    def test_any_origin(self):
        """
        A C{*} rule answers C{*} and no credentials.
        """
        headers = cors.preflight(NEPHORIA, "http://www.mycorssite1.com", "HEAD", None)
        self.assertEqual(headers["Access-Control-Allow-Origin"], "*")
        self.assertEqual(headers["Access-Control-Allow-Methods"], "HEAD")
        self.assertNotIn("Access-Control-Allow-Credentials", headers)

    def test_full_rule(self):
        """
        Requested headers are echoed as sent; exposed headers and max age
        come from the rule.
        """
        headers = cors.preflight(NEPHORIA, "http://www.corstest.com", "DELETE", "x-amz-date,Content-Length")
        self.assertEqual(headers["Access-Control-Allow-Headers"], "x-amz-date, Content-Length")
        self.assertEqual(headers["Access-Control-Allow-Methods"], "GET, HEAD, PUT, POST, DELETE")
        self.assertEqual(headers["Access-Control-Expose-Headers"], "x-amz-server-side-encryption, x-amz-request-id, x-amz-id-2")
        self.assertEqual(headers["Access-Control-Max-Age"], "3000")
        self.assertEqual(headers["Access-Control-Allow-Credentials"], "true")
