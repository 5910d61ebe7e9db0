"""GEXF (Gephi): the reply graph of every exported thread, built with networkx.

Per thread, a node for the article (``kind`` "article", carrying the title and the article text)
and one per comment; edges run parent -> reply with ``confidence`` and ``evidence``, as in
``graph.graphml`` (:mod:`discourse.graph`). With one thread the node ids are those of graph.graphml
(``root`` and the comment ids); with several, each is prefixed by its thread folder's name
(``<folder>/root``, ``<folder>/<comment id>``), unique within an output folder. Every node has a
``label`` (the comment id, or the title for the article) and the attributes ``thread_id``,
``comment_id``, ``kind``, ``text``, ``author`` ("" when unknown), ``author_inferred``, ``created``,
``toxicity_model``, ``stance``, ``flagged``, and, when scored, ``toxicity`` and ``stance_score`` (a GEXF
node without them was not scored: GEXF has no NaN). Characters XML 1.0 cannot hold become U+FFFD.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from discourse.exports.source import AnalysedThread, number
from discourse.graph import SEP, for_graphml


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def reply_graph(threads: Iterable[AnalysedThread]) -> nx.DiGraph:
    g: nx.DiGraph = nx.DiGraph()
    count = 0
    for t in threads:
        count += 1

        def node(cid: str, t: AnalysedThread = t) -> str:
            return f"{t.name}/{cid}"

        root = node("root")
        flagged = {
            str(a.get("comment_id"))
            for a in t.list_of("attention")
            if number(a.get("priority"), 0.0) >= t.flag_threshold()
        }
        g.add_node(
            root,
            label=t.title,
            thread_id=t.thread_id,
            comment_id="",
            kind="article",
            text=str(t.thread.get("article") or ""),
            author="",
            author_inferred=False,
            created="",
            toxicity_model="",
            stance="",
            flagged=False,
        )
        ids = {c["id"] for c in t.comments}
        for c in t.comments:
            tox, st = _obj(c.get("toxicity")), _obj(c.get("stance"))
            attrs: dict[str, Any] = {
                "label": c["id"],
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
            g.add_node(node(c["id"]), **attrs)
        for c in t.comments:
            parent = c.get("parent_id")
            evidence = SEP.join(str(e) for e in c.get("parent_evidence") or [])
            confidence = number(c.get("parent_confidence"), 0.0)
            if parent is None or parent in ids:
                g.add_edge(
                    node(parent) if parent is not None else root,
                    node(c["id"]),
                    confidence=confidence,
                    evidence=evidence,
                )
            else:
                g.add_edge(root, node(c["id"]), confidence=0.0, evidence=f"missing parent {parent}")
    if count == 1:  # one thread: graph.graphml's node ids
        g = nx.relabel_nodes(g, {n: n.split("/", 1)[1] for n in g.nodes})
    return g


def write_gexf(threads: Iterable[AnalysedThread], path: Path) -> tuple[int, int]:
    """Write the graph to ``path`` (built whole in memory first); return (threads, comments)."""
    g = reply_graph(threads)
    nx.write_gexf(for_graphml(g), path, encoding="utf-8")
    kinds = [k for _, k in g.nodes(data="kind")]
    return kinds.count("article"), kinds.count("comment")
