"""Response of the bosonic modes to the phonon bath at lowest order (docs/physics.md §3, paper Eq. 8).

    D^r(ω) = [ω² − K − Π^r_ph(ω)]⁻¹,  Π^r_ph = −iωη,  A_ph = D^r Γ_ph D^a,  Γ_ph = 2ωη.

Sharp-line limit η → 0: with K = Σ_k Ω_k² u_k u_kᵀ, A_ph(ω) → Σ_k 2π δ(ω² − Ω_k²) u_k u_kᵀ
(ω > 0), for any way η → 0 through positive-definite matrices (in a degenerate subspace
the u_k u_kᵀ sum to its projector whatever η's direction).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from ._checks import real_axis
from ._compiled import compiled
from ._green import eig
from ._model import Modes


@compiled
def boson_green(modes: Modes, omega):
    """Retarded boson Green's function D^r(ω), shape (*omega.shape, N_b, N_b)."""
    omega = real_axis(omega)[..., None, None]
    inverse_d = omega**2 * jnp.eye(modes.n_modes) - modes.K + 1j * omega * modes.eta
    if modes.n_modes == 1:  # a scalar: skip the batched LAPACK call
        return 1.0 / inverse_d
    return jnp.linalg.inv(inverse_d)


@compiled
def boson_spectral(modes: Modes, omega):
    """A_ph(ω) = D^r(ω) Γ_ph(ω) D^a(ω) with Γ_ph = 2ωη, shape (*omega.shape, N_b, N_b)."""
    d = boson_green(modes, omega)
    gamma_ph = 2.0 * real_axis(omega)[..., None, None] * modes.eta
    return d @ gamma_ph @ jnp.conj(jnp.swapaxes(d, -1, -2))


def mode_poles(modes: Modes):
    """Poles ω of D^r with Re ω ≥ 0 (one per mode): roots of det(ω² − K + iωη) = 0.

    From the linearisation [[0, 1], [K, −iη]] (v, ωv) = ω (v, ωv), the roots reflected to
    Re ω ≥ 0 (ω → −ω*), sorted and paired: an underdamped mode's pole appears with its mirror, so its
    pair holds one pole twice; an overdamped one (η > 2Ω for one mode) has two on the imaginary axis,
    and the narrower is kept, the slow relaxation that makes the spectral function's peak near ω = 0
    (−i(η − √(η² − 4Ω²))/2 for one mode; which one of the pair came first was up to rounding). Shape (N_b,).
    """
    nb = modes.n_modes
    companion = jnp.block([[jnp.zeros((nb, nb)), jnp.eye(nb)], [modes.K, -1j * modes.eta]])
    roots = eig(companion.astype(jnp.complex128))[0]  # (derivatives of every order: ``_green.eig``)
    pairs = jnp.sort_complex(jnp.where(jnp.real(roots) >= 0, roots, -jnp.conj(roots))).reshape(nb, 2)
    narrower = jnp.argmin(jnp.abs(jnp.imag(pairs)), axis=1)
    return jnp.take_along_axis(pairs, narrower[:, None], axis=1)[:, 0]


def normal_modes(modes: Modes):
    """Frequencies Ω_k = √(eigenvalues of K) (N_b,) and orthonormal normal modes u_k, the columns of (N_b, N_b)."""
    stiffness, vectors = jnp.linalg.eigh(modes.K)
    return jnp.sqrt(stiffness), vectors


def sharp_line_fluxes(modes: Modes, weighted):
    """Energy and boson-number fluxes of the η → 0 limit (module docstring), per channel:

        J^αβ = Σ_k ½ u_kᵀ Λ^αβ(Ω_k) u_k [n_B(Ω_k − μ_αβ; T_e) − n_B(Ω_k; T_ph)],   N^αβ: the same / Ω_k,

    from ∫_0^∞ dω/2π ω Tr[Λ A_ph] (…) with ∫ dω 2π δ(ω² − Ω²) g(ω) = π g(Ω)/Ω.
    weighted: Λ^αβ(Ω_k) [n_B(Ω_k − μ_αβ; T_e) − n_B(Ω_k; T_ph)], (4, N_b, N_b, N_b) with the
    frequency Ω_k second (finite also at Ω_k = μ_αβ). Returns (J_channels, N_channels), each (4,).
    """
    frequencies, vectors = normal_modes(modes)
    weight = jnp.real(jnp.einsum("mk,ckmn,nk->ck", vectors, weighted, vectors)) / 2  # (4, N_b)
    return jnp.sum(weight, axis=1), jnp.sum(weight / frequencies, axis=1)


def without_friction(modes: Modes):
    """(whether η = 0, the modes with η replaced by the identity where it is 0): the
    quadrature path then stays finite, and ``sharp_line_fluxes`` gives the result."""
    sharp = jnp.all(modes.eta == 0)
    return sharp, eqx.tree_at(lambda m: m.eta, modes, jnp.where(sharp, jnp.eye(modes.n_modes), modes.eta))
