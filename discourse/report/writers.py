"""Write one thread's outputs: analysis.json, graph.graphml and report.html, each atomically.

analysis.json is written last: batch runs treat its presence as "this thread is
done", so a crash part-way leaves the thread to be redone rather than half-written.
The ``output`` section of the config (``html: false``, ``graphml: false``) turns the
other two off; analysis.json is always written.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TextIO

import networkx as nx

from discourse.core.analysis import Analysis
from discourse.core.config import OutputConfig
from discourse.graph import for_graphml, to_digraph
from discourse.report.atomic import atomic_text_writer, atomic_write_bytes, atomic_write_text
from discourse.report.html import render_report
from discourse.report.table import columns, comment_rows, labels_of

ANALYSIS_JSON = "analysis.json"
GRAPHML = "graph.graphml"
REPORT_HTML = "report.html"
COMMENTS_CSV = "comments.csv"


def write_outputs(analysis: Analysis, out_dir: str | Path, output: OutputConfig | None = None) -> dict[str, Path]:
    """Write the outputs into ``out_dir`` (created if missing); return name -> path written.
    ``output`` says which files besides analysis.json (default: all)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wanted = output or OutputConfig()
    written: dict[str, Path] = {}
    if wanted.graphml:
        written[GRAPHML] = atomic_write_bytes(out / GRAPHML, graphml_bytes(analysis))
    if wanted.csv:
        with atomic_text_writer(out / COMMENTS_CSV) as fh:
            write_comments_csv(analysis, fh)
        written[COMMENTS_CSV] = out / COMMENTS_CSV
    if wanted.html:
        written[REPORT_HTML] = atomic_write_text(out / REPORT_HTML, render_report(analysis))
    with atomic_text_writer(out / ANALYSIS_JSON) as fh:  # streamed: a huge thread's JSON is never one string
        json.dump(analysis.to_json(), fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    written[ANALYSIS_JSON] = out / ANALYSIS_JSON
    return written


def graphml_bytes(analysis: Analysis) -> bytes:
    """The reply graph (see :mod:`discourse.graph`) as GraphML, UTF-8."""
    buf = io.BytesIO()
    nx.write_graphml(for_graphml(to_digraph(analysis)), buf, encoding="utf-8")
    return buf.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection)."""


def spreadsheet_safe(cell: str) -> str:
    """Prefix a ``'`` to a cell that would start a formula (``=``, ``+``, ``-``, ``@``, tab, CR),
    as OWASP advises; a spreadsheet then shows it as text. A cell already made of quotes followed
    by such a character gets one more quote, so the rule can be undone exactly: a cell starting
    with ``'`` whose first character after its leading quotes is one of those lost one ``'``."""
    return "'" + cell if cell.lstrip("'")[:1] in FORMULA_START else cell


def comments_csv(analysis: Analysis) -> str:
    """:func:`write_comments_csv` as a string."""
    buf = io.StringIO()
    write_comments_csv(analysis, buf)
    return buf.getvalue()


def write_comments_csv(analysis: Analysis, fh: TextIO) -> None:
    """One row per comment for spreadsheets and data frames: the scalar fields of
    analysis.json plus one column per toxicity label (``tox_<label>``) and stance label
    (``stance_<label>``), as RFC 4180 CSV (CRLF line ends, a cell holding a line break, quote or
    comma quoted). Lists are joined with "; ". Text cells are verbatim except that one
    that would start a formula gets a leading ``'`` (:func:`spreadsheet_safe`); analysis.json
    keeps every text as found."""
    data = analysis.to_json()
    tox_labels, stance_labels = labels_of(data["comments"])
    w = csv.writer(fh, lineterminator="\r\n")  # RFC 4180; with "\n" alone a bare CR in a cell went unquoted
    w.writerow([spreadsheet_safe(h) for h in columns(tox_labels, stance_labels)])  # label names come from model files
    for typed in comment_rows(data["thread"]["id"], data["comments"], tox_labels, stance_labels):
        row = ["" if v is None else "; ".join(v) if isinstance(v, list) else v for v in typed]
        w.writerow([spreadsheet_safe(v) if isinstance(v, str) else v for v in row])
