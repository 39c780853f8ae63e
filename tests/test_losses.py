"""Unit tests for nnlib.losses: softmax, cross-entropy (alone and with softmax), MSE."""

import math
import warnings

import numpy as np
import pytest

from nnlib import (
    cross_entropy,
    log_softmax,
    mean_squared_error,
    numerical_gradient,
    one_hot,
    softmax,
    softmax_cross_entropy,
)


def _softmax_by_hand(row):
    exps = [math.exp(v) for v in row]
    return [e / sum(exps) for e in exps]


def test_softmax_known_values():
    assert np.allclose(
        softmax(np.array([1.0, 2.0])), _softmax_by_hand([1, 2]), rtol=1e-12
    )
    assert np.allclose(
        softmax(np.array([1.0, 2.0])), [0.26894142, 0.73105858], atol=1e-8
    )
    out = softmax(np.array([[1001.0, 1002.0], [3.0, 4.0]]))
    assert np.allclose(
        out, [[0.26894142, 0.73105858], [0.26894142, 0.73105858]], atol=1e-8
    )
    assert np.allclose(
        softmax(np.array([[-1001.0, -1002.0]])), [[0.73105858, 0.26894142]], atol=1e-8
    )


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


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.zeros((2, 3, 4)), ValueError, r"1-D or 2-D array, got shape \(2, 3, 4\)"),
        (5.0, ValueError, "got the scalar"),
        (np.zeros((3, 0)), ValueError, "at least one score"),
        (np.array([1.0, np.nan]), ValueError, "finite"),
        ("1, 2", TypeError, "number"),
    ],
)
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


@pytest.mark.parametrize(
    "y, y_hat, match",
    [
        (np.eye(3), np.full((2, 3), 1 / 3), r"same shape, got \(3, 3\) and \(2, 3\)"),
        (
            np.array([[0.5, 0.5]]),
            np.array([[0.5, 0.5]]),
            "one-hot .* got the value 0.5",
        ),
        (
            np.array([[1.0, 1.0]]),
            np.array([[0.5, 0.5]]),
            "exactly one 1 per row, got row 0 summing to 2",
        ),
        (
            np.array([[1.0, 0.0]]),
            np.array([[2.0, -1.0]]),
            r"probabilities y_hat in \[0, 1\]",
        ),
        (np.array([[1.0, 0.0]]), np.array([[np.nan, 0.5]]), "finite"),
        (np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), "1-D or 2-D"),
    ],
)
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


# ----------------------------------------------------- softmax + cross-entropy together


def test_softmax_cross_entropy_by_hand():
    Z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = np.array([1, 0])
    rows = [_softmax_by_hand(r) for r in Z.tolist()]
    expected_loss = -(math.log(rows[0][1]) + math.log(rows[1][0])) / 2
    expected_grad = np.array(rows) / 2
    expected_grad[0, 1] -= 0.5
    expected_grad[1, 0] -= 0.5
    loss, grad = softmax_cross_entropy(Z, y)
    assert math.isclose(loss, expected_loss, rel_tol=1e-12)
    assert np.allclose(grad, expected_grad, rtol=0, atol=1e-15)
    assert loss == pytest.approx(cross_entropy(one_hot(y, 3), softmax(Z)), rel=1e-12)


def test_softmax_cross_entropy_gradient_is_the_numerical_one():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(5, 4))
    y = rng.integers(0, 4, size=5)
    _, grad = softmax_cross_entropy(Z, y)
    assert np.allclose(
        grad,
        numerical_gradient(lambda z: softmax_cross_entropy(z, y)[0], Z.copy()),
        atol=1e-8,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_cross_entropy_in_place_and_with_one_hot_labels(dtype):
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(6, 3)).astype(dtype)
    y = rng.integers(0, 3, size=6)
    before = Z.copy()
    loss, grad = softmax_cross_entropy(Z, y)
    assert np.array_equal(Z, before) and grad.dtype == dtype
    assert softmax_cross_entropy(Z, one_hot(y, 3))[0] == loss
    F = np.asfortranarray(Z)
    loss_in_place, out = softmax_cross_entropy(F, y, out=F, check_input=False)
    assert (
        out is F
        and loss_in_place == pytest.approx(loss, rel=1e-6)
        and np.allclose(F, grad, atol=1e-7)
    )


def test_softmax_cross_entropy_of_huge_scores_without_warnings():
    Z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = softmax_cross_entropy(Z, np.array([1, 0]))
    assert math.isclose(loss, (2e4 + (2e4 + math.log(2))) / 2, rel_tol=1e-12)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    "scores, labels, kwargs, error, match",
    [
        (
            np.zeros((2, 3)),
            np.array([0, 3]),
            {},
            ValueError,
            r"class ids in 0..2 \(3 classes\), got 3",
        ),
        (np.zeros((2, 3)), np.array([0, -1]), {}, ValueError, "class ids in 0..2"),
        (
            np.zeros((2, 3)),
            np.array([0, 1, 2]),
            {},
            ValueError,
            r"one label per example \(2\), got 3",
        ),
        (
            np.zeros((2, 3)),
            np.array([0.0, 1.0]),
            {},
            ValueError,
            "integer class ids.*astype",
        ),
        (
            np.zeros((2, 3)),
            np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]),
            {},
            ValueError,
            "exactly one 1 per row",
        ),
        (np.zeros(3), np.array([0]), {}, ValueError, "2-D array"),
        (np.array([[np.nan, 0.0]]), np.array([0]), {}, ValueError, "finite"),
        (
            np.zeros((2, 3)),
            np.array([0, 1]),
            {"out": np.zeros((3, 2))},
            ValueError,
            r"out to be an array of shape \(2, 3\)",
        ),
    ],
)
def test_softmax_cross_entropy_bad_input(scores, labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        softmax_cross_entropy(scores, labels, **kwargs)
