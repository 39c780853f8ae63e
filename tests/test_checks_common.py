"""The runner behind every check (nnlib/checks/_common.py) and how failures read.

Every check calls the student's function through ``run``: these tests pin what
it promises on its own (copies of the arguments, inputs modified in place named,
None, lists and other dtypes rejected, stdout captured, exceptions turned into
failures that name the exercise and the line, unfilled exercises passed through,
arguments the function must change in place handed over as they are) and that
IPython shows a failure as its message, not as a traceback.
"""

import numpy as np
import pytest

from nnlib import checks
from nnlib.checks._common import Array, CheckFailure, compare, run

PARAMS = ("params", ("W1", "b1"))


def test_the_function_gets_copies_and_what_it_prints_is_captured(capsys):
    x, params = np.arange(3.0), (np.ones((2, 2)), np.zeros(2))

    def fn(x, params):
        print("debugging")
        assert x is not given_x and params[0] is not given_params[0]
        return x * 2

    given_x, given_params = x, params
    got, printed = run(
        "ex", "a case", fn, (x, params), ("x", PARAMS), returns=Array((3,))
    )
    assert np.array_equal(got, [0.0, 2.0, 4.0]) and printed == "debugging\n"
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "fn, message",
    [
        (
            lambda x, params: x.__isub__(1.0),
            r"modified x in place: x\[0\] was 0 before the call and is -1",
        ),
        (
            lambda x, params: params[1].fill(5.0),
            r"modified params\[1\] \(b1\) in place: b1\[0\] was 0",
        ),
    ],
)
def test_an_input_modified_in_place_is_named(fn, message):
    with pytest.raises(CheckFailure, match=message):
        run(
            "ex",
            "a case",
            fn,
            (np.arange(3.0), (np.ones((2, 2)), np.zeros(2))),
            ("x", PARAMS),
        )


@pytest.mark.parametrize(
    "value, message",
    [
        (None, r"your function returned None: did you forget the return statement\?"),
        ([1.0, 2.0, 3.0], r"the result is a Python list of 3 items, not a numpy array"),
        (np.ones(3, dtype=bool), r"(?s)dtype bool.*astype\(float\)"),
        (np.ones(3, dtype=int), r"(?s)dtype int64.*np\.asarray\(x, dtype=float\)"),
        (np.ones(3, dtype=np.float32), r"(?s)dtype float32.*float64"),
        (
            np.ones((1, 3)),
            r"(?s)shape \(1, 3\); expected shape \(3,\)"
            r".*extra axis of length 1.*keepdims",
        ),
        (
            np.float64(3.0),
            r"(?s)shape \(\); expected shape \(3,\).*single number.*axis=0",
        ),
        (
            np.ones((4, 3)),
            r"one row per example: it must be summed over the examples \(axis=0\)",
        ),
    ],
)
def test_what_comes_back_must_be_a_float64_array_of_the_right_shape(value, message):
    with pytest.raises(CheckFailure, match=message):
        run("ex", "a case", lambda: value, (), (), returns=Array((3,)))


def test_a_tuple_of_results_is_checked_value_by_value():
    spec = (Array((2,), "dW"), Array((2,), "db"))
    with pytest.raises(CheckFailure, match=r"expected a tuple of 2 values \(dW, db\)"):
        run("ex", "a case", lambda: np.zeros(2), (), (), returns=spec)
    with pytest.raises(
        CheckFailure, match=r"db is None: did you forget to compute or return it"
    ):
        run("ex", "a case", lambda: (np.zeros(2), None), (), (), returns=spec)


def test_an_exception_names_the_exercise_the_line_and_a_hint():
    def fn(t):
        return 1 - t ^ 2

    with pytest.raises(CheckFailure) as info:
        run("tanh_grad", "t = [0.5]", fn, (np.array([0.5]),), ("t",))
    message = str(info.value)
    assert message.startswith(
        "tanh_grad is not right yet, for t = [0.5].\nyour function raised TypeError"
    )
    assert "\n  in the line: return 1 - t ^ 2\n" in message
    assert "Hint: ^ is exclusive-or in Python and numpy, not a power" in message


def test_a_numpy_warning_is_a_failure():
    with pytest.raises(
        CheckFailure, match="numpy warned while your function ran: overflow"
    ):
        run("ex", "a case", lambda x: np.exp(x), (np.array([1000.0]),), ("x",))


def test_an_unfilled_exercise_passes_through_and_shows_only_its_message():
    def unfilled(x):
        raise NotImplementedError("Exercise 1.1: sigmoid")

    with pytest.raises(NotImplementedError) as info:
        checks.sigmoid(unfilled)
    assert (
        type(info.value) is NotImplementedError
        and str(info.value) == "Exercise 1.1: sigmoid"
    )
    shown = "\n".join(info.value._render_traceback_())
    assert (
        "Exercise 1.1: sigmoid" in shown
        and "nnlib" not in shown
        and len(shown.split("\n")) == 2
    )


def test_a_failure_shows_its_message_without_a_traceback_in_ipython():
    interactive = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactive.InteractiveShell.instance()
    shown = []
    original = shell._showtraceback
    shell._showtraceback = lambda etype, evalue, stb: shown.append((etype, stb))
    try:
        result = shell.run_cell("from nnlib import checks\nchecks.relu(lambda x: x)")
    finally:
        shell._showtraceback = original
    assert isinstance(result.error_in_exec, AssertionError)
    ((etype, stb),) = shown
    assert etype is CheckFailure
    assert stb[0].endswith(
        "relu is not right yet, for x = [-3. , -1.5, -0.1, 0. , 0.1, 1.5, 3. ] "
        "(shape (7,))."
    )
    assert (
        stb[-1]
        == "Hint: you returned the input unchanged: negative values must become 0."
    )
    assert not any("File " in line or ".py" in line for line in stb), stb


def test_values_that_print_alike_show_their_largest_difference():
    with pytest.raises(CheckFailure) as info:
        compare(
            "ex", "a case", "dW", np.array([1.0, 0.0010001]), np.array([1.0, 0.001])
        )
    message = str(info.value)
    assert (
        "expected: [1. , 0.001] (shape (2,))\n  got:      [1. , 0.001] (shape (2,))"
        in message
    )
    assert (
        "they print alike: the largest difference is 1e-07 at index (1,); "
        "dtypes float64" in message
    )


def test_an_argument_to_modify_in_place_is_handed_over_and_not_reported():
    params, grads = [np.ones(2), np.zeros(3)], [np.full(2, 0.5), np.ones(3)]
    arrays = list(params)
    seen = []

    def step(params, grads):
        seen.append((params, grads))
        for p, g in zip(params, grads, strict=True):
            p -= g

    result, _ = run(
        "ex", "a case", step, (params, grads), ("params", "grads"), modifies=("params",)
    )
    assert result is None  # accepted: the function's work is the change it makes
    assert seen[0][0] is params  # the very list, holding the very arrays
    assert all(a is b for a, b in zip(params, arrays, strict=True))
    assert np.array_equal(params[0], [0.5, 0.5])
    assert np.array_equal(params[1], [-1.0] * 3)
    assert seen[0][1][0] is not grads[0]  # the other arguments are still copies


@pytest.mark.parametrize(
    "step, message",
    [
        (
            lambda params, grads: params.__setitem__(1, params[1] - grads[1]),
            r"(?s)put something else into the list params: params\[1\] \(b\) now "
            r"holds \[-1., -1., -1.\].*the list now holds new arrays"
            r".*Hint: change the arrays of params themselves, in place",
        ),
        (lambda params, grads: params.pop(), r"params\[1\] \(b\) now has only 1"),
        (
            lambda params, grads: grads[1].fill(2.0),
            r"modified grads\[1\] in place: grads\[1\]\[0\] was 1 before",
        ),
    ],
)
def test_an_argument_to_modify_in_place_must_keep_its_arrays(step, message):
    with pytest.raises(CheckFailure, match=message):
        run(
            "ex",
            "a case",
            step,
            ([np.ones(2), np.zeros(3)], [np.full(2, 0.5), np.ones(3)]),
            (("params", ("W", "b")), "grads"),
            modifies=("params",),
        )


def test_modifies_must_name_an_argument():
    with pytest.raises(ValueError, match="names no argument"):
        run("ex", "a case", lambda x: x, (np.ones(1),), ("x",), modifies=("y",))
