"""Checks for chapter 12: what the convolutional network computes, its training step.

Exercises 12.1-12.4 and 12.6 ask for understanding rather than for an API call: the
output size of a convolution or a pooling, the shapes through the network, its
parameter counts, the receptive field of a unit, and what a histogram summary holds.
Their checks compute the answer from the formulas of the chapter and recognise the
classic mistakes (VALID instead of SAME, a forgotten stride, the biases left out, the
strides of the layers ignored in the receptive field, the left edges of the buckets
taken for their centres...). Exercise 12.5's check runs a training step on a small
stand-in model. TensorFlow is imported inside the checks, so ``import nnlib`` stays
fast.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ._common import Array, compare, fail, fmt, passed, run

__all__ = [
    "out_size",
    "layer_shapes",
    "parameter_counts",
    "receptive_field",
    "train_step",
    "histogram_stats",
    "glorot_stddev",
]


def _tf():
    from .._tf import import_tensorflow

    return import_tensorflow()


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _int_result(exercise, case, value, what):
    """``value`` as a Python int, or a failure: a whole number was expected."""
    if _is_int(value):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        hint = (
            "/ always gives a float in Python, even 28 / 2 = 14.0: use // for a "
            "division that rounds down, and -(-a // b) for one that rounds up "
            "(or int(math.ceil(a / b)))."
        )
    else:
        hint = f"{what} is a whole number."
    fail(
        exercise,
        case,
        f"{what} must be an int, got {type(value).__name__} {fmt(value)}.",
        hint=hint,
    )
    return None  # not reached


# --------------------------------------------------------------------------- out_size


def _out_size(n, k, s, padding):
    return (n - k) // s + 1 if padding == "VALID" else -(-n // s)


_OUT_SIZE_CASES = (
    (28, 5, 1, "VALID"),
    (28, 5, 1, "SAME"),
    (28, 5, 2, "VALID"),
    (28, 5, 2, "SAME"),
    (7, 3, 2, "VALID"),
    (7, 3, 2, "SAME"),
    (14, 2, 2, "SAME"),
    (5, 2, 2, "SAME"),
    (5, 2, 2, "VALID"),
    (32, 3, 3, "VALID"),
    (32, 3, 3, "SAME"),
)


def out_size(fn):
    """Check ``out_size(n, k, s, padding)``: outputs per side of a convolution/pooling.

    ``VALID``: ``floor((n - k) / s) + 1``; ``SAME``: ``ceil(n / s)``.
    """
    ex = "out_size"
    for n, k, s, padding in _OUT_SIZE_CASES:
        case = f"n={n}, k={k}, s={s}, padding={padding!r}"
        got = run(ex, case, fn, (n, k, s, padding), ("n", "k", "s", "padding"))[0]
        got = _int_result(ex, case, got, "the number of outputs")
        want = _out_size(n, k, s, padding)
        if got == want:
            continue
        if padding == "VALID":
            table = [
                (
                    (n - k) // s,
                    "the +1 is missing: the first position counts too "
                    "(with s = 1 an n-pixel side has n - k + 1 positions).",
                ),
                (
                    -(-(n - k) // s) + 1,
                    "round (n - k) / s down: a last position "
                    "that does not fit the filter inside the image is not used.",
                ),
                (
                    n - k + 1,
                    "the stride is missing: the filter moves by s pixels, so "
                    "there are floor((n - k) / s) + 1 positions.",
                ),
                (
                    -(-n // s),
                    "this is SAME's size: with VALID the filter stays "
                    "inside the image, floor((n - k) / s) + 1.",
                ),
                (
                    n,
                    "with VALID the output is smaller than the input: "
                    "floor((n - k) / s) + 1.",
                ),
            ]
        else:
            table = [
                (
                    n,
                    "with a stride s > 1 SAME gives ceil(n / s) outputs, not n: "
                    "the padding only makes every input pixel the start of a window.",
                ),
                (
                    n // s,
                    "round n / s up, not down (SAME pads the last window): "
                    "-(-n // s) or math.ceil(n / s).",
                ),
                (
                    (n - k) // s + 1,
                    "this is VALID's size; SAME pads with zeros so "
                    "that the output has ceil(n / s) pixels per side.",
                ),
                (-(-(n - k + 1) // s), "SAME does not depend on k: ceil(n / s)."),
            ]
        hint = next((h for value, h in table if value == got), None)
        fail(
            ex,
            case,
            expected=want,
            got=got,
            hint=hint
            or ("VALID: (n - k) // s + 1; SAME: ceil(n / s), which is -(-n // s)."),
        )
    passed(ex, len(_OUT_SIZE_CASES))


# ------------------------------------------------------------------------ layer_shapes

_LAYER_NAMES = ("conv1", "pool1", "conv2", "pool2", "flat", "fc1", "logits")


def _layer_shapes(h, w, conv="SAME", pool="SAME", filters=(32, 64), flat_from=None):
    """The chapter's network on one h x w x 1 image, or one of the classic mistakes."""
    shapes = {}
    for i, f in enumerate(filters, start=1):
        h, w = _out_size(h, 5, 1, conv), _out_size(w, 5, 1, conv)
        shapes[f"conv{i}"] = (h, w, f)
        h, w = _out_size(h, 2, 2, pool), _out_size(w, 2, 2, pool)
        shapes[f"pool{i}"] = (h, w, f)
    source = shapes[flat_from or "pool2"]
    shapes["flat"] = (int(np.prod(source)),)
    shapes["fc1"], shapes["logits"] = (1024,), (10,)
    return shapes


def layer_shapes(fn):
    """Check ``layer_shapes(height, width)``: the shape of every layer for one image."""
    ex = "layer_shapes"
    cases = ((28, 28), (32, 32), (30, 30), (20, 36), (9, 9))
    for h, w in cases:
        case = f"height={h}, width={w}"
        got = run(ex, case, fn, (h, w), ("height", "width"))[0]
        want = _layer_shapes(h, w)
        if not isinstance(got, dict) or set(got) != set(_LAYER_NAMES):
            keys = sorted(got) if isinstance(got, dict) else None
            fail(
                ex,
                case,
                f"expected a dict with the keys {list(_LAYER_NAMES)}, got "
                + (
                    f"a dict with the keys {keys}"
                    if keys is not None
                    else f"{type(got).__name__} {fmt(got)}"
                ),
            )
        for name in _LAYER_NAMES:
            value = got[name]
            if not isinstance(value, (tuple, list)) or not all(map(_is_int, value)):
                fail(
                    ex,
                    case,
                    f"shapes are tuples of ints; {name} is {type(value).__name__} "
                    f"{fmt(value)}.",
                    hint="write (14, 14, 32), and use // for divisions (/ gives "
                    "floats).",
                )
        got = {k: tuple(int(d) for d in v) for k, v in got.items()}
        if got == want:
            continue
        wrong = next(k for k in _LAYER_NAMES if got[k] != want[k])
        table = [
            (
                _layer_shapes(h, w, conv="VALID"),
                "the convolutions use SAME padding "
                "(stride 1): they keep the height and the width.",
            ),
            (
                _layer_shapes(h, w, pool="VALID"),
                "pooling uses SAME padding too: "
                "an odd size is rounded up (ceil(n / 2)), not down.",
            ),
            (
                _layer_shapes(h, w, filters=(64, 32)),
                "conv1 has 32 filters, conv2 "
                "has 64: the number of channels is the number of filters.",
            ),
            (
                _layer_shapes(h, w, flat_from="conv2"),
                "the flattened vector comes after the second pooling, not before it.",
            ),
            (
                _layer_shapes(w, h),
                "height and width are swapped: NHWC lists the height (rows) first.",
            ),
        ]
        hint = next(
            (hint for shapes, hint in table if shapes[wrong] == got[wrong]), None
        )
        if hint is None and wrong == "flat":
            hint = (
                "flattening keeps every number of pool2's output: height * width "
                "* channels."
            )
        fail(
            ex,
            case,
            f"the shape of {wrong} is not right.",
            expected=want[wrong],
            got=got[wrong],
            hint=hint
            or "go layer by layer: a SAME convolution keeps the size and "
            "sets the channels to its number of filters; a 2x2 pooling halves the "
            "size, rounding up.",
        )
    passed(ex, len(cases))


# -------------------------------------------------------------------- parameter_counts


def _parameter_counts(h, w, biases=True, positions=False, c_in=True, fixed_fc=False):
    shapes = _layer_shapes(h, w)
    flat = 3136 if fixed_fc else shapes["flat"][0]
    layers = {
        "conv1": (5 * 5 * (1 if c_in else 1), 32, shapes["conv1"]),
        "conv2": (5 * 5 * (32 if c_in else 1), 64, shapes["conv2"]),
        "fc1": (flat, 1024, None),
        "fc2": (1024, 10, None),
    }
    counts = {}
    for name, (fan_in, fan_out, out_shape) in layers.items():
        n = fan_in * fan_out
        if positions and out_shape is not None:
            n *= out_shape[0] * out_shape[1]
        counts[name] = n + (fan_out if biases else 0)
    return counts


def parameter_counts(fn):
    """Check ``parameter_counts(height, width)``: weights + biases of each layer."""
    ex = "parameter_counts"
    cases = ((28, 28), (32, 32), (30, 30), (20, 36))
    names = ("conv1", "conv2", "fc1", "fc2")
    for h, w in cases:
        case = f"height={h}, width={w}"
        got = run(ex, case, fn, (h, w), ("height", "width"))[0]
        if not isinstance(got, dict) or set(got) != set(names):
            keys = sorted(got) if isinstance(got, dict) else None
            fail(
                ex,
                case,
                f"expected a dict with the keys {list(names)}, got "
                + (
                    f"a dict with the keys {keys}"
                    if keys is not None
                    else f"{type(got).__name__} {fmt(got)}"
                ),
            )
        got = {k: _int_result(ex, case, v, f"the count of {k}") for k, v in got.items()}
        want = _parameter_counts(h, w)
        if got == want:
            continue
        wrong = next(k for k in names if got[k] != want[k])
        table = [
            (
                _parameter_counts(h, w, biases=False),
                "the biases are missing: one per filter (or unit), F of them.",
            ),
            (
                _parameter_counts(h, w, positions=True),
                "a filter's weights are shared "
                "by every position: do not multiply by the height and width of the "
                "output (that counts multiply-adds, not parameters).",
            ),
            (
                _parameter_counts(h, w, c_in=False),
                "a filter of conv2 has one 5x5 "
                "slice per input channel: k * k * C_in * F weights.",
            ),
            (
                _parameter_counts(h, w, fixed_fc=True),
                "fc1's inputs are the "
                "flattened output of pool2, which depends on the image size: 3136 is "
                "the number for 28x28 images only.",
            ),
        ]
        hint = next(
            (hint for counts, hint in table if counts[wrong] == got[wrong]), None
        )
        fail(
            ex,
            case,
            f"the count of {wrong} is not right.",
            expected=want[wrong],
            got=got[wrong],
            hint=hint
            or "a convolution: k * k * C_in * F weights + F biases; a "
            "dense layer from m to n units: m * n + n.",
        )
    passed(ex, len(cases))


# --------------------------------------------------------------------- receptive_field


def _receptive_field(layers, variant="right"):
    r, jump = 1, 1
    for k, s in layers:
        if variant == "no strides":
            r += k - 1
        elif variant == "own stride":
            jump *= s
            r += (k - 1) * jump
        else:
            r += (k - 1) * jump
            jump *= s
    return r


_RF_CASES = (
    ((5, 1),),
    ((5, 1), (2, 2)),
    ((5, 1), (2, 2), (5, 1)),
    ((5, 1), (2, 2), (5, 1), (2, 2)),
    ((3, 1), (3, 1)),
    ((3, 2), (3, 2), (3, 2)),
    ((7, 2), (3, 2), (3, 1)),
)


_RF_MISTAKES = (
    (
        partial(_receptive_field, variant="no strides"),
        "the strides are missing: after a layer of stride s, one step in its output "
        "is s pixels of its input, so a later kernel's k - 1 extra positions count s "
        "times (times every earlier stride).",
    ),
    (
        partial(_receptive_field, variant="own stride"),
        "a layer's own stride does not widen its own window: multiply (k - 1) by the "
        "strides of the layers before it only.",
    ),
    (
        lambda layers: sum(k for k, _ in layers),
        "the windows overlap: a stack of two 3x3 convolutions sees 5x5, not 6x6. Each "
        "layer adds (k - 1) times the strides before it.",
    ),
    (
        lambda layers: math.prod(k for k, _ in layers),
        "the sizes do not multiply: each layer adds (k - 1) times the strides before "
        "it.",
    ),
    (
        lambda layers: _receptive_field(layers) - 1,
        "start from 1 (a single pixel), then add (k - 1) times the product of the "
        "earlier strides for each layer.",
    ),
)


def receptive_field(fn):
    """Check ``receptive_field(layers)``: the side of the input window a unit sees.

    The function is run on every case first; a wrong answer is then matched with the
    mistake that gives the student's answers on all the cases, not on one only.
    """
    ex = "receptive_field"
    answers = []
    for layers in _RF_CASES:
        layers = [tuple(x) for x in layers]
        case = f"layers={layers}"
        got = run(ex, case, fn, (layers,), ("layers",))[0]
        answers.append(
            (layers, case, _int_result(ex, case, got, "the receptive field"))
        )
    for layers, case, got in answers:
        want = _receptive_field(layers)
        if got == want:
            continue
        hint = next(
            (
                h
                for mistake, h in _RF_MISTAKES
                if all(mistake(lay) == g for lay, _, g in answers)
            ),
            "r = 1 + sum over the layers of (k - 1) times the product of the strides "
            "of the layers before it.",
        )
        fail(ex, case, expected=want, got=got, hint=hint)
    passed(ex, len(_RF_CASES))


# --------------------------------------------------------------------- histogram_stats


def _histogram(values, buckets=30):
    """A histogram like tf.summary.histogram's: rows (left edge, right edge, count)."""
    counts, edges = np.histogram(values, bins=buckets)
    return np.column_stack([edges[:-1], edges[1:], counts.astype(np.float64)])


def _histogram_stats(h, point="centre", weighted=True, sqrt=True, centred=True):
    left, right, counts = h[:, 0], h[:, 1], h[:, 2]
    x = {"centre": (left + right) / 2, "left": left, "right": right}[point]
    p = counts / counts.sum() if weighted else np.full(len(x), 1 / len(x))
    mean = float(np.sum(p * x))
    var = float(np.sum(p * (x - mean) ** 2)) if centred else float(np.sum(p * x**2))
    return mean, (math.sqrt(var) if sqrt else var)


def histogram_stats(fn):
    """Check ``histogram_stats(histogram)``: mean and stddev from its buckets."""
    ex = "histogram_stats"
    rng = np.random.default_rng(12)
    samples = (
        rng.normal(0.3, 0.1, 5000),
        np.maximum(rng.normal(0.2, 1.0, 4000), 0.0),
        rng.exponential(2.0, 3000) - 1.0,
    )
    spec = (Array((), "the mean"), Array((), "the standard deviation"))
    for i, values in enumerate(samples):
        h = _histogram(values)
        case = f"histogram {i + 1} ({len(h)} buckets, {len(values)} values)"
        got = run(ex, case, fn, (h,), ("histogram",), returns=spec)[0]
        got = np.array([float(g) for g in got])
        want = np.array(_histogram_stats(h))
        mistakes = [
            (
                np.array(_histogram_stats(h, point="left")),
                "these are the statistics of the left edges: a bucket's values lie "
                "between its edges, so use its centre, (left + right) / 2.",
            ),
            (
                np.array(_histogram_stats(h, point="right")),
                "these are the statistics of the right edges: use the centre of each "
                "bucket, (left + right) / 2.",
            ),
            (
                np.array(_histogram_stats(h, weighted=False)),
                "every bucket counted once: weight each centre by its count (the "
                "third column) and divide by the total count.",
            ),
            (
                np.array(_histogram_stats(h, sqrt=False)),
                "the second number is the "
                "variance: return its square root, the standard deviation.",
            ),
            (
                np.array(_histogram_stats(h, centred=False)),
                "the second number is the "
                "root mean square: subtract the mean before squaring.",
            ),
        ]
        compare(
            ex,
            case,
            None,
            got,
            want,
            mistakes,
            default_hint=(
                "with centres c = (left + right) / 2 and counts n: mean = sum(n c) / "
                "sum(n), stddev = sqrt(sum(n (c - mean)^2) / sum(n))."
            ),
            rtol=1e-9,
            atol=1e-12,
        )
    passed(ex, len(samples))


# -------------------------------------------------------------------------- train_step


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
