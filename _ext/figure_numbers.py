"""Number the figures of each chapter on their own: "Fig. 5.1", "Fig. 5.2", ...

Sphinx numbers figures (``numfig``) by the section numbers of a numbered toctree and
otherwise counts them through the whole book, so chapter 5's first figure would be
"Fig. 11". The book numbers its chapters in the titles and file names instead
(``book/05_moons``), so after Sphinx has assigned its numbers this extension renumbers
every page's figures (and tables and code blocks, each kind on its own) from 1, with the
chapter's number in front when the page's file name starts with one. References to a
figure (``{numref}``) use the same numbers.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

_CHAPTER = re.compile(r"(?:^|/)(\d+)_[^/]*$")


def chapter_number(docname: str) -> tuple[int, ...]:
    """``(5,)`` for ``book/05_moons``; ``()`` for a page without a chapter number."""
    match = _CHAPTER.search(docname)
    return (int(match.group(1)),) if match else ()


def renumber(app: Sphinx, env: BuildEnvironment) -> list[str]:
    for docname, kinds in env.toc_fignumbers.items():
        prefix = chapter_number(docname)
        for kind, numbers in kinds.items():
            in_order = sorted(numbers, key=numbers.get)
            kinds[kind] = {
                node_id: (*prefix, i) for i, node_id in enumerate(in_order, start=1)
            }
    return []


def setup(app: Sphinx) -> dict:
    # After Sphinx's own toctree collector (priority 500) has assigned its numbers.
    app.connect("env-get-updated", renumber, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
