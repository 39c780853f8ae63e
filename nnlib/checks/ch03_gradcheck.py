"""Check of Chapter 3's exercise: ``gradcheck_naive(f, x)``.

A gradient checker is judged by what it says about gradients whose truth we
know. The check feeds the candidate

* correct gradients, which it must accept: a quadratic on a 0-d array, a 1-D
  and a 2-D array; ln, sin - cos and exp (at x = 5, where a one-sided
  difference is off by about ``h f''/2`` and fails the 1e-5 threshold); a cost
  of size 1e6 with a small gradient and exp at x = 10 (round-off and large
  gradients, which a wrong step or an absolute error get wrong); and a cost that
  draws from Python's ``random``, which agrees with its gradient only if the
  checker restores the random state before every call of ``f``;
* planted wrong gradients, which it must reject, one of them wrong only at the
  last index of a 2-D array and one wrong by a relative 1e-3.

After every call it verifies that ``x`` came back unchanged (up to round-off),
that the answer is a bool, and that the printed line fits the answer. The
first call goes through a spy ``f`` that records where it is evaluated and the
random state it sees, so that a failure can be explained: step size,
one-sided difference, random state, entries never visited.
"""
from __future__ import annotations

import contextlib
import io
import random
import re
import warnings

import numpy as np

from ._common import expect_callable, fail, fmt, passed

__all__ = ["gradcheck_naive"]

EXERCISE = "gradcheck_naive"
H = 1e-4
TOL = 1e-5

FORMULA = "|num - ana| / max(1, |num|, |ana|)"


# --------------------------------------------------------------------------- the test functions
def _quadratic(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x ** 2)), 2 * x


def _ln(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(np.log(x))), 1.0 / x


def _sin_cos(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(np.sin(x) - np.cos(x))), np.cos(x) + np.sin(x)


def _exp(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(np.exp(x))), np.exp(x)


def _big_cost(x):
    """A cost near 1e6 whose gradient is small: the difference of two costs loses digits to round-off."""
    x = np.asarray(x, dtype=float)
    return 1e6 + float(np.sum(x ** 2)), 2 * x


def _random_cost(x):
    """A cost scaled by a random factor drawn from Python's ``random`` at every call."""
    x = np.asarray(x, dtype=float)
    c = random.uniform(0.5, 2.0)
    return c * float(np.sum(x ** 2)), 2 * c * x


def _missing_two(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x ** 2)), x  # should be 2 x


def _wrong_at_last(x):
    x = np.asarray(x, dtype=float)
    g = 2 * x
    g[-1, -1] += 0.5
    return float(np.sum(x ** 2)), g


def _slightly_wrong(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x ** 3)), 3 * x ** 2 * (1 + 1e-3)  # relative error 1e-3


def _cube_wrong(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x ** 3)), 3 * x  # should be 3 x**2


class _Spy:
    """``f(x) = sum(x**2)`` that records every point it is evaluated at and the random state it sees.

    It draws one number from ``random`` per call (without using it), so a
    checker that does not restore the state shows different states.
    """

    def __init__(self):
        self.points = []
        self.states = []

    def __call__(self, x):
        self.points.append(np.array(x, dtype=float, copy=True))
        self.states.append(hash(random.getstate()))
        random.random()
        return _quadratic(x)

    def report(self, x0):
        """What the calls reveal: the step(s), the directions and the entries visited."""
        steps, visited = [], set()
        for p in self.points:
            if p.shape != x0.shape:
                continue
            d = (p - x0).ravel()
            nz = np.flatnonzero(d)
            if len(nz) == 1:
                steps.append(float(d[nz[0]]))
                visited.add(int(nz[0]))
        pos = [s for s in steps if s > 0]
        neg = [s for s in steps if s < 0]
        h = float(np.median(np.abs(steps))) if steps else None
        return {
            "calls": len(self.points),
            "h": h,
            "one_sided": bool(steps) and (not pos or not neg),
            "visited": visited,
            "size": x0.size,
            "same_state": len(set(self.states)) <= 1,
        }


# --------------------------------------------------------------------------- running the candidate
def _run(candidate, f, x, case):
    """Call ``candidate(f, x)`` on a copy of x, capturing what it prints; return (answer, printed, x after)."""
    x_in = np.array(x, dtype=float, copy=True)
    out = io.StringIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with contextlib.redirect_stdout(out):
                answer = candidate(f, x_in)
    except NotImplementedError:
        raise
    except (RuntimeWarning, ZeroDivisionError, FloatingPointError) as exc:
        fail(EXERCISE, case, message=f"a division went wrong inside your function: {type(exc).__name__}: {exc}",
             hint=f"the relative error is {FORMULA}; its denominator is never below 1, so it cannot divide "
                  "by zero even where both gradients are 0 (this case has an entry with gradient 0).")
    except Exception as exc:  # noqa: BLE001 - shown to the student
        hint = None
        if np.ndim(x) == 0 and isinstance(exc, (TypeError, IndexError)):
            hint = ("x can be a 0-d array (a single number): loop over np.ndindex(x.shape) or "
                    "np.nditer(x, flags=['multi_index']), which both handle 0-d arrays; len(x) and x[i] do not.")
        fail(EXERCISE, case, message=f"your function raised {type(exc).__name__}: {exc}", hint=hint)
    return answer, out.getvalue(), x_in


def _as_bool(answer, case, printed):
    if answer is None:
        fail(EXERCISE, case, expected="True or False", got=None,
             hint="your function returned None: did you forget to return the result (after printing it)?")
    if not isinstance(answer, (bool, np.bool_)):
        fail(EXERCISE, case, expected="True or False (a bool)", got=f"{type(answer).__name__} {fmt(answer)}",
             hint="return whether the check passed (True/False), not a number such as the relative error.")
    return bool(answer)


def _check_x(x_before, x_after, case):
    scale = max(1.0, float(np.max(np.abs(x_before)))) if x_before.size else 1.0
    if x_after.shape != x_before.shape or np.max(np.abs(x_after - x_before), initial=0.0) > 1e-10 * scale:
        fail(EXERCISE, case, message="your function changed x, the point it was asked to check at.",
             expected=x_before, got=x_after,
             hint="after evaluating f at x + h e_i and x - h e_i, put the old value of x[i] back "
                  "(save it first), or work on a copy of x.")


def _hint_rejected_correct(spy, case_kind):
    """Why a checker said False for a correct gradient, from what the spy saw."""
    if case_kind == "random" and not spy["same_state"]:
        return ("f draws from Python's random module, so every call must start from the same random state: "
                "save it once with random.getstate() and call random.setstate(...) before every call of f.")
    if spy["calls"] == 0:
        return "your function never calls f: the numerical gradient needs f(x + h e_i) and f(x - h e_i)."
    if spy["h"] is not None and not 0.5 * H <= spy["h"] <= 2 * H:
        small = spy["h"] < H
        why = ("a tiny step loses the digits of f to round-off (here the cost is about 1e6)" if small else
               "a large step makes the truncation error h**2 f'''/6 exceed the threshold")
        return f"f was evaluated at steps of about h = {spy['h']:.1e}; the exercise uses h = 1e-4 ({why})."
    if spy["one_sided"]:
        return ("f was evaluated on one side of x only: a one-sided difference (f(x + h) - f(x)) / h has an "
                "error of about h f''/2 (7e-3 for exp at x = 5); use the centered difference "
                "(f(x + h) - f(x - h)) / (2h), whose error is O(h**2).")
    if case_kind == "random":
        return ("f draws from Python's random module: restore the state saved with random.getstate() "
                "before every call of f, including the first one that gives the analytic gradient.")
    return (f"the gradient here is right, so the comparison is off: use the relative error {FORMULA} "
            f"and fail only when it is above {TOL:g}.")


def _hint_accepted_wrong(spy, case_desc):
    if spy["calls"] and len(spy["visited"]) < spy["size"]:
        return (f"your function perturbed only {len(spy['visited'])} of the {spy['size']} entries of a 1-D x: "
                "compare the gradients at every index (np.ndindex(x.shape) visits all of them, for any shape).")
    return (f"the gradient is wrong ({case_desc}): compute the relative error {FORMULA} at every index and "
            f"return False as soon as one is above {TOL:g} (not a looser threshold).")


# --------------------------------------------------------------------------- the check
def gradcheck_naive(fn):
    """Check a student's ``gradcheck_naive(f, x) -> bool`` (Exercise 3.1).

    Parameters
    ----------
    fn : callable
        ``fn(f, x)`` where ``f(x) -> (cost, grad)``; prints its verdict and
        returns True or False.

    Raises
    ------
    AssertionError
        On the first case it gets wrong, saying which and why.
    """
    expect_callable(EXERCISE, fn)
    rng = np.random.default_rng(3)
    saved_state = random.getstate()
    try:
        random.seed(2026)
        # 1. the spy: a correct gradient of a quadratic, with a 0 entry (gradient 0 there)
        x_spy = np.array([0.5, -1.25, 0.0, 2.0])
        spy_f = _Spy()
        case = "f(x) = sum(x**2) at x = [0.5, -1.25, 0.0, 2.0] (a correct gradient)"
        answer, printed, x_after = _run(fn, spy_f, x_spy, case)
        spy = spy_f.report(x_spy)
        n = 0

        def judge(answer, printed, x_after, x, case, expect, kind, index_pattern=None, wrong_desc=""):
            nonlocal n
            _check_x(np.asarray(x, dtype=float), x_after, case)
            ok = _as_bool(answer, case, printed)
            if expect and not ok:
                fail(EXERCISE, case, expected=True, got=False, hint=_hint_rejected_correct(spy, kind))
            if not expect and ok:
                fail(EXERCISE, case, expected=False, got=True, hint=_hint_accepted_wrong(spy, wrong_desc))
            if ok and "passed" not in printed.lower():
                fail(EXERCISE, case, message=f"your function returned True but printed {printed.strip()[:200]!r}.",
                     hint='print "Gradient check passed!" when every index agrees.')
            plain = re.sub(r"np\.u?int\d+\((-?\d+)\)", r"\1", printed)  # (np.int64(2), ...) -> (2, ...)
            if not ok and index_pattern and not re.search(index_pattern, plain):
                fail(EXERCISE, case,
                     message=f"your function returned False but printed {printed.strip()[:300]!r}.",
                     hint="print the first index where the gradients disagree (as a tuple such as (2, 3)) "
                          "together with both gradients there, so the reader can find the mistake.")
            n += 1

        judge(answer, printed, x_after, x_spy, case, True, "quadratic")

        good = [
            ("f(x) = x**2 at the 0-d array x = np.array(1.5)", _quadratic, np.array(1.5), "quadratic"),
            ("f(x) = sum(x**2) at a 2-D x of shape (3, 4)", _quadratic, rng.standard_normal((3, 4)), "quadratic"),
            ("f(x) = sum(ln x) at x in [0.5, 3], shape (2, 3)", _ln, rng.uniform(0.5, 3.0, (2, 3)), "ln"),
            ("f(x) = sum(sin x - cos x) at x in [-3, 3], shape (5,)", _sin_cos, rng.uniform(-3, 3, 5), "sin"),
            ("f(x) = sum(exp x) at x = [4.9, 5.0, 5.1]", _exp, np.array([4.9, 5.0, 5.1]), "exp"),
            ("f(x) = 1e6 + sum(x**2) at x in [-1, 1], shape (4,) (a large cost, a small gradient)",
             _big_cost, rng.uniform(-1, 1, 4), "big"),
            ("f(x) = sum(exp x) at x = [9.5, 10.0] (gradients near 2e4)", _exp, np.array([9.5, 10.0]), "exp"),
            ("f(x) = c * sum(x**2) with c = random.uniform(0.5, 2) drawn at every call", _random_cost,
             rng.standard_normal(3), "random"),
        ]
        for case, f, x, kind in good:
            case += " (a correct gradient)"
            answer, printed, x_after = _run(fn, f, x, case)
            judge(answer, printed, x_after, x, case, True, kind)

        bad = [
            ("f(x) = sum(x**2) with the planted gradient x (instead of 2x) at x = [1.0, -2.0, 3.0]",
             _missing_two, np.array([1.0, -2.0, 3.0]), None, "it is off by a factor 2 everywhere"),
            ("f(x) = sum(x**2) at a 2-D x of shape (3, 4), with a planted gradient wrong only at index (2, 3)",
             _wrong_at_last, rng.standard_normal((3, 4)), r"2\D{1,4}3|\b11\b", "it is off by 0.5 at index (2, 3)"),
            ("f(x) = sum(x**3) with a planted gradient 3x**2 * (1 + 1e-3) at x = [1.5, 2.0, 2.5]",
             _slightly_wrong, np.array([1.5, 2.0, 2.5]), None, "its relative error is 1e-3 at every index"),
            ("f(x) = x**3 with the planted gradient 3x at the 0-d array x = np.array(2.0)",
             _cube_wrong, np.array(2.0), None, "6 instead of 12"),
        ]
        for case, f, x, pattern, desc in bad:
            answer, printed, x_after = _run(fn, f, x, case)
            judge(answer, printed, x_after, x, case, False, "planted", pattern, desc)
    finally:
        random.setstate(saved_state)
    passed(EXERCISE, n)
