"""Unit tests for nnlib.activations: known values, extremes, bad input."""

import math
import warnings

import numpy as np
import pytest

import nnlib
from nnlib import ACTIVATIONS, relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad


def test_sigmoid_known_values():
    x = np.array([[1.0, 2.0], [-1.0, -2.0]])
    expected = np.array(
        [
            [1 / (1 + math.exp(-1)), 1 / (1 + math.exp(-2))],
            [1 / (1 + math.exp(1)), 1 / (1 + math.exp(2))],
        ]
    )
    # Values written out to 8 digits, computed by hand.
    assert np.allclose(
        expected, [[0.73105858, 0.88079708], [0.26894142, 0.11920292]], atol=1e-8
    )
    assert np.allclose(sigmoid(x), expected, rtol=1e-12, atol=0)


def test_sigmoid_grad_known_values():
    s = sigmoid(np.array([[1.0, 2.0], [-1.0, -2.0]]))
    assert np.allclose(
        sigmoid_grad(s), [[0.19661193, 0.10499359], [0.19661193, 0.10499359]], atol=1e-8
    )


def test_sigmoid_grad_is_derivative_of_sigmoid():
    x = np.linspace(-6, 6, 25)
    h = 1e-5
    numeric = (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)
    assert np.allclose(sigmoid_grad(sigmoid(x)), numeric, atol=1e-9)


def test_tanh_and_relu_derivatives_numerically():
    x = np.array([-3.0, -0.5, 0.3, 2.0])
    h = 1e-6
    assert np.allclose(
        tanh_grad(tanh(x)), (np.tanh(x + h) - np.tanh(x - h)) / (2 * h), atol=1e-8
    )
    assert np.array_equal(relu(x), [0.0, 0.0, 0.3, 2.0])
    assert np.array_equal(relu_grad(relu(x)), [0.0, 0.0, 1.0, 1.0])
    assert relu_grad(np.array(0.0)) == 0.0


@pytest.mark.parametrize("value", [1e4, -1e4, 745.0, -745.0, 1e300, -1e300])
def test_sigmoid_extremes_without_warnings(value):
    x = np.array([value, 0.0, -value])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(x)
        g = sigmoid_grad(s)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(g))
    assert s[1] == 0.5
    assert np.isclose(s[0] + s[2], 1.0)
    assert (
        (s[0] == 1.0 and s[2] == 0.0)
        or (s[0] == 0.0 and s[2] == 1.0)
        or abs(value) < 1e3
    )


def test_activations_keep_shape_and_accept_scalars_and_lists():
    assert sigmoid(0) == 0.5
    assert sigmoid([0, 0]).shape == (2,)
    x = np.zeros((2, 3, 4))
    for name, (f, df) in ACTIVATIONS.items():
        assert f(x).shape == x.shape, name
        assert df(f(x)).shape == x.shape, name


def test_activations_table():
    assert set(ACTIVATIONS) >= {"sigmoid", "tanh", "relu"}
    for name, pair in ACTIVATIONS.items():
        assert len(pair) == 2 and all(callable(f) for f in pair), name
    assert ACTIVATIONS["sigmoid"] == (nnlib.sigmoid, nnlib.sigmoid_grad)


def test_float32_preserved():
    x = np.ones(3, dtype=np.float32)
    assert sigmoid(x).dtype == np.float32
    assert relu_grad(x).dtype == np.float32


@pytest.mark.parametrize(
    "func", [sigmoid, tanh, relu, sigmoid_grad, tanh_grad, relu_grad]
)
@pytest.mark.parametrize(
    "bad, error, match",
    [
        ("abc", TypeError, "expects .* number"),
        (None, TypeError, "expects .* number"),
        ([1, "a"], TypeError, "array of numbers"),
        (np.array([0.5, np.nan]), ValueError, "finite values .* nan .* index \\(1,\\)"),
        (
            np.array([[0.5], [np.inf]]),
            ValueError,
            "finite values .* inf .* index \\(1, 0\\)",
        ),
        (np.array([1 + 1j]), TypeError, "complex"),
    ],
)
def test_bad_input_rejected_with_message(func, bad, error, match):
    with pytest.raises(error, match=match):
        func(bad)


def test_derivatives_reject_values_outside_the_range_of_the_activation():
    with pytest.raises(ValueError, match=r"takes s = sigmoid\(x\), not x"):
        sigmoid_grad(np.array([2.0, 3.0]))
    with pytest.raises(ValueError, match=r"takes t = tanh\(x\), not x"):
        tanh_grad(np.array([-2.0]))
