"""Green's and spectral functions of the conductor (SPEC 2).

Besides the direct formulas, the wide-band spectral functions are expanded in their
poles: with H_eff = H − i(Γ_L + Γ_R)/2 = R diag(z) R⁻¹,

    A_α(ε) = G^r Γ_α G^a = Σ_{j=1}^{2n} x^α_j (y^α_j)† / (ε − p_j),   p = (z, z*),

a sum of 2n rank-one terms. This is what lets the energy integral of Λ be done
exactly (see ``_ehp.py``) instead of on a grid.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from ._model import Junction


def retarded_green(junction: Junction, energy):
    """G^r(ε) = [ε − H + i(Γ_L + Γ_R)/2]⁻¹, shape (*energy.shape, n, n)."""
    energy = jnp.asarray(energy, dtype=jnp.float64)
    n = junction.n_levels
    h_eff = junction.H - 0.5j * (junction.gamma_L + junction.gamma_R)
    eye = jnp.eye(n, dtype=h_eff.dtype)
    return jnp.linalg.inv(energy[..., None, None] * eye - h_eff)


def spectral_functions(junction: Junction, energy):
    """Partial spectral functions (A_L, A_R), A_α = G^r Γ_α G^a, each (*energy.shape, n, n)."""
    g = retarded_green(junction, energy)
    g_adv = jnp.conj(jnp.swapaxes(g, -1, -2))
    return g @ junction.gamma_L @ g_adv, g @ junction.gamma_R @ g_adv


def spectral_function(junction: Junction, energy):
    """Total spectral function A = A_L + A_R = i(G^r − G^a)."""
    a_left, a_right = spectral_functions(junction, energy)
    return a_left + a_right


class PoleExpansion(eqx.Module):
    """A_α(ε) = Σ_j X[α, :, j] Y[α, :, j]† / (ε − p_j) with p = (z, z*) (α = L, R)."""

    z: jax.Array  # (n,) eigenvalues of H_eff, Im z < 0
    X: jax.Array  # (2, n, 2n)
    Y: jax.Array  # (2, n, 2n)


def pole_expansion(junction: Junction) -> PoleExpansion:
    """Rank-one pole expansion of A_L and A_R (module docstring).

    With γ̃^α = R⁻¹ Γ_α R⁻†, partial fractions of 1/((ε − z_k)(ε − z_l*)) give the
    residue at z_k: R_k y_k† with y_k = Σ_l R_l γ̃^α_lk / (z_k* − z_l); the residue at
    z_k* is its adjoint y_k R_k†.
    """
    gamma = junction.gamma_L + junction.gamma_R
    h_eff = junction.H.astype(jnp.complex128) - 0.5j * gamma
    z, right = jax.lax.linalg.eig(h_eff, compute_left_eigenvectors=False, enable_eigvec_derivs=True)[:2]
    width = -jnp.imag(z)
    scale = 1.0 + jnp.max(jnp.abs(gamma))
    right = eqx.error_if(
        right,
        jnp.min(width) < 1e-9 * scale,
        "a state of H is not broadened by the leads (Im z = 0 for an eigenvalue of "
        "H − i(Γ_L+Γ_R)/2): its spectral function is a delta function; add a small broadening",
    )
    right_inv = jnp.linalg.inv(right)
    denom = jnp.conj(z)[None, :] - z[:, None]  # [l, k] = z_k* − z_l
    xs, ys = [], []
    for gamma_a in (junction.gamma_L, junction.gamma_R):
        g_tilde = right_inv @ gamma_a @ jnp.conj(right_inv).T
        y_lower = right @ (g_tilde / denom)
        xs.append(jnp.concatenate([right, y_lower], axis=1))
        ys.append(jnp.concatenate([y_lower, right], axis=1))
    return PoleExpansion(z=z, X=jnp.stack(xs), Y=jnp.stack(ys))
