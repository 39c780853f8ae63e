"""The training loop of :class:`nnlib.MLP`: mini-batch SGD, momentum or Adam, in place.

:meth:`MLP.fit` checks its data and calls :func:`train`. Every step computes
what the model's own forward and backward passes compute (the unit tests check
that both agree), but in buffers allocated once, with in-place numpy operations:

* forward: ``Z_l = A_{l-1} W_l + b_l``, then ``A_l = f(Z_l)`` in place of
  ``Z_l``, with ``f'(A_l)`` kept in ``T_l``; with dropout ``p_l``, a mask
  ``M = rng.random(shape) >= p_l`` (as :func:`nnlib.dropout_forward` draws it) and
  ``A_l <- A_l * M / (1 - p_l)``, ``T_l <- T_l * M / (1 - p_l)``;
* output: ``D = lr * dL/dZ_L``, in place of the scores: softmax + cross-entropy
  (:func:`nnlib.losses.softmax_cross_entropy`) or ``Z - Y``;
* backward: ``GW_l = A_{l-1}^T D``, ``Gb_l = 1^T D``, ``D <- (D W_l^T) * T_{l-1}``
  (for SGD the weight gradients come out of the products already scaled by
  ``lr``; for Adam, which needs the gradient itself, the scale is 1);
* update, SGD: ``V <- mu V - G``, ``theta <- theta + V`` (``theta <- theta - G``
  when ``mu = 0``);
* update, Adam (Kingma & Ba 2015, Algorithm 1, as :class:`nnlib.Adam`):
  ``t <- t + 1``, ``M <- beta1 M + (1 - beta1) G``,
  ``V <- beta2 V + (1 - beta2) G^2``,
  ``theta <- theta - lr (M / (1 - beta1^t)) / (sqrt(V / (1 - beta2^t)) + eps)``.

All the parameters live in one vector ``theta`` (the layout of
:meth:`MLP.get_params_vector`), the ``W_l`` and ``b_l`` being views of it, and so
do their gradients ``G``, velocities ``V`` and Adam's moments ``M`` and ``V``:
the update is a few passes over one array rather than a few calls per
parameter. The network's own parameters are written back at the end of every
epoch.
"""

from __future__ import annotations

import contextlib
import math
import numbers

import numpy as np

from ._validation import check_int, check_number, describe
from .losses import softmax_cross_entropy
from .optim import SGD, Adam

__all__ = ["train"]


# ---------------------------------------------------------------------------
# in-place activations: a <- f(z) in z, and t <- f'(a) (the derivative from the
# OUTPUT, as in nnlib.activations)


def _relu_(z, t):
    np.greater(z, 0, out=t)  # 1.0 where z > 0 (that is, where a > 0), else 0.0
    z *= t


def _tanh_(z, t):
    np.tanh(z, out=z)
    np.multiply(z, z, out=t)
    np.subtract(1, t, out=t)


def _sigmoid_(z, t):
    z *= 0.5  # sigmoid(z) = (1 + tanh(z / 2)) / 2: never overflows, and works in place
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    np.subtract(1, z, out=t)
    t *= z


_ACTIVATIONS_ = {"relu": _relu_, "tanh": _tanh_, "sigmoid": _sigmoid_, "identity": None}


class _Step:
    """One SGD or Adam step of an MLP on a mini-batch, in buffers allocated once.

    ``adam`` is None for SGD (with momentum ``mu``), or ``(beta1, beta2, eps)``;
    ``lr`` is the learning rate in both cases. ``rng`` draws the dropout masks.
    """

    def __init__(self, net, batch, lr, mu, theta, adam=None, rng=None):
        sizes, dtype = net.layer_sizes, net.dtype
        self.lr, self.mu, self.reg = lr, mu, net.reg_lambda
        self.adam = adam
        # the factor of the gradients as the backward pass computes them: lr for
        # SGD (so G is the step itself), 1 for Adam (which needs the gradient)
        self.scale = 1.0 if adam is not None else lr
        self.softmax = net.output == "softmax"
        self.f_ = _ACTIVATIONS_[net.activation]
        # W1, b1, W2, b2, ... in one vector, and their gradients and velocities
        # (SGD with momentum) or moments and scratch (Adam)
        self.theta, self.G = theta, np.empty_like(theta)
        self.V = np.zeros_like(theta) if (mu or adam is not None) else None
        if adam is not None:
            self.M, self.S, self.t = np.zeros_like(theta), np.empty_like(theta), 0
        self.W, self.b, self.GW, self.Gb = [], [], [], []
        ofs = 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            for shape, params, grads in (
                ((n_in, n_out), self.W, self.GW),
                ((n_out,), self.b, self.Gb),
            ):
                size = math.prod(shape)
                params.append(theta[ofs : ofs + size].reshape(shape))
                grads.append(self.G[ofs : ofs + size].reshape(shape))
                ofs += size
        # scratch for the L2 gradient
        self.R = [np.empty_like(W) for W in self.W] if self.reg else None
        # Z: pre-activations, then activations (the output scores column-major, so that
        # the softmax's row reductions run along memory); T: f' of the activations;
        # D: gradients; the inputs; ones
        hidden = sizes[1:-1]
        self._full = (
            [np.empty((batch, s), dtype) for s in hidden]
            + [np.empty((batch, sizes[-1]), dtype, order="F")],
            [np.empty((batch, s), dtype) for s in hidden],
            [np.empty((batch, s), dtype) for s in hidden],
            np.empty((batch, sizes[0]), dtype),
            np.ones(batch, dtype),
        )
        self._views = {}
        # dropout: per hidden layer None, or (p, uniform draws (float64 whatever the
        # dtype, for the stream of dropout_forward), mask)
        self.rng = rng
        self.drop = [
            (p, np.empty((batch, s)), np.empty((batch, s), bool)) if p else None
            for p, s in zip(net.dropout, hidden, strict=True)
        ]
        # layers whose T multiplies the backward gradient: f' or the dropout mask
        self.use_T = [self.f_ is not None or d is not None for d in self.drop]

    def buffers(self, nb):
        """``Z, T, D, X, ones``: their first ``nb`` rows (views made once per size)."""
        if nb not in self._views:
            self._views[nb] = tuple(
                [x[:nb] for x in item] if isinstance(item, list) else item[:nb]
                for item in self._full
            )
        return self._views[nb]

    def gather(self, X, idx, yb):
        """Step on the rows ``idx`` of ``X`` (gathered into a buffer), labels ``yb``."""
        xb = self.buffers(idx.shape[0])[3]
        # the indices are valid; mode="clip" avoids a buffered copy
        np.take(X, idx, axis=0, out=xb, mode="clip")
        return self(xb, yb)

    def __call__(self, xb, yb):
        """Update the parameters for the mini-batch ``(xb, yb)``; return its loss."""
        nb = xb.shape[0]
        Z, T, D, _, ones = self.buffers(nb)
        W, b, f_ = self.W, self.b, self.f_
        L = len(W)
        # forward
        a = xb
        for i in range(L - 1):
            z = Z[i]
            np.matmul(a, W[i], out=z)
            z += b[i]
            if f_ is not None:
                f_(z, T[i])
            if self.drop[i] is not None:
                self._dropout(i, z, T[i], nb)
            a = z
        z = Z[-1]  # column-major: (W^T A^T) written through its row-major transpose
        np.matmul(W[-1].T, a.T, out=z.T)
        z += b[-1]
        # output: the loss, and D = scale * dL/dZ in place
        if self.softmax:
            loss, d = softmax_cross_entropy(z, yb, out=z, check_input=False)
            if self.adam is None:
                d *= self.scale
        else:
            z -= yb
            loss = 0.5 * float(np.vdot(z, z)) / nb
            z *= self.scale / nb
            d = z
        if self.reg:
            loss += 0.5 * self.reg * sum(float(np.vdot(w, w)) for w in W)
        # backward
        GW, Gb = self.GW, self.Gb
        for i in range(L - 1, -1, -1):
            a_prev = xb if i == 0 else Z[i - 1]
            np.matmul(a_prev.T, d, out=GW[i])
            np.matmul(ones, d, out=Gb[i])
            if i > 0:
                d_prev = D[i - 1]
                np.matmul(d, W[i].T, out=d_prev)
                if self.use_T[i - 1]:
                    d_prev *= T[i - 1]
                d = d_prev
        # update
        if self.reg:
            for w, gw, r in zip(W, GW, self.R, strict=True):
                np.multiply(w, self.scale * self.reg, out=r)
                gw += r
        if self.adam is not None:
            self._adam_update()
        elif self.mu:
            V = self.V
            V *= self.mu
            V -= self.G
            self.theta += V
        else:
            self.theta -= self.G
        return loss

    def _dropout(self, i, a, t, nb):
        """Inverted dropout of the activations ``a`` of hidden layer ``i``, and of
        ``t``, the factor of its backward gradient (f', or 1 for the identity)."""
        p, u, m = self.drop[i]
        u, m = u[:nb], m[:nb]
        self.rng.random(out=u)
        np.greater_equal(u, p, out=m)
        a *= m  # as dropout_forward: a * mask / (1 - p)
        a /= 1.0 - p
        if self.f_ is None:
            np.divide(m, 1.0 - p, out=t)
        else:
            t *= m
            t /= 1.0 - p

    def _adam_update(self):
        """Adam's step from the gradient G, in the order of operations of nnlib.Adam."""
        b1, b2, eps = self.adam
        G, M, V, S = self.G, self.M, self.V, self.S
        self.t += 1
        corr1, corr2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        M *= b1  # M <- b1 M + (1 - b1) G
        np.multiply(G, 1.0 - b1, out=S)
        M += S
        V *= b2  # V <- b2 V + (1 - b2) G^2
        np.multiply(G, 1.0 - b2, out=S)
        S *= G
        V += S
        np.divide(V, corr2, out=G)  # G <- sqrt(V / corr2) + eps (G is used up)
        np.sqrt(G, out=G)
        G += eps
        np.divide(M, corr1, out=S)  # S <- lr * (M / corr1) / G
        S *= self.lr
        S /= G
        self.theta -= S


def _check_fraction(value, func, name):
    """A number in [0, 1): momentum and Adam's betas."""
    value = check_number(value, func, name, minimum=0)
    if value >= 1:
        raise ValueError(f"{func} expects {name} in [0, 1), got {value}")
    return value


def _optimizer_settings(optimizer, learning_rate, momentum, func):
    """``(lr, mu, adam)`` for :class:`_Step` from an SGD or Adam instance.

    The rule: with an optimizer, ``learning_rate`` and ``momentum`` stay at their
    defaults (None and 0.0); the optimizer carries the settings.
    """
    # exact types: the update rules are re-implemented here, so a subclass with
    # another step() would be silently ignored
    if type(optimizer) not in (SGD, Adam):
        hint = ""
        if isinstance(optimizer, type) and issubclass(optimizer, (SGD, Adam)):
            hint = f" (the class itself: create one, e.g. {optimizer.__name__}(...))"
        elif isinstance(optimizer, (SGD, Adam)):
            hint = " (a subclass: its own update rule would be ignored)"
        raise TypeError(
            f"{func} expects optimizer to be an nnlib.SGD or nnlib.Adam instance, "
            f"got {describe(optimizer)}{hint}"
        )
    name = type(optimizer).__name__
    if learning_rate is not None:
        raise ValueError(
            f"{func} got both optimizer={optimizer!r} and "
            f"learning_rate={learning_rate!r}: with an optimizer its own settings "
            "are used, so leave learning_rate at None and set the rate on the "
            f"optimizer, {name}(learning_rate=...)"
        )
    # with numbers.Real, a string or None is reported here too, not compared to 0
    if isinstance(momentum, bool) or not (
        isinstance(momentum, numbers.Real) and momentum == 0
    ):
        where = (
            "SGD(learning_rate, momentum=...)"
            if name == "SGD"
            else "Adam's beta1, its own momentum-like decay,"
        )
        raise ValueError(
            f"{func} got both optimizer={optimizer!r} and momentum={momentum!r}: "
            f"with an optimizer its own settings are used, so leave momentum at "
            f"0.0 and set it through {where} instead"
        )
    # the instance's attributes can have been changed since it was made: check them
    lr = check_number(
        optimizer.learning_rate, func, "optimizer.learning_rate", minimum=0, strict=True
    )
    if name == "SGD":
        return lr, _check_fraction(optimizer.momentum, func, "optimizer.momentum"), None
    adam = (
        _check_fraction(optimizer.beta1, func, "optimizer.beta1"),
        _check_fraction(optimizer.beta2, func, "optimizer.beta2"),
        check_number(optimizer.eps, func, "optimizer.eps", minimum=0, strict=True),
    )
    return lr, 0.0, adam


def train(
    net,
    X,
    y,
    epochs,
    learning_rate,
    batch_size=None,
    momentum=0.0,
    progress=False,
    validation_data=None,
    shuffle=True,
    blas_threads=None,
    rng=None,
    func="MLP.fit",
    optimizer=None,
):
    """Train ``net`` by mini-batch SGD (momentum) or Adam: the loop of :meth:`MLP.fit`.

    Parameters
    ----------
    net : nnlib.MLP
    X : numpy.ndarray, shape (N, D)
        Inputs, already checked and of the network's dtype (as :meth:`MLP.fit` passes
        them).
    y : numpy.ndarray
        Class ids (N,) of numpy.intp for a softmax output, targets (N, K) of the
        network's dtype for a linear one.
    epochs, learning_rate, batch_size, momentum, progress, shuffle, blas_threads
        As in :meth:`MLP.fit` (checked here).
    optimizer : nnlib.SGD or nnlib.Adam, optional
        As in :meth:`MLP.fit` (checked here): its hyperparameters are used, its state
        is neither read nor changed.
    validation_data : tuple (X_val, y_val), optional
        Already checked; ``net.loss`` is evaluated on it after every epoch.
    rng : numpy.random.Generator
        Draws the order of the examples in every epoch, then, for every
        mini-batch, the dropout masks of the hidden layers (if any), in order.
    func : str
        The name used in error messages.

    Returns
    -------
    dict
        ``{"loss": [...], "val_loss": [...]}`` as documented in :meth:`MLP.fit`.
    """
    epochs = check_int(epochs, func, "epochs", minimum=1)
    if optimizer is None:
        if learning_rate is None:
            raise TypeError(
                f"{func} expects a learning_rate (a number > 0) or an optimizer "
                "(nnlib.SGD or nnlib.Adam instance), got neither"
            )
        lr = check_number(learning_rate, func, "learning_rate", minimum=0, strict=True)
        mu = _check_fraction(momentum, func, "momentum")
        adam = None
        setting = f"learning_rate={lr:g}"
    else:
        lr, mu, adam = _optimizer_settings(optimizer, learning_rate, momentum, func)
        setting = repr(optimizer)
    n = X.shape[0]
    batch = n
    if batch_size is not None:
        batch = min(check_int(batch_size, func, "batch_size", minimum=1), n)
    for flag, name in ((progress, "progress"), (shuffle, "shuffle")):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(
                f"{func} expects {name} to be True or False, got {describe(flag)}"
            )
    if blas_threads is None:
        limits = contextlib.nullcontext()
    else:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(
            limits=check_int(blas_threads, func, "blas_threads", minimum=1),
            user_api="blas",
        )

    history = {"loss": []}
    if validation_data is not None:
        history["val_loss"] = []
    saved = net.get_params_vector()
    step = _Step(net, batch, lr, mu, saved.copy(), adam, rng)
    n_batches = -(-n // batch)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * n_batches, unit="batch", desc=func, leave=True)
        every = max(1, n_batches // 20)
    try:
        with limits, np.errstate(over="ignore", invalid="ignore", under="ignore"):
            for epoch in range(epochs):
                order = rng.permutation(n) if shuffle and n > 1 else None
                # the labels in the epoch's order, all at once
                y_epoch = y if order is None else y[order]
                total = 0.0
                for k, start in enumerate(range(0, n, batch)):
                    stop = min(start + batch, n)
                    if order is None:
                        loss = step(X[start:stop], y[start:stop])
                    else:
                        loss = step.gather(X, order[start:stop], y_epoch[start:stop])
                    if not math.isfinite(loss):
                        raise FloatingPointError(
                            f"{func}: the loss became {loss} at epoch {epoch + 1}, "
                            f"mini-batch {k + 1}, so training diverged with "
                            f"{setting}. Try a smaller learning rate (for "
                            f"example {lr / 10:g}) or inputs scaled to a small range; "
                            "the parameters were restored to their values before fit."
                        )
                    total += loss * (stop - start)
                    if bar is not None and ((k + 1) % every == 0 or stop == n):
                        bar.update((k + 1) - bar.n + epoch * n_batches)
                        bar.set_postfix(
                            epoch=epoch + 1, loss=f"{total / stop:.4g}", refresh=False
                        )
                history["loss"].append(total / n)
                net.set_params_vector(step.theta)
                if validation_data is not None:
                    history["val_loss"].append(net.loss(*validation_data))
                    if bar is not None:
                        bar.set_postfix(
                            epoch=epoch + 1,
                            loss=f"{total / n:.4g}",
                            val_loss=f"{history['val_loss'][-1]:.4g}",
                            refresh=False,
                        )
    except FloatingPointError:
        net.set_params_vector(saved)
        raise
    finally:
        if bar is not None:
            bar.close()
    return history
