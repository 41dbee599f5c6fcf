# -*- test-case-name: tests.security.test_sigv2,tests.security.test_sigv4,tests.security.test_awschunked,tests.security.test_ec2sigv2 -*-
"""
Authentication of AWS REST requests: the front door the HTTP layers call
(Walrus's S3 API, the EC2 Query API).

The HTTP layer describes a request as a L{SignedRequest}, asks
L{authenticate} who signed it, and checks the body as the answer says.
Twisted delivers the body before the request is dispatched, so an
C{aws-chunked} body is decoded as it arrives and its chunk signatures are
checked afterwards::

    signed = SignedRequest.from_target(
        method, uri, headers, virtual_bucket=bucket_from_host, mount=b"/services/Walrus")
    decoder = chunked_decoder(signed)     # None unless the body is aws-chunked
    for data in body_slices:              # write each slice out, hash it
        pieces = decoder.feed(data) if decoder else [data]
    if decoder:
        decoder.finish()
    who = authenticate(signed, secret_for, reactor.seconds())  # None: anonymous
    if who and who.chunks:
        decoder.verify(who.chunks)
    elif who:
        who.check_payload_sha256(body_sha256_hex)
    # only now may the body be kept

The checks of C{Content-MD5} and of C{x-amz-checksum-*} (as headers or as
the decoder's trailers) are the HTTP layer's, not this module's.

Errors are L{eucalyptus.errors.AwsError}s carrying the S3 code and the
details S3 puts in its error document; the codes without a class in
L{eucalyptus.errors} are defined next to the code that raises them
(L{InvalidArgument}, L{InvalidRequest}, L{IncompleteBody}).
"""

import re
from dataclasses import dataclass
from hashlib import sha256
from urllib.parse import parse_qsl, unquote_plus

from eucalyptus.errors import AwsError, XAmzContentSHA256Mismatch
from eucalyptus.security import ec2sigv2, nodeauth, sigv2, sigv4
from eucalyptus.security.sigv2 import MAX_SKEW, InvalidArgument
from eucalyptus.security.sigv4 import Chunk, ChunkVerifier, InvalidRequest

__all__ = [
    "FORM_TYPE",
    "SignedRequest",
    "Authenticated",
    "authenticate",
    "chunked_decoder",
    "AwsChunkedDecoder",
    "Chunk",
    "ChunkVerifier",
    "InvalidArgument",
    "InvalidRequest",
    "IncompleteBody",
]


#: The content type of a form body.
FORM_TYPE = "application/x-www-form-urlencoded"


class IncompleteBody(AwsError):
    """
    The body ended before all that it declared arrived.
    """

    code = "IncompleteBody"
    http_status = 400
    message = "You did not provide the number of bytes specified by the Content-Length HTTP header"


@dataclass(frozen=True)
class SignedRequest:
    """
    What authentication needs to know of an HTTP request.

    @ivar method: C{"PUT"}.
    @ivar path: the path exactly as sent, percent-encoded, without the query
        (C{"/bucket/a%20b"}).
    @ivar query: decoded C{(name, value)} pairs in the order sent; C{""} for
        a valueless C{?acl}.
    @ivar headers: lower-case name to value; each value stripped, repeated
        headers joined by C{","}.
    @ivar virtual_bucket: the bucket named by the host of a virtual-host
        request (C{bucket.walrus.example.com}), else L{None}.
    @ivar mount: the path prefix the service is served under
        (C{"/services/Walrus"}), or C{""}.
    @ivar body: the body, needed only by services other than S3 whose
        clients do not send C{x-amz-content-sha256} (the EC2 Query API).
    """

    method: str
    path: str
    query: list
    headers: dict
    virtual_bucket: str | None = None
    mount: str = ""
    body: bytes | None = None

    @property
    def host(self):
        """
        The C{Host} header.
        """
        return self.headers.get("host", "")

    @property
    def form_body(self):
        """
        The body if it is C{application/x-www-form-urlencoded} (where the
        query APIs' C{POST}s carry their parameters), else C{b""}.
        """
        content_type = self.headers.get("content-type", "").partition(";")[0].strip().lower()
        if content_type != FORM_TYPE:
            return b""
        return self.body or b""

    @property
    def form(self):
        """
        The decoded C{(name, value)} pairs of L{form_body}.
        """
        return parse_qsl(self.form_body.decode("latin-1"), keep_blank_values=True)

    @classmethod
    def from_target(cls, method, target, headers, virtual_bucket=None, mount="", body=None):
        """
        Describe a request from its request line and headers as received.

        @param method: the method (L{str} or L{bytes}).
        @param target: the request target, C{path?query}, as sent (L{str} or
            L{bytes}, e.g. Twisted's C{request.uri}).
        @param headers: C{(name, value)} pairs (L{str} or L{bytes}, bytes
            read as ISO-8859-1), e.g. from Twisted's
            C{((k, v) for k, vs in request.requestHeaders.getAllRawHeaders()
            for v in vs)}.
        @param mount: the path prefix (L{str} or L{bytes}).
        @return: a L{SignedRequest}; query names and values are decoded with
            C{application/x-www-form-urlencoded} rules (C{+} is a space), as
            Twisted's C{request.args} are.
        """
        path, _, query = _text(target).partition("?")
        pairs = []
        for part in query.split("&"):
            if part:
                name, _, value = part.partition("=")
                pairs.append((unquote_plus(name), unquote_plus(value)))
        joined = {}
        for name, value in headers:
            name, value = _text(name).lower(), _text(value).strip()
            joined[name] = joined[name] + "," + value if name in joined else value
        return cls(_text(method), path, pairs, joined, virtual_bucket, _text(mount), body)


def _text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Authenticated:
    """
    Who signed a request, and how its body must be checked.

    @ivar access_key_id: the key that signed (for a node, the fingerprint
        of its certificate).
    @ivar scheme: C{"sigv2"}, C{"sigv4"} or L{nodeauth.SCHEME}.
    @ivar payload_sha256: the hex SHA-256 the body must have (a SigV4
        C{x-amz-content-sha256}), or L{None} when the body was not signed.
    @ivar chunks: for an C{aws-chunked} body, the L{ChunkVerifier} to give
        its L{AwsChunkedDecoder}; else L{None}.
    @ivar security_token: the C{x-amz-security-token} sent, or L{None}; it
        is not checked here.
    """

    access_key_id: str
    scheme: str
    payload_sha256: str | None = None
    chunks: ChunkVerifier | None = None
    security_token: str | None = None

    def check_payload_sha256(self, hexdigest):
        """
        Check the body's SHA-256 against the signed one, if any.

        @param hexdigest: the hex SHA-256 of the body as received.
        @raise XAmzContentSHA256Mismatch: it is not the one signed.
        """
        if self.payload_sha256 is not None and hexdigest.lower() != self.payload_sha256:
            raise XAmzContentSHA256Mismatch(
                ClientComputedContentSHA256=self.payload_sha256,
                S3ComputedContentSHA256=hexdigest,
            )


_V4_QUERY = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")
_V2_QUERY = ("AWSAccessKeyId", "Signature")


def authenticate(request, secret_for, now, service="s3", max_skew=MAX_SKEW, node_certificates=None):
    """
    Find out who signed C{request}, with SigV2 or SigV4, in the
    C{Authorization} header or in the query, or with a node's key
    (L{nodeauth}) when C{node_certificates} are given.  SigV2 is S3's
    (L{sigv2}) for C{s3} and the query APIs' (L{ec2sigv2}, in the query or
    a form body) for the other services.

    @type request: L{SignedRequest}
    @param secret_for: C{secret_for(access_key_id)} returns the secret key,
        or L{None} for an unknown or inactive key.
    @param now: the current time, in seconds since the epoch.
    @param service: the service SigV4 credential scopes must name.
    @param max_skew: seconds a request's date may be away from C{now}.
    @param node_certificates: the node certificates accepted, by
        L{nodeauth.fingerprint} (anything with a C{get}); L{None} where
        nodes are not callers.
    @return: an L{Authenticated}, or L{None} for an anonymous request (no
        C{Authorization} header, no signing query parameters).
    @raise AwsError: C{InvalidArgument} (unsupported or several
        authorization mechanisms, malformed SigV2 header, bad
        C{x-amz-content-sha256}), C{AuthorizationHeaderMalformed} /
        C{AuthorizationQueryParametersError} (malformed SigV4 header /
        parameters, wrong date, service or terminal in the scope, unsigned
        host), C{AccessDenied} (no date, expired URL, unsigned C{x-amz-*}
        headers), C{RequestTimeTooSkewed}, C{InvalidAccessKeyId},
        C{SignatureDoesNotMatch}, C{InvalidRequest} (no
        C{x-amz-content-sha256}; signed chunks without SigV4),
        C{MissingSecurityHeader} (no C{x-amz-decoded-content-length});
        for node requests, those of L{nodeauth.verify}; for query SigV2,
        those of L{ec2sigv2.verify}.
    """
    header = request.headers.get("authorization")
    names = {name for name, _ in request.query}
    v4_query = any(name in names for name in _V4_QUERY)
    # The query APIs' SigV2 parameters may also be in a form body.
    v2_params = request.query if service == "s3" else request.query + request.form
    v2_query = any(name in {name for name, _ in v2_params} for name in _V2_QUERY)
    if (header is not None) + v4_query + v2_query > 1:
        raise InvalidArgument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified",
            ArgumentName="Authorization",
            ArgumentValue=header or "",
        )
    if header is not None:
        schemes = {"AWS": "sigv2", sigv4.ALGORITHM: "sigv4"}
        if node_certificates is not None:
            schemes[nodeauth.ALGORITHM] = nodeauth.SCHEME
        scheme = schemes.get(header.partition(" ")[0])
        if scheme is None:
            raise InvalidArgument("Unsupported Authorization Type", ArgumentName="Authorization", ArgumentValue=header)
    else:
        scheme = "sigv4" if v4_query else "sigv2" if v2_query else None
    if scheme != "sigv4" and request.headers.get("x-amz-content-sha256") in (
        sigv4.STREAMING_PAYLOAD,
        sigv4.STREAMING_PAYLOAD_TRAILER,
    ):
        raise InvalidRequest("Signed aws-chunked bodies need a request signed with " + sigv4.ALGORITHM)
    if scheme is None:
        return None
    if scheme == nodeauth.SCHEME:
        found = nodeauth.verify(
            request.method, request.path, request.query, request.headers, node_certificates, now, max_skew
        )
        return Authenticated(found, scheme)
    token = request.headers.get("x-amz-security-token") or _query_value(request.query, "x-amz-security-token")
    if scheme == "sigv2" and service != "s3":
        if header is not None:
            raise InvalidArgument("Signature version 2 is only supported by S3 here", ArgumentName="Authorization")
        access_key_id = ec2sigv2.verify(request, v2_params, secret_for, now, max_skew)
        return Authenticated(access_key_id, scheme, security_token=_query_value(v2_params, "securitytoken"))
    if scheme == "sigv2":
        access_key_id = sigv2.verify(request, secret_for, now, max_skew)
        return Authenticated(access_key_id, scheme, security_token=token)
    access_key_id, payload_sha256, chunks = sigv4.verify(request, secret_for, now, service, max_skew)
    return Authenticated(access_key_id, scheme, payload_sha256, chunks, token)


def _query_value(query, name):
    """
    The first value of the query parameter C{name}, matched without regard
    to case, or L{None}.
    """
    for key, value in query:
        if key.lower() == name:
            return value
    return None


def chunked_decoder(request):
    """
    An L{AwsChunkedDecoder} for the body of C{request} if its
    C{x-amz-content-sha256} says it is C{aws-chunked} (C{STREAMING-...}),
    else L{None}.  It needs nothing that authentication decides, so it can
    decode the body as it arrives.
    """
    if not request.headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
        return None
    length = request.headers.get("x-amz-decoded-content-length", "")
    return AwsChunkedDecoder(int(length) if length.isdigit() else None)


_SIZE, _DATA, _DATA_END, _TRAILER, _DONE = "size", "data", "data end", "trailer", "done"
_HEX_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_SIGNATURE = re.compile(rb"[0-9a-f]{64}")


class AwsChunkedDecoder:
    """
    Decodes an C{aws-chunked} body fed in slices of any size, handing out
    the data as it arrives.  It keeps at most one partial framing line
    (bounded by C{max_line}); it never holds chunk data back.

    Each C{<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n} chunk is
    recorded as a L{Chunk} (its SHA-256 computed incrementally), the
    C{0[;chunk-signature=...]\\r\\n} chunk ends the data, and trailing
    C{name:value\\r\\n} lines up to an empty line end the body.

    Decoding needs no key.  Verifying needs the L{ChunkVerifier} that
    authentication gives: pass it to L{verify} at any time, before, during
    or after feeding; chunks recorded so far are checked then, later ones
    as they complete.  The body is good only when both L{finish} and
    L{verify} have returned.  After an error every call raises it again.

    @ivar decoded_length: the expected data length
        (C{x-amz-decoded-content-length}), or L{None} if unknown.
    @ivar decoded: data bytes handed out so far.
    @ivar trailers: trailing C{(lower-case name, value)} pairs, e.g.
        C{("x-amz-checksum-crc32", "DUoRhQ==")}.
    @ivar trailer_signature: the C{x-amz-trailer-signature}, or L{None}.
    """

    max_line = 4096
    max_trailers = 16

    def __init__(self, decoded_length=None):
        self.decoded_length = decoded_length
        self.decoded = 0
        self.trailers = []
        self.trailer_signature = None
        self._state = _SIZE
        self._line = bytearray()
        self._remaining = 0
        self._size = 0
        self._hash = None
        self._signature = None
        self._pending = []
        self._verifier = None
        self._error = None

    @property
    def complete(self):
        """
        Whether the whole body (final chunk and trailers) has been decoded.
        """
        return self._state is _DONE

    def feed(self, data):
        """
        Decode the next slice of the body.

        @type data: L{bytes}
        @return: the data slices it contains, in order (possibly none).
        @rtype: L{list} of L{bytes}
        @raise InvalidRequest: malformed framing, or more data than declared.
        @raise SignatureDoesNotMatch: a chunk fails its signature (once a
            verifier is attached).
        """
        return self._guard(self._feed, data)

    def finish(self):
        """
        The body has ended: check that it was complete.

        @raise IncompleteBody: it ended before its final chunk, or carried
            less data than C{decoded_length}.
        """
        self._guard(self._finish)

    def verify(self, verifier):
        """
        Check the chunk signature chain with C{verifier}, now for the chunks
        already decoded and then for each chunk as it completes.

        @type verifier: L{ChunkVerifier}
        @raise SignatureDoesNotMatch: a chunk or the trailer is badly signed.
        """
        self._guard(self._attach, verifier)

    def _guard(self, method, *args):
        if self._error is not None:
            raise self._error
        try:
            return method(*args)
        except AwsError as error:
            self._error = error
            raise

    def _feed(self, data):
        data = bytes(data)
        out = []
        position, end = 0, len(data)
        while position < end:
            if self._state is _DATA:
                piece = data[position:position + self._remaining]
                position += len(piece)
                self._remaining -= len(piece)
                self._hash.update(piece)
                self.decoded += len(piece)
                out.append(piece)
                if not self._remaining:
                    self._state = _DATA_END
            elif self._state is _DONE:
                raise InvalidRequest("The aws-chunked body has data after its end")
            else:
                position, line = self._read_line(data, position)
                if line is not None:
                    self._on_line(line)
        return out

    def _read_line(self, data, position):
        """
        Add to the current line; return the new position and the complete
        line without its CRLF, or L{None} if it is not complete yet.
        """
        newline = data.find(b"\n", position, position + self.max_line + 1)
        stop = min(len(data), position + self.max_line + 1) if newline < 0 else newline + 1
        if len(self._line) + stop - position > self.max_line:
            raise InvalidRequest("An aws-chunked framing line is too long")
        self._line += data[position:stop]
        if newline < 0:
            return stop, None
        line = bytes(self._line)
        self._line.clear()
        if not line.endswith(b"\r\n"):
            raise InvalidRequest("An aws-chunked framing line does not end with CRLF")
        return stop, line[:-2]

    def _on_line(self, line):
        if self._state is _SIZE:
            self._start_chunk(line)
        elif self._state is _DATA_END:
            if line:
                raise InvalidRequest("An aws-chunked chunk is longer than its declared size")
            self._state = _SIZE
            self._end_chunk()
        elif line:
            self._add_trailer(line)
        else:
            self._state = _DONE
            if self._verifier is not None:
                self._verifier.verify_trailer(self.trailers, self.trailer_signature)

    def _start_chunk(self, line):
        size, semicolon, extension = line.partition(b";")
        name, _, signature = extension.partition(b"=")
        if not _HEX_SIZE.fullmatch(size) or semicolon and (
            name != b"chunk-signature" or not _SIGNATURE.fullmatch(signature)
        ):
            raise InvalidRequest(f"Invalid aws-chunked chunk header: {line[:100]!r}")
        self._size = self._remaining = int(size, 16)
        if self.decoded_length is not None and self.decoded + self._size > self.decoded_length:
            raise InvalidRequest("The aws-chunked body is longer than its x-amz-decoded-content-length")
        self._hash = sha256()
        self._signature = signature.decode("ascii") if semicolon else None
        if self._size:
            self._state = _DATA
        else:
            self._end_chunk()
            self._state = _TRAILER

    def _end_chunk(self):
        chunk = Chunk(self._size, self._hash.hexdigest(), self._signature)
        if self._verifier is None:
            self._pending.append(chunk)
        else:
            self._verifier.verify_chunk(chunk)

    def _add_trailer(self, line):
        name, colon, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if not colon or not name or len(self.trailers) >= self.max_trailers:
            raise InvalidRequest(f"Invalid aws-chunked trailing header: {line[:100]!r}")
        if name == "x-amz-trailer-signature":
            self.trailer_signature = value.strip()
        else:
            self.trailers.append((name, value.strip()))

    def _finish(self):
        if self._state is not _DONE:
            raise IncompleteBody("The aws-chunked body ended before its final chunk")
        if self.decoded_length is not None and self.decoded != self.decoded_length:
            raise IncompleteBody(
                f"The aws-chunked body carried {self.decoded} bytes; "
                f"x-amz-decoded-content-length is {self.decoded_length}"
            )

    def _attach(self, verifier):
        if self._verifier is not None:
            raise ValueError("a verifier is already attached")
        self._verifier = verifier
        pending, self._pending = self._pending, []
        for chunk in pending:
            verifier.verify_chunk(chunk)
        if self._state is _DONE:
            verifier.verify_trailer(self.trailers, self.trailer_signature)
