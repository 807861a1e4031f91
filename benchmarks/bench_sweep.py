"""Sweep benchmark: throughput versus chunk size, a three-dot chain versus the two-level
model, and peak memory versus sweep size.

    python benchmarks/bench_sweep.py [chunks] [models] [memory]

chunks: the paper's two-level model (docs/physics.md §7), T_e = T_ph = 0.3, μ0 = 10,
sweeping V and ε_L (20 000 points) at several chunk sizes.
models: 10⁴ points of a serial three-dot chain with two modes (one on each bond,
``models.get("serial-chain", n=3, mode=["bond:1", "bond:2"])``) against 10⁴ points of the
two-level model, both sweeping V and one level; points per second and cost per point.
memory: the peak resident set size of a fresh process that runs ``ehpjax sweep``'s code
path (config → NetCDF file) for two sweep sizes; the growth per point is what the results
cost in memory beyond the chunk (target: about 0 — results stream to disk).
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
kind, n_a, n_b, chunk = sys.argv[1], *(int(a) for a in sys.argv[2:5])
fixed = {"T_e": 0.3, "T_ph": 0.3, "mu0": 10.0}
if kind == "two-level":
    model, axes = "two-level", {"V": np.linspace(-3.0, 3.0, n_a), "eps_L": np.linspace(9.5, 11.5, n_b)}
else:
    model = ehpjax.models.get("serial-chain", n=3, mode=["bond:1", "bond:2"])
    axes = {"V": np.linspace(-3.0, 3.0, n_a), "eps1": np.linspace(9.5, 11.5, n_b)}
kw = dict(model=model, fixed=fixed, chunk_size=chunk, progress=False)
ehpjax.sweep(axes, **kw)  # compile (every rule), then time a warm run
start = time.perf_counter()
ds = ehpjax.sweep(axes, **kw)
elapsed = time.perf_counter() - start
print(json.dumps({"points": int(ds.J.size), "seconds": elapsed}))
"""

MEMORY_CHILD = r"""
import json, os, resource, sys, tempfile
n_V, which = int(sys.argv[1]), sys.argv[2]
config = os.path.join(tempfile.mkdtemp(), "sweep.toml")
with open(config, "w") as fh:
    fh.write(f"preset = 'paper'\n[fixed]\nT_e = 0.3\nT_ph = 0.3\nmu0 = 10.0\n"
             f"[axes]\nV = {{start = -3.0, stop = 3.0, num = {n_V}}}\neps_L = {{start = 9.5, stop = 11.5, num = 100}}\n")
out = config.replace(".toml", ".nc")
if which == "new":
    from ehpjax.sweeps import run_config
    run_config(config, out, progress=False)
else:  # the code before the sweeps package (ehpjax._sweep_cli), for comparison
    from ehpjax._sweep_cli import run_sweep
    run_sweep(config, out, progress=False)
print(json.dumps({"points": n_V * 100, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
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


def memory(old_path: str | None = None):
    import os

    print("\n== peak memory of `ehpjax sweep` (fresh process; config → NetCDF, chunk 512) ==")
    print(f"{'code':>6}{'points':>10}{'peak RSS [MB]':>16}")
    versions = [("new", None)] + ([("old", old_path)] if old_path else [])
    for which, path in versions:
        env = dict(os.environ, PYTHONPATH=path) if path else None
        peaks = []
        for n_V in (100, 600):
            r = run(n_V, which, code=MEMORY_CHILD, env=env)
            peaks.append((r["points"], r["peak_mb"]))
            print(f"{which:>6}{r['points']:>10}{r['peak_mb']:>16.0f}")
        growth = (peaks[1][1] - peaks[0][1]) * 1024 / (peaks[1][0] - peaks[0][0])
        print(f"{which:>6}: growth {growth * 1024:.0f} bytes per point")


if __name__ == "__main__":
    t0 = time.perf_counter()
    parts = sys.argv[1:] or ["chunks", "models", "memory"]
    for part in parts:
        if part.startswith("old="):  # memory of the code before the sweeps package: old=/path/to/checkout
            continue
        old = next((p[4:] for p in parts if p.startswith("old=")), None)
        {"chunks": chunks, "models": models, "memory": lambda: memory(old)}[part]()
    print(f"(benchmark took {time.perf_counter() - t0:.0f} s)")
