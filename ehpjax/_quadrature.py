"""The frequency integral ∫_0^∞ dω of the currents (docs/physics.md §5): mapped Gauss–Kronrod.

The energy integral inside Λ is done exactly (``_ehp.py``); only the ω integral needs
nodes. The integrand is analytic near the real axis but multi-scale: peaks at the
modes' resonances (poles of D^r) and at the electronic ones ω = Re(z_k − z_p), steps
where a Fermi edge crosses a level, ω = |μ_l − Re z_k| (width ~ |Im z_k| + πT_e),
thermal structure of width ~T near 0 and near |V|, and exponential tails. All of these are
known before the integral is done, so the nodes are placed by a change of variables
ω = φ(t), t ∈ [0, 1], whose density 1/φ'(t) ∝ ρ(ω) is a mixture of one truncated
Cauchy density per resonance (centre c, half-width w), exponential densities from 0
and logistic ones centred on |V| for the thermal scales, log-uniform ones from 0 for a narrow
level's structure there (flat below a core c, the same share of nodes per decade above it),
and a uniform background;
every component is smooth inside (0, ω_max), so that the mapped integrand stays analytic. The t-interval is cut into equal panels,
each with a 7/15-point Gauss–Kronrod pair; a narrow peak receives its share of
nodes however narrow it is. φ takes Householder steps (third order) on the mixture's CDF from a
cubic Hermite interpolant of its inverse inside brackets from the components' quantiles (one step
where the start is close, as in the paper's model), and the weights carry φ'(t), the steps' own
derivative: the rule is exact Gauss–Kronrod for the map it uses, however close φ comes to the
inverse CDF. The map carries no gradient: the integral does not depend on it.

Error estimate: ``kronrod_error`` (QUADPACK's per-panel heuristic, calibrated; docs/physics.md §5).
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._errors import EhpjaxError
from ._special import arctan2_right, log_normal, materialize, tan_inside

# QUADPACK's 15-point Kronrod nodes on [−1, 1] (positive half, last is 0) and weights,
# and the weights of the embedded 7-point Gauss rule (on xgk[1::2]).
_XGK = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0,
])
_WGK = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
])
_WG = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                0.381830050505118944950369775488975, 0.417959183673469387755102040816327])


def _full_rule():
    nodes = np.concatenate([-_XGK[:-1], _XGK[::-1]])
    kronrod = np.concatenate([_WGK[:-1], _WGK[::-1]])
    gauss_half = np.zeros(8)
    gauss_half[1::2] = _WG
    gauss = np.concatenate([gauss_half[:-1], gauss_half[::-1]])
    return nodes, kronrod, gauss


_NODES, _W_KRONROD, _W_GAUSS = _full_rule()
_OFFSETS = (1.0 + _NODES) / 2  # where a panel's nodes lie in it, ascending, in (0, 1)
# Quantile-row points per component for bracketing the inverse CDF (5: the 96 rows of the paper's
# model cost the CDF at 60 points; with 8, the Fig-3 sweep was 1.05–1.08× slower).
_QUANTILES = 5
# Householder steps of the map (``_stepped_map``) until the residual |CDF(ω) − t| a step leaves is
# bounded by _MAP_TOL at every node (``_residual_left``, trusted from |r| ≤ _STEP_FROM), at most _STEPS.
# A step leaves ~K r⁴: from the Hermite start, one step met every level of the Fig-3 sweep to 7.7e-13
# and of 505 random two-level junctions to 1.5e-14 (4 panels), and these still take one step. The
# weights are exact for the map used, but a node left behind its neighbours makes the map unsmooth
# (docs/physics.md §5): stopped once a step had started from max |r| ≤ 1e-3, one node of a narrow
# mode's panel kept 1.1e-7 (the others 1e-16) and the 40-panel rule there missed J by 9× the
# tolerance, unflagged. On 600 random mixtures of up to 8 resonances with half-widths and
# temperatures down to 1e-3 (7, 10 and 40 panels) the residuals are now at most 4e-12. A step out of
# a node's bracket goes to the bracket's middle (bisection), so the steps converge from any start:
# the small parts of the default rule's splits (``_adaptive``) put whole panels inside one bracket,
# where the steps once stopped after 7 with nodes clipped to its edge (weight 0); up to _STEPS then.
# The bound is the step's leading error term, from the density's derivatives at the node: trusted
# only for a step within _REACH of the distance to the density's nearest complex singularity
# (``_residual_left``). Trusted for any small r, it once stopped the steps after one, every node of
# a small part ~1e-3 off its level (a cold bath's exponential, negligible under a flat density at
# the start and dominant where the step went): the parts of one range then disagreed by 12 % with
# estimates of 1e-16, and a split point's I was off by 144× the tolerance, unflagged. The Fig-3 sweep
# and 505 random two-level junctions still take one step (their values unchanged to the last bit).
# Where the steps stop at _STEPS with a node off its level, or a panel is left without weight (``nodes``),
# the rule's estimate is infinite.
_STEPS = 40
_STEP_FROM = 1e-3
_MAP_TOL = 1e-11
_REACH = 0.1
_ERROR_FACTOR = 30.0  # c of ``kronrod_error`` (QUADPACK uses 200)
# (the exponent p of ``kronrod_error`` is 7/4: QUADPACK uses 1.5)
_MIN_CUTOFF = 30.0  # e^(−30) ≈ 1e-13: the neglected tail stays far below any tolerance
# The part (t₀, t₁) of a rule's range that is all of it (typed as the parts of ``_adaptive``, so that
# a rule traced on the whole range and on a part shares one trace).
WHOLE = (np.float64(0.0), np.float64(1.0))


class FrequencyQuadrature(eqx.Module):
    """Settings of the ω integral (immutable; pass ``quadrature=`` to ``currents``).

    panels: number of equal panels in the mapped variable (15 nodes each).
    cutoff: ω_max = |V| + cutoff · max(T_e, T_ph) (the integrand decays as e^(−ω/T) beyond |V|;
        at least 30, so that the neglected tail stays below ~e^(−30) of the integrand).
    thermal_spread: the exponential densities have scales thermal_spread · T (T_e and T_ph).
    max_resonances: at most this many resonances shape the nodes (the sharpest inside
        the window; a junction of n levels has n(n − 1) electronic ones).
    rtol: warn when an estimated error exceeds rtol · max(|J|, 1e-4) (or the same for I; docs/physics.md §8).
    warn: whether to warn at all (the estimates are always in the result).
    block: nodes evaluated together (``None``: all at once). Blocks keep the per-node
        arrays in cache under a vmap of hundreds of points (1.6× faster there) and are
        recomputed in the backward pass; for one point or a few dozen, ``None`` is faster.
        On a junction known where ``currents`` is traced (its few nonzero pole pairs make
        small per-node arrays), only the derivatives are taken in blocks.
    """

    panels: int = eqx.field(static=True, default=10)
    cutoff: float = eqx.field(static=True, default=45.0)
    thermal_spread: float = eqx.field(static=True, default=3.0)
    max_resonances: int = eqx.field(static=True, default=24)
    rtol: float = eqx.field(static=True, default=1e-6)
    warn: bool = eqx.field(static=True, default=True)
    block: int | None = eqx.field(static=True, default=30)

    def __check_init__(self):
        def integer(name, value, low):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise EhpjaxError(f"FrequencyQuadrature.{name} must be an integer >= {low}, got {value!r}")

        def real(name, value, low, high=np.inf):
            ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            if not (ok and np.isfinite(value) and low <= value <= high):
                raise EhpjaxError(f"FrequencyQuadrature.{name} must be a finite number in [{low:g}, {high:g}], "
                                  f"got {value!r}")

        integer("panels", self.panels, 1)
        # The rule ignores ω > |V| + cutoff·T, where the integrand is below ~e^(−cutoff) of its scale.
        real("cutoff", self.cutoff, _MIN_CUTOFF, 1e3)
        real("thermal_spread", self.thermal_spread, 0.1, 100.0)
        integer("max_resonances", self.max_resonances, 1)
        real("rtol", self.rtol, 1e-15, 1.0)
        if not isinstance(self.warn, (bool, np.bool_)):
            raise EhpjaxError(f"FrequencyQuadrature.warn must be True or False, got {self.warn!r}")
        if self.block is not None:
            integer("block", self.block, 1)

    def _mixture(self, features, V_abs, T_e, T_ph):
        """CDF and density of the node distribution on [0, ω_max].

        features: (centres, half-widths, weights) of the resonances, optionally followed by
            (cores, weights) of log-uniform components from 0.
        """
        centres, widths, weights, *extra = features
        cores, core_weights = extra if extra else (jnp.zeros(0), jnp.zeros(0))
        T_max = jnp.maximum(T_e, T_ph)
        omega_max = V_abs + self.cutoff * T_max
        if centres.shape[0] > self.max_resonances:
            # Keep the sharpest resonances inside the window (the heavier ones first).
            outside = jnp.maximum(-centres, 0.0) + jnp.maximum(centres - omega_max, 0.0)
            keep = jnp.argsort((widths + outside) / weights)[: self.max_resonances]
            centres, widths, weights = centres[keep], widths[keep], weights[keep]
        # Cauchy components: every resonance (centre c, half-width w, weight a).
        c, w = centres, widths
        lo, up = arctan2_right(jnp.stack([0.0 - c, omega_max - c]), w)
        span = up - lo
        a_span = weights / span
        # Exponential components from 0 (the Bose functions of both baths), scales κ·T_max
        # and κ·T_min, weights 1 and 1/2. (With T_min ≪ T_max the node density falls by their ratio
        # inside the first panel, where ``kronrod_error`` is least reliable. Two more scales in
        # geometric steps between them made such points' errors ~1000× smaller, but left the
        # steps of ``_stepped_map`` unconverged at a narrow mode of another point (residual 2e-4;
        # a 300-panel rule off by 2.5e-4): not taken.)
        scale = self.thermal_spread * T_max
        e_scale = self.thermal_spread * jnp.stack([T_max, jnp.minimum(T_e, T_ph)])
        e_weight = jnp.array([1.0, 0.5])
        norm = -jnp.expm1(-omega_max / e_scale)
        # Logistic components centred on |V| (Fermi-window edge of the inter-lead channels
        # and the Bose tail beyond it), scales T_e and κ·T_max. Every component is smooth
        # inside (0, ω_max), so the mapped integrand stays analytic.
        s_log = jnp.stack([T_e, scale])
        log_lo = jax.nn.sigmoid(-V_abs / s_log)
        log_span = jax.nn.sigmoid((omega_max - V_abs) / s_log) - log_lo
        # Log-uniform components from 0 (cores c, weights b): density b/(A (ω + c)), A = log(1 + ω_max/c).
        core_span = jnp.log1p(omega_max / cores)
        total = jnp.sum(weights) + jnp.sum(e_weight) + 3.0 + jnp.sum(core_weights)

        # Components along the first axis and nodes along the last (vectorised) one. Every
        # per-component factor is folded into one coefficient here, so that a node costs
        # multiplications and no divisions beyond the Cauchy ones (the inverse CDF evaluates
        # both functions on every node a few times). The density's sums over components are
        # written out (``_over_components``): XLA then evaluates the density and its slope in one
        # pass over the nodes, sharing each division, instead of materialising (component, node)
        # arrays and reducing them (with reductions, the placement's steps were 6 % slower
        # than Newton's; written out, 11 % faster). The CDF's arctangents are not written out
        # (once per component, the default Fig-3 program took 0.5–1 s longer to compile): they are
        # one array, summed by slices (``_sum_rows``). The CDF needs absolute accuracy only (its
        # levels are compared with t ∈ [0, 1]), so 1 − e^(−x) serves instead of −expm1(−x).
        c, w, lo, span, a_span = (x[:, None] for x in (c, w, lo, span, a_span))
        s_log, log_lo, log_span = (x[:, None] for x in (s_log, log_lo, log_span))
        e_scale, e_weight, norm = (x[:, None] for x in (e_scale, e_weight, norm))
        cores, core_span = cores[:, None], core_span[:, None]
        inv_cores, core_pdf = 1.0 / cores, core_weights[:, None] / core_span
        inv_total = 1.0 / total
        wa = w * a_span  # Cauchy density w a / ((ω − c)² + w²)
        inv_e_scale, e_cdf = 1.0 / e_scale, e_weight / norm
        e_pdf = e_cdf * inv_e_scale
        inv_s_log, l_cdf = 1.0 / s_log, 1.0 / log_span
        l_pdf = l_cdf * inv_s_log
        inv_omega_max = 1.0 / omega_max

        def cdf(omega):
            cauchy = _sum_rows(materialize((arctan2_right(omega - c, w) - lo) * a_span))
            expo = _over_components(lambda s, a: (1.0 - jnp.exp(-omega * s)) * a, inv_e_scale, e_cdf)
            logistic = _over_components(lambda s, lo_, a: (_sigmoid((omega - V_abs) * s) - lo_) * a,
                                        inv_s_log, log_lo, l_cdf)
            # (log(1 + ω/c) to absolute accuracy, as the CDF needs: ``log_normal`` is faster than log1p)
            logs = (_over_components(lambda s, a: log_normal(1.0 + omega * s) * a, inv_cores, core_pdf)
                    if cores.shape[0] else 0.0)
            return (cauchy + expo + logistic + logs + omega * inv_omega_max) * inv_total

        def density(omega):
            """(ρ, ρ′, ρ″, ρ‴, Σ_j 1/R_j²) at ω: the density and its first three derivatives
            (Householder's step and its derivative), sharing the divisions, and the inverse squared
            distances R_j from ω to each component's nearest complex singularity (a Cauchy
            component's poles c ± iw, a logistic's |V| ± iπ·scale, a log-uniform's −c; for an
            exponential, entire, its scale) for ``_residual_left``."""
            def cauchy(c, w, wa):
                x = omega - c
                x2, w2 = x * x, w * w
                q = 1.0 / (x2 + w2)
                value = wa * q
                return (value, -2.0 * x * q * value, (6.0 * x2 - 2.0 * w2) * q * q * value,
                        24.0 * x * (w2 - x2) * q * q * q * value, q)

            def expo(s, a):
                value = jnp.exp(-omega * s) * a
                return value, -s * value, s * s * value, -s * s * s * value, s * s

            def logistic(s, a):
                # σ = (1 + th)/2: σ(1 − σ) = (1 − th²)/4, 1 − 2σ = −th, and th′ = s(1 − th²)/2
                th = jnp.tanh(0.5 * (omega - V_abs) * s)
                th2 = th * th
                value = 0.25 * (1.0 - th2) * a
                x = omega - V_abs
                return (value, -th * s * value, s * s * (1.5 * th2 - 0.5) * value,
                        s * s * s * th * (2.0 - 3.0 * th2) * value, s * s / (x * x * s * s + math.pi * math.pi))

            def log_uniform(c, a):
                q = 1.0 / (omega + c)
                value = a * q
                return value, -q * value, 2.0 * q * q * value, -6.0 * q * q * q * value, q * q

            parts = (_over_components(cauchy, c, w, wa), _over_components(expo, inv_e_scale, e_pdf),
                     _over_components(logistic, inv_s_log, l_pdf))
            if cores.shape[0]:
                parts = parts + (_over_components(log_uniform, cores, core_pdf),)
            rho, slope, curvature, third, near = (sum(x) for x in zip(*parts))
            return ((rho + inv_omega_max) * inv_total, slope * inv_total, curvature * inv_total, third * inv_total,
                    near)

        def quantile_rows(u):
            """ω at the levels u of every component's own CDF, one row per component,
            each ascending inside [0, ω_max]: between neighbours of a row (and 0 and ω_max
            at its ends) that component's CDF rises by at most the spacing of u."""
            cauchy = c + w * tan_inside(lo + u * span)
            expo = -e_scale * jnp.log1p(-u * norm)
            p = log_lo + u * log_span
            logistic = V_abs + s_log * (jnp.log(p) - jnp.log1p(-p))
            log_uniform = cores * jnp.expm1(u * core_span)
            rows = jnp.concatenate([cauchy, expo, logistic, log_uniform, (u * omega_max)[None]])
            return jnp.clip(rows, 0.0, omega_max)

        return cdf, density, omega_max, quantile_rows

    def nodes(self, features, V_abs, T_e, T_ph, part=WHOLE, edges=False):
        """Nodes ω (N,), Kronrod and Gauss weights (N,), N = 15 · panels, and whether every node
        met its level and every panel kept some weight (a boolean): the rule's levels t in [0, 1]
        mapped by ω = φ(t) (``_stepped_map``),
        the weights multiplied by φ'(t). (A part with a node off its level does not tile with its
        neighbours, an error no Kronrod–Gauss difference sees: its estimate is then unknown.)

        features: (centres, half-widths, weights) of the resonances of the integrand, optionally
            followed by (cores, weights) of log-uniform components from 0 (``_mixture``).
        part: (t₀, t₁), the panels cut only [t₀, t₁] of [0, 1], so that the rule integrates over
            [φ(t₀), φ(t₁)] (traced: the parts of a finer rule on the same nodes' code).
        edges: also the part's ends, mapped with the nodes: ω (2,) at t₀ and t₁ and their weights
            φ'(t) times a panel's half-width (the scale of ``edge_steps``); an end at 0 or 1 (the
            range's own) is mapped at t = 1/2 instead, and ``edge_steps`` leaves it out.
        """
        features, V_abs, T_e, T_ph, part = jax.lax.stop_gradient((features, V_abs, T_e, T_ph, part))
        t, brackets, cdf, density = self._levels(features, V_abs, T_e, T_ph, part, edges)
        omega, jacobian, mapped = _stepped_map(t, brackets, cdf, density)
        half = 0.5 * (part[1] - part[0]) / self.panels  # (a panel's half-width in t)
        if edges:
            omega, edge_omega = omega[:-2], omega[-2:]
            jacobian, edge_weight = jacobian[:-2], half * jacobian[-2:]
        # A panel all of whose nodes rounding left on their brackets' edges (φ' = 0) has no weight: in a
        # part narrower than float64 resolves in ω (nodes a few ulps apart beside a mode with η = 1e-11),
        # its share of the range is lost, and its estimate was 0/0 (NaN). Its map is not known either.
        mapped = mapped & jnp.all(jnp.any(jacobian.reshape(self.panels, 15) > 0.0, axis=-1))
        w_k = jnp.tile(half * _W_KRONROD, self.panels) * jacobian
        w_g = jnp.tile(half * _W_GAUSS, self.panels) * jacobian
        if edges:
            return jax.lax.stop_gradient((omega, w_k, w_g, mapped, edge_omega, edge_weight))
        return jax.lax.stop_gradient((omega, w_k, w_g, mapped))

    def _levels(self, features, V_abs, T_e, T_ph, part=WHOLE, edges=False):
        """The rule's levels t (N,) in [t₀, t₁] = ``part`` of [0, 1], each one's bracket
        (``_brackets``), and the mixture's CDF and density: what ``_stepped_map`` maps the levels with.
        ``edges``: the levels of the part's ends appended (``nodes``), (N + 2,)."""
        cdf, density, omega_max, quantile_rows = self._mixture(features, V_abs, T_e, T_ph)
        start, length = part[0], part[1] - part[0]
        t = start + length * (jnp.arange(self.panels)[:, None] / self.panels
                              + 0.5 / self.panels * (1.0 + _NODES)).ravel()
        # Bracket each level t between neighbours in the union of the components' quantile rows
        # (the CDF is monotone, so they bracket the root of CDF(ω) = t); the ends, CDF(0) = 0 and
        # CDF(ω_max) = 1, are known.
        rows = quantile_rows((jnp.arange(_QUANTILES) + 0.5) / _QUANTILES).ravel()
        points = jnp.concatenate([jnp.zeros(1), rows, omega_max[None]])
        levels = jnp.concatenate([jnp.zeros(1), cdf(rows), jnp.ones(1)])
        rhos = density(points)[0]
        brackets = _brackets(points, levels, rhos, self.panels, start, length)
        if not edges:
            return t, brackets, cdf, density
        ends = jnp.stack([part[0], part[1]])
        ends = jnp.where((ends > 0.0) & (ends < 1.0), ends, 0.5)
        below = levels[None, :] <= ends[:, None]  # (2, points): CDF(point) ≤ t (the point 0 always)
        lo = jnp.argmax(jnp.where(below, levels[None, :], -1.0), axis=-1)
        hi = jnp.argmin(jnp.where(below, 2.0, levels[None, :]), axis=-1)  # (CDF(ω_max) = 1 > t)
        table = jnp.stack([points, levels, rhos])
        at_ends = (table[0, lo], table[0, hi], table[1, lo], table[1, hi], table[2, lo], table[2, hi])
        brackets = tuple(jnp.concatenate([b, e]) for b, e in zip(brackets, at_ends))
        return jnp.concatenate([t, ends]), brackets, cdf, density


def _householder_denominator(r, rho, rho1, rho2):
    """(6ρ³ − 6rρρ′ + r²ρ″, whether Householder's step is trusted there: the denominator within
    half of 6ρ³, near the root)."""
    cube = 6.0 * rho * rho * rho
    denominator = cube - 6.0 * r * rho * rho1 + r * r * rho2
    return denominator, jnp.abs(denominator - cube) <= 0.5 * cube


def _householder_move(r, rho, rho1, rho2):
    """Householder's third-order step for CDF(ω) = t from the residual r = CDF(ω) − t and the
    density's ρ, ρ′, ρ″ at ω: r (6ρ² − 3rρ′)/(6ρ³ − 6rρρ′ + r²ρ″), or Newton's r/ρ where the
    step is not trusted (``_householder_denominator``: far from the root)."""
    denominator, trusted = _householder_denominator(r, rho, rho1, rho2)
    householder = r * (6.0 * rho * rho - 3.0 * r * rho1) / jnp.where(trusted, denominator, 1.0)
    return jnp.where(trusted, householder, r / rho)


def _stepped_map(t, brackets, cdf, density):
    """The map ω = φ(t) of ``FrequencyQuadrature.nodes`` at the levels t, and its derivative φ'(t).

    Inside the bracket (lo, hi) of t, with CDF values (f_lo, f_hi) and densities (ρ_lo, ρ_hi), φ
    starts from the cubic Hermite interpolant of the inverse CDF (slopes 1/ρ at both ends, limited
    to keep it monotone) and takes Householder steps of the third order for CDF(ω) = t,

        ω → ω − r (6ρ² − 3rρ′)/(6ρ³ − 6rρρ′ + r²ρ″),   r = CDF(ω) − t,  ρ, ρ′, ρ″ at ω

    (Newton's step r/ρ where the denominator strays from 6ρ³ by more than half), until the residual a
    step leaves is bounded by ``_MAP_TOL`` at every node (``_residual_left``; or after ``_STEPS``).
    Each node keeps its own bracket, narrowed by the sign of every residual, and until it has met its
    level a step out of that bracket goes to its middle instead (bisection: the steps converge from
    any start, as for a panel of a small part of the range inside one wide bracket); after, a step
    is kept inside the first bracket (rounding moves it only). φ' is carried through the steps by
    the chain rule (dr/dt = ρ ω' − 1, dρ^(k)/dt = ρ^(k+1) ω'; a bisection's, the mean of its bracket
    ends'), so the weights are exact for the map used; and
    with every node brought to its level, the map is smooth: φ meets the knots exactly (r = 0
    there) and joins them smoothly (a step leaves φ − CDF⁻¹ = O((ω − CDF⁻¹)⁴), and the start is
    off by O((t − knot)²) near a knot). Bounding the residual a step leaves, instead of checking
    it after the step, saves a pass over the nodes: from the Hermite start one step suffices for
    the Fig-3 sweep (its default program 1.12× faster, the fixed 4- and 10-panel rules 1.17× and
    1.12×)."""
    lo, hi, f_lo, f_hi, rho_lo, rho_hi = brackets
    width = jnp.where(hi > lo, hi - lo, 1.0)
    rise = jnp.where(f_hi > f_lo, f_hi - f_lo, 1.0)
    scaled = (t - f_lo) / rise
    s = jnp.clip(scaled, 0.0, 1.0)
    ds = jnp.where((scaled > 0.0) & (scaled < 1.0), 1.0 / rise, 0.0)
    m_lo = jnp.minimum(rise / (rho_lo * width), 3.0)
    m_hi = jnp.minimum(rise / (rho_hi * width), 3.0)
    s2 = s * s
    shape = s2 * (3.0 - 2.0 * s) + (s - 2.0 * s2 + s2 * s) * m_lo + (s2 * s - s2) * m_hi
    d_shape = 6.0 * (s - s2) + (1.0 - 4.0 * s + 3.0 * s2) * m_lo + (3.0 * s2 - 2.0 * s) * m_hi
    start = jnp.clip(lo + width * shape, lo, hi)  # (monotone in s: the clip only catches rounding)

    def step(state):
        count, omega, d_omega, (low, d_low), (high, d_high), met, _ = state
        # the residual and the density's derivatives each stored by one kernel: left to XLA CPU, the
        # step's arithmetic repeated them per use (the Fig-3 sweep 1.1× slower)
        r = materialize(cdf(omega) - t)
        rho, rho1, rho2, rho3, near = (materialize(x) for x in density(omega))
        # the root lies above ω where r < 0, below where r > 0: the node's own bracket shrinks
        low, d_low = (jnp.where(r < 0.0, x, y) for x, y in ((omega, low), (d_omega, d_low)))
        high, d_high = (jnp.where(r > 0.0, x, y) for x, y in ((omega, high), (d_omega, d_high)))
        # the step and its derivative along t (arithmetic only: forward mode through _householder_move)
        move, d_move = jax.jvp(_householder_move, (r, rho, rho1, rho2),
                               (rho * d_omega - 1.0, rho1 * d_omega, rho2 * d_omega, rho3 * d_omega))
        stepped = omega - move
        # (a step past the bracket, clipped to its edge, left an unknown residual: another step)
        left = jnp.where((stepped >= lo) & (stepped <= hi), _residual_left(r, rho, rho1, rho2, rho3, near), jnp.inf)
        met = met | (left <= _MAP_TOL)
        # Until a node has met its level, a step out of its own bracket goes to the bracket's midpoint
        # instead (bisection: the steps converge however far the start, as in a panel of a small part
        # of the range inside one wide bracket); after, its steps only move it by rounding.
        wild = ~met & ((stepped < low) | (stepped > high))
        inside = ~wild & (stepped > lo) & (stepped < hi)
        omega = jnp.where(wild, 0.5 * (low + high), jnp.clip(stepped, lo, hi))
        d_omega = jnp.where(wild, 0.5 * (d_low + d_high), jnp.where(inside, d_omega - d_move, 0.0))
        return count + 1, omega, d_omega, (low, d_low), (high, d_high), met, jnp.max(left)

    zero = jnp.zeros_like(t)  # (the bracket's edges do not move with t)
    begin = (0, start, width * d_shape * ds, (lo, zero), (hi, zero), jnp.zeros(t.shape, bool),
             jnp.full((), jnp.inf, t.dtype))
    _, omega, d_omega, _, _, met, _ = jax.lax.while_loop(
        lambda state: (state[0] < _STEPS) & (state[6] > _MAP_TOL), step, begin)
    return omega, d_omega, jnp.all(met)


def _residual_left(r, rho, rho1, rho2, rho3, near):
    """A bound on the residual |CDF(ω) − t| that a step from residual r leaves: Householder's
    fourth-order step leaves the error e' ≈ (c₂³ − 2c₂c₃ + c₄) e⁴ of e = r/ρ (c_k = F^(k)/(k! F′),
    F the CDF: c₂ = ρ′/2ρ, c₃ = ρ″/6ρ, c₄ = ρ‴/24ρ), so ρ |e'| ≤ (|c₂|³ + 2|c₂c₃| + |c₄|) r⁴/ρ³ —
    where that asymptotic form holds: r small (``_STEP_FROM``), the step Householder's, not the
    Newton step ``_householder_move`` falls back to, and short against the distance R to the
    density's nearest complex singularity, |e| ≤ ``_REACH`` · R (``near`` = Σ 1/R_j² over the
    components ≥ 1/R²: beyond, the derivatives at ω do not see a component that dominates where the
    step goes); else infinite (another step)."""
    inv = 1.0 / rho
    c2, c3, c4 = 0.5 * jnp.abs(rho1) * inv, jnp.abs(rho2) * inv / 6.0, jnp.abs(rho3) * inv / 24.0
    r2 = r * r
    bound = (c2 * c2 * c2 + 2.0 * c2 * c3 + c4) * r2 * r2 * inv * inv * inv
    _, householder = _householder_denominator(r, rho, rho1, rho2)
    short = r2 * inv * inv * near <= _REACH * _REACH
    return jnp.where((jnp.abs(r) <= _STEP_FROM) & householder & short, bound, jnp.inf)


QUIET = FrequencyQuadrature(warn=False)  # the default rule without the warning


def same_values(rule: FrequencyQuadrature) -> FrequencyQuadrature:
    """``rule`` with the warning's settings (warn, rtol) of ``QUIET``: they do not change its values,
    so every such setting shares one trace of a computation keyed by the rule."""
    return dataclasses.replace(rule, warn=QUIET.warn, rtol=QUIET.rtol)


def _sigmoid(x):
    """1/(1 + e^(−x)) = (1 + tanh(x/2))/2: XLA CPU's f64 tanh is a vectorised rational form,
    2.7× faster than its logistic function."""
    return 0.5 + 0.5 * jnp.tanh(0.5 * x)


def _sum_rows(x):
    """x.sum(0) by elementwise additions of slices, halving the rows each time: XLA CPU's
    reduction over a short leading axis was the slowest part of the CDF (Fig-3 sweep 6 % faster).
    The rows are summed from memory (``materialize``), not recomputed by each slice."""
    if x.shape[0] == 0:
        return jnp.zeros(x.shape[1:], x.dtype)
    while x.shape[0] > 1:
        half = (x.shape[0] + 1) // 2
        paired = x.shape[0] - half
        x = jnp.concatenate([x[:paired] + x[half:], x[paired:half]])
    return x[0]


def _over_components(term, *coefficients):
    """Σ_j term(*(a[j] for a in coefficients)) over the components j (the first axis), written
    out; a term may return a tuple of arrays, summed part by part."""
    terms = [term(*(a[j] for a in coefficients)) for j in range(coefficients[0].shape[0])]
    return jax.tree_util.tree_map(lambda *parts: sum(parts), *terms)


def _brackets(points, levels, rhos, panels, start=0.0, length=1.0):
    """For the ascending levels t (15·``panels``,) of ``nodes`` on [start, start + length], the
    nearest of ``points`` below and above each root of CDF(ω) = t, with their CDF values ``levels``
    and densities ``rhos``: (lo, hi, CDF(lo), CDF(hi), ρ(lo), ρ(hi)), each (15·panels,),
    CDF(lo) ≤ t < CDF(hi).

    Without sorting (see the bins below): point e lies below the roots of the levels
    t_i ≥ CDF(e), i.e. of i ≥ c_e = #{j : t_j < CDF(e)}, so lo_i is the point of largest level
    among those scattered into the bins up to i (a running maximum), hi_i the one of smallest
    level among those of bins c_e − 1 from i on. A point is scattered as one integer key, its
    level's bits (monotone for levels ≥ 0) above its index, so that the maximum also names it.
    """
    count = 15 * panels
    scaled = (levels - start) * (panels / length)  # (a level below the part: bin 0; above: bin ``count``)
    panel = jnp.clip(jnp.floor(scaled), 0, panels - 1)
    c = 15 * panel.astype(jnp.int32) + jnp.sum((scaled - panel)[:, None] > _OFFSETS, axis=-1, dtype=jnp.int32)
    bits = max(1, int(np.ceil(np.log2(points.shape[0]))))
    key = ((jax.lax.bitcast_convert_type(jnp.clip(levels, 0.0, 1.0), jnp.int64) >> bits) << bits) \
        | jnp.arange(points.shape[0], dtype=jnp.int64)
    lo = jnp.full(count + 1, -1, jnp.int64).at[c].max(key)
    above = jnp.where(c > 0, c - 1, count + 1)  # c = 0: above no root (dropped)
    hi = jnp.full(count + 1, jnp.iinfo(jnp.int64).max, jnp.int64).at[above].min(key, mode="drop")
    mask = (1 << bits) - 1
    lo = _running(jnp.maximum, lo[:count], -1) & mask
    hi = _running(jnp.minimum, hi[:count][::-1], jnp.iinfo(jnp.int64).max)[::-1] & mask
    table = jnp.stack([points, levels, rhos])
    at_lo, at_hi = table[:, lo], table[:, hi]
    return at_lo[0], at_hi[0], at_lo[1], at_hi[1], at_lo[2], at_hi[2]


def _running(op, x, identity):
    """The running ``op`` (maximum or minimum; ``identity`` its neutral element) along x (1-D), in
    ⌈log2 n⌉ steps of one op with a shifted copy. XLA CPU's reduce-window for ``lax.cummax``
    compares every pair of a window, n²/2: it took 4 % of the Fig-3 sweep, which is 1.05–1.10×
    faster this way (random junctions 1.02×, the vmapped gradient 1.04×; the same nodes bit for bit)."""
    shift = 1
    while shift < x.shape[0]:
        x = op(x, jnp.concatenate([jnp.full(shift, identity, x.dtype), x[:-shift]]))
        shift *= 2
    return x


def kronrod_error(density, w_kronrod, w_gauss, shared=False):
    """Estimated error of the Kronrod sum Σ w_K f of a density f on ``nodes``' nodes (last axis).

    Per panel, QUADPACK's form with a calibrated factor, plus a rounding floor:

        E = max(D · min(1, (c |K − G| / D)^p), 50 ε ∫|f|),   c = _ERROR_FACTOR, p = 7/4,

    and at least |K − G| where the ratio c |K − G| / D reaches 1 (an unresolved panel), K and G
    the 15- and 7-point results, D = ∫ |f − K/L| the panel's absolute deviation from its mean
    (L its length), summed over panels. (D is taken in ω, where f is flat across a panel whose
    map is not, the first panels of a cold bath: there D vanishes while K − G, the rule's error
    on the map's own derivative, does not. Capped at D, such a panel with |K − G| = 8.4e-10 read
    1.7e-12, and a 40-panel I missed by 1.24× its tolerance, unflagged.) The exponent p > 1 models a
    resolved panel (the Kronrod error falls faster than the Gauss one, asymptotically
    with p = 23/14 for an analytic integrand); c makes the
    estimate honest on a panel that a feature narrower than the node spacing spoils,
    where K and G agree better than either agrees with the integral. c was calibrated
    against finely refined rules on random models with widths and temperatures down to 1e-3:
    with c = 20, 3 of 20 000 such points had an unflagged result off by 1.6–4× the tolerance
    (a cold phonon bath at a large bias); with c = 30, none (the closest flagged by 1.06×).

    ``shared``: the rows of ``density`` (its first axis) are quantities integrated on the same
    nodes (J's and I's densities), and each panel's ratio c |K − G| / D is the largest of
    theirs: a panel that one integrand shows unresolved is unresolved for all of them, whose
    K and G can agree by accident (a quantity's own ratio left 2–7 of 10 000 random points
    with one estimate inside the tolerance while its error was beyond it, by up to 950×).
    """
    count = density.shape[-1] // 15
    panels = density.reshape(density.shape[:-1] + (count, 15))  # (…, panel, node)
    w_k, w_g = (w.reshape(w.shape[:-1] + (count, 15)) for w in (w_kronrod, w_gauss))
    weighted = panels * w_k
    kronrod, gauss, absolute = weighted.sum(-1), (panels * w_g).sum(-1), jnp.abs(weighted).sum(-1)
    deviation = (jnp.abs(panels - (kronrod / w_k.sum(-1))[..., None]) * w_k).sum(-1)
    # (D = 0 with K ≠ G, a flat f on a steep map: unresolved, ratio 1)
    ratio = jnp.minimum(1.0, _ERROR_FACTOR * jnp.abs(kronrod - gauss) / jnp.maximum(deviation, jnp.finfo(density.dtype).tiny))
    if shared:
        ratio = jnp.max(ratio, axis=0)
    rounding = 50.0 * jnp.finfo(density.dtype).eps * absolute
    power = ratio * jnp.sqrt(ratio * jnp.sqrt(ratio))  # ratio^(7/4), without XLA CPU's slow pow
    unresolved = jnp.where(ratio >= 1.0, jnp.abs(kronrod - gauss), 0.0)
    mapped = _mapped_panels(density, w_kronrod)
    return jnp.sum(jnp.maximum(jnp.maximum(deviation * power, unresolved), rounding) + _abrupt_rise(mapped),
                   axis=-1) + jnp.sum(_hidden_steps(mapped), axis=-1)


# (1 − x) of the panels' outermost node, and the spacing of its two outermost nodes, in half-panels
_END_GAP = float(1.0 - _NODES[-1])
_END_SPACING = float(_NODES[-1] - _NODES[-2])
# A jump across a panel boundary this many times what the slopes at the panels' ends explain is a step
_STEP_RATIO = 30.0


def _hidden_steps(mapped):
    """Bound on the error of a step that lies between two panels' outermost nodes (last axis of
    ``mapped``, (…, panel, node): the mapped integrand g = f φ' times the panels' half-width): each panel
    sees a smooth function there, so K − G does not see the step, and the sum puts it at the boundary.
    Where the jump |Δg| across a boundary exceeds ``_STEP_RATIO`` times the slope of g at the panels'
    ends times the gap, the step lies somewhere in the gap: error ≤ |Δg| (1 − x_end) (half a gap of
    2 (1 − x_end) half-panels). A mode with η = 4.7e-11 at Ω = 2.83: its line, a block in the mapped
    variable, ended ~7e-5 of t wide between two panels, and J was 2.2e-4 off with an estimate of 3e-7.
    One term per boundary (…, panel − 1)."""
    left, right = mapped[..., :-1, -1], mapped[..., 1:, 0]
    slope = jnp.maximum(jnp.abs(left - mapped[..., :-1, -2]), jnp.abs(mapped[..., 1:, 1] - right))
    return _step_in_gap(jnp.abs(right - left), slope, 2.0 * _END_GAP)


def _step_in_gap(jump, slope, gap):
    """|Δg| (1 − x_end) where the jump |Δg| of g across a gap (in half-panels) between nodes exceeds
    ``_STEP_RATIO`` times what the ``slope`` of g over the outermost node spacing explains there; else 0."""
    return jnp.where(jump > _STEP_RATIO * slope * (gap / _END_SPACING), jump * _END_GAP, 0.0)


# A panel whose variation lies this much in two neighbouring node intervals has a near-step inside
_STEP_SHARE = 0.9
_WIDEST_HALF_INTERVAL = float(np.max(np.diff(_NODES)) / 2)


def _abrupt_rise(mapped):
    """Bound on the error of a near-step inside a panel ((…, panel, node) → (…, panel)): where two
    neighbouring node intervals hold ``_STEP_SHARE`` of the panel's total variation of g, the rise is
    resolved by one or two nodes, where K − G can read many times below the error (a narrow mode's line
    edge: 6.5×); error ≤ the largest jump times half the widest node interval."""
    jumps = jnp.abs(mapped[..., 1:] - mapped[..., :-1])
    total = jnp.sum(jumps, axis=-1)
    pair = jnp.max(jumps[..., 1:] + jumps[..., :-1], axis=-1)
    return jnp.where(pair > _STEP_SHARE * total, jnp.max(jumps, axis=-1) * _WIDEST_HALF_INTERVAL, 0.0)


def edge_steps(density, w_kronrod, at_edges, edge_weight, part):
    """Bound on the error of a step between a part's outermost nodes and its ends (``nodes`` with
    ``edges``; ``density`` (…, N), its values ``at_edges`` (…, 2)): no panel of the part has a node
    there, and the neighbouring part, on the other side of the end, has its own gap. As
    ``_hidden_steps``, with the value at the end itself in place of the neighbour's outermost node:
    where the jump from the outermost node to the end exceeds ``_STEP_RATIO`` times what the slope
    there explains over the gap, error ≤ |Δg| (1 − x_end). The ends of the whole range (0 and 1) are
    left out. A mode with η = 1.3e-11 at Ω = 3.05: its line, a block in the mapped variable, began
    ~1e-4 of t before the edge of two quarters, and J was 116× the tolerance off with an estimate of
    0.75×. (…,): the two ends' terms summed."""
    mapped = _mapped_panels(density, w_kronrod)
    outer = jnp.stack([mapped[..., 0, 0], mapped[..., -1, -1]], axis=-1)
    inner = jnp.stack([mapped[..., 0, 1], mapped[..., -1, -2]], axis=-1)
    steps = _step_in_gap(jnp.abs(at_edges * edge_weight - outer), jnp.abs(outer - inner), _END_GAP)
    inside = jnp.stack([part[0] > 0.0, part[1] < 1.0])
    return jnp.sum(jnp.where(inside, steps, 0.0), axis=-1)


def _mapped_panels(density, w_kronrod):
    """The mapped integrand g = f φ' times the panels' half-width at the nodes, (…, panel, node): the
    density times the Kronrod weights over the rule's own."""
    count = density.shape[-1] // 15
    panels = density.reshape(density.shape[:-1] + (count, 15))
    return panels * (w_kronrod.reshape(w_kronrod.shape[:-1] + (count, 15)) / _W_KRONROD)


def node_sum(density, weights):
    """Σ_i density_i · weights_i over the nodes (last axis): a product and a sum, not ``@``.

    Under a vmap, ``density @ weights`` is a matrix product batched over the points, and the panel
    sums a product with a constant indicator matrix; XLA CPU runs both as small library calls
    (YNNPACK), each with a fixed cost. A sum over the last axis is one reduction: with the error
    estimate's panel sums written so (``kronrod_error``), the Fig-3 sweep's error estimates cost
    half as much (4-panel rule: 0.42 against 0.85 ms of 6.2 ms)."""
    return jnp.sum(density * weights, axis=-1)
