"""The layer of chapter 6: a dense layer followed by its activation.

This is the code chapter 6 teaches (same names, same cache), with input checks::

    layer_forward(X, W, b, activation) -> (A, cache)
        X (N, D_in), W (D_in, D_out), b (D_out,)  ->  A = f(X W + b)  (N, D_out)
        cache = (X, W, A, activation)

    layer_backward(dA, cache) -> (dX, dW, db)
        dZ = dA * f'(A)      (f' takes the activation's OUTPUT A, see nnlib.activations)
        dX = dZ W^T  (N, D_in)
        dW = X^T dZ  (D_in, D_out)
        db = dZ summed over the rows  (D_out,)

    Layer(n_in, n_out, activation, init, rng)   the two functions with their parameters

The initial weights come from :func:`init_weights`, one of the initialisations of
:data:`INITIALISATIONS`, the one table of them in nnlib. :class:`nnlib.MLP` is a
list of these layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, check_float_dtype, check_int, describe
from .activations import ACTIVATIONS

__all__ = [
    "INITIALISATIONS",
    "init_weights",
    "layer_forward",
    "layer_backward",
    "Layer",
]


class Initialisation(NamedTuple):
    """One row of :data:`INITIALISATIONS`."""

    #: how each weight is drawn
    formula: str
    #: its standard deviation, a function of (fan_in, fan_out)
    std: Callable[[int, int], float]
    #: what it is for
    use: str


#: How the weights W (fan_in x fan_out) of a dense layer start: every initialisation
#: of nnlib, with its formula, in one table (biases start at 0). "glorot" is
#: Glorot's *uniform* distribution; nnlib.cnn's glorot_variable draws the same
#: variance from a truncated normal (Keras's GlorotNormal), for TensorFlow.
INITIALISATIONS = {
    "small": Initialisation(
        "N(0, 0.01^2)",
        lambda fan_in, fan_out: 0.01,
        "the classic 'small random numbers'; vanishes in deep networks",
    ),
    "lecun": Initialisation(
        "N(0, 1 / fan_in)",
        lambda fan_in, fan_out: math.sqrt(1.0 / fan_in),
        "LeCun et al. (1998): keeps the variance through tanh layers",
    ),
    "glorot": Initialisation(
        "U(-a, a), a = sqrt(6 / (fan_in + fan_out)), variance 2 / (fan_in + fan_out)",
        lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),
        "Glorot and Bengio (2010), 'Xavier': the variance forward and backward alike",
    ),
    "he": Initialisation(
        "N(0, 2 / fan_in)",
        lambda fan_in, fan_out: math.sqrt(2.0 / fan_in),
        "He et al. (2015), 'Kaiming': keeps the variance through ReLU layers",
    ),
}


def _check_name(value, table, func, name):
    if not isinstance(value, str) or value not in table:
        got = repr(value) if isinstance(value, str) else describe(value)
        raise ValueError(f"{func} expects {name} to be one of {list(table)}, got {got}")
    return value


def _check_method(method, func, name="init"):
    return _check_name(method, INITIALISATIONS, func, name)


def _check_activation(activation, func):
    return _check_name(activation, ACTIVATIONS, func, "activation")


def init_weights(fan_in, fan_out, method="he", rng=None, dtype=np.float64):
    """A weight matrix drawn for one of the initialisations of :data:`INITIALISATIONS`.

    The normal ones are ``std * rng.standard_normal((fan_in, fan_out))``, as in
    chapter 6; ``"glorot"`` is ``rng.uniform(-a, a, (fan_in, fan_out))``.

    Parameters
    ----------
    fan_in, fan_out : int
        Inputs and outputs of the layer (D_in and D_out).
    method : {"small", "lecun", "glorot", "he"}
    rng : numpy.random.Generator, optional
        Source of randomness (a fresh unseeded one when omitted).
    dtype : numpy.float32 or numpy.float64
        The weights are drawn in float64 and then converted.

    Returns
    -------
    numpy.ndarray, shape (fan_in, fan_out)
    """
    fan_in = check_int(fan_in, "init_weights", "fan_in", minimum=1)
    fan_out = check_int(fan_out, "init_weights", "fan_out", minimum=1)
    method = _check_method(method, "init_weights", "method")
    if rng is None:
        rng = np.random.default_rng()
    elif not isinstance(rng, np.random.Generator):
        raise TypeError(
            "init_weights expects rng to be a numpy.random.Generator, "
            f"got {describe(rng)}"
        )
    dtype = check_float_dtype(dtype, "init_weights")
    if method == "glorot":
        # U(-a, a) has variance a^2 / 3 = 2 / (fan_in + fan_out)
        a = math.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-a, a, size=(fan_in, fan_out))
    else:
        std = INITIALISATIONS[method].std(fan_in, fan_out)
        W = std * rng.standard_normal((fan_in, fan_out))
    return W.astype(dtype, copy=False)


# ------------------------------------------------------------------ chapter 6's layer


def _check_layer_input(X, W, b, func):
    """Check X (N, D_in), W (D_in, D_out) and b (D_out,); return them as arrays."""
    W = as_float_array(W, func, "W", ndim=2, allow_scalar=False)
    b = as_float_array(b, func, "b", ndim=1, allow_scalar=False)
    X = as_float_array(X, func, "X", ndim=2, allow_scalar=False)
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"{func} expects X of shape (N, {W.shape[0]}) to match W of shape "
            f"{W.shape}, got X of shape {X.shape}"
        )
    if b.shape != (W.shape[1],):
        raise ValueError(
            f"{func} expects b of shape ({W.shape[1]},) to match W of shape {W.shape}, "
            f"got b of shape {b.shape}"
        )
    return X, W, b


def _forward(X, W, b, activation):
    f, _ = ACTIVATIONS[activation]
    A = f(X @ W + b)
    return A, (X, W, A, activation)


def _backward(dA, cache):
    X, W, A, activation = cache
    _, f_grad = ACTIVATIONS[activation]
    dZ = dA * f_grad(A)
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def layer_forward(X, W, b, activation):
    """Forward pass of a dense layer followed by an activation: ``A = f(X W + b)``.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, D_in)
    W : numpy.ndarray, shape (D_in, D_out)
    b : numpy.ndarray, shape (D_out,)
    activation : {"sigmoid", "tanh", "relu", "identity"}
        A key of :data:`nnlib.ACTIVATIONS`.

    Returns
    -------
    A : numpy.ndarray, shape (N, D_out)
    cache : tuple (X, W, A, activation)
        What :func:`layer_backward` needs: the input, the weights and the output
        (the derivative of the activation is computed from ``A``).
    """
    X, W, b = _check_layer_input(X, W, b, "layer_forward")
    return _forward(X, W, b, _check_activation(activation, "layer_forward"))


def _check_cache(cache, func):
    names = ("X", "W", "A", "activation")
    if not isinstance(cache, tuple) or len(cache) != 4:
        raise TypeError(
            f"{func} expects cache = (X, W, A, activation) from layer_forward, "
            f"got {describe(cache)}"
        )
    for name, item in zip(names[:3], cache[:3], strict=True):
        if not isinstance(item, np.ndarray) or item.ndim != 2:
            raise TypeError(
                f"{func} expects cache = (X, W, A, activation) with {name} a 2-D array "
                f"(element {names.index(name)}), got {describe(item)}"
            )
    X, W, A, activation = cache
    _check_activation(activation, func)
    if X.shape[1] != W.shape[0] or A.shape != (X.shape[0], W.shape[1]):
        raise ValueError(
            f"{func} expects a cache (X, W, A, activation) with X (N, D_in), "
            f"W (D_in, D_out) and A (N, D_out), got shapes {X.shape}, {W.shape} "
            f"and {A.shape}"
        )
    return cache


def layer_backward(dA, cache):
    """Backward pass of :func:`layer_forward`.

    Parameters
    ----------
    dA : numpy.ndarray, shape (N, D_out)
        Gradient of the loss with respect to the layer's output ``A``.
    cache : tuple (X, W, A, activation) from :func:`layer_forward`

    Returns
    -------
    dX : numpy.ndarray, shape (N, D_in)
        ``dZ W^T`` with ``dZ = dA * f'(A)``: the ``dA`` of the layer below.
    dW : numpy.ndarray, shape (D_in, D_out)
        ``X^T dZ``.
    db : numpy.ndarray, shape (D_out,)
        ``dZ`` summed over the examples (rows).
    """
    cache = _check_cache(cache, "layer_backward")
    dA = as_float_array(dA, "layer_backward", "dA", ndim=2, allow_scalar=False)
    if dA.shape != cache[2].shape:
        raise ValueError(
            f"layer_backward expects dA of shape {cache[2].shape} (the shape of the "
            f"output A in the cache), got shape {dA.shape}"
        )
    return _backward(dA, cache)


class Layer:
    """A dense layer followed by an activation, ``A = f(X W + b)`` (chapter 6).

    Parameters
    ----------
    n_in, n_out : int
        D_in and D_out.
    activation : {"sigmoid", "tanh", "relu", "identity"}
        A key of :data:`nnlib.ACTIVATIONS`.
    init : {"small", "lecun", "glorot", "he"}
        Initialisation of ``W`` (see :data:`INITIALISATIONS`); ``b`` starts at 0.
    rng : numpy.random.Generator
        Draws the initial weights.
    dtype : numpy.float32 or numpy.float64

    Attributes
    ----------
    W : numpy.ndarray, shape (n_in, n_out)
    b : numpy.ndarray, shape (n_out,)
    cache : tuple (X, W, A, activation) or None
        From the last :meth:`forward`.
    dW, db : numpy.ndarray, shapes (n_in, n_out) and (n_out,)
        From the last :meth:`backward` (zeros before).
    """

    def __init__(self, n_in, n_out, activation, init, rng, dtype=np.float64):
        n_in = check_int(n_in, "Layer", "n_in", minimum=1)
        n_out = check_int(n_out, "Layer", "n_out", minimum=1)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"Layer expects rng to be a numpy.random.Generator, got {describe(rng)}"
            )
        self.activation = _check_activation(activation, "Layer")
        self.W = init_weights(n_in, n_out, _check_method(init, "Layer"), rng, dtype)
        self.b = np.zeros(n_out, dtype=self.W.dtype)
        self.cache = None
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, X):
        """``A = f(X W + b)`` (N, n_out) for ``X`` (N, n_in); keeps the cache."""
        X, W, b = _check_layer_input(X, self.W, self.b, "Layer.forward")
        A, self.cache = _forward(X, W, b, self.activation)
        return A

    def backward(self, dA):
        """Store ``dW`` and ``db`` for ``dA`` (N, n_out); return ``dX`` (N, n_in)."""
        if self.cache is None:
            raise RuntimeError(
                "Layer.backward called before forward: there is no cache"
            )
        dX, self.dW, self.db = layer_backward(dA, self.cache)
        return dX

    def parameters(self):
        """``[W, b]``, the arrays themselves: changing them changes the layer."""
        return [self.W, self.b]

    def gradients(self):
        """``[dW, db]`` from the last :meth:`backward`."""
        return [self.dW, self.db]

    def __repr__(self):
        return f"Layer({self.W.shape[0]} -> {self.W.shape[1]}, {self.activation})"
