"""Checks of chapter 11 (convolution from scratch): convolution forward and backward,
max-pooling backward, in TensorFlow's NHWC layout.

* ``conv2d_forward(x, w, b, stride=1, pad=0) -> (out, cache)``: x (N, H, W, C),
  w (KH, KW, C, F), b (F,); ``out[n, i, j, f] = b[f] + sum_{p, q, c}
  x_pad[n, stride i + p, stride j + q, c] w[p, q, c, f]`` (a cross-correlation: the
  kernel is not flipped), out (N, H', W', F) with ``H' = (H + 2 pad - KH) // stride +
  1``; ``cache = (x, w, b, stride, pad)`` (not inspected).
* ``conv2d_backward(dout, cache) -> (dx, dw, db)`` with that cache.
* ``max_pool_backward(dout, cache) -> dx`` with ``cache = (x, argmax, size, stride)``,
  ``argmax[n, i, j, c] = p * size + q`` the position of the first maximum of the window
  in reading order, as :func:`nnlib.conv.max_pool_forward` returns it.

The expected values come from :mod:`nnlib.conv`; the planted mistakes are computed here,
mostly with loops over the output positions, so that each reads like the code it
stands for.
"""

from __future__ import annotations

import numpy as np

from .. import conv as reference
from ._common import Array, compare, passed, run

__all__ = ["conv2d_forward", "conv2d_backward", "max_pool_backward"]

RTOL, ATOL = 1e-7, 1e-10

_FLIP = (
    "your result is the convolution with the FLIPPED kernel (w[::-1, ::-1]): deep "
    "learning libraries compute a cross-correlation, out[n, i, j, f] = b[f] + sum over "
    "p, q, c of x_pad[n, s*i + p, s*j + q, c] * w[p, q, c, f], with w as it is."
)
_STRIDE_INDEX = (
    "the window of output (i, j) starts at row stride * i and column stride * j of "
    "the padded input, not at (i, j): multiply the output index by the stride."
)


def _out_size(n, k, stride, pad):
    return (n + 2 * pad - k) // stride + 1


def _padded(x, pad):
    return np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def _describe_conv(x, w, stride, pad):
    return (
        f"x of shape {x.shape} (N, H, W, C), w of shape {w.shape} (KH, KW, C, F), "
        f"stride = {stride}, pad = {pad}"
    )


def _conv_cases():
    """(x, w, b, stride, pad): square and oblong images and kernels, strides 1-3."""
    rng = np.random.default_rng(110)
    settings = [  # N, H, W, C, KH, KW, F, stride, pad
        (2, 5, 5, 1, 3, 3, 2, 1, 0),
        (2, 6, 7, 3, 3, 3, 4, 1, 1),
        (1, 7, 7, 2, 3, 3, 3, 2, 1),
        (2, 8, 6, 2, 3, 2, 2, 2, 0),  # (8 - 3) // 2 + 1: the last row is left over
        (1, 9, 8, 2, 5, 5, 2, 3, 2),
    ]
    return [
        (
            rng.standard_normal((n, h, w, c)),
            rng.standard_normal((kh, kw, c, f)),
            rng.standard_normal(f),
            stride,
            pad,
        )
        for n, h, w, c, kh, kw, f, stride, pad in settings
    ]


def _forward_shape_mistakes(x, w, stride, pad):
    n, h, wd, _ = x.shape
    kh, kw, c, f = w.shape
    want = (n, _out_size(h, kh, stride, pad), _out_size(wd, kw, stride, pad), f)
    mistakes = []
    if pad:
        mistakes.append(
            (
                (n, _out_size(h, kh, stride, 0), _out_size(wd, kw, stride, 0), f),
                f"this is the size without padding: add pad = {pad} zeros on every "
                "side of each image first (np.pad on axes 1 and 2 only), then slide "
                "the kernel over the padded image.",
            )
        )
    if stride > 1:
        mistakes.append(
            (
                (n, _out_size(h, kh, 1, pad), _out_size(wd, kw, 1, pad), f),
                f"this is the size for stride 1: with stride {stride} the kernel moves "
                f"{stride} pixels at a time, H' = (H + 2 pad - KH) // stride + 1.",
            )
        )
        ceil = (
            n,
            -(-(h + 2 * pad - kh) // stride) + 1,
            -(-(wd + 2 * pad - kw) // stride) + 1,
            f,
        )
        if ceil != want:
            mistakes.append(
                (
                    ceil,
                    "one output too many: a window must lie entirely inside the "
                    "padded image, so H' = (H + 2 pad - KH) // stride + 1, rounded "
                    "DOWN.",
                )
            )
    mistakes.append(
        (
            (n, want[1], want[2], c),
            "the last axis of out has one entry per FILTER (F = w.shape[3]): sum "
            "over the input channels c, one output channel per filter.",
        )
    )
    return want, tuple(m for m in mistakes if m[0] != want)


def _conv_no_stride_index(x, w, b, stride, pad):
    """Windows at (i, j) instead of (stride i, stride j), output size right."""
    ho = _out_size(x.shape[1], w.shape[0], stride, pad)
    wo = _out_size(x.shape[2], w.shape[1], stride, pad)
    return reference.conv2d_forward(x, w, b, pad=pad)[0][:, :ho, :wo]


def _forward_mistakes(x, w, b, stride, pad):
    """(evidence, hint) of the classic mistakes of the forward pass."""
    return [
        (
            lambda: reference.conv2d_forward(x, w[::-1, ::-1], b, stride, pad)[0],
            _FLIP,
        ),
        (
            lambda: reference.conv2d_forward(x, w, np.zeros_like(b), stride, pad)[0],
            "the bias is missing: add b[f] to every output of filter f (out + b "
            "broadcasts over the last axis).",
        ),
        (
            lambda: reference.conv2d_forward(x, w, 0 * b, stride, pad)[0] + b.sum(),
            "each filter has its own bias: add b[f] to the outputs of filter f, "
            "not the sum of all biases.",
        ),
        (
            lambda: (
                reference.conv2d_forward(x, w.transpose(1, 0, 2, 3), b, stride, pad)[0]
                if w.shape[0] == w.shape[1]
                else None
            ),
            "the kernel is transposed: w[p, q] multiplies the pixel p rows down "
            "and q columns right of the window's corner, x_pad[n, s*i + p, s*j + "
            "q, c].",
        ),
        (lambda: _conv_no_stride_index(x, w, b, stride, pad), _STRIDE_INDEX),
        (
            lambda: _conv_edge_padding(x, w, b, stride, pad) if pad else None,
            "pad with ZEROS (np.pad's default mode 'constant'), not by repeating "
            "the edge pixels.",
        ),
    ]


def conv2d_forward(fn):
    """Check Exercise 11.1: ``fn(x, w, b, stride, pad) -> (out, cache)``."""
    name = "conv2d_forward"
    cases = _conv_cases()
    for x, w, b, stride, pad in cases:
        case = _describe_conv(x, w, stride, pad)
        want, shape_mistakes = _forward_shape_mistakes(x, w, stride, pad)
        (out, _), _ = run(
            name,
            case,
            fn,
            (x, w, b, stride, pad),
            ("x", "w", "b", "stride", "pad"),
            returns=(Array(want, "out", shape_mistakes), Array(None, "cache")),
            hints=[
                (
                    "could not be broadcast",
                    "write down the shape of each operand: a window x_pad[n, r:r+KH, "
                    "c:c+KW, :] is (KH, KW, C), one filter w[:, :, :, f] too; for all "
                    "filters at once use np.tensordot or a matrix product of the "
                    "window flattened to KH*KW*C with w.reshape(-1, F).",
                ),
            ],
            in_place_hints={
                "x": "pad into a new array (np.pad returns one); do not write into x."
            },
        )
        expected = reference.conv2d_forward(x, w, b, stride, pad)[0]
        mistakes = _forward_mistakes(x, w, b, stride, pad)
        compare(name, case, "out", out, expected, mistakes, rtol=RTOL, atol=ATOL)
    passed(name, len(cases))


def _conv_edge_padding(x, w, b, stride, pad):
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    return reference.conv2d_forward(xp, w, b, stride, 0)[0]


# ------------------------------------------------------------------ conv backward


def _conv_backward_loops(dout, x, w, stride, pad, flip=False, index_stride=True):
    """(dx_pad, dw) by loops over the output positions, with planted mistakes."""
    xp = _padded(x, pad)
    kh, kw = w.shape[:2]
    wk = w[::-1, ::-1] if flip else w
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            r, c = (stride * i, stride * j) if index_stride else (i, j)
            d = dout[:, i, j, :]  # (N, F)
            dxp[:, r : r + kh, c : c + kw, :] += np.einsum("nf,pqcf->npqc", d, wk)
            dw += np.einsum("npqc,nf->pqcf", xp[:, r : r + kh, c : c + kw, :], d)
    return dxp, dw


def _crop(dxp, pad):
    return dxp[:, pad : dxp.shape[1] - pad, pad : dxp.shape[2] - pad] if pad else dxp


def _dx_mistakes(dout, x, w, stride, pad):
    """(evidence, hint) of the classic mistakes of dx."""
    return [
        (
            lambda: _crop(
                _conv_backward_loops(dout, x, w, stride, pad, flip=True)[0], pad
            ),
            "dx uses the flipped kernel: for each output (i, j), add dout[n, i, "
            "j, f] * w[p, q, c, f] to dx_pad[n, s*i + p, s*j + q, c] with w as it "
            "is. (Written as one operation over all outputs, for stride 1, this "
            "is a FULL convolution of dout with the flipped kernel: the flip "
            "belongs to that formula only.)",
        ),
        (
            lambda: (
                _crop(
                    _conv_backward_loops(dout, x, w, stride, pad, index_stride=False)[
                        0
                    ],
                    pad,
                )
                if stride > 1
                else None
            ),
            "dx: " + _STRIDE_INDEX,
        ),
        (
            lambda: (
                _conv_backward_loops(dout, x, w, stride, pad)[0][
                    :, : x.shape[1], : x.shape[2]
                ]
                if pad
                else None
            ),
            "the padding is cut off on one side only: dx = dx_pad[:, pad:-pad, "
            "pad:-pad, :] (the first pad rows and columns are padding too).",
        ),
    ]


def _dw_mistakes(dout, x, w, stride, pad, dw_ref):
    """(evidence, hint) of the classic mistakes of dw."""
    n = x.shape[0]
    return [
        (
            dw_ref[::-1, ::-1],
            "dw is flipped: dw[p, q, c, f] = sum over n, i, j of x_pad[n, s*i + p, "
            "s*j + q, c] * dout[n, i, j, f], a correlation of the input with "
            "dout, with no flip.",
        ),
        (
            dw_ref / n,
            "do not average dw over the examples: sum (the loss already "
            "averages, and dout carries its 1/N).",
        ),
        (
            lambda: (
                _conv_backward_loops(dout, x, w, stride, pad, index_stride=False)[1]
                if stride > 1
                else None
            ),
            "dw: " + _STRIDE_INDEX,
        ),
    ]


def conv2d_backward(fn):
    """Check Exercise 11.2: ``fn(dout, cache) -> (dx, dw, db)``."""
    name = "conv2d_backward"
    cases = _conv_cases()
    rng = np.random.default_rng(111)
    for x, w, b, stride, pad in cases:
        out, cache = reference.conv2d_forward(x, w, b, stride, pad)
        dout = rng.standard_normal(out.shape)
        n, f = x.shape[0], w.shape[3]
        case = (
            f"dout of shape {dout.shape} and cache = (x, w, b, stride, pad) with "
            + _describe_conv(x, w, stride, pad)
        )
        padded = (n, x.shape[1] + 2 * pad, x.shape[2] + 2 * pad, x.shape[3])
        dx_shapes = (
            (
                padded,
                "dx has the shape of the PADDED input: the padding zeros are not "
                f"inputs, so cut pad = {pad} rows and columns off every side "
                "(dx_pad[:, pad:-pad, pad:-pad, :]).",
            ),
        )
        dw_shapes = (
            (
                (n, *w.shape),
                "dw has one kernel per example: sum over the examples n too (every "
                "example used the same kernel).",
            ),
        )
        db_shapes = (
            (
                (n, f),
                "db has one row per example: sum dout over the examples AND the "
                "output positions, axis=(0, 1, 2).",
            ),
            (
                (dout.shape[1], dout.shape[2], f),
                "sum dout over the examples AND the output positions, axis=(0, 1, 2).",
            ),
        )
        (dx, dw, db), _ = run(
            name,
            case,
            fn,
            (dout, cache),
            ("dout", ("cache", ("x", "w", "b", "stride", "pad"))),
            returns=(
                Array(x.shape, "dx", dx_shapes if pad else ()),
                Array(w.shape, "dw", dw_shapes),
                Array(b.shape, "db", db_shapes),
            ),
            in_place_hints={
                "x": "leave the cache as it is: pad into a new array.",
                "dout": "compute the gradients in new arrays; the caller still needs "
                "dout.",
            },
        )
        dx_ref, dw_ref, db_ref = reference.conv2d_backward(dout, cache)
        dx_mistakes = _dx_mistakes(dout, x, w, stride, pad)
        compare(name, case, "dx", dx, dx_ref, dx_mistakes, rtol=RTOL, atol=ATOL)
        dw_mistakes = _dw_mistakes(dout, x, w, stride, pad, dw_ref)
        compare(name, case, "dw", dw, dw_ref, dw_mistakes, rtol=RTOL, atol=ATOL)
        db_mistakes = [
            (
                dout.mean(axis=(0, 1, 2)),
                "db is a SUM of dout over the examples and the output positions, not a "
                "mean.",
            ),
            (
                dout.sum(axis=(1, 2)).mean(axis=0),
                "db is a sum over the examples as well as over the positions, not a "
                "mean over the examples.",
            ),
            (
                dout.sum(axis=(1, 2))[0],
                "db: sum dout over ALL examples (axis 0), not only the first one.",
            ),
        ]
        compare(name, case, "db", db, db_ref, db_mistakes, rtol=RTOL, atol=ATOL)
    passed(name, len(cases))


# ------------------------------------------------------------------ max-pool backward


def _pool_loops(dout, x, argmax, size, stride, mode):
    """The gradient of max-pooling with a planted mistake ``mode``, by loops."""
    dx = np.zeros(x.shape)
    n, ho, wo, c = dout.shape
    for i in range(ho):
        for j in range(wo):
            r, s = (stride * i, stride * j) if mode != "no stride" else (i, j)
            window = x[:, r : r + size, s : s + size, :]  # (N, size, size, C)
            d = dout[:, i, j, :][:, None, None, :]
            if mode == "window":
                dx[:, r : r + size, s : s + size, :] += d
            elif mode == "average":
                dx[:, r : r + size, s : s + size, :] += d / size**2
            elif mode == "ties":
                top = window == window.max(axis=(1, 2), keepdims=True)
                dx[:, r : r + size, s : s + size, :] += top * d
            else:
                a = argmax[:, i, j, :]
                p, q = (a % size, a // size) if mode == "swapped" else divmod(a, size)
                one = np.zeros(window.shape)
                nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
                one[nn, p, q, cc] = 1.0
                if mode == "mask":
                    dx[:, r : r + size, s : s + size, :] += one
                elif mode == "assign":
                    block = dx[:, r : r + size, s : s + size, :]
                    block[one == 1] = (one * d)[one == 1]
                else:
                    dx[:, r : r + size, s : s + size, :] += one * d
    return dx


def _pool_cases():
    """(x, size, stride): non-overlapping, overlapping, leftover rows, ties."""
    rng = np.random.default_rng(112)
    return [
        (rng.standard_normal((2, 4, 4, 2)), 2, 2),
        (rng.standard_normal((1, 7, 6, 3)), 2, 2),  # the last row is in no window
        (rng.standard_normal((2, 7, 7, 1)), 3, 2),  # overlapping windows
        (rng.standard_normal((1, 5, 5, 2)), 2, 1),
        (rng.integers(0, 3, size=(2, 6, 6, 2)).astype(float), 2, 2),  # ties
        (rng.integers(0, 2, size=(1, 5, 5, 2)).astype(float), 3, 2),
    ]


def max_pool_backward(fn):
    """Check Exercise 11.3: ``fn(dout, cache) -> dx``, the gradient of max-pooling."""
    name = "max_pool_backward"
    cases = _pool_cases()
    rng = np.random.default_rng(113)
    for x, size, stride in cases:
        out, cache = reference.max_pool_forward(x, size, stride)
        _, argmax, _, _ = cache
        dout = rng.standard_normal(out.shape)
        ties = " (x holds small integers: some windows have several maxima)"
        case = (
            f"dout of shape {dout.shape} and cache = (x, argmax, size, stride) with x "
            f"of shape {x.shape}, size = {size}, stride = {stride}"
            + (ties if np.all(x == np.round(x)) else "")
        )
        dx, _ = run(
            name,
            case,
            fn,
            (dout, cache),
            ("dout", ("cache", ("x", "argmax", "size", "stride"))),
            returns=Array(x.shape, "dx"),
            in_place_hints={
                "dout": "compute dx in a new array (np.zeros(x.shape)); the caller "
                "still needs dout."
            },
        )
        expected = reference.max_pool_backward(dout, cache)

        def loops(mode, x=x, argmax=argmax, size=size, stride=stride, dout=dout):
            return lambda: _pool_loops(dout, x, argmax, size, stride, mode)

        overlap = size > stride
        mistakes = [
            (
                loops("window"),
                "every entry of a window got the window's gradient: only the maximum "
                "changed the output, so only the maximum receives dout (the others "
                "get 0).",
            ),
            (
                loops("average"),
                "that is the gradient of AVERAGE pooling: max-pooling passes all of "
                "dout to the window's maximum and nothing to the other entries.",
            ),
            (
                loops("ties"),
                "where a window has several equal maxima, the gradient went to each of "
                "them: it must go to ONE entry, the first maximum in reading order "
                "(cache's argmax), or dx sums to more than dout.",
            ),
            (
                loops("swapped"),
                "the position argmax = p * size + q is decoded the wrong way round: "
                "p, q = divmod(argmax, size) (row p = argmax // size, column q = "
                "argmax % size).",
            ),
            (
                loops("mask"),
                "dx is 1 at the maxima: multiply by the gradient that arrives, dout[n, "
                "i, j, c].",
            ),
            (
                loops("assign") if overlap else None,
                "the windows overlap here (size > stride), and an entry that is the "
                "maximum of two windows receives the gradient of both: add (+=), do "
                "not assign (=).",
            ),
            (
                loops("no stride") if stride > 1 else None,
                "the window of output (i, j) starts at (stride * i, stride * j) of x, "
                "not at (i, j).",
            ),
        ]
        compare(name, case, "dx", dx, expected, mistakes, rtol=RTOL, atol=ATOL)
    passed(name, len(cases))
