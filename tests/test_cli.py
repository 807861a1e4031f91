"""The ``ehpjax`` command: help texts, ``currents`` (table and strict JSON) against physical
constraints and against the same model given three ways, one-line errors for every bad
input, ``reproduce`` with its ``--out`` rules, atomic writes, the compilation cache, and
what ``import ehpjax`` loads."""

import json
import math
import os
import re
import subprocess
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from typer.main import get_command
from typer.testing import CliRunner

import ehpjax
from ehpjax import figures
from ehpjax.cli import app
from ehpjax.cli import _app, _options

os.environ.setdefault("EHPJAX_CACHE_DIR", "off")  # the tests do not write into the user's cache
runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def strict_loads(text: str):
    """json.loads that refuses NaN and ±Infinity (strict JSON)."""
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def assert_one_line_error(res, needle: str = ""):
    assert res.exit_code == 2, (res.exit_code, res.output)
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("ehpjax: error:"), err
    assert needle in err, (needle, err)
    assert "Traceback" not in res.output


# ---------------------------------------------------------------------------- help


def test_help_lists_commands_units_and_version():
    res = invoke("--help")
    assert res.exit_code == 0
    for word in ("reproduce", "currents", "ħΩ", "EHPJAX_CACHE_DIR"):
        assert word in res.stdout
    assert invoke("--version").stdout.strip() == f"ehpjax {version('ehpjax')}"
    assert ehpjax.__version__ == version("ehpjax")


@pytest.mark.parametrize("name", ["currents", "reproduce"])
def test_every_option_is_explained_without_type_placeholders(name):
    command = get_command(app).commands[name]
    for param in command.params:
        assert param.help and len(param.help) > 15, f"{name} {param.name} has no help"
    res = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "ħΩ" in res.stdout
    for placeholder in ("<bool>", "<list", "<float>", "<int>", "<str>", "<path>"):
        assert placeholder not in res.stdout, placeholder


def test_every_physical_option_of_currents_has_a_unit():
    command = get_command(app).commands["currents"]
    for param in command.params:
        if getattr(param, "is_flag", False) or param.name in ("model", "sets", "panels"):
            continue
        assert "(ħΩ" in param.help or "dimensionless" in param.help, (param.name, param.help)


def test_no_command_help_shows_type_placeholders():
    """Help shows plain placeholders: no <bool>, <list[str]>, nor typer's {config} on the usage line."""
    group = get_command(app)
    for name in group.commands:
        res = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0, name
        assert "<bool>" not in res.stdout and "<list" not in res.stdout, name
        assert not re.search(r"\{\w+\}", res.stdout.splitlines()[1]), (name, res.stdout.splitlines()[1])  # no {config}
    usage = runner.invoke(app, ["sweep", "--help"], env={"COLUMNS": "200"}).stdout
    assert "Usage: ehpjax sweep [OPTIONS] CONFIG" in usage


# ---------------------------------------------------------------------------- currents


@pytest.fixture(scope="module")
def hot_electrons():
    res = invoke("currents", "--json", "--T-e", 0.7, "--T-ph", 0.3, "--mu0", 10)
    assert res.exit_code == 0, res.output
    return strict_loads(res.stdout)


def test_currents_json_is_strict_and_complete(hot_electrons):
    out = hot_electrons
    for key in ("J", "I", "I_elastic", "P", "entropy_production", "J_error", "I_error"):
        assert isinstance(out[key], float) and math.isfinite(out[key])
    assert set(out["J_channels"]) == set(out["N_channels"]) == {"LL", "RR", "RL", "LR"}
    assert out["baths"]["T_e"] == 0.7 and out["baths"]["mu_L"] == 10.0 and out["baths"]["V"] == 0.0
    assert out["units"]["J"] == "ħΩ²" and out["units"]["I"] == "eΩ"
    assert out["version"] == version("ehpjax") and out["model"] == "two-level" and out["order"] == "lowest"


def test_currents_json_physics(hot_electrons):
    out = hot_electrons
    channels = out["J_channels"]
    assert abs(sum(channels.values()) - out["J"]) < 1e-12 * abs(out["J"])
    assert out["I"] == pytest.approx(out["N_channels"]["LR"] - out["N_channels"]["RL"], rel=1e-12)
    assert out["J"] > 0  # V = 0, T_e > T_ph: heat flows from the electrons into the mode
    assert out["P"] == 0.0 and out["entropy_production"] > 0
    # σ = (P − J)/T_e + J/T_ph
    assert out["entropy_production"] == pytest.approx(-out["J"] / 0.7 + out["J"] / 0.3, rel=1e-12)


def test_set_equals_shorthand_and_model_name(hot_electrons):
    base = ["--json", "--T-e", 0.7, "--T-ph", 0.3, "--mu0", 10]
    by_set = strict_loads(invoke("currents", "--model", "two-level", "--set", "eps_L=10.2", *base).stdout)
    by_flag = strict_loads(invoke("currents", "--eps-L", 10.2, *base).stdout)
    assert by_set == by_flag
    assert by_set["parameters"]["eps_L"] == 10.2
    assert by_set["J"] != hot_electrons["J"]  # the parameter took effect
    baths_by_set = strict_loads(invoke("currents", "--json", "--set", "T_e=0.7", "--set", "T_ph=0.3",
                                       "--set", "mu0=10").stdout)
    assert baths_by_set == hot_electrons


def test_table_output():
    res = invoke("currents", "-V", -1, "--T-e", 0.3, "--T-ph", 0.3)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    for key in ("J ", "J^LL", "J^RR", "J^RL", "J^LR", "I ", "I_el", "P ", "σ ", "COP"):
        assert any(line.lstrip().startswith(key) for line in lines), key
    assert "ħΩ²" in res.stdout and "eΩ" in res.stdout


PAPER_SYSTEM = {"H": [[10.5, 0.0], [0.0, 9.5]], "gamma_L": [[0.5, 0.0], [0.0, 0.0]],
                "gamma_R": [[0.0, 0.0], [0.0, 0.5]], "M": [[[0.0, 0.5], [0.5, 0.0]]], "K": [[1.0]], "eta": [[0.5]]}


def best_json_record():
    return {"junction": {k: PAPER_SYSTEM[k] for k in ("H", "gamma_L", "gamma_R", "M")},
            "modes": {"K": PAPER_SYSTEM["K"], "eta": PAPER_SYSTEM["eta"]},
            "baths": {"mu_L": 10.0, "mu_R": 10.0, "T_e": 0.7, "T_ph": 0.3},
            "objective": {"name": "cooling", "value": 0.0}}


def test_model_from_json_system(tmp_path, hot_electrons):
    """The paper's junction saved as a concrete system (best.json form, with baths) gives
    the built-in model's currents; its baths are the defaults."""
    path = tmp_path / "best.json"
    path.write_text(json.dumps(best_json_record()))
    res = invoke("currents", "--json", "--model", path)
    assert res.exit_code == 0, res.output
    out = strict_loads(res.stdout)
    for key in ("J", "I", "P", "entropy_production"):
        assert out[key] == pytest.approx(hot_electrons[key], rel=1e-12, abs=1e-15)
    assert out["parameters"] == {} and out["baths"]["T_e"] == 0.7


def test_json_system_layouts_agree(tmp_path):
    """The flat layout (arrays at the top level; complex entries as {"real", "imag"} or
    [re, im] pairs) reads to the same system as the best.json layout."""
    import ehpjax.models

    flat, nested = tmp_path / "flat.json", tmp_path / "nested.json"
    record = dict(PAPER_SYSTEM, H={"real": PAPER_SYSTEM["H"], "imag": [[0.0, 0.0], [0.0, 0.0]]})
    record["M"] = [[[[0.0, 0.0], [0.5, 0.0]], [[0.5, 0.0], [0.0, 0.0]]]]  # [re, im] pairs
    flat.write_text(json.dumps(record))
    nested.write_text(json.dumps(best_json_record()))
    a, b = _options.resolve_model(str(flat)), _options.resolve_model(str(nested))
    assert isinstance(a, ehpjax.models.Model) and a.names == () and a.baths == {}
    assert b.baths == {"mu0": 10.0, "V": 0.0, "T_e": 0.7, "T_ph": 0.3}
    for x, y in zip(a.build(), b.build()):
        for field in ("H", "gamma_L", "gamma_R", "M", "K", "eta"):
            if hasattr(x, field):
                np.testing.assert_array_equal(np.asarray(getattr(x, field)), np.asarray(getattr(y, field)))


def test_non_finite_result_is_an_error_not_nan(monkeypatch):
    """A NaN from the core never reaches the output: one error line (strict JSON or nothing)."""
    import ehpjax._evaluate as evaluation

    def nan_everywhere(model, params, fn=None, **kw):
        names = ["J", "I", "I_elastic", "P", "entropy_production", "J_error", "I_error"]
        names += [f"{q}_{c}" for q in "JN" for c in ehpjax.CHANNELS]
        return {k: np.array(np.nan) for k in names}

    monkeypatch.setattr(evaluation, "evaluate", nan_everywhere)
    res = invoke("currents", "--json")
    assert_one_line_error(res, "not finite")
    assert res.stdout == ""


def test_strict_json_writes_null():
    assert strict_loads(_options.strict_json({"a": float("nan"), "b": [1.0, float("inf")]})) == {"a": None,
                                                                                                  "b": [1.0, None]}


# ---------------------------------------------------------------------------- errors: one line, exit 2


@pytest.mark.parametrize(
    "args, needle",
    [
        (("currents", "--T-e", "-0.5"), "T_e"),
        (("currents", "--T-ph", "0"), "T_ph"),
        (("currents", "--T-e", "hot"), "--T-e"),
        (("currents", "--gamma-L", "-1"), "gamma_L"),
        (("currents", "--omega", "0"), "omega"),
        (("currents", "--mu0", "inf"), "--mu0"),
        (("currents", "--T-e", "nan"), "--T-e"),
        (("currents", "--model", "three-level"), "three-level"),
        (("currents", "--set", "eps_L"), "NAME=VALUE"),
        (("currents", "--set", "eps_L=ten"), "not a number"),
        (("currents", "--set", "eps_L=nan"), "finite"),
        (("currents", "--set", "t=0.3"), "unknown name"),
        (("currents", "--set", "mu_L=9"), "mu_L and mu_R"),
        (("currents", "--set", "eps_L=10", "--set", "eps_L=11"), "twice"),
        (("currents", "--eps-L", "10", "--set", "eps_L=10"), "both set"),
        (("currents", "--spin-degeneracy", "0"), "--spin-degeneracy"),
        (("currents", "--panels", "0"), "--panels"),
        (("currents", "--no-such-option"), "no-such-option"),
        (("frobnicate",), "frobnicate"),
        (("reproduce", "--dpi", "5"), "--dpi"),
    ],
)
def test_bad_input_one_line(args, needle):
    assert_one_line_error(invoke(*args), needle)


@pytest.mark.parametrize("flag", ["--gamma-L", "--gamma-R", "--gamma-ph"])
def test_zero_broadening_is_a_number_or_one_line(flag):
    """γ = 0 is allowed by the help: the core either gives the limit (finite numbers, strict
    JSON) or a clear error; never a traceback and never NaN."""
    res = invoke("currents", "--json", flag, "0", "-V", "-1", "--T-e", "0.3", "--T-ph", "0.3")
    if res.exit_code == 0:
        out = strict_loads(res.stdout)
        assert all(math.isfinite(out[k]) for k in ("J", "I", "P"))
    else:
        assert_one_line_error(res)


def test_dressed_is_a_result_or_one_line():
    res = invoke("currents", "--json", "--dressed", "-V", "-1", "--T-e", "0.3", "--T-ph", "0.3")
    if res.exit_code == 0:
        out = strict_loads(res.stdout)
        assert out["order"] == "dressed" and out["stable"] is True
        # (the paper's junction at this point: a stable dressed mode, as ehpjax.dressed_modes finds it)
        modes = ehpjax.dressed_modes(*ehpjax.models.get("two-level").system(
            {"mu_L": 9.5, "mu_R": 10.5, "T_e": 0.3, "T_ph": 0.3}))
        assert abs(out["growth_rate"] - float(modes.growth_rate)) < 1e-9
        table = invoke("currents", "--dressed", "-V", "-1", "--T-e", "0.3", "--T-ph", "0.3").stdout
        assert f"Im ω = {float(modes.growth_rate):.4g}" in table
    else:
        assert_one_line_error(res, "dressed")


def test_bad_model_files(tmp_path):
    missing = tmp_path / "nowhere.json"
    assert_one_line_error(invoke("currents", "--model", missing), "nowhere.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert_one_line_error(invoke("currents", "--model", garbage), "not valid JSON")
    lacking = tmp_path / "lacking.json"
    lacking.write_text('{"H": [[1.0]]}')
    assert_one_line_error(invoke("currents", "--model", lacking), "lacks")
    not_psd = tmp_path / "not_psd.json"
    not_psd.write_text(json.dumps({"H": [[0.0]], "gamma_L": [[-1.0]], "gamma_R": [[1.0]], "M": [[[1.0]]],
                                   "K": [[1.0]], "eta": [[0.1]]}))
    assert_one_line_error(invoke("currents", "--model", not_psd), "gamma_L")


def test_input_error_classification():
    """Only input errors become one line: EhpjaxError, ValueError from ehpjax's checks, and
    run-time value checks; any other exception is a bug and keeps its traceback."""
    from ehpjax._checks import check_positive

    assert _app.input_error_message(ehpjax.EhpjaxError("bad T_e")) == "bad T_e"
    try:
        check_positive(np.array(-1.0), "T_e")
    except ValueError as e:
        assert "T_e" in _app.input_error_message(e)
    assert _app.input_error_message(ValueError("a bug somewhere")) is None
    assert _app.input_error_message(KeyError("x")) is None
    eqx_text = ("Above is the stack outside of JIT.\nequinox.EquinoxRuntimeError: a state of H is not broadened\n\n"
                "-------------------\n")
    runtime = type("EquinoxRuntimeError", (RuntimeError,), {})(eqx_text)
    assert _app.input_error_message(runtime) == "a state of H is not broadened"
    plain_jit = ValueError("INTERNAL: CpuCallback error calling callback: Traceback ...\n"
                           "equinox._errors._EquinoxRuntimeError: omega must be > 0\n\n\n----------\n")
    assert _app.input_error_message(plain_jit) == "omega must be > 0"


def test_bug_keeps_traceback(monkeypatch):
    import ehpjax._evaluate as evaluation

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(evaluation, "evaluate", broken)
    res = invoke("currents")
    assert res.exit_code != 2 and isinstance(res.exception, ZeroDivisionError)


# ---------------------------------------------------------------------------- parse_sets, resolve_model


def test_parse_sets():
    assert _options.parse_sets(["eps_L=10.2", " V = -1e-1 "]) == {"eps_L": 10.2, "V": -0.1}
    assert _options.parse_sets(None) == {}
    for bad in (["=1"], ["1x=2"], ["a=inf"], ["a="]):
        with pytest.raises(ehpjax.EhpjaxError):
            _options.parse_sets(bad)


def test_resolve_model_default_and_unknown():
    assert _options.resolve_model(None).name == "two-level"
    assert _options.resolve_model(None) is _options.resolve_model("two-level")  # one compiled evaluation
    with pytest.raises(ehpjax.EhpjaxError, match="no-such"):
        _options.resolve_model("no-such")


# ---------------------------------------------------------------------------- atomic writes


def test_write_atomic_rules(tmp_path):
    target = tmp_path / "out.csv"
    _options.write_atomic(target, "one\n")
    assert target.read_text() == "one\n"
    with pytest.raises(ehpjax.EhpjaxError, match="pass overwrite=True"):
        _options.write_atomic(target, "two\n")
    _options.write_atomic(target, b"two\n", overwrite=True)
    assert target.read_text() == "two\n"

    def fails(fh):
        fh.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        _options.write_atomic(target, fails, overwrite=True)
    assert target.read_text() == "two\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary file left
    folder = tmp_path / "a_folder"
    folder.mkdir()
    with pytest.raises(ehpjax.EhpjaxError, match="not a regular file"):
        _options.write_atomic(folder, "x", overwrite=True)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ehpjax.EhpjaxError, match="not a regular file"):
        _options.write_atomic(tmp_path / "fifo", "x", overwrite=True)
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(ehpjax.EhpjaxError, match="not a regular file"):
        _options.write_atomic(tmp_path / "link", "x", overwrite=True)
    with pytest.raises(ehpjax.EhpjaxError, match="does not exist"):
        _options.write_atomic(tmp_path / "missing" / "x.csv", "x")


def test_write_atomic_never_replaces_a_file_that_appears_after_its_last_check(tmp_path, monkeypatch):
    """Without overwrite, the finished file is moved by a hard link, which fails if the target
    exists: another writer's file that appears between the last check and the move is kept."""
    import ehpjax._files as files

    target = tmp_path / "out.csv"
    real = files.check_target
    calls = []

    def check_then_another_writer(path, overwrite=False, **kw):
        out = real(path, overwrite, **kw)
        calls.append(1)
        if len(calls) == 2:  # the check just before the move
            target.write_text("theirs\n")
        return out

    monkeypatch.setattr(files, "check_target", check_then_another_writer)
    with pytest.raises(ehpjax.EhpjaxError, match="pass overwrite=True"):
        files.write_atomic(target, "ours\n")
    assert target.read_text() == "theirs\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary file left


# ---------------------------------------------------------------------------- reproduce


@pytest.fixture(scope="module")
def quick_data():
    return figures.paper_data(figures.PaperSettings.quick())


@pytest.fixture
def precomputed(monkeypatch, quick_data):
    """``reproduce`` on data computed once for the module (the command's own logic is tested)."""
    monkeypatch.setattr(figures, "paper_data", lambda settings: quick_data)


def test_reproduce_quick_writes_everything(tmp_path, precomputed):
    out = tmp_path / "figs"
    res = invoke("reproduce", "--out", out, "--quick", "--dpi", 40)
    assert res.exit_code == 0, res.output
    names = {f"fig{n}.{ext}" for n in range(3, 7) for ext in ("png", "csv")} | {"params.json"}
    assert {p.name for p in out.iterdir()} == names  # and no temporary files
    for n in range(3, 7):
        assert (out / f"fig{n}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        header = (out / f"fig{n}.csv").read_text().splitlines()[0].split(",")
        assert all("[" in col for col in header)
        rows = np.loadtxt(out / f"fig{n}.csv", delimiter=",", skiprows=1)
        assert rows.ndim == 2 and rows.shape[1] == len(header) and np.all(np.isfinite(rows))
    params = strict_loads((out / "params.json").read_text())
    assert params["ehpjax_version"] == version("ehpjax") and params["quick"] is True
    assert params["settings"]["T0"] == 0.5 and params["settings"]["parameters"]["eps_L"] == 10.5
    assert params["results"]["fig6_V_EP_lossless"] == pytest.approx(math.sqrt(0.04**2 - 0.02**2) / 0.05, rel=1e-12)
    assert "V_EP" in res.stdout


def test_reproduce_refuses_existing_outputs(tmp_path, precomputed):
    out = tmp_path / "figs"
    out.mkdir()
    (out / "fig3.png").write_text("my own figure")
    (out / "notes.txt").write_text("keep me")
    assert_one_line_error(invoke("reproduce", "--out", out, "--quick"), "--overwrite")
    assert (out / "fig3.png").read_text() == "my own figure"
    res = invoke("reproduce", "--out", out, "--quick", "--dpi", 40, "--overwrite")
    assert res.exit_code == 0, res.output
    assert (out / "fig3.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "notes.txt").read_text() == "keep me"  # never touched
    (out / "fig4.png").unlink()
    (out / "fig4.png").mkdir()  # not a regular file: refused even with --overwrite
    assert_one_line_error(invoke("reproduce", "--out", out, "--quick", "--overwrite"), "fig4.png")


def test_reproduce_bad_out(tmp_path, precomputed):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert_one_line_error(invoke("reproduce", "--out", blocker), "a_file")
    assert_one_line_error(invoke("reproduce", "--out", blocker / "figs"), "a_file")
    assert blocker.read_text() == "not a folder"


def test_reproduce_leaves_nothing_half_written(tmp_path, precomputed, monkeypatch):
    from ehpjax.cli import _reproduce

    calls = []
    real = _reproduce.write_atomic

    def fail_on_third(path, data, overwrite=False):
        calls.append(path)
        if len(calls) == 3:
            raise ehpjax.EhpjaxError(f"cannot write '{path}': disk full")
        return real(path, data, overwrite)

    monkeypatch.setattr(_reproduce, "write_atomic", fail_on_third)
    out = tmp_path / "new"
    assert_one_line_error(invoke("reproduce", "--out", out, "--quick", "--dpi", 40), "disk full")
    assert not out.exists()


# ---------------------------------------------------------------------------- cache and imports


def test_compilation_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("EHPJAX_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert _app.compilation_cache_dir() == tmp_path / "ehpjax" / "jax"
    monkeypatch.setenv("EHPJAX_CACHE_DIR", str(tmp_path / "mine"))
    assert _app.compilation_cache_dir() == tmp_path / "mine"
    for off in ("", "0", "off", "OFF"):
        monkeypatch.setenv("EHPJAX_CACHE_DIR", off)
        assert _app.compilation_cache_dir() is None


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          timeout=120, cwd=ROOT)


def test_import_is_lean_and_lazy_names_work():
    code = (
        "import sys, ehpjax\n"
        "heavy = [m for m in ('optax', 'optimistix', 'matplotlib', 'xarray', 'typer') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import ehpjax.cli\n"
        "heavy = [m for m in ('optax', 'optimistix', 'matplotlib', 'xarray') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(ehpjax.optimize) and callable(ehpjax.sweep) and ehpjax.figures.PaperSettings\n"
        "assert issubclass(ehpjax.DesignError, ehpjax.EhpjaxError) or issubclass(ehpjax.DesignError, ValueError)\n"
        "assert 'optax' in sys.modules\n"
        "assert {'design', 'figures', 'sweep'} <= set(dir(ehpjax))\n"
    )
    res = run_python(code)
    assert res.returncode == 0, res.stderr


def test_cli_turns_on_the_persistent_cache(tmp_path):
    """Running the app points JAX's persistent compilation cache at EHPJAX_CACHE_DIR."""
    code = (
        "import jax\n"
        "from typer.testing import CliRunner\n"
        "from ehpjax.cli import app\n"
        "res = CliRunner().invoke(app, ['--version'])\n"
        "assert res.exit_code == 0, res.output\n"
        "print(jax.config.jax_compilation_cache_dir)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**env, "PYTHONPATH": str(ROOT), "EHPJAX_CACHE_DIR": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(tmp_path / "cache")
    assert (tmp_path / "cache").is_dir()


def test_dressed_unstable_junction_is_refused_in_one_line():
    """Strong coupling and a weakly damped mode: a pole of the dressed mode in the upper half-plane
    (ehpjax.dressed_modes finds growth rate 1.58): no current to print."""
    res = invoke("currents", "--dressed", "--m", "3", "--gamma-ph", "0.01", "-V", "-6", "--T-e", "0.1", "--T-ph", "0.1")
    assert_one_line_error(res, "unstable")
    assert "growth rate" in res.stderr


def test_currents_goes_on_to_40_panels_where_10_miss():
    """A narrow mode (η = 0.005, half-width 0.0025) at T = 0.3: 10 panels miss the tolerance, so the
    command goes on to 40, as ``ehpjax.currents``' default rule does; ``--panels 10`` keeps 10 and
    warns (the two agree within the 10 panels' estimate)."""
    point = ("--gamma-ph", "0.005", "-V", "-1", "--T-e", "0.3", "--T-ph", "0.3", "--json")
    default = invoke("currents", *point)
    assert default.exit_code == 0 and "warning" not in default.stderr, default.stderr
    out = strict_loads(default.stdout)
    ten = invoke("currents", *point, "--panels", "10")
    assert ten.exit_code == 0 and "try a larger --panels" in ten.stderr
    coarse = strict_loads(ten.stdout)
    for name in ("J", "I"):  # 40 panels within their estimate, and within 10 panels' (larger) one
        assert out[f"{name}_error"] <= 1e-6 * abs(out[name])
        assert abs(out[name] - coarse[name]) <= coarse[f"{name}_error"]


@pytest.mark.parametrize("gamma_ph, splits", [(1e-6, 8), (3e-9, 16)])
def test_currents_splits_where_40_panels_miss_as_the_library_does(gamma_ph, splits):
    """A mode with γ_ph = 1e-6 at T = 0.3: 40 panels miss the tolerance, so the command goes on to
    the default rule's splits (docs/physics.md §5), quiet, and prints the library's default result.
    With γ_ph = 3e-9 the default rule's 8 splits still miss it (19×, the library warns), and the
    command goes on to 16, as ``ehpjax.sweep`` does: quiet, within the library's estimate."""
    point = ("--gamma-ph", str(gamma_ph), "-V", "-1", "--T-e", "0.3", "--T-ph", "0.3", "--json")
    default = invoke("currents", *point)
    assert default.exit_code == 0 and "warning" not in default.stderr, default.stderr
    out = strict_loads(default.stdout)
    system = (ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5), ehpjax.Modes.single(1.0, gamma_ph),
              ehpjax.Baths.biased(-1.0, 10.0, 0.3, 0.3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        library = ehpjax.currents(*system)
    assert bool(caught) == (splits > 8)
    for name in ("J", "I"):
        assert out[f"{name}_error"] <= 1e-6 * abs(out[name])
        distance = abs(out[name] - float(getattr(library, name)))
        if splits > 8:
            assert distance <= float(getattr(library, f"{name}_error")) + out[f"{name}_error"]
        else:
            assert distance <= 1e-12 * abs(out[name])


def test_currents_reports_an_unknown_estimate_with_its_values():
    """γ_ph = 1e-11 with μ0 = 0: even 16 splits leave panels without weight beside the mode (their nodes
    single ulps of ω apart), so the estimates are infinite, unknown. The command prints the (finite)
    values with a warning that says so, the estimates null in JSON; it used to refuse the point ("not
    finite"). (After the test above, whose programs it reuses.)"""
    result = invoke("currents", "--gamma-ph", "1e-11", "-V", "-1", "--T-e", "0.3", "--T-ph", "0.3", "--mu0", "0",
                    "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("ehpjax: warning: the quadrature's error estimate is unknown") == 1, result.stderr
    out = strict_loads(result.stdout)
    assert out["J_error"] is None and out["I_error"] is None
    assert all(math.isfinite(out[k]) for k in ("J", "I", "P"))
