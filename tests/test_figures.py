"""Figures 3–6 as a reader sees them: a symbol and a unit on every axis and colour bar, no
empty labels, no label or legend overlapping another or struck through by a curve; the
CSV tables; the dressed-curve switch; and the one definition of R(ΔT)."""

import re

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402

import ehpjax  # noqa: E402
from ehpjax import figures  # noqa: E402

UNIT = re.compile(r"\([^()]*(ħΩ|eΩ|Ω|dimensionless)[^()]*\)")
QUICK = figures.PaperSettings.quick()


@pytest.fixture(scope="module")
def data():
    d = figures.paper_data(QUICK)
    return {3: d["thermal"], 4: d["thermal"], 5: d["cooling"], 6: d["exceptional_point"]}


def with_fake_dressed(data: dict) -> dict:
    """Figure data with ``*_dressed`` entries (scaled copies) to exercise the dressed curves
    and columns before the dressed currents exist."""
    out = dict(data)
    for key in ("J", "I", "R", "P", "J_channels"):
        if key in data:
            out[f"{key}_dressed"] = 1.1 * np.asarray(data[key])
    if "window_edges" in data:
        out["window_edges_dressed"] = data["window_edges"]
    return out


def assert_labelled(fig):
    """Every axis (and colour bar) of every panel has a non-empty label with a unit."""
    for ax in fig.axes:
        labels = [ax.get_ylabel()] if hasattr(ax, "_colorbar") else [ax.get_xlabel(), ax.get_ylabel()]
        for text in labels:
            assert text.strip(), f"empty axis label in {fig.get_suptitle()!r}"
            assert UNIT.search(text), f"no unit in axis label {text!r}"


def legends(ax):
    """Every legend drawn in ``ax`` (its own and any added as an artist), each once."""
    found = {id(a): a for a in ax.get_children() if isinstance(a, Legend)}
    return list(found.values())


def text_artists(fig):
    """(name, Bbox) of every label, title, legend and free text of the figure, drawn."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        boxes.append(("suptitle", fig._suptitle.get_window_extent(renderer)))
    for k, ax in enumerate(fig.axes):
        items = [ax.xaxis.label, ax.yaxis.label, ax.title, ax._left_title, ax._right_title, *ax.texts]
        for item in items:
            if item.get_text().strip():
                boxes.append((f"ax{k}:{item.get_text()[:30]}", item.get_window_extent(renderer)))
        for j, legend in enumerate(legends(ax)):
            boxes.append((f"ax{k}:legend{j}", legend.get_window_extent(renderer)))
    return boxes


def assert_no_overlaps(fig):
    boxes = text_artists(fig)
    for i, (name_a, a) in enumerate(boxes):
        for name_b, b in boxes[i + 1:]:
            overlap = min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)
            assert not (overlap[0] > 1 and overlap[1] > 1), f"{name_a!r} overlaps {name_b!r}"


def assert_nothing_struck_through(fig, samples: int = 30):
    """No curve passes through a legend or a text inside the axes (segments sampled finely)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        boxes = [(f"legend {legend.get_title().get_text()!r}", legend.get_window_extent(renderer))
                 for legend in legends(ax)]
        boxes += [(f"text {t.get_text()!r}", t.get_window_extent(renderer)) for t in ax.texts if t.get_text().strip()]
        for line in ax.lines:
            xy = line.get_transform().transform(line.get_xydata())
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            if len(xy) == 0:
                continue
            if line.get_linestyle() in ("None", "none", " ", ""):
                points = xy
            else:
                t = np.linspace(0, 1, samples)[None, :, None]
                points = (xy[:-1, None, :] * (1 - t) + xy[1:, None, :] * t).reshape(-1, 2) if len(xy) > 1 else xy
            for name, box in boxes:
                inside = ((points[:, 0] > box.x0 + 1) & (points[:, 0] < box.x1 - 1)
                          & (points[:, 1] > box.y0 + 1) & (points[:, 1] < box.y1 - 1))
                assert not np.any(inside), (f"{fig.get_suptitle()[:6]!r}: curve {line.get_label()!r} "
                                            f"({line.get_linestyle()}) crosses the {name}")


# Fig. 6 (Eq. 9) has no currents, so nothing to dress.
FIGURES_AND_ORDERS = [(n, dressed) for n in (3, 4, 5, 6) for dressed in (False, True) if not (dressed and n == 6)]
ORDER_IDS = [f"{n}-{'dressed' if dressed else 'lowest'}" for n, dressed in FIGURES_AND_ORDERS]


@pytest.mark.parametrize("n, dressed", FIGURES_AND_ORDERS, ids=ORDER_IDS)
def test_plot_is_publishable(n, dressed, data):
    d = with_fake_dressed(data[n]) if dressed else data[n]
    fig = getattr(figures, f"plot_fig{n}")(d)
    try:
        assert fig.get_suptitle().startswith(f"Fig. {n}")
        assert "(ħΩ)" in fig.get_suptitle()  # the fixed parameters carry their unit
        assert_labelled(fig)
        assert_no_overlaps(fig)
        assert_nothing_struck_through(fig)
        assert any(ax.get_legend() is not None for ax in fig.axes)
        dashed = [line for ax in fig.axes for line in ax.lines if line.get_linestyle() == "--"]
        assert bool(dashed) == dressed  # dressed curves are the only dashed ones
    finally:
        plt.close(fig)


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_plot_into_given_axes(n, data):
    plot = getattr(figures, f"plot_fig{n}")
    fig = plot(data[n])
    n_panels = len(fig.axes)
    plt.close(fig)
    fig2, given = plt.subplots(1, n_panels)
    try:
        assert plot(data[n], ax=given) is fig2
        with pytest.raises(ValueError, match="panel"):
            plot(data[n], ax=[np.atleast_1d(given)[0]] * (n_panels + 1))
    finally:
        plt.close("all")


@pytest.mark.parametrize("n, dressed", FIGURES_AND_ORDERS, ids=ORDER_IDS)
def test_tables(n, dressed, data, tmp_path):
    d = with_fake_dressed(data[n]) if dressed else data[n]
    header, rows = getattr(figures, f"fig{n}_table")(d)
    assert rows.shape[1] == len(header) and np.all(np.isfinite(rows))
    assert all(re.fullmatch(r"[^\[\]]+ \[[^\[\]]+\]", h) for h in header)  # "name [unit]"
    assert len(set(header)) == len(header)
    assert any(h.split(" [")[0].endswith("_dressed") for h in header) == dressed
    path = tmp_path / f"fig{n}.csv"
    figures.write_csv(path, header, rows)
    assert path.read_text() == figures.csv_text(header, rows)
    assert path.read_text().splitlines()[0] == ",".join(header)
    np.testing.assert_allclose(np.loadtxt(path, delimiter=",", skiprows=1), rows, rtol=1e-11)


def test_fig5_table_columns(data):
    header, rows = figures.fig5_table(data[5])
    names = [h.split(" [")[0] for h in header]
    assert names[:5] == ["T", "V", "mu_L", "mu_R", "J"]
    J = rows[:, names.index("J")]
    channels = rows[:, [names.index(f"J_{c}") for c in ehpjax.CHANNELS]]
    np.testing.assert_allclose(channels.sum(axis=1), J, rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(rows[:, 2] - rows[:, 3], rows[:, 1], atol=1e-14)  # μ_L − μ_R = V


def test_settings_come_from_the_model():
    model = ehpjax.models.get("two-level")
    assert figures.PaperSettings().parameters == model.defaults
    assert figures.PaperSettings(parameters={"m": 0.3}).parameters == {**model.defaults, "m": 0.3}
    with pytest.raises(ValueError, match="unknown"):
        figures.PaperSettings(parameters={"t": 0.3})
    assert figures.PaperSettings().orders == ("lowest",)
    assert figures.PaperSettings(dressed=True).orders == ("lowest", "dressed")


def test_settings_validation():
    with pytest.raises(ValueError, match="symmetric"):
        figures.PaperSettings(delta_T=(-0.5, 0.8, 11))
    with pytest.raises(ValueError, match="T0"):
        figures.PaperSettings(T0=0.3)
    with pytest.raises(ValueError, match="temperatures"):
        figures.PaperSettings(temperatures=(0.1, -0.2))
    with pytest.raises(ValueError, match="panels"):
        figures.PaperSettings(panels=0)


def test_rectification_ratio():
    R = figures.rectification_ratio
    assert float(R(0.0, 0.0)) == 0.0  # no heat flows either way: nothing is rectified
    assert float(R(3.0, -1.0)) == pytest.approx(0.5)  # (|3| − |−1|)/(|3| + |−1|)
    assert float(R(-1.0, 3.0)) == pytest.approx(-0.5)
    x = np.random.default_rng(0).normal(size=(2, 50))
    np.testing.assert_allclose(R(x[0], x[1]), -np.asarray(R(x[1], x[0])), atol=1e-15)
    assert np.all(np.abs(np.asarray(R(x[0], x[1]))) <= 1)
    # Differentiable, also where both currents vanish.
    grad = jax.grad(lambda a: R(a, jnp.asarray(0.0)))(jnp.asarray(0.0))
    assert np.isfinite(float(grad))
    assert float(jax.grad(lambda a: R(a, 1.0))(2.0)) == pytest.approx(2 * 1.0 / 3.0**2)


def test_rectification_in_fig3_is_the_one_definition(data):
    d = data[3]
    np.testing.assert_array_equal(d["R"], np.asarray(figures.rectification_ratio(d["J"], d["J"][:, ::-1])))
