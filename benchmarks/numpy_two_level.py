"""A NumPy code written for the two-level model only: the strong peer of the benchmark.

Model: 2 × 2 matrices H, Γ_L, Γ_R, M (one mode, K = Ω², η). For the Fig-3 sweep the
junction and the mode are fixed and only the baths change, so the expensive part is a
table built once,

    Y^αβ[i, k] = tr[M A_α(ε_i) M A_β(ε_i − ω_k)] · ω_k A_ph(ω_k) · w_k h / (2π)²,

on a trapezoid grid of step h (stored with ω descending) (ε in [μ_min − 24, μ_max + 24], ω in [0, 12], the hole
energy ε_i − ω_k on the same grid; w_k the trapezoid weights, 1/2 at ω = 0). Channels
whose table vanishes identically (LL and RR in the paper's model: H diagonal, so
M Γ_α M Γ_β = 0 implies M A_α M A_β = 0) are dropped. Each bath
set then costs Fermi and Bose factors on 1-D grids and one contraction per channel:

    J^αβ = Σ_ik Y[i, k] [f_α(ε_i)(1 − f_β(ε_i − ω_k)) + (f_α(ε_i) − f_β(ε_i − ω_k)) n_B(ω_k; T_ph)],

which is the currents' integrand with the Bose factor n_B(ω − μ_αβ; T_e) removed by
detailed balance (regular at ω = μ_αβ). Written as
Σ_i f_α Σ_k Y (1 + n_B) − Σ_ik (Y ∘ F_β)[i, k] (f_α[i] + n_B[k]), with F_β[i, k] = f_β(ε_i − ω_k)
a strided view of one Fermi vector, it is one elementwise product and a few
matrix-vector products of the (ε, ω) table per channel; without bias (μ_L = μ_R, as in
Fig. 3) all channels share their Fermi factors and their tables are summed once.

The error is that of the trapezoid rule, ~exp(−2π d/h) with d the distance of the
nearest singularity from the real axis; the benchmark measures it against scipy.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

WINDOW = 24.0  # ε in [μ_min − WINDOW, μ_max + WINDOW]
OMEGA_MAX = 12.0
_PAIRS = ((0, 0), (1, 1), (1, 0), (0, 1))  # (electron lead, hole lead) for LL, RR, RL, LR


def _fermi(x):
    return 0.5 * (1.0 - np.tanh(0.5 * x))


class TwoLevelTable:
    """The (ε, ω) table of one two-level junction and mode; ``J`` for any bath set."""

    def __init__(self, H, gamma_L, gamma_R, M, K, eta, mu_min, mu_max, h=0.09):
        self.h = h
        n_omega = int(round(OMEGA_MAX / h)) + 1
        n_eps = int(np.ceil((mu_max - mu_min + 2 * WINDOW) / h)) + 1
        # Electron energies e_0 … e_(n_eps−1); the grid extends n_omega − 1 steps below for the holes.
        self.eps = mu_min - WINDOW + h * np.arange(n_eps)
        grid = mu_min - WINDOW + h * np.arange(-(n_omega - 1), n_eps)
        self.grid = grid
        omega = h * np.arange(n_omega)
        self.omega = omega

        h_eff = np.asarray(H, complex) - 0.5j * (np.asarray(gamma_L) + np.asarray(gamma_R))
        g = np.linalg.inv(grid[:, None, None] * np.eye(2) - h_eff)  # (E, 2, 2)
        g_adv = np.conj(np.swapaxes(g, 1, 2))
        m = np.asarray(M)[0]
        spectral = [g @ gamma @ g_adv for gamma in (gamma_L, gamma_R)]
        ma = [m @ a for a in spectral]  # M A_α on the extended grid, (E, 2, 2)
        first = n_omega - 1  # index of e_0 on the extended grid

        def trace(a, b):  # tr[M A_a(e_i) M A_b(e_i − ω_k)] as (n_eps, n_omega), ω descending
            total = 0.0
            for x in range(2):
                for y in range(2):
                    hole = sliding_window_view(ma[b][:, y, x], n_omega)  # [i, j] = (M A_b)_yx(e_(i − n_omega + 1 + j))
                    total = total + ma[a][first:, x, y][:, None] * hole
            return np.real(total)

        k_mode, eta_mode = float(np.asarray(K).ravel()[0]), float(np.asarray(eta).ravel()[0])
        d = 1.0 / (omega**2 - k_mode + 1j * omega * eta_mode)
        a_ph = 2.0 * omega * eta_mode * np.abs(d) ** 2
        weights = np.full(n_omega, h)
        weights[0] *= 0.5
        column = omega * a_ph * weights * h / (2 * np.pi) ** 2

        gammas = (np.asarray(gamma_L), np.asarray(gamma_R))
        no_hopping = np.all(np.asarray(H) == np.diag(np.diag(H)))
        self.tables = []
        for a, b in _PAIRS:
            if no_hopping and not np.any(m @ gammas[a] @ m @ gammas[b]):
                continue  # G diagonal: M A_a M A_b = 0 at every energy (LL and RR of the paper's model)
            y = trace(a, b) * column[::-1]  # ω descending: the hole energy ascends along a row
            if np.any(y):
                self.tables.append((a, b, y))
        # Without bias every channel has the same Fermi factors: one table for all.
        self.unbiased = [(0, 0, sum(y for _, _, y in self.tables))]

    def J(self, mu_L, mu_R, T_e, T_ph):
        """Energy current e-bath → mode for one bath set."""
        x_ph = self.omega[1:] / T_ph
        n_ph = np.concatenate([[0.0], 1.0 / np.expm1(x_ph)])[::-1]  # ω descending; Y's ω = 0 column is 0
        mu = (mu_L, mu_R)
        total = 0.0
        for a, b, y in self.unbiased if mu_L == mu_R else self.tables:
            f_a = _fermi((self.eps - mu[a]) / T_e)
            f_b = _fermi((self.grid - mu[b]) / T_e)
            f_hole = sliding_window_view(f_b, y.shape[1])  # [i, j] = f_b(ε_i − ω_k), j = n_ω − 1 − k
            yf = y * f_hole
            total += f_a @ (y @ (1.0 + n_ph)) - np.sum(f_a @ yf) - yf.sum(axis=0) @ n_ph
        return total
