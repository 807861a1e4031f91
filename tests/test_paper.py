"""The paper's qualitative claims (Figs. 3–6) as assertions on small grids, on the data of
``ehpjax.figures`` and on independent computations (the plots and tables: test_figures.py).

Claims checked (docs/physics.md §7): J(ΔT) ≠ −J(−ΔT) and R → 0 for very broad levels (flat DOS, where
the harmonic Landauer formula — computed here with SciPy — takes over); I is largest in
magnitude for μ between ε_R and ε_L; J < 0 in a window of negative bias whose edge moves from
V ≈ −0.5 to −1.5 to −3.0 as T = 0.1, 0.2, 0.3, and covers every negative V from T ≈ 0.4 on;
Eq. 9's eigenvalues coalesce at V_EP = √(δ² − c²)/a.
"""

import math

import jax
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize

import ehpjax
from ehpjax import figures

QUICK = figures.PaperSettings.quick()
MODES = ehpjax.Modes.single(1.0, 0.5)
QUAD = ehpjax.FrequencyQuadrature(warn=False)


BATCH = 24  # every direct evaluation below is padded to this size: one compiled program


@jax.jit
def _paper_currents(gamma, mu_L, mu_R, T_e, T_ph):
    def one(g, a, b, te, tph):
        junction = ehpjax.Junction.two_level(10.5, 9.5, g, g, 0.5)
        return ehpjax.currents(junction, MODES, ehpjax.Baths(a, b, te, tph), quadrature=QUAD)

    return jax.vmap(one)(gamma, mu_L, mu_R, T_e, T_ph)


def paper_currents(gamma, mu_L, mu_R, T_e, T_ph):
    """Currents of the paper's junction with γ_L = γ_R = gamma at up to BATCH points (the
    arguments broadcast; padded with the last point)."""
    args = np.broadcast_arrays(*(np.atleast_1d(np.asarray(a, dtype=float)) for a in (gamma, mu_L, mu_R, T_e, T_ph)))
    n = args[0].size
    assert n <= BATCH
    padded = [np.concatenate([a.ravel(), np.full(BATCH - n, a.ravel()[-1])]) for a in args]
    return jax.tree_util.tree_map(lambda x: np.asarray(x)[:n], _paper_currents(*padded))


@pytest.fixture(scope="module")
def paper():
    return figures.paper_data(QUICK)


@pytest.fixture(scope="module")
def thermal(paper):
    return paper["thermal"]


@pytest.fixture(scope="module")
def cooling(paper):
    return paper["cooling"]


@pytest.fixture(scope="module")
def ep(paper):
    return paper["exceptional_point"]


def test_separate_data_functions_agree(paper):
    """thermal_bias_data and cooling_data give what paper_data gives."""
    np.testing.assert_array_equal(figures.cooling_data(QUICK)["J"], paper["cooling"]["J"])
    np.testing.assert_array_equal(figures.thermal_bias_data(QUICK)["R"], paper["thermal"]["R"])


def test_fig3_4_data_against_direct_currents(thermal):
    """A few points of the figure data against a separate jit(vmap(currents)) of the junction."""
    points = [(0, 0), (len(QUICK.mu) - 1, 2), (1, QUICK.delta_T[2] - 1)]
    mu = [thermal["mu"][i] for i, _ in points]
    T_e = [thermal["T_e"][i, k] for i, k in points]
    T_ph = [thermal["T_ph"][i, k] for i, k in points]
    ref = paper_currents(0.5, mu, mu, T_e, T_ph)
    for n, (i, k) in enumerate(points):
        assert thermal["J"][i, k] == pytest.approx(float(ref.J[n]), rel=1e-12, abs=1e-16)
        assert thermal["I"][i, k] == pytest.approx(float(ref.I[n]), rel=1e-12, abs=1e-16)


def bose(w, T):
    return 1.0 / math.expm1(w / T)


def harmonic_landauer_J(trace, T_e, T_ph, omega=1.0, eta=0.5):
    """Flat-DOS limit (paper Sec. III A): Λ(ω) = ω tr[M A M A]/2π, so J is the Landauer formula
    of two harmonic baths, J = ∫ dω/2π ω Λ(ω) A_ph(ω) [n_B(ω; T_e) − n_B(ω; T_ph)]."""

    def integrand(w):
        a_ph = 2 * w * eta / ((w**2 - omega**2) ** 2 + (w * eta) ** 2)
        return w * (w * trace / (2 * np.pi)) * a_ph * (bose(w, T_e) - bose(w, T_ph)) / (2 * np.pi)

    return scipy.integrate.quad(integrand, 0, 60 * max(T_e, T_ph), points=[omega], epsabs=0, epsrel=1e-11,
                                limit=200)[0]


# ---------------------------------------------------------------------------- Fig. 3


def test_fig3_data_symmetries(thermal):
    J, R, dT = thermal["J"], thermal["R"], thermal["delta_T"]
    assert J.shape == R.shape == (len(QUICK.mu), QUICK.delta_T[2])
    zero = np.argmin(np.abs(dT))
    assert np.max(np.abs(J[:, zero])) < 1e-12  # T_e = T_ph, V = 0: equilibrium
    # Second law at V = 0: σ = J (1/T_ph − 1/T_e) ≥ 0, so heat flows from the hotter bath.
    assert np.all(np.sign(J[:, dT != 0]) == np.sign(dT[dT != 0]))
    np.testing.assert_allclose(R, -R[:, ::-1], atol=1e-14)
    assert np.all(np.abs(R) <= 1)
    # μ ↔ 20 − μ (particle–hole transformation + L ↔ R exchange maps the model onto itself).
    mu = list(thermal["mu"])
    for lo, hi in ((9.0, 11.0),):
        i, j = mu.index(lo), mu.index(hi)
        np.testing.assert_allclose(J[i], J[j], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(thermal["I"][i], thermal["I"][j], rtol=1e-9, atol=1e-15)


def test_heat_transport_is_nonreciprocal_and_becomes_reciprocal_for_flat_dos():
    gammas = np.array([0.5, 8.0, 128.0])
    dT, T0, mu = 0.6, 0.5, 10.0
    g = np.repeat(gammas, 2)
    sign = np.tile([1.0, -1.0], len(gammas))
    res = paper_currents(g, np.full(g.shape, mu), np.full(g.shape, mu), T0 + sign * dT / 2, T0 - sign * dT / 2)
    J = np.asarray(res.J).reshape(len(gammas), 2)
    forward, backward = J[:, 0], J[:, 1]
    R = np.asarray(figures.rectification_ratio(forward, backward))
    # Narrow levels (the paper's model): strongly non-reciprocal.
    assert abs(forward[0] + backward[0]) > 0.2 * abs(forward[0])
    assert abs(R[0]) > 0.3
    # Broad levels: R → 0 monotonically (|R| ∝ Γ⁻² here).
    assert np.all(np.diff(np.abs(R)) < 0)
    assert abs(R[-1]) < 2e-3
    # ... and J tends to the harmonic Landauer formula with the DOS at the Fermi level (SciPy).
    G = gammas[-1]
    a_left = G / ((mu - 10.5) ** 2 + G**2 / 4)  # A_L = a_left |1⟩⟨1|, A_R = a_right |2⟩⟨2|
    a_right = G / ((mu - 9.5) ** 2 + G**2 / 4)
    trace = 2 * 0.5**2 * a_left * a_right  # tr[M A M A] with M = m σx
    for k, s in enumerate((1.0, -1.0)):
        ref = harmonic_landauer_J(trace, T0 + s * dT / 2, T0 - s * dT / 2)
        assert abs(J[-1, k] - ref) < 2e-3 * abs(ref)


# ---------------------------------------------------------------------------- Fig. 4


def test_thermoelectric_current_largest_between_the_levels():
    mus = np.array([8.5, 9.0, 9.5, 9.75, 10.0, 10.25, 10.5, 11.0, 11.5])
    dT, T0 = 0.4, 0.5
    mu = np.concatenate([mus, mus])
    sign = np.repeat([1.0, -1.0], len(mus))
    res = paper_currents(np.full(mu.shape, 0.5), mu, mu, T0 + sign * dT / 2, T0 - sign * dT / 2)
    I = np.asarray(res.I).reshape(2, len(mus))
    for row in I:
        best = mus[np.argmax(np.abs(row))]
        assert 9.5 < best < 10.5  # ε_R < μ < ε_L
        assert np.abs(row[mus == 10.0]) > 1.05 * np.max(np.abs(row[(mus <= 9.5) | (mus >= 10.5)]))
    # Hot electrons (ΔT > 0) emit into the mode through the resonant L(10.5) → R(9.5) transition:
    # electrons flow L → R. A hot phonon bath drives the reverse.
    assert np.all(I[0] > 0) and np.all(I[1] < 0)
    assert np.all(np.asarray(res.entropy_production) >= -1e-15)


# ---------------------------------------------------------------------------- Fig. 5


def J_of_bias(V, T):
    """J at μ_L,R = 10 ± V/2, T_e = T_ph = T (arrays of up to BATCH biases)."""
    V = np.asarray(V, dtype=float)
    return paper_currents(0.5, 10.0 + V / 2, 10.0 - V / 2, T, T).J.reshape(V.shape)


def test_cooling_window_widens_with_temperature():
    expected = {0.1: -0.5, 0.2: -1.5, 0.3: -3.0}
    edges = []
    for T, near in expected.items():
        f = lambda V: float(J_of_bias(V, T))  # noqa: E731
        assert f(-0.05) < 0 and f(near + 0.3) < 0  # cooling just below V = 0 and inside the window
        assert f(near - 0.3) > 0  # heating again beyond the edge
        edge = scipy.optimize.brentq(f, near - 0.3, near + 0.3, xtol=1e-8)
        assert abs(edge - near) < 0.1
        edges.append(edge)
    assert np.all(np.diff(edges) < 0)  # the window widens as T grows
    # From T ≈ 0.4 on: cooling at every negative bias.
    V = np.linspace(-6.0, -0.05, BATCH)
    assert np.all(J_of_bias(V, 0.4) < 0)


def test_fig5_data_and_window_edges(cooling):
    J, V = cooling["J"], cooling["V"]
    assert J.shape == (len(QUICK.temperatures), QUICK.bias[2])
    np.testing.assert_allclose(cooling["J_channels"].sum(-1), J, rtol=1e-12, atol=1e-16)
    assert np.all(J[:, V > 0] > 0)  # forward bias heats the mode (paper Fig. 2a)
    expected = {0.1: -0.5, 0.2: -1.5, 0.3: -3.0}
    for T, edge in zip(cooling["T"], cooling["window_edges"]):
        assert abs(edge - expected[float(T)]) < 0.15  # coarse grid, linear interpolation


def test_cooling_window_edges_helper():
    V = np.linspace(-2, 1, 31)
    J = np.stack([V * (V + 1.234), V, -np.ones_like(V), np.ones_like(V)])  # edge at −1.234; none; open; no window
    edges = figures.cooling_window_edges(V, J)
    assert abs(edges[0] + 1.234) < 0.01
    assert np.isnan(edges[1]) and np.isnan(edges[2]) and np.isnan(edges[3])


# ---------------------------------------------------------------------------- Fig. 6


def test_fig6_data(ep):
    assert ep["frequencies"].shape == (QUICK.ep_bias[2], 2)
    assert abs(ep["V_ep_lossless"] - math.sqrt(0.04**2 - 0.02**2) / 0.05) < 1e-14
    assert abs(ep["V_closest"] - ep["V_ep_lossless"]) < 1e-5
    assert ep["overlap_closest"] > 0.998
    assert np.argmax(ep["overlap"]) == np.argmin(np.abs(ep["V"] - ep["V_ep_lossless"]))
    # Before the EP the real parts split and the imaginary parts agree; after it, the reverse.
    f = ep["frequencies"]
    before, after = ep["V"] < 0.6, ep["V"] > 0.8
    assert np.all(np.abs(f[before, 0].imag - f[before, 1].imag) < 1e-4)
    assert np.all(np.abs(f[after, 0].real - f[after, 1].real) < 1e-3)
    assert np.all(np.abs(f[after, 0].imag - f[after, 1].imag) > 1e-2)
