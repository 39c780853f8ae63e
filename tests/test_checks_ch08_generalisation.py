"""The checks of chapter 8 (dropout forward and backward) accept right answers and
reject the classic mistakes, each with the hint that names it.

Every planted mistake below is a small edit of a right solution; the regular
expression is what the check's message must say about it.
"""

import re

import numpy as np
import pytest

from nnlib.checks import ch08_generalisation as ch08
from nnlib.checks._common import CheckFailure
from nnlib.dropout import dropout_backward as nnlib_backward
from nnlib.dropout import dropout_forward as nnlib_forward

# --------------------------------------------------------------------------------------
# Exercise 8.1: dropout_forward
# --------------------------------------------------------------------------------------


def fwd_ref(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = rng.random(x.shape) >= p
    return x * mask / (1 - p), (mask, p)


def fwd_where(x, p, rng, training=True):
    """Valid: np.where, a float mask, x itself returned at test time."""
    if not training or p == 0:
        return x, (None, p)
    mask = (rng.random(size=x.shape) > p).astype(float)
    return np.where(mask == 1, x / (1 - p), 0.0), (mask, p)


def fwd_uniform(x, p, rng, training=True):
    """Valid: rng.uniform draws what rng.random draws; a mask of ones at test time."""
    mask = rng.uniform(size=x.shape) >= p if training else np.ones(x.shape, bool)
    return x * (1.0 / (1.0 - p)) * mask if training else x.copy(), (mask, p)


def fwd_no_scaling(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = rng.random(x.shape) >= p
    return x * mask, (mask, p)


def fwd_times_keep(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = rng.random(x.shape) >= p
    return x * mask * (1 - p), (mask, p)


def fwd_scale_at_test(x, p, rng, training=True):
    if not training:
        return x / (1 - p), (None, p)
    mask = rng.random(x.shape) >= p
    return x * mask / (1 - p), (mask, p)


def fwd_drop_at_test(x, p, rng, training=True):
    mask = rng.random(x.shape) >= p
    return x * mask / (1 - p), (mask, p)


def fwd_p_is_keep(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = rng.random(x.shape) < p
    return x * mask / p, (mask, p)


def fwd_keep_scaled_by_p(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = rng.random(x.shape) >= p
    return x * mask / p, (mask, p)


def fwd_inverted_mask(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = rng.random(x.shape) < p
    return x * mask / (1 - p), (mask, p)


def fwd_in_place(x, p, rng, training=True):
    if not training or p == 0:
        return x, (None, p)
    mask = rng.random(x.shape) >= p
    x *= mask / (1 - p)
    return x, (mask, p)


def fwd_global_rng(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = np.random.default_rng(12345).random(x.shape) >= p
    return x * mask / (1 - p), (mask, p)


def fwd_one_per_column(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = rng.random(x.shape[-1]) >= p
    return x * mask / (1 - p), (mask, p)


def fwd_cache_dropped(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), (None, p)
    mask = rng.random(x.shape) >= p
    return x * mask / (1 - p), (~mask, p)


def fwd_cache_no_p(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy(), None
    mask = rng.random(x.shape) >= p
    return x * mask / (1 - p), mask


def fwd_no_return(x, p, rng, training=True):
    mask = rng.random(x.shape) >= p
    x * mask / (1 - p)


def fwd_out_only(x, p, rng, training=True):
    if not training or p == 0:
        return x.copy()
    return x * (rng.random(x.shape) >= p) / (1 - p)


def fwd_unfilled(x, p, rng, training=True):
    raise NotImplementedError("Exercise 8.1: dropout forward")


FORWARD_MISTAKES = {
    "no 1/(1-p) scaling": (fwd_no_scaling, r"must be divided by \(1 - p\)"),
    "multiplied by (1-p)": (
        fwd_times_keep,
        r"divide the kept entries by \(1 - p\), do not",
    ),
    "scaled at test time too": (fwd_scale_at_test, r"nothing is scaled"),
    "dropping at test time": (fwd_drop_at_test, r"at test time .* nothing is dropped"),
    "p used as keep probability": (
        fwd_p_is_keep,
        r"probability of DROPPING an entry, not of keeping",
    ),
    "kept entries divided by p": (
        fwd_keep_scaled_by_p,
        r"what the kept entries are divided by",
    ),
    "inverted mask": (fwd_inverted_mask, r"mask is inverted"),
    "x modified in place": (
        fwd_in_place,
        r"modified x in place: x\[0, 0\] was.*Hint: .*caller still needs x",
    ),
    "mask from another generator": (
        fwd_global_rng,
        r"draw the mask exactly as the statement",
    ),
    "one draw per column": (fwd_one_per_column, r"one random number per ENTRY"),
    "cache holds the dropped entries": (fwd_cache_dropped, r"mask of the entries KEPT"),
    "cache without p": (fwd_cache_no_p, r"\(mask, p\)"),
    "out without the cache": (fwd_out_only, r"tuple of 2 values \(out, cache\)"),
    "no return": (fwd_no_return, r"returned None: did you forget the return statement"),
}


@pytest.mark.parametrize(
    "fn",
    [fwd_ref, fwd_where, fwd_uniform, nnlib_forward],
    ids=["reference", "np.where + float mask", "rng.uniform", "nnlib"],
)
def test_forward_accepts_right_answers(fn, capsys):
    ch08.dropout_forward(fn)
    assert re.fullmatch(
        r"✓ dropout_forward: all \d+ checks passed\n", capsys.readouterr().out
    )


@pytest.mark.parametrize("mistake", FORWARD_MISTAKES, ids=list(FORWARD_MISTAKES))
def test_forward_rejects_mistake_with_its_hint(mistake):
    fn, pattern = FORWARD_MISTAKES[mistake]
    with pytest.raises(AssertionError) as info:
        ch08.dropout_forward(fn)
    assert isinstance(info.value, CheckFailure)
    text = str(info.value)
    assert text.startswith("dropout_forward is not right yet, for ")
    assert re.search(pattern, text, flags=re.DOTALL), text


def test_forward_message_names_case_expected_and_got():
    with pytest.raises(AssertionError) as info:
        ch08.dropout_forward(fwd_no_scaling)
    text = str(info.value)
    assert "p = 0.5, rng = np.random.default_rng(1)" in text
    assert "expected:" in text and "got:" in text and "Hint:" in text


def test_forward_unfilled_exercise_passes_through():
    with pytest.raises(NotImplementedError, match="Exercise 8.1"):
        ch08.dropout_forward(fwd_unfilled)


def test_forward_expects_a_function():
    with pytest.raises(TypeError, match="expects the function you wrote"):
        ch08.dropout_forward(np.zeros(3))


# --------------------------------------------------------------------------------------
# Exercise 8.2: dropout_backward
# --------------------------------------------------------------------------------------


def bwd_ref(dout, cache):
    mask, p = cache
    if mask is None:
        return dout.copy()
    return dout * mask / (1 - p)


def bwd_where(dout, cache):
    """Valid: np.where, and dout itself when nothing was dropped."""
    mask, p = cache
    if mask is None:
        return dout
    return np.where(mask, dout / (1 - p), 0.0)


def bwd_no_mask(dout, cache):
    mask, p = cache
    return dout / (1 - p) if mask is not None else dout.copy()


def bwd_no_scaling(dout, cache):
    mask, p = cache
    return dout * mask if mask is not None else dout.copy()


def bwd_scaled_twice(dout, cache):
    mask, p = cache
    return dout * mask / (1 - p) ** 2 if mask is not None else dout.copy()


def bwd_times_keep(dout, cache):
    mask, p = cache
    return dout * mask * (1 - p) if mask is not None else dout.copy()


def bwd_p_is_keep(dout, cache):
    mask, p = cache
    return dout * mask / p if mask is not None else dout.copy()


def bwd_inverted_mask(dout, cache):
    mask, p = cache
    return dout * ~mask / (1 - p) if mask is not None else dout.copy()


def bwd_none_not_handled(dout, cache):
    mask, p = cache
    return dout * mask / (1 - p)


def bwd_scaled_when_none(dout, cache):
    mask, p = cache
    return dout / (1 - p) if mask is None else dout * mask / (1 - p)


def bwd_in_place(dout, cache):
    mask, p = cache
    if mask is None:
        return dout
    dout *= mask / (1 - p)
    return dout


def bwd_local_only(dout, cache):
    mask, p = cache
    return mask / (1 - p) if mask is not None else dout.copy()


def bwd_identity(dout, cache):
    return dout.copy()


def bwd_unfilled(dout, cache):
    raise NotImplementedError("Exercise 8.2: dropout backward")


BACKWARD_MISTAKES = {
    "mask not applied": (bwd_no_mask, r"the mask is missing"),
    "no 1/(1-p) scaling": (bwd_no_scaling, r"factor 1 / \(1 - p\) is missing"),
    "scaled twice": (bwd_scaled_twice, r"you scaled twice"),
    "multiplied by (1-p)": (bwd_times_keep, r"divide by \(1 - p\), do not multiply"),
    "p used as keep probability": (bwd_p_is_keep, r"p is the probability of DROPPING"),
    "inverted mask": (bwd_inverted_mask, r"the mask is inverted"),
    "mask None not handled": (bwd_none_not_handled, r"mask = None: then return dout"),
    "scaled at test time": (bwd_scaled_when_none, r"dx = dout \(no factor"),
    "dout modified in place": (
        bwd_in_place,
        r"modified dout in place: dout\[0, 0\] was.*caller still needs dout",
    ),
    "local derivative only": (bwd_local_only, r"not the local derivative alone"),
    "identity": (bwd_identity, r"must use the mask and p of the cache"),
}


@pytest.mark.parametrize(
    "fn", [bwd_ref, bwd_where, nnlib_backward], ids=["reference", "np.where", "nnlib"]
)
def test_backward_accepts_right_answers(fn, capsys):
    ch08.dropout_backward(fn)
    assert re.fullmatch(
        r"✓ dropout_backward: all \d+ checks passed\n", capsys.readouterr().out
    )


@pytest.mark.parametrize("mistake", BACKWARD_MISTAKES, ids=list(BACKWARD_MISTAKES))
def test_backward_rejects_mistake_with_its_hint(mistake):
    fn, pattern = BACKWARD_MISTAKES[mistake]
    with pytest.raises(AssertionError) as info:
        ch08.dropout_backward(fn)
    assert isinstance(info.value, CheckFailure)
    text = str(info.value)
    assert text.startswith("dropout_backward is not right yet, for ")
    assert re.search(pattern, text, flags=re.DOTALL), text


def test_backward_unfilled_exercise_passes_through():
    with pytest.raises(NotImplementedError, match="Exercise 8.2"):
        ch08.dropout_backward(bwd_unfilled)


def test_checks_are_exported():
    from nnlib import checks

    assert checks.dropout_forward is ch08.dropout_forward
    assert checks.dropout_backward is ch08.dropout_backward
