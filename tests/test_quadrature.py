"""The mapped Gauss–Kronrod rule of the frequency integral (``_quadrature.py``)."""

import functools

import jax
import numpy as np
import pytest

import ehpjax
from ehpjax._errors import EhpjaxError
from ehpjax._quadrature import _NODES, _running, kronrod_error


@functools.partial(jax.jit, static_argnums=0)
def nodes_and_mixture(quadrature, features, V, T_e, T_ph):
    """The rule's nodes and weights, and the mixture's CDF, density and ω_max at the nodes
    and the placement residual (one compiled program per rule and number of features, shared by
    the seeds)."""
    omega, w_k, w_g, residual = quadrature.nodes(features, V, T_e, T_ph)
    cdf, density, omega_max, _ = quadrature._mixture(features, V, T_e, T_ph)
    return omega, w_k, w_g, cdf(omega), density(omega)[0], omega_max, residual


kronrod_error_jit = jax.jit(kronrod_error)


def random_features(rng, count, narrowest):
    centres = rng.uniform(-1.0, 6.0, count)
    widths = 10 ** rng.uniform(np.log10(narrowest), 0.0, count)
    weights = rng.choice([1.0, 3.0], count)
    return centres, widths, weights


@pytest.mark.parametrize("seed", range(20))
def test_nodes_invert_the_mixture_cdf(seed):
    """Every node solves CDF(ω) = t for its level t (the map the weights assume), in order, and
    the rule reports how closely (the residual max |CDF(ω) − t| that ``kronrod_error`` uses)."""
    rng = np.random.default_rng(seed)
    features = random_features(rng, int(rng.integers(1, 9)), 1e-3)
    V, T_e, T_ph = rng.uniform(0, 3), 10 ** rng.uniform(-3, 0), 10 ** rng.uniform(-3, 0)
    quadrature = ehpjax.FrequencyQuadrature(panels=7)
    omega, w_k, w_g, cdf, density, omega_max, residual = (
        np.asarray(x) for x in nodes_and_mixture(quadrature, features, V, T_e, T_ph))
    half = 0.5 / 7
    t = (np.arange(7)[:, None] / 7 + half * (1.0 + _NODES)).ravel()
    np.testing.assert_allclose(cdf, t, rtol=0, atol=1e-11)
    worst = np.max(np.abs(cdf - t))  # reported as it is (the estimate adds its effect)
    assert abs(residual - worst) <= 1e-15, (residual, worst)
    assert np.all(np.diff(omega) > 0) and 0 < omega[0] and omega[-1] < float(omega_max)
    np.testing.assert_allclose(w_k, np.tile(half * ehpjax._quadrature._W_KRONROD, 7) / density, rtol=1e-14)


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
        rule = nodes_and_mixture(quadrature, (centres, widths, weights), V, T, T)
        omega, w_k, w_g, residual = (np.asarray(x) for x in (*rule[:3], rule[-1]))
        for f, value in ((sum(w / ((omega - c) ** 2 + w**2) for c, w in zip(centres, widths)), exact),
                         (omega * np.exp(-omega / T), exact_tail)):
            estimate = float(kronrod_error_jit(f, w_k, w_g, residual))
            error = abs(w_k @ f - value)
            assert error <= max(estimate, 1e-13 * value), (panels, error, estimate)
            if panels == 40:
                assert error <= 1e-7 * value


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


def test_the_estimate_covers_nodes_left_off_their_levels(monkeypatch):
    """Without the placement's steps (the Hermite start inside the brackets only), the nodes sit off
    the levels they stand for (residual up to ~1e-3) while their weights assume the levels: the Kronrod and
    Gauss sums err alike and their difference misses it. The estimate with the placement
    residual covers the true error at every seed; without it, it does not (so this test can fail)."""
    monkeypatch.setattr(ehpjax._quadrature, "_PLACEMENT_STEPS", 0)
    rule = jax.jit(lambda features, V, T: ehpjax.FrequencyQuadrature(panels=10).nodes(features, V, T, T))
    missed_without = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        centres, widths, weights = random_features(rng, 3, 1e-2)
        V, T = rng.uniform(0, 2), rng.uniform(0.05, 0.5)
        omega_max = V + ehpjax.FrequencyQuadrature().cutoff * T
        exact = sum(np.arctan((omega_max - c) / w) - np.arctan(-c / w) for c, w in zip(centres, widths))
        omega, w_k, w_g, residual = (np.asarray(x) for x in rule((centres, widths, weights), V, T))
        f = sum(w / ((omega - c) ** 2 + w**2) for c, w in zip(centres, widths))
        error = abs(w_k @ f - exact)
        assert error <= float(kronrod_error_jit(f, w_k, w_g, residual)), (seed, error, residual)
        missed_without += error > float(kronrod_error_jit(f, w_k, w_g))
    assert missed_without > 0


@pytest.mark.parametrize("length", [1, 2, 5, 8, 60, 151])
def test_running_maximum_and_minimum_equal_numpys(length):
    """The brackets' running extrema (log-step scans) against NumPy's accumulate, on int64 keys."""
    x = np.random.default_rng(length).integers(-2**62, 2**62, size=length)
    np.testing.assert_array_equal(_running(jax.numpy.maximum, x, -2**63), np.maximum.accumulate(x))
    np.testing.assert_array_equal(_running(jax.numpy.minimum, x, 2**63 - 1), np.minimum.accumulate(x))
