"""Checks of chapter 7 (regression with mean squared error).

The network has a sigmoid hidden layer and a linear output::

    z1 = X @ W1 + b1   (N, H)      a1 = sigmoid(z1)
    y_hat = a1 @ W2 + b2   (N, 1)  C = (1 / 2N) * sum_i (y_hat_i - y_i)^2

* ``regression_backward(X, y, params, cache) -> (dW1, db1, dW2, db2)`` with
  ``params = (W1, b1, W2, b2)``, ``cache = (z1, a1, y_hat)`` and ``y (N, 1)``.
"""
from __future__ import annotations

import numpy as np

from ..activations import sigmoid
from ._common import expect_callable, passed
from ._diagnose import SHAPE_HINTS, as_array, call, compare, unpack

#: an (N,) target minus an (N, 1) prediction broadcasts to (N, N), and the next product fails
_HINTS = tuple((pattern, hint + (" Check also the shape of y_hat - y: it must be (N, 1); an (N,) target "
                                 "subtracted from an (N, 1) column broadcasts to (N, N).")
                if pattern in ("matmul", "not aligned") else hint) for pattern, hint in SHAPE_HINTS)

__all__ = ["regression_backward"]


def _ref(X, y, params, cache, *, scale_n=True, sign=1.0, factor=1.0, out_deriv=False, hidden="grad",
         db="sum"):
    W1, b1, W2, b2 = params
    z1, a1, y_hat = cache
    N = X.shape[0]
    delta2 = sign * factor * (y_hat - y)
    if scale_n:
        delta2 = delta2 / N
    if out_deriv:
        delta2 = delta2 * y_hat * (1 - y_hat)
    local = {"grad": a1 * (1 - a1), "at_z": z1 * (1 - z1), "act": a1, "none": 1.0,
             "grad_of_act": sigmoid(a1) * (1 - sigmoid(a1))}[hidden]
    delta1 = (delta2 @ W2.T) * local
    dW2 = a1.T @ delta2
    dW1 = X.T @ delta1
    if db == "sum":
        db2, db1 = delta2.sum(axis=0), delta1.sum(axis=0)
    elif db == "mean":
        db2, db1 = delta2.mean(axis=0), delta1.mean(axis=0)
    else:
        db2, db1 = np.zeros_like(b2), np.zeros_like(b1)
    return dW1, db1, dW2, db2


VARIANTS = {
    "the gradients are N times too large: the cost is the MEAN over the N examples, so the output error "
    "is (y_hat - y) / N.": dict(scale_n=False),
    "the sign is flipped: dC/dy_hat = (y_hat - y) / N; with (y - y_hat) gradient descent climbs the cost.":
        dict(sign=-1.0),
    "the gradients are twice too large: the cost has a factor 1/2, which cancels the 2 of the square, "
    "so delta2 = (y_hat - y) / N.": dict(factor=2.0),
    "the output unit is LINEAR: its derivative is 1, so delta2 = (y_hat - y) / N with no y_hat(1 - y_hat) factor.":
        dict(out_deriv=True),
    "sigma'(z1) was computed as z1 * (1 - z1): the formula s(1 - s) holds for the sigmoid's OUTPUT, "
    "so use a1 * (1 - a1).": dict(hidden="at_z"),
    "you multiplied by the activation a1 instead of its derivative sigma'(z1) = a1 * (1 - a1).":
        dict(hidden="act"),
    "the derivative of the hidden sigmoid is missing: delta1 = (delta2 @ W2.T) * a1 * (1 - a1).":
        dict(hidden="none"),
    "sigma'(z1) was computed from sigmoid(a1): a1 is already the sigmoid's output, sigma'(z1) = a1 * (1 - a1).":
        dict(hidden="grad_of_act"),
    "the bias gradients are sums of the deltas over the rows (the 1/N is already in delta2), not means.":
        dict(db="mean"),
    "the bias gradients are zero: db is the sum over the rows of the delta of its layer.": dict(db="zero"),
}


def _cases():
    rng = np.random.default_rng(7001)
    out = []
    for case, N, D, H in [("N = 6, D = 3, H = 4", 6, 3, 4), ("N = 5, D = 2, H = 3", 5, 2, 3),
                          ("N = 8, D = 4, H = 2", 8, 4, 2)]:
        X = rng.standard_normal((N, D))
        params = (rng.standard_normal((D, H)), rng.standard_normal(H), rng.standard_normal((H, 1)),
                  rng.standard_normal(1))
        z1 = X @ params[0] + params[1]
        a1 = sigmoid(z1)
        cache = (z1, a1, a1 @ params[2] + params[3])
        y = rng.standard_normal((N, 1))
        out.append((case, X, y, params, cache))
    return out


def regression_backward(fn):
    """Check exercise 7.1: ``regression_backward(X, y, params, cache) -> (dW1, db1, dW2, db2)``."""
    ex = "regression_backward"
    expect_callable(ex, fn)
    cases = _cases()
    names = ("dW1", "db1", "dW2", "db2")
    for case, X, y, params, cache in cases:
        result = call(ex, case, fn, X.copy(), y.copy(), tuple(p.copy() for p in params),
                      tuple(c.copy() for c in cache), hints=_HINTS)
        got = dict(zip(names, unpack(ex, case, result, names)))
        ref = dict(zip(names, _ref(X, y, params, cache)))
        computed = {h: dict(zip(names, _ref(X, y, params, cache, **kw))) for h, kw in VARIANTS.items()}
        N = X.shape[0]
        for name, param in (("dW2", params[2]), ("db2", params[3]), ("dW1", params[0]), ("db1", params[1])):
            shape = param.shape
            hints = []
            if len(shape) == 2:
                hints.append((shape[::-1], f"{name} must have the shape of {name[1:]}, {shape}: "
                                           "a transpose is missing or misplaced (dW = a_prev.T @ delta)."))
                hints.append(((N, N), f"{name} has shape (N, N): y and y_hat must both be (N, 1) columns; "
                                      "subtracting an (N,) vector from an (N, 1) column broadcasts to (N, N)."))
            else:
                hints.append(((N, shape[0]), f"{name} must be summed over the examples (axis=0)."))
                hints.append(((N,), f"{name} must be summed over the examples (axis=0), keeping one entry per unit."))
            arr = as_array(ex, case, name, got[name], shape, shape_hints=hints)
            compare(ex, case, name, arr, ref[name], variants=[(h, v[name]) for h, v in computed.items()],
                    default_hint="compare your gradients with numerical differences (nnlib.gradcheck_naive).")
    passed(ex, len(cases))
