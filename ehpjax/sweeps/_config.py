"""Sweep configs (TOML) for ``ehpjax sweep CONFIG.toml --out results.nc``.

    model = "two-level"       # optional: a built-in name or a model file (relative to this file)
    [model_options]           # optional: options of a built-in model, e.g. n = 3 for "serial-chain"
    n = 3
    mode = "product"          # optional: "product" (cartesian) or "flat" (equal-length lists)
    chunk_size = 512          # optional: points per jitted call
    order = "lowest"          # optional: "lowest" or "dressed" (docs/physics.md §9)
    [fixed]                   # values of names not swept (the model's defaults otherwise)
    T_e = 0.3
    [axes]
    V = {start = -2.0, stop = 2.0, num = 41}     # linspace
    eps_L = [10.0, 10.5, 11.0]                   # explicit values

Legacy: ``preset = "paper"`` means the two-level model with its default values
(``preset = "none"``: every parameter must be given).
"""

from __future__ import annotations

import os
import tomllib

import numpy as np

from .. import models as _models
from ._spec import SweepError, resolve_model as cached_model

_TOP_KEYS = {"model", "model_options", "preset", "mode", "chunk_size", "order", "fixed", "axes"}


def _axis_values(name: str, spec) -> np.ndarray:
    if isinstance(spec, dict):
        unknown = set(spec) - {"start", "stop", "num"}
        if unknown:
            raise SweepError(f"axis {name!r}: unknown key {sorted(unknown)[0]!r} (use start, stop, num)")
        missing = {"start", "stop", "num"} - set(spec)
        if missing:
            raise SweepError(f"axis {name!r}: missing key {sorted(missing)[0]!r}")
        num = spec["num"]
        if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
            raise SweepError(f"axis {name!r}: num must be a positive integer, got {num!r}")
        for key in ("start", "stop"):
            if not isinstance(spec[key], (int, float)) or isinstance(spec[key], bool):
                raise SweepError(f"axis {name!r}: {key} must be a number, got {spec[key]!r}")
        return np.linspace(float(spec["start"]), float(spec["stop"]), num)
    if isinstance(spec, list):
        if not spec or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
            raise SweepError(f"axis {name!r}: expected a non-empty list of numbers")
        return np.asarray(spec, dtype=np.float64)
    raise SweepError(f"axis {name!r}: expected a list of values or {{start, stop, num}}")


def read_config(path: str | os.PathLike) -> str:
    """The config's text, read once (what the run uses and records)."""
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8")
    except FileNotFoundError:
        raise SweepError(f"cannot read config {os.fspath(path)!r}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SweepError(f"cannot read config {os.fspath(path)!r}: {err}") from None


def parse_config(text: str, base: str | os.PathLike = ".", *, where: str = "config") -> dict:
    """Validate a config's text; returns keyword arguments for ``ehpjax.sweep``.
    Model files are resolved relative to the folder ``base``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SweepError(f"cannot read {where}: {err}") from None
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise SweepError(f"unknown key {sorted(unknown)[0]!r} in {where} (known: {', '.join(sorted(_TOP_KEYS))})")
    fixed, axes, options = raw.get("fixed", {}), raw.get("axes", {}), raw.get("model_options", {})
    if not all(isinstance(t, dict) for t in (fixed, axes, options)):
        raise SweepError("[fixed], [axes] and [model_options] must be tables")
    for name, value in fixed.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SweepError(f"fixed parameter {name!r} must be a number, got {value!r}")
    kwargs = dict(axes={name: _axis_values(name, spec) for name, spec in axes.items()},
                  fixed={k: float(v) for k, v in fixed.items()})
    if "model" in raw:
        kwargs["model"] = resolve_model(raw["model"], base, options)
    elif options:
        raise SweepError("[model_options] needs a model = ... line")
    if "preset" in raw:
        preset = raw["preset"]
        kwargs["preset"] = None if preset == "none" else preset
    for key in ("mode", "order"):
        if key in raw:
            kwargs[key] = raw[key]
    if "chunk_size" in raw:
        kwargs["chunk_size"] = raw["chunk_size"]
    return kwargs


def resolve_model(spec, base: str | os.PathLike = ".", options: dict | None = None):
    """A model from a config's ``model =`` value: a built-in name, or a file relative to ``base``."""
    if not isinstance(spec, str) or not spec:
        raise SweepError(f"model must be a built-in name or a model file, got {spec!r}")
    options = dict(options or {})
    builtin = spec if spec in _models.BUILTIN else spec.replace("_", "-")
    if builtin in _models.BUILTIN:
        return cached_model(builtin, **options)
    path = os.path.join(os.fspath(base), spec)
    if not os.path.isfile(path):
        raise SweepError(f"unknown model {spec!r}: not a built-in ({', '.join(sorted(_models.BUILTIN))}) "
                         f"and no file {path!r}")
    return cached_model(path, **options)


def run_config(config: str | os.PathLike, out: str | os.PathLike, *, overwrite: bool = False,
               chunk_size: int | None = None, progress: bool = True, model: str | None = None,
               sets: dict | None = None) -> str:
    """Run a config into a NetCDF file; resumable through ``OUT.partial/`` (see ``sweep_to_file``).

    model: a model (built-in name or file) when the config names none; sets: extra fixed
    values (they override the config's)."""
    from ._run import sweep_to_file

    text = read_config(config)
    kwargs = parse_config(text, os.path.dirname(os.path.abspath(config)), where=f"config {os.fspath(config)!r}")
    if model is not None:
        if "model" in kwargs or "preset" in kwargs:
            raise SweepError("the config names its model (model = ... or preset = ...); leave out --model")
        kwargs["model"] = resolve_model(model, os.getcwd())
    if sets:
        kwargs["fixed"] = {**kwargs["fixed"], **sets}
    if chunk_size is not None:
        kwargs["chunk_size"] = chunk_size
    axes = kwargs.pop("axes")
    return sweep_to_file(out, axes, overwrite=overwrite, progress=progress,
                         attrs={"config": text, "config_file": os.path.basename(os.fspath(config))}, **kwargs)
