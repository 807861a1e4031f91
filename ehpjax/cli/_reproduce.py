"""``ehpjax reproduce``: the paper's Figs. 3–6 as PNG, their data as CSV, and params.json."""

from __future__ import annotations

import io
import math
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from .._errors import EhpjaxError
from ._options import OverwriteOption, check_target, help_text, strict_json, write_atomic

FIGURES = ("fig3", "fig4", "fig5", "fig6")
FILES = (*(f"{name}.{ext}" for name in FIGURES for ext in ("png", "csv")), "params.json")


def reproduce_command(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Output folder (created if missing) for "
                                      "fig3.png … fig6.png, fig3.csv … fig6.csv and params.json.")] = Path("figures"),
    quick: Annotated[bool, typer.Option("--quick", help="Coarse grids (same physics, a few seconds once the "
                                        "compiled programs are cached): for smoke tests, not for publication.")] = False,
    dpi: Annotated[int, typer.Option("--dpi", metavar="N", help="Resolution of the PNG files in dots per inch "
                                     "(10 … 2000).")] = 200,
    overwrite: OverwriteOption = False,
    progress: Annotated[bool, typer.Option("--progress", help="Report each step on stderr.")] = False,
):
    """Reproduce the paper's Figs. 3–6 (PNG), their data (CSV) and every parameter (params.json).

    Fig. 3: heat current J(ΔT) and rectification R(ΔT) at T0 = 0.5 for μ = 9 … 11.

    Fig. 4: thermoelectric charge current I(ΔT), same parameters.

    Fig. 5: J(V) at T_e = T_ph = T = 0.1 … 0.4, μ0 = 10: the electronic cooling window.

    Fig. 6: mode frequencies and eigenvector overlap of Eq. 9 against V: the exceptional point.

    Figs. 3–5 also show, dashed in the same colours, the currents with the mode dressed by the
    electrons (beyond the paper's lowest order); the CSV files carry them as *_dressed columns.

    Units: ħ = k_B = e = 1 and ħΩ = 1, so ΔT, T, μ and V are in ħΩ, J and P in ħΩ², I in eΩ. Each CSV has a
    one-line header naming the columns with their units. Existing output files are refused unless --overwrite;
    files are written atomically, and nothing is written if a step fails.
    """
    if not 10 <= dpi <= 2000:
        raise EhpjaxError(f"--dpi must be between 10 and 2000 (got {dpi})")
    _check_out(out, overwrite)
    start = time.perf_counter()

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: F401  (backend chosen before figures imports pyplot)

    from .. import figures

    settings = figures.PaperSettings.quick(dressed=True) if quick else figures.PaperSettings(dressed=True)
    say = (lambda text: typer.echo(f"  {text} …", err=True)) if progress else (lambda text: None)

    say("Figs. 3–5: currents")
    data = figures.paper_data(settings)
    thermal, cooling, ep = data["thermal"], data["cooling"], data["exceptional_point"]
    contents: dict[str, bytes] = {}
    for name, plot, table, fig_data in (("fig3", figures.plot_fig3, figures.fig3_table, thermal),
                                        ("fig4", figures.plot_fig4, figures.fig4_table, thermal),
                                        ("fig5", figures.plot_fig5, figures.fig5_table, cooling),
                                        ("fig6", figures.plot_fig6, figures.fig6_table, ep)):
        say(f"{name}: plot")
        contents[f"{name}.png"] = _png(plot(fig_data), dpi)
        contents[f"{name}.csv"] = figures.csv_text(*table(fig_data)).encode()
    params = figures.params_record(settings, thermal, cooling, ep)
    params["quick"] = quick
    params["run_time_s"] = round(time.perf_counter() - start, 2)
    contents["params.json"] = (strict_json(params) + "\n").encode()

    _write_all(out, contents, overwrite)
    elapsed = time.perf_counter() - start
    edges = ", ".join(f"T = {T:g}: none in grid" if math.isnan(e) else f"T = {T:g}: {e:.2f}"
                      for T, e in zip(cooling["T"], cooling["window_edges"]))
    typer.echo(f"wrote {len(contents)} files to {out} in {elapsed:.1f} s")
    typer.echo(f"  Fig. 5 cooling-window edges (ħΩ): {edges}")
    typer.echo(f"  Fig. 6 V_EP (γ → 0) = {ep['V_ep_lossless']:.6f}; closest approach at γ = {settings.ep_gamma:g}: "
               f"V = {ep['V_closest']:.6f}, overlap {ep['overlap_closest']:.6f}")


def _png(fig, dpi: int) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


def _check_out(out: Path, overwrite: bool) -> None:
    """Before any work: ``out`` is a folder or can be made one, the files can be written
    there, and none of them exists (unless ``overwrite``; then each must be a regular file)."""
    if out.exists() and not out.is_dir():
        raise EhpjaxError(f"--out '{out}' exists and is not a folder")
    if out.is_dir():
        existing = [name for name in FILES if os.path.lexists(out / name)]
        if existing and not overwrite:
            raise EhpjaxError(f"--out '{out}' already holds {', '.join(existing)}; pass --overwrite to replace "
                              "them (other files in the folder are never touched)")
        for name in existing:
            check_target(out / name, overwrite=True)
    ancestor = out
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise EhpjaxError(f"cannot write to --out '{out}': '{ancestor}' is not a writable folder")


def _write_all(out: Path, contents: dict[str, bytes], overwrite: bool) -> None:
    """Write every file atomically; if one fails, remove the ones this call created (and the
    folder, if this call created it and it is empty)."""
    created_folder = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EhpjaxError(f"cannot create --out '{out}': {e.strerror or e}") from None
    created = []
    try:
        for name, payload in contents.items():
            new = not os.path.lexists(out / name)
            write_atomic(out / name, payload, overwrite=overwrite)
            if new:
                created.append(out / name)
    except BaseException:
        for path in created:
            try:
                path.unlink()
            except OSError:
                pass
        if created_folder:
            try:
                out.rmdir()
            except OSError:
                pass
        raise


def register(app: typer.Typer) -> None:
    app.command("reproduce", help=help_text(reproduce_command.__doc__))(reproduce_command)

