"""
Tests for L{eucalyptus.security.nodeauth}: signing requests with a node's
key and checking them.
"""

import base64
import os
from hashlib import sha256

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)
from eucalyptus.security import awsauth, nodeauth
from eucalyptus.security.keys import create_pair, write_certificate, write_private_key
from eucalyptus.security.sigv2 import InvalidArgument

NODE = create_pair("nc-zone-1")
OTHER = create_pair("nc-zone-2")
NOW = 1_790_000_000
URL = "http://walrus.example.com:8773/services/Walrus/images/disk%20one.img?versionId=3&acl"


def received(sent):
    """
    Headers as a server hands them to L{nodeauth.verify}: lower-case names.
    """
    return {name.lower(): str(value).strip() for name, value in sent.items()}


def certificates(*credentials):
    """
    The C{certificates_by_fingerprint} mapping of some credentials.
    """
    return {nodeauth.fingerprint(c.certificate): c.certificate for c in credentials}


PATH = "/services/Walrus/images/disk%20one.img"
QUERY = [("versionId", "3"), ("acl", "")]


class SignTests(SynchronousTestCase):
    """
    L{nodeauth.sign_headers} makes the headers of the EUCA2-RSA-SHA256 scheme.
    """

    def test_headers(self):
        """
        The headers are the host (with its port), the date in ISO 8601 basic
        form and the Authorization header naming the certificate and the
        signed headers.
        """
        sent = nodeauth.sign_headers("GET", URL, NODE, NOW)
        self.assertEqual(sent["Host"], "walrus.example.com:8773")
        self.assertEqual(sent["x-amz-date"], "20260921T141320Z")
        algorithm, found, names, signature = sent["Authorization"].split(" ")
        self.assertEqual(algorithm, "EUCA2-RSA-SHA256")
        self.assertEqual(found, nodeauth.fingerprint(NODE.certificate))
        self.assertEqual(names, "host;x-amz-date")
        self.assertEqual(len(base64.b64decode(signature)), 256)

    def test_fingerprint(self):
        """
        The fingerprint is the lower-case hex SHA-256 of the certificate's DER.
        """
        der = NODE.certificate.public_bytes(serialization.Encoding.DER)
        self.assertEqual(nodeauth.fingerprint(NODE.certificate), sha256(der).hexdigest())

    def test_canonical_request(self):
        """
        The canonical request is the method, the path as sent, the sorted
        encoded query, one line per signed header and the signed names.
        """
        text = nodeauth.canonical_request(
            "get", PATH, QUERY, [("host", "h:1"), ("x-amz-date", "  20260921T141320Z ")]
        )
        self.assertEqual(
            text,
            "GET\n/services/Walrus/images/disk%20one.img\nacl=&versionId=3\n"
            "host:h:1\nx-amz-date:20260921T141320Z\nhost;x-amz-date",
        )

    def test_signature(self):
        """
        The signature is RSA PKCS#1 v1.5 SHA-256 over the canonical request,
        checkable with the certificate alone.
        """
        sent = nodeauth.sign_headers("GET", URL, NODE, NOW)
        text = nodeauth.canonical_request(
            "GET", PATH, QUERY, [("host", sent["Host"]), ("x-amz-date", sent["x-amz-date"])]
        )
        signature = base64.b64decode(sent["Authorization"].split(" ")[3])
        NODE.certificate.public_key().verify(signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())

    def test_extra_headers(self):
        """
        Headers given to sign are sent and signed too.
        """
        sent = nodeauth.sign_headers("GET", URL, NODE, NOW, {"Range": "bytes=0-9"})
        self.assertEqual(sent["Range"], "bytes=0-9")
        self.assertEqual(sent["Authorization"].split(" ")[2], "host;range;x-amz-date")
        found = nodeauth.verify("GET", PATH, QUERY, received(sent), certificates(NODE), NOW)
        self.assertEqual(found, nodeauth.fingerprint(NODE.certificate))


class VerifyTests(SynchronousTestCase):
    """
    L{nodeauth.verify} accepts what L{nodeauth.sign_headers} signed with a
    known certificate, and nothing else.
    """

    def setUp(self):
        self.headers = received(nodeauth.sign_headers("GET", URL, NODE, NOW))
        self.known = certificates(NODE)

    def verify(self, method="GET", path=PATH, query=QUERY, now=NOW, known=None):
        return nodeauth.verify(method, path, query, self.headers, known or self.known, now)

    def test_good(self):
        """
        A request as signed verifies, answering the certificate's fingerprint.
        """
        self.assertEqual(self.verify(), nodeauth.fingerprint(NODE.certificate))

    def test_query_order(self):
        """
        The query may arrive in any order: it is canonicalised.
        """
        self.assertEqual(self.verify(query=list(reversed(QUERY))), nodeauth.fingerprint(NODE.certificate))

    def test_other_method(self):
        """
        A signature for GET does not allow a DELETE.
        """
        self.assertRaises(SignatureDoesNotMatch, self.verify, method="DELETE")

    def test_other_path(self):
        """
        A signature for one object does not open another.
        """
        self.assertRaises(SignatureDoesNotMatch, self.verify, path="/services/Walrus/images/other.img")

    def test_other_query(self):
        """
        The query is signed.
        """
        self.assertRaises(SignatureDoesNotMatch, self.verify, query=[("versionId", "4"), ("acl", "")])

    def test_other_host(self):
        """
        The host is signed.
        """
        self.headers["host"] = "elsewhere:8773"
        self.assertRaises(SignatureDoesNotMatch, self.verify)

    def test_signature_details(self):
        """
        A wrong signature's error carries the canonical request computed.
        """
        error = self.assertRaises(SignatureDoesNotMatch, self.verify, method="PUT")
        self.assertTrue(error.details["CanonicalRequest"].startswith("PUT\n/services/Walrus/"))

    def test_unknown_certificate(self):
        """
        A certificate that is not one of the known ones is refused.
        """
        error = self.assertRaises(AccessDenied, self.verify, known=certificates(OTHER))
        self.assertIn("not a node certificate", error.message)

    def test_impostor(self):
        """
        A signature made with another key under a known fingerprint fails.
        """
        forged = received(nodeauth.sign_headers("GET", URL, OTHER, NOW))
        fields = forged["authorization"].split(" ")
        fields[1] = nodeauth.fingerprint(NODE.certificate)
        self.headers = dict(forged, authorization=" ".join(fields))
        self.assertRaises(SignatureDoesNotMatch, self.verify)

    def test_skew(self):
        """
        A request dated more than the allowed skew away is refused.
        """
        self.assertRaises(RequestTimeTooSkewed, self.verify, now=NOW + 901)
        self.assertRaises(RequestTimeTooSkewed, self.verify, now=NOW - 901)
        self.assertEqual(self.verify(now=NOW + 900), nodeauth.fingerprint(NODE.certificate))

    def test_date_header(self):
        """
        A request may be dated by C{Date} (RFC 1123) instead of C{x-amz-date}.
        """
        headers = {"host": "walrus.example.com:8773", "date": "Mon, 21 Sep 2026 14:13:20 GMT"}
        text = nodeauth.canonical_request("GET", PATH, QUERY, sorted(headers.items()))
        signature = NODE.key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        headers["authorization"] = " ".join(
            ("EUCA2-RSA-SHA256", nodeauth.fingerprint(NODE.certificate), "date;host",
             base64.b64encode(signature).decode())
        )  # fmt: skip
        self.headers = headers
        self.assertEqual(self.verify(), nodeauth.fingerprint(NODE.certificate))

    def test_no_date(self):
        """
        A request without a date is refused.
        """
        del self.headers["x-amz-date"]
        fields = self.headers["authorization"].split(" ")
        fields[2] = "host"
        self.headers["authorization"] = " ".join(fields)
        self.assertRaises(AccessDenied, self.verify)

    def test_host_unsigned(self):
        """
        The host must be signed.
        """
        fields = self.headers["authorization"].split(" ")
        fields[2] = "x-amz-date"
        self.headers["authorization"] = " ".join(fields)
        error = self.assertRaises(AccessDenied, self.verify)
        self.assertIn("host", error.message)

    def test_amz_header_unsigned(self):
        """
        Every C{x-amz-*} header sent must be signed.
        """
        self.headers["x-amz-copy-source"] = "/other/object"
        error = self.assertRaises(AccessDenied, self.verify)
        self.assertIn("x-amz-copy-source", error.message)

    def test_signed_header_missing(self):
        """
        A header named as signed must be sent.
        """
        fields = self.headers["authorization"].split(" ")
        fields[2] = "host;range;x-amz-date"
        self.headers["authorization"] = " ".join(fields)
        self.assertRaises(AccessDenied, self.verify)

    def test_malformed(self):
        """
        A header without its four fields, or with a signature that is not
        base64, is malformed.
        """
        good = self.headers["authorization"]
        self.headers["authorization"] = good.rsplit(" ", 1)[0]
        self.assertRaises(AuthorizationHeaderMalformed, self.verify)
        self.headers["authorization"] = good.rsplit(" ", 1)[0] + " not*base64"
        self.assertRaises(AuthorizationHeaderMalformed, self.verify)


class AuthenticateTests(SynchronousTestCase):
    """
    L{awsauth.authenticate} recognises the scheme where node certificates
    are given.
    """

    def signed(self):
        sent = nodeauth.sign_headers("GET", URL, NODE, NOW)
        target = URL.partition("8773")[2]
        return awsauth.SignedRequest.from_target("GET", target, sent.items())

    def test_node(self):
        """
        A node's request authenticates as its certificate's fingerprint,
        with the node scheme and no payload to check.
        """
        auth = awsauth.authenticate(self.signed(), lambda key: None, NOW, node_certificates=certificates(NODE))
        self.assertEqual(auth, awsauth.Authenticated(nodeauth.fingerprint(NODE.certificate), nodeauth.SCHEME))

    def test_not_accepted(self):
        """
        Without node certificates the scheme is an unsupported one.
        """
        self.assertRaises(InvalidArgument, awsauth.authenticate, self.signed(), lambda key: None, NOW)


class NodeCertificatesTests(SynchronousTestCase):
    """
    L{nodeauth.node_certificates} reads every zone's node certificate.
    """

    def test_zones(self):
        """
        Each C{<zone>/node-cert.pem} is found under its fingerprint with its
        zone; other files and zones without a node certificate are ignored.
        """
        keys = self.mktemp()
        write_certificate(os.path.join(keys, "zone-1", "node-cert.pem"), NODE.certificate)
        write_private_key(os.path.join(keys, "zone-1", "node-pk.pem"), NODE.key)
        write_certificate(os.path.join(keys, "zone-2", "node-cert.pem"), OTHER.certificate)
        write_certificate(os.path.join(keys, "zone-3", "cluster-cert.pem"), OTHER.certificate)
        write_certificate(os.path.join(keys, "cloud-cert.pem"), OTHER.certificate)
        found = nodeauth.node_certificates(keys)
        self.assertEqual(
            {fp: zone for fp, (zone, _) in found.items()},
            {nodeauth.fingerprint(NODE.certificate): "zone-1", nodeauth.fingerprint(OTHER.certificate): "zone-2"},
        )

    def test_missing_directory(self):
        """
        A key directory that does not exist has no node certificates.
        """
        self.assertEqual(nodeauth.node_certificates(self.mktemp()), {})
