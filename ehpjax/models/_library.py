"""Built-in models (docs/physics.md §11), each documented with its Hamiltonian."""

from __future__ import annotations

import math
from typing import Sequence

import jax.numpy as jnp

from .._model import Junction, Modes
from ._model import Model, ModelError, Parameter

INF = math.inf


def two_level() -> Model:
    """The paper's two-level junction (docs/physics.md §2, §7):
    H = diag(ε_L, ε_R), Γ_L = γ_L|1⟩⟨1|, Γ_R = γ_R|2⟩⟨2|, one mode with
    M = m(|1⟩⟨2| + |2⟩⟨1|), K = Ω², η = γ_ph. Defaults: the paper's Figs. 3–5."""
    parameters = (
        Parameter("eps_L", 10.5, description="energy of level 1, coupled to lead L"),
        Parameter("eps_R", 9.5, description="energy of level 2, coupled to lead R"),
        Parameter("gamma_L", 0.5, min=0.0, description="broadening of level 1 by lead L"),
        Parameter("gamma_R", 0.5, min=0.0, description="broadening of level 2 by lead R"),
        Parameter("m", 0.5, description="electron–mode coupling, M = m(|1⟩⟨2| + |2⟩⟨1|)"),
        Parameter("omega", 1.0, min=0.0, description="mode frequency Ω (K = Ω²)"),
        Parameter("gamma_ph", 0.5, min=0.0, description="friction η of the mode by its phonon bath"),
    )

    def build(p):
        junction = Junction.two_level(p["eps_L"], p["eps_R"], p["gamma_L"], p["gamma_R"], p["m"])
        return junction, Modes.single(p["omega"], p["gamma_ph"])

    return Model("two-level", parameters, build, description="the paper's two-level junction (Fig. 2)",
                 baths={"mu0": 10.0, "V": 0.0, "T_e": 0.5, "T_ph": 0.5})


def _mode_sites(spec: str, n: int) -> tuple[str, int]:
    """Parse a mode placement "bond", "site", "bond:i" or "site:i" (1-based; bond i joins
    sites i and i+1). Without an index: the middle bond ⌈(n−1)/2⌉ or site ⌈n/2⌉."""
    kind, _, index = str(spec).partition(":")
    if kind not in ("bond", "site"):
        raise ModelError(f"serial-chain: mode placement {spec!r} must be 'bond', 'site', 'bond:i' or 'site:i'")
    count = n - 1 if kind == "bond" else n
    if count < 1:
        raise ModelError(f"serial-chain: a chain of n = {n} site(s) has no {kind}")
    if index == "":
        return kind, (count + 1) // 2
    try:
        i = int(index)
    except ValueError:
        raise ModelError(f"serial-chain: mode placement {spec!r}: the index must be an integer") from None
    if not 1 <= i <= count:
        raise ModelError(f"serial-chain: mode placement {spec!r}: {kind} index must lie in 1..{count}")
    return kind, i


def serial_chain(n: int = 3, mode: "str | Sequence[str]" = "bond", hopping: str = "uniform") -> Model:
    """A serial chain of n dots between lead L (on site 1) and lead R (on site n):

        H = Σ_i ε_i |i⟩⟨i| + Σ_{i=1}^{n−1} t_i (|i⟩⟨i+1| + |i+1⟩⟨i|),
        Γ_L = γ_L |1⟩⟨1|,  Γ_R = γ_R |n⟩⟨n|,

    with t_i = t for all bonds (``hopping="uniform"``) or separate parameters t1..t_{n−1}
    (``hopping="per-bond"``). Modes (``mode``; one placement or a list of them, 1-based):
    "bond:i" couples to the hopping on bond i, M = m (|i⟩⟨i+1| + |i+1⟩⟨i|); "site:i" to the
    level of site i, M = m |i⟩⟨i|; "bond"/"site" alone mean the middle bond/site.
    One mode: parameters m, omega, gamma_ph with K = Ω², η = γ_ph. Several modes k = 1..N_b:
    m1.., omega1.., gamma_ph1.. with K = diag(Ω_k²), η = diag(γ_ph,k).

    For n = 2, t = 0 and the mode on the bond this is the paper's two-level junction
    (ε_1 = ε_L, ε_2 = ε_R). Defaults: levels spread evenly from 10.5 down to 9.5 around the
    bath default μ0 = 10, t = 0.2, γ_L = γ_R = m = γ_ph = 0.5, Ω = 1.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ModelError(f"serial-chain: n must be an integer >= 1, got {n!r}")
    if hopping not in ("uniform", "per-bond"):
        raise ModelError(f"serial-chain: hopping must be 'uniform' or 'per-bond', got {hopping!r}")
    placements = [_mode_sites(s, n) for s in ([mode] if isinstance(mode, str) else list(mode))]
    if not placements:
        raise ModelError("serial-chain: at least one mode is needed")
    n_modes = len(placements)

    levels = [10.5 - (i / (n - 1) if n > 1 else 0.5) for i in range(n)]
    parameters = [Parameter(f"eps{i + 1}", levels[i], description=f"energy of site {i + 1}") for i in range(n)]
    if n > 1:
        if hopping == "uniform":
            parameters.append(Parameter("t", 0.2, description="hopping between neighbouring sites"))
        else:
            parameters += [Parameter(f"t{i + 1}", 0.2, description=f"hopping between sites {i + 1} and {i + 2}")
                           for i in range(n - 1)]
    parameters += [Parameter("gamma_L", 0.5, min=0.0, description="broadening of site 1 by lead L"),
                   Parameter("gamma_R", 0.5, min=0.0, description=f"broadening of site {n} by lead R")]
    suffix = [""] if n_modes == 1 else [str(k + 1) for k in range(n_modes)]
    for s, (kind, i) in zip(suffix, placements):
        where = f"bond {i}–{i + 1}" if kind == "bond" else f"site {i}"
        parameters += [Parameter(f"m{s}", 0.5, description=f"coupling of mode {s or 1} to the {where}"),
                       Parameter(f"omega{s}", 1.0, min=0.0, description=f"frequency Ω of mode {s or 1}"),
                       Parameter(f"gamma_ph{s}", 0.5, min=0.0, description=f"friction η of mode {s or 1}")]

    def unit(i, j):
        return jnp.zeros((n, n)).at[i, j].set(1.0)

    def build(p):
        H = jnp.diag(jnp.stack([jnp.asarray(p[f"eps{i + 1}"], dtype=float) for i in range(n)]))
        for i in range(n - 1):
            t = p["t"] if hopping == "uniform" else p[f"t{i + 1}"]
            H = H + t * (unit(i, i + 1) + unit(i + 1, i))
        gamma_L, gamma_R = p["gamma_L"] * unit(0, 0), p["gamma_R"] * unit(n - 1, n - 1)
        M = []
        for s, (kind, i) in zip(suffix, placements):
            shape = unit(i - 1, i) + unit(i, i - 1) if kind == "bond" else unit(i - 1, i - 1)
            M.append(p[f"m{s}"] * shape)
        omega = jnp.stack([jnp.asarray(p[f"omega{s}"], dtype=float) for s in suffix])
        eta = jnp.stack([jnp.asarray(p[f"gamma_ph{s}"], dtype=float) for s in suffix])
        return Junction(H, gamma_L, gamma_R, jnp.stack(M)), Modes(jnp.diag(omega**2), jnp.diag(eta))

    where = ", ".join(f"{k} {i}" for k, i in placements)
    return Model("serial-chain", tuple(parameters), build,
                 description=f"serial chain of {n} dots between L and R, {n_modes} mode(s) on {where}",
                 baths={"mu0": 10.0, "V": 0.0, "T_e": 0.5, "T_ph": 0.5})


def parallel_dots(mode: str = "bond") -> Model:
    """Two dots in parallel, each coupled to both leads, with a phase φ on one path
    (Aharonov–Bohm-like interference):

        H = [[ε_1, t], [t, ε_2]],
        Γ_L = γ_L v v†,  v = (1, 1)/√2,
        Γ_R = γ_R w w†,  w = (1, e^{iφ})/√2,

    i.e. tunnel amplitudes of equal size from each lead to each dot, the one from R to dot 2
    carrying the phase φ. Both Γ are rank one with eigenvalue γ_α ≥ 0, hence positive
    semi-definite for every φ. One mode: ``mode="bond"`` couples it to the inter-dot
    hopping, M = m (|1⟩⟨2| + |2⟩⟨1|); ``mode="site"`` to the level difference,
    M = m (|1⟩⟨1| − |2⟩⟨2|); K = Ω², η = γ_ph.
    """
    if mode not in ("bond", "site"):
        raise ModelError(f"parallel-dots: mode must be 'bond' or 'site', got {mode!r}")
    parameters = (
        Parameter("eps1", 10.5, description="energy of dot 1"),
        Parameter("eps2", 9.5, description="energy of dot 2"),
        Parameter("t", 0.0, description="direct hopping between the dots"),
        Parameter("gamma_L", 0.5, min=0.0, description="total broadening by lead L, Γ_L = γ_L v v†"),
        Parameter("gamma_R", 0.5, min=0.0, description="total broadening by lead R, Γ_R = γ_R w w†"),
        Parameter("phi", 0.0, unit="rad", description="phase of the tunnel amplitude from R to dot 2"),
        Parameter("m", 0.5, description="electron–mode coupling"),
        Parameter("omega", 1.0, min=0.0, description="mode frequency Ω (K = Ω²)"),
        Parameter("gamma_ph", 0.5, min=0.0, description="friction η of the mode by its phonon bath"),
    )
    shape = jnp.array([[0.0, 1.0], [1.0, 0.0]]) if mode == "bond" else jnp.array([[1.0, 0.0], [0.0, -1.0]])

    def build(p):
        zero = jnp.zeros(())
        H = jnp.array([[p["eps1"], p["t"]], [p["t"], p["eps2"]]]) + zero
        one, phase = jnp.ones((), dtype=complex), jnp.exp(1j * p["phi"])
        gamma_L = 0.5 * p["gamma_L"] * jnp.ones((2, 2))  # γ_L v v†
        gamma_R = 0.5 * p["gamma_R"] * jnp.array([[one, jnp.conj(phase)], [phase, one]])  # γ_R w w†
        return (Junction(H, gamma_L, gamma_R, (p["m"] * shape)[None]), Modes.single(p["omega"], p["gamma_ph"]))

    return Model("parallel-dots", parameters, build,
                 description=f"two dots in parallel between L and R with a phase φ (interference), mode on the {mode}",
                 baths={"mu0": 10.0, "V": 0.0, "T_e": 0.5, "T_ph": 0.5})


def two_mode() -> Model:
    """Two modes coupled to a two-level conductor: the microscopic junction behind the
    exceptional point (docs/physics.md §6):

        H = [[ε_1, t], [t, ε_2]],  Γ_L = γ_L |1⟩⟨1|,  Γ_R = γ_R |2⟩⟨2|,
        M¹ = m_1 σ_z = m_1 (|1⟩⟨1| − |2⟩⟨2|),  M² = m_2 σ_x = m_2 (|1⟩⟨2| + |2⟩⟨1|),
        K = diag(Ω_1², Ω_2²),  η = diag(η_1, η_2).

    With the hopping t the trace tr[M¹ A_L M² A_R] has an imaginary part, so a bias exerts
    a current-induced non-conservative force between the modes (the ±V·a of Eq. 9).
    Defaults: broad levels (γ = 4, ε = ∓1, t = 2, m = 1: the flat-DOS regime), Ω_1,2 = 1 ± δ/2
    with δ = 0.04 as in the paper's Fig. 6, weak friction η = 0.002 (γ = 0.001 in Eq. 9),
    spin degeneracy 2.
    """
    parameters = (
        Parameter("eps1", -1.0, description="energy of level 1, coupled to lead L"),
        Parameter("eps2", 1.0, description="energy of level 2, coupled to lead R"),
        Parameter("t", 2.0, description="hopping between the levels"),
        Parameter("gamma_L", 4.0, min=0.0, description="broadening of level 1 by lead L"),
        Parameter("gamma_R", 4.0, min=0.0, description="broadening of level 2 by lead R"),
        Parameter("m1", 1.0, description="coupling of mode 1, M¹ = m1 σ_z"),
        Parameter("m2", 1.0, description="coupling of mode 2, M² = m2 σ_x"),
        Parameter("omega1", 1.02, min=0.0, description="frequency Ω_1 of mode 1"),
        Parameter("omega2", 0.98, min=0.0, description="frequency Ω_2 of mode 2"),
        Parameter("gamma_ph1", 0.002, min=0.0, description="friction η_1 of mode 1"),
        Parameter("gamma_ph2", 0.002, min=0.0, description="friction η_2 of mode 2"),
    )
    sigma_z = jnp.array([[1.0, 0.0], [0.0, -1.0]])
    sigma_x = jnp.array([[0.0, 1.0], [1.0, 0.0]])

    def build(p):
        zero = jnp.zeros(())
        H = jnp.array([[p["eps1"], p["t"]], [p["t"], p["eps2"]]]) + zero
        gamma_L = jnp.array([[p["gamma_L"], zero], [zero, zero]])
        gamma_R = jnp.array([[zero, zero], [zero, p["gamma_R"]]])
        M = jnp.stack([p["m1"] * sigma_z, p["m2"] * sigma_x])
        K = jnp.diag(jnp.stack([p["omega1"] ** 2 + zero, p["omega2"] ** 2 + zero]))
        eta = jnp.diag(jnp.stack([p["gamma_ph1"] + zero, p["gamma_ph2"] + zero]))
        return Junction(H, gamma_L, gamma_R, M, spin_degeneracy=2.0), Modes(K, eta)

    return Model("two-mode", parameters, build,
                 description="two modes on a two-level conductor with a non-conservative force (exceptional points)",
                 baths={"mu0": 0.0, "V": 0.0, "T_e": 0.1, "T_ph": 0.1})


BUILTIN = {"two-level": two_level, "serial-chain": serial_chain, "parallel-dots": parallel_dots,
           "two-mode": two_mode}
