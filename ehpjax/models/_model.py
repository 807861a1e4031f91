"""A model: named real parameters and the rule that builds (Junction, Modes) from them.

Every tool (``currents`` on the command line, sweeps, inverse design) addresses a model's
parameters by name, next to the bath names ``BATH_NAMES`` (docs/physics.md §11). ``build``
is a pure function of its parameter values, so it can be traced by jit, vmap and grad.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Mapping

import jax.numpy as jnp

from .._errors import EhpjaxError
from .._model import Baths, Junction, Modes

BATH_NAMES = ("mu0", "V", "mu_L", "mu_R", "T_e", "T_ph")
BATH_UNITS = {name: "ħΩ" for name in BATH_NAMES}
BATH_DESCRIPTIONS = {
    "mu0": "mean chemical potential; mu_L,R = mu0 ± V/2",
    "V": "bias mu_L − mu_R",
    "mu_L": "chemical potential of lead L (overrides mu0, V)",
    "mu_R": "chemical potential of lead R (overrides mu0, V)",
    "T_e": "electron temperature (both leads)",
    "T_ph": "temperature of the modes' phonon bath",
}


class ModelError(EhpjaxError):
    """A model that cannot be built or used as asked (unknown parameter, bad file, value out of bounds)."""


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One named real parameter of a model: default value, bounds ``[min, max]``
    (infinite when absent), unit and a one-line description."""

    name: str
    default: float
    min: float = -math.inf
    max: float = math.inf
    unit: str = "ħΩ"
    description: str = ""

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ModelError(f"parameter name {self.name!r} is not a valid identifier")
        if self.name in BATH_NAMES:
            raise ModelError(f"parameter {self.name!r} shadows the bath name {self.name!r}; "
                             f"bath names ({', '.join(BATH_NAMES)}) are reserved")
        if not math.isfinite(self.default):
            raise ModelError(f"parameter {self.name!r}: default must be finite (got {self.default})")
        if not self.min <= self.default <= self.max:
            raise ModelError(f"parameter {self.name!r}: default {self.default} lies outside its bounds "
                             f"[{self.min}, {self.max}]")


@dataclasses.dataclass(frozen=True, eq=False)
class Model:
    """Named parameters and ``builder(params) -> (Junction, Modes)``.

    ``baths``: default values of bath names (``BATH_NAMES``) that suit the model, used
    where a tool needs bath values the user did not give. Models compare and hash by
    identity, so they can key caches of compiled functions.
    """

    name: str
    parameters: tuple[Parameter, ...]
    builder: Callable[[Mapping[str, object]], tuple[Junction, Modes]]
    description: str = ""
    baths: Mapping[str, float] = dataclasses.field(default_factory=dict)
    source: str = "built-in"

    def __post_init__(self):
        names = [p.name for p in self.parameters]
        duplicate = sorted({n for n in names if names.count(n) > 1})
        if duplicate:
            raise ModelError(f"model {self.name!r}: parameter(s) defined twice: {', '.join(duplicate)}")
        unknown = sorted(set(self.baths) - set(BATH_NAMES))
        if unknown:
            raise ModelError(f"model {self.name!r}: unknown bath name(s) {', '.join(unknown)} "
                             f"(known: {', '.join(BATH_NAMES)})")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        return {p.name: (p.min, p.max) for p in self.parameters}

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ModelError(f"model {self.name!r} has no parameter {name!r} (parameters: {', '.join(self.names)})")

    def values(self, params: Mapping[str, object] | None = None, **overrides) -> dict:
        """The defaults updated by ``params`` and ``overrides``; unknown names raise."""
        given = {**(params or {}), **overrides}
        unknown = sorted(set(given) - set(self.names))
        if unknown:
            raise ModelError(f"model {self.name!r} has no parameter(s) {', '.join(unknown)} "
                             f"(parameters: {', '.join(self.names)})")
        return {**self.defaults, **given}

    def build(self, params: Mapping[str, object] | None = None, **overrides) -> tuple[Junction, Modes]:
        """(Junction, Modes) at the defaults updated by ``params``/``overrides`` (traceable)."""
        return self.builder(self.values(params, **overrides))

    def system(self, params: Mapping[str, object]) -> tuple[Junction, Modes, Baths]:
        """(Junction, Modes, Baths) from a mapping of model parameters and bath names
        (missing ones take the model's defaults and ``self.baths``; a given T_e without
        T_ph sets both temperatures, as in ``baths_from``)."""
        model_params = {k: v for k, v in params.items() if k not in BATH_NAMES}
        given = {k: v for k, v in params.items() if k in BATH_NAMES}
        defaults = dict(self.baths)
        # chemical potentials given one way replace the model's defaults given the other way
        if given.keys() & {"mu_L", "mu_R"}:
            defaults = {k: v for k, v in defaults.items() if k not in ("mu0", "V")}
        if given.keys() & {"mu0", "V"}:
            defaults = {k: v for k, v in defaults.items() if k not in ("mu_L", "mu_R")}
        if "T_e" in given and "T_ph" not in given:
            defaults.pop("T_ph", None)
        return (*self.build(model_params), baths_from({**defaults, **given}))

    def __str__(self) -> str:
        rows = [f"{self.name}: {self.description}" if self.description else self.name]
        for p in self.parameters:
            bounds = "" if (p.min, p.max) == (-math.inf, math.inf) else f"  [{p.min:g}, {p.max:g}]"
            rows.append(f"  {p.name:<10} = {p.default:<10g} {p.unit:<4}{bounds}  {p.description}".rstrip())
        return "\n".join(rows)


def baths_from(params: Mapping[str, object]) -> Baths:
    """Baths from bath names: (mu_L, mu_R) if both are given, else mu_L,R = mu0 ± V/2
    (mu0 = 0 and V = 0 when absent); T_ph defaults to T_e (docs/physics.md §1)."""
    unknown = sorted(set(params) - set(BATH_NAMES))
    if unknown:
        raise ModelError(f"unknown bath name(s) {', '.join(unknown)} (known: {', '.join(BATH_NAMES)})")
    if "T_e" not in params:
        raise ModelError("the electron temperature T_e is required")
    T_e = params["T_e"]
    T_ph = params.get("T_ph", T_e)
    if ("mu_L" in params) != ("mu_R" in params):
        raise ModelError("give both mu_L and mu_R, or mu0 and V")
    if "mu_L" in params:
        if "mu0" in params or "V" in params:
            raise ModelError("give either (mu_L, mu_R) or (mu0, V), not both")
        return Baths(params["mu_L"], params["mu_R"], T_e, T_ph)
    mu0 = jnp.asarray(params.get("mu0", 0.0))
    V = jnp.asarray(params.get("V", 0.0))
    return Baths(mu0 + 0.5 * V, mu0 - 0.5 * V, T_e, T_ph)
