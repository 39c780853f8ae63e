"""Input checks shared by every public function of nnlib.

Each helper raises ``TypeError`` or ``ValueError`` with a message that names the
function, what it expected and what it received, so that a mistake shows up at
the call that made it and not as a numpy traceback three frames deeper.
"""

from __future__ import annotations

import numbers

import numpy as np


def describe(x) -> str:
    """A short description of ``x`` for error messages: type, shape and dtype."""
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of length {len(x)}"
    return f"{type(x).__name__} {x!r}"[:120]


def as_float_array(
    x, func: str, name: str = "x", ndim=None, allow_scalar: bool = True
) -> np.ndarray:
    """Convert ``x`` to a floating-point array and check it.

    Parameters
    ----------
    x : array_like
        The value received.
    func, name : str
        The public function and argument, used in messages.
    ndim : int or tuple of int, optional
        The accepted numbers of dimensions.
    allow_scalar : bool
        Whether a 0-d value is accepted.

    Returns
    -------
    numpy.ndarray
        ``x`` as a float array (float64 unless it already was a float dtype).
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(
            f"{func} expects {name} to be a number or an array of numbers, got "
            f"{describe(x)}"
        )
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and other oddities
        raise TypeError(
            f"{func} expects {name} to be an array of numbers, got {describe(x)} "
            f"({exc})"
        ) from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise TypeError(
            f"{func} expects {name} to be an array of numbers, got {describe(x)} with "
            f"dtype {arr.dtype}"
        )
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(
            f"{func} expects real numbers in {name}, got complex dtype {arr.dtype}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if arr.ndim == 0 and not allow_scalar:
        raise ValueError(f"{func} expects {name} to be an array, got the scalar {x!r}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"{func} expects {name} to be a {want} array, got shape {arr.shape}"
            )
    check_finite(arr, func, name)
    return arr


def check_finite(arr: np.ndarray, func: str, name: str = "x") -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity, saying where."""
    if arr.size and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        where = tuple(int(i) for i in bad[0]) if arr.ndim else ()
        value = arr[where] if arr.ndim else arr
        raise ValueError(
            f"{func} expects finite values in {name}, got {value} at index {where} "
            f"({len(bad)} non-finite value(s) in all)"
        )


def check_int(value, func: str, name: str, minimum: int | None = None) -> int:
    """Check that ``value`` is an integer (not a bool) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{func} expects {name} to be an integer, got {describe(value)}"
        )
    if minimum is not None and value < minimum:
        raise ValueError(f"{func} expects {name} >= {minimum}, got {value}")
    return int(value)


def check_number(
    value, func: str, name: str, minimum: float | None = None, strict: bool = False
) -> float:
    """Check that ``value`` is a finite real number, optionally bounded below."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func} expects {name} to be a number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{func} expects {name} to be finite, got {value}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        op = ">" if strict else ">="
        raise ValueError(f"{func} expects {name} {op} {minimum}, got {value}")
    return value


def check_one_hot(y: np.ndarray, func: str, name: str = "y") -> None:
    """Raise ``ValueError`` unless every row of ``y`` (N, K) is one-hot."""
    if y.size and not np.all((y == 0) | (y == 1)):
        bad = y[(y != 0) & (y != 1)][0]
        raise ValueError(
            f"{func} expects one-hot labels {name} (only 0s and 1s), got the value "
            f"{bad}"
        )
    sums = y.sum(axis=-1)
    if y.size and not np.all(sums == 1):
        row = int(np.argmax(sums != 1)) if y.ndim == 2 else 0
        raise ValueError(
            f"{func} expects one-hot labels {name} with exactly one 1 per row, "
            f"got row {row} summing to {np.atleast_1d(sums)[row]:g}"
        )


def check_class_ids(labels, n: int, k: int, func: str, name: str = "y") -> np.ndarray:
    """``n`` labels of ``k`` classes: class ids (n,) in 0..k-1, or one-hot rows (n, k).

    Returns
    -------
    numpy.ndarray of numpy.intp, shape (n,)
    """
    expected = (
        f"integer class ids of shape ({n},) in 0..{k - 1}, "
        f"or one-hot labels of shape ({n}, {k})"
    )
    if isinstance(labels, (str, bytes)) or labels is None:
        raise ValueError(
            f"{func} expects {name} to be {expected}, got {describe(labels)}"
        )
    try:
        arr = np.asarray(labels)
    except Exception:
        raise ValueError(
            f"{func} expects {name} to be {expected}, got {describe(labels)}"
        ) from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise ValueError(
            f"{func} expects {name} to be {expected}, got an array of dtype {arr.dtype}"
        )
    if arr.ndim == 1:
        if not np.issubdtype(arr.dtype, np.integer):
            hint = (
                " (convert with y.astype(int))"
                if np.issubdtype(arr.dtype, np.floating)
                else ""
            )
            raise ValueError(
                f"{func} expects {name} to be {expected}, got a 1-D array of dtype "
                f"{arr.dtype}{hint}"
            )
        if arr.shape[0] != n:
            raise ValueError(
                f"{func} expects {name} to have one label per example ({n}), got "
                f"{arr.shape[0]} labels"
            )
        if arr.size and (arr.min() < 0 or arr.max() >= k):
            bad = arr[(arr < 0) | (arr >= k)][0]
            raise ValueError(
                f"{func} expects class ids in 0..{k - 1} ({k} classes), got {bad}"
            )
        return arr.astype(np.intp, copy=False)
    if arr.ndim == 2 and arr.shape == (n, k):
        check_one_hot(arr, func, name)
        return arr.argmax(axis=1).astype(np.intp)
    raise ValueError(f"{func} expects {name} to be {expected}, got shape {arr.shape}")


def check_float_dtype(dtype, func: str):
    """``numpy.dtype`` of float32 or float64, or ``TypeError``."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{func} expects dtype to be numpy.float32 or numpy.float64, got "
            f"{describe(dtype)}"
        ) from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(
            f"{func} expects dtype to be numpy.float32 or numpy.float64, got {dt}"
        )
    return dt


def as_rng(seed, func: str) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed (int >= 0 or None) or a Generator."""
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(
            f"{func} expects seed to be a non-negative integer, a Generator or None, "
            f"got {describe(seed)}"
        )
    return np.random.default_rng(int(seed))
