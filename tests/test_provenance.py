"""The stored outputs come from the locked environment, and say so.

``make outputs`` (tools/make_outputs.py) executes every chapter and records in the
notebook's metadata the versions of Python, numpy and TensorFlow and the BLAS library
and kernel it ran with. Every chapter must carry that record, and its versions must be
the ones ``requirements.lock`` pins for that Python, so that all stored outputs come
from one known environment.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from packaging.markers import Marker

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def locked_version(package: str, python: str, text: str | None = None) -> str:
    """The version ``requirements.lock`` (or ``text``) pins for ``package`` under
    ``python``."""
    if text is None:
        text = (ROOT / "requirements.lock").read_text()
    pattern = rf"^{re.escape(package)}==(\S+)(?:\s*;\s*([^\\\n]+))?"
    found = []
    for version, marker in re.findall(pattern, text, flags=re.MULTILINE):
        env = {
            "python_full_version": python,
            "python_version": ".".join(python.split(".")[:2]),
        }
        if not marker.strip() or Marker(marker.strip()).evaluate(env):
            found.append(version)
    assert len(found) == 1, (
        f"requirements.lock pins {package} {found} for Python {python}"
    )
    return found[0]


LOCK_EXCERPT = """\
numpy==2.4.6 ; python_full_version < '3.12' \\
    --hash=sha256:00
numpy==2.5.5 ; python_full_version >= '3.12' \\
    --hash=sha256:11
numpydoc==1.9.0 \\
    --hash=sha256:22
"""


def test_locked_version_reads_markers():
    assert locked_version("numpy", "3.11.7", LOCK_EXCERPT) == "2.4.6"
    assert locked_version("numpy", "3.13.1", LOCK_EXCERPT) == "2.5.5"
    assert locked_version("numpydoc", "3.11.7", LOCK_EXCERPT) == "1.9.0"
    with pytest.raises(AssertionError, match=r"pins no-such-package \[\]"):
        locked_version("no-such-package", "3.11.7", LOCK_EXCERPT)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_outputs_come_from_the_locked_environment(path):
    record = nbformat.read(path, as_version=4).metadata.get("provenance")
    assert record, (
        f"{path.name} has no provenance record: regenerate it with `make outputs`"
    )
    python = record["python"]
    for package in ("numpy", "tensorflow"):
        assert record[package] == locked_version(package, python), (
            f"{path.name} was executed with {package} {record[package]}, "
            "but requirements.lock "
            f"pins {locked_version(package, python)}: regenerate it with `make outputs`"
        )
    assert record["blas"], f"{path.name}: no BLAS library recorded"
    for blas in record["blas"]:
        assert blas["architecture"] and blas["version"], blas
