"""Current-induced forces: the four parts of Π^r_e (docs/physics.md §9) and their flat-DOS limit (§6)."""

import jax.numpy as jnp
import numpy as np

import ehpjax


def two_mode_junction(G):
    """Two levels with a hopping, L on level 1, R on level 2, modes M¹ = G/4 σz, M² = G/4 σx; all
    energies scale with G: G → ∞ is the flat-DOS limit at a fixed tr[M¹A_L M²A_R]."""
    H = np.array([[-G / 4, G / 2], [G / 2, G / 4]])
    M = G / 4 * np.array([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    return ehpjax.Junction(H, np.diag([G, 0.0]), np.diag([0.0, G]), M, spin_degeneracy=2.0)


def test_parts_reassemble_the_self_energy():
    junction = two_mode_junction(4.0)
    baths = ehpjax.Baths.biased(0.7, 0.1, 0.2, 0.2)
    omega = jnp.array([0.5, 1.0])
    f = ehpjax.current_induced_forces(junction, baths, omega)
    pi = np.asarray(ehpjax.self_energy(junction, baths, omega))
    rebuilt = f.renormalization + f.nonconservative + 1j * (f.berry - 0.5 * f.friction)
    np.testing.assert_allclose(rebuilt, pi, atol=1e-15)
    for sym in (f.friction, f.renormalization):
        np.testing.assert_allclose(sym, np.swapaxes(sym, -1, -2), atol=1e-15)
    for anti in (f.nonconservative, f.berry):
        np.testing.assert_allclose(anti, -np.swapaxes(anti, -1, -2), atol=1e-15)
    np.testing.assert_allclose(f.friction, np.real(ehpjax.ehp_broadening(junction, baths, omega)), atol=1e-15)
    np.testing.assert_allclose(f.friction_coefficient, f.friction / (2 * omega[:, None, None]), atol=1e-15)
    np.testing.assert_allclose(f.berry_field, f.berry / omega[:, None, None], atol=1e-15)


def test_equilibrium_friction_is_positive_and_default_frequencies():
    junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)
    modes = ehpjax.Modes.single(1.0, 0.5)
    f = ehpjax.current_induced_forces(junction, ehpjax.Baths.biased(0.0, 10.0, 0.3, 0.3), modes=modes)
    assert f.friction.shape == (1, 1, 1)
    np.testing.assert_allclose(f.omega, np.real(ehpjax.mode_poles(modes)))
    assert float(f.friction[0, 0, 0]) > 0
    assert float(np.max(np.abs(f.nonconservative))) == 0.0  # one mode: no antisymmetric part


def test_nonconservative_force_tends_to_flat_dos_coefficient():
    """Bias-driven real antisymmetric part of Π^r_e → V·a (nonconservative_coefficient) as A_α
    flattens; for narrow levels it is far off."""
    errors = []
    for G in (4.0, 80.0):
        junction = two_mode_junction(G)
        a = np.asarray(ehpjax.nonconservative_coefficient(junction, 0.0))
        V = 0.5
        biased = ehpjax.current_induced_forces(junction, ehpjax.Baths.biased(V, 0.0, 0.1, 0.1), 1.0)
        zero = ehpjax.current_induced_forces(junction, ehpjax.Baths.biased(0.0, 0.0, 0.1, 0.1), 1.0)
        nc = np.asarray(biased.nonconservative - zero.nonconservative)
        errors.append(abs(nc[0, 1] - V * a[0, 1]) / abs(V * a[0, 1]))
    assert errors[1] < 1e-3 < errors[0]
