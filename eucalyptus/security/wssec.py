# -*- test-case-name: tests.security.test_wssec -*-
"""
WS-Security for every internal SOAP message, on signxml.

A signed envelope carries, in its header, the WS-Addressing C{To}, C{Action}
and C{MessageID} (and C{RelatesTo} on replies) and a C{wsse:Security} header
holding an X.509v3 C{BinarySecurityToken}, a C{wsu:Timestamp} and one XML
signature (exclusive C14N, RSA-SHA256; RSA-SHA1 only for legacy peers) whose
references are exactly the Body, the Timestamp and those addressing headers.

L{sign} adds all of that to an envelope.  L{Verifier} checks a received one
against pinned certificates and returns a L{VerifiedMessage} built only from
the canonical bytes that were verified as signed: the caller never reads the
raw document after verification.  Every failure is a
L{eucalyptus.errors.SecurityError} subclass, never a crash and never a silent
pass.

The XML-Signature work itself (references, exclusive C14N, digests, RSA)
is done by L{eucalyptus.security.xmldsig}, with signxml's rules but without
its per-reference re-parsing of the whole document; signxml's C{XMLSigner}
still makes the legacy RSA-SHA1 signatures.
"""

import base64
import functools
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureMethod,
    SignatureConstructionMethod,
    XMLSigner,
)

from eucalyptus.errors import FailedCheck, InvalidSecurity, MessageExpired, ReplayedMessage
from eucalyptus.security import xmldsig

__all__ = [
    "SOAP_ENV",
    "WSSE",
    "WSU",
    "WSA",
    "DS",
    "ANONYMOUS",
    "ID",
    "ENVELOPE",
    "HEADER",
    "BODY",
    "SECURITY",
    "TOKEN",
    "TIMESTAMP",
    "SIGNATURE",
    "Addressing",
    "VerifiedMessage",
    "Verifier",
    "ReplayCache",
    "sign",
    "new_message_id",
]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSA = "http://www.w3.org/2005/08/addressing"
DS = xmldsig.DS
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
ANONYMOUS = WSA + "/anonymous"

ID = f"{{{WSU}}}Id"
ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
HEADER = f"{{{SOAP_ENV}}}Header"
BODY = f"{{{SOAP_ENV}}}Body"
SECURITY = f"{{{WSSE}}}Security"
TOKEN = f"{{{WSSE}}}BinarySecurityToken"
TIMESTAMP = f"{{{WSU}}}Timestamp"
SIGNATURE = f"{{{DS}}}Signature"
_STR = f"{{{WSSE}}}SecurityTokenReference"
_STR_REFERENCE = f"{{{WSSE}}}Reference"
_ADDRESSING = ("To", "Action", "MessageID", "RelatesTo")

_SHA256 = (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256)
_SHA1 = (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1)


def new_message_id():
    """
    A WS-Addressing MessageID as the original makes them: C{urn:uuid:} and
    32 upper-case hex digits.
    """
    return "urn:uuid:" + uuid.uuid4().hex.upper()


@dataclass(frozen=True)
class Addressing:
    """
    The WS-Addressing headers of one message.

    @ivar to: the endpoint URL (L{ANONYMOUS} on replies).
    @ivar action: C{<Service>#<Operation>} (C{...Response} on replies).
    @ivar message_id: C{urn:uuid:...}.
    @ivar relates_to: on replies, the request's MessageID.
    """

    to: str
    action: str
    message_id: str
    relates_to: str = None

    def items(self):
        return [
            (name, value)
            for name, value in zip(_ADDRESSING, (self.to, self.action, self.message_id, self.relates_to))
            if value is not None
        ]


@dataclass(frozen=True)
class VerifiedMessage:
    """
    What a verified envelope says, taken only from the signed parts.

    @ivar body: the signed C{soap:Body} element (a fresh tree).
    @ivar addressing: the signed L{Addressing} headers.
    @ivar created: the signed timestamp's creation time (POSIX seconds).
    @ivar expires: the signed timestamp's expiry time (POSIX seconds).
    @ivar certificate: the pinned certificate that verified the signature.
    """

    body: etree._Element
    addressing: Addressing
    created: float
    expires: float
    certificate: x509.Certificate

    def envelope(self):
        """
        A new envelope holding only the signed Body, for the SOAP layer.
        """
        envelope = etree.Element(ENVELOPE, nsmap={"soapenv": SOAP_ENV})
        envelope.append(self.body)
        return envelope


def _format_time(seconds):
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(text):
    text = (text or "").strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSecurity(f"The timestamp {text!r} is not an xsd:dateTime.")
    if moment.tzinfo is None:
        raise InvalidSecurity(f"The timestamp {text!r} has no time zone.")
    return moment.timestamp()


def _child(parent, tag):
    """
    The one child of C{parent} with C{tag}; refuses none or several.
    """
    found = list(parent.iterchildren(tag))
    if len(found) != 1:
        name = etree.QName(tag).localname
        raise InvalidSecurity(f"Expected exactly one {name}, found {len(found)}.")
    return found[0]


class _LegacySigner(XMLSigner):
    """
    signxml's signer, allowed RSA-SHA1 and SHA-1 digests, used only when
    L{sign} is asked to sign for a legacy peer.
    """

    def check_deprecated_methods(self):
        pass


def sign(envelope, credential, addressing, ttl=300, sha1=False, now=None):
    """
    Add WS-Addressing headers, a security header and a signature to an
    envelope, in place.

    @param envelope: the C{soap:Envelope} element, with its Body filled in.
    @param credential: the signer's L{eucalyptus.security.keys.Credential}.
    @param addressing: the L{Addressing} headers to add (and sign).
    @param ttl: seconds until the timestamp expires.
    @param sha1: sign with RSA-SHA1 and SHA-1 digests (legacy peers only).
    @param now: the signing time, POSIX seconds (for tests).
    @return: C{envelope}.
    """
    now = time.time() if now is None else now
    header = envelope.find(HEADER)
    if header is None:
        header = etree.Element(HEADER)
        envelope.insert(0, header)
    # One random suffix per message; the prefixes keep the Ids distinct.
    suffix = uuid.uuid4().hex
    parts = [_identify(envelope.find(BODY), "Body", suffix)]
    for name, value in addressing.items():
        element = etree.SubElement(header, f"{{{WSA}}}{name}", nsmap={"wsa": WSA, "wsu": WSU})
        element.text = value
        parts.append(_identify(element, name, suffix))
    security = etree.SubElement(header, SECURITY, nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(f"{{{SOAP_ENV}}}mustUnderstand", "1")
    token_id = _add_token(security, credential, suffix)
    parts.append(_identify(_add_timestamp(security, now, ttl), "TS", suffix))
    if sha1:
        signature = _legacy_signature(envelope, credential, parts, _key_info(token_id))
    else:
        signature = xmldsig.sign_elements(parts, credential.key, _key_info(token_id), *_SHA256)
    security.append(signature)
    return envelope


def _identify(element, prefix, suffix):
    """
    Give C{element} the C{wsu:Id} C{<prefix>-<suffix>}.

    @return: the (Id, element) pair to sign.
    """
    identifier = f"{prefix}-{suffix}"
    element.set(ID, identifier)
    return identifier, element


def _add_token(security, credential, suffix):
    """
    Add the signer's certificate to the security header as a
    BinarySecurityToken.

    @return: the token's C{wsu:Id}.
    """
    token = etree.SubElement(security, TOKEN, ValueType=X509V3, EncodingType=BASE64)
    identifier, _ = _identify(token, "X509", suffix)
    token.text = _token_text(credential.certificate)
    return identifier


def _add_timestamp(security, now, ttl):
    """
    Add a C{wsu:Timestamp} created at C{now} and expiring C{ttl} seconds
    later to the security header.

    @return: the timestamp element.
    """
    timestamp = etree.SubElement(security, TIMESTAMP)
    etree.SubElement(timestamp, f"{{{WSU}}}Created").text = _format_time(now)
    etree.SubElement(timestamp, f"{{{WSU}}}Expires").text = _format_time(now + ttl)
    return timestamp


def _key_info(token_id):
    """
    A C{ds:KeyInfo} referencing the BinarySecurityToken C{token_id}
    directly.
    """
    key_info = etree.Element(f"{{{DS}}}KeyInfo")
    reference = etree.SubElement(
        etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference"), f"{{{WSSE}}}Reference"
    )
    reference.set("URI", "#" + token_id)
    reference.set("ValueType", X509V3)
    return key_info


@functools.lru_cache(maxsize=32)
def _token_text(certificate):
    """
    The base64 DER of a certificate, as a BinarySecurityToken carries it
    (computed once per certificate).
    """
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")


def _legacy_signature(envelope, credential, references, key_info):
    """
    An RSA-SHA1 signature with SHA-1 digests, for legacy peers, made by
    signxml's own signer (rare, so its cost does not matter).

    @param references: (C{Id}, element) pairs to sign.
    @return: the C{ds:Signature} element.
    """
    signer = _LegacySigner(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=_SHA1[0],
        digest_algorithm=_SHA1[1],
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    uris = ["#" + identifier for identifier, _ in references]
    return signer.sign(envelope, key=credential.key, reference_uri=uris, key_info=key_info, id_attribute="Id")


class ReplayCache:
    """
    The MessageIDs accepted recently, each kept until its message expires.

    @ivar clock: returns the time in POSIX seconds.
    """

    def __init__(self, clock=time.time):
        self.clock = clock
        self._seen = {}
        self._next_purge = 0

    def check_and_remember(self, message_id, until):
        """
        Remember C{message_id} until C{until}.

        @raise ReplayedMessage: when it was seen and has not expired.
        """
        now = self.clock()
        if now >= self._next_purge:
            self._seen = {mid: end for mid, end in self._seen.items() if end > now}
            self._next_purge = now + 30
        if self._seen.get(message_id, 0) > now:
            raise ReplayedMessage(f"MessageID {message_id} was already received.")
        self._seen[message_id] = until


class Verifier:
    """
    Checks signed envelopes against pinned certificates.

    @ivar trusted: the certificates whose keys may sign (compared byte for
        byte with the message's BinarySecurityToken; no chains).
    """

    def __init__(self, trusted, ttl=300, skew=20, allow_sha1=False, clock=time.time, replay=None):
        """
        @param trusted: an iterable of C{cryptography} certificates.
        @param ttl: longest accepted lifetime of a message, seconds.
        @param skew: allowed clock difference, seconds.
        @param allow_sha1: accept RSA-SHA1 and SHA-1 digests.
        @param clock: returns the time in POSIX seconds.
        @param replay: a L{ReplayCache}; a new one by default.
        """
        self.trusted = {cert.public_bytes(Encoding.DER): cert for cert in trusted}
        self._pins = {der: _Pin.of(cert) for der, cert in self.trusted.items()}
        self._tokens = {_token_text(cert): der for der, cert in self.trusted.items()}
        self.ttl = ttl
        self.skew = skew
        self.clock = clock
        self.replay = replay or ReplayCache(clock)
        methods, digests = [_SHA256[0]], [_SHA256[1]]
        if allow_sha1:
            methods.append(_SHA1[0])
            digests.append(_SHA1[1])
        self._policy = xmldsig.Policy.allowing(methods, digests)

    def verify(self, envelope, reply=False):
        """
        Verify a signed envelope.

        @param envelope: the parsed C{soap:Envelope} element.
        @param reply: C{True} for a reply, which must also sign C{RelatesTo}.
        @return: a L{VerifiedMessage}.
        @raise eucalyptus.errors.SecurityError: when anything is wrong.
        """
        if envelope.tag != ENVELOPE:
            raise InvalidSecurity("The message is not a SOAP 1.1 envelope.")
        header = _child(envelope, HEADER)
        _child(envelope, BODY)
        if _count(envelope, BODY) != 1:
            raise InvalidSecurity("The message has more than one Body.")
        security = _child(header, SECURITY)
        if _count(envelope, SIGNATURE) != 1:
            raise InvalidSecurity("Expected exactly one ds:Signature in the message.")
        signature = _child(security, SIGNATURE)
        pin = self._pinned_token(security, signature)

        expected = {BODY, TIMESTAMP} | {f"{{{WSA}}}{name}" for name in _ADDRESSING[: 4 if reply else 3]}
        references = xmldsig.check_signature(envelope, signature, pin.public_key, self._policy, len(expected))
        signed = self._signed_parts(envelope, header, security, references, expected)
        created, expires = self._check_timestamp(signed[TIMESTAMP])
        texts = {name: _text(signed.get(f"{{{WSA}}}{name}")) for name in _ADDRESSING}
        addressing = Addressing(texts["To"], texts["Action"], texts["MessageID"], texts["RelatesTo"])
        if not addressing.message_id:
            raise InvalidSecurity("The signed MessageID is empty.")
        self.replay.check_and_remember(addressing.message_id, created + self.ttl + 2 * self.skew)
        return VerifiedMessage(signed[BODY], addressing, created, expires, pin.certificate)

    def _pinned_token(self, security, signature):
        """
        The L{_Pin} of the pinned certificate equal to the message's token,
        which the signature's KeyInfo must reference directly (and hold
        nothing else: no KeyValue or X509Data naming another key), and
        which must be valid now.

        @raise InvalidSecurity: when the token or the reference to it is
            missing or malformed.
        @raise FailedCheck: when the certificate is not pinned or not valid.
        """
        token = _child(security, TOKEN)
        if token.get("ValueType") != X509V3:
            raise InvalidSecurity("The security token is not an X.509v3 certificate.")
        reference = _only_child(_only_child(signature.find(f"{{{DS}}}KeyInfo"), _STR), _STR_REFERENCE)
        if reference is None or token.get(ID) is None or reference.get("URI") != "#" + token.get(ID):
            raise InvalidSecurity("The signature does not reference the message's security token.")
        # xs:base64Binary may be broken into lines (xmlsec, WSS4J do so).
        text = "".join((token.text or "").split())
        der = self._tokens.get(text)
        if der is None:
            try:
                der = base64.b64decode(text, validate=True)
            except ValueError:
                raise InvalidSecurity("The security token is not base64.")
        if der not in self._pins:
            raise FailedCheck("The message was signed with a key that differs from the key on disk.")
        pin = self._pins[der]
        pin.check_validity()
        return pin

    def _signed_parts(self, envelope, header, security, references, expected):
        """
        Check that each verified reference names one of the C{expected}
        elements, once, in its place, and return the signed copies by tag.

        @param references: the L{xmldsig.SignedReference}s.
        @raise InvalidSecurity: when a part is unexpected, repeated,
            misplaced or missing.
        """
        places = {BODY: envelope, TIMESTAMP: security}
        signed = {}
        for reference in references:
            tag = reference.element.tag
            if tag not in expected or tag in signed or reference.signed.tag != tag:
                raise InvalidSecurity(f"The signature references an unexpected element {tag}.")
            if reference.element.getparent() is not places.get(tag, header):
                raise InvalidSecurity(f"The signed {etree.QName(tag).localname} is not in its place.")
            signed[tag] = reference.signed
        if set(signed) != expected:
            missing = ", ".join(sorted(etree.QName(t).localname for t in expected - set(signed)))
            raise InvalidSecurity(f"These parts must be signed and are not: {missing}.")
        return signed

    def _check_timestamp(self, timestamp):
        created = _parse_time(_child(timestamp, f"{{{WSU}}}Created").text)
        expires = _parse_time(_child(timestamp, f"{{{WSU}}}Expires").text)
        now = self.clock()
        if created > now + self.skew:
            raise MessageExpired("The message was created in the future; make sure the clocks are synchronised.")
        if expires < now - self.skew or now - created > self.ttl + self.skew:
            raise MessageExpired("The message has expired; make sure the clocks are synchronised.")
        return created, expires


@dataclass(frozen=True)
class _Pin:
    """
    A pinned certificate with what checking a signature needs from it,
    worked out once.

    @ivar certificate: the certificate.
    @ivar public_key: its public key.
    @ivar not_before: the start of its validity, an aware C{datetime}.
    @ivar not_after: the end of its validity, an aware C{datetime}.
    """

    certificate: x509.Certificate
    public_key: object
    not_before: datetime
    not_after: datetime

    @classmethod
    def of(cls, certificate):
        """
        @param certificate: a C{cryptography} certificate.
        @return: its L{_Pin}.
        """
        return cls(
            certificate, certificate.public_key(), certificate.not_valid_before_utc, certificate.not_valid_after_utc
        )

    def check_validity(self):
        """
        Refuse a certificate outside its own validity period, on the wall
        clock, as signxml does (the message's timestamp is checked on the
        verifier's clock).

        @raise FailedCheck: when it is not valid now.
        """
        if not self.not_before <= datetime.now(timezone.utc) <= self.not_after:
            raise FailedCheck(
                f"The pinned certificate {self.certificate.subject.rfc4514_string()} is not valid now"
                f" (valid {self.not_before:%Y-%m-%d} to {self.not_after:%Y-%m-%d})."
            )


def _only_child(parent, tag):
    """
    The child of C{parent} with C{tag}, when it is its only element child.

    @param parent: an element, or C{None}.
    @return: the child, or C{None}.
    """
    children = [] if parent is None else list(parent.iterchildren(etree.Element))
    return children[0] if len(children) == 1 and children[0].tag == tag else None


def _count(root, tag):
    """
    How many elements below C{root} have C{tag}.
    """
    return sum(1 for _ in root.iterdescendants(tag))


def _text(element):
    return None if element is None else element.text
