"""Output files written whole or not at all, and never over what they must not replace.

Every file ehpjax writes (NetCDF results, figures, CSV tables, best.json, checkpoint
metadata) goes through a temporary file in the same folder, is flushed and fsync'ed, and
is then moved over its target with ``os.replace``. A target that exists and is not a
regular file (a device such as /dev/full, a folder, a FIFO, a link) is never replaced, and
an existing regular file only when the caller says ``overwrite``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, Union

from ._errors import EhpjaxError


# How a refusal to replace a file says what to do (the command line names its flag instead).
OVERWRITE_HINT = "pass overwrite=True"


def check_target(path, overwrite: bool = False, *, what: str = "output", error: type = EhpjaxError) -> Path:
    """Refuse ``path`` if it exists and is not a regular file, if it exists and ``overwrite``
    is false, or if its folder is missing; raises ``error`` naming the path."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise error(f"cannot write {what} '{path}': {e.strerror or e}") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} '{path}' exists and is not a regular file; refusing to replace it")
        if not overwrite:
            raise error(f"{what} '{path}' exists; {OVERWRITE_HINT} to replace it")
    if not path.parent.is_dir():
        raise error(f"cannot write {what} '{path}': the folder '{path.parent}' does not exist")
    return path


def fsync_dir(folder) -> None:
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


@contextlib.contextmanager
def atomic_path(path, overwrite: bool = False, *, what: str = "output", error: type = EhpjaxError,
                durable: bool = True):
    """Yield a temporary path next to ``path`` for the caller to write; on success fsync it
    (``durable``) and move it over ``path`` (checked again just before); on failure remove
    it, leaving the old file, if any, untouched. The file gets ordinary permissions (umask)."""
    path = check_target(path, overwrite, what=what, error=error)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise error(f"cannot write {what} '{path}': {e.strerror or e}") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # not mkstemp's 0600
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        check_target(path, overwrite, what=what, error=error)  # something may have appeared meanwhile
        _commit(tmp, path, overwrite, what, error)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(e, OSError):
            raise error(f"cannot write {what} '{path}': {e.strerror or e}") from None
        raise
    if durable:
        fsync_dir(path.parent)


def _commit(tmp, path: Path, overwrite: bool, what: str, error: type) -> None:
    """Move the finished ``tmp`` to ``path``. Without ``overwrite`` by a hard link, which fails
    if ``path`` exists: a file that appeared after the last check is never replaced (where the
    file system has no hard links, by ``os.replace`` after that check)."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        check_target(path, overwrite, what=what, error=error)  # (raises, naming what is there now)
        raise  # (gone again meanwhile)
    except OSError:  # no hard links here (some network and FAT file systems)
        os.replace(tmp, path)
        return
    with contextlib.suppress(OSError):
        os.remove(tmp)


def write_atomic(path, data: Union[bytes, str, Callable], overwrite: bool = False, *, what: str = "output",
                 error: type = EhpjaxError, durable: bool = True) -> Path:
    """Write ``data`` (bytes, text, or a callback ``write(binary_file)``) to ``path``
    atomically (``atomic_path``)."""
    with atomic_path(path, overwrite, what=what, error=error, durable=durable) as tmp:
        with open(tmp, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)
