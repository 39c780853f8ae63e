"""nnlib.SGD and nnlib.Adam: update rules, in place, state per position, bad input."""

import math

import numpy as np
import pytest

from nnlib.optim import SGD, Adam


def test_plain_sgd_step_is_theta_minus_rate_times_gradient():
    W, b = np.array([[1.0, -2.0]]), np.array([0.5])
    W0, b0 = W.copy(), b.copy()
    gW, gb = np.array([[0.1, 0.3]]), np.array([-1.0])
    SGD(learning_rate=0.5).step([W, b], [gW, gb])
    np.testing.assert_allclose(W, W0 - 0.5 * gW)
    np.testing.assert_allclose(b, b0 - 0.5 * gb)


def test_momentum_follows_the_heavy_ball_recurrence():
    """On f(x) = a x^2 / 2, against the recurrence written out with Python floats."""
    a, lr, mu = 3.0, 0.1, 0.9
    x = np.array([2.0])
    opt = SGD(learning_rate=lr, momentum=mu)
    xs, vs = 2.0, 0.0
    for _ in range(25):
        opt.step([x], [a * x])
        vs = mu * vs - lr * a * xs
        xs = xs + vs
        assert x[0] == pytest.approx(xs, rel=1e-12)


def test_momentum_beats_plain_descent_on_an_ill_conditioned_quadratic():
    curv = np.array([1.0, 100.0])  # f = sum(curv * x^2) / 2, condition number 100

    def distance_after(opt, steps=100):
        x = np.array([1.0, 1.0])
        for _ in range(steps):
            opt.step([x], [curv * x])
        return np.linalg.norm(x)

    plain = distance_after(
        SGD(learning_rate=0.018)
    )  # below 2 / 100, the divergence limit
    heavy = distance_after(SGD(learning_rate=0.018, momentum=0.8))
    assert heavy < plain / 100


def test_adam_two_steps_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    theta = np.array([1.0])
    opt = Adam(learning_rate=lr, beta1=b1, beta2=b2, eps=eps)
    expected, m, v = 1.0, 0.0, 0.0
    for t, g in enumerate([0.5, -2.0], start=1):
        opt.step([theta], [np.array([g])])
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        expected -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        assert theta[0] == pytest.approx(expected, rel=1e-12)
    assert opt.t == 2


def test_adam_first_step_has_the_size_of_the_rate_whatever_the_gradient_scale():
    for scale in (1e-3, 1.0, 1e3):
        theta = np.zeros(3)
        Adam(learning_rate=0.01).step([theta], [scale * np.array([1.0, -2.0, 0.5])])
        np.testing.assert_allclose(theta, [-0.01, 0.01, -0.01], rtol=1e-4)


def test_state_is_kept_per_position_and_reset_forgets_it():
    a, b = np.zeros(2), np.zeros(3)
    opt = SGD(learning_rate=1.0, momentum=0.5)
    opt.step([a, b], [np.ones(2), 2 * np.ones(3)])
    opt.step([a, b], [np.ones(2), 2 * np.ones(3)])
    np.testing.assert_allclose(a, -(1 + 1.5) * np.ones(2))  # v: -1, then -1.5
    np.testing.assert_allclose(b, -(2 + 3) * np.ones(3))
    opt.reset()
    c = np.zeros(4)
    opt.step([c], [np.ones(4)])  # another model after reset: no error, fresh velocity
    np.testing.assert_allclose(c, -np.ones(4))


def test_step_updates_the_arrays_in_place():
    W = np.ones((2, 2))
    before = id(W)
    for opt in (SGD(0.1), SGD(0.1, momentum=0.9), Adam()):
        opt.step([W], [np.ones((2, 2))])
    assert id(W) == before and np.all(W < 1)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD(0.0), "learning_rate > 0.0, got 0.0"),
        (lambda: SGD(-1), "learning_rate > 0.0"),
        (lambda: SGD(0.1, momentum=1.0), r"momentum in \[0, 1\), got 1.0"),
        (lambda: SGD(0.1, momentum=-0.1), "momentum >= 0.0"),
        (lambda: Adam(beta1=1.0), r"beta1 in \[0, 1\)"),
        (lambda: Adam(beta2=1.5), r"beta2 in \[0, 1\)"),
        (lambda: Adam(learning_rate=float("nan")), "finite"),
        (lambda: Adam(eps=0), "eps > 0.0"),
    ],
)
def test_bad_settings_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("opt", [SGD(0.1), SGD(0.1, momentum=0.9), Adam()], ids=repr)
def test_bad_lists_are_rejected(opt):
    W = np.zeros((2, 3))
    with pytest.raises(
        ValueError, match="as many gradients as parameters, got 1 parameters and 2"
    ):
        opt.step([W], [W, W])
    with pytest.raises(
        ValueError, match=r"shape of params\[0\], \(2, 3\), got \(3, 2\)"
    ):
        opt.step([W], [np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"1 non-finite value\(s\) in grads\[0\]"):
        opt.step([W], [np.array([[0, 0, np.nan], [0, 0, 0]])])
    with pytest.raises(
        TypeError, match=r"list of numpy arrays, got array of shape \(2, 3\)"
    ):
        opt.step(W, [W])
    with pytest.raises(TypeError, match=r"params\[0\] to be a float numpy array"):
        opt.step([[1.0, 2.0]], [np.zeros(2)])
    assert np.all(W == 0)  # nothing was updated by a rejected call


def test_other_shapes_after_a_first_step_need_reset():
    opt = Adam()
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="call reset"):
        opt.step([np.zeros(3)], [np.ones(3)])
