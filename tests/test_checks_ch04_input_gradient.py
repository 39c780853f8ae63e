"""The check of Exercise 4.2 (``input_gradient``) accepts correct work and rejects the
mistakes students make.

Each wrong implementation is a small edit of a correct one; the check must reject it
with a message that points at the mistake.
"""

import numpy as np
import pytest

import nnlib
from nnlib import checks, sigmoid, sigmoid_grad, softmax, unpack_params


def make_input_gradient(
    transpose=True,
    derivative="sigmoid_grad",
    over_n="once",
    sign=1.0,
    delta="delta1",
    rows="all",
    in_place=False,
    returns=True,
):
    """A student's input_gradient, with one classic mistake switched on."""

    def input_gradient(data, labels, params, dimensions):
        W1, b1, W2, b2 = unpack_params(params, dimensions)
        n = data.shape[0]
        Z1 = data @ W1 + b1
        A1 = sigmoid(Z1)
        Y_hat = softmax(A1 @ W2 + b2)
        delta2 = sign * (Y_hat - labels)
        if over_n in ("once", "twice"):
            delta2 = delta2 / n
        dA1 = delta2 @ W2.T
        if derivative == "sigmoid_grad":
            delta1 = dA1 * sigmoid_grad(A1)
        elif derivative == "activation":
            delta1 = dA1 * A1
        elif derivative == "of_z":
            delta1 = dA1 * Z1 * (1 - Z1)
        else:  # forgotten
            delta1 = dA1
        if in_place:
            W1 *= 1.0  # harmless value, but an in-place write into params
            W1[0, 0] += 1.0
        d = {"delta1": delta1, "delta2": delta2, "dA1": dA1}[delta]
        if rows == "sum":
            d = d.sum(axis=0)
        dX = d @ (W1.T if transpose else W1)
        if over_n == "twice":
            dX = dX / n
        return dX if returns else None

    return input_gradient


def reference_input_gradient(data, labels, params, dimensions):
    """dL/dX by finite differences of nnlib's loss, independent of the formula."""
    f = lambda X: nnlib.forward_backward_prop(X, labels, params, dimensions)[0]  # noqa: E731
    return nnlib.numerical_gradient(f, data.copy())


@pytest.mark.parametrize(
    "candidate",
    [make_input_gradient(), reference_input_gradient],
    ids=["student-correct", "finite-differences"],
)
def test_accepts_correct(candidate, capsys):
    checks.input_gradient(candidate)
    assert capsys.readouterr().out.strip() == "✓ input_gradient: all 4 checks passed"


MISTAKES = {
    "missing transpose": (
        make_input_gradient(transpose=False),
        r"ValueError.*is a transpose missing",
    ),
    "forgot the activation derivative": (
        make_input_gradient(derivative="none"),
        r"dL/dX differs from the expected value.*factor f'\(Z_1\) is missing",
    ),
    "activation instead of derivative": (
        make_input_gradient(derivative="activation"),
        r"dL/dX differs from the expected value.*not by the activation A1",
    ),
    "derivative of Z1": (
        make_input_gradient(derivative="of_z"),
        r"sigmoid_grad takes the activation A1 = sigmoid\(Z1\), not Z1",
    ),
    "no 1/N": (
        make_input_gradient(over_n="never"),
        r"N = 5 times too large",
    ),
    "1/N twice": (
        make_input_gradient(over_n="twice"),
        r"N = 5 times too small",
    ),
    "wrong sign": (
        make_input_gradient(sign=-1.0),
        r"sign is wrong",
    ),
    "wrong delta (delta2)": (
        make_input_gradient(delta="delta2"),
        r"ValueError.*transpose missing, or is the delta the wrong one",
    ),
    "summed over the rows": (
        make_input_gradient(rows="sum"),
        r"shape \(3,\).*gradient of b_1",
    ),
    "returns None": (
        make_input_gradient(returns=False),
        r"returned None",
    ),
    "modifies params": (
        make_input_gradient(in_place=True),
        r"modified params in place",
    ),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_rejects_mistake(name):
    candidate, pattern = MISTAKES[name]
    with pytest.raises(AssertionError, match=f"(?s){pattern}"):
        checks.input_gradient(candidate)


def test_square_layer_missing_transpose_is_named():
    """With D_x = H a missing transpose runs without error; the check names it."""
    from nnlib.checks import ch04_input_gradient as module
    from nnlib.checks._common import network_case

    dims, n, seed = (5, 5, 3), 4, 5
    X, Y, params = network_case(dims, n, seed)
    wrong = make_input_gradient(transpose=False)(X, Y, params, dims)
    right, mistakes = module._answers(X, Y, params, dims)
    assert not np.allclose(wrong, right)
    assert np.allclose(wrong, mistakes["no_transpose"][0])

    original = module.CASES
    module.CASES = [(dims, n, seed)]
    try:
        with pytest.raises(AssertionError, match=r"W_1 is not transposed"):
            checks.input_gradient(make_input_gradient(transpose=False))
    finally:
        module.CASES = original


def test_rejects_a_non_function():
    with pytest.raises(TypeError, match="expects the function you wrote"):
        checks.input_gradient(np.zeros(3))
