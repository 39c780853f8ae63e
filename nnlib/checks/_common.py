"""The machinery shared by the exercise checks.

A check runs the student's function on a handful of cases. The first case that
disagrees with the reference raises ``AssertionError`` with a message that
names the exercise, the input, what was expected, what came back, and - where
the evidence fits a classic mistake - a hint. When everything agrees it prints
one line.
"""
from __future__ import annotations

import contextlib
import io
import textwrap

import numpy as np

__all__ = ["CheckFailure", "fmt", "run_candidate", "fail", "passed", "close", "expect_callable"]


class CheckFailure(AssertionError):
    """Raised by a check; an ``AssertionError`` so that ``assert``-style tooling treats it as a failed test."""


def fmt(value, width: int = 400) -> str:
    """A compact, readable rendering of a value for a check message."""
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, suppress=True, threshold=30, edgeitems=3, linewidth=100):
            text = np.array2string(value, separator=", ")
        text = f"{text} (shape {value.shape})" if value.ndim else text
    elif isinstance(value, float):
        text = f"{value:.8g}"
    else:
        text = repr(value)
    return textwrap.shorten(text.replace("\n", " "), width=width, placeholder=" ...")


def fail(exercise: str, case: str, expected=None, got=None, hint: str | None = None, message: str | None = None):
    """Raise the check's ``AssertionError`` with a uniform, readable message."""
    lines = [f"{exercise} is not right yet, for {case}."]
    if message:
        lines.append(message)
    if expected is not None or got is not None:
        lines.append(f"  expected: {fmt(expected)}")
        lines.append(f"  got:      {fmt(got)}")
    if hint:
        lines.append(f"Hint: {hint}")
    raise CheckFailure("\n".join(lines))


def run_candidate(exercise: str, case: str, fn, *args, quiet: bool = False, **kwargs):
    """Call the student's ``fn``; turn an exception or a warning into a check failure that says where.

    ``NotImplementedError`` passes through unchanged, so an unfilled exercise
    stops with the message that names it.
    """
    import warnings

    out = io.StringIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            if quiet:
                with contextlib.redirect_stdout(out):
                    result = fn(*args, **kwargs)
            else:
                result = fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except RuntimeWarning as w:
        fail(exercise, case, message=f"numpy warned while your function ran: {w}",
             hint="an overflow or a division by zero usually means a numerically unstable formula.")
    except Exception as exc:  # noqa: BLE001 - reported to the student with its type
        fail(exercise, case, message=f"your function raised {type(exc).__name__}: {exc}")
    return (result, out.getvalue()) if quiet else result


def as_result_array(exercise: str, case: str, value, shape):
    """Check that a returned value is an array of the given shape; return it as float64."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(exercise, case, message=f"expected an array of shape {shape}, got {type(value).__name__} {fmt(value)}")
    if arr.shape != tuple(shape):
        fail(exercise, case, expected=f"an array of shape {tuple(shape)}", got=f"shape {arr.shape}",
             hint="return an array with the same shape as the input." if value is not None else
             "your function returned None: did you forget the return statement?")
    return arr


def close(a, b, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """``numpy.allclose`` that is False (rather than raising) on a shape mismatch or NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def expect_callable(exercise: str, fn) -> None:
    if not callable(fn):
        raise TypeError(f"checks.{exercise} expects the function you wrote, got {type(fn).__name__} {fn!r}")


def passed(exercise: str, n: int) -> None:
    print(f"✓ {exercise}: all {n} checks passed")
