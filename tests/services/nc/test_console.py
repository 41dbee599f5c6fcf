"""
Console output: the NC's own log head plus the serial log tail, base64.
"""

import base64
import os

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.services.nc import console


class ConsoleTests(SynchronousTestCase):
    """
    What C{ncGetConsoleOutput} returns.
    """

    def setUp(self):
        self.directory = self.mktemp()
        os.makedirs(self.directory)

    def _write(self, name, data):
        with open(os.path.join(self.directory, name), "wb") as f:
            f.write(data)

    def test_empty(self):
        """
        With no logs yet the output is a single space, as the original.
        """
        self.assertEqual(base64.b64decode(console.console_output(self.directory)), b" ")

    def test_head_and_tail(self):
        """
        The first 4 KiB of the NC's log, then the last 64 KiB of the serial log.
        """
        self._write(console.NC_LOG, b"n" * 5000)
        self._write(console.SERIAL_LOG, b"a" * 1000 + b"z" * console.TAIL_BYTES)
        output = base64.b64decode(console.console_output(self.directory))
        self.assertEqual(output, b"n" * console.HEAD_BYTES + b"z" * console.TAIL_BYTES)

    def test_note(self):
        """
        Notes are time-stamped lines of the NC's log.
        """
        console.note(self.directory, "staging", now=0)
        output = base64.b64decode(console.console_output(self.directory))
        self.assertEqual(output, b"1970-01-01 00:00:00 NC: staging\n")
