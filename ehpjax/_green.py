"""Green's and spectral functions of the conductor (docs/physics.md §2).

Besides the direct formulas, the wide-band spectral functions are expanded in their
poles: with H_eff = H − i(Γ_L + Γ_R)/2 = R diag(z) R⁻¹,

    A_α(ε) = G^r Γ_α G^a = Σ_{j=1}^{2n} x^α_j (y^α_j)† / (ε − p_j),   p = (z, z*),

a sum of 2n rank-one terms. This is what lets the energy integral of Λ be done
exactly (see ``_ehp.py``) instead of on a grid.

Near an exceptional point of H_eff (two eigenvalues and their eigenvectors coalesce)
R is nearly singular: the residues grow like 1/(z_k − z_l) and cancel, losing
ε_mach·κ² of accuracy (κ the eigenvector condition number; at the exceptional point
itself κ ~ ε_mach^(−1/2) and the loss is O(1)). There the expansion is built for
H_eff + δE instead, E a fixed generic matrix of H_eff's size and δ = ε_mach^(1/2)·‖H_eff − tr H_eff/n‖:
a generic perturbation splits a Jordan block by ~(δ‖H_eff − tr H_eff/n‖)^(1/2), so κ ≲ ε_mach^(−1/4) and both
the cancellation (ε_mach·κ²) and the perturbation (δ/w, w the narrowest width) cost
≲ 1e-8 relative. ``PoleExpansion.error`` carries that relative error bound.
Equal eigenvalues of a diagonalisable H_eff (two equal levels, equally broadened) are split
the same way, with δ relative to the widest level: the values need no splitting there, but
the eigenvectors' derivatives divide by z_k − z_l.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._checks import check, real_axis
from ._compiled import compiled
from ._model import Junction


@compiled
def retarded_green(junction: Junction, energy):
    """G^r(ε) = [ε − H + i(Γ_L + Γ_R)/2]⁻¹, shape (*energy.shape, n, n)."""
    energy = real_axis(energy, "energy")
    n = junction.n_levels
    h_eff = junction.H - 0.5j * (junction.gamma_L + junction.gamma_R)
    eye = jnp.eye(n, dtype=h_eff.dtype)
    return jnp.linalg.inv(energy[..., None, None] * eye - h_eff)


@compiled
def spectral_functions(junction: Junction, energy):
    """Partial spectral functions (A_L, A_R), A_α = G^r Γ_α G^a, each (*energy.shape, n, n)."""
    g = retarded_green(junction, energy)
    g_adv = jnp.conj(jnp.swapaxes(g, -1, -2))
    return g @ junction.gamma_L @ g_adv, g @ junction.gamma_R @ g_adv


@compiled
def spectral_function(junction: Junction, energy):
    """Total spectral function A = A_L + A_R = i(G^r − G^a)."""
    a_left, a_right = spectral_functions(junction, energy)
    return a_left + a_right


class PoleExpansion(eqx.Module):
    """A_α(ε) = Σ_j X[α, :, j] Y[α, :, j]† / (ε − p_j) with p = (z, z*) (α = L, R).

    error: estimated relative error of the expansion (rounding in the eigenvectors and,
    near an exceptional point, the regularising perturbation; module docstring).
    """

    z: jax.Array  # (n,) eigenvalues of H_eff, Im z < 0
    X: jax.Array  # (2, n, 2n)
    Y: jax.Array  # (2, n, 2n)
    error: jax.Array  # ()


# Above this eigenvector condition number ε_mach·κ² exceeds ~1e-8: regularise.
_KAPPA_MAX = 1e4
# Eigenvalues closer than this, relative to the larger of ‖H_eff − tr H_eff/n‖ and the widest
# level, are split too: the eigenvectors' derivatives divide by z_k − z_l (``eig``), so equal
# eigenvalues of a diagonalisable H_eff (two equal levels, equally broadened) have none.
_GAP_MIN = 1e-6
_EPS = float(jnp.finfo(jnp.float64).eps)


def _generic_direction(n: int):
    """A fixed, dense, non-normal complex n×n matrix of unit scale (no structure that a
    Hamiltonian could share), for splitting Jordan blocks of H_eff."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")  # (on the host: a constant of the program)
    phase = 2.399963229728653 * (1 + 3 * i + 7 * j + i * j)  # golden angle: no resonances
    return np.exp(1j * phase) * (1.0 + 0.5 * np.cos(1.7 * (i - 2 * j)))


def _condition(right, right_inv):
    """κ = ‖R‖_F ‖R⁻¹‖_F / n of an eigenvector matrix R (≥ 1; grows like 1/gap at an exceptional
    point), without its gradient."""
    return jax.lax.stop_gradient(jnp.linalg.norm(right) * jnp.linalg.norm(right_inv) / right.shape[0])


_UNBROADENED = ("a state of H is not broadened by the leads (Im z = 0 for an eigenvalue of "
                "H − i(Γ_L+Γ_R)/2): its spectral function is a delta function; add a small broadening")


def _unbroadened(z, junction: Junction):
    return jnp.min(-jnp.imag(z)) < 1e-9 * (1.0 + jnp.max(jnp.abs(junction.gamma_L + junction.gamma_R)))


@jax.custom_jvp
def eig(h):
    """Eigenvalues z and right eigenvectors R of h (LAPACK's normalisation)."""
    return tuple(jax.lax.linalg.eig(h, compute_left_eigenvectors=False)[:2])


@eig.defjvp
def _eig_jvp(primals, tangents):
    """dz = diag(A) and dR = R (F ∘ A), A = R⁻¹ dh R, F_kl = 1/(z_l − z_k) for k ≠ l and 0 on
    the diagonal: the derivative of the eigenvectors normalised by diag(R⁻¹ dR) = 0. The pole
    expansion pairs every column R_k with row k of R⁻¹, so it does not depend on that choice.
    Written in differentiable operations (and ``eig`` itself), so that derivatives of any
    order exist (JAX's rule has no second derivative of eigenvalues alone, as in
    ``_bosons.mode_poles``)."""
    (h,), (dh,) = primals, tangents
    z, right = eig(h)
    a = jnp.linalg.solve(right, dh.astype(right.dtype) @ right)
    gap = z[None, :] - z[:, None]  # [k, l] = z_l − z_k
    distinct = gap != 0  # (equal eigenvalues: no eigenvector derivative; ``pole_expansion`` splits them first)
    return (z, right), (jnp.diagonal(a), right @ jnp.where(distinct, a / jnp.where(distinct, gap, 1.0), 0.0))


def pole_expansion(junction: Junction) -> PoleExpansion:
    """Rank-one pole expansion of A_L and A_R (module docstring).

    With γ̃^α = R⁻¹ Γ_α R⁻†, partial fractions of 1/((ε − z_k)(ε − z_l*)) give the
    residue at z_k: R_k y_k† with y_k = Σ_l R_l γ̃^α_lk / (z_k* − z_l); the residue at
    z_k* is its adjoint y_k R_k†. Near an exceptional point of H_eff, or where two of its
    eigenvalues (nearly) coincide, the expansion of H_eff + δE (module docstring).
    """
    gamma = junction.gamma_L + junction.gamma_R
    h_eff = junction.H.astype(jnp.complex128) - 0.5j * gamma
    n = h_eff.shape[0]
    traceless = h_eff - jnp.trace(h_eff) / n * np.eye(n)  # the level shift is irrelevant to the splitting
    scale = jax.lax.stop_gradient(jnp.max(jnp.abs(traceless)))

    def decomposition(h):  # eigenvalues z, right eigenvectors R and R⁻¹
        z, right = eig(h)
        return z, right, jnp.linalg.inv(right)

    z, right, right_inv = decomposition(h_eff)
    defective = _condition(right, right_inv) > _KAPPA_MAX
    spread = jax.lax.stop_gradient(jnp.maximum(scale, jnp.max(-jnp.imag(z))))
    gaps = jnp.where(np.eye(n, dtype=bool), jnp.inf, jnp.abs(z[:, None] - z[None, :]))
    coincident = jax.lax.stop_gradient(jnp.min(gaps)) <= _GAP_MIN * spread
    split = defective | coincident
    delta = math.sqrt(_EPS) * jnp.where(defective, scale, jnp.where(coincident, spread, 0.0))
    # a second decomposition only near an exceptional point or equal eigenvalues (under a batched
    # vmap: always, selected)
    z, right, right_inv = jax.lax.cond(split, lambda: decomposition(h_eff + delta * _generic_direction(n)),
                                       lambda: (z, right, right_inv))
    width = -jnp.imag(z)
    right = check(right, _unbroadened(z, junction), _UNBROADENED)
    kappa = _condition(right, right_inv)
    narrowest = jax.lax.stop_gradient(jnp.min(width))
    error = 10.0 * _EPS * kappa**2 + 10.0 * delta * float(np.max(np.abs(_generic_direction(n)))) / narrowest
    denom = jnp.conj(z)[None, :] - z[:, None]  # [l, k] = z_k* − z_l
    xs, ys = [], []
    for gamma_a in (junction.gamma_L, junction.gamma_R):
        g_tilde = right_inv @ gamma_a @ jnp.conj(right_inv).T
        y_lower = right @ (g_tilde / denom)
        xs.append(jnp.concatenate([right, y_lower], axis=1))
        ys.append(jnp.concatenate([y_lower, right], axis=1))
    return PoleExpansion(z=z, X=jnp.stack(xs), Y=jnp.stack(ys), error=error)
