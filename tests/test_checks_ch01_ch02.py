"""The checks of Chapters 1 and 2 accept right answers and reject students' mistakes.

Each wrong implementation below is one that students write; the test asserts
that the check rejects it with an ``AssertionError`` whose message points at
the mistake (a substring of the hint), not merely that it fails.
"""

import math

import numpy as np
import pytest

import nnlib
from nnlib import checks

# ---------------------------------------------------------------- Exercise 1.1: sigmoid


def sigmoid_naive(x):
    return 1.0 / (1.0 + np.exp(-x))  # overflows for x = -1e4


def sigmoid_where_both_branches(x):
    x = np.asarray(x, dtype=float)
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


def sigmoid_wrong_sign(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # sigmoid(-x)


def sigmoid_negative_form_everywhere(x):
    return np.exp(x) / (1.0 + np.exp(x))  # inf / inf for large x


def sigmoid_zeros_like(x):
    x = np.asarray(x)
    out = np.zeros_like(x)  # integer dtype for an integer x
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    out[~pos] = np.exp(x[~pos]) / (1.0 + np.exp(x[~pos]))
    return out


def sigmoid_in_place(x):
    x = np.asarray(x)
    pos = x >= 0
    x[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    x[~pos] = e / (1.0 + e)
    return x


def sigmoid_math_exp(x):
    return 1.0 / (1.0 + math.exp(-x))


def sigmoid_no_return(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_is_derivative(x):
    s = nnlib.sigmoid(x)
    return s * (1 - s)


def sigmoid_list(x):  # a list comprehension, the stable formula for each number
    x = np.atleast_1d(np.asarray(x, dtype=float))
    return [
        1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
        for v in x.ravel()
    ]


def sigmoid_float32(x):
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


SIGMOID_WRONG = [
    (sigmoid_naive, "overflow"),
    (sigmoid_where_both_branches, "computes both A and B"),
    (sigmoid_wrong_sign, "sign in the exponent"),
    (sigmoid_negative_form_everywhere, "overflow"),
    (sigmoid_zeros_like, r"(?s)dtype int64.*np\.zeros_like\(x\)"),
    (sigmoid_in_place, r"modified \w+ in place"),
    (sigmoid_math_exp, "use np.exp"),
    (sigmoid_no_return, "forget the return"),
    (sigmoid_is_derivative, "asks for the sigmoid itself"),
    (sigmoid_list, r"a Python list of \d+ items, not a numpy array"),
    (sigmoid_float32, r"(?s)dtype float32.*float64"),
]

# ----------------------------------------------------------- Exercise 1.2: sigmoid_grad

SIGMOID_GRAD_WRONG = [
    (
        lambda s: nnlib.sigmoid(s) * (1 - nnlib.sigmoid(s)),
        r"receives s = sigmoid\(x\)",
    ),  # computed from x
    (
        lambda s: np.exp(-s) / (1 + np.exp(-s)) ** 2,
        r"receives s = sigmoid\(x\)",
    ),  # the same, written out
    (lambda s: s * (s - 1), "wrong sign"),
    (lambda s: s * (1 + s), r"not \(1 \+ s\)"),
    (lambda s: 1 - s, "a factor s is missing"),
    (lambda s: s, "returned s itself"),
    (lambda s: 1 - s**2, "derivative of tanh"),
    (
        lambda s: (np.asarray(s) * (1 - np.asarray(s))).tolist(),
        r"a Python (list|float)",
    ),
]

# -------------------------------------------------------------- Exercise 1.3: tanh_grad

TANH_GRAD_WRONG = [
    (lambda t: 1 - np.tanh(t) ** 2, r"receives t = tanh\(x\)"),
    (lambda t: 1 / np.cosh(t) ** 2, r"receives t = tanh\(x\)"),
    (lambda t: 1 - t, "square is missing"),
    (lambda t: t**2 - 1, "wrong sign"),
    (lambda t: (1 - t) ** 2, r"is not 1 - t\*\*2"),
    (lambda t: t * (1 - t), "sigmoid's formula"),
    (lambda t: 1 - np.asarray(t) ^ 2, r"(?s)\^ is exclusive-or.*t \*\* 2"),
    (lambda t: (1 - np.asarray(t) ** 2).astype(np.float32), r"dtype float32"),
]

# ------------------------------------------------------------------- Exercise 1.4: relu


def relu_in_place(x):
    x = np.asarray(x, dtype=float)
    x[x < 0] = 0.0
    return x


def relu_builtin_max(x):
    return max(0.0, x)


def relu_masked_copy_scalar_fails(x):
    out = x.copy()
    out[out < 0] = 0.0
    return out


RELU_WRONG = [
    (lambda x: x, "returned the input unchanged"),
    (lambda x: np.max(x, 0), r"np\.maximum"),
    (relu_builtin_max, r"np\.maximum"),
    (lambda x: np.minimum(x, 0), r"not min\(0, x\)"),
    (lambda x: (np.asarray(x) > 0).astype(float), "which is the derivative"),
    (lambda x: np.abs(x), "absolute value"),
    (relu_in_place, r"modified \w+ in place"),
    (relu_masked_copy_scalar_fails, "plain number"),
    (
        lambda x: [max(0.0, v) for v in np.ravel(x)],
        r"a Python list of \d+ items, not a numpy array",
    ),
    (lambda x: np.maximum(x, 0).tolist(), r"a Python (list|float)"),
]

# -------------------------------------------------------------- Exercise 1.5: relu_grad


def relu_grad_in_place(a):
    a = np.asarray(a, dtype=float)
    a[a > 0] = 1.0
    return a


RELU_GRAD_WRONG = [
    (lambda a: a, "returned the input a"),
    (lambda a: (np.asarray(a) >= 0).astype(float), "test a > 0"),
    (lambda a: np.heaviside(a, 0.5), "except at a = 0"),
    (lambda a: np.ones_like(np.asarray(a, dtype=float)), "except at a = 0"),
    (lambda a: np.asarray(a) / np.abs(a), "fails at a = 0"),
    (lambda a: (np.asarray(a) <= 0).astype(float), "mask is inverted"),
    (relu_grad_in_place, r"modified \w+ in place"),
    (lambda a: np.asarray(a) > 0, r"(?s)dtype bool.*\.astype\(float\)"),
    (lambda a: (np.asarray(a) > 0).astype(int), r"dtype int64"),
    (lambda a: np.where(np.asarray(a) > 0, 1, 0), r"dtype int64"),
]

# ---------------------------------------------------------------- Exercise 2.1: softmax


def softmax_no_shift(x):
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_axis0(x):
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_1d_only(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def softmax_global_max(x):
    e = np.exp(x - np.max(x))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_axis1(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_no_keepdims(x):
    if x.ndim == 1:
        e = np.exp(x - x.max())
        return e / e.sum()
    e = np.exp(x - x.max(axis=1))
    return e / e.sum(axis=1)


def softmax_unnormalised(x):
    return np.exp(x - np.max(x, axis=-1, keepdims=True))


def softmax_naive_in_2d(x):  # the 1-D branch is right, the 2-D one forgets the maximum
    if x.ndim == 1:
        e = np.exp(x - x.max())
        return e / e.sum()
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def softmax_in_place(x):
    x -= x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


SOFTMAX_WRONG = [
    (softmax_no_shift, "subtract the row's maximum"),
    (softmax_axis0, "normalised over axis 0"),
    (softmax_1d_only, "sum over the entire array"),
    (softmax_global_max, "each row needs its own maximum"),
    (softmax_axis1, r"use axis=-1"),
    (softmax_no_keepdims, "keepdims=True"),
    (softmax_unnormalised, "did not normalise"),
    (softmax_in_place, r"modified \w+ in place"),
    (
        softmax_naive_in_2d,
        r"in the 2-D case, the scores were exponentiated without subtracting",
    ),
    (lambda x: nnlib.softmax(x).astype(np.float32), r"dtype float32"),
]

# ---------------------------------------------------------- Exercise 2.2: cross_entropy

EPS = 1e-12


def _rows(y):
    return y.shape[0] if y.ndim == 2 else 1


def ce_sum(y, y_hat):
    return -np.sum(y * np.log(np.clip(y_hat, EPS, 1)))


def ce_no_minus(y, y_hat):
    return np.sum(y * np.log(np.clip(y_hat, EPS, 1))) / _rows(y)


def ce_no_clip(y, y_hat):
    return -np.sum(y * np.log(y_hat)) / _rows(y)


def ce_mean_everything(y, y_hat):
    return -np.mean(y * np.log(np.clip(y_hat, EPS, 1)))


def ce_divide_by_shape0(y, y_hat):
    return -np.sum(y * np.log(np.clip(y_hat, EPS, 1))) / y.shape[0]


def ce_swapped_no_clip(y, y_hat):
    return -np.sum(y_hat * np.log(y)) / _rows(y)


def ce_swapped_clipped(y, y_hat):
    return -np.sum(y_hat * np.log(np.clip(y, EPS, 1))) / _rows(y)


def ce_per_row(y, y_hat):
    return -np.sum(
        np.atleast_2d(y) * np.log(np.clip(np.atleast_2d(y_hat), EPS, 1)), axis=1
    )


def ce_log10(y, y_hat):
    return -np.sum(y * np.log10(np.clip(y_hat, EPS, 1))) / _rows(y)


def ce_binary(y, y_hat):
    p = np.clip(y_hat, EPS, 1 - EPS)
    return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / _rows(y)


def ce_sum_axis1(
    y, y_hat
):  # written for 2-D only: axis 1 does not exist for one example
    return -np.mean(np.sum(y * np.log(np.clip(y_hat, EPS, 1)), axis=1))


def ce_clip_in_place(y, y_hat):
    np.clip(y_hat, EPS, 1, out=y_hat)
    return -np.sum(y * np.log(y_hat)) / _rows(y)


CROSS_ENTROPY_WRONG = [
    (ce_sum, "summed over the rows instead of averaging"),
    (ce_no_minus, "MINUS"),
    (ce_no_clip, r"Clip y_hat"),
    (ce_mean_everything, r"np\.mean over"),
    (ce_divide_by_shape0, "a 1-D y is a single example"),
    (ce_swapped_no_clip, "log of the\\s+labels y"),
    (ce_swapped_clipped, "swapped"),
    (ce_per_row, "one loss per row"),
    (ce_log10, "natural log"),
    (ce_binary, "binary cross-entropy"),
    (ce_sum_axis1, "has no axis 1"),
    (ce_clip_in_place, "modified y_hat in place"),
    (lambda y, y_hat: np.float32(nnlib.cross_entropy(y, y_hat)), r"dtype float32"),
    (lambda y, y_hat: [nnlib.cross_entropy(y, y_hat)], r"a Python list"),
]

WRONG = {
    "sigmoid": SIGMOID_WRONG,
    "sigmoid_grad": SIGMOID_GRAD_WRONG,
    "tanh_grad": TANH_GRAD_WRONG,
    "relu": RELU_WRONG,
    "relu_grad": RELU_GRAD_WRONG,
    "softmax": SOFTMAX_WRONG,
    "cross_entropy": CROSS_ENTROPY_WRONG,
}
EXERCISES = list(WRONG)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes(exercise, capsys):
    getattr(checks, exercise)(getattr(nnlib, exercise))
    out = capsys.readouterr().out
    assert out.startswith(f"✓ {exercise}: all ") and out.rstrip().endswith(
        "checks passed"
    )


def _sigmoid_loop(x):  # one number at a time, with math.exp on numbers <= 0 only
    x = np.asarray(x, dtype=float)
    out = np.empty(x.shape)
    for ix in np.ndindex(x.shape):
        e = math.exp(-abs(x[ix]))
        out[ix] = 1 / (1 + e) if x[ix] >= 0 else e / (1 + e)
    return out


def _sigmoid_masks(x):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _softmax_rows(x):  # a loop over the rows, each shifted by its own maximum
    x = np.asarray(x, dtype=float)
    rows = np.atleast_2d(x)
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out.reshape(x.shape)


def _softmax_logsumexp(x):
    x = np.asarray(x, dtype=float)
    m = x.max(axis=-1, keepdims=True)
    return np.exp(x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))


def _ce_loop(y, y_hat):  # a Python float, computed one row at a time
    y, y_hat = np.atleast_2d(y), np.atleast_2d(y_hat)
    total = 0.0
    for row, probs in zip(y, y_hat, strict=True):
        total -= math.log(max(float(probs[np.argmax(row)]), 1e-12))
    return total / len(y)


def _ce_einsum(y, y_hat):
    y, y_hat = np.atleast_2d(y), np.atleast_2d(y_hat)
    return -np.einsum("nd,nd->", y, np.log(np.clip(y_hat, 1e-12, 1.0))) / y.shape[0]


ALTERNATIVES = [
    ("sigmoid", _sigmoid_masks),
    ("sigmoid", lambda x: 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))),
    ("sigmoid", _sigmoid_loop),
    ("sigmoid", lambda x: np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))),
    ("sigmoid_grad", lambda s: s - np.square(s)),
    ("sigmoid_grad", lambda s: np.multiply(s, np.subtract(1.0, s))),
    ("tanh_grad", lambda t: (1 - t) * (1 + t)),
    ("tanh_grad", lambda t: 1 - np.power(t, 2)),
    ("relu", lambda x: np.where(np.asarray(x) > 0, x, 0.0)),
    ("relu", lambda x: np.asarray(x, dtype=float) * (np.asarray(x) > 0)),
    ("relu", lambda x: np.clip(x, 0.0, None)),
    ("relu", lambda x: (np.abs(x) + x) / 2),
    ("relu_grad", lambda a: np.where(np.asarray(a) > 0, 1.0, 0.0)),
    ("relu_grad", lambda a: (np.asarray(a) > 0) * 1.0),
    ("relu_grad", lambda a: np.heaviside(a, 0.0)),
    ("relu_grad", lambda a: np.sign(a)),  # a >= 0, so the sign is the mask
    ("softmax", _softmax_rows),
    ("softmax", _softmax_logsumexp),
    ("cross_entropy", _ce_loop),
    ("cross_entropy", _ce_einsum),
    (
        "cross_entropy",
        lambda y, y_hat: float(
            -np.sum(
                np.atleast_2d(y) * np.log(np.clip(np.atleast_2d(y_hat), 1e-15, 1.0))
            )
            / np.atleast_2d(y).shape[0]
        ),
    ),  # another clipping
    (
        "cross_entropy",
        lambda y, y_hat: float(
            -np.mean(
                np.log(
                    np.maximum(  # the true class only
                        np.atleast_2d(y_hat)[np.atleast_2d(y) == 1], 1e-12
                    )
                )
            )
        ),
    ),
]


@pytest.mark.parametrize(
    "exercise, solution",
    ALTERNATIVES,
    ids=[f"{ex}-{i}" for i, (ex, _) in enumerate(ALTERNATIVES)],
)
def test_alternative_correct_implementations_pass(exercise, solution, capsys):
    """Right answers written otherwise (loops, np.where, einsum ...) pass."""
    getattr(checks, exercise)(solution)
    assert capsys.readouterr().out.startswith(f"✓ {exercise}: all ")


@pytest.mark.parametrize(
    "exercise, wrong, pattern",
    [(ex, fn, pattern) for ex, items in WRONG.items() for fn, pattern in items],
    ids=[
        f"{ex}-{getattr(fn, '__name__', '?')}-{i}"
        for ex, items in WRONG.items()
        for i, (fn, _) in enumerate(items)
    ],
)
def test_wrong_implementation_is_rejected_with_a_pointed_message(
    exercise, wrong, pattern
):
    with pytest.raises(AssertionError, match=pattern) as info:
        getattr(checks, exercise)(wrong)
    message = str(info.value)
    assert message.startswith(f"{exercise} is not right yet, for ")


@pytest.mark.parametrize("exercise", EXERCISES)
def test_at_least_three_wrong_implementations_per_exercise(exercise):
    assert len(WRONG[exercise]) >= 3


def test_message_names_input_expected_and_got():
    with pytest.raises(AssertionError) as info:
        checks.sigmoid_grad(lambda s: nnlib.sigmoid(s) * (1 - nnlib.sigmoid(s)))
    message = str(info.value)
    assert "s = sigmoid(x) for x = [-6., -5., -4." in message
    assert (
        "expected: [0.002467, 0.006648" in message
    )  # s (1 - s) for s = sigmoid(-6) = 0.0024726, sigmoid(-5)
    assert (
        "got:      [0.25 , 0.249997" in message
    )  # sigmoid(s) (1 - sigmoid(s)) for s = 0.0024726: about 1/4
    assert "Hint:" in message


def test_in_place_message_shows_input_before_and_after():
    with pytest.raises(AssertionError) as info:
        checks.relu(relu_in_place)
    message = str(info.value)
    assert "x[0] was -3 before the call and is 0 after it" in message
    assert "expected: [-3. , -1.5" in message and "got:      [0. , 0. " in message


@pytest.mark.parametrize("exercise", EXERCISES)
def test_unfilled_exercise_propagates_not_implemented_error(exercise):
    def unfilled(*args):
        raise NotImplementedError(f"Exercise: implement {exercise}")

    with pytest.raises(NotImplementedError, match=f"^Exercise: implement {exercise}$"):
        getattr(checks, exercise)(unfilled)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_not_a_function_is_a_type_error(exercise):
    with pytest.raises(TypeError, match="expects the function you wrote"):
        getattr(checks, exercise)(np.array([1.0]))


def test_checks_are_reexported():
    from nnlib.checks import ch01_activations, ch02_softmax

    for exercise in EXERCISES:
        module = (
            ch02_softmax
            if exercise in ("softmax", "cross_entropy")
            else ch01_activations
        )
        assert getattr(checks, exercise) is getattr(module, exercise)


def test_hints_do_not_point_the_wrong_way():
    """A naive softmax in the 2-D branch is not blamed for one maximum for all rows."""
    with pytest.raises(AssertionError) as info:
        checks.softmax(softmax_naive_in_2d)
    assert "maximum of the whole array" not in str(info.value)
    with pytest.raises(AssertionError, match="maximum of the whole array"):
        checks.softmax(softmax_global_max)
