"""
The cloud's own use of Walrus: image and snapshot buckets belong to the
cloud administrators' account and stay private, and a component without
credentials (a Node Controller) reads one object through a URL the CLC
presigned for it.
"""

import urllib.error
import urllib.parse
import urllib.request

from botocore.exceptions import ClientError
from twisted.internet import defer
from twisted.trial import unittest

from eucalyptus.security.presign import presigned_url
from tests.services.walrus.harness import LiveWalrus, in_thread


def fetch(url, method="GET", data=None):
    """
    Do one plain HTTP request, as a component without credentials would.

    @return: C{(status, body)}.
    """
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class InternalBucketTests(unittest.TestCase):
    """
    Image buckets, users, and presigned URLs.
    """

    @defer.inlineCallbacks
    def setUp(self):
        self.walrus = yield LiveWalrus(self).start()
        admin = self.walrus.client("eucalyptus")

        def register_image():
            admin.create_bucket(Bucket="euca-images")
            admin.put_object(Bucket="euca-images", Key="emi-1234/disk.img", Body=b"\xeb\x63\x90 a disk image")

        yield in_thread(register_image)

    def url(self, key="emi-1234/disk.img", account="eucalyptus", **kwargs):
        credential = self.walrus.keys[account]
        plain = f"{self.walrus.url}/euca-images/{urllib.parse.quote(key)}"
        return presigned_url("GET", plain, credential.access_key_id, credential.secret_key, **kwargs)

    @defer.inlineCallbacks
    def test_users_cannot_read_images(self):
        """
        An ordinary account can neither list the image bucket nor read an
        image.
        """
        alice = self.walrus.client("alice")
        e = yield self.assertFailure(in_thread(alice.get_object, Bucket="euca-images", Key="emi-1234/disk.img"), ClientError)
        self.assertEqual(e.response["Error"]["Code"], "AccessDenied")
        e = yield self.assertFailure(in_thread(alice.list_objects_v2, Bucket="euca-images"), ClientError)
        self.assertEqual(e.response["Error"]["Code"], "AccessDenied")
        status, _ = yield in_thread(fetch, f"{self.walrus.url}/euca-images/emi-1234/disk.img")
        self.assertEqual(status, 403)

    @defer.inlineCallbacks
    def test_presigned_url_reads_the_image(self):
        """
        The URL the CLC presigns with the administrators' key lets a
        credential-less client read exactly that image.
        """
        status, body = yield in_thread(fetch, self.url())
        self.assertEqual((status, body), (200, b"\xeb\x63\x90 a disk image"))

    @defer.inlineCallbacks
    def test_presigned_url_is_one_request(self):
        """
        The same URL cannot be used for another method, and a URL signed
        by an ordinary account is refused.
        """
        status, _ = yield in_thread(fetch, self.url(), "PUT", b"overwrite")
        self.assertEqual(status, 403)
        status, _ = yield in_thread(fetch, self.url(account="alice"))
        self.assertEqual(status, 403)

    @defer.inlineCallbacks
    def test_expired_url(self):
        """
        A presigned URL past its lifetime is refused with AccessDenied.
        """
        import time

        status, body = yield in_thread(fetch, self.url(expires=60, now=time.time() - 120))
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", body)
