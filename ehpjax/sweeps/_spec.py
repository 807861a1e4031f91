"""What to sweep: a model, its fixed values and named axes, checked before anything runs.

Names are the model's parameter names plus the bath names (mu0, V, mu_L, mu_R, T_e, T_ph;
docs/physics.md §11). Values are checked against the model's bounds and the baths' physical
ranges (finite; temperatures > 0) before a single point is evaluated.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from .._errors import EhpjaxError
from .._quantities import QUANTITIES
from .. import models as _models
from ..models import BATH_NAMES, Model, baths_from


class SweepError(EhpjaxError):
    """A sweep that cannot be run as asked (unknown name, bad axis or value, no room, …)."""


# Legacy presets: the paper's two-level model (docs/physics.md §7) with its bath values.
PRESETS = ("paper",)


@dataclasses.dataclass(frozen=True, eq=False)
class PointModel:
    """``system(values) -> (Junction, Modes, Baths)`` of one point, from a dict of the
    model's parameters and bath names (the form ``_evaluate.batched`` evaluates).

    Bath values come only from ``values`` (the spec resolves the model's bath defaults),
    so (mu_L, mu_R) may replace a model's default (mu0, V). ``build``: the legacy form, a
    function of the whole dict returning the triple itself. Cached per model (see ``point_model``)
    so that compiled evaluators are reused across sweeps."""

    model: Model
    build: Callable | None = None

    def system(self, values):
        if self.build is not None:
            return self.build(dict(values))
        params = {k: v for k, v in values.items() if k not in BATH_NAMES}
        baths = {k: v for k, v in values.items() if k in BATH_NAMES}
        return (*self.model.build(params), baths_from(baths))


_POINT_MODELS: dict = {}


def resolve_model(model, **options) -> Model:
    """``models.get``, whose Model objects are cached (a built-in by name and options, a model
    file by path, modification time and size), so that repeated sweeps reuse their compiled
    evaluators; errors as SweepError."""
    try:
        return _models.get(model, **options)
    except _models.ModelError as err:
        raise SweepError(str(err)) from None


def point_model(model: Model, build: Callable | None = None) -> PointModel:
    key = (model, build)
    if key not in _POINT_MODELS:
        _POINT_MODELS[key] = PointModel(model, build)
    return _POINT_MODELS[key]


def _as_axis(name: str, values) -> np.ndarray:
    try:
        array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise SweepError(f"axis {name!r} must be a list of real numbers, got {values!r}") from None
    if array.ndim != 1 or array.size == 0:
        raise SweepError(f"axis {name!r} must be a non-empty 1-D list of values")
    if not np.all(np.isfinite(array)):
        raise SweepError(f"axis {name!r} contains NaN or inf")
    return array


@dataclasses.dataclass
class SweepSpec:
    """A model, fixed values and axes (each a 1-D array of values).

    mode "product": the cartesian product of the axes (one dimension per axis);
    mode "flat": the axes are equally long lists of points (one dimension, "point").
    complete: every model parameter must be given (legacy ``preset=None``): no defaults.
    """

    model: Model
    axes: dict
    fixed: dict = dataclasses.field(default_factory=dict)
    mode: str = "product"
    complete: bool = False

    def __post_init__(self):
        if self.mode not in ("product", "flat"):
            raise SweepError(f"mode must be 'product' or 'flat', got {self.mode!r}")
        if not isinstance(self.axes, dict) or not self.axes:
            raise SweepError("no axes to sweep: give a dict {name: values}")
        valid = self.names
        for name in [*self.axes, *self.fixed]:
            if name not in valid:
                raise SweepError(f"unknown parameter {name!r} of model {self.model.name!r} "
                                 f"(known: {', '.join(valid)})")
        both = sorted(set(self.axes) & set(self.fixed))
        if both:
            raise SweepError(f"parameter {both[0]!r} is both fixed and swept")
        self.axes = {k: _as_axis(k, v) for k, v in self.axes.items()}
        fixed = {}
        for k, v in self.fixed.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise SweepError(f"fixed parameter {k!r} must be a real number, got {v!r}")
            fixed[k] = float(v)
        self.fixed = fixed
        if self.mode == "flat" and len({v.size for v in self.axes.values()}) > 1:
            raise SweepError("mode 'flat' needs axes of equal length, got "
                             + ", ".join(f"{k}: {v.size}" for k, v in self.axes.items()))
        given = set(self.axes) | set(self.fixed)
        if given & {"mu_L", "mu_R"} and given & {"mu0", "V"}:
            raise SweepError("give the chemical potentials either as (mu_L, mu_R) or as (mu0, V), not both")
        if given & {"mu_L", "mu_R"} and not {"mu_L", "mu_R"} <= given:
            raise SweepError("mu_L and mu_R must be given together")
        if self.complete:
            needed = set(self.model.names) | {"T_e", "T_ph"}
            needed |= {"mu_L", "mu_R"} if given & {"mu_L", "mu_R"} else {"mu0", "V"}
            missing = sorted(needed - given)
            if missing:
                raise SweepError(f"parameter {missing[0]!r} is neither fixed nor swept (and there is no preset)")
        if "T_e" not in given and "T_e" not in self.model.baths:
            raise SweepError(f"model {self.model.name!r} has no default electron temperature: "
                             "fix or sweep T_e")
        self._check_values()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name an axis or a fixed value may take."""
        return (*self.model.names, *BATH_NAMES)

    def _check_values(self):
        """Model bounds and physical ranges of the bath values, for every fixed and swept value."""
        for name, values in [*self.axes.items(), *((k, np.array([v])) for k, v in self.fixed.items())]:
            where = f"axis {name!r}" if name in self.axes else f"fixed parameter {name!r}"
            if not np.all(np.isfinite(values)):
                raise SweepError(f"{where} must be finite")
            if name in ("T_e", "T_ph"):
                bad = values[values <= 0]
                if bad.size:
                    raise SweepError(f"{where}: the temperature must be > 0 (got {bad[0]:g})")
            elif name in self.model.names:
                p = self.model.parameter(name)
                bad = values[(values < p.min) | (values > p.max)]
                if bad.size:
                    raise SweepError(f"{where}: value {bad[0]:g} lies outside the bounds [{p.min:g}, {p.max:g}] "
                                     f"of model {self.model.name!r}")

    @property
    def constants(self) -> dict:
        """Values of every name not swept: the model's defaults and bath defaults, overridden by ``fixed``."""
        values = dict(self.model.defaults)
        baths = {k: float(v) for k, v in dict(self.model.baths).items()}
        if (set(self.axes) | set(self.fixed)) & {"mu_L", "mu_R"}:
            baths.pop("mu0", None)
            baths.pop("V", None)
        values.update(baths)
        values.update(self.fixed)
        return {k: v for k, v in values.items() if k not in self.axes}

    @property
    def dims(self) -> tuple[str, ...]:
        return ("point",) if self.mode == "flat" else tuple(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        if self.mode == "flat":
            return (next(iter(self.axes.values())).size,)
        return tuple(v.size for v in self.axes.values())

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def points(self, start: int, stop: int) -> dict:
        """Values of the swept names at the flat point indices [start, stop)."""
        index = np.arange(start, stop)
        if self.mode == "flat":
            return {k: v[index] for k, v in self.axes.items()}
        multi = np.unravel_index(index, self.shape)
        return {k: v[i] for (k, v), i in zip(self.axes.items(), multi)}

    def describe(self, name: str) -> dict:
        """NetCDF attributes (units, long_name) of a parameter or bath name."""
        if name in self.model.names:
            p = self.model.parameter(name)
            return {"units": p.unit, "long_name": p.description or name}
        q = QUANTITIES.get(name, {})
        return {"units": q.get("unit", ""), "long_name": q.get("description", name)}
