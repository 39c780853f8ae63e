"""Put "open in Colab" links to each chapter and its exercise notebook atop its page.

For a page built from ``book/NN_name.ipynb`` this inserts, right under the chapter
title, a note with two links:

* the chapter itself:
  ``<colab>/github/<owner>/<repo>/blob/<branch>/book/NN_name.ipynb``
* its exercise notebook:
  ``<colab>/github/<owner>/<repo>/blob/<branch>/exercises/NN_name.ipynb`` (the student
  edition made by ``tools/make_student.py``; linked when that file exists and the
  chapter has exercises with solutions to fill in; a chapter without any says so
  instead).

Every part comes from ``_config.yml``: ``repository.url``, ``repository.branch`` and
``repository.path_to_book`` (which Jupyter Book passes to Sphinx as the theme options
``repository_url``, ``repository_branch`` and ``path_to_docs``, the same values the
launch button's Colab link is built from) and ``launch_buttons.colab_url``.

The note is added when the page is written (``doctree-resolved``), so a change of the
repository settings, which makes Sphinx rewrite every page, is never served from a stale
cached doctree.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Pages that get the note: chapter notebooks book/NN_*.
CHAPTER_DOC = re.compile(r"^(?:.*/)?book/(\d\d_[^/]+)$")
DEFAULT_COLAB = "https://colab.research.google.com"
CSS_CLASS = "colab-links"
#: A chapter with this line has exercises (see tools/make_student.py).
SOLUTION_MARKER = "### BEGIN SOLUTION"


def colab_urls(theme_options: dict, srcdir, docname: str) -> dict | None:
    """The Colab links of chapter page ``docname``, and the paths of its notebooks.

    ``{"chapter": url, "exercises": url or None}``, plus ``"has_exercises"``,
    ``"chapter_path"`` and ``"exercises_path"``. None when the page is not a chapter
    or the repository is not a GitHub repository.
    """
    match = CHAPTER_DOC.match(docname)
    if not match:
        return None
    url = str(theme_options.get("repository_url", "")).rstrip("/")
    if url.endswith(".git"):
        url = url[:-4]
    parts = url.split("/")
    if not url.startswith("https://github.com/") or len(parts) != 5:
        return None
    owner, repo = parts[3], parts[4]
    branch = str(theme_options.get("repository_branch") or "main")
    colab = str(
        (theme_options.get("launch_buttons") or {}).get("colab_url") or DEFAULT_COLAB
    ).rstrip("/")
    prefix = str(theme_options.get("path_to_docs") or "").strip("/")
    prefix = f"{prefix}/" if prefix else ""
    base = f"{colab}/github/{owner}/{repo}/blob/{branch}/{prefix}"
    name = match.group(1) + ".ipynb"
    exercises = Path(srcdir) / "exercises" / name
    source = Path(srcdir) / f"{docname}.ipynb"
    has_exercises = source.is_file() and SOLUTION_MARKER in source.read_text(
        encoding="utf-8"
    )
    return {
        "chapter": f"{base}{docname}.ipynb",
        "exercises": f"{base}exercises/{name}"
        if exercises.is_file() and has_exercises
        else None,
        "has_exercises": has_exercises,
        "chapter_path": f"{prefix}{docname}.ipynb",
        "exercises_path": f"{prefix}exercises/{name}",
    }


def _link(text: str, url: str) -> nodes.reference:
    return nodes.reference("", text, refuri=url, internal=False)


def note_node(urls: dict) -> nodes.admonition:
    """The tip box "Run this chapter" with the links (CSS class ``colab-links``)."""
    para = nodes.paragraph()
    para += _link("Open this chapter in Colab", urls["chapter"])
    if urls["exercises"]:
        para += nodes.Text(" or ")
        para += _link("open its exercise notebook in Colab", urls["exercises"])
        para += nodes.Text(
            " (the same notebook with the solutions taken out, for you to fill in). "
            "On your computer, the files are "
        )
        para += nodes.literal("", urls["chapter_path"])
        para += nodes.Text(" and ")
        para += nodes.literal("", urls["exercises_path"])
        para += nodes.Text(" of the repository.")
    else:
        para += nodes.Text(
            # (its further exercises, if any, are open questions without a check)
            ". This chapter has no exercises to fill in and check, so it has no "
            "exercise notebook."
            if not urls.get("has_exercises")
            else "."
        )
        para += nodes.Text(" On your computer, the file is ")
        para += nodes.literal("", urls["chapter_path"])
        para += nodes.Text(" of the repository.")
    return nodes.admonition(
        "", nodes.title("", "Run this chapter"), para, classes=["tip", CSS_CLASS]
    )


def add_colab_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    urls = colab_urls(app.config.html_theme_options or {}, app.srcdir, docname)
    if urls is None:
        if CHAPTER_DOC.match(docname):
            logger.warning(
                f"colab_links: no Colab links for {docname}: "
                "repository.url in _config.yml must be "
                "https://github.com/<owner>/<repo>",
                location=docname,
            )
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if (
        section is None
        or not section.children
        or not isinstance(section.children[0], nodes.title)
    ):
        logger.warning(
            f"colab_links: {docname} has no title to put the Colab links under",
            location=docname,
        )
        return
    section.insert(1, note_node(urls))


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", add_colab_links)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
