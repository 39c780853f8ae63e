"""The checks of the training chapter accept right optimisers, reject classic mistakes.

Each planted mistake below is a small edit of a right ``step``; the pattern is what the
check's message must say about it (its hint). Right alternatives (another order of the
operations, the PyTorch form of momentum, state kept in a dict, nnlib's own optimisers)
must pass.
"""

import re

import numpy as np
import pytest

from nnlib import checks
from nnlib.checks._common import CheckFailure
from nnlib.optim import SGD, Adam

# --------------------------------------------------------------------------------------
# Exercise 7.1: momentum
# --------------------------------------------------------------------------------------


class Momentum:
    """The reference solution of the chapter."""

    def __init__(self, learning_rate, momentum=0.9):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocities = None

    def step(self, params, grads):
        if self.velocities is None:
            self.velocities = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.velocities, strict=True):
            v *= self.momentum
            v -= self.learning_rate * g
            p += v


def momentum_class(update, shared=False):
    """A Momentum whose loop body is ``update(self, i, p, g)``."""

    class Planted(Momentum):
        def step(self, params, grads):
            if self.velocities is None:
                self.velocities = (
                    [np.zeros_like(params[0])] * len(params)
                    if shared
                    else [np.zeros_like(p) for p in params]
                )
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                update(self, i, p, g, params)

    return Planted


def _right(self, i, p, g, params):
    v = self.velocities[i]
    v *= self.momentum
    v -= self.learning_rate * g
    p += v


def _theta_first(self, i, p, g, params):
    v = self.velocities[i]
    p += v
    v *= self.momentum
    v -= self.learning_rate * g


def _plus_grad(self, i, p, g, params):
    v = self.velocities[i]
    v *= self.momentum
    v += self.learning_rate * g
    p += v


def _minus_v(self, i, p, g, params):
    v = self.velocities[i]
    v *= self.momentum
    v -= self.learning_rate * g
    p -= v


def _lr_twice(self, i, p, g, params):
    v = self.velocities[i]
    v *= self.momentum
    v -= self.learning_rate * g
    p += self.learning_rate * v


def _rebind_local(self, i, p, g, params):
    v = self.velocities[i]
    v *= self.momentum
    v -= self.learning_rate * g
    p = p + v  # noqa: F841 - the planted mistake


def _rebind_slot(self, i, p, g, params):
    v = self.velocities[i]
    v *= self.momentum
    v -= self.learning_rate * g
    params[i] = p + v


def _new_velocity(self, i, p, g, params):
    # v = momentum * v - lr * g makes a new array but stores it back: right
    self.velocities[i] = self.momentum * self.velocities[i] - self.learning_rate * g
    p += self.velocities[i]


def _grads_modified(self, i, p, g, params):
    v = self.velocities[i]
    g *= self.learning_rate
    v *= self.momentum
    v -= g
    p += v


def _nesterov(self, i, p, g, params):
    v = self.velocities[i]
    v *= self.momentum
    v -= self.learning_rate * g
    p += self.momentum * v - self.learning_rate * g


def _dampened(self, i, p, g, params):
    v = self.velocities[i]
    v *= self.momentum
    v -= (1 - self.momentum) * self.learning_rate * g
    p += v


def _hard_coded_momentum(self, i, p, g, params):
    v = self.velocities[i]
    v *= 0.9
    v -= self.learning_rate * g
    p += v


class NoMemory(Momentum):
    """The velocity starts from zero at every call."""

    def step(self, params, grads):
        velocities = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, velocities, strict=True):
            v *= self.momentum
            v -= self.learning_rate * g
            p += v


class SharedAcrossInstances:
    """The velocities live in a class attribute: every optimiser uses the same ones."""

    velocities = []

    def __init__(self, learning_rate, momentum=0.9):
        self.learning_rate = learning_rate
        self.momentum = momentum
        type(self).velocities = []  # reset once per construction, then shared

    def step(self, params, grads):
        if not self.velocities:
            self.velocities.extend(np.zeros_like(p) for p in params)
        for p, g, v in zip(params, grads, self.velocities, strict=True):
            v *= self.momentum
            v -= self.learning_rate * g
            p += v


class StateKeyedByListId(Momentum):
    """State keyed by the id of the list: a new list (MLP.parameters()) resets it."""

    def step(self, params, grads):
        if self.velocities is None or self.velocities[0] != id(params):
            self.velocities = (id(params), [np.zeros_like(p) for p in params])
        for p, g, v in zip(params, grads, self.velocities[1], strict=True):
            v *= self.momentum
            v -= self.learning_rate * g
            p += v


class Unfilled(Momentum):
    def step(self, params, grads):
        raise NotImplementedError("Exercise 7.1: the momentum update")


MOMENTUM_MISTAKES = {
    "velocity updated after theta": (momentum_class(_theta_first), r"OLD velocity"),
    "sign error in v": (
        momentum_class(_plus_grad),
        r"sign error: the velocity points DOWNHILL",
    ),
    "sign error in theta": (momentum_class(_minus_v), r"sign error.*theta - v"),
    "learning rate applied twice": (momentum_class(_lr_twice), r"applied twice"),
    "velocity not kept between calls": (NoMemory, r"not kept between calls"),
    "state keyed by the list": (StateKeyedByListId, r"not kept between calls"),
    "one velocity for all parameters": (
        momentum_class(_right, shared=True),
        r"one velocity is shared|one state array per position",
    ),
    "state shared by two optimisers": (
        SharedAcrossInstances,
        r"two optimisers share their state",
    ),
    "not in place (local name)": (momentum_class(_rebind_local), r"in place"),
    "not in place (slot of the list)": (
        momentum_class(_rebind_slot),
        r"list now holds new arrays",
    ),
    "gradients modified": (
        momentum_class(_grads_modified),
        r"changed the gradient arrays",
    ),
    "Nesterov instead of heavy ball": (momentum_class(_nesterov), r"Nesterov"),
    "factor (1 - momentum)": (
        momentum_class(_dampened),
        r"extra factor \(1 - momentum\)",
    ),
    "momentum hard-coded to 0.9": (momentum_class(_hard_coded_momentum), None),
}


class TorchStyle:
    """PyTorch's form: b <- mu b + g; theta <- theta - lr b (same for a fixed lr)."""

    def __init__(self, learning_rate, momentum=0.9):
        self.lr, self.mu, self.buf = learning_rate, momentum, {}

    def step(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            b = self.buf.setdefault(i, np.zeros_like(p))
            b[...] = self.mu * b + g
            p[...] = p - self.lr * b


class KeyedById(Momentum):
    """State in a dict keyed by the id of each parameter array: right."""

    def step(self, params, grads):
        if self.velocities is None:
            self.velocities = {}
        for p, g in zip(params, grads, strict=True):
            v = self.velocities.setdefault(id(p), np.zeros_like(p))
            v[...] = self.momentum * v - self.learning_rate * g
            np.add(p, v, out=p)


MOMENTUM_RIGHT = {
    "reference": Momentum,
    "nnlib.optim.SGD": SGD,
    "new velocity arrays stored back": momentum_class(_new_velocity),
    "PyTorch form": TorchStyle,
    "state keyed by array id": KeyedById,
}


@pytest.mark.parametrize("name", MOMENTUM_RIGHT)
def test_momentum_check_accepts_right_steps(name, capsys):
    checks.momentum_step(MOMENTUM_RIGHT[name])
    assert capsys.readouterr().out.strip() == "✓ MomentumSGD.step: all 12 checks passed"


@pytest.mark.parametrize("name", MOMENTUM_MISTAKES)
def test_momentum_check_rejects_planted_mistake(name, capsys):
    cls, hint = MOMENTUM_MISTAKES[name]
    with pytest.raises(CheckFailure) as info:
        checks.momentum_step(cls)
    message = str(info.value)
    assert isinstance(info.value, AssertionError)
    assert message.startswith("MomentumSGD.step is not right yet, for ")
    assert "✓" not in capsys.readouterr().out
    if hint is not None:
        assert re.search(hint, message), message
    else:  # no specific hint; the values must still be shown
        assert "expected:" in message and "got:" in message, message


def test_momentum_check_lets_not_implemented_through():
    with pytest.raises(NotImplementedError, match="Exercise 7.1"):
        checks.momentum_step(Unfilled)


def test_momentum_check_wants_a_class():
    with pytest.raises(TypeError, match="expects the class you wrote"):
        checks.momentum_step(Momentum(0.1))


# --------------------------------------------------------------------------------------
# Exercise 7.2: Adam
# --------------------------------------------------------------------------------------


class AdamRef:
    """The reference solution of the chapter."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.learning_rate = learning_rate
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = self.v = None
        self.t = 0

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g**2
            m_hat = m / (1 - b1**self.t)
            v_hat = v / (1 - b2**self.t)
            p -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


def adam_class(
    update=None,
    t_start=0,
    t_after=False,
    t_in_loop=False,
    shared=False,
    reset_m=False,
    reset_v=False,
    swap=False,
):
    """An Adam with one planted change; ``update(self, m_hat, v_hat, m, v, t)``."""

    class Planted(AdamRef):
        def step(self, params, grads):
            if self.m is None:
                if shared:
                    self.m = [np.zeros_like(params[0])] * len(params)
                    self.v = [np.zeros_like(params[0])] * len(params)
                else:
                    self.m = [np.zeros_like(p) for p in params]
                    self.v = [np.zeros_like(p) for p in params]
                self.t = t_start
            if not (t_after or t_in_loop):
                self.t += 1
            b1, b2 = (self.beta2, self.beta1) if swap else (self.beta1, self.beta2)
            for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
                if t_in_loop:
                    self.t += 1
                if reset_m:
                    m[...] = 0
                if reset_v:
                    v[...] = 0
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * g**2
                m_hat = m / (1 - b1**self.t)
                v_hat = v / (1 - b2**self.t)
                if update is None:
                    p -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)
                else:
                    p -= self.learning_rate * update(self, m_hat, v_hat, m, v, self.t)
            if t_after:
                self.t += 1

    return Planted


class AdamRebinds(AdamRef):
    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g**2
            m_hat = self.m[i] / (1 - self.beta1**self.t)
            v_hat = self.v[i] / (1 - self.beta2**self.t)
            p = p - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)  # noqa: F841


class AdamSharedAcrossInstances(AdamRef):
    state = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        AdamSharedAcrossInstances.state = {}

    def step(self, params, grads):
        s = self.state
        if not s:
            s["m"] = [np.zeros_like(p) for p in params]
            s["v"] = [np.zeros_like(p) for p in params]
            s["t"] = 0
        s["t"] += 1
        t = s["t"]
        for p, g, m, v in zip(params, grads, s["m"], s["v"], strict=True):
            m[...] = self.beta1 * m + (1 - self.beta1) * g
            v[...] = self.beta2 * v + (1 - self.beta2) * g**2
            m_hat, v_hat = m / (1 - self.beta1**t), v / (1 - self.beta2**t)
            p -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


ADAM_MISTAKES = {
    "no bias correction": (
        adam_class(lambda s, mh, vh, m, v, t: m / (np.sqrt(v) + s.eps)),
        r"bias correction is missing",
    ),
    "t starting at 0 (incremented after the update)": (
        adam_class(t_after=True),
        r"t = 0",
    ),
    "t one too high on the first step": (adam_class(t_start=1), r"one too high"),
    "t incremented per parameter": (adam_class(t_in_loop=True), r"once per PARAMETER"),
    "sqrt(v) + eps inside the correction": (
        adam_class(
            lambda s, mh, vh, m, v, t: (
                mh / ((np.sqrt(v) + s.eps) / np.sqrt(1 - s.beta2**t))
            )
        ),
        r"eps is added to sqrt\(v\) before the bias correction",
    ),
    "eps inside the square root": (
        adam_class(lambda s, mh, vh, m, v, t: mh / np.sqrt(vh + s.eps)),
        r"eps is inside the square root",
    ),
    "no square root": (
        adam_class(lambda s, mh, vh, m, v, t: mh / (vh + s.eps)),
        r"square root is missing",
    ),
    "beta1 and beta2 swapped": (adam_class(swap=True), r"swapped"),
    "m not kept": (adam_class(reset_m=True), r"first moment m is not kept"),
    "v not kept": (adam_class(reset_v=True), r"second moment v is not kept"),
    "one m and v for all parameters": (
        adam_class(shared=True),
        r"shared by all the parameters",
    ),
    "state shared by two optimisers": (
        AdamSharedAcrossInstances,
        r"two optimisers share",
    ),
    "sign error": (
        adam_class(lambda s, mh, vh, m, v, t: -mh / (np.sqrt(vh) + s.eps)),
        r"sign error",
    ),
    "not in place": (AdamRebinds, r"in place"),
}


class AdamOtherOrder(AdamRef):
    """Corrections folded into one step size, eps still added to sqrt(v_hat): right."""

    def step(self, params, grads):
        if self.m is None:
            self.m = {i: np.zeros_like(p) for i, p in enumerate(params)}
            self.v = {i: np.zeros_like(p) for i, p in enumerate(params)}
        self.t += 1
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * np.square(g)
            p[...] -= (
                (self.learning_rate / c1)
                * self.m[i]
                / (np.sqrt(self.v[i]) / np.sqrt(c2) + self.eps)
            )


ADAM_RIGHT = {
    "reference": AdamRef,
    "nnlib.optim.Adam": Adam,
    "other order": AdamOtherOrder,
}


@pytest.mark.parametrize("name", ADAM_RIGHT)
def test_adam_check_accepts_right_steps(name, capsys):
    checks.adam_step(ADAM_RIGHT[name])
    assert (
        capsys.readouterr().out.strip() == "✓ AdamOptimizer.step: all 11 checks passed"
    )


@pytest.mark.parametrize("name", ADAM_MISTAKES)
def test_adam_check_rejects_planted_mistake(name, capsys):
    cls, hint = ADAM_MISTAKES[name]
    with pytest.raises(CheckFailure) as info:
        checks.adam_step(cls)
    message = str(info.value)
    assert message.startswith("AdamOptimizer.step is not right yet, for ")
    assert "✓" not in capsys.readouterr().out
    assert re.search(hint, message), message


def test_adam_check_lets_not_implemented_through():
    class AdamUnfilled(AdamRef):
        def step(self, params, grads):
            raise NotImplementedError("Exercise 7.2: the Adam update")

    with pytest.raises(NotImplementedError, match="Exercise 7.2"):
        checks.adam_step(AdamUnfilled)


def test_messages_show_the_case_the_step_and_the_values():
    with pytest.raises(CheckFailure) as info:
        checks.adam_step(ADAM_MISTAKES["no bias correction"][0])
    lines = str(info.value).splitlines()
    assert "step 1" in lines[0]
    assert any(line.startswith("  expected: ") for line in lines)
    assert any(line.startswith("  got:      ") for line in lines)
    assert lines[-1].startswith("Hint: ")


def test_catch_table(capsys):
    """Every planted mistake is caught (a summary for the report)."""
    caught = 0
    for check, table in (
        (checks.momentum_step, MOMENTUM_MISTAKES),
        (checks.adam_step, ADAM_MISTAKES),
    ):
        for cls, _ in table.values():
            with pytest.raises(AssertionError):
                check(cls)
            caught += 1
    assert caught == len(MOMENTUM_MISTAKES) + len(ADAM_MISTAKES) >= 8
