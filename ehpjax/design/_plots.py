"""Plots of a design run: the objective against the step for every start, and the best
design's J(V), R(ΔT) or I(ΔT) against the start's. Labels carry symbols and units
(``ehpjax._quantities``); legends sit outside the axes. matplotlib is imported lazily;
every plot function takes an optional ``ax``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import deferring, raise_deferred
from .._compiled import quick_jit
from .._currents import currents, eta_vanishes, known_damped
from .._model import Baths
from .._quadrature import FrequencyQuadrature
from .._quantities import label, symbol
from ._objectives import Custom, objective_label
from ._results import DesignResult

_OBJECTIVE_LABELS = {
    "cooling": "cooling power $-J$ (ħΩ²)",
    "cop": "COP $-J/P$ (cooling region; else 0)",
    "rectification": label("rectification"),
    "thermocurrent": label("I"),
}


def objective_axis_label(result: DesignResult) -> str:
    o = result.objective
    return _OBJECTIVE_LABELS.get(o.name, objective_label(o) if isinstance(o, Custom) else o.name)


def _operating_point(result: DesignResult) -> str:
    """The fixed baths of the objective, in symbols (for titles)."""
    b = {**result.objective.bath_values, **{k: v for k, v in result.parameters.items()
                                           if k in ("mu0", "V", "T_e", "T_ph")}}
    free = set(result.space.names)
    parts = [f"{symbol(k)} = {b[k]:.4g}" for k in ("mu0", "V") if k not in free]
    if b["T_e"] == b["T_ph"] and not free & {"T_e", "T_ph"}:
        parts.append(f"{symbol('T')} = {b['T_e']:.4g}")
    else:
        parts += [f"{symbol(k)} = {b[k]:.4g}" for k in ("T_e", "T_ph") if k not in free]
    return ", ".join(parts)


def _symbol_of(name: str) -> str:
    """Mathtext symbol of a free number's name (matrix entries keep their name)."""
    return symbol(name) if name in ("mu0", "V", "T_e", "T_ph") or not ("[" in name) else name


def free_values_text(result: DesignResult, limit: int = 8) -> str:
    """"ε_L = 10.47, ..." of the free numbers (4 significant digits), at most ``limit``."""
    items = [f"{_symbol_of(n)} = {result.free[n]:.4g}" for n in result.space.names]
    if len(items) > limit:
        items = items[:limit] + [f"… ({len(result.space.names) - limit} more)"]
    lines, line = [], []
    for item in items:  # three per line
        line.append(item)
        if len(line) == 3:
            lines.append(", ".join(line))
            line = []
    if line:
        lines.append(", ".join(line))
    return "\n".join(lines)


def _curves(junction, modes, mu_L, mu_R, T_e, T_ph, quadrature, damped):
    """J and I of one concrete system at every set of baths (1-D arrays of equal length):
    the curve of a design, not of a model's parameters, so the design's matrices enter as
    traced arrays and one compilation serves both the design and the start. The value checks
    come back as flags (raised here): a program without host callbacks, which JAX's persistent
    compilation cache keeps. damped: η vanishes in none of the systems the program serves
    (``_damped``)."""
    (J, I), flags, messages = _checked_curves(junction, modes, mu_L, mu_R, T_e, T_ph, quadrature, damped)
    raise_deferred(flags, messages)
    return J, I


@quick_jit
def _checked_curves(junction, modes, mu_L, mu_R, T_e, T_ph, quadrature, damped):
    def currents_at(mu_l, mu_r, t_e, t_ph):
        with known_damped(damped):
            c = currents(junction, modes, Baths(mu_l, mu_r, t_e, t_ph), quadrature=quadrature)
        return c.J, c.I

    one, messages = deferring(currents_at)
    out, flags = jax.vmap(one)(mu_L, mu_R, T_e, T_ph)
    return out, flags, tuple(messages)


def _damped(systems) -> bool:
    """Whether η vanishes in none of ``systems`` ((junction, modes) on the host): ``currents`` then
    leaves the sharp-line limit out of their curves' program (``_currents.known_damped``; a
    two-level design's curves took 1.7–1.8 s to compile and run instead of 2.3–2.5 s). Their
    nonzero pole pairs are not passed: the program then traces each pair on its own, and took
    longer to make than it saved (2.7–2.9 s; warm, 36 ms instead of 56 ms)."""
    return not any(eta_vanishes(modes) for _, modes in systems)


def comparison_data(result: DesignResult, num: int = 121, panels: int = 10) -> dict:
    """The curves behind ``plot_comparison``, for the best design and for the start (start 0,
    iterate 0; the paper's model for the default two-level run): J(V) for bias objectives
    (cooling, cop, custom) at the objective's μ0 and temperatures; R(ΔT) for rectification
    and I(ΔT) for thermocurrent at its T0, μ0 and V.

    Returns {"x", "x_label", "y_label", "design", "start", "marker" (the objective's own
    bias or ΔT), "title"}."""
    o = result.objective
    space = result.space
    quad = FrequencyQuadrature(panels=panels, warn=False)
    start_system = space.system(o, jnp.asarray(space.start))
    systems = {"design": (result.junction, result.modes), "start": start_system[:2]}
    damped = _damped(systems.values())
    p = result.parameters
    if o.name in ("rectification", "thermocurrent"):
        T0, dT = 0.5 * (p["T_e"] + p["T_ph"]), p["T_e"] - p["T_ph"]
        limit = min(max(1.6 * T0, abs(dT)), 1.96 * T0)
        grid = np.linspace(-limit, limit, num if num % 2 else num + 1)  # symmetric: R needs J(−ΔT)
        mu_L = np.full_like(grid, p["mu0"] + 0.5 * p["V"])
        mu_R = np.full_like(grid, p["mu0"] - 0.5 * p["V"])
        T_e, T_ph = T0 + 0.5 * grid, T0 - 0.5 * grid
        curves = {}
        for key, (junction, modes) in systems.items():
            J, I = (np.asarray(a) for a in _curves(junction, modes, mu_L, mu_R, T_e, T_ph, quad, damped))
            if o.name == "rectification":
                a, b = np.abs(J), np.abs(J[::-1])
                curves[key] = np.where(a + b > 0, (a - b) / np.where(a + b > 0, a + b, 1.0), 0.0)
            else:
                curves[key] = I
        y_label = label("rectification") if o.name == "rectification" else label("I")
        title = (f"{symbol('T0')} = {T0:.4g}, {symbol('mu0')} = {p['mu0']:.4g}, {symbol('V')} = {p['V']:.4g}")
        return {"x": grid, "x_label": label("delta_T") + r", $\Delta T = T_e - T_\mathrm{ph}$", "y_label": y_label,
                "marker": dT, "title": title, **curves}
    V = p["V"]
    top = max(3.0, abs(V) + 0.5)
    # The side of the objective's bias (cooling happens at V < 0 in the paper's model), plus a little of the other.
    grid = np.linspace(-top, 0.5, num) if V <= 0 else np.linspace(-0.5, top, num)
    mu_L, mu_R = p["mu0"] + 0.5 * grid, p["mu0"] - 0.5 * grid
    T_e, T_ph = np.full_like(grid, p["T_e"]), np.full_like(grid, p["T_ph"])
    curves = {key: np.asarray(_curves(j, m, mu_L, mu_R, T_e, T_ph, quad, damped)[0]) for key, (j, m) in systems.items()}
    temps = (f"{symbol('T')} = {p['T_e']:.4g}" if p["T_e"] == p["T_ph"]
             else f"{symbol('T_e')} = {p['T_e']:.4g}, {symbol('T_ph')} = {p['T_ph']:.4g}")
    return {"x": grid, "x_label": label("V"), "y_label": label("J") + "; $J < 0$ cools the modes",
            "marker": V, "title": f"{symbol('mu0')} = {p['mu0']:.4g}, {temps}", **curves}


def _start_label(result: DesignResult) -> str:
    model = result.space.model
    at_defaults = all(v == model.defaults[k] for k, v in result.space.fixed)
    if model.name == "two-level" and at_defaults:
        return "start (the paper's model)"
    return "start (start 0)"


def plot_history(result: DesignResult, ax=None):
    """Objective against the step for every start (thin grey lines), the best start and
    start 0 highlighted; the title carries the operating point."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.8), layout="constrained")
    values = result.history.value
    steps = np.arange(values.shape[0])
    ax.plot(steps, values, color="0.65", lw=0.7, alpha=0.7)
    ax.plot(steps, values[:, result.best_start], color="C3", lw=1.8, label=f"best start ({result.best_start})")
    ax.plot(steps, values[:, 0], color="C0", lw=1.2, ls="--", label="start 0 (the given start)")
    ax.axhline(result.value, color="C3", lw=0.8, ls=":", label=f"best value {result.value:.6g}")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel(objective_axis_label(result))
    ax.set_title(f"{objective_label(result.objective)} at {_operating_point(result)}; {values.shape[1]} starts",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return ax


def plot_comparison(result: DesignResult, ax=None, data: dict | None = None):
    """The best design's J(V) (or R(ΔT), I(ΔT)) against the start's; the legend (outside
    the axes) lists the design's free values."""
    import matplotlib.pyplot as plt

    data = comparison_data(result) if data is None else data
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.8), layout="constrained")
    ax.plot(data["x"], data["design"], color="C3", lw=1.8, label="design:\n" + free_values_text(result))
    ax.plot(data["x"], data["start"], color="C0", lw=1.2, ls="--", label=_start_label(result))
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.axvline(data["marker"], color="0.3", lw=0.8, ls=":", label="the objective's operating point")
    ax.set_xlabel(data["x_label"])
    ax.set_ylabel(data["y_label"])
    ax.set_title(f"{result.space.model.name}: {data['title']}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return ax


def save_figures(result: DesignResult, out, *, dpi: int = 150, overwrite: bool = True) -> None:
    """history.png and comparison.png in the folder ``out`` (atomic writes)."""
    import io
    from pathlib import Path

    from matplotlib.figure import Figure  # no pyplot: no GUI backend needed

    from ._files import write_atomic

    for name, plot in (("history.png", plot_history), ("comparison.png", plot_comparison)):
        fig = Figure(figsize=(8.0, 3.8), layout="constrained")
        plot(result, ax=fig.add_subplot())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        write_atomic(Path(out) / name, buf.getvalue(), overwrite=overwrite)
