"""nnlib.layers: chapter 6's layer (forward, backward, the class), the initialisations.

Expected values come from the definitions (formulas written out, numerical gradients),
never from nnlib itself.
"""

import math

import numpy as np
import pytest

from nnlib import numerical_gradient
from nnlib.layers import (
    INITIALISATIONS,
    Layer,
    init_weights,
    layer_backward,
    layer_forward,
)

ACTS = ["sigmoid", "tanh", "relu", "identity"]
BY_HAND = {  # the activations, written out independently of nnlib.activations
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "identity": lambda z: z,
}


def _inputs(seed, N=5, D_in=4, D_out=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return tuple(
        rng.standard_normal(shape).astype(dtype)
        for shape in [(N, D_in), (D_in, D_out), (D_out,)]
    )


# ------------------------------------------------------------------ the initialisations


def test_the_table_names_each_initialisation_once_with_its_formula():
    assert list(INITIALISATIONS) == ["small", "lecun", "glorot", "he"]
    for fan_in, fan_out in [(1, 1), (200, 200), (784, 128), (3, 1000)]:
        std = {name: row.std(fan_in, fan_out) for name, row in INITIALISATIONS.items()}
        assert std["small"] == 0.01
        assert std["lecun"] == pytest.approx((1 / fan_in) ** 0.5, rel=1e-15)
        assert std["glorot"] == pytest.approx(
            (2 / (fan_in + fan_out)) ** 0.5, rel=1e-15
        )
        assert std["he"] == pytest.approx((2 / fan_in) ** 0.5, rel=1e-15)
    assert "1 / fan_in" in INITIALISATIONS["lecun"].formula
    assert "2 / fan_in" in INITIALISATIONS["he"].formula
    glorot = INITIALISATIONS["glorot"].formula
    assert "U(-a, a)" in glorot and "6 / (fan_in + fan_out)" in glorot
    assert "xavier" not in INITIALISATIONS


@pytest.mark.parametrize("method", ["small", "lecun", "he"])
def test_normal_initialisations_are_std_times_standard_normal_draws(method):
    std = {"small": 0.01, "lecun": math.sqrt(1 / 7), "he": math.sqrt(2 / 7)}[method]
    W = init_weights(7, 5, method, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(
        W, std * np.random.default_rng(3).standard_normal((7, 5))
    )
    assert W.shape == (7, 5) and W.dtype == np.float64


@pytest.mark.parametrize(
    "method, fan_in, fan_out, std",
    [
        ("small", 300, 200, 0.01),
        ("lecun", 300, 200, math.sqrt(1 / 300)),
        ("he", 300, 200, math.sqrt(2 / 300)),
        ("glorot", 300, 200, math.sqrt(2 / 500)),
        ("glorot", 1000, 10, math.sqrt(2 / 1010)),
    ],
)
def test_the_spread_of_the_weights(method, fan_in, fan_out, std):
    W = init_weights(fan_in, fan_out, method, rng=np.random.default_rng(0))
    assert abs(W.mean()) < 4 * std / math.sqrt(W.size)
    assert W.std() == pytest.approx(std, rel=0.02)


def test_glorot_is_uniform_on_its_interval():
    a = math.sqrt(6 / (400 + 100))
    W = init_weights(400, 100, "glorot", rng=np.random.default_rng(1))
    assert np.abs(W).max() <= a and np.abs(W).max() > 0.99 * a
    # flat: each tenth holds about a tenth
    counts, _ = np.histogram(W, bins=10, range=(-a, a))
    assert np.all(np.abs(counts / W.size - 0.1) < 0.01)
    np.testing.assert_array_equal(
        W, np.random.default_rng(1).uniform(-a, a, size=(400, 100))
    )


def test_init_weights_dtype_and_reproducibility():
    W32 = init_weights(6, 4, "he", rng=np.random.default_rng(2), dtype=np.float32)
    assert W32.dtype == np.float32
    np.testing.assert_array_equal(
        W32, init_weights(6, 4, "he", rng=np.random.default_rng(2)).astype(np.float32)
    )
    assert not np.array_equal(
        init_weights(6, 4, "he", rng=np.random.default_rng(2)),
        init_weights(6, 4, "he", rng=np.random.default_rng(3)),
    )


@pytest.mark.parametrize(
    "args, error, pattern",
    [
        (
            (3, 2, "xavier"),
            ValueError,
            r"init_weights expects method to be one of "
            r"\['small', 'lecun', 'glorot', 'he'\], got 'xavier'",
        ),
        ((3, 2, None), ValueError, r"method to be one of .*got NoneType None"),
        ((0, 2, "he"), ValueError, r"init_weights expects fan_in >= 1, got 0"),
        (
            (3, 2.0, "he"),
            TypeError,
            r"init_weights expects fan_out to be an integer, got float 2.0",
        ),
        (
            (3, 2, "he", "seed"),
            TypeError,
            r"init_weights expects rng to be a numpy.random.Generator, got str",
        ),
        (
            (3, 2, "he", None, np.int32),
            TypeError,
            r"init_weights expects dtype to be numpy.float32 or numpy.float64",
        ),
    ],
)
def test_init_weights_rejects_bad_input(args, error, pattern):
    with pytest.raises(error, match=pattern):
        init_weights(*args)


# ------------------------------------------------------------------ layer_forward


@pytest.mark.parametrize("act", ACTS)
def test_layer_forward_computes_f_of_XW_plus_b_and_caches_X_W_A_activation(act):
    X, W, b = _inputs(0)
    A, cache = layer_forward(X, W, b, act)
    Z = np.array(
        [
            [sum(X[i, j] * W[j, k] for j in range(4)) + b[k] for k in range(3)]
            for i in range(5)
        ]
    )
    np.testing.assert_allclose(A, BY_HAND[act](Z), rtol=1e-12, atol=1e-15)
    assert isinstance(cache, tuple) and len(cache) == 4
    assert cache[0] is X and cache[1] is W and cache[2] is A and cache[3] == act


def test_layer_forward_keeps_float32():
    X, W, b = _inputs(1, dtype=np.float32)
    A, _ = layer_forward(X, W, b, "tanh")
    assert A.dtype == np.float32


@pytest.mark.parametrize(
    "change, error, pattern",
    [
        (
            {"X": np.zeros((5, 3))},
            ValueError,
            r"layer_forward expects X of shape \(N, 4\) to match W of shape \(4, 3\), "
            r"got X of shape \(5, 3\)",
        ),
        (
            {"X": np.zeros(4)},
            ValueError,
            r"layer_forward expects X to be a 2-D array, got shape \(4,\)",
        ),
        (
            {"W": np.zeros((3, 4))},
            ValueError,
            r"X of shape \(N, 3\) to match W of shape \(3, 4\)",
        ),
        (
            {"b": np.zeros((1, 3))},
            ValueError,
            r"layer_forward expects b to be a 1-D array, got shape \(1, 3\)",
        ),
        (
            {"b": np.zeros(4)},
            ValueError,
            r"b of shape \(3,\) to match W of shape \(4, 3\), got b of shape \(4,\)",
        ),
        (
            {"X": np.full((5, 4), np.nan)},
            ValueError,
            r"layer_forward expects finite values in X, got nan .*"
            r"\(20 non-finite value\(s\) in all\)",
        ),
        (
            {"W": None},
            TypeError,
            r"layer_forward expects W to be a number or an array of numbers, "
            r"got NoneType",
        ),
        (
            {"act": "softplus"},
            ValueError,
            r"layer_forward expects activation to be one of "
            r"\['sigmoid', 'tanh', 'relu', 'identity'\], got 'softplus'",
        ),
        ({"act": np.tanh}, ValueError, r"activation to be one of .*got ufunc"),
    ],
)
def test_layer_forward_rejects_bad_input(change, error, pattern):
    X, W, b = _inputs(0)
    args = {"X": X, "W": W, "b": b, "act": "relu", **change}
    with pytest.raises(error, match=pattern):
        layer_forward(args["X"], args["W"], args["b"], args["act"])


# ------------------------------------------------------------------ layer_backward


@pytest.mark.parametrize("act", ACTS)
def test_layer_backward_matches_numerical_gradients(act):
    X, W, b = _inputs(2)
    assert np.abs(X @ W + b).min() > 1e-3  # no pre-activation near ReLU's kink at 0
    dA = np.random.default_rng(9).standard_normal((5, 3))

    def loss(X_, W_, b_):  # a loss whose gradient with respect to A is dA
        return float(np.sum(BY_HAND[act](X_ @ W_ + b_) * dA))

    _, cache = layer_forward(X, W, b, act)
    dX, dW, db = layer_backward(dA, cache)
    assert dX.shape == X.shape and dW.shape == W.shape and db.shape == b.shape
    np.testing.assert_allclose(
        dX, numerical_gradient(lambda v: loss(v, W, b), X.copy()), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        dW, numerical_gradient(lambda v: loss(X, v, b), W.copy()), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        db, numerical_gradient(lambda v: loss(X, W, v), b.copy()), rtol=1e-6, atol=1e-8
    )


def test_layer_backward_does_not_modify_its_inputs():
    X, W, b = _inputs(3)
    dA = np.ones((5, 3))
    A, cache = layer_forward(X, W, b, "sigmoid")
    saved = [a.copy() for a in (X, W, A, dA)]
    layer_backward(dA, cache)
    for before, after in zip(saved, (X, W, A, dA), strict=True):
        np.testing.assert_array_equal(before, after)


def _cache():
    X, W, b = _inputs(4)
    return layer_forward(X, W, b, "tanh")[1]


@pytest.mark.parametrize(
    "make, dA, error, pattern",
    [
        (
            lambda c: c[:3],
            np.ones((5, 3)),
            TypeError,
            r"layer_backward expects cache = \(X, W, A, activation\) "
            r"from layer_forward, got tuple of length 3",
        ),
        (
            lambda c: list(c),
            np.ones((5, 3)),
            TypeError,
            r"cache = \(X, W, A, activation\) from layer_forward, got list",
        ),
        (
            lambda c: (c[3], c[0], c[1], c[2]),
            np.ones((5, 3)),
            TypeError,
            r"cache = \(X, W, A, activation\) with X a 2-D array \(element 0\), "
            r"got str 'tanh'",
        ),
        (
            lambda c: (c[0], c[2], c[1], c[3]),
            np.ones((5, 3)),
            ValueError,
            r"X \(N, D_in\), W \(D_in, D_out\) and A \(N, D_out\), "
            r"got shapes \(5, 4\), \(5, 3\) and \(4, 3\)",
        ),
        (
            lambda c: (c[0], c[1], c[2], "swish"),
            np.ones((5, 3)),
            ValueError,
            r"layer_backward expects activation to be one of .*got 'swish'",
        ),
        (
            lambda c: c,
            np.ones((3, 5)),
            ValueError,
            r"layer_backward expects dA of shape \(5, 3\) "
            r"\(the shape of the output A in the cache\), got shape \(3, 5\)",
        ),
        (
            lambda c: c,
            np.full((5, 3), np.inf),
            ValueError,
            r"finite values in dA, got inf .*\(15 non-finite",
        ),
    ],
)
def test_layer_backward_rejects_bad_input(make, dA, error, pattern):
    with pytest.raises(error, match=pattern):
        layer_backward(dA, make(_cache()))


# ---------------------------------------------------------------------------- Layer


def test_layer_draws_its_weights_and_wraps_the_two_functions():
    layer = Layer(4, 3, "tanh", "lecun", np.random.default_rng(5))
    np.testing.assert_array_equal(
        layer.W, math.sqrt(1 / 4) * np.random.default_rng(5).standard_normal((4, 3))
    )
    np.testing.assert_array_equal(layer.b, np.zeros(3))
    assert [g.shape for g in layer.gradients()] == [(4, 3), (3,)] and not np.any(
        layer.dW
    )
    assert layer.parameters()[0] is layer.W and layer.parameters()[1] is layer.b
    assert repr(layer) == "Layer(4 -> 3, tanh)"

    X = np.random.default_rng(6).standard_normal((5, 4))
    A = layer.forward(X)
    np.testing.assert_allclose(A, np.tanh(X @ layer.W), rtol=1e-13)
    dA = np.random.default_rng(7).standard_normal((5, 3))
    dX = layer.backward(dA)
    dZ = dA * (1 - np.tanh(X @ layer.W) ** 2)
    np.testing.assert_allclose(dX, dZ @ layer.W.T, rtol=1e-12)
    np.testing.assert_allclose(layer.dW, X.T @ dZ, rtol=1e-12)
    np.testing.assert_allclose(layer.db, dZ.sum(axis=0), rtol=1e-12)
    assert layer.gradients()[0] is layer.dW


def test_layer_float32():
    layer = Layer(4, 3, "relu", "glorot", np.random.default_rng(0), dtype=np.float32)
    assert layer.W.dtype == layer.b.dtype == layer.dW.dtype == np.float32
    assert layer.forward(np.ones((2, 4), np.float32)).dtype == np.float32


def test_layer_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(
        ValueError,
        match=r"Layer expects init to be one of \['small', 'lecun', 'glorot', 'he'\], "
        r"got 'xavier'",
    ):
        Layer(4, 3, "tanh", "xavier", rng)
    with pytest.raises(
        ValueError, match=r"Layer expects activation to be one of .*got 'softmax'"
    ):
        Layer(4, 3, "softmax", "he", rng)
    with pytest.raises(
        TypeError, match=r"Layer expects rng to be a numpy.random.Generator, got int 0"
    ):
        Layer(4, 3, "relu", "he", 0)
    with pytest.raises(ValueError, match=r"Layer expects n_out >= 1, got 0"):
        Layer(4, 0, "relu", "he", rng)
    layer = Layer(4, 3, "relu", "he", rng)
    with pytest.raises(RuntimeError, match="Layer.backward called before forward"):
        layer.backward(np.ones((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"Layer.forward expects X of shape \(N, 4\) to match W of shape "
        r"\(4, 3\), got X of shape \(2, 3\)",
    ):
        layer.forward(np.ones((2, 3)))
    layer.forward(np.ones((2, 4)))
    with pytest.raises(
        ValueError, match=r"layer_backward expects dA of shape \(2, 3\)"
    ):
        layer.backward(np.ones((3, 3)))


def test_a_bad_name_draws_nothing():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        Layer(4, 3, "softmax", "he", rng)
    np.testing.assert_array_equal(
        rng.standard_normal(3), np.random.default_rng(0).standard_normal(3)
    )
