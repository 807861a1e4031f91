"""Boson Green's function, spectral function and resonances (docs/physics.md §3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ehpjax
import reference
from conftest import assert_hessian_matches_central_differences, random_arrays


def test_boson_green_and_spectral_match_reference():
    K, eta = random_arrays(5, 2, 3)[4:]
    modes = ehpjax.Modes(K, eta)
    omega = np.array([0.1, 0.9, 1.7])
    d = np.asarray(ehpjax.boson_green(modes, omega))
    a = np.asarray(ehpjax.boson_spectral(modes, omega))
    for i, w in enumerate(omega):
        np.testing.assert_allclose(d[i], reference.phonon_green_retarded(K, eta, w), rtol=1e-12)
        np.testing.assert_allclose(a[i], reference.phonon_spectral(K, eta, w), rtol=1e-12, atol=1e-14)
    # Ohmic bath: A_ph = i(D^r − D^a)
    np.testing.assert_allclose(a, 1j * (d - np.conj(np.swapaxes(d, -1, -2))), atol=1e-12)


def test_single_mode_pole_closed_form():
    omega, gamma = 1.3, 0.2
    pole = complex(ehpjax.mode_poles(ehpjax.Modes.single(omega, gamma))[0])
    np.testing.assert_allclose(pole, np.sqrt(omega**2 - gamma**2 / 4) - 0.5j * gamma, rtol=1e-12)


def _golden_rule_closed_form(arrays, mu_L, mu_R, T_e, T_ph):
    """J, I of a sharp single mode: Σ_αβ ½ Λ^αβ(Ω)[n_B(Ω − μ_αβ; T_e) − n_B(Ω; T_ph)] (and ÷Ω for I),
    from the scipy golden-rule rates (Λ n_B = emission, Λ = absorption − emission)."""
    H, gL, gR, M, K, _ = arrays
    omega = float(np.sqrt(K[0, 0]))
    J = I = 0.0
    for channel in reference.CHANNELS:
        emission, absorption = reference.golden_rule_rates_ref(H, gL, gR, M, mu_L, mu_R, T_e, omega, channel)
        flux = (emission[0, 0] - reference.bose(omega, T_ph) * (absorption - emission)[0, 0]).real / 2
        J += flux
        I += {"LR": 1, "RL": -1}.get(channel, 0) * flux / omega
    return J, I


def test_vanishing_friction_is_the_sharp_line_limit():
    """γ_ph = 0 (η = 0) gives the golden-rule value of a sharp line, never NaN; small γ_ph approach it
    linearly; several modes (the normal modes of K) are taken at once."""
    arrays = (np.diag([10.5, 9.5]), np.diag([0.5, 0.0]), np.diag([0.0, 0.5]), 0.5 * np.array([[[0, 1.0], [1, 0]]]),
              np.array([[1.0]]), np.array([[0.0]]))
    junction = ehpjax.Junction(*arrays[:4])
    baths = ehpjax.Baths(9.65, 10.35, 0.3, 0.2)
    fine = ehpjax.FrequencyQuadrature(panels=40, warn=False)
    single = jax.jit(lambda w, g: ehpjax.currents(junction, ehpjax.Modes.single(w, g), baths, quadrature=fine))
    sharp = single(1.0, 0.0)
    J, I = _golden_rule_closed_form(arrays, 9.65, 10.35, 0.3, 0.2)
    np.testing.assert_allclose([float(sharp.J), float(sharp.I)], [J, I], rtol=1e-9)
    gaps = [abs(float(single(1.0, g).J) - J) / abs(J) for g in (1e-3, 1e-4)]
    assert gaps[1] < 2e-3 and 5 < gaps[0] / gaps[1] < 20, gaps  # O(γ_ph)
    # Two coupled modes: the limit does not depend on the direction in which η → 0.
    two = ehpjax.Junction(arrays[0], arrays[1], arrays[2], 0.4 * np.array([[[0, 1], [1, 0]], [[1, 0], [0, -1.0]]]))
    K = np.array([[1.0, 0.2], [0.2, 1.5]])
    pair = jax.jit(lambda eta: ehpjax.currents(two, ehpjax.Modes(K, eta), baths, quadrature=fine).J)
    limit = float(pair(0 * K))
    for eta in (np.eye(2), np.array([[1, 0.3], [0.3, 0.5]])):
        assert abs(float(pair(1e-4 * eta)) - limit) < 5e-4 * abs(limit)


def test_sharp_lines_of_four_coupled_modes():
    """η = 0 (traced, so that the sharp-line nodes are evaluated) gives Σ_k ½ u_kᵀ[emission −
    n_B(Ω_k; T_ph) Λ](Ω_k) u_k over the normal modes (Ω_k², u_k) of K (scipy golden-rule rates);
    a traced η ≠ 0 (sharp-line nodes evaluated, then unused) gives the value of a concrete one."""
    rng = np.random.default_rng(7)
    H, gL, gR = np.diag([10.4, 9.6]), np.diag([0.5, 0.0]), np.diag([0.0, 0.5])
    M = 0.3 * rng.normal(size=(4, 2, 2))
    M = M + np.swapaxes(M, 1, 2)
    A = rng.normal(size=(4, 4))
    K = A @ A.T / 8 + np.diag([0.5, 0.8, 1.1, 1.4])
    mu_L, mu_R, T_e, T_ph = 9.7, 10.3, 0.3, 0.2
    junction, baths = ehpjax.Junction(H, gL, gR, M), ehpjax.Baths(mu_L, mu_R, T_e, T_ph)
    fine = ehpjax.FrequencyQuadrature(panels=16, warn=False)
    traced = jax.jit(lambda eta: ehpjax.currents(junction, ehpjax.Modes(K, eta), baths, quadrature=fine))
    frequencies2, vectors = np.linalg.eigh(K)
    J = I = 0.0
    for omega, u in zip(np.sqrt(frequencies2), vectors.T):
        for channel in reference.CHANNELS:
            emission, absorption = reference.golden_rule_rates_ref(H, gL, gR, M, mu_L, mu_R, T_e, omega, channel)
            flux = (u @ (emission - reference.bose(omega, T_ph) * (absorption - emission)) @ u).real / 2
            J += flux
            I += {"LR": 1, "RL": -1}.get(channel, 0) * flux / omega
    sharp = traced(np.zeros((4, 4)))
    np.testing.assert_allclose([float(sharp.J), float(sharp.I)], [J, I], rtol=1e-9)
    eta = 0.2 * np.eye(4) + 0.05
    concrete = ehpjax.currents(junction, ehpjax.Modes(K, eta), baths, quadrature=fine)
    np.testing.assert_allclose(float(traced(eta).J), float(concrete.J), rtol=1e-12)


def test_an_undamped_normal_mode_among_damped_ones_is_refused():
    junction = ehpjax.Junction(np.diag([10.5, 9.5]), np.diag([0.5, 0]), np.diag([0, 0.5]),
                               0.4 * np.array([[[0, 1], [1, 0]], [[1, 0], [0, -1.0]]]))
    with pytest.raises(Exception, match="not damped by eta"):
        ehpjax.currents(junction, ehpjax.Modes(np.eye(2), np.diag([0.1, 0.0])),
                        ehpjax.Baths(10, 10, 0.1, 0.1)).J.block_until_ready()


def test_mode_poles_have_second_derivatives():
    """The poles' Hessian in (K, η) of two coupled modes is symmetric and equals central
    differences of their gradient (JAX's eig has no second derivative of eigenvalues alone)."""

    def poles(p):
        K = jnp.array([[p[0], p[2]], [p[2], p[1]]])
        eta = jnp.array([[p[3], 0.1], [0.1, p[4]]])
        omega = ehpjax.mode_poles(ehpjax.Modes(K, eta))
        return jnp.sum(jnp.real(omega) * jnp.array([1.0, 2.0])) + jnp.sum(jnp.imag(omega) ** 2)

    assert_hessian_matches_central_differences(poles, jnp.array([1.0, 2.2, 0.3, 0.4, 0.2]))


def test_an_overdamped_mode_gives_its_slow_pole():
    """η > 2Ω: both poles lie on the imaginary axis, and ``mode_poles`` gives the slow one,
    −i(η − √(η² − 4Ω²))/2, whichever rounding orders them (it gave the fast one at 3 of these 19)."""
    for omega in (0.05, 0.1, 0.13, 0.2, 0.3):
        for eta in (0.5, 0.85, 1.3, 2.0):
            if eta > 2 * omega:
                pole = complex(ehpjax.mode_poles(ehpjax.Modes.single(omega, eta))[0])
                slow = (eta - np.sqrt(eta**2 - 4 * omega**2)) / 2
                assert abs(pole.real) < 1e-12 and abs(pole.imag + slow) <= 1e-9 * slow, (omega, eta, pole)
