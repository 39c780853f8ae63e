"""Activation functions and their derivatives.

Convention used everywhere in nnlib: **every derivative takes the activation's
output** ``a = f(z)``, not the pre-activation ``z``. For the three classic
activations the derivative is cheapest to write in terms of the output:

========  =====================  ===========================
name      f(z)                   f'(z) written with a = f(z)
========  =====================  ===========================
sigmoid   1 / (1 + exp(-z))      a (1 - a)
tanh      tanh(z)                1 - a**2
relu      max(0, z)              1 where a > 0, else 0
identity  z                      1
========  =====================  ===========================

``ACTIVATIONS`` maps each name to its ``(function, derivative)`` pair, in the
manner of scikit-learn's ``neural_network._base`` tables.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array

__all__ = [
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "identity",
    "identity_grad",
    "ACTIVATIONS",
]


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, elementwise.

    Stable for any finite input: for negative ``x`` it is evaluated as
    ``exp(x) / (1 + exp(x))`` so that ``exp`` never overflows.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activation ``z``.

    Returns
    -------
    numpy.ndarray, same shape as ``x``
        Values in [0, 1].
    """
    x = as_float_array(x, "sigmoid")
    e = np.exp(-np.abs(x))  # in (0, 1], never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(s):
    """Derivative of the sigmoid, **given its output** ``s = sigmoid(x)``.

    Returns ``s * (1 - s)``, which equals ``d sigmoid(x) / dx``. Pass the
    activation, not ``x``: ``sigmoid_grad(sigmoid(x))``.

    Parameters
    ----------
    s : array_like, any shape
        Sigmoid outputs, each in [0, 1].

    Returns
    -------
    numpy.ndarray, same shape as ``s``
    """
    s = as_float_array(s, "sigmoid_grad", "s")
    if s.size and (s.min() < 0 or s.max() > 1):
        raise ValueError(
            "sigmoid_grad expects sigmoid outputs s in [0, 1] "
            "(it takes s = sigmoid(x), not x), "
            f"got values in [{s.min():.4g}, {s.max():.4g}]"
        )
    return s * (1.0 - s)


def tanh(x):
    """Hyperbolic tangent, elementwise (``numpy.tanh`` with input checks).

    Parameters
    ----------
    x : array_like, any shape
        Pre-activation ``z``.

    Returns
    -------
    numpy.ndarray, same shape as ``x``, values in [-1, 1]
    """
    return np.tanh(as_float_array(x, "tanh"))


def tanh_grad(t):
    """Derivative of tanh, **given its output** ``t = tanh(x)``: ``1 - t**2``.

    Parameters
    ----------
    t : array_like, any shape
        tanh outputs, each in [-1, 1].

    Returns
    -------
    numpy.ndarray, same shape as ``t``
    """
    t = as_float_array(t, "tanh_grad", "t")
    if t.size and np.abs(t).max() > 1:
        raise ValueError(
            "tanh_grad expects tanh outputs t in [-1, 1] "
            "(it takes t = tanh(x), not x), "
            f"got values in [{t.min():.4g}, {t.max():.4g}]"
        )
    return 1.0 - t * t


def relu(x):
    """Rectified linear unit ``max(0, x)``, elementwise.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activation ``z``.

    Returns
    -------
    numpy.ndarray, same shape as ``x``
    """
    x = as_float_array(x, "relu")
    return np.maximum(x, 0.0)


def relu_grad(a):
    """Derivative of ReLU, **given its output** ``a = relu(x)``.

    Returns 1 where ``a > 0`` and 0 elsewhere. Since ``relu(x) > 0`` exactly
    when ``x > 0``, passing ``x`` instead gives the same result; the derivative
    at 0, which does not exist, is taken to be 0 (as in every library).

    Parameters
    ----------
    a : array_like, any shape

    Returns
    -------
    numpy.ndarray of 0.0 and 1.0, same shape as ``a``
    """
    a = as_float_array(a, "relu_grad", "a")
    return (a > 0).astype(a.dtype)


def identity(x):
    """The identity, used as the output activation of a regression network."""
    return as_float_array(x, "identity")


def identity_grad(a):
    """Derivative of the identity: ones with the shape of ``a``."""
    a = as_float_array(a, "identity_grad", "a")
    return np.ones_like(a)


#: name -> (activation, derivative taking the activation's output)
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "identity": (identity, identity_grad),
}
