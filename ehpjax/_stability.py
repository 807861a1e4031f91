"""Dressed mode poles and the stability of the steady state (docs/physics.md §9).

The modes dressed by the e-bath respond through D^r(ω) = F(ω)⁻¹,

    F(ω) = ω² − K + iωη − Π^r_e(ω),

and their complex frequencies are the zeros of det F in the lower half-plane, found with
Π^r_e continued analytically (``_selfenergy.self_energy_complex``). From each bare pole
(Π^r_e = 0) the search runs

1. Newton steps on the null vector (nonlinear Rayleigh quotient): with u, v the left and
   right singular vectors of F(ω) for its smallest singular value,
   ω ← ω − u†F(ω)v / u†F'(ω)v  (dΠ/dω by a forward difference, which only sets the
   convergence rate), while Π^r_e is switched on in equal steps (s Π^r_e, s: 0 → 1), so
   that each branch is followed from its bare pole, then more at s = 1 until the steps are
   small (``follow_poles``); again with finer steps where two branches settled on one zero
   (``follow_distinct``);
2. one last such step (dΠ/dω by a central difference) with u, v, ω held fixed and the
   parameters live: at the root it changes nothing, and its derivative is the
   implicit-function one, dω/dθ = −u†(∂_θ F)v / u†F'v.

A steady state exists only if no zero of det F has Im ω > 0. On the positive imaginary axis
F(iy) is a real matrix, so zeros there (a mode softened through zero frequency; the growing one
of the two imaginary zeros into which a pole and its mirror split, while the search may follow
the other) are bracketed by the sign changes of det F(iy) (``axis_zero``). Besides the poles
found, stability is decided by the argument principle along the real axis: with F(−ω) = F(ω)* and
det F ~ ω^(2 N_b) at large |ω|, the number of zeros in the upper half-plane is

    N_+ = N_b + [arg det F(∞) − arg det F(0)] / π,

the phase followed continuously over ω ∈ (0, ∞) on the quadrature nodes (which cluster
at every pole, so that the phase moves by less than π between neighbours).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Complex, Float, Int

from ._bosons import mode_poles
from ._errors import EhpjaxError
from ._model import Baths, Junction, Modes
from ._selfenergy import complex_terms, self_energy_complex


class DressedInstabilityError(EhpjaxError):
    """The e-bath drives a mode pole into the upper half-plane: no steady state exists."""


class DressedModes(eqx.Module):
    """Complex mode frequencies dressed by the e-bath (units of ω; ħ = 1).

    frequencies: (N_b,) zeros ω of det[ω² − K + iωη − Π^r_e(ω)], Re ω ≥ 0, one per mode
        (in the order of ``bare``); Im ω < 0 is decay (amplitude ∝ e^(Im ω t)). NaN where the
        search from the bare pole reached no zero, or only one that another mode's branch holds
        (``follow_distinct``: under strong coupling the continuation from the bare poles can jump).
    bare: (N_b,) the lowest-order poles (Π^r_e = 0).
    growth_rate: the largest Im ω of the zeros found (> 0: runaway; the e-bath amplifies the
        mode): max_k Im ω_k, or a zero on the positive imaginary axis if larger (a mode softened
        through zero frequency, or the growing one of the two imaginary zeros into which a pole
        and its mirror split: ``axis_zero``). Where the argument principle counts an unstable zero
        that none of these reached (an off-axis zero that grows out of no bare pole), the largest
        found by Newton's steps from a row of starts above the real axis (``unstable_zero``);
        negative or −inf where even that found none (``stable`` still says it is unstable).
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


def mode_scale(modes: Modes):
    """√‖K‖ + ‖η‖ (largest elements): the modes' frequency scale, which sets the searches'
    relative steps and the argument principle's far nodes."""
    return jnp.sqrt(jnp.max(jnp.abs(modes.K))) + jnp.max(jnp.abs(modes.eta))


def inverse_response(modes: Modes, pi, omega):
    """F(ω) = ω² − K + iωη − Π^r_e(ω) for ω of shape (P,) and Π (P, N_b, N_b)."""
    w = omega[:, None, None]
    return w**2 * jnp.eye(modes.n_modes) - modes.K + 1j * w * modes.eta - pi


_STEP = 1e-5  # difference step for dΠ/dω in the Newton steps


def _self_energy_and_slope(junction, baths, omega, terms, central: bool = True):
    """Π^r_e(ω) and dΠ/dω at the points ω (P,), from one stacked evaluation at ω, ω ± h (central:
    slope error ~1e-10 relative, for the implicit-function step) or ω, ω + h (~1e-5: the search's
    steps, whose convergence it only slows to a factor ~1e-5 per step)."""
    h = _STEP * (1.0 + jnp.abs(omega))
    count = omega.shape[0]
    if not central:
        pi = self_energy_complex(junction, baths, jnp.concatenate([omega, omega + h]), terms=terms)
        return pi[:count], (pi[count:] - pi[:count]) / h[:, None, None]
    pi = self_energy_complex(junction, baths, jnp.concatenate([omega, omega + h, omega - h]), terms=terms)
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


def _newton_step(junction, modes, baths, omega, weight, terms, central: bool = True):
    """One Newton step for all modes on det[ω² − K + iωη − s Π^r_e(ω)] = 0 (s = ``weight``).
    Returns the new ω and (u, v, u†F'v) at the old one (F' by ``_self_energy_and_slope``)."""
    pi, slope = _self_energy_and_slope(junction, baths, omega, terms, central)
    f = inverse_response(modes, weight * pi, omega)
    df = 2 * omega[:, None, None] * jnp.eye(modes.n_modes) + 1j * modes.eta - weight * slope
    u, v = _null_vectors(f)
    den = _rayleigh(u, df, v)
    return omega - _rayleigh(u, f, v) / jnp.where(den == 0, 1.0, den), (u, v, den)


def follow_poles(junction: Junction, modes: Modes, baths: Baths, *, ramp_steps: int = 6, newton_steps: int = 16,
                 terms=None):
    """(ω, step): the zeros of det F followed from the bare poles (N_b,) complex, without
    gradients (module docstring): Newton steps while the self-energy is switched on in
    ``ramp_steps`` equal steps (s Π^r_e, s → 1; each branch followed from its bare pole; a traced
    integer too: ``follow_distinct`` runs one copy of the search with two ramps), then at
    s = 1 until every step is below ``SETTLED`` (relative) or after ``newton_steps`` of them (one
    loop: one copy of its code; under vmap the batch goes on until its last point is done); and
    the last step's size relative to |ω| + √‖K‖ + ‖η‖ (N_b,). A branch has settled on a zero
    where that is at most ``SETTLED``; one that has not may have wandered off (the search from an
    overdamped mode's pole on the imaginary axis can) or converged slowly. ``terms``: the
    junction's ``complex_terms``, if at hand."""
    junction, modes, baths = jax.lax.stop_gradient((junction, modes, baths))
    terms = complex_terms(junction, baths) if terms is None else terms  # (once, outside the loop)
    omega = mode_poles(modes).astype(jnp.complex128)
    scale = mode_scale(modes)

    def going(carry):
        i, _, step = carry
        return (i < ramp_steps) | ((i < ramp_steps + newton_steps) & jnp.any(step > SETTLED))

    def body(carry):
        i, w, _ = carry
        weight = jnp.minimum(1.0, (i + 1.0) / ramp_steps)
        new = _newton_step(junction, modes, baths, w, weight, terms, central=False)[0]
        return i + 1, new, jnp.abs(new - w) / (jnp.abs(new) + scale)

    _, omega, step = jax.lax.while_loop(going, body, (0, omega, jnp.full(omega.shape, jnp.inf)))
    return jnp.where(jnp.real(omega) < 0, -jnp.conj(omega), omega), step  # (a zero's mirror −ω* is one)


# (With the forward-difference slope each step shrinks the error by ~1e-5 or better: the zero is
# then known to ~1e-11.)
SETTLED = 1e-6


# Settled branches closer than this (relative to |ω| + the modes' scale) are on the same zero.
_SAME_ZERO = 1e-6


def without_shared_zeros(junction: Junction, modes: Modes, baths: Baths, followed, step, terms=None):
    """``step`` of ``follow_poles`` with the branches that settled on a zero which another branch
    holds, beyond the zero's multiplicity, marked unsettled (inf). Under strong coupling a step of
    the continuation from the bare poles can jump onto another branch's zero, and reporting it
    twice would hide a mode. Of the branches on one zero, those whose bare poles lie closest keep it.
    The multiplicity m from |det F| on a ray from the zero, which grows as h^m:
    m = log₂ |det F(ω + 2h)| / |det F(ω + h)|, h = 10⁻³ × the modes' scale; so a double zero (an
    exceptional point of the dressed modes) stays with both of its branches. No gradients.
    ``terms``: the junction's ``complex_terms``, if at hand."""
    n_modes = followed.shape[0]
    if n_modes == 1:
        return step
    junction, modes, baths = jax.lax.stop_gradient((junction, modes, baths))
    scale = mode_scale(modes)
    settled = step <= SETTLED
    same = ((jnp.abs(followed[:, None] - followed[None, :]) <= _SAME_ZERO * (jnp.abs(followed)[:, None] + scale))
            & settled[:, None] & settled[None, :])
    distance = jnp.abs(followed - mode_poles(modes))
    index = jnp.arange(n_modes)
    closer = distance[None, :] < distance[:, None]
    ahead = closer | ((distance[None, :] == distance[:, None]) & (index[None, :] < index[:, None]))
    rank = jnp.sum(same & ahead, axis=1)  # branches on the same zero with a better claim to it
    h = 1e-3 * scale
    terms = complex_terms(junction, baths) if terms is None else terms
    det = jnp.abs(_det(junction, modes, baths, jnp.concatenate([followed + h, followed + 2 * h]), terms))
    order = jnp.round(jnp.log2(det[n_modes:] / det[:n_modes]))
    multiplicity = jnp.where(jnp.isfinite(order), jnp.clip(order, 1, n_modes), 1)
    return jnp.where(settled & (rank >= multiplicity), jnp.inf, step)


# The ramps of ``follow_distinct``: the first for every point, the finer one where a branch of the first
# did not settle or settled on another branch's zero. On 300 strongly coupled three-level, two-mode
# junctions, ramps of 6, 24, 48 and 96 steps left 26, 5, 1 and 0 points with such a branch, and where
# every branch settled gave the zeros of 192 steps at 267 of 274, 292 of 294, 296 of 298 and 299 of 299
# points: a coarse step of the continuation can jump to another zero of det F.
RAMPS = (24, 96)


def follow_distinct(junction: Junction, modes: Modes, baths: Baths, poles=None):
    """``follow_poles`` with the ramps of ``RAMPS`` in turn, while a branch has not settled or shares
    its zero (``without_shared_zeros``): (ω, step), without gradients. One loop around the search
    (one copy of its code); under vmap the finer ramp runs for the batch where any point needs it."""
    ramps = jnp.asarray(RAMPS)
    junction, modes, baths = jax.lax.stop_gradient((junction, modes, baths))
    terms = complex_terms(junction, baths, poles)  # (once, outside the loop)

    def going(carry):
        ramp, _, step = carry
        return (ramp < len(RAMPS)) & ((ramp == 0) | jnp.any(step > SETTLED))

    def body(carry):
        ramp, _, _ = carry
        followed, step = follow_poles(junction, modes, baths, ramp_steps=ramps[ramp], terms=terms)
        return ramp + 1, followed, without_shared_zeros(junction, modes, baths, followed, step, terms)

    bare = mode_poles(modes).astype(jnp.complex128)
    _, followed, step = jax.lax.while_loop(going, body, (0, bare, jnp.full(bare.shape, jnp.inf)))
    return followed, step


def _implicit(junction, modes, baths, omega, poles):
    """The zeros ``omega`` (P,) of det F again, now with implicit-function gradients: one Newton
    step with u, v and ω held fixed and the parameters live (at a root it changes nothing)."""
    junction_sg, modes_sg, baths_sg = jax.lax.stop_gradient((junction, modes, baths))
    terms = complex_terms(junction_sg, baths_sg, jax.lax.stop_gradient(poles))
    _, (u, v, den) = jax.lax.stop_gradient(_newton_step(junction_sg, modes_sg, baths_sg, omega, 1.0, terms))
    f_live = inverse_response(modes, self_energy_complex(junction, baths, omega), omega)
    return omega - _rayleigh(u, f_live, v) / den


_AXIS_POINTS = 128  # per scan; the first spans 20 decades of y (neighbours a factor 1.44 apart)
_AXIS_DECADES = 20.0
_AXIS_SCANS = 3  # each narrows the bracket's logarithmic width 127-fold; then one secant step


def _det(junction, modes, baths, omega, terms):
    """det F(ω) at complex ω (P,), Π^r_e continued analytically (``terms``: ``complex_terms``)."""
    return jnp.linalg.det(inverse_response(modes, self_energy_complex(junction, baths, omega, terms=terms), omega))


def _newton_on(g, omega, scale):
    """One Newton step on g(ω) = 0 from each ω (P,), the slope a forward difference over
    ``_STEP``·(|ω| + ``scale``): g is evaluated once, on the 2P points ω and ω + h."""
    h = _STEP * (jnp.abs(omega) + scale)
    both = g(jnp.concatenate([omega, omega + h]))
    value, slope = both[: omega.shape[0]], (both[omega.shape[0]:] - both[: omega.shape[0]]) / h
    return omega - value / jnp.where(slope == 0, 1.0, slope)


def _det_on_axis(junction, modes, baths, y, terms):
    """det F(iy) for y (P,) > 0, real there (F(−ω*) = F(ω)*, so F(iy) is a real matrix)."""
    return jnp.real(_det(junction, modes, baths, 1j * y, terms))


def axis_zero(junction: Junction, modes: Modes, baths: Baths, poles=None):
    """(y, found): the largest y > 0 with det F(iy) = 0, a zero on the positive imaginary axis
    (docs/physics.md §9), and whether there is one; no gradients (``with_growth_rate`` adds them).

    Such a zero is a growth rate that need not be followed from a bare pole: a mode softened
    through zero frequency, or a pole pair that met on the imaginary axis and split into two
    imaginary zeros, one of which may grow while the pole search follows the other. det F(iy) is
    real, so its sign changes bracket the zeros: a geometric grid of ``_AXIS_POINTS`` values of y
    over ``_AXIS_DECADES`` decades centred on the modes' scale y₀ = √‖K‖ + ‖η‖, then the same grid
    inside the largest bracket, ``_AXIS_SCANS`` scans in
    all (one loop: one copy of the self-energy's code), and a secant step in log y across the last
    bracket (relative error ~1e-9; a Newton step for the gradients makes it exact). Two zeros
    closer than the first grid's spacing (a factor 1.44) are missed; the argument principle still
    counts them."""
    junction, modes, baths = jax.lax.stop_gradient((junction, modes, baths))
    terms = complex_terms(junction, baths, jax.lax.stop_gradient(poles))
    y0 = mode_scale(modes)
    log_y0 = jnp.log(jnp.where(y0 > 0, y0, 1.0))
    fractions = jnp.linspace(0.0, 1.0, _AXIS_POINTS)

    def scan(_, carry):
        log_lo, log_hi, _, _, found = carry
        log_y = log_lo + (log_hi - log_lo) * fractions
        det = _det_on_axis(junction, modes, baths, jnp.exp(log_y), terms)
        change = jnp.sign(det[:-1]) != jnp.sign(det[1:])
        k = _AXIS_POINTS - 2 - jnp.argmax(change[::-1])  # the largest bracket [y_k, y_k+1] with a change
        here = jnp.any(change)
        return (jnp.where(here, log_y[k], log_lo), jnp.where(here, log_y[k + 1], log_hi),
                det[k], det[k + 1], found | here)

    half = 0.5 * _AXIS_DECADES * jnp.log(10.0)
    start = (log_y0 - half, log_y0 + half, 0.0, 0.0, jnp.asarray(False))
    log_lo, log_hi, det_lo, det_hi, found = jax.lax.fori_loop(0, _AXIS_SCANS, scan, start)
    step = jnp.where(det_hi != det_lo, det_lo / (det_lo - det_hi), 0.5)
    return jnp.exp(log_lo + (log_hi - log_lo) * jnp.clip(step, 0.0, 1.0)), found


def largest_settled(followed, settled):
    """max Im ω over the ``settled`` ones of the poles ``followed`` (−inf if none)."""
    return jnp.max(jnp.where(settled, jnp.imag(followed), -jnp.inf), initial=-jnp.inf)


def placed_poles(junction: Junction, modes: Modes, baths: Baths, followed, step, poles=None, hybrid=None):
    """The poles of D at which to place quadrature nodes: those ``followed`` where the search's last
    ``step`` ended near a zero (``_NEAR``), the bare ones where it wandered off; then the hybrid
    poles beside narrow pair resonances (``hybrid_poles``, or ``hybrid`` if given)."""
    followed = jnp.where(step <= _NEAR, followed, jax.lax.stop_gradient(mode_poles(modes)))
    hybrid = hybrid_poles(junction, modes, baths, poles) if hybrid is None else hybrid
    return jnp.concatenate([followed, hybrid])


def largest_unstable(hybrid):
    """max Im ω over the ``hybrid_poles`` in the upper half-plane (−inf if none; where the search did
    not settle it returns the pair's own pole, below the axis): a hybrid of a mode and a narrow pair
    whose population the bias inverts can grow (docs/physics.md §9). No gradients."""
    return jnp.max(jnp.where(jnp.imag(hybrid) > 0, jnp.imag(hybrid), -jnp.inf), initial=-jnp.inf)


def with_unstable_hybrid(growth, hybrid_growth, count):
    """The growth rate ``growth`` of the zeros found, or where the argument principle counts an
    unstable zero (``count`` > 0) the larger ``hybrid_growth`` (``largest_unstable``)."""
    return jnp.where(count > 0, jnp.fmax(growth, hybrid_growth), growth)  # (fmax: a NaN loses to a rate)


_NEAR = 1e-2  # (relative; a search that ended farther than this from a zero places no nodes there)


def hybrid_poles(junction: Junction, modes: Modes, baths: Baths, poles=None, newton_steps: int = 3):
    """Zeros of det F beside the narrowest electronic pair resonances (at most ``_HYBRID_PAIRS``,
    without gradients), (P,) complex: where a pair's term of Π^r_e, a pole at p = c − iw (c = |Re(z_k −
    z_p)|, w = −Im(z_k + z_p)), is strong against the mode's detuning c² − K there, D has a pole of its
    own beside it, about as narrow as the pair and shifted by the term's residue over that detuning:
    a hybrid of the mode and the pair, which the poles followed from the bare ones do not include.
    Newton's steps (forward-difference slope) on G(ω) = det F(ω) (ω − p), the pair's pole taken out,
    from c = p + iw; where they do not settle, p itself (a node component that only repeats the pair's)."""
    junction, modes, baths = jax.lax.stop_gradient((junction, modes, baths))
    terms = complex_terms(junction, baths, poles)
    z = terms.z
    n = z.shape[0]
    if n < 2:
        return jnp.zeros(0, jnp.complex128)
    k, q = jnp.triu_indices(n, 1)
    width = -jnp.imag(z[k] + z[q])
    narrowest = jnp.argsort(width)[:_HYBRID_PAIRS]
    pole = (jnp.abs(jnp.real(z[k] - z[q])) - 1j * width)[narrowest]
    scale = mode_scale(modes)

    def step(_, carry):
        omega, _ = carry
        new = _newton_on(lambda w: _det(junction, modes, baths, w, terms) * (w - jnp.tile(pole, 2)), omega, scale)
        return new, jnp.abs(new - omega)

    start = jnp.real(pole) + 0j  # (p + iw: on the real axis above the pair's pole)
    omega, last = jax.lax.fori_loop(0, newton_steps, step, (start, jnp.full(start.shape, jnp.inf)))
    # (known to a tenth of its half-width is enough for the nodes; Newton's steps converge quadratically)
    settled = (jnp.isfinite(omega) & (last <= 0.1 * jnp.abs(jnp.imag(omega)) + 1e-12 * scale)
               & (jnp.abs(omega - pole) <= 0.5 * scale))
    return jnp.where(settled, jnp.where(jnp.real(omega) < 0, -jnp.conj(omega), omega), pole)


_HYBRID_PAIRS = 4  # the narrowest pair resonances searched for a hybrid pole beside them


# The search for unstable zeros no other search reached (``unstable_zero``): starts on a row above the
# real axis, spread evenly over 1.5 times the largest of the modes' scale and the pair resonances'
# centres. On 1000 random two-level points with widths, η and temperatures down to 1e-6 (255 unstable)
# and 600 random three-level, two-mode ones with strong couplings (185 unstable), it found a growth rate
# at all 14 and 9 unstable points that had none, at Im ω from 3e-4 to 0.47 (up to 60 steps, 24 starts on
# three rows gave the same).
_SEARCH_STARTS = 12
_SEARCH_HEIGHT = 0.03  # (of that span)
_SEARCH_STEPS = 30


def unstable_zero(junction: Junction, modes: Modes, baths: Baths, needed, poles=None):
    """The largest Im ω > 0 among the zeros of det F that Newton's steps (forward-difference slope)
    reach from ``_SEARCH_STARTS`` starts above the real axis (−inf if none): for the points ``needed``,
    where the argument principle counts an unstable zero that neither the followed poles, the
    imaginary axis nor the hybrid poles reached. In the upper half-plane det F has no poles (Π^r_e is
    analytic there), so a settled step is a zero. One loop, run while some point needs it (under vmap
    for the whole batch only then). No gradients."""
    junction, modes, baths = jax.lax.stop_gradient((junction, modes, baths))
    terms = complex_terms(junction, baths, poles)
    z = terms.z
    scale = mode_scale(modes)
    span = scale
    if z.shape[0] > 1:
        k, q = jnp.triu_indices(z.shape[0], 1)
        span = jnp.maximum(span, jnp.max(jnp.abs(jnp.real(z[k] - z[q]))))
    span = 1.5 * span
    start = span * ((jnp.arange(_SEARCH_STARTS) + 0.5) / _SEARCH_STARTS + 1j * _SEARCH_HEIGHT)

    def going(carry):
        i, _, step = carry
        return needed & (i < _SEARCH_STEPS) & jnp.any(step > SETTLED * 1e-4)

    def body(carry):
        i, omega, _ = carry
        new = _newton_on(lambda w: _det(junction, modes, baths, w, terms), omega, scale)
        new = jnp.where(jnp.isfinite(new), new, omega)
        return i + 1, new, jnp.abs(new - omega) / (jnp.abs(new) + scale)

    _, omega, step = jax.lax.while_loop(going, body, (0, start, jnp.full(start.shape, jnp.inf)))
    found = needed & (step <= SETTLED * 1e-3) & (jnp.imag(omega) > 0)
    return jnp.max(jnp.where(found, jnp.imag(omega), -jnp.inf), initial=-jnp.inf)


def with_growth_rate(junction: Junction, modes: Modes, baths: Baths, followed, settled, poles=None):
    """(frequencies, growth rate): the poles ``followed`` from the bare ones (``follow_poles``,
    without gradients; NaN where not ``settled``) and the largest Im ω among the zeros of det F
    found, these poles' and the largest zero on the positive imaginary axis (``axis_zero``), with
    implicit-function gradients (one step for all zeros: one copy of its code)."""
    y, found = axis_zero(junction, modes, baths, poles)
    zeros = _implicit(junction, modes, baths, jax.lax.stop_gradient(jnp.concatenate([followed, (1j * y)[None]])),
                      poles)
    largest = largest_settled(zeros[:-1], settled)
    axis = jnp.imag(zeros[-1])
    return jnp.where(settled, zeros[:-1], jnp.nan), jnp.where(found & (axis > largest), axis, largest)


def unstable_count(det_f, n_modes: int):
    """N_+ = N_b + [arg det F(∞) − arg det F(0)]/π from det F on increasing real nodes
    from near 0 to far beyond every resonance (module docstring), an integer array."""
    phase = jnp.unwrap(jnp.angle(det_f))
    turns = jnp.round((phase[-1] - phase[0]) / jnp.pi).astype(jnp.int32)
    return n_modes + turns


# The Cauchy quantiles 1/4, 1/2, 3/4 of a pole's line (in half-widths from its centre): across the pole
# each step moves its factor's phase by π/4 (NumPy: importing starts no JAX backend).
TAIL_QUANTILES = np.array([-1.0, 0.0, 1.0])


def tail_nodes(omega_max, n_modes_scale, poles=None, count: int = 16):
    """Increasing nodes beyond the quadrature window (its last node ``omega_max``), for the argument
    principle only: ``count`` in geometric steps up to where det F ~ ω^(2N_b) (phase 0), and with
    ``poles`` (the poles of D at which the rule places nodes, ``placed_poles``) each pole's
    ``TAIL_QUANTILES`` beyond the window, so that the phase moves by less than π between neighbours
    there too. (The window ends where the occupations stop driving currents, |V| + a few T: below
    the modes of a cold junction at a small bias. Geometric steps alone, a factor ~1.6 apart, then
    stepped across two dressed poles at once, a phase of −2π read as 0, and counted two unstable
    zeros of a stable junction.)"""
    top = 1e3 * (omega_max + n_modes_scale)
    nodes = omega_max * jnp.exp(jnp.linspace(0.0, 1.0, count + 1)[1:] * jnp.log(top / omega_max))
    if poles is None:
        return nodes
    poles = jax.lax.stop_gradient(poles)
    at_poles = jnp.abs(jnp.real(poles))[:, None] + jnp.abs(jnp.imag(poles))[:, None] * TAIL_QUANTILES
    # (those inside the window land on its last node: a step of no phase; a NaN pole on the top)
    at_poles = jnp.where(jnp.isfinite(at_poles), at_poles, top)
    return jnp.sort(jnp.concatenate([nodes, jnp.clip(at_poles.ravel(), omega_max, top)]))


def raise_if_unstable(stable, growth_rate, count, where: str, bias=None, find_rate=None):
    """For concrete (not traced) results: a clear error instead of a number (``count``: the
    number of unstable zeros, None if not at hand; ``bias``: V, for the advice; ``find_rate``:
    a function returning the growth rate, called where ``growth_rate`` is not a positive number,
    e.g. ``dressed_modes``' search). Without bias the e-bath only damps (docs/physics.md §9), so an
    instability there is static: a mode softened through zero frequency, which neither a lower
    bias nor more friction cures."""
    if bool(stable):
        return
    zeros = "a zero" if count is None else f"{int(count)} zero(s)"
    rate = float(growth_rate)
    if not rate > 0 and find_rate is not None:
        rate = float(find_rate())
    if rate > 0:
        how = f"growth rate Im ω = {rate:.4g}"
    else:  # the argument principle counts a zero that neither the followed poles nor the axis reach
        how = ("found by the argument principle; neither the poles followed from the bare modes nor the "
               "imaginary axis reach it, so its growth rate is not known")
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
