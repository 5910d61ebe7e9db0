"""The reply graph as a networkx DiGraph, ready for GraphML.

Nodes: ``ROOT_ID`` ("root") is the article; every comment is a node named by its id.
Edges run parent -> child; a comment whose ``parent_id`` is None hangs from the root.
A valid thread (``Thread.validate()`` empty) gives a tree rooted at "root": n comments,
n + 1 nodes, n edges.

GraphML holds only scalar attributes and has no null, so every node carries the same
keys with these conventions:

==================  =======  ==========================================================
key                 type     value
==================  =======  ==========================================================
kind                str      "article" for the root, "comment" otherwise
title               str      thread title on the root, "" on comments
text                str      article text on the root, verbatim comment text otherwise
author              str      "" when unknown (``Comment.author`` None) and on the root
author_inferred     bool     False on the root
created             str      "" when unknown
toxicity            float    overall score 0..1; NaN when not scored (and on the root)
toxicity_model      str      "" when not scored
toxicity_evidence   str      evidence words joined with ";" ("" when none)
stance              str      stance label; "" when not scored
stance_score        float    score of that label 0..1; NaN when not scored
stance_model        str      "" when not scored
==================  =======  ==========================================================

Edges carry ``confidence`` (float, ``Comment.parent_confidence``) and ``evidence``
(str, ``Comment.parent_evidence`` joined with ";"; a ";" inside an evidence phrase is
not escaped, so splitting it back is lossy). A comment whose parent is not in the
thread hangs from the root with confidence 0.0 and evidence ``missing parent <id>``.

XML 1.0 cannot hold most control characters (NUL, form feed, ...): :func:`for_graphml`
replaces them with U+FFFD in ids and strings before writing. XML parsers also read a
"\r\n" inside text back as "\n".
"""

from __future__ import annotations

import math
import re
from typing import Any

import networkx as nx

from discourse.core.analysis import Analysis
from discourse.core.errors import InputError
from discourse.core.thread import ROOT_ID, Thread
from discourse.stages.stance.result import StanceResult
from discourse.stages.toxicity.result import ToxicityResult

SEP = ";"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def to_digraph(source: Analysis | Thread) -> nx.DiGraph:
    """Build the reply graph of a Thread, with model outputs when given an Analysis.

    Raises InputError when a comment's id is ``ROOT_ID``.
    """
    analysis = source if isinstance(source, Analysis) else None
    thread = source.thread if isinstance(source, Analysis) else source
    g: nx.DiGraph = nx.DiGraph(
        id=thread.id, title=thread.title, source_format=thread.source_format, structure_known=thread.structure_known
    )
    g.add_node(ROOT_ID, **_node("article", title=thread.title, text=thread.article))
    ids = {c.id for c in thread.comments}
    if ROOT_ID in ids:
        raise InputError(f"a comment has the id {ROOT_ID!r}, which names the article in the reply graph")
    for c in thread.comments:
        tox = analysis.get(c.id, "toxicity") if analysis else None
        st = analysis.get(c.id, "stance") if analysis else None
        g.add_node(
            c.id,
            **_node(
                "comment",
                text=c.text,
                author=c.author or "",
                author_inferred=c.author_inferred,
                created=c.created or "",
                toxicity=tox,
                stance=st,
            ),
        )
    for c in thread.comments:
        if c.parent_id is None or c.parent_id in ids:
            parent = c.parent_id if c.parent_id is not None else ROOT_ID
            g.add_edge(parent, c.id, confidence=float(c.parent_confidence), evidence=SEP.join(c.parent_evidence))
        else:
            g.add_edge(ROOT_ID, c.id, confidence=0.0, evidence=f"missing parent {c.parent_id}")
    return g


def _node(
    kind: str,
    *,
    title: str = "",
    text: str = "",
    author: str = "",
    author_inferred: bool = False,
    created: str = "",
    toxicity: ToxicityResult | None = None,
    stance: StanceResult | None = None,
) -> dict[str, object]:
    return {
        "kind": kind,
        "title": title,
        "text": text,
        "author": author,
        "author_inferred": bool(author_inferred),
        "created": created,
        "toxicity": float(toxicity.score) if toxicity else math.nan,
        "toxicity_model": toxicity.model if toxicity else "",
        "toxicity_evidence": SEP.join(toxicity.evidence) if toxicity else "",
        "stance": stance.label if stance else "",
        "stance_score": float(stance.scores.get(stance.label, math.nan)) if stance else math.nan,
        "stance_model": stance.model if stance else "",
    }


def from_digraph(graph: nx.DiGraph) -> dict[str, str | None]:
    """Parent links back from a reply graph: comment id -> parent id (None = the article).

    Comments come in the graph's node order (document order for graphs built by
    :func:`to_digraph`, also after a GraphML round trip). Raises InputError when a
    comment has more than one parent or the root is missing.
    """
    if ROOT_ID not in graph:
        raise InputError(f"reply graph has no {ROOT_ID!r} node")
    out: dict[str, str | None] = {}
    for node in graph.nodes:
        if node == ROOT_ID:
            continue
        parents = list(graph.predecessors(node))
        if len(parents) > 1:
            raise InputError(f"comment {node!r} has {len(parents)} parents in the reply graph")
        parent = parents[0] if parents else None
        out[str(node)] = None if parent in (None, ROOT_ID) else str(parent)
    return out


def for_graphml(graph: nx.DiGraph, copy: bool = True) -> nx.DiGraph:
    """A graph whose ids and string attributes hold only characters XML 1.0 allows: a copy, or with
    ``copy=False`` ``graph`` itself, cleaned in place where its ids need no change (a writer that
    built the graph for this alone need not hold two: 0.1-0.2 GB at 100,000 comments)."""

    def clean(value: Any) -> Any:
        return _NOT_XML.sub("\ufffd", value) if isinstance(value, str) else value

    if not copy and not any(isinstance(n, str) and _NOT_XML.search(n) for n in graph.nodes):
        graph.graph.update({k: clean(v) for k, v in graph.graph.items()})
        for _, data in graph.nodes(data=True):
            data.update({k: clean(v) for k, v in data.items() if isinstance(v, str)})
        for _, _, data in graph.edges(data=True):
            data.update({k: clean(v) for k, v in data.items() if isinstance(v, str)})
        return graph

    out: nx.DiGraph = nx.DiGraph(**{k: clean(v) for k, v in graph.graph.items()})
    for node, data in graph.nodes(data=True):
        out.add_node(clean(node), **{k: clean(v) for k, v in data.items()})
    for u, v, data in graph.edges(data=True):
        out.add_edge(clean(u), clean(v), **{k: clean(x) for k, x in data.items()})
    return out
