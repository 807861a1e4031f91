"""Plots of a design run: objective vs step for every start, and the best design's
J(V), R(ΔT) or I(ΔT) against the paper's model (SPEC 7). matplotlib is imported lazily;
every plot function takes an optional ``ax``."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._currents import currents
from ._design import PAPER, DesignResult, Objective
from ._model import Baths, Junction, Modes
from ._quadrature import FrequencyQuadrature

_LABELS = {
    "cooling": "cooling power −J (ħΩ²)",
    "cop": "COP −J/P",
    "rectification": "rectification R(ΔT)",
    "thermocurrent": "thermocurrent I (eΩ)",
}


@eqx.filter_jit
def _sweep(x, mu_L, mu_R, T_e, T_ph, quadrature):
    """J and I of the two-level design x (eps_L, eps_R, gamma_L, gamma_R, m, omega, gamma_ph)
    at every set of baths (1-D arrays of equal length)."""
    junction = Junction.two_level(x[0], x[1], x[2], x[3], x[4])
    modes = Modes.single(x[5], x[6])

    def one(mu_l, mu_r, t_e, t_ph):
        c = currents(junction, modes, Baths(mu_l, mu_r, t_e, t_ph), quadrature=quadrature)
        return c.J, c.I

    return jax.vmap(one)(mu_L, mu_R, T_e, T_ph)


def _model_vector(params: dict):
    return jnp.asarray([float(params[k]) for k in ("eps_L", "eps_R", "gamma_L", "gamma_R", "m", "omega", "gamma_ph")])


def comparison_data(result: DesignResult, num: int = 121, panels: int = 10) -> dict:
    """The curve behind ``plot_comparison``: for bias objectives (cooling, cop, custom) J(V)
    at the objective's μ0 and temperatures; for rectification R(ΔT) and for thermocurrent
    I(ΔT) at its T0, μ0 and V; for the best design and for the paper's model.

    Returns {"x": grid, "x_label", "y_label", "design": values, "paper": values,
    "marker": the objective's own x (bias or ΔT)}.
    """
    objective: Objective = result.objective
    quad = FrequencyQuadrature(panels=panels, warn=False)
    design, paper = _model_vector(result.parameters), _model_vector(PAPER)
    V = result.parameters["V"]
    if objective.kind in ("rectification", "thermocurrent"):
        T0, dT = objective.T0, objective.delta_T
        limit = min(max(1.6 * T0, abs(dT)), 1.96 * T0)
        grid = np.linspace(-limit, limit, num if num % 2 else num + 1)  # symmetric: R needs J(−ΔT)
        mu_L = np.full_like(grid, objective.mu0 + 0.5 * V)
        mu_R = np.full_like(grid, objective.mu0 - 0.5 * V)
        T_e, T_ph = T0 + 0.5 * grid, T0 - 0.5 * grid
        curves = {}
        for key, x in (("design", design), ("paper", paper)):
            J, I = (np.asarray(a) for a in _sweep(x, mu_L, mu_R, T_e, T_ph, quad))
            if objective.kind == "rectification":
                a, b = np.abs(J), np.abs(J[::-1])
                curves[key] = np.where(a + b > 0, (a - b) / np.where(a + b > 0, a + b, 1.0), 0.0)
            else:
                curves[key] = I
        y_label = "R(ΔT)" if objective.kind == "rectification" else "I (eΩ)"
        return {"x": grid, "x_label": f"ΔT = T_e − T_ph (T0 = {T0:g}, μ = {objective.mu0:g})", "y_label": y_label,
                "marker": dT, **curves}
    top = max(3.0, abs(V) + 0.5)
    # The side of the objective's bias (cooling happens at V < 0 in the paper's model), plus a little of the other.
    grid = np.linspace(-top, 0.5, num) if V <= 0 else np.linspace(-0.5, top, num)
    mu_L, mu_R = objective.mu0 + 0.5 * grid, objective.mu0 - 0.5 * grid
    T_e, T_ph = np.full_like(grid, objective.T_e), np.full_like(grid, objective.T_ph)
    curves = {key: np.asarray(_sweep(x, mu_L, mu_R, T_e, T_ph, quad)[0]) for key, x in (("design", design),
                                                                                          ("paper", paper))}
    temps = f"T = {objective.T_e:g}" if objective.T_e == objective.T_ph else f"T_e = {objective.T_e:g}, " \
                                                                              f"T_ph = {objective.T_ph:g}"
    return {"x": grid, "x_label": f"bias V = μ_L − μ_R (μ0 = {objective.mu0:g}, {temps})",
            "y_label": "J (ħΩ²), J < 0 cools the mode", "marker": V, **curves}


def plot_history(result: DesignResult, ax=None):
    """Objective vs step for every start (thin lines), the best start highlighted."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    values = result.history.value
    steps = np.arange(values.shape[0])
    ax.plot(steps, values, color="0.6", lw=0.7, alpha=0.7)
    ax.plot(steps, values[:, result.best_start], color="C3", lw=1.8, label=f"best start ({result.best_start})")
    ax.plot(steps, values[:, 0], color="C0", lw=1.2, ls="--", label="start 0 (the given start)")
    ax.axhline(result.value, color="C3", lw=0.8, ls=":")
    ax.set_xlabel("step")
    ax.set_ylabel(_LABELS.get(result.objective.kind, result.objective.name))
    ax.set_title(f"{result.objective.name}: {values.shape[1]} starts, best {result.value:.4g}", fontsize=10)
    ax.legend(fontsize=8)
    return ax


def plot_comparison(result: DesignResult, ax=None, data: dict | None = None):
    """The best design's J(V) (or R(ΔT), I(ΔT)) against the paper's model."""
    import matplotlib.pyplot as plt

    data = comparison_data(result) if data is None else data
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    free = ", ".join(f"{k} = {result.parameters[k]:.3g}" for k in result.space.free)
    ax.plot(data["x"], data["design"], color="C3", lw=1.8, label=f"design ({free})")
    ax.plot(data["x"], data["paper"], color="C0", lw=1.2, ls="--", label="paper's model (SPEC 7)")
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.axvline(data["marker"], color="0.3", lw=0.8, ls=":", label="objective's operating point")
    ax.set_xlabel(data["x_label"])
    ax.set_ylabel(data["y_label"])
    ax.legend(fontsize=7)
    return ax
