"""
File-system helpers the components share.
"""

import os
import tempfile

__all__ = ["fsync_directory", "write_atomically"]


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


def write_atomically(path, data, durable=True, mode=0o644):
    """
    Replace the file at C{path} with C{data} all at once: readers see the
    old content or the new, never a part.  The bytes go to a temporary file
    beside it, which is renamed over C{path}; with C{durable} the file and
    then the directory are fsynced, so the new content survives a crash.
    Blocking: run it in a thread.

    @param data: bytes, or text (written as UTF-8).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    if durable:
        fsync_directory(directory)
