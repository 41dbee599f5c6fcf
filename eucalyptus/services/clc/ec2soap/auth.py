# -*- test-case-name: tests.services.clc.test_ec2_soap -*-
"""
Who signed an EC2 SOAP request: WS-Security with the user's X.509
certificate, as the cloud issued it (C{euca-admin credentials}, the
C{EC2_CERT} of an C{eucarc}) and recorded it, active, in the account
store.

A request is accepted when its C{wsse:Security} header holds a
C{wsu:Timestamp} and one signature (exclusive C14N, RSA-SHA256; RSA-SHA1
only when allowed) whose references are exactly the envelope's C{Body} and
that C{Timestamp}, made by the key of a certificate the signature's
C{KeyInfo} carries (a C{SecurityTokenReference} to a
C{BinarySecurityToken}, as zeep's C{BinarySignature} and WSS4J send it, or
holding C{X509Data}, as zeep's C{Signature} does).  The signature is
checked by L{eucalyptus.security.xmldsig} with the certificate's key only
after the certificate was found in the account store: an unknown
certificate is refused before any cryptography.  The timestamp must be
current within the clock skew, and a signature is accepted once.

What the caller then reads is the signed copy of the Body, never the raw
document.  Every refusal is an L{AuthFailure} (C{Client.AuthFailure}).

This is the user-facing counterpart of
L{eucalyptus.security.wssec.Verifier}, which pins the cloud's own
component certificates and also requires WS-Addressing headers.
"""

import binascii
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from signxml import DigestAlgorithm, SignatureMethod
from sqlalchemy import select
from twisted.internet import threads

from eucalyptus import accounts as tables
from eucalyptus.accounts import ADMIN_ACCOUNT
from eucalyptus.errors import EucalyptusError, ReplayedMessage
from eucalyptus.security import xmldsig
from eucalyptus.security.wssec import BODY, DS, ENVELOPE, HEADER, ID, SECURITY, TIMESTAMP, TOKEN, WSSE, WSU, X509V3
from eucalyptus.security.wssec import ReplayCache
from eucalyptus.services.clc.ec2.dispatch import Caller
from eucalyptus.services.clc.ec2.errors import AuthFailure

__all__ = ["SignedRequest", "CertificateAuthority", "certificate_caller"]

_SIGNATURE = f"{{{DS}}}Signature"
_KEY_INFO = f"{{{DS}}}KeyInfo"
_STR = f"{{{WSSE}}}SecurityTokenReference"
_STR_REFERENCE = f"{{{WSSE}}}Reference"
_X509_DATA = f"{{{DS}}}X509Data"
_X509_CERTIFICATE = f"{{{DS}}}X509Certificate"


@dataclass(frozen=True)
class SignedRequest:
    """
    A verified request.

    @ivar body: the signed C{soap:Body} (a fresh tree of what was signed).
    @ivar caller: the L{Caller} whose certificate signed it.
    """

    body: object
    caller: Caller


def certificate_caller(store, der):
    """
    The L{Caller} whose active certificate is C{der}, or L{None}
    (blocking: it reads the account store).

    The caller acts with its user's first active access key where an
    action needs one (C{RegisterImage} reads the manifest with it); the
    key id is empty when it has none.

    @param store: the L{eucalyptus.accounts.AccountStore}.
    @param der: the certificate, DER.
    """
    pem = x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode("ascii")
    query = (
        select(tables.accounts.c.account_id, tables.accounts.c.name, tables.users.c.user_id, tables.users.c.name)
        .join_from(tables.certificates, tables.users)
        .join(tables.accounts)
        .where(tables.certificates.c.pem == pem, tables.certificates.c.status == "Active")
    )
    keys = (
        select(tables.access_keys.c.access_key_id)
        .where(tables.access_keys.c.status == "Active")
        .order_by(tables.access_keys.c.created, tables.access_keys.c.access_key_id)
    )
    with store.engine.connect() as db:
        row = db.execute(query).first()
        if row is None:
            return None
        account_id, account_name, user_id, user_name = row
        key = db.execute(keys.where(tables.access_keys.c.user_id == user_id)).scalar()
    return Caller(account_id, account_name, user_id, user_name, key or "", account_name == ADMIN_ACCOUNT)


class CertificateAuthority:
    """
    Verifies signed EC2 SOAP requests against the certificates the cloud
    issued to its users.

    @ivar ttl: seconds a looked-up certificate is trusted before it is
        read again (a deactivated certificate stops working within it).
    """

    def __init__(self, store, ttl=30.0, max_age=300, skew=20, allow_sha1=False, clock=time.time,
                 lookup=threads.deferToThread):  # fmt: skip
        """
        @param store: the L{eucalyptus.accounts.AccountStore}.
        @param max_age: longest accepted age of a message, seconds.
        @param skew: allowed clock difference, seconds.
        @param allow_sha1: accept RSA-SHA1 and SHA-1 digests (old EC2 SOAP
            clients sign so).
        @param clock: POSIX seconds.
        @param lookup: runs a blocking call off the reactor
            (C{deferToThread}).
        """
        self.store = store
        self.ttl = ttl
        self.max_age = max_age
        self.skew = skew
        self.clock = clock
        self.lookup = lookup
        self.replay = ReplayCache(clock)
        self._callers = {}
        methods, digests = [SignatureMethod.RSA_SHA256], [DigestAlgorithm.SHA256]
        if allow_sha1:
            methods.append(SignatureMethod.RSA_SHA1)
            digests.append(DigestAlgorithm.SHA1)
        self._policy = xmldsig.Policy.allowing(methods, digests)

    async def verify(self, envelope):
        """
        Check a request envelope and find who signed it.

        @param envelope: the parsed C{soap:Envelope}.
        @return: a L{SignedRequest}.
        @raise AuthFailure: the request is not signed as it must be, or
            not by a certificate the cloud issued.
        """
        try:
            return await self._verify(envelope)
        except EucalyptusError as error:
            if isinstance(error, AuthFailure):
                raise
            raise AuthFailure(error.message)

    async def _verify(self, envelope):
        if envelope.tag != ENVELOPE:
            raise AuthFailure("The request is not a SOAP 1.1 envelope.")
        header = _one(envelope, HEADER, "soap:Header")
        _one(envelope, BODY, "soap:Body")
        if _count(envelope, BODY) != 1:
            raise AuthFailure("The request has more than one Body.")
        security = _one(header, SECURITY, "wsse:Security header")
        if _count(envelope, _SIGNATURE) != 1:
            raise AuthFailure("The request must carry exactly one ds:Signature.")
        signature = _one(security, _SIGNATURE, "ds:Signature in the security header")
        der = _signer_certificate(security, signature)
        caller = await self._caller(der)
        if caller is None:
            raise AuthFailure("The request is signed with a certificate this cloud did not issue, or revoked.")
        certificate = x509.load_der_x509_certificate(der)
        now = datetime.now(timezone.utc)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise AuthFailure("The certificate that signed the request is not valid now.")
        references = xmldsig.check_signature(envelope, signature, certificate.public_key(), self._policy, 2)
        places = {BODY: envelope, TIMESTAMP: security}
        signed = {}
        for reference in references:
            tag = reference.element.tag
            if tag not in places or tag in signed or reference.signed.tag != tag:
                raise AuthFailure(f"The signature references an unexpected element {tag}.")
            if reference.element.getparent() is not places[tag]:
                raise AuthFailure("A signed part of the request is not in its place.")
            signed[tag] = reference.signed
        if set(signed) != set(places):
            raise AuthFailure("The signature must sign the Body and the Timestamp.")
        created = self._check_timestamp(signed[TIMESTAMP])
        value = "".join((signature.findtext(f"{{{DS}}}SignatureValue") or "").split())
        try:
            self.replay.check_and_remember(
                hashlib.sha256(value.encode("ascii")).hexdigest(), created + self.max_age + 2 * self.skew
            )
        except ReplayedMessage:
            raise AuthFailure("This signed request was already received: sign each request anew.")
        return SignedRequest(signed[BODY], caller)

    async def _caller(self, der):
        cached = self._callers.get(der)
        now = self.clock()
        if cached is None or now - cached[0] > self.ttl:
            if len(self._callers) > 1000:
                self._callers.clear()
            cached = (now, await self.lookup(certificate_caller, self.store, der))
            self._callers[der] = cached
        return cached[1]

    def _check_timestamp(self, timestamp):
        created = _time(_one(timestamp, f"{{{WSU}}}Created", "wsu:Created").text)
        expires_element = timestamp.find(f"{{{WSU}}}Expires")
        now = self.clock()
        if created > now + self.skew:
            raise AuthFailure("The request was created in the future; make sure the clocks are synchronised.")
        if now - created > self.max_age + self.skew:
            raise AuthFailure("The request has expired; make sure the clocks are synchronised.")
        if expires_element is not None and _time(expires_element.text) < now - self.skew:
            raise AuthFailure("The request has expired; make sure the clocks are synchronised.")
        return created


def _signer_certificate(security, signature):
    """
    The DER of the certificate the signature's KeyInfo names.

    @raise AuthFailure: it names none, or not in a way this cloud reads.
    """
    reference = _only_child(_only_child(signature.find(_KEY_INFO), _STR), None)
    if reference is not None and reference.tag == _STR_REFERENCE:
        uri = reference.get("URI") or ""
        tokens = [token for token in security.iterchildren(TOKEN) if "#" + (token.get(ID) or "") == uri]
        if len(tokens) != 1 or tokens[0].get("ValueType") != X509V3:
            raise AuthFailure("The signature does not reference an X.509v3 BinarySecurityToken of the request.")
        text = tokens[0].text
    elif reference is not None and reference.tag == _X509_DATA:
        certificates = list(reference.iterchildren(_X509_CERTIFICATE))
        if len(certificates) != 1:
            raise AuthFailure("The signature's X509Data must hold one X509Certificate.")
        text = certificates[0].text
    else:
        raise AuthFailure("The signature's KeyInfo must name the signer's X.509 certificate.")
    try:
        der = binascii.a2b_base64("".join((text or "").split()), strict_mode=True)
        x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise AuthFailure("The signer's certificate is not a base64 DER X.509 certificate.")
    return der


def _one(parent, tag, what):
    found = list(parent.iterchildren(tag))
    if len(found) != 1:
        raise AuthFailure(f"The request must carry exactly one {what}, not {len(found)}.")
    return found[0]


def _only_child(parent, tag):
    """
    The only element child of C{parent} (of C{tag}, unless L{None}), or
    L{None}.
    """
    if parent is None:
        return None
    children = [child for child in parent if isinstance(child.tag, str)]
    if len(children) != 1 or (tag is not None and children[0].tag != tag):
        return None
    return children[0]


def _count(root, tag):
    return sum(1 for _ in root.iterdescendants(tag))


def _time(text):
    text = (text or "").strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AuthFailure(f"The timestamp {text!r} is not an xsd:dateTime.")
    if moment.tzinfo is None:
        raise AuthFailure(f"The timestamp {text!r} has no time zone.")
    return moment.timestamp()
