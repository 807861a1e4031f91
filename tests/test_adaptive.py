"""The default rule's machinery (``_adaptive``, docs/physics.md §5): the batch-level refinement
of the points whose estimate misses, its third pass on parts, the derivatives it takes from the
fine rule, the chunks of a large batch, and the accuracy warning as one host call per batch."""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ehpjax
import reference
from conftest import assert_close

# The default rule (AdaptiveQuadrature): 4 panels, 10 where the estimate is not well inside the
# tolerance; under vmap the refinement is a batch-level pass and the warning one host call.
# Every batch below has 8 points (nested: 2 × 4), so that each rule compiles once for the module.
NARROW_AND_WIDE = jnp.array([1e-10, 0.5, 0.2, 1e-9, 0.5, 0.2, 0.5, 0.2])  # γ_ph: 1e-10 and 1e-9 miss 1e-6 even after the splits
WIDE = jnp.array([0.5, 0.2, 0.5, 0.2, 0.3, 0.4, 0.5, 0.2])


def _J_of_gamma_ph(quadrature):
    junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)
    baths = ehpjax.Baths(10.0, 10.0, 0.5, 0.3)

    def J(gamma_ph):
        return ehpjax.currents(junction, ehpjax.Modes.single(1.0, gamma_ph), baths, quadrature=quadrature).J

    return J


@functools.cache
def batched_J(quadrature, nested=False):
    """jit(vmap(J(γ_ph))) (nested: jit(vmap(vmap))) on the rule ``quadrature``, compiled once."""
    J = _J_of_gamma_ph(quadrature)
    return jax.jit(jax.vmap(jax.vmap(J)) if nested else jax.vmap(J))


ADAPTIVE = ehpjax.AdaptiveQuadrature()
COARSE, FINE = ehpjax.FrequencyQuadrature(panels=4, warn=False), ehpjax.FrequencyQuadrature(warn=False)


def test_default_warns_once_per_batch_under_jit_and_vmap():
    for quadrature in (ADAPTIVE, ehpjax.FrequencyQuadrature()):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            jax.block_until_ready(batched_J(quadrature)(NARROW_AND_WIDE))
            jax.block_until_ready(batched_J(quadrature, nested=True)(NARROW_AND_WIDE.reshape(2, 4)))
        messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert len(messages) == 2, messages  # one per call, not one per point
        assert all("at 2 of 8 points" in m and "estimated error" in m for m in messages)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jax.block_until_ready(batched_J(ADAPTIVE)(WIDE))


def test_the_warning_is_no_effect_and_is_kept_by_every_use_of_the_result():
    """The warning's host call is a pure callback tied to the result's values and derivatives
    (``_adaptive.report``): a traced ``currents`` adds no effect (a program with one leaves JAX's
    fast dispatch path: the default Fig-3 program was 1.08× slower), and a program that uses
    only I, or only the gradient of J, still warns."""
    rule = ehpjax.FrequencyQuadrature(panels=4)
    junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)

    def result(gamma_ph):
        return ehpjax.currents(junction, ehpjax.Modes.single(1.0, gamma_ph), ehpjax.Baths(10.2, 9.8, 0.5, 0.3),
                               quadrature=rule)

    assert not jax.make_jaxpr(jax.vmap(lambda g: result(g).J))(NARROW_AND_WIDE).effects
    only_I = jax.jit(jax.vmap(lambda g: result(g).I))
    only_gradient = jax.jit(jax.vmap(jax.grad(lambda g: result(g).J)))
    for program in (only_I, only_gradient):
        with pytest.warns(RuntimeWarning, match="at 2 of 8 points"):
            jax.block_until_ready(program(NARROW_AND_WIDE))
            jax.effects_barrier()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jax.block_until_ready(only_gradient(WIDE))
        jax.effects_barrier()


def test_the_host_is_called_only_when_a_point_misses_the_tolerance(monkeypatch):
    """The warning's host callback runs behind a device-side test of the whole batch: a batch
    whose every point meets the tolerance makes no host call."""
    import ehpjax._currents as module

    calls = []
    original = module._warn_inaccurate
    monkeypatch.setattr(module, "_warn_inaccurate", lambda *a, **k: calls.append(1) or original(*a, **k))
    J = jax.jit(jax.vmap(_J_of_gamma_ph(ehpjax.FrequencyQuadrature(panels=9))))  # settings no other test traces
    jax.block_until_ready(J(jnp.array([0.5, 0.3])))
    jax.effects_barrier()
    assert calls == []
    with pytest.warns(RuntimeWarning, match="at 1 of 2 points"):
        jax.block_until_ready(J(jnp.array([0.5, 1e-3])))
        jax.effects_barrier()
    assert calls == [1]


def test_adaptive_rule_refines_exactly_the_points_that_need_it():
    """Kept coarse points equal the 4-panel rule, refined ones the 10-panel rule, and a point that
    10 panels miss the 40-panel rule (the 10-panel code on four parts of the map); batched, nested
    and single calls agree; all within 1e-6 of the 40-panel rule, and the last of scipy's quadrature."""
    gammas = jnp.array([0.5, 0.05, 0.2, 0.02, 1.0, 0.03, 0.3, 2e-3])  # wide modes pass at 4 panels, narrow ones are refined
    default = batched_J(ADAPTIVE)(gammas)
    nested = batched_J(ADAPTIVE, nested=True)(gammas.reshape(2, 4)).ravel()
    single = np.array([float(_J_of_gamma_ph(ADAPTIVE)(g)) for g in gammas])
    coarse, fine = batched_J(COARSE)(gammas), batched_J(FINE)(gammas)
    finer = batched_J(ehpjax.FrequencyQuadrature(panels=40, warn=False))(gammas)
    # (equal up to rounding: the fine rule runs on a buffer of another batch size)
    kept, refined = np.isclose(default, coarse, rtol=1e-13, atol=0), np.isclose(default, fine, rtol=1e-13, atol=0)
    assert np.all(kept[:-1] | refined[:-1]) and kept.any() and refined.any()
    np.testing.assert_allclose(default[-1], finer[-1], rtol=1e-12)
    assert not np.isclose(default[-1], fine[-1], rtol=1e-9, atol=0)
    np.testing.assert_allclose(nested, default, rtol=1e-13)
    np.testing.assert_allclose(single, default, rtol=1e-12)
    for value, ref in zip(np.asarray(default), np.asarray(finer)):
        assert_close(value, ref)
    ref = reference.currents_ref(*reference.paper_model(gamma_ph=2e-3), 10.0, 10.0, 0.5, 0.3)["J"]
    assert_close(default[-1], ref)  # (where the 10-panel rule misses the tolerance)


def test_padding_points_are_not_refined():
    """Inside ``_adaptive.refined_only_where(active)`` (a sweep pads its last chunk with repeats of
    one point), the points where ``active`` is False keep the coarse result however they miss,
    the others are refined as usual; a single point likewise."""
    from ehpjax._adaptive import refined_only_where

    gammas = jnp.array([0.5, 0.05, 0.2, 0.02, 1.0, 0.03, 0.3, 0.04])  # narrow ones are refined
    active = jnp.array([True, True, True, True, False, False, False, False])
    J = _J_of_gamma_ph(ehpjax.AdaptiveQuadrature(fine=FINE))

    def padded(gamma, active):
        with refined_only_where(active):
            return J(gamma)

    got = jax.jit(jax.vmap(padded))(gammas, active)
    default, coarse = batched_J(ADAPTIVE)(gammas), batched_J(COARSE)(gammas)
    assert not np.allclose(default[5:], coarse[5:], rtol=1e-9, atol=0)  # (the padding would be refined)
    np.testing.assert_allclose(got[:4], default[:4], rtol=1e-13)
    np.testing.assert_allclose(got[4:], coarse[4:], rtol=1e-13)


def test_adaptive_rule_with_more_flagged_points_than_one_buffer():
    """refine_fraction × 8 points rounds up to one point per pass; here every point needs refining."""
    gammas = jnp.linspace(0.02, 0.04, 8)
    np.testing.assert_allclose(batched_J(ADAPTIVE)(gammas), batched_J(FINE)(gammas), rtol=1e-13)


def test_default_gradient_is_the_fine_rules_under_vmap():
    gammas = jnp.array([0.5, 0.03])
    grad_default = jax.jit(jax.vmap(jax.grad(_J_of_gamma_ph(ADAPTIVE))))(gammas)
    grad_fine = jax.jit(jax.vmap(jax.grad(_J_of_gamma_ph(FINE))))(gammas)
    np.testing.assert_allclose(grad_default, grad_fine, rtol=1e-12)  # (the fine rule's gradients: tested above)


def test_a_batch_larger_than_a_chunk_is_evaluated_in_chunks_with_the_same_results(monkeypatch):
    """The default rule cuts a large batch into equal chunks evaluated one after another
    (``_adaptive._CHUNK`` points at most), and so does a fixed rule on a known junction; the
    values are those of one batch, refined points included, and the padding of the last chunk
    does not change them (8 points in chunks of 3)."""
    import ehpjax._adaptive as adaptive

    gammas = jnp.array([0.5, 0.05, 0.2, 0.02, 1.0, 0.03, 0.3, 0.04])
    whole, fixed_whole, coarse = (batched_J(rule)(gammas) for rule in (ADAPTIVE, FINE, COARSE))
    monkeypatch.setattr(adaptive, "_CHUNK", 3)
    assert adaptive._chunks(8) == 3  # (one CPU device: chunks of 3, 3, 2 + 1 padding)
    chunked = jax.jit(jax.vmap(_J_of_gamma_ph(ADAPTIVE)))(gammas)  # (traced anew)
    fixed = jax.jit(jax.vmap(_J_of_gamma_ph(FINE)))(gammas)  # (a fixed rule on a known junction: chunked too)
    np.testing.assert_allclose(chunked, whole, rtol=1e-13)
    np.testing.assert_allclose(fixed, fixed_whole, rtol=1e-13)
    assert not np.allclose(whole, coarse, rtol=1e-9, atol=0)  # (some points were refined)


def test_refine_takes_its_derivatives_from_the_given_rule():
    """``refine``'s derivatives are those of ``derivative`` (the fine rule computed another way:
    the default rule's blocks of nodes for a known junction), for one point and under vmap."""
    from ehpjax._adaptive import refine

    def f(x):
        return refine(lambda x: x**2, lambda part, x: x**2 + 1.0, lambda sums, x: sums, lambda r: r > 4.0, (x,),
                      derivative=lambda x: 3.0 * x)

    np.testing.assert_allclose([f(1.0), f(3.0)], [1.0, 10.0])  # (3² = 9 misses: the fine rule)
    np.testing.assert_allclose(jax.grad(f)(1.0), 3.0)
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.grad(f)))(jnp.array([1.0, 3.0])), [3.0, 3.0])


def test_refine_recomputes_on_parts_where_the_fine_rule_still_misses():
    """``refine``'s third pass: where the fine result still misses, the fine rule on each of the
    parts of its range, their sums added and combined; the same for one point and under vmap,
    with buffers of one entry (several passes) or of all."""
    from ehpjax._adaptive import Finer, refine

    def coarse(x):
        return {"value": x, "parts": jnp.zeros(())}

    def fine(part, x):  # additive over parts: (t₁ − t₀) x, and one per part
        return {"value": (part[1] - part[0]) * x, "parts": jnp.ones(())}

    def combine(sums, x):
        return {"value": sums["value"] + 100.0 * (sums["parts"] == 3), "parts": sums["parts"]}

    xs = jnp.array([0.5, 1.5, 3.0, 0.7, 4.0, 2.5])

    def f(x, fraction):
        return refine(coarse, fine, combine, lambda result: result["value"] > 1.0, (x,), fraction,
                      finer=Finer(3, lambda result: result["value"] > 2.0))

    expected = {"value": np.where(xs > 2.0, xs + 100.0, xs), "parts": np.select([xs > 2.0, xs > 1.0], [3.0, 1.0], 0.0)}
    for fraction in (1e-3, 1.0):
        one = jax.jit(lambda x: f(x, fraction))
        batched = jax.jit(jax.vmap(lambda x: f(x, fraction)))(xs)
        single = [one(x) for x in xs]
        for key in expected:
            np.testing.assert_allclose(batched[key], expected[key], rtol=1e-15)
            np.testing.assert_allclose([s[key] for s in single], expected[key], rtol=1e-15)


def test_refine_from_the_whole_range_straight_to_parts_keeps_what_restart_keeps():
    """``Finer.after_coarse`` (the dressed currents): the coarse rule is the fine rule on the whole
    range, so the points it misses go straight to its parts, whose sums are added to what
    ``restart`` keeps of the whole range's (the dressed rule's stability count); points not
    ``active`` keep the whole range's result. The same for one point and under vmap, with buffers
    of one entry (several passes) or of all."""
    from ehpjax._adaptive import Finer, refine
    from ehpjax._quadrature import WHOLE

    def fine(part, x):  # additive over parts: (t₁ − t₀) x, one per part; "kept" on the whole range only
        whole = (part[0] == 0.0) & (part[1] == 1.0)
        return {"value": (part[1] - part[0]) * x, "parts": jnp.where(whole, 0.0, 1.0),
                "kept": jnp.where(whole, 7.0 * x, 0.0)}

    def combine(sums, x):
        return {"value": sums["value"] + 100.0 * (sums["parts"] == 3), "parts": sums["parts"], "kept": sums["kept"]}

    def restart(sums):
        return {"value": jnp.zeros_like(sums["value"]), "parts": jnp.zeros_like(sums["parts"]), "kept": sums["kept"]}

    def misses(result):
        return result["value"] > 2.0

    xs = jnp.array([0.5, 2.5, 1.5, 3.0, 4.0, 0.7])
    active = xs != 4.0

    def f(x, on, fraction):
        return refine(lambda x: fine(WHOLE, x), fine, combine, misses, (x,), fraction, on,
                      finer=Finer(3, misses, restart=restart, after_coarse=True))

    refined = (xs > 2.0) & active
    expected = {"value": np.where(refined, xs + 100.0, xs), "parts": np.where(refined, 3.0, 0.0), "kept": 7.0 * xs}
    for fraction in (1e-3, 1.0):
        batched = jax.jit(jax.vmap(lambda x, on: f(x, on, fraction)))(xs, active)
        one = jax.jit(lambda x, on: f(x, on, fraction))
        single = [one(x, on) for x, on in zip(xs, active)]
        for key in expected:
            np.testing.assert_allclose(batched[key], expected[key], rtol=1e-15)
            np.testing.assert_allclose([s[key] for s in single], expected[key], rtol=1e-15)


@pytest.mark.parametrize("after_coarse, aim", [(False, False), (True, False), (False, True)])
def test_refine_splits_the_part_of_largest_error_until_the_sum_meets_the_tolerance(after_coarse, aim):
    """``Finer.splits``: where the parts' sum still misses, the part of largest ``part_error`` is cut
    into ``parts`` again, at most ``splits`` times. A rule whose error sits in the part holding
    t = 0.3 (its width) and whose value is additive (x per unit of range): each point splits until
    that part's width meets its tolerance 0.02/x, its value x exactly (the parts tile the range: a
    split part's old sums are replaced), its count of parts 4 + 3 · splits; x = 100 stops at 5 splits
    still missing; x = 0.01 keeps the coarse result, x = 0.05 its quarters. With ``aim`` (a tolerance 4×
    tighter) the points whose quarters miss it are split (x = 0.05 once), and the splits go on one more
    time where they are allowed. The same for one point and under vmap, with buffers of one entry
    (several passes) or of all."""
    from ehpjax._adaptive import Finer, refine
    from ehpjax._quadrature import WHOLE

    def fine(part, x):
        width = part[1] - part[0]
        holds = (part[0] <= 0.3) & (0.3 < part[1])
        return {"value": width * x, "error": jnp.where(holds, width, 0.0), "count": jnp.ones(())}

    def misses(result):
        return result["error"] > 0.02 / result["x"]

    def combine(sums, x):
        return dict(sums, x=x)

    finer = Finer(4, misses, after_coarse=after_coarse, part_error=lambda sums, result: sums["error"], splits=5,
                  aim=(lambda result: result["error"] > 0.005 / result["x"]) if aim else None)
    coarse = (lambda x: fine(WHOLE, x)) if after_coarse else (lambda x: {"value": x, "error": 1.0 + 0 * x, "count": 0 * x})
    xs = jnp.array([0.5, 2.0, 0.01, 8.0, 100.0, 3.0, 0.05])
    splits = np.array([3, 4, 0, 5, 5, 4, 1] if aim else [2, 3, 0, 4, 5, 3, 0])
    refined = xs > 0.02
    expected = {"value": np.asarray(xs), "error": np.where(refined, 0.25 * 4.0 ** -splits, 1.0),
                "count": np.where(refined, 4 + 3 * splits, 1 if after_coarse else 0)}

    def f(x, fraction):
        return refine(coarse, fine, combine, misses, (x,), fraction, finer=finer)

    for fraction in (1e-3, 1.0):
        batched = jax.jit(jax.vmap(lambda x: f(x, fraction)))(xs)
        one = jax.jit(lambda x: f(x, fraction))
        single = [one(x) for x in xs]
        for key in expected:
            np.testing.assert_allclose(batched[key], expected[key], rtol=1e-13)
            np.testing.assert_allclose([s[key] for s in single], expected[key], rtol=1e-13)
