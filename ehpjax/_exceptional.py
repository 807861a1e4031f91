"""Current-induced exceptional point of two modes (docs/physics.md §6, paper Eq. 9).

Three layers, each differentiable with respect to every floating-point input:

1. The 2×2 algebra of an effective dynamical matrix K_eff = [[A, B], [C, D]] in closed
   form: discriminant, eigenvalues, mode frequencies (square roots, Re ≥ 0), right
   eigenvectors, their overlap and the phase rigidity.
2. Exceptional-point (EP) finders: ``closest_approach`` (the bias where the two mode
   frequencies come closest, golden-section search) and ``find_exceptional_point`` /
   ``solve_exceptional_point`` (two real parameters tuned so that the discriminant
   vanishes exactly, Newton's method). Both run through optimistix, so the located
   point carries implicit-function-theorem gradients.
3. The microscopic origin of Eq. 9's antisymmetric ±V·a entries: the bias-driven real
   antisymmetric part of the e-bath self-energy Π^r_e, from the EHP baths of ``_ehp.py``.

Conventions. For K_eff the eigenvalues are

    λ± = tr/2 ± √disc,     disc = ((A − D)/2)² + B C,

with the principal square root. For Eq. 9 with b = 0,

    disc = δ²(Ω + iγ)² − c²Ω² − V²a²,

so Im disc = 2δ²Ωγ > 0 for every real V (γ > 0): √disc never crosses its branch cut
and the labels ± are continuous in V. "+" is the upper mode (Ω + δ/2) at small V;
beyond the EP the pair has nearly equal real parts and "+" is the one with larger
Im λ. (When b ≠ 0 or the damping differs, disc can cross the negative real axis;
``track_branches`` then restores continuity along a sweep.)

An exact EP needs disc = 0, two real conditions. For γ → 0 and b = 0 it is reached at
V_EP = Ω√(δ² − c²)/|a| (``lossless_exceptional_bias``). At finite γ with b = 0 it is
never reached for real V and c (Im disc = 2δ²Ωγ whatever they are); the non-Hermitian
"Lorentz" term b supplies the missing imaginary part: Im disc = 2Ω(δ²γ − V²ab).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import equinox as eqx
import jax
import jax.numpy as jnp

if TYPE_CHECKING:  # optimistix is imported where it is used, so `import ehpjax` does not load it
    import optimistix as optx

from ._ehp import ehp_dos
from ._green import spectral_functions
from ._model import Baths, Junction

EQ9_PARAMETERS = ("V", "Omega", "delta", "gamma", "a", "b", "c")


# ----------------------------------------------------------------------------------------
# 1. Closed-form 2×2 algebra


def exceptional_point_matrix(V, Omega, delta, gamma, a, b, c):
    """Effective dynamical matrix of two modes under bias V (paper Eq. 9), (*shape, 2, 2) complex:

        [[(Ω + δ/2 + iγ)²,       V(a + ibΩ) + icΩ],
         [−V(a + ibΩ) + icΩ,     (Ω − δ/2 + iγ)²]]

    Ω: average mode frequency, δ: detuning, γ: damping (Eq. 9's sign, +iγ), a: current-induced
    non-conservative force per unit bias, b: effective Lorentz force, c: dissipative coupling.
    Arguments broadcast against each other (e.g. an array of V gives a stack of matrices).
    """
    V, Omega, delta, gamma, a, b, c = jnp.broadcast_arrays(
        *(jnp.asarray(x, dtype=jnp.float64) for x in (V, Omega, delta, gamma, a, b, c))
    )
    coupling = V * (a + 1j * b * Omega)
    damping = 1j * c * Omega
    return jnp.stack(
        [
            jnp.stack([(Omega + 0.5 * delta + 1j * gamma) ** 2, coupling + damping], axis=-1),
            jnp.stack([-coupling + damping, (Omega - 0.5 * delta + 1j * gamma) ** 2], axis=-1),
        ],
        axis=-2,
    )


def discriminant(K_eff):
    """disc = ((K11 − K22)/2)² + K12 K21, shape (*shape,); the eigenvalues λ± = tr/2 ± √disc
    coalesce (an exceptional point, or a degeneracy) where it vanishes."""
    K_eff = jnp.asarray(K_eff)
    return 0.25 * (K_eff[..., 0, 0] - K_eff[..., 1, 1]) ** 2 + K_eff[..., 0, 1] * K_eff[..., 1, 0]


def eigenvalues(K_eff):
    """(λ+, λ−) = tr/2 ± √disc with the principal square root, shape (*shape, 2).

    Continuous along any path on which disc avoids the negative real axis (module docstring).
    """
    K_eff = jnp.asarray(K_eff)
    half_trace = 0.5 * (K_eff[..., 0, 0] + K_eff[..., 1, 1])
    root = jnp.sqrt(discriminant(K_eff).astype(jnp.complex128))
    return jnp.stack([half_trace + root, half_trace - root], axis=-1)


def mode_frequencies(K_eff):
    """Mode frequencies (ω+, ω−) = (√λ+, √λ−), the square roots with Re ω ≥ 0 of the
    eigenvalues of ``eigenvalues`` and in the same order, shape (*shape, 2) complex.

    For Eq. 9 (+iγ convention) Im ω ≈ +γ for a damped mode and Im ω < 0 means gain (beyond
    the EP of Fig. 6 one mode is amplified: a current-driven instability). The sign follows the
    convention of the damping in K_eff; docs/physics.md's Π^r = −iωη gives Im ω < 0 for damping.
    """
    freq = jnp.sqrt(eigenvalues(K_eff))
    return jnp.where(jnp.real(freq) < 0, -freq, freq)


def mode_eigenvectors(K_eff):
    """Right eigenvectors, unit norm, as the columns of a (*shape, 2, 2) array, in the order
    of ``eigenvalues``: K_eff[..., :, k] ∝ λ_k v_k.

    Closed form for [[A, B], [C, D]]: v = (B, λ − A) or, equivalently, (λ − D, C); the
    longer of the two is used, so that neither degenerates when B or C vanishes.
    """
    K_eff = jnp.asarray(K_eff).astype(jnp.complex128)
    A, B = K_eff[..., 0, 0, None], K_eff[..., 0, 1, None]
    C, D = K_eff[..., 1, 0, None], K_eff[..., 1, 1, None]
    lam = eigenvalues(K_eff)  # (*shape, 2)
    first = jnp.stack([jnp.broadcast_to(B, lam.shape), lam - A], axis=-2)  # (*shape, 2 comps, 2 modes)
    second = jnp.stack([lam - D, jnp.broadcast_to(C, lam.shape)], axis=-2)
    n_first = jnp.linalg.norm(first, axis=-2, keepdims=True)
    n_second = jnp.linalg.norm(second, axis=-2, keepdims=True)
    use_first = n_first >= n_second
    vec = jnp.where(use_first, first, second)
    norm = jnp.where(use_first, n_first, n_second)
    return vec / jnp.where(norm > 0, norm, 1.0)


def eigenvector_overlap(K_eff):
    """|⟨v+|v−⟩| / (‖v+‖ ‖v−‖) of the two right eigenvectors, shape (*shape,).

    0 for a normal matrix with distinct eigenvalues, 1 at an exceptional point, where the
    eigenvectors coalesce (paper Fig. 6c). A non-normal K_eff gives values in between.
    """
    vec = mode_eigenvectors(K_eff)
    return jnp.abs(jnp.sum(jnp.conj(vec[..., :, 0]) * vec[..., :, 1], axis=-1))


def phase_rigidity(K_eff):
    """Phase rigidity r_k = |u_k† v_k| / (‖u_k‖ ‖v_k‖) of both modes, shape (*shape, 2).

    u_k, v_k: left and right eigenvectors of λ_k (u_k† K = λ_k u_k†). r = 1 for a normal
    matrix and r → 0 at an exceptional point (1/r is the condition number of λ_k).
    """
    right = mode_eigenvectors(K_eff)
    # Left eigenvectors of K are conj of the right eigenvectors of K^T, same eigenvalues.
    left = jnp.conj(mode_eigenvectors(jnp.swapaxes(jnp.asarray(K_eff), -1, -2)))
    return jnp.abs(jnp.sum(jnp.conj(left) * right, axis=-2))


def track_branches(frequencies):
    """Relabel a sweep of frequency pairs, shape (N, 2), so that each branch is continuous:
    at every step keep the order, or swap it, whichever moves the pair less. Returns
    (frequencies, swapped) with swapped[i] telling whether row i was swapped. Use it
    when √disc crosses its branch cut inside the sweep (module docstring)."""
    frequencies = jnp.asarray(frequencies)

    def step(previous, current):
        swapped_pair = current[::-1]
        keep = jnp.sum(jnp.abs(current - previous)) <= jnp.sum(jnp.abs(swapped_pair - previous))
        chosen = jnp.where(keep, current, swapped_pair)
        return chosen, (chosen, ~keep)

    _, (tracked, swapped) = jax.lax.scan(step, frequencies[0], frequencies)
    return tracked, swapped


def lossless_exceptional_bias(Omega, delta, a, c):
    """V_EP = Ω √(δ² − c²) / |a|: the bias where Eq. 9 (b = 0) has its EP as γ → 0
    (disc = (δ² − c²)Ω² − V²a² = 0). NaN if |c| > |δ| (no EP at real V)."""
    Omega, delta, a, c = (jnp.asarray(x, dtype=jnp.float64) for x in (Omega, delta, a, c))
    return Omega * jnp.sqrt(delta**2 - c**2) / jnp.abs(a)


# ----------------------------------------------------------------------------------------
# 2. Finders


def frequency_gap(K_eff):
    """|ω+ − ω−|, shape (*shape,): 0 exactly at an exceptional point (or a degeneracy)."""
    freq = mode_frequencies(K_eff)
    return jnp.abs(freq[..., 0] - freq[..., 1])


def closest_approach(matrix_fn: Callable, lower, upper, args=None, *, num: int = 129, tol: float = 1e-13):
    """The bias V in [lower, upper] where the two mode frequencies come closest.

    matrix_fn(V, args) -> (2, 2) effective dynamical matrix (e.g. Eq. 9, or one built from a
    junction). The gap |ω+ − ω−| is scanned on ``num`` points, then minimised by
    golden-section search (optimistix) between the neighbours of the best point. Returns
    (V, gap). Differentiable in ``args`` (implicit function theorem) where the gap is a smooth
    function of V near its minimum, i.e. off the exact EP (γ > 0).
    """
    lower = jnp.asarray(lower, dtype=jnp.float64)
    upper = jnp.asarray(upper, dtype=jnp.float64)

    def gap_squared(V, args):
        return frequency_gap(matrix_fn(V, args)) ** 2

    grid = jnp.linspace(lower, upper, num)
    values = jax.vmap(gap_squared, (0, None))(jax.lax.stop_gradient(grid), args)
    best = jnp.argmin(values)
    lo = jax.lax.stop_gradient(grid[jnp.maximum(best - 1, 0)])
    hi = jax.lax.stop_gradient(grid[jnp.minimum(best + 1, num - 1)])

    import optimistix as optx

    # Search in t ∈ [0, 1], V = lo + t (hi − lo): optimistix 0.1.0's GoldenSearch places its
    # first point at (upper − lower)/φ², which is only inside the bracket when lower = 0.
    def objective(t, args):
        return gap_squared(lo + t * (hi - lo), args)

    solution = optx.minimise(
        objective,
        optx.GoldenSearch(rtol=tol, atol=tol),
        jnp.asarray(0.5),
        args,
        options={"lower": jnp.asarray(0.0), "upper": jnp.asarray(1.0)},
        max_steps=256,
        throw=False,
    )
    V = lo + solution.value * (hi - lo)
    return V, jnp.sqrt(gap_squared(V, args))


class ExceptionalPointResult(eqx.Module):
    """Solution of ``find_exceptional_point``: the tuned parameters y (2,), the residual
    discriminant there (complex), and the optimistix result code (0: success)."""

    y: jax.Array
    discriminant: jax.Array
    result: optx.RESULTS
    steps: jax.Array


def find_exceptional_point(matrix_fn: Callable, y0, args=None, *, rtol: float = 1e-13, atol: float = 1e-13,
                           max_steps: int = 64, throw: bool = True) -> ExceptionalPointResult:
    """Tune two real parameters y = (y0, y1) so that disc(matrix_fn(y, args)) = 0 exactly.

    Newton's method (optimistix) on the two real equations Re disc = Im disc = 0; the
    solution carries implicit gradients with respect to ``args``. matrix_fn(y, args) ->
    (2, 2). The tolerances act on y and on the residual (|disc| ≲ 1e-13 for O(1) matrices);
    with throw=True a non-converged solve raises.
    """
    import optimistix as optx

    y0 = jnp.asarray(y0, dtype=jnp.float64)
    if y0.shape != (2,):
        raise ValueError(f"y0 must hold the two unknowns, shape (2,), got {y0.shape}")

    def residual(y, args):
        d = discriminant(matrix_fn(y, args))
        return jnp.stack([jnp.real(d), jnp.imag(d)])

    solution = optx.root_find(residual, optx.Newton(rtol=rtol, atol=atol), y0, args, max_steps=max_steps, throw=throw)
    y = solution.value
    return ExceptionalPointResult(
        y=y, discriminant=discriminant(matrix_fn(y, args)), result=solution.result, steps=solution.stats["num_steps"]
    )


def solve_exceptional_point(params: Mapping[str, float], unknowns: Sequence[str] = ("V", "c"), **kwargs):
    """Exact EP of Eq. 9 at finite damping: tune the two named ``unknowns`` (any two of
    V, Omega, delta, gamma, a, b, c), starting from their values in ``params``, so that
    the discriminant vanishes. Returns (params with the solved values, |disc| at the solution).

    With b = 0 and γ > 0 the pair (V, c) cannot work (Im disc = 2δ²Ωγ for all V, c: the
    Newton Jacobian is singular): give b ≠ 0, or solve for (V, b). Keyword arguments go to
    ``find_exceptional_point``.
    """
    unknowns = tuple(unknowns)
    if len(unknowns) != 2 or len(set(unknowns)) != 2 or not set(unknowns) <= set(EQ9_PARAMETERS):
        raise ValueError(f"unknowns must be two distinct names out of {EQ9_PARAMETERS}, got {unknowns}")
    missing = [k for k in EQ9_PARAMETERS if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}")
    fixed = {k: jnp.asarray(params[k], dtype=jnp.float64) for k in EQ9_PARAMETERS if k not in unknowns}
    # Im disc = 2Ω(δ²γ − V²ab) does not depend on c: with b = 0 and (V, c) unknown it is stuck.
    if set(unknowns) <= {"V", "c"} and not isinstance(params["b"], jax.core.Tracer) and float(params["b"]) == 0.0:
        raise ValueError(
            "with b = 0, Im disc = 2δ²Ωγ does not depend on V or c, so the two equations cannot "
            "both be solved for them (no exact EP at γ > 0): give b ≠ 0, solve for ('V', 'b'), or, "
            "at γ = 0, use lossless_exceptional_bias / closest_approach"
        )

    def matrix_fn(y, fixed):
        values = dict(fixed, **dict(zip(unknowns, y)))
        return exceptional_point_matrix(*(values[k] for k in EQ9_PARAMETERS))

    y0 = jnp.stack([jnp.asarray(params[k], dtype=jnp.float64) for k in unknowns])
    sol = find_exceptional_point(matrix_fn, y0, fixed, **kwargs)
    solved = dict(fixed, **dict(zip(unknowns, sol.y)))
    return {k: solved[k] for k in EQ9_PARAMETERS}, jnp.abs(sol.discriminant)


# ----------------------------------------------------------------------------------------
# 3. Microscopic origin: the e-bath self-energy


def ehp_broadening(junction: Junction, baths: Baths, omega):
    """Γ_e(ω) = i(Π^r_e − Π^a_e) = Σ_αβ Λ^αβ(ω) (docs/physics.md §4), shape (*omega.shape, N_b, N_b), Hermitian."""
    return jnp.sum(ehp_dos(junction, baths, omega), axis=0)


def nonconservative_coupling(junction: Junction, baths: Baths, omega):
    """Bias-driven real antisymmetric part of the e-bath self-energy Π^r_e(ω), shape
    (*omega.shape, N_b, N_b): the current-induced non-conservative force matrix that adds
    to the modes' dynamical matrix K + Π^r_e (docs/physics.md §6).

    Π^r_e = Δ − iΓ_e/2 with Δ, Γ_e Hermitian. A Hermitian matrix has a real symmetric real
    part and a real antisymmetric imaginary part, so Δ contributes nothing real and
    antisymmetric, and the real antisymmetric part of Π^r_e is exactly that of −iΓ_e/2,
    namely Im Γ_e / 2 — no Kramers–Kronig transform needed. "Bias-driven": its value at
    zero bias (same mean μ and temperatures) is subtracted; it vanishes identically for
    time-reversal-symmetric conductors anyway. Flat-DOS limit: V · ``nonconservative_coefficient``.
    """
    mu0 = 0.5 * (baths.mu_L + baths.mu_R)
    equilibrium = Baths(mu0, mu0, baths.T_e, baths.T_ph)
    biased = ehp_broadening(junction, baths, omega)
    unbiased = ehp_broadening(junction, equilibrium, omega)
    return 0.5 * jnp.imag(biased - unbiased)


def nonconservative_coefficient(junction: Junction, energy):
    """Flat-DOS coefficient a_mn = −(g_s/2π) Im tr[M^m A_L(ε) M^n A_R(ε)], shape (N_b, N_b),
    real antisymmetric, with A_α evaluated at ``energy`` (the Fermi level μ0).

    If A_α is energy independent, Λ^αβ(ω) = g_s (ω − μ_αβ)/2π tr[M A_α M A_β] (docs/physics.md §4), so
    the bias part of Γ_e is −(g_s V/2π)(t_mn − t_nm) = −(g_s V/π) i Im t_mn, t_mn =
    tr[M^m A_L M^n A_R] (t_nm = t_mn*), and that of −iΓ_e/2 is V·a. For two modes this is
    Eq. 9 with a = a_12 (K_12 = +Va, K_21 = −Va); with g_s = 2, |a| = |Im t_12|/π, the
    paper's expression. The paper prints a = +Im t_12/π: the opposite sign corresponds to
    the transposed (m ↔ n) convention for Π_mn. The EP depends on a² only.
    """
    a_left, a_right = spectral_functions(junction, jnp.asarray(energy, dtype=jnp.float64))
    t = jnp.einsum("mij,jk,nkl,li->mn", junction.M, a_left, junction.M, a_right)
    return -junction.spin_degeneracy / (2 * jnp.pi) * jnp.imag(t)
