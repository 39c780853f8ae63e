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
