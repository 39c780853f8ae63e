"""Shared pytest setup.

The unit tests draw with matplotlib's non-interactive Agg backend. It is chosen
with ``matplotlib.use`` inside this process, not through the MPLBACKEND
environment variable: the notebook kernels that nbval starts inherit the
environment, and there the inline backend must stay in charge.
"""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: nbval's options, as ``make test`` passes them (the Makefile's NBVAL; a test keeps the
#: two equal)
NBVAL_OPTIONS = (
    "--nbval",
    "--nbval-current-env",
    "--nbval-sanitize-with",
    "tests/nbval_sanitize.cfg",
)

#: The notebooks that train TensorFlow networks, longest first. ``make test`` runs the
#: suite on two workers (pytest-xdist, one file per work unit, in collection order):
#: putting these first lets them run from the start, while the other worker goes through
#: everything else. Every other chapter is a numpy chapter, which the portability run
#: executes a second time (tests/test_portability.py). Chapter 11 is one of them: it
#: trains its network in numpy and calls TensorFlow only to compare single operations,
#: which the portability run then repeats without oneDNN.
TENSORFLOW_CHAPTERS = ("book/12_cnn_mnist.ipynb", "book/13_cnn_experiments.ipynb")


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        if path in TENSORFLOW_CHAPTERS:
            return TENSORFLOW_CHAPTERS.index(path)
        return len(TENSORFLOW_CHAPTERS)

    items.sort(key=rank)  # stable: the cells of a notebook keep their order


def pytest_terminal_summary(terminalreporter):
    """Say under which numerics the portability run executed the numpy chapters."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get(
        "failed", []
    ):
        for name, value in getattr(report, "user_properties", ()):
            if name == "portability" and report.when == "call":
                terminalreporter.write_line(f"portability run: {value}")
