"""best.json and history.csv of a design (issue 4).

best.json holds, with the field names of SPEC 8::

    {"ehpjax_version": "0.1.0",
     "units": {...},
     "junction": {"H": [[...]], "gamma_L": [[...]], "gamma_R": [[...]], "M": [[[...]]], "spin_degeneracy": 1.0},
     "modes": {"K": [[...]], "eta": [[...]]},
     "baths": {"mu_L": ..., "mu_R": ..., "T_e": ..., "T_ph": ...},
     "objective": {"name": "cooling", "value": ..., <settings>},
     "parameters": {"eps_L": ..., ...},          # the two-level parametrisation, when known
     ...}

Arrays are nested lists; a complex array has every entry as an [re, im] pair (so it has
one trailing axis of length 2 more than its SPEC shape). Anyone can recompute the
design's currents from it with code of their own.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os

import numpy as np

from ._model import Baths, Junction, Modes

UNITS = {
    "energy": "hbar*Omega (energies, frequencies, temperatures, chemical potentials, biases; hbar = k_B = e = 1)",
    "J": "hbar*Omega^2",
    "I": "e*Omega",
    "P": "hbar*Omega^2",
    "K": "Omega^2",
    "eta": "Omega",
}
_NDIM = {"H": 2, "gamma_L": 2, "gamma_R": 2, "M": 3, "K": 2, "eta": 2}


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
        raise ValueError(f"{os.fspath(path)}: {name} is not a (nested) list of numbers") from None
    ndim = _NDIM[name]
    if a.ndim == ndim + 1 and a.shape[-1] == 2:
        return a[..., 0] + 1j * a[..., 1]
    if a.ndim != ndim:
        raise ValueError(f"{os.fspath(path)}: {name} must have {ndim} dimensions (or {ndim + 1} with [re, im] "
                         f"pairs), got shape {a.shape}")
    return a


def design_record(junction: Junction, modes: Modes, baths: Baths, objective_name: str, value: float, *,
                  objective_settings: dict | None = None, parameters: dict | None = None,
                  extra: dict | None = None) -> dict:
    """The content of best.json as a dict (see the module docstring)."""
    from . import __version__

    objective = dict(objective_settings or {})
    objective.update(name=str(objective_name), value=float(value))
    record = {
        "ehpjax_version": __version__,
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
    for key, item in (extra or {}).items():
        record[key] = item
    return record


def save_design(path, junction: Junction, modes: Modes, baths: Baths, objective_name: str, value: float, *,
                objective_settings: dict | None = None, parameters: dict | None = None,
                extra: dict | None = None) -> None:
    """Write a design as best.json (module docstring). Non-finite numbers are written as null."""
    record = design_record(junction, modes, baths, objective_name, value, objective_settings=objective_settings,
                           parameters=parameters, extra=extra)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(dumps(record) + "\n")


def dumps(record: dict) -> str:
    """JSON text with two-space indentation and every array on one line."""
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
        raise ValueError(f"cannot read design {os.fspath(path)!r}: no such file") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"design {os.fspath(path)!r} is not valid JSON: {err}") from None
    for section, keys in (("junction", ("H", "gamma_L", "gamma_R", "M")), ("modes", ("K", "eta")),
                          ("baths", ("mu_L", "mu_R", "T_e", "T_ph")), ("objective", ("name", "value"))):
        if not isinstance(record.get(section), dict):
            raise ValueError(f"design {os.fspath(path)!r} lacks the section {section!r}")
        missing = [k for k in keys if k not in record[section]]
        if missing:
            raise ValueError(f"design {os.fspath(path)!r}: {section} lacks {', '.join(missing)}")
    j, m, b = record["junction"], record["modes"], record["baths"]
    junction = Junction(*(_decode(j[k], k, path) for k in ("H", "gamma_L", "gamma_R", "M")),
                        j.get("spin_degeneracy", 1.0))
    modes = Modes(_decode(m["K"], "K", path), _decode(m["eta"], "eta", path))
    baths = Baths(*(float(b[k]) for k in ("mu_L", "mu_R", "T_e", "T_ph")))
    return SavedDesign(junction, modes, baths, dict(record["objective"]), record.get("parameters"), record)


def write_history_csv(path, history) -> None:
    """history.csv: one row per (step, start): step, start, objective, entropy_production and
    every design variable."""
    from ._design import VARIABLES

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["step", "start", "objective", "entropy_production", *VARIABLES])
        for row in history.rows():
            writer.writerow([row[0], row[1], *(repr(v) for v in row[2:])])
