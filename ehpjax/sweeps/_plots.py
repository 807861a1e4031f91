"""Plots of a sweep's NetCDF file: a line over one swept name, or a colour map over two.

Axes and colour bars carry symbol and unit (``_quantities`` for the currents and the bath
names; the file's ``units``/``long_name`` attributes, written from the model's parameters,
for the rest). A quantity that changes sign gets a diverging colour map centred on zero,
with ticks on both sides. The title names every value held fixed.
"""

from __future__ import annotations

import os
import re
import textwrap

import numpy as np

from .._quantities import QUANTITIES
from ._atomic import atomic_path, check_output
from ._spec import SweepError

_GREEK = {"eps": "\\varepsilon", "epsilon": "\\varepsilon", "gamma": "\\gamma", "omega": "\\omega",
          "mu": "\\mu", "phi": "\\phi", "theta": "\\theta", "delta": "\\delta", "eta": "\\eta",
          "lambda": "\\lambda", "kappa": "\\kappa", "alpha": "\\alpha", "beta": "\\beta", "tau": "\\tau",
          "Gamma": "\\Gamma", "Delta": "\\Delta", "Omega": "\\Omega", "Phi": "\\Phi"}


def symbol(name: str) -> str:
    """Mathtext symbol of a name: from ``_quantities``, else built from the name
    ("eps1" → $\\varepsilon_{1}$, "gamma_ph2" → $\\gamma_{\\mathrm{ph}2}$, "t" → $t$)."""
    if name in QUANTITIES:
        return QUANTITIES[name]["symbol"]
    head, *rest = name.split("_")
    match = re.fullmatch(r"([A-Za-z]+?)(\d*)", head)
    parts = [re.fullmatch(r"([A-Za-z]*)(\d*)", part) for part in rest]
    if not match or not all(parts):
        return name.replace("_", "\\_")
    base, digits = match.groups()
    base = _GREEK.get(base, base if len(base) == 1 else f"\\mathrm{{{base}}}")
    subscript = digits + "".join((f"\\mathrm{{{p[1]}}}" if len(p[1]) > 1 else p[1]) + p[2] for p in parts)
    return f"${base}_{{{subscript}}}$" if subscript else f"${base}$"


def label(name: str, attrs: dict) -> str:
    """Axis label "symbol (unit)" of a variable or coordinate with NetCDF attributes."""
    unit = attrs.get("units", QUANTITIES.get(name, {}).get("unit", ""))
    return symbol(name) if unit in ("", "1") else f"{symbol(name)} ({unit})"


def _open(results):
    import xarray as xr

    path = os.fspath(results)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as err:
        raise SweepError(f"cannot read results {path!r}: {err.strerror}") from None
    if magic not in (b"CDF\x01", b"CDF\x02"):
        raise SweepError(f"{path!r} is not a NetCDF-3 file as written by `ehpjax sweep`")
    try:
        return xr.open_dataset(path, engine="scipy")
    except (OSError, ValueError, TypeError) as err:
        raise SweepError(f"cannot read results {path!r}: {err}") from None


def _diverging(lo: float, hi: float):
    """Norm and ticks for data of both signs: symmetric about 0 when the two sides are of
    comparable size, else two linear slopes (ticks on both sides mark the scale)."""
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.ticker import MaxNLocator

    if min(-lo, hi) >= 0.2 * max(-lo, hi):
        a = max(-lo, hi)
        return Normalize(-a, a), None
    locate = MaxNLocator(nbins=4)
    below = [t for t in locate.tick_values(lo, 0.0) if lo <= t < 0]
    above = [t for t in locate.tick_values(0.0, hi) if 0 < t <= hi]
    return TwoSlopeNorm(vmin=lo, vcenter=0.0, vmax=hi), [*below, 0.0, *above]


def _fixed_text(ds, data, held: dict) -> str:
    """"symbol = value" of every value held fixed in the file and in this plot."""
    items = []
    for key in sorted(ds.attrs):
        if key.startswith("fixed_") and key != "fixed_parameters":
            items.append((key[len("fixed_"):], float(ds.attrs[key])))
    items += list(held.items())
    return ", ".join(f"{symbol(k)} = {v:.4g}" for k, v in items)


def plot_results(results, x: str, var: str = "J", y: str | None = None, out=None, ax=None,
                 overwrite: bool = False):
    """A line of ``var`` over ``x``, or a colour map over ``x`` and ``y``; other dimensions
    are taken at their first value (named in the title). With ``ax``, draws there and
    returns it; else writes a PNG (default RESULTS_VAR_X.png, or RESULTS_VAR_X_Y.png for a colour
    map; an existing file only with ``overwrite``) and returns its path."""
    if y is not None and y == x:
        raise SweepError(f"--x and --y are both {x!r}; give two different swept names")
    if ax is None:
        stem = os.path.splitext(os.fspath(results))[0]
        out = os.fspath(out) if out else "_".join([stem, var, x, *([y] if y else [])]) + ".png"
    ds = _open(results)
    with ds:
        if var not in ds.data_vars:
            raise SweepError(f"unknown variable {var!r} (available: {', '.join(ds.data_vars)})")
        data = ds[var].load()
        dims = {}
        for name in [x] + ([y] if y else []):
            if name in data.dims:
                dims[name] = name
            elif name in ds.coords and ds[name].ndim == 1 and ds[name].dims[0] in data.dims:
                dims[name] = ds[name].dims[0]  # a coordinate of a flat sweep ("point")
            else:
                raise SweepError(f"{name!r} is not swept in {os.fspath(results)!r} (swept: "
                                 f"{', '.join(c for c in ds.coords)})")
        if y is not None and dims[x] == dims[y]:
            raise SweepError(f"{x!r} and {y!r} lie along the same dimension {dims[x]!r} (a flat sweep); "
                             "a colour map needs a product sweep")
        if ax is None:  # (after the names: a wrong --x is reported before an existing file)
            check_output(out, overwrite, "plot")
        others = [d for d in data.dims if d not in dims.values()]
        held = {d: float(data[d][0]) for d in others if d in data.coords}
        data = data.isel({d: 0 for d in others})
        return _draw(ds, data, var, x, y, dims, held, out, ax)


def _draw(ds, data, var, x, y, dims, held, out, ax):
    import matplotlib

    own = ax is None
    if own:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if own:
        fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=150)
    var_label = label(var, data.attrs)
    if y is None:
        xs = np.asarray(ds[x].values if dims[x] != x else data[x].values)
        order = np.argsort(xs, kind="stable")
        ax.plot(xs[order], np.asarray(data.values)[order], lw=1.8, marker="o" if xs.size < 30 else None, ms=3)
        ax.set_xlabel(label(x, ds[x].attrs))
        ax.set_ylabel(var_label)
        if np.nanmin(data.values) < 0 < np.nanmax(data.values):
            ax.axhline(0, color="0.6", lw=0.8)
    else:
        values = np.asarray(data.transpose(dims[y], dims[x]).values)
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        if lo < 0 < hi:
            norm, ticks = _diverging(lo, hi)
            cmap = "RdBu_r"
        else:
            norm, ticks, cmap = None, None, "viridis"
        mesh = ax.pcolormesh(ds[x].values, ds[y].values, values, cmap=cmap, norm=norm, shading="auto")
        bar = ax.figure.colorbar(mesh, ax=ax, ticks=ticks)
        bar.set_label(var_label)
        ax.set_xlabel(label(x, ds[x].attrs))
        ax.set_ylabel(label(y, ds[y].attrs))
    description = data.attrs.get("long_name", var)
    fixed = _fixed_text(ds, data, held)
    title = textwrap.fill(f"{description}", 80)
    if fixed:
        title += "\n" + textwrap.fill(f"model {ds.attrs.get('model', '')}: {fixed}", 90)
    ax.set_title(title, fontsize=7.5)
    if not own:
        return ax
    fig.tight_layout()
    try:
        with atomic_path(out, overwrite=True, what="plot") as tmp:
            fig.savefig(tmp, format="png")
    except OSError as err:
        raise SweepError(f"cannot write plot {out!r}: {err.strerror or err}") from None
    finally:
        plt.close(fig)
    return out
