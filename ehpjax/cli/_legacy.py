"""TRANSITIONAL: the helpers that the old command modules ``ehpjax._sweep_cli`` and
``ehpjax._design_cli`` import from ``ehpjax.cli``. Delete this file (and its import in
``__init__``) when their replacements ``cli/_sweep.py`` and ``cli/_optimize.py`` land."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .._errors import EhpjaxError
from ._options import help_text as command_help  # noqa: F401


def fail(message: str, code: int = 2):
    raise EhpjaxError(message)


def check_writable_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".ehpjax-write-test-"):
            pass
    except OSError as e:
        raise EhpjaxError(f"cannot write to output directory '{path}': {e.strerror or e}") from None
    return path
