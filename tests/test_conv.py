"""nnlib.conv: convolution and max-pooling, forward and backward, against loops
written out here, numerical gradients and TensorFlow."""

import numpy as np
import pytest

from nnlib.conv import (
    conv2d_backward,
    conv2d_forward,
    max_pool_backward,
    max_pool_forward,
)
from nnlib.gradcheck import numerical_gradient


def conv_loops(x, w, b, stride, pad):
    """The definition, one output value at a time."""
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    kh, kw, _, f = w.shape
    ho = (xp.shape[1] - kh) // stride + 1
    wo = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, f))
    for n in range(x.shape[0]):
        for i in range(ho):
            for j in range(wo):
                patch = xp[
                    n, i * stride : i * stride + kh, j * stride : j * stride + kw
                ]
                for k in range(f):
                    out[n, i, j, k] = np.sum(patch * w[..., k]) + b[k]
    return out


def pool_loops(x, size, stride):
    ho = (x.shape[1] - size) // stride + 1
    wo = (x.shape[2] - size) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, x.shape[3]))
    for i in range(ho):
        for j in range(wo):
            window = x[
                :, i * stride : i * stride + size, j * stride : j * stride + size
            ]
            out[:, i, j] = window.max(axis=(1, 2))
    return out


SETTINGS = [  # (N, H, W, C, KH, KW, F, stride, pad)
    (2, 5, 5, 1, 3, 3, 2, 1, 0),
    (2, 6, 7, 3, 3, 2, 4, 1, 1),
    (1, 7, 7, 2, 3, 3, 3, 2, 1),
    (3, 8, 6, 2, 5, 5, 2, 3, 2),
    (1, 4, 4, 1, 4, 4, 1, 1, 0),  # kernel as large as the input
]


@pytest.mark.parametrize("setting", SETTINGS)
def test_conv_forward_matches_the_definition(setting):
    n, h, w_, c, kh, kw, f, stride, pad = setting
    rng = np.random.default_rng(sum(setting))
    x, w, b = (
        rng.normal(size=(n, h, w_, c)),
        rng.normal(size=(kh, kw, c, f)),
        rng.normal(size=f),
    )
    out, _ = conv2d_forward(x, w, b, stride=stride, pad=pad)
    assert out.shape == (
        n,
        (h + 2 * pad - kh) // stride + 1,
        (w_ + 2 * pad - kw) // stride + 1,
        f,
    )
    np.testing.assert_allclose(
        out, conv_loops(x, w, b, stride, pad), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("setting", SETTINGS)
def test_conv_backward_matches_numerical_gradients(setting):
    n, h, w_, c, kh, kw, f, stride, pad = setting
    rng = np.random.default_rng(100 + sum(setting))
    x, w, b = (
        rng.normal(size=(n, h, w_, c)),
        rng.normal(size=(kh, kw, c, f)),
        rng.normal(size=f),
    )
    out, cache = conv2d_forward(x, w, b, stride=stride, pad=pad)
    upstream = rng.normal(size=out.shape)
    dx, dw, db = conv2d_backward(upstream, cache)

    def loss(**kw_):
        args = {"x": x, "w": w, "b": b, **kw_}
        return float(
            np.sum(upstream * conv2d_forward(**args, stride=stride, pad=pad)[0])
        )

    np.testing.assert_allclose(
        dx, numerical_gradient(lambda v: loss(x=v), x), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        dw, numerical_gradient(lambda v: loss(w=v), w), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        db, numerical_gradient(lambda v: loss(b=v), b), rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("size, stride", [(2, 2), (3, 1), (3, 2), (2, 3)])
def test_pool_forward_and_backward(size, stride):
    rng = np.random.default_rng(size * 10 + stride)
    x = rng.normal(size=(2, 7, 8, 3))  # continuous values: no ties
    out, cache = max_pool_forward(x, size=size, stride=stride)
    np.testing.assert_array_equal(out, pool_loops(x, size, stride))
    upstream = rng.normal(size=out.shape)
    dx = max_pool_backward(upstream, cache)
    num = numerical_gradient(
        lambda v: float(np.sum(upstream * max_pool_forward(v, size, stride)[0])),
        x,
        h=1e-6,
    )
    np.testing.assert_allclose(dx, num, rtol=1e-5, atol=1e-7)


def test_pool_sends_the_gradient_to_the_maximum_only():
    x = np.array([[1.0, 3.0], [4.0, 2.0]]).reshape(1, 2, 2, 1)
    out, cache = max_pool_forward(x)
    assert out.ravel().tolist() == [4.0]
    dx = max_pool_backward(np.full((1, 1, 1, 1), 5.0), cache)
    assert dx.reshape(2, 2).tolist() == [[0.0, 0.0], [5.0, 0.0]]


def test_same_results_as_tensorflow_in_float64():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(9)
    x, w, b = (
        rng.normal(size=(4, 12, 12, 3)),
        rng.normal(size=(5, 5, 3, 6)),
        rng.normal(size=6),
    )
    for stride, pad, tf_padding in [(1, 2, "SAME"), (1, 0, "VALID"), (2, 0, "VALID")]:
        out, cache = conv2d_forward(x, w, b, stride=stride, pad=pad)
        xt, wt = tf.constant(x), tf.constant(w)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([xt, wt])
            yt = tf.nn.conv2d(xt, wt, strides=stride, padding=tf_padding) + b
            upstream = tf.constant(rng.normal(size=out.shape))
            lt = tf.reduce_sum(yt * upstream)
        np.testing.assert_allclose(out, yt.numpy(), rtol=1e-12, atol=1e-12)
        dx, dw, _ = conv2d_backward(upstream.numpy(), cache)
        np.testing.assert_allclose(
            dx, tape.gradient(lt, xt).numpy(), rtol=1e-11, atol=1e-11
        )
        np.testing.assert_allclose(
            dw, tape.gradient(lt, wt).numpy(), rtol=1e-11, atol=1e-11
        )
    out, cache = max_pool_forward(x, 2, 2)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        yt = tf.nn.max_pool2d(xt, 2, 2, "VALID")
        upstream = tf.constant(rng.normal(size=out.shape))
        lt = tf.reduce_sum(yt * upstream)
    np.testing.assert_array_equal(out, yt.numpy())
    np.testing.assert_allclose(
        max_pool_backward(upstream.numpy(), cache), tape.gradient(lt, xt).numpy()
    )


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (
            (np.ones((5, 5, 1)), np.ones((3, 3, 1, 2)), np.ones(2)),
            {},
            r"\(N, H, W, C\).*got shape \(5, 5, 1\)",
        ),
        (
            (np.ones((1, 5, 5, 3)), np.ones((3, 3, 1, 2)), np.ones(2)),
            {},
            "kernel's 1 input channel",
        ),
        (
            (np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 2)), np.ones(3)),
            {},
            r"b of shape \(2,\)",
        ),
        (
            (np.ones((1, 3, 3, 1)), np.ones((5, 5, 1, 2)), np.ones(2)),
            {},
            "no larger than the padded input",
        ),
        (
            (np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 2)), np.ones(2)),
            {"stride": 0},
            "stride >= 1",
        ),
        (
            (np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 2)), np.ones(2)),
            {"pad": -1},
            "pad >= 0",
        ),
        (
            (np.ones((1, 5, 5, 1)), np.ones((3, 3, 2)), np.ones(2)),
            {},
            r"w of shape \(KH, KW, C, F\)",
        ),
    ],
)
def test_conv_rejects_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv2d_forward(*args, **kwargs)


def test_backward_and_pool_reject_bad_input():
    out, cache = conv2d_forward(
        np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 2)), np.ones(2)
    )
    with pytest.raises(ValueError, match=r"output's shape \(1, 3, 3, 2\)"):
        conv2d_backward(np.ones((1, 3, 3, 1)), cache)
    with pytest.raises(TypeError, match="cache"):
        conv2d_backward(out, cache[:2])
    with pytest.raises(ValueError, match="no larger than the image"):
        max_pool_forward(np.ones((1, 2, 2, 1)), size=3)
    with pytest.raises(ValueError, match="stride >= 1"):
        max_pool_forward(np.ones((1, 4, 4, 1)), stride=0)
    _, pcache = max_pool_forward(np.ones((1, 4, 4, 1)))
    with pytest.raises(ValueError, match=r"pooled output's shape \(1, 2, 2, 1\)"):
        max_pool_backward(np.ones((1, 4, 4, 1)), pcache)


def test_ties_send_the_gradient_to_the_first_maximum_as_tensorflow_does():
    """Windows with equal maxima: nnlib's choice (the first in reading order) is the
    entry TensorFlow's max_pool2d gradient chooses too."""
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(11)
    x = rng.integers(0, 3, size=(3, 8, 8, 2)).astype(float)  # many ties
    for size, stride in [(2, 2), (3, 2)]:
        out, cache = max_pool_forward(x, size, stride)
        upstream = rng.normal(size=out.shape)
        dx = max_pool_backward(upstream, cache)
        np.testing.assert_allclose(dx.sum(), upstream.sum())  # nothing doubled
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            yt = tf.nn.max_pool2d(xt, size, stride, "VALID")
            lt = tf.reduce_sum(yt * upstream)
        np.testing.assert_allclose(dx, tape.gradient(lt, xt).numpy(), atol=1e-12)
