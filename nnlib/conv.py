"""Convolution and max-pooling in numpy, forward and backward, in TensorFlow's NHWC
layout.

Shapes, for a batch of N images of H x W pixels with C channels, F filters of KH x KW::

    conv2d_forward:   x (N, H, W, C), w (KH, KW, C, F), b (F,)  ->  out (N, H', W', F)
                      H' = (H + 2 pad - KH) // stride + 1, W' likewise
    max_pool_forward: x (N, H, W, C)  ->  out (N, (H - size) // stride + 1, ..., C)

As in every deep-learning library, "convolution" is a cross-correlation: the kernel is
not flipped, ``out[n, i, j, f] = b[f] + sum_{p, q, c} x_pad[n, s i + p, s j + q, c]
w[p, q, c, f]``. The backward pass follows from that sum:

* ``dw[p, q, c, f] = sum_{n, i, j} x_pad[n, s i + p, s j + q, c] dout[n, i, j, f]``,
  a correlation of the input with the output gradient;
* ``dx_pad[n, s i + p, s j + q, c] += sum_f dout[n, i, j, f] w[p, q, c, f]``, which for
  stride 1 is a full convolution of ``dout`` with the flipped kernel; the padding is
  then cut off;
* ``db[f] = sum_{n, i, j} dout[n, i, j, f]``.

No Python loop runs over examples or output positions. The forward pass is "im2col":
``numpy.lib.stride_tricks.sliding_window_view`` gives every window as a view, one copy
lays them out as the rows of a matrix (N H' W', KH KW C), and one matrix product with
the filters reshaped to (KH KW C, F) computes every output; ``dw`` is the transposed
product. ``dx`` is one matrix product too, ``dout`` (N H' W', F) times the transposed
filters, whose rows are then added back at the input positions of their windows
("col2im"): a loop over the KH x KW kernel offsets only.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validation import as_float_array, check_int, describe

__all__ = ["conv2d_forward", "conv2d_backward", "max_pool_forward", "max_pool_backward"]


def _check_images(x, func, name="x"):
    x = as_float_array(x, func, name)
    if x.ndim != 4:
        raise ValueError(
            f"{func} expects {name} of shape (N, H, W, C) (NHWC, 4-D), "
            f"got shape {x.shape}"
        )
    return x


def _windows(x, kh, kw, stride):
    """View of shape (N, H', W', C, KH, KW): the window under every output position."""
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))
    return win[:, ::stride, ::stride]


def _im2col(x, kh, kw, stride):
    """The windows as rows of a matrix (N H' W', KH KW C), ordered like w.reshape(-1,
    F)."""
    win = _windows(x, kh, kw, stride).transpose(
        0, 1, 2, 4, 5, 3
    )  # (N, H', W', KH, KW, C)
    return win.reshape(-1, kh * kw * x.shape[3]), win.shape[:3]


def conv2d_forward(x, w, b, stride=1, pad=0):
    """2-D convolution (cross-correlation) of a batch of images with F filters.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, H, W, C)
    w : numpy.ndarray, shape (KH, KW, C, F)
    b : numpy.ndarray, shape (F,)
    stride : int, default 1
        Step between output positions, >= 1, the same along both axes.
    pad : int, default 0
        Zeros added on every side of each image before the convolution.

    Returns
    -------
    out : numpy.ndarray, shape (N, H', W', F)
        ``H' = (H + 2 pad - KH) // stride + 1``, ``W' = (W + 2 pad - KW) // stride +
        1``.
    cache : tuple (x, w, b, stride, pad)
        What :func:`conv2d_backward` needs.
    """
    func = "conv2d_forward"
    x = _check_images(x, func)
    w = as_float_array(w, func, "w")
    if w.ndim != 4:
        raise ValueError(
            f"{func} expects w of shape (KH, KW, C, F), got shape {w.shape}"
        )
    b = as_float_array(b, func, "b")
    stride = check_int(stride, func, "stride", minimum=1)
    pad = check_int(pad, func, "pad", minimum=0)
    kh, kw, c, f = w.shape
    if x.shape[3] != c:
        raise ValueError(
            f"{func} expects x to have the kernel's {c} input channel(s) (w.shape[2]), "
            f"got {x.shape[3]} (x of shape {x.shape})"
        )
    if b.shape != (f,):
        raise ValueError(
            f"{func} expects b of shape ({f},), one bias per filter, got {b.shape}"
        )
    h, wd = x.shape[1] + 2 * pad, x.shape[2] + 2 * pad
    if kh > h or kw > wd:
        raise ValueError(
            f"{func} expects a kernel no larger than the padded input, got a {kh}x{kw} "
            f"kernel on {h}x{wd} (H x W of x {x.shape[1]}x{x.shape[2]}, pad {pad})"
        )
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))) if pad else x
    cols, (n, ho, wo) = _im2col(xp, kh, kw, stride)  # one copy, then one matrix product
    out = (cols @ w.reshape(-1, f)).reshape(n, ho, wo, f) + b
    return out, (x, w, b, stride, pad)


def conv2d_backward(dout, cache):
    """Gradients of the loss with respect to the input, the filters and the biases.

    Parameters
    ----------
    dout : numpy.ndarray, shape (N, H', W', F)
        Gradient of the loss with respect to the output of :func:`conv2d_forward`.
    cache : tuple
        From :func:`conv2d_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape (N, H, W, C)
    dw : numpy.ndarray, shape (KH, KW, C, F)
    db : numpy.ndarray, shape (F,)
    """
    func = "conv2d_backward"
    if not (isinstance(cache, tuple) and len(cache) == 5):
        raise TypeError(
            f"{func} expects the cache (x, w, b, stride, pad) returned by "
            "conv2d_forward, "
            f"got {describe(cache)}"
        )
    x, w, b, stride, pad = cache
    dout = _check_images(dout, func, "dout")
    kh, kw, c, f = w.shape
    n, h, wd = x.shape[0], x.shape[1] + 2 * pad, x.shape[2] + 2 * pad
    ho, wo = (h - kh) // stride + 1, (wd - kw) // stride + 1
    if dout.shape != (n, ho, wo, f):
        raise ValueError(
            f"{func} expects dout of the output's shape {(n, ho, wo, f)}, "
            f"got {dout.shape}"
        )
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))) if pad else x
    cols, _ = _im2col(xp, kh, kw, stride)
    dw = (cols.T @ dout.reshape(-1, f)).reshape(kh, kw, c, f)
    db = dout.sum(axis=(0, 1, 2))
    # every window's share of dx in one product, (N H' W', KH KW C), then "col2im":
    # each kernel offset adds its share at the input positions it touched
    dcols = (dout.reshape(-1, f) @ w.reshape(-1, f).T).reshape(n, ho, wo, kh, kw, c)
    dxp = np.zeros(xp.shape, dtype=dcols.dtype)
    for p in range(kh):  # the kernel offsets only: every output position at once
        rows = slice(p, p + stride * (ho - 1) + 1, stride)
        for q in range(kw):
            cols = slice(q, q + stride * (wo - 1) + 1, stride)
            dxp[:, rows, cols, :] += dcols[:, :, :, p, q, :]
    dx = dxp[:, pad : h - pad, pad : wd - pad, :] if pad else dxp
    return dx, dw, db


def max_pool_forward(x, size=2, stride=2):
    """Max-pooling over ``size x size`` windows, ``stride`` apart, channel by channel.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, H, W, C)
    size : int, default 2
        Height and width of the window, >= 1, at most H and W.
    stride : int, default 2
        Step between windows, >= 1.

    Returns
    -------
    out : numpy.ndarray, shape (N, H', W', C)
        ``H' = (H - size) // stride + 1``, ``W' = (W - size) // stride + 1``.
    cache : tuple (x, argmax, size, stride)
        ``argmax`` (N, H', W', C): the position of each window's maximum within the
        window, ``p * size + q``; where several entries equal the maximum, the first
        in reading order (row by row), as ``numpy.argmax`` returns it. The backward
        pass sends the whole gradient of the window there.
    """
    func = "max_pool_forward"
    x = _check_images(x, func)
    size = check_int(size, func, "size", minimum=1)
    stride = check_int(stride, func, "stride", minimum=1)
    if size > x.shape[1] or size > x.shape[2]:
        raise ValueError(
            f"{func} expects a window no larger than the image, got size {size} on "
            f"{x.shape[1]}x{x.shape[2]} images"
        )
    win = _windows(x, size, size, stride)  # (N, H', W', C, size, size)
    flat = win.reshape(*win.shape[:4], size * size)
    argmax = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]
    return out, (x, argmax, size, stride)


def max_pool_backward(dout, cache):
    """Gradient of the loss with respect to the input of :func:`max_pool_forward`.

    Each window passes its output's gradient to the input that was its maximum; the
    other inputs of the window get nothing (a sum where windows overlap).

    Parameters
    ----------
    dout : numpy.ndarray, shape of the pooled output
    cache : tuple
        From :func:`max_pool_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape (N, H, W, C)
    """
    func = "max_pool_backward"
    if not (isinstance(cache, tuple) and len(cache) == 4):
        raise TypeError(
            f"{func} expects the cache (x, argmax, size, stride) returned by "
            f"max_pool_forward, got {describe(cache)}"
        )
    x, argmax, size, stride = cache
    dout = _check_images(dout, func, "dout")
    if dout.shape != argmax.shape:
        raise ValueError(
            f"{func} expects dout of the pooled output's shape {argmax.shape}, "
            f"got {dout.shape}"
        )
    ho, wo = argmax.shape[1], argmax.shape[2]
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for p in range(size):  # the window offsets only
        rows = slice(p, p + stride * (ho - 1) + 1, stride)
        for q in range(size):
            cols = slice(q, q + stride * (wo - 1) + 1, stride)
            dx[:, rows, cols, :] += np.where(argmax == p * size + q, dout, 0.0)
    return dx
