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
draw the same numbers.
"""

from __future__ import annotations

import numpy as np

from ._common import Array, compare, fail, fmt, passed, run

__all__ = ["dropout_forward", "dropout_backward"]

RTOL, ATOL = 1e-7, 1e-10

_PER_ENTRY = (
    "draw one random number per ENTRY, rng.random(x.shape), not one per row or column."
)
_DIVISION = (
    "RuntimeWarning",
    "a division by zero? (1 - p) is never 0 here, since p < 1; p itself is 0 in one "
    "case.",
)
_TEST_TIME = (
    "at test time (training=False) nothing is dropped: return x unchanged, draw no "
    "mask."
)
_P_DROPS = (
    "p is the probability of DROPPING an entry, not of keeping it: keep where "
    "rng.random(x.shape) >= p and divide by (1 - p)."
)


def _reference_forward(x, p, seed, training=True):
    """The reference output and mask, the mask drawn from ``default_rng(seed)``."""
    if not training or p == 0.0:
        return x.copy(), None
    mask = np.random.default_rng(seed).random(x.shape) >= p
    return x * mask / (1.0 - p), mask


def _same_entries_dropped(x, got):
    """The same entries are zero in every row, or in every column."""
    if got.ndim != 2 or not np.all(x != 0):
        return False
    dropped = got == 0
    return bool(
        np.any(dropped)
        and (np.all(dropped == dropped[:1]) or np.all(dropped == dropped[:, :1]))
    )


def _other_entries_kept(x, p, got):
    """The kept entries are scaled right, but they are not the entries of the mask."""
    if x.size < 20 or not np.all(np.isfinite(got)):
        return False
    kept = got != 0
    return bool(np.all(np.isclose(got[kept], (x / (1 - p))[kept])))


def _forward_mistakes(x, p, seed, training, got):
    """``(evidence, hint)`` of the classic mistakes of the forward pass."""
    r = np.random.default_rng(seed).random(x.shape)
    keep, keep_p = r >= p, r < p
    if not training:
        return [
            (
                x / (1 - p),
                "at test time (training=False) nothing is dropped AND nothing is "
                "scaled: the scaling by 1 / (1 - p) happens during training only, so "
                "out = x.",
            ),
            (
                x * (1 - p),
                "at test time (training=False) return x itself: inverted dropout "
                "already scaled during training, so the test-time output needs no "
                "factor (1 - p).",
            ),
            (x * keep / (1 - p), _TEST_TIME),
            (x * keep, _TEST_TIME),
            (np.zeros_like(x), "at test time (training=False) return x unchanged."),
        ]
    return [
        (
            x * keep_p / (1 - p),
            "the mask is inverted: p is the probability of DROPPING an entry, not of "
            "keeping it, so rng.random(x.shape) >= p is True for the entries to KEEP.",
        ),
        (
            x * keep,
            "the kept entries must be divided by (1 - p), the probability of keeping "
            "them, so that E[out] = x; without the factor the layer's output is "
            "smaller in training than at test time.",
        ),
        (
            x * keep * (1 - p),
            "divide the kept entries by (1 - p), do not multiply: E[out] = (1 - p) * "
            "x / (1 - p) = x.",
        ),
        (
            x * keep / p if p > 0 else None,
            "p is the probability of DROPPING an entry; the probability of keeping it "
            "is (1 - p), and that is what the kept entries are divided by.",
        ),
        (x * keep_p / p if p > 0 else None, _P_DROPS),
        (x * (r >= 1 - p) / p if p > 0 else None, _P_DROPS),
        (x / (1 - p), "no entry was dropped: multiply by the mask as well."),
        (
            x,
            "in training (training=True, p > 0) entries must be dropped and the others "
            "scaled by 1 / (1 - p); you returned x unchanged.",
        ),
        (
            _same_entries_dropped(x, got),
            "the same entries are dropped in every row (or every column): "
            + _PER_ENTRY,
        ),
        (
            _other_entries_kept(x, p, got),
            "the kept entries are scaled correctly but not the same entries are kept: "
            "draw the mask exactly as the statement says, one call rng.random(x.shape) "
            ">= p on the generator you were given (not np.random..., a new generator, "
            "or another draw such as rng.binomial), so the check can reproduce it.",
        ),
    ]


def _check_cache(name, case, x, p, mask, cache):
    """The cache must be ``(mask, p)``, the mask holding the entries KEPT."""
    if not (isinstance(cache, tuple) and len(cache) == 2):
        fail(
            name,
            case,
            f"expected the cache to be the pair (mask, p), got {type(cache).__name__} "
            f"{fmt(cache, 200)}",
            hint="return out, (mask, p): dropout_backward needs both.",
        )
    c_mask, c_p = cache
    try:
        p_ok = float(c_p) == p
    except (TypeError, ValueError):
        p_ok = False
    if not p_ok:
        fail(
            name,
            case,
            "the second entry of the cache must be p.",
            expected=p,
            got=c_p,
            hint="return out, (mask, p).",
        )
    if mask is None:
        if c_mask is not None and not np.all(np.asarray(c_mask) == 1):
            fail(
                name,
                case,
                "nothing is dropped here, so the cache's mask should be None (or keep "
                "everything).",
                expected=None,
                got=c_mask,
                hint="when training is False or p == 0 return x.copy(), (None, p).",
            )
        return
    try:
        m = np.asarray(c_mask, dtype=np.float64)
    except (TypeError, ValueError):
        m = None
    if m is None or m.shape != x.shape:
        fail(
            name,
            case,
            f"the cache's mask should be an array of the shape of x, {x.shape}; got "
            f"{type(c_mask).__name__} {fmt(c_mask, 200)}",
            hint=_PER_ENTRY if m is not None and m.ndim < x.ndim else None,
        )
    if np.array_equal(m == 0, mask):
        fail(
            name,
            case,
            "the cache's mask is not the mask that was used.",
            expected=mask,
            got=m,
            hint="the cache must hold the mask of the entries KEPT (True where "
            "rng.random(x.shape) >= p), not of the dropped ones.",
        )
    if not np.array_equal(m != 0, mask):
        fail(
            name,
            case,
            "the cache's mask is not the mask that was used.",
            expected=mask,
            got=m,
            hint="return out, (mask, p).",
        )
    if not (np.asarray(c_mask).dtype == bool or np.all((m == 0) | (m == 1))):
        fail(
            name,
            case,
            "the cache's mask should hold True/False (or 1/0): dropout_backward "
            "divides by (1 - p) itself.",
            expected=mask,
            got=m,
            hint="store mask = rng.random(x.shape) >= p, not mask / (1 - p).",
        )


# ------------------------------------------------------------------------- 8.1 forward


def dropout_forward(fn):
    """Check Exercise 8.1: ``fn(x, p, rng, training=True)`` is inverted dropout."""
    name = "dropout_forward"
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
        rows = [((k,), _PER_ENTRY) for k in x.shape] if x.ndim == 2 else []
        (out, cache), _ = run(
            name,
            case,
            fn,
            (x, p, np.random.default_rng(seed), training),
            ("x", "p", "rng", "training"),
            returns=(Array(x.shape, "out", rows), Array(None, "cache")),
            hints=[_DIVISION],
            in_place_hints={
                "x": "compute the result in a new array (for example x * mask / (1 - "
                "p)) instead of x *= ..., x[...] = 0 or np.multiply(..., out=x): the "
                "caller still needs x (the backward pass of the layer below uses it)."
            },
        )
        mistakes = _forward_mistakes(x, p, seed, training, out)
        compare(name, case, "out", out, expected, mistakes, rtol=RTOL, atol=ATOL)
        _check_cache(name, case, x, p, mask, cache)
        n += 2
    # The scaling argument, on a large input: E[out] = x, and a fraction p of zeros.
    x, p = np.full((200, 500), 2.0), 0.3
    case = (
        "x = 2.0 everywhere, shape (200, 500), p = 0.3: the mean of out and its zeros"
    )
    (out, _), _ = run(
        name,
        case,
        fn,
        (x, p, np.random.default_rng(11), True),
        ("x", "p", "rng", "training"),
        returns=(Array(x.shape, "out"), Array(None, "cache")),
        hints=[_DIVISION],
    )
    zeros = float(np.mean(out == 0))
    if abs(zeros - p) > 0.01 or abs(out.mean() - 2.0) > 0.02:
        fail(
            name,
            case,
            "about a fraction p of the entries should be 0 and the mean of out should "
            "be about 2.0 (E[out] = x): expected a fraction of zeros 0.3 +- 0.01 and "
            f"a mean 2.0 +- 0.02, got a fraction of zeros {zeros:.4f} and a mean "
            f"{out.mean():.4f}.",
            hint="keep an entry with probability (1 - p) and divide it by (1 - p).",
        )
    passed(name, n + 1)


# ------------------------------------------------------------------------- 8.2 backward


def _backward_mistakes(dout, p, mask):
    """``(evidence, hint)`` of the classic mistakes of the backward pass."""
    if mask is None:
        return [
            (
                dout / (1 - p),
                "when mask is None nothing was dropped or scaled in the forward pass, "
                "so dx = dout (no factor 1 / (1 - p)).",
            ),
            (
                dout * (1 - p),
                "when mask is None nothing was dropped or scaled in the forward pass, "
                "so dx = dout.",
            ),
        ]
    return [
        (
            dout / (1 - p),
            "the mask is missing: a dropped unit contributed nothing to the output, so "
            "it receives no gradient; multiply by the mask.",
        ),
        (
            dout * mask,
            "the factor 1 / (1 - p) is missing: the forward pass multiplied each kept "
            "entry by 1 / (1 - p), so the gradient is multiplied by the same.",
        ),
        (
            dout * mask / (1 - p) ** 2,
            "you scaled twice: dx = dout * mask / (1 - p), with (1 - p) once.",
        ),
        (
            dout * mask * (1 - p),
            "divide by (1 - p), do not multiply: the forward pass divided by it.",
        ),
        (
            dout * mask / p if p > 0 else None,
            "p is the probability of DROPPING; the kept entries were divided by (1 - "
            "p), and so is their gradient.",
        ),
        (
            dout * ~mask / (1 - p),
            "the mask is inverted: True marks the entries that were KEPT, which are "
            "the ones that pass their gradient.",
        ),
        (
            dout,
            "dropout_backward must use the mask and p of the cache: dx = dout * mask / "
            "(1 - p).",
        ),
        (
            mask / (1 - p),
            "the gradient is dout times the local derivative mask / (1 - p), not the "
            "local derivative alone.",
        ),
    ]


def dropout_backward(fn):
    """Check Exercise 8.2: ``fn(dout, cache) -> dx``, the gradient of dropout."""
    name = "dropout_backward"
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
    for dout, p, seed, training in cases:
        _, mask = _reference_forward(np.ones_like(dout), p, seed, training)
        shown = (
            "None" if mask is None else f"the mask of rng.random({dout.shape}) >= {p}"
        )
        case = (
            f"dout of shape {dout.shape}, cache = (mask, p) with p = {p} and mask = "
            f"{shown} (from dropout_forward(x, {p}, np.random.default_rng({seed}), "
            f"training={training}))"
        )
        dx, _ = run(
            name,
            case,
            fn,
            (dout, (mask, p)),
            ("dout", ("cache", ("mask", "p"))),
            returns=Array(dout.shape, "dx"),
            hints=[
                _DIVISION,
                (
                    "NoneType",
                    "when nothing was dropped (training=False or p == 0) the cache "
                    "holds mask = None: then return dout unchanged (a copy), without "
                    "using the mask.",
                ),
            ],
            in_place_hints={
                "dout": "compute the result in a new array (for example dout * mask "
                "/ (1 - p)) instead of dout *= ... or dout[...] = 0: the caller still "
                "needs dout.",
                "mask": "leave the cache as it is; compute dx in a new array.",
            },
        )
        expected = dout.copy() if mask is None else dout * mask / (1 - p)
        mistakes = _backward_mistakes(dout, p, mask)
        compare(name, case, "dx", dx, expected, mistakes, rtol=RTOL, atol=ATOL)
    passed(name, len(cases))
