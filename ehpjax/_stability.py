"""Dressed mode poles and the stability of the steady state (docs/physics.md §9).

The modes dressed by the e-bath respond through D^r(ω) = F(ω)⁻¹,

    F(ω) = ω² − K + iωη − Π^r_e(ω),

and their complex frequencies are the zeros of det F in the lower half-plane, found with
Π^r_e continued analytically (``_selfenergy.self_energy_complex``). From each bare pole
(Π^r_e = 0) the search runs

1. Newton steps on the null vector (nonlinear Rayleigh quotient): with u, v the left and
   right singular vectors of F(ω) for its smallest singular value,
   ω ← ω − u†F(ω)v / u†F'(ω)v  (dΠ/dω by a central difference, which only sets the
   convergence rate), while Π^r_e is switched on in equal steps (s Π^r_e, s: 0 → 1), so
   that each branch is followed from its bare pole, then a few more at s = 1;
2. one last such step with u, v, ω held fixed and the parameters live: at the root it
   changes nothing, and its derivative is the implicit-function one,
   dω/dθ = −u†(∂_θ F)v / u†F'v.

A steady state exists only if no zero of det F has Im ω > 0. Besides the poles found,
this is decided by the argument principle along the real axis: with F(−ω) = F(ω)* and
det F ~ ω^(2 N_b) at large |ω|, the number of zeros in the upper half-plane is

    N_+ = N_b + [arg det F(∞) − arg det F(0)] / π,

the phase followed continuously over ω ∈ (0, ∞) on the quadrature nodes (which cluster
at every pole, so that the phase moves by less than π between neighbours).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Complex, Float, Int

from ._bosons import mode_poles
from ._errors import EhpjaxError
from ._green import pole_expansion
from ._model import Baths, Junction, Modes
from ._selfenergy import self_energy_complex


class DressedInstabilityError(EhpjaxError):
    """The e-bath drives a mode pole into the upper half-plane: no steady state exists."""


class DressedModes(eqx.Module):
    """Complex mode frequencies dressed by the e-bath (units of ω; ħ = 1).

    frequencies: (N_b,) zeros ω of det[ω² − K + iωη − Π^r_e(ω)], Re ω ≥ 0, one per mode
        (in the order of ``bare``); Im ω < 0 is decay (amplitude ∝ e^(Im ω t)).
    bare: (N_b,) the lowest-order poles (Π^r_e = 0).
    growth_rate: max_k Im ω_k (> 0: runaway; the e-bath amplifies the mode). A zero that grows
        out of no bare pole (a static soft mode on the imaginary axis) shows in
        ``unstable_count`` and ``stable`` only.
    quality_factor: (N_b,) Q = Re ω / (−2 Im ω).
    unstable_count: number of zeros of det F in the upper half-plane (argument principle).
    stable: no zero in the upper half-plane (unstable_count = 0 and growth_rate < 0).
    """

    frequencies: Complex[Array, " Nb"]
    bare: Complex[Array, " Nb"]
    growth_rate: Float[Array, ""]
    quality_factor: Float[Array, " Nb"]
    unstable_count: Int[Array, ""]
    stable: Bool[Array, ""]


def inverse_response(modes: Modes, pi, omega):
    """F(ω) = ω² − K + iωη − Π^r_e(ω) for ω of shape (P,) and Π (P, N_b, N_b)."""
    w = omega[:, None, None]
    return w**2 * jnp.eye(modes.n_modes) - modes.K + 1j * w * modes.eta - pi


_STEP = 1e-5  # central-difference step for dΠ/dω in the Newton steps (error ~1e-10 relative)


def _self_energy_and_slope(junction, baths, omega, poles=None):
    """Π^r_e(ω) and dΠ/dω at the points ω (P,), from one stacked evaluation at ω, ω ± h."""
    h = _STEP * (1.0 + jnp.abs(omega))
    pi = self_energy_complex(junction, baths, jnp.concatenate([omega, omega + h, omega - h]), poles)
    count = omega.shape[0]
    return pi[:count], (pi[count:2 * count] - pi[2 * count:]) / (2 * h)[:, None, None]


def _null_vectors(f):
    """Left and right singular vectors u, v of the smallest singular value of each F (P, N_b, N_b)."""
    if f.shape[-1] == 1:
        one = jnp.ones(f.shape[:-1], dtype=f.dtype)
        return one, one
    u, _, vh = jnp.linalg.svd(f)
    return u[..., :, -1], jnp.conj(vh[..., -1, :])


def _rayleigh(u, a, v):
    return jnp.einsum("pi,pij,pj->p", jnp.conj(u), a, v)


def _newton_step(junction, modes, baths, omega, weight, poles=None):
    """One Newton step for all modes on det[ω² − K + iωη − s Π^r_e(ω)] = 0 (s = ``weight``).
    Returns the new ω and (u, v, u†F'v) at the old one."""
    pi, slope = _self_energy_and_slope(junction, baths, omega, poles)
    f = inverse_response(modes, weight * pi, omega)
    df = 2 * omega[:, None, None] * jnp.eye(modes.n_modes) + 1j * modes.eta - weight * slope
    u, v = _null_vectors(f)
    den = _rayleigh(u, df, v)
    return omega - _rayleigh(u, f, v) / jnp.where(den == 0, 1.0, den), (u, v, den)


def pole_search(junction: Junction, modes: Modes, baths: Baths, *, ramp_steps: int = 6, newton_steps: int = 4,
                implicit: bool = True):
    """Dressed mode frequencies (N_b,) complex, from the bare poles (module docstring): Newton
    steps while the self-energy is switched on in ``ramp_steps`` equal steps (s Π^r_e,
    s → 1; each branch followed from its bare pole), then ``newton_steps`` at s = 1.

    With ``implicit`` the result carries implicit-function gradients with respect to every
    parameter; otherwise it carries none (a node-placement estimate).
    """
    junction_sg, modes_sg, baths_sg = jax.lax.stop_gradient((junction, modes, baths))
    poles = pole_expansion(junction_sg)  # once, outside the loop
    omega = mode_poles(modes_sg).astype(jnp.complex128)

    def body(i, w):
        weight = jnp.minimum(1.0, (i + 1.0) / ramp_steps)
        return _newton_step(junction_sg, modes_sg, baths_sg, w, weight, poles)[0]

    omega = jax.lax.stop_gradient(jax.lax.fori_loop(0, ramp_steps + newton_steps, body, omega))
    if not implicit:
        return omega
    _, (u, v, den) = jax.lax.stop_gradient(_newton_step(junction_sg, modes_sg, baths_sg, omega, 1.0, poles))
    f_live = inverse_response(modes, self_energy_complex(junction, baths, omega), omega)
    return omega - _rayleigh(u, f_live, v) / den


def unstable_count(det_f, n_modes: int):
    """N_+ = N_b + [arg det F(∞) − arg det F(0)]/π from det F on increasing real nodes
    from near 0 to far beyond every resonance (module docstring), an integer array."""
    phase = jnp.unwrap(jnp.angle(det_f))
    turns = jnp.round((phase[-1] - phase[0]) / jnp.pi).astype(jnp.int32)
    return n_modes + turns


def tail_nodes(omega_max, n_modes_scale, count: int = 16):
    """Nodes beyond the quadrature window, up to where det F ~ ω^(2N_b) (phase 0)."""
    top = 1e3 * (omega_max + n_modes_scale)
    return omega_max * jnp.exp(jnp.linspace(0.0, 1.0, count + 1)[1:] * jnp.log(top / omega_max))


def raise_if_unstable(stable, growth_rate, count, where: str, bias=None):
    """For concrete (not traced) results: a clear error instead of a number (``count``: the
    number of unstable zeros, None if not at hand; ``bias``: V, for the advice). Without bias
    the e-bath only damps (docs/physics.md §9), so an instability there is static: a mode
    softened through zero frequency, which neither a lower bias nor more friction cures."""
    if bool(stable):
        return
    zeros = "a zero" if count is None else f"{int(count)} zero(s)"
    rate = float(growth_rate)
    if rate > 0:
        how = f"growth rate Im ω = {rate:.4g}"
    else:  # the argument principle counts a zero that the followed poles do not reach
        how = ("found by the argument principle; the poles followed from the bare modes stay below the axis "
               f"(max Im ω = {rate:.4g}), so its growth rate is not known")
    if bias is not None and float(bias) == 0.0:
        advice = ("Without bias this is a static instability: the e-bath's static response softens a mode "
                  "through zero frequency (K + Π^r_e(0) is not positive definite). Stiffen the mode (K) or "
                  "lower the electron-mode coupling; raising the friction eta does not help.")
    else:
        advice = ("Lower the bias or the electron-mode coupling, raise the phonon-bath friction eta, or stiffen "
                  "the mode (K).")
    raise DressedInstabilityError(
        f"{where}: the junction is unstable at these parameters: the e-bath drives "
        f"{zeros} of det[ω² − K + iωη − Π^r_e(ω)] into the upper half-plane (a mode pole ω "
        f"counts with its mirror −ω*; {how}); there is no steady state and no current to report. {advice}"
    )
