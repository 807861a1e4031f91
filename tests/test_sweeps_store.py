"""Sweep checkpoints and outputs: nothing lost, nothing silently wrong.

A cheap custom output (no frequency integral) keeps these tests fast; what they check is
the store: user files survive, damaged chunks are found and recomputed, a kill at any
stage loses at most one chunk, outputs are atomic and never replace what they must not.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import jax.numpy as jnp  # noqa: F401  (used by FN_SOURCE, run with exec below)
import numpy as np
import pytest
import xarray as xr

import ehpjax
from ehpjax.sweeps import _netcdf, _run, sweep_to_file
from ehpjax.sweeps._store import ChunkStore, _npy_header

AXES = {"V": np.linspace(-1.0, 1.0, 40), "eps_L": np.linspace(10.0, 11.0, 10)}  # 400 points
CHUNK = 16  # 25 chunks
N_CHUNKS = 25
CUT = len(_npy_header(400)) + 8 * 150 + 4  # a truncation in the middle of a value
FN_SOURCE = """
def cheap(junction, modes, baths):
    return {"J": jnp.real(junction.H[0, 0]) * baths.T_e + baths.mu_L, "I": jnp.sqrt(modes.K[0, 0]) * baths.mu_R}
"""
exec(FN_SOURCE)  # noqa: S102  defines cheap (the same source runs in the killed child processes)
OPTIONS = {"fn": cheap, "name": "cheap", "chunk_size": CHUNK, "fixed": {"T_e": 0.3}, "progress": False}  # noqa: F821


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """The uninterrupted run's file."""
    path = tmp_path_factory.mktemp("whole") / "whole.nc"
    sweep_to_file(path, AXES, **OPTIONS)
    return path.read_bytes()


@pytest.fixture
def computed(monkeypatch):
    """Indices of the chunks computed from now on."""
    calls = []
    original = _run._Plan.compute_chunk
    monkeypatch.setattr(_run._Plan, "compute_chunk", lambda self, i: (calls.append(i), original(self, i))[1])
    return calls


def interrupt_after(monkeypatch, n):
    """Ctrl-C after ``n`` chunks are stored."""
    original, stored = ChunkStore.write, []

    def write(self, *args):
        original(self, *args)
        stored.append(1)
        if len(stored) == n:
            raise KeyboardInterrupt

    monkeypatch.setattr(ChunkStore, "write", write)
    return original


def partial_checkpoint(tmp_path, monkeypatch, n=20):
    out = tmp_path / "r.nc"
    original = interrupt_after(monkeypatch, n)
    with pytest.raises(KeyboardInterrupt):
        sweep_to_file(out, AXES, **OPTIONS)
    monkeypatch.setattr(ChunkStore, "write", original)
    assert not out.exists()
    return out, tmp_path / "r.nc.partial"


def test_resume_equals_uninterrupted_run_and_recomputes_nothing(tmp_path, monkeypatch, whole):
    out, folder = partial_checkpoint(tmp_path, monkeypatch)
    meta = json.loads((folder / "sweep.json").read_text())
    assert len(meta["chunks"]) == 20
    calls = []
    original = _run._Plan.compute_chunk
    monkeypatch.setattr(_run._Plan, "compute_chunk", lambda self, i: (calls.append(i), original(self, i))[1])
    sweep_to_file(out, AXES, **OPTIONS)
    assert calls == list(range(20, N_CHUNKS))
    assert out.read_bytes() == whole and not folder.exists()


def damage_truncate(folder):
    path = folder / "J.npy"
    with open(path, "r+b") as fh:
        fh.truncate(CUT)  # the header and 150.5 values remain: chunks 9 … are gone


def damage_all_done(folder):
    meta = json.loads((folder / "sweep.json").read_text())
    first = meta["chunks"]["0"]
    meta["chunks"] = {str(i): first for i in range(N_CHUNKS)}  # marked done without their data
    (folder / "sweep.json").write_text(json.dumps(meta))


def damage_edit(folder):
    data = np.load(folder / "J.npy", mmap_mode="r+")
    data[3 * CHUNK + 2] += 1e-9
    data.flush()


def damage_float32(folder):
    np.save(folder / "J.npy", np.load(folder / "J.npy").astype(np.float32))


@pytest.mark.parametrize("damage, recomputed", [
    (damage_truncate, None),  # the chunks beyond the cut (which ones depends on the header size)
    (damage_all_done, list(range(1, N_CHUNKS))),
    (damage_edit, [3] + list(range(20, N_CHUNKS))),
    (damage_float32, list(range(N_CHUNKS))),
])
def test_damaged_checkpoint_is_detected_and_recomputed(tmp_path, monkeypatch, whole, computed, damage, recomputed):
    out, folder = partial_checkpoint(tmp_path, monkeypatch)
    damage(folder)
    computed.clear()
    with pytest.warns(RuntimeWarning, match="damaged") as record:
        sweep_to_file(out, AXES, **OPTIONS)
    message = next(str(w.message) for w in record if "damaged" in str(w.message))
    if recomputed is None:
        kept = (CUT - len(_npy_header(400))) // 8  # values of J kept
        recomputed = list(range(kept // CHUNK, N_CHUNKS))
    assert computed == recomputed
    damaged_before_20 = [i for i in recomputed if i < 20]
    assert all(f"{i} (points {i * CHUNK}" in message for i in damaged_before_20[:10])
    if damage is damage_float32:
        assert "J.npy" in message
    assert out.read_bytes() == whole and not folder.exists()


def test_checkpoint_of_another_fn_is_not_resumed(tmp_path, monkeypatch, computed):
    """Same qualified name, other code: the fingerprint tells them apart (no J and I mixed)."""
    folder = tmp_path / "ck"
    original = interrupt_after(monkeypatch, 3)
    opts = {k: v for k, v in OPTIONS.items() if k not in ("fn", "name")}
    with pytest.raises(KeyboardInterrupt):
        ehpjax.sweep(AXES, fn=lambda j, m, b: {"X": b.mu_L}, checkpoint=folder, **opts)
    monkeypatch.setattr(ChunkStore, "write", original)
    computed.clear()
    with pytest.warns(RuntimeWarning, match="different sweep"):
        ds = ehpjax.sweep(AXES, fn=lambda j, m, b: {"X": b.mu_R}, checkpoint=folder, **opts)
    assert computed == list(range(N_CHUNKS))
    np.testing.assert_array_equal(ds.X.values, (10.0 - AXES["V"][:, None] / 2) * np.ones((1, 10)))
    assert not folder.exists()


def test_fn_that_cannot_be_identified_needs_a_name(tmp_path):
    import functools

    fn = functools.partial(lambda j, m, b, s: {"X": s * b.mu_L}, s=2.0)
    opts = {"chunk_size": CHUNK, "progress": False}
    with pytest.raises(ehpjax.SweepError, match="name="):
        ehpjax.sweep({"V": [0.0, 1.0]}, fn=fn, checkpoint=tmp_path / "ck", **opts)
    assert not (tmp_path / "ck").exists()
    ds = ehpjax.sweep({"V": [0.0, 1.0]}, fn=fn, checkpoint=tmp_path / "ck", name="twice mu_L", **opts)
    np.testing.assert_allclose(ds.X, [20.0, 21.0])
    assert ehpjax.sweep({"V": [0.0, 1.0]}, fn=fn, **opts).X.shape == (2,)  # no checkpoint: no name needed


def test_checkpoint_never_touches_files_it_did_not_write(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "thesis.tex").write_text("x")
    with pytest.raises(ehpjax.SweepError, match="not empty"):
        ehpjax.sweep({"V": [0.0, 1.0]}, checkpoint=data, fn=cheap, name="cheap", progress=False)  # noqa: F821
    assert sorted(p.name for p in data.iterdir()) == ["thesis.tex"] and (data / "thesis.tex").read_text() == "x"
    empty = tmp_path / "empty"
    empty.mkdir()
    ehpjax.sweep({"V": [0.0, 1.0]}, checkpoint=empty, fn=cheap, name="cheap", progress=False)  # noqa: F821
    assert empty.is_dir() and not list(empty.iterdir())
    own = tmp_path / "own"
    ehpjax.sweep({"V": [0.0, 1.0]}, checkpoint=own, fn=cheap, name="cheap", progress=False)  # noqa: F821
    assert not own.exists()


def test_outputs_are_refused_or_replaced_only_as_asked(tmp_path, whole):
    out = tmp_path / "r.nc"
    out.write_text("my data")
    with pytest.raises(ehpjax.SweepError, match="exists; pass overwrite=True"):
        sweep_to_file(out, AXES, **OPTIONS)
    assert out.read_text() == "my data" and not (tmp_path / "r.nc.partial").exists()
    sweep_to_file(out, AXES, overwrite=True, **OPTIONS)
    assert out.read_bytes() == whole
    for target in ("/dev/full", tmp_path):  # a device node, a folder: never replaced
        with pytest.raises(ehpjax.SweepError, match="not a regular file"):
            sweep_to_file(target, AXES, overwrite=True, **OPTIONS)
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")
    with pytest.raises(ehpjax.SweepError, match="does not exist"):
        sweep_to_file(tmp_path / "missing" / "r.nc", AXES, **OPTIONS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc"]  # no temp file, no checkpoint


def test_netcdf_is_labelled_and_read_by_xarray(tmp_path, whole):
    path = tmp_path / "w.nc"
    path.write_bytes(whole)
    with xr.open_dataset(path, engine="scipy") as ds:
        assert ds.J.dims == ("V", "eps_L") and ds.J.shape == (40, 10)
        np.testing.assert_array_equal(ds.V, AXES["V"])
        expected = ds.eps_L.values[None, :] * 0.3 + (10.0 + ds.V.values[:, None] / 2)
        np.testing.assert_allclose(ds.J.values, expected, rtol=1e-15)
        assert ds.J.attrs["units"] == "ħΩ²" and ds.V.attrs["units"] == "ħΩ"
        assert "energy of level 1" in ds.eps_L.attrs["long_name"]
        assert ds.attrs["model"] == "two-level" and ds.attrs["fixed_T_e"] == 0.3


def test_too_large_sweeps_and_bad_chunk_sizes_are_refused_at_once(tmp_path):
    huge = {"V": np.linspace(-1, 1, 1000), "eps_L": np.linspace(9, 11, 1000), "eps_R": np.linspace(9, 11, 1000),
            "m": np.linspace(0.1, 1, 100)}  # 10^11 points
    with pytest.raises(ehpjax.SweepError, match="available memory"):
        ehpjax.sweep(huge, **OPTIONS)
    with pytest.raises(ehpjax.SweepError, match="on disk"):
        sweep_to_file(tmp_path / "huge.nc", huge, **OPTIONS)
    assert not list(tmp_path.iterdir())
    for bad in (0, 2.7, -3, True, "8"):
        with pytest.raises(ehpjax.SweepError, match="chunk_size must be a positive integer"):
            ehpjax.sweep({"V": [0.0]}, chunk_size=bad, progress=False)


def test_complex_outputs_are_refused():
    with pytest.raises(ehpjax.SweepError, match="complex"):
        ehpjax.sweep({"V": [0.0, 1.0]}, fn=lambda j, m, b: {"z": j.H[0, 0] + 1j * b.mu_L}, progress=False)


STAGES = {  # where the process dies → chunks it leaves on disk
    "chunk": 5,  # right after the 5th chunk is stored
    "meta": 4,  # the 5th chunk's values written, not yet recorded in sweep.json
    "last": N_CHUNKS,  # every chunk stored, the output not yet written
    "netcdf": N_CHUNKS,  # the output written to its temp file, not yet moved into place
    "written": N_CHUNKS,  # the output in place, the checkpoint not yet removed
}


def patch_stages(monkeypatch, at_stage):
    """Call ``at_stage(name)`` at each stage of a sweep_to_file run."""
    write, save, close, write_nc = ChunkStore.write, ChunkStore._save_meta, ChunkStore.close, _netcdf.write
    plan_write = _run._Plan.write_netcdf

    def patched_write(self, *a):
        write(self, *a)
        if len(self.checksums) == 5:
            at_stage("chunk")

    def patched_save(self, *a):
        if len(self.checksums) == 5 and "meta" not in done:
            done.add("meta")
            at_stage("meta")
        save(self, *a)

    done = set()
    monkeypatch.setattr(ChunkStore, "write", patched_write)
    monkeypatch.setattr(ChunkStore, "_save_meta", patched_save)
    monkeypatch.setattr(_run._Plan, "write_netcdf", lambda *a, **k: (at_stage("last"), plan_write(*a, **k))[1])
    monkeypatch.setattr(_netcdf, "write", lambda *a, **k: (write_nc(*a, **k), at_stage("netcdf"))[0])
    monkeypatch.setattr(ChunkStore, "close", lambda self, remove=False: (remove and at_stage("written"),
                                                                          close(self, remove))[1])


def resume_loses_at_most_one_chunk(folder, stage, whole, computed):
    out = folder / "r.nc"
    computed.clear()
    sweep_to_file(out, AXES, overwrite=stage == "written", **OPTIONS)
    assert len(computed) == N_CHUNKS - STAGES[stage] <= N_CHUNKS - 4, stage
    assert out.read_bytes() == whole, stage
    assert not (folder / "r.nc.partial").exists(), stage


def test_a_kill_at_any_stage_loses_at_most_one_chunk(tmp_path, monkeypatch, whole):
    """What a kill leaves on disk is the files as they are at that instant: copy them at
    each stage (no finally block, no flush of Python buffers runs), then resume each copy."""
    run = tmp_path / "run"
    run.mkdir()
    patch_stages(monkeypatch, lambda stage: shutil.copytree(run, tmp_path / stage))
    sweep_to_file(run / "r.nc", AXES, **OPTIONS)
    monkeypatch.undo()
    original = _run._Plan.compute_chunk
    computed = []
    monkeypatch.setattr(_run._Plan, "compute_chunk", lambda self, i: (computed.append(i), original(self, i))[1])
    for stage in STAGES:
        resume_loses_at_most_one_chunk(tmp_path / stage, stage, whole, computed)


CHILD = textwrap.dedent("""
    import os, signal, sys
    import numpy as np, jax.numpy as jnp, pytest
    sys.path.insert(0, {tests!r})
    import test_sweeps_store as t
    stage, folder = sys.argv[1], sys.argv[2]
    mp = pytest.MonkeyPatch()
    t.patch_stages(mp, lambda s: os.kill(os.getpid(), signal.SIGKILL) if s == stage else None)
    t.sweep_to_file(os.path.join(folder, "r.nc"), t.AXES, **t.OPTIONS)
""").format(tests=os.path.dirname(os.path.abspath(__file__)))


def test_sigkill_mid_chunk_loses_at_most_one_chunk(tmp_path, whole, computed):
    """A real SIGKILL in a child process, between a chunk's values and their record."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    procs = {}
    for stage in ("meta",):
        (tmp_path / stage).mkdir()
        procs[stage] = subprocess.Popen([sys.executable, "-c", CHILD, stage, str(tmp_path / stage)], env=env)
    for stage, proc in procs.items():
        assert proc.wait(timeout=240) == -signal.SIGKILL, stage
    for stage in procs:
        resume_loses_at_most_one_chunk(tmp_path / stage, stage, whole, computed)
