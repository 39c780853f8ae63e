"""Checks for chapter 12: the convolutional network's helpers and its training step.

TensorFlow is imported inside each check, so ``import nnlib`` stays fast.
Every check compares the student's function with TensorFlow's own operations
on small seeded inputs and, when they disagree, recognises the classic
mistakes (a normal instead of a truncated normal, VALID instead of SAME
padding, a stride of 2 in the convolution, a 1x1 pooling window, a training
step that never applies its gradients or runs the model without dropout...).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ._common import Array, compare, fail, first_match, passed, run

__all__ = [
    "weight_variable",
    "bias_variable",
    "conv2d",
    "max_pool_2x2",
    "train_step",
    "glorot_stddev",
]

# A normal truncated at two standard deviations keeps this fraction of its standard
# deviation, and this fraction of its values within one (untruncated) one of 0.
_TRUNC_STD = 0.8796256610342398
_TRUNC_WITHIN_1SD = 0.6826894921370859 / 0.9544997361036416


def _tf():
    from .._tf import import_tensorflow

    return import_tensorflow()


def _check_variable(exercise, case, v, shape):
    """Check a returned variable: a trainable float32 ``tf.Variable`` of ``shape``."""
    tf = _tf()
    if not isinstance(v, tf.Variable):
        fail(
            exercise,
            case,
            expected="a tf.Variable",
            got=f"{type(v).__name__}",
            hint=(
                "wrap the initial values in tf.Variable(...): the GradientTape "
                "watches variables and the optimizer can only update variables, not "
                "constant tensors or numpy arrays."
            ),
        )
    if list(v.shape) != list(shape):
        fail(
            exercise,
            case,
            expected=f"shape {tuple(shape)}",
            got=f"shape {tuple(v.shape)}",
            hint=(
                "use the shape argument as it is, e.g. "
                "tf.random.truncated_normal(shape, ...)."
            ),
        )
    if v.dtype != tf.float32:
        fail(
            exercise,
            case,
            expected="dtype float32",
            got=f"dtype {v.dtype.name}",
            hint=(
                "the network computes in float32; numpy arrays are float64 by default."
            ),
        )
    if not v.trainable:
        fail(
            exercise,
            case,
            message="the variable is not trainable (trainable=False).",
            hint="leave trainable at its default, True, so the optimizer updates it.",
        )
    return v.numpy().astype(np.float64)


def weight_variable(fn):
    """Check ``weight_variable(shape)``: a truncated normal tf.Variable, stddev 0.1."""
    ex = "weight_variable"
    n = 0
    for shape in ([5, 5, 1, 32], [5, 5, 32, 64], [400, 250]):
        case = f"shape={shape}"
        vals = _check_variable(
            ex, case, run(ex, case, fn, (list(shape),), ("shape",))[0], shape
        )
        n += 1
        if vals.size < 10000:
            continue  # small tensors: type and shape; the statistics need many values
        if np.all(vals == vals.flat[0]):
            fail(
                ex,
                case,
                message=f"every weight is {vals.flat[0]!r}.",
                hint=(
                    "weights must start random (different from each other), or all "
                    "units of a layer compute the same thing and receive the same "
                    "gradient forever."
                ),
            )
        std, biggest = vals.std(), np.abs(vals).max()
        within = np.mean(np.abs(vals) < 0.1)
        if abs(vals.mean()) > 0.01:
            fail(
                ex,
                case,
                expected="values centred on 0 (mean about 0)",
                got=f"mean {vals.mean():.4f}",
                hint="draw from a distribution with mean 0.",
            )
        if biggest > 0.2 + 1e-6:
            if abs(std - 0.1) < 0.005:
                hint = (
                    "the values look like a plain normal distribution: use "
                    "tf.random.truncated_normal, which redraws values beyond two "
                    "standard deviations, so no weight starts larger than 0.2."
                )
            else:
                hint = (
                    f"the spread is wrong (standard deviation {std:.4f}): use "
                    "stddev=0.1."
                )
            fail(
                ex,
                case,
                expected="no value beyond 2 standard deviations (|w| <= 0.2)",
                got=f"largest |w| = {biggest:.4f}",
                hint=hint,
            )
        if abs(std - 0.1 * _TRUNC_STD) > 0.004:
            fail(
                ex,
                case,
                expected=(
                    f"standard deviation about {0.1 * _TRUNC_STD:.4f} (a normal with "
                    "stddev 0.1, truncated at 2 stddev)"
                ),
                got=f"standard deviation {std:.4f}",
                hint=(
                    "pass stddev=0.1 (your values look like stddev "
                    f"{std / _TRUNC_STD:.2g})."
                ),
            )
        if abs(within - _TRUNC_WITHIN_1SD) > 0.02:
            fail(
                ex,
                case,
                expected=(
                    f"about {_TRUNC_WITHIN_1SD:.1%} of the values within ±0.1 "
                    "(bell-shaped)"
                ),
                got=f"{within:.1%}",
                hint=(
                    "the values have the right spread but the wrong shape of "
                    "distribution (uniform?): use tf.random.truncated_normal."
                ),
            )
        n += 1
    passed(ex, n)


def bias_variable(fn):
    """Check ``bias_variable(shape)``: a ``tf.Variable`` with every entry 0.1."""
    ex, shapes = "bias_variable", ([32], [1024], [10])
    for shape in shapes:
        case = f"shape={shape}"
        got = run(ex, case, fn, (list(shape),), ("shape",))[0]
        vals = _check_variable(ex, case, got, shape)
        compare(
            ex,
            case,
            None,
            vals,
            np.full(shape, 0.1),
            [
                (
                    np.allclose(vals, 0.0),
                    "the biases are 0: start them slightly positive (0.1) so that "
                    "ReLU units are active at the start and receive gradient.",
                ),
                (
                    np.unique(vals).size > 1,
                    "biases start at one constant value, not random values: use "
                    "tf.constant(0.1, shape=shape).",
                ),
            ],
            default_hint="use the constant 0.1.",
            rtol=0,
            atol=1e-7,
        )
    passed(ex, len(shapes))


def _gradient_flows(fn, args, watch):
    """Whether ``sum(fn(*args))`` has a gradient with respect to ``args[watch]``."""
    tf = _tf()
    args = list(args)
    var = tf.Variable(args[watch])
    args[watch] = var
    with tf.GradientTape() as tape:
        out = fn(*args)
        total = tf.reduce_sum(out)
    return tape.gradient(total, var) is not None


def conv2d(fn):
    """Check ``conv2d(x, W)``: ``tf.nn.conv2d`` with stride 1 and SAME padding."""
    ex, tf = "conv2d", _tf()
    rng = np.random.default_rng(9)
    shapes = [((2, 28, 28, 1), (5, 5, 1, 4)), ((1, 9, 9, 3), (5, 5, 3, 2))]
    shapes += [((3, 7, 6, 2), (3, 3, 2, 5))]
    for xs, ws in shapes:
        x = tf.constant(rng.normal(size=xs).astype(np.float32))
        W = tf.constant(rng.normal(size=ws).astype(np.float32))
        case = f"x of shape {xs} and W of shape {ws}"
        got = np.asarray(run(ex, case, fn, (x, W), ("x", "W"))[0], dtype=np.float64)
        want = tf.nn.conv2d(x, W, strides=1, padding="SAME").numpy()
        if got.shape != want.shape:
            valid = tuple(tf.nn.conv2d(x, W, strides=1, padding="VALID").shape)
            fail(
                ex,
                case,
                f"the output has shape {got.shape}; expected {want.shape}.",
                hint=first_match(
                    None,
                    [
                        (
                            got.shape == valid,
                            "with padding='VALID' the output shrinks by (kernel size "
                            "- 1); 'SAME' pads the input with zeros so the output is "
                            "as tall and wide as the input.",
                        ),
                        (
                            got.shape[1] < want.shape[1],
                            "the output is smaller than the input: use strides=[1, 1, "
                            "1, 1] (stride 1 in every direction).",
                        ),
                        (
                            True,
                            "the output must be (batch, height, width, number of "
                            "filters).",
                        ),
                    ],
                ),
            )
        flipped = tf.nn.conv2d(x, W[::-1, ::-1], strides=1, padding="SAME").numpy()
        compare(
            ex,
            case,
            None,
            got,
            want,
            [
                (
                    flipped,
                    "you flipped the filter (the textbook convolution); tf.nn.conv2d "
                    "computes the cross-correlation, which the network learns just as "
                    "well: do not flip.",
                ),
            ],
            default_hint="use tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], "
            "padding='SAME').",
            rtol=1e-4,
            atol=1e-4,
        )
    if not _gradient_flows(fn, [x, W], 1):
        fail(
            ex,
            "the gradient with respect to W",
            "no gradient reaches W through your function.",
            hint="compute with TensorFlow operations only (no .numpy()), so that the "
            "GradientTape can follow them.",
        )
    passed(ex, len(shapes) + 1)


def max_pool_2x2(fn):
    """Check ``max_pool_2x2(x)``: ``tf.nn.max_pool2d``, 2x2 windows, stride 2, SAME."""
    ex, tf = "max_pool_2x2", _tf()
    rng = np.random.default_rng(11)
    shapes = ((2, 8, 8, 3), (1, 7, 7, 2), (4, 28, 28, 32))
    for xs in shapes:
        x = tf.constant(rng.normal(size=xs).astype(np.float32))
        case = f"x of shape {xs}"
        got = np.asarray(run(ex, case, fn, (x,), ("x",))[0], dtype=np.float64)
        want = tf.nn.max_pool2d(x, 2, 2, "SAME").numpy()
        if got.shape != want.shape:
            valid = tuple(tf.nn.max_pool2d(x, 2, 2, "VALID").shape)
            fail(
                ex,
                case,
                f"the output has shape {got.shape}; expected {want.shape}.",
                hint=first_match(
                    None,
                    [
                        (
                            got.shape == tuple(x.shape),
                            "the output is as large as the input: use strides=[1, 2, "
                            "2, 1] so that each window moves by 2.",
                        ),
                        (
                            got.shape == valid,
                            "with an odd size, padding='VALID' drops the last row and "
                            "column; 'SAME' keeps them (the output has ceil(size / 2) "
                            "rows).",
                        ),
                        (
                            True,
                            "2x2 windows with stride 2 halve the height and the width "
                            "(rounding up).",
                        ),
                    ],
                ),
            )
        compare(
            ex,
            case,
            None,
            got,
            want,
            [
                (
                    tf.nn.avg_pool2d(x, 2, 2, "SAME").numpy(),
                    "you averaged each window; max-pooling keeps the largest value: "
                    "tf.nn.max_pool2d.",
                ),
                (
                    x.numpy()[:, ::2, ::2, :],
                    "each output is the top-left input of its window: the window is "
                    "1x1. Use ksize=[1, 2, 2, 1] so the maximum is taken over 2x2.",
                ),
                (
                    tf.nn.max_pool2d(x, 3, 2, "SAME").numpy(),
                    "the windows are 3x3: use ksize=[1, 2, 2, 1].",
                ),
            ],
            default_hint="use tf.nn.max_pool2d(x, ksize=[1, 2, 2, 1], strides=[1, 2, "
            "2, 1], padding='SAME').",
            rtol=1e-5,
            atol=1e-6,
        )
    passed(ex, len(shapes))


class _ProbeModel:
    """A tiny linear model with the interface of the chapter's network.

    ``model(x, training=True)`` multiplies the inputs by a fixed 0/2 mask (a
    deterministic stand-in for dropout), so a loss computed without
    ``training=True`` is detectably different.
    """

    def __init__(self, seed):
        tf = _tf()
        rng = np.random.default_rng(seed)
        self.W = tf.Variable(rng.normal(0, 0.7, (6, 4)).astype(np.float32), name="W")
        self.b = tf.Variable(rng.normal(0, 0.3, (4,)).astype(np.float32), name="b")
        self.mask = tf.constant(np.array([2, 0, 2, 2, 0, 2], np.float32))
        self.frozen = tf.Variable(
            np.ones(4, np.float32), trainable=False, name="frozen"
        )

    @property
    def trainable_variables(self):
        return (self.W, self.b)

    def __call__(self, x, training=False):
        tf = _tf()
        h = tf.reshape(x, (-1, 6))
        if training:
            h = h * self.mask
        return h @ self.W + self.b * self.frozen


def _reference_step(model, x, y, lr, training=True, reduce="mean", probs=False):
    """The loss and the parameters after one SGD step of the reference or a mistake."""
    tf = _tf()
    with tf.GradientTape() as tape:
        logits = model(x, training=training)
        if probs:
            logits = tf.nn.softmax(logits)
        per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=logits
        )
        loss = (
            tf.reduce_mean(per_example)
            if reduce == "mean"
            else tf.reduce_sum(per_example)
        )
    grads = tape.gradient(loss, model.trainable_variables)
    new = [
        v.numpy() - lr * g.numpy()
        for v, g in zip(model.trainable_variables, grads, strict=True)
    ]
    return float(loss), new


def train_step(fn):
    """Check ``train_step(model, optimizer, x, y)``: one step on the mean cross-entropy.

    The check runs it with a small stand-in model and plain SGD (learning rate
    0.5), and compares the returned loss and the updated variables with the
    reference computed here.
    """
    ex = "train_step"
    tf = _tf()
    lr = 0.5
    for seed, batch in ((1, 8), (2, 5)):
        rng = np.random.default_rng(100 + seed)
        x = tf.constant(rng.normal(size=(batch, 2, 3, 1)).astype(np.float32))
        y = tf.constant(rng.integers(0, 4, size=batch).astype(np.int64))
        case = (
            f"a batch of {batch} examples (stand-in model, SGD with learning rate {lr})"
        )
        model = _ProbeModel(seed)
        before = [v.numpy().copy() for v in model.trainable_variables]
        ref_loss, ref_new = _reference_step(_ProbeModel(seed), x, y, lr)
        optimizer = tf.keras.optimizers.SGD(learning_rate=lr)
        got, _ = run(
            ex, case, fn, (model, optimizer, x, y), ("model", "optimizer", "x", "y")
        )
        after = [v.numpy() for v in model.trainable_variables]
        got_arr = np.asarray(got, dtype=np.float64)
        if got_arr.shape != ():
            fail(
                ex,
                case,
                expected="a scalar loss",
                got=f"shape {got_arr.shape}",
                hint="average the per-example losses with tf.reduce_mean.",
            )
        got_loss = float(got_arr)

        if all(np.array_equal(a, b) for a, b in zip(before, after, strict=True)):
            fail(
                ex,
                case,
                message="the model's variables did not change.",
                hint=(
                    "compute the gradients with tape.gradient(loss, "
                    "model.trainable_variables) and apply them with "
                    "optimizer.apply_gradients(zip(grads, model.trainable_variables))."
                ),
            )

        step = partial(_reference_step, _ProbeModel(seed), x, y, lr)
        probe_after = _ProbeModel(seed)
        for v, new in zip(probe_after.trainable_variables, ref_new, strict=True):
            v.assign(new)
        compare(
            ex,
            case,
            "the loss",
            got_loss,
            ref_loss,
            [
                (
                    step(training=False)[0],
                    "this is the loss without dropout: call the model with "
                    "training=True inside the training step (dropout belongs to "
                    "training only).",
                ),
                (
                    step(reduce="sum")[0],
                    "this is the sum over the batch: use the mean (tf.reduce_mean), "
                    "so the step size does not depend on the batch size.",
                ),
                (
                    step(probs=True)[0],
                    "you applied softmax before a loss that expects logits: pass the "
                    "raw logits to tf.nn.sparse_softmax_cross_entropy_with_logits.",
                ),
                (
                    _reference_step(probe_after, x, y, lr)[0],
                    "you returned the loss after the update; return the loss computed "
                    "inside the tape.",
                ),
            ],
            default_hint="use the mean of "
            "tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=...).",
            rtol=1e-5,
            atol=1e-6,
        )
        flat = np.concatenate([a.ravel() for a in after])
        compare(
            ex,
            case,
            "the variables after the step",
            flat,
            _flat(ref_new),
            [
                (
                    _flat(step(training=False)[1]),
                    "the update used gradients of the model without dropout: compute "
                    "the loss from model(x, training=True) inside the tape.",
                ),
                (
                    _flat(step(reduce="sum")[1]),
                    "the update is as large as with the summed loss: differentiate "
                    "the mean loss.",
                ),
                (
                    2 * _flat(before) - _flat(ref_new),
                    "the variables moved up the gradient: apply_gradients subtracts "
                    "them itself; pass grads as they are.",
                ),
            ],
            default_hint="use the optimizer you were given: "
            "optimizer.apply_gradients(zip(grads, model.trainable_variables)), with "
            "the gradients of the loss you return.",
            rtol=1e-4,
            atol=1e-6,
        )
    passed(ex, 2)


def _flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def glorot_stddev(fn):
    """Check ``glorot_stddev(shape)`` (chapter 13): ``sqrt(2 / (fan_in + fan_out))``."""
    ex = "glorot_stddev"
    shapes = ([5, 5, 1, 32], [5, 5, 32, 64], [3136, 1024], [1024, 10], [3, 3, 16, 16])
    for shape in shapes:
        case = f"shape={shape}"
        spec = Array((), "the standard deviation")
        value = float(run(ex, case, fn, (list(shape),), ("shape",), returns=spec)[0])
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
        want = np.sqrt(2.0 / (fan_in + fan_out))
        compare(
            ex,
            case,
            None,
            value,
            want,
            [
                (
                    np.sqrt(2.0 / (shape[-2] + shape[-1])),
                    "for a filter, fan_in and fan_out count every input of the 5x5 "
                    "(or 3x3) window: multiply the channels by height * width.",
                ),
                (
                    2.0 / (fan_in + fan_out),
                    "this is the variance; return its square root, the standard "
                    "deviation.",
                ),
                (
                    np.sqrt(1.0 / (fan_in + fan_out)),
                    "the numerator is 2: sqrt(2 / (fan_in + fan_out)).",
                ),
                (
                    np.sqrt(6.0 / (fan_in + fan_out)),
                    "sqrt(6 / (fan_in + fan_out)) is the limit of the uniform "
                    "version; the standard deviation is sqrt(2 / (fan_in + fan_out)).",
                ),
                (
                    np.sqrt(1.0 / fan_in),
                    "sqrt(1 / fan_in) is LeCun's initialisation; Glorot averages "
                    "fan_in and fan_out.",
                ),
                (
                    np.sqrt(2.0 / fan_in),
                    "sqrt(2 / fan_in) is He's initialisation; Glorot uses fan_in + "
                    "fan_out.",
                ),
            ],
            default_hint="use sqrt(2 / (fan_in + fan_out)), with fan_in = height * "
            "width * in_channels and fan_out = height * width * out_channels for a "
            "filter.",
            rtol=1e-6,
            atol=0,
        )
    passed(ex, len(shapes))
