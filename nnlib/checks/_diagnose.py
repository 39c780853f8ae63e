"""Helpers of the Part II checks: calling a candidate with shape hints, and
recognising a classic mistake by recomputing it.

A check of a gradient does not only say "wrong": it recomputes the answer the
way a student would have got it with each classic slip (a missing transpose,
the derivative taken at the wrong quantity, the average forgotten ...) and, when
the student's answer matches one of them, names that slip.
"""
from __future__ import annotations

import numpy as np

from ._common import CheckFailure, close, fail, fmt, run_candidate

#: (substring of a numpy error message, hint) pairs for errors of shapes
SHAPE_HINTS = (
    ("could not be broadcast",
     "the shapes did not fit an elementwise operation. A product of a matrix of examples with a weight "
     "matrix is a matrix product (X @ W), not an elementwise one (X * W); and labels given as class ids "
     "(shape (N,)) cannot be subtracted from an (N, K) array of probabilities."),
    ("matmul",
     "the shapes did not fit a matrix product: write down the shape of each factor (the result must "
     "have the shape of what you compute, e.g. dW has the shape of W); a transpose is probably missing "
     "or misplaced."),
    ("not aligned",
     "the shapes did not fit a matrix product: write down the shape of each factor; a transpose is "
     "probably missing or misplaced."),
)

#: for functions that compute a softmax: a numpy warning almost always comes from np.exp of large scores
SOFTMAX_HINTS = SHAPE_HINTS + (
    ("numpy warned",
     "np.exp of large scores overflows (inf / inf = nan): subtract each row's maximum before "
     "exponentiating, or use nnlib.softmax."),
)


def call(exercise: str, case: str, fn, *args, hints=SHAPE_HINTS):
    """Run ``fn(*args)`` like :func:`run_candidate`, adding a hint when a numpy error fits a known slip."""
    try:
        return run_candidate(exercise, case, fn, *args)
    except CheckFailure as exc:
        text = str(exc)
        for pattern, hint in hints:
            if pattern in text:
                lines = [line for line in text.split("\n") if not line.startswith("Hint:")]
                raise CheckFailure("\n".join(lines + [f"Hint: {hint}"])) from None
        raise


def as_array(exercise: str, case: str, name: str, value, shape, shape_hints=()):
    """Convert one returned value to a float array of ``shape`` or fail saying which value is off."""
    if value is None:
        fail(exercise, case, message=f"{name} is None: did you forget to compute or return it?")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(exercise, case, message=f"{name} should be an array of shape {tuple(shape)}, got {fmt(value)}")
    if arr.shape != tuple(shape):
        hint = None
        for bad_shape, text in shape_hints:
            if arr.shape == tuple(bad_shape):
                hint = text
                break
        fail(exercise, case, expected=f"{name} of shape {tuple(shape)}", got=f"shape {arr.shape}", hint=hint)
    return arr


def unpack(exercise: str, case: str, result, names):
    """Check that ``result`` is a tuple or list of ``len(names)`` values and return it."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        fail(exercise, case,
             message=f"expected a tuple of {len(names)} values ({', '.join(names)}), got {fmt(result)}",
             hint="return all of them, in this order, e.g. `return " + ", ".join(names) + "`.")
    return tuple(result)


def compare(exercise: str, case: str, name: str, got, expected, variants=(), rtol=1e-6, atol=1e-9,
            default_hint=None):
    """Fail if ``got`` differs from ``expected``; name the first variant (a classic mistake) it equals."""
    if close(got, expected, rtol=rtol, atol=atol):
        return
    hint = default_hint
    for variant_hint, value in variants:
        if value is not None and close(got, value, rtol=rtol, atol=atol):
            hint = variant_hint
            break
    fail(exercise, case, expected=expected, got=got, hint=hint, message=f"{name} differs from the expected value.")
