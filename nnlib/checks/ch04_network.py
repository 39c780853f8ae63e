"""Check of Chapter 4: ``forward_backward_prop(data, labels, params, dimensions)``.

The candidate's cost and packed gradient are compared with
:func:`nnlib.forward_backward_prop` on seeded random networks: a tiny 2-3-2
network with M = 5 (every one of M, Dx, H differs, so a missing transpose is a
shape error rather than a silent wrong answer), the 10-5-10 network with
M = 20 of the chapter, and a single example (M = 1).

When something disagrees the message says which block (W1, b1, W2, b2) is
wrong, and compares the answer with what the classic mistakes would have
produced (a sum instead of a mean, a missing 1/M, the activation in place of
its derivative, the derivative taken of Z1, a zero bias gradient, a transposed
block, the wrong packing order) to name the one that fits.
"""

from __future__ import annotations

import numpy as np

from ._common import (
    Array,
    close,
    compare,
    fail,
    first_match,
    network_case,
    network_shapes,
    passed,
    returned,
    run,
)

__all__ = ["forward_backward_prop"]

EXERCISE = "forward_backward_prop"
BLOCKS = ("W1", "b1", "W2", "b2")


def _blocks(vec, dims):
    dx, h, dy = dims
    sizes = [dx * h, h, h * dy, dy]
    return dict(
        zip(
            BLOCKS,
            np.split(np.asarray(vec, dtype=float), np.cumsum(sizes)[:-1]),
            strict=True,
        )
    )


def _pack(dW1, db1, dW2, db2):
    return np.concatenate([np.ravel(dW1), np.ravel(db1), np.ravel(dW2), np.ravel(db2)])


def _mistakes(X, Y, params, dims):
    """(cost, grad) of each classic mistake, computed independently of nnlib.network.

    Returns two lists of ``(value, hint)``: for the cost, and for the packed gradient.
    """
    from .. import sigmoid, softmax  # the reference versions

    dx, h, dy = dims
    M = X.shape[0]
    ofs = np.cumsum([dx * h, h, h * dy])
    W1 = params[: ofs[0]].reshape(dx, h)
    b1 = params[ofs[0] : ofs[1]]
    W2 = params[ofs[1] : ofs[2]].reshape(h, dy)
    b2 = params[ofs[2] :]
    Z1 = X @ W1 + b1
    A1 = sigmoid(Z1)
    Y_hat = softmax(A1 @ W2 + b2)
    per_row = -np.sum(Y * np.log(Y_hat), axis=1)
    d2 = (Y_hat - Y) / M
    back = d2 @ W2.T

    def grads(d2, d1, bias=np.sum):
        return _pack(X.T @ d1, bias(d1, axis=0), A1.T @ d2, bias(d2, axis=0))

    right_d1 = back * A1 * (1 - A1)
    costs = [
        (
            per_row.sum(),
            f"the cost is M = {M} times too large: average the per-example losses over "
            "the M rows (divide the sum by M) instead of summing them.",
        ),
        (
            np.mean(Y * -np.log(Y_hat)),
            f"the cost is Dy = {dy} times too small: np.mean over the whole (M, Dy) "
            "array divides by M*Dy; divide the sum by M only.",
        ),
        (
            -per_row.mean(),
            "the cost has the wrong sign: cross-entropy is -(1/M) sum y log(y_hat), a "
            "positive number.",
        ),
    ]
    grads_ = [
        (
            grads(d2 * M, right_d1 * M),
            f"every block is M = {M} times too large: delta2 = (Y_hat - Y) / M carries "
            "the 1/M of the mean.",
        ),
        (
            -grads(d2, right_d1),
            "every block has the wrong sign: delta2 = Y_hat - Y (over M), not Y - "
            "Y_hat.",
        ),
        (
            grads(d2, back * A1),
            "W1 and b1 are wrong: delta1 must be multiplied elementwise by the "
            "derivative sigmoid_grad(A1) = A1 (1 - A1), not by the activation A1.",
        ),
        (
            grads(d2, back * Z1 * (1 - Z1)),
            "W1 and b1 are wrong: sigmoid_grad takes the activation A1 = sigmoid(Z1), "
            "not Z1; you computed Z1 (1 - Z1).",
        ),
        (
            grads(d2, back * sigmoid(A1) * (1 - sigmoid(A1))),
            "W1 and b1 are wrong: sigmoid was applied twice; the derivative is A1 (1 "
            "- A1) with A1 = sigmoid(Z1).",
        ),
        (
            grads(d2, back),
            "W1 and b1 are wrong: delta1 = (delta2 W2^T) * sigmoid_grad(A1); the "
            "factor sigmoid_grad(A1) is missing.",
        ),
        (
            _pack(X.T @ right_d1, np.zeros(h), A1.T @ d2, np.zeros(dy)),
            "the bias gradients b1 and b2 are zero: db = delta summed over the rows "
            "(axis 0).",
        ),
        (
            _pack(X.T @ right_d1, np.zeros(h), A1.T @ d2, d2.sum(0)),
            "the bias gradient b1 is zero: db1 = delta1 summed over the rows (axis 0).",
        ),
        (
            _pack(X.T @ right_d1, right_d1.sum(0), A1.T @ d2, np.zeros(dy)),
            "the bias gradient b2 is zero: db2 = delta2 summed over the rows (axis 0).",
        ),
        (
            grads(d2, right_d1, bias=np.mean),
            f"the bias gradients are M = {M} times too small: delta already carries "
            "1/M, so sum it over the rows rather than averaging.",
        ),
        (
            _pack((X.T @ right_d1).T, right_d1.sum(0), A1.T @ d2, d2.sum(0)),
            "W1's gradient is transposed: dW1 = X^T delta1 has the shape (Dx, H) of "
            "W1 (you computed delta1^T X, of shape (H, Dx)).",
        ),
        (
            _pack(X.T @ right_d1, right_d1.sum(0), (A1.T @ d2).T, d2.sum(0)),
            "W2's gradient is transposed: dW2 = A1^T delta2 has the shape (H, Dy) of "
            "W2 (you computed delta2^T A1, of shape (Dy, H)).",
        ),
        (
            _pack(
                (X.T @ right_d1).ravel(order="F"),
                right_d1.sum(0),
                (A1.T @ d2).ravel(order="F"),
                d2.sum(0),
            ),
            "the weight gradients are flattened column by column: pack them row-major "
            "(dW.ravel() or dW.flatten(), numpy's default order), like params.",
        ),
        (
            np.concatenate(
                [
                    (X.T @ right_d1).ravel(),
                    (A1.T @ d2).ravel(),
                    right_d1.sum(0),
                    d2.sum(0),
                ]
            ),
            "the blocks are packed in the wrong order: params (and the gradient) are "
            "W1, b1, W2, b2, in that order.",
        ),
    ]
    return costs, grads_


def _run(fn, X, Y, params, dims, case):
    """The candidate's (cost, grad), through the runner, with hints for its shapes."""
    shapes = network_shapes(X, dims)
    matmul = (
        f"a matrix product A @ B needs A.shape[1] == B.shape[0]; {shapes}. The "
        "backward products are A1^T delta2, delta2 W2^T and X^T delta1: is a "
        "transpose missing in that line?"
    )
    hints = [
        ("matmul", matmul),
        ("aligned", matmul),
        (
            "broadcast",
            f"an elementwise product or sum got arrays of different shapes; {shapes}. "
            "delta1 = (delta2 W2^T) * sigmoid_grad(A1) multiplies two (N, H) arrays.",
        ),
        (
            "sigmoid_grad expects",
            "sigmoid_grad takes the activation A1 = sigmoid(Z1), not the "
            "pre-activation Z1.",
        ),
        (
            "RuntimeWarning",
            "an overflow or a division by zero: use nnlib's softmax (it subtracts the "
            "row maximum) and log of probabilities that come from softmax.",
        ),
    ]
    out, _ = run(
        EXERCISE,
        case,
        fn,
        (X, Y, params, tuple(dims)),
        ("data", "labels", "params", "dimensions"),
        hints=hints,
        in_place_hints={
            "params": (
                "the unpacked W1, b1, W2, b2 are views into params: do not update "
                "them in place (no +=, -= or slice assignment on them)."
            )
        },
    )
    if not (isinstance(out, tuple) and len(out) == 2):
        fail(
            EXERCISE,
            case,
            expected="a tuple (cost, grad)",
            got=out,
            hint="return the cost and the packed gradient: return cost, grad",
        )
    cost, grad = out
    n, m = params.size, X.shape[0]
    if np.size(cost) == n and np.size(grad) == 1:
        fail(
            EXERCISE,
            case,
            "the cost and the gradient seem to be swapped.",
            hint="return them in the order (cost, grad).",
        )
    if isinstance(grad, (list, tuple)) and len(grad) == 4:
        fail(
            EXERCISE,
            case,
            f"the gradient is a {type(grad).__name__} of 4 arrays; expected one vector "
            f"of length {n}.",
            hint=(
                "pack the four gradients into one vector in the order W1, b1, W2, b2 "
                "(each flattened row-major), exactly like params."
            ),
        )
    dx, h, dy = dims
    packing = (
        "flatten the packed gradient to one dimension, like params."
        if np.size(grad) == n
        else f"the gradient packs W1 ({dx}x{h} = {dx * h}), b1 ({h}), W2 ({h}x{dy} = "
        f"{h * dy}) and b2 ({dy}): {n} numbers. A bias gradient sums delta over the "
        "rows (axis=0), giving one number per unit."
    )
    spec = (
        Array(
            (),
            "the cost",
            [
                (
                    (m,),
                    "you returned one loss per example: average them over the M rows.",
                )
            ],
        ),
        Array((n,), "the gradient", [(np.shape(grad), packing)]),
    )
    return returned(EXERCISE, case, out, spec)


def forward_backward_prop(fn):
    """Check Exercise 4.1: ``forward_backward_prop(data, labels, params, dimensions)``.

    Parameters
    ----------
    fn : callable
        Returns ``(cost, grad)`` for the one-hidden-layer network, ``grad``
        packed like ``params`` (W1, b1, W2, b2).

    Raises
    ------
    AssertionError
        Naming the case, the wrong block(s), expected and received values, and
        the classic mistake that fits, if one does.
    """
    from .. import forward_backward_prop as reference

    cases = [((2, 3, 2), 5, 11), ((10, 5, 10), 20, 0), ((4, 6, 3), 1, 7)]
    for dims, m, seed in cases:
        X, Y, params = network_case(dims, m, seed)
        case = (
            f"a {dims[0]}-{dims[1]}-{dims[2]} network with M = {m} "
            f"example{'s' if m > 1 else ''} (random data, seed {seed})"
        )
        exp_cost, exp_grad = reference(X, Y, params, dims)
        cost, grad = _run(fn, X, Y, params, dims, case)
        costs, grads = _mistakes(X, Y, params, dims)
        compare(
            EXERCISE,
            case,
            "the cost",
            cost,
            exp_cost,
            costs,
            atol=1e-9,
            default_hint=(
                "compute Y_hat = softmax(sigmoid(X W1 + b1) W2 + b2) and the "
                "cross-entropy -(1/M) sum y log(y_hat) over all rows and classes."
            ),
        )
        if close(grad, exp_grad, atol=1e-9):
            continue
        got_b, exp_b = _blocks(grad, dims), _blocks(exp_grad, dims)
        wrong = [b for b in BLOCKS if not close(got_b[b], exp_b[b], atol=1e-9)]
        hint = first_match(grad, grads, atol=1e-9) or first_match(
            None,
            [
                (
                    set(wrong) <= {"W1", "b1"},
                    "W2 and b2 are right, so the mistake is in the hidden layer: "
                    "delta1 = (delta2 W2^T) * sigmoid_grad(A1), dW1 = X^T delta1, db1 "
                    "= delta1 summed over rows.",
                ),
                (
                    set(wrong) <= {"b1", "b2"},
                    "only bias gradients are wrong: db = delta summed over the rows "
                    "(axis 0).",
                ),
                (
                    set(wrong) == {"W2"},
                    "only W2 is wrong: dW2 = A1^T delta2, with A1 the hidden "
                    "activations.",
                ),
                (
                    True,
                    "start from the output: delta2 = (Y_hat - Y) / M, dW2 = A1^T "
                    "delta2, db2 = delta2 summed over rows; then check the blocks one "
                    "by one.",
                ),
            ],
        )
        fail(
            EXERCISE,
            case,
            f"the gradient is wrong in block{'s' if len(wrong) > 1 else ''} "
            f"{', '.join(wrong)} (showing {wrong[0]}, flattened).",
            expected=exp_b[wrong[0]],
            got=got_b[wrong[0]],
            hint=hint,
        )
    passed(EXERCISE, len(cases))
