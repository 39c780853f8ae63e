"""The whole book as one PDF, printed by headless Chromium (``make pdf``).

Not a Sphinx extension: a script that ``make pdf`` runs after Jupyter Book's
``singlehtml`` builder has written every page of ``_toc.yml`` into one HTML page
(``_build/singlehtml/book/intro.html``).  It serves that folder on a free localhost
port, opens the page in Debian's Chromium through Playwright (the browser and the
package the website test uses), waits until MathJax has typeset every formula, and
prints the page with the site's print stylesheet (``_static/custom.css``: wrapped code,
solutions printed instead of their toggles) through Chromium's own PDF printer (the
DevTools command ``Page.printToPDF``), with a bookmark outline, page numbers and a new
page for every chapter.  The PDF goes to ``_build/html/<name>.pdf``, next to the
website, where the landing page links to it.

Nothing is fetched from another host: a request that would leave the machine is
refused and fails the script, as does a formula MathJax could not typeset.

    python _ext/book_pdf.py [--source _build/singlehtml] [--out _build/html/...pdf]
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "neural-networks-from-scratch.pdf"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Only for the PDF (the website's own print stylesheet is in _static/custom.css):
# a new page for every chapter; sphinx-book-theme's print style hides the first h1
# of a page because it prints its own title block, which in the single page would
# hide every chapter's title, so the chapter titles are shown and the block hidden.
PDF_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
#jb-print-docs-body { display: none !important; }
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
.bd-article span[id^="document-"] + section { break-before: page; }
.bd-article h1 { font-size: 2em; text-align: left; margin-top: 0; }
.bd-main .bd-content { margin-left: 0 !important; }
"""

FOOTER = (
    '<div style="width:100%; font-size:8px; color:#666; padding:0 14mm;'
    ' display:flex; justify-content:space-between;">'
    "<span>Neural networks from scratch</span>"
    '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span>'
    "</div>"
)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def print_pdf(source: Path, out: Path, page_path: str = "book/intro.html") -> int:
    """Print ``source/page_path`` to ``out``; returns the number of pages."""
    if not (source / page_path).is_file():
        sys.exit(
            f"book_pdf: {source / page_path} is missing; build the single page first: "
            "jupyter-book build . --builder singlehtml"
        )
    if not Path(CHROMIUM).is_file():
        sys.exit(
            f"book_pdf: Chromium is not installed ({CHROMIUM} not found); "
            "install Debian's package: apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    # The single page is written as book/intro.html but its links, scripts and images
    # are relative to the folder's root (Sphinx's singlehtml builder); a copy at the
    # root resolves them.
    printable = source / "print.html"
    text = (source / page_path).read_text(encoding="utf-8")
    # (the single page has no search index: no request for one)
    text = text.replace('<script src="searchindex.js"></script>', "")
    printable.write_text(text, encoding="utf-8")
    handler = functools.partial(_Quiet, directory=str(source))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    foreign: list[str] = []
    failed: list[str] = []

    def route(route_, request):
        if request.url.startswith(("data:", "blob:")) or urlsplit(
            request.url
        ).hostname in ("127.0.0.1", "localhost"):
            route_.continue_()
        else:
            foreign.append(request.url)
            route_.abort()

    try:
        with (
            tempfile.TemporaryDirectory(prefix="chromium-pdf-") as profile,
            sync_playwright() as pw,
        ):
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": 1000, "height": 1400},
            )
            page = context.new_page()
            page.route("**/*", route)
            page.on(
                "response",
                lambda r: (
                    failed.append(f"{r.status} {r.url}") if r.status >= 400 else 0
                ),
            )
            page.goto(base + printable.name, wait_until="load", timeout=120_000)
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=120_000,
            )
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
            problems = page.evaluate(
                """() => {
                  const maths = Array.from(document.querySelectorAll('.math'))
                      .filter(el => !el.parentElement.closest('.math'));
                  return {
                    untypeset: maths.filter(el => !el.querySelector('mjx-container'))
                        .length,
                    errors: document.querySelectorAll('mjx-merror').length,
                  };
                }"""
            )
            if problems["untypeset"] or problems["errors"]:
                sys.exit(f"book_pdf: MathJax did not typeset every formula: {problems}")
            # Links between chapters point into the same page: make them fragments,
            # which Chromium turns into links inside the PDF.
            page.evaluate(
                """(prefix) => {
                  document.querySelectorAll('details').forEach(d => d.open = true);
                  document.querySelectorAll('a[href]').forEach(a => {
                    const href = a.getAttribute('href');
                    if (href.startsWith(prefix + '#')) {
                      a.setAttribute('href', href.slice(prefix.length));
                    }
                  });
                }""",
                page_path,
            )
            page.add_style_tag(content=PDF_CSS)
            page.emulate_media(media="print")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(
                path=str(out),
                prefer_css_page_size=True,
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
                outline=True,
                tagged=True,
            )
            context.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    if foreign:
        sys.exit(f"book_pdf: requests to other hosts: {sorted(set(foreign))[:5]}")
    if failed:
        sys.exit(f"book_pdf: requests that failed: {sorted(set(failed))[:5]}")
    # Chromium (Skia) writes one "/Type /Page" dictionary per page, uncompressed
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", out.read_bytes()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT / "_build" / "singlehtml")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "html" / PDF_NAME)
    args = parser.parse_args(argv)
    pages = print_pdf(args.source, args.out)
    size = args.out.stat().st_size / 1e6
    print(f"The book as one PDF: {args.out} ({size:.1f} MB, about {pages} pages)")


if __name__ == "__main__":
    main()
