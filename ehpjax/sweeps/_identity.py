"""Fingerprints: a digest of everything that determines a sweep's values.

A checkpoint is resumed only when the fingerprint of the new call equals the saved one.
Python callables (a custom output ``fn``, a model's builder) are identified by their code:
the byte code, constants, referenced names, default arguments and closure values, and
the values of simple module-level constants they read. A callable that cannot be digested
this way (a C function, a closure over an object without a stable value) needs an explicit
name from the caller.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import types

import numpy as np

from .._errors import EhpjaxError

_SIMPLE = (bool, int, float, complex, str, bytes, type(None))


class Unhashable(EhpjaxError):
    """A value with no stable digest (raised to ask the caller for an explicit name)."""


def _digest_value(value, seen: set) -> str:
    """A stable text for a value a callable closes over (numbers, strings, arrays, tuples, code)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, _SIMPLE):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [_digest_value(v, seen) for v in value]
        if isinstance(value, (set, frozenset)):
            items.sort()
        return f"{type(value).__name__}({','.join(items)})"
    if isinstance(value, dict):
        return "dict(" + ",".join(f"{_digest_value(k, seen)}={_digest_value(v, seen)}"
                                  for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))) + ")"
    if isinstance(value, np.ndarray) or type(value).__module__.startswith(("jax", "jaxlib")) and hasattr(value, "dtype"):
        array = np.asarray(value)
        return f"array({array.dtype},{array.shape},{hashlib.sha256(array.tobytes()).hexdigest()})"
    if isinstance(value, types.ModuleType):
        return f"module:{value.__name__}"
    if isinstance(value, (types.FunctionType, types.MethodType, types.CodeType, type)):
        return callable_digest(value, seen)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return f"{type(value).__qualname__}{_digest_value(fields, seen)}"
    raise Unhashable(f"no stable digest for a value of type {type(value).__name__}")


def _code_digest(code: types.CodeType, seen: set) -> str:
    consts = [(_code_digest(c, seen) if isinstance(c, types.CodeType) else _digest_value(c, seen))
              for c in code.co_consts]
    return hashlib.sha256(repr((code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars))
                          .encode()).hexdigest()


def callable_digest(fn, seen: set | None = None) -> str:
    """Digest of a Python function's code, defaults, closure and the simple globals it reads.

    Raises ``Unhashable`` for callables that are not plain Python functions (or reference
    values without a stable digest)."""
    seen = set() if seen is None else seen
    if id(fn) in seen:  # recursion (a function referring to itself)
        return "recursive"
    seen.add(id(fn))
    if isinstance(fn, types.MethodType):
        return "method(" + _digest_value(fn.__self__, seen) + "," + callable_digest(fn.__func__, seen) + ")"
    if isinstance(fn, type):
        return f"class:{fn.__module__}.{fn.__qualname__}"
    if isinstance(fn, types.CodeType):
        return _code_digest(fn, seen)
    if not isinstance(fn, types.FunctionType):
        raise Unhashable(f"{fn!r} is not a plain Python function")
    parts = [f"{fn.__module__}.{fn.__qualname__}", _code_digest(fn.__code__, seen),
             _digest_value(fn.__defaults__ or (), seen), _digest_value(fn.__kwdefaults__ or {}, seen)]
    for cell in fn.__closure__ or ():
        try:
            parts.append(_digest_value(cell.cell_contents, seen))
        except ValueError:  # an empty cell
            parts.append("empty")
    # Values of simple module-level constants the code reads (a changed constant changes the values).
    for name in _all_names(fn.__code__):
        value = fn.__globals__.get(name, None)
        if isinstance(value, _SIMPLE) or isinstance(value, np.ndarray):
            parts.append(f"{name}={_digest_value(value, seen)}")
        elif isinstance(value, types.FunctionType) and value.__module__ == fn.__module__:
            parts.append(f"{name}={callable_digest(value, seen)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _all_names(code: types.CodeType) -> list[str]:
    names = list(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names += _all_names(c)
    return sorted(set(names))


def model_digest(model) -> dict:
    """Identity of a model: name, parameters (defaults, bounds), bath defaults, source
    (the file's contents when it is a file) and its builder's code."""
    info = {"name": model.name,
            "parameters": [[p.name, p.default, str(p.min), str(p.max)] for p in model.parameters],
            "baths": {k: float(v) for k, v in sorted(dict(model.baths).items())},
            "source": str(model.source)}
    if isinstance(model.source, (str, os.PathLike)) and os.path.isfile(model.source):
        with open(model.source, "rb") as fh:
            info["source_sha256"] = hashlib.sha256(fh.read()).hexdigest()
    try:
        info["builder"] = callable_digest(model.builder)
    except Unhashable:
        info["builder"] = f"{getattr(model.builder, '__module__', '')}.{getattr(model.builder, '__qualname__', '')}"
    return info


def fingerprint(document: dict) -> str:
    """sha256 of a JSON document (keys sorted)."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
