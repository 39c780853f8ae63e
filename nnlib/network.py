"""The one-hidden-layer network of Part I: sigmoid hidden layer, softmax output,
cross-entropy cost averaged over the rows.

Shapes, for M examples, ``dimensions = (Dx, H, Dy)``::

    X  (M, Dx)   W1 (Dx, H)   b1 (H,)    Z1 = X W1 + b1    (M, H)   A1 = sigmoid(Z1)
                 W2 (H, Dy)   b2 (Dy,)   Z2 = A1 W2 + b2   (M, Dy)  Y_hat = softmax(Z2)

All parameters travel packed in one vector, ``[W1.ravel(), b1, W2.ravel(), b2]``
(row-major), so that ``gradcheck_naive`` can check them all at once.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_int, check_one_hot
from .activations import sigmoid, sigmoid_grad
from .losses import cross_entropy, softmax

__all__ = ["forward_backward_prop", "param_count", "pack_params", "unpack_params"]


def _check_dimensions(dimensions, func):
    if not isinstance(dimensions, (list, tuple, np.ndarray)) or len(dimensions) != 3:
        raise ValueError(
            f"{func} expects dimensions = (Dx, H, Dy), three positive integers, got "
            f"{dimensions!r}"
        )
    return tuple(
        check_int(
            int(d) if isinstance(d, np.integer) else d,
            func,
            f"dimensions[{i}]",
            minimum=1,
        )
        for i, d in enumerate(dimensions)
    )


def param_count(dimensions) -> int:
    """Number of parameters of a Dx-H-Dy network: ``(Dx + 1) H + (H + 1) Dy``."""
    dx, h, dy = _check_dimensions(dimensions, "param_count")
    return (dx + 1) * h + (h + 1) * dy


def unpack_params(params, dimensions):
    """Split a packed parameter vector into ``(W1, b1, W2, b2)``.

    Parameters
    ----------
    params : array_like, shape ((Dx+1)H + (H+1)Dy,)
    dimensions : (Dx, H, Dy)

    Returns
    -------
    W1 (Dx, H), b1 (H,), W2 (H, Dy), b2 (Dy,) : numpy.ndarray
        Views into ``params`` when it is already a float array.
    """
    dx, h, dy = _check_dimensions(dimensions, "unpack_params")
    params = as_float_array(params, "unpack_params", "params", ndim=1)
    expected = (dx + 1) * h + (h + 1) * dy
    if params.size != expected:
        raise ValueError(
            f"unpack_params expects {expected} parameters for dimensions {dx}-{h}-{dy} "
            f"((Dx+1)H + (H+1)Dy), got a vector of length {params.size}"
        )
    ofs = 0
    W1 = params[ofs : ofs + dx * h].reshape(dx, h)
    ofs += dx * h
    b1 = params[ofs : ofs + h]
    ofs += h
    W2 = params[ofs : ofs + h * dy].reshape(h, dy)
    ofs += h * dy
    b2 = params[ofs : ofs + dy]
    return W1, b1, W2, b2


def pack_params(W1, b1, W2, b2):
    """Concatenate ``W1, b1, W2, b2`` (row-major) into one vector."""
    arrays = [
        as_float_array(a, "pack_params", n)
        for a, n in zip((W1, b1, W2, b2), ("W1", "b1", "W2", "b2"), strict=True)
    ]
    W1, b1, W2, b2 = arrays
    if W1.ndim != 2 or W2.ndim != 2:
        raise ValueError(
            f"pack_params expects 2-D W1 and W2, got shapes {W1.shape} and {W2.shape}"
        )
    if (
        b1.shape != (W1.shape[1],)
        or W2.shape[0] != W1.shape[1]
        or b2.shape != (W2.shape[1],)
    ):
        raise ValueError(
            "pack_params expects W1 (Dx, H), b1 (H,), W2 (H, Dy), b2 (Dy,), got "
            f"{W1.shape}, {b1.shape}, {W2.shape}, {b2.shape}"
        )
    return np.concatenate([W1.ravel(), b1, W2.ravel(), b2])


def forward_backward_prop(data, labels, params, dimensions):
    """Cost and gradient of the one-hidden-layer network.

    Forward: ``A1 = sigmoid(X W1 + b1)``, ``Y_hat = softmax(A1 W2 + b2)``,
    ``cost = cross_entropy(labels, Y_hat)`` (averaged over the M rows).

    Backward (with ``delta2 = (Y_hat - Y) / M``)::

        dW2 = A1.T @ delta2          db2 = delta2.sum(0)
        delta1 = (delta2 @ W2.T) * sigmoid_grad(A1)
        dW1 = X.T @ delta1           db1 = delta1.sum(0)

    Parameters
    ----------
    data : array_like, shape (M, Dx)
    labels : array_like, shape (M, Dy)
        One-hot rows.
    params : array_like, shape ((Dx+1)H + (H+1)Dy,)
        Packed ``W1, b1, W2, b2``.
    dimensions : (Dx, H, Dy)

    Returns
    -------
    cost : float
    grad : numpy.ndarray, shape like ``params``
        Packed the same way as ``params``.
    """
    func = "forward_backward_prop"
    dx, h, dy = _check_dimensions(dimensions, func)
    X = as_float_array(data, func, "data", ndim=2)
    Y = as_float_array(labels, func, "labels", ndim=2)
    if X.shape[1] != dx:
        raise ValueError(
            f"{func} expects data with Dx = {dx} columns (dimensions {dimensions}), "
            f"got shape {X.shape}"
        )
    if Y.shape != (X.shape[0], dy):
        raise ValueError(
            f"{func} expects labels of shape (M, Dy) = ({X.shape[0]}, {dy}), got "
            f"shape {Y.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"{func} expects at least one example, got data of shape {X.shape}"
        )
    check_one_hot(Y, func, "labels")
    W1, b1, W2, b2 = unpack_params(params, (dx, h, dy))
    M = X.shape[0]

    A1 = sigmoid(X @ W1 + b1)
    Y_hat = softmax(A1 @ W2 + b2)
    cost = cross_entropy(Y, Y_hat)

    delta2 = (Y_hat - Y) / M
    dW2 = A1.T @ delta2
    db2 = delta2.sum(axis=0)
    delta1 = (delta2 @ W2.T) * sigmoid_grad(A1)
    dW1 = X.T @ delta1
    db1 = delta1.sum(axis=0)
    return cost, np.concatenate([dW1.ravel(), db1, dW2.ravel(), db2])
