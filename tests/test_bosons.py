"""Boson Green's function, spectral function and resonances (SPEC 3)."""

import numpy as np

import ehpjax
import reference
from conftest import random_arrays


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
