"""
The client side of C{bench/ec2.py}: a lean signed EC2 Query client and a
load generator, so that the load generator is not what a figure measures
(boto3 spends some 3 ms of CPU on each call; this client some 0.1 ms).

  - L{Signer}: Signature Version 4 of a form-encoded C{POST}, as botocore
    writes it (C{content-type;host;x-amz-date} signed, the body's SHA-256
    in the canonical request), computed afresh for every request; the
    signing key is derived once per day;
  - L{Connection}: one keep-alive HTTP/1.1 connection over a raw socket
    (one C{sendall} per request, the status line and framing headers parsed
    by hand), which understands C{Content-Length}, chunked and
    close-delimited bodies and reconnects after C{Connection: close};
  - L{Client}: the two together: C{call("DescribeRegions", {...})};
  - L{run_load}: several forked worker processes, a few connections each
    (one thread per connection), each request signed when it is sent, for
    a warm-up and then a timed window; the CPU of the server and of every
    other process given is read from C{/proc/<pid>/stat} at the window's
    edges, and so is the CPU of the workers themselves.
"""

import hashlib
import hmac
import multiprocessing
import os
import socket
import threading
import time
from array import array
from collections import Counter
from urllib.parse import quote

__all__ = ["VERSION", "Signer", "Connection", "Client", "form_body", "run_load", "LoadResult", "percentile",
           "cpu_seconds", "machine_busy", "status_kib"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_FORM = "application/x-www-form-urlencoded; charset=utf-8"
#: The API version every request names (botocore's).
VERSION = "2016-11-15"


def form_body(action, params):
    """
    The form body of an EC2 Query request.

    @param params: the flat parameters (C{{"Filter.1.Name": ...}}).
    @rtype: L{bytes}
    """
    pairs = [("Action", action), ("Version", VERSION)] + [(k, str(v)) for k, v in params.items()]
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='-_.~')}" for k, v in pairs).encode("ascii")


class Signer:
    """
    Signs form-encoded C{POST}s with Signature Version 4.
    """

    def __init__(self, access_key, secret_key, region, host, path, service="ec2"):
        """
        @param host: the C{Host} header (C{127.0.0.1:8773}).
        @param path: the request path (C{/services/Eucalyptus}).
        """
        self.access_key = access_key
        self.secret = secret_key.encode("utf-8")
        self.region = region
        self.service = service
        self.host = host
        self.path = path
        self._keys = {}

    def _key(self, day):
        key = self._keys.get(day)
        if key is None:
            key = b"AWS4" + self.secret
            for part in (day, self.region, self.service, "aws4_request"):
                key = hmac.new(key, part.encode("ascii"), hashlib.sha256).digest()
            self._keys[day] = key
        return key

    def headers(self, body, now=None):
        """
        The signed headers of one request, as raw header lines.

        @rtype: L{bytes}
        """
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        day = stamp[:8]
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        canonical = (
            f"POST\n{self.path}\n\ncontent-type:{_FORM}\nhost:{self.host}\nx-amz-date:{stamp}\n\n"
            f"content-type;host;x-amz-date\n{hashlib.sha256(body).hexdigest()}"
        )
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
        signature = hmac.new(self._key(day), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        return (
            f"Content-Type: {_FORM}\r\nX-Amz-Date: {stamp}\r\nAuthorization: AWS4-HMAC-SHA256 "
            f"Credential={self.access_key}/{scope}, SignedHeaders=content-type;host;x-amz-date, "
            f"Signature={signature}\r\n"
        ).encode("ascii")


class Connection:
    """
    One keep-alive HTTP/1.1 connection.
    """

    def __init__(self, host, port, timeout=600.0):
        self.address = (host, port)
        self.host_header = f"{host}:{port}"
        self.timeout = timeout
        self.sock = None
        self.buffer = bytearray()

    def connect(self):
        self.close()
        self.sock = socket.create_connection(self.address, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buffer.clear()

    def post(self, path, headers, body):
        """
        Send one C{POST} and read the whole answer.

        @param headers: more raw header lines (L{bytes}, each ending CRLF).
        @return: C{(status, body)}.
        """
        if self.sock is None:
            self.connect()
        self.sock.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n%s" % (
            path.encode("ascii"), self.host_header.encode("ascii"), headers, len(body), body))
        return self._response()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def _response(self):
        buf = self.buffer
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        lines = bytes(buf[:end]).split(b"\r\n")
        del buf[: end + 4]
        version, status = lines[0].split(b" ", 2)[:2]
        status = int(status)
        length, chunked, close = None, False, version == b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower() or (close and b"keep-alive" not in value.lower())
        if status == 100:
            return self._response()
        if status in (204, 304):
            body = b""
        elif chunked:
            body = self._chunked()
        elif length is not None:
            body = self._exactly(length)
        else:
            body = self._to_close()
            close = True
        if close:
            self.close()
        return status, body

    def _exactly(self, length):
        while len(self.buffer) < length:
            self._fill()
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        return body

    def _line(self):
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                return line
            self._fill()

    def _chunked(self):
        pieces = []
        while True:
            size = int(self._line().split(b";")[0], 16)
            if size == 0:
                while self._line():
                    pass
                return b"".join(pieces)
            pieces.append(self._exactly(size))
            self._line()

    def _to_close(self):
        try:
            while True:
                self._fill()
        except ConnectionError:
            pass
        body = bytes(self.buffer)
        self.buffer.clear()
        return body


class Client:
    """
    A signed EC2 Query client over one L{Connection}.

    @ivar endpoint: C{(host, port, path, region)}.
    @ivar credentials: C{(access key id, secret key)}.
    """

    def __init__(self, endpoint, credentials, timeout=600.0):
        host, port, path, region = endpoint
        self.endpoint = endpoint
        self.credentials = credentials
        self.path = path
        self.connection = Connection(host, port, timeout)
        self.signer = Signer(*credentials, region, self.connection.host_header, path)

    def call(self, action, params=None):
        """
        @return: C{(status, body)}.
        """
        body = form_body(action, params or {})
        return self.connection.post(self.path, self.signer.headers(body), body)

    def close(self):
        self.connection.close()


# -- the load generator -------------------------------------------------------


class LoadResult:
    """
    What one L{run_load} measured in its timed window.

    @ivar ok: requests answered 200 and accepted by the check.
    @ivar errors: the others, by status (0: a connection error, -1: a 200
        the check refused).
    @ivar samples: up to three C{(status, body start)} of failed requests.
    @ivar seconds: the window's length.
    @ivar latencies: seconds per successful request, sorted.
    @ivar cpu: CPU seconds used in the window, by name (C{"load"}: the
        worker processes; the names of C{pids}; C{"machine"}: every
        processor's busy time; C{"other"}: the machine less all of those).
    """

    def __init__(self, ok, errors, samples, seconds, latencies, cpu):
        self.ok = ok
        self.errors = errors
        self.samples = samples
        self.seconds = seconds
        self.latencies = latencies
        self.cpu = cpu

    @property
    def rate(self):
        return self.ok / self.seconds

    def per_request_ms(self, name):
        """
        CPU milliseconds of C{name} per successful request.
        """
        return 1000 * self.cpu[name] / self.ok if self.ok else float("nan")


def percentile(values, fraction):
    """
    The C{fraction} percentile of sorted C{values} (nearest rank).
    """
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


def _drive(client, bodies, check, window, out):
    """
    One connection's loop: send the bodies in turn until the window ends,
    keeping what finished inside it.
    """
    latencies, errors, samples = array("d"), Counter(), []
    ok, index = 0, 0
    clock = time.monotonic
    opens, closes = window
    connection, signer, path = client.connection, client.signer, client.path
    while True:
        started = clock()
        if started >= closes:
            break
        body = bodies[index % len(bodies)]
        index += 1
        try:
            status, answer = connection.post(path, signer.headers(body), body)
        except Exception as e:  # a broken answer counts as a failed request
            status, answer = 0, repr(e).encode()
            connection.close()
        finished = clock()
        if not opens <= finished <= closes:
            continue
        if status == 200 and check(answer):
            ok += 1
            latencies.append(finished - started)
        else:
            errors[status if status != 200 else -1] += 1
            if len(samples) < 3:
                samples.append((status, answer[:400]))
    out.append((ok, errors, samples, latencies))


def _worker(endpoint, credentials, share, check, warmup, seconds, barrier, results):
    """
    One worker process: one connection and one thread per body list.
    """
    clients = [Client(endpoint, credentials) for _ in share]
    for client, bodies in zip(clients, share):
        client.connection.connect()
    barrier.wait()
    start = time.monotonic()
    window = (start + warmup, start + warmup + seconds)
    out = []
    threads = [threading.Thread(target=_drive, args=(c, b, check, window, out)) for c, b in zip(clients, share)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    latencies = array("d")
    for o in out:
        latencies.extend(o[3])
    results.put((sum(o[0] for o in out), dict(sum((o[1] for o in out), Counter())),
                 [s for o in out for s in o[2]][:3], latencies.tobytes()))


def _accept(answer):
    return True


def run_load(endpoint, credentials, body_lists, processes, warmup, seconds, pids, check=_accept):
    """
    Drive signed requests at a server from forked worker processes, one
    connection (and thread) per body list, the lists spread over the
    processes.

    @param endpoint: C{(host, port, path, region)}.
    @param credentials: C{(access key id, secret key)}.
    @param body_lists: one list of form bodies per connection, sent in turn;
        the number of lists is the concurrency.
    @param warmup: seconds of requests before the window opens.
    @param seconds: the window's length.
    @param pids: name to pid of the processes whose CPU to read.
    @param check: C{check(body)}: whether a 200 answer is right.
    @return: a L{LoadResult}.
    """
    context = multiprocessing.get_context("fork")
    processes = max(1, min(processes, len(body_lists)))
    shares = [body_lists[i::processes] for i in range(processes)]
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(endpoint, credentials, share, check, warmup, seconds, barrier, results),
                        daemon=True)
        for share in shares
    ]
    for worker in workers:
        worker.start()
    try:
        barrier.wait(timeout=60)
        start = time.monotonic()
        time.sleep(max(0.0, start + warmup - time.monotonic()))
        before = _snapshot(pids, workers)
        time.sleep(max(0.0, start + warmup + seconds - time.monotonic()))
        after = _snapshot(pids, workers)
        gathered = [results.get(timeout=900) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
                worker.join()
    cpu = {name: after[name] - before[name] for name in after}
    cpu["other"] = max(0.0, cpu["machine"] - sum(value for name, value in cpu.items() if name != "machine"))
    latencies = array("d")
    errors = Counter()
    for g in gathered:
        errors.update(g[1])
        latencies.frombytes(g[3])
    return LoadResult(
        ok=sum(g[0] for g in gathered), errors=dict(errors), samples=[s for g in gathered for s in g[2]][:3],
        seconds=seconds, latencies=sorted(latencies), cpu=cpu,
    )


def _snapshot(pids, workers):
    used = {name: cpu_seconds(pid) for name, pid in pids.items()}
    used["load"] = sum(cpu_seconds(worker.pid) for worker in workers)
    used["machine"] = machine_busy()
    return used


# -- what the server used ------------------------------------------------------


def cpu_seconds(pid):
    """
    User plus system CPU seconds of process C{pid} (all its threads, and
    the children it waited for), 0 when it has gone.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(field) for field in fields[11:15]) / _CLOCK_TICKS


def machine_busy():
    """
    CPU seconds every processor spent busy (not idle, not waiting) since
    boot.
    """
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _CLOCK_TICKS


def status_kib(pid, key):
    """
    A C{kB} line of C{/proc/<pid>/status} (C{VmRSS}, C{VmHWM}), 0 when gone.
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
