"""Checks of Chapter 1: activation functions and their derivatives.

Each check runs the student's function on a handful of inputs (a 1-D array, the
2-D array ``[[1, 2], [-1, -2]]``, a plain number, extreme values), compares the
result with the reference in :mod:`nnlib.activations`, and verifies that the
input was left unchanged. On the first disagreement it raises
``AssertionError`` naming the input, the expected value, the value received and,
when the value received is what a classic mistake produces, a hint naming that
mistake (``sigmoid_grad`` fed ``x`` instead of ``s``, a sigmoid that overflows,
a ReLU that returns negative numbers ...).

The small case runner defined here (:func:`_check_case`) is shared with the
Chapter 2 checks.
"""
from __future__ import annotations

import numpy as np

from .. import activations as _ref
from ._common import CheckFailure, as_result_array, close, expect_callable, fail, fmt, passed, run_candidate

__all__ = ["sigmoid", "sigmoid_grad", "tanh_grad", "relu", "relu_grad"]

_IN_PLACE_HINT = ("your function changed the array it was given. Compute the result in a new array "
                  "(for example start from x = np.array(x, dtype=float), which copies) and avoid in-place "
                  "operations on the argument such as x -= ..., x[mask] = ... or np.exp(x, out=x).")
_SCALAR_HINT = ("the function must also work for a plain number such as 3.0, not only for arrays: "
                "convert the argument first with np.asarray(x, dtype=float).")


# --------------------------------------------------------------------------- runner


def _call(exercise, case, fn, args, warning_hint=None, error_hint=None):
    """Call ``fn(*args)`` through :func:`run_candidate`, replacing its generic hint by a specific one.

    ``warning_hint`` is used when numpy warned (overflow, division by zero);
    ``error_hint(exc)`` may return a hint for an exception the function raised.
    ``NotImplementedError`` passes through unchanged.
    """
    try:
        return run_candidate(exercise, case, fn, *args)
    except CheckFailure as exc:
        cause = exc.__context__
        hint = None
        if isinstance(cause, RuntimeWarning):
            hint = warning_hint
        elif isinstance(cause, Exception) and error_hint is not None:
            hint = error_hint(cause)
        if hint is None:
            raise
        text = str(exc).split("\nHint: ")[0]
        raise CheckFailure(f"{text}\nHint: {hint}") from None


def _check_case(exercise, case, fn, args, expected, *, diagnose=None, shape_hint=None, warning_hint=None,
                error_hint=None, accept=None, names=None, rtol=1e-6, atol=1e-8):
    """Run one case of a check; raise the check's ``AssertionError`` if anything is off.

    Parameters
    ----------
    exercise, case : str
        Names used in the message (``case`` describes the input).
    fn : callable
        The student's function.
    args : tuple
        Its arguments. Arrays are passed as copies, and the originals are used to
        detect a function that modifies its input in place.
    expected : float or numpy.ndarray
        The reference result.
    diagnose : callable, optional
        ``diagnose(got) -> str or None``: a hint when ``got`` is what a classic
        mistake produces (called only when ``got`` has the right shape but the
        wrong values).
    shape_hint : callable, optional
        ``shape_hint(got) -> str or None``, called when the shape is wrong.
    warning_hint, error_hint
        Passed to :func:`_call`.
    accept : callable, optional
        ``accept(got) -> bool``: a result that is not close to ``expected``
        may still be accepted (used where several answers are right).
    names : tuple of str, optional
        The names of the arguments, for the message about an input modified in place.
    rtol, atol : float
        Tolerances of the comparison.
    """
    given = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)
    got = _call(exercise, case, fn, given, warning_hint, error_hint)
    expected = np.asarray(expected, dtype=np.float64)
    if got is None:
        fail(exercise, case, expected=expected, got=None,
             hint="your function returned None: did you forget the return statement?")
    try:
        got_arr = np.array(got, dtype=np.float64)
    except (TypeError, ValueError):
        fail(exercise, case, message=f"expected a number or an array of numbers, got {type(got).__name__} {fmt(got)}")
    if got_arr.shape != expected.shape:
        hint = shape_hint(got_arr) if shape_hint is not None else None
        if hint is not None:
            fail(exercise, case, expected=f"an array of shape {expected.shape}", got=f"shape {got_arr.shape}",
                 hint=hint)
        as_result_array(exercise, case, got_arr, expected.shape)  # fails with the generic shape message
    if not close(got_arr, expected, rtol=rtol, atol=atol) and not (accept is not None and accept(got_arr)):
        hint = diagnose(got_arr) if diagnose is not None else None
        if hint is None and not np.all(np.isfinite(got_arr)):
            hint = ("your result contains NaN or inf: some step overflowed, divided by zero or took the log "
                    "of 0 (a np.errstate(...) block would hide numpy's warning, not fix the formula).")
        fail(exercise, case, expected=expected, got=got_arr, hint=hint)
    names = names or ("the input",) * len(args)
    for before, after, arg in zip(args, given, names):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
            changed = np.argwhere(before != after)[0]
            where = f"{arg}[{', '.join(str(int(i)) for i in changed)}]" if before.ndim else arg
            was, now = float(before[tuple(changed)]), float(after[tuple(changed)])
            fail(exercise, case, message=(
                f"it returned the right values but modified {arg} in place: {where} was "
                f"{was:.10g} before the call and is {now:.10g} after it "
                f"(below: {arg} before the call, and after it)."), expected=before, got=after,
                hint=_IN_PLACE_HINT)


def _matches(got, candidate, rtol=1e-6, atol=1e-8) -> bool:
    """Whether ``got`` equals what a (mistaken) formula gives; False if that formula itself fails."""
    try:
        with np.errstate(all="ignore"):
            value = np.asarray(candidate() if callable(candidate) else candidate, dtype=np.float64)
    except Exception:  # noqa: BLE001 - a formula that does not apply to this input
        return False
    return close(got, np.broadcast_to(value, np.shape(got)) if value.ndim == 0 else value, rtol=rtol, atol=atol)


def _first_hint(got, rules):
    """The hint of the first ``(formula, hint)`` rule whose formula reproduces ``got``."""
    for formula, hint in rules:
        if _matches(got, formula):
            return hint
    return None


def _scalar_error_hint(is_scalar, extra=()):
    """An ``error_hint`` that recognises a few numpy error messages."""

    def hint(exc):
        text = str(exc)
        for pattern, message in extra:
            if pattern in text:
                return message
        if is_scalar:
            return _SCALAR_HINT
        return None

    return hint


def _case_name(**arrays) -> str:
    return ", ".join(f"{name} = {fmt(value)}" for name, value in arrays.items())


def _plain_sigmoid(x):
    """Sigmoid without input checks (the formulas below also apply it to values outside [0, 1])."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --------------------------------------------------------------------------- 1.1 sigmoid

_MATH_EXP = (("only length-1 arrays", "math.exp works on one number at a time: use np.exp, which works elementwise "
              "on arrays."),
             ("only 0-dimensional arrays", "math.exp works on one number at a time: use np.exp, which works "
              "elementwise on arrays."),
             ("truth value of an array", "an `if x >= 0:` test (or Python's max/min) needs a single number; for an "
                                         "array, choose between the two formulas elementwise with a boolean mask."))


def sigmoid(fn):
    """Check Exercise 1.1: ``fn(x)`` returns the sigmoid of ``x`` elementwise, without overflow."""
    name = "sigmoid"
    expect_callable(name, fn)
    overflow = ("numpy warned about an overflow: exp of a large positive number is inf in float64 (exp(710) "
                "already is). Use the form that only exponentiates numbers <= 0: 1 / (1 + exp(-x)) where "
                "x >= 0 and exp(x) / (1 + exp(x)) where x < 0. Beware that np.where(cond, A, B) computes both A "
                "and B for every element, so an overflow in the branch you throw away still happens.")
    cases = [
        np.linspace(-6.0, 6.0, 13),
        np.array([[1.0, 2.0], [-1.0, -2.0]]),
        3.0,
        np.array([-1e4, -1000.0, -30.0, 0.0, 30.0, 1000.0, 1e4]),
        np.array([[1, 2], [-1, -2]]),  # integers
    ]
    for x in cases:
        x_arr = np.asarray(x)
        expected = _ref.sigmoid(x)
        is_int = np.issubdtype(x_arr.dtype, np.integer)
        case = _case_name(x=x) + (" (an integer array)" if is_int else "")

        def diagnose(got, x=x_arr, expected=expected, is_int=is_int):
            return _first_hint(got, [
                (lambda: _plain_sigmoid(-x),
                 "you computed sigmoid(-x): check the sign in the exponent, sigmoid(x) = 1 / (1 + exp(-x)), "
                 "which is above 1/2 for x > 0."),
                (lambda: expected * (1.0 - expected),
                 "this is the derivative sigmoid(x) (1 - sigmoid(x)); Exercise 1.1 asks for the sigmoid itself."),
                (lambda: np.trunc(expected) if is_int else np.nan,
                 "your result was rounded to integers: an output array made with np.zeros_like(x) or "
                 "np.empty_like(x) takes the integer dtype of x. Convert x to float first "
                 "(np.asarray(x, dtype=float))."),
                (lambda: np.exp(-x) / (1.0 + np.exp(-x)),
                 "exp(-x) / (1 + exp(-x)) is sigmoid(-x): the form for negative inputs is exp(x) / (1 + exp(x))."),
            ])

        _check_case(name, case, fn, (x,), expected, diagnose=diagnose, warning_hint=overflow, names=("x",),
                    error_hint=_scalar_error_hint(np.ndim(x) == 0, _MATH_EXP))
    passed(name, len(cases))


# --------------------------------------------------------------------------- 1.2 sigmoid_grad


def sigmoid_grad(fn):
    """Check Exercise 1.2: ``fn(s)`` returns ``s * (1 - s)`` for sigmoid outputs ``s``."""
    name = "sigmoid_grad"
    expect_callable(name, fn)
    xs = [np.linspace(-6.0, 6.0, 13), np.array([[1.0, 2.0], [-1.0, -2.0]])]
    cases = [("s = sigmoid(x) for x = " + fmt(x), _ref.sigmoid(x)) for x in xs]
    cases += [("s = 0.5 (that is, x = 0)", 0.5),
              ("s at the ends of its range", np.array([0.0, 1e-9, 0.5, 1.0 - 1e-9, 1.0]))]
    for case, s in cases:
        s_arr = np.asarray(s, dtype=np.float64)
        expected = _ref.sigmoid_grad(s)

        def diagnose(got, s=s_arr):
            return _first_hint(got, [
                (lambda: _plain_sigmoid(s) * (1.0 - _plain_sigmoid(s)),
                 "you applied the sigmoid again: sigmoid_grad receives s = sigmoid(x), the activation, not x. "
                 "The derivative in terms of s is s * (1 - s), with no further sigmoid."),
                (lambda: -s * (1.0 - s),
                 "wrong sign: the sigmoid is increasing, so its derivative s * (1 - s) is >= 0."),
                (lambda: s * (1.0 + s), "the factor is (1 - s), not (1 + s)."),
                (lambda: s, "you returned s itself: the derivative is s * (1 - s)."),
                (lambda: 1.0 - s, "a factor s is missing: the derivative is s * (1 - s)."),
                (lambda: _plain_sigmoid(s),
                 "you returned the sigmoid of the input; the exercise asks for the derivative, s * (1 - s)."),
                (lambda: 1.0 - s * s, "1 - s**2 is the derivative of tanh; for the sigmoid it is s * (1 - s)."),
            ])

        _check_case(name, case, fn, (s,), expected, diagnose=diagnose, names=("s",),
                    error_hint=_scalar_error_hint(np.ndim(s) == 0))
    passed(name, len(cases))


# --------------------------------------------------------------------------- 1.3 tanh_grad


def tanh_grad(fn):
    """Check Exercise 1.3: ``fn(t)`` returns ``1 - t**2`` for tanh outputs ``t``."""
    name = "tanh_grad"
    expect_callable(name, fn)
    xs = [np.linspace(-3.0, 3.0, 13), np.array([[1.0, 2.0], [-1.0, -2.0]])]
    cases = [("t = tanh(x) for x = " + fmt(x), np.tanh(x)) for x in xs]
    cases += [("t = 0.5", 0.5), ("t at the ends of its range", np.array([-1.0, -0.5, 0.0, 0.5, 1.0]))]
    for case, t in cases:
        t_arr = np.asarray(t, dtype=np.float64)
        expected = _ref.tanh_grad(t)

        def diagnose(got, t=t_arr):
            return _first_hint(got, [
                (lambda: 1.0 - np.tanh(t) ** 2,
                 "you applied tanh again: tanh_grad receives t = tanh(x), the activation, not x. "
                 "The derivative in terms of t is 1 - t**2, with no further tanh."),
                (lambda: 1.0 - t, "the square is missing: the derivative is 1 - t**2."),
                (lambda: t * t - 1.0, "wrong sign: tanh is increasing, so its derivative 1 - t**2 is >= 0."),
                (lambda: 1.0 + t * t, "wrong sign inside: the derivative is 1 - t**2, not 1 + t**2."),
                (lambda: (1.0 - t) ** 2, "(1 - t)**2 is not 1 - t**2: square t, then subtract it from 1."),
                (lambda: t * (1.0 - t), "t * (1 - t) is the sigmoid's formula; for tanh it is 1 - t**2."),
                (lambda: 1.0 - 2.0 * t, "the derivative is 1 - t**2 (t squared), not 1 - 2t."),
                (lambda: t, "you returned t itself: the derivative is 1 - t**2."),
                (lambda: np.tanh(t), "you returned tanh of the input; the exercise asks for the derivative 1 - t**2."),
            ])

        _check_case(name, case, fn, (t,), expected, diagnose=diagnose, names=("t",),
                    error_hint=_scalar_error_hint(np.ndim(t) == 0))
    passed(name, len(cases))


# --------------------------------------------------------------------------- 1.4 relu

_BUILTIN_MAX = (("truth value of an array",
                 "Python's max(0, x) and `if x > 0:` compare single numbers; for an array use the elementwise "
                 "np.maximum (or a boolean mask)."),)


def relu(fn):
    """Check Exercise 1.4: ``fn(x)`` returns ``max(0, x)`` elementwise."""
    name = "relu"
    expect_callable(name, fn)
    cases = [
        np.array([-3.0, -1.5, -0.1, 0.0, 0.1, 1.5, 3.0]),
        np.array([[1.0, -2.0, 0.5], [-1.0, 2.0, -0.5]]),
        -2.0,
        2.5,
        np.array([-1e4, 1e4]),
    ]
    for x in cases:
        x_arr = np.asarray(x, dtype=np.float64)
        expected = _ref.relu(x)

        def diagnose(got, x=x_arr):
            hint = _first_hint(got, [
                (lambda: x, "you returned the input unchanged: negative values must become 0."),
                (lambda: np.minimum(x, 0.0), "you kept the negative part: ReLU is max(0, x), not min(0, x)."),
                (lambda: (x > 0).astype(float),
                 "you returned 1 where x > 0 and 0 elsewhere, which is the derivative; ReLU itself is max(0, x)."),
                (lambda: np.abs(x), "|x| is not ReLU: negative inputs must give 0, not their absolute value."),
                (lambda: -np.maximum(-x, 0.0), "ReLU keeps the positive part: max(0, x)."),
            ])
            if hint is None and np.any(got < 0):
                hint = "ReLU never returns a negative number: it is max(0, x)."
            return hint

        def shape_hint(got, x=x_arr):
            if got.ndim == 0 and x.ndim > 0:
                return ("you returned a single number: np.max(x, 0) or np.max(x) reduce the array to its "
                        "largest element; the elementwise maximum of x and 0 is np.maximum(x, 0).")
            return None

        _check_case(name, _case_name(x=x), fn, (x,), expected, diagnose=diagnose, shape_hint=shape_hint, names=("x",),
                    error_hint=_scalar_error_hint(np.ndim(x) == 0, _BUILTIN_MAX))
    passed(name, len(cases))


# --------------------------------------------------------------------------- 1.5 relu_grad


def relu_grad(fn):
    """Check Exercise 1.5: ``fn(a)`` returns 1 where ``a > 0`` and 0 elsewhere, for ReLU outputs ``a``."""
    name = "relu_grad"
    expect_callable(name, fn)
    xs = [np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0]), np.array([[1.0, -2.0, 0.0], [-1.0, 2.0, 0.25]])]
    cases = [("a = relu(x) for x = " + fmt(x), _ref.relu(x)) for x in xs]
    cases += [("a = 0.0 (the kink)", 0.0), ("a = 3.0", 3.0), ("a = " + fmt(np.array([0.0, 1e-12, 1e4])),
                                                             np.array([0.0, 1e-12, 1e4]))]
    for case, a in cases:
        a_arr = np.asarray(a, dtype=np.float64)
        expected = _ref.relu_grad(a)

        def diagnose(got, a=a_arr, expected=expected):
            at_kink = a == 0
            if np.any(at_kink) and close(got[~at_kink], expected[~at_kink]):
                return (f"right everywhere except at a = 0, where you returned {fmt(got[at_kink][0])}: the "
                        "derivative at the kink is taken to be 0, so test a > 0 (not a >= 0).")
            return _first_hint(got, [
                (lambda: a, "you returned the input a: the derivative is a mask, 1 where a > 0 and 0 elsewhere."),
                (lambda: np.ones_like(a), "the derivative is not always 1: it is 0 where a = 0 (inactive unit)."),
                (lambda: (a <= 0).astype(float), "the mask is inverted: 1 where a > 0, 0 elsewhere."),
                (lambda: np.zeros_like(a), "the derivative is 1 where a > 0, not 0 everywhere."),
            ])

        _check_case(name, case, fn, (a,), expected, diagnose=diagnose, names=("a",),
                    warning_hint=("numpy warned (division by zero?): a / |a| or a / a fails at a = 0; compare "
                                  "instead: 1 where a > 0, 0 elsewhere."),
                    error_hint=_scalar_error_hint(np.ndim(a) == 0, _BUILTIN_MAX))
    passed(name, len(cases))
