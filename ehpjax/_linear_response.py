"""Linear response near equilibrium: the Onsager matrix by forward-mode autodiff (docs/physics.md §10).

With X_1 = V/T and X_2 = ΔT/T² (ΔT = T_e − T_ph), the boson-assisted charge current I and
the energy current J from the e-bath into the modes are, to first order,

    (I, J) = L (X_1, X_2),      L = T · ∂(I, J)/∂(V, ΔT/T)   at V = 0, ΔT = 0,

with μ_L,R = μ0 ± V/2 and T_e,ph = T ± ΔT/2. L is symmetric (Onsager, no magnetic field)
and positive semi-definite (σ = I X_1 + J X_2 ≥ 0). Derived: conductance G = L_11/T,
thermal conductance between e-bath and modes κ = L_22/T², and S = L_12/(T L_11).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._currents import currents
from ._errors import EhpjaxError
from ._model import Baths, Junction, Modes
from ._quadrature import FrequencyQuadrature


class LinearResponse(eqx.Module):
    """Onsager coefficients at temperature T and chemical potential mu0 (units ħ = k_B = e = 1).

    L: (2, 2) Onsager matrix of (I, J) against (V/T, ΔT/T²).
    G: L_11/T, boson-assisted electrical conductance dI/dV.
    kappa: L_22/T², thermal conductance dJ/dΔT between e-bath and modes.
    S: L_12/(T L_11), thermopower-like ratio (charge current per ΔT over that per V).
    """

    L: Float[Array, "2 2"]
    G: Float[Array, ""]
    kappa: Float[Array, ""]
    S: Float[Array, ""]


def fluxes(junction: Junction, modes: Modes, T, mu0, V, delta_T, *, order: str = "lowest",
           quadrature: FrequencyQuadrature = FrequencyQuadrature(warn=False)):
    """(I, J) at μ_L,R = μ0 ± V/2, T_e,ph = T ± ΔT/2."""
    baths = Baths(mu0 + 0.5 * V, mu0 - 0.5 * V, T + 0.5 * delta_T, T - 0.5 * delta_T)
    result = currents(junction, modes, baths, quadrature=quadrature, order=order)
    return jnp.stack([result.I, result.J])


def linear_response(junction: Junction, modes: Modes, T, mu0, *, order: str = "lowest",
                    quadrature: FrequencyQuadrature = FrequencyQuadrature(warn=False)) -> LinearResponse:
    """Onsager matrix L = T ∂(I, J)/∂(V, ΔT/T) at equilibrium (V = 0, T_e = T_ph = T), by
    forward-mode autodiff (jax.jacfwd) of the currents (module docstring).

    order: "lowest" or "dressed", as for ``currents``. jit/vmap/grad-able.
    """
    if order not in ("lowest", "dressed"):
        raise EhpjaxError(f"order must be 'lowest' or 'dressed', got {order!r}")
    T = jnp.asarray(T, dtype=jnp.float64)
    mu0 = jnp.asarray(mu0, dtype=jnp.float64)

    def flux(forces):  # forces = (V, ΔT/T)
        return fluxes(junction, modes, T, mu0, forces[0], forces[1] * T, order=order, quadrature=quadrature)

    L = T * jax.jacfwd(flux)(jnp.zeros(2))
    return LinearResponse(L=L, G=L[0, 0] / T, kappa=L[1, 1] / T**2, S=L[0, 1] / (T * L[0, 0]))
