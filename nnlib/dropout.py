"""Inverted dropout, forward and backward.

During training each entry of the input is dropped (set to 0) with probability ``p``
and the kept entries are scaled by ``1 / (1 - p)``, so that the expected value of every
output equals its input: ``E[out] = (1 - p) * x / (1 - p) = x``. At test time nothing is
dropped and nothing is scaled; the network computes the same expected activations it was
trained with. ``p`` is the probability of DROPPING a unit, as in PyTorch (TensorFlow 1's
``keep_prob`` is ``1 - p``).

Shapes: ``x`` and ``out`` any shape; the mask has the shape of ``x``.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_number, describe

__all__ = ["dropout_forward", "dropout_backward"]


def _check_p(p, func):
    p = check_number(p, func, "p", minimum=0.0)
    if p >= 1.0:
        raise ValueError(
            f"{func} expects p, the probability of dropping a unit, in [0, 1), got {p}"
        )
    return p


def dropout_forward(x, p, rng, training=True):
    """Inverted dropout of ``x``.

    Parameters
    ----------
    x : numpy.ndarray
        Activations, any shape.
    p : float
        Probability of dropping each entry, in [0, 1).
    rng : numpy.random.Generator
        Draws the mask (``rng.random(x.shape) >= p`` keeps an entry).
    training : bool, default True
        When False (test time), or when ``p == 0``, ``out`` equals ``x`` and no mask
        is drawn.

    Returns
    -------
    out : numpy.ndarray, shape of x
        ``x * mask / (1 - p)`` in training, ``x`` otherwise.
    cache : tuple (mask, p)
        ``mask`` a boolean array of the shape of x (None when nothing was dropped); what
        :func:`dropout_backward` needs.
    """
    x = as_float_array(x, "dropout_forward", "x")
    p = _check_p(p, "dropout_forward")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(
            f"dropout_forward expects training to be a bool, got {describe(training)}"
        )
    if not training or p == 0.0:
        return x.copy(), (None, p)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"dropout_forward expects rng to be a numpy.random.Generator "
            f"(np.random.default_rng(seed)), got {describe(rng)}"
        )
    mask = rng.random(x.shape) >= p
    return x * mask / (1.0 - p), (mask, p)


def dropout_backward(dout, cache):
    """Gradient of the loss with respect to the input of :func:`dropout_forward`.

    The forward pass multiplied each entry by ``mask / (1 - p)``, a constant once the
    mask is drawn, so the gradient is multiplied by the same: dropped units pass no
    gradient.

    Parameters
    ----------
    dout : numpy.ndarray
        Gradient of the loss with respect to ``out``, shape of x.
    cache : tuple (mask, p)
        From :func:`dropout_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape of dout
    """
    dout = as_float_array(dout, "dropout_backward", "dout")
    if not (isinstance(cache, tuple) and len(cache) == 2):
        raise TypeError(
            "dropout_backward expects the cache (mask, p) returned by "
            f"dropout_forward, got {describe(cache)}"
        )
    mask, p = cache
    if mask is None:
        return dout.copy()
    if not isinstance(mask, np.ndarray) or mask.dtype != bool:
        raise TypeError(
            "dropout_backward expects the cache's mask to be a boolean array, "
            f"got {describe(mask)}"
        )
    if mask.shape != dout.shape:
        raise ValueError(
            "dropout_backward expects dout of the shape of the forward input, "
            f"{mask.shape}, got {dout.shape}"
        )
    return dout * mask / (1.0 - p)
