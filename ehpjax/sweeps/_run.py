"""Running a sweep: chunks of points through one compiled, sharded evaluator.

Points are evaluated in chunks by ``_evaluate.batched`` (jit + vmap, compiled once per
model, names and settings); each chunk's batch axis is sharded over all devices
(``jax.sharding``), so several CPUs/GPUs, and several hosts under ``jax.distributed``, share
the work. Results go to a ``ChunkStore``: in memory, or a checkpoint folder that lets an
interrupted sweep resume. ``sweep`` returns an xarray Dataset; ``sweep_to_file`` streams
the results into a NetCDF file without holding them in memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import math
import os
import shutil
import time
import warnings
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .. import __version__
from .._adaptive import MORE_SPLITS, AdaptiveQuadrature
from .._currents import currents_miss
from .._errors import EhpjaxError
from .._compiled import quick_limit
from .._evaluate import PADDING, batched, junction_pairs, modes_damped
from .._quadrature import QUIET, FrequencyQuadrature, same_values
from .._quantities import QUANTITIES, UNITS_NOTE
from ..models import BATH_NAMES
from . import _identity, _netcdf
from ._atomic import atomic_path, check_output
from ._spec import SweepError, SweepSpec, point_model, resolve_model
from ._store import ChunkStore

# The accuracy path of the default outputs: every point with a 4-panel frequency rule, then
# the points whose error estimate misses the tolerance again with the default rule (inside the
# same program for the lowest order, as ``currents``' default ``AdaptiveQuadrature`` does, which
# goes on to 40 panels and splits; for the dressed order in a second program, whose rule also goes on
# to 40 panels and splits), and those still missing it with the default rule's splits up to 16 times
# (narrow features: small widths or temperatures; ``_adaptive.MORE_SPLITS``, where 100 panels, the
# escalation before, cleared none of the points the splits leave flagged).
COARSE = AdaptiveQuadrature().coarse  # 4 panels, no warning
FINE = MORE_SPLITS
RTOL = FrequencyQuadrature().rtol
COARSE_ACCEPT = AdaptiveQuadrature().accept
# A sweep skips the vanishing pole pairs of its junctions when it has at least this many points
# per junction (505 random two-level junctions, flat: the pairs cost 5 ms and saved 6.6 ms).
_POINTS_PER_JUNCTION = 4
DEFAULT_CHUNK = 512  # points per call: cache-friendly on CPU (bench_sweep.py); on a GPU pass more
MAX_CHUNK = 8192  # points per device and call at most (larger batches stalled XLA's CPU executor)
_SMALL = 1 << 26  # bytes of results that need no look at the free memory (64 MB)
# A sweep's program is compiled with XLA's quick settings (``_Plan._quick``) up
# to ``quick_points(levels)`` points: there the compile saves more than the slower program costs. On the
# 2-core KVM Xeon, first calls in fresh interpreters, quick against XLA's defaults: the two-level model
# over level splitting × bias, 2501 points 7.1 s against 19.6 s and 9801 points 9.1 s against 22.1 s
# (one core); the serial chain over V, 3 levels and 505 points 8.1 s against 15.1 s (compiling 2.7 s
# against 11.0 s, its program then 0.60 s against 0.09 s); 4 levels, 2048 points, 10.4 s against
# 12.2 s, and 512 points 9.8 s against 23.8 s (one core); 5 levels, 256 points, 9.1 s against 23.8 s;
# 6 levels, 128 points, 8.5 s against 22.7 s.
QUICK_POINTS = 8192  # (two levels; a quarter as many for each further level)


def quick_points(levels: int) -> int:
    """The most points of a junction of ``levels`` levels whose sweep compiles quickly (above)."""
    return quick_limit(levels, QUICK_POINTS)


# The same sweep run again (the same evaluator) keeps the quickly compiled program until its later runs
# have taken QUICK_RENT times as long as its first run, which compiled it; then it compiles the program
# with XLA's defaults (3–7× faster to run, 3–4× slower to compile). As in renting before buying: a sweep
# called a few times never pays the slow compile, and one called many times pays at most about twice
# what the better choice in hindsight would have cost. (The 505-point Fig-3 sweep in a fresh
# interpreter: its first call 5.1–5.7 s, the compile of XLA's defaults 7.4 s, a quick run 32 ms against
# 12 ms. Its calls took in all, with a switch at the second call / with this rent: 2 calls 12.6 / 5.7 s,
# 10 calls 12.7 / 6.0 s, 100 calls 13.4 / 8.9 s, 600 calls 17.3 / 22.6 s.)
QUICK_RENT = 2.0
_UNSET = object()


@functools.lru_cache(maxsize=1)
def _batch_sharding():
    """Sharding of a 1-D batch over every device of every process (a 1-D mesh)."""
    mesh = jax.make_mesh((jax.device_count(),), ("batch",), axis_types=(jax.sharding.AxisType.Auto,))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))


def _passed_sharding(sharding):
    """The sharding of the chunks ``_to_global`` passes: None on one process, where they stay host
    arrays that the evaluator's jit places by its ``in_shardings`` (a Fig-3 chunk 0.5 ms sooner than
    through ``jax.device_put``)."""
    return None if jax.process_count() == 1 else sharding


def _to_global(arrays: dict, sharding) -> dict:
    """Host chunks (1-D arrays by name) → the evaluator's inputs: global sharded arrays, each process
    contributing its slice (on one process the host arrays themselves, ``_passed_sharding``)."""
    if _passed_sharding(sharding) is None:
        return arrays
    index, count = jax.process_index(), jax.process_count()

    def one(array):
        per_process = array.shape[0] // count
        local = array[index * per_process:(index + 1) * per_process]
        return jax.make_array_from_process_local_data(sharding, local, array.shape)

    return {k: one(v) for k, v in arrays.items()}


@functools.lru_cache(maxsize=64)
def _replicated(values: tuple, sharding) -> dict:
    """Host scalars ((name, value) pairs) → global arrays by name, replicated on every device of
    the batch ``sharding``'s mesh (every process gives the same values). Kept: a sweep that
    repeats another's constants does not transfer them again (0.6 ms)."""
    replicated = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())
    scalars = {k: np.float64(v) for k, v in values}
    if jax.process_count() == 1:
        return jax.device_put(scalars, replicated)
    return {k: jax.make_array_from_process_local_data(replicated, np.asarray(v), ()) for k, v in scalars.items()}


def _to_host(array) -> np.ndarray:
    if jax.process_count() == 1:
        return np.asarray(array)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(array, tiled=True))


def _check_chunk_size(chunk_size) -> int:
    if isinstance(chunk_size, (bool, np.bool_)) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise SweepError(f"chunk_size must be a positive integer (points per call), got {chunk_size!r}")
    return int(chunk_size)


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 62


def _gb(n: int) -> str:
    return f"{n / 1e9:.3g} GB"


class _Plan:
    """A checked sweep: spec, compiled evaluators, output names and fingerprint."""

    def __init__(self, axes, *, model, fixed, mode, fn, order, chunk_size, name, preset, build,
                 quadrature=None):
        if build is not None and model != "two-level":
            raise SweepError("give either model= or the legacy build=, not both")
        if preset is not _UNSET and preset is not None and preset not in ("paper",):
            raise SweepError(f"unknown preset {preset!r} (known: paper)")
        if preset == "paper" and model != "two-level":
            raise SweepError("preset 'paper' is the two-level model; leave it out to sweep another model")
        if order not in ("lowest", "dressed"):
            raise SweepError(f"order must be 'lowest' or 'dressed', got {order!r}")
        self.model = resolve_model(model)
        self.spec = SweepSpec(self.model, dict(axes) if isinstance(axes, dict) else axes, dict(fixed or {}),
                              mode, complete=preset is None)
        self.order, self.fn, self.preset = order, fn, (None if preset is _UNSET else preset)
        self.point = point_model(self.model, build)
        self.constants = self.spec.constants
        self.names = tuple(sorted(self.spec.axes))  # batched; the constants are shared by every point
        self.fixed = tuple(sorted(self.constants))
        n_devices = jax.device_count()
        chunk = min(_check_chunk_size(chunk_size), MAX_CHUNK * n_devices, self.spec.size)
        self.chunk = -(-chunk // n_devices) * n_devices
        self.refine_size = -(-max(1, self.chunk // 64) // n_devices) * n_devices
        self.sharding = _batch_sharding()
        if quadrature is not None:
            if fn is not None:
                raise SweepError("quadrature sets the rule of the default outputs; a custom fn computes its own")
            if not isinstance(quadrature, (FrequencyQuadrature, AdaptiveQuadrature)):
                raise SweepError(f"quadrature must be an ehpjax.FrequencyQuadrature or AdaptiveQuadrature, "
                                 f"got {quadrature!r}")
        self.adaptive = fn is None and quadrature is None
        self.rule = quadrature  # (the caller's: its tolerance and warning; None: the sweep's own path)
        quadrature = QUIET if quadrature is None else _quiet(quadrature)
        make = functools.partial(batched, self.point, self.names, fn, fixed=self.fixed, order=order,
                                 in_shardings=self.sharding, pairs=self._junction_pairs(fn, order),
                                 damped=fn is None and order == "lowest" and self.point.build is None
                                 and modes_damped(self.model, self.constants, tuple(self.spec.axes)))
        if not self.adaptive:
            self.evaluate, self.refine = make(quadrature=quadrature), []
        elif order == "lowest":  # coarse, then the default rule, in one program (``AdaptiveQuadrature``)
            self.evaluate = make(quadrature=AdaptiveQuadrature(fine=quadrature))
            self.refine = [(make(quadrature=FINE), RTOL)]
        else:  # the dressed currents' own rule has no 4-panel pass: that one from here, then their rule
            self.evaluate = make(quadrature=COARSE)
            self.refine = [(make(quadrature=AdaptiveQuadrature(fine=quadrature)), RTOL * COARSE_ACCEPT),
                           (make(quadrature=FINE), RTOL)]
        self.quick = self._quick()
        self.outputs = self._outputs()
        self._identity = (fn, name, quadrature)

    def _quick(self) -> bool:
        """Whether this sweep's programs are compiled with XLA's quick settings (``_evaluate.Batched``):
        for a sweep of at most ``quick_points`` points, until the runs of its evaluator (the same model,
        names, outputs and settings) after the first have taken ``QUICK_RENT`` times as long as the first
        (``_rented``); from then on the program compiled with XLA's defaults, which runs 3–7× faster."""
        spent = self.evaluate.record.get("spent")  # [its first run's seconds, its later quick runs' seconds]
        if spent is not None and spent[1] >= QUICK_RENT * spent[0]:
            return False
        if self.spec.size > QUICK_POINTS or self.evaluate.quick is self.evaluate.run:
            return False
        levels = self._levels()
        return levels is not None and self.spec.size <= quick_points(levels)

    def _levels(self) -> int | None:
        """The number of levels of this sweep's junction, from its shapes (traced once per evaluator:
        ~14 ms, several times a quick run's host work); None where the build cannot be traced alone
        (the sweep's own checks report it)."""
        record = self.evaluate.record
        if "levels" not in record:
            one = {k: jax.ShapeDtypeStruct((), jnp.float64) for k in (*self.names, *self.fixed)}
            try:
                record["levels"] = jax.eval_shape(self.point.system, one)[0].H.shape[-1]
            except Exception:  # noqa: BLE001
                record["levels"] = None
        return record["levels"]

    def _program(self, evaluate):
        """``evaluate``'s jitted function for this sweep (``_quick``)."""
        return evaluate.quick if self.quick else evaluate.run

    def _rented(self, seconds: float):
        """Count a run of ``seconds`` against the quick program's rent (``_quick``): the first run of the
        evaluator sets the scale, later quick runs add to what was spent; a run with XLA's defaults ends
        the rent (the better program is compiled). With several processes, whose timings differ, the
        rent ends after the first run, so that every process runs the same program."""
        record = self.evaluate.record
        spent = record.get("spent")
        if not self.quick or jax.process_count() > 1:
            record["spent"] = [0.0, math.inf]
        elif spent is None:
            record["spent"] = [seconds, 0.0]
        else:
            spent[1] += seconds

    def _junction_pairs(self, fn, order):
        """``nonzero_pairs`` of the junctions of the sweep, for the default outputs at lowest order
        (else None: every pole pair): the pairs nonzero at any point, so that at every point the
        others vanish exactly. The junctions are those of the swept model parameters (their
        product, or their points in flat mode) with the constants; one when only bath names vary.
        Finding a junction's pairs costs about what skipping them saves at one point, so a sweep
        with fewer than ``_POINTS_PER_JUNCTION`` points per junction uses every pair (a flat sweep
        counts its distinct junctions, e.g. of a grid given point by point)."""
        if fn is not None or order != "lowest" or self.point.build is not None:
            return None
        axes = {k: v for k, v in self.spec.axes.items() if k not in BATH_NAMES}
        flat = self.spec.mode == "flat"
        if flat and axes:
            distinct = np.unique(np.stack(list(axes.values()), axis=1), axis=0)
            axes = dict(zip(axes, distinct.T))
        junctions = (len(next(iter(axes.values()))) if flat else math.prod(v.size for v in axes.values())) if axes else 1
        if junctions * _POINTS_PER_JUNCTION > self.spec.size:
            return None
        constants = {k: v for k, v in self.constants.items() if k not in BATH_NAMES}
        try:
            return junction_pairs(self.model, constants, axes, "flat" if flat else "product")
        except EhpjaxError:
            return None  # (reported by the sweep's own checks)

    @functools.cached_property
    def _constant_arrays(self) -> dict:
        """The constants on the devices, replicated: put there once per sweep, not per call."""
        return dict(_replicated(tuple(sorted((k, float(v)) for k, v in self.constants.items())), self.sharding))

    @functools.cached_property
    def fingerprint(self) -> str:
        """Digest of everything that determines the values (computed for checkpoints only)."""
        return self._fingerprint(*self._identity)

    def _outputs(self) -> list[str]:
        """Output names, checked to be real scalars per point (traced once, nothing computed)."""
        shapes = _output_shapes(self._program(self.evaluate), self.names, self.fixed, self.chunk, self.sharding)
        for key, s in shapes.items():
            if jnp.issubdtype(s.dtype, jnp.complexfloating):
                raise SweepError(f"output {key!r} of fn is complex; sweeps store real numbers: return its real "
                                 f"and imaginary parts as two outputs (e.g. {key}_re, {key}_im)")
            if s.shape != (self.chunk,):
                raise SweepError(f"output {key!r} of fn has shape {s.shape[1:]} per point; sweeps need one "
                                 "scalar per output and point")
        return sorted(shapes)

    def _fingerprint(self, fn, name, quadrature) -> str:
        if fn is None:
            fn_id = "currents"
        elif name is not None:
            fn_id = f"name:{name}"
        else:
            try:
                fn_id = _identity.callable_digest(fn)
            except _identity.Unhashable as err:
                raise SweepError(f"cannot identify fn for the checkpoint ({err}); pass name='...' naming what it "
                                 "computes (change the name whenever fn changes)") from None
        build = self.point.build
        document = {
            "model": _identity.model_digest(self.model),
            "build": None if build is None else _identity.callable_digest(build),
            "fn": fn_id, "order": self.order, "adaptive": [COARSE.panels, f"{FINE.splits} splits"] if self.adaptive else None,
            "quadrature": {f: getattr(quadrature, f) for f in quadrature.__dataclass_fields__},
            "axes": {k: v.tolist() for k, v in self.spec.axes.items()}, "mode": self.spec.mode,
            "constants": self.constants, "outputs": self.outputs, "chunk": self.chunk, "version": __version__,
        }
        return _identity.fingerprint(document)

    # -- resources ------------------------------------------------------------------
    def check_room(self, *, memory: bool, disk_folder: str | None, output: bool):
        """Refuse a sweep whose results do not fit in memory (``memory``) or on disk."""
        per_copy = self.spec.size * len(self.outputs) * 8
        if memory and per_copy > _SMALL and per_copy > 0.8 * _available_memory():
            raise SweepError(f"the sweep has {self.spec.size:,} points × {len(self.outputs)} outputs = {_gb(per_copy)} "
                             f"of results, more than the available memory ({_gb(_available_memory())}); use fewer "
                             "points, or `ehpjax sweep` (streams to a file)")
        if disk_folder is not None:
            need = per_copy * (2 if output else 1)
            probe = os.path.abspath(disk_folder)
            while not os.path.exists(probe):
                probe = os.path.dirname(probe)
            free = shutil.disk_usage(probe).free
            if need > free:
                raise SweepError(f"the sweep needs {_gb(need)} on disk (checkpoint{' and output' if output else ''}) "
                                 f"but only {_gb(free)} are free at {probe!r}; use fewer points or another folder")

    # -- running ----------------------------------------------------------------------
    def _call(self, evaluate, values: dict, size: int) -> dict:
        """``evaluate`` (``_evaluate.Batched``) at the points ``values``, padded to ``size``;
        a failed value check raises SweepError naming the first point where it failed."""
        n = next(iter(values.values())).size
        padded = {k: np.pad(np.asarray(values[k], dtype=np.float64), (0, size - n), mode="edge") for k in self.names}
        padded[PADDING] = np.arange(size) >= n  # (repeats of the last point: not refined in the program)
        try:
            with _quiet_value_checks():
                result, flags = self._program(evaluate)(_to_global(padded, self.sharding), self._constant_arrays)
                failed = _to_host(flags)[:n]  # (point, check)
                result = {k: np.array(_to_host(v)[:n], dtype=np.float64) for k, v in result.items()}
        except (jax.errors.JaxRuntimeError, ValueError) as err:
            # a value check that ``fn`` itself compiled in (eqx.error_if) failed at some point of the chunk
            marker = "EquinoxRuntimeError: "
            if marker not in str(err):
                raise
            reason = str(err).split(marker, 1)[1].split("\n", 1)[0].strip()
            ranges = ", ".join(f"{k} in [{np.min(v):g}, {np.max(v):g}]" for k, v in values.items())
            raise SweepError(f"invalid value at a point with {ranges}: {reason}") from None
        for check, message in enumerate(evaluate.messages):
            bad = np.flatnonzero(failed[:, check])
            if bad.size:
                first = ", ".join(f"{k} = {v[bad[0]]:g}" for k, v in values.items())
                raise SweepError(f"invalid value at {bad.size} of {n} points, the first with {first}: {message}")
        return result

    def compute_chunk(self, i: int) -> dict:
        start, stop = i * self.chunk, min((i + 1) * self.chunk, self.spec.size)
        values = self.spec.points(start, stop)
        result = self._call(self.evaluate, values, self.chunk)
        # the points missing the tolerance, with finer rules; the coarse rule's estimate must be
        # well inside it (its estimate can be low by up to 10×, see AdaptiveQuadrature.accept)
        for refine, rtol in self.refine:
            redo = np.flatnonzero(_inaccurate(result, rtol))
            for first in range(0, redo.size, self.refine_size):  # one batch shape: one compilation
                idx = redo[first:first + self.refine_size]
                fine = self._call(refine, {k: v[idx] for k, v in values.items()}, self.refine_size)
                for k in result:
                    result[k][idx] = fine[k]
        return result

    def run(self, store: ChunkStore, progress: bool):
        """Compute every chunk not yet in ``store``; a failure before the first finished
        chunk removes a checkpoint this call created."""
        done = store.done_mask()
        if jax.process_count() > 1:  # every process must run the same chunks
            from jax.experimental import multihost_utils

            done = np.asarray(multihost_utils.broadcast_one_to_all(done))
        todo = np.flatnonzero(~done)
        bar = _progress(self.spec.size, self.spec.size - sum(
            min(self.chunk, self.spec.size - i * self.chunk) for i in todo), progress and jax.process_index() == 0)
        start = time.perf_counter()
        try:
            for i in todo:
                store.write(int(i), self.compute_chunk(int(i)))
                bar.update(min(self.chunk, self.spec.size - int(i) * self.chunk))
        except SweepError:
            if store.points_done() == 0:
                store.close(remove=True)
            raise
        finally:
            bar.close()
            if todo.size:
                self._rented(time.perf_counter() - start)
        if self.order == "dressed" and "stable" in self.outputs and store.keeps:
            unstable = _count_unstable(store)
            if unstable:
                warnings.warn(f"ehpjax.sweep: the junction is unstable at {unstable} of {self.spec.size} points "
                              "(stable = 0): no steady state there, so their currents mean "
                              "nothing (growth_rate is NaN where not known; ehpjax.dressed_modes "
                              "searches further)", RuntimeWarning, stacklevel=3)
        checked = self.adaptive or (self.rule is not None and self.rule.warn)  # (a rule comes without fn)
        if checked and store.keeps:
            missed = _count_missed(store, RTOL if self.adaptive else self.rule.rtol)
            if missed:
                where = (f"after {FINE.splits} splits of the default rule" if self.adaptive
                         else "on the given quadrature")
                warnings.warn(f"ehpjax.sweep: {missed} of {self.spec.size} points miss the accuracy tolerance "
                              f"(see J_error, I_error), {where}: their features are narrower than the rule "
                              "resolves (far outside the promised range, docs/physics.md §8), and J_error, I_error "
                              "say by how much (infinite: unknown, a feature narrower than float64 resolves in ω); a "
                              "rule of your own (quadrature=) may do better",
                              RuntimeWarning, stacklevel=3)

    # -- results ----------------------------------------------------------------------
    def attrs(self) -> dict:
        """Global attributes (scipy's NetCDF writer stores them as Python attributes: no "mode" etc.)."""
        model = self.model
        attrs = {"units": UNITS_NOTE, "ehpjax_version": __version__, "model": model.name,
                 "model_source": str(model.source), "model_description": model.description,
                 "sweep_mode": self.spec.mode, "order": self.order, "preset": self.preset or "none",
                 "fixed_parameters": json.dumps(self.constants, sort_keys=True)}
        if self.point.build is not None:
            attrs["build"] = getattr(self.point.build, "__qualname__", repr(self.point.build))
        for k, v in self.constants.items():
            attrs[f"fixed_{k}"] = float(v)
        return attrs

    def variable_attrs(self, name: str) -> dict:
        q = QUANTITIES.get(name)
        if q is None:
            return {"long_name": name}
        return {"units": q["unit"], "long_name": q["description"]}

    def coords(self) -> dict:
        """name → (dimension, values, attributes) of the swept names."""
        dim = "point" if self.spec.mode == "flat" else None
        return {k: (dim or k, v, self.spec.describe(k)) for k, v in self.spec.axes.items()}

    def dataset(self, store: ChunkStore, extra_attrs: dict | None = None):
        import xarray as xr

        data = {k: (self.spec.dims, store.read(k).reshape(self.spec.shape), self.variable_attrs(k))
                for k in self.outputs}
        coords = {k: (d, v, a) for k, (d, v, a) in self.coords().items()}
        return xr.Dataset(data, coords=coords, attrs={**self.attrs(), **(extra_attrs or {})})

    def write_netcdf(self, store: ChunkStore, path: str, extra_attrs: dict | None = None):
        """Stream the results from ``store`` into a NetCDF file (no copy of them in memory)."""
        dims = {d: n for d, n in zip(self.spec.dims, self.spec.shape)}
        variables = []
        for k, (d, v, a) in self.coords().items():
            variables.append((k, (d,), a, lambda start, stop, v=v: v[start:stop]))
        for k in self.outputs:
            variables.append((k, self.spec.dims, self.variable_attrs(k),
                              lambda start, stop, k=k: store.read(k, start, stop)))
        _netcdf.write(path, dims, variables, {**self.attrs(), **(extra_attrs or {})})


@contextlib.contextmanager
def _quiet_value_checks():
    """Silence JAX's log of a failed value check that ``fn`` compiled in (it becomes a
    SweepError naming the values)."""
    logger = logging.getLogger("jax._src.callback")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@functools.lru_cache(maxsize=64)
def _output_shapes(evaluate, names: tuple, fixed: tuple, chunk: int, sharding) -> dict:
    """Shapes of ``evaluate``'s outputs for a chunk. The abstract inputs carry the shardings of
    the chunks that ``_Plan._call`` passes (``_passed_sharding``), so the first chunk reuses this trace."""
    replicated = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())
    passed = _passed_sharding(sharding)
    abstract = {k: jax.ShapeDtypeStruct((chunk,), jnp.float64, sharding=passed) for k in names}
    abstract[PADDING] = jax.ShapeDtypeStruct((chunk,), jnp.bool_, sharding=passed)
    constants = {k: jax.ShapeDtypeStruct((), jnp.float64, sharding=replicated) for k in fixed}
    return jax.eval_shape(evaluate, abstract, constants)[0]


def _inaccurate(result: dict, rtol: float = RTOL) -> np.ndarray:
    """Points whose estimated quadrature error misses the tolerance of ``currents``."""
    return currents_miss(result["J"], result["J_error"], result["I"], result["I_error"], rtol)


def _count_missed(store: ChunkStore, rtol: float = RTOL) -> int:
    missed = 0
    for start in range(0, store.size, _netcdf.SLAB):
        stop = min(start + _netcdf.SLAB, store.size)
        missed += int(np.sum(_inaccurate({k: store.read(k, start, stop) for k in ("J", "I", "J_error", "I_error")},
                                         rtol)))
    return missed


def _quiet(rule):
    """``rule`` without its warning (a sweep's programs have no host callback; it counts the
    points that miss the tolerance itself); a fixed rule's tolerance, which changes none of its
    values, left out too (``same_values``: one program for every tolerance)."""
    if isinstance(rule, AdaptiveQuadrature):  # (its tolerance decides what it refines)
        return dataclasses.replace(rule, fine=dataclasses.replace(rule.fine, warn=False))
    return same_values(rule)


def _count_unstable(store: ChunkStore) -> int:
    return sum(int(np.sum(store.read("stable", start, min(start + _netcdf.SLAB, store.size)) == 0))
               for start in range(0, store.size, _netcdf.SLAB))


class _NoProgress:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total, initial, enabled):
    if not enabled:
        return _NoProgress()  # (a disabled tqdm still costs 0.1 ms to make)
    from tqdm.auto import tqdm

    # (disable=None: no bar where the output is not a terminal, e.g. a log file; notebooks show it)
    return tqdm(total=total, initial=initial, unit="pt", unit_scale=True, desc="sweep", smoothing=0.1, disable=None)


def sweep(
    axes: dict,
    *,
    model="two-level",
    fixed: dict | None = None,
    mode: str = "product",
    fn: Callable | None = None,
    order: str = "lowest",
    chunk_size: int = DEFAULT_CHUNK,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    name: str | None = None,
    preset=_UNSET,
    build: Callable | None = None,
    quadrature=None,
):
    """Evaluate a model over named parameter axes; return an xarray Dataset.

    axes: {name: values}; fixed: {name: value}. Names are the model's parameters and the
    bath names mu0, V, mu_L, mu_R, T_e, T_ph (docs/physics.md §11); every name not given
    takes the model's default (``model.defaults``, ``model.baths``). model: a built-in name
    ("two-level", the paper's model; "serial-chain", …), a model file (``*.toml``) or an
    ``ehpjax.Model``. Values are checked against the model's bounds (temperatures > 0)
    before anything runs.

    mode "product": the cartesian product of the axes (one dimension per axis); "flat":
    equally long axes listing the points (one dimension, "point").

    Outputs: by default every field of ``currents(..., order=order)`` (J, I, I_elastic, P,
    entropy_production, J_error, I_error, J_LL … J_LR, N_LL … N_LR); points are first
    computed with a 4-panel frequency rule and those whose error estimate misses the
    tolerance (1e-6 relative, docs/physics.md §8) again with the default rule, then with
    its splits up to 16 times; a warning counts the points still missing it. ``quadrature``
    (an ``ehpjax.FrequencyQuadrature`` or ``AdaptiveQuadrature``) replaces that path: every point
    on the given rule (e.g. ``FrequencyQuadrature(panels=40)``), a warning counting those that
    miss its tolerance (``warn=False``: none).
    ``fn(junction, modes, baths)`` replaces the outputs by a dict of real scalars (or one scalar,
    named "value").

    chunk_size points per jitted call (default 512; at most 8192 per device; rounded up
    to a multiple of the device count; the last chunk is padded so nothing recompiles);
    each chunk's batch axis is sharded over all devices and processes. A sweep's first run in
    a process, of at most 8192 points of a two-level junction (a quarter as many for each further
    level), is compiled with XLA's quick settings (about 2.5× sooner, running 3–7× slower); the same
    sweep called again keeps that program until its later runs have taken twice as long as its first,
    then compiles with XLA's defaults (the values agree within the rule's error estimate). With
    ``checkpoint`` (a folder: new, empty, or one this function wrote), finished chunks are
    kept there, verified on resume (damaged ones are computed again, with a warning) and
    removed once the sweep is complete. The checkpoint is resumed only by the same sweep:
    model, values, outputs and settings; a custom ``fn`` is identified by its code, or by
    ``name`` (required when its code cannot be digested).

    Several processes (``jax.distributed``): every process calls ``sweep`` with the same
    arguments; each computes its share of every chunk and all return the same Dataset.
    Only process 0 writes the checkpoint (on a resume, the other processes' Dataset holds
    only the points computed in this run).

    Legacy forms (the two-level model only): ``preset="paper"`` (the default values,
    which are the model's defaults) or ``preset=None`` (every parameter must be given);
    ``build=f`` with ``f(params) -> (Junction, Modes, Baths)`` of the same names.
    """
    plan = _Plan(axes, model=model, fixed=fixed, mode=mode, fn=fn, order=order, chunk_size=chunk_size,
                 name=name, preset=preset, build=build, quadrature=quadrature)
    plan.check_room(memory=True, disk_folder=None if checkpoint is None else os.fspath(checkpoint), output=False)
    writer = checkpoint is not None and jax.process_index() == 0
    store = ChunkStore(checkpoint if writer else None, plan.fingerprint if writer else "", plan.outputs,
                       plan.spec.size, plan.chunk)
    try:
        plan.run(store, progress)
        dataset = plan.dataset(store)
    except BaseException:
        store.close()  # finished chunks stay for a resume
        raise
    store.close(remove=True)
    return dataset


def sweep_to_file(
    out: str | os.PathLike,
    axes: dict,
    *,
    overwrite: bool = False,
    checkpoint: str | os.PathLike | None = None,
    attrs: dict | None = None,
    progress: bool = True,
    **options,
) -> str:
    """Run a sweep (the keywords of ``sweep``) into the NetCDF file ``out``, streaming.

    Memory depends on the chunk size, not on the number of points. Finished chunks are
    kept in ``checkpoint`` (default ``OUT.partial/``), which is removed only once ``out``
    is complete and on disk. ``out`` is written atomically; an existing file is replaced
    only with ``overwrite`` (and never something that is not a regular file). ``attrs``
    are added to the file's global attributes. Returns the path written."""
    out = os.fspath(out)
    check_output(out, overwrite)
    checkpoint = f"{out}.partial" if checkpoint is None else os.fspath(checkpoint)
    if os.path.abspath(checkpoint) == os.path.abspath(out):
        raise SweepError("the checkpoint folder and the output file must differ")
    plan = _Plan(axes, **{"model": "two-level", "fixed": None, "mode": "product", "fn": None, "order": "lowest",
                          "chunk_size": DEFAULT_CHUNK, "name": None, "preset": _UNSET, "build": None, **options})
    plan.check_room(memory=False, disk_folder=os.path.dirname(os.path.abspath(out)), output=True)
    writer = jax.process_index() == 0  # the other processes compute their share and keep nothing
    store = ChunkStore(checkpoint if writer else None, plan.fingerprint if writer else "", plan.outputs,
                       plan.spec.size, plan.chunk, keep=writer)
    try:
        plan.run(store, progress)
        if writer:
            with atomic_path(out, overwrite) as tmp:
                plan.write_netcdf(store, tmp, attrs)
    except BaseException:
        with contextlib.suppress(Exception):
            store.close()
        raise
    store.close(remove=True)  # only now: the output is complete and fsync'ed
    return out
