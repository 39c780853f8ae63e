"""Plotting helpers shared by the chapters: data, decision boundaries, loss curves.

Every helper draws into a matplotlib ``Axes`` (a new figure when none is
given), returns the ``Figure`` and never calls ``plt.show()``: the notebook
cell ends with ``plt.show()`` itself, so no ``<Figure size ...>`` repr leaks
into the stored outputs.

The classes are told apart by colour *and* by marker, in colours that readers with
any common form of colour blindness can distinguish (the Okabe-Ito palette: blue,
orange, bluish green, ...); the regions of a decision boundary are light tints of the
same colours. Figures are sized for the book's text column (at most 7.8 inches wide).

matplotlib is imported inside the functions so that ``import nnlib`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._validation import as_float_array, check_int, check_number, describe

__all__ = [
    "CLASS_COLOURS",
    "CLASS_MARKERS",
    "plot_decision_boundaries",
    "plot_decision_boundary",
    "plot_loss_curves",
    "plot_points",
]

#: One colour per class (Okabe & Ito's colour-blind-safe palette, black left out).
CLASS_COLOURS = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
)
#: One marker per class, so the classes differ in shape as well as in colour.
CLASS_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
#: How much of a class colour its region keeps (the rest is white).
_TINT = 0.3
#: The widest figure that fits the book's text column, in inches (784 px at 100 dpi).
_COLUMN_WIDTH = 7.8


def _class_style(index):
    """Colour, light tint and marker of the class with position ``index``."""
    colour = CLASS_COLOURS[index % len(CLASS_COLOURS)]
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    tint = tuple(_TINT * rgb + (1 - _TINT))
    return colour, tint, CLASS_MARKERS[index % len(CLASS_MARKERS)]


def _scatter_classes(ax, X, y, classes, s=20, alpha=1.0, label=None):
    """Scatter the points of each class in its colour and marker."""
    for index, value in enumerate(classes):
        mask = y == value
        if not mask.any():
            continue
        colour, _, marker = _class_style(index)
        name = f"class {value:g}" if label is None else f"{label}, class {value:g}"
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            s=s,
            c=colour,
            marker=marker,
            alpha=alpha,
            edgecolors="black",
            linewidths=0.5,
            label=name,
        )


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


def _axes(ax, func, figsize, method):
    """``ax``, or the Axes of a new figure of ``figsize`` when ``ax`` is None."""
    if ax is None:
        import matplotlib.pyplot as plt

        return plt.subplots(figsize=figsize)[1]
    if not hasattr(ax, method):
        raise TypeError(
            f"{func} expects ax to be a matplotlib Axes, got {describe(ax)}"
        )
    return ax


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


def _draw_boundary(ax, predict, X, y, title, resolution, padding, func, s=20):
    xx, yy, zz = _grid_labels(predict, X, resolution, padding, func)
    classes = np.unique(np.concatenate([np.unique(zz), np.unique(y)]))
    # contourf needs levels between consecutive class ids to colour each region once
    levels = np.concatenate(
        [[classes[0] - 0.5], (classes[:-1] + classes[1:]) / 2, [classes[-1] + 0.5]]
    )
    tints = [_class_style(index)[1] for index in range(classes.size)]
    ax.contourf(xx, yy, zz, levels=levels, colors=tints)
    _scatter_classes(ax, X, y, classes, s=s)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    if title is not None:
        ax.set_title(str(title))


def plot_decision_boundary(
    model, X, y, ax=None, title=None, resolution=200, padding=0.5
):
    """Colour the plane by the class a classifier predicts, and scatter the data on top.

    Each class has its own colour and marker (``CLASS_COLOURS``, ``CLASS_MARKERS``);
    its region is a light tint of its colour.

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
    ax = _axes(ax, func, figsize=(5.5, 4.4), method="contourf")
    _draw_boundary(ax, predict, X, y, title, resolution, padding, func)
    return ax.figure


def plot_points(X, y, ax=None, title=None, s=25, alpha=1.0, label=None, legend=True):
    """Scatter 2-D data, each class in its own colour and marker.

    The same colours and markers as ``plot_decision_boundary``, so a data set looks
    the same before and after a classifier is drawn under it.

    Parameters
    ----------
    X : array_like, shape (N, 2)
        The data points.
    y : array_like, shape (N,) or (N, K)
        Integer class labels, or one-hot labels.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is created when omitted.
    title : str, optional
    s : float
        Marker area in points^2 (> 0).
    alpha : float
        Opacity of the markers, in (0, 1].
    label : str, optional
        Prefix of the legend entries (``"training"`` gives "training, class 0", ...),
        for several data sets on one axes.
    legend : bool
        Whether to draw a legend naming the classes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    func = "plot_points"
    X, y = _check_points(X, y, func)
    s = check_number(s, func, "s", minimum=0)
    if s == 0:
        raise ValueError(f"{func} expects s > 0, got {s}")
    alpha = check_number(alpha, func, "alpha", minimum=0)
    if not 0 < alpha <= 1:
        raise ValueError(f"{func} expects alpha in (0, 1], got {alpha}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"{func} expects label to be a string, got {describe(label)}")
    if not isinstance(legend, (bool, np.bool_)):
        raise TypeError(
            f"{func} expects legend to be True or False, got {describe(legend)}"
        )
    ax = _axes(ax, func, figsize=(5.5, 4.4), method="scatter")
    _scatter_classes(ax, X, y, np.unique(y), s=s, alpha=alpha, label=label)
    if legend:
        ax.legend()
    if title is not None:
        ax.set_title(str(title))
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
    ax = _axes(ax, func, figsize=(6.5, 4), method="plot")
    labels = {"loss": "training", "val_loss": "validation"}
    styles = {"loss": ("-", "o"), "val_loss": ("--", "s")}
    for key, values in curves.items():
        linestyle, marker = styles[key]
        ax.plot(
            np.arange(1, values.size + 1),
            values,
            label=labels[key],
            linestyle=linestyle,
            marker=marker if values.size <= 30 else None,
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


def plot_decision_boundaries(
    models, X, y, titles=None, ncols=4, resolution=150, figsize=None
):
    """A grid of decision boundaries, one panel per model, on the same data.

    The grid fits the book's text column: ``ncols`` panels share 7.8 inches (each
    at most 3.2 inches wide) unless ``figsize`` says otherwise.

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
    figsize : (float, float), optional
        Width and height of the whole figure in inches.

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
    if figsize is None:
        panel = min(3.2, _COLUMN_WIDTH / ncols)
        figsize = (panel * ncols, (panel * 0.95 + 0.3) * nrows)
    else:
        figsize = tuple(figsize) if hasattr(figsize, "__len__") else figsize
        if not (
            isinstance(figsize, tuple)
            and len(figsize) == 2
            and all(isinstance(v, (int, float, np.number)) and v > 0 for v in figsize)
        ):
            raise ValueError(
                f"{func} expects figsize to be (width, height) in inches, both > 0, "
                f"got {describe(figsize)}"
            )
    marker_size = 20 if figsize[0] / ncols >= 2.5 else 12
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
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
            s=marker_size,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
