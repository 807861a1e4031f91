"""The retarded e-bath self-energy Π^r_e = Δ − iΓ_e/2 from the poles (docs/physics.md §9),
against an independent Kramers–Kronig transform (scipy's Cauchy weight) and its symmetries."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import PAPER, build, random_arrays
from scipy.integrate import quad

import ehpjax
from ehpjax._selfenergy import self_energy_complex as _self_energy_complex

PAPER_BATHS = ehpjax.Baths.biased(-1.0, 10.0, 0.3, 0.3)
RANDOM_BATHS = ehpjax.Baths(0.3, -0.4, 0.2, 0.5)

self_energy_complex = eqx.filter_jit(_self_energy_complex)  # one program (op by op it takes seconds)


@pytest.fixture(scope="module")
def models():
    p = PAPER
    paper = ehpjax.Junction.two_level(p["eps_L"], p["eps_R"], p["gamma_L"], p["gamma_R"], p["m"])
    random_junction, _ = build(random_arrays(3, 3, 2))
    return [(paper, PAPER_BATHS), (random_junction, RANDOM_BATHS)]


def hermitian_parts(pi):
    adj = np.conj(np.swapaxes(pi, -1, -2))
    return 0.5 * (pi + adj), 1j * (pi - adj)  # Δ, Γ_e


def test_imaginary_part_is_minus_half_lambda_per_channel(models):
    omega = jnp.array([-1.3, 0.0, 0.2, 0.7, 1.0, 2.5])
    for junction, baths in models:
        pi = np.asarray(ehpjax.self_energy(junction, baths, omega, channels=True))
        lam = np.asarray(ehpjax.ehp_dos(junction, baths, omega))
        _, gamma = hermitian_parts(pi)
        np.testing.assert_allclose(gamma, lam, atol=1e-13 * np.max(np.abs(lam)))
        np.testing.assert_allclose(np.sum(pi, axis=0), ehpjax.self_energy(junction, baths, omega), atol=1e-15)


def kramers_kronig(gamma_of, w0, span=40.0):
    """Δ(ω0) = −(1/2π) P∫ Γ_e(ω')/(ω' − ω0) dω' with scipy (Cauchy weight on [ω0 ± span], tails to ±∞)."""
    pv = quad(gamma_of, w0 - span, w0 + span, weight="cauchy", wvar=w0, limit=400, epsabs=1e-13)[0]
    tails = sum(quad(lambda x: gamma_of(x) / (x - w0), a, b, limit=400, epsabs=1e-14)[0]
                for a, b in ((w0 + span, np.inf), (-np.inf, w0 - span)))
    return -(pv + tails) / (2 * np.pi)


@pytest.mark.parametrize("index", [0, 1])
def test_real_part_is_the_kramers_kronig_transform(models, index):
    junction, baths = models[index]
    m, n = (0, 0) if index == 0 else (0, 1)
    gamma_jit = jax.jit(lambda w: ehpjax.ehp_dos(junction, baths, w).sum(0)[m, n])
    omegas = np.array([0.2, 1.0])
    delta, _ = hermitian_parts(np.asarray(ehpjax.self_energy(junction, baths, omegas)))
    for k, w0 in enumerate(omegas):
        for part in (np.real, np.imag) if m != n else (np.real,):
            ref = kramers_kronig(lambda x: float(part(gamma_jit(x))), float(w0))
            assert abs(part(delta[k, m, n]) - ref) <= 1e-8 * max(abs(ref), 1e-3), (w0, part, ref)


def test_causality_upper_half_plane_and_continuation(models):
    """Π^r is analytic in the upper half-plane: there it equals ∫ dω'/2π Γ_e(ω')/(ω − ω') (a regular
    integral, scipy); its continuation agrees with the real-axis formula on the axis."""
    junction, baths = models[0]
    gamma_jit = jax.jit(lambda w: ehpjax.ehp_dos(junction, baths, w).sum(0)[0, 0].real)
    w0 = 0.8 + 0.3j
    re = quad(lambda x: float(gamma_jit(x)) * (w0 - x).real / abs(w0 - x) ** 2, -np.inf, np.inf, limit=400)[0]
    im = quad(lambda x: -float(gamma_jit(x)) * (w0 - x).imag / abs(w0 - x) ** 2, -np.inf, np.inf, limit=400)[0]
    value = complex(self_energy_complex(junction, baths, jnp.array([w0]))[0, 0, 0])
    assert abs(value - (re + 1j * im) / (2 * np.pi)) < 1e-9
    for junction, baths in models:
        omega = jnp.array([-1.3, 0.0, 0.4, 1.0, 3.0])
        np.testing.assert_allclose(self_energy_complex(junction, baths, omega),
                                   ehpjax.self_energy(junction, baths, omega), atol=1e-13)


def test_reflection_symmetry_and_decay(models):
    junction, baths = models[0]  # one mode: Π^r(−ω) = Π^r(ω)*
    omega = jnp.array([0.1, 0.9, 1.0, 2.0, 7.0])
    plus = np.asarray(ehpjax.self_energy(junction, baths, omega))
    minus = np.asarray(ehpjax.self_energy(junction, baths, -omega))
    np.testing.assert_allclose(minus, np.conj(plus), atol=1e-15)
    far = np.abs(np.asarray(ehpjax.self_energy(junction, baths, jnp.array([100.0, 1000.0]))))
    assert far[1, 0, 0] < 0.02 * far[0, 0, 0]  # Γ_e ~ 1/ω², Δ ~ 1/ω² (odd Γ_e): Π^r → 0


def test_jit_vmap_grad():
    def re_pi(m, V):
        junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, m)
        return jnp.real(ehpjax.self_energy(junction, ehpjax.Baths.biased(V, 10.0, 0.3, 0.3), 1.0)[0, 0])

    values = jax.jit(jax.vmap(re_pi, (None, 0)))(0.5, jnp.array([-1.0, 0.0]))
    assert np.isclose(values[0], re_pi(0.5, -1.0), rtol=1e-13, atol=0)
    g = jax.jit(jax.grad(re_pi))(0.5, -1.0)
    h = 1e-5
    assert abs(g - (re_pi(0.5 + h, -1.0) - re_pi(0.5 - h, -1.0)) / (2 * h)) < 1e-8
    assert abs(g - 2 * re_pi(0.5, -1.0) / 0.5) < 1e-12  # Π ∝ m²
