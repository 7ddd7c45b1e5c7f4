"""The report as one self-contained ``index.html``: figures embedded, tables styled, files linked."""

import base64
import html
import numbers
import re

from .._deps import import_optional
from ._tables import _cell

_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 1000px; margin: 0 auto; padding: 1.5em 2em 3em; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; margin-top: 2em; }
.stamp, .files, figcaption { color: #59636e; font-size: 0.9em; }
nav { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 0.4em 1em; }
nav ol { margin: 0.3em 0; columns: 2; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d7de; padding: 0.3em 0.7em; text-align: left; }
th { background: #f6f8fa; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 0.8em 0; }
img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
code { background: #eff1f3; padding: 0.1em 0.3em; border-radius: 4px; font-size: 0.9em; }
"""


_MEAN_STD = re.compile(r"^-?[0-9.]+ ± [0-9.]+$")  # mean_std_columns' cells


def markdown_to_html(text):
    """Markdown (with tables) as an HTML fragment, via Python-Markdown.

    Examples
    --------
    >>> from skmm.report._html import markdown_to_html
    >>> markdown_to_html("UAR **0.7**, see [metrics.csv](metrics.csv).")
    '<p>UAR <strong>0.7</strong>, see <a href="metrics.csv">metrics.csv</a>.</p>'
    """
    markdown = import_optional("markdown", "writing the HTML report")
    return markdown.markdown(text.strip(), extensions=["tables"], output_format="html")


def html_table(frame, digits=3):
    """A DataFrame as an HTML table, floats rounded to ``digits``, numbers right-aligned.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.report._html import html_table
    >>> print(html_table(pd.DataFrame({"model": ["a<b"], "uar": [0.71234]})))
    <table>
    <thead><tr><th>model</th><th>uar</th></tr></thead>
    <tbody>
    <tr><td>a&lt;b</td><td class="num">0.712</td></tr>
    </tbody>
    </table>
    """
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = html.escape(_cell(value, digits).replace("\\|", "|"))
            number = (isinstance(value, numbers.Number) and not isinstance(value, bool)) or bool(
                _MEAN_STD.match(text)
            )
            cells.append(f'<td class="num">{text}</td>' if number else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(
        ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>", *rows, "</tbody>", "</table>"]
    )


def _png_data_uri(path):
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _anchor(title, taken):
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
    anchor, k = slug, 2
    while anchor in taken:
        anchor, k = f"{slug}-{k}", k + 1
    taken.add(anchor)
    return anchor


def _link(filename):
    return f'<a href="{html.escape(filename)}">{html.escape(filename)}</a>'


def render_html(report, stamp):
    """The HTML page of ``report`` (a :class:`skmm.report.Report`): same sections as ``index.md``.

    Figures are embedded as ``data:`` URIs, so the page shows them even when copied
    alone; links to CSVs, the model card and the model stay relative to the folder.
    """
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(report.title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{esc(report.title)}</h1>",
        f'<p class="stamp">{esc(stamp)}</p>',
    ]
    if report.intro:
        parts.append(markdown_to_html(report.intro))
    taken = set()
    anchors = [_anchor(e["title"], taken) for e in report.entries]
    if report.entries:
        items = "".join(
            f'<li><a href="#{a}">{esc(e["title"])}</a></li>'
            for a, e in zip(anchors, report.entries)
        )
        listed = [e["file"] for e in report.entries if e["file"]]
        files = ", ".join(_link(f) for f in listed)
        parts.append(
            f"<nav><strong>Sections</strong><ol>{items}</ol>"
            + (f'<p class="files">Files: {files}</p>' if files else "")
            + "</nav>"
        )
    for anchor, entry in zip(anchors, report.entries):
        parts += [f'<section id="{anchor}">', f"<h2>{esc(entry['title'])}</h2>"]
        if entry["text"]:
            parts.append(markdown_to_html(entry["text"]))
        if entry["kind"] == "table":
            parts += [
                '<div class="table-wrap">',
                html_table(entry["shown"], entry["digits"]),
                "</div>",
                f'<p class="files">CSV: {_link(entry["file"])}</p>',
            ]
        elif entry["kind"] == "figure":
            uri = _png_data_uri(report.path(entry["file"]))
            parts.append(
                f'<figure><img src="{uri}" alt="{esc(entry["title"])}">'
                f"<figcaption>{_link(entry['file'])}</figcaption></figure>"
            )
        elif entry["kind"] == "link":
            parts.append(f"<p>{_link(entry['file'])}</p>")
        parts.append("</section>")
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
