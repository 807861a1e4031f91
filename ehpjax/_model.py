"""The three inputs of every calculation: Junction, Modes and Baths (docs/physics.md §2, §3, §8).

All three are equinox Modules (pytrees): their array fields are what jax.grad and
optax see, and they can be built from traced values inside jit/vmap.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Inexact

from ._checks import (as_array, as_real, check_finite, check_hermitian, check_nonnegative, check_positive,
                      check_positive_definite, check_psd, checks_combined, is_traced)
from ._errors import EhpjaxError


def _scalars(values, names):
    """(namespace, real scalars): NumPy ones when every value is concrete, so that the
    convenience constructors build their matrices on the host (no XLA program compiled for
    each operation), else traced JAX ones."""
    host = not is_traced(values)
    return (np if host else jnp), [as_real(x, name, shape=(), host=host) for x, name in zip(values, names)]


class Junction(eqx.Module):
    """Electronic conductor in the wide-band limit (docs/physics.md §2).

    H: (n, n) Hermitian Hamiltonian of the central region.
    gamma_L, gamma_R: (n, n) Hermitian PSD broadening matrices; Σ^r_α = −iΓ_α/2.
    M: (N_b, n, n) Hermitian electron–boson couplings, H_es = Σ_k Σ_ij M^k_ij c_i† c_j u_k.
    spin_degeneracy: g_s, multiplies Λ (1 = spinless, the default).
    """

    H: Inexact[Array, "n n"]
    gamma_L: Inexact[Array, "n n"]
    gamma_R: Inexact[Array, "n n"]
    M: Inexact[Array, "Nb n n"]
    spin_degeneracy: Float[Array, ""]

    def __init__(self, H, gamma_L, gamma_R, M, spin_degeneracy=1.0):
        H = as_array(H, "H", ndim=2)
        n = H.shape[0]
        if H.shape != (n, n):
            raise EhpjaxError(f"H must be square, got shape {H.shape}")
        gamma_L = as_array(gamma_L, "gamma_L", shape=(n, n))
        gamma_R = as_array(gamma_R, "gamma_R", shape=(n, n))
        M = as_array(M, "M")
        if M.ndim == 2:
            raise EhpjaxError(f"M must have shape (N_b, {n}, {n}); for one mode pass M[None] (got {M.shape})")
        if M.ndim != 3 or M.shape[1:] != (n, n):
            raise EhpjaxError(f"M must have shape (N_b, {n}, {n}), got {M.shape}")
        spin_degeneracy = as_real(spin_degeneracy, "spin_degeneracy", shape=())
        with checks_combined() as attach:
            self.H, self.gamma_L, self.gamma_R, self.M, self.spin_degeneracy = attach((
                check_hermitian(check_finite(H, "H"), "H"),
                check_psd(check_finite(gamma_L, "gamma_L"), "gamma_L"),
                check_psd(check_finite(gamma_R, "gamma_R"), "gamma_R"),
                check_hermitian(check_finite(M, "M"), "M"),
                check_positive(check_finite(spin_degeneracy, "spin_degeneracy"), "spin_degeneracy")))

    @classmethod
    def two_level(cls, eps_L, eps_R, gamma_L, gamma_R, m, spin_degeneracy=1.0) -> "Junction":
        """The paper's model (Fig. 2): H = diag(ε_L, ε_R), Γ_L = γ_L|1⟩⟨1|, Γ_R = γ_R|2⟩⟨2|,
        one mode with M = m(|1⟩⟨2| + |2⟩⟨1|), no direct hopping."""
        xp, (eps_L, eps_R, gamma_L, gamma_R, m) = _scalars(
            (eps_L, eps_R, gamma_L, gamma_R, m), ("eps_L", "eps_R", "gamma_L", "gamma_R", "m"))
        with checks_combined() as attach:  # (the numbers by their names first, then the matrices' checks)
            eps_L, eps_R, m = (check_finite(x, name) for x, name in ((eps_L, "eps_L"), (eps_R, "eps_R"), (m, "m")))
            gamma_L, gamma_R = (check_nonnegative(x, name) for x, name in ((gamma_L, "gamma_L"), (gamma_R, "gamma_R")))
            zero = xp.zeros(())
            H = xp.array([[eps_L, zero], [zero, eps_R]])
            gL = xp.array([[gamma_L, zero], [zero, zero]])
            gR = xp.array([[zero, zero], [zero, gamma_R]])
            M = xp.array([[[zero, m], [m, zero]]])
            return attach(cls(H, gL, gR, M, spin_degeneracy))

    @property
    def n_levels(self) -> int:
        return self.H.shape[0]

    @property
    def n_modes(self) -> int:
        return self.M.shape[0]


class Modes(eqx.Module):
    """Bosonic modes with an Ohmic bath (docs/physics.md §3).

    K: (N_b, N_b) real symmetric positive-definite dynamical matrix (a single mode has K = Ω²;
        an eigenvalue <= 0 would be an unstable mode).
    eta: (N_b, N_b) real symmetric PSD friction; Π^r_ph(ω) = −iωη, Γ_ph = 2ωη.
    """

    K: Float[Array, "Nb Nb"]
    eta: Float[Array, "Nb Nb"]

    def __init__(self, K, eta):
        K = as_real(K, "K", ndim=2)
        nb = K.shape[0]
        if K.shape != (nb, nb):
            raise EhpjaxError(f"K must be square, got shape {K.shape}")
        eta = as_real(eta, "eta", shape=(nb, nb))
        with checks_combined() as attach:
            self.K, self.eta = attach((check_positive_definite(check_finite(K, "K"), "K"),
                                       check_psd(check_finite(eta, "eta"), "eta")))

    @classmethod
    def single(cls, omega, gamma_ph) -> "Modes":
        """One mode of frequency Ω (K = Ω²) and bath friction γ_ph (η = γ_ph)."""
        xp, (omega, gamma_ph) = _scalars((omega, gamma_ph), ("omega", "gamma_ph"))
        with checks_combined() as attach:
            omega = check_positive(omega, "omega")
            gamma_ph = check_nonnegative(gamma_ph, "gamma_ph")
            return attach(cls(xp.reshape(omega**2, (1, 1)), xp.reshape(gamma_ph, (1, 1))))

    @property
    def n_modes(self) -> int:
        return self.K.shape[0]


class Baths(eqx.Module):
    """Lead chemical potentials μ_L, μ_R, electron temperature T_e (both leads) and
    boson-bath temperature T_ph (docs/physics.md §1). Bias V = μ_L − μ_R."""

    mu_L: Float[Array, ""]
    mu_R: Float[Array, ""]
    T_e: Float[Array, ""]
    T_ph: Float[Array, ""]

    def __init__(self, mu_L, mu_R, T_e, T_ph):
        with checks_combined() as attach:
            self.mu_L, self.mu_R, self.T_e, self.T_ph = attach((
                check_finite(as_real(mu_L, "mu_L", shape=()), "mu_L"),
                check_finite(as_real(mu_R, "mu_R", shape=()), "mu_R"),
                check_positive(check_finite(as_real(T_e, "T_e", shape=()), "T_e"), "T_e"),
                check_positive(check_finite(as_real(T_ph, "T_ph", shape=()), "T_ph"), "T_ph")))

    @classmethod
    def biased(cls, V, mu0=0.0, T_e=0.1, T_ph=None) -> "Baths":
        """Symmetric split μ_L = μ0 + V/2, μ_R = μ0 − V/2; T_ph defaults to T_e."""
        _, (V, mu0) = _scalars((V, mu0), ("V", "mu0"))
        return cls(mu0 + 0.5 * V, mu0 - 0.5 * V, T_e, T_e if T_ph is None else T_ph)

    @property
    def V(self):
        return self.mu_L - self.mu_R

    @property
    def mu_channels(self):
        """μ_αβ = μ_α − μ_β for the channels (LL, RR, RL, LR): (0, 0, −V, +V)."""
        V = self.V
        zero = jnp.zeros_like(V)
        return jnp.stack([zero, zero, -V, V])
