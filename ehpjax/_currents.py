"""Energy and charge currents between the e-bath and the modes (SPEC 5, paper Eq. 8).

    T^αβ(ω) = Tr[Λ^αβ(ω) A_ph(ω)]
    J^αβ = ∫_0^∞ dω/2π ω T^αβ(ω) [n_B(ω − μ_αβ; T_e) − n_B(ω; T_ph)],   J = Σ_αβ J^αβ
    N^αβ = the same without ω,   I = N^LR − N^RL,   P = I V,
    σ = (P − J)/T_e + J/T_ph ≥ 0.
"""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._bosons import boson_spectral, mode_poles, normal_modes, sharp_line_fluxes, without_friction
from ._ehp import channel_weights, ehp_dos, ehp_half_from_poles, golden_rule_rates
from ._green import pole_expansion
from ._model import Baths, Junction, Modes
from ._quadrature import FrequencyQuadrature, kronrod_error
from ._special import bose, digamma, x_bose


_MODE_WEIGHT = 3
_EDGE_WEIGHT = 0.5


class Currents(eqx.Module):
    """Steady-state currents (units ħ = k_B = e = 1). Channels ordered LL, RR, RL, LR.

    J: energy current e-bath → modes (J > 0 heats the modes, J < 0 cools them).
    J_channels, N_channels: energy and boson-number flux per EHP channel.
    I: boson-assisted charge current, electrons per unit time from L to R.
    I_elastic: elastic Landauer current (flows besides I; total I + I_elastic).
    P: electrical power I·V fed into the boson-assisted processes.
    entropy_production: σ = (P − J)/T_e + J/T_ph (≥ 0 by the second law).
    J_error, I_error: estimated quadrature errors of J and I.
    """

    J: Float[Array, ""]
    J_channels: Float[Array, "4"]
    N_channels: Float[Array, "4"]
    I: Float[Array, ""]
    I_elastic: Float[Array, ""]
    P: Float[Array, ""]
    entropy_production: Float[Array, ""]
    J_error: Float[Array, ""]
    I_error: Float[Array, ""]

    def __str__(self) -> str:
        names = ("LL", "RR", "RL", "LR")
        lines = [
            f"J   = {float(self.J): .10e}   (energy current e-bath -> modes; error ~ {float(self.J_error):.1e})",
            *(f"  J^{c} = {float(v): .10e}" for c, v in zip(names, self.J_channels)),
            f"I   = {float(self.I): .10e}   (boson-assisted charge current L -> R)",
            f"I_el= {float(self.I_elastic): .10e}   (elastic charge current L -> R)",
            f"P   = {float(self.P): .10e}   (power I*V)",
            f"σ   = {float(self.entropy_production): .10e}   (entropy production)",
        ]
        return "\n".join(lines)


def _resonances(z, modes: Modes, baths: Baths):
    """(centres, half-widths, weights) of the features of the ω integrand, from the
    nearest complex singularities: the mode poles (weight _MODE_WEIGHT: they carry the
    heat), the electronic resonances at Re(z_k − z_p), k ≠ p, half-width −Im(z_k + z_p),
    and the Fermi edges that cross a level, ω = |μ_l − Re z_k| for l = L, R, half-width
    −Im z_k + πT_e (poles of ψ(1/2 + (μ_l ∓ ω − z_k)/2πiT_e) in Λ, docs/physics.md §4)."""
    poles = mode_poles(modes)
    undamped = jnp.min(jnp.abs(jnp.imag(poles))) <= 1e-12 * jnp.max(jnp.abs(poles))
    poles = eqx.error_if(poles, undamped, "a normal mode of K is not damped by eta (eta annihilates an "
                         "eigenvector of K): a sharp line that eta = 0 treats only for all modes at once; "
                         "give that mode a small friction")
    centres = [jnp.real(poles)]
    widths = [jnp.abs(jnp.imag(poles))]
    weights = [jnp.full(poles.shape, float(_MODE_WEIGHT))]
    n = z.shape[0]
    if n > 1:
        k, p = jnp.triu_indices(n, 1)
        k, p = jnp.concatenate([k, p]), jnp.concatenate([p, k])
        centres.append(jnp.real(z[k] - z[p]))
        widths.append(-jnp.imag(z[k] + z[p]))
        weights.append(jnp.ones(k.shape))
    edges = jnp.abs(jnp.stack([baths.mu_L, baths.mu_R])[:, None] - jnp.real(z)[None, :]).ravel()
    centres.append(edges)
    widths.append(jnp.tile(-jnp.imag(z) + jnp.pi * baths.T_e, 2))
    weights.append(jnp.full(edges.shape, _EDGE_WEIGHT))
    return jnp.concatenate(centres), jnp.concatenate(widths), jnp.concatenate(weights)


def _occupation_difference(omega, mu, T_e, T_ph):
    """n_B(ω − μ_αβ; T_e) − n_B(ω; T_ph) on nodes ω > 0 (zero-weight nodes at the
    singular points are set to 0)."""
    x = omega - mu
    singular = (jnp.abs(x) < 1e-300) | (omega <= 0)
    x_safe = jnp.where(singular, 1.0, x)
    omega_safe = jnp.where(singular, 1.0, omega)
    return jnp.where(singular, 0.0, bose(x_safe, T_e) - T_ph * x_bose(omega_safe / T_ph) / omega_safe)


def _transmission(weights, z, modes: Modes, baths: Baths, omega, size):
    """T^αβ(ω) = Tr[Λ^αβ(ω) A_ph(ω)] on the nodes, shape (4, P), in blocks of ``size``
    nodes (``FrequencyQuadrature.block``): a block's arrays stay in cache, and the backward
    pass recomputes each block (jax.checkpoint) instead of storing every node's arrays."""

    def block(om):
        half = ehp_half_from_poles(weights, z, om, baths)  # Λ = −(X + X†)/2π, (4, Nb, Nb, B)
        a_ph = jnp.transpose(boson_spectral(modes, om), (2, 1, 0))  # A_ph[n, m] as (m, n, B), Hermitian
        return -jnp.real(jnp.sum(half * a_ph, axis=(1, 2))) / jnp.pi

    count = omega.shape[0]
    if size is None or size >= count:
        return block(omega)
    blocks = -(-count // size)
    padded = jnp.concatenate([omega, jnp.broadcast_to(omega[-1:], (blocks * size - count,))])
    per_block = jax.lax.map(jax.checkpoint(block), padded.reshape(blocks, size))  # (blocks, 4, B)
    return jnp.moveaxis(per_block, 1, 0).reshape(4, -1)[:, :count]


def elastic_current(junction: Junction, baths: Baths):
    """I_el = ∫ dε/2π Tr[Γ_L G^r Γ_R G^a] (f(ε; μ_L) − f(ε; μ_R)), exactly from the poles:
    ∫ dε (f_L − f_R)/(ε − p) = ψ(w_p(μ_L)) − ψ(w_p(μ_R)), w_p = 1/2 + (μ − p)/(2πiT)."""
    poles = pole_expansion(junction)
    n = poles.z.shape[0]
    coeff = jnp.einsum("ij,ik,kj->j", jnp.conj(poles.Y[1]), junction.gamma_L, poles.X[1])
    c = 2j * jnp.pi * baths.T_e
    psi_left = digamma(0.5 + (baths.mu_L - poles.z) / c)
    psi_right = digamma(0.5 + (baths.mu_R - poles.z) / c)
    diff = psi_left - psi_right
    total = jnp.sum(coeff[:n] * diff + coeff[n:] * jnp.conj(diff))
    return junction.spin_degeneracy * jnp.real(total) / (2 * jnp.pi)


# SPEC 8's accuracy promise: |x − ref| ≤ rtol · max(|ref|, ERROR_FLOOR).
ERROR_FLOOR = 1e-4


def misses_tolerance(value, error, rtol):
    """Whether an estimated quadrature ``error`` misses SPEC 8's tolerance
    rtol · max(|value|, 1e-4) (NumPy, elementwise)."""
    return np.asarray(error) > rtol * np.maximum(np.abs(np.asarray(value)), ERROR_FLOOR)


def _warn_inaccurate(J, J_err, I, I_err, rtol):
    if np.any(misses_tolerance(J, J_err, rtol) | misses_tolerance(I, I_err, rtol)):
        warnings.warn(
            f"ehpjax.currents: the frequency quadrature may miss the requested accuracy "
            f"(estimated error of J {np.max(J_err):.2e}, of I {np.max(I_err):.2e}; "
            f"tolerance {rtol:g} * max(|value|, {ERROR_FLOOR:g})). "
            "Use more panels, e.g. quadrature=FrequencyQuadrature(panels=16).",
            RuntimeWarning,
            stacklevel=2,
        )


def currents(
    junction: Junction,
    modes: Modes,
    baths: Baths,
    *,
    quadrature: FrequencyQuadrature = FrequencyQuadrature(),
) -> Currents:
    """Heat, boson-number and charge currents of SPEC 5 at lowest order (paper Eq. 8).

    Pure, jit-able, vmap-able and differentiable in every field of the inputs.
    """
    if junction.n_modes != modes.n_modes:
        raise ValueError(f"junction.M has {junction.n_modes} modes but modes.K has {modes.n_modes}")
    poles = pole_expansion(junction)
    weights = channel_weights(junction, poles)
    V = baths.V
    sharp, modes = without_friction(modes)  # η = 0: the sharp-line limit, below
    omega, w_kronrod, w_gauss = quadrature.nodes(_resonances(poles.z, modes, baths), jnp.abs(V), baths.T_e, baths.T_ph)

    transmission = _transmission(weights, poles.z, modes, baths, omega, quadrature.block)  # Tr[Λ^αβ A_ph], (4, P)
    occupation = _occupation_difference(omega[None], baths.mu_channels[:, None], baths.T_e, baths.T_ph)
    number_density = transmission * occupation / (2 * jnp.pi)  # (4, P)
    energy_density = omega * number_density

    J_channels = energy_density @ w_kronrod
    N_channels = number_density @ w_kronrod
    line = normal_modes(modes)[0]
    fluxes = sharp_line_fluxes(modes, golden_rule_rates(junction, baths, line)[0]
                               - bose(line, baths.T_ph)[:, None, None] * ehp_dos(junction, baths, line))
    J_channels, N_channels = (jnp.where(sharp, exact, quad) for exact, quad in zip(fluxes, (J_channels, N_channels)))
    sign_I = jnp.array([0.0, 0.0, -1.0, 1.0])
    I = N_channels @ sign_I

    def error(density):  # the rule's (``kronrod_error``) and the pole expansion's (relative) error
        return kronrod_error(density, w_kronrod, w_gauss) + poles.error * jnp.abs(density) @ w_kronrod

    J_error = jnp.where(sharp, poles.error * jnp.sum(jnp.abs(J_channels)), error(jnp.sum(energy_density, axis=0)))
    I_error = jnp.where(sharp, poles.error * jnp.abs(I), error(sign_I @ number_density))

    J = jnp.sum(J_channels)
    P = I * V
    sigma = (P - J) / baths.T_e + J / baths.T_ph
    if quadrature.warn:
        jax.debug.callback(_warn_inaccurate, J, J_error, I, I_error, quadrature.rtol)
    return Currents(
        J=J,
        J_channels=J_channels,
        N_channels=N_channels,
        I=I,
        I_elastic=elastic_current(junction, baths),
        P=P,
        entropy_production=sigma,
        J_error=J_error,
        I_error=I_error,
    )


def cooling_cop(result: Currents):
    """Cooling coefficient of performance −J/P where J < 0 and P > 0, else 0 (SPEC 5)."""
    cooling = (result.J < 0) & (result.P > 0)
    return jnp.where(cooling, -result.J / jnp.where(cooling, result.P, 1.0), 0.0)


def rectification(junction: Junction, modes: Modes, T0, delta_T, mu_L, mu_R=None, *,
                  quadrature: FrequencyQuadrature = FrequencyQuadrature()):
    """Thermal rectification R(ΔT) = (|J(ΔT)| − |J(−ΔT)|)/(|J(ΔT)| + |J(−ΔT)|) ∈ [−1, 1]
    with T_e = T0 + ΔT/2, T_ph = T0 − ΔT/2 (SPEC 5); μ_R defaults to μ_L."""
    mu_R = mu_L if mu_R is None else mu_R
    forward = currents(junction, modes, Baths(mu_L, mu_R, T0 + 0.5 * delta_T, T0 - 0.5 * delta_T), quadrature=quadrature)
    backward = currents(junction, modes, Baths(mu_L, mu_R, T0 - 0.5 * delta_T, T0 + 0.5 * delta_T), quadrature=quadrature)
    a, b = jnp.abs(forward.J), jnp.abs(backward.J)
    return (a - b) / (a + b)
