# -*- test-case-name: tests.services.nc.test_fetch -*-
"""
How the Node Controller downloads images from Walrus: signed with its
zone's node key (L{eucalyptus.security.nodeauth}), checked, retried.

A plain image is streamed in 1 MiB chunks to a temporary file next to its
destination, checked (the byte count against C{Content-Length}, the MD5
against a plain-MD5 C{ETag}), fsynced and renamed into place, so the
destination either holds the whole image or does not exist.

An Eucalyptus bundle (a URL ending in C{.manifest.xml}) is its manifest,
then each part from the manifest's directory, each part's SHA-1 checked
before it is fed to L{eucalyptus.bundle.Unbundler}, which decrypts and
unpacks the image and checks its digest.

Failures that may pass (Walrus unreachable, a server error, a truncated or
altered transfer) are retried with exponential backoff, C{first_delay}
doubling up to C{max_delay}, at most C{max_attempts} attempts in all
(C{WALRUS_DOWNLOAD_MAX_ATTEMPTS}, 2 s ... 300 s in the original).  A
missing object (404), refused credentials (403) and a bundle that does not
verify are final at once.

The requests are blocking code (C{http.client}) run in threads, at most
L{CONCURRENT_DISK_OPS} at a time by default; waiting between attempts uses
the injected reactor's C{callLater}.
"""

import hashlib
import http.client
import os
import re
import tempfile
import time
from urllib.parse import quote, urlsplit

from twisted.internet import defer, task, threads
from twisted.logger import Logger

from eucalyptus import bundle
from eucalyptus.security import nodeauth
from eucalyptus.services.nc.errors import ImageCorrupt, ImageFetchFailed, ImageNotFound
from eucalyptus.files import fsync_directory

__all__ = ["Fetcher", "CHUNK", "CONCURRENT_DISK_OPS", "is_bundle"]

#: Bytes read and written at a time.
CHUNK = 1 << 20
#: Downloads (and bundle steps) running at once by default.
CONCURRENT_DISK_OPS = 4
#: The largest manifest read into memory.
MAX_MANIFEST = 16 << 20

_PLAIN_ETAG = re.compile(r"[0-9a-f]{32}")
_S3_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")


def is_bundle(url):
    """
    Whether C{url} names an Eucalyptus bundle's manifest.
    """
    return urlsplit(url).path.endswith(".manifest.xml")


class _Transient(Exception):
    """
    An attempt failed in a way another attempt may not.

    @ivar corrupt: the bytes arrived but were wrong (truncated, altered).
    """

    def __init__(self, reason, corrupt=False):
        Exception.__init__(self, reason)
        self.corrupt = corrupt


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _temporary(destination, suffix=".part"):
    """
    A new temporary file next to C{destination}: its open file and path.
    """
    directory, name = os.path.split(os.path.abspath(destination))
    fd, path = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=directory)
    return os.fdopen(fd, "wb"), path


def _install(file, path, destination, durable=True):
    """
    Make the temporary file C{path} (open as C{file}) C{destination}:
    durable (fsynced, and its directory after the rename) unless it is a
    scratch file.
    """
    file.flush()
    if durable:
        os.fsync(file.fileno())
    file.close()
    os.replace(path, destination)
    if durable:
        fsync_directory(os.path.dirname(os.path.abspath(destination)))


class Fetcher:
    """
    Downloads images from Walrus for one node.

    @ivar credential: the node's L{eucalyptus.security.keys.Credential}
        (C{KeyStore.credential("node", zone)}).
    @ivar private_keys: the private keys tried on a bundle's encrypted key.
    """

    _log = Logger()

    def __init__(
        self, credential, max_attempts=9, first_delay=2.0, max_delay=300.0, reactor=None, run_in_thread=None,
        private_keys=(), timeout=60.0,
    ):  # fmt: skip
        """
        @param max_attempts: attempts per request (C{WALRUS_DOWNLOAD_MAX_ATTEMPTS}).
        @param first_delay: seconds before the second attempt; each next
            wait doubles, up to C{max_delay}.
        @param run_in_thread: C{run_in_thread(f, *args)} runs blocking
            C{f(*args)} off the reactor and returns a Deferred; by default
            the reactor's thread pool, L{CONCURRENT_DISK_OPS} at a time.
        @param private_keys: C{cryptography} RSA private keys for bundles.
        @param timeout: seconds a connection may stay silent.
        """
        if reactor is None:
            from twisted.internet import reactor
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.credential = credential
        self.max_attempts = max_attempts
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.private_keys = tuple(private_keys)
        self.timeout = timeout
        self._reactor = reactor
        self._waits = set()
        self._closed = False
        if run_in_thread is None:
            pool = defer.DeferredSemaphore(CONCURRENT_DISK_OPS)

            def run_in_thread(f, *args):
                return pool.run(threads.deferToThreadPool, reactor, reactor.getThreadPool(), f, *args)

        self._run = run_in_thread

    # -- the public face ------------------------------------------------------

    def close(self):
        """
        The node is stopping: downloads waiting to try again fail now, and
        no new attempt starts (attempts under way run to their end).
        """
        self._closed = True
        for wait in list(self._waits):
            wait.cancel()

    def fetch(self, url, destination):
        """
        Download the image at C{url} to C{destination}.

        @return: a Deferred firing with the image's size once
            C{destination} holds the whole, checked image.
        @raise ImageNotFound: 404.
        @raise ImageFetchFailed: 403, or every attempt failed.
        @raise ImageCorrupt: the last attempt's bytes were wrong, or a
            bundle does not verify.
        """
        if is_bundle(url):
            return defer.Deferred.fromCoroutine(self._bundle(url, destination))
        return defer.Deferred.fromCoroutine(self._attempts(url, self._get_file, url, destination))

    def size(self, url):
        """
        The size the image at C{url} will have, if Walrus says (C{HEAD}, or
        a bundle manifest's image size), in one attempt.

        @return: a Deferred firing with the size or L{None} if unknown.
        @raise ImageNotFound: 404.
        @raise ImageFetchFailed: 403.
        """
        return defer.Deferred.fromCoroutine(self._size(url))

    async def _size(self, url):
        try:
            if not is_bundle(url):
                return await self._run(self._head, url)
            text = await self._run(self._get_bytes, url)
        except _Transient:
            return None
        try:
            return bundle.parse_manifest(text).size
        except bundle.BundleError:
            return None

    # -- attempts --------------------------------------------------------------

    def _delay(self, attempt):
        """
        Seconds to wait after failed attempt number C{attempt} (from 1).
        """
        return min(self.first_delay * 2 ** (attempt - 1), self.max_delay)

    async def _attempts(self, url, f, *args):
        """
        Run blocking C{f(*args)} until it does not fail transiently, at
        most L{max_attempts} times.
        """
        for attempt in range(1, self.max_attempts + 1):
            if self._closed:
                raise ImageFetchFailed(f"The node controller is stopping; the download of {url} was abandoned.")
            try:
                return await self._run(f, *args)
            except _Transient as e:
                failure = e
                if attempt == self.max_attempts:
                    break
                delay = self._delay(attempt)
                self._log.warn(
                    "Download of {url} failed ({reason}), attempt {attempt} of {attempts}; retrying in {delay}s",
                    url=url, reason=str(e), attempt=attempt, attempts=self.max_attempts, delay=delay,
                )  # fmt: skip
                wait = task.deferLater(self._reactor, delay, lambda: None)
                self._waits.add(wait)
                try:
                    await wait
                except defer.CancelledError:
                    pass
                finally:
                    self._waits.discard(wait)
        error = ImageCorrupt if failure.corrupt else ImageFetchFailed
        raise error(f"Downloading {url} failed {self.max_attempts} times; the last time: {failure}.")

    # -- blocking requests (in threads) ---------------------------------------

    def _request(self, method, url):
        """
        Send a signed request; the connection and a successful response.

        @raise _Transient: no answer, or a server error.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImageFetchFailed(f"{url} is not an http(s) URL; the image cannot be downloaded from it.")
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname, parts.port, timeout=self.timeout)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        try:
            connection.request(method, target, headers=nodeauth.sign_headers(method, url, self.credential, time.time()))
            response = connection.getresponse()
            if response.status != 200:
                self._refuse(method, url, response)
        except (OSError, http.client.HTTPException) as e:
            connection.close()
            raise _Transient(f"{type(e).__name__}: {e}")
        except BaseException:
            connection.close()
            raise
        return connection, response

    def _refuse(self, method, url, response):
        found = _S3_CODE.search(response.read(1 << 16) if method != "HEAD" else b"")
        code = f" ({found.group(1).decode('utf-8', 'replace')})" if found else ""
        if response.status == 404:
            raise ImageNotFound(f"Walrus has no object at {url} (404{code}); check the image's manifest location.")
        if response.status == 403:
            raise ImageFetchFailed(
                f"Walrus refused this node's credentials for {url} (403{code}); check that Walrus has this "
                "zone's node-cert.pem and that the clocks agree."
            )
        raise _Transient(f"HTTP {response.status} {response.reason}{code}")

    def _receive(self, response, write):
        """
        Read a response's body in chunks and check it arrived whole.

        @return: the number of bytes read.
        @raise _Transient: truncated, or its MD5 is not its plain ETag.
        """
        md5 = hashlib.md5(usedforsecurity=False)
        received = 0
        try:
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                md5.update(chunk)
                received += len(chunk)
                write(chunk)
        except http.client.IncompleteRead:
            raise _Transient(f"the body ended after {received} bytes", corrupt=True)
        length = response.getheader("content-length")
        if length is not None and length.strip().isdigit() and int(length) != received:
            raise _Transient(f"received {received} of {int(length)} bytes", corrupt=True)
        etag = (response.getheader("etag") or "").strip().strip('"').lower()
        if _PLAIN_ETAG.fullmatch(etag) and etag != md5.hexdigest():
            raise _Transient(f"the MD5 is {md5.hexdigest()}, the ETag {etag}", corrupt=True)
        return received

    def _head(self, url):
        connection, response = self._request("HEAD", url)
        connection.close()
        length = response.getheader("content-length")
        return int(length) if length is not None and length.strip().isdigit() else None

    def _get_file(self, url, destination, sha1=None):
        """
        Download C{url} to C{destination} through a temporary file.

        @param sha1: the hex SHA-1 the bytes must have (a bundle part,
            a scratch file: not fsynced).
        @return: the number of bytes.
        @raise ImageCorrupt: they do not.
        """
        file, path = _temporary(destination)
        try:
            if sha1:
                digest = hashlib.sha1(usedforsecurity=False)

                def write(chunk):
                    file.write(chunk)
                    digest.update(chunk)

            else:
                write = file.write
            size = self._read(url, write)
            if sha1 and digest.hexdigest() != sha1.lower():
                raise ImageCorrupt(f"The bundle part {url} has SHA-1 {digest.hexdigest()}, its manifest says {sha1}.")
            _install(file, path, destination, durable=not sha1)
            return size
        except BaseException:
            file.close()
            _remove(path)
            raise

    def _read(self, url, write, limit=None):
        """
        GET C{url}, giving its body to C{write} in chunks.

        @param limit: the most bytes accepted.
        @return: the number of bytes.
        """
        connection, response = self._request("GET", url)
        try:
            length = response.getheader("content-length")
            if limit is not None and length is not None and length.strip().isdigit() and int(length) > limit:
                raise ImageCorrupt(f"{url} is {length} bytes, more than a manifest can be.")
            return self._receive(response, write)
        except (OSError, http.client.HTTPException) as e:
            raise _Transient(f"{type(e).__name__}: {e}")
        finally:
            connection.close()

    def _get_bytes(self, url):
        data = bytearray()

        def write(chunk):
            data.extend(chunk)
            if len(data) > MAX_MANIFEST:
                raise ImageCorrupt(f"{url} is more than {MAX_MANIFEST} bytes, more than a manifest can be.")

        self._read(url, write, MAX_MANIFEST)
        return bytes(data)

    # -- bundles ---------------------------------------------------------------

    async def _bundle(self, url, destination):
        text = await self._attempts(url, self._get_bytes, url)
        try:
            manifest = bundle.parse_manifest(text)
        except bundle.BundleError as e:
            raise ImageCorrupt(f"The manifest {url} is not a valid bundle manifest: {e}")
        try:
            key, iv = bundle.decrypt_key(manifest, self.private_keys)
        except bundle.BundleError as e:
            raise ImageFetchFailed(f"The bundle {url} cannot be opened by this node: {e}")
        directory = url.partition("?")[0].rpartition("/")[0] + "/"
        output = await self._run(_temporary, destination)
        part_path = output[1] + ".piece"
        try:
            unbundler = bundle.Unbundler(key, iv, output[0], digest=manifest.digest, size=manifest.size)
            received = 0
            for part in manifest.parts:
                part_url = directory + quote(part.filename, safe="")
                received += await self._attempts(part_url, self._get_file, part_url, part_path, part.digest)
                await self._run(_feed, unbundler, part_path, part_url)
            if received != manifest.bundled_size:
                raise ImageCorrupt(f"The parts of {url} hold {received} bytes, its manifest says {manifest.bundled_size}.")
            await self._run(_finish, unbundler, output, destination, url)
            return manifest.size
        except BaseException:
            await self._run(_discard, output, part_path)
            raise


def _feed(unbundler, path, url):
    """
    Give a downloaded part to the unbundler, then delete it.
    """
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                unbundler.feed(chunk)
    except bundle.BundleError as e:
        raise ImageCorrupt(f"The bundle part {url} cannot be unbundled: {e}")
    finally:
        _remove(path)


def _finish(unbundler, output, destination, url):
    try:
        unbundler.finish()
    except bundle.BundleError as e:
        raise ImageCorrupt(f"The bundle {url} does not unpack to its image: {e}")
    _install(output[0], output[1], destination)


def _discard(output, part_path):
    output[0].close()
    _remove(output[1])
    _remove(part_path)
