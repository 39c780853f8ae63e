"""The portability run: the numpy chapters once more, under other numerics.

A reader's machine differs from the one that stored the outputs: another BLAS kernel and
thread count, other SIMD code paths in numpy, another oneDNN path in TensorFlow. A cell
whose stored output encodes this machine's last bits would fail there. So ``make test``
executes every chapter that does not train with TensorFlow a second time, through nbval,
in a kernel whose environment has

* ``OPENBLAS_NUM_THREADS=1``: one BLAS thread, so matrix products sum in another order;
* ``NPY_DISABLE_CPU_FEATURES``: numpy's widest SIMD code paths switched off (the AVX-512
  targets where the CPU has them, AVX2 otherwise), so exp, tanh and the reductions take
  other paths;
* ``TF_ENABLE_ONEDNN_OPTS=0``: TensorFlow without oneDNN, for the chapters that import
  it.

``OPENBLAS_CORETYPE`` is never set here: some machines set it for correctness.

The run uses the same nbval options as ``make test``; the configuration it used is
printed at the end of the test session (``tests/conftest.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NBVAL_OPTIONS, TENSORFLOW_CHAPTERS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

#: names of numpy's CPU dispatch targets that are AVX-512 code paths
_AVX512 = ("AVX512", "X86_V4")
#: the AVX2 level, for a CPU without AVX-512 (numpy 1.x calls it AVX2, numpy 2.x also
#: X86_V3)
_AVX2 = ("X86_V3", "AVX2", "FMA3")


def _cpu_tables():
    """numpy's dispatch targets and the CPU features it detected (numpy 1.x and 2.x)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy 1.x
        from numpy.core import _multiarray_umath as umath
    return umath.__cpu_dispatch__, umath.__cpu_features__


def numpy_features_to_disable() -> tuple[list[str], str]:
    """The dispatch targets of numpy to switch off, and a note saying which and why.

    Only targets that this numpy dispatches to and that this CPU has can be disabled
    (numpy rejects the others). Targets already disabled in the environment are kept in
    the list.
    """
    __cpu_dispatch__, __cpu_features__ = _cpu_tables()

    already = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").replace(",", " ").split()

    def usable(names):
        return [
            t
            for t in __cpu_dispatch__
            if t.startswith(names) and (__cpu_features__.get(t) or t in already)
        ]

    wide = usable(_AVX512)
    if wide:
        return wide, "numpy's AVX-512 code paths off"
    wide = usable(_AVX2)
    if wide:
        return wide, "this CPU has no AVX-512: numpy's AVX2 code paths off instead"
    return (
        [],
        "numpy's SIMD code paths unchanged: this CPU has neither AVX-512 nor AVX2",
    )


def portable_environment() -> tuple[dict[str, str], str]:
    """The environment of the second run and a one-line description of it."""
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    features, note = numpy_features_to_disable()
    if features:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(features)
    shown = ["OPENBLAS_NUM_THREADS=1", "TF_ENABLE_ONEDNN_OPTS=0"]
    if features:
        shown.append(f"NPY_DISABLE_CPU_FEATURES='{' '.join(features)}'")
    return env, f"{' '.join(shown)} ({note})"


def numpy_chapters() -> list[Path]:
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    return [p for p in chapters if f"book/{p.name}" not in TENSORFLOW_CHAPTERS]


def test_numpy_features_are_real_dispatch_targets():
    """The features named for the second run are ones numpy accepts on this CPU."""
    __cpu_dispatch__, _ = _cpu_tables()

    features, note = numpy_features_to_disable()
    assert set(features) <= set(__cpu_dispatch__), (features, __cpu_dispatch__)
    assert note
    env, _ = portable_environment()
    check = subprocess.run(
        [sys.executable, "-W", "error::ImportWarning", "-c", "import numpy"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, (
        f"numpy rejects the portable environment:\n{check.stderr}"
    )


def test_numpy_chapters_under_other_numerics(record_property):
    chapters = numpy_chapters()
    assert chapters, "no numpy chapter found in book/"
    env, description = portable_environment()
    record_property("portability", description)
    command = [
        sys.executable,
        "-m",
        "pytest",
        *NBVAL_OPTIONS,
        "-p",
        "no:xdist",
        "-q",
        "-rf",
        "--no-header",
        *[str(p.relative_to(ROOT)) for p in chapters],
    ]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, (
        f"The numpy chapters fail under other numerics ({description}).\n"
        "A cell whose printed numbers depend on the machine must be tagged "
        "nbval-ignore-output "
        "and assert what the prose claims (CONTRIBUTING.md).\n"
        f"{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    )
