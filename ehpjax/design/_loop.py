"""The optimisation loop: many random starts at once (``jax.vmap``; in slices of
``GRADIENT_SLICE`` beyond that many), one jitted optimiser
step with exact gradients (``jax.value_and_grad`` through ``currents``), any optax
transformation.

The loss of a start is ∓guide (minus for objectives to maximise) at the physical point
x = bijection(u); see ``_objectives`` for the guide and ``_space`` for the bijections.

The step is compiled once per ``Problem.keyed()``: the operating point, the bounds' values and
the model's fixed parameters enter it as data (``Problem.numbers()``), so runs that differ only
in them share one program (as constants, each new bias would cost a compile: 6.6–9.4 s). What
the fixed values tell ``currents`` (a junction's vanishing pole pairs, η ≠ 0) keys the step
instead (``DesignSpace.structure``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._adaptive import one_cpu_device
from .._checks import deferring, raise_deferred
from .._compiled import distinct_quick_program, quick_jit, quick_limit
from .._quadrature import FrequencyQuadrature
from ..models import BUILTIN, Model, get as get_model
from ._objectives import DesignError, Objective, get_objective, objective_label, OBJECTIVES
from ._objectives import evaluates_only_its_system
from ._objectives import keyed as keyed_objective
from ._results import DesignResult, History
from ._space import DesignSpace

DEFAULT_FREE = ("eps_L", "eps_R", "gamma_L", "gamma_R")  # of the two-level model
# On one CPU device, more starts than this take their optimiser steps in vmapped slices of this many
# (``jax.lax.map``): through the backward pass a slice's arrays stay in cache (512 starts of the
# two-level model 1.5× faster, 256 of the 3-dot chain with two modes 1.1×).
GRADIENT_SLICE = 128
SIGMA_TOL = 1e-12  # σ < −SIGMA_TOL counts as a violation of the second law (rounding noise above)
OPTIMIZERS = ("adam", "adamw", "adabelief", "rmsprop", "sgd", "lbfgs")


@functools.lru_cache(maxsize=32)
def make_optimizer(name: str, learning_rate: float = 0.05) -> optax.GradientTransformation:
    """An optax transformation by name: adam, adamw, adabelief, rmsprop, sgd (momentum 0.9),
    all at ``learning_rate``, or lbfgs (zoom line search; no learning rate). Cached, so
    that equal settings give the same object and reuse the compiled step."""
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0 and math.isfinite(learning_rate)):
        raise DesignError(f"learning_rate must be positive and finite (got {learning_rate!r})")
    makers = {
        "adam": lambda: optax.adam(learning_rate),
        "adamw": lambda: optax.adamw(learning_rate),
        "adabelief": lambda: optax.adabelief(learning_rate),
        "rmsprop": lambda: optax.rmsprop(learning_rate),
        "sgd": lambda: optax.sgd(learning_rate, momentum=0.9),
        "lbfgs": lambda: optax.lbfgs(),
    }
    if name not in makers:
        raise DesignError(f"unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)}, "
                          "or pass an optax GradientTransformation)")
    return makers[name]()


@dataclasses.dataclass(frozen=True)
class Problem:
    """Everything about a run. The compiled step is cached on ``keyed()`` (hashable) and takes
    ``numbers()`` (the operating point, the bounds' values and the fixed parameters) as data:
    runs that differ only in those numbers share one compiled step."""

    objective: Objective
    space: DesignSpace
    optimizer: optax.GradientTransformationExtraArgs
    quadrature: FrequencyQuadrature
    order: str = "lowest"

    @property
    def sign(self) -> float:
        return -1.0 if self.objective.maximize else 1.0

    def numbers(self) -> dict[str, np.ndarray]:
        """The run's numbers that compiled functions take as data (``DesignSpace.numbers``)."""
        return self.space.numbers(self.objective)

    def keyed(self) -> "Problem":
        """The problem with those numbers replaced by placeholders: what compiled functions are
        keyed on (call ``evaluate`` and ``loss`` of it with ``numbers()`` of the real one)."""
        return dataclasses.replace(self, objective=keyed_objective(self.objective), space=self.space.keyed())

    def evaluate(self, u, quadrature=None, numbers=None):
        """(value, guide, σ, error, x, Currents) at the unconstrained point u (``numbers``: as
        from ``numbers()``, or None: this problem's own)."""
        numbers = self.numbers() if numbers is None else numbers
        x = self.space.to_physical(u, numbers["bounds"])
        junction, modes, baths = self.space.system(self.objective, x, numbers)
        # (the fixed values may be traced: ``DesignSpace.structure``)
        known = self.space.known_system() if evaluates_only_its_system(self.objective) else contextlib.nullcontext()
        with known:
            value, guide, sigma, error, c = self.objective.evaluate(
                junction, modes, baths, quadrature=quadrature or self.quadrature, order=self.order)
        return value, guide, sigma, error, x, c

    def loss(self, u, numbers=None):
        value, guide, sigma, error, x, c = self.evaluate(u, numbers=numbers)
        return self.sign * guide, (value, guide, sigma, error, x, c)


def _strong(tree):
    """Drop weak types, so that the optimiser state keeps one signature across steps (no retrace)."""
    return jax.tree.map(lambda a: jnp.asarray(a, dtype=a.dtype) if isinstance(a, jax.Array) else a, tree)


def _as_data(numbers: dict) -> dict:
    return jax.device_put({k: np.asarray(v, dtype=np.float64) for k, v in numbers.items()})


def init_batch(problem: Problem, u):
    return _init_batch(problem.keyed(), u)


@eqx.filter_jit
def _init_batch(problem: Problem, u):
    return _strong(jax.vmap(problem.optimizer.init)(u))


def step_batch(problem: Problem, u, state, active, slice_size: int | None = GRADIENT_SLICE):
    """One optimiser step for every start: the new (u, state) and, at the current u,
    {value, guide, sigma, error, x, grad_norm, currents}. Inactive starts (converged) and
    starts with a non-finite loss or gradient keep u and their state. More starts than
    ``slice_size`` (None: no limit) are stepped in vmapped slices of that many, one after another.
    Compiled once for every problem with the same ``keyed()``, without host callbacks (the
    value checks of the system come back as flags, raised here as ``EhpjaxError``), so that
    JAX's persistent compilation cache keeps it: the command line's next run reuses it."""
    return _stepper(problem)(u, state, active, slice_size)


def _stepper(problem: Problem, quick: bool = False):
    """``step_batch`` of ``problem``, its key and numbers made once (a run's loop); ``quick``: the step
    compiled with XLA's quick settings (``_quick_step_batch``)."""
    keyed, numbers = problem.keyed(), _as_data(problem.numbers())
    compiled = _quick_step_batch if quick and distinct_quick_program() else _step_batch

    def step(u, state, active, slice_size: int | None = GRADIENT_SLICE):
        new_u, new_state, out, messages = compiled(keyed, numbers, u, state, active, slice_size)
        raise_deferred(out.pop("failed"), messages)
        return new_u, new_state, out

    return step


@eqx.filter_jit
def _step_batch(problem: Problem, numbers, u, state, active, slice_size):
    checked, messages = deferring(lambda u: problem.loss(u, numbers))
    # A line search's trial points (lbfgs) drop their flags: a point it accepts is the next
    # step's, whose checks are raised.
    trial, _ = deferring(lambda u: problem.loss(u, numbers)[0])

    def loss(u):
        (loss_value, aux), flags = checked(u)
        return loss_value, (aux, flags)

    def one(u, state, active):
        (loss_value, (aux, flags)), grad = jax.value_and_grad(loss, has_aux=True)(u)
        value, guide, sigma, error, x, c = aux
        finite = jnp.all(jnp.isfinite(grad)) & jnp.isfinite(loss_value)
        # A non-finite gradient must not reach the optimiser (a line search would then
        # evaluate NaN designs): step with zeros and keep u.
        grad = jnp.where(finite, grad, 0.0)
        loss_value = jnp.where(finite, loss_value, 0.0)
        updates, new_state = problem.optimizer.update(grad, state, u, value=loss_value, grad=grad,
                                                      value_fn=lambda v: trial(v)[0])
        new_u = optax.apply_updates(u, updates)
        ok = active & finite & jnp.all(jnp.isfinite(new_u))
        new_u = jnp.where(ok, new_u, u)
        new_state = jax.tree.map(lambda a, b: jnp.where(ok, a, b), new_state, state)
        out = dict(value=value, guide=guide, sigma=sigma, error=error, x=x,
                   grad_norm=jnp.sqrt(jnp.sum(grad**2)), currents=c, failed=flags)
        return new_u, new_state, out

    if slice_size is not None and u.shape[0] > slice_size and one_cpu_device():  # vmapped slices, one after another
        new_u, new_state, out = jax.lax.map(lambda args: one(*args), (u, state, active), batch_size=slice_size)
    else:
        new_u, new_state, out = jax.vmap(one)(u, state, active)
    return new_u, _strong(new_state), out, tuple(messages)


# A run of few steps and starts (``run``) steps with a program compiled with XLA's quick settings: it
# compiles 2–3× sooner and runs 3–5× slower, so below ``quick_start_steps(levels)`` (starts × steps,
# for a junction of that many levels) the run ends sooner. On the 2-core KVM Xeon, one core, the
# cooling design (compile, then one warm step; quick against XLA's defaults): two levels, 16 starts,
# 4.3 s and 9.9 ms against 8.7 s and 3.2 ms (even at ~660 steps: 10 500 start-steps); 64 starts,
# 4.5 s and 60 ms against 13.9 s and 16.5 ms (~210 steps: 13 700); the serial chain (3 levels), 16
# starts, 4.7 s and 46 ms against 14.6 s and 8.5 ms (~260 steps: 4200).
QUICK_START_STEPS = 8192  # (two levels; a quarter as many for each further level)
_quick_step_batch = quick_jit(_step_batch.__wrapped__)


def quick_start_steps(levels: int) -> int:
    """The most starts × steps of a run on a junction of ``levels`` levels that steps quickly compiled."""
    return quick_limit(levels, QUICK_START_STEPS)


def _levels(problem: Problem, u) -> int:
    """The number of levels of the problem's junction (its shapes only: nothing computed)."""
    numbers = problem.numbers()

    def junction(u):
        return problem.space.junction_and_modes(problem.space.to_physical(u, numbers["bounds"]), numbers)[0]

    return jax.eval_shape(junction, u[0]).H.shape[-1]


def evaluate_batch(problem: Problem, u):
    """(value, guide, σ, error, x, Currents) of every start, without gradients (value checks
    raised as ``EhpjaxError``, as by ``step_batch``)."""
    out, flags, messages = _evaluate_batch(problem.keyed(), _as_data(problem.numbers()), u)
    raise_deferred(flags, messages)
    return out


# Both without host callbacks (the checks come back as flags), like the step: JAX's persistent
# compilation cache keeps them.
@eqx.filter_jit
def _evaluate_batch(problem: Problem, numbers, u):
    checked, messages = deferring(lambda u: problem.evaluate(u, numbers=numbers))
    out, flags = jax.vmap(checked)(u)
    return out, flags, tuple(messages)


@quick_jit
def _evaluate_one(problem: Problem, numbers, u, quadrature):
    checked, messages = deferring(lambda u: problem.evaluate(u, quadrature, numbers))
    out, flags = checked(u)
    return out, flags, tuple(messages)


def accurate_value(problem: Problem, u, rtol: float = 1e-8, max_panels: int = 160):
    """(value, error, Currents) at u on the problem's quadrature, and where its estimated error
    exceeds rtol·|value| (+1e-15), on ``max_panels`` panels instead (if more). One point on 160
    panels takes milliseconds, while each panel count is a program of its own to compile (~1.4 s),
    so the rule goes there in one step rather than through every doubling."""
    keyed, numbers, u = problem.keyed(), _as_data(problem.numbers()), jnp.asarray(u)

    def on(panels):
        q = dataclasses.replace(problem.quadrature, panels=panels, warn=False)
        (value, _, _, error, _, c), flags, messages = _evaluate_one(keyed, numbers, u, q)
        raise_deferred(flags, messages)
        return float(value), float(error), c

    value, error, c = on(problem.quadrature.panels)
    if error <= rtol * abs(value) + 1e-15 or max_panels <= problem.quadrature.panels:
        return value, error, c
    return on(max_panels)


def _shard(u):
    """Spread the starts over all devices (e.g. the CPU cores exposed by
    XLA_FLAGS=--xla_force_host_platform_device_count=N) when they divide evenly."""
    devices = jax.devices()
    if len(devices) == 1 or u.shape[0] % len(devices):
        return u
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    return jax.device_put(u, NamedSharding(Mesh(np.array(devices), ("starts",)), PartitionSpec("starts")))


@functools.lru_cache(maxsize=32)
def _builtin(name: str) -> Model:
    """A built-in model by name, one object per name (compiled steps are cached on it)."""
    return get_model(name)


@functools.lru_cache(maxsize=32)
def _with_extra_args(transform):
    return optax.with_extra_args_support(transform)


def _as_objective(objective) -> Objective:
    if isinstance(objective, str):
        return get_objective(objective)
    if not isinstance(objective, Objective):
        raise DesignError(f"objective must be an Objective (Cooling(...), COP, Rectification, Thermocurrent, "
                          f"Custom) or one of {', '.join(OBJECTIVES)}, got {objective!r}")
    return objective


def prepare(objective, model=None, *, free=None, bounds=None, start=None, matrices=(), optimizer="adam",
            learning_rate: float = 0.05, quadrature: FrequencyQuadrature | None = None,
            order: str = "lowest") -> Problem:
    """The ``Problem`` of ``optimize`` (validated; nothing is compiled yet)."""
    objective = _as_objective(objective)
    model = "two-level" if model is None else model
    model = _builtin(model) if isinstance(model, str) and model in BUILTIN else get_model(model)
    if free is None:
        free = DEFAULT_FREE if model.name == "two-level" and not matrices else ()
    space = DesignSpace.build(objective, model, free, bounds, start, matrices)
    if isinstance(optimizer, str):
        transform = make_optimizer(optimizer, learning_rate)
    elif isinstance(optimizer, optax.GradientTransformation):
        transform = optimizer
    else:
        raise DesignError(f"optimizer must be a name ({', '.join(OPTIMIZERS)}) or an optax "
                          f"GradientTransformation, got {optimizer!r}")
    if order not in ("lowest", "dressed"):
        raise DesignError(f"order must be 'lowest' or 'dressed', got {order!r}")
    quadrature = FrequencyQuadrature(warn=False, block=None) if quadrature is None else quadrature
    return Problem(objective, space, _with_extra_args(transform), quadrature, order)


def optimize(
    objective: Objective | str,
    model: Model | str | None = None,
    *,
    free=None,
    bounds: dict | None = None,
    start: dict | None = None,
    matrices=(),
    starts: int = 16,
    steps: int = 300,
    seed: int = 0,
    optimizer="adam",
    learning_rate: float = 0.05,
    tol: float = 1e-7,
    patience: int = 30,
    quadrature: FrequencyQuadrature | None = None,
    order: str = "lowest",
    progress: bool = True,
) -> DesignResult:
    """Optimise ``objective`` over the free numbers of ``model`` from many starts at once.

    objective: ``Cooling(...)``, ``COP``, ``Rectification``, ``Thermocurrent``, ``Custom``
        (or ``cooling(...)`` etc.), or the name of one with its default settings.
    model: a ``Model``, a built-in name or model file (``ehpjax.models.get``); default the
        paper's two-level model.
    free: names of free scalars: the model's parameters and the bath names μ0, V, T_e, T_ph
        (a comma-separated string works); default ε_L, ε_R, γ_L, γ_R for the two-level model.
    bounds: {name: (lower, upper)} overriding ``default_bounds`` (±inf allowed; within each
        parameter's own range).
    start: {name: value} of model parameters (fixed or the first start of free ones) and
        bath names (overriding the objective's).
    matrices: ``Hermitian(...)``/``PSD(...)`` specs: whole matrices free under a mask.
    optimizer: a name (adam, adamw, adabelief, rmsprop, sgd, lbfgs) with ``learning_rate``,
        or any optax GradientTransformation, e.g. ``optax.adam(0.05)``.
    tol, patience: a start is converged (and frozen) once its best value has not improved
        by more than tol·|best| + 1e-15 for ``patience`` steps; the run stops when all are.
    quadrature: the ω rule (default: all nodes in one block, faster for tens of starts).

    A run of at most ``quick_start_steps(levels)`` starts × steps (8192 for two levels, a quarter as
    many for each further level) steps with a program compiled with XLA's quick settings (2–3× sooner,
    each step 3–5× slower), a longer one with XLA's defaults.

    Returns a ``DesignResult``: the best iterate over all starts and steps whose entropy
    production is ≥ 0, re-evaluated accurately, with the report of bounds and convergence.
    """
    if not (isinstance(starts, (int, np.integer)) and starts >= 1):
        raise DesignError(f"starts must be an integer >= 1 (got {starts!r})")
    if not (isinstance(steps, (int, np.integer)) and steps >= 0):
        raise DesignError(f"steps must be an integer >= 0 (got {steps!r})")
    if not (isinstance(patience, (int, np.integer)) and patience >= 1):
        raise DesignError(f"patience must be an integer >= 1 (got {patience!r})")
    if not (tol >= 0 and math.isfinite(tol)):
        raise DesignError(f"tol must be >= 0 and finite (got {tol!r})")
    problem = prepare(objective, model, free=free, bounds=bounds, start=start, matrices=matrices,
                      optimizer=optimizer, learning_rate=learning_rate, quadrature=quadrature, order=order)
    return run(problem, starts=starts, steps=steps, seed=seed, tol=tol, patience=patience, progress=progress)


def run(problem: Problem, *, starts: int, steps: int, seed: int = 0, tol: float = 1e-7, patience: int = 30,
        progress: bool = False) -> DesignResult:
    """The loop of ``optimize`` on a prepared ``Problem``."""
    space, objective = problem.space, problem.objective
    rng = np.random.default_rng(seed)
    u = _shard(jnp.asarray(space.to_unconstrained(space.sample(rng, starts))))
    state = init_batch(problem, u)
    step = _stepper(problem, quick=starts * steps <= quick_start_steps(_levels(problem, u)))  # (key, numbers once)
    active = np.ones(starts, dtype=bool)
    best = np.full(starts, -np.inf)  # best of −sign·value (higher is better) per start
    since = np.zeros(starts, dtype=int)
    converged_at = np.full(starts, -1)
    rows = []

    from tqdm.auto import tqdm

    bar = tqdm(total=steps, desc=f"optimize {objective_label(objective)}", disable=None if progress else True, leave=False)
    steps_run = 0
    try:
        for k in range(steps):
            u, state, out = step(u, state, jnp.asarray(active))
            row = {key: np.asarray(out[key]) for key in ("value", "guide", "sigma", "x", "grad_norm")}
            rows.append(row)
            steps_run = k + 1
            score = np.where(np.isfinite(row["value"]), -problem.sign * row["value"], -np.inf)
            improved = score > best + tol * np.abs(np.where(np.isfinite(best), best, 0.0)) + 1e-15
            best = np.where(improved, np.maximum(best, score), best)
            since = np.where(improved, 0, since + 1)
            newly = active & (since >= patience)
            converged_at[newly] = k
            active &= ~newly
            bar.update(1)
            bar.set_postfix(best=f"{-problem.sign * np.max(best):.6g}", active=int(active.sum()))
            if not active.any():
                break
    finally:
        bar.close()
    # The final iterate: the same compiled step with every start inactive (u does not move).
    _, _, out = step(u, state, jnp.zeros(starts, dtype=bool))
    rows.append({key: np.asarray(out[key]) for key in ("value", "guide", "sigma", "x", "grad_norm")})
    stack = {key: np.stack([r[key] for r in rows]) for key in rows[0]}
    history = History(stack["value"], stack["guide"], stack["sigma"], stack["grad_norm"], stack["x"],
                      space.names, converged_at)

    values, sigmas = stack["value"], stack["sigma"]
    score = np.where(np.isfinite(values) & (sigmas >= -SIGMA_TOL), -problem.sign * values, -np.inf)
    if not np.isfinite(score).any():
        raise DesignError(f"objective {objective_label(objective)!r}: no iterate gave a finite value")
    k, s = np.unravel_index(np.argmax(score), score.shape)
    x_best = stack["x"][k, s]
    u_best = space.to_unconstrained(x_best)
    # Re-evaluate the best iterate with the run's (compiled) step; refine the quadrature only
    # if its error estimate asks for it.
    _, _, out = step(_shard(jnp.tile(jnp.asarray(u_best), (starts, 1))), state,
                           jnp.zeros(starts, dtype=bool))
    value, error = float(out["value"][0]), float(out["error"][0])
    c = jax.tree.map(lambda a: a[0], out["currents"])
    if error > 1e-8 * abs(value) + 1e-15:
        value, error, c = accurate_value(problem, u_best)
    x_exact = np.asarray(out["x"][0])
    junction, modes, baths = space.system(objective, jnp.asarray(x_exact))
    violations = int(np.sum(~(sigmas >= -SIGMA_TOL)))
    if violations:
        warnings.warn(f"optimize: {violations} iterates have entropy production < 0 (min {np.nanmin(sigmas):.3e}); "
                      "the quadrature may be too coarse for them", RuntimeWarning, stacklevel=3)
    return DesignResult(
        objective=objective,
        space=space,
        parameters=space.parameters(objective, x_exact),
        free={name: float(v) for name, v in zip(space.names, x_exact)},
        value=value,
        value_error=error,
        start_value=float(values[0, 0]),
        junction=junction,
        modes=modes,
        baths=baths,
        currents=c,
        history=history,
        best_start=int(s),
        best_step=int(k),
        steps_run=steps_run,
        converged=bool(not active.any()),
        min_entropy_production=float(np.nanmin(sigmas)),
        second_law_violations=violations,
        tol=float(tol),
        patience=int(patience),
    )

