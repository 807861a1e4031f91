"""Design benchmark (issue 4): 64 starts × 300 Adam steps on the cooling objective.

Cooling power at V = −1, T_e = T_ph = 0.2, μ0 = 10 (Fig. 5), free ε_L, ε_R, γ_L, γ_R, from
the paper's parameters plus 63 random starts. Prints

  * compile time of the optimiser step and of the batched forward evaluation;
  * one forward evaluation of all 64 starts and one optimiser step (value_and_grad + Adam
    update, all starts), warm, best of several: their ratio (target ≤ 4);
  * steps per second of the whole loop (history, convergence bookkeeping included);
  * total time of ``design.optimize`` from a cold start (compilation included; target < 30 s)
    and warm (a second identical call: the jit cache is hit).

    python benchmarks/bench_design.py                  # one CPU device
    python benchmarks/bench_design.py --devices 2      # starts sharded over 2 host devices (both cores)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--starts", type=int, default=64)
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--devices", type=int, default=1, help="host devices to shard the starts over")
args = parser.parse_args()
if args.devices > 1:  # must happen before JAX is imported
    flag = f"--xla_force_host_platform_device_count={args.devices}"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flag).strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import ehpjax  # noqa: E402
from ehpjax import _design, design  # noqa: E402


def best_of(fn, *a, repeat=7):
    jax.block_until_ready(fn(*a))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*a))
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def main():
    S, steps = args.starts, args.steps
    objective = design.cooling(V=-1.0, mu0=10.0, T=0.2)
    quadrature = ehpjax.FrequencyQuadrature(warn=False, block=None)  # design.optimize's default
    print(f"design benchmark: cooling at V = -1, T = 0.2, mu0 = 10; {S} starts x {steps} Adam steps; "
          f"{len(jax.devices())} device(s)")

    # 1. The whole run from a cold process (compilation included), then warm.
    kw = dict(starts=S, steps=steps, seed=0, patience=10**9, progress=False, quadrature=quadrature)
    t0 = time.perf_counter()
    cold = design.optimize(objective, **kw)
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = design.optimize(objective, **kw)
    t_warm = time.perf_counter() - t0
    assert warm.steps_run == steps and np.isclose(warm.value, cold.value, rtol=1e-12)

    # 2. One forward evaluation vs one optimiser step, all starts, warm (the compiled functions
    #    optimize used, called with the same shapes and shardings).
    space = design.DesignSpace.build(objective)
    config = _design._Config(objective, space.kinds, space.index, "adam", 0.05, None, quadrature)
    lo, hi, x0 = space.arrays()
    u = _design._shard(jnp.asarray(space.to_unconstrained(space.sample(np.random.default_rng(0), S))))
    state = _design._init_batch(config, u)
    active = jnp.ones(S, dtype=bool)
    t_fwd, t_fwd_med = best_of(_design._evaluate_batch, config, u, lo, hi, x0)
    t_step, t_step_med = best_of(_design._step_batch, config, u, state, active, lo, hi, x0)

    # Compile times, measured on fresh shapes so the cache is not hit.
    u2 = _design._shard(jnp.concatenate([u, u]))
    t0 = time.perf_counter()
    jax.block_until_ready(_design._evaluate_batch(config, u2, lo, hi, x0))
    c_fwd = time.perf_counter() - t0 - 2 * t_fwd
    state2 = _design._init_batch(config, u2)
    t0 = time.perf_counter()
    jax.block_until_ready(_design._step_batch(config, u2, state2, jnp.ones(2 * S, dtype=bool), lo, hi, x0))
    c_step = time.perf_counter() - t0 - 2 * t_step

    loop = t_warm  # the warm call is (almost) all loop: no compilation
    paper = -float(ehpjax.currents(*design.two_level_design(design.PAPER), objective.baths(), quadrature=quadrature).J)
    rows = [
        ("forward, all starts (best / median)", f"{1e3 * t_fwd:.1f} / {1e3 * t_fwd_med:.1f} ms"),
        ("optimiser step, all starts (best / median)", f"{1e3 * t_step:.1f} / {1e3 * t_step_med:.1f} ms"),
        ("step / forward (target <= 4)", f"{t_step / t_fwd:.2f}"),
        ("compile: step / forward", f"{c_step:.1f} / {c_fwd:.1f} s"),
        ("steps per second (warm loop)", f"{steps / loop:.1f}  ({S * steps / loop:.0f} start-steps/s)"),
        ("total, cold process (target < 30 s)", f"{t_cold:.1f} s"),
        ("total, warm (jit cache hit)", f"{t_warm:.1f} s"),
        ("best cooling power / paper's model", f"{cold.value:.6e} / {paper:.6e} = x{cold.value / paper:.3f}"),
        ("entropy production min over all iterates", f"{cold.min_entropy_production:.3e} "
                                                     f"({cold.second_law_violations} violations)"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print("  best design: " + ", ".join(f"{k} = {cold.parameters[k]:.6g}" for k in space.free))
    return 0


if __name__ == "__main__":
    sys.exit(main())
