"""nnlib.plotting: its helpers draw, return a Figure, never show, reject bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from nnlib import (
    MLP,
    plot_decision_boundaries,
    plot_decision_boundary,
    plot_loss_curves,
)
from nnlib.plotting import CLASS_COLOURS, CLASS_MARKERS, plot_points


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def moons():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X, y


def halfplane(X):
    return (X[:, 0] > 0).astype(int)


def test_decision_boundary_of_a_model_and_of_a_callable(moons, monkeypatch):
    X, y = moons
    monkeypatch.setattr(
        plt,
        "show",
        lambda *a, **k: pytest.fail("plot helpers must not call plt.show()"),
    )
    net = MLP([2, 8, 2], activation="tanh", seed=0)
    fig = plot_decision_boundary(net, X, y, title="MLP", resolution=30)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "MLP"
    assert ax.get_xlim()[0] <= X[:, 0].min() - 0.5 + 1e-9  # the padding is there
    fig2, ax2 = plt.subplots()
    assert (
        plot_decision_boundary(halfplane, X, np.eye(2)[y], ax=ax2, resolution=20)
        is fig2
    )


def test_decision_boundary_colours_the_predicted_regions(moons):
    X, y = moons
    fig = plot_decision_boundary(halfplane, X, y, resolution=25, padding=0.0)
    bands = fig.axes[0].collections[0]  # the filled contour, one band per class
    assert list(bands.levels) == [-0.5, 0.5, 1.5]
    class0, class1 = (path.vertices for path in bands.get_paths())
    step = (X[:, 0].max() - X[:, 0].min()) / 24
    # the boundary is at x = 0
    assert class0[:, 0].max() <= step and class1[:, 0].min() >= -step


def _marker_paths(collection):
    return collection.get_paths()[0].vertices.round(6).tolist()


def test_classes_differ_in_colour_and_in_marker(moons):
    """Blue against orange (never red against green), and a shape per class."""
    X, y = moons
    y3 = np.where(X[:, 1] > 1.0, 2, y)
    assert set(y3) == {0, 1, 2}
    fig = plot_decision_boundary(
        lambda Z: np.digitize(Z[:, 0], [-0.5, 0.5]), X, y3, resolution=20
    )
    bands, *points = fig.axes[0].collections
    # the regions: light tints of the class colours, in class order
    tints = np.asarray(bands.get_facecolor())[:, :3]
    colours = np.array([to_rgb(c) for c in CLASS_COLOURS[:3]])
    assert np.allclose(tints, 0.3 * colours + 0.7, atol=0.01)
    assert to_rgb(CLASS_COLOURS[0]) == to_rgb("#0072B2")  # blue
    assert to_rgb(CLASS_COLOURS[1]) == to_rgb("#E69F00")  # orange
    # the points: one collection per class, in its full colour and its own marker
    assert len(points) == 3
    for k, collection in enumerate(points):
        assert np.allclose(collection.get_facecolor()[0][:3], colours[k])
        assert len(collection.get_offsets()) == (y3 == k).sum()
        assert collection.get_label() == f"class {k}"
    shapes = [_marker_paths(c) for c in points]
    assert len({str(shape) for shape in shapes}) == 3
    assert len(set(CLASS_MARKERS)) == len(CLASS_MARKERS) == len(CLASS_COLOURS)


def test_points_use_the_colours_and_markers_of_the_boundaries(moons):
    X, y = moons
    fig = plot_points(X, y, title="data", label="training")
    ax = fig.axes[0]
    assert ax.get_title() == "data"
    boundary = plot_decision_boundary(halfplane, X, y, resolution=10).axes[0]
    for mine, theirs in zip(ax.collections, boundary.collections[1:], strict=True):
        assert np.allclose(mine.get_facecolor(), theirs.get_facecolor())
        assert _marker_paths(mine) == _marker_paths(theirs)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["training, class 0", "training, class 1"]
    fig2, ax2 = plt.subplots()
    assert plot_points(X, np.eye(2)[y], ax=ax2, legend=False, s=5, alpha=0.5) is fig2
    assert ax2.get_legend() is None
    assert ax2.collections[0].get_alpha() == 0.5


def test_grid_fits_the_text_column(moons):
    X, y = moons
    for n, ncols in [(8, 4), (3, 3), (2, 4), (1, 1)]:
        fig = plot_decision_boundaries([halfplane] * n, X, y, ncols=ncols, resolution=5)
        width = fig.get_size_inches()[0]
        assert width <= 7.8 + 1e-9, (n, ncols, width)
        plt.close(fig)
    fig = plot_decision_boundaries([halfplane] * 2, X, y, figsize=(9, 3), resolution=5)
    assert tuple(fig.get_size_inches()) == (9, 3)


def test_loss_curves_with_and_without_validation():
    fig = plot_loss_curves(
        {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]},
        title="curves",
        log=True,
    )
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]
    # told apart by line style and marker, not by colour alone
    assert [line.get_linestyle() for line in ax.get_lines()] == ["-", "--"]
    assert len({line.get_marker() for line in ax.get_lines()}) == 2
    assert list(ax.get_lines()[0].get_ydata()) == [1.0, 0.5, 0.25]
    assert ax.get_yscale() == "log"
    X = np.random.default_rng(0).normal(size=(10, 2))
    history = MLP([2, 3, 2], seed=0).fit(X, halfplane(X), epochs=3, learning_rate=0.1)
    fig = plot_loss_curves(history)
    assert len(fig.axes[0].get_lines()) == 1


def test_grid_of_boundaries(moons):
    X, y = moons
    models = [halfplane, MLP([2, 4, 2], seed=1), lambda Z: (Z[:, 1] > 0).astype(int)]
    fig = plot_decision_boundaries(
        models, X, y, titles=["a", "b", "c"], ncols=2, resolution=20
    )
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda X, y: plot_decision_boundary(object(), X, y), TypeError, "predict"),
        (
            lambda X, y: plot_decision_boundary(halfplane, X[:, :1], y),
            ValueError,
            r"shape \(N, 2\)",
        ),
        (
            lambda X, y: plot_decision_boundary(halfplane, X, y[:5]),
            ValueError,
            r"labels y of shape \(40,\)",
        ),
        (
            lambda X, y: plot_decision_boundary(halfplane, np.full_like(X, np.nan), y),
            ValueError,
            "finite",
        ),
        (
            lambda X, y: plot_decision_boundary(halfplane, X, y, resolution=1),
            ValueError,
            "resolution >= 2",
        ),
        (
            lambda X, y: plot_decision_boundary(halfplane, X, y, padding=-1),
            ValueError,
            "padding >= 0",
        ),
        (
            lambda X, y: plot_decision_boundary(lambda Z: Z[:3, 0], X, y),
            ValueError,
            "one label per point",
        ),
        (
            lambda X, y: plot_decision_boundary(halfplane, X, y, ax="left"),
            TypeError,
            "matplotlib Axes",
        ),
        (lambda X, y: plot_loss_curves([0.5, 0.4]), TypeError, "history dict"),
        (
            lambda X, y: plot_loss_curves({"val_loss": [1.0]}),
            ValueError,
            "'loss' entry",
        ),
        (lambda X, y: plot_loss_curves({"loss": []}), ValueError, "non-empty"),
        (
            lambda X, y: plot_loss_curves({"loss": [1.0, 0.0]}, log=True),
            ValueError,
            "positive losses",
        ),
        (
            lambda X, y: plot_decision_boundaries([], X, y),
            ValueError,
            "at least one model",
        ),
        (
            lambda X, y: plot_decision_boundaries(halfplane, X, y),
            TypeError,
            "list of models",
        ),
        (
            lambda X, y: plot_decision_boundaries([halfplane], X, y, titles=["a", "b"]),
            ValueError,
            "one title per model",
        ),
        (
            lambda X, y: plot_decision_boundaries([halfplane, 3], X, y),
            TypeError,
            r"model 1",
        ),
        (
            lambda X, y: plot_decision_boundaries([halfplane], X, y, ncols=0),
            ValueError,
            "ncols >= 1",
        ),
        (
            lambda X, y: plot_decision_boundaries([halfplane], X, y, figsize=(5, -1)),
            ValueError,
            r"figsize to be \(width, height\)",
        ),
        (lambda X, y: plot_points(X[:, :1], y), ValueError, r"shape \(N, 2\)"),
        (lambda X, y: plot_points(X, y, s=0), ValueError, "s > 0"),
        (lambda X, y: plot_points(X, y, alpha=1.5), ValueError, r"alpha in \(0, 1\]"),
        (lambda X, y: plot_points(X, y, label=3), TypeError, "label to be a string"),
        (lambda X, y: plot_points(X, y, legend="yes"), TypeError, "True or False"),
        (lambda X, y: plot_points(X, y, ax="left"), TypeError, "matplotlib Axes"),
    ],
)
def test_bad_input_is_rejected(moons, call, exc, match):
    X, y = moons
    with pytest.raises(exc, match=match):
        call(X, y)
