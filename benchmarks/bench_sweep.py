"""Sweep benchmark: throughput versus chunk size, a three-dot chain versus the two-level
model, and peak memory versus sweep size.

    python benchmarks/bench_sweep.py [chunks] [models] [memory]

chunks: the paper's two-level model (docs/physics.md §7), T_e = T_ph = 0.3, μ0 = 10,
sweeping V and ε_L (20 000 points) at several chunk sizes.
models: 10⁴ points of a serial three-dot chain with two modes (one on each bond,
``models.get("serial-chain", n=3, mode=["bond:1", "bond:2"])``) against 10⁴ points of the
two-level model, both sweeping V and one level; points per second and cost per point.
memory: how much the resident set of a process grows (peak, Linux VmHWM) while it runs
``ehpjax sweep``'s code path (config → NetCDF file), beyond its size after a warm-up sweep
that compiled everything, for 2·10⁴ and 2·10⁵ points (target: flat — results stream to
disk); ``old=PATH`` adds the same numbers for the code at PATH (e.g. a checkout from before).
Each child runs its sweep twice and times the second (warm) run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CHILD = r"""
import json, os, resource, sys, tempfile, time
import numpy as np, ehpjax
from ehpjax.sweeps import _run
kind, n_a, n_b, chunk = sys.argv[1], *(int(a) for a in sys.argv[2:5])
fixed = {"T_e": 0.3, "T_ph": 0.3, "mu0": 10.0}
if kind == "two-level":
    model, axes = "two-level", {"V": np.linspace(-3.0, 3.0, n_a), "eps_L": np.linspace(9.5, 11.5, n_b)}
else:
    model = ehpjax.models.get("serial-chain", n=3, mode=["bond:1", "bond:2"])
    axes = {"V": np.linspace(-3.0, 3.0, n_a), "eps1": np.linspace(9.5, 11.5, n_b)}
kw = dict(model=model, fixed=fixed, chunk_size=chunk, progress=False)
_run.QUICK_RENT = 0.0  # (the program of a sweep called many times: after a first run, XLA's defaults)
for _ in range(2):  # compile every rule (the first run with XLA's quick settings, the next with its defaults)
    ehpjax.sweep(axes, **kw)
start = time.perf_counter()
ds = ehpjax.sweep(axes, **kw)
elapsed = time.perf_counter() - start
print(json.dumps({"points": int(ds.J.size), "seconds": elapsed}))
"""

MEMORY_CHILD = r"""
import json, os, sys, tempfile
n_V, which = int(sys.argv[1]), sys.argv[2]
folder = tempfile.mkdtemp()


def config(n):
    path = os.path.join(folder, f"sweep{n}.toml")
    with open(path, "w") as fh:
        fh.write(f"preset = 'paper'\n[fixed]\nT_e = 0.3\nT_ph = 0.3\nmu0 = 10.0\n[axes]\n"
                 f"V = {{start = -3.0, stop = 3.0, num = {n}}}\neps_L = {{start = 9.5, stop = 11.5, num = 100}}\n")
    return path


def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key)) / 1024


if which == "new":
    from ehpjax.sweeps import run_config as run
else:  # the code before the sweeps package (ehpjax._sweep_cli), for comparison
    from ehpjax._sweep_cli import run_sweep as run
small = config(6)
run(small, small.replace(".toml", ".nc"), progress=False)  # compile every rule for 512-point chunks
base = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak (VmHWM) to the current RSS
big = config(n_V)
run(big, big.replace(".toml", ".nc"), progress=False)
print(json.dumps({"points": n_V * 100, "base_mb": base, "peak_mb": status("VmHWM:")}))
"""


def run(*args, code=CHILD, env=None):
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True, capture_output=True, text=True,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def chunks():
    print("== points per second versus chunk size (20 000 points, two-level model) ==")
    print(f"{'chunk':>8}{'points/s':>12}{'seconds':>10}")
    for chunk in (256, 512, 1024, 4096):
        r = run("two-level", 200, 100, chunk)
        print(f"{chunk:>8}{r['points'] / r['seconds']:>12.0f}{r['seconds']:>10.2f}")


def models():
    print("\n== three-dot chain with two modes versus the two-level model (10^4 points, chunk 512) ==")
    print(f"{'model':>28}{'points/s':>12}{'ms/point':>10}")
    rates = {}
    for kind, label in (("two-level", "two-level"), ("chain", "serial-chain n=3, 2 modes")):
        r = run(kind, 100, 100, 512)
        rates[kind] = r["points"] / r["seconds"]
        print(f"{label:>28}{rates[kind]:>12.0f}{1e3 / rates[kind]:>10.3f}")
    print(f"cost per point, chain / two-level: {rates['two-level'] / rates['chain']:.2f}")


STREAM_CHILD = r"""
import json, sys, tempfile, numpy as np, jax.numpy as jnp
from ehpjax.sweeps import sweep_to_file


def fn(j, m, b):  # 15 outputs like the currents, at almost no cost: only the store and the file are measured
    x = jnp.real(j.H[0, 0]) * b.T_e + b.mu_L
    return {f"o{k}": x + k for k in range(15)}


def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key)) / 1024


folder, rows = tempfile.mkdtemp(), []
kw = dict(fn=fn, name="fifteen", chunk_size=512, progress=False, fixed={"T_e": 0.3})
sweep_to_file(f"{folder}/warm.nc", {"V": np.linspace(-1, 1, 10), "eps_L": np.linspace(9, 11, 100)}, **kw)
for n in (2000, 20000):
    base = status("VmRSS:")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    sweep_to_file(f"{folder}/r{n}.nc", {"V": np.linspace(-1, 1, n), "eps_L": np.linspace(9, 11, 100)}, **kw)
    rows.append({"points": n * 100, "growth_mb": status("VmHWM:") - base})
print(json.dumps(rows))
"""


def memory(old_path: str | None = None):
    import os

    print("\n== memory of `ehpjax sweep` beyond the compiled program (config → NetCDF, chunk 512) ==")
    print("(peak RSS while the sweep runs and its file is written, minus the RSS after a warm-up sweep)")
    print(f"{'code':>6}{'points':>10}{'growth [MB]':>14}{'bytes/point':>14}")
    versions = [("new", None)] + ([("old", old_path)] if old_path else [])
    for which, path in versions:
        env = dict(os.environ, PYTHONPATH=path) if path else None
        for n_V in (200, 2000):
            r = run(n_V, which, code=MEMORY_CHILD, env=env)
            growth = r["peak_mb"] - r["base_mb"]
            print(f"{which:>6}{r['points']:>10}{growth:>14.1f}{growth * 2**20 / r['points']:>14.0f}")
    print("\n== the same for 15 cheap outputs up to 2·10⁶ points (240 MB of results) ==")
    for row in json.loads(subprocess.run([sys.executable, "-c", STREAM_CHILD], check=True, capture_output=True,
                                         text=True).stdout.strip().splitlines()[-1]):
        print(f"{'new':>6}{row['points']:>10}{row['growth_mb']:>14.1f}{row['growth_mb'] * 2**20 / row['points']:>14.1f}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    parts = sys.argv[1:] or ["chunks", "models", "memory"]
    for part in parts:
        if part.startswith("old="):  # memory of the code before the sweeps package: old=/path/to/checkout
            continue
        old = next((p[4:] for p in parts if p.startswith("old=")), None)
        {"chunks": chunks, "models": models, "memory": lambda: memory(old)}[part]()
    print(f"(benchmark took {time.perf_counter() - t0:.0f} s)")
