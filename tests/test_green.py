"""Green's and spectral functions, and the pole expansion behind the exact energy integral."""

import jax.numpy as jnp
import numpy as np
import pytest

import ehpjax
import reference
from conftest import assert_hessian_matches_central_differences, build, random_arrays
from ehpjax._green import pole_expansion


def test_green_and_spectral_functions_match_reference():
    arrays = random_arrays(3, 4, 2)
    H, gL, gR = arrays[:3]
    junction, _ = build(arrays)
    eps = np.array([-1.3, 0.0, 0.7, 2.5])
    g = np.asarray(ehpjax.retarded_green(junction, eps))
    a_left, a_right = (np.asarray(a) for a in ehpjax.spectral_functions(junction, eps))
    for i, e in enumerate(eps):
        np.testing.assert_allclose(g[i], reference.green_retarded(H, gL, gR, e), rtol=1e-12, atol=1e-14)
        ref_l, ref_r = reference.spectral(H, gL, gR, e)
        np.testing.assert_allclose(a_left[i], ref_l, atol=1e-12)
        np.testing.assert_allclose(a_right[i], ref_r, atol=1e-12)
    # A = A_L + A_R = i(G^r − G^a)
    total = np.asarray(ehpjax.spectral_function(junction, eps))
    np.testing.assert_allclose(total, 1j * (g - np.conj(np.swapaxes(g, -1, -2))), atol=1e-12)


def test_pole_expansion_reproduces_partial_spectral_functions():
    junction, _ = build(random_arrays(4, 3, 1))
    poles = pole_expansion(junction)
    z = np.asarray(poles.z)
    assert np.all(z.imag < 0)
    p = np.concatenate([z, z.conj()])
    eps = np.linspace(-3, 3, 7)
    a = np.stack([np.asarray(x) for x in ehpjax.spectral_functions(junction, eps)])  # (2, E, n, n)
    expanded = np.einsum("aij,akj,ej->aeik", poles.X, np.conj(poles.Y), 1 / (eps[:, None] - p))
    np.testing.assert_allclose(expanded, a, atol=1e-12)


# H − i(Γ_L + Γ_R)/2 = [[10 − 0.4i, 0.15], [0.15, 10 − 0.1i]] is a Jordan block (an exceptional point).
EP_ARRAYS = (np.array([[10.0, 0.15], [0.15, 10.0]]), np.diag([0.8, 0.0]), np.diag([0.0, 0.2]),
             np.array([[[0.3, 0.0], [0.0, -0.3]]]), np.array([[1.0]]), np.array([[0.5]]))


@pytest.mark.parametrize("shift", [0.0, 1e-7, 1e-5])
def test_exceptional_point_of_the_effective_hamiltonian(shift):
    """At and near an exceptional point the eigenvectors coalesce; the pole expansion stays exact
    (to its own error bound) and the currents agree with scipy quadrature that never diagonalises."""
    H, gL, gR = EP_ARRAYS[:3]
    H = H + np.diag([shift, 0.0])
    junction = ehpjax.Junction(H, gL, gR, EP_ARRAYS[3])
    poles = pole_expansion(junction)
    assert float(poles.error) < 1e-6
    eps = np.array([9.3, 10.0, 10.4])
    a = np.stack([np.asarray(x) for x in ehpjax.spectral_functions(junction, eps)])
    p = np.concatenate([poles.z, np.conj(poles.z)])
    expanded = np.einsum("aij,akj,ej->aeik", poles.X, np.conj(poles.Y), 1 / (eps[:, None] - p))
    np.testing.assert_allclose(expanded, a, atol=1e-6 * np.max(np.abs(a)))
    if shift == 0.0:  # the currents, against scipy (one reference: ~3 s)
        baths = ehpjax.Baths(9.5, 10.5, 0.2, 0.2)
        got = ehpjax.currents(junction, ehpjax.Modes(*EP_ARRAYS[4:]), baths)
        ref = reference.currents_ref(H, gL, gR, *EP_ARRAYS[3:], 9.5, 10.5, 0.2, 0.2)
        for key in ("J", "I", "I_elastic"):
            assert abs(float(getattr(got, key)) - ref[key]) <= 1e-6 * max(abs(ref[key]), 1e-4), key
        assert abs(float(got.J) - ref["J"]) <= float(got.J_error)


def test_second_derivatives_through_the_pole_expansion():
    """Derivatives of every order exist through the eigen-decomposition of H_eff: the Hessian of
    the elastic current (built on the pole expansion) in four parameters of a random 3-level
    junction (two Hermitian directions of H, the scales of Γ_L and Γ_R) is symmetric and equals
    central differences of its gradient."""

    H, gL, gR, M, _, _ = random_arrays(7, 3, 1)
    rng = np.random.default_rng(3)
    directions = [0.5 * (d + d.conj().T) for d in rng.normal(size=(2, 3, 3)) + 1j * rng.normal(size=(2, 3, 3))]
    baths = ehpjax.Baths(0.4, -0.3, 0.2, 0.2)

    def current(p):
        junction = ehpjax.Junction(H + p[0] * directions[0] + p[1] * directions[1], gL * (1 + p[2]), gR * (1 + p[3]), M)
        return ehpjax.elastic_current(junction, baths)

    assert_hessian_matches_central_differences(current, jnp.zeros(4))
