"""The checks of chapter 11 (convolution forward and backward, max-pooling backward)
accept right answers, loop-based and vectorised, and reject the classic mistakes, each
with the hint that names it.

Every planted mistake below is a small edit of a right, loop-based solution (written
as a student would); the regular expression is what the check's message must say.
"""

import re

import numpy as np
import pytest

from nnlib import conv as nnlib_conv
from nnlib.checks import ch11_convolution as ch11
from nnlib.checks._common import CheckFailure

# --------------------------------------------------------------------------------------
# Exercise 11.1: conv2d_forward
# --------------------------------------------------------------------------------------


def make_forward(
    flip=False,
    pad_used=True,
    index_stride=True,
    size_stride=True,
    bias=True,
    edge=False,
    transpose=False,
):
    """A loop-based conv2d_forward, right unless one of the flags says otherwise."""

    def conv2d_forward(x, w, b, stride=1, pad=0):
        p = pad if pad_used else 0
        xp = np.pad(
            x, ((0, 0), (p, p), (p, p), (0, 0)), mode="edge" if edge else "constant"
        )
        kh, kw, _, f = w.shape
        wk = w[::-1, ::-1] if flip else w
        wk = wk.transpose(1, 0, 2, 3) if transpose else wk
        s_out = stride if size_stride else 1
        ho = (xp.shape[1] - kh) // s_out + 1
        wo = (xp.shape[2] - kw) // s_out + 1
        out = np.zeros((x.shape[0], ho, wo, f))
        for i in range(ho):
            for j in range(wo):
                r, c = (stride * i, stride * j) if index_stride else (i, j)
                window = xp[:, r : r + kh, c : c + kw, :]
                out[:, i, j, :] = np.tensordot(window, wk, axes=([1, 2, 3], [0, 1, 2]))
        if bias:
            out += b
        return out, (x, w, b, stride, pad)

    return conv2d_forward


def fwd_nnlib(x, w, b, stride=1, pad=0):
    return nnlib_conv.conv2d_forward(x, w, b, stride=stride, pad=pad)


def fwd_out_only(x, w, b, stride=1, pad=0):
    return make_forward()(x, w, b, stride, pad)[0]


def fwd_pads_x_in_place(x, w, b, stride=1, pad=0):
    x[...] = x  # harmless
    x[:, 0, 0, :] = 0.0
    return make_forward()(x, w, b, stride, pad)


def fwd_unfilled(x, w, b, stride=1, pad=0):
    raise NotImplementedError("Exercise 11.1: conv2d forward")


FORWARD_MISTAKES = {
    "flipped kernel": (make_forward(flip=True), r"FLIPPED kernel"),
    "padding forgotten": (make_forward(pad_used=False), r"size without padding"),
    "window not at stride * i": (
        make_forward(index_stride=False),
        r"starts at row stride \* i",
    ),
    "stride ignored": (
        make_forward(index_stride=False, size_stride=False),
        r"size for stride 1",
    ),
    "bias missing": (make_forward(bias=False), r"the bias is missing"),
    "edge padding": (make_forward(edge=True), r"pad with ZEROS"),
    "kernel transposed": (make_forward(transpose=True), r"kernel is transposed"),
    "no cache": (fwd_out_only, r"tuple of 2 values \(out, cache\)"),
    "x changed": (fwd_pads_x_in_place, r"modified x in place.*pad into a new array"),
}


@pytest.mark.parametrize(
    "fn", [make_forward(), fwd_nnlib], ids=["loops", "nnlib (im2col)"]
)
def test_forward_accepts_right_answers(fn, capsys):
    ch11.conv2d_forward(fn)
    assert re.fullmatch(
        r"✓ conv2d_forward: all \d+ checks passed\n", capsys.readouterr().out
    )


@pytest.mark.parametrize("mistake", FORWARD_MISTAKES, ids=list(FORWARD_MISTAKES))
def test_forward_rejects_mistake_with_its_hint(mistake):
    fn, pattern = FORWARD_MISTAKES[mistake]
    with pytest.raises(AssertionError) as info:
        ch11.conv2d_forward(fn)
    assert isinstance(info.value, CheckFailure)
    text = str(info.value)
    assert text.startswith("conv2d_forward is not right yet, for x of shape ")
    assert re.search(pattern, text, flags=re.DOTALL), text


def test_forward_message_names_case_expected_and_got():
    with pytest.raises(AssertionError) as info:
        ch11.conv2d_forward(make_forward(flip=True))
    text = str(info.value)
    assert "w of shape (3, 3, 1, 2) (KH, KW, C, F), stride = 1, pad = 0" in text
    assert "expected:" in text and "got:" in text and "Hint:" in text


def test_forward_unfilled_exercise_passes_through():
    with pytest.raises(NotImplementedError, match="Exercise 11.1"):
        ch11.conv2d_forward(fwd_unfilled)


# --------------------------------------------------------------------------------------
# Exercise 11.2: conv2d_backward
# --------------------------------------------------------------------------------------


def make_backward(
    dx_flip=False,
    crop="both",
    index_stride=True,
    dw_flip=False,
    dw_sum_n=True,
    dw_mean=False,
    db="sum",
):
    """A loop-based conv2d_backward, right unless a flag says otherwise."""

    def conv2d_backward(dout, cache):
        x, w, b, stride, pad = cache
        xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        n = x.shape[0]
        kh, kw, _, _ = w.shape
        wk = w[::-1, ::-1] if dx_flip else w
        dxp = np.zeros(xp.shape)
        dw = np.zeros((n, *w.shape))
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                r, c = (stride * i, stride * j) if index_stride else (i, j)
                d = dout[:, i, j, :]
                dxp[:, r : r + kh, c : c + kw, :] += np.einsum("nf,pqcf->npqc", d, wk)
                dw += np.einsum("npqc,nf->npqcf", xp[:, r : r + kh, c : c + kw, :], d)
        if crop == "both":
            dx = dxp[:, pad : xp.shape[1] - pad, pad : xp.shape[2] - pad, :]
        elif crop == "one side":
            dx = dxp[:, : x.shape[1], : x.shape[2], :]
        else:
            dx = dxp
        if dw_sum_n:
            dw = dw.sum(axis=0)
        if dw_mean:
            dw = dw / n
        if dw_flip:
            dw = dw[::-1, ::-1]
        if db == "sum":
            db_ = dout.sum(axis=(0, 1, 2))
        elif db == "per example":
            db_ = dout.sum(axis=(1, 2))
        else:
            db_ = dout.mean(axis=(0, 1, 2))
        return dx, dw, db_

    return conv2d_backward


def bwd_nnlib(dout, cache):
    return nnlib_conv.conv2d_backward(dout, cache)


def bwd_dx_dw_only(dout, cache):
    return make_backward()(dout, cache)[:2]


def bwd_unfilled(dout, cache):
    raise NotImplementedError("Exercise 11.2: conv2d backward")


BACKWARD_MISTAKES = {
    "dx with the flipped kernel": (make_backward(dx_flip=True), r"flipped kernel"),
    "padding not cropped": (make_backward(crop="none"), r"shape of the PADDED input"),
    "cropped on one side": (make_backward(crop="one side"), r"on one side only"),
    "dx window not at stride * i": (
        make_backward(index_stride=False),
        r"dx: the window of output \(i, j\) starts at row stride",
    ),
    "dw flipped": (make_backward(dw_flip=True), r"dw is flipped"),
    "dw not summed over N": (make_backward(dw_sum_n=False), r"one kernel per example"),
    "dw averaged over N": (make_backward(dw_mean=True), r"do not average dw"),
    "db not summed over N": (make_backward(db="per example"), r"one row per example"),
    "db a mean": (make_backward(db="mean"), r"SUM of dout .* not a mean"),
    "db missing": (bwd_dx_dw_only, r"tuple of 3 values \(dx, dw, db\)"),
}


@pytest.mark.parametrize("fn", [make_backward(), bwd_nnlib], ids=["loops", "nnlib"])
def test_backward_accepts_right_answers(fn, capsys):
    ch11.conv2d_backward(fn)
    assert re.fullmatch(
        r"✓ conv2d_backward: all \d+ checks passed\n", capsys.readouterr().out
    )


@pytest.mark.parametrize("mistake", BACKWARD_MISTAKES, ids=list(BACKWARD_MISTAKES))
def test_backward_rejects_mistake_with_its_hint(mistake):
    fn, pattern = BACKWARD_MISTAKES[mistake]
    with pytest.raises(AssertionError) as info:
        ch11.conv2d_backward(fn)
    assert isinstance(info.value, CheckFailure)
    text = str(info.value)
    assert text.startswith("conv2d_backward is not right yet, for dout of shape ")
    assert re.search(pattern, text, flags=re.DOTALL), text


def test_backward_unfilled_exercise_passes_through():
    with pytest.raises(NotImplementedError, match="Exercise 11.2"):
        ch11.conv2d_backward(bwd_unfilled)


# --------------------------------------------------------------------------------------
# Exercise 11.3: max_pool_backward
# --------------------------------------------------------------------------------------


def make_pool_backward(mode="right"):
    """A loop-based max_pool_backward using the cache's argmax, or a planted mistake."""

    def max_pool_backward(dout, cache):
        x, argmax, size, stride = cache
        dx = np.zeros(x.shape)
        n, ho, wo, c = dout.shape
        for k in range(n):
            for i in range(ho):
                for j in range(wo):
                    r, s = (i, j) if mode == "no stride" else (stride * i, stride * j)
                    for ch in range(c):
                        g = dout[k, i, j, ch]
                        window = x[k, r : r + size, s : s + size, ch]
                        if mode == "window":
                            dx[k, r : r + size, s : s + size, ch] += g
                            continue
                        if mode == "ties":
                            top = window == window.max()
                            dx[k, r : r + size, s : s + size, ch] += g * top
                            continue
                        a = argmax[k, i, j, ch]
                        p, q = divmod(a, size)
                        if mode == "swapped":
                            p, q = q, p
                        if mode == "mask":
                            g = 1.0
                        if mode == "assign":
                            dx[k, r + p, s + q, ch] = g
                        else:
                            dx[k, r + p, s + q, ch] += g
        return dx

    return max_pool_backward


def pool_from_x(dout, cache):
    """Valid: recomputes each window's first maximum from x, vectorised over N and C."""
    x, _, size, stride = cache
    dx = np.zeros(x.shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            window = x[
                :, stride * i : stride * i + size, stride * j : stride * j + size
            ]
            flat = window.reshape(x.shape[0], size * size, x.shape[3])
            p, q = np.divmod(flat.argmax(axis=1), size)  # (N, C)
            nn, cc = np.meshgrid(
                np.arange(x.shape[0]), np.arange(x.shape[3]), indexing="ij"
            )
            dx[nn, stride * i + p, stride * j + q, cc] += dout[:, i, j, :]
    return dx


def pool_average(dout, cache):
    x, _, size, stride = cache
    dx = np.zeros(x.shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            g = dout[:, i, j, :][:, None, None, :] / size**2
            dx[:, stride * i : stride * i + size, stride * j : stride * j + size] += g
    return dx


def pool_unfilled(dout, cache):
    raise NotImplementedError("Exercise 11.3: max-pool backward")


POOL_MISTAKES = {
    "gradient to every window entry": (
        make_pool_backward("window"),
        r"every entry of a window got",
    ),
    "average pooling": (pool_average, r"gradient of AVERAGE pooling"),
    "gradient to every tied maximum": (
        make_pool_backward("ties"),
        r"several equal maxima.*ONE entry",
    ),
    "argmax decoded the wrong way round": (
        make_pool_backward("swapped"),
        r"decoded the wrong way round",
    ),
    "dout not used": (make_pool_backward("mask"), r"multiply by the gradient"),
    "assigned, not added": (make_pool_backward("assign"), r"add \(\+=\), do not"),
    "window not at stride * i": (
        make_pool_backward("no stride"),
        r"starts at \(stride \* i, stride \* j\)",
    ),
}


@pytest.mark.parametrize(
    "fn",
    [make_pool_backward(), pool_from_x, nnlib_conv.max_pool_backward],
    ids=["loops + argmax", "argmax of x", "nnlib"],
)
def test_pool_backward_accepts_right_answers(fn, capsys):
    ch11.max_pool_backward(fn)
    assert re.fullmatch(
        r"✓ max_pool_backward: all \d+ checks passed\n", capsys.readouterr().out
    )


@pytest.mark.parametrize("mistake", POOL_MISTAKES, ids=list(POOL_MISTAKES))
def test_pool_backward_rejects_mistake_with_its_hint(mistake):
    fn, pattern = POOL_MISTAKES[mistake]
    with pytest.raises(AssertionError) as info:
        ch11.max_pool_backward(fn)
    assert isinstance(info.value, CheckFailure)
    text = str(info.value)
    assert text.startswith("max_pool_backward is not right yet, for dout of shape ")
    assert "expected:" in text and "got:" in text
    assert re.search(pattern, text, flags=re.DOTALL), text


def test_pool_backward_unfilled_exercise_passes_through():
    with pytest.raises(NotImplementedError, match="Exercise 11.3"):
        ch11.max_pool_backward(pool_unfilled)


def test_checks_are_exported_without_clashing_with_chapter_12():
    from nnlib import checks
    from nnlib.checks import ch12_cnn

    assert checks.conv2d_forward is ch11.conv2d_forward
    assert checks.conv2d_backward is ch11.conv2d_backward
    assert checks.max_pool_backward is ch11.max_pool_backward
    assert checks.out_size is ch12_cnn.out_size
    assert checks.train_step is ch12_cnn.train_step
