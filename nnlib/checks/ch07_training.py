"""Checks of the chapter on training networks: the momentum and the Adam update.

A student writes the ``step(self, params, grads)`` method of a small optimiser class,
which updates every array of the list ``params`` IN PLACE from the list ``grads``
(same length and shapes) and keeps its state per position in that list:

* ``momentum_step(MomentumSGD)``: heavy-ball momentum, with ``v`` starting at 0::

      v <- momentum * v - learning_rate * g
      theta <- theta + v

* ``adam_step(AdamOptimizer)``: Adam (Kingma & Ba, 2015, Algorithm 1), ``m = v = 0``
  and ``t = 1`` on the first step::

      m <- beta1 m + (1 - beta1) g
      v <- beta2 v + (1 - beta2) g^2
      m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
      theta <- theta - learning_rate * m_hat / (sqrt(v_hat) + eps)

Each check builds optimisers with several settings, runs a few steps on lists of
parameters (of different shapes, of equal shapes, two optimisers side by side) and
compares every parameter after every step with the recurrences above. A fresh list
holding the same arrays is passed at each step, as ``MLP.parameters()`` returns one.
On the first disagreement it raises :class:`CheckFailure` (an ``AssertionError``)
naming the case and the step, the values expected and received, and a hint when
the values received are what a classic mistake gives (the velocity updated after
theta, a sign error, state that is not kept between calls or is shared between
parameters, no bias correction, ...). It prints one line when everything agrees.

The module is self-contained: the reference recurrences and the mistakes are written
out here, independent of :mod:`nnlib.optim`.
"""

from __future__ import annotations

import inspect
import textwrap
import warnings

import numpy as np

__all__ = ["CheckFailure", "momentum_step", "adam_step"]

RTOL, ATOL = 1e-6, 1e-12


class CheckFailure(AssertionError):
    """Raised by a check of this chapter: the exercise is not right yet."""


def _fmt(value, width=300):
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=8, suppress=False, threshold=20, linewidth=100):
            text = f"{np.array2string(value, separator=', ')} (shape {value.shape})"
    elif isinstance(value, list):
        text = "[" + ", ".join(_fmt(v, width) for v in value) + "]"
    else:
        text = repr(value)
    return textwrap.shorten(text.replace("\n", " "), width=width, placeholder=" ...")


def _fail(exercise, case, message=None, expected=None, got=None, hint=None):
    lines = [f"{exercise} is not right yet, for {case}."]
    if message:
        lines.append(message)
    if expected is not None or got is not None:
        lines.append(f"  expected: {_fmt(expected)}")
        lines.append(f"  got:      {_fmt(got)}")
    if hint:
        lines.append(f"Hint: {hint}")
    raise CheckFailure("\n".join(lines))


def _passed(exercise, n):
    print(f"\u2713 {exercise}: all {n} checks passed")


def _close(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def _all_close(xs, ys):
    return len(xs) == len(ys) and all(_close(x, y) for x, y in zip(xs, ys, strict=True))


# --------------------------------------------------------------------------- the models
# A model is a function step(hyper, state, params, grads) that updates the list of
# arrays ``params`` in place; ``state`` is a dict kept between the calls.


def _zeros(state, key, params):
    if key not in state:
        state[key] = [np.zeros_like(p) for p in params]
    return state[key]


def _momentum(variant="right"):
    def step(h, state, params, grads):
        lr, mu = h["learning_rate"], h["momentum"]
        vs = _zeros(state, "v", params)
        if variant == "shared":
            shared = state.setdefault("shared", np.zeros_like(params[0]))
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            v = vs[i]
            if variant == "right":
                v[...] = mu * v - lr * g
                p += v
            elif variant == "theta_first":
                p += v
                v[...] = mu * v - lr * g
            elif variant == "plus_grad":
                v[...] = mu * v + lr * g
                p += v
            elif variant == "minus_v":
                v[...] = mu * v - lr * g
                p -= v
            elif variant == "no_memory":
                p -= lr * g
            elif variant == "shared":
                shared[...] = mu * shared - lr * g
                p += shared
            elif variant == "lr_twice":
                v[...] = mu * v - lr * g
                p += lr * v
            elif variant == "dampened":
                v[...] = mu * v - (1.0 - mu) * lr * g
                p += v
            elif variant == "nesterov":
                v[...] = mu * v - lr * g
                p += mu * v - lr * g
            elif variant == "no_momentum_factor":
                v[...] = v - lr * g
                p += v
            else:  # pragma: no cover - a typo in this module
                raise KeyError(variant)

    return step


def _adam(variant="right"):
    def step(h, state, params, grads):
        lr, b1, b2, eps = h["learning_rate"], h["beta1"], h["beta2"], h["eps"]
        if variant == "swapped":
            b1, b2 = b2, b1
        ms, vs = _zeros(state, "m", params), _zeros(state, "v", params)
        if variant == "shared":
            sm = state.setdefault("sm", np.zeros_like(params[0]))
            sv = state.setdefault("sv", np.zeros_like(params[0]))
        if variant != "t_per_param":
            state["t"] = state.get("t", 0) + (
                2 if variant == "t_plus_one" and "t" not in state else 1
            )
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            m, v = (sm, sv) if variant == "shared" else (ms[i], vs[i])
            if variant == "t_per_param":
                state["t"] = state.get("t", 0) + 1
            t = state["t"]
            if variant == "m_not_kept":
                m[...] = 0.0
            if variant == "v_not_kept":
                v[...] = 0.0
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * (np.abs(g) if variant == "v_abs" else g * g)
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            if variant == "no_correction":
                update = m / (np.sqrt(v) + eps)
            elif variant == "eps_in_correction":
                update = (m / (1 - b1**t)) / ((np.sqrt(v) + eps) / np.sqrt(1 - b2**t))
            elif variant == "eps_in_sqrt":
                update = m_hat / np.sqrt(v_hat + eps)
            elif variant == "no_sqrt":
                update = m_hat / (v_hat + eps)
            else:
                update = m_hat / (np.sqrt(v_hat) + eps)
            if variant == "plus":
                p += lr * update
            else:
                p -= lr * update

    return step


_MOMENTUM_HINTS = {
    "theta_first": "you moved theta with the OLD velocity and updated v afterwards: "
    "first v <- momentum * v - learning_rate * g, then theta <- theta + v (with the "
    "new v), so the very first step already moves theta by -learning_rate * g.",
    "plus_grad": "sign error: the velocity points DOWNHILL, v <- momentum * v - "
    "learning_rate * g (minus the gradient), and then theta <- theta + v (plus v); "
    "with + learning_rate * g, or with theta - v, every step climbs the loss.",
    "no_memory": "the velocity is not kept between calls: this is plain gradient "
    "descent. Create the velocities (zeros, one per parameter) on the first call only, "
    "store them in self, and update them at every step.",
    "shared": "one velocity is shared by all the parameters: keep one velocity array "
    "per position in the list (for example self.velocities = [np.zeros_like(p) for p "
    "in params] on the first call), so that params[i] only ever sees velocities[i].",
    "lr_twice": "the learning rate is applied twice: v <- momentum * v - learning_rate "
    "* g already contains it, so theta <- theta + v, not theta + learning_rate * v.",
    "dampened": "there is an extra factor (1 - momentum) on the gradient: the heavy "
    "ball is v <- momentum * v - learning_rate * g.",
    "nesterov": "this is Nesterov's variant (theta + momentum * v - learning_rate * "
    "g); the exercise asks for the heavy ball: theta <- theta + v.",
    "no_momentum_factor": "the old velocity is not multiplied by momentum: v <- "
    "momentum * v - learning_rate * g.",
}

_ADAM_HINTS = {
    "no_correction": "the bias correction is missing: divide m by (1 - beta1**t) and v "
    "by (1 - beta2**t) before the update. Without it the first steps are too large (m "
    "and v start at 0 and are biased towards 0).",
    "t_plus_one": "the step count is one too high: t must be 1 on the first step "
    "(increment t once per call, before the bias correction, starting from t = 0).",
    "t_per_param": "t is incremented once per PARAMETER: it counts steps, so increment "
    "it once per call of step, before the loop over the parameters.",
    "eps_in_correction": "eps is added to sqrt(v) before the bias correction: the "
    "update is learning_rate * m_hat / (sqrt(v_hat) + eps), with v_hat = v / (1 - "
    "beta2**t) inside the square root and eps outside it.",
    "eps_in_sqrt": "eps is inside the square root: the update divides by sqrt(v_hat) + "
    "eps.",
    "no_sqrt": "the square root is missing: divide by sqrt(v_hat) + eps, not by v_hat "
    "+ eps.",
    "swapped": "beta1 and beta2 are swapped: the first moment m decays with beta1, the "
    "second moment v (of g**2) with beta2.",
    "m_not_kept": "the first moment m is not kept between calls: create m (zeros, one "
    "per parameter) on the first call only, store it in self and update it at every "
    "step.",
    "v_not_kept": "the second moment v is not kept between calls: create v (zeros, one "
    "per parameter) on the first call only, store it in self and update it at every "
    "step.",
    "shared": "one m and one v are shared by all the parameters: keep one m and one v "
    "per position in the list, so that params[i] only ever sees m[i] and v[i].",
    "v_abs": "v is the running mean of the SQUARED gradient: (1 - beta2) * g**2, not "
    "|g|.",
    "plus": "sign error: Adam moves theta against the gradient, theta <- theta - "
    "learning_rate * m_hat / (sqrt(v_hat) + eps).",
}

_ADAM_WARNING_HINT = (
    "numpy warned about a division by zero (or 0/0): with t = 0, 1 - beta1**t is 0. t "
    "must be 1 on the first step: increment it at the start of step, before the bias "
    "correction."
)

_IN_PLACE_HINT = (
    "update the arrays themselves, in place: p += v, p -= ... or p[...] = ... change "
    "the array that the network holds, whereas p = p + v (or params[i] = ...) only "
    "binds a name (or a slot of the list) to a new array and leaves the network's "
    "parameters unchanged."
)
_GRADS_HINT = (
    "your step changed the gradient arrays it was given (for example g *= "
    "learning_rate): compute with new arrays (learning_rate * g) and change only "
    "params and your own state."
)
_SHARED_INSTANCES_HINT = (
    "two optimisers share their state: keep it in the instance (attributes of self, "
    "set in __init__ or on the first call of step), not in a class attribute, a "
    "default argument or a global variable."
)


# --------------------------------------------------------------------------- the runner


def _expect_class(exercise, cls):
    if not inspect.isclass(cls) or not callable(getattr(cls, "step", None)):
        raise TypeError(
            f"checks.{exercise} expects the class you wrote (with a step method), "
            f"got {type(cls).__name__} {cls!r}"
        )


def _call(exercise, case, fn, *args, warning_hint=None, error_hints=()):
    """Call the student's code; an exception or a numpy warning becomes a failure."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(all="warn"):
                return fn(*args)
    except NotImplementedError:
        raise
    except RuntimeWarning as w:
        _fail(
            exercise,
            case,
            message=f"numpy warned while your code ran: {w}",
            hint=warning_hint,
        )
    except Exception as exc:  # noqa: BLE001 - reported with its type
        text = str(exc)
        hint = next((h for pattern, h in error_hints if pattern in text), None)
        _fail(
            exercise,
            case,
            message=f"your code raised {type(exc).__name__}: {exc}",
            hint=hint,
        )


def _run_case(
    exercise,
    cls,
    case,
    runs,
    n_steps,
    model,
    variants,
    hints,
    warning_hint=None,
    error_hints=(),
):
    """Run the student's class and the reference side by side; fail on a disagreement.

    ``runs`` is a list of ``(hyper, params0, grad_fn)``, one per optimiser used in the
    case (two for "two optimisers side by side"); ``grad_fn(step)`` gives the list of
    gradients of that step. At every step each optimiser is stepped in turn.
    """
    opts = [_call(exercise, case, lambda h=h: cls(**h)) for h, _, _ in runs]
    held = [[np.array(p, dtype=np.float64) for p in p0] for _, p0, _ in runs]
    refs = [[np.array(p, dtype=np.float64) for p in p0] for _, p0, _ in runs]
    ref_states = [{} for _ in runs]
    history = [[[p.copy() for p in p0] for _, p0, _ in runs]]
    for step in range(1, n_steps + 1):
        where = f"{case}, step {step}" if n_steps > 1 else case
        for r, ((h, _, grad_fn), opt) in enumerate(zip(runs, opts, strict=True)):
            grads = [np.array(g, dtype=np.float64) for g in grad_fn(step)]
            given_grads = [g.copy() for g in grads]
            passed_list = list(held[r])  # a fresh list holding the same arrays
            _call(
                exercise,
                where,
                opt.step,
                passed_list,
                given_grads,
                warning_hint=warning_hint,
                error_hints=error_hints,
            )
            model(h, ref_states[r], refs[r], grads)
            if not _all_close(given_grads, grads):
                _fail(
                    exercise,
                    where,
                    message="the gradients were modified.",
                    expected=grads,
                    got=given_grads,
                    hint=_GRADS_HINT,
                )
            if not _all_close(held[r], refs[r]):
                label = f"params of optimiser {r + 1}" if len(runs) > 1 else "params"
                hint = _diagnose(runs, r, step, held[r], variants, hints)
                if _all_close(held[r], history[-1][r]):
                    replaced = any(
                        a is not b for a, b in zip(passed_list, held[r], strict=True)
                    )
                    if hint is not None and not replaced and step < n_steps:
                        continue  # a mistake that leaves them unchanged now: look again
                    msg = "the parameter arrays passed in did not change" + (
                        " (the list now holds new arrays)." if replaced else "."
                    )
                    _fail(
                        exercise,
                        where,
                        message=msg,
                        expected=refs[r],
                        got=held[r],
                        hint=_IN_PLACE_HINT,
                    )
                if hint is None and len(runs) > 1:
                    alone = _shared_between(model, runs, r, step)
                    if alone is not None and _all_close(held[r], alone):
                        hint = _SHARED_INSTANCES_HINT
                _fail(
                    exercise,
                    where,
                    message=f"{label} after the step:",
                    expected=refs[r],
                    got=held[r],
                    hint=hint,
                )
        history.append([[p.copy() for p in ps] for ps in held])
    return n_steps


def _simulate(model, h, p0, grad_fn, n_steps):
    """The params after ``n_steps`` steps of ``model``; None if it does not apply."""
    params, state = [np.array(p, dtype=np.float64) for p in p0], {}
    try:
        with np.errstate(all="ignore"):
            for step in range(1, n_steps + 1):
                model(
                    h,
                    state,
                    params,
                    [np.array(g, dtype=np.float64) for g in grad_fn(step)],
                )
    except ValueError:  # e.g. one state array shared by parameters of different shapes
        return None
    return params


def _diagnose(runs, r, step, got, variants, hints):
    h, p0, grad_fn = runs[r]
    for name, model in variants.items():
        simulated = _simulate(model, h, p0, grad_fn, step)
        if simulated is not None and _all_close(got, simulated):
            return hints[name]
    return None


def _shared_between(model, runs, r, step):
    """What optimiser ``r`` would hold if all the optimisers shared their state."""
    state, params = (
        {},
        [[np.array(p, dtype=np.float64) for p in p0] for _, p0, _ in runs],
    )
    for s in range(1, step + 1):
        for k, (h, _, grad_fn) in enumerate(runs):
            if s == step and k > r:
                break
            with np.errstate(all="ignore"):
                model(h, state, params[k], [np.array(g) for g in grad_fn(s)])
    return params[r]


def _grads(seed, shapes, scale=1.0):
    """A function step -> list of gradients (the same for every call with one step)."""

    def grad_fn(step):
        rng = np.random.default_rng([seed, step])
        return [scale * rng.standard_normal(s) for s in shapes]

    return grad_fn


def _params(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# ------------------------------------------------------------------------ Exercise 7.1

_SHAPE_ERRORS = (
    (
        "broadcast",
        "arrays of different shapes met: is one state array shared by all the "
        "parameters? Keep one state array per position in the list params, created on "
        "the first call of step and stored in the instance (self).",
    ),
    (
        "NoneType",
        "your state is still None at the first step: create it (zeros, one array per "
        "parameter) when step is called for the first time.",
    ),
    (
        "index out of range",
        "keep one state array per position of the list params (create all of them on "
        "the first call).",
    ),
)


def momentum_step(cls):
    """Check Exercise 7.1: ``cls(learning_rate, momentum).step(params, grads)``."""
    exercise = "MomentumSGD.step"
    _expect_class(exercise, cls)
    variants = {name: _momentum(name) for name in _MOMENTUM_HINTS}
    model = _momentum()
    shapes = [(2, 3), (3,)]
    cases = [
        (
            "learning_rate=0.2, momentum=0.7, params [W (2, 3), b (3,)]",
            [
                (
                    dict(learning_rate=0.2, momentum=0.7),
                    _params(1, shapes),
                    _grads(1, shapes),
                )
            ],
            4,
        ),
        (
            "learning_rate=0.05, momentum=0.5, two parameters of shape (2, 2)",
            [
                (
                    dict(learning_rate=0.05, momentum=0.5),
                    _params(2, [(2, 2)] * 2),
                    _grads(2, [(2, 2)] * 2),
                )
            ],
            3,
        ),
        (
            "learning_rate=0.3, momentum=0.0 (plain gradient descent)",
            [
                (
                    dict(learning_rate=0.3, momentum=0.0),
                    _params(3, shapes),
                    _grads(3, shapes),
                )
            ],
            2,
        ),
        (
            "two optimisers used side by side (learning_rate=0.1, momentum=0.9)",
            [
                (
                    dict(learning_rate=0.1, momentum=0.9),
                    _params(4, shapes),
                    _grads(4, shapes),
                ),
                (
                    dict(learning_rate=0.1, momentum=0.9),
                    _params(5, shapes),
                    _grads(5, shapes),
                ),
            ],
            3,
        ),
    ]
    n = 0
    for case, runs, n_steps in cases:
        n += _run_case(
            exercise,
            cls,
            case,
            runs,
            n_steps,
            model,
            variants,
            _MOMENTUM_HINTS,
            error_hints=_SHAPE_ERRORS,
        )
    _passed(exercise, n)


# ------------------------------------------------------------------------ Exercise 7.2


def adam_step(cls):
    """Check Exercise 7.2: ``cls(learning_rate, beta1, beta2, eps).step(...)``."""
    exercise = "AdamOptimizer.step"
    _expect_class(exercise, cls)
    variants = {name: _adam(name) for name in _ADAM_HINTS}
    model = _adam()
    shapes = [(2, 3), (3,)]
    default = dict(learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    other = dict(learning_rate=0.1, beta1=0.8, beta2=0.9, eps=0.1)
    cases = [
        (
            "learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8, params [W (2, 3), b "
            "(3,)]",
            [(default, _params(6, shapes), _grads(6, shapes))],
            4,
        ),
        (
            "learning_rate=0.1, beta1=0.8, beta2=0.9, eps=0.1, two parameters of shape "
            "(2, 2)",
            [(other, _params(7, [(2, 2)] * 2), _grads(7, [(2, 2)] * 2, scale=0.3))],
            4,
        ),
        (
            "two optimisers used side by side (learning_rate=0.01, the default betas "
            "and eps)",
            [
                (default, _params(8, shapes), _grads(8, shapes)),
                (default, _params(9, shapes), _grads(9, shapes)),
            ],
            3,
        ),
    ]
    n = 0
    for case, runs, n_steps in cases:
        n += _run_case(
            exercise,
            cls,
            case,
            runs,
            n_steps,
            model,
            variants,
            _ADAM_HINTS,
            warning_hint=_ADAM_WARNING_HINT,
            error_hints=_SHAPE_ERRORS,
        )
    _passed(exercise, n)
