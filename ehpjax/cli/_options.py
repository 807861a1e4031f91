"""What the commands share: the ``--model``/``--set``/``--out``/``--overwrite`` options, their
parsing, help text from docstrings, and atomic output files.

Every command module imports from here (never from ``_app``), so the package has no cycle.
Bad input raises ``EhpjaxError``; the app prints it as one line and exits with status 2.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import Annotated, Callable, Optional, Union

import typer

from .._errors import EhpjaxError
from .._quantities import UNITS_NOTE

MODEL_HELP = (
    "The junction: a built-in model by name (see 'ehpjax models'; default two-level, the paper's junction), "
    "a model file (*.toml), or a concrete system saved as JSON (e.g. the best.json of 'ehpjax optimize')."
)
SET_HELP = (
    "Set a model parameter or a bath value, NAME=VALUE (repeat the option for several); bath names: mu0, V, "
    "mu_L, mu_R, T_e, T_ph. Energies, temperatures and biases in ħΩ (" + UNITS_NOTE + ")."
)

ModelOption = Annotated[Optional[str], typer.Option("--model", metavar="NAME|FILE", help=MODEL_HELP)]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", metavar="NAME=VALUE", help=SET_HELP)]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace output files that already exist "
                                               "(regular files only; without it an existing output is an error).")]


def out_option(help: str):
    """An ``--out PATH`` option type with the given help (commands differ in what they write)."""
    return Annotated[Optional[Path], typer.Option("--out", "-o", metavar="PATH", help=help)]


def help_text(doc: str | None) -> str:
    """A docstring as help text: paragraphs joined into single lines (the help formatter
    would otherwise keep the docstring's line breaks)."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


# ----------------------------------------------------------------------------------------
# --set NAME=VALUE


def parse_sets(items: list[str] | None) -> dict[str, float]:
    """``["eps_L=10.2", "V=-1"]`` → ``{"eps_L": 10.2, "V": -1.0}``. Each value must be a
    finite real number and each name may appear once."""
    values: dict[str, float] = {}
    for item in items or ():
        name, sep, text = str(item).partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name or not text:
            raise EhpjaxError(f"--set {item!r}: expected NAME=VALUE, e.g. --set eps_L=10.2")
        if not name.isidentifier():
            raise EhpjaxError(f"--set {item!r}: {name!r} is not a parameter name")
        try:
            value = float(text)
        except ValueError:
            raise EhpjaxError(f"--set {item!r}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise EhpjaxError(f"--set {item!r}: the value must be finite")
        if name in values:
            raise EhpjaxError(f"--set: {name} is given twice")
        values[name] = value
    return values


# ----------------------------------------------------------------------------------------
# --model NAME|FILE


def resolve_model(spec: str | None):
    """The model named by ``--model``: None → the built-in "two-level"; a ``*.json`` path →
    the concrete system it holds (a model without free parameters whose bath defaults are
    the file's baths); anything else → ``ehpjax.models.get`` (built-in name or model file)."""
    if spec is None:
        spec = "two-level"
    if str(spec).lower().endswith(".json"):
        return _system_model(Path(spec))
    from .. import models

    if spec in models.BUILTIN:
        return _builtin(spec)
    return models.get(spec)


@functools.cache
def _builtin(name: str):
    """One object per built-in model and process: compiled evaluations are cached per model."""
    from .. import models

    return models.get(name)


def _system_model(path: Path):
    """A concrete (Junction, Modes, Baths) from JSON as a parameter-free ``Model``: the
    sectioned form of ``ehpjax.models.save_system`` and best.json (read by the models
    package), or the flat form with H, gamma_L, gamma_R, M, K, eta at the top level."""
    from .. import models

    as_model = getattr(models, "as_model", None)
    if as_model is not None and not _is_flat_system(path):
        return as_model(path)
    junction, modes, baths = _read_system_json(path)
    bath_defaults = {} if baths is None else {
        "mu0": 0.5 * float(baths.mu_L + baths.mu_R), "V": float(baths.mu_L - baths.mu_R), "T_e": float(baths.T_e),
        "T_ph": float(baths.T_ph)}
    return models.Model(path.stem, (), lambda _: (junction, modes), description=f"the system in {path}",
                        baths=bath_defaults, source=str(path))


def _is_flat_system(path: Path) -> bool:
    """Whether ``path`` holds the flat form (arrays at the top level, no "junction" section)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # let the reader report what is wrong with the file
    return isinstance(record, dict) and "junction" not in record and "H" in record


_NDIM = {"H": 2, "gamma_L": 2, "gamma_R": 2, "M": 3, "K": 2, "eta": 2}


def _read_system_json(path: Path):
    """(Junction, Modes, Baths | None) from a best.json-style file (sections "junction",
    "modes", optional "baths") or a flat file with H, gamma_L, gamma_R, M, K, eta at the top.
    Complex entries are [re, im] pairs (one trailing axis of length 2) or {"real", "imag"}."""
    import numpy as np

    from .._model import Baths, Junction, Modes

    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise EhpjaxError(f"cannot read model file '{path}': {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise EhpjaxError(f"model file '{path}' is not valid JSON: {e}") from None
    if not isinstance(record, dict):
        raise EhpjaxError(f"model file '{path}' must hold a JSON object")
    junction_part = record.get("junction", record)
    modes_part = record.get("modes", record)
    if not isinstance(junction_part, dict) or not isinstance(modes_part, dict):
        raise EhpjaxError(f"model file '{path}': 'junction' and 'modes' must be objects")
    missing = [k for k in ("H", "gamma_L", "gamma_R", "M") if k not in junction_part]
    missing += [k for k in ("K", "eta") if k not in modes_part]
    if missing:
        raise EhpjaxError(f"model file '{path}' lacks {', '.join(missing)}")

    def array(part, key):
        value = part[key]
        try:
            if isinstance(value, dict) and set(value) == {"real", "imag"}:
                return np.asarray(value["real"], dtype=float) + 1j * np.asarray(value["imag"], dtype=float)
            a = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise EhpjaxError(f"model file '{path}': {key} is not a (nested) list of numbers") from None
        if a.ndim == _NDIM[key] + 1 and a.shape[-1] == 2:
            return a[..., 0] + 1j * a[..., 1]
        return a

    try:
        junction = Junction(*(array(junction_part, k) for k in ("H", "gamma_L", "gamma_R", "M")),
                            float(junction_part.get("spin_degeneracy", record.get("spin_degeneracy", 1.0))))
        modes = Modes(array(modes_part, "K"), array(modes_part, "eta"))
        baths = None
        if isinstance(record.get("baths"), dict):
            b = record["baths"]
            baths = Baths(*(float(b[k]) for k in ("mu_L", "mu_R", "T_e", "T_ph")))
    except EhpjaxError:
        raise
    except (TypeError, ValueError, KeyError) as e:
        raise EhpjaxError(f"model file '{path}': {e}") from None
    if junction.n_modes != modes.n_modes:
        raise EhpjaxError(f"model file '{path}': M has {junction.n_modes} mode(s) but K has {modes.n_modes}")
    return junction, modes, baths


# ----------------------------------------------------------------------------------------
# Output files: atomic, never over a non-regular file, existing ones only with --overwrite


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse ``path`` if it exists and is not a regular file, or exists without ``overwrite``;
    also refuse a missing parent folder."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise EhpjaxError(f"cannot write '{path}': {e.strerror or e}") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise EhpjaxError(f"'{path}' exists and is not a regular file; refusing to replace it")
        if not overwrite:
            raise EhpjaxError(f"'{path}' exists; pass --overwrite to replace it")
    parent = path.parent
    if not parent.is_dir():
        raise EhpjaxError(f"cannot write '{path}': the folder '{parent}' does not exist")


def write_atomic(path, data: Union[bytes, str, Callable], overwrite: bool = False) -> Path:
    """Write ``data`` (bytes, text, or a callback ``write(binary_file)``) to ``path`` atomically:
    a temporary file in the same folder, flushed and fsync'ed, then ``os.replace``. An
    existing ``path`` must be a regular file and is replaced only with ``overwrite``; on any
    failure nothing is left behind (the old file, if any, is untouched)."""
    path = Path(path)
    check_target(path, overwrite)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise EhpjaxError(f"cannot write '{path}': {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        check_target(path, overwrite)  # again: something may have appeared meanwhile
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise EhpjaxError(f"cannot write '{path}': {e.strerror or e}") from None
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def strict_json(data) -> str:
    """JSON text with every non-finite float written as null (strict JSON: no bare NaN)."""

    def finite(obj):
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else None
        if isinstance(obj, dict):
            return {k: finite(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [finite(v) for v in obj]
        return obj

    return json.dumps(finite(data), indent=2, ensure_ascii=False, allow_nan=False)
