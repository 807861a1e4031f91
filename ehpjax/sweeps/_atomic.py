"""Files written whole or not at all: a temp file in the same folder, fsync, ``os.replace``.

An output never replaces something that is not a regular file (a device such as
/dev/full, a folder, a FIFO), and an existing output only when the caller says so.
"""

from __future__ import annotations

import os

from .._files import atomic_path as _atomic_path
from .._files import check_target, fsync_dir  # noqa: F401  (fsync_dir: used by the store)
from .._files import write_atomic as _write_atomic
from ._spec import SweepError


def check_output(path, overwrite: bool = False, what: str = "output") -> str:
    """Refuse an output path that cannot or must not be written; returns it as a string."""
    path = check_target(path, overwrite, what=what, error=SweepError)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise SweepError(f"cannot write {what} '{path}': folder '{path.parent}' is not writable")
    return os.fspath(path)


def atomic_path(path, overwrite: bool = False, what: str = "output"):
    """``ehpjax._files.atomic_path`` with sweep errors, after ``check_output``."""
    check_output(path, overwrite, what)
    return _atomic_path(path, overwrite, what=what, error=SweepError)


def write_atomic(path, data: bytes, durable: bool = True) -> None:
    """Replace ``path`` by ``data`` atomically; with ``durable``, fsync'ed first (survives a
    power loss, not only a killed process). For the checkpoint's own files."""
    _write_atomic(path, data, overwrite=True, what="checkpoint file", error=SweepError, durable=durable)
