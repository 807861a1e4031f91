"""Onsager matrix by forward-mode autodiff (docs/physics.md §10), both orders."""

import jax
import numpy as np
import pytest

import ehpjax
from ehpjax._linear_response import fluxes

T, MU0 = 0.3, 10.0


@pytest.fixture(scope="module")
def paper():
    return ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5), ehpjax.Modes.single(1.0, 0.5)


@pytest.mark.parametrize("order", ["lowest", "dressed"])
def test_onsager_symmetry_psd_and_central_differences(paper, order):
    junction, modes = paper
    lr = jax.jit(lambda j, m: ehpjax.linear_response(j, m, T, MU0, order=order))(junction, modes)
    L = np.asarray(lr.L)
    assert abs(L[0, 1] - L[1, 0]) <= 1e-10 * abs(L[0, 1])
    assert L[0, 0] > 0 and L[1, 1] > 0 and np.linalg.det(L) >= 0
    np.testing.assert_allclose([lr.G, lr.kappa, lr.S], [L[0, 0] / T, L[1, 1] / T**2, L[0, 1] / (T * L[0, 0])])
    f = jax.jit(lambda V, dT: fluxes(junction, modes, T, MU0, V, dT, order=order))
    h = 1e-4
    by_V = T * (np.asarray(f(h, 0.0)) - np.asarray(f(-h, 0.0))) / (2 * h)
    by_dT = T * T * (np.asarray(f(0.0, h)) - np.asarray(f(0.0, -h))) / (2 * h)
    np.testing.assert_allclose(np.stack([by_V, by_dT], axis=1), L, rtol=1e-6)


def test_bad_order():
    junction, modes = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5), ehpjax.Modes.single(1.0, 0.5)
    with pytest.raises(ehpjax.EhpjaxError, match="order"):
        ehpjax.linear_response(junction, modes, T, MU0, order="exact")
