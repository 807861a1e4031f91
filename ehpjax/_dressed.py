"""Modes dressed by the e-bath: the five-terminal Landauer–Büttiker formula (docs/physics.md §9).

Terminals a ∈ (LL, RR, RL, LR, ph) with broadenings Γ_a = Λ^αβ (the EHP baths) and
Γ_ph = 2ωη, and occupations n_a = n_B(ω − μ_αβ; T_e), n_ph = n_B(ω; T_ph):

    D^r(ω) = [ω² − K + iωη − Π^r_e(ω)]⁻¹,       T_ab(ω) = Tr[Γ_a D^r Γ_b D^a],
    J_a = ∫_0^∞ dω/2π ω Σ_b T_ab (n_a − n_b),   N_a: the same without ω,

with Π^r_e = Δ − iΓ_e/2 exact from the poles (``_selfenergy.py``). Σ_b Γ_b = i(D^r⁻¹† − D^r⁻¹)
makes Σ_a J_a = 0 node by node. Reported like the lowest order: J = −J_ph,
J_channels = (J_LL, J_RR, J_RL, J_LR), I = N_LR − N_RL, P = I V,
σ = (P − J)/T_e + J/T_ph, and the 5×5 and per-terminal fluxes.

The ω integral uses the mapped Gauss–Kronrod nodes of ``_quadrature.py`` placed at the
DRESSED mode poles (``_stability.follow_poles``) and the electronic resonances. A junction
whose dressed poles reach the upper half-plane has no steady state: a plain call raises
``DressedInstabilityError`` naming the growth rate; under jit/vmap the result is flagged
(``stable``, ``growth_rate``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ._adaptive import SPLIT_AIM, AdaptiveQuadrature, Finer, batching_context, refinable, refine
from ._bosons import mode_poles
from ._compiled import compiled
from ._currents import (_MODE_WEIGHT, ResultsByName, _misses, _occupation_difference, _warn_inaccurate,
                        elastic_current, integral_errors, part_error, report_accuracy, self_pair_component)
from ._ehp import channel_weights
from ._errors import EhpjaxError
from ._checks import is_traced
from ._green import pole_expansion
from ._model import Baths, Junction, Modes
from ._quadrature import WHOLE, FrequencyQuadrature, node_sum, same_values
from ._selfenergy import self_energy_parts
from ._stability import (
    SETTLED,
    DressedModes,
    follow_distinct,
    follow_poles,
    hybrid_poles,
    inverse_response,
    largest_settled,
    largest_unstable,
    mode_scale,
    placed_poles,
    raise_if_unstable,
    tail_nodes,
    unstable_count,
    unstable_zero,
    with_growth_rate,
    with_unstable_hybrid,
)

TERMINALS = ("LL", "RR", "RL", "LR", "ph")


class DressedCurrents(ResultsByName, eqx.Module):
    """Steady-state currents with the modes dressed by the e-bath (units ħ = k_B = e = 1).

    The fields of the lowest order (``Currents``): J (e-bath → modes → ph-bath), J_channels,
    N_channels (LL, RR, RL, LR), I, I_elastic, P, entropy_production, J_error, I_error; and

    J_terminals, N_terminals: (5,) energy and boson-number flux into the modes from each
        terminal (LL, RR, RL, LR, ph); they sum to zero.
    J_matrix, N_matrix: (5, 5) pairwise fluxes ∫ dω/2π (ω) T_ab (n_a − n_b), J_terminals = Σ_b J_matrix[a, b].
    stable, growth_rate, unstable_count: stability of the dressed modes (``DressedModes``);
        where stable is False the numbers above mean nothing (there is no steady state).
        growth_rate is that of the poles the node placement's few search steps settled on; NaN
        where it is not known that way (``dressed_modes`` searches further and scans the
        imaginary axis; a plain call's error names its rate). Under strong coupling those few
        steps can jump past the least damped zero (4 of 210 stable strongly coupled two-mode
        junctions gave a rate below ``dressed_modes``'); stable and unstable_count do not depend
        on them (the argument principle).
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
    J_terminals: Float[Array, "5"]
    N_terminals: Float[Array, "5"]
    J_matrix: Float[Array, "5 5"]
    N_matrix: Float[Array, "5 5"]
    stable: Bool[Array, ""]
    growth_rate: Float[Array, ""]
    unstable_count: Int[Array, ""]

    def as_dict(self) -> dict:
        """``Currents.as_dict`` plus the stability: growth_rate and stable (1.0 or 0.0)."""
        return {**super().as_dict(), "growth_rate": self.growth_rate, "stable": self.stable.astype(self.J.dtype)}

    def __str__(self) -> str:
        lines = [
            f"J   = {float(self.J): .10e}   (dressed: e-bath -> modes -> ph-bath; error ~ {float(self.J_error):.1e})",
            *(f"  J^{c} = {float(v): .10e}" for c, v in zip(TERMINALS, self.J_terminals)),
            f"I   = {float(self.I): .10e}   (boson-assisted charge current L -> R)",
            f"I_el= {float(self.I_elastic): .10e}   (elastic charge current L -> R)",
            f"P   = {float(self.P): .10e}   (power I*V)",
            f"σ   = {float(self.entropy_production): .10e}   (entropy production)",
            f"stable = {bool(self.stable)} (growth rate {float(self.growth_rate):.4g})",
        ]
        return "\n".join(lines)


def dressed_resonances(z, poles, baths: Baths):
    """(centres, half-widths, weights) of the dressed integrand's peaks: the poles of D (weight
    as the lowest order's mode poles: the dressed mode poles, and the hybrid ones beside narrow pair
    resonances, ``_stability.placed_poles``) and the electronic ones Re(z_k − z_p), k ≠ p; then the
    narrowest level's self-pair at ω = 0 (``_currents.self_pair_component``)."""
    # (half-widths down to 1e-12 of the pole's frequency, and a pole at ω = 0 still a finite width)
    widths = jnp.maximum(jnp.abs(jnp.imag(poles)), 1e-12 * jnp.maximum(jnp.abs(poles), 1e-6))
    centres, widths = [jnp.abs(jnp.real(poles))], [widths]
    weights = [jnp.full(poles.shape, float(_MODE_WEIGHT))]
    n = z.shape[0]
    if n > 1:
        k, p = jnp.triu_indices(n, 1)
        k, p = jnp.concatenate([k, p]), jnp.concatenate([p, k])
        centres.append(jnp.real(z[k] - z[p]))
        widths.append(-jnp.imag(z[k] + z[p]))
        weights.append(jnp.ones(k.shape))
    return (jnp.concatenate(centres), jnp.concatenate(widths), jnp.concatenate(weights),
            *self_pair_component(z, baths))


def _terminal_broadenings(x, modes: Modes, omega):
    """Γ_a for a = LL, RR, RL, LR (Λ = −(X + X†)/2π) and ph (2ωη): (5, N_b, N_b, P)."""
    lam = -(x + jnp.conj(jnp.swapaxes(x, 1, 2))) / (2 * jnp.pi)
    gamma_ph = 2 * omega[None, None, :] * modes.eta[:, :, None]
    return jnp.concatenate([lam, gamma_ph[None].astype(lam.dtype)])


def _node_block(weights, z, modes: Modes, baths: Baths, omega):
    """On nodes ω (B,): T_ab (5, 5, B) and det F (B,)."""
    pi, x = self_energy_parts(weights, z, omega, baths)
    gammas = _terminal_broadenings(x, modes, omega)  # (5, Nb, Nb, B)
    f = inverse_response(modes, jnp.moveaxis(jnp.sum(pi, axis=0), -1, 0), omega)  # (B, Nb, Nb)
    if modes.n_modes == 1:
        d = 1.0 / f
        det = f[:, 0, 0]
    else:
        d = jnp.linalg.inv(f)
        det = jnp.linalg.det(f)
    g = jnp.moveaxis(gammas, -1, 1)  # (5, B, Nb, Nb)
    b = d[None] @ g @ jnp.conj(jnp.swapaxes(d, -1, -2))[None]  # D Γ_b D†, (5, B, Nb, Nb)
    t = jnp.real(jnp.einsum("abmn,cbnm->acb", g, b))  # Tr[Γ_a D Γ_c D†]
    return t, det


def _det_only(weights, z, modes, baths, omega):
    """det F on nodes ω (B,), as ``_node_block`` gives it."""
    pi, _ = self_energy_parts(weights, z, omega, baths)
    f = inverse_response(modes, jnp.moveaxis(jnp.sum(pi, axis=0), -1, 0), omega)
    return f[:, 0, 0] if modes.n_modes == 1 else jnp.linalg.det(f)


def _blocked(fn, omega, size):
    count = omega.shape[0]
    if size is None or size >= count:
        return fn(omega)
    blocks = -(-count // size)
    padded = jnp.concatenate([omega, jnp.broadcast_to(omega[-1:], (blocks * size - count,))])
    out = jax.lax.map(jax.checkpoint(fn), padded.reshape(blocks, size))
    return jax.tree_util.tree_map(lambda y: jnp.moveaxis(y, 0, -2).reshape(y.shape[1:-1] + (-1,))[..., :count], out)


def dressed_currents(
    junction: Junction,
    modes: Modes,
    baths: Baths,
    *,
    quadrature: AdaptiveQuadrature | FrequencyQuadrature = AdaptiveQuadrature(),
) -> DressedCurrents:
    """Currents of docs/physics.md §9: the lowest-order fields plus the 5×5 and per-terminal
    fluxes, with the modes dressed by the e-bath (module docstring).

    quadrature: a ``FrequencyQuadrature`` is used as given; an ``AdaptiveQuadrature`` computes
    every point with its fine rule and, where that misses the tolerance, again with the fine
    rule on each of its ``parts``, and its splits (its coarse rule is not used: ``_whole_and_parts``).

    Pure, jit-able, vmap-able and differentiable in every field of the inputs (derivatives, and
    the values that come with them, are the fine rule's on the whole range). Errors estimated
    in J_error, I_error; a warning when above quadrature.rtol · max(|value|, 1e-4). Raises
    ``DressedInstabilityError`` (naming the growth rate) for an unstable junction when called
    on concrete values; under jit/vmap the result carries ``stable = False`` instead.
    """
    if junction.n_modes != modes.n_modes:
        raise EhpjaxError(f"junction.M has {junction.n_modes} modes but modes.K has {modes.n_modes}")
    traced = is_traced((junction, modes, baths))
    result = _dressed_currents(junction, modes, baths, quadrature, refinable() if traced else True)
    J, J_error, I, I_error = result.J, result.J_error, result.I, result.I_error
    if is_traced(result):
        if quadrature.warn:
            result = report_accuracy(result, quadrature.rtol)
        return result
    raise_if_unstable(result.stable, result.growth_rate, result.unstable_count, "ehpjax.currents(order='dressed')",
                      baths.V, find_rate=lambda: dressed_modes(junction, modes, baths).growth_rate)
    if quadrature.warn:
        _warn_inaccurate(J, J_error, I, I_error, quadrature.rtol)
    return result


@compiled
def _dressed_currents(junction: Junction, modes: Modes, baths: Baths, quadrature, active=True):
    """The fields of ``dressed_currents`` (no stability error, no warning)."""
    poles = pole_expansion(junction)
    weights = channel_weights(junction, poles)
    followed, step = follow_poles(junction, modes, baths, ramp_steps=3, newton_steps=5)
    # The growth rate: the largest Im ω of the poles on which these few steps settled
    # (``_stability.SETTLED``; on 400 random two-level junctions 350 did, their zeros within 2e-13 of
    # the full search's; the paper's model's last steps were 6e-9 and 2e-8); ``_combine`` finishes it.
    hybrid = hybrid_poles(junction, modes, baths, poles)
    growths = (largest_settled(followed, step <= SETTLED), largest_unstable(hybrid))
    args = (weights, poles, placed_poles(junction, modes, baths, followed, step, poles, hybrid), modes, baths,
            elastic_current(junction, baths, poles), growths)
    with batching_context():
        if isinstance(quadrature, AdaptiveQuadrature):
            return _whole_and_parts(quadrature, args, active)
        return _combine(_sums(quadrature, WHOLE, *args), *args)


def _whole_and_parts(quadrature: AdaptiveQuadrature, args, active):
    """The dressed currents on ``quadrature.fine``, and where they miss its tolerance on the fine rule
    in each of ``quadrature.parts`` parts of its range (``_adaptive.refine``): the parts' fluxes and
    errors added, the stability (the argument principle on the whole range's nodes) kept."""
    fine = same_values(quadrature.fine)
    misses = functools.partial(_misses, rtol=quadrature.rtol)

    def whole(*a):
        return _sums_once(fine, WHOLE, *a)

    if quadrature.parts == 1:
        return _combine(whole(*args), *args)
    finer = Finer(quadrature.parts, misses, restart=_restart, after_coarse=True,
                  part_error=lambda sums, result: part_error(sums.errors[0], sums.errors[1], result),
                  splits=quadrature.splits, aim=functools.partial(_misses, rtol=SPLIT_AIM * quadrature.rtol))
    return refine(whole, functools.partial(_sums_once, fine), _combine, misses, args, _BUFFER_FRACTION, active,
                  derivative=lambda *a: _combine(whole(*a), *a), finer=finer)


# Under vmap every point's whole range and the flagged points' parts go through buffers of this
# fraction of the batch (``_adaptive.Finer.after_coarse``).
_BUFFER_FRACTION = 1 / 4


class _Sums(NamedTuple):
    """What a rule on (a part of) the ω range adds up: the 5×5 fluxes and the error estimates, and
    (on the whole range only; 0 on a part) the argument principle's count of unstable zeros."""

    J_matrix: Float[Array, "5 5"]
    N_matrix: Float[Array, "5 5"]
    errors: Float[Array, "2"]
    unstable_count: Int[Array, ""]


def _restart(sums: _Sums) -> _Sums:
    """The sums a point's parts are added to: its whole-range count, nothing else."""
    zero = jnp.zeros_like
    return _Sums(zero(sums.J_matrix), zero(sums.N_matrix), zero(sums.errors), sums.unstable_count)


def _sums(quadrature: FrequencyQuadrature, part, weights, poles, estimate, modes: Modes, baths: Baths,
          I_elastic, growths) -> _Sums:
    """``_Sums`` on the rule's nodes in ``part`` of its range (``FrequencyQuadrature.nodes``), with
    the count from det F on them and on the tail nodes beyond when ``part`` is the whole range (the
    parts of a finer rule run the same code: one copy of it in a program for one point)."""
    features = dressed_resonances(poles.z, estimate, baths)
    omega, w_kronrod, w_gauss, mapped = quadrature.nodes(features, jnp.abs(baths.V), baths.T_e, baths.T_ph, part)
    transmission, det = _blocked(lambda om: _node_block(weights, poles.z, modes, baths, om), omega, quadrature.block)
    # The tail nodes (beyond the window, for the argument principle only) need det F alone.
    tail = tail_nodes(omega[-1], jax.lax.stop_gradient(mode_scale(modes)), estimate)
    det_tail = _blocked(lambda om: _det_only(weights, poles.z, modes, baths, om), tail, quadrature.block)
    whole = (part[0] == WHOLE[0]) & (part[1] == WHOLE[1])
    det = jax.lax.stop_gradient(jnp.concatenate([det, det_tail]))
    count = jnp.where(whole, unstable_count(det, modes.n_modes), 0)

    occ = _occupation_difference(omega, baths.mu_channels, baths.T_e, baths.T_ph)  # n_a − n_ph
    occ = jnp.concatenate([occ, jnp.zeros_like(occ[:1])])  # (5, P)
    number_pairs = transmission * (occ[:, None, :] - occ[None, :, :]) / (2 * jnp.pi)  # (5, 5, P)
    energy_pairs = omega * number_pairs
    densities = jnp.stack([jnp.sum(energy_pairs[4], axis=0), jnp.asarray(_SIGN_I) @ jnp.sum(number_pairs, axis=1)])
    errors = integral_errors(densities, w_kronrod, w_gauss, poles, mapped)  # (J's and I's)
    return _Sums(node_sum(energy_pairs, w_kronrod), node_sum(number_pairs, w_kronrod), errors, count)


# One trace of the rule for the whole range, its parts and its derivatives (JAX's trace cache).
_sums_once = jax.jit(_sums, static_argnums=0)

_SIGN_I = np.array([0.0, 0.0, -1.0, 1.0, 0.0])  # I = N_LR − N_RL (NumPy: importing starts no JAX backend)


def _combine(sums: _Sums, weights, poles, estimate, modes: Modes, baths: Baths, I_elastic,
             growths) -> DressedCurrents:
    """``DressedCurrents`` from the sums: J = −J_ph, I = N_LR − N_RL, P = IV, σ, the stability."""
    J_matrix, N_matrix = sums.J_matrix, sums.N_matrix
    N_terminals, J_terminals = jnp.sum(N_matrix, axis=1), jnp.sum(J_matrix, axis=1)
    J = -J_terminals[4]
    I = jnp.asarray(_SIGN_I) @ N_terminals
    P = I * baths.V
    # The growth rate of the settled poles, and where the argument principle counts an unstable zero,
    # of a hybrid pole found in the upper half-plane too (``growths``); not known (NaN) where none
    # settled, or where the count finds an unstable zero and they all decay (``dressed_modes`` searches
    # further).
    count = sums.unstable_count
    found = with_unstable_hybrid(*growths, count)
    growth = jnp.where(jnp.isfinite(found) & ((count == 0) | (found > 0)), found, jnp.nan)
    return DressedCurrents(
        J=J,
        J_channels=J_terminals[:4],
        N_channels=N_terminals[:4],
        I=I,
        I_elastic=I_elastic,
        P=P,
        entropy_production=(P - J) / baths.T_e + J / baths.T_ph,
        J_error=sums.errors[0],
        I_error=sums.errors[1],
        J_terminals=J_terminals,
        N_terminals=N_terminals,
        J_matrix=J_matrix,
        N_matrix=N_matrix,
        stable=(count == 0) & ~(growth > 0),
        growth_rate=growth,
        unstable_count=count,
    )


@compiled
def dressed_modes(junction: Junction, modes: Modes, baths: Baths, *,
                  quadrature: FrequencyQuadrature = FrequencyQuadrature()) -> DressedModes:
    """Complex mode frequencies dressed by the e-bath, their Q factors and the stability of
    the steady state (``DressedModes``; method in ``_stability.py``).

    Never raises for an unstable junction: that is what it reports. jit/vmap/grad-able;
    the frequencies carry implicit-function gradients.
    """
    if junction.n_modes != modes.n_modes:
        raise EhpjaxError(f"junction.M has {junction.n_modes} modes but modes.K has {modes.n_modes}")
    poles = pole_expansion(junction)
    weights = channel_weights(junction, poles)
    followed, step = follow_distinct(junction, modes, baths, poles)
    frequencies, growth = with_growth_rate(junction, modes, baths, followed, step <= SETTLED, poles)
    hybrid = hybrid_poles(junction, modes, baths, poles)
    placed = placed_poles(junction, modes, baths, followed, step, poles, hybrid)
    features = dressed_resonances(poles.z, placed, baths)
    omega, *_ = quadrature.nodes(features, jnp.abs(baths.V), baths.T_e, baths.T_ph)
    omega = jnp.concatenate([omega, tail_nodes(omega[-1], jax.lax.stop_gradient(mode_scale(modes)), placed)])
    det = _blocked(lambda om: _det_only(weights, poles.z, modes, baths, om), omega, quadrature.block)
    count = unstable_count(jax.lax.stop_gradient(det), modes.n_modes)
    growth = with_unstable_hybrid(growth, largest_unstable(hybrid), count)
    unknown = (count > 0) & ~(growth > 0)  # (a counted zero that no search above reached; −inf elsewhere)
    growth = jnp.fmax(growth, unstable_zero(junction, modes, baths, unknown, poles))  # (a NaN loses to a rate)
    return DressedModes(
        frequencies=frequencies,
        bare=mode_poles(modes),
        growth_rate=growth,
        quality_factor=jnp.real(frequencies) / (-2 * jnp.imag(frequencies)),
        unstable_count=count,
        stable=(count == 0) & (growth < 0),
    )
