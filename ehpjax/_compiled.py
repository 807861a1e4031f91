"""Plain calls of the public functions behind one compiled program each.

Called on concrete values, a JAX function runs op by op: every operation is dispatched
(and compiled) on its own, which for the pole expansions and pair integrals here takes
seconds. ``compiled(fn)`` runs such a call through one jit instead (compiled once per
input shapes), with the value checks returned as flags and raised on the host as
``EhpjaxError`` (``_checks.deferring``): the program has no host callback, so JAX's
persistent compilation cache can keep it. Under the caller's jit, vmap or grad, ``fn``
runs inline, as before.
"""

from __future__ import annotations

import functools
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ._checks import deferring, is_traced, raise_deferred


def _numbers_as_arrays(tree):
    """Python numbers → arrays, so that they are traced (one program for every value), not static."""
    def convert(x):
        if isinstance(x, (int, float, complex)) and not isinstance(x, bool):
            return jnp.asarray(x)
        return x

    return jax.tree_util.tree_map(convert, tree)


def compiled(fn: Callable) -> Callable:
    """``fn`` with plain (untraced) calls compiled as a whole (module docstring)."""

    @eqx.filter_jit
    def kernel(args, kwargs):
        checked, messages = deferring(fn)
        out, flags = checked(*args, **kwargs)
        return out, flags, tuple(messages)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if is_traced((args, kwargs)):
            return fn(*args, **kwargs)
        out, flags, messages = kernel(*_numbers_as_arrays((args, kwargs)))
        raise_deferred(flags, messages)
        return out

    return wrapper
