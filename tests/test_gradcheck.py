"""nnlib's gradient checker.

It must pass correct gradients, catch planted wrong ones, and refuse bad input.
"""

import random

import numpy as np
import pytest

from nnlib import gradcheck_naive, numerical_gradient, relative_error


def quad(x):
    return np.sum(x**2), 2 * x


CORRECT = {
    "quadratic, 0-d": (quad, np.array(123.456)),
    "quadratic, 1-D": (quad, np.random.default_rng(0).standard_normal(3)),
    "quadratic, 2-D": (quad, np.random.default_rng(1).standard_normal((4, 5))),
    "ln": (lambda x: (np.sum(np.log(x)), 1 / x), np.array([0.3, 1.0, 7.0])),
    "sin - cos": (
        lambda x: (np.sum(np.sin(x) - np.cos(x)), np.cos(x) + np.sin(x)),
        np.linspace(-3, 3, 7),
    ),
    "exp at 5": (lambda x: (np.sum(np.exp(x)), np.exp(x)), np.array([4.9, 5.0, 5.1])),
    "large cost": (lambda x: (1e6 + np.sum(x**2), 2 * x), np.array([0.25, -0.75])),
}


@pytest.mark.parametrize("name", list(CORRECT))
def test_passes_correct_gradients(name, capsys):
    f, x = CORRECT[name]
    assert gradcheck_naive(f, x) is True
    assert capsys.readouterr().out == "Gradient check passed!\n"


def test_forward_difference_would_fail_where_centered_passes():
    # the reason the checker is centered: at exp(5) a forward difference is off by about
    # h f''/2
    def f(x):
        return float(np.sum(np.exp(x)))

    x = np.array([5.0])
    fwd = numerical_gradient(f, x, method="forward")
    ctr = numerical_gradient(f, x, method="centered")
    assert relative_error(fwd, np.exp(x)) > 1e-5
    assert relative_error(ctr, np.exp(x)) < 1e-8


@pytest.mark.parametrize(
    "x, index, printed_index",
    [
        (np.array([1.0, -2.0, 3.0]), (1,), "(1,)"),
        (np.arange(12.0).reshape(3, 4) / 7, (2, 3), "(2, 3)"),
        (np.array(1.5), (), "()"),
    ],
)
def test_catches_planted_wrong_gradient_and_says_where(x, index, printed_index, capsys):
    def f(x):
        g = np.array(2 * x)  # an array even for 0-d x
        g[index] += 0.25  # wrong at exactly one index
        return np.sum(x**2), g

    assert gradcheck_naive(f, x) is False
    out = capsys.readouterr().out
    assert f"index {printed_index}" in out
    # both gradients at that index are printed: the planted one and the true one (2 x)
    assert f"{2 * x[index] + 0.25:f}" in out and f"{2 * x[index]:f}" in out


def test_catches_small_relative_error():
    x = np.array([1.5, 2.0, 2.5])
    assert (
        gradcheck_naive(
            lambda x: (np.sum(x**3), 3 * x**2 * (1 + 1e-3)), x, verbose=False
        )
        is False
    )
    assert (
        gradcheck_naive(
            lambda x: (np.sum(x**3), 3 * x**2 * (1 + 1e-7)), x, verbose=False
        )
        is True
    )


def test_leaves_x_unchanged_even_if_f_modifies_its_argument():
    x = np.array([[0.1, 0.2], [0.3, 0.4]])
    before = x.copy()

    def f(z):
        cost, g = np.sum(z**2), 2 * z
        z += 1.0  # a careless cost function
        return cost, g

    assert gradcheck_naive(f, x, verbose=False)
    assert np.array_equal(x, before)


def test_restores_random_state_so_random_cost_passes():
    def f(x):
        c = random.uniform(0.5, 2.0)
        return c * np.sum(x**2), 2 * c * x

    random.seed(4)
    state = random.getstate()
    assert gradcheck_naive(f, np.array([0.5, -1.0, 2.0]), verbose=False) is True
    assert random.getstate() == state  # and leaves it as it found it


def test_restores_numpy_random_state_too():
    def f(x):
        c = np.random.uniform(0.5, 2.0)
        return c * np.sum(x**2), 2 * c * x

    assert gradcheck_naive(f, np.array([0.5, -1.0]), verbose=False) is True


def test_accepts_integer_x_and_checks_in_float64():
    assert gradcheck_naive(quad, np.array([1, 2, 3]), verbose=False) is True
    assert (
        gradcheck_naive(quad, np.array([1.0, 2.0], dtype=np.float32), verbose=False)
        is True
    )


def test_accepts_size_one_cost_array():
    assert gradcheck_naive(
        lambda x: (np.array([np.sum(x**2)]), 2 * x), np.array([1.0, 2.0]), verbose=False
    )


@pytest.mark.parametrize(
    "f, x, error, pattern",
    [
        (
            "not a function",
            np.zeros(2),
            TypeError,
            r"expects f to be a function.*got str",
        ),
        (
            lambda x: np.sum(x**2),
            np.zeros(2),
            TypeError,
            r"f\(x\) to return a tuple \(cost, grad\), got float",
        ),
        (
            lambda x: (np.sum(x), 1.0, 2.0),
            np.zeros(2),
            TypeError,
            r"tuple \(cost, grad\), got tuple of length 3",
        ),
        (
            lambda x: (x**2, 2 * x),
            np.ones(2),
            TypeError,
            r"cost returned by f to be a single real number",
        ),
        (
            lambda x: (np.sum(x**2), 2 * x[:1]),
            np.ones(2),
            ValueError,
            r"shaped like x \(2,\), got shape \(1,\)",
        ),
        (
            lambda x: (np.sum(x**2), (2 * x).T),
            np.ones((2, 3)),
            ValueError,
            r"shaped like x \(2, 3\), got shape \(3, 2\)",
        ),
        (lambda x: (np.inf, 2 * x), np.ones(2), ValueError, r"non-finite cost inf"),
        (
            lambda x: (np.sum(x**2), np.full_like(x, np.nan)),
            np.ones(2),
            ValueError,
            r"finite values in the gradient",
        ),
        (
            quad,
            np.array([1.0, np.nan]),
            ValueError,
            r"finite values in x, got nan at index \(1,\)",
        ),
        (quad, np.array([1.0, np.inf]), ValueError, r"finite values in x, got inf"),
        (
            quad,
            "1.0",
            TypeError,
            r"expects x to be a number or an array of numbers, got str",
        ),
    ],
)
def test_rejects_bad_input(f, x, error, pattern):
    with pytest.raises(error, match=pattern):
        gradcheck_naive(f, x)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"h": 0.0}, r"h > 0"),
        ({"tol": -1.0}, r"tol > 0"),
        ({"h": "small"}, r"h to be a number"),
    ],
)
def test_rejects_bad_settings(kwargs, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        gradcheck_naive(quad, np.ones(2), **kwargs)


def test_numerical_gradient_matches_known_derivatives():
    x = np.array([[0.5, 1.0], [2.0, 3.0]])
    assert np.allclose(
        numerical_gradient(lambda z: np.sum(np.log(z)), x), 1 / x, rtol=1e-7
    )
    assert np.allclose(
        numerical_gradient(lambda z: np.sum(np.sin(z)), x), np.cos(x), atol=1e-8
    )
    assert np.allclose(
        numerical_gradient(lambda z: float(z**3), np.array(2.0)), 12.0, rtol=1e-8
    )


def test_numerical_gradient_orders_of_error():
    # centered error ~ h**2 f'''/6, forward error ~ h f''/2: shrinking h tenfold shrinks
    # them 100x and 10x
    f, x, exact = (lambda z: float(np.sum(np.exp(z)))), np.array([1.0]), np.exp(1.0)
    err = {
        m: [
            abs(numerical_gradient(f, x, h=h, method=m)[0] - exact)
            for h in (1e-2, 1e-3)
        ]
        for m in ("centered", "forward")
    }
    assert 80 < err["centered"][0] / err["centered"][1] < 120
    assert 8 < err["forward"][0] / err["forward"][1] < 12
    assert err["forward"][0] == pytest.approx(1e-2 * exact / 2, rel=0.01)
    assert err["centered"][0] == pytest.approx(1e-4 * exact / 6, rel=0.01)


def test_numerical_gradient_leaves_x_unchanged():
    x = np.array([1.0, 2.0])
    numerical_gradient(lambda z: float(np.sum(z**2)), x)
    assert np.array_equal(x, [1.0, 2.0])


@pytest.mark.parametrize(
    "f, kwargs, error, pattern",
    [
        (None, {}, TypeError, r"expects f to be a function"),
        (
            lambda z: (np.sum(z), z),
            {},
            TypeError,
            r"single real number, got tuple of length 2",
        ),
        (lambda z: z, {}, TypeError, r"single real number, got array of shape \(2,\)"),
        (
            lambda z: np.sum(z),
            {"method": "backward"},
            ValueError,
            r"'centered' or 'forward', got 'backward'",
        ),
        (lambda z: np.sum(z), {"h": -1e-4}, ValueError, r"h > 0"),
    ],
)
def test_numerical_gradient_rejects_bad_input(f, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        numerical_gradient(f, np.ones(2), **kwargs)


def test_relative_error_floor_and_scale():
    # absolute for small values
    assert relative_error([0.0], [1e-9]) == pytest.approx(1e-9)
    # relative for large ones
    assert relative_error([1e9], [1e9 + 1]) == pytest.approx(1e-9)
    # the largest entry
    assert relative_error([1.0, 4.0], [1.0, 2.0]) == pytest.approx(0.5)
    assert relative_error(np.zeros((0,)), np.zeros((0,))) == 0.0


def test_relative_error_rejects_bad_input():
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=r"finite values in b"):
        relative_error([1.0], [np.nan])
