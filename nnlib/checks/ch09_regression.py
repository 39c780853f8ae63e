"""Checks of chapter 9 (regression with mean squared error).

The network has a sigmoid hidden layer and a linear output::

    z1 = X @ W1 + b1   (N, H)      a1 = sigmoid(z1)
    y_hat = a1 @ W2 + b2   (N, 1)  C = (1 / 2N) * sum_i (y_hat_i - y_i)^2

* ``regression_backward(X, y, params, cache) -> (dW1, db1, dW2, db2)`` with
  ``params = (W1, b1, W2, b2)``, ``cache = (z1, a1, y_hat)`` and ``y (N, 1)``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..activations import sigmoid
from ._common import ERROR_HINTS, Array, compare_each, passed, run

#: an (N,) target minus an (N, 1) prediction broadcasts to (N, N); a product then fails
_N_BY_N = (
    "y and y_hat must both be (N, 1) columns: an (N,) vector subtracted from an "
    "(N, 1) column broadcasts to (N, N)."
)
_HINTS = [
    (piece, f"{hint} Check also the shape of y_hat - y: {_N_BY_N}")
    for piece, hint in ERROR_HINTS
    if piece in ("matmul", "not aligned")
]

__all__ = ["regression_backward"]


def _ref(
    X,
    y,
    params,
    cache,
    *,
    scale_n=True,
    sign=1.0,
    factor=1.0,
    out_deriv=False,
    hidden="grad",
    db="sum",
):
    W1, b1, W2, b2 = params
    z1, a1, y_hat = cache
    N = X.shape[0]
    delta2 = sign * factor * (y_hat - y)
    if scale_n:
        delta2 = delta2 / N
    if out_deriv:
        delta2 = delta2 * y_hat * (1 - y_hat)
    local = {
        "grad": a1 * (1 - a1),
        "at_z": z1 * (1 - z1),
        "act": a1,
        "none": 1.0,
        "grad_of_act": sigmoid(a1) * (1 - sigmoid(a1)),
    }[hidden]
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


MISTAKES = [
    (
        dict(scale_n=False),
        "the gradients are N times too large: the cost is the MEAN over the N "
        "examples, so the output error is (y_hat - y) / N.",
    ),
    (
        dict(sign=-1.0),
        "the sign is flipped: dC/dy_hat = (y_hat - y) / N; with (y - y_hat) gradient "
        "descent climbs the cost.",
    ),
    (
        dict(factor=2.0),
        "the gradients are twice too large: the cost has a factor 1/2, which cancels "
        "the 2 of the square, so delta2 = (y_hat - y) / N.",
    ),
    (
        dict(out_deriv=True),
        "the output unit is LINEAR: its derivative is 1, so delta2 = (y_hat - y) / N "
        "with no y_hat(1 - y_hat) factor.",
    ),
    (
        dict(hidden="at_z"),
        "sigma'(z1) was computed as z1 * (1 - z1): the formula s(1 - s) holds for the "
        "sigmoid's OUTPUT, so use a1 * (1 - a1).",
    ),
    (
        dict(hidden="act"),
        "you multiplied by the activation a1 instead of its derivative sigma'(z1) = "
        "a1 * (1 - a1).",
    ),
    (
        dict(hidden="none"),
        "the derivative of the hidden sigmoid is missing: delta1 = (delta2 @ W2.T) * "
        "a1 * (1 - a1).",
    ),
    (
        dict(hidden="grad_of_act"),
        "sigma'(z1) was computed from sigmoid(a1): a1 is already the sigmoid's "
        "output, sigma'(z1) = a1 * (1 - a1).",
    ),
    (
        dict(db="mean"),
        "the bias gradients are sums of the deltas over the rows (the 1/N is already "
        "in delta2), not means.",
    ),
    (
        dict(db="zero"),
        "the bias gradients are zero: db is the sum over the rows of the delta of its "
        "layer.",
    ),
]


def regression_backward(fn):
    """Check exercise 7.1: ``regression_backward(X, y, params, cache)``."""
    ex, names = "regression_backward", ("dW1", "db1", "dW2", "db2")
    rng = np.random.default_rng(7001)
    cases = [(6, 3, 4), (5, 2, 3), (8, 4, 2)]
    for N, D, H in cases:
        case = f"N = {N}, D = {D}, H = {H}"
        X = rng.standard_normal((N, D))
        params = (
            rng.standard_normal((D, H)),
            rng.standard_normal(H),
            rng.standard_normal((H, 1)),
            rng.standard_normal(1),
        )
        z1 = X @ params[0] + params[1]
        a1 = sigmoid(z1)
        cache = (z1, a1, a1 @ params[2] + params[3])
        y = rng.standard_normal((N, 1))
        per_unit = (
            "must be summed over the examples (axis=0), keeping one entry per unit."
        )
        spec = tuple(
            Array(
                p.shape,
                g,
                [
                    ((N, N), f"{g} has shape (N, N): {_N_BY_N}"),
                    ((N,), f"{g} {per_unit}"),
                ],
            )
            for p, g in zip(params, names, strict=True)
        )
        got, _ = run(
            ex,
            case,
            fn,
            (X, y, params, cache),
            (
                "X",
                "y",
                ("params", ("W1", "b1", "W2", "b2")),
                ("cache", ("z1", "a1", "y_hat")),
            ),
            returns=spec,
            hints=_HINTS,
        )
        compare_each(
            ex,
            case,
            names,
            got,
            partial(_ref, X, y, params, cache),
            MISTAKES,
            (2, 3, 0, 1),
            hint="compare your gradients with numerical differences "
            "(nnlib.gradcheck_naive).",
            atol=1e-9,
        )
    passed(ex, len(cases))
