# -*- test-case-name: tests.services.walrus.test_internal -*-
"""
Presigned S3 URLs (SigV4, query form): how the cloud lets a component
without user credentials (a Node Controller fetching an image, a Storage
Controller fetching a snapshot) read or write one object in Walrus for a
short time.

The CLC signs with the cloud administrators' key, which may reach the
cloud's own buckets; the holder of the URL can do exactly the one request
it names until it expires.
"""

import hmac
import time
from hashlib import sha256
from urllib.parse import quote, urlsplit, urlunsplit

from eucalyptus.security import sigv4

__all__ = ["presigned_url"]


def presigned_url(method, url, access_key_id, secret, expires=900, region="eucalyptus", now=None):
    """
    A URL that performs C{method} on C{url} as the holder of the key.

    @param url: the object's URL, path-style (C{http://host:8776/bucket/key}),
        with the key percent-encoded as it will be sent.
    @param expires: seconds the URL stays valid (1 to 604800).
    @param now: seconds since the epoch (for tests); the current time by
        default.
    @return: the URL with the C{X-Amz-*} signing parameters.
    """
    parts = urlsplit(url)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    query = [
        ("X-Amz-Algorithm", sigv4.ALGORITHM),
        ("X-Amz-Credential", f"{access_key_id}/{scope}"),
        ("X-Amz-Date", stamp),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    canonical = sigv4.canonical_request(
        method,
        sigv4.canonical_uri(parts.path),
        sigv4.canonical_query(query),
        [("host", parts.netloc)],
        sigv4.UNSIGNED_PAYLOAD,
    )
    to_sign = "\n".join([sigv4.ALGORITHM, stamp, scope, sha256(canonical.encode("utf-8")).hexdigest()])
    key = sigv4.signing_key(secret, stamp[:8], region, "s3")
    signature = hmac.new(key, to_sign.encode("utf-8"), sha256).hexdigest()
    query.append(("X-Amz-Signature", signature))
    encoded = "&".join(f"{name}={quote(value, safe='-_.~')}" for name, value in query)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, encoded, ""))
