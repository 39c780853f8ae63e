"""Unit tests for nnlib.mlp and nnlib.trainer: gradients, one SGD step by hand,
overfitting, momentum, Adam, label formats, bad inputs and divergence."""

import math

import numpy as np
import pytest

import nnlib
from nnlib import MLP, SGD, Adam, gradcheck_naive, one_hot

ACTS = ["sigmoid", "tanh", "relu"]
OUTPUTS = ["softmax", "linear"]


def tiny_problem(output, n=6, sizes=(3, 4, 5, 3), seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    if output == "softmax":
        y = rng.integers(0, sizes[-1], size=n)
    else:
        y = rng.normal(size=(n, sizes[-1]))
    return X, y


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("reg", [0.0, 0.3])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("act", ACTS)
def test_whole_network_passes_gradcheck(act, output, reg, capsys):
    net = MLP([3, 4, 5, 3], activation=act, output=output, reg_lambda=reg, seed=1)
    X, y = tiny_problem(output)
    assert gradcheck_naive(
        lambda v: net.loss_and_grad(v, X, y), net.get_params_vector(), verbose=False
    )


def test_gradcheck_catches_a_wrong_activation_derivative(monkeypatch):
    net = MLP([3, 4, 3], activation="tanh", seed=1)
    X, y = tiny_problem("softmax", sizes=(3, 4, 3))
    monkeypatch.setitem(
        nnlib.ACTIVATIONS, "tanh", (nnlib.tanh, np.ones_like)
    )  # planted mistake: forgets f'(z)
    assert not gradcheck_naive(
        lambda v: net.loss_and_grad(v, X, y), net.get_params_vector(), verbose=False
    )


def test_loss_and_grad_leaves_parameters_unchanged():
    net = MLP([3, 4, 3], seed=2)
    X, y = tiny_problem("softmax", sizes=(3, 4, 3))
    before = net.get_params_vector()
    net.loss_and_grad(before + 1.0, X, y)
    assert np.array_equal(net.get_params_vector(), before)


# -------------------------------------------------------------------- the training step


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reg", [0.0, 0.2])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("act", ACTS)
def test_fit_step_equals_the_checked_gradient(act, output, reg, dtype):
    """The fast path of fit takes exactly the step -lr * gradient of the layer path."""
    net = MLP(
        [3, 4, 5, 3], activation=act, output=output, reg_lambda=reg, seed=5, dtype=dtype
    )
    X, y = tiny_problem(output)
    loss, grad = net.loss_and_grad(net.get_params_vector(), X, y)
    before = net.get_params_vector()
    history = net.fit(X, y, epochs=1, learning_rate=0.3, shuffle=False)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert net.get_params_vector().dtype == dtype
    assert np.allclose(net.get_params_vector(), before - 0.3 * grad, rtol=0, atol=tol)
    assert history["loss"][0] == pytest.approx(loss, rel=10 * tol)


def test_single_sgd_step_by_hand():
    """A 2-2-2 ReLU/softmax network, two examples, every number computed here."""
    net = MLP([2, 2, 2], activation="relu", output="softmax", seed=0)
    W1 = np.array([[0.5, -0.3], [0.2, 0.8]])
    b1 = np.array([0.1, -0.2])
    W2 = np.array([[1.0, -1.0], [0.5, 0.25]])
    b2 = np.array([0.0, 0.3])
    net.set_params_vector(np.concatenate([W1.ravel(), b1, W2.ravel(), b2]))
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    y = np.array([1, 0])
    lr = 0.5

    # by hand, example by example, with plain Python loops
    gW1, gb1, gW2, gb2 = np.zeros((2, 2)), np.zeros(2), np.zeros((2, 2)), np.zeros(2)
    loss = 0.0
    for x, label in zip(X, y, strict=True):
        z1 = [sum(x[i] * W1[i, j] for i in range(2)) + b1[j] for j in range(2)]
        a1 = [max(0.0, v) for v in z1]
        z2 = [sum(a1[i] * W2[i, k] for i in range(2)) + b2[k] for k in range(2)]
        e = [math.exp(v) for v in z2]
        p = [v / sum(e) for v in e]
        loss += -math.log(p[label]) / 2
        dz2 = [
            (p[k] - (1.0 if k == label else 0.0)) / 2 for k in range(2)
        ]  # mean over 2 examples
        for i in range(2):
            for k in range(2):
                gW2[i, k] += a1[i] * dz2[k]
        gb2 += dz2
        dz1 = [
            sum(W2[j, k] * dz2[k] for k in range(2)) * (1.0 if z1[j] > 0 else 0.0)
            for j in range(2)
        ]
        for i in range(2):
            for j in range(2):
                gW1[i, j] += x[i] * dz1[j]
        gb1 += dz1

    history = net.fit(X, y, epochs=1, learning_rate=lr, shuffle=False)
    newW1, newb1, newW2, newb2 = net.parameters()
    assert history["loss"][0] == pytest.approx(loss, abs=1e-12)
    assert np.allclose(newW1, W1 - lr * gW1, atol=1e-12)
    assert np.allclose(newb1, b1 - lr * gb1, atol=1e-12)
    assert np.allclose(newW2, W2 - lr * gW2, atol=1e-12)
    assert np.allclose(newb2, b2 - lr * gb2, atol=1e-12)
    # the step changed every weight that had a non-zero gradient
    assert not np.allclose(newW2, W2)


def test_single_sgd_step_by_hand_regression_with_l2():
    """A 1-1-1 tanh network, linear output, half-MSE and L2 (reg_lambda/2 * sum W^2)."""
    lam, lr = 0.1, 0.2
    net = MLP([1, 1, 1], activation="tanh", output="linear", reg_lambda=lam, seed=0)
    w1, c1, w2, c2 = 0.7, -0.1, 1.5, 0.2
    net.set_params_vector([w1, c1, w2, c2])
    xs, ts = [0.5, -1.0, 2.0], [1.0, 0.0, -0.5]
    n = len(xs)
    g = dict(w1=0.0, c1=0.0, w2=0.0, c2=0.0)
    loss = 0.5 * lam * (w1**2 + w2**2)
    for x, t in zip(xs, ts, strict=True):
        h = math.tanh(w1 * x + c1)
        out = w2 * h + c2
        loss += 0.5 * (out - t) ** 2 / n
        e = (out - t) / n
        g["w2"] += e * h
        g["c2"] += e
        g["w1"] += e * w2 * (1 - h * h) * x
        g["c1"] += e * w2 * (1 - h * h)
    g["w1"] += lam * w1
    g["w2"] += lam * w2
    assert net.loss(np.array(xs)[:, None], np.array(ts)) == pytest.approx(
        loss, abs=1e-12
    )
    net.fit(
        np.array(xs)[:, None], np.array(ts), epochs=1, learning_rate=lr, shuffle=False
    )
    expected = [
        w1 - lr * g["w1"],
        c1 - lr * g["c1"],
        w2 - lr * g["w2"],
        c2 - lr * g["c2"],
    ]
    assert np.allclose(net.get_params_vector(), expected, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_momentum_follows_the_heavy_ball_recurrence(dtype):
    X, y = tiny_problem("softmax", n=8)
    net = MLP([3, 4, 5, 3], activation="tanh", seed=6, dtype=dtype)
    ref = MLP([3, 4, 5, 3], activation="tanh", seed=6, dtype=dtype)
    lr, mu = 0.4, 0.9
    net.fit(X, y, epochs=3, learning_rate=lr, momentum=mu, shuffle=False)
    theta = ref.get_params_vector().astype(np.float64)
    v = np.zeros_like(theta)
    for _ in range(3):
        _, g = ref.loss_and_grad(theta, X, y)
        v = mu * v - lr * g
        theta = theta + v
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert np.allclose(net.get_params_vector(), theta, atol=tol)
    plain = MLP([3, 4, 5, 3], activation="tanh", seed=6, dtype=dtype)
    plain.fit(X, y, epochs=3, learning_rate=lr, shuffle=False)
    assert not np.allclose(plain.get_params_vector(), theta, atol=1e-3)


def test_minibatches_cover_every_example_once_per_epoch():
    """shuffle=False, batch 3 of 8 examples: one epoch is rows 0-2, 3-5, then 6-7."""
    X, y = tiny_problem("softmax", n=8)
    net = MLP([3, 4, 5, 3], seed=7)
    ref = MLP([3, 4, 5, 3], seed=7)
    net.fit(X, y, epochs=1, learning_rate=0.1, batch_size=3, shuffle=False)
    theta = ref.get_params_vector()
    for rows in (slice(0, 3), slice(3, 6), slice(6, 8)):
        theta = theta - 0.1 * ref.loss_and_grad(theta, X[rows], y[rows])[1]
    assert np.allclose(net.get_params_vector(), theta, atol=1e-12)


def test_overfits_20_examples():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(20, 5))
    y = rng.integers(0, 3, size=20)
    net = MLP([5, 32, 3], activation="tanh", seed=0)
    history = net.fit(X, y, epochs=300, learning_rate=0.5, momentum=0.9)
    assert history["loss"][-1] < 0.01 < history["loss"][0]
    assert net.loss(X, y) < 0.01
    assert net.score(X, y) == 1.0


def test_regression_overfits_and_scores_r2():
    rng = np.random.default_rng(9)
    X = rng.uniform(-1, 1, size=(20, 2))
    t = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    net = MLP([2, 32, 1], activation="tanh", output="linear", seed=0)
    net.fit(X, t, epochs=2000, learning_rate=0.1, momentum=0.9)
    pred = net.predict(X)
    assert pred.shape == (20,)
    r2 = 1 - np.sum((t - pred) ** 2) / np.sum((t - t.mean()) ** 2)
    assert net.score(X, t) == pytest.approx(r2)
    assert r2 > 0.99


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adam_fits_the_moons(seed):
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=200, noise=0.1, random_state=0)
    net = MLP([2, 32, 32, 2], activation="tanh", seed=seed)
    history = net.fit(X, y, epochs=100, batch_size=20, optimizer=Adam(0.01))
    assert history["loss"][0] > 0.3  # from a poor start (about 0.42 here)
    assert net.loss(X, y) < 0.02  # about 0.001 here
    assert net.score(X, y) >= 0.99


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adam_with_its_defaults_memorises_mnist_like_data(seed):
    """128 random 28x28 'images' (uint8 pixels scaled to [0, 1]), random labels."""
    rng = np.random.default_rng(17)
    X = rng.integers(0, 256, size=(128, 784), dtype=np.uint8) / np.float32(255)
    y = rng.integers(0, 10, size=128)
    net = MLP([784, 64, 10], seed=seed, dtype=np.float32)
    history = net.fit(X, y, epochs=60, batch_size=16, optimizer=Adam())
    assert history["loss"][0] > 2.0  # about log(10) = 2.3 and above
    assert net.loss(X, y) < 0.15  # 0.03 to 0.04 here (seeds 0-7)
    assert net.score(X, y) == 1.0


def test_integer_and_one_hot_labels_give_identical_results():
    X, y = tiny_problem("softmax", n=10)
    a = MLP([3, 4, 5, 3], seed=3)
    b = MLP([3, 4, 5, 3], seed=3)
    ha = a.fit(X, y, epochs=4, learning_rate=0.2, batch_size=4, momentum=0.5)
    hb = b.fit(
        X, one_hot(y, 3), epochs=4, learning_rate=0.2, batch_size=4, momentum=0.5
    )
    assert np.array_equal(a.get_params_vector(), b.get_params_vector())
    assert ha == hb
    assert a.loss(X, y) == b.loss(X, one_hot(y, 3))
    assert a.score(X, y) == b.score(X, one_hot(y, 3))


def test_same_seed_same_training_and_validation_history():
    X, y = tiny_problem("softmax", n=12)
    Xv, yv = tiny_problem("softmax", n=5, seed=1)
    runs = []
    for _ in range(2):
        net = MLP([3, 4, 5, 3], seed=11)
        h = net.fit(
            X, y, epochs=3, learning_rate=0.1, batch_size=5, validation_data=(Xv, yv)
        )
        runs.append((net.get_params_vector(), h))
        assert len(h["loss"]) == len(h["val_loss"]) == 3
        assert h["val_loss"][-1] == pytest.approx(net.loss(Xv, yv))
        assert net.history_ is h
    assert np.array_equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]


def test_predict_proba_and_predict():
    X, y = tiny_problem("softmax", n=7)
    net = MLP([3, 4, 5, 3], seed=0)
    P = net.predict_proba(X)
    assert P.shape == (7, 3) and np.allclose(P.sum(axis=1), 1.0) and np.all(P >= 0)
    assert np.array_equal(net.predict(X), P.argmax(axis=1))
    reg = MLP([3, 4, 2], output="linear")
    assert reg.predict(X).shape == (7, 2)
    with pytest.raises(ValueError, match="only defined for output='softmax'"):
        reg.predict_proba(X)


def test_initialisation_scales():
    relu_net = MLP([400, 300, 10], activation="relu", seed=0)
    tanh_net = MLP([400, 300, 10], activation="tanh", seed=0)
    assert relu_net.parameters()[0].std() == pytest.approx(
        math.sqrt(2 / 400), rel=0.02
    )  # He
    assert tanh_net.parameters()[0].std() == pytest.approx(
        math.sqrt(2 / (400 + 300)), rel=0.02
    )  # Glorot
    assert np.all(relu_net.parameters()[1] == 0)
    assert np.array_equal(
        MLP([4, 3, 2], seed=5).get_params_vector(),
        MLP([4, 3, 2], seed=5).get_params_vector(),
    )
    assert not np.array_equal(
        MLP([4, 3, 2], seed=5).get_params_vector(),
        MLP([4, 3, 2], seed=6).get_params_vector(),
    )


def test_progress_bar_shows_the_loss(capsys):
    X, y = tiny_problem("softmax", n=10)
    net = MLP([3, 4, 5, 3], seed=0)
    history = net.fit(X, y, epochs=2, learning_rate=0.1, batch_size=5, progress=True)
    err = capsys.readouterr().err
    assert "loss=" in err and len(history["loss"]) == 2


# ------------------------------------------------------------------------------ dropout


def test_gradient_with_dropout_passes_gradcheck_for_a_fixed_mask():
    """The same seed for dropout_rng at every evaluation: the same masks."""
    net = MLP([3, 4, 5, 3], activation="tanh", reg_lambda=0.1, seed=1, dropout=0.4)
    X, y = tiny_problem("softmax")

    def loss_and_grad(v):
        net.set_params_vector(v)
        loss, grads = net.compute_gradients(X, y, dropout_rng=np.random.default_rng(3))
        return loss, np.concatenate([g.ravel() for g in grads])

    theta = net.get_params_vector()
    assert gradcheck_naive(loss_and_grad, theta, verbose=False)
    _, without = net.loss_and_grad(theta, X, y)  # no dropout: another gradient
    assert not np.allclose(loss_and_grad(theta)[1], without, rtol=0, atol=1e-3)


def test_dropout_only_in_training_the_whole_network_predicts():
    X, y = tiny_problem("softmax", n=8)
    net = MLP([3, 8, 3], seed=2, dropout=0.5)
    history = net.fit(X, y, epochs=3, learning_rate=0.1, validation_data=(X, y))
    same = MLP([3, 8, 3], seed=2)
    same.set_params_vector(net.get_params_vector())
    assert net.loss(X, y) == same.loss(X, y) == history["val_loss"][-1]
    assert net.loss(X, y) == net.loss(X, y)  # no random masks outside fit
    assert np.array_equal(net.predict_proba(X), same.predict_proba(X))
    assert net.score(X, y) == same.score(X, y)
    assert net.compute_gradients(X, y)[0] == same.compute_gradients(X, y)[0]
    assert repr(net).endswith("reg_lambda=0, dropout=0.5, dtype=float64)")
    assert "dropout" not in repr(same)
    assert "dropout=[0.5, 0.0]" in repr(MLP([3, 8, 8, 3], dropout=[0.5, 0.0]))


def test_adam_with_dropout_still_fits_the_moons():
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=200, noise=0.1, random_state=0)
    net = MLP([2, 64, 64, 2], activation="relu", seed=0, dropout=0.2)
    history = net.fit(X, y, epochs=100, batch_size=20, optimizer=Adam(0.01))
    assert history["loss"][-1] < 0.2 < history["loss"][0]
    assert net.score(X, y) >= 0.97


@pytest.mark.parametrize(
    "sizes, dropout, exc, match",
    [
        ([3, 4, 3], 1.0, ValueError, r"dropout, the probability .* in \[0, 1\)"),
        ([3, 4, 3], -0.1, ValueError, r"dropout >= 0"),
        ([3, 4, 3], "0.5", TypeError, r"dropout to be a number"),
        ([3, 4, 4, 3], [0.5], ValueError, r"one per hidden layer \(2 for this"),
        ([3, 4, 4, 3], [0.5, 1.5], ValueError, r"dropout\[1\], the probability"),
        ([3, 3], 0.5, ValueError, r"3-3 has no hidden layer"),
    ],
)
def test_constructor_rejects_bad_dropout(sizes, dropout, exc, match):
    with pytest.raises(exc, match=match):
        MLP(sizes, dropout=dropout)


def test_compute_gradients_rejects_a_seed_for_dropout_rng():
    X, y = tiny_problem("softmax", sizes=(3, 4, 3))
    with pytest.raises(TypeError, match=r"dropout_rng to be a numpy.random.Generator"):
        MLP([3, 4, 3], dropout=0.5).compute_gradients(X, y, dropout_rng=3)


# --------------------------------------------------------------------------- divergence


def test_divergence_stops_with_a_clear_error_and_restores_parameters():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 3)) * 100
    t = rng.normal(size=16) * 1e3
    net = MLP([3, 8, 1], output="linear", seed=0)
    before = net.get_params_vector()
    with pytest.raises(FloatingPointError, match=r"smaller learning rate"):
        net.fit(X, t, epochs=50, learning_rate=10.0)
    assert np.array_equal(net.get_params_vector(), before)


def test_divergence_of_a_classifier_gives_no_numpy_warning():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(16, 3)) * 1e3
    y = rng.integers(0, 2, size=16)
    net = MLP([3, 8, 2], activation="relu", seed=0, dtype=np.float32)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="diverged"):
            net.fit(X, y, epochs=200, learning_rate=1e6, momentum=0.9)


def test_divergence_with_adam_names_the_optimizer_and_restores_parameters():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 3)) * 100
    t = rng.normal(size=16) * 1e3
    net = MLP([3, 8, 8, 1], output="linear", seed=0)
    before = net.get_params_vector()
    with pytest.raises(FloatingPointError, match=r"diverged with Adam\(learning_rate="):
        net.fit(X, t, epochs=50, optimizer=Adam(1e120))
    assert np.array_equal(net.get_params_vector(), before)


# --------------------------------------------------------------------------- bad inputs

X_OK, Y_OK = tiny_problem("softmax", n=6)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(layer_sizes=[3]), ValueError, "at least two layer sizes"),
        (dict(layer_sizes="3-4-3"), TypeError, "list of integers"),
        (dict(layer_sizes=[3, 0, 3]), ValueError, r"layer_sizes\[1\] >= 1"),
        (dict(layer_sizes=[3, 2.5, 3]), TypeError, "layer_sizes.* integer"),
        (dict(layer_sizes=[3, 4, 1]), ValueError, "at least 2 classes"),
        (
            dict(layer_sizes=[3, 4, 3], activation="softplus"),
            ValueError,
            "activation to be one of",
        ),
        (
            dict(layer_sizes=[3, 4, 3], output="sigmoid"),
            ValueError,
            "output to be one of",
        ),
        (dict(layer_sizes=[3, 4, 3], reg_lambda=-1), ValueError, "reg_lambda >= 0"),
        (
            dict(layer_sizes=[3, 4, 3], dtype=np.int32),
            TypeError,
            "float32 or numpy.float64",
        ),
        (dict(layer_sizes=[3, 4, 3], seed="zero"), TypeError, "seed"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        MLP(**kwargs)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (X_OK[:, :2], Y_OK, r"X of shape \(N, 3\).*got shape \(6, 2\)"),
        (X_OK[0], Y_OK, "2-D array"),
        (np.where(np.eye(6, 3) > 0, np.nan, X_OK), Y_OK, "finite values in X"),
        (X_OK, Y_OK[:5], r"one label per example \(6\), got 5"),
        (X_OK, Y_OK.astype(float), "integer class ids.*float64.*astype"),
        (X_OK, Y_OK + 5, r"class ids in 0..2.*got [5-7]"),
        (X_OK, -Y_OK - 1, r"class ids in 0..2"),
        (X_OK, one_hot(Y_OK, 3) * 2, "only 0s and 1s"),
        (X_OK, np.ones((6, 3)), "exactly one 1 per row"),
        (
            X_OK,
            one_hot(Y_OK, 4),
            r"one-hot labels of shape \(6, 3\).*got shape \(6, 4\)",
        ),
        (X_OK, np.array(["a"] * 6), "labels|integer class ids"),
        (X_OK, Y_OK[:, None, None], r"got shape \(6, 1, 1\)"),
    ],
)
def test_fit_rejects_bad_data(X, y, match):
    net = MLP([3, 4, 3])
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, epochs=1, learning_rate=0.1)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(epochs=0, learning_rate=0.1), ValueError, "epochs >= 1"),
        (dict(epochs=2.0, learning_rate=0.1), TypeError, "epochs to be an integer"),
        (dict(epochs=1, learning_rate=0.0), ValueError, "learning_rate > 0"),
        (
            dict(epochs=1, learning_rate=float("nan")),
            ValueError,
            "learning_rate to be finite",
        ),
        (
            dict(epochs=1, learning_rate="0.1"),
            TypeError,
            "learning_rate to be a number",
        ),
        (
            dict(epochs=1, learning_rate=0.1, batch_size=0),
            ValueError,
            "batch_size >= 1",
        ),
        (
            dict(epochs=1, learning_rate=0.1, momentum=1.0),
            ValueError,
            r"momentum in \[0, 1\)",
        ),
        (dict(epochs=1, learning_rate=0.1, momentum=-0.5), ValueError, "momentum >= 0"),
        (
            dict(epochs=1, learning_rate=0.1, progress="yes"),
            TypeError,
            "progress to be True or False",
        ),
        (
            dict(epochs=1, learning_rate=0.1, validation_data=X_OK),
            TypeError,
            r"validation_data to be a tuple",
        ),
        (
            dict(epochs=1, learning_rate=0.1, validation_data=(X_OK, Y_OK[:2])),
            ValueError,
            "y_val",
        ),
    ],
)
def test_fit_rejects_bad_hyper_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        MLP([3, 4, 3]).fit(X_OK, Y_OK, **kwargs)


class _MyAdam(Adam):
    """A subclass: its own update rule would be ignored by the fast path."""


def _changed(optimizer, **attributes):
    for name, value in attributes.items():
        setattr(optimizer, name, value)
    return optimizer


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(), TypeError, r"a learning_rate .* or an optimizer .* got neither"),
        (
            dict(optimizer="adam"),
            TypeError,
            r"optimizer to be an nnlib.SGD or nnlib.Adam instance, got str 'adam'",
        ),
        (dict(optimizer=Adam), TypeError, r"the class itself: create one, e.g. Adam"),
        (dict(optimizer=_MyAdam()), TypeError, r"got _MyAdam .*a subclass"),
        (
            dict(optimizer=Adam(0.01), learning_rate=0.1),
            ValueError,
            r"both optimizer=Adam\(learning_rate=0.01.* and learning_rate=0.1",
        ),
        (  # even the same rate: the rule is "leave it at None"
            dict(optimizer=SGD(0.1), learning_rate=0.1),
            ValueError,
            r"both optimizer=SGD\(learning_rate=0.1, .* and learning_rate=0.1",
        ),
        (
            dict(optimizer=SGD(0.1, momentum=0.9), momentum=0.9),
            ValueError,
            r"both optimizer=SGD\(.*momentum=0.9\) and momentum=0.9.*SGD\(learning",
        ),
        (
            dict(optimizer=Adam(), momentum=0.5),
            ValueError,
            r"both optimizer=Adam\(.* and momentum=0.5.*beta1",
        ),
        (  # attributes changed after the constructor checked them
            dict(optimizer=_changed(Adam(), beta2=1.0)),
            ValueError,
            r"optimizer.beta2 in \[0, 1\)",
        ),
        (
            dict(optimizer=_changed(SGD(0.1), learning_rate=-1.0)),
            ValueError,
            r"optimizer.learning_rate > 0",
        ),
    ],
)
def test_fit_rejects_a_bad_optimizer_or_conflicting_settings(kwargs, exc, match):
    net = MLP([3, 4, 3])
    before = net.get_params_vector()
    with pytest.raises(exc, match=match):
        net.fit(X_OK, Y_OK, epochs=1, **kwargs)
    assert np.array_equal(net.get_params_vector(), before)


def test_other_methods_validate_their_inputs():
    net = MLP([3, 4, 3])
    reg = MLP([3, 4, 2], output="linear")
    with pytest.raises(ValueError, match=r"MLP.predict expects X of shape \(N, 3\)"):
        net.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="MLP.score expects y"):
        net.score(X_OK, Y_OK.astype(float))
    with pytest.raises(ValueError, match="MLP.loss expects"):
        net.loss(X_OK, Y_OK[:3])
    with pytest.raises(ValueError, match=r"regression targets y of shape \(6, 2\)"):
        reg.fit(X_OK, np.zeros(6), epochs=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"vector of 31 parameters.*got length 30"):
        net.set_params_vector(np.zeros(30))
    with pytest.raises(ValueError, match="finite values in vector"):
        net.loss_and_grad(np.full(31, np.inf), X_OK, Y_OK)
    with pytest.raises(RuntimeError, match="call compute_gradients"):
        net.gradients()
    loss, grads = net.compute_gradients(X_OK, Y_OK)
    assert (
        [g.shape for g in grads]
        == [p.shape for p in net.parameters()]
        == [(3, 4), (4,), (4, 3), (3,)]
    )


def test_uint8_inputs_and_float32_stay_float32():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(10, 4), dtype=np.uint8)
    y = rng.integers(0, 3, size=10)
    net = MLP([4, 6, 3], dtype=np.float32)
    net.fit(X / np.float32(255), y, epochs=2, learning_rate=0.1, batch_size=4)
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.predict_proba(X).dtype == np.float32


# ------------------------------------------------------------------------- BLAS threads


def blas_thread_counts():
    from threadpoolctl import threadpool_info

    return [
        info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"
    ]


def test_blas_threads_are_limited_during_fit_and_restored(monkeypatch):
    from nnlib import trainer

    seen = []
    step = trainer._Step.__call__

    def spy(self, xb, yb):
        seen.append(blas_thread_counts())
        return step(self, xb, yb)

    monkeypatch.setattr(trainer._Step, "__call__", spy)
    before = blas_thread_counts()
    X, y = tiny_problem("softmax", n=8)
    net = MLP([3, 4, 5, 3], seed=0)
    net.fit(X, y, epochs=2, learning_rate=0.1, batch_size=4, blas_threads=1)
    assert len(seen) == 4 and all(counts and set(counts) == {1} for counts in seen)
    assert blas_thread_counts() == before
    seen.clear()
    net.fit(
        X, y, epochs=1, learning_rate=0.1, batch_size=4
    )  # the default leaves BLAS as configured
    assert seen == [before, before]


@pytest.mark.parametrize(
    "value, exc, match",
    [
        ("auto", TypeError, "blas_threads to be an integer"),
        (0, ValueError, "blas_threads >= 1"),
        (1.5, TypeError, "blas_threads to be an integer"),
    ],
)
def test_bad_blas_threads(value, exc, match):
    with pytest.raises(exc, match=match):
        MLP([3, 4, 3]).fit(X_OK, Y_OK, epochs=1, learning_rate=0.1, blas_threads=value)
