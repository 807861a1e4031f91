"""Files of a design run: best.json (the concrete design), history.csv, and the output
folder (refused when it already holds files, unless overwrite; never deletes anything).

best.json is the concrete-system JSON of ``ehpjax.models.save_system`` (what
``ehpjax currents --model best.json`` reads) with the design's data as extra keys::

    {"format": "ehpjax-system",
     "units": {...},
     "ehpjax_version": "...",
     "junction": {"H": [[...]], "gamma_L": [[...]], "gamma_R": [[...]], "M": [[[...]]], "spin_degeneracy": 1.0},
     "modes": {"K": [[...]], "eta": [[...]]},
     "baths": {"mu_L": ..., "mu_R": ..., "T_e": ..., "T_ph": ...},
     "objective": {"name": "cooling", "value": ..., <settings>},
     "model": {"name": "two-level", "source": "built-in"},
     "parameters": {"eps_L": ..., ..., "mu0": ..., "V": ..., "T_e": ..., "T_ph": ...},
     "free": {"eps_L": ..., "H[0,1]": ...},      # the free numbers by name
     ...}

Arrays are nested lists; a complex array has every entry as an [re, im] pair (one
trailing axis of length 2 more than its shape in docs/physics.md §8); floats round-trip
exactly. Anyone can recompute the design's currents from it with code of their own. Every
file is written atomically: a temporary file in the same folder, flushed to disk, then
renamed.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from pathlib import Path

from .. import __version__
from .._files import write_atomic as _write_atomic
from .._model import Baths, Junction, Modes
from ..models import load_system, save_system
from ..models._system import system_record
from ._objectives import DesignError

OUTPUTS = ("best.json", "history.csv", "history.png", "comparison.png")


# -- atomic writes and the output folder ---------------------------------------------------


def write_atomic(path, data: bytes | str, *, overwrite: bool = True) -> None:
    """``ehpjax._files.write_atomic`` with design errors (replaces an existing regular file
    unless ``overwrite`` is false)."""
    _write_atomic(path, data, overwrite, error=DesignError)


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


def _design_keys(objective_name, value, objective_settings, parameters, extra) -> dict:
    objective = dict(objective_settings or {})
    objective.update(name=str(objective_name), value=float(value))
    keys = {"ehpjax_version": __version__, "objective": objective}
    if parameters is not None:
        keys["parameters"] = {k: float(v) for k, v in parameters.items()}
    keys.update(extra or {})
    return keys


def design_record(junction: Junction, modes: Modes, baths: Baths, objective_name: str, value: float, *,
                  objective_settings: dict | None = None, parameters: dict | None = None,
                  extra: dict | None = None) -> dict:
    """The content of best.json as a dict (see the module docstring): the concrete-system
    JSON of ``ehpjax.models.save_system`` with the design's data as extra keys."""
    return system_record(junction, modes, baths,
                         **_design_keys(objective_name, value, objective_settings, parameters, extra))


def save_design(path, junction: Junction, modes: Modes, baths: Baths, objective_name: str, value: float, *,
                objective_settings: dict | None = None, parameters: dict | None = None,
                extra: dict | None = None, overwrite: bool = True) -> None:
    """Write a concrete design as best.json (module docstring), atomically, through
    ``ehpjax.models.save_system``; an existing file is replaced only with ``overwrite``."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        if path.is_symlink() or not path.is_file():
            raise DesignError(f"{path}: exists and is not a regular file; not replacing it")
        if not overwrite:
            raise DesignError(f"{path}: exists; not replacing it (overwrite=True to replace)")
    save_system(path, junction, modes, baths,
                **_design_keys(objective_name, value, objective_settings, parameters, extra))


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
    record: dict  # every key besides junction, modes, baths (and format)


def load_design(path) -> SavedDesign:
    """Read best.json written by ``save_design`` (or by anyone following its format; files of
    earlier versions, without "format", are read too)."""
    junction, modes, baths, extra = load_system(path)
    where = f"design {os.fspath(path)!r}"
    if baths is None:
        raise DesignError(f"{where} lacks the section 'baths'")
    objective = extra.get("objective")
    if not isinstance(objective, dict):
        raise DesignError(f"{where} lacks the section 'objective'")
    missing = [k for k in ("name", "value") if k not in objective]
    if missing:
        raise DesignError(f"{where}: objective lacks {', '.join(missing)}")
    return SavedDesign(junction, modes, baths, dict(objective), extra.get("parameters"), extra)


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
