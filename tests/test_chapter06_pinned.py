"""Chapter 6's layer is nnlib's: the page's code, run, against nnlib.layers.

The chapter writes out ``layer_forward`` and ``layer_backward`` (exercises 6.1 and 6.2,
solutions in place in book/), ``INIT_STD``, ``Layer`` and ``DeepNet``; later chapters
import nnlib's versions. On the same inputs both must give the same outputs, caches and
gradients, and the page's ``DeepNet`` must run the same with nnlib's ``Layer`` and agree
with ``nnlib.MLP``.
The notebook read is book/06_deeper_networks.ipynb, or the one named by NNLIB_CHAPTER_6.
"""

import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnlib import MLP, log_softmax, softmax
from nnlib import layers as nn_layers
from nnlib.activations import ACTIVATIONS

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_6 = Path(
    os.environ.get("NNLIB_CHAPTER_6", ROOT / "book" / "06_deeper_networks.ipynb")
)
ACTS = ["sigmoid", "tanh", "relu", "identity"]


def _chapter_6_code(marker):
    """The source of the one code cell of chapter 6 that contains ``marker``."""
    cells = [
        c.source
        for c in nbformat.read(CHAPTER_6, as_version=4).cells
        if c.cell_type == "code" and marker in c.source
    ]
    assert len(cells) == 1, (
        f"expected one code cell with {marker!r} in {CHAPTER_6}, found {len(cells)}"
    )
    return cells[0]


def _run(markers, **given):
    """Run the chapter's cells with these markers, in order, with ``given`` defined."""
    namespace = {
        "np": np,
        "ACTIVATIONS": ACTIVATIONS,
        "log_softmax": log_softmax,
        "softmax": softmax,
        **given,
    }
    for marker in markers:
        exec(compile(_chapter_6_code(marker), str(CHAPTER_6), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def page():
    """The chapter's definitions, with its own layer_forward and layer_backward."""
    for marker in ("def layer_forward(", "def layer_backward("):
        assert "### BEGIN SOLUTION" in _chapter_6_code(marker), (
            f"{marker} has no solution in {CHAPTER_6}"
        )
    return _run(
        ["def layer_forward(", "def layer_backward(", "INIT_STD = {", "class DeepNet:"]
    )


def _inputs(seed, N, D_in, D_out):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((N, D_in)),
        rng.standard_normal((D_in, D_out)),
        rng.standard_normal(D_out),
    )


SHAPES = [(5, 2, 3), (1, 4, 4), (7, 3, 1), (16, 10, 6)]  # (N, D_in, D_out)
CASES = [(seed, *shape, act) for seed, shape in enumerate(SHAPES) for act in ACTS]


@pytest.mark.parametrize("seed, N, D_in, D_out, act", CASES)
def test_layer_forward_and_backward_are_the_chapters(page, seed, N, D_in, D_out, act):
    X, W, b = _inputs(seed, N, D_in, D_out)
    A_page, cache_page = page["layer_forward"](X, W, b, act)
    A_lib, cache_lib = nn_layers.layer_forward(X, W, b, act)
    np.testing.assert_array_equal(A_lib, A_page)
    assert len(cache_lib) == len(cache_page) == 4
    for name, got, want in zip(
        ("X", "W", "A"), cache_lib[:3], cache_page[:3], strict=True
    ):
        np.testing.assert_array_equal(got, want, err_msg=f"cache element {name}")
    assert cache_lib[0] is cache_page[0] is X and cache_lib[1] is cache_page[1] is W
    assert cache_lib[3] == cache_page[3] == act

    dA = np.random.default_rng(100 + seed).standard_normal((N, D_out))
    for got, want, name in zip(
        nn_layers.layer_backward(dA, cache_page),
        page["layer_backward"](dA, cache_page),
        ("dX", "dW", "db"),
        strict=True,
    ):
        assert got.shape == want.shape, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    # each backward also accepts the other's cache
    for got, want in zip(
        page["layer_backward"](dA, cache_lib),
        nn_layers.layer_backward(dA, cache_lib),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)


def test_the_chapters_initialisations_are_rows_of_nnlibs_table(page):
    names = list(page["INIT_STD"])
    assert names and set(names) <= set(nn_layers.INITIALISATIONS), (
        f"chapter 6 uses init names {names}; "
        f"nnlib.layers.INITIALISATIONS has {list(nn_layers.INITIALISATIONS)}"
    )
    for name in names:
        for fan_in, fan_out in [(1, 3), (2, 5), (200, 200), (784, 128)]:
            assert page["INIT_STD"][name](fan_in) == pytest.approx(
                nn_layers.INITIALISATIONS[name].std(fan_in, fan_out), rel=1e-15
            ), (name, fan_in)


@pytest.mark.parametrize(
    "seed, n_in, n_out, act",
    [
        (0, 2, 5, "relu"),
        (1, 5, 4, "tanh"),
        (2, 200, 200, "sigmoid"),
        (3, 4, 3, "identity"),
    ],
)
def test_layer_is_the_chapters(page, seed, n_in, n_out, act):
    for init in page["INIT_STD"]:
        mine = page["Layer"](n_in, n_out, act, init, np.random.default_rng(seed))
        ref = nn_layers.Layer(n_in, n_out, act, init, np.random.default_rng(seed))
        assert repr(ref) == repr(mine)
        for got, want in zip(
            ref.parameters() + ref.gradients(),
            mine.parameters() + mine.gradients(),
            strict=True,
        ):
            np.testing.assert_array_equal(got, want, err_msg=init)
        X = np.random.default_rng(seed + 10).standard_normal((6, n_in))
        np.testing.assert_array_equal(ref.forward(X), mine.forward(X))
        dA = np.random.default_rng(seed + 20).standard_normal((6, n_out))
        np.testing.assert_array_equal(ref.backward(dA), mine.backward(dA))
        for got, want in zip(ref.gradients(), mine.gradients(), strict=True):
            np.testing.assert_array_equal(got, want)


def _spirals(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 2)), rng.integers(0, 3, size=n)


@pytest.mark.parametrize(
    "sizes, act, init, reg",
    [
        ([2, 5, 4, 4, 3], "tanh", "lecun", 0.05),
        ([2, 8, 3], "relu", "he", 0.0),
        ([2, 6, 6, 3], "sigmoid", "lecun", 1e-3),
    ],
)
def test_deepnet_runs_the_same_on_nnlibs_layer(page, sizes, act, init, reg):
    with_lib = _run(["class DeepNet:"], Layer=nn_layers.Layer)["DeepNet"]
    X, y = _spirals()
    a = page["DeepNet"](sizes, activation=act, init=init, reg_lambda=reg, seed=1)
    b = with_lib(sizes, activation=act, init=init, reg_lambda=reg, seed=1)
    np.testing.assert_array_equal(a.get_vector(), b.get_vector())
    ha = a.fit(X, y, epochs=20, learning_rate=0.3)
    hb = b.fit(X, y, epochs=20, learning_rate=0.3)
    np.testing.assert_array_equal(ha["loss"], hb["loss"])
    np.testing.assert_array_equal(a.get_vector(), b.get_vector())


@pytest.mark.parametrize(
    "sizes, act, reg",
    [
        ([2, 5, 4, 4, 3], "tanh", 0.05),
        ([2, 8, 3], "relu", 0.0),
        ([2, 6, 6, 3], "sigmoid", 1e-3),
        ([2, 20, 20, 20, 3], "relu", 1e-4),
    ],
)
def test_deepnet_and_nnlib_mlp_compute_the_same_loss_and_gradients(
    page, sizes, act, reg
):
    net = page["DeepNet"](sizes, activation=act, init="he", reg_lambda=reg, seed=0)
    mlp = MLP(sizes, activation=act, output="softmax", reg_lambda=reg, seed=0)
    if act == "relu":  # same generator, same order of draws: the same starting weights
        np.testing.assert_array_equal(mlp.get_params_vector(), net.get_vector())
    theta = net.get_vector() + 0.1 * np.random.default_rng(5).standard_normal(
        net.n_params()
    )
    net.set_vector(theta)
    mlp.set_params_vector(theta)
    X, y = _spirals(seed=len(sizes))
    loss = net.loss_and_backward(X, y)
    mlp_loss, mlp_grads = mlp.compute_gradients(X, y)
    assert mlp_loss == pytest.approx(loss, rel=1e-12)
    for got, want in zip(mlp_grads, net.gradients(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(mlp.predict(X), net.predict(X))
