"""Re-execute the chapters in place and record where their stored outputs came from.

``make outputs`` runs this in the locked environment (``requirements.lock``). Every
chapter in
``book/`` (or the ones named on the command line) is executed from top to bottom with
the project's kernel, its outputs replace the stored ones, and the notebook's metadata
gets a
``provenance`` entry: the versions of Python, numpy and TensorFlow, the BLAS library
with its kernel and thread count (from threadpoolctl), the machine and the date.
``tests/test_provenance.py`` checks that every chapter has one and that its versions are
the locked ones.

Usage::

    python tools/make_outputs.py                      # every chapter
    python tools/make_outputs.py book/05_moons.ipynb  # some chapters
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"


def provenance() -> dict:
    """The numeric environment of this process, which the kernels it starts inherit."""
    import numpy as np
    from threadpoolctl import threadpool_info

    blas = [
        {
            key: info.get(key)
            for key in ("internal_api", "version", "architecture", "num_threads")
        }
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    try:
        tensorflow = importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        tensorflow = None
    settings = {
        name: os.environ[name]
        for name in (
            "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS",
            "OPENBLAS_CORETYPE",
            "NPY_DISABLE_CPU_FEATURES",
            "TF_ENABLE_ONEDNN_OPTS",
        )
        if name in os.environ
    }
    return {
        "generated_by": "make outputs (tools/make_outputs.py)",
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": tensorflow,
        "blas": blas,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "environment": settings,
    }


def execute(path: Path, record: dict) -> float:
    """Execute ``path`` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=3600,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata["provenance"] = record
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="chapters to run (default: all of book/)",
    )
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    record = provenance()
    blas = ", ".join(
        f"{b['internal_api']} {b['version']} {b['architecture']} x{b['num_threads']}"
        for b in record["blas"]
    )
    print(
        f"Python {record['python']}, numpy {record['numpy']}, "
        f"TensorFlow {record['tensorflow']}, BLAS: {blas}"
    )
    for path in paths:
        print(
            f"{path.relative_to(ROOT) if path.is_absolute() else path}: running ...",
            end=" ",
            flush=True,
        )
        seconds = execute(path.resolve(), record)
        print(f"{seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
