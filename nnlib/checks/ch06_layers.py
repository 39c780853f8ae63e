"""Checks of chapter 6 (deeper networks): the forward and backward pass of one
dense layer followed by its activation.

* ``layer_forward(X, W, b, activation) -> (A, cache)`` with ``X (N, D_in)``,
  ``W (D_in, D_out)``, ``b (D_out,)``, ``activation`` a name of
  ``nnlib.ACTIVATIONS`` and ``cache = (X, W, A, activation)``;
* ``layer_backward(dA, cache) -> (dX, dW, db)`` with ``dA (N, D_out)``, the
  gradient of the loss with respect to the layer's output ``A``.
"""
from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS
from ._common import close, expect_callable, fail, fmt, passed
from ._diagnose import as_array, call, compare, unpack

__all__ = ["layer_forward", "layer_backward"]


def _ref_forward(X, W, b, activation):
    f, _ = ACTIVATIONS[activation]
    A = f(X @ W + b)
    return A, (X, W, A, activation)


def _ref_backward(dA, cache, *, local="grad", transpose=True, dW_t=False, db="sum", extra_mean=False):
    X, W, A, activation = cache
    f, f_grad = ACTIVATIONS[activation]
    N = X.shape[0]
    dZ = dA * {"grad": lambda: f_grad(A), "none": lambda: 1.0, "act": lambda: A,
               "grad_of_act": lambda: f_grad(f(A))}[local]()
    dX = dZ @ W.T if transpose else dZ @ W
    dW = X.T @ dZ
    if dW_t:
        dW = dW.T
    if extra_mean:
        dW = dW / N
    db_ = {"sum": dZ.sum(axis=0), "mean": dZ.mean(axis=0), "zero": np.zeros(W.shape[1])}[db]
    return dX, dW, db_


def _cases(seed):
    rng = np.random.default_rng(seed)
    out = []
    for case, N, D_in, D_out, act in [
            ("N = 5, D_in = 2, D_out = 3, relu", 5, 2, 3, "relu"),
            ("N = 4, D_in = 3, D_out = 2, tanh", 4, 3, 2, "tanh"),
            ("N = 3, D_in = 3, D_out = 3, sigmoid (square shapes)", 3, 3, 3, "sigmoid"),
            ("N = 6, D_in = 4, D_out = 2, identity", 6, 4, 2, "identity"),
            ("N = 4, D_in = 4, D_out = 4, tanh (square shapes)", 4, 4, 4, "tanh")]:
        X = rng.standard_normal((N, D_in))
        W = rng.standard_normal((D_in, D_out))
        b = rng.standard_normal(D_out)
        out.append((case, X, W, b, act))
    return out


def layer_forward(fn):
    """Check exercise 6.1: ``layer_forward(X, W, b, activation) -> (A, cache)``."""
    ex = "layer_forward"
    expect_callable(ex, fn)
    cases = _cases(6001)
    for case, X, W, b, act in cases:
        f, _ = ACTIVATIONS[act]
        result = call(ex, case, fn, X.copy(), W.copy(), b.copy(), act)
        A, cache = unpack(ex, case, result, ("A", "cache"))
        eA, _ = _ref_forward(X, W, b, act)
        A = as_array(ex, case, "A", A, eA.shape, shape_hints=[
            (eA.shape[::-1], "A has one row per example: X (N, D_in) @ W (D_in, D_out) has shape (N, D_out).")])
        Z = X @ W + b
        compare(ex, case, "A", A, eA, variants=[
            ("X * W is an elementwise product; the layer computes the matrix product X @ W + b.",
             f(X * W + b) if X.shape == W.shape else None),
            ("the bias b is missing: A = f(X @ W + b).", f(X @ W)),
            ("A equals the pre-activation Z = X @ W + b: apply the activation, A = f(Z).", Z),
            ("the bias goes inside the activation: A = f(X @ W + b), not f(X @ W) + b.", f(X @ W) + b),
            ("W @ X.T gives one column per example; the course's convention is X @ W (one row per example).",
             f((W.T @ X.T).T + b)),
        ])
        if not isinstance(cache, (tuple, list)) or len(cache) != 4:
            fail(ex, case, message=f"cache should be the tuple (X, W, A, activation), got {fmt(cache)}",
                 hint="layer_backward needs the input X, the weights W, the output A (the derivatives of "
                      "nnlib take the activation's output) and the activation's name.")
        cX, cW, cA, cact = cache
        for name, got, want in (("cache[0] (X)", cX, X), ("cache[1] (W)", cW, W), ("cache[2] (A)", cA, eA)):
            if not close(got, want):
                hint = None
                if name.startswith("cache[2]") and close(got, Z):
                    hint = ("you cached the pre-activation Z; cache the output A, which is what the "
                            "derivatives of nnlib.ACTIVATIONS take.")
                fail(ex, case, expected=want, got=got, hint=hint,
                     message=f"{name} is not what layer_backward needs; cache = (X, W, A, activation).")
        if cact != act:
            fail(ex, case, expected=act, got=cact, message="cache[3] should be the activation's name.")
    passed(ex, len(cases))


def layer_backward(fn):
    """Check exercise 6.2: ``layer_backward(dA, cache) -> (dX, dW, db)``."""
    ex = "layer_backward"
    expect_callable(ex, fn)
    cases = _cases(6002)
    rng = np.random.default_rng(6003)
    for case, X, W, b, act in cases:
        _, cache = _ref_forward(X, W, b, act)
        N, D_in, D_out = X.shape[0], W.shape[0], W.shape[1]
        dA = rng.standard_normal((N, D_out)) / N
        result = call(ex, case, fn, dA.copy(), tuple(c.copy() if isinstance(c, np.ndarray) else c for c in cache))
        dX, dW, db = unpack(ex, case, result, ("dX", "dW", "db"))
        ref = dict(zip(("dX", "dW", "db"), _ref_backward(dA, cache)))
        variants = {
            "the derivative of the activation is missing: dZ = dA * f'(Z), and dX, dW, db all use dZ.":
                dict(local="none"),
            "you multiplied by the activation A itself instead of its derivative f'(Z), which nnlib computes "
            "from A: ACTIVATIONS[activation][1](A).": dict(local="act"),
            "the derivative was evaluated at f(A): the derivatives of nnlib take the output A directly, "
            "f'(Z) = ACTIVATIONS[activation][1](A).": dict(local="grad_of_act"),
            "the gradient of the input is sent back through W without its transpose: dX = dZ @ W.T.":
                dict(transpose=False),
            "dW must have the shape and layout of W (D_in, D_out): dW = X.T @ dZ, not its transpose.":
                dict(dW_t=True),
            "dW was divided by N: dA already carries the 1/N of the mean loss, so dW = X.T @ dZ.":
                dict(extra_mean=True),
            "db is the SUM of dZ over the rows (dA already carries the 1/N of the mean loss), not the mean.":
                dict(db="mean"),
            "db is zero: the bias gradient is missing; db = dZ.sum(axis=0).": dict(db="zero"),
        }
        computed = {}
        for hint, kw in variants.items():
            try:
                computed[hint] = dict(zip(("dX", "dW", "db"), _ref_backward(dA, cache, **kw)))
            except ValueError:
                pass
        shapes = {"dX": X.shape, "dW": W.shape, "db": b.shape}
        for name in ("db", "dW", "dX"):
            shape = shapes[name]
            hints = []
            if name in ("dX", "dW"):
                hints.append((shape[::-1], f"{name} must have the shape of {name[1:]}, {shape}: "
                                           "a transpose is missing or misplaced."))
            else:
                hints.append(((N, D_out), "db must be summed over the examples (axis=0): one number per unit."))
            arr = as_array(ex, case, name, dict(zip(("dX", "dW", "db"), (dX, dW, db)))[name], shape,
                           shape_hints=hints)
            compare(ex, case, name, arr, ref[name], variants=[(h, v[name]) for h, v in computed.items()],
                    default_hint="compare each gradient with numerical differences (nnlib.gradcheck_naive) "
                                 "to find the term that is off.")
    passed(ex, len(cases))
