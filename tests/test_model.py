"""Junction, Modes and Baths: construction, pytree behaviour and clear errors for bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ehpjax
from ehpjax._errors import EhpjaxError


def test_float64_without_any_flag(paper_junction, paper_modes):
    assert paper_junction.H.dtype == jnp.float64
    assert paper_modes.K.dtype == jnp.float64
    assert ehpjax.Baths(0, 0, 1, 1).T_e.dtype == jnp.float64


def test_two_level_is_the_paper_model(paper_junction):
    np.testing.assert_array_equal(paper_junction.H, np.diag([10.5, 9.5]))
    np.testing.assert_array_equal(paper_junction.gamma_L, np.diag([0.5, 0.0]))
    np.testing.assert_array_equal(paper_junction.gamma_R, np.diag([0.0, 0.5]))
    np.testing.assert_array_equal(paper_junction.M, 0.5 * np.array([[[0, 1], [1, 0]]]))
    modes = ehpjax.Modes.single(2.0, 0.1)
    np.testing.assert_array_equal(modes.K, [[4.0]])


def test_biased_baths_split_symmetrically():
    b = ehpjax.Baths.biased(0.6, mu0=10.0, T_e=0.2, T_ph=0.3)
    assert (float(b.mu_L), float(b.mu_R), float(b.V)) == (10.3, 9.7, pytest.approx(0.6))
    np.testing.assert_allclose(b.mu_channels, [0, 0, -0.6, 0.6])


def test_constructors_work_on_traced_values_under_jit_and_vmap():
    @jax.jit
    def build(eps_L, T):
        j = ehpjax.Junction.two_level(eps_L, 9.5, 0.5, 0.5, 0.5)
        b = ehpjax.Baths(10.0, 10.0, T, T)
        return j.H[0, 0] + b.T_e

    out = jax.vmap(build)(jnp.array([10.0, 11.0]), jnp.array([0.1, 0.2]))
    np.testing.assert_allclose(out, [10.1, 11.2])


BAD_INPUTS = [
    (lambda: ehpjax.Junction(np.ones((2, 3)), np.eye(2), np.eye(2), np.zeros((1, 2, 2))), "H must be square"),
    (lambda: ehpjax.Junction(np.eye(2), np.eye(3), np.eye(2), np.zeros((1, 2, 2))), "gamma_L must have shape"),
    (lambda: ehpjax.Junction(np.eye(2), np.eye(2), np.eye(2), np.zeros((2, 2))), "M must have shape"),
    (lambda: ehpjax.Junction([[0, 1], [0, 0]], np.eye(2), np.eye(2), np.zeros((1, 2, 2))), "H must be Hermitian"),
    (lambda: ehpjax.Junction(np.eye(2), -np.eye(2), np.eye(2), np.zeros((1, 2, 2))), "gamma_L must be positive"),
    (lambda: ehpjax.Junction(np.eye(2), np.eye(2), np.eye(2), [[[0, 1j], [1j, 0]]]), "M must be Hermitian"),
    (lambda: ehpjax.Junction(np.eye(2) * np.nan, np.eye(2), np.eye(2), np.zeros((1, 2, 2))), "H contains NaN"),
    (lambda: ehpjax.Junction.two_level(1.0, 0.0, -0.5, 0.5, 0.5), r"gamma_L must be finite and >= 0"),
    (lambda: ehpjax.Junction.two_level(1.0, np.nan, 0.5, 0.5, 0.5), "eps_R contains NaN or inf"),
    (lambda: ehpjax.Junction.two_level(1.0, 0.0, 0.5, 0.5, np.inf), "m contains NaN or inf"),
    (lambda: ehpjax.Modes([[1.0, 0.2], [0.0, 1.0]], np.eye(2)), "K must be Hermitian"),
    (lambda: ehpjax.Modes(np.eye(2), np.eye(3)), "eta must have shape"),
    (lambda: ehpjax.Modes(np.eye(2), -np.eye(2)), "eta must be positive"),
    (lambda: ehpjax.Modes.single(1.0 + 0j, 0.1), "omega must be real"),
    (lambda: ehpjax.Modes.single(-1.0, 0.1), "omega must be > 0"),
    (lambda: ehpjax.Modes.single(1.0, -0.1), "gamma_ph must be finite and >= 0"),
    (lambda: ehpjax.Baths(0.0, 0.0, -0.1, 0.1), "T_e must be > 0"),
    (lambda: ehpjax.Baths(0.0, 0.0, 0.1, 0.0), "T_ph must be > 0"),
    (lambda: ehpjax.Baths(np.inf, 0.0, 0.1, 0.1), "mu_L contains NaN or inf"),
    (lambda: ehpjax.Baths(np.zeros(2), 0.0, 0.1, 0.1), "mu_L must have shape"),
    (lambda: ehpjax.Baths("10", 0.0, 0.1, 0.1), "mu_L must be numeric"),
    (lambda: ehpjax.Junction(np.eye(2), np.eye(2), np.eye(2), [[["0", "1"], ["1", "0"]]]), "M must be numeric"),
    (lambda: ehpjax.Modes([[1.0, 0.0], [0.0, -0.5]], 0.1 * np.eye(2)), "K must be positive definite.*-0.5"),
    (lambda: ehpjax.Modes([[1.0, 1.0], [1.0, 1.0]], 0.1 * np.eye(2)), "K must be positive definite"),
    (lambda: ehpjax.Junction.two_level(1.0, 0.0, 0.5, 0.5, 0.5, spin_degeneracy=np.inf), "spin_degeneracy contains"),
    (lambda: ehpjax.Junction.two_level(1.0, 0.0, 0.5, 0.5, 0.5, spin_degeneracy=np.nan), "spin_degeneracy"),
]


@pytest.mark.parametrize("make, message", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(make, message):
    with pytest.raises(EhpjaxError, match=message):
        make()


REAL_AXIS_FUNCTIONS = [
    (ehpjax.ehp_dos, "junction baths"), (ehpjax.power_spectrum, "junction baths"),
    (ehpjax.golden_rule_rates, "junction baths"), (ehpjax.self_energy, "junction baths"),
    (ehpjax.ehp_broadening, "junction baths"), (ehpjax.current_induced_forces, "junction baths"),
    (ehpjax.boson_green, "modes"), (ehpjax.boson_spectral, "modes"),
    (ehpjax.retarded_green, "junction"), (ehpjax.spectral_functions, "junction"),
]


@pytest.mark.parametrize("function, takes", REAL_AXIS_FUNCTIONS, ids=lambda f: getattr(f, "__name__", ""))
def test_functions_of_real_frequency_refuse_complex_or_non_numeric_frequencies(function, takes, paper_junction,
                                                                               paper_modes):
    """A complex frequency would lose its imaginary part without a word; a string is not a frequency."""
    given = {"junction": paper_junction, "modes": paper_modes, "baths": ehpjax.Baths(10.0, 10.0, 0.5, 0.5)}
    args = [given[name] for name in takes.split()]
    name = "energy" if "junction" == takes else "omega"
    with pytest.raises(EhpjaxError, match=f"{name} must be real"):
        function(*args, np.array([1.0, 1.0 + 0.5j]))
    with pytest.raises(EhpjaxError, match=f"{name} must be numeric"):
        function(*args, "1.0")


def test_an_unstable_mode_is_caught_inside_jit_and_vmap():
    @jax.jit
    @jax.vmap
    def lowest(k):
        return ehpjax.Modes(jnp.diag(k), 0.1 * jnp.eye(2)).K[1, 1]

    np.testing.assert_allclose(lowest(jnp.array([[1.0, 2.0], [3.0, 0.5]])), [2.0, 0.5])
    with pytest.raises(Exception, match="K must be positive definite"):
        lowest(jnp.array([[1.0, 2.0], [1.0, -0.1]])).block_until_ready()


def test_bad_values_are_caught_inside_jit():
    @jax.jit
    def f(T):
        return ehpjax.Baths(0.0, 0.0, T, 0.1).T_e

    with pytest.raises(Exception, match="T_e must be > 0"):
        f(-1.0).block_until_ready()


def test_traced_checks_of_an_input_are_one_check_that_guards_every_field(monkeypatch):
    """Under jit each constructor attaches its checks together: one eqx check per object
    (each one walks the Python stack when traced), raising the first failed condition, and
    guarding every field, so that a bad T_e fails a program that reads only μ_L."""
    import ehpjax._checks as checks

    traced = []
    for name in ("error_if", "branched_error_if"):
        original = getattr(eqx, name)
        monkeypatch.setattr(checks.eqx, name, lambda *a, _f=original, _n=name, **k: traced.append(_n) or _f(*a, **k))

    @jax.jit
    def mu_L(T_e, m):
        junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, m)
        baths = ehpjax.Baths(0.0, 0.0, T_e, 0.1)
        return baths.mu_L + junction.H[0, 0] + ehpjax.Modes.single(1.0, T_e).eta[0, 0]

    np.testing.assert_allclose(mu_L(0.3, 0.5), 10.8)
    assert traced == ["branched_error_if"] * 3  # Junction, Baths, Modes (with Modes.single's own check)
    with pytest.raises(Exception, match="T_e must be > 0"):
        mu_L(-1.0, 0.5).block_until_ready()
    with pytest.raises(Exception, match="T_e contains NaN or inf"):  # the first of its two failed conditions
        mu_L(np.nan, 0.5).block_until_ready()
    with pytest.raises(Exception, match="m contains NaN or inf"):  # (two_level's numbers by their names)
        mu_L(0.3, np.inf).block_until_ready()
    with pytest.raises(Exception, match="omega must be > 0"):
        jax.jit(lambda w: ehpjax.Modes.single(w, 0.1).eta)(-1.0).block_until_ready()
    with pytest.raises(Exception, match="T_e must be > 0"):  # one bad point of a batch
        jax.jit(jax.vmap(lambda t: ehpjax.Baths(0.0, 0.0, t, 0.1).mu_L))(jnp.array([0.1, -0.1])).block_until_ready()


def test_mode_count_mismatch(paper_junction):
    with pytest.raises(ValueError, match="modes"):
        ehpjax.currents(paper_junction, ehpjax.Modes(np.eye(2), 0.1 * np.eye(2)), ehpjax.Baths(10, 10, 0.1, 0.1))


def test_modules_are_pytrees_of_arrays(paper_junction):
    leaves = jax.tree_util.tree_leaves(paper_junction)
    assert all(isinstance(x, jax.Array) for x in leaves)
    assert eqx.is_array(paper_junction.spin_degeneracy)


def test_concrete_inputs_are_checked_without_compiling():
    """A model of a new shape from concrete arrays is converted and checked on the host (NumPy):
    no XLA program is compiled, where a program per check and shape used to take seconds."""
    from conftest import compilations, random_arrays

    H, gL, gR, M, K, eta = random_arrays(71, 7, 3)  # shapes no other test builds
    with compilations() as compiled:
        junction = ehpjax.Junction(H, gL, gR, M, spin_degeneracy=2)
        modes = ehpjax.Modes(K, eta)
        ehpjax.Baths(0.1, -0.1, 0.2, 0.3)
    assert not compiled, compiled
    assert junction.H.dtype == jnp.complex128 and modes.K.dtype == jnp.float64
    assert junction.spin_degeneracy.dtype == jnp.float64
    with pytest.raises(EhpjaxError, match="K must be positive definite"):
        ehpjax.Modes(-K, eta)
