"""A small convolutional network in numpy, from chapter 11's layers.

``ConvNet`` stacks two convolution blocks and a dense layer, in TensorFlow's NHWC
layout::

    X (N, H, W, C)
      -> conv KxK, F1 filters, zero padding K // 2  -> ReLU -> max-pool 2x2, stride 2
      -> conv KxK, F2 filters, zero padding K // 2  -> ReLU -> max-pool 2x2, stride 2
      -> flatten (N, (H // 4) (W // 4) F2) -> dense -> scores (N, K_classes)

with softmax + cross-entropy averaged over the batch
(:func:`nnlib.losses.softmax_cross_entropy`). The forward and backward passes are
:func:`nnlib.conv.conv2d_forward`, :func:`nnlib.conv.conv2d_backward`,
:func:`nnlib.conv.max_pool_forward` and :func:`nnlib.conv.max_pool_backward`; the
parameters are the list ``[w1, b1, w2, b2, W3, b3]`` that :meth:`ConvNet.parameters`
returns and that the optimizers of :mod:`nnlib.optim` update in place. Weights are
He-initialised (standard deviation ``sqrt(2 / fan_in)``, ``fan_in = K K C`` for a
convolution), biases zero.

:meth:`ConvNet.loss_and_gradients` is the code of chapter 11's
``loss_and_gradients`` (a test pins the two together); :meth:`ConvNet.fit` is its
training loop: mini-batches in a shuffled order, one optimizer step per batch.
"""

from __future__ import annotations

import time

import numpy as np

from ._validation import (
    as_float_array,
    as_rng,
    check_class_ids,
    check_float_dtype,
    check_int,
    describe,
)
from .conv import conv2d_backward, conv2d_forward, max_pool_backward, max_pool_forward
from .losses import softmax_cross_entropy
from .optim import SGD, Adam

__all__ = ["ConvNet"]


class ConvNet:
    """conv - pool - conv - pool - dense, trained with softmax + cross-entropy.

    Parameters
    ----------
    input_shape : tuple of 3 ints, default (28, 28, 1)
        ``(H, W, C)`` of one image; H and W divisible by 4 (two 2x2 poolings).
    filters : tuple of 2 ints, default (8, 16)
        Number of filters of the first and of the second convolution.
    kernel_size : int, default 5
        Odd height and width K of both kernels; the padding ``K // 2`` keeps the size.
    num_classes : int, default 10
        Number of classes, >= 2.
    seed : int, numpy.random.Generator or None
        Seeds the initialisation and, in :meth:`fit`, the order of the examples.
    dtype : numpy.float32 or numpy.float64, default float32
        Float type of the parameters and of every computation (float64 for gradient
        checks, float32 is faster for training).
    """

    def __init__(
        self,
        input_shape=(28, 28, 1),
        filters=(8, 16),
        kernel_size=5,
        num_classes=10,
        seed=None,
        dtype=np.float32,
    ):
        func = "ConvNet"
        if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3):
            raise ValueError(
                f"{func} expects input_shape (H, W, C), got {describe(input_shape)}"
            )
        h, w, c = (check_int(v, func, "input_shape", minimum=1) for v in input_shape)
        if h % 4 or w % 4:
            raise ValueError(
                f"{func} expects H and W divisible by 4 (two 2x2 poolings), got "
                f"input_shape {tuple(input_shape)}"
            )
        if not (isinstance(filters, (tuple, list)) and len(filters) == 2):
            raise ValueError(
                f"{func} expects filters (F1, F2), two numbers, got {describe(filters)}"
            )
        f1, f2 = (check_int(v, func, "filters", minimum=1) for v in filters)
        k = check_int(kernel_size, func, "kernel_size", minimum=1)
        if k % 2 == 0:
            raise ValueError(f"{func} expects an odd kernel_size, got {k}")
        self.num_classes = check_int(num_classes, func, "num_classes", minimum=2)
        self.dtype = check_float_dtype(dtype, func)
        self.input_shape = (h, w, c)
        self.filters = (f1, f2)
        self.kernel_size = k
        self.pad = k // 2
        self.rng = as_rng(seed, func)

        def he(shape, fan_in):
            std = np.sqrt(2.0 / fan_in)
            return (self.rng.standard_normal(shape) * std).astype(self.dtype)

        n_flat = (h // 4) * (w // 4) * f2
        self.params = [
            he((k, k, c, f1), k * k * c),
            np.zeros(f1, self.dtype),
            he((k, k, f1, f2), k * k * f1),
            np.zeros(f2, self.dtype),
            he((n_flat, self.num_classes), n_flat),
            np.zeros(self.num_classes, self.dtype),
        ]

    def __repr__(self):
        return (
            f"ConvNet(input_shape={self.input_shape}, filters={self.filters}, "
            f"kernel_size={self.kernel_size}, num_classes={self.num_classes}, "
            f"dtype={self.dtype.name})"
        )

    def parameters(self):
        """The trainable arrays ``[w1, b1, w2, b2, W3, b3]`` (the model's own)."""
        return self.params

    @property
    def n_params(self):
        """The number of trainable numbers."""
        return sum(p.size for p in self.params)

    # ------------------------------------------------------------------ input checks

    def _check_X(self, X, func):
        X = as_float_array(X, func, "X")
        if X.ndim != 4 or X.shape[1:] != self.input_shape:
            h, w, c = self.input_shape
            raise ValueError(
                f"{func} expects X of shape (N, {h}, {w}, {c}) (NHWC), got shape "
                f"{X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError(f"{func} expects at least one image, got shape {X.shape}")
        return np.ascontiguousarray(X, dtype=self.dtype)

    def _check_Xy(self, X, y, func):
        X = self._check_X(X, func)
        return X, check_class_ids(y, X.shape[0], self.num_classes, func, "y")

    # ------------------------------------------------------------------ the network

    def _scores(self, X):
        """Scores of a checked batch, without caches."""
        w1, b1, w2, b2, W3, b3 = self.params
        a1 = np.maximum(conv2d_forward(X, w1, b1, pad=self.pad)[0], 0)
        p1 = max_pool_forward(a1)[0]
        a2 = np.maximum(conv2d_forward(p1, w2, b2, pad=self.pad)[0], 0)
        p2 = max_pool_forward(a2)[0]
        return p2.reshape(len(X), -1) @ W3 + b3

    def scores(self, X, batch_size=500):
        """Scores (logits) for images X (N, H, W, C): shape (N, num_classes).

        Computed ``batch_size`` images at a time, to bound the memory im2col needs.
        """
        X = self._check_X(X, "ConvNet.scores")
        batch_size = check_int(batch_size, "ConvNet.scores", "batch_size", minimum=1)
        return np.concatenate(
            [self._scores(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
        )

    def predict(self, X):
        """Predicted class ids, shape (N,)."""
        return self.scores(X).argmax(axis=1)

    def accuracy(self, X, y):
        """Fraction of the images of X whose predicted class is y."""
        X, y = self._check_Xy(X, y, "ConvNet.accuracy")
        return float(np.mean(self.predict(X) == y))

    def loss(self, X, y):
        """Mean cross-entropy on (X, y)."""
        X, y = self._check_Xy(X, y, "ConvNet.loss")
        return softmax_cross_entropy(self.scores(X), y, check_input=False)[0]

    def loss_and_gradients(self, X, y):
        """Mean cross-entropy on the batch (X, y) and its gradients.

        Parameters
        ----------
        X : numpy.ndarray, shape (N, H, W, C)
        y : array_like of int, shape (N,), or one-hot (N, num_classes)

        Returns
        -------
        loss : float
        grads : list of numpy.ndarray
            ``[dw1, db1, dw2, db2, dW3, db3]``, shaped like :meth:`parameters`.
        """
        X, y = self._check_Xy(X, y, "ConvNet.loss_and_gradients")
        return self._loss_and_gradients(X, y)

    def _loss_and_gradients(self, X, y):
        w1, b1, w2, b2, W3, b3 = self.params
        pad = self.pad
        # forward: every layer keeps what its backward needs
        z1, conv1 = conv2d_forward(X, w1, b1, pad=pad)
        a1 = np.maximum(z1, 0)
        p1, pool1 = max_pool_forward(a1)
        z2, conv2 = conv2d_forward(p1, w2, b2, pad=pad)
        a2 = np.maximum(z2, 0)
        p2, pool2 = max_pool_forward(a2)
        flat = p2.reshape(len(X), -1)
        loss, dscores = softmax_cross_entropy(flat @ W3 + b3, y, check_input=False)
        # backward, layer by layer in reverse
        dW3, db3 = flat.T @ dscores, dscores.sum(axis=0)
        dp2 = (dscores @ W3.T).reshape(p2.shape)
        dz2 = max_pool_backward(dp2, pool2) * (z2 > 0)
        dp1, dw2, db2 = conv2d_backward(dz2, conv2)
        dz1 = max_pool_backward(dp1, pool1) * (z1 > 0)
        _, dw1, db1 = conv2d_backward(dz1, conv1)
        return loss, [dw1, db1, dw2, db2, dW3, db3]

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X,
        y,
        epochs=1,
        batch_size=64,
        optimizer=None,
        X_val=None,
        y_val=None,
        eval_every=100,
        verbose=True,
    ):
        """Train by mini-batch steps of ``optimizer`` (default Adam, rate 1e-3).

        Each epoch visits the examples in a new random order (from ``seed``), in
        batches of ``batch_size`` (the last, smaller batch is dropped).

        Parameters
        ----------
        X : numpy.ndarray, shape (N, H, W, C)
        y : array_like of int, shape (N,)
        epochs : int
        batch_size : int
        optimizer : nnlib.optim.SGD or nnlib.optim.Adam, optional
        X_val, y_val : optional
            Validation images and labels, evaluated every ``eval_every`` steps.
        eval_every : int
            Steps between two records of the history (and of the progress line).
        verbose : bool
            Print one progress line per record.

        Returns
        -------
        history : dict of numpy.ndarray
            ``step``, ``train_loss`` (mean batch loss since the previous record),
            ``seconds`` (training time so far, evaluations excluded) and, with
            validation data, ``val_loss`` and ``val_acc``.
        """
        func = "ConvNet.fit"
        X, y = self._check_Xy(X, y, func)
        epochs = check_int(epochs, func, "epochs", minimum=1)
        batch_size = check_int(batch_size, func, "batch_size", minimum=1)
        eval_every = check_int(eval_every, func, "eval_every", minimum=1)
        if batch_size > len(X):
            raise ValueError(
                f"{func} expects batch_size at most the number of examples "
                f"({len(X)}), got {batch_size}"
            )
        if (X_val is None) != (y_val is None):
            raise ValueError(f"{func} expects both X_val and y_val, or neither")
        if X_val is not None:
            X_val, y_val = self._check_Xy(X_val, y_val, func)
        if optimizer is None:
            optimizer = Adam(1e-3)
        if not isinstance(optimizer, (SGD, Adam)):
            raise TypeError(
                f"{func} expects optimizer to be an nnlib.optim.SGD or Adam, got "
                f"{describe(optimizer)}"
            )
        keys = ["step", "train_loss", "seconds"]
        keys += ["val_loss", "val_acc"] if X_val is not None else []
        history = {key: [] for key in keys}
        steps_per_epoch = len(X) // batch_size
        total, step, losses, seconds = epochs * steps_per_epoch, 0, [], 0.0
        for _ in range(epochs):
            order = self.rng.permutation(len(X))
            for i in range(steps_per_epoch):
                batch = order[i * batch_size : (i + 1) * batch_size]
                start = time.perf_counter()
                try:
                    loss, grads = self._loss_and_gradients(X[batch], y[batch])
                except ValueError as exc:  # a layer met inf or NaN
                    if "finite" not in str(exc):
                        raise
                    raise FloatingPointError(
                        f"{func}: non-finite values at step {step + 1} ({exc}): the "
                        "training has diverged; try a smaller learning rate"
                    ) from None
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"{func}: the loss became {loss} at step {step + 1}: the "
                        "training has diverged; try a smaller learning rate"
                    )
                optimizer.step(self.params, grads)
                seconds += time.perf_counter() - start
                step += 1
                losses.append(loss)
                if step % eval_every and step != total:
                    continue
                record = [step, float(np.mean(losses)), seconds]
                losses = []
                line = f"step {step:5d}/{total}: training loss {record[1]:.4f}"
                if X_val is not None:
                    z = self.scores(X_val)
                    val_loss = softmax_cross_entropy(z, y_val, check_input=False)[0]
                    val_acc = float(np.mean(z.argmax(axis=1) == y_val))
                    record += [val_loss, val_acc]
                    line += f", validation loss {val_loss:.4f}, accuracy {val_acc:.4f}"
                for key, value in zip(keys, record, strict=True):
                    history[key].append(value)
                if verbose:
                    print(line + f" ({seconds:.0f} s)", flush=True)
        return {key: np.asarray(value) for key, value in history.items()}
