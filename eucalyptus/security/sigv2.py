# -*- test-case-name: tests.security.test_sigv2 -*-
"""
S3 signature version 2: C{Authorization: AWS <key id>:<signature>} and
query-string authentication (C{AWSAccessKeyId}, C{Expires}, C{Signature}).

The signature is the base64 HMAC-SHA1, under the secret key, of::

    VERB "\\n" Content-MD5 "\\n" Content-Type "\\n" Date "\\n"
    CanonicalizedAmzHeaders CanonicalizedResource

where C{Date} is the C{Date} header (the empty string when C{x-amz-date} is
sent; the C{Expires} parameter for query authentication), the amz headers
are the C{x-amz-*} headers as C{name:value} lines sorted by name, and the
resource is a path followed by the S3 sub-resources of the query, sorted.

Which path a client signed is not always the path it sent, because Walrus is
reached three ways: at C{/} on its own port, path-style under
C{/services/Walrus} on the cloud's port, and virtual-host style
(C{bucket.host/key}).  botocore signs C{/bucket/key} (its C{auth_path})
whatever the path of its endpoint, signs C{/bucket/} for a bucket whether or
not it sent the slash, and signs the path as sent when there is no bucket
(C{GET /services/Walrus}); boto 2 and euca2ools sign the path as sent,
mount point included.  L{verify} therefore accepts a signature made over any
of the few resources L{resource_paths} lists for a request.

The small helpers for dates and error details are shared with
L{eucalyptus.security.sigv4}.
"""

import base64
import calendar
import hmac
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from hashlib import sha1

from eucalyptus.errors import (
    AccessDenied,
    AwsError,
    InvalidAccessKeyId,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)

__all__ = [
    "SUBRESOURCES",
    "MAX_SKEW",
    "InvalidArgument",
    "verify",
    "resource_paths",
    "canonical_resource",
    "string_to_sign",
    "sign",
    "parse_date",
    "iso8601",
    "hex_bytes",
    "skew_error",
]

#: Seconds a request's date may be away from ours (S3 allows 15 minutes).
MAX_SKEW = 900

#: Query parameters that are part of the canonical resource, as botocore's
#: C{HmacV1Auth.QSAOfInterest} lists them.
SUBRESOURCES = frozenset(
    [
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete",
        "inventory", "lifecycle", "location", "logging", "metrics",
        "notification", "object-lock", "partNumber", "policy", "replication",
        "requestPayment", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "response-content-language",
        "response-content-type", "response-expires", "restore", "select",
        "select-type", "storageClass", "tagging", "torrent", "uploadId",
        "uploads", "versionId", "versioning", "versions", "website",
    ]
)

_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"


class InvalidArgument(AwsError):
    """
    An argument of the request (a header, a query parameter) is invalid; the
    details name it (C{ArgumentName}, C{ArgumentValue}).
    """

    code = "InvalidArgument"
    http_status = 400
    message = "Invalid Argument"


def verify(request, secret_for, now, max_skew=MAX_SKEW):
    """
    Check the SigV2 signature of C{request}: its C{Authorization} header if
    it has one, its query parameters otherwise.

    @param request: the request (a
        L{eucalyptus.security.awsauth.SignedRequest}).
    @param secret_for: C{secret_for(access_key_id)} returns the secret key,
        or L{None} for an unknown or inactive key.
    @param now: the current time, in seconds since the epoch.
    @param max_skew: seconds the C{Date} may be away from C{now}.
    @return: the access key id that signed the request.
    @raise AwsError: C{InvalidArgument} (malformed header),
        C{AccessDenied} (no date, expired, incomplete query parameters),
        C{RequestTimeTooSkewed}, C{InvalidAccessKeyId} or
        C{SignatureDoesNotMatch}.
    """
    header = request.headers.get("authorization")
    if header is not None:
        access_key_id, provided = _parse_header(header)
        dates = _header_dates(request, now, max_skew)
        amz = _amz_headers(request.headers)
        standard = request.headers
    else:
        access_key_id, provided, expires = _parse_query(request.query, now)
        dates = [expires]
        params = {name.lower(): value for name, value in reversed(request.query)}
        amz = _amz_headers({**params, **request.headers})
        standard = {**params, **request.headers}
    secret = secret_for(access_key_id)
    if secret is None:
        raise InvalidAccessKeyId(AWSAccessKeyId=access_key_id)
    candidates = []
    for resource in resource_paths(request):
        for date in dates:
            text = string_to_sign(
                request.method,
                standard.get("content-md5", ""),
                standard.get("content-type", ""),
                date,
                amz,
                canonical_resource(resource, request.query),
            )
            if text not in candidates:
                candidates.append(text)
    for text in candidates:
        if hmac.compare_digest(sign(secret, text).encode(), provided.encode()):
            return access_key_id
    raise SignatureDoesNotMatch(
        AWSAccessKeyId=access_key_id,
        StringToSign=candidates[0],
        SignatureProvided=provided,
        StringToSignBytes=hex_bytes(candidates[0]),
    )


def _parse_header(header):
    """
    Split C{AWS <key id>:<signature>}.
    """
    scheme, _, credentials = header.partition(" ")
    access_key_id, colon, provided = credentials.strip().rpartition(":")
    if scheme != "AWS" or not colon or not access_key_id or not provided:
        raise InvalidArgument(
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
            ArgumentName="Authorization",
            ArgumentValue=header,
        )
    return access_key_id, provided


def _header_dates(request, now, max_skew):
    """
    Check the request's date against the clock and return the values the
    client may have signed as the Date line: the empty string when
    C{x-amz-date} is present (the documented rule, boto 2) but also the
    C{Date} header (botocore signs it even then).
    """
    amz_date = request.headers.get("x-amz-date")
    date = request.headers.get("date")
    sent = amz_date if amz_date is not None else date
    when = parse_date(sent) if sent is not None else None
    if when is None:
        raise AccessDenied(_NO_DATE)
    if abs(when - now) > max_skew:
        raise skew_error(sent, now, max_skew)
    if amz_date is None:
        return [date]
    return [""] if date is None else ["", date]


def _parse_query(query, now):
    """
    Read C{AWSAccessKeyId}, C{Signature} and C{Expires}, and check that the
    URL has not expired.
    """
    params = dict(reversed(query))
    access_key_id = params.get("AWSAccessKeyId")
    provided = params.get("Signature")
    expires = params.get("Expires")
    if not access_key_id or not provided or not expires:
        raise AccessDenied(
            "Query-string authentication requires the Signature, Expires and "
            "AWSAccessKeyId parameters"
        )
    try:
        deadline = int(expires)
    except ValueError:
        raise AccessDenied(f"Invalid date (should be seconds since epoch): {expires}")
    if now > deadline:
        raise AccessDenied(
            "Request has expired", Expires=iso8601(deadline), ServerTime=iso8601(now)
        )
    # A "+" decoded as a space by form decoding was a base64 "+".
    return access_key_id, provided.replace(" ", "+"), expires


def _amz_headers(headers):
    """
    The C{x-amz-*} entries of C{headers} (lower-case names) as sorted
    C{name:value} pairs.
    """
    return sorted((name, value) for name, value in headers.items() if name.startswith("x-amz-"))


def resource_paths(request):
    """
    The paths a client may have signed for C{request}, the most likely
    (botocore's) first.

    For a virtual-host request the bucket is put in front of the path; the
    mount point (C{request.mount}, e.g. C{/services/Walrus}) is tried both
    removed and kept; a path that names only a bucket is tried with and
    without a trailing slash.

    @param request: a L{eucalyptus.security.awsauth.SignedRequest}.
    @return: a list of percent-encoded paths, without duplicates.
    """
    path = request.path or "/"
    mount = request.mount.rstrip("/")
    bases = [path]
    if mount and (path == mount or path.startswith(mount + "/")):
        bases.insert(0, path[len(mount):] or "/")
    paths = []
    for base in bases:
        if request.virtual_bucket:
            base = "/" + request.virtual_bucket + base
        if base.count("/") == 1 and len(base) > 1:
            paths.append(base + "/")
        paths.append(base)
    return list(dict.fromkeys(paths))


def canonical_resource(path, query):
    """
    The CanonicalizedResource: C{path}, then the S3 sub-resources of
    C{query} sorted by name (C{?acl}, C{?uploadId=...&partNumber=...}).

    @param path: the percent-encoded path the client signed.
    @param query: decoded C{(name, value)} pairs; a value of C{""} is written
        as a bare name, as a valueless C{?acl} is.
    """
    subresources = sorted(
        ((name, value) for name, value in query if name in SUBRESOURCES),
        key=lambda pair: pair[0],
    )
    if not subresources:
        return path
    return path + "?" + "&".join(
        f"{name}={value}" if value else name for name, value in subresources
    )


def string_to_sign(method, content_md5, content_type, date, amz_headers, resource):
    """
    Assemble the SigV2 string to sign.

    @param amz_headers: sorted C{(name, value)} pairs of C{x-amz-*} headers.
    @param resource: the canonical resource.
    """
    lines = [method.upper(), content_md5, content_type, date]
    lines.extend(f"{name}:{value}" for name, value in amz_headers)
    lines.append(resource)
    return "\n".join(lines)


def sign(secret, text):
    """
    The base64 HMAC-SHA1 of C{text} under C{secret}.
    """
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_date(value):
    """
    Read a request date: RFC 1123 (C{Tue, 24 Nov 2026 01:18:55 GMT}) or ISO
    8601 basic (C{20261124T011855Z}).

    @return: seconds since the epoch, or L{None} if C{value} is neither.
    """
    value = value.strip()
    try:
        parsed = datetime.strptime(value, "%Y%m%dT%H%M%SZ")
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return calendar.timegm(parsed.utctimetuple())


def iso8601(seconds):
    """
    C{seconds} since the epoch as S3 writes times in errors
    (C{2026-11-24T01:18:55Z}).
    """
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def hex_bytes(text):
    """
    The UTF-8 bytes of C{text} as space-separated hex, as S3 gives
    C{StringToSignBytes}.
    """
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))


def skew_error(sent, now, max_skew):
    """
    The L{RequestTimeTooSkewed} for a request dated C{sent} (as sent).
    """
    return RequestTimeTooSkewed(
        RequestTime=sent,
        ServerTime=iso8601(now),
        MaxAllowedSkewMilliseconds=str(max_skew * 1000),
    )
