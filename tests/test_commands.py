"""
Tests for L{eucalyptus.commands}.
"""

import sys

from twisted.trial.unittest import SynchronousTestCase, TestCase

from eucalyptus import commands
from eucalyptus.errors import StorageError, StorageTimeout


class RunTests(SynchronousTestCase):
    """
    The blocking runner.
    """

    def test_output(self):
        """
        It answers the output, error output and exit status, and feeds
        standard input.
        """
        code = "import sys; data = sys.stdin.read(); print(data.upper()); print('oops', file=sys.stderr); sys.exit(3)"
        self.assertEqual(commands.run([sys.executable, "-c", code], stdin=b"abc"), (b"ABC\n", b"oops\n", 3))

    def test_no_stdin(self):
        """
        Without input a tool reads end of file, not the caller's terminal.
        """
        out, _, _ = commands.run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"])
        self.assertEqual(out, b"''\n")

    def test_env(self):
        """
        Extra environment variables reach the tool.
        """
        out, _, _ = commands.run([sys.executable, "-c", "import os; print(os.environ['EUCA_X'])"], env={"EUCA_X": "1"})
        self.assertEqual(out, b"1\n")


class CheckTests(SynchronousTestCase):
    """
    Insisting that a tool succeeds.
    """

    def test_success(self):
        """
        The tool's output comes back.
        """
        self.assertEqual(commands.check(commands.run, ["echo", "hi"], StorageError), b"hi\n")

    def test_failure(self):
        """
        A failure is the given error, with the command, status and message.
        """
        error = self.assertRaises(StorageError, commands.check, commands.run, ["ls", "/nonexistent-euca"], StorageError)
        self.assertIn("ls /nonexistent-euca failed (exit status 2): ", error.message)
        self.assertIn("No such file or directory", error.message)

    def test_missing(self):
        """
        A tool that is not installed says so.
        """
        error = self.assertRaises(StorageError, commands.check, commands.run, ["no-such-tool-euca"], StorageError)
        self.assertEqual(error.message, "no-such-tool-euca is not installed (run make deps).")

    def test_timeout(self):
        """
        A tool that runs past its time is killed and is the timeout error.
        """
        error = self.assertRaises(StorageTimeout, commands.check, commands.run, ["sleep", "30"], StorageError,
                                  timeout=0.2, timeout_error=StorageTimeout)  # fmt: skip
        self.assertEqual(error.message, "sleep 30 did not finish within 0.2 seconds.")


class SpawnTests(TestCase):
    """
    The reactor's runner.
    """

    def test_spawn(self):
        """
        It answers a Deferred of the same triple.
        """
        d = commands.spawn(sys.executable, ["-c", "import sys; print('x'); sys.exit(4)"])
        d.addCallback(self.assertEqual, (b"x\n", b"", 4))
        return d
