"""The ``ehpjax`` command line (typer): ``ehpjax --help`` lists the commands.

The entry point is ``ehpjax.cli:app``. Each command lives in its own module with a
``register(app)`` function; ``_app`` registers them all and owns the one error path;
``_options`` holds what the commands share (``--model``, ``--set``, atomic output files).
"""

from ._app import app as app

__all__ = ["app"]
