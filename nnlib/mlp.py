"""The reference multi-layer perceptron of the course.

``MLP([D, H1, ..., K])`` stacks chapter 6's :class:`~nnlib.layers.Layer`, a dense
layer followed by its activation (the identity for the last one)::

    X (N, D) -> f(X W1 + b1) -> f(. W2 + b2) -> ... -> . WL + bL = scores (N, K)

with one of two outputs:

* ``output="softmax"`` (classification): softmax + cross-entropy averaged
  over the batch, ``L = -(1/N) sum_i log p[i, y_i]``, and its gradient with
  respect to the scores ``(P - Y) / N`` (``Y`` one-hot), both from
  :func:`nnlib.losses.softmax_cross_entropy`.
* ``output="linear"`` (regression): identity + half mean squared error
  ``L = (1/2N) sum_i ||z_i - y_i||^2`` (as :func:`nnlib.mean_squared_error`),
  gradient ``(Z - Y) / N``.

L2 regularisation adds ``(reg_lambda / 2) * sum_l ||W_l||^2`` to the loss: the
weights only, no biases, and **not** divided by the number of examples (so its
gradient is ``reg_lambda * W_l`` whatever the batch size).

Dropout (``dropout=p``, chapter 8's inverted dropout, :func:`nnlib.dropout_forward`)
drops each output of a hidden layer with probability ``p`` and scales the kept ones
by ``1 / (1 - p)``, during :meth:`MLP.fit` only (or in :meth:`MLP.compute_gradients`
given a ``dropout_rng``); the loss, the predictions and the scores use the whole
network.

This module is the model: forward and backward through the layers
(:meth:`MLP.loss`, :meth:`MLP.compute_gradients`, :meth:`MLP.loss_and_grad`, so
the gradient check). :meth:`MLP.fit` hands the training to
:func:`nnlib.trainer.train`, which takes the same steps in preallocated buffers.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_float_array,
    as_rng,
    check_class_ids,
    check_float_dtype,
    check_int,
    check_number,
    describe,
)
from .dropout import dropout_backward, dropout_forward
from .layers import Layer
from .losses import softmax, softmax_cross_entropy
from .trainer import train

__all__ = ["MLP"]

_HIDDEN = ("relu", "tanh", "sigmoid", "identity")
_OUTPUTS = ("softmax", "linear")


class MLP:
    """A fully connected network trained by mini-batch SGD with momentum, or Adam.

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
    dropout : float or sequence of float, default 0.0
        Probability of dropping each output of a hidden layer during training
        (inverted dropout), in [0, 1): one number for every hidden layer, or one
        per hidden layer (``len(layer_sizes) - 2`` of them). 0 means no dropout
        (and no random numbers drawn for it).

    Notes
    -----
    Initialisation (see :data:`nnlib.layers.INITIALISATIONS`): "he" for ReLU and
    the identity, "glorot" for tanh and sigmoid; biases start at 0.

    Parameters are packed in one vector (:meth:`get_params_vector`) as
    ``[W1.ravel(), b1, W2.ravel(), b2, ...]`` (row-major, ``W_l`` of shape
    ``(layer_sizes[l-1], layer_sizes[l])``).

    Examples
    --------
    >>> net = MLP([2, 16, 2], activation="tanh", seed=0)
    >>> history = net.fit(X, y, epochs=200, learning_rate=0.5)   # doctest: +SKIP
    >>> net.score(X, y)                                            # doctest: +SKIP
    """

    def __init__(
        self,
        layer_sizes,
        activation="relu",
        output="softmax",
        reg_lambda=0.0,
        seed=0,
        dtype=np.float64,
        dropout=0.0,
    ):
        if isinstance(layer_sizes, (str, bytes)) or not hasattr(layer_sizes, "__len__"):
            raise TypeError(
                "MLP expects layer_sizes to be a list of integers like [784, 128, "
                f"10], got {describe(layer_sizes)}"
            )
        sizes = list(layer_sizes)
        if len(sizes) < 2:
            raise ValueError(
                "MLP expects at least two layer sizes [inputs, ..., outputs], got "
                f"{sizes}"
            )
        self.layer_sizes = tuple(
            check_int(
                int(s) if isinstance(s, np.integer) else s,
                "MLP",
                f"layer_sizes[{i}]",
                minimum=1,
            )
            for i, s in enumerate(sizes)
        )
        if activation not in _HIDDEN:
            raise ValueError(
                f"MLP expects activation to be one of {list(_HIDDEN)}, got "
                f"{activation!r}"
            )
        if output not in _OUTPUTS:
            raise ValueError(
                f"MLP expects output to be one of {list(_OUTPUTS)}, got {output!r}"
            )
        if output == "softmax" and self.layer_sizes[-1] < 2:
            raise ValueError(
                "MLP with output='softmax' expects at least 2 classes (last layer "
                f"size), got {self.layer_sizes[-1]}; "
                "for a single real-valued output use output='linear'"
            )
        self.activation = activation
        self.output = output
        self.reg_lambda = check_number(reg_lambda, "MLP", "reg_lambda", minimum=0)
        self.dtype = check_float_dtype(dtype, "MLP")
        self.dropout = self._check_dropout(dropout)
        self._rng = as_rng(seed, "MLP")
        init = "glorot" if activation in ("tanh", "sigmoid") else "he"
        n = len(self.layer_sizes) - 1
        self.layers = [
            Layer(
                self.layer_sizes[i],
                self.layer_sizes[i + 1],
                activation if i < n - 1 else "identity",
                init,
                self._rng,
                self.dtype,
            )
            for i in range(n)
        ]
        self._has_gradients = False
        self.history_ = None

    def _check_dropout(self, dropout):
        """``dropout`` as a tuple of one probability per hidden layer."""
        n_hidden = len(self.layer_sizes) - 2
        if isinstance(dropout, (list, tuple, np.ndarray)):
            ps = list(np.asarray(dropout).ravel()) if np.ndim(dropout) else [dropout]
            if np.ndim(dropout) != 1 or len(ps) != n_hidden:
                raise ValueError(
                    "MLP expects dropout to be one number, or one per hidden layer "
                    f"({n_hidden} for this network), got {describe(dropout)}"
                )
            names = [f"dropout[{i}]" for i in range(n_hidden)]
        else:
            ps, names = [dropout] * max(n_hidden, 1), ["dropout"] * max(n_hidden, 1)
        checked = []
        for p, name in zip(ps, names, strict=True):
            p = check_number(
                p.item() if isinstance(p, np.generic) else p, "MLP", name, minimum=0
            )
            if p >= 1:
                raise ValueError(
                    f"MLP expects {name}, the probability of dropping a unit, in "
                    f"[0, 1), got {p}"
                )
            checked.append(p)
        if n_hidden == 0:
            if checked[0]:
                raise ValueError(
                    f"MLP got dropout={checked[0]} but the network "
                    f"{'-'.join(map(str, self.layer_sizes))} has no hidden layer "
                    "(dropout applies to the hidden layers' outputs)"
                )
            return ()
        return tuple(checked)

    def __repr__(self):
        sizes = "-".join(str(s) for s in self.layer_sizes)
        drop = ""
        if any(self.dropout):
            ps = set(self.dropout)
            drop = (
                f", dropout={ps.pop():g}"
                if len(ps) == 1
                else (f", dropout={list(self.dropout)}")
            )
        return (
            f"MLP({sizes}, activation={self.activation!r}, output={self.output!r}, "
            f"reg_lambda={self.reg_lambda:g}{drop}, dtype={self.dtype.name})"
        )

    # ------------------------------------------------------------------ input checks

    @property
    def n_params(self):
        """Total number of trainable parameters."""
        return sum(p.size for p in self.parameters())

    def _check_X(self, X, func, name="X"):
        if isinstance(X, np.ndarray) and (
            np.issubdtype(X.dtype, np.integer) or X.dtype == bool
        ):
            X = X.astype(self.dtype)  # e.g. uint8 images: straight to the working type
        X = as_float_array(X, func, name, ndim=2, allow_scalar=False)
        if X.shape[1] != self.layer_sizes[0]:
            raise ValueError(
                f"{func} expects {name} of shape (N, {self.layer_sizes[0]}) for this "
                "network "
                f"{'-'.join(map(str, self.layer_sizes))}, got shape {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError(
                f"{func} expects at least one example in {name}, got shape {X.shape}"
            )
        return np.ascontiguousarray(X, dtype=self.dtype)

    def _check_y(self, y, n, func, name="y"):
        """``y`` as used inside: class ids (N,), or float targets (N, K)."""
        K = self.layer_sizes[-1]
        if self.output == "softmax":
            return check_class_ids(y, n, K, func, name)
        arr = as_float_array(y, func, name, ndim=(1, 2), allow_scalar=False)
        if arr.ndim == 1 and K == 1:
            arr = arr[:, None]
        if arr.shape != (n, K):
            raise ValueError(
                f"{func} expects regression targets {name} of shape ({n}, {K})"
                f"{f' or ({n},)' if K == 1 else ''}, got shape {arr.shape}"
            )
        return np.ascontiguousarray(arr, dtype=self.dtype)

    def _check_Xy(self, X, y, func):
        X = self._check_X(X, func)
        return X, self._check_y(y, X.shape[0], func)

    # ----------------------------------------------- the model: forward, loss, backward

    def parameters(self):
        """``[W1, b1, W2, b2, ...]``: the arrays themselves (not copies).

        Returns
        -------
        list of numpy.ndarray
            ``W_l`` of shape ``(layer_sizes[l-1], layer_sizes[l])`` and ``b_l`` of
            shape ``(layer_sizes[l],)``.
        """
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self):
        """``[dW1, db1, dW2, db2, ...]`` from the last :meth:`compute_gradients`.

        The gradients include the L2 term. :meth:`fit` does not fill them (it
        works in its own buffers).
        """
        if not self._has_gradients:
            raise RuntimeError(
                "MLP.gradients: no gradients yet, call compute_gradients(X, y) first"
            )
        return [g for layer in self.layers for g in layer.gradients()]

    def _forward(self, X, dropout_rng=None, dropout_caches=None):
        """Scores (N, K) through the layers' forward passes (which keep caches).

        With ``dropout_rng``, the hidden layers' outputs go through inverted dropout
        (masks drawn from it, layer by layer) and ``dropout_caches`` receives one
        cache per hidden layer.
        """
        out = X
        for i, layer in enumerate(self.layers):
            out = layer.forward(out)
            if dropout_rng is not None and i < len(self.layers) - 1:
                out, cache = dropout_forward(out, self.dropout[i], dropout_rng)
                dropout_caches.append(cache)
        return out

    def _scores(self, X, chunk=8192):
        """Scores (N, K), ``chunk`` rows at a time (evaluation on data of any size)."""
        return np.concatenate(
            [self._forward(X[s : s + chunk]) for s in range(0, X.shape[0], chunk)]
        )

    def _reg_loss(self):
        if not self.reg_lambda:
            return 0.0
        return (
            0.5
            * self.reg_lambda
            * sum(float(np.vdot(layer.W, layer.W)) for layer in self.layers)
        )

    def _data_loss_and_dscores(self, Z, y):
        """Batch-mean loss and its gradient with respect to the scores Z."""
        if self.output == "softmax":
            return softmax_cross_entropy(Z, y, check_input=False)
        diff = Z - y
        return 0.5 * float(np.vdot(diff, diff)) / Z.shape[0], diff / Z.shape[0]

    def compute_gradients(self, X, y, dropout_rng=None):
        """Forward and backward pass through the layers; store and return the gradients.

        Parameters
        ----------
        X : array_like, shape (N, D)
        y : array_like
            Class ids (N,) or one-hot (N, K) for softmax; targets (N, K) (or (N,) when
            K = 1) for linear.
        dropout_rng : numpy.random.Generator, optional
            For a network with ``dropout``: draw the masks from this generator (one
            ``rng.random((N, H_l)) >= p_l`` per hidden layer, in order, as
            :meth:`fit` does) and return the gradient of the dropped-out network.
            None (default): no dropout, the gradient of the whole network.

        Returns
        -------
        loss : float
            Batch-mean data loss plus the L2 term.
        grads : list of numpy.ndarray
            ``[dW1, db1, ...]``, also available afterwards from :meth:`gradients`.
        """
        X, y = self._check_Xy(X, y, "MLP.compute_gradients")
        if dropout_rng is not None and not isinstance(dropout_rng, np.random.Generator):
            raise TypeError(
                "MLP.compute_gradients expects dropout_rng to be a "
                "numpy.random.Generator (np.random.default_rng(seed)) or None, got "
                f"{describe(dropout_rng)}"
            )
        return self._compute_gradients(X, y, dropout_rng)

    def _compute_gradients(self, X, y, dropout_rng=None):
        caches = []
        Z = self._forward(X, dropout_rng, caches)
        loss, d = self._data_loss_and_dscores(Z, y)
        for i in range(len(self.layers) - 1, -1, -1):
            d = self.layers[i].backward(d)
            if caches and i > 0:  # through the dropout of layer i's input
                d = dropout_backward(d, caches[i - 1])
        if self.reg_lambda:
            for layer in self.layers:
                layer.dW = layer.dW + self.reg_lambda * layer.W
        self._has_gradients = True
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
        return self._data_loss_and_dscores(self._scores(X), y)[0] + self._reg_loss()

    # ------------------------------------------------- all the parameters in one vector

    def get_params_vector(self):
        """All parameters in one new array ``[W1.ravel(), b1, W2.ravel(), b2, ...]``.

        Returns
        -------
        numpy.ndarray, shape (n_params,)
        """
        return np.concatenate([p.ravel() for p in self.parameters()])

    def set_params_vector(self, vector):
        """Copy a vector laid out as by :meth:`get_params_vector` into the parameters.

        Parameters
        ----------
        vector : array_like, shape (n_params,)
        """
        self._set_params_vector(self._check_vector(vector, "MLP.set_params_vector"))

    def _check_vector(self, vector, func):
        vector = as_float_array(vector, func, "vector", ndim=1, allow_scalar=False)
        if vector.size != self.n_params:
            raise ValueError(
                f"{func} expects a vector of {self.n_params} parameters for this "
                "network "
                f"{'-'.join(map(str, self.layer_sizes))}, got length {vector.size}"
            )
        return vector

    def _set_params_vector(self, vector):
        ofs = 0
        for p in self.parameters():
            p[...] = vector[ofs : ofs + p.size].reshape(p.shape)
            ofs += p.size

    def loss_and_grad(self, vector, X, y):
        """Loss and packed gradient at ``vector``, for :func:`nnlib.gradcheck_naive`.

        The network's own parameters are left unchanged (they are restored after the
        evaluation).

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
        >>> f = lambda v: net.loss_and_grad(v, X, y)
        >>> gradcheck_naive(f, net.get_params_vector())  # doctest: +SKIP
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

    def predict(self, X):
        """Class ids (softmax) or predicted values (linear).

        Parameters
        ----------
        X : array_like, shape (N, D)

        Returns
        -------
        numpy.ndarray
            Shape (N,) of class ids for softmax; shape (N, K) for linear, or (N,) when
            K = 1.
        """
        Z = self._scores(self._check_X(X, "MLP.predict"))
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
            raise ValueError(
                "MLP.predict_proba is only defined for output='softmax' "
                "(classification); "
                "this network has output='linear', use predict(X) for its values"
            )
        return softmax(self._scores(self._check_X(X, "MLP.predict_proba")))

    def score(self, X, y):
        """Accuracy (softmax) or R² (linear, the mean over the outputs).

        Parameters
        ----------
        X : array_like, shape (N, D)
        y : array_like, labels as in :meth:`fit`

        Returns
        -------
        float
        """
        X, y = self._check_Xy(X, y, "MLP.score")
        Z = self._scores(X)
        if self.output == "softmax":
            return float(np.mean(Z.argmax(axis=1) == y))
        ss_res = ((y - Z) ** 2).sum(axis=0, dtype=np.float64)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(
                ss_tot > 0, 1.0 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0)
            )
        return float(np.mean(r2))

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X,
        y,
        epochs,
        learning_rate=None,
        batch_size=None,
        momentum=0.0,
        progress=False,
        validation_data=None,
        shuffle=True,
        blas_threads=None,
        optimizer=None,
    ):
        """Train on the batch-mean loss by mini-batch SGD with momentum, or Adam.

        For each mini-batch, with ``g`` the gradient of the batch-mean loss plus
        the L2 term (of the network with dropout, when it has some: masks drawn
        for every mini-batch from the network's seeded generator):
        ``v <- momentum * v - learning_rate * g``, ``theta <- theta + v``
        (``v`` starts at 0 in every call; with ``momentum=0`` this is plain SGD).
        Or, with ``optimizer=nnlib.Adam(...)``, the update of
        :class:`nnlib.Adam` (Kingma & Ba 2015, Algorithm 1). The steps are taken by
        :func:`nnlib.trainer.train`, in place, and are those of
        ``optimizer.step(net.parameters(), net.compute_gradients(Xb, yb)[1])`` on
        the same mini-batches.

        **The rule for the settings:** give either ``learning_rate`` (and
        optionally ``momentum``), or an ``optimizer``, which carries its own
        settings; with an optimizer, ``learning_rate`` and ``momentum`` must stay
        at their defaults (None and 0.0), or fit raises a ``ValueError`` naming
        both. ``optimizer=SGD(lr, momentum=mu)`` gives exactly the results of
        ``learning_rate=lr, momentum=mu``.

        **The optimizer's state:** fit reads the instance's hyperparameters
        (``learning_rate``, ``momentum``; ``learning_rate``, ``beta1``, ``beta2``,
        ``eps``) when it is called and keeps its own state: velocities, moments and
        Adam's step count start at 0 in every call (``t = 1`` on the first step of
        each call) and the instance is not modified, so one instance can be
        passed to several fits, or several networks, each starting afresh.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Inputs; integer arrays (e.g. uint8 images) are converted to the network's
            dtype.
        y : array_like
            softmax: integer class ids, shape (N,), or one-hot, shape (N, K).
            linear: targets of shape (N, K), or (N,) when K = 1.
        epochs : int
            Passes over the data (>= 1).
        learning_rate : float, optional
            Step size (> 0). Required unless ``optimizer`` is given; None then.
        batch_size : int, optional
            Examples per step; None (default) means the whole set (full-batch
            gradient descent). A value above N is clipped to N.
        momentum : float
            In [0, 1). Must stay 0.0 when ``optimizer`` is given.
        progress : bool
            Show a tqdm progress bar (``tqdm.auto``) with the running loss.
        validation_data : tuple (X_val, y_val), optional
            Evaluated after every epoch into ``history["val_loss"]``.
        shuffle : bool
            Draw a new random order of the examples every epoch (from the
            network's seeded generator); otherwise take them in order.
        blas_threads : int, optional
            Threads of the BLAS library (which does the matrix products) during
            training, through ``threadpoolctl.threadpool_limits``. ``None``
            (default) leaves them as configured.
        optimizer : nnlib.SGD or nnlib.Adam, optional
            The update rule and its settings, instead of ``learning_rate`` and
            ``momentum`` (see the rule above). Exactly these two classes (not
            subclasses: the rules are re-implemented in place, so another
            ``step`` would be ignored).

        Returns
        -------
        dict
            ``{"loss": [...], "val_loss": [...]}``: per epoch, the mean of the
            mini-batch losses seen during the epoch (weighted by batch size, L2
            term included; with dropout, the losses of the dropped-out network),
            and the loss on the validation data at the end of the epoch (of the
            whole network; "val_loss" only when ``validation_data`` is given).
            Also stored as ``self.history_``.

        Raises
        ------
        TypeError
            If neither ``learning_rate`` nor ``optimizer`` is given, or
            ``optimizer`` is not an SGD or Adam instance.
        ValueError
            If ``optimizer`` is given together with a ``learning_rate`` or a
            non-zero ``momentum``.
        FloatingPointError
            If the loss becomes NaN or infinite; the parameters are then
            restored to their values before the call.

        Examples
        --------
        >>> net.fit(X, y, epochs=20, learning_rate=0.1, momentum=0.9)  # doctest: +SKIP
        >>> net.fit(X, y, epochs=20, optimizer=Adam(0.01))  # doctest: +SKIP
        """
        func = "MLP.fit"
        X, y = self._check_Xy(X, y, func)
        if validation_data is not None:
            if (
                not isinstance(validation_data, (tuple, list))
                or len(validation_data) != 2
            ):
                raise TypeError(
                    f"{func} expects validation_data to be a tuple (X_val, y_val), "
                    f"got {describe(validation_data)}"
                )
            Xv = self._check_X(validation_data[0], func, "X_val")
            validation_data = (
                Xv,
                self._check_y(validation_data[1], Xv.shape[0], func, "y_val"),
            )
        self.history_ = train(
            self,
            X,
            y,
            epochs,
            learning_rate,
            batch_size=batch_size,
            momentum=momentum,
            progress=progress,
            validation_data=validation_data,
            shuffle=shuffle,
            blas_threads=blas_threads,
            rng=self._rng,
            func=func,
            optimizer=optimizer,
        )
        return self.history_
