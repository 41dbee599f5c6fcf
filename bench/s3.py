"""
Walrus against moto_server and a null HTTP sink, in one run (issue 3 part 8).

    .venv/bin/python bench/s3.py [--quick] [--workloads abc] [--servers walrus,moto,null]
                                 [--repeat 3] [--duration 5] [--processes 4] [--concurrency 16]
                                 [--quiet-wait 30] [--profile DIR] [--json FILE]

Three servers run side by side as real processes on 127.0.0.1:

  - Walrus: the real daemon (C{twistd -n euca-walrus}) over a fresh data
    directory in a temporary directory (C{--dir}, default the system's), with
    one account made for the benchmark;
  - C{moto_server} (C{pip install 'moto[server]'}), any credentials;
  - the null sink of C{bench/s3_load.py}: it reads each request and answers
    200 (a GET gets as many zero bytes as the last PUT to that path), so it
    shows the ceiling of the load generator itself.

Every request is presigned with boto3 (SigV4, path style) before the timed
part, and sent by a lean client, never through boto3 at run time.

(a) Large object: one object of C{--size-a} (1 GiB) is PUT from a 1 MiB
    random block sent 1024 times (nothing bigger is held in memory), then
    GET, read in 1 MiB pieces and discarded; MiB/s (2**20 bytes per second)
    from the first byte sent to the last byte of the answer.  In the same
    run the same bytes go to a file in the same directory as Walrus's data
    with C{os.write} and one C{fsync} (timed together), and are read back
    with C{os.readv}.  The page cache is dropped (C{/proc/sys/vm/drop_caches},
    as root) before the raw read and before every GET, so both read from the
    disk; the report says so if it could not.  C{--repeat} (3) rounds of raw
    disk, Walrus, moto and the sink run in turn and the best of each counts:
    on a shared machine noise only ever slows a run down.  Target: Walrus at
    least 70% of the raw disk, PUT and GET each.

(b) Small objects: 4 KiB PUT then GET at concurrency C{--concurrency} (16),
    over C{--processes} forked worker processes (16 connections spread over
    4 processes, one thread per connection), each connection cycling through
    its own presigned keys for C{--duration} seconds after one untimed
    request.  Operations per second count 2xx answers (a GET must also bring
    4096 bytes); p50 and p99 are per request.  The server's CPU use over the
    window is read from C{/proc}.  Target: Walrus at least 3 times moto, PUT
    and GET each.

(c) Memory: one C{--size-c} (5 GiB) object is PUT and GET through Walrus
    alone while its C{VmRSS} is sampled every 20 ms; the kernel's peak mark
    C{VmHWM} is reset (C{/proc/<pid>/clear_refs}) just before and read just
    after, so nothing the sampling misses is lost.  Target: peak under 150 MB
    (10**6 bytes; MiB shown too).  Needs twice the object's size free.

The machine may be shared: before each measurement the benchmark waits (up
to C{--quiet-wait} seconds) until other processes use under 0.2 cores and
the disks move under 20 MiB/s, and every table has an "other CPU" row: the
CPU the rest of the machine used during that measurement (all CPU time from
C{/proc/stat} minus this process, the server and the load generator).  A
figure measured with other CPU well above zero is not to be trusted.

With C{--profile DIR} the small-object runs are repeated against Walrus
under C{py-spy record} and the busiest functions are printed (raw stacks are
kept in DIR).  Every process started here is stopped, and the temporary
directory removed, on the way out, errors included.
"""

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
sys.path.insert(0, PROJECT)
sys.path.insert(0, HERE)

import s3_load  # noqa: E402

MiB = 1 << 20
BUCKET = "bench"
SMALL = 4096


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """
    One server under test: a child process and how to reach it.

    @ivar name: C{walrus}, C{moto} or C{null}.
    @ivar s3: C{True} when it speaks S3 (and can be asked to be ready).
    """

    def __init__(self, name, command, port, log, s3=True, env=None, cwd=None, key_id="bench", secret="bench", logs=()):
        """
        @param log: where the process's output goes.
        @param logs: other log files it writes.
        """
        self.name = name
        self.port = port
        self.log = log
        self.logs = (log, *logs)
        self.s3 = s3
        self.key_id, self.secret = key_id, secret
        with open(log, "ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)

    @property
    def pid(self):
        return self.process.pid

    @property
    def address(self):
        return ("127.0.0.1", self.port)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            config=Config(
                signature_version="s3v4",
                retries={"max_attempts": 1},
                s3={"addressing_style": "path"},
                connect_timeout=2,
                read_timeout=600,
            ),
        )

    def log_tail(self, lines=30):
        tail = []
        for path in self.logs:
            with contextlib.suppress(OSError), open(path, errors="replace") as f:
                tail += f.readlines()[-lines:]
        return "".join(tail)

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        client = self.client() if self.s3 else None
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if client is not None:
                    client.list_buckets()
                else:
                    socket.create_connection(self.address, 1).close()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer in {timeout} s:\n{self.log_tail()}")
                time.sleep(0.2)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_walrus(base):
    """
    The Walrus daemon over a fresh data directory C{base/walrus}.
    """
    from eucalyptus import admin
    from eucalyptus.accounts import AccountStore
    from eucalyptus.config import CloudConfig, config_from_file

    data = os.path.join(base, "walrus")
    os.makedirs(data)
    port, clc_port = _free_port(), _free_port()
    conf = os.path.join(data, "eucalyptus.conf")
    with open(conf, "w") as f:
        f.write(f'LISTEN_ADDRESS="127.0.0.1"\nWALRUS_PORT="{port}"\nCLC_PORT="{clc_port}"\n')
    settings = config_from_file(conf, data)
    admin.initialise(settings, out=io.StringIO())
    key = AccountStore(CloudConfig.from_settings(settings).database_url).create_account("bench")
    log = os.path.join(base, "walrus.log")
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    command = [twistd, "-n", "--logfile", log, "--pidfile", "", "euca-walrus", "--config", conf, "--data-dir", data]
    env = dict(os.environ, PYTHONPATH=PROJECT)
    return Server(
        "walrus", command, port, log + ".out", env=env, cwd=PROJECT, key_id=key.access_key_id, secret=key.secret_key, logs=(log,)
    )


def start_moto(base):
    moto = os.path.join(os.path.dirname(sys.executable), "moto_server")
    port = _free_port()
    return Server("moto", [moto, "-p", str(port)], port, os.path.join(base, "moto.log"))


def start_sink(base):
    port = _free_port()
    command = [sys.executable, os.path.join(HERE, "s3_load.py"), "--sink", str(port)]
    return Server("null", command, port, os.path.join(base, "null.log"), s3=False)


STARTERS = {"walrus": start_walrus, "moto": start_moto, "null": start_sink}


def presign(server, method, keys):
    """
    Presigned request targets (path and query, bytes) for C{keys}.
    """
    client = server.client()
    operation = {b"PUT": "put_object", b"GET": "get_object"}[method]
    targets = []
    for key in keys:
        url = client.generate_presigned_url(operation, Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=3600)
        targets.append(url.split(server.endpoint, 1)[1].encode("ascii"))
    return targets


def presigned_url(server, method, key):
    return server.endpoint + presign(server, method, [key])[0].decode("ascii")


def _mib_s(size, seconds):
    return size / MiB / seconds if seconds else 0.0


# -- (a) ---------------------------------------------------------------------


def _measured(settle, pids, fn, *args):
    """
    Wait for a quiet machine, then run C{fn(*args)} (which returns seconds
    and anything else) while watching the rest of the machine.

    @return: C{(fn's result, {"quiet", "other_cores", "disk"})}.
    """
    _, quiet = settle()
    with s3_load.OtherLoad(pids) as other:
        result = fn(*args)
    return result, {"quiet": quiet, "other_cores": other.cores, "disk": other.disk}


def _write_file(path, size, block):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        start = time.perf_counter()
        written = 0
        view = memoryview(block)
        while written < size:
            written += os.write(fd, view[: min(len(block), size - written)])
        os.fsync(fd)
        return time.perf_counter() - start
    finally:
        os.close(fd)


def _read_file(path, piece):
    fd = os.open(path, os.O_RDONLY)
    try:
        buffer = bytearray(piece)
        start = time.perf_counter()
        total = 0
        while True:
            n = os.readv(fd, [buffer])
            if not n:
                break
            total += n
        return time.perf_counter() - start, total
    finally:
        os.close(fd)


def raw_disk(directory, size, block, settle):
    """
    Write C{size} bytes (C{block} repeated) to a new file with os.write and
    one fsync, then read them back in pieces of the block's size after
    dropping the page cache.

    @return: C{{"put": sample, "get": sample, "cold": cache dropped}}, a
        sample being C{{"mib_s", "quiet", "other_cores", "disk"}}.
    """
    path = os.path.join(directory, "raw-disk.bin")
    try:
        os.sync()
        seconds, put = _measured(settle, (), _write_file, path, size, block)
        put["mib_s"] = _mib_s(size, seconds)
        cold = s3_load.drop_caches()
        (seconds, total), get = _measured(settle, (), _read_file, path, len(block))
        assert total == size, (total, size)
        get["mib_s"] = _mib_s(size, seconds)
        return {"put": put, "get": get, "cold": cold}
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def large_object(server, size, block, md5, settle, key="large/object"):
    """
    PUT then GET one object of C{size} bytes (the cache dropped between);
    delete it after.

    @return: C{{"put": sample, "get": sample, "etag_ok": bool or None, "cold": bool}}.
    """
    put_url, get_url = presigned_url(server, b"PUT", key), presigned_url(server, b"GET", key)
    try:
        os.sync()
        (seconds, status, headers, answer), put = _measured(settle, [server.pid], s3_load.put_stream, put_url, size, block)
        if status != 200:
            raise RuntimeError(f"PUT answered {status}: {answer[:300]!r}")
        etag = {k.lower(): v for k, v in headers.items()}.get("etag", "").strip('"')
        put["mib_s"] = _mib_s(size, seconds)
        cold = s3_load.drop_caches()
        (seconds, status, total), get = _measured(settle, [server.pid], s3_load.get_stream, get_url)
        if status != 200 or total != size:
            raise RuntimeError(f"GET answered {status} with {total} of {size} bytes")
        get["mib_s"] = _mib_s(size, seconds)
    finally:
        if server.s3:
            with contextlib.suppress(Exception):
                server.client().delete_object(Bucket=BUCKET, Key=key)
    return {"put": put, "get": get, "etag_ok": (etag == md5) if server.s3 else None, "cold": cold}


def workload_a(servers, directory, size, repeat, settle):
    """
    C{repeat} rounds of: raw disk, then each server.  The best round of
    each counts (noise on a shared machine only ever slows a run down).
    """
    block = os.urandom(MiB)
    md5 = hashlib.md5()
    for _ in range(size // MiB):
        md5.update(block)
    md5.update(block[: size % MiB])
    rounds = {name: [] for name in ["raw"] + [s.name for s in servers]}
    for _ in range(repeat):
        rounds["raw"].append(raw_disk(directory, size, block, settle))
        for server in servers:
            rounds[server.name].append(_guarded(large_object, server, size, block, md5.hexdigest(), settle))
    results = {"size": size, "repeat": repeat}
    for name, runs in rounds.items():
        good = [r for r in runs if "error" not in r]
        if not good:
            results[name] = runs[-1]
            continue
        results[name] = {
            op: max((r[op] for r in good), key=lambda sample: sample["mib_s"]) | {"runs": [r[op]["mib_s"] for r in good]}
            for op in ("put", "get")
        }
        results[name]["cold"] = all(r["cold"] for r in good)
        results[name]["etag_ok"] = good[-1].get("etag_ok")
        if len(good) < len(runs):
            results[name]["failed"] = [r["error"] for r in runs if "error" in r]
    return results


# -- (b) ---------------------------------------------------------------------


def small_objects(server, args, settle, profile=None):
    """
    4 KiB PUT then GET at C{args.concurrency}.

    @return: C{{"put": summary, "get": summary}}; with C{profile} (a path
        prefix), the runs go under py-spy and the summaries say where.
    """
    keys = [[f"small/{c:02d}/{i:04d}" for i in range(args.keys)] for c in range(args.concurrency)]
    body = os.urandom(SMALL)
    out = {}
    for method, expect, fill in ((b"PUT", None, True), (b"GET", SMALL, False)):
        targets = [presign(server, method, ks) for ks in keys]
        _, quiet = settle()
        spy = None
        if profile:
            py_spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
            spy = s3_load.PySpy(py_spy, server.pid, f"{profile}-{method.decode().lower()}.txt").start()
        try:
            result = s3_load.run_load(
                server.address, method, targets, body if method == b"PUT" else None, expect,
                processes=args.processes, duration=args.duration, fill=fill, pid=server.pid,
            )  # fmt: skip
        finally:
            if spy is not None:
                spy.stop()
        out[method.decode().lower()] = {
            "ops": result.ops,
            "p50_ms": result.percentile(0.50) * 1000,
            "p99_ms": result.percentile(0.99) * 1000,
            "ok": result.ok,
            "errors": result.errors,
            "samples": [(status, answer.decode("latin-1")) for status, answer in result.samples],
            "server_cores": result.server_cpu / result.elapsed if result.elapsed else None,
            "client_cores": result.client_cpu / result.elapsed if result.elapsed else None,
            "other_cores": result.other.cores,
            "quiet": quiet,
            "profile": spy.output if spy else None,
        }
    return out


def workload_b(servers, args, settle):
    results = {"concurrency": args.concurrency, "duration": args.duration, "processes": args.processes}
    for server in servers:
        results[server.name] = _guarded(small_objects, server, args, settle)
    return results


# -- (c) ---------------------------------------------------------------------


def memory(server, directory, size, settle):
    """
    Peak resident memory of C{server} while a C{size}-byte object goes in
    and out.
    """
    needed = 2 * size + (1 << 30)
    free = shutil.disk_usage(directory).free
    if free < needed:
        return {"skipped": f"{free / 2**30:.1f} GiB free, {needed / 2**30:.1f} GiB needed"}
    block = os.urandom(MiB)
    key = "huge/object"
    put_url, get_url = presigned_url(server, b"PUT", key), presigned_url(server, b"GET", key)
    os.sync()
    settle()
    reset = s3_load.reset_peak(server.pid)
    before = s3_load.status_kib(server.pid)["VmRSS"]
    sampler = s3_load.MemorySampler(server.pid).start()
    try:
        sampler.phase = "put"
        with s3_load.OtherLoad([server.pid]) as put_load:
            put_s, status, _, answer = s3_load.put_stream(put_url, size, block, timeout=3600)
        if status != 200:
            raise RuntimeError(f"PUT answered {status}: {answer[:300]!r}")
        sampler.phase = "idle"
        cold = s3_load.drop_caches()
        sampler.phase = "get"
        with s3_load.OtherLoad([server.pid]) as get_load:
            get_s, status, total = s3_load.get_stream(get_url, timeout=3600)
        if status != 200 or total != size:
            raise RuntimeError(f"GET answered {status} with {total} of {size} bytes")
    finally:
        sampler.stop()
        with contextlib.suppress(Exception):
            server.client().delete_object(Bucket=BUCKET, Key=key)
    peak_kib = max([sampler.hwm_kib or 0, *sampler.peaks.values()]) if reset else max(sampler.peaks.values())
    return {
        "size": size,
        "before_kib": before,
        "put_kib": sampler.peaks.get("put"),
        "get_kib": sampler.peaks.get("get"),
        "hwm_kib": sampler.hwm_kib if reset else None,
        "peak_kib": peak_kib,
        "put": _mib_s(size, put_s),
        "get": _mib_s(size, get_s),
        "other_cores": max(put_load.cores, get_load.cores),
        "cold": cold,
    }


# -- report ------------------------------------------------------------------


def _guarded(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"}


def _cell(value, fmt="{:.1f}"):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return fmt.format(value)


def _table(title, columns, rows):
    width = max(len(r[0]) for r in rows) + 2
    cell = max([14] + [len(str(c)) + 2 for r in rows for c in r[1:]] + [len(c) + 2 for c in columns])
    lines = [title, " " * width + "".join(f"{c:>{cell}}" for c in columns)]
    for label, *cells in rows:
        lines.append(f"{label:<{width}}" + "".join(f"{c:>{cell}}" for c in cells))
    return "\n".join(lines)


def _verdict(ok):
    return "PASS" if ok else "MISS"


def _get(results, name, *path):
    value = results.get(name)
    for step in path:
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def _report_a(a, names):
    cols = names + ["raw disk"]
    everyone = names + ["raw"]
    rows = []
    for op, what in (("put", "PUT MiB/s"), ("get", "GET MiB/s")):
        rows += [
            (f"{what} (best of {a['repeat']})", *[_cell(_get(a, n, op, "mib_s")) for n in everyone]),
            ("  every run", *["/".join(f"{v:.0f}" for v in _get(a, n, op, "runs") or []) or "-" for n in everyone]),
            ("  other CPU (cores)", *[_cell(_get(a, n, op, "other_cores"), "{:.2f}") for n in everyone]),
        ]
    rows.append(("ETag = MD5", *["-" if _get(a, n, "etag_ok") is None else str(_get(a, n, "etag_ok")) for n in names], "-"))
    title = f"(a) one {a['size'] / MiB:.0f} MiB object; raw disk = os.write + fsync, read back cold"
    out = [_table(title, cols, rows)]
    for n in everyone:
        for error in ([a[n]["error"]] if "error" in a.get(n, {}) else []) + (_get(a, n, "failed") or []):
            out.append(f"  {n}: {error}")
    if not all(_get(a, n, "cold") for n in everyone if _get(a, n, "cold") is not None):
        out.append("  the page cache could NOT be dropped: reads are from cache")
    if _get(a, "walrus", "put", "mib_s") and _get(a, "raw", "put", "mib_s"):
        put = a["walrus"]["put"]["mib_s"] / a["raw"]["put"]["mib_s"]
        get = a["walrus"]["get"]["mib_s"] / a["raw"]["get"]["mib_s"]
        out.append(f"  target walrus/raw disk >= 0.70: PUT {put:.2f} {_verdict(put >= 0.7)}, GET {get:.2f} {_verdict(get >= 0.7)}")
    return out


def _per_op(b, name, op):
    cores, ops = _get(b, name, op, "server_cores"), _get(b, name, op, "ops")
    return cores * 1000 / ops if cores is not None and ops else None


def _report_b(b, names):
    rows = []
    for op in ("put", "get"):
        up = op.upper()
        failed = [_cell(sum((_get(b, n, op, "errors") or {}).values()), "{}") if _get(b, n, op) else "-" for n in names]
        rows += [
            (f"{up} ops/s", *[_cell(_get(b, n, op, "ops"), "{:.0f}") for n in names]),
            (f"{up} p50 ms", *[_cell(_get(b, n, op, "p50_ms"), "{:.2f}") for n in names]),
            (f"{up} p99 ms", *[_cell(_get(b, n, op, "p99_ms"), "{:.2f}") for n in names]),
            (f"{up} failed", *failed),
            (f"{up} server CPU (cores)", *[_cell(_get(b, n, op, "server_cores"), "{:.2f}") for n in names]),
            (f"{up} server CPU ms/op", *[_cell(_per_op(b, n, op), "{:.3f}") for n in names]),
            (f"{up} client CPU (cores)", *[_cell(_get(b, n, op, "client_cores"), "{:.2f}") for n in names]),
            (f"{up} other CPU (cores)", *[_cell(_get(b, n, op, "other_cores"), "{:.2f}") for n in names]),
        ]
    title = f"(b) 4 KiB objects, concurrency {b['concurrency']} ({b['processes']} client processes), {b['duration']:g} s per run"
    out = [_table(title, names, rows)]
    for n in names:
        if "error" in b.get(n, {}):
            out.append(f"  {n}: {b[n]['error']}")
        for op in ("put", "get"):
            for status, sample in _get(b, n, op, "samples") or []:
                out.append(f"  {n} {op} failed with {status}: {sample[:200]!r}")
    if all(_get(b, n, op, "ops") for n in ("walrus", "moto") for op in ("put", "get")):
        for op in ("put", "get"):
            ratio = b["walrus"][op]["ops"] / b["moto"][op]["ops"]
            out.append(f"  target walrus/moto >= 3: {op.upper()} {ratio:.2f} {_verdict(ratio >= 3)}")
    if all(_get(b, n, op, "ops") for n in ("walrus", "null") for op in ("put", "get")):
        for op in ("put", "get"):
            share = b["walrus"][op]["ops"] / b["null"][op]["ops"]
            out.append(f"  walrus at {share:.1%} of the load generator's ceiling (null sink) for {op.upper()}")
    return out


def _report_c(c):
    if "skipped" in c or "error" in c:
        return [f"(c) not measured: {c.get('skipped') or c.get('error')}"]
    mb = c["peak_kib"] * 1024 / 1e6
    rows = [
        ("RSS before (MiB)", _cell(c["before_kib"] / 1024)),
        ("peak RSS sampled in PUT (MiB)", _cell((c["put_kib"] or 0) / 1024)),
        ("peak RSS sampled in GET (MiB)", _cell((c["get_kib"] or 0) / 1024)),
        ("VmHWM after (MiB)", _cell(c["hwm_kib"] / 1024 if c["hwm_kib"] else None)),
        ("peak (MB = 10^6 bytes)", _cell(mb)),
        ("PUT MiB/s", _cell(c["put"])),
        ("GET MiB/s", _cell(c["get"])),
        ("other CPU (cores)", _cell(c["other_cores"], "{:.2f}")),
    ]
    out = [_table(f"(c) Walrus memory, one {c['size'] / MiB:.0f} MiB object in and out", ["walrus"], rows)]
    if c["hwm_kib"] is None:
        out.append("  VmHWM could not be reset: the peak is from 20 ms samples only")
    out.append(f"  target peak < 150 MB: {mb:.1f} MB {_verdict(mb < 150)}")
    return out


def report(results, names):
    out = []
    if results.get("a"):
        out += _report_a(results["a"], names) + [""]
    if results.get("b"):
        out += _report_b(results["b"], names) + [""]
    if results.get("c"):
        out += _report_c(results["c"]) + [""]
    noisy = [s for s in _samples(results) if not s.get("quiet", True) or (s.get("other_cores") or 0) > 0.2]
    if noisy:
        out.append(f"  NOTE: {len(noisy)} measurement(s) ran while other processes used over 0.2 cores (see 'other CPU')")
    return "\n".join(out)


def _samples(value):
    if isinstance(value, dict):
        if "other_cores" in value:
            yield value
        for item in value.values():
            yield from _samples(item)


def profile_report(path, top=12):
    total, threads, leaf, inclusive = s3_load.summarize_profile(path, top)
    lines = [f"py-spy {os.path.basename(path)}: {total} samples"]
    for thread, count in threads.most_common(8):
        lines.append(f"  {count / total:6.1%}  {thread}")
    lines.append("  self time:")
    lines += [f"  {count / total:6.1%}  {frame}" for frame, count in leaf]
    lines.append("  inclusive:")
    lines += [f"  {count / total:6.1%}  {frame}" for frame, count in inclusive]
    return "\n".join(lines)


# -- main --------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 64 MiB, 512 MiB, 2 s runs, one round of (a)")
    parser.add_argument("--workloads", default="abc", help="any of a, b, c (default abc)")
    parser.add_argument("--servers", default="walrus,moto,null", help="comma-separated, of walrus, moto, null")
    parser.add_argument("--size-a", type=int, help="bytes for (a) (default 1 GiB)")
    parser.add_argument("--size-c", type=int, help="bytes for (c) (default 5 GiB)")
    parser.add_argument("--repeat", type=int, help="rounds of (a), best counts (default 3)")
    parser.add_argument("--duration", type=float, help="seconds per small-object run (default 5)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--processes", type=int, default=4, help="load-generator processes (default 4)")
    parser.add_argument("--keys", type=int, default=64, help="presigned keys per connection (default 64)")
    parser.add_argument("--quiet-wait", type=float, default=30.0,
                        help="before each measurement, wait up to this many seconds for the rest of the machine "
                             "to use under 0.2 cores and 20 MiB/s of disk (default 30; 0: do not wait)")  # fmt: skip
    parser.add_argument("--dir", help="where the temporary directory goes (Walrus data and the raw-disk file)")
    parser.add_argument("--profile", metavar="DIR", help="repeat (b) on Walrus under py-spy, raw stacks in DIR")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    args = parser.parse_args(argv)
    args.size_a = args.size_a or (64 * MiB if args.quick else 1 << 30)
    args.size_c = args.size_c or (512 * MiB if args.quick else 5 << 30)
    args.duration = args.duration or (2.0 if args.quick else 5.0)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = (set(args.servers) - set(STARTERS)) | (set(args.workloads) - set("abc"))
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    return args


def run(args, stack):
    base = tempfile.mkdtemp(prefix="bench-s3-", dir=args.dir)
    stack.callback(shutil.rmtree, base, True)
    servers = []
    for name in args.servers:
        server = STARTERS[name](base)
        stack.callback(server.stop)
        servers.append(server)
    for server in servers:
        server.wait_ready()
        if server.s3:
            server.client().create_bucket(Bucket=BUCKET)
    print(f"data in {base} ({shutil.disk_usage(base).free / 2**30:.0f} GiB free); servers:",
          ", ".join(f"{s.name} pid {s.pid} port {s.port}" for s in servers), flush=True)  # fmt: skip

    def settle():
        if args.quiet_wait <= 0:
            return 0.0, True
        waited, quiet = s3_load.wait_quiet(args.quiet_wait)
        if not quiet:
            print(f"  the machine stayed busy for {waited:.0f} s; measuring anyway", flush=True)
        return waited, quiet

    results = {}
    walrus = next((s for s in servers if s.name == "walrus"), None)
    directory = os.path.join(base, "walrus") if walrus else base
    if "a" in args.workloads:
        print(f"(a) {args.size_a / MiB:.0f} MiB, {args.repeat} round(s) ...", flush=True)
        results["a"] = workload_a(servers, directory, args.size_a, args.repeat, settle)
    if "b" in args.workloads:
        print("(b) 4 KiB objects ...", flush=True)
        results["b"] = workload_b(servers, args, settle)
    if "c" in args.workloads and walrus is not None:
        print(f"(c) {args.size_c / MiB:.0f} MiB through Walrus ...", flush=True)
        results["c"] = _guarded(memory, walrus, directory, args.size_c, settle)
    print()
    print(report(results, [s.name for s in servers]))
    if args.profile and walrus is not None:
        os.makedirs(args.profile, exist_ok=True)
        print("profiling Walrus under (b) again with py-spy ...", flush=True)
        prefix = os.path.join(os.path.abspath(args.profile), "walrus-small")
        profiled = small_objects(walrus, args, settle, profile=prefix)
        results["profile"] = profiled
        for op in ("put", "get"):
            print(f"{op.upper()} under py-spy: {profiled[op]['ops']:.0f} ops/s")
            print(profile_report(profiled[op]["profile"]))
    for server in servers:
        if server.process.poll() is not None:
            print(f"{server.name} exited early ({server.process.returncode}):\n{server.log_tail()}")
    return results


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with contextlib.ExitStack() as stack:
        results = run(args, stack)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)


if __name__ == "__main__":
    main()
