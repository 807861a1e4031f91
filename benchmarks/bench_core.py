"""Benchmark of the core solver against the best NumPy code a careful user would write.

Runs, in one process, ehpjax (jit + vmap, warm) and two NumPy peers: the general
trapezoid/hoisted-table code of ``numpy_baseline.py`` (n levels, every channel) and one
written for the two-level model only (``numpy_two_level.py``: 2 × 2 matrices, step 0.09,
ε window μ ± 24, ω ≤ 12, the table built once); both are refined to ~1e-6 and their errors
against scipy quadrature are printed. Workloads:

  1. the Fig-3 sweep: paper model, μ_L = μ_R ∈ {9, …, 11}, T0 = 0.5, ΔT ∈ [−0.8, 0.8] (505 J);
  2. a junction sweep: 505 random two-level junctions, one J each;
  3. the gradient of J with respect to all junction and mode parameters, for 505 points by
     jax.vmap and by jax.lax.map in slices of 128 (each vmapped), and for one point;
  4. the cost of one J for n = 2…64 levels and N_b = 1…16 modes;

and prints times (medians of repeated warm runs; the rows of 1 and 2 and those of 3 are
timed in alternating rounds, since the machine's speed drifts), ratios,
compile times and the worst error of each method against
adaptive scipy quadrature (``tests/reference.py``) at spot points, then the summary table
of targets (ratios against both NumPy peers).

    python benchmarks/bench_core.py            # everything
    python benchmarks/bench_core.py --quick    # smaller scaling table (~6 min on 2 slow cores)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import ehpjax
from ehpjax.sweeps import _run as sweep_run

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import numpy_baseline as nb  # noqa: E402
import numpy_two_level as n2  # noqa: E402
import reference  # noqa: E402

PAPER = reference.paper_model()  # (H, Γ_L, Γ_R, M, K, η)
SUMMARY = {}  # workload → numbers for the target table
NUMPY_REPEAT = 3  # rounds of the NumPy peers' timing (their median is the reference time)
SETTLE = 0.05  # seconds of untimed calls before a repeated fn is timed (see interleaved)


@contextlib.contextmanager
def settled_sweeps():
    """Sweeps that take their program compiled with XLA's defaults at once (as a sweep called many
    times does, once its quick program's runs have paid for that compile: ``QUICK_RENT``)."""
    rent = sweep_run.QUICK_RENT
    sweep_run.QUICK_RENT = 0.0
    try:
        yield
    finally:
        sweep_run.QUICK_RENT = rent


def timed(fn, *args, repeat=7):
    """(first call incl. compile, median of ``repeat`` warm calls) in seconds. A median, not
    the best: on a shared 2-core machine single runs vary by ±30 %."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    return first, median_time(lambda: jax.block_until_ready(fn(*args)), repeat)[1]


def median_time(fn, repeat=NUMPY_REPEAT):
    """(fn()'s result, median wall time of ``repeat`` calls in seconds)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, float(np.median(times))


def interleaved(fns: dict, rounds: int, repeats: dict | None = None) -> dict:
    """Median wall time in seconds of each (warm) fn of ``fns``, measured in alternating rounds:
    every round runs each fn ``repeats[name]`` times (default 1) and keeps the median, and the
    result is the median over rounds. The machine's speed drifts (up to 2× within an hour
    here), so the methods whose ratio is reported are timed side by side, not minutes apart.
    A fn repeated more than once is first called untimed in each round, for at least
    ``SETTLE`` seconds: after the NumPy peers' ~0.4 s on one thread (or any idle pause), the
    next compiled program ran 1.5–1.7× slower in all of its repeats (whichever program came
    next), which made the warning's cost read 1.68×; one untimed call did not always suffice."""
    repeats = repeats or {}
    per_round = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            if repeats.get(name, 1) > 1:
                start = time.perf_counter()
                while time.perf_counter() - start < SETTLE:
                    jax.block_until_ready(fn())
            times = []
            for _ in range(repeats.get(name, 1)):
                t0 = time.perf_counter()
                jax.block_until_ready(fn())
                times.append(time.perf_counter() - t0)
            per_round[name].append(float(np.median(times)))
    return {name: float(np.median(t)) for name, t in per_round.items()}


def rel_err(x, ref):
    """docs/physics.md §8 metric: |x − ref| / max(|ref|, 1e-4)."""
    return float(np.max(np.abs(np.asarray(x) - ref) / np.maximum(np.abs(ref), 1e-4)))


def row(name, *cells):
    print(f"{name:<48}" + "".join(f"{c:>18}" for c in cells))


def fig3_sweep(quadrature=None, with_errors=False):
    junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)
    modes = ehpjax.Modes.single(1.0, 0.5)
    mu = np.repeat([9.0, 9.5, 10.0, 10.5, 11.0], 101)
    dT = np.tile(np.linspace(-0.8, 0.8, 101), 5)
    T_e, T_ph = 0.5 + dT / 2, 0.5 - dT / 2

    @jax.jit
    def sweep(mu, T_e, T_ph):
        settings = {} if quadrature is None else {"quadrature": quadrature}
        def one(m, te, tp):
            c = ehpjax.currents(junction, modes, ehpjax.Baths(m, m, te, tp), **settings)
            return (c.J, c.J_error, c.I, c.I_error) if with_errors else c.J

        return jax.vmap(one)(mu, T_e, T_ph)

    return sweep, (jnp.asarray(mu), jnp.asarray(T_e), jnp.asarray(T_ph)), (mu, T_e, T_ph)


def bench_fig3():
    print("\n== 1. Fig-3 sweep (paper model, 505 values of J) ==")
    default, args, (mu, T_e, T_ph) = fig3_sweep()
    compile_s, _ = timed(default, *args, repeat=1)  # the first call; warm times below, side by side
    J_jax = np.asarray(default(*args))
    # other rules: the 10-panel rule with and without its warning, the 4-panel one, and the
    # default adaptive rule without its warning (it computes the estimates for its own choice).
    # The 10-panel rule's warning reads J, I and their error estimates, while a program returning
    # only J skips the estimates (XLA drops unused work), so the like-for-like comparison returns them too
    rules = {"fixed": fig3_sweep(ehpjax.FrequencyQuadrature())[0],
             "quiet": fig3_sweep(ehpjax.FrequencyQuadrature(warn=False))[0],
             "estimates": fig3_sweep(ehpjax.FrequencyQuadrature(warn=False), with_errors=True)[0],
             "coarse": fig3_sweep(ehpjax.FrequencyQuadrature(panels=4, warn=False))[0],
             "default_quiet": fig3_sweep(ehpjax.AdaptiveQuadrature(fine=ehpjax.FrequencyQuadrature(warn=False)))[0]}
    for fn in rules.values():
        jax.block_until_ready(fn(*args))  # compile

    def adaptive():  # ehpjax.sweep
        return ehpjax.sweep({"mu_L": mu, "mu_R": mu, "T_e": T_e, "T_ph": T_ph}, mode="flat", progress=False).J.values

    t0 = time.perf_counter()
    J_sweep = adaptive()  # the first call: compiled with XLA's quick settings
    first_sweep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    adaptive()  # the second: the same program (until the calls have paid for XLA's defaults)
    second_sweep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with settled_sweeps():
        adaptive()  # the program of a sweep called many times, compiled with XLA's defaults: the rows below
    settled_sweep_s = time.perf_counter() - t0

    def numpy_general():  # the table is part of the cost: built in the timed call
        return nb.NumpyJunctionTable.for_baths(*PAPER, mu, mu, T_e, T_ph).sweep(mu, mu, T_e, T_ph)["J"]

    def numpy_two_level():
        table2 = n2.TwoLevelTable(*PAPER, mu.min(), mu.max())
        return np.array([table2.J(m, m, te, tp) for m, te, tp in zip(mu, T_e, T_ph)])

    J_np, J_np2 = numpy_general(), numpy_two_level()
    # every row side by side, each fn having run once above (the machine's speed drifts; rows
    # timed minutes apart are not comparable)
    t = interleaved({"default": lambda: default(*args), "sweep": adaptive, "np": numpy_general,
                     "np2": numpy_two_level, **{name: (lambda fn=fn: fn(*args)) for name, fn in rules.items()}},
                    rounds=NUMPY_REPEAT + 2, repeats={"default": 3, "sweep": 3, **dict.fromkeys(rules, 3)})
    jax_s, sweep_s, np_s, np2_s = t["default"], t["sweep"], t["np"], t["np2"]
    fixed_s, quiet_s, estimates_s, coarse_s, default_quiet_s = (t[name] for name in rules)

    spots = [0, 37, 150, 252, 303, 404, 470, 504]
    refs = np.array([reference.currents_ref(*PAPER, mu[i], mu[i], T_e[i], T_ph[i])["J"] for i in spots])
    row("", "time [s]", "vs NumPy 2-level", "max err (spots)")
    row("NumPy, general (numpy_baseline, h = 0.09)", f"{np_s:.3f}", f"{np2_s / np_s:.2f}x", f"{rel_err(J_np[spots], refs):.1e}")
    row("NumPy, two-level only (h = 0.09)", f"{np2_s:.3f}", "1.0x", f"{rel_err(J_np2[spots], refs):.1e}")
    row("ehpjax default (adaptive 4/10/40 panels)", f"{jax_s:.3f}", f"{np2_s / jax_s:.1f}x", f"{rel_err(J_jax[spots], refs):.1e}")
    row("ehpjax FrequencyQuadrature() (10, warns)", f"{fixed_s:.3f}", f"{np2_s / fixed_s:.1f}x", "")
    row("ehpjax FrequencyQuadrature(warn=False)", f"{quiet_s:.3f}", f"{np2_s / quiet_s:.1f}x", "")
    row("ehpjax panels=4 (60 nodes)", f"{coarse_s:.3f}", f"{np2_s / coarse_s:.1f}x", "")
    row("ehpjax.sweep", f"{sweep_s:.3f}", f"{np2_s / sweep_s:.1f}x", f"{rel_err(J_sweep[spots], refs):.1e}")
    row("ehpjax compile (default)", f"{compile_s:.2f}", "", "")
    row("ehpjax.sweep first / second call (compiles)", f"{first_sweep_s:.2f} / {second_sweep_s:.2f}", "", "")
    row("  the compile of XLA's defaults, when paid for", f"{settled_sweep_s:.2f}", "", "")
    row("warning cost: default / its rule without warning", f"{jax_s / default_quiet_s:.2f}", "", "")
    row("warning cost: FrequencyQuadrature() / warn=False", f"{fixed_s / quiet_s:.2f}", "", "")
    row("  the same, warn=False also returning the estimates", f"{fixed_s / estimates_s:.2f}", "", "")
    SUMMARY["fig3"] = dict(np=np_s, np2=np2_s, default=jax_s, sweep=sweep_s)


def random_two_level(rng, count):
    return dict(
        eps_L=rng.uniform(9.5, 11.0, count),
        eps_R=rng.uniform(9.0, 10.5, count),
        gamma_L=rng.uniform(0.2, 1.0, count),
        gamma_R=rng.uniform(0.2, 1.0, count),
        m=rng.uniform(0.1, 0.8, count),
    )


def bench_junction_sweep():
    print("\n== 2. Junction sweep (505 random two-level junctions, one J each) ==")
    p = random_two_level(np.random.default_rng(0), 505)
    modes = ehpjax.Modes.single(1.0, 0.5)
    baths = ehpjax.Baths(10.2, 9.8, 0.4, 0.3)

    def jit_sweep(settings):
        @jax.jit
        def sweep(eL, eR, gL, gR, m):
            def one(eL, eR, gL, gR, m):
                return ehpjax.currents(ehpjax.Junction.two_level(eL, eR, gL, gR, m), modes, baths, **settings).J

            return jax.vmap(one)(eL, eR, gL, gR, m)

        return sweep

    args = [jnp.asarray(p[k]) for k in ("eps_L", "eps_R", "gamma_L", "gamma_R", "m")]
    default = jit_sweep({})
    compile_s, _ = timed(default, *args, repeat=1)  # the first call; warm times below, side by side
    J_jax = np.asarray(default(*args))
    quiet = jit_sweep({"quadrature": ehpjax.FrequencyQuadrature(warn=False)})
    jax.block_until_ready(quiet(*args))  # compile

    def adaptive():
        fixed = {"mu_L": 10.2, "mu_R": 9.8, "T_e": 0.4, "T_ph": 0.3}
        return ehpjax.sweep(p, fixed=fixed, mode="flat", progress=False).J.values

    J_sweep = adaptive()  # the first call (compiled with XLA's quick settings)
    with settled_sweeps():
        adaptive()  # the program of a sweep called many times (XLA's defaults): the one timed below

    def arrays(i):
        return reference.paper_model(p["eps_L"][i], p["eps_R"][i], p["gamma_L"][i], p["gamma_R"][i], p["m"][i])

    def numpy_general():
        return np.array([nb.numpy_J(*arrays(i), 10.2, 9.8, 0.4, 0.3)["J"] for i in range(505)])

    def two_level_J(i):  # the step refined per junction as in numpy_baseline (0.36 × the nearest singularity)
        H, gL, gR, M, K, eta = arrays(i)
        step = nb.default_step(H, gL, gR, K, eta, 0.4, 0.3)
        return n2.TwoLevelTable(H, gL, gR, M, K, eta, 9.8, 10.2, h=step).J(10.2, 9.8, 0.4, 0.3)

    def numpy_two_level():
        return np.array([two_level_J(i) for i in range(505)])

    J_np, J_np2 = numpy_general(), numpy_two_level()
    t = interleaved({"default": lambda: default(*args), "sweep": adaptive, "np": numpy_general,
                     "np2": numpy_two_level, "quiet": lambda: quiet(*args)}, rounds=NUMPY_REPEAT,
                    repeats={"default": 5, "sweep": 5, "quiet": 5})
    jax_s, sweep_s, np_s, np2_s, quiet_s = t["default"], t["sweep"], t["np"], t["np2"], t["quiet"]
    spots = [0, 101, 202, 303, 404]
    refs = np.array([reference.currents_ref(*arrays(i), 10.2, 9.8, 0.4, 0.3)["J"] for i in spots])
    row("", "time [s]", "vs NumPy 2-level", "max err (spots)")
    row("NumPy, general, table rebuilt per junction", f"{np_s:.3f}", f"{np2_s / np_s:.2f}x", f"{rel_err(J_np[spots], refs):.1e}")
    row("NumPy, two-level only, table per junction", f"{np2_s:.3f}", "1.0x", f"{rel_err(J_np2[spots], refs):.1e}")
    row("ehpjax default, jit + vmap over junctions", f"{jax_s:.3f}", f"{np2_s / jax_s:.1f}x", f"{rel_err(J_jax[spots], refs):.1e}")
    row("ehpjax FrequencyQuadrature(warn=False)", f"{quiet_s:.3f}", f"{np2_s / quiet_s:.1f}x", "")
    row("ehpjax.sweep", f"{sweep_s:.3f}", f"{np2_s / sweep_s:.1f}x", f"{rel_err(J_sweep[spots], refs):.1e}")
    row("ehpjax compile", f"{compile_s:.2f}", "", "")
    SUMMARY["junctions"] = dict(np=np_s, np2=np2_s, default=jax_s, sweep=sweep_s)


MAP_BATCH = 128  # points per slice of the lax.map rows (128–256 were alike; 64 was 1.1× slower)


def bench_gradient():
    print("\n== 3. Gradient of J w.r.t. all junction and mode parameters (fixed 10-panel rule, no warning) ==")
    baths = ehpjax.Baths(9.7, 10.4, 0.3, 0.2)
    quiet = ehpjax.FrequencyQuadrature(warn=False)

    def J_on(quadrature):
        def J(params):
            eL, eR, gL, gR, m, om, gph = params
            return ehpjax.currents(ehpjax.Junction.two_level(eL, eR, gL, gR, m), ehpjax.Modes.single(om, gph),
                                   baths, quadrature=quadrature).J
        return J

    J = J_on(quiet)

    x = jnp.array([10.5, 9.5, 0.5, 0.5, 0.5, 1.0, 0.5])
    batch = x + 0.01 * jnp.asarray(np.random.default_rng(1).normal(size=(505, 7)))
    value = jax.jit(jax.vmap(J))
    grad = jax.jit(jax.vmap(jax.grad(J)))
    value_and_grad = jax.jit(jax.vmap(jax.value_and_grad(J)))
    # the batch in slices of MAP_BATCH points, each vmapped (jax.lax.map's batch_size): a slice's
    # arrays stay in cache through the backward pass
    mapped_value = jax.jit(lambda b: jax.lax.map(J, b, batch_size=MAP_BATCH))
    mapped_grad = jax.jit(lambda b: jax.lax.map(jax.grad(J), b, batch_size=MAP_BATCH))
    one_value, one_grad = jax.jit(J), jax.jit(jax.grad(J))
    for fn, arg in ((value, batch), (grad, batch), (value_and_grad, batch), (mapped_value, batch),
                    (mapped_grad, batch), (one_value, x), (one_grad, x)):
        jax.block_until_ready(fn(arg))  # compile
    t = interleaved({"J": lambda: value(batch), "grad": lambda: grad(batch), "vg": lambda: value_and_grad(batch),
                     "mJ": lambda: mapped_value(batch), "mgrad": lambda: mapped_grad(batch)},
                    rounds=5, repeats={"J": 3, "grad": 3, "vg": 3, "mJ": 3, "mgrad": 3})
    t_value, t_grad, t_vg, t_mvalue, t_mgrad = t["J"], t["grad"], t["vg"], t["mJ"], t["mgrad"]
    t = interleaved({"J": lambda: one_value(x), "grad": lambda: one_grad(x)}, rounds=7, repeats={"J": 11, "grad": 11})
    t1v, t1g = t["J"], t["grad"]
    row("", "time [s]", "grad / J", "")
    row("505 J (vmap)", f"{t_value:.3f}", "", "")
    row("505 gradients (vmap, 7 parameters)", f"{t_grad:.3f}", f"{t_grad / t_value:.2f}", "")
    row("505 value_and_grad (vmap)", f"{t_vg:.3f}", f"{t_vg / t_value:.2f}", "")
    row(f"505 J / gradients (lax.map, batch_size={MAP_BATCH})", f"{t_mvalue:.3f} / {t_mgrad:.3f}",
        f"{t_mgrad / t_mvalue:.2f}", "")
    row("one J / one gradient (jit)", f"{t1v * 1e3:.2f} ms", f"{t1g / t1v:.2f}", f"{t1g * 1e3:.2f} ms")
    SUMMARY["grad"] = dict(vmap=t_grad / t_value, mapped=t_mgrad / t_mvalue, one=t1g / t1v)

    # The default rule: J is its coarse pass (4 panels; 10 or 40 where needed), its derivatives are the
    # 10-panel rule's, and a program that uses only the gradient still runs the values for the warning.
    default_J, default_quiet = J_on(ehpjax.AdaptiveQuadrature()), J_on(ehpjax.AdaptiveQuadrature(fine=quiet))
    fns = {"J": value, "grad": grad, "dJ": jax.jit(jax.vmap(default_J)),
           "dgrad": jax.jit(jax.vmap(jax.grad(default_J))), "dvg": jax.jit(jax.vmap(jax.value_and_grad(default_J))),
           "dqgrad": jax.jit(jax.vmap(jax.grad(default_quiet)))}
    for fn in fns.values():
        jax.block_until_ready(fn(batch))
    t = interleaved({k: (lambda f=f: f(batch)) for k, f in fns.items()}, rounds=5, repeats=dict.fromkeys(fns, 3))
    print("the default rule (505 points, vmap)")
    row("J (default) / J (10-panel rule)", f"{t['dJ']:.3f} / {t['J']:.3f}", f"{t['dJ'] / t['J']:.2f}", "")
    row("gradient (default) / J (default)", f"{t['dgrad']:.3f}", f"{t['dgrad'] / t['dJ']:.2f}", "")
    row("gradient (default) / J (10-panel rule)", "", f"{t['dgrad'] / t['J']:.2f}", "")
    row("value_and_grad (default) / J (default)", f"{t['dvg']:.3f}", f"{t['dvg'] / t['dJ']:.2f}", "")
    row("gradient: default / its rule without warning", f"{t['dqgrad']:.3f}", f"{t['dgrad'] / t['dqgrad']:.2f}", "")
    SUMMARY["grad_default"] = dict(per_J=t["dgrad"] / t["dJ"], per_fine_J=t["dgrad"] / t["J"])


def bench_scaling(quick):
    print("\n== 4. Cost of one J for n levels and N_b modes (jit, warm) ==")
    sizes = [(2, 1), (4, 2), (8, 4), (16, 8), (32, 8)] if quick else \
        [(2, 1), (4, 2), (8, 1), (8, 4), (16, 4), (16, 8), (32, 4), (32, 8), (32, 16), (64, 8), (64, 16)]
    quiet = ehpjax.FrequencyQuadrature(warn=False)
    current = jax.jit(lambda j, m, b: ehpjax.currents(j, m, b, quadrature=quiet).J)
    row("n, N_b", "ms per J", "compile [s]", "")
    for n, nmodes in sizes:
        H, gL, gR, M, K, eta = reference.random_model(np.random.default_rng(n * 100 + nmodes), n, nmodes)
        args = (ehpjax.Junction(H, gL, gR, M), ehpjax.Modes(K, eta), ehpjax.Baths(0.3, -0.3, 0.3, 0.2))
        compile_s, t = timed(current, *args, repeat=9)
        row(f"n = {n}, N_b = {nmodes}", f"{t * 1e3:.1f}", f"{compile_s:.1f}", "")
        if (n, nmodes) == (32, 8):
            SUMMARY["n32"] = t


def bench_plain_call():
    print("\n== 5. A plain ehpjax.currents call (no user jit), warm ==")
    junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)
    modes = ehpjax.Modes.single(1.0, 0.5)
    baths = ehpjax.Baths(10.0, 10.0, 0.6, 0.4)
    first, warm = timed(lambda: ehpjax.currents(junction, modes, baths), repeat=11)
    row("first call (compiles) / warm call", f"{first:.2f} s", f"{warm * 1e3:.2f} ms", "")
    SUMMARY["plain"] = warm


def summary():
    print("\n== Targets (this run; ratios against the two-level NumPy peer and against the general one) ==")
    row("workload", "ehpjax", "vs 2-level", "vs general", "target")

    def ratio_row(name, key, method, target):
        d = SUMMARY.get(key)
        if d:
            row(name, f"{d[method] * 1e3:.1f} ms", f"{d['np2'] / d[method]:.1f}x", f"{d['np'] / d[method]:.1f}x", target)

    ratio_row("Fig-3 sweep, jit(vmap(currents)) default", "fig3", "default", ">= 10x")
    ratio_row("Fig-3 sweep, ehpjax.sweep", "fig3", "sweep", ">= 15x")
    ratio_row("random junctions, jit+vmap default", "junctions", "default", ">= 100x")
    if "grad" in SUMMARY:
        g = SUMMARY["grad"]
        row("gradient of J (7 parameters) / J", f"{g['vmap']:.2f} (vmap)", f"{g['mapped']:.2f} (lax.map)",
            f"{g['one']:.2f} (one)", "<= 2.5")
    if "grad_default" in SUMMARY:
        g = SUMMARY["grad_default"]
        row("  the same, default rule (vmap): / its J; / 10-panel J", f"{g['per_J']:.2f}", f"{g['per_fine_J']:.2f}", "",
            "(derivatives: 10 panels)")
    if "n32" in SUMMARY:
        row("one J, n = 32, N_b = 8", f"{SUMMARY['n32'] * 1e3:.1f} ms", "", "", "<= 25 ms")
    if "plain" in SUMMARY:
        row("plain ehpjax.currents(...) call, warm", f"{SUMMARY['plain'] * 1e3:.2f} ms", "", "", "<= 20 ms")


def cpu_model() -> str:
    """The CPU's model name and widest vector extension (/proc/cpuinfo; "unknown" elsewhere): the
    ratios depend on the machine (JAX's kernels ran 1.6× slower on a KVM Xeon with AVX-512 than on
    an earlier machine, the NumPy peer 1.15× slower)."""
    try:
        with open("/proc/cpuinfo") as fh:
            text = fh.read()
    except OSError:
        return "unknown"
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "unknown")
    flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []))
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{name}, {vector}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller scaling table")
    args = parser.parse_args()
    print(f"ehpjax {ehpjax.__version__}, jax {jax.__version__}, devices {jax.devices()}, {os.cpu_count()} CPU cores ({cpu_model()})")
    bench_fig3()
    bench_junction_sweep()
    bench_gradient()
    bench_scaling(args.quick)
    bench_plain_call()
    summary()


if __name__ == "__main__":
    main()
