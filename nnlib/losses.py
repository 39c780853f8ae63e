"""Softmax and the losses: cross-entropy for classification, mean squared error
for regression.

Numerics: ``softmax`` subtracts the row maximum before exponentiating (softmax
is unchanged by adding a constant to a row, and afterwards the largest exponent
is ``exp(0) = 1``), and ``cross_entropy`` clips probabilities away from 0 so
that ``log`` never returns ``-inf``.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_class_ids, check_one_hot, describe

__all__ = [
    "softmax",
    "log_softmax",
    "cross_entropy",
    "softmax_cross_entropy",
    "mean_squared_error",
    "one_hot",
    "EPS",
]

#: probabilities are clipped to [EPS, 1] before taking the log
EPS = 1e-12


def softmax(x):
    """Softmax over the last axis of a 1-D or 2-D array.

    Parameters
    ----------
    x : array_like, shape (D,) or (N, D)
        Scores (logits); for a 2-D array each row is one example.

    Returns
    -------
    numpy.ndarray, same shape as ``x``
        Each row non-negative and summing to 1.

    Examples
    --------
    >>> softmax([1001.0, 1002.0]).round(8)
    array([0.26894142, 0.73105858])
    """
    x = as_float_array(x, "softmax", ndim=(1, 2), allow_scalar=False)
    if x.shape[-1] == 0:
        raise ValueError(
            f"softmax expects at least one score per row, got shape {x.shape}"
        )
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    """Logarithm of the softmax over the last axis, computed without forming it.

    ``log_softmax(x) = x - max(x) - log(sum(exp(x - max(x))))``.

    Parameters
    ----------
    x : array_like, shape (D,) or (N, D)

    Returns
    -------
    numpy.ndarray, same shape as ``x``
    """
    x = as_float_array(x, "log_softmax", ndim=(1, 2), allow_scalar=False)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(y, y_hat):
    """Cross-entropy of one-hot labels and predicted probabilities, averaged over rows.

    ``CE = -(1/N) * sum_i sum_k y[i, k] * log(y_hat[i, k])``

    Parameters
    ----------
    y : array_like, shape (D,) or (N, D)
        One-hot labels (one 1 per row, 0 elsewhere).
    y_hat : array_like, same shape as ``y``
        Predicted probabilities, e.g. the output of :func:`softmax`; values are
        clipped to ``[EPS, 1]`` before the log so a confident wrong answer
        gives a large finite loss, not infinity.

    Returns
    -------
    float
        The mean cross-entropy (a 1-D input counts as one row).
    """
    y = as_float_array(y, "cross_entropy", "y", ndim=(1, 2), allow_scalar=False)
    y_hat = as_float_array(
        y_hat, "cross_entropy", "y_hat", ndim=(1, 2), allow_scalar=False
    )
    if y.shape != y_hat.shape:
        raise ValueError(
            f"cross_entropy expects y and y_hat of the same shape, got {y.shape} and "
            f"{y_hat.shape}"
        )
    check_one_hot(y, "cross_entropy")
    if y_hat.size and (y_hat.min() < 0 or y_hat.max() > 1):
        raise ValueError(
            "cross_entropy expects probabilities y_hat in [0, 1] (did you pass "
            "scores instead of softmax(scores)?), "
            f"got values in [{y_hat.min():.4g}, {y_hat.max():.4g}]"
        )
    n = y.shape[0] if y.ndim == 2 else 1
    return float(-np.sum(y * np.log(np.clip(y_hat, EPS, 1.0))) / n)


def softmax_cross_entropy(scores, labels, out=None, check_input=True):
    """Mean cross-entropy of ``softmax(scores)`` and its gradient for the scores.

    With ``P = softmax(scores)`` (row-wise) and ``Y`` the one-hot labels::

        loss    = -(1/N) sum_i log P[i, labels[i]]   (through log-softmax: no log 0)
        dscores = (P - Y) / N

    the loss and gradient of a softmax output layer, computed together because
    they share ``P``.

    Parameters
    ----------
    scores : numpy.ndarray, shape (N, K)
        Scores (logits), one row per example.
    labels : array_like
        Class ids, shape (N,), or one-hot rows, shape (N, K).
    out : numpy.ndarray, shape (N, K), optional
        Where to write ``dscores``; may be ``scores`` itself (computed in place).
    check_input : bool
        False skips the checks of ``scores`` and ``labels``, for a training loop
        that checked its data once: ``scores`` must then be a float array and
        ``labels`` integer class ids in range.

    Returns
    -------
    loss : float
    dscores : numpy.ndarray, shape (N, K)
    """
    if check_input:
        scores = as_float_array(
            scores, "softmax_cross_entropy", "scores", ndim=2, allow_scalar=False
        )
        n, k = scores.shape
        if n == 0 or k == 0:
            raise ValueError(
                "softmax_cross_entropy expects at least one row and one class, got "
                f"shape {scores.shape}"
            )
        labels = check_class_ids(labels, n, k, "softmax_cross_entropy", "labels")
        if out is not None and (
            not isinstance(out, np.ndarray)
            or out.shape != scores.shape
            or out.dtype != scores.dtype
        ):
            raise ValueError(
                "softmax_cross_entropy expects out to be an array of shape "
                f"{scores.shape} and "
                f"dtype {scores.dtype}, got {describe(out)}"
            )
    n = scores.shape[0]
    rows = np.arange(n)
    # subtract every row's maximum: the largest exponent is then exp(0) = 1
    out = np.subtract(scores, scores.max(axis=1, keepdims=True), out=out)
    picked = out[rows, labels]  # log-softmax at the label = picked - log(sums)
    np.exp(out, out=out)
    sums = out.sum(axis=1)
    loss = float(np.log(sums).sum() - picked.sum()) / n
    out /= (sums * n)[:, None]  # P / N
    out[rows, labels] -= 1.0 / n
    return loss, out


def mean_squared_error(y, y_hat):
    """Half mean squared error ``(1 / 2N) * sum_i ||y_hat[i] - y[i]||^2``.

    The factor 1/2 makes the gradient with respect to ``y_hat`` simply
    ``(y_hat - y) / N``.

    Parameters
    ----------
    y, y_hat : array_like, shape (N,) or (N, D)
        Targets and predictions.

    Returns
    -------
    float
    """
    y = as_float_array(y, "mean_squared_error", "y", ndim=(1, 2), allow_scalar=False)
    y_hat = as_float_array(
        y_hat, "mean_squared_error", "y_hat", ndim=(1, 2), allow_scalar=False
    )
    if y.shape != y_hat.shape:
        raise ValueError(
            f"mean_squared_error expects y and y_hat of the same shape, got {y.shape} "
            f"and {y_hat.shape}"
        )
    return float(0.5 * np.sum((y_hat - y) ** 2) / y.shape[0])


def one_hot(labels, num_classes: int | None = None):
    """Integer class ids ``(N,)`` to a one-hot float array ``(N, num_classes)``."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"one_hot expects a 1-D array of integer class ids, got {arr.dtype} array "
            f"of shape {arr.shape}"
        )
    if arr.size and arr.min() < 0:
        raise ValueError(f"one_hot expects class ids >= 0, got {arr.min()}")
    k = int(arr.max()) + 1 if num_classes is None else int(num_classes)
    if arr.size and arr.max() >= k:
        raise ValueError(f"one_hot got class id {arr.max()} but num_classes={k}")
    out = np.zeros((arr.size, k))
    out[np.arange(arr.size), arr] = 1.0
    return out
