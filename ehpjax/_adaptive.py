"""Coarse first, fine where needed: the default ω rule of ``currents``, batched.

Every point is computed with a coarse rule; the points whose error estimate misses the
tolerance are recomputed with a fine rule, and those it still misses with the fine rule on each
of a few equal parts of its range (a finer rule made of the fine rule's code: one copy of it in
the program), then, while they still miss, with the part of largest error cut into parts again.
Under ``vmap`` a ``lax.cond`` on a batched flag becomes a select that runs every
rule for every point, so the batched call has a rule of its own
(``jax.custom_batching.custom_vmap``): the whole batch on the coarse rule, then the flagged
entries (a point on the whole range, or on one part) gathered into a buffer of fixed size and
recomputed there, as many passes as there are entries to fill it (none when nothing is
flagged). One point is a batch of one. A vmap around a vmap is flattened into one batch first.
On one CPU device, a batch of more than ``_CHUNK`` points is cut into equal chunks, each done
so, one after another.

Derivatives (``jax.custom_jvp``) are those of the fine rule on the whole range, so that a
gradient's accuracy does not depend on which other points share the batch.

``report`` runs a host check once per call, with the whole batch, however many vmaps
surround it (a host callback alone would run once per point).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from typing import Callable, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap

from ._compiled import on_automatic_axes
from ._errors import EhpjaxError
from ._quadrature import WHOLE, FrequencyQuadrature


class AdaptiveQuadrature(eqx.Module):
    """The default ω rule of ``currents``: every point on ``coarse``; the points whose
    estimated error exceeds ``accept`` · ``fine.rtol`` · max(|value|, 1e-4) again on ``fine``;
    those whose estimate then still exceeds ``fine.rtol`` · max(|value|, 1e-4) on ``fine``'s panels
    in each of ``parts`` equal parts of the mapped variable's range (``parts`` × ``fine.panels``
    panels; docs/physics.md §5).

    coarse, fine: the two fixed rules (``FrequencyQuadrature``); the tolerance and the
        warning are those of ``fine`` (a warning names the points ``fine`` still misses).
        (On a junction known where ``currents`` is traced, the values of both are computed
        without blocks, the derivatives in ``fine``'s: ``FrequencyQuadrature.block``.)
    accept: margin on the coarse rule's estimate. On 1600 random models in the range of
        docs/physics.md §8, the 4-panel estimate was up to 10× below the true error
        (paper model at V = 3, T = 0.1: estimate 3.7e-7, error 3.5e-6); with 0.1 every
        kept coarse result was within 2.1e-7 of a 24-panel reference.
    refine_fraction: under vmap, flagged points are recomputed in buffers of this
        fraction of the batch (of each chunk, where a large batch is cut into chunks; at
        least one point), one buffer after another. Small
        buffers waste little on the few flagged points of a typical sweep (Fig-3 sweep of
        505 points, 2 flagged: 37.7 ms with 1/8, 29.0 ms with 1/64) and cost little when
        every point is flagged (107 ms with 1/8, 112 ms with 1/64).
    parts: the finer rule's parts (1: no third rule). With 4 (40 panels), the default rule met
        the tolerance at every point of two random samples of 10 000 in the promise's range,
        where the 10-panel rule missed it at 0.7–0.8 % (docs/physics.md §8); with 3, one result far
        outside that range (T_e = 1.7e-3) missed it by 1.09× while its estimate said 0.51×.
    splits: where the parts' sum still misses, the part of largest estimated error is cut into
        ``parts`` parts again, at most this many times (parts down to 4⁻⁹ of the range): a feature
        narrower than the node map's share for it (two levels broadened only through weak hoppings,
        a mode with η down to 1e-8) gets parts of its own. Only such points pay for it (on random
        points with widths and temperatures down to 1e-6, 1.3 % flagged instead of 90 %, 7× the time).
        A point whose quarters' estimate is not within ``SPLIT_AIM`` (3 %) of the tolerance is split,
        until it is (or ``splits`` are used): small parts' estimates can be many times optimistic, and
        stopped at the tolerance itself, 5 of 3000 such points were off by 1.0–3.8× it unflagged.
    """

    coarse: FrequencyQuadrature = FrequencyQuadrature(panels=4, warn=False)
    fine: FrequencyQuadrature = FrequencyQuadrature()
    accept: float = eqx.field(static=True, default=0.1)
    refine_fraction: float = eqx.field(static=True, default=1 / 64)
    parts: int = eqx.field(static=True, default=4)
    splits: int = eqx.field(static=True, default=8)

    def __check_init__(self):
        for name in ("coarse", "fine"):
            if not isinstance(getattr(self, name), FrequencyQuadrature):
                raise EhpjaxError(f"AdaptiveQuadrature.{name} must be a FrequencyQuadrature, got {getattr(self, name)!r}")
        if isinstance(self.parts, bool) or not isinstance(self.parts, (int, np.integer)) or self.parts < 1:
            raise EhpjaxError(f"AdaptiveQuadrature.parts must be an integer >= 1, got {self.parts!r}")
        if isinstance(self.splits, bool) or not isinstance(self.splits, (int, np.integer)) or self.splits < 0:
            raise EhpjaxError(f"AdaptiveQuadrature.splits must be an integer >= 0, got {self.splits!r}")
        if self.parts > 1 and self.parts ** (self.splits + 1) > _NARROWEST_PART_INVERSE:
            most = int(math.log(_NARROWEST_PART_INVERSE) / math.log(self.parts) + 1e-9) - 1
            raise EhpjaxError(f"AdaptiveQuadrature.splits must be at most {most} with parts={self.parts}, got "
                              f"{self.splits}: smaller parts reach the resolution of float64 in the mapped "
                              "variable (their error estimates turn infinite: unknown), and a feature that needs them is "
                              "narrower than the rule can resolve")

    @property
    def rtol(self) -> float:
        return self.fine.rtol

    @property
    def warn(self) -> bool:
        return self.fine.warn


# The narrowest part a split may cut, as 1/width (4⁻²¹ of the mapped variable's range: splits ≤ 20 of 4 parts).
# On the paper's junction at V = −1, T = 0.3 with η = 1e-11, 22 or 24 splits gave NaN estimates (parts of
# 4⁻²³ ≈ 1e-14, ~100 ulps of the mapped variable; panels left without weight, infinite estimates since,
# ``FrequencyQuadrature.nodes``); 19–21 splits finite ones, no smaller than 16's there (the mode is narrower
# than the rule resolves; 16 splits reach η = 2e-9, README).
_NARROWEST_PART_INVERSE = 4 ** 21

# Where the default rule still misses the tolerance (a sweep's points, the command line's point): its
# splits up to 16 times (parts down to 4⁻¹⁷ of the range). Of the 31 of 3000 random points (widths, η
# and temperatures down to 1e-6, |V| ≤ 100) that the default rule flags, this clears all; 100 or 300
# panels, none. Of 8 of 300 such points the dressed default rule flags, 7; 100 panels, none.
MORE_SPLITS = AdaptiveQuadrature(fine=FrequencyQuadrature(warn=False), splits=16)

# The splits' aim (``Finer.aim``), a fraction of the tolerance: the points whose parts' sum is not
# within it are split, and the splits go on until it is (or the budget is spent). Estimates of small
# parts, and of 40 panels far outside docs/physics.md §8's range, can be optimistic: on 3000 random
# points with widths, η and temperatures down to 1e-6 (|V| ≤ 100), stopped at the tolerance itself,
# 5 results were off by 1.0–3.8× it unflagged; with 0.1 (entry unchanged) none there, but on 3000
# more, one at 40 panels (1.3×, estimate 0.82×) and one after 4 splits (1.5×, estimate 0.094×);
# with 0.03 and the same entry, none of either sample, at 19.9 against 16.8 s per 1000 such points
# (to widths of 1e-3: 4.2 against 3.3 s; the Fig-3 and random-junction sweeps unchanged).
SPLIT_AIM = 0.03

_REFINABLE = contextvars.ContextVar("ehpjax_refinable", default=True)


@contextlib.contextmanager
def refined_only_where(active):
    """Inside the block, the default rule of ``currents`` traced there refines only where
    ``active`` (a boolean traced with the points, e.g. batched by the caller's vmap): for callers
    that pad a batch with repeated points (a sweep's last chunk), which need no refinement."""
    token = _REFINABLE.set(active)
    try:
        yield
    finally:
        _REFINABLE.reset(token)


def batching_context():
    """A context for tracing functions whose batching rules (``custom_vmap``) call jitted functions
    that the unbatched trace calls too: JAX runs a rule under the abstract mesh recorded in its
    equation, an empty one where none was set, and its trace cache tells "none set" from "empty"
    apart; set explicitly, both traces find the same cache entries (``currents``' rules are traced
    once instead of twice, a vmapped default J traced in 1.7 s instead of 2.2 s)."""
    return jax.sharding.use_abstract_mesh(jax.sharding.get_abstract_mesh())


def refinable():
    """The ``active`` of the enclosing ``refined_only_where`` (True outside any)."""
    return _REFINABLE.get()


def refine(coarse: Callable, fine: Callable, combine: Callable, misses: Callable, args: tuple,
           fraction: float = 1 / 64, active=True, derivative: Callable | None = None,
           finer: "Finer | None" = None):
    """``combine(coarse(*args), *args)``, with ``fine((0, 1), *args)`` for ``coarse(*args)``
    where ``misses`` of that result.

    coarse: function of the pytrees ``args`` returning sums (a pytree of arrays); fine: the same
    of ``part, *args``, a rule whose nodes cover the part (t₀, t₁) of its mapped variable's range
    [0, 1], so that its sums add up over parts; combine: sums, *args → the result; misses: result →
    boolean scalar. Under vmap the fine rule runs only on the flagged points (module docstring);
    derivatives are those of ``combine(fine((0, 1), *args), *args)``, taken from ``derivative``
    (the same, computed another way). ``finer``: a third pass where the fine rule still misses.
    active: boolean scalar (batched like ``args``, or not): where False the coarse result is
    kept however it misses (the padding of a sweep's last chunk, which repeats one point).
    """
    if derivative is None:
        def derivative(*a):
            return combine(fine(WHOLE, *a), *a)
    rule = _Rule(lambda _, *a: coarse(*a), lambda part, _, *a: fine(part, *a), lambda sums, _, *a: combine(sums, *a),
                 misses, fraction, finer)
    return with_derivative(_one_point(rule), lambda _, *a: derivative(*a), (jnp.asarray(active, bool), *args))


class Finer(NamedTuple):
    """The third pass of ``refine``: where the fine result ``misses``, the fine rule on each of
    ``parts`` equal parts of its range (a rule of ``parts`` times its panels), their sums added;
    then, while the point's sum still ``misses``, the part with the largest ``part_error`` split into
    ``parts`` equal parts in turn, at most ``splits`` times (globally adaptive subdivision of the
    mapped variable: a narrow feature the node map gave too few nodes gets parts of its own).

    restart: the sums a point's parts are added to, from its sums on the whole range (None: zeros;
        a rule whose whole-range sums carry more than the parts add keeps that part here).
    after_coarse: the coarse rule is the fine rule on the whole range (``misses`` of ``refine``
        then this tolerance), so the points it misses go straight to the parts. Every point's whole
        range is then an entry of the loop too (under vmap, in buffers of ``fraction`` of the batch):
        one copy of the rule in the program.
    part_error: (a part's sums, its point's result) → that part's estimated error as a multiple of
        the point's tolerance (which part to split); needed where ``splits`` > 0.
    aim: result → boolean, like ``misses`` at a tighter tolerance: the points whose parts' sum it
        holds for are split, and the splits go on while it holds (None: ``misses``). Driven down to
        the tolerance, a sum of small parts' estimates ends just inside it, where an optimistic
        estimate is a silent miss.
    """

    parts: int
    misses: Callable
    restart: Callable | None = None
    after_coarse: bool = False
    part_error: Callable | None = None
    splits: int = 0
    aim: Callable | None = None

    @property
    def slots(self) -> int:
        """The most parts a point's range is ever cut into."""
        return self.parts + (self.parts - 1) * self.splits

    def restarted(self, sums):
        """``restart(sums)``, or zeros like ``sums``."""
        if self.restart is None:
            return jax.tree_util.tree_map(jnp.zeros_like, sums)
        return self.restart(sums)


class _Rule(NamedTuple):
    coarse: Callable
    fine: Callable
    combine: Callable
    misses: Callable
    fraction: float
    finer: Finer | None


def with_derivative(value: Callable, derivative: Callable, args: tuple):
    """``value(*args)``, differentiated as ``derivative(*args)``: the same function computed
    another way (the adaptive rule, differentiated as its fine rule; a rule without blocks of
    nodes, differentiated in blocks)."""
    return _with_derivative(value, derivative, *args)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _with_derivative(value, derivative, *args):
    return value(*args)


@_with_derivative.defjvp
def _with_derivative_jvp(value, derivative, primals, tangents):
    return jax.jvp(derivative, primals, tangents)


# Below, the first of ``args`` is ``active`` (``refine``), which the rules ignore.
def _one_point(rule: _Rule):
    @custom_vmap
    def one(*args):
        if rule.finer is None:
            sums = rule.coarse(*args)
            todo = rule.misses(rule.combine(sums, *args)) & args[0]
            return rule.combine(jax.lax.cond(todo, lambda: rule.fine(WHOLE, *args), lambda: sums), *args)
        # a batch of one (the parts' bookkeeping in one place), the rules traced for one point
        out = _refined(rule, tuple(jax.tree_util.tree_map(lambda _: 0, a) for a in args),
                       jax.tree_util.tree_map(lambda x: jnp.asarray(x)[None], args), single=True)
        return jax.tree_util.tree_map(lambda x: x[0], out)

    @one.def_vmap
    def batched(axis_size, in_batched, *args):
        out = _batch(rule, _axes(in_batched))(*args)
        return out, jax.tree_util.tree_map(lambda _: True, out)

    return one


def _axes(in_batched):
    """vmap in_axes (0 or None per leaf) from custom_vmap's in_batched flags."""
    return tuple(jax.tree_util.tree_map(lambda b: 0 if b else None, flags) for flags in in_batched)


def _map_batched(fn, axes, args):
    """fn(x) on the leaves of ``args`` with a batch axis (``axes`` 0), others unchanged."""
    return jax.tree_util.tree_map(lambda a, x: x if a is None else fn(x), axes, args, is_leaf=lambda a: a is None)


def _batch(rule: _Rule, axes):
    """The batched rule: ``args`` carry a leading batch axis where ``axes`` is 0."""

    @custom_vmap
    def many(*args):
        size = _batch_size(axes, args)
        active = jnp.broadcast_to(args[0], (size,))  # (batched, so that the chunks cut it with the points)
        return _in_chunks(functools.partial(_refined, rule), (0,) + tuple(axes[1:]),
                          (active,) + tuple(args[1:]), size)

    @many.def_vmap
    def flattened(outer, in_batched, *args):  # a vmap around the batch: one batch of outer × inner points
        flags = tuple(in_batched)
        inner = _batch_size(axes, jax.tree_util.tree_map(lambda x, b: x[0] if b else x, args, flags))

        def flat(a, b, x):
            if a is not None and b:
                return x.reshape((outer * inner,) + x.shape[2:])
            if a is not None:
                return jnp.broadcast_to(x, (outer,) + x.shape).reshape((outer * inner,) + x.shape[1:])
            if b:
                return jnp.repeat(x, inner, axis=0)
            return x

        new_axes = jax.tree_util.tree_map(lambda a, b: 0 if (a is not None or b) else None, axes, flags,
                                          is_leaf=lambda a: a is None)
        flat_args = jax.tree_util.tree_map(flat, axes, flags, args, is_leaf=lambda a: a is None)
        out = _batch(rule, new_axes)(*flat_args)
        out = jax.tree_util.tree_map(lambda x: x.reshape((outer, inner) + x.shape[1:]), out)
        return out, jax.tree_util.tree_map(lambda _: True, out)

    return many


# On one CPU device, a batch of more points is cut into equal chunks of at most this many,
# evaluated one after another: the per-node arrays of a chunk stay in cache (the Fig-3 rule on
# 32000 points: 23 µs per point in one batch, 13.5 in chunks of 500, 13.0 of 1000, 14.8 of 2000,
# 18 of 250). Not on an accelerator, which wants the whole batch at once, nor where the batch may
# be sharded over several devices (one chunk after another would leave the others idle).
_CHUNK = 512


def one_cpu_device() -> bool:
    """Whether JAX computes on one CPU device (no accelerator, no batch sharded over devices),
    where a batch is best done in slices that stay in cache."""
    return jax.default_backend() == "cpu" and jax.device_count() == 1


def _chunks(size: int) -> int:
    """How many chunks a batch of ``size`` points is cut into (1: not cut)."""
    if not one_cpu_device():
        return 1
    return max(1, -(-size // _CHUNK))  # (an empty batch: 1, as before)


def _refined(rule: _Rule, axes, args, single=False):
    """Every point of a batch on the coarse rule; the flagged ones again on the fine rule, and those
    it still misses on the fine rule's parts (``Finer``), in buffers: each buffer holds the first
    pending entries (point, part) of the (point, column) table, column 0 the whole range and column
    k ≥ 1 the k-th part, whose sums replace their point's (the whole range) or are added to them
    (a part). The points whose parts still miss then go, a few at a time, to the splits
    (``_Splits``), whose parts fill the same buffers once the table is done. The results are
    combined from the sums at the end. ``single``: a batch of one point, on which the rules are
    called unbatched (the traces that a vmap of them reuses; a vmap of size one is traced anew)."""
    size = _batch_size(axes, args)

    def each(fn, in_axes=0):  # fn vmapped over the leading axis of the batch (``in_axes`` as jax.vmap's)
        if not single:
            return jax.vmap(fn, in_axes=in_axes)

        def one(*a):  # (a batch of one: every leaf batched)
            return jax.tree_util.tree_map(lambda x: x[None], fn(*jax.tree_util.tree_map(lambda x: x[0], a)))
        return one

    fine = each(rule.fine, (0,) + tuple(axes))

    def combined(sums, args):
        return each(rule.combine, (0,) + tuple(axes))(sums, *args)

    buffer = max(1, min(size, math.ceil(rule.fraction * size)))
    finer = rule.finer
    parts = 0 if finer is None else finer.parts
    columns = 1 + parts
    starts, ends = _part_edges(parts)
    if parts and finer.after_coarse:  # every point's whole range in the buffers too (one copy of the rule)
        column = jnp.zeros(size, int)  # (the sums' shapes from the rule as the loop calls it: one trace of it)
        sums = jax.tree_util.tree_map(jnp.zeros_like, jax.eval_shape(fine, (starts[column], ends[column]), *args))
        pending = jnp.zeros((size, columns), bool).at[:, 0].set(True)
    else:
        sums = each(rule.coarse, axes)(*args)
        todo = each(rule.misses)(combined(sums, args)) & args[0]  # (``active``, batched or not)
        pending = jnp.zeros((size, columns), bool).at[:, 0].set(todo)
    splitting = bool(parts) and finer.splits > 0
    splits = _Splits.empty(min(buffer, _SPLIT_POINTS), finer.slots, sums) if splitting else None
    waiting = jnp.zeros(size, bool)  # (the points whose parts still miss, until the splits take them)

    def one_buffer(state):
        sums, pending, waiting, splits = state
        flat = pending.ravel()
        entry = jnp.nonzero(flat, size=buffer, fill_value=jnp.argmax(flat))[0]
        valid = jnp.arange(buffer) < jnp.sum(flat)  # (the rest repeat the first entry)
        point, column = entry // columns, entry % columns
        edges = jnp.stack([starts[column], ends[column]], axis=-1)
        if splitting:  # once the table is done, the buffer holds the splits' parts instead
            on_table = jnp.any(flat)

            def from_splits():
                admitted = splits.admit(waiting, finer.parts, finer.restarted, sums)
                return (admitted, waiting & ~admitted.holds(size)) + admitted.entries(buffer)

            splits, waiting, slot_index, slot_valid, point, edges = jax.lax.cond(
                on_table, lambda: (splits, waiting, entry, jnp.zeros(buffer, bool), point, edges), from_splits)
        at_points = _map_batched(lambda x: x[point], axes, args)
        redone = fine((edges[:, 0], edges[:, 1]), *at_points)
        pending = flat.at[entry].set(False).reshape(size, columns)
        whole = valid & (column == 0)
        sums = _at_rows(sums, whole, point, lambda at, r: at.set(r, mode="drop"), redone)
        if parts:
            again = whole & each(finer.misses)(combined(redone, at_points)) & at_points[0]
            pending = pending.at[jnp.where(again, point, size), 1:].set(True, mode="drop")
            sums = _at_rows(sums, again, point, lambda at, r: at.set(r, mode="drop"), each(finer.restarted)(redone))
            on_part = valid & (column > 0)
            sums = _at_rows(sums, on_part, point, lambda at, r: at.add(r, mode="drop"), redone)
        if splitting:
            # a point whose last part is done here and whose sum still misses waits for the splits
            later = jnp.concatenate([(point[1:] == point[:-1]) & valid[1:], jnp.zeros(1, bool)])
            done = on_part & ~later & ~jnp.any(pending[point], axis=1)
            at_sums = jax.tree_util.tree_map(lambda x: x[point], sums)
            misses = done & each(finer.aim or finer.misses)(combined(at_sums, at_points))  # (the splits' aim)
            waiting = waiting.at[jnp.where(misses & at_points[0], point, size)].set(True, mode="drop")

            # the splits' parts stored; a point none of whose parts is pending is split again, or finished
            def settle(sums, splits):
                splits = splits.store(slot_index, slot_valid, redone)
                total = splits.total()
                result = combined(total, _map_batched(lambda x: x[jnp.maximum(splits.point, 0)], axes, args))
                settled = splits.settled()
                again = settled & each(finer.aim or finer.misses)(result) & (splits.used < finer.slots)  # (≤ ``splits``)
                errors = jax.vmap(jax.vmap(finer.part_error, in_axes=(0, None)))(splits.sums, result)
                worst = jnp.argmax(jnp.where(splits.in_use(), errors, -jnp.inf), axis=1)
                splits = splits.split(again, worst, finer.parts)
                finished = settled & ~again
                sums = _at_rows(sums, finished, splits.point, lambda at, r: at.set(r, mode="drop"), total)
                return sums, splits._replace(point=jnp.where(finished, -1, splits.point))

            sums, splits = jax.lax.cond(on_table, lambda s, p: (s, p), settle, sums, splits)
        return sums, pending, waiting, splits

    def going(state):
        _, pending, waiting, splits = state
        if not splitting:
            return jnp.any(pending)
        return jnp.any(pending) | jnp.any(waiting) | jnp.any(splits.point >= 0)

    sums, *_ = jax.lax.while_loop(going, one_buffer, (sums, pending, waiting, splits))
    return combined(sums, args)


# At most this many points are split at a time (``_Splits``, whose state holds each one's parts).
_SPLIT_POINTS = 8


class _Splits(NamedTuple):
    """The points being split (``Finer.splits``, ``_refined``), a few at a time: entry e holds
    point[e] (−1: free), the sums ``base`` its parts add to, and its parts: slot s covers edges[e, s]
    of the mapped variable, its sums in sums[e, s] (leaves (entries, slots, …)) once no longer
    pending[e, s]; ``used`` slots of them (parts + (parts − 1) · its splits so far)."""

    point: jax.Array
    base: object
    edges: jax.Array
    sums: object
    pending: jax.Array
    used: jax.Array

    @classmethod
    def empty(cls, entries, slots, like):
        def zeros(*shape):
            return jax.tree_util.tree_map(lambda x: jnp.zeros(shape + x.shape[1:], x.dtype), like)

        return cls(jnp.full(entries, -1), zeros(entries), jnp.zeros((entries, slots, 2)), zeros(entries, slots),
                   jnp.zeros((entries, slots), bool), jnp.zeros(entries, int))

    def admit(self, waiting, parts, restarted, sums):
        """The first ``waiting`` points into the free entries, their whole range cut into ``parts``
        equal parts (pending), added to ``restarted`` of their ``sums`` (the parts' own sums, the
        first ones, are replaced; a slot's sums are read only once its part is done and in use)."""
        entries, slots = self.pending.shape
        free = self.point < 0
        waiting_points = jnp.nonzero(waiting, size=entries, fill_value=-1)[0]
        point = jnp.where(free, waiting_points[jnp.clip(jnp.cumsum(free) - 1, 0, entries - 1)], self.point)
        new = free & (point >= 0)
        base = jax.vmap(restarted)(jax.tree_util.tree_map(lambda x: x[jnp.maximum(point, 0)], sums))
        cuts = np.arange(parts + 1) / parts
        first = np.zeros((slots, 2))
        first[:parts] = np.stack([cuts[:-1], cuts[1:]], axis=-1)
        return self._replace(point=point, base=_where_entries(new, base, self.base),
                             edges=_where_entries(new, jnp.asarray(first), self.edges),
                             pending=_where_entries(new, jnp.arange(slots) < parts, self.pending),
                             used=jnp.where(new, parts, self.used))

    def holds(self, size):
        """(size,) whether an entry holds each point of the batch."""
        return jnp.zeros(size, bool).at[jnp.where(self.point >= 0, self.point, size)].set(True, mode="drop")

    def entries(self, count):
        """The first ``count`` pending parts: their flat index, whether real (else a repeat of the
        first), their points (0 where none), their edges (count, 2)."""
        flat = self.pending.ravel()
        index = jnp.nonzero(flat, size=count, fill_value=jnp.argmax(flat))[0]
        entry, slot = index // self.pending.shape[1], index % self.pending.shape[1]
        return index, jnp.arange(count) < jnp.sum(flat), jnp.maximum(self.point[entry], 0), self.edges[entry, slot]

    def store(self, index, valid, sums):
        """The ``sums`` of the parts at flat ``index`` (where ``valid``), no longer pending."""
        at = jnp.where(valid, index, self.pending.size)
        entry, slot = at // self.pending.shape[1], at % self.pending.shape[1]
        return self._replace(
            pending=self.pending.ravel().at[at].set(False, mode="drop").reshape(self.pending.shape),
            sums=jax.tree_util.tree_map(lambda s, v: s.at[entry, slot].set(v, mode="drop"), self.sums, sums))

    def in_use(self):
        """(entries, slots) the slots holding a part."""
        return jnp.arange(self.pending.shape[1])[None] < self.used[:, None]

    def total(self):
        """Each entry's base plus its parts' sums."""
        return jax.tree_util.tree_map(  # (in the leaves' own types: a sum of int32 counts is int64)
            lambda b, s: b + jnp.sum(jnp.where(_entries_shaped(self.in_use(), s), s, 0), axis=1, dtype=s.dtype),
            self.base, self.sums)

    def settled(self):
        """The entries holding a point none of whose parts is pending."""
        return (self.point >= 0) & ~jnp.any(self.pending, axis=1)

    def split(self, where, slot, parts):
        """Slot ``slot`` of the entries ``where`` cut into ``parts`` equal parts: the first in that
        slot, the others in the next free ones, all pending."""
        entries = jnp.arange(self.point.shape[0])
        rows = jnp.where(where, entries, self.point.shape[0])[:, None]
        lo, hi = self.edges[entries, slot, 0], self.edges[entries, slot, 1]
        cuts = lo[:, None] + (hi - lo)[:, None] * (jnp.arange(parts + 1) / parts)[None]
        targets = jnp.concatenate([slot[:, None], self.used[:, None] + jnp.arange(parts - 1)[None]], axis=1)
        return self._replace(
            edges=self.edges.at[rows, targets].set(jnp.stack([cuts[:, :-1], cuts[:, 1:]], axis=-1), mode="drop"),
            pending=self.pending.at[rows, targets].set(True, mode="drop"),
            used=jnp.where(where, self.used + parts - 1, self.used))


def _entries_shaped(mask, x):
    """``mask`` (leading axes of x) with axes appended to broadcast against x."""
    return mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim))


def _where_entries(where, new, old):
    """Leaves of ``new`` at the entries ``where`` (the leading axis), else of ``old``."""
    return jax.tree_util.tree_map(lambda n, o: jnp.where(_entries_shaped(where, o), n, o), new, old)


def _at_rows(sums, where, point, update, values):
    """``update(s.at[rows], v)`` for each leaf s of ``sums`` and v of ``values``, the rows ``point``
    where ``where`` (the others out of range, dropped: a buffer may hold a point twice, once for real)."""
    index = jnp.where(where, point, jax.tree_util.tree_leaves(sums)[0].shape[0])
    return jax.tree_util.tree_map(lambda s, v: update(s.at[index], v), sums, values)


def _part_edges(parts):
    """(t₀, t₁) of the entries: 0 the whole range, k = 1 … ``parts`` the k-th of its equal parts."""
    edges = np.linspace(0.0, 1.0, parts + 1)
    return tuple(jnp.asarray(np.concatenate([[whole], x])) for whole, x in zip(WHOLE, (edges[:-1], edges[1:])))


def _in_chunks(rule, axes, args, size):
    """``rule(axes, args)`` on a batch of ``size`` points (the leaves of ``args`` whose ``axes``
    are 0), as ``_chunks(size)`` equal chunks one after another (``lax.map``); the last is padded
    with repeats of the last point (fewer than the number of chunks)."""
    chunks = _chunks(size)
    if chunks == 1:
        return rule(axes, args)
    per = -(-size // chunks)
    pad = per * chunks - size

    def split(x):
        x = jnp.concatenate([x, jnp.broadcast_to(x[-1:], (pad,) + x.shape[1:])])
        return x.reshape((chunks, per) + x.shape[1:])

    leaves, treedef = jax.tree_util.tree_flatten(args)
    batched = [a is not None for a in jax.tree_util.tree_leaves(axes, is_leaf=lambda a: a is None)]

    def one_chunk(parts):
        parts = iter(parts)
        return rule(axes, jax.tree_util.tree_unflatten(treedef, [next(parts) if b else x for x, b in zip(leaves, batched)]))

    out = jax.lax.map(one_chunk, [split(x) for x, b in zip(leaves, batched) if b])
    return jax.tree_util.tree_map(lambda x: x.reshape((chunks * per,) + x.shape[2:])[:size], out)


def chunked(fn: Callable):
    """``fn``, whose vmap over more than ``_CHUNK`` points runs in equal chunks, one after
    another (``_in_chunks``). For values only (a ``custom_vmap`` is not differentiated; see
    ``with_derivative``)."""

    @custom_vmap
    def call(*args):
        return fn(*args)

    @call.def_vmap
    def batched(axis_size, in_batched, *args):
        out = _in_chunks(lambda axes, args: jax.vmap(fn, in_axes=axes)(*args), _axes(in_batched), args, axis_size)
        return out, jax.tree_util.tree_map(lambda _: True, out)

    return call


def _batch_size(axes, args) -> int:
    sizes = {x.shape[0] for a, x in zip(jax.tree_util.tree_leaves(axes, is_leaf=lambda a: a is None),
                                        jax.tree_util.tree_leaves(args)) if a is not None}
    (size,) = sizes
    return size


def report(check: Callable, needed: Callable, *arrays):
    """Run the host function ``check(*arrays)`` once per call with the whole batch (every
    vmap level folded into the leading axes), for warnings. ``needed(*arrays)`` (a boolean
    scalar, computed on the device for the whole batch) decides whether the host is called at
    all, so a batch with nothing to warn about makes no host round trip.

    Returns a float zero: add it to the results that were checked (``with_report``), which keeps
    the host call in the program as long as they are used. The host is reached by a
    ``jax.pure_callback``, which is no effect: a program with a ``jax.debug.callback`` (even one
    never called) leaves JAX's fast dispatch path, which cost the Fig-3 sweep 0.55 ms of 6.8 ms.
    (Points sharded over explicit mesh axes: see ``_compiled.on_automatic_axes``.)"""
    arrays = tuple(jax.lax.stop_gradient(x) for x in arrays)
    return on_automatic_axes(lambda *a: _report(check, needed, *a), *arrays)


def with_report(result, zero):
    """``result`` (a pytree) with the float ``zero`` of ``report`` added to its floating leaves, and
    their derivatives multiplied by 1 + zero: a program that uses only derivatives of the result
    (``jax.grad``) keeps the host call too."""
    return jax.tree_util.tree_map(lambda x: _tied(x, zero) if jnp.issubdtype(jnp.result_type(x), jnp.floating) else x,
                                  result)


@jax.custom_jvp
def _tied(x, zero):
    return x + zero


@_tied.defjvp
def _tied_jvp(primals, tangents):
    (x, zero), (dx, _) = primals, tangents
    return x + zero, dx * (1.0 + zero)  # (exactly dx: zero is 0; linear in dx)


def _report(check, needed, *arrays):
    @custom_vmap
    def once(*arrays):
        return jax.lax.cond(needed(*arrays), lambda: _on_host(check, *arrays), lambda: jnp.zeros(()))

    @once.def_vmap
    def batched(axis_size, in_batched, *arrays):
        full = [x if b else jnp.broadcast_to(x, (axis_size,) + x.shape) for x, b in zip(arrays, in_batched)]
        return _report(check, needed, *full), False

    return once(*arrays)


def _on_host(check, *arrays):
    """``check(*arrays)`` on the host; a float zero on the device."""
    def call(*values):
        check(*values)
        return np.zeros(())

    mesh = jax.sharding.get_abstract_mesh()
    if not mesh.empty and jax.sharding.AxisType.Explicit not in tuple(mesh.axis_types):
        # (points sharded over a mesh's automatic axes: gathered to every device first, so that XLA
        # does not log an "involuntary full rematerialization" handing them to the host)
        arrays = jax.lax.with_sharding_constraint(arrays, jax.sharding.PartitionSpec())
    return jax.pure_callback(call, jax.ShapeDtypeStruct((), jnp.float64), *arrays)
