"""The chapter 12 checks accept the reference helpers and reject planted mistakes."""

import re

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from nnlib import checks, cnn  # noqa: E402


@pytest.fixture(autouse=True)
def seeded():
    tf.keras.utils.set_random_seed(0)


def rejects(check, fn, pattern):
    with pytest.raises(AssertionError, match=re.compile(pattern, re.DOTALL)):
        check(fn)


# ------------------------------------------------------- reference answers (the book's)


def out_size(n, k, s, padding):
    return (n - k) // s + 1 if padding == "VALID" else -(-n // s)


def layer_shapes(height, width):
    h, w, shapes = height, width, {}
    for i, f in ((1, 32), (2, 64)):
        h, w = out_size(h, 5, 1, "SAME"), out_size(w, 5, 1, "SAME")
        shapes[f"conv{i}"] = (h, w, f)
        h, w = out_size(h, 2, 2, "SAME"), out_size(w, 2, 2, "SAME")
        shapes[f"pool{i}"] = (h, w, f)
    shapes["flat"] = (h * w * 64,)
    shapes["fc1"], shapes["logits"] = (1024,), (10,)
    return shapes


def parameter_counts(height, width):
    flat = layer_shapes(height, width)["flat"][0]
    return {
        "conv1": 5 * 5 * 1 * 32 + 32,
        "conv2": 5 * 5 * 32 * 64 + 64,
        "fc1": flat * 1024 + 1024,
        "fc2": 1024 * 10 + 10,
    }


def receptive_field(layers):
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r


def histogram_stats(histogram):
    centres = (histogram[:, 0] + histogram[:, 1]) / 2
    p = histogram[:, 2] / histogram[:, 2].sum()
    mean = np.sum(p * centres)
    return mean, np.sqrt(np.sum(p * (centres - mean) ** 2))


@pytest.mark.parametrize(
    "check, fn",
    [
        (checks.out_size, out_size),
        (checks.layer_shapes, layer_shapes),
        (checks.parameter_counts, parameter_counts),
        (checks.receptive_field, receptive_field),
        (checks.histogram_stats, histogram_stats),
    ],
)
def test_understanding_checks_accept_the_reference(check, fn, capsys):
    check(fn)
    assert f"✓ {fn.__name__}: all" in capsys.readouterr().out


def test_the_references_here_agree_with_tensorflow_and_the_chapter():
    """The answers the checks expect are what TensorFlow and nnlib.cnn compute."""
    for n, k, s in [(28, 5, 1), (28, 5, 2), (7, 3, 2), (5, 2, 2), (32, 3, 3)]:
        for padding in ("VALID", "SAME"):
            got = tf.nn.conv2d(
                tf.zeros([1, n, n, 1]), tf.zeros([k, k, 1, 1]), s, padding
            ).shape[1]
            assert got == out_size(n, k, s, padding)
    x = tf.zeros([1, 30, 20, 1])
    model = cnn.DeepCNN()
    t = model.layers(tf.zeros([1, 28, 28, 1]))
    want = layer_shapes(28, 28)
    for name in ("conv1", "pool1", "conv2", "pool2"):
        assert tuple(t[name].shape[1:]) == want[name]
    pooled = cnn.max_pool_2x2(cnn.conv2d(x, tf.zeros([5, 5, 1, 32])))
    assert tuple(pooled.shape[1:]) == layer_shapes(30, 20)["pool1"]
    counts = {name: n for name, _, _, n in model.parameter_counts()}
    assert counts == parameter_counts(28, 28)
    # a histogram as tf.summary.histogram writes it: (left, right, count) per bucket
    values = np.random.default_rng(3).normal(0.5, 0.2, 2000)
    edges = np.linspace(values.min(), values.max(), 31)
    hist = np.column_stack(
        [edges[:-1], edges[1:], np.histogram(values, edges)[0].astype(float)]
    )
    mean, std = histogram_stats(hist)
    assert abs(mean - values.mean()) < 0.01 and abs(std - values.std()) < 0.01


# ----------------------------------------------------------------------------- out_size


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (lambda n, k, s, p: (n - k) // s if p == "VALID" else -(-n // s), r"\+1"),
        (lambda n, k, s, p: n - k + 1 if p == "VALID" else -(-n // s), r"stride"),
        (lambda n, k, s, p: (n - k) // s + 1 if p == "VALID" else n, r"ceil\(n / s\)"),
        (
            lambda n, k, s, p: (n - k) // s + 1 if p == "VALID" else n // s,
            r"round n / s up",
        ),
        (lambda n, k, s, p: -(-n // s), r"SAME's size"),
        (lambda n, k, s, p: (n - k) // s + 1, r"VALID's size"),
        (
            lambda n, k, s, p: (n - k) / s + 1 if p == "VALID" else -(-n // s),
            r"must be an int",
        ),
        (
            lambda n, k, s, p: -(-(n - k) // s) + 1 if p == "VALID" else -(-n // s),
            r"round \(n - k\) / s down",
        ),
    ],
)
def test_out_size_rejects(wrong, pattern):
    rejects(checks.out_size, wrong, pattern)


# ------------------------------------------------------------------------- layer_shapes


def _shapes_with(**change):
    def fn(height, width):
        conv = change.get("conv", "SAME")
        pool = change.get("pool", "SAME")
        filters = change.get("filters", (32, 64))
        h, w, shapes = height, width, {}
        if change.get("swap"):
            h, w = w, h
        for i, f in enumerate(filters, start=1):
            h, w = out_size(h, 5, 1, conv), out_size(w, 5, 1, conv)
            shapes[f"conv{i}"] = (h, w, f)
            h, w = out_size(h, 2, 2, pool), out_size(w, 2, 2, pool)
            shapes[f"pool{i}"] = (h, w, f)
        flat = shapes[change.get("flat_from", "pool2")]
        shapes["flat"] = (
            flat[0] * flat[1] * (1 if change.get("no_channels") else flat[2]),
        )
        shapes["fc1"], shapes["logits"] = (1024,), (10,)
        if change.get("floats"):
            shapes["pool1"] = tuple(float(d) for d in shapes["pool1"])
        return shapes

    return fn


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (_shapes_with(conv="VALID"), r"convolutions use SAME"),
        (_shapes_with(pool="VALID"), r"rounded up"),
        (_shapes_with(filters=(64, 32)), r"conv1 has 32 filters"),
        (_shapes_with(flat_from="conv2"), r"after the second pooling"),
        (_shapes_with(swap=True), r"swapped"),
        (_shapes_with(no_channels=True), r"height \* width \* channels"),
        (_shapes_with(floats=True), r"tuples of ints"),
        (lambda h, w: [(h, w, 32)], r"a dict with the keys"),
    ],
)
def test_layer_shapes_rejects(wrong, pattern):
    rejects(checks.layer_shapes, wrong, pattern)


# --------------------------------------------------------------------- parameter_counts


def _counts_with(biases=True, positions=False, c_in=True, fixed_fc=False):
    def fn(height, width):
        shapes = layer_shapes(height, width)
        flat = 3136 if fixed_fc else shapes["flat"][0]
        rows = {
            "conv1": (25, 32, shapes["conv1"]),
            "conv2": (25 * (32 if c_in else 1), 64, shapes["conv2"]),
            "fc1": (flat, 1024, None),
            "fc2": (1024, 10, None),
        }
        counts = {}
        for name, (m, n, out) in rows.items():
            weights = m * n * (out[0] * out[1] if positions and out else 1)
            counts[name] = weights + (n if biases else 0)
        return counts

    return fn


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (_counts_with(biases=False), r"biases are missing"),
        (_counts_with(positions=True), r"shared by every position"),
        (_counts_with(c_in=False), r"per input channel"),
        (_counts_with(fixed_fc=True), r"3136 is the number for 28x28"),
        (
            lambda h, w: {k: float(v) for k, v in parameter_counts(h, w).items()},
            r"must be an int",
        ),
        (lambda h, w: {**parameter_counts(h, w), "fc2": 1024 * 10 + 1}, r"m \* n \+ n"),
        (lambda h, w: list(parameter_counts(h, w).values()), r"a dict with the keys"),
    ],
)
def test_parameter_counts_rejects(wrong, pattern):
    rejects(checks.parameter_counts, wrong, pattern)


# ---------------------------------------------------------------------- receptive_field


def _rf_own_stride(layers):
    r, jump = 1, 1
    for k, s in layers:
        jump *= s
        r += (k - 1) * jump
    return r


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (lambda layers: 1 + sum(k - 1 for k, _ in layers), r"strides are missing"),
        (_rf_own_stride, r"own stride"),
        (lambda layers: sum(k for k, _ in layers), r"windows overlap"),
        (lambda layers: int(np.prod([k for k, _ in layers])), r"do not multiply"),
        (lambda layers: receptive_field(layers) - 1, r"start from 1"),
        (lambda layers: float(receptive_field(layers)), r"must be an int"),
    ],
)
def test_receptive_field_rejects(wrong, pattern):
    rejects(checks.receptive_field, wrong, pattern)


# ---------------------------------------------------------------------- histogram_stats


def _stats_with(point="centre", weighted=True, sqrt=True, centred=True):
    def fn(h):
        x = {"centre": (h[:, 0] + h[:, 1]) / 2, "left": h[:, 0], "right": h[:, 1]}[
            point
        ]
        p = h[:, 2] / h[:, 2].sum() if weighted else np.full(len(x), 1 / len(x))
        mean = np.sum(p * x)
        var = np.sum(p * (x - mean) ** 2) if centred else np.sum(p * x**2)
        return mean, np.sqrt(var) if sqrt else var

    return fn


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (_stats_with(point="left"), r"left edges"),
        (_stats_with(point="right"), r"right edges"),
        (_stats_with(weighted=False), r"weight each centre by its count"),
        (_stats_with(sqrt=False), r"variance"),
        (_stats_with(centred=False), r"subtract the mean"),
        (lambda h: histogram_stats(h)[0], r"tuple of 2 values"),
        (lambda h: tuple(np.float32(v) for v in histogram_stats(h)), r"float32"),
    ],
)
def test_histogram_stats_rejects(wrong, pattern):
    rejects(checks.histogram_stats, wrong, pattern)


# --------------------------------------------------------------------------- train_step


def test_train_step_accepts_reference(capsys):
    checks.train_step(cnn.train_step)
    assert "✓ train_step" in capsys.readouterr().out


def test_train_step_accepts_a_tf_function_and_keras_loss(capsys):
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(model, optimizer, x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    checks.train_step(step)
    assert "✓ train_step" in capsys.readouterr().out


def make_step(
    training=True,
    reduce=tf.reduce_mean,
    softmax=False,
    apply=True,
    sign=1.0,
    loss_after=False,
    per_example=False,
):
    def step(model, optimizer, x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=training)
            if softmax:
                logits = tf.nn.softmax(logits)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y, logits=logits
            )
            loss = losses if per_example else reduce(losses)
        grads = tape.gradient(loss, model.trainable_variables)
        if apply:
            optimizer.apply_gradients(
                zip([sign * g for g in grads], model.trainable_variables, strict=True)
            )
        if loss_after:
            return tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=y, logits=model(x, training=True)
                )
            )
        return loss

    return step


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (make_step(apply=False), r"did not change.*apply_gradients"),
        (make_step(training=False), r"training=True"),
        (make_step(reduce=tf.reduce_sum), r"sum over the batch.*reduce_mean"),
        (make_step(softmax=True), r"applied softmax"),
        (make_step(sign=-1.0), r"moved up the gradient"),
        (make_step(loss_after=True), r"loss after the update"),
        (make_step(per_example=True), r"scalar loss"),
    ],
)
def test_train_step_rejects(wrong, pattern):
    rejects(checks.train_step, wrong, pattern)


def test_train_step_rejects_gradients_of_the_wrong_mode():
    # returns the right loss, but the update comes from the model without dropout
    def step(model, optimizer, x, y):
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y, logits=model(x, training=True)
            )
        )
        with tf.GradientTape() as tape:
            eval_loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=y, logits=model(x)
                )
            )
        optimizer.apply_gradients(
            zip(
                tape.gradient(eval_loss, model.trainable_variables),
                model.trainable_variables,
                strict=True,
            )
        )
        return loss

    rejects(checks.train_step, step, r"without dropout")


def test_train_step_rejects_its_own_optimizer():
    def step(model, optimizer, x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=y, logits=model(x, training=True)
                )
            )
        grads = tape.gradient(loss, model.trainable_variables)
        tf.keras.optimizers.Adam(1e-3).apply_gradients(
            zip(grads, model.trainable_variables, strict=True)
        )
        return loss

    rejects(checks.train_step, step, r"use the optimizer you were given")


def test_unfinished_exercise_passes_not_implemented_through():
    def todo(n, k, s, padding):
        raise NotImplementedError("Exercise 12.1: out_size")

    with pytest.raises(NotImplementedError, match="Exercise 12.1"):
        checks.out_size(todo)


# ----------------------------------------------------------- glorot_stddev (chapter 13)


def test_glorot_stddev_accepts_reference(capsys):
    checks.glorot_stddev(cnn.glorot_stddev)
    assert "✓ glorot_stddev" in capsys.readouterr().out


def _fans(shape):
    r = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * r, shape[-1] * r


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (lambda shape: np.sqrt(2.0 / (shape[-2] + shape[-1])), r"height \* width"),
        (lambda shape: 2.0 / sum(_fans(shape)), r"variance"),
        (lambda shape: np.sqrt(1.0 / sum(_fans(shape))), r"numerator is 2"),
        (lambda shape: np.sqrt(6.0 / sum(_fans(shape))), r"uniform"),
        (lambda shape: np.sqrt(2.0 / _fans(shape)[0]), r"He's"),
        (lambda shape: np.sqrt(1.0 / _fans(shape)[0]), r"LeCun"),
        (lambda shape: np.full(shape, 0.05), r"single number"),
        (
            lambda shape: np.float32(np.sqrt(2.0 / sum(_fans(shape)))),
            r"dtype float32.*float64",
        ),
        (lambda shape: None, r"returned None"),
    ],
)
def test_glorot_stddev_rejects(wrong, pattern):
    rejects(checks.glorot_stddev, wrong, pattern)
