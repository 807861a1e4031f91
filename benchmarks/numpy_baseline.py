"""NumPy baseline for the currents of docs/physics.md §5 (lowest order), for benchmarks.

What it computes
----------------
For a junction (H, Gamma_L, Gamma_R, M^m) and modes (K, eta), in the EHP channels
ab = LL, RR, RL, LR (electron in a, hole in b, mu_ab = mu_a - mu_b):

    Lambda^ab_mn(w) = -int de/2pi tr[M^m A_a(e) M^n A_b(e - w)]
                                  * (f(e; mu_a, T_e) - f(e - w; mu_b, T_e)),
    J^ab = int_0^inf dw/2pi w Tr[Lambda^ab A_ph] (n_B(w - mu_ab; T_e) - n_B(w; T_ph)),
    J = sum_ab J^ab,   N^ab = the same without the factor w,   I = N^LR - N^RL,

with A_a = G^r Gamma_a G^a, G^r = [e - H + i(Gamma_L + Gamma_R)/2]^-1, and A_ph = D^r (2 w eta) D^a,
D^r = [w^2 - K + i w eta]^-1 (paper Eq. 8, no electronic self-energy on the modes).

Method
------
Trapezoid rule on uniform grids with one step h: electron energies e_i = e_min + i h and
frequencies w_k = k h, so that the hole energy e_i - w_k lies on the same grid. Per junction a
table is built once with batched matrix products,

    Y^ab[i, k] = sum_mn tr[M^m A_a(e_i) M^n A_b(e_i - w_k)] B_nm(w_k),   A_ph(w) = w B(w),

and each bath set (mu_L, mu_R, T_e, T_ph) then costs Fermi/Bose factors on 1-d grids and a
contraction with the table. The Bose factors are removed by detailed balance,

    -(f_a(e) - f_b(e - w)) (n_B(w - mu_ab; T_e) - n_B(w; T_ph))
        = f_a(e) (1 - f_b(e - w)) + (f_a(e) - f_b(e - w)) n_B(w; T_ph),

which is regular at w = mu_ab, and w n_B(w; T_ph) -> T_ph at w = 0 (A_ph = w B keeps N finite).

Accuracy. Lambda^ab(-w) = -Lambda^ba(w)^T and A_ph(-w) = -A_ph(w)^T make the integrands of J,
J^LL, J^RR, J^RL + J^LR and I even in w, so the half-line trapezoid sum (weight 1/2 at w = 0)
is half of a full-line one and converges like exp(-2 pi d / h), d being the distance of the
nearest singularity from the real axis (see default_step); the e-sum converges the same way.
The odd parts (J^RL - J^LR and all N^ab) get 7-point Gregory end weights at w = 0 (exact for
polynomials of degree 6), which remove their O(h^2) end error and leave J and I unchanged.
Windows are cut where Fermi/Bose factors fall below exp(-tail) (grid_ranges), a relative
error ~1e-11 at tail = 20.

Measured (paper two-level model: H = diag(10.5, 9.5), Gamma_L = 0.5|1><1|, Gamma_R = 0.5|2><2|,
M = 0.5 sigma_x, K = 1, eta = 0.5; Fig-3 sweep mu in {9, ..., 11}, T0 = 0.5,
dT in linspace(-0.8, 0.8, 101), 505 values of J, against nested scipy quad and against h = 0.025):
- References: nested scipy quad (epsrel 1e-10 over w, 1e-11 over e, closed-form integrand)
  and this code at h = 0.025 agree to 7.7e-13 (max relative in J). At dT = 0 the grid gives
  J = 0 exactly (detailed balance holds point by point), so those 5 points are left out of
  relative errors; the docs/physics.md §8 metric |x - ref| / max(|ref|, 1e-4) gives the same numbers.
- Max relative error in J over the sweep vs quad, by step h:
      h      0.125   0.1     0.098   0.097   0.096   0.09    0.0833  0.05
      err    6.1e-5  1.4e-6  1.6e-6  9.5e-7  6.0e-7  3.1e-7  4.9e-8  1.4e-11
  The error oscillates with the grid offset on top of exp(-2 pi d / h) decay; over 8 offsets
  of e_min it is <= 8.9e-7 at h = 0.096 and <= 4.4e-7 at h = 0.09. Coarsest step reaching
  1e-6: h = 0.096. Default: h = STEP_PER_WIDTH * d = 0.36 * 0.25 = 0.09 (margin ~2x).
- At the default h: J 3.1e-7, I 4.2e-7, J^RL and J^LR 8.1e-7, N^RL and N^LR 1.1e-6 (relative
  to the largest channel). LL and RR vanish identically in this model.
- Same default rule elsewhere, vs nested quad: biased paper model (4 sets, T_e down to 0.05)
  J <= 9.2e-8; random two-level junctions (4, h = 0.054-0.101) J <= 1.4e-7; random
  n = 3, N_b = 2 junctions with bias (4, h = 0.010-0.021) J <= 5.0e-8, and <= 4e-12 at h/2.
  Channel values can be a few 1e-6 off at T_e = 0.05.

Timings (best of 3-5 runs; 2-core AMD EPYC VM, Python 3.11, NumPy 2 with OpenBLAS):
- (a) whole Fig-3 sweep, one table: build 6 ms (table 4 x 446 x 201, h = 0.09,
  e in [-9, 31], w <= 18), 505 calls to currents 0.19 s (0.38 ms each); 0.19 s in all.
- (b) one J for a new junction, table rebuilt (numpy_J): paper model 2.7 ms; 60 random
  two-level junctions near the paper's (eps in [9, 11], gammas and m in [0.3, 0.7],
  Omega in [0.8, 1.2], default h 0.054-0.105) median 3.9 ms (1.9-11 ms).
  A random n = 4, N_b = 3 junction (h = 0.018, table 4 x 913 x 357): build 0.23 s, call 3 ms.
  The cost grows like 1/h^2: a mode with eta = 0.02 (d = 0.01) needs h ~ 0.004 and tables of
  ~1e7 entries per channel.

API
---
    table = NumpyJunctionTable(H, gamma_L, gamma_R, M, K, eta, e_min, e_max, h, omega_max)
    table = NumpyJunctionTable.for_baths(H, gamma_L, gamma_R, M, K, eta,
                                         mu_L, mu_R, T_e, T_ph, h=None)
    table.currents(mu_L, mu_R, T_e, T_ph)
        # -> dict(J=float, J_channels=(4,), N_channels=(4,), I=float)
    table.sweep(mu_L, mu_R, T_e, T_ph)     # the same for broadcast arrays of bath sets
    numpy_J(H, gamma_L, gamma_R, M, K, eta, mu_L, mu_R, T_e, T_ph, h=None)  # new table + one call
    default_step(...), grid_ranges(...)  # how h and the ranges are chosen

Units hbar = k_B = e = 1; channel order LL, RR, RL, LR; results are per spin unless g_s is set.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "CHANNELS",
    "DEFAULT_TAIL",
    "STEP_PER_WIDTH",
    "NumpyJunctionTable",
    "default_step",
    "grid_ranges",
    "numpy_J",
]

#: EHP channels, always in this order; "RL" = electron in R, hole in L.
CHANNELS = ("LL", "RR", "RL", "LR")
_ELECTRON = (0, 1, 1, 0)  # lead (0 = L, 1 = R) of the electron, per channel
_HOLE = (0, 1, 0, 1)  # lead of the hole, per channel
_MIRROR = [0, 1, 3, 2]  # channel ab -> ba

#: Default grid step as a fraction of the singularity distance d (see default_step).
STEP_PER_WIDTH = 0.36
#: Windows are cut where Fermi/Bose factors fall below exp(-DEFAULT_TAIL).
DEFAULT_TAIL = 20.0


# ----------------------------------------------------------------------------- distributions

def _fermi(x):
    """f = 1/(e^x + 1) at x = (e - mu)/T, free of overflow and accurate in both tails."""
    return np.exp(-np.logaddexp(0.0, x))


def _omega_bose(omega, T):
    """w n_B(w; T) for w >= 0, with its limit T at w = 0."""
    x = omega / T
    xs = np.where(x > 0.0, x, 1.0)
    return T * np.where(x > 0.0, xs * np.exp(-xs) / -np.expm1(-xs), 1.0)


# ----------------------------------------------------------------------------- quadrature

def _gregory_weights(p):
    """End weights a_0..a_p at w = 0 such that int_0^inf g = h sum'_k g_k + h sum_j a_j g_j is
    exact for polynomials of degree <= p (they cancel the Euler-Maclaurin terms
    B_2k h^2k g^(2k-1)(0) / (2k)! of the trapezoid sum sum')."""
    bernoulli = {1: 1 / 6, 3: -1 / 30, 5: 1 / 42}  # B_{q+1} for odd q
    q = np.arange(p + 1)
    rhs = np.array([bernoulli[k] / (k + 1) if k % 2 else 0.0 for k in q])
    return np.linalg.solve(np.vander(q, increasing=True).T.astype(float), rhs)


_END_WEIGHTS = _gregory_weights(6)


def _integrate_omega(integrand, h, parity):
    """int_0^inf dw of per-channel integrands sampled at w_k = k h, shape (4, n_w).

    g^ab(-w) = parity * g^ba(w) (parity +1 for J, -1 for N). The even part is integrated by the
    trapezoid rule, spectrally accurate; the odd part also gets the Gregory end weights.
    """
    trapezoid = h * (integrand.sum(axis=1) - 0.5 * integrand[:, 0])
    odd = 0.5 * (integrand - parity * integrand[_MIRROR])
    return trapezoid + h * odd[:, : _END_WEIGHTS.size] @ _END_WEIGHTS


# ----------------------------------------------------------------------------- grid choice

def _imag_distance(poles):
    """Smallest |Im| among the poles off the real axis (real ones belong to decoupled states)."""
    d = np.abs(np.imag(poles))
    d = d[d > 1e-9 * max(1.0, float(np.max(np.abs(poles))))]
    return float(d.min()) if d.size else np.inf


def _junction_distance(H, gamma, K, eta):
    """Distance from the real axis of the nearest pole of G^r(e) and of D^r(w)."""
    n_b = K.shape[0]
    # det[w^2 - K + i w eta] = 0 as a linear eigenproblem for (u, w u).
    companion = np.block([[np.zeros((n_b, n_b)), np.eye(n_b)], [K, -1j * eta]])
    return min(_imag_distance(np.linalg.eigvals(H - 0.5j * gamma)),
               _imag_distance(np.linalg.eigvals(companion)))


def _singularity_distance(junction_distance, T_e, T_ph):
    # Fermi poles at e = mu + i pi T_e (2j + 1); w n_B(w; T_ph) poles at w = 2 pi i T_ph j, j != 0.
    return min(junction_distance, np.pi * float(np.min(T_e)), 2.0 * np.pi * float(np.min(T_ph)))


def default_step(H, gamma_L, gamma_R, K, eta, T_e, T_ph):
    """Default grid step h = STEP_PER_WIDTH * d.

    d is the distance from the real axis of the nearest singularity of the integrand: poles of
    G^r (eigenvalues of H - i(Gamma_L + Gamma_R)/2), of D^r (roots of det[w^2 - K + i w eta]),
    of the Fermi function (pi T_e) and of w n_B(w; T_ph) (2 pi T_ph); for arrays of temperatures
    the smallest counts. The quadrature error decays like exp(-2 pi d / h).
    """
    gamma = np.asarray(gamma_L, complex) + np.asarray(gamma_R, complex)
    d_junction = _junction_distance(np.asarray(H, complex), gamma,
                                    np.asarray(K, float), np.asarray(eta, float))
    return STEP_PER_WIDTH * _singularity_distance(d_junction, T_e, T_ph)


def grid_ranges(mu_L, mu_R, T_e, T_ph, tail=DEFAULT_TAIL):
    """Grid ranges ``(e_min, e_max, omega_max)`` that cover every bath set given.

    Arguments broadcast (scalars, or arrays for a sweep); the union over bath sets is returned.
    With V = mu_L - mu_R and t = tail:

    - omega_max = max(|V| + t T_e, t T_ph): beyond it the emission factor f_a (1 - f_b), which
      decays like e^{-(w - mu_ab)/T_e}, and n_B(w; T_ph) ~ e^{-w/T_ph} are below e^{-t};
    - e_min = min(mu) - t T_e: lower edge of the Fermi windows for the electron energy e;
    - e_max = max(mu) + t (T_e + T_ph): upper edge, shifted by the frequencies w <~ t T_ph
      that the phonon bath populates.

    The hole energy e - w then runs down to e_min - omega_max.
    """
    mu_L, mu_R, T_e, T_ph = np.broadcast_arrays(
        *(np.asarray(a, float) for a in (mu_L, mu_R, T_e, T_ph)))
    if np.any(T_e <= 0) or np.any(T_ph <= 0):
        raise ValueError("the grid baseline needs temperatures T_e > 0 and T_ph > 0")
    mu_lo, mu_hi = np.minimum(mu_L, mu_R), np.maximum(mu_L, mu_R)
    omega_max = np.maximum(mu_hi - mu_lo + tail * T_e, tail * T_ph)
    e_min = mu_lo - tail * T_e
    e_max = mu_hi + tail * (T_e + T_ph)
    return float(e_min.min()), float(e_max.max()), float(omega_max.max())


# ----------------------------------------------------------------------------- the table

class NumpyJunctionTable:
    """Currents of one junction and one set of modes, for many bath sets.

    Building the table costs one junction; ``currents`` then costs Fermi/Bose factors on
    1-d grids and a contraction with the part of the table inside the bath set's windows.

    Parameters
    ----------
    H, gamma_L, gamma_R : (n, n) arrays
        Central Hamiltonian and wide-band lead broadenings (Sigma_a^r = -i Gamma_a / 2).
    M : (N_b, n, n) array
        Electron-boson couplings M^m (Hermitian).
    K, eta : (N_b, N_b) arrays
        Dynamical matrix and Ohmic friction of the modes (Pi_ph^r = -i w eta).
    e_min, e_max : float
        Range of the electron energy e (the hole energy e - w reaches e_min - omega_max).
    h : float
        Common step of the energy and frequency grids.
    omega_max : float
        Upper end of the frequency grid w_k = k h.
    tail : float
        Window cut of grid_ranges; a bath set whose windows leave the table raises ValueError.
    g_s : float
        Spin degeneracy factor multiplying Lambda (1: spinless).
    """

    def __init__(self, H, gamma_L, gamma_R, M, K, eta, e_min, e_max, h, omega_max,
                 *, tail=DEFAULT_TAIL, g_s=1.0):
        H = np.asarray(H, complex)
        gammas = (np.asarray(gamma_L, complex), np.asarray(gamma_R, complex))
        M = np.asarray(M, complex)
        K, eta = np.asarray(K, float), np.asarray(eta, float)
        n, n_b = H.shape[0], M.shape[0]
        if H.shape != (n, n) or any(g.shape != (n, n) for g in gammas):
            raise ValueError(f"H, gamma_L, gamma_R must be (n, n); got {H.shape}, "
                             f"{gammas[0].shape}, {gammas[1].shape}")
        if M.shape != (n_b, n, n) or K.shape != (n_b, n_b) or eta.shape != (n_b, n_b):
            raise ValueError(f"M must be (N_b, n, n) and K, eta (N_b, N_b); got M {M.shape}, "
                             f"K {K.shape}, eta {eta.shape}")
        if not (h > 0 and e_max > e_min and omega_max > 0):
            raise ValueError(f"need h > 0, e_max > e_min, omega_max > 0; got h={h}, "
                             f"e_min={e_min}, e_max={e_max}, omega_max={omega_max}")

        self.h, self.tail, self.g_s = float(h), float(tail), float(g_s)
        self.junction_distance = _junction_distance(H, gammas[0] + gammas[1], K, eta)
        n_omega = int(np.ceil(omega_max / h - 1e-9)) + 1
        n_eps = int(np.ceil((e_max - e_min) / h - 1e-9)) + 1
        self.omega = h * np.arange(n_omega)
        # Energy grid E_j = e_min + (j - k_top) h, k_top = n_omega - 1, holds electrons at
        # e_i = E_{i + k_top} and holes at e_i - w_k = E_{i + k_top - k}.
        self.energy = e_min + h * np.arange(-(n_omega - 1), n_eps)
        self.eps = self.energy[n_omega - 1:]

        # Electrons: A_a(E) = G^r Gamma_a G^a on the whole grid, shape (2, n_E, n, n).
        g_r = np.linalg.inv(self.energy[:, None, None] * np.eye(n) - H
                            + 0.5j * (gammas[0] + gammas[1]))
        A = np.stack([g_r @ g @ g_r.conj().swapaxes(-1, -2) for g in gammas])

        # Modes: A_ph(w) = D^r (2 w eta) D^a = w B(w), shape (n_omega, N_b, N_b).
        w = self.omega[:, None, None]
        d_r = np.linalg.inv(w**2 * np.eye(n_b) - K + 1j * w * eta)
        B = d_r @ (2.0 * eta) @ d_r.conj().swapaxes(-1, -2)

        # Y^ab[i, k] = sum_mn tr[M^m A_a(e_i) M^n A_b(e_i - w_k)] B_nm(w_k), using
        # tr[X Z] = sum_p X_p (Z^T)_p over the flattened matrix index p; the hole shift
        # e_i - w_k is a zero-copy sliding window.
        MA = np.einsum("mab,lEbc->lmEac", M, A).reshape(2, n_b, -1, n * n)
        MA_T = MA.reshape(2, n_b, -1, n, n).swapaxes(-1, -2).reshape(2, n_b, -1, n * n)
        self.table = np.zeros((4, n_eps, n_omega))
        for c, (a, b) in enumerate(zip(_ELECTRON, _HOLE)):
            for m in range(n_b):
                electron = MA[a, m, n_omega - 1:]  # (n_eps, n^2)
                for m2 in range(n_b):
                    # hole[i, p, j] = (M^m2 A_b)^T_p at E_{i + j} = e_i - w_k, j = k_top - k.
                    hole = sliding_window_view(MA_T[b, m2], n_omega, axis=0)
                    x = np.einsum("ip,ipj->ij", electron, hole)[:, ::-1]
                    self.table[c] += (x * B[:, m2, m]).real  # Tr[X B] is real: X, B Hermitian

    def _windows(self, mu_L, mu_R, T_e, T_ph):
        """Index ranges (i0, i1, k1) of the table inside this bath set's windows."""
        e_min, e_max, omega_max = grid_ranges(mu_L, mu_R, T_e, T_ph, self.tail)
        slack = 1e-9 * max(1.0, abs(e_min), abs(e_max))
        if (e_min < self.eps[0] - slack or e_max > self.eps[-1] + slack
                or omega_max > self.omega[-1] + slack):
            raise ValueError(
                f"bath set (mu_L={mu_L}, mu_R={mu_R}, T_e={T_e}, T_ph={T_ph}) needs e in "
                f"[{e_min:.4g}, {e_max:.4g}] and w <= {omega_max:.4g}; the table covers "
                f"[{self.eps[0]:.4g}, {self.eps[-1]:.4g}] and w <= {self.omega[-1]:.4g}")
        d = _singularity_distance(self.junction_distance, T_e, T_ph)
        if self.h > 1.05 * STEP_PER_WIDTH * d:
            expected = 15.0 * np.exp(-2.0 * np.pi * d / self.h)  # fitted on the paper's model
            warnings.warn(f"grid step h = {self.h:.3g} is coarse for the narrowest feature "
                          f"(d = {d:.3g}): expect a relative error ~ {expected:.0e}; "
                          f"h <= {STEP_PER_WIDTH * d:.3g} gives <~ 1e-6",
                          RuntimeWarning, stacklevel=3)
        h = self.h
        i0 = max(int(np.floor((e_min - self.eps[0]) / h)), 0)
        i1 = min(int(np.ceil((e_max - self.eps[0]) / h)) + 1, self.eps.size)
        k1 = min(max(int(np.ceil(omega_max / h)) + 1, _END_WEIGHTS.size), self.omega.size)
        return i0, i1, k1

    def currents(self, mu_L, mu_R, T_e, T_ph):
        """Currents for one bath set (scalars), as a dict:

        - ``J`` (float): energy current from the e-bath into the modes (paper Eq. 8,
          > 0 heats the modes;
        - ``J_channels`` (4,): J^ab in the order LL, RR, RL, LR;
        - ``N_channels`` (4,): boson-number fluxes N^ab (the integrals without the factor w);
        - ``I`` (float): boson-assisted charge current N^LR - N^RL, electrons per unit time L -> R.
        """
        i0, i1, k1 = self._windows(mu_L, mu_R, T_e, T_ph)
        h, k_top = self.h, self.omega.size - 1
        omega = self.omega[:k1]

        def at_hole(values):  # values on the energy grid -> (i, k) array at e_i - w_k (a view)
            return sliding_window_view(values, k_top + 1)[i0:i1, ::-1][:, :k1]

        f_e, f_h, fbar_h = [], [], []  # per lead: f(e_i), f(e_i - w_k), 1 - f(e_i - w_k)
        for mu in (mu_L, mu_R):
            x = (self.energy - mu) / T_e
            f_e.append(_fermi(x[k_top + i0:k_top + i1]))
            f_h.append(at_hole(_fermi(x)))
            fbar_h.append(at_hole(_fermi(-x)))

        # e-sums of Y times f_a (1 - f_b) (emission) and times f_a - f_b (net); module docstring.
        emission = np.empty((4, k1))
        net = np.empty((4, k1))
        for c, (a, b) in enumerate(zip(_ELECTRON, _HOLE)):
            y = self.table[c, i0:i1, :k1]
            emission[c] = h * np.einsum("i,ik,ik->k", f_e[a], y, fbar_h[b])
            net[c] = h * (f_e[a] @ y - np.einsum("ik,ik->k", y, f_h[b]))
        g_ph = _omega_bose(omega, T_ph)  # w n_B(w; T_ph)
        scale = self.g_s / (2.0 * np.pi) ** 2
        j_channels = scale * _integrate_omega(emission * omega**2 + net * (omega * g_ph), h, +1.0)
        n_channels = scale * _integrate_omega(emission * omega + net * g_ph, h, -1.0)
        return dict(J=float(j_channels.sum()), J_channels=j_channels, N_channels=n_channels,
                    I=float(n_channels[3] - n_channels[2]))

    def sweep(self, mu_L, mu_R, T_e, T_ph):
        """``currents`` over broadcast arrays of bath parameters; values gain their shape."""
        args = np.broadcast_arrays(*(np.asarray(a, float) for a in (mu_L, mu_R, T_e, T_ph)))
        results = [self.currents(*p) for p in zip(*(a.ravel() for a in args))]
        return {key: np.array([r[key] for r in results]).reshape(args[0].shape + np.shape(value))
                for key, value in results[0].items()}

    @classmethod
    def for_baths(cls, H, gamma_L, gamma_R, M, K, eta, mu_L, mu_R, T_e, T_ph, *,
                  h=None, tail=DEFAULT_TAIL, g_s=1.0):
        """Table covering all given bath sets (arrays broadcast): ranges from grid_ranges,
        h from default_step unless given."""
        if h is None:
            h = default_step(H, gamma_L, gamma_R, K, eta, T_e, T_ph)
        e_min, e_max, omega_max = grid_ranges(mu_L, mu_R, T_e, T_ph, tail)
        return cls(H, gamma_L, gamma_R, M, K, eta, e_min, e_max, h, omega_max, tail=tail, g_s=g_s)


def numpy_J(H, gamma_L, gamma_R, M, K, eta, mu_L, mu_R, T_e, T_ph, *,
            h=None, tail=DEFAULT_TAIL, g_s=1.0):
    """Currents for one bath set from a freshly built table (the cost of one new junction).

    Returns the dict of NumpyJunctionTable.currents.
    """
    table = NumpyJunctionTable.for_baths(H, gamma_L, gamma_R, M, K, eta, mu_L, mu_R, T_e, T_ph,
                                         h=h, tail=tail, g_s=g_s)
    return table.currents(mu_L, mu_R, T_e, T_ph)
