"""The training loop of :class:`nnlib.MLP`: mini-batch SGD with momentum, in place.

:meth:`MLP.fit` checks its data and calls :func:`train`. Every step computes
what the model's own forward and backward passes compute (the unit tests check
that both agree), but in buffers allocated once, with in-place numpy operations:

* forward: ``Z_l = A_{l-1} W_l + b_l``, then ``A_l = f(Z_l)`` in place of
  ``Z_l``, with ``f'(A_l)`` kept in ``T_l``;
* output: ``D = lr * dL/dZ_L``, in place of the scores: softmax + cross-entropy
  (:func:`nnlib.losses.softmax_cross_entropy`) or ``Z - Y``;
* backward: ``GW_l = A_{l-1}^T D``, ``Gb_l = 1^T D``, ``D <- (D W_l^T) * T_{l-1}``
  (the weight gradients come out of the products already scaled by ``lr``);
* update: ``V <- mu V - G``, ``theta <- theta + V``.

All the parameters live in one vector ``theta`` (the layout of
:meth:`MLP.get_params_vector`), the ``W_l`` and ``b_l`` being views of it, and so
do their gradients ``G`` and velocities ``V``: the update is three passes over
one array rather than three calls per parameter. The network's own parameters
are written back at the end of every epoch.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from ._validation import check_int, check_number, describe
from .losses import softmax_cross_entropy

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
    """One SGD step of an MLP on a mini-batch, in buffers allocated once."""

    def __init__(self, net, batch, lr, mu, theta):
        sizes, dtype = net.layer_sizes, net.dtype
        self.lr, self.mu, self.reg = lr, mu, net.reg_lambda
        self.softmax = net.output == "softmax"
        self.f_ = _ACTIVATIONS_[net.activation]
        # W1, b1, W2, b2, ... in one vector, and their gradients and velocities
        self.theta, self.G = theta, np.empty_like(theta)
        self.V = np.zeros_like(theta) if mu else None
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
            a = z
        z = Z[-1]  # column-major: (W^T A^T) written through its row-major transpose
        np.matmul(W[-1].T, a.T, out=z.T)
        z += b[-1]
        # output: the loss, and D = lr * dL/dZ in place
        if self.softmax:
            loss, d = softmax_cross_entropy(z, yb, out=z, check_input=False)
            d *= self.lr
        else:
            z -= yb
            loss = 0.5 * float(np.vdot(z, z)) / nb
            z *= self.lr / nb
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
                if f_ is not None:
                    d_prev *= T[i - 1]
                d = d_prev
        # update
        if self.reg:
            for w, gw, r in zip(W, GW, self.R, strict=True):
                np.multiply(w, self.lr * self.reg, out=r)
                gw += r
        if self.mu:
            V = self.V
            V *= self.mu
            V -= self.G
            self.theta += V
        else:
            self.theta -= self.G
        return loss


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
):
    """Train ``net`` by mini-batch SGD with momentum; the loop behind :meth:`MLP.fit`.

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
    validation_data : tuple (X_val, y_val), optional
        Already checked; ``net.loss`` is evaluated on it after every epoch.
    rng : numpy.random.Generator
        Draws the order of the examples in every epoch.
    func : str
        The name used in error messages.

    Returns
    -------
    dict
        ``{"loss": [...], "val_loss": [...]}`` as documented in :meth:`MLP.fit`.
    """
    epochs = check_int(epochs, func, "epochs", minimum=1)
    lr = check_number(learning_rate, func, "learning_rate", minimum=0, strict=True)
    n = X.shape[0]
    batch = n
    if batch_size is not None:
        batch = min(check_int(batch_size, func, "batch_size", minimum=1), n)
    mu = check_number(momentum, func, "momentum", minimum=0)
    if mu >= 1:
        raise ValueError(f"{func} expects momentum in [0, 1), got {mu}")
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
    step = _Step(net, batch, lr, mu, saved.copy())
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
                            f"learning_rate={lr:g}. Try a smaller learning rate (for "
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
