"""One sweep over several devices: two processes under ``jax.distributed`` (CPU, coordinator
on localhost), each computing its half of every chunk, or two devices of one process; every
process gets the Dataset of a single device."""

import os
import socket
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import xarray as xr

import ehpjax
from ehpjax.sweeps import sweep_to_file

AXES = {"V": np.linspace(-1.0, 1.0, 7), "eps_L": np.linspace(10.0, 11.0, 5)}  # 35 points: the last chunk is padded


def cheap(junction, modes, baths):
    return {"J": jnp.real(junction.H[0, 0]) * baths.T_e + baths.mu_L, "I": jnp.sqrt(modes.K[0, 0]) * baths.mu_R}


CHILD = textwrap.dedent("""
    import sys
    import jax
    process, port, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU collectives between processes
    jax.distributed.initialize(f"127.0.0.1:{{port}}", num_processes=2, process_id=process)
    assert jax.process_count() == 2 and jax.device_count() == 2 and jax.local_device_count() == 1
    import numpy as np
    sys.path.insert(0, {tests!r})
    import test_sweeps_multihost as t
    ds = t.ehpjax.sweep(t.AXES, fn=t.cheap, fixed={{"T_e": 0.3}}, chunk_size=6, progress=False)
    np.save(f"{{folder}}/J{{process}}.npy", ds.J.values)
    np.save(f"{{folder}}/I{{process}}.npy", ds.I.values)
    t.sweep_to_file(f"{{folder}}/out.nc", t.AXES, fn=t.cheap, name="cheap", fixed={{"T_e": 0.3}}, chunk_size=6,
                    progress=False)
    jax.distributed.shutdown()
""").format(tests=os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def xla_flags(device_count: int | None = None) -> str:
    """This process's XLA flags (the suite's compiler settings: the same rounding), with the
    number of host devices set to ``device_count`` (or left to XLA)."""
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "host_platform_device_count" not in f]
    if device_count is not None:
        flags.append(f"--xla_force_host_platform_device_count={device_count}")
    return " ".join(flags)


def test_two_processes_give_the_dataset_of_one(tmp_path):
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=xla_flags())
    port = str(free_port())
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(i), port, str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in (0, 1)]
    for proc in procs:
        output = proc.communicate(timeout=240)[0]
        assert proc.returncode == 0, output[-3000:]
    one = ehpjax.sweep(AXES, fn=cheap, fixed={"T_e": 0.3}, chunk_size=6, progress=False)
    for process in (0, 1):
        np.testing.assert_array_equal(np.load(tmp_path / f"J{process}.npy"), one.J.values)
        np.testing.assert_array_equal(np.load(tmp_path / f"I{process}.npy"), one.I.values)
    single = tmp_path / "single.nc"
    sweep_to_file(single, AXES, fn=cheap, name="cheap", fixed={"T_e": 0.3}, chunk_size=6, progress=False)
    assert (tmp_path / "out.nc").read_bytes() == single.read_bytes()  # written once, by process 0
    with xr.open_dataset(single, engine="scipy") as ds:
        np.testing.assert_array_equal(ds.J.values, one.J.values)
    assert not (tmp_path / "out.nc.partial").exists()


def test_two_devices_of_one_process_give_the_dataset_of_one(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        import jax, numpy as np
        assert jax.device_count() == 2, jax.devices()
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        import test_sweeps_multihost as t
        ds = t.ehpjax.sweep(t.AXES, fn=t.cheap, fixed={{"T_e": 0.3}}, chunk_size=6, progress=False)
        np.save({str(tmp_path / "J.npy")!r}, ds.J.values)
    """)
    env = dict(os.environ, XLA_FLAGS=xla_flags(device_count=2), JAX_PLATFORMS="cpu")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=240)
    one = ehpjax.sweep(AXES, fn=cheap, fixed={"T_e": 0.3}, chunk_size=6, progress=False)
    np.testing.assert_array_equal(np.load(tmp_path / "J.npy"), one.J.values)
