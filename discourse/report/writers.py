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
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, TextIO

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
            write_report(analysis, fh, wanted.report_comments, wanted.report_chains)
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
    """The reply graph (see :mod:`discourse.graph`) as GraphML, UTF-8, written to ``raw``
    element by element (:func:`stream_graphml`)."""
    stream_graphml(for_graphml(to_digraph(analysis), copy=False), raw)


_escape_cdata: Callable[[str], str] = getattr(ET, "_escape_cdata")  # noqa: B009 - the exact escaping networkx's writer gets
_escape_attrib: Callable[[str], str] = getattr(ET, "_escape_attrib")  # noqa: B009


def stream_graphml(g: nx.DiGraph, raw: BinaryIO) -> None:
    """Byte for byte what ``networkx.write_graphml(g, raw)`` writes (its ElementTree writer,
    pretty-printed), but written as it goes: networkx builds an element per node, edge and value
    first (about 9 KB a comment: 0.9 GB for a 100,000-comment thread). Keys are numbered as
    networkx numbers them (graph values, then each node's, then each edge's, in order) and listed
    last first; values are ``str(value)``; unsupported value types raise as networkx does."""
    types = nx.readwrite.graphml.GraphMLWriter()
    graph_data = {k: v for k, v in g.graph.items() if k not in ("id", "node_default", "edge_default")}
    keys: dict[tuple[str, str, str], str] = {}

    def key(name: object, value: object, scope: str) -> str:
        found = (str(name), types.get_xml_type(type(value)), scope)
        if found not in keys:
            keys[found] = f"d{len(keys)}"
        return keys[found]

    for k, v in graph_data.items():
        key(k, v, "graph")
    for _, data in g.nodes(data=True):
        for k, v in data.items():
            key(k, v, "node")
    for _, _, data in g.edges(data=True):
        for k, v in data.items():
            key(k, v, "edge")

    def write(text: str) -> None:
        raw.write(text.encode("utf-8", "xmlcharrefreplace"))

    def data_elements(data: Mapping[Any, Any], scope: str, indent: str, last: str) -> None:
        items = list(data.items())
        for n, (k, v) in enumerate(items):
            text = str(v)
            tail = last if n == len(items) - 1 else indent
            body = f">{_escape_cdata(text)}</data>" if text else " />"
            write(f'<data key="{_escape_attrib(key(k, v, scope))}"{body}{tail}')

    def element(tag: str, attrs: str, data: Mapping[Any, Any], scope: str, tail: str) -> None:
        if data:
            write(f"<{tag}{attrs}>\n      ")
            data_elements(data, scope, "\n      ", "\n    ")
            write(f"</{tag}>{tail}")
        else:
            write(f"<{tag}{attrs} />{tail}")

    write("<?xml version='1.0' encoding='utf-8'?>\n")
    write(
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns'
        ' http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n  '
    )
    for (name, xml_type, scope), kid in reversed(keys.items()):
        write(f'<key id="{kid}" for="{scope}" attr.name="{_escape_attrib(name)}" attr.type="{xml_type}" />\n  ')
    gid = g.graph.get("id")
    edgedefault = "directed" if g.is_directed() else "undirected"
    head = f'<graph edgedefault="{edgedefault}"' + (f' id="{_escape_attrib(str(gid))}"' if gid is not None else "")
    children = g.number_of_nodes() + g.number_of_edges() + len(graph_data)
    if not children:
        write(f"{head} />\n</graphml>\n")
        return
    write(f"{head}>\n    ")
    done = 0
    for node, data in g.nodes(data=True):
        done += 1
        element("node", f' id="{_escape_attrib(str(node))}"', data, "node", "\n    " if done < children else "\n  ")
    for u, v, data in g.edges(data=True):
        done += 1
        attrs = f' source="{_escape_attrib(str(u))}" target="{_escape_attrib(str(v))}"'
        element("edge", attrs, data, "edge", "\n    " if done < children else "\n  ")
    if graph_data:
        data_elements(graph_data, "graph", "\n    ", "\n  ")
    write("</graph>\n</graphml>\n")


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
