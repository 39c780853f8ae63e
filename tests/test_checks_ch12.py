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


# ---------------------------------------------------------------------- weight_variable


def test_weight_variable_accepts_reference(capsys):
    checks.weight_variable(cnn.weight_variable)
    assert "✓ weight_variable" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (
            lambda shape: tf.Variable(tf.random.normal(shape, stddev=0.1)),
            r"plain normal.*truncated_normal",
        ),
        (
            lambda shape: tf.Variable(tf.random.truncated_normal(shape, stddev=1.0)),
            r"stddev=0\.1",
        ),
        (
            lambda shape: tf.Variable(tf.random.truncated_normal(shape, stddev=0.01)),
            r"look like stddev 0\.01",
        ),
        (lambda shape: tf.random.truncated_normal(shape, stddev=0.1), r"tf\.Variable"),
        (
            lambda shape: tf.Variable(tf.random.uniform(shape, -0.1524, 0.1524)),
            r"uniform",
        ),
        (lambda shape: tf.Variable(tf.fill(shape, 0.1)), r"must start random"),
        (
            lambda shape: tf.Variable(
                np.random.default_rng(0).normal(0, 0.1, shape).clip(-0.2, 0.2)
            ),
            r"float32",
        ),
        (
            lambda shape: tf.Variable(
                tf.random.truncated_normal(shape[::-1], stddev=0.1)
            ),
            r"shape",
        ),
        (
            lambda shape: tf.Variable(
                tf.random.truncated_normal(shape, stddev=0.1), trainable=False
            ),
            r"not trainable",
        ),
        (lambda shape: None, r"returned None"),
    ],
)
def test_weight_variable_rejects(wrong, pattern):
    rejects(checks.weight_variable, wrong, pattern)


# ------------------------------------------------------------------------ bias_variable


def test_bias_variable_accepts_reference(capsys):
    checks.bias_variable(cnn.bias_variable)
    assert "✓ bias_variable" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (lambda shape: tf.Variable(tf.zeros(shape)), r"biases are 0"),
        (
            lambda shape: tf.Variable(tf.random.truncated_normal(shape, stddev=0.1)),
            r"not random values",
        ),
        (lambda shape: tf.Variable(tf.ones(shape)), r"constant 0\.1"),
        (lambda shape: tf.constant(0.1, shape=shape), r"tf\.Variable"),
        (lambda shape: tf.Variable(tf.constant(0.1, shape=[1])), r"shape"),
    ],
)
def test_bias_variable_rejects(wrong, pattern):
    rejects(checks.bias_variable, wrong, pattern)


# --------------------------------------------------------------------------- conv2d


def test_conv2d_accepts_reference(capsys):
    checks.conv2d(cnn.conv2d)
    assert "✓ conv2d" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (
            lambda x, W: tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="VALID"),
            r"VALID.*SAME",
        ),
        (
            lambda x, W: tf.nn.conv2d(x, W, strides=[1, 2, 2, 1], padding="SAME"),
            r"strides=\[1, 1, 1, 1\]",
        ),
        (
            lambda x, W: tf.nn.conv2d(x, W[::-1, ::-1], strides=1, padding="SAME"),
            r"flipped the filter",
        ),
        (
            lambda x, W: tf.nn.conv2d(x, W, strides=1, padding="SAME") + 1.0,
            r"tf\.nn\.conv2d\(x, W",
        ),
        (
            lambda x, W: tf.constant(
                tf.nn.conv2d(x, W, strides=1, padding="SAME").numpy()
            ),
            r"no gradient reaches W",
        ),
        (lambda x, W: None, r"returned None"),
    ],
)
def test_conv2d_rejects(wrong, pattern):
    rejects(checks.conv2d, wrong, pattern)


# ------------------------------------------------------------------------- max_pool_2x2


def test_max_pool_accepts_reference(capsys):
    checks.max_pool_2x2(cnn.max_pool_2x2)
    assert "✓ max_pool_2x2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (
            lambda x: tf.nn.max_pool2d(x, ksize=1, strides=2, padding="SAME"),
            r"window is 1x1",
        ),
        (
            lambda x: tf.nn.max_pool2d(x, ksize=2, strides=1, padding="SAME"),
            r"strides=\[1, 2, 2, 1\]",
        ),
        (
            lambda x: tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID"),
            r"odd size.*VALID",
        ),
        (
            lambda x: tf.nn.avg_pool2d(x, ksize=2, strides=2, padding="SAME"),
            r"averaged",
        ),
        (lambda x: tf.nn.max_pool2d(x, ksize=3, strides=2, padding="SAME"), r"3x3"),
        (lambda x: tf.nn.max_pool2d(x, ksize=4, strides=4, padding="SAME"), r"halve"),
    ],
)
def test_max_pool_rejects(wrong, pattern):
    rejects(checks.max_pool_2x2, wrong, pattern)


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
    def todo(shape):
        raise NotImplementedError("Exercise 9.1: weight_variable")

    with pytest.raises(NotImplementedError, match="Exercise 9.1"):
        checks.weight_variable(todo)


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
