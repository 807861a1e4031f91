"""Importing ehpjax starts no JAX backend: users configure JAX after their imports (platforms,
XLA flags, the number of host devices), and the test suite sets its quick XLA settings after
importing ehpjax, so a module-level array would silently give every test XLA's slow defaults."""

import subprocess
import sys

IMPORTS = "import ehpjax, ehpjax.cli, ehpjax.design, ehpjax.figures, ehpjax.models, ehpjax.sweeps"


def test_importing_ehpjax_starts_no_backend():
    probe = f"{IMPORTS}\nfrom jax._src import xla_bridge\nprint(xla_bridge.backends_are_initialized())"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
