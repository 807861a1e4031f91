"""Current-induced exceptional point of two modes (SPEC 6, paper Eq. 9)."""

from __future__ import annotations

import jax.numpy as jnp


def exceptional_point_matrix(V, Omega, delta, gamma, a, b, c):
    """Effective dynamical matrix of two modes under bias V (paper Eq. 9), (2, 2) complex:

        [[(Ω + δ/2 + iγ)²,       V(a + ibΩ) + icΩ],
         [−V(a + ibΩ) + icΩ,     (Ω − δ/2 + iγ)²]]
    """
    V, Omega, delta, gamma, a, b, c = (jnp.asarray(x, dtype=jnp.float64) for x in (V, Omega, delta, gamma, a, b, c))
    coupling = V * (a + 1j * b * Omega)
    damping = 1j * c * Omega
    return jnp.stack(
        [
            jnp.stack([(Omega + 0.5 * delta + 1j * gamma) ** 2, coupling + damping], axis=-1),
            jnp.stack([-coupling + damping, (Omega - 0.5 * delta + 1j * gamma) ** 2], axis=-1),
        ],
        axis=-2,
    )


def mode_frequencies(K_eff):
    """The two mode frequencies: square roots (Re ≥ 0) of the eigenvalues of a 2×2 K_eff,
    from the closed form λ± = tr/2 ± sqrt(disc), disc = (K11 − K22)²/4 + K12 K21.
    Sorted so that the first has the larger real part at disc > 0 branch convention."""
    tr = K_eff[..., 0, 0] + K_eff[..., 1, 1]
    disc = discriminant(K_eff)
    root = jnp.sqrt(disc)
    lam = jnp.stack([0.5 * tr + root, 0.5 * tr - root], axis=-1)
    freq = jnp.sqrt(lam)
    return jnp.where(jnp.real(freq) < 0, -freq, freq)


def discriminant(K_eff):
    """disc = ((K11 − K22)/2)² + K12 K21; the eigenvalues coalesce where it vanishes."""
    return 0.25 * (K_eff[..., 0, 0] - K_eff[..., 1, 1]) ** 2 + K_eff[..., 0, 1] * K_eff[..., 1, 0]


def eigenvector_overlap(K_eff):
    """|⟨v1|v2⟩|/(‖v1‖‖v2‖) of the two right eigenvectors (1 at an exceptional point).

    Eigenvectors of [[A, B], [C, D]] in closed form: v± = (B, λ± − A).
    """
    A, B = K_eff[..., 0, 0], K_eff[..., 0, 1]
    root = jnp.sqrt(discriminant(K_eff))
    half = 0.5 * (K_eff[..., 1, 1] - A)
    v1 = jnp.stack([B, half + root], axis=-1)
    v2 = jnp.stack([B, half - root], axis=-1)
    inner = jnp.sum(jnp.conj(v1) * v2, axis=-1)
    return jnp.abs(inner) / (jnp.linalg.norm(v1, axis=-1) * jnp.linalg.norm(v2, axis=-1))
