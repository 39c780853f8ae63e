"""The reference multi-layer perceptron of the course.

``MLP([D, H1, ..., K])`` stacks :class:`~nnlib.layers.Dense` and
:class:`~nnlib.layers.Activation` layers::

    X (N, D) -> Dense -> f -> Dense -> f -> ... -> Dense -> output (N, K)

with one of two outputs:

* ``output="softmax"`` (classification): softmax + cross-entropy averaged
  over the batch, ``L = -(1/N) sum_i log p[i, y_i]``; the gradient with respect
  to the scores is ``(P - Y) / N`` (``Y`` one-hot), computed in one step.
* ``output="linear"`` (regression): identity + half mean squared error
  ``L = (1/2N) sum_i ||z_i - y_i||^2`` (as :func:`nnlib.mean_squared_error`),
  gradient ``(Z - Y) / N``.

L2 regularisation adds ``(reg_lambda / 2) * sum_l ||W_l||^2`` to the loss: the
weights only, no biases, and **not** divided by the number of examples (so its
gradient is ``reg_lambda * W_l`` whatever the batch size).

Two code paths compute the same thing. The readable one goes through the
layers' ``forward``/``backward`` (used by :meth:`MLP.loss`,
:meth:`MLP.compute_gradients`, :meth:`MLP.loss_and_grad` and so by the gradient
check). The fast one, used by :meth:`MLP.fit` once its inputs are validated,
works in preallocated buffers with in-place numpy operations: no allocation of
activation-sized arrays per mini-batch, the same float type throughout, the
softmax and cross-entropy gradient fused, and the learning rate folded into
the output gradient so that the weight gradients come out of the matrix
products already scaled. The unit tests check that both paths agree.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ._validation import as_float_array, check_int, check_number, describe
from .layers import Activation, Dense, _as_rng, _check_dtype

__all__ = ["MLP"]

_HIDDEN = ("relu", "tanh", "sigmoid", "identity")
_OUTPUTS = ("softmax", "linear")


# ---------------------------------------------------------------------------
# in-place activation kernels of the fast path (f' from the OUTPUT a, as in nnlib.activations)

def _relu_(z):
    np.maximum(z, 0, out=z)


def _relu_grad_(d, a, tmp):
    np.multiply(d, a > 0, out=d)


def _tanh_(z):
    np.tanh(z, out=z)


def _tanh_grad_(d, a, tmp):
    np.multiply(a, a, out=tmp)
    np.subtract(1, tmp, out=tmp)
    d *= tmp


def _sigmoid_(z):
    # sigmoid(z) = (1 + tanh(z / 2)) / 2: never overflows, and works in place
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5


def _sigmoid_grad_(d, a, tmp):
    np.subtract(1, a, out=tmp)
    tmp *= a
    d *= tmp


def _identity_(z):
    pass


def _identity_grad_(d, a, tmp):
    pass


_KERNELS = {
    "relu": (_relu_, _relu_grad_),
    "tanh": (_tanh_, _tanh_grad_),
    "sigmoid": (_sigmoid_, _sigmoid_grad_),
    "identity": (_identity_, _identity_grad_),
}


class MLP:
    """A fully connected network trained by mini-batch SGD with momentum.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[D, H1, ..., K]``: input size, hidden sizes, output size (at least
        two entries; ``K >= 2`` for ``output="softmax"``).
    activation : {"relu", "tanh", "sigmoid", "identity"}
        Activation of every hidden layer.
    output : {"softmax", "linear"}
        Softmax + cross-entropy (classification) or identity + half MSE (regression).
    reg_lambda : float
        L2 strength: the loss gains ``(reg_lambda / 2) * sum of W**2`` over all
        weight matrices (biases are not regularised; no division by N).
    seed : int, numpy.random.Generator or None
        Seeds the initialisation and the shuffling in :meth:`fit`.
    dtype : numpy.float32 or numpy.float64
        Float type of the parameters and of every computation.

    Notes
    -----
    Initialisation: He (normal, std ``sqrt(2 / fan_in)``) for ReLU and the
    identity, Xavier/Glorot (uniform, ``a = sqrt(6 / (fan_in + fan_out))``) for
    tanh and sigmoid; biases start at 0.

    Parameters are packed in one vector (:meth:`get_params_vector`) as
    ``[W1.ravel(), b1, W2.ravel(), b2, ...]`` (row-major, ``W_l`` of shape
    ``(layer_sizes[l-1], layer_sizes[l])``).

    Examples
    --------
    >>> net = MLP([2, 16, 2], activation="tanh", seed=0)
    >>> history = net.fit(X, y, epochs=200, learning_rate=0.5)   # doctest: +SKIP
    >>> net.score(X, y)                                            # doctest: +SKIP
    """

    def __init__(self, layer_sizes, activation="relu", output="softmax", reg_lambda=0.0, seed=0, dtype=np.float64):
        if isinstance(layer_sizes, (str, bytes)) or not hasattr(layer_sizes, "__len__"):
            raise TypeError(f"MLP expects layer_sizes to be a list of integers like [784, 128, 10], got {describe(layer_sizes)}")
        sizes = list(layer_sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP expects at least two layer sizes [inputs, ..., outputs], got {sizes}")
        self.layer_sizes = tuple(
            check_int(int(s) if isinstance(s, np.integer) else s, "MLP", f"layer_sizes[{i}]", minimum=1)
            for i, s in enumerate(sizes))
        if activation not in _HIDDEN:
            raise ValueError(f"MLP expects activation to be one of {list(_HIDDEN)}, got {activation!r}")
        if output not in _OUTPUTS:
            raise ValueError(f"MLP expects output to be one of {list(_OUTPUTS)}, got {output!r}")
        if output == "softmax" and self.layer_sizes[-1] < 2:
            raise ValueError(
                f"MLP with output='softmax' expects at least 2 classes (last layer size), got {self.layer_sizes[-1]}; "
                "for a single real-valued output use output='linear'")
        self.activation = activation
        self.output = output
        self.reg_lambda = check_number(reg_lambda, "MLP", "reg_lambda", minimum=0)
        self.dtype = _check_dtype(dtype, "MLP")
        self._rng = _as_rng(seed, None, "MLP")
        init = "xavier" if activation in ("tanh", "sigmoid") else "he"
        self.layers = []
        n_dense = len(self.layer_sizes) - 1
        for i in range(n_dense):
            self.layers.append(Dense(self.layer_sizes[i], self.layer_sizes[i + 1], init=init, rng=self._rng,
                                     dtype=self.dtype))
            if i < n_dense - 1:
                self.layers.append(Activation(activation))
        self._dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        self.history_ = None

    def __repr__(self):
        sizes = "-".join(str(s) for s in self.layer_sizes)
        return (f"MLP({sizes}, activation={self.activation!r}, output={self.output!r}, "
                f"reg_lambda={self.reg_lambda:g}, dtype={self.dtype.name})")

    # ------------------------------------------------------------------ input checks

    @property
    def n_params(self):
        """Total number of trainable parameters."""
        return sum(p.size for p in self.parameters())

    def _check_X(self, X, func, name="X"):
        if isinstance(X, np.ndarray) and (np.issubdtype(X.dtype, np.integer) or X.dtype == bool):
            X = X.astype(self.dtype)  # e.g. uint8 images: straight to the working type
        X = as_float_array(X, func, name, ndim=2, allow_scalar=False)
        if X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"{func} expects {name} of shape (N, {self.layer_sizes[0]}) for this network "
                             f"{'-'.join(map(str, self.layer_sizes))}, got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{func} expects at least one example in {name}, got shape {X.shape}")
        return np.ascontiguousarray(X, dtype=self.dtype)

    def _check_y(self, y, n, func, name="y"):
        """Labels as used internally: int64 class ids (N,) for softmax, float (N, K) for linear."""
        K = self.layer_sizes[-1]
        if isinstance(y, (str, bytes)) or y is None:
            raise ValueError(f"{func} expects {name} to be an array of labels, got {describe(y)}")
        try:
            arr = np.asarray(y)
        except Exception:
            raise ValueError(f"{func} expects {name} to be an array of labels, got {describe(y)}") from None
        if self.output == "linear":
            arr = as_float_array(arr, func, name, ndim=(1, 2), allow_scalar=False)
            if arr.ndim == 1:
                if K != 1:
                    raise ValueError(f"{func} expects regression targets {name} of shape ({n}, {K}), got shape {arr.shape}")
                arr = arr[:, None]
            if arr.shape != (n, K):
                raise ValueError(f"{func} expects regression targets {name} of shape ({n}, {K})"
                                 f"{f' or ({n},)' if K == 1 else ''}, got shape {arr.shape}")
            return np.ascontiguousarray(arr, dtype=self.dtype)
        expected = f"integer class ids of shape ({n},) in 0..{K - 1}, or one-hot labels of shape ({n}, {K})"
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValueError(f"{func} expects {name} to be {expected}, got an array of dtype {arr.dtype}")
        if arr.ndim == 1:
            if not np.issubdtype(arr.dtype, np.integer):
                hint = " (convert with y.astype(int))" if np.issubdtype(arr.dtype, np.floating) else ""
                raise ValueError(f"{func} expects {name} to be {expected}, got a 1-D array of dtype {arr.dtype}{hint}")
            if arr.shape[0] != n:
                raise ValueError(f"{func} expects {name} to have one label per example ({n}), got {arr.shape[0]} labels")
            if arr.size and (arr.min() < 0 or arr.max() >= K):
                bad = arr[(arr < 0) | (arr >= K)][0]
                raise ValueError(f"{func} expects class ids in 0..{K - 1} (the network has {K} outputs), got {bad}")
            return arr.astype(np.intp, copy=False)
        if arr.ndim == 2:
            if arr.shape != (n, K):
                raise ValueError(f"{func} expects {name} to be {expected}, got shape {arr.shape}")
            if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
                raise ValueError(f"{func} expects one-hot labels {name} (0s and 1s), got non-finite values")
            if not np.all((arr == 0) | (arr == 1)):
                bad = arr[(arr != 0) & (arr != 1)][0]
                raise ValueError(f"{func} expects one-hot labels {name} (only 0s and 1s), got the value {bad}")
            sums = arr.sum(axis=1)
            if not np.all(sums == 1):
                row = int(np.argmax(sums != 1))
                raise ValueError(f"{func} expects one-hot labels {name} with exactly one 1 per row, "
                                 f"got row {row} summing to {sums[row]:g}")
            return arr.argmax(axis=1).astype(np.intp)
        raise ValueError(f"{func} expects {name} to be {expected}, got shape {arr.shape}")

    def _check_Xy(self, X, y, func):
        X = self._check_X(X, func)
        return X, self._check_y(y, X.shape[0], func)

    # ------------------------------------------------------------------ readable path (through the layers)

    def parameters(self):
        """``[W1, b1, W2, b2, ...]``: the parameter arrays themselves (in-place updates update the network).

        Returns
        -------
        list of numpy.ndarray
            ``W_l`` of shape ``(layer_sizes[l-1], layer_sizes[l])`` and ``b_l`` of shape ``(layer_sizes[l],)``.
        """
        return [p for layer in self._dense for p in layer.parameters()]

    def gradients(self):
        """``[dW1, db1, dW2, db2, ...]`` from the last :meth:`compute_gradients` (or :meth:`loss_and_grad`).

        The gradients include the L2 term. :meth:`fit` does not fill them (it
        works in its own buffers).
        """
        if self._dense[0].dW is None:
            raise RuntimeError("MLP.gradients: no gradients yet, call compute_gradients(X, y) first")
        return [g for layer in self._dense for g in layer.gradients()]

    def _scores(self, X):
        """Output scores (N, K) through the layers' forward passes (X already checked)."""
        out = X
        for layer in self.layers:
            out = layer._forward(out)
        return out

    def _reg_loss(self):
        if not self.reg_lambda:
            return 0.0
        return 0.5 * self.reg_lambda * sum(float(np.vdot(layer.W, layer.W)) for layer in self._dense)

    def _data_loss_and_dscores(self, Z, y):
        """Batch-mean loss and its gradient with respect to the scores Z."""
        n = Z.shape[0]
        if self.output == "softmax":
            shifted = Z - Z.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            sums = exp.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            loss = float(np.mean(np.log(sums[:, 0]) - shifted[rows, y]))  # cross-entropy through log-softmax
            dZ = exp / sums
            dZ[rows, y] -= 1.0
            return loss, dZ / n
        diff = Z - y
        return 0.5 * float(np.vdot(diff, diff)) / n, diff / n

    def compute_gradients(self, X, y):
        """Forward and backward pass through the layers; store and return the gradients.

        Parameters
        ----------
        X : array_like, shape (N, D)
        y : array_like
            Class ids (N,) or one-hot (N, K) for softmax; targets (N, K) (or (N,) when K = 1) for linear.

        Returns
        -------
        loss : float
            Batch-mean data loss plus the L2 term.
        grads : list of numpy.ndarray
            ``[dW1, db1, ...]``, also available afterwards from :meth:`gradients`.
        """
        X, y = self._check_Xy(X, y, "MLP.compute_gradients")
        return self._compute_gradients(X, y)

    def _compute_gradients(self, X, y):
        Z = self._scores(X)
        loss, d = self._data_loss_and_dscores(Z, y)
        for layer in reversed(self.layers):
            d = layer._backward(d)
        if self.reg_lambda:
            for layer in self._dense:
                layer.dW = layer.dW + self.reg_lambda * layer.W
        return loss + self._reg_loss(), self.gradients()

    def loss(self, X, y):
        """Batch-mean loss on ``(X, y)`` plus the L2 term (cross-entropy or half MSE).

        Parameters
        ----------
        X : array_like, shape (N, D)
        y : array_like, labels as in :meth:`fit`

        Returns
        -------
        float
        """
        X, y = self._check_Xy(X, y, "MLP.loss")
        return self._loss(X, y)

    def _loss(self, X, y, chunk=8192):
        total = 0.0
        for start in range(0, X.shape[0], chunk):
            Z = self._scores(X[start:start + chunk])
            total += self._data_loss_and_dscores(Z, y[start:start + chunk])[0] * Z.shape[0]
        return total / X.shape[0] + self._reg_loss()

    def get_params_vector(self):
        """All parameters in one new 1-D array ``[W1.ravel(), b1, W2.ravel(), b2, ...]``.

        Returns
        -------
        numpy.ndarray, shape (n_params,)
        """
        return np.concatenate([p.ravel() for p in self.parameters()])

    def set_params_vector(self, vector):
        """Copy a packed vector (the layout of :meth:`get_params_vector`) into the parameters.

        Parameters
        ----------
        vector : array_like, shape (n_params,)
        """
        self._set_params_vector(self._check_vector(vector, "MLP.set_params_vector"))

    def _check_vector(self, vector, func):
        vector = as_float_array(vector, func, "vector", ndim=1, allow_scalar=False)
        if vector.size != self.n_params:
            raise ValueError(f"{func} expects a vector of {self.n_params} parameters for this network "
                             f"{'-'.join(map(str, self.layer_sizes))}, got length {vector.size}")
        return vector

    def _set_params_vector(self, vector):
        ofs = 0
        for p in self.parameters():
            p[...] = vector[ofs:ofs + p.size].reshape(p.shape)
            ofs += p.size

    def loss_and_grad(self, vector, X, y):
        """Loss and packed gradient at the parameters ``vector``, for :func:`nnlib.gradcheck_naive`.

        The network's own parameters are left unchanged (they are restored after the evaluation).

        Parameters
        ----------
        vector : array_like, shape (n_params,)
            Parameters packed as by :meth:`get_params_vector`.
        X : array_like, shape (N, D)
        y : array_like, labels as in :meth:`fit`

        Returns
        -------
        loss : float
        grad : numpy.ndarray, shape (n_params,)

        Examples
        --------
        >>> gradcheck_naive(lambda v: net.loss_and_grad(v, X, y), net.get_params_vector())  # doctest: +SKIP
        """
        vector = self._check_vector(vector, "MLP.loss_and_grad")
        X, y = self._check_Xy(X, y, "MLP.loss_and_grad")
        saved = self.get_params_vector()
        try:
            self._set_params_vector(vector)
            loss, grads = self._compute_gradients(X, y)
            grad = np.concatenate([g.ravel() for g in grads])
        finally:
            self._set_params_vector(saved)
        return loss, grad

    # ------------------------------------------------------------------ prediction

    def _scores_chunked(self, X, chunk=8192):
        return np.concatenate([self._scores(X[s:s + chunk]) for s in range(0, X.shape[0], chunk)])

    def predict(self, X):
        """Class ids (softmax) or predicted values (linear).

        Parameters
        ----------
        X : array_like, shape (N, D)

        Returns
        -------
        numpy.ndarray
            Shape (N,) of class ids for softmax; shape (N, K) for linear, or (N,) when K = 1.
        """
        Z = self._scores_chunked(self._check_X(X, "MLP.predict"))
        if self.output == "softmax":
            return Z.argmax(axis=1)
        return Z[:, 0].copy() if Z.shape[1] == 1 else Z

    def predict_proba(self, X):
        """Class probabilities, softmax of the scores (classification only).

        Parameters
        ----------
        X : array_like, shape (N, D)

        Returns
        -------
        numpy.ndarray, shape (N, K)
            Rows are non-negative and sum to 1.
        """
        if self.output != "softmax":
            raise ValueError("MLP.predict_proba is only defined for output='softmax' (classification); "
                             "this network has output='linear', use predict(X) for its values")
        Z = self._scores_chunked(self._check_X(X, "MLP.predict_proba"))
        Z = Z - Z.max(axis=1, keepdims=True)
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=1, keepdims=True)
        return Z

    def score(self, X, y):
        """Accuracy (softmax) or coefficient of determination R² (linear, averaged over outputs).

        Parameters
        ----------
        X : array_like, shape (N, D)
        y : array_like, labels as in :meth:`fit`

        Returns
        -------
        float
        """
        X, y = self._check_Xy(X, y, "MLP.score")
        Z = self._scores_chunked(X)
        if self.output == "softmax":
            return float(np.mean(Z.argmax(axis=1) == y))
        ss_res = ((y - Z) ** 2).sum(axis=0, dtype=np.float64)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
        return float(np.mean(r2))

    # ------------------------------------------------------------------ training

    def fit(self, X, y, epochs, learning_rate, batch_size=None, momentum=0.0, progress=False,
            validation_data=None, shuffle=True, blas_threads=None):
        """Train by mini-batch SGD with (heavy-ball) momentum on the batch-mean loss.

        For each mini-batch, with ``g`` the gradient of the batch-mean loss plus
        the L2 term: ``v <- momentum * v - learning_rate * g`` and ``theta <- theta + v``
        (``v`` starts at 0 in every call; with ``momentum=0`` this is plain SGD).

        Parameters
        ----------
        X : array_like, shape (N, D)
            Inputs; integer arrays (e.g. uint8 images) are converted to the network's dtype.
        y : array_like
            softmax: integer class ids, shape (N,), or one-hot, shape (N, K).
            linear: targets of shape (N, K), or (N,) when K = 1.
        epochs : int
            Passes over the data (>= 1).
        learning_rate : float
            Step size (> 0).
        batch_size : int, optional
            Examples per step; None (default) means the whole set (full-batch
            gradient descent). A value above N is clipped to N.
        momentum : float
            In [0, 1).
        progress : bool
            Show a tqdm progress bar (``tqdm.auto``) with the running loss.
        validation_data : tuple (X_val, y_val), optional
            Evaluated after every epoch into ``history["val_loss"]``.
        shuffle : bool
            Draw a new random order of the examples every epoch (from the
            network's seeded generator); otherwise take them in order.
        blas_threads : None, int or "auto"
            Threads of the BLAS library (which does the matrix products) during
            training. ``None`` (default) leaves them as configured: fastest on an
            idle machine, and bit-for-bit repeatable. An integer limits them for
            the duration of the call. ``"auto"`` is for a machine that other
            programs keep busy, where a multi-threaded product can wait
            milliseconds for a thread that is not running and one thread is then
            many times faster. It matters only for networks whose matrix products
            are large enough to be split over threads (about a million
            multiply-adds or more per product) and at least 10 mini-batches per
            epoch: it times every step, tries one thread and the configured number
            on the first steps, goes back to one thread as soon as a
            multi-threaded step takes more than twice as long as a
            single-threaded one, and now and then (less often after each failed
            attempt) tries the other count again. ``self.blas_threads_`` records,
            per epoch, how many steps ran with each count. Matrix products split
            differently may round differently, so with ``"auto"`` the last bits of
            a large network's results can vary between runs.

        Returns
        -------
        dict
            ``{"loss": [...], "val_loss": [...]}``: per epoch, the mean of the
            mini-batch losses seen during the epoch (weighted by batch size, L2
            term included), and the loss on the validation data at the end of
            the epoch ("val_loss" only when ``validation_data`` is given). Also
            stored as ``self.history_``.

        Raises
        ------
        FloatingPointError
            If the loss becomes NaN or infinite; the parameters are then
            restored to their values before the call.
        """
        func = "MLP.fit"
        X, y = self._check_Xy(X, y, func)
        epochs = check_int(epochs, func, "epochs", minimum=1)
        lr = check_number(learning_rate, func, "learning_rate", minimum=0, strict=True)
        n = X.shape[0]
        if batch_size is None:
            batch = n
        else:
            batch = min(check_int(batch_size, func, "batch_size", minimum=1), n)
        mu = check_number(momentum, func, "momentum", minimum=0)
        if mu >= 1:
            raise ValueError(f"{func} expects momentum in [0, 1), got {mu}")
        for flag, name in ((progress, "progress"), (shuffle, "shuffle")):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{func} expects {name} to be True or False, got {describe(flag)}")
        if isinstance(blas_threads, str) and blas_threads != "auto":
            raise ValueError(f"{func} expects blas_threads to be 'auto', a positive integer or None, got {blas_threads!r}")
        if blas_threads is not None and not isinstance(blas_threads, str):
            check_int(blas_threads, func, "blas_threads", minimum=1)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError(f"{func} expects validation_data to be a tuple (X_val, y_val), got {describe(validation_data)}")
            Xv = self._check_X(validation_data[0], func, "X_val")
            yv = self._check_y(validation_data[1], Xv.shape[0], func, "y_val")

        history = {"loss": []}
        if validation_data is not None:
            history["val_loss"] = []
        saved = self.get_params_vector()
        trainer = _Trainer(self, batch, lr, mu)
        n_batches = -(-n // batch)
        threads = _BlasThreads(blas_threads, self.layer_sizes, batch, n_batches)
        self.blas_threads_ = []
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=epochs * n_batches, unit="batch", desc="MLP.fit", leave=True)
            every = max(1, n_batches // 20)
        try:
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                for epoch in range(epochs):
                    order = self._rng.permutation(n) if shuffle and n > 1 else None
                    total = 0.0
                    for b, start in enumerate(range(0, n, batch)):
                        stop = min(start + batch, n)
                        if threads.tuning:
                            threads.before_step()
                        if order is None:
                            loss = trainer.step(X[start:stop], y[start:stop])
                        else:
                            loss = trainer.step_gather(X, y, order[start:stop])
                        if threads.tuning:
                            threads.after_step()
                        if not math.isfinite(loss):
                            raise FloatingPointError(
                                f"MLP.fit: the loss became {loss} at epoch {epoch + 1}, mini-batch {b + 1}, so training "
                                f"diverged with learning_rate={lr:g}. Try a smaller learning rate (for example "
                                f"{lr / 10:g}) or inputs scaled to a small range; the parameters were restored to "
                                "their values before fit.")
                        total += loss * (stop - start)
                        if bar is not None and ((b + 1) % every == 0 or stop == n):
                            bar.update((b + 1) - bar.n + epoch * n_batches)
                            bar.set_postfix(epoch=epoch + 1, loss=f"{total / stop:.4g}", refresh=False)
                    history["loss"].append(total / n)
                    self.blas_threads_.append(threads.epoch_counts(n_batches))
                    if validation_data is not None:
                        history["val_loss"].append(self._loss(Xv, yv))
                        if bar is not None:
                            bar.set_postfix(epoch=epoch + 1, loss=f"{total / n:.4g}",
                                            val_loss=f"{history['val_loss'][-1]:.4g}", refresh=False)
        except FloatingPointError:
            self._set_params_vector(saved)
            raise
        finally:
            threads.restore()
            if bar is not None:
                bar.close()
        self.history_ = history
        return history


class _BlasThreads:
    """The BLAS thread count during :meth:`MLP.fit` (see its ``blas_threads`` argument).

    With "auto", every step is timed. Steps 1 to 4 run alternately with one
    thread and with the configured count ``C`` (step 0 warms the buffers up;
    steps 3 and 4 are skipped when one count was twice as fast as the other);
    the faster count becomes the mode. Afterwards:

    * a step with ``C`` threads that takes more than twice the typical
      single-threaded step means the threads are stalling: back to one thread;
    * every ``interval`` steps the other count is tried once; if it beats the
      typical step of the mode by 15 %, it becomes the mode, otherwise the
      interval doubles, and grows further if needed so that probes cost at most
      about 5 % of the time (a multi-threaded step on a busy machine can take
      50 times as long as a single-threaded one), up to ``PROBE_MAX`` steps.

    "Typical" is the median of the last five steps timed with that count.
    """

    MIN_PRODUCT = 2 ** 20  # multiply-adds of the largest product below which BLAS stays single-threaded anyway
    PROBE_FIRST = 32
    PROBE_MAX = 4096

    def __init__(self, setting, layer_sizes, batch, n_batches):
        self.tuning = False
        self.current = None
        self._limiter = None
        self._controllers = []
        self._counts = {}
        if setting is None:
            return
        largest = max(batch * i * o for i, o in zip(layer_sizes[:-1], layer_sizes[1:]))
        if setting == "auto" and (largest < self.MIN_PRODUCT or n_batches < 10):
            return
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # threadpoolctl comes with scikit-learn; without it, leave BLAS alone
            return
        selection = ThreadpoolController().select(user_api="blas")
        self._controllers = list(selection.lib_controllers)
        if not self._controllers:
            return
        self._limiter = selection.limit(limits=None)  # remembers the configured counts, restored at the end
        self.multi = max(c.num_threads for c in self._controllers)
        if setting == "auto":
            self.tuning = self.multi > 1
            self.current = self.multi
            self.mode = self.multi
            self._recent = {1: [], self.multi: []}
            self._step = 0
            self._interval = self.PROBE_FIRST
            self._next_probe = None
        else:
            self._set(int(setting))

    def _set(self, n):
        if n != self.current:
            for controller in self._controllers:
                controller.set_num_threads(n)
            self.current = n

    def _typical(self, n):
        recent = self._recent[n]
        return sorted(recent)[len(recent) // 2] if recent else math.inf

    def before_step(self):
        k = self._step
        if k == 0:
            self._set(1)  # the warm-up step, untimed: one thread is never very slow
        elif 1 <= k <= 4 and self._next_probe is None:
            self._set(1 if k % 2 else self.multi)
        elif k == self._next_probe:
            self._set(1 if self.mode == self.multi else self.multi)
        else:
            self._set(self.mode)
        self._start = time.perf_counter()

    def after_step(self):
        elapsed = time.perf_counter() - self._start
        k, n = self._step, self.current
        self._step += 1
        self._counts[n] = self._counts.get(n, 0) + 1
        if k == 0:
            return  # warm-up step: first touches of the buffers
        recent = self._recent[n]
        recent.append(elapsed)
        if len(recent) > 5:
            del recent[0]
        if self._next_probe is None:  # the first trials: steps 1 to 4, or 1 and 2 if one count is 2x faster
            one, multi = self._typical(1), self._typical(self.multi)
            if k == 4 or (k == 2 and max(one, multi) > 2 * min(one, multi)):
                self.mode = 1 if one <= multi else self.multi
                self._plan_probe(k, max(one, multi))
            return
        if k == self._next_probe:
            if elapsed < 0.85 * self._typical(self.mode):
                self.mode, self._interval = n, self.PROBE_FIRST
                self._next_probe = k + self._interval
            else:
                self._interval *= 2
                self._plan_probe(k, elapsed)
        elif n == self.multi and elapsed > 2 * self._typical(1):
            self.mode = 1  # the threads stall: stay on one thread until a probe says otherwise
            self._plan_probe(k, elapsed)

    def _plan_probe(self, k, probe_cost):
        """Next probe of the other count: late enough that probes cost at most ~5 % of the time."""
        cost_ratio = probe_cost / self._typical(self.mode)
        self._interval = int(min(max(self._interval, 20 * cost_ratio), self.PROBE_MAX))
        self._next_probe = k + self._interval

    def epoch_counts(self, n_batches):
        """``{threads: steps}`` of the epoch that just ended (None when BLAS was left alone)."""
        if self.current is None:
            return None
        if not self.tuning:
            return {self.current: n_batches}
        counts, self._counts = self._counts, {}
        return dict(sorted(counts.items()))

    def restore(self):
        if self._limiter is not None:
            self._limiter.restore_original_limits()
            self._limiter = None


class _Trainer:
    """The fast training step of :meth:`MLP.fit`: preallocated buffers, in-place operations.

    For a batch of ``nb`` rows (views ``[:nb]`` of buffers sized for the largest batch)::

        forward   Z_l = A_{l-1} W_l + b_l      (matmul into Z_l, bias added in place)
                  A_l = f(Z_l)                 (in place: Z_l then holds A_l)
        output    D = lr * dL/dZ_L             (softmax - onehot, or Z - Y, scaled by lr / nb; in place)
        backward  GW_l = A_{l-1}^T D,  Gb_l = sum_rows(D),  D <- (D W_l^T) * f'(A_{l-1})
        update    V <- mu V - G,  theta <- theta + V   (or theta <- theta - G without momentum)

    No gradient is computed for the input X (the first layer's backward stops at GW_1).
    """

    def __init__(self, net, batch, lr, mu):
        self.net = net
        self.lr = lr
        self.mu = mu
        self.reg = net.reg_lambda
        self.softmax = net.output == "softmax"
        dt = net.dtype
        self.act, self.act_grad = _KERNELS[net.activation]
        self.W = [layer.W for layer in net._dense]
        self.b = [layer.b for layer in net._dense]
        sizes = net.layer_sizes
        self.Z = [np.empty((batch, s), dtype=dt) for s in sizes[1:]]      # pre-activations, then activations
        self.D = [np.empty((batch, s), dtype=dt) for s in sizes[1:-1]]    # gradients of the hidden layers
        self.T = [np.empty((batch, s), dtype=dt) for s in sizes[1:-1]]    # scratch for f'(A)
        self.GW = [np.empty_like(W) for W in self.W]
        self.Gb = [np.empty_like(b) for b in self.b]
        self.VW = [np.zeros_like(W) for W in self.W] if mu else None
        self.Vb = [np.zeros_like(b) for b in self.b] if mu else None
        self.RW = [np.empty_like(W) for W in self.W] if self.reg else None
        self.Xbuf = np.empty((batch, sizes[0]), dtype=dt)
        self.rows = np.arange(batch)
        self.ones = np.ones(batch, dtype=dt)

    def step_gather(self, X, y, idx):
        nb = idx.shape[0]
        xb = self.Xbuf[:nb]
        np.take(X, idx, axis=0, out=xb, mode="clip")  # indices are valid; "clip" avoids a buffered copy
        return self.step(xb, y[idx])

    def step(self, xb, yb):
        nb = xb.shape[0]
        W, b, Z = self.W, self.b, self.Z
        L = len(W)
        # forward
        a = xb
        for l in range(L):
            z = Z[l][:nb]
            np.matmul(a, W[l], out=z)
            z += b[l]
            if l < L - 1:
                self.act(z)
            a = z
        # output layer: loss and lr * dL/dZ in place
        scale = self.lr / nb
        if self.softmax:
            rows = self.rows[:nb]
            a -= a.max(axis=1, keepdims=True)
            picked = a[rows, yb]
            np.exp(a, out=a)
            sums = a.sum(axis=1, keepdims=True)
            loss = (float(np.log(sums).sum()) - float(picked.sum())) / nb
            a /= sums
            a[rows, yb] -= 1
        else:
            a -= yb
            loss = 0.5 * float(np.vdot(a, a)) / nb
        a *= scale
        if self.reg:
            loss += self.net._reg_loss()
        # backward
        d = a
        ones = self.ones[:nb]
        for l in range(L - 1, -1, -1):
            a_prev = xb if l == 0 else Z[l - 1][:nb]
            np.matmul(a_prev.T, d, out=self.GW[l])
            np.matmul(ones, d, out=self.Gb[l])
            if l > 0:
                d_prev = self.D[l - 1][:nb]
                np.matmul(d, W[l].T, out=d_prev)
                self.act_grad(d_prev, a_prev, self.T[l - 1][:nb])
                d = d_prev
        # update
        for l in range(L):
            if self.reg:
                np.multiply(W[l], self.lr * self.reg, out=self.RW[l])
                self.GW[l] += self.RW[l]
            if self.mu:
                for P, G, V in ((W[l], self.GW[l], self.VW[l]), (b[l], self.Gb[l], self.Vb[l])):
                    V *= self.mu
                    V -= G
                    P += V
            else:
                W[l] -= self.GW[l]
                b[l] -= self.Gb[l]
        return loss
