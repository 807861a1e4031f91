"""Plain calls of the public functions behind one compiled program each.

Called on concrete values, a JAX function runs op by op: every operation is dispatched
(and compiled) on its own, which for the pole expansions and pair integrals here takes
seconds. ``compiled(fn)`` runs such a call through one jit instead (compiled once per
input shapes), with the value checks returned as flags and raised on the host as
``EhpjaxError`` (``_checks.deferring``): the program has no host callback, so JAX's
persistent compilation cache can keep it. Under the caller's jit, vmap or grad, ``fn``
runs through a jit of its own (inlined in the caller's jit; one program, not one per
operation, under an eager vmap or grad) with its checks attached together
(``_checks.checks_combined``), or inline where ehpjax collects the checks.

Such programs run a few times, so on CPU they are compiled with XLA's quick settings
(``quick_compile``): the paper model's currents for one point compile in 1.2 s instead
of 3.4 s and run in 1.4 ms instead of 0.9 ms. The user's own jit, ``ehpjax.sweep`` and
the design loop keep XLA's defaults (their programs run many times).
"""

from __future__ import annotations

import functools
import os
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ._checks import checks_deferred, combining_checks, deferring, is_traced, raise_deferred


# No LLVM optimisation, the classic fusion emitters, no hoisting of loop-invariant code out of
# while loops: the same IEEE arithmetic (fast math stays off), rounding may differ in the last bit
# (no fused multiply-adds). Without the hoisting, the paper model's plain call compiled in
# 2.67–2.84 s instead of 2.89–2.96 s and ran as fast (0.58–0.63 ms against 0.59–0.60 ms).
_QUICK_CPU_OPTIONS = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False,
                      "xla_disable_hlo_passes": "while-loop-invariant-code-motion"}


@functools.cache
def _quick_options_known() -> bool:
    """Whether this XLA knows ``_QUICK_CPU_OPTIONS`` (a release may rename or drop one)."""
    try:
        jax.jit(lambda x: x + 1, compiler_options=_QUICK_CPU_OPTIONS).lower(0.0).compile()
    except Exception:  # noqa: BLE001 (XLA reports an unknown option as a runtime error)
        return False
    return True


def quick_compile() -> dict | None:
    """XLA compiler options for programs that run a few times: on CPU ``_QUICK_CPU_OPTIONS``
    (compile ~3x faster, run ~1.5x slower); on other backends, or an XLA without these
    options, XLA's defaults (None)."""
    if jax.default_backend() != "cpu" or not _quick_options_known():
        return None
    return dict(_QUICK_CPU_OPTIONS)


def quick_by_flags() -> bool:
    """Whether this process's ``XLA_FLAGS`` already ask for ``_QUICK_CPU_OPTIONS`` (as the test suite's
    do): then every program is compiled so, with or without them."""
    flags = os.environ.get("XLA_FLAGS", "").split()
    disabled = ",".join(f.split("=", 1)[1] for f in flags if f.startswith("--xla_disable_hlo_passes="))
    return ("--xla_backend_optimization_level=0" in flags and "--xla_cpu_use_fusion_emitters=false" in flags
            and "while-loop-invariant-code-motion" in disabled.split(","))


def distinct_quick_program() -> bool:
    """Whether ``quick_compile`` gives a program other than XLA's defaults would (on CPU, unless
    ``XLA_FLAGS`` already ask for the quick settings): only then is there a choice to make."""
    return quick_compile() is not None and not quick_by_flags()


def quick_limit(levels: int, two_levels: int) -> int:
    """How much work a program compiled with the quick settings is chosen for on a junction of
    ``levels`` levels: ``two_levels`` for up to two, a quarter as many for each further level (the
    slower program's cost grows with the levels; sweeps and design runs measure their own
    ``two_levels``)."""
    return two_levels >> 2 * max(levels - 2, 0)


def quick_jit(fn: Callable, *, jit: Callable = eqx.filter_jit, ahead_of_time: bool = False, **jit_kwargs) -> Callable:
    """``jit(fn, compiler_options=quick_compile(), **jit_kwargs)``, made at the first call
    (asking for the backend at import would start it before the user configured JAX).

    ahead_of_time: called on concrete values, always run (``jit`` = ``jax.jit``: its trace, lower, compile),
        also inside a trace, where a call would be staged into it: for values the trace needs on
        the host. (``jax.ensure_compile_time_eval`` around the call would also run it, but would
        trace it with eager constant folding: its operations on constants (``jnp.eye``, an iota)
        run one by one, each compiled on its own: ~30 small programs, ~0.8 s per new shape.)"""

    @functools.cache
    def jitted():
        return jit(fn, compiler_options=quick_compile(), **jit_kwargs)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if ahead_of_time:
            if jax.config.jax_disable_jit:  # (no ahead-of-time path there: op by op, which it asks for)
                with jax.ensure_compile_time_eval():
                    return jitted()(*args, **kwargs)
            return jitted().trace(*args, **kwargs).lower().compile()(*args, **kwargs)  # (each stage cached)
        return jitted()(*args, **kwargs)

    return call


def _numbers_as_arrays(tree):
    """Python numbers → arrays, so that they are traced (one program for every value), not static."""
    def convert(x):
        if isinstance(x, (int, float, complex)) and not isinstance(x, bool):
            return jnp.asarray(x)
        return x

    return jax.tree_util.tree_map(convert, tree)


def _explicit_mesh(tree):
    """The (abstract) mesh of the first array of ``tree`` whose type is sharded over explicit mesh
    axes (JAX's sharding in types: ``jax.make_mesh``'s default axis type), or None."""
    for leaf in jax.tree_util.tree_leaves(tree):
        if isinstance(leaf, jax.Array):  # (tracers too)
            mesh = getattr(getattr(jax.typeof(leaf), "sharding", None), "mesh", None)
            if mesh is not None and jax.sharding.AxisType.Explicit in tuple(getattr(mesh, "axis_types", ())):
                return mesh
    return None


def on_automatic_axes(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)`` inside a trace. Where an input is sharded over explicit mesh axes
    (the points of a vmap placed with ``jax.make_mesh``'s default mesh), ``fn`` is traced with
    those axes automatic (``jax.sharding.auto_axes``), its outputs replicated over them per
    point, and XLA partitions it: ehpjax's functions do not say how each intermediate value is
    sharded, and in explicit mode an operation of a vmap that mixes a batched (sharded) and an
    unbatched operand is refused ("All operands should have the same sharding")."""
    mesh = _explicit_mesh((args, kwargs))
    if mesh is None:
        return fn(*args, **kwargs)
    arrays, rest = eqx.partition((args, kwargs), eqx.is_array)

    def run(arrays):
        a, k = eqx.combine(arrays, rest)
        return fn(*a, **k)

    with jax.sharding.use_abstract_mesh(mesh):
        return jax.sharding.auto_axes(run, out_sharding=jax.sharding.PartitionSpec())(arrays)


def compiled(fn: Callable) -> Callable:
    """``fn`` with plain (untraced) calls compiled as a whole (module docstring); traced calls
    (the caller's jit, vmap or grad) go through a jit of ``fn`` too, so that an eager vmap or
    grad runs one program instead of every operation on its own (inside the caller's jit the
    inner jit is inlined), unless a ``deferred_checks`` block collects this trace's checks."""

    @quick_jit
    def kernel(args, kwargs):
        checked, messages = deferring(fn)
        out, flags = checked(*args, **kwargs)
        return out, flags, tuple(messages)

    traced = eqx.filter_jit(combining_checks(fn))

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if is_traced((args, kwargs)):
            if checks_deferred():
                return fn(*args, **kwargs)
            args, kwargs = _numbers_as_arrays((args, kwargs))
            return on_automatic_axes(traced, *args, **kwargs)
        out, flags, messages = kernel(*_numbers_as_arrays((args, kwargs)))
        raise_deferred(flags, messages)
        return out

    return wrapper
