"""Files of a design run: best.json (the concrete design), history.csv, and the output
folder (refused when it already holds files, unless overwrite; never deletes anything).

best.json::

    {"ehpjax_version": "...",
     "units": {...},
     "junction": {"H": [[...]], "gamma_L": [[...]], "gamma_R": [[...]], "M": [[[...]]], "spin_degeneracy": 1.0},
     "modes": {"K": [[...]], "eta": [[...]]},
     "baths": {"mu_L": ..., "mu_R": ..., "T_e": ..., "T_ph": ...},
     "objective": {"name": "cooling", "value": ..., <settings>},
     "model": {"name": "two-level", "source": "built-in"},
     "parameters": {"eps_L": ..., ..., "mu0": ..., "V": ..., "T_e": ..., "T_ph": ...},
     "free": {"eps_L": ..., "H[0,1]": ...},      # the free numbers by name
     ...}

Arrays are nested lists; a complex array has every entry as an [re, im] pair (one
trailing axis of length 2 more than its shape in docs/physics.md §8). Anyone can
recompute the design's currents from it with code of their own. Every file is written
atomically: a temporary file in the same folder, flushed to disk, then renamed.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.metadata
import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from .._model import Baths, Junction, Modes
from ._objectives import DesignError

UNITS = {
    "energy": "hbar*Omega (energies, frequencies, temperatures, chemical potentials, biases; hbar = k_B = e = 1)",
    "J": "hbar*Omega^2",
    "I": "e*Omega",
    "P": "hbar*Omega^2",
    "K": "Omega^2",
    "eta": "Omega",
}
_NDIM = {"H": 2, "gamma_L": 2, "gamma_R": 2, "M": 3, "K": 2, "eta": 2}
OUTPUTS = ("best.json", "history.csv", "history.png", "comparison.png")


def _version() -> str:
    try:
        return importlib.metadata.version("ehpjax")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


# -- atomic writes and the output folder ---------------------------------------------------


def write_atomic(path, data: bytes | str, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and
    ``os.replace``; refuses to replace anything but a regular file (or, without
    ``overwrite``, any existing file)."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_file() or path.is_symlink():
            raise DesignError(f"{path}: exists and is not a regular file; not replacing it")
        if not overwrite:
            raise DesignError(f"{path}: exists; not replacing it (overwrite=True to replace)")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def prepare_out(out, *, overwrite: bool = False) -> Path:
    """Create the output folder; an existing one that holds files is refused unless
    ``overwrite`` (then only the design's own files are replaced; nothing is deleted)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DesignError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise DesignError(f"--out {out}: the folder exists and is not empty; choose another or pass --overwrite "
                          f"(which replaces only {', '.join(OUTPUTS)})")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DesignError(f"--out {out}: cannot create the folder ({err.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise DesignError(f"--out {out}: the folder is not writable")
    return out


# -- best.json ------------------------------------------------------------------------------


def _encode(a) -> list:
    a = np.asarray(a)
    if np.iscomplexobj(a):
        if np.all(a.imag == 0):
            a = a.real
        else:
            return np.stack([a.real, a.imag], axis=-1).tolist()
    return a.astype(float).tolist()


def _decode(value, name: str, path) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignError(f"{os.fspath(path)}: {name} is not a (nested) list of numbers") from None
    ndim = _NDIM[name]
    if a.ndim == ndim + 1 and a.shape[-1] == 2:
        return a[..., 0] + 1j * a[..., 1]
    if a.ndim != ndim:
        raise DesignError(f"{os.fspath(path)}: {name} must have {ndim} dimensions (or {ndim + 1} with [re, im] "
                          f"pairs), got shape {a.shape}")
    return a


def design_record(junction: Junction, modes: Modes, baths: Baths, objective_name: str, value: float, *,
                  objective_settings: dict | None = None, parameters: dict | None = None,
                  extra: dict | None = None) -> dict:
    """The content of best.json as a dict (see the module docstring)."""
    objective = dict(objective_settings or {})
    objective.update(name=str(objective_name), value=float(value))
    record = {
        "ehpjax_version": _version(),
        "units": UNITS,
        "junction": {"H": _encode(junction.H), "gamma_L": _encode(junction.gamma_L),
                     "gamma_R": _encode(junction.gamma_R), "M": _encode(junction.M),
                     "spin_degeneracy": float(junction.spin_degeneracy)},
        "modes": {"K": _encode(modes.K), "eta": _encode(modes.eta)},
        "baths": {"mu_L": float(baths.mu_L), "mu_R": float(baths.mu_R), "T_e": float(baths.T_e),
                  "T_ph": float(baths.T_ph)},
        "objective": objective,
    }
    if parameters is not None:
        record["parameters"] = {k: float(v) for k, v in parameters.items()}
    record.update(extra or {})
    return record


def dumps(record: dict) -> str:
    """JSON text with two-space indentation and every array on one line; non-finite
    numbers as null."""
    arrays = {}

    def stash(obj):
        if isinstance(obj, dict):
            return {k: stash(v) for k, v in obj.items()}
        if isinstance(obj, list):
            key = f"@@array{len(arrays)}@@"
            arrays[key] = json.dumps(obj, allow_nan=False)
            return key
        return obj

    text = json.dumps(stash(_finite(record)), indent=2, allow_nan=False, ensure_ascii=False)
    for key, value in arrays.items():
        text = text.replace(f'"{key}"', value)
    return text


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def save_design(path, junction: Junction, modes: Modes, baths: Baths, objective_name: str, value: float, *,
                objective_settings: dict | None = None, parameters: dict | None = None,
                extra: dict | None = None, overwrite: bool = True) -> None:
    """Write a concrete design as best.json (module docstring), atomically."""
    record = design_record(junction, modes, baths, objective_name, value, objective_settings=objective_settings,
                           parameters=parameters, extra=extra)
    write_atomic(path, dumps(record) + "\n", overwrite=overwrite)


def save_result(path, result, *, overwrite: bool = True) -> None:
    """best.json of a ``DesignResult``: the design, the objective and its value, the model,
    every scalar and the free numbers by name, and the run's report."""
    from ._objectives import objective_label

    space = result.space
    extra = {
        "model": {"name": space.model.name, "source": space.model.source},
        "free": dict(result.free),
        "bounds": {n: list(b) for n, b in zip(space.names, space.bounds)},
        "value_error": result.value_error,
        "start_value": result.start_value,
        "on_bound": [{"name": n, "value": v, "side": s, "bound": b} for n, v, s, b in result.on_bound()],
        "convergence": result.convergence(),
        "min_entropy_production": result.min_entropy_production,
    }
    save_design(path, result.junction, result.modes, result.baths, objective_label(result.objective), result.value,
                objective_settings=result.objective.settings(), parameters=result.parameters, extra=extra,
                overwrite=overwrite)


@dataclasses.dataclass(frozen=True)
class SavedDesign:
    """A design read back from best.json: ehpjax inputs plus the recorded metadata."""

    junction: Junction
    modes: Modes
    baths: Baths
    objective: dict  # at least {"name", "value"}
    parameters: dict | None
    record: dict  # the whole JSON content


def load_design(path) -> SavedDesign:
    """Read best.json written by ``save_design`` (or by anyone following its format)."""
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except FileNotFoundError:
        raise DesignError(f"cannot read design {os.fspath(path)!r}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DesignError(f"design {os.fspath(path)!r} is not valid JSON: {err}") from None
    if not isinstance(record, dict):
        raise DesignError(f"design {os.fspath(path)!r}: expected a JSON object")
    for section, keys in (("junction", ("H", "gamma_L", "gamma_R", "M")), ("modes", ("K", "eta")),
                          ("baths", ("mu_L", "mu_R", "T_e", "T_ph")), ("objective", ("name", "value"))):
        if not isinstance(record.get(section), dict):
            raise DesignError(f"design {os.fspath(path)!r} lacks the section {section!r}")
        missing = [k for k in keys if k not in record[section]]
        if missing:
            raise DesignError(f"design {os.fspath(path)!r}: {section} lacks {', '.join(missing)}")
    j, m, b = record["junction"], record["modes"], record["baths"]
    try:
        junction = Junction(*(_decode(j[k], k, path) for k in ("H", "gamma_L", "gamma_R", "M")),
                            j.get("spin_degeneracy", 1.0))
        modes = Modes(_decode(m["K"], "K", path), _decode(m["eta"], "eta", path))
        baths = Baths(*(float(b[k]) for k in ("mu_L", "mu_R", "T_e", "T_ph")))
    except DesignError:
        raise
    except (TypeError, ValueError) as err:
        raise DesignError(f"design {os.fspath(path)!r}: {err}") from None
    return SavedDesign(junction, modes, baths, dict(record["objective"]), record.get("parameters"), record)


# -- history.csv ----------------------------------------------------------------------------


def history_csv(result) -> str:
    """history.csv: one row per (step, start): step, start, objective, guide (what the
    optimiser follows), entropy_production, grad_norm, then every scalar of the model and
    the bath names (fixed ones constant) and the free matrix entries."""
    h = result.history
    space = result.space
    scalars = list(result.parameters)
    matrix_names = [n for n in space.names if n not in scalars]
    fixed = {k: v for k, v in space.parameters(result.objective, h.x[0, 0]).items()}
    index = {n: i for i, n in enumerate(space.names)}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["step", "start", "objective", "guide", "entropy_production", "grad_norm", *scalars,
                     *matrix_names])
    for k in range(h.value.shape[0]):
        for s in range(h.value.shape[1]):
            x = h.x[k, s]
            row = [k, s, repr(float(h.value[k, s])), repr(float(h.guide[k, s])),
                   repr(float(h.entropy_production[k, s])), repr(float(h.grad_norm[k, s]))]
            row += [repr(float(x[index[n]])) if n in index else repr(float(fixed[n])) for n in scalars]
            row += [repr(float(x[index[n]])) for n in matrix_names]
            writer.writerow(row)
    return buf.getvalue()


def write_history_csv(path, result, *, overwrite: bool = True) -> None:
    write_atomic(path, history_csv(result), overwrite=overwrite)
