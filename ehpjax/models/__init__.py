"""Models by named parameters: the built-in library and model files (docs/physics.md §11).

    import ehpjax
    model = ehpjax.models.get("two-level")            # a built-in ...
    model = ehpjax.models.get("serial-chain", n=3)    # ... with factory options
    model = ehpjax.models.get("chain3.toml")          # a model file
    model = ehpjax.models.get("best.json")            # a concrete system (no free parameters)
    junction, modes = model.build(eps1=10.2)          # defaults for the rest; traceable
    junction, modes, baths = model.system({"eps1": 10.2, "V": -1.0, "T_e": 0.2})
"""

from __future__ import annotations

import functools
import inspect
import os

from ._files import load_model_file as load_model_file, loads_model as loads_model
from ._library import (
    BUILTIN as BUILTIN,
    parallel_dots as parallel_dots,
    serial_chain as serial_chain,
    two_level as two_level,
    two_mode as two_mode,
)
from ._model import (
    BATH_NAMES as BATH_NAMES,
    Model as Model,
    ModelError as ModelError,
    Parameter as Parameter,
    baths_from as baths_from,
)
from ._system import as_model as as_model, load_system as load_system, save_system as save_system


def _frozen(options: dict) -> tuple:
    """Factory options as a hashable key (lists become tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))


@functools.lru_cache(maxsize=64)
def _builtin(name: str, options: tuple) -> Model:
    """One Model object per built-in and options, so that compiled evaluations keyed on
    the model are reused by every call that names it."""
    return BUILTIN[name](**dict(options))


def get(model: "str | os.PathLike | Model", **options) -> Model:
    """A model by built-in name (``options`` go to its factory), by the path of a model file
    (``*.toml``) or of a concrete system (``*.json``, see ``save_system``), or as given.
    Relative paths are taken as given (from the working directory)."""
    if isinstance(model, Model):
        if options:
            raise ModelError("options are only accepted with a built-in model name")
        return model
    name = os.fspath(model)
    builtin = name.replace("_", "-")  # "serial_chain" means "serial-chain"
    if builtin in BUILTIN:
        accepted = inspect.signature(BUILTIN[builtin]).parameters
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise ModelError(f"model {name!r} has no option {', '.join(map(repr, unknown))} "
                             f"(options: {', '.join(accepted) or 'none'})")
        try:
            return _builtin(builtin, _frozen(options))
        except TypeError as err:
            raise ModelError(f"model {name!r}: {err}") from None
    if name.endswith((".toml", ".json")) or os.path.exists(name):
        if options:
            raise ModelError(f"model {name!r}: options are only accepted with a built-in model name")
        if name.endswith(".json"):
            return as_model(name)
        return load_model_file(name)
    raise ModelError(f"unknown model {name!r} (built-in: {', '.join(BUILTIN)}; or a model file *.toml, "
                     f"or a system *.json)")


def list_models() -> dict[str, str]:
    """Built-in model names and their one-line descriptions (at the factories' default options)."""
    return {name: factory().description for name, factory in BUILTIN.items()}
