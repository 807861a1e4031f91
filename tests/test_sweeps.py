"""Sweeps of any model: labelled results equal to direct ``currents`` calls, names and values
checked before anything runs, the legacy forms, and fingerprints of custom outputs.

Every currents sweep here uses chunk_size=4 and the same names, so each model compiles once.
"""

import functools
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ehpjax
from ehpjax.sweeps._identity import Unhashable, callable_digest
from ehpjax.sweeps._spec import resolve_model

CHUNK = 4
AXES = {"V": np.linspace(-2.0, 2.0, 5), "eps_L": [10.0, 10.5, 11.0]}
FIXED = {"T_e": 0.3, "T_ph": 0.25, "mu0": 10.0}
# The direct calls' rule: the default rule's fine one, which every point of a sweep (coarse where
# its estimate is well within the tolerance, else refined) meets within 1e-6. Its programs are half
# the size of the default rule's under vmap.
FINE = ehpjax.FrequencyQuadrature(warn=False)
CHAIN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "chain3.toml")


@pytest.fixture(scope="module")
def product():
    return ehpjax.sweep(AXES, fixed=FIXED, chunk_size=CHUNK, progress=False)


@pytest.fixture(scope="module")
def chain():
    return resolve_model(CHAIN_FILE)  # the instance ehpjax.sweep(model=CHAIN_FILE) uses (compiled once)


def test_product_sweep_matches_direct_calls(product):
    ds = product
    assert ds.J.dims == ("V", "eps_L") and ds.J.shape == (5, 3)
    np.testing.assert_array_equal(ds.V, AXES["V"])
    assert ds.attrs["ehpjax_version"] == ehpjax.__version__ and ds.attrs["model"] == "two-level"
    assert ds.J.attrs["units"] == "ħΩ²" and ds.I.attrs["units"] == "eΩ" and ds.eps_L.attrs["units"] == "ħΩ"
    points = {"V": np.array([-2.0, -2.0, 1.0, 1.0]), "eps_L": np.array([10.0, 11.0, 10.0, 11.0])}

    def direct(V, eps_L):
        junction = ehpjax.Junction.two_level(eps_L, 9.5, 0.5, 0.5, 0.5)
        c = ehpjax.currents(junction, ehpjax.Modes.single(1.0, 0.5), ehpjax.Baths.biased(V, 10.0, 0.3, 0.25),
                            quadrature=FINE)
        return c.J, c.I, c.channel("LR")["J"]

    J, I, J_LR = jax.jit(jax.vmap(direct))(points["V"], points["eps_L"])  # one compilation
    for k in range(4):
        point = ds.sel(V=points["V"][k], eps_L=points["eps_L"][k])
        np.testing.assert_allclose(float(point.J), J[k], rtol=1e-6)  # sweeps meet the tolerance
        np.testing.assert_allclose(float(point.I), I[k], rtol=1e-6, atol=1e-16)
        np.testing.assert_allclose(float(point.J_LR), J_LR[k], rtol=1e-6, atol=1e-16)


def test_sweeps_skip_the_pole_pairs_that_vanish_at_every_point(product, monkeypatch):
    """A currents sweep evaluates only the pole pairs nonzero in some junction of the sweep
    (``_evaluate.junction_pairs``; the paper model's 4 of 32, at every eps_L): the product sweep
    over (V, eps_L) and one over V alone (one junction) agree to rounding with the same sweep over
    every pair. A pair nonzero in one junction only is kept for all (here: every pair, so none is skipped)."""
    from ehpjax._evaluate import junction_pairs, modes_damped

    model = resolve_model("two-level")
    constants = {**model.defaults, "eps_L": 10.5}
    paper = junction_pairs(model, constants)
    assert paper is not None and len(paper) == 4
    assert junction_pairs(model, constants, {"eps_L": np.linspace(9.0, 12.0, 50), "m": np.linspace(0.1, 1.0, 30)}) == paper
    assert junction_pairs(model, constants, {"eps_L": [10.0, 11.0], "m": [0.0, 0.0]}, "flat") == ()  # (no coupling)
    assert junction_pairs(model, constants, {"eps_L": [10.0, 11.0], "m": [0.2, 0.0]}, "flat") == paper
    assert junction_pairs(model, constants, {"gamma_L": [0.5, 0.0]}) is None  # (level 1 not broadened: a check fails)
    hopping = ehpjax.models.Model(  # a junction whose hopping is 0 at one point and not at the other
        "hop", (ehpjax.models.Parameter("t", 0.0), ehpjax.models.Parameter("eps", 10.0)),
        lambda p: (ehpjax.Junction([[p["eps"], p["t"]], [p["t"], p["eps"] - 1.0]], np.diag([0.5, 0.0]),
                                   np.diag([0.0, 0.5]), [[[0.0, 0.5], [0.5, 0.0]]]), ehpjax.Modes.single(1.0, 0.5)),
        baths={"T_e": 0.3})
    assert len(junction_pairs(hopping, {"eps": 10.0}, {"t": [0.0]})) == 4
    assert junction_pairs(hopping, {"eps": 10.0}, {"t": [0.0, 0.2]}) is None  # (with t: every pair, at both points)
    # η known not to vanish (``modes_damped``: then no sharp-line code) where no swept name reaches
    # the modes and η ≠ 0; not at η = 0, nor where η is swept (the sweeps above and below compare
    # values with the sharp-line code left out against direct calls)
    assert modes_damped(model, constants, ("V", "eps_L", "m")) and modes_damped(model, {}, ())
    assert not modes_damped(model, {**constants, "gamma_ph": 0.0}, ("V",))
    assert not modes_damped(model, constants, ("V", "gamma_ph"))
    damped = []  # ... and the sweeps' batches are told (all but the flag as the product's: no new program)
    real = ehpjax.sweeps._run.batched
    monkeypatch.setattr(ehpjax.sweeps._run, "batched", lambda *a, **k: damped.append(k["damped"]) or real(*a, **k))
    monkeypatch.setattr(ehpjax.sweeps._run, "junction_pairs", lambda *args: None)
    every_pair = ehpjax.sweep(AXES, fixed=FIXED, chunk_size=CHUNK, progress=False)
    monkeypatch.undo()
    assert damped and all(damped)
    one_junction = ehpjax.sweep({"V": AXES["V"]}, fixed={**FIXED, "eps_L": 10.5}, chunk_size=CHUNK, progress=False)
    scale = float(np.max(np.abs(every_pair.J.values)))  # (the error estimates: to rounding of the currents)
    for name in ("J", "I", "J_LR", "N_RL", "J_error", "I_error", "entropy_production"):
        np.testing.assert_allclose(product[name].values, every_pair[name].values, rtol=1e-12, atol=1e-14 * scale,
                                   err_msg=name)
        np.testing.assert_allclose(one_junction[name].values, every_pair.sel(eps_L=10.5)[name].values, rtol=1e-12,
                                   atol=1e-14 * scale, err_msg=name)


def test_a_three_level_chain_sweeps_by_its_own_names(chain):
    """The hopping t of a chain model file is an axis like any other (flat mode, mu_L/mu_R)."""
    axes = {"t": [0.1, 0.3, 0.25, 0.4], "mu_L": [10.5, 9.0, 10.0, 10.2], "mu_R": [9.5, 10.0, 10.0, 9.9]}
    ds = ehpjax.sweep(axes, model=CHAIN_FILE, fixed={"T_e": 0.2, "T_ph": 0.3}, mode="flat", chunk_size=CHUNK,
                      progress=False)
    assert ds.J.dims == ("point",) and ds.t.attrs["long_name"] == "hopping between neighbouring dots"
    assert ds.attrs["model"] == "chain3"

    def direct(t, mu_L, mu_R):
        junction, modes, baths = chain.system({"t": t, "mu_L": mu_L, "mu_R": mu_R, "T_e": 0.2, "T_ph": 0.3})
        c = ehpjax.currents(junction, modes, baths, quadrature=FINE)
        return c.J, c.I

    J, I = jax.jit(jax.vmap(direct))(*(np.asarray(axes[k]) for k in ("t", "mu_L", "mu_R")))
    np.testing.assert_allclose(ds.J, J, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(ds.I, I, rtol=1e-6, atol=1e-10)
    assert np.all(ds.J_error <= 1e-6 * np.maximum(np.abs(ds.J), 1e-4))  # the refine pass reached the tolerance


def test_a_given_quadrature_is_the_rule_of_every_point_and_its_misses_are_counted():
    """``quadrature=`` replaces the sweep's own path (4 panels, the default rule, its splits): every
    point on the given rule, a point equal to a direct call on it; a warning counts the points that
    miss that rule's tolerance (here 1e-14: all); a rule for a custom fn, or not a rule, is refused."""
    points = {"V": np.array([-2.0, 1.0]), "eps_L": np.array([10.0, 11.0])}
    with pytest.warns(RuntimeWarning, match=r"2 of 2 points miss the accuracy tolerance .* on the given quadrature"):
        ds = ehpjax.sweep(points, fixed=FIXED, mode="flat", chunk_size=CHUNK, progress=False,
                          quadrature=ehpjax.FrequencyQuadrature(rtol=1e-14))  # (FINE's values: rtol changes none)
    for k in range(2):
        junction = ehpjax.Junction.two_level(points["eps_L"][k], 9.5, 0.5, 0.5, 0.5)
        baths = ehpjax.Baths.biased(points["V"][k], 10.0, 0.3, 0.25)
        c = ehpjax.currents(junction, ehpjax.Modes.single(1.0, 0.5), baths, quadrature=FINE)
        np.testing.assert_allclose(float(ds.J[k]), float(c.J), rtol=1e-12)
        np.testing.assert_allclose(float(ds.J_error[k]), float(c.J_error), rtol=1e-9)
    with pytest.raises(ehpjax.SweepError, match="a custom fn computes its own"):
        ehpjax.sweep(points, mode="flat", fixed=FIXED, fn=lambda j, m, b: b.V, quadrature=FINE, progress=False)
    with pytest.raises(ehpjax.SweepError, match="quadrature must be an ehpjax.FrequencyQuadrature or Adaptive"):
        ehpjax.sweep(points, mode="flat", fixed=FIXED, quadrature=10, progress=False)


def test_names_are_checked_against_the_model(chain):
    with pytest.raises(ehpjax.SweepError, match=r"unknown parameter 'eps_L' of model 'chain3' \(known: eps1, eps2, "
                                                r"eps3, t, gamma_L, .*mu0, V, mu_L, mu_R, T_e, T_ph\)"):
        ehpjax.sweep({"eps_L": [1.0]}, model=chain, progress=False)
    with pytest.raises(ehpjax.SweepError, match="unknown parameter 't' of model 'two-level'"):
        ehpjax.sweep({"t": [0.1]}, progress=False)
    with pytest.raises(ehpjax.SweepError, match="both fixed and swept"):
        ehpjax.sweep({"V": [0.0]}, fixed={"V": 1.0}, progress=False)
    with pytest.raises(ehpjax.SweepError, match=r"either as \(mu_L, mu_R\) or as \(mu0, V\)"):
        ehpjax.sweep({"V": [0.0]}, fixed={"mu_L": 1.0, "mu_R": 0.0}, progress=False)
    with pytest.raises(ehpjax.SweepError, match="mode 'flat' needs axes of equal length"):
        ehpjax.sweep({"V": [0.0, 1.0], "m": [0.1]}, mode="flat", progress=False)
    with pytest.raises(ehpjax.SweepError, match="axis 'V' contains NaN"):
        ehpjax.sweep({"V": [0.0, np.nan]}, progress=False)


def test_bad_values_give_one_error_and_leave_nothing_behind(tmp_path, product):
    with pytest.raises(ehpjax.SweepError, match=r"fixed parameter 'T_e': the temperature must be > 0 \(got -0.3\)"):
        ehpjax.sweep({"V": [0.0]}, fixed={"T_e": -0.3}, checkpoint=tmp_path / "a", progress=False)
    with pytest.raises(ehpjax.SweepError, match=r"axis 'gamma_L': value -0.1 lies outside the bounds \[0, inf\]"):
        ehpjax.sweep({"gamma_L": [0.5, -0.1]}, checkpoint=tmp_path / "b", progress=False)
    # γ_L = 0 leaves level 1 unbroadened: found while the first chunk runs, before anything is kept
    axes = {"gamma_L": [0.5, 0.0, 0.5, 0.5], "V": [0.0], "eps_L": [10.0]}
    with pytest.raises(ehpjax.SweepError, match=r"invalid value at 1 of 4 points, the first with gamma_L = 0, V = 0, eps_L = 10: .*not broadened"):
        ehpjax.sweep(axes, fixed={"T_e": 0.3, "T_ph": 0.25, "mu0": 10.0}, checkpoint=tmp_path / "c",
                     chunk_size=CHUNK, progress=False)
    assert not list(tmp_path.iterdir())


def test_a_billion_points_are_refused_at_once(product):
    axes = {"V": np.linspace(-2, 2, 1000), "eps_L": np.linspace(9, 11, 1000), "T_e": np.linspace(0.1, 1, 1000)}
    start = time.perf_counter()
    with pytest.raises(ehpjax.SweepError, match="1,000,000,000 points × 15 outputs = 120 GB"):
        ehpjax.sweep(axes, fixed={"T_ph": 0.25, "mu0": 10.0}, chunk_size=CHUNK, progress=False)
    assert time.perf_counter() - start < 5.0


def test_legacy_preset_and_build(product):
    paper = ehpjax.sweep(AXES, fixed=FIXED, preset="paper", chunk_size=CHUNK, progress=False)
    for name in product.data_vars:
        np.testing.assert_array_equal(paper[name], product[name])
    with pytest.raises(ehpjax.SweepError, match="'eps_R' is neither fixed nor swept"):
        ehpjax.sweep(AXES, fixed=FIXED, preset=None, progress=False)
    with pytest.raises(ehpjax.SweepError, match="unknown preset 'bogus'"):
        ehpjax.sweep(AXES, preset="bogus", progress=False)

    def build(p):  # today's build= form: parameters → (Junction, Modes, Baths)
        junction = ehpjax.Junction.two_level(p["eps_L"], p["eps_R"], p["gamma_L"], p["gamma_R"], p["m"])
        return junction, ehpjax.Modes.single(p["omega"], p["gamma_ph"]), ehpjax.Baths.biased(
            p["V"], p["mu0"], p["T_e"], p["T_ph"])

    def fn(junction, modes, baths):
        return {"x": jnp.real(junction.H[0, 0]) * baths.mu_L + modes.K[0, 0] * baths.T_ph}

    legacy = ehpjax.sweep(AXES, fixed=FIXED, build=build, fn=fn, progress=False)
    new = ehpjax.sweep(AXES, fixed=FIXED, fn=fn, progress=False)
    np.testing.assert_array_equal(legacy.x, new.x)
    np.testing.assert_allclose(new.x, np.asarray(AXES["eps_L"])[None, :] * (10.0 + AXES["V"][:, None] / 2) + 0.25)


def test_custom_fn_scalar_output_and_checks():
    ds = ehpjax.sweep({"V": [0.0, 1.0]}, fn=lambda j, m, b: b.mu_L - b.mu_R, progress=False)
    np.testing.assert_allclose(ds.value, [0.0, 1.0])
    with pytest.raises(ehpjax.SweepError, match="complex"):
        ehpjax.sweep({"V": [0.0, 1.0]}, fn=lambda j, m, b: {"z": b.mu_L * 1j}, progress=False)
    with pytest.raises(ehpjax.SweepError, match=r"shape \(2,\) per point"):
        ehpjax.sweep({"V": [0.0, 1.0]}, fn=lambda j, m, b: {"v": jnp.stack([b.mu_L, b.mu_R])}, progress=False)


def test_fn_digests_follow_the_code_and_its_values():
    def make(scale):
        return lambda j, m, b: {"J": scale * b.mu_L}

    assert callable_digest(make(1.0)) == callable_digest(make(1.0))
    assert callable_digest(make(1.0)) != callable_digest(make(2.0))  # closure value
    first = lambda j, m, b: {"X": b.mu_L}  # noqa: E731
    second = lambda j, m, b: {"X": b.mu_R}  # noqa: E731  (same qualified name, other code)
    assert callable_digest(first) != callable_digest(second)
    with pytest.raises(Unhashable):
        callable_digest(functools.partial(make, 1.0))


def test_a_dressed_sweep_flags_and_warns_about_unstable_points():
    """Where the dressed modes are unstable the Dataset says so (stable = 0, growth_rate > 0)
    and the sweep warns; the stable point keeps its currents."""
    axes = {"m": np.array([0.5, 3.0])}
    fixed = {"gamma_ph": 0.01, "V": -6.0, "mu0": 10.0, "T_e": 0.1, "T_ph": 0.1}
    with pytest.warns(RuntimeWarning, match="unstable at 1 of 2 points"):
        ds = ehpjax.sweep(axes, fixed=fixed, order="dressed", progress=False)
    np.testing.assert_array_equal(ds.stable.values, [1.0, 0.0])
    assert ds.growth_rate.values[1] > 0 and np.isfinite(ds.J.values[0])


def test_a_chunk_reuses_the_trace_of_the_output_check():
    """The plan's check of the outputs (``jax.eval_shape``) traces the evaluator with the inputs a
    chunk passes, so the first chunk compiles without tracing again (a trace of the currents takes
    seconds)."""
    from ehpjax.sweeps._run import _UNSET, _Plan

    traces = []

    def listen(event, seconds, **kwargs):
        if event == "/jax/core/compile/jaxpr_trace_duration":
            traces.append(event)

    plan = _Plan({"T_e": [0.3, 0.4, 0.5]}, model="two-level", fixed=None, mode="product",
                 fn=lambda junction, modes, baths: 2 * baths.T_e, order="lowest", chunk_size=3, name=None,
                 preset=_UNSET, build=None)
    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        values = plan.compute_chunk(0)["value"]
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    np.testing.assert_allclose(values, [0.6, 0.8, 1.0], rtol=1e-15)
    assert traces == []


def test_a_small_sweep_compiles_quickly_until_its_runs_have_paid_for_xla_defaults(monkeypatch):
    """A small sweep (few points for its junction's levels) runs the program compiled with XLA's quick
    settings, and so does the same sweep again (the same evaluator), until its runs after the first have
    taken ``QUICK_RENT`` times as long as the first; then the one with XLA's defaults, as does a sweep of
    more points. (The suite's XLA_FLAGS already ask for the quick settings, where the two are one
    program; here they are made two, with the evaluators cached afresh.)"""
    from ehpjax import _evaluate
    from ehpjax.models import serial_chain
    from ehpjax.sweeps import _run

    monkeypatch.setattr(_evaluate, "distinct_quick_program", lambda: True)
    monkeypatch.setattr(_run, "batched", functools.lru_cache(_evaluate.batched.__wrapped__))

    def fn(junction, modes, baths):
        return {"x": jnp.real(junction.H[0, 0]) * baths.T_e}

    def plan(axes, model="two-level"):
        return _run._Plan(axes, model=model, fixed=None, mode="product", fn=fn, order="lowest", chunk_size=8,
                          name=None, preset=_run._UNSET, build=None)

    small = {"T_e": [0.3, 0.4, 0.5]}
    first = plan(small)
    assert first.evaluate.quick is not first.evaluate.run
    assert first.quick and first._program(first.evaluate) is first.evaluate.quick
    # a whole sweep counts its run's time: its first run sets the scale, the next ones are quick too
    ehpjax.sweep(small, fn=fn, chunk_size=8, progress=False)
    scale, spent = first.evaluate.record["spent"]  # (kept on the evaluator: gone with it)
    assert scale > 0 and spent == 0 and first.evaluate.record["levels"] == 2
    ehpjax.sweep(small, fn=fn, chunk_size=8, progress=False)
    assert 0 < first.evaluate.record["spent"][1] < _run.QUICK_RENT * scale
    again = plan(small)
    assert again.evaluate is first.evaluate and again.quick
    again._rented(_run.QUICK_RENT * scale)  # (runs that have paid the rent)
    promoted = plan(small)
    assert not promoted.quick and promoted._program(promoted.evaluate) is promoted.evaluate.run
    np.testing.assert_allclose(first.compute_chunk(0)["x"], promoted.compute_chunk(0)["x"], rtol=1e-15)
    np.testing.assert_allclose(first.compute_chunk(0)["x"], 10.5 * np.array(small["T_e"]), rtol=1e-15)
    promoted._rented(0.01)  # (a run with XLA's defaults keeps them)
    assert not plan(small).quick
    # with several processes (whose timings differ) only the first run is quick: every process the same
    several = plan({"T_ph": [0.3, 0.4]})
    assert several.quick
    with monkeypatch.context() as patch:
        patch.setattr(jax, "process_count", lambda: 2)
        several._rented(1.0)
    assert not plan({"T_ph": [0.3, 0.4]}).quick
    assert not plan({"T_ph": np.linspace(0.1, 1.0, _run.QUICK_POINTS + 1)}).quick
    assert [_run.quick_points(n) for n in (1, 2, 3, 4)] == [8192, 8192, 2048, 512]
    chain = serial_chain(4)
    assert plan({"V": np.linspace(-1.0, 1.0, 512)}, model=chain).quick
    assert not plan({"T_e": np.linspace(0.1, 1.0, 513)}, model=chain).quick  # (a fresh evaluator: other names)
