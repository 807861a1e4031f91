"""The design space: which numbers of a model move, within which bounds, and the smooth
bijections that keep every iterate physical.

Free variables are named scalars (a model's parameters, and the bath names μ0, V, T_e,
T_ph) or the entries of whole matrices under a mask (``Hermitian``, ``PSD``). Each free
number x lives in an unconstrained variable u:

    box (lo, hi):        x = lo + (hi − lo) · sigmoid(u)
    lower bound only:    x = lo + softplus(u)
    upper bound only:    x = hi − softplus(u)
    no bounds:           x = u

A ``Hermitian`` matrix X (H, M^k, or the real symmetric K) has its masked entries
replaced by free numbers: Re X_ij = Re X_ji = a_ij (i ≤ j) and, unless ``real``,
Im X_ij = −Im X_ji = b_ij (i < j). A ``PSD`` matrix (Γ_L, Γ_R, η) is replaced by
Γ = L L†, L lower triangular with free entries under the mask, so Γ is positive
semi-definite for every u (docs/physics.md §2, §3).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from typing import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import deferring
from .._currents import eta_vanishes, known_damped, known_pairs, nonzero_pairs
from .._dataflow import depends_on_input
from ..models import Model, baths_from
from ._objectives import DesignError, Objective

INF = math.inf
DESIGNABLE_BATHS = ("mu0", "V", "T_e", "T_ph")
_HERMITIAN_TARGETS = ("H", "M", "K")
_PSD_TARGETS = ("gamma_L", "gamma_R", "eta")


def _mask(mask, what: str) -> tuple[tuple[bool, ...], ...]:
    a = np.asarray(mask)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise DesignError(f"{what}: mask must be a square boolean matrix, got shape {a.shape}")
    if a.dtype != bool:
        if not np.all(np.isin(a, (0, 1))):
            raise DesignError(f"{what}: mask entries must be True/False (or 1/0)")
        a = a.astype(bool)
    return tuple(tuple(bool(v) for v in row) for row in a)


def _bounds_pair(pair, what: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise DesignError(f"bounds for {what!r} must be a pair (lower, upper), got {pair!r}") from None
    if math.isnan(lo) or math.isnan(hi):
        raise DesignError(f"bounds for {what!r} must not be NaN")
    if not lo < hi:
        raise DesignError(f"bounds for {what!r}: lower {lo:g} must be < upper {hi:g}")
    return lo, hi


@dataclasses.dataclass(frozen=True)
class Hermitian:
    """Free entries of a Hermitian matrix of the model: ``target`` "H", "M" (mode ``mode``)
    or "K" (real symmetric); ``mask`` (n × n, symmetrised) marks the free entries;
    ``real=True`` keeps their imaginary parts as built (always for K); ``bounds`` apply
    to every free number."""

    target: str
    mask: object
    mode: int = 0
    real: bool = False
    bounds: tuple[float, float] = (-INF, INF)

    def __post_init__(self):
        if self.target not in _HERMITIAN_TARGETS:
            raise DesignError(f"Hermitian: target must be one of {', '.join(_HERMITIAN_TARGETS)} (got {self.target!r})")
        m = np.asarray(_mask(self.mask, f"Hermitian {self.target}"))
        object.__setattr__(self, "mask", _mask(m | m.T, self.target))
        object.__setattr__(self, "bounds", _bounds_pair(self.bounds, self.label))
        if self.target == "K":
            object.__setattr__(self, "real", True)

    @property
    def label(self) -> str:
        return f"M{self.mode}" if self.target == "M" else self.target

    def slots(self) -> tuple[tuple[str, int, int, str], ...]:
        """(name, i, j, part) of every free number, part "re" or "im"."""
        out = []
        n = len(self.mask)
        for i in range(n):
            for j in range(i, n):
                if self.mask[i][j]:
                    out.append((f"{self.label}[{i},{j}]", i, j, "re"))
                    if not self.real and i < j:
                        out.append((f"{self.label}[{i},{j}].im", i, j, "im"))
        return tuple(out)

    def current(self, junction, modes) -> np.ndarray:
        if self.target == "H":
            return np.asarray(junction.H)
        if self.target == "K":
            return np.asarray(modes.K)
        if not 0 <= self.mode < junction.M.shape[0]:
            raise DesignError(f"Hermitian M: mode {self.mode} does not exist (the model has {junction.M.shape[0]})")
        return np.asarray(junction.M[self.mode])

    def start(self, junction, modes) -> list[float]:
        X = self.current(junction, modes)
        if X.shape != (len(self.mask),) * 2:
            raise DesignError(f"Hermitian {self.label}: mask is {len(self.mask)} x {len(self.mask)}, "
                              f"the matrix is {X.shape[0]} x {X.shape[1]}")
        return [float(X[i, j].real if part == "re" else X[i, j].imag) for _, i, j, part in self.slots()]

    def apply(self, junction, modes, values):
        """(junction, modes) with the masked entries set from ``values`` (traced)."""
        X = {"H": lambda: junction.H, "K": lambda: modes.K, "M": lambda: junction.M[self.mode]}[self.target]()
        slots = self.slots()
        re_idx = [k for k, s in enumerate(slots) if s[3] == "re"]
        im_idx = [k for k, s in enumerate(slots) if s[3] == "im"]
        re, im = jnp.real(X), jnp.imag(X)
        if re_idx:
            i = np.array([slots[k][1] for k in re_idx]), np.array([slots[k][2] for k in re_idx])
            v = values[np.array(re_idx)]
            re = re.at[i].set(v).at[i[::-1]].set(v)
        if im_idx:
            i = np.array([slots[k][1] for k in im_idx]), np.array([slots[k][2] for k in im_idx])
            v = values[np.array(im_idx)]
            im = im.at[i].set(v).at[i[::-1]].set(-v)
        new = re if (self.target == "K" or (not im_idx and not jnp.iscomplexobj(X))) else re + 1j * im
        if self.target == "H":
            return eqx.tree_at(lambda j: j.H, junction, new), modes
        if self.target == "K":
            return junction, eqx.tree_at(lambda m: m.K, modes, new)
        M = junction.M.astype(jnp.result_type(junction.M, new)).at[self.mode].set(new)
        return eqx.tree_at(lambda j: j.M, junction, M), modes


@dataclasses.dataclass(frozen=True)
class PSD:
    """A positive semi-definite matrix of the model, ``target`` "gamma_L", "gamma_R" or
    "eta", replaced by L L† with L lower triangular, free under ``mask`` (its lower
    triangle is used); complex off-diagonal entries of L unless ``real`` (always real for
    η). The start is the Cholesky factor of the model's matrix on the rows the mask uses."""

    target: str
    mask: object
    real: bool = True
    bounds: tuple[float, float] = (-INF, INF)

    def __post_init__(self):
        if self.target not in _PSD_TARGETS:
            raise DesignError(f"PSD: target must be one of {', '.join(_PSD_TARGETS)} (got {self.target!r})")
        m = np.tril(np.asarray(_mask(self.mask, f"PSD {self.target}")))
        if not m.any():
            raise DesignError(f"PSD {self.target}: the mask frees no entry of the lower triangle")
        object.__setattr__(self, "mask", _mask(m, self.target))
        object.__setattr__(self, "bounds", _bounds_pair(self.bounds, self.label))
        if self.target == "eta":
            object.__setattr__(self, "real", True)

    @property
    def label(self) -> str:
        return f"L_{self.target}"

    def slots(self) -> tuple[tuple[str, int, int, str], ...]:
        out = []
        n = len(self.mask)
        for i in range(n):
            for j in range(i + 1):
                if self.mask[i][j]:
                    out.append((f"{self.label}[{i},{j}]", i, j, "re"))
                    if not self.real and i > j:
                        out.append((f"{self.label}[{i},{j}].im", i, j, "im"))
        return tuple(out)

    def current(self, junction, modes) -> np.ndarray:
        return np.asarray(modes.eta if self.target == "eta" else getattr(junction, self.target))

    def start(self, junction, modes) -> list[float]:
        G = self.current(junction, modes)
        n = len(self.mask)
        if G.shape != (n, n):
            raise DesignError(f"PSD {self.target}: mask is {n} x {n}, the matrix is {G.shape[0]} x {G.shape[1]}")
        rows = sorted({i for _, i, _, _ in self.slots()} | {j for _, _, j, _ in self.slots()})
        sub = G[np.ix_(rows, rows)]
        L_sub = np.linalg.cholesky(sub + 1e-14 * max(1.0, float(np.abs(np.trace(sub)))) * np.eye(len(rows)))
        L = np.zeros((n, n), dtype=L_sub.dtype)
        L[np.ix_(rows, rows)] = L_sub
        return [float(L[i, j].real if part == "re" else L[i, j].imag) for _, i, j, part in self.slots()]

    def apply(self, junction, modes, values):
        slots = self.slots()
        n = len(self.mask)
        L = jnp.zeros((n, n), dtype=jnp.float64 if self.real else jnp.complex128)
        for k, (_, i, j, part) in enumerate(slots):
            L = L.at[i, j].add(values[k] if part == "re" else 1j * values[k])
        G = L @ jnp.conj(L).T
        G = jnp.real(G) if self.real else G
        if self.target == "eta":
            return junction, eqx.tree_at(lambda m: m.eta, modes, G)
        return eqx.tree_at(lambda j: getattr(j, self.target), junction, G), modes


MatrixParameter = Hermitian | PSD


def default_bounds(model: Model, mu0: float = 10.0) -> dict[str, tuple[float, float]]:
    """Default bounds: each parameter's own [min, max]; for the paper's two-level model the
    design box of earlier versions (levels within μ0 ± 3; γ_L, γ_R ≥ 0.05 and γ_ph ≥ 0.02,
    the accuracy range of docs/physics.md §8; 0 < m < 1; 0.25 < Ω < 4). Bath names: |V| < 3,
    μ0 within 3 of the objective's, T_e, T_ph ≥ 0.05."""
    out = dict(model.bounds)
    if model.name == "two-level":
        out.update(eps_L=(mu0 - 3.0, mu0 + 3.0), eps_R=(mu0 - 3.0, mu0 + 3.0), gamma_L=(0.05, INF),
                   gamma_R=(0.05, INF), m=(0.0, 1.0), omega=(0.25, 4.0), gamma_ph=(0.02, INF))
    out.update(V=(-3.0, 3.0), mu0=(mu0 - 3.0, mu0 + 3.0), T_e=(0.05, INF), T_ph=(0.05, INF))
    return out


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
    """The free numbers of a design (``names``, their ``bounds`` and ``start`` values), the
    fixed values of the model's parameters (``fixed``) and bath names (``baths``), and the
    matrices under a mask (``matrices``; their entries come last in ``names``).

    Build it with ``DesignSpace.build`` (validates names, bounds and the start)."""

    model: Model
    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    start: tuple[float, ...]
    fixed: tuple[tuple[str, float], ...]
    baths: tuple[tuple[str, float], ...]
    matrices: tuple = ()
    # what ``keyed`` keeps of the fixed values it replaces: ``structure`` (None before)
    known: tuple | None = None

    @classmethod
    def build(cls, objective: Objective, model: Model, free=(), bounds: Mapping | None = None,
              start: Mapping | None = None, matrices=()) -> "DesignSpace":
        if isinstance(free, str):
            free = tuple(s.strip() for s in free.split(",") if s.strip())
        # (plain str: a NumPy string, np.str_, is an array to equinox, which warns about it as a static field)
        free = tuple(str(name) if isinstance(name, str) else name for name in free)
        matrices = tuple(matrices or ())
        if not free and not matrices:
            raise DesignError("free: choose at least one design variable (" + ", ".join(_known(model)) + ")")
        for name in free:
            _check_name(model, name, "free")
        duplicates = sorted({name for name in free if free.count(name) > 1})
        if duplicates:
            raise DesignError(f"free: variable {duplicates[0]!r} given twice")
        for spec in matrices:
            if not isinstance(spec, (Hermitian, PSD)):
                raise DesignError(f"matrices: expected Hermitian(...) or PSD(...), got {spec!r}")
        targets = [(s.target, getattr(s, "mode", 0)) for s in matrices]
        if len(set(targets)) < len(targets):
            raise DesignError("matrices: the same matrix is freed twice")

        mu0 = objective.bath_values["mu0"]
        all_bounds = default_bounds(model, mu0)
        physical = {**model.bounds, "T_e": (0.0, INF), "T_ph": (0.0, INF)}
        for name, pair in (bounds or {}).items():
            _check_name(model, name, "bounds")
            lo, hi = _bounds_pair(pair, name)
            plo, phi = physical.get(name, (-INF, INF))
            if lo < plo or hi > phi:
                p = model.parameter(name) if name in model.names else None
                what = f" ({p.description})" if p is not None and p.description else ""
                raise DesignError(f"bounds for {name!r}: ({lo:g}, {hi:g}) must lie within the parameter's range "
                                  f"[{plo:g}, {phi:g}]{what}")
            all_bounds[name] = (lo, hi)

        values = dict(model.defaults)
        bath = {}
        for name, value in (start or {}).items():
            _check_name(model, name, "start")
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise DesignError(f"start value of {name!r} must be a number, got {value!r}") from None
            if not math.isfinite(value):
                raise DesignError(f"start value of {name!r} must be finite (got {value})")
            (bath if name in DESIGNABLE_BATHS else values)[name] = value
        bath_values = {**objective.bath_values, **bath}
        for name in free:
            lo, hi = all_bounds[name]
            x = values[name] if name in values else bath_values[name]
            if not lo < x < hi:
                raise DesignError(f"start value of {name!r} = {x:g} lies outside its bounds "
                                  f"({lo:g}, {hi:g}); give a start inside or wider bounds")
        for name in model.names:
            lo, hi = model.bounds[name]
            if name not in free and not lo <= values[name] <= hi:
                raise DesignError(f"value of {name!r} = {values[name]:g} lies outside the parameter's range "
                                  f"[{lo:g}, {hi:g}]")
        try:
            objective.baths(bath_values)
            junction, modes = model.build(values)
        except DesignError:
            raise
        except ValueError as err:
            raise DesignError(f"the start point is not a valid junction: {err}") from None

        names = list(free)
        slot_bounds = [all_bounds[n] for n in free]
        slot_start = [values[n] if n in values else bath_values[n] for n in free]
        for spec in matrices:
            slots = spec.slots()
            names += [s[0] for s in slots]
            slot_bounds += [spec.bounds] * len(slots)
            start_values = spec.start(junction, modes)
            lo, hi = spec.bounds
            for (slot, *_), x in zip(slots, start_values):
                if not lo < x < hi:
                    raise DesignError(f"start value of {slot!r} = {x:g} lies outside its bounds ({lo:g}, {hi:g})")
            slot_start += start_values
        return cls(model, tuple(names), tuple(slot_bounds), tuple(float(x) for x in slot_start),
                   tuple((n, float(values[n])) for n in model.names),
                   tuple((n, float(v)) for n, v in bath.items()), matrices)

    # -- the bijections ------------------------------------------------------------------

    @property
    def free(self) -> tuple[str, ...]:
        """The free scalar names (model parameters and bath names), without matrix entries."""
        return self.names[: len(self.names) - sum(len(s.slots()) for s in self.matrices)]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(_kind(lo, hi) for lo, hi in self.bounds)

    def to_physical(self, u, bounds=None):
        """Physical values x of the free numbers from the unconstrained u (traceable; ``bounds``
        an array of the space's bounds, e.g. traced, or None: its own)."""
        bounds = self.bounds if bounds is None else bounds
        out = []
        for i, kind in enumerate(self.kinds):
            lo, hi = bounds[i][0], bounds[i][1]
            if kind == "box":
                out.append(lo + (hi - lo) * jax.nn.sigmoid(u[i]))
            elif kind == "lower":
                out.append(lo + jax.nn.softplus(u[i]))
            elif kind == "upper":
                out.append(hi - jax.nn.softplus(u[i]))
            else:
                out.append(u[i])
        return jnp.stack(out)

    def to_unconstrained(self, values) -> np.ndarray:
        """u from physical values of the free numbers (NumPy, float64, any leading shape)."""
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
        """n starting points (physical values): the start first, then uniform draws in the
        middle 90% of each box, within a factor e^±1.5 of the start's distance to a
        one-sided bound, and start ± max(1, |start|/2) without bounds."""
        x0 = np.array(self.start)
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

    # -- from free numbers to a system ---------------------------------------------------

    def numbers(self, objective: Objective) -> dict[str, np.ndarray]:
        """The numbers a compiled step takes as data, not as constants: the operating point
        (the objective's μ0, V, T_e, T_ph and the fixed values of bath names), the bounds
        (infinite ones too) and the values of the model's parameters (the free ones' at the
        start, unused). With ``keyed``, a scan over any of them compiles once."""
        point = objective.bath_values
        return {"point": np.array([point[k] for k in DESIGNABLE_BATHS], dtype=np.float64),
                "baths": np.array([v for _, v in self.baths], dtype=np.float64),
                "bounds": np.array(self.bounds, dtype=np.float64).reshape(len(self.bounds), 2),
                "fixed": np.array([v for _, v in self.fixed], dtype=np.float64)}

    def keyed(self) -> "DesignSpace":
        """The space with the numbers of ``numbers`` (and the start, used only on the host)
        replaced by placeholders: equal for every value of them, so that it keys one compiled
        step. What shapes the step stays: the kinds of the bounds (which are finite; they choose
        the bijections) and ``structure``, what the fixed values tell the currents."""
        placeholders = {"box": (0.0, 1.0), "lower": (0.0, INF), "upper": (-INF, 0.0), "none": (-INF, INF)}
        return dataclasses.replace(self, bounds=tuple(placeholders[k] for k in self.kinds),
                                   start=(0.0,) * len(self.start), baths=tuple((n, 0.0) for n, _ in self.baths),
                                   fixed=tuple((n, 0.0) for n, _ in self.fixed), known=self.structure())

    def structure(self) -> tuple:
        """(pairs, damped): the junction's nonzero pole pairs (``_currents.nonzero_pairs``) if it
        does not depend on the free numbers, else None (every pair); and whether η is known not to
        vanish (the modes do not depend on the free numbers, and η ≠ 0). Inside the compiled step
        every array is traced, so ``currents`` cannot read these from the system; they key the
        step and reach ``currents`` through ``known_system``: the pairs make a step of the paper's
        fixed junction 1.6–1.8× faster, and η ≠ 0 leaves the sharp-line code out of the program."""
        if self.known is not None:
            return self.known
        return _structure(self)

    @contextlib.contextmanager
    def known_system(self):
        """A context in which ``currents`` knows ``structure`` of the systems the keyed step builds
        from traced fixed values (``_currents.known_pairs``, ``known_damped``)."""
        pairs, damped = self.structure()
        with known_pairs(pairs), known_damped(damped):
            yield

    def scalars(self, x, numbers=None) -> dict:
        """Every model parameter and bath override at the free values x (traceable; ``numbers``
        as from ``numbers``, or None: the space's own)."""
        if numbers is None:
            values = dict(self.fixed)
            values.update(self.baths)
        else:
            values = {n: numbers["fixed"][i] for i, (n, _) in enumerate(self.fixed)}
            values.update({n: numbers["baths"][i] for i, (n, _) in enumerate(self.baths)})
        for i, name in enumerate(self.free):
            values[name] = x[i]
        return values

    def junction_and_modes(self, x, numbers=None):
        """(Junction, Modes) at the free values x (traceable; ``numbers`` as in ``scalars``)."""
        values = self.scalars(x, numbers)
        junction, modes = self.model.build({k: v for k, v in values.items() if k in self.model.names})
        offset = len(self.free)
        for spec in self.matrices:
            k = len(spec.slots())
            junction, modes = spec.apply(junction, modes, x[offset:offset + k])
            offset += k
        return junction, modes

    def system(self, objective: Objective, x, numbers=None):
        """(Junction, Modes, Baths) at the free values x (traceable). ``numbers``: as from
        ``numbers`` (then the objective's own numbers are not read: it may be a placeholder),
        or None: the space's and the objective's own."""
        numbers = self.numbers(objective) if numbers is None else numbers
        junction, modes = self.junction_and_modes(x, numbers)
        overrides = {k: v for k, v in self.scalars(x, numbers).items() if k in DESIGNABLE_BATHS}
        return junction, modes, baths_from({**dict(zip(DESIGNABLE_BATHS, numbers["point"])), **overrides})

    def parameters(self, objective: Objective, x) -> dict[str, float]:
        """Every scalar (model parameters, then μ0, V, T_e, T_ph) at the free values x."""
        values = {k: float(v) for k, v in self.scalars(np.asarray(x)).items()}
        bath = {**objective.bath_values, **{k: v for k, v in values.items() if k in DESIGNABLE_BATHS}}
        return {**{k: values[k] for k in self.model.names}, **bath}

    def on_bound(self, x, rtol: float = 1e-3) -> list[tuple[str, float, str, float]]:
        """Free numbers within ``rtol`` of a bound: (name, value, "lower"|"upper", bound).
        Relative to the box width, or to max(1, |bound|) for a one-sided bound."""
        out = []
        for name, value, (lo, hi) in zip(self.names, np.asarray(x, dtype=float), self.bounds):
            width = hi - lo if math.isfinite(hi - lo) else None
            for side, b in (("lower", lo), ("upper", hi)):
                if math.isfinite(b):
                    scale = width if width is not None else max(1.0, abs(b))
                    if abs(value - b) <= rtol * scale:
                        out.append((name, float(value), side, float(b)))
        return out


@functools.lru_cache(maxsize=32)
def _structure(space: DesignSpace) -> tuple:
    """``DesignSpace.structure`` of a space with its own fixed values: which of the junction and η
    depend on the free numbers is read from the data flow of ``junction_and_modes`` (a jaxpr:
    inside a trace every array is a tracer, so being one tells nothing), the pairs and η from the
    system at the start."""
    with jax.ensure_compile_time_eval():  # (also when first asked inside a trace)
        junction, modes = space.junction_and_modes(np.array(space.start))
    # (the value checks collected, not attached: a check of one parameter, attached to every
    # array the builder returns, would make each depend on it)
    checked = deferring(space.junction_and_modes)[0]
    depends = depends_on_input(lambda x: checked(x)[0], jnp.zeros(len(space.names)))
    pairs = None if any(jax.tree_util.tree_leaves(depends[0])) else nonzero_pairs(junction)
    damped = not depends[1].eta and not eta_vanishes(modes)
    return pairs, damped


def _known(model: Model) -> tuple[str, ...]:
    return (*model.names, *DESIGNABLE_BATHS)


def _check_name(model: Model, name: str, where: str) -> None:
    if name not in _known(model):
        hint = " (mu_L, mu_R: design mu0 and V instead)" if name in ("mu_L", "mu_R") else ""
        raise DesignError(f"{where}: unknown design variable {name!r}{hint} (model {model.name!r} has "
                          f"{', '.join(model.names)}; bath names {', '.join(DESIGNABLE_BATHS)})")
