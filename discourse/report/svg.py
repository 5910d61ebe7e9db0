"""Pictures for the report, laid out here and written as inline SVG (no script needed to see them).

:func:`reply_graph_svg` draws who replies to whom: one node per author (area by comments
written), one edge per pair of authors who replied to each other (width by replies, colour by the
stance most of those replies took), the pairs of the argument chains drawn over a highlight. Every
node and edge is an SVG ``<a>`` to a comment of the report. :func:`turn_svg` and
:func:`chain_sparkline` are the small charts of the chain view.

All user text (author names) is escaped and shown with its invisible controls made visible; the
SVG carries no script, no event attribute and no remote reference.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import markupsafe
import networkx as nx

STANCE_COLOURS = {
    "agree": "#1f6b3a",
    "disagree": "#b3261e",
    "neutral": "#8a949e",
    "query": "#0b57a4",
}
NO_STANCE = "#b8c0c8"
LEVEL_COLOURS = {"low": "#3b8f58", "medium": "#c98a00", "high": "#b3261e"}
LABEL_CHARS = 18
MAX_AUTHORS = 300  # drawn at most (about a second of layout)
MAX_LABELS = 30  # the most active authors (and every chain's pair) are named; the rest in tooltips
SEED = 7


def _e(text: object) -> markupsafe.Markup:
    return markupsafe.escape(text)


@dataclass
class Edge:
    """The replies between two authors (either way)."""

    a: str
    b: str
    stances: Counter[str] = field(default_factory=Counter)
    first_id: str = ""

    @property
    def replies(self) -> int:
        return sum(self.stances.values())

    @property
    def stance(self) -> str:
        """The stance most replies took (ties: the first in agree, disagree, neutral, query order)."""
        if not self.stances:
            return ""
        best = max(self.stances.values())
        order = [s for s in (*STANCE_COLOURS, "") if self.stances.get(s) == best]
        return order[0] if order else ""


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply as the graph needs it."""

    comment_id: str
    author: str | None
    parent_author: str | None
    stance: str | None


def author_edges(replies: Iterable[Reply]) -> tuple[Counter[str], dict[str, str], list[Edge]]:
    """Comments per author, each author's first comment id, and the edges between authors
    (self-replies and unknown authors left out), in first-reply order."""
    activity: Counter[str] = Counter()
    first: dict[str, str] = {}
    edges: dict[frozenset[str], Edge] = {}
    for r in replies:
        if r.author is None:
            continue
        activity[r.author] += 1
        first.setdefault(r.author, r.comment_id)
        if r.parent_author is None or r.parent_author == r.author:
            continue
        key = frozenset((r.author, r.parent_author))
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = Edge(r.parent_author, r.author, Counter(), r.comment_id)
        edge.stances[r.stance or ""] += 1
    return activity, first, list(edges.values())


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    """One scan of the process's BLAS libraries: ``threadpool_limits`` rescans /proc/self/maps on
    every call, 3 ms, which was half of rendering a thread of five comments."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _component_layout(g: nx.Graph) -> dict[str, tuple[float, float]]:
    """One connected component in [0, 1]²: Kamada-Kawai (deterministic), spring for big ones."""
    n = g.number_of_nodes()
    if n == 1:
        return {next(iter(g.nodes)): (0.5, 0.5)}
    if n <= 150:  # about a second at 150
        # its solver makes many tiny BLAS calls: on 2 BLAS threads a busy machine spent 78% of the
        # report's time waiting in them (17-25 s -> 2 s for 200 threads' reports with one thread)
        with _blas_controller().limit(limits=1, user_api="blas"):
            pos = nx.kamada_kawai_layout(g)
    else:  # seeded, so the same thread gives the same picture
        pos = nx.spring_layout(g, seed=SEED, k=1.5 / math.sqrt(n), iterations=100 if n <= 150 else 50)
    xs = [float(p[0]) for p in pos.values()]
    ys = [float(p[1]) for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    dx, dy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    return {str(k): ((float(p[0]) - x0) / dx, (float(p[1]) - y0) / dy) for k, p in pos.items()}


def _layout(nodes: Sequence[str], edges: Sequence[Edge]) -> dict[str, tuple[float, float]]:
    """Every node in [0, 1]²: the biggest connected group on the left, the other groups in a grid
    on the right, authors who replied to no one in a band at the bottom."""
    g = nx.Graph()
    g.add_nodes_from(nodes)
    for e in edges:
        g.add_edge(e.a, e.b, weight=float(e.replies))
    order = {n: i for i, n in enumerate(nodes)}
    comps = sorted(
        (sorted(c, key=order.__getitem__) for c in nx.connected_components(g)), key=lambda c: (-len(c), order[c[0]])
    )
    groups = [c for c in comps if len(c) > 1]
    loners = [c[0] for c in comps if len(c) == 1]
    band = 0.0 if not loners else 1.0 if not groups else min(0.3, 0.08 * math.ceil(len(loners) / 10))
    pos: dict[str, tuple[float, float]] = {}

    def place(part: dict[str, tuple[float, float]], x: float, y: float, w: float, h: float) -> None:
        for n, (u, v) in part.items():
            pos[n] = (x + (0.1 + 0.8 * u) * w, y + (0.1 + 0.8 * v) * h)

    if groups:
        total = sum(len(c) for c in groups)
        first_w = 1.0 if len(groups) == 1 else max(0.5, min(0.8, len(groups[0]) / total))
        place(_component_layout(g.subgraph(groups[0])), 0.0, 0.0, first_w, 1.0 - band)
        rest = groups[1:]
        if rest:
            cols = math.ceil(math.sqrt(len(rest)))
            rows = math.ceil(len(rest) / cols)
            w, h = (1.0 - first_w) / cols, (1.0 - band) / rows
            for i, c in enumerate(rest):
                place(_component_layout(g.subgraph(c)), first_w + (i % cols) * w, (i // cols) * h, w, h)
    if loners:
        cols = min(10, len(loners))
        rows = math.ceil(len(loners) / cols)
        for i, n in enumerate(loners):
            pos[n] = ((i % cols + 0.5) / cols, 1.0 - band + band * (i // cols + 0.5) / rows)
    return pos


def _label(name: str, shown_text: Callable[[object], str]) -> str:
    text = shown_text(name)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def reply_graph_svg(
    replies: Iterable[Reply],
    chain_pairs: Iterable[tuple[str, str]],
    anchor: Callable[[str], str],
    shown_text: Callable[[object], str],
    width: int = 960,
    height: int = 560,
) -> markupsafe.Markup:
    """The reply graph between authors as one ``<svg>`` element ('' when no author is known)."""
    activity, first, edges = author_edges(replies)
    if not activity:
        return markupsafe.Markup("")
    nodes = sorted(activity, key=lambda n: (-activity[n], n))
    pairs = {frozenset(p) for p in chain_pairs}
    in_chain = {n for p in pairs for n in p}
    everyone = len(nodes)
    if everyone > MAX_AUTHORS:  # the layout is quadratic: the most active (and every chain's pair) only
        keep = set(nodes[:MAX_AUTHORS]) | (in_chain & set(nodes))
        nodes = [n for n in nodes if n in keep]
        edges = [e for e in edges if e.a in keep and e.b in keep]
    pos = _layout(nodes, edges)
    most = max(activity.values())
    pad = 70.0
    height = 360 if len(nodes) <= 6 else max(height, min(1100, 12 * len(nodes)))
    scale = 1.0 if len(nodes) <= 30 else math.sqrt(30 / len(nodes))
    labelled = set(nodes[:MAX_LABELS]) | in_chain

    def radius(n: str) -> float:
        return (4.0 + 17.0 * math.sqrt(activity[n] / most)) * scale

    def xy(n: str) -> tuple[float, float]:
        x, y = pos[n]
        return pad + x * (width - 2 * pad), pad * 0.6 + y * (height - 1.4 * pad)

    most_replies = max((e.replies for e in edges), default=1)
    out: list[str] = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="graph-title">',
        f'<title id="graph-title">Reply graph: {len(nodes)} authors'
        + (f" (the most active of {everyone})" if everyone > len(nodes) else "")
        + f", {len(edges)} pairs who replied to each other, {len(pairs)} argument chains highlighted</title>",
    ]
    # highlight under the chains' edges first, then edges, then nodes (on top)
    for e in edges:
        if frozenset((e.a, e.b)) in pairs:
            (x1, y1), (x2, y2) = xy(e.a), xy(e.b)
            w = 2.0 + 6.0 * e.replies / most_replies + 8.0
            out.append(
                f'<line class="chain-halo" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="#ffd23f" stroke-opacity="0.8" stroke-width="{w:.1f}" stroke-linecap="round"/>'
            )
    for e in edges:
        (x1, y1), (x2, y2) = xy(e.a), xy(e.b)
        w = 1.5 + 6.0 * e.replies / most_replies
        colour = STANCE_COLOURS.get(e.stance, NO_STANCE)
        chain = frozenset((e.a, e.b)) in pairs
        mix = ", ".join(f"{n} {s or 'no stance'}" for s, n in e.stances.most_common())
        n_replies = f"{e.replies} repl{'y' if e.replies == 1 else 'ies'}"
        title = f"{shown_text(e.a)} ↔ {shown_text(e.b)}: {n_replies} ({mix})" + (" · argument chain" if chain else "")
        out.append(
            f'<a href="#{_e(anchor(e.first_id))}" class="edge{" chain" if chain else ""}" '
            f'data-stance="{_e(e.stance or "none")}">'
            f"<title>{_e(title)}</title>"
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="{w:.1f}" stroke-linecap="round" stroke-opacity="0.85"/></a>'
        )
    for n in nodes:
        x, y = xy(n)
        r = radius(n)
        count = activity[n]
        title = f"{shown_text(n)}: {count} comment{'' if count == 1 else 's'}"
        out.append(
            f'<a href="#{_e(anchor(first[n]))}" class="node">'
            f"<title>{_e(title)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{"#fff3bf" if n in in_chain else "#dbe6f3"}" '
            'stroke="#1d232b" stroke-width="1.2"/>'
            + (
                f'<text x="{x:.1f}" y="{y + r + 13:.1f}" text-anchor="middle" font-size="13" fill="#1d232b">'
                f"{_e(_label(n, shown_text))}</text>"
                if n in labelled
                else ""
            )
            + "</a>"
        )
    out.append("</svg>")
    return markupsafe.Markup("".join(out))


def turn_svg(toxicity: float | None, level: str | None, stance: str | None) -> markupsafe.Markup:
    """A turn's toxicity as a bar (0 to 1) with its stance as a coloured dot in front."""
    parts = [
        '<svg class="turn-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 84 14" width="84" height="14" '
        'aria-hidden="true">',
        f'<circle cx="6" cy="7" r="5" fill="{STANCE_COLOURS.get(stance or "", NO_STANCE)}"/>',
        '<rect x="16" y="3" width="66" height="8" fill="#eef1f4" stroke="#d5dae0"/>',
    ]
    if toxicity is not None:
        w = 66.0 * min(max(float(toxicity), 0.0), 1.0)
        parts.append(f'<rect x="16" y="3" width="{w:.1f}" height="8" fill="{LEVEL_COLOURS.get(level or "", "#888")}"/>')
    parts.append("</svg>")
    return markupsafe.Markup("".join(parts))


def chain_sparkline(
    points: Sequence[tuple[str, float | None, str | None]],
    anchor: Callable[[str], str],
    flag: float,
    width_per_turn: int = 44,
    height: int = 64,
) -> markupsafe.Markup:
    """Toxicity turn by turn (a line, the flag threshold dashed), each turn a dot in its stance's
    colour linking to its comment. ``points`` are (comment id, toxicity or None, stance or None)."""
    if not points:
        return markupsafe.Markup("")
    width = max(2, len(points)) * width_per_turn
    top, bottom = 8.0, height - 8.0

    def y(v: float) -> float:
        return bottom - (bottom - top) * min(max(v, 0.0), 1.0)

    def x(i: int) -> float:
        return width_per_turn / 2 + i * width_per_turn

    out = [
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="toxicity and stance per turn">',
        f'<line x1="0" x2="{width}" y1="{y(flag):.1f}" y2="{y(flag):.1f}" stroke="#b3261e" '
        'stroke-dasharray="3 3" stroke-width="1"/>',
    ]
    line = [f"{x(i):.1f},{y(t):.1f}" for i, (_, t, _) in enumerate(points) if t is not None]
    if len(line) > 1:
        out.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="#56606b" stroke-width="1.5"/>')
    for i, (cid, tox, stance) in enumerate(points):
        cy = y(tox) if tox is not None else bottom
        tip = f"turn {i + 1}: {stance or 'no stance'}, toxicity " + ("–" if tox is None else f"{tox:.2f}")
        out.append(
            f'<a href="#{_e(anchor(cid))}"><title>{_e(tip)}</title>'
            f'<circle cx="{x(i):.1f}" cy="{cy:.1f}" r="5" fill="{STANCE_COLOURS.get(stance or "", NO_STANCE)}" '
            'stroke="#fff" stroke-width="1"/></a>'
        )
    out.append("</svg>")
    return markupsafe.Markup("".join(out))
