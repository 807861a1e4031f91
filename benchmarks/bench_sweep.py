"""Sweep benchmark: points per second versus chunk size, and peak memory versus sweep size.

    python benchmarks/bench_sweep.py

Paper model (SPEC 7), T_e = T_ph = 0.3, μ0 = 10, sweeping V and ε_L. Peak memory is the
maximum resident set size of a fresh process that runs the whole sweep (JAX included),
measured for 10⁴ and 10⁵ points with the same chunk size. Each child runs its sweep twice and
times the second (warm) run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


CHILD = r"""
import json, resource, sys, time
import numpy as np, ehpjax
n_V, n_eps, chunk = (int(a) for a in sys.argv[1:4])
axes = {"V": np.linspace(-3.0, 3.0, n_V), "eps_L": np.linspace(9.5, 11.5, n_eps)}
fixed = {"T_e": 0.3, "T_ph": 0.3, "mu0": 10.0}
ehpjax.sweep(axes, fixed=fixed, chunk_size=chunk, progress=False)  # compile (both rules), then time a warm run
start = time.perf_counter()
ds = ehpjax.sweep(axes, fixed=fixed, chunk_size=chunk, progress=False)
elapsed = time.perf_counter() - start
print(json.dumps({"points": int(ds.J.size), "seconds": elapsed,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(n_V, n_eps, chunk):
    out = subprocess.run([sys.executable, "-c", CHILD, str(n_V), str(n_eps), str(chunk)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    print("== points per second versus chunk size (20 000 points, paper model) ==")
    print(f"{'chunk':>8}{'points/s':>12}{'seconds':>10}")
    for chunk in (256, 512, 1024, 4096, 16384):
        r = run(200, 100, chunk)
        print(f"{chunk:>8}{r['points'] / r['seconds']:>12.0f}{r['seconds']:>10.2f}")
    print("\n== peak memory (fresh process, chunk 512, the default) ==")
    print(f"{'points':>8}{'peak RSS [MB]':>16}{'points/s':>12}")
    peaks = []
    for n_V in (100, 1000):
        r = run(n_V, 100, 512)
        peaks.append(r["peak_mb"])
        print(f"{r['points']:>8}{r['peak_mb']:>16.0f}{r['points'] / r['seconds']:>12.0f}")
    print(f"\npeak(10^5) / peak(10^4) = {peaks[1] / peaks[0]:.2f}  (target: within 20%)")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - t0:.0f} s)")
