"""Energy and charge currents between the e-bath and the modes (docs/physics.md §5, paper Eq. 8).

    T^αβ(ω) = Tr[Λ^αβ(ω) A_ph(ω)]
    J^αβ = ∫_0^∞ dω/2π ω T^αβ(ω) [n_B(ω − μ_αβ; T_e) − n_B(ω; T_ph)],   J = Σ_αβ J^αβ
    N^αβ = the same without ω,   I = N^LR − N^RL,   P = I V,
    σ = (P − J)/T_e + J/T_ph ≥ 0.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero
from jaxtyping import Array, Float

from ._adaptive import (SPLIT_AIM, AdaptiveQuadrature, Finer, batching_context, chunked, refinable, refine,
                        report, with_derivative, with_report)
from ._bosons import boson_spectral, mode_poles, normal_modes, without_friction
from ._compiled import compiled, on_automatic_axes, quick_jit
from ._ehp import _PAIRS, CHANNELS, coupling_matrices, pair_integrals, pair_terms, pole_polygammas
from ._checks import check, checks_deferred, combining_checks, deferring, is_traced
from ._errors import EhpjaxError
from ._green import PoleExpansion, pole_expansion
from ._model import Baths, Junction, Modes
from ._quadrature import WHOLE, FrequencyQuadrature, edge_steps, kronrod_error, node_sum, same_values
from ._special import bose, digamma, materialize, x_bose


_MODE_WEIGHT = 3
_EDGE_WEIGHT = 0.5
# The narrowest level's self-pair (``self_pair_component``): weight _SELF_PAIR_WEIGHT where its width is far
# below _SELF_PAIR_SCALE · min(T_e, T_ph), fading as exp(−2|Im z|/(_SELF_PAIR_SCALE · T)) above it.
_SELF_PAIR_WEIGHT = 4.0
_SELF_PAIR_SCALE = 0.03


class ResultsByName:
    """Access by name for current results (``Currents``, ``DressedCurrents``)."""

    def channel(self, name: str) -> dict:
        """{"J": J^αβ, "N": N^αβ} of the EHP channel ``name`` ("LL", "RR", "RL" or "LR")."""
        if name not in CHANNELS:
            raise EhpjaxError(f"unknown channel {name!r} (channels: {', '.join(CHANNELS)})")
        i = CHANNELS.index(name)
        return {"J": self.J_channels[..., i], "N": self.N_channels[..., i]}

    def as_dict(self) -> dict:
        """Every result by name, the channels split out: J, I, I_elastic, P,
        entropy_production, J_error, I_error, J_LL … J_LR, N_LL … N_LR."""
        out = {"J": self.J, "I": self.I, "I_elastic": self.I_elastic, "P": self.P,
               "entropy_production": self.entropy_production, "J_error": self.J_error, "I_error": self.I_error}
        for c in CHANNELS:
            out[f"J_{c}"], out[f"N_{c}"] = self.channel(c).values()
        return out


class Currents(ResultsByName, eqx.Module):
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
        names = CHANNELS
        lines = [
            f"J   = {float(self.J): .10e}   (energy current e-bath -> modes; error ~ {float(self.J_error):.1e})",
            *(f"  J^{c} = {float(v): .10e}" for c, v in zip(names, self.J_channels)),
            f"I   = {float(self.I): .10e}   (boson-assisted charge current L -> R)",
            f"I_el= {float(self.I_elastic): .10e}   (elastic charge current L -> R)",
            f"P   = {float(self.P): .10e}   (power I*V)",
            f"σ   = {float(self.entropy_production): .10e}   (entropy production)",
        ]
        return "\n".join(lines)


_UNDAMPED = ("a normal mode of K is not damped by eta (eta annihilates an eigenvector of K): a sharp line "
             "that eta = 0 treats only for all modes at once; give that mode a small friction")


def _undamped(poles):
    return jnp.min(jnp.abs(jnp.imag(poles))) <= 1e-12 * jnp.max(jnp.abs(poles))


def checked_damping(modes: Modes) -> Modes:
    """``modes``, checked (``_checks.check``) for a normal mode that η does not damp (unless η = 0)."""
    sharp, frictional = without_friction(modes)
    return check(modes, ~sharp & _undamped(mode_poles(jax.lax.stop_gradient(frictional))), _UNDAMPED)


def _resonances(z, modes: Modes, baths: Baths):
    """(centres, half-widths, weights) of the features of the ω integrand, from the
    nearest complex singularities: the mode poles (weight _MODE_WEIGHT: they carry the
    heat), the electronic resonances at Re(z_k − z_p), k ≠ p, half-width −Im(z_k + z_p),
    and the Fermi edges that cross a level, ω = |μ_l − Re z_k| for l = L, R, half-width
    −Im z_k + πT_e (poles of ψ(1/2 + (μ_l ∓ ω − z_k)/2πiT_e) in Λ, docs/physics.md §4);
    then the narrowest level's self-pair at ω = 0 (``self_pair_component``).
    Undamped modes are refused by the caller (``checked_damping``)."""
    poles = mode_poles(modes)
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
    return (jnp.concatenate(centres), jnp.concatenate(widths), jnp.concatenate(weights),
            *self_pair_component(z, baths))


def self_pair_component(z, baths: Baths):
    """(core, weight) of the log-uniform node density from ω = 0 (``FrequencyQuadrature``) for the
    self-pair (k, k) of the narrowest level z_k: its pair term ~ 1/(ω + 2i|Im z_k|) (docs/physics.md
    §4) makes a step of width ~|Im z_k| at ω = 0 with a tail over decades, which a level broadened
    only through a weak hopping (|Im z_k| ~ 1e-6) puts far inside the first node; missed, a current
    was off by up to ~500× the tolerance while its estimate read 0.03× (docs/physics.md §5). The
    weight fades where the width is no longer small against the temperatures."""
    scale = _SELF_PAIR_SCALE * jnp.minimum(baths.T_e, baths.T_ph)
    core = jnp.maximum(jnp.min(-jnp.imag(z), keepdims=True), 1e-9 * scale)  # (a level the leads do not broaden)
    return core, _SELF_PAIR_WEIGHT * jnp.exp(-2.0 * core / scale)


def _occupation_difference(omega, mu, T_e, T_ph):
    """n_B(ω − μ_c; T_e) − n_B(ω; T_ph) on nodes ω (P,) for the chemical potentials μ (C,): shape
    (C, P) (zero-weight nodes at the singular points ω = μ_c or ω ≤ 0 are set to 0). The phonon
    term, the same for every μ, is computed once per node."""
    positive = omega > 0
    omega_safe = jnp.where(positive, omega, 1.0)
    phonon = materialize(jnp.where(positive, T_ph * x_bose(omega_safe / T_ph) / omega_safe, 0.0))
    x = omega[None] - mu[:, None]
    singular = (jnp.abs(x) < 1e-300) | ~positive[None]
    return jnp.where(singular, 0.0, bose(jnp.where(singular, 1.0, x), T_e) - phonon[None])


def _channel_occupation(omega, baths: Baths, pairs):
    """``_occupation_difference`` for the four channels, (4, P), formed only for those with a pole
    pair in ``pairs`` (all for None; see ``_transmission``): the others' transmission is exactly
    zero, so their rows are left 0."""
    live = list(range(4)) if pairs is None else sorted({c for c, _, _ in pairs})
    if not live:  # no pair at all (no coupling to the modes)
        return jnp.zeros((4,) + omega.shape)
    rows = _occupation_difference(omega, jnp.stack([baths.mu_channels[c] for c in live]), baths.T_e, baths.T_ph)
    by_channel = dict(zip(live, rows))
    return jnp.stack([by_channel.get(c, jnp.zeros_like(omega)) for c in range(4)])


def _symmetric_features(a):
    """Coordinates of real symmetric matrices a[..., m, n] (last two axes): a_mn for
    m ≤ n (``jnp.triu_indices``), shape (..., N_b(N_b + 1)/2). A_ph(ω) is real symmetric
    for real symmetric K and η: A = D Γ_ph D† = i(D − D*) = −2 Im D, D = D^r symmetric."""
    rows, cols = jnp.triu_indices(a.shape[-1])
    return jnp.real(a[..., rows, cols])


def _pair_coefficients(junction: Junction, poles: PoleExpansion):
    """C with Σ_mn W^αβ_mn[k, j'] B_mn = C[k, j'] · features(B) for real symmetric B
    (``_symmetric_features``): W_mm for the diagonal, W_mn + W_nm for m < n, built from the
    factors of W_mn[k, j'] = P_m[j', k] Q_n[k, j'] (``_ehp.channel_weights``), P = Y_β† M X_α,
    Q = Y_α† M X_β. Shape (channel, block, re/im, n², N_b(N_b + 1)/2): the pole pairs
    (k, j' = block·n + k') in ``pair_integrals``' order, real and imaginary parts apart."""
    n, nb = poles.z.shape[0], junction.n_modes
    c = coupling_matrices(junction, poles)

    def layout(x):  # (N_b, n, 2n) over (m, k, j') → (block, n², N_b)
        return jnp.moveaxis(x.reshape(nb, n, 2, n), 0, -1).swapaxes(0, 1).reshape(2, n * n, nb)

    coeff = []
    for a, b in _PAIRS:
        p = layout(jnp.swapaxes(c[b, a][:, :, :n], 1, 2))  # P_m[j', k] at (k, j')
        q = layout(c[a, b][:, :n, :])  # Q_n[k, j']
        # row m of the upper triangle: p_m q_n + p_n q_m for n ≥ m (slices, not a gather: XLA's CPU gather is slow)
        coeff.append(jnp.concatenate([x for m in range(nb) for x in (
            p[..., m:m + 1] * q[..., m:m + 1], p[..., m:m + 1] * q[..., m + 1:] + p[..., m + 1:] * q[..., m:m + 1])],
            axis=-1))
    coeff = junction.spin_degeneracy * jnp.stack(coeff)  # (4, block, n², F)
    return jnp.stack([jnp.real(coeff), jnp.imag(coeff)], axis=2)


def _transmission(coeff, z, baths: Baths, at_poles, omega, matrices, size, pairs=None):
    """T^αβ(ω) = Tr[Λ^αβ(ω) A(ω)] on the nodes ``omega`` (P,), A(ω) real symmetric, given by
    its features ``matrices`` (P, F) (``_symmetric_features``; A = A_ph for the quadrature),
    shape (4, P), in blocks of ``size`` nodes (``FrequencyQuadrature.block``): a block's
    arrays stay in cache, and the backward pass recomputes each block (jax.checkpoint)
    instead of storing every node's arrays.

    With Λ = −(X + X†)/2π, X_mn = Σ_kj' W_mn[k, j'] K[k, j'] (``_ehp.py``) and A Hermitian,
        T = −Re Σ_kj' K[k, j'] S[k, j'] / π,   S[k, j'] = Σ_mn W_mn[k, j'] A_nm(ω),
    K = el[α] − hole[β]. S is a real matrix product with the ω-independent ``coeff``
    (``_pair_coefficients``): about a quarter of the arithmetic of forming X with complex products.
    at_poles: ``_ehp.pole_polygammas`` of the poles ``z`` and ``baths`` (the same for every block).
    pairs: ``nonzero_pairs`` of the junction (static), or None: only those pole pairs are
    evaluated (``_ehp.pair_terms``), the others having a coefficient of exactly zero.
    """
    n = z.shape[0]
    if pairs == ():  # every coefficient vanishes (no coupling to the modes)
        return jnp.zeros((4, omega.shape[0]))
    if pairs is not None:
        return _transmission_of_pairs(coeff, z, baths, at_poles, omega, matrices, size, pairs)

    def block(args):
        om, features = args
        # blocks (LL, LU), each (2, n, n, B)
        el, hole = pair_integrals(z, om, baths.mu_L, baths.mu_R, baths.T_e, at_poles)
        s = (coeff.reshape(-1, coeff.shape[-1]) @ features.T).reshape(coeff.shape[:-1] + (-1,))  # one GEMM
        k = tuple(tuple((el[blk][a_lead] - hole[blk][b_lead]).reshape(n * n, -1) for blk in range(2))
                  for a_lead, b_lead in _PAIRS)
        return -_channel_sums(k, s) / jnp.pi

    return _in_blocks(block, omega, matrices, size)


@jax.custom_jvp
def _channel_sums(k, s):
    """T^αβ·(−π) from the pole-pair integrals: Σ_(block, pair) Re K S_re − Im K S_im per channel, (4, B).

    k: K of ``_transmission`` per channel and block (nested tuples of (n², B) complex arrays);
    s: (4, block, re/im, n², B). Differentiated with the part from s as one product with the stacked
    parts of K: its transpose (the backward pass) is one product, where slicing s gave a sum of
    16 padded slices (the vmapped gradient of J 1.09× faster)."""
    out = []
    for c, per_block in enumerate(k):
        t = 0.0
        for blk, kb in enumerate(per_block):
            t = t + _sum_pairs(jnp.real(kb) * s[c, blk, 0] - jnp.imag(kb) * s[c, blk, 1])
        out.append(t)
    return jnp.stack(out)


def _channel_sums_jvp(primals, tangents):  # (zero tangents arrive as SymbolicZero: their terms are left out)
    (k, s), (dk, ds) = primals, tangents
    value = _channel_sums(k, s)
    tangent = jnp.zeros_like(value)
    if not all(_is_zero(x) for x in jax.tree.leaves(dk, is_leaf=_is_zero)):
        dk = jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype) if _is_zero(x) else x, dk, is_leaf=_is_zero)
        tangent = tangent + _channel_sums(dk, s)
    if not _is_zero(ds):
        parts = jnp.stack([jnp.stack([jnp.stack([jnp.real(kb), -jnp.imag(kb)]) for kb in per_block])
                           for per_block in k])  # (4, block, re/im, n², B), like s
        tangent = tangent + jnp.sum((parts * ds).reshape(4, -1, ds.shape[-1]), axis=1)
    return value, tangent


def _is_zero(x):
    return isinstance(x, SymbolicZero)


_channel_sums.defjvp(_channel_sums_jvp, symbolic_zeros=True)


@jax.custom_jvp
def _sum_pairs(x):
    """x.sum(0) over the pole pairs (the first axis, n² long) as a product with ones: XLA CPU
    reduces over a long leading axis slowly (one J of n = 32 levels 1.1× faster, 505 random
    two-level junctions 1.08×). Differentiated as the sum (whose transpose is a broadcast; the
    product's made the vmapped gradient 3 % slower)."""
    return np.ones(x.shape[0]) @ x


_sum_pairs.defjvp(lambda primals, tangents: (jnp.sum(primals[0], axis=0), jnp.sum(tangents[0], axis=0)))


def _in_blocks(block, omega, matrices, size):
    """block((ω, features)) → (4, B) on the nodes in blocks of ``size`` (``_transmission``)."""
    count = omega.shape[0]
    if size is None or size >= count:
        return block((omega, matrices))
    # (as many blocks as ``size`` makes of the count rounded, each a little larger where the count is
    # not a multiple of it: a rule's nodes and its part's two ends, 150 + 2, in 5 blocks of 31, not 6)
    blocks = max(1, round(count / size))
    size = -(-count // blocks)
    pad = blocks * size - count
    padded = (jnp.concatenate([omega, jnp.broadcast_to(omega[-1:], (pad,))]).reshape(blocks, size),
              jnp.concatenate([matrices, jnp.broadcast_to(matrices[-1:], (pad, matrices.shape[1]))])
              .reshape(blocks, size, -1))
    per_block = jax.lax.map(jax.checkpoint(block), padded)  # (blocks, 4, B)
    return jnp.moveaxis(per_block, 1, 0).reshape(4, -1)[:, :count]


def _transmission_of_pairs(coeff, z, baths: Baths, at_poles, omega, matrices, size, pairs):
    """``_transmission`` from the pole pairs ``pairs`` ((channel, block, pair) with pair = k·n + k')
    only: T^αβ = −Σ_t [Re K_t S_t,re − Im K_t S_t,im]/π over the pairs t of channel αβ."""
    n = z.shape[0]
    channel = np.array([c for c, _, _ in pairs])
    terms = tuple((int(b), *_PAIRS[c], int(p) // n, int(p) % n) for c, b, p in pairs)  # (block, α, β, k, k')
    rows = jnp.stack([coeff[c, b, :, p] for c, b, p in pairs])  # (T, re/im, F), ω-independent (slices)

    def block(args):
        om, features = args
        k = pair_terms(z, om, baths.mu_L, baths.mu_R, baths.T_e, at_poles, terms)  # (T, B)
        s = (rows.reshape(-1, rows.shape[-1]) @ features.T).reshape(rows.shape[:-1] + (-1,))
        t = jnp.real(k) * s[:, 0] - jnp.imag(k) * s[:, 1]
        zero = jnp.zeros_like(t[0])
        return -jnp.stack([sum((t[i] for i in np.flatnonzero(channel == c)), zero) for c in range(4)]) / jnp.pi

    return _in_blocks(block, omega, matrices, size)


# At most this many pole pairs (of 8n² for n levels: 4 channels, 2 blocks, n² pairs) are evaluated one by one.
_MAX_PAIRS = 16


def pair_mask(junction: Junction):
    """Whether each pole pair of ``_pair_coefficients`` has a nonzero coefficient: (channel, block, n²)."""
    return jnp.any(_pair_coefficients(junction, pole_expansion(junction)) != 0, axis=(2, 4))


_checked_pair_mask = quick_jit(deferring(pair_mask)[0], jit=jax.jit, ahead_of_time=True)  # (its checks as flags)


def pairs_of_mask(mask, flags):
    """``nonzero_pairs`` from ``pair_mask`` and the flags of its checks (any set: None)."""
    mask = np.asarray(mask)
    # a failed check is left to the currents' own checks; many pairs are cheaper all at once
    if np.any(np.asarray(flags)) or mask.sum() > _MAX_PAIRS or mask.sum() == mask.size:
        return None
    pairs = np.argwhere(mask)
    pairs = pairs[np.argsort(pairs[:, 1], kind="stable")]
    return tuple(tuple(int(i) for i in row) for row in pairs)


def nonzero_pairs(junction: Junction):
    """The pole pairs (channel, block, k·n + k') whose coefficient in ``_pair_coefficients`` is
    not exactly zero, for a junction known on the host (not traced), as a static tuple with the
    block-0 pairs first; None (every pair) for a traced junction, or when more than
    ``_MAX_PAIRS`` pairs remain. Exactly zero: the structure of
    the junction makes channels vanish (Λ^LL = Λ^RR = 0 in the paper's model, where H is
    diagonal and each lead couples to one level) and most pole pairs of the others."""
    if is_traced(junction):
        return None
    return pairs_of_mask(*_checked_pair_mask(jax.device_get(junction)))  # (host values: any device)


_KNOWN_PAIRS = contextvars.ContextVar("ehpjax_known_pairs", default=None)


@contextlib.contextmanager
def known_pairs(pairs):
    """Inside the block, ``currents`` traced with a traced junction evaluates only ``pairs``
    (``nonzero_pairs`` of every junction the trace stands for; None: all pairs). For callers that
    know more than the trace: a sweep over bath names only, whose junction is fixed."""
    token = _KNOWN_PAIRS.set(pairs)
    try:
        yield
    finally:
        _KNOWN_PAIRS.reset(token)


_KNOWN_DAMPED = contextvars.ContextVar("ehpjax_known_damped", default=False)


def eta_vanishes(modes: Modes) -> bool:
    """Whether η of ``modes`` (known on the host) is exactly zero: the sharp-line limit, whose
    nodes ``currents`` adds to its program unless η is known not to vanish (``known_damped``)."""
    return bool(np.all(np.asarray(modes.eta) == 0))


@contextlib.contextmanager
def known_damped(damped: bool = True):
    """Inside the block, ``currents`` traced with a traced η leaves the sharp-line limit (η = 0)
    out of the program if ``damped``: the caller knows that η does not vanish at any point the
    trace stands for (a design whose modes are fixed, with η ≠ 0)."""
    token = _KNOWN_DAMPED.set(bool(damped))
    try:
        yield
    finally:
        _KNOWN_DAMPED.reset(token)


# Nodes per normal mode of the sharp-line limit: Ω_k − 2δ, Ω_k, Ω_k + 2δ.
_LINE_NODES = 3


def _line_nodes(modes: Modes, baths: Baths):
    """Where the sharp-line limit (η = 0) needs q = Tr[Λ^αβ(ω) P_k] = u_kᵀ Λ^αβ(ω) u_k, P_k = u_k u_kᵀ
    for the normal modes u_k: ω = Ω_k and Ω_k ± 2δ (δ = 1e-4 T_e, for ``_sharp_line``).
    Returns the nodes (N_b·3,) and the features of their matrices P_k (N_b·3, N_b(N_b + 1)/2)."""
    frequencies, vectors = normal_modes(modes)
    step = 2e-4 * baths.T_e
    nodes = frequencies[:, None] + step * jnp.array([-1.0, 0.0, 1.0])
    projectors = vectors.T[:, :, None] * vectors.T[:, None, :]  # (k, m, n): u_k u_kᵀ
    return nodes.ravel(), jnp.repeat(_symmetric_features(projectors), _LINE_NODES, axis=0)


def _sharp_line(q, modes: Modes, baths: Baths):
    """J^αβ and N^αβ of the η → 0 limit (``_bosons.sharp_line_fluxes``),

        J^αβ = Σ_k ½ q^αβ_k(Ω_k) [n_B(Ω_k − μ_αβ; T_e) − n_B(Ω_k; T_ph)],   N^αβ: the same / Ω_k,

    from q (4, N_b·3) on the nodes of ``_line_nodes``. Where Ω_k is within δ of μ_αβ
    (n_B diverges, q vanishes linearly), n_B q at Ω_k is the mean of its values at
    Ω_k ± 2δ, where n_B is finite (linear interpolation, error O(δ²))."""
    frequencies = normal_modes(modes)[0]
    nb = frequencies.shape[0]
    q = q.reshape(4, nb, _LINE_NODES)
    minus, at_line, plus = q[:, :, 0], q[:, :, 1], q[:, :, 2]
    T_e, delta = baths.T_e, 1e-4 * baths.T_e
    x = frequencies[None, :] - baths.mu_channels[:, None]
    near = jnp.abs(x) < delta
    interpolated = 0.5 * (bose(x - 2 * delta, T_e) * minus + bose(x + 2 * delta, T_e) * plus)
    emission = jnp.where(near, interpolated, bose(jnp.where(near, delta, x), T_e) * at_line)
    weight = (emission - bose(frequencies, baths.T_ph)[None, :] * at_line) / 2  # (4, N_b)
    return jnp.sum(weight, axis=1), jnp.sum(weight / frequencies[None, :], axis=1)


@compiled
def elastic_current(junction: Junction, baths: Baths, poles: PoleExpansion | None = None):
    """I_el = ∫ dε/2π Tr[Γ_L G^r Γ_R G^a] (f(ε; μ_L) − f(ε; μ_R)), exactly from the poles:
    ∫ dε (f_L − f_R)/(ε − p) = ψ(w_p(μ_L)) − ψ(w_p(μ_R)), w_p = 1/2 + (μ − p)/(2πiT).
    ``poles``: the junction's ``pole_expansion``, if already at hand."""
    poles = pole_expansion(junction) if poles is None else poles
    n = poles.z.shape[0]
    coeff = jnp.einsum("ij,ik,kj->j", jnp.conj(poles.Y[1]), junction.gamma_L, poles.X[1])
    c = 2j * jnp.pi * baths.T_e
    psi_left, psi_right = digamma(0.5 + (jnp.stack([baths.mu_L, baths.mu_R])[:, None] - poles.z) / c)
    diff = psi_left - psi_right
    total = jnp.sum(coeff[:n] * diff + coeff[n:] * jnp.conj(diff))
    return junction.spin_degeneracy * jnp.real(total) / (2 * jnp.pi)


# the accuracy promise of docs/physics.md §8: |x − ref| ≤ rtol · max(|ref|, ERROR_FLOOR).
ERROR_FLOOR = 1e-4


def misses_tolerance(value, error, rtol, xp=np):
    """Whether an estimated quadrature ``error`` misses the tolerance of docs/physics.md §8
    rtol · max(|value|, 1e-4), elementwise (``xp``: NumPy, or jax.numpy on the device)."""
    return xp.asarray(error) > rtol * xp.maximum(xp.abs(xp.asarray(value)), ERROR_FLOOR)


def currents_miss(J, J_err, I, I_err, rtol, xp=np):
    """Whether the error estimate of J or of I misses the tolerance (``misses_tolerance``), elementwise."""
    return misses_tolerance(J, J_err, rtol, xp) | misses_tolerance(I, I_err, rtol, xp)


def _misses(result: "Currents", rtol):
    """``currents_miss`` of a result, on the device."""
    return currents_miss(result.J, result.J_error, result.I, result.I_error, rtol, jnp)


def part_error(J_error, I_error, result):
    """The error estimates of J and I on a part of the ω rule's range, as a multiple of the
    tolerance's scale max(|value|, 1e-4) of the point's ``result`` (the larger of the two): which
    part the default rule splits first (``_adaptive.Finer``)."""
    return jnp.maximum(J_error / jnp.maximum(jnp.abs(result.J), ERROR_FLOOR),
                       I_error / jnp.maximum(jnp.abs(result.I), ERROR_FLOOR))


def _any_misses(J, J_err, I, I_err, rtol):
    """Whether ``_warn_inaccurate`` would warn: any point misses the tolerance (on the device)."""
    return jnp.any(currents_miss(J, J_err, I, I_err, rtol, jnp))


def report_accuracy(result, rtol):
    """Inside a trace: ``result`` (``Currents`` or ``DressedCurrents``), with ``_warn_inaccurate``
    called once per call with the whole batch, on the host only when some point misses the
    tolerance (``_adaptive.report``; tied to the result's values, so kept while they are used)."""
    zero = report(functools.partial(_warn_inaccurate, rtol=rtol), functools.partial(_any_misses, rtol=rtol),
                  result.J, result.J_error, result.I, result.I_error)
    return with_report(result, zero)


def _warn_inaccurate(J, J_err, I, I_err, rtol, stacklevel=2):
    """Host side of the accuracy warning: one call per batch (arrays of any shape)."""
    J, J_err, I, I_err = (np.asarray(x) for x in (J, J_err, I, I_err))
    missed = currents_miss(J, J_err, I, I_err, rtol)
    if np.any(missed):
        worst_J = np.max(J_err / np.maximum(np.abs(J), ERROR_FLOOR))
        worst_I = np.max(I_err / np.maximum(np.abs(I), ERROR_FLOOR))
        warnings.warn(
            f"ehpjax.currents: the frequency quadrature may miss the requested accuracy at "
            f"{int(np.sum(missed))} of {missed.size} points (worst estimated error of J "
            f"{worst_J:.1e}, of I {worst_I:.1e}, relative to max(|value|, {ERROR_FLOOR:g}); tolerance {rtol:g}). "
            "Split the parts that miss more often, e.g. quadrature=AdaptiveQuadrature(splits=16), "
            "or use more panels, e.g. quadrature=FrequencyQuadrature(panels=100)."
            + (" An infinite estimate is unknown: a feature narrower than float64 resolves in ω (a mode with "
               "η below ~1e-10 of its frequency, whose limit η = 0 is exact)." if np.any(np.isinf(J_err[missed]))
               or np.any(np.isinf(I_err[missed])) else ""),
            RuntimeWarning,
            stacklevel=stacklevel,
        )


def currents(
    junction: Junction,
    modes: Modes,
    baths: Baths,
    *,
    quadrature: AdaptiveQuadrature | FrequencyQuadrature = AdaptiveQuadrature(),
    order: str = "lowest",
) -> Currents:
    """Heat, boson-number and charge currents (docs/physics.md §5) at lowest order (paper Eq. 8).

    quadrature: the ω rule. The default (``AdaptiveQuadrature``) computes every point with
    a 4-panel rule, recomputes with the 10-panel rule those whose error estimate is not
    well below 1e-6 · max(|x|, 1e-4), and with 40 panels those whose 10-panel estimate misses
    it, splitting the part of largest error while that still misses (docs/physics.md §5); a
    ``FrequencyQuadrature`` is used as given. A warning names the points whose final
    estimate misses the tolerance. (Derivatives, and the values that come with them, are
    the 10-panel rule's.)

    order: "lowest" (the paper's Eq. 8, the default) or "dressed" (modes dressed by the
    e-bath, docs/physics.md §9; returns a ``DressedCurrents`` with the same fields and more;
    of an ``AdaptiveQuadrature`` it uses the fine rule and its parts, not the coarse rule).

    Pure, jit-able, vmap-able and differentiable in every field of the inputs; compiled
    on the first call (a plain call does not retrace).
    """
    if order not in ("lowest", "dressed"):
        raise EhpjaxError(f"order must be 'lowest' or 'dressed', got {order!r}")
    if order == "dressed":
        from ._dressed import dressed_currents

        return dressed_currents(junction, modes, baths, quadrature=quadrature)
    if junction.n_modes != modes.n_modes:
        raise EhpjaxError(f"junction.M has {junction.n_modes} modes but modes.K has {modes.n_modes}")
    # The η = 0 sharp-line nodes (_LINE_NODES per mode) are left out when η is known not to vanish.
    if is_traced(modes.eta):
        line = not _KNOWN_DAMPED.get()
    else:
        line = eta_vanishes(modes)
    if is_traced((junction, modes, baths)):
        # a junction known here (closed over, as in a sweep of the baths): only its nonzero pole pairs
        pairs = _KNOWN_PAIRS.get() if is_traced(junction) else nonzero_pairs(junction)
        active = refinable()  # (False at a sweep's padding: not refined)
        if checks_deferred():  # inline, so that the caller's deferred checks see this trace
            return _traced_currents.__wrapped__(junction, modes, baths, quadrature, line, pairs, active)
        return on_automatic_axes(_traced_currents, junction, modes, baths, quadrature, line, pairs, active)
    # A plain call: a compiled kernel without host callbacks (so that JAX's persistent
    # compilation cache keeps it), its checks and the accuracy warning made here.
    result = _plain_currents(junction, modes, baths, quadrature, line)
    if quadrature.warn:
        _warn_inaccurate(result.J, result.J_error, result.I, result.I_error, quadrature.rtol, stacklevel=3)
    return result


def _taylor_points(pairs, n):
    """The (lead, pole) points whose ψ^(1..4) the pole pairs ``pairs`` use (``_ehp.pair_terms``: the
    Taylor series of the same-half-plane terms, block 0), or None (every point) for all pairs."""
    if pairs is None:
        return None
    points = set()
    for channel, block, pair in pairs:
        if block == 0:
            a, b = _PAIRS[channel]
            points |= {(a, int(pair) // n), (b, int(pair) % n)}
    return frozenset(points)


def _currents_kernel(junction, modes, baths, quadrature, line=True, pairs=None, active=True):
    """The currents on the rule ``quadrature`` (adaptive or fixed), without the warning. The
    pole expansion (and its check), the pair coefficients, the elastic current and the
    sharp-line limit, which need no ω rule, are made once, here, for both rules of the adaptive
    one (``line=False``: η is known not to vanish, so the sharp-line limit is left out;
    ``pairs``: the junction's ``nonzero_pairs``, or None for all; ``active``: False where the
    adaptive rule must not refine, ``_adaptive.refined_only_where``)."""
    with batching_context():  # (the rules' batched traces then reuse their unbatched ones)
        return _currents_on(junction, modes, baths, quadrature, line, pairs, active)


def _currents_on(junction, modes, baths, quadrature, line, pairs, active):
    modes = checked_damping(modes)
    poles = pole_expansion(junction)
    I_elastic = elastic_current(junction, baths, poles)
    at_poles = pole_polygammas(poles.z, baths.mu_L, baths.mu_R, baths.T_e, _taylor_points(pairs, poles.z.shape[0]))
    sharp, frictional = without_friction(modes)  # η = 0: the rules see finite η; the limit replaces them below
    args = (_pair_coefficients(junction, poles), frictional, baths, poles, I_elastic, at_poles)

    def on(rule, blocks=True):  # the currents on the fixed ``rule``, optionally without its blocks
        # (the warning's settings do not change the rule's values: left out of the trace's key)
        computed = same_values(rule) if blocks else dataclasses.replace(same_values(rule), block=None)
        return functools.partial(_lowest_order_once, pairs=pairs, quadrature=computed)

    def sums_on(rule, blocks=True, edges=True):  # its sums on a part of its range, additive over parts (``_adaptive.refine``)
        def sums(part, *a):  # (fluxes 0–7, errors 8–9; ``edges``: a rule whose range may be cut into parts)
            c = on(rule, blocks)(*a, part=part, edges=edges)
            return jnp.concatenate([c.J_channels, c.N_channels, jnp.stack([c.J_error, c.I_error])])
        return sums

    def combined(sums, coeff, modes, baths, poles, I_elastic, at_poles):  # the currents from those sums
        return _assemble(sums[:4], sums[4:8], I_elastic, baths, sums[8], sums[9])

    # A known junction's few pairs on every node at once where nothing is differentiated, the
    # derivatives in blocks: blocks pay off for the per-node arrays of every pair (a traced junction:
    # 1.6× faster with them) and in the backward pass (the Fig-3 gradient 1.37× faster). Without them,
    # the Fig-3 sweep is 1.06× faster (the median of 7 A/B rounds), 1.34× with most points refined
    # (γ_ph = 0.05), on the fixed 10-panel rule 1.17×.
    values_in_blocks = pairs is None
    if isinstance(quadrature, AdaptiveQuadrature):
        fixed = quadrature.fine
        finer = Finer(quadrature.parts, functools.partial(_misses, rtol=quadrature.rtol),
                      part_error=lambda sums, result: part_error(sums[8], sums[9], result), splits=quadrature.splits,
                      aim=functools.partial(_misses, rtol=SPLIT_AIM * quadrature.rtol))
        result = refine(functools.partial(sums_on(quadrature.coarse, values_in_blocks, edges=False), WHOLE),
                        sums_on(fixed, values_in_blocks), combined,
                        functools.partial(_misses, rtol=quadrature.accept * quadrature.rtol), args,
                        quadrature.refine_fraction, active, derivative=lambda *a: on(fixed)(*a, part=WHOLE, edges=True),
                        finer=finer if quadrature.parts > 1 else None)
    elif values_in_blocks or quadrature.block is None:
        fixed = quadrature
        result = _lowest_order(*args, quadrature, pairs)
    else:  # (under a vmap of many points, the values in chunks: ``_adaptive.chunked``)
        fixed = quadrature
        result = with_derivative(chunked(on(fixed, blocks=False)), on(fixed), args)
    if line:
        result = _sharp_line_currents(result, sharp, *args, fixed.block, pairs)
    return result


@eqx.filter_jit
def _traced_currents(junction, modes, baths, quadrature, line=True, pairs=None, active=True):
    """``currents`` inside the caller's jit, vmap or grad: checks compiled in (together,
    ``_checks.checks_combined``), and the accuracy warning one host callback per call
    (``_adaptive.report``)."""
    result = combining_checks(_currents_kernel)(junction, modes, baths, quadrature, line, pairs, active)
    if quadrature.warn:
        result = report_accuracy(result, quadrature.rtol)
    return result


_plain_currents = compiled(_currents_kernel)  # concrete inputs: one program, checks raised on the host


def _lowest_order(coeff, modes: Modes, baths: Baths, poles: PoleExpansion, I_elastic, at_poles,
                  quadrature: FrequencyQuadrature, pairs=None, part=WHOLE, edges=False) -> Currents:
    """The currents on the fixed ω rule ``quadrature`` from the junction's ``pole_expansion``
    and ``_pair_coefficients``, with their error estimates, the given ``elastic_current`` and
    ``_ehp.pole_polygammas`` (η ≠ 0: modes checked and made frictional by the caller;
    ``pairs``: see ``_transmission``; ``part``: the rule's nodes on that part of its range only,
    ``FrequencyQuadrature.nodes``, the fluxes and errors then that part's; ``edges``: a rule whose range
    may be cut into parts, its errors with ``_quadrature.edge_steps`` at the part's ends)."""
    features = _resonances(poles.z, modes, baths)
    if edges:  # (the part's ends too, ``_quadrature.edge_steps``)
        omega, w_kronrod, w_gauss, mapped, edge_omega, edge_weight = quadrature.nodes(
            features, jnp.abs(baths.V), baths.T_e, baths.T_ph, part, edges=True)
        omega = jnp.concatenate([omega, edge_omega])  # (the integrand on both in one pass)
    else:
        omega, w_kronrod, w_gauss, mapped = quadrature.nodes(features, jnp.abs(baths.V), baths.T_e, baths.T_ph, part)
    spectral = _symmetric_features(boson_spectral(modes, omega))  # (P, F)
    # Tr[Λ^αβ A_ph], (4, P)
    transmission = _transmission(coeff, poles.z, baths, at_poles, omega, spectral, quadrature.block, pairs)
    occupation = _channel_occupation(omega, baths, pairs)
    number_density = transmission * occupation / (2 * jnp.pi)  # (4, P)
    energy_density = omega * number_density

    # (the sums over channels written out: a contraction over 4 channels is a library call on XLA CPU)
    densities = jnp.stack([_channel_total(energy_density), _charge(number_density)])
    count = w_kronrod.shape[0]  # (the nodes; the part's two ends after them, ``edges``)
    errors = integral_errors(densities[:, :count], w_kronrod, w_gauss, poles, mapped)
    if edges:
        errors = errors + edge_steps(densities[:, :count], w_kronrod, densities[:, count:], edge_weight, part)
    return _assemble(node_sum(energy_density[:, :count], w_kronrod), node_sum(number_density[:, :count], w_kronrod),
                     I_elastic, baths, errors[0], errors[1])


def integral_errors(densities, w_kronrod, w_gauss, poles: PoleExpansion, mapped):
    """Estimated errors of the ω integrals of ``densities`` (rows: J's and I's densities on the
    rule's nodes): the rule's (``kronrod_error``, the rows sharing each panel's ratio) and the pole
    expansion's (relative); infinite where the node map left a node off its level (not ``mapped``:
    the rule's range of ω is then not the one its neighbours' meet)."""
    errors = kronrod_error(densities, w_kronrod, w_gauss, shared=True) + poles.error * node_sum(jnp.abs(densities),
                                                                                                w_kronrod)
    return jnp.where(mapped, errors, jnp.inf)


def _channel_total(x):
    """Σ over the four channels LL, RR, RL, LR (first axis) of x."""
    return x[0] + x[1] + x[2] + x[3]


def _charge(x):
    """LR − RL of the channels (first axis) of x: I = N^LR − N^RL."""
    return x[3] - x[2]


def _assemble(J_channels, N_channels, I_elastic, baths: Baths, J_error, I_error) -> Currents:
    """``Currents`` from the channel fluxes: J = Σ J^αβ, I = N^LR − N^RL, P = IV, σ."""
    J = _channel_total(J_channels)
    I = _charge(N_channels)
    P = I * baths.V
    sigma = (P - J) / baths.T_e + J / baths.T_ph
    return Currents(J=J, J_channels=J_channels, N_channels=N_channels, I=I, I_elastic=I_elastic, P=P,
                    entropy_production=sigma, J_error=J_error, I_error=I_error)


def _sharp_line_currents(result: Currents, sharp, coeff, modes: Modes, baths: Baths,
                         poles: PoleExpansion, I_elastic, at_poles, block, pairs=None) -> Currents:
    """``result``, replaced by the sharp-line limit (``_sharp_line``) where η = 0 (``sharp``),
    with the pole expansion's relative error. The line nodes are evaluated only then (under a
    batched η, both branches run)."""
    def line_fluxes():
        nodes, matrices = _line_nodes(modes, baths)
        q = _transmission(coeff, poles.z, baths, at_poles, nodes, matrices, block, pairs)
        return _sharp_line(q, modes, baths)

    fluxes = jax.lax.cond(sharp, line_fluxes, lambda: (jnp.zeros(4), jnp.zeros(4)))
    J_channels, N_channels = (jnp.where(sharp, exact, q) for exact, q in
                              zip(fluxes, (result.J_channels, result.N_channels)))
    J_error = jnp.where(sharp, poles.error * jnp.sum(jnp.abs(J_channels)), result.J_error)
    I_error = jnp.where(sharp, poles.error * jnp.abs(_charge(N_channels)), result.I_error)
    return _assemble(J_channels, N_channels, I_elastic, baths, J_error, I_error)


# The adaptive rule calls each of its two rules from an unbatched and a batched trace
# (``_adaptive``); under a jit each rule is traced once and that trace is batched (both traces in
# the same ``batching_context``, which JAX's trace cache compares: without it each rule was traced
# twice, and tracing and lowering a vmapped J, its gradient and one J took 0.7–0.9 s longer). The same
# program after XLA inlines the call: run times equal; tracing, lowering and compiling
# jit(vmap(J)), jit(grad(J)), jit(vmap(grad(J))) and jit(J) of the paper's model (the test
# suite's quick XLA settings) took 29 s instead of 36 s, of which tracing and lowering 10 s
# instead of 14 s.
_lowest_order_once = jax.jit(_lowest_order, static_argnames=("quadrature", "pairs", "edges"))


def cooling_cop(result: Currents):
    """Cooling coefficient of performance −J/P where J < 0 and P > 0, else 0 (docs/physics.md §5)."""
    cooling = (result.J < 0) & (result.P > 0)
    return jnp.where(cooling, -result.J / jnp.where(cooling, result.P, 1.0), 0.0)


def rectification(junction: Junction, modes: Modes, T0, delta_T, mu_L, mu_R=None, *,
                  quadrature: AdaptiveQuadrature | FrequencyQuadrature = AdaptiveQuadrature()):
    """Thermal rectification R(ΔT) = (|J(ΔT)| − |J(−ΔT)|)/(|J(ΔT)| + |J(−ΔT)|) ∈ [−1, 1]
    with T_e = T0 + ΔT/2, T_ph = T0 − ΔT/2 (docs/physics.md §5); μ_R defaults to μ_L."""
    mu_R = mu_L if mu_R is None else mu_R
    forward = currents(junction, modes, Baths(mu_L, mu_R, T0 + 0.5 * delta_T, T0 - 0.5 * delta_T), quadrature=quadrature)
    backward = currents(junction, modes, Baths(mu_L, mu_R, T0 - 0.5 * delta_T, T0 + 0.5 * delta_T), quadrature=quadrature)
    return rectification_ratio(forward.J, backward.J)


def rectification_ratio(J_forward, J_backward):
    """R = (|J(ΔT)| − |J(−ΔT)|)/(|J(ΔT)| + |J(−ΔT)|) ∈ [−1, 1] (docs/physics.md §5),
    elementwise; R = 0 where both currents vanish (nothing flows either way, so nothing is
    rectified; also the ΔT → 0 limit), with a finite gradient there."""
    a, b = jnp.abs(jnp.asarray(J_forward)), jnp.abs(jnp.asarray(J_backward))
    total = a + b
    flowing = total > 0
    return jnp.where(flowing, (a - b) / jnp.where(flowing, total, 1.0), 0.0)
