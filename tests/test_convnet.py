"""nnlib.convnet.ConvNet: gradients, a short training run, input checks, and the
network's code pinned to chapter 11's ``loss_and_gradients``."""

import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

import nnlib.conv as reference_conv
from nnlib import SGD, Adam, softmax_cross_entropy
from nnlib.convnet import ConvNet
from nnlib.gradcheck import numerical_gradient

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_11 = Path(
    os.environ.get("NNLIB_CHAPTER_11", ROOT / "book" / "11_convolution.ipynb")
)


def tiny_net(seed=0, dtype=np.float64):
    return ConvNet(
        input_shape=(8, 8, 1),
        filters=(2, 3),
        kernel_size=3,
        num_classes=4,
        seed=seed,
        dtype=dtype,
    )


def test_shapes_and_parameter_count():
    net = ConvNet(seed=0)
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(5, 5, 1, 8), (8,), (5, 5, 8, 16), (16,), (784, 10), (10,)]
    assert net.n_params == 208 + 3216 + 7850
    assert all(p.dtype == np.float32 for p in net.parameters())
    X = np.random.default_rng(0).random((3, 28, 28, 1))
    assert net.scores(X).shape == (3, 10)
    assert net.predict(X).shape == (3,)


def test_gradients_match_numerical_gradients():
    net = tiny_net(seed=1)
    rng = np.random.default_rng(1)
    for p in net.parameters():
        p += 0.1 * rng.standard_normal(p.shape)  # biases away from 0
    X, y = rng.standard_normal((3, 8, 8, 1)), np.array([0, 3, 1])
    loss, grads = net.loss_and_gradients(X, y)
    assert loss == pytest.approx(net.loss(X, y), rel=1e-12)
    for p, g in zip(net.parameters(), grads, strict=True):
        assert g.shape == p.shape

        def f(v, p=p):
            saved = p.copy()
            p[...] = v
            value = net.loss(X, y)
            p[...] = saved
            return value

        np.testing.assert_allclose(
            g, numerical_gradient(f, p.copy()), rtol=1e-5, atol=1e-8
        )


def test_scores_in_chunks_equal_one_batch():
    net = tiny_net(seed=2)
    X = np.random.default_rng(2).standard_normal((7, 8, 8, 1))
    np.testing.assert_allclose(net.scores(X, batch_size=3), net.scores(X), rtol=1e-12)


def test_short_training_learns_a_separable_task():
    """Bright left half or bright right half: a few dozen Adam steps learn it."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 256)
    X = rng.random((256, 8, 8, 1)) * 0.2
    X[y == 0, :, :4] += 0.8
    X[y == 1, :, 4:] += 0.8
    net = ConvNet(
        input_shape=(8, 8, 1), filters=(2, 2), kernel_size=3, num_classes=2, seed=3
    )
    before = net.loss(X, y)
    history = net.fit(
        X,
        y,
        epochs=3,
        batch_size=32,
        optimizer=Adam(1e-2),
        X_val=X[:64],
        y_val=y[:64],
        eval_every=8,
        verbose=False,
    )
    assert set(history) == {"step", "train_loss", "seconds", "val_loss", "val_acc"}
    assert history["step"].tolist() == [8, 16, 24]
    assert net.loss(X, y) < before / 2
    assert net.accuracy(X, y) > 0.95


def test_training_is_reproducible_and_prints_progress(capsys):
    rng = np.random.default_rng(4)
    X, y = rng.random((40, 8, 8, 1)), rng.integers(0, 4, 40)
    runs = []
    for _ in range(2):
        net = tiny_net(seed=5, dtype=np.float32)
        net.fit(X, y, batch_size=10, optimizer=SGD(0.1, momentum=0.9), eval_every=2)
        runs.append([p.copy() for p in net.parameters()])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("step     2/4: training loss ")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"input_shape": (28, 28)}, ValueError, r"input_shape \(H, W, C\)"),
        ({"input_shape": (30, 28, 1)}, ValueError, "divisible by 4"),
        ({"filters": (8,)}, ValueError, r"filters \(F1, F2\)"),
        ({"kernel_size": 4}, ValueError, "odd kernel_size, got 4"),
        ({"num_classes": 1}, ValueError, "num_classes >= 2"),
        ({"dtype": np.int32}, TypeError, "float32 or numpy.float64"),
    ],
)
def test_constructor_rejects_bad_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        ConvNet(**kwargs)


def test_methods_reject_bad_input():
    net = ConvNet(seed=0)
    with pytest.raises(ValueError, match=r"X of shape \(N, 28, 28, 1\).*\(2, 28, 28\)"):
        net.scores(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="one label per example"):
        net.loss_and_gradients(np.zeros((2, 28, 28, 1)), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="class ids in 0..9"):
        net.accuracy(np.zeros((2, 28, 28, 1)), np.array([1, 10]))
    with pytest.raises(ValueError, match="batch_size at most"):
        net.fit(np.zeros((4, 28, 28, 1)), np.zeros(4, int), batch_size=5)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        net.fit(np.zeros((4, 28, 28, 1)), np.zeros(4, int), batch_size=2, X_val=1)
    with pytest.raises(TypeError, match="SGD or Adam"):
        net.fit(
            np.zeros((4, 28, 28, 1)), np.zeros(4, int), batch_size=2, optimizer="adam"
        )


def test_divergence_stops_with_a_message():
    net = tiny_net(seed=6)
    net.parameters()[4][0, 0] = np.inf  # as if a step had overflowed
    rng = np.random.default_rng(6)
    X, y = rng.random((20, 8, 8, 1)), rng.integers(0, 4, 20)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="diverged"):
        net.fit(X, y, batch_size=10, verbose=False)


def _chapter_cell(marker):
    cells = [
        c.source
        for c in nbformat.read(CHAPTER_11, as_version=4).cells
        if c.cell_type == "code" and marker in c.source
    ]
    assert len(cells) == 1, f"expected one cell with {marker!r} in {CHAPTER_11}"
    return cells[0]


def test_chapter_network_is_nnlib_convnet():
    """The page's loss_and_gradients gives ConvNet's loss and gradients exactly."""
    namespace = {
        "np": np,
        "reference_conv": reference_conv,
        "softmax_cross_entropy": softmax_cross_entropy,
    }
    source = _chapter_cell("def loss_and_gradients(")
    exec(compile(source, str(CHAPTER_11), "exec"), namespace)
    net = ConvNet(
        input_shape=(12, 12, 2), filters=(3, 4), kernel_size=5, seed=7, dtype=np.float64
    )
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((5, 12, 12, 2)), rng.integers(0, 10, 5)
    loss, grads = net.loss_and_gradients(X, y)
    page_loss, page_grads = namespace["loss_and_gradients"](net.parameters(), X, y)
    assert page_loss == loss
    for a, b in zip(page_grads, grads, strict=True):
        np.testing.assert_array_equal(a, b)
