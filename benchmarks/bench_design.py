"""Design benchmark: 64 starts × 300 Adam steps, cooling power at V = −1, T = 0.2, μ0 = 10.

Two problems:
  * two-level: the paper's model, free ε_L, ε_R, γ_L, γ_R (as in earlier versions);
  * chain: the built-in serial three-dot chain with two modes (mode k on bond k, k+1), free
    ε_1..ε_3, t, γ_L, γ_R, m_1, m_2.

For each it prints: one forward evaluation of all starts and one optimiser step
(value_and_grad + Adam update, all starts), warm, best of several, and their ratio (target
≤ 4); compile times; the whole ``design.optimize`` run cold (compilation included), warm, and at
another operating point (the same compiled step: only the structure of a problem is compiled).

    python benchmarks/bench_design.py                  # one CPU device
    python benchmarks/bench_design.py --devices 2      # starts sharded over 2 host devices (both cores)
    python benchmarks/bench_design.py --only chain
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
parser.add_argument("--only", choices=("two-level", "chain"), default=None)
args = parser.parse_args()
if args.devices > 1:  # must happen before JAX is imported
    flag = f"--xla_force_host_platform_device_count={args.devices}"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flag).strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import ehpjax  # noqa: E402
from ehpjax import design  # noqa: E402
from ehpjax.design import _loop  # noqa: E402


def chain_two_modes():
    """Serial three-dot chain, mode k on bond (k, k+1) (the built-in serial-chain)."""
    return ehpjax.models.get("serial-chain", n=3, mode=["bond:1", "bond:2"])


def best_of(fn, *a, repeat=7):
    """(best wall time, median wall time, best CPU time of this process) of warm calls. The CPU
    time is what to compare on a shared machine: waiting for a core does not count."""
    jax.block_until_ready(fn(*a))
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn(*a))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), float(np.median(wall)), min(cpu)


def bench(title, model, free, bounds):
    S, steps = args.starts, args.steps
    objective = design.Cooling(V=-1.0, mu0=10.0, T=0.2)
    print(f"\n{title}: cooling at V = -1, T = 0.2, mu0 = 10; {S} starts x {steps} Adam steps; "
          f"{len(jax.devices())} device(s); free {', '.join(free)}")
    kw = dict(free=free, bounds=bounds, starts=S, steps=steps, seed=0, patience=10**9, progress=False)
    t0 = time.perf_counter()
    cold = design.optimize(objective, model, **kw)
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = design.optimize(objective, model, **kw)
    t_warm = time.perf_counter() - t0
    assert warm.steps_run == steps and np.isclose(warm.value, cold.value, rtol=1e-12)
    t0 = time.perf_counter()  # another operating point: the same compiled step (its numbers are data)
    design.optimize(design.Cooling(V=-0.8, mu0=10.2, T=0.25), model, **kw)
    t_other = time.perf_counter() - t0

    problem = design.prepare(objective, model, free=free, bounds=bounds)
    space = problem.space
    u = _loop._shard(jnp.asarray(space.to_unconstrained(space.sample(np.random.default_rng(0), S))))
    state = _loop.init_batch(problem, u)
    active = jnp.ones(S, dtype=bool)
    t_fwd, t_fwd_med, cpu_fwd = best_of(_loop.evaluate_batch, problem, u)
    t_step, t_step_med, cpu_step = best_of(_loop.step_batch, problem, u, state, active)

    u2 = _loop._shard(jnp.concatenate([u, u]))  # fresh shapes: compile times
    t0 = time.perf_counter()
    jax.block_until_ready(_loop.evaluate_batch(problem, u2))
    c_fwd = time.perf_counter() - t0 - 2 * t_fwd
    state2 = _loop.init_batch(problem, u2)
    t0 = time.perf_counter()
    jax.block_until_ready(_loop.step_batch(problem, u2, state2, jnp.ones(2 * S, dtype=bool)))
    c_step = time.perf_counter() - t0 - 2 * t_step

    rows = [
        ("forward, all starts (best / median)", f"{1e3 * t_fwd:.1f} / {1e3 * t_fwd_med:.1f} ms"),
        ("optimiser step, all starts (best / median)", f"{1e3 * t_step:.1f} / {1e3 * t_step_med:.1f} ms"),
        ("step / forward, wall (target <= 4)", f"{t_step / t_fwd:.2f}"),
        ("step / forward, CPU time (target <= 4)", (f"{cpu_step / cpu_fwd:.2f}  ({1e3 * cpu_step:.0f} / "
                                                   f"{1e3 * cpu_fwd:.0f} ms)")),
        ("compile: step / forward", f"{c_step:.1f} / {c_fwd:.1f} s"),
        ("steps per second (warm loop)", f"{steps / t_warm:.1f}  ({S * steps / t_warm:.0f} start-steps/s)"),
        ("total, cold (compilation included)", f"{t_cold:.1f} s"),
        ("total, warm (jit cache hit)", f"{t_warm:.1f} s"),
        ("total at another operating point (V = -0.8, T = 0.25, mu0 = 10.2)", f"{t_other:.1f} s"),
        ("best cooling power / start's", f"{cold.value:.6e} / {cold.start_value:.6e}"),
        ("entropy production min over all iterates", (f"{cold.min_entropy_production:.3e} "
                                                     f"({cold.second_law_violations} violations)")),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print("  " + cold.convergence())
    print("  best design: " + ", ".join(f"{k} = {v:.6g}" for k, v in cold.free.items()))


def main():
    if args.only in (None, "two-level"):
        bench("two-level", "two-level", ("eps_L", "eps_R", "gamma_L", "gamma_R"), None)
    if args.only in (None, "chain"):
        bench("chain (3 dots, 2 modes)", chain_two_modes(),
              ("eps1", "eps2", "eps3", "t", "gamma_L", "gamma_R", "m1", "m2"),
              {"t": (0.0, 1.0), "m1": (0.0, 0.6), "m2": (0.0, 0.6), "gamma_L": (0.05, 1.0), "gamma_R": (0.05, 1.0)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
