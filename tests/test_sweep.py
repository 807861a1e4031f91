"""Batched sweeps: labelled results, chunking, sharding, resume, config errors, plots."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import pytest
import typer
import xarray as xr
from typer.testing import CliRunner

import ehpjax
from ehpjax._sweep import _ChunkStore
from ehpjax._sweep_cli import register

AXES = {"V": np.linspace(-2.0, 2.0, 5), "eps_L": [10.0, 10.5, 11.0]}
FIXED = {"T_e": 0.3, "T_ph": 0.25, "mu0": 10.0}
CONFIG = """
preset = "paper"
[fixed]
T_e = 0.3
T_ph = 0.3
mu0 = 10.0
[axes]
V = {start = -2.0, stop = 2.0, num = 41}
eps_L = [10.0, 10.5, 11.0]
"""


def app():
    a = typer.Typer()
    register(a)
    a.command("noop")(lambda: None)  # keep typer in multi-command mode
    return a


def test_product_sweep_matches_direct_calls():
    ds = ehpjax.sweep(AXES, fixed=FIXED, chunk_size=4, progress=False)
    assert ds.J.dims == ("V", "eps_L") and ds.J.shape == (5, 3)
    np.testing.assert_array_equal(ds.V, AXES["V"])
    assert ds.attrs["ehpjax_version"] == ehpjax.__version__ and "hbar" in ds.attrs["units"]
    modes = ehpjax.Modes.single(1.0, 0.5)
    for V in (-2.0, 1.0):
        for eps_L in (10.0, 11.0):
            c = ehpjax.currents(ehpjax.Junction.two_level(eps_L, 9.5, 0.5, 0.5, 0.5), modes,
                                ehpjax.Baths.biased(V, 10.0, 0.3, 0.25))
            point = ds.sel(V=V, eps_L=eps_L)
            np.testing.assert_allclose(float(point.J), float(c.J), rtol=1e-6)  # sweeps refine only to the tolerance
            np.testing.assert_allclose(float(point.I), float(c.I), rtol=1e-6, atol=1e-16)
            np.testing.assert_allclose(float(point.J_LR), float(c.J_channels[3]), rtol=1e-6, atol=1e-16)


def test_flat_sweep_and_chunking_do_not_change_results():
    flat = ehpjax.sweep({"mu_L": [9.8, 10.1, 10.4], "mu_R": [10.0, 10.0, 9.5]}, mode="flat", progress=False)
    assert flat.J.dims == ("point",)
    c = ehpjax.currents(ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5), ehpjax.Modes.single(1.0, 0.5),
                        ehpjax.Baths(10.4, 9.5, 0.5, 0.5))
    np.testing.assert_allclose(float(flat.J[2]), float(c.J), rtol=1e-6)
    one = ehpjax.sweep(AXES, fixed=FIXED, chunk_size=1000, progress=False)
    many = ehpjax.sweep(AXES, fixed=FIXED, chunk_size=2, progress=False)
    for name in one.data_vars:
        np.testing.assert_allclose(many[name], one[name], rtol=1e-13, atol=1e-17)


def test_sharded_over_two_devices_equals_unsharded(tmp_path):
    script = textwrap.dedent(f"""
        import numpy as np, jax, ehpjax
        assert jax.device_count() == 2, jax.devices()
        ds = ehpjax.sweep({{"V": np.linspace(-2.0, 2.0, 5), "eps_L": [10.0, 10.5, 11.0]}},
                          fixed={FIXED!r}, chunk_size=6, progress=False)
        np.save({str(tmp_path / "J.npy")!r}, ds.J.values)
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    unsharded = ehpjax.sweep(AXES, fixed=FIXED, chunk_size=6, progress=False)
    np.testing.assert_allclose(np.load(tmp_path / "J.npy"), unsharded.J.values, rtol=1e-13)


def test_interrupted_sweep_resumes_to_an_identical_file(tmp_path, monkeypatch):
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    runner = CliRunner()
    whole = tmp_path / "whole.nc"
    assert runner.invoke(app(), ["sweep", str(config), "--out", str(whole), "--chunk-size", "16", "--quiet"]).exit_code == 0
    resumed = tmp_path / "resumed.nc"
    original_write, calls = _ChunkStore.write, []

    def interrupted_write(self, *args):  # Ctrl-C after the third chunk
        original_write(self, *args)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(_ChunkStore, "write", interrupted_write)
    result = runner.invoke(app(), ["sweep", str(config), "--out", str(resumed), "--chunk-size", "16", "--quiet"])
    assert result.exit_code == 130 and "resume" in result.output
    assert not resumed.exists() and (tmp_path / "resumed.nc.partial" / "done.npy").exists()
    monkeypatch.setattr(_ChunkStore, "write", original_write)
    computed = []
    monkeypatch.setattr(_ChunkStore, "write", lambda self, i, *a: (computed.append(i), original_write(self, i, *a)))
    assert runner.invoke(app(), ["sweep", str(config), "--out", str(resumed), "--chunk-size", "16", "--quiet"]).exit_code == 0
    assert computed == list(range(3, 8))  # nothing recomputed
    assert resumed.read_bytes() == whole.read_bytes()
    assert not (tmp_path / "resumed.nc.partial").exists()


def test_killed_sweep_resumes_to_an_identical_file(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG.replace("num = 41", "num = 401"))
    out = tmp_path / "killed.nc"
    code = f"from ehpjax._sweep_cli import run_sweep; run_sweep({str(config)!r}, {str(out)!r}, chunk_size=8, progress=False)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    done = tmp_path / "killed.nc.partial" / "done.npy"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        try:  # the flags file may be mid-creation
            enough = done.exists() and np.load(done, mmap_mode="r").sum() >= 2
        except (ValueError, OSError):
            enough = False
        if enough:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait(timeout=60)
    finished = np.load(done).sum() if done.exists() else None
    from ehpjax._sweep_cli import run_sweep

    run_sweep(config, out, chunk_size=8, progress=False)
    whole = tmp_path / "whole.nc"
    run_sweep(config, whole, chunk_size=8, progress=False)
    assert finished is None or 2 <= finished < 151
    assert out.read_bytes() == whole.read_bytes()


@pytest.mark.parametrize(
    "text, message",
    [
        ('preset = "paper"\n[axes]\nfoo = [1.0]\n', "unknown parameter 'foo'"),
        ('colour = 1\n[axes]\nV = [1.0]\n', "unknown key 'colour'"),
        ('[axes]\nV = {start = 0.0, stop = 1.0, num = 0}\n', "axis 'V': num must be a positive integer"),
        ('[fixed]\nV = 1.0\n[axes]\nV = [1.0, 2.0]\n', "'V' is both fixed and swept"),
        ('[axes]\nV = {start = 0.0, stop = 1.0, step = 3}\n', "axis 'V': unknown key 'step'"),
        ('[fixed]\nmu_L = 1.0\n[axes]\nV = [1.0]\n', "either as (mu_L, mu_R) or as (mu0, V)"),
        ('preset = "bogus"\n[axes]\nV = [1.0]\n', "unknown preset 'bogus'"),
        ("this is = not toml [", "cannot read config"),
    ],
)
def test_bad_configs_give_one_clear_line(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = CliRunner().invoke(app(), ["sweep", str(config), "--out", str(tmp_path / "r.nc"), "--quiet"])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_config_and_unwritable_output(tmp_path):
    result = CliRunner().invoke(app(), ["sweep", str(tmp_path / "none.toml"), "--out", str(tmp_path / "r.nc")])
    assert result.exit_code == 2 and "no such file" in result.output
    config = tmp_path / "ok.toml"
    config.write_text(CONFIG)
    result = CliRunner().invoke(app(), ["sweep", str(config), "--out", str(tmp_path / "missing" / "r.nc")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_plot_line_and_map(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    results = tmp_path / "r.nc"
    runner = CliRunner()
    assert runner.invoke(app(), ["sweep", str(config), "--out", str(results), "--quiet"]).exit_code == 0
    assert xr.open_dataset(results, engine="scipy").J.shape == (41, 3)
    for extra, name in ((["--y", "V"], "map.png"), ([], "line.png")):
        out = tmp_path / name
        result = runner.invoke(app(), ["plot", str(results), "--x", "eps_L" if extra else "V", *extra,
                                       "--var", "J", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(app(), ["plot", str(results), "--x", "T_e", "--var", "J"])
    assert bad.exit_code == 2 and "'T_e' is not a dimension" in bad.output
    assert jax.device_count() >= 1


def test_checkpoint_never_touches_files_it_did_not_write(tmp_path):
    """A checkpoint folder holding a user's file is refused, the file survives, and a sweep's
    own checkpoint folder is removed only with the files it wrote."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "thesis.tex").write_text("x")
    with pytest.raises(ehpjax.SweepError, match="not empty"):
        ehpjax.sweep({"V": [0.0, 1.0]}, checkpoint=data, progress=False)
    assert (data / "thesis.tex").read_text() == "x"
    assert sorted(p.name for p in data.iterdir()) == ["thesis.tex"]

    empty = tmp_path / "empty"
    empty.mkdir()
    ehpjax.sweep({"V": [0.0, 1.0]}, checkpoint=empty, progress=False)
    assert empty.is_dir() and not list(empty.iterdir())  # its own files gone, the user's folder kept

    own = tmp_path / "own"
    ehpjax.sweep({"V": [0.0, 1.0]}, checkpoint=own, progress=False)
    assert not own.exists()
