"""Which outputs of a function depend on which inputs, read from its jaxpr.

Inside a trace every array is a tracer, whether or not it depends on the traced inputs (JAX
stages every operation), so being traced tells nothing about dependence. The data flow of
the function's jaxpr does: an equation's outputs depend on the inputs where any of its own
inputs does. A nested call counts as one equation (all its outputs depend on any of its
inputs), so the answer errs only towards "depends".
"""

from __future__ import annotations

from typing import Callable

import jax
from jax.extend.core import Var


def depends_on_input(fn: Callable, x):
    """Whether each output leaf of ``fn(x)`` depends on ``x``: a pytree of bools like the output."""
    closed, shape = jax.make_jaxpr(fn, return_shape=True)(x)
    dependent = set(closed.jaxpr.invars)
    for eqn in closed.jaxpr.eqns:
        if any(isinstance(v, Var) and v in dependent for v in eqn.invars):
            dependent.update(eqn.outvars)
    flags = [isinstance(v, Var) and v in dependent for v in closed.jaxpr.outvars]
    return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(shape), flags)
