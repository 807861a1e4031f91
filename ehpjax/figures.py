"""The paper's figures 3–6: their data (pure JAX, batched with jit + vmap) and plots.

Units ħ = k_B = e = 1 with the mode energy ħΩ = 1: energies, temperatures, chemical
potentials and biases are in units of ħΩ; energy currents in ħΩ² (energy per 1/Ω);
charge currents in eΩ (electrons per 1/Ω).

Parameters (SPEC 7; ``PaperSettings`` records every choice, ``reproduce`` writes it out):

- Figs. 3–5, the paper's two-level junction (Fig. 2): ε_L = 10.5, ε_R = 9.5,
  γ_L = γ_R = 0.5, m = 0.5, one mode Ω = 1 with γ_ph = 0.5 (the printed
  "γ_L = γ_R = 0.5 = m = 0.5" read as γ_ph = 0.5 as well), spinless (g_s = 1).
- Left open by the paper and chosen here: mean temperature T0 = 0.5 for Figs. 3–4;
  ΔT = T_e − T_ph on a symmetric grid |ΔT| ≤ 0.8 (so that both temperatures stay
  ≥ 0.1); μ = 9, 9.5, 10, 10.5, 11; Fig. 5 at μ0 = 10 (symmetric split
  μ_L,R = μ0 ± V/2), T = 0.1, 0.2, 0.3, 0.4, V ∈ [−4, 4]; Fig. 6 for 0 ≤ V ≤ 1.4.
- Fig. 6: Eq. 9 with Ω = 1, δ = 0.04, γ = 0.001, a = 0.05, b = 0, c = 0.02.

Two properties of the model shape the figures (both exact, not numerical accidents):

- Particle–hole symmetry. ε_L − 10 = −(ε_R − 10) and γ_L = γ_R, so the particle–hole
  transformation (ε − 10 → 10 − ε, which turns M into −Mᵀ) followed by the exchange
  L ↔ R maps the junction onto itself with μ → 20 − μ. J is even under both, and so is I
  (each operation flips its sign). Hence the curves for μ and 20 − μ coincide in
  Figs. 3–4: μ = 9 ≡ 11 and 9.5 ≡ 10.5.
- R(ΔT) is odd in ΔT by its definition, and R(0) = 0 (its limit).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._currents import currents
from ._exceptional import (
    closest_approach,
    eigenvector_overlap,
    exceptional_point_matrix,
    lossless_exceptional_bias,
    mode_frequencies,
    phase_rigidity,
)
from ._model import Baths, Junction, Modes
from ._quadrature import FrequencyQuadrature

# Units in plot labels (matplotlib mathtext) and in CSV headers (ASCII).
_U = dict(energy=r"$\hbar\Omega$", temperature=r"$\hbar\Omega/k_B$", bias=r"$\hbar\Omega/e$",
          heat=r"$\hbar\Omega^2$", charge=r"$e\Omega$", frequency=r"$\Omega$")
ENERGY = "hbar*Omega"
TEMPERATURE = "hbar*Omega/k_B"
BIAS = "hbar*Omega/e"
HEAT = "hbar*Omega^2"
CHARGE = "e*Omega"


@dataclasses.dataclass(frozen=True)
class PaperSettings:
    """Every parameter of Figs. 3–6 (module docstring). Grids are (start, stop, num)."""

    # Junction and mode of Figs. 3–5 (SPEC 7).
    eps_L: float = 10.5
    eps_R: float = 9.5
    gamma_L: float = 0.5
    gamma_R: float = 0.5
    m: float = 0.5
    omega: float = 1.0
    gamma_ph: float = 0.5
    spin_degeneracy: float = 1.0
    # Figs. 3 and 4: μ_L = μ_R = μ, T_e = T0 + ΔT/2, T_ph = T0 − ΔT/2.
    T0: float = 0.5
    delta_T: tuple = (-0.8, 0.8, 41)
    mu: tuple = (9.0, 9.5, 10.0, 10.5, 11.0)
    # Fig. 5: T_e = T_ph = T, μ_L,R = μ0 ± V/2.
    mu0: float = 10.0
    temperatures: tuple = (0.1, 0.2, 0.3, 0.4)
    bias: tuple = (-4.0, 4.0, 161)
    # Fig. 6: Eq. 9.
    ep_Omega: float = 1.0
    ep_delta: float = 0.04
    ep_gamma: float = 0.001
    ep_a: float = 0.05
    ep_b: float = 0.0
    ep_c: float = 0.02
    ep_bias: tuple = (0.0, 1.4, 701)
    # Frequency quadrature of the currents (``FrequencyQuadrature.panels``).
    panels: int = 10

    @classmethod
    def quick(cls, **changes) -> "PaperSettings":
        """Coarse grids (same physics) for smoke tests: a few seconds instead of ~10."""
        coarse = dict(delta_T=(-0.8, 0.8, 9), mu=(9.0, 10.0, 11.0), temperatures=(0.1, 0.3), bias=(-4.0, 4.0, 33),
                      ep_bias=(0.0, 1.4, 141))
        return cls(**{**coarse, **changes})

    def __post_init__(self):
        for name in ("delta_T", "bias", "ep_bias"):
            grid = getattr(self, name)
            if len(grid) != 3 or int(grid[2]) < 2 or not grid[0] < grid[1]:
                raise ValueError(f"{name} must be (start, stop, num) with start < stop and num >= 2, got {grid}")
        lo, hi, _ = self.delta_T
        if not math.isclose(lo, -hi):
            raise ValueError(f"delta_T must be symmetric about 0 (R needs J(−ΔT)), got {self.delta_T}")
        if self.T0 - 0.5 * hi <= 0:
            raise ValueError(f"T0 − max(ΔT)/2 must be > 0, got T0 = {self.T0}, max ΔT = {hi}")
        if min(self.temperatures) <= 0:
            raise ValueError(f"temperatures must be > 0, got {self.temperatures}")

    def grid(self, name: str) -> np.ndarray:
        start, stop, num = getattr(self, name)
        return np.linspace(start, stop, int(num))

    def junction(self) -> Junction:
        return Junction.two_level(self.eps_L, self.eps_R, self.gamma_L, self.gamma_R, self.m, self.spin_degeneracy)

    def modes(self) -> Modes:
        return Modes.single(self.omega, self.gamma_ph)

    def quadrature(self) -> FrequencyQuadrature:
        return FrequencyQuadrature(panels=self.panels, warn=False)

    def eq9(self) -> dict:
        """Eq. 9 parameters of Fig. 6 except V."""
        return dict(Omega=self.ep_Omega, delta=self.ep_delta, gamma=self.ep_gamma, a=self.ep_a, b=self.ep_b,
                    c=self.ep_c)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@eqx.filter_jit
def _batched_currents(junction, modes, mu_L, mu_R, T_e, T_ph, quadrature):
    def one(mu_l, mu_r, t_e, t_ph):
        return currents(junction, modes, Baths(mu_l, mu_r, t_e, t_ph), quadrature=quadrature)

    return jax.vmap(one)(mu_L, mu_R, T_e, T_ph)


def batched_currents(junction: Junction, modes: Modes, mu_L, mu_R, T_e, T_ph, *, quadrature=None):
    """``currents`` on a batch of baths: the four arguments broadcast to a common shape S;
    returns a Currents whose fields have shape S (J_channels, N_channels: (*S, 4)).
    One jit + vmap call (compiled once per batch size)."""
    quadrature = FrequencyQuadrature(warn=False) if quadrature is None else quadrature
    arrays = jnp.broadcast_arrays(*(jnp.asarray(x, dtype=jnp.float64) for x in (mu_L, mu_R, T_e, T_ph)))
    shape = arrays[0].shape
    flat = _batched_currents(junction, modes, *(x.ravel() for x in arrays), quadrature)
    return jax.tree_util.tree_map(lambda x: x.reshape(shape + x.shape[1:]), flat)


def _rectification_on_symmetric_grid(J):
    """R(ΔT) from J on a grid symmetric about ΔT = 0 (last axis), R(0) = 0."""
    forward, backward = np.abs(J), np.abs(J[..., ::-1])
    total = forward + backward
    return np.where(total > 0, (forward - backward) / np.where(total > 0, total, 1.0), 0.0)


def _relative_error(error, value, floor=1e-12):
    """Largest estimated relative quadrature error, ignoring values below ``floor``."""
    error, value = np.asarray(error), np.abs(np.asarray(value))
    mask = value > floor
    return float(np.max(error[mask] / value[mask])) if np.any(mask) else 0.0


def thermal_bias_data(settings: PaperSettings = PaperSettings()) -> dict:
    """Data of Figs. 3 and 4: J, I and R against ΔT = T_e − T_ph at mean temperature T0,
    for each μ_L = μ_R = μ. Arrays of shape (len(mu), len(delta_T))."""
    mu = np.asarray(settings.mu, dtype=float)
    dT = settings.grid("delta_T")
    mu_b, dT_b = np.meshgrid(mu, dT, indexing="ij")
    T_e, T_ph = settings.T0 + 0.5 * dT_b, settings.T0 - 0.5 * dT_b
    res = batched_currents(settings.junction(), settings.modes(), mu_b, mu_b, T_e, T_ph,
                           quadrature=settings.quadrature())
    J, I = np.asarray(res.J), np.asarray(res.I)
    return dict(mu=mu, delta_T=dT, T_e=T_e, T_ph=T_ph, J=J, I=I, R=_rectification_on_symmetric_grid(J),
                J_rel_error=_relative_error(res.J_error, J), I_rel_error=_relative_error(res.I_error, I),
                T0=settings.T0, settings=settings)


def cooling_window_edges(V, J) -> np.ndarray:
    """For each row of J(V) (shape (n_T, n_V), V ascending): the left edge of the window of
    negative bias adjacent to V = 0 where J < 0, by linear interpolation between the grid
    points that bracket the sign change. NaN if J < 0 down to the smallest V of the grid
    (no finite edge there) or if J ≥ 0 just left of V = 0 (no window)."""
    V, J = np.asarray(V), np.atleast_2d(np.asarray(J))
    edges = np.full(J.shape[0], np.nan)
    negative_side = np.nonzero(V < 0)[0][::-1]  # from V = 0 leftwards
    for row, j in enumerate(J):
        if len(negative_side) == 0 or j[negative_side[0]] >= 0:
            continue
        for k_inner, k_outer in zip(negative_side[:-1], negative_side[1:]):
            if j[k_outer] >= 0:
                t = j[k_inner] / (j[k_inner] - j[k_outer])
                edges[row] = V[k_inner] + t * (V[k_outer] - V[k_inner])
                break
    return edges


def cooling_data(settings: PaperSettings = PaperSettings()) -> dict:
    """Data of Fig. 5: J(V) at T_e = T_ph = T, μ_L,R = μ0 ± V/2, for each T; arrays of shape
    (len(temperatures), len(bias)) (J_channels: (..., 4), order LL, RR, RL, LR)."""
    T = np.asarray(settings.temperatures, dtype=float)
    V = settings.grid("bias")
    T_b, V_b = np.meshgrid(T, V, indexing="ij")
    res = batched_currents(settings.junction(), settings.modes(), settings.mu0 + 0.5 * V_b,
                           settings.mu0 - 0.5 * V_b, T_b, T_b, quadrature=settings.quadrature())
    J = np.asarray(res.J)
    return dict(T=T, V=V, J=J, J_channels=np.asarray(res.J_channels), I=np.asarray(res.I), P=np.asarray(res.P),
                window_edges=cooling_window_edges(V, J), J_rel_error=_relative_error(res.J_error, J),
                mu0=settings.mu0, settings=settings)


@jax.jit
def _ep_sweep(V, params):
    K = exceptional_point_matrix(V, **params)
    return mode_frequencies(K), eigenvector_overlap(K), phase_rigidity(K)


def exceptional_point_data(settings: PaperSettings = PaperSettings()) -> dict:
    """Data of Fig. 6: both mode frequencies of Eq. 9 against V (shape (len(ep_bias), 2),
    branch order of ``mode_frequencies``), the eigenvector overlap and the phase rigidity;
    V_EP of the lossless limit and the bias of closest approach at the given γ."""
    params = {k: jnp.asarray(v) for k, v in settings.eq9().items()}
    V = settings.grid("ep_bias")
    freq, overlap, rigidity = _ep_sweep(jnp.asarray(V), params)
    V_close, gap = closest_approach(lambda v, p: exceptional_point_matrix(v, **p), V[0], V[-1], params)
    K_close = exceptional_point_matrix(V_close, **params)
    return dict(V=V, frequencies=np.asarray(freq), overlap=np.asarray(overlap), rigidity=np.asarray(rigidity),
                V_ep_lossless=float(lossless_exceptional_bias(settings.ep_Omega, settings.ep_delta, settings.ep_a,
                                                              settings.ep_c)),
                V_closest=float(V_close), gap_closest=float(gap),
                overlap_closest=float(eigenvector_overlap(K_close)), settings=settings)


# ----------------------------------------------------------------------------------------
# Plots


def _axes(ax, n, width=7.0, height=3.0):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(1, n, figsize=(width, height), layout="constrained", squeeze=False)
        return fig, list(axes[0])
    axes = list(ax) if isinstance(ax, Sequence) or isinstance(ax, np.ndarray) else [ax]
    if len(axes) != n:
        raise ValueError(f"this figure has {n} panel(s); pass {n} axes, got {len(axes)}")
    return axes[0].figure, axes


def _mu_styles(mu):
    """Colour by |μ − 10| (the particle–hole pairs share a colour), dashed for μ > 10."""
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    dist = np.abs(np.asarray(mu) - 10.0)
    scale = max(float(np.max(dist)), 1e-12)
    return [dict(color=cmap(0.85 * (1 - d / scale)), ls="--" if m > 10 else "-", lw=2.2 if m > 10 else 1.5)
            for m, d in zip(mu, dist)]


def _panel_label(ax, text):
    ax.set_title(text, loc="left", fontweight="bold", fontsize=9)


def _junction_caption(s: PaperSettings) -> str:
    return (rf"$\varepsilon_L = {s.eps_L:g}$, $\varepsilon_R = {s.eps_R:g}$, $\gamma_L = {s.gamma_L:g}$, "
            rf"$\gamma_R = {s.gamma_R:g}$, $m = {s.m:g}$, $\Omega = {s.omega:g}$, $\gamma_{{ph}} = {s.gamma_ph:g}$")


_DT_LABEL = r"$\Delta T = T_e - T_{ph}$"


def _zero_lines(ax):
    ax.axhline(0, color="0.6", lw=0.6, zorder=0)
    ax.axvline(0, color="0.6", lw=0.6, zorder=0)


def plot_fig3(data: dict, ax=None):
    """Fig. 3: (a) heat current J(ΔT) for each μ, (b) rectification R(ΔT). ``ax``: two axes
    or None (new figure). Returns the figure."""
    fig, (ax_j, ax_r) = _axes(ax, 2, 8.5, 3.6)
    s = data["settings"]
    for mu, J, R, style in zip(data["mu"], data["J"], data["R"], _mu_styles(data["mu"])):
        ax_j.plot(data["delta_T"], J, label=rf"$\mu = {mu:g}$", **style)
        ax_r.plot(data["delta_T"], R, **style)
    for ax_, ylabel in ((ax_j, f"heat current $J$  ({_U['heat']})"), (ax_r, "rectification ratio $R$")):
        _zero_lines(ax_)
        ax_.set_xlabel(f"{_DT_LABEL}  ({_U['temperature']})")
        ax_.set_ylabel(ylabel)
    _panel_label(ax_j, "(a)")
    _panel_label(ax_r, "(b)")
    ax_j.legend(title=r"$\mu_L = \mu_R = \mu$", fontsize=8, title_fontsize=8, loc="lower right")
    _symmetry_note(ax_r, 0.98, 0.03, ha="right", va="bottom")
    fig.suptitle(f"Fig. 3  Non-reciprocal heat transport e-bath → mode at $T_0 = {s.T0:g}$\n"
                 f"{_junction_caption(s)}", fontsize=9)
    return fig


def _symmetry_note(ax, x, y, **align):
    """Why μ and 20 − μ give one curve (particle–hole symmetry combined with L ↔ R)."""
    ax.text(x, y, r"$\mu$ and $20-\mu$ coincide" "\n(particle–hole + L↔R symmetry)",
            transform=ax.transAxes, fontsize=7, color="0.3", **align)


def plot_fig4(data: dict, ax=None):
    """Fig. 4: thermoelectric charge current I(ΔT) for each μ_L = μ_R = μ. Returns the figure."""
    fig, (ax_i,) = _axes(ax, 1, 5.4, 3.8)
    s = data["settings"]
    for mu, I, style in zip(data["mu"], data["I"], _mu_styles(data["mu"])):
        ax_i.plot(data["delta_T"], I, label=rf"$\mu = {mu:g}$", **style)
    _zero_lines(ax_i)
    ax_i.set_xlabel(f"{_DT_LABEL}  ({_U['temperature']})")
    ax_i.set_ylabel(f"charge current $I$, L → R  ({_U['charge']})")
    ax_i.legend(title=r"$\mu_L = \mu_R = \mu$", fontsize=8, title_fontsize=8, loc="lower right")
    _symmetry_note(ax_i, 0.03, 0.97, ha="left", va="top")
    fig.suptitle(f"Fig. 4  Thermoelectric current from a temperature difference, $T_0 = {s.T0:g}$\n"
                 f"{_junction_caption(s)}", fontsize=8)
    return fig


def plot_fig5(data: dict, ax=None):
    """Fig. 5: (a) J(V) at T_e = T_ph = T, (b) the cooling window at negative bias on a
    symmetric-log scale, window edges marked. ``ax``: two axes or None. Returns the figure."""
    import matplotlib as mpl

    fig, (ax_a, ax_b) = _axes(ax, 2, 8.5, 3.6)
    s = data["settings"]
    cmap = mpl.colormaps["plasma"]
    V, J_all = data["V"], data["J"]
    neg = V <= 0.25
    n = len(data["T"])
    nonzero = np.abs(J_all[:, neg])[J_all[:, neg] != 0]
    linthresh = max(float(np.min(nonzero)) if nonzero.size else 1e-6, 1e-6)
    for k, (T, J, edge) in enumerate(zip(data["T"], J_all, data["window_edges"])):
        color = cmap(0.85 * k / max(n - 1, 1))
        ax_a.plot(V, J, color=color, label=f"$T = {T:g}$")
        ax_b.plot(V[neg], J[neg], color=color)
        ax_b.fill_between(V[neg], 0, np.minimum(J[neg], 0), color=color, alpha=0.15, lw=0)
        if np.isfinite(edge):
            ax_b.plot([edge], [0], marker="o", color=color, ms=5, zorder=5)
            ax_b.annotate(f"{edge:.2f}", (edge, 0), textcoords="offset points", xytext=(0, 6), ha="center",
                          fontsize=7, color=color)
    for ax_ in (ax_a, ax_b):
        _zero_lines(ax_)
        ax_.set_xlabel(rf"bias $V = \mu_L - \mu_R$  ({_U['bias']})")
    ax_a.set_ylabel(f"heat current $J$  ({_U['heat']})")
    ax_b.set_yscale("symlog", linthresh=linthresh)
    ax_b.set_ylabel(f"$J$  ({_U['heat']}, symlog)")
    ax_b.set_title("cooling window $J < 0$ (shaded), edges marked", fontsize=8, loc="right")
    open_ended = [f"{T:g}" for T, e, J in zip(data["T"], data["window_edges"], J_all) if np.isnan(e) and J[0] < 0]
    if open_ended:
        ax_b.text(0.02, 0.76, f"T = {', '.join(open_ended)}:\nJ < 0 for every\nV < 0 shown",
                  transform=ax_b.transAxes, fontsize=7, color="0.3", va="top")
    _panel_label(ax_a, "(a)")
    _panel_label(ax_b, "(b)")
    ax_a.legend(title=r"$T_e = T_{ph} = T$", fontsize=8, title_fontsize=8, loc="upper left",
                bbox_to_anchor=(0.0, 0.9))
    fig.suptitle(rf"Fig. 5  Electronic cooling of the mode, $\mu_{{L,R}} = {s.mu0:g} \pm V/2$" "\n"
                 f"{_junction_caption(s)}", fontsize=9)
    return fig


def plot_fig6(data: dict, ax=None):
    """Fig. 6: (a) Im and (b) Re of both mode frequencies of Eq. 9 against V, (c) the
    eigenvector overlap. ``ax``: three axes or None. Returns the figure."""
    fig, (ax_im, ax_re, ax_ov) = _axes(ax, 3, 10.5, 3.5)
    s = data["settings"]
    V, freq = data["V"], data["frequencies"]
    for k, (label, color) in enumerate(((r"$\omega_+$", "tab:red"), (r"$\omega_-$", "tab:blue"))):
        ax_im.plot(V, freq[:, k].imag, color=color, label=label)
        ax_re.plot(V, freq[:, k].real, color=color, label=label)
    ax_ov.plot(V, data["overlap"], color="k")
    for ax_ in (ax_im, ax_re, ax_ov):
        ax_.axvline(data["V_ep_lossless"], color="0.5", ls=":", lw=1.0)
        ax_.set_xlabel(f"bias $V$  ({_U['bias']})")
    ax_im.set_ylabel(rf"Im $\omega$  ({_U['frequency']})")
    ax_re.set_ylabel(rf"Re $\omega$  ({_U['frequency']})")
    ax_ov.set_ylabel(r"overlap $|\langle v_+|v_-\rangle| / \|v_+\|\|v_-\|$")
    ax_ov.set_ylim(0, 1.05)
    ax_im.legend(fontsize=8, loc="lower left")
    ax_ov.text(0.97, 0.05, rf"$V_{{EP}} = \Omega\sqrt{{\delta^2-c^2}}/a = {data['V_ep_lossless']:.4f}$ ($\gamma\to 0$)"
               "\n" rf"closest approach at $\gamma = {s.ep_gamma:g}$: $V = {data['V_closest']:.4f}$",
               transform=ax_ov.transAxes, ha="right", va="bottom", fontsize=7, color="0.3")
    for ax_, label in zip((ax_im, ax_re, ax_ov), "abc"):
        _panel_label(ax_, f"({label})")
    fig.suptitle(rf"Fig. 6  Current-induced exceptional point (Eq. 9): $\Omega = {s.ep_Omega:g}$, "
                 rf"$\delta = {s.ep_delta:g}$, $\gamma = {s.ep_gamma:g}$, $a = {s.ep_a:g}$, $b = {s.ep_b:g}$, "
                 rf"$c = {s.ep_c:g}$", fontsize=9)
    return fig


# ----------------------------------------------------------------------------------------
# Tables (the CSV files of ``ehpjax reproduce``)


def fig3_table(data: dict):
    """(header, rows) of fig3.csv: one row per (μ, ΔT)."""
    header = [f"mu [{ENERGY}]", f"delta_T [{TEMPERATURE}]", f"T_e [{TEMPERATURE}]", f"T_ph [{TEMPERATURE}]",
              f"J [{HEAT}]", "R [1]"]
    mu = np.broadcast_to(data["mu"][:, None], data["J"].shape)
    dT = np.broadcast_to(data["delta_T"][None, :], data["J"].shape)
    cols = [mu, dT, data["T_e"], data["T_ph"], data["J"], data["R"]]
    return header, np.stack([c.ravel() for c in cols], axis=1)


def fig4_table(data: dict):
    """(header, rows) of fig4.csv: one row per (μ, ΔT)."""
    header = [f"mu [{ENERGY}]", f"delta_T [{TEMPERATURE}]", f"T_e [{TEMPERATURE}]", f"T_ph [{TEMPERATURE}]",
              f"I [{CHARGE}]"]
    mu = np.broadcast_to(data["mu"][:, None], data["I"].shape)
    dT = np.broadcast_to(data["delta_T"][None, :], data["I"].shape)
    cols = [mu, dT, data["T_e"], data["T_ph"], data["I"]]
    return header, np.stack([c.ravel() for c in cols], axis=1)


def fig5_table(data: dict):
    """(header, rows) of fig5.csv: one row per (T, V), with J per EHP channel, I and P."""
    header = [f"T [{TEMPERATURE}]", f"V [{BIAS}]", f"mu_L [{ENERGY}]", f"mu_R [{ENERGY}]", f"J [{HEAT}]",
              *(f"J_{c} [{HEAT}]" for c in ("LL", "RR", "RL", "LR")), f"I [{CHARGE}]", f"P [{HEAT}]"]
    shape = data["J"].shape
    T = np.broadcast_to(data["T"][:, None], shape)
    V = np.broadcast_to(data["V"][None, :], shape)
    mu0 = data["mu0"]
    cols = [T, V, mu0 + 0.5 * V, mu0 - 0.5 * V, data["J"], *np.moveaxis(data["J_channels"], -1, 0), data["I"],
            data["P"]]
    return header, np.stack([c.ravel() for c in cols], axis=1)


def fig6_table(data: dict):
    """(header, rows) of fig6.csv: one row per V."""
    header = [f"V [{BIAS}]", "Re omega_plus [Omega]", "Im omega_plus [Omega]", "Re omega_minus [Omega]",
              "Im omega_minus [Omega]", "overlap [1]", "phase_rigidity_plus [1]", "phase_rigidity_minus [1]"]
    f = data["frequencies"]
    cols = [data["V"], f[:, 0].real, f[:, 0].imag, f[:, 1].real, f[:, 1].imag, data["overlap"],
            data["rigidity"][:, 0], data["rigidity"][:, 1]]
    return header, np.stack(cols, axis=1)


def write_csv(path, header, rows):
    """Write a table with a one-line header (column names with units in brackets)."""
    np.savetxt(path, rows, delimiter=",", header=",".join(header), comments="", fmt="%.12g")
