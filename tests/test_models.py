"""Models: the built-in library, TOML model files, the concrete-system JSON and the
``ehpjax models`` command. Matrices are checked against hand-built NumPy arrays; physics
against independent formulas (flat-DOS trace, elastic transmission); gradients against
central differences."""

import json
import math
import os
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from typer.testing import CliRunner

import ehpjax
from ehpjax import models
from ehpjax.models import ModelError

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAIN3 = ROOT / "examples" / "chain3.toml"
DOUBLE_DOT = ROOT / "examples" / "double_dot.toml"
QUIET = ehpjax.FrequencyQuadrature(warn=False, block=None)


def arrays(junction, modes):
    return [np.asarray(x) for x in (junction.H, junction.gamma_L, junction.gamma_R, junction.M,
                                    junction.spin_degeneracy, modes.K, modes.eta)]


def assert_same_system(a, b):
    for x, y in zip(arrays(*a), arrays(*b)):
        assert x.shape == y.shape
        np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------------------- built-in library


def test_registry_and_listing():
    assert set(models.BUILTIN) == {"two-level", "serial-chain", "parallel-dots", "two-mode"}
    listing = models.list_models()
    assert set(listing) == set(models.BUILTIN) and all(listing.values())
    for name in models.BUILTIN:
        model = models.get(name)
        assert model.name == name and model.source == "built-in"
        assert "H = " in models.BUILTIN[name].__doc__  # each factory documents its Hamiltonian
        model.build()  # valid at the defaults (the core's checks run on concrete values)


def test_serial_chain_matrices():
    model = models.get("serial-chain", n=4, mode=["bond:3", "site:2"], hopping="per-bond")
    p = dict(eps1=1.0, eps2=2.0, eps3=3.0, eps4=4.0, t1=0.1, t2=0.2, t3=0.3, gamma_L=0.6, gamma_R=0.7,
             m1=0.8, m2=0.9, omega1=1.1, omega2=1.3, gamma_ph1=0.2, gamma_ph2=0.4)
    assert set(model.names) == set(p)
    junction, modes = model.build(p)
    H = np.diag([1.0, 2.0, 3.0, 4.0])
    for i, t in enumerate((0.1, 0.2, 0.3)):
        H[i, i + 1] = H[i + 1, i] = t
    M1 = np.zeros((4, 4))
    M1[2, 3] = M1[3, 2] = 0.8
    M2 = np.zeros((4, 4))
    M2[1, 1] = 0.9
    expected = (H, np.diag([0.6, 0, 0, 0]), np.diag([0, 0, 0, 0.7]), np.stack([M1, M2]), 1.0,
                np.diag([1.1**2, 1.3**2]), np.diag([0.2, 0.4]))
    for got, want in zip(arrays(junction, modes), expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


def test_serial_chain_options_and_defaults():
    assert models.get("serial-chain").names == ("eps1", "eps2", "eps3", "t", "gamma_L", "gamma_R", "m", "omega",
                                                 "gamma_ph")
    # default placement: the middle bond / site
    assert np.asarray(models.get("serial-chain", n=5).build()[0].M)[0, 1, 2] == 0.5
    assert np.asarray(models.get("serial-chain", n=5, mode="site").build()[0].M)[0, 2, 2] == 0.5
    for bad, match in ((dict(n=0), "n must be an integer"), (dict(mode="bond:3"), r"1\.\.2"),
                       (dict(mode="edge"), "bond"), (dict(hopping="random"), "uniform"),
                       (dict(n=1, mode="bond"), "no bond"), (dict(colour=1), "colour")):
        with pytest.raises(ModelError, match=match):
            models.get("serial-chain", **bad)


def test_chain_of_two_without_hopping_is_the_two_level_model():
    """n = 2, t = 0, the mode on the bond: the paper's junction, matrix for matrix."""
    p = dict(eps_L=10.3, eps_R=9.6, gamma_L=0.4, gamma_R=0.7, m=0.3, omega=1.2, gamma_ph=0.2)
    chain = models.get("serial-chain", n=2).build(eps1=10.3, eps2=9.6, t=0.0, gamma_L=0.4, gamma_R=0.7, m=0.3,
                                                  omega=1.2, gamma_ph=0.2)
    assert_same_system(chain, models.get("two-level").build(p))


def test_example_chain3_equals_builtin_serial_chain():
    rng = np.random.default_rng(3)
    file_model = models.get(str(CHAIN3))
    builtin = models.get("serial-chain", n=3, mode="bond:1")
    assert file_model.names == builtin.names
    assert file_model.baths == builtin.baths
    for _ in range(3):
        p = {name: float(rng.uniform(0.1, 1.0)) for name in builtin.names}
        assert_same_system(file_model.build(p), builtin.build(p))


def elastic_transmission(junction, energy):
    H, gL, gR = (np.asarray(x) for x in (junction.H, junction.gamma_L, junction.gamma_R))
    G = np.linalg.inv(energy * np.eye(len(H)) - H + 0.5j * (gL + gR))
    return np.trace(gL @ G @ gR @ G.conj().T).real


def test_parallel_dots_interference():
    """Γ_L = γ_L v v†, Γ_R = γ_R w w† are PSD of rank one for every φ; for degenerate dots
    without hopping, φ = π makes w ⟂ v and the elastic transmission vanishes at all energies
    (Γ_L + Γ_R ∝ 1 for γ_L = γ_R, so G is scalar and Tr[Γ_L Γ_R] = γ²|v†w|² = 0), while
    at φ = 0 only the bonding orbital v couples, to both leads (broadening 2γ), and
    T(ε) = γ²/((ε − ε_0)² + γ²), γ = γ_L = γ_R: perfect transmission at ε_0."""
    model = models.get("parallel-dots")
    for phi in np.linspace(-3.0, 3.0, 7):
        junction, _ = model.build(phi=phi, gamma_L=0.3, gamma_R=0.8)
        for g, gamma in ((junction.gamma_L, 0.3), (junction.gamma_R, 0.8)):
            np.testing.assert_allclose(np.linalg.eigvalsh(np.asarray(g)), [0.0, gamma], atol=1e-15)
    same = dict(eps1=10.0, eps2=10.0, t=0.0, gamma_L=0.5, gamma_R=0.5)
    blocked, _ = model.build(same, phi=math.pi)
    open_, _ = model.build(same, phi=0.0)
    for energy in (9.0, 9.9, 10.05, 10.4):  # (at ε_0 itself the antibonding orbital makes G singular)
        assert abs(elastic_transmission(blocked, energy)) < 1e-15
        exact = 0.25 / ((energy - 10.0) ** 2 + 0.25)
        assert abs(elastic_transmission(open_, energy) - exact) < 1e-13 * exact
    with pytest.raises(ModelError, match="mode"):
        models.get("parallel-dots", mode="other")


def test_two_mode_model_has_a_nonconservative_force():
    """The defaults are the two-mode junction of the exceptional-point check (broadening 4):
    a = −(g_s/2π) Im tr[M¹A_L M²A_R] at the Fermi level, from an independent NumPy trace."""
    junction, modes = models.get("two-mode").build()
    G = 4.0
    H = np.array([[-G / 4, G / 2], [G / 2, G / 4]])
    gL, gR = np.diag([G, 0.0]), np.diag([0.0, G])
    M = G / 4 * np.array([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    expected = (H, gL, gR, M, 2.0, np.diag([1.02**2, 0.98**2]), np.diag([0.002, 0.002]))
    for got, want in zip(arrays(junction, modes), expected):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
    g = np.linalg.inv(-H + 0.5j * (gL + gR))
    trace = np.trace(M[0] @ (g @ gL @ g.conj().T) @ M[1] @ (g @ gR @ g.conj().T))
    a = np.asarray(ehpjax.nonconservative_coefficient(junction, 0.0))
    assert abs(trace.imag) > 0.1
    np.testing.assert_allclose(a, -(2.0 / (2 * np.pi)) * trace.imag * np.array([[0, 1], [-1, 0]]), atol=1e-14)


def test_system_takes_bath_names_either_way():
    """The model's bath defaults (mu0, V, T_e, T_ph) yield to μ_L, μ_R given by the user, and vice versa."""
    model = models.get("two-level")
    _, _, baths = model.system({"eps_L": 10.2})
    assert [float(getattr(baths, k)) for k in ("mu_L", "mu_R", "T_e", "T_ph")] == [10.0, 10.0, 0.5, 0.5]
    _, _, baths = model.system({"mu_L": 10.4, "mu_R": 9.9, "T_e": 0.2})  # T_ph follows a given T_e
    assert [float(getattr(baths, k)) for k in ("mu_L", "mu_R", "T_e", "T_ph")] == [10.4, 9.9, 0.2, 0.2]
    _, _, baths = model.system({"T_e": 0.2, "T_ph": 0.3})
    assert (float(baths.T_e), float(baths.T_ph)) == (0.2, 0.3)
    _, _, baths = model.system({"V": -1.0})
    assert (float(baths.mu_L), float(baths.mu_R)) == (9.5, 10.5)
    with pytest.raises(ModelError, match="both"):
        model.system({"mu_L": 10.4})


# ---------------------------------------------------------------------------- model files


THE_DOCUMENTED_EXAMPLE = """
[parameters]                 # name = default, or a table with value, min, max, unit, description
eps1 = 0.5
eps2 = 0.0
t = {value = 0.3, min = 0.0, max = 1.0}
gL = 0.4
[junction]                   # n x n matrices; entries are numbers or expressions
H = [["eps1", "t"], ["t", "eps2"]]
gamma_L = [["gL", 0], [0, 0]]
gamma_R = [[0, 0], [0, "gL"]]
M = [[[0, "0.5*t"], ["0.5*t", 0]]]    # one n x n matrix per mode
[modes]
K = [[1.0]]
eta = [[0.3]]
"""


def test_the_documented_example_and_double_dot_file_agree():
    model = models.loads_model(THE_DOCUMENTED_EXAMPLE)
    assert model.defaults == {"eps1": 0.5, "eps2": 0.0, "t": 0.3, "gL": 0.4}
    assert model.bounds["t"] == (0.0, 1.0) and model.bounds["gL"] == (-math.inf, math.inf)
    assert_same_system(model.build(t=0.2), models.get(str(DOUBLE_DOT)).build(t=0.2))
    assert models.get("serial_chain").name == "serial-chain"  # the spelling with "_" works too


def test_double_dot_file_is_the_documented_model():
    model = models.get(str(DOUBLE_DOT))
    assert model.name == "double_dot" and model.source == str(DOUBLE_DOT)
    assert model.names == ("eps1", "eps2", "t", "gL")
    assert model.bounds["t"] == (0.0, 1.0) and model.parameter("t").description
    assert model.baths == {"mu0": 0.25, "T_e": 0.1}
    junction, modes = model.build(eps1=0.7, t=0.2)
    expected = (np.array([[0.7, 0.2], [0.2, 0.0]]), np.diag([0.4, 0.0]), np.diag([0.0, 0.4]),
                np.array([[[0.0, 0.1], [0.1, 0.0]]]), 1.0, np.array([[1.0]]), np.array([[0.3]]))
    for got, want in zip(arrays(junction, modes), expected):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_file_and_string_and_relative_path_agree(tmp_path, monkeypatch):
    text = DOUBLE_DOT.read_text()
    from_string = models.loads_model(text, "double_dot.toml")
    (tmp_path / "dd.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    relative = models.get("dd.toml")
    assert relative.source == "dd.toml"
    assert models.get("dd.toml") is relative  # reloaded only when the file changes
    assert_same_system(relative.build(), from_string.build())
    with pytest.raises(ModelError, match="no such file"):
        models.get("missing.toml")
    with pytest.raises(ModelError, match="options"):
        models.get("dd.toml", n=3)


COMPLEX_MODEL = """
[model]
name = "ring"
description = "two levels, complex hopping, two modes"
[parameters]
e = 0.2
t = {value = 0.3, min = 0, max = 2, unit = "meV", description = "hopping"}
phi = 0.5
g = 0.4
[junction]
H = [["e", "t*exp(1j*phi)"], ["t*exp(-1j*phi)", "-e"]]
gamma_L = [["g", "g/2"], ["g/2", "g"]]
gamma_R = [["g", 0], [0, "sqrt(g**2)"]]
M = [[[0, "0.1j"], ["-0.1j", 0]], [["cos(phi)", 0], [0, "sin(phi)"]]]
spin_degeneracy = 2
[modes]
K = [[1.0, 0.1], [0.1, "1 + t"]]
eta = [[0.2, 0], [0, "log(1 + g)"]]
"""


def test_complex_entries_and_several_modes():
    model = models.loads_model(COMPLEX_MODEL)
    assert model.name == "ring" and model.parameter("t").unit == "meV"
    junction, modes = model.build(phi=0.9)
    h = 0.3 * np.exp(0.9j)
    expected = (np.array([[0.2, h], [h.conjugate(), -0.2]]), np.array([[0.4, 0.2], [0.2, 0.4]]), np.diag([0.4, 0.4]),
                np.array([[[0, 0.1j], [-0.1j, 0]], [[math.cos(0.9), 0], [0, math.sin(0.9)]]]), 2.0,
                np.array([[1.0, 0.1], [0.1, 1.3]]), np.diag([0.2, math.log(1.4)]))
    for got, want in zip(arrays(junction, modes), expected):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-16)


def edit(old, new, text=None):
    text = DOUBLE_DOT.read_text() if text is None else text
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    "text, message",
    [
        (edit('H = [["eps1", "t"], ["t", "eps2"]]', 'H = [["eps1", "t"], ["0.2", "eps2"]]'),
         r"H\[0,1\] = 0.3 but H\[1,0\] = 0.2: H must be Hermitian"),
        (edit('H = [["eps1", "t"], ["t", "eps2"]]', 'H = [["eps1 + 1j", "t"], ["t", "eps2"]]'),
         r"H\[0,0\] = \(0.5\+1j\) is not real"),
        (edit('gamma_L = [["gL", 0], [0, 0]]', 'gamma_L = [["-gL", 0], [0, 0]]'),
         r"gamma_L\[0,0\] = -0.4: gamma_L must be positive semi-definite"),
        (edit('gamma_R = [[0, 0], [0, "gL"]]', 'gamma_R = [["gL", "gL"], ["gL", "gL/2"]]'),
         r"gamma_R\[0,1\] = 0.4 exceeds .*gamma_R must be positive semi-definite"),
        (edit('gamma_L = [["gL", 0], [0, 0]]', 'gamma_L = [[2, 1.5, 0], [1.5, 2, 1.5], [0, 1.5, 2]]'),
         "gamma_L must have shape"),
        (edit('M = [[[0, "0.5*t"], ["0.5*t", 0]]]', 'M = [[[0, "0.5j*t"], ["0.5j*t", 0]]]'),
         r"M\[0\]\[0,1\] = \(0\+0.15j\) but M\[0\]\[1,0\] = \(0\+0.15j\): M\[0\] must be Hermitian"),
        (edit("K = [[1.0]]", 'K = [["-t"]]'), r"K\[0,0\] = -0.3: K must be positive definite"),
        (edit("K = [[1.0]]", 'K = [["1 + 0j"]]'), "modes.K must be real"),
        (edit("eta = [[0.3]]", "eta = [[-0.3]]"), r"eta\[0,0\] = -0.3: eta must be positive semi-definite"),
        (edit('M = [[[0, "0.5*t"], ["0.5*t", 0]]]', 'M = [[[0, 1], [1, 0]], [[1, 0], [0, 1]]]'),
         r"modes.K \(N_b = 2 modes in M\) must have shape \(2, 2\)"),
        (edit('H = [["eps1", "t"], ["t", "eps2"]]', 'H = [["eps1", "t", 0], ["t", "eps2", 0]]'), "square"),
        (edit("gL = {", "V = 0.1\ngL = {"), "parameter 'V' shadows the bath name 'V'"),
        (edit("gL = {", "T_e = 0.1\ngL = {"), "parameter 'T_e' shadows the bath name"),
        (edit("gL = {", "sqrt = 0.1\ngL = {"), "parameter 'sqrt' shadows"),
        (edit("[modes]", "[mode]"), "unknown section"),
        (DOUBLE_DOT.read_text() + "\n[extra]\nx = 1\n", r"unknown section\(s\) 'extra'"),
        (edit("[modes]", "[modes]\nomega = 1.0"), r"unknown key\(s\) 'omega' in \[modes\]"),
        (edit("T_e = 0.1", "T_e = 0.1\nT = 0.2"), r"unknown key\(s\) 'T' in \[baths\]"),
        (edit("min = 0.0, max = 1.0", "min = 0.0, maximum = 1.0"), "parameter 't': unknown key"),
        (edit("value = 0.3, min", "min"), "parameter 't' lacks its default 'value'"),
        (edit("value = 0.3, min", "value = 3.0, min"), "outside its bounds"),
        (edit('eps1 = {value = 0.5, description = "energy of dot 1 (coupled to L)"}', 'eps1 = "0.5"'),
         "must be a real number"),
        (edit('"0.5*t"', '"0.5*tt"'), r"unknown name 'tt'.*parameters: eps1, eps2, gL, t"),
        (edit('"0.5*t"', "\"__import__('os').system('echo hacked')\""), "attribute access"),
        (edit('"0.5*t"', "\"__import__('os')\""), "unknown function '__import__'"),
        (edit('"0.5*t"', '"t.real"'), "attribute access"),
        (edit('"0.5*t"', '"(lambda: t)()"'), "lambda"),
        (edit("[junction]\n", "[junction]\nspin_degeneracy = -2\n"), "spin_degeneracy = -2 must be"),
        (edit("K = [[1.0]]\n", ""), r"\[modes\] lacks K"),
        ("x = [1, 2", "not valid TOML"),
    ],
)
def test_bad_model_files_are_refused_naming_what_is_wrong(text, message):
    with pytest.raises(ModelError, match=message):
        models.loads_model(text, "bad.toml")


def test_checks_also_run_at_values_given_later():
    model = models.get(str(DOUBLE_DOT))
    with pytest.raises(ModelError, match=r"at .*gL = -1.*gamma_L\[0,0\] = -1"):
        model.build(gL=-1.0)


def test_file_model_under_jit_vmap_and_grad():
    model = models.loads_model(COMPLEX_MODEL)

    def trace_h2(t):
        junction, modes = model.build(t=t)
        return jnp.real(jnp.trace(junction.H @ junction.H)) + jnp.trace(modes.K)

    # tr H² = 2e² + 2t², tr K = 2 + t
    assert abs(float(jax.jit(jax.grad(trace_h2))(0.3)) - (4 * 0.3 + 1)) < 1e-14
    ts = jnp.array([0.1, 0.2, 0.5])
    batched = jax.vmap(lambda t: model.build(t=t)[0].H)(ts)
    for t, H in zip(ts, batched):
        np.testing.assert_array_equal(H, model.build(t=float(t))[0].H)


# ---------------------------------------------------------------------------- gradients of J


def J_of(model, name, fixed):
    def J(x):
        junction, modes, baths = model.system({**fixed, name: x})
        return ehpjax.currents(junction, modes, baths, quadrature=QUIET).J

    return jax.jit(jax.value_and_grad(J))


@pytest.mark.parametrize(
    "model, name, x, fixed",
    [
        ("chain3", "t", 0.25, {"V": -1.0, "T_e": 0.3, "T_ph": 0.3}),
        ("two-mode", "t", 2.0, {"V": 0.5, "T_e": 0.3, "T_ph": 0.2, "gamma_ph1": 0.1, "gamma_ph2": 0.1}),
    ],
)
def test_gradient_of_J_matches_central_differences(model, name, x, fixed):
    model = models.get(str(CHAIN3) if model == "chain3" else model)
    value_and_grad = J_of(model, name, fixed)
    value, grad = value_and_grad(x)
    h = 1e-4
    central = (value_and_grad(x + h)[0] - value_and_grad(x - h)[0]) / (2 * h)
    assert abs(float(value)) > 1e-4 and abs(float(grad)) > 1e-4
    assert abs(float(grad) - float(central)) < 1e-6 * abs(float(grad))


# ---------------------------------------------------------------------------- concrete systems (JSON)


def test_system_json_round_trip_is_exact(tmp_path):
    junction, modes = models.get("parallel-dots").build(phi=0.7, t=0.1234567890123)
    baths = ehpjax.Baths(10.3, 9.7, 0.31, 0.29)
    path = tmp_path / "system.json"
    models.save_system(path, junction, modes, baths, objective={"name": "cooling", "value": -1.25e-3},
                       parameters={"phi": np.float64(0.7)})
    assert os.listdir(tmp_path) == ["system.json"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    j2, m2, b2, extra = models.load_system(path)
    assert_same_system((j2, m2), (junction, modes))
    assert [float(getattr(b2, k)) for k in ("mu_L", "mu_R", "T_e", "T_ph")] == [10.3, 9.7, 0.31, 0.29]
    assert extra["objective"] == {"name": "cooling", "value": -1.25e-3}
    assert extra["parameters"] == {"phi": 0.7}
    record = json.loads(path.read_text())
    assert record["format"] == "ehpjax-system"
    assert np.asarray(record["junction"]["gamma_R"]).shape == (2, 2, 2)  # complex as [re, im]
    assert np.asarray(record["junction"]["H"]).shape == (2, 2)  # real stays plain
    # without baths
    models.save_system(path, *models.get("two-mode").build())
    j3, m3, b3, extra = models.load_system(path)
    assert b3 is None and "units" in extra
    assert_same_system((j3, m3), models.get("two-mode").build())


# best.json as written by the design tool before this JSON form existed
OLD_BEST_JSON = """{
  "ehpjax_version": "0.1.0",
  "units": {"energy": "hbar*Omega", "J": "hbar*Omega^2"},
  "junction": {
    "H": [[10.2, 0.0], [0.0, 9.7]],
    "gamma_L": [[0.4, 0.0], [0.0, 0.0]],
    "gamma_R": [[0.0, 0.0], [0.0, 0.6]],
    "M": [[[0.0, 0.3], [0.3, 0.0]]],
    "spin_degeneracy": 1.0
  },
  "modes": {"K": [[1.0]], "eta": [[0.5]]},
  "baths": {"mu_L": 9.5, "mu_R": 10.5, "T_e": 0.3, "T_ph": 0.3},
  "objective": {"T": 0.3, "name": "cooling", "value": -0.0123},
  "parameters": {"eps_L": 10.2}
}
"""


def test_reads_the_earlier_best_json_and_serves_it_as_a_model(tmp_path):
    path = tmp_path / "best.json"
    path.write_text(OLD_BEST_JSON)
    junction, modes, baths, extra = models.load_system(path)
    assert_same_system((junction, modes), models.get("two-level").build(eps_L=10.2, eps_R=9.7, gamma_L=0.4,
                                                                           gamma_R=0.6, m=0.3, omega=1.0,
                                                                           gamma_ph=0.5))
    assert (float(baths.mu_L), float(baths.mu_R)) == (9.5, 10.5)
    assert extra["objective"]["value"] == -0.0123 and extra["ehpjax_version"] == "0.1.0"
    model = models.get(str(path))
    assert model.names == () and model.source == str(path) and model.name == "best"
    j2, m2, b2 = model.system({})
    assert_same_system((j2, m2), (junction, modes))
    assert abs(float(b2.mu_L) - 9.5) < 1e-15 and abs(float(b2.mu_R) - 10.5) < 1e-15
    assert float(b2.T_e) == 0.3 and float(b2.T_ph) == 0.3
    j3, m3, b3 = model.system({"V": 0.2, "T_e": 0.5})  # the baths can still be changed; T_ph follows T_e
    assert abs(float(b3.V) - 0.2) < 1e-15 and float(b3.T_ph) == 0.5


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"junction": {}}', "junction lacks H"),
        ('{"format": "other"}', "unknown format"),
        (edit('"H": [[10.2, 0.0], [0.0, 9.7]]', '"H": [[10.2, 0.1], [0.0, 9.7]]', OLD_BEST_JSON),
         "H must be Hermitian"),
        (edit('"H": [[10.2, 0.0], [0.0, 9.7]]', '"H": [[10.2, "x"], [0.0, 9.7]]', OLD_BEST_JSON), "H is not"),
        (edit('"T_e": 0.3', '"T_e": -0.3', OLD_BEST_JSON), "T_e must be > 0"),
        (edit('"mu_R": 10.5, ', "", OLD_BEST_JSON), "baths must have"),
    ],
)
def test_bad_system_files(tmp_path, text, message):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ModelError, match=message):
        models.load_system(path)


def test_save_system_refuses_to_replace_a_directory(tmp_path):
    (tmp_path / "out.json").mkdir()
    with pytest.raises(ModelError, match="not a regular file"):
        models.save_system(tmp_path / "out.json", *models.get("two-level").build())
    with pytest.raises(ModelError, match="reserved"):
        models.save_system(tmp_path / "x.json", *models.get("two-level").build(), format="mine")


# ---------------------------------------------------------------------------- ehpjax models


@pytest.fixture(scope="module")
def cli():
    from ehpjax.cli._app import app

    return app


def test_models_lists_the_builtins(cli):
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0
    for name, description in models.list_models().items():
        assert name in result.output and description in result.output


def test_models_show(cli):
    result = CliRunner().invoke(cli, ["models", "show", str(CHAIN3), "--set", "t=0.375", "--set", "V=-1"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "chain3" in out and "eps3" in out and "hopping between neighbouring dots" in out
    assert "0.375 *" in out and "V = -1" in out
    assert "H = [  10.5  0.375      0 ]" in out and "[ 0.375     10  0.375 ]" in out
    result = CliRunner().invoke(cli, ["models", "show", "serial-chain", "--option", "n=4", "--option",
                                      "mode=bond:1,site:2"])
    assert result.exit_code == 0, result.output
    assert "M[1]" in result.output and "gamma_ph2" in result.output and "eps4" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["models", "show", "nope"], "unknown model 'nope'"),
        (["models", "show", "two-level", "--set", "x=1"], "no parameter"),
        (["models", "show", "two-level", "--set", "m"], "expected NAME=VALUE"),
        (["models", "show", "two-level", "--set", "m=abc"], "not a number"),
        (["models", "show", "two-level", "--set", "gamma_L=-1"], "outside the bounds"),
        (["models", "show", "two-level", "--set", "m=nan"], "finite"),
        (["models", "show", "serial-chain", "--option", "n=0"], "n must be"),
    ],
)
def test_models_show_bad_input_is_an_ehpjax_error(cli, args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ehpjax: error: ") and message in lines[0], result.output
