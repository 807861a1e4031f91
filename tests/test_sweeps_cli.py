"""``ehpjax sweep`` and ``ehpjax plot``: configs of any model, one-line errors that leave
nothing behind, resumable runs, and labelled plots."""

import os

import matplotlib
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import ehpjax
from ehpjax.sweeps import _run, plot_results
from ehpjax.sweeps._store import ChunkStore

matplotlib.use("Agg")
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
CONFIG = """
preset = "paper"
chunk_size = 4
[fixed]
T_e = 0.3
T_ph = 0.25
mu0 = 10.0
[axes]
V = {start = -2.0, stop = 2.0, num = 9}
eps_L = [10.0, 10.5, 11.0]
"""


from ehpjax.cli._app import app as APP  # noqa: E402  (the real application, with its one error path)



def invoke(*args):
    return CliRunner().invoke(APP, [str(a) for a in args])


def one_line_error(result, message):
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    config = folder / "sweep.toml"
    config.write_text(CONFIG)
    out = folder / "r.nc"
    result = invoke("sweep", config, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    return out


def test_config_sweep_is_labelled_and_records_its_config(results):
    with xr.open_dataset(results, engine="scipy") as ds:
        assert ds.J.shape == (9, 3) and ds.attrs["config"] == CONFIG and ds.attrs["model"] == "two-level"
        assert ds.J.attrs["units"] == "ħΩ²" and ds.V.attrs["units"] == "ħΩ" and "bias" in ds.V.attrs["long_name"]
        direct = ehpjax.sweep({"V": ds.V.values, "eps_L": ds.eps_L.values},
                              fixed={"T_e": 0.3, "T_ph": 0.25, "mu0": 10.0}, chunk_size=4, progress=False)
        np.testing.assert_array_equal(ds.J.values, direct.J.values)


def test_chain_config_with_model_file_equals_the_api(tmp_path):
    """model = a file relative to the config; the result equals ``ehpjax.sweep`` of that model
    (which test_sweeps.py checks against direct ``currents`` calls). The API gets the path as the
    config spells it, so that both use one Model object and its compiled programs."""
    chain = os.path.relpath(os.path.join(EXAMPLES, "chain3.toml"), tmp_path)
    config = tmp_path / "chain.toml"
    config.write_text(f'model = "{chain}"\nchunk_size = 4\nmode = "flat"\n[fixed]\nT_e = 0.2\nT_ph = 0.3\n'
                      '[axes]\nt = [0.1, 0.3, 0.25, 0.4]\nmu_L = [10.5, 9.0, 10.0, 10.2]\nmu_R = [9.5, 10.0, 10.0, 9.9]\n')
    out = tmp_path / "chain.nc"
    result = invoke("sweep", config, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    api = ehpjax.sweep({"t": [0.1, 0.3, 0.25, 0.4], "mu_L": [10.5, 9.0, 10.0, 10.2], "mu_R": [9.5, 10.0, 10.0, 9.9]},
                       model=os.path.join(tmp_path, chain), fixed={"T_e": 0.2, "T_ph": 0.3}, mode="flat",
                       chunk_size=4, progress=False)
    with xr.open_dataset(out, engine="scipy") as ds:
        assert ds.attrs["model"] == "chain3" and ds.t.attrs["units"] == "ħΩ"
        for name in api.data_vars:
            np.testing.assert_array_equal(ds[name].values, api[name].values)


def _interrupt_after_three_chunks(monkeypatch):
    """Make ``ChunkStore.write`` raise KeyboardInterrupt (Ctrl-C) after the third chunk; returns the
    original method."""
    original, calls = ChunkStore.write, []

    def interrupted(self, *args):
        original(self, *args)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(ChunkStore, "write", interrupted)
    return original


def test_interrupted_sweep_resumes_to_an_identical_file(tmp_path, monkeypatch, results):
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    out = tmp_path / "resumed.nc"
    original = _interrupt_after_three_chunks(monkeypatch)
    result = invoke("sweep", config, "--out", out, "--quiet")
    assert result.exit_code == 130 and "resume" in result.output
    assert not out.exists() and (tmp_path / "resumed.nc.partial" / "sweep.json").exists()
    monkeypatch.setattr(ChunkStore, "write", original)
    computed = []
    compute = _run._Plan.compute_chunk
    monkeypatch.setattr(_run._Plan, "compute_chunk", lambda self, i: (computed.append(i), compute(self, i))[1])
    assert invoke("sweep", config, "--out", out, "--quiet").exit_code == 0
    assert computed == list(range(3, 7))  # nothing recomputed
    assert out.read_bytes() == results.read_bytes()
    assert not (tmp_path / "resumed.nc.partial").exists()
    one_line_error(invoke("sweep", config, "--out", out, "--quiet"), "exists; pass --overwrite")


@pytest.mark.parametrize("text, message", [
    ('preset = "paper"\n[axes]\nfoo = [1.0]\n', "unknown parameter 'foo'"),
    ('colour = 1\n[axes]\nV = [1.0]\n', "unknown key 'colour'"),
    ('[axes]\nV = {start = 0.0, stop = 1.0, num = 0}\n', "axis 'V': num must be a positive integer"),
    ('[fixed]\nV = 1.0\n[axes]\nV = [1.0, 2.0]\n', "'V' is both fixed and swept"),
    ('[axes]\nV = {start = 0.0, stop = 1.0, step = 3}\n', "axis 'V': unknown key 'step'"),
    ('[fixed]\nmu_L = 1.0\n[axes]\nV = [1.0]\n', "either as (mu_L, mu_R) or as (mu0, V)"),
    ('preset = "bogus"\n[axes]\nV = [1.0]\n', "unknown preset 'bogus'"),
    ("this is = not toml [", "cannot read config"),
    ('chunk_size = 2.7\n[axes]\nV = [1.0]\n', "chunk_size must be a positive integer"),
    ('chunk_size = 0\n[axes]\nV = [1.0]\n', "chunk_size must be a positive integer"),
    ('[fixed]\nT_e = -0.3\n[axes]\nV = [1.0]\n', "fixed parameter 'T_e': the temperature must be > 0"),
    (('chunk_size = 4\n[fixed]\nT_e = 0.3\nT_ph = 0.25\nmu0 = 10.0\n[axes]\ngamma_L = [0.0]\nV = [0.0, 1.0]\n'
     'eps_L = [10.0, 11.0]\n'), "invalid value at 4 of 4 points, the first with gamma_L = 0"),
    ('model = "nope"\n[axes]\nV = [1.0]\n', "unknown model 'nope'"),
    ('model = "serial-chain"\n[model_options]\nn = 0\n[axes]\nt = [1.0]\n', "n must be an integer >= 1"),
    ('model = "serial-chain"\n[model_options]\nn = 3\n[axes]\neps_L = [1.0]\n', "unknown parameter 'eps_L'"),
])
def test_bad_configs_give_one_line_and_leave_nothing(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    one_line_error(invoke("sweep", config, "--out", tmp_path / "r.nc", "--quiet"), message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_bad_outputs_and_options(tmp_path):
    config = tmp_path / "ok.toml"
    config.write_text(CONFIG)
    one_line_error(invoke("sweep", tmp_path / "none.toml", "--out", tmp_path / "r.nc"), "no such file")
    one_line_error(invoke("sweep", config, "--out", tmp_path / "missing" / "r.nc"), "does not exist")
    one_line_error(invoke("sweep", config, "--out", "/dev/full", "--overwrite"), "not a regular file")
    one_line_error(invoke("sweep", config, "--out", config), "exists; pass --overwrite")
    one_line_error(invoke("sweep", config, "--out", tmp_path / "r.nc", "--set", "T_e"), "--set 'T_e'")
    one_line_error(invoke("sweep", config, "--out", tmp_path / "r.nc", "--model", "two-level"), "leave out --model")
    assert config.read_text() == CONFIG and sorted(p.name for p in tmp_path.iterdir()) == ["ok.toml"]


def test_plot_errors_give_one_line(tmp_path, results):
    text = tmp_path / "notes.txt"
    text.write_text("not a netcdf file")
    one_line_error(invoke("plot", text, "--x", "V"), "is not a NetCDF-3 file")
    one_line_error(invoke("plot", results, "--x", "V", "--y", "V"), "--x and --y are both 'V'")
    one_line_error(invoke("plot", results, "--x", "T_e"), "'T_e' is not swept")
    one_line_error(invoke("plot", results, "--x", "V", "--var", "Q"), "unknown variable 'Q'")
    one_line_error(invoke("plot", results, "--x", "V", "--out", tmp_path / "no" / "p.png"), "does not exist")
    one_line_error(invoke("plot", results, "--x", "V", "--out", "/dev/full"), "not a regular file")
    one_line_error(invoke("plot", results, "--x", "V", "--out", tmp_path), "not a regular file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_plots_carry_symbols_units_and_fixed_values(tmp_path, results):
    import matplotlib.pyplot as plt

    line = tmp_path / "line.png"
    assert invoke("plot", results, "--x", "V", "--var", "J_LR", "--out", line).exit_code == 0
    assert line.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig, ax = plt.subplots()
    plot_results(results, x="V", var="J_LR", ax=ax)
    assert ax.get_xlabel() == "$V$ (ħΩ)" and ax.get_ylabel() == "$J^{LR}$ (ħΩ²)"
    title = ax.get_title()
    assert "$T_e$ = 0.3" in title and "$\\varepsilon_L$ = 10" in title and "$\\mu_0$ = 10" in title
    fig, ax = plt.subplots()
    plot_results(results, x="eps_L", y="V", var="J", ax=ax)
    bar = fig.axes[-1]
    assert ax.get_xlabel() == "$\\varepsilon_L$ (ħΩ)" and ax.get_ylabel() == "$V$ (ħΩ)"
    assert bar.get_ylabel() == "$J$ (ħΩ²)"
    ticks = bar.get_yticks()
    with xr.open_dataset(results, engine="scipy") as ds:
        lo, hi = float(ds.J.min()), float(ds.J.max())
    assert lo < 0 < hi and ticks.min() < 0 < ticks.max()  # ticks on both sides of zero
    plt.close("all")
    out = tmp_path / "map.png"
    assert invoke("plot", results, "--x", "eps_L", "--y", "V", "--out", out).exit_code == 0
    one_line_error(invoke("plot", results, "--x", "eps_L", "--y", "V", "--out", out), "exists; pass --overwrite")


def test_model_parameter_symbols():
    from ehpjax.sweeps._plots import symbol

    assert symbol("eps1") == "$\\varepsilon_{1}$" and symbol("t") == "$t$"
    assert symbol("gamma_ph2") == "$\\gamma_{\\mathrm{ph}2}$" and symbol("m2") == "$m_{2}$"
    assert symbol("omega2") == "$\\omega_{2}$" and symbol("T_e") == "$T_e$" and symbol("phi") == "$\\phi$"


def test_config_is_read_once(tmp_path, monkeypatch, results):
    """A config edited, then deleted, during the run: the run uses and records the text it read."""
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    compute = _run._Plan.compute_chunk

    def meddle(self, i):
        if i == 1:
            config.write_text(CONFIG.replace("T_e = 0.3", "T_e = 0.9"))
        if i == 2:
            config.unlink()
        return compute(self, i)

    monkeypatch.setattr(_run._Plan, "compute_chunk", meddle)
    out = tmp_path / "r.nc"
    assert invoke("sweep", config, "--out", out, "--quiet").exit_code == 0
    with xr.open_dataset(out, engine="scipy") as ds:
        assert ds.attrs["config"] == CONFIG
    assert out.read_bytes() == results.read_bytes()


def test_xarray_plots_of_the_file_are_labelled(results):
    import matplotlib.pyplot as plt

    with xr.open_dataset(results, engine="scipy") as ds:
        ds.J.sel(eps_L=10.5).plot()
    ax = plt.gca()
    assert ax.get_ylabel().endswith("[ħΩ²]") and "energy current" in ax.get_ylabel()
    assert ax.get_xlabel() == "bias μ_L − μ_R [ħΩ]"
    plt.close("all")


def test_a_damaged_checkpoint_is_reported_in_one_line_and_recomputed(tmp_path, monkeypatch, results):
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    out = tmp_path / "edited.nc"
    original = _interrupt_after_three_chunks(monkeypatch)
    assert invoke("sweep", config, "--out", out, "--quiet").exit_code == 130
    monkeypatch.setattr(ChunkStore, "write", original)
    values = np.load(tmp_path / "edited.nc.partial" / "J.npy", mmap_mode="r+")
    values[1] += 1e-9  # a finished chunk edited in place
    values.flush()
    del values
    result = invoke("sweep", config, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "arning" in line]
    assert len(lines) == 1 and lines[0].startswith("ehpjax: warning: checkpoint") and "is damaged" in lines[0]
    assert out.read_bytes() == results.read_bytes()


def test_a_line_and_a_colour_map_get_their_own_default_names(tmp_path, results):
    """RESULTS_VAR_X.png and RESULTS_VAR_X_Y.png, next to the results: the README's line and colour
    map of one file do not collide; a wrong --x is reported before an existing PNG."""
    local = tmp_path / "r.nc"
    local.write_bytes(results.read_bytes())
    assert invoke("plot", local, "--x", "V").exit_code == 0
    assert invoke("plot", local, "--x", "V", "--y", "eps_L").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc", "r_J_V.png", "r_J_V_eps_L.png"]
    one_line_error(invoke("plot", local, "--x", "nosuch"), "'nosuch' is not swept")
    one_line_error(invoke("plot", local, "--x", "V"), "exists; pass --overwrite")
