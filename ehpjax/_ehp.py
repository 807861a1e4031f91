"""The four electron–hole-pair baths: Λ^αβ(ω), power spectra and golden-rule rates (docs/physics.md §4).

    Λ^αβ_mn(ω) = −∫ dε/2π tr[M^m A_α(ε) M^n A_β(ε−ω)] (f(ε; μ_α) − f(ε−ω; μ_β))

is evaluated exactly, without an energy grid. With the pole expansion of A_α
(``_green.py``) the trace is Σ_jj' W_mn[j,j'] / ((ε − p_j)(ε − ω − p_j')), and each
term integrates in closed form against a Fermi function:

    S(μ; a, b) = ∫ dε f(ε; μ) / ((ε − a)(ε − b))
      = −σ/(2πiT) · ψ[w_a, w_b]                       a, b in the same half-plane,
      = [ψ(w_a) − ψ(w_b) − iπσ_a] / (a − b)           a, b in opposite half-planes,

with w_p = 1/2 + σ_p (μ − p)/(2πiT), σ_p = −sign(Im p), and ψ[u, v] the divided
difference of the digamma function (exact also at u = v, i.e. at coinciding poles).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from ._checks import real_axis
from ._compiled import compiled
from ._green import PoleExpansion, pole_expansion
from ._model import Baths, Junction
from ._special import (_abs2, bose, digamma, digamma_and_trigamma, digamma_dd_taylor, materialize, materialize_whole,
                       near, polygammas, reciprocal)

CHANNELS = ("LL", "RR", "RL", "LR")
_LEAD = {"L": 0, "R": 1}
_PAIRS = tuple((_LEAD[c[0]], _LEAD[c[1]]) for c in CHANNELS)  # (electron lead α, hole lead β)


def coupling_matrices(junction: Junction, poles: PoleExpansion):
    """C[a, b, m] = Y_a† M^m X_b for the leads a, b (pole expansion ``_green.PoleExpansion``):
    shape (2, 2, N_b, 2n, 2n), the factors of the channel weights."""
    return jnp.einsum("aij,mik,bkl->abmjl", jnp.conj(poles.Y), junction.M, poles.X)


def channel_weights(junction: Junction, poles: PoleExpansion):
    """W^αβ_mn[k, j'] = (y^β_j'† M^m x^α_k)(y^α_k† M^n x^β_j') for the lower poles k ≤ n and
    all 2n poles j', shape (4, N_b, N_b, n, 2n).

    The blocks with an upper pole in the first index follow from these by Hermiticity:
    W_UU,mn = conj(W_LL,nm) and W_UL,mn = conj(W_LU,nm) (so that Λ = −(X + X†)/2π,
    ``ehp_half_from_poles``).
    """
    n = poles.z.shape[0]
    c = coupling_matrices(junction, poles)
    weights = [jnp.einsum("mkj,njk->mnjk", c[b, a][:, :, :n], c[a, b][:, :n, :]) for a, b in _PAIRS]
    return junction.spin_degeneracy * jnp.stack(weights)


def _w(mu, pole, inv_c):
    """w_p = 1/2 + (μ − p)/(2πiT) for a lower-half-plane pole p (inv_c = 1/(2πiT))."""
    return 0.5 + (mu - pole) * inv_c


def _leads_and_poles(z, mu_L, mu_R, temperature):
    """(μ per lead (2, 1, 1), z_k (1, n, 1), 1/(2πiT)) in ``pair_integrals``' layout."""
    inv_c = -0.5j / (jnp.pi * temperature)  # 1/(2πiT): multiply, never divide elementwise
    return jnp.stack([mu_L, mu_R])[:, None, None], z[None, :, None], inv_c


def pole_polygammas(z, mu_L, mu_R, temperature, derivatives_at=None):
    """[ψ, ψ^(1), …, ψ^(4)](w_k) at the ω-independent points w_k = 1/2 + (μ_l − z_k)/(2πiT)
    of ``pair_integrals``, each of shape (lead, n, 1): computed once per call of the currents
    and passed to every block of frequencies (in XLA, the largest piece of a block's program).
    derivatives_at: a static collection of (lead, pole) where ψ^(1..4) are needed (the Taylor
    series of close pairs, ``pair_terms``' block-0 terms); elsewhere they are left 0. None: everywhere."""
    mus, zc, inv_c = _leads_and_poles(z, mu_L, mu_R, temperature)
    w = _w(mus, zc, inv_c)
    if derivatives_at is None:
        return tuple(materialize(x) for x in polygammas(w))
    points = sorted(derivatives_at)
    at = polygammas(jnp.stack([w[lead, pole] for lead, pole in points])) if points else None
    zero = jnp.zeros_like(w[0, 0])

    def spread(m):  # the order-m values at ``points``, zero elsewhere, in (lead, n, 1)
        rows = {point: at[m][i] for i, point in enumerate(points)}
        return jnp.stack([jnp.stack([rows.get((lead, pole), zero) for pole in range(w.shape[1])])
                          for lead in range(w.shape[0])])

    return (materialize(digamma(w)), *(materialize(spread(m)) for m in range(1, 5)))


def pair_integrals(z, omega, mu_L, mu_R, temperature, at_poles=None):
    """Electron and hole parts of K^αβ[k, j'] = ∫ dε (f(ε; μ_α) − f(ε − ω; μ_β)) / ((ε − z_k)(ε − ω − p_j')),
    for the lower poles z_k and all 2n poles p = (z, z*): K^αβ = el[α] − hole[β].

    el[l] = S(μ_l; z_k, ω + p_j'),  hole[l] = S(μ_l + ω; z_k, ω + p_j'),  each split into
    the blocks p_j' = z_k' and p_j' = z_k'*: el = (el_ll, el_lu), each a pair (lead L, lead R)
    of (n, n, P) arrays over (k, k', node), for the P frequencies ``omega`` (1-D; frequencies
    last, so that the elementwise work vectorises over them); hole likewise. S is that of the module docstring; the
    −iπ of the opposite-half-plane case cancels in el − hole and is dropped. ψ is
    evaluated once per pole and node (O(n)); each pole pair then costs a few complex
    operations and shares one reciprocal between leads and between el and hole.
    Upper poles reuse the lower ones through ψ(w̄) = conj ψ(w).
    at_poles: ``pole_polygammas(z, mu_L, mu_R, temperature)``, if already at hand (and only
    that: the derivatives take ψ^(m) at the poles as functions of z, μ and T, ``_pair_integrals_jvp``).
    """
    if at_poles is None:
        at_poles = pole_polygammas(z, mu_L, mu_R, temperature)
    real = [jnp.asarray(x, dtype=jnp.float64) for x in (omega, mu_L, mu_R, temperature)]
    return _pair_integrals(z, *real, tuple(at_poles))


def _pair_parts(z, omega, mu_L, mu_R, temperature, at_poles, slopes: bool):
    """``pair_integrals`` and, with ``slopes``, what its derivative needs (``_pair_integrals_jvp``)."""
    om = omega[None, None, :]  # (1, 1, P)
    mus, zc, inv_c = _leads_and_poles(z, mu_L, mu_R, temperature)

    # Per lead: A = w(μ, z_k) (ω-independent), B = w(μ, ω + z_k), C = w(μ + ω, z_k);
    # note w(μ + ω, ω + z_k) = A. Shapes (lead, n, 1 or P). ψ on the nodes; at the few
    # points A also ψ^(1..4), for the Taylor series of close pairs.
    a_pts, b_pts, c_pts = _w(mus, zc, inv_c), _w(mus, om + zc, inv_c), _w(mus + om, zc, inv_c)
    psi_a, *derivs_a = at_poles
    if slopes:  # ψ and ψ' on the nodes
        (psi_b, tri_b), (psi_c, tri_c) = (tuple(materialize_whole(x) for x in digamma_and_trigamma(p))
                                          for p in (b_pts, c_pts))
    else:
        psi_b, psi_c = materialize_whole(digamma(b_pts)), materialize_whole(digamma(c_pts))

    def rows(x):  # pole k of the electron side
        return x[:, :, None, :]

    def cols(x):  # pole k' of the hole side
        return x[:, None, :, :]

    # Same half-plane (a = z_k, b = ω + z_k'): S = −ψ[w_a, w_b]/(2πiT), where
    # w_b − w_a = −d/(2πiT) (electron part) and w_c,k − w_a,k' = d/(2πiT) (hole part),
    # with d = ω + z_k' − z_k the same in both leads.
    d = om + z[None, :, None] - z[:, None, None]  # (n, n, P)
    h = d * inv_c  # w_c,k − w_a,k'
    h_abs2 = _abs2(h)
    inv_d = reciprocal(jnp.where(near(h_abs2, 0.0), 1.0, d))  # near pairs (in both leads) never use it
    near_el, near_hole = near(h_abs2, rows(a_pts)), near(h_abs2, cols(a_pts))
    el_ll = jnp.where(near_el, -inv_c * digamma_dd_taylor(-h, [rows(x) for x in derivs_a]),
                      (cols(psi_b) - rows(psi_a)) * inv_d)
    hole_ll = jnp.where(near_hole, -inv_c * digamma_dd_taylor(h, [cols(x) for x in derivs_a]),
                        (cols(psi_a) - rows(psi_c)) * inv_d)
    # Opposite half-planes (a = z_k, b = ω + z_k'*): S = [ψ(w_a) − ψ(w_b) − iπ]/(a − b).
    inv_lu = reciprocal(z[:, None, None] - om - jnp.conj(z)[None, :, None])  # 1/(z_k − ω − z_k'*), (n, n, P)
    el_lu = (rows(psi_a) - cols(jnp.conj(psi_b))) * inv_lu
    hole_lu = (rows(psi_c) - cols(jnp.conj(psi_a))) * inv_lu
    el_ll, el_lu, hole_ll, hole_lu = (materialize(x) for x in (el_ll, el_lu, hole_ll, hole_lu))
    out = tuple(tuple((x[0], x[1]) for x in part) for part in ((el_ll, el_lu), (hole_ll, hole_lu)))  # per lead
    if not slopes:
        return out
    # The same-half-plane parts are −(1/c)·ψ[u, v] with c = 2πiT, (u, v) = (B_k', A_k) for el and
    # (C_k, A_k') for hole: their slopes in u and v (``_pair_integrals_jvp``), directly or, for
    # near pairs, from the Taylor series about v (x = u − v = ∓h).
    slope = dict(zip(("el_u", "el_v"), _divided_slopes(near_el, -h, [rows(x) for x in derivs_a], cols(tri_b), el_ll,
                                                      inv_c, -inv_d)))
    slope.update(zip(("hole_u", "hole_v"), _divided_slopes(near_hole, h, [cols(x) for x in derivs_a], rows(tri_c),
                                                           hole_ll, inv_c, inv_d)))
    # (Not stored by kernels of their own: under a batch of tangents, as in linear_response's
    # jax.jacfwd, XLA then recomputes them in every channel's kernel, and a vmapped Onsager matrix
    # takes 89 ms against 79 ms stored; but stored, the vmapped gradient is 1.07× slower.)
    return out, dict(slope, a_pts=a_pts, b_pts=b_pts, c_pts=c_pts, tri_b=tri_b, tri_c=tri_c, psi1=derivs_a[0],
                     inv_lu=inv_lu, inv_c=inv_c)


def _divided_slopes(close, x, derivatives_v, trigamma_u, part, inv_c, inv_cx):
    """(G_u, G_v), the slopes of a same-half-plane part = −ψ[u, v]/c in u and v, with x = u − v,
    inv_cx = 1/(c x) and ψ^(1..4)(v) ``derivatives_v``: G_u = −(ψ'(u) + c·part)/(c x),
    G_v = (c·part + ψ'(v))/(c x), or for ``close`` pairs −(1/c) times the Taylor series of
    ∂_uψ[u, v] and ∂_vψ[u, v] about v."""
    c = 1.0 / inv_c
    slope_u = jnp.where(close, -inv_c * _taylor_slope_u(x, derivatives_v), -(trigamma_u + part * c) * inv_cx)
    slope_v = jnp.where(close, -inv_c * _taylor_slope_v(x, derivatives_v), (part * c + derivatives_v[0]) * inv_cx)
    return slope_u, slope_v


def _taylor_slope_u(x, derivatives_v):
    """∂ψ[u, v]/∂u = (ψ'(u) − ψ[u, v])/(u − v) = Σ_(m=2..4) ψ^(m)(v) (m − 1) x^(m−2)/m!, x = u − v."""
    _, d2, d3, d4 = derivatives_v
    return d2 / 2 + x * (d3 / 3 + x * d4 / 8)


def _taylor_slope_v(x, derivatives_v):
    """∂ψ[u, v]/∂v = (ψ[u, v] − ψ'(v))/(u − v) = Σ_(m=2..4) ψ^(m)(v) x^(m−2)/m!, x = u − v."""
    _, d2, d3, d4 = derivatives_v
    return d2 / 2 + x * (d3 / 6 + x * d4 / 24)


@jax.custom_jvp
def _pair_integrals(z, omega, mu_L, mu_R, temperature, at_poles):
    return _pair_parts(z, omega, mu_L, mu_R, temperature, at_poles, slopes=False)


@functools.partial(_pair_integrals.defjvp, symbolic_zeros=True)
def _pair_integrals_jvp(primals, tangents):
    """Derivative of the pair integrals, written out so that its transpose (the backward pass)
    is a few products per pole pair instead of the derivative of every operation.

    With w = 1/2 + (μ − p)/c, c = 2πiT, a point moves by δw = (δμ − δp)/c − (w − 1/2) δT/T.
    Same half-plane, el = −ψ[u, v]/c (and hole likewise):
        δel = G_u δu + G_v δv − el δT/T,   G_u = −∂_u ψ[u, v]/c,  G_v = −∂_v ψ[u, v]/c;
    opposite half-planes, el = (ψ(A_k) − conj ψ(B_k'))/e with e = z_k − ω − z_k'*:
        δel = (ψ'(A_k) δA_k − conj(ψ'(B_k') δB_k'))/e − el δe/e   (hole likewise).
    The tangents of ``at_poles`` are not read: they are those of ψ^(m)(A) through z, μ and T
    (``pair_integrals`` is called only with at_poles = ``pole_polygammas`` of its arguments)."""
    z, omega, mu_L, mu_R, temperature, at_poles = primals
    dz, domega, dmu_L, dmu_R, dtemperature, _ = (None if isinstance(t, SymbolicZero) else t for t in tangents)
    if dz is None and domega is None and dmu_L is None and dmu_R is None and dtemperature is None:
        out = _pair_parts(z, omega, mu_L, mu_R, temperature, at_poles, slopes=False)
        return out, jax.tree.map(jnp.zeros_like, out)
    out, s = _pair_parts(z, omega, mu_L, mu_R, temperature, at_poles, slopes=True)
    (el_ll, el_lu), (hole_ll, hole_lu) = out  # per lead
    inv_c, inv_lu = s["inv_c"], s["inv_lu"]
    dom = None if domega is None else domega[None, :]
    dzc = None if dz is None else dz[:, None]
    tau = None if dtemperature is None else dtemperature / temperature
    d_e = None  # δe = δz_k − δω − conj(δz_k'), (n, n, P)
    if dz is not None or dom is not None:
        d_e = _plus(None if dz is None else dz[:, None, None] - jnp.conj(dz)[None, :, None],
                    None if dom is None else -dom[None])

    def moved(pts, dmu, dp):
        return _moved(pts, dmu, dp, tau, inv_c)

    # lead by lead (each output's tangent from its own slices: the backward pass then needs no
    # padding of one lead's cotangent into both)
    rows, cols = (lambda x: x[:, None, :]), (lambda x: x[None, :, :])
    d_el_lls, d_el_lus, d_hole_lls, d_hole_lus = [], [], [], []
    for lead, dmu in enumerate((dmu_L, dmu_R)):
        d_a = moved(s["a_pts"][lead], dmu, dzc)  # (n, 1)
        d_b = moved(s["b_pts"][lead], dmu, _plus(dom, dzc))  # (n, P)
        d_c = moved(s["c_pts"][lead], _plus(dmu, dom), dzc)
        d_el_ll = s["el_u"][lead] * cols(d_b) + s["el_v"][lead] * rows(d_a)
        d_hole_ll = s["hole_u"][lead] * rows(d_c) + s["hole_v"][lead] * cols(d_a)
        if tau is not None:
            d_el_ll, d_hole_ll = d_el_ll - el_ll[lead] * tau, d_hole_ll - hole_ll[lead] * tau
        psi1_d_a = s["psi1"][lead] * d_a
        d_el_lu = (rows(psi1_d_a) - cols(jnp.conj(s["tri_b"][lead] * d_b))) * inv_lu
        d_hole_lu = (rows(s["tri_c"][lead] * d_c) - cols(jnp.conj(psi1_d_a))) * inv_lu
        if d_e is not None:
            d_el_lu, d_hole_lu = d_el_lu - el_lu[lead] * inv_lu * d_e, d_hole_lu - hole_lu[lead] * inv_lu * d_e
        for tangents, x in zip((d_el_lls, d_el_lus, d_hole_lls, d_hole_lus), (d_el_ll, d_el_lu, d_hole_ll, d_hole_lu)):
            tangents.append(x)
    return out, ((tuple(d_el_lls), tuple(d_el_lus)), (tuple(d_hole_lls), tuple(d_hole_lus)))


def _moved(pts, dmu, dp, tau, inv_c):
    """δw = (δμ − δp)/c − (w − 1/2) δT/T for the points w = 1/2 + (μ − p)/c (inv_c = 1/c, tau = δT/T);
    zero tangents are None."""
    terms = [x * inv_c for x in (dmu, None if dp is None else -dp) if x is not None]
    if tau is not None:
        terms.append(-(pts - 0.5) * tau)
    if not terms:
        return jnp.zeros_like(pts)
    total = sum(terms[1:], terms[0])  # (δμ alone is one number per lead or term: as wide as the points)
    return jnp.broadcast_to(total, jnp.broadcast_shapes(jnp.shape(total), jnp.shape(pts)))


def _plus(x, y):
    """x + y, either of which may be None (a zero tangent)."""
    return y if x is None else (x if y is None else x + y)


def pair_terms(z, omega, mu_L, mu_R, temperature, at_poles, terms):
    """K^αβ[k, j'] = el[α] − hole[β] of ``pair_integrals`` for a few pole pairs only, shape (T, P):
    ``terms`` is a static tuple of T tuples (block, α, β, k, k'), block 0 for j' = k' (lower
    pole) and 1 for j' = k'* (upper), the block-0 terms first. The same formulas as
    ``pair_integrals``, with ψ on the nodes only at the (lead, pole) points these pairs use,
    and likewise a written-out derivative (``_pair_terms_jvp``).
    at_poles: ``pole_polygammas(z, mu_L, mu_R, temperature)`` (ψ^(1..4) at least at the points
    of the block-0 terms)."""
    real = [jnp.asarray(x, dtype=jnp.float64) for x in (omega, mu_L, mu_R, temperature)]
    return _pair_terms(z, *real, tuple(at_poles), tuple(tuple(int(i) for i in t) for t in terms))


def _pair_terms_parts(z, omega, mu_L, mu_R, temperature, at_poles, terms, slopes: bool):
    """``pair_terms`` and, with ``slopes``, what its derivative needs (``_pair_terms_jvp``)."""
    block, a, b, k, kp = (np.array(x) for x in zip(*terms))
    lower = int(np.sum(block == 0))
    om = omega[None, :]  # (1, P)
    inv_c = -0.5j / (jnp.pi * temperature)
    mu = jnp.stack([mu_L, mu_R])

    # ψ(w(μ_α, ω + z_k')) (electron side) and ψ(w(μ_β + ω, z_k)) (hole side), one call for the
    # distinct points; each term then takes its rows
    el_keys, hole_keys = sorted(set(zip(a, kp))), sorted(set(zip(b, k)))
    points = jnp.concatenate([_w(_rows(mu, [x for x, _ in el_keys])[:, None],
                                 om + _rows(z, [y for _, y in el_keys])[:, None], inv_c),
                              _w(_rows(mu, [x for x, _ in hole_keys])[:, None] + om,
                                 _rows(z, [y for _, y in hole_keys])[:, None], inv_c)])
    if slopes:
        psi, tri = (materialize_whole(x) for x in digamma_and_trigamma(points))
    else:
        psi = materialize_whole(digamma(points))
    el_rows = [el_keys.index(key) for key in zip(a, kp)]
    hole_rows = [len(el_keys) + hole_keys.index(key) for key in zip(b, k)]
    psi_b, psi_c = _rows(psi, el_rows), _rows(psi, hole_rows)  # (T, P)

    a_pts = _w(mu[:, None, None], z[None, :, None], inv_c)  # (lead, n, 1)
    psi_a_el, psi_a_hole = _at(at_poles[0], a, k), _at(at_poles[0], b, kp)
    z_k, z_kp = _rows(z, k)[:, None], _rows(z, kp)[:, None]
    out, slope = [], {}
    if lower:  # same half-plane: d = ω + z_k' − z_k, with the Taylor series for near pairs
        s = slice(0, lower)
        d = om + z_kp[s] - z_k[s]
        h = d * inv_c
        h_abs2 = _abs2(h)
        inv_d = reciprocal(jnp.where(near(h_abs2, 0.0), 1.0, d))
        near_el, near_hole = near(h_abs2, _at(a_pts, a[s], k[s])), near(h_abs2, _at(a_pts, b[s], kp[s]))
        derivs_el, derivs_hole = [_at(x, a[s], k[s]) for x in at_poles[1:]], [_at(x, b[s], kp[s]) for x in at_poles[1:]]
        el = jnp.where(near_el, -inv_c * digamma_dd_taylor(-h, derivs_el), (psi_b[s] - psi_a_el[s]) * inv_d)
        hole = jnp.where(near_hole, -inv_c * digamma_dd_taylor(h, derivs_hole), (psi_a_hole[s] - psi_c[s]) * inv_d)
        out.append(el - hole)
        if slopes:  # as in ``_pair_parts``: el = −ψ[B_t, A_ak]/c, hole = −ψ[C_t, A_bk']/c
            slope = dict(zip(("el_u", "el_v"), _divided_slopes(near_el, -h, derivs_el, _rows(tri, el_rows)[s], el,
                                                              inv_c, -inv_d)))
            slope.update(zip(("hole_u", "hole_v"), _divided_slopes(near_hole, h, derivs_hole,
                                                                   _rows(tri, hole_rows)[s], hole, inv_c, inv_d)))
    if lower < len(terms):  # opposite half-planes: 1/(z_k − ω − z_k'*)
        s = slice(lower, None)
        inv_lu = reciprocal(z_k[s] - om - jnp.conj(z_kp[s]))
        out.append((psi_a_el[s] - jnp.conj(psi_b[s]) - psi_c[s] + jnp.conj(psi_a_hole[s])) * inv_lu)  # el − hole
        slope["inv_lu"] = inv_lu
    value = materialize(jnp.concatenate(out))
    if not slopes:
        return value
    tri_a = polygammas(a_pts, 1)[1]  # ψ' at every (lead, pole) point (at_poles may hold only some)
    return value, dict(slope, points=points, tri=tri, el_rows=el_rows, hole_rows=hole_rows, a_pts=a_pts,
                       tri_a=tri_a, inv_c=inv_c)


@functools.partial(jax.custom_jvp, nondiff_argnums=(6,))
def _pair_terms(z, omega, mu_L, mu_R, temperature, at_poles, terms):
    return _pair_terms_parts(z, omega, mu_L, mu_R, temperature, at_poles, terms, slopes=False)


@functools.partial(_pair_terms.defjvp, symbolic_zeros=True)
def _pair_terms_jvp(terms, primals, tangents):
    """``_pair_integrals_jvp`` for the terms of ``pair_terms``: per term t = (block, α, β, k, k'),
    same half-plane δK = G_u^el δB_t + G_v^el δA_αk − G_u^hole δC_t − G_v^hole δA_βk' − K δT/T;
    opposite half-planes δK = [ψ'(A_αk) δA_αk − conj(ψ'(B_t) δB_t) − ψ'(C_t) δC_t
    + conj(ψ'(A_βk') δA_βk')]/e − K δe/e. The tangents of ``at_poles`` are not read."""
    z, omega, mu_L, mu_R, temperature, at_poles = primals
    dz, domega, dmu_L, dmu_R, dtemperature, _ = (None if isinstance(t, SymbolicZero) else t for t in tangents)
    if dz is None and domega is None and dmu_L is None and dmu_R is None and dtemperature is None:
        value = _pair_terms_parts(z, omega, mu_L, mu_R, temperature, at_poles, terms, slopes=False)
        return value, jnp.zeros_like(value)
    value, s = _pair_terms_parts(z, omega, mu_L, mu_R, temperature, at_poles, terms, slopes=True)
    block, a, b, k, kp = (np.array(x) for x in zip(*terms))
    lower = int(np.sum(block == 0))
    inv_c = s["inv_c"]
    tau = None if dtemperature is None else dtemperature / temperature
    dmu = None
    if dmu_L is not None or dmu_R is not None:
        dmu = jnp.stack([jnp.zeros_like(mu_L) if dmu_L is None else dmu_L,
                         jnp.zeros_like(mu_R) if dmu_R is None else dmu_R])

    def moved(pts, dmu_t, dp):
        return _moved(pts, dmu_t, dp, tau, inv_c)

    def per_term(x, index):  # (T, 1) rows of a per-lead or per-pole tangent, or None
        return None if x is None else _rows(x, index)[:, None]

    dom = None if domega is None else domega[None, :]
    d_a_el = moved(_at(s["a_pts"], a, k), per_term(dmu, a), per_term(dz, k))  # δA_αk, (T, 1)
    d_a_hole = moved(_at(s["a_pts"], b, kp), per_term(dmu, b), per_term(dz, kp))  # δA_βk'
    d_b = moved(_rows(s["points"], s["el_rows"]), per_term(dmu, a), _plus(dom, per_term(dz, kp)))  # (T, P)
    d_c = moved(_rows(s["points"], s["hole_rows"]), _plus(per_term(dmu, b), dom), per_term(dz, k))
    out = []
    if lower:
        t = slice(0, lower)
        d_k = (s["el_u"] * d_b[t] + s["el_v"] * d_a_el[t]) - (s["hole_u"] * d_c[t] + s["hole_v"] * d_a_hole[t])
        if tau is not None:
            d_k = d_k - value[t] * tau
        out.append(jnp.broadcast_to(d_k, value[t].shape))
    if lower < len(terms):
        t = slice(lower, None)
        tri_b, tri_c = _rows(s["tri"], s["el_rows"])[t], _rows(s["tri"], s["hole_rows"])[t]
        inv_lu = s["inv_lu"]
        d_k = (_at(s["tri_a"], a[t], k[t]) * d_a_el[t] - jnp.conj(tri_b * d_b[t]) - tri_c * d_c[t]
               + jnp.conj(_at(s["tri_a"], b[t], kp[t]) * d_a_hole[t])) * inv_lu
        if dz is not None or dom is not None:  # δe = δz_k − δω − conj(δz_k')
            d_e = _plus(None if dz is None else per_term(dz, k[t]) - jnp.conj(per_term(dz, kp[t])),
                        None if dom is None else -dom)
            d_k = d_k - value[t] * inv_lu * d_e
        out.append(jnp.broadcast_to(d_k, value[t].shape))
    return value, jnp.concatenate(out)


def _at(x, lead, pole):
    """ω-independent (lead, n, 1) values at each term's (lead, pole): (T, 1)."""
    return jnp.stack([x[i, j] for i, j in zip(lead, pole)])


def _rows(x, index):
    """x[index] for a static list of indices, as slices (XLA's CPU gather is slow)."""
    return jnp.stack([x[int(i)] for i in index])


def ehp_half_from_poles(weights, z, omega, baths: Baths):
    """X^αβ_mn(ω) with Λ^αβ = −(X + X†)/2π: the contraction of the lower-pole blocks,
    X = Σ_kj' W[k, j'] K[k, j'], for 1-D ``omega``: shape (4, N_b, N_b, P)."""
    n, nb = z.shape[0], weights.shape[1]
    el, hole = pair_integrals(z, omega, baths.mu_L, baths.mu_R, baths.T_e)
    half = []
    for w, (a, b) in zip(weights, _PAIRS):
        x = 0.0
        for block, (el_block, hole_block) in enumerate(zip(el, hole)):
            wb = w[..., block * n:(block + 1) * n].reshape(nb * nb, n * n)
            x = x + wb @ el_block[a].reshape(n * n, -1) - wb @ hole_block[b].reshape(n * n, -1)
        half.append(x)
    return materialize(jnp.stack(half).reshape(4, nb, nb, -1))


def ehp_dos_from_poles(weights, z, omega, baths: Baths):
    """Λ for all four channels: (4, *omega.shape, N_b, N_b), Hermitian in (m, n)."""
    omega = jnp.asarray(omega, dtype=jnp.float64)
    half = ehp_half_from_poles(weights, z, omega.ravel(), baths)
    lam = -(half + jnp.conj(jnp.swapaxes(half, 1, 2))) / (2 * jnp.pi)
    return jnp.moveaxis(lam, -1, 1).reshape((4,) + omega.shape + lam.shape[1:3])


@compiled
def ehp_dos(junction: Junction, baths: Baths, omega):
    """Coupling-weighted EHP density of states Λ^αβ_mn(ω) (paper Eq. 7, docs/physics.md §4).

    Returns a complex array of shape (4, *omega.shape, N_b, N_b), channels in the
    order ("LL", "RR", "RL", "LR") (electron in α, hole in β). Exact in the energy
    integral (no grid); finite for every real ω, including ω = 0 and ω = μ_αβ.
    """
    omega = real_axis(omega)
    poles = pole_expansion(junction)
    return ehp_dos_from_poles(channel_weights(junction, poles), poles.z, omega, baths)


def _bose_weighted(junction: Junction, baths: Baths, omega, shift: float):
    """((n_B(ω − μ_αβ; T_e) + shift) · Λ^αβ(ω), Λ^αβ(ω)), the first smooth through ω = μ_αβ;
    each (4, *omega.shape, N_b, N_b).

    Λ vanishes linearly where n_B diverges; within δ = 1e-4 T_e of that point the
    product is interpolated linearly between ω = μ_αβ ± δ (error O(δ²) ≈ 1e-8 relative).
    """
    omega = real_axis(omega)
    poles = pole_expansion(junction)
    mu = baths.mu_channels.reshape((4,) + (1,) * omega.ndim)
    T = baths.T_e
    delta = 1e-4 * T
    x = omega[None] - mu  # (4, *omega.shape)
    near = jnp.abs(x) < delta
    nodes = jnp.stack([omega[None] + 0 * mu, mu - delta + 0 * omega, mu + delta + 0 * omega])  # (3, 4, ...)
    lam = ehp_dos_from_poles(channel_weights(junction, poles), poles.z, nodes, baths)  # (4, 3, 4, ..., Nb, Nb)
    lam = jnp.stack([lam[ch, :, ch] for ch in range(4)], axis=1)  # (3, 4, ..., Nb, Nb)
    x_safe = jnp.where(near, delta, x)
    direct = (bose(x_safe, T) + shift)[..., None, None] * lam[0]
    g_minus = (bose(-delta, T) + shift) * lam[1]
    g_plus = (bose(delta, T) + shift) * lam[2]
    t = ((x + delta) / (2 * delta))[..., None, None]
    interp = g_minus + t * (g_plus - g_minus)
    return jnp.where(near[..., None, None], interp, direct), lam[0]


@compiled
def power_spectrum(junction: Junction, baths: Baths, omega):
    """Π̃^αβ(ω) = [n_B(ω − μ_αβ; T_e) + 1/2] Λ^αβ(ω) (paper Eq. 6), (4, *omega.shape, N_b, N_b)."""
    return _bose_weighted(junction, baths, omega, 0.5)[0]


@compiled
def golden_rule_rates(junction: Junction, baths: Baths, omega):
    """Fermi-golden-rule rates of paper Eq. 5 per channel, as coupling matrices:

    emission   = ∫ dε/2π tr[M A_α(ε) M A_β(ε−ω)] f_α(ε)(1 − f_β(ε−ω)) = n_B(ω − μ_αβ) Λ,
    absorption = ∫ dε/2π tr[M A_α(ε) M A_β(ε−ω)] f_β(ε−ω)(1 − f_α(ε)) = (1 + n_B(ω − μ_αβ)) Λ,

    so emission/absorption = exp(−(ω − μ_αβ)/T_e) (detailed balance, Eq. 4).
    Returns (emission, absorption), each (4, *omega.shape, N_b, N_b).
    """
    emission, lam = _bose_weighted(junction, baths, omega, 0.0)
    return emission, emission + lam
