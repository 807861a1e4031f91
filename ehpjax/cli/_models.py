"""The ``ehpjax models`` command: the built-in model library and what a model contains.

    ehpjax models                                   # built-in models, one line each
    ehpjax models show serial-chain --option n=4    # parameters and matrices at the defaults
    ehpjax models show chain3.toml --set t=0.3      # ... or at other values

Bad input raises ``EhpjaxError``; the application prints it as one line.
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
import typer

from .._errors import EhpjaxError
from ._options import parse_sets
from ..models import BATH_NAMES, BUILTIN, Model, ModelError, get, list_models


def parse_options(items: list[str] | None) -> dict[str, object]:
    """Factory options of a built-in model: ``["n=4", "mode=bond:1,site:2"]`` →
    ``{"n": 4, "mode": ["bond:1", "site:2"]}`` (integers stay integers, a comma makes a list)."""
    options: dict[str, object] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name.isidentifier():
            raise EhpjaxError(f"--option {item!r}: expected NAME=VALUE")
        if name in options:
            raise EhpjaxError(f"--option: {name} is given twice")
        parts = [p.strip() for p in text.split(",")]
        parsed = [int(p) if p.lstrip("+-").isdigit() else p for p in parts]
        options[name] = parsed if len(parsed) > 1 else parsed[0]
    return options


def _number(x: float) -> str:
    return f"{x:g}" if math.isfinite(x) else ("∞" if x > 0 else "−∞")


def _entry(x) -> str:
    x = complex(x)
    if x.imag == 0:
        return f"{x.real:.6g}"
    return f"{x.real:.6g}{x.imag:+.6g}j"


def _matrix(name: str, a) -> str:
    """``name = [ a  b ]`` with one row per line and right-aligned columns."""
    a = np.asarray(a)
    cells = [[_entry(x) for x in row] for row in a]
    width = max(len(c) for row in cells for c in row)
    pad = " " * (len(name) + 3)
    lines = ["[ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells]
    return "\n".join([f"{name} = {lines[0]}"] + [pad + line for line in lines[1:]])


def describe(model: Model, values: dict[str, float] | None = None) -> str:
    """A model's parameters (values, bounds, units, descriptions), bath defaults and its
    matrices H, Γ_L, Γ_R, M^k, K, η at the defaults updated by ``values`` (parameters or
    bath names)."""
    values = dict(values or {})
    bath_values = {k: values.pop(k) for k in list(values) if k in BATH_NAMES}
    params = model.values(values)
    for name, value in values.items():
        p = model.parameter(name)
        if not p.min <= value <= p.max:
            raise ModelError(f"--set {name}={value:g} lies outside the bounds [{_number(p.min)}, {_number(p.max)}] "
                             f"of {name}")
    try:
        junction, modes = model.builder({k: float(v) for k, v in params.items()})
    except ModelError:
        raise
    except ValueError as err:  # the core's own checks of Junction and Modes
        raise ModelError(f"model {model.name!r} at these values: {err}") from None

    rows = [f"{model.name}: {model.description}" if model.description else model.name, f"source: {model.source}", ""]
    if model.parameters:
        table = [("parameter", "value", "min", "max", "unit", "description")]
        for p in model.parameters:
            mark = " *" if p.name in values else ""
            table.append((p.name, _number(float(params[p.name])) + mark, _number(p.min), _number(p.max), p.unit,
                          p.description))
        widths = [max(len(r[i]) for r in table) for i in range(5)]
        for r in table:
            rows.append("  " + "  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5])
        if values:
            rows.append("  (* set on the command line)")
    else:
        rows.append("  no free parameters (a concrete system)")
    baths = {**model.baths, **bath_values}
    if baths:
        rows += ["", "baths: " + ", ".join(f"{k} = {_number(float(v))}" for k, v in baths.items())]
    n, nb = junction.n_levels, junction.n_modes
    rows += ["", f"junction: n = {n} level(s), spin degeneracy {float(junction.spin_degeneracy):g}"]
    for name, a in (("H", junction.H), ("gamma_L", junction.gamma_L), ("gamma_R", junction.gamma_R)):
        rows.append(_matrix(name, a))
    for k in range(nb):
        rows.append(_matrix(f"M[{k}]", junction.M[k]))
    rows += ["", f"modes: N_b = {nb}"]
    rows += [_matrix("K", modes.K), _matrix("eta", modes.eta)]
    return "\n".join(rows)


def register(app: typer.Typer) -> None:
    """Add ``ehpjax models`` (list) and ``ehpjax models show`` to ``app``."""
    models_app = typer.Typer(help="The built-in model library and model files (list; show NAME|FILE).",
                             invoke_without_command=True, no_args_is_help=False)

    @models_app.callback(invoke_without_command=True)
    def models(ctx: typer.Context) -> None:
        """List the built-in models (use them with --model NAME; `ehpjax models show NAME` for details)."""
        if ctx.invoked_subcommand is not None:
            return
        listing = list_models()
        width = max(len(name) for name in listing)
        for name, description in listing.items():
            typer.echo(f"{name.ljust(width)}  {description}")
        typer.echo("\nAlso: a model file NAME.toml (parameters and matrices with expressions) or a system "
                   "NAME.json (e.g. a design's best.json). Details: ehpjax models show NAME|FILE")

    @models_app.command("show")
    def show(
        model: Annotated[str, typer.Argument(help=f"a built-in ({', '.join(BUILTIN)}) or a file *.toml / *.json")],
        set_: Annotated[list[str] | None, typer.Option("--set", help="NAME=VALUE: a parameter or bath value "
                                                       "(repeatable)")] = None,
        option: Annotated[list[str] | None, typer.Option("--option", help="KEY=VALUE: a factory option of a "
                                                         "built-in, e.g. n=4 or mode=bond:1,site:2 (repeatable)")]
        = None,
    ) -> None:
        """Print a model's parameters and its matrices H, Γ_L, Γ_R, M^k, K, η.

        Parameters with defaults, bounds, units and descriptions; the matrices at the
        defaults or at the --set values."""
        typer.echo(describe(get(model, **parse_options(option)), parse_sets(set_)))

    app.add_typer(models_app, name="models")
