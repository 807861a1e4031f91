"""Inverse design of the paper's two-level model (ehpjax.design): objective values against
the scipy reference and gradients against central differences; a cooling design from the
paper's parameters that beats the paper's model, with σ ≥ 0 and the bounds respected at
every iterate, and whose reported value the reference reproduces; the report (bounds,
convergence, no ratio to a value ≤ 0); COP as cooling_cop; bad input; best.json round
trip; the command line."""

import csv
import dataclasses
import json
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import ehpjax
import reference
from conftest import PAPER, assert_close, values_and_jacobians
from ehpjax import design
from ehpjax.design import VARIABLES, DesignError, _loop
from ehpjax.design._objectives import keyed as keyed_objective

QUAD = ehpjax.FrequencyQuadrature(warn=False)
COOLING = design.Cooling(V=-1.0, mu0=10.0, T=0.2)
TWO_LEVEL = ehpjax.models.get("two-level")

OBJECTIVES = {
    "cooling": COOLING,
    "cop": design.COP(V=-1.0, mu0=10.0, T=0.2),
    "rectification": design.Rectification(T0=0.5, delta_T=0.4, mu0=10.0),
    "thermocurrent": design.Thermocurrent(T0=0.5, delta_T=0.4, mu0=9.8),
    "custom": design.custom(lambda c: c.channel("LR")["J"] - 0.5 * c.channel("RL")["J"], name="LR minus half RL",
                            V=-0.5, T_e=0.3, T_ph=0.25),
}
# A generic point (no symmetry between the levels), every variable different from the paper's.
POINT = dict(eps_L=10.4, eps_R=9.55, gamma_L=0.45, gamma_R=0.6, m=0.45, omega=1.1, gamma_ph=0.4, V=-0.9)


def reference_value(objective, p, cop_clipped=True):
    """The objective recomputed from scratch with the independent scipy quadrature."""
    arrays = reference.paper_model(p["eps_L"], p["eps_R"], p["gamma_L"], p["gamma_R"], p["m"], p["omega"],
                                   p["gamma_ph"])
    b = objective.bath_values
    mu_L, mu_R = b["mu0"] + 0.5 * p["V"], b["mu0"] - 0.5 * p["V"]
    fwd = reference.currents_ref(*arrays, mu_L, mu_R, b["T_e"], b["T_ph"])
    if objective.name == "cooling":
        return -fwd["J"]
    if objective.name == "cop":
        cools = fwd["J"] < 0 and fwd["P"] > 0
        return -fwd["J"] / fwd["P"] if cools or not cop_clipped else 0.0
    if objective.name == "thermocurrent":
        return fwd["I"]
    if objective.name == "rectification":
        back = reference.currents_ref(*arrays, mu_L, mu_R, b["T_ph"], b["T_e"])
        a, c = abs(fwd["J"]), abs(back["J"])
        return (a - c) / (a + c)
    return fwd["J_channels"][3] - 0.5 * fwd["J_channels"][2]


def all_values(x):
    """Every objective's value as a function of the 8 variables (in the order of VARIABLES):
    the objectives' formulas (``of``, R(ΔT)) on the currents at their five operating points, in
    one compiled function (compiling is what costs here)."""
    p = dict(zip(VARIABLES, x))
    junction, modes = TWO_LEVEL.build({k: p[k] for k in TWO_LEVEL.names})
    bias = {"V": p["V"]}
    forward = OBJECTIVES["rectification"].baths(bias)
    settings = [OBJECTIVES["cooling"].baths(bias), forward, ehpjax.Baths(forward.mu_L, forward.mu_R, forward.T_ph,
                forward.T_e), OBJECTIVES["thermocurrent"].baths(bias), OBJECTIVES["custom"].baths(bias)]
    assert OBJECTIVES["cop"].bath_values == OBJECTIVES["cooling"].bath_values
    stacked = jax.lax.map(lambda b: ehpjax.currents(junction, modes, b, quadrature=QUAD),
                          jax.tree.map(lambda *b: jnp.stack(b), *settings))  # currents compiled once
    at = [jax.tree.map(lambda a, i=i: a[i], stacked) for i in range(len(settings))]
    return jnp.stack([OBJECTIVES["cooling"].of(at[0])[0], OBJECTIVES["cop"].of(at[0])[0],
                      ehpjax.rectification_ratio(at[1].J, at[2].J), OBJECTIVES["thermocurrent"].of(at[3])[0],
                      OBJECTIVES["custom"].of(at[4])[0]])


H = 1e-5


@pytest.fixture(scope="module")
def values_and_gradients():
    """Values at x ± h e_i and at x (last) and the Jacobian, one compiled function."""
    x = jnp.array([POINT[k] for k in VARIABLES])
    shifted = jnp.concatenate([x + H * jnp.eye(8), x - H * jnp.eye(8), x[None]])
    values, jacobians = values_and_jacobians(all_values, shifted)
    return np.asarray(values), np.asarray(jacobians[-1])


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_objective_value_and_gradient(name, values_and_gradients):
    """Value against scipy (docs/physics.md §8 accuracy) and as the objective itself evaluates
    it; ∂/∂ every variable against central differences."""
    objective = OBJECTIVES[name]
    k = list(OBJECTIVES).index(name)
    values, grad = values_and_gradients[0][:, k], values_and_gradients[1][k]
    assert_close(values[-1], reference_value(objective, POINT))
    junction, modes = TWO_LEVEL.build({k: POINT[k] for k in TWO_LEVEL.names})
    baths = objective.baths({"V": POINT["V"]})
    own = objective(junction, modes, baths, quadrature=QUAD)
    np.testing.assert_allclose(float(own), values[-1], rtol=1e-12)
    # The design's compiled step is keyed on the objective without its operating point's numbers
    # (they are data): at other numbers it has the same key and, at the same baths, the same value.
    other = dataclasses.replace(objective, mu0=objective.mu0 + 0.5, V=objective.V - 0.3)
    assert keyed_objective(other) == keyed_objective(objective) and other != objective
    assert float(other(junction, modes, baths, quadrature=QUAD)) == float(own)
    fd = (values[:8] - values[8:16]) / (2 * H)
    scale = np.max(np.abs(grad))
    assert scale > 0
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6 * scale, err_msg=f"{name}: d/d{VARIABLES}")


def test_cop_is_cooling_cop_and_its_guide_leads_into_the_cooling_region():
    """The reported COP equals ehpjax.cooling_cop (0 where the modes are heated); the guide the
    optimiser follows is −J/P there (negative), equal to the value where they are cooled."""
    cop = OBJECTIVES["cop"]
    junction, modes = TWO_LEVEL.build()
    for V, cools in ((-1.0, True), (-3.0, False)):  # Fig. 5 at T = 0.2: cooling window ends near V = −1.5
        baths = cop.baths({"V": V})
        c = ehpjax.currents(junction, modes, baths, quadrature=QUAD)
        value, guide, *_ = cop.evaluate(junction, modes, baths, quadrature=QUAD)
        assert float(value) == float(ehpjax.cooling_cop(c))
        assert float(cop(c)) == float(value)
        assert_close(guide, -c.J / c.P, rtol=1e-12)
        assert (float(value) > 0) == cools and (float(guide) == float(value)) == cools
        if not cools:
            assert float(value) == 0.0 and float(guide) < 0
            assert_close(value, reference_value(cop, dict(PAPER, V=V)))


@pytest.fixture(scope="module")
def cooling_run():
    """Cooling power at V = −1, T = 0.2, μ0 = 10 (Fig. 5), levels and broadenings free, from the paper's model."""
    return design.optimize(COOLING, starts=2, steps=25, seed=0, progress=False)


def test_comparison_curves_are_the_currents_of_the_design_and_the_start(cooling_run, paper_junction, paper_modes,
                                                                      monkeypatch):
    """``design.comparison_data``: J(V) of the best design and of the start (the paper's model)
    at the objective's μ0 and temperatures, each ``ehpjax.currents`` there on the curves' rule;
    one program for both, told that η vanishes in neither (no sharp-line code)."""
    import ehpjax.design._plots as plots

    damped = []
    real = plots._damped
    monkeypatch.setattr(plots, "_damped", lambda systems: damped.append(real(list(systems))) or damped[-1])
    data = design.comparison_data(cooling_run)
    assert damped == [True]
    sharp = ehpjax.Modes.single(1.0, 0.0)  # (η = 0 in either system keeps the sharp-line limit)
    assert not real([(paper_junction, paper_modes), (paper_junction, sharp)])
    p, rule = cooling_run.parameters, ehpjax.FrequencyQuadrature(warn=False)  # (comparison_data's: 10 panels)
    assert data["marker"] == p["V"] == -1.0 and data["x"][0] < -1.0 < data["x"][-1]
    for key, (junction, modes) in {"design": (cooling_run.junction, cooling_run.modes),
                                   "start": (paper_junction, paper_modes)}.items():
        for i in (0, 60, 120):
            V = float(data["x"][i])
            baths = ehpjax.Baths(p["mu0"] + V / 2, p["mu0"] - V / 2, p["T_e"], p["T_ph"])
            expected = float(ehpjax.currents(junction, modes, baths, quadrature=rule).J)
            assert abs(data[key][i] - expected) <= 1e-12 * abs(expected) + 1e-16, (key, V)


def test_cooling_design_beats_the_paper_and_respects_the_second_law(cooling_run):
    r = cooling_run
    paper = reference_value(COOLING, dict(PAPER, V=-1.0))
    assert_close(r.start_value, paper)  # start 0, iterate 0 is the paper's model
    assert paper > 0  # the paper's model cools at this bias (Fig. 5)
    assert r.value > 1.5 * paper  # strictly (and clearly) more cooling
    # The reported value, recomputed from scratch by the independent quadrature.
    assert_close(r.value, reference_value(COOLING, r.parameters))
    assert r.value_error < 1e-9 * r.value
    # Second law at every iterate of every start; σ = P/T here.
    h = r.history
    assert h.value.shape == (r.steps_run + 1, 2)
    assert np.all(h.entropy_production >= 0.0)
    assert r.second_law_violations == 0 and r.min_entropy_production >= 0.0
    # Every iterate physical: free variables inside their bounds; the fixed ones as the paper's.
    assert r.space.names == ("eps_L", "eps_R", "gamma_L", "gamma_R")
    for name, (lo, hi) in zip(r.space.names, r.space.bounds):
        assert np.all((h.params[name] > lo) & (h.params[name] < hi)), name
    for name in ("m", "omega", "gamma_ph"):
        assert r.parameters[name] == PAPER[name]
    assert r.parameters["V"] == -1.0 and r.parameters["T_e"] == r.parameters["T_ph"] == 0.2
    # The design as ehpjax inputs reproduces the value.
    c = jax.jit(ehpjax.currents)(r.junction, r.modes, r.baths)
    assert_close(-c.J, r.value, rtol=1e-10)
    assert float(r.baths.mu_L - r.baths.mu_R) == -1.0 and float(r.baths.T_e) == 0.2
    # The best iterate is the best of the history (up to the accurate re-evaluation).
    np.testing.assert_allclose(r.value, np.max(h.value), rtol=1e-8)


def test_lbfgs_steps_through_its_line_search_and_beats_the_paper():
    """L-BFGS evaluates the loss at trial points inside the step (its zoom line search, whose
    value checks are dropped: a point it accepts is the next step's, checked then). Four steps
    from the paper's junction cool more than it does, and the value is the quadrature's."""
    r = design.optimize(COOLING, optimizer="lbfgs", starts=2, steps=4, seed=0, progress=False)
    assert r.steps_run == 4 and r.second_law_violations == 0
    assert r.value > 2.0 * r.start_value > 0
    assert_close(r.value, reference_value(COOLING, r.parameters))


def test_accurate_value_goes_to_max_panels_where_the_estimate_is_not_tight():
    """``design.accurate_value`` at the paper's junction (a design's best point is re-evaluated so
    when its estimate is not tight), from a 3-panel rule: where the estimate misses rtol, the
    value on ``max_panels`` panels, the scipy quadrature's to that error. With ``max_panels`` no
    more than the rule's, the rule's value and the estimate it has, which bounds the actual error."""
    problem = design.prepare(COOLING, quadrature=ehpjax.FrequencyQuadrature(panels=3))
    u = problem.space.to_unconstrained(problem.space.start)
    expected = reference_value(COOLING, dict(PAPER, V=-1.0))
    coarse, coarse_error, _ = design.accurate_value(problem, u, rtol=1e-9, max_panels=3)
    value, error, c = design.accurate_value(problem, u, rtol=1e-9)
    assert coarse_error > 1e-9 * abs(coarse) and abs(coarse - expected) <= coarse_error
    assert error <= 1e-9 * abs(value) + 1e-15 < coarse_error
    assert abs(value - expected) <= 1e-9 * abs(expected) and float(-c.J) == value


def test_report_convergence_ratio_and_bounds(cooling_run):
    r = cooling_run
    text = str(r)
    assert "cooling" in text and "ratio" in text and "difference" in text
    # 25 steps from the paper's model: still climbing. The report must say so.
    assert not r.converged and r.best_still_improving()
    assert "not converged: best start still improving at the last step" in text
    assert np.all(h_finite := np.isfinite(r.history.grad_norm)) and h_finite.shape == r.history.value.shape
    # No ratio to a start value ≤ 0: a fake result with a negative start.
    import dataclasses

    fake = dataclasses.replace(r, start_value=-0.5 * r.value)
    assert math.isnan(fake.improvement) and "ratio" not in fake.comparison()
    assert fake.comparison() == f"difference {1.5 * r.value:+.6g}"
    # Bound flags: a design with ε_L at its lower bound (exactly, and within 1e-3 of the box).
    lo = r.space.bounds[0][0]
    on = dataclasses.replace(r, free={**r.free, "eps_L": lo + 1e-4 * 6.0})
    assert [f[:3] for f in on.on_bound()] == [("eps_L", lo + 6e-4, "lower")]
    assert "on a bound: eps_L (lower 7)" in str(on)
    off = dataclasses.replace(r, free={**r.free, "eps_L": lo + 1e-2 * 6.0})
    assert off.on_bound() == [] and "on a bound" not in str(off)


def test_early_stopping_freezes_converged_starts(cooling_run):
    r = design.optimize(COOLING, starts=2, steps=25, seed=0, progress=False, tol=10.0, patience=3)
    assert r.converged and r.steps_run < 25
    assert np.all(r.history.converged_at >= 0)
    k = r.history.converged_at.max()
    np.testing.assert_array_equal(r.history.value[k + 1], r.history.value[-1])
    assert str(r).splitlines()[2].startswith("converged: every start stopped improving")
    # The same first iterates as the long run (same seed, same compiled step).
    np.testing.assert_array_equal(r.history.value[:3], cooling_run.history.value[:3])


def test_a_step_in_slices_of_starts_is_the_vmapped_step():
    """Many starts are stepped in vmapped slices (``jax.lax.map``): the same new points, optimiser
    states and outputs as one vmap over all of them."""
    problem = design.prepare(COOLING)
    space = problem.space
    u = jnp.asarray(space.to_unconstrained(space.sample(np.random.default_rng(0), 2)))
    state = _loop.init_batch(problem, u)
    active = jnp.array([True, False])  # an inactive start keeps its point and state in both
    whole = _loop.step_batch(problem, u, state, active, slice_size=None)
    sliced = _loop.step_batch(problem, u, state, active, slice_size=1)
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(sliced)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(np.asarray(sliced[0][1]), np.asarray(u[1]))
    assert not np.array_equal(np.asarray(sliced[0][0]), np.asarray(u[0]))
    # No host callback in the step, so that JAX's persistent compilation cache keeps it: its
    # value checks come back as flags, raised on the host with the count of failing starts.
    keyed, numbers = problem.keyed(), _loop._as_data(problem.numbers())
    assert "callback" not in _loop._step_batch.lower(keyed, numbers, u, state, active, None).as_text()
    # nor in the accurate re-evaluation of the best start (``_evaluate_batch`` is made alike)
    one = jax.jit(lambda v: _loop._evaluate_one.__wrapped__(keyed, numbers, v, QUAD)[:2])  # (its function, jitted)
    assert "callback" not in one.lower(u[0]).as_text()
    with pytest.raises(ehpjax.EhpjaxError, match=r"eps_L contains NaN or inf \(at 1 of 2 points\)"):
        _loop.step_batch(problem, u.at[0, 0].set(jnp.nan), state, active, slice_size=None)


def test_bijections_round_trip_and_stay_inside_bounds():
    space = design.DesignSpace.build(COOLING, TWO_LEVEL, free=("eps_L", "gamma_L", "m", "V"),
                                     bounds={"m": (-math.inf, 0.9), "V": (-math.inf, math.inf)},
                                     start={"m": 0.3})
    assert space.kinds == ("box", "lower", "upper", "none")
    x = np.array([10.7, 0.3, 0.3, -1.0])
    x_back = np.asarray(space.to_physical(jnp.asarray(space.to_unconstrained(x))))
    np.testing.assert_allclose(x_back, x, rtol=1e-12)
    extreme = np.asarray(jax.vmap(space.to_physical)(jnp.array([[40.0] * 4, [-40.0] * 4])))
    assert 7.0 <= extreme[:, 0].min() and extreme[:, 0].max() <= 13.0
    assert np.all(extreme[:, 1] >= 0.05) and np.all(extreme[:, 2] <= 0.9)
    starts = space.sample(np.random.default_rng(1), 50)
    np.testing.assert_array_equal(starts[0], [10.5, 0.5, 0.3, -1.0])
    assert np.all((starts[:, 0] > 7.0) & (starts[:, 0] < 13.0) & (starts[:, 1] > 0.05) & (starts[:, 2] < 0.9))


@pytest.mark.parametrize(
    "call, culprit",
    [
        (lambda: design.get_objective("heating"), "'heating'"),
        (lambda: design.get_objective("cooling", delta_T=0.1), "'delta_T'"),
        (lambda: design.optimize("cooling", free=("eps_L", "temperature")), "'temperature'"),
        (lambda: design.optimize(COOLING, free=("mu_L",)), "'mu_L'"),
        (lambda: design.optimize(COOLING, bounds={"mass": (0, 1)}), "'mass'"),
        (lambda: design.optimize(COOLING, start={"eps": 10.0}), "'eps'"),
        (lambda: design.optimize(COOLING, bounds={"m": (0.8, 0.2)}), "'m': lower 0.8 must be < upper 0.2"),
        (lambda: design.optimize(COOLING, bounds={"gamma_L": (0.5, 0.5)}), "'gamma_L'"),
        (lambda: design.optimize(COOLING, bounds={"gamma_R": (-0.1, 1.0)}), "'gamma_R'"),
        (lambda: design.optimize(COOLING, start={"eps_L": 14.0}), "'eps_L' = 14 lies outside its bounds"),
        (lambda: design.optimize(COOLING, free=("m",), bounds={"m": (0.6, 1.0)}), "'m' = 0.5 lies outside"),
        (lambda: design.optimize(COOLING, free=()), "at least one"),
        (lambda: design.optimize(COOLING, starts=0), "starts"),
        (lambda: design.optimize(COOLING, optimizer="newton"), "'newton'"),
        (lambda: design.optimize(COOLING, optimizer=42), "optimizer"),
        (lambda: design.rectification(T0=0.2, delta_T=0.5), "delta_T"),
        (lambda: design.cooling(T=-0.1), "T_e"),
        (lambda: design.Custom(fn=None), "fn"),
        (lambda: design.Hermitian("gamma_L", [[1]]), "target"),
        (lambda: design.PSD("gamma_L", [[0, 1], [0, 0]]), "no entry"),
    ],
)
def test_bad_input_names_the_culprit(call, culprit):
    with pytest.raises(DesignError) as info:
        call()
    assert culprit in str(info.value)
    assert isinstance(info.value, ehpjax.EhpjaxError) and "\n" not in str(info.value)


def test_free_names_from_numpy_are_plain_strings():
    """Names from a NumPy array (np.str_) are kept as ``str``: equinox takes an np.str_ in a
    static field (``History.names``) for an array and warns at the end of every run."""
    problem = design.prepare(COOLING, free=np.array(["eps_L", "gamma_L"]))
    assert problem.space.names == ("eps_L", "gamma_L") and all(type(n) is str for n in problem.space.names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        design.History(*(np.zeros((1, 1)),) * 5, problem.space.names, np.zeros(1))


def test_best_json_round_trip(cooling_run, tmp_path):
    r = cooling_run
    r.save(tmp_path / "best.json")
    raw = json.loads((tmp_path / "best.json").read_text())
    assert set(raw["junction"]) >= {"H", "gamma_L", "gamma_R", "M"}
    assert set(raw["modes"]) == {"K", "eta"} and set(raw["baths"]) == {"mu_L", "mu_R", "T_e", "T_ph"}
    assert raw["objective"]["name"] == "cooling" and raw["objective"]["value"] == r.value
    assert raw["model"]["name"] == "two-level" and raw["free"] == r.free and "units" in raw
    assert raw["ehpjax_version"] and "convergence" in raw and raw["on_bound"] == []
    assert np.asarray(raw["junction"]["M"]).shape == (1, 2, 2)
    saved = design.load_design(tmp_path / "best.json")
    for field in ("H", "gamma_L", "gamma_R", "M"):
        np.testing.assert_array_equal(getattr(saved.junction, field), getattr(r.junction, field))
    for field in ("K", "eta"):
        np.testing.assert_array_equal(getattr(saved.modes, field), getattr(r.modes, field))
    for field in ("mu_L", "mu_R", "T_e", "T_ph"):
        assert float(getattr(saved.baths, field)) == float(getattr(r.baths, field))
    assert saved.parameters == r.parameters
    c = jax.jit(ehpjax.currents)(saved.junction, saved.modes, saved.baths)
    assert_close(-c.J, saved.objective["value"], rtol=1e-10)
    # Complex entries as [re, im] pairs.
    junction = ehpjax.Junction([[10.0, 0.2j], [-0.2j, 9.0]], np.diag([0.5, 0.1]), np.diag([0.1, 0.5]),
                               [[[0.0, 0.3], [0.3, 0.0]]])
    design.save_design(tmp_path / "c.json", junction, r.modes, r.baths, "custom", 1.0)
    assert json.loads((tmp_path / "c.json").read_text())["junction"]["H"][0][1] == [0.0, 0.2]
    np.testing.assert_array_equal(design.load_design(tmp_path / "c.json").junction.H, junction.H)
    # Never replaces a folder; refuses an existing file when asked to.
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(DesignError, match="not a regular file"):
        r.save(tmp_path / "dir.json")
    with pytest.raises(DesignError, match="exists"):
        r.save(tmp_path / "best.json", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.json", "c.json", "dir.json"]  # no temp files


def _app():
    from ehpjax.cli._optimize import register

    app = typer.Typer()
    register(app)

    @app.command("noop", hidden=True)  # a second command, so that typer keeps "optimize" as a subcommand
    def _noop():
        pass

    return app


def test_cli_optimize_writes_design_history_and_plots(tmp_path, cooling_run):
    out = tmp_path / "run"
    res = CliRunner().invoke(_app(), ["optimize", "cooling", "--bias", "-1", "--T", "0.2", "--mu0", "10",
                                      "--steps", "3", "--starts", "2", "--seed", "0", "--no-progress",
                                      "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "cooling" in res.stdout and "ratio" in res.stdout and "not converged" in res.stdout
    for name in ("best.json", "history.csv", "history.png", "comparison.png"):
        assert (out / name).stat().st_size > 0, name
    saved = design.load_design(out / "best.json")
    assert saved.objective["name"] == "cooling"
    c = jax.jit(ehpjax.currents)(saved.junction, saved.modes, saved.baths)
    assert_close(-c.J, saved.objective["value"], rtol=1e-10)
    # The same three steps as the Python API (same seed): the same iterates.
    np.testing.assert_allclose(saved.objective["value"], np.max(cooling_run.history.value[:4]), rtol=1e-12)
    with open(out / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 * 2
    assert set(rows[0]) >= {"step", "start", "objective", "entropy_production", "grad_norm", *VARIABLES}
    assert all(float(row["entropy_production"]) >= 0 for row in rows)
    assert all(float(row["m"]) == 0.5 for row in rows)
    # An existing folder with files: refused without --overwrite, nothing touched.
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    res = CliRunner().invoke(_app(), ["optimize", "cooling", "--steps", "1", "--starts", "1", "--no-progress",
                                      "--out", str(out)])
    assert isinstance(res.exception, ehpjax.EhpjaxError) and "--overwrite" in str(res.exception)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


@pytest.mark.parametrize(
    "args, culprit",
    [
        (["heating"], "'heating'"),
        (["cooling", "--free", "eps_L,foo"], "'foo'"),
        (["cooling", "--bound", "m=0.8:0.2", "--free", "m"], "'m'"),
        (["cooling", "--bound", "m=0.2"], "NAME=LOWER:UPPER"),
        (["cooling", "--set", "eps_L=20"], "'eps_L'"),
        (["cooling", "--start", "eps_L=abc"], "'abc'"),
        (["cooling", "--set", "t=0.1"], "'t'"),
        (["cooling", "--T0", "0.5"], "--T0"),
        (["rectification", "--delta-T", "2.0"], "delta_T"),
        (["cooling", "--optimizer", "newton"], "'newton'"),
        (["cooling", "--model", "no-such-model"], "'no-such-model'"),
    ],
)
def test_cli_bad_input_is_one_error_and_writes_nothing(tmp_path, args, culprit):
    out = tmp_path / "never"
    res = CliRunner().invoke(_app(), ["optimize", *args, "--out", str(out), "--no-progress"])
    assert isinstance(res.exception, ehpjax.EhpjaxError), res.output
    message = str(res.exception)
    assert "\n" not in message and culprit in message, message
    assert not out.exists()


def test_cli_help_has_units():
    res = CliRunner().invoke(_app(), ["optimize", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    text = " ".join(res.stdout.split())
    for word in ("cooling", "rectification", "thermocurrent", "--model", "--free", "--bound", "--set", "--steps",
                 "--starts", "--seed", "--overwrite", "cooling_cop"):
        assert word in text, word
    command = typer.main.get_command(_app()).commands["optimize"]
    helps = {opt: p.help for p in command.params for opt in p.opts}
    for option in ("--T0", "--delta-T", "--T", "--mu0", "--bias", "--bound", "--set"):
        assert "ħΩ" in helps[option], option


def test_what_the_fixed_values_tell_the_step_is_read_from_the_data_flow():
    """``DesignSpace.structure``: the junction's nonzero pole pairs where no free number reaches it,
    and η ≠ 0 known where none reaches the modes (and η is not 0): each read from the data flow of
    the system's build, not from tracers (inside the step every array is one). The keyed space
    carries them, in place of the fixed values it drops."""
    from ehpjax._currents import nonzero_pairs

    paper_pairs = nonzero_pairs(ehpjax.models.get("two-level").build({})[0])
    assert paper_pairs is not None and len(paper_pairs) == 4
    cases = [  # free, start, matrices → (pairs, damped)
        (("eps_L", "gamma_L"), {}, (), (None, True)),
        (("omega",), {}, (), (paper_pairs, True)),
        (("V", "T_e"), {}, (), (paper_pairs, True)),
        (("gamma_ph",), {}, (), (paper_pairs, False)),
        (("omega",), {"gamma_ph": 0.0}, (), (paper_pairs, False)),
        ((), {}, (design.Hermitian("H", [[False, True], [True, False]]),), (None, True)),
        ((), {}, (design.PSD("eta", [[True]]),), (paper_pairs, False)),
    ]
    for free, start, matrices, expected in cases:
        space = design.prepare(COOLING, free=free, start=start, matrices=matrices).space
        assert space.structure() == expected, (free, start, matrices)
        keyed = space.keyed()
        assert keyed.known == expected and all(value == 0.0 for _, value in keyed.fixed)
    # a fixed value that makes a pair vanish keys another step
    zero_m = design.prepare(COOLING, free=("omega",), start={"m": 0.0}).space
    assert zero_m.structure()[0] != paper_pairs
    # told to ``currents`` only where the objective evaluates the system it is given: a custom
    # objective of the system may build other systems from it (η = 0, say)
    from ehpjax._currents import _KNOWN_DAMPED, _KNOWN_PAIRS

    seen = []

    def record(*_):
        seen.append((_KNOWN_PAIRS.get(), _KNOWN_DAMPED.get()))
        return 0.0

    for system in (False, True):
        objective = design.custom(record, V=-1.0, T_e=0.2, system=system)
        problem = design.prepare(objective, free=("omega",))
        jax.eval_shape(lambda u: problem.loss(u)[0], jnp.zeros(1))
    assert seen == [(paper_pairs, True), (None, False)]


def test_one_trace_for_the_whole_run_any_optax_transformation_and_operating_point():
    """The step is traced once (not per step), whatever the optax transformation; later runs of
    the same problem reuse it, and so do runs at other operating points (V, T_e, T_ph given or
    left to T_e, a fixed μ0 among the start values), bounds' values and values of the model's
    fixed parameters: those numbers are data. Each run's value is that of its own numbers: −J
    from ``ehpjax.currents`` at the design and the run's baths, on 40 panels. (Bounds of another
    kind, a box for a lower bound say, shape the step and compile anew, as does what the fixed
    values tell the step: a fixed η = 0, say; see the test above.)"""
    import optax

    traces = []

    def fn(c):
        traces.append(1)  # runs only while tracing
        return -c.J

    sgd = optax.sgd(1e-2, momentum=0.5)
    kw = dict(free=("eps_L", "gamma_L"), starts=2, seed=0, patience=100, optimizer=sgd, progress=False)
    r = design.optimize(design.Custom(fn=fn, V=-1.0, T_e=0.2), start={"mu0": 10.0}, steps=6, **kw)
    first = len(traces)
    assert r.steps_run == 6 and first <= 2  # the step, and at most one accurate re-evaluation
    assert r.value >= r.start_value
    fine = ehpjax.FrequencyQuadrature(panels=40, warn=False)
    other_fixed = {"eps_R": 9.7, "gamma_R": 0.6, "m": 0.4, "omega": 1.3, "gamma_ph": 0.35}

    def run(V, T_e, T_ph, mu0, bounds=None, fixed=None):
        r = design.optimize(design.Custom(fn=fn, V=V, T_e=T_e, T_ph=T_ph), start={"mu0": mu0, **(fixed or {})},
                            bounds=bounds, steps=3, **kw)
        baths = ehpjax.Baths(mu0 + V / 2, mu0 - V / 2, T_e, T_e if T_ph is None else T_ph)
        J = ehpjax.currents(r.junction, r.modes, baths, quadrature=fine).J
        assert abs(r.value + float(J)) <= 1e-9 * abs(float(J))
        assert r.parameters["mu0"] == mu0 and r.parameters["V"] == V
        assert all(r.parameters[name] == value for name, value in (fixed or {}).items())
        if bounds:
            assert all(lo < r.free[name] < hi for name, (lo, hi) in bounds.items())

    run(-1.0, 0.2, None, 10.0)
    run(-0.8, 0.3, None, 10.0)
    run(-1.2, 0.25, 0.2, 10.3, {"eps_L": (10.2, 11.5), "gamma_L": (0.1, math.inf)})
    run(-1.0, 0.2, None, 10.0, fixed=other_fixed)  # (η ≠ 0 known: no sharp-line code)
    assert len(traces) == first


def test_a_short_run_steps_with_a_program_compiled_quickly(monkeypatch):
    """A run of at most ``quick_start_steps(levels)`` starts × steps steps with the program compiled with
    XLA's quick settings, a longer one with XLA's defaults; a junction's levels are read from its shapes.
    (The suite's XLA_FLAGS already ask for the quick settings, where the two are one program: here
    ``distinct_quick_program`` is made to say yes, and the programs are stand-ins.)"""

    class Stop(Exception):
        pass

    chosen = []

    def stepper(problem, quick=False):
        chosen.append(quick)
        raise Stop

    two_level = design.prepare(COOLING)
    chain = design.prepare(COOLING, "serial-chain", free=("eps1", "eps2"))
    assert [_loop.quick_start_steps(n) for n in (1, 2, 3, 4)] == [8192, 8192, 2048, 512]
    u2 = jnp.zeros((1, 4))
    assert _loop._levels(two_level, u2) == 2 and _loop._levels(chain, jnp.zeros((1, 2))) == 3
    with monkeypatch.context() as patch:
        patch.setattr(_loop, "_stepper", stepper)
        for problem, starts, steps in ((two_level, 8, 1024), (two_level, 8, 1025), (chain, 4, 512), (chain, 4, 513)):
            with pytest.raises(Stop):
                _loop.run(problem, starts=starts, steps=steps)
    assert chosen == [True, False, True, False]

    calls = []

    def program(name):
        def run(keyed, numbers, u, state, active, slice_size):
            calls.append(name)
            return u, state, {"failed": jnp.zeros((u.shape[0], 0), bool)}, ()
        return run

    monkeypatch.setattr(_loop, "distinct_quick_program", lambda: True)
    monkeypatch.setattr(_loop, "_quick_step_batch", program("quick"))
    monkeypatch.setattr(_loop, "_step_batch", program("defaults"))
    for quick in (True, False):
        _loop._stepper(two_level, quick)(u2, None, jnp.ones(1, bool))
    assert calls == ["quick", "defaults"]
