# -*- test-case-name: tests.security.test_wssec -*-
"""
Tests for L{eucalyptus.security.wssec}: signing envelopes and verifying them
against pinned certificates, including the attacks a verifier must refuse
(tampering, unpinned keys, stale or future timestamps, replays, signature
wrapping, SHA-1).

Every envelope goes through bytes and L{eucalyptus.soap.envelope.parse}
before it is verified, as it would on the wire.  Time is injected: signing
takes C{now=} and the verifier a L{task.Clock}.
"""

import base64
import copy

from lxml import etree
from signxml import SignatureMethod
from twisted.internet import task
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import (
    FailedCheck,
    InvalidSecurity,
    MessageExpired,
    ReplayedMessage,
    SecurityError,
)
from eucalyptus.security.wssec import (
    DS,
    SOAP_ENV,
    WSA,
    WSSE,
    WSU,
    Addressing,
    ReplayCache,
    VerifiedMessage,
    Verifier,
    new_message_id,
    sign,
)
from eucalyptus.soap.envelope import envelope_with, parse
from tests.security.helpers import (
    BODY,
    CLIENT,
    HEADER,
    ID,
    SECURITY,
    SIGNATURE,
    STRANGER,
    TIMESTAMP,
    TOKEN,
    resign,
    signed_parts,
)

NS = "http://eucalyptus.ucsb.edu/"
TO = "http://127.0.0.1:8775/axis2/services/EucalyptusNC"
ACTION = "EucalyptusNC#DescribeServices"
T0 = 1_700_000_000.0
TTL = 300
SKEW = 20


def request_body(text="t"):
    """
    A small C{DescribeServices} request element whose correlationId is
    C{text}.
    """
    body = etree.Element(f"{{{NS}}}DescribeServices", nsmap={"ns": NS})
    etree.SubElement(body, f"{{{NS}}}correlationId").text = text
    return body


def signed(credential=CLIENT, now=T0, message_id=None, relates_to=None, sha1=False):
    """
    The bytes of a request envelope signed by C{credential} at C{now}
    (keys come from L{tests.security.helpers}, made once per process).
    """
    envelope = envelope_with(request_body())
    addressing = Addressing(TO, ACTION, message_id or new_message_id(), relates_to)
    sign(envelope, credential, addressing, ttl=TTL, sha1=sha1, now=now)
    return etree.tostring(envelope)


def header_child(envelope, name):
    """
    The WS-Addressing header C{name} (C{To}, C{Action}, ...) of an envelope.
    """
    return envelope.find(f"{HEADER}/{{{WSA}}}{name}")


class _VerifierMixin:
    """
    A verifier pinning L{CLIENT}, on a clock set to L{T0}.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(T0)
        self.verifier = Verifier([CLIENT.certificate], ttl=TTL, skew=SKEW, clock=self.clock.seconds)

    def assertRefused(self, data, error, code, reply=False, verifier=None):
        """
        Verifying C{data} (bytes or an envelope) fails with exactly C{error}
        carrying the wire code C{code}.

        @return: the exception.
        """
        envelope = parse(data) if isinstance(data, bytes) else data
        exc = self.assertRaises(SecurityError, (verifier or self.verifier).verify, envelope, reply=reply)
        self.assertIs(type(exc), error, f"{type(exc).__name__}: {exc}")
        self.assertEqual(exc.code, code)
        return exc


class SignAndVerifyTests(_VerifierMixin, SynchronousTestCase):
    """
    A correctly signed envelope verifies and yields only its signed parts.
    """

    def test_round_trip(self):
        """
        L{Verifier.verify} returns a L{VerifiedMessage} with the signed Body,
        the signed addressing headers, the timestamp and the pinned
        certificate.
        """
        message_id = new_message_id()
        result = self.verifier.verify(parse(signed(message_id=message_id)))
        self.assertIsInstance(result, VerifiedMessage)
        self.assertEqual(result.body.tag, BODY)
        self.assertEqual(result.body.findtext(f"{{{NS}}}DescribeServices/{{{NS}}}correlationId"), "t")
        self.assertEqual(result.addressing, Addressing(TO, ACTION, message_id))
        self.assertEqual((result.created, result.expires), (T0, T0 + TTL))
        self.assertEqual(result.certificate, CLIENT.certificate)

    def test_reply_round_trip(self):
        """
        A reply signed with C{RelatesTo} verifies with C{reply=True} and
        reports the signed C{RelatesTo}.
        """
        request_id = new_message_id()
        result = self.verifier.verify(parse(signed(relates_to=request_id)), reply=True)
        self.assertEqual(result.addressing.relates_to, request_id)

    def test_envelope_holds_only_signed_body(self):
        """
        L{VerifiedMessage.envelope} is a new envelope holding the signed Body
        and no header.
        """
        envelope = self.verifier.verify(parse(signed())).envelope()
        self.assertEqual(envelope.tag, f"{{{SOAP_ENV}}}Envelope")
        self.assertEqual([child.tag for child in envelope], [BODY])

    def test_body_is_a_copy(self):
        """
        Changing the received document after verification does not change
        the verified Body.
        """
        envelope = parse(signed())
        result = self.verifier.verify(envelope)
        correlation = f"{{{NS}}}DescribeServices/{{{NS}}}correlationId"
        envelope.find(BODY).find(correlation).text = "changed"
        envelope.find(BODY).append(etree.Element(f"{{{NS}}}extra"))
        self.assertEqual(result.body.findtext(correlation), "t")
        self.assertEqual(len(result.body), 1)
        self.assertIsNot(result.body, envelope.find(BODY))

    def test_signature_covers_body_timestamp_and_addressing(self):
        """
        L{sign} references exactly the Body, the Timestamp, To, Action and
        MessageID, with RSA-SHA256.
        """
        envelope = parse(signed())
        signature = envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}")
        uris = [ref.get("URI")[1:] for ref in signature.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")]
        tags = sorted(envelope.xpath("//*[@wsu:Id = $id]", namespaces={"wsu": WSU}, id=uri)[0].tag for uri in uris)
        expected = sorted([BODY, TIMESTAMP] + [f"{{{WSA}}}{name}" for name in ("To", "Action", "MessageID")])
        self.assertEqual(tags, expected)
        method = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod").get("Algorithm")
        self.assertEqual(method, SignatureMethod.RSA_SHA256.value)


class TamperingTests(_VerifierMixin, SynchronousTestCase):
    """
    Changing any signed part, or a missing or untrusted signature, is
    refused.
    """

    def test_unsigned(self):
        """
        An envelope without a Security header is refused with
        C{wsse:InvalidSecurity}.
        """
        data = etree.tostring(envelope_with(request_body()))
        self.assertRefused(data, InvalidSecurity, "wsse:InvalidSecurity")

    def test_header_without_security(self):
        """
        An envelope with addressing headers but no Security header is refused
        with C{wsse:InvalidSecurity}.
        """
        envelope = parse(signed())
        header = envelope.find(HEADER)
        header.remove(header.find(SECURITY))
        self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")

    def test_tampered_body(self):
        """
        Changing the Body's text after signing fails the signature check.
        """
        envelope = parse(signed())
        envelope.find(f"{BODY}/{{{NS}}}DescribeServices/{{{NS}}}correlationId").text = "evil"
        self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")

    def _tamper_header(self, name, value):
        envelope = parse(signed())
        header_child(envelope, name).text = value
        self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")

    def test_tampered_to(self):
        """
        Changing the signed C{wsa:To} fails the signature check.
        """
        self._tamper_header("To", "http://127.0.0.1:8774/axis2/services/EucalyptusCC")

    def test_tampered_action(self):
        """
        Changing the signed C{wsa:Action} fails the signature check.
        """
        self._tamper_header("Action", "EucalyptusNC#ncTerminateInstance")

    def test_tampered_message_id(self):
        """
        Changing the signed C{wsa:MessageID} (to dodge the replay cache)
        fails the signature check.
        """
        self._tamper_header("MessageID", new_message_id())

    def test_unpinned_certificate(self):
        """
        A valid signature by a key whose certificate is not pinned is refused
        with C{wsse:FailedCheck}.
        """
        exc = self.assertRefused(signed(credential=STRANGER), FailedCheck, "wsse:FailedCheck")
        self.assertIn("differs from the key on disk", str(exc))

    def test_swapped_token(self):
        """
        Putting the pinned certificate in the BinarySecurityToken of a
        message signed by another key fails the signature check.
        """
        envelope = parse(signed(credential=STRANGER))
        token = envelope.find(f"{HEADER}/{SECURITY}/{TOKEN}")
        token.text = base64.b64encode(CLIENT.cert_der).decode("ascii")
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("does not verify", str(exc))

    def test_key_info_not_referencing_token(self):
        """
        A signature whose KeyInfo does not point at the message's token is
        refused with C{wsse:InvalidSecurity}.
        """
        envelope = parse(signed())
        reference = envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}/{{{DS}}}KeyInfo//{{{WSSE}}}Reference")
        reference.set("URI", "#X509-elsewhere")
        self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")

    def test_key_info_naming_another_key(self):
        """
        A KeyInfo that also carries a C{ds:KeyValue} (possibly of another
        key) besides the token reference is refused with
        C{wsse:InvalidSecurity}: it names the token and nothing else.
        """
        envelope = parse(signed())
        key_info = envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}/{{{DS}}}KeyInfo")
        etree.SubElement(etree.SubElement(key_info, f"{{{DS}}}KeyValue"), f"{{{DS}}}RSAKeyValue")
        exc = self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")
        self.assertIn("does not reference the message's security token", str(exc))


class TimestampTests(_VerifierMixin, SynchronousTestCase):
    """
    The signed timestamp must be valid now, allowing L{SKEW} seconds of
    clock difference either way.
    """

    def test_expired(self):
        """
        A message verified more than the skew after it expired is refused
        with C{wsse:MessageExpired}.
        """
        data = signed(now=T0)
        self.clock.advance(TTL + SKEW + 1)
        exc = self.assertRefused(data, MessageExpired, "wsse:MessageExpired")
        self.assertIn("expired", str(exc))

    def test_future(self):
        """
        A message created more than the skew in the future is refused with
        C{wsse:MessageExpired}.
        """
        exc = self.assertRefused(signed(now=T0 + SKEW + 1), MessageExpired, "wsse:MessageExpired")
        self.assertIn("future", str(exc))

    def test_future_within_skew(self):
        """
        A message created exactly the skew in the future is accepted.
        """
        result = self.verifier.verify(parse(signed(now=T0 + SKEW)))
        self.assertEqual(result.created, T0 + SKEW)

    def test_expired_within_skew(self):
        """
        A message verified exactly the skew after it expired is accepted.
        """
        data = signed(now=T0)
        self.clock.advance(TTL + SKEW)
        result = self.verifier.verify(parse(data))
        self.assertEqual(result.expires, T0 + TTL)

    def test_lifetime_longer_than_ttl(self):
        """
        A timestamp claiming a longer life than the verifier's ttl does not
        extend it: the message is refused once C{ttl + skew} has passed since
        its creation.
        """
        envelope = envelope_with(request_body())
        sign(envelope, CLIENT, Addressing(TO, ACTION, new_message_id()), ttl=10 * TTL, now=T0)
        self.clock.advance(TTL + SKEW + 1)
        self.assertRefused(etree.tostring(envelope), MessageExpired, "wsse:MessageExpired")


class ReplayTests(_VerifierMixin, SynchronousTestCase):
    """
    A MessageID is accepted once within its lifetime.
    """

    def test_replayed(self):
        """
        The same bytes verified twice are refused the second time with
        L{ReplayedMessage}, code C{wsse:InvalidSecurity}.
        """
        data = signed()
        self.verifier.verify(parse(data))
        self.assertRefused(data, ReplayedMessage, "wsse:InvalidSecurity")

    def test_message_id_reused_in_new_message(self):
        """
        A freshly signed message reusing an accepted MessageID is refused
        while the first message could still be valid.
        """
        message_id = new_message_id()
        self.verifier.verify(parse(signed(message_id=message_id)))
        self.clock.advance(TTL)
        self.assertRefused(signed(now=T0 + TTL, message_id=message_id), ReplayedMessage, "wsse:InvalidSecurity")

    def test_message_id_accepted_after_ttl(self):
        """
        Once the first message can no longer be valid (ttl plus twice the
        skew), its MessageID is accepted again.
        """
        message_id = new_message_id()
        self.verifier.verify(parse(signed(message_id=message_id)))
        later = T0 + TTL + 2 * SKEW + 1
        self.clock.advance(later - T0)
        result = self.verifier.verify(parse(signed(now=later, message_id=message_id)))
        self.assertEqual(result.addressing.message_id, message_id)

    def test_shared_cache(self):
        """
        Two verifiers sharing one L{ReplayCache} refuse a message the other
        accepted.
        """
        cache = ReplayCache(self.clock.seconds)
        first = Verifier([CLIENT.certificate], clock=self.clock.seconds, replay=cache)
        second = Verifier([CLIENT.certificate], clock=self.clock.seconds, replay=cache)
        data = signed()
        first.verify(parse(data))
        self.assertRefused(data, ReplayedMessage, "wsse:InvalidSecurity", verifier=second)


class WrappingTests(_VerifierMixin, SynchronousTestCase):
    """
    Signature wrapping: moving signed parts around so the signature still
    verifies while the receiver reads something else.
    """

    def test_second_body_in_header(self):
        """
        The signed Body hidden in a header element while an attacker Body
        (without the signed Id) takes its place is refused.
        """
        envelope = parse(signed())
        body = envelope.find(BODY)
        wrapper = etree.SubElement(envelope.find(HEADER), "{urn:evil}Wrapper")
        wrapper.append(copy.deepcopy(body))
        del body.attrib[ID]
        body.find(f"{{{NS}}}DescribeServices/{{{NS}}}correlationId").text = "evil"
        exc = self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")
        self.assertIn("more than one Body", str(exc))

    def test_second_body_with_changed_id(self):
        """
        As above, with the attacker Body carrying another Id.
        """
        envelope = parse(signed())
        body = envelope.find(BODY)
        wrapper = etree.SubElement(envelope.find(HEADER), "{urn:evil}Wrapper")
        wrapper.append(copy.deepcopy(body))
        body.set(ID, "Body-evil")
        self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")

    def test_body_moved_into_header(self):
        """
        The signed Body moved into the Header and a new unsigned Body put in
        its place is refused.
        """
        envelope = parse(signed())
        body = envelope.find(BODY)
        envelope.find(HEADER).append(body)
        etree.SubElement(envelope, BODY).append(request_body("evil"))
        self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")

    def test_body_moved_without_replacement(self):
        """
        The signed Body moved into the Header, leaving the envelope without
        a Body, is refused.
        """
        envelope = parse(signed())
        envelope.find(HEADER).append(envelope.find(BODY))
        self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")

    def test_addressing_header_moved(self):
        """
        The signed C{wsa:Action} hidden in a wrapper header while an
        unsigned Action takes its place is refused: a signed part must be
        where it belongs.
        """
        envelope = parse(signed())
        header = envelope.find(HEADER)
        action = header_child(envelope, "Action")
        etree.SubElement(header, "{urn:evil}Wrapper").append(action)
        etree.SubElement(header, f"{{{WSA}}}Action").text = "EucalyptusNC#ncTerminateInstance"
        exc = self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")
        self.assertIn("not in its place", str(exc))

    def test_timestamp_moved(self):
        """
        The signed Timestamp moved out of the Security header is refused.
        """
        envelope = parse(signed())
        timestamp = envelope.find(f"{HEADER}/{SECURITY}/{TIMESTAMP}")
        envelope.find(HEADER).append(timestamp)
        self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")

    def test_duplicated_id(self):
        """
        An attacker element carrying the same C{wsu:Id} as the signed Body
        is refused (the reference is ambiguous).
        """
        envelope = parse(signed())
        body = envelope.find(BODY)
        evil = etree.SubElement(envelope.find(HEADER), "{urn:evil}Payload")
        evil.set(ID, body.get(ID))
        evil.append(request_body("evil"))
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("Ambiguous", str(exc))

    def test_missing_references(self):
        """
        A signature by the pinned key over only the Body and the Timestamp
        (no addressing headers) is refused.
        """
        envelope = parse(signed())
        resign(envelope, CLIENT, [envelope.find(BODY), envelope.find(f"{HEADER}/{SECURITY}/{TIMESTAMP}")])
        exc = self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck")
        self.assertIn("Expected to find 5 references", str(exc))

    def test_reference_to_other_element(self):
        """
        A signature with the expected number of references, one of which
        names the security token instead of C{wsa:To}, is refused with
        C{wsse:InvalidSecurity}.
        """
        envelope = parse(signed())
        security = envelope.find(f"{HEADER}/{SECURITY}")
        parts = [
            envelope.find(BODY),
            security.find(TIMESTAMP),
            header_child(envelope, "Action"),
            header_child(envelope, "MessageID"),
            security.find(TOKEN),
        ]
        exc = self.assertRefused(resign(envelope, CLIENT, parts), InvalidSecurity, "wsse:InvalidSecurity")
        self.assertIn("unexpected element", str(exc))

    def test_duplicated_reference(self):
        """
        A signature referencing the Body twice and C{wsa:To} not at all is
        refused with C{wsse:InvalidSecurity}.
        """
        envelope = parse(signed())
        body = envelope.find(BODY)
        parts = [
            body,
            body,
            envelope.find(f"{HEADER}/{SECURITY}/{TIMESTAMP}"),
            header_child(envelope, "Action"),
            header_child(envelope, "MessageID"),
        ]
        self.assertRefused(resign(envelope, CLIENT, parts), InvalidSecurity, "wsse:InvalidSecurity")

    def test_extra_signature(self):
        """
        A second C{ds:Signature} anywhere in the message is refused.
        """
        envelope = parse(signed())
        signature = envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}")
        etree.SubElement(envelope.find(HEADER), "{urn:evil}Wrapper").append(copy.deepcopy(signature))
        exc = self.assertRefused(envelope, InvalidSecurity, "wsse:InvalidSecurity")
        self.assertIn("exactly one ds:Signature", str(exc))


def signed_sha1(credential=CLIENT, now=T0):
    """
    The bytes of a request envelope signed at C{now} as a legacy peer
    does: the same references, with RSA-SHA1 and SHA-1 digests.
    """
    envelope = parse(signed(credential=credential, now=now))
    return etree.tostring(resign(envelope, credential, signed_parts(envelope), sha1=True))


class AlgorithmTests(_VerifierMixin, SynchronousTestCase):
    """
    RSA-SHA1 is refused unless the verifier allows it for legacy peers.
    """

    def test_sha1_refused(self):
        """
        A message signed with RSA-SHA1 is refused by a default verifier.
        """
        exc = self.assertRefused(signed_sha1(), FailedCheck, "wsse:FailedCheck")
        self.assertIn("SHA1", str(exc))

    def test_sha1_allowed(self):
        """
        A message signed with RSA-SHA1 is accepted by a verifier with
        C{allow_sha1=True}.
        """
        verifier = Verifier([CLIENT.certificate], allow_sha1=True, clock=self.clock.seconds)
        envelope = parse(signed_sha1())
        method = envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}/{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
        self.assertEqual(method.get("Algorithm"), SignatureMethod.RSA_SHA1.value)
        self.assertEqual(verifier.verify(envelope).addressing.action, ACTION)

    def test_sign_sha1(self):
        """
        L{sign} with C{sha1=True} makes an RSA-SHA1 signature that a verifier
        allowing SHA-1 accepts.
        """
        verifier = Verifier([CLIENT.certificate], allow_sha1=True, clock=self.clock.seconds)
        envelope = parse(signed(sha1=True))
        method = envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}/{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
        self.assertEqual(method.get("Algorithm"), SignatureMethod.RSA_SHA1.value)
        self.assertEqual(verifier.verify(envelope).addressing.action, ACTION)



class ReplyTests(_VerifierMixin, SynchronousTestCase):
    """
    A reply must sign C{RelatesTo}.
    """

    def test_reply_without_relates_to(self):
        """
        Verifying a message without C{RelatesTo} as a reply fails.
        """
        self.assertRefused(signed(), FailedCheck, "wsse:FailedCheck", reply=True)

    def test_unsigned_relates_to(self):
        """
        A C{RelatesTo} added after signing does not make a request a valid
        reply.
        """
        envelope = parse(signed())
        etree.SubElement(envelope.find(HEADER), f"{{{WSA}}}RelatesTo").text = new_message_id()
        self.assertRefused(envelope, FailedCheck, "wsse:FailedCheck", reply=True)
