"""``python -m ehpjax``: the ``ehpjax`` command (same as the console script)."""

from .cli import app

if __name__ == "__main__":
    app(prog_name="ehpjax")
