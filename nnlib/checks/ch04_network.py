"""Check of Chapter 4's exercise: ``forward_backward_prop(data, labels, params, dimensions)``.

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

import linecache
import traceback
import warnings

import numpy as np

from ._common import expect_callable, fail, fmt, passed

__all__ = ["forward_backward_prop"]

EXERCISE = "forward_backward_prop"
BLOCKS = ("W1", "b1", "W2", "b2")


def _case(dims, m, seed):
    rng = np.random.default_rng(seed)
    dx, h, dy = dims
    X = rng.standard_normal((m, dx))
    Y = np.zeros((m, dy))
    Y[np.arange(m), rng.integers(0, dy, m)] = 1.0
    params = rng.standard_normal((dx + 1) * h + (h + 1) * dy)
    return X, Y, params


def _blocks(vec, dims):
    dx, h, dy = dims
    sizes = [dx * h, h, h * dy, dy]
    return dict(zip(BLOCKS, np.split(np.asarray(vec, dtype=float), np.cumsum(sizes)[:-1])))


def _pack(dW1, db1, dW2, db2):
    return np.concatenate([np.ravel(dW1), np.ravel(db1), np.ravel(dW2), np.ravel(db2)])


def _mistakes(X, Y, params, dims):
    """(cost, grad) that each classic mistake would return, computed independently of nnlib.network.

    Returns two dicts: cost variants and gradient variants, each name -> (value, hint).
    """
    from .. import sigmoid, softmax  # the reference versions

    dx, h, dy = dims
    M = X.shape[0]
    ofs = np.cumsum([dx * h, h, h * dy])
    W1 = params[:ofs[0]].reshape(dx, h)
    b1 = params[ofs[0]:ofs[1]]
    W2 = params[ofs[1]:ofs[2]].reshape(h, dy)
    b2 = params[ofs[2]:]
    Z1 = X @ W1 + b1
    A1 = sigmoid(Z1)
    Y_hat = softmax(A1 @ W2 + b2)
    per_row = -np.sum(Y * np.log(Y_hat), axis=1)
    d2 = (Y_hat - Y) / M
    back = d2 @ W2.T

    def grads(d2, d1, bias=np.sum):
        return _pack(X.T @ d1, bias(d1, axis=0), A1.T @ d2, bias(d2, axis=0))

    right_d1 = back * A1 * (1 - A1)
    costs = {
        "sum": (per_row.sum(), f"the cost is M = {M} times too large: average the per-example losses over "
                               "the M rows (divide the sum by M) instead of summing them."),
        "mean_all": (np.mean(Y * -np.log(Y_hat)), f"the cost is Dy = {dy} times too small: np.mean over the whole "
                                                 "(M, Dy) array divides by M*Dy; divide the sum by M only."),
        "sign": (-per_row.mean(), "the cost has the wrong sign: cross-entropy is -(1/M) sum y log(y_hat), "
                                  "a positive number."),
    }
    grads_ = {
        "no_1_over_M": (grads(d2 * M, right_d1 * M), f"every block is M = {M} times too large: "
                                                     "delta2 = (Y_hat - Y) / M carries the 1/M of the mean."),
        "sign": (-grads(d2, right_d1), "every block has the wrong sign: delta2 = Y_hat - Y (over M), not Y - Y_hat."),
        "activation": (grads(d2, back * A1), "W1 and b1 are wrong: delta1 must be multiplied elementwise by the "
                                             "derivative sigmoid_grad(A1) = A1 (1 - A1), not by the activation A1."),
        "of_z": (grads(d2, back * Z1 * (1 - Z1)), "W1 and b1 are wrong: sigmoid_grad takes the activation A1 = "
                                                  "sigmoid(Z1), not Z1; you computed Z1 (1 - Z1)."),
        "sigmoid_twice": (grads(d2, back * sigmoid(A1) * (1 - sigmoid(A1))),
                          "W1 and b1 are wrong: sigmoid was applied twice; the derivative is A1 (1 - A1) "
                          "with A1 = sigmoid(Z1)."),
        "no_derivative": (grads(d2, back), "W1 and b1 are wrong: delta1 = (delta2 W2^T) * sigmoid_grad(A1); "
                                           "the factor sigmoid_grad(A1) is missing."),
        "bias_zero": (_pack(X.T @ right_d1, np.zeros(h), A1.T @ d2, np.zeros(dy)),
                      "the bias gradients b1 and b2 are zero: db = delta summed over the rows (axis 0)."),
        "b1_zero": (_pack(X.T @ right_d1, np.zeros(h), A1.T @ d2, d2.sum(0)),
                    "the bias gradient b1 is zero: db1 = delta1 summed over the rows (axis 0)."),
        "b2_zero": (_pack(X.T @ right_d1, right_d1.sum(0), A1.T @ d2, np.zeros(dy)),
                    "the bias gradient b2 is zero: db2 = delta2 summed over the rows (axis 0)."),
        "bias_mean": (grads(d2, right_d1, bias=np.mean), f"the bias gradients are M = {M} times too small: "
                                                         "delta already carries 1/M, so sum it over the rows "
                                                         "rather than averaging."),
        "W1_transposed": (_pack((X.T @ right_d1).T, right_d1.sum(0), A1.T @ d2, d2.sum(0)),
                          "W1's gradient is transposed: dW1 = X^T delta1 has the shape (Dx, H) of W1 "
                          "(you computed delta1^T X, of shape (H, Dx))."),
        "W2_transposed": (_pack(X.T @ right_d1, right_d1.sum(0), (A1.T @ d2).T, d2.sum(0)),
                          "W2's gradient is transposed: dW2 = A1^T delta2 has the shape (H, Dy) of W2 "
                          "(you computed delta2^T A1, of shape (Dy, H))."),
        "column_major": (_pack((X.T @ right_d1).ravel(order="F"), right_d1.sum(0), (A1.T @ d2).ravel(order="F"),
                               d2.sum(0)),
                         "the weight gradients are flattened column by column: pack them row-major "
                         "(dW.ravel() or dW.flatten(), numpy's default order), like params."),
        "order_W_W_b_b": (np.concatenate([(X.T @ right_d1).ravel(), (A1.T @ d2).ravel(), right_d1.sum(0),
                                          d2.sum(0)]),
                          "the blocks are packed in the wrong order: params (and the gradient) are "
                          "W1, b1, W2, b2, in that order."),
    }
    return costs, grads_


def _shapes_text(X, dims):
    dx, h, dy = dims
    M = X.shape[0]
    return (f"here X is (M, Dx) = ({M}, {dx}), W1 ({dx}, {h}), b1 ({h},), Z1 and A1 ({M}, {h}), W2 ({h}, {dy}), "
            f"b2 ({dy},), Z2, Y_hat and delta2 ({M}, {dy}), delta1 ({M}, {h})")


def _run(fn, X, Y, params, dims, case):
    """Call the candidate on copies of the inputs; on an exception say which line of the candidate raised it."""
    args = (X.copy(), Y.copy(), params.copy(), tuple(dims))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out = fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - shown to the student
        where, line = "", ""
        code = getattr(fn, "__code__", None)
        frames = traceback.extract_tb(exc.__traceback__)
        mine = [fr for fr in frames if code is not None and fr.filename == code.co_filename]
        if mine:
            fr = mine[-1]
            line = (fr.line or linecache.getline(fr.filename, fr.lineno)).strip()
            where = f" in the line\n    {line}\n"
        text = str(exc)
        hint = None
        if isinstance(exc, ValueError) and ("matmul" in text or "aligned" in text):
            hint = (f"a matrix product A @ B needs A.shape[1] == B.shape[0]; {_shapes_text(X, dims)}. "
                    "The backward products are A1^T delta2, delta2 W2^T and X^T delta1: is a transpose "
                    "missing" + (" in that line?" if line else "?"))
        elif isinstance(exc, ValueError) and "broadcast" in text:
            hint = (f"an elementwise product or sum got arrays of different shapes; {_shapes_text(X, dims)}. "
                    "delta1 = (delta2 W2^T) * sigmoid_grad(A1) multiplies two (M, H) arrays.")
        elif isinstance(exc, ValueError) and "sigmoid_grad expects" in text:
            hint = "sigmoid_grad takes the activation A1 = sigmoid(Z1), not the pre-activation Z1."
        elif isinstance(exc, RuntimeWarning):
            hint = ("an overflow or a division by zero: use nnlib's softmax (it subtracts the row maximum) "
                    "and log of probabilities that come from softmax.")
        fail(EXERCISE, case, message=f"your function raised {type(exc).__name__}{where or ': '}{text}", hint=hint)
    for name, before, after in (("data", X, args[0]), ("labels", Y, args[1]), ("params", params, args[2])):
        if not np.array_equal(before, after):
            fail(EXERCISE, case, message=f"your function changed its input {name} in place.",
                 hint="the unpacked W1, b1, W2, b2 are views into params: do not update them in place "
                      "(no +=, -= or slice assignment on them).")
    return out


def _unpack_result(out, n_params, dims, m, case):
    if out is None:
        fail(EXERCISE, case, expected="a tuple (cost, grad)", got=None,
             hint="your function returned None: did you forget the return statement?")
    if not (isinstance(out, tuple) and len(out) == 2):
        fail(EXERCISE, case, expected="a tuple (cost, grad)", got=f"{type(out).__name__} {fmt(out, 200)}",
             hint="return the cost and the packed gradient: return cost, grad")
    cost, grad = out
    if np.size(cost) == n_params and np.size(grad) == 1:
        fail(EXERCISE, case, message="the cost and the gradient seem to be swapped.",
             hint="return them in the order (cost, grad).")
    try:
        cost_arr = np.asarray(cost, dtype=float)
    except (TypeError, ValueError):
        cost_arr = None
    if cost_arr is None or cost_arr.size != 1:
        shape = None if cost_arr is None else cost_arr.shape
        hint = ("you returned one loss per example: average them over the M rows."
                if shape and len(shape) >= 1 and shape[0] == m and m > 1 else
                "the cost is one number: the mean over the rows of -sum(y log y_hat).")
        fail(EXERCISE, case, expected="the cost as a single number", got=f"{type(cost).__name__} {fmt(cost, 200)}",
             hint=hint)
    if isinstance(grad, (list, tuple)) and len(grad) == 4:
        fail(EXERCISE, case, expected=f"one gradient vector of length {n_params}", got=f"{type(grad).__name__} of 4",
             hint="pack the four gradients into one vector in the order W1, b1, W2, b2 (each flattened "
                  "row-major), exactly like params.")
    try:
        grad_arr = np.asarray(grad, dtype=float)
    except (TypeError, ValueError):
        fail(EXERCISE, case, expected=f"a gradient vector of length {n_params}", got=f"{type(grad).__name__}")
    if grad_arr.shape != (n_params,):
        dx, h, dy = dims
        if grad_arr.size == n_params:
            hint = "flatten the packed gradient to one dimension, like params."
        else:
            hint = (f"the gradient packs W1 ({dx}x{h} = {dx * h}), b1 ({h}), W2 ({h}x{dy} = {h * dy}) and b2 ({dy}): "
                    f"{n_params} numbers. A bias gradient sums delta over the rows (axis=0), giving one "
                    "number per unit.")
        fail(EXERCISE, case, expected=f"a gradient of shape ({n_params},)", got=f"shape {grad_arr.shape}", hint=hint)
    return float(cost_arr.reshape(())), grad_arr


def _close(a, b):
    return np.allclose(a, b, rtol=1e-6, atol=1e-9)


def forward_backward_prop(fn):
    """Check a student's ``forward_backward_prop(data, labels, params, dimensions)`` (Exercise 4.1).

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

    expect_callable(EXERCISE, fn)
    cases = [((2, 3, 2), 5, 11), ((10, 5, 10), 20, 0), ((4, 6, 3), 1, 7)]
    for dims, m, seed in cases:
        X, Y, params = _case(dims, m, seed)
        case = (f"a {dims[0]}-{dims[1]}-{dims[2]} network with M = {m} example{'s' if m > 1 else ''} "
                f"(random data, seed {seed})")
        exp_cost, exp_grad = reference(X, Y, params, dims)
        cost, grad = _unpack_result(_run(fn, X, Y, params, dims, case), params.size, dims, m, case)
        costs, grads = _mistakes(X, Y, params, dims)

        if not np.isclose(cost, exp_cost, rtol=1e-6, atol=1e-9):
            hint = next((h for v, h in costs.values() if np.isclose(cost, v, rtol=1e-6, atol=1e-9)), None)
            fail(EXERCISE, case, message="the cost is wrong.", expected=exp_cost, got=cost,
                 hint=hint or "compute Y_hat = softmax(sigmoid(X W1 + b1) W2 + b2) and the cross-entropy "
                              "-(1/M) sum y log(y_hat) over all rows and classes.")

        if not _close(grad, exp_grad):
            hint = next((h for v, h in grads.values() if _close(grad, v)), None)
            got_b, exp_b = _blocks(grad, dims), _blocks(exp_grad, dims)
            wrong = [b for b in BLOCKS if not _close(got_b[b], exp_b[b])]
            if hint is None:
                if set(wrong) <= {"W1", "b1"}:
                    hint = ("W2 and b2 are right, so the mistake is in the hidden layer: delta1 = "
                            "(delta2 W2^T) * sigmoid_grad(A1), dW1 = X^T delta1, db1 = delta1 summed over rows.")
                elif set(wrong) <= {"b1", "b2"}:
                    hint = "only bias gradients are wrong: db = delta summed over the rows (axis 0)."
                elif set(wrong) == {"W2"}:
                    hint = "only W2 is wrong: dW2 = A1^T delta2, with A1 the hidden activations."
                else:
                    hint = ("start from the output: delta2 = (Y_hat - Y) / M, dW2 = A1^T delta2, db2 = delta2 "
                            "summed over rows; then check the blocks one by one.")
            b = wrong[0]
            fail(EXERCISE, case, message=f"the gradient is wrong in block{'s' if len(wrong) > 1 else ''} "
                                         f"{', '.join(wrong)} (showing {b}, flattened).",
                 expected=exp_b[b], got=got_b[b], hint=hint)
    passed(EXERCISE, len(cases))
