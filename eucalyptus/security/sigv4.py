# -*- test-case-name: tests.security.test_sigv4,tests.security.test_awschunked,tests.security.test_ec2sigv2 -*-
"""
AWS signature version 4: the C{Authorization: AWS4-HMAC-SHA256 ...} header,
presigned URLs (C{X-Amz-Algorithm}, C{X-Amz-Credential}, ...), and the
chained chunk signatures of an C{aws-chunked} body.

The signature is the hex HMAC-SHA256, under a key derived from the secret,
the date, the region and the service, of::

    AWS4-HMAC-SHA256 "\\n" timestamp "\\n" date/region/service/aws4_request "\\n"
    hex(sha256(canonical request))

and the canonical request is::

    METHOD "\\n" canonical URI "\\n" canonical query "\\n"
    name:value "\\n" (one line per signed header) "\\n"
    signed;header;names "\\n" payload hash

For S3 the canonical URI is the path exactly as sent (already
percent-encoded, never normalised); other services normalise it and encode
it again.  Any region is accepted: Walrus and the cloud are single-region and
sign with whatever the client's scope says.

An C{aws-chunked} body is decoded by
L{eucalyptus.security.awsauth.AwsChunkedDecoder}, which needs no key, so
that the HTTP layer can decode the body as it arrives, before the request is
authenticated; the L{ChunkVerifier} that L{verify} returns then checks the
chain of chunk signatures, seeded by the request's own signature.
"""

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from hashlib import sha256
from urllib.parse import quote

from eucalyptus.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    AwsError,
    InvalidAccessKeyId,
    MissingSecurityHeader,
    SignatureDoesNotMatch,
)
from eucalyptus.security.sigv2 import MAX_SKEW, InvalidArgument, hex_bytes, iso8601, parse_date, skew_error

__all__ = [
    "ALGORITHM",
    "UNSIGNED_PAYLOAD",
    "STREAMING_PAYLOAD",
    "STREAMING_PAYLOAD_TRAILER",
    "STREAMING_UNSIGNED_TRAILER",
    "EMPTY_SHA256",
    "MAX_EXPIRES",
    "InvalidRequest",
    "PresignedUrlExpired",
    "verify",
    "signing_key",
    "canonical_uri",
    "canonical_query",
    "canonical_request",
    "Chunk",
    "ChunkVerifier",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = sha256(b"").hexdigest()

#: The longest a presigned URL may live: a week.
MAX_EXPIRES = 7 * 24 * 3600

_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_MALFORMED = {
    AuthorizationHeaderMalformed: "The authorization header is malformed; ",
    AuthorizationQueryParametersError: "Error parsing the X-Amz-Credential parameter; ",
}


class PresignedUrlExpired(AccessDenied):
    """
    A presigned URL used after its C{X-Amz-Expires}: S3's C{AccessDenied},
    which the query APIs call C{RequestExpired}.
    """


class InvalidRequest(AwsError):
    """
    The request is invalid in a way no more specific S3 code describes (a
    missing C{x-amz-content-sha256}, a malformed C{aws-chunked} body).
    """

    code = "InvalidRequest"
    http_status = 400
    message = "Invalid Request"


@dataclass(frozen=True)
class _Claim:
    """
    What a request says about its signature, before it is checked.

    @ivar timestamp: the request time in ISO 8601 basic form, as signed.
    @ivar payload_hash: the C{x-amz-content-sha256} the canonical request
        ends with, or L{None} if there is none.
    @ivar malformed: the error class for a malformed claim (header or query
        flavour).
    """

    access_key_id: str
    scope: tuple
    signed_headers: tuple
    signature: str
    timestamp: str
    payload_hash: str | None
    malformed: type


def verify(request, secret_for, now, service="s3", max_skew=MAX_SKEW):
    """
    Check the SigV4 signature of C{request}: its C{Authorization} header if
    it has one, its presigning query parameters otherwise.

    @param request: the request (a
        L{eucalyptus.security.awsauth.SignedRequest}).
    @param secret_for: C{secret_for(access_key_id)} returns the secret key,
        or L{None} for an unknown or inactive key.
    @param now: the current time, in seconds since the epoch.
    @param service: the service the credential scope must name.
    @param max_skew: seconds a header-signed request's date may be away from
        C{now} (and a presigned URL's date may be in the future).
    @return: C{(access_key_id, payload_sha256, chunks)}: the key that signed;
        the hex SHA-256 the body must have, or L{None} when it was not
        signed; a L{ChunkVerifier} when the body is C{aws-chunked}, else
        L{None}.
    @raise AwsError: see L{eucalyptus.security.awsauth.authenticate}.
    """
    header = request.headers.get("authorization")
    if header is not None:
        claim = _from_header(request, header, service, now, max_skew)
    else:
        claim = _from_query(request, now, max_skew, service)
    date, region, claimed_service, terminal = claim.scope
    problem = None
    if date != claim.timestamp[:8]:
        problem = "Invalid credential date. Date is not the same as X-Amz-Date."
    elif claimed_service != service:
        problem = f'incorrect service "{claimed_service}". This endpoint belongs to "{service}".'
    elif terminal != "aws4_request":
        problem = f'incorrect terminal "{terminal}". This endpoint uses "aws4_request".'
    elif "host" not in claim.signed_headers:
        problem = "the host header must be signed."
    if problem is not None:
        raise claim.malformed(_MALFORMED[claim.malformed] + problem, Region=region)
    unsigned = sorted(
        name for name in request.headers if name.startswith("x-amz-") and name not in claim.signed_headers
    )
    if unsigned:
        raise AccessDenied(
            "There were headers present in the request which were not signed",
            HeadersNotSigned=", ".join(unsigned),
        )
    payload_hash = claim.payload_hash
    if payload_hash is None:
        if service == "s3":
            raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
        payload_hash = sha256(request.body or b"").hexdigest()
    secret = secret_for(claim.access_key_id)
    if secret is None:
        raise InvalidAccessKeyId(AWSAccessKeyId=claim.access_key_id)
    key = signing_key(secret, date, region, claimed_service)
    canonical = canonical_request(
        request.method,
        canonical_uri(request.path, service),
        canonical_query(request.query, presigned=header is None),
        [(name, request.headers.get(name, "")) for name in claim.signed_headers],
        payload_hash,
    )
    scope = "/".join(claim.scope)
    text = "\n".join([ALGORITHM, claim.timestamp, scope, sha256(canonical.encode("utf-8")).hexdigest()])
    expected = hmac.new(key, text.encode("utf-8"), sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
        raise SignatureDoesNotMatch(
            AWSAccessKeyId=claim.access_key_id,
            StringToSign=text,
            SignatureProvided=claim.signature,
            StringToSignBytes=hex_bytes(text),
            CanonicalRequest=canonical,
            CanonicalRequestBytes=hex_bytes(canonical),
        )
    return claim.access_key_id, *_payload(request, claim, key, scope)


def _from_header(request, header, service, now, max_skew):
    """
    Parse C{AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...}
    and check the request's date against the clock.
    """
    algorithm, _, rest = header.partition(" ")
    if algorithm != ALGORITHM:
        raise InvalidArgument("Unsupported Authorization Type", ArgumentName="Authorization", ArgumentValue=header)
    fields = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            fields[name.strip()] = value.strip()
    if not all(fields.get(name) for name in ("Credential", "SignedHeaders", "Signature")):
        raise AuthorizationHeaderMalformed(
            "The authorization header is malformed; the authorization header requires three "
            "components: Credential, SignedHeaders, and Signature."
        )
    access_key_id, scope = _credential(fields["Credential"], AuthorizationHeaderMalformed)
    amz_date = request.headers.get("x-amz-date")
    if amz_date is not None:
        sent, when = amz_date, _parse_timestamp(amz_date)
    else:
        sent = request.headers.get("date")
        when = parse_date(sent) if sent is not None else None
    if when is None:
        raise AccessDenied("AWS authentication requires a valid Date or x-amz-date header")
    if abs(when - now) > max_skew:
        raise skew_error(sent, now, max_skew)
    declared = request.headers.get("x-amz-content-sha256")
    return _Claim(
        access_key_id,
        scope,
        tuple(fields["SignedHeaders"].split(";")),
        fields["Signature"],
        amz_date or datetime.fromtimestamp(when, timezone.utc).strftime(_TIMESTAMP),
        None if declared is None else _declared_payload(declared),
        AuthorizationHeaderMalformed,
    )


def _from_query(request, now, max_skew, service):
    """
    Read the presigning parameters, and check that the URL is valid now.
    S3 URLs sign C{UNSIGNED-PAYLOAD} unless they say otherwise; other
    services' (botocore's C{SigV4QueryAuth}) sign the body's hash.
    """
    params = {}
    for name, value in request.query:
        if name in _QUERY_PARAMS or name == "X-Amz-Security-Token":
            if name in params:
                raise AuthorizationQueryParametersError(f"{name} must be given only once.")
            params[name] = value
    if not all(params.get(name) for name in _QUERY_PARAMS):
        raise AuthorizationQueryParametersError(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthorizationQueryParametersError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    access_key_id, scope = _credential(params["X-Amz-Credential"], AuthorizationQueryParametersError)
    when = _parse_timestamp(params["X-Amz-Date"])
    if when is None:
        raise AuthorizationQueryParametersError(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    expires = params["X-Amz-Expires"]
    if not expires.isdigit() or not 1 <= int(expires) <= MAX_EXPIRES:
        raise AuthorizationQueryParametersError(
            f"X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES} (a week)"
        )
    if now > when + int(expires):
        raise PresignedUrlExpired(
            "Request has expired",
            **{"X-Amz-Expires": expires, "Expires": iso8601(when + int(expires)), "ServerTime": iso8601(now)},
        )
    if when - now > max_skew:
        raise AccessDenied("Request is not valid yet", ServerTime=iso8601(now))
    declared = request.headers.get("x-amz-content-sha256", UNSIGNED_PAYLOAD if service == "s3" else None)
    return _Claim(
        access_key_id,
        scope,
        tuple(params["X-Amz-SignedHeaders"].split(";")),
        params["X-Amz-Signature"],
        params["X-Amz-Date"],
        None if declared is None else _declared_payload(declared),
        AuthorizationQueryParametersError,
    )


def _credential(value, malformed):
    """
    Split C{AKID/YYYYMMDD/region/service/aws4_request}.
    """
    parts = value.split("/")
    if len(parts) != 5 or not all(parts):
        raise malformed(
            _MALFORMED[malformed] + "the Credential is mal-formed; expecting "
            '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    return parts[0], tuple(parts[1:])


def _parse_timestamp(value):
    """
    Seconds since the epoch of an ISO 8601 basic timestamp, or L{None}.
    """
    try:
        parsed = datetime.strptime(value, _TIMESTAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return parsed.timestamp()


def _declared_payload(value):
    """
    Check an C{x-amz-content-sha256} value.
    """
    streaming = (STREAMING_PAYLOAD, STREAMING_PAYLOAD_TRAILER, STREAMING_UNSIGNED_TRAILER)
    if value == UNSIGNED_PAYLOAD or value in streaming or _SHA256_HEX.fullmatch(value):
        return value
    raise InvalidArgument(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "or a valid sha256 value.",
        ArgumentName="x-amz-content-sha256",
        ArgumentValue=value,
    )


def _payload(request, claim, key, scope):
    """
    How the body of a verified request must be checked: C{(payload_sha256,
    chunks)}.
    """
    declared = claim.payload_hash
    if declared is None or declared == UNSIGNED_PAYLOAD:
        # Without x-amz-content-sha256 (not S3) the hash was of the body.
        return None, None
    if _SHA256_HEX.fullmatch(declared):
        return declared.lower(), None
    length = request.headers.get("x-amz-decoded-content-length")
    if length is None:
        raise MissingSecurityHeader(
            "Your request is missing a required header: x-amz-decoded-content-length",
            MissingHeaderName="x-amz-decoded-content-length",
        )
    if not length.isdigit():
        raise InvalidArgument(
            "x-amz-decoded-content-length must be a number of bytes",
            ArgumentName="x-amz-decoded-content-length",
            ArgumentValue=length,
        )
    signed = declared != STREAMING_UNSIGNED_TRAILER
    trailer = declared != STREAMING_PAYLOAD
    return None, ChunkVerifier(key if signed else None, claim.timestamp, scope, claim.signature, trailer)


def signing_key(secret, date, region, service):
    """
    The SigV4 signing key for C{secret} on C{date} (C{YYYYMMDD}) in
    C{region} for C{service}.

    @rtype: L{bytes}
    """
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), sha256).digest()
    return key


def canonical_uri(path, service="s3"):
    """
    The canonical URI of C{path} (percent-encoded, as sent): itself for S3;
    for other services without dot segments or empty segments, encoded again.
    """
    if service == "s3":
        return path or "/"
    segments = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    normalised = "/" + "/".join(segments)
    if segments and path.endswith("/"):
        normalised += "/"
    return quote(normalised, safe="/~")


def canonical_query(query, presigned=False):
    """
    The canonical query string: every C{(name, value)} pair URI-encoded
    (RFC 3986 unreserved characters kept), sorted by encoded name then
    encoded value; a presigned URL's C{X-Amz-Signature} left out.
    """
    pairs = sorted(
        (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
        for name, value in query
        if not (presigned and name == "X-Amz-Signature")
    )
    return "&".join(f"{name}={value}" for name, value in pairs)


def canonical_request(method, uri, query, headers, payload_hash):
    """
    Assemble the canonical request.

    @param uri: the canonical URI.
    @param query: the canonical query string.
    @param headers: the signed C{(lower-case name, value)} pairs in their
        signed order; values are trimmed and runs of spaces collapsed here.
    @param payload_hash: the hex SHA-256 of the body or one of the
        C{UNSIGNED-PAYLOAD} / C{STREAMING-...} constants.
    """
    lines = [method.upper(), uri, query]
    lines.extend(f"{name}:{' '.join(value.split())}" for name, value in headers)
    lines.append("")
    lines.append(";".join(name for name, _ in headers))
    lines.append(payload_hash)
    return "\n".join(lines)


@dataclass(frozen=True)
class Chunk:
    """
    One chunk of an C{aws-chunked} body, as the decoder saw it.

    @ivar size: the number of data bytes.
    @ivar sha256: the hex SHA-256 of its data.
    @ivar signature: its declared C{chunk-signature}, or L{None}.
    """

    size: int
    sha256: str
    signature: str | None


class ChunkVerifier:
    """
    Checks the chain of chunk signatures of one C{aws-chunked} body: each
    chunk is signed over the signature before it, starting from the
    request's own (the seed), and the chain ends with a chunk of no data.

    @ivar signed: whether chunks carry signatures (L{False} for
        C{STREAMING-UNSIGNED-PAYLOAD-TRAILER}).
    @ivar trailer: whether trailing headers are allowed (and, when signed,
        signed by C{x-amz-trailer-signature}).
    """

    def __init__(self, signing_key, timestamp, scope, seed_signature, trailer=False):
        """
        @param signing_key: the request's SigV4 signing key, or L{None} when
            chunks are unsigned.
        @param timestamp: the request time as signed (C{20130524T000000Z}).
        @param scope: the credential scope (C{20130524/us-east-1/s3/aws4_request}).
        @param seed_signature: the request's signature.
        """
        self._key = signing_key
        self._timestamp = timestamp
        self._scope = scope
        self._previous = seed_signature
        self.signed = signing_key is not None
        self.trailer = trailer
        self.complete = False

    def verify_chunk(self, chunk):
        """
        Check the next chunk of the chain.

        @type chunk: L{Chunk}
        @raise SignatureDoesNotMatch: its signature is not the one we compute.
        @raise InvalidRequest: a signature where none may be, or a chunk
            after the final one.
        """
        if self.complete:
            raise InvalidRequest("The aws-chunked body has data after its final chunk")
        if self.signed:
            text = "\n".join(
                [ALGORITHM + "-PAYLOAD", self._timestamp, self._scope, self._previous, EMPTY_SHA256, chunk.sha256]
            )
            self._previous = self._check(text, chunk.signature)
        elif chunk.signature is not None:
            raise InvalidRequest("A chunk of an unsigned aws-chunked body carries a signature")
        self.complete = chunk.size == 0

    def verify_trailer(self, trailers, signature):
        """
        Check the trailing headers that follow the final chunk.

        @param trailers: C{(lower-case name, value)} pairs, in order.
        @param signature: the C{x-amz-trailer-signature}, or L{None}.
        @raise SignatureDoesNotMatch: the trailer signature is wrong.
        @raise InvalidRequest: trailers where the payload mode has none.
        """
        if not self.trailer and (trailers or signature is not None):
            raise InvalidRequest("Trailing headers are not allowed with " + STREAMING_PAYLOAD)
        if self.signed and self.trailer:
            canonical = "".join(f"{name}:{value}\n" for name, value in trailers)
            text = "\n".join(
                [
                    ALGORITHM + "-TRAILER",
                    self._timestamp,
                    self._scope,
                    self._previous,
                    sha256(canonical.encode("utf-8")).hexdigest(),
                ]
            )
            self._previous = self._check(text, signature)

    def _check(self, text, provided):
        expected = hmac.new(self._key, text.encode("utf-8"), sha256).hexdigest()
        provided = provided or ""
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            raise SignatureDoesNotMatch(
                "The chunk signature we calculated does not match the signature you provided.",
                StringToSign=text,
                SignatureProvided=provided,
                StringToSignBytes=hex_bytes(text),
            )
        return expected
