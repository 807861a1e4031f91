"""What the commands share: the ``--model``/``--set``/``--out``/``--overwrite`` options, their
parsing, help text from docstrings, and atomic output files.

Every command module imports from here (never from ``_app``), so the package has no cycle.
Bad input raises ``EhpjaxError``; the app prints it as one line and exits with status 2.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._errors import EhpjaxError
from .._files import check_target, write_atomic  # noqa: F401  (the commands' output files)
from .._quantities import UNITS_NOTE

MODEL_HELP = (
    "The junction: a built-in model by name (see 'ehpjax models'; default two-level, the paper's junction), "
    "a model file (*.toml), or a concrete system saved as JSON (e.g. the best.json of 'ehpjax optimize')."
)
SET_HELP = (
    "Set a model parameter or a bath value, NAME=VALUE (repeat the option for several); bath names: mu0, V, "
    "mu_L, mu_R, T_e, T_ph. Energies, temperatures and biases in ħΩ (" + UNITS_NOTE + ")."
)

ModelOption = Annotated[Optional[str], typer.Option("--model", metavar="NAME|FILE", help=MODEL_HELP)]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", metavar="NAME=VALUE", help=SET_HELP)]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace output files that already exist "
                                               "(regular files only; without it an existing output is an error).")]


def out_option(help: str):
    """An ``--out PATH`` option type with the given help (commands differ in what they write)."""
    return Annotated[Optional[Path], typer.Option("--out", "-o", metavar="PATH", help=help)]


def help_text(doc: str | None) -> str:
    """A docstring as help text: paragraphs joined into single lines (the help formatter
    would otherwise keep the docstring's line breaks)."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


# ----------------------------------------------------------------------------------------
# --set NAME=VALUE


def parse_sets(items: list[str] | None) -> dict[str, float]:
    """``["eps_L=10.2", "V=-1"]`` → ``{"eps_L": 10.2, "V": -1.0}``. Each value must be a
    finite real number and each name may appear once."""
    values: dict[str, float] = {}
    for item in items or ():
        name, sep, text = str(item).partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name or not text:
            raise EhpjaxError(f"--set {item!r}: expected NAME=VALUE, e.g. --set eps_L=10.2")
        if not name.isidentifier():
            raise EhpjaxError(f"--set {item!r}: {name!r} is not a parameter name")
        try:
            value = float(text)
        except ValueError:
            raise EhpjaxError(f"--set {item!r}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise EhpjaxError(f"--set {item!r}: the value must be finite")
        if name in values:
            raise EhpjaxError(f"--set: {name} is given twice")
        values[name] = value
    return values


# ----------------------------------------------------------------------------------------
# --model NAME|FILE


def resolve_model(spec: str | None):
    """The model named by ``--model``: None → the built-in "two-level"; otherwise a built-in
    name, a model file (``*.toml``) or a concrete system (``*.json``, e.g. a design's
    best.json: a model without free parameters whose bath defaults are the file's baths)."""
    from .. import models

    return models.get("two-level" if spec is None else spec)


# ----------------------------------------------------------------------------------------
# Output files: atomic, never over a non-regular file, existing ones only with --overwrite


def strict_json(data) -> str:
    """JSON text with every non-finite float written as null (strict JSON: no bare NaN)."""

    def finite(obj):
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else None
        if isinstance(obj, dict):
            return {k: finite(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [finite(v) for v in obj]
        return obj

    return json.dumps(finite(data), indent=2, ensure_ascii=False, allow_nan=False)
