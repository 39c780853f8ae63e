"""The checks of chapters 5-7 accept the reference solutions and reject the
mistakes students really make, each with a message that points at the mistake.

Every planted mistake below is a small edit of the reference solution; the
regular expression is what the check's message must say about it.
"""

import re

import numpy as np
import pytest

from nnlib import ACTIVATIONS, one_hot, sigmoid, softmax
from nnlib.checks import ch05_moons, ch06_layers, ch09_regression

# --------------------------------------------------------------------------------------
# Chapter 5: reference solutions and planted mistakes
# --------------------------------------------------------------------------------------


def ff_ref(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    return z1, a1, z2, softmax(z2)


def ff_elementwise(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X * W1 + b1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    return z1, a1, z2, softmax(z2)


def ff_no_bias(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    return z1, a1, z2, softmax(z2)


def ff_z2_from_z1(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = act(z1)
    z2 = z1 @ W2 + b2
    return z1, a1, z2, softmax(z2)


def ff_softmax_axis0(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    e = np.exp(z2 - z2.max(axis=0))
    return z1, a1, z2, e / e.sum(axis=0)


def ff_naive_softmax(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    e = np.exp(z2)
    return z1, a1, z2, e / e.sum(axis=1, keepdims=True)


def ff_softmax_no_keepdims(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    return z1, a1, z2, e / e.sum(axis=1)


def ff_act_on_output(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = act(z1)
    z2 = a1 @ W2 + b2
    return z1, a1, z2, softmax(act(z2))


def ff_no_activation(X, params, act):
    W1, b1, W2, b2 = params
    z1 = X @ W1 + b1
    a1 = z1
    z2 = a1 @ W2 + b2
    return z1, a1, z2, softmax(z2)


def loss_ref(probs, y, params, reg_lambda):
    W1, b1, W2, b2 = params
    N = probs.shape[0]
    data = -np.sum(np.log(probs[np.arange(N), y])) / N
    return data + reg_lambda / 2 * (np.sum(W1**2) + np.sum(W2**2))


def _loss_variant(kind):
    def loss(probs, y, params, reg_lambda):
        W1, b1, W2, b2 = params
        N = probs.shape[0]
        data_sum = -np.sum(np.log(probs[np.arange(N), y]))
        reg = reg_lambda / 2 * (np.sum(W1**2) + np.sum(W2**2))
        if kind == "no_mean":
            return data_sum + reg
        if kind == "twice":
            return data_sum / N / N + reg
        if kind == "penalty_averaged":  # the penalty divided by N as well
            return (data_sum + reg) / N
        if kind == "no_reg":
            return data_sum / N
        if kind == "reg_lambda":
            return data_sum / N + reg_lambda * (np.sum(W1**2) + np.sum(W2**2))
        if kind == "reg_bias":
            return data_sum / N + reg + reg_lambda / 2 * (np.sum(b1**2) + np.sum(b2**2))
        if kind == "all_columns":
            return -np.mean(np.log(probs[:, y])) + reg
        if kind == "all_entries":
            return -np.mean(np.log(probs)) + reg
        if kind == "mean_one_hot":
            Y = np.eye(probs.shape[1])[y]
            return -np.mean(Y * np.log(probs)) + reg
        if kind == "xor":  # ^ where ** was meant
            return data_sum / N + reg_lambda / 2 * (np.sum(W1 ^ 2) + np.sum(W2 ^ 2))
        if (
            kind == "log_in_place"
        ):  # np.log(..., out=probs) overwrites the caller's probs
            return -np.mean(np.log(probs, out=probs)[np.arange(N), y]) + reg
        if kind == "float32":
            return np.float32(data_sum / N + reg)
        raise AssertionError(kind)

    loss.__name__ = f"loss_{kind}"
    return loss


def bp_ref(X, y, params, cache, act_grad, reg_lambda):
    W1, b1, W2, b2 = params
    z1, a1, z2, probs = cache
    N = X.shape[0]
    delta3 = probs.copy()
    delta3[np.arange(N), y] -= 1
    delta3 /= N
    dW2 = a1.T @ delta3 + reg_lambda * W2
    db2 = delta3.sum(axis=0)
    delta2 = (delta3 @ W2.T) * act_grad(a1)
    dW1 = X.T @ delta2 + reg_lambda * W1
    db1 = delta2.sum(axis=0)
    return dW1, db1, dW2, db2


def _bp_variant(kind):
    def bp(X, y, params, cache, act_grad, reg_lambda):
        W1, b1, W2, b2 = params
        z1, a1, z2, probs = cache
        N = X.shape[0]
        delta3 = probs.copy()
        delta3[np.arange(N), y] -= 1
        if kind != "no_mean":
            delta3 /= N
        dW2 = a1.T @ delta3 + (0 if kind == "no_reg" else reg_lambda) * W2
        db2 = delta3.sum(axis=0)
        back = delta3 @ W2 if kind == "no_transpose" else delta3 @ W2.T
        local = {"deriv_at_z": act_grad(z1), "act_not_deriv": a1}.get(
            kind, act_grad(a1)
        )
        delta2 = back * local
        if kind == "elementwise":
            dW1 = X.T * delta2 + reg_lambda * W1
        else:
            dW1 = X.T @ delta2 + (0 if kind == "no_reg" else reg_lambda) * W1
        db1 = delta2.sum(axis=0)
        if kind == "no_bias":
            db1, db2 = np.zeros_like(b1), np.zeros_like(b2)
        if kind == "bias_not_summed":
            db1 = delta2
        if kind == "dW_untransposed":
            dW2 = delta3.T @ a1 + reg_lambda * W2.T
        if kind == "db_all_axes":  # np.sum without axis=
            db2 = np.sum(delta3)
        if kind == "db_keepdims":
            db1 = delta2.sum(axis=0, keepdims=True)
        if kind == "db_list":
            db1 = list(db1)
        return dW1, db1, dW2, db2

    bp.__name__ = f"bp_{kind}"
    return bp


def bp_onehot_broadcast(X, y, params, cache, act_grad, reg_lambda):
    """Subtracts the integer labels from the probabilities."""
    W1, b1, W2, b2 = params
    z1, a1, z2, probs = cache
    N = X.shape[0]
    delta3 = (probs - y) / N
    dW2 = a1.T @ delta3 + reg_lambda * W2
    db2 = delta3.sum(axis=0)
    delta2 = (delta3 @ W2.T) * act_grad(a1)
    return X.T @ delta2 + reg_lambda * W1, delta2.sum(axis=0), dW2, db2


def bp_delta3_is_probs(X, y, params, cache, act_grad, reg_lambda):
    """Right gradients, but delta3 = probs does not copy: the cache's probs change."""
    W1, b1, W2, b2 = params
    z1, a1, z2, probs = cache
    N = X.shape[0]
    delta3 = probs
    delta3[np.arange(N), y] -= 1
    delta3 /= N
    dW2 = a1.T @ delta3 + reg_lambda * W2
    delta2 = (delta3 @ W2.T) * act_grad(a1)
    return X.T @ delta2 + reg_lambda * W1, delta2.sum(axis=0), dW2, delta3.sum(axis=0)


def ff_centres_X(X, params, act):
    X -= X.mean(axis=0)  # changes the caller's data
    return ff_ref(X + X.mean(axis=0), params, act)


def ff_float32(X, params, act):
    return tuple(v.astype(np.float32) for v in ff_ref(X, params, act))


CH05_WRONG = [
    (ch05_moons.feedforward, ff_elementwise, r"elementwise|matrix product"),
    (ch05_moons.feedforward, ff_no_bias, r"bias b1 is missing"),
    (ch05_moons.feedforward, ff_z2_from_z1, r"computed from z1"),
    (ch05_moons.feedforward, ff_softmax_axis0, r"wrong axis"),
    (ch05_moons.feedforward, ff_naive_softmax, r"overflow|maximum"),
    (ch05_moons.feedforward, ff_act_on_output, r"activation was applied to the output"),
    (ch05_moons.feedforward, ff_softmax_no_keepdims, r"keepdims=True"),
    (ch05_moons.feedforward, ff_no_activation, r"activation is missing"),
    (ch05_moons.feedforward, ff_centres_X, r"modified X in place"),
    (ch05_moons.feedforward, ff_float32, r"z1 has dtype float32"),
    (
        ch05_moons.calculate_loss,
        _loss_variant("no_mean"),
        r"divide the cross-entropy by N once",
    ),
    (ch05_moons.calculate_loss, _loss_variant("twice"), r"divided by N twice"),
    (
        ch05_moons.calculate_loss,
        _loss_variant("penalty_averaged"),
        r"penalty was divided by N",
    ),
    (ch05_moons.calculate_loss, _loss_variant("no_reg"), r"penalty is missing"),
    (ch05_moons.calculate_loss, _loss_variant("reg_lambda"), r"wrong factor"),
    (ch05_moons.calculate_loss, _loss_variant("reg_bias"), r"biases are not penalised"),
    (ch05_moons.calculate_loss, _loss_variant("all_columns"), r"np\.arange\(N\), y"),
    (ch05_moons.calculate_loss, _loss_variant("all_entries"), r"TRUE class"),
    (ch05_moons.calculate_loss, _loss_variant("mean_one_hot"), r"all N x K entries"),
    (ch05_moons.calculate_loss, _loss_variant("xor"), r"\^ is exclusive-or"),
    (
        ch05_moons.calculate_loss,
        _loss_variant("log_in_place"),
        r"modified probs in place",
    ),
    (
        ch05_moons.calculate_loss,
        _loss_variant("float32"),
        r"the loss has dtype float32",
    ),
    (ch05_moons.backprop, _bp_variant("no_mean"), r"N times too large"),
    (ch05_moons.backprop, _bp_variant("deriv_at_z"), r"evaluated at z1"),
    (
        ch05_moons.backprop,
        _bp_variant("act_not_deriv"),
        r"activation a1 itself instead of its derivative",
    ),
    (ch05_moons.backprop, _bp_variant("no_transpose"), r"transpose"),
    (ch05_moons.backprop, _bp_variant("elementwise"), r"elementwise|matrix product"),
    (ch05_moons.backprop, _bp_variant("no_reg"), r"penalty's gradient is missing"),
    (ch05_moons.backprop, _bp_variant("no_bias"), r"bias gradient is missing"),
    (ch05_moons.backprop, _bp_variant("bias_not_summed"), r"summed over the examples"),
    (ch05_moons.backprop, _bp_variant("dW_untransposed"), r"transpose"),
    (ch05_moons.backprop, bp_onehot_broadcast, r"class ids"),
    (
        ch05_moons.backprop,
        bp_delta3_is_probs,
        r"(?s)modified cache\[3\] \(probs\) in place: probs\[0, \d\] was "
        r".*probs\.copy\(\)",
    ),
    (
        ch05_moons.backprop,
        _bp_variant("db_all_axes"),
        r"db2 is a single number.*axis=0",
    ),
    (
        ch05_moons.backprop,
        _bp_variant("db_keepdims"),
        r"db1 has an extra axis of length 1.*keepdims=True",
    ),
    (ch05_moons.backprop, _bp_variant("db_list"), r"db1 is a Python list"),
]


# --------------------------------------------------------------------------------------
# Chapter 6: one layer, forward and backward
# --------------------------------------------------------------------------------------


def lf_ref(X, W, b, activation):
    f, _ = ACTIVATIONS[activation]
    A = f(X @ W + b)
    return A, (X, W, A, activation)


def _lf_variant(kind):
    def lf(X, W, b, activation):
        f, _ = ACTIVATIONS[activation]
        Z = X @ W + b
        if kind == "elementwise":
            Z = X * W + b
        if kind == "no_bias":
            Z = X @ W
        if kind == "W_first":
            Z = W.T @ X.T + b[:, None]
        A = {"no_act": Z, "bias_outside": f(X @ W) + b}.get(kind, f(Z))
        cached = Z if kind == "cache_Z" else A
        if kind == "short_cache":
            return A, (X, A)
        if kind == "cache_A_first":
            return A, (A, X, W, activation)
        if kind == "cache_name_first":
            return A, (activation, X, W, A)
        if kind == "cache_X_A_W":
            return A, (X, A, W, activation)
        if kind == "cache_function":
            return A, (X, W, A, f)
        if kind == "bias_in_place":
            b += 0.0 * b + 1.0
            A = f(X @ W + b - 1.0)
        if kind == "float32":
            A = A.astype(np.float32)
        return A, (X, W, cached, activation)

    lf.__name__ = f"lf_{kind}"
    return lf


def lb_ref(dA, cache):
    X, W, A, activation = cache
    _, f_grad = ACTIVATIONS[activation]
    dZ = dA * f_grad(A)
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def _lb_variant(kind):
    def lb(dA, cache):
        X, W, A, activation = cache
        f, f_grad = ACTIVATIONS[activation]
        dZ = {
            "no_deriv": dA,
            "act_not_deriv": dA * A,
            "deriv_of_fA": dA * f_grad(f(A)),
        }.get(kind, dA * f_grad(A))
        dX = dZ @ W if kind == "no_transpose" else dZ @ W.T
        dW = X.T @ dZ
        if kind == "dW_transposed":
            dW = dZ.T @ X
        if kind == "dW_mean":
            dW = dW / X.shape[0]
        if kind == "elementwise":
            dW = X.T * dZ
        db = {
            "db_mean": dZ.mean(axis=0),
            "no_bias": np.zeros(W.shape[1]),
            "not_summed": dZ,
        }.get(kind, dZ.sum(axis=0))
        if kind == "keepdims":
            db = dZ.sum(axis=0, keepdims=True)
        if kind == "float32":
            dX = dX.astype(np.float32)
        return dX, dW, db

    lb.__name__ = f"lb_{kind}"
    return lb


def lb_scales_dA_in_place(dA, cache):
    X, W, A, activation = cache
    dA *= ACTIVATIONS[activation][1](A)  # dZ, computed in the caller's array
    return dA @ W.T, X.T @ dA, dA.sum(axis=0)


CH06_WRONG = [
    (
        ch06_layers.layer_forward,
        _lf_variant("elementwise"),
        r"elementwise|matrix product",
    ),
    (ch06_layers.layer_forward, _lf_variant("no_bias"), r"bias b is missing"),
    (ch06_layers.layer_forward, _lf_variant("W_first"), r"one row per example|X @ W"),
    (ch06_layers.layer_forward, _lf_variant("no_act"), r"apply the activation"),
    (
        ch06_layers.layer_forward,
        _lf_variant("bias_outside"),
        r"bias goes inside the activation",
    ),
    (ch06_layers.layer_forward, _lf_variant("cache_Z"), r"cached the pre-activation Z"),
    (ch06_layers.layer_forward, _lf_variant("short_cache"), r"\(X, W, A, activation\)"),
    (
        ch06_layers.layer_forward,
        _lf_variant("cache_A_first"),
        r"cache\[0\] should be X but holds A.*in this order",
    ),
    (
        ch06_layers.layer_forward,
        _lf_variant("cache_name_first"),
        r"cache\[0\] should be X but holds activation",
    ),
    (
        ch06_layers.layer_forward,
        _lf_variant("cache_X_A_W"),
        r"cache\[1\] should be W but holds A",
    ),
    (
        ch06_layers.layer_forward,
        _lf_variant("cache_function"),
        r"cache\[3\] \(activation\) is not what",
    ),
    (ch06_layers.layer_forward, _lf_variant("bias_in_place"), r"modified b in place"),
    (ch06_layers.layer_forward, _lf_variant("float32"), r"A has dtype float32"),
    (
        ch06_layers.layer_backward,
        _lb_variant("no_deriv"),
        r"derivative of the activation is missing",
    ),
    (
        ch06_layers.layer_backward,
        _lb_variant("act_not_deriv"),
        r"activation A itself instead of its derivative",
    ),
    (ch06_layers.layer_backward, _lb_variant("deriv_of_fA"), r"evaluated at f\(A\)"),
    (ch06_layers.layer_backward, _lb_variant("no_transpose"), r"transpose"),
    (
        ch06_layers.layer_backward,
        _lb_variant("dW_transposed"),
        r"transpose|layout of W",
    ),
    (ch06_layers.layer_backward, _lb_variant("dW_mean"), r"dW was divided by N"),
    (
        ch06_layers.layer_backward,
        _lb_variant("elementwise"),
        r"elementwise|matrix product|transpose",
    ),
    (ch06_layers.layer_backward, _lb_variant("db_mean"), r"SUM of dZ"),
    (ch06_layers.layer_backward, _lb_variant("no_bias"), r"bias gradient is missing"),
    (
        ch06_layers.layer_backward,
        _lb_variant("not_summed"),
        r"summed over the examples",
    ),
    (ch06_layers.layer_backward, lb_scales_dA_in_place, r"modified dA in place"),
    (
        ch06_layers.layer_backward,
        _lb_variant("keepdims"),
        r"db has an extra axis of length 1",
    ),
    (ch06_layers.layer_backward, _lb_variant("float32"), r"dX has dtype float32"),
]


# --------------------------------------------------------------------------------------
# Chapter 7: the backward pass of the regression network
# --------------------------------------------------------------------------------------


def rb_ref(X, y, params, cache):
    W1, b1, W2, b2 = params
    z1, a1, y_hat = cache
    N = X.shape[0]
    delta2 = (y_hat - y) / N
    delta1 = (delta2 @ W2.T) * a1 * (1 - a1)
    return X.T @ delta1, delta1.sum(axis=0), a1.T @ delta2, delta2.sum(axis=0)


def _rb_variant(kind):
    def rb(X, y, params, cache):
        W1, b1, W2, b2 = params
        z1, a1, y_hat = cache
        N = X.shape[0]
        err = {
            "sign": y - y_hat,
            "two": 2 * (y_hat - y),
            "flat_y": y_hat - y.ravel(),
        }.get(kind, y_hat - y)
        delta2 = err if kind == "no_mean" else err / N
        if kind == "sigmoid_output":
            delta2 = delta2 * y_hat * (1 - y_hat)
        local = {
            "at_z": z1 * (1 - z1),
            "act": a1,
            "none": 1.0,
            "sigmoid_of_a": sigmoid(a1) * (1 - sigmoid(a1)),
        }.get(kind, a1 * (1 - a1))
        back = delta2 @ W2 if kind == "no_transpose" else delta2 @ W2.T
        delta1 = back * local
        dW2 = delta2.T @ a1 if kind == "dW_transposed" else a1.T @ delta2
        db1, db2 = delta1.sum(axis=0), delta2.sum(axis=0)
        if kind == "no_bias":
            db1, db2 = np.zeros_like(b1), np.zeros_like(b2)
        if kind == "db_all_axes":
            db2 = delta2.sum()
        return X.T @ delta1, db1, dW2, db2

    rb.__name__ = f"rb_{kind}"
    return rb


def rb_error_in_place(X, y, params, cache):
    z1, a1, y_hat = cache
    y_hat -= y  # the error, computed in the cache's array
    return rb_ref(X, y, params, (z1, a1, y_hat + y))


CH07_WRONG = [
    (ch09_regression.regression_backward, _rb_variant("no_mean"), r"N times too large"),
    (ch09_regression.regression_backward, _rb_variant("sign"), r"sign is flipped"),
    (ch09_regression.regression_backward, _rb_variant("two"), r"twice too large"),
    (
        ch09_regression.regression_backward,
        _rb_variant("sigmoid_output"),
        r"output unit is LINEAR",
    ),
    (ch09_regression.regression_backward, _rb_variant("at_z"), r"z1 \* \(1 - z1\)"),
    (
        ch09_regression.regression_backward,
        _rb_variant("act"),
        r"activation a1 instead of its derivative",
    ),
    (
        ch09_regression.regression_backward,
        _rb_variant("none"),
        r"derivative of the hidden sigmoid is missing",
    ),
    (
        ch09_regression.regression_backward,
        _rb_variant("sigmoid_of_a"),
        r"already the sigmoid's output",
    ),
    (
        ch09_regression.regression_backward,
        _rb_variant("no_transpose"),
        r"transpose|matrix product",
    ),
    (ch09_regression.regression_backward, _rb_variant("dW_transposed"), r"transpose"),
    (
        ch09_regression.regression_backward,
        _rb_variant("no_bias"),
        r"bias gradients are zero",
    ),
    (ch09_regression.regression_backward, _rb_variant("flat_y"), r"\(N, N\)|broadcast"),
    (
        ch09_regression.regression_backward,
        rb_error_in_place,
        r"modified cache\[2\] \(y_hat\) in place",
    ),
    (
        ch09_regression.regression_backward,
        _rb_variant("db_all_axes"),
        r"db2 is a single number",
    ),
]


# --------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------

REFERENCES = [
    (ch05_moons.feedforward, ff_ref),
    (ch05_moons.calculate_loss, loss_ref),
    (ch05_moons.backprop, bp_ref),
    (ch06_layers.layer_forward, lf_ref),
    (ch06_layers.layer_backward, lb_ref),
    (ch09_regression.regression_backward, rb_ref),
]

WRONG = CH05_WRONG + CH06_WRONG + CH07_WRONG


@pytest.mark.parametrize("check, solution", REFERENCES, ids=lambda x: x.__name__)
def test_check_accepts_reference(check, solution, capsys):
    check(solution)
    out = capsys.readouterr().out
    assert re.fullmatch(rf"✓ {check.__name__}: all \d+ checks passed\n", out), out


@pytest.mark.parametrize(
    "check, wrong, pattern",
    WRONG,
    ids=[f"{c.__name__}-{w.__name__}" for c, w, _ in WRONG],
)
def test_check_rejects_mistake_with_a_hint(check, wrong, pattern):
    with pytest.raises(AssertionError) as info:
        check(wrong)
    message = str(info.value)
    assert message.startswith(f"{check.__name__} is not right yet, for "), message
    assert re.search(pattern, message), (
        f"the message does not point at the mistake:\n{message}"
    )


def test_at_least_three_planted_mistakes_per_exercise():
    for check, _ in REFERENCES:
        assert sum(c is check for c, _, _ in WRONG) >= 3, check.__name__


@pytest.mark.parametrize("check", [c for c, _ in REFERENCES], ids=lambda c: c.__name__)
def test_not_implemented_passes_through(check):
    def unfilled(*args):
        raise NotImplementedError("Exercise N.M: fill me in")

    with pytest.raises(NotImplementedError, match="Exercise N.M: fill me in"):
        check(unfilled)


@pytest.mark.parametrize("check", [c for c, _ in REFERENCES], ids=lambda c: c.__name__)
def test_check_rejects_a_function_returning_none(check):
    with pytest.raises(AssertionError, match="None|return"):
        check(lambda *args: None)


@pytest.mark.parametrize("check", [c for c, _ in REFERENCES], ids=lambda c: c.__name__)
def test_check_expects_a_function(check):
    with pytest.raises(TypeError, match="expects the function you wrote"):
        check(np.zeros(3))


def test_checks_are_reexported():
    import nnlib.checks as checks

    for check, _ in REFERENCES:
        assert getattr(checks, check.__name__) is check


def test_backprop_reference_agrees_with_numerical_gradient():
    """The reference of exercise 5.3 matches centered differences of the loss of 5.2
    (so the check's
    expected values are gradients, not just another implementation's output)."""
    from nnlib import gradcheck_naive, tanh, tanh_grad

    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    y = rng.integers(0, 2, size=6)
    shapes = [(2, 3), (3,), (3, 2), (2,)]
    sizes = [int(np.prod(s)) for s in shapes]

    def unpack_(theta):
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        return tuple(p.reshape(s) for p, s in zip(parts, shapes, strict=True))

    def f(theta):
        params = unpack_(theta)
        cache = ff_ref(X, params, tanh)
        grads = bp_ref(X, y, params, cache, tanh_grad, 0.1)
        return loss_ref(cache[3], y, params, 0.1), np.concatenate(
            [g.ravel() for g in grads]
        )

    assert gradcheck_naive(f, rng.standard_normal(sum(sizes)), verbose=False)

    def g(theta):  # chapter 7: half mean squared error
        W1, b1, W2, b2 = (
            theta[:6].reshape(2, 3),
            theta[6:9],
            theta[9:12].reshape(3, 1),
            theta[12:],
        )
        z1 = X @ W1 + b1
        a1 = sigmoid(z1)
        y_hat = a1 @ W2 + b2
        t = y.reshape(-1, 1).astype(float)
        grads = rb_ref(X, t, (W1, b1, W2, b2), (z1, a1, y_hat))
        return 0.5 * np.mean((y_hat - t) ** 2), np.concatenate(
            [gr.ravel() for gr in grads]
        )

    assert gradcheck_naive(g, rng.standard_normal(13), verbose=False)


# --------------------------------------------------------------------------------------
# Right answers written differently: they pass
# --------------------------------------------------------------------------------------


def ff_einsum(X, params, act):
    W1, b1, W2, b2 = params
    z1 = np.einsum("nd,dh->nh", X, W1) + b1
    a1 = act(z1)
    z2 = np.dot(a1, W2) + b2
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))  # a softmax written out, stable
    return z1, a1, z2, e / e.sum(axis=1, keepdims=True)


def loss_loop(probs, y, params, reg_lambda):  # a Python float, one example at a time
    W1, b1, W2, b2 = params
    data = sum(-np.log(probs[i, y[i]]) for i in range(len(y))) / len(y)
    return float(data + reg_lambda / 2 * (np.sum(W1 * W1) + np.sum(W2 * W2)))


def loss_one_hot(probs, y, params, reg_lambda):
    W1, b1, W2, b2 = params
    Y = np.eye(probs.shape[1])[y]
    data = -np.sum(Y * np.log(probs)) / probs.shape[0]
    return data + reg_lambda / 2 * (np.linalg.norm(W1) ** 2 + np.linalg.norm(W2) ** 2)


def bp_one_hot_einsum(X, y, params, cache, act_grad, reg_lambda):
    W1, b1, W2, b2 = params
    z1, a1, z2, probs = cache
    N = X.shape[0]
    delta3 = (probs - one_hot(y, probs.shape[1])) / N
    delta2 = np.einsum("nk,hk->nh", delta3, W2) * act_grad(a1)
    return (
        np.einsum("nd,nh->dh", X, delta2) + reg_lambda * W1,
        delta2.sum(axis=0),
        np.dot(a1.T, delta3) + reg_lambda * W2,
        np.sum(delta3, axis=0),
    )


def lf_list_cache(X, W, b, activation):
    A = ACTIVATIONS[activation][0](np.dot(X, W) + b)
    return A, [X, W, A, activation]  # a list is unpacked like a tuple


def lb_einsum(dA, cache):
    X, W, A, activation = cache
    dZ = dA * ACTIVATIONS[activation][1](A)
    return (
        np.einsum("nk,dk->nd", dZ, W),
        np.einsum("nd,nk->dk", X, dZ),
        np.einsum("nk->k", dZ),
    )


def rb_keepdims(X, y, params, cache):
    W1, b1, W2, b2 = params
    z1, a1, y_hat = cache
    delta2 = (y_hat - y) / len(X)
    delta1 = (
        np.dot(delta2, W2.T) * sigmoid(z1) * (1 - sigmoid(z1))
    )  # sigma'(z1) from z1
    return (
        X.T @ delta1,
        delta1.sum(axis=0, keepdims=True).ravel(),
        a1.T @ delta2,
        delta2.sum(axis=0),
    )


ALTERNATIVES = [
    (ch05_moons.feedforward, ff_einsum),
    (ch05_moons.calculate_loss, loss_loop),
    (ch05_moons.calculate_loss, loss_one_hot),
    (ch05_moons.backprop, bp_one_hot_einsum),
    (ch06_layers.layer_forward, lf_list_cache),
    (ch06_layers.layer_backward, lb_einsum),
    (ch09_regression.regression_backward, rb_keepdims),
]


@pytest.mark.parametrize("check, solution", ALTERNATIVES, ids=lambda x: x.__name__)
def test_check_accepts_other_right_answers(check, solution, capsys):
    check(solution)
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__}: all ")


@pytest.mark.parametrize(
    "check, wrong",
    [
        (ch05_moons.backprop, _bp_variant("elementwise")),
        (ch05_moons.backprop, _bp_variant("no_transpose")),
        (ch05_moons.feedforward, ff_elementwise),
    ],
    ids=lambda x: x.__name__,
)
def test_shape_errors_that_have_nothing_to_do_with_labels_do_not_mention_them(
    check, wrong
):
    with pytest.raises(AssertionError) as info:
        check(wrong)
    assert "class id" not in str(info.value) and "labels" not in str(info.value)


def test_the_in_place_hint_fits_the_input_that_changed():
    def bp_scales_a1(X, y, params, cache, act_grad, reg_lambda):
        grads = bp_ref(X, y, params, cache, act_grad, reg_lambda)
        a1 = cache[1]
        a1 *= 2.0  # a1 changes in place, not probs
        return grads

    with pytest.raises(AssertionError) as info:
        ch05_moons.backprop(bp_scales_a1)
    message = str(info.value)
    assert "modified cache[1] (a1) in place: a1[0, 0] was" in message
    assert "delta3 = probs" not in message and "d = x.copy()" in message
    with pytest.raises(AssertionError, match=r"Start from delta3 = probs\.copy\(\)"):
        ch05_moons.backprop(bp_delta3_is_probs)
