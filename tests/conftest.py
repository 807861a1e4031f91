"""Shared fixtures: the paper's model (docs/physics.md §7) and seeded random models (docs/physics.md §8 range)."""

import contextlib
import gc
import logging
import os
import subprocess
import sys
import tempfile

# The suite compiles a few hundred programs and runs each a few times, so it asks XLA for its
# quick-compiling settings (no LLVM optimisation, the classic fusion emitters): compiles 3-4x
# faster, runs ~1.4x slower, the same IEEE arithmetic (XLA's fast math stays off). Set before
# JAX starts its backend, once in the main process (xdist's workers inherit it), after a probe:
# XLA aborts on a flag it does not know. EHPJAX_TEST_XLA_DEFAULT=1 runs on XLA's defaults.
# Three more cut another ~35 % of a compile, none changing the arithmetic: no HLO verifier after
# every pass (it only checks XLA's own rewrites); one LLVM module per program (each worker has one
# core, so splitting it for parallel code generation only costs time); no hoisting of
# loop-invariant code out of while loops (the placement's steps, the node blocks, the refinement
# passes). The last two may move the last bit. The first two: 4 interleaved runs of two currents
# programs, 10.5 s → 7.7 s; the third, three alternating runs: a vmapped default currents program
# 1.92–2.20 s → 1.63–1.76 s, its gradient 1.54–1.71 s → 1.40–1.49 s.
QUICK_XLA_FLAGS = ("--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false "
                   "--xla_disable_hlo_passes=hlo-verifier,while-loop-invariant-code-motion "
                   "--xla_cpu_parallel_codegen_split_count=1")


def _probe_xla(flags: str) -> subprocess.Popen:
    """A process that starts XLA with ``flags`` and compiles (exit code 0 if XLA accepts them)."""
    probe = "import jax; jax.jit(lambda x: x + 1)(1.0)"
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    return subprocess.Popen([sys.executable, "-c", probe], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


# The probe runs while this process imports JAX and ehpjax below (importing does not start XLA's
# backend), instead of before: the workers start 1.2 s sooner.
_probe = None
if (os.environ.get("EHPJAX_TEST_XLA_DEFAULT") != "1" and "PYTEST_XDIST_WORKER" not in os.environ
        and QUICK_XLA_FLAGS not in os.environ.get("XLA_FLAGS", "")):
    _flags = f"{QUICK_XLA_FLAGS} {os.environ.get('XLA_FLAGS', '')}".strip()
    _probe = _probe_xla(_flags)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

import ehpjax  # noqa: E402  (enables float64)
import reference  # noqa: E402

if _probe is not None and _probe.wait(timeout=300) == 0:
    os.environ["XLA_FLAGS"] = _flags

# Python's cycle collector: each full collection walks every tracked object, and a worker's heap
# grows to ~3.5 million of them (JAX's caches of traced and compiled programs). With the default
# thresholds, test_currents.py spent 11 s of its 114 s in 25 full collections; collecting the
# youngest generation after 20 000 allocations instead of 700, 4.4 s in all. The modules imported
# by now stay for the whole run, so they are moved out of the collector's sight.
gc.set_threshold(20_000, 10, 10)
gc.freeze()


# The modules that take longest (seconds of one worker in a clean run on the 2-core KVM Xeon,
# 2026-12-06: 98, 65, 48, 40, 38, 34, 30, 27, 25), run first: with each module one unit of work
# (an xdist group, below), the longest first lets the short ones even out the workers' ends. Only the
# order of modules changes (not of the tests in one); a module missing here runs after these.
SLOWEST_FIRST = ("test_currents.py", "test_notebooks.py", "test_fuzz.py", "test_adaptive.py", "test_sweeps.py",
                 "test_design.py", "test_design_models.py", "test_ehp.py", "test_dressed.py")


# Modules run on one worker together where they compile the same programs: each unit of work is a
# module (``--dist loadgroup`` with a group per module), but the command-line sweeps of
# test_sweeps_cli.py reuse test_sweeps.py's evaluators when they run after them in the same process
# (3 of its tests 0.06 s each there, 3–5 s each elsewhere).
RUN_TOGETHER = {"test_sweeps_cli.py": "test_sweeps.py"}


@pytest.hookimpl(tryfirst=True)  # (before pytest-xdist reads the groups)
def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(RUN_TOGETHER.get(item.path.name, item.path.name), len(rank)))  # (stable)
    for item in items:
        item.add_marker(pytest.mark.xdist_group(RUN_TOGETHER.get(item.path.name, item.path.name)))


def pytest_sessionfinish(session, exitstatus):
    """pytest collects garbage five times at the end of a session (to report exceptions raised in
    finalizers), 1.6 s each over a worker's heap; every test and fixture has finished by now, and
    the process exits next, so the heap is frozen first (those collections then take no time)."""
    gc.freeze()


# Each pytest-xdist worker on a core of its own, before XLA starts its thread pools: a batched
# program with host callbacks (a vmap of a Jacobian) now and then never returned from XLA's CPU
# runtime when two workers shared both cores (all pool threads idle, the caller waiting).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and hasattr(os, "sched_setaffinity"):
    _cpus = sorted(os.sched_getaffinity(0))
    if len(_cpus) > 1:
        os.sched_setaffinity(0, {_cpus[int(_worker[2:]) % len(_cpus)]})

# Compiled programs persist across test runs (a rerun skips most compilation), unless the
# caller chose a cache of their own.
if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    jax.config.update("jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "ehpjax-pytest-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)

PAPER = dict(eps_L=10.5, eps_R=9.5, gamma_L=0.5, gamma_R=0.5, m=0.5, omega=1.0, gamma_ph=0.5)


def paper_arrays():
    """(H, Γ_L, Γ_R, M, K, η) of the paper's two-level model as NumPy arrays."""
    H = np.diag([PAPER["eps_L"], PAPER["eps_R"]])
    gL = np.diag([PAPER["gamma_L"], 0.0])
    gR = np.diag([0.0, PAPER["gamma_R"]])
    M = PAPER["m"] * np.array([[[0.0, 1.0], [1.0, 0.0]]])
    return H, gL, gR, M, np.array([[PAPER["omega"] ** 2]]), np.array([[PAPER["gamma_ph"]]])


@pytest.fixture
def paper_junction():
    p = PAPER
    return ehpjax.Junction.two_level(p["eps_L"], p["eps_R"], p["gamma_L"], p["gamma_R"], p["m"])


@pytest.fixture
def paper_modes():
    return ehpjax.Modes.single(PAPER["omega"], PAPER["gamma_ph"])


def random_arrays(seed, n, nb):
    return reference.random_model(np.random.default_rng(seed), n, nb)


def build(arrays):
    """(Junction, Modes) from (H, Γ_L, Γ_R, M, K, η)."""
    H, gL, gR, M, K, eta = arrays
    return ehpjax.Junction(H, gL, gR, M), ehpjax.Modes(K, eta)


def hermitian(a, d, b):
    """The 2×2 Hermitian matrix [[a, b], [b*, d]]."""
    return np.array([[a, b], [np.conj(b), d]], dtype=complex)


def assert_close(actual, ref, rtol=1e-6, floor=1e-4):
    """docs/physics.md §8 accuracy: |x − ref| ≤ rtol · max(|ref|, floor) (matrices: relative to the largest element)."""
    actual, ref = np.asarray(actual), np.asarray(ref)
    scale = max(np.max(np.abs(ref)), floor)
    err = np.max(np.abs(actual - ref))
    assert err <= rtol * scale, f"error {err:.3e} > {rtol:g} x {scale:.3e}"


def assert_hessian_matches_central_differences(fn, x, h=1e-5):
    """jax.hessian(fn) at x is symmetric (to 1e-12) and equals central differences of jax.grad(fn)
    (to 1e-7), both relative to its largest element."""
    hessian = np.asarray(jax.jit(jax.hessian(fn))(x))
    gradient = jax.jit(jax.grad(fn))
    central = np.stack([(np.asarray(gradient(x + h * e)) - np.asarray(gradient(x - h * e))) / (2 * h)
                        for e in np.eye(x.shape[0])])
    scale = np.max(np.abs(hessian))
    assert scale > 0
    np.testing.assert_allclose(hessian, hessian.T, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(hessian, central, rtol=0, atol=1e-7 * scale)


def values_and_jacobians(fn, points):
    """fn (vector-valued) and its Jacobian (reverse mode) at each of ``points``, in one compiled
    program that takes the points one after another (``lax.map``): one copy of fn's program, where
    a vmap of fn beside the Jacobian would compile it twice."""
    def value_and_jacobian(x):  # one reverse pass per output, the forward pass shared with the value
        value, pullback = jax.vjp(fn, x)
        return value, jax.vmap(pullback)(jnp.eye(value.shape[0]))[0]

    return jax.jit(lambda p: jax.lax.map(value_and_jacobian, p))(points)


@contextlib.contextmanager
def compilations():
    """The XLA compilations inside the block: a list of JAX's log lines, filled as they happen."""
    found = []

    class Collect(logging.Handler):
        def emit(self, record):
            if "Finished XLA compilation" in record.getMessage():
                found.append(record.getMessage())

    handler, logger = Collect(logging.DEBUG), logging.getLogger("jax")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with jax.log_compiles(True):
            yield found
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
