"""Checks of concrete model matrices that name the matrix and the offending entry.

The core's own checks (``Junction``, ``Modes``) say *that* a matrix is not Hermitian or
not positive semi-definite; for a model file the user needs to know *which entry*:
"H[0,1] = 0.3 but H[1,0] = 0.2: H must be Hermitian".
"""

from __future__ import annotations

import numpy as np

from ._model import ModelError

RTOL = 1e-10


def _fmt(x) -> str:
    x = complex(x)
    return f"{x.real:.6g}" if x.imag == 0 else f"({x.real:.6g}{x.imag:+.6g}j)"


def check_finite(a: np.ndarray, name: str, context: str = "") -> None:
    bad = np.argwhere(~np.isfinite(a))
    if bad.size:
        idx = tuple(bad[0])
        raise ModelError(f"{context}{name}[{','.join(map(str, idx))}] = {_fmt(a[idx])} is not finite")


def check_hermitian(a: np.ndarray, name: str, context: str = "", real: bool = False) -> None:
    """``a`` (n, n) Hermitian (symmetric and real if ``real``), to RTOL relative to its largest entry."""
    check_finite(a, name, context)
    if real and np.iscomplexobj(a) and np.any(a.imag != 0):
        i, j = (int(k) for k in np.argwhere(a.imag != 0)[0])
        raise ModelError(f"{context}{name}[{i},{j}] = {_fmt(a[i, j])}: {name} must be real")
    scale = RTOL * (1.0 + np.max(np.abs(a)))
    diff = np.abs(a - a.conj().T)
    if np.max(diff) > scale:
        i, j = (int(k) for k in np.unravel_index(np.argmax(diff), diff.shape))
        kind = "symmetric" if real else "Hermitian"
        if i == j:
            raise ModelError(f"{context}{name}[{i},{i}] = {_fmt(a[i, i])} is not real: {name} must be {kind}")
        raise ModelError(f"{context}{name}[{i},{j}] = {_fmt(a[i, j])} but {name}[{j},{i}] = {_fmt(a[j, i])}: "
                         f"{name} must be {kind}")


def check_psd(a: np.ndarray, name: str, context: str = "", strict: bool = False, real: bool = False) -> None:
    """``a`` Hermitian and positive semi-definite (positive definite if ``strict``).
    Names a negative diagonal entry, else an off-diagonal entry that breaks a 2×2 minor,
    else the lowest eigenvalue."""
    check_hermitian(a, name, context, real)
    what = "positive definite" if strict else "positive semi-definite"
    scale = RTOL * (1.0 + np.max(np.abs(a)))
    diag = np.real(np.diag(a))
    for i, d in enumerate(diag):
        if d < -scale or (strict and d <= 0):
            raise ModelError(f"{context}{name}[{i},{i}] = {_fmt(d)}: {name} must be {what}")
    n = a.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            if abs(a[i, j]) ** 2 > diag[i] * diag[j] + scale * (1.0 + abs(diag[i]) + abs(diag[j])):
                raise ModelError(f"{context}{name}[{i},{j}] = {_fmt(a[i, j])} exceeds sqrt({name}[{i},{i}]·"
                                 f"{name}[{j},{j}]) = {np.sqrt(max(diag[i] * diag[j], 0.0)):.6g}: "
                                 f"{name} must be {what}")
    lowest = float(np.min(np.linalg.eigvalsh(0.5 * (a + a.conj().T))))
    if lowest < -scale or (strict and lowest <= 0):
        raise ModelError(f"{context}{name} has the eigenvalue {lowest:.6g}: {name} must be {what}")


def check_system(H, gamma_L, gamma_R, M, K, eta, spin_degeneracy=1.0, context: str = "") -> None:
    """All of a concrete model's matrices: H and every M^k Hermitian, Γ_L, Γ_R PSD,
    K real symmetric positive definite, η real symmetric PSD, g_s > 0."""
    H, gamma_L, gamma_R, M, K, eta = (np.asarray(x) for x in (H, gamma_L, gamma_R, M, K, eta))
    check_hermitian(H, "H", context)
    check_psd(gamma_L, "gamma_L", context)
    check_psd(gamma_R, "gamma_R", context)
    for k, m in enumerate(M):
        check_hermitian(m, f"M[{k}]", context)
    check_psd(K, "K", context, strict=True, real=True)
    check_psd(eta, "eta", context, real=True)
    g = complex(np.asarray(spin_degeneracy))
    if not (np.isfinite(g) and g.imag == 0 and g.real > 0):
        raise ModelError(f"{context}spin_degeneracy = {_fmt(g)} must be a real number > 0")
