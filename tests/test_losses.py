"""Unit tests for nnlib.losses: softmax, cross-entropy, MSE, one_hot."""
import math
import warnings

import numpy as np
import pytest

from nnlib import cross_entropy, log_softmax, mean_squared_error, one_hot, softmax


def _softmax_by_hand(row):
    exps = [math.exp(v) for v in row]
    return [e / sum(exps) for e in exps]


def test_softmax_known_values():
    assert np.allclose(softmax(np.array([1.0, 2.0])), _softmax_by_hand([1, 2]), rtol=1e-12)
    assert np.allclose(softmax(np.array([1.0, 2.0])), [0.26894142, 0.73105858], atol=1e-8)
    out = softmax(np.array([[1001.0, 1002.0], [3.0, 4.0]]))
    assert np.allclose(out, [[0.26894142, 0.73105858], [0.26894142, 0.73105858]], atol=1e-8)
    assert np.allclose(softmax(np.array([[-1001.0, -1002.0]])), [[0.73105858, 0.26894142]], atol=1e-8)


def test_softmax_is_over_the_last_axis_and_shift_invariant():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 7))
    out = softmax(x)
    assert out.shape == (5, 7)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(softmax(x + 123.0), out)
    assert np.allclose(out[2], _softmax_by_hand(x[2]))
    assert np.allclose(log_softmax(x), np.log(out))


@pytest.mark.parametrize("scale", [1e4, -1e4, 1e300])
def test_softmax_extremes_without_warnings(scale):
    x = np.array([[scale, 0.0, -scale], [scale, scale, scale]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = softmax(x)
        lo = log_softmax(x)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(lo))
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out[1], 1 / 3)


def test_softmax_does_not_modify_input():
    x = np.array([[1.0, 2.0, 3.0]])
    before = x.copy()
    softmax(x)
    assert np.array_equal(x, before)


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros((2, 3, 4)), ValueError, r"1-D or 2-D array, got shape \(2, 3, 4\)"),
    (5.0, ValueError, "got the scalar"),
    (np.zeros((3, 0)), ValueError, "at least one score"),
    (np.array([1.0, np.nan]), ValueError, "finite"),
    ("1, 2", TypeError, "number"),
])
def test_softmax_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        softmax(bad)


def test_cross_entropy_known_value_and_average_over_rows():
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    y_hat = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    expected = -(math.log(0.7) + math.log(0.5)) / 2
    assert math.isclose(cross_entropy(y, y_hat), expected, rel_tol=1e-12)
    assert math.isclose(cross_entropy(y[0], y_hat[0]), -math.log(0.7), rel_tol=1e-12)


def test_cross_entropy_of_a_certain_wrong_answer_is_large_but_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = cross_entropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert np.isfinite(loss) and loss > 20


def test_cross_entropy_through_softmax_of_huge_logits_is_finite():
    logits = np.array([[1e4, -1e4], [-1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = cross_entropy(np.eye(2), softmax(logits))
    assert loss == 0.0


@pytest.mark.parametrize("y, y_hat, match", [
    (np.eye(3), np.full((2, 3), 1 / 3), r"same shape, got \(3, 3\) and \(2, 3\)"),
    (np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]), "one-hot .* got the value 0.5"),
    (np.array([[1.0, 1.0]]), np.array([[0.5, 0.5]]), "exactly one 1 per row, got row 0 summing to 2"),
    (np.array([[1.0, 0.0]]), np.array([[2.0, -1.0]]), r"probabilities y_hat in \[0, 1\]"),
    (np.array([[1.0, 0.0]]), np.array([[np.nan, 0.5]]), "finite"),
    (np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), "1-D or 2-D"),
])
def test_cross_entropy_bad_input(y, y_hat, match):
    with pytest.raises(ValueError, match=match):
        cross_entropy(y, y_hat)


def test_mean_squared_error_value_and_errors():
    y = np.array([1.0, 2.0, 3.0])
    y_hat = np.array([1.0, 0.0, 4.0])
    assert math.isclose(mean_squared_error(y, y_hat), 0.5 * (0 + 4 + 1) / 3)
    with pytest.raises(ValueError, match="same shape"):
        mean_squared_error(y, y_hat[:2])


def test_one_hot():
    assert np.array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="integer class ids"):
        one_hot(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="num_classes=2"):
        one_hot(np.array([0, 2]), 2)
