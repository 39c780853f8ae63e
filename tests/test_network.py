"""The one-hidden-layer network of Part I against an example-by-example computation."""

import math

import numpy as np
import pytest

from nnlib import (
    forward_backward_prop,
    gradcheck_naive,
    pack_params,
    param_count,
    unpack_params,
)


def random_problem(dims, m, seed):
    rng = np.random.default_rng(seed)
    dx, h, dy = dims
    X = rng.standard_normal((m, dx))
    Y = np.eye(dy)[rng.integers(0, dy, m)]
    params = rng.standard_normal(param_count(dims))
    return X, Y, params


def loop_forward_backward(X, Y, params, dims):
    """Cost and gradient by Python loops over examples and units, from the equations.

    For one example x with one-hot y: a_j = s(sum_i x_i W1[i, j] + b1[j]),
    p = softmax(a W2 + b2), loss = -log p[c]; dloss/dz2_k = p_k - y_k;
    dloss/dz1_j = (sum_k (p_k - y_k) W2[j, k]) a_j (1 - a_j). The cost and the
    gradient are the averages over the examples.
    """
    dx, h, dy = dims
    # unpack by hand, in the documented order W1 (row-major), b1, W2 (row-major), b2
    k = 0
    W1 = [[0.0] * h for _ in range(dx)]
    for i in range(dx):
        for j in range(h):
            W1[i][j] = params[k]
            k += 1
    b1 = [params[k + j] for j in range(h)]
    k += h
    W2 = [[0.0] * dy for _ in range(h)]
    for j in range(h):
        for c in range(dy):
            W2[j][c] = params[k]
            k += 1
    b2 = [params[k + c] for c in range(dy)]
    m = len(X)
    gW1 = [[0.0] * h for _ in range(dx)]
    gb1 = [0.0] * h
    gW2 = [[0.0] * dy for _ in range(h)]
    gb2 = [0.0] * dy
    cost = 0.0
    for x, y in zip(X, Y, strict=True):
        a = [
            1 / (1 + math.exp(-(sum(x[i] * W1[i][j] for i in range(dx)) + b1[j])))
            for j in range(h)
        ]
        z2 = [sum(a[j] * W2[j][c] for j in range(h)) + b2[c] for c in range(dy)]
        top = max(z2)
        e = [math.exp(z - top) for z in z2]
        p = [v / sum(e) for v in e]
        cls = list(y).index(1.0)
        cost += -math.log(p[cls]) / m
        d2 = [(p[c] - y[c]) / m for c in range(dy)]
        d1 = [
            sum(d2[c] * W2[j][c] for c in range(dy)) * a[j] * (1 - a[j])
            for j in range(h)
        ]
        for j in range(h):
            for c in range(dy):
                gW2[j][c] += a[j] * d2[c]
        for c in range(dy):
            gb2[c] += d2[c]
        for i in range(dx):
            for j in range(h):
                gW1[i][j] += x[i] * d1[j]
        for j in range(h):
            gb1[j] += d1[j]
    flat = [v for row in gW1 for v in row] + gb1 + [v for row in gW2 for v in row] + gb2
    return cost, np.array(flat)


@pytest.mark.parametrize(
    "dims, m, seed",
    [((10, 5, 10), 20, 0), ((2, 3, 2), 5, 1), ((4, 6, 3), 1, 2), ((3, 1, 4), 7, 3)],
)
def test_matches_independent_loop_computation(dims, m, seed):
    X, Y, params = random_problem(dims, m, seed)
    cost, grad = forward_backward_prop(X, Y, params, dims)
    cost_loop, grad_loop = loop_forward_backward(X, Y, params, dims)
    assert isinstance(cost, float)
    assert grad.shape == params.shape
    assert cost == pytest.approx(cost_loop, rel=1e-12)
    np.testing.assert_allclose(grad, grad_loop, rtol=1e-10, atol=1e-14)


def test_passes_gradcheck_on_the_chapter_problem(capsys):
    dims = (10, 5, 10)
    X, Y, params = random_problem(dims, 20, 0)
    assert (
        gradcheck_naive(lambda p: forward_backward_prop(X, Y, p, dims), params) is True
    )
    assert capsys.readouterr().out == "Gradient check passed!\n"


def test_gradcheck_catches_a_planted_backprop_bug():
    dims = (10, 5, 10)
    X, Y, params = random_problem(dims, 20, 0)

    def wrong(p):  # gradient not divided by M, as if the cost were summed
        cost, grad = forward_backward_prop(X, Y, p, dims)
        return cost, grad * X.shape[0]

    assert gradcheck_naive(wrong, params, verbose=False) is False


def test_cost_of_uniform_prediction_is_log_dy():
    # with all weights zero the softmax is uniform: the cost is log(Dy) for any data
    dims = (3, 4, 5)
    X, Y, _ = random_problem(dims, 6, 0)
    cost, grad = forward_backward_prop(X, Y, np.zeros(param_count(dims)), dims)
    assert cost == pytest.approx(np.log(5))
    W1, b1, W2, b2 = unpack_params(grad, dims)
    # W2 = 0 passes no error back to the hidden layer
    assert np.all(W1 == 0) and np.all(b1 == 0)
    # mean of (y_hat - y) with y_hat = 1/5
    np.testing.assert_allclose(b2, 1 / 5 - Y.mean(0))
    # A1 = sigmoid(0) = 1/2 for every unit
    np.testing.assert_allclose(W2, np.tile(0.5 * b2, (4, 1)))


def test_does_not_modify_inputs():
    dims = (2, 3, 2)
    X, Y, params = random_problem(dims, 4, 5)
    copies = X.copy(), Y.copy(), params.copy()
    forward_backward_prop(X, Y, params, dims)
    for before, after in zip(copies, (X, Y, params), strict=True):
        assert np.array_equal(before, after)


def test_accepts_lists_and_integer_labels():
    dims = (2, 2, 2)
    cost, grad = forward_backward_prop(
        [[1, 2], [3, 4]], [[0, 1], [1, 0]], list(range(12)), dims
    )
    X, Y, p = (
        np.array([[1.0, 2], [3, 4]]),
        np.array([[0.0, 1], [1, 0]]),
        np.arange(12.0),
    )
    cost_loop, grad_loop = loop_forward_backward(X, Y, p, dims)
    assert cost == pytest.approx(cost_loop, rel=1e-12)
    np.testing.assert_allclose(grad, grad_loop, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    "dims, expected",
    [((10, 5, 10), 115), ((2, 3, 2), 17), ((784, 100, 10), 79510), ((1, 1, 1), 4)],
)
def test_param_count(dims, expected):
    # (Dx + 1) H + (H + 1) Dy, counted here as weights plus biases of each layer
    dx, h, dy = dims
    assert expected == dx * h + h + h * dy + dy
    assert param_count(dims) == expected
    assert param_count(np.array(dims)) == expected


def test_pack_unpack_round_trip_and_order():
    W1 = np.arange(6.0).reshape(2, 3)
    b1 = np.array([10.0, 11, 12])
    W2 = np.arange(20.0, 26).reshape(3, 2)
    b2 = np.array([30.0, 31])
    packed = pack_params(W1, b1, W2, b2)
    # row-major: W1[0, :] first, then W1[1, :], then b1, ...
    assert list(packed) == [
        0,
        1,
        2,
        3,
        4,
        5,
        10,
        11,
        12,
        20,
        21,
        22,
        23,
        24,
        25,
        30,
        31,
    ]
    for a, b in zip(unpack_params(packed, (2, 3, 2)), (W1, b1, W2, b2), strict=True):
        assert a.shape == b.shape and np.array_equal(a, b)


def test_unpack_returns_views():
    params = np.zeros(17)
    W1, b1, W2, b2 = unpack_params(params, (2, 3, 2))
    W1[0, 0] = 1.0
    assert params[0] == 1.0


X0, Y0, P0 = random_problem((2, 3, 2), 4, 9)


@pytest.mark.parametrize(
    "args, error, pattern",
    [
        (
            (X0[0], Y0, P0, (2, 3, 2)),
            ValueError,
            r"expects data to be a 2-D array, got shape \(2,\)",
        ),
        (
            (X0[None], Y0, P0, (2, 3, 2)),
            ValueError,
            r"data to be a 2-D array, got shape \(1, 4, 2\)",
        ),
        (
            (X0, Y0[0], P0, (2, 3, 2)),
            ValueError,
            r"labels to be a 2-D array, got shape \(2,\)",
        ),
        (
            (X0[:, :1], Y0, P0, (2, 3, 2)),
            ValueError,
            r"data with Dx = 2 columns .* got shape \(4, 1\)",
        ),
        (
            (X0, Y0[:3], P0, (2, 3, 2)),
            ValueError,
            r"labels of shape \(M, Dy\) = \(4, 2\), got shape \(3, 2\)",
        ),
        (
            (X0, np.hstack([Y0, Y0]), P0, (2, 3, 2)),
            ValueError,
            r"labels of shape \(M, Dy\) = \(4, 2\), got shape \(4, 4\)",
        ),
        (
            (X0[:0], Y0[:0], P0, (2, 3, 2)),
            ValueError,
            r"at least one example, got data of shape \(0, 2\)",
        ),
        (
            (X0, Y0 * 0.5, P0, (2, 3, 2)),
            ValueError,
            r"one-hot labels .*only 0s and 1s.*got the value 0.5",
        ),
        (
            (X0, np.ones_like(Y0), P0, (2, 3, 2)),
            ValueError,
            r"exactly one 1 per row, got row 0 summing to 2",
        ),
        (
            (np.where(X0 > 0, np.nan, X0), Y0, P0, (2, 3, 2)),
            ValueError,
            r"finite values in data, got nan",
        ),
        (
            (X0, Y0, np.r_[P0[:-1], np.inf], (2, 3, 2)),
            ValueError,
            r"finite values in params, got inf at index \(16,\)",
        ),
        (
            (X0, Y0, P0[:-1], (2, 3, 2)),
            ValueError,
            r"expects 17 parameters for dimensions 2-3-2.*got a vector of length 16",
        ),
        (
            (X0, Y0, np.r_[P0, 0.0], (2, 3, 2)),
            ValueError,
            r"expects 17 parameters .* length 18",
        ),
        (
            (X0, Y0, P0.reshape(1, -1), (2, 3, 2)),
            ValueError,
            r"params to be a 1-D array, got shape \(1, 17\)",
        ),
        (
            (X0, Y0, P0, (2, 3)),
            ValueError,
            r"dimensions = \(Dx, H, Dy\), three positive integers, got \(2, 3\)",
        ),
        ((X0, Y0, P0, (2, 0, 2)), ValueError, r"dimensions\[1\] >= 1, got 0"),
        (
            (X0, Y0, P0, (2.0, 3, 2)),
            TypeError,
            r"dimensions\[0\] to be an integer, got float 2.0",
        ),
        ((X0, Y0, P0, "232"), ValueError, r"three positive integers, got '232'"),
        (
            ("data", Y0, P0, (2, 3, 2)),
            TypeError,
            r"data to be a number or an array of numbers, got str",
        ),
    ],
)
def test_forward_backward_prop_rejects_bad_input(args, error, pattern):
    with pytest.raises(error, match=pattern):
        forward_backward_prop(*args)


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (
            lambda: param_count((10, 5)),
            ValueError,
            r"three positive integers, got \(10, 5\)",
        ),
        (
            lambda: param_count((10, -5, 10)),
            ValueError,
            r"dimensions\[1\] >= 1, got -5",
        ),
        (
            lambda: param_count((10, True, 10)),
            TypeError,
            r"dimensions\[1\] to be an integer, got bool",
        ),
        (
            lambda: unpack_params(np.zeros(16), (2, 3, 2)),
            ValueError,
            r"expects 17 parameters .*length 16",
        ),
        (
            lambda: unpack_params(np.zeros((17, 1)), (2, 3, 2)),
            ValueError,
            r"1-D array, got shape \(17, 1\)",
        ),
        (
            lambda: pack_params(
                np.zeros(6), np.zeros(3), np.zeros((3, 2)), np.zeros(2)
            ),
            ValueError,
            r"2-D W1 and W2, got shapes \(6,\) and \(3, 2\)",
        ),
        (
            lambda: pack_params(
                np.zeros((2, 3)), np.zeros(2), np.zeros((3, 2)), np.zeros(2)
            ),
            ValueError,
            r"W1 \(Dx, H\), b1 \(H,\), W2 \(H, Dy\), b2 \(Dy,\), "
            r"got \(2, 3\), \(2,\), \(3, 2\), \(2,\)",
        ),
        (
            lambda: pack_params(
                np.zeros((2, 3)), np.zeros(3), np.zeros((4, 2)), np.zeros(2)
            ),
            ValueError,
            r"got \(2, 3\), \(3,\), \(4, 2\), \(2,\)",
        ),
        (
            lambda: pack_params(
                np.zeros((2, 3)), np.zeros(3), np.zeros((3, 2)), [np.nan, 0]
            ),
            ValueError,
            r"finite values in b2",
        ),
    ],
)
def test_helpers_reject_bad_input(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
