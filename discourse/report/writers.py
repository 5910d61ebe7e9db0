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
from typing import BinaryIO, TextIO

import networkx as nx

from discourse.core.analysis import Analysis
from discourse.core.config import OutputConfig
from discourse.graph import for_graphml, to_digraph
from discourse.report.atomic import atomic_text_writer, atomic_writer
from discourse.report.html import write_report
from discourse.report.table import columns, iter_comment_rows, labels_of

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
        with atomic_writer(out / GRAPHML) as raw:
            write_graphml(analysis, raw)
        written[GRAPHML] = out / GRAPHML
    if wanted.csv:
        with atomic_text_writer(out / COMMENTS_CSV) as fh:
            write_comments_csv(analysis, fh)
        written[COMMENTS_CSV] = out / COMMENTS_CSV
    if wanted.html:
        with atomic_text_writer(out / REPORT_HTML) as fh:
            write_report(analysis, fh, wanted.report_comments)
        written[REPORT_HTML] = out / REPORT_HTML
    with atomic_text_writer(out / ANALYSIS_JSON) as fh:
        write_analysis_json(analysis, fh)
    written[ANALYSIS_JSON] = out / ANALYSIS_JSON
    return written


_COMMENTS_KEY = '\n  "comments": []'


def write_analysis_json(analysis: Analysis, fh: TextIO) -> None:
    """analysis.json, streamed: exactly ``json.dump(analysis.to_json(), fh, ensure_ascii=False,
    indent=2)`` and a final newline, but the comment rows are made and written one at a time, so a
    huge thread's document is never held whole (as a dict or as a string)."""
    head = analysis.head_json()
    doc = {k: ([] if k == "comments" else head[k]) for k in ("schema_version", "thread", "comments", *head)}
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    # The first such line is the top-level key: inside a JSON string a line break is always escaped.
    at = text.index(_COMMENTS_KEY) + len(_COMMENTS_KEY) - 2
    fh.write(text[:at])
    first = True
    for row in analysis.comments_json():
        fh.write("[\n    " if first else ",\n    ")
        fh.write(json.dumps(row, ensure_ascii=False, indent=2).replace("\n", "\n    "))
        first = False
    fh.write("[]" if first else "\n  ]")
    fh.write(text[at + 2 :])
    fh.write("\n")


def write_graphml(analysis: Analysis, raw: BinaryIO) -> None:
    """The reply graph (see :mod:`discourse.graph`) as GraphML, UTF-8, written to ``raw``."""
    nx.write_graphml(for_graphml(to_digraph(analysis)), raw, encoding="utf-8")


def graphml_bytes(analysis: Analysis) -> bytes:
    """:func:`write_graphml` as bytes."""
    buf = io.BytesIO()
    write_graphml(analysis, buf)
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
    tox_labels, stance_labels = labels_of(analysis.comments_json())  # rows made twice, never all held
    w = csv.writer(fh, lineterminator="\r\n")  # RFC 4180; with "\n" alone a bare CR in a cell went unquoted
    w.writerow([spreadsheet_safe(h) for h in columns(tox_labels, stance_labels)])  # label names come from model files
    for typed in iter_comment_rows(analysis.thread.id, analysis.comments_json(), tox_labels, stance_labels):
        row = ["" if v is None else "; ".join(v) if isinstance(v, list) else v for v in typed]
        w.writerow([spreadsheet_safe(v) if isinstance(v, str) else v for v in row])
