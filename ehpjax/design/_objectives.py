"""Objectives of inverse design: figures of merit of a junction at fixed baths.

An objective is a value (a frozen dataclass, hashable, so it can key compiled functions):
``Cooling``, ``COP``, ``Rectification``, ``Thermocurrent`` or ``Custom(fn)``. Each holds
its operating point (μ0, V, T_e, T_ph) and the direction (``maximize``), and is evaluated
by ``objective.evaluate(junction, modes, baths)``; calling it with a ``Currents`` (or with
junction, modes[, baths]) gives the scalar value. Formulas: docs/physics.md §5.

    cooling power        −J                                   (ħΩ²)
    COP                  −J/P where J < 0 and P > 0, else 0   (= ehpjax.cooling_cop)
    rectification        R(ΔT) = (|J(ΔT)| − |J(−ΔT)|)/(|J(ΔT)| + |J(−ΔT)|)
    thermocurrent        I (L → R)                            (eΩ)

Besides its value, each objective returns a *guide*: the smooth function the optimiser
follows. It equals the value except for COP, whose value is clipped to 0 outside the
cooling region (flat: no gradient); there the guide continues smoothly as −J/P, negative
where the mode is heated, so that gradients lead into the cooling region.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Callable, ClassVar, Mapping

import jax.numpy as jnp

from .._currents import Currents, currents, rectification_ratio
from .._errors import EhpjaxError
from .._quadrature import QUIET
from .._model import Baths, Junction, Modes
from ..models import baths_from


class DesignError(EhpjaxError):
    """A design problem that cannot be run: unknown objective or variable, bad bounds, a
    start outside its bounds, ...; the message names the culprit."""


def _check_temperature(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise DesignError(f"{name} must be a positive, finite temperature (got {value})")


def _check_finite(owner: str, **values) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise DesignError(f"objective {owner!r}: {name} must be finite (got {value})")


@dataclasses.dataclass(frozen=True)
class Objective:
    """Base of every objective. Subclasses define ``bath_values`` (μ0, V, T_e, T_ph) and
    ``of(currents)`` (or override ``evaluate``)."""

    name: ClassVar[str] = "objective"
    quantity: ClassVar[str] = ""  # key of ehpjax._quantities for plot labels
    description: ClassVar[str] = ""

    @property
    def bath_values(self) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def T0(self) -> float:
        b = self.bath_values
        return 0.5 * (b["T_e"] + b["T_ph"])

    @property
    def delta_T(self) -> float:
        b = self.bath_values
        return b["T_e"] - b["T_ph"]

    @property
    def kind(self) -> str:
        return self.name

    def baths(self, overrides: Mapping[str, object] | None = None) -> Baths:
        """The baths of the operating point, with bath names in ``overrides`` (e.g. a free V)
        replacing the objective's own (μ_L,R = μ0 ± V/2)."""
        return baths_from({**self.bath_values, **(overrides or {})})

    def of(self, c: Currents):
        """(value, guide, estimated absolute error of the value) from the currents."""
        raise DesignError(f"objective {self.name!r} needs the junction, not only its currents")

    def evaluate(self, junction: Junction, modes: Modes, baths: Baths | None = None, *,
                 quadrature=QUIET, order: str = "lowest"):
        """(value, guide, entropy production σ, error of the value, Currents at ``baths``)."""
        baths = self.baths() if baths is None else baths
        c = currents(junction, modes, baths, quadrature=quadrature, order=order)
        value, guide, error = self.of(c)
        return value, guide, c.entropy_production, error, c

    def __call__(self, system, modes: Modes | None = None, baths: Baths | None = None, *, quadrature=QUIET,
                 order: str = "lowest"):
        """The value, from a ``Currents`` or from (junction, modes[, baths]) (differentiable)."""
        if isinstance(system, Currents):
            return self.of(system)[0]
        if modes is None:
            raise DesignError(f"objective {self.name!r}: call it with a Currents or with (junction, modes[, baths])")
        return self.evaluate(system, modes, baths, quadrature=quadrature, order=order)[0]

    def settings(self) -> dict:
        """The objective as plain numbers (for best.json)."""
        out = {"name": self.name, "maximize": self.maximize, **self.bath_values}
        out.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                    if isinstance(getattr(self, f.name), (int, float, str, bool))})
        if self.description:
            out["description"] = self.description
        return out


@dataclasses.dataclass(frozen=True)
class _BiasObjective(Objective):
    """At bias V, μ0 and T_e = T_ph = T (the situation of the paper's Fig. 5)."""

    V: float = -1.0
    mu0: float = 10.0
    T: float = 0.2
    maximize: bool = True

    def __post_init__(self):
        _check_finite(self.name, V=self.V, mu0=self.mu0)
        _check_temperature("T_e", self.T)

    @property
    def bath_values(self) -> dict[str, float]:
        return {"mu0": float(self.mu0), "V": float(self.V), "T_e": float(self.T), "T_ph": float(self.T)}


@dataclasses.dataclass(frozen=True)
class Cooling(_BiasObjective):
    """Cooling power −J of the modes (ħΩ²) at bias V, μ0 and T_e = T_ph = T."""

    name: ClassVar[str] = "cooling"
    quantity: ClassVar[str] = "cooling"
    description: ClassVar[str] = "cooling power -J of the modes (hbar*Omega^2), T_e = T_ph = T"

    def of(self, c: Currents):
        return -c.J, -c.J, c.J_error


@dataclasses.dataclass(frozen=True)
class COP(_BiasObjective):
    """Cooling coefficient of performance at bias V, μ0 and T_e = T_ph = T.

    value = −J/P where the device cools (J < 0 and P > 0), else 0: exactly
    ``ehpjax.cooling_cop`` (clipped at 0). This is what is reported, saved and used to
    pick the best iterate. The optimiser follows the guide −J/P (where P > 0; 0 where
    P ≤ 0), which equals the value in the cooling region and is negative where the mode
    is heated, so that a start outside the cooling region still has a gradient into it.
    """

    name: ClassVar[str] = "cop"
    quantity: ClassVar[str] = "cop"
    description: ClassVar[str] = ("cooling COP -J/P where J < 0 and P > 0, else 0 (= cooling_cop; the optimiser "
                                  "follows the unclipped -J/P)")

    def of(self, c: Currents):
        positive = c.P > 0
        P = jnp.where(positive, c.P, 1.0)
        guide = jnp.where(positive, -c.J / P, 0.0)
        cools = positive & (c.J < 0)
        value = jnp.where(cools, guide, 0.0)
        V = jnp.abs(c.P / jnp.where(c.I != 0, c.I, 1.0))
        error = jnp.where(cools, c.J_error / P + jnp.abs(c.J) * V * c.I_error / P**2, 0.0)
        return value, guide, error


def _thermal_check(owner: str, T0: float, delta_T: float) -> None:
    _check_temperature("T0", T0)
    if not (math.isfinite(delta_T) and abs(delta_T) < 2.0 * T0):
        raise DesignError(f"{owner}: delta_T must satisfy |delta_T| < 2*T0 = {2 * T0:g} (got {delta_T:g})")


@dataclasses.dataclass(frozen=True)
class _ThermalObjective(Objective):
    """At T_e = T0 + ΔT/2, T_ph = T0 − ΔT/2, μ0 and bias V (the paper's Figs. 3, 4)."""

    T0: float = 0.5
    delta_T: float = 0.4
    mu0: float = 10.0
    V: float = 0.0
    maximize: bool = True

    def __post_init__(self):
        _check_finite(self.name, V=self.V, mu0=self.mu0)
        _thermal_check(self.name, self.T0, self.delta_T)

    @property
    def bath_values(self) -> dict[str, float]:
        return {"mu0": float(self.mu0), "V": float(self.V), "T_e": float(self.T0 + 0.5 * self.delta_T),
                "T_ph": float(self.T0 - 0.5 * self.delta_T)}


@dataclasses.dataclass(frozen=True)
class Thermocurrent(_ThermalObjective):
    """Boson-assisted charge current I, L → R (eΩ), driven by ΔT = T_e − T_ph."""

    name: ClassVar[str] = "thermocurrent"
    quantity: ClassVar[str] = "I"
    description: ClassVar[str] = "boson-assisted charge current I, L -> R (e*Omega), T_e,ph = T0 +- dT/2"

    def of(self, c: Currents):
        return c.I, c.I, c.I_error


@dataclasses.dataclass(frozen=True)
class Rectification(_ThermalObjective):
    """Thermal rectification R(ΔT) = (|J(ΔT)| − |J(−ΔT)|)/(|J(ΔT)| + |J(−ΔT)|) ∈ [−1, 1]
    (0 where both currents vanish); needs the junction (two evaluations, T_e ↔ T_ph)."""

    name: ClassVar[str] = "rectification"
    quantity: ClassVar[str] = "rectification"
    description: ClassVar[str] = "rectification R(dT) = (|J(dT)| - |J(-dT)|)/(|J(dT)| + |J(-dT)|)"

    def evaluate(self, junction, modes, baths=None, *, quadrature=QUIET, order="lowest"):
        baths = self.baths() if baths is None else baths
        c = currents(junction, modes, baths, quadrature=quadrature, order=order)
        reverse = Baths(baths.mu_L, baths.mu_R, baths.T_ph, baths.T_e)  # ΔT → −ΔT
        back = currents(junction, modes, reverse, quadrature=quadrature, order=order)
        value = rectification_ratio(c.J, back.J)
        a, b = jnp.abs(c.J), jnp.abs(back.J)
        error = 2.0 * (b * c.J_error + a * back.J_error) / jnp.where(a + b > 0, a + b, 1.0) ** 2
        return value, value, jnp.minimum(c.entropy_production, back.entropy_production), error, c


@dataclasses.dataclass(frozen=True)
class Custom(Objective):
    """A user objective ``fn(currents) -> scalar`` at μ_L,R = μ0 ± V/2, T_e, T_ph (T_ph
    defaults to T_e). ``fn`` must be a pure JAX function (it is jitted, vmapped and
    differentiated), e.g. ``Custom(lambda c: -c.channel("LR")["J"], V=-1.0, T_e=0.2)``.
    With ``system=True``, ``fn(junction, modes, baths)`` instead."""

    fn: Callable = None
    label: str = "custom"
    V: float = 0.0
    mu0: float = 10.0
    T_e: float = 0.2
    T_ph: float | None = None
    maximize: bool = True
    system: bool = False
    text: str = ""

    name: ClassVar[str] = "custom"

    def __post_init__(self):
        if not callable(self.fn):
            raise DesignError("a custom objective needs fn, a function of Currents returning a scalar")
        _check_finite("custom", V=self.V, mu0=self.mu0)
        _check_temperature("T_e", self.T_e)
        _check_temperature("T_ph", self.bath_values["T_ph"])

    @property
    def bath_values(self) -> dict[str, float]:
        T_ph = self.T_e if self.T_ph is None else self.T_ph
        return {"mu0": float(self.mu0), "V": float(self.V), "T_e": float(self.T_e), "T_ph": float(T_ph)}

    def _scalar(self, value):
        value = jnp.asarray(value, dtype=jnp.float64)
        if value.shape != ():
            raise DesignError(f"custom objective {self.label!r} must return a scalar, got shape {value.shape}")
        return value

    def of(self, c: Currents):
        if self.system:
            return super().of(c)
        value = self._scalar(self.fn(c))
        rel = jnp.maximum(c.J_error / jnp.maximum(jnp.abs(c.J), 1e-300), c.I_error / jnp.maximum(jnp.abs(c.I), 1e-300))
        return value, value, jnp.minimum(rel, 1.0) * jnp.abs(value)

    def evaluate(self, junction, modes, baths=None, *, quadrature=QUIET, order="lowest"):
        if not self.system:
            return super().evaluate(junction, modes, baths, quadrature=quadrature, order=order)
        baths = self.baths() if baths is None else baths
        c = currents(junction, modes, baths, quadrature=quadrature, order=order)
        value = self._scalar(self.fn(junction, modes, baths))
        return value, value, c.entropy_production, jnp.zeros(()), c

    def settings(self) -> dict:
        out = {"name": self.label, "kind": "custom", "maximize": self.maximize, **self.bath_values}
        if self.text:
            out["description"] = self.text
        return out


# ----------------------------------------------------------------------------------------
# Factories by name (the command line, and the short forms of earlier versions)

OBJECTIVES = ("cooling", "cop", "rectification", "thermocurrent")
CLASSES = {"cooling": Cooling, "cop": COP, "rectification": Rectification, "thermocurrent": Thermocurrent}


def cooling(V: float = -1.0, mu0: float = 10.0, T: float = 0.2, maximize: bool = True) -> Cooling:
    """Cooling power −J at bias V and T_e = T_ph = T (the Fig. 5 situation), to maximise."""
    return Cooling(V=float(V), mu0=float(mu0), T=float(T), maximize=bool(maximize))


def cop(V: float = -1.0, mu0: float = 10.0, T: float = 0.2, maximize: bool = True) -> COP:
    """Cooling COP (= ``ehpjax.cooling_cop``, 0 outside the cooling region) at bias V, T_e = T_ph = T."""
    return COP(V=float(V), mu0=float(mu0), T=float(T), maximize=bool(maximize))


def rectification(T0: float = 0.5, delta_T: float = 0.4, mu0: float = 10.0, V: float = 0.0,
                  maximize: bool = True) -> Rectification:
    """R(ΔT) with T_e = T0 + ΔT/2, T_ph = T0 − ΔT/2 (Fig. 3), to maximise."""
    return Rectification(T0=float(T0), delta_T=float(delta_T), mu0=float(mu0), V=float(V), maximize=bool(maximize))


def thermocurrent(T0: float = 0.5, delta_T: float = 0.4, mu0: float = 10.0, V: float = 0.0,
                  maximize: bool = True) -> Thermocurrent:
    """Charge current I driven by ΔT = T_e − T_ph at mean temperature T0 (Fig. 4), to maximise."""
    return Thermocurrent(T0=float(T0), delta_T=float(delta_T), mu0=float(mu0), V=float(V), maximize=bool(maximize))


def custom(fn: Callable, *, name: str = "custom", V: float = 0.0, mu0: float = 10.0, T_e: float = 0.2,
           T_ph: float | None = None, maximize: bool = True, description: str = "", system: bool = False) -> Custom:
    """``Custom`` with the keyword ``name`` for its label."""
    return Custom(fn=fn, label=str(name), V=float(V), mu0=float(mu0), T_e=float(T_e),
                  T_ph=None if T_ph is None else float(T_ph), maximize=bool(maximize), system=bool(system),
                  text=str(description))


_FACTORIES = {"cooling": cooling, "cop": cop, "rectification": rectification, "thermocurrent": thermocurrent}


def get_objective(name: str, **settings) -> Objective:
    """An objective by name: ``cooling``, ``cop`` (settings V, mu0, T), ``rectification``
    or ``thermocurrent`` (settings T0, delta_T, mu0, V); ``maximize`` for all."""
    if name not in _FACTORIES:
        raise DesignError(f"unknown objective {name!r} (choose from {', '.join(OBJECTIVES)})")
    allowed = list(inspect.signature(_FACTORIES[name]).parameters)
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise DesignError(f"objective {name!r} has no setting {unknown[0]!r} (settings: {', '.join(allowed)})")
    return _FACTORIES[name](**settings)


_OPERATING_POINT = ("V", "mu0", "T", "T0", "delta_T", "T_e", "T_ph")


def keyed(objective: Objective) -> Objective:
    """``objective`` with the numbers of its operating point at their defaults, if it is one of
    the built-in classes, whose methods read the baths they are given and never these numbers
    (so one compiled step serves every operating point; the numbers travel as data). Any other
    objective is returned as it is: its methods may read its numbers."""
    if type(objective) not in (Cooling, COP, Rectification, Thermocurrent, Custom):
        return objective
    return dataclasses.replace(objective, **{f.name: f.default for f in dataclasses.fields(objective)
                                             if f.name in _OPERATING_POINT})


def evaluates_only_its_system(objective: Objective) -> bool:
    """Whether ``objective.evaluate`` calls ``currents`` only on the system it is given (the
    built-in classes; not a ``Custom`` with ``system=True``, whose ``fn`` may build other systems
    from it, nor any other class): what is known of that system may then be told to ``currents``
    (``DesignSpace.known_system``)."""
    if type(objective) is Custom:
        return not objective.system
    return type(objective) in CLASSES.values()


def objective_label(objective: Objective) -> str:
    """The objective's name for reports (a custom objective's label)."""
    return objective.label if isinstance(objective, Custom) else objective.name

