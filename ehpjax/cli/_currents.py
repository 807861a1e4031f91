"""``ehpjax currents``: the currents of one junction at one bath setting (table or JSON)."""

from __future__ import annotations

import math
from typing import Annotated, Optional

import typer

from .. import __version__
from .._errors import EhpjaxError
from .._quantities import QUANTITIES, UNITS_NOTE, unit
from ._options import ModelOption, SetOption, help_text, parse_sets, resolve_model, strict_json

# Shorthand options for parameters of the paper's two-level model (any model with a
# parameter of that name accepts them): option → parameter name.
SHORTHANDS = {"--eps-L": "eps_L", "--eps-R": "eps_R", "--gamma-L": "gamma_L", "--gamma-R": "gamma_R",
              "--m": "m", "--omega": "omega", "--gamma-ph": "gamma_ph"}
BATH_OPTIONS = {"--mu0": "mu0", "--bias": "V", "--T-e": "T_e", "--T-ph": "T_ph"}
OUTPUTS = ("J", "I", "I_elastic", "P", "entropy_production")


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shorthand_help(name: str) -> str:
    q = QUANTITIES[name]
    return f"{_first_upper(q['description'])} ({q['unit']}); shorthand for --set {name}=X."


def _bath_help(name: str, extra: str = "") -> str:
    q = QUANTITIES[name]
    return f"{_first_upper(q['description'])} ({q['unit']}){extra}; default: the model's."


def _option(name: str, *flags: str, help: str):
    return Annotated[Optional[float], typer.Option(*flags, metavar="X", help=help)]


_PANELS, _FINER_PANELS = 10, 40  # the fixed rule of one point, and where it misses the tolerance


def currents_command(
    model: ModelOption = None,
    sets: SetOption = None,
    mu0: _option("mu0", "--mu0", help=_bath_help("mu0")) = None,
    bias: _option("V", "--bias", "-V", help=_bath_help("V", ", split symmetrically: μ_L,R = μ0 ± V/2")) = None,
    T_e: _option("T_e", "--T-e", help=_bath_help("T_e", ", > 0")) = None,
    T_ph: _option("T_ph", "--T-ph", help=_bath_help("T_ph", ", > 0")) = None,
    eps_L: _option("eps_L", "--eps-L", help=_shorthand_help("eps_L")) = None,
    eps_R: _option("eps_R", "--eps-R", help=_shorthand_help("eps_R")) = None,
    gamma_L: _option("gamma_L", "--gamma-L", help=_shorthand_help("gamma_L")) = None,
    gamma_R: _option("gamma_R", "--gamma-R", help=_shorthand_help("gamma_R")) = None,
    m: _option("m", "--m", help=_shorthand_help("m")) = None,
    omega: _option("omega", "--omega", help=_shorthand_help("omega")) = None,
    gamma_ph: _option("gamma_ph", "--gamma-ph", help=_shorthand_help("gamma_ph")) = None,
    spin_degeneracy: Annotated[Optional[float], typer.Option(
        "--spin-degeneracy", metavar="G", help="Spin degeneracy g_s multiplying the electron–hole-pair baths "
        "(1 = spinless, 2 = spin-degenerate; dimensionless); default: the model's.")] = None,
    panels: Annotated[Optional[int], typer.Option(
        "--panels", metavar="N", help="Panels of the frequency quadrature (15 nodes each); default: "
        f"{_PANELS}, then {_FINER_PANELS} where their error estimate misses the tolerance, then the part of "
        "largest error split, up to 16 times (as ehpjax.sweep). A given N is used alone.")] = None,
    dressed: Annotated[bool, typer.Option(
        "--dressed", help="Currents with the modes dressed by the electrons (order='dressed') instead of the "
        "paper's lowest order (Eq. 8).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print strict JSON (no NaN) instead of a table.")] = False,
):
    """Energy and charge currents between the electrons and the modes (paper Eq. 8).

    Prints the energy current J (electrons → modes; J > 0 heats the modes, J < 0 cools them) and its four
    electron–hole-pair channels LL, RR, RL, LR, the boson-assisted charge current I (L → R), the elastic
    current, the power P = I·V and the entropy production σ.

    The model's parameters are set with --set NAME=VALUE (or the shorthands --eps-L … --gamma-ph of the
    two-level model), the baths with --mu0, -V, --T-e, --T-ph; unset values take the model's defaults
    (two-level: ε_L = 10.5, ε_R = 9.5, γ_L = γ_R = m = γ_ph = 0.5, Ω = 1 at μ0 = 10, V = 0,
    T_e = T_ph = 0.5, which is equilibrium: every current is 0).
    """
    import numpy as np

    from .._currents import currents_miss
    from .._ehp import CHANNELS
    from .._adaptive import MORE_SPLITS, AdaptiveQuadrature
    from .._evaluate import evaluate
    from .._quadrature import FrequencyQuadrature
    from ..models import BATH_NAMES

    the_model = resolve_model(model)
    given = parse_sets(sets)
    options = {**{k: v for k, v in zip(SHORTHANDS, (eps_L, eps_R, gamma_L, gamma_R, m, omega, gamma_ph))},
               **{k: v for k, v in zip(BATH_OPTIONS, (mu0, bias, T_e, T_ph))}}
    for flag, value in options.items():
        if value is None:
            continue
        name = {**SHORTHANDS, **BATH_OPTIONS}[flag]
        if not math.isfinite(value):
            raise EhpjaxError(f"{flag} must be a finite number (got {value})")
        if name in given:
            raise EhpjaxError(f"{flag} and --set {name}=... both set {name}; give one")
        if flag in SHORTHANDS and name not in the_model.names:
            raise EhpjaxError(f"{flag} sets the parameter {name}, which the model {the_model.name!r} does not "
                              f"have (parameters: {', '.join(the_model.names) or 'none'})")
        given[name] = float(value)
    params = _check_values(the_model, given, BATH_NAMES)
    baths = _baths(the_model, {k: v for k, v in given.items() if k in BATH_NAMES})
    if spin_degeneracy is not None and not (math.isfinite(spin_degeneracy) and spin_degeneracy > 0):
        raise EhpjaxError(f"--spin-degeneracy must be a positive, finite number (got {spin_degeneracy})")
    if panels is not None and panels < 1:
        raise EhpjaxError(f"--panels must be ≥ 1 (got {panels})")

    order = "dressed" if dressed else "lowest"
    point = {**params, **_bath_names(the_model, baths)}

    def values_on(quadrature):
        fn = None if spin_degeneracy is None else _with_spin_degeneracy(spin_degeneracy, order, quadrature)
        out = evaluate(the_model, point, fn, order=order, quadrature=quadrature)
        return {k: float(np.asarray(v)) for k, v in out.items()}

    def misses(values):
        return bool(currents_miss(values["J"], values["J_error"], values["I"], values["I_error"], 1e-6))

    # The default rule's passes one program at a time, each compiled only where the last misses (going
    # straight from 10 panels to the default rule compiled 2.4 s longer where 10 miss): 10 panels, 40
    # (its third pass: 4 parts of the 10-panel rule), then the rule itself for its splits (narrow features),
    # then up to 16 splits (as ``ehpjax.sweep``).
    escalation = [] if panels is not None else [FrequencyQuadrature(panels=_FINER_PANELS, warn=False),
                                                 AdaptiveQuadrature(fine=FrequencyQuadrature(warn=False)), MORE_SPLITS]
    values = values_on(FrequencyQuadrature(panels=panels or _PANELS, warn=False))
    for quadrature in escalation:
        if not (values.get("stable", 1.0) and misses(values)):
            break
        values = values_on(quadrature)
    if order == "dressed":
        from .._dressed import dressed_modes
        from .._stability import raise_if_unstable

        raise_if_unstable(values["stable"], values["growth_rate"], None, "ehpjax currents --dressed",
                          baths["mu_L"] - baths["mu_R"],
                          find_rate=lambda: dressed_modes(*the_model.system(point)).growth_rate)
    # (an infinite estimate is an unknown one, with finite values: reported with the warning below)
    bad = sorted(k for k, v in values.items() if not math.isfinite(v) and not (k.endswith("_error") and v == math.inf))
    if bad:
        raise EhpjaxError(f"the result is not finite ({', '.join(bad)}) at these inputs; check the parameters")

    from .._model import Baths

    b = Baths(baths["mu_L"], baths["mu_R"], baths["T_e"], baths["T_ph"])
    J, P = values["J"], values["P"]
    result = {
        "model": the_model.name,
        "order": order,
        "parameters": params,
        "baths": {"mu_L": float(b.mu_L), "mu_R": float(b.mu_R), "V": float(b.mu_L - b.mu_R),
                  "T_e": float(b.T_e), "T_ph": float(b.T_ph)},
        **{k: values[k] for k in OUTPUTS},
        "cooling_cop": -J / P if (J < 0 and P > 0) else 0.0,
        "J_error": values["J_error"],
        "I_error": values["I_error"],
        "J_channels": {c: values[f"J_{c}"] for c in CHANNELS},
        "N_channels": {c: values[f"N_{c}"] for c in CHANNELS},
        "units": {k: unit(k) for k in (*OUTPUTS, "J_error", "I_error")} | {
            "J_channels": unit("J_LL"), "N_channels": unit("N_LL"), "energies": "ħΩ", "note": UNITS_NOTE},
        "version": __version__,
    }
    if spin_degeneracy is not None:
        result["spin_degeneracy"] = float(spin_degeneracy)
    if order == "dressed":  # (an unstable junction was refused above)
        result["stable"] = True
        result["growth_rate"] = values["growth_rate"]  # (NaN, null in JSON: not known from the short search)
        result["units"]["growth_rate"] = "Ω"
    if misses(values) and math.inf in (values["J_error"], values["I_error"]):
        typer.echo("ehpjax: warning: the quadrature's error estimate is unknown (J_error, I_error infinite): "
                   "a feature narrower than float64 resolves in ω (a mode with η below ~1e-10 of its frequency); "
                   "its sharp-line limit (gamma_ph = 0) is exact", err=True)
    elif misses(values):
        typer.echo(f"ehpjax: warning: quadrature error estimate J ± {values['J_error']:.1e}, "
                   f"I ± {values['I_error']:.1e} exceeds 1e-6 · max(|value|, 1e-4)"
                   + ("; try a larger --panels" if panels is not None else f" after {MORE_SPLITS.splits} splits of "
                      "the default rule (features too narrow for it)"), err=True)
    if as_json:
        typer.echo(strict_json(result))
        return
    typer.echo(_table(result, CHANNELS))


def _check_values(model, given: dict, bath_names) -> dict:
    """The model's parameter values (defaults updated by ``given``), every name known and
    every value inside the parameter's bounds; bath temperatures > 0."""
    unknown = sorted(set(given) - set(model.names) - set(bath_names))
    if unknown:
        raise EhpjaxError(f"unknown name(s) {', '.join(unknown)} for the model {model.name!r} (parameters: "
                          f"{', '.join(model.names) or 'none'}; baths: {', '.join(bath_names)})")
    for name in ("T_e", "T_ph"):
        if name in given and not given[name] > 0:
            raise EhpjaxError(f"{name} must be > 0 (got {given[name]:g})")
    values = model.values({k: v for k, v in given.items() if k in model.names})
    for p in model.parameters:
        v = values[p.name]
        if not p.min <= v <= p.max:
            raise EhpjaxError(f"{p.name} = {v:g} lies outside its bounds [{p.min:g}, {p.max:g}]")
    return {k: float(v) for k, v in values.items()}


def _baths(model, given: dict) -> dict:
    """(mu_L, mu_R, T_e, T_ph) from the bath names given and the model's defaults: μ_L,R are
    taken as given, or from μ0 ± V/2 (either of which may come from the defaults)."""
    defaults = dict(model.baths)
    if "mu_L" in defaults and "mu_R" in defaults:
        defaults.setdefault("mu0", 0.5 * (defaults["mu_L"] + defaults["mu_R"]))
        defaults.setdefault("V", defaults["mu_L"] - defaults["mu_R"])
    if ("mu_L" in given) != ("mu_R" in given):
        raise EhpjaxError("give both mu_L and mu_R, or mu0 and V")
    if "mu_L" in given and ("mu0" in given or "V" in given):
        raise EhpjaxError("give either (mu_L, mu_R) or (mu0, V), not both")
    if "mu_L" in given:
        mu_L, mu_R = given["mu_L"], given["mu_R"]
    else:
        mu0, V = given.get("mu0", defaults.get("mu0", 0.0)), given.get("V", defaults.get("V", 0.0))
        mu_L, mu_R = mu0 + 0.5 * V, mu0 - 0.5 * V
    if "T_e" not in given and "T_e" not in defaults:
        raise EhpjaxError(f"the model {model.name!r} has no default electron temperature; give --T-e")
    T_e = given.get("T_e", defaults.get("T_e"))
    T_ph = given.get("T_ph", defaults.get("T_ph", T_e))
    for name, value in (("T_e", T_e), ("T_ph", T_ph)):
        if not (math.isfinite(value) and value > 0):
            raise EhpjaxError(f"{name} must be a positive, finite number (got {value:g})")
    return {"mu_L": float(mu_L), "mu_R": float(mu_R), "T_e": float(T_e), "T_ph": float(T_ph)}


def _bath_names(model, baths: dict) -> dict:
    """``baths`` in the form of the model's bath defaults, (mu_L, mu_R) or (mu0, V), so that
    ``Model.system`` does not see both forms."""
    if "mu_L" in model.baths:
        return baths
    return {"mu0": 0.5 * (baths["mu_L"] + baths["mu_R"]), "V": baths["mu_L"] - baths["mu_R"],
            "T_e": baths["T_e"], "T_ph": baths["T_ph"]}


def _with_spin_degeneracy(g: float, order: str, quadrature):
    import equinox as eqx

    from .._evaluate import currents_dict

    def fn(junction, modes, baths):
        junction = eqx.tree_at(lambda j: j.spin_degeneracy, junction, junction.spin_degeneracy * 0 + g)
        return currents_dict(junction, modes, baths, order=order, quadrature=quadrature)

    return fn


def _table(r: dict, channels) -> str:
    b = r["baths"]
    params = ", ".join(f"{k} = {v:g}" for k, v in r["parameters"].items())
    mu = {"LL": 0.0, "RR": 0.0, "RL": -b["V"], "LR": b["V"]}
    # (`+ 0.0` turns a negative zero, e.g. P = I·V at V = 0 with I < 0, into 0)
    lines = [
        f"model {r['model']}" + (f" ({params})" if params else "") + (", dressed modes" if r["order"] == "dressed"
                                                                      else ""),
        (f"baths: μ_L = {b['mu_L']:g}, μ_R = {b['mu_R']:g} (V = {b['V']:g}), T_e = {b['T_e']:g}, "
        f"T_ph = {b['T_ph']:g}   ({UNITS_NOTE})"),
        f"J     = {r['J'] + 0.0: .9e}  ħΩ²   energy current electrons → modes (> 0 heats the modes)",
        *(f"  J^{c} = {r['J_channels'][c] + 0.0: .9e}  ħΩ²   electron–hole-pair channel {c} (μ_{c} = {mu[c] + 0.0:g})"
          for c in channels),
        f"I     = {r['I'] + 0.0: .9e}  eΩ    boson-assisted charge current L → R",
        f"I_el  = {r['I_elastic'] + 0.0: .9e}  eΩ    elastic (Landauer) charge current L → R",
        f"P     = {r['P'] + 0.0: .9e}  ħΩ²   power I·V",
        f"σ     = {r['entropy_production'] + 0.0: .9e}  Ω     entropy production (P − J)/T_e + J/T_ph (k_B = 1)",
    ]
    if r["cooling_cop"] > 0:
        lines.append(f"COP   = {r['cooling_cop']: .6g}          cooling coefficient of performance −J/P")
    if r["order"] == "dressed":
        rate = r["growth_rate"]
        lines.append("modes stable: no dressed pole in the upper half-plane" + (
            f"; the least damped decays as e^(Im ω t), Im ω = {rate:.4g} Ω" if math.isfinite(rate)
            else " (decay rates: ehpjax.dressed_modes)"))
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.command("currents", help=help_text(currents_command.__doc__))(currents_command)
