"""
Walrus through the aws CLI, as a user drives it: C{aws s3 mb/cp/sync/ls/rm/rb}
in a real subprocess against a live Walrus, including a multipart upload of
a file larger than the CLI's threshold.
"""

import hashlib
import os
import sys

from twisted.internet import defer, utils
from twisted.trial import unittest

from tests.services.walrus.harness import LiveWalrus, in_thread

AWS = os.path.join(os.path.dirname(sys.executable), "aws")


class AwsCliTests(unittest.TestCase):
    """
    The C{aws s3} high-level commands.
    """

    timeout = 240

    @defer.inlineCallbacks
    def setUp(self):
        self.walrus = yield LiveWalrus(self).start()
        self.work = os.path.abspath(self.mktemp())
        os.makedirs(self.work)
        key = self.walrus.keys["alice"]
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.work,
            "AWS_ACCESS_KEY_ID": key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": key.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.path.join(self.work, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.work, "credentials"),
        }

    @defer.inlineCallbacks
    def aws(self, *args, endpoint=None):
        """
        Run C{aws <args>}; fail the test with its output if it fails.
        """
        argv = ["--endpoint-url", endpoint or self.walrus.url, *args]
        out, err, code = yield utils.getProcessOutputAndValue(AWS, argv, env=self.env, path=self.work)
        if code != 0:
            self.fail(f"aws {' '.join(args)} exited {code}:\n{out.decode()}\n{err.decode()}")
        return out.decode()

    def write(self, name, data):
        path = os.path.join(self.work, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    @defer.inlineCallbacks
    def test_mb_cp_ls_rm_rb(self):
        """
        Make a bucket, copy a file in and out, list it, remove it, remove
        the bucket.
        """
        source = self.write("hello.txt", b"hello from the aws CLI\n")
        yield self.aws("s3", "mb", "s3://cli-bucket")
        yield self.aws("s3", "cp", source, "s3://cli-bucket/dir/hello.txt")
        listing = yield self.aws("s3", "ls", "s3://cli-bucket/dir/")
        self.assertIn("hello.txt", listing)
        target = os.path.join(self.work, "back.txt")
        yield self.aws("s3", "cp", "s3://cli-bucket/dir/hello.txt", target)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"hello from the aws CLI\n")
        yield self.aws("s3", "rm", "s3://cli-bucket/dir/hello.txt")
        yield self.aws("s3", "rb", "s3://cli-bucket")
        buckets = yield self.aws("s3", "ls")
        self.assertNotIn("cli-bucket", buckets)

    @defer.inlineCallbacks
    def test_multipart_cp(self):
        """
        A 20 MiB file, over the CLI's 8 MiB threshold, goes up in parts and
        comes back byte-identical; its ETag says it was multipart.
        """
        data = os.urandom(20 << 20)
        source = self.write("big.bin", data)
        yield self.aws("s3", "mb", "s3://big")
        yield self.aws("s3", "cp", source, "s3://big/big.bin")
        head = yield in_thread(self.walrus.client("alice").head_object, Bucket="big", Key="big.bin")
        self.assertTrue(head["ETag"].endswith('-3"'), head["ETag"])
        target = os.path.join(self.work, "big.back")
        yield self.aws("s3", "cp", "s3://big/big.bin", target)
        with open(target, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())

    @defer.inlineCallbacks
    def test_sync_and_recursive_rm(self):
        """
        C{sync} uploads a tree, a second C{sync} uploads nothing, and
        C{rm --recursive} empties the bucket; through the cloud-port path.
        """
        endpoint = self.walrus.url + "/services/Walrus"
        for name in ("a.txt", "sub/b.txt", "sub/deeper/c d.txt"):
            self.write(os.path.join("tree", name), name.encode() * 100)
        yield self.aws("s3", "mb", "s3://synced", endpoint=endpoint)
        first = yield self.aws("s3", "sync", os.path.join(self.work, "tree"), "s3://synced/t", endpoint=endpoint)
        self.assertEqual(first.count("upload:"), 3)
        again = yield self.aws("s3", "sync", os.path.join(self.work, "tree"), "s3://synced/t", endpoint=endpoint)
        self.assertEqual(again.count("upload:"), 0)
        listing = yield self.aws("s3", "ls", "--recursive", "s3://synced", endpoint=endpoint)
        self.assertIn("t/sub/deeper/c d.txt", listing)
        yield self.aws("s3", "rm", "--recursive", "s3://synced", endpoint=endpoint)
        empty = yield self.aws("s3", "ls", "--recursive", "s3://synced", endpoint=endpoint)
        self.assertEqual(empty.strip(), "")
