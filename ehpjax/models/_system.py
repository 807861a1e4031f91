"""One JSON form for a concrete system (Junction, Modes and optionally Baths).

    {"format": "ehpjax-system",
     "units": {...},                                       # informative
     "junction": {"H": [[...]], "gamma_L": [[...]], "gamma_R": [[...]],
                  "M": [[[...]]], "spin_degeneracy": 1.0},
     "modes": {"K": [[...]], "eta": [[...]]},
     "baths": {"mu_L": ..., "mu_R": ..., "T_e": ..., "T_ph": ...},   # optional
     ...}                                                  # anything else: the caller's extra data

The field names are those of the public API (docs/physics.md §8). Arrays are nested lists
of numbers; a complex array has every entry as an [re, im] pair (one trailing axis of
length 2 more than its shape). Floats are written with Python's shortest round-trip
representation, so reading back gives the identical numbers. A design's best.json has this
form (with "objective", "parameters", ... as extra data), and anyone can recompute its
currents with code of their own.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from .._files import write_atomic as _write_atomic
from .._model import Baths, Junction, Modes
from ._model import Model, ModelError

FORMAT = "ehpjax-system"
UNITS = {
    "energy": "hbar*Omega (energies, frequencies, temperatures, chemical potentials, biases; hbar = k_B = e = 1)",
    "J": "hbar*Omega^2",
    "I": "e*Omega",
    "P": "hbar*Omega^2",
    "K": "Omega^2",
    "eta": "Omega",
}
RESERVED_KEYS = ("format", "junction", "modes", "baths")
_NDIM = {"H": 2, "gamma_L": 2, "gamma_R": 2, "M": 3, "K": 2, "eta": 2}


def encode_array(a) -> list:
    """Nested lists; complex entries as [re, im] pairs (real arrays stay plain)."""
    a = np.asarray(a)
    if np.iscomplexobj(a):
        if np.all(a.imag == 0):
            a = a.real
        else:
            return np.stack([a.real, a.imag], axis=-1).astype(float).tolist()
    return a.astype(float).tolist()


def decode_array(value, name: str, where: str) -> np.ndarray:
    """A matrix from JSON: nested lists of numbers, complex entries as [re, im] pairs (one
    trailing axis of length 2) or the whole matrix as {"real": ..., "imag": ...}."""
    if isinstance(value, dict) and set(value) == {"real", "imag"}:
        return decode_array(value["real"], name, where) + 1j * decode_array(value["imag"], name, where)
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelError(f"{where}: {name} is not a (nested) list of numbers") from None
    ndim = _NDIM[name]
    if a.ndim == ndim + 1 and a.shape[-1] == 2:
        a = a[..., 0] + 1j * a[..., 1]
    elif a.ndim != ndim:
        raise ModelError(f"{where}: {name} must have {ndim} dimensions (or {ndim + 1} with [re, im] pairs), "
                         f"got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ModelError(f"{where}: {name} has entries that are not finite numbers")
    return a


def system_record(junction: Junction, modes: Modes, baths: Baths | None = None, **extra) -> dict:
    """The JSON content (a dict) for ``save_system``."""
    clash = [k for k in extra if k in RESERVED_KEYS]
    if clash:
        raise ModelError(f"save_system: extra key(s) {', '.join(clash)} are reserved")
    record = {
        "format": FORMAT,
        "units": UNITS,
        "junction": {"H": encode_array(junction.H), "gamma_L": encode_array(junction.gamma_L),
                     "gamma_R": encode_array(junction.gamma_R), "M": encode_array(junction.M),
                     "spin_degeneracy": float(junction.spin_degeneracy)},
        "modes": {"K": encode_array(modes.K), "eta": encode_array(modes.eta)},
    }
    if baths is not None:
        record["baths"] = {k: float(getattr(baths, k)) for k in ("mu_L", "mu_R", "T_e", "T_ph")}
    record.update(extra)
    return record


def save_system(path, junction: Junction, modes: Modes, baths: Baths | None = None, **extra) -> None:
    """Write a concrete system as JSON (module docstring) atomically: a temporary file in the
    same folder, flushed and fsync'ed, then renamed over ``path``. ``extra`` items (JSON
    values; NumPy/JAX scalars and arrays are converted) are stored as top-level keys.
    A ``path`` that exists and is not a regular file is refused."""
    text = dumps(system_record(junction, modes, baths, **extra)) + "\n"
    write_atomic(path, text)


def write_atomic(path, text: str) -> None:
    """``ehpjax._files.write_atomic`` with model errors; an existing regular file is replaced."""
    _write_atomic(path, text, overwrite=True, what="system file", error=ModelError)


def dumps(record: dict) -> str:
    """JSON text with two-space indentation and every array on one line; non-finite floats
    are written as null (JSON has no NaN)."""
    arrays = {}

    def stash(obj):
        if isinstance(obj, dict):
            return {str(k): stash(v) for k, v in obj.items()}
        if isinstance(obj, list):
            key = f"@@array{len(arrays)}@@"
            arrays[key] = json.dumps(obj, allow_nan=False)
            return key
        return obj

    text = json.dumps(stash(_plain(record)), indent=2, allow_nan=False, ensure_ascii=False)
    for key, value in arrays.items():
        text = text.replace(f'"{key}"', value)
    return text


def _plain(obj):
    """JSON-ready: NumPy/JAX scalars and arrays to Python, non-finite floats to None."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (str, bool, int)) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "__array__"):
        a = np.asarray(obj)
        if np.iscomplexobj(a):
            return _plain(encode_array(a))
        return _plain(a.tolist())
    raise ModelError(f"save_system: cannot write a {type(obj).__name__} as JSON")


def load_system(path) -> tuple[Junction, Modes, Baths | None, dict]:
    """(Junction, Modes, Baths or None, extra) from a JSON file written by ``save_system``
    (or by a design's best.json, or anyone following the form). ``extra``: every other
    top-level key."""
    where = f"system file {os.fspath(path)!r}"
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except FileNotFoundError:
        raise ModelError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"{where}: cannot read it ({err})") from None
    except json.JSONDecodeError as err:
        raise ModelError(f"{where} is not valid JSON: {err}") from None
    if not isinstance(record, dict):
        raise ModelError(f"{where}: expected a JSON object")
    if record.get("format", FORMAT) != FORMAT:
        raise ModelError(f"{where}: unknown format {record['format']!r} (expected {FORMAT!r})")
    if "junction" not in record and "H" in record:  # the flat layout: every matrix at the top level
        junction_keys = ("H", "gamma_L", "gamma_R", "M", "spin_degeneracy")
        record = {"junction": {k: record[k] for k in junction_keys if k in record},
                  "modes": {k: record[k] for k in ("K", "eta") if k in record},
                  **{k: v for k, v in record.items() if k not in junction_keys + ("K", "eta")}}
    for section, keys in (("junction", ("H", "gamma_L", "gamma_R", "M")), ("modes", ("K", "eta"))):
        if not isinstance(record.get(section), dict):
            raise ModelError(f"{where} lacks the section {section!r}")
        missing = [k for k in keys if k not in record[section]]
        if missing:
            raise ModelError(f"{where}: {section} lacks {', '.join(missing)}")
    j, m = record["junction"], record["modes"]
    spin = j.get("spin_degeneracy", 1.0)
    if isinstance(spin, bool) or not isinstance(spin, (int, float)):
        raise ModelError(f"{where}: junction.spin_degeneracy must be a number")
    try:
        junction = Junction(*(decode_array(j[k], k, where) for k in ("H", "gamma_L", "gamma_R", "M")), float(spin))
        modes = Modes(decode_array(m["K"], "K", where), decode_array(m["eta"], "eta", where))
    except ModelError:
        raise
    except ValueError as err:
        raise ModelError(f"{where}: {err}") from None
    baths = None
    if record.get("baths") is not None:
        b = record["baths"]
        if not isinstance(b, dict) or any(k not in b for k in ("mu_L", "mu_R", "T_e", "T_ph")):
            raise ModelError(f"{where}: baths must have mu_L, mu_R, T_e and T_ph")
        values = []
        for k in ("mu_L", "mu_R", "T_e", "T_ph"):
            if isinstance(b[k], bool) or not isinstance(b[k], (int, float)):
                raise ModelError(f"{where}: baths.{k} must be a number, got {b[k]!r}")
            values.append(float(b[k]))
        try:
            baths = Baths(*values)
        except ValueError as err:
            raise ModelError(f"{where}: {err}") from None
    extra = {k: v for k, v in record.items() if k not in RESERVED_KEYS}
    return junction, modes, baths, extra


def as_model(path) -> Model:
    """A JSON system as a Model with no free parameters, so that every tool can take it.
    Its bath defaults are the file's baths (as mu0 = (μ_L + μ_R)/2, V = μ_L − μ_R, T_e, T_ph)."""
    junction, modes, baths, extra = load_system(path)
    defaults = {}
    if baths is not None:
        mu_L, mu_R = float(baths.mu_L), float(baths.mu_R)
        defaults = {"mu0": 0.5 * (mu_L + mu_R), "V": mu_L - mu_R, "T_e": float(baths.T_e),
                    "T_ph": float(baths.T_ph)}
    name = os.path.splitext(os.path.basename(os.fspath(path)))[0]

    def build(p):
        return junction, modes

    description = f"concrete system: {junction.n_levels} level(s), {junction.n_modes} mode(s)"
    return Model(name, (), build, description=description, baths=defaults, source=os.fspath(path))
