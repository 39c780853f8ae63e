"""Generate the student edition: ``exercises/NN_*.ipynb`` from ``book/NN_*.ipynb``.

In a chapter, an *exercise cell* is a code cell holding the reference solution
between two marker lines::

    def sigmoid(x):
        '''Sigmoid of x, elementwise.'''
        ### BEGIN SOLUTION
        return 1.0 / (1.0 + np.exp(-x))
        ### END SOLUTION

The student edition of the chapter is the same notebook with

* every marked block (markers included) replaced by one line, at the indentation
  of its ``### BEGIN SOLUTION`` line::

      raise NotImplementedError("Exercise 1.1: the sigmoid and its derivative")

  where ``Exercise 1.1: ...`` is the text of the exercise's heading (see below);
  the code around the block (signature, docstring, code after the block) is kept;
* the outputs and execution counts cleared in the *exercise group*: the exercise
  cell and the code cells after it up to the next markdown cell (its check cell,
  ``checks.sigmoid(sigmoid)``, and anything else that runs the student's code).
  Their stored outputs were made by the reference solution ("✓ sigmoid: all 6
  checks passed"), so they would tell a student the answer or a status they have
  not earned. The outputs of every other cell (plots, tables, derivations) are
  kept: the student edition reads like the chapter;
* the website's solution toggle removed from exercise cells: the ``hide-input``
  tag, the ``mystnb`` ``code_prompt_show``/``code_prompt_hide`` keys and
  JupyterLab's ``jupyter.source_hidden`` flag;
* one markdown cell, after the chapter title, saying what this notebook is and
  how to work through it.

Everything else (setup cell, text, other cells' metadata and ids) is copied as is,
and the output is deterministic: the same ``book/`` always gives the same bytes.

The exercise heading rule: the nearest markdown heading above an exercise cell
(any level, ``#`` to ``######``, outside code fences) must read
``Exercise N.M: <what to implement>`` (``:``, ``.`` or a dash after the number),
where N is the chapter's number (the ``NN`` of its file name). Several exercise
cells may follow one heading; a heading number may be used only once per chapter.

The generator fails, naming the file and the cell (its 0-based index in
``nb.cells`` and its id), when a marker is unbalanced (BEGIN without END, END
without BEGIN, BEGIN inside a block), malformed (``## BEGIN SOLUTION``, code on
the marker line), outside a code cell (markdown or raw), or when an exercise cell
has no exercise heading above it.

Usage, from the repository root with the project's venv (``make student`` does both
steps)::

    python tools/make_student.py            # (re)write exercises/ from book/
    python tools/make_student.py --check    # write nothing; exit 1 listing stale files
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
EXERCISES = ROOT / "exercises"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
#: Anything that looks like a marker (used to find malformed markers and markers outside
#: code cells).
_MARKERISH = re.compile(r"#+\s*(BEGIN|END)\s+SOLUTION", re.IGNORECASE)
#: A markdown ATX heading line.
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
#: The text of an exercise heading.
_EXERCISE = re.compile(r"^Exercise\s+(\d+)\.(\d+)\s*[:.\u2013\u2014-]\s*(\S.*)$")
#: Chapter notebooks.
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"

SOLUTION_TAGS = ("hide-input",)
SOLUTION_MYSTNB_KEYS = ("code_prompt_show", "code_prompt_hide")
NOTE_CELL_ID = "student-edition-note"


class StudentEditionError(ValueError):
    """A chapter unfit for a student edition; the message names the file and cell."""


@dataclasses.dataclass
class Exercise:
    """One exercise cell of a chapter, as placed in the student edition."""

    name: str  # "Exercise 1.1"
    title: str  # "the sigmoid and its derivative"
    book_index: int  # index of the cell in book/NN.ipynb
    student_index: int  # index of the cell in exercises/NN.ipynb
    solution_source: str  # the cell's source in book/ (with the solution)
    student_source: str  # the cell's source in exercises/ (with NotImplementedError)
    # student indices of the cells whose outputs were cleared (this cell first)
    group: list[int]

    @property
    def message(self) -> str:
        return f"{self.name}: {self.title}"


def _where(path, index: int, cell) -> str:
    cell_id = cell.get("id")
    return f"{_display(path)}, cell {index}" + (f" (id {cell_id})" if cell_id else "")


def _display(path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _string_literal(text: str) -> str:
    """A Python string literal for ``text``, double-quoted where possible."""
    if '"' not in text and "\\" not in text and text.isprintable():
        return f'"{text}"'
    return repr(text)


def headings(markdown: str) -> list[tuple[int, str]]:
    """The ATX headings of markdown text as ``(level, text)``, skipping fenced code."""
    found, fence = [], None
    for line in markdown.splitlines():
        match = _FENCE.match(line)
        if match:
            fence = None if fence == match.group(1) else (fence or match.group(1))
            continue
        if fence is None:
            heading = _HEADING.match(line)
            if heading:
                found.append((len(heading.group(1)), heading.group(2)))
    return found


def chapter_number(path) -> int:
    """The ``NN`` of ``NN_name.ipynb``."""
    name = Path(path).name
    if not re.match(r"^\d\d_", name):
        raise StudentEditionError(
            f"{_display(path)}: a chapter's file name must start with its number, NN_"
        )
    return int(name[:2])


def replace_solutions(source: str, message: str, where: str) -> str:
    """``source`` with each marked block replaced by ``raise NotImplementedError``.

    The ``raise`` statement, with ``message``, is indented like the block's BEGIN line.
    """
    out, indent, begin_line = [], None, None
    raise_line = f"raise NotImplementedError({_string_literal(message)})"
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if indent is not None:
                raise StudentEditionError(
                    f"{where}: '{BEGIN}' on line {number} inside the block opened "
                    f"on line {begin_line}; close it with '{END}' first"
                )
            indent, begin_line = line[: len(line) - len(line.lstrip())], number
            out.append(indent + raise_line)
        elif stripped == END:
            if indent is None:
                raise StudentEditionError(
                    f"{where}: '{END}' on line {number} without a '{BEGIN}' before it"
                )
            indent = None
        elif _MARKERISH.search(line):
            raise StudentEditionError(
                f"{where}: malformed solution marker on line {number}: {stripped!r}; "
                f"a marker is a line of its own, exactly '{BEGIN}' or '{END}'"
            )
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise StudentEditionError(
            f"{where}: '{BEGIN}' on line {begin_line} is never closed by '{END}'"
        )
    return "\n".join(out)


def _strip_solution_metadata(cell) -> None:
    metadata = cell.metadata
    tags = [tag for tag in metadata.get("tags", []) if tag not in SOLUTION_TAGS]
    if tags:
        metadata["tags"] = tags
    else:
        metadata.pop("tags", None)
    mystnb = metadata.get("mystnb")
    if isinstance(mystnb, dict):
        for key in SOLUTION_MYSTNB_KEYS:
            mystnb.pop(key, None)
        if not mystnb:
            metadata.pop("mystnb")
    jupyter = metadata.get("jupyter")
    if isinstance(jupyter, dict):
        jupyter.pop("source_hidden", None)
        if not jupyter:
            metadata.pop("jupyter")


def _clear_outputs(cell) -> None:
    cell.outputs = []
    cell.execution_count = None
    # nbclient's timestamps of the run that made the outputs
    cell.metadata.pop("execution", None)


def _note_cell(book_path, exercises: list[Exercise]):
    source_name = f"book/{Path(book_path).name}"
    if exercises:
        names = sorted(
            {ex.name for ex in exercises},
            key=lambda n: [int(x) for x in n.split()[1].split(".")],
        )
        text = (
            f"**Exercise edition.** This notebook is the chapter `{source_name}` "
            f"with the solutions taken out: {', '.join(names)}. "
            "In each exercise cell, replace the line "
            "`raise NotImplementedError(...)` with your code, run the cell, "
            "then run the check cell below it and read its message: "
            "it names the input, the value expected and the value your code returned. "
            "Later chapters import the reference versions from `nnlib`, "
            "so an exercise you skip never blocks the next chapter."
        )
    else:
        text = (
            f"**Exercise edition.** The chapter `{source_name}` has no checked "
            "exercises to fill in (its further exercises are open questions): "
            "this notebook is the chapter itself."
        )
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = NOTE_CELL_ID  # fixed, not random: the output must be deterministic
    return cell


def build_student(nb, path) -> tuple:
    """The student edition of notebook ``nb`` (read from ``path``) and its exercises.

    ``nb`` is not modified. Raises :class:`StudentEditionError` naming the file and
    cell.
    """
    chapter = chapter_number(path)
    student = copy.deepcopy(nb)
    exercises: list[Exercise] = []
    # (name, title, cell index) of the nearest heading so far, if an exercise heading
    heading = None
    nearest_heading = None  # (text, cell index) of the nearest heading of any kind
    seen_names: dict[str, int] = {}
    group_owner = None  # the exercise whose group the following code cells belong to

    for index, cell in enumerate(student.cells):
        where = _where(path, index, cell)
        if cell.cell_type != "code":
            marker = next(
                (line for line in cell.source.splitlines() if _MARKERISH.search(line)),
                None,
            )
            if marker is not None:
                raise StudentEditionError(
                    f"{where}: solution marker {marker.strip()!r} "
                    f"in a {cell.cell_type} cell; markers belong in code cells only"
                )
            group_owner = None
            if cell.cell_type == "markdown":
                found = headings(cell.source)
                if found:
                    text = found[-1][1]
                    nearest_heading = (text, index)
                    match = _EXERCISE.match(text)
                    if match:
                        number, sub, title = (
                            int(match.group(1)),
                            int(match.group(2)),
                            match.group(3).strip(),
                        )
                        name = f"Exercise {number}.{sub}"
                        if number != chapter:
                            raise StudentEditionError(
                                f"{where}: heading '{text}' is numbered "
                                f"{number}.{sub}, but this is chapter {chapter}: "
                                f"number it {chapter}.{sub}"
                            )
                        if name in seen_names:
                            raise StudentEditionError(
                                f"{where}: '{name}' is used a second time "
                                f"(first in cell {seen_names[name]}); "
                                "number each exercise once"
                            )
                        seen_names[name] = index
                        heading = (name, title, index)
                    else:
                        heading = None
            continue

        has_marker = any(
            line.strip() in (BEGIN, END) for line in cell.source.split("\n")
        )
        if not has_marker:
            if any(_MARKERISH.search(line) for line in cell.source.split("\n")):
                # raises, naming the malformed marker
                replace_solutions(cell.source, "", where)
            if group_owner is not None:
                _clear_outputs(cell)
                group_owner.group.append(index)
            continue

        if heading is None:
            found = (
                f"the nearest heading above it is '{nearest_heading[0]}' "
                f"(cell {nearest_heading[1]})"
                if nearest_heading
                else "there is no heading above it"
            )
            raise StudentEditionError(
                f"{where}: this cell has solution markers but {found}; put a markdown "
                f"heading '### Exercise {chapter}.M: <what to implement>' before it"
            )
        name, title, _ = heading
        message = f"{name}: {title}"
        solution_source = cell.source
        cell.source = replace_solutions(cell.source, message, where)
        _strip_solution_metadata(cell)
        _clear_outputs(cell)
        group_owner = Exercise(
            name=name,
            title=title,
            book_index=index,
            student_index=index,
            solution_source=solution_source,
            student_source=cell.source,
            group=[index],
        )
        exercises.append(group_owner)

    # The note goes after the chapter title (the first markdown cell), or after the
    # setup cell.
    position = next(
        (i + 1 for i, c in enumerate(student.cells) if c.cell_type == "markdown"),
        min(1, len(student.cells)),
    )
    note = _note_cell(path, exercises)
    if (student.nbformat, student.nbformat_minor) < (4, 5):
        del note["id"]  # cell ids exist from nbformat 4.5 on
    student.cells.insert(position, note)
    nbformat.validate(student)
    for ex in exercises:
        shift = 1 if ex.book_index >= position else 0
        ex.student_index += shift
        ex.group = [i + (1 if i >= position else 0) for i in ex.group]
    return student, exercises


def dumps(nb) -> str:
    """The notebook as ``nbformat.write`` writes it (sorted keys, so deterministic)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def chapters(book_dir: Path = BOOK) -> list[Path]:
    """The chapter notebooks ``NN_*.ipynb`` in ``book_dir``, in order."""
    return sorted(Path(book_dir).glob(CHAPTER_GLOB))


def student_edition(book_path) -> tuple[str, list[Exercise]]:
    """The text of the student edition of ``book_path`` and its exercises."""
    nb = nbformat.read(book_path, as_version=4)
    student, exercises = build_student(nb, book_path)
    return dumps(student), exercises


def generate(
    book_dir: Path = BOOK, out_dir: Path = EXERCISES, check: bool = False
) -> list[Path]:
    """Write every student edition (or with ``check`` compare); list the stale ones.

    The stale files are the ones returned, rewritten unless ``check``. A file in
    ``out_dir`` named like a chapter but with no chapter in ``book_dir`` counts as
    stale and is deleted (unless ``check``). All chapters are generated before
    anything is written, so an error in one leaves ``out_dir`` untouched.
    """
    book_dir, out_dir = Path(book_dir), Path(out_dir)
    wanted = {
        out_dir / path.name: student_edition(path)[0] for path in chapters(book_dir)
    }
    stale = []
    for target, text in wanted.items():
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            stale.append(target)
            if not check:
                out_dir.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    for orphan in sorted(out_dir.glob(CHAPTER_GLOB)) if out_dir.is_dir() else []:
        if orphan not in wanted:
            stale.append(orphan)
            if not check:
                orphan.unlink()
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate exercises/NN_*.ipynb (the student edition) from book/."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; "
        "exit 1 listing the exercise notebooks that are out of date",
    )
    parser.add_argument(
        "--book",
        type=Path,
        default=BOOK,
        help="folder of the chapters (default: book/)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=EXERCISES,
        help="folder of the student edition (default: exercises/)",
    )
    args = parser.parse_args(argv)
    try:
        stale = generate(args.book, args.out, check=args.check)
    except StudentEditionError as exc:
        print(f"make_student: {exc}", file=sys.stderr)
        return 2
    if args.check:
        for path in stale:
            print(f"out of date: {_display(path)}")
        if stale:
            print(
                "Run `make student` (or `python tools/make_student.py`) "
                "and commit exercises/.",
                file=sys.stderr,
            )
            return 1
        print(
            "exercises/ is up to date with "
            f"{len(chapters(args.book))} chapter(s) in book/"
        )
        return 0
    for path in stale:
        print(f"{'removed' if not path.exists() else 'wrote'} {_display(path)}")
    if not stale:
        print("exercises/ was already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
