# -*- test-case-name: tests.security.test_awschunked -*-
"""
Tests for L{eucalyptus.security.awsauth.AwsChunkedDecoder} and
L{eucalyptus.security.sigv4.ChunkVerifier}: C{aws-chunked} bodies, fed in
slices of every size, with their chunk signature chains.

The oracles are the worked examples of the S3 documentation ("Signature
Calculations for the Authorization Header: Transferring Payload in Multiple
Chunks" and "... Including Trailing Headers"), whose signatures are
published, and the bodies botocore itself sends.
"""

import base64
import calendar
import hashlib
import hmac
import random
import zlib

import botocore.auth
from botocore.credentials import Credentials
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import SignatureDoesNotMatch
from eucalyptus.security import sigv4
from eucalyptus.security.awsauth import (
    AwsChunkedDecoder,
    IncompleteBody,
    InvalidRequest,
    SignedRequest,
    authenticate,
    chunked_decoder,
)
from tests.security.test_sigv4 import (
    AKID,
    KEYS,
    NOW,
    REGION,
    SECRET,
    WALRUS,
    freeze,
    replace,
    s3_client,
    sign_request,
    to_signed,
)

# The documented example: 65 KiB of "a" in chunks of 64 KiB and 1 KiB.
DOC_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
DOC_NOW = calendar.timegm((2013, 5, 24, 0, 0, 0))
DOC_TIMESTAMP = "20130524T000000Z"
DOC_SCOPE = "20130524/us-east-1/s3/aws4_request"
DOC_DATA = b"a" * 66560
DOC_SIGNATURES = {
    sigv4.STREAMING_PAYLOAD: (
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-decoded-content-length;x-amz-storage-class",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ],
    ),
    sigv4.STREAMING_PAYLOAD_TRAILER: (
        "content-encoding;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
        [
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ],
    ),
}
DOC_TRAILER = [("x-amz-checksum-crc32c", "sOO8/Q==")]
DOC_TRAILER_SIGNATURE = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"


def key_for(secret, date, region):
    """
    The SigV4 signing key, derived here independently of the code tested.
    """
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def encode(data, size, seed=None, key=None, timestamp=DOC_TIMESTAMP, scope=DOC_SCOPE, trailers=None):
    """
    Frame C{data} as C{aws-chunked} in chunks of C{size} bytes, as the AWS
    documentation describes: signed from C{seed} with C{key}, or unsigned
    when C{key} is L{None}; C{trailers} (pairs) follow the final chunk.
    """
    chunks = [data[i:i + size] for i in range(0, len(data), size)] + [b""]
    previous = seed
    out = []
    for chunk in chunks:
        if key is None:
            out.append(b"%x\r\n" % len(chunk))
        else:
            text = "\n".join(
                ["AWS4-HMAC-SHA256-PAYLOAD", timestamp, scope, previous, sigv4.EMPTY_SHA256,
                 hashlib.sha256(chunk).hexdigest()]
            )
            previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
            out.append(b"%x;chunk-signature=%s\r\n" % (len(chunk), previous.encode()))
        if chunk:
            out.append(chunk + b"\r\n")
    for name, value in trailers or []:
        out.append(f"{name}:{value}\r\n".encode())
    if trailers is not None and key is not None:
        canonical = "".join(f"{name}:{value}\n" for name, value in trailers)
        text = "\n".join(
            ["AWS4-HMAC-SHA256-TRAILER", timestamp, scope, previous, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        out.append(f"x-amz-trailer-signature:{signature}\r\n".encode())
    out.append(b"\r\n")
    return b"".join(out)


def doc_request(payload=sigv4.STREAMING_PAYLOAD):
    """
    The documented example request and its body.
    """
    signed, seed, _ = DOC_SIGNATURES[payload]
    trailers = DOC_TRAILER if payload == sigv4.STREAMING_PAYLOAD_TRAILER else None
    body = encode(DOC_DATA, 65536, seed, key_for(DOC_KEY[1], "20130524", "us-east-1"), trailers=trailers)
    headers = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", DOC_TIMESTAMP),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "Authorization",
            f"AWS4-HMAC-SHA256 Credential={DOC_KEY[0]}/{DOC_SCOPE},SignedHeaders={signed},Signature={seed}",
        ),
        ("x-amz-content-sha256", payload),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
    ]
    if trailers:
        headers.append(("x-amz-trailer", "x-amz-checksum-crc32c"))
    else:
        headers.append(("Content-Length", str(len(body))))
    return SignedRequest.from_target("PUT", "/examplebucket/chunkObject.txt", headers), body


def feed(decoder, body, slices):
    """
    Feed C{body} to C{decoder} in C{slices} (a size, or a L{random.Random}
    for random sizes) and return the data handed out.
    """
    out, position = [], 0
    while position < len(body):
        size = slices if isinstance(slices, int) else slices.randint(1, 3000)
        out.extend(decoder.feed(body[position:position + size]))
        position += size
    return b"".join(out)


def streaming_request(data, payload=sigv4.STREAMING_PAYLOAD, trailer=None):
    """
    A PUT whose headers botocore's C{SigV4Auth} signs for an C{aws-chunked}
    body of C{data}; return it and its signature, the chain's seed.
    """
    headers = {
        "X-Amz-Content-SHA256": payload,
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
    }
    if trailer:
        headers["X-Amz-Trailer"] = trailer
    signer = botocore.auth.SigV4Auth(Credentials(AKID, SECRET), "s3", REGION)
    request = to_signed(sign_request(signer, "PUT", WALRUS + "/bucket/key", headers=headers))
    return request, request.headers["authorization"].rpartition("Signature=")[2]


KEY = key_for(SECRET, "20240229", REGION)
TIMESTAMP = "20240229T120000Z"
SCOPE = f"20240229/{REGION}/s3/aws4_request"
DATA = bytes(random.Random(1).getrandbits(8) for _ in range(200_000))


class DocumentedExampleTests(SynchronousTestCase):
    """
    The chunked upload examples of the S3 documentation.
    """

    def authenticate(self, request):
        who = authenticate(request, dict([DOC_KEY]).get, DOC_NOW)
        self.assertEqual(who.access_key_id, DOC_KEY[0])
        return who

    def test_body(self):
        """
        The test encoder makes the documented body, of the documented length
        and with the documented chunk signatures.
        """
        _, body = doc_request()
        self.assertEqual(len(body), 66824)
        for signature in DOC_SIGNATURES[sigv4.STREAMING_PAYLOAD][2]:
            self.assertIn(b";chunk-signature=" + signature.encode() + b"\r\n", body)
        _, body = doc_request(sigv4.STREAMING_PAYLOAD_TRAILER)
        for signature in DOC_SIGNATURES[sigv4.STREAMING_PAYLOAD_TRAILER][2]:
            self.assertIn(b";chunk-signature=" + signature.encode() + b"\r\n", body)
        self.assertIn(b"x-amz-trailer-signature:" + DOC_TRAILER_SIGNATURE.encode(), body)

    def test_slices(self):
        """
        Fed whole, one byte at a time or in random slices, with the verifier
        attached before, while or after feeding, the body decodes to its
        data and its chain verifies.
        """
        request, body = doc_request()
        for slices in (len(body), 1, random.Random(2), 65536 + 88):
            for when in ("before", "middle", "after"):
                decoder = chunked_decoder(request)
                who = self.authenticate(request)
                if when == "before":
                    decoder.verify(who.chunks)
                data = feed(decoder, body[:40000], slices)
                if when == "middle":
                    decoder.verify(who.chunks)
                data += feed(decoder, body[40000:], slices)
                decoder.finish()
                if when == "after":
                    decoder.verify(who.chunks)
                self.assertEqual(data, DOC_DATA)
                self.assertTrue(who.chunks.complete)

    def test_trailer(self):
        """
        The trailing-header example decodes, verifies, and gives the
        checksum trailer.
        """
        request, body = doc_request(sigv4.STREAMING_PAYLOAD_TRAILER)
        for slices in (len(body), 1, random.Random(3)):
            decoder = chunked_decoder(request)
            self.assertEqual(feed(decoder, body, slices), DOC_DATA)
            decoder.finish()
            decoder.verify(self.authenticate(request).chunks)
            self.assertEqual(decoder.trailers, DOC_TRAILER)
            self.assertEqual(decoder.trailer_signature, DOC_TRAILER_SIGNATURE)

    def test_tampered_trailer(self):
        """
        A trailing header changed after signing is C{SignatureDoesNotMatch}.
        """
        request, body = doc_request(sigv4.STREAMING_PAYLOAD_TRAILER)
        decoder = chunked_decoder(request)
        decoder.verify(self.authenticate(request).chunks)
        feed(decoder, body[:66000], 1000)
        error = self.assertRaises(SignatureDoesNotMatch, decoder.feed, body[66000:].replace(b"sOO8", b"sOO9"))
        self.assertTrue(error.details["StringToSign"].startswith("AWS4-HMAC-SHA256-TRAILER\n"))


class ChainTests(SynchronousTestCase):
    """
    Chains seeded by a signature botocore made, with chunks of every size.
    """

    def setUp(self):
        freeze(self)

    def decode(self, request, body, slices=None, verify_first=False):
        who = authenticate(request, KEYS.get, NOW)
        decoder = chunked_decoder(request)
        if verify_first:
            decoder.verify(who.chunks)
        data = feed(decoder, body, slices or random.Random(4))
        decoder.finish()
        if not verify_first:
            decoder.verify(who.chunks)
        return data

    def test_decodes(self):
        """
        Bodies in chunks of 64 KiB, 8 KiB and odd sizes, with or without a
        final partial chunk, decode to their data.
        """
        for size in (65536, 8192, 12345, 200_000, 1):
            data = DATA[:20_000] if size == 1 else DATA
            request, seed = streaming_request(data)
            body = encode(data, size, seed, KEY, TIMESTAMP, SCOPE)
            self.assertEqual(self.decode(request, body), data)
        request, seed = streaming_request(b"")
        self.assertEqual(self.decode(request, encode(b"", 10, seed, KEY, TIMESTAMP, SCOPE)), b"")

    def test_streams(self):
        """
        Data is handed out as it arrives, not when its chunk is complete;
        only a partial framing line is held back.
        """
        request, seed = streaming_request(DATA)
        body = encode(DATA, 65536, seed, KEY, TIMESTAMP, SCOPE)
        decoder = chunked_decoder(request)
        header = body.index(b"\r\n") + 2
        self.assertEqual(decoder.feed(body[: header - 5]), [])
        self.assertEqual(decoder.feed(body[header - 5: header + 10]), [DATA[:10]])
        second = header + 65536 + 2 + header
        self.assertEqual(b"".join(decoder.feed(body[header + 10: second + 100])), DATA[10:65536 + 100])

    def test_signed_trailer(self):
        """
        A signed body with a signed checksum trailer decodes and verifies.
        """
        crc = base64.b64encode(zlib.crc32(DATA).to_bytes(4, "big")).decode()
        request, seed = streaming_request(DATA, sigv4.STREAMING_PAYLOAD_TRAILER, "x-amz-checksum-crc32")
        body = encode(DATA, 65536, seed, KEY, TIMESTAMP, SCOPE, trailers=[("x-amz-checksum-crc32", crc)])
        self.assertEqual(self.decode(request, body, verify_first=True), DATA)

    def test_tampered(self):
        """
        A changed data byte, a changed chunk signature, reordered chunks, or
        a chain from another seed is C{SignatureDoesNotMatch}, whether the
        verifier is attached before feeding or after.
        """
        request, seed = streaming_request(DATA)
        body = encode(DATA, 65536, seed, KEY, TIMESTAMP, SCOPE)
        framed = len(b"10000;chunk-signature=\r\n") + 64 + 65536 + 2
        flipped = bytearray(body)
        flipped[100_000] ^= 1
        signature = framed + len(b"10000;chunk-signature=") + 5
        bad_signature = body[:signature] + (b"0" if body[signature] != ord("0") else b"1") + body[signature + 1:]
        swapped = body[framed:2 * framed] + body[:framed] + body[2 * framed:]
        other = encode(DATA, 65536, "0" * 64, KEY, TIMESTAMP, SCOPE)
        for tampered in (bytes(flipped), bad_signature, swapped, other):
            for verify_first in (True, False):
                error = self.assertRaises(SignatureDoesNotMatch, self.decode, request, tampered, None, verify_first)
                self.assertTrue(error.details["StringToSign"].startswith("AWS4-HMAC-SHA256-PAYLOAD\n"))

    def test_truncated(self):
        """
        A body cut anywhere before its end, or missing its final chunk, is
        C{IncompleteBody}.
        """
        request, seed = streaming_request(DATA)
        body = encode(DATA, 65536, seed, KEY, TIMESTAMP, SCOPE)
        final = body.rindex(b"0;chunk-signature=")
        for cut in (0, 10, 90, 70000, final, final + 10, len(body) - 2, len(body) - 1):
            decoder = chunked_decoder(request)
            feed(decoder, body[:cut], 5000)
            self.assertRaises(IncompleteBody, decoder.finish)

    def test_decoded_length(self):
        """
        A body longer than its C{x-amz-decoded-content-length} is refused as
        soon as a chunk says so, a shorter one at the end; and the header is
        signed.
        """
        request, seed = streaming_request(DATA)
        body = encode(DATA, 65536, seed, KEY, TIMESTAMP, SCOPE)
        short = AwsChunkedDecoder(len(DATA) - 1)
        self.assertRaises(InvalidRequest, feed, short, body, len(body))
        long = AwsChunkedDecoder(len(DATA) + 1)
        feed(long, body, len(body))
        self.assertRaises(IncompleteBody, long.finish)
        lying = replace(request, headers={"x-amz-decoded-content-length": str(len(DATA) + 1)})
        self.assertRaises(SignatureDoesNotMatch, authenticate, lying, KEYS.get, NOW)

    def test_unsigned_trailer_on_signed_body(self):
        """
        Trailing headers after a body whose payload mode has none (so that
        nothing signs them) are refused.
        """
        request, seed = streaming_request(DATA)
        body = encode(DATA, 65536, seed, KEY, TIMESTAMP, SCOPE, trailers=[("x-amz-checksum-crc32", "AAAAAA==")])
        self.assertRaises(InvalidRequest, self.decode, request, body)

    def test_errors_stick(self):
        """
        Once the decoder has failed, every call raises the same error.
        """
        decoder = AwsChunkedDecoder()
        error = self.assertRaises(InvalidRequest, decoder.feed, b"zz\r\n")
        self.assertIs(self.assertRaises(InvalidRequest, decoder.feed, b"0\r\n\r\n"), error)
        self.assertIs(self.assertRaises(InvalidRequest, decoder.finish), error)

    def test_signed_chunks_need_sigv4(self):
        """
        Signed chunks without a SigV4 request to seed them are refused; a
        decoded length that was signed cannot be removed.
        """
        request, _ = streaming_request(DATA)
        anonymous = replace(request, headers={"authorization": None})
        self.assertRaises(InvalidRequest, authenticate, anonymous, KEYS.get, NOW)
        unsized = replace(request, headers={"x-amz-decoded-content-length": None})
        self.assertRaises(SignatureDoesNotMatch, authenticate, unsized, KEYS.get, NOW)


class FramingTests(SynchronousTestCase):
    """
    Malformed C{aws-chunked} framing is C{InvalidRequest}.
    """

    def test_malformed(self):
        """
        Bad sizes, unknown extensions, bad signatures, bare line feeds,
        over-long lines, chunks longer than declared and data after the end
        are refused.
        """
        signature = b"a" * 64
        for body in [
            b"zz\r\n",
            b"-1\r\n",
            b"\r\n",
            b"11111111111111111\r\n",
            b"3;chunk-signature=" + signature[:-1] + b"\r\n",
            b"3;chunk-signature=" + signature.upper() + b"\r\n",
            b"3;other=1\r\n",
            b"3\nabc\r\n",
            b"3\r\nabcd\r\n",
            b"3\r\nabc\n0\r\n\r\n",
            b"3" * 5000,
            b"0\r\n\r\nx",
            b"0\r\nno-colon\r\n\r\n",
            b"0\r\n" + b"a:b\r\n" * 17 + b"\r\n",
        ]:
            decoder = AwsChunkedDecoder()
            self.assertRaises(InvalidRequest, decoder.feed, body)

    def test_empty(self):
        """
        A body of just the final chunk is an empty body.
        """
        decoder = AwsChunkedDecoder(0)
        self.assertEqual(decoder.feed(b"0\r\n\r\n"), [])
        decoder.finish()
        self.assertTrue(decoder.complete)


class BotocoreTrailerTests(SynchronousTestCase):
    """
    What botocore sends by default for PutObject over HTTPS: an unsigned
    C{aws-chunked} body with a CRC32 trailer.
    """

    def setUp(self):
        freeze(self)

    def test_put_object(self):
        """
        botocore's body decodes, in slices of any size, to the object, and
        its trailer carries the CRC32 of the object; the chunks are unsigned.
        """
        client, sent = s3_client("https://walrus.example.com:8776")
        client.put_object(Bucket="bucket", Key="k", Body=DATA)
        body = sent[0].body.read()
        request = to_signed(sent[0])
        self.assertEqual(request.headers["x-amz-content-sha256"], sigv4.STREAMING_UNSIGNED_TRAILER)
        self.assertEqual(request.headers["content-encoding"], "aws-chunked")
        self.assertEqual(request.headers["x-amz-trailer"], "x-amz-checksum-crc32")
        for slices in (7, random.Random(5), len(body)):
            who = authenticate(request, KEYS.get, NOW)
            self.assertFalse(who.chunks.signed)
            decoder = chunked_decoder(request)
            self.assertEqual(feed(decoder, body, slices), DATA)
            decoder.finish()
            decoder.verify(who.chunks)
            crc = base64.b64encode(zlib.crc32(DATA).to_bytes(4, "big")).decode()
            self.assertEqual(decoder.trailers, [("x-amz-checksum-crc32", crc)])

    def test_signature_in_unsigned_body(self):
        """
        A chunk signature in an unsigned body is refused.
        """
        request, seed = streaming_request(b"abc", sigv4.STREAMING_UNSIGNED_TRAILER, "x-amz-checksum-crc32")
        freeze(self)
        body = encode(b"abc", 3, seed, KEY, TIMESTAMP, SCOPE, trailers=[("x-amz-checksum-crc32", "AAAAAA==")])
        decoder = chunked_decoder(request)
        decoder.verify(authenticate(request, KEYS.get, NOW).chunks)
        self.assertRaises(InvalidRequest, decoder.feed, body)

    def test_anonymous(self):
        """
        An anonymous unsigned-trailer upload is decoded but has nothing to
        verify; a body that is not C{aws-chunked} gets no decoder.
        """
        request = SignedRequest.from_target(
            "PUT",
            "/bucket/k",
            [("Host", "h"), ("x-amz-content-sha256", sigv4.STREAMING_UNSIGNED_TRAILER),
             ("x-amz-decoded-content-length", "3")],
        )
        self.assertIsNone(authenticate(request, KEYS.get, NOW))
        decoder = chunked_decoder(request)
        self.assertEqual(decoder.feed(b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n"), [b"abc"])
        decoder.finish()
        self.assertIsNone(chunked_decoder(replace(request, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})))
