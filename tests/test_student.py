"""The student edition of the real chapters: up to date, Colab setup cells, how it runs.

* ``exercises/`` is exactly what ``tools/make_student.py`` makes from the current
  ``book/``;
* every chapter's first cell is the Colab setup cell written from ``_config.yml``, and
  the repository addresses written by hand in README.md and the landing page are that
  one too;
* the exercise notebook, run top to bottom in one kernel the way a student works through
  it, stops at each exercise with the ``NotImplementedError`` that names it (the first
  failure of the notebook is Exercise N.1), and with the reference solution filled in
  and the exercise's cells run again, its checks pass.

The execution test runs each notebook only up to the last cell of its last exercise (the
check cells), in a temporary folder (as in Colab, nothing may depend on the working
directory); nbval already runs every book notebook to the end.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import pytest
from _tools import load_tool  # tests/ is on sys.path under pytest

ROOT = Path(__file__).resolve().parent.parent
# runs every exercise notebook: `make test` runs it, `make unit` does not
pytestmark = pytest.mark.slow


ms = load_tool("make_student")
sync = load_tool("sync_setup_cells")

CHAPTERS = ms.chapters(ROOT / "book")
CHAPTER_IDS = [path.stem for path in CHAPTERS]
#: Per-cell time limit when executing a chapter (seconds).
CELL_TIMEOUT = 600


def test_exercises_are_up_to_date_with_book():
    stale = ms.generate(ROOT / "book", ROOT / "exercises", check=True)
    assert not stale, (
        "exercises/ is out of date with book/: "
        + ", ".join(str(p.relative_to(ROOT)) for p in stale)
        + ". Run `make student` and commit exercises/."
    )


def test_setup_cells_agree_with_config():
    repo = sync.read_repository(ROOT / "_config.yml")
    source = sync.setup_cell_source(repo["url"], repo["branch"])
    wrong = []
    for path in CHAPTERS:
        first = nbformat.read(path, as_version=4).cells[0]
        if not (sync.is_setup_cell(first) and first.source == source):
            wrong.append(path.name)
    assert not wrong, (
        f"the first cell of {', '.join(wrong)} is not the Colab setup cell "
        "written from _config.yml "
        f"({repo['url']}, branch {repo['branch']}); run `make student`"
    )


def _student(path):
    book = nbformat.read(path, as_version=4)
    student, exercises = ms.build_student(book, path)
    if not exercises:
        pytest.skip(f"{path.name} has no exercises")
    return book, student, exercises


class _Kernel:
    """One fresh kernel running the cells of ``nb`` one by one, as a student would."""

    def __init__(self, nb, workdir):
        from nbclient import NotebookClient

        self.nb = nb
        self.client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
        )

    def run(self, index):
        """Run ``nb.cells[index]``; return its ``CellExecutionError``, or None."""
        from nbclient.exceptions import CellExecutionError

        try:
            self.client.execute_cell(self.nb.cells[index], index)
        except CellExecutionError as error:
            return error
        return None

    def describe(self, index, error):
        first_line = (self.nb.cells[index].source.strip().splitlines() or [""])[0][:80]
        return f"cell {index} ({first_line!r}) raised {error.ename}: {error.evalue}"


def test_filled_in_solutions_give_back_the_chapter():
    """Each exercise's solution put back into its cell restores the chapter's code."""
    for path in CHAPTERS:
        book = nbformat.read(path, as_version=4)
        student, exercises = ms.build_student(book, path)
        for ex in exercises:
            assert student.cells[ex.student_index].source == ex.student_source
            student.cells[ex.student_index].source = ex.solution_source
        code = [c.source for c in student.cells if c.cell_type == "code"]
        assert code == [c.source for c in book.cells if c.cell_type == "code"], (
            path.name
        )


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_working_through_the_exercise_notebook(path, tmp_path):
    """Run the exercise notebook top to bottom in one kernel, as a student works it.

    Every cell before the first exercise runs without error; each exercise, unfilled,
    stops with the NotImplementedError that names it (the first one: Exercise N.1), in
    its own cells (the exercise cell or its check); with the reference solution typed in
    and its cells run again, its checks pass and print their line of success; the cells
    between exercises run without error. Stops after the last exercise's check: nbval
    runs the rest of every chapter.
    """
    _, student, exercises = _student(path)
    chapter = ms.chapter_number(path)
    assert exercises[0].name == f"Exercise {chapter}.1", (
        f"the first exercise of {path.name} is {exercises[0].name}"
    )
    nb = copy.deepcopy(student)
    starts = {ex.student_index: ex for ex in exercises}
    last = max(ex.group[-1] for ex in exercises)
    kernel = _Kernel(nb, tmp_path)
    name = f"exercises/{path.name}"
    with kernel.client.setup_kernel():
        index = 0
        while index <= last:
            ex = starts.get(index)
            if ex is None:
                error = kernel.run(index)
                assert error is None, (
                    f"{name}, before or between the exercises: "
                    + kernel.describe(index, error)
                )
                index += 1
                continue
            # Unfilled: the first error must be this exercise's NotImplementedError, in
            # its own cells.
            failure = next(
                ((i, e) for i in ex.group if (e := kernel.run(i)) is not None), None
            )
            assert failure is not None, (
                f"{name}: {ex.name} left unfilled ran without error "
                f"(cells {ex.group}): "
                "does its check cell call the function?"
            )
            assert (
                failure[1].ename == "NotImplementedError"
                and failure[1].evalue == ex.message
            ), (
                f"{name}: expected NotImplementedError({ex.message!r}) "
                f"from {ex.name}, got " + kernel.describe(*failure)
            )
            # Filled in with the reference solution and run again: the checks pass.
            nb.cells[ex.student_index].source = ex.solution_source
            for i in ex.group:
                error = kernel.run(i)
                assert error is None, (
                    f"{name}, {ex.name} with the reference solution: "
                    + kernel.describe(i, error)
                )
            printed = "".join(
                out.get("text", "")
                for i in ex.group
                for out in nb.cells[i].outputs
                if out.get("output_type") == "stream"
            )
            assert "\u2713" in printed, (
                f"{name}: no check cell of {ex.name} (cells {ex.group}) printed a "
                f"'\u2713 ... passed' line; the output was {printed!r}"
            )
            index = ex.group[-1] + 1


def test_chapters_use_earlier_chapters_only_through_nnlib():
    """A student who skipped the exercises of chapter 3 can still run chapter 4.

    Each chapter runs in its own fresh kernel (here and in nbval), so the only ways to
    depend on an earlier chapter's code are running or importing another notebook,
    editing ``sys.path`` or reading a file an earlier chapter wrote; the earlier work
    must come from ``nnlib`` instead.
    """
    forbidden = re.compile(
        r"^\s*%run\b|import_ipynb|\bsys\.path\b|nbimporter|\bexec\(open\(|"
        r"(?:from|import)\s+book\b|\.ipynb\b",
        re.MULTILINE,
    )
    found = []
    for path in CHAPTERS:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            # the setup cell may install things
            if cell.cell_type == "code" and index > 0:
                found += [
                    f"{path.name}, cell {index}: {m.group(0).strip()!r}"
                    for m in forbidden.finditer(cell.source)
                ]
    assert not found, (
        "chapters must import earlier work from nnlib, not from notebooks: "
        + "; ".join(found)
    )


def test_repository_addresses_in_prose_agree_with_config():
    """The repository addresses in README.md and the landing page are _config.yml's.

    Those pages name the repository by hand (clone command, badges, links): every
    GitHub repository address they contain, other than the third-party projects listed
    here, must be the one in ``_config.yml``, so that moving the repository cannot
    leave a stale one.
    """
    third_party = {"https://github.com/computationalmodelling/nbval"}
    repo = sync.read_repository(ROOT / "_config.yml")["url"]
    found, wrong = 0, []
    for path in (ROOT / "README.md", ROOT / "book" / "intro.md"):
        for match in re.finditer(
            r"https://github\.com/[\w.-]+/[\w.-]+", path.read_text(encoding="utf-8")
        ):
            found += 1
            address = match.group(0).removesuffix(".git")
            if address != repo and address not in third_party:
                wrong.append(f"{path.relative_to(ROOT)}: {address}")
    assert found >= 3, (
        "expected the clone command, the badges and the repository link, "
        f"found {found} addresses"
    )
    assert not wrong, (
        f"these addresses differ from repository.url {repo} in _config.yml: {wrong} "
        "(a link to another project belongs in third_party in this test)"
    )
