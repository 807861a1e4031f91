"""The paper's figures 3–6: their data (one batched evaluation) and plots.

Units ħ = k_B = e = 1 with the mode energy ħΩ = 1: energies, temperatures, chemical
potentials and biases are in ħΩ; energy currents and power in ħΩ²; charge currents in eΩ
(docs/physics.md §1). Axis labels come from ``ehpjax._quantities`` (symbol and unit).

Parameters (docs/physics.md §7; ``PaperSettings`` records every choice, ``params_record``
writes it out):

- Figs. 3–5: the paper's two-level junction, i.e. the defaults of the built-in model
  ``ehpjax.models.get("two-level")`` (ε_L = 10.5, ε_R = 9.5, γ_L = γ_R = 0.5, m = 0.5,
  one mode Ω = 1 with γ_ph = 0.5, spinless).
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

``PaperSettings(dressed=True)`` also computes the currents with the modes dressed by the
electrons (``currents(..., order="dressed")``): Figs. 3–5 draw them dashed in the colours
of the lowest-order curves, and the CSV files get ``*_dressed`` columns.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import math
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import __version__
from ._compiled import quick_jit
from ._currents import rectification_ratio
from ._quantities import label as _label
from ._quantities import unit as _unit

MODEL = "two-level"


@functools.cache
def _model():
    """The two-level model, one object per process (the compiled evaluation is cached per model)."""
    from .models import get

    return get(MODEL)


def _paper_parameters() -> dict:
    return dict(_model().defaults)


@dataclasses.dataclass(frozen=True)
class PaperSettings:
    """Every parameter of Figs. 3–6 (module docstring). Grids are (start, stop, num).

    ``parameters``: the two-level model's parameters (default: the model's defaults, which
    are the paper's numbers). ``panels``: panels of the frequency quadrature (None: the
    library's default rule). ``dressed``: also compute and draw the dressed-mode currents."""

    parameters: Mapping = dataclasses.field(default_factory=_paper_parameters)
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
    panels: int | None = None
    dressed: bool = False

    @classmethod
    def quick(cls, **changes) -> "PaperSettings":
        """Coarse grids (same physics) for smoke tests."""
        coarse = dict(delta_T=(-0.8, 0.8, 9), mu=(9.0, 10.0, 11.0), temperatures=(0.1, 0.3), bias=(-4.0, 4.0, 33),
                      ep_bias=(0.0, 1.4, 141))
        return cls(**{**coarse, **changes})

    def __post_init__(self):
        unknown = sorted(set(self.parameters) - set(_model().names))
        if unknown:
            raise ValueError(f"parameters: unknown name(s) {', '.join(unknown)} of the {MODEL} model")
        object.__setattr__(self, "parameters", {**_paper_parameters(), **{k: float(v) for k, v in
                                                                         self.parameters.items()}})
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
        if self.panels is not None and int(self.panels) < 1:
            raise ValueError(f"panels must be >= 1 or None, got {self.panels}")

    @property
    def orders(self) -> tuple[str, ...]:
        return ("lowest", "dressed") if self.dressed else ("lowest",)

    def grid(self, name: str) -> np.ndarray:
        start, stop, num = getattr(self, name)
        return np.linspace(start, stop, int(num))

    def system(self):
        """(Junction, Modes) of Figs. 3–5."""
        return _model().build(self.parameters)

    def quadrature(self):
        from ._quadrature import FrequencyQuadrature

        if self.panels is None:
            return FrequencyQuadrature(warn=False)
        return FrequencyQuadrature(panels=int(self.panels), warn=False)

    def eq9(self) -> dict:
        """Eq. 9 parameters of Fig. 6 except V."""
        return dict(Omega=self.ep_Omega, delta=self.ep_delta, gamma=self.ep_gamma, a=self.ep_a, b=self.ep_b,
                    c=self.ep_c)

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "model": MODEL}


def _relative_error(error, value, floor=1e-12):
    """Largest estimated relative quadrature error, ignoring values below ``floor``."""
    error, value = np.asarray(error), np.abs(np.asarray(value))
    mask = value > floor
    return float(np.max(error[mask] / value[mask])) if np.any(mask) else 0.0


# ----------------------------------------------------------------------------------------
# Data


def _thermal_points(settings: PaperSettings) -> dict:
    mu, dT = np.meshgrid(np.asarray(settings.mu, dtype=float), settings.grid("delta_T"), indexing="ij")
    return dict(mu0=mu, V=np.zeros_like(mu), T_e=settings.T0 + 0.5 * dT, T_ph=settings.T0 - 0.5 * dT)


def _cooling_points(settings: PaperSettings) -> dict:
    T, V = np.meshgrid(np.asarray(settings.temperatures, dtype=float), settings.grid("bias"), indexing="ij")
    return dict(mu0=np.full_like(T, settings.mu0), V=V, T_e=T, T_ph=T)


def _currents_at(settings: PaperSettings, blocks: Sequence[dict]) -> list[dict]:
    """The currents at every point of several blocks of bath values, in ONE batched call per
    order (one compiled program for all the figures); returns, per block, a dict of arrays
    of the block's shape, with ``*_dressed`` entries when ``settings.dressed``."""
    from ._evaluate import evaluate

    shapes = [np.shape(block["T_e"]) for block in blocks]
    points = {k: np.concatenate([np.ravel(block[k]) for block in blocks]) for k in ("mu0", "V", "T_e", "T_ph")}
    params = {**{k: np.full(points["T_e"].shape, v) for k, v in settings.parameters.items()}, **points}
    results = [{} for _ in blocks]
    for order in settings.orders:
        out = evaluate(_model(), params, order=order, quadrature=settings.quadrature())
        suffix = "" if order == "lowest" else "_dressed"
        start = 0
        for result, shape in zip(results, shapes):
            size = int(np.prod(shape))
            for k, v in out.items():
                result[k + suffix] = v[start:start + size].reshape(shape)
            start += size
    return results


def _thermal(settings: PaperSettings, res: dict) -> dict:
    points = _thermal_points(settings)
    data = dict(mu=np.asarray(settings.mu, dtype=float), delta_T=settings.grid("delta_T"), T_e=points["T_e"],
                T_ph=points["T_ph"], T0=settings.T0, settings=settings)
    for suffix in ("", "_dressed") if settings.dressed else ("",):
        J = res["J" + suffix]
        data.update({"J" + suffix: J, "I" + suffix: res["I" + suffix],
                     "R" + suffix: np.asarray(rectification_ratio(J, J[..., ::-1]))})
    data.update(J_rel_error=_relative_error(res["J_error"], res["J"]),
                I_rel_error=_relative_error(res["I_error"], res["I"]))
    return data


def _cooling(settings: PaperSettings, res: dict) -> dict:
    from ._ehp import CHANNELS

    V = settings.grid("bias")
    data = dict(T=np.asarray(settings.temperatures, dtype=float), V=V, mu0=settings.mu0, settings=settings,
                channels=CHANNELS, J_rel_error=_relative_error(res["J_error"], res["J"]))
    for suffix in ("", "_dressed") if settings.dressed else ("",):
        J = res["J" + suffix]
        data.update({"J" + suffix: J, "I" + suffix: res["I" + suffix], "P" + suffix: res["P" + suffix],
                     "J_channels" + suffix: np.stack([res[f"J_{c}{suffix}"] for c in CHANNELS], axis=-1),
                     "window_edges" + suffix: cooling_window_edges(V, J)})
    return data


def _figs_3_to_5(settings: PaperSettings) -> tuple[dict, dict]:
    """(thermal, cooling) data from one batched evaluation of all their points: the three
    figures share one compiled program (thermal_bias_data and cooling_data included)."""
    thermal, cooling = _currents_at(settings, [_thermal_points(settings), _cooling_points(settings)])
    return _thermal(settings, thermal), _cooling(settings, cooling)


def thermal_bias_data(settings: PaperSettings | None = None) -> dict:
    """Data of Figs. 3 and 4: J, I and R against ΔT = T_e − T_ph at mean temperature T0,
    for each μ_L = μ_R = μ. Arrays of shape (len(mu), len(delta_T))."""
    return _figs_3_to_5(PaperSettings() if settings is None else settings)[0]


def cooling_data(settings: PaperSettings | None = None) -> dict:
    """Data of Fig. 5: J(V) at T_e = T_ph = T, μ_L,R = μ0 ± V/2, for each T; arrays of shape
    (len(temperatures), len(bias)) (J_channels: (..., 4), channel order ``data["channels"]``)."""
    return _figs_3_to_5(PaperSettings() if settings is None else settings)[1]


def paper_data(settings: PaperSettings | None = None) -> dict:
    """The data of all four figures: {"thermal": Figs. 3–4, "cooling": Fig. 5,
    "exceptional_point": Fig. 6}; the currents of Figs. 3–5 in one batched call."""
    settings = PaperSettings() if settings is None else settings
    thermal, cooling = _figs_3_to_5(settings)
    return {"thermal": thermal, "cooling": cooling, "exceptional_point": exceptional_point_data(settings)}


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


@functools.partial(quick_jit, jit=jax.jit)
def _ep_sweep(V, params):
    from ._exceptional import eigenvector_overlap, exceptional_point_matrix, mode_frequencies, phase_rigidity

    K = exceptional_point_matrix(V, **params)
    return mode_frequencies(K), eigenvector_overlap(K), phase_rigidity(K)


@functools.partial(quick_jit, jit=jax.jit)
def _closest_approach_eq9(lower, upper, params):
    """(V, gap, K_eff) where Eq. 9's two frequencies come closest in [lower, upper] (compiled once)."""
    from ._exceptional import closest_approach, exceptional_point_matrix

    V, gap = closest_approach(lambda v, p: exceptional_point_matrix(v, **p), lower, upper, params)
    return V, gap, exceptional_point_matrix(V, **params)


def exceptional_point_data(settings: PaperSettings | None = None) -> dict:
    """Data of Fig. 6: both mode frequencies of Eq. 9 against V (shape (len(ep_bias), 2),
    branch order of ``mode_frequencies``), the eigenvector overlap and the phase rigidity;
    V_EP of the lossless limit and the bias of closest approach at the given γ."""
    from ._exceptional import eigenvector_overlap, lossless_exceptional_bias

    settings = PaperSettings() if settings is None else settings
    params = {k: jnp.asarray(v) for k, v in settings.eq9().items()}
    V = settings.grid("ep_bias")
    freq, overlap, rigidity = _ep_sweep(jnp.asarray(V), params)
    V_close, gap, K_close = _closest_approach_eq9(V[0], V[-1], params)
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
    axes = list(ax) if isinstance(ax, (Sequence, np.ndarray)) else [ax]
    if len(axes) != n:
        raise ValueError(f"this figure has {n} panel(s); pass {n} axes, got {len(axes)}")
    return axes[0].figure, axes


def _dimensionless(symbol: str) -> str:
    return f"{symbol} (dimensionless)"


def _mu_styles(mu):
    """One colour per pair μ, 20 − μ (their curves coincide): lines for μ ≤ 10, open
    markers for μ > 10 on top of their partner's line."""
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    dist = np.abs(np.asarray(mu) - 10.0)
    scale = max(float(np.max(dist)), 1e-12)
    styles = []
    for m, d in zip(mu, dist):
        color = cmap(0.85 * (1 - d / scale))
        if m > 10:
            styles.append(dict(color=color, ls="none", marker="o", mfc="none", ms=4.5, mew=1.0))
        else:
            styles.append(dict(color=color, ls="-", lw=1.6))
    return styles


def _mu_label(mu: float, all_mu) -> str | None:
    """Legend entry: μ ≤ 10 names its partner 20 − μ when that is drawn (as markers)."""
    if mu > 10:
        return None
    partner = 20.0 - mu
    if partner != mu and any(math.isclose(partner, other) for other in all_mu):
        return rf"$\mu = {mu:g}$ (○ ${partner:g}$)"
    return rf"$\mu = {mu:g}$"


def _dressed_style(style: dict) -> dict:
    return {**{k: v for k, v in style.items() if k in ("color",)}, "ls": "--", "lw": 1.2}


def _panel_label(ax, text):
    ax.set_title(text, loc="left", fontweight="bold", fontsize=9)


def _junction_caption(s: PaperSettings) -> str:
    p = s.parameters
    return (rf"$\varepsilon_L = {p['eps_L']:g}$, $\varepsilon_R = {p['eps_R']:g}$, $\gamma_L = {p['gamma_L']:g}$, "
            rf"$\gamma_R = {p['gamma_R']:g}$, $m = {p['m']:g}$, $\Omega = {p['omega']:g}$, "
            rf"$\gamma_\mathrm{{ph}} = {p['gamma_ph']:g}$ (ħΩ)")


_SYMMETRY = r"$\mu$ and $20-\mu$ coincide (particle–hole + L↔R symmetry)"


def _zero_lines(ax):
    ax.axhline(0, color="0.6", lw=0.6, zorder=0)
    ax.axvline(0, color="0.6", lw=0.6, zorder=0)


def _order_note(data) -> str:
    """A title line explaining solid and dashed curves when the dressed currents are drawn."""
    if "J_dressed" not in data:
        return ""
    return "\nsolid: lowest order (Eq. 8); dashed, same colour: modes dressed by the electrons"


def plot_fig3(data: dict, ax=None):
    """Fig. 3: (a) heat current J(ΔT) for each μ, (b) rectification R(ΔT). ``ax``: two axes
    or None (new figure). Returns the figure."""
    fig, (ax_j, ax_r) = _axes(ax, 2, 8.5, 3.9)
    s = data["settings"]
    dressed = "J_dressed" in data
    for k, (mu, style) in enumerate(zip(data["mu"], _mu_styles(data["mu"]))):
        ax_j.plot(data["delta_T"], data["J"][k], label=_mu_label(mu, data["mu"]), **style)
        ax_r.plot(data["delta_T"], data["R"][k], **style)
        if dressed and mu <= 10:
            ax_j.plot(data["delta_T"], data["J_dressed"][k], **_dressed_style(style))
            ax_r.plot(data["delta_T"], data["R_dressed"][k], **_dressed_style(style))
    for ax_ in (ax_j, ax_r):
        _zero_lines(ax_)
        ax_.set_xlabel(_label("delta_T") + r",  $\Delta T = T_e - T_\mathrm{ph}$")
    ax_j.set_ylabel("heat current " + _label("J"))
    ax_r.set_ylabel(_dimensionless("rectification $R$"))
    _panel_label(ax_j, "(a)")
    _panel_label(ax_r, "(b)")
    ax_j.legend(title=r"$\mu_L = \mu_R = \mu$ (ħΩ)", fontsize=7, title_fontsize=7, loc="upper left")
    fig.suptitle(f"Fig. 3  Non-reciprocal heat transport electrons → mode at $T_0 = {s.T0:g}$ (ħΩ); {_SYMMETRY}\n"
                 f"{_junction_caption(s)}{_order_note(data)}", fontsize=8)
    return fig


def plot_fig4(data: dict, ax=None):
    """Fig. 4: thermoelectric charge current I(ΔT) for each μ_L = μ_R = μ. Returns the figure."""
    fig, (ax_i,) = _axes(ax, 1, 5.6, 4.0)
    s = data["settings"]
    dressed = "I_dressed" in data
    for k, (mu, style) in enumerate(zip(data["mu"], _mu_styles(data["mu"]))):
        ax_i.plot(data["delta_T"], data["I"][k], label=_mu_label(mu, data["mu"]), **style)
        if dressed and mu <= 10:
            ax_i.plot(data["delta_T"], data["I_dressed"][k], **_dressed_style(style))
    _zero_lines(ax_i)
    ax_i.set_xlabel(_label("delta_T") + r",  $\Delta T = T_e - T_\mathrm{ph}$")
    ax_i.set_ylabel("charge current L → R, " + _label("I"))
    ax_i.legend(title=r"$\mu_L = \mu_R = \mu$ (ħΩ)", fontsize=7, title_fontsize=7, loc="upper left")
    fig.suptitle(f"Fig. 4  Thermoelectric current at $T_0 = {s.T0:g}$ (ħΩ)\n{_SYMMETRY}\n{_junction_caption(s)}"
                 f"{_order_note(data)}", fontsize=7.5)
    return fig


def plot_fig5(data: dict, ax=None):
    """Fig. 5: (a) J(V) at T_e = T_ph = T, (b) the cooling window at negative bias on a
    symmetric-log scale, its edges marked and listed. ``ax``: two axes or None. Returns
    the figure."""
    import matplotlib as mpl

    fig, (ax_a, ax_b) = _axes(ax, 2, 8.5, 3.9)
    s = data["settings"]
    cmap = mpl.colormaps["plasma"]
    V, J_all = data["V"], data["J"]
    dressed = "J_dressed" in data
    neg = V <= 0.25
    n = len(data["T"])
    nonzero = np.abs(J_all[:, neg])[J_all[:, neg] != 0]
    linthresh = max(float(np.min(nonzero)) if nonzero.size else 1e-6, 1e-6)
    for k, (T, J, edge) in enumerate(zip(data["T"], J_all, data["window_edges"])):
        color = cmap(0.85 * k / max(n - 1, 1))
        if np.isfinite(edge):
            window = f"edge {edge:.2f}"
        elif J[0] < 0:
            window = "all $V < 0$"
        else:
            window = "none"
        ax_a.plot(V, J, color=color, label=f"$T = {T:g}$: {window}")
        ax_b.plot(V[neg], J[neg], color=color)
        if dressed:
            ax_a.plot(V, data["J_dressed"][k], color=color, ls="--", lw=1.2)
            ax_b.plot(V[neg], data["J_dressed"][k][neg], color=color, ls="--", lw=1.2)
        ax_b.fill_between(V[neg], 0, np.minimum(J[neg], 0), color=color, alpha=0.15, lw=0)
        if np.isfinite(edge):  # the edge: a marker only; its value is in the legend of (a)
            ax_b.plot([edge], [0], marker="o", color=color, ms=5, zorder=5, mec="k", mew=0.5)
    for ax_ in (ax_a, ax_b):
        _zero_lines(ax_)
        ax_.set_xlabel("bias " + _label("V") + r",  $V = \mu_L - \mu_R$")
    ax_a.set_ylabel("heat current " + _label("J"))
    ax_b.set_yscale("symlog", linthresh=linthresh)
    ax_b.set_ylabel(_label("J") + ", symlog scale")
    _panel_label(ax_a, "(a)")
    _panel_label(ax_b, "(b) cooling window $J < 0$ (shaded), edges ●")
    ax_a.legend(title="$T_e = T_\\mathrm{ph} = T$: cooling\nwindow (ħΩ)", fontsize=7, title_fontsize=7,
                loc="upper left")
    fig.suptitle(rf"Fig. 5  Electronic cooling of the mode, $\mu_{{L,R}} = {s.mu0:g} \pm V/2$ (ħΩ)" "\n"
                 f"{_junction_caption(s)}{_order_note(data)}", fontsize=8)
    return fig


def plot_fig6(data: dict, ax=None):
    """Fig. 6: (a) Im and (b) Re of both mode frequencies of Eq. 9 against V, (c) the
    eigenvector overlap. ``ax``: three axes or None. Returns the figure."""
    fig, (ax_im, ax_re, ax_ov) = _axes(ax, 3, 10.5, 3.7)
    s = data["settings"]
    V, freq = data["V"], data["frequencies"]
    u = _unit("omega")
    for k, (name, color) in enumerate(((r"$\omega_+$", "tab:red"), (r"$\omega_-$", "tab:blue"))):
        ax_im.plot(V, freq[:, k].imag, color=color, label=name)
        ax_re.plot(V, freq[:, k].real, color=color, label=name)
    ax_ov.plot(V, data["overlap"], color="k")
    for ax_ in (ax_im, ax_re, ax_ov):
        ax_.axvline(data["V_ep_lossless"], color="0.5", ls=":", lw=1.0)
        ax_.set_xlabel("bias " + _label("V"))
    ax_im.set_ylabel(rf"Im $\omega_\pm$ ({u})")
    ax_re.set_ylabel(rf"Re $\omega_\pm$ ({u})")
    ax_ov.set_ylabel(_dimensionless(r"overlap $|\langle v_+|v_-\rangle| / \|v_+\|\|v_-\|$"))
    ax_ov.set_ylim(0, 1.05)
    ax_im.legend(fontsize=8, loc="lower left")
    for ax_, letter in zip((ax_im, ax_re, ax_ov), "abc"):
        _panel_label(ax_, f"({letter})")
    fig.suptitle(rf"Fig. 6  Current-induced exceptional point (Eq. 9): $\Omega = {s.ep_Omega:g}$, "
                 rf"$\delta = {s.ep_delta:g}$, $\gamma = {s.ep_gamma:g}$, $a = {s.ep_a:g}$, $b = {s.ep_b:g}$, "
                 rf"$c = {s.ep_c:g}$ (ħΩ)" "\n"
                 rf"dotted: $V_\mathrm{{EP}} = \Omega\sqrt{{\delta^2-c^2}}/a = {data['V_ep_lossless']:.4f}$ "
                 rf"($\gamma \to 0$); closest approach at $\gamma = {s.ep_gamma:g}$: "
                 rf"$V = {data['V_closest']:.4f}$", fontsize=8)
    return fig


# ----------------------------------------------------------------------------------------
# Tables (the CSV files of ``ehpjax reproduce``)


def _csv_unit(name: str) -> str:
    """Unit in ASCII for CSV headers."""
    return {"ħΩ": "hbar*Omega", "ħΩ²": "hbar*Omega^2", "eΩ": "e*Omega", "Ω": "Omega", "1": "1", "": "1"}.get(
        _unit(name), _unit(name))


def _col(name: str, quantity: str | None = None) -> str:
    return f"{name} [{_csv_unit(quantity or name)}]"


def _orders(data: dict, key: str) -> list[str]:
    return [key, f"{key}_dressed"] if f"{key}_dressed" in data else [key]


def fig3_table(data: dict):
    """(header, rows) of fig3.csv: one row per (μ, ΔT)."""
    shape = data["J"].shape
    keys = [k for base in ("J", "R") for k in _orders(data, base)]
    header = [_col("mu", "mu0"), _col("delta_T"), _col("T_e"), _col("T_ph"),
              *(_col(k, "J" if k.startswith("J") else "rectification") for k in keys)]
    cols = [np.broadcast_to(data["mu"][:, None], shape), np.broadcast_to(data["delta_T"][None, :], shape),
            data["T_e"], data["T_ph"], *(data[k] for k in keys)]
    return header, np.stack([np.ravel(c) for c in cols], axis=1)


def fig4_table(data: dict):
    """(header, rows) of fig4.csv: one row per (μ, ΔT)."""
    shape = data["I"].shape
    keys = _orders(data, "I")
    header = [_col("mu", "mu0"), _col("delta_T"), _col("T_e"), _col("T_ph"), *(_col(k, "I") for k in keys)]
    cols = [np.broadcast_to(data["mu"][:, None], shape), np.broadcast_to(data["delta_T"][None, :], shape),
            data["T_e"], data["T_ph"], *(data[k] for k in keys)]
    return header, np.stack([np.ravel(c) for c in cols], axis=1)


def fig5_table(data: dict):
    """(header, rows) of fig5.csv: one row per (T, V), with J per EHP channel, I and P."""
    shape = data["J"].shape
    T = np.broadcast_to(data["T"][:, None], shape)
    V = np.broadcast_to(data["V"][None, :], shape)
    header = [_col("T"), _col("V"), _col("mu_L"), _col("mu_R")]
    cols = [T, V, data["mu0"] + 0.5 * V, data["mu0"] - 0.5 * V]
    for suffix in ("", "_dressed") if "J_dressed" in data else ("",):
        header += [_col("J" + suffix, "J"), *(_col(f"J_{c}{suffix}", "J") for c in data["channels"]),
                   _col("I" + suffix, "I"), _col("P" + suffix, "P")]
        cols += [data["J" + suffix], *np.moveaxis(data["J_channels" + suffix], -1, 0), data["I" + suffix],
                 data["P" + suffix]]
    return header, np.stack([np.ravel(c) for c in cols], axis=1)


def fig6_table(data: dict):
    """(header, rows) of fig6.csv: one row per V."""
    w = _csv_unit("omega")
    header = [_col("V"), f"Re omega_plus [{w}]", f"Im omega_plus [{w}]", f"Re omega_minus [{w}]",
              f"Im omega_minus [{w}]", "overlap [1]", "phase_rigidity_plus [1]", "phase_rigidity_minus [1]"]
    f = data["frequencies"]
    cols = [data["V"], f[:, 0].real, f[:, 0].imag, f[:, 1].real, f[:, 1].imag, data["overlap"],
            data["rigidity"][:, 0], data["rigidity"][:, 1]]
    return header, np.stack(cols, axis=1)


def csv_text(header, rows) -> str:
    """A table as CSV text with a one-line header (column names with units in brackets)."""
    buffer = io.StringIO()
    np.savetxt(buffer, rows, delimiter=",", header=",".join(header), comments="", fmt="%.12g")
    return buffer.getvalue()


def write_csv(path, header, rows) -> None:
    """Write a table as CSV (``csv_text``)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(csv_text(header, rows))


def params_record(settings: PaperSettings, thermal: dict, cooling: dict, ep: dict) -> dict:
    """Everything a reader needs to redo the figures: versions, units, every setting, the
    choices the paper leaves open, and the derived numbers (params.json of ``reproduce``)."""
    return {
        "ehpjax_version": __version__,
        "jax_version": jax.__version__,
        "units": "hbar = k_B = e = 1, mode energy hbar*Omega = 1; J, P in hbar*Omega^2, I in e*Omega",
        "settings": settings.to_dict(),
        "model": {
            "name": MODEL,
            "junction": "two-level (paper Fig. 2): H = diag(eps_L, eps_R), Gamma_L = gamma_L|1><1|, "
                        "Gamma_R = gamma_R|2><2|, M = m(|1><2| + |2><1|), one mode K = omega^2, eta = gamma_ph",
            "order": "lowest order in the e-bath (paper Eq. 8)" + (
                "; dashed curves and *_dressed columns: modes dressed by the electrons" if settings.dressed else ""),
        },
        "figures": {
            "fig3": "J(delta_T) and R(delta_T), mu_L = mu_R = mu, T_e = T0 + delta_T/2, T_ph = T0 - delta_T/2",
            "fig4": "I(delta_T), same grid as fig3",
            "fig5": "J(V), T_e = T_ph = T, mu_L,R = mu0 +- V/2",
            "fig6": "mode frequencies (square roots of the eigenvalues of Eq. 9, Re >= 0) and eigenvector overlap",
        },
        "choices": {
            "T0": "mean temperature of Figs. 3-4 (not printed in the paper)",
            "gamma_ph": "printed 'gamma_L = gamma_R = 0.5 = m = 0.5' read as gamma_ph = 0.5",
            "delta_T": "symmetric grid, |delta_T| <= 0.8 so that T_e, T_ph >= 0.1",
            "symmetry": "mu and 20 - mu give identical J and I (particle-hole + L<->R symmetry of the model)",
            "R": "R = 0 where J(delta_T) = J(-delta_T) = 0",
        },
        "results": {
            "fig3_max_relative_quadrature_error_J": thermal["J_rel_error"],
            "fig4_max_relative_quadrature_error_I": thermal["I_rel_error"],
            "fig5_max_relative_quadrature_error_J": cooling["J_rel_error"],
            "fig5_cooling_window_edges": {f"T={T:g}": (float(e) if np.isfinite(e) else None)
                                          for T, e in zip(cooling["T"], cooling["window_edges"])},
            "fig6_V_EP_lossless": ep["V_ep_lossless"],
            "fig6_V_closest_approach": ep["V_closest"],
            "fig6_gap_at_closest_approach": ep["gap_closest"],
            "fig6_overlap_at_closest_approach": ep["overlap_closest"],
        },
    }
