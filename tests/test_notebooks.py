"""Every notebook (jupytext percent scripts in notebooks/) runs top to bottom as a plain script."""

import pathlib
import runpy

import matplotlib
import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")


def test_there_is_a_notebook():
    assert any(p.name == "paper_walkthrough.py" for p in NOTEBOOKS)
