"""Models by named parameters: the built-in library and model files (docs/physics.md §11).

    import ehpjax
    model = ehpjax.models.get("two-level")          # or a built-in with options, or "my_model.toml"
    junction, modes = model.build(eps_L=10.2)       # defaults for the rest; traceable
    junction, modes, baths = model.system({"eps_L": 10.2, "V": -1.0, "T_e": 0.2})
"""

from __future__ import annotations

import os

from ._library import BUILTIN as BUILTIN, two_level as two_level
from ._model import (
    BATH_NAMES as BATH_NAMES,
    Model as Model,
    ModelError as ModelError,
    Parameter as Parameter,
    baths_from as baths_from,
)


def get(model: "str | os.PathLike | Model", **options) -> Model:
    """A model by built-in name (``options`` go to its factory), by model-file path, or as given."""
    if isinstance(model, Model):
        if options:
            raise ModelError("options are only accepted with a built-in model name")
        return model
    name = os.fspath(model)
    if name in BUILTIN:
        return BUILTIN[name](**options)
    raise ModelError(f"unknown model {name!r} (built-in: {', '.join(sorted(BUILTIN))}, or a model file *.toml)")
