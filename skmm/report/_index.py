"""Report: a folder of tables, figures and notes, linked from ``index.md`` and ``index.html``."""

import datetime
from pathlib import Path

from ._html import render_html
from ._tables import write_table


class Report:
    """A report folder whose index shows every table and figure added, in order.

    Tables are written as CSV (full precision) and Markdown. :meth:`write_index` writes
    the index twice: ``index.md`` inlines the Markdown and links the figures, so it
    reads well on GitHub, in an editor's preview or on a documentation site;
    ``index.html`` is one self-contained page for a browser, with the same sections,
    the figures embedded and relative links to the CSVs and other files.

    Parameters
    ----------
    directory : path-like
        The report folder; created if needed.
    title : str, default="skmm report"
    intro : str, optional
        Markdown placed under the title.

    Attributes
    ----------
    directory : pathlib.Path
    entries : list of dict
        What was added: ``{"kind", "title", "file", "text", ...}``.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from skmm.report import Report
    >>> report = Report(tempfile.mkdtemp(), title="Try")
    >>> _ = report.add_table("metrics", pd.DataFrame({"uar": [0.7]}), "Metrics")
    >>> index = report.write_index()
    >>> "[metrics.csv](metrics.csv)" in index.read_text()
    True
    >>> '<a href="metrics.csv">' in index.with_suffix(".html").read_text()
    True
    """

    def __init__(self, directory, title="skmm report", intro=None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.title = title
        self.intro = intro
        self.entries = []

    def path(self, name):
        """The path of ``name`` inside the report folder."""
        return self.directory / name

    def add_table(self, name, frame, title, *, text=None, markdown=None, digits=3):
        """Write ``name.csv`` and ``name.md`` and show the table in the index.

        Parameters
        ----------
        name : str
            File stem.
        frame : pandas.DataFrame
            The numbers (full precision in the CSV).
        title : str
            Section title in the index.
        text : str, optional
            Markdown shown above the table.
        markdown : pandas.DataFrame, optional
            What the Markdown shows instead of ``frame`` (e.g. "mean ± std" strings).
        digits : int, default=3

        Returns
        -------
        csv_path : pathlib.Path
        """
        csv_path, md_path = write_table(
            frame, self.directory, name, markdown=markdown, digits=digits
        )
        self.entries.append(
            {
                "kind": "table",
                "title": title,
                "file": csv_path.name,
                "markdown": md_path.read_text().strip(),
                "shown": frame if markdown is None else markdown,
                "digits": digits,
                "text": text,
            }
        )
        return csv_path

    def add_figure(self, filename, title, *, text=None):
        """Show a PNG already written in the report folder.

        Returns
        -------
        path : pathlib.Path
        """
        path = self.path(filename)
        if not path.is_file():
            raise FileNotFoundError(
                f"figure {str(path)!r} does not exist; write it before adding it."
            )
        self.entries.append({"kind": "figure", "title": title, "file": filename, "text": text})
        return path

    def add_link(self, filename, title, *, text=None):
        """Link a file of the report folder (a model card, a saved model, predictions)."""
        self.entries.append({"kind": "link", "title": title, "file": filename, "text": text})
        return self.path(filename)

    def add_text(self, title, text):
        """A section of Markdown text."""
        self.entries.append({"kind": "text", "title": title, "file": None, "text": text})

    def _stamp(self):
        from .. import __version__

        when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        return f"Written by skmm {__version__} on {when}."

    def write_index(self, name="index.md", *, html=True):
        """Write the index linking everything added so far; returns the path of ``index.md``.

        Parameters
        ----------
        name : str, default="index.md"
        html : bool, default=True
            Also write the same page as HTML beside it (``name`` with ``.html``), with the
            figures embedded; see :meth:`write_html`.

        Returns
        -------
        path : pathlib.Path
        """
        stamp = self._stamp()
        lines = [f"# {self.title}", "", stamp, ""]
        if self.intro:
            lines += [self.intro.strip(), ""]
        listed = [e for e in self.entries if e["file"]]
        if listed:
            lines += ["Files: " + ", ".join(f"[{e['file']}]({e['file']})" for e in listed), ""]
        for entry in self.entries:
            lines += [f"## {entry['title']}", ""]
            if entry["text"]:
                lines += [entry["text"].strip(), ""]
            if entry["kind"] == "table":
                lines += [entry["markdown"], "", f"CSV: [{entry['file']}]({entry['file']})", ""]
            elif entry["kind"] == "figure":
                lines += [f"![{entry['title']}]({entry['file']})", ""]
            elif entry["kind"] == "link":
                lines += [f"[{entry['file']}]({entry['file']})", ""]
        path = self.path(name)
        path.write_text("\n".join(lines).rstrip() + "\n")
        if html:
            self.write_html(Path(name).with_suffix(".html").name, stamp=stamp)
        return path

    def write_html(self, name="index.html", *, stamp=None):
        """Write the index as one self-contained HTML page; returns its path.

        The page has the sections of ``index.md``; figures are embedded as ``data:``
        URIs and tables are HTML tables, so it opens in any browser without the Markdown
        tooling. Text given as Markdown (``intro``, ``text=``) is rendered with
        Python-Markdown.
        """
        path = self.path(name)
        path.write_text(render_html(self, stamp or self._stamp()), encoding="utf-8")
        return path
