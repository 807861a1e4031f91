"""One evaluation layer: a model's outputs at many points, jit + vmap compiled once.

Figures, sweeps, the command line and design reports all evaluate ``fn(junction, modes,
baths)`` over arrays of named parameters (a model's parameters and the bath names). This
module builds that batched function once per (model, fn, names, settings) and caches it,
so repeated calls neither retrace nor recompile.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Callable, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._adaptive import AdaptiveQuadrature, refined_only_where
from ._checks import deferred_checks, deferring, raise_deferred
from ._compiled import distinct_quick_program, quick_compile
from ._currents import currents, eta_vanishes, known_damped, known_pairs, pair_mask, pairs_of_mask
from ._dataflow import depends_on_input
from ._errors import EhpjaxError
from ._quadrature import QUIET, FrequencyQuadrature
PADDING = "_padding"  # the name of the batch's padding flags (``_point``)


def currents_dict(junction, modes, baths, *, order: str = "lowest",
                  quadrature: FrequencyQuadrature | AdaptiveQuadrature = QUIET) -> dict:
    """The default outputs: every field of ``currents`` by name (``Currents.as_dict``)."""
    return currents(junction, modes, baths, order=order, quadrature=quadrature).as_dict()


def _point(model, fn: Callable | None, order: str, quadrature: FrequencyQuadrature | AdaptiveQuadrature,
           pairs: tuple | None = None, damped: bool = False) -> Callable:
    """point(values): ``model.system(values)`` from a dict of scalars, then ``fn``'s outputs
    as a dict (a scalar output is named "value"; ``fn`` defaults to ``currents_dict``, which
    evaluates only the pole ``pairs`` if given: ``_currents.known_pairs``, and leaves the
    sharp-line limit out if η is known not to vanish, ``damped``: ``known_damped``). An entry
    ``PADDING`` of ``values``, if given, marks a point that only pads the batch: the default
    rule does not refine it (``_adaptive.refined_only_where``)."""

    def point(values):
        values = dict(values)
        padding = values.pop(PADDING, None)
        junction, modes, baths = model.system(values)
        with contextlib.nullcontext() if padding is None else refined_only_where(jnp.logical_not(padding)):
            if fn is None:
                with known_pairs(pairs), known_damped(damped):
                    return currents_dict(junction, modes, baths, order=order, quadrature=quadrature)
            out = fn(junction, modes, baths)
        return out if isinstance(out, dict) else {"value": out}

    return point


class Batched(NamedTuple):
    """``run(values, constants) -> (outputs, flags)``, jitted with XLA's default settings (for
    programs that run many times); ``quick``, the same function jitted with XLA's quick settings
    (``_compiled.quick_compile``: compiles ~3.5× faster, runs 3–7× slower; for a few calls), or
    ``run`` itself where they are the same program (not on CPU, or ``XLA_FLAGS`` asking for them);
    ``messages[i]`` names the value check whose flags are ``flags[..., i]`` (filled when the function
    is first traced); ``record``, what its callers keep about it for as long as it lives (a sweep's
    choice between the two programs: ``sweeps._run._Plan._quick``)."""

    run: Callable
    messages: list
    quick: Callable
    record: dict


@functools.lru_cache(maxsize=64)
def batched(model, names: tuple[str, ...], fn: Callable | None = None, *, fixed: tuple[str, ...] = (),
            order: str = "lowest", quadrature: FrequencyQuadrature | AdaptiveQuadrature = QUIET,
            in_shardings=None, pairs: tuple | None = None, damped: bool = False) -> Batched:
    """``jit(vmap(point))(values, constants)`` where ``point`` builds ``model.system`` from the
    parameters ``names`` (``values``: a dict of equal-length arrays, the batch) and ``fixed``
    (``constants``: a dict of scalars, shared by the batch) and returns ``fn``'s outputs as a
    dict (a scalar output is named "value"; ``fn`` defaults to ``currents_dict``), together
    with the value checks as flags, one row per point (``_checks.deferring``): no host
    callback, so JAX's persistent compilation cache keeps the program (a resumed sweep does
    not compile again).

    Shared parameters stay out of the batch, so whatever depends on them only (the
    junction's pole expansion when only bath names vary) is computed once per call.
    in_shardings: the batch's sharding (the constants are replicated).
    pairs: the pole pairs to evaluate (default outputs only): ``junction_pairs`` of every junction
    of the batch, whose other pairs vanish at every point. damped: η is known not to vanish at
    any point of the batch (``modes_damped``)."""
    point, messages = deferring(_point(model, fn, order, quadrature, pairs, damped))

    def merged(values, constants):
        return point({**values, **constants})

    vmapped = jax.vmap(merged, in_axes=(0, None)) if names else merged
    shardings = {}
    if in_shardings is not None:
        replicated = jax.sharding.NamedSharding(in_shardings.mesh, jax.sharding.PartitionSpec())
        shardings = {"in_shardings": (in_shardings, replicated)}
    run = jax.jit(vmapped, **shardings)
    if not distinct_quick_program():
        return Batched(run, messages, run, {})
    return Batched(run, messages, jax.jit(vmapped, compiler_options=quick_compile(), **shardings), {})


def modes_damped(model, constants: Mapping[str, float], names: tuple[str, ...]) -> bool:
    """Whether η is known not to vanish wherever ``model.build`` takes ``constants`` (scalars) and
    any values of the parameters ``names``: η does not depend on ``names`` (the data flow of the
    build) and is not zero at the constants. Inside a compiled batch the modes are traced (the
    constants are data), so ``currents`` cannot tell by itself; with this, it leaves the sharp-line
    limit (η = 0) out of the program (``_currents.known_damped``; a Fig-3 sweep's first call took
    8.2–8.4 s instead of 8.9–9.1 s)."""
    names = tuple(sorted(n for n in names if n in model.names))
    constants = tuple(sorted((k, np.float64(v)) for k, v in constants.items() if k in model.names and k not in names))
    return _modes_damped(model, constants, names)


@functools.lru_cache(maxsize=256)
def _modes_damped(model, constants: tuple[tuple[str, np.float64], ...], names: tuple[str, ...]) -> bool:
    """``modes_damped`` of sorted (name, value) pairs, kept: a sweep asks again for the same (~3 ms)."""
    constants = dict(constants)

    def eta(x):
        with deferred_checks():  # (a check attached to η would make it depend on every checked parameter)
            return model.build({**constants, **dict(zip(names, x))})[1].eta

    try:
        if names and depends_on_input(eta, jnp.zeros(len(names))):
            return False
        with jax.ensure_compile_time_eval():
            return not eta_vanishes(model.build(constants)[1])
    except (EhpjaxError, ValueError):
        return False  # (reported by the batch's own checks)


# At most this many junctions per call of ``_junction_pair_mask``.
_MASK_CHUNK = 1024


@functools.lru_cache(maxsize=64)
def _junction_pair_mask(model, names: tuple[str, ...]) -> Callable:
    """jit((values, constants) → (``pair_mask`` of any junction of ``model.build``, any check
    failed)): the parameters ``names`` batched (equal-length arrays; none: one junction), the
    others shared (scalars)."""
    checked, _ = deferring(lambda params: pair_mask(model.build(params)[0]))

    def mask(values, constants):
        if not names:
            one, flags = checked(constants)
            return one, jnp.any(flags)
        every, flags = jax.vmap(lambda v: checked({**v, **constants}))(values)
        return jnp.any(every, axis=0), jnp.any(flags)

    return jax.jit(mask, compiler_options=quick_compile())


def junction_pairs(model, constants: Mapping[str, float], axes: Mapping[str, np.ndarray] | None = None,
                   mode: str = "product"):
    """``_currents.nonzero_pairs`` of every junction that ``model.build`` makes from ``constants``
    (scalars) and the model parameters ``axes`` (1-D arrays: every combination of their values in
    ``mode`` "product", their aligned elements in "flat"; none: one junction): the pairs nonzero in
    any of them, so that in each junction every other pair vanishes exactly. None where a
    junction fails a check, or when too many pairs remain. The junctions are made chunk by chunk
    (at most ``_MASK_CHUNK`` at a time, padded to a power of two: few programs)."""
    axes = {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in (axes or {}).items()}
    constants = {k: np.float64(v) for k, v in constants.items() if k not in axes}  # (the axes win)
    if not axes:
        return _pairs_of_one(model, tuple(sorted(constants.items())))
    run = _junction_pair_mask(model, tuple(sorted(axes)))
    shape = tuple(v.size for v in axes.values())
    size = math.prod(shape) if mode == "product" else shape[0]
    step = min(_MASK_CHUNK, 1 << max(size - 1, 0).bit_length())
    mask, failed = None, False
    for start in range(0, size, step):
        index = np.minimum(np.arange(start, start + step), size - 1)  # (the last junction repeated)
        where = np.unravel_index(index, shape) if mode == "product" else [index] * len(axes)
        part, flag = (np.asarray(x) for x in run({k: v[i] for (k, v), i in zip(axes.items(), where)}, constants))
        mask, failed = part if mask is None else mask | part, failed or bool(flag)
    return None if mask is None else pairs_of_mask(mask, failed)


@functools.lru_cache(maxsize=256)
def _pairs_of_one(model, constants: tuple[tuple[str, np.float64], ...]):
    """``junction_pairs`` of the one junction of ``constants`` (sorted (name, value) pairs), kept:
    a sweep over bath names asks again for the same junction (half a millisecond each time)."""
    return pairs_of_mask(*_junction_pair_mask(model, ())({}, dict(constants)))


@functools.lru_cache(maxsize=64)
def _checked_batched(model, names: tuple[str, ...], fn: Callable | None, order: str, quadrature: FrequencyQuadrature):
    """``batched`` with the value checks returned as flags (``_checks.deferring``): a
    program without host callbacks, which JAX's persistent compilation cache keeps (so
    that a second ``ehpjax currents`` in a shell does not compile again), compiled with
    ``quick_compile``'s options (the command line's points and the figures' curves)."""
    point, messages = deferring(_point(model, fn, order, quadrature))
    compiled = jax.jit(jax.vmap(point) if names else point, compiler_options=quick_compile())

    def run(values):
        out, flags = compiled(values)
        raise_deferred(flags, messages)
        return out

    return run


def evaluate(model, params: Mapping[str, object], fn: Callable | None = None, *, order: str = "lowest",
             quadrature: FrequencyQuadrature = QUIET) -> dict[str, np.ndarray]:
    """Evaluate at points given by broadcastable arrays of parameters and bath names;
    returns NumPy arrays of the broadcast shape, one per output. A value that fails a
    check (a temperature ≤ 0, a level the leads do not broaden, …) raises ``EhpjaxError``."""
    names = tuple(sorted(params))
    if not names:  # nothing varies: one point
        return {k: np.asarray(v) for k, v in _checked_batched(model, (), fn, order, quadrature)({}).items()}
    arrays = np.broadcast_arrays(*(np.asarray(params[k], dtype=np.float64) for k in names))
    shape = arrays[0].shape if arrays else ()
    flat = {k: jnp.asarray(a.reshape(-1)) for k, a in zip(names, arrays)}
    out = _checked_batched(model, names, fn, order, quadrature)(flat)
    return {k: np.asarray(v).reshape(shape + np.shape(v)[1:]) for k, v in out.items()}
