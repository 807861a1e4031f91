"""Input validation: static problems raise EhpjaxError, value problems use eqx.error_if.

Concrete (non-traced) values are checked eagerly and raise ``EhpjaxError`` (a
``ValueError``) naming the argument; traced values (inside jit, vmap or grad) get an
``eqx.error_if`` check with the same message, which raises at run time.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._errors import EhpjaxError


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def as_array(x, name: str, shape: tuple | None = None, ndim: int | None = None):
    """Convert to a float64 (or complex128) JAX array and check its shape."""
    arr = jnp.asarray(x)
    if not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.complexfloating)):
        arr = arr.astype(jnp.float64)
    arr = arr.astype(jnp.result_type(arr.dtype, jnp.float64))
    if ndim is not None and arr.ndim != ndim:
        raise EhpjaxError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise EhpjaxError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return arr


def as_real(x, name: str, shape: tuple | None = None, ndim: int | None = None):
    arr = as_array(x, name, shape, ndim)
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise EhpjaxError(f"{name} must be real, got dtype {arr.dtype}")
    return arr


def check(arr, bad, message: str):
    """Raise ``EhpjaxError(message)`` if ``bad`` is True (eagerly), else attach eqx.error_if."""
    if _is_concrete(arr) and _is_concrete(bad):
        if bool(np.any(np.asarray(bad))):
            raise EhpjaxError(message)
        return arr
    return eqx.error_if(arr, bad, message)


def check_finite(arr, name: str):
    return check(arr, ~jnp.all(jnp.isfinite(arr)), f"{name} contains NaN or inf")


def check_hermitian(arr, name: str, rtol: float = 1e-10):
    scale = 1.0 + jnp.max(jnp.abs(arr))
    asym = jnp.max(jnp.abs(arr - jnp.conj(jnp.swapaxes(arr, -1, -2))))
    return check(arr, asym > rtol * scale, f"{name} must be Hermitian (symmetric if real)")


def check_psd(arr, name: str, rtol: float = 1e-10):
    """Hermitian and positive semi-definite (eigenvalues >= −rtol·scale)."""
    arr = check_hermitian(arr, name, rtol)
    herm = 0.5 * (arr + jnp.conj(jnp.swapaxes(arr, -1, -2)))
    lowest = jnp.min(jnp.linalg.eigvalsh(herm))
    scale = 1.0 + jnp.max(jnp.abs(arr))
    return check(arr, lowest < -rtol * scale, f"{name} must be positive semi-definite")


def check_positive_definite(arr, name: str):
    """Symmetric with every eigenvalue > 0 (the message names the lowest one when it is known)."""
    arr = check_hermitian(arr, name)
    lowest = jnp.min(jnp.linalg.eigvalsh(0.5 * (arr + jnp.conj(jnp.swapaxes(arr, -1, -2)))))
    message = f"{name} must be positive definite (an eigenvalue <= 0 is an unstable mode)"
    if _is_concrete(lowest):
        message += f": its lowest eigenvalue is {float(lowest):.6g}"
    return check(arr, ~(lowest > 0), message)


def check_positive(arr, name: str):
    return check(arr, ~jnp.all(arr > 0), f"{name} must be > 0 (got a value <= 0 or NaN)")
