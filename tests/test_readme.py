"""Every command the README shows for local use exists; what the landing page quotes
is true.

The README tells a reader to run ``make <target>`` and programs of the virtual
environment (``.venv/bin/jupyter lab``, ``.venv/bin/pytest ...``). Each ``make`` target
must be a target of the Makefile, and each ``.venv/bin/<program>`` must be installed in
the environment the tests run in (the one ``make`` creates), a ``jupyter <subcommand>``
as its ``jupyter-<subcommand>``.

The landing page (``book/intro.md``) quotes a check's message, which must be one that a
chapter really prints, and states the licences, which must match ``LICENSE``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "CONTRIBUTING.md")


def commands(text: str) -> list[str]:
    """Shell commands in the Markdown: lines of fenced code blocks and inline code
    spans."""
    found = []
    for block in re.findall(
        r"^```(?:bash|sh|shell|console)?\n(.*?)^```", text, re.S | re.M
    ):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip().removeprefix("$ ")
            if line:
                found.append(line)
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    found += [span.strip() for span in re.findall(r"`([^`\n]+)`", prose)]
    return [c for c in found if c.startswith(("make ", ".venv/bin/"))]


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, flags=re.M))


def test_commands_finds_blocks_and_spans():
    text = (
        "Run\n```bash\nmake book   # builds\n```\n"
        "then `.venv/bin/jupyter lab` or `x = 1`.\n"
    )
    assert commands(text) == ["make book", ".venv/bin/jupyter lab"]


@pytest.mark.parametrize("doc", DOCS)
def test_make_targets_exist(doc):
    used = {
        c.split()[1]
        for c in commands((ROOT / doc).read_text())
        if c.startswith("make ")
    }
    missing = sorted(used - makefile_targets())
    assert not missing, f"{doc} runs make targets the Makefile lacks: {missing}"


@pytest.mark.parametrize("doc", DOCS)
def test_venv_programs_exist(doc):
    bindir = Path(sys.executable).parent
    missing = []
    for command in commands((ROOT / doc).read_text()):
        if not command.startswith(".venv/bin/"):
            continue
        words = command.split()
        program = words[0].removeprefix(".venv/bin/")
        if program == "jupyter" and len(words) > 1 and not words[1].startswith("-"):
            program = f"jupyter-{words[1]}"
        if not (bindir / program).exists():
            missing.append(f"{command!r} needs {bindir / program}")
    assert not missing, f"{doc} shows commands that are not installed: {missing}"


def test_readme_shows_both_commands():
    readme = commands((ROOT / "README.md").read_text())
    assert "make book" in readme and "make test" in readme


def test_landing_page_quotes_a_real_check_message():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    quoted = re.findall(r"✓ \w+: all \d+ checks passed", intro)
    assert quoted, "the landing page no longer quotes a check's message"
    outputs = "".join(
        path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("book/*.ipynb"))
    )
    wrong = [message for message in quoted if message not in outputs]
    assert not wrong, f"no chapter prints {wrong}: quote what a check really says"


def test_licences_are_stated():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    for doc in ("README.md", "book/intro.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert "CC BY 4.0" in text and "MIT" in text, f"{doc} must state both licences"
