"""nnlib.plotting: its helpers draw, return a Figure, never show, reject bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlib import (
    MLP,
    plot_decision_boundaries,
    plot_decision_boundary,
    plot_loss_curves,
)


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


def test_loss_curves_with_and_without_validation():
    fig = plot_loss_curves(
        {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]},
        title="curves",
        log=True,
    )
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]
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
    ],
)
def test_bad_input_is_rejected(moons, call, exc, match):
    X, y = moons
    with pytest.raises(exc, match=match):
        call(X, y)
