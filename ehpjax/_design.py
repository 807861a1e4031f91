"""Inverse design of the paper's two-level junction (issue 4): objectives, design
variables behind smooth bijections, and a batched optax loop over random starts.

Design variables (SPEC 2, 3, 7): the levels ε_L, ε_R, the broadenings γ_L, γ_R, the
electron–mode coupling m, the mode frequency Ω (``omega``), its bath friction γ_ph and
the bias V = μ_L − μ_R. The user picks the free ones and their bounds; the rest keep
their start values. Free variables are optimised in an unconstrained variable u:

    box (lo, hi):        x = lo + (hi − lo) · sigmoid(u)
    lower bound only:    x = lo + softplus(u)          (broadenings: lo ≥ 0)
    upper bound only:    x = hi − softplus(u)
    no bounds:           x = u

so that every iterate is a physical junction. Objectives are figures of merit of
``currents`` (SPEC 5) at fixed baths: cooling power −J, COP −J/P, rectification R(ΔT),
thermoelectric current I, or any user function of ``Currents``. All starts run at once
(``jax.vmap``) through one jitted optax step; the second law σ ≥ 0 is recorded at
every iterate.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._currents import Currents, currents
from ._model import Baths, Junction, Modes
from ._quadrature import FrequencyQuadrature

VARIABLES = ("eps_L", "eps_R", "gamma_L", "gamma_R", "m", "omega", "gamma_ph", "V")
PAPER = dict(eps_L=10.5, eps_R=9.5, gamma_L=0.5, gamma_R=0.5, m=0.5, omega=1.0, gamma_ph=0.5)  # SPEC 7
DEFAULT_FREE = ("eps_L", "eps_R", "gamma_L", "gamma_R")
OBJECTIVES = ("cooling", "cop", "rectification", "thermocurrent")
UNITS = "hbar*Omega = k_B = e = 1 (energies, frequencies, temperatures, chemical potentials and biases in hbar*Omega)"
DESCRIPTIONS = {
    "eps_L": "energy of level 1 (coupled to lead L)",
    "eps_R": "energy of level 2 (coupled to lead R)",
    "gamma_L": "broadening of level 1 by lead L",
    "gamma_R": "broadening of level 2 by lead R",
    "m": "electron-mode coupling, M = m(|1><2| + |2><1|)",
    "omega": "mode frequency Omega (K = Omega^2)",
    "gamma_ph": "mode-phonon-bath friction eta",
    "V": "bias mu_L - mu_R (mu_L,R = mu0 +- V/2)",
}
# Variables whose value must stay ≥ 0 (broadenings) or > 0 (frequency): lower bounds below
# these are rejected.
_PHYSICAL_LOWER = {"gamma_L": 0.0, "gamma_R": 0.0, "gamma_ph": 0.0, "omega": 0.0}
_SIGMA_TOL = 1e-12  # σ < −_SIGMA_TOL counts as a violation of the second law (rounding noise above)


class DesignError(ValueError):
    """A design problem that cannot be run: unknown objective or variable, bad bounds, a
    start outside its bounds, …; the message names the culprit."""


def default_bounds(mu0: float = 10.0) -> dict[str, tuple[float, float]]:
    """Default bounds of the design variables (levels within 3 of μ0; broadenings
    ≥ 0.05 and η ≥ 0.02, the accuracy range of SPEC 8; 0 < m < 1; 0.25 < Ω < 4; |V| < 3)."""
    inf = math.inf
    return {
        "eps_L": (mu0 - 3.0, mu0 + 3.0),
        "eps_R": (mu0 - 3.0, mu0 + 3.0),
        "gamma_L": (0.05, inf),
        "gamma_R": (0.05, inf),
        "m": (0.0, 1.0),
        "omega": (0.25, 4.0),
        "gamma_ph": (0.02, inf),
        "V": (-3.0, 3.0),
    }


def two_level_design(params) -> tuple[Junction, Modes]:
    """(Junction, Modes) of the paper's two-level model from a mapping with the keys of
    ``VARIABLES`` (V is not used here)."""
    junction = Junction.two_level(params["eps_L"], params["eps_R"], params["gamma_L"], params["gamma_R"], params["m"])
    return junction, Modes.single(params["omega"], params["gamma_ph"])


# ----------------------------------------------------------------------------------------
# Objectives


def _check_temperature(name, value):
    if not (math.isfinite(value) and value > 0):
        raise DesignError(f"{name} must be a positive, finite temperature (got {value})")


@dataclasses.dataclass(frozen=True)
class Objective:
    """A figure of merit of a junction at fixed baths μ_L,R = μ0 ± V/2, T_e, T_ph.

    Build one with ``cooling``, ``cop``, ``rectification``, ``thermocurrent`` or
    ``custom``. ``maximize`` says which way is better; ``V`` is the bias used unless V
    is a free design variable.
    """

    name: str
    kind: str  # "cooling" | "cop" | "rectification" | "thermocurrent" | "custom"
    mu0: float
    V: float
    T_e: float
    T_ph: float
    maximize: bool = True
    fn: Callable[[Currents], jax.Array] | None = None
    description: str = ""

    def __post_init__(self):
        for field in ("mu0", "V"):
            if not math.isfinite(getattr(self, field)):
                raise DesignError(f"objective {self.name!r}: {field} must be finite (got {getattr(self, field)})")
        _check_temperature("T_e", self.T_e)
        _check_temperature("T_ph", self.T_ph)
        if self.kind not in OBJECTIVES + ("custom",):
            raise DesignError(f"unknown objective kind {self.kind!r} (known: {', '.join(OBJECTIVES)}, custom)")
        if self.kind == "custom" and not callable(self.fn):
            raise DesignError("a custom objective needs fn, a function of Currents returning a scalar")

    @property
    def T0(self) -> float:
        return 0.5 * (self.T_e + self.T_ph)

    @property
    def delta_T(self) -> float:
        return self.T_e - self.T_ph

    def baths(self, V=None) -> Baths:
        """The baths at which the objective is evaluated (for ``rectification``: the forward ones)."""
        return Baths.biased(self.V if V is None else V, self.mu0, self.T_e, self.T_ph)

    def evaluate(self, junction: Junction, modes: Modes, V=None, *, quadrature=FrequencyQuadrature(warn=False)):
        """(value, entropy production σ, estimated absolute error of the value).

        For ``rectification`` σ is the smaller of the forward and backward ones.
        """
        return self.evaluate_with_currents(junction, modes, V, quadrature=quadrature)[:3]

    def evaluate_with_currents(self, junction: Junction, modes: Modes, V=None, *,
                               quadrature=FrequencyQuadrature(warn=False)):
        """(value, σ, error, Currents at ``self.baths(V)``)."""
        baths = self.baths(V)
        c = currents(junction, modes, baths, quadrature=quadrature)
        if self.kind == "cooling":
            return -c.J, c.entropy_production, c.J_error, c
        if self.kind == "cop":
            # −J/P where P > 0 (the cooling COP where J < 0, negative where the device heats,
            # so that the gradient points towards cooling); 0 where P ≤ 0.
            positive = c.P > 0
            P = jnp.where(positive, c.P, 1.0)
            value = jnp.where(positive, -c.J / P, 0.0)
            error = jnp.where(positive, c.J_error / P + jnp.abs(c.J * baths.V) * c.I_error / P**2, 0.0)
            return value, c.entropy_production, error, c
        if self.kind == "thermocurrent":
            return c.I, c.entropy_production, c.I_error, c
        if self.kind == "rectification":
            reverse = Baths(baths.mu_L, baths.mu_R, baths.T_ph, baths.T_e)  # ΔT → −ΔT
            back = currents(junction, modes, reverse, quadrature=quadrature)
            a, b = jnp.abs(c.J), jnp.abs(back.J)
            total = a + b
            safe = jnp.where(total > 0, total, 1.0)
            value = jnp.where(total > 0, (a - b) / safe, 0.0)
            error = 2.0 * (b * c.J_error + a * back.J_error) / safe**2
            return value, jnp.minimum(c.entropy_production, back.entropy_production), error, c
        value = jnp.asarray(self.fn(c), dtype=jnp.float64)
        if value.shape != ():
            raise DesignError(f"custom objective {self.name!r} must return a scalar, got shape {value.shape}")
        rel = jnp.maximum(c.J_error / jnp.maximum(jnp.abs(c.J), 1e-300), c.I_error / jnp.maximum(jnp.abs(c.I), 1e-300))
        return value, c.entropy_production, jnp.minimum(rel, 1.0) * jnp.abs(value), c

    def __call__(self, junction: Junction, modes: Modes, V=None, *, quadrature=FrequencyQuadrature(warn=False)):
        """The objective's value (differentiable in every field of junction and modes, and V)."""
        return self.evaluate(junction, modes, V, quadrature=quadrature)[0]

    def settings(self) -> dict:
        """The objective's settings as plain numbers (for best.json)."""
        out = {"name": self.name, "kind": self.kind, "maximize": self.maximize, "mu0": self.mu0, "V": self.V}
        if self.kind in ("rectification", "thermocurrent"):
            out.update(T0=self.T0, delta_T=self.delta_T)
        out.update(T_e=self.T_e, T_ph=self.T_ph)
        if self.description:
            out["description"] = self.description
        return out


def cooling(V: float = -1.0, mu0: float = 10.0, T: float = 0.2) -> Objective:
    """Cooling power −J of the mode at bias V and T_e = T_ph = T (the Fig. 5 situation), to maximise."""
    return Objective("cooling", "cooling", float(mu0), float(V), float(T), float(T), True,
                     description="cooling power -J of the mode (hbar*Omega^2), T_e = T_ph = T")


def cop(V: float = -1.0, mu0: float = 10.0, T: float = 0.2) -> Objective:
    """Cooling coefficient of performance −J/P at bias V and T_e = T_ph = T, to maximise.

    Equal to ``ehpjax.cooling_cop`` where the device cools; negative where it heats (a
    smooth extension, so that a gradient leads out of the heating region).
    """
    return Objective("cop", "cop", float(mu0), float(V), float(T), float(T), True,
                     description="cooling COP -J/P (dimensionless), T_e = T_ph = T")


def _thermal(T0, delta_T, what):
    T0, delta_T = float(T0), float(delta_T)
    _check_temperature("T0", T0)
    if not (math.isfinite(delta_T) and abs(delta_T) < 2.0 * T0):
        raise DesignError(f"{what}: delta_T must satisfy |delta_T| < 2*T0 = {2 * T0:g} (got {delta_T:g})")
    return T0 + 0.5 * delta_T, T0 - 0.5 * delta_T


def rectification(T0: float = 0.5, delta_T: float = 0.4, mu0: float = 10.0, V: float = 0.0) -> Objective:
    """Thermal rectification R(ΔT) with T_e = T0 + ΔT/2, T_ph = T0 − ΔT/2 (Fig. 3), to maximise."""
    T_e, T_ph = _thermal(T0, delta_T, "rectification")
    return Objective("rectification", "rectification", float(mu0), float(V), T_e, T_ph, True,
                     description="rectification ratio R(delta_T) = (|J(dT)| - |J(-dT)|)/(|J(dT)| + |J(-dT)|)")


def thermocurrent(T0: float = 0.5, delta_T: float = 0.4, mu0: float = 10.0, V: float = 0.0) -> Objective:
    """Boson-assisted charge current I (L → R) driven by T_e − T_ph = ΔT (Fig. 4), to maximise."""
    T_e, T_ph = _thermal(T0, delta_T, "thermocurrent")
    return Objective("thermocurrent", "thermocurrent", float(mu0), float(V), T_e, T_ph, True,
                     description="boson-assisted charge current I, L -> R (e*Omega), T_e = T0 + dT/2, T_ph = T0 - dT/2")


def custom(fn: Callable[[Currents], jax.Array], *, name: str = "custom", V: float = 0.0, mu0: float = 10.0,
           T_e: float = 0.2, T_ph: float | None = None, maximize: bool = True, description: str = "") -> Objective:
    """A user objective: ``fn(currents) -> scalar`` at baths μ_L,R = μ0 ± V/2, T_e, T_ph.

    ``fn`` must be a pure JAX function (it is jitted, vmapped and differentiated), e.g.
    ``custom(lambda c: c.J_channels[3], V=-1.0, T_e=0.2, maximize=False)``.
    """
    return Objective(str(name), "custom", float(mu0), float(V), float(T_e), float(T_e if T_ph is None else T_ph),
                     bool(maximize), fn, description)


_FACTORIES = {"cooling": cooling, "cop": cop, "rectification": rectification, "thermocurrent": thermocurrent}


def get_objective(name: str, **settings) -> Objective:
    """An objective by name: ``cooling``, ``cop`` (keywords V, mu0, T), ``rectification`` or
    ``thermocurrent`` (keywords T0, delta_T, mu0, V)."""
    if name not in _FACTORIES:
        raise DesignError(f"unknown objective {name!r} (choose from {', '.join(OBJECTIVES)})")
    import inspect

    allowed = set(inspect.signature(_FACTORIES[name]).parameters)
    unknown = set(settings) - allowed
    if unknown:
        raise DesignError(f"objective {name!r} has no setting {sorted(unknown)[0]!r} (settings: {', '.join(allowed)})")
    return _FACTORIES[name](**settings)


# ----------------------------------------------------------------------------------------
# Design space: free variables, bounds and the bijections


def _kind(lo: float, hi: float) -> str:
    if math.isfinite(lo) and math.isfinite(hi):
        return "box"
    if math.isfinite(lo):
        return "lower"
    if math.isfinite(hi):
        return "upper"
    return "none"


def _softplus_inverse(y):
    return y + np.log(-np.expm1(-y))


@dataclasses.dataclass(frozen=True)
class DesignSpace:
    """Free variables with their bounds, and the fixed values of all ``VARIABLES``.

    ``start`` holds the starting value of every variable (the fixed ones keep it).
    Build with ``DesignSpace.build`` (validates names, bounds and the start).
    """

    free: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]  # of the free variables, in the order of ``free``
    start: tuple[float, ...]  # every variable, in the order of VARIABLES

    @classmethod
    def build(cls, objective: Objective, free=DEFAULT_FREE, bounds=None, start=None) -> "DesignSpace":
        if isinstance(free, str):
            free = tuple(s.strip() for s in free.split(",") if s.strip())
        free = tuple(free)
        if not free:
            raise DesignError("free: choose at least one design variable (" + ", ".join(VARIABLES) + ")")
        for name in free:
            _check_name(name, "free")
        duplicates = sorted({name for name in free if free.count(name) > 1})
        if duplicates:
            raise DesignError(f"free: variable {duplicates[0]!r} given twice")
        all_bounds = default_bounds(objective.mu0)
        for name, pair in (bounds or {}).items():
            _check_name(name, "bounds")
            try:
                lo, hi = (float(v) for v in pair)
            except (TypeError, ValueError):
                raise DesignError(f"bounds for {name!r} must be a pair (lower, upper), got {pair!r}") from None
            if math.isnan(lo) or math.isnan(hi):
                raise DesignError(f"bounds for {name!r} must not be NaN")
            if not lo < hi:
                raise DesignError(f"bounds for {name!r}: lower {lo:g} must be < upper {hi:g}")
            if name in _PHYSICAL_LOWER and lo < _PHYSICAL_LOWER[name]:
                raise DesignError(f"bounds for {name!r}: lower {lo:g} must be >= {_PHYSICAL_LOWER[name]:g} "
                                  f"({DESCRIPTIONS[name]} must stay positive)")
            all_bounds[name] = (lo, hi)
        values = dict(PAPER, V=objective.V)
        for name, value in (start or {}).items():
            _check_name(name, "start")
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise DesignError(f"start value of {name!r} must be a number, got {value!r}") from None
            if not math.isfinite(value):
                raise DesignError(f"start value of {name!r} must be finite (got {value})")
            values[name] = value
        for name in free:
            lo, hi = all_bounds[name]
            if not lo < values[name] < hi:
                raise DesignError(f"start value of {name!r} = {values[name]:g} lies outside its bounds "
                                  f"({lo:g}, {hi:g}); give a start inside or wider bounds")
        for name, low in _PHYSICAL_LOWER.items():
            if name not in free and not values[name] >= low:
                raise DesignError(f"value of {name!r} = {values[name]:g} must be >= {low:g}")
        if not values["omega"] > 0:
            raise DesignError(f"value of 'omega' = {values['omega']:g} must be > 0")
        return cls(free, tuple(all_bounds[name] for name in free), tuple(values[name] for name in VARIABLES))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(_kind(lo, hi) for lo, hi in self.bounds)

    @property
    def index(self) -> tuple[int, ...]:
        return tuple(VARIABLES.index(name) for name in self.free)

    def arrays(self):
        """(lower, upper, start) as float64 arrays (infinite bounds replaced by 0: unused)."""
        lo = np.array([b[0] if math.isfinite(b[0]) else 0.0 for b in self.bounds])
        hi = np.array([b[1] if math.isfinite(b[1]) else 0.0 for b in self.bounds])
        return jnp.asarray(lo), jnp.asarray(hi), jnp.asarray(np.array(self.start))

    def to_physical(self, u, lo=None, hi=None, x0=None):
        """All variables x (len(VARIABLES),) from the unconstrained free ones u (len(free),)."""
        if lo is None:
            lo, hi, x0 = self.arrays()
        return _to_physical(self.kinds, self.index, u, lo, hi, x0)

    def to_unconstrained(self, values) -> np.ndarray:
        """u of the free variables from their physical values (NumPy, float64)."""
        values = np.asarray(values, dtype=np.float64)
        u = np.empty_like(values)
        for i, (kind, (lo, hi)) in enumerate(zip(self.kinds, self.bounds)):
            x = values[..., i]
            if kind == "box":
                p = (x - lo) / (hi - lo)
                u[..., i] = np.log(p) - np.log1p(-p)
            elif kind == "lower":
                u[..., i] = _softplus_inverse(x - lo)
            elif kind == "upper":
                u[..., i] = _softplus_inverse(hi - x)
            else:
                u[..., i] = x
        return u

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n starting points (physical values of the free variables): the start first, then
        uniform draws in the middle 90% of each box, and within a factor e^±1.5 of the
        start's distance to a one-sided bound."""
        x0 = np.array([self.start[i] for i in self.index])
        out = np.tile(x0, (n, 1))
        for i, (kind, (lo, hi)) in enumerate(zip(self.kinds, self.bounds)):
            draws = rng.uniform(size=n - 1)
            if kind == "box":
                out[1:, i] = lo + (hi - lo) * (0.05 + 0.9 * draws)
            elif kind == "lower":
                out[1:, i] = lo + (x0[i] - lo) * np.exp(3.0 * draws - 1.5)
            elif kind == "upper":
                out[1:, i] = hi - (hi - x0[i]) * np.exp(3.0 * draws - 1.5)
            else:
                out[1:, i] = x0[i] + (2.0 * draws - 1.0) * max(1.0, 0.5 * abs(x0[i]))
        return out


def _check_name(name, where):
    if name not in VARIABLES:
        raise DesignError(f"{where}: unknown design variable {name!r} (known: {', '.join(VARIABLES)})")


def _to_physical(kinds, index, u, lo, hi, x0):
    free = []
    for i, kind in enumerate(kinds):
        if kind == "box":
            free.append(lo[i] + (hi[i] - lo[i]) * jax.nn.sigmoid(u[i]))
        elif kind == "lower":
            free.append(lo[i] + jax.nn.softplus(u[i]))
        elif kind == "upper":
            free.append(hi[i] - jax.nn.softplus(u[i]))
        else:
            free.append(u[i])
    return x0.at[jnp.array(index)].set(jnp.stack(free))


def _evaluate_x(objective: Objective, x, quadrature):
    """(value, σ, error, Currents) of the two-level design x (in the order of VARIABLES)."""
    junction = Junction.two_level(x[0], x[1], x[2], x[3], x[4])
    modes = Modes.single(x[5], x[6])
    return objective.evaluate_with_currents(junction, modes, x[7], quadrature=quadrature)


# ----------------------------------------------------------------------------------------
# The optimiser


@dataclasses.dataclass(frozen=True)
class _Config:
    """Everything static about a run (hashable: the jitted functions are cached on it)."""

    objective: Objective
    kinds: tuple[str, ...]
    index: tuple[int, ...]
    optimizer: str
    learning_rate: float
    transform: object  # a user optax.GradientTransformation, or None
    quadrature: FrequencyQuadrature

    @property
    def sign(self) -> float:
        return -1.0 if self.objective.maximize else 1.0

    def make_optimizer(self):
        if self.transform is not None:
            return self.transform
        if self.optimizer == "adam":
            return optax.adam(self.learning_rate)
        return optax.lbfgs()


def _loss_and_aux(config: _Config, u, lo, hi, x0):
    x = _to_physical(config.kinds, config.index, u, lo, hi, x0)
    value, sigma, error, c = _evaluate_x(config.objective, x, config.quadrature)
    return config.sign * value, (value, sigma, error, x, c)


@eqx.filter_jit
def _evaluate_batch(config: _Config, u, lo, hi, x0):
    """(value, σ, error, x, Currents) of every start, without gradients."""
    return jax.vmap(lambda v: _loss_and_aux(config, v, lo, hi, x0)[1])(u)


def _strong(tree):
    """Drop weak types, so that the optimiser state keeps one signature across steps (no retrace)."""
    return jax.tree.map(lambda a: jnp.asarray(a, dtype=a.dtype) if isinstance(a, jax.Array) else a, tree)


@eqx.filter_jit
def _init_batch(config: _Config, u):
    return _strong(jax.vmap(config.make_optimizer().init)(u))


@eqx.filter_jit
def _step_batch(config: _Config, u, state, active, lo, hi, x0):
    """One optimiser step for every start; returns the new (u, state) and (value, σ, x)
    at the current iterate u. Inactive starts (converged) and non-finite gradients keep u."""
    opt = config.make_optimizer()

    def one(u, state, active):
        (loss, (value, sigma, _, x, _)), grad = jax.value_and_grad(_loss_and_aux, argnums=1, has_aux=True)(
            config, u, lo, hi, x0)
        finite = jnp.all(jnp.isfinite(grad)) & jnp.isfinite(loss)
        # A non-finite gradient (e.g. at exactly degenerate levels) must not reach the
        # optimiser (its line search would evaluate NaN designs): step with zeros, keep u.
        grad = jnp.where(finite, grad, 0.0)
        loss = jnp.where(finite, loss, 0.0)
        if config.optimizer == "lbfgs" and config.transform is None:
            updates, new_state = opt.update(grad, state, u, value=loss, grad=grad,
                                            value_fn=lambda v: _loss_and_aux(config, v, lo, hi, x0)[0])
        else:
            updates, new_state = opt.update(grad, state, u)
        new_u = optax.apply_updates(u, updates)
        ok = active & finite & jnp.all(jnp.isfinite(new_u))
        new_u = jnp.where(ok, new_u, u)
        new_state = jax.tree.map(lambda a, b: jnp.where(ok, a, b), new_state, state)
        return new_u, new_state, value, sigma, x

    new_u, new_state, value, sigma, x = jax.vmap(one)(u, state, active)
    return new_u, _strong(new_state), value, sigma, x


class History(eqx.Module):
    """Objective, entropy production and variables at every iterate of every start.

    value, entropy_production: (steps + 1, starts); params[name]: (steps + 1, starts) for
    every name of ``VARIABLES``; converged_at: (starts,) iterate at which each start was
    declared converged (−1: never).
    """

    value: np.ndarray
    entropy_production: np.ndarray
    params: dict
    converged_at: np.ndarray

    @property
    def steps(self) -> int:
        return self.value.shape[0] - 1

    @property
    def starts(self) -> int:
        return self.value.shape[1]

    def rows(self):
        """(step, start, value, σ, *variables) tuples, step-major."""
        for k in range(self.value.shape[0]):
            for s in range(self.value.shape[1]):
                yield (k, s, float(self.value[k, s]), float(self.entropy_production[k, s]),
                       *(float(self.params[name][k, s]) for name in VARIABLES))


@dataclasses.dataclass(frozen=True, eq=False)
class DesignResult:
    """Outcome of ``optimize``.

    parameters: the best design's variables (all of ``VARIABLES``); value: its objective,
    re-evaluated with an accurate quadrature (estimated error ``value_error``);
    junction, modes, baths: the design as ehpjax inputs (for rectification, the forward
    baths); start_value: the objective at the given start (first start, iterate 0);
    history: every iterate; converged: all starts met the stopping rule before ``steps``.
    """

    objective: Objective
    space: DesignSpace
    parameters: dict
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

    @property
    def improvement(self) -> float:
        """value / start_value (e.g. the cooling power relative to the paper's model)."""
        return self.value / self.start_value if self.start_value != 0 else math.inf

    def __str__(self) -> str:
        o = self.objective
        lines = [
            f"objective {o.name} = {self.value:.10g} (error ~ {self.value_error:.1e}; "
            f"{'maximised' if o.maximize else 'minimised'}); at the start {self.start_value:.10g}",
            f"best of {self.history.starts} starts: start {self.best_start}, iterate {self.best_step} "
            f"({self.steps_run} steps{', converged' if self.converged else ''})",
            "  " + ", ".join(f"{k} = {v:.6g}{'*' if k in self.space.free else ''}" for k, v in self.parameters.items()),
            f"entropy production >= {self.min_entropy_production:.3e} at every iterate "
            f"({self.second_law_violations} violations)",
        ]
        return "\n".join(lines)

    def save(self, path) -> None:
        """Write best.json (see ``ehpjax.design.save_design``)."""
        from ._design_io import save_design

        save_design(path, self.junction, self.modes, self.baths, self.objective.name, self.value,
                    objective_settings=self.objective.settings(), parameters=self.parameters,
                    extra={"free": list(self.space.free),
                           "bounds": {n: list(b) for n, b in zip(self.space.free, self.space.bounds)},
                           "value_error": self.value_error, "start_value": self.start_value,
                           "min_entropy_production": self.min_entropy_production})


def accurate_value(objective: Objective, params: dict, quadrature=FrequencyQuadrature(warn=False), rtol=1e-8,
                   max_panels=160):
    """(value, error, Currents) of the objective at the two-level design ``params``, doubling
    the quadrature's panels until the estimated error is ≤ rtol·|value| (+1e-15) or
    ``max_panels`` is reached."""
    x = jnp.asarray([float(params[name]) for name in VARIABLES])
    panels = quadrature.panels
    while True:
        q = dataclasses.replace(quadrature, panels=panels, warn=False)
        value, _, error, c = _evaluate_one(objective, x, q)
        value, error = float(value), float(error)
        if error <= rtol * abs(value) + 1e-15 or 2 * panels > max_panels:
            return value, error, c
        panels *= 2


@eqx.filter_jit
def _evaluate_one(objective: Objective, x, quadrature):
    return _evaluate_x(objective, x, quadrature)


def _shard(u):
    """Spread the starts over all devices (e.g. the CPU cores exposed by
    XLA_FLAGS=--xla_force_host_platform_device_count=N) when they divide evenly."""
    devices = jax.devices()
    if len(devices) == 1 or u.shape[0] % len(devices):
        return u
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    return jax.device_put(u, NamedSharding(Mesh(np.array(devices), ("starts",)), PartitionSpec("starts")))


def optimize(
    objective: Objective | str,
    *,
    free=DEFAULT_FREE,
    bounds: dict | None = None,
    start: dict | None = None,
    starts: int = 16,
    steps: int = 300,
    seed: int = 0,
    optimizer="adam",
    learning_rate: float = 0.05,
    tol: float = 1e-7,
    patience: int = 30,
    quadrature: FrequencyQuadrature = FrequencyQuadrature(warn=False, block=None),
    progress: bool = True,
) -> DesignResult:
    """Optimise ``objective`` over the free variables of the two-level junction from many
    random starts at once.

    objective: an ``Objective`` (``cooling(...)``, ``cop``, ``rectification``,
        ``thermocurrent``, ``custom``) or the name of one (with its default settings).
    free: names of the free variables (``VARIABLES``; a comma-separated string works).
    bounds: {name: (lower, upper)} overriding ``default_bounds(objective.mu0)``; ±inf allowed.
    start: {name: value} overriding the paper's parameters (SPEC 7) and the objective's V.
        The first start is this point; the others are random (``DesignSpace.sample``).
    optimizer: "adam" (learning rate ``learning_rate``, in the unconstrained variables),
        "lbfgs" (optax L-BFGS with zoom line search), or any optax GradientTransformation.
    tol, patience: a start is converged (and frozen) once its best value has not improved
        by more than tol·|best| + 1e-15 for ``patience`` steps; the run stops when all are.
    quadrature: the ω rule; all nodes in one block by default (faster for tens of starts).

    Returns a ``DesignResult`` with the best iterate over all starts and steps.
    """
    if isinstance(objective, str):
        objective = get_objective(objective)
    if not isinstance(objective, Objective):
        raise DesignError(f"objective must be an Objective or one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if not (isinstance(starts, (int, np.integer)) and starts >= 1):
        raise DesignError(f"starts must be an integer >= 1 (got {starts!r})")
    if not (isinstance(steps, (int, np.integer)) and steps >= 0):
        raise DesignError(f"steps must be an integer >= 0 (got {steps!r})")
    if isinstance(optimizer, str):
        if optimizer not in ("adam", "lbfgs"):
            raise DesignError(f"unknown optimizer {optimizer!r} (choose adam, lbfgs or pass an optax transformation)")
        transform, name = None, optimizer
    else:
        transform, name = optimizer, "custom"
    if not (learning_rate > 0 and math.isfinite(learning_rate)):
        raise DesignError(f"learning_rate must be positive (got {learning_rate})")
    space = DesignSpace.build(objective, free, bounds, start)
    config = _Config(objective, space.kinds, space.index, name, float(learning_rate), transform, quadrature)
    lo, hi, x0 = space.arrays()
    rng = np.random.default_rng(seed)
    u = _shard(jnp.asarray(space.to_unconstrained(space.sample(rng, starts))))
    state = _init_batch(config, u)
    active = np.ones(starts, dtype=bool)
    best = np.full(starts, -np.inf)  # best of −loss (higher is better) per start
    since = np.zeros(starts, dtype=int)
    converged_at = np.full(starts, -1)
    values, sigmas, xs = [], [], []

    from tqdm.auto import tqdm

    bar = tqdm(total=steps, desc=f"optimize {objective.name}", disable=not progress, leave=False)
    steps_run = 0
    try:
        for k in range(steps):
            u, state, value, sigma, x = _step_batch(config, u, state, jnp.asarray(active), lo, hi, x0)
            value, sigma, x = np.asarray(value), np.asarray(sigma), np.asarray(x)
            values.append(value), sigmas.append(sigma), xs.append(x)
            steps_run = k + 1
            score = np.where(np.isfinite(value), -config.sign * value, -np.inf)
            improved = score > best + tol * np.abs(np.where(np.isfinite(best), best, 0.0)) + 1e-15
            best = np.where(improved, np.maximum(best, score), best)
            since = np.where(improved, 0, since + 1)
            newly = active & (since >= patience)
            converged_at[newly] = k
            active &= ~newly
            bar.update(1)
            bar.set_postfix(best=f"{-config.sign * np.max(best):.6g}", active=int(active.sum()))
            if not active.any():
                break
    finally:
        bar.close()
    value, sigma, _, x, _ = _evaluate_batch(config, u, lo, hi, x0)
    values.append(np.asarray(value)), sigmas.append(np.asarray(sigma)), xs.append(np.asarray(x))
    values, sigmas, xs = np.stack(values), np.stack(sigmas), np.stack(xs)
    history = History(values, sigmas, {name: xs[..., i] for i, name in enumerate(VARIABLES)}, converged_at)

    score = np.where(np.isfinite(values) & (sigmas >= -_SIGMA_TOL), -config.sign * values, -np.inf)
    if not np.isfinite(score).any():
        raise DesignError(f"objective {objective.name!r}: no iterate gave a finite value")
    k, s = np.unravel_index(np.argmax(score), score.shape)
    # Re-evaluate the best iterate (the compiled batch evaluation, rows all equal to it);
    # refine the quadrature only if its error estimate asks for it.
    u_best = space.to_unconstrained(xs[k, s, list(space.index)])
    value, _, error, x, res = _evaluate_batch(config, _shard(jnp.tile(jnp.asarray(u_best), (starts, 1))), lo, hi, x0)
    params = {name: float(x[0, i]) for i, name in enumerate(VARIABLES)}
    accurate, error = float(value[0]), float(error[0])
    res = jax.tree.map(lambda a: a[0], res)
    if error > 1e-8 * abs(accurate) + 1e-15:
        accurate, error, res = accurate_value(objective, params, quadrature)
    junction, modes = two_level_design(params)
    violations = int(np.sum(~(sigmas >= -_SIGMA_TOL)))
    if violations:
        warnings.warn(f"optimize: {violations} iterates have entropy production < 0 (min {np.nanmin(sigmas):.3e}); "
                      "the quadrature may be too coarse for them", RuntimeWarning, stacklevel=2)
    return DesignResult(
        objective=objective,
        space=space,
        parameters=params,
        value=accurate,
        value_error=error,
        start_value=float(values[0, 0]),
        junction=junction,
        modes=modes,
        baths=objective.baths(params["V"]),
        currents=res,
        history=history,
        best_start=int(s),
        best_step=int(k),
        steps_run=steps_run,
        converged=bool(not active.any()),
        min_entropy_production=float(np.nanmin(sigmas)),
        second_law_violations=violations,
    )
