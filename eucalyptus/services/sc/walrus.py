# -*- test-case-name: tests.services.sc.test_snapshots -*-
"""
Snapshot objects in Walrus: each snapshot is one gzip object
(L{eucalyptus.services.sc.compression}), uploaded in parts (S3 multipart
upload) as the volume copy is read, and read back as a stream to restore
it.

The objects live in one bucket of the cloud administrators' account
(C{eucalyptus}), made private on first use, so no user account can list or
read them; the SC signs with that account's access key (SigV4), read from
the cloud's account store at each transfer so a rotated key is picked up.
The bucket's name is the SC's own (chosen once, with a random part, so no
user can take it first); if a bucket of that name turns out to belong to
another account, nothing is written into it.

Everything here blocks: call it from a worker thread.  Walrus's answers
become L{StorageError} (or L{SnapshotNotFound} for a missing object).
"""

import contextlib
import threading

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from twisted.logger import Logger

from eucalyptus.errors import SnapshotNotFound, StorageError
from eucalyptus.services.sc.compression import CHUNK, GunzipReader, GzipWriter

__all__ = ["SnapshotObjects", "PART_SIZE", "object_key"]

#: Compressed bytes per uploaded part (S3's least is 5 MiB, but for the
#: last part).
PART_SIZE = 16 * 1024**2
#: Parts an upload may have (S3 allows 10,000; the rest is margin).
MAX_PARTS = 9000
_MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


def object_key(snapshot_id):
    """
    The key of a snapshot's object.
    """
    return f"{snapshot_id}.raw.gz"


class SnapshotObjects:
    """
    A client of the snapshot bucket.

    @ivar url: Walrus's S3 endpoint.
    @ivar bucket: the bucket new snapshots go to.
    @ivar part_size: compressed bytes per part (at least, but the last).
    """

    _log = Logger()

    def __init__(self, url, credentials, bucket, part_size=PART_SIZE, timeout=60, attempts=3):
        """
        @param url: Walrus's S3 endpoint, e.g. C{http://10.0.0.2:8773/services/Walrus}.
        @param credentials: called (in a worker thread) for the
            administrators' active access key: an object with
            C{access_key_id}, C{secret_key} and C{account_id}
            (L{eucalyptus.accounts.AccessKey}).
        @param bucket: the bucket's name.
        @param timeout: seconds to connect and to wait for each answer.
        @param attempts: tries of each request (botocore retries).
        """
        self.url = url
        self.bucket = bucket
        self.part_size = part_size
        self._credentials = credentials
        self._config = Config(
            s3={"addressing_style": "path"}, signature_version="s3v4", connect_timeout=timeout,
            read_timeout=timeout, retries={"max_attempts": attempts, "mode": "standard"},
        )  # fmt: skip
        self._lock = threading.Lock()
        self._session = None
        self._client = None
        self._key = None
        self._bucket_ready = False

    def _connect(self):
        """
        A client signing with the current key (made again when the key
        changed); and the key.
        """
        with self._lock:
            key = self._credentials()
            if key is None:
                raise StorageError(
                    "The cloud administrators' account has no active access key to store snapshots with."
                )
            if self._client is None or self._key.access_key_id != key.access_key_id:
                if self._session is None:
                    self._session = botocore.session.Session()
                self._client = self._session.create_client(
                    "s3", endpoint_url=self.url, region_name="eucalyptus", aws_access_key_id=key.access_key_id,
                    aws_secret_access_key=key.secret_key, config=self._config,
                )  # fmt: skip
                self._key = key
            return self._client, key

    @contextlib.contextmanager
    def _walrus(self, what, key=None):
        """
        Turn what botocore raises while doing C{what} into our errors.
        """
        try:
            yield
        except ClientError as e:
            error = e.response.get("Error", {})
            code = error.get("Code", "")
            if code in _MISSING and key is not None:
                raise SnapshotNotFound(f"There is no snapshot object {key} in Walrus bucket {self.bucket}.")
            raise StorageError(f"Walrus refused to {what}: {code} {error.get('Message', '')}".rstrip() + ".")
        except BotoCoreError as e:
            raise StorageError(f"Walrus at {self.url} did not {what}: {e}.")

    def _ensure_bucket(self, client, key):
        """
        Make the bucket (private) unless it was made already, and insist
        that it is the administrators'.
        """
        if self._bucket_ready:
            return
        with self._walrus(f"make bucket {self.bucket}"):
            try:
                client.create_bucket(Bucket=self.bucket, ACL="private")
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise
            owner = client.get_bucket_acl(Bucket=self.bucket)["Owner"]["ID"]
        if owner != key.account_id:
            raise StorageError(
                f"Bucket {self.bucket} belongs to account {owner}, not the administrators' ({key.account_id}): "
                "snapshots are not stored there."
            )
        self._bucket_ready = True

    def upload(self, source, size, key, metadata, progress=None, cancelled=None, started=None):
        """
        Compress a volume copy and upload it as object C{key} of the
        bucket, part by part.  On failure the caller discards the upload
        (L{discard}).

        @param source: the copy, open: C{read(n)}.
        @param size: its length in bytes (for the part size and progress).
        @param metadata: the object's user metadata, a dict of text.
        @param progress: called with the raw bytes covered by the parts
            uploaded so far, after each part.
        @param cancelled: a C{threading.Event} that stops the upload
            between two chunks (L{StorageError}).
        @param started: called with the multipart upload id once it exists.
        @return: the compressed object's length in bytes.
        @raise StorageError: Walrus failed or refused, or cancelled.
        """
        client, credentials = self._connect()
        self._ensure_bucket(client, credentials)
        part_size = max(self.part_size, -(-size // MAX_PARTS))
        with self._walrus(f"start uploading {key}"):
            upload_id = client.create_multipart_upload(
                Bucket=self.bucket, Key=key, Metadata=metadata, ContentType="application/gzip"
            )["UploadId"]
        if started is not None:
            started(upload_id)
        writer = GzipWriter()
        buffer = bytearray()
        parts = []

        def send():
            number = len(parts) + 1
            with self._walrus(f"take part {number} of {key}"):
                answer = client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
                )
            parts.append({"ETag": answer["ETag"], "PartNumber": number, "Size": len(buffer)})
            buffer.clear()
            if progress is not None:
                progress(writer.raw)

        while True:
            if cancelled is not None and cancelled.is_set():
                raise StorageError(f"The upload of {key} was cancelled.")
            chunk = source.read(CHUNK)
            if not chunk:
                break
            buffer += writer.add(chunk)
            if len(buffer) >= part_size:
                send()
        buffer += writer.finish()
        if buffer or not parts:
            send()
        with self._walrus(f"complete {key}"):
            client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": [{"ETag": p["ETag"], "PartNumber": p["PartNumber"]} for p in parts]},
            )  # fmt: skip
        return sum(part["Size"] for part in parts)

    def open(self, bucket, key, cancelled=None):
        """
        Read a snapshot object back.

        @return: C{(metadata, reader)}: the object's user metadata and a
            L{GunzipReader} of the raw image, checked against the
            metadata's C{size}; close it once read.
        @raise SnapshotNotFound: there is no such object.
        """
        client, _ = self._connect()
        with self._walrus(f"read {key}", key=key):
            answer = client.get_object(Bucket=bucket, Key=key)
        metadata = answer.get("Metadata", {})
        size = metadata.get("size")
        return metadata, GunzipReader(answer["Body"], int(size) if size and size.isdigit() else None, cancelled)

    def discard(self, bucket, key, upload_id=""):
        """
        Remove a snapshot's object and abort its unfinished upload; what is
        already gone is no error.

        @raise StorageError: Walrus failed or refused.
        """
        client, _ = self._connect()
        if upload_id:
            with self._walrus(f"abort the upload of {key}"):
                try:
                    client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
                except ClientError as e:
                    if e.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "NoSuchBucket"):
                        raise
        with self._walrus(f"delete {key}"):
            try:
                client.delete_object(Bucket=bucket, Key=key)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") not in _MISSING:
                    raise

    def close(self):
        """
        Close the client's connections.
        """
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
