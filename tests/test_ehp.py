"""Λ^αβ(ω), power spectra and golden-rule rates against quadrature and the properties of docs/physics.md §4."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ehpjax
import reference
from conftest import assert_close, build, compilations, paper_arrays, random_arrays

CH = ehpjax.CHANNELS
SWAP = [0, 1, 3, 2]  # channel index of βα for αβ = LL, RR, RL, LR


@pytest.mark.parametrize("bath", [(10.0, 10.0, 0.5), (10.4, 9.6, 0.2), (9.0, 11.0, 0.05)])
def test_paper_model_matches_quadrature(paper_junction, bath):
    H, gL, gR, M = paper_arrays()[:4]
    baths = ehpjax.Baths(bath[0], bath[1], bath[2], 0.3)
    omega = np.array([0.2, 1.0, 1.7, -0.6, 3.0])
    lam = np.asarray(ehpjax.ehp_dos(paper_junction, baths, omega))
    assert lam.shape == (4, 5, 1, 1)
    for c, name in enumerate(CH):
        for i, w in enumerate(omega):
            ref = reference.ehp_dos_ref(H, gL, gR, M, bath[0], bath[1], bath[2], w, name)
            assert_close(lam[c, i], ref)


@pytest.mark.parametrize("seed, n, nb", [(10, 1, 1), (11, 2, 2), (12, 3, 3), (13, 4, 2), (14, 4, 3)])
def test_random_models_match_quadrature(seed, n, nb):
    arrays = random_arrays(seed, n, nb)
    junction, _ = build(arrays)
    rng = np.random.default_rng(seed)
    mu_L, mu_R = rng.uniform(-1.5, 1.5, 2)
    T = rng.uniform(0.05, 0.5)
    omega = np.array([rng.uniform(0.05, 2.0), -rng.uniform(0.05, 2.0), mu_L - mu_R + 0.01])
    lam = np.asarray(ehpjax.ehp_dos(junction, ehpjax.Baths(mu_L, mu_R, T, T), omega))
    for c, name in enumerate(CH):
        for i, w in enumerate(omega):
            ref = reference.ehp_dos_ref(*arrays[:4], mu_L, mu_R, T, w, name)
            assert_close(lam[c, i], ref)


def test_hermitian_and_frequency_reflection():
    junction, _ = build(random_arrays(20, 3, 3))
    baths = ehpjax.Baths(0.3, -0.4, 0.15, 0.15)
    omega = np.linspace(-2, 2, 9)
    lam = np.asarray(ehpjax.ehp_dos(junction, baths, omega))
    np.testing.assert_allclose(lam, np.conj(np.swapaxes(lam, -1, -2)), atol=1e-15)
    # Λ^αβ_mn(−ω) = −Λ^βα_nm(ω)
    reflected = -np.swapaxes(lam[SWAP, ::-1], -1, -2)
    np.testing.assert_allclose(lam, reflected, atol=1e-12 * np.abs(lam).max())


def test_equilibrium_is_positive_semidefinite():
    junction, _ = build(random_arrays(21, 4, 3))
    lam = np.asarray(ehpjax.ehp_dos(junction, ehpjax.Baths(0.2, 0.2, 0.1, 0.1), np.linspace(0.01, 3, 25)))
    eigs = np.linalg.eigvalsh(lam)
    assert eigs.min() > -1e-12 * np.abs(eigs).max()


def test_bias_inverts_population_below_the_channel_chemical_potential():
    junction, _ = build(random_arrays(22, 3, 1))
    baths = ehpjax.Baths(0.8, -0.7, 0.1, 0.1)
    omega = np.linspace(-3, 3, 121)
    lam = np.asarray(ehpjax.ehp_dos(junction, baths, omega))[..., 0, 0]
    assert np.max(np.abs(lam.imag)) == 0.0  # one mode: real
    for c, mu in enumerate(np.asarray(baths.mu_channels)):
        away = np.abs(omega - mu) > 1e-6
        assert np.all(np.sign(lam[c].real[away]) == np.sign(omega - mu)[away]), CH[c]
    at_mu = np.asarray(ehpjax.ehp_dos(junction, baths, baths.mu_channels))
    for c in range(4):
        assert abs(at_mu[c, c, 0, 0]) < 1e-14


def test_paper_model_intra_lead_channels_vanish(paper_junction):
    lam = np.asarray(ehpjax.ehp_dos(paper_junction, ehpjax.Baths(10.5, 9.5, 0.1, 0.1), np.linspace(-2, 2, 11)))
    assert np.all(lam[:2] == 0.0)
    assert np.all(np.abs(lam[2:]) > 0)


def test_flat_dos_limit():
    """Huge broadening: A_α constant near the Fermi level, Λ = (ω − μ_αβ)/2π · tr[M A_α M A_β]."""
    g = 400.0
    junction = ehpjax.Junction([[0.0]], [[g]], [[2 * g]], [[[1.0]]])
    baths = ehpjax.Baths(0.3, -0.2, 0.1, 0.1)
    omega = np.array([-0.7, 0.1, 0.5, 1.2])
    lam = np.asarray(ehpjax.ehp_dos(junction, baths, omega))[..., 0, 0].real
    a_left, a_right = (np.asarray(a)[0, 0].real for a in ehpjax.spectral_functions(junction, 0.0))
    a = {"L": a_left, "R": a_right}
    for c, name in enumerate(CH):
        expected = (omega - float(baths.mu_channels[c])) / (2 * np.pi) * a[name[0]] * a[name[1]]
        np.testing.assert_allclose(lam[c], expected, rtol=1e-5, atol=1e-10 * np.max(np.abs(expected)))


def test_zero_temperature_closed_form_single_level():
    """T → 0, one level, LL channel: Λ(ω) = m²γ_L²/2π ∫_μ^{μ+ω} dε L(ε) L(ε−ω), with
    L(x) = 1/((x−ε0)² + γ²/4), integrated in closed form by partial fractions (logs)."""
    eps0, gl, gr, m, mu = 0.2, 0.3, 0.5, 0.7, 0.1
    g = 0.5 * (gl + gr)
    junction = ehpjax.Junction([[eps0]], [[gl]], [[gr]], [[[m]]])
    omega = np.array([0.05, 0.4, 1.3])
    lam = np.asarray(ehpjax.ehp_dos(junction, ehpjax.Baths(mu, mu, 1e-4, 1e-4), omega))[0, :, 0, 0].real
    for w, got in zip(omega, lam):
        p = np.array([1j * g, -1j * g, w + 1j * g, w - 1j * g])
        r = np.array([1 / np.prod([p[j] - p[k] for k in range(4) if k != j]) for j in range(4)])

        def antiderivative(x):
            return np.sum(r * np.log(x - p))

        exact = m**2 * gl**2 / (2 * np.pi) * (antiderivative(mu + w - eps0) - antiderivative(mu - eps0)).real
        np.testing.assert_allclose(got, exact, rtol=1e-6)


def test_power_spectrum_and_rates_match_quadrature_and_detailed_balance():
    arrays = random_arrays(23, 2, 2)
    junction, _ = build(arrays)
    mu_L, mu_R, T = 0.5, -0.3, 0.2
    baths = ehpjax.Baths(mu_L, mu_R, T, T)
    omega = np.array([0.0, 0.4, 0.8, 1.5])  # 0 and 0.8 = μ_LR are the singular points of n_B
    spectrum = np.asarray(ehpjax.power_spectrum(junction, baths, omega))
    emission, absorption = (np.asarray(x) for x in ehpjax.golden_rule_rates(junction, baths, omega))
    lam = np.asarray(ehpjax.ehp_dos(junction, baths, omega))
    assert np.all(np.isfinite(spectrum)) and np.all(np.isfinite(emission))
    # Γ_e = Σ Λ: absorption − emission is the e-bath broadening of each channel
    np.testing.assert_allclose(absorption - emission, lam, atol=1e-12)
    for c, name in enumerate(CH):
        for i, w in enumerate(omega):
            assert_close(spectrum[c, i], reference.power_spectrum_ref(*arrays[:4], mu_L, mu_R, T, w, name), rtol=1e-6)
            ref_e, ref_a = reference.golden_rule_rates_ref(*arrays[:4], mu_L, mu_R, T, w, name)
            assert_close(emission[c, i], ref_e, rtol=1e-6)
            assert_close(absorption[c, i], ref_a, rtol=1e-6)
            # power spectrum ≥ 0 (PSD as a matrix)
            assert np.linalg.eigvalsh(spectrum[c, i]).min() > -1e-12
            # detailed balance, Eq. 4 (single diagonal element)
            x = (w - float(baths.mu_channels[c])) / T
            if abs(absorption[c, i, 0, 0]) > 1e-12:
                np.testing.assert_allclose(emission[c, i, 0, 0] / absorption[c, i, 0, 0], np.exp(-x), rtol=1e-7)


def test_spin_degeneracy_multiplies_lambda():
    H, gL, gR, M = paper_arrays()[:4]
    baths = ehpjax.Baths(10.2, 9.8, 0.3, 0.3)
    one = ehpjax.ehp_dos(ehpjax.Junction(H, gL, gR, M), baths, 1.0)
    two = ehpjax.ehp_dos(ehpjax.Junction(H, gL, gR, M, spin_degeneracy=2.0), baths, 1.0)
    np.testing.assert_allclose(two, 2 * np.asarray(one), rtol=1e-14)


def test_extreme_but_valid_inputs_stay_finite(paper_junction):
    omega = jnp.array([0.0, 1e-12, 1e-3, 1.0, 5.0])

    @jax.jit  # one program for both temperatures (eagerly, every operation compiles on its own)
    def gradient(e, T):
        return jax.grad(lambda e: ehpjax.power_spectrum(
            ehpjax.Junction.two_level(e, 9.5, 0.5, 0.5, 0.5), ehpjax.Baths(0.0, 0.0, T, T), omega)[3].real.sum())(e)

    for T in (1e-3, 1e-2):
        baths = ehpjax.Baths(0.0, 0.0, T, T)  # |ε − μ|/T up to 1e4
        for fn in (ehpjax.ehp_dos, ehpjax.power_spectrum):
            assert np.all(np.isfinite(np.asarray(fn(paper_junction, baths, omega))))
        assert np.isfinite(gradient(10.5, T))


def test_vmap_over_baths_equals_loop(paper_junction):
    mus = jnp.array([9.5, 10.0, 10.5])
    batched = jax.jit(jax.vmap(lambda mu: ehpjax.ehp_dos(paper_junction, ehpjax.Baths(mu, mu - 0.3, 0.2, 0.2), 0.7)))(mus)
    looped = np.stack([ehpjax.ehp_dos(paper_junction, ehpjax.Baths(mu, mu - 0.3, 0.2, 0.2), 0.7) for mu in mus])
    np.testing.assert_allclose(batched, looped, rtol=1e-13)


def test_an_eager_vmap_runs_one_program(paper_junction):
    """Outside any jit, a vmap of ehp_dos compiles one program, not one per operation (the
    public functions jit themselves under a caller's transformation), with the looped values."""
    mus = (9.4, 10.1, 10.6)  # values no other test uses
    looped = [ehpjax.ehp_dos(paper_junction, ehpjax.Baths(mu, mu - 0.3, 0.2, 0.2), 0.7) for mu in mus]
    baths = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *[ehpjax.Baths(mu, mu - 0.3, 0.2, 0.2) for mu in mus])
    with compilations() as compiled:
        batched = jax.vmap(lambda b: ehpjax.ehp_dos(paper_junction, b, 0.7))(baths)
    assert len(compiled) == 1, compiled
    np.testing.assert_allclose(batched, np.stack(looped), rtol=1e-13, atol=1e-300)


def test_pair_terms_equal_the_pair_integrals_they_select():
    """``pair_terms`` (a few pole pairs, as for a junction with structural zeros) gives the same
    K = el[α] − hole[β] as ``pair_integrals``, also on the Taylor branch of near pairs (ω = 0 for
    k = k', ω = Re(z_k − z_k') between poles of equal width)."""
    from ehpjax._ehp import pair_integrals, pair_terms, pole_polygammas

    z = jnp.array([10.2 - 0.3j, 9.7 - 0.3j])  # equal widths: near pairs at ω = ±0.5
    mu_L, mu_R, T = 10.1, 9.6, 0.2
    omega = jnp.array([0.0, 1e-9, 0.37, 0.5, 0.5 + 1e-7, 2.0, 7.5])
    terms = tuple((block, a, b, k, kp) for block in (0, 1) for a in (0, 1) for b in (0, 1)
                  for k in range(2) for kp in range(2))
    at_poles = jax.jit(pole_polygammas)(z, mu_L, mu_R, T)  # (one program, not some 50 operations)
    got = np.asarray(jax.jit(lambda om: pair_terms(z, om, mu_L, mu_R, T, at_poles, terms))(omega))
    el, hole = jax.jit(lambda om: pair_integrals(z, om, mu_L, mu_R, T, at_poles))(omega)
    want = np.stack([np.asarray(el[block][a] - hole[block][b])[k, kp] for block, a, b, k, kp in terms])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.max(np.abs(want)))


def _pair_point():
    """Poles with near pairs (ω = 0 for k = k', ω = ±0.5 between the two of equal width), nodes
    on and off them, and a random tangent of every argument."""
    rng = np.random.default_rng(7)
    z = jnp.array([10.2 - 0.3j, 9.7 - 0.3j, 10.05 - 0.55j])
    omega = jnp.array([-2.3, -0.5, -1e-7, 0.0, 1e-9, 0.37, 0.5, 0.5 + 1e-7, 2.0, 7.5])
    primals = (z, omega, 10.1, 9.6, 0.2)
    tangents = (jnp.asarray(rng.normal(size=3) + 1j * rng.normal(size=3)), jnp.asarray(rng.normal(size=omega.size)),
                *(float(x) for x in rng.normal(size=3)))
    return primals, tangents


def _stacked_pair_formulas(z, omega, mu_L, mu_R, T):
    """The same values as ``_stacked_pair_integrals`` through JAX's chain rule: ``_pair_parts`` with
    the ψ^(m) at the poles computed from the arguments (no written-out derivative)."""
    from ehpjax._ehp import _pair_parts, pole_polygammas

    real = [jnp.asarray(x, dtype=jnp.float64) for x in (omega, mu_L, mu_R, T)]
    el, hole = _pair_parts(z, *real, tuple(pole_polygammas(z, mu_L, mu_R, T)), slopes=False)
    return jnp.stack([jnp.stack(part[block]) for part in (el, hole) for block in (0, 1)])


def _stacked_pair_integrals(z, omega, mu_L, mu_R, T):
    from ehpjax._ehp import pair_integrals

    return jnp.stack([jnp.stack(part[block]) for part in pair_integrals(z, omega, mu_L, mu_R, T) for block in (0, 1)])


def test_pair_integrals_derivative_is_the_chain_rules():
    """The hand-written derivative of the pair integrals (``_pair_integrals_jvp``) equals JAX's
    chain rule through the same formulas (``_pair_parts`` with the ψ^(m) at the poles computed
    from the arguments), also on the Taylor branch of near pairs, for each argument's tangent
    alone and all together (a vmap over the six tangents: one program per side)."""
    primals, tangents = _pair_point()
    tangents = [jnp.asarray(t) for t in tangents]
    masks = np.vstack([np.ones(5), np.eye(5)])  # every argument, then each alone
    batch = tuple(jnp.asarray(masks[:, i]).reshape((-1,) + (1,) * t.ndim) * t for i, t in enumerate(tangents))

    def derivatives(fn):
        return jax.jit(jax.vmap(lambda *t: jax.jvp(fn, primals, t)))(*batch)

    (value, ours), (want_value, theirs) = derivatives(_stacked_pair_integrals), derivatives(_stacked_pair_formulas)
    np.testing.assert_allclose(value, want_value, rtol=1e-13, atol=0)
    for row, (mine, chain) in enumerate(zip(ours, theirs)):
        scale = np.max(np.abs(chain))
        assert scale > 0, row
        np.testing.assert_allclose(mine, chain, rtol=1e-11, atol=1e-12 * scale, err_msg=f"tangent {row}")


def test_pair_integrals_derivative_matches_central_differences():
    """The same derivative against central differences of the values (step 1e-6 along the tangent)."""
    primals, tangents = _pair_point()
    derivative = jax.jit(lambda *t: jax.jvp(_stacked_pair_integrals, primals, t)[1])(*tangents)
    h = 1e-6
    value = jax.jit(lambda s: _stacked_pair_integrals(*(p + s * t for p, t in zip(primals, tangents))))
    central = (value(h) - value(-h)) / (2 * h)
    np.testing.assert_allclose(derivative, central, rtol=0, atol=1e-7 * np.max(np.abs(central)))


def test_pair_integrals_derivative_on_random_points():
    """A seeded fuzz of the same comparison: 48 random sets of three poles (widths 1e-3 … 3, some
    with a shared width so that near pairs occur on the nodes), temperatures 1e-3 … 10, leads'
    chemical potentials and nodes across the poles, each with a random tangent of every argument."""
    rng = np.random.default_rng(11)
    count = 48
    widths = 10.0 ** rng.uniform(-3, 0.5, (count, 3))
    widths[::3, 1] = widths[::3, 0]  # equal widths: near pairs at ω = Re(z_0 − z_1)
    z = rng.uniform(-2, 2, (count, 3)) - 1j * widths
    omega = rng.uniform(-4, 4, (count, 8))
    omega[:, 0] = 0.0
    omega[:, 1] = np.real(z[:, 0] - z[:, 1])
    mu = rng.uniform(-2, 2, (count, 2))
    T = 10.0 ** rng.uniform(-3, 1, count)
    primals = tuple(jnp.asarray(x) for x in (z, omega, mu[:, 0], mu[:, 1], T))
    tangents = (jnp.asarray(rng.normal(size=(count, 3)) + 1j * rng.normal(size=(count, 3))),
                *(jnp.asarray(rng.normal(size=x.shape)) for x in (omega, mu[:, 0], mu[:, 1], T)))

    def derivatives(fn):
        return jax.jit(jax.vmap(lambda p, t: jax.jvp(fn, p, t)[1]))(primals, tangents)

    ours, theirs = derivatives(_stacked_pair_integrals), derivatives(_stacked_pair_formulas)
    assert np.all(np.isfinite(ours))
    scale = np.max(np.abs(theirs), axis=tuple(range(1, theirs.ndim)), keepdims=True)
    np.testing.assert_array_less(np.abs(ours - theirs) / scale, 1e-10)  # (1.3e-12 at worst here)


@pytest.mark.parametrize("blocks", [(0, 1), (0,), (1,)])
def test_pair_terms_derivative_is_the_chain_rules(blocks):
    """``pair_terms``' written-out derivative (``_pair_terms_jvp``) equals the chain rule through
    the same formulas, for terms of either block or both, with ψ^(1..4) at the poles only where the
    block-0 terms' Taylor series need them (as ``currents`` passes them), each argument's tangent
    alone and all together."""
    from ehpjax._ehp import _pair_terms_parts, pair_terms, pole_polygammas

    z = jnp.array([10.2 - 0.3j, 9.7 - 0.3j])  # equal widths: near pairs at ω = ±0.5
    terms = tuple((block, a, b, k, kp) for block in blocks for a in (0, 1) for b in (0, 1)
                  for k in range(2) for kp in range(2) if (a + b + k + kp + block) % 3)  # (a subset)
    taylor = {p for block, a, b, k, kp in terms if block == 0 for p in ((a, k), (b, kp))}

    def ours(z, omega, mu_L, mu_R, T):
        return pair_terms(z, omega, mu_L, mu_R, T, pole_polygammas(z, mu_L, mu_R, T, taylor), terms)

    def formulas(z, omega, mu_L, mu_R, T):
        real = [jnp.asarray(x, dtype=jnp.float64) for x in (omega, mu_L, mu_R, T)]
        return _pair_terms_parts(z, *real, tuple(pole_polygammas(z, mu_L, mu_R, T)), terms, slopes=False)

    _, tangents = _pair_point()
    omega = jnp.array([-2.3, -0.5, -1e-7, 0.0, 1e-9, 0.37, 0.5, 0.5 + 1e-7, 2.0, 7.5])
    primals = (z, omega, 10.1, 9.6, 0.2)
    tangents = [jnp.asarray(tangents[0][:2]), *(jnp.asarray(t) for t in tangents[1:])]
    masks = np.vstack([np.ones(5), np.eye(5)])  # every argument, then each alone
    batch = tuple(jnp.asarray(masks[:, i]).reshape((-1,) + (1,) * t.ndim) * t for i, t in enumerate(tangents))

    def derivatives(fn):
        return jax.jit(jax.vmap(lambda *t: jax.jvp(fn, primals, t)))(*batch)

    (value, mine), (want_value, chain) = derivatives(ours), derivatives(formulas)
    np.testing.assert_allclose(value, want_value, rtol=1e-12, atol=1e-13 * np.max(np.abs(want_value)))
    for row, (x, y) in enumerate(zip(mine, chain)):
        scale = np.max(np.abs(y))
        assert scale > 0, row
        np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-12 * scale, err_msg=f"tangent {row}")


def test_derivatives_in_the_chemical_potentials_or_the_nodes_alone_are_the_chain_rules():
    """The written-out derivatives when only μ_L, μ_R or only ω move: the other arguments
    closed over, so that their tangents are JAX's symbolic zeros (as where only the bias, or only a
    mode, is designed), not zeros (the tests above). A point's tangent is then one number per lead,
    or one row of nodes, and must still be as wide as the points. Against the chain rule through
    the same formulas."""
    from ehpjax._ehp import _pair_terms_parts, pair_terms, pole_polygammas

    (z, omega, mu_L, mu_R, T), tangents = _pair_point()
    terms = ((0, 0, 1, 0, 1), (0, 1, 0, 1, 0), (1, 0, 1, 0, 1), (1, 1, 0, 0, 1))

    def integrals(fn):
        return lambda mu, om: fn(z, om, mu[0], mu[1], T)

    def pair_terms_of(mu, om):
        return pair_terms(z[:2], om, mu[0], mu[1], T, pole_polygammas(z[:2], mu[0], mu[1], T, {(0, 0), (1, 1)}), terms)

    def pair_terms_formulas(mu, om):
        real = [jnp.asarray(x, dtype=jnp.float64) for x in (om, mu[0], mu[1], T)]
        return _pair_terms_parts(z[:2], *real, tuple(pole_polygammas(z[:2], mu[0], mu[1], T)), terms, slopes=False)

    mu, dmu = jnp.array([mu_L, mu_R]), jnp.array([tangents[2], tangents[3]])
    for ours, chain in ((integrals(_stacked_pair_integrals), integrals(_stacked_pair_formulas)),
                        (pair_terms_of, pair_terms_formulas)):
        def derivatives(fn):  # μ alone, ω alone
            return (jax.jvp(lambda m: fn(m, omega), (mu,), (dmu,))[1],
                    jax.jvp(lambda om: fn(mu, om), (omega,), (tangents[1],))[1])

        got, expected = jax.jit(lambda: derivatives(ours))(), jax.jit(lambda: derivatives(chain))()
        for x, y in zip(got, expected):
            assert x.shape == y.shape
            np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-12 * np.max(np.abs(y)))
