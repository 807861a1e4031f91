"""Batched sweeps: named parameter axes → a labelled xarray Dataset.

Points are evaluated in chunks by one jitted, vmapped function; each chunk's batch axis
is sharded over all devices (``jax.sharding``), so several CPUs/GPUs, and several hosts
under ``jax.distributed``, share the work. Results stream into memory-mapped arrays in a
checkpoint folder, so peak memory depends on the chunk size, not on the number of
points, and an interrupted sweep resumes from its completed chunks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ._currents import currents, misses_tolerance
from ._model import Baths, Junction, Modes
from ._quadrature import FrequencyQuadrature

PARAMETERS = ("eps_L", "eps_R", "gamma_L", "gamma_R", "m", "omega", "gamma_ph", "mu0", "V", "mu_L", "mu_R", "T_e", "T_ph")
PRESETS = {
    # SPEC section 7: the paper's two-level model (Figs. 3–5).
    "paper": dict(eps_L=10.5, eps_R=9.5, gamma_L=0.5, gamma_R=0.5, m=0.5, omega=1.0, gamma_ph=0.5,
                  mu0=10.0, V=0.0, T_e=0.5, T_ph=0.5),
}
UNITS = "hbar*Omega = k_B = e = 1 (energies, frequencies, temperatures, chemical potentials share one unit)"
CHANNELS = ("LL", "RR", "RL", "LR")
DESCRIPTIONS = {
    "J": "energy current e-bath -> modes (J < 0: electronic cooling of the modes)",
    "I": "boson-assisted charge current, electrons per unit time L -> R",
    "I_elastic": "elastic Landauer current L -> R",
    "P": "electrical power I*V",
    "entropy_production": "(P - J)/T_e + J/T_ph",
    "J_error": "estimated quadrature error of J",
    "I_error": "estimated quadrature error of I",
    **{f"J_{c}": f"energy current of EHP channel {c}" for c in CHANNELS},
    **{f"N_{c}": f"boson-number flux of EHP channel {c}" for c in CHANNELS},
}


_COARSE = FrequencyQuadrature(panels=4, warn=False)
# Points per device and call at most: with jax 0.10 on CPU a 16 384-point batch of this
# program hung in XLA's executor (futex wait, 0% CPU) while 8192 ran; cause not yet found.
_MAX_CHUNK = 8192
# Default points per call: on CPU, 256–512-point chunks keep the per-node arrays in cache
# and ran 1.5× faster than 4096 (bench_sweep.py); on a GPU pass a larger chunk_size.
DEFAULT_CHUNK = 512
_RTOL = FrequencyQuadrature().rtol


def _coarse_outputs(junction, modes, baths):
    return currents_outputs(junction, modes, baths, quadrature=_COARSE)


def _inaccurate(result: dict) -> np.ndarray:
    """Points whose estimated quadrature error misses the tolerance of ``currents``."""
    return misses_tolerance(result["J"], result["J_error"], _RTOL) | misses_tolerance(result["I"], result["I_error"], _RTOL)


class SweepError(ValueError):
    """A sweep specification that cannot be run (unknown parameter, bad axis, …)."""


def two_level_model(p: dict):
    """(Junction, Modes, Baths) of the paper's two-level model from named parameters.

    Chemical potentials from (mu_L, mu_R) if given, else μ_L/R = mu0 ± V/2.
    """
    junction = Junction.two_level(p["eps_L"], p["eps_R"], p["gamma_L"], p["gamma_R"], p["m"])
    modes = Modes.single(p["omega"], p["gamma_ph"])
    if "mu_L" in p:
        baths = Baths(p["mu_L"], p["mu_R"], p["T_e"], p["T_ph"])
    else:
        baths = Baths.biased(p["V"], p["mu0"], p["T_e"], p["T_ph"])
    return junction, modes, baths


def currents_outputs(junction, modes, baths, quadrature=FrequencyQuadrature(warn=False)):
    """Default sweep outputs: the scalars of ``currents`` with the channels split out."""
    c = currents(junction, modes, baths, quadrature=quadrature)
    out = {"J": c.J, "I": c.I, "I_elastic": c.I_elastic, "P": c.P, "entropy_production": c.entropy_production,
           "J_error": c.J_error, "I_error": c.I_error}
    for i, name in enumerate(CHANNELS):
        out[f"J_{name}"] = c.J_channels[i]
        out[f"N_{name}"] = c.N_channels[i]
    return out


@dataclass
class SweepSpec:
    """What to sweep: fixed values and swept axes (each a 1-D array of values).

    mode "product": the cartesian product of the axes (dimensions named after them);
    mode "flat": the axes are equally long lists of points (one dimension, "point").
    """

    axes: dict
    fixed: dict = field(default_factory=dict)
    preset: str | None = "paper"
    mode: str = "product"

    def __post_init__(self):
        if self.preset is not None and self.preset not in PRESETS:
            raise SweepError(f"unknown preset {self.preset!r} (known: {', '.join(PRESETS)})")
        if self.mode not in ("product", "flat"):
            raise SweepError(f"mode must be 'product' or 'flat', got {self.mode!r}")
        if not self.axes:
            raise SweepError("no axes to sweep")
        for name in list(self.axes) + list(self.fixed):
            if name not in PARAMETERS:
                raise SweepError(f"unknown parameter {name!r} (known: {', '.join(PARAMETERS)})")
        both = set(self.axes) & set(self.fixed)
        if both:
            raise SweepError(f"parameter {sorted(both)[0]!r} is both fixed and swept")
        self.axes = {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) for k, v in self.axes.items()}
        for name, values in self.axes.items():
            if values.ndim != 1 or values.size == 0:
                raise SweepError(f"axis {name!r} must be a non-empty 1-D list of values")
            if not np.all(np.isfinite(values)):
                raise SweepError(f"axis {name!r} contains NaN or inf")
        if self.mode == "flat" and len({v.size for v in self.axes.values()}) > 1:
            raise SweepError("mode 'flat' needs axes of equal length")
        given = set(self.axes) | set(self.fixed)
        if given & {"mu_L", "mu_R"} and given & {"mu0", "V"}:
            raise SweepError("give the chemical potentials either as (mu_L, mu_R) or as (mu0, V), not both")
        if (given & {"mu_L", "mu_R"}) and not {"mu_L", "mu_R"} <= given:
            raise SweepError("mu_L and mu_R must be given together")

    @property
    def constants(self) -> dict:
        """The fixed parameter values: the preset, overridden by ``fixed``, minus the swept ones."""
        values = dict(PRESETS[self.preset]) if self.preset else {}
        if (set(self.axes) | set(self.fixed)) & {"mu_L", "mu_R"}:
            values.pop("mu0", None)
            values.pop("V", None)
        values.update({k: float(v) for k, v in self.fixed.items()})
        return {k: v for k, v in values.items() if k not in self.axes}

    def check_complete(self):
        """Every parameter of the two-level model is given (fixed, swept or by the preset)."""
        given = set(self.constants) | set(self.axes)
        needed = {"eps_L", "eps_R", "gamma_L", "gamma_R", "m", "omega", "gamma_ph", "T_e", "T_ph"}
        needed |= {"mu_L", "mu_R"} if given & {"mu_L", "mu_R"} else {"mu0", "V"}
        missing = sorted(needed - given)
        if missing:
            raise SweepError(f"parameter {missing[0]!r} is neither fixed nor swept (and there is no preset)")

    @property
    def shape(self) -> tuple:
        if self.mode == "flat":
            return (next(iter(self.axes.values())).size,)
        return tuple(v.size for v in self.axes.values())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def points(self, start: int, stop: int) -> dict:
        """Parameter values of the flat point indices [start, stop)."""
        index = np.arange(start, stop)
        if self.mode == "flat":
            return {k: v[index] for k, v in self.axes.items()}
        multi = np.unravel_index(index, self.shape)
        return {k: v[i] for (k, v), i in zip(self.axes.items(), multi)}

    def fingerprint(self, extra: str = "") -> str:
        text = json.dumps({"axes": {k: v.tolist() for k, v in self.axes.items()}, "fixed": self.fixed,
                           "preset": self.preset, "mode": self.mode, "extra": extra}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _batch_sharding():
    """Sharding of a 1-D batch over every device of every process (a 1-D mesh)."""
    mesh = jax.make_mesh((jax.device_count(),), ("batch",), axis_types=(jax.sharding.AxisType.Auto,))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))


def _to_global(array: np.ndarray, sharding):
    """Host chunk → global sharded array (each process contributes its slice)."""
    if jax.process_count() == 1:
        return jax.device_put(array, sharding)
    per_process = array.shape[0] // jax.process_count()
    local = array[jax.process_index() * per_process:(jax.process_index() + 1) * per_process]
    return jax.make_array_from_process_local_data(sharding, local, array.shape)


def _to_host(array) -> np.ndarray:
    if jax.process_count() == 1:
        return np.asarray(array)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(array, tiled=True))


def sweep(
    axes: dict,
    *,
    fixed: dict | None = None,
    preset: str | None = "paper",
    mode: str = "product",
    fn: Callable | None = None,
    build: Callable = two_level_model,
    chunk_size: int = DEFAULT_CHUNK,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
):
    """Evaluate ``fn(junction, modes, baths)`` over named parameter axes; return an xarray Dataset.

    axes: {name: values} (names from ``PARAMETERS``); fixed: {name: value} overriding the
    preset (default: SPEC 7's paper model). fn returns a dict of scalars, or one scalar
    (default: the currents, ``currents_outputs``); build maps a dict of parameters to
    (Junction, Modes, Baths) (default: the two-level model). The Dataset has one
    dimension per axis (mode "product") or one "point" dimension (mode "flat"), every
    output as a variable, and units and the package version as attributes.

    With the default outputs, points are first computed with a 4-panel frequency rule
    and those whose error estimate misses the tolerance (1e-6 relative) are recomputed
    with the default rule (``FrequencyQuadrature()``); the estimates are in the Dataset
    (J_error, I_error), and a warning names the points still missing it.

    chunk_size points are evaluated per jitted call (default 512, cache-friendly on CPU;
    at most 8192 per device; rounded up to a multiple of the device count; the last chunk
    is padded so nothing recompiles); the batch axis of each chunk is sharded over all
    devices. With ``checkpoint`` (a folder), finished chunks are kept there and a repeated
    call resumes from them (the folder is removed once the sweep is complete).
    """
    spec = SweepSpec(axes=axes, fixed=dict(fixed or {}), preset=preset, mode=mode)
    if build is two_level_model:
        spec.check_complete()
    adaptive = fn is None
    fn = currents_outputs if fn is None else fn
    constants = spec.constants
    swept = list(spec.axes)
    n_devices = jax.device_count()
    chunk = max(1, -(-min(int(chunk_size), _MAX_CHUNK * n_devices, spec.size) // n_devices) * n_devices)
    sharding = _batch_sharding()

    const = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in constants.items()}
    key = (tuple(swept), tuple(sorted(constants)))
    batched, names = _evaluator(fn, build, *key)
    if adaptive:
        # The default outputs are first computed with a 4-panel frequency rule; points whose
        # error estimate misses the tolerance are recomputed with the default rule.
        batched = _evaluator(_coarse_outputs, build, *key)[0]
        refine = _evaluator(currents_outputs, build, *key)[0]
        refine_size = -(-max(1, chunk // 8) // n_devices) * n_devices

    def run(values, size, evaluate_batch):
        padded = {k: np.pad(v, (0, size - v.size), mode="edge") for k, v in values.items()}
        result = evaluate_batch({k: _to_global(v, sharding) for k, v in padded.items()}, const)
        return {k: np.array(_to_host(v)[: next(iter(values.values())).size]) for k, v in result.items()}

    from . import __version__

    identity = f"{getattr(fn, '__qualname__', fn)}|{getattr(build, '__qualname__', build)}|{__version__}|{chunk}"
    fingerprint = spec.fingerprint(identity) if checkpoint is not None else None
    store = _ChunkStore(checkpoint, fingerprint, names, spec.size, chunk)
    n_chunks = -(-spec.size // chunk)
    bar = _progress(spec.size, store.points_done(), progress)
    try:
        for i in range(n_chunks):
            if store.done(i):
                continue
            start, stop = i * chunk, min((i + 1) * chunk, spec.size)
            values = spec.points(start, stop)
            result = run(values, chunk, batched)
            if adaptive:
                redo = np.flatnonzero(_inaccurate(result))
                for first in range(0, redo.size, refine_size):  # one batch shape: one compilation
                    idx = redo[first:first + refine_size]
                    fine = run({k: v[idx] for k, v in values.items()}, refine_size, refine)
                    for k in result:
                        result[k][idx] = fine[k]
            store.write(i, start, stop, result)
            bar.update(stop - start)
    finally:
        bar.close()
    dataset = _dataset(spec, store.arrays(), constants, names)
    store.close()
    if adaptive:
        missed = int(np.sum(_inaccurate({k: dataset[k].values for k in ("J", "I", "J_error", "I_error")})))
        if missed:
            warnings.warn(f"ehpjax.sweep: {missed} of {spec.size} points miss the accuracy tolerance (see J_error, "
                          "I_error); rerun them with a finer ehpjax.FrequencyQuadrature(panels=...)", RuntimeWarning,
                          stacklevel=2)
    return dataset


@functools.lru_cache(maxsize=32)
def _evaluator(fn, build, swept: tuple, constant_names: tuple):
    """jit(vmap(fn ∘ build)) over the swept parameters, constants as (traced) arguments,
    and the sorted names of its outputs; cached, so repeated sweeps of the same shape do not
    recompile (or retrace)."""
    sharding = _batch_sharding()

    def evaluate(values, constants):
        params = dict(constants)
        params.update(values)
        out = fn(*build(params))
        return out if isinstance(out, dict) else {"value": out}

    batched = jax.jit(jax.vmap(evaluate, in_axes=(0, None)), in_shardings=({k: sharding for k in swept}, None))
    scalar = jax.ShapeDtypeStruct((), jnp.float64)
    names = sorted(jax.eval_shape(evaluate, {k: scalar for k in swept}, {k: scalar for k in constant_names}))
    return batched, names


def _progress(total, initial, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="pt", unit_scale=True, disable=not enabled,
                desc="sweep", smoothing=0.1)


class _ChunkStore:
    """Results of finished chunks: in memory, or memory-mapped in a checkpoint folder.

    The folder is the sweep's own: it must be new, empty, or a checkpoint this class wrote
    (``sweep.json`` inside). Only the files it creates are ever written or removed, and the
    folder itself only if it created it.
    """

    _META = "sweep.json"

    def __init__(self, folder, fingerprint, names, size, chunk):
        self.folder = None if folder is None else os.fspath(folder)
        self.names = names
        self.size, self.chunk = size, chunk
        if self.folder is None:
            self._arrays = {k: np.full(size, np.nan) for k in names}
            self._done = np.zeros(-(-size // chunk), dtype=bool)
            return
        meta = os.path.join(self.folder, self._META)
        info = {"fingerprint": fingerprint, "size": size, "chunk": chunk, "names": names}
        created = not os.path.exists(self.folder)
        if not created and not os.path.isdir(self.folder):
            raise SweepError(f"checkpoint {self.folder!r} exists and is not a folder")
        if not created and not os.path.exists(meta) and os.listdir(self.folder):
            raise SweepError(f"checkpoint folder {self.folder!r} is not empty and was not written by ehpjax.sweep; "
                             "give a new or empty folder (nothing in it was touched)")
        fresh = True
        if os.path.exists(meta):
            with open(meta) as fh:
                saved = json.load(fh)
            created = saved.pop("created_folder", False)
            fresh = saved != info
            if fresh:  # a different sweep's checkpoint: replace only the files it wrote
                self._remove_own_files(saved.get("names", []))
        os.makedirs(self.folder, exist_ok=True)
        mode = "w+" if fresh else "r+"
        self._arrays = {k: np.lib.format.open_memmap(os.path.join(self.folder, f"{k}.npy"), mode=mode,
                                                     dtype=np.float64, shape=(size,)) for k in names}
        self._done = np.lib.format.open_memmap(os.path.join(self.folder, "done.npy"), mode=mode, dtype=bool,
                                               shape=(-(-size // chunk),))
        self._created_folder = created
        if fresh:
            with open(meta, "w") as fh:
                json.dump({**info, "created_folder": created}, fh)

    def _remove_own_files(self, names):
        for name in [*(f"{k}.npy" for k in names), "done.npy", self._META]:
            path = os.path.join(self.folder, name)
            if os.path.isfile(path):
                os.remove(path)

    def done(self, i):
        return bool(self._done[i])

    def points_done(self):
        return sum(min(self.chunk, self.size - i * self.chunk) for i in np.flatnonzero(self._done))

    def write(self, i, start, stop, values):
        for k, v in values.items():
            self._arrays[k][start:stop] = v
        if self.folder is not None:
            for a in self._arrays.values():
                a.flush()
        self._done[i] = True  # only after the values are on disk
        if self.folder is not None:
            self._done.flush()

    def arrays(self):
        return self._arrays

    def close(self):
        """Remove the checkpoint's own files, and its folder if this class created it and it is empty."""
        if self.folder is not None:
            self._arrays = self._done = None
            self._remove_own_files(self.names)
            if self._created_folder and not os.listdir(self.folder):
                os.rmdir(self.folder)


def _dataset(spec: SweepSpec, arrays: dict, constants: dict, names: list):
    import xarray as xr

    from . import __version__

    if spec.mode == "flat":
        dims = ("point",)
        coords = {k: ("point", v) for k, v in spec.axes.items()}
    else:
        dims = tuple(spec.axes)
        coords = {k: (k, v) for k, v in spec.axes.items()}
    data = {k: (dims, np.array(arrays[k]).reshape(spec.shape), {"description": DESCRIPTIONS.get(k, k)}) for k in names}
    # (scipy's NetCDF writer stores global attributes as Python attributes: no "mode" etc.)
    attrs = {"units": UNITS, "ehpjax_version": __version__, "preset": spec.preset or "none", "sweep_mode": spec.mode,
             "fixed_parameters": json.dumps(constants, sort_keys=True)}
    for k, v in constants.items():
        attrs[f"fixed_{k}"] = float(v)
    return xr.Dataset(data, coords=coords, attrs=attrs)
