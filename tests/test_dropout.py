"""nnlib.dropout_forward / dropout_backward: inverted dropout."""

import numpy as np
import pytest

from nnlib.dropout import dropout_backward, dropout_forward
from nnlib.gradcheck import numerical_gradient


def test_test_time_and_p_zero_return_the_input():
    x = np.arange(12.0).reshape(3, 4)
    for out, _ in (
        dropout_forward(x, 0.5, np.random.default_rng(0), training=False),
        dropout_forward(x, 0.0, np.random.default_rng(0)),
    ):
        np.testing.assert_array_equal(out, x)
        assert out is not x


def test_kept_entries_are_scaled_and_dropped_ones_are_zero():
    x = np.random.default_rng(1).uniform(1, 2, size=(50, 40))
    out, (mask, p) = dropout_forward(x, 0.3, np.random.default_rng(2))
    assert p == 0.3 and mask.dtype == bool and mask.shape == x.shape
    np.testing.assert_allclose(out[mask], x[mask] / 0.7)
    assert np.all(out[~mask] == 0)
    assert abs((~mask).mean() - 0.3) < 0.03  # 2000 entries: sd of the fraction is 0.01


def test_expected_output_equals_the_input():
    x = np.array([1.0, -2.0, 3.0])
    rng = np.random.default_rng(3)
    mean = np.mean([dropout_forward(x, 0.5, rng)[0] for _ in range(20000)], axis=0)
    np.testing.assert_allclose(mean, x, atol=0.05)  # sd of each mean about 0.007 |x|


def test_same_generator_state_same_mask():
    x = np.ones((4, 5))
    a = dropout_forward(x, 0.5, np.random.default_rng(7))[0]
    b = dropout_forward(x, 0.5, np.random.default_rng(7))[0]
    np.testing.assert_array_equal(a, b)


def test_backward_matches_the_numerical_gradient_with_a_fixed_mask():
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))

    def loss(x_):
        out, _ = dropout_forward(
            x_, 0.4, np.random.default_rng(11)
        )  # the same mask each call
        return float(np.sum(w * out**2))

    out, cache = dropout_forward(x, 0.4, np.random.default_rng(11))
    dx = dropout_backward(2 * w * out, cache)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8)


def test_backward_at_test_time_passes_the_gradient():
    dout = np.ones((2, 3))
    _, cache = dropout_forward(np.zeros((2, 3)), 0.5, None, training=False)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


@pytest.mark.parametrize(
    "args, error, message",
    [
        (
            (np.ones(3), 1.0, np.random.default_rng(0)),
            ValueError,
            r"in \[0, 1\), got 1.0",
        ),
        ((np.ones(3), -0.1, np.random.default_rng(0)), ValueError, "p >= 0.0"),
        ((np.ones(3), 0.5, 0), TypeError, "rng to be a numpy.random.Generator"),
        (
            (np.array([1.0, np.inf]), 0.5, np.random.default_rng(0)),
            ValueError,
            "finite",
        ),
        (("abc", 0.5, np.random.default_rng(0)), TypeError, "array of numbers"),
    ],
)
def test_forward_rejects_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        dropout_forward(*args)


def test_backward_rejects_bad_input():
    _, cache = dropout_forward(np.ones((2, 3)), 0.5, np.random.default_rng(0))
    with pytest.raises(
        ValueError, match=r"shape of the forward input, \(2, 3\), got \(3, 2\)"
    ):
        dropout_backward(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match="cache"):
        dropout_backward(np.ones((2, 3)), cache[0])
