"""Green's and spectral functions, and the pole expansion behind the exact energy integral."""

import numpy as np

import ehpjax
import reference
from conftest import build, random_arrays
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
