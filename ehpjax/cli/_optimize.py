"""``ehpjax optimize OBJECTIVE [--model NAME|FILE] --free A,B ... --out DIR``: inverse
design of any model from the command line (docs/physics.md §11).

``register(app)`` adds the command. Bad input raises ``EhpjaxError`` (the app prints it
as one line); nothing is written before the input is validated.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._errors import EhpjaxError
from ._options import parse_sets, resolve_model

_OBJECTIVE_HELP = (
    "What to optimise: 'cooling' (cooling power −J of the modes, ħΩ², at bias -V and T_e = T_ph = --T), "
    "'cop' (cooling COP −J/P where the modes are cooled, J < 0 and P > 0, else 0, as ehpjax.cooling_cop; "
    "the optimiser follows the unclipped −J/P so that it can find the cooling region), 'rectification' "
    "(R(ΔT) at --T0, --delta-T) or 'thermocurrent' (charge current I, eΩ, at --T0, --delta-T)."
)
_THERMAL = ("rectification", "thermocurrent")


def _parse_float(text: str, what: str) -> float:
    try:
        return float(text.strip())  # accepts inf, -inf
    except ValueError:
        raise EhpjaxError(f"{what}: {text.strip()!r} is not a number") from None


def _parse_bounds(items: list[str]) -> dict:
    bounds = {}
    for item in items:
        name, sep, rest = item.partition("=")
        lo, sep2, hi = rest.partition(":")
        if not sep or not sep2 or not name.strip():
            raise EhpjaxError(f"--bound {item!r}: expected NAME=LOWER:UPPER (e.g. m=0.1:0.8, gamma_L=0.05:inf)")
        name = name.strip()
        lower = -math.inf if not lo.strip() else _parse_float(lo, f"--bound {name} lower")
        upper = math.inf if not hi.strip() else _parse_float(hi, f"--bound {name} upper")
        bounds[name] = (lower, upper)
    return bounds


def optimize_command(
    objective: Annotated[str, typer.Argument(help=_OBJECTIVE_HELP, show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for best.json, history.csv, history.png "
                                      "and comparison.png; created if missing; an existing folder with files "
                                      "is refused unless --overwrite.")],
    model: Annotated[Optional[str], typer.Option(
        "--model", help="Model: a built-in name (see 'ehpjax models'), a model file (*.toml) or a design's "
        "best.json; default: the paper's two-level model.")] = None,
    free: Annotated[Optional[str], typer.Option(
        "--free", help="Comma-separated free variables: the model's parameters and the bath names mu0, V, T_e, "
        "T_ph. Default for the two-level model: eps_L,eps_R,gamma_L,gamma_R; required for other models.")] = None,
    bound: Annotated[Optional[list[str]], typer.Option(
        "--bound", help="NAME=LOWER:UPPER bounds of a free variable, in its unit (ħΩ for energies; repeatable; "
        "'inf' or empty for none). Defaults: each parameter's own range; for the two-level model levels "
        "μ0 ± 3, γ_L, γ_R ≥ 0.05, γ_ph ≥ 0.02, 0 < m < 1, 0.25 < Ω < 4; |V| < 3, T_e, T_ph ≥ 0.05.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="NAME=VALUE: a model parameter's value (fixed, or the first start of a free one), in its "
        "unit (ħΩ for energies; repeatable).")] = None,
    start: Annotated[Optional[list[str]], typer.Option("--start", help="Same as --set (earlier name).",
                                                       hidden=True)] = None,
    bias: Annotated[Optional[float], typer.Option("--bias", "-V", help="Bias V = μ_L − μ_R with μ_L,R = μ0 ± V/2, "
                                                  "in ħΩ/e; default −1 for cooling and cop, 0 otherwise.")] = None,
    mu0: Annotated[float, typer.Option("--mu0", help="Mean chemical potential μ0 of the leads, in ħΩ.")] = 10.0,
    T: Annotated[Optional[float], typer.Option("--T", help="Temperature T_e = T_ph of cooling and cop, in ħΩ/k_B; "
                                               "default 0.2.")] = None,
    T0: Annotated[Optional[float], typer.Option(
        "--T0", help="Mean temperature T0 = (T_e + T_ph)/2 of rectification and thermocurrent, in ħΩ/k_B; "
        "T_e = T0 + ΔT/2, T_ph = T0 − ΔT/2; default 0.5.")] = None,
    delta_T: Annotated[Optional[float], typer.Option(
        "--delta-T", help="Temperature difference ΔT = T_e − T_ph of rectification and thermocurrent, in ħΩ/k_B, "
        "|ΔT| < 2 T0; default 0.4.")] = None,
    steps: Annotated[int, typer.Option("--steps", help="Maximum optimiser steps.")] = 300,
    starts: Annotated[int, typer.Option("--starts", help="Number of starts, run at once: the first at the model's "
                                        "values (and --set), the others random within the bounds.")] = 16,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random starts.")] = 0,
    optimizer: Annotated[str, typer.Option("--optimizer", help="adam, adamw, adabelief, rmsprop, sgd (momentum "
                                           "0.9) or lbfgs.")] = "adam",
    learning_rate: Annotated[float, typer.Option("--lr", help="Learning rate of the optimiser, in the "
                                                 "unconstrained variables (not used by lbfgs).")] = 0.05,
    minimize: Annotated[bool, typer.Option("--minimize", help="Minimise instead of maximise (e.g. the most "
                                           "negative thermocurrent or rectification).")] = False,
    panels: Annotated[int, typer.Option("--panels", help="Panels of the ω quadrature during the run (the best "
                                        "design is re-evaluated to 1e-8 relative).")] = 10,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Write into an existing --out folder, replacing "
                                            "only the four files above.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of the PNG files, in dots per inch.")] = 150,
):
    """Inverse design of any model with optax.

    Optimises the objective over the free variables from many starts at once, keeping every iterate physical
    through smooth bijections, with exact gradients. Writes best.json (the best design as junction {H, gamma_L,
    gamma_R, M}, modes {K, eta}, baths {mu_L, mu_R, T_e, T_ph}, objective {name, value}, the model's parameters
    and the free values by name; 'ehpjax currents --model best.json' reads it), history.csv (every step of
    every start), history.png and comparison.png (the design's J(V), R(ΔT) or I(ΔT) against the start's). The
    summary flags free variables that end on a bound and says whether the run converged. Units: ħ = k_B = e = 1,
    energies in ħΩ.
    """
    from .._quadrature import FrequencyQuadrature
    from .. import design as d

    if objective not in d.OBJECTIVES:
        raise EhpjaxError(f"unknown objective {objective!r} (choose from {', '.join(d.OBJECTIVES)})")
    thermal = objective in _THERMAL
    if thermal and T is not None:
        raise EhpjaxError(f"--T applies to cooling and cop; {objective} uses --T0 and --delta-T")
    if not thermal and (T0 is not None or delta_T is not None):
        raise EhpjaxError(f"--T0 and --delta-T apply to rectification and thermocurrent; {objective} uses --T")
    for name, value in (("--bias", bias), ("--mu0", mu0), ("--T", T), ("--T0", T0), ("--delta-T", delta_T),
                        ("--lr", learning_rate)):
        if value is not None and not math.isfinite(value):
            raise EhpjaxError(f"{name} must be finite (got {value})")
    if steps < 0:
        raise EhpjaxError(f"--steps must be >= 0 (got {steps})")
    if starts < 1:
        raise EhpjaxError(f"--starts must be >= 1 (got {starts})")
    if panels < 1:
        raise EhpjaxError(f"--panels must be >= 1 (got {panels})")
    if dpi < 10:
        raise EhpjaxError(f"--dpi must be >= 10 (got {dpi})")
    settings = {"mu0": mu0, "maximize": not minimize}
    if bias is not None:
        settings["V"] = bias
    if thermal:
        settings.update({k: v for k, v in (("T0", T0), ("delta_T", delta_T)) if v is not None})
    elif T is not None:
        settings["T"] = T
    values = {**parse_sets(start or []), **parse_sets(set_ or [])}
    bounds = _parse_bounds(bound or [])
    resolved = resolve_model(model)
    obj = d.get_objective(objective, **settings)
    if free is None and resolved.name != "two-level":
        raise EhpjaxError(f"--free: name the free variables of model {resolved.name!r} "
                          f"(parameters: {', '.join(resolved.names) or 'none'}; bath names mu0, V, T_e, T_ph)")
    # Validate everything (names, bounds, start, optimizer) before anything is written.
    from ..models import BUILTIN

    key = model if model in BUILTIN or model is None else resolved  # built-ins by name: one compiled step
    problem = d.prepare(obj, key, free=free, bounds=bounds, start=values, optimizer=optimizer,
                        learning_rate=learning_rate,
                        quadrature=FrequencyQuadrature(panels=panels, warn=False, block=None))
    out = d.prepare_out(out, overwrite=overwrite)
    result = d.run(problem, starts=starts, steps=steps, seed=seed, progress=progress)

    result.save(out / "best.json")
    d.write_history_csv(out / "history.csv", result)
    d.save_figures(result, out, dpi=dpi)
    typer.echo(str(result))
    typer.echo(f"wrote {out / 'best.json'}, history.csv, history.png, comparison.png")


def register(app: typer.Typer) -> None:
    """Add ``optimize`` to the ``ehpjax`` app."""
    import inspect

    paragraphs = inspect.cleandoc(optimize_command.__doc__ or "").split("\n\n")
    app.command("optimize", help="\n\n".join(" ".join(p.split()) for p in paragraphs))(optimize_command)
