"""Fermi/Bose factors and the digamma machinery behind the exact energy integral."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy.special import expit, psi

import ehpjax  # noqa: F401  (float64)
from ehpjax._special import bose, digamma, digamma_dd, digamma_dd_from_values, digamma_trigamma, fermi, x_bose

mp.mp.dps = 40


def test_fermi_matches_logistic_for_extreme_arguments():
    x = np.array([-1e4, -700.0, -30.0, -1.0, 0.0, 1.0, 30.0, 700.0, 1e4])
    np.testing.assert_allclose(np.asarray(fermi(x, 0.0, 1.0)), expit(-x), rtol=1e-14, atol=1e-300)
    grad = jax.grad(lambda t: fermi(3.0, 0.0, t))(1e-3)
    assert np.isfinite(grad)


def test_bose_signs_limits_and_gradients():
    assert np.asarray(bose(1e4, 1.0)) == 0.0
    np.testing.assert_allclose(np.asarray(bose(-1e4, 1.0)), -1.0)
    np.testing.assert_allclose(np.asarray(bose(0.3, 0.7)), 1 / np.expm1(0.3 / 0.7), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(x_bose(jnp.array([0.0, 1e-10, 1.0]))), [1.0, 1 - 5e-11, 1 / np.expm1(1.0)])
    assert np.isfinite(jax.grad(x_bose)(0.0))


def test_digamma_against_scipy():
    rng = np.random.default_rng(0)
    z = rng.uniform(0.5, 40, 300) + 1j * rng.uniform(-2000, 2000, 300)
    np.testing.assert_allclose(np.asarray(digamma(z)), psi(z), rtol=1e-14)
    tri = np.asarray(digamma_trigamma(z[:20])[1])
    ref = np.array([complex(mp.psi(1, mp.mpc(x))) for x in z[:20]])
    np.testing.assert_allclose(tri, ref, rtol=1e-13)


@pytest.mark.parametrize("sep", [0.0, 1e-13, 1e-8, 1e-5, 3e-5, 1e-3, 0.3, 30.0])
def test_divided_difference_exact_and_fast_paths(sep):
    rng = np.random.default_rng(1)
    u = rng.uniform(0.5, 5, 25) + 1j * rng.uniform(-50, 50, 25)
    v = u + sep * (1 + np.abs(u)) * np.exp(1j * rng.uniform(0, 2 * np.pi, 25))
    v = np.abs(v.real) + 0.5 + 1j * v.imag if sep > 1 else v  # stay in Re > 0
    ref = np.array(
        [
            complex(mp.psi(1, mp.mpc(a)))
            if a == b
            else complex((mp.digamma(mp.mpc(a)) - mp.digamma(mp.mpc(b))) / (mp.mpc(a) - mp.mpc(b)))
            for a, b in zip(u, v)
        ]
    )
    np.testing.assert_allclose(np.asarray(digamma_dd(u, v)), ref, rtol=1e-13)
    (pu, tu), (pv, tv) = digamma_trigamma(u), digamma_trigamma(v)
    np.testing.assert_allclose(np.asarray(digamma_dd_from_values(u, v, pu, pv, tu, tv)), ref, rtol=1e-9)
