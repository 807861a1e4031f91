"""Files written whole or not at all: a temp file in the same folder, fsync, ``os.replace``.

An output never replaces something that is not a regular file (a device such as
/dev/full, a folder, a FIFO), and an existing output only when the caller says so.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from ._spec import SweepError


def fsync_dir(folder: str) -> None:
    """Make a rename or creation in ``folder`` durable (where the platform allows it)."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_output(path, overwrite: bool = False, what: str = "output") -> str:
    """Refuse an output path that cannot or must not be written; returns it as a string."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.lexists(path):
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):
            raise SweepError(f"{what} {path!r} exists and is not a regular file; it is never replaced")
        if not overwrite:
            raise SweepError(f"{what} {path!r} exists; pass --overwrite (overwrite=True) to replace it")
    if not os.path.isdir(folder):
        raise SweepError(f"cannot write {what} {path!r}: folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SweepError(f"cannot write {what} {path!r}: folder {folder!r} is not writable")
    return path


@contextlib.contextmanager
def atomic_path(path, overwrite: bool = False, what: str = "output"):
    """Yield a temp path next to ``path``; on success fsync it and move it over ``path``
    (checked again just before: a regular file or nothing); on failure remove it."""
    path = check_output(path, overwrite, what)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        check_output(path, overwrite, what)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def write_atomic(path, data: bytes, durable: bool = True) -> None:
    """Replace ``path`` by ``data`` atomically (temp file, ``os.replace``); with ``durable``,
    fsync'ed first (survives a power loss, not only a killed process)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        if durable:
            os.fsync(fh.fileno())
    os.replace(tmp, path)
