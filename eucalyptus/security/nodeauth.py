# -*- test-case-name: tests.security.test_nodeauth,tests.services.walrus.test_nodeauth -*-
"""
Node authentication for plain HTTP requests: how a Node Controller signs
the image downloads it makes from Walrus with its zone's node key
(Eucalyptus 3.2-3.4, C{eucav2_sign_request}).

The request carries::

    Authorization: EUCA2-RSA-SHA256 <fingerprint> <signed headers> <signature>

where the fingerprint is the hex SHA-256 of the signing certificate's DER
(the original used MD5; nothing outside this cloud checks it), the signed
headers are the lower-case names of the signed headers joined by C{;} in
sorted order, and the signature is the base64 RSA PKCS#1 v1.5 SHA-256
signature of the canonical request::

    METHOD "\\n" path "\\n" canonical query "\\n"
    name:value "\\n" ...  (one line per signed header, sorted by name)
    signed headers

The path is the one sent (percent-encoded, C{/} if empty) and the query is
canonicalised as SigV4 does.  The signed headers must include C{host} and
the request's date (C{x-amz-date}, else C{Date}), and every C{x-amz-*}
header sent.
"""

import base64
import binascii
import os
import time
from hashlib import sha256
from urllib.parse import parse_qsl, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from eucalyptus.errors import AccessDenied, AuthorizationHeaderMalformed, SignatureDoesNotMatch
from eucalyptus.security.keys import load_certificate
from eucalyptus.security.sigv2 import MAX_SKEW, parse_date, skew_error
from eucalyptus.security.sigv4 import canonical_query

__all__ = [
    "ALGORITHM",
    "SCHEME",
    "fingerprint",
    "canonical_request",
    "sign_headers",
    "verify",
    "node_certificates",
]

#: The first word of the C{Authorization} header.
ALGORITHM = "EUCA2-RSA-SHA256"
#: The name L{eucalyptus.security.awsauth.Authenticated.scheme} gives it.
SCHEME = "euca2-rsa-sha256"

_TIMESTAMP = "%Y%m%dT%H%M%SZ"


def fingerprint(certificate):
    """
    The fingerprint a signed request names its certificate by.

    @param certificate: a C{cryptography} X.509 certificate.
    @return: the lower-case hex SHA-256 of its DER bytes.
    """
    return sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def canonical_request(method, path, query, headers):
    """
    The text that is signed.

    @param path: the path as sent, percent-encoded.
    @param query: decoded C{(name, value)} pairs.
    @param headers: the signed C{(lower-case name, value)} pairs, sorted by
        name; values are trimmed and runs of spaces collapsed here.
    """
    lines = [method.upper(), path or "/", canonical_query(query)]
    lines.extend(f"{name}:{' '.join(value.split())}" for name, value in headers)
    lines.append(";".join(name for name, _ in headers))
    return "\n".join(lines)


def sign_headers(method, url, credential, now=None, headers=None):
    """
    The headers that sign a request with a node's key.

    @param method: C{"GET"}.
    @param url: the full URL the request goes to
        (C{http://walrus:8773/services/Walrus/bucket/key?x=y}).
    @param credential: the node's L{eucalyptus.security.keys.Credential}.
    @param now: seconds since the epoch (L{time.time} if L{None}).
    @param headers: other headers to send and sign (C{Range}, ...).
    @return: a L{dict} of headers to send as they are: the given ones,
        C{Host}, C{x-amz-date} and C{Authorization}.
    """
    parts = urlsplit(url)
    now = time.time() if now is None else now
    sent = dict(headers or {})
    sent["Host"] = parts.netloc.rpartition("@")[2]
    sent["x-amz-date"] = time.strftime(_TIMESTAMP, time.gmtime(now))
    signed = sorted((name.lower(), str(value)) for name, value in sent.items())
    text = canonical_request(method, parts.path, parse_qsl(parts.query, keep_blank_values=True), signed)
    signature = credential.key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    sent["Authorization"] = " ".join(
        (ALGORITHM, fingerprint(credential.certificate), ";".join(n for n, _ in signed),
         base64.b64encode(signature).decode("ascii"))
    )  # fmt: skip
    return sent


def _parse(header):
    """
    The fingerprint, signed header names and signature of an
    C{Authorization} header.

    @raise AuthorizationHeaderMalformed: not four fields, or a signature
        that is not base64.
    """
    fields = header.split()
    if len(fields) != 4 or fields[0] != ALGORITHM:
        raise AuthorizationHeaderMalformed(
            f"The {ALGORITHM} Authorization header must be "
            f"'{ALGORITHM} <certificate fingerprint> <signed headers> <signature>'."
        )
    try:
        signature = base64.b64decode(fields[3], validate=True)
    except (binascii.Error, ValueError):
        raise AuthorizationHeaderMalformed(f"The {ALGORITHM} signature is not base64.")
    return fields[1].lower(), fields[2].split(";"), signature


def verify(method, path, query, headers, certificates_by_fingerprint, now, skew=MAX_SKEW):
    """
    Check a request signed by L{sign_headers}.

    @param path: the path as sent, percent-encoded, without the query.
    @param query: decoded C{(name, value)} pairs.
    @param headers: lower-case header names to values (repeated headers
        joined by C{","}), C{authorization} among them.
    @param certificates_by_fingerprint: the certificates whose signatures
        are accepted, by L{fingerprint} (anything with a C{get}).
    @param now: seconds since the epoch.
    @param skew: seconds the request's date may be away from C{now}.
    @return: the fingerprint of the certificate that signed.
    @raise AuthorizationHeaderMalformed: the header cannot be parsed.
    @raise AccessDenied: C{host}, the date or an C{x-amz-*} header is not
        signed, a signed header is missing, there is no date, or the
        certificate is not one of C{certificates_by_fingerprint}.
    @raise RequestTimeTooSkewed: the date is more than C{skew} away.
    @raise SignatureDoesNotMatch: the signature is wrong.
    """
    found, names, signature = _parse(headers.get("authorization", ""))
    date_name = "x-amz-date" if "x-amz-date" in headers else "date"
    unsigned = {"host", date_name} | {n for n in headers if n.startswith("x-amz-")}
    unsigned.difference_update(names)
    if unsigned:
        raise AccessDenied(f"{ALGORITHM} requests must sign these headers: {', '.join(sorted(unsigned))}.")
    if names != sorted(set(names)) or any(name not in headers for name in names):
        raise AccessDenied(f"The {ALGORITHM} signed headers must be sorted, distinct, and all sent.")
    when = parse_date(headers[date_name]) if date_name in headers else None
    if when is None:
        raise AccessDenied(f"{ALGORITHM} requests need a valid x-amz-date or Date header.")
    if abs(when - now) > skew:
        raise skew_error(headers[date_name], now, skew)
    certificate = certificates_by_fingerprint.get(found)
    if certificate is None:
        raise AccessDenied(f"The certificate {found} is not a node certificate of this cloud.")
    text = canonical_request(method, path, query, [(name, headers[name]) for name in names])
    try:
        certificate.public_key().verify(signature, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise SignatureDoesNotMatch(CanonicalRequest=text)
    return found


def node_certificates(keys_dir):
    """
    Read every zone's node certificate of a key directory (blocking).

    @param keys_dir: the L{eucalyptus.security.keys.KeyStore} path
        (C{<zone>/node-cert.pem} below it).
    @return: L{fingerprint} to C{(zone, certificate)}.
    """
    found = {}
    try:
        zones = sorted(os.listdir(keys_dir))
    except FileNotFoundError:
        return found
    for zone in zones:
        path = os.path.join(keys_dir, zone, "node-cert.pem")
        if os.path.isfile(path):
            certificate = load_certificate(path)
            found[fingerprint(certificate)] = (zone, certificate)
    return found

