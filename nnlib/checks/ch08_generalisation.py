"""Checks of chapter 8 (generalisation): inverted dropout, forward and backward.

* ``dropout_forward(x, p, rng, training=True) -> (out, cache)``: ``p`` is the
  probability of DROPPING an entry; in training the mask is drawn as
  ``mask = rng.random(x.shape) >= p`` (True keeps the entry),
  ``out = x * mask / (1 - p)`` and ``cache = (mask, p)``; when ``training`` is False,
  or ``p == 0``, nothing is dropped or scaled: ``out`` equals ``x`` and
  ``cache = (None, p)``.
* ``dropout_backward(dout, cache) -> dx``: ``dx = dout * mask / (1 - p)``, or ``dout``
  when the mask is None.

Because the mask is random, each check calls the student's function with a
``numpy.random.Generator`` seeded like the one it uses for the reference, so the two
draw the same numbers. On the first disagreement a check raises
:class:`DropoutCheckFailure` (an ``AssertionError``) naming the case, the expected
value, the value received and, when the value received is what a classic mistake
produces, a hint naming that mistake. Otherwise it prints ``✓ <name>: all N checks
passed``.

This module is self-contained on purpose: it defines its own small message helpers.
"""

from __future__ import annotations

import textwrap
import warnings

import numpy as np

__all__ = ["DropoutCheckFailure", "dropout_forward", "dropout_backward"]


class DropoutCheckFailure(AssertionError):
    """Raised by a chapter 8 check: names the case, expected, got and a hint."""


# --------------------------------------------------------------------------- messages


def _fmt(value, width=400):
    """A compact rendering of a value for a message."""
    if isinstance(value, np.ndarray):
        with np.printoptions(
            precision=6, suppress=True, threshold=30, edgeitems=3, linewidth=100
        ):
            text = np.array2string(value, separator=", ")
        text = f"{text} (shape {value.shape})" if value.ndim else text
    elif isinstance(value, float):
        text = f"{value:.8g}"
    else:
        text = repr(value)
    return textwrap.shorten(text.replace("\n", " "), width=width, placeholder=" ...")


def _fail(exercise, case, expected=None, got=None, hint=None, message=None):
    lines = [f"{exercise} is not right yet, for {case}."]
    if message:
        lines.append(message)
    if expected is not None or got is not None:
        lines.append(f"  expected: {_fmt(expected)}")
        lines.append(f"  got:      {_fmt(got)}")
    if hint:
        lines.append(f"Hint: {hint}")
    raise DropoutCheckFailure("\n".join(lines))


def _passed(exercise, n):
    print(f"✓ {exercise}: all {n} checks passed")


def _close(a, b, rtol=1e-7, atol=1e-10):
    try:
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _expect_callable(exercise, fn):
    if not callable(fn):
        raise TypeError(
            f"checks.{exercise} expects the function you wrote, got "
            f"{type(fn).__name__} {fn!r}"
        )


def _call(exercise, case, fn, *args, **kwargs):
    """Call the student's function; an exception or a numpy warning becomes a failure.

    ``NotImplementedError`` passes through: an unfilled exercise stops with its message.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except RuntimeWarning as w:
        _fail(
            exercise,
            case,
            message=f"numpy warned while your function ran: {w}",
            hint="a division by zero? (1 - p) is never 0 here, since p < 1.",
        )
    except Exception as exc:  # noqa: BLE001 - reported to the student with its type
        text = f"{type(exc).__name__}: {exc}"
        hint = None
        if "NoneType" in text:
            hint = (
                "when nothing was dropped (training=False or p == 0) the cache holds "
                "mask = None: then return dout unchanged (a copy), without using the "
                "mask."
            )
        _fail(exercise, case, message=f"your function raised {text}", hint=hint)


def _first_hint(got, rules):
    """The hint of the first ``(value, hint)`` rule whose value equals ``got``."""
    for value, hint in rules:
        if value is not None and _close(got, value):
            return hint
    return None


def _check_unchanged(exercise, case, name, before, after):
    if not np.array_equal(before, after):
        where = tuple(int(i) for i in np.argwhere(before != after)[0])
        _fail(
            exercise,
            case,
            message=(
                f"it modified its argument {name} in place: {name}{list(where)} was "
                f"{float(before[where]):.10g} before the call and is "
                f"{float(after[where]):.10g} after it."
            ),
            hint=(
                f"compute the result in a new array (for example {name} * mask / (1 - "
                f"p)) "
                f"instead of {name} *= ..., {name}[...] = 0 or np.multiply(..., "
                f"out={name}): "
                f"the caller still needs {name} (the backward pass of the layer below "
                "uses it)."
            ),
        )


def _as_array(exercise, case, value, shape, what):
    if value is None:
        _fail(
            exercise,
            case,
            message=f"{what} is None.",
            hint="did you forget the return statement?",
        )
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(
            exercise,
            case,
            message=(
                f"expected {what} to be an array of numbers, got "
                f"{type(value).__name__} {_fmt(value)}"
            ),
        )
    if arr.shape != tuple(shape):
        hint = "return an array with the shape of the input."
        if arr.ndim == 1 and len(shape) == 2 and arr.shape[0] in shape:
            hint = (
                "draw one random number per ENTRY, rng.random(x.shape), not one per "
                "row or column."
            )
        _fail(
            exercise,
            case,
            expected=f"{what} of shape {tuple(shape)}",
            got=f"shape {arr.shape}",
            hint=hint,
        )
    return arr


# --------------------------------------------------------------------------- references


def _reference_forward(x, p, seed, training=True):
    """The reference output and mask, the mask drawn from ``default_rng(seed)``."""
    if not training or p == 0.0:
        return x.copy(), None
    mask = np.random.default_rng(seed).random(x.shape) >= p
    return x * mask / (1.0 - p), mask


def _forward_hint(x, p, seed, training, got, expected):
    """Name the classic mistake that produces ``got``, if one does."""
    r = np.random.default_rng(seed).random(x.shape)
    keep, keep_p = r >= p, r < p
    if not training:
        return _first_hint(
            got,
            [
                (
                    x / (1 - p),
                    "at test time (training=False) nothing is dropped AND nothing is "
                    "scaled: the scaling by 1 / (1 - p) happens during training only, "
                    "so out = x.",
                ),
                (
                    x * (1 - p),
                    "at test time (training=False) return x itself: inverted dropout "
                    "already scaled during training, so the test-time output needs no "
                    "factor (1 - p).",
                ),
                (
                    x * keep / (1 - p),
                    "at test time (training=False) nothing is dropped: return x "
                    "unchanged, draw no mask.",
                ),
                (
                    x * keep,
                    "at test time (training=False) nothing is dropped: return x "
                    "unchanged, draw no mask.",
                ),
                (np.zeros_like(x), "at test time (training=False) return x unchanged."),
            ],
        )
    hint = _first_hint(
        got,
        [
            (
                x * keep_p / (1 - p),
                "the mask is inverted: p is the probability of DROPPING an entry, not "
                "of keeping "
                "it, so rng.random(x.shape) >= p is True for the entries to KEEP.",
            ),
            (
                x * keep,
                "the kept entries must be divided by (1 - p), the probability of "
                "keeping "
                "them, so that E[out] = x; without the factor the layer's output is "
                "smaller in training than at test time.",
            ),
            (
                x * keep * (1 - p),
                "divide the kept entries by (1 - p), do not multiply: "
                "E[out] = (1 - p) * x / (1 - p) = x.",
            ),
            (
                x * keep / p if p > 0 else None,
                "p is the probability of DROPPING an entry; the probability of "
                "keeping it is "
                "(1 - p), and that is what the kept entries are divided by.",
            ),
            (
                x * keep_p / p if p > 0 else None,
                "p is the probability of DROPPING an entry, not of keeping it: keep "
                "where "
                "rng.random(x.shape) >= p and divide by (1 - p).",
            ),
            (
                x * (r >= 1 - p) / p if p > 0 else None,
                "p is the probability of DROPPING an entry, not of keeping it: keep "
                "where "
                "rng.random(x.shape) >= p and divide by (1 - p).",
            ),
            (x / (1 - p), "no entry was dropped: multiply by the mask as well."),
            (
                x,
                "in training (training=True, p > 0) entries must be dropped and the "
                "others "
                "scaled by 1 / (1 - p); you returned x unchanged.",
            ),
        ],
    )
    if hint is None and got.ndim == 2 and np.all(x != 0):
        dropped = got == 0
        if np.any(dropped) and (
            np.all(dropped == dropped[:1]) or np.all(dropped == dropped[:, :1])
        ):
            hint = (
                "the same entries are dropped in every row (or every column): draw one "
                "random number per ENTRY, rng.random(x.shape), not one per row or "
                "column."
            )
    if hint is None and np.all(np.isfinite(got)):
        nonzero = got != 0
        scaled = np.isclose(got[nonzero], (x / (1 - p))[nonzero])
        if np.all(scaled) and x.size >= 20:
            hint = (
                "the kept entries are scaled correctly but not the same entries are "
                "kept: draw the mask exactly as the statement says, one call "
                "rng.random(x.shape) >= p on the generator you were given (not "
                "np.random..., a new generator, or another draw such as "
                "rng.binomial), so the check can reproduce it."
            )
    return hint


# ------------------------------------------------------------------------- 8.1 forward


def dropout_forward(fn):
    """Check Exercise 8.1: ``fn(x, p, rng, training=True)`` is inverted dropout."""
    name = "dropout_forward"
    _expect_callable(name, fn)
    base = np.random.default_rng(8)
    cases = [
        # (x, p, seed, training)
        (base.standard_normal((4, 6)), 0.5, 1, True),
        (base.standard_normal((5, 8)) + 1.0, 0.2, 2, True),
        (base.standard_normal((3, 7)), 0.75, 3, True),
        (base.standard_normal(10), 0.3, 4, True),
        (base.standard_normal((4, 6)), 0.5, 5, False),
        (base.standard_normal((3, 5)), 0.0, 6, True),
    ]
    n = 0
    for x, p, seed, training in cases:
        case = (
            f"x of shape {x.shape}, p = {p}, rng = np.random.default_rng({seed}), "
            f"training = {training}"
        )
        expected, mask = _reference_forward(x, p, seed, training)
        given = x.copy()
        result = _call(
            name, case, fn, given, p, np.random.default_rng(seed), training=training
        )
        if not (isinstance(result, tuple) and len(result) == 2):
            _fail(
                name,
                case,
                message=(
                    f"expected a pair (out, cache), got "
                    f"{type(result).__name__} {_fmt(result, 200)}"
                ),
                hint="return out, (mask, p)",
            )
        out, cache = result
        got = _as_array(name, case, out, x.shape, "out")
        if not _close(got, expected):
            hint = _forward_hint(x, p, seed, training, got, expected)
            if hint is None and not np.array_equal(given, x):
                hint = "your function changed x in place; compute out in a new array."
            _fail(name, case, expected=expected, got=got, hint=hint)
        _check_unchanged(name, case, "x", x, given)
        n += 1
        if not (isinstance(cache, tuple) and len(cache) == 2):
            _fail(
                name,
                case,
                message=(
                    f"expected the cache to be the pair (mask, p), got "
                    f"{type(cache).__name__} {_fmt(cache, 200)}"
                ),
                hint="return out, (mask, p): dropout_backward needs both.",
            )
        c_mask, c_p = cache
        try:
            p_ok = float(c_p) == p
        except (TypeError, ValueError):
            p_ok = False
        if not p_ok:
            _fail(
                name,
                case,
                message="the second entry of the cache must be p.",
                expected=p,
                got=c_p,
                hint="return out, (mask, p).",
            )
        if mask is None:
            if c_mask is not None and not np.all(np.asarray(c_mask) == 1):
                _fail(
                    name,
                    case,
                    message=(
                        "nothing is dropped here, so the cache's mask "
                        "should be None (or keep everything)."
                    ),
                    expected=None,
                    got=c_mask,
                    hint="when training is False or p == 0 return x.copy(), (None, p).",
                )
        else:
            m = _as_array(name, case, c_mask, x.shape, "the cache's mask")
            if not np.array_equal(m != 0, mask):
                hint = None
                if np.array_equal(m == 0, mask):
                    hint = (
                        "the cache must hold the mask of the entries KEPT (True where "
                        "rng.random(x.shape) >= p), not of the dropped ones."
                    )
                elif _close(m, mask / (1 - p)):
                    hint = None  # a mask already scaled: accepted below
                if hint is not None or not _close(m, mask / (1 - p)):
                    _fail(
                        name,
                        case,
                        message="the cache's mask is not the mask that was used.",
                        expected=mask,
                        got=m,
                        hint=hint or "return out, (mask, p).",
                    )
            if not (m.dtype == bool or np.all((m == 0) | (m == 1))):
                _fail(
                    name,
                    case,
                    message=(
                        "the cache's mask should hold True/False (or 1/0): "
                        "dropout_backward divides by (1 - p) itself."
                    ),
                    expected=mask,
                    got=m,
                    hint="store mask = rng.random(x.shape) >= p, not mask / (1 - p).",
                )
        n += 1
    # The scaling argument, on a large input: E[out] = x, and a fraction p of zeros.
    x = np.full((200, 500), 2.0)
    p = 0.3
    case = (
        "x = 2.0 everywhere, shape (200, 500), p = 0.3: the mean of out and its zeros"
    )
    out, _ = _call(
        name, case, fn, x.copy(), p, np.random.default_rng(11), training=True
    )
    got = _as_array(name, case, out, x.shape, "out")
    zeros = float(np.mean(got == 0))
    if abs(zeros - p) > 0.01 or abs(got.mean() - 2.0) > 0.02:
        _fail(
            name,
            case,
            message=(
                "about a fraction p of the entries should be 0 and the "
                "mean of out should be about 2.0 (E[out] = x)."
            ),
            expected="fraction of zeros 0.3 +- 0.01, mean 2.0 +- 0.02",
            got=f"fraction of zeros {zeros:.4f}, mean {got.mean():.4f}",
            hint="keep an entry with probability (1 - p) and divide it by (1 - p).",
        )
    n += 1
    _passed(name, n)


# ------------------------------------------------------------------------- 8.2 backward


def dropout_backward(fn):
    """Check Exercise 8.2: ``fn(dout, cache)`` is the gradient of inverted dropout."""
    name = "dropout_backward"
    _expect_callable(name, fn)
    base = np.random.default_rng(80)
    cases = [
        # (dout, p, seed, training)
        (base.standard_normal((4, 6)), 0.5, 1, True),
        (base.standard_normal((5, 8)), 0.2, 2, True),
        (base.standard_normal((3, 7)), 0.75, 3, True),
        (base.standard_normal(10), 0.3, 4, True),
        (base.standard_normal((4, 6)), 0.5, 5, False),
        (base.standard_normal((3, 5)), 0.0, 6, True),
    ]
    n = 0
    for dout, p, seed, training in cases:
        x = np.ones_like(dout)
        _, mask = _reference_forward(x, p, seed, training)
        shown = (
            "None" if mask is None else f"the mask of rng.random({dout.shape}) >= {p}"
        )
        case = (
            f"dout of shape {dout.shape}, cache = (mask, p) with p = {p} and mask = "
            f"{shown} (from dropout_forward(x, {p}, np.random.default_rng({seed}), "
            f"training={training}))"
        )
        expected = dout.copy() if mask is None else dout * mask / (1 - p)
        given = dout.copy()
        given_mask = None if mask is None else mask.copy()
        got = _call(name, case, fn, given, (given_mask, p))
        got = _as_array(name, case, got, dout.shape, "dx")
        if not _close(got, expected):
            hint = None
            if mask is None:
                hint = _first_hint(
                    got,
                    [
                        (
                            dout / (1 - p),
                            "when mask is None nothing was dropped or scaled in the "
                            "forward pass, so dx = dout (no factor 1 / (1 - p)).",
                        ),
                        (
                            dout * (1 - p),
                            "when mask is None nothing was dropped or scaled in the "
                            "forward pass, so dx = dout.",
                        ),
                    ],
                )
            else:
                hint = _first_hint(
                    got,
                    [
                        (
                            dout / (1 - p),
                            "the mask is missing: a dropped unit contributed nothing "
                            "to the output, so it receives no gradient; multiply by "
                            "the mask.",
                        ),
                        (
                            dout * mask,
                            "the factor 1 / (1 - p) is missing: the forward pass "
                            "multiplied each kept entry by 1 / (1 - p), so the "
                            "gradient is multiplied by the same.",
                        ),
                        (
                            dout * mask / (1 - p) ** 2,
                            "you scaled twice: dx = dout * mask / (1 - p),"
                            " with (1 - p) once.",
                        ),
                        (
                            dout * mask * (1 - p),
                            "divide by (1 - p), do not multiply: the "
                            "forward pass divided by it.",
                        ),
                        (
                            dout * mask / p if p > 0 else None,
                            "p is the probability of DROPPING; the kept entries were "
                            "divided by "
                            "(1 - p), and so is their gradient.",
                        ),
                        (
                            dout * ~mask / (1 - p),
                            "the mask is inverted: True marks the entries "
                            "that were KEPT, which are the ones that pass "
                            "their gradient.",
                        ),
                        (
                            dout,
                            "dropout_backward must use the mask and p of the cache: "
                            "dx = dout * mask / (1 - p).",
                        ),
                        (
                            mask / (1 - p),
                            "the gradient is dout times the local derivative "
                            "mask / (1 - p), not the local derivative alone.",
                        ),
                    ],
                )
            if hint is None and not np.array_equal(given, dout):
                hint = "your function changed dout in place; compute dx in a new array."
            _fail(name, case, expected=expected, got=got, hint=hint)
        _check_unchanged(name, case, "dout", dout, given)
        if mask is not None and not np.array_equal(mask, given_mask):
            _fail(
                name,
                case,
                message="it modified the cache's mask in place.",
                expected=mask,
                got=given_mask,
                hint="leave the cache as it is; compute dx in a new array.",
            )
        n += 1
    _passed(name, n)
