"""The deep convolutional network of Part III, in TensorFlow 2 at the level of tf.nn.

These are the reference versions of what chapter 12 builds (its helpers, the
network and, as an exercise, the training step), so that chapter 13 (and a reader
stuck on an exercise) can import them::

    from nnlib.cnn import DeepCNN, train_step, train_cnn

The network is the one of TensorFlow's classic "Deep MNIST for experts"
tutorial, with every tensor in NHWC layout (batch, height, width, channels)::

    input            (N, 28, 28, 1)
    conv 5x5, 32  -> (N, 28, 28, 32)   stride 1, SAME padding, + bias, activation
    max-pool 2x2  -> (N, 14, 14, 32)
    conv 5x5, 64  -> (N, 14, 14, 64)
    max-pool 2x2  -> (N, 7, 7, 64)
    flatten       -> (N, 3136)
    dense 1024    -> (N, 1024)         + bias, activation, dropout while training
    dense 10      -> (N, 10)           logits

This module imports TensorFlow, so ``nnlib/__init__.py`` does not import it:
``import nnlib`` stays fast, and only the chapters that need TensorFlow pay for it.
"""

from __future__ import annotations

import time

import numpy as np

from ._tf import import_tensorflow
from ._validation import check_finite, check_int, check_number, describe
from .layers import INITIALISATIONS

tf = import_tensorflow()  # TF_CPP_MIN_LOG_LEVEL=3 and no C++ start-up messages

__all__ = [
    "weight_variable",
    "glorot_stddev",
    "glorot_variable",
    "bias_variable",
    "conv2d",
    "max_pool_2x2",
    "DeepCNN",
    "train_step",
    "accuracy",
    "predict",
    "variable_summaries",
    "train_cnn",
    "prepare_images",
]


def _check_shape(shape, func):
    def positive_int(d):
        return isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0

    if (
        not isinstance(shape, (list, tuple))
        or not shape
        or not all(map(positive_int, shape))
    ):
        raise ValueError(
            f"{func} expects a shape as a non-empty list of positive integers, "
            f"got {describe(shape)}"
        )
    return [int(d) for d in shape]


def weight_variable(shape, stddev=0.1, name=None):
    """A trainable weight tensor drawn from a truncated normal distribution.

    Values are drawn from N(0, stddev²) and redrawn when they fall more than two
    standard deviations from 0, so no weight starts larger than ``2 * stddev``.
    The random numbers come from TensorFlow's global seed
    (``tf.keras.utils.set_random_seed``).

    Parameters
    ----------
    shape : list of int
        ``[height, width, in_channels, out_channels]`` for a convolution filter,
        ``[fan_in, fan_out]`` for a dense layer.
    stddev : float
        Standard deviation of the (untruncated) normal distribution.

    Returns
    -------
    tf.Variable, float32, of the given shape
    """
    shape = _check_shape(shape, "weight_variable")
    stddev = check_number(stddev, "weight_variable", "stddev", minimum=0.0, strict=True)
    return tf.Variable(tf.random.truncated_normal(shape, stddev=stddev), name=name)


def glorot_stddev(shape):
    """Standard deviation of Glorot initialisation, sqrt(2 / (fan_in + fan_out)).

    The formula is the ``"glorot"`` row of :data:`nnlib.layers.INITIALISATIONS`.
    For a filter of shape ``[height, width, in_channels, out_channels]``,
    ``fan_in = height * width * in_channels`` (the inputs of one output unit) and
    ``fan_out = height * width * out_channels``; for a ``[fan_in, fan_out]``
    matrix, the shape itself.

    Returns
    -------
    float
    """
    shape = _check_shape(shape, "glorot_stddev")
    if len(shape) < 2:
        raise ValueError(
            f"glorot_stddev expects a shape with at least 2 entries, got {shape}"
        )
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return float(
        INITIALISATIONS["glorot"].std(shape[-2] * receptive, shape[-1] * receptive)
    )


def glorot_variable(shape, name=None):
    """A trainable weight tensor with Glorot *normal* initialisation (truncated).

    The standard deviation is :func:`glorot_stddev` of the shape, the variance
    of ``"glorot"`` in :data:`nnlib.layers.INITIALISATIONS` (which, for numpy,
    draws it from a uniform distribution). As in Keras's ``GlorotNormal``, the
    normal is truncated at two standard deviations and rescaled by 1/0.8796 so
    that the truncated values keep that standard deviation.

    Returns
    -------
    tf.Variable, float32, of the given shape
    """
    shape = _check_shape(shape, "glorot_variable")
    stddev = glorot_stddev(shape) / 0.87962566103423978
    return tf.Variable(tf.random.truncated_normal(shape, stddev=stddev), name=name)


def bias_variable(shape, value=0.1, name=None):
    """A trainable bias tensor, every entry ``value`` (0.1: ReLU units start active).

    Returns
    -------
    tf.Variable, float32, of the given shape
    """
    shape = _check_shape(shape, "bias_variable")
    return tf.Variable(tf.fill(shape, tf.constant(value, tf.float32)), name=name)


def conv2d(x, W):
    """2-D convolution, stride 1 and SAME padding (output as tall and wide as input).

    Parameters
    ----------
    x : tensor, shape (N, H, W, C_in), float32
    W : tensor, shape (kh, kw, C_in, C_out), float32

    Returns
    -------
    tensor, shape (N, H, W, C_out)
    """
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    """Max-pooling over 2x2 windows with stride 2 and SAME padding.

    Parameters
    ----------
    x : tensor, shape (N, H, W, C)

    Returns
    -------
    tensor, shape (N, ceil(H / 2), ceil(W / 2), C)
    """
    return tf.nn.max_pool2d(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


_ACTIVATIONS = {"relu": tf.nn.relu, "tanh": tf.nn.tanh}
_INITS = {"truncated_normal": weight_variable, "glorot": glorot_variable}


class DeepCNN(tf.Module):
    """conv 5x5x32 -> pool -> conv 5x5x64 -> pool -> dense 1024 -> dropout -> dense 10.

    Parameters
    ----------
    activation : {"relu", "tanh"}
        The non-linearity after each convolution and after the first dense layer.
    init : {"truncated_normal", "glorot"}
        Weight initialisation: truncated normal with stddev 0.1 (the tutorial's),
        or Glorot normal (:func:`glorot_variable`). Biases start at 0.1 in every
        case, so that a comparison of two settings changes one thing only.
    dropout_rate : float
        Fraction of the 1024 dense units dropped at each training step.
    seed : int
        Seed of the dropout masks (a ``tf.random.Generator``); the weights use
        TensorFlow's global seed.
    """

    def __init__(
        self,
        activation="relu",
        init="truncated_normal",
        dropout_rate=0.5,
        seed=0,
        name=None,
    ):
        super().__init__(name=name)
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"DeepCNN expects activation in {sorted(_ACTIVATIONS)}, "
                f"got {activation!r}"
            )
        if init not in _INITS:
            raise ValueError(f"DeepCNN expects init in {sorted(_INITS)}, got {init!r}")
        rate = check_number(dropout_rate, "DeepCNN", "dropout_rate", minimum=0.0)
        if rate >= 1:
            raise ValueError(
                f"DeepCNN expects 0 <= dropout_rate < 1, got {dropout_rate}"
            )
        self.activation_name, self.init, self.dropout_rate = activation, init, rate
        self.act = _ACTIVATIONS[activation]
        w = _INITS[init]
        self.W_conv1, self.b_conv1 = (
            w([5, 5, 1, 32], name="W_conv1"),
            bias_variable([32], name="b_conv1"),
        )
        self.W_conv2, self.b_conv2 = (
            w([5, 5, 32, 64], name="W_conv2"),
            bias_variable([64], name="b_conv2"),
        )
        self.W_fc1, self.b_fc1 = (
            w([7 * 7 * 64, 1024], name="W_fc1"),
            bias_variable([1024], name="b_fc1"),
        )
        self.W_fc2, self.b_fc2 = (
            w([1024, 10], name="W_fc2"),
            bias_variable([10], name="b_fc2"),
        )
        self.rng = tf.random.Generator.from_seed(seed)

    def layers(self, x, training=False):
        """Every intermediate tensor, by name (for summaries and pictures).

        ``"logits"`` is the output.

        ``x`` has shape (N, 28, 28, 1), float32 in [0, 1].
        """
        t = {}
        t["conv1_pre"] = conv2d(x, self.W_conv1) + self.b_conv1  # (N, 28, 28, 32)
        t["conv1"] = self.act(t["conv1_pre"])
        t["pool1"] = max_pool_2x2(t["conv1"])  # (N, 14, 14, 32)
        # (N, 14, 14, 64)
        t["conv2_pre"] = conv2d(t["pool1"], self.W_conv2) + self.b_conv2
        t["conv2"] = self.act(t["conv2_pre"])
        t["pool2"] = max_pool_2x2(t["conv2"])  # (N, 7, 7, 64)
        flat = tf.reshape(t["pool2"], [-1, 7 * 7 * 64])
        t["fc1_pre"] = flat @ self.W_fc1 + self.b_fc1  # (N, 1024)
        t["fc1"] = self.act(t["fc1_pre"])
        h = t["fc1"]
        if training and self.dropout_rate > 0:
            keep = self.rng.uniform(tf.shape(h)) >= self.dropout_rate
            h = tf.where(keep, h / (1.0 - self.dropout_rate), 0.0)
        t["logits"] = h @ self.W_fc2 + self.b_fc2  # (N, 10)
        return t

    def __call__(self, x, training=False):
        """Logits (N, 10) for images ``x`` (N, 28, 28, 1); dropout only in training."""
        return self.layers(x, training=training)["logits"]

    def parameter_counts(self):
        """``[(layer, weight shape, bias shape, number of parameters), ...]``."""
        rows = []
        for layer in ("conv1", "conv2", "fc1", "fc2"):
            W, b = getattr(self, f"W_{layer}"), getattr(self, f"b_{layer}")
            n = int(np.prod(W.shape) + np.prod(b.shape))
            rows.append((layer, tuple(W.shape), tuple(b.shape), n))
        return rows


def train_step(model, optimizer, x, y):
    """One step of training: the batch's mean cross-entropy, its gradient, one update.

    Parameters
    ----------
    model : callable ``model(x, training=True) -> logits`` with ``trainable_variables``
    optimizer : a Keras optimizer
    x : tensor, shape (N, 28, 28, 1), float32
    y : tensor, shape (N,), integer class ids

    Returns
    -------
    scalar tensor
        The batch's mean loss, computed before the update.
    """
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        )
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    return loss


def _check_images(x, func, name="x"):
    """``x`` as a float32 array (N, H, W, C), N >= 1, every value finite (or error)."""
    arr = np.asarray(x)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"{func} expects {name} to be float images (N, H, W, C) with values in "
            f"[0, 1], as prepare_images makes them, got {describe(arr)}"
        )
    if arr.ndim != 4 or len(arr) == 0:
        raise ValueError(
            f"{func} expects {name} to be a batch of images of shape (N, H, W, C) with "
            f"N >= 1 (prepare_images adds the channel axis), got shape {arr.shape}"
        )
    check_finite(arr, func, name)
    return arr.astype(np.float32, copy=False)


def _check_labels(y, n, func, name="y"):
    """``y`` as an int64 array (n,) of class ids >= 0; else TypeError/ValueError."""
    arr = np.asarray(y)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{func} expects {name} to be integer class ids, got {describe(arr)}"
        )
    if arr.shape != (n,):
        raise ValueError(
            f"{func} expects {name} of shape ({n},), one class id per image, "
            f"got shape {arr.shape}"
        )
    if arr.min() < 0:
        raise ValueError(f"{func} expects class ids >= 0 in {name}, got {arr.min()}")
    return arr.astype(np.int64, copy=False)


def prepare_images(x):
    """Images with pixel values 0-255 -> a float32 array ready for the network.

    Parameters
    ----------
    x : array_like, shape (N, 28, 28)
        Integer (usually uint8) or float pixel values in [0, 255].

    Returns
    -------
    numpy.ndarray, shape (N, 28, 28, 1), float32, values in [0, 1]
    """
    x = np.asarray(x)
    if x.dtype == object or not (
        np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    ):
        raise TypeError(
            "prepare_images expects pixel values (integers or floats in [0, 255]), "
            f"got {describe(x)}"
        )
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(
            f"prepare_images expects images of shape (N, 28, 28), got shape {x.shape}"
        )
    check_finite(x, "prepare_images", "x")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ValueError(
            "prepare_images expects pixel values in [0, 255], "
            f"got values from {x.min()} to {x.max()}"
        )
    return (x.astype(np.float32) / 255.0)[..., None]


def predict(model, x, batch_size=1000):
    """Logits of ``model`` for all of ``x``, in batches.

    Parameters
    ----------
    model : callable ``model(x, training=False) -> logits``
    x : float array, shape (N, 28, 28, 1)
        Images as made by :func:`prepare_images`; every value must be finite.
    batch_size : int

    Returns
    -------
    numpy.ndarray, shape (N, 10)
    """
    x = _check_images(x, "predict")
    batch_size = check_int(batch_size, "predict", "batch_size", minimum=1)
    fn = tf.function(lambda xb: model(xb, training=False))
    return np.concatenate(
        [
            fn(tf.constant(x[i : i + batch_size])).numpy()
            for i in range(0, len(x), batch_size)
        ]
    )


def accuracy(model, x, y, batch_size=1000):
    """Fraction of the images ``x`` that ``model`` classifies as ``y``.

    Parameters
    ----------
    model : as for :func:`predict`
    x : float array, shape (N, 28, 28, 1)
    y : integer array, shape (N,)
    batch_size : int

    Returns
    -------
    float
    """
    x = _check_images(x, "accuracy")
    y = _check_labels(y, len(x), "accuracy")
    return float(np.mean(predict(model, x, batch_size).argmax(axis=1) == y))


def variable_summaries(tensor, name, step):
    """Write mean, stddev, min, max and a histogram of ``tensor`` under ``name/``.

    They go to the default writer: call inside ``with writer.as_default():``.
    """
    with tf.name_scope(name):
        mean = tf.reduce_mean(tensor)
        tf.summary.scalar("mean", mean, step=step)
        tf.summary.scalar(
            "stddev", tf.sqrt(tf.reduce_mean(tf.square(tensor - mean))), step=step
        )
        tf.summary.scalar("max", tf.reduce_max(tensor), step=step)
        tf.summary.scalar("min", tf.reduce_min(tensor), step=step)
        tf.summary.histogram("histogram", tensor, step=step)


def train_cnn(
    model,
    optimizer,
    x_train,
    y_train,
    steps,
    batch_size=64,
    seed=0,
    log_every=50,
    progress=None,
):
    """Train ``model`` for a budget of ``steps`` mini-batches; return the history.

    Batches are drawn without replacement from a permutation of the training
    set made by ``numpy.random.default_rng(seed)``; a new permutation starts
    whenever one runs out (the incomplete last batch is dropped).

    Parameters
    ----------
    model, optimizer : as for :func:`train_step`
    x_train : float array, shape (N, 28, 28, 1)
        Images as made by :func:`prepare_images`; every value must be finite.
    y_train : integer array, shape (N,)
        Class ids.
    steps, batch_size : int
    log_every : int
        The training loss is averaged over this many steps per history entry.
    progress : callable, optional
        Called as ``progress(step, mean_loss)`` at every history entry.

    Returns
    -------
    dict
        ``"step"`` and ``"loss"`` (lists, one entry per ``log_every`` steps)
        ``"seconds"`` (wall time of the training loop) and ``"cpu_seconds"``
        (processor time of this process, all threads: about twice the wall time
        on an idle 2-core machine, and not inflated when other programs compete
        for the processor).

    Raises
    ------
    TypeError, ValueError
        For bad input, before TensorFlow sees it (non-finite pixel values among them).
    FloatingPointError
        When the loss becomes NaN or infinite: the training diverged.
    """
    x_train = _check_images(x_train, "train_cnn", "x_train")
    y_train = _check_labels(y_train, len(x_train), "train_cnn", "y_train")
    steps = check_int(steps, "train_cnn", "steps", minimum=1)
    batch_size = check_int(batch_size, "train_cnn", "batch_size", minimum=1)
    log_every = check_int(log_every, "train_cnn", "log_every", minimum=1)
    if len(x_train) < batch_size:
        raise ValueError(
            "train_cnn expects at least one batch of images, "
            f"got {len(x_train)} images for batch_size {batch_size}"
        )
    rng = np.random.default_rng(seed)
    step_fn = tf.function(lambda xb, yb: train_step(model, optimizer, xb, yb))
    history = {"step": [], "loss": []}
    order, pos, running = rng.permutation(len(x_train)), 0, 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(1, steps + 1):
        if pos + batch_size > len(order):
            order, pos = rng.permutation(len(x_train)), 0
        idx = order[pos : pos + batch_size]
        pos += batch_size
        loss = float(step_fn(tf.constant(x_train[idx]), tf.constant(y_train[idx])))
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"train_cnn: the loss became {loss} at step {step}; "
                "try a smaller learning rate"
            )
        running += loss
        if step % log_every == 0:
            history["step"].append(step)
            history["loss"].append(running / log_every)
            if progress is not None:
                progress(step, running / log_every)
            running = 0.0
    history["seconds"] = time.perf_counter() - start
    history["cpu_seconds"] = time.process_time() - cpu_start
    return history
