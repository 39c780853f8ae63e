"""The checks of Chapters 3 and 4 accept correct work and reject students' mistakes.

Every wrong implementation below is a small edit of a correct one, the kind of
slip a student makes; each must be rejected by its check with a message that
points at the mistake.
"""

import random

import numpy as np
import pytest

import nnlib
from nnlib import checks, sigmoid, sigmoid_grad, softmax, unpack_params


# ============================================================================ Chapter 3
def make_gradcheck(
    one_sided=False,
    restore_random=True,
    restore_x=True,
    h=1e-4,
    floor=True,
    relative=True,
    tol=1e-5,
    return_inside_loop=False,
    returns="bool",
    prints=True,
    divide_by=None,
    sign=1,
):
    """A student's gradient checker, with one of the classic mistakes switched on."""

    def gradcheck(f, x):
        state = random.getstate()
        random.setstate(state)
        fx, grad = f(x)
        it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            ix = it.multi_index
            old = x[ix]
            x[ix] = old + h
            if restore_random:
                random.setstate(state)
            fplus = f(x)[0]
            if one_sided:
                numgrad = (fplus - fx) / h
            else:
                x[ix] = old - h
                if restore_random:
                    random.setstate(state)
                numgrad = (
                    sign
                    * (fplus - f(x)[0])
                    / (2 * h if divide_by is None else divide_by(h))
                )
            if restore_x:
                x[ix] = old
            diff = abs(numgrad - grad[ix])
            if relative:
                diff = diff / (
                    max(1, abs(numgrad), abs(grad[ix]))
                    if floor
                    else max(abs(numgrad), abs(grad[ix]))
                )
            if diff > tol:
                if prints:
                    print("Gradient check failed.")
                    print(f"First gradient error found at index {ix}")
                    print(
                        f"Your gradient: {grad[ix]:f} \t "
                        f"Numerical gradient: {numgrad:f}"
                    )
                return (
                    None
                    if returns == "none"
                    else (diff if returns == "number" else False)
                )
            if return_inside_loop:  # the last two lines indented into the loop
                print("Gradient check passed!")
                return True
            it.iternext()
        if prints:
            print("Gradient check passed!")
        if returns == "none":
            return None
        return 0.0 if returns == "number" else True

    return gradcheck


def cs231n_style(f, x):
    """A correct checker that shifts x in place and back (x may be off by round-off)."""
    state = random.getstate()
    random.setstate(state)
    fx, grad = f(x)
    for ix in np.ndindex(x.shape):
        x[ix] += 1e-4
        random.setstate(state)
        fp, _ = f(x)
        x[ix] -= 2e-4
        random.setstate(state)
        fm, _ = f(x)
        x[ix] += 1e-4
        num = (fp - fm) / 2e-4
        if abs(num - grad[ix]) / max(1.0, abs(num), abs(grad[ix])) > 1e-5:
            print(
                "Gradient check failed at", ix, "analytic", grad[ix], "numerical", num
            )
            return False
    print("Gradient check passed!")
    return True


@pytest.mark.parametrize(
    "candidate",
    [nnlib.gradcheck_naive, make_gradcheck(), cs231n_style],
    ids=["nnlib", "student-correct", "cs231n-style"],
)
def test_gradcheck_check_accepts_correct(candidate, capsys):
    checks.gradcheck_naive(candidate)
    assert capsys.readouterr().out.strip() == "✓ gradcheck_naive: all 13 checks passed"


GRADCHECK_MISTAKES = {
    "one-sided difference": (
        make_gradcheck(one_sided=True),
        r"one side of x only.*centered difference",
    ),
    "random state not restored": (
        make_gradcheck(restore_random=False),
        r"random\.setstate",
    ),
    "returns None": (
        make_gradcheck(returns="none"),
        r"returned None: did you forget the return",
    ),
    "returns the error": (
        make_gradcheck(returns="number"),
        r"expected: 'True or False \(a bool\)'",
    ),
    "modifies x": (
        make_gradcheck(restore_x=False),
        r"modified x in place.*put the old value of x\[i\] back",
    ),
    "step too small": (
        make_gradcheck(h=1e-7),
        r"steps of about h = 1\.0e-07.*round-off",
    ),
    "step too large": (
        make_gradcheck(h=1e-2),
        r"steps of about h = 1\.0e-02.*truncation",
    ),
    "no floor of 1": (
        make_gradcheck(floor=False),
        r"divide.*denominator is never below 1",
    ),
    "absolute error": (
        make_gradcheck(relative=False),
        r"gradients near 2e4.*use the relative error",
    ),
    "threshold too loose": (
        make_gradcheck(tol=1e-2),
        r"relative error is 1e-3.*not a looser threshold",
    ),
    "returns inside the loop": (
        make_gradcheck(return_inside_loop=True),
        r"perturbed only 1 of the 4 entries",
    ),
    "prints nothing": (make_gradcheck(prints=False), r'print "Gradient check passed!"'),
    "divides by h": (
        make_gradcheck(divide_by=lambda h: h),
        r"twice the true one.*\(2 \* h\)",
    ),
    "divides by 2 * h without parentheses": (
        make_gradcheck(divide_by=lambda h: 2 / h),
        r"about 0: `/ 2 \* h` divides by 2 and then MULTIPLIES",
    ),
    "f(x - h) - f(x + h)": (make_gradcheck(sign=-1), r"wrong sign.*in this order"),
}


@pytest.mark.parametrize("name", list(GRADCHECK_MISTAKES))
def test_gradcheck_check_rejects_mistake(name):
    candidate, pattern = GRADCHECK_MISTAKES[name]
    with pytest.raises(AssertionError, match=f"(?s){pattern}"):
        checks.gradcheck_naive(candidate)


def test_gradcheck_check_mistake_without_index_in_message():
    def vague(f, x):
        ok = nnlib.gradcheck_naive(f, x, verbose=False)
        print("Gradient check passed!" if ok else "Gradient check failed.")
        return ok

    with pytest.raises(AssertionError, match=r"print the first index"):
        checks.gradcheck_naive(vague)


def test_gradcheck_check_handles_scalar_hint():
    def by_len(f, x):  # breaks on a 0-d array
        for _ in range(len(x)):
            pass
        return nnlib.gradcheck_naive(f, x)

    with pytest.raises(AssertionError, match=r"(?s)TypeError.*0-d array"):
        checks.gradcheck_naive(by_len)


def test_gradcheck_check_passes_not_implemented_through():
    def unfilled(f, x):
        raise NotImplementedError("Exercise 3.1: implement gradcheck_naive")

    with pytest.raises(NotImplementedError, match="Exercise 3.1"):
        checks.gradcheck_naive(unfilled)


def test_gradcheck_check_leaves_random_state_alone():
    random.seed(7)
    before = random.getstate()
    checks.gradcheck_naive(nnlib.gradcheck_naive)
    assert random.getstate() == before


def test_gradcheck_check_rejects_non_callable():
    with pytest.raises(TypeError, match="expects the function you wrote"):
        checks.gradcheck_naive("gradcheck_naive")


# ============================================================================ Chapter 4
def make_fbp(
    cost_sum=False,
    grad_no_m=False,
    bias_grad=True,
    activation_not_derivative=False,
    missing_transpose=False,
    derivative_of_z=False,
    dW2_transposed=False,
    bias_axis=0,
    pack_order="W1b1W2b2",
    swap_return=False,
    dtype=np.float64,
):
    """A student's forward_backward_prop, with one classic mistake switched on."""

    def forward_backward_prop(data, labels, params, dimensions):
        Dx, H, Dy = dimensions
        W1, b1, W2, b2 = unpack_params(params, dimensions)
        M = data.shape[0]
        Z1 = data @ W1 + b1
        A1 = sigmoid(Z1)
        Y_hat = softmax(A1 @ W2 + b2)
        cost = -np.sum(labels * np.log(Y_hat))
        if not cost_sum:
            cost /= M
        delta2 = Y_hat - labels
        if not grad_no_m:
            delta2 = delta2 / M
        dW2 = delta2.T @ A1 if dW2_transposed else A1.T @ delta2
        db2 = delta2.sum(axis=bias_axis)
        back = delta2 @ W2 if missing_transpose else delta2 @ W2.T
        if activation_not_derivative:
            delta1 = back * A1
        elif derivative_of_z:
            delta1 = back * Z1 * (1 - Z1)
        else:
            delta1 = back * sigmoid_grad(A1)
        dW1 = data.T @ delta1
        db1 = delta1.sum(axis=bias_axis)
        if not bias_grad:
            db1, db2 = np.zeros_like(b1), np.zeros_like(b2)
        if pack_order == "list":
            return cost, [dW1, db1, dW2, db2]
        if pack_order == "W1W2b1b2":
            grad = np.concatenate([dW1.ravel(), dW2.ravel(), db1, db2])
        else:
            grad = np.concatenate([dW1.ravel(), db1, dW2.ravel(), db2])
        grad = grad.astype(dtype)
        return (grad, cost) if swap_return else (cost, grad)

    return forward_backward_prop


@pytest.mark.parametrize(
    "candidate",
    [nnlib.forward_backward_prop, make_fbp()],
    ids=["nnlib", "student-correct"],
)
def test_fbp_check_accepts_correct(candidate, capsys):
    checks.forward_backward_prop(candidate)
    assert (
        capsys.readouterr().out.strip()
        == "✓ forward_backward_prop: all 3 checks passed"
    )


FBP_MISTAKES = {
    "cost summed": (
        make_fbp(cost_sum=True),
        r"cost differs.*M = 5 times too large.*instead of summing",
    ),
    "gradient not over M": (
        make_fbp(grad_no_m=True),
        r"blocks W1, b1, W2, b2.*M = 5 times too large",
    ),
    "no bias gradient": (
        make_fbp(bias_grad=False),
        r"blocks b1, b2.*bias gradients b1 and b2 are zero",
    ),
    "activation instead of derivative": (
        make_fbp(activation_not_derivative=True),
        r"blocks W1, b1.*derivative sigmoid_grad\(A1\).*not by the activation",
    ),
    "missing transpose": (
        make_fbp(missing_transpose=True),
        r"ValueError: .*\n  in the line: back = delta2 @ W2 if"
        r".*is a transpose missing in that line",
    ),
    "derivative of z": (
        make_fbp(derivative_of_z=True),
        r"sigmoid_grad takes the activation A1 = sigmoid\(Z1\), not Z1",
    ),
    "dW2 transposed": (
        make_fbp(dW2_transposed=True),
        r"block W2 .*W2's gradient is transposed",
    ),
    "bias summed over axis 1": (
        make_fbp(bias_axis=1),
        r"shape \(\d+,\).*bias gradient sums delta over the rows",
    ),
    "packing order": (
        make_fbp(pack_order="W1W2b1b2"),
        r"packed in the wrong order.*W1, b1, W2, b2",
    ),
    "return order": (make_fbp(swap_return=True), r"swapped.*\(cost, grad\)"),
    "float32 gradient": (
        make_fbp(dtype=np.float32),
        r"the gradient has dtype float32.*float64",
    ),
    "four gradients": (
        make_fbp(pack_order="list"),
        r"list of 4 arrays.*pack the four gradients",
    ),
}


@pytest.mark.parametrize("name", list(FBP_MISTAKES))
def test_fbp_check_rejects_mistake(name):
    candidate, pattern = FBP_MISTAKES[name]
    with pytest.raises(AssertionError, match=f"(?s){pattern}"):
        checks.forward_backward_prop(candidate)


def test_fbp_check_names_sigmoid_grad_of_z():
    def uses_sigmoid_grad_of_z(data, labels, params, dimensions):
        W1, b1, W2, b2 = unpack_params(params, dimensions)
        Z1 = data @ W1 + b1
        A1 = sigmoid(Z1)
        Y_hat = softmax(A1 @ W2 + b2)
        delta2 = (Y_hat - labels) / data.shape[0]
        delta1 = (
            delta2 @ W2.T * sigmoid_grad(Z1)
        )  # nnlib's sigmoid_grad refuses values outside [0, 1]
        grad = np.concatenate(
            [
                (data.T @ delta1).ravel(),
                delta1.sum(0),
                (A1.T @ delta2).ravel(),
                delta2.sum(0),
            ]
        )
        return -np.sum(labels * np.log(Y_hat)) / data.shape[0], grad

    with pytest.raises(
        AssertionError, match=r"(?s)sigmoid_grad\(Z1\).*takes the activation A1"
    ):
        checks.forward_backward_prop(uses_sigmoid_grad_of_z)


def test_fbp_check_rejects_in_place_update():
    def in_place(data, labels, params, dimensions):
        W1, b1, W2, b2 = unpack_params(params, dimensions)
        W1 *= 1.0 + 1e-3  # a view into params
        return nnlib.forward_backward_prop(data, labels, params, dimensions)

    with pytest.raises(
        AssertionError, match=r"(?s)modified params in place.*views into params"
    ):
        checks.forward_backward_prop(in_place)


def test_fbp_check_passes_not_implemented_through():
    def unfilled(data, labels, params, dimensions):
        raise NotImplementedError("Exercise 4.1: implement forward_backward_prop")

    with pytest.raises(NotImplementedError, match="Exercise 4.1"):
        checks.forward_backward_prop(unfilled)


def test_gradcheck_check_accepts_index_printed_with_numpy_integers():
    def flat_loop(
        f, x
    ):  # prints indices from np.unravel_index: (np.int64(2), np.int64(3))
        state = random.getstate()
        random.setstate(state)
        _, grad = f(x)
        for k in range(x.size):
            ix = np.unravel_index(k, x.shape)
            old = x[ix]
            x[ix] = old + 1e-4
            random.setstate(state)
            fp = f(x)[0]
            x[ix] = old - 1e-4
            random.setstate(state)
            fm = f(x)[0]
            x[ix] = old
            num = (fp - fm) / 2e-4
            if abs(num - grad[ix]) / max(1, abs(num), abs(grad[ix])) > 1e-5:
                print(
                    "Gradient check failed at index",
                    ix,
                    "yours:",
                    grad[ix],
                    "numerical:",
                    num,
                )
                return False
        print("Gradient check passed!")
        return True

    checks.gradcheck_naive(flat_loop)


def fbp_einsum(data, labels, params, dimensions):
    """A correct forward_backward_prop written with einsum, np.dot and np.hstack."""
    W1, b1, W2, b2 = unpack_params(params, dimensions)
    M = data.shape[0]
    A1 = sigmoid(np.einsum("md,dh->mh", data, W1) + b1)
    Y_hat = softmax(np.dot(A1, W2) + b2)
    cost = -np.einsum("mk,mk->", labels, np.log(Y_hat)) / M
    delta2 = (Y_hat - labels) / M
    delta1 = np.einsum("mk,hk->mh", delta2, W2) * A1 * (1 - A1)
    grads = (
        np.einsum("md,mh->dh", data, delta1),
        delta1.sum(0),
        np.dot(A1.T, delta2),
        np.einsum("mk->k", delta2),
    )
    return float(cost), np.hstack([g.ravel() for g in grads])


def test_fbp_check_accepts_einsum_version(capsys):
    checks.forward_backward_prop(fbp_einsum)
    assert "✓ forward_backward_prop" in capsys.readouterr().out


def test_gradcheck_check_blames_the_comparison_only_when_nothing_else_fits():
    """A checker dividing by h hears about 2h, not that "the gradient here is right"."""
    with pytest.raises(AssertionError) as info:
        checks.gradcheck_naive(make_gradcheck(divide_by=lambda h: h))
    assert "the gradient here is right" not in str(info.value)
    with pytest.raises(AssertionError, match="the gradient here is right"):
        checks.gradcheck_naive(make_gradcheck(relative=False))
