"""Currents (docs/physics.md §5) against nested scipy quadrature, sum rules, the second law and gradients."""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ehpjax
import reference
from ehpjax._currents import currents_miss
from conftest import PAPER, assert_close, build, compilations, hermitian, paper_arrays, random_arrays

# Plain calls: one compiled kernel per shape and rule, shared by every test (and, having no
# host callback, kept by the persistent compilation cache across test processes).
currents_jit = ehpjax.currents
FINE = ehpjax.FrequencyQuadrature(warn=False)  # the default rule's fine rule (10 panels)


@jax.jit
def jacobian(junction, modes, baths):
    """The reverse-mode gradients of (J, I) with respect to every field of the inputs (the values
    themselves from a plain call: beside the Jacobian they would double its program, 6.2 s of XLA
    time against 2.9 s for the paper's junction with the suite's settings)."""

    def f(j, m, b):
        c = ehpjax.currents(j, m, b)
        return jnp.stack([c.J, c.I])

    return jax.jacrev(f, argnums=(0, 1, 2))(junction, modes, baths)


def check_against_reference(junction, modes, arrays, mu_L, mu_R, T_e, T_ph):
    got = currents_jit(junction, modes, ehpjax.Baths(mu_L, mu_R, T_e, T_ph))
    ref = reference.currents_ref(*arrays, mu_L, mu_R, T_e, T_ph)
    for key in ("J", "I", "I_elastic", "P"):
        assert_close(getattr(got, key), ref[key])
    for c in range(4):
        assert_close(got.J_channels[c], ref["J_channels"][c])
        assert_close(got.N_channels[c], ref["N_channels"][c])
    return got


@pytest.mark.parametrize(
    "mu_L, mu_R, T_e, T_ph",
    [
        (10.0, 10.0, 0.9, 0.1),  # Fig. 3/4: ΔT = +0.8
        (9.0, 9.0, 0.1, 0.9),  # Fig. 3/4: ΔT = −0.8
        (10.5, 10.5, 0.55, 0.45),
        (9.5, 10.5, 0.2, 0.2),  # Fig. 5: V = −1, cooling window
        (11.5, 8.5, 0.1, 0.1),  # large positive bias
    ],
)
def test_paper_model_matches_quadrature(paper_junction, paper_modes, mu_L, mu_R, T_e, T_ph):
    check_against_reference(paper_junction, paper_modes, paper_arrays(), mu_L, mu_R, T_e, T_ph)


@pytest.mark.parametrize("seed, n, nb", [(30, 1, 1), (31, 2, 3), (32, 3, 2), (33, 4, 3)])
def test_random_models_match_quadrature(seed, n, nb):
    arrays = random_arrays(seed, n, nb)
    junction, modes = build(arrays)
    rng = np.random.default_rng(seed)
    mu_L, mu_R = rng.uniform(-1.0, 1.0, 2)
    T_e, T_ph = rng.uniform(0.05, 0.6, 2)
    check_against_reference(junction, modes, arrays, mu_L, mu_R, T_e, T_ph)


# Points of the promise's range (widths, η and temperatures >= 0.05) where the 10-panel rule misses
# the tolerance, from a random sample of 10 000 at |V| <= 10 and Ω of 0.1–5 (docs/physics.md §8),
# rounded: cold electrons with a hot phonon bath at a large bias, with an overdamped slow mode
# (10-panel error 169× the tolerance), two-level (41×), general 2×2 at V < 0 (25×).
# (H, Γ_L, Γ_R, M, Ω², η, μ_L, μ_R, T_e, T_ph)
BEYOND_TEN_PANELS = [
    (np.diag([7.07699, 12.424585]).astype(complex), np.diag([0.092829, 0.0]).astype(complex),
     np.diag([0.0, 0.796616]).astype(complex), hermitian(0.0, 0.0, 0.278663)[None],
     0.015825, 0.865808, 11.711893, 8.288107, 0.050992, 0.918506),
    (np.diag([13.709331, 14.685471]).astype(complex), np.diag([0.344039, 0.0]).astype(complex),
     np.diag([0.0, 0.751619]).astype(complex), hermitian(0.0, 0.0, 0.930475)[None],
     0.047367, 0.365657, 12.226047, 7.773953, 0.065771, 0.837039),
    (hermitian(9.727128, 9.619885, -0.056907 - 0.007485j), hermitian(0.316509, 0.160927, -0.15298 - 0.05811j),
     hermitian(0.298712, 0.730929, -0.268962 + 0.117161j), hermitian(0.080525, 0.421766, -0.121278 - 0.115365j)[None],
     11.01138, 0.05923, 7.992022, 12.007978, 0.050503, 0.912004),
]


@pytest.mark.parametrize("point", range(len(BEYOND_TEN_PANELS)))
def test_the_default_rule_meets_the_promise_where_10_panels_do_not(point):
    """The default rule's third pass (40 panels) at points of the promise's range that 10 panels
    miss: J and I within the tolerance of scipy's quadrature."""
    H, gamma_L, gamma_R, M, K, eta, mu_L, mu_R, T_e, T_ph = BEYOND_TEN_PANELS[point]
    arrays = (H, gamma_L, gamma_R, M, np.array([[K]]), np.array([[eta]]))
    junction, modes, baths = ehpjax.Junction(*arrays[:4]), ehpjax.Modes(*arrays[4:]), ehpjax.Baths(mu_L, mu_R, T_e, T_ph)
    ref = reference.currents_ref(*arrays, mu_L, mu_R, T_e, T_ph)
    ten = currents_jit(junction, modes, baths, quadrature=FINE)
    assert any(abs(float(x) - ref[key]) > 1e-6 * max(abs(ref[key]), 1e-4) for key, x in (("J", ten.J), ("I", ten.I)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (an estimate may still be pessimistic)
        got = currents_jit(junction, modes, baths)
    assert_close(got.J, ref["J"])
    assert_close(got.I, ref["I"])


def test_equilibrium_carries_no_current():
    junction, modes = build(random_arrays(34, 3, 2))
    c = currents_jit(junction, modes, ehpjax.Baths(0.3, 0.3, 0.25, 0.25))
    scale = np.max(np.abs(np.asarray(currents_jit(junction, modes, ehpjax.Baths(0.3, 0.3, 0.4, 0.1)).J_channels)))
    for x in (c.J_channels, c.N_channels, c.I, c.I_elastic, c.P, c.entropy_production):
        assert np.max(np.abs(np.asarray(x))) < 1e-12 * max(scale, 1.0)


def with_warnings(call):
    """(call()'s result, the messages of the warnings it raised, host callbacks' included)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = jax.block_until_ready(call())
        jax.effects_barrier()
    return result, [str(w.message) for w in caught]


def misses(result):
    """Whether ``result`` (a ``Currents``) misses the default tolerance by its estimates."""
    return bool(currents_miss(result.J, result.J_error, result.I, result.I_error, ehpjax.FrequencyQuadrature().rtol))


def assert_accuracy_warnings(messages, result, calls=1):
    """``calls`` accuracy warnings (one per ``currents`` call of the program) if ``result`` (a
    ``Currents``) misses the default tolerance, none otherwise."""
    assert len(messages) == calls * misses(result) and all("estimated error" in m for m in messages), messages


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    mu_L=st.floats(-2, 2),
    mu_R=st.floats(-2, 2),
    T_e=st.floats(0.05, 1.0),
    T_ph=st.floats(0.05, 1.0),
)
def test_second_law_on_random_models(seed, mu_L, mu_R, T_e, T_ph):
    """σ = (P − J)/T_e + J/T_ph ≥ 0 for every parameter set, within the estimated quadrature error
    of J and I; the call warns exactly when an estimate misses the tolerance (these ranges reach
    beyond those of docs/physics.md §8: a few random models do)."""
    junction, modes = build(random_arrays(seed, 3, 2))
    c, messages = with_warnings(lambda: currents_jit(junction, modes, ehpjax.Baths(mu_L, mu_R, T_e, T_ph)))
    assert_accuracy_warnings(messages, c)
    J, J_error, I_error = float(c.J), float(c.J_error), float(c.I_error)
    V = mu_L - mu_R
    quadrature = J_error * (1 / T_e + 1 / T_ph) + I_error * abs(V) / T_e  # σ's error through J and P = IV
    tolerance = 1e-9 * (abs(float(c.P)) / T_e + abs(J) * (1 / T_e + 1 / T_ph)) + 1e-14
    assert float(c.entropy_production) >= -(tolerance + quadrature)


def test_elastic_current_single_level_zero_temperature_closed_form():
    eps0, gl, gr = 0.1, 0.3, 0.6
    junction = ehpjax.Junction([[eps0]], [[gl]], [[gr]], [[[0.0]]])
    mu_L, mu_R = 0.5, -0.4
    got = ehpjax.elastic_current(junction, ehpjax.Baths(mu_L, mu_R, 1e-4, 1e-4))
    g = gl + gr
    exact = gl * gr / (g * np.pi) * (np.arctan(2 * (mu_L - eps0) / g) - np.arctan(2 * (mu_R - eps0) / g))
    np.testing.assert_allclose(float(got), exact, rtol=1e-7)


def field_directions(module, rng):
    """A random, structure-preserving (Hermitian / symmetric) perturbation of every field."""

    def direction(x):
        x = np.asarray(x)
        d = rng.normal(size=x.shape) * (x != 0) if x.ndim else np.asarray(rng.normal())
        if x.ndim >= 2:
            d = 0.5 * (d + np.swapaxes(d, -1, -2))
        return jnp.asarray(d)

    return jax.tree_util.tree_map(direction, module)


@pytest.mark.parametrize("model", ["paper", "random"])
def test_gradients_match_finite_differences(model):
    if model == "paper":
        junction, modes = build(paper_arrays())
        baths = ehpjax.Baths(9.7, 10.4, 0.3, 0.2)
    else:
        junction, modes = build(random_arrays(35, 3, 2))
        baths = ehpjax.Baths(0.4, -0.3, 0.2, 0.3)
    rng = np.random.default_rng(0)
    gradients = jacobian(junction, modes, baths)
    for k, quantity in enumerate(("J", "I")):
        grads = jax.tree_util.tree_map(lambda g: g[k], gradients)
        for index, module in enumerate((junction, modes, baths)):
            for name in module.__dataclass_fields__:
                leaf = getattr(module, name)
                direction = getattr(field_directions(module, rng), name)
                if not np.any(np.asarray(direction)):
                    continue
                analytic = float(jnp.sum(jnp.real(jnp.conj(getattr(grads[index], name)) * direction)))
                h = 1e-5

                def shifted(sign):
                    args = [junction, modes, baths]
                    args[index] = eqx_replace(module, name, leaf + sign * h * direction)
                    return float(getattr(ehpjax.currents(*args), quantity))

                numeric = (shifted(1) - shifted(-1)) / (2 * h)
                assert np.isfinite(analytic)
                np.testing.assert_allclose(analytic, numeric, rtol=2e-5, atol=1e-9, err_msg=f"{quantity}/{name}")


def eqx_replace(module, name, value):
    import equinox as eqx

    return eqx.tree_at(lambda m: getattr(m, name), module, value)


def test_extreme_inputs_give_finite_currents_and_gradients(paper_junction, paper_modes):
    cases = [
        ehpjax.Baths(10.0, 10.0, 1e-3, 1e-3),  # tiny temperatures, |ε − μ|/T ~ 500
        ehpjax.Baths(0.0, 0.0, 1e-3, 2e-3),  # |ε − μ|/T ~ 1e4
        ehpjax.Baths(10.5, 9.5, 1e-3, 1e-3),  # μ_αβ = ±1 = the resonance
        ehpjax.Baths(10.0, 10.0, 5.0, 0.05),
    ]
    for baths in cases:
        c, messages = with_warnings(lambda: currents_jit(paper_junction, paper_modes, baths))
        assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(c))
        assert_accuracy_warnings(messages, c)  # (tiny temperatures: the estimate may miss)
        g, messages = with_warnings(lambda: jacobian(paper_junction, paper_modes, baths))
        # one warning where the Jacobian's values miss: from inside the jit, those of the default rule's
        # derivatives, the fine rule's
        fine = currents_jit(paper_junction, paper_modes, baths, quadrature=FINE)
        assert len(messages) == misses(fine) and all("estimated error" in m for m in messages), messages
        assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(g))


def test_a_too_coarse_quadrature_warns_with_the_estimated_error(paper_junction):
    """A mode 20x narrower than the range of docs/physics.md §8 needs more nodes than the default: the call says so."""
    narrow = ehpjax.Modes.single(1.0, 1e-3)
    baths = ehpjax.Baths(10.0, 10.0, 0.5, 0.3)
    for quadrature in (ehpjax.FrequencyQuadrature(panels=1), ehpjax.FrequencyQuadrature()):
        with pytest.warns(RuntimeWarning, match="estimated error"):
            jax.block_until_ready(ehpjax.currents(paper_junction, narrow, baths, quadrature=quadrature))
    fine = ehpjax.FrequencyQuadrature(panels=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = jax.block_until_ready(ehpjax.currents(paper_junction, narrow, baths, quadrature=fine))
        jax.block_until_ready(ehpjax.currents(paper_junction, ehpjax.Modes.single(1.0, 0.02), baths))
    ref = reference.currents_ref(*reference.paper_model(gamma_ph=1e-3), 10.0, 10.0, 0.5, 0.3)
    assert_close(c.J, ref["J"])


def test_vmap_equals_loop_and_cop_and_rectification(paper_junction, paper_modes):
    Vs = jnp.array([-1.5, -0.5, 0.5])
    batched = jax.vmap(lambda V: ehpjax.currents(paper_junction, paper_modes, ehpjax.Baths.biased(V, 10.0, 0.2)))(Vs)
    for i, V in enumerate(Vs):
        single = currents_jit(paper_junction, paper_modes, ehpjax.Baths.biased(V, 10.0, 0.2))
        np.testing.assert_allclose(batched.J[i], single.J, rtol=1e-12)
    cop = np.asarray(ehpjax.cooling_cop(batched))
    cooling = (np.asarray(batched.J) < 0) & (np.asarray(batched.P) > 0)
    assert cooling.any()
    np.testing.assert_allclose(cop[cooling], -np.asarray(batched.J)[cooling] / np.asarray(batched.P)[cooling])
    assert np.all(cop[~cooling] == 0)
    r = float(ehpjax.rectification(paper_junction, paper_modes, 0.5, 0.6, 10.0))
    forward = abs(float(currents_jit(paper_junction, paper_modes, ehpjax.Baths(10.0, 10.0, 0.8, 0.2)).J))
    backward = abs(float(currents_jit(paper_junction, paper_modes, ehpjax.Baths(10.0, 10.0, 0.2, 0.8)).J))
    np.testing.assert_allclose(r, (forward - backward) / (forward + backward), rtol=1e-12)
    assert -1 <= r <= 1 and abs(r) > 1e-3
    assert PAPER["omega"] == 1.0


@functools.partial(jax.jit, static_argnums=1)
def _J_and_gradient(eps_L, quadrature):
    def J(eps_L):
        junction = ehpjax.Junction.two_level(eps_L, 9.5, 0.5, 0.5, 0.5)
        modes = ehpjax.Modes.single(PAPER["omega"], PAPER["gamma_ph"])
        return ehpjax.currents(junction, modes, ehpjax.Baths(10.3, 9.6, 0.3, 0.2), quadrature=quadrature).J

    return jax.value_and_grad(J)(eps_L)


def test_gradient_at_equal_levels_exists_and_matches_central_differences():
    """Two equal levels, equally broadened (H_eff a multiple of 1, ε_L = ε_R = 9.5): the pole
    expansion splits the coinciding poles, so ∂J/∂ε_L is finite there and equals central differences."""
    quiet = ehpjax.FrequencyQuadrature(warn=False)
    _, gradient = _J_and_gradient(9.5, quiet)
    h = 1e-4
    central = (float(_J_and_gradient(9.5 + h, quiet)[0]) - float(_J_and_gradient(9.5 - h, quiet)[0])) / (2 * h)
    assert np.isfinite(float(gradient)) and abs(central) > 1e-4
    np.testing.assert_allclose(float(gradient), central, rtol=1e-6)


@pytest.mark.parametrize("block", [None, 7, 45])
def test_node_blocks_change_neither_values_nor_gradients(block):
    """FrequencyQuadrature.block only schedules the work (default 30 nodes per block)."""
    default = _J_and_gradient(10.5, ehpjax.FrequencyQuadrature(warn=False))
    other = _J_and_gradient(10.5, ehpjax.FrequencyQuadrature(warn=False, block=block))
    np.testing.assert_allclose(other[0], default[0], rtol=1e-13)
    np.testing.assert_allclose(other[1], default[1], rtol=1e-11)  # the two differ by summation order only


def test_a_plain_call_is_compiled_once(paper_junction, paper_modes, monkeypatch):
    import ehpjax._currents as module

    traced = []
    original = module._lowest_order
    monkeypatch.setattr(module, "_lowest_order", lambda *a, **k: traced.append(1) or original(*a, **k))
    unseen = ehpjax.FrequencyQuadrature(panels=3, warn=False)  # settings no other test traces
    first = ehpjax.currents(paper_junction, paper_modes, ehpjax.Baths(10.0, 10.0, 0.5, 0.3), quadrature=unseen)
    count = len(traced)
    assert count > 0
    for T in (0.4, 0.6):
        ehpjax.currents(paper_junction, paper_modes, ehpjax.Baths(10.0, 10.0, T, 0.3), quadrature=unseen)
    assert len(traced) == count
    assert np.isfinite(float(first.J))


def test_each_rule_is_traced_once_under_vmap_and_grad(monkeypatch):
    """The adaptive rule's batched trace reuses its unbatched trace of each fixed rule (JAX's
    trace cache), under vmap and under a vmapped gradient: each rule traced once, not twice, and
    not again for other warning settings."""
    import ehpjax._currents as module

    traced = []

    def counting(*args, **kwargs):
        traced.append(kwargs["quadrature"].panels)
        return module._lowest_order(*args, **kwargs)

    monkeypatch.setattr(module, "_lowest_order_once", jax.jit(counting, static_argnames=("quadrature", "pairs", "edges")))
    unseen = ehpjax.AdaptiveQuadrature(coarse=ehpjax.FrequencyQuadrature(panels=3, warn=False),
                                       fine=ehpjax.FrequencyQuadrature(panels=7))  # settings no other test traces

    def J(p):
        junction, modes = ehpjax.Junction.two_level(*p[:5]), ehpjax.Modes.single(p[5], p[6])
        return ehpjax.currents(junction, modes, ehpjax.Baths(9.7, 10.4, 0.3, 0.2), quadrature=unseen).J

    points = jnp.tile(jnp.array([10.5, 9.5, 0.5, 0.5, 0.5, 1.0, 0.5]), (3, 1))
    jax.make_jaxpr(jax.vmap(J))(points)
    assert sorted(traced) == [3, 7]
    jax.make_jaxpr(jax.vmap(jax.grad(J)))(points)
    assert sorted(traced) == [3, 7]
    # the warning's settings do not enter the rules' traces
    unseen = ehpjax.AdaptiveQuadrature(coarse=unseen.coarse, fine=ehpjax.FrequencyQuadrature(panels=7, warn=False))
    jax.make_jaxpr(jax.vmap(J))(points)
    assert sorted(traced) == [3, 7]


def test_plain_calls_use_quick_compiles_that_agree_with_the_users_jit(paper_junction, paper_modes, monkeypatch):
    """A plain call (XLA's quick CPU settings) and the user's jit (XLA's defaults here, where the
    options are given per program) agree to rounding; an XLA that does not know the quick
    options gets its defaults."""
    import ehpjax._compiled as module

    assert module.quick_compile() == module._QUICK_CPU_OPTIONS  # CPU, and this XLA knows them
    baths = ehpjax.Baths.biased(1.0, 10.0, 0.6, 0.4)
    plain = ehpjax.currents(paper_junction, paper_modes, baths)
    user = jax.jit(lambda j, m, b: ehpjax.currents(j, m, b), compiler_options={"xla_backend_optimization_level": 3})(
        paper_junction, paper_modes, baths)
    scale = float(max(abs(user.J), abs(user.I)))
    for name, a in plain.as_dict().items():  # (the estimates differ by rounding: their panel sums nearly cancel)
        atol = 1e-12 * scale if name.endswith("_error") else 1e-17
        np.testing.assert_allclose(a, user.as_dict()[name], rtol=1e-12, atol=atol, err_msg=name)
    monkeypatch.setattr(module, "_QUICK_CPU_OPTIONS", {"xla_no_such_option": 0})
    module._quick_options_known.cache_clear()
    try:
        assert module.quick_compile() is None
    finally:
        monkeypatch.undo()
        module._quick_options_known.cache_clear()


# A junction known when the currents are traced (closed over, the baths batched) is evaluated on
# its pole pairs with a nonzero coefficient only; passed as an argument of the jit, on all of them.
# (agreement, not accuracy, is tested; in 2 blocks: a known junction's values are computed without
# them, its derivatives and every value of a traced one with them)
QUICK_RULE = ehpjax.FrequencyQuadrature(panels=2, warn=False, block=15)
T_BATCH = jnp.array([0.15, 0.4, 0.9])


def structured_junctions():
    """Junctions whose structure zeroes most pole pairs: the paper's model; three levels, each
    lead on its own levels, one mode coupling the first two."""
    three = ehpjax.Junction(np.diag([9.0, 10.2, 11.0]), np.diag([0.4, 0.0, 0.3]), np.diag([0.0, 0.5, 0.2]),
                            0.4 * np.array([[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]))
    return {"paper": ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5), "three-level": three}


def _currents_of_bath_temperature(junction, modes, quadrature):
    return jax.vmap(lambda T: ehpjax.currents(junction, modes, ehpjax.Baths(10.3, 9.6, T, 0.3),
                                              quadrature=quadrature))(T_BATCH)


_as_argument = jax.jit(_currents_of_bath_temperature, static_argnums=2)


def test_a_known_junctions_pole_pairs_are_one_program_also_inside_a_trace():
    """A junction known where ``currents`` is traced has its nonzero pole pairs computed by one
    program: tracing a jit of it compiles none of that program's operations on its own (under
    ``jax.ensure_compile_time_eval`` each operation on a constant, an identity matrix or an iota,
    ran and compiled by itself: ~30 small programs per new shape); under ``jax.disable_jit`` they
    run op by op, with the same pairs."""
    from ehpjax._compiled import quick_compile
    from ehpjax._currents import nonzero_pairs

    M = np.zeros((1, 3, 3))
    M[0, 0, 2] = M[0, 2, 0] = 0.1
    M[0, 1, 2] = M[0, 2, 1] = 0.05
    junction = ehpjax.Junction(np.diag([0.3, -0.1, 0.2]), np.diag([0.2, 0.1, 0.0]), np.diag([0.0, 0.0, 0.3]), M)
    modes = ehpjax.Modes.single(1.0, 0.5)
    rule = ehpjax.FrequencyQuadrature(panels=4, warn=False)

    def J(V):
        return ehpjax.currents(junction, modes, ehpjax.Baths.biased(V, 0.0, 0.3, 0.3), quadrature=rule).J

    V = jnp.array([-0.5, 0.5])
    quick_compile()  # (its probe of XLA's options compiles once per process)
    with compilations() as compiled:
        jax.jit(jax.vmap(J)).trace(V)
    assert len(compiled) <= 1, compiled  # (the pairs' program, unless compiled before in this process)
    pairs = nonzero_pairs(junction)
    assert pairs is not None and len(pairs) == 8  # (channels RL and LR, the pairs of level 3 with 1 and 2)
    with jax.disable_jit():
        assert nonzero_pairs(junction) == pairs


@pytest.mark.parametrize("name", ["paper", "three-level"])
def test_a_known_junction_skips_the_pole_pairs_that_vanish(name):
    from ehpjax._currents import nonzero_pairs

    junction = structured_junctions()[name]
    modes = ehpjax.Modes.single(1.0, 0.4)
    pairs = nonzero_pairs(junction)
    assert pairs is not None and 0 < len(pairs) <= 16
    assert nonzero_pairs(build(random_arrays(36, 2, 1))[0]) is None  # a generic junction: every pair counts
    if name == "paper":  # Λ^LL = Λ^RR = 0 (test_ehp): no pair of these channels is evaluated
        assert {channel for channel, _, _ in pairs} == {2, 3}
    # (the default rule on a known junction: test_vmap_equals_loop_and_cop_and_rectification)
    known = jax.jit(lambda: _currents_of_bath_temperature(junction, modes, QUICK_RULE))()
    every_pair = _as_argument(junction, modes, QUICK_RULE)
    for name in every_pair.__dataclass_fields__:
        # (the error estimates carry |K − G| of nearly equal sums, raised to the power 7/4: the
        # rounding of the pair sums shows there at ~1e-10)
        rtol = 1e-8 if name.endswith("_error") else 1e-12
        np.testing.assert_allclose(getattr(known, name), getattr(every_pair, name), rtol=rtol,
                                   atol=1e-14 * float(np.max(np.abs(every_pair.J))), err_msg=name)
    if name != "paper":
        return
    # no coupling to the mode: no pair at all, and nothing flows
    uncoupled = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.0)
    assert nonzero_pairs(uncoupled) == ()
    none = jax.jit(lambda: _currents_of_bath_temperature(uncoupled, modes, QUICK_RULE))()
    assert np.all(np.asarray(none.J) == 0) and np.all(np.asarray(none.I) == 0) and np.all(np.asarray(none.J_error) == 0)
    # derivatives with respect to the baths and the modes flow through the pairs that are kept
    def J(T, gamma_ph, junction):
        return ehpjax.currents(junction, ehpjax.Modes.single(1.0, gamma_ph), ehpjax.Baths(10.3, 9.6, T, 0.3),
                               quadrature=QUICK_RULE).J

    # (forward mode: the same derivatives, and programs that compile in two thirds of the time)
    slopes_known = jax.jit(jax.jacfwd(lambda T, g: J(T, g, junction), argnums=(0, 1)))(0.4, 0.4)
    slopes_every = jax.jit(jax.jacfwd(J, argnums=(0, 1)))(0.4, 0.4, junction)
    np.testing.assert_allclose(slopes_known, slopes_every, rtol=1e-11)


def test_the_sum_over_pole_pairs_is_a_sum_and_differentiates_as_one():
    from ehpjax._currents import _sum_pairs

    x = np.random.default_rng(7).normal(size=(64, 5))
    np.testing.assert_allclose(_sum_pairs(x), x.sum(0), rtol=1e-13)
    weights = np.arange(5.0)
    grad = jax.grad(lambda y: _sum_pairs(y) @ weights)(jnp.asarray(x))
    np.testing.assert_array_equal(grad, np.broadcast_to(weights, x.shape))


def test_the_channel_sums_and_their_derivatives_in_every_mode():
    """``_channel_sums`` against the same sums written with jnp.sum: values, forward and reverse
    derivatives with respect to K, S or both (a zero tangent is left out of the rule)."""
    from ehpjax._currents import _channel_sums

    rng = np.random.default_rng(11)
    n2, count = 4, 7

    def cplx():
        return rng.normal(size=(n2, count)) + 1j * rng.normal(size=(n2, count))

    k = tuple(tuple(jnp.asarray(cplx()) for _ in range(2)) for _ in range(4))
    s = jnp.asarray(rng.normal(size=(4, 2, 2, n2, count)))

    def plain(k, s):
        return jnp.stack([sum(jnp.sum(jnp.real(k[c][b]) * s[c, b, 0] - jnp.imag(k[c][b]) * s[c, b, 1], axis=0)
                              for b in range(2)) for c in range(4)])

    np.testing.assert_allclose(_channel_sums(k, s), plain(k, s), rtol=1e-13, atol=1e-13)
    dk = jax.tree.map(lambda x: jnp.asarray(cplx()), k)
    ds = jnp.asarray(rng.normal(size=s.shape))
    for tangents in ((dk, ds), (dk, jnp.zeros_like(s)), (jax.tree.map(jnp.zeros_like, k), ds)):
        np.testing.assert_allclose(jax.jvp(_channel_sums, (k, s), tangents)[1],
                                   jax.jvp(plain, (k, s), tangents)[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jax.jvp(lambda s: _channel_sums(k, s), (s,), (ds,))[1],
                               jax.jvp(lambda s: plain(k, s), (s,), (ds,))[1], rtol=1e-12, atol=1e-12)
    weights = jnp.asarray(rng.normal(size=(4, count)))
    for argnums in (0, 1, (0, 1)):
        ours = jax.grad(lambda k, s: jnp.sum(_channel_sums(k, s) * weights), argnums=argnums)(k, s)
        theirs = jax.grad(lambda k, s: jnp.sum(plain(k, s) * weights), argnums=argnums)(k, s)
        for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_known_pairs_get_the_polygammas_their_taylor_series_needs():
    """On a known junction only the (lead, pole) points of the same-half-plane pairs carry ψ^(1..4);
    at frequencies where those pairs are close (the Taylor branch), the pair terms equal those
    with every polygamma."""
    from ehpjax._currents import _PAIRS, _taylor_points, nonzero_pairs
    from ehpjax._ehp import pair_terms, pole_polygammas
    from ehpjax._green import pole_expansion

    junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)  # equal widths: z_0 − z_1 is real
    pairs = nonzero_pairs(junction)
    z = pole_expansion(junction).z
    n = z.shape[0]
    points = _taylor_points(pairs, n)
    assert points and len(points) < 2 * n  # some, not all
    gap = float(np.abs(np.real(z[0] - z[1])))
    omega = jnp.array([gap, gap * (1 + 1e-9), gap * (1 - 3e-7), 0.3, 2.0])  # the first three on the Taylor branch
    terms = tuple((b, *_PAIRS[c], p // n, p % n) for c, b, p in pairs)

    def with_polygammas_at(at):  # (one program each: op by op, some 250 operations compile one by one)
        return jax.jit(lambda z, omega: pair_terms(z, omega, 10.2, 9.9, 0.3, pole_polygammas(z, 10.2, 9.9, 0.3, at),
                                                   terms))(z, omega)

    some, every = with_polygammas_at(points), with_polygammas_at(None)
    # (ψ itself from the digamma instead of the polygamma series: rounding, seen where terms cancel)
    np.testing.assert_allclose(some, every, rtol=1e-12, atol=1e-13 * float(np.max(np.abs(every))))
    missing = with_polygammas_at(frozenset())
    assert not np.allclose(missing[:, :3], every[:, :3], rtol=1e-6)  # (the test sees the Taylor branch)


@pytest.mark.parametrize("omega, eta, V, T_e, T_ph, mu0", [
    (2.8320474664318125, 4.733816531456783e-11, 1.6600986860537876, 0.549547401171391, 0.7088580864515865, 10.0),
    (1.2096975965128471, 4.5388709345494863e-10, -0.324780723508717, 0.8455733394309836, 0.20925598355534328, 0.0),
])
def test_a_mode_far_narrower_than_the_splits_reach_is_accurate_or_flagged(paper_junction, omega, eta, V, T_e, T_ph,
                                                                          mu0):
    """Modes far below docs/physics.md §8's range: each line is a block in the mapped variable, and its
    edge fell where neither panel's K − G sees it (docs/physics.md §5). First, between two panels' outermost
    nodes: J was 2.2e-4 off, 221× the tolerance, with an estimate of 0.29× it. Second, at t = 1/2, a panel
    boundary of the 10-panel rule and the edge of two of its quarters: 4× the tolerance, estimate 7e-3×.
    Against the line's golden-rule limit J = ½ Σ_αβ Λ^αβ(Ω) [n_B(Ω − μ_αβ; T_e) − n_B(Ω; T_ph)]
    (A_ph → (π/Ω) δ(ω − Ω); an independent integral in the line's own variable at the given η agreed with
    it to 2e-13 and 3e-16 of J)."""
    baths = ehpjax.Baths(mu0 + V / 2, mu0 - V / 2, T_e, T_ph)
    lam = np.asarray(jax.jit(ehpjax.ehp_dos)(paper_junction, baths, jnp.array([omega])))[:, 0, 0, 0].real
    mu = np.asarray(baths.mu_channels)
    limit = 0.5 * np.sum(lam * (1 / np.expm1((omega - mu) / T_e) - 1 / np.expm1(omega / T_ph)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = ehpjax.currents(paper_junction, ehpjax.Modes.single(omega, eta), baths)
    tolerance = 1e-6 * max(abs(limit), 1e-4)
    assert abs(float(result.J) - limit) <= max(tolerance, float(result.J_error)), (float(result.J), limit)
