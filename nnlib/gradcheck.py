"""Numerical gradients and the gradient checker.

``gradcheck_naive`` compares an analytic gradient with centered differences
``(f(x + h) - f(x - h)) / 2h``, whose error shrinks like ``h**2``, one
coordinate at a time.
"""

from __future__ import annotations

import random

import numpy as np

from ._validation import as_float_array, check_number, describe

__all__ = ["gradcheck_naive", "numerical_gradient", "relative_error"]


def relative_error(a, b):
    """Largest elementwise ``|a - b| / max(1, |a|, |b|)``.

    The floor of 1 in the denominator makes this an absolute error for small
    values and a relative error for large ones, so that neither a gradient of
    ``1e-9`` nor one of ``1e9`` is judged unfairly.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
    """
    a = as_float_array(a, "relative_error", "a")
    b = as_float_array(b, "relative_error", "b")
    if a.shape != b.shape:
        raise ValueError(
            "relative_error expects a and b of the same shape, "
            f"got {a.shape} and {b.shape}"
        )
    if a.size == 0:
        return 0.0
    return float(
        np.max(np.abs(a - b) / np.maximum(1.0, np.maximum(np.abs(a), np.abs(b))))
    )


def _as_cost(cost, func, where):
    """The cost returned by ``f`` as a Python float (0-d and size-1 arrays accepted)."""
    try:
        cost_arr = np.asarray(cost)
    except (TypeError, ValueError):  # a tuple (cost, grad) or another ragged sequence
        cost_arr = np.asarray(None)
    if (
        cost_arr.size != 1
        or not np.issubdtype(cost_arr.dtype, np.number)
        or np.issubdtype(cost_arr.dtype, np.complexfloating)
    ):
        raise TypeError(
            f"{func} expects the cost returned by f to be a single real number, "
            f"got {describe(cost)} {where}"
        )
    # float() of a shape-(1,) array is an error in recent numpy
    value = float(cost_arr.reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"{func} got a non-finite cost {value} from f {where}")
    return value


def _call(f, x, where):
    out = f(x)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            "gradcheck_naive expects f(x) to return a tuple (cost, grad), "
            f"got {describe(out)} {where}"
        )
    cost, grad = out
    return _as_cost(cost, "gradcheck_naive", where), grad


def gradcheck_naive(
    f, x, h: float = 1e-4, tol: float = 1e-5, verbose: bool = True
) -> bool:
    """Check the gradient that ``f`` returns against centered differences.

    For every index ``i`` of ``x`` it computes
    ``num = (f(x + h e_i) - f(x - h e_i)) / (2h)`` and compares it with the
    analytic ``grad[i]`` through ``|num - grad[i]| / max(1, |num|, |grad[i]|)``.
    Python's ``random`` state and numpy's global random state are restored
    before every call of ``f``, so a cost that samples at random (negative
    sampling, dropout driven by those generators) sees the same draws each time.

    Parameters
    ----------
    f : callable
        ``f(x) -> (cost, grad)`` with a scalar cost and ``grad`` shaped like ``x``.
    x : array_like, any shape (a 0-d array for a scalar)
        The point to check at. It is not modified: ``f`` is evaluated on a copy.
    h : float
        Step of the centered difference (default 1e-4).
    tol : float
        Largest accepted relative error (default 1e-5).
    verbose : bool
        Print "Gradient check passed!" or where it failed.

    Returns
    -------
    bool
        True if every coordinate agrees within ``tol``.
    """
    if not callable(f):
        raise TypeError(
            "gradcheck_naive expects f to be a function f(x) -> (cost, grad), "
            f"got {describe(f)}"
        )
    # a private copy
    x = np.array(as_float_array(x, "gradcheck_naive"), dtype=np.float64)
    h = check_number(h, "gradcheck_naive", "h", minimum=0, strict=True)
    tol = check_number(tol, "gradcheck_naive", "tol", minimum=0, strict=True)

    py_state = random.getstate()
    np_state = np.random.get_state()

    def restore():
        random.setstate(py_state)
        np.random.set_state(np_state)

    restore()
    _, grad = _call(f, x.copy(), "at x")
    grad = as_float_array(grad, "gradcheck_naive", "the gradient returned by f")
    if grad.shape != x.shape:
        raise ValueError(
            "gradcheck_naive expects f to return a gradient shaped like "
            f"x {x.shape}, got shape {grad.shape}"
        )

    ok = True
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        restore()
        f_plus, _ = _call(f, x.copy(), f"at x[{ix}] + h")
        x[ix] = old - h
        restore()
        f_minus, _ = _call(f, x.copy(), f"at x[{ix}] - h")
        x[ix] = old
        numgrad = (f_plus - f_minus) / (2 * h)
        rel = abs(numgrad - grad[ix]) / max(1.0, abs(numgrad), abs(grad[ix]))
        if rel > tol:
            ok = False
            if verbose:
                print("Gradient check failed.")
                print(f"First gradient error found at index {ix if x.ndim else '()'}")
                print(f"Your gradient: {grad[ix]:f} \t Numerical gradient: {numgrad:f}")
            break
    restore()
    if ok and verbose:
        print("Gradient check passed!")
    return ok


def numerical_gradient(f, x, h: float = 1e-4, method: str = "centered"):
    """Numerical gradient of a scalar function ``f(x) -> float``.

    Parameters
    ----------
    f : callable
        Returns a number for an array shaped like ``x``.
    x : array_like, any shape
    h : float
        Step size.
    method : {"centered", "forward"}
        ``(f(x+h) - f(x-h)) / 2h`` (error O(h**2)) or ``(f(x+h) - f(x)) / h`` (error
        O(h)).

    Returns
    -------
    numpy.ndarray, same shape as ``x``
    """
    if not callable(f):
        raise TypeError(
            f"numerical_gradient expects f to be a function, got {describe(f)}"
        )
    if method not in ("centered", "forward"):
        raise ValueError(
            f"numerical_gradient expects method 'centered' or 'forward', got {method!r}"
        )
    h = check_number(h, "numerical_gradient", "h", minimum=0, strict=True)
    x = np.array(as_float_array(x, "numerical_gradient"), dtype=np.float64)
    grad = np.zeros_like(x)
    func = "numerical_gradient"
    fx = _as_cost(f(x.copy()), func, "at x") if method == "forward" else None
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        f_plus = _as_cost(f(x.copy()), func, f"at x[{ix}] + h")
        if method == "centered":
            x[ix] = old - h
            grad[ix] = (f_plus - _as_cost(f(x.copy()), func, f"at x[{ix}] - h")) / (
                2 * h
            )
        else:
            grad[ix] = (f_plus - fx) / h
        x[ix] = old
    return grad
