"""Checks of Chapter 1: activation functions and their derivatives.

Each check runs the student's function on a few inputs (a 1-D array, the 2-D
array ``[[1, 2], [-1, -2]]``, a plain number, extreme values), compares the
result with :mod:`nnlib.activations`, and names the classic mistake that the
answer fits (``sigmoid_grad`` fed ``x`` instead of ``s``, a sigmoid that
overflows, a ReLU that returns negative numbers ...). The loop over the inputs,
:func:`elementwise`, also serves Chapter 2's softmax.
"""

from __future__ import annotations

import numpy as np

from .. import activations as _ref
from ._common import Array, compare, fmt, passed, run

__all__ = ["sigmoid", "sigmoid_grad", "tanh_grad", "relu", "relu_grad"]

_SCALAR = (
    "the function must also work for a plain number such as 3.0, not only for arrays: "
    "convert the argument first with np.asarray(x, dtype=float)."
)
#: errors of a function written for arrays only, met on a plain number
SCALAR_HINTS = (("'float'", _SCALAR),)


def elementwise(
    exercise, fn, arg, cases, reference, mistakes, hints=SCALAR_HINTS, shape_mistakes=()
):
    """Run ``fn`` on each ``(case, value)`` of ``cases``; compare with ``reference``.

    ``mistakes(value, expected, got)`` gives the ``(evidence, hint)`` pairs of
    the classic mistakes for one input; ``hints`` (or ``hints(value)``) the
    hints for errors, as in :func:`~nnlib.checks._common.run`.
    """
    for case, x in cases:
        expected = reference(x)
        spec = Array(np.shape(expected), shape_mistakes=shape_mistakes)
        case_hints = hints(x) if callable(hints) else hints
        got, _ = run(exercise, case, fn, (x,), (arg,), returns=spec, hints=case_hints)
        compare(
            exercise, case, None, got, expected, mistakes(np.asarray(x), expected, got)
        )
    passed(exercise, len(cases))


def _sigmoid(x):
    """Sigmoid without input checks (the mistakes apply it outside [0, 1] too)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid(fn):
    """Check Exercise 1.1: ``fn(x)`` is the sigmoid of ``x``, without overflow."""
    xs = [
        np.linspace(-6.0, 6.0, 13),
        np.array([[1.0, 2.0], [-1.0, -2.0]]),
        3.0,
        np.array([-1e4, -1000.0, -30.0, 0.0, 30.0, 1000.0, 1e4]),
        np.array([[1, 2], [-1, -2]]),
    ]
    cases = [
        (
            f"x = {fmt(x)}"
            + (" (an integer array)" if np.asarray(x).dtype.kind == "i" else ""),
            x,
        )
        for x in xs
    ]
    overflow = (
        "exp of a large positive number is inf in float64 (exp(710) already is). Use "
        "the form that only exponentiates numbers <= 0: 1 / (1 + exp(-x)) where x >= "
        "0 and exp(x) / (1 + exp(x)) where x < 0. Beware that np.where(cond, A, B) "
        "computes both A and B for every element, so an overflow in the branch you "
        "throw away still happens."
    )

    def mistakes(x, s, got):
        return [
            (
                lambda: _sigmoid(-x),
                "you computed sigmoid(-x): check the sign in the exponent, sigmoid(x) "
                "= 1 / (1 + exp(-x)), which is above 1/2 for x > 0.",
            ),
            (
                s * (1.0 - s),
                "this is the derivative sigmoid(x) (1 - sigmoid(x)); Exercise 1.1 "
                "asks for the sigmoid itself.",
            ),
            (
                lambda: np.exp(-x) / (1.0 + np.exp(-x)),
                "exp(-x) / (1 + exp(-x)) is sigmoid(-x): the form for x < 0 is exp(x) "
                "/ (1 + exp(x)).",
            ),
        ]

    elementwise(
        "sigmoid",
        fn,
        "x",
        cases,
        _ref.sigmoid,
        mistakes,
        hints=(("overflow", overflow), *SCALAR_HINTS),
    )


def sigmoid_grad(fn):
    """Check Exercise 1.2: ``fn(s)`` is ``s * (1 - s)`` for sigmoid outputs ``s``."""
    xs = [np.linspace(-6.0, 6.0, 13), np.array([[1.0, 2.0], [-1.0, -2.0]])]
    cases = [(f"s = sigmoid(x) for x = {fmt(x)}", _ref.sigmoid(x)) for x in xs]
    cases += [
        ("s = 0.5 (that is, x = 0)", 0.5),
        ("s at the ends of its range", np.array([0.0, 1e-9, 0.5, 1.0 - 1e-9, 1.0])),
    ]

    def mistakes(s, expected, got):
        return [
            (
                lambda: _sigmoid(s) * (1.0 - _sigmoid(s)),
                "you applied the sigmoid again: sigmoid_grad receives s = sigmoid(x), "
                "the activation, not x. The derivative in terms of s is s * (1 - s), "
                "with no further sigmoid.",
            ),
            (
                -s * (1.0 - s),
                "wrong sign: the sigmoid is increasing, so its derivative s * (1 - s) "
                "is >= 0.",
            ),
            (s * (1.0 + s), "the factor is (1 - s), not (1 + s)."),
            (s, "you returned s itself: the derivative is s * (1 - s)."),
            (1.0 - s, "a factor s is missing: the derivative is s * (1 - s)."),
            (
                lambda: _sigmoid(s),
                "you returned the sigmoid of the input; the exercise asks for the "
                "derivative, s * (1 - s).",
            ),
            (
                1.0 - s * s,
                "1 - s**2 is the derivative of tanh; for the sigmoid it is s * (1 - "
                "s).",
            ),
        ]

    elementwise("sigmoid_grad", fn, "s", cases, _ref.sigmoid_grad, mistakes)


def tanh_grad(fn):
    """Check Exercise 1.3: ``fn(t)`` is ``1 - t**2`` for tanh outputs ``t``."""
    xs = [np.linspace(-3.0, 3.0, 13), np.array([[1.0, 2.0], [-1.0, -2.0]])]
    cases = [(f"t = tanh(x) for x = {fmt(x)}", np.tanh(x)) for x in xs]
    cases += [
        ("t = 0.5", 0.5),
        ("t at the ends of its range", np.array([-1.0, -0.5, 0, 0.5, 1])),
    ]

    def mistakes(t, expected, got):
        return [
            (
                lambda: 1.0 - np.tanh(t) ** 2,
                "you applied tanh again: tanh_grad receives t = tanh(x), the "
                "activation, not x. The derivative in terms of t is 1 - t**2, with no "
                "further tanh.",
            ),
            (1.0 - t, "the square is missing: the derivative is 1 - t**2."),
            (
                t * t - 1.0,
                "wrong sign: tanh is increasing, so its derivative 1 - t**2 is >= 0.",
            ),
            (
                1.0 + t * t,
                "wrong sign inside: the derivative is 1 - t**2, not 1 + t**2.",
            ),
            (
                (1.0 - t) ** 2,
                "(1 - t)**2 is not 1 - t**2: square t, then subtract it from 1.",
            ),
            (
                t * (1.0 - t),
                "t * (1 - t) is the sigmoid's formula; for tanh it is 1 - t**2.",
            ),
            (1.0 - 2.0 * t, "the derivative is 1 - t**2 (t squared), not 1 - 2t."),
            (t, "you returned t itself: the derivative is 1 - t**2."),
            (
                np.tanh(t),
                "you returned tanh of the input; the exercise asks for the derivative "
                "1 - t**2.",
            ),
        ]

    elementwise("tanh_grad", fn, "t", cases, _ref.tanh_grad, mistakes)


def relu(fn):
    """Check Exercise 1.4: ``fn(x)`` is ``max(0, x)``, elementwise."""
    xs = [
        np.array([-3.0, -1.5, -0.1, 0.0, 0.1, 1.5, 3.0]),
        np.array([[1.0, -2.0, 0.5], [-1.0, 2.0, -0.5]]),
        -2.0,
        2.5,
        np.array([-1e4, 1e4]),
    ]

    def mistakes(x, expected, got):
        return [
            (x, "you returned the input unchanged: negative values must become 0."),
            (
                np.minimum(x, 0.0),
                "you kept the negative part: ReLU is max(0, x), not min(0, x).",
            ),
            (
                (x > 0).astype(float),
                "you returned 1 where x > 0 and 0 elsewhere, which is the derivative; "
                "ReLU itself is max(0, x).",
            ),
            (
                np.abs(x),
                "|x| is not ReLU: negative inputs must give 0, not their absolute "
                "value.",
            ),
            (
                bool(np.any(got < 0)),
                "ReLU never returns a negative number: it is max(0, x).",
            ),
        ]

    builtin_max = (
        "Python's max(0, x) and `if x > 0:` compare single numbers; for an array use "
        "the elementwise np.maximum (or a boolean mask)."
    )
    elementwise(
        "relu",
        fn,
        "x",
        [(f"x = {fmt(x)}", x) for x in xs],
        _ref.relu,
        mistakes,
        hints=(("truth value of an array", builtin_max), *SCALAR_HINTS),
        shape_mistakes=[
            (
                (),
                "you returned a single number: np.max(x, 0) or np.max(x) reduce the "
                "array to its largest element; the elementwise maximum of x and 0 is "
                "np.maximum(x, 0).",
            )
        ],
    )


def relu_grad(fn):
    """Check Exercise 1.5: ``fn(a)`` is 1.0 where ``a > 0``, else 0.0 (a = relu(x))."""
    xs = [
        np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0]),
        np.array([[1.0, -2.0, 0.0], [-1.0, 2.0, 0.25]]),
    ]
    cases = [(f"a = relu(x) for x = {fmt(x)}", _ref.relu(x)) for x in xs]
    cases += [
        ("a = 0.0 (the kink)", 0.0),
        ("a = 3.0", 3.0),
        ("a = " + fmt(np.array([0.0, 1e-12, 1e4])), np.array([0.0, 1e-12, 1e4])),
    ]

    def mistakes(a, expected, got):
        kink = a == 0
        at_kink = fmt(float(got[kink].ravel()[0])) if kink.any() else ""
        return [
            (
                bool(kink.any()) and np.allclose(got[~kink], expected[~kink]),
                f"right everywhere except at a = 0, where you returned {at_kink}: the "
                "derivative at the kink is taken to be 0, so test a > 0 (not a >= 0).",
            ),
            (
                a,
                "you returned the input a: the derivative is a mask, 1 where a > 0 "
                "and 0 elsewhere.",
            ),
            (
                (a <= 0).astype(float),
                "the mask is inverted: 1 where a > 0, 0 elsewhere.",
            ),
            (np.zeros_like(a), "the derivative is 1 where a > 0, not 0 everywhere."),
        ]

    division = (
        "a / |a| or a / a fails at a = 0; compare instead: 1.0 where a > 0, 0.0 "
        "elsewhere."
    )
    elementwise(
        "relu_grad",
        fn,
        "a",
        cases,
        _ref.relu_grad,
        mistakes,
        hints=(
            ("divide", division),
            (
                "truth value of an array",
                "`if a > 0:` needs a single number; for an array, compare "
                "elementwise: (a > 0).",
            ),
            *SCALAR_HINTS,
        ),
    )
