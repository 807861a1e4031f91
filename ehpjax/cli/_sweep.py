"""``ehpjax sweep CONFIG.toml --out results.nc`` and ``ehpjax plot results.nc --x NAME ...``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..sweeps import DEFAULT_CHUNK, plot_results, run_config

from ._options import parse_sets


def sweep_command(
    config: Path = typer.Argument(..., help="Sweep config (TOML): a model, a fixed table of values and an axes table to sweep."),
    out: Path = typer.Option(..., "--out", "-o", help="Output NetCDF file (an xarray Dataset)."),
    model: Optional[str] = typer.Option(None, "--model", help="Model (built-in name or model file) when the config "
                                        "names none."),
    sets: Optional[list[str]] = typer.Option(None, "--set", help="Fix a value, NAME=VALUE (repeatable; overrides "
                                             "the config's fixed table)."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", help=f"Points per jitted call (default: config "
                                             f"or {DEFAULT_CHUNK})."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
):
    """Evaluate the currents of a model over a grid of parameters into a NetCDF file.

    Names: the model's parameters (see `ehpjax models show NAME`) and the bath names mu0, V,
    mu_L, mu_R, T_e, T_ph (units ħΩ = k_B = e = 1). The config may name its model
    (model = "serial-chain" with a model_options table, or model = "my_model.toml", relative to
    the config); without one, the paper's two-level model. Axes are {start, stop, num} or
    explicit lists. Interrupted (Ctrl-C, killed), the same command resumes from the
    completed chunks kept (and verified) in OUT.partial/, which is removed once OUT is
    written. Several devices (GPUs, or forced host devices via
    XLA_FLAGS=--xla_force_host_platform_device_count=N) share each chunk.
    """
    try:
        path = run_config(config, out, overwrite=overwrite, chunk_size=chunk_size, progress=not quiet,
                          model=model, sets=parse_sets(sets or []))
    except KeyboardInterrupt:
        typer.echo(f"interrupted: completed chunks are kept in {out}.partial/; run the same command to resume",
                   err=True)
        raise typer.Exit(130) from None
    typer.echo(f"wrote {path}")


def plot_command(
    results: Path = typer.Argument(..., help="NetCDF file written by `ehpjax sweep`."),
    x: str = typer.Option(..., "--x", help="Swept name on the horizontal axis."),
    y: Optional[str] = typer.Option(None, "--y", help="Swept name on the vertical axis (gives a colour map)."),
    var: str = typer.Option("J", "--var", help="Variable to plot (J, I, P, J_LR, …)."),
    out: Optional[Path] = typer.Option(
        None, "--out", "-o", help="PNG file (default: RESULTS_VAR_X.png, or RESULTS_VAR_X_Y.png for a colour map)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing PNG file."),
):
    """Plot a variable of a sweep: a line over --x, or a colour map over --x and --y.

    Axes and colour bar carry symbol and unit; the title names the values held fixed
    (other swept names are taken at their first value).
    """
    path = plot_results(results, x=x, var=var, y=y, out=out, overwrite=overwrite)
    typer.echo(f"wrote {path}")


def _help(doc: str) -> str:
    import inspect

    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(doc or "").split("\n\n"))


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` and ``plot`` commands to ``app``."""
    app.command("sweep", help=_help(sweep_command.__doc__))(sweep_command)
    app.command("plot", help=_help(plot_command.__doc__))(plot_command)
