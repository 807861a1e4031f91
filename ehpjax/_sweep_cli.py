"""``ehpjax sweep CONFIG.toml --out results.nc`` and ``ehpjax plot results.nc ...``.

Config format (TOML)::

    preset = "paper"          # optional: SPEC 7's model supplies every parameter not given
    mode = "product"          # optional: "product" (cartesian) or "flat" (equal-length lists)
    chunk_size = 512          # optional: points per jitted call
    [fixed]
    T_e = 0.3
    [axes]
    V = {start = -2.0, stop = 2.0, num = 41}     # linspace
    eps_L = [10.0, 10.5, 11.0]                   # explicit values
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import numpy as np

from ._sweep import DEFAULT_CHUNK, PARAMETERS, SweepError

_TOP_KEYS = {"preset", "mode", "chunk_size", "fixed", "axes"}


def _axis_values(name: str, spec) -> np.ndarray:
    if isinstance(spec, dict):
        unknown = set(spec) - {"start", "stop", "num"}
        if unknown:
            raise SweepError(f"axis {name!r}: unknown key {sorted(unknown)[0]!r} (use start, stop, num)")
        missing = {"start", "stop", "num"} - set(spec)
        if missing:
            raise SweepError(f"axis {name!r}: missing key {sorted(missing)[0]!r}")
        num = spec["num"]
        if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
            raise SweepError(f"axis {name!r}: num must be a positive integer, got {num!r}")
        return np.linspace(float(spec["start"]), float(spec["stop"]), num)
    if isinstance(spec, list):
        if not spec or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
            raise SweepError(f"axis {name!r}: expected a non-empty list of numbers")
        return np.asarray(spec, dtype=np.float64)
    raise SweepError(f"axis {name!r}: expected a list of values or {{start, stop, num}}")


def load_config(path: str | os.PathLike) -> dict:
    """Read and validate a sweep config; returns keyword arguments for ``ehpjax.sweep``."""
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise SweepError(f"cannot read config {os.fspath(path)!r}: no such file") from None
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SweepError(f"cannot read config {os.fspath(path)!r}: {err}") from None
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise SweepError(f"unknown key {sorted(unknown)[0]!r} in config (known: {', '.join(sorted(_TOP_KEYS))})")
    fixed = raw.get("fixed", {})
    axes = raw.get("axes", {})
    if not isinstance(fixed, dict) or not isinstance(axes, dict):
        raise SweepError("[fixed] and [axes] must be tables")
    for name, value in fixed.items():
        if name not in PARAMETERS:
            raise SweepError(f"unknown parameter {name!r} in [fixed] (known: {', '.join(PARAMETERS)})")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SweepError(f"fixed parameter {name!r} must be a number, got {value!r}")
    for name in axes:
        if name not in PARAMETERS:
            raise SweepError(f"unknown parameter {name!r} in [axes] (known: {', '.join(PARAMETERS)})")
    preset = raw.get("preset", None)
    if preset == "none":
        preset = None
    chunk_size = raw.get("chunk_size", DEFAULT_CHUNK)
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size <= 0:
        raise SweepError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return dict(
        axes={name: _axis_values(name, spec) for name, spec in axes.items()},
        fixed={k: float(v) for k, v in fixed.items()},
        preset=preset,
        mode=raw.get("mode", "product"),
        chunk_size=chunk_size,
    )


def run_sweep(config: str | os.PathLike, out: str | os.PathLike, chunk_size: int | None = None,
              progress: bool = True) -> Path:
    """Run a config into a NetCDF file; resumable through ``OUT.partial/`` (see ``ehpjax.sweep``)."""
    from ._sweep import sweep

    kwargs = load_config(config)
    if chunk_size is not None:
        kwargs["chunk_size"] = chunk_size
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise SweepError(f"cannot write {os.fspath(out)!r}: folder {os.fspath(out.parent)!r} does not exist")
    if not os.access(out.parent if str(out.parent) else ".", os.W_OK):
        raise SweepError(f"cannot write {os.fspath(out)!r}: folder is not writable")
    dataset = sweep(**kwargs, checkpoint=f"{out}.partial", progress=progress)
    dataset.attrs["config"] = Path(config).read_text()
    tmp = out.with_name(f".{out.name}.tmp.nc")
    dataset.to_netcdf(os.fspath(tmp), engine="scipy")
    os.replace(tmp, out)
    return out


def plot_results(results: str | os.PathLike, x: str, var: str = "J", y: str | None = None,
                 out: str | os.PathLike | None = None, ax=None):
    """A 1-D line (x only) or a 2-D colour map (x and y) of ``var``; other dimensions are
    taken at their first value (named in the title). Returns the PNG path (or the axes)."""
    import matplotlib

    if ax is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    try:
        ds = xr.open_dataset(results, engine="scipy")
    except (OSError, ValueError) as err:
        raise SweepError(f"cannot read results {os.fspath(results)!r}: {err}") from None
    with ds:
        if var not in ds.data_vars:
            raise SweepError(f"unknown variable {var!r} (available: {', '.join(ds.data_vars)})")
        data = ds[var].load()
        for name in [x] + ([y] if y else []):
            if name not in data.dims:
                raise SweepError(f"{name!r} is not a dimension of {var!r} (dimensions: {', '.join(data.dims)})")
        others = [d for d in data.dims if d not in (x, y)]
        fixed_at = {d: float(data[d][0]) for d in others}
        data = data.isel({d: 0 for d in others})
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=150)
        from matplotlib.colors import TwoSlopeNorm

        unit = "[ħΩ]"  # every swept parameter is an energy, frequency or temperature
        if y is None:
            ax.plot(data[x], data, lw=1.8)
            ax.set_xlabel(f"{x} {unit}")
            ax.set_ylabel(var)
            ax.axhline(0, color="0.6", lw=0.8)
        else:
            values = data.transpose(y, x)
            lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
            # Diverging colours split at 0 (blue < 0 < red) when the sign changes.
            norm = TwoSlopeNorm(vmin=lo, vcenter=0.0, vmax=hi) if lo < 0 < hi else None
            mesh = ax.pcolormesh(data[x], data[y], values, cmap="RdBu_r" if norm else "viridis", norm=norm,
                                 shading="auto")
            plt.colorbar(mesh, ax=ax, label=var)
            ax.set_xlabel(f"{x} {unit}")
            ax.set_ylabel(f"{y} {unit}")
        title = f"{var}: {ds[var].attrs.get('description', '')}\nunits ħΩ = k_B = e = 1"
        if fixed_at:
            title += "; " + ", ".join(f"{k} = {v:g}" for k, v in fixed_at.items())
        ax.set_title(title, fontsize=8)
        if not own:
            return ax
        out = Path(out) if out else Path(results).with_name(f"{Path(results).stem}_{var}.png")
        fig.tight_layout()
        fig.savefig(out)
        plt.close(fig)
        return out


# ---------------------------------------------------------------------------
# typer commands (registered on the ``ehpjax`` app by ``register``)
# ---------------------------------------------------------------------------
import typer  # noqa: E402


def sweep_command(
    config: Path = typer.Argument(..., help="Sweep config (TOML): a preset, a 'fixed' table of parameters and an 'axes' table to sweep."),
    out: Path = typer.Option(..., "--out", "-o", help="Output NetCDF file (xarray Dataset)."),
    chunk_size: int = typer.Option(None, "--chunk-size", help=f"Points per jitted call (default: config or {DEFAULT_CHUNK})."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
):
    """Evaluate the currents over a grid of parameters (units ħΩ = k_B = e = 1) into a NetCDF file.

    Parameter names: eps_L, eps_R, gamma_L, gamma_R, m, omega, gamma_ph, mu0, V, mu_L, mu_R,
    T_e, T_ph. Axes are {start, stop, num} or explicit lists. The default preset "paper" is
    SPEC 7's two-level model. Interrupted (Ctrl-C, killed), the same command resumes from the
    completed chunks kept in OUT.partial/. Several devices (GPUs, or forced host devices
    via XLA_FLAGS=--xla_force_host_platform_device_count=N) share each chunk.
    """
    try:
        path = run_sweep(config, out, chunk_size=chunk_size, progress=not quiet)
    except SweepError as err:
        typer.echo(f"ehpjax: error: {err}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo(f"interrupted: completed chunks are kept in {out}.partial/; run the same command to resume",
                   err=True)
        raise typer.Exit(130) from None
    typer.echo(f"wrote {path}")


def plot_command(
    results: Path = typer.Argument(..., help="NetCDF file written by `ehpjax sweep`."),
    x: str = typer.Option(..., "--x", help="Dimension on the horizontal axis."),
    y: str = typer.Option(None, "--y", help="Dimension on the vertical axis (gives a 2-D colour map)."),
    var: str = typer.Option("J", "--var", help="Variable to plot (J, I, P, J_LR, …)."),
    out: Path = typer.Option(None, "--out", "-o", help="PNG file (default: RESULTS_VAR.png)."),
):
    """Plot a variable of a sweep: a line over --x, or a colour map over --x and --y."""
    try:
        path = plot_results(results, x=x, var=var, y=y, out=out)
    except SweepError as err:
        typer.echo(f"ehpjax: error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    from .cli import command_help

    app.command("sweep", help=command_help(sweep_command.__doc__))(sweep_command)
    app.command("plot", help=command_help(plot_command.__doc__))(plot_command)
