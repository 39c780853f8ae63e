"""Checks of chapter 5 (make-moons with a three-layer network).

The exercises are module-level functions of the network's parameters
``params = (W1, b1, W2, b2)`` with ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, K)``,
``b2 (K,)``:

* ``feedforward(X, params, act) -> (z1, a1, z2, probs)``
* ``calculate_loss(probs, y, params, reg_lambda) -> float``
* ``backprop(X, y, params, cache, act_grad, reg_lambda) -> (dW1, db1, dW2, db2)``
  with ``cache = (z1, a1, z2, probs)`` and ``act_grad`` taking the activation's
  output (the nnlib convention).
"""

from __future__ import annotations

import numpy as np

from ..activations import relu, sigmoid, tanh
from ..losses import softmax
from ._common import Array, compare, passed, run

__all__ = ["feedforward", "calculate_loss", "backprop"]


#: derivatives that take the activation's output, like nnlib's, without its input checks:
#: at the wrong quantity they give a wrong number (that a hint recognises), not an error
_ACTS = {
    "tanh": (tanh, lambda a: 1.0 - a * a),
    "sigmoid": (sigmoid, lambda a: a * (1.0 - a)),
    "relu": (relu, lambda a: (a > 0).astype(float)),
}


def _params(rng, d, h, k, scale=1.0):
    return (
        scale * rng.standard_normal((d, h)),
        0.5 * rng.standard_normal(h),
        scale * rng.standard_normal((h, k)),
        0.5 * rng.standard_normal(k),
    )


PARAMS = ("params", ("W1", "b1", "W2", "b2"))
#: np.exp of large scores, in a softmax written out instead of nnlib's
_OVERFLOW = (
    "overflow",
    "np.exp of large scores overflows (inf / inf = nan): subtract each row's maximum "
    "before exponentiating, or use nnlib.softmax.",
)


def _ref_feedforward(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    return z1, a1, z2, softmax(z2)


# ------------------------------------------------------------------------------------
# Exercise 5.1
# ------------------------------------------------------------------------------------


def _feedforward_cases():
    rng = np.random.default_rng(5001)
    cases = []
    # rectangular shapes: N=5, D=2, H=3, K=2
    X = rng.standard_normal((5, 2))
    cases.append(
        ("X of shape (5, 2), H = 3, K = 2, tanh", X, _params(rng, 2, 3, 2), "tanh")
    )
    # square shapes, where X * W1 broadcasts silently: N = D = H = K = 3
    X = rng.standard_normal((3, 3))
    cases.append(
        (
            "X of shape (3, 3), H = 3, K = 3, sigmoid (square shapes)",
            X,
            _params(rng, 3, 3, 3),
            "sigmoid",
        )
    )
    X = rng.standard_normal((6, 2))
    cases.append(
        ("X of shape (6, 2), H = 4, K = 2, relu", X, _params(rng, 2, 4, 2), "relu")
    )
    # large scores: a softmax without the max subtracted overflows
    X = rng.standard_normal((4, 2))
    big = _params(rng, 2, 3, 2)
    big = (big[0], big[1], 400.0 * np.abs(big[2]) + 300.0, big[3])
    cases.append(
        ("X of shape (4, 2), tanh, and scores z2 in the hundreds", X, big, "tanh")
    )
    return cases


def feedforward(fn):
    """Check exercise 5.1: ``feedforward(X, params, act) -> (z1, a1, z2, probs)``."""
    ex = "feedforward"
    cases = _feedforward_cases()
    for case, X, params, act_name in cases:
        act, _ = _ACTS[act_name]
        W1, b1, W2, b2 = params
        N, H, K = X.shape[0], W1.shape[1], W2.shape[1]
        keepdims = (
            f"({N},{K}) ({N},)",
            "the row sums of the softmax lost their second axis: an (N,) vector does "
            "not broadcast against (N, K); sum with keepdims=True (or use "
            "nnlib.softmax).",
        )
        rows = [
            (
                (H, N),
                "z1 has one row per example: X (N, D) @ W1 (D, H) has shape (N, H).",
            )
        ]
        spec = (
            Array((N, H), "z1", rows),
            Array((N, H), "a1"),
            Array((N, K), "z2"),
            Array((N, K), "probs"),
        )
        (z1, a1, z2, probs), _ = run(
            ex,
            case,
            fn,
            (X, params, act),
            ("X", PARAMS, "act"),
            returns=spec,
            hints=[keepdims, _OVERFLOW],
        )
        ez1, ea1, ez2, eprobs = _ref_feedforward(X, params, act)
        compare(
            ex,
            case,
            "z1",
            z1,
            ez1,
            [
                (
                    lambda: X * W1 + b1,
                    "X * W1 is an elementwise product; the hidden pre-activation is "
                    "the matrix product X @ W1 + b1.",
                ),
                (X @ W1, "the bias b1 is missing: z1 = X @ W1 + b1."),
                (
                    act(ez1),
                    "did you apply the activation already? z1 is the pre-activation X "
                    "@ W1 + b1; a1 = act(z1).",
                ),
            ],
        )
        compare(
            ex,
            case,
            "a1",
            a1,
            ea1,
            [
                (ez1, "a1 equals z1: the activation is missing, a1 = act(z1)."),
                (
                    act(X @ W1),
                    "a1 is the activation of X @ W1 without the bias; apply act to z1 "
                    "= X @ W1 + b1.",
                ),
            ],
        )
        compare(
            ex,
            case,
            "z2",
            z2,
            ez2,
            [
                (
                    ez1 @ W2 + b2,
                    "z2 is computed from z1; the output layer takes the activation: "
                    "z2 = a1 @ W2 + b2.",
                ),
                (ea1 @ W2, "the bias b2 is missing: z2 = a1 @ W2 + b2."),
                (
                    lambda: ea1 * W2 + b2,
                    "a1 * W2 is an elementwise product; z2 = a1 @ W2 + b2 is a matrix "
                    "product.",
                ),
                (eprobs, "z2 is the output scores, before the softmax."),
            ],
        )
        e = np.exp(ez2 - ez2.max(axis=1, keepdims=True))
        compare(
            ex,
            case,
            "probs",
            probs,
            eprobs,
            [
                (
                    lambda: softmax(ez2.T).T,
                    "the softmax was taken over the wrong axis: each ROW (one "
                    "example) must sum to 1, use axis=1 (or axis=-1) with "
                    "keepdims=True.",
                ),
                (
                    softmax(act(ez2)),
                    "the activation was applied to the output scores as well; probs = "
                    "softmax(z2) directly.",
                ),
                (ez2, "probs are the scores z2 without the softmax."),
                (
                    lambda: e / e.sum(axis=1),
                    "the row sums of the softmax lost their second axis (here N = K, "
                    "so the division broadcast silently along the wrong axis): sum "
                    "with keepdims=True.",
                ),
                (
                    not np.allclose(probs.sum(axis=1), 1.0),
                    "the rows of probs must sum to 1.",
                ),
            ],
        )
    passed(ex, len(cases))


# ------------------------------------------------------------------------------------
# Exercise 5.2
# ------------------------------------------------------------------------------------


def _loss_parts(probs, y, params):
    W1, b1, W2, b2 = params
    N = probs.shape[0]
    ce_sum = float(-np.sum(np.log(probs[np.arange(N), y])))
    sq = float(np.sum(W1**2) + np.sum(W2**2))
    sq_b = float(np.sum(b1**2) + np.sum(b2**2))
    return N, ce_sum, sq, sq_b


def _ref_loss(probs, y, params, lam):
    N, ce_sum, sq, _ = _loss_parts(probs, y, params)
    return ce_sum / N + lam / 2 * sq


def _loss_cases():
    rng = np.random.default_rng(5002)
    cases = []
    for case, N, K, lam in [
        ("N = 6 examples, K = 2 classes, reg_lambda = 0", 6, 2, 0.0),
        ("N = 5 examples, K = 3 classes, reg_lambda = 0.1", 5, 3, 0.1),
        ("N = 8 examples, K = 2 classes, reg_lambda = 0.01", 8, 2, 0.01),
    ]:
        probs = softmax(rng.standard_normal((N, K)) * 2)
        y = rng.integers(0, K, size=N)
        y[:K] = np.arange(K)  # every class appears
        params = _params(rng, 2, 3, K)
        cases.append((case, probs, y, params, lam))
    return cases


def calculate_loss(fn):
    """Check exercise 5.2: ``calculate_loss(probs, y, params, reg_lambda) -> float``."""
    ex = "calculate_loss"
    cases = _loss_cases()
    for case, probs, y, params, lam in cases:
        got, _ = run(
            ex,
            case,
            fn,
            (probs, y, params, lam),
            ("probs", "y", PARAMS, "reg_lambda"),
            returns=Array((), "the loss"),
        )
        N, ce_sum, sq, sq_b = _loss_parts(probs, y, params)
        ce, reg, n_k = ce_sum / N, lam / 2 * sq, N * probs.shape[1]
        compare(
            ex,
            case,
            "the loss",
            got,
            _ref_loss(probs, y, params, lam),
            [
                (
                    ce_sum + reg,
                    "the data term is a sum: divide the cross-entropy by N once (the "
                    "mean over the examples).",
                ),
                (
                    ce / N + reg,
                    "the data term was divided by N twice: it is the mean -(1/N) "
                    "sum_i log p_i[y_i], one division.",
                ),
                (
                    (ce_sum + reg) / N,
                    "the L2 penalty was divided by N as well: only the data term is "
                    "averaged, L = (1/N) sum_i -log p_i[y_i] + (lambda/2)(||W1||^2 + "
                    "||W2||^2).",
                ),
                (
                    (ce + reg) / N,
                    "the whole loss was divided by N twice, penalty included: average "
                    "the data term once and add (lambda/2)(||W1||^2 + ||W2||^2) "
                    "undivided.",
                ),
                (
                    ce,
                    "the L2 penalty is missing: add (reg_lambda / 2) * (sum(W1**2) + "
                    "sum(W2**2)).",
                ),
                (
                    ce + lam * sq,
                    "the L2 penalty has the wrong factor: it is reg_lambda / 2 (not "
                    "reg_lambda) times the squared norms.",
                ),
                (
                    ce + lam / 4 * sq,
                    "the L2 penalty has the wrong factor: it is reg_lambda / 2 times "
                    "the squared norms (not reg_lambda / 4 or another factor).",
                ),
                (
                    ce
                    + lam / 2 * (np.linalg.norm(params[0]) + np.linalg.norm(params[2])),
                    "the penalty takes the SQUARED weights: sum(W1**2) + sum(W2**2), "
                    "not their norms.",
                ),
                (
                    ce + lam / 2 * (sq + sq_b),
                    "the biases are not penalised: the L2 term uses W1 and W2 only.",
                ),
                (
                    lambda: -np.mean(np.log(probs)) + reg,
                    "only the probability of each example's TRUE class enters the "
                    "loss: pick probs[np.arange(N), y].",
                ),
                (
                    lambda: -np.mean(np.log(probs[:, y])) + reg,
                    "probs[:, y] selects N columns for every row (an N x N array); "
                    "pick one entry per row with probs[np.arange(N), y].",
                ),
                (
                    -ce + reg,
                    "the sign is wrong: the loss is MINUS the mean log-probability, a "
                    "positive number.",
                ),
                (
                    ce_sum / n_k + reg,
                    "you averaged over all N x K entries (e.g. np.mean of one_hot(y) "
                    "* log(probs)); the data term is the sum over the examples "
                    "divided by N only.",
                ),
            ],
        )
    passed(ex, len(cases))


# ------------------------------------------------------------------------------------
# Exercise 5.3
# ------------------------------------------------------------------------------------


def _ref_backprop(
    X,
    y,
    params,
    cache,
    act_grad,
    lam,
    *,
    scale_n=True,
    deriv="a",
    reg=1.0,
    reg_bias=False,
    db_mean=False,
    hidden_t=True,
):
    W1, b1, W2, b2 = params
    z1, a1, z2, probs = cache
    N = X.shape[0]
    delta3 = probs.copy()
    delta3[np.arange(N), y] -= 1
    if scale_n:
        delta3 /= N
    dW2 = a1.T @ delta3 + reg * lam * W2
    db2 = delta3.sum(axis=0) / (N if db_mean else 1) + (
        reg * lam * b2 if reg_bias else 0
    )
    back = delta3 @ W2.T if hidden_t else delta3 @ W2
    local = {"a": act_grad(a1), "z": act_grad(z1), "act": a1, "none": 1.0}[deriv]
    delta2 = back * local
    dW1 = X.T @ delta2 + reg * lam * W1
    db1 = delta2.sum(axis=0) / (N if db_mean else 1) + (
        reg * lam * b1 if reg_bias else 0
    )
    return dW1, db1, dW2, db2


def _backprop_cases():
    rng = np.random.default_rng(5003)
    cases = []
    for case, N, D, H, K, act_name, lam in [
        ("N = 7, D = 2, H = 3, K = 2, tanh, reg_lambda = 0", 7, 2, 3, 2, "tanh", 0.0),
        (
            "N = 6, D = 2, H = 4, K = 3, sigmoid, reg_lambda = 0.05",
            6,
            2,
            4,
            3,
            "sigmoid",
            0.05,
        ),
        (
            "N = 5, D = 3, H = 3, K = 3, tanh, reg_lambda = 0.1 (square W2)",
            5,
            3,
            3,
            3,
            "tanh",
            0.1,
        ),
        (
            "N = 8, D = 2, H = 5, K = 2, relu, reg_lambda = 0.01",
            8,
            2,
            5,
            2,
            "relu",
            0.01,
        ),
    ]:
        act, act_grad = _ACTS[act_name]
        X = rng.standard_normal((N, D))
        params = _params(rng, D, H, K)
        y = rng.integers(0, K, size=N)
        y[:K] = np.arange(K)
        cache = _ref_feedforward(X, params, act)
        cases.append((case, X, y, params, cache, act_grad, lam))
    return cases


def backprop(fn):
    """Check exercise 5.3: ``backprop(X, y, params, cache, act_grad, reg_lambda)``."""
    ex = "backprop"
    cases = _backprop_cases()
    names = ("dW1", "db1", "dW2", "db2")
    mistakes = [
        (
            dict(scale_n=False),
            "the gradients are N times too large: the loss is a MEAN over the N "
            "examples, so divide (probs - one_hot(y)) by N.",
        ),
        (
            dict(deriv="z"),
            "the derivative of the activation was evaluated at z1: act_grad takes the "
            "activation's OUTPUT, so use act_grad(a1) (f'(z1) written through a1 = "
            "f(z1)).",
        ),
        (
            dict(deriv="act"),
            "you multiplied by the activation a1 itself instead of its derivative "
            "act_grad(a1).",
        ),
        (
            dict(deriv="none"),
            "the derivative of the hidden activation is missing: delta2 = (delta3 @ "
            "W2.T) * act_grad(a1).",
        ),
        (
            dict(hidden_t=False),
            "the error is sent back through W2 without its transpose: delta2 = "
            "(delta3 @ W2.T) * f'(z1).",
        ),
        (
            dict(reg=0.0),
            "the L2 penalty's gradient is missing: add reg_lambda * W to dW (d/dW of "
            "(lambda/2)||W||^2).",
        ),
        (
            dict(reg=2.0),
            "the L2 penalty's gradient has the wrong factor: d/dW of "
            "(lambda/2)||W||^2 is lambda * W.",
        ),
        (
            dict(reg=0.5),
            "the penalty's gradient is lambda * W, not lambda/2 * W.",
        ),
        (
            dict(reg_bias=True),
            "the biases are not penalised: no reg_lambda * b term in db.",
        ),
        (
            dict(db_mean=True),
            "the bias gradient is a SUM of the deltas over the rows (the 1/N is "
            "already in delta3), not a mean.",
        ),
    ]
    for case, X, y, params, cache, act_grad, lam in cases:
        N, K = cache[3].shape
        labels = (
            "y holds class ids, shape (N,), which cannot be subtracted from the (N, "
            "K) probabilities: subtract 1 at probs[np.arange(N), y] (in a copy of "
            "probs), or build the one-hot matrix first."
        )
        spec = tuple(Array(p.shape, name) for p, name in zip(params, names))
        got, _ = run(
            ex,
            case,
            fn,
            (X, y, params, cache, act_grad, lam),
            (
                "X",
                "y",
                PARAMS,
                ("cache", ("z1", "a1", "z2", "probs")),
                "act_grad",
                "reg_lambda",
            ),
            returns=spec,
            hints=[(f"({N},{K}) ({N},)", labels), (f"({N},) ({N},{K})", labels)],
            in_place_hint="delta3 = probs does not copy: both names refer to one "
            "array, so changing delta3 changes probs, which the cache still needs. "
            "Start from delta3 = probs.copy().",
        )
        ref = _ref_backprop(X, y, params, cache, act_grad, lam)
        for i in (2, 3, 0, 1):
            zero = (
                np.zeros_like(ref[i]),
                f"{names[i]} is zero: the bias gradient is missing; it is the sum over "
                "the rows of the delta of its layer.",
            )
            compare(
                ex,
                case,
                names[i],
                got[i],
                ref[i],
                [
                    (
                        lambda kw=kw, i=i: _ref_backprop(
                            X, y, params, cache, act_grad, lam, **kw
                        )[i],
                        h,
                    )
                    for kw, h in mistakes
                ]
                + [zero] * (i % 2),
                default_hint="compare your gradient with numerical differences "
                "(nnlib.gradcheck_naive) to find which term is off.",
                atol=1e-9,
            )
    passed(ex, len(cases))
