"""Exceptional points of two modes (docs/physics.md §6, paper Eq. 9): closed forms against NumPy/SciPy,
the EP finders against hand-derived solutions, and the microscopic origin of Eq. 9's ±V·a
entries against the flat-DOS trace formula evaluated independently with NumPy."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

import ehpjax

FIG6 = dict(Omega=1.0, delta=0.04, gamma=0.001, a=0.05, b=0.0, c=0.02)
V_EP = math.sqrt(0.04**2 - 0.02**2) / 0.05  # docs/physics.md §6: ≈ 0.6928


def eq9_numpy(V, Omega, delta, gamma, a, b, c):
    """Eq. 9 written out again in NumPy."""
    k12 = V * (a + 1j * b * Omega) + 1j * c * Omega
    k21 = -V * (a + 1j * b * Omega) + 1j * c * Omega
    return np.array([[(Omega + delta / 2 + 1j * gamma) ** 2, k12], [k21, (Omega - delta / 2 + 1j * gamma) ** 2]])


def numpy_frequencies(K):
    """Square roots (Re ≥ 0) of the eigenvalues of K, from numpy.linalg.eigvals."""
    return np.sqrt(np.linalg.eigvals(K).astype(complex))


def matched(a, b):
    """Distance between two unordered pairs."""
    return min(np.max(np.abs(a - b)), np.max(np.abs(a - b[::-1])))


def numpy_gap(V, params):
    f = numpy_frequencies(eq9_numpy(V, **params))
    return abs(f[0] - f[1])


def scipy_closest_approach(params, lo=0.5, hi=0.9):
    res = scipy.optimize.minimize_scalar(lambda v: numpy_gap(v, params), bounds=(lo, hi), method="bounded",
                                         options={"xatol": 1e-12})
    return res.x


def eq9_fn(V, p):
    return ehpjax.exceptional_point_matrix(V, **p)


# ---------------------------------------------------------------------------- closed forms


def test_matrix_is_eq9():
    for V in (0.0, 0.3, 1.7):
        np.testing.assert_allclose(np.asarray(ehpjax.exceptional_point_matrix(V, **FIG6)), eq9_numpy(V, **FIG6),
                                   rtol=1e-15, atol=1e-15)
    stack = ehpjax.exceptional_point_matrix(jnp.linspace(0, 1, 5), **FIG6)
    assert stack.shape == (5, 2, 2)


@pytest.mark.parametrize("seed", range(4))
def test_frequencies_eigenvectors_rigidity_against_numpy(seed):
    rng = np.random.default_rng(seed)
    K = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)) + 4 * np.eye(2)
    freq = np.asarray(ehpjax.mode_frequencies(K))
    assert np.all(freq.real >= 0)
    assert matched(freq, numpy_frequencies(K)) < 1e-12
    disc = np.asarray(ehpjax.discriminant(K))
    lam = np.linalg.eigvals(K)
    assert abs(4 * disc - (lam[0] - lam[1]) ** 2) < 1e-12
    # Right eigenvectors: K v = ω² v, unit norm, ordered as the frequencies.
    vec = np.asarray(ehpjax.mode_eigenvectors(K))
    for k in range(2):
        np.testing.assert_allclose(K @ vec[:, k], freq[k] ** 2 * vec[:, k], atol=1e-12)
        assert abs(np.linalg.norm(vec[:, k]) - 1) < 1e-12
    # Overlap and phase rigidity against scipy's left/right eigenvectors.
    w, left, right = scipy.linalg.eig(K, left=True, right=True)
    right = right / np.linalg.norm(right, axis=0)
    left = left / np.linalg.norm(left, axis=0)
    overlap = abs(np.vdot(right[:, 0], right[:, 1]))
    assert abs(float(ehpjax.eigenvector_overlap(K)) - overlap) < 1e-12
    order = [int(np.argmin(np.abs(w - f**2))) for f in freq]
    rigidity = [abs(np.vdot(left[:, j], right[:, j])) for j in order]
    np.testing.assert_allclose(np.asarray(ehpjax.phase_rigidity(K)), rigidity, atol=1e-12)


def test_degenerate_off_diagonal_does_not_break_eigenvectors():
    """A diagonal matrix (B = C = 0) has eigenvectors e1, e2: overlap 0, rigidity 1."""
    K = np.diag([1.2 + 0.01j, 0.9 + 0.02j])
    vec = np.asarray(ehpjax.mode_eigenvectors(K))
    np.testing.assert_allclose(np.abs(vec), np.eye(2), atol=1e-15)
    assert float(ehpjax.eigenvector_overlap(K)) < 1e-15
    np.testing.assert_allclose(np.asarray(ehpjax.phase_rigidity(K)), [1.0, 1.0], atol=1e-15)


def test_branches_continuous_and_labelled_along_fig6_sweep():
    """Im disc = 2δ²Ωγ > 0: the ± labels never jump; '+' is the upper mode Ω + δ/2 at V = 0."""
    V = np.linspace(0.0, 1.4, 1401)
    freq = np.asarray(ehpjax.mode_frequencies(ehpjax.exceptional_point_matrix(V, **FIG6)))
    at_zero = numpy_frequencies(eq9_numpy(0.0, **FIG6))
    assert abs(freq[0, 0] - at_zero[np.argmax(at_zero.real)]) < 1e-12
    assert freq[0, 0].real > freq[0, 1].real
    steps = np.max(np.abs(np.diff(freq, axis=0)))
    assert steps < 2e-3  # the largest step is at the near-EP: |ω+ − ω−| changes by O(sqrt(ΔV)) there
    tracked, swapped = ehpjax.track_branches(freq[::-1])  # already continuous: nothing to swap
    assert not np.any(np.asarray(swapped))


def test_track_branches_repairs_swapped_labels():
    V = np.linspace(0.0, 1.0, 101)
    freq = np.asarray(ehpjax.mode_frequencies(ehpjax.exceptional_point_matrix(V, **FIG6)))
    scrambled = freq.copy()
    scrambled[40:60] = scrambled[40:60, ::-1]
    tracked, swapped = ehpjax.track_branches(scrambled)
    np.testing.assert_allclose(np.asarray(tracked), freq)
    assert int(np.sum(np.asarray(swapped))) == 20


def test_frequency_gradient_matches_finite_differences():
    def re_upper(V):
        return jnp.real(ehpjax.mode_frequencies(ehpjax.exceptional_point_matrix(V, **FIG6))[0])

    for V in (0.3, 1.0):
        h = 1e-6
        fd = (np.sort(numpy_frequencies(eq9_numpy(V + h, **FIG6)).real)[-1]
              - np.sort(numpy_frequencies(eq9_numpy(V - h, **FIG6)).real)[-1]) / (2 * h)
        assert abs(float(jax.grad(re_upper)(V)) - fd) < 1e-6


# ---------------------------------------------------------------------------- EP finders


def test_lossless_ep_value():
    assert abs(float(ehpjax.lossless_exceptional_bias(1.0, 0.04, 0.05, 0.02)) - 0.6928203230275509) < 1e-15


def test_closest_approach_fig6_matches_scipy():
    V, gap = ehpjax.closest_approach(eq9_fn, 0.0, 1.5, FIG6)
    ref = scipy_closest_approach(FIG6)
    assert abs(float(V) - ref) < 1e-7
    assert abs(float(gap) - numpy_gap(ref, FIG6)) < 1e-9


@pytest.mark.parametrize("gamma", [1e-3, 1e-4, 1e-6, 0.0])
def test_coalescence_as_gamma_vanishes(gamma):
    """γ → 0: the closest approach tends to V_EP = √(δ² − c²)/a, the gap to 0, the overlap to 1."""
    params = dict(FIG6, gamma=gamma)
    V, gap = ehpjax.closest_approach(eq9_fn, 0.0, 1.5, params)
    K = eq9_numpy(float(V), **params)
    freq = numpy_frequencies(K)
    w, vecs = np.linalg.eig(K)
    vecs = vecs / np.linalg.norm(vecs, axis=0)
    overlap = abs(np.vdot(vecs[:, 0], vecs[:, 1]))
    assert abs(float(V) - V_EP) < 2e-6 + 1e-3 * gamma
    assert abs(freq[0] - freq[1]) < 2.0 * math.sqrt(gamma * 0.04**2) + 1e-7  # |ω+ − ω−| ≈ √|disc|/Ω
    assert overlap > 1 - 1.1 * gamma - 1e-6
    assert abs(float(ehpjax.eigenvector_overlap(K)) - overlap) < 1e-6


def test_closest_approach_is_differentiable():
    """dV*/da by implicit differentiation against central differences of the SciPy minimiser."""
    grad = float(jax.grad(lambda a: ehpjax.closest_approach(eq9_fn, 0.0, 1.5, dict(FIG6, a=a))[0])(0.05))
    h = 1e-5
    fd = (scipy_closest_approach(dict(FIG6, a=0.05 + h)) - scipy_closest_approach(dict(FIG6, a=0.05 - h))) / (2 * h)
    assert abs(grad - fd) < 1e-4 * abs(fd)
    assert abs(grad + V_EP / 0.05) < 1e-3 * V_EP / 0.05  # γ → 0: V_EP ∝ 1/a


def test_exact_ep_at_finite_gamma_tuning_V_and_c():
    """With b ≠ 0: Im disc = 2Ω(δ²γ − V²ab) = 0 and Re disc = δ²(Ω² − γ²) − c²Ω² − V²(a² − b²Ω²) = 0."""
    p = dict(FIG6, b=7e-5, V=0.7)
    solved, residual = ehpjax.solve_exceptional_point(p, ("V", "c"))
    O, d, g, a, b = p["Omega"], p["delta"], p["gamma"], p["a"], p["b"]
    V = math.sqrt(d**2 * g / (a * b))
    c = math.sqrt(d**2 * (O**2 - g**2) - V**2 * (a**2 - b**2 * O**2)) / O
    assert abs(float(solved["V"]) - V) < 1e-10
    assert abs(float(solved["c"]) - c) < 1e-10
    assert float(residual) < 1e-10
    K = eq9_numpy(**{k: float(v) for k, v in solved.items()})
    lam = np.linalg.eigvals(K)
    assert abs(lam[0] - lam[1]) < 1e-6  # ≈ 2√|disc|, limited by the eigensolver at a defective matrix
    assert float(ehpjax.eigenvector_overlap(K)) > 1 - 1e-6


def test_exact_ep_tuning_V_and_b_and_gradient():
    """Unknowns (V, b) at fixed c: u = V² solves a²u² − S u − (δ²γΩ/a)² = 0, S = δ²(Ω² − γ²) − c²Ω²."""
    p = dict(FIG6, V=0.7)
    solved, residual = ehpjax.solve_exceptional_point(p, ("V", "b"))
    O, d, g, a, c = p["Omega"], p["delta"], p["gamma"], p["a"], p["c"]

    def closed_form(g):
        S = d**2 * (O**2 - g**2) - c**2 * O**2
        u = (S + math.sqrt(S**2 + 4 * a**2 * (d**2 * g * O / a) ** 2)) / (2 * a**2)
        return math.sqrt(u), d**2 * g / (a * u)

    V, b = closed_form(g)
    assert abs(float(solved["V"]) - V) < 1e-10
    assert abs(float(solved["b"]) - b) < 1e-12
    assert float(residual) < 1e-10
    # Implicit gradient of the solution with respect to a fixed parameter.
    grad = jax.grad(lambda gamma: ehpjax.solve_exceptional_point(dict(p, gamma=gamma), ("V", "b"))[0]["b"])(g)
    h = 1e-7
    fd = (closed_form(g + h)[1] - closed_form(g - h)[1]) / (2 * h)
    assert abs(float(grad) - fd) < 1e-6 * abs(fd)


def test_b_zero_cannot_give_exact_ep_at_finite_gamma():
    with pytest.raises(ValueError, match="b = 0"):
        ehpjax.solve_exceptional_point(dict(FIG6, V=0.7), ("V", "c"))


def test_find_exceptional_point_generic_and_bad_shape():
    def matrix(y, fixed):
        return ehpjax.exceptional_point_matrix(y[0], fixed["Omega"], y[1], fixed["gamma"], fixed["a"], fixed["b"],
                                               fixed["c"])

    # Unknowns (V, δ) at γ = 1e-3, b = 1e-4: Im disc = 2Ω(δ²γ − V²ab) = 0 fixes δ/V.
    fixed = dict(Omega=1.0, gamma=1e-3, a=0.05, b=1e-4, c=0.02)
    sol = ehpjax.find_exceptional_point(matrix, jnp.array([0.6, 0.04]), fixed)
    assert abs(complex(sol.discriminant)) < 1e-10
    y = np.asarray(sol.y)
    assert abs(y[0] ** 2 * 0.05 * 1e-4 - y[1] ** 2 * 1e-3) < 1e-12  # Im disc = 0 by hand
    with pytest.raises(ValueError, match="shape"):
        ehpjax.find_exceptional_point(matrix, jnp.zeros(3), fixed)


# ---------------------------------------------------------------------------- microscopic origin


def two_mode_junction(G, spin=2.0):
    """Two levels (L on level 1, R on level 2) with a hopping, two modes M¹ = m σz, M² = m σx.
    All energies scale with the broadening G: G → ∞ at fixed ratios is the flat-DOS limit with
    a fixed trace tr[M¹A_L M²A_R]."""
    H = np.array([[-G / 4, G / 2], [G / 2, G / 4]])
    gL, gR = np.diag([G, 0.0]), np.diag([0.0, G])
    M = G / 4 * np.array([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    return (H, gL, gR, M), ehpjax.Junction(H, gL, gR, M, spin_degeneracy=spin)


def flat_dos_trace(H, gL, gR, M, energy):
    """t = tr[M¹ A_L M² A_R] at one energy, NumPy."""
    g = np.linalg.inv(energy * np.eye(len(H)) - H + 0.5j * (gL + gR))
    a_left, a_right = g @ gL @ g.conj().T, g @ gR @ g.conj().T
    return np.trace(M[0] @ a_left @ M[1] @ a_right)


def test_flat_dos_coefficient_is_the_trace_formula():
    arrays, junction = two_mode_junction(4.0)
    t = flat_dos_trace(*arrays, 0.0)
    a = np.asarray(ehpjax.nonconservative_coefficient(junction, 0.0))
    assert abs(t.imag) > 0.1  # the model has a non-conservative force at all
    # docs/physics.md §6: the bias part of −iΓ_e/2 is −(g_s V/2π) Im t (m = 1, n = 2), real antisymmetric.
    np.testing.assert_allclose(a, -(2.0 / (2 * np.pi)) * t.imag * np.array([[0, 1], [-1, 0]]), atol=1e-14)
    # With g_s = 2 its magnitude is the paper's a = Im tr[M¹A_L M²A_R]/π.
    assert abs(abs(a[0, 1]) - abs(t.imag) / np.pi) < 1e-14


def test_nonconservative_self_energy_approaches_flat_dos_limit():
    """The exact (energy-dependent) bias-driven real antisymmetric part of Π^r_e from the EHP
    baths tends to V·a as the levels broaden; zero without bias."""
    errors = []
    for G in (4.0, 20.0, 80.0):
        arrays, junction = two_mode_junction(G)
        a_flat = -(1 / np.pi) * flat_dos_trace(*arrays, 0.0).imag
        for V in (0.3, 1.0):
            nc = np.asarray(ehpjax.nonconservative_coupling(junction, ehpjax.Baths.biased(V, 0.0, 0.1, 0.1), 1.0))
            np.testing.assert_allclose(nc, -nc.T, atol=1e-15)
            errors.append(abs(nc[0, 1] / V - a_flat) / abs(a_flat))
        zero = ehpjax.nonconservative_coupling(junction, ehpjax.Baths.biased(0.0, 0.0, 0.1, 0.1), 1.0)
        assert np.max(np.abs(np.asarray(zero))) < 1e-15
    errors = np.array(errors).reshape(3, 2)
    assert np.all(np.diff(errors, axis=0) < 0)  # converges as the DOS flattens
    assert np.max(errors[-1]) < 1e-3


def test_single_mode_paper_junction_has_no_nonconservative_force():
    junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)
    nc = ehpjax.nonconservative_coupling(junction, ehpjax.Baths.biased(1.0, 10.0, 0.2, 0.2), jnp.array([0.5, 1.0]))
    assert nc.shape == (2, 1, 1)
    assert np.max(np.abs(np.asarray(nc))) == 0.0


def test_microscopic_ep_matches_effective_matrix_ep():
    """Eq. 9 built from the microscopic coefficient: K(V) = diag((Ω ± δ/2)²) + icΩσx + Π_nc(V),
    with Π_nc the exact bias-driven antisymmetric e-bath self-energy at ω = Ω (γ → 0). Its EP must
    sit where the flat-DOS coefficient predicts, V_EP = Ω√(δ² − c²)/|a|."""
    arrays, junction = two_mode_junction(80.0)
    a_flat = abs(flat_dos_trace(*arrays, 0.0).imag) / np.pi
    Omega, delta, c = 1.0, 0.04, 0.02
    predicted = Omega * math.sqrt(delta**2 - c**2) / a_flat

    def matrix(V, junction):
        background = ehpjax.exceptional_point_matrix(0.0, Omega, delta, 0.0, 0.0, 0.0, c)
        nc = ehpjax.nonconservative_coupling(junction, ehpjax.Baths.biased(V, 0.0, 0.1, 0.1), Omega)
        return background + nc

    V, gap = jax.jit(lambda junction: ehpjax.closest_approach(matrix, 0.2, 1.2, junction, num=33))(junction)
    assert abs(float(V) - predicted) < 1e-3 * predicted
    assert float(gap) < 1e-6
    assert float(ehpjax.eigenvector_overlap(matrix(V, junction))) > 1 - 1e-4
    # The effective matrix with the flat-DOS a has its (lossless) EP at the same place.
    V_eq9, _ = ehpjax.closest_approach(eq9_fn, 0.2, 1.2, dict(Omega=Omega, delta=delta, gamma=0.0, a=a_flat, b=0.0,
                                                               c=c))
    assert abs(float(V_eq9) - predicted) < 1e-8
