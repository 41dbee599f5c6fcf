"""
Tests for L{eucalyptus.files}.
"""

import os

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.files import atomic_file, write_atomically


class AtomicFileTests(SynchronousTestCase):
    """
    Files that appear whole or not at all.
    """

    def setUp(self):
        self.directory = os.path.abspath(self.mktemp())
        os.makedirs(self.directory)
        self.path = os.path.join(self.directory, "f")

    def test_write(self):
        """
        The content appears under the name only when the block ends, with
        the mode asked for.
        """
        with atomic_file(self.path, mode=0o600) as f:
            f.write(b"data")
            self.assertFalse(os.path.exists(self.path))
            (temporary,) = os.listdir(self.directory)
            self.assertTrue(temporary.startswith(".f.") and temporary.endswith(".tmp"))
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), b"data")
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)
        self.assertEqual(os.listdir(self.directory), ["f"])

    def test_failure(self):
        """
        An exception in the block leaves nothing, and the old file as it was.
        """
        write_atomically(self.path, b"old")
        with self.assertRaises(ZeroDivisionError):
            with atomic_file(self.path) as f:
                f.write(b"new")
                1 / 0
        self.assertEqual(os.listdir(self.directory), ["f"])
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), b"old")

    def test_no_replace(self):
        """
        With replace=False an existing file is kept and FileExistsError
        raised; the temporary file is gone.
        """
        write_atomically(self.path, "old")
        with self.assertRaises(FileExistsError):
            with atomic_file(self.path, replace=False) as f:
                f.write(b"new")
        self.assertEqual(os.listdir(self.directory), ["f"])
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), b"old")

    def test_write_atomically(self):
        """
        write_atomically replaces the content; text is UTF-8.
        """
        write_atomically(self.path, b"one")
        write_atomically(self.path, "twø")
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), "twø".encode())
