"""
Walrus keeps every acknowledged byte: the real daemon is killed with
SIGKILL while uploads are in flight, restarted, and then every object it
acknowledged is intact, no upload it did not finish is visible, and the
temporary files of the interrupted uploads are gone.
"""

import hashlib
import http.client
import io
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from twisted.trial.unittest import TestCase

from eucalyptus import admin
from eucalyptus.accounts import AccountStore
from eucalyptus.config import CloudConfig, config_from_file

from tests.daemons import PROJECT, TWISTD, free_ports
from tests.services.walrus.harness import in_thread


class CrashTests(TestCase):
    """
    SIGKILL in the middle of uploads.
    """

    timeout = 180

    def setUp(self):
        self.data = os.path.abspath(self.mktemp())
        os.makedirs(self.data)
        port, other = free_ports(2)
        self.conf = os.path.join(self.data, "eucalyptus.conf")
        with open(self.conf, "w") as f:
            f.write(f'LISTEN_ADDRESS="127.0.0.1"\nWALRUS_PORT="{port}"\nCLC_PORT="{other}"\n')
        settings = config_from_file(self.conf, self.data)
        admin.initialise(settings, out=io.StringIO())
        self.key = AccountStore(CloudConfig.from_settings(settings).database_url).create_account("alice")
        self.url = f"http://127.0.0.1:{port}"
        self.process = None
        self.addCleanup(self._kill)

    def _start(self):
        log = os.path.join(self.data, "walrus.log")
        self.process = subprocess.Popen(
            [TWISTD, "-n", "--logfile", log, "--pidfile", "", "euca-walrus", "--config", self.conf, "--data-dir", self.data],
            cwd=PROJECT,
            env=dict(os.environ, PYTHONPATH=PROJECT),
        )

    def _kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.key.access_key_id,
            aws_secret_access_key=self.key.secret_key,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}, connect_timeout=2),
        )

    def _wait_ready(self, s3):
        deadline = time.monotonic() + 60
        while True:
            try:
                return s3.list_buckets()
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _half_sent_put(self, s3, key, size):
        """
        Start a presigned PUT of C{size} bytes and send only half of them;
        the connection stays open until the daemon dies.
        """
        url = urllib.parse.urlsplit(s3.generate_presigned_url("put_object", Params={"Bucket": "crash", "Key": key}))
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        connection.putrequest("PUT", url.path + "?" + url.query, skip_accept_encoding=True)
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        connection.send(os.urandom(size // 2))
        return connection

    def _scenario(self):
        self._start()
        s3 = self._client()
        self._wait_ready(s3)
        s3.create_bucket(Bucket="crash")
        acknowledged, attempted = {}, {}
        lock, stop = threading.Lock(), threading.Event()

        def uploader(worker):
            client = self._client()
            n = 0
            while not stop.is_set():
                key, data = f"w{worker}/{n}", os.urandom(256 * 1024 * (1 + n % 8))
                with lock:
                    attempted[key] = hashlib.md5(data).hexdigest()
                try:
                    client.put_object(Bucket="crash", Key=key, Body=data)
                except Exception:
                    return
                with lock:
                    acknowledged[key] = attempted[key]
                n += 1

        half_sent = [self._half_sent_put(s3, f"half/{i}", 8 << 20) for i in range(3)]
        with ThreadPoolExecutor(4) as pool:
            workers = [pool.submit(uploader, i) for i in range(4)]
            while len(acknowledged) < 20:
                time.sleep(0.01)
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            stop.set()
            for worker in workers:
                worker.result()
        for connection in half_sent:
            connection.close()
        self._start()
        s3 = self._client()
        self._wait_ready(s3)
        listed = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crash"):
            for entry in page.get("Contents", []):
                listed[entry["Key"]] = entry["ETag"].strip('"')
        intact = {}
        for key in acknowledged:
            body = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            intact[key] = hashlib.md5(body).hexdigest()
        temporaries = os.listdir(os.path.join(self.data, "walrus", "tmp"))
        return acknowledged, attempted, listed, intact, temporaries

    def test_sigkill_during_uploads(self):
        """
        Every acknowledged object survives intact; nothing half-received
        is visible; every visible object is whole; no temporary is left.
        """

        def check(result):
            acknowledged, attempted, listed, intact, temporaries = result
            self.assertGreaterEqual(len(acknowledged), 20)
            self.assertEqual(intact, acknowledged)
            self.assertFalse([key for key in listed if key.startswith("half/")])
            for key, etag in listed.items():
                self.assertIn(key, attempted)
                self.assertEqual(etag, attempted[key], f"{key} is visible but not whole")
            self.assertEqual(temporaries, [])

        return in_thread(self._scenario).addCallback(check)
