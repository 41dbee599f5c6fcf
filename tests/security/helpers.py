# -*- test-case-name: tests.security.test_wssec -*-
"""
Keys and message forgeries shared by the WS-Security and SOAP tests.

RSA key generation is slow, so the three test identities are made once per
test process, here: L{CLIENT} (the caller, pinned by the server), L{SERVER}
(the endpoint, pinned by the caller) and L{STRANGER} (pinned by no one).
"""

import base64
import copy
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
)

from eucalyptus.security.keys import create_pair
from eucalyptus.security.wssec import (  # noqa: F401 (re-exported for the tests)
    BODY,
    DS,
    HEADER,
    ID,
    SECURITY,
    SIGNATURE,
    SOAP_ENV,
    TIMESTAMP,
    TOKEN,
    WSA,
    WSSE,
    WSU,
)

__all__ = [
    "LAUGHS",
    "CLIENT",
    "SERVER",
    "STRANGER",
    "ID",
    "HEADER",
    "BODY",
    "SECURITY",
    "TOKEN",
    "TIMESTAMP",
    "SIGNATURE",
    "signed_parts",
    "resign",
    "signed_info",
    "redigest",
    "resign_signed_info",
]

CLIENT = create_pair("cloud")
SERVER = create_pair("cc-zone-1")
STRANGER = create_pair("intruder")



class _LegacySigner(XMLSigner):
    """
    An C{XMLSigner} that signs with SHA-1 when asked (signxml refuses by
    default), to make what a legacy peer sends.
    """

    def check_deprecated_methods(self):
        pass


def signed_parts(envelope):
    """
    The elements a request signature must reference: Body, Timestamp, To,
    Action and MessageID.
    """
    header = envelope.find(HEADER)
    parts = [envelope.find(BODY), header.find(f"{SECURITY}/{TIMESTAMP}")]
    return parts + [header.find(f"{{{WSA}}}{name}") for name in ("To", "Action", "MessageID")]


def resign(envelope, credential, elements, sha1=False):
    """
    Replace the signature of a signed envelope, in place, with one by
    C{credential} whose references are exactly C{elements}, in that order:
    what a signer with another idea of what to sign would send.

    @param sha1: sign with RSA-SHA1 and SHA-1 digests.
    @return: C{envelope}.
    """
    security = envelope.find(f"{HEADER}/{SECURITY}")
    old = security.find(SIGNATURE)
    key_info = copy.deepcopy(old.find(f"{{{DS}}}KeyInfo"))
    security.remove(old)
    signer = _LegacySigner(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SignatureMethod.RSA_SHA1 if sha1 else SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA1 if sha1 else DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    uris = ["#" + element.get(ID) for element in elements]
    signature = signer.sign(envelope, key=credential.key, reference_uri=uris, key_info=key_info, id_attribute="Id")
    security.append(signature)
    return envelope

def signed_info(envelope):
    """
    The C{ds:SignedInfo} of a signed envelope's signature.
    """
    return envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}/{{{DS}}}SignedInfo")


def redigest(envelope, reference, digest=hashlib.sha256, prefixes=None):
    """
    Recompute the DigestValue of one C{ds:Reference} of an envelope's
    signature from the element it names, with exclusive C14N, as a signer
    that meant the reference as it now reads would.

    @param reference: the C{ds:Reference} element.
    @param digest: a C{hashlib} constructor.
    @param prefixes: the InclusiveNamespaces prefix list to canonicalise with.
    @return: C{envelope}.
    """
    (element,) = envelope.xpath("//*[@wsu:Id = $id]", namespaces={"wsu": WSU}, id=reference.get("URI")[1:])
    data = etree.tostring(
        element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes
    )
    reference.find(f"{{{DS}}}DigestValue").text = base64.b64encode(digest(data).digest()).decode("ascii")
    return envelope


def resign_signed_info(envelope, credential, hash_class=hashes.SHA256):
    """
    Recompute the SignatureValue of an envelope's signature over its
    SignedInfo as it now reads (exclusive C14N), so that a changed
    SignedInfo carries a genuine signature by C{credential}: what a signer
    that really meant it would send.

    @param hash_class: the C{cryptography} hash of the RSA signature.
    @return: C{envelope}.
    """
    signature = envelope.find(f"{HEADER}/{SECURITY}/{SIGNATURE}")
    data = etree.tostring(signed_info(envelope), method="c14n", exclusive=True, with_comments=False)
    value = credential.key.sign(data, padding.PKCS1v15(), hash_class())
    signature.find(f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode("ascii")
    return envelope


#: A billion-laughs entity-expansion bomb.
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body><lolz>&lol9;</lolz></soapenv:Body>
</soapenv:Envelope>"""
