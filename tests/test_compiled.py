"""The public functions inside a caller's transformations (``_compiled``): points sharded over the
explicit axes of a device mesh (``jax.make_mesh``'s default axis type)."""

import os
import subprocess
import sys
import textwrap

import numpy as np

import ehpjax
from test_sweeps_multihost import xla_flags

BIASES = (-1.0, -0.3, 0.4, 1.0)

CHILD = textwrap.dedent("""
    import sys
    import jax, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    import ehpjax
    assert jax.device_count() == 2, jax.devices()
    junction, modes = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5), ehpjax.Modes.single(1.0, 0.5)
    mesh = jax.make_mesh((2,), ("points",))
    assert mesh.axis_types == (jax.sharding.AxisType.Explicit,)
    V = jax.device_put(np.array({biases!r}), NamedSharding(mesh, P("points")))

    def J(v):  # the default rule (its warning a host callback of the whole batch)
        return ehpjax.currents(junction, modes, ehpjax.Baths.biased(v, 10.0, 0.3, 0.3)).J

    def dressed(v):  # (its warning's host callback outside the currents' own program)
        return ehpjax.currents(junction, modes, ehpjax.Baths.biased(v, 10.0, 0.3, 0.3), order="dressed").J

    out = {{"J": jax.jit(jax.vmap(J))(V)}}
    with jax.set_mesh(mesh):  # (a mesh in context: the constructors' checks as well)
        out["dressed"] = jax.jit(jax.vmap(dressed, spmd_axis_name="points"))(V)
    assert all(x.sharding.spec[0] == "points" for x in out.values()), [x.sharding for x in out.values()]
    np.savez(sys.argv[1], **{{k: np.asarray(x) for k, x in out.items()}})
""").format(biases=BIASES)


def test_points_sharded_over_explicit_mesh_axes_give_the_values_of_one_device(tmp_path):
    """A jit of a vmap whose points are sharded over two devices by an explicit mesh, with or without
    the mesh in context: each point's value (the lowest-order and the dressed currents on their
    default rules) is that of a plain call. (Before, in explicit mode an operation of the vmap that
    mixed a batched (sharded) and an unbatched operand, a stack in the pole polygammas or of the value
    checks' flags, was refused: "All operands should have the same sharding".)"""
    env = dict(os.environ, XLA_FLAGS=xla_flags(device_count=2), JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "out.npz")], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    # (the warning's host callback gets the batch gathered first, not by XLA's last resort, which it logs)
    assert "rematerialization" not in run.stderr, run.stderr[-3000:]
    got = np.load(tmp_path / "out.npz")
    junction, modes = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5), ehpjax.Modes.single(1.0, 0.5)
    for k, V in enumerate(BIASES):
        baths = ehpjax.Baths.biased(V, 10.0, 0.3, 0.3)
        np.testing.assert_allclose(got["J"][k], float(ehpjax.currents(junction, modes, baths).J), rtol=1e-11)
        np.testing.assert_allclose(got["dressed"][k], float(ehpjax.currents(junction, modes, baths, order="dressed").J),
                                   rtol=1e-11)


def test_quick_by_flags_reads_all_three_settings_from_xla_flags(monkeypatch):
    from ehpjax._compiled import quick_by_flags

    quick = ("--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false "
             "--xla_disable_hlo_passes=hlo-verifier,while-loop-invariant-code-motion")
    for flags, expected in ((quick, True), (quick + " --xla_cpu_parallel_codegen_split_count=1", True),
                            (quick.replace("level=0", "level=2"), False), (quick.replace("false", "true"), False),
                            (quick.replace(",while-loop-invariant-code-motion", ""), False), ("", False)):
        monkeypatch.setenv("XLA_FLAGS", flags)
        assert quick_by_flags() is expected, flags
