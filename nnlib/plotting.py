"""Plotting helpers shared by the chapters: decision boundaries and loss curves.

Every helper draws into a matplotlib ``Axes`` (a new figure when none is
given), returns the ``Figure`` and never calls ``plt.show()``: the notebook
cell ends with ``plt.show()`` itself, so no ``<Figure size ...>`` repr leaks
into the stored outputs.

matplotlib is imported inside the functions so that ``import nnlib`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._validation import as_float_array, check_int, check_number, describe

__all__ = ["plot_decision_boundary", "plot_loss_curves", "plot_decision_boundaries"]


def _predict_fn(model, func):
    """A function X -> labels, for a model with ``predict`` or for a plain callable."""
    predict = getattr(model, "predict", None)
    if callable(predict):
        return predict
    if callable(model):
        return model
    raise TypeError(
        f"{func} expects a model with a predict(X) method or a callable X -> labels, "
        f"got {describe(model)}"
    )


def _check_points(X, y, func):
    X = as_float_array(X, func, "X", ndim=2, allow_scalar=False)
    if X.shape[1] != 2:
        raise ValueError(
            f"{func} expects 2-D data points X of shape (N, 2), got shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{func} expects at least one point in X, got shape {X.shape}")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[0] == X.shape[0] and y.shape[1] > 1:  # one-hot labels
        y = y.argmax(axis=1)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{func} expects labels y of shape ({X.shape[0]},) "
            f"(or one-hot ({X.shape[0]}, K)) "
            f"to match X of shape {X.shape}, got shape {y.shape}"
        )
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(f"{func} expects numeric class labels y, got dtype {y.dtype}")
    return X, y


def _grid_labels(predict, X, resolution, padding, func):
    x_min, x_max = X[:, 0].min() - padding, X[:, 0].max() + padding
    y_min, y_max = X[:, 1].min() - padding, X[:, 1].max() + padding
    xx, yy = np.meshgrid(
        np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    if np.issubdtype(X.dtype, np.floating):
        grid = grid.astype(X.dtype, copy=False)
    labels = np.asarray(predict(grid))
    if labels.ndim == 2 and labels.shape[0] == grid.shape[0]:
        labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
    if labels.shape != (grid.shape[0],):
        raise ValueError(
            f"{func} expects model.predict to return one label per point, "
            f"shape ({grid.shape[0]},), "
            f"got shape {labels.shape}"
        )
    return xx, yy, labels.reshape(xx.shape)


def _draw_boundary(ax, predict, X, y, title, resolution, padding, func):
    xx, yy, zz = _grid_labels(predict, X, resolution, padding, func)
    classes = np.unique(np.concatenate([np.unique(zz), np.unique(y)]))
    # contourf needs levels between consecutive class ids to colour each region once
    levels = np.concatenate(
        [[classes[0] - 0.5], (classes[:-1] + classes[1:]) / 2, [classes[-1] + 0.5]]
    )
    ax.contourf(xx, yy, zz, levels=levels, cmap="Spectral", alpha=0.8)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=y,
        cmap="Spectral",
        vmin=levels[0],
        vmax=levels[-1],
        edgecolors="k",
        linewidths=0.5,
        s=20,
    )
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    if title is not None:
        ax.set_title(str(title))


def plot_decision_boundary(
    model, X, y, ax=None, title=None, resolution=200, padding=0.5
):
    """Colour the plane by the class a classifier predicts, and scatter the data on top.

    Parameters
    ----------
    model : object with ``predict(X)``, or callable
        Maps points of shape (M, 2) to labels of shape (M,) (class scores or
        probabilities of shape (M, K) are reduced with ``argmax``).
    X : array_like, shape (N, 2)
        The data points.
    y : array_like, shape (N,) or (N, K)
        Integer class labels, or one-hot labels.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is created when omitted.
    title : str, optional
    resolution : int
        Grid points per axis (at least 2).
    padding : float
        Margin added around the data on every side (>= 0).

    Returns
    -------
    matplotlib.figure.Figure
    """
    func = "plot_decision_boundary"
    predict = _predict_fn(model, func)
    X, y = _check_points(X, y, func)
    resolution = check_int(resolution, func, "resolution", minimum=2)
    padding = check_number(padding, func, "padding", minimum=0)
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4))
    elif not hasattr(ax, "contourf"):
        raise TypeError(
            f"{func} expects ax to be a matplotlib Axes, got {describe(ax)}"
        )
    _draw_boundary(ax, predict, X, y, title, resolution, padding, func)
    return ax.figure


def _history_dict(history, func):
    """The curves of MLP.fit's history (a dict), any mapping, or a Keras History."""
    if not isinstance(history, Mapping) and isinstance(
        getattr(history, "history", None), Mapping
    ):
        history = history.history
    if not isinstance(history, Mapping):
        raise TypeError(
            f"{func} expects a history dict with a 'loss' list "
            f"(as returned by MLP.fit), got {describe(history)}"
        )
    if "loss" not in history:
        raise ValueError(
            f"{func} expects the history to have a 'loss' entry, "
            f"got the keys {sorted(history)}"
        )
    curves = {}
    for key in ("loss", "val_loss"):
        if key not in history or history[key] is None:
            continue
        values = (
            np.asarray(history[key], dtype=float)
            if not isinstance(history[key], str)
            else None
        )
        if values is None or values.ndim != 1 or values.size == 0:
            raise ValueError(
                f"{func} expects history[{key!r}] to be a non-empty 1-D list of "
                f"numbers, got {describe(history[key])}"
            )
        curves[key] = values
    return curves


def plot_loss_curves(history, ax=None, title=None, log=False):
    """Plot the training loss per epoch and, when present, the validation loss.

    Parameters
    ----------
    history : dict
        As returned by ``MLP.fit``: ``{"loss": [...], "val_loss": [...]}``
        (``val_loss`` optional). A Keras ``History`` object is accepted too.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    log : bool
        Logarithmic loss axis (the losses must then be positive).

    Returns
    -------
    matplotlib.figure.Figure
    """
    func = "plot_loss_curves"
    curves = _history_dict(history, func)
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"{func} expects log to be True or False, got {describe(log)}")
    if log and any(np.any(v <= 0) for v in curves.values()):
        raise ValueError(
            f"{func} with log=True expects positive losses, got a value <= 0"
        )
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    elif not hasattr(ax, "plot"):
        raise TypeError(
            f"{func} expects ax to be a matplotlib Axes, got {describe(ax)}"
        )
    labels = {"loss": "training", "val_loss": "validation"}
    for key, values in curves.items():
        ax.plot(
            np.arange(1, values.size + 1),
            values,
            label=labels[key],
            marker="o" if values.size <= 30 else None,
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if log:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    if title is not None:
        ax.set_title(str(title))
    return ax.figure


def plot_decision_boundaries(models, X, y, titles=None, ncols=4, resolution=150):
    """A grid of decision boundaries, one panel per model, on the same data.

    Parameters
    ----------
    models : sequence of models (with ``predict``) or callables
    X : array_like, shape (N, 2)
    y : array_like, shape (N,) or (N, K)
    titles : sequence of str, optional
        One title per model.
    ncols : int
        Panels per row.
    resolution : int
        Grid points per axis in each panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    func = "plot_decision_boundaries"
    if isinstance(models, (str, bytes)) or not hasattr(models, "__len__"):
        raise TypeError(f"{func} expects a list of models, got {describe(models)}")
    models = list(models)
    if not models:
        raise ValueError(f"{func} expects at least one model, got an empty list")
    predicts = [_predict_fn(m, f"{func} (model {i})") for i, m in enumerate(models)]
    if titles is not None:
        if isinstance(titles, (str, bytes)):
            raise TypeError(
                f"{func} expects titles to be a list of {len(models)} strings, "
                "got a single string"
            )
        titles = list(titles)
        if len(titles) != len(models):
            raise ValueError(
                f"{func} expects one title per model ({len(models)}), "
                f"got {len(titles)} titles"
            )
    X, y = _check_points(X, y, func)
    ncols = check_int(ncols, func, "ncols", minimum=1)
    resolution = check_int(resolution, func, "resolution", minimum=2)
    import matplotlib.pyplot as plt

    ncols = min(ncols, len(models))
    nrows = -(-len(models) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols, 2.9 * nrows), squeeze=False
    )
    for i, ax in enumerate(axes.ravel()):
        if i >= len(models):
            ax.set_visible(False)
            continue
        _draw_boundary(
            ax,
            predicts[i],
            X,
            y,
            None if titles is None else titles[i],
            resolution,
            0.5,
            func,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
