"""The student edition of the real chapters: up to date, Colab setup cells, and how it runs.

* ``exercises/`` is exactly what ``tools/make_student.py`` makes from the current ``book/``;
* every chapter's first cell is the Colab setup cell written from ``_config.yml``;
* an unfilled exercise notebook, run top to bottom, stops first at its first exercise with the
  ``NotImplementedError`` that names it;
* the exercise notebook with the reference solutions filled back in passes all its checks.

The execution tests run each notebook only up to the last cell of its last exercise (the
check cells), in a temporary folder (as in Colab, nothing may depend on the working directory);
nbval already runs every book notebook to the end.
"""
from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ms = _load("make_student")
sync = _load("sync_setup_cells")

CHAPTERS = ms.chapters(ROOT / "book")
CHAPTER_IDS = [path.stem for path in CHAPTERS]
#: Per-cell time limit when executing a chapter (seconds).
CELL_TIMEOUT = 600


def test_exercises_are_up_to_date_with_book():
    stale = ms.generate(ROOT / "book", ROOT / "exercises", check=True)
    assert not stale, ("exercises/ is out of date with book/: "
                       + ", ".join(str(p.relative_to(ROOT)) for p in stale)
                       + ". Run `make student` and commit exercises/.")


def test_setup_cells_agree_with_config():
    repo = sync.read_repository(ROOT / "_config.yml")
    source = sync.setup_cell_source(repo["url"], repo["branch"])
    wrong = []
    for path in CHAPTERS:
        first = nbformat.read(path, as_version=4).cells[0]
        if not (sync.is_setup_cell(first) and first.source == source):
            wrong.append(path.name)
    assert not wrong, (f"the first cell of {', '.join(wrong)} is not the Colab setup cell written from _config.yml "
                       f"({repo['url']}, branch {repo['branch']}); run `make student`")


def _student(path):
    book = nbformat.read(path, as_version=4)
    student, exercises = ms.build_student(book, path)
    if not exercises:
        pytest.skip(f"{path.name} has no exercises")
    return book, student, exercises


def _run(nb, indices, workdir):
    """Execute ``nb.cells[i]`` for ``i`` in ``indices`` in order, in one fresh kernel; stop at the first error.

    Returns ``(index, CellExecutionError)`` of the first failing cell, or ``None``.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    with client.setup_kernel():
        for index in indices:
            try:
                client.execute_cell(nb.cells[index], index)
            except CellExecutionError as error:
                return index, error
    return None


def _describe(nb, index, error):
    return f"cell {index} ({nb.cells[index].source.strip().splitlines()[0][:80]!r}) raised {error.ename}: {error.evalue}"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_unfilled_exercise_notebook_stops_at_its_first_exercise(path, tmp_path):
    _, student, exercises = _student(path)
    first = exercises[0]
    chapter = ms.chapter_number(path)
    assert first.name == f"Exercise {chapter}.1", f"the first exercise of {path.name} is {first.name}"
    # Top to bottom, through the first exercise's own cells (the exercise and its check).
    failure = _run(student, range(first.group[-1] + 1), tmp_path)
    assert failure is not None, (f"exercises/{path.name} ran through {first.name} (cells {first.group}) without "
                                 f"an error: nothing calls the unfilled code there (is the check cell missing?)")
    index, error = failure
    assert index in first.group, (f"exercises/{path.name} failed before reaching {first.name}: "
                                  + _describe(student, index, error))
    assert error.ename == "NotImplementedError" and error.evalue == first.message, (
        f"exercises/{path.name}: expected NotImplementedError({first.message!r}) in {first.name}, got "
        + _describe(student, index, error))


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_reference_solutions_filled_in_pass_the_checks(path, tmp_path):
    book, student, exercises = _student(path)
    filled = copy.deepcopy(student)
    for ex in exercises:
        assert filled.cells[ex.student_index].source == ex.student_source
        filled.cells[ex.student_index].source = ex.solution_source
    # Filling in the solutions gives back exactly the chapter's code (the note cell aside).
    code = [c.source for i, c in enumerate(filled.cells) if c.get("id") != ms.NOTE_CELL_ID and c.cell_type == "code"]
    assert code == [c.source for c in book.cells if c.cell_type == "code"]

    last = max(ex.group[-1] for ex in exercises)
    failure = _run(filled, range(last + 1), tmp_path)
    assert failure is None, f"exercises/{path.name} with the reference solutions: " + _describe(filled, *failure)
    for ex in exercises:
        printed = "".join(out.get("text", "") for i in ex.group for out in filled.cells[i].outputs
                          if out.get("output_type") == "stream")
        assert "\u2713" in printed, (f"exercises/{path.name}: no check cell of {ex.name} (cells {ex.group}) printed "
                                     f"a '\u2713 ... passed' line; output was {printed!r}")
