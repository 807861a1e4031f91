"""The version floors declared in pyproject.toml are true: each feature the package uses is
present from the declared floor on (the minimum versions below were established by reading
the released sources, e.g. ``pip download jax==X --no-deps``, and by running the package in
a fresh venv with every floor installed), and the installed versions have the features."""

import inspect
import re
import sys
import tomllib
from importlib.metadata import requires, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SOURCE = "\n".join(p.read_text() for p in (ROOT / "ehpjax").rglob("*.py"))

# (distribution, pattern in the package source, first version with the feature)
FEATURES = [
    ("jax", r"enable_eigvec_derivs", "0.10.1"),  # jax.lax.linalg.eig keyword (absent up to 0.10.0)
    ("jax", r"axis_types=", "0.6.0"),  # jax.make_mesh(..., axis_types=...) and jax.sharding.AxisType
    ("jax", r"custom_batching\.custom_vmap", "0.4.14"),
    ("jax", r"jax\.tree\.", "0.4.25"),
    ("optimistix", r"optx\.GoldenSearch", "0.1.0"),  # its bracket convention is relied upon
    # recognises SciPy's libscipy_openblas (3.4 lists no BLAS for it; tests/test_lapack_threads.py fails)
    ("threadpoolctl", r"from threadpoolctl import", "3.5.0"),
]


def as_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def declared_floor(name: str) -> tuple[int, ...]:
    for requirement in PROJECT["dependencies"]:
        match = re.fullmatch(rf"{re.escape(name)}\s*>=\s*([\w.]+)", requirement.split(";")[0].strip())
        if match:
            return as_tuple(match.group(1))
    raise AssertionError(f"{name} has no '>=' floor in pyproject.toml")


def test_python_floor():
    floor = as_tuple(PROJECT["requires-python"].removeprefix(">="))
    if re.search(r"^\s*import tomllib|^\s*from tomllib", SOURCE, re.M):
        assert floor >= (3, 11), "tomllib is imported: Python >= 3.11"
    assert floor >= (3, 11), "jax >= 0.10.1 requires Python >= 3.11"
    assert sys.version_info[:2] >= floor[:2]


@pytest.mark.parametrize("name, pattern, first", FEATURES, ids=[f[1] for f in FEATURES])
def test_floor_covers_each_feature_used(name, pattern, first):
    if re.search(pattern, SOURCE):
        assert declared_floor(name) >= as_tuple(first), f"{pattern} needs {name} >= {first}"


# (distribution, its floor, requires at least this floor of a dependency): compatibility found
# by installing the floors together (equinox 0.13.0 does not import with jax 0.10;
# typer 0.12.5 fails with the click 8.5 that pip picks for it).
COMPATIBLE = [
    ("jax", "0.10.0", "equinox", "0.13.1"),
    ("click", "8.2.0", "typer", "0.24.0"),
]


@pytest.mark.parametrize("name, from_version, other, needs", COMPATIBLE, ids=[c[2] for c in COMPATIBLE])
def test_floors_are_compatible(name, from_version, other, needs):
    floor = declared_floor(name) if name != "click" else (8, 2)  # click: pip picks the newest
    if floor >= as_tuple(from_version):
        assert declared_floor(other) >= as_tuple(needs)


def test_jaxlib_matches_jax():
    assert declared_floor("jaxlib") == declared_floor("jax")


@pytest.mark.parametrize("name", ["numpy", "scipy"])
def test_floors_at_least_what_jax_requires(name):
    """jax's own requirements (of the installed version) are no higher than ours."""
    for requirement in requires("jax") or ():
        match = re.fullmatch(rf"{name}\s*>=\s*([\w.]+)", requirement.split(";")[0].strip())
        if match and ";" not in requirement:
            assert declared_floor(name) >= as_tuple(match.group(1))


def test_installed_versions_have_the_features():
    import jax

    assert "enable_eigvec_derivs" in inspect.signature(jax.lax.linalg.eig).parameters
    assert hasattr(jax.sharding, "AxisType")
    for requirement in PROJECT["dependencies"]:
        name = re.split(r"[<>=!~\s\[]", requirement, maxsplit=1)[0]
        assert as_tuple(version(name)) >= declared_floor(name), name


def test_console_script_and_extras():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"ehpjax": "ehpjax.cli:app"}
    assert any(r.startswith("jupytext") for r in PROJECT["optional-dependencies"]["notebooks"])


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1].strip()
    assert "pytest" in command and command in readme
