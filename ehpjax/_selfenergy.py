"""Retarded self-energy of the modes from the electron bath, exactly from the poles (docs/physics.md §9).

    Π^r_e(ω) = ∫ dω'/2π Γ_e(ω') / (ω − ω' + i0) = Δ(ω) − iΓ_e(ω)/2,   Γ_e = Σ_αβ Λ^αβ,

per EHP channel αβ and in total, without a Kramers–Kronig grid.

Derivation. Insert Λ^αβ (docs/physics.md §4) and do the ω' integral first. In the term
with f(ε; μ_α) substitute ε' = ε − ω'; with the pole expansion A_β(ε') = Σ_j x_j y_j†/(ε' − p_j)
(``_green.py``) closing the ε' contour in the upper half-plane keeps the upper poles only,

    ∫ dε'/2π A_β(ε') / (ε' − (ε − ω) + i0) = i Σ_{p_j' upper} x_j' y_j'† / (p_j' − ε + ω).

In the term with f(ε − ω'; μ_β) substitute ε'' = ε − ω' + ω'' likewise: closing in the lower
half-plane keeps the lower poles of A_α. With E_kj' = S(μ_α; p_k, ω + p_j'),
H_kj' = S(μ_β + ω; p_k, ω + p_j') the Fermi integrals of ``_ehp.py`` and
W_kj' = tr[M^m x^α_k y^α_k† M^n x^β_j' y^β_j'†] (so that −2π Λ = Σ_kj' W (E − H) over all
2n × 2n pole pairs),

    Π^r = (i/2π) [ Σ_{k, j' upper} W E − Σ_{k lower, j'} W H ].

In the lower-k blocks of ``_ehp.py`` (A = Σ_LL W E, B = Σ_LL W H, C = Σ_LU W (E − H),
so that X = A − B + C and Λ = −(X + X†)/2π), the upper-upper block is A† (pair conjugation),

    Π^r = (i/2π) (C + A† − B),        Π^r − Π^r† = (i/2π)(X + X†) = −iΛ.

So Im-part −Λ/2 holds by construction, channel by channel, and Δ = (Π^r + Π^r†)/2.

Away from the real axis, ``self_energy_complex`` evaluates the same expression as an
analytic function of complex ω (every ψ argument written analytically in ω, the digamma
function continued to Re w < 0 by reflection): the continuation of Π^r into the lower
half-plane, where the dressed mode poles lie. It is meromorphic, with poles at
ω = z_k − z_j'* and at Matsubara-shifted points, all below the real axis.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array

from ._checks import real_axis
from ._compiled import compiled
from ._ehp import _PAIRS, channel_weights, pair_integrals
from ._green import pole_expansion
from ._model import Baths, Junction
from ._special import (_abs2, digamma, digamma_dd_taylor, materialize, materialize_whole, near, polygammas,
                       reciprocal)


def _contract(w, block):
    """Σ_kj' w[m, n, k, j'] block[k, j', P] → (m, n, P)."""
    nb, n = w.shape[0], w.shape[2]
    return (w.reshape(nb * nb, n * n) @ block.reshape(n * n, -1)).reshape(nb, nb, -1)


def _dagger(x):
    """Adjoint in the mode indices of a (..., m, n, P) array."""
    return jnp.conj(jnp.swapaxes(x, -3, -2))


def self_energy_parts(weights, z, omega, baths: Baths):
    """(Π^r, X) per channel on real 1-D ``omega``: Π^r^αβ_mn(ω) of shape (4, N_b, N_b, P)
    and X with Λ = −(X + X†)/2π (the same array ``ehp_half_from_poles`` returns), from one
    evaluation of the pair integrals."""
    n = z.shape[0]
    (el_ll, el_lu), (hole_ll, hole_lu) = pair_integrals(z, omega, baths.mu_L, baths.mu_R, baths.T_e)
    pis, xs = [], []
    for w, (a, b) in zip(weights, _PAIRS):
        w_ll, w_lu = w[..., :n], w[..., n:]
        A = _contract(w_ll, el_ll[a])
        B = _contract(w_ll, hole_ll[b])
        C = _contract(w_lu, el_lu[a] - hole_lu[b])
        pis.append(0.5j / jnp.pi * (C + _dagger(A) - B))
        xs.append(A - B + C)
    return materialize(jnp.stack(pis)), materialize(jnp.stack(xs))


@compiled
def self_energy(junction: Junction, baths: Baths, omega, *, channels: bool = False):
    """Retarded e-bath self-energy of the modes Π^r_e(ω) = Δ(ω) − iΓ_e(ω)/2 on real ω
    (docs/physics.md §9), exact in the energy integral.

    Returns a complex array (*omega.shape, N_b, N_b): the total, or with ``channels=True``
    per EHP channel (4, *omega.shape, N_b, N_b) in the order LL, RR, RL, LR (their sum is
    the total). Units: frequency² (it adds to the dynamical matrix: D^r = [ω² − K + iωη − Π^r_e]⁻¹).
    −2 Im of the diagonal part is Λ^αβ (``ehp_dos``); Δ = (Π^r + Π^r†)/2 is its
    Kramers–Kronig partner.
    """
    omega = real_axis(omega)
    poles = pole_expansion(junction)
    pi, _ = self_energy_parts(channel_weights(junction, poles), poles.z, omega.ravel(), baths)
    pi = jnp.moveaxis(pi, -1, 1).reshape((4,) + omega.shape + pi.shape[1:3])
    return pi if channels else jnp.sum(pi, axis=0)


# ----------------------------------------------------------------------------------------
# Analytic continuation to complex ω (for the dressed mode poles)


def _cot_pi(w):
    """π cot(πw) for complex w, overflow-free: i π (1 + q)/(1 − q) with q = e^(∓2πiw) small."""
    upper = jnp.imag(w) > 0
    q = jnp.exp(jnp.where(upper, 2j, -2j) * jnp.pi * w)
    sign = jnp.where(upper, -1.0, 1.0)
    return sign * 1j * jnp.pi * (1 + q) * reciprocal(1 - q)


def digamma_anywhere(w):
    """ψ(w) for any complex w off the poles w = 0, −1, …: reflection ψ(w) = ψ(1 − w) − π cot(πw)
    where Re w < 1/2."""
    left = jnp.real(w) < 0.5
    psi = digamma(jnp.where(left, 1.0 - w, w))
    return jnp.where(left, psi - _cot_pi(jnp.where(left, w, 0.25 + 0.0j)), psi)


def _divided(psi_fixed, psi_moving, fixed, moving, derivs_fixed):
    """[ψ(moving) − ψ(fixed)]/(moving − fixed) from ψ at both points; where the two are close,
    the Taylor series about the ω-independent ``fixed`` point (ψ^(1..4) there)."""
    h = moving - fixed
    h_abs2 = _abs2(h)
    close = near(h_abs2, fixed)
    direct = (psi_moving - psi_fixed) * reciprocal(jnp.where(close, 1.0, h))
    return jnp.where(close, digamma_dd_taylor(h, derivs_fixed), direct)


class ComplexTerms(NamedTuple):
    """The ω-independent parts of ``self_energy_complex`` (``complex_terms``): a search that
    evaluates Π^r_e at complex ω step after step computes them once, outside its loop."""

    z: Array  # the poles of G^r (n,)
    weights: Array  # the channels' weights, summed by lead and stacked for one product (N_b², 8n²)
    D: Array  # 2πi T_e
    mu: Array  # (lead, 1, 1)
    a_pts: Array  # the ω-independent ψ arguments (lead, n, 1), Re > 1/2
    psi_a: Array  # ψ there
    der_a: list  # ψ^(1..4) there


def complex_terms(junction: Junction, baths: Baths, poles=None) -> ComplexTerms:
    """``ComplexTerms`` of the junction at the baths (``poles``: its ``pole_expansion``, if at hand)."""
    poles = pole_expansion(junction) if poles is None else poles
    z = poles.z
    D = 2j * jnp.pi * baths.T_e
    mu = jnp.stack([baths.mu_L, baths.mu_R])[:, None, None]  # (lead, 1, 1)
    a_pts = 0.5 + (mu - z[None, :, None]) / D  # lower poles w_L(μ, z); the upper ones w_U(μ, z*) = conj
    psi_a, *der_a = polygammas(a_pts)
    return ComplexTerms(z, _stacked_weights(channel_weights(junction, poles)), D, mu, a_pts, psi_a, der_a)


def _stacked_weights(weights):
    """The channels' weights W^αβ (4, N_b, N_b, n, 2n) as one matrix (N_b², 8n²) whose product with
    the blocks [E_UU, −H_LL, E_LU, −H_LU] of ``self_energy_complex`` (each per lead, (2n², P)) is
    Π^r summed over the channels: Σ_αβ (i/2π)(A† − B + C) (module docstring), each block's weight
    summed over the channels whose electron (E) or hole (H) lead it is."""
    n, nb = weights.shape[3], weights.shape[1]
    w_ll, w_lu = weights[..., :n], weights[..., n:]
    w_uu = jnp.conj(jnp.swapaxes(w_ll, 1, 2))  # Σ W_UU E_UU = (Σ W_LL E_LL)† on the axis

    def by_lead(w, side):  # Σ over the channels whose lead on this side (0: electron, 1: hole) is l
        return [sum(w[c] for c, pair in enumerate(_PAIRS) if pair[side] == lead) for lead in (0, 1)]

    blocks = by_lead(w_uu, 0) + by_lead(w_ll, 1) + by_lead(w_lu, 0) + by_lead(w_lu, 1)
    return 0.5j / jnp.pi * jnp.concatenate([w.reshape(nb * nb, n * n) for w in blocks], axis=1)


def self_energy_complex(junction: Junction, baths: Baths, omega, poles=None, terms: ComplexTerms | None = None):
    """Π^r_e(ω) continued analytically to complex ω (module docstring), total over the
    channels: (*omega.shape, N_b, N_b). On the real axis it equals ``self_energy``; meant
    for a few points (the pole search), not for grids.

    As on the real axis (``pair_integrals``), ψ is evaluated once per pole and point (O(n)),
    and each pole pair costs a division; near-coinciding arguments use the Taylor series
    about the ω-independent one, whose real part is > 1/2. ``poles``: the junction's
    ``pole_expansion``, if already at hand; ``terms``: its ``complex_terms``, if at hand.
    """
    omega = jnp.asarray(omega, dtype=jnp.complex128)
    t = complex_terms(junction, baths, poles) if terms is None else terms
    z, D, mu, a_pts, psi_a, der_a = t.z, t.D, t.mu, t.a_pts, t.psi_a, t.der_a
    n = z.shape[0]
    om = omega.ravel()[None, None, :]  # (1, 1, P)
    zc = z[None, :, None]  # (1, n, 1)
    psi_a_c, der_a_c = jnp.conj(psi_a), [jnp.conj(x) for x in der_a]
    a_c = jnp.conj(a_pts)
    # ω-dependent points, continued analytically: w_L(μ + ω, z), w_U(μ, ω + z*)
    # (the lower-lower electron terms are the conjugates of the upper-upper ones, below)
    c_pts = 0.5 + (mu + om - zc) / D
    u_pts = 0.5 - (mu - om - jnp.conj(zc)) / D
    psi_c, psi_u = materialize_whole(digamma_anywhere(jnp.stack([c_pts, u_pts])))

    def rows(x):  # electron-side pole k
        return x[:, :, None, :]

    def cols(x):  # hole-side pole j'
        return x[:, None, :, :]

    # H_LL = S(μ + ω; z_k, ω + z_j') = −ψ[w_c(k), w_a(j')]/D
    H_ll = -_divided(cols(psi_a), rows(psi_c), cols(a_pts), rows(c_pts), [cols(x) for x in der_a]) / D
    # E_UU = S(μ; z_k*, ω + z_j'*) = +ψ[conj w_a(k), w_u(j')]/D
    E_uu = _divided(rows(psi_a_c), cols(psi_u), rows(a_c), cols(u_pts), [rows(x) for x in der_a_c]) / D
    # E_LU − H_LU over a − b = z_k − ω − z_j'*: el [ψ(w_a(k)) − ψ(w_u(j'))], hole −[ψ(w_c(k)) − ψ(conj w_a(j'))]
    el_lu = rows(psi_a) - cols(psi_u)
    hole_lu = cols(psi_a_c) - rows(psi_c)
    inv_ab = reciprocal(z[:, None, None] - om - jnp.conj(z)[None, :, None])  # (n, n, P)
    blocks = jnp.concatenate([E_uu, -H_ll, el_lu * inv_ab, hole_lu * inv_ab])  # (8, n, n, P): per lead
    nb = math.isqrt(t.weights.shape[0])
    total = (t.weights @ blocks.reshape(8 * n * n, -1)).reshape(nb, nb, -1)
    return jnp.moveaxis(total, -1, 0).reshape(omega.shape + total.shape[:2])
