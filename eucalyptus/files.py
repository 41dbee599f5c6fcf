# -*- test-case-name: tests.test_files -*-
"""
File-system helpers the components share.
"""

import contextlib
import os
import tempfile

__all__ = ["fsync_directory", "write_atomically", "atomic_file"]


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


@contextlib.contextmanager
def atomic_file(path, durable=True, mode=0o644, replace=True):
    """
    Write the file at C{path} all at once: the block writes to a temporary
    file beside it (named C{.<name>.<random>.tmp}, so directory listings
    that skip dot files never see it), which takes the final name only when
    the block ends without an exception.  On an exception the temporary
    file is removed and nothing appears under C{path}.  With C{durable} the
    file and then the directory are fsynced, so the new content survives a
    crash.  Blocking: run it in a thread.

    @param replace: C{True} to replace an existing file; C{False} to refuse
        (C{FileExistsError}, and the temporary file is removed) so that
        nothing is ever overwritten.
    @return: a context manager yielding the open binary file.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(temporary, mode)
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
            os.unlink(temporary)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    if durable:
        fsync_directory(directory)


def write_atomically(path, data, durable=True, mode=0o644):
    """
    Replace the file at C{path} with C{data} all at once: readers see the
    old content or the new, never a part (see L{atomic_file}).  Blocking:
    run it in a thread.

    @param data: bytes, or text (written as UTF-8).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path, durable, mode) as f:
        f.write(data)
