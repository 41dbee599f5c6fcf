"""
The client side of C{bench/s3.py}, and its null HTTP sink.

    .venv/bin/python bench/s3_load.py --sink PORT

runs the sink: an asyncio protocol that reads each request in full and
answers C{200} with an empty body (keep-alive).  A C{GET} is answered with
as many zero bytes as the last C{PUT} to the same path carried, so a GET
workload has something to read; nothing is stored.  It is the ceiling of
the load generator: a server can look no faster than this.

The rest is imported by C{bench/s3.py}:

  - L{LeanConnection}: a keep-alive HTTP/1.1 client over a raw socket
    (one C{sendall} per request, status line and framing headers parsed by
    hand), several times cheaper per request than C{http.client};
  - L{run_load}: drive presigned request targets from several worker
    processes, each with a few connections (one thread each), for a fixed
    time, and gather operations per second and per-request latencies;
  - L{put_stream} / L{get_stream}: one large object through
    C{http.client}, sent and read in fixed-size pieces;
  - L{MemorySampler}, L{cpu_seconds}, L{drop_caches}, L{PySpy}: what the
    benchmark measures on the server side.
"""

import argparse
import asyncio
import http.client
import multiprocessing
import os
import signal
import socket
import subprocess
import threading
import time
from array import array
from collections import Counter
from urllib.parse import urlsplit

__all__ = [
    "LeanConnection",
    "LoadResult",
    "run_load",
    "put_stream",
    "get_stream",
    "MemorySampler",
    "status_kib",
    "reset_peak",
    "cpu_seconds",
    "drop_caches",
    "machine_busy",
    "OtherLoad",
    "wait_quiet",
    "PySpy",
    "summarize_profile",
    "serve_sink",
]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- the lean client ----------------------------------------------------------


class LeanConnection:
    """
    One keep-alive HTTP/1.1 connection.  Understands C{Content-Length},
    chunked and close-delimited response bodies; reconnects after a
    C{Connection: close}.
    """

    def __init__(self, host, port, timeout=60.0):
        self.address = (host, port)
        self.host_header = f"{host}:{port}".encode("ascii")
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

    def request(self, method, target, body=None):
        """
        Send one request and read the whole response.

        @param method: C{b"GET"}, C{b"PUT"}, ...
        @param target: the request target (path and query) as bytes.
        @param body: the request body (bytes), or C{None} for none.
        @return: C{(status, body)}.
        """
        if self.sock is None:
            self.connect()
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, target, self.host_header)
        if body is not None:
            head += b"Content-Length: %d\r\n\r\n" % len(body)
            self.sock.sendall(head + body)
        else:
            self.sock.sendall(head + b"\r\n")
        return self._response(method)

    def _fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def _response(self, method):
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
            return self._response(method)
        if method == b"HEAD" or status in (204, 304):
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


# -- many small requests ------------------------------------------------------


class LoadResult:
    """
    What one L{run_load} measured.

    @ivar ok: requests answered 2xx (with the expected body length, for GET)
        within the timed window.
    @ivar errors: the others, by C{status} (0: a connection error).
    @ivar samples: up to three C{(status, body)} of failed requests.
    @ivar elapsed: seconds from the start signal to the last timed answer.
    @ivar latencies: seconds per timed request, sorted.
    @ivar client_cpu: CPU seconds the worker processes used while timed.
    @ivar server_cpu: CPU seconds the server process used over the same window
        (C{None} without a pid).
    @ivar other: the L{OtherLoad} of the window (other processes' CPU).
    """

    def __init__(self, ok, errors, samples, elapsed, latencies, client_cpu, server_cpu, other=None):
        self.ok = ok
        self.errors = errors
        self.samples = samples
        self.elapsed = elapsed
        self.latencies = latencies
        self.client_cpu = client_cpu
        self.server_cpu = server_cpu
        self.other = other

    @property
    def ops(self):
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction):
        if not self.latencies:
            return float("nan")
        index = min(len(self.latencies) - 1, int(round(fraction * (len(self.latencies) - 1))))
        return self.latencies[index]


def _drive(connection, method, targets, body, expect_length, deadline, fill, out):
    """
    One connection's loop: cycle through C{targets} until C{deadline}; with
    C{fill}, then finish one pass over the targets not done yet (untimed).
    """
    latencies, errors, samples = array("d"), Counter(), []
    ok, index, last = 0, 0, time.perf_counter()
    clock = time.perf_counter
    while True:
        started = clock()
        if started >= deadline:
            break
        target = targets[index % len(targets)]
        index += 1
        try:
            status, answer = connection.request(method, target, body)
        except Exception as e:  # a broken answer counts as a failed request
            status, answer = 0, repr(e).encode()
            connection.close()
        last = clock()
        if 200 <= status < 300 and (expect_length is None or len(answer) == expect_length):
            ok += 1
            latencies.append(last - started)
        else:
            errors[status] += 1
            if len(samples) < 3:
                samples.append((status, answer[:300]))
    if fill:
        for target in targets[index:]:
            try:
                connection.request(method, target, body)
            except Exception:
                connection.close()
    out.append((ok, errors, samples, last, latencies))


def _load_process(address, method, target_lists, body, expect_length, duration, fill, barrier, results):
    """
    One worker process: one connection and one thread per target list.
    """
    connections = [LeanConnection(*address) for _ in target_lists]
    for connection, targets in zip(connections, target_lists):
        connection.request(method, targets[0], body)
    barrier.wait()
    cpu_before = sum(os.times()[:2])
    start = time.perf_counter()
    deadline = start + duration
    out = []
    threads = [
        threading.Thread(target=_drive, args=(c, method, t, body, expect_length, deadline, fill, out))
        for c, t in zip(connections, target_lists)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = sum(os.times()[:2]) - cpu_before
    for connection in connections:
        connection.close()
    ok = sum(o[0] for o in out)
    errors = sum((o[1] for o in out), Counter())
    samples = [s for o in out for s in o[2]][:3]
    last = max(o[3] for o in out) - start
    latencies = array("d")
    for o in out:
        latencies.extend(o[4])
    results.put((ok, dict(errors), samples, last, latencies.tobytes(), cpu))


def run_load(address, method, target_lists, body=None, expect_length=None, processes=4, duration=5.0, fill=False, pid=None):
    """
    Drive presigned targets at a server, one connection per target list,
    the connections spread over C{processes} forked worker processes.

    @param address: C{(host, port)}.
    @param method: C{b"PUT"} or C{b"GET"}.
    @param target_lists: one list of request targets (bytes) per connection;
        the number of lists is the concurrency.
    @param body: the PUT body (bytes) or C{None}.
    @param expect_length: the body length a successful GET must have.
    @param duration: seconds to run, after one untimed request per connection.
    @param fill: after the timed window, finish one pass over each list (so
        every key exists for a following GET).
    @param pid: the server's pid, to read its CPU time.
    @return: a L{LoadResult}.
    """
    context = multiprocessing.get_context("fork")
    processes = max(1, min(processes, len(target_lists)))
    shares = [target_lists[i::processes] for i in range(processes)]
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(
            target=_load_process,
            args=(address, method, share, body, expect_length, duration, fill, barrier, results),
            daemon=True,
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    other = OtherLoad()
    try:
        barrier.wait(timeout=120)
        with other:
            server_before = cpu_seconds(pid) if pid else None
            gathered = [results.get(timeout=duration + 300) for _ in workers]
            server_cpu = cpu_seconds(pid) - server_before if pid else None
            other.exclude = (server_cpu or 0.0) + sum(g[5] for g in gathered)
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join()
    latencies = array("d")
    errors = Counter()
    for g in gathered:
        errors.update(g[1])
        latencies.frombytes(g[4])
    return LoadResult(
        ok=sum(g[0] for g in gathered),
        errors=dict(errors),
        samples=[s for g in gathered for s in g[2]][:3],
        elapsed=max(g[3] for g in gathered),
        latencies=sorted(latencies),
        client_cpu=sum(g[5] for g in gathered),
        server_cpu=server_cpu,
        other=other,
    )


# -- one large object ---------------------------------------------------------


def _connection(url, timeout):
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout), target


def put_stream(url, size, block, timeout=600):
    """
    PUT C{size} bytes (C{block} repeated) to a presigned URL, one C{send}
    per block; nothing else is held in memory.

    @return: C{(seconds, status, response headers, response body)}; the
        time runs from the first byte sent to the whole answer read.
    """
    connection, target = _connection(url, timeout)
    try:
        connection.putrequest("PUT", target, skip_accept_encoding=True)
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        view = memoryview(block)
        start = time.perf_counter()
        sent = 0
        try:
            while sent < size:
                piece = view[: min(len(block), size - sent)]
                connection.send(piece)
                sent += len(piece)
        except OSError:
            pass  # the server answered early (an error); read it below
        response = connection.getresponse()
        answer = response.read()
        return time.perf_counter() - start, response.status, dict(response.getheaders()), answer
    finally:
        connection.close()


def get_stream(url, piece=1 << 20, timeout=600):
    """
    GET a presigned URL, reading the body into one reused buffer of
    C{piece} bytes and discarding it.

    @return: C{(seconds, status, bytes read)}.
    """
    connection, target = _connection(url, timeout)
    try:
        buffer = memoryview(bytearray(piece))
        start = time.perf_counter()
        connection.request("GET", target, headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        total = 0
        while True:
            n = response.readinto(buffer)
            if not n:
                break
            total += n
        return time.perf_counter() - start, response.status, total
    finally:
        connection.close()


# -- server-side measurements -------------------------------------------------


def cpu_seconds(pid):
    """
    User plus system CPU seconds of process C{pid} (all its threads).
    """
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def status_kib(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                values[name] = int(value.split()[0])
    return values


def reset_peak(pid):
    """
    Reset the kernel's peak-RSS mark (C{VmHWM}) of C{pid}.

    @return: C{True} if the kernel accepted it.
    """
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class MemorySampler:
    """
    Samples C{VmRSS} of a process every C{interval} seconds in a thread,
    keeping the largest value per phase; L{stop} adds the kernel's own peak
    (C{VmHWM}), which no sampling interval can miss.
    """

    def __init__(self, pid, interval=0.02):
        self.pid = pid
        self.interval = interval
        self.phase = "idle"
        self.peaks = {}
        self.hwm_kib = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                rss = status_kib(self.pid)["VmRSS"]
            except (OSError, KeyError):
                return
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.hwm_kib = status_kib(self.pid).get("VmHWM")
        return self


def machine_busy():
    """
    CPU seconds all processors spent busy since boot (C{/proc/stat}), and
    bytes moved by the whole block devices (C{/proc/diskstats}).
    """
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    busy = sum(fields) - fields[3] - fields[4]
    moved = 0
    with open("/proc/diskstats") as f:
        for line in f:
            parts = line.split()
            if os.path.exists(f"/sys/block/{parts[2]}/device"):
                moved += (int(parts[5]) + int(parts[9])) * 512
    return busy / _CLOCK_TICKS, moved


class OtherLoad:
    """
    What the rest of the machine did during a measurement: CPU used by
    processes other than this one, C{pids} and whatever is added to
    C{exclude} (CPU seconds) before the block ends, in cores; and disk
    traffic of all block devices (ours included), in MiB/s.
    """

    def __init__(self, pids=()):
        self.pids = [p for p in pids if p]
        self.exclude = 0.0
        self.cores = None
        self.disk = None

    def _ours(self):
        return sum(os.times()[:2]) + sum(cpu_seconds(p) for p in self.pids)

    def __enter__(self):
        self._start = (time.monotonic(), self._ours(), *machine_busy())
        return self

    def __exit__(self, *exc_info):
        wall, ours, busy, moved = time.monotonic(), self._ours(), *machine_busy()
        elapsed = max(wall - self._start[0], 1e-9)
        used = (busy - self._start[2]) - (ours - self._start[1]) - self.exclude
        self.cores = max(0.0, used) / elapsed
        self.disk = (moved - self._start[3]) / (1 << 20) / elapsed
        return False


def wait_quiet(timeout, cores=0.2, disk=20.0, window=0.5):
    """
    Wait up to C{timeout} seconds for a C{window} in which the machine uses
    under C{cores} CPU and moves under C{disk} MiB/s.

    @return: C{(waited seconds, quiet)}.
    """
    start = time.monotonic()
    while True:
        with OtherLoad() as load:
            time.sleep(window)
        if load.cores < cores and load.disk < disk:
            return time.monotonic() - start, True
        if time.monotonic() - start > timeout:
            return time.monotonic() - start, False


def drop_caches():
    """
    Write back dirty pages and drop the page cache (root only).

    @return: C{True} if the cache was dropped.
    """
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


class PySpy:
    """
    C{py-spy record} of one process in raw (collapsed-stack) form, from
    L{start} to L{stop}.
    """

    def __init__(self, executable, pid, output, rate=200):
        self.command = [executable, "record", "--pid", str(pid), "--format", "raw", "--output", output,
                        "--rate", str(rate), "--nonblocking", "--threads"]  # fmt: skip
        self.output = output
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)
        return self

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_PLUMBING = ("threading.py", "twisted/scripts/", "twisted/application/", "<module>", "ReactorBase.run ", "ReactorBase.mainLoop ")


def summarize_profile(path, top=15):
    """
    The busiest functions of a raw py-spy profile (the inclusive list leaves
    out thread and twistd start-up frames, which are in every stack).

    @return: C{(total samples, samples per thread, [(self samples, frame)],
        [(inclusive samples, frame)])}, frames as C{"function (file:line)"}
        with the line dropped for the inclusive list.
    """
    leaf, inclusive, threads, total = Counter(), Counter(), Counter(), 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            count = int(count)
            frames = stack.split(";")
            thread = frames[0] if frames[0].startswith(("thread", "process")) else "?"
            frames = [fr for fr in frames if not fr.startswith(("thread (", "process "))]
            if not frames:
                continue
            total += count
            threads[thread] += count
            leaf[frames[-1]] += count
            for name in {fr.rsplit(":", 1)[0] for fr in frames}:
                if not any(p in name for p in _PLUMBING):
                    inclusive[name] += count
    return total, threads, leaf.most_common(top), inclusive.most_common(top)


# -- the null sink ------------------------------------------------------------

_ZEROS = memoryview(bytes(1 << 20))


class _Sink(asyncio.Protocol):
    """
    Reads requests in full; answers 200, empty, or for a GET as many zero
    bytes as the last PUT to that path carried.
    """

    def __init__(self, sizes):
        self.sizes = sizes
        self.buffer = bytearray()
        self.body_left = 0
        self.current = None
        self.sending = 0
        self.paused = False
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        if self.body_left:
            if len(data) < self.body_left:
                self.body_left -= len(data)
                return
            data = data[self.body_left :]
            self.body_left = 0
            self._answer()
        self.buffer += data
        self._parse()

    def _parse(self):
        buf = self.buffer
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(buf[:end]).split(b"\r\n")
            del buf[: end + 4]
            method, target = lines[0].split(b" ", 2)[:2]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            self.current = (method, target.partition(b"?")[0], length)
            if len(buf) >= length:
                del buf[:length]
                self._answer()
            else:
                self.body_left = length - len(buf)
                buf.clear()
                return

    def _answer(self):
        method, path, length = self.current
        if method == b"PUT":
            self.sizes[path] = length
        size = self.sizes.get(path, 0) if method == b"GET" else 0
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        self.sending = size
        self._pump()

    def _pump(self):
        while self.sending and not self.paused:
            n = min(self.sending, len(_ZEROS))
            self.transport.write(_ZEROS[:n])
            self.sending -= n

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False
        self._pump()


def serve_sink(port, host="127.0.0.1"):
    """
    Run the null sink on C{host:port} until SIGTERM or SIGINT.
    """

    async def run():
        loop = asyncio.get_running_loop()
        sizes = {}
        server = await loop.create_server(lambda: _Sink(sizes), host, port, backlog=1024)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(run())


def main(argv=None):
    parser = argparse.ArgumentParser(description="The null HTTP sink of bench/s3.py.")
    parser.add_argument("--sink", type=int, metavar="PORT", required=True, help="serve the sink on this port")
    args = parser.parse_args(argv)
    serve_sink(args.sink)


if __name__ == "__main__":
    main()
