"""Independent NumPy/SciPy reference implementation of the physics in docs/physics.md.

This module is deliberately written without any reference to the ``ehpjax``
package: it re-derives every quantity from the formulas of docs/physics.md §1–§5
using adaptive quadrature (``scipy.integrate.quad_vec`` / ``scipy.integrate.quad``
and, for the inner energy integral of the currents, a vectorised version of the
same Gauss-Kronrod algorithm), so that the test-suite can use it to catch bugs
in the JAX implementation.  Accuracy comes first (about 1e-10 relative);
nothing here is differentiable.

Public functions: ``fermi``, ``bose``, ``green_retarded``, ``spectral``,
``phonon_green_retarded``, ``phonon_spectral``, ``mode_frequencies``,
``ehp_dos_ref``, ``golden_rule_rates_ref``, ``power_spectrum_ref``,
``currents_ref``, ``random_model``, ``paper_model``.

Conventions (docs/physics.md §1–§4)
------------------------------
* hbar = k_B = e = 1.
* Channels are always ordered ``("LL", "RR", "RL", "LR")``; label ``ab`` means
  electron in lead ``a``, hole in lead ``b``, with chemical potential
  ``mu_ab = mu_a - mu_b`` (so ``(0, 0, mu_R - mu_L, mu_L - mu_R)``).
* ``M`` has shape ``(N_b, n, n)``; Lambda matrices are indexed ``[m, n]`` as in
  paper Eq. 7: ``Lambda_mn = -int de/2pi tr[M^m A_a(e) M^n A_b(e-w)] (...)``.

Two exact identities of the Fermi/Bose functions are used throughout to keep
everything finite near ``w = mu_ab`` (where n_B diverges and Lambda vanishes).
With ``f_a = f(e; mu_a, T)``, ``f_b' = f(e - w; mu_b, T)`` and
``x = (w - mu_ab)/T`` (note (e - mu_a)/T - (e - w - mu_b)/T = x):

    f_a (1 - f_b') = exp(-x) f_b' (1 - f_a)                        (detailed balance)
    -(f_a - f_b') = f_b' (1 - f_a) - f_a (1 - f_b')
    -(f_a - f_b') n_B(w - mu_ab; T)       = f_a (1 - f_b')
    -(f_a - f_b') (n_B(w - mu_ab; T) + 1) = f_b' (1 - f_a)

Hence Lambda = absorption - emission, Lambda * n_B = emission,
Lambda * (n_B + 1) = absorption and Lambda * (n_B + 1/2) = (emission +
absorption)/2, where emission/absorption are the golden-rule integrals of
``golden_rule_rates_ref``.  The emission and absorption weights are products
of two logistic functions, each accurate to full relative precision, so no
catastrophic cancellation (and no 0 * inf) ever occurs.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import quad, quad_vec
from scipy.special import expit

__all__ = [
    "CHANNELS",
    "fermi",
    "bose",
    "green_retarded",
    "spectral",
    "phonon_green_retarded",
    "phonon_spectral",
    "mode_frequencies",
    "ehp_dos_ref",
    "power_spectrum_ref",
    "golden_rule_rates_ref",
    "currents_ref",
    "random_model",
    "paper_model",
]

CHANNELS = ("LL", "RR", "RL", "LR")
_LEAD_INDEX = {"L": 0, "R": 1}
_CH_A = np.array([0, 1, 1, 0])  # lead index of the electron, per channel
_CH_B = np.array([0, 1, 0, 1])  # lead index of the hole, per channel

# Number of temperatures by which every thermal window is widened on each
# side.  Beyond it the Fermi/Bose weights are below exp(-50) ~ 2e-22 of their
# maximum.  The rest of the integrands is bounded (spectral functions by
# max|Gamma|/min|Im z|^2 <= 1.5e4 for the random models), so even a resonance
# sitting just outside the window contributes < 1e-13 relative, which is
# negligible against the quadrature tolerance.  (The brief asked for ~40 T;
# 50 T costs only a few percent more time.)
_N_KT = 50.0


# --------------------------------------------------------------------------
# Distribution functions (docs/physics.md §1)
# --------------------------------------------------------------------------
def fermi(e, mu, T):
    """Fermi function f(e; mu, T) = 1/(exp((e - mu)/T) + 1)  (docs/physics.md §1).

    Evaluated as ``expit(-(e - mu)/T)``: no overflow for any argument.
    ``T = 0`` gives the step function (1/2 exactly at ``e = mu``).
    """
    e, mu, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (e, mu, T)))
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (e - mu) / T
    x = np.where(np.isnan(x), 0.0, x)  # T = 0 and e = mu
    out = expit(-x)
    return out[()] if out.ndim == 0 else out


def bose(w, T):
    """Bose function n_B(w; T) = 1/(exp(w/T) - 1)  (docs/physics.md §1).

    Written as  n_B = e^{-|x|}/(1 - e^{-|x|})  for x = w/T > 0 and
    n_B = -1/(1 - e^{-|x|})  for x < 0, which never overflows (large positive
    x gives 0, large negative x gives -1).  ``T = 0`` gives 0 for w > 0 and -1
    for w < 0.  The pole at w = 0 returns +inf.
    """
    w, T = np.broadcast_arrays(np.asarray(w, dtype=float), np.asarray(T, dtype=float))
    with np.errstate(all="ignore"):  # exp(-|x|) may underflow to 0: intended
        x = w / T
        ax = np.abs(x)
        denom = -np.expm1(-ax)  # 1 - e^{-|x|}, in (0, 1]
        out = np.where(x > 0, np.exp(-ax), -1.0) / denom
    out = np.where(w == 0, np.inf, out)
    return out[()] if out.ndim == 0 else out


def _omega_bose(w, T):
    """w * n_B(w; T), finite (-> T) at w = 0.  Helper for A_ph n_B."""
    w = float(w)
    if T == 0:
        return 0.0 if w >= 0 else -w
    x = w / T
    if abs(x) < 1e-8:
        return T * (1.0 - x / 2.0)
    return w * float(bose(w, T))


# --------------------------------------------------------------------------
# Electronic Green's functions (docs/physics.md §2)
# --------------------------------------------------------------------------
def green_retarded(H, gamma_L, gamma_R, eps):
    """Retarded Green's function G^r(eps) = [eps - H + i(Gamma_L + Gamma_R)/2]^-1.

    docs/physics.md §2.  ``eps`` may be a scalar (returns (n, n)) or an array
    (returns eps.shape + (n, n)).
    """
    H = np.asarray(H, dtype=complex)
    n = H.shape[-1]
    h_eff = H - 0.5j * (np.asarray(gamma_L) + np.asarray(gamma_R))
    eps = np.asarray(eps, dtype=float)
    mat = eps[..., None, None] * np.eye(n) - h_eff
    return np.linalg.inv(mat)


def spectral(H, gamma_L, gamma_R, eps):
    """Partial spectral functions (A_L, A_R), A_a = G^r Gamma_a G^a  (docs/physics.md §2).

    G^a = (G^r)^dagger.  Each has shape eps.shape + (n, n).
    """
    g = green_retarded(H, gamma_L, gamma_R, eps)
    ga = np.conj(np.swapaxes(g, -1, -2))
    return g @ np.asarray(gamma_L) @ ga, g @ np.asarray(gamma_R) @ ga


def _h_eff_eigenvalues(H, gamma_L, gamma_R):
    """Eigenvalues z of H_eff = H - i(Gamma_L + Gamma_R)/2 (poles of G^r)."""
    h_eff = np.asarray(H, dtype=complex) - 0.5j * (np.asarray(gamma_L) + np.asarray(gamma_R))
    return np.linalg.eigvals(h_eff)


# --------------------------------------------------------------------------
# Bosonic Green's functions (docs/physics.md §3, lowest order: Pi_e = 0)
# --------------------------------------------------------------------------
def phonon_green_retarded(K, eta, omega):
    """D^r(w) = [w^2 - K + i w eta]^-1  (docs/physics.md §3, Pi^r_ph = -i w eta, Pi_e = 0)."""
    K = np.atleast_2d(np.asarray(K, dtype=float))
    eta = np.atleast_2d(np.asarray(eta, dtype=float))
    nb = K.shape[0]
    return np.linalg.inv(omega**2 * np.eye(nb) - K + 1j * omega * eta)


def phonon_spectral(K, eta, omega):
    """A_ph(w) = D^r Gamma_ph D^a with Gamma_ph = 2 w eta  (docs/physics.md §3)."""
    d = phonon_green_retarded(K, eta, omega)
    return d @ (2.0 * omega * np.atleast_2d(eta)) @ d.conj().T


def mode_frequencies(K, eta):
    """Complex roots w (Re w >= 0) of det(w^2 - K + i w eta) = 0  (docs/physics.md §3).

    Linearised as the 2N_b x 2N_b eigenproblem  w [u; v] = [[0, 1], [K, -i eta]] [u; v]
    with v = w u.  Re w is the resonance frequency, -Im w its half width.
    """
    K = np.atleast_2d(np.asarray(K, dtype=float))
    eta = np.atleast_2d(np.asarray(eta, dtype=float))
    nb = K.shape[0]
    comp = np.block([[np.zeros((nb, nb)), np.eye(nb)], [K, -1j * eta]])
    w = np.linalg.eigvals(comp)
    return np.sort_complex(w[w.real >= 0])


# --------------------------------------------------------------------------
# Quadrature helpers
# --------------------------------------------------------------------------
# 21-point Gauss-Kronrod rule on [-1, 1] (QUADPACK qk21, as in scipy's quad_vec).
# The 10 Gauss nodes are the odd-indexed Kronrod nodes.
_GK21_X = np.array([
    0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
    0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
    0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
    0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
    0.294392862701460198131126603103866, 0.148874338981631210884826001129720,
    0.0])
_GK21_X = np.concatenate([_GK21_X, -_GK21_X[-2::-1]])
_GK21_WK = np.array([
    0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
    0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
    0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
    0.123491976262065851077958109831074, 0.134709217311473325928054001771707,
    0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
    0.149445554002916905664936468389821])
_GK21_WK = np.concatenate([_GK21_WK, _GK21_WK[-2::-1]])
_G10_W = np.array([
    0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
    0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
    0.295524224714752870173892994651338])
_GK21_WG = np.zeros(21)
_GK21_WG[1::2] = np.concatenate([_G10_W, _G10_W[::-1]])


def _gk21(fun, a, b):
    """GK21 estimates on intervals [a_i, b_i] with quad_vec's (QUADPACK) error estimate.

    ``fun`` maps (N,) -> (N, k).  Returns (estimates (m, k), errors (m,),
    rounding-error floors (m,)), errors in the max-norm over the k components.
    """
    c = 0.5 * (a + b)
    h = 0.5 * (b - a)
    x = c[:, None] + h[:, None] * _GK21_X
    fx = fun(x.ravel()).reshape(len(a), 21, -1)
    s_k = _GK21_WK @ fx                                  # (m, k)
    s_g = _GK21_WG @ fx
    s_abs = _GK21_WK @ np.abs(fx)
    s_dabs = _GK21_WK @ np.abs(fx - 0.5 * s_k[:, None, :])
    err = np.max(np.abs((s_k - s_g) * h[:, None]), axis=1)
    dabs = np.max(np.abs(s_dabs * h[:, None]), axis=1)
    scaled = dabs * np.minimum(1.0, (200.0 * err / np.where(dabs > 0, dabs, 1.0)) ** 1.5)
    err = np.where((dabs != 0) & (err != 0), scaled, err)
    round_err = np.max(50.0 * np.finfo(float).eps * np.abs(h[:, None] * s_abs), axis=1)
    return h[:, None] * s_k, np.maximum(err, round_err), round_err


def _adaptive_gk21(fun, edges, epsabs, epsrel, limit=20000):
    """Globally adaptive GK21 integration of a vector-valued, vectorised function.

    Same rule, error estimate and stopping criterion as ``scipy.integrate.quad_vec``
    with ``norm="max"`` (sum of interval errors <= max(epsabs, epsrel*|I|_max)),
    but all intervals that need refinement in a round are bisected together and
    their 42 nodes each are passed to ``fun`` in a single call:
    ``fun`` maps an array of shape (N,) to (N, k).  ``edges`` are the initial
    interval boundaries (integration limits and breakpoints, sorted).
    Intervals whose error is at the rounding floor are not bisected further.
    """
    edges = np.asarray(edges, dtype=float)
    a, b = edges[:-1], edges[1:]
    est, err, rnd = _gk21(fun, a, b)
    while True:
        tol = max(epsabs, epsrel * np.max(np.abs(est.sum(axis=0))))
        total_err = err.sum()
        if total_err <= tol:
            break
        # Bisect every interval whose error exceeds its fair share of the
        # tolerance, unless it is already at its rounding-error floor.
        refine = (err > 0.5 * tol / len(a)) & (err > rnd)
        if not refine.any():
            break  # only rounding error left
        if len(a) + refine.sum() > limit:
            raise RuntimeError(f"adaptive quadrature: interval limit reached (err={total_err:g}, "
                               f"tol={tol:g})")
        mid = 0.5 * (a[refine] + b[refine])
        new_a = np.concatenate([a[refine], mid])
        new_b = np.concatenate([mid, b[refine]])
        new_est, new_err, new_rnd = _gk21(fun, new_a, new_b)
        keep = ~refine
        a = np.concatenate([a[keep], new_a])
        b = np.concatenate([b[keep], new_b])
        est = np.concatenate([est[keep], new_est])
        err = np.concatenate([err[keep], new_err])
        rnd = np.concatenate([rnd[keep], new_rnd])
    return est.sum(axis=0)


def _breakpoints(lo, hi, candidates):
    """Sorted unique candidate points strictly inside (lo, hi)."""
    pts = np.unique(np.asarray(candidates, dtype=float))
    span = hi - lo
    keep = (pts > lo + 1e-12 * span) & (pts < hi - 1e-12 * span)
    return list(pts[keep])


def _occupations(e, mu, T):
    """(f(e; mu, T), 1 - f(e; mu, T)), both with full relative accuracy (T = 0 allowed)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (np.asarray(e, dtype=float) - mu) / T
    x = np.where(np.isnan(x), 0.0, x)
    return expit(-x), expit(x)


def _as_modes(M):
    """Electron-boson couplings as a complex (N_b, n, n) array."""
    M = np.asarray(M, dtype=complex)
    return M[None] if M.ndim == 2 else M


def _eps_window(mu_a, mu_b, omega, T, H, gamma_L, gamma_R):
    """Integration interval and breakpoints for an epsilon integral at fixed omega.

    The Fermi factors f(e; mu_a) and f(e - w; mu_b) only differ (and the
    emission/absorption products f(1 - f') are only non-negligible) inside
    [min(mu_a, mu_b + w), max(mu_a, mu_b + w)]; outside, every weight decays
    like exp(-dist/T).  The window is widened by _N_KT*T on each side.
    Breakpoints: Re z_k and Re z_k + w (centres of the Lorentzian peaks of
    A(e) and A(e - w)) and the Fermi edges mu_a, mu_b + w.
    """
    lo = min(mu_a, mu_b + omega) - _N_KT * T
    hi = max(mu_a, mu_b + omega) + _N_KT * T
    z = _h_eff_eigenvalues(H, gamma_L, gamma_R)
    cands = np.concatenate([z.real, z.real + omega, [mu_a, mu_b + omega]])
    return lo, hi, _breakpoints(lo, hi, cands)


def _channel_leads(channel):
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    return _LEAD_INDEX[channel[0]], _LEAD_INDEX[channel[1]]


def _pair_integrals(H, gamma_L, gamma_R, M, mu_L, mu_R, T_e, omega, channel,
                    kinds, epsabs, epsrel):
    """int de/2pi tr[M^m A_a(e) M^n A_b(e - w)] * weight(e), for each weight kind.

    kinds: tuple of "dos" (weight -(f_a - f_b') = f_b'(1 - f_a) - f_a(1 - f_b')),
    "emission" (f_a (1 - f_b')) and "absorption" (f_b' (1 - f_a)).
    Returns an array of shape (len(kinds), N_b, N_b), complex.
    """
    H = np.asarray(H, dtype=complex)
    gammas = np.stack([np.asarray(gamma_L, dtype=complex), np.asarray(gamma_R, dtype=complex)])
    M = _as_modes(M)
    nb = M.shape[0]
    a, b = _channel_leads(channel)
    mu_a, mu_b = (float(mu_L), float(mu_R))[a], (float(mu_L), float(mu_R))[b]
    omega, T = float(omega), float(T_e)
    h_eff = H - 0.5j * gammas.sum(axis=0)
    eye = np.eye(H.shape[0])

    def integrand(e):
        # G^r at e (for lead a) and at e - w (for lead b), in one inversion.
        g = np.linalg.inv(np.stack([e * eye, (e - omega) * eye]) - h_eff)
        a_a = g[0] @ gammas[a] @ g[0].conj().T           # A_a(e)
        a_b = g[1] @ gammas[b] @ g[1].conj().T           # A_b(e - w)
        tr = np.einsum("mij,nji->mn", M @ a_a, M @ a_b)  # tr[M^m A_a M^n A_b]
        f_a, fbar_a = _occupations(e, mu_a, T)
        f_b, fbar_b = _occupations(e - omega, mu_b, T)
        emis = f_a * fbar_b                              # f_a (1 - f_b')
        absp = f_b * fbar_a                              # f_b' (1 - f_a)
        w = {"dos": absp - emis, "emission": emis, "absorption": absp}
        vals = np.stack([w[k] * tr for k in kinds]) / (2.0 * np.pi)
        return vals.view(float).ravel()

    lo, hi, pts = _eps_window(mu_a, mu_b, omega, T, H, gamma_L, gamma_R)
    res, err, info = quad_vec(integrand, lo, hi, epsabs=epsabs, epsrel=epsrel,
                              points=pts, full_output=True, limit=20000)
    if not info.success:
        raise RuntimeError(f"epsilon quadrature did not converge (err={err:g})")
    return res.view(complex).reshape(len(kinds), nb, nb)


# --------------------------------------------------------------------------
# Electron-hole-pair baths (docs/physics.md §4)
# --------------------------------------------------------------------------
def ehp_dos_ref(H, gamma_L, gamma_R, M, mu_L, mu_R, T_e, omega, channel,
                epsabs=1e-13, epsrel=1e-11):
    """Coupling-weighted EHP density of states Lambda^{ab}_{mn}(w)  (docs/physics.md §4, paper Eq. 7).

        Lambda^{ab}_{mn}(w) = -int de/2pi tr[M^m A_a(e) M^n A_b(e - w)]
                                      (f(e; mu_a, T_e) - f(e - w; mu_b, T_e))

    ``channel`` in ("LL", "RR", "RL", "LR"): electron in a, hole in b.
    ``M`` has shape (N_b, n, n).  Returns the (N_b, N_b) complex matrix.

    The e-integral is done with ``quad_vec`` on the finite window described in
    ``_eps_window`` (Fermi window widened by 50 T, split at the Lorentzian
    centres Re z_k, Re z_k + w and at mu_a, mu_b + w).
    """
    return _pair_integrals(H, gamma_L, gamma_R, M, mu_L, mu_R, T_e, omega, channel,
                           ("dos",), epsabs, epsrel)[0]


def golden_rule_rates_ref(H, gamma_L, gamma_R, M, mu_L, mu_R, T_e, omega, channel,
                          epsabs=1e-13, epsrel=1e-11):
    """Fermi-golden-rule emission and absorption rates (docs/physics.md §4, paper Eqs. 4-5).

        emission_mn   = int de/2pi tr[M^m A_a(e) M^n A_b(e - w)] f(e; mu_a)(1 - f(e - w; mu_b))
        absorption_mn = int de/2pi tr[M^m A_a(e) M^n A_b(e - w)] f(e - w; mu_b)(1 - f(e; mu_a))

    (normalised like Lambda, i.e. with de/2pi; the paper's 2pi/hbar prefactor
    and |M|^2 are contained in the trace).  Same index convention as
    ``ehp_dos_ref``; returns (emission, absorption), each (N_b, N_b) complex.
    Identities: absorption - emission = Lambda, and for a single mode
    emission/absorption = exp(-(w - mu_ab)/T_e) (detailed balance, Eq. 4).
    """
    res = _pair_integrals(H, gamma_L, gamma_R, M, mu_L, mu_R, T_e, omega, channel,
                          ("emission", "absorption"), epsabs, epsrel)
    return res[0], res[1]


def power_spectrum_ref(H, gamma_L, gamma_R, M, mu_L, mu_R, T_e, omega, channel,
                       epsabs=1e-13, epsrel=1e-11):
    """EHP power spectrum Pi~^{ab}(w) = [n_B(w - mu_ab; T_e) + 1/2] Lambda^{ab}(w)  (docs/physics.md §4, Eq. 6).

    Evaluated through the exact identity (n_B + 1/2) Lambda = (emission +
    absorption)/2 (see module docstring), which stays finite at w = mu_ab
    where n_B diverges and Lambda vanishes.  Returns (N_b, N_b) complex.
    """
    emis, absp = golden_rule_rates_ref(H, gamma_L, gamma_R, M, mu_L, mu_R, T_e, omega,
                                       channel, epsabs, epsrel)
    return 0.5 * (emis + absp)


# --------------------------------------------------------------------------
# Currents (docs/physics.md §5, paper Eq. 8)
# --------------------------------------------------------------------------
def _elastic_current(H, gamma_L, gamma_R, mu_L, mu_R, T_e):
    """I_el = int de/2pi Tr[Gamma_L G^r Gamma_R G^a](f(e; mu_L) - f(e; mu_R))  (docs/physics.md §5)."""
    if mu_L == mu_R:
        return 0.0
    gl = np.asarray(gamma_L, dtype=complex)
    gr = np.asarray(gamma_R, dtype=complex)

    def integrand(e):
        g = green_retarded(H, gamma_L, gamma_R, e)
        trans = np.trace(gl @ g @ gr @ g.conj().T).real
        return trans * (fermi(e, mu_L, T_e) - fermi(e, mu_R, T_e)) / (2.0 * np.pi)

    lo = min(mu_L, mu_R) - _N_KT * T_e
    hi = max(mu_L, mu_R) + _N_KT * T_e
    z = _h_eff_eigenvalues(H, gamma_L, gamma_R)
    pts = _breakpoints(lo, hi, np.concatenate([z.real, [mu_L, mu_R]]))
    val, _err = quad(integrand, lo, hi, points=pts or None, epsabs=1e-15, epsrel=1e-11,
                     limit=1000)
    return val


def _fast_spectra(H, gamma_L, gamma_R, M):
    """Vectorised partial spectral functions for the current integrals.

    Returns (spectra, M_basis): ``spectra(e)`` maps energies of any shape S to
    the array S + (2, n, n) of (A_L(e), A_R(e)) expressed in a basis in which
    the couplings are ``M_basis``, so that tr[M^m A_a M^n A_b] is basis
    independent.  Where H_eff = R diag(z) R^-1 is safely diagonalisable the
    eigenbasis is used:  G^r(e) = R diag(1/(e - z)) R^-1, hence
    R^-1 A_a(e) R^-dagger = d_i conj(d_j) (R^-1 Gamma_a R^-dagger)_ij with
    d = 1/(e - z), and M -> R^dagger M R.  This needs no matrix inversion per
    energy.  It is only used if R is well conditioned and it reproduces the
    direct G^r Gamma G^a at test energies to 1e-12; otherwise the direct
    (inverting) form in the original basis is used.
    """
    H = np.asarray(H, dtype=complex)
    n = H.shape[0]
    gammas = np.stack([np.asarray(gamma_L, dtype=complex), np.asarray(gamma_R, dtype=complex)])
    M = _as_modes(M)
    h_eff = H - 0.5j * gammas.sum(axis=0)

    def direct(e):
        e = np.asarray(e, dtype=float)
        g = np.linalg.inv(e[..., None, None] * np.eye(n) - h_eff)[..., None, :, :]
        return g @ gammas @ np.conj(np.swapaxes(g, -1, -2))

    z, r = np.linalg.eig(h_eff)
    if np.linalg.cond(r) > 1e3:
        return direct, M
    r_inv = np.linalg.inv(r)
    c = r_inv @ gammas @ r_inv.conj().T                 # (2, n, n)
    m_eig = r.conj().T @ M @ r

    def eigen(e):
        d = 1.0 / (np.asarray(e, dtype=float)[..., None] - z)    # S + (n,)
        return (d[..., None, :, None] * np.conj(d)[..., None, None, :]) * c

    e_test = np.concatenate([z.real, z.real + 0.3 * z.imag, [z.real.mean() + 7.0]])
    a_dir = direct(e_test)
    a_eig = r[None, None] @ eigen(e_test) @ r.conj().T[None, None]
    if np.max(np.abs(a_dir - a_eig)) > 1e-12 * np.max(np.abs(a_dir)):
        return direct, M
    return eigen, m_eig


def _flux_integrand(H, gamma_L, gamma_R, M, K, eta, mu_L, mu_R, T_e, T_ph, omega):
    """Vectorised e-integrand of the per-channel boson fluxes at fixed w.

    Returns (fun, lo, hi, points).  ``fun(e)`` maps an array e of shape (N,)
    to an (N, 8) array whose columns are, for the channels c = LL, RR, RL, LR,

        [:, c]     = (1/2pi) sum_mn P_nm tr[M^m A_a(e) M^n A_b(e-w)] f_a (1 - f_b')
        [:, 4 + c] = (1/2pi) sum_mn Q_nm tr[M^m A_a(e) M^n A_b(e-w)] (f_b'(1 - f_a) - f_a(1 - f_b'))

    with P = A_ph(w), Q = n_B(w; T_ph) A_ph(w), f_a = f(e; mu_a, T_e),
    f_b' = f(e - w; mu_b, T_e).  Integrated over e they give Tr[A_ph E^c(w)]
    and n_B(w; T_ph) Tr[A_ph Lambda^c(w)] (docs/physics.md §4–§5).
    """
    n = np.shape(H)[0]
    spectra, m_basis = _fast_spectra(H, gamma_L, gamma_R, M)
    K = np.atleast_2d(np.asarray(K, dtype=float))
    eta = np.atleast_2d(np.asarray(eta, dtype=float))
    mus = np.array([mu_L, mu_R], dtype=float)
    ch_a, ch_b = _CH_A, _CH_B

    d = phonon_green_retarded(K, eta, omega)
    a_ph = d @ (2.0 * omega * eta) @ d.conj().T                        # A_ph(w)
    a_ph_n = d @ (2.0 * _omega_bose(omega, T_ph) * eta) @ d.conj().T   # n_B(w; T_ph) A_ph(w)
    # Superoperators S_p[(i,l),(j,k)] = sum_mn P_nm M^m_ij M^n_kl, so that
    # sum_mn P_nm tr[M^m X M^n Y] = sum S_p[(i,l),(j,k)] X_jk Y_li.
    s_op = np.einsum("pnm,mij,nkl->piljk", np.stack([a_ph, a_ph_n]), m_basis, m_basis)
    s_op_t = np.swapaxes(s_op.reshape(2, n * n, n * n), -1, -2) / (2.0 * np.pi)

    def fun(e):
        e = np.asarray(e, dtype=float)
        spec = spectra(np.stack([e, e - omega], axis=1))            # (N, 2 energies, 2 leads, n, n)
        x_vec = spec[:, 0].reshape(-1, 2, n * n)                     # A_a(e), a = L, R
        y_vec = np.swapaxes(spec[:, 1], -1, -2).reshape(-1, 2, n * n)  # A_b(e - w)^T, b = L, R
        s_x = x_vec[:, None] @ s_op_t                                # [N, p, a, (i,l)]
        tr = (y_vec[:, None] @ np.swapaxes(s_x, -1, -2)).real        # [N, p, b, a]
        f_a, fbar_a = _occupations(e[:, None], mus, T_e)             # (N, 2) each
        f_b, fbar_b = _occupations(e[:, None] - omega, mus, T_e)
        emis = f_a[:, ch_a] * fbar_b[:, ch_b]                        # f_a (1 - f_b')
        dos = f_b[:, ch_b] * fbar_a[:, ch_a] - emis                  # -(f_a - f_b')
        return np.concatenate([tr[:, 0, ch_b, ch_a] * emis, tr[:, 1, ch_b, ch_a] * dos], axis=1)

    # Union of the four channel windows [min(mu_a, mu_b + w), max(mu_a, mu_b + w)],
    # widened by _N_KT*T_e; split at every Lorentzian centre and Fermi edge.
    lo = mus.min() - _N_KT * T_e
    hi = mus.max() + omega + _N_KT * T_e
    z = _h_eff_eigenvalues(H, gamma_L, gamma_R)
    pts = _breakpoints(lo, hi, np.concatenate([z.real, z.real + omega, mus, mus + omega]))
    return fun, lo, hi, pts


def currents_ref(H, gamma_L, gamma_R, M, K, eta, mu_L, mu_R, T_e, T_ph,
                 epsrel=1e-10, inner_epsrel=1e-11, inner="vectorized"):
    """Energy, boson-number and charge currents at lowest order  (docs/physics.md §5, paper Eq. 8).

        T^{ab}(w) = Tr[Lambda^{ab}(w) A_ph(w)],  A_ph = D^r (2 w eta) D^a,
        D^r(w) = [w^2 - K + i w eta]^-1,
        J^{ab} = int_0^inf dw/2pi  w T^{ab}(w) [n_B(w - mu_ab; T_e) - n_B(w; T_ph)],
        N^{ab} = the same without the factor w,
        I = N^{LR} - N^{RL},   P = I (mu_L - mu_R),
        I_elastic = int de/2pi Tr[Gamma_L G^r Gamma_R G^a](f_L - f_R).

    Channels in the order ("LL", "RR", "RL", "LR").  Returns a dict with keys
    "J" (float), "J_channels" (4,), "N_channels" (4,), "I", "I_elastic", "P".

    Method.  Using Lambda n_B(w - mu_ab; T_e) = emission E (exact, see the
    module docstring), the integrand of J^{ab} is
        w * ( Tr[A_ph E^{ab}(w)] - n_B(w; T_ph) Tr[A_ph Lambda^{ab}(w)] ),
    where both terms are finite for all w >= 0 (n_B(w; T_ph) A_ph(w) tends to
    a constant at w -> 0), so nothing singular is ever evaluated at w = mu_ab.
    For every w one inner e-integral returns both terms for all four channels
    (the mode contraction with A_ph is done before the e-integration, see
    ``_flux_integrand``); the outer w-integral is one ``quad_vec`` call over the
    16-vector [w * terms, terms].  Keeping the two terms separate makes the
    tolerance relative to the emission/absorption fluxes, so J = 0 in
    equilibrium (where they cancel) is obtained without chasing rounding noise.

    ``inner="vectorized"`` (default) does the e-integral with ``_adaptive_gk21``
    (the quad_vec algorithm, vectorised over nodes); ``inner="quad_vec"`` uses
    ``scipy.integrate.quad_vec`` itself (about 10x slower, same result).
    """
    mu_L, mu_R, T_e, T_ph = float(mu_L), float(mu_R), float(T_e), float(T_ph)
    V = mu_L - mu_R
    K = np.atleast_2d(np.asarray(K, dtype=float))
    eta = np.atleast_2d(np.asarray(eta, dtype=float))

    def inner_integral(omega):
        fun, lo, hi, pts = _flux_integrand(H, gamma_L, gamma_R, M, K, eta,
                                           mu_L, mu_R, T_e, T_ph, omega)
        if inner == "vectorized":
            return _adaptive_gk21(fun, [lo, *pts, hi], epsabs=1e-16, epsrel=inner_epsrel)
        if inner == "quad_vec":
            res, err, info = quad_vec(lambda e: fun(np.array([e]))[0], lo, hi, epsabs=1e-16,
                                      epsrel=inner_epsrel, norm="max", points=pts,
                                      full_output=True, limit=20000)
            if not info.success:
                raise RuntimeError(f"inner e-quadrature failed at w={omega} (err={err:g})")
            return res
        raise ValueError(f"unknown inner method {inner!r}")

    def outer(omega):
        terms = inner_integral(omega)
        return np.concatenate([omega * terms, terms]) / (2.0 * np.pi)

    # Upper limit.  For w > |V| + 50 max(T_e, T_ph) both Bose factors
    # n_B(w - mu_ab; T_e) and n_B(w; T_ph) are < e^-50 ~ 2e-22 (the emission
    # term carries the same factor), while Lambda(w) A_ph(w) grows at most
    # polynomially, so the neglected tail is far below 1e-12 of the result.
    # The largest mode frequency plus 20 half-widths is added on top so that
    # the whole mode Lorentzian lies inside the interval at any temperature.
    # Breakpoints: mode resonances, |V| (where n_B(w - mu_ab) has its pole)
    # and the positive differences Re(z_k - z_p) (peaks of Lambda).
    wk = mode_frequencies(K, eta)
    top = wk[np.argmax(wk.real)]
    upper = abs(V) + _N_KT * max(T_e, T_ph) + top.real + 20.0 * abs(top.imag)
    z = _h_eff_eigenvalues(H, gamma_L, gamma_R)
    dz = (z[:, None] - z[None, :]).real.ravel()
    pts = _breakpoints(0.0, upper, np.concatenate([wk.real, [abs(V)], dz[dz > 0]]))
    res, err, info = quad_vec(outer, 0.0, upper, epsabs=1e-15, epsrel=epsrel, norm="max",
                              points=pts, full_output=True, limit=20000)
    if not info.success:
        raise RuntimeError(f"outer w-quadrature did not converge (err={err:g})")
    j_channels = res[0:4] - res[4:8]
    n_channels = res[8:12] - res[12:16]
    current = n_channels[3] - n_channels[2]   # N^LR - N^RL
    return {
        "J": float(j_channels.sum()),
        "J_channels": j_channels,
        "N_channels": n_channels,
        "I": float(current),
        "I_elastic": float(_elastic_current(H, gamma_L, gamma_R, mu_L, mu_R, T_e)),
        "P": float(current * V),
    }


# --------------------------------------------------------------------------
# Random test models
# --------------------------------------------------------------------------
def _random_unitary(rng, n):
    """Haar-random unitary (QR of a complex Gaussian matrix with phase fix)."""
    x = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / np.sqrt(2)
    q, r = np.linalg.qr(x)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _random_orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def random_model(rng, n, N_b):
    """Random non-diagonal model (H, gamma_L, gamma_R, M, K, eta) in the range of docs/physics.md §8.

    * H: Hermitian n x n, U diag(levels) U^dagger with levels uniform in [-2, 2].
    * gamma_L, gamma_R: PSD n x n, U diag(d) U^dagger, each with a random rank
      between 1 and n; nonzero eigenvalues uniform in [0.05, 1.5].
    * M: (N_b, n, n), Hermitian, entries of size ~0.2-0.3 (rms 0.3/sqrt(2)).
    * K: real symmetric positive definite, eigenvalues uniform in [0.3, 3].
    * eta: real symmetric, eigenvalues uniform in [0.02, 0.5].
    Redraws until every eigenvalue of H - i(Gamma_L + Gamma_R)/2 has
    imaginary part <= -0.01.
    """
    def psd(rank):
        d = np.zeros(n)
        d[:rank] = rng.uniform(0.05, 1.5, rank)
        u = _random_unitary(rng, n)
        g = (u * d) @ u.conj().T
        return 0.5 * (g + g.conj().T)

    while True:
        u = _random_unitary(rng, n)
        H = (u * rng.uniform(-2.0, 2.0, n)) @ u.conj().T
        H = 0.5 * (H + H.conj().T)
        gamma_L = psd(int(rng.integers(1, n + 1)))
        gamma_R = psd(int(rng.integers(1, n + 1)))
        if np.all(_h_eff_eigenvalues(H, gamma_L, gamma_R).imag <= -0.01):
            break
    x = rng.standard_normal((N_b, n, n)) + 1j * rng.standard_normal((N_b, n, n))
    M = 0.3 * 0.5 * (x + np.conj(np.swapaxes(x, -1, -2))) / np.sqrt(2)  # rms entry 0.3/sqrt(2)
    o = _random_orthogonal(rng, N_b)
    K = (o * rng.uniform(0.3, 3.0, N_b)) @ o.T
    o = _random_orthogonal(rng, N_b)
    eta = (o * rng.uniform(0.02, 0.5, N_b)) @ o.T
    return H, gamma_L, gamma_R, M, 0.5 * (K + K.T), 0.5 * (eta + eta.T)


def paper_model(eps_L=10.5, eps_R=9.5, gamma_L=0.5, gamma_R=0.5, m=0.5, Omega=1.0,
                gamma_ph=0.5):
    """The paper's two-level junction (docs/physics.md §2 and §7), defaults of Figs. 3-5.

    H = diag(eps_L, eps_R), Gamma_L = gamma_L |1><1|, Gamma_R = gamma_R |2><2|,
    one mode with M = m (|1><2| + |2><1|), K = [[Omega^2]], eta = [[gamma_ph]].
    Returns (H, gamma_L, gamma_R, M, K, eta) like ``random_model``.
    """
    H = np.diag([float(eps_L), float(eps_R)])
    g_l = np.diag([float(gamma_L), 0.0])
    g_r = np.diag([0.0, float(gamma_R)])
    M = float(m) * np.array([[[0.0, 1.0], [1.0, 0.0]]])
    return H, g_l, g_r, M, np.array([[float(Omega) ** 2]]), np.array([[float(gamma_ph)]])
