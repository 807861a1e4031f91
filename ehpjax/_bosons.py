"""Response of the bosonic modes to the phonon bath at lowest order (SPEC 3, paper Eq. 8).

    D^r(ω) = [ω² − K − Π^r_ph(ω)]⁻¹,  Π^r_ph = −iωη,  A_ph = D^r Γ_ph D^a,  Γ_ph = 2ωη.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._model import Modes


def boson_green(modes: Modes, omega):
    """Retarded boson Green's function D^r(ω), shape (*omega.shape, N_b, N_b)."""
    omega = jnp.asarray(omega, dtype=jnp.float64)[..., None, None]
    inverse_d = omega**2 * jnp.eye(modes.n_modes) - modes.K + 1j * omega * modes.eta
    if modes.n_modes == 1:  # a scalar: skip the batched LAPACK call
        return 1.0 / inverse_d
    return jnp.linalg.inv(inverse_d)


def boson_spectral(modes: Modes, omega):
    """A_ph(ω) = D^r(ω) Γ_ph(ω) D^a(ω) with Γ_ph = 2ωη, shape (*omega.shape, N_b, N_b)."""
    d = boson_green(modes, omega)
    gamma_ph = 2.0 * jnp.asarray(omega, dtype=jnp.float64)[..., None, None] * modes.eta
    return d @ gamma_ph @ jnp.conj(jnp.swapaxes(d, -1, -2))


def mode_poles(modes: Modes):
    """Poles ω of D^r with Re ω ≥ 0 (one per mode): roots of det(ω² − K + iωη) = 0.

    From the linearisation [[0, 1], [K, −iη]] (v, ωv) = ω (v, ωv). Shape (N_b,).
    """
    nb = modes.n_modes
    companion = jnp.block([[jnp.zeros((nb, nb)), jnp.eye(nb)], [modes.K, -1j * modes.eta]])
    roots = jax.lax.linalg.eig(companion.astype(jnp.complex128), compute_left_eigenvectors=False,
                               compute_right_eigenvectors=False)[0]
    roots = jnp.sort_complex(jnp.where(jnp.real(roots) >= 0, roots, -jnp.conj(roots)))
    # Each pole appears with its mirror −ω*; keep one of each pair (sorted: pairs adjacent).
    return roots[::2]
