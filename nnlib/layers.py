"""The layer of chapter 6: a dense layer followed by its activation.

This is the code chapter 6 teaches (same names, same cache), with input checks::

    layer_forward(X, W, b, activation) -> (A, cache)
        X (N, D_in), W (D_in, D_out), b (D_out,)  ->  A = f(X W + b)  (N, D_out)
        cache = (X, W, A, activation)

    layer_backward(dA, cache) -> (dX, dW, db)
        dZ = dA * f'(A)      (f' takes the activation's OUTPUT A, see nnlib.activations)
        dX = dZ W^T (N, D_in)    dW = X^T dZ (D_in, D_out)    db = sum over rows of dZ (D_out,)

    Layer(n_in, n_out, activation, init, rng)   the two functions with their parameters

The initial weights come from :func:`init_weights`, one of the initialisations of
:data:`INITIALISATIONS`, the one table of them in nnlib. ``Dense`` and
``Activation``, at the end, are the two halves of a ``Layer`` that :class:`nnlib.MLP`
still builds on.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, NamedTuple

import numpy as np

from ._validation import as_float_array, check_int, describe
from .activations import ACTIVATIONS

__all__ = ["INITIALISATIONS", "init_weights", "layer_forward", "layer_backward", "Layer",
           "Dense", "Activation"]


class Initialisation(NamedTuple):
    """One row of :data:`INITIALISATIONS`."""

    formula: str  #: how each weight is drawn
    std: Callable[[int, int], float]  #: its standard deviation, a function of (fan_in, fan_out)
    use: str  #: what it is for


#: How the weights W (fan_in x fan_out) of a dense layer start: every initialisation
#: of nnlib, with its formula, in one table (biases start at 0). "glorot" is
#: Glorot's *uniform* distribution; nnlib.cnn's glorot_variable draws the same
#: variance from a truncated normal (Keras's GlorotNormal), for TensorFlow.
INITIALISATIONS = {
    "small": Initialisation(
        "N(0, 0.01^2)", lambda fan_in, fan_out: 0.01,
        "the classic 'small random numbers'; vanishes in deep networks"),
    "lecun": Initialisation(
        "N(0, 1 / fan_in)", lambda fan_in, fan_out: math.sqrt(1.0 / fan_in),
        "LeCun et al. (1998): keeps the variance through tanh layers"),
    "glorot": Initialisation(
        "U(-a, a), a = sqrt(6 / (fan_in + fan_out)), variance 2 / (fan_in + fan_out)",
        lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),
        "Glorot and Bengio (2010), 'Xavier': keeps the variance forward and backward alike"),
    "he": Initialisation(
        "N(0, 2 / fan_in)", lambda fan_in, fan_out: math.sqrt(2.0 / fan_in),
        "He et al. (2015), 'Kaiming': keeps the variance through ReLU layers"),
}


def _as_rng(seed=None, rng=None, func="Dense"):
    if rng is not None and seed is not None:
        raise ValueError(f"{func} expects either seed or rng, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{func} expects rng to be a numpy.random.Generator, got {describe(rng)}")
        return rng
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"{func} expects seed to be a non-negative integer, a Generator or None, got {describe(seed)}")
    return np.random.default_rng(int(seed))


def _check_dtype(dtype, func):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{func} expects dtype to be numpy.float32 or numpy.float64, got {describe(dtype)}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"{func} expects dtype to be numpy.float32 or numpy.float64, got {dt}")
    return dt


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
    rng = _as_rng(rng=rng, func="init_weights")
    dtype = _check_dtype(dtype, "init_weights")
    if method == "glorot":
        a = math.sqrt(6.0 / (fan_in + fan_out))  # U(-a, a) has variance a^2 / 3 = 2 / (fan_in + fan_out)
        W = rng.uniform(-a, a, size=(fan_in, fan_out))
    else:
        W = INITIALISATIONS[method].std(fan_in, fan_out) * rng.standard_normal((fan_in, fan_out))
    return W.astype(dtype, copy=False)


# ---------------------------------------------------------------------------- chapter 6's layer

def _check_layer_input(X, W, b, func):
    """Validate ``X (N, D_in)``, ``W (D_in, D_out)``, ``b (D_out,)``; return them as float arrays."""
    W = as_float_array(W, func, "W", ndim=2, allow_scalar=False)
    b = as_float_array(b, func, "b", ndim=1, allow_scalar=False)
    X = as_float_array(X, func, "X", ndim=2, allow_scalar=False)
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"{func} expects X of shape (N, {W.shape[0]}) to match W of shape {W.shape}, "
                         f"got X of shape {X.shape}")
    if b.shape != (W.shape[1],):
        raise ValueError(f"{func} expects b of shape ({W.shape[1]},) to match W of shape {W.shape}, "
                         f"got b of shape {b.shape}")
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
        raise TypeError(f"{func} expects cache = (X, W, A, activation) from layer_forward, got {describe(cache)}")
    for name, item in zip(names[:3], cache[:3]):
        if not isinstance(item, np.ndarray) or item.ndim != 2:
            raise TypeError(f"{func} expects cache = (X, W, A, activation) with {name} a 2-D array "
                            f"(element {names.index(name)}), got {describe(item)}")
    X, W, A, activation = cache
    _check_activation(activation, func)
    if X.shape[1] != W.shape[0] or A.shape != (X.shape[0], W.shape[1]):
        raise ValueError(f"{func} expects a cache (X, W, A, activation) with X (N, D_in), W (D_in, D_out) and "
                         f"A (N, D_out), got shapes {X.shape}, {W.shape} and {A.shape}")
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
        raise ValueError(f"layer_backward expects dA of shape {cache[2].shape} (the shape of the output A "
                         f"in the cache), got shape {dA.shape}")
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
            raise TypeError(f"Layer expects rng to be a numpy.random.Generator, got {describe(rng)}")
        self.activation = _check_activation(activation, "Layer")
        self.W = init_weights(n_in, n_out, _check_method(init, "Layer"), rng, dtype)
        self.b = np.zeros(n_out, dtype=self.W.dtype)
        self.cache = None
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, X):
        """``A = f(X W + b)`` for ``X`` of shape (N, n_in); keeps the cache. Returns A, (N, n_out)."""
        X, W, b = _check_layer_input(X, self.W, self.b, "Layer.forward")
        A, self.cache = _forward(X, W, b, self.activation)
        return A

    def backward(self, dA):
        """Store ``dW`` and ``db`` for ``dA`` of shape (N, n_out); return ``dX``, shape (N, n_in)."""
        if self.cache is None:
            raise RuntimeError("Layer.backward called before forward: there is no cache")
        dX, self.dW, self.db = layer_backward(dA, self.cache)
        return dX

    def parameters(self):
        """``[W, b]``, the arrays themselves (updating them in place updates the layer)."""
        return [self.W, self.b]

    def gradients(self):
        """``[dW, db]`` from the last :meth:`backward`."""
        return [self.dW, self.db]

    def __repr__(self):
        return f"Layer({self.W.shape[0]} -> {self.W.shape[1]}, {self.activation})"


# ------------------------------------------------------- the two halves of a Layer, for nnlib.MLP

class Dense:
    """``Z = X W + b``: a :class:`Layer` without its activation (the building block of :class:`nnlib.MLP`).

    Parameters
    ----------
    in_features, out_features : int
        D and M: the layer maps (N, D) to (N, M).
    init : {"small", "lecun", "glorot", "he"}
        Initialisation of ``W`` (see :data:`INITIALISATIONS`); ``b`` starts at 0.
    seed : int, optional
        Seed of the generator used for ``W`` (or pass ``rng``).
    rng : numpy.random.Generator, optional
    dtype : numpy.float32 or numpy.float64

    Attributes
    ----------
    W : numpy.ndarray, shape (D, M)
    b : numpy.ndarray, shape (M,)
    dW, db : numpy.ndarray or None
        Gradients stored by the last :meth:`backward`.
    """

    #: "xavier" is the name nnlib.mlp still passes for "glorot" (the same uniform draw)
    _OLD_NAMES = {"xavier": "glorot"}

    def __init__(self, in_features, out_features, init="he", seed=None, rng=None, dtype=np.float64):
        self.in_features = check_int(in_features, "Dense", "in_features", minimum=1)
        self.out_features = check_int(out_features, "Dense", "out_features", minimum=1)
        self.dtype = _check_dtype(dtype, "Dense")
        rng = _as_rng(seed, rng, "Dense")
        init = _check_method(self._OLD_NAMES.get(init, init), "Dense")
        self.W = init_weights(self.in_features, self.out_features, init, rng=rng, dtype=self.dtype)
        self.b = np.zeros(self.out_features, dtype=self.dtype)
        self.dW = None
        self.db = None
        self._X = None

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features}, dtype={self.dtype.name})"

    def parameters(self):
        """``[W, b]``, the arrays themselves (updating them in place updates the layer)."""
        return [self.W, self.b]

    def gradients(self):
        """``[dW, db]`` from the last :meth:`backward`."""
        if self.dW is None:
            raise RuntimeError("Dense.gradients: no gradients yet, call forward(X) and then backward(dout) first")
        return [self.dW, self.db]

    def forward(self, X):
        """``Z = X W + b`` for ``X`` of shape (N, D); caches ``X``. Returns Z, (N, M)."""
        X = as_float_array(X, "Dense.forward", "X", ndim=2, allow_scalar=False)
        if X.shape[1] != self.in_features:
            raise ValueError(f"Dense.forward expects X of shape (N, {self.in_features}), got shape {X.shape}")
        return self._forward(X.astype(self.dtype, copy=False))

    def _forward(self, X):
        self._X = X
        return X @ self.W + self.b

    def backward(self, dout):
        """Store ``dW = X^T dout`` and ``db = sum_rows(dout)`` for ``dout`` (N, M); return ``dX = dout W^T`` (N, D)."""
        if self._X is None:
            raise RuntimeError("Dense.backward called before forward: there is no cached input")
        dout = as_float_array(dout, "Dense.backward", "dout", ndim=2, allow_scalar=False)
        expected = (self._X.shape[0], self.out_features)
        if dout.shape != expected:
            raise ValueError(f"Dense.backward expects dout of shape {expected} (the shape of the forward output), "
                             f"got {dout.shape}")
        return self._backward(dout.astype(self.dtype, copy=False))

    def _backward(self, dout):
        self.dW = self._X.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Activation:
    """``A = f(Z)``, elementwise: the other half of a :class:`Layer` (caches the output ``A``).

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu", "identity"}
        A key of :data:`nnlib.ACTIVATIONS`; its derivative takes the output ``A``.
    """

    def __init__(self, name):
        if name not in ACTIVATIONS:
            raise ValueError(f"Activation expects a name among {sorted(ACTIVATIONS)}, got {name!r}")
        self.name = name
        self.f, self.f_grad = ACTIVATIONS[name]
        self._A = None

    def __repr__(self):
        return f"Activation({self.name!r})"

    def parameters(self):
        """An activation has no parameters: ``[]``."""
        return []

    def gradients(self):
        """An activation has no parameters: ``[]``."""
        return []

    def forward(self, Z):
        """``A = f(Z)`` for ``Z`` of any shape (N, M); caches and returns ``A``."""
        Z = as_float_array(Z, f"Activation({self.name!r}).forward", "Z", allow_scalar=False)
        return self._forward(Z)

    def _forward(self, Z):
        self._A = self.f(Z).astype(Z.dtype, copy=False)
        return self._A

    def backward(self, dout):
        """``dZ = dout * f'(A)`` for ``dout`` of the shape of ``A``."""
        if self._A is None:
            raise RuntimeError(f"Activation({self.name!r}).backward called before forward: there is no cached output")
        dout = as_float_array(dout, f"Activation({self.name!r}).backward", "dout", allow_scalar=False)
        if dout.shape != self._A.shape:
            raise ValueError(f"Activation({self.name!r}).backward expects dout of shape {self._A.shape} "
                             f"(the shape of the forward output), got {dout.shape}")
        return self._backward(dout)

    def _backward(self, dout):
        return (dout * self.f_grad(self._A)).astype(self._A.dtype, copy=False)
