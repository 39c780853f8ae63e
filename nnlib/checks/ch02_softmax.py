"""Checks of Chapter 2: softmax and cross-entropy.

``softmax`` is run on 1-D and 2-D scores, including the large and very negative
scores ``[1001, 1002]``, ``[-1001, -1002]`` and ``[[1001, 1002], [3, 4]]`` that
break a softmax without the max subtraction; ``cross_entropy`` on one example,
on batches, and on probabilities that are exactly 0. Hints name the classic
mistakes: the wrong axis, one normalisation for the whole array, a sum where an
average is due, the missing minus sign, ``log(0)``.
"""
from __future__ import annotations

import numpy as np

from .. import losses as _ref
from ._common import close, expect_callable, fmt, passed
from .ch01_activations import _case_name, _check_case, _first_hint

__all__ = ["softmax", "cross_entropy"]


# --------------------------------------------------------------------------- 2.1 softmax

def _normalise(e, axis):
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_errors(exc):
    text = str(exc)
    if "out of bounds for array of dimension 1" in text:
        return ("axis=1 does not exist for a 1-D array: use axis=-1 (the last axis), which is the class axis "
                "of both a 1-D and a 2-D array.")
    if "could not be broadcast" in text:
        return ("x.max(axis=1) and x.sum(axis=1) have shape (N,), which does not line up with the (N, D) array: "
                "pass keepdims=True so they keep shape (N, 1).")
    return None


def softmax(fn):
    """Check Exercise 2.1: ``fn(x)`` is the softmax over the last axis of a 1-D or 2-D array, without overflow."""
    name = "softmax"
    expect_callable(name, fn)
    cases = [
        (np.array([1.0, 2.0]), None),
        (np.array([-1.0, 0.0, 3.0, 5.0]), None),
        (np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), None),
        (np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 3.0]]), None),
        (np.array([1001.0, 1002.0]),
         "exp(1001) overflows (float64 ends near exp(709)). Softmax does not change when the same number is "
         "subtracted from every score, so subtract the maximum first: then the largest exponent is exp(0) = 1."),
        (np.array([-1001.0, -1002.0]),
         "exp(-1001) underflows to 0, and the division becomes 0 / 0. Subtracting the maximum score first makes "
         "the largest exponent exp(0) = 1, so the sum can never be 0."),
        (np.array([[1001.0, 1002.0], [3.0, 4.0]]),
         "each row needs its own maximum: subtracting the maximum of the whole array (1002) turns the row "
         "[3, 4] into exp(-999), exp(-998), which underflow to 0, and 0 / 0 follows. Use the row maxima, "
         "x.max(axis=-1, keepdims=True)."),
        (np.array([[-1001.0, -1002.0]]),
         "exp(-1001) underflows to 0 and the division becomes 0 / 0: subtract each row's maximum first."),
    ]
    for x, warning_hint in cases:
        expected = _ref.softmax(x)

        def diagnose(got, x=x):
            rules = []
            if x.ndim == 2:
                rules += [
                    (lambda: _normalise(np.exp(x - x.max(axis=0, keepdims=True)), 0),
                     "the columns of your result sum to 1: you normalised over axis 0. Each row is one example, "
                     "so take the max and the sum over the last axis (axis=-1, keepdims=True)."),
                    (lambda: _normalise(np.exp(x - x.max()), None),
                     "your whole result sums to 1: you divided by the sum over the entire array. Normalise each "
                     "row separately (sum over axis=-1 with keepdims=True), so that every row sums to 1."),
                    (lambda: np.exp(x - x.max(axis=1)) / np.exp(x - x.max(axis=1)).sum(axis=1),
                     "x.max(axis=1) and x.sum(axis=1) have shape (N,), which numpy lines up with the columns, not "
                     "the rows: pass keepdims=True so that they keep shape (N, 1)."),
                ]
            rules += [
                (lambda: np.exp(x), "you did not normalise: divide the exponentials by their sum over each row."),
                (lambda: np.exp(x - x.max(axis=-1, keepdims=True)),
                 "you did not normalise: divide the exponentials by their sum over each row."),
                (lambda: _normalise(np.exp(-x), -1), "the sign is wrong: softmax uses exp(+x)."),
                (lambda: x / x.sum(axis=-1, keepdims=True), "the exponential is missing: softmax divides exp(x_i) "
                                                             "by the sum of exp(x_k), not x_i by the sum of x_k."),
            ]
            hint = _first_hint(got, rules)
            if hint is None and got.ndim == 2 and close(got.sum(axis=0), 1.0) and not close(got.sum(axis=1), 1.0):
                hint = "the columns of your result sum to 1, the rows should: normalise over the last axis."
            return hint

        _check_case(name, _case_name(x=x), fn, (x,), expected, diagnose=diagnose, warning_hint=warning_hint,
                    error_hint=_softmax_errors, names=("x",))
    passed(name, len(cases))


# --------------------------------------------------------------------------- 2.2 cross_entropy

def _cross_entropy_errors(exc):
    text = str(exc)
    if "out of bounds for array of dimension 1" in text:
        return ("a 1-D y is a single example with D classes, and it has no axis 1: sum over axis=-1 (the "
                "class axis of both shapes), or sum over everything and divide by N (N = 1 for a 1-D y).")
    if "could not be broadcast" in text:
        return "y and y_hat have the same shape, so y * log(y_hat) needs no reshaping or transposing."
    return None


def _n_rows(y):
    return y.shape[0] if y.ndim == 2 else 1


def cross_entropy(fn):
    """Check Exercise 2.2: ``fn(y, y_hat)`` is the cross-entropy for one-hot ``y``, averaged over the rows."""
    name = "cross_entropy"
    expect_callable(name, fn)
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(4, 3))
    cases = [
        (np.array([0.0, 1.0, 0.0]), np.array([0.2, 0.7, 0.1])),
        (np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), np.array([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]])),
        (np.eye(3)[[2, 0, 1, 1]], _ref.softmax(scores)),
        (np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])),
        (np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.5, 0.5])),
    ]
    log_zero = ("numpy warned about log(0) = -inf: a predicted probability can be exactly 0. Clip y_hat into "
                "[1e-12, 1] (np.clip) before taking the log, which turns a certain wrong answer into a large but "
                "finite loss.")
    log_of_labels = ("numpy warned about log(0), yet y_hat has no zeros here: you probably took the log of the "
                     "labels y. The loss is -sum(y * log(y_hat)): the log of the predictions, weighted by the "
                     "one-hot labels.")
    for y, y_hat in cases:
        expected = _ref.cross_entropy(y, y_hat)
        n, d = _n_rows(y), y.shape[-1]
        accept = None
        if y.ndim == 1 and y_hat[y == 1][0] == 0:
            # any clipping constant between 1e-16 and 1e-6 is accepted: -log(eps) lies in [13.8, 36.8]
            def accept(got):
                return bool(np.isfinite(got) and -np.log(1e-6) <= got <= -np.log(1e-16))

        def diagnose(got, y=y, y_hat=y_hat, expected=expected, n=n, d=d):
            logp = np.log(np.clip(y_hat, _ref.EPS, 1.0))
            rules = []
            if expected != 0:
                rules.append((-expected, "the sign is wrong: the loss is MINUS the mean of sum(y * log(y_hat)) "
                                         "(log of a probability is <= 0, so the loss is >= 0)."))
            if n > 1:
                rules.append((n * expected, f"your value is {n} times too large for these {n} rows: you summed "
                                            "over the rows instead of averaging. Divide by N = y.shape[0]."))
            if y.ndim == 2:
                rules.append((expected / d, f"your value is {d} times too small: np.mean over every entry divides "
                                            "by N*D; sum over the classes and average over the rows only."))
            else:
                rules.append((expected / d, "a 1-D y is a single example, so N = 1: you divided by the number of "
                                            "classes (y.shape[0] of a 1-D array, or np.mean over its entries)."))
            rules += [
                (expected / np.log(10), "np.log10 is the wrong logarithm: cross-entropy uses the natural log, "
                                        "np.log."),
                (expected / np.log(2), "np.log2 is the wrong logarithm: cross-entropy uses the natural log, np.log."),
                (lambda: -np.sum(y * logp + (1 - y) * np.log(np.clip(1 - y_hat, _ref.EPS, 1.0))) / n,
                 "you computed the binary cross-entropy, with a (1 - y) log(1 - y_hat) term; for one-hot labels "
                 "over several classes only the y * log(y_hat) term appears."),
                (lambda: -np.sum(y_hat * np.log(np.clip(y, _ref.EPS, 1.0))) / n,
                 "it looks like y and y_hat are swapped: the signature is cross_entropy(y, y_hat), with y the "
                 "one-hot labels and y_hat the predicted probabilities."),
                (lambda: -np.sum(logp) / n, "you added the log of every predicted probability: multiply by the "
                                            "one-hot y, so that only the true class counts."),
                (lambda: -np.sum(y * y_hat) / n, "the log is missing: the loss is -mean(sum(y * log(y_hat)))."),
            ]
            return _first_hint(got, rules)

        def shape_hint(got, n=n):
            if got.ndim == 1 and got.shape[0] == n:
                return "you returned one loss per row: return their average, a single number."
            if got.ndim >= 1:
                return ("cross_entropy returns a single number: sum over the classes, then average over the "
                        "rows.")
            return None

        zero_in_y_hat = bool(np.any(y_hat == 0))
        _check_case(name, _case_name(y=y, y_hat=y_hat), fn, (y, y_hat), expected, diagnose=diagnose,
                    shape_hint=shape_hint, warning_hint=log_zero if zero_in_y_hat else log_of_labels,
                    error_hint=_cross_entropy_errors,
                    accept=accept, names=("y", "y_hat"))
    passed(name, len(cases))
