"""Current-induced forces on the modes from the e-bath self-energy (docs/physics.md §6, §9).

The e-bath adds Π^r_e(ω) = Δ(ω) − iΓ_e(ω)/2 to the modes' dynamical matrix (K → K + Π^r_e).
Δ and Γ_e are Hermitian; a Hermitian matrix is S + iA with S real symmetric and A real
antisymmetric. Hence

    Π^r_e = [Δ_S + Γ_A/2] + i[Δ_A − Γ_S/2],    Δ = Δ_S + iΔ_A,  Γ_e = Γ_S + iΓ_A,

four real matrices, each a force of its own kind (for mass-normalised displacements u,
force = −Π u in the frequency domain):

- friction Γ_S (symmetric, dissipative): like the phonon bath's Γ_ph = 2ωη, so the
  electronic friction coefficient is η_e = Γ_S/(2ω) (units of frequency);
- renormalisation Δ_S (symmetric, conservative): shifts K (units of frequency²);
- non-conservative force Γ_A/2 (real antisymmetric, the curl force that drives the
  exceptional point of §6, units of frequency²);
- Berry force Δ_A (antisymmetric, enters as iΔ_A: a velocity-dependent Lorentz-like
  force, effective "magnetic field" B = Δ_A/ω, units of frequency).

Units: ħ = k_B = e = 1; frequencies in the unit of ħΩ, Π in frequency².
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._bosons import mode_poles
from ._checks import real_axis
from ._compiled import compiled
from ._model import Baths, Junction, Modes
from ._selfenergy import self_energy


class CurrentInducedForces(eqx.Module):
    """The four parts of Π^r_e at the frequencies ω (module docstring), each (*ω.shape, N_b, N_b) real.

    omega: the frequencies (units of ω).
    friction: Γ_S, symmetric part of Γ_e (frequency²); friction_coefficient η_e = Γ_S/(2ω) (frequency).
    renormalization: Δ_S, symmetric part of Δ (frequency²): K_eff = K + Δ_S + ….
    nonconservative: Γ_A/2, the real antisymmetric part of Π^r_e (frequency²).
    berry: Δ_A, the antisymmetric part of Im Δ (frequency²); berry_field = Δ_A/ω (frequency).
    self_energy: Π^r_e itself (complex, frequency²).
    """

    omega: Float[Array, "*w"]
    friction: Float[Array, "*w Nb Nb"]
    friction_coefficient: Float[Array, "*w Nb Nb"]
    renormalization: Float[Array, "*w Nb Nb"]
    nonconservative: Float[Array, "*w Nb Nb"]
    berry: Float[Array, "*w Nb Nb"]
    berry_field: Float[Array, "*w Nb Nb"]
    self_energy: Array


def decompose(pi, omega) -> CurrentInducedForces:
    """Split Π^r_e (…, N_b, N_b) at ω into the four forces (module docstring)."""
    pi_h = jnp.conj(jnp.swapaxes(pi, -1, -2))
    delta = 0.5 * (pi + pi_h)
    gamma = 1j * (pi - pi_h)
    w = jnp.asarray(omega, dtype=jnp.float64)[..., None, None]
    friction = jnp.real(gamma)
    berry = jnp.imag(delta)
    return CurrentInducedForces(
        omega=jnp.asarray(omega, dtype=jnp.float64),
        friction=friction,
        friction_coefficient=friction / (2 * w),
        renormalization=jnp.real(delta),
        nonconservative=0.5 * jnp.imag(gamma),
        berry=berry,
        berry_field=berry / w,
        self_energy=pi,
    )


@compiled
def current_induced_forces(junction: Junction, baths: Baths, omega=None, *, modes: Modes | None = None
                           ) -> CurrentInducedForces:
    """Friction, renormalisation, non-conservative and Berry forces of the e-bath on the modes
    at the real frequencies ``omega`` (docs/physics.md §9; module docstring for the units).

    omega defaults to the bare mode frequencies Re ω_k (then ``modes`` is required); each
    field has shape (*omega.shape, N_b, N_b). Exact from the poles of G^r, jit/vmap/grad-able.
    Compare the non-conservative part with its flat-DOS limit V·``nonconservative_coefficient``
    (docs/physics.md §6), which holds when A_α is flat over the bias and thermal window.
    """
    if omega is None:
        if modes is None:
            raise ValueError("give omega, or modes (then omega = the bare mode frequencies)")
        omega = jnp.real(mode_poles(modes))
    omega = real_axis(omega)
    return decompose(self_energy(junction, baths, omega), omega)
