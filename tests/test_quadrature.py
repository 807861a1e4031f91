"""The mapped Gauss–Kronrod rule of the frequency integral (``_quadrature.py``)."""

import functools

import jax
import numpy as np
import pytest
import scipy.integrate
import scipy.special

import ehpjax
from ehpjax._errors import EhpjaxError
from ehpjax._quadrature import _NODES, _W_GAUSS, _W_KRONROD, _running, _stepped_map, edge_steps, kronrod_error


@functools.partial(jax.jit, static_argnums=0)
def nodes_and_mixture(quadrature, features, V, T_e, T_ph):
    """The rule's nodes and weights, the mixture's CDF, density and ω_max at the nodes, and the
    derivative of the map at the levels by JAX's forward mode through ``_stepped_map`` (one
    compiled program per rule and number of features, shared by the seeds)."""
    omega, w_k, w_g, _ = quadrature.nodes(features, V, T_e, T_ph)
    cdf, density, omega_max, _ = quadrature._mixture(features, V, T_e, T_ph)
    t, brackets, _, _ = quadrature._levels(features, V, T_e, T_ph)
    _, autodiff = jax.jvp(lambda t: _stepped_map(t, brackets, cdf, density)[0], (t,), (jax.numpy.ones_like(t),))
    return omega, w_k, w_g, cdf(omega), density(omega)[0], omega_max, autodiff


kronrod_error_jit = jax.jit(kronrod_error)


def random_features(rng, count, narrowest):
    centres = rng.uniform(-1.0, 6.0, count)
    widths = 10 ** rng.uniform(np.log10(narrowest), 0.0, count)
    weights = rng.choice([1.0, 3.0], count)
    return centres, widths, weights


@pytest.mark.parametrize("seed", range(20))
def test_weights_are_the_maps_derivative_and_nodes_follow_the_mixture(seed):
    """The weights are the Kronrod weights times φ'(t) of the map that places the nodes, exactly
    (against JAX's forward mode through the map's code), so the rule is Gauss–Kronrod for that
    map; the nodes ascend inside (0, ω_max) and solve CDF(ω) = t (to ~1e-11: a node left behind
    makes the map unsmooth, ``test_the_map_meets_every_level…``), with φ' close to 1/ρ there."""
    rng = np.random.default_rng(seed)
    features = random_features(rng, int(rng.integers(1, 9)), 1e-3)
    V, T_e, T_ph = rng.uniform(0, 3), 10 ** rng.uniform(-3, 0), 10 ** rng.uniform(-3, 0)
    quadrature = ehpjax.FrequencyQuadrature(panels=7)
    omega, w_k, w_g, cdf, density, omega_max, autodiff = (
        np.asarray(x) for x in nodes_and_mixture(quadrature, features, V, T_e, T_ph))
    half = 0.5 / 7
    t = (np.arange(7)[:, None] / 7 + half * (1.0 + _NODES)).ravel()
    np.testing.assert_allclose(w_k, np.tile(half * _W_KRONROD, 7) * autodiff, rtol=1e-13)
    np.testing.assert_allclose(cdf, t, rtol=0, atol=1e-10)
    assert np.all(np.diff(omega) > 0) and 0 < omega[0] and omega[-1] < float(omega_max)
    np.testing.assert_allclose(w_k, np.tile(half * _W_KRONROD, 7) / density, rtol=1e-4)


def test_the_map_meets_every_level_where_one_step_left_a_node_behind():
    """The features of a random junction with a narrow mode (half-width 5.9e-4 at 0.49), at 40
    panels: one bracket spans a panel, and the steps used to stop with one node at a residual
    |CDF(ω) − t| of 1.1e-7 while the others met their levels to 1e-16. Such a map is not smooth,
    and the rule on it missed J by 9× the tolerance while its estimate said 0.09× of it. The steps
    now go on until the residual they leave is below ~1e-11 at every node."""
    features = (np.array([0.4920805652709994, 0.3240492014397738, -0.3240492014397738, 2.414033073724905,
                          2.738082275164679, 3.1632540843601227, 2.839204882920349]),
                np.array([0.0005859712762084624, 0.3219379404463335, 0.3219379404463335, 0.2161448167979411,
                          0.15596462212364243, 0.2161448167979411, 0.15596462212364243]),
                np.array([3.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]))
    quadrature = ehpjax.FrequencyQuadrature(panels=40)
    cdf = np.asarray(nodes_and_mixture(quadrature, features, 5.577287158085028, 0.007985041984663526,
                                       0.3262275715158357)[3])
    t = (np.arange(40)[:, None] / 40 + 0.5 / 40 * (1.0 + _NODES)).ravel()
    assert np.max(np.abs(cdf - t)) <= 1e-10


@pytest.mark.parametrize("seed", range(6))
def test_rule_integrates_resonances_and_thermal_tails(seed):
    """∫_0^ω_max of three Lorentzians (half-widths down to 0.01) and of a thermal tail against
    closed forms: the error stays within the estimate that ``currents`` reports
    (``kronrod_error``), and vanishes as panels are added."""
    rng = np.random.default_rng(10 + seed)
    centres, widths, weights = random_features(rng, 3, 1e-2)
    V, T = rng.uniform(0, 2), rng.uniform(0.05, 0.5)
    omega_max = V + ehpjax.FrequencyQuadrature().cutoff * T
    exact = sum(np.arctan((omega_max - c) / w) - np.arctan(-c / w) for c, w in zip(centres, widths))
    exact_tail = T**2 * (1 - np.exp(-omega_max / T) * (1 + omega_max / T))
    for panels in (10, 40):
        quadrature = ehpjax.FrequencyQuadrature(panels=panels)
        omega, w_k, w_g = (np.asarray(x) for x in nodes_and_mixture(quadrature, (centres, widths, weights), V, T, T)[:3])
        for f, value in ((sum(w / ((omega - c) ** 2 + w**2) for c, w in zip(centres, widths)), exact),
                         (omega * np.exp(-omega / T), exact_tail)):
            estimate = float(kronrod_error_jit(f, w_k, w_g))
            error = abs(w_k @ f - value)
            assert error <= max(estimate, 1e-13 * value), (panels, error, estimate)
            if panels == 40:
                assert error <= 1e-7 * value


@pytest.mark.parametrize("core", [1e-7, 1e-4])
def test_a_log_uniform_core_resolves_a_step_at_zero(core):
    """A narrow level's self-pair makes a step of width ~c at ω = 0 (docs/physics.md §5); here
    ∫_0^ω_max ω/(ω + c) e^(−ω/T) dω = T − c e^(c/T) E₁(c/T) (less the tail beyond ω_max). With
    a log-uniform component of core c the map still meets its levels and its weights are φ', and the
    10-panel rule is within 1e-12 of the closed form and of its estimate. Without it the step lies
    inside the first node: the error is ~c log(T/c), 1e4× larger and more."""
    V, T = 1.0, 0.2
    base = (np.array([1.0]), np.array([0.3]), np.array([3.0]))
    quadrature = ehpjax.FrequencyQuadrature(panels=10)
    x = core / T
    omega_max = V + quadrature.cutoff * T
    exact = T - core * np.exp(x) * scipy.special.exp1(x) - scipy.integrate.quad(
        lambda w: w / (w + core) * np.exp(-w / T), omega_max, np.inf)[0]
    errors = {}
    for features in (base + (np.array([core]), np.array([4.0])), base):
        omega, w_k, w_g, cdf, _, _, autodiff = (np.asarray(a) for a in nodes_and_mixture(quadrature, features, V, T, T))
        t = (np.arange(10)[:, None] / 10 + 0.05 * (1.0 + _NODES)).ravel()
        np.testing.assert_allclose(cdf, t, rtol=0, atol=1e-10)
        np.testing.assert_allclose(w_k, np.tile(0.05 * _W_KRONROD, 10) * autodiff, rtol=1e-13)
        f = omega / (omega + core) * np.exp(-omega / T)
        errors[len(features)] = abs(w_k @ f - exact), float(kronrod_error_jit(f, w_k, w_g))
    (error, estimate), (without, _) = errors[5], errors[3]
    assert error <= max(estimate, 1e-14 * exact) and error <= 1e-12 * exact, errors
    assert without >= 1e4 * max(error, 1e-16), errors


def test_a_flat_integrand_on_a_steep_map_is_estimated_at_least_its_kronrod_gauss_difference():
    """f flat in ω on a panel whose node density falls steeply (a cold bath's first panel): D, the
    deviation from the mean in ω, vanishes, while K − G (the rule's error on the map's derivative)
    does not. The estimate is at least |K − G| (capped at D it was the rounding floor)."""
    slope = np.exp(-8.0 * (1.0 + _NODES))  # φ'(t) on the panel
    w_k, w_g = 0.5 * _W_KRONROD * slope, 0.5 * _W_GAUSS * slope
    difference = None
    for f in (np.full(15, 2.0), 2.0 + 1e-12 * _NODES):  # exactly flat, and nearly
        difference = abs(w_k @ f - w_g @ f)
        assert difference > 1e-5 * (w_k @ f)
        assert float(kronrod_error_jit(f, w_k, w_g)) >= (1 - 1e-9) * difference  # (K − G cancels: rounding)


def test_a_rule_with_a_node_off_its_level_has_an_unknown_error():
    """A node the map's steps left off its level (``nodes``' last output False) makes the rule's range
    of ω other than the one its neighbouring parts meet, an error no Kronrod–Gauss difference sees:
    the estimates are infinite (so the result is flagged, and the default rule splits that part
    first); with every node on its level, the panels' estimates plus the pole expansion's."""
    from types import SimpleNamespace

    from ehpjax._currents import integral_errors

    rng = np.random.default_rng(5)
    densities = rng.uniform(1.0, 2.0, (2, 45))
    w_k, w_g = np.tile(0.5 * _W_KRONROD, 3) / 3, np.tile(0.5 * _W_GAUSS, 3) / 3
    poles = SimpleNamespace(error=1e-12)
    expected = kronrod_error(densities, w_k, w_g, shared=True) + 1e-12 * np.abs(densities) @ w_k
    np.testing.assert_allclose(integral_errors(densities, w_k, w_g, poles, True), expected, rtol=1e-12)
    assert np.all(np.asarray(integral_errors(densities, w_k, w_g, poles, False)) == np.inf)



def test_a_panel_left_without_weight_makes_the_map_unknown():
    """A mode with η = 1e-11 at ω = 1 (half-width 5e-12, ~45 000 ulps of ω): on a part of 4⁻⁸ of the
    mapped range at its centre, ω advances by single ulps, and rounding leaves nodes on their brackets'
    edges, where φ' = 0. Where every node of a panel is so left, the panel has no weight: its share of
    the range is lost and its estimate was 0/0 (NaN; the paper's junction at V = −1, T = 0.3, μ0 = 0
    with 18 splits). The map is then not known (``nodes``' last output False: infinite estimates); a
    part of 4⁻³ there keeps every weight positive and is known."""
    rule = ehpjax.FrequencyQuadrature(warn=False)
    features = (np.array([1.0, 1.0]), np.array([5e-12, 0.5]), np.array([3.0, 1.0]))
    nodes = jax.jit(lambda part: rule.nodes(features, 1.0, 0.3, 0.3, part))
    centre = 0.4484671082137322  # (the mixture's CDF at ω = 1)
    for k, known in ((8, False), (3, True)):
        width = 4.0 ** -k
        start = np.floor(centre / width) * width
        omega, w_k, _, mapped = (np.asarray(x) for x in nodes((start, start + width)))
        panels = w_k.reshape(rule.panels, 15)
        assert bool(mapped) == known and np.all(np.isfinite(w_k)) and np.all(w_k >= 0.0)
        assert np.any(np.all(panels == 0.0, axis=1)) == (not known)
        assert abs(float(np.mean(omega)) - 1.0) < width * 1e-6  # (the parts lie at the mode)


@pytest.mark.parametrize("offset", [-0.008, -0.003, 0.0, 0.004, 0.008])
def test_a_step_between_two_panels_is_in_the_estimate(offset):
    """A step of the integrand between the outermost nodes of two panels (each panel sees a constant, so
    K − G is 0): the sum puts it at the boundary, and the estimate bounds the error by the jump times half
    the gap between those nodes; a smooth integrand across the same boundary adds nothing to it."""
    w_k, w_g = np.tile(_W_KRONROD, 2), np.tile(_W_GAUSS, 2)  # two panels of [-1, 1] and [1, 3]
    t = np.concatenate([_NODES, 2.0 + _NODES])
    edge = 1.0 + offset  # (between 1 − 0.00854 and 1 + 0.00854)
    step = np.where(t > edge, 1.0, 0.0)
    error = abs(w_k @ step - (3.0 - edge))
    estimate = float(kronrod_error_jit(step, w_k, w_g))
    assert error <= estimate <= 0.0086 and (offset == 0.0 or error > 1e-3)
    smooth = np.exp(-0.3 * t)
    apart = sum(float(kronrod_error_jit(smooth[i:i + 15], w_k[:15], w_g[:15])) for i in (0, 15))
    assert float(kronrod_error_jit(smooth, w_k, w_g)) == pytest.approx(apart, rel=1e-12)


@pytest.mark.parametrize("offset", [0.0005, 0.004, 0.0085])
def test_a_step_between_a_parts_outermost_node_and_its_end_is_in_its_estimate(offset):
    """A part of a rule's range (here one panel, [-1, 1] of its mapped variable) whose integrand steps
    between its outermost node and its end (x = ±0.99146): every node sees a constant, K − G is 0, and the
    neighbouring part beyond the end has a gap of its own there. The value at the end itself (``nodes`` with
    ``edges``) shows the jump, and ``edge_steps`` bounds the error by it times the gap; at either end, not
    at the ends of the whole range (0 and 1), and nothing for a smooth integrand."""
    part, whole = (np.float64(0.25), np.float64(0.5)), (np.float64(0.0), np.float64(1.0))
    steps = jax.jit(edge_steps)
    for side in (1, -1):  # the step near the right end, then (mirrored) near the left one
        edge = side * (1.0 - offset)
        g = np.where(side * _NODES > side * edge, 1.0, 0.0)  # 0 on every node
        at_ends = np.where(np.array([-1.0, 1.0]) * side > 0, 1.0, 0.0)  # 1 at the end beyond the step
        error = abs(_W_KRONROD @ g - offset)
        estimate = float(kronrod_error_jit(g, _W_KRONROD, _W_GAUSS) + steps(g, _W_KRONROD, at_ends, np.ones(2), part))
        assert 0.99 * offset <= error <= estimate <= 0.0086
        assert float(steps(g, _W_KRONROD, at_ends, np.ones(2), whole)) == 0.0
    smooth = np.exp(-0.3 * _NODES)
    assert float(steps(smooth, _W_KRONROD, np.exp(-0.3 * np.array([-1.0, 1.0])), np.ones(2), part)) == 0.0


@pytest.mark.parametrize("edge", [-0.9, -0.62, 0.1, 0.31, 0.5, 0.95])
def test_a_rise_inside_a_panel_over_one_or_two_nodes_is_in_the_estimate(edge):
    """A narrow mode's line edge in the mapped variable: g rises from ~0 to its plateau between two
    neighbouring nodes of a panel (or over two intervals), where K − G can read several times below the
    error (6.5× at a 2×2 junction with η = 1.1e-9). Where two neighbouring intervals hold 90 % of the
    panel's variation, the largest jump times half the widest interval is added; a smooth panel adds
    nothing."""
    from ehpjax._quadrature import _abrupt_rise

    for width in (0.0, 0.03):  # a step, and a rise spread over ~two intervals
        g = 0.5 * (1.0 + np.tanh((_NODES - edge) / max(width, 1e-12)))
        exact = 1.0 - edge if width == 0.0 else float(scipy.integrate.quad(
            lambda x: 0.5 * (1.0 + np.tanh((x - edge) / width)), -1.0, 1.0, points=[edge], epsabs=1e-14)[0])
        error = abs(_W_KRONROD @ g - exact)
        assert error <= float(kronrod_error_jit(g, _W_KRONROD, _W_GAUSS)), (width, error)
        assert float(_abrupt_rise(g[None])[0]) > 0.0
    assert float(_abrupt_rise(np.exp(-0.3 * _NODES)[None])[0]) == 0.0

@pytest.mark.parametrize("setting", [
    dict(panels=0), dict(panels=-3), dict(panels=2.5), dict(cutoff=-5.0), dict(cutoff=0.0), dict(cutoff=10.0),
    dict(cutoff=np.nan), dict(thermal_spread=0.0), dict(max_resonances=0), dict(rtol=-1e-6), dict(rtol=0.0),
    dict(rtol=np.inf), dict(warn="yes"), dict(block=0),
])
def test_settings_are_validated(setting):
    """A setting that would return 0, NaN or a silently truncated integral is refused, naming the field."""
    (name,) = setting
    with pytest.raises(EhpjaxError, match=f"FrequencyQuadrature.{name} must be"):
        ehpjax.FrequencyQuadrature(**setting)


@pytest.mark.parametrize("setting", [dict(parts=0), dict(parts=2.0), dict(parts=True), dict(coarse=4), dict(fine=None),
                                     dict(splits=-1), dict(splits=21)])
def test_adaptive_settings_are_validated(setting):
    (name,) = setting
    with pytest.raises(EhpjaxError, match=f"AdaptiveQuadrature.{name} must be"):
        ehpjax.AdaptiveQuadrature(**setting)


def test_a_rule_on_the_parts_of_its_range_is_the_finer_rule():
    """The 10-panel rule on the quarters [k/4, (k + 1)/4] of t (``nodes(..., part)``, the default
    rule's third pass) places the 40-panel rule's nodes with its weights, quarter by quarter:
    levels below or above a part bracket no node of it."""
    rng = np.random.default_rng(3)
    features = random_features(rng, 5, 1e-3)
    V, T_e, T_ph = 2.0, 0.05, 0.3
    parts = jax.jit(jax.vmap(lambda start, end: ehpjax.FrequencyQuadrature().nodes(features, V, T_e, T_ph, (start, end))))
    omega, w_k, w_g, _ = (x.ravel() for x in parts(np.arange(4) / 4, np.arange(1, 5) / 4))
    finer = jax.jit(lambda f: ehpjax.FrequencyQuadrature(panels=40).nodes(f, V, T_e, T_ph))(features)  # (one program)
    for got, expected in zip((omega, w_k, w_g), finer):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14 * float(np.max(np.abs(expected))))


def test_a_map_far_from_the_inverse_cdf_still_gives_an_honest_rule(monkeypatch):
    """With no Householder step the map is the Hermite start alone: its nodes sit up to ~1e-3 off
    the levels they aimed at and its second derivative jumps at the bracket knots, so the rule
    converges slowly (errors up to ~1e-4 of the integral with 40 panels). The weights are still the
    derivative of the map used, and the error estimate covers the true error of three Lorentzians
    at every seed and rule (this test fails if the estimate were blind to a poor map)."""
    monkeypatch.setattr(ehpjax._quadrature, "_STEPS", 0)
    rules = [jax.jit(lambda features, V, T, n=n: ehpjax.FrequencyQuadrature(panels=n).nodes(features, V, T, T))
             for n in (10, 40)]
    worst = 0.0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        centres, widths, weights = random_features(rng, 3, 1e-2)
        V, T = rng.uniform(0, 2), rng.uniform(0.05, 0.5)
        omega_max = V + ehpjax.FrequencyQuadrature().cutoff * T
        exact = sum(np.arctan((omega_max - c) / w) - np.arctan(-c / w) for c, w in zip(centres, widths))
        for rule in rules:
            omega, w_k, w_g, mapped = (np.asarray(x) for x in rule((centres, widths, weights), V, T))
            assert not mapped  # (no step: every level missed; the whole range's map is still smooth)
            f = sum(w / ((omega - c) ** 2 + w**2) for c, w in zip(centres, widths))
            error = abs(w_k @ f - exact)
            assert error <= max(float(kronrod_error_jit(f, w_k, w_g)), 1e-13 * exact), (seed, error)
            worst = max(worst, error / exact)
    assert worst > 1e-6  # (the map was poor indeed)


@pytest.mark.parametrize("length", [1, 2, 5, 8, 60, 151])
def test_running_maximum_and_minimum_equal_numpys(length):
    """The brackets' running extrema (log-step scans) against NumPy's accumulate, on int64 keys."""
    x = np.random.default_rng(length).integers(-2**62, 2**62, size=length)
    np.testing.assert_array_equal(_running(jax.numpy.maximum, x, -2**63), np.maximum.accumulate(x))
    np.testing.assert_array_equal(_running(jax.numpy.minimum, x, 2**63 - 1), np.minimum.accumulate(x))


def test_small_parts_inside_one_wide_bracket_are_mapped_to_their_levels():
    """The default rule splits parts of the mapped variable down to 1/(4·4⁶) of its range (``_adaptive``),
    so a panel can lie inside one bracket of the quantile rows, between a narrow peak and the next row,
    where Householder's steps from the Hermite start overshoot out of the bracket. Such a step goes
    to the middle of the node's own bracket (bisection; the steps used to be clipped to its edge,
    and the nodes of two such parts, 116 and 197 of 256 here, stayed on it with weight 0). On all 256
    parts the nodes ascend and meet their levels, the weights are positive, and the parts' rules add up
    to the closed form of the three Lorentzians' integral."""
    centres, widths = np.array([1.0, 0.4, 2.5]), np.array([3e-5, 0.3, 0.2])
    features, V, T_e, T_ph = (centres, widths, np.array([3.0, 1.0, 1.0])), 0.5, 0.05, 0.1
    quadrature = ehpjax.FrequencyQuadrature()

    @jax.jit
    def part(start, end):  # (with the part's ends, ``edge_steps``)
        omega, w_k, _, _, ends, end_weights = quadrature.nodes(features, V, T_e, T_ph, (start, end), edges=True)
        cdf, density = quadrature._mixture(features, V, T_e, T_ph)[:2]
        return omega, w_k, cdf(omega), ends, end_weights, cdf(ends), density(ends)[0]

    omega_max = V + quadrature.cutoff * max(T_e, T_ph)
    exact = np.sum(np.arctan((omega_max - centres) / widths) - np.arctan(-centres / widths))
    total, previous_end = 0.0, None
    for k in range(256):
        omega, w_k, cdf, ends, end_weights, end_cdf, end_density = (np.asarray(x) for x in part(k / 256, (k + 1) / 256))
        t = k / 256 + (np.arange(10)[:, None] / 10 + 0.5 / 10 * (1.0 + _NODES)).ravel() / 256
        assert np.all(np.diff(omega) > 0) and np.all(w_k > 0), k
        np.testing.assert_allclose(cdf, t, rtol=0, atol=1e-10, err_msg=str(k))
        total += w_k @ sum(w / ((omega - c) ** 2 + w**2) for c, w in zip(centres, widths))
        # the part's ends on their levels (the range's own, 0 and 1, at 1/2), outside its nodes, weighted
        # φ' = 1/ρ times a panel's half-width; where two parts meet, one ω
        levels = np.where([k > 0, k < 255], [k / 256, (k + 1) / 256], 0.5)
        np.testing.assert_allclose(end_cdf, levels, rtol=0, atol=1e-10, err_msg=str(k))
        np.testing.assert_allclose(end_weights, 0.5 / 10 / 256 / end_density, rtol=1e-6, err_msg=str(k))
        assert (k == 0 or ends[0] < omega[0]) and (k == 255 or omega[-1] < ends[1]), k
        if previous_end is not None:
            np.testing.assert_allclose(ends[0], previous_end, rtol=1e-10, err_msg=str(k))  # (the levels met to 1e-10)
        previous_end = ends[1]
    np.testing.assert_allclose(total, exact, rtol=1e-10)


def test_a_component_negligible_at_the_start_does_not_stop_the_steps_early():
    """The residual a step leaves is bounded from the density's derivatives at the node, which do
    not see a component that is negligible there and dominant where the step goes: a cold bath's
    exponential (T_e = 2.7e-6, scale 8e-6) under a flat density at ω ~ 4e-4, its nodes' levels at
    ω ~ 1e-4 (a small part of the range, as the default rule's splits make; the mixture of a random
    point at |V| = 46). Trusted there, the bound stopped the steps after one, every node of a part
    1e-3 off its level: the parts of one range then added up to 12 % more than the range with
    estimates of 1e-16 (a split point's I off by 144× the tolerance, unflagged), and here the second
    of 8 parts integrated the node density to 54× its length. Now every node meets its level, and the
    parts' rules integrate the node density itself to their length in t."""
    features = (np.array([0.2431927615201379, -2.583353713649986, 2.583353713649986, 24.609050064024345,
                          22.02569635037436, 21.525501934409235, 24.10885564805922]),
                np.array([0.02887598048544481, 0.00157149582547482, 0.00157149582547482, 0.00141529721289334,
                          0.00017308029517484, 0.00141529721289334, 0.00017308029517484]),
                np.array([3.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]),
                np.array([0.00016463945387816]), np.array([0.0]))  # (a self-pair's component of weight 0: its rows)
    V, T_e, T_ph = 46.13455199843358, 2.686803232442002e-06, 0.10695892351042353
    quadrature = ehpjax.FrequencyQuadrature()

    @jax.jit
    def parts(starts, ends):
        def part(start, end):
            omega, w_k, _, mapped = quadrature.nodes(features, V, T_e, T_ph, (start, end))
            cdf, density, *_ = quadrature._mixture(features, V, T_e, T_ph)
            return cdf(omega), w_k @ density(omega)[0], mapped
        return jax.vmap(part)(starts, ends)

    start, end = 0.04345703125, 0.043701171875  # (ω from 5.6e-5 to 6.4e-4)
    edges = start + (end - start) * np.arange(9) / 8
    cdf, integral, mapped = (np.asarray(x) for x in parts(edges[:-1], edges[1:]))
    t = edges[:-1, None] + (np.arange(10)[:, None] / 10 + 0.5 / 10 * (1.0 + _NODES)).ravel()[None] * (end - start) / 8
    assert np.all(mapped)
    np.testing.assert_allclose(cdf, t, rtol=0, atol=1e-10)
    np.testing.assert_allclose(integral, np.diff(edges), rtol=1e-9)
