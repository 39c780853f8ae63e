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
holding the same arrays is passed at each step, as ``MLP.parameters()`` returns one;
``run`` hands it over as it is (``modifies=("params",)``) and protects ``grads``.
A classic mistake (the velocity updated after theta, a sign error, state that is not
kept between calls or is shared between parameters, no bias correction, ...) is named
when the parameters are what a simulation of that mistake gives.

The reference recurrences and the mistakes are written out here, independent of
:mod:`nnlib.optim`.
"""

from __future__ import annotations

import inspect
from functools import partial

import numpy as np

from ._common import close, compare, fail, first_match, passed, run

__all__ = ["momentum_step", "adam_step"]

RTOL, ATOL = 1e-6, 1e-12

# --------------------------------------------------------------------------- the models
# A model updates the list of arrays ``params`` in place; ``state`` is a dict kept
# between the calls; ``variant`` names the mistake it makes ("right": none).


def _zeros(state, key, params):
    if key not in state:
        state[key] = [np.zeros_like(p) for p in params]
    return state[key]


def _momentum(h, state, params, grads, variant="right"):
    lr, mu = h["learning_rate"], h["momentum"]
    rate = (1.0 - mu) * lr if variant == "dampened" else lr
    decay = 1.0 if variant == "no_momentum_factor" else mu
    for p, g, v in zip(params, grads, _zeros(state, "v", params), strict=True):
        if variant == "shared":
            v = state.setdefault("shared", np.zeros_like(params[0]))
        if variant == "theta_first":
            p += v
        v[...] = decay * v + (rate if variant == "plus_grad" else -rate) * g
        if variant == "no_memory":
            p -= lr * g
        elif variant == "minus_v":
            p -= v
        elif variant == "lr_twice":
            p += lr * v
        elif variant == "nesterov":
            p += mu * v - lr * g
        elif variant != "theta_first":
            p += v


def _adam(h, state, params, grads, variant="right"):
    lr, b1, b2, eps = h["learning_rate"], h["beta1"], h["beta2"], h["eps"]
    if variant == "swapped":
        b1, b2 = b2, b1
    ms, vs = _zeros(state, "m", params), _zeros(state, "v", params)
    state["t"] = state.get("t", 1 if variant == "t_plus_one" else 0)
    for p, g, m, v in zip(params, grads, ms, vs, strict=True):
        if variant == "shared":
            m, v = state.setdefault("shared", [np.zeros_like(params[0])] * 2)
        if variant == "t_per_param" or p is params[0]:
            state["t"] += 1
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
            update = m_hat * np.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        elif variant == "eps_in_sqrt":
            update = m_hat / np.sqrt(v_hat + eps)
        elif variant == "no_sqrt":
            update = m_hat / (v_hat + eps)
        else:
            update = m_hat / (np.sqrt(v_hat) + eps)
        p -= (-lr if variant == "plus" else lr) * update


# ------------------------------------------------------------------------- the mistakes
# ``(keywords of _simulate, hint)``; the evidence of each is what the simulation of the
# mistake holds after the same steps (all the parameters of one optimiser, flattened).

_MOMENTUM_MISTAKES = [
    (
        dict(variant="theta_first"),
        "you moved theta with the OLD velocity and updated v afterwards: first v <- "
        "momentum * v - learning_rate * g, then theta <- theta + v (with the new v), "
        "so the very first step already moves theta by -learning_rate * g.",
    ),
    *(
        (
            dict(variant=sign),
            "sign error: the velocity points DOWNHILL, v <- momentum * v - "
            "learning_rate * g (minus the gradient), and then theta <- theta + v (plus "
            "v); with + learning_rate * g, or with theta - v, every step climbs the "
            "loss.",
        )
        for sign in ("plus_grad", "minus_v")
    ),
    (
        dict(variant="no_memory"),
        "the velocity is not kept between calls: this is plain gradient descent. "
        "Create the velocities (zeros, one per parameter) on the first call only, "
        "store them in self, and update them at every step.",
    ),
    (
        dict(variant="shared"),
        "one velocity is shared by all the parameters: keep one velocity array per "
        "position in the list (for example self.velocities = [np.zeros_like(p) for p "
        "in params] on the first call), so that params[i] only ever sees "
        "velocities[i].",
    ),
    (
        dict(variant="lr_twice"),
        "the learning rate is applied twice: v <- momentum * v - learning_rate * g "
        "already contains it, so theta <- theta + v, not theta + learning_rate * v.",
    ),
    (
        dict(variant="dampened"),
        "there is an extra factor (1 - momentum) on the gradient: the heavy ball is v "
        "<- momentum * v - learning_rate * g.",
    ),
    (
        dict(variant="nesterov"),
        "this is Nesterov's variant (theta + momentum * v - learning_rate * g); the "
        "exercise asks for the heavy ball: theta <- theta + v.",
    ),
    (
        dict(variant="no_momentum_factor"),
        "the old velocity is not multiplied by momentum: v <- momentum * v - "
        "learning_rate * g.",
    ),
]

_ADAM_MISTAKES = [
    (
        dict(variant="no_correction"),
        "the bias correction is missing: divide m by (1 - beta1**t) and v by (1 - "
        "beta2**t) before the update. Without it the first steps are too large (m and "
        "v start at 0 and are biased towards 0).",
    ),
    (
        dict(variant="t_plus_one"),
        "the step count is one too high: t must be 1 on the first step (increment t "
        "once per call, before the bias correction, starting from t = 0).",
    ),
    (
        dict(variant="t_per_param"),
        "t is incremented once per PARAMETER: it counts steps, so increment it once "
        "per call of step, before the loop over the parameters.",
    ),
    (
        dict(variant="eps_in_correction"),
        "eps is added to sqrt(v) before the bias correction: the update is "
        "learning_rate * m_hat / (sqrt(v_hat) + eps), with v_hat = v / (1 - beta2**t) "
        "inside the square root and eps outside it.",
    ),
    (
        dict(variant="eps_in_sqrt"),
        "eps is inside the square root: the update divides by sqrt(v_hat) + eps.",
    ),
    (
        dict(variant="no_sqrt"),
        "the square root is missing: divide by sqrt(v_hat) + eps, not by v_hat + eps.",
    ),
    (
        dict(variant="swapped"),
        "beta1 and beta2 are swapped: the first moment m decays with beta1, the "
        "second moment v (of g**2) with beta2.",
    ),
    (
        dict(variant="m_not_kept"),
        "the first moment m is not kept between calls: create m (zeros, one per "
        "parameter) on the first call only, store it in self and update it at every "
        "step.",
    ),
    (
        dict(variant="v_not_kept"),
        "the second moment v is not kept between calls: create v (zeros, one per "
        "parameter) on the first call only, store it in self and update it at every "
        "step.",
    ),
    (
        dict(variant="shared"),
        "one m and one v are shared by all the parameters: keep one m and one v per "
        "position in the list, so that params[i] only ever sees m[i] and v[i].",
    ),
    (
        dict(variant="v_abs"),
        "v is the running mean of the SQUARED gradient: (1 - beta2) * g**2, not |g|.",
    ),
    (
        dict(variant="plus"),
        "sign error: Adam moves theta against the gradient, theta <- theta - "
        "learning_rate * m_hat / (sqrt(v_hat) + eps).",
    ),
]

_SHARED_INSTANCES = [
    (
        dict(shared=True),
        "two optimisers share their state: keep it in the instance (attributes of "
        "self, set in __init__ or on the first call of step), not in a class "
        "attribute, a default argument or a global variable.",
    )
]

#: (piece of the error message, hint) for errors raised by a step
_STATE_ERRORS = (
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
_ADAM_ERRORS = (
    (
        "RuntimeWarning",
        "numpy warned about a division by zero (or 0/0): with t = 0, 1 - beta1**t is "
        "0. t must be 1 on the first step: increment it at the start of step, before "
        "the bias correction.",
    ),
    *_STATE_ERRORS,
)

_IN_PLACE_HINTS = {
    "params": "update the arrays themselves, in place: p += v, p -= ... or p[...] = "
    "... change the array that the network holds, whereas p = p + v (or params[i] = "
    "...) only binds a name (or a slot of the list) to a new array and leaves the "
    "network's parameters unchanged.",
    "grads": "your step changed the gradient arrays it was given (for example g *= "
    "learning_rate): compute with new arrays (learning_rate * g) and change only "
    "params and your own state.",
}


# --------------------------------------------------------------------------- the runner


def _simulate(model, runs, step, r, variant="right", shared=False):
    """The params of optimiser ``r`` after ``step`` steps of ``model``'s ``variant``.

    With ``shared``, the optimisers share one state (and the last step stops after
    optimiser ``r``): what it holds if the instances share their state.
    """
    params = [[np.array(p, dtype=np.float64) for p in p0] for _, p0, _ in runs]
    states = [{}] * len(runs) if shared else [{} for _ in runs]
    with np.errstate(all="ignore"):
        for s in range(1, step + 1):
            for k, (h, _, grad_fn) in enumerate(runs):
                if not shared or s < step or k <= r:
                    model(h, states[k], params[k], grad_fn(s), variant)
    return params[r]


def _flat(params):
    return np.concatenate([np.ravel(p) for p in params])


def _flat_simulation(*args, **keywords):
    return _flat(_simulate(*args, **keywords))


def _run_case(exercise, cls, case, runs, n_steps, model, mistakes, errors):
    """Step the student's optimisers and the reference side by side; fail on a mismatch.

    ``runs`` is a list of ``(hyper, params0, grad_fn)``, one per optimiser used in the
    case (two for "two optimisers side by side"); ``grad_fn(step)`` gives the list of
    gradients of that step. At every step each optimiser is stepped in turn.
    """
    opts = [run(exercise, case, partial(cls, **h), (), ())[0] for h, _, _ in runs]
    held = [[np.array(p, dtype=np.float64) for p in p0] for _, p0, _ in runs]
    handed = []  # every list handed over stays alive: no id is reused
    for step in range(1, n_steps + 1):
        where = f"{case}, step {step}" if n_steps > 1 else case
        want = [_simulate(model, runs, step, r) for r in range(len(runs))]
        for r, opt in enumerate(opts):
            before = [p.copy() for p in held[r]]
            handed.append(list(held[r]))  # a fresh list holding the same arrays
            run(
                exercise,
                where,
                opt.step,
                (handed[-1], runs[r][2](step)),
                ("params", "grads"),
                hints=errors,
                in_place_hints=_IN_PLACE_HINTS,
                modifies=("params",),
            )
            wrong = [
                i
                for i, (p, w) in enumerate(zip(held[r], want[r], strict=True))
                if not close(p, w, RTOL, ATOL)
            ]
            if not wrong:
                continue
            i = wrong[0]
            table = [
                (partial(_flat_simulation, model, runs, step, r, **keywords), hint)
                for keywords, hint in (
                    [*mistakes, *_SHARED_INSTANCES] if len(runs) > 1 else mistakes
                )
            ]
            hint = first_match(_flat(held[r]), table, RTOL, ATOL)
            if all(
                close(p, b, RTOL, ATOL) for p, b in zip(held[r], before, strict=True)
            ):
                if hint is not None and step < n_steps:
                    continue  # a mistake that leaves them unchanged now: look again
                fail(
                    exercise,
                    where,
                    "the parameter arrays passed in did not change.",
                    expected=want[r][i],
                    got=held[r][i],
                    hint=_IN_PLACE_HINTS["params"],
                )
            of = f" of optimiser {r + 1}" if len(runs) > 1 else ""
            compare(
                exercise,
                where,
                f"params[{i}]{of} after the step",
                held[r][i],
                want[r][i],
                default_hint=hint,
                rtol=RTOL,
                atol=ATOL,
            )
    return n_steps


def _grads(seed, shapes, scale=1.0):
    """A function step -> list of gradients (the same for every call with one step)."""

    def grad_fn(step):
        rng = np.random.default_rng([seed, step])
        return [scale * rng.standard_normal(s) for s in shapes]

    return grad_fn


def _params(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _optimiser(seed, hyper, shapes, scale=1.0):
    return hyper, _params(seed, shapes), _grads(seed, shapes, scale)


def _check(exercise, cls, cases, model, mistakes, errors):
    if not inspect.isclass(cls) or not callable(getattr(cls, "step", None)):
        raise TypeError(
            f"checks.{exercise} expects the class you wrote (with a step method), "
            f"got {type(cls).__name__} {cls!r}"
        )
    n = sum(
        _run_case(exercise, cls, case, runs, n_steps, model, mistakes, errors)
        for case, runs, n_steps in cases
    )
    passed(exercise, n)


_SHAPES = [(2, 3), (3,)]

# ------------------------------------------------------------------------ Exercise 7.1


def momentum_step(cls):
    """Check Exercise 7.1: ``cls(learning_rate, momentum).step(params, grads)``."""
    side = dict(learning_rate=0.1, momentum=0.9)
    cases = [
        (
            "learning_rate=0.2, momentum=0.7, params [W (2, 3), b (3,)]",
            [_optimiser(1, dict(learning_rate=0.2, momentum=0.7), _SHAPES)],
            4,
        ),
        (
            "learning_rate=0.05, momentum=0.5, two parameters of shape (2, 2)",
            [_optimiser(2, dict(learning_rate=0.05, momentum=0.5), [(2, 2)] * 2)],
            3,
        ),
        (
            "learning_rate=0.3, momentum=0.0 (plain gradient descent)",
            [_optimiser(3, dict(learning_rate=0.3, momentum=0.0), _SHAPES)],
            2,
        ),
        (
            "two optimisers used side by side (learning_rate=0.1, momentum=0.9)",
            [_optimiser(4, side, _SHAPES), _optimiser(5, side, _SHAPES)],
            3,
        ),
    ]
    _check("MomentumSGD.step", cls, cases, _momentum, _MOMENTUM_MISTAKES, _STATE_ERRORS)


# ------------------------------------------------------------------------ Exercise 7.2


def adam_step(cls):
    """Check Exercise 7.2: ``cls(learning_rate, beta1, beta2, eps).step(...)``."""
    default = dict(learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    other = dict(learning_rate=0.1, beta1=0.8, beta2=0.9, eps=0.1)
    cases = [
        (
            "learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8, params [W (2, 3), b "
            "(3,)]",
            [_optimiser(6, default, _SHAPES)],
            4,
        ),
        (
            "learning_rate=0.1, beta1=0.8, beta2=0.9, eps=0.1, two parameters of shape "
            "(2, 2)",
            [_optimiser(7, other, [(2, 2)] * 2, scale=0.3)],
            4,
        ),
        (
            "two optimisers used side by side (learning_rate=0.01, the default betas "
            "and eps)",
            [_optimiser(8, default, _SHAPES), _optimiser(9, default, _SHAPES)],
            3,
        ),
    ]
    _check("AdamOptimizer.step", cls, cases, _adam, _ADAM_MISTAKES, _ADAM_ERRORS)
