"""Special functions: stable Fermi/Bose factors and the divided digamma difference.

Everything here is elementwise, branch-free where it matters for autodiff, and
finite for any sign and size of its arguments.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

# Bernoulli numbers B_2 ... B_14 for the asymptotic series of the digamma function.
_BERNOULLI = (1.0 / 6.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 5.0 / 66.0, -691.0 / 2730.0, 7.0 / 6.0)
_SHIFT = 8  # recurrence steps before the asymptotic series (|argument| >= 8.5 there)


def fermi(energy, mu, temperature):
    """Fermi function f(ε; μ, T) = 1/(exp((ε−μ)/T) + 1), overflow-free (docs/physics.md §1)."""
    return jax.nn.sigmoid((mu - energy) / temperature)


def bose(omega, temperature):
    """Bose function n_B(ω; T) = 1/(exp(ω/T) − 1) (docs/physics.md §1); diverges at ω = 0.

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
    scale = 1.0 / _abs2(x)  # one real division (a complex one costs three, with branches)
    return jax.lax.complex(jnp.real(x) * scale, -jnp.imag(x) * scale)


# Cephes' arctan: rational approximation on |r| ≤ 0.66 after range reduction (≤ 2.3e-16).
_ATAN_P = (-8.750608600031904122785e-1, -1.615753718733365076637e1, -7.500855792314704667340e1,
           -1.228866684490136173410e2, -6.485021904942025371773e1)
_ATAN_Q = (2.485846490142306297962e1, 1.650270098316988542046e2, 4.328810604912902668951e2,
           4.853903996359136964868e2, 1.945506571482613964425e2)
_TAN_3PI_8 = 2.41421356237309504880
_PI_2_LOW = 6.123233995736765886130e-17  # π/2 − float(π/2)


def arctan2_right(y, x):
    """atan2(y, x) for x > 0 by arithmetic alone: XLA CPU calls a scalar libm atan2,
    about 5× slower than this vectorised form. Relative error ≤ 2.3e-16."""
    a = jnp.abs(y)
    big = a > _TAN_3PI_8 * x  # |angle| > 3π/8: π/2 − atan(x/a)
    mid = ~big & (a > 0.66 * x)  # π/4 + atan((a − x)/(a + x))
    r = jnp.where(big, -x, jnp.where(mid, a - x, a)) / jnp.where(big, a, jnp.where(mid, a + x, x))
    base = jnp.where(big, 0.5 * jnp.pi + _PI_2_LOW, jnp.where(mid, 0.25 * jnp.pi + 0.5 * _PI_2_LOW, 0.0))
    angle = base + _odd_rational(r, _ATAN_P, _ATAN_Q)
    return jnp.where(y < 0, -angle, angle)


def _odd_rational(x, numerator, denominator):
    """x + x³ P(x²)/Q(x²), Cephes' form of arctan and tan: P's coefficients from the highest
    power, Q monic (its leading 1 left out)."""
    x2 = x * x
    p = numerator[0]
    for coeff in numerator[1:]:
        p = p * x2 + coeff
    q = x2 + denominator[0]
    for coeff in denominator[1:]:
        q = q * x2 + coeff
    return x + x * x2 * p / q


# Cephes' tan: x + x³P(x²)/Q(x²) on |x| ≤ π/4, and −1/tan(x ∓ π/2) beyond.
_TAN_P = (-1.30936939181383777646e4, 1.15351664838587416140e6, -1.79565251976484877988e7)
_TAN_Q = (1.36812963470692954678e4, -1.32089234440210967447e6, 2.50083801823357915839e7, -5.38695755929454629881e7)


def tan_inside(x):
    """tan x for |x| < π/2 by arithmetic alone (XLA CPU's tan is ~5× slower).
    Relative error ≤ 4e-16 (NumPy's: 2.2e-16)."""
    big = jnp.abs(x) > 0.25 * jnp.pi
    sign = jnp.sign(x)
    y = jnp.where(big, (x - sign * (0.5 * jnp.pi)) - sign * _PI_2_LOW, x)  # x ∓ π/2 in two parts (exact near ±π/2)
    t = _odd_rational(y, _TAN_P, _TAN_Q)
    return jnp.where(big, -1.0 / t, t)


# fdlibm's log: log(1 + f) = f − f²/2 + s(f²/2 + R(s²)), s = f/(2 + f), for 1 + f ∈ [√2/2, √2).
_LOG_R = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01,
          1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01)
_LN2_HIGH, _LN2_LOW = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_SQRT_HALF_BITS = 0x3FE6A09E00000000  # (the high word of √2/2)


@jax.custom_jvp
def log_normal(x):
    """log x for positive normal float64 x by arithmetic on its bits (XLA CPU's log is ~1.8× slower).
    Relative error ≤ 2.3e-16."""
    bits = jax.lax.bitcast_convert_type(x, jnp.int64) + (0x3FF0000000000000 - _SQRT_HALF_BITS)
    k = ((bits >> 52) - 1023).astype(jnp.float64)  # x = 2^k (1 + f), 1 + f ∈ [√2/2, √2)
    f = jax.lax.bitcast_convert_type((bits & 0x000FFFFFFFFFFFFF) + _SQRT_HALF_BITS, jnp.float64) - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LOG_R[0] + w * (_LOG_R[2] + w * (_LOG_R[4] + w * _LOG_R[6]))) + w * (
        _LOG_R[1] + w * (_LOG_R[3] + w * _LOG_R[5]))
    half_f2 = 0.5 * f * f
    return k * _LN2_HIGH - ((half_f2 - (s * (half_f2 + r) + k * _LN2_LOW)) - f)


log_normal.defjvp(lambda primals, tangents: (log_normal(primals[0]), tangents[0] / primals[0]))


def _log_right(z):
    """Complex logarithm for Re z > 0 and |z| ≥ 1 (vectorised; see ``arctan2_right``)."""
    return jax.lax.complex(0.5 * log_normal(_abs2(z)), arctan2_right(jnp.imag(z), jnp.real(z)))


def _inverse_power_sum(z, power):
    """Σ_{k<N} (z + k)^−power as one fraction p/q (one division instead of N), accumulated
    as p/q + (z+k)^−s = (p (z+k)^s + q)/(q (z+k)^s). For power ≤ 2, |q| ≲ |z + N|^16 stays
    far from overflow; for Re z > 0 no cancellation beyond that of the sum itself."""
    p, q = jnp.ones_like(z), z**power
    for k in range(1, _SHIFT):
        zk = (z + k) ** power
        p, q = p * zk + q, q * zk
    return p * reciprocal(q)


def _asymptotic(z, order):
    """[ψ, ψ', …, ψ^(order)] (order ≤ 5) at x = z + N (|x| ≥ 8.5) from the asymptotic series in t = 1/x,
    ψ(x) ≈ ln x − t/2 − Σ_j B_2j/(2j) t^2j, differentiated term by term."""
    x = z + _SHIFT
    t = reciprocal(x)
    t2 = t * t
    head = [_log_right(x) - 0.5 * t, t + 0.5 * t2, -t2 - t2 * t, 2 * t2 * t + 3 * t2 * t2,
            -6 * t2 * t2 - 12 * t2 * t2 * t, 24 * t2 * t2 * t + 60 * t2 * t2 * t2]
    out = head[: order + 1]
    tk = t2
    for j, b2j in enumerate(_BERNOULLI, start=1):
        term = -b2j / (2 * j) * tk  # d/dx of c·t^p is −p·c·t^(p+1)
        for m in range(order + 1):
            out[m] = out[m] + term
            term = -(2 * j + m) * term * t
        tk = tk * t2
    return out


@jax.custom_jvp
def materialize(x):
    """x unchanged, but computed into memory by one XLA kernel of its own.

    XLA CPU does not fuse an expensive elementwise chain (divisions, logarithms) into a
    consumer that reads each element several times (a broadcast, as in the pole-pair
    arithmetic); it splits the chain at every expensive op and repeats the cheap rest per
    read, which made the pair integrals 3× slower. A division at the root keeps the chain
    in one kernel. x/(1 + 0·Re x) is exact, and XLA cannot fold it (0·y ≠ 0 for y = ±inf, NaN).
    A complex x is divided part by part: XLA's complex division costs three real divisions
    and branches (one J at n = 32: 12 % faster). The derivative keeps the complex division,
    which ran 8 % faster in the vmapped gradient.
    """
    one = _one_like(x)
    if jnp.iscomplexobj(x):
        return jax.lax.complex(jnp.real(x) / one, jnp.imag(x) / one)
    return x / one


def _one_like(x):
    return 1.0 + 0.0 * jnp.real(x)


@materialize.defjvp
def _materialize_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    one = _one_like(x)
    return x / one, dx / one  # linear in dx; its transpose is materialised likewise


@jax.custom_jvp
def materialize_whole(x):
    """A complex x unchanged, computed into memory by one XLA kernel that writes both parts: a
    complex division by 1 (exact, XLA dividing by a real divisor part by part). For an expensive
    x such as ψ on the nodes: ``materialize`` divides the parts apart, and XLA CPU then builds
    one kernel per part, each evaluating the whole chain (ψ twice). Here the Fig-3 sweep ran
    1.05–1.09× faster, random two-level junctions 1.05× (the same values bit for bit); for the
    cheaper pair integrals themselves, dividing the parts apart stays faster."""
    return x / _complex_one_like(x)


def _complex_one_like(x):
    one = _one_like(x)
    return jax.lax.complex(one, 0.0 * one)


@materialize_whole.defjvp
def _materialize_whole_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    one = _complex_one_like(x)
    return x / one, dx / one


def _complex(z):
    return jnp.asarray(z, dtype=jnp.result_type(z, 1j))


@jax.custom_jvp
def digamma(z):
    """Complex digamma ψ(z) for Re z > 0, relative error ≲ 1e-14: the recurrence
    ψ(z) = ψ(z + 8) − Σ_{k<8} 1/(z + k), then the asymptotic series.
    Differentiated analytically (dψ = ψ'(z) dz)."""
    z = _complex(z)
    return _asymptotic(z, 0)[0] - _inverse_power_sum(z, 1)


@digamma.defjvp
def _digamma_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    psi, tri = digamma_and_trigamma(z)
    return psi, materialize(tri) * _complex(dz)


def digamma_and_trigamma(z):
    """(ψ(z), ψ'(z)) for Re z > 0 as ``digamma``, sharing the asymptotic series' 1/(z + 8)."""
    z = _complex(z)
    psi, tri = _asymptotic(z, 1)
    return psi - _inverse_power_sum(z, 1), tri + _inverse_power_sum(z, 2)


def polygammas(z, order: int = 4):
    """[ψ, ψ', …, ψ^(order)](z) for Re z > 0 and order ≤ 4, the recurrence summed term by
    term: meant for the few frequency-independent points. Differentiated analytically
    (dψ^(m) = ψ^(m+1) dz), which keeps the derivative's program small."""
    return list(_polygammas(_complex(z), order))


def _polygamma_series(z, order: int):
    out = _asymptotic(z, order)
    for k in range(_SHIFT):
        r = reciprocal(z + k)
        term = -r  # ψ^(m)(z) = ψ^(m)(z + N) + (−1)^(m+1) m! Σ_k (z + k)^−(m+1)
        for m in range(order + 1):
            out[m] = out[m] + term
            term = -(m + 1) * term * r
    return out


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _polygammas(z, order):
    return tuple(_polygamma_series(z, order))


@_polygammas.defjvp
def _polygammas_jvp(order, primals, tangents):
    (z,), (dz,) = primals, tangents
    out = _polygamma_series(z, order + 1)
    return tuple(out[:-1]), tuple(d * dz for d in out[1:])


# Below the relative separation τ the quotient [ψ(u) − ψ(v)]/(u − v) loses ≈ 1e-14 |ψ|/τ
# ≲ 1e-10, and the Taylor series about v through ψ'''' is off by ≈ (2τ)^4 ≲ 2e-11 (|v| ≥ 1/2).
_DD_SWITCH = 1e-3


def near(h_abs2, v):
    """Whether ψ(v + h) − ψ(v) is better divided by h through the Taylor series
    (``digamma_dd_taylor``) than directly: |h| ≤ τ·(1/4 + |v|²)^(1/2), from |h|²."""
    return h_abs2 <= _DD_SWITCH**2 * (0.25 + _abs2(v))


def digamma_dd_taylor(h, derivatives_v):
    """[ψ(v + h) − ψ(v)]/h = Σ_(m=1..4) ψ^(m)(v) h^(m−1)/m! from ψ^(1..4)(v), for ``near`` pairs."""
    d1, d2, d3, d4 = derivatives_v
    return d1 + h * (d2 / 2 + h * (d3 / 6 + h * d4 / 24))
