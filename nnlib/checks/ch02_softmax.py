"""Checks of Chapter 2: softmax and cross-entropy.

``softmax`` is run on 1-D and 2-D scores, including ``[1001, 1002]``,
``[-1001, -1002]`` and ``[[1001, 1002], [3, 4]]``, which break a softmax without
the max subtraction (or with one maximum for the whole array); ``cross_entropy``
on one example, on batches, and on probabilities that are exactly 0. Hints name
the classic mistakes: the wrong axis, one normalisation for the whole array, a
sum where an average is due, the missing minus sign, ``log(0)``.
"""

from __future__ import annotations

import numpy as np

from .. import losses as _ref
from ._common import Array, compare, fmt, passed, run
from .ch01_activations import elementwise

__all__ = ["softmax", "cross_entropy"]


def _normalise(e, axis):
    return e / e.sum(axis=axis, keepdims=True)


_NO_SHIFT = (
    "Softmax does not change when the same number is subtracted from every score of a "
    "row, so subtract the row's maximum first: then the largest exponent is exp(0) = "
    "1 and the sum is at least 1."
)


def softmax(fn):
    """Check Exercise 2.1: ``fn(x)``, the softmax over the last axis of 1-D or 2-D x."""
    xs = [
        np.array([1.0, 2.0]),
        np.array([-1.0, 0.0, 3.0, 5.0]),
        np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]),
        np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 3.0]]),
        np.array([1001.0, 1002.0]),
        np.array([-1001.0, -1002.0]),
        np.array([[1001.0, 1002.0], [3.0, 4.0]]),
        np.array([[-1001.0, -1002.0]]),
    ]

    def hints(x):
        in_2d = "in the 2-D case, " if x.ndim == 2 else ""
        one_max = x.ndim == 2 and np.any(x.max(axis=-1) != x.max())
        return [
            (
                "overflow",
                f"{in_2d}the scores were exponentiated without subtracting a maximum, "
                "and exp(1001) overflows (float64 ends near exp(709)). " + _NO_SHIFT,
            ),
            (
                "divide",
                "each row needs its own maximum: subtracting the maximum of the whole "
                "array (1002) turns the row [3, 4] into exp(-999), exp(-998), which "
                "underflow to 0, and 0 / 0 follows. Use the row maxima, "
                "x.max(axis=-1, keepdims=True)."
                if one_max
                else f"{in_2d}exp(-1001) underflows to 0 and the division becomes "
                "0 / 0. " + _NO_SHIFT,
            ),
            (
                "out of bounds for array of dimension 1",
                "axis=1 does not exist for a 1-D array: use axis=-1 (the last axis), "
                "which is the class axis of both a 1-D and a 2-D array.",
            ),
            (
                "could not be broadcast",
                "x.max(axis=1) and x.sum(axis=1) have shape (N,), which does not line "
                "up with the (N, D) array: pass keepdims=True so they keep shape (N, "
                "1).",
            ),
        ]

    def mistakes(x, expected, got):
        rules = []
        if x.ndim == 2:
            rules += [
                (
                    lambda: _normalise(np.exp(x - x.max(axis=0, keepdims=True)), 0),
                    "the columns of your result sum to 1: you normalised over axis 0. "
                    "Each row is one example, so take the max and the sum over the "
                    "last axis (axis=-1, keepdims=True).",
                ),
                (
                    lambda: _normalise(np.exp(x - x.max()), None),
                    "your whole result sums to 1: you divided by the sum over the "
                    "entire array. Normalise each row separately (sum over axis=-1 "
                    "with keepdims=True).",
                ),
                (
                    lambda: (
                        np.exp(x - x.max(axis=1))
                        / np.exp(x - x.max(axis=1)).sum(axis=1)
                    ),
                    "x.max(axis=1) and x.sum(axis=1) have shape (N,), which numpy "
                    "lines up with the columns, not the rows: pass keepdims=True so "
                    "that they keep shape (N, 1).",
                ),
            ]
        return rules + [
            (
                lambda: np.exp(x),
                "you did not normalise: divide the exponentials by their sum over "
                "each row.",
            ),
            (
                lambda: np.exp(x - x.max(axis=-1, keepdims=True)),
                "you did not normalise: divide the exponentials by their sum over "
                "each row.",
            ),
            (
                lambda: _normalise(np.exp(-x), -1),
                "the sign is wrong: softmax uses exp(+x).",
            ),
            (
                lambda: x / x.sum(axis=-1, keepdims=True),
                "the exponential is missing: softmax divides exp(x_i) by the sum of "
                "exp(x_k), not x_i by the sum of x_k.",
            ),
            (
                got.ndim == 2
                and np.allclose(got.sum(axis=0), 1.0)
                and not np.allclose(got.sum(axis=1), 1.0),
                "the columns of your result sum to 1, the rows should: normalise over "
                "the last axis.",
            ),
        ]

    elementwise(
        "softmax",
        fn,
        "x",
        [(f"x = {fmt(x)}", x) for x in xs],
        _ref.softmax,
        mistakes,
        hints,
    )


def cross_entropy(fn):
    """Check Exercise 2.2: ``fn(y, y_hat)``, the mean cross-entropy of one-hot ``y``."""
    ex = "cross_entropy"
    scores = np.random.default_rng(0).normal(size=(4, 3))
    cases = [
        (np.array([0.0, 1.0, 0.0]), np.array([0.2, 0.7, 0.1])),
        (
            np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
            np.array([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]]),
        ),
        (np.eye(3)[[2, 0, 1, 1]], _ref.softmax(scores)),
        (np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])),
        (np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.5, 0.5])),
    ]
    log_zero = (
        "numpy warned about log(0) = -inf: a predicted probability can be exactly 0. "
        "Clip y_hat into [1e-12, 1] (np.clip) before taking the log, which turns a "
        "certain wrong answer into a large but finite loss."
    )
    log_of_labels = (
        "numpy warned about log(0), yet y_hat has no zeros here: you probably took "
        "the log of the labels y. The loss is -sum(y * log(y_hat)): the log of the "
        "predictions, weighted by the one-hot labels."
    )
    errors = [
        (
            "out of bounds for array of dimension 1",
            "a 1-D y is a single example with D classes, and it has no axis 1: sum "
            "over axis=-1 (the class axis of both shapes), or sum over everything and "
            "divide by N (N = 1 for a 1-D y).",
        ),
        (
            "could not be broadcast",
            "y and y_hat have the same shape, so y * log(y_hat) needs no reshaping or "
            "transposing.",
        ),
    ]
    for y, y_hat in cases:
        case = f"y = {fmt(y)}, y_hat = {fmt(y_hat)}"
        n, d = (y.shape[0] if y.ndim == 2 else 1), y.shape[-1]
        spec = Array(
            (),
            "the loss",
            [
                (
                    (n,),
                    "you returned one loss per row: return their average, a single "
                    "number.",
                )
            ],
        )
        warned = log_zero if np.any(y_hat == 0) else log_of_labels
        got, _ = run(
            ex,
            case,
            fn,
            (y, y_hat),
            ("y", "y_hat"),
            returns=spec,
            hints=[("RuntimeWarning", warned), *errors],
        )
        if (
            y.ndim == 1
            and y_hat[y == 1][0] == 0
            and -np.log(1e-6) <= got <= -np.log(1e-16)
        ):
            continue  # any clipping constant between 1e-16 and 1e-6 is right here
        expected = _ref.cross_entropy(y, y_hat)
        logp = np.log(np.clip(y_hat, _ref.EPS, 1.0))
        log_1m = np.log(np.clip(1 - y_hat, _ref.EPS, 1.0))
        compare(
            ex,
            case,
            None,
            got,
            expected,
            [
                (
                    -expected if expected else None,
                    "the sign is wrong: the loss is MINUS the mean of sum(y * "
                    "log(y_hat)) (log of a probability is <= 0, so the loss is >= 0).",
                ),
                (
                    n * expected if n > 1 else None,
                    f"your value is {n} times too large for these {n} rows: you summed "
                    "over the rows instead of averaging. Divide by N = y.shape[0].",
                ),
                (
                    expected / d,
                    f"your value is {d} times too small: np.mean over every entry "
                    "divides by N*D; sum over the classes and average over the rows "
                    "only."
                    if y.ndim == 2
                    else "a 1-D y is a single example, so N = 1: you divided by the "
                    "number of classes (y.shape[0] of a 1-D array, or np.mean over "
                    "its entries).",
                ),
                (
                    expected / np.log(10),
                    "np.log10 is the wrong logarithm: cross-entropy uses the natural "
                    "log, np.log.",
                ),
                (
                    expected / np.log(2),
                    "np.log2 is the wrong logarithm: cross-entropy uses the natural "
                    "log, np.log.",
                ),
                (
                    -np.sum(y * logp + (1 - y) * log_1m) / n,
                    "you computed the binary cross-entropy, with a (1 - y) log(1 - "
                    "y_hat) term; for one-hot labels over several classes only the y "
                    "* log(y_hat) term appears.",
                ),
                (
                    -np.sum(y_hat * np.log(np.clip(y, _ref.EPS, 1.0))) / n,
                    "it looks like y and y_hat are swapped: the signature is "
                    "cross_entropy(y, y_hat), with y the one-hot labels and y_hat the "
                    "predicted probabilities.",
                ),
                (
                    -np.sum(logp) / n,
                    "you added the log of every predicted probability: multiply by "
                    "the one-hot y, so that only the true class counts.",
                ),
                (
                    -np.sum(y * y_hat) / n,
                    "the log is missing: the loss is -mean(sum(y * log(y_hat))).",
                ),
            ],
        )
    passed(ex, len(cases))
