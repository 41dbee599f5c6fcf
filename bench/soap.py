"""
Signed SOAP round trips against the same operation unsigned.

    .venv/bin/python bench/soap.py [--calls 2000] [--concurrency 8] [--batches 5]

One server process hosts the NC's SOAP service twice, signed (WS-Security on)
and unsigned, on two ports; one client process (this one) calls
C{DescribeServices} on each with the real L{SoapClient}, in the same run,
alternating batches between the two so both see the same machine.
It prints round trips per second for both, the server's and this client's
CPU time per call for both (from /proc; the two processes share the
machine, so both limit the round trips), where the server's time per signed
call goes (parse, verify, dispatch, sign: the server's CPU time inside each,
so other load on the machine does not inflate them; the rest is HTTP and the
reactor), and the floor: the CPU time of one RSA-2048 signature measured
here.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def _settings(data_dir, ws_security):
    from eucalyptus.config import config_from_string

    flag = "Y" if ws_security else "N"
    return config_from_string(f'LISTEN_ADDRESS="127.0.0.1"\nNC_PORT="0"\nENABLE_WS_SECURITY="{flag}"\n', data_dir)


class Stopwatch:
    """
    Sums the CPU time of this (single-threaded) process spent in wrapped
    functions, by label.
    """

    def __init__(self):
        self.totals = {}

    def wrap(self, owner, name, label):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[label] = self.totals.get(label, 0.0) + time.process_time() - start

        setattr(owner, name, timed)


def serve(data_dir):
    """
    The server process: both endpoints, then answer stats on stdin lines.
    """
    from twisted.internet import reactor, stdio
    from twisted.protocols.basic import LineReceiver

    from eucalyptus.security import wssec
    from eucalyptus.services.nc import service
    from eucalyptus.soap import resource

    watch = Stopwatch()
    watch.wrap(resource, "parse", "parse")
    watch.wrap(wssec.Verifier, "verify", "verify")
    watch.wrap(resource.SoapResource, "_dispatch", "dispatch")
    watch.wrap(wssec, "sign", "sign")
    ports = {}
    for name, secure in (("signed", True), ("unsigned", False)):
        svc = service.make_service(_settings(data_dir, secure))
        svc.startService()
        ports[name] = svc.services[0]._waitingForPort.result.getHost().port

    class Control(LineReceiver):
        delimiter = b"\n"

        def connectionMade(self):
            self.sendLine(json.dumps(ports).encode())

        def lineReceived(self, line):
            times = os.times()
            self.sendLine(json.dumps({"cpu": times.user + times.system, "phases": watch.totals}).encode())
            if line == b"reset":
                watch.totals.clear()

    stdio.StandardIO(Control())
    reactor.run()


def rsa_sign_ms(rounds=200):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from eucalyptus.security.keys import create_pair

    key = create_pair("bench").key
    start = time.process_time()
    for _ in range(rounds):
        key.sign(b"x" * 32, padding.PKCS1v15(), hashes.SHA256())
    return (time.process_time() - start) / rounds * 1000


def run(calls, concurrency, batches):
    from twisted.internet import defer, task

    from eucalyptus import admin
    from eucalyptus.security import trust
    from eucalyptus.security.keys import KeyStore
    from eucalyptus.security.wssec import Verifier
    from eucalyptus.soap.client import SoapClient
    from eucalyptus.wsdl import SERVICE_NAMES, common, make_application

    data_dir = tempfile.mkdtemp(prefix="bench-soap-")
    admin.initialise(_settings(data_dir, True), out=io.StringIO())
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", data_dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )

    def ask(command):
        server.stdin.write(command + b"\n")
        server.stdin.flush()
        return json.loads(server.stdout.readline())

    ports = json.loads(server.stdout.readline())
    keystore = KeyStore(os.path.join(data_dir, "keys"))
    app = make_application("nc")
    request = common.DescribeServicesType(correlationId="bench", userId="eucalyptus")
    names = ("unsigned", "signed")
    clients = {
        name: SoapClient(
            f"http://127.0.0.1:{ports[name]}/axis2/services/EucalyptusNC",
            app,
            SERVICE_NAMES["nc"],
            credential=trust.caller_credential(keystore, "nc", "zone-1") if name == "signed" else None,
            verifier=Verifier([trust.peer_certificate(keystore, "nc", "zone-1")]) if name == "signed" else None,
        )
        for name in names
    }
    totals = {name: {"calls": 0, "seconds": 0.0, "server_cpu": 0.0, "client_cpu": 0.0, "phases": {}} for name in names}

    def calls_to(name, per_worker):
        def worker():
            for _ in range(per_worker):
                yield clients[name].call("DescribeServices", request)

        return defer.gatherResults([task.cooperate(worker()).whenDone() for _ in range(concurrency)])

    @defer.inlineCallbacks
    def batch(name, per_worker):
        """
        One batch of calls to one endpoint, added to its totals.
        """
        before = ask(b"reset")
        client_before = os.times()
        start = time.perf_counter()
        yield calls_to(name, per_worker)
        elapsed = time.perf_counter() - start
        client_after = os.times()
        after = ask(b"stats")
        total = totals[name]
        total["calls"] += per_worker * concurrency
        total["seconds"] += elapsed
        total["server_cpu"] += after["cpu"] - before["cpu"]
        total["client_cpu"] += sum(client_after[:2]) - sum(client_before[:2])
        for phase, seconds in after["phases"].items():
            total["phases"][phase] = total["phases"].get(phase, 0.0) + seconds

    @defer.inlineCallbacks
    def main(_reactor):
        for name in names:
            yield calls_to(name, 50)
        # Alternate the two endpoints so that both see the same load on the
        # machine, whatever else runs meanwhile.
        for _ in range(batches):
            for name in names:
                yield batch(name, max(1, calls // batches // concurrency))
        yield defer.gatherResults([client.close() for client in clients.values()])

    try:
        task.react(main)
    except SystemExit:
        pass
    finally:
        server.terminate()
        server.wait()
    return {
        name: {
            "round_trips_per_s": total["calls"] / total["seconds"],
            "server_cpu_ms_per_call": total["server_cpu"] / total["calls"] * 1000,
            "client_cpu_ms_per_call": total["client_cpu"] / total["calls"] * 1000,
            "server_phases_ms_per_call": {k: v / total["calls"] * 1000 for k, v in total["phases"].items()},
        }
        for name, total in totals.items()
    }


def report(results, rsa_ms):
    signed, unsigned = results["signed"], results["unsigned"]
    budget = 1.5 * (rsa_ms + unsigned["server_cpu_ms_per_call"])
    lines = [
        f"RSA-2048 signature (floor):           {rsa_ms:.3f} ms",
        f"unsigned round trips/s:               {unsigned['round_trips_per_s']:.0f}",
        f"signed round trips/s:                 {signed['round_trips_per_s']:.0f}"
        f"  (target >= 200; {signed['round_trips_per_s'] / unsigned['round_trips_per_s']:.2f} x unsigned)",
        f"server CPU per unsigned call:         {unsigned['server_cpu_ms_per_call']:.3f} ms",
        f"server CPU per signed call:           {signed['server_cpu_ms_per_call']:.3f} ms"
        f"  (target <= 1.5 x (RSA + unsigned) = {budget:.3f} ms;"
        f" ratio {signed['server_cpu_ms_per_call'] / (rsa_ms + unsigned['server_cpu_ms_per_call']):.2f})",
        f"client CPU per unsigned call:         {unsigned['client_cpu_ms_per_call']:.3f} ms",
        f"client CPU per signed call:           {signed['client_cpu_ms_per_call']:.3f} ms",
        f"{'server CPU per call, by phase:':<38}signed    unsigned",
    ]
    for phase in ("parse", "verify", "dispatch", "sign"):
        lines.append(
            f"  {phase:<36}{signed['server_phases_ms_per_call'].get(phase, 0):.3f} ms"
            f"  {unsigned['server_phases_ms_per_call'].get(phase, 0):.3f} ms"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batches", type=int, default=5, help="alternate the endpoints this many times")
    parser.add_argument("--serve", metavar="DATA_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
    else:
        print(report(run(args.calls, args.concurrency, args.batches), rsa_sign_ms()))
