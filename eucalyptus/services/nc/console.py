# -*- test-case-name: tests.services.nc.test_console -*-
"""
Console output as the original NC gives it: the first 4 KiB of the NC's own
per-instance log (C{console.append.log}: what the NC did and why it failed)
followed by the last 64 KiB of the guest's serial log (C{console.log}),
base64-encoded.  Blocking file reads: run these in a thread.
"""

import base64
import os
import time

__all__ = ["console_output", "note", "SERIAL_LOG", "NC_LOG", "HEAD_BYTES", "TAIL_BYTES"]

SERIAL_LOG = "console.log"
NC_LOG = "console.append.log"
HEAD_BYTES = 4 * 1024
TAIL_BYTES = 64 * 1024


def _head(path, size):
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except FileNotFoundError:
        return b""


def _tail(path, size):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read(size)
    except FileNotFoundError:
        return b""


def console_output(directory):
    """
    The base64 console output of the instance whose directory this is; a
    single space (base64 C{IA==}) when there is none yet, as the original.
    """
    data = _head(os.path.join(directory, NC_LOG), HEAD_BYTES) + _tail(os.path.join(directory, SERIAL_LOG), TAIL_BYTES)
    return base64.b64encode(data or b" ").decode("ascii")


def note(directory, message, now=None):
    """
    Add a line to the NC's own log of the instance.
    """
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now if now is not None else time.time()))
    with open(os.path.join(directory, NC_LOG), "a", encoding="utf-8") as f:
        f.write(f"{stamp} NC: {message}\n")
