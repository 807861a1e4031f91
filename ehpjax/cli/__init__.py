"""The ``ehpjax`` command (typer).

    ehpjax reproduce --out DIR     # the paper's Figs. 3–6: PNG + CSV + params.json
    ehpjax currents [options]      # J, J per channel, I, P, σ for one junction/bath setting

Adding a sub-command from another module: write ``register(app: typer.Typer) -> None``
in that module, decorating its commands with ``@app.command()``, and append the module's
dotted name to ``COMMAND_MODULES`` below. Helpers shared by all commands (``fail``,
``check_positive``, ``check_writable_dir``, ``print_json``) live here; import them from
``ehpjax.cli`` inside ``register`` (the module is already initialised by then).

Errors in the user's options print one line, ``ehpjax: error: ...``, on stderr and exit
with status 2 (1 for a failure that is not the user's input); there is no traceback.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors click as typer._click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, NoArgsIsHelpError

# Modules that add sub-commands: each defines register(app). Built-in commands first; a module
# listed here but not installed is skipped (so that this list can name work in progress).
COMMAND_MODULES: tuple[str, ...] = ("ehpjax.cli", "ehpjax._sweep_cli", "ehpjax.cli._optimize")

UNITS_NOTE = "Units: ħ = k_B = e = 1 and the mode energy ħΩ = 1 (energies, temperatures, biases in ħΩ)."


class _OneLineErrors(TyperGroup):
    """Root group: usage errors, bad option values and input errors become one line on stderr."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name or "ehpjax", complete_var=complete_var,
                              standalone_mode=False, **extra)
        except NoArgsIsHelpError as e:  # bare `ehpjax`: the help (already printed by the rich formatter)
            if e.format_message().strip():
                typer.echo(e.format_message())
            code = e.exit_code
        except ClickException as e:
            _echo_error(e.format_message())
            code = e.exit_code
        except typer.Abort:
            _echo_error("aborted")
            code = 1
        except (ValueError, OSError) as e:  # invalid physics inputs caught by ehpjax's own checks
            _echo_error(str(e))
            code = 2 if isinstance(e, ValueError) else 1
        else:
            if not standalone_mode:
                return rv
            code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def _echo_error(message: str) -> None:
    first = " ".join(str(message).split())  # one line, whatever the exception text looked like
    typer.echo(f"ehpjax: error: {first}", err=True)


app = typer.Typer(
    cls=_OneLineErrors,
    name="ehpjax",
    help=(
        "Hybrid electron–boson energy transport in biased nanojunctions (JAX). "
        "A biased conductor acts on bosonic modes as four electron–hole-pair baths "
        "(LL, RR, RL, LR) with chemical potentials 0, 0, −V, +V. " + UNITS_NOTE
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool):
    if value:
        from .. import __version__

        typer.echo(f"ehpjax {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
):
    """Hybrid electron–boson energy transport in biased nanojunctions (JAX)."""


# ----------------------------------------------------------------------------------------
# Helpers shared by sub-commands


class CommandError(ClickException):
    """An error in the user's input (exit status 2 by default), shown as one line."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.exit_code = code


def fail(message: str, code: int = 2):
    """Stop with one error line on stderr and exit status ``code``."""
    raise CommandError(message, code)


def check_positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        fail(f"{name} must be a positive, finite number (got {value})")
    return value


def check_nonnegative(name: str, value: float) -> float:
    if not (math.isfinite(value) and value >= 0):
        fail(f"{name} must be ≥ 0 and finite (got {value})")
    return value


def check_finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        fail(f"{name} must be finite (got {value})")
    return value


def check_writable_dir(path: Path) -> Path:
    """Create ``path`` if needed and make sure a file can be written there."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".ehpjax-write-test-"):
            pass
    except OSError as e:
        fail(f"cannot write to output directory '{path}': {e.strerror or e}")
    return path


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# ----------------------------------------------------------------------------------------
# Built-in commands


MODEL_HELP = (
    "Junction model: 'two-level' (the paper's Fig. 2 junction, H = diag(ε_L, ε_R), level 1 on lead L, "
    "level 2 on lead R, one mode coupling them with M = m σx; set by --eps-L ... --gamma-ph) or the path "
    "of a JSON file with arrays H, gamma_L, gamma_R, M (N_b×n×n), K and eta (N_b×N_b) and optionally "
    "spin_degeneracy (then the level and mode options are not used)."
)


def _load_model(model: str, eps_L, eps_R, gamma_L, gamma_R, m, omega, gamma_ph, spin_degeneracy):
    from .. import Junction, Modes

    if model in ("two-level", "paper"):
        return Junction.two_level(eps_L, eps_R, gamma_L, gamma_R, m, spin_degeneracy), Modes.single(omega, gamma_ph), {
            "model": "two-level", "eps_L": eps_L, "eps_R": eps_R, "gamma_L": gamma_L, "gamma_R": gamma_R, "m": m,
            "omega": omega, "gamma_ph": gamma_ph, "spin_degeneracy": spin_degeneracy}
    if not model.endswith(".json"):
        fail(f"unknown model '{model}': use 'two-level' or the path of a .json model file")
    try:
        spec = json.loads(Path(model).read_text())
    except OSError as e:
        fail(f"cannot read model file '{model}': {e.strerror or e}")
    except json.JSONDecodeError as e:
        fail(f"model file '{model}' is not valid JSON: {e}")
    missing = [k for k in ("H", "gamma_L", "gamma_R", "M", "K", "eta") if k not in spec]
    if missing:
        fail(f"model file '{model}' lacks {', '.join(missing)}")
    import numpy as np

    def arr(key):
        value = spec[key]
        if isinstance(value, dict) and set(value) == {"real", "imag"}:
            return np.asarray(value["real"], dtype=float) + 1j * np.asarray(value["imag"], dtype=float)
        return np.asarray(value, dtype=float)

    try:
        junction = Junction(arr("H"), arr("gamma_L"), arr("gamma_R"), arr("M"), spec.get("spin_degeneracy", 1.0))
        modes = Modes(arr("K"), arr("eta"))
    except (TypeError, ValueError) as e:
        fail(f"model file '{model}': {e}")
    return junction, modes, {"model": str(model)}


def currents_command(
    model: Annotated[str, typer.Option("--model", help=MODEL_HELP)] = "two-level",
    eps_L: Annotated[float, typer.Option("--eps-L", help="Energy ε_L of level 1, coupled to lead L (ħΩ).")] = 10.5,
    eps_R: Annotated[float, typer.Option("--eps-R", help="Energy ε_R of level 2, coupled to lead R (ħΩ).")] = 9.5,
    gamma_L: Annotated[float, typer.Option("--gamma-L", help="Broadening γ_L of level 1 by lead L, ≥ 0 (ħΩ).")] = 0.5,
    gamma_R: Annotated[float, typer.Option("--gamma-R", help="Broadening γ_R of level 2 by lead R, ≥ 0 (ħΩ).")] = 0.5,
    m: Annotated[float, typer.Option("--m", help="Electron–mode coupling m: M = m(|1⟩⟨2| + |2⟩⟨1|), energy per "
                                     "unit mass-normalised displacement (Ω^(3/2) with ħ = 1).")] = 0.5,
    omega: Annotated[float, typer.Option("--omega", help="Mode frequency Ω, > 0 (in the unit ħΩ of the paper, so "
                                         "1 is the paper's mode).")] = 1.0,
    gamma_ph: Annotated[float, typer.Option("--gamma-ph", help="Mode–phonon-bath friction γ_ph = η, ≥ 0 (Ω); "
                                            "Π^r_ph = −iωη.")] = 0.5,
    spin_degeneracy: Annotated[float, typer.Option("--spin-degeneracy", help="Spin degeneracy g_s multiplying the "
                                                   "EHP baths (1 = spinless, 2 = spin-degenerate).")] = 1.0,
    mu0: Annotated[float, typer.Option("--mu0", help="Mean chemical potential μ0 of the leads (ħΩ).")] = 10.0,
    bias: Annotated[float, typer.Option("--bias", "-V", help="Bias V = μ_L − μ_R, split symmetrically: "
                                        "μ_L,R = μ0 ± V/2 (ħΩ/e).")] = 0.0,
    T_e: Annotated[float, typer.Option("--T-e", help="Electron temperature T_e of both leads, > 0 (ħΩ/k_B).")] = 0.6,
    T_ph: Annotated[float, typer.Option("--T-ph", help="Phonon-bath temperature T_ph, > 0 (ħΩ/k_B).")] = 0.4,
    panels: Annotated[int, typer.Option("--panels", help="Panels of the ω quadrature (15 nodes each); raise it if "
                                        "a warning reports a large error estimate.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")] = False,
):
    """Energy and charge currents between the e-bath and the modes (paper Eq. 8).

    Prints the energy current J (e-bath → modes; J > 0 heats the modes, J < 0 cools them) and
    its four EHP channels LL, RR, RL, LR, the boson-assisted charge current I (L → R), the
    elastic current, the power P = I·V and the entropy production σ. Defaults: the paper's
    model (SPEC 7) at μ0 = 10, V = 0, T_e = 0.6, T_ph = 0.4.
    """
    for name, value in (("--eps-L", eps_L), ("--eps-R", eps_R), ("--m", m), ("--mu0", mu0), ("--bias", bias)):
        check_finite(name, value)
    for name, value in (("--gamma-L", gamma_L), ("--gamma-R", gamma_R), ("--gamma-ph", gamma_ph)):
        check_nonnegative(name, value)
    for name, value in (("--omega", omega), ("--T-e", T_e), ("--T-ph", T_ph), ("--spin-degeneracy", spin_degeneracy)):
        check_positive(name, value)
    if panels < 1:
        fail(f"--panels must be ≥ 1 (got {panels})")

    import equinox as eqx
    import numpy as np

    from .. import Baths, FrequencyQuadrature, __version__, cooling_cop, currents
    from .._currents import misses_tolerance

    junction, modes, model_info = _load_model(model, eps_L, eps_R, gamma_L, gamma_R, m, omega, gamma_ph,
                                              spin_degeneracy)
    if junction.n_modes != modes.n_modes:
        fail(f"model: M has {junction.n_modes} modes but K has {modes.n_modes}")
    baths = Baths.biased(bias, mu0, T_e, T_ph)
    quadrature = FrequencyQuadrature(panels=panels, warn=False)
    res = eqx.filter_jit(currents)(junction, modes, baths, quadrature=quadrature)  # compiled: ~3x faster than eager
    channels = ("LL", "RR", "RL", "LR")
    out = {
        "inputs": {**model_info, "mu0": mu0, "V": bias, "mu_L": float(baths.mu_L), "mu_R": float(baths.mu_R),
                   "T_e": T_e, "T_ph": T_ph, "panels": panels},
        "J": float(res.J),
        "J_channels": {c: float(v) for c, v in zip(channels, np.asarray(res.J_channels))},
        "N_channels": {c: float(v) for c, v in zip(channels, np.asarray(res.N_channels))},
        "I": float(res.I),
        "I_elastic": float(res.I_elastic),
        "P": float(res.P),
        "entropy_production": float(res.entropy_production),
        "cooling_cop": float(cooling_cop(res)),
        "J_error": float(res.J_error),
        "I_error": float(res.I_error),
        "units": {"J": "hbar*Omega^2", "I": "e*Omega", "P": "hbar*Omega^2", "entropy_production": "k_B*Omega",
                  "N_channels": "Omega (bosons per 1/Omega)"},
        "version": __version__,
    }
    if misses_tolerance(out["J"], out["J_error"], 1e-6) or misses_tolerance(out["I"], out["I_error"], 1e-6):
        typer.echo(f"ehpjax: warning: quadrature error estimate J ± {out['J_error']:.1e}, I ± {out['I_error']:.1e} "
                   "exceeds 1e-6 * max(|value|, 1e-4); try a larger --panels", err=True)
    if as_json:
        print_json(out)
        return
    i = out["inputs"]
    lines = [
        f"{model_info['model']} junction, {junction.n_levels} levels, {modes.n_modes} mode(s);  "
        f"μ_L = {i['mu_L']:g}, μ_R = {i['mu_R']:g} (V = {bias:g}), T_e = {T_e:g}, T_ph = {T_ph:g}",
        f"J     = {out['J']: .9e}  ħΩ²   energy current e-bath → modes (> 0 heats the modes)",
        *(f"  J^{c} = {out['J_channels'][c]: .9e}  ħΩ²   EHP channel {c} (μ_{c} = "
          f"{[0.0, 0.0, -bias, bias][k] + 0.0:g})" for k, c in enumerate(channels)),
        f"I     = {out['I']: .9e}  eΩ    boson-assisted charge current L → R",
        f"I_el  = {out['I_elastic']: .9e}  eΩ    elastic (Landauer) charge current L → R",
        f"P     = {out['P']: .9e}  ħΩ²   power I·V",
        f"σ     = {out['entropy_production']: .9e}  k_BΩ  entropy production (P − J)/T_e + J/T_ph",
    ]
    if out["cooling_cop"] > 0:
        lines.append(f"COP   = {out['cooling_cop']: .6g}          cooling coefficient of performance −J/P")
    typer.echo("\n".join(lines))


def reproduce_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (created if missing) for fig3.png … "
                                      "fig6.png, fig3.csv … fig6.csv and params.json.")] = Path("figures"),
    quick: Annotated[bool, typer.Option("--quick", help="Coarse grids (same physics, a few seconds): for smoke "
                                        "tests, not for publication.")] = False,
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of the PNG files (dots per inch).")] = 200,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar on stderr.")] = True,
):
    """Reproduce the paper's Figs. 3–6 (PNG), their data (CSV) and all parameters (params.json).

    Fig. 3: heat current J(ΔT) and rectification R(ΔT) at T0 = 0.5 for μ = 9 … 11.

    Fig. 4: thermoelectric charge current I(ΔT), same parameters.

    Fig. 5: J(V) at T_e = T_ph = T = 0.1 … 0.4, μ0 = 10: the electronic cooling window.

    Fig. 6: mode frequencies and eigenvector overlap of Eq. 9 against V: the exceptional point.

    Units: ħ = k_B = e = 1 and ħΩ = 1, so ΔT and T are in ħΩ/k_B, μ in ħΩ, V in ħΩ/e, J and P in ħΩ², I in eΩ.
    Each CSV has a one-line header naming the columns with their units. Takes about 20 s on 2 CPU cores.
    """
    if dpi < 10 or dpi > 2000:
        fail(f"--dpi must be between 10 and 2000 (got {dpi})")
    check_writable_dir(out)
    start = time.perf_counter()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from tqdm import tqdm

    from .. import __version__, figures

    settings = figures.PaperSettings.quick() if quick else figures.PaperSettings()
    steps = ["Figs. 3–4: currents vs ΔT", "Fig. 5: currents vs V", "Fig. 6: Eq. 9 spectrum", "Fig. 3: plot",
             "Fig. 4: plot", "Fig. 5: plot", "Fig. 6: plot", "params.json"]
    written = []
    with tqdm(total=len(steps), desc="ehpjax reproduce", unit="step", disable=not progress, file=sys.stderr,
              leave=False) as bar:

        def advance(k):
            bar.set_postfix_str(steps[k])

        advance(0)
        thermal = figures.thermal_bias_data(settings)
        bar.update()
        advance(1)
        cooling = figures.cooling_data(settings)
        bar.update()
        advance(2)
        ep = figures.exceptional_point_data(settings)
        bar.update()
        jobs = [("fig3", figures.plot_fig3, figures.fig3_table, thermal),
                ("fig4", figures.plot_fig4, figures.fig4_table, thermal),
                ("fig5", figures.plot_fig5, figures.fig5_table, cooling),
                ("fig6", figures.plot_fig6, figures.fig6_table, ep)]
        for k, (name, plot, table, data) in enumerate(jobs, start=3):
            advance(k)
            fig = plot(data)
            fig.savefig(out / f"{name}.png", dpi=dpi)
            plt.close(fig)
            figures.write_csv(out / f"{name}.csv", *table(data))
            written += [f"{name}.png", f"{name}.csv"]
            bar.update()
        advance(7)
        params = _params_record(settings, thermal, cooling, ep, __version__, quick)
        params["run_time_s"] = round(time.perf_counter() - start, 2)
        (out / "params.json").write_text(json.dumps(params, indent=2, ensure_ascii=False) + "\n")
        written.append("params.json")
        bar.update()

    elapsed = time.perf_counter() - start
    edges = ", ".join(f"T = {T:g}: {e:.2f}" if np.isfinite(e) else f"T = {T:g}: none in grid"
                      for T, e in zip(cooling["T"], cooling["window_edges"]))
    typer.echo(f"wrote {len(written)} files to {out} in {elapsed:.1f} s")
    typer.echo(f"  Fig. 5 cooling-window edges: {edges}")
    typer.echo(f"  Fig. 6 V_EP (γ → 0) = {ep['V_ep_lossless']:.6f}; closest approach at γ = {settings.ep_gamma:g}: "
               f"V = {ep['V_closest']:.6f}, overlap {ep['overlap_closest']:.6f}")


def _params_record(settings, thermal, cooling, ep, version, quick) -> dict:
    import jax
    import numpy as np

    return {
        "ehpjax_version": version,
        "jax_version": jax.__version__,
        "quick": quick,
        "units": "hbar = k_B = e = 1, mode energy hbar*Omega = 1; J, P in hbar*Omega^2, I in e*Omega",
        "settings": settings.to_dict(),
        "model": {
            "junction": "two-level (paper Fig. 2): H = diag(eps_L, eps_R), Gamma_L = gamma_L|1><1|, "
                        "Gamma_R = gamma_R|2><2|, M = m(|1><2| + |2><1|), one mode K = omega^2, eta = gamma_ph",
            "order": "lowest order in the e-bath (paper Eq. 8)",
        },
        "figures": {
            "fig3": "J(delta_T) and R(delta_T), mu_L = mu_R = mu, T_e = T0 + delta_T/2, T_ph = T0 - delta_T/2",
            "fig4": "I(delta_T), same grid as fig3",
            "fig5": "J(V), T_e = T_ph = T, mu_L,R = mu0 +- V/2",
            "fig6": "mode frequencies (square roots of the eigenvalues of Eq. 9, Re >= 0) and eigenvector overlap",
        },
        "choices": {
            "T0": "mean temperature of Figs. 3-4 (not printed in the paper)",
            "gamma_ph": "printed 'gamma_L = gamma_R = 0.5 = m = 0.5' read as gamma_ph = 0.5 (SPEC 7)",
            "delta_T": "symmetric grid, |delta_T| <= 0.8 so that T_e, T_ph >= 0.1",
            "symmetry": "mu and 20 - mu give identical J and I (particle-hole + L<->R symmetry of the model)",
        },
        "results": {
            "fig3_max_relative_quadrature_error_J": thermal["J_rel_error"],
            "fig4_max_relative_quadrature_error_I": thermal["I_rel_error"],
            "fig5_max_relative_quadrature_error_J": cooling["J_rel_error"],
            "fig5_cooling_window_edges": {f"T={T:g}": (float(e) if np.isfinite(e) else None)
                                          for T, e in zip(cooling["T"], cooling["window_edges"])},
            "fig6_V_EP_lossless": ep["V_ep_lossless"],
            "fig6_V_closest_approach": ep["V_closest"],
            "fig6_gap_at_closest_approach": ep["gap_closest"],
            "fig6_overlap_at_closest_approach": ep["overlap_closest"],
        },
    }


def command_help(doc: str) -> str:
    """A docstring as help text: paragraphs re-joined into single lines (the rich help
    formatter keeps the docstring's line breaks otherwise)."""
    import inspect

    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def register(app: typer.Typer) -> None:
    """Built-in commands."""
    app.command("reproduce", help=command_help(reproduce_command.__doc__))(reproduce_command)
    app.command("currents", help=command_help(currents_command.__doc__))(currents_command)


def _register_all(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        if name in (__name__, "ehpjax.cli"):
            module = sys.modules[__name__]
        else:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as e:
                if e.name != name:  # the module exists but one of its imports is missing: a real error
                    raise
                continue
        module.register(app)


_register_all(app)


if __name__ == "__main__":
    app()
