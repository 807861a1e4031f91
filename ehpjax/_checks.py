"""Input validation: static problems raise EhpjaxError, value problems use eqx.error_if.

Concrete (non-traced) values are checked eagerly and raise ``EhpjaxError`` (a
``ValueError``) naming the argument; traced values (inside jit, vmap or grad) get an
``eqx.error_if`` check with the same message, which raises at run time.

``deferring(fn)`` traces ``fn`` with its checks returned as boolean outputs instead, and
``raise_deferred`` raises the first failed one on the host. A program without
``eqx.error_if`` has no host callback, so JAX's persistent compilation cache can keep it
(it refuses programs with callbacks): ehpjax's own compiled entry points use this.

Traced, the checks of one constructor or one entry point are attached together, as one
``eqx.branched_error_if`` (``checks_combined``): each ``eqx.error_if`` walks the Python stack
when it is traced, and one per condition made a fifth of the time to trace ``currents``.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._errors import EhpjaxError


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def is_traced(tree) -> bool:
    """Whether any leaf of ``tree`` is traced (inside jit, vmap or grad)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


def _host_or_traced(x):
    """(namespace, array of ``x``): (numpy, a NumPy array) for concrete values, (jax.numpy, a
    JAX array) for traced ones. Concrete inputs are converted and checked on the host, without
    compiling an XLA program for every operation and input shape."""
    xp = jnp if is_traced(x) else np
    return xp, xp.asarray(x)


def _numeric(x, name: str):
    """(namespace, array of ``x``), refusing what is not a number (a string, an object)."""
    try:
        xp, arr = _host_or_traced(x)
    except (TypeError, ValueError) as err:
        raise EhpjaxError(f"{name} must be numeric, got {type(x).__name__}: {err}") from None
    if not (xp.issubdtype(arr.dtype, xp.number) or xp.issubdtype(arr.dtype, xp.bool_)):
        raise EhpjaxError(f"{name} must be numeric, got dtype {arr.dtype}")
    return xp, arr


def as_array(x, name: str, shape: tuple | None = None, ndim: int | None = None, host: bool = False):
    """Convert to a float64 (or complex128) JAX array and check its shape (``host``: a concrete
    value stays a NumPy array)."""
    xp, arr = _numeric(x, name)
    if not (xp.issubdtype(arr.dtype, xp.floating) or xp.issubdtype(arr.dtype, xp.complexfloating)):
        arr = arr.astype(xp.float64)
    arr = arr.astype(xp.result_type(arr.dtype, xp.float64))
    if ndim is not None and arr.ndim != ndim:
        raise EhpjaxError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise EhpjaxError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return arr if xp is jnp or host else jax.device_put(arr)  # (jnp.asarray would compile a program per shape)


def as_real(x, name: str, shape: tuple | None = None, ndim: int | None = None, host: bool = False):
    arr = as_array(x, name, shape, ndim, host)
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise EhpjaxError(f"{name} must be real, got dtype {arr.dtype}")
    return arr


def real_axis(x, name: str = "omega"):
    """The real frequencies or energies a function is evaluated at, as a float64 array (traced
    or not); complex values are refused instead of silently losing their imaginary part."""
    _, arr = _numeric(x, name)
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise EhpjaxError(f"{name} must be real, got dtype {arr.dtype}")
    return jnp.asarray(arr, dtype=jnp.float64)


class _Deferred:
    """Checks collected while tracing inside ``deferred_checks`` (at the trace level where it was entered)."""

    def __init__(self):
        self.trace = _current_trace()
        self.found: list[tuple[object, str]] = []

    def takes(self) -> bool:
        return self.trace is not None and _current_trace() is self.trace


def _current_trace():
    """JAX's current trace (checks inside a nested trace, e.g. a cond branch, stay compiled in);
    None if this JAX does not expose it (then every check is compiled in: correct, not cacheable)."""
    try:
        from jax._src import core

        return core.trace_ctx.trace
    except (ImportError, AttributeError):  # pragma: no cover - another JAX version
        return None


_DEFERRED: list[_Deferred] = []


@contextlib.contextmanager
def deferred_checks():
    """Within the block, value checks of traced arrays are collected as (flag, message)."""
    collected = _Deferred()
    _DEFERRED.append(collected)
    try:
        yield collected.found
    finally:
        _DEFERRED.pop()


def checks_deferred() -> bool:
    """Whether a ``deferred_checks`` block collects the checks of the current trace."""
    return bool(_DEFERRED) and _DEFERRED[-1].takes()


@contextlib.contextmanager
def checks_combined():
    """Within the block, the value checks of traced arrays (at the block's trace level) are
    collected; the yielded ``attach(tree)`` returns ``tree`` with all of them attached as one
    ``eqx.branched_error_if``, which raises the message of a failed check at run time (of
    several, the first; under vmap, that of one of the failing points). Checks of concrete
    values still raise at once. Inside ``deferred_checks`` (at the same trace level) the
    checks go there, and ``attach`` returns the tree unchanged."""
    if checks_deferred():
        yield lambda tree: tree
        return
    with deferred_checks() as found:
        yield functools.partial(_attach, found=found)


def _attach(tree, found):
    if not found:
        return tree
    # (elementwise, not a stack: under a vmap of points sharded over explicit mesh axes, a stack of
    # batched and unbatched flags is refused for their different shardings)
    failed, first = jnp.asarray(False), jnp.asarray(0)
    for index, (flag, _) in reversed(list(enumerate(found))):
        failed, first = failed | flag, jnp.where(flag, index, first)
    return eqx.branched_error_if(tree, failed, first, [message for _, message in found])


def combining_checks(fn: Callable) -> Callable:
    """``fn`` with the checks made at its trace level attached to its outputs together (``checks_combined``)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with checks_combined() as attach:
            return attach(fn(*args, **kwargs))

    return run


def check(arr, bad, message: str):
    """Raise ``EhpjaxError(message)`` if ``bad`` is True (eagerly), else attach eqx.error_if
    (or, inside ``deferred_checks``, collect the check)."""
    if _is_concrete(arr) and _is_concrete(bad):
        if bool(np.any(np.asarray(bad))):
            raise EhpjaxError(message)
        return arr
    if checks_deferred():
        _DEFERRED[-1].found.append((jnp.any(bad), message))
        return arr
    return eqx.error_if(arr, bad, message)


def deferring(fn: Callable):
    """(wrapped, messages): ``wrapped(*args)`` returns (fn(*args), flags), the value checks
    of ``fn`` as a boolean array (one per check, after any batch axes of a vmap around
    ``wrapped``); ``messages`` (filled when ``wrapped`` is traced) names them in order."""
    messages: list[str] = []

    def wrapped(*args, **kwargs):
        with deferred_checks() as found:
            out = fn(*args, **kwargs)
        messages[:] = [message for _, message in found]
        flags = jnp.stack([flag for flag, _ in found]) if found else jnp.zeros((0,), dtype=bool)
        return out, flags

    return wrapped, messages


def raise_deferred(flags, messages: list[str]) -> None:
    """Raise ``EhpjaxError`` with the first message whose flag is set at any point."""
    if not messages:
        return
    flags = np.asarray(flags).reshape(-1, len(messages))
    for i, message in enumerate(messages):
        failed = int(np.sum(flags[:, i]))
        if failed:
            where = f" (at {failed} of {flags.shape[0]} points)" if flags.shape[0] > 1 else ""
            raise EhpjaxError(message + where)


def check_finite(arr, name: str):
    xp, a = _host_or_traced(arr)
    return check(arr, ~xp.all(xp.isfinite(a)), f"{name} contains NaN or inf")


def check_hermitian(arr, name: str, rtol: float = 1e-10):
    xp, a = _host_or_traced(arr)
    scale = 1.0 + xp.max(xp.abs(a))
    asym = xp.max(xp.abs(a - xp.conj(xp.swapaxes(a, -1, -2))))
    return check(arr, asym > rtol * scale, f"{name} must be Hermitian (symmetric if real)")


def check_psd(arr, name: str, rtol: float = 1e-10):
    """Hermitian and positive semi-definite (eigenvalues >= −rtol·scale)."""
    arr = check_hermitian(arr, name, rtol)
    xp, a = _host_or_traced(arr)
    herm = 0.5 * (a + xp.conj(xp.swapaxes(a, -1, -2)))
    lowest = xp.min(xp.linalg.eigvalsh(herm))
    scale = 1.0 + xp.max(xp.abs(a))
    return check(arr, lowest < -rtol * scale, f"{name} must be positive semi-definite")


def check_positive_definite(arr, name: str):
    """Symmetric with every eigenvalue > 0 (the message names the lowest one when it is known)."""
    arr = check_hermitian(arr, name)
    xp, a = _host_or_traced(arr)
    lowest = xp.min(xp.linalg.eigvalsh(0.5 * (a + xp.conj(xp.swapaxes(a, -1, -2)))))
    message = f"{name} must be positive definite (an eigenvalue <= 0 is an unstable mode)"
    if _is_concrete(lowest):
        message += f": its lowest eigenvalue is {float(lowest):.6g}"
    return check(arr, ~(lowest > 0), message)


def check_nonnegative(arr, name: str):
    """Finite and >= 0 everywhere (a broadening, a friction given as a number), to the rounding
    that ``check_psd`` allows a matrix (a value ≥ −1e-10)."""
    xp, a = _host_or_traced(arr)
    return check(arr, ~xp.all(xp.isfinite(a) & (a >= -1e-10)), f"{name} must be finite and >= 0 (got a value < 0, inf or NaN)")


def check_positive(arr, name: str):
    xp, a = _host_or_traced(arr)
    return check(arr, ~xp.all(a > 0), f"{name} must be > 0 (got a value <= 0 or NaN)")
