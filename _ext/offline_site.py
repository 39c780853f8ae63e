"""The website works with no network: MathJax from the site itself, no CDN scripts.

Jupyter Book (through ``sphinx.ext.mathjax``) loads MathJax from a CDN by default, so
a classroom copy or a downloaded build shows raw TeX when there is no network.  This
extension

* copies the part of MathJax 3's ``es5`` distribution that the pages use from the PyPI
  package ``django-static-mathjax`` (a build dependency in ``requirements.txt``; the
  files are not stored in this repository) into ``_build/html/_static/mathjax/``:
  the combined component ``tex-mml-chtml.js`` (TeX and MathML input, CommonHTML
  output, the menu), the woff-v2 fonts its output loads, and the TeX extensions that
  its ``autoload`` package fetches when a page uses a macro outside the combined
  component (about 2 MB instead of the distribution's 24 MB; the speech and
  accessibility-explorer components, which only the MathJax menu's Accessibility
  options would load, are left out).  ``_config.yml`` points ``mathjax_path`` at
  ``mathjax/tex-mml-chtml.js``, which Sphinx resolves relative to ``_static``.  The
  build fails with a clear message when the package is missing or ``mathjax_path``
  names another host;
* leaves sphinx-thebe out of the pages while the "Live code" (Thebe) launch button is
  off (Jupyter Book always loads the extension): its script and stylesheet, the
  inline ``const THEBE_JS_URL`` script (added twice, a JavaScript error on every
  page), the ``x-thebe-config`` block that names an unrelated Binder repository, and
  the copies of its files in ``_build/html/_static``;
* rebuilds every page when a file of the project's ``_static/`` changed: Sphinx's
  incremental build otherwise says "no targets are out of date" and keeps the old
  ``custom.css`` in ``_build/html``;
* sets the theme's default colour mode to ``auto`` (follow the reader's system), which
  the pydata theme otherwise reports on the console as an invalid empty mode.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ConfigError, ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

TARGET = "mathjax"  # the copy goes to <outdir>/_static/mathjax
ENTRY = "tex-mml-chtml.js"  # Sphinx's default MathJax 3 component
#: What the site ships of MathJax's es5 folder: the component, the fonts of its
#: CommonHTML output, and the TeX extensions its autoload package may request.
MATHJAX_PARTS = (ENTRY, "output/chtml/fonts/woff-v2", "input/tex/extensions")


def mathjax_source() -> Path:
    """The folder of MathJax's es5 files shipped by ``django-static-mathjax``."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            "offline_site: the package 'django-static-mathjax' is not installed "
            "(it provides MathJax for the website); "
            "run `make venv` or `pip install -r requirements.txt`"
        )
    for location in spec.submodule_search_locations:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / ENTRY).is_file():
            return es5
    raise ExtensionError(
        "offline_site: the 'mathjax' package at "
        f"{list(spec.submodule_search_locations)} has no "
        f"static/mathjax/es5/{ENTRY}; expected the files of 'django-static-mathjax'"
    )


def thebe_enabled(config) -> bool:
    launch = (config.html_theme_options or {}).get("launch_buttons") or {}
    return bool(launch.get("thebe"))


def check_config(app: Sphinx, config) -> None:
    path = config.mathjax_path or ""
    if "://" in path or path.startswith("//"):
        raise ConfigError(
            f"offline_site: mathjax_path is {path!r}, on another host; set it to "
            f"'{TARGET}/{ENTRY}' in _config.yml (sphinx: config:) "
            "so the site works offline"
        )
    mathjax_source()  # fail before reading any page if the package is missing
    # pydata-sphinx-theme reads the default colour mode from html_context.
    config.html_context.setdefault("default_mode", "auto")


def drop_thebe(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if thebe_enabled(app.config):
        return

    def is_thebe(asset) -> bool:
        filename = str(getattr(asset, "filename", asset) or "")
        body = str((getattr(asset, "attributes", None) or {}).get("body", ""))
        return "thebe" in filename.lower() or "THEBE_JS_URL" in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not is_thebe(asset)]


def drop_thebe_config(app: Sphinx, doctree, docname) -> None:
    """Remove the ``x-thebe-config`` and ``kernelName`` scripts sphinx-thebe appends."""
    if thebe_enabled(app.config):
        return
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "x-thebe-config" in text or "kernelName =" in text:
            node.parent.remove(node)


def static_changed(app: Sphinx, env, added, changed, removed) -> list[str]:
    """All pages if a file of the project's own static folders differs from its copy."""
    outdir = Path(app.outdir) / "_static"
    confdir = Path(app.confdir).resolve()
    for entry in app.config.html_static_path:
        folder = (confdir / entry).resolve()
        # only the project's own folders: extensions add theirs, with templates (*_t)
        # that Sphinx renders under another name
        if not folder.is_dir() or not folder.is_relative_to(confdir):
            continue
        for source in folder.rglob("*"):
            if not source.is_file() or source.name.endswith("_t"):
                continue
            copy = outdir / source.relative_to(folder)
            if not copy.is_file() or copy.read_bytes() != source.read_bytes():
                logger.info(
                    "offline_site: %s changed, rewriting every page", source.name
                )
                return sorted(env.found_docs)
    return []


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """After an HTML build, copy MathJax's used parts into ``<outdir>/_static/mathjax``.

    Also removes sphinx-thebe's files from ``<outdir>/_static`` while Thebe is off.
    """
    if exception is not None or app.builder.format != "html":
        return
    if not thebe_enabled(app.config):
        for leftover in (Path(app.outdir) / "_static").glob("sphinx-thebe.*"):
            leftover.unlink()
    source = mathjax_source()
    target = Path(app.outdir) / "_static" / TARGET
    stamp = target / ".copied-from"
    label = f"{source} {' '.join(MATHJAX_PARTS)}"
    if stamp.is_file() and stamp.read_text() == label and (target / ENTRY).is_file():
        return  # copied by an earlier build from the same installation
    if target.exists():
        shutil.rmtree(target)
    for part in MATHJAX_PARTS:
        origin = source / part
        if origin.is_dir():
            shutil.copytree(origin, target / part)
        elif origin.is_file():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / part)
        else:
            raise ExtensionError(
                f"offline_site: MathJax at {source} has no {part}; "
                "expected the es5 files of 'django-static-mathjax' 3.2"
            )
    stamp.write_text(label)
    logger.info(
        "offline_site: copied MathJax (%s) from %s", ", ".join(MATHJAX_PARTS), source
    )


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", check_config)
    app.connect("html-page-context", drop_thebe, priority=900)
    # after sphinx-thebe's own doctree-resolved handler (priority 500)
    app.connect("doctree-resolved", drop_thebe_config, priority=900)
    app.connect("env-get-outdated", static_changed)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
