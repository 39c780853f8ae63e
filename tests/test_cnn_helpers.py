"""nnlib.cnn: the helpers' shapes, SAME padding arithmetic, pooling, the model (and
chapter 12's copy of it), input checks and short training runs."""

import ast
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from nnlib import cnn  # noqa: E402

CHAPTER_12 = Path(__file__).resolve().parents[1] / "book" / "12_cnn_mnist.ipynb"


def _chapter_12_code(marker):
    """The source of the one code cell of chapter 12 that contains ``marker``."""
    cells = [
        c.source
        for c in nbformat.read(CHAPTER_12, as_version=4).cells
        if c.cell_type == "code" and marker in c.source
    ]
    assert len(cells) == 1, (
        f"expected one code cell with {marker!r} in {CHAPTER_12.name}, "
        f"found {len(cells)}"
    )
    return cells[0]


@pytest.fixture(autouse=True)
def seeded():
    tf.keras.utils.set_random_seed(0)


@pytest.mark.parametrize("shape", [[5, 5, 1, 32], [3136, 1024], [7]])
def test_weight_variable_is_truncated_normal(shape):
    v = cnn.weight_variable(shape)
    assert isinstance(v, tf.Variable) and v.trainable and v.dtype == tf.float32
    assert list(v.shape) == shape
    assert np.abs(v.numpy()).max() <= 0.2 + 1e-7  # truncated at two standard deviations


def test_glorot_variable_has_the_glorot_spread():
    v = cnn.glorot_variable([5, 5, 32, 64]).numpy()
    fan_in, fan_out = 5 * 5 * 32, 5 * 5 * 64
    assert abs(v.std() - math.sqrt(2 / (fan_in + fan_out))) < 0.002
    dense = cnn.glorot_variable([3136, 1024]).numpy()
    assert abs(dense.std() - math.sqrt(2 / (3136 + 1024))) < 0.001


def test_glorot_stddev_formula():
    assert cnn.glorot_stddev([3136, 1024]) == pytest.approx(math.sqrt(2 / 4160))
    assert cnn.glorot_stddev([5, 5, 1, 32]) == pytest.approx(math.sqrt(2 / (25 + 800)))
    with pytest.raises(ValueError, match="at least 2"):
        cnn.glorot_stddev([7])


def test_glorot_here_has_the_variance_of_glorot_in_nnlib_layers():
    """One Glorot variance: numpy's uniform draw, TensorFlow's truncated normal."""
    from nnlib.layers import init_weights

    W = init_weights(3136, 1024, "glorot", rng=np.random.default_rng(0))
    assert W.std() == pytest.approx(cnn.glorot_stddev([3136, 1024]), rel=0.01)
    assert cnn.glorot_variable([3136, 1024]).numpy().std() == pytest.approx(
        W.std(), rel=0.01
    )


def test_bias_variable_is_constant():
    b = cnn.bias_variable([64])
    assert isinstance(b, tf.Variable) and b.shape == (64,)
    assert np.all(b.numpy() == np.float32(0.1))


@pytest.mark.parametrize("bad", [[], [0, 3], [2.5], "5,5", None, [True]])
def test_shapes_are_validated(bad):
    with pytest.raises(ValueError, match="shape"):
        cnn.weight_variable(bad)


@pytest.mark.parametrize("size, k", [(28, 5), (14, 5), (9, 3), (8, 4), (1, 5)])
def test_conv2d_same_padding_keeps_the_size(size, k):
    x = tf.random.normal([2, size, size + 1, 3])
    W = tf.random.normal([k, k, 3, 6])
    out = cnn.conv2d(x, W)
    assert out.shape == (2, size, size + 1, 6)
    # SAME with stride 1 pads k - 1 zeros in all, floor((k-1)/2) before: the centre
    # pixel matches a manual sum
    pad_before = (k - 1) // 2
    padded = np.pad(
        x.numpy(),
        [
            (0, 0),
            (pad_before, k - 1 - pad_before),
            (pad_before, k - 1 - pad_before),
            (0, 0),
        ],
    )
    i, j = size // 2, size // 2
    manual = np.einsum("hwc,hwcf->f", padded[0, i : i + k, j : j + k, :], W.numpy())
    np.testing.assert_allclose(out.numpy()[0, i, j], manual, rtol=1e-4, atol=1e-4)


def test_conv2d_is_a_cross_correlation_on_a_small_example():
    # a 3x3 image and a 2x2 filter picking the pixel to the lower right: SAME pads one
    # zero row/column after
    x = tf.reshape(tf.range(9, dtype=tf.float32), [1, 3, 3, 1])
    W = tf.reshape(tf.constant([0.0, 0.0, 0.0, 1.0]), [2, 2, 1, 1])
    out = cnn.conv2d(x, W).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(out, [[4, 5, 0], [7, 8, 0], [0, 0, 0]])


@pytest.mark.parametrize("size", [28, 14, 7, 5, 1])
def test_max_pool_halves_rounding_up(size):
    x = tf.random.normal([3, size, size, 4])
    out = cnn.max_pool_2x2(x)
    assert out.shape == (3, math.ceil(size / 2), math.ceil(size / 2), 4)
    # every output is the maximum of its (possibly clipped) 2x2 window
    xn, on = x.numpy(), out.numpy()
    for i in range(on.shape[1]):
        for j in range(on.shape[2]):
            np.testing.assert_array_equal(
                on[:, i, j, :],
                xn[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, :].max(axis=(1, 2)),
            )


def test_model_output_and_intermediate_shapes():
    model = cnn.DeepCNN()
    x = tf.random.uniform([5, 28, 28, 1])
    t = model.layers(x)
    expected = {
        "conv1_pre": (5, 28, 28, 32),
        "conv1": (5, 28, 28, 32),
        "pool1": (5, 14, 14, 32),
        "conv2_pre": (5, 14, 14, 64),
        "conv2": (5, 14, 14, 64),
        "pool2": (5, 7, 7, 64),
        "fc1_pre": (5, 1024),
        "fc1": (5, 1024),
        "logits": (5, 10),
    }
    assert {k: tuple(v.shape) for k, v in t.items()} == expected
    assert model(x).shape == (5, 10)


def test_parameter_counts():
    model = cnn.DeepCNN()
    counts = {layer: n for layer, _, _, n in model.parameter_counts()}
    assert counts == {
        "conv1": 5 * 5 * 1 * 32 + 32,
        "conv2": 5 * 5 * 32 * 64 + 64,
        "fc1": 7 * 7 * 64 * 1024 + 1024,
        "fc2": 1024 * 10 + 10,
    }
    assert sum(counts.values()) == sum(
        int(np.prod(v.shape)) for v in model.trainable_variables
    )


def test_dropout_only_while_training():
    model = cnn.DeepCNN(dropout_rate=0.5)
    x = tf.random.uniform([4, 28, 28, 1])
    np.testing.assert_array_equal(model(x).numpy(), model(x, training=False).numpy())
    a, b = model(x, training=True).numpy(), model(x, training=True).numpy()
    assert not np.allclose(a, b)  # a fresh mask each call
    fc1 = model.layers(x)["fc1"].numpy()
    assert not np.allclose(model(x).numpy(), a)
    assert fc1.shape == (4, 1024)


def test_dropout_masks_are_reproducible():
    x = tf.random.uniform([4, 28, 28, 1])
    tf.keras.utils.set_random_seed(1)
    a = cnn.DeepCNN(seed=3)(x, training=True).numpy()
    tf.keras.utils.set_random_seed(1)
    b = cnn.DeepCNN(seed=3)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="activation"):
        cnn.DeepCNN(activation="sigmoid")
    with pytest.raises(ValueError, match="init"):
        cnn.DeepCNN(init="he")
    with pytest.raises(ValueError, match="dropout_rate"):
        cnn.DeepCNN(dropout_rate=1.0)


def test_train_cnn_lowers_the_loss_on_a_small_problem():
    rng = np.random.default_rng(0)
    # two classes that differ in which half of the image is bright
    y = rng.integers(0, 2, size=64)
    x = rng.uniform(0, 0.2, size=(64, 28, 28, 1)).astype(np.float32)
    x[y == 0, :14] += 0.8
    x[y == 1, 14:] += 0.8
    model = cnn.DeepCNN()
    hist = cnn.train_cnn(
        model,
        tf.keras.optimizers.Adam(1e-3),
        x,
        y,
        steps=20,
        batch_size=16,
        log_every=5,
    )
    assert hist["step"] == [5, 10, 15, 20]
    assert hist["loss"][-1] < hist["loss"][0]
    assert cnn.accuracy(model, x, y) > 0.9
    assert hist["seconds"] > 0 and hist["cpu_seconds"] > 0


class _Linear(tf.Module):
    """Logits ``flatten(x) W + b``: no convolution or ReLU for a backend to fuse."""

    def __init__(self):
        super().__init__()
        self.W = tf.Variable(tf.random.normal([784, 10], stddev=0.01))
        self.b = tf.Variable(tf.zeros([10]))

    def __call__(self, x, training=False):
        return tf.reshape(x, [-1, 784]) @ self.W + self.b


class _Unreachable(_Linear):
    """A model that fails the test if it is called: the input check must come first."""

    def __call__(self, x, training=False):
        raise AssertionError("the bad input reached the model (and TensorFlow)")


def _two_halves(n=16, seed=0):
    """Images whose class (0 or 1) says which half is bright, and their labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.uniform(0, 0.2, size=(n, 28, 28, 1)).astype(np.float32)
    x[y == 0, :14] += 0.8
    x[y == 1, 14:] += 0.8
    return x, y


def test_train_cnn_stops_when_training_really_diverges():
    # gradient descent with a step of 1e38: after one step the weights are about 1e36,
    # the logits overflow float32 on any backend, and the loss becomes inf or NaN
    # (finite data, finite start)
    x, y = _two_halves()
    model = _Linear()
    seen = []
    with pytest.raises(
        FloatingPointError,
        match=r"became (nan|inf) at step [2-5]; try a smaller learning rate",
    ):
        cnn.train_cnn(
            model,
            tf.keras.optimizers.SGD(1e38),
            x,
            y,
            steps=5,
            batch_size=8,
            log_every=1,
            progress=lambda step, loss: seen.append(loss),
        )
    # the first step or steps were fine: it did diverge
    assert seen and all(np.isfinite(seen))


def test_train_cnn_stops_when_the_loss_is_nan():
    # a NaN in the last bias makes every logit NaN after the last matrix product,
    # whatever the backend
    x, y = _two_halves(8)
    model = cnn.DeepCNN()
    model.b_fc2.assign(tf.fill([10], float("nan")))
    with pytest.raises(FloatingPointError, match="became nan at step 1"):
        cnn.train_cnn(model, tf.keras.optimizers.SGD(0.1), x, y, steps=2, batch_size=4)


@pytest.mark.parametrize("func", ["train_cnn", "predict", "accuracy"])
def test_non_finite_images_are_rejected_before_tensorflow(func):
    x, y = _two_halves(8)
    x[0, 3, 4, 0] = np.nan
    x[5, 0, 0, 0] = np.inf
    x[6, 27, 27, 0] = -np.inf
    calls = {
        "train_cnn": lambda m: cnn.train_cnn(
            m, tf.keras.optimizers.SGD(0.1), x, y, steps=1, batch_size=4
        ),
        "predict": lambda m: cnn.predict(m, x),
        "accuracy": lambda m: cnn.accuracy(m, x, y),
    }
    model = _Unreachable()
    with pytest.raises(
        ValueError,
        match=rf"{func} expects finite values in x.*\(3 non-finite value\(s\) in all\)",
    ):
        calls[func](model)


@pytest.mark.parametrize("func", ["train_cnn", "predict", "accuracy"])
@pytest.mark.parametrize(
    "x, error, pattern",
    [
        (
            np.zeros((4, 28, 28), np.float32),
            ValueError,
            r"shape \(N, H, W, C\).*got shape \(4, 28, 28\)",
        ),
        (np.zeros((0, 28, 28, 1), np.float32), ValueError, r"N >= 1"),
        (
            np.zeros((4, 28, 28, 1), np.uint8),
            TypeError,
            r"float images.*prepare_images.*uint8",
        ),
        ([["a"]], TypeError, r"float images"),
    ],
)
def test_bad_images_are_rejected(func, x, error, pattern):
    y = np.zeros(len(x), np.int64)
    calls = {
        "train_cnn": lambda: cnn.train_cnn(
            _Unreachable(), tf.keras.optimizers.SGD(0.1), x, y, steps=1, batch_size=1
        ),
        "predict": lambda: cnn.predict(_Unreachable(), x),
        "accuracy": lambda: cnn.accuracy(_Unreachable(), x, y),
    }
    with pytest.raises(error, match=rf"^{func} expects .*{pattern}"):
        calls[func]()


@pytest.mark.parametrize("func", ["train_cnn", "accuracy"])
@pytest.mark.parametrize(
    "y, error, pattern",
    [
        (
            np.zeros(8),
            TypeError,
            r"integer class ids, got array of shape \(8,\) and dtype float64",
        ),
        (np.zeros(8, bool), TypeError, r"integer class ids"),
        (
            np.zeros(7, int),
            ValueError,
            r"shape \(8,\), one class id per image, got shape \(7,\)",
        ),
        (np.zeros((8, 1), int), ValueError, r"got shape \(8, 1\)"),
        (np.full(8, -1), ValueError, r"class ids >= 0 in y.*got -1"),
    ],
)
def test_bad_labels_are_rejected(func, y, error, pattern):
    x, _ = _two_halves(8)
    calls = {
        "train_cnn": lambda: cnn.train_cnn(
            _Unreachable(), tf.keras.optimizers.SGD(0.1), x, y, steps=1, batch_size=4
        ),
        "accuracy": lambda: cnn.accuracy(_Unreachable(), x, y),
    }
    with pytest.raises(error, match=rf"^{func} expects .*{pattern}"):
        calls[func]()


def test_train_cnn_needs_one_batch():
    x, y = _two_halves(4)
    with pytest.raises(
        ValueError, match="at least one batch of images, got 4 images for batch_size 5"
    ):
        cnn.train_cnn(
            _Linear(), tf.keras.optimizers.SGD(0.1), x, y, steps=1, batch_size=5
        )


def test_predict_and_accuracy_on_a_model_with_known_logits():
    # logits = (sum of the top half, sum of the bottom half): class 0 when the top half
    # is brighter
    class Halves(tf.Module):
        def __call__(self, x, training=False):
            return tf.stack(
                [
                    tf.reduce_sum(x[:, :14], axis=[1, 2, 3]),
                    tf.reduce_sum(x[:, 14:], axis=[1, 2, 3]),
                ],
                1,
            )

    x, y = _two_halves(10)
    # float64 is accepted and converted
    logits = cnn.predict(Halves(), x.astype(np.float64), batch_size=3)
    np.testing.assert_allclose(
        logits,
        np.stack([x[:, :14].sum(axis=(1, 2, 3)), x[:, 14:].sum(axis=(1, 2, 3))], 1),
        rtol=1e-5,
    )
    assert cnn.accuracy(Halves(), x, y) == 1.0
    assert cnn.accuracy(Halves(), x, 1 - y) == 0.0


def test_prepare_images():
    x = cnn.prepare_images(np.full((3, 28, 28), 255, np.uint8))
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0
    raw = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    np.testing.assert_allclose(
        cnn.prepare_images(raw.astype(np.float64))[..., 0], raw / 255, rtol=1e-6
    )
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        cnn.prepare_images(np.zeros((3, 784)))


@pytest.mark.parametrize(
    "x, error, pattern",
    [
        (
            np.full((2, 28, 28), np.nan),
            ValueError,
            r"finite values in x, got nan .*\(1568 non-finite value\(s\) in all\)",
        ),
        (
            np.full((2, 28, 28), 256.0),
            ValueError,
            r"pixel values in \[0, 255\], got values from 256.0 to 256.0",
        ),
        (
            np.full((2, 28, 28), -1),
            ValueError,
            r"pixel values in \[0, 255\], got values from -1 to -1",
        ),
        (np.full((2, 28, 28), "7"), TypeError, r"pixel values .*dtype <U1"),
        (np.zeros((2, 28, 28), bool), TypeError, r"pixel values .*dtype bool"),
    ],
)
def test_prepare_images_rejects_bad_pixels(x, error, pattern):
    with pytest.raises(error, match=rf"^prepare_images expects {pattern}"):
        cnn.prepare_images(x)


def test_variable_summaries_write_five_summaries(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        cnn.variable_summaries(tf.constant([1.0, 2.0, 3.0, 4.0]), "w", step=0)
    writer.flush()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    tags = set(acc.Tags()["tensors"])
    assert tags == {"w/mean", "w/stddev", "w/max", "w/min", "w/histogram"}
    value = {t: tf.make_ndarray(acc.Tensors(t)[0].tensor_proto) for t in tags}
    assert value["w/mean"] == pytest.approx(2.5) and value["w/stddev"] == pytest.approx(
        np.std([1, 2, 3, 4])
    )
    assert value["w/min"] == 1.0 and value["w/max"] == 4.0
    # (left edge, right edge, count) per bucket
    assert value["w/histogram"][:, 2].sum() == pytest.approx(4)


def test_chapter_12_model_is_the_one_in_nnlib():
    """Chapter 12 writes ``DeepCNN`` out in the page; chapter 13 imports nnlib.cnn's.

    The page's class, run with the reference helpers, must create the same variables in
    the same order and compute the same logits, with and without dropout, as nnlib's.
    """
    source = _chapter_12_code("class DeepCNN(")
    namespace = {
        "tf": tf,
        "weight_variable": cnn.weight_variable,
        "bias_variable": cnn.bias_variable,
        "conv2d": cnn.conv2d,
        "max_pool_2x2": cnn.max_pool_2x2,
    }
    exec(compile(source.split("\nmodel = ")[0], str(CHAPTER_12), "exec"), namespace)

    tf.keras.utils.set_random_seed(0)
    page = namespace["DeepCNN"](seed=4)
    tf.keras.utils.set_random_seed(0)
    ref = cnn.DeepCNN(seed=4)
    assert [tuple(v.shape) for v in page.trainable_variables] == [
        tuple(v.shape) for v in ref.trainable_variables
    ]
    for name in (
        "W_conv1",
        "b_conv1",
        "W_conv2",
        "b_conv2",
        "W_fc1",
        "b_fc1",
        "W_fc2",
        "b_fc2",
    ):
        np.testing.assert_array_equal(
            getattr(page, name).numpy(), getattr(ref, name).numpy(), err_msg=name
        )
    x = tf.constant(np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32))
    np.testing.assert_array_equal(page(x).numpy(), ref(x).numpy())
    np.testing.assert_array_equal(
        page(x, training=True).numpy(), ref(x, training=True).numpy()
    )


def test_chapter_12_variable_summaries_is_the_one_in_nnlib(tmp_path):
    """Chapter 12 writes ``variable_summaries`` out too; it must log what nnlib logs."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    defs = [
        node
        for node in ast.parse(_chapter_12_code("def variable_summaries(")).body
        if isinstance(node, ast.FunctionDef) and node.name == "variable_summaries"
    ]
    assert len(defs) == 1, (
        "expected one definition of variable_summaries in "
        f"{CHAPTER_12.name}, found {len(defs)}"
    )
    namespace = {"tf": tf}
    exec(
        compile(ast.Module(body=defs, type_ignores=[]), str(CHAPTER_12), "exec"),
        namespace,
    )

    tensor = tf.constant(
        np.random.default_rng(1).standard_normal((6, 5, 4), dtype=np.float32)
    )
    logged = []
    for label, func in (
        ("page", namespace["variable_summaries"]),
        ("nnlib", cnn.variable_summaries),
    ):
        writer = tf.summary.create_file_writer(str(tmp_path / label))
        with writer.as_default():
            func(tensor, "layer/weights", tf.constant(3, tf.int64))
        writer.close()
        acc = EventAccumulator(str(tmp_path / label), size_guidance={"tensors": 0})
        acc.Reload()
        logged.append(
            {
                tag: [
                    (e.step, tf.make_ndarray(e.tensor_proto).tolist())
                    for e in acc.Tensors(tag)
                ]
                for tag in acc.Tags()["tensors"]
            }
        )
    page, ref = logged
    assert set(ref) == {
        f"layer/weights/{k}" for k in ("mean", "stddev", "max", "min", "histogram")
    }
    assert page == ref


def test_chapter_12_helpers_are_the_ones_in_nnlib():
    """Chapter 12 writes the four helpers out; they compute what nnlib.cnn's compute."""
    namespace = {"tf": tf, "np": np}
    source = _chapter_12_code("def weight_variable(")
    exec(compile(source.split("\nw = ")[0], str(CHAPTER_12), "exec"), namespace)
    for shape in ([5, 5, 1, 32], [3136, 1024], [7]):
        tf.keras.utils.set_random_seed(3)
        page = namespace["weight_variable"](shape)
        tf.keras.utils.set_random_seed(3)
        ref = cnn.weight_variable(shape)
        assert isinstance(page, tf.Variable) and page.trainable
        np.testing.assert_array_equal(page.numpy(), ref.numpy())
        np.testing.assert_array_equal(
            namespace["bias_variable"](shape).numpy(), cnn.bias_variable(shape).numpy()
        )
    x = tf.constant(np.random.default_rng(2).random((2, 9, 7, 3), dtype=np.float32))
    W = tf.constant(np.random.default_rng(3).random((5, 5, 3, 4), dtype=np.float32))
    np.testing.assert_array_equal(
        namespace["conv2d"](x, W).numpy(), cnn.conv2d(x, W).numpy()
    )
    np.testing.assert_array_equal(
        namespace["max_pool_2x2"](x).numpy(), cnn.max_pool_2x2(x).numpy()
    )
