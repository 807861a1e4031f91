"""Special functions: stable Fermi/Bose factors and the divided digamma difference.

Everything here is elementwise, branch-free where it matters for autodiff, and
finite for any sign and size of its arguments.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

# Bernoulli numbers B_2 ... B_14 for the asymptotic series of the digamma function.
_BERNOULLI = (1.0 / 6.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 5.0 / 66.0, -691.0 / 2730.0, 7.0 / 6.0)
_SHIFT = 8  # recurrence steps before the asymptotic series (|argument| >= 8.5 there)


def fermi(energy, mu, temperature):
    """Fermi function f(ε; μ, T) = 1/(exp((ε−μ)/T) + 1), overflow-free (SPEC 1)."""
    return jax.nn.sigmoid((mu - energy) / temperature)


def bose(omega, temperature):
    """Bose function n_B(ω; T) = 1/(exp(ω/T) − 1) (SPEC 1); diverges at ω = 0.

    Written as e^(−|y|)/(1 − e^(−|y|)) (and −1 − that for y < 0) so that value and
    gradient stay finite for any |ω|/T, however large.
    """
    y = omega / temperature
    decay = jnp.exp(-jnp.abs(y))
    positive = decay / -jnp.expm1(-jnp.abs(y))
    return jnp.where(y > 0, positive, -1.0 - positive)


def x_bose(x):
    """x·n_B(x; T=1) = x/(exp(x) − 1), smooth through x = 0 (value 1 there) and finite,
    with finite gradients, for any x."""
    small = jnp.abs(x) < 1e-8
    x_safe = jnp.where(small, 1.0, x)
    positive = x_safe > 0
    x_neg = jnp.where(positive, -1.0, x_safe)
    x_pos = jnp.where(positive, x_safe, 1.0)
    value = jnp.where(positive, x_pos * jnp.exp(-x_pos) / -jnp.expm1(-x_pos), x_neg / jnp.expm1(x_neg))
    return jnp.where(small, 1.0 - 0.5 * x, value)


def _log1p_ratio(r):
    """log(1 + r)/r for complex r with Re(1 + r) > 0, accurate near r = 0."""
    small = jnp.abs(r) < 0.05
    r_safe = jnp.where(small, 1.0, r)
    direct = jnp.log1p(r_safe) / r_safe
    # Taylor series: sum_k (−r)^k/(k+1), 14 terms give < 1e-18 for |r| < 0.05.
    series = jnp.zeros_like(r)
    for k in range(13, -1, -1):
        series = 1.0 / (k + 1) - r * series
    return jnp.where(small, series, direct)


def _power_dd(t, s, k):
    """(U^−k − V^−k)/(U − V) written in t = 1/U, s = 1/V, without cancellation."""
    acc = jnp.zeros_like(t)
    for i in range(k):
        acc = acc + t**i * s ** (k - 1 - i)
    return -t * s * acc


def digamma_dd(u, v):
    """Divided difference [ψ(u) − ψ(v)]/(u − v) = Σ_{k≥0} 1/((u+k)(v+k)).

    Valid for Re u, Re v > 0 (the half-plane where every caller lives), exact
    also at u = v (then it is the trigamma function ψ'(u)). The first
    ``_SHIFT`` terms of the series are summed directly; the rest is the divided
    difference of the asymptotic expansion
    ψ(x) ≈ ln x − 1/(2x) − Σ_j B_2j/(2j x^2j), evaluated without cancellation.
    """
    head = jnp.zeros(jnp.broadcast_shapes(jnp.shape(u), jnp.shape(v)), dtype=jnp.result_type(u, v, 1j))
    for k in range(_SHIFT):
        head = head + 1.0 / ((u + k) * (v + k))
    big_u = u + _SHIFT
    big_v = v + _SHIFT
    t = 1.0 / big_u
    s = 1.0 / big_v
    # [ln U − ln V]/(U − V) = log1p(r)/r / V with r = (U − V)/V.
    tail = _log1p_ratio((big_u - big_v) * s) * s
    tail = tail - 0.5 * _power_dd(t, s, 1)
    for j, b2j in enumerate(_BERNOULLI, start=1):
        tail = tail - b2j / (2 * j) * _power_dd(t, s, 2 * j)
    return head + tail


def _abs2(x):
    return jnp.real(x) ** 2 + jnp.imag(x) ** 2


def reciprocal(x):
    """1/x for complex x as conj(x)/|x|² (cheaper than XLA's guarded complex division)."""
    return jnp.conj(x) / _abs2(x)


def _polygammas(z, derivative: bool):
    """ψ(z), ψ'(z) and, if ``derivative``, ψ''(z) for Re z > 0.

    Recurrence ψ(z) = ψ(z + N) − Σ_{k<N} 1/(z + k), then the asymptotic series
    ψ(x) ≈ ln x − 1/(2x) − Σ_j B_2j/(2j x^2j) and its derivatives (|x| ≥ 8.5).
    """
    z = jnp.asarray(z, dtype=jnp.result_type(z, 1j))
    psi = jnp.zeros_like(z)
    tri = jnp.zeros_like(z)
    tetra = jnp.zeros_like(z)
    for k in range(_SHIFT):
        r = reciprocal(z + k)
        r2 = r * r
        psi = psi - r
        tri = tri + r2
        if derivative:
            tetra = tetra - 2.0 * r2 * r
    t = reciprocal(z + _SHIFT)
    t2 = t * t
    psi_series = jnp.zeros_like(z)
    tri_series = jnp.zeros_like(z)
    tetra_series = jnp.zeros_like(z)
    tk = t2
    for j, b2j in enumerate(_BERNOULLI, start=1):
        psi_series = psi_series + b2j / (2 * j) * tk
        tri_series = tri_series + b2j * tk * t
        if derivative:
            tetra_series = tetra_series + (2 * j + 1) * b2j * tk * t2
        tk = tk * t2
    psi = psi - jnp.log(t) - 0.5 * t - psi_series
    tri = tri + t + 0.5 * t2 + tri_series
    tetra = tetra - t2 - t2 * t - tetra_series
    return psi, tri, tetra


@jax.custom_jvp
def digamma_trigamma(z):
    """Complex digamma ψ(z) and trigamma ψ'(z) for Re z > 0.

    Differentiated analytically (dψ = ψ' dz, dψ' = ψ'' dz) rather than through the
    recurrence and series term by term: gradients cost about a third less to run and
    to compile.
    """
    return _polygammas(z, derivative=False)[:2]


@digamma_trigamma.defjvp
def _digamma_trigamma_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    psi, tri, tetra = _polygammas(z, derivative=True)
    dz = jnp.asarray(dz, dtype=psi.dtype)
    return (psi, tri), (tri * dz, tetra * dz)


def digamma(z):
    """Complex digamma ψ(z) for Re z > 0."""
    return digamma_trigamma(z)[0]


# Below this relative separation the quotient [ψ(u) − ψ(v)]/(u − v) loses more
# digits (≈ 8ε/τ) than the trapezoid (ψ'(u) + ψ'(v))/2 is off (≈ τ²/6): ~1e-10 either way.
_DD_SWITCH = 2e-5


def digamma_dd_from_values(u, v, psi_u, psi_v, tri_u, tri_v):
    """[ψ(u) − ψ(v)]/(u − v) from precomputed ψ and ψ' at u and v (relative error ≲ 1e-10).

    The cheap path used on quadrature nodes: O(1) per pair once ψ, ψ' are known per
    point. Close points (including u = v) use (ψ'(u) + ψ'(v))/2.
    """
    diff = u - v
    close = _abs2(diff) <= _DD_SWITCH**2 * (1.0 + _abs2(u))
    diff_safe = jnp.where(close, 1.0, diff)
    return jnp.where(close, 0.5 * (tri_u + tri_v), (psi_u - psi_v) * reciprocal(diff_safe))
