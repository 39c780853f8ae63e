"""Unit tests for nnlib.trainer, the in-place training loop behind MLP.fit.

Its activations against nnlib.activations, and its steps against MLP's own gradients in
the cases test_mlp does not cover (no hidden layer, shuffled mini-batches with momentum,
parameters written back every epoch).
"""

import numpy as np
import pytest

import nnlib
from nnlib import MLP
from nnlib.trainer import _ACTIVATIONS_


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_in_place_activations_match_nnlib_activations(name, dtype):
    rng = np.random.default_rng(0)
    z = np.concatenate(
        [rng.normal(size=(4, 5)) * 3, [[-40.0, -1e-3, 0.0, 1e-3, 40.0]]]
    ).astype(dtype)
    f, f_grad = nnlib.ACTIVATIONS[name]
    a_ref = f(z.astype(np.float64))
    a, t = z.copy(), np.empty_like(z)
    _ACTIVATIONS_[name](a, t)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    assert np.allclose(a, a_ref, rtol=0, atol=tol)
    assert np.allclose(
        t, f_grad(a_ref), rtol=0, atol=tol
    )  # the derivative, from the output


def steps_by_hand(ref, X, y, lr, mu, batches):
    """Heavy-ball SGD through MLP.loss_and_grad, one mini-batch (row ids) at a time."""
    theta = ref.get_params_vector()
    v = np.zeros_like(theta)
    for rows in batches:
        v = mu * v - lr * ref.loss_and_grad(theta, X[rows], y[rows])[1]
        theta = theta + v
    return theta


@pytest.mark.parametrize("output", ["softmax", "linear"])
def test_a_network_without_hidden_layers(output):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 3))
    y = rng.integers(0, 3, size=7) if output == "softmax" else rng.normal(size=(7, 3))
    net, ref = MLP([3, 3], output=output, seed=2), MLP([3, 3], output=output, seed=2)
    net.fit(
        X, y, epochs=2, learning_rate=0.2, batch_size=3, momentum=0.5, shuffle=False
    )
    batches = [np.arange(0, 3), np.arange(3, 6), np.arange(6, 7)] * 2
    assert np.allclose(
        net.get_params_vector(),
        steps_by_hand(ref, X, y, 0.2, 0.5, batches),
        rtol=0,
        atol=1e-12,
    )


def test_shuffled_mini_batches_with_momentum_follow_the_networks_generator():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(10, 4))
    y = rng.integers(0, 3, size=10)
    net, ref = (
        MLP([4, 6, 3], activation="tanh", seed=4),
        MLP([4, 6, 3], activation="tanh", seed=4),
    )
    net.fit(X, y, epochs=2, learning_rate=0.1, batch_size=4, momentum=0.9)
    batches = []
    for _ in range(
        2
    ):  # the order fit draws from the network's generator, after the initial weights
        order = ref._rng.permutation(10)
        batches += [order[0:4], order[4:8], order[8:10]]
    assert np.allclose(
        net.get_params_vector(),
        steps_by_hand(ref, X, y, 0.1, 0.9, batches),
        rtol=0,
        atol=1e-12,
    )


def test_parameters_written_back_every_epoch_velocity_restarts_every_call():
    rng = np.random.default_rng(5)
    X, Xv = rng.normal(size=(9, 3)), rng.normal(size=(4, 3))
    y, yv = rng.integers(0, 2, size=9), rng.integers(0, 2, size=4)
    two = MLP([3, 5, 2], seed=6)
    history = two.fit(
        X,
        y,
        epochs=2,
        learning_rate=0.3,
        batch_size=4,
        momentum=0.8,
        shuffle=False,
        validation_data=(Xv, yv),
    )
    one = MLP([3, 5, 2], seed=6)
    one.fit(
        X, y, epochs=1, learning_rate=0.3, batch_size=4, momentum=0.8, shuffle=False
    )
    assert history["val_loss"][0] == one.loss(
        Xv, yv
    )  # evaluated with the parameters after epoch 1
    assert history["val_loss"][1] == two.loss(Xv, yv)
    one.fit(
        X, y, epochs=1, learning_rate=0.3, batch_size=4, momentum=0.8, shuffle=False
    )
    assert not np.allclose(
        one.get_params_vector(), two.get_params_vector(), rtol=0, atol=1e-6
    )
    batches = [np.arange(0, 4), np.arange(4, 8), np.arange(8, 9)]
    theta = steps_by_hand(MLP([3, 5, 2], seed=6), X, y, 0.3, 0.8, batches)
    restarted = MLP([3, 5, 2], seed=6)
    restarted.set_params_vector(theta)
    assert np.allclose(
        one.get_params_vector(),
        steps_by_hand(restarted, X, y, 0.3, 0.8, batches),
        rtol=0,
        atol=1e-12,
    )
