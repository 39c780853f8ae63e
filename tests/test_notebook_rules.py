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


# --- Figures and code that fit the website (issue 15) -------------------------------

#: The longest code line ruff allows (``line-length`` in pyproject.toml), also the
#: widest line the website and the printed page show without scrolling or cutting.
MAX_LINE = 88
#: The text column of the website, in CSS pixels (7.8 inches at matplotlib's 100 dpi).
COLUMN_PX = 784
RETINA = re.compile(r"""^%config\s+InlineBackend\.figure_formats?\s*=\s*.*retina""")
#: An "alt text" that is really a file name or a hash (what myst-nb writes without one).
FILE_NAME = re.compile(
    r"^\S+\.(png|jpe?g|svg|gif|webp|pdf)$|^[0-9a-f]{16,}$", flags=re.IGNORECASE
)


def _code_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def _images(cell):
    return [
        out
        for out in cell.get("outputs", [])
        if out.output_type in ("display_data", "execute_result")
        and any(key.startswith("image/") for key in out.get("data", {}))
    ]


def _png_width(out) -> float | None:
    """The width a PNG output is shown at, in CSS pixels (retina: half its pixels)."""
    import base64
    import struct

    data = out.get("data", {}).get("image/png")
    if data is None:
        return None
    width = out.get("metadata", {}).get("image/png", {}).get("width")
    if width is not None:
        return float(width)
    png = base64.b64decode(data if isinstance(data, str) else "".join(data))
    return float(struct.unpack(">I", png[16:20])[0])


def figure_problems(path: Path):
    """Figure cells without a caption, a name or alt text, or with several images."""
    chapter = path.name[:2]
    names = set()
    for number, cell in enumerate(_code_cells(path)):
        images = _images(cell)
        if not images:
            continue
        where = f"Cell {number}"
        if len(images) != 1:
            yield f"{where}: {len(images)} images (one figure per cell)"
        mystnb = cell.metadata.get("mystnb", {})
        figure, image = mystnb.get("figure", {}), mystnb.get("image", {})
        caption, name = figure.get("caption"), figure.get("name")
        alt = image.get("alt")
        if not (isinstance(caption, str) and caption.strip()):
            yield f"{where}: no mystnb.figure.caption"
        if not (
            isinstance(name, str) and re.fullmatch(rf"fig-{chapter}-[a-z0-9-]+", name)
        ):
            yield f"{where}: mystnb.figure.name {name!r} is not fig-{chapter}-<slug>"
        elif name in names:
            yield f"{where}: the figure name {name!r} is used twice"
        else:
            names.add(name)
        if not (isinstance(alt, str) and alt.strip()):
            yield f"{where}: no mystnb.image.alt"
        elif FILE_NAME.match(alt.strip()) or " " not in alt.strip():
            yield f"{where}: mystnb.image.alt {alt!r} is a file name, not a description"
        if "full-width" not in cell.metadata.get("tags", []):
            for out in images:
                width = _png_width(out)
                if width is not None and width > COLUMN_PX:
                    yield (
                        f"{where}: a figure {width:.0f} px wide in the {COLUMN_PX} px "
                        "column (at most 7.8 in, or tag the cell full-width)"
                    )


def long_lines(path: Path):
    for number, cell in enumerate(_code_cells(path)):
        for line_no, line in enumerate(cell.source.splitlines(), start=1):
            if len(line) > MAX_LINE:
                yield f"Cell {number}, line {line_no}: {len(line)} characters"


def retina_problems(path: Path):
    """The first cell with ``%matplotlib inline`` must make figures sharp (2x PNG),
    and a chapter that draws figures must have such a cell before its first one."""
    for number, cell in enumerate(_code_cells(path)):
        lines = [line.strip() for line in cell.source.splitlines()]
        if "%matplotlib inline" in lines:
            if not any(RETINA.match(line) for line in lines):
                yield (
                    f"Cell {number}: %matplotlib inline without "
                    '%config InlineBackend.figure_format = "retina"'
                )
            return
        if _images(cell):
            yield (
                f"Cell {number} draws a figure before any cell sets "
                '%matplotlib inline and %config InlineBackend.figure_format = "retina"'
            )
            return


def _notebook(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = tmp_path / "07_x.ipynb"
    nbformat.write(nb, path)
    return path


def _figure_cell(metadata=None, n_images=1, width=None, tags=None):
    import base64
    import struct

    png = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + struct.pack(">II", 1000, 600)
    cell = nbformat.v4.new_code_cell("plt.show()")
    out = nbformat.v4.new_output(
        "display_data",
        data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"},
        metadata={} if width is None else {"image/png": {"width": width}},
    )
    cell.outputs = [out] * n_images
    cell.metadata = dict(metadata or {})
    if tags:
        cell.metadata["tags"] = tags
    return cell


GOOD = {
    "mystnb": {
        "figure": {"caption": "The loss falls.", "name": "fig-07-loss"},
        "image": {"alt": "A falling curve."},
    }
}


def test_figure_rules_find_what_they_should(tmp_path):
    good = _figure_cell(GOOD, width=500)
    assert list(figure_problems(_notebook(tmp_path, [good]))) == []
    bad_alt = {
        "mystnb": {**GOOD["mystnb"], "image": {"alt": "a3f9e2d4c5b6a7980123.png"}}
    }
    hashed = {"mystnb": {**GOOD["mystnb"], "image": {"alt": "a3f9e2d4c5b6a7980123"}}}
    other = {
        "mystnb": {**GOOD["mystnb"], "figure": {"caption": "c", "name": "fig-3-x"}}
    }
    cases = [
        (_figure_cell({}, width=500), ["no mystnb.figure.caption", "name None", "alt"]),
        (_figure_cell(bad_alt, width=500), ["is a file name"]),
        (_figure_cell(hashed, width=500), ["is a file name"]),
        (_figure_cell(other, width=500), ["is not fig-07-<slug>"]),
        (_figure_cell(GOOD, n_images=2, width=500), ["2 images"]),
        (_figure_cell(GOOD), ["1000 px wide"]),  # a 100-dpi PNG, 10 in wide
        (_figure_cell(GOOD, width=900), ["900 px wide"]),
    ]
    for cell, expected in cases:
        found = list(figure_problems(_notebook(tmp_path, [cell])))
        assert len(found) == len(expected), (expected, found)
        for problem, text in zip(found, expected, strict=True):
            assert text in problem, (text, problem)
    assert list(
        figure_problems(_notebook(tmp_path, [good, _figure_cell(GOOD, width=9)]))
    )[0].endswith("is used twice")
    wide = _figure_cell(GOOD, tags=["full-width"])
    assert list(figure_problems(_notebook(tmp_path, [wide]))) == []


def test_line_and_retina_rules_find_what_they_should(tmp_path):
    setup = "%matplotlib inline\nimport numpy as np"
    retina = '%matplotlib inline\n%config InlineBackend.figure_format = "retina"'
    long = "x = 1  # " + "a" * 80
    path = _notebook(tmp_path, [nbformat.v4.new_code_cell(setup + "\n" + long)])
    assert list(long_lines(path)) == ["Cell 0, line 3: 89 characters"]
    assert "without" in next(retina_problems(path))
    path = _notebook(tmp_path, [nbformat.v4.new_code_cell(retina), _figure_cell(GOOD)])
    assert list(retina_problems(path)) == [] and list(long_lines(path)) == []
    path = _notebook(tmp_path, [_figure_cell(GOOD), nbformat.v4.new_code_cell(retina)])
    assert "before any cell" in next(retina_problems(path))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_figures_have_caption_name_alt_and_fit(path):
    problems = list(figure_problems(path))
    assert not problems, (
        f"{path.name}: every figure cell draws one figure that fits the column and "
        "carries mystnb metadata "
        '{"figure": {"caption": ..., "name": "fig-NN-<slug>"}, "image": {"alt": ...}}: '
        + "; ".join(problems)
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_code_lines_fit(path):
    problems = list(long_lines(path))
    assert not problems, (
        f"{path.name}: code lines longer than {MAX_LINE} characters scroll on the "
        f"website and are cut in print (ruff format the notebook): {problems}"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_figures_are_sharp(path):
    problems = list(retina_problems(path))
    assert not problems, f"{path.name}: {problems}"
