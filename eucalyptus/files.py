"""
File-system helpers the components share.
"""

import os

__all__ = ["fsync_directory"]


def fsync_directory(path):
    """
    Make the entries of directory C{path} durable (after a create, rename
    or unlink in it).
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
