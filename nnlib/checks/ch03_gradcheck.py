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

import random
import re

import numpy as np

from ._common import CheckFailure, fail, passed, run

__all__ = ["gradcheck_naive"]

EXERCISE = "gradcheck_naive"
H = 1e-4
TOL = 1e-5

FORMULA = "|num - ana| / max(1, |num|, |ana|)"


# ------------------------------------------------------------------ the test functions
def _quadratic(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x**2)), 2 * x


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
    """A cost near 1e6 with a small gradient: a difference of costs loses digits."""
    x = np.asarray(x, dtype=float)
    return 1e6 + float(np.sum(x**2)), 2 * x


def _random_cost(x):
    """A cost scaled by a random factor drawn from Python's ``random`` at every call."""
    x = np.asarray(x, dtype=float)
    c = random.uniform(0.5, 2.0)
    return c * float(np.sum(x**2)), 2 * c * x


def _missing_two(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x**2)), x  # should be 2 x


def _wrong_at_last(x):
    x = np.asarray(x, dtype=float)
    g = 2 * x
    g[-1, -1] += 0.5
    return float(np.sum(x**2)), g


def _slightly_wrong(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x**3)), 3 * x**2 * (1 + 1e-3)  # relative error 1e-3


def _cube_wrong(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x**3)), 3 * x  # should be 3 x**2


class _Spy:
    """``f(x) = sum(x**2)`` recording where it is evaluated and the random state.

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
        """What the calls reveal: the steps, the directions and the entries visited."""
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


# --------------------------------------------------------- running the candidate
_DIVISION = (
    f"the relative error is {FORMULA}; its denominator is never below 1, so it cannot "
    "divide by zero even where both gradients are 0 (this case has an entry with "
    "gradient 0)."
)
_ZERO_D = (
    "x can be a 0-d array (a single number): loop over np.ndindex(x.shape) or "
    "np.nditer(x, flags=['multi_index']), which both handle 0-d arrays; len(x) and "
    "x[i] do not."
)


def _run(candidate, f, x, case):
    """``candidate(f, x)`` through the runner: (answer as a bool, what it printed)."""
    hints = [("ZeroDivisionError", _DIVISION), ("divide", _DIVISION)]
    hints += (
        [("TypeError", _ZERO_D), ("IndexError", _ZERO_D)] if np.ndim(x) == 0 else []
    )
    answer, printed = run(
        EXERCISE,
        case,
        candidate,
        (f, np.array(x, dtype=float)),
        ("f", "x"),
        hints=hints,
        tolerance=1e-10,
        in_place_hints={
            "x": (
                "after evaluating f at x + h e_i and x - h e_i, put the old value of "
                "x[i] back (save it first), or work on a copy of x."
            )
        },
    )
    if not isinstance(answer, (bool, np.bool_)):
        fail(
            EXERCISE,
            case,
            expected="True or False (a bool)",
            got=answer,
            hint=(
                "return whether the check passed (True/False), not a number such as "
                "the relative error."
            ),
        )
    return bool(answer), printed


def _scaled_gradient_hint(candidate, x):
    """Why a correct gradient was rejected, from the wrong ones it accepts."""
    for factor, hint in (
        (
            2.0,
            "your numerical gradient is twice the true one: the centered difference "
            "f(x + h) - f(x - h) spans 2h, so divide it by 2 * h, in parentheses: "
            "(f(x + h) - f(x - h)) / (2 * h).",
        ),
        (
            0.0,
            "your numerical gradient is about 0: `/ 2 * h` divides by 2 and then "
            "MULTIPLIES by h; write / (2 * h).",
        ),
        (
            0.5,
            "your numerical gradient is half the true one: divide f(x + h) - f(x - h) "
            "by 2h, not 4h.",
        ),
        (
            -1.0,
            "your numerical gradient has the wrong sign: it is (f(x + h) - f(x - h)) "
            "/ (2h), in this order.",
        ),
    ):

        def f(x, factor=factor):
            return _quadratic(x)[0], factor * _quadratic(x)[1]

        try:
            if _run(candidate, f, x, "a probe")[0]:
                return hint
        except CheckFailure:
            pass
    return None


def _hint_rejected_correct(spy, case_kind, candidate, x_spy):
    """Why a checker said False for a correct gradient, from what the spy saw."""
    if case_kind == "random" and not spy["same_state"]:
        return (
            "f draws from Python's random module, so every call must start from the "
            "same random state: save it once with random.getstate() and call "
            "random.setstate(...) before every call of f."
        )
    if spy["calls"] == 0:
        return (
            "your function never calls f: the numerical gradient needs f(x + h e_i) "
            "and f(x - h e_i)."
        )
    if spy["h"] is not None and not 0.5 * H <= spy["h"] <= 2 * H:
        small = spy["h"] < H
        why = (
            "a tiny step loses the digits of f to round-off (here the cost is about "
            "1e6)"
            if small
            else "a large step makes the truncation error h**2 f'''/6 exceed the "
            "threshold"
        )
        return (
            f"f was evaluated at steps of about h = {spy['h']:.1e}; the exercise uses "
            f"h = 1e-4 ({why})."
        )
    if spy["one_sided"]:
        return (
            "f was evaluated on one side of x only: a one-sided difference (f(x + h) "
            "- f(x)) / h has an error of about h f''/2 (7e-3 for exp at x = 5); use "
            "the centered difference (f(x + h) - f(x - h)) / (2h), whose error is "
            "O(h**2)."
        )
    if case_kind == "random":
        return (
            "f draws from Python's random module: restore the state saved with "
            "random.getstate() before every call of f, including the first one that "
            "gives the analytic gradient."
        )
    scaled = _scaled_gradient_hint(candidate, x_spy)
    if scaled:
        return scaled
    return (
        "the gradient here is right, so the comparison is off: use the relative error "
        f"{FORMULA} and fail only when it is above {TOL:g}."
    )


def _hint_accepted_wrong(spy, case_desc):
    if spy["calls"] and len(spy["visited"]) < spy["size"]:
        return (
            f"your function perturbed only {len(spy['visited'])} of the {spy['size']} "
            "entries of a 1-D x: compare the gradients at every index "
            "(np.ndindex(x.shape) visits all of them, for any shape)."
        )
    return (
        f"the gradient is wrong ({case_desc}): compute the relative error {FORMULA} at "
        f"every index and return False as soon as one is above {TOL:g} (not a looser "
        "threshold)."
    )


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
    rng = np.random.default_rng(3)
    saved_state = random.getstate()
    try:
        random.seed(2026)
        # 1. the spy: a correct gradient of a quadratic, 0 at one entry
        x_spy = np.array([0.5, -1.25, 0.0, 2.0])
        spy_f = _Spy()
        case = "f(x) = sum(x**2) at x = [0.5, -1.25, 0.0, 2.0] (a correct gradient)"
        ok, printed = _run(fn, spy_f, x_spy, case)
        spy = spy_f.report(x_spy)
        n = 0

        def judge(ok, printed, case, expect, kind, index_pattern=None, wrong_desc=""):
            nonlocal n
            if expect and not ok:
                fail(
                    EXERCISE,
                    case,
                    expected=True,
                    got=False,
                    hint=_hint_rejected_correct(spy, kind, fn, x_spy),
                )
            if not expect and ok:
                fail(
                    EXERCISE,
                    case,
                    expected=False,
                    got=True,
                    hint=_hint_accepted_wrong(spy, wrong_desc),
                )
            if ok and "passed" not in printed.lower():
                fail(
                    EXERCISE,
                    case,
                    "your function returned True but printed "
                    f"{printed.strip()[:200]!r}.",
                    hint='print "Gradient check passed!" when every index agrees.',
                )
            plain = re.sub(
                r"np\.u?int\d+\((-?\d+)\)", r"\1", printed
            )  # np.int64(2) -> 2
            if not ok and index_pattern and not re.search(index_pattern, plain):
                fail(
                    EXERCISE,
                    case,
                    "your function returned False but printed "
                    f"{printed.strip()[:300]!r}.",
                    hint=(
                        "print the first index where the gradients disagree (as a "
                        "tuple such as (2, 3)) together with both gradients there, so "
                        "the reader can find the mistake."
                    ),
                )
            n += 1

        judge(ok, printed, case, True, "quadratic")

        good = [
            (
                "f(x) = x**2 at the 0-d array x = np.array(1.5)",
                _quadratic,
                np.array(1.5),
                "quadratic",
            ),
            (
                "f(x) = sum(x**2) at a 2-D x of shape (3, 4)",
                _quadratic,
                rng.standard_normal((3, 4)),
                "quadratic",
            ),
            (
                "f(x) = sum(ln x) at x in [0.5, 3], shape (2, 3)",
                _ln,
                rng.uniform(0.5, 3.0, (2, 3)),
                "ln",
            ),
            (
                "f(x) = sum(sin x - cos x) at x in [-3, 3], shape (5,)",
                _sin_cos,
                rng.uniform(-3, 3, 5),
                "sin",
            ),
            (
                "f(x) = sum(exp x) at x = [4.9, 5.0, 5.1]",
                _exp,
                np.array([4.9, 5.0, 5.1]),
                "exp",
            ),
            (
                "f(x) = 1e6 + sum(x**2) at x in [-1, 1], shape (4,) (a large cost, a "
                "small gradient)",
                _big_cost,
                rng.uniform(-1, 1, 4),
                "big",
            ),
            (
                "f(x) = sum(exp x) at x = [9.5, 10.0] (gradients near 2e4)",
                _exp,
                np.array([9.5, 10.0]),
                "exp",
            ),
            (
                "f(x) = c * sum(x**2) with c = random.uniform(0.5, 2) drawn at every "
                "call",
                _random_cost,
                rng.standard_normal(3),
                "random",
            ),
        ]
        for case, f, x, kind in good:
            case += " (a correct gradient)"
            judge(*_run(fn, f, x, case), case, True, kind)

        bad = [
            (
                "f(x) = sum(x**2) with the planted gradient x (instead of 2x) at x = "
                "[1.0, -2.0, 3.0]",
                _missing_two,
                np.array([1.0, -2.0, 3.0]),
                None,
                "it is off by a factor 2 everywhere",
            ),
            (
                "f(x) = sum(x**2) at a 2-D x of shape (3, 4), with a planted gradient "
                "wrong only at index (2, 3)",
                _wrong_at_last,
                rng.standard_normal((3, 4)),
                r"2\D{1,4}3|\b11\b",
                "it is off by 0.5 at index (2, 3)",
            ),
            (
                "f(x) = sum(x**3) with a planted gradient 3x**2 * (1 + 1e-3) at x = "
                "[1.5, 2.0, 2.5]",
                _slightly_wrong,
                np.array([1.5, 2.0, 2.5]),
                None,
                "its relative error is 1e-3 at every index",
            ),
            (
                "f(x) = x**3 with the planted gradient 3x at the 0-d array x = "
                "np.array(2.0)",
                _cube_wrong,
                np.array(2.0),
                None,
                "6 instead of 12",
            ),
        ]
        for case, f, x, pattern, desc in bad:
            judge(*_run(fn, f, x, case), case, False, "planted", pattern, desc)
    finally:
        random.setstate(saved_state)
    passed(EXERCISE, n)
