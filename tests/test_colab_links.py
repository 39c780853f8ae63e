"""The Colab links (_ext/colab_links.py) and solution toggles, on a two-page book.

Builds, in a temporary folder, a tiny Jupyter Book with the repository, launch-button
and extension settings of the real ``_config.yml`` and one chapter written the way the
chapters are (an exercise with its solution between markers, tagged ``hide-input`` with
the "Show solution" prompt), plus its student edition from ``tools/make_student.py``.
Then reads the HTML:

* the note under the chapter title links the chapter and its exercise notebook in Colab,
  both derived from ``repository.url``/``branch``, and the chapter link is the very link
  of Jupyter Book's own Colab launch button;
* the solution is inside a closed ``<details>`` whose summary says "Show solution", the
  exercise statement is outside it, and the solution appears nowhere else on the page.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml
from _tools import load_tool  # tests/ is on sys.path under pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
# builds small books with jupyter-book: `make test` runs it, `make unit` does not
pytestmark = pytest.mark.slow
SOLUTION_LINE = "return 1.0 / (1.0 + np.exp(-x))  # the-solution-line"
STATEMENT = "Implement the logistic sigmoid elementwise."


class _Page(HTMLParser):
    """Collects links, and the text inside and outside closed <details> elements."""

    def __init__(self):
        super().__init__()
        self.links, self.stack = [], []
        self.hidden, self.visible, self.summaries = [], [], []
        self.in_summary = False
        self.details_open = []
        self.notes = []  # text of class="... colab-links ..." blocks, with their links

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
            if self.stack and any("colab-links" in c for c in self.stack):
                self.notes[-1][1].append(attrs["href"])
        if tag == "details":
            self.details_open.append("open" in attrs)
        if tag == "summary":
            self.in_summary = True
        classes = attrs.get("class", "") or ""
        if tag == "div" and "colab-links" in classes:
            self.notes.append(["", []])
        if tag == "div":
            self.stack.append(classes)

    def handle_endtag(self, tag):
        if tag == "details" and self.details_open:
            self.details_open.pop()
        if tag == "summary":
            self.in_summary = False
        if tag == "div" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.in_summary:
            self.summaries.append(data.strip())
        elif self.details_open and not all(self.details_open):
            self.hidden.append(data)
        else:
            self.visible.append(data)
        if self.stack and any("colab-links" in c for c in self.stack):
            self.notes[-1][0] += data


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = tmp_path_factory.mktemp("minibook")
    real = yaml.safe_load((ROOT / "_config.yml").read_text())
    config = {
        "title": "Mini",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "repository": real["repository"],
        "launch_buttons": real["launch_buttons"],
        "html": {"use_repository_button": True},
        "sphinx": {"local_extensions": {"colab_links": str(ROOT / "_ext")}},
    }
    (site / "_config.yml").write_text(yaml.safe_dump(config))
    (site / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: book/01_demo\n"
    )
    (site / "intro.md").write_text("# Mini\n\nThe intro page.\n")
    (site / "book").mkdir()
    check = new_code_cell(
        "print('\u2713 sigmoid: all 6 checks passed')",
        execution_count=3,
        outputs=[
            new_output(
                "stream", name="stdout", text="\u2713 sigmoid: all 6 checks passed\n"
            )
        ],
    )
    nb = new_notebook(
        cells=[
            new_code_cell(
                'import sys\nif "google.colab" in sys.modules:\n    pass',
                metadata={"tags": ["remove-cell"]},
            ),
            new_markdown_cell("# Chapter 1: Demo\n\nThe goals.\n\n## The sigmoid"),
            new_markdown_cell(f"### Exercise 1.1: the sigmoid\n\n{STATEMENT}"),
            new_code_cell(
                "import numpy as np\n\ndef sigmoid(x):\n"
                '    """Sigmoid of x."""\n    ### BEGIN SOLUTION\n'
                f"    {SOLUTION_LINE}\n    ### END SOLUTION",
                execution_count=2,
                metadata={
                    "tags": ["hide-input"],
                    "mystnb": {
                        "code_prompt_show": "Show solution",
                        "code_prompt_hide": "Hide solution",
                    },
                },
            ),
            check,
        ],
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
        },
    )
    nbformat.write(nb, site / "book" / "01_demo.ipynb")
    assert load_tool("make_student").generate(site / "book", site / "exercises") == [
        site / "exercises" / "01_demo.ipynb"
    ]
    jb = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run(
        [str(jb), "build", str(site), "--warningiserror", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    page = _Page()
    page.feed(
        (site / "_build" / "html" / "book" / "01_demo.html").read_text(encoding="utf-8")
    )
    return real, page


def test_chapter_page_links_chapter_and_exercises_in_colab(built):
    real, page = built
    url = real["repository"]["url"].rstrip("/")
    owner_repo = url.removeprefix("https://github.com/")
    branch = real["repository"].get("branch", "main")
    colab = real["launch_buttons"]["colab_url"].rstrip("/")
    chapter = f"{colab}/github/{owner_repo}/blob/{branch}/book/01_demo.ipynb"
    exercises = f"{colab}/github/{owner_repo}/blob/{branch}/exercises/01_demo.ipynb"
    assert len(page.notes) == 1, "expected one Colab note on the chapter page"
    text, links = page.notes[0]
    assert links == [chapter, exercises]
    assert "exercise notebook" in text and "exercises/01_demo.ipynb" in text
    # Jupyter Book's launch button points at the same chapter notebook
    # Jupyter Book's launch button (the only other Colab link) opens the very same
    # chapter notebook
    assert [link for link in page.links if link.startswith(colab)] == [
        chapter,
        chapter,
        exercises,
    ]


def test_solution_is_collapsed_behind_show_solution(built):
    _, page = built
    hidden, visible = "".join(page.hidden), "".join(page.visible)
    assert "the-solution-line" in hidden, (
        "the solution should be on the page, inside the closed toggle"
    )
    assert "the-solution-line" not in visible
    assert "Show solution" in page.summaries
    assert STATEMENT in visible and "Exercise 1.1" in visible
    assert re.search(r"\u2713 sigmoid: all 6 checks passed", visible)


def test_every_chapter_page_links_colab_and_hides_its_solutions(tmp_path):
    """The real book: each chapter page has its two Colab links and folded solutions."""
    ms = load_tool("make_student")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [
        ch["file"]
        for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}])
        for ch in part.get("chapters", [])
    ]
    chapters = [
        f
        for f in files
        if re.fullmatch(r"book/\d\d_\w+", f) and (ROOT / f"{f}.ipynb").exists()
    ]
    if not chapters:
        pytest.skip("no chapter notebook in _toc.yml yet")
    jb = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run(
        [str(jb), "build", str(ROOT), "--path-output", str(tmp_path), "--keep-going"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    real = yaml.safe_load((ROOT / "_config.yml").read_text())
    base = (
        f"{real['launch_buttons']['colab_url'].rstrip('/')}/github/"
        f"{real['repository']['url'].rstrip('/').removeprefix('https://github.com/')}/blob/"
        f"{real['repository'].get('branch', 'main')}/"
    )
    problems = []
    for doc in chapters:
        name = Path(doc).name
        page = _Page()
        page.feed(
            (tmp_path / "_build" / "html" / f"{doc}.html").read_text(encoding="utf-8")
        )
        book = ROOT / f"{doc}.ipynb"
        _, exercises = ms.build_student(nbformat.read(book, as_version=4), book)
        links = page.notes[0][1] if len(page.notes) == 1 else None
        expected = [f"{base}{doc}.ipynb"] + (
            [f"{base}exercises/{name}.ipynb"] if exercises else []
        )
        if links != expected or (
            not exercises and "has no exercises" not in page.notes[0][0]
        ):
            problems.append(f"{doc}: Colab note links {links}, expected {expected}")
        if page.summaries.count("Show solution") < len(exercises):
            problems.append(
                f"{doc}: {len(exercises)} exercises but "
                f"{page.summaries.count('Show solution')} "
                "'Show solution' toggles"
            )
        visible = re.sub(r"\s+", "", "".join(page.visible))
        hidden = re.sub(r"\s+", "", "".join(page.hidden))
        for ex in exercises:
            block = re.search(
                r"### BEGIN SOLUTION\n(.*?)\n\s*### END SOLUTION",
                ex.solution_source,
                re.S,
            ).group(1)
            code = re.sub(r"\s+", "", block)
            if code in visible or code not in hidden:
                problems.append(
                    f"{doc}: the solution of {ex.name} is not folded away "
                    "behind 'Show solution'"
                )
    assert not problems, "\n".join(problems)


def test_colab_urls_follow_the_repository_settings(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "colab_links_under_test", ROOT / "_ext" / "colab_links.py"
    )
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "02_b.ipynb").write_text("{}")
    options = {
        "repository_url": "https://github.com/me/course.git",
        "repository_branch": "dev",
        "launch_buttons": {"colab_url": "https://colab.example/"},
    }
    urls = ext.colab_urls(options, tmp_path, "book/02_b")
    assert (
        urls["chapter"]
        == "https://colab.example/github/me/course/blob/dev/book/02_b.ipynb"
    )
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "02_b.ipynb").write_text(
        '{"source": ["    ### BEGIN SOLUTION"]}'
    )
    (tmp_path / "book" / "03_c.ipynb").write_text("{}")
    (tmp_path / "exercises" / "03_c.ipynb").write_text("{}")
    urls = ext.colab_urls(options, tmp_path, "book/02_b")
    assert (
        urls["exercises"]
        == "https://colab.example/github/me/course/blob/dev/exercises/02_b.ipynb"
    )
    # no student edition: no link
    assert ext.colab_urls(options, tmp_path, "book/01_a")["exercises"] is None
    # no exercises: no link
    assert ext.colab_urls(options, tmp_path, "book/03_c")["exercises"] is None
    assert ext.colab_urls(options, tmp_path, "intro") is None  # not a chapter
    assert (
        ext.colab_urls({**options, "path_to_docs": "site/"}, tmp_path, "book/02_b")[
            "chapter"
        ]
        == "https://colab.example/github/me/course/blob/dev/site/book/02_b.ipynb"
    )
    assert (
        ext.colab_urls(
            {"repository_url": "https://gitlab.com/me/course"}, tmp_path, "book/02_b"
        )
        is None
    )
    defaults = ext.colab_urls(
        {"repository_url": "https://github.com/me/course"}, tmp_path, "book/02_b"
    )
    assert (
        defaults["chapter"]
        == "https://colab.research.google.com/github/me/course/blob/main/book/02_b.ipynb"
    )
