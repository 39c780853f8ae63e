"""Write the Colab setup cell (the first cell) of every chapter from ``_config.yml``.

Every notebook in ``book/`` starts with the same hidden cell (tag ``remove-cell``).
In Google Colab it makes a fresh shallow clone of the course repository, installs
the package ``nnlib`` from it and points ``NNLIB_DATA`` at the clone's ``data/``
folder (so :func:`nnlib.load_mnist` finds the offline MNIST copy); anywhere else it
does nothing. The repository URL and branch in that cell come from the one
``repository:`` section of ``_config.yml`` - the same setting the website's
launch buttons and "open in Colab" links are derived from.

Usage (from the repository root, with the project's venv)::

    python tools/sync_setup_cells.py            # rewrite the setup cells that differ
    python tools/sync_setup_cells.py --check    # only report; exit 1 if any differs

``tests/test_student.py`` fails when a chapter's setup cell does not match.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
BOOK = ROOT / "book"

#: Tag that hides the setup cell on the website.
SETUP_TAG = "remove-cell"
#: Cell id of a setup cell this script had to insert (ids must be unique and stable).
SETUP_CELL_ID = "colab-setup"
#: Where the setup cell clones the repository inside Colab.
COLAB_DIR = "/content/nn-from-scratch"

# The cell's code: ruff-formatted, at most 88 columns for a repository address of up to
# 70 characters (``make lint`` checks the notebooks' code too).
_TEMPLATE = """\
# Setup for Google Colab, written from _config.yml by tools/sync_setup_cells.py: do
# not edit by hand. In Colab it clones the course repository, installs its package
# nnlib and lets nnlib find the data sets the repository ships. Anywhere else it does
# nothing (locally, `make test` or `pip install -e .` installs nnlib).
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    REPO_URL = {url}
    BRANCH = {branch}
    REPO_DIR = {directory}
    if not os.path.isdir(REPO_DIR):
        clone = ["git", "clone", "--quiet", "--depth", "1", "--branch", BRANCH]
        subprocess.run([*clone, REPO_URL, REPO_DIR], check=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", REPO_DIR]
    subprocess.run(pip, check=True)
    os.environ["NNLIB_DATA"] = os.path.join(REPO_DIR, "data")"""


def read_repository(config_path: Path = CONFIG) -> dict:
    """The ``repository`` of ``_config.yml``: ``{"url", "branch", "path_to_book"}``.

    Raises ``ValueError`` naming the file when the url is missing or not an https GitHub
    address (the Colab links need ``https://github.com/<owner>/<repo>``).
    """
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    repo = config.get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    prefix = "https://github.com/"
    if not url.startswith(prefix) or len(url[len(prefix) :].split("/")) != 2:
        raise ValueError(
            f"{config_path}: repository.url must be "
            f"https://github.com/<owner>/<repo>, got {url!r}"
        )
    return {
        "url": url,
        "branch": str(repo.get("branch") or "main"),
        "path_to_book": str(repo.get("path_to_book") or "").strip("/"),
    }


def setup_cell_source(url: str, branch: str, directory: str = COLAB_DIR) -> str:
    """The source of the setup cell for this repository url and branch."""
    return _TEMPLATE.format(
        url=json.dumps(url), branch=json.dumps(branch), directory=json.dumps(directory)
    )


def is_setup_cell(cell) -> bool:
    """Whether ``cell`` is a setup cell (any version): hidden code testing for Colab."""
    return (
        cell.cell_type == "code"
        and SETUP_TAG in cell.get("metadata", {}).get("tags", [])
        and "google.colab" in cell.source
    )


def chapters(book_dir: Path = BOOK) -> list[Path]:
    """The chapter notebooks ``book/NN_*.ipynb``, in order."""
    return sorted(p for p in Path(book_dir).glob("[0-9][0-9]_*.ipynb"))


def sync_notebook(nb, source: str) -> bool:
    """Make ``nb``'s first cell the setup cell ``source``; return whether it changed."""
    first = nb.cells[0] if nb.cells else None
    if first is not None and is_setup_cell(first):
        if first.source == source:
            return False
        first.source = source
        return True
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [SETUP_TAG]})
    cell.id = SETUP_CELL_ID
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        del cell["id"]  # cell ids exist from nbformat 4.5 on
    nb.cells.insert(0, cell)
    return True


def dumps(nb) -> str:
    """The notebook as text, exactly as ``nbformat.write`` (so nbconvert) writes it."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="report notebooks whose setup cell differs; write nothing",
    )
    parser.add_argument(
        "--book",
        type=Path,
        default=BOOK,
        help="the folder of chapter notebooks (default: book/)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=CONFIG,
        help="the Jupyter Book configuration (default: _config.yml)",
    )
    args = parser.parse_args(argv)

    repo = read_repository(args.config)
    source = setup_cell_source(repo["url"], repo["branch"])
    stale = []
    for path in chapters(args.book):
        nb = nbformat.read(path, as_version=4)
        if sync_notebook(nb, source):
            stale.append(path)
            if not args.check:
                path.write_text(dumps(nb), encoding="utf-8")
    for path in stale:
        what = "setup cell out of date" if args.check else "rewrote the setup cell of"
        print(f"{what}: {path}")
    if args.check and stale:
        print(
            "Run `python tools/sync_setup_cells.py` (or `make student`) to rewrite "
            "them from _config.yml.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
