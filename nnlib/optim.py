"""Update rules: plain and momentum gradient descent, and Adam.

An optimizer updates a list of parameter arrays IN PLACE from a list of gradients of the
same shapes, and keeps its state (velocities, moments, the step count) per position in
that list, in the manner of cs231n's ``optim.py`` and of ``torch.optim``::

    opt = SGD(learning_rate=0.1, momentum=0.9)
    for step in range(n_steps):
        grads = compute_gradients(params)
        opt.step(params, grads)      # every array of params changes in place

Heavy-ball momentum (``SGD`` with ``momentum > 0``), velocity ``v`` starting at 0::

    v <- momentum * v - learning_rate * g
    theta <- theta + v

Adam (Kingma & Ba, 2015, Algorithm 1), moments ``m`` and ``v`` starting at 0 and
``t = 1`` on the first step::

    m <- beta1 m + (1 - beta1) g
    v <- beta2 v + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
    theta <- theta - learning_rate * m_hat / (sqrt(v_hat) + eps)
"""

from __future__ import annotations

import numpy as np

from ._validation import check_number, describe

__all__ = ["SGD", "Adam"]


def _check_rate(value, func, name):
    return check_number(value, func, name, minimum=0.0, strict=True)


def _check_fraction(value, func, name):
    """A number in [0, 1): momentum and Adam's betas."""
    value = check_number(value, func, name, minimum=0.0)
    if value >= 1.0:
        raise ValueError(f"{func} expects {name} in [0, 1), got {value}")
    return value


class _Optimizer:
    """What SGD and Adam share: checking the lists and keeping state per position."""

    def __init__(self):
        self._shapes = None

    def reset(self):
        """Forget the state (velocities, moments, step count)."""
        self._shapes = None

    def _check(self, params, grads):
        func = f"{type(self).__name__}.step"
        for name, seq in (("params", params), ("grads", grads)):
            if not isinstance(seq, (list, tuple)):
                raise TypeError(
                    f"{func} expects {name} to be a list of numpy arrays, "
                    f"got {describe(seq)}"
                )
        if len(params) != len(grads):
            raise ValueError(
                f"{func} expects as many gradients as parameters, "
                f"got {len(params)} parameters and {len(grads)} gradients"
            )
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"{func} expects params[{i}] to be a float numpy array (it is "
                    f"updated in place), got {describe(p)}"
                )
            if not isinstance(g, np.ndarray):
                raise TypeError(
                    f"{func} expects grads[{i}] to be a numpy array, got {describe(g)}"
                )
            if g.shape != p.shape:
                raise ValueError(
                    f"{func} expects grads[{i}] to have the shape of params[{i}], "
                    f"{p.shape}, got {g.shape}"
                )
            if not np.all(np.isfinite(g)):
                bad = int(np.size(g) - np.count_nonzero(np.isfinite(g)))
                raise ValueError(
                    f"{func} expects finite gradients, got {bad} non-finite "
                    f"value(s) in grads[{i}] (shape {g.shape}): the training has "
                    "diverged; try a smaller learning rate"
                )
        shapes = [p.shape for p in params]
        if self._shapes is None:
            self._shapes = shapes
            self._init_state(params)
        elif shapes != self._shapes:
            raise ValueError(
                f"{func} was called before with parameters of shapes "
                f"{self._shapes}, now with {shapes}: use one optimizer per model, "
                "or call reset() first"
            )

    def _init_state(self, params):
        raise NotImplementedError


class SGD(_Optimizer):
    """Gradient descent, with heavy-ball momentum when ``momentum > 0``.

    Parameters
    ----------
    learning_rate : float
        The step size, > 0.
    momentum : float, default 0.0
        In [0, 1); 0 is plain gradient descent, ``theta <- theta - learning_rate * g``.
    """

    def __init__(self, learning_rate, momentum=0.0):
        super().__init__()
        self.learning_rate = _check_rate(learning_rate, "SGD", "learning_rate")
        self.momentum = _check_fraction(momentum, "SGD", "momentum")

    def __repr__(self):
        return f"SGD(learning_rate={self.learning_rate}, momentum={self.momentum})"

    def _init_state(self, params):
        self.velocities = [np.zeros_like(p) for p in params]

    def reset(self):
        super().reset()
        self.velocities = None

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (equal shapes)."""
        self._check(params, grads)
        if self.momentum == 0.0:
            for p, g in zip(params, grads, strict=True):
                p -= self.learning_rate * g
            return
        for p, g, v in zip(params, grads, self.velocities, strict=True):
            v *= self.momentum
            v -= self.learning_rate * g
            p += v


class Adam(_Optimizer):
    """Adam (Kingma & Ba, 2015): steps scaled by running moments of the gradient.

    Parameters
    ----------
    learning_rate : float, default 0.001
        The step size, > 0.
    beta1, beta2 : float, default 0.9 and 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    eps : float, default 1e-8
        Added to the square root of the second moment, > 0.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__()
        self.learning_rate = _check_rate(learning_rate, "Adam", "learning_rate")
        self.beta1 = _check_fraction(beta1, "Adam", "beta1")
        self.beta2 = _check_fraction(beta2, "Adam", "beta2")
        self.eps = _check_rate(eps, "Adam", "eps")
        self.t = 0

    def __repr__(self):
        return (
            f"Adam(learning_rate={self.learning_rate}, beta1={self.beta1}, "
            f"beta2={self.beta2}, eps={self.eps})"
        )

    def _init_state(self, params):
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def reset(self):
        super().reset()
        self.m = self.v = None
        self.t = 0

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (equal shapes)."""
        self._check(params, grads)
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        corr1, corr2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            p -= self.learning_rate * (m / corr1) / (np.sqrt(v / corr2) + self.eps)
