# -*- test-case-name: tests.services.clc.test_images -*-
"""
The manifest of an image bundle as C{RegisterImage} gets it: where it is in
Walrus, reading it as the registering user, and checking who signed it.

An C{ImageLocation} is C{bucket/key}, the key ending in C{.manifest.xml}
(C{images/debian/debian.img.manifest.xml}); the manifest's parts are the
objects next to it, which is where the Node Controller fetches them from.

The Cloud Controller reads the manifest from Walrus with a short-lived
presigned URL (L{eucalyptus.security.presign}) made with the registering
user's own access key, which the cloud's account store holds.  Walrus's
ACLs then decide, as for any request of that user: a user can register
only a manifest they can read, as AWS requires.  (The original read it as
the cloud administrator and left the bucket ACL check commented out,
C{ImageManifests.java}.)

The signature must verify with the certificate of a user of the
registering account (C{euca-admin init} and C{add-account} issue one per
account and record it in the account store).  For the cloud
administrators, as in Eucalyptus, a certificate of any account or the
cloud's own one will do.

Reading is blocking (C{http.client}); the EC2 action runs in a thread.
"""

import http.client
import re
from urllib.parse import quote, urlsplit

from cryptography import x509
from sqlalchemy import select

from eucalyptus import bundle
from eucalyptus.accounts import certificates, users
from eucalyptus.errors import InvalidParameterValue
from eucalyptus.security.presign import presigned_url
from eucalyptus.services.clc.ec2.errors import InvalidManifest, Unavailable

__all__ = [
    "MANIFEST_SUFFIX",
    "MAX_MANIFEST",
    "parse_location",
    "walrus_url",
    "object_url",
    "read_manifest",
    "account_certificates",
    "verify_manifest",
]

#: How a manifest's key ends.
MANIFEST_SUFFIX = ".manifest.xml"
#: The largest manifest read (a 10 GiB image's has about 1000 parts of
#: some 150 bytes).
MAX_MANIFEST = 16 << 20
#: Seconds the presigned URL the manifest is read with stays valid.
_URL_LIFETIME = 300

_S3_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")


def parse_location(location):
    """
    The bucket and key of an C{ImageLocation}.

    @param location: C{bucket/key.manifest.xml}, leading slashes allowed.
    @return: C{(bucket, key)}; the location as recorded is
        C{bucket + "/" + key}.
    @raise InvalidParameterValue: not that shape.
    """
    text = (location or "").lstrip("/")
    bucket, _, key = text.partition("/")
    if not bucket or not key or not key.endswith(MANIFEST_SUFFIX) or key.endswith("/" + MANIFEST_SUFFIX):
        raise InvalidParameterValue(
            f"The image location {location!r} is not a manifest in Walrus: give it as "
            f"bucket/path/name{MANIFEST_SUFFIX}."
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text) or len(text) > 1024:
        raise InvalidParameterValue(f"The image location {location!r} has control characters or is too long.")
    return bucket, key


def walrus_url(settings):
    """
    The URL of Walrus's own S3 endpoint, path style, as other components
    reach it (C{http://WALRUS_HOST:WALRUS_PORT}).
    """
    host = settings["WALRUS_HOST"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings['WALRUS_PORT']}"


def object_url(base, bucket, key):
    """
    The URL of an object in Walrus.

    @param base: Walrus's URL (L{walrus_url}).
    @return: C{base/bucket/key}, the key percent-encoded.
    """
    return f"{base.rstrip('/')}/{quote(bucket, safe='')}/{quote(key, safe='/-_.~')}"


def _refusal(response):
    found = _S3_CODE.search(response.read(1 << 16))
    return found.group(1).decode("utf-8", "replace") if found else ""


def read_manifest(url, access_key_id, secret, timeout=30.0):
    """
    Read a manifest from Walrus as the holder of an access key (blocking).

    @param url: the manifest's URL (L{object_url}).
    @param access_key_id: the registering user's key id; C{secret} its
        secret.
    @param timeout: seconds a connection may stay silent.
    @return: the manifest's bytes.
    @raise InvalidManifest: there is no such object, or the user may not
        read it, or it is bigger than a manifest can be.
    @raise Unavailable: Walrus cannot be reached or fails.
    """
    signed = urlsplit(presigned_url("GET", url, access_key_id, secret, expires=_URL_LIFETIME))
    connection = http.client.HTTPConnection(signed.hostname, signed.port, timeout=timeout)
    location = urlsplit(url).path.lstrip("/")
    try:
        connection.request("GET", f"{signed.path}?{signed.query}")
        response = connection.getresponse()
        if response.status == 404:
            code = _refusal(response)
            raise InvalidManifest(f"The manifest {location} does not exist in Walrus ({code or 404}).")
        if response.status == 403:
            code = _refusal(response)
            raise InvalidManifest(
                f"You may not read the manifest {location} in Walrus ({code or 403}): "
                "register only manifests your account can read."
            )
        if response.status != 200:
            code = _refusal(response)
            raise Unavailable(f"Walrus answered HTTP {response.status} {code} for the manifest {location}.")
        length = response.getheader("content-length")
        if length is not None and length.strip().isdigit() and int(length) > MAX_MANIFEST:
            raise InvalidManifest(f"The object {location} is {length} bytes, too big to be a manifest.")
        data = response.read(MAX_MANIFEST + 1)
        if len(data) > MAX_MANIFEST:
            raise InvalidManifest(f"The object {location} is too big to be a manifest.")
        return data
    except (OSError, http.client.HTTPException) as e:
        raise Unavailable(f"Walrus could not be reached to read the manifest {location}: {e}") from None
    finally:
        connection.close()


def account_certificates(conn, account_id=None):
    """
    The active user certificates of an account (blocking).

    @param conn: a connection to the accounts database.
    @param account_id: the account, or L{None} for every account's.
    @return: a list of C{cryptography} X.509 certificates; ones that do not
        parse are left out.
    """
    query = select(certificates.c.pem).join_from(certificates, users).where(certificates.c.status == "Active")
    if account_id is not None:
        query = query.where(users.c.account_id == account_id)
    found = []
    for pem in conn.execute(query).scalars():
        try:
            found.append(x509.load_pem_x509_certificate(pem.encode("ascii")))
        except ValueError:
            continue
    return found


def verify_manifest(data, candidates):
    """
    Parse a manifest and check that one of C{candidates} signed it.

    @param data: the manifest's bytes.
    @param candidates: the certificates whose signature is accepted.
    @return: the L{eucalyptus.bundle.Manifest}.
    @raise eucalyptus.bundle.BundleError: (C{InvalidManifest}) it is not a
        bundle manifest, or none of the certificates verifies it.
    """
    manifest = bundle.parse_manifest(data)
    for certificate in candidates:
        try:
            bundle.verify_signature(manifest, certificate)
            return manifest
        except bundle.BundleError:
            continue
    raise bundle.BundleError(
        f"The signature of the manifest of {manifest.name!r} does not verify with the certificate of any user of "
        "your account: the manifest was changed after it was signed, or was bundled with another account's key "
        "(bundle with your own EC2_PRIVATE_KEY and EC2_CERT)."
    )
