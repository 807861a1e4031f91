"""Fermi/Bose factors and the digamma machinery behind the exact energy integral."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy.special import expit, psi

import ehpjax  # noqa: F401  (float64)
from ehpjax._special import (
    arctan2_right, bose, digamma, digamma_dd, digamma_dd_taylor, fermi, log_normal, materialize, materialize_whole, near,
    polygammas, tan_inside, x_bose,
)

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


def test_digamma_against_scipy_and_its_derivative():
    rng = np.random.default_rng(0)
    z = rng.uniform(0.5, 40, 300) + 1j * rng.uniform(-2000, 2000, 300)
    np.testing.assert_allclose(np.asarray(digamma(z)), psi(z), rtol=1e-14)
    tri = jax.vmap(jax.grad(lambda x: digamma(x), holomorphic=True))(jnp.asarray(z[:20]))
    ref = np.array([complex(mp.psi(1, mp.mpc(x))) for x in z[:20]])
    np.testing.assert_allclose(np.asarray(tri), ref, rtol=1e-13)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3, 1e6])
def test_polygammas_against_mpmath(scale):
    rng = np.random.default_rng(2)
    z = 0.5 + rng.uniform(0, scale, 40) + 1j * rng.normal(0, scale, 40)
    got = polygammas(z)
    for m in range(5):
        ref = np.array([complex(mp.psi(m, mp.mpc(x))) for x in z])
        np.testing.assert_allclose(np.asarray(got[m]), ref, rtol=1e-12, err_msg=f"order {m}")


def test_arctan2_right_matches_numpy_everywhere():
    rng = np.random.default_rng(3)
    x = rng.uniform(1e-3, 20, 20000)
    y = rng.normal(size=20000) * 10 ** rng.uniform(-8, 8, 20000)
    y[:3] = [0.0, -0.0, np.inf]
    np.testing.assert_allclose(np.asarray(arctan2_right(y, x)), np.arctan2(y, x), rtol=4e-16, atol=0)
    dy, dx = jax.grad(arctan2_right, argnums=(0, 1))(0.7, 1.3)
    np.testing.assert_allclose([dy, dx], [1.3 / (1.3**2 + 0.49), -0.7 / (1.3**2 + 0.49)], rtol=1e-14)


def test_tan_inside_matches_mpmath_on_the_open_interval():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-np.pi / 2, np.pi / 2, 20000), [0.0, 1e-300, -1e-12, np.pi / 4, 1.5707963],
                        np.pi / 2 - np.geomspace(1e-12, 1.0, 200), -np.pi / 2 + np.geomspace(1e-12, 1.0, 200)])
    exact = np.array([float(mp.tan(mp.mpf(v))) for v in x])
    np.testing.assert_allclose(np.asarray(jax.jit(tan_inside)(x)), exact, rtol=5e-16, atol=0)


def test_log_normal_matches_numpy_over_every_binade():
    rng = np.random.default_rng(5)
    x = np.concatenate([10 ** rng.uniform(-307, 308, 100000), rng.uniform(0.5, 2.0, 100000),
                        1.0 + rng.normal(size=1000) * 1e-12, [1.0, 2.0, 0.5, np.sqrt(0.5), np.sqrt(2.0), 72.25]])
    np.testing.assert_allclose(np.asarray(jax.jit(log_normal)(x)), np.log(x), rtol=2.5e-16, atol=1e-300)
    np.testing.assert_allclose(jax.grad(log_normal)(3.0), 1 / 3.0, rtol=1e-15)


@pytest.mark.parametrize("fn", [materialize, materialize_whole], ids=["parts", "whole"])
def test_materialize_is_the_identity(fn):
    x = jnp.array([1.5 - 2j, 0.5 + 0j, 1e300 + 1e-300j, -3e-300 + 7j, -1e-200 - 1e200j])  # (XLA CPU flushes subnormals)
    assert np.array_equal(np.asarray(jax.jit(fn)(x)), np.asarray(x))
    dx = jnp.array([0.3 + 1j, -2.0, 1j, 5.0 - 1e-3j, 1e10 + 1j])
    value, tangent = jax.jvp(fn, (x,), (dx,))
    assert np.array_equal(np.asarray(value), np.asarray(x)) and np.array_equal(np.asarray(tangent), np.asarray(dx))
    def loss(f):
        return jax.grad(lambda y: jnp.sum(jnp.real(f(y) * (2 - 1j))))

    assert np.array_equal(np.asarray(loss(fn)(x)), np.asarray(loss(lambda y: y)(x)))  # the identity's gradient


@pytest.mark.parametrize("sep", [0.0, 1e-13, 1e-8, 1e-5, 3e-4, 1e-3, 3e-3, 0.3, 30.0])
def test_divided_difference_exact_and_fast_paths(sep):
    """The series digamma_dd, and what the pair integrals use: the quotient of ψ values
    or, for ``near`` pairs, the Taylor series about v."""
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
    h = u - v
    close = np.asarray(near(np.abs(h) ** 2, v))
    taylor = np.asarray(digamma_dd_taylor(h, polygammas(v)[1:]))
    quotient = np.asarray((digamma(u) - digamma(v)) / np.where(h == 0, 1, h))
    fast = np.where(close, taylor, quotient)
    np.testing.assert_allclose(fast, ref, rtol=1e-10)
    if sep <= 3e-4:
        assert close.all()
    if sep >= 3e-3:
        assert not close.any()
