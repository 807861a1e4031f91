"""What a design run returns: every iterate (``History``), the best design
(``DesignResult``) and the plain-language report: bounds reached and convergence."""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import numpy as np

from .._currents import Currents
from .._model import Baths, Junction, Modes
from ._objectives import Objective, objective_label
from ._space import DesignSpace

BOUND_RTOL = 1e-3  # a free number within this fraction of its box (or of max(1, |bound|)) sits on the bound
WINDOW = 10  # convergence is judged over the last WINDOW steps


class History(eqx.Module):
    """Objective, entropy production, gradient norm and free numbers at every iterate.

    value, guide, entropy_production, grad_norm: (steps + 1, starts) (the guide is what the
    optimiser follows, see ``Objective``; grad_norm is |∂loss/∂u| in the unconstrained
    variables); x: (steps + 1, starts, free) physical values of ``names``; converged_at:
    (starts,) step at which each start met the stopping rule (−1: never).
    """

    value: np.ndarray
    guide: np.ndarray
    entropy_production: np.ndarray
    grad_norm: np.ndarray
    x: np.ndarray
    names: tuple = eqx.field(static=True)
    converged_at: np.ndarray

    @property
    def steps(self) -> int:
        return self.value.shape[0] - 1

    @property
    def starts(self) -> int:
        return self.value.shape[1]

    @property
    def params(self) -> dict[str, np.ndarray]:
        """{free name: (steps + 1, starts)}."""
        return {name: self.x[..., i] for i, name in enumerate(self.names)}

    def relative_change(self, start: int, window: int = WINDOW) -> float:
        """|v_last − v_(last−window)| / max(|v_last|, 1e-300) of one start."""
        v = self.value[:, start]
        k = min(window, len(v) - 1)
        if k < 1:
            return math.nan
        return float(abs(v[-1] - v[-1 - k]) / max(abs(v[-1]), 1e-300))


@dataclasses.dataclass(frozen=True, eq=False)
class DesignResult:
    """Outcome of ``optimize``.

    parameters: every scalar of the best design (the model's parameters, then μ0, V, T_e,
    T_ph); free: the free numbers by name (matrix entries included); value: the objective
    there, re-evaluated until the quadrature's error estimate is below 1e-8 relative
    (``value_error``); junction, modes, baths: the design as ehpjax inputs (for
    rectification, the forward baths); start_value: the objective at the given start
    (start 0, iterate 0); history: every iterate; converged: every start met the stopping
    rule before ``steps``; tol, patience: that rule.
    """

    objective: Objective
    space: DesignSpace
    parameters: dict
    free: dict
    value: float
    value_error: float
    start_value: float
    junction: Junction
    modes: Modes
    baths: Baths
    currents: Currents
    history: History
    best_start: int
    best_step: int
    steps_run: int
    converged: bool
    min_entropy_production: float
    second_law_violations: int
    tol: float = 1e-7
    patience: int = 30

    @property
    def model(self):
        return self.space.model

    @property
    def improvement(self) -> float:
        """value / start_value where both are > 0 (e.g. the cooling power relative to the
        start's); NaN otherwise (a ratio to a value ≤ 0 means nothing: see ``difference``)."""
        if self.start_value > 0 and self.value > 0:
            return self.value / self.start_value
        return math.nan

    @property
    def difference(self) -> float:
        return self.value - self.start_value

    def on_bound(self, rtol: float = BOUND_RTOL):
        """Free numbers of the best design within ``rtol`` of a bound: (name, value, side, bound)."""
        return self.space.on_bound([self.free[n] for n in self.space.names], rtol)

    def best_still_improving(self, window: int = WINDOW) -> bool:
        """Whether the best start's objective improved by more than tol·|value| over its last
        ``window`` steps without having met the stopping rule."""
        h = self.history
        if h.converged_at[self.best_start] >= 0 or self.steps_run == 0:
            return False
        v = h.value[:, self.best_start]
        sign = 1.0 if self.objective.maximize else -1.0
        k = min(window, len(v) - 1)
        w = sign * v[-k - 1:]
        gain = np.nanmax(w) - w[0]
        return bool(gain > self.tol * abs(v[-1]) + 1e-15)

    def convergence(self, window: int = WINDOW) -> str:
        """One line on convergence: the stopping rule, the best start's relative change over
        the last ``window`` steps and its gradient norm, how many starts still move."""
        h = self.history
        moving = int(np.sum(h.converged_at < 0))
        s = self.best_start
        detail = (f"best start: relative change {h.relative_change(s, window):.1e} over the last "
                  f"{min(window, h.steps)} steps, gradient norm {h.grad_norm[-1, s]:.1e}")
        if self.converged:
            head = f"converged: every start stopped improving (by > {self.tol:g} relative for {self.patience} steps)"
        elif self.best_still_improving(window):
            head = "not converged: best start still improving at the last step"
        elif h.converged_at[s] >= 0:
            head = f"best start converged at step {h.converged_at[s]}"
        else:
            head = "not converged (the best start has levelled off, but has not met the stopping rule)"
        return f"{head}; {detail}; {moving} of {h.starts} starts still moving"

    def comparison(self) -> str:
        """The value against the start's: the difference, and the ratio where both are > 0."""
        text = f"difference {self.difference:+.6g}"
        if math.isfinite(self.improvement):
            text += f", ratio {self.improvement:.4g}"
        return text

    def __str__(self) -> str:
        o = self.objective
        flags = {name: (side, b) for name, _, side, b in self.on_bound()}
        rows = []
        for name in self.space.names:
            mark = f"  <- on its {flags[name][0]} bound {flags[name][1]:g}" if name in flags else ""
            lo, hi = self.space.bounds[self.space.names.index(name)]
            rows.append(f"  {name:<14} = {self.free[name]:<14.10g} bounds ({lo:g}, {hi:g}){mark}")
        fixed = ", ".join(f"{k} = {v:.6g}" for k, v in self.parameters.items() if k not in self.space.names)
        lines = [
            (f"objective {objective_label(o)} = {self.value:.10g} (error ~ {self.value_error:.1e}; "
            f"{'maximised' if o.maximize else 'minimised'}); at the start {self.start_value:.10g} "
            f"({self.comparison()})"),
            (f"model {self.model.name}; best of {self.history.starts} starts: start {self.best_start}, "
            f"iterate {self.best_step} of {self.steps_run} steps"),
            self.convergence(),
            "free:",
            *rows,
            f"fixed: {fixed}",
        ]
        if flags:
            lines.append("on a bound: " + ", ".join(f"{n} ({s} {b:g})" for n, (s, b) in flags.items())
                         + " -- the optimum may lie beyond; widen with bounds=... / --bound")
        lines.append(f"entropy production >= {self.min_entropy_production:.3e} at every iterate "
                     f"({self.second_law_violations} violations)")
        return "\n".join(lines)

    def save(self, path, *, overwrite: bool = True) -> None:
        """Write best.json (see ``ehpjax.design.save_design``)."""
        from ._files import save_result

        save_result(path, self, overwrite=overwrite)
