"""Model files: a model written as TOML (docs/physics.md §11).

    [model]                      # optional: name and one-line description
    name = "double dot"
    [parameters]                 # name = default, or {value, min, max, unit, description}
    eps1 = 0.5
    eps2 = 0.0
    t = {value = 0.3, min = 0.0, max = 1.0, description = "hopping"}
    gL = 0.4
    [junction]                   # n x n matrices; entries are numbers or expressions
    H = [["eps1", "t"], ["t", "eps2"]]
    gamma_L = [["gL", 0], [0, 0]]
    gamma_R = [[0, 0], [0, "gL"]]
    M = [[[0, "0.5*t"], ["0.5*t", 0]]]    # one n x n matrix per mode
    spin_degeneracy = 1                   # optional
    [modes]                      # N_b x N_b, N_b = number of matrices in M
    K = [[1.0]]
    eta = [[0.3]]
    [baths]                      # optional defaults of mu0, V, mu_L, mu_R, T_e, T_ph
    T_e = 0.1

Entries are compiled by ``_expressions`` (numbers, parameter names, + − * / **, sqrt, exp,
log, cos, sin, pi, 1j; nothing else). At the default values the file must describe a
valid system: H and M^k Hermitian, Γ_L, Γ_R positive semi-definite, K real symmetric
positive definite, η real symmetric PSD. The same named checks run whenever the model is
built from concrete (untraced) values.
"""

from __future__ import annotations

import functools
import math
import os
import tomllib

import jax
import numpy as np

from .._model import Junction, Modes
from ._expressions import RESERVED, compile_expression, compile_matrix
from ._model import BATH_NAMES, Model, ModelError, Parameter
from ._validate import check_system

SECTIONS = {
    "model": ("name", "description"),
    "parameters": None,  # any parameter names
    "junction": ("H", "gamma_L", "gamma_R", "M", "spin_degeneracy"),
    "modes": ("K", "eta"),
    "baths": BATH_NAMES,
}
REQUIRED = {"junction": ("H", "gamma_L", "gamma_R", "M"), "modes": ("K", "eta")}
PARAMETER_KEYS = ("value", "min", "max", "unit", "description")


def load_model_file(path: "str | os.PathLike") -> Model:
    """The model in a TOML file (relative paths are taken as given, i.e. from the working
    directory). Reloaded only when the file changes, so repeated calls return the same
    Model (and compiled functions keyed on it are reused)."""
    path = os.fspath(path)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise ModelError(f"model file {path!r}: no such file") from None
    except OSError as err:
        raise ModelError(f"model file {path!r}: cannot read it ({err.strerror})") from None
    if not os.path.isfile(path):
        raise ModelError(f"model file {path!r} is not a regular file")
    return _load_cached(path, os.path.realpath(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _load_cached(path: str, realpath: str, mtime_ns: int, size: int) -> Model:
    try:
        with open(path, "rb") as fh:
            document = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ModelError(f"model file {path!r} is not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"model file {path!r}: cannot read it ({err})") from None
    default_name = os.path.splitext(os.path.basename(path))[0]
    return parse_model(document, source=path, default_name=default_name)


def loads_model(text: str, source: str = "<string>", default_name: str = "model") -> Model:
    """The model in a TOML string (as ``load_model_file``)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ModelError(f"model {source!r} is not valid TOML: {err}") from None
    return parse_model(document, source=source, default_name=default_name)


def parse_model(document: dict, source: str, default_name: str = "model") -> Model:
    """A Model from a parsed TOML document (see the module docstring)."""
    where = f"model file {source!r}: "
    _check_keys(document, where)
    info = document.get("model", {})
    name = info.get("name", default_name)
    description = info.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise ModelError(f"{where}[model] name and description must be strings")

    parameters = tuple(_parameter(key, value, where) for key, value in document.get("parameters", {}).items())
    names = [p.name for p in parameters]

    junction, modes = document.get("junction", {}), document.get("modes", {})
    h, _, (n, _) = _square(junction["H"], names, where + "junction.H")
    g_left, _, _ = compile_matrix(junction["gamma_L"], names, where + "junction.gamma_L", (n, n))
    g_right, _, _ = compile_matrix(junction["gamma_R"], names, where + "junction.gamma_R", (n, n))
    m_rows = junction["M"]
    if not isinstance(m_rows, list) or not m_rows or not all(isinstance(r, list) and r and isinstance(r[0], list)
                                                             for r in m_rows):
        raise ModelError(f"{where}junction.M must be a list of {n}x{n} matrices, one per mode "
                         f"(for one mode: M = [[[...], ...]])")
    n_modes = len(m_rows)
    coupling, _, _ = compile_matrix(m_rows, names, where + "junction.M", (n_modes, n, n))
    stiffness, k_entries, _ = compile_matrix(modes["K"], names, f"{where}modes.K (N_b = {n_modes} modes in M)",
                                            (n_modes, n_modes))
    friction, eta_entries, _ = compile_matrix(modes["eta"], names, f"{where}modes.eta (N_b = {n_modes} modes in M)",
                                              (n_modes, n_modes))
    spin = compile_expression(junction.get("spin_degeneracy", 1.0), names, where + "junction.spin_degeneracy")
    for label, entries in (("modes.K", k_entries), ("modes.eta", eta_entries), ("junction.spin_degeneracy", [spin])):
        for entry in _flatten(entries):
            if entry.is_complex:
                raise ModelError(f"{where}{label} must be real, but {entry.text!r} has the imaginary unit")

    baths = document.get("baths", {})
    for key, value in baths.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ModelError(f"{where}[baths] {key} must be a finite number, got {value!r}")

    def arrays(p):
        return h(p), g_left(p), g_right(p), coupling(p), stiffness(p), friction(p), spin(p)

    def build(p):
        H, gL, gR, M, K, eta, g = arrays(p)
        if not any(isinstance(v, jax.core.Tracer) for v in p.values()):
            check_system(*(np.asarray(x) for x in (H, gL, gR, M, K, eta, g)),
                         context=f"{where}at {_values(p)}: ")
        return Junction(H, gL, gR, M, g), Modes(K, eta)

    model = Model(name, parameters, build, description=description,
                  baths={k: float(v) for k, v in baths.items()}, source=source)
    defaults = model.defaults
    check_system(*(np.asarray(x) for x in arrays(defaults)), context=f"{where}at the default values: ")
    return model


def _flatten(nested):
    if isinstance(nested, list):
        return [e for item in nested for e in _flatten(item)]
    return [nested]


def _values(p) -> str:
    text = ", ".join(f"{k} = {float(np.real(v)):g}" for k, v in p.items())
    return text or "the default values"


def _check_keys(document: dict, where: str) -> None:
    unknown = [k for k in document if k not in SECTIONS]
    if unknown:
        raise ModelError(f"{where}unknown section(s) {', '.join(map(repr, unknown))} "
                         f"(sections: {', '.join(SECTIONS)})")
    for section, keys in SECTIONS.items():
        if section not in document:
            if section in REQUIRED:
                raise ModelError(f"{where}the section [{section}] is missing")
            continue
        if not isinstance(document[section], dict):
            raise ModelError(f"{where}{section} must be a section [{section}]")
        if keys is not None:
            bad = [k for k in document[section] if k not in keys]
            if bad:
                raise ModelError(f"{where}unknown key(s) {', '.join(map(repr, bad))} in [{section}] "
                                 f"(keys: {', '.join(keys)})")
        missing = [k for k in REQUIRED.get(section, ()) if k not in document[section]]
        if missing:
            raise ModelError(f"{where}[{section}] lacks {', '.join(missing)}")


def _parameter(name: str, value, where: str) -> Parameter:
    if name in BATH_NAMES:
        raise ModelError(f"{where}parameter {name!r} shadows the bath name {name!r} "
                         f"(bath names {', '.join(BATH_NAMES)} are reserved; rename the parameter)")
    if name in RESERVED:
        raise ModelError(f"{where}parameter {name!r} shadows the constant or function {name!r} of expressions")
    if not name.isidentifier():
        raise ModelError(f"{where}parameter name {name!r} is not a valid identifier")
    if isinstance(value, dict):
        bad = [k for k in value if k not in PARAMETER_KEYS]
        if bad:
            raise ModelError(f"{where}parameter {name!r}: unknown key(s) {', '.join(map(repr, bad))} "
                             f"(keys: {', '.join(PARAMETER_KEYS)})")
        if "value" not in value:
            raise ModelError(f"{where}parameter {name!r} lacks its default 'value'")
        fields = {"default": _real(value["value"], f"{name}.value", where)}
        for key in ("min", "max"):
            if key in value:
                fields[key] = _real(value[key], f"{name}.{key}", where, allow_inf=True)
        for key in ("unit", "description"):
            if key in value:
                if not isinstance(value[key], str):
                    raise ModelError(f"{where}parameter {name!r}: {key} must be a string")
                fields[key] = value[key]
    else:
        fields = {"default": _real(value, name, where)}
    try:
        return Parameter(name, **fields)
    except ModelError as err:
        raise ModelError(f"{where}{err}") from None


def _real(value, what: str, where: str, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelError(f"{where}parameter {what} must be a real number, got {value!r}")
    value = float(value)
    if math.isnan(value) or (not allow_inf and math.isinf(value)):
        raise ModelError(f"{where}parameter {what} must be a finite number, got {value!r}")
    return value


def _square(rows, names, where: str):
    function, compiled, shape = compile_matrix(rows, names, where)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ModelError(f"{where} must be a square matrix (a list of equal-length rows), got shape {shape}")
    return function, compiled, shape
