"""Check of Exercise 4.2: ``input_gradient(data, labels, params, dimensions)``.

The candidate returns the gradient of the loss with respect to the inputs,
``dL/dX = delta_1 W_1^T`` of shape ``(N, D_x)``, for the one-hidden-layer network
of the chapter (sigmoid hidden layer, softmax output, cross-entropy averaged over
the N rows). It is compared with an independent computation on seeded random
networks: a 3-4-2 network with N = 5 (N, D_x, H and K all differ, so a missing
transpose is a shape error), a 5-5-3 network with N = 4 (D_x = H, so a missing
transpose is a silent wrong answer), the 10-5-10 network of the chapter with
N = 20, and a single example (N = 1).

When the answer disagrees, the message compares it with what the classic
mistakes would have produced (the activation derivative forgotten, the
activation in place of its derivative, the derivative taken of Z_1, W_1 not
transposed, a missing or doubled 1/N, the wrong sign) and names the one that
fits.
"""

from __future__ import annotations

import numpy as np

from ._common import Array, compare, network_case, network_shapes, passed, run

__all__ = ["input_gradient"]

EXERCISE = "input_gradient"

# (dimensions (D_x, H, K), N, seed)
CASES = [((3, 4, 2), 5, 3), ((5, 5, 3), 4, 5), ((10, 5, 10), 20, 0), ((4, 6, 3), 1, 7)]


def _unpack(params, dims):
    dx, h, k = dims
    ofs = np.cumsum([dx * h, h, h * k])
    W1 = params[: ofs[0]].reshape(dx, h)
    b1 = params[ofs[0] : ofs[1]]
    W2 = params[ofs[1] : ofs[2]].reshape(h, k)
    b2 = params[ofs[2] :]
    return W1, b1, W2, b2


def _answers(X, Y, params, dims):
    """The right dL/dX and what each classic mistake returns: name -> (value, hint)."""
    W1, b1, W2, b2 = _unpack(params, dims)
    n = X.shape[0]
    Z1 = X @ W1 + b1
    A1 = 1.0 / (1.0 + np.exp(-Z1))
    Z2 = A1 @ W2 + b2
    E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    Y_hat = E / E.sum(axis=1, keepdims=True)
    delta2 = (Y_hat - Y) / n
    dA1 = delta2 @ W2.T
    delta1 = dA1 * A1 * (1.0 - A1)
    right = delta1 @ W1.T
    mistakes = {
        "no_derivative": (
            dA1 @ W1.T,
            "the factor f'(Z_1) is missing: delta_1 = (delta_2 W_2^T) * "
            "sigmoid_grad(A1), the gradient with respect to Z_1, not A_1.",
        ),
        "activation": (
            (dA1 * A1) @ W1.T,
            "delta_1 must be multiplied elementwise by the derivative "
            "sigmoid_grad(A1) = A1 (1 - A1), not by the activation A1.",
        ),
        "of_z": (
            (dA1 * Z1 * (1.0 - Z1)) @ W1.T,
            "sigmoid_grad takes the activation A1 = sigmoid(Z1), not Z1; "
            "you computed Z1 (1 - Z1).",
        ),
        "no_transpose": (
            (delta1 @ W1) if dims[0] == dims[1] else None,
            "W_1 is not transposed: dL/dX = delta_1 W_1^T, an (N, H) times (H, D_x) "
            "product (you used delta_1 W_1).",
        ),
        "no_1_over_N": (
            right * n,
            f"the answer is N = {n} times too large: delta_2 = (Y_hat - Y) / N carries "
            "the 1/N of the mean loss.",
        ),
        "twice_1_over_N": (
            right / n,
            f"the answer is N = {n} times too small: divide by N once, in delta_2, "
            "not again at the end.",
        ),
        "sign": (
            -right,
            "the sign is wrong: delta_2 = (Y_hat - Y) / N, not (Y - Y_hat) / N.",
        ),
    }
    return right, mistakes


def _call(fn, X, Y, params, dims, case):
    """The candidate's dL/dX through the checks' runner, with hints for its shapes."""
    n, (d_x, h, _) = X.shape[0], dims
    matmul = (
        f"a product A @ B needs A.shape[1] == B.shape[0]; {network_shapes(X, dims)}. "
        "dL/dX = delta1 @ W1.T: is a transpose missing, or is the delta the wrong one?"
    )
    hints = [
        ("matmul", matmul),
        ("aligned", matmul),
        (
            "broadcast",
            "an elementwise product got arrays of different shapes; "
            f"{network_shapes(X, dims)}. delta1 = (delta2 @ W2.T) * sigmoid_grad(A1) "
            "multiplies two (N, H) arrays.",
        ),
        (
            "sigmoid_grad expects",
            "sigmoid_grad takes the activation A1 = sigmoid(Z1), not Z1.",
        ),
    ]
    base = (
        "dL/dX has the shape (N, D_x) of X: one row per example, one column per input."
    )
    shape_mistakes = (
        (
            (d_x,),
            base + " Did you sum delta_1 over the rows (that is the gradient of b_1)?",
        ),
        (
            (1, d_x),
            base + " Did you sum delta_1 over the rows (that is the gradient of b_1)?",
        ),
        ((n, h), base + " You returned an (N, H) array: multiply delta_1 by W_1^T."),
    )
    out, _ = run(
        EXERCISE,
        case,
        fn,
        (X, Y, params, tuple(dims)),
        ("data", "labels", "params", "dimensions"),
        returns=Array((n, d_x), "dL/dX", shape_mistakes),
        hints=hints,
        in_place_hints={
            "params": "W1, b1, W2, b2 from unpack_params are views into params: "
            "do not update them in place."
        },
    )
    return out


def input_gradient(fn):
    """Check a student's ``input_gradient(data, labels, params, dimensions)``.

    Parameters
    ----------
    fn : callable
        ``fn(X, Y, params, dimensions)`` with X of shape (N, D_x), Y one-hot (N, K),
        params packed as W1, b1, W2, b2 and dimensions = (D_x, H, K); returns
        dL/dX of shape (N, D_x).

    Raises
    ------
    AssertionError
        Naming the case, the expected and received values and the mistake that
        fits, if one does.
    """
    for dims, n, seed in CASES:
        X, Y, params = network_case(dims, n, seed)
        case = (
            f"a {dims[0]}-{dims[1]}-{dims[2]} network with N = {n} "
            f"example{'s' if n > 1 else ''} (random data, seed {seed})"
        )
        right, mistakes = _answers(X, Y, params, dims)
        got = _call(fn, X, Y, params, dims, case)
        compare(
            EXERCISE,
            case,
            "dL/dX",
            got,
            right,
            [(value, hint) for value, hint in mistakes.values()],
            default_hint="compute the forward pass, delta_2 = (Y_hat - Y) / N, "
            "delta_1 = (delta_2 W_2^T) * sigmoid_grad(A1), and return delta_1 W_1^T.",
            rtol=1e-6,
            atol=1e-10,
        )
    passed(EXERCISE, len(CASES))
