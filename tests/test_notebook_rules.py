"""Rules every chapter follows, so that ``make test`` means the same on every machine.

A cell whose printed numbers come from iterative training or from a timing depends on
the machine (BLAS kernel, numpy's SIMD paths, thread count, oneDNN). Such a cell is
tagged
``nbval-ignore-output``, so nbval does not compare its digits, and must then test what
the prose claims with ``assert`` statements (tolerance bands, orderings, floors): a
tagged cell without an assertion would test nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from conftest import NBVAL_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def _python(source: str) -> str:
    """The cell's source without IPython's line magics and shell escapes."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


def has_assertion(source: str) -> bool:
    """True if the code contains an ``assert`` statement (a comment or string does not
    count)."""
    tree = ast.parse(_python(source))
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def ignored_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code):
        if "nbval-ignore-output" in cell.metadata.get("tags", []):
            yield number, cell


def test_has_assertion_reads_code_not_text():
    assert has_assertion("x = 1\nassert x == 1, 'x'")
    assert has_assertion("for i in range(3):\n    assert i < 3")
    assert not has_assertion("print('assert')  # assert nothing")
    assert not has_assertion("%time x = 1\nx")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_ignored_cell_asserts(path):
    missing = [
        f"Cell {n}" for n, cell in ignored_cells(path) if not has_assertion(cell.source)
    ]
    assert not missing, (
        f"{path.name}: {', '.join(missing)} (nbval's code-cell numbers) are tagged "
        "nbval-ignore-output but contain no assert: check what the prose claims "
        "about the "
        "output (a band, an ordering, a floor)"
    )


def test_makefile_passes_the_same_nbval_options():
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^NBVAL\s*:=\s*(.+)$", makefile, flags=re.MULTILINE)
    assert match, "the Makefile defines no NBVAL := ... line"
    assert tuple(match.group(1).split()) == NBVAL_OPTIONS


#: a log or warning line: "WARNING:tensorflow:...", absl's "I0000 ...", "Warning: ..."
LOG_LINE = re.compile(r"^\s*(WARNING|ERROR)\b|^[IWEF]\d{4} |^\S*Warning: ")


def _stray_outputs(path: Path):
    """Stored outputs a reader should not see: errors, and log lines on stderr."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                yield f"Cell {number}: an error ({out.ename})"
            elif out.output_type == "stream":
                for line in out.text.replace("\r", "\n").splitlines():
                    if "it/s]" in line or "s/it]" in line or "%|" in line:
                        continue  # a progress bar
                    if out.name == "stderr" and line.strip() or LOG_LINE.match(line):
                        yield f"Cell {number}: {out.name} {line.strip()[:120]!r}"
            elif "<Figure size" in str(out.get("data", {}).get("text/plain", "")):
                if "image/png" not in out.get("data", {}):
                    yield f"Cell {number}: a figure's repr instead of the figure"


def test_stray_outputs_are_found(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import tensorflow")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="I0000 oneDNN")
    ]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert list(_stray_outputs(tmp_path / "x.ipynb")) == [
        "Cell 0: stderr 'I0000 oneDNN'"
    ]
    cell.outputs = [
        nbformat.v4.new_output(
            "stream", name="stdout", text="loss 0.1\nWARNING:tf:x\n"
        ),
        nbformat.v4.new_output(
            "stream", name="stderr", text="100%|####| 5/5 [1.0it/s]"
        ),
    ]
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert list(_stray_outputs(tmp_path / "x.ipynb")) == [
        "Cell 0: stdout 'WARNING:tf:x'"
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_stray_outputs(path):
    stray = list(_stray_outputs(path))
    assert not stray, f"{path.name} stores outputs a reader should not see: {stray}"
