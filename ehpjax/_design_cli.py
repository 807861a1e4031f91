"""``ehpjax optimize OBJECTIVE [options] --out DIR``: inverse design from the command line.

Registered with the ``ehpjax`` typer app through ``register(app)`` (see ``ehpjax/cli.py``);
``optimize_command`` can also be registered by hand: ``app.command("optimize")(optimize_command)``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer

_OBJECTIVE_HELP = (
    "What to optimise: 'cooling' (cooling power −J at bias --bias and T_e = T_ph = --T), 'cop' (−J/P, same "
    "settings), 'rectification' (R(ΔT) at --T0, --delta-T, μ_L = μ_R = --mu0) or 'thermocurrent' (charge current "
    "I at --T0, --delta-T)."
)


def _fail(message: str):
    """One error line on stderr, exit status 2 (through ehpjax.cli's CommandError when available)."""
    try:
        from .cli import fail
    except ImportError:  # pragma: no cover - cli.py is optional for this module
        typer.echo(f"ehpjax: error: {message}", err=True)
        raise typer.Exit(2) from None
    fail(message)


def _parse_float(text: str, what: str) -> float:
    try:
        return float(text.strip())  # accepts inf, -inf
    except ValueError:
        _fail(f"{what}: {text.strip()!r} is not a number")


def _parse_bounds(items: list[str]) -> dict:
    bounds = {}
    for item in items:
        name, sep, rest = item.partition("=")
        lo, sep2, hi = rest.partition(":")
        if not sep or not sep2 or not name.strip():
            _fail(f"--bound {item!r}: expected NAME=LOWER:UPPER (e.g. m=0.1:0.8, gamma_L=0.05:inf)")
        name = name.strip()
        lower = -math.inf if not lo.strip() else _parse_float(lo, f"--bound {name} lower")
        upper = math.inf if not hi.strip() else _parse_float(hi, f"--bound {name} upper")
        bounds[name] = (lower, upper)
    return bounds


def _parse_start(items: list[str]) -> dict:
    start = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            _fail(f"--start {item!r}: expected NAME=VALUE (e.g. eps_L=10.4)")
        start[name.strip()] = _parse_float(value, f"--start {name.strip()}")
    return start


def optimize_command(
    objective: Annotated[str, typer.Argument(help=_OBJECTIVE_HELP, show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (created if missing) for best.json, "
                                      "history.csv, history.png and comparison.png.")],
    bias: Annotated[Optional[float], typer.Option("--bias", "-V", help="Bias V = μ_L − μ_R, μ_L,R = μ0 ± V/2 "
                                                  "(ħΩ/e); default −1 for cooling and cop, 0 otherwise.")] = None,
    mu0: Annotated[float, typer.Option("--mu0", help="Mean chemical potential μ0 of the leads (ħΩ).")] = 10.0,
    T: Annotated[Optional[float], typer.Option("--T", help="Temperature T_e = T_ph of cooling and cop (ħΩ/k_B); "
                                               "default 0.2.")] = None,
    T0: Annotated[Optional[float], typer.Option("--T0", help="Mean temperature of rectification and thermocurrent; "
                                                "T_e = T0 + ΔT/2, T_ph = T0 − ΔT/2; default 0.5.")] = None,
    delta_T: Annotated[Optional[float], typer.Option("--delta-T", help="ΔT = T_e − T_ph of rectification and "
                                                     "thermocurrent, |ΔT| < 2 T0; default 0.4.")] = None,
    free: Annotated[str, typer.Option("--free", help="Comma-separated free variables among eps_L, eps_R, gamma_L, "
                                      "gamma_R, m, omega, gamma_ph, V; the others keep their start values.")]
    = "eps_L,eps_R,gamma_L,gamma_R",
    bound: Annotated[Optional[list[str]], typer.Option(
        "--bound", help="NAME=LOWER:UPPER bounds of a free variable (repeatable; 'inf' or empty for none). Defaults: "
        "levels μ0 ± 3, γ_L, γ_R ≥ 0.05, γ_ph ≥ 0.02, 0 < m < 1, 0.25 < Ω < 4, |V| < 3.")] = None,
    start: Annotated[Optional[list[str]], typer.Option("--start", help="NAME=VALUE start value (repeatable); "
                                                       "default: the paper's model (SPEC 7).")] = None,
    steps: Annotated[int, typer.Option("--steps", help="Maximum optimiser steps.")] = 300,
    starts: Annotated[int, typer.Option("--starts", help="Number of starts (the first is --start, the others "
                                        "random within the bounds), run at once.")] = 16,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random starts.")] = 0,
    optimizer: Annotated[str, typer.Option("--optimizer", help="'adam' or 'lbfgs'.")] = "adam",
    learning_rate: Annotated[float, typer.Option("--lr", help="Adam learning rate (in the unconstrained "
                                                 "variables).")] = 0.05,
    minimize: Annotated[bool, typer.Option("--minimize", help="Minimise instead of maximise (e.g. the most "
                                           "negative thermocurrent or rectification).")] = False,
    panels: Annotated[int, typer.Option("--panels", help="Panels of the ω quadrature during the run.")] = 10,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of the PNG files.")] = 150,
):
    """Inverse design of the paper's two-level junction with optax.

    Optimises the objective over the free variables from many starts at once (vmap), keeping every iterate
    physical through smooth bijections, and writes best.json (the best design as junction {H, gamma_L, gamma_R,
    M}, modes {K, eta}, baths {mu_L, mu_R, T_e, T_ph}, objective {name, value}), history.csv (objective,
    entropy production and variables at every step of every start), history.png and comparison.png (the
    design's J(V), R(ΔT) or I(ΔT) against the paper's model).
    """
    from . import _design as d

    if objective not in d.OBJECTIVES:
        _fail(f"unknown objective {objective!r} (choose from {', '.join(d.OBJECTIVES)})")
    thermal = objective in ("rectification", "thermocurrent")
    if thermal and T is not None:
        _fail(f"--T applies to cooling and cop; {objective} uses --T0 and --delta-T")
    if not thermal and (T0 is not None or delta_T is not None):
        _fail(f"--T0 and --delta-T apply to rectification and thermocurrent; {objective} uses --T")
    for name, value in (("--bias", bias), ("--mu0", mu0), ("--T", T), ("--T0", T0), ("--delta-T", delta_T),
                        ("--lr", learning_rate)):
        if value is not None and not math.isfinite(value):
            _fail(f"{name} must be finite (got {value})")
    if steps < 0:
        _fail(f"--steps must be >= 0 (got {steps})")
    if starts < 1:
        _fail(f"--starts must be >= 1 (got {starts})")
    if panels < 1:
        _fail(f"--panels must be >= 1 (got {panels})")
    if optimizer not in ("adam", "lbfgs"):
        _fail(f"unknown optimizer {optimizer!r} (choose adam or lbfgs)")
    settings = {"mu0": mu0}
    if bias is not None:
        settings["V"] = bias
    if thermal:
        settings.update({k: v for k, v in (("T0", T0), ("delta_T", delta_T)) if v is not None})
    elif T is not None:
        settings["T"] = T
    bounds, start_values = _parse_bounds(bound or []), _parse_start(start or [])

    import dataclasses

    from . import FrequencyQuadrature
    from ._design_io import write_history_csv
    from ._design_plots import plot_comparison, plot_history

    try:
        obj = d.get_objective(objective, **settings)
        if minimize:
            obj = dataclasses.replace(obj, maximize=False)
        d.DesignSpace.build(obj, free, bounds, start_values)  # validate before creating the output directory
    except d.DesignError as err:
        _fail(str(err))
    try:
        from .cli import check_writable_dir
    except ImportError:  # pragma: no cover
        out.mkdir(parents=True, exist_ok=True)
    else:
        check_writable_dir(out)
    try:
        result = d.optimize(obj, free=free, bounds=bounds, start=start_values, starts=starts, steps=steps, seed=seed,
                            optimizer=optimizer, learning_rate=learning_rate,
                            quadrature=FrequencyQuadrature(panels=panels, warn=False, block=None), progress=progress)
    except d.DesignError as err:
        _fail(str(err))

    result.save(out / "best.json")
    write_history_csv(out / "history.csv", result.history)
    from matplotlib.figure import Figure  # no pyplot: no GUI backend needed

    for name, plot in (("history.png", plot_history), ("comparison.png", plot_comparison)):
        fig = Figure(figsize=(6.4, 3.8), layout="constrained")
        plot(result, ax=fig.add_subplot())
        fig.savefig(out / name, dpi=dpi)

    ratio = result.improvement
    typer.echo(str(result))
    typer.echo(f"{obj.name}: {result.value:.6g} vs {result.start_value:.6g} at the start "
               f"(ratio {ratio:.4g}); wrote {out / 'best.json'}, history.csv, history.png, comparison.png")


def register(app: typer.Typer) -> None:
    """Add ``optimize`` to the ``ehpjax`` app (called by ehpjax.cli for modules in COMMAND_MODULES)."""
    try:
        from .cli import command_help
    except ImportError:  # pragma: no cover
        help_text = optimize_command.__doc__
    else:
        help_text = command_help(optimize_command.__doc__)
    app.command("optimize", help=help_text)(optimize_command)
