"""The machinery of every exercise check: one runner, one message format.

A check calls the student's function through :func:`run` on a handful of cases.
The runner hands it copies of the arguments (but for those it must change in
place, which the check then inspects), and a failure in any case raises
:class:`CheckFailure` (an ``AssertionError``) with a message that names the
exercise, the case, what was expected, what came back and, where the evidence
fits a classic mistake, a hint. When every case agrees the check prints one line.

Mistake tables have one layout everywhere: ``(evidence, hint)`` pairs, where the
evidence is what the mistake produces (a value, or a function computing it), a
bool saying whether the mistake is seen, a shape, or a piece of an error message.
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from functools import partial
from typing import NamedTuple

import numpy as np

__all__ = [
    "Array",
    "CheckFailure",
    "close",
    "compare",
    "fail",
    "first_match",
    "fmt",
    "passed",
    "returned",
    "run",
    "variants",
]

_RED, _RESET = "\x1b[0;31m", "\x1b[0m"


class CheckFailure(AssertionError):
    """A failed check; IPython and Jupyter show its message only, not a traceback."""

    def _render_traceback_(self):
        first, *rest = str(self).split("\n")
        return [f"{_RED}✗{_RESET} {first}", *rest]


def _unfilled(exc: NotImplementedError, exercise: str) -> None:
    """Let IPython show an unfilled exercise's own message, not the check's source."""
    exc._render_traceback_ = lambda: [
        f"{_RED}{type(exc).__name__}{_RESET}: {exc}",
        f"checks.{exercise} called your {exercise}, which is not written yet: replace "
        "the line `raise NotImplementedError(...)` in its cell by your code, run that "
        "cell, then this one.",
    ]


def fmt(value, width: int = 400) -> str:
    """A compact rendering of a value for a check message."""
    if isinstance(value, np.ndarray):
        options = dict(
            precision=6, suppress=True, threshold=30, edgeitems=3, linewidth=100
        )
        with np.printoptions(**options):
            text = np.array2string(value, separator=", ")
        text = f"{text} (shape {value.shape})" if value.ndim else text
    elif isinstance(value, float):
        text = f"{value:.8g}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 4] + " ..."


def _alike_note(expected, got) -> str | None:
    """When two different arrays print alike, say where they differ and their dtypes."""
    try:
        e, g = np.asarray(expected), np.asarray(got)
        if e.shape != g.shape or fmt(e) != fmt(g) or not e.size:
            return None
        diff = np.abs(g.astype(np.float64) - e.astype(np.float64))
    except (TypeError, ValueError):
        return None
    where = np.unravel_index(int(np.nanargmax(diff)), diff.shape)
    at = f" at index {tuple(int(i) for i in where)}" if e.ndim else ""
    return (
        f"  (they print alike: the largest difference is {diff[where]:.3g}{at}; dtypes "
        f"{e.dtype} and {g.dtype})"
    )


_NOTHING = object()


def fail(exercise, case, message=None, *, expected=_NOTHING, got=_NOTHING, hint=None):
    """Raise the check's failure with the one message format of every check."""
    lines = [f"{exercise} is not right yet, for {case}."]
    if message:
        lines.append(message)
    if expected is not _NOTHING:
        lines += [f"  expected: {fmt(expected)}", f"  got:      {fmt(got)}"]
        lines += [note] if (note := _alike_note(expected, got)) else []
    if hint:
        lines.append(f"Hint: {hint}")
    raise CheckFailure("\n".join(lines))


def passed(exercise: str, n: int) -> None:
    print(f"✓ {exercise}: all {n} checks passed")


def close(a, b, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """``numpy.allclose``, False (not an error) for other shapes or non-numbers."""
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def first_match(got, table, rtol: float = 1e-6, atol: float = 1e-8):
    """The hint of the first ``(evidence, hint)`` of ``table`` that fits ``got``.

    The evidence is a bool (the mistake is seen or not), ``None`` (does not
    apply), or what the mistake produces: a value, or a function computing it
    (a formula that fails on this input cannot be what the student did).
    """
    for evidence, hint in table:
        if isinstance(evidence, (bool, np.bool_)):
            if evidence:
                return hint
            continue
        if callable(evidence):
            try:
                with np.errstate(all="ignore"):
                    evidence = evidence()
            except Exception:  # noqa: BLE001 - a formula that does not apply here
                continue
        if evidence is not None and close(got, evidence, rtol, atol):
            return hint
    return None


def _outcome(formula, kwargs, index):
    return formula(**kwargs)[index]


def variants(formula, table, index):
    """``(evidence, hint)`` for each ``(keywords, hint)`` of ``table``: the value
    ``formula(**keywords)[index]`` (computed only if needed) that the mistake gives."""
    return [(partial(_outcome, formula, kw, index), hint) for kw, hint in table]


def compare_each(exercise, case, names, got, formula, table, order, *, hint, atol):
    """:func:`compare` for several returned arrays, in ``order`` (most telling first).

    ``formula()`` gives the expected tuple; ``table`` the ``(keywords, hint)`` mistakes
    that :func:`variants` turns into candidates for each array.
    """
    want = formula()
    for i in order:
        compare(
            exercise,
            case,
            names[i],
            got[i],
            want[i],
            variants(formula, table, i),
            default_hint=hint,
            atol=atol,
        )


def compare(
    exercise,
    case,
    name,
    got,
    expected,
    mistakes=(),
    *,
    default_hint=None,
    rtol=1e-6,
    atol=1e-8,
):
    """Fail unless ``got`` is close to ``expected``, naming the mistake it fits.

    ``name`` (of the value compared, or None) opens the message.
    """
    if close(got, expected, rtol, atol):
        return
    hint = first_match(got, mistakes, rtol, atol) or default_hint
    if hint is None and not np.all(np.isfinite(got)):
        hint = (
            "the result contains NaN or inf: some step overflowed, divided by zero or "
            "took the log of 0 (np.errstate(...) would hide numpy's warning, not fix "
            "the formula)."
        )
    fail(
        exercise,
        case,
        name and f"{name} differs from the expected value.",
        expected=expected,
        got=got,
        hint=hint,
    )


def network_case(dims, n, seed):
    """A seeded case of chapter 4's network: X (N, D_x), one-hot Y (N, K) and params."""
    rng = np.random.default_rng(seed)
    d_x, h, k = dims
    X = rng.standard_normal((n, d_x))
    Y = np.zeros((n, k))
    Y[np.arange(n), rng.integers(0, k, n)] = 1.0
    params = rng.standard_normal((d_x + 1) * h + (h + 1) * k)
    return X, Y, params


def network_shapes(X, dims) -> str:
    """The shapes of chapter 4's network for a case, for hints about matrix products."""
    d_x, h, k = dims
    n = X.shape[0]
    return (
        f"here X is (N, D_x) = ({n}, {d_x}), W1 ({d_x}, {h}), b1 ({h},), Z1, A1 and "
        f"delta1 ({n}, {h}), W2 ({h}, {k}), b2 ({k},), Z2, Y_hat and delta2 ({n}, {k})"
    )


# ------------------------------------------------------------------ what comes back


class Array(NamedTuple):
    """A float64 array of ``shape`` that a check expects back; shape ``()`` is a number.

    ``shape_mistakes`` are ``(wrong shape, hint)`` pairs, tried before the
    general hints about shapes. Shape ``None`` takes any value, unchecked.
    """

    shape: tuple
    name: str = "the result"
    shape_mistakes: tuple = ()


def _describe(value) -> str:
    if isinstance(value, (list, tuple)):  # shown as numbers, not as np.float64(0.5)
        with contextlib.suppress(TypeError, ValueError):
            value = np.asarray(value, dtype=np.float64)
    if isinstance(value, np.ndarray):
        return fmt(value, 200)
    return f"{type(value).__name__} {fmt(value, 200)}"


_DTYPE_HINTS = (
    (
        "b",
        "a comparison such as a > 0 gives True/False: turn it into 1.0/0.0 with "
        ".astype(float).",
    ),
    (
        "iu",
        "numpy keeps integers integer: np.zeros_like(x) or np.empty_like(x) copies "
        "the dtype of an integer x, and an integer input stays integer. Convert first "
        "with np.asarray(x, dtype=float), or return a float such as 0.0 rather than 0.",
    ),
    (
        "f",
        "the exercises compute in float64, numpy's default float (dtype=float): "
        "float32 keeps about 7 significant digits, float64 about 16, which the "
        "gradient checks of the course need. Leave out dtype=np.float32 and "
        ".astype(np.float32).",
    ),
)


def returned(exercise, case, value, spec):
    """Check a returned value against ``spec``, an :class:`Array` or a tuple of them."""
    if isinstance(spec, tuple) and not isinstance(spec, Array):
        names = ", ".join(s.name for s in spec)
        if not isinstance(value, (tuple, list)) or len(value) != len(spec):
            fail(
                exercise,
                case,
                f"expected a tuple of {len(spec)} values ({names}), got "
                f"{_describe(value)}",
                hint=f"return all of them, in this order: return {names}",
            )
        return tuple(
            returned(exercise, case, v, s) for v, s in zip(value, spec, strict=True)
        )
    name = spec.name
    if spec.shape is None:
        return value
    if value is None:
        fail(exercise, case, f"{name} is None: did you forget to compute or return it?")
    if isinstance(value, (list, tuple)):
        fail(
            exercise,
            case,
            f"{name} is a Python {type(value).__name__} of {len(value)} items, not a "
            f"numpy array: {_describe(value)}",
            hint=(
                "compute with numpy operations on whole arrays (or convert at the end "
                "with np.array(...)): a list has no shape, and + or * on lists do not "
                "compute elementwise."
            ),
        )
    arr = np.asarray(value)
    if arr.dtype != np.float64:
        kind = next((h for kinds, h in _DTYPE_HINTS if arr.dtype.kind in kinds), None)
        fail(
            exercise,
            case,
            f"{name} has dtype {arr.dtype}: {fmt(value, 200)}; the exercise asks for "
            "float64 numbers.",
            hint=kind,
        )
    if arr.shape != tuple(spec.shape):
        fail(
            exercise,
            case,
            f"{name} has shape {arr.shape}; expected shape {tuple(spec.shape)}.",
            hint=_shape_hint(arr.shape, tuple(spec.shape), spec),
        )
    return arr


def _shape_hint(got, want, spec):
    for shape, hint in spec.shape_mistakes:
        if tuple(shape) == got:
            return hint
    name = spec.name
    if not want:
        return f"{name} is a single number, not an array."
    if not got:
        return (
            f"{name} is a single number: np.sum or np.max without axis= reduce every "
            "axis; give the axis to reduce (axis=0, over the rows) and keep the others."
        )
    if len(got) == 2 and got == want[::-1]:
        return (
            f"{name} has the transposed shape: a transpose is missing or misplaced "
            f"(write down the shape of each factor; {name} must be {want})."
        )
    if tuple(n for n in got if n != 1) == tuple(n for n in want if n != 1):
        return (
            f"{name} has an extra axis of length 1: keepdims=True (or a row vector "
            f"such as b[None, :]) keeps an axis that {name} does not have; it must be "
            f"{want}."
        )
    if got[1:] == want and len(got) == len(want) + 1:
        return (
            f"{name} has one row per example: it must be summed over the examples "
            "(axis=0), one number per unit."
        )
    return None


# ------------------------------------------------------------------ the runner

_MATH = (
    "math.exp, math.log ... take one number at a time: use np.exp, np.log, which work "
    "elementwise on arrays."
)
#: (piece of the error message, hint) for errors students meet in every chapter
ERROR_HINTS = (
    (
        "bitwise_xor",
        "^ is exclusive-or in Python and numpy, not a power: write t ** 2 (or t * t).",
    ),
    (
        "truth value of an array",
        "`if`, `and`, `or` and Python's max/min need a single True/False; for arrays "
        "use elementwise operations: np.where, np.maximum, a boolean mask.",
    ),
    ("only length-1 arrays", _MATH),
    ("only 0-dimensional arrays", _MATH),
    (
        "matmul",
        "the shapes did not fit a matrix product A @ B, which needs A.shape[1] == "
        "B.shape[0]: write down the shape of each factor; a transpose is probably "
        "missing or misplaced.",
    ),
    (
        "not aligned",
        "the shapes did not fit a matrix product: write down the shape of each "
        "factor; a transpose is probably missing or misplaced.",
    ),
    (
        "could not be broadcast",
        "the shapes did not fit an elementwise operation (+, -, *): write down the "
        "shape of each operand. A batch times a weight matrix is a matrix product, X "
        "@ W, not X * W.",
    ),
    (
        "RuntimeWarning",
        "an overflow or a division by zero usually means a numerically unstable "
        "formula.",
    ),
)


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(v) for v in value)
    return value


def _name(name) -> str:
    return name if isinstance(name, str) else name[0]


def _labelled(values, names):
    """``(label, key, short, value)`` for every array among ``values``, in tuples too.

    ``names`` has one entry per value: a name, or ``(name, element names)``
    for a tuple, whose elements are then called ``cache[3] (probs)``. ``key``
    (the element's name, else the argument's) chooses the hint; ``short``
    (the element's name, else the label) is indexed in the message: ``probs[0, 1]``.
    """
    for value, name in zip(values, names, strict=True):
        name, parts = (name, ()) if isinstance(name, str) else name
        if isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                part = parts[i] if i < len(parts) else None
                label = f"{name}[{i}] ({part})" if part else f"{name}[{i}]"
                if isinstance(v, np.ndarray):
                    yield label, part or name, part or label, v
        elif isinstance(value, np.ndarray):
            yield name, name, name, value


def _check_unchanged(exercise, case, before, after, names, tolerance, hints):
    for (label, key, short, old), (*_, new) in zip(
        _labelled(before, names), _labelled(after, names), strict=False
    ):
        if old.shape != new.shape:
            where, was, now = label, fmt(old), fmt(new)
        else:
            scale = tolerance * max(1.0, float(np.max(np.abs(old), initial=0.0)))
            differs = np.abs(new - old) > scale if scale else old != new
            if old.dtype.kind == "f":
                differs &= ~(np.isnan(old) & np.isnan(new))
            if not differs.any():
                continue
            index = tuple(int(i) for i in np.argwhere(differs)[0]) if old.ndim else ()
            where = f"{short}[{', '.join(map(str, index))}]" if old.ndim else label
            was, now = f"{old[index]:.10g}", f"{new[index]:.10g}"
        fail(
            exercise,
            case,
            f"your function modified {label} in place: {where} was {was} before the "
            f"call and is {now} after it (below: {label} before the call, and after "
            "it).",
            expected=old,
            got=new,
            hint=hints.get(key)
            or "compute the result in a new array: operations such as x -= ..., "
            "x[mask] = ... or np.exp(x, out=x) change the caller's array, and d = x "
            "does not copy (both names refer to one array): start from d = x.copy().",
        )


def _check_kept(exercise, case, before, after, name, hints):
    """An argument to be modified in place must still hold the arrays handed over."""
    name, parts = (name, ()) if isinstance(name, str) else name
    for i, old in enumerate(before):
        if i < len(after) and after[i] is old:
            continue
        part = f" ({parts[i]})" if i < len(parts) else ""
        now = (
            f"holds {_describe(after[i])}"
            if i < len(after)
            else f"has only {len(after)} items"
        )
        fail(
            exercise,
            case,
            f"your function put something else into the list {name}: {name}[{i}]"
            f"{part} now {now} instead of the array it was handed (the list now "
            "holds new arrays): the caller keeps the arrays, not the list.",
            hint=hints.get(name)
            or f"change the arrays of {name} themselves, in place (p += ..., p[...] = "
            f"...): {name}[i] = ... only rebinds a slot of the list.",
        )


def _line_of(fn, exc) -> str:
    """The line of the student's function where ``exc`` was raised, if it is there."""
    code = getattr(fn, "__code__", None)
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if code is not None and f.filename == code.co_filename
    ]
    return (
        f"\n  in the line: {frames[-1].line.strip()}"
        if frames and frames[-1].line
        else ""
    )


def run(
    exercise,
    case,
    fn,
    args,
    names,
    *,
    returns=None,
    hints=(),
    in_place_hints=None,
    tolerance=0.0,
    modifies=(),
):
    """Call the student's ``fn(*args)`` as every check does: ``(result, printed)``.

    * ``fn`` receives copies of the array arguments (also inside tuples); an
      argument it modifies fails the check, naming it (``names`` gives one name
      per argument, or ``(name, element names)`` for a tuple), with the hint
      ``in_place_hints`` gives for that name, if any. ``tolerance`` allows
      changes by that much round-off, relative to the largest entry.
    * ``modifies`` names the arguments that the contract says ``fn`` must
      change in place (``params`` of an optimiser's step): those are handed
      over as they are, not copied, so the check sees the changes in its own
      arrays (and state the function keeps by ``id`` stays valid from one call
      to the next), and a ``None`` result is then accepted. Such a list must
      still hold the very arrays it held (``params[i] = p - ...`` leaves the
      caller's array unchanged): a replaced item fails the check, with the hint
      ``in_place_hints`` gives for the argument's name, if any.
    * What it prints is captured and returned; numpy warnings become errors.
    * An exception inside ``fn`` fails the check with the line where it was
      raised and the hint of the first ``(piece of the message, hint)`` of
      ``hints`` and :data:`ERROR_HINTS` found in ``"ExceptionType: message"``;
      ``NotImplementedError`` (an exercise not filled in) passes through.
    * ``None`` fails the check; with ``returns`` (an :class:`Array` or a
      tuple of them) so do a list, a tuple, another dtype than float64 or
      another shape, and the result comes back as arrays.
    """
    if not callable(fn):
        raise TypeError(
            f"checks.{exercise} expects the function you wrote, got "
            f"{type(fn).__name__} {fn!r}"
        )
    if set(modifies) - {_name(n) for n in names}:
        raise ValueError(f"modifies={modifies!r} names no argument among {names!r}")
    copied = [_name(n) not in modifies for n in names]

    def only(values):
        return [v for v, c in zip(values, copied, strict=True) if c]

    given = tuple(_copy(a) if c else a for a, c in zip(args, copied, strict=True))
    held = [
        None if c or not isinstance(a, list) else list(a)
        for a, c in zip(args, copied, strict=True)
    ]
    out = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(out):
            warnings.simplefilter("error", RuntimeWarning)
            result = fn(*given)
    except NotImplementedError as exc:
        _unfilled(exc, exercise)
        raise
    except Exception as exc:  # noqa: BLE001 - reported to the student, with its type
        text = f"{type(exc).__name__}: {exc}"
        what = (
            f"numpy warned while your function ran: {exc}"
            if isinstance(exc, RuntimeWarning)
            else f"your function raised {text}"
        )
        printed = out.getvalue().strip()
        printed = f"\n  it printed: {printed[-300:]!r}" if printed else ""
        hint = next((h for piece, h in (*hints, *ERROR_HINTS) if piece in text), None)
        fail(exercise, case, what + _line_of(fn, exc) + printed, hint=hint)
    in_place_hints = in_place_hints or {}
    _check_unchanged(
        exercise,
        case,
        only(args),
        only(given),
        only(names),
        tolerance,
        in_place_hints,
    )
    for before, after, name in zip(held, given, names, strict=True):
        if before is not None:
            _check_kept(exercise, case, before, after, name, in_place_hints)
    if result is None and not modifies:
        fail(
            exercise,
            case,
            "your function returned None: did you forget the return statement?",
        )
    if returns is not None:
        result = returned(exercise, case, result, returns)
    return result, out.getvalue()
