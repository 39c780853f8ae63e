"""Unit tests for nnlib.trainer, the in-place training loop behind MLP.fit.

Its activations against nnlib.activations, and its steps against MLP's own gradients in
the cases test_mlp does not cover (no hidden layer, shuffled mini-batches with momentum,
parameters written back every epoch); its SGD, momentum and Adam steps against the
readable path, ``compute_gradients`` then ``optimizer.step``, with and without dropout.
"""

import copy

import numpy as np
import pytest

import nnlib
from nnlib import MLP, SGD, Adam
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


# ------------------------------------------------- fit(optimizer=...) = optimizer.step


OPTIMIZERS = {
    "sgd": lambda: SGD(0.1),
    "momentum": lambda: SGD(0.1, momentum=0.9),
    "adam": lambda: Adam(0.01),
}


def readable_path(net, X, y, optimizer, batches):
    """compute_gradients on each mini-batch, then optimizer.step: the chapters' way."""
    for rows in batches:
        net.compute_gradients(X[rows], y[rows])
        optimizer.step(net.parameters(), net.gradients())
    return net.get_params_vector()


@pytest.mark.parametrize("kind", list(OPTIMIZERS))
@pytest.mark.parametrize(
    "act, output", [("tanh", "softmax"), ("relu", "linear"), ("sigmoid", "softmax")]
)
def test_fast_path_takes_the_steps_of_optimizer_step(kind, act, output):
    """Shuffled mini-batches (a short last one), L2, three epochs, float64."""
    rng = np.random.default_rng(12)
    X = rng.normal(size=(11, 3))
    y = rng.integers(0, 3, size=11) if output == "softmax" else rng.normal(size=(11, 3))

    def make():
        return MLP([3, 6, 5, 3], activation=act, output=output, reg_lambda=0.05, seed=7)

    net, ref = make(), make()
    start = ref.get_params_vector()
    net.fit(X, y, epochs=3, batch_size=4, optimizer=OPTIMIZERS[kind]())
    batches = []
    for _ in range(3):  # the order fit draws from the network's generator
        order = ref._rng.permutation(11)
        batches += [order[0:4], order[4:8], order[8:11]]
    expected = readable_path(ref, X, y, OPTIMIZERS[kind](), batches)
    assert np.linalg.norm(expected - start) > 0.05  # the steps moved the parameters
    assert np.allclose(net.get_params_vector(), expected, rtol=0, atol=1e-12)
    # and the three rules are different rules: no other one gives these parameters
    for other in set(OPTIMIZERS) - {kind}:
        alt = make()
        alt.fit(X, y, epochs=3, batch_size=4, optimizer=OPTIMIZERS[other]())
        assert not np.allclose(alt.get_params_vector(), expected, rtol=0, atol=1e-4)


def test_fast_path_matches_optimizer_step_in_float32():
    X, y = np.random.default_rng(13).normal(size=(8, 3)), np.arange(8) % 3
    net = MLP([3, 5, 3], activation="tanh", seed=1, dtype=np.float32)
    ref = MLP([3, 5, 3], activation="tanh", seed=1, dtype=np.float32)
    net.fit(X, y, epochs=4, batch_size=3, shuffle=False, optimizer=Adam(0.01))
    batches = [np.arange(0, 3), np.arange(3, 6), np.arange(6, 8)] * 4
    expected = readable_path(ref, X.astype(np.float32), y, Adam(0.01), batches)
    assert net.get_params_vector().dtype == expected.dtype == np.float32
    assert np.allclose(net.get_params_vector(), expected, rtol=0, atol=1e-6)


def test_first_adam_step_is_lr_times_the_sign_of_the_gradient():
    """At t = 1 the bias correction makes m_hat = g and v_hat = g^2 (Algorithm 1 of
    Kingma & Ba): the step is -lr * g / (|g| + eps), whatever the scale of g."""
    X, y = np.random.default_rng(14).normal(size=(6, 3)) * 50, np.arange(6) % 2
    net = MLP([3, 4, 2], activation="tanh", reg_lambda=0.1, seed=2)
    theta = net.get_params_vector()
    _, g = net.loss_and_grad(theta, X, y)
    lr, eps = 0.02, 1e-3
    net.fit(X, y, epochs=1, shuffle=False, optimizer=Adam(lr, eps=eps))
    assert np.allclose(
        net.get_params_vector(), theta - lr * g / (np.abs(g) + eps), rtol=0, atol=1e-12
    )


def test_sgd_instance_gives_exactly_learning_rate_and_momentum():
    X, y = np.random.default_rng(15).normal(size=(9, 3)), np.arange(9) % 3
    runs = []
    for kwargs in (
        dict(learning_rate=0.2, momentum=0.7),
        dict(optimizer=SGD(0.2, momentum=0.7)),
    ):
        net = MLP([3, 5, 3], seed=3)
        history = net.fit(X, y, epochs=3, batch_size=4, **kwargs)
        runs.append((net.get_params_vector(), history))
    assert np.array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


def test_fit_leaves_the_optimizer_alone_and_restarts_its_state_every_call():
    X, y = np.random.default_rng(16).normal(size=(9, 3)), np.arange(9) % 3
    adam = Adam(0.05)
    used = Adam(0.05)  # an instance with state of its own: t = 2, moments set
    for _ in range(2):
        used.step([np.ones(3)], [np.full(3, 0.5)])
    before = copy.deepcopy(vars(adam)), copy.deepcopy(vars(used))
    once, twice = MLP([3, 5, 3], seed=4), MLP([3, 5, 3], seed=4)
    once.fit(X, y, epochs=2, batch_size=5, shuffle=False, optimizer=adam)
    twice.fit(X, y, epochs=1, batch_size=5, shuffle=False, optimizer=used)
    twice.fit(X, y, epochs=1, batch_size=5, shuffle=False, optimizer=adam)
    for instance, saved in zip((adam, used), before, strict=True):
        assert vars(instance).keys() == saved.keys()
        for key, value in saved.items():
            assert np.array_equal(vars(instance)[key], value), key
    # a new call starts at t = 1 with zero moments, even from a used instance
    batches = [np.arange(0, 5), np.arange(5, 9)]
    ref = MLP([3, 5, 3], seed=4)
    readable_path(ref, X, y, Adam(0.05), batches)
    expected = readable_path(ref, X, y, Adam(0.05), batches)
    assert np.allclose(twice.get_params_vector(), expected, rtol=0, atol=1e-12)
    # which is not what one call of two epochs does (the state carries on there)
    assert not np.allclose(once.get_params_vector(), expected, rtol=0, atol=1e-4)


# ----------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("kind", ["momentum", "adam"])
@pytest.mark.parametrize(
    "act, dropout", [("relu", 0.3), ("tanh", [0.5, 0.0]), ("identity", [0.2, 0.6])]
)
def test_dropout_in_the_fast_path_is_dropout_forward_and_backward(act, dropout, kind):
    """fit draws, after each epoch's order, one mask per hidden layer and mini-batch
    from the network's generator, as compute_gradients(dropout_rng=...) does."""
    rng = np.random.default_rng(18)
    X, y = rng.normal(size=(11, 3)), rng.integers(0, 3, size=11)

    def make(p):
        return MLP([3, 6, 5, 3], activation=act, reg_lambda=0.05, seed=7, dropout=p)

    net, ref, whole = make(dropout), make(dropout), make(0.0)
    net.fit(X, y, epochs=3, batch_size=4, optimizer=OPTIMIZERS[kind]())
    whole.fit(X, y, epochs=3, batch_size=4, optimizer=OPTIMIZERS[kind]())
    optimizer = OPTIMIZERS[kind]()
    for _ in range(3):
        order = ref._rng.permutation(11)
        for rows in (order[0:4], order[4:8], order[8:11]):
            ref.compute_gradients(X[rows], y[rows], dropout_rng=ref._rng)
            optimizer.step(ref.parameters(), ref.gradients())
    expected = ref.get_params_vector()
    assert np.allclose(net.get_params_vector(), expected, rtol=0, atol=1e-12)
    assert not np.allclose(whole.get_params_vector(), expected, rtol=0, atol=1e-3)


def test_dropout_zero_changes_nothing_and_draws_nothing():
    X, y = np.random.default_rng(19).normal(size=(9, 3)), np.arange(9) % 3
    a, b = MLP([3, 5, 4, 3], seed=5), MLP([3, 5, 4, 3], seed=5, dropout=[0.0, 0.0])
    ha = a.fit(X, y, epochs=2, batch_size=4, learning_rate=0.1, momentum=0.9)
    hb = b.fit(X, y, epochs=2, batch_size=4, learning_rate=0.1, momentum=0.9)
    assert np.array_equal(a.get_params_vector(), b.get_params_vector()) and ha == hb
    assert a._rng.random() == b._rng.random()  # the generators are where they were
    c = MLP([3, 5, 4, 3], seed=5, dropout=[0.0, 0.5])
    c.fit(X, y, epochs=2, batch_size=4, learning_rate=0.1, momentum=0.9)
    assert not np.array_equal(a.get_params_vector(), c.get_params_vector())
