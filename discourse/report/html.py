"""The moderator's HTML report (one self-contained file) and the batch index.

Templates live in ``templates/``; ``style.css`` is included verbatim into a <style> element
(included template source is not escaped, unlike values). The
jinja2 environment autoescapes everything, and comment text only ever reaches a
template as a plain string, so a comment holding markup shows as text. Line breaks
are kept with CSS ``white-space: pre-wrap``, never by inserting tags. A
Content-Security-Policy meta tag forbids remote loads and every script but our own as a second
fence: the page's one inline script (``report.js``/``index.js``, filters and sorting) is allowed by
the sha256 of its exact bytes, computed here at render time; with scripts off the page shows
everything. The reply graph and the chain charts are inline SVG laid out in Python (:mod:`.svg`);
a comment's own Markdown is rendered through an allow-list sanitiser (:mod:`.markup`) with the
verbatim text one click away.

User text cannot reorder the page around it: names and titles sit in ``<bdi>`` and text blocks
carry ``dir="auto"`` (both isolate bidirectional text). In names, titles and file names (the
``shown`` filter) an invisible control, such as U+202E RIGHT-TO-LEFT OVERRIDE that makes
"\u202enimda" look like "admin", is replaced by a visible ``<U+202E>`` marker; comment text is
shown verbatim (isolated), and analysis.json always keeps the verbatim text.

This module turns an Analysis into small view records (what the templates show);
the templates only lay them out.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import jinja2
import markupsafe

from discourse.core.analysis import SCHEMA_VERSION, Analysis
from discourse.core.config import OutputConfig
from discourse.core.layers import layer_spec
from discourse.core.thread import Comment
from discourse.report import svg
from discourse.report.markup import SITES, rendered
from discourse.stages.attention import AttentionConfig
from discourse.stages.chains.result import Chain, Turn
from discourse.stages.stance.result import StanceResult
from discourse.stages.target_stance.result import TargetStance
from discourse.stages.toxicity.result import ToxicityResult

SHOWN = frozenset({"toxicity", "stance", "chains", "attention", "target_stance"})
"""Layers the report lays out itself; any other public layer (a plug-in's) is shown as data."""

TEMPLATES = Path(__file__).parent / "templates"
MAX_INDENT = 8  # deeper replies stop moving right; their depth is printed instead
SNIPPET_CHARS = 160
_SAFE_ID = re.compile(r"[A-Za-z0-9_.:-]")
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
"""Shown as ``<U+XXXX>`` in names: C0/C1 controls, the bidirectional marks, embeddings, overrides
and isolates (U+061C, U+200E/F, U+202A-E, U+2066-9), and zero-width space, word joiner and BOM.
Zero-width (non-)joiners stay: emoji sequences and several scripts need them."""


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["f2"] = lambda v: f"{float(v):.2f}"
    env.filters["shown"] = shown
    env.filters["shown_text"] = shown_text
    env.globals["anchor"] = anchor
    env.globals["turn_svg"] = svg.turn_svg
    return env


def shown(name: object) -> markupsafe.Markup:
    """A name as the report shows it: escaped, every :data:`INVISIBLE` character replaced by a
    visible ``<U+XXXX>`` marker (``<span class="ctl">``)."""
    text = "" if name is None else str(name)
    parts: list[str] = []
    pos = 0
    for m in INVISIBLE.finditer(text):
        parts.append(markupsafe.escape(text[pos : m.start()]))
        marker = f"&lt;U+{ord(m.group()):04X}&gt;"  # hex digits only: safe as markup
        parts.append(markupsafe.Markup(f'<span class="ctl" title="invisible control character">{marker}</span>'))
        pos = m.end()
    parts.append(markupsafe.escape(text[pos:]))
    return markupsafe.Markup("").join(parts)


def shown_text(name: object) -> str:
    """:func:`shown` as plain text, for where no markup can go (``<title>``)."""
    return INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", "" if name is None else str(name))


def anchor(comment_id: str) -> str:
    """The HTML id of a comment: ``c-<id>``; characters outside [A-Za-z0-9_.:-] become ``~hex~``."""
    return "c-" + "".join(ch if _SAFE_ID.fullmatch(ch) else f"~{ord(ch):x}~" for ch in comment_id)


# -- view records ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ToxBadge:
    score: float
    level: str  # low | medium | high
    top: tuple[tuple[str, float], ...]
    evidence: tuple[str, ...]
    model: str


@dataclass(frozen=True, slots=True)
class StanceBadge:
    label: str
    score: float
    target_id: str | None
    evidence: tuple[str, ...]
    model: str


@dataclass(frozen=True, slots=True)
class CommentView:
    id: str
    author: str | None
    author_inferred: bool
    author_evidence: str | None
    parent_id: str | None
    parent_author: str | None
    parent_confidence: float
    parent_evidence: tuple[str, ...]
    depth: int
    indent: int
    attached: bool  # False: its parent is missing or it sits in a reply cycle
    created: str | None
    text: str
    toxicity: ToxBadge | None
    stance: StanceBadge | None
    extra: tuple[tuple[str, str], ...] = ()  # other comment-level layers: (name, compact JSON)
    html: markupsafe.Markup | None = None  # the comment's own markup, sanitised (None: plain text)
    permalink: str | None = None  # the comment on its site (absolute http(s) only)
    flags: tuple[tuple[str, str], ...] = ()  # (css class, words): deleted, removed, stickied, moderator ...
    score: int | None = None  # the site's vote score, when the export has it
    targets: tuple[TargetStance, ...] = ()  # stance toward each configured target it names

    @property
    def labels(self) -> str:
        """Space-separated words the label filter matches."""
        words = []
        if self.stance:
            words.append(self.stance.label)
        if self.toxicity:
            words.append(f"tox-{self.toxicity.level}")
        words.extend(cls for cls, _ in self.flags)
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class Thresholds:
    flag: float
    watch: float

    @classmethod
    def default(cls) -> Thresholds:
        return cls(AttentionConfig.flag_threshold, AttentionConfig.watch_threshold)

    @classmethod
    def of(cls, analysis: Analysis) -> Thresholds:
        """The thresholds the attention stage used (its defaults when it did not run)."""
        queue = analysis.layer("attention")
        if queue is None:
            return cls.default()
        return cls(float(queue.flag_threshold), float(queue.watch_threshold))

    def level(self, score: float) -> str:
        return "high" if score >= self.flag else "medium" if score >= self.watch else "low"


def tox_badge(result: ToxicityResult | None, th: Thresholds) -> ToxBadge | None:
    if result is None:
        return None
    top = sorted(((k, float(v)) for k, v in result.labels.items() if float(v) >= th.watch), key=lambda kv: -kv[1])
    return ToxBadge(
        float(result.score), th.level(float(result.score)), tuple(top[:3]), tuple(result.evidence), result.model
    )


def stance_badge(result: StanceResult | None) -> StanceBadge | None:
    if result is None:
        return None
    score = float(result.scores.get(result.label, 0.0))
    return StanceBadge(result.label, score, result.target_id, tuple(result.evidence), result.model)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


_HTTP = re.compile(r"https?://", re.I)


def permalink(meta: Mapping[str, Any], source_format: str) -> str | None:
    """An absolute http(s) link to the comment on its site, from ``meta["permalink"]``/``["url"]``."""
    link = meta.get("permalink") or meta.get("url")
    if not isinstance(link, str) or not link.strip():
        return None
    link = link.strip()
    if link.startswith("/") and not link.startswith("//") and source_format in SITES:
        link = SITES[source_format] + link
    return link if _HTTP.match(link) else None


def comment_flags(meta: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """What the site said about a comment: deleted, removed, stickied, moderator/admin, the poster."""
    out = []
    if meta.get("deleted"):
        out.append(("deleted", "author deleted"))
    if meta.get("body_deleted"):
        out.append(("deleted", "text deleted"))
    if meta.get("body_removed") or meta.get("removed"):
        out.append(("removed", "removed"))
    if meta.get("stickied"):
        out.append(("stickied", "stickied"))
    distinguished = meta.get("distinguished")
    if isinstance(distinguished, str) and distinguished:
        out.append(("moderator" if distinguished == "moderator" else "distinguished", distinguished))
    if meta.get("is_submitter"):
        out.append(("op", "original poster"))
    return tuple(out)


def _score(meta: Mapping[str, Any]) -> int | None:
    v = meta.get("score")
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


@dataclass(frozen=True, slots=True)
class TreeOrder:
    """Every comment once, in the order the report's tree lists them: reply-tree preorder, then
    the unattached ones (missing parent, cycle) at depth 1. Holds references, not copies."""

    comments: list[Comment]
    depth: dict[str, int]
    attached: set[str]

    @classmethod
    def of(cls, thread: Any) -> TreeOrder:
        depth: dict[str, int] = {}
        order: list[Comment] = []
        for c in thread.traverse("preorder"):
            if c.id in depth:  # duplicate ids: show the first
                continue
            depth[c.id] = 1 if c.parent_id is None else depth[c.parent_id] + 1
            order.append(c)
        attached = set(depth)
        for c in thread.comments:
            if c.id not in depth:
                depth[c.id] = 1
                order.append(c)
        return cls(order, depth, attached)


def comment_views(
    analysis: Analysis, th: Thresholds, limit: int = 0, tree: TreeOrder | None = None
) -> list[CommentView]:
    """Every comment once, in reply-tree preorder; unattached comments (missing parent,
    cycle) follow at depth 1. With ``limit`` > 0, only the first ``limit`` of that order."""
    thread = analysis.thread
    byid = thread.by_id()
    tree = tree or TreeOrder.of(thread)
    order = tree.comments[:limit] if limit > 0 else tree.comments
    depth, attached = tree.depth, tree.attached
    extra = [n for n in analysis.public_layers("comment") if n not in SHOWN]
    views = []
    for c in order:
        parent = byid.get(c.parent_id) if c.parent_id is not None else None
        views.append(
            CommentView(
                id=c.id,
                author=c.author,
                author_inferred=c.author_inferred,
                author_evidence=c.meta.get("author_evidence"),
                parent_id=c.parent_id,
                parent_author=parent.author if parent else None,
                parent_confidence=float(c.parent_confidence),
                parent_evidence=tuple(c.parent_evidence),
                depth=depth[c.id],
                indent=min(depth[c.id] - 1, MAX_INDENT),
                attached=c.id in attached,
                created=c.created,
                text=c.text,
                toxicity=tox_badge(analysis.get(c.id, "toxicity"), th),
                stance=stance_badge(analysis.get(c.id, "stance")),
                extra=tuple((n, _compact(layer_spec(n).to_json(analysis.get(c.id, n)))) for n in extra),
                html=rendered(c.text, thread.source_format),
                permalink=permalink(c.meta, thread.source_format),
                flags=comment_flags(c.meta),
                score=_score(c.meta),
                targets=tuple(analysis.get(c.id, "target_stance") or ()),
            )
        )
    return views


@dataclass(frozen=True, slots=True)
class AttentionView:
    comment_id: str
    priority: float
    level: str
    reasons: tuple[str, ...]
    author: str | None
    snippet: str
    exists: bool
    codes: tuple[str, ...] = ()
    target: str | None = None


def attention_views(analysis: Analysis, th: Thresholds) -> list[AttentionView]:
    byid = analysis.thread.by_id()
    items = sorted(analysis.layer("attention") or (), key=lambda a: -a.priority)  # stable: ties keep stage order
    out = []
    for a in items:
        c = byid.get(a.comment_id)
        out.append(
            AttentionView(
                a.comment_id,
                float(a.priority),
                th.level(float(a.priority)),
                tuple(a.reasons),
                c.author if c else None,
                snippet(c.text) if c else "",
                c is not None,
                tuple(getattr(a, "codes", ())),
                getattr(a, "target", None),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class TurnView:
    turn: Turn
    tox: ToxBadge | None
    stance: StanceBadge | None
    side: int  # 0: the first participant's column, 1: the second's
    snippet: str
    chart: markupsafe.Markup

    @property
    def toxicity(self) -> float | None:
        return self.tox.score if self.tox else self.turn.toxicity

    @property
    def stance_label(self) -> str | None:
        return self.stance.label if self.stance else self.turn.stance


@dataclass(frozen=True, slots=True)
class ChainView:
    chain: Chain
    turns: tuple[TurnView, ...]  # the first CHAIN_TURNS of the chain
    sparkline: markupsafe.Markup  # every turn
    hidden: int = 0  # turns past CHAIN_TURNS, not laid out on the page


CHAIN_TURNS = 40
"""Turns of one chain laid out side by side (a chain of a huge thread has hundreds: 500 such chains
made a 67 MB page); the sparkline still shows every turn, analysis.json holds them all."""


def chain_views(analysis: Analysis, th: Thresholds, link: Callable[[str], str] = anchor) -> list[ChainView]:
    """The chains as the report shows them; ``link`` gives a comment's in-page target."""
    return list(iter_chain_views(analysis, th, link))


def iter_chain_views(
    analysis: Analysis,
    th: Thresholds,
    link: Callable[[str], str] = anchor,
    byid: Mapping[str, Comment] | None = None,
    chains: Sequence[Chain] | None = None,
) -> Iterator[ChainView]:
    """:func:`chain_views` one at a time (a huge thread has thousands of chains); ``chains``: only
    these (default: every chain of the analysis)."""
    byid = byid if byid is not None else analysis.thread.by_id()
    for ch in analysis.layer("chains", ()) if chains is None else chains:
        turns = []
        points = []
        for k, t in enumerate(ch.turns):
            tb = tox_badge(analysis.get(t.comment_id, "toxicity"), th)
            sb = stance_badge(analysis.get(t.comment_id, "stance"))
            tox = tb.score if tb else t.toxicity
            label = sb.label if sb else t.stance
            points.append((t.comment_id, tox, label))
            if k >= CHAIN_TURNS:
                continue
            c = byid.get(t.comment_id)
            chart = svg.turn_svg(tox, tb.level if tb else (th.level(tox) if tox is not None else None), label)
            side = 1 if t.author == ch.participants[1] else 0
            turns.append(TurnView(t, tb, sb, side, snippet(c.text, 400) if c else "", chart))
        spark = svg.chain_sparkline(points, link, th.flag)
        yield ChainView(ch, tuple(turns), spark, max(0, len(ch.turns) - CHAIN_TURNS))


@dataclass(frozen=True)
class Lazy:
    """A sequence the template walks once, made as it goes: true when it has items."""

    size: int
    make: Callable[[], Iterator[Any]]

    def __bool__(self) -> bool:
        return self.size > 0

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Any]:
        return self.make()


def reply_graph(
    analysis: Analysis, tree: TreeOrder | None = None, link: Callable[[str], str] = anchor
) -> markupsafe.Markup:
    """The authors' reply graph over every comment of the thread as inline SVG (see :mod:`.svg`);
    ``link`` gives a comment's in-page target."""
    byid = analysis.thread.by_id()
    tree = tree or TreeOrder.of(analysis.thread)

    def replies() -> Iterator[svg.Reply]:
        for c in tree.comments:
            parent = byid.get(c.parent_id) if c.parent_id is not None and c.id in tree.attached else None
            st = analysis.get(c.id, "stance")
            yield svg.Reply(c.id, c.author, parent.author if parent else None, st.label if st else None)

    pairs = [tuple(ch.participants) for ch in analysis.layer("chains", ())]
    return svg.reply_graph_svg(replies(), pairs, link, shown_text)


@lru_cache(maxsize=4)
def script(name: str) -> tuple[markupsafe.Markup, markupsafe.Markup]:
    """One of our inline scripts and its CSP source (``'sha256-...'`` of its exact bytes)."""
    code = (TEMPLATES / name).read_text(encoding="utf-8")
    if "</" in code:
        raise ValueError(f"{name}: '</' would end the inline <script> early")
    digest = base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode("ascii")
    return markupsafe.Markup(code), markupsafe.Markup(f"'sha256-{digest}'")  # base64: safe as markup


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


# -- rendering ---------------------------------------------------------------------------
def thread_about(thread: Any) -> dict[str, Any]:
    """What tells this thread apart from another with the same title: its id, where it was read
    from, when it started, and a link to it on its site (absolute http(s) only)."""
    created = thread.meta.get("created") or min((c.created for c in thread.comments if c.created), default=None)
    return {
        "id": thread.id,
        "source": thread.meta.get("source") or "",
        "subreddit": thread.meta.get("subreddit") or "",
        "created": str(created or ""),
        "permalink": permalink(thread.meta, thread.source_format),
    }


REPORT_COMMENTS = OutputConfig.report_comments
REPORT_CHAINS = OutputConfig.report_chains


def render_report(analysis: Analysis, max_comments: int = REPORT_COMMENTS, max_chains: int = REPORT_CHAINS) -> str:
    """The report for one thread: a single self-contained HTML page (see :func:`write_report`)."""
    buf = io.StringIO()
    write_report(analysis, buf, max_comments, max_chains)
    return buf.getvalue()


def write_report(
    analysis: Analysis, fh: TextIO, max_comments: int = REPORT_COMMENTS, max_chains: int = REPORT_CHAINS
) -> None:
    """Write the report for one thread to ``fh`` as it is rendered (never held whole).

    The comment tree lists the first ``max_comments`` comments in reply-tree order (0: all) and
    the chain section the ``max_chains`` longest chains (0: all), each saying so when the thread
    has more; the queue, the reply graph and the counts cover the whole thread, and comments.csv /
    analysis.json beside the page hold every comment and chain."""
    context = _report_context(analysis, max_comments, max_chains)
    for chunk in environment().get_template("report.html").generate(**context):
        fh.write(chunk)


def longest_chains(chains: Sequence[Chain], limit: int) -> Sequence[Chain]:
    """The ``limit`` chains with the most turns (ties: the earlier), in thread order; all when
    ``limit`` is 0 or there are no more than that."""
    if not limit or len(chains) <= limit:
        return chains
    keep = set(sorted(range(len(chains)), key=lambda i: (-len(chains[i].turns), i))[:limit])
    return [ch for i, ch in enumerate(chains) if i in keep]


def _report_context(analysis: Analysis, max_comments: int, max_chains: int = REPORT_CHAINS) -> dict[str, Any]:
    th = Thresholds.of(analysis)
    thread = analysis.thread
    attention = attention_views(analysis, th)
    tree = TreeOrder.of(thread)
    comments = comment_views(analysis, th, max_comments, tree)
    js, js_hash = script("report.js")
    counts = {
        "comments": len(thread.comments),
        "authors": len({c.author for c in thread.comments if c.author}),
        "chains": len(analysis.layer("chains", ())),
        "flagged": sum(1 for a in attention if a.priority >= th.flag),
    }
    chains = longest_chains(tuple(analysis.layer("chains", ())), max_chains)
    known_ids = {c.id for c in thread.comments}
    shown_ids = {c.id for c in comments} if len(comments) < len(tree.comments) else known_ids

    def link(cid: str) -> str:  # a comment past the cap: the note saying where it is
        return anchor(cid) if cid in shown_ids else "capped"

    return {
        "thread": thread,
        "counts": counts,
        "warnings": analysis.all_warnings(),
        "models": [m.to_json() for m in analysis.models],
        "schema_version": SCHEMA_VERSION,
        "attention": attention,
        "chains": Lazy(len(chains), lambda: iter_chain_views(analysis, th, link, chains=chains)),
        "chains_capped": {"shown": len(chains), "total": counts["chains"]} if len(chains) < counts["chains"] else None,
        "comments": comments,
        "capped": {"shown": len(comments), "total": len(tree.comments)} if shown_ids is not known_ids else None,
        "about": thread_about(thread),
        "graph": reply_graph(analysis, tree, link),
        "authors": sorted({c.author for c in comments if c.author is not None}, key=str.casefold),
        "low_confidence": sum(1 for c in comments if c.parent_id is not None and c.parent_confidence < 0.5),
        "script": js,
        "script_hash": js_hash,
        "known_ids": known_ids,
        "shown_ids": shown_ids,
        "thresholds": th,
        "extra_layers": [
            (n, layer_spec(n).doc, json.dumps(layer_spec(n).to_json(analysis.layer(n)), ensure_ascii=False, indent=2))
            for n in analysis.public_layers("thread")
            if n not in SHOWN
        ],
    }


def render_index(entries: Iterable[Mapping[str, Any]], digest: bool = False) -> str:
    """The batch index: one row per thread (keys as written by ``discourse.batch``:
    folder, title, source, comments, chains, flagged, max_toxicity, status, error; thread_id,
    created and source_format are shown when present); ``digest``: link ./digest.html."""
    rows: list[dict[str, Any]] = []
    for e in entries:
        folder = str(e.get("folder") or "")
        status = str(e.get("status") or "ok")
        rows.append(
            {
                "href": f"./{quote(folder, safe='/')}/report.html" if folder and status == "ok" else "",
                "title": str(e.get("title") or folder or "(untitled)"),
                "source": str(e.get("source") or ""),
                "comments": int(e.get("comments") or 0),
                "chains": int(e.get("chains") or 0),
                "flagged": int(e.get("flagged") or 0),
                "max_toxicity": float(e.get("max_toxicity") or 0.0),
                "status": status,
                "error": str(e.get("error") or ""),
                "thread_id": str(e.get("thread_id") or ""),
                "created": str(e.get("created") or ""),
                "source_format": str(e.get("source_format") or ""),
            }
        )
    titles = Counter(r["title"] for r in rows)
    for r in rows:  # threads with the same title are told apart by their id, source and date
        r["same_title"] = titles[r["title"]] > 1
    # what needs a moderator first: most flagged, then most toxic; failures last
    rows.sort(key=lambda r: (r["status"] != "ok", -r["flagged"], -r["max_toxicity"], r["title"]))
    th = Thresholds.default()
    js, js_hash = script("index.js")
    return (
        environment()
        .get_template("index.html")
        .render(
            rows=rows,
            script=js,
            script_hash=js_hash,
            failed=sum(1 for r in rows if r["status"] != "ok"),
            thresholds=th,
            digest=digest,
        )
    )
