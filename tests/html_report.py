"""Checks of a report folder's ``index.html``: with the stdlib HTML parser, and in headless Chromium.

``check_html_report`` runs everywhere. ``check_in_chromium`` loads the page in a real
browser when one is installed (Debian: ``apt-get install chromium``); ``chromium_binary``
says whether one is.
"""

import base64
import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ReportPage(HTMLParser):
    """What a report page holds: its headings, images, links, element ids and tables."""

    def __init__(self):
        super().__init__()
        self.title, self.h1, self.h2 = "", [], []
        self.images, self.links, self.ids = [], [], set()
        self.tables = 0
        self._heading = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag in ("h1", "h2", "title"):
            self._heading = [tag, ""]
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag == "table":
            self.tables += 1

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data

    def handle_endtag(self, tag):
        if self._heading is not None and tag == self._heading[0]:
            kind, text = self._heading
            if kind == "title":
                self.title = text.strip()
            else:
                getattr(self, kind).append(text.strip())
            self._heading = None


def parse_report(path):
    page = ReportPage()
    page.feed(Path(path).read_text(encoding="utf-8"))
    page.close()
    return page


def check_html_report(directory, sections=()):
    """Assert that ``directory/index.html`` shows ``index.md``'s sections, its images and links work.

    Every ``##`` section of ``index.md`` (and each of ``sections``) is an ``<h2>``; every
    ``<img>`` is a ``data:`` URI that decodes to a PNG; every relative link names a file of
    the folder and every ``#anchor`` an element of the page. Returns the parsed page.
    """
    directory = Path(directory)
    page = parse_report(directory / "index.html")
    markdown = (directory / "index.md").read_text()
    md_sections = re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)
    assert page.h2 == md_sections, (page.h2, md_sections)
    for section in sections:
        assert section in page.h2, f"section {section!r} missing from index.html: {page.h2}"
    assert page.h1 == [re.search(r"^# (.+)$", markdown, flags=re.MULTILINE).group(1)]
    assert page.title == page.h1[0]
    assert len(page.images) == markdown.count("![")
    for image in page.images:
        src = image.get("src", "")
        assert src.startswith("data:image/png;base64,"), f"image {image.get('alt')!r}: {src[:60]}"
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data[:8] == PNG_MAGIC and len(data) > 2000, f"image {image.get('alt')!r} is no PNG"
        assert image.get("alt"), "every image needs alt text"
    for href in page.links:
        parts = urlsplit(href)
        if parts.scheme in ("http", "https", "mailto"):
            continue
        assert not parts.scheme, f"link {href!r} is not relative to the report folder"
        if not parts.path:
            assert parts.fragment in page.ids, f"link {href!r} names no element of the page"
        else:
            assert (directory / unquote(parts.path)).is_file(), f"link {href!r} names no file"
    return page


def chromium_binary():
    """The path of an installed Chromium (or Chrome), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Runs before the page: records script errors and failed loads (capture phase), calls to
# console.error, and after "load" writes what it found into the DOM for --dump-dom.
_PROBE = """<script>
window.__skmm = {errors: [], console: []};
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__skmm.errors.push(e.message || (t && (t.src || t.href || t.tagName)) || "error");
}, true);
var __skmmConsoleError = console.error;
console.error = function () {
  window.__skmm.console.push(Array.prototype.join.call(arguments, " "));
  return __skmmConsoleError.apply(console, arguments);
};
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var out = document.createElement("pre");
  out.id = "skmm-browser-check";
  out.textContent = JSON.stringify({
    images: images.length,
    broken: images.filter(function (i) { return !i.complete || i.naturalWidth === 0; })
                  .map(function (i) { return i.alt || i.src.slice(0, 40); }),
    widths: images.map(function (i) { return i.naturalWidth; }),
    errors: window.__skmm.errors,
    console: window.__skmm.console,
    sections: document.querySelectorAll("section h2").length
  });
  document.body.appendChild(out);
});
</script>"""


def check_in_chromium(html_path, timeout=60):
    """Load ``html_path`` in headless Chromium; return what the page reported after loading.

    The page is copied beside itself with a probe script in its ``<head>`` (so relative
    links resolve as in the original). Returns a dict: ``images`` (count), ``broken``
    (images with no pixels), ``widths``, ``errors`` (script errors and failed loads),
    ``console`` (console.error calls and any console line Chromium logged) and
    ``sections``.
    """
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError("no chromium binary found")
    html_path = Path(html_path).resolve()
    probe = html_path.with_name(f".browser-check-{os.getpid()}.html")
    text = html_path.read_text(encoding="utf-8")
    assert "<head>" in text, "the page has no <head>"
    probe.write_text(text.replace("<head>", "<head>\n" + _PROBE, 1), encoding="utf-8")
    try:
        run = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",  # root in containers
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={probe.parent / f'.chromium-profile-{os.getpid()}'}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=10000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        probe.unlink()
        shutil.rmtree(probe.parent / f".chromium-profile-{os.getpid()}", ignore_errors=True)
    found = re.search(r'<pre id="skmm-browser-check">(.*?)</pre>', run.stdout, flags=re.S)
    assert found, f"Chromium did not finish the page (exit {run.returncode}): {run.stderr[-2000:]}"
    result = json.loads(html.unescape(found.group(1)))
    # Chromium logs every console message of the page as "...:CONSOLE(line)] ..." or "CONSOLE:line]"
    result["console"] += [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    return result
