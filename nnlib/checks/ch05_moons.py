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

from functools import partial

import numpy as np

from ..activations import relu, sigmoid, tanh
from ..losses import softmax
from ._common import Array, compare, passed, run, variants

__all__ = ["feedforward", "calculate_loss", "backprop"]

#: derivatives that take the activation's output, like nnlib's, without its input
#: checks: at the wrong quantity they give a wrong number (that a hint recognises)
_ACTS = {
    "tanh": (tanh, lambda a: 1.0 - a * a),
    "sigmoid": (sigmoid, lambda a: a * (1.0 - a)),
    "relu": (relu, lambda a: (a > 0).astype(float)),
}
PARAMS = ("params", ("W1", "b1", "W2", "b2"))
GRADS = ("dW1", "db1", "dW2", "db2")


def _network(rng, n, d, h, k):
    """X (n, d), params of a d-h-k network and labels y (n,) with every class."""
    params = (
        rng.standard_normal((d, h)),
        0.5 * rng.standard_normal(h),
        rng.standard_normal((h, k)),
        0.5 * rng.standard_normal(k),
    )
    y = rng.integers(0, k, size=n)
    y[:k] = np.arange(k)
    return rng.standard_normal((n, d)), params, y


def _ref_feedforward(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    return z1, a1, z2, softmax(z2)


# ------------------------------------------------------------------------ Exercise 5.1


def feedforward(fn):
    """Check exercise 5.1: ``feedforward(X, params, act) -> (z1, a1, z2, probs)``."""
    rng = np.random.default_rng(5001)
    cases = [(5, 2, 3, 2, "tanh", ""), (3, 3, 3, 3, "sigmoid", " (square shapes)")]
    cases += [
        (6, 2, 4, 2, "relu", ""),
        (4, 2, 3, 2, "tanh", ", scores in the hundreds"),
    ]
    for n, d, h, k, act, note in cases:
        X, params, _ = _network(rng, n, d, h, k)
        if note.startswith(
            ", scores"
        ):  # a softmax without the max subtracted overflows
            params = (*params[:2], 400.0 * np.abs(params[2]) + 300.0, params[3])
        case = f"X of shape ({n}, {d}), H = {h}, K = {k}, {act}{note}"
        _feedforward_case(fn, case, X, params, _ACTS[act][0])
    passed("feedforward", len(cases))


def _feedforward_case(fn, case, X, params, act):
    ex = "feedforward"
    W1, b1, W2, b2 = params
    N, H, K = X.shape[0], W1.shape[1], W2.shape[1]
    keepdims = (
        f"({N},{K}) ({N},)",
        "the row sums of the softmax lost their second axis: an (N,) vector does not "
        "broadcast against (N, K); sum with keepdims=True (or use nnlib.softmax).",
    )
    overflow = (
        "overflow",
        "np.exp of large scores overflows (inf / inf = nan): subtract each row's "
        "maximum before exponentiating, or use nnlib.softmax.",
    )
    rows = "z1 has one row per example: X (N, D) @ W1 (D, H) has shape (N, H)."
    spec = (
        Array((N, H), "z1", [((H, N), rows)]),
        Array((N, H), "a1"),
        Array((N, K), "z2"),
        Array((N, K), "probs"),
    )
    names = ("X", PARAMS, "act")
    got, _ = run(
        ex, case, fn, (X, params, act), names, returns=spec, hints=[keepdims, overflow]
    )
    z1, a1, z2, probs = _ref_feedforward(X, params, act)
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    mistakes = {
        "z1": [
            (
                lambda: X * W1 + b1,
                "X * W1 is an elementwise product; the hidden pre-activation is the "
                "matrix product X @ W1 + b1.",
            ),
            (X @ W1, "the bias b1 is missing: z1 = X @ W1 + b1."),
            (
                act(z1),
                "did you apply the activation already? z1 is the pre-activation X @ "
                "W1 + b1; a1 = act(z1).",
            ),
        ],
        "a1": [
            (z1, "a1 equals z1: the activation is missing, a1 = act(z1)."),
            (
                act(X @ W1),
                "a1 is the activation of X @ W1 without the bias; apply act to z1 = X "
                "@ W1 + b1.",
            ),
        ],
        "z2": [
            (
                z1 @ W2 + b2,
                "z2 is computed from z1; the output layer takes the activation: z2 = "
                "a1 @ W2 + b2.",
            ),
            (a1 @ W2, "the bias b2 is missing: z2 = a1 @ W2 + b2."),
            (
                lambda: a1 * W2 + b2,
                "a1 * W2 is an elementwise product; z2 = a1 @ W2 + b2 is a matrix "
                "product.",
            ),
            (probs, "z2 is the output scores, before the softmax."),
        ],
        "probs": [
            (
                softmax(z2.T).T,
                "the softmax was taken over the wrong axis: each ROW (one example) "
                "must sum to 1, use axis=1 (or axis=-1) with keepdims=True.",
            ),
            (
                softmax(act(z2)),
                "the activation was applied to the output scores as well; probs = "
                "softmax(z2) directly.",
            ),
            (z2, "probs are the scores z2 without the softmax."),
            (
                lambda: e / e.sum(axis=1),
                "the row sums of the softmax lost their second axis (here N = K, so "
                "the division broadcast silently along the wrong axis): sum with "
                "keepdims=True.",
            ),
            (
                not np.allclose(got[3].sum(axis=1), 1.0),
                "the rows of probs must sum to 1.",
            ),
        ],
    }
    for name, mine, want in zip(mistakes, got, (z1, a1, z2, probs), strict=True):
        compare(ex, case, name, mine, want, mistakes[name])


# ------------------------------------------------------------------------ Exercise 5.2


def calculate_loss(fn):
    """Check exercise 5.2: ``calculate_loss(probs, y, params, reg_lambda) -> float``."""
    rng = np.random.default_rng(5002)
    cases = [(6, 2, 0.0), (5, 3, 0.1), (8, 2, 0.01)]
    for n, k, lam in cases:
        _, params, y = _network(rng, n, 2, 3, k)
        probs = softmax(2 * rng.standard_normal((n, k)))
        case = f"N = {n} examples, K = {k} classes, reg_lambda = {lam}"
        _loss_case(fn, case, probs, y, params, lam)
    passed("calculate_loss", len(cases))


def _loss_case(fn, case, probs, y, params, lam):
    ex = "calculate_loss"
    names = ("probs", "y", PARAMS, "reg_lambda")
    got, _ = run(
        ex, case, fn, (probs, y, params, lam), names, returns=Array((), "the loss")
    )
    W1, b1, W2, b2 = params
    N, K = probs.shape
    ce_sum = -np.sum(np.log(probs[np.arange(N), y]))
    sq, sq_b = np.sum(W1**2) + np.sum(W2**2), np.sum(b1**2) + np.sum(b2**2)
    ce, reg = ce_sum / N, lam / 2 * sq
    compare(
        ex,
        case,
        "the loss",
        got,
        ce + reg,
        [
            (
                ce_sum + reg,
                "the data term is a sum: divide the cross-entropy by N once (the mean "
                "over the examples).",
            ),
            (
                ce / N + reg,
                "the data term was divided by N twice: it is the mean -(1/N) sum_i "
                "log p_i[y_i], one division.",
            ),
            (
                (ce_sum + reg) / N,
                "the L2 penalty was divided by N as well: only the data term is "
                "averaged, L = (1/N) sum_i -log p_i[y_i] + (lambda/2)(||W1||^2 + "
                "||W2||^2).",
            ),
            (
                (ce + reg) / N,
                "the whole loss was divided by N twice, penalty included: average the "
                "data term once and add (lambda/2)(||W1||^2 + ||W2||^2) undivided.",
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
                "the L2 penalty has the wrong factor: it is reg_lambda / 2 times the "
                "squared norms (not reg_lambda / 4 or another factor).",
            ),
            (
                ce + lam / 2 * (np.linalg.norm(W1) + np.linalg.norm(W2)),
                "the penalty takes the SQUARED weights: sum(W1**2) + sum(W2**2), not "
                "their norms.",
            ),
            (
                ce + lam / 2 * (sq + sq_b),
                "the biases are not penalised: the L2 term uses W1 and W2 only.",
            ),
            (
                -np.mean(np.log(probs)) + reg,
                "only the probability of each example's TRUE class enters the loss: "
                "pick probs[np.arange(N), y].",
            ),
            (
                -np.mean(np.log(probs[:, y])) + reg,
                "probs[:, y] selects N columns for every row (an N x N array); pick "
                "one entry per row with probs[np.arange(N), y].",
            ),
            (
                -ce + reg,
                "the sign is wrong: the loss is MINUS the mean log-probability, a "
                "positive number.",
            ),
            (
                ce_sum / (N * K) + reg,
                "you averaged over all N x K entries (e.g. np.mean of one_hot(y) * "
                "log(probs)); the data term is the sum over the examples divided by N "
                "only.",
            ),
        ],
    )


# ------------------------------------------------------------------------ Exercise 5.3


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
    """The reference gradients, or those of the mistake the keywords describe."""
    W1, b1, W2, b2 = params
    z1, a1, z2, probs = cache
    N = X.shape[0]
    delta3 = probs.copy()
    delta3[np.arange(N), y] -= 1
    delta3 /= N if scale_n else 1
    back = delta3 @ W2.T if hidden_t else delta3 @ W2
    local = {"a": act_grad(a1), "z": act_grad(z1), "act": a1, "none": 1.0}[deriv]
    delta2 = back * local
    db1, db2 = delta2.sum(axis=0), delta3.sum(axis=0)
    if db_mean:
        db1, db2 = db1 / N, db2 / N
    if reg_bias:
        db1, db2 = db1 + lam * b1, db2 + lam * b2
    return X.T @ delta2 + reg * lam * W1, db1, a1.T @ delta3 + reg * lam * W2, db2


MISTAKES = [
    (
        dict(scale_n=False),
        "the gradients are N times too large: the loss is a MEAN over the N examples, "
        "so divide (probs - one_hot(y)) by N.",
    ),
    (
        dict(deriv="z"),
        "the derivative of the activation was evaluated at z1: act_grad takes the "
        "activation's OUTPUT, so use act_grad(a1) (f'(z1) written through a1 = f(z1)).",
    ),
    (
        dict(deriv="act"),
        "you multiplied by the activation a1 itself instead of its derivative "
        "act_grad(a1).",
    ),
    (
        dict(deriv="none"),
        "the derivative of the hidden activation is missing: delta2 = (delta3 @ W2.T) "
        "* act_grad(a1).",
    ),
    (
        dict(hidden_t=False),
        "the error is sent back through W2 without its transpose: delta2 = (delta3 @ "
        "W2.T) * f'(z1).",
    ),
    (
        dict(reg=0.0),
        "the L2 penalty's gradient is missing: add reg_lambda * W to dW (d/dW of "
        "(lambda/2)||W||^2).",
    ),
    (
        dict(reg=2.0),
        "the L2 penalty's gradient has the wrong factor: d/dW of (lambda/2)||W||^2 is "
        "lambda * W.",
    ),
    (dict(reg=0.5), "the penalty's gradient is lambda * W, not lambda/2 * W."),
    (
        dict(reg_bias=True),
        "the biases are not penalised: no reg_lambda * b term in db.",
    ),
    (
        dict(db_mean=True),
        "the bias gradient is a SUM of the deltas over the rows (the 1/N is already "
        "in delta3), not a mean.",
    ),
]


def backprop(fn):
    """Check exercise 5.3: ``backprop(X, y, params, cache, act_grad, reg_lambda)``."""
    rng = np.random.default_rng(5003)
    cases = [(7, 2, 3, 2, "tanh", 0.0, ""), (6, 2, 4, 3, "sigmoid", 0.05, "")]
    cases += [(5, 3, 3, 3, "tanh", 0.1, " (square W2)"), (8, 2, 5, 2, "relu", 0.01, "")]
    for n, d, h, k, act, lam, note in cases:
        X, params, y = _network(rng, n, d, h, k)
        cache = _ref_feedforward(X, params, _ACTS[act][0])
        case = f"N = {n}, D = {d}, H = {h}, K = {k}, {act}, reg_lambda = {lam}{note}"
        _backprop_case(fn, case, X, y, params, cache, _ACTS[act][1], lam)
    passed("backprop", len(cases))


def _backprop_case(fn, case, X, y, params, cache, act_grad, lam):
    ex = "backprop"
    N, K = cache[3].shape
    labels = (
        "y holds class ids, shape (N,), which cannot be subtracted from the (N, K) "
        "probabilities: subtract 1 at probs[np.arange(N), y] (in a copy of probs), or "
        "build the one-hot matrix first."
    )
    got, _ = run(
        ex,
        case,
        fn,
        (X, y, params, cache, act_grad, lam),
        ("X", "y", PARAMS, ("cache", ("z1", "a1", "z2", "probs")), "act_grad", "lam"),
        returns=tuple(
            Array(p.shape, name) for p, name in zip(params, GRADS, strict=True)
        ),
        hints=[(f"({N},{K}) ({N},)", labels), (f"({N},) ({N},{K})", labels)],
        in_place_hints={
            "probs": "delta3 = probs does not copy: both names refer to one array, "
            "so changing delta3 changes probs, which the cache still needs. Start "
            "from delta3 = probs.copy()."
        },
    )
    formula = partial(_ref_backprop, X, y, params, cache, act_grad, lam)
    want = formula()
    for i in (2, 3, 0, 1):
        zero = (
            np.zeros_like(want[i]) if i % 2 else None,
            f"{GRADS[i]} is zero: the bias gradient is missing; it is the sum over the "
            "rows of the delta of its layer.",
        )
        compare(
            ex,
            case,
            GRADS[i],
            got[i],
            want[i],
            [*variants(formula, MISTAKES, i), zero],
            default_hint="compare your gradient with numerical differences "
            "(nnlib.gradcheck_naive) to find which term is off.",
            atol=1e-9,
        )
