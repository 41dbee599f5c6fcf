# -*- test-case-name: tests.security.test_xmldsig -*-
"""
Tests for L{eucalyptus.security.xmldsig}, the lean XML-Signature core of
L{eucalyptus.security.wssec}.

Two kinds: cross-checks, proving that the lean signer and verifier agree
with signxml and with xmlsec (what each signs, the other verifies, and the
lean signer makes exactly signxml's signature); and refusals of what the
lean verifier accepts from no one (ambiguous Ids, transforms and algorithms
other than ours, other signature shapes), each checked through
L{Verifier.verify} with its wire fault code.

A refused SignedInfo is always genuinely signed by the pinned key
(L{resign_signed_info}), so each test fails for its own reason and not
because the signature value no longer matches.
"""

import copy
import datetime
import hashlib
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from twisted.trial.unittest import SynchronousTestCase
from zeep.wsse.signature import verify_envelope

from eucalyptus.errors import FailedCheck
from eucalyptus.security import keys, xmldsig
from eucalyptus.security.keys import Credential
from eucalyptus.security.wssec import DS, WSA, Verifier, new_message_id
from eucalyptus.soap.envelope import envelope_with, parse
from tests.interop.test_zeep import AddressedBinarySignature
from tests.security.helpers import (
    BODY,
    CLIENT,
    HEADER,
    ID,
    SECURITY,
    SIGNATURE,
    TIMESTAMP,
    redigest,
    resign,
    resign_signed_info,
    signed_info,
    signed_parts,
)
from tests.security.test_wssec import ACTION, SKEW, TTL, TO, _VerifierMixin, request_body, signed

__all__ = [
    "CrossCheckTests",
    "IdTests",
    "TransformTests",
    "SignatureAlgorithmTests",
    "SignatureShapeTests",
    "PinnedCertificateTests",
]

_INCLUSIVE_C14N = CanonicalizationMethod.CANONICAL_XML_1_0.value
_ENVELOPED = SignatureConstructionMethod.enveloped.value
_XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"


def references(envelope):
    """
    The C{ds:Reference} elements of an envelope's signature.
    """
    return signed_info(envelope).findall(f"{{{DS}}}Reference")


def reference_to(envelope, element):
    """
    The C{ds:Reference} naming C{element}.
    """
    (found,) = [ref for ref in references(envelope) if ref.get("URI") == "#" + element.get(ID)]
    return found


class CrossCheckTests(_VerifierMixin, SynchronousTestCase):
    """
    The lean signer and verifier agree with signxml and xmlsec.
    """

    def test_signxml_signature_verifies(self):
        """
        An envelope whose signature was made by plain signxml C{XMLSigner}
        (RSA-SHA256, exclusive C14N, the five references) passes
        L{Verifier.verify}.
        """
        envelope = parse(signed())
        resign(envelope, CLIENT, signed_parts(envelope))
        result = self.verifier.verify(parse(etree.tostring(envelope)))
        self.assertEqual(result.addressing.action, ACTION)

    def test_signxml_verifies_lean_signature(self):
        """
        An envelope signed by L{sign} passes plain signxml C{XMLVerifier}
        with the pinned certificate and five expected references, and the
        parts signxml says were signed are the five our verifier reads.
        """
        envelope = parse(signed())
        config = SignatureConfiguration(location=f"./{HEADER}/{SECURITY}/", expect_references=5)
        results = XMLVerifier().verify(
            envelope, x509_cert=CLIENT.certificate, id_attribute="Id", expect_config=config
        )
        ours = self.verifier.verify(envelope)
        tags = sorted(result.signed_xml.tag for result in results)
        expected = [BODY] + [f"{{{WSA}}}{name}" for name in ("Action", "MessageID", "To")] + [TIMESTAMP]
        self.assertEqual(tags, sorted(expected))
        (body,) = [result.signed_xml for result in results if result.signed_xml.tag == BODY]
        self.assertEqual(etree.tostring(body, method="c14n"), etree.tostring(ours.body, method="c14n"))

    def test_same_signature_as_signxml(self):
        """
        Over the same envelope, references and key, signxml's C{XMLSigner}
        makes exactly the signature L{xmldsig.sign_elements} makes (RSA
        PKCS#1 v1.5 is deterministic): same shape, same bytes.
        """
        envelope = parse(signed())
        lean = envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}")
        key_info = copy.deepcopy(lean.find(f"{{{DS}}}KeyInfo"))
        lean.getparent().remove(lean)
        parts = [(element.get(ID), element) for element in signed_parts(envelope)]
        ours = xmldsig.sign_elements(parts, CLIENT.key, copy.deepcopy(key_info))
        signer = XMLSigner(
            method=SignatureConstructionMethod.detached,
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        theirs = signer.sign(
            envelope,
            key=CLIENT.key,
            reference_uri=["#" + identifier for identifier, _ in parts],
            key_info=key_info,
            id_attribute="Id",
        )
        self.assertEqual(etree.tostring(ours), etree.tostring(theirs))

    def _key_files(self):
        """
        L{CLIENT}'s key and certificate written to PEM files, for xmlsec.
        """
        directory = self.mktemp()
        os.makedirs(directory)
        key_file, cert_file = os.path.join(directory, "pk.pem"), os.path.join(directory, "cert.pem")
        keys.write_private_key(key_file, CLIENT.key)
        keys.write_certificate(cert_file, CLIENT.certificate)
        return key_file, cert_file

    def test_xmlsec_signature_verifies(self):
        """
        A request signed by xmlsec the way the zeep interop client signs
        (default C{ds} namespace, whitespace in SignedInfo, line-broken
        base64, the token after the signature) passes L{Verifier.verify}.
        """
        key_file, cert_file = self._key_files()
        envelope = envelope_with(request_body())
        header = etree.Element(HEADER)
        envelope.insert(0, header)
        for name, value in (("Action", ACTION), ("MessageID", new_message_id()), ("To", TO)):
            etree.SubElement(header, f"{{{WSA}}}{name}").text = value
        AddressedBinarySignature(key_file, cert_file, cert_file).apply(envelope, {})
        self.assertIn(b"\n", etree.tostring(envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}")))
        result = Verifier([CLIENT.certificate], ttl=TTL, skew=SKEW).verify(parse(etree.tostring(envelope)))
        self.assertEqual((result.addressing.to, result.addressing.action), (TO, ACTION))

    def test_xmlsec_verifies_lean_signature(self):
        """
        An envelope signed by L{sign} passes zeep's C{verify_envelope}
        (xmlsec) with the signer's certificate.
        """
        _, cert_file = self._key_files()
        verify_envelope(parse(signed()), cert_file)


class IdTests(_VerifierMixin, SynchronousTestCase):
    """
    References resolve through one index of every C{Id} in the message,
    which must be unambiguous.
    """

    def test_duplicate_unreferenced_id(self):
        """
        Two elements sharing a C{wsu:Id} anywhere in the message refuse
        it, even when the signature does not reference that Id.
        """
        envelope = parse(signed())
        header = envelope.find(HEADER)
        for _ in range(2):
            etree.SubElement(header, "{urn:other}Note").set(ID, "note-1")
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("Ambiguous Id 'note-1'", str(exc))

    def test_duplicate_id_in_other_namespace(self):
        """
        An element carrying the signed Body's Id in a plain C{Id} attribute
        makes the reference ambiguous (signxml's C{id_attribute="Id"}
        matches any namespace), and the message is refused.
        """
        envelope = parse(signed())
        body = envelope.find(BODY)
        etree.SubElement(envelope.find(HEADER), "{urn:evil}Payload", Id=body.get(ID)).append(request_body("evil"))
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("Ambiguous", str(exc))

    def test_unresolved_reference(self):
        """
        A genuinely signed reference to an Id no element carries is
        refused.
        """
        envelope = parse(signed())
        reference_to(envelope, envelope.find(BODY)).set("URI", "#nowhere")
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("Unable to resolve", str(exc))

    def test_whole_document_reference(self):
        """
        A reference with an empty URI (the whole document) is refused.
        """
        envelope = parse(signed())
        reference_to(envelope, envelope.find(BODY)).set("URI", "")
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("does not name an element", str(exc))

    def test_xpointer_reference(self):
        """
        An XPointer reference is refused.
        """
        envelope = parse(signed())
        reference = reference_to(envelope, envelope.find(BODY))
        reference.set("URI", f"#xpointer(id('{envelope.find(BODY).get(ID)}'))")
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("does not name an element", str(exc))


class TransformTests(_VerifierMixin, SynchronousTestCase):
    """
    Each reference has exactly one transform, exclusive C14N, and so does
    SignedInfo; an C{InclusiveNamespaces} prefix list is honoured.
    """

    def _transform(self, envelope):
        """
        The C{ds:Transform} of the reference to the Body.
        """
        return reference_to(envelope, envelope.find(BODY)).find(f"{{{DS}}}Transforms/{{{DS}}}Transform")

    def test_inclusive_c14n_transform(self):
        """
        A Body reference transformed with inclusive C14N (digest recomputed
        to match) is refused.
        """
        envelope = parse(signed())
        self._transform(envelope).set("Algorithm", _INCLUSIVE_C14N)
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("not exclusive C14N", str(exc))

    def test_extra_transform(self):
        """
        An XPath transform after the exclusive C14N one, which signxml
        would silently skip, is refused.
        """
        envelope = parse(signed())
        transform = self._transform(envelope)
        etree.SubElement(transform.getparent(), f"{{{DS}}}Transform", Algorithm=_XPATH)
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("exactly one Transform", str(exc))

    def test_enveloped_signature_transform(self):
        """
        The enveloped-signature transform in place of exclusive C14N is
        refused.
        """
        envelope = parse(signed())
        self._transform(envelope).set("Algorithm", _ENVELOPED)
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("not exclusive C14N", str(exc))

    def test_no_transforms(self):
        """
        A reference without C{Transforms} (signxml would use inclusive C14N
        1.1) is refused.
        """
        envelope = parse(signed())
        transforms = self._transform(envelope).getparent()
        transforms.getparent().remove(transforms)
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("must hold Transforms, DigestMethod and DigestValue", str(exc))

    def test_inclusive_signed_info(self):
        """
        A SignedInfo whose CanonicalizationMethod is inclusive C14N is
        refused before its signature is even checked.
        """
        envelope = parse(signed())
        signed_info(envelope).find(f"{{{DS}}}CanonicalizationMethod").set("Algorithm", _INCLUSIVE_C14N)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("CanonicalizationMethod", str(exc))

    def test_prefix_list_honoured(self):
        """
        A reference whose transform carries an C{InclusiveNamespaces}
        prefix list (as WSS4J sends) verifies when its digest was computed
        with that list.
        """
        envelope = parse(signed())
        etree.SubElement(self._transform(envelope), f"{{{xmldsig.EC}}}InclusiveNamespaces", PrefixList="wsa wsse")
        redigest(envelope, reference_to(envelope, envelope.find(BODY)), prefixes=["wsa", "wsse"])
        resign_signed_info(envelope, CLIENT)
        self.assertEqual(self.verifier.verify(envelope).addressing.action, ACTION)

    def test_prefix_list_ignored_is_refused(self):
        """
        The same prefix list over a digest computed without it does not
        verify: the list changes the canonical form, and it is applied.
        """
        envelope = parse(signed())
        etree.SubElement(self._transform(envelope), f"{{{xmldsig.EC}}}InclusiveNamespaces", PrefixList="wsa wsse")
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("Digest mismatch", str(exc))

    def test_unknown_transform_content(self):
        """
        A transform holding anything but one C{InclusiveNamespaces} is
        refused.
        """
        envelope = parse(signed())
        etree.SubElement(self._transform(envelope), f"{{{DS}}}XPath").text = "1"
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("InclusiveNamespaces", str(exc))


class SignatureAlgorithmTests(_VerifierMixin, SynchronousTestCase):
    """
    Only the allowed signature method and digest algorithm are accepted,
    known or not.
    """

    def _method(self, envelope):
        return signed_info(envelope).find(f"{{{DS}}}SignatureMethod")

    def test_unknown_signature_method(self):
        """
        A SignatureMethod URI nobody knows is refused.
        """
        envelope = parse(signed())
        self._method(envelope).set("Algorithm", "urn:example:rsa-rot13")
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("'urn:example:rsa-rot13' forbidden", str(exc))

    def test_stronger_but_unconfigured_method(self):
        """
        A genuine RSA-SHA512 signature is refused: only RSA-SHA256 (and
        RSA-SHA1 for legacy peers) is configured.
        """
        envelope = parse(signed())
        self._method(envelope).set("Algorithm", SignatureMethod.RSA_SHA512.value)
        resign_signed_info(envelope, CLIENT, hashes.SHA512)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("RSA_SHA512 forbidden", str(exc))

    def test_hmac_method(self):
        """
        An HMAC signature method (a key anyone could hold) is refused.
        """
        envelope = parse(signed())
        self._method(envelope).set("Algorithm", SignatureMethod.HMAC_SHA256.value)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("HMAC_SHA256 forbidden", str(exc))

    def test_unknown_digest(self):
        """
        A genuinely signed reference with an unknown DigestMethod is
        refused.
        """
        envelope = parse(signed())
        reference = reference_to(envelope, envelope.find(BODY))
        reference.find(f"{{{DS}}}DigestMethod").set("Algorithm", "urn:example:crc32")
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("'urn:example:crc32' forbidden", str(exc))

    def test_sha1_digest_under_sha256_signature(self):
        """
        A SHA-1 digest is refused by a default verifier even under an
        RSA-SHA256 signature.
        """
        envelope = parse(signed())
        reference = reference_to(envelope, envelope.find(BODY))
        reference.find(f"{{{DS}}}DigestMethod").set("Algorithm", DigestAlgorithm.SHA1.value)
        redigest(envelope, reference, digest=hashlib.sha1)
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("SHA1 forbidden", str(exc))


class SignatureShapeTests(_VerifierMixin, SynchronousTestCase):
    """
    A signature holds SignedInfo, SignatureValue and KeyInfo and nothing
    else, and its values are base64.
    """

    def _signature(self, envelope):
        return envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}")

    def test_object(self):
        """
        A C{ds:Object} in the signature is refused.
        """
        envelope = parse(signed())
        etree.SubElement(self._signature(envelope), f"{{{DS}}}Object").append(request_body("evil"))
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("nothing else", str(exc))

    def test_foreign_element_in_signed_info(self):
        """
        An element that is not a Reference among the references of a
        genuinely signed SignedInfo is refused.
        """
        envelope = parse(signed())
        etree.SubElement(signed_info(envelope), "{urn:evil}Extra")
        resign_signed_info(envelope, CLIENT)
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("other than References", str(exc))

    def test_signature_value_not_base64(self):
        """
        A SignatureValue that is not base64 is refused.
        """
        envelope = parse(signed())
        self._signature(envelope).find(f"{{{DS}}}SignatureValue").text = "not base64!"
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("SignatureValue is not base64", str(exc))

    def test_line_broken_values(self):
        """
        Base64 values broken into lines, as xmlsec and WSS4J write them,
        are accepted.
        """
        envelope = parse(signed())
        value = self._signature(envelope).find(f"{{{DS}}}SignatureValue")
        value.text = "\n".join(value.text[i : i + 64] for i in range(0, len(value.text), 64))
        self.assertEqual(self.verifier.verify(envelope).addressing.action, ACTION)


class PinnedCertificateTests(_VerifierMixin, SynchronousTestCase):
    """
    The pinned certificate itself must be within its validity period, as
    signxml required.
    """

    def _expired(self):
        """
        A L{Credential} with L{CLIENT}'s key and a certificate that expired
        a day ago.
        """
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(CLIENT.certificate.subject)
            .issuer_name(CLIENT.certificate.subject)
            .public_key(CLIENT.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now - datetime.timedelta(days=1))
            .sign(CLIENT.key, hashes.SHA256())
        )
        return Credential(CLIENT.key, certificate)

    def test_expired_certificate(self):
        """
        A message signed with a pinned certificate that has expired is
        refused with C{wsse:FailedCheck}.
        """
        expired = self._expired()
        verifier = Verifier([expired.certificate], ttl=TTL, skew=SKEW, clock=self.clock.seconds)
        exc = self.assertRefused(signed(credential=expired), FailedCheck, "wsse:FailedCheck", verifier=verifier)
        self.assertIn("is not valid now", str(exc))
