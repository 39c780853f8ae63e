"""The website as readers see it, tested in a real browser.

The module builds the book exactly as ``make book`` does (``jupyter-book build .
--warningiserror --keep-going``, into ``_build/html``), then

* checks the built files without a browser: every internal link, image, script,
  stylesheet and anchor resolves; nothing is loaded from another host; the outputs
  carry no warnings or log noise; the exercises have solution toggles; only the
  MathJax files the pages use are shipped; no Thebe leftovers; every page has the
  favicon and an "Open issue" link; the landing page links the PDF of ``make pdf``;
  every Markdown table of a page's source became an HTML table;
* serves ``_build/html`` on a free localhost port and drives headless Chromium
  (Debian's ``chromium``, through Playwright's Python package) through every page of
  ``_toc.yml`` plus the index and search pages: the page loads with no JavaScript
  error and no request to another host, MathJax (served by the site itself) has
  typeset every formula without error, every image loads, every link resolves, every
  code cell has a copy button, every solution toggle opens and closes, figures get a
  light background in the dark theme; every output figure sits in a numbered
  ``<figure>`` with a caption and alt text that describes it (not a file name); tables
  are tables; no code line is longer than 88 characters; no request fails; at 390 px
  (a phone) nothing makes the page scroll sideways; printed (print media), code wraps
  and the folded solutions are printed instead of empty toggles; a screenshot of the
  top of the page (light theme) and one screen at the first figure (dark theme) are
  saved to ``_build/screenshots/`` for a person to look at
  (``WEBSITE_FULL_SCREENSHOTS=1``: the whole light page instead, which adds about
  15 s to the suite).

A separate browser test clicks the chapter-list (☰) and contents buttons at 390 px
and 1400 px and checks that the drawer opens or the sidebar hides (the themes bind
only the first, hidden, button of each kind; _static/nav-toggles.js fixes that).

The browser part is skipped, saying why, only when Chromium is not installed
(``.ci/run`` installs it).  Set ``WEBSITE_TEST_NO_BUILD=1`` to test the existing
``_build/html`` without rebuilding it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# builds the book and drives Chromium: `make test` runs it, `make unit` does not
pytestmark = pytest.mark.slow
BUILD = ROOT / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
FULL_SCREENSHOTS = os.environ.get("WEBSITE_FULL_SCREENSHOTS") == "1"

# Chromium and its flags are make pdf's (_ext/book_pdf.py): the same browser, the same
# offline flags.  The machines have no network: without the background-networking flags
# Chromium keeps trying to reach Google's hosts.  The profile (--user-data-dir) is a new
# empty temporary folder, given to Playwright's launch_persistent_context.
_spec = importlib.util.spec_from_file_location(
    "book_pdf", ROOT / "_ext" / "book_pdf.py"
)
book_pdf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book_pdf)
CHROMIUM = book_pdf.CHROMIUM
CHROMIUM_FLAGS = [*book_pdf.FLAGS, "--disable-quic"]
VIEWPORT = {"width": 1280, "height": 900}

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 900}
# The whole book as one PDF: `make pdf` writes it next to the website, `make book` does
# not, so a site built without it may lack the file the landing page links to.
PDF = "neural-networks-from-scratch.pdf"
# The longest code line a page may show (ruff's line length, E501).
MAX_CODE_LINE = 88

# Pages Sphinx writes besides the chapters of _toc.yml.
EXTRA_PAGES = ["index.html", "genindex.html", "search.html"]

# Text that must not appear in any cell output on the website.
NOISE = re.compile(
    r"(\w*Warning:|WARNING|Traceback \(most recent call last\)|<Figure size \d+x\d+"
    r"|oneDNN custom operations|cuda_(?:dnn|blas|fft|driver)|TF_ENABLE_ONEDNN_OPTS"
    r"|^[IWE]\d{4} \d\d:\d\d:\d\d)",
    re.MULTILINE,
)


# ---------------------------------------------------------------------------
# Pages and the build
# ---------------------------------------------------------------------------


def toc_pages() -> list[str]:
    """The HTML pages of the book in reading order, as paths relative to _build/html."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", f) + ".html" for f in files]


PAGES = toc_pages() + EXTRA_PAGES


def jupyter_book() -> list[str]:
    script = Path(sys.executable).with_name("jupyter-book")
    if script.exists():
        return [str(script)]
    found = shutil.which("jupyter-book")
    if found:
        return [found]
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]


@pytest.fixture(scope="module")
def site() -> Path:
    """Build the book as `make book` does and return _build/html."""
    if os.environ.get("WEBSITE_TEST_NO_BUILD") and (HTML / "index.html").exists():
        return HTML
    start = time.perf_counter()
    result = subprocess.run(
        jupyter_book() + ["build", ".", "--warningiserror", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        output = result.stdout + result.stderr
        problems = [
            line
            for line in output.splitlines()
            if re.search(r"WARNING|ERROR|Error|Exception", line)
        ]
        pytest.fail(
            f"jupyter-book build failed (exit {result.returncode}, {seconds:.0f} s); "
            "its warnings and errors:\n"
            + "\n".join(problems[:40])
            + "\n\nend of its output:\n"
            + output[-3000:]
        )
    print(f"\nbook built in {seconds:.1f} s")
    return HTML


# ---------------------------------------------------------------------------
# Static checks of the built files (no browser needed)
# ---------------------------------------------------------------------------


class PageParser(HTMLParser):
    """Collects the ids, the references to other resources and the outputs of a page."""

    REFS = {
        "a": "href",
        "link": "href",
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (tag, url)
        self.solution_toggles = 0
        self.stderr_outputs = 0
        self.output_text: list[str] = []
        self._output_depth = 0  # >0 while inside a cell_output div
        self._div_depth = 0
        self._output_starts: list[int] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        attr = self.REFS.get(tag)
        if attr and attrs.get(attr):
            self.refs.append((tag, attrs[attr]))
        classes = (attrs.get("class") or "").split()
        if tag == "details" and "hide" in classes:
            self.solution_toggles += 1
        if tag == "div":
            self._div_depth += 1
            if "cell_output" in classes:
                self._output_starts.append(self._div_depth)
            if "stderr" in classes:
                self.stderr_outputs += 1

    def handle_endtag(self, tag):
        if tag == "div":
            if self._output_starts and self._output_starts[-1] == self._div_depth:
                self._output_starts.pop()
            self._div_depth -= 1

    def handle_data(self, data):
        if self._output_starts:
            self.output_text.append(data)


@functools.cache
def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "file")


def resolve(page: Path, url: str, root: Path) -> tuple[Path, str]:
    """The file a relative URL of `page` points to, and its fragment."""
    target, fragment = urldefrag(url)
    if not target:
        return page, fragment
    path = urlsplit(urljoin(page.relative_to(root).as_posix(), target)).path
    resolved = (root / unquote(path)).resolve()
    if resolved.is_dir() or path.endswith("/"):
        resolved = resolved / "index.html"
    return resolved, fragment


def html_files(root: Path) -> list[Path]:
    """The pages of the site: those of _toc.yml plus Sphinx's own.

    A page left in _build by an older build, no longer in the table of contents, is
    not part of the site.
    """
    return [root / page for page in PAGES if (root / page).is_file()]


def test_every_toc_page_was_built(site):
    missing = [page for page in PAGES if not (site / page).is_file()]
    assert not missing, f"pages of _toc.yml missing from the build: {missing}"


def test_link_check(site):
    """Every internal link, image, script and stylesheet resolves; anchors exist."""
    failures = []
    checked = 0
    for page in html_files(site):
        for tag, url in parse(page).refs:
            if is_external(url) or url.startswith(("mailto:", "javascript:", "data:")):
                continue
            target, fragment = resolve(page, url, site)
            if target == (site / PDF).resolve() and not target.is_file():
                continue  # made by `make pdf` only (test_landing_page_links_the_pdf)
            checked += 1
            where = f"{page.relative_to(site)}: <{tag}> {url}"
            if not target.is_file():
                failures.append(f"{where} -> missing file {target}")
            elif (
                fragment
                and target.suffix == ".html"
                and fragment not in parse(target).ids
            ):
                failures.append(
                    f"{where} -> no id {fragment!r} in {target.relative_to(site)}"
                )
    # url(...) in the stylesheets: fonts and icons must be on the site too.
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", text):
            if url.startswith(("data:", "#")):
                continue
            if is_external(url):
                failures.append(
                    f"{css.relative_to(site)}: url({url}) is on another host"
                )
                continue
            checked += 1
            path = (css.parent / unquote(urlsplit(url).path)).resolve()
            if not path.is_file():
                failures.append(f"{css.relative_to(site)}: url({url}) -> missing file")
    print(f"\nlink check: {checked} internal references, {len(failures)} failures")
    assert checked > 0
    assert not failures, "broken internal references:\n" + "\n".join(failures)


def test_nothing_is_loaded_from_another_host(site):
    """Scripts, stylesheets, fonts, images and frames all come from the site itself.

    Links (<a>) to Colab or the repository are fine: a reader clicks them.
    """
    failures = []
    for page in html_files(site):
        for tag, url in parse(page).refs:
            if tag != "a" and is_external(url):
                failures.append(f"{page.relative_to(site)}: <{tag}> {url}")
    assert not failures, "resources loaded from other hosts:\n" + "\n".join(
        sorted(set(failures))
    )


def test_mathjax_is_served_by_the_site(site):
    mathjax = site / "_static" / "mathjax"
    assert (mathjax / "tex-mml-chtml.js").is_file(), (
        "MathJax was not copied into _build/html/_static/mathjax "
        "(see _ext/offline_site.py)"
    )
    assert (mathjax / "output" / "chtml" / "fonts" / "woff-v2").is_dir(), (
        "MathJax's fonts are missing"
    )
    scripts = [
        (page.relative_to(site), url)
        for page in html_files(site)
        for tag, url in parse(page).refs
        if tag == "script" and "mathjax" in url.lower()
    ]
    # Only what the pages use (_ext/offline_site.py MATHJAX_PARTS): the distribution's
    # other bundles, the speech engine and the SVG output are not shipped.
    size = sum(f.stat().st_size for f in mathjax.rglob("*") if f.is_file())
    assert size < 4_000_000, f"MathJax on the site takes {size / 1e6:.1f} MB"
    unused = [
        name
        for name in ("sre", "tex-svg.js", "tex-chtml-full.js", "mml-svg.js", "a11y")
        if (mathjax / name).exists()
    ]
    assert not unused, f"MathJax files the pages never load were copied: {unused}"
    assert scripts, "no page loads MathJax: is there no math in the book?"
    remote = [f"{page}: {url}" for page, url in scripts if is_external(url)]
    assert not remote, "MathJax loaded from another host:\n" + "\n".join(remote)


def test_outputs_have_no_warnings_or_log_noise(site):
    failures = []
    for page in html_files(site):
        parsed = parse(page)
        name = page.relative_to(site).as_posix()
        if parsed.stderr_outputs:
            failures.append(f"{name}: {parsed.stderr_outputs} output(s) on stderr")
        for match in NOISE.finditer("".join(parsed.output_text)):
            line_start = match.string.rfind("\n", 0, match.start()) + 1
            line_end = match.string.find("\n", match.end())
            line = match.string[line_start : line_end if line_end != -1 else None]
            failures.append(f"{name}: {line.strip()[:160]!r}")
    assert not failures, "warnings or log noise in cell outputs:\n" + "\n".join(
        failures
    )


class ProseParser(HTMLParser):
    """Collects mentions of "Chapter N" in a page's prose that are not links."""

    SKIP = {
        "a",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "code",
        "pre",
        "title",
        "nav",
        "script",
        "style",
        "summary",
    }
    VOID = {
        "br",
        "img",
        "meta",
        "link",
        "input",
        "hr",
        "wbr",
        "source",
        "col",
        "area",
        "base",
    }
    MENTION = re.compile(r"\bchapters?\s+(\d+)", re.IGNORECASE)

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        # (chapter number, the text around it)
        self.mentions: list[tuple[int, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag):
        # close the innermost open element of that name, and whatever was left open in
        # it; a stray end tag (browsers ignore those) changes nothing
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not any(tag == "article" for tag, _ in self.stack):
            return
        if any(
            tag in self.SKIP or "cell_output" in cls or "math" in cls.split()
            for tag, cls in self.stack
        ):
            return
        for match in self.MENTION.finditer(data):
            context = " ".join(
                data[max(0, match.start() - 40) : match.end() + 30].split()
            )
            self.mentions.append((int(match.group(1)), context))


def test_chapter_references_are_links(site):
    """ "as derived in Chapter 2" is a link to Chapter 2 ({doc}`...` or {ref}`...`)."""
    failures = []
    for page in html_files(site):
        parser = ProseParser()
        parser.feed(page.read_text(encoding="utf-8"))
        own = re.match(r"(\d+)_", page.name)  # a chapter may name itself without a link
        failures += [
            f"{page.relative_to(site)}: ...{text}..."
            for number, text in parser.mentions
            if not (own and number == int(own.group(1)))
        ]
    assert not failures, (
        "mentions of another chapter that are not links; "
        "write [Chapter 3](03_gradient_checking.ipynb),"
        " a link that works on the website, in Jupyter and in Colab:\n"
        + "\n".join(failures)
    )


def test_exercises_have_solution_toggles(site):
    toggles = {
        p: parse(site / p).solution_toggles for p in PAGES if (site / p).is_file()
    }
    assert sum(toggles.values()) > 0, (
        "no collapsed solution anywhere: exercise cells should be tagged hide-input "
        "(CONTRIBUTING.md, Exercises)"
    )


def test_no_thebe_leftovers(site):
    """Thebe (live code) is off: no page carries its scripts or its Binder settings."""
    failures = [
        page.relative_to(site).as_posix()
        for page in html_files(site)
        if re.search(r"thebe", page.read_text(encoding="utf-8"), re.IGNORECASE)
    ]
    assert not failures, f"pages that mention Thebe: {failures}"
    assert not list((site / "_static").glob("sphinx-thebe.*"))


def test_every_page_has_a_favicon(site):
    missing = [
        page.relative_to(site).as_posix()
        for page in html_files(site)
        if page.name != "index.html"  # the redirect to the landing page
        and not re.search(
            r'<link rel="icon" href="[^"]*favicon\.svg"', page.read_text("utf-8")
        )
    ]
    assert not missing, f"pages without the favicon (html.favicon): {missing}"


def test_every_page_has_a_report_a_problem_link(site):
    """`use_issues_button`: an "Open issue" link to the repository's tracker."""
    missing = [
        page.relative_to(site).as_posix()
        for page in html_files(site)
        if page.name not in EXTRA_PAGES
        and not any(
            tag == "a" and "/issues/new" in url for tag, url in parse(page).refs
        )
    ]
    assert not missing, f"pages without an 'Open issue' link: {missing}"


def test_landing_page_links_the_pdf(site):
    """The landing page links the PDF `make pdf` writes; if it was made, it is a PDF."""
    landing = site / toc_pages()[0]
    targets = [
        resolve(landing, url, site)[0]
        for tag, url in parse(landing).refs
        if tag == "a" and url.endswith(PDF)
    ]
    assert targets == [(site / PDF).resolve()], (
        f"the landing page should link {PDF} once, next to the site; links: {targets}"
    )
    if targets[0].is_file():
        assert targets[0].read_bytes()[:5] == b"%PDF-"


TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$")


def markdown_tables(source: Path) -> int:
    """The number of Markdown tables (their |---|---| rule lines) in a page's source."""
    if source.suffix == ".ipynb":
        import json

        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        texts = [
            "".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"
        ]
    else:
        texts = [source.read_text(encoding="utf-8")]
    count = 0
    for text in texts:
        text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
        count += sum(bool(TABLE_RULE.match(line)) for line in text.splitlines())
    return count


def test_tables_are_tables(site):
    """Every Markdown table of a page's source is an HTML table on the page."""
    failures = []
    for page in PAGES[: len(toc_pages())]:
        stem = page.removesuffix(".html")
        sources = [ROOT / f"{stem}{ext}" for ext in (".md", ".ipynb")]
        source = next((path for path in sources if path.is_file()), None)
        if source is None or not (site / page).is_file():
            continue
        expected = markdown_tables(source)
        html = (site / page).read_text(encoding="utf-8")
        found = len(re.findall(r"<table\b", html))
        if found < expected:
            failures.append(
                f"{page}: {expected} Markdown tables but {found} <table> elements"
            )
    assert not failures, "tables left as text:\n" + "\n".join(failures)


# ---------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture(scope="module")
def server(site):
    """Serve _build/html on a free localhost port; yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(server):
    """A headless Chromium with an empty profile, or a skip saying why there is none."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            f"Chromium is not installed ({CHROMIUM} not found): "
            "the website was not tested in a browser. "
            "Install Debian's packages: apt-get install chromium chromium-driver "
            "(.ci/run does this)"
        )
    try:
        from playwright import sync_api
    except ImportError:  # an incomplete environment, not a reason to skip
        pytest.fail(
            "the Python package 'playwright' is not installed: "
            "run `make venv` (requirements.txt)"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile,
        sync_api.sync_playwright() as pw,
    ):
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
        )
        yield context
        context.close()


_status_cache: dict[str, int] = {}


def http_status(url: str) -> int:
    if url not in _status_cache:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                _status_cache[url] = response.status
        except urllib.error.HTTPError as error:
            _status_cache[url] = error.code
    return _status_cache[url]


# Runs in the page: everything the test asserts about the rendered DOM.
INSPECT_JS = r"""
() => {
  const article = document.querySelector('article') || document.body;
  const maths = Array.from(document.querySelectorAll('.math'))
      .filter(el => !el.parentElement.closest('.math'));
  const untypeset = maths.filter(el => !el.querySelector('mjx-container'))
      .map(el => el.textContent.trim().slice(0, 80));
  // Prose only: code, outputs and typeset math may legitimately hold $ or \(.
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, .cell_output, mjx-container, script, style, .math')
       .forEach(el => el.remove());
  const prose = clone.textContent;
  const rawTex = [];
  const texPatterns = [
      /\$\$?[^$\n]{1,80}\$\$?/g,
      /\\\(|\\\)|\\\[|\\\]/g,
      /\\(begin|frac|sum|partial)\b/g,
  ];
  for (const re of texPatterns) {
    for (const m of prose.matchAll(re)) rawTex.push(m[0]);
  }
  const images = Array.from(document.images).map(img => ({
      src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0}));
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
  return {
    title: document.title,
    mainText: (document.querySelector('main') || document.body).innerText.trim().length,
    maths: maths.length,
    typeset: document.querySelectorAll('mjx-container').length,
    untypeset,
    mathErrors: Array.from(document.querySelectorAll('mjx-merror'))
        .map(el => el.getAttribute('data-mjx-error') || el.textContent.slice(0, 80)),
    rawTex,
    images,
    links,
    codeBlocks: document.querySelectorAll('div.highlight pre').length,
    copyButtons: document.querySelectorAll('div.highlight button.copybtn').length,
    toggles: document.querySelectorAll('details.hide').length,
    // Output figures: in a <figure> with a numbered caption, with alt text.
    figures: Array.from(document.querySelectorAll('.cell_output img')).map(img => {
      const figure = img.closest('figure');
      const caption = figure && figure.querySelector('figcaption');
      const number = caption && caption.querySelector('.caption-number');
      return {
        src: (img.getAttribute('src') || '').split('/').pop().slice(0, 24),
        alt: img.getAttribute('alt') || '',
        caption: caption ? caption.innerText.trim() : '',
        number: number ? number.innerText.trim() : '',
      };
    }),
    // Code lines (not printed output) longer than the book's limit.
    longCode: Array.from(article.querySelectorAll('div.highlight pre'))
        .filter(pre => !pre.closest('.cell_output'))
        .flatMap(pre => pre.textContent.split('\n'))
        .filter(line => line.length > MAX_CODE_LINE)
        .map(line => `${line.length}: ${line.trim().slice(0, 60)}`),
    // A Markdown table left as text: a |---|---| rule in the prose.
    rawTables: (prose.match(/\|\s*:?-{3,}:?\s*\|/g) || []).slice(0, 3),
  };
}
""".replace("MAX_CODE_LINE", str(MAX_CODE_LINE))

# Runs in the page: what makes it wider than the window (at 390 px).
OVERFLOW_JS = r"""
() => {
  const width = document.documentElement.clientWidth;
  const culprits = [];
  for (const el of document.querySelectorAll('.bd-main *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    // inside a box that scrolls or clips it: fine
    let inner = el.parentElement, contained = false;
    while (inner) {
      const style = getComputedStyle(inner);
      if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)
          && inner.getBoundingClientRect().right <= width + 1) {
        contained = true;
        break;
      }
      inner = inner.parentElement;
    }
    if (!contained) {
      const text = el.textContent.trim().slice(0, 50);
      culprits.push(`<${el.tagName.toLowerCase()} class="${el.className}"> ` +
                    `${Math.round(box.right)} px: ${text}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width,
          culprits: culprits.slice(0, 5)};
}
"""

# Runs in the page under print media: code wraps, solutions print, no empty toggle.
PRINT_JS = r"""
() => {
  const visible = el => el.checkVisibility() && el.getBoundingClientRect().height > 0;
  const folds = Array.from(document.querySelectorAll('details.hide'));
  return {
    hiddenSolutions: folds.filter(d => {
      const content = d.querySelector('.cell_input, .cell_output');
      return content && !visible(content);
    }).length,
    toggleLabels: folds.map(d => d.querySelector('summary'))
        .filter(s => s && /Show solution|Hide solution/.test(s.innerText)).length,
    cutCode: Array.from(document.querySelectorAll('article pre'))
        .filter(pre => visible(pre) && pre.scrollWidth > pre.clientWidth + 1)
        .map(pre => pre.textContent.trim().slice(0, 50)),
  };
}
"""

# Alt text that is only a file name or a hash (what myst-nb writes without image: alt).
FILE_NAME_ALT = re.compile(
    r"^\S*\.(png|jpe?g|svg|gif)$|^[0-9a-f]{8,}$|^(image|figure|png)$", re.IGNORECASE
)


def figure_problems(figures: list[dict], chapter: int | None = None) -> list[str]:
    """What is wrong with a page's output figures (caption, number, alt text).

    On chapter ``chapter``'s page the figures are numbered "Fig. <chapter>.1", ".2", ...
    in order (_ext/figure_numbers.py).
    """
    problems = []
    for i, fig in enumerate(figures, 1):
        where = f"output figure {i} ({fig['src']})"
        alt = fig["alt"].strip()
        expected = f"Fig. {chapter}.{i}" if chapter is not None else None
        if not fig["caption"]:
            problems.append(
                f"{where}: no caption (cell metadata mystnb.figure.caption)"
            )
        elif not fig["number"]:
            problems.append(f"{where}: caption not numbered (mystnb.figure.name)")
        elif expected and fig["number"].rstrip(":") != expected:
            problems.append(
                f"{where}: numbered {fig['number']!r}, expected {expected!r}"
            )
        if not alt or FILE_NAME_ALT.match(alt) or len(alt.split()) < 4:
            problems.append(
                f"{where}: alt text {alt[:40]!r} does not describe it "
                "(cell metadata mystnb.image.alt)"
            )
    return problems


def test_figure_problems_finds_what_a_reader_misses():
    good = {
        "src": "a.png",
        "alt": "Loss against epochs, falling",
        "caption": "Fig. 1",
        "number": "Fig. 1",
    }
    assert figure_problems([good]) == []
    assert figure_problems([{**good, "number": "Fig. 5.1"}], chapter=5) == []
    assert len(figure_problems([{**good, "number": "Fig. 11"}], chapter=5)) == 1
    assert len(figure_problems([{**good, "caption": "", "number": ""}])) == 1
    for alt in ("", "0c1f3b2a9e8d7c6b5a4f", "figure.png", "plot"):
        assert len(figure_problems([{**good, "alt": alt}])) == 1, alt


def wait_for_mathjax(page) -> None:
    has_mathjax = page.evaluate(
        "() => Array.from(document.scripts).some(s => /mathjax/i.test(s.src))"
    )
    if not has_mathjax:
        return
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
        timeout=30_000,
    )
    page.evaluate("() => MathJax.startup.promise.then(() => true)")


@pytest.mark.parametrize("path", PAGES)
def test_page_in_browser(browser, server, site, path):
    failures: list[str] = []
    page = browser.new_page()
    foreign: list[str] = []
    errors: list[str] = []

    def route(route_, request):
        host = urlsplit(request.url).hostname
        if request.url.startswith(("data:", "blob:")) or host in (
            "127.0.0.1",
            "localhost",
        ):
            route_.continue_()
        else:
            foreign.append(request.url)
            route_.abort()

    page.route("**/*", route)
    page.on(
        "response",
        lambda response: (
            errors.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(f"JavaScript error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error"
            else None
        ),
    )
    try:
        response = page.goto(server + path, wait_until="load", timeout=30_000)
        assert response is not None and response.ok, (
            f"{path}: HTTP {response and response.status}"
        )
        if path == "index.html":  # a redirect to the landing page
            page.wait_for_url(re.compile(r".*/book/.*\.html$"), timeout=10_000)
            page.wait_for_load_state("load")
        wait_for_mathjax(page)
        info = page.evaluate(INSPECT_JS)

        # The page loads and shows something.
        if not info["title"].strip():
            failures.append("empty <title>")
        if info["mainText"] < 20:
            failures.append(f"almost no text in <main> ({info['mainText']} characters)")

        # MathJax typeset every formula, without error.
        if info["untypeset"]:
            failures.append(f"formulas not typeset by MathJax: {info['untypeset'][:5]}")
        if info["maths"] != info["typeset"]:
            failures.append(
                f"{info['maths']} math elements "
                f"but {info['typeset']} typeset containers"
            )
        if info["mathErrors"]:
            failures.append(f"MathJax errors: {info['mathErrors'][:5]}")
        if info["rawTex"]:
            failures.append(f"raw TeX left in the text: {info['rawTex'][:5]}")

        # Every image loads.
        broken = [img["src"] for img in info["images"] if not img["ok"]]
        if broken:
            failures.append(f"images that did not load: {broken}")

        # Every output figure has a numbered caption and alt text that describes it.
        number = re.match(r"book/(\d+)_", path)
        failures += figure_problems(
            info["figures"], chapter=int(number.group(1)) if number else None
        )

        # Tables are tables; code fits in 88 columns.
        if info["rawTables"]:
            failures.append(f"Markdown tables left as text: {info['rawTables']}")
        if info["longCode"]:
            failures.append(
                f"{len(info['longCode'])} code lines longer than {MAX_CODE_LINE} "
                f"characters, e.g. {info['longCode'][:3]}"
            )

        # Every internal link resolves, anchors included.
        for href in sorted(set(info["links"])):
            if not href.startswith(server):
                continue
            target, fragment = urldefrag(href)
            if target.endswith("/" + PDF) and not (site / PDF).is_file():
                continue  # made by `make pdf` only (test_landing_page_links_the_pdf)
            status = http_status(target)
            if status != 200:
                failures.append(f"link {href}: HTTP {status}")
                continue
            local = site / unquote(urlsplit(target).path).lstrip("/")
            if local.is_dir():
                local = local / "index.html"
            if (
                fragment
                and local.suffix == ".html"
                and fragment not in parse(local).ids
            ):
                failures.append(f"link {href}: no element with id {fragment!r}")

        # Code cells have copy buttons.
        if info["copyButtons"] != info["codeBlocks"]:
            failures.append(
                f"{info['codeBlocks']} code blocks "
                f"but {info['copyButtons']} copy buttons"
            )

        # Solutions are hidden, open on a click and close on a second one.
        for i in range(info["toggles"]):
            toggle = page.locator("details.hide").nth(i)
            hidden = toggle.locator(".cell_input, .cell_output").first
            summary = toggle.locator("summary")
            label = summary.inner_text().strip().splitlines()[0]
            if hidden.is_visible():
                failures.append(
                    f"toggle {i} ({label!r}): content visible before any click"
                )
                continue
            summary.click()
            try:
                hidden.wait_for(state="visible", timeout=5_000)
            except Exception:
                failures.append(
                    f"toggle {i} ({label!r}): content still hidden after a click"
                )
                continue
            summary.click()
            try:
                hidden.wait_for(state="hidden", timeout=5_000)
            except Exception:
                failures.append(
                    f"toggle {i} ({label!r}): "
                    "content still visible after a second click"
                )

        # Printed: code wraps, solutions are printed, no empty "Show solution".
        page.emulate_media(media="print")
        printed = page.evaluate(PRINT_JS)
        page.emulate_media(media="screen")
        if printed["hiddenSolutions"]:
            failures.append(
                f"print: {printed['hiddenSolutions']} folded solution(s) not printed"
            )
        if printed["toggleLabels"]:
            failures.append(
                f"print: {printed['toggleLabels']} 'Show solution' toggle(s) printed"
            )
        if printed["cutCode"]:
            failures.append(
                f"print: code cut off, not wrapped: {printed['cutCode'][:3]}"
            )

        # On a phone, the page never scrolls sideways.
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(100)
        phone = page.evaluate(OVERFLOW_JS)
        page.set_viewport_size(VIEWPORT)
        if phone["scrollWidth"] > phone["width"]:
            failures.append(
                f"at {PHONE['width']} px the page is {phone['scrollWidth']} px wide: "
                f"{phone['culprits']}"
            )

        # A screenshot of the page in the light theme.
        name = path.removesuffix(".html").replace("/", "__")
        # the toggles scrolled it; sticky bars follow
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(100)
        page.screenshot(
            path=str(SCREENSHOTS / f"{name}.png"), full_page=FULL_SCREENSHOTS
        )

        # The dark theme: figures keep a light background, so black axes stay readable.
        page.evaluate(
            "() => { document.documentElement.dataset.theme = 'dark';"
            " document.documentElement.dataset.mode = 'dark'; }"
        )
        backgrounds = page.evaluate(
            "() => Array.from(document.querySelectorAll('.cell_output img'))"
            ".map(img => getComputedStyle(img).backgroundColor)"
        )
        dark_on_dark = [bg for bg in backgrounds if bg != "rgb(255, 255, 255)"]
        if dark_on_dark:
            failures.append(
                f"{len(dark_on_dark)} output figure(s) "
                "without a white background in the dark theme"
            )
        # (one screen, at the first figure if there is one: a second full-page
        # screenshot doubles the time of a long chapter)
        figure = page.locator(".cell_output img").first
        if figure.count():
            figure.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"{name}.dark.png"))

        if foreign:
            failures.append(f"requests to other hosts: {sorted(set(foreign))[:5]}")
        if errors:
            failures.append(f"errors in the page: {errors[:5]}")
    finally:
        page.close()
    assert not failures, f"{path}:\n  " + "\n  ".join(failures)


def _visible(page, selector):
    return page.locator(selector).locator("visible=true")


def test_navigation_buttons_open_the_drawers_on_a_phone(browser, server):
    """At 390 px the ☰ button opens the chapter list, the contents button the page's
    table of contents (each a drawer, a <dialog>), and Escape closes them."""
    page = browser.new_page()
    try:
        page.set_viewport_size(PHONE)
        page.goto(server + "book/05_moons.html", wait_until="load", timeout=30_000)
        for button, dialog, link in (
            (
                ".primary-toggle",
                "#pst-primary-sidebar-modal",
                "a[href$='07_training.html']",
            ),
            (".secondary-toggle", "#pst-secondary-sidebar-modal", "a[href^='#']"),
        ):
            visible = _visible(page, button)
            assert visible.count() == 1, f"{button}: {visible.count()} visible buttons"
            visible.first.click()
            page.wait_for_function(
                f"() => document.querySelector({dialog!r}).open", timeout=5_000
            )
            target = page.locator(f"{dialog} {link}").first
            target.wait_for(state="visible", timeout=5_000)
            page.keyboard.press("Escape")
            page.wait_for_function(
                f"() => !document.querySelector({dialog!r}).open", timeout=5_000
            )
        # and a link in the drawer takes the reader to the chapter
        _visible(page, ".primary-toggle").first.click()
        page.locator(
            "#pst-primary-sidebar-modal a[href$='07_training.html']"
        ).first.click()
        page.wait_for_url(re.compile(r".*/07_training\.html$"), timeout=10_000)
    finally:
        page.close()


def test_navigation_button_hides_the_chapter_list_on_a_wide_screen(browser, server):
    """At 1400 px the ☰ button hides the chapter list and shows it again."""
    page = browser.new_page()
    try:
        page.set_viewport_size(WIDE)
        page.goto(server + "book/05_moons.html", wait_until="load", timeout=30_000)
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        button = _visible(page, ".primary-toggle")
        assert button.count() == 1
        button.first.click()
        sidebar.wait_for(state="hidden", timeout=5_000)
        button.first.click()
        sidebar.wait_for(state="visible", timeout=5_000)
        # the page's contents are in the right-hand column at this width
        assert page.locator("#pst-secondary-sidebar nav.page-toc").is_visible()
    finally:
        page.close()


def test_book_pdf_prints_a_single_page_book(site, tmp_path):
    """`make pdf`'s printer (_ext/book_pdf.py) on a two-chapter stand-in for the
    single-page build: it runs offline (it fails on a request to another host or a
    formula MathJax left untypeset) and starts each chapter on a new page."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium is not installed ({CHROMIUM} not found)")
    source = tmp_path / "singlehtml"
    shutil.copytree(site / "_static", source / "_static")
    (source / "book").mkdir()
    chapter = (
        '<span id="document-book/{n}"></span><section><h1>Chapter {n}</h1>'
        '<p>Inline <span class="math notranslate nohighlight">\\(Z = X W + b\\)'
        "</span>.</p>"
        '<div class="cell"><details class="hide"><summary>Show solution</summary>'
        '<div class="cell_input"><pre>x = 1</pre></div></details></div></section>'
    )
    (source / "book" / "intro.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Book</title>'
        '<link rel="stylesheet" href="_static/custom.css">'
        '<script defer src="_static/mathjax/tex-mml-chtml.js"></script></head>'
        '<body><main class="bd-main"><div class="bd-content">'
        '<article class="bd-article">'
        + chapter.format(n=1)
        + chapter.format(n=2)
        + '<p><a href="book/intro.html#document-book/2">to chapter 2</a></p>'
        "</article></div></main></body></html>",
        encoding="utf-8",
    )
    out = tmp_path / "book.pdf"
    # a process of its own: Playwright's sync API runs once per process
    result = subprocess.run(
        [sys.executable, str(ROOT / "_ext" / "book_pdf.py")]
        + ["--source", str(source), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes()[:5] == b"%PDF-"
    pages = int(re.search(r"about (\d+) pages", result.stdout).group(1))
    assert pages >= 2, f"{pages} page(s): every chapter should start a page"


def test_search_finds_the_chapters(browser, server):
    """The search box works offline: searching a word of the course lists chapters."""
    page = browser.new_page()
    try:
        page.goto(server + "search.html?q=gradient", wait_until="load", timeout=30_000)
        results = page.locator("#search-results li")
        results.first.wait_for(state="visible", timeout=20_000)
        titles = [text.strip() for text in results.all_inner_texts()]
        assert any("Chapter" in title for title in titles), (
            f"search for 'gradient' found {titles[:5]}"
        )
    finally:
        page.close()
