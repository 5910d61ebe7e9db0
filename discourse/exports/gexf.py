"""GEXF 1.2 (Gephi): the reply graph of every exported thread, written one thread at a time.

Per thread, a node for the article (``kind`` "article", ``label`` = the title, ``text`` = the article)
and one per comment; edges run parent -> reply with ``confidence`` and ``evidence``, as in
``graph.graphml`` (:mod:`discourse.graph`). Exporting one thread folder keeps graph.graphml's node ids
(``root`` and the comment ids); an output folder prefixes each with its thread folder's name
(``<folder>/root``, ``<folder>/<comment id>``), unique within the folder. Every node has a ``label``
(the comment id, or the title for the article) and the attributes ``thread_id``, ``comment_id``,
``kind``, ``text``, ``author`` ("" when unknown), ``author_inferred``, ``created``,
``toxicity_model``, ``stance``, ``flagged``, and, when scored, ``toxicity`` and ``stance_score`` (GEXF
has no NaN: a node without them was not scored). Characters XML 1.0 cannot hold become U+FFFD.

The file is the one ``networkx.write_gexf`` writes for the same graph (networkx's ``read_gexf``
reads it back), but nodes are streamed as threads are read and only the edges wait for the end, so
memory stays small however many threads there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import quoteattr

from discourse.exports.source import AnalysedThread, number
from discourse.graph import SEP

NODE_ATTRIBUTES = (
    ("thread_id", "string"),
    ("comment_id", "string"),
    ("kind", "string"),
    ("text", "string"),
    ("author", "string"),
    ("author_inferred", "boolean"),
    ("created", "string"),
    ("toxicity_model", "string"),
    ("stance", "string"),
    ("flagged", "boolean"),
    ("toxicity", "double"),
    ("stance_score", "double"),
)
EDGE_ATTRIBUTES = (("confidence", "double"), ("evidence", "string"))
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _q(value: Any) -> str:
    """An attribute value, quoted and escaped (line breaks and tabs as character references)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = _NOT_XML.sub("\ufffd", str(value))
    return quoteattr(text)


def _attvalues(pad: str, ids: Mapping[str, int], values: Mapping[str, Any]) -> str:
    rows = "".join(f'{pad}  <attvalue for="{ids[k]}" value={_q(v)} />\n' for k, v in values.items())
    return f"{pad}<attvalues>\n{rows}{pad}</attvalues>\n"


def _nodes(t: AnalysedThread, node: Any, ids: Mapping[str, int], out: TextIO) -> list[tuple[str, str, float, str]]:
    """Write one thread's nodes; return its edges (source, target, confidence, evidence)."""
    flag = t.flag_threshold()
    flagged = {str(a.get("comment_id")) for a in t.list_of("attention") if number(a.get("priority"), 0.0) >= flag}
    article = {
        "thread_id": t.thread_id,
        "comment_id": "",
        "kind": "article",
        "text": str(t.thread.get("article") or ""),
        "author": "",
        "author_inferred": False,
        "created": "",
        "toxicity_model": "",
        "stance": "",
        "flagged": False,
    }
    _node(out, node("root"), str(t.thread.get("title") or t.thread_id), ids, article)
    known = {c["id"] for c in t.comments}
    edges = []
    for c in t.comments:
        tox, st = _obj(c.get("toxicity")), _obj(c.get("stance"))
        attrs: dict[str, Any] = {
            "thread_id": t.thread_id,
            "comment_id": c["id"],
            "kind": "comment",
            "text": c["text"],
            "author": str(c.get("author") or ""),
            "author_inferred": bool(c.get("author_inferred")),
            "created": str(c.get("created") or ""),
            "toxicity_model": str(tox.get("model") or ""),
            "stance": str(st.get("label") or ""),
            "flagged": c["id"] in flagged,
        }
        if isinstance(tox.get("score"), int | float):
            attrs["toxicity"] = float(tox["score"])
        label = st.get("label")
        if isinstance(label, str) and isinstance(_obj(st.get("scores")).get(label), int | float):
            attrs["stance_score"] = float(st["scores"][label])
        _node(out, node(c["id"]), c["id"], ids, attrs)
        parent = c.get("parent_id")
        if parent is None or parent in known:
            evidence = SEP.join(str(e) for e in c.get("parent_evidence") or [])
            confidence = number(c.get("parent_confidence"), 0.0)
            edges.append((node(parent if parent is not None else "root"), node(c["id"]), confidence, evidence))
        else:
            edges.append((node("root"), node(c["id"]), 0.0, f"missing parent {parent}"))
    return edges


def _node(out: TextIO, nid: str, label: str, ids: Mapping[str, int], attrs: Mapping[str, Any]) -> None:
    out.write(f"      <node id={_q(nid)} label={_q(label)}>\n")
    out.write(_attvalues("        ", ids, attrs))
    out.write("      </node>\n")


def write_gexf(threads: Iterable[AnalysedThread], path: Path, prefix: bool = True) -> tuple[int, int]:
    """Write the reply graphs of ``threads`` to ``path``; node ids carry the thread folder's name
    unless ``prefix`` is false (one thread). Returns (threads, comments)."""
    node_ids = {name: k for k, (name, _) in enumerate(NODE_ATTRIBUTES)}
    edge_ids = {name: len(NODE_ATTRIBUTES) + k for k, (name, _) in enumerate(EDGE_ATTRIBUTES)}
    edges: list[tuple[str, str, float, str]] = []
    n_threads = n_comments = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("<?xml version='1.0' encoding='utf-8'?>\n")
        out.write(
            '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
        )
        out.write(
            f'  <meta lastmodifieddate="{date.today().isoformat()}">\n    <creator>discourse</creator>\n  </meta>\n'
        )
        out.write('  <graph defaultedgetype="directed" mode="static" name="">\n')
        for cls, attributes, ids in (("edge", EDGE_ATTRIBUTES, edge_ids), ("node", NODE_ATTRIBUTES, node_ids)):
            out.write(f'    <attributes mode="static" class="{cls}">\n')
            for name, kind in attributes:
                out.write(f'      <attribute id="{ids[name]}" title="{name}" type="{kind}" />\n')
            out.write("    </attributes>\n")
        out.write("    <nodes>\n")
        for t in threads:

            def node(cid: str, t: AnalysedThread = t) -> str:
                return f"{t.name}/{cid}" if prefix else cid

            edges.extend(_nodes(t, node, node_ids, out))
            n_threads += 1
            n_comments += len(t.comments)
        out.write("    </nodes>\n    <edges>\n")
        for k, (source, target, confidence, evidence) in enumerate(edges):
            out.write(f'      <edge source={_q(source)} target={_q(target)} id="{k}">\n')
            out.write(_attvalues("        ", edge_ids, {"confidence": confidence, "evidence": evidence}))
            out.write("      </edge>\n")
        out.write("    </edges>\n  </graph>\n</gexf>\n")
    return n_threads, n_comments
