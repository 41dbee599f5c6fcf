# -*- test-case-name: tests.test_commands -*-
"""
Running the command-line tools the components drive (C{qemu-img},
C{mkfs}, C{tgtadm}, C{lvcreate}, ...).

A I{runner} takes an argument vector and answers C{(out, err, code)}: the
standard output and error as bytes and the exit status.  It comes in two
shapes, one per kind of caller:

  - L{spawn}, for code on the reactor (the NC's disk builder): it returns a
    C{Deferred} and never blocks (Twisted's C{getProcessOutputAndValue}).
  - L{run}, for code that already runs in a worker thread (the SC's volume
    backends and iSCSI exports): it blocks until the tool exits.

Callers take the runner as a parameter, so unit tests hand in a fake one and
check the command lines; L{check} and L{failure_message} turn a failed tool
into one clear error naming the command and what it printed.
"""

import os
import subprocess

from twisted.internet import utils

__all__ = ["run", "spawn", "check", "failure_message"]


def spawn(executable, args):
    """
    Run a tool from the reactor thread, in this process's environment.

    @param executable: the tool (looked up on C{$PATH}).
    @param args: its arguments, without the tool's name.
    @return: a Deferred C{(out, err, code)}.
    """
    return utils.getProcessOutputAndValue(executable, args, env=os.environ)


def run(argv, stdin=None, timeout=None, env=None):
    """
    Run a tool and wait for it.  Blocking: call it from a worker thread.

    @param argv: the tool and its arguments.
    @param stdin: bytes for its standard input; nothing (C{/dev/null}) when
        C{None}.
    @param timeout: seconds it may take; C{None} for no limit.
    @param env: extra environment variables, over this process's own.
    @return: C{(out, err, code)}.
    @raise FileNotFoundError: the tool is not installed.
    @raise subprocess.TimeoutExpired: it ran past C{timeout} (it is killed).
    """
    environment = dict(os.environ, **env) if env else None
    result = subprocess.run(
        list(argv),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env=environment,
    )
    return result.stdout, result.stderr, result.returncode


def failure_message(argv, out, err, code=None):
    """
    What to tell a person about a failed tool: the command line, the exit
    status when known, and what it printed (its error output, else its
    output).
    """
    text = (err or out or b"").decode("utf-8", "replace").strip()
    status = f" (exit status {code})" if code is not None else ""
    return f"{' '.join(argv)} failed{status}: {text or 'no message'}"


def check(runner, argv, error, stdin=None, timeout=None, timeout_error=None):
    """
    Run a tool through C{runner} (the shape of L{run}) and insist that it
    succeeds.

    @param error: the L{eucalyptus.errors.EucalyptusError} class raised when
        the tool fails or is missing.
    @param timeout_error: the class raised when it runs past C{timeout};
        C{error} when not given.
    @return: its standard output, bytes.
    @raise error: the tool is not installed or exits non-zero; the message
        names the command and carries what it printed.
    """
    try:
        out, err, code = runner(argv, stdin=stdin, timeout=timeout)
    except FileNotFoundError:
        raise error(f"{argv[0]} is not installed (run make deps).")
    except subprocess.TimeoutExpired:
        raise (timeout_error or error)(f"{' '.join(argv)} did not finish within {timeout} seconds.")
    if code != 0:
        raise error(failure_message(argv, out, err, code))
    return out
