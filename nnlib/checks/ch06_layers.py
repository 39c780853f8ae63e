"""Checks of chapter 6 (deeper networks): the forward and backward pass of one
dense layer followed by its activation.

* ``layer_forward(X, W, b, activation) -> (A, cache)`` with ``X (N, D_in)``,
  ``W (D_in, D_out)``, ``b (D_out,)``, ``activation`` a name of
  ``nnlib.ACTIVATIONS`` and ``cache = (X, W, A, activation)``;
* ``layer_backward(dA, cache) -> (dX, dW, db)`` with ``dA (N, D_out)``, the
  gradient of the loss with respect to the layer's output ``A``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..activations import ACTIVATIONS
from ._common import (
    Array,
    close,
    compare,
    compare_each,
    fail,
    fmt,
    passed,
    run,
)

__all__ = ["layer_forward", "layer_backward"]

CACHE = ("cache", ("X", "W", "A", "activation"))
ROWS = "A has one row per example: X (N, D_in) @ W (D_in, D_out) has shape (N, D_out)."


def _ref_backward(
    dA, cache, *, local="grad", transpose=True, dW_t=False, db="sum", extra_mean=False
):
    """The reference ``(dX, dW, db)``, or what one classic mistake gives."""
    X, W, A, activation = cache
    f, f_grad = ACTIVATIONS[activation]
    dZ = (
        dA
        * {
            "grad": lambda: f_grad(A),
            "none": lambda: 1.0,
            "act": lambda: A,
            "grad_of_act": lambda: f_grad(f(A)),
        }[local]()
    )
    dW = (X.T @ dZ).T if dW_t else X.T @ dZ
    db_ = {
        "sum": dZ.sum(axis=0),
        "mean": dZ.mean(axis=0),
        "zero": np.zeros(W.shape[1]),
    }[db]
    return dZ @ W.T if transpose else dZ @ W, dW / X.shape[0] if extra_mean else dW, db_


def _cases(seed):
    """(case, X, W, b, activation) for five layers, two of them square."""
    rng = np.random.default_rng(seed)
    cases = []
    shapes = [(5, 2, 3, "relu"), (4, 3, 2, "tanh"), (3, 3, 3, "sigmoid")]
    shapes += [(6, 4, 2, "identity"), (4, 4, 4, "tanh")]
    for N, D_in, D_out, act in shapes:
        X, W = rng.standard_normal((N, D_in)), rng.standard_normal((D_in, D_out))
        case = f"N = {N}, D_in = {D_in}, D_out = {D_out}, {act}"
        case += " (square shapes)" if N == D_in == D_out else ""
        cases.append((case, X, W, rng.standard_normal(D_out), act))
    return cases


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return close(a, b)


def layer_forward(fn):
    """Check exercise 6.1: ``layer_forward(X, W, b, activation) -> (A, cache)``."""
    cases = _cases(6001)
    for case, X, W, b, act in cases:
        _forward_case(fn, case, X, W, b, act)
    passed("layer_forward", len(cases))


def _forward_case(fn, case, X, W, b, act):
    ex = "layer_forward"
    f, _ = ACTIVATIONS[act]
    Z = X @ W + b
    want = (X, W, f(Z), act)
    (A, cache), _ = run(
        ex,
        case,
        fn,
        (X, W, b, act),
        ("X", "W", "b", "activation"),
        returns=(Array(Z.shape, "A", [(Z.shape[::-1], ROWS)]), Array(None, "cache")),
    )
    compare(
        ex,
        case,
        "A",
        A,
        want[2],
        [
            (
                lambda: f(X * W + b),
                "X * W is an elementwise product; the layer computes the matrix "
                "product X @ W + b.",
            ),
            (f(X @ W), "the bias b is missing: A = f(X @ W + b)."),
            (
                Z,
                "A equals the pre-activation Z = X @ W + b: apply the activation, A = "
                "f(Z).",
            ),
            (
                f(X @ W) + b,
                "the bias goes inside the activation: A = f(X @ W + b), not f(X @ W) "
                "+ b.",
            ),
        ],
    )
    if not isinstance(cache, (tuple, list)) or len(cache) != 4:
        fail(
            ex,
            case,
            f"cache should be the tuple (X, W, A, activation), got {fmt(cache)}",
            hint="layer_backward needs the input X, the weights W, the output A (the "
            "derivatives of nnlib take the activation's output) and the activation's "
            "name.",
        )
    for i, (got, expected, name) in enumerate(zip(cache, want, CACHE[1], strict=True)):
        if _same(got, expected):
            continue
        holds = [
            other for w, other in zip(want, CACHE[1], strict=True) if _same(got, w)
        ]
        if holds:
            fail(
                ex,
                case,
                f"cache[{i}] should be {name} but holds {holds[0]}: the cache is (X, "
                "W, A, activation), in this order, the order in which layer_backward "
                "unpacks it.",
            )
        cached_z = (
            "you cached the pre-activation Z; cache the output A, which is what the "
            "derivatives of nnlib.ACTIVATIONS take."
        )
        fail(
            ex,
            case,
            f"cache[{i}] ({name}) is not what layer_backward needs; cache = (X, W, A, "
            "activation).",
            expected=expected,
            got=got,
            hint=cached_z if close(got, Z) else None,
        )


MISTAKES = [
    (
        dict(local="none"),
        "the derivative of the activation is missing: dZ = dA * f'(Z), and dX, dW, db "
        "all use dZ.",
    ),
    (
        dict(local="act"),
        "you multiplied by the activation A itself instead of its derivative f'(Z), "
        "which nnlib computes from A: ACTIVATIONS[activation][1](A).",
    ),
    (
        dict(local="grad_of_act"),
        "the derivative was evaluated at f(A): the derivatives of nnlib take the "
        "output A directly, f'(Z) = ACTIVATIONS[activation][1](A).",
    ),
    (
        dict(transpose=False),
        "the gradient of the input is sent back through W without its transpose: dX = "
        "dZ @ W.T.",
    ),
    (
        dict(dW_t=True),
        "dW must have the shape and layout of W (D_in, D_out): dW = X.T @ dZ, not its "
        "transpose.",
    ),
    (
        dict(extra_mean=True),
        "dW was divided by N: dA already carries the 1/N of the mean loss, so dW = "
        "X.T @ dZ.",
    ),
    (
        dict(db="mean"),
        "db is the SUM of dZ over the rows (dA already carries the 1/N of the mean "
        "loss), not the mean.",
    ),
    (
        dict(db="zero"),
        "db is zero: the bias gradient is missing; db = dZ.sum(axis=0).",
    ),
]


def layer_backward(fn):
    """Check exercise 6.2: ``layer_backward(dA, cache) -> (dX, dW, db)``."""
    ex, names = "layer_backward", ("dX", "dW", "db")
    rng = np.random.default_rng(6003)
    cases = _cases(6002)
    for case, X, W, b, act in cases:
        cache = (X, W, ACTIVATIONS[act][0](X @ W + b), act)
        dA = rng.standard_normal((X.shape[0], W.shape[1])) / X.shape[0]
        spec = tuple(Array(v.shape, g) for v, g in zip((X, W, b), names, strict=True))
        got, _ = run(ex, case, fn, (dA, cache), ("dA", CACHE), returns=spec)
        compare_each(
            ex,
            case,
            names,
            got,
            partial(_ref_backward, dA, cache),
            MISTAKES,
            (2, 1, 0),
            hint="compare each gradient with numerical differences "
            "(nnlib.gradcheck_naive) to find the term that is off.",
            atol=1e-9,
        )
    passed(ex, len(cases))
