"""Layers in the manner of cs231n: a forward that caches what the backward needs,
and a backward that stores the parameter gradients and returns the gradient of
its input.

Shapes, for a mini-batch of N examples::

    Dense(D, M):        X (N, D)  ->  Z = X W + b  (N, M)      W (D, M), b (M,)
    Activation(name):   Z (N, M)  ->  A = f(Z)     (N, M)      no parameters

Backward, given ``dout = dL/d(output)``::

    Dense:       dW = X^T dout  (D, M)    db = sum over rows of dout  (M,)    dX = dout W^T  (N, D)
    Activation:  dZ = dout * f'(A)        (f' takes the activation's OUTPUT A, see nnlib.activations)
"""
from __future__ import annotations

import numbers

import numpy as np

from ._validation import as_float_array, check_int, describe
from .activations import ACTIVATIONS

__all__ = ["Dense", "Activation", "init_weights", "INITIALISERS"]

#: initialiser name -> description; see :func:`init_weights`
INITIALISERS = {
    "he": "normal, std sqrt(2 / fan_in) (for ReLU)",
    "xavier": "uniform on [-a, a], a = sqrt(6 / (fan_in + fan_out)) (Glorot, for tanh and sigmoid)",
    "small": "normal, std 0.01 (the classic 'small random' start)",
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


def init_weights(fan_in, fan_out, method="he", rng=None, dtype=np.float64):
    """A weight matrix of shape ``(fan_in, fan_out)`` drawn for the given initialisation.

    Parameters
    ----------
    fan_in, fan_out : int
        Inputs and outputs of the layer.
    method : {"he", "xavier", "small"}
        See :data:`INITIALISERS`.
    rng : numpy.random.Generator, optional
        Source of randomness (a fresh unseeded one when omitted).
    dtype : numpy.float32 or numpy.float64

    Returns
    -------
    numpy.ndarray, shape (fan_in, fan_out)
    """
    fan_in = check_int(fan_in, "init_weights", "fan_in", minimum=1)
    fan_out = check_int(fan_out, "init_weights", "fan_out", minimum=1)
    if method not in INITIALISERS:
        raise ValueError(f"init_weights expects method to be one of {sorted(INITIALISERS)}, got {method!r}")
    rng = _as_rng(rng=rng, func="init_weights") if rng is not None else np.random.default_rng()
    dtype = _check_dtype(dtype, "init_weights")
    if method == "he":
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
    elif method == "xavier":
        a = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-a, a, size=(fan_in, fan_out))
    else:
        W = rng.normal(0.0, 0.01, size=(fan_in, fan_out))
    return W.astype(dtype)


class Dense:
    """Fully connected layer ``Z = X W + b``.

    Parameters
    ----------
    in_features, out_features : int
        D and M: the layer maps (N, D) to (N, M).
    init : {"he", "xavier", "small"}
        Initialisation of ``W`` (see :func:`init_weights`); ``b`` starts at 0.
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

    def __init__(self, in_features, out_features, init="he", seed=None, rng=None, dtype=np.float64):
        self.in_features = check_int(in_features, "Dense", "in_features", minimum=1)
        self.out_features = check_int(out_features, "Dense", "out_features", minimum=1)
        self.dtype = _check_dtype(dtype, "Dense")
        rng = _as_rng(seed, rng, "Dense")
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
        """``Z = X W + b``; caches ``X`` for the backward pass.

        Parameters
        ----------
        X : array_like, shape (N, D)

        Returns
        -------
        numpy.ndarray, shape (N, M)
        """
        X = as_float_array(X, "Dense.forward", "X", ndim=2, allow_scalar=False)
        if X.shape[1] != self.in_features:
            raise ValueError(f"Dense.forward expects X of shape (N, {self.in_features}), got shape {X.shape}")
        return self._forward(X.astype(self.dtype, copy=False))

    def _forward(self, X):
        self._X = X
        return X @ self.W + self.b

    def backward(self, dout):
        """Store ``dW = X^T dout`` and ``db = sum_rows(dout)``; return ``dX = dout W^T``.

        Parameters
        ----------
        dout : array_like, shape (N, M)
            Gradient of the loss with respect to this layer's output.

        Returns
        -------
        numpy.ndarray, shape (N, D)
            Gradient of the loss with respect to the input ``X``.
        """
        if self._X is None:
            raise RuntimeError("Dense.backward called before forward: there is no cached input")
        dout = as_float_array(dout, "Dense.backward", "dout", ndim=2, allow_scalar=False)
        expected = (self._X.shape[0], self.out_features)
        if dout.shape != expected:
            raise ValueError(f"Dense.backward expects dout of shape {expected} (the shape of the forward output), got {dout.shape}")
        return self._backward(dout.astype(self.dtype, copy=False))

    def _backward(self, dout):
        self.dW = self._X.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Activation:
    """Elementwise activation layer ``A = f(Z)`` with ``f`` from :data:`nnlib.ACTIVATIONS`.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu", "identity"}

    Notes
    -----
    The forward caches the OUTPUT ``A``, since every derivative in
    :data:`nnlib.ACTIVATIONS` takes the activation's output: ``dZ = dout * f'(A)``.
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
        """``A = f(Z)``, elementwise; caches ``A``.

        Parameters
        ----------
        Z : array_like, shape (N, M)

        Returns
        -------
        numpy.ndarray, shape (N, M)
        """
        Z = as_float_array(Z, f"Activation({self.name!r}).forward", "Z", allow_scalar=False)
        return self._forward(Z)

    def _forward(self, Z):
        self._A = self.f(Z).astype(Z.dtype, copy=False)
        return self._A

    def backward(self, dout):
        """``dZ = dout * f'(A)``.

        Parameters
        ----------
        dout : array_like, shape (N, M)
            Gradient of the loss with respect to ``A``.

        Returns
        -------
        numpy.ndarray, shape (N, M)
        """
        if self._A is None:
            raise RuntimeError(f"Activation({self.name!r}).backward called before forward: there is no cached output")
        dout = as_float_array(dout, f"Activation({self.name!r}).backward", "dout", allow_scalar=False)
        if dout.shape != self._A.shape:
            raise ValueError(
                f"Activation({self.name!r}).backward expects dout of shape {self._A.shape} "
                f"(the shape of the forward output), got {dout.shape}"
            )
        return self._backward(dout)

    def _backward(self, dout):
        return (dout * self.f_grad(self._A)).astype(self._A.dtype, copy=False)
