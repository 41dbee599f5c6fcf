# -*- test-case-name: tests.security.test_ec2sigv2 -*-
"""
Signature version 2 of the AWS query APIs (EC2, IAM, ...), which is not
S3's signature version 2 (L{eucalyptus.security.sigv2}).

The request carries C{AWSAccessKeyId}, C{SignatureVersion=2},
C{SignatureMethod} (C{HmacSHA256} or C{HmacSHA1}), C{Timestamp} or
C{Expires}, and C{Signature} among its parameters, in the query of a C{GET}
or in the form body of a C{POST}.  The signature is the base64 HMAC, under
the secret key, of::

    METHOD "\\n" host "\\n" path "\\n"
    name=value&name=value...

where the host is the C{Host} header in lower case, the path is the request
path as sent (C{/} when empty), and the pairs are every parameter but
C{Signature}, sorted by name, names and values percent-encoded with only
RFC 3986's unreserved characters left as they are (botocore's
C{SigV2Auth}, boto 2's C{QuerySignatureV2AuthHandler}).
"""

import base64
import hmac
from datetime import datetime, timezone
from hashlib import sha1, sha256
from urllib.parse import quote

from eucalyptus.errors import IncompleteSignature, InvalidAccessKeyId, RequestExpired, SignatureDoesNotMatch
from eucalyptus.security.sigv2 import MAX_SKEW, iso8601

__all__ = ["METHODS", "AUTH_PARAMETERS", "verify", "string_to_sign", "sign", "parse_timestamp"]

#: The signature methods accepted, by their C{SignatureMethod} name.
METHODS = {"HmacSHA256": sha256, "HmacSHA1": sha1}

#: The parameters that sign a request rather than ask something of it.
AUTH_PARAMETERS = frozenset(
    ("AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp", "Expires", "SecurityToken")
)


def verify(request, params, secret_for, now, max_skew=MAX_SKEW):
    """
    Check the query SigV2 signature of a request.

    @param request: the L{eucalyptus.security.awsauth.SignedRequest}, for
        its method, C{Host} and path.
    @param params: every C{(name, value)} parameter of the request, from
        the query and from a form body.
    @param secret_for: C{secret_for(access_key_id)} returns the secret key,
        or L{None} for an unknown or inactive key.
    @param now: the current time, in seconds since the epoch.
    @param max_skew: seconds C{Timestamp} may be away from C{now}.
    @return: the access key id that signed.
    @raise IncompleteSignature: a signing parameter is missing, repeated or
        unsupported.
    @raise RequestExpired: C{Timestamp} is too far from C{now}, or C{Expires}
        has passed.
    @raise InvalidAccessKeyId: the key is unknown or inactive.
    @raise SignatureDoesNotMatch: the signature is not the one we compute.
    """
    signing = {}
    for name, value in params:
        if name in AUTH_PARAMETERS:
            if name in signing:
                raise IncompleteSignature(f"The parameter {name} must be given only once.")
            signing[name] = value
    for name in ("AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion"):
        if not signing.get(name):
            raise IncompleteSignature(f"The request signature must contain the parameter {name}.")
    if signing["SignatureVersion"] != "2":
        raise IncompleteSignature(f"SignatureVersion {signing['SignatureVersion']} is not supported; use 2 or 4.")
    digest = METHODS.get(signing["SignatureMethod"])
    if digest is None:
        raise IncompleteSignature(
            f"SignatureMethod {signing['SignatureMethod']} is not supported; use HmacSHA256 or HmacSHA1."
        )
    _check_time(signing, now, max_skew)
    access_key_id = signing["AWSAccessKeyId"]
    secret = secret_for(access_key_id)
    if secret is None:
        raise InvalidAccessKeyId(AWSAccessKeyId=access_key_id)
    # A "+" decoded as a space by form decoding was a base64 "+".
    provided = signing["Signature"].replace(" ", "+")
    host = request.host
    for candidate_host in dict.fromkeys((host.lower(), host)):
        text = string_to_sign(request.method, candidate_host, request.path, params)
        if hmac.compare_digest(sign(secret, text, digest).encode(), provided.encode()):
            return access_key_id
    raise SignatureDoesNotMatch(
        AWSAccessKeyId=access_key_id,
        StringToSign=string_to_sign(request.method, host.lower(), request.path, params),
        SignatureProvided=provided,
    )


def _check_time(signing, now, max_skew):
    """
    The request must carry C{Timestamp} within C{max_skew} of C{now}, or an
    C{Expires} that has not passed.
    """
    timestamp, expires = signing.get("Timestamp"), signing.get("Expires")
    if not timestamp and not expires:
        raise IncompleteSignature("The request signature must contain the parameter Timestamp or Expires.")
    for name, value in (("Timestamp", timestamp), ("Expires", expires)):
        if value and parse_timestamp(value) is None:
            raise IncompleteSignature(f"The {name} {value!r} is not an ISO 8601 date and time.")
    if timestamp and abs(parse_timestamp(timestamp) - now) > max_skew:
        raise RequestExpired(
            f"Request timestamp {timestamp} is more than {max_skew // 60} minutes away from "
            f"the server's time, {iso8601(now)}."
        )
    if expires and parse_timestamp(expires) < now:
        raise RequestExpired(f"Request has expired: it expired at {expires}; the server's time is {iso8601(now)}.")


def parse_timestamp(value):
    """
    Seconds since the epoch of an ISO 8601 date and time
    (C{2016-11-15T12:00:00Z}, C{2016-11-15T12:00:00.123Z},
    C{2016-11-15T12:00:00+01:00}); without a zone it is UTC.

    @return: a L{float}, or L{None} if C{value} is not one.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def string_to_sign(method, host, path, params):
    """
    The SigV2 string to sign of a query request.

    @param params: C{(name, value)} pairs; C{Signature} is left out.
    """
    pairs = sorted((name.encode("utf-8"), value) for name, value in params if name != "Signature")
    query = "&".join(f"{quote(name, safe='-_.~')}={quote(value.encode('utf-8'), safe='-_.~')}" for name, value in pairs)
    return f"{method.upper()}\n{host}\n{path or '/'}\n{query}"


def sign(secret, text, digest=sha256):
    """
    The base64 HMAC of C{text} under C{secret}.
    """
    mac = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), digest).digest()
    return base64.b64encode(mac).decode("ascii")
