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


#: The notebooks that train TensorFlow networks, longest first. ``make test`` runs the suite on two
#: workers (pytest-xdist, one file per work unit, in collection order): putting these first lets
#: them run from the start, while the other worker goes through everything else.
LONGEST_FIRST = ("book/09_cnn_mnist.ipynb", "book/10_cnn_experiments.ipynb")


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the cells of a notebook keep their order
