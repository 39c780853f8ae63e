"""The student-edition generator (tools/make_student.py) on synthetic notebooks."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from _tools import load_tool  # tests/ is on sys.path under pytest
from nbformat.v4 import (
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_output,
    new_raw_cell,
)

ROOT = Path(__file__).resolve().parent.parent


ms = load_tool("make_student")

SETUP = new_code_cell(
    'import sys\nif "google.colab" in sys.modules:\n    pass',
    metadata={"tags": ["remove-cell"]},
)
SOLUTION_META = {
    "tags": ["hide-input"],
    "mystnb": {
        "code_prompt_show": "Show solution",
        "code_prompt_hide": "Hide solution",
    },
}


def _executed(cell, text):
    cell.execution_count = 3
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    return cell


def chapter(*cells, number=1):
    cells = [
        copy.deepcopy(SETUP),
        new_markdown_cell(f"# Chapter {number}: Test\n\nGoals."),
        *map(copy.deepcopy, cells),
    ]
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i}"
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def write(tmp_path, nb, name="01_test.ipynb"):
    book = tmp_path / "book"
    book.mkdir(exist_ok=True)
    path = book / name
    nbformat.write(nb, path)
    return path


SIGMOID = '''import numpy as np

def sigmoid(x):
    """Sigmoid of x, elementwise."""
    ### BEGIN SOLUTION
    return 1.0 / (1.0 + np.exp(-x))
    ### END SOLUTION'''


def basic_chapter():
    return chapter(
        new_markdown_cell("Some text before, with a plot below."),
        _executed(new_code_cell("print('kept output')"), "kept output\n"),
        new_markdown_cell(
            "### Exercise 1.1: the sigmoid\n\nImplement $\\sigma(x) = 1/(1+e^{-x})$."
        ),
        _executed(
            new_code_cell(SIGMOID, metadata=json.loads(json.dumps(SOLUTION_META))), ""
        ),
        _executed(
            new_code_cell("from nnlib import checks\nchecks.sigmoid(sigmoid)"),
            "✓ sigmoid: all 6 checks passed\n",
        ),
        new_markdown_cell("After the exercise."),
        _executed(new_code_cell("print(sigmoid(0.0))"), "0.5\n"),
    )


def test_balanced_markers_become_a_named_not_implemented_error(tmp_path):
    path = write(tmp_path, basic_chapter())
    student, exercises = ms.build_student(nbformat.read(path, as_version=4), path)
    assert [ex.name for ex in exercises] == ["Exercise 1.1"]
    ex = exercises[0]
    cell = student.cells[ex.student_index]
    assert cell.source == (
        'import numpy as np\n\ndef sigmoid(x):\n    """Sigmoid of x, elementwise."""\n'
        '    raise NotImplementedError("Exercise 1.1: the sigmoid")'
    )
    assert "BEGIN" not in cell.source and "np.exp" not in cell.source
    # the solution toggle is gone, the outputs of the exercise and its check are cleared
    assert "tags" not in cell.metadata and "mystnb" not in cell.metadata
    check = student.cells[ex.student_index + 1]
    assert ex.group == [ex.student_index, ex.student_index + 1]
    assert check.outputs == [] and check.execution_count is None
    assert cell.outputs == [] and cell.execution_count is None
    # other cells keep their outputs; the setup cell is untouched; a note follows the
    # title
    kept = [c for c in student.cells if c.cell_type == "code" and c.outputs]
    assert [c.outputs[0]["text"] for c in kept] == ["kept output\n", "0.5\n"]
    assert (
        student.cells[0].source == SETUP.source
        and student.cells[0].metadata == SETUP.metadata
    )
    assert (
        student.cells[2].id == ms.NOTE_CELL_ID
        and "Exercise 1.1" in student.cells[2].source
    )
    # the solution is where the test of "filled in" looks for it
    assert ex.solution_source == SIGMOID
    nbformat.validate(student)


def test_the_unfilled_exercise_raises_the_named_error_when_run(tmp_path):
    path = write(tmp_path, basic_chapter())
    student, (ex,) = ms.build_student(nbformat.read(path, as_version=4), path)
    namespace = {}
    exec(student.cells[ex.student_index].source, namespace)
    with pytest.raises(NotImplementedError, match=r"^Exercise 1\.1: the sigmoid$"):
        namespace["sigmoid"](0.0)


def test_nested_indentation_and_several_blocks_in_one_cell(tmp_path):
    source = (
        "class Layer:\n"
        "    def forward(self, x):\n"
        "        if x is None:\n"
        "            raise ValueError('x')\n"
        "        ### BEGIN SOLUTION\n"
        "        out = x @ self.W\n"
        "        return out\n"
        "        ### END SOLUTION\n"
        "\n"
        "    def backward(self, dout):\n"
        "        for _ in range(1):\n"
        "            ### BEGIN SOLUTION\n"
        "            dx = dout @ self.W.T\n"
        "            ### END SOLUTION\n"
        "        return dx\n"
        "### BEGIN SOLUTION\n"
        "top_level = 1\n"
        "### END SOLUTION\n"
    )
    nb = chapter(
        new_markdown_cell("## Exercise 3.2 \u2014 a layer's forward and backward"),
        new_code_cell(source),
        number=3,
    )
    path = write(tmp_path, nb, "03_layers.ipynb")
    student, (ex,) = ms.build_student(nbformat.read(path, as_version=4), path)
    raise_ = (
        'raise NotImplementedError("Exercise 3.2: a layer\'s forward and backward")'
    )
    assert ex.student_source == (
        "class Layer:\n"
        "    def forward(self, x):\n"
        "        if x is None:\n"
        "            raise ValueError('x')\n"
        f"        {raise_}\n"
        "\n"
        "    def backward(self, dout):\n"
        "        for _ in range(1):\n"
        f"            {raise_}\n"
        "        return dx\n"
        f"{raise_}\n"
    )
    compile(ex.student_source, "exercise", "exec")  # still valid Python


def test_quotes_and_backslashes_in_the_heading_give_a_valid_literal(tmp_path):
    nb = chapter(
        new_markdown_cell('### Exercise 1.1: the "stable" $\\sigma$'),
        new_code_cell(
            "def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"
        ),
    )
    path = write(tmp_path, nb)
    _, (ex,) = ms.build_student(nbformat.read(path, as_version=4), path)
    namespace = {}
    exec(ex.student_source, namespace)
    with pytest.raises(NotImplementedError) as info:
        namespace["f"]()
    assert str(info.value) == 'Exercise 1.1: the "stable" $\\sigma$'


@pytest.mark.parametrize(
    "source, complaint",
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "never closed"),
        (
            "def f():\n    return 1\n    ### END SOLUTION\n",
            "without a '### BEGIN SOLUTION' before it",
        ),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n",
            "inside the block opened on line 1",
        ),
        (
            "def f():\n    ## BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n",
            "malformed solution marker on line 2",
        ),
        ("x = 1  ### BEGIN SOLUTION\n", "malformed solution marker on line 1"),
    ],
)
def test_unbalanced_or_malformed_marker_names_file_and_cell(
    tmp_path, source, complaint
):
    nb = chapter(new_markdown_cell("### Exercise 1.1: f"), new_code_cell(source))
    path = write(tmp_path, nb)
    with pytest.raises(ms.StudentEditionError) as info:
        ms.build_student(nbformat.read(path, as_version=4), path)
    message = str(info.value)
    assert "01_test.ipynb, cell 3 (id cell-3)" in message and complaint in message


@pytest.mark.parametrize("make_cell", [new_markdown_cell, new_raw_cell])
def test_marker_outside_a_code_cell_is_an_error(tmp_path, make_cell):
    nb = chapter(
        new_markdown_cell("### Exercise 1.1: f"),
        make_cell(
            "Write your code between\n\n### BEGIN SOLUTION\n\nand the end marker."
        ),
    )
    path = write(tmp_path, nb)
    with pytest.raises(
        ms.StudentEditionError,
        match=r"01_test\.ipynb, cell 3 \(id cell-3\): solution marker "
        r"'### BEGIN SOLUTION' in a (markdown|raw) cell",
    ):
        ms.build_student(nbformat.read(path, as_version=4), path)


@pytest.mark.parametrize(
    "before, complaint",
    [
        ([], "nearest heading above it is 'Chapter 1: Test' (cell 1)"),
        (
            [new_markdown_cell("## Saturation\n\nNo exercise heading here.")],
            "nearest heading above it is 'Saturation'",
        ),
        # an exercise heading does not reach past the next heading
        (
            [
                new_markdown_cell("### Exercise 1.1: f"),
                new_code_cell("x = 1"),
                new_markdown_cell("## Next section"),
            ],
            "nearest heading above it is 'Next section'",
        ),
        # a "# comment" inside a fenced code block is not a heading
        (
            [new_markdown_cell("```python\n# Exercise 1.1: f\n```")],
            "nearest heading above it is 'Chapter 1: Test'",
        ),
        (
            [new_markdown_cell("### Exercise: f")],
            "nearest heading above it is 'Exercise: f'",
        ),
    ],
)
def test_exercise_cell_without_its_heading_is_an_error(tmp_path, before, complaint):
    nb = chapter(
        *before,
        new_code_cell(
            "def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"
        ),
    )
    path = write(tmp_path, nb)
    with pytest.raises(ms.StudentEditionError) as info:
        ms.build_student(nbformat.read(path, as_version=4), path)
    message = str(info.value)
    index = len(nb.cells) - 1
    assert f"01_test.ipynb, cell {index} (id cell-{index})" in message
    assert complaint in message and "### Exercise 1.M: <what to implement>" in message


def test_heading_of_another_chapter_or_used_twice_is_an_error(tmp_path):
    cell = new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"
    )
    path = write(tmp_path, chapter(new_markdown_cell("### Exercise 2.1: f"), cell))
    with pytest.raises(
        ms.StudentEditionError, match=r"cell 2 .*numbered 2\.1, but this is chapter 1"
    ):
        ms.build_student(nbformat.read(path, as_version=4), path)
    path = write(
        tmp_path,
        chapter(
            new_markdown_cell("### Exercise 1.1: f"),
            cell,
            new_markdown_cell("### Exercise 1.1: g"),
            copy.deepcopy(cell),
        ),
    )
    with pytest.raises(
        ms.StudentEditionError, match=r"cell 4 .*'Exercise 1\.1' is used a second time"
    ):
        ms.build_student(nbformat.read(path, as_version=4), path)


def test_generate_is_deterministic_checks_and_removes_orphans(tmp_path):
    path = write(tmp_path, basic_chapter())
    out = tmp_path / "exercises"
    assert ms.generate(path.parent, out) == [out / "01_test.ipynb"]
    first = (out / "01_test.ipynb").read_bytes()
    assert ms.generate(path.parent, out) == []  # nothing changes a second time
    assert ms.generate(path.parent, out, check=True) == []
    (out / "01_test.ipynb").unlink()
    ms.generate(path.parent, out)
    assert (out / "01_test.ipynb").read_bytes() == first  # byte-identical from scratch
    # a stale file and an orphan are reported by --check and fixed without it
    (out / "01_test.ipynb").write_text(
        first.decode().replace("the sigmoid", "the tanh")
    )
    (out / "09_gone.ipynb").write_text("{}")
    assert ms.generate(path.parent, out, check=True) == [
        out / "01_test.ipynb",
        out / "09_gone.ipynb",
    ]
    assert (out / "09_gone.ipynb").exists()
    ms.generate(path.parent, out)
    assert sorted(p.name for p in out.iterdir()) == ["01_test.ipynb"]
    assert (out / "01_test.ipynb").read_bytes() == first


def test_command_line_check_and_error_exit_codes(tmp_path):
    path = write(tmp_path, basic_chapter())
    out = tmp_path / "exercises"
    script = [
        sys.executable,
        str(ROOT / "tools" / "make_student.py"),
        "--book",
        str(path.parent),
        "--out",
        str(out),
    ]
    stale = subprocess.run(script + ["--check"], capture_output=True, text=True)
    assert (
        stale.returncode == 1
        and "out of date:" in stale.stdout
        and "01_test.ipynb" in stale.stdout
    )
    assert not out.exists()  # --check writes nothing
    assert subprocess.run(script, capture_output=True, text=True).returncode == 0
    assert (
        subprocess.run(script + ["--check"], capture_output=True, text=True).returncode
        == 0
    )
    nb = basic_chapter()
    nb.cells.append(new_markdown_cell("### END SOLUTION"))
    write(tmp_path, nb)
    broken = subprocess.run(script, capture_output=True, text=True)
    assert broken.returncode == 2
    assert "01_test.ipynb, cell 9" in broken.stderr and "markdown cell" in broken.stderr


# --- tools/sync_setup_cells.py
# ------------------------------------------------------------------------------

sync = load_tool("sync_setup_cells")


def test_setup_cell_is_written_from_the_config(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text(
        "repository:\n  url: https://github.com/someone/course.git/\n  branch: dev\n"
    )
    repo = sync.read_repository(config)
    assert repo == {
        "url": "https://github.com/someone/course",
        "branch": "dev",
        "path_to_book": "",
    }
    old = basic_chapter()
    old.cells[
        0
    ].source = 'import sys\nif "google.colab" in sys.modules:\n    %pip install nnlib'
    no_setup = basic_chapter()
    del no_setup.cells[0]
    write(tmp_path, old, "01_old.ipynb")
    write(tmp_path, no_setup, "02_none.ipynb")
    args = ["--book", str(tmp_path / "book"), "--config", str(config)]
    assert sync.main(args + ["--check"]) == 1
    assert sync.main(args) == 0
    assert sync.main(args + ["--check"]) == 0
    for name in ("01_old.ipynb", "02_none.ipynb"):
        nb = nbformat.read(tmp_path / "book" / name, as_version=4)
        assert sync.is_setup_cell(nb.cells[0]) and nb.cells[0].metadata["tags"] == [
            "remove-cell"
        ]
        assert 'REPO_URL = "https://github.com/someone/course"' in nb.cells[0].source
        assert 'BRANCH = "dev"' in nb.cells[0].source
        assert nb.cells[1].source.startswith("# Chapter 1")  # the rest is untouched
        nbformat.validate(nb)
    compile(nb.cells[0].source, "setup", "exec")  # plain Python, no IPython magics


@pytest.mark.parametrize(
    "url",
    [
        "",
        "git@github.com:someone/course",
        "https://gitlab.com/someone/course",
        "https://github.com/someone",
    ],
)
def test_a_repository_url_colab_cannot_open_is_rejected(tmp_path, url):
    config = tmp_path / "_config.yml"
    config.write_text(f"repository:\n  url: '{url}'\n")
    with pytest.raises(
        ValueError, match="repository.url must be https://github.com/<owner>/<repo>"
    ):
        sync.read_repository(config)
