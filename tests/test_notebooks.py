"""Every notebook (jupytext py:percent files in notebooks/) runs top to bottom as a plain script
on its coarse grids (``EHPJAX_QUICK=1``); the figures of the notebooks listed in LABELLED
carry a non-empty label with a unit on every axis and colour bar."""

import pathlib
import re
import runpy

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.py"))
LABELLED = {"paper_walkthrough.py", "cooling_phase_diagram.py"}
UNIT = re.compile(r"\([^()]*(ħΩ|eΩ|Ω|dimensionless)[^()]*\)")


def _labels(fig):
    """The label of every axis that needs one: colour bars, and the axes of panels with data
    (a panel sharing an axis with a labelled neighbour may leave that axis unlabelled)."""
    for ax in fig.axes:
        if hasattr(ax, "_colorbar"):
            yield ax.get_ylabel()
        elif ax.has_data():
            for axis, shared in ((ax.xaxis, ax.get_shared_x_axes()), (ax.yaxis, ax.get_shared_y_axes())):
                siblings = [a for a in shared.get_siblings(ax) if a is not ax]
                label = axis.get_label_text()
                if not label.strip() and any(
                        (a.xaxis if axis is ax.xaxis else a.yaxis).get_label_text().strip() for a in siblings):
                    continue
                yield label


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("EHPJAX_QUICK", "1")
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    plt.close("all")
    try:
        runpy.run_path(str(path), run_name="__main__")
        if path.name in LABELLED:
            figures = [plt.figure(n) for n in plt.get_fignums()]
            assert figures, f"{path.name} draws no figure"
            for fig in figures:
                for label in _labels(fig):
                    assert label.strip() and UNIT.search(label), f"{path.name}: axis label {label!r} lacks a unit"
    finally:
        plt.close("all")


def test_the_notebooks_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {"paper_walkthrough.py", "cooling_phase_diagram.py"} <= names
    for path in NOTEBOOKS:
        assert "jupytext" in path.read_text().split("\n# %%")[0] or "jupytext" in path.read_text()[:2000], path.name
