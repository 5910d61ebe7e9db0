"""Write one thread's outputs: analysis.json, graph.graphml and report.html, each atomically.

analysis.json is written last: batch runs treat its presence as "this thread is
done", so a crash part-way leaves the thread to be redone rather than half-written.
The ``output`` section of the config (``html: false``, ``graphml: false``) turns the
other two off; analysis.json is always written.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx

from discourse.analysis import Analysis
from discourse.graph import for_graphml, to_digraph
from discourse.report.atomic import atomic_write_bytes, atomic_write_text
from discourse.report.html import render_report

ANALYSIS_JSON = "analysis.json"
GRAPHML = "graph.graphml"
REPORT_HTML = "report.html"


def write_outputs(analysis: Analysis, out_dir: str | Path) -> dict[str, Path]:
    """Write the outputs into ``out_dir`` (created if missing); return name -> path written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wanted = analysis.config.get("output") or {}
    written: dict[str, Path] = {}
    if wanted.get("graphml", True):
        written[GRAPHML] = atomic_write_bytes(out / GRAPHML, graphml_bytes(analysis))
    if wanted.get("html", True):
        written[REPORT_HTML] = atomic_write_text(out / REPORT_HTML, render_report(analysis))
    text = json.dumps(analysis.to_json(), ensure_ascii=False, indent=2) + "\n"
    written[ANALYSIS_JSON] = atomic_write_text(out / ANALYSIS_JSON, text)
    return written


def graphml_bytes(analysis: Analysis) -> bytes:
    """The reply graph (see :mod:`discourse.graph`) as GraphML, UTF-8."""
    buf = io.BytesIO()
    nx.write_graphml(for_graphml(to_digraph(analysis)), buf, encoding="utf-8")
    return buf.getvalue()
