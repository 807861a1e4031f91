"""Importing ehpjax starts no JAX backend: users configure JAX after their imports (platforms,
XLA flags, the number of host devices), and the test suite sets its quick XLA settings after
importing ehpjax, so a module-level array would silently give every test XLA's slow defaults."""

import subprocess
import sys

IMPORTS = "import ehpjax, ehpjax.cli, ehpjax.design, ehpjax.figures, ehpjax.models, ehpjax.sweeps"


# Then, in the same fresh process (where nothing is compiled yet), the convenience constructors
# from numbers compile no XLA program: they build their matrices on the host.
BUILD = """
from jax._src import monitoring
compiled = []
monitoring.register_event_duration_secs_listener(
    lambda event, duration, **kw: compiled.append(kw.get("fun_name")) if event.endswith("backend_compile_duration") else None)
ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)
ehpjax.Modes.single(1.0, 0.5)
ehpjax.Baths.biased(0.7, 10.0, 0.2)
print(compiled)
"""


def test_importing_ehpjax_starts_no_backend_and_building_compiles_nothing():
    probe = f"{IMPORTS}\nfrom jax._src import xla_bridge\nprint(xla_bridge.backends_are_initialized())\n{BUILD}"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "[]"], out.stdout
