# -*- test-case-name: tests.security.test_xmldsig -*-
"""
The XML-Signature core of L{eucalyptus.security.wssec}: one detached
signature over elements of the same document, named by their C{Id}
attributes, with exclusive C14N and RSA, made and checked with lxml and
C{cryptography}.

signxml's C{XMLVerifier} re-serialises and re-parses the whole document for
every reference and looks each one up with a new XPath, which made a signed
call cost four times an unsigned one.  L{check_signature} makes the same
checks by the same rules in one pass:

  - the C{ds:Signature} holds C{SignedInfo}, C{SignatureValue} and an
    optional C{KeyInfo}, nothing else;
  - C{SignedInfo} is canonicalised with its C{CanonicalizationMethod}, which
    must be exclusive C14N (with or without comments), and C{SignatureValue}
    is checked over it with the I{pinned} key and the C{SignatureMethod},
    which the L{Policy} must allow;
  - only then are the references read, from the canonical C{SignedInfo}
    bytes just verified, never from the tree: their number must be the
    expected one; each must name, by C{#Id}, one element of the document
    (an C{Id} value carried by two elements refuses the whole message,
    which also defeats signature wrapping); its one transform must be
    exclusive C14N, honouring an C{InclusiveNamespaces} prefix list; its
    digest algorithm must be allowed; and the digest of the element's
    canonical form must match;
  - the caller gets, for each reference, the element it named and a fresh
    tree parsed from the canonical bytes that were digested: what was
    signed, and only that.

Anything else (enveloped-signature, XPath or base64 transforms, inclusive
C14N, references without a transform, external or XPointer URIs, DSA,
ECDSA, HMAC, RSA-PSS) is refused; no peer of ours sends it.  signxml
remains the reference: its algorithm identifiers are used here, its
C{XMLSigner} still makes the legacy RSA-SHA1 signatures, and the tests check
that each side accepts what the other signs.

L{sign_elements} makes the same shape of signature as signxml's
C{XMLSigner}, from a skeleton built once per shape.
"""

import base64
import binascii
import copy
import functools
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from eucalyptus.errors import FailedCheck

__all__ = [
    "DS",
    "EC",
    "EXC_C14N",
    "EXC_C14N_WITH_COMMENTS",
    "Policy",
    "SignedReference",
    "canonical",
    "sign_elements",
    "check_signature",
]

DS = "http://www.w3.org/2000/09/xmldsig#"
#: The namespace of C{InclusiveNamespaces}.
EC = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value
EXC_C14N_WITH_COMMENTS = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0_WITH_COMMENTS.value

_SIGNATURE = f"{{{DS}}}Signature"
_SIGNED_INFO = f"{{{DS}}}SignedInfo"
_C14N_METHOD = f"{{{DS}}}CanonicalizationMethod"
_SIGNATURE_METHOD = f"{{{DS}}}SignatureMethod"
_REFERENCE = f"{{{DS}}}Reference"
_TRANSFORMS = f"{{{DS}}}Transforms"
_TRANSFORM = f"{{{DS}}}Transform"
_DIGEST_METHOD = f"{{{DS}}}DigestMethod"
_DIGEST_VALUE = f"{{{DS}}}DigestValue"
_SIGNATURE_VALUE = f"{{{DS}}}SignatureValue"
_KEY_INFO = f"{{{DS}}}KeyInfo"
_INCLUSIVE_NAMESPACES = f"{{{EC}}}InclusiveNamespaces"

#: The children a C{ds:Signature} may have, in order.
_SIGNATURE_SHAPES = ([_SIGNED_INFO, _SIGNATURE_VALUE], [_SIGNED_INFO, _SIGNATURE_VALUE, _KEY_INFO])
#: The children a C{ds:Reference} must have, in order.
_REFERENCE_SHAPE = [_TRANSFORMS, _DIGEST_METHOD, _DIGEST_VALUE]

#: Canonicalisation algorithm URI to "with comments".
_EXCLUSIVE = {EXC_C14N: False, EXC_C14N_WITH_COMMENTS: True}

#: The RSA PKCS#1 v1.5 signature methods this module can check or make.
_RSA_HASHES = {
    SignatureMethod.RSA_SHA1: hashes.SHA1,
    SignatureMethod.RSA_SHA224: hashes.SHA224,
    SignatureMethod.RSA_SHA256: hashes.SHA256,
    SignatureMethod.RSA_SHA384: hashes.SHA384,
    SignatureMethod.RSA_SHA512: hashes.SHA512,
}

#: The digest algorithms this module can compute.
_DIGESTS = {
    DigestAlgorithm.SHA1: hashlib.sha1,
    DigestAlgorithm.SHA224: hashlib.sha224,
    DigestAlgorithm.SHA256: hashlib.sha256,
    DigestAlgorithm.SHA384: hashlib.sha384,
    DigestAlgorithm.SHA512: hashlib.sha512,
}

#: Algorithm URI to signxml's name for it, for messages.
_NAMES = {algorithm.value: algorithm.name for algorithm in (*SignatureMethod, *DigestAlgorithm)}

#: Every attribute whose local name is C{Id}, in any namespace (as signxml's
#: C{id_attribute="Id"}), on the context element and below it.  Constant.
_ID_ATTRIBUTES = etree.XPath("descendant-or-self::*/@*[local-name() = 'Id']")

#: For the canonical bytes of what was verified: no DTD, no entities.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
#: The same for a verified C{SignedInfo}, whose comments and processing
#: instructions mean nothing.
_SIGNED_INFO_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True
)


@dataclass(frozen=True)
class Policy:
    """
    The algorithms a verifier accepts, keyed by their URIs.

    @ivar methods: the allowed RSA signature method URIs, each mapped to its
        C{cryptography} hash class.
    @ivar digests: the allowed digest algorithm URIs, each mapped to its
        C{hashlib} constructor.
    """

    methods: dict
    digests: dict

    @classmethod
    def allowing(cls, methods, digests):
        """
        @param methods: the allowed RSA L{SignatureMethod}s.
        @param digests: the allowed L{DigestAlgorithm}s.
        @return: a L{Policy}.
        @raise KeyError: for an algorithm this module cannot check.
        """
        return cls(
            {method.value: _RSA_HASHES[method] for method in methods},
            {digest.value: _DIGESTS[digest] for digest in digests},
        )


@dataclass(frozen=True)
class SignedReference:
    """
    One verified reference of a signature.

    @ivar uri: the reference's C{URI} (C{#} and the C{Id}).
    @ivar element: the element of the document the reference names (to
        check where it is; never to read from).
    @ivar signed: a fresh tree parsed from the canonical bytes that were
        digested: the signed content.
    """

    uri: str
    element: etree._Element
    signed: etree._Element


def _refuse(reason):
    """
    The error for a signature that must not be trusted.

    @param reason: what is wrong, one sentence.
    @return: a L{FailedCheck}.
    """
    return FailedCheck(f"The signature does not verify: {reason}")


def canonical(element, with_comments=False, prefixes=None):
    """
    The exclusive canonical form of an element, in place (exclusive C14N
    does not depend on the ancestors' namespace declarations, so no copy is
    needed).

    @param element: an lxml element.
    @param with_comments: keep comments (C{#WithComments}).
    @param prefixes: the C{InclusiveNamespaces} prefix list, or C{None}.
    @return: C{bytes}.
    """
    return etree.tostring(
        element, method="c14n", exclusive=True, with_comments=with_comments, inclusive_ns_prefixes=prefixes
    )


def _b64(data):
    return base64.b64encode(data).decode("ascii")


@functools.lru_cache(maxsize=16)
def _skeleton(count, method, digest):
    """
    An unfilled C{ds:Signature} with C{count} references, shaped as
    signxml's C{XMLSigner} makes it (C{ds:} prefix, one exclusive C14N
    transform per reference); built once per shape, since copying it is
    several times cheaper than building it.

    @return: a C{ds:Signature} holding C{SignedInfo} and C{SignatureValue};
        never modify it, copy it.
    """
    signature = etree.Element(_SIGNATURE, nsmap={"ds": DS})
    signed_info = etree.SubElement(signature, _SIGNED_INFO)
    etree.SubElement(signed_info, _C14N_METHOD, Algorithm=EXC_C14N)
    etree.SubElement(signed_info, _SIGNATURE_METHOD, Algorithm=method.value)
    for _ in range(count):
        reference = etree.SubElement(signed_info, _REFERENCE, URI="")
        etree.SubElement(etree.SubElement(reference, _TRANSFORMS), _TRANSFORM, Algorithm=EXC_C14N)
        etree.SubElement(reference, _DIGEST_METHOD, Algorithm=digest.value)
        etree.SubElement(reference, _DIGEST_VALUE)
    etree.SubElement(signature, _SIGNATURE_VALUE)
    return signature


def sign_elements(references, key, key_info, method=SignatureMethod.RSA_SHA256, digest=DigestAlgorithm.SHA256):
    """
    A detached C{ds:Signature} over elements of one document, shaped as
    signxml's C{XMLSigner} makes it, with C{KeyInfo} last.

    @param references: (C{Id}, element) pairs, in the order to sign them.
    @param key: the RSA private key (C{cryptography}).
    @param key_info: the C{ds:KeyInfo} element to put in the signature.
    @param method: an RSA L{SignatureMethod}.
    @param digest: a L{DigestAlgorithm}.
    @return: the new C{ds:Signature} element, not yet in any document.
    """
    signature = copy.deepcopy(_skeleton(len(references), method, digest))
    signed_info, signature_value = signature
    digest_function = _DIGESTS[digest]
    for (identifier, element), reference in zip(references, signed_info[2:]):
        reference.set("URI", "#" + identifier)
        reference[2].text = _b64(digest_function(canonical(element)).digest())
    value = key.sign(canonical(signed_info), padding.PKCS1v15(), _RSA_HASHES[method]())
    signature_value.text = _b64(value)
    signature.append(key_info)
    return signature


def check_signature(root, signature, public_key, policy, expect_references):
    """
    Check a detached signature over elements of C{root} with a pinned key.

    @param root: the element the references point into (the envelope).
    @param signature: the C{ds:Signature} element (somewhere in C{root}).
    @param public_key: the pinned RSA public key (C{cryptography}).
    @param policy: the L{Policy} of allowed algorithms.
    @param expect_references: how many references there must be.
    @return: a list of L{SignedReference}, in the signature's order.
    @raise FailedCheck: when anything is wrong.
    """
    signed_info = _verified_signed_info(signature, public_key, policy)
    references = signed_info[2:]
    if any(reference.tag != _REFERENCE for reference in references):
        raise _refuse("SignedInfo holds something other than References.")
    if len(references) != expect_references:
        raise _refuse(f"Expected to find {expect_references} references, but found {len(references)}.")
    ids = _index_ids(root)
    return [_check_reference(reference, ids, policy) for reference in references]


def _elements(parent):
    """
    The element children of C{parent} (no comments or processing
    instructions).
    """
    return list(parent.iterchildren(etree.Element))


def _verified_signed_info(signature, public_key, policy):
    """
    Check C{SignatureValue} over the canonical C{SignedInfo} and return
    C{SignedInfo} parsed back from the bytes that were verified.

    @raise FailedCheck: when the signature's shape, its algorithms or its
        value are not right.
    """
    children = _elements(signature)
    if [child.tag for child in children] not in _SIGNATURE_SHAPES:
        raise _refuse("A ds:Signature holds SignedInfo, SignatureValue and KeyInfo, and nothing else.")
    signed_info, signature_value = children[:2]
    found = _elements(signed_info)
    if len(found) < 2 or found[0].tag != _C14N_METHOD or found[1].tag != _SIGNATURE_METHOD:
        raise _refuse("SignedInfo must start with CanonicalizationMethod and SignatureMethod.")
    with_comments, prefixes = _exclusive_c14n(found[0], "CanonicalizationMethod")
    hash_class = _allowed(policy.methods, found[1].get("Algorithm"), "Signature method")
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise _refuse("The pinned key is not an RSA key.")
    data = canonical(signed_info, with_comments, prefixes)
    try:
        public_key.verify(_base64(signature_value.text, "SignatureValue"), data, padding.PKCS1v15(), hash_class())
    except InvalidSignature:
        raise _refuse("Signature verification failed: the SignatureValue was not made by the pinned key.")
    return etree.fromstring(data, _SIGNED_INFO_PARSER)


def _exclusive_c14n(element, what):
    """
    The (with comments, inclusive prefixes) of a C{CanonicalizationMethod}
    or C{Transform} element, which must name exclusive C14N.

    @param what: the element's name, for the message.
    @raise FailedCheck: for any other algorithm, or other content.
    """
    algorithm = element.get("Algorithm")
    if algorithm not in _EXCLUSIVE:
        raise _refuse(f"The {what} {algorithm!r} is not exclusive C14N.")
    children = _elements(element)
    if not children:
        return _EXCLUSIVE[algorithm], None
    if len(children) != 1 or children[0].tag != _INCLUSIVE_NAMESPACES or children[0].get("PrefixList") is None:
        raise _refuse(f"The {what} holds something other than one InclusiveNamespaces PrefixList.")
    return _EXCLUSIVE[algorithm], children[0].get("PrefixList").split()


def _allowed(allowed, uri, what):
    """
    What C{allowed} maps the algorithm C{uri} to.

    @param what: the kind of algorithm, for the message.
    @raise FailedCheck: when the algorithm is unknown or not allowed.
    """
    implementation = allowed.get(uri)
    if implementation is None:
        raise _refuse(f"{what} {_NAMES.get(uri, repr(uri))} forbidden by configuration.")
    return implementation


def _base64(text, what):
    """
    Decode C{xs:base64Binary} text, which may be broken into lines.

    @param what: the element's name, for the message.
    @raise FailedCheck: when it is not base64.
    """
    try:
        return binascii.a2b_base64("".join((text or "").split()), strict_mode=True)
    except binascii.Error:
        raise _refuse(f"The {what} is not base64.")


def _index_ids(root):
    """
    Every C{Id} value under C{root} (any attribute whose local name is
    C{Id}), mapped to its element, in one pass.

    @raise FailedCheck: when two elements carry the same value: a reference
        to it would be ambiguous, and a duplicate is how signature wrapping
        hides the signed copy.
    """
    ids = {}
    for value in _ID_ATTRIBUTES(root):
        element = value.getparent()
        value = str(value)
        if ids.setdefault(value, element) is not element:
            raise _refuse(f"Ambiguous Id {value!r}: more than one element carries it.")
    return ids


def _check_reference(reference, ids, policy):
    """
    Resolve one verified reference, check its transform and its digest,
    and parse what it signed.

    @param reference: a C{Reference} of the verified C{SignedInfo}.
    @param ids: the document's C{Id} values and their elements.
    @param policy: the L{Policy} of allowed algorithms.
    @return: a L{SignedReference}.
    @raise FailedCheck: when any of that fails.
    """
    uri = reference.get("URI")
    if [child.tag for child in reference] != _REFERENCE_SHAPE:
        raise _refuse(f"Reference {uri!r} must hold Transforms, DigestMethod and DigestValue.")
    transforms, digest_method, digest_value = reference
    if uri is None or not uri.startswith("#") or uri.startswith("#xpointer("):
        raise _refuse(f"Reference URI {uri!r} does not name an element by its Id.")
    element = ids.get(uri[1:])
    if element is None:
        raise _refuse(f"Unable to resolve reference URI {uri!r}.")
    if len(transforms) != 1 or transforms[0].tag != _TRANSFORM:
        raise _refuse(f"Reference {uri!r} must have exactly one Transform, exclusive C14N.")
    with_comments, prefixes = _exclusive_c14n(transforms[0], "Transform")
    digest = _allowed(policy.digests, digest_method.get("Algorithm"), "Digest algorithm")
    data = canonical(element, with_comments, prefixes)
    if not hmac.compare_digest(digest(data).digest(), _base64(digest_value.text, "DigestValue")):
        raise _refuse(f"Digest mismatch for reference {uri!r}.")
    return SignedReference(uri, element, etree.fromstring(data, _PARSER))
