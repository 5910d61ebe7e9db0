"""Measure reply-link and author recovery from flat text against threads whose structure is known.

A thread with true parent links (a Reddit export, say) is rendered as scraped flat text
(preorder, as scrapers flatten nested sections), optionally with some author lines
dropped, parsed back with :func:`~discourse.formats.flat.parse_flat` and run through
:func:`~discourse.stages.reply_graph.links.infer_structure`. Parsed comments are matched to the
originals by their (cleaned) text, so a parse that splits or merges comments is counted
as wrong rather than silently realigned.

Reported per thread and pooled: comments recovered whole, parent accuracy (overall,
for top-level and for nested comments, by depth), author accuracy (on kept author lines and on
dropped ones) and the precision of the inferred names, the calibration of the link confidences
(ECE), and two baselines: "every comment answers the article" and "every comment answers the
one before it". Each thread is given a kind from its true tree (:func:`thread_kind`) so the
numbers can be pooled by kind.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from discourse.core.thread import Comment, Thread
from discourse.formats.flat import parse_flat
from discourse.formats.render_flat import clean_text, render_flat, with_markers
from discourse.stages.reply_graph.links import ReplyWeights, infer_structure
from discourse.stages.reply_graph.scorer import LinkScorer

LOW_CONFIDENCE = 0.7
"""Attention's default ``link_confidence``: a flagged comment whose link is less sure gets LOW_CONFIDENCE_LINK."""

Embed = Callable[[Sequence[str]], np.ndarray]
"""texts -> (n, dim) L2-normalised vectors; index 0 is the article."""


@dataclass
class Counts:
    comments: int = 0
    whole: int = 0
    parent_ok: int = 0
    top_level: int = 0
    top_level_ok: int = 0
    nested: int = 0
    nested_ok: int = 0
    kept_authors: int = 0
    kept_authors_ok: int = 0
    dropped_authors: int = 0
    dropped_authors_ok: int = 0
    dropped_authors_named: int = 0  # an author was inferred at all (right or wrong)
    baseline_root_ok: int = 0
    baseline_previous_ok: int = 0
    layout_ok: int = 0  # threads whose layout was detected right
    marked: int = 0  # comments with an explicit reply marker on the page
    marked_ok: int = 0  # ... whose parent was right
    threads: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    by_depth: Counter[str] = field(default_factory=Counter)  # "d3" comments at depth 3, "d3_ok" right
    links: list[tuple[float, bool]] = field(default_factory=list)  # (confidence, right) per inferred link

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            if name in ("threads", "kinds", "links"):
                getattr(self, name).extend(getattr(other, name))
            elif name == "by_depth":
                self.by_depth.update(other.by_depth)
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))

    def depth_rates(self, cap: int = 4) -> dict[str, float]:
        """Parent accuracy by true depth (0 = top level; ``cap`` and deeper pooled)."""
        out: dict[str, float] = {}
        for d in range(cap + 1):
            keys = [
                k for k in self.by_depth if not k.endswith("_ok") and (int(k[1:]) >= cap if d == cap else k == f"d{d}")
            ]
            n = sum(self.by_depth[k] for k in keys)
            ok = sum(self.by_depth[k + "_ok"] for k in keys)
            if n:
                out[f"{d}+" if d == cap else str(d)] = round(ok / n, 4)
        return out

    def ece(self, bins: int = 10) -> float:
        """Expected calibration error of the link confidences (equal-width bins)."""
        if not self.links:
            return float("nan")
        total = 0.0
        for b in range(bins):
            lo, hi = b / bins, (b + 1) / bins
            sel = [(c, ok) for c, ok in self.links if lo <= c < hi or (b == bins - 1 and c == 1.0)]
            if sel:
                total += (
                    len(sel)
                    / len(self.links)
                    * abs(sum(c for c, _ in sel) / len(sel) - sum(ok for _, ok in sel) / len(sel))
                )
        return round(total, 4)

    def rates(self) -> dict[str, float | int]:
        def r(a: int, b: int) -> float:
            return round(a / b, 4) if b else float("nan")

        low = [(c, ok) for c, ok in self.links if c < LOW_CONFIDENCE]

        return {
            "threads": len(self.threads),
            "comments": self.comments,
            "recovered_whole": r(self.whole, self.comments),
            "parent_accuracy": r(self.parent_ok, self.comments),
            "parent_accuracy_top_level": r(self.top_level_ok, self.top_level),
            "parent_accuracy_nested": r(self.nested_ok, self.nested),
            "author_accuracy_kept": r(self.kept_authors_ok, self.kept_authors),
            "dropped_authors": self.dropped_authors,
            "author_accuracy_dropped": r(self.dropped_authors_ok, self.dropped_authors),
            "dropped_authors_inferred": r(self.dropped_authors_named, self.dropped_authors),
            "author_precision_inferred": r(self.dropped_authors_ok, self.dropped_authors_named),
            "layout_detected": r(self.layout_ok, len(self.threads)),
            "marked_comments": self.marked,
            "parent_accuracy_marked": r(self.marked_ok, self.marked),
            "baseline_all_top_level": r(self.baseline_root_ok, self.comments),
            "baseline_previous_comment": r(self.baseline_previous_ok, self.comments),
            "link_ece": self.ece(),
            "mean_confidence": round(sum(c for c, _ in self.links) / len(self.links), 4)
            if self.links
            else float("nan"),
            "low_confidence_share": r(len(low), len(self.links)),  # links under LOW_CONFIDENCE (flagged)
            "accuracy_low_confidence": r(sum(ok for _, ok in low), len(low)),
            "accuracy_high_confidence": r(
                sum(ok for c, ok in self.links if c >= LOW_CONFIDENCE), len(self.links) - len(low)
            ),
        }


KINDS = ("two-person", "chat", "forum")


def thread_kind(thread: Thread) -> str:
    """``two-person`` (two authors write 90% or more of 4+ comments), ``chat`` (median comment
    under 80 characters: IRC, tweets), else ``forum``."""
    authors = Counter(c.author for c in thread.comments if c.author)
    n = len(thread.comments)
    if n >= 4 and sum(k for _, k in authors.most_common(2)) >= 0.9 * n:
        return "two-person"
    lengths = sorted(len(c.text) for c in thread.comments)
    if lengths and lengths[len(lengths) // 2] < 80:
        return "chat"
    return "forum"


def pooled(counts: Sequence[Counts]) -> Counts:
    total = Counts()
    for c in counts:
        total.add(c)
    return total


def summary(counts: Sequence[Counts]) -> dict[str, Any]:
    """Pooled rates, by depth, and by thread kind."""
    total = pooled(counts)
    kinds = {k: pooled([c for c in counts if c.kinds == [k]]) for k in KINDS}
    return {
        **total.rates(),
        "by_depth": total.depth_rates(),
        "by_kind": {k: v.rates() for k, v in kinds.items() if v.comments},
    }


def renderable(thread: Thread) -> Thread:
    """The comments a flat rendering can carry: reachable from the article (preorder),
    with non-empty text, and an author; a comment whose parent is dropped is dropped too."""
    keep: set[str] = set()
    out: list[Comment] = []
    for c in thread.traverse("preorder"):
        if not clean_text(c.text) or not c.author or (c.parent_id is not None and c.parent_id not in keep):
            continue
        keep.add(c.id)
        out.append(c)
    return Thread(
        id=thread.id,
        title=thread.title,
        comments=tuple(out),
        article=thread.article,
        source_format=thread.source_format,
    )


def evaluate_thread(
    thread: Thread,
    drop_fraction: float = 0.0,
    seed: int = 0,
    embed: Embed | None = None,
    weights: ReplyWeights | LinkScorer | None = None,
    beam: int = 8,
    layout: str = "reference",
    markers: float = 0.0,
) -> Counts:
    """One thread rendered flat in ``layout`` (``markers``: the share of replies that carry an
    explicit marker, see :func:`rendering`), parsed back (its layout auto-detected) and rebuilt."""
    truth = renderable(thread)
    rng = random.Random(f"{seed}:{thread.id}")
    dropped = {c.id for c in truth.comments if rng.random() < drop_fraction}
    truth, flat = rendering(truth, layout, markers, seed, lambda c: c.id in dropped)
    parsed = parse_flat(flat, thread.id)
    vectors = article = title = None
    if embed is not None:
        v = embed([parsed.article or parsed.title] + [c.text for c in parsed.comments])
        vectors, article, title = v[1:], (v[0] if parsed.article else None), (None if parsed.article else v[0])
    got = infer_structure(parsed, vectors, article, weights, beam=beam, title_vector=title)

    # match parsed comments to originals by cleaned text, in order
    pool: dict[str, list[str]] = {}
    for c in truth.comments:
        pool.setdefault(match_key(c.text), []).append(c.id)
    to_true: dict[str, str] = {}
    for c in got.comments:
        ids = pool.get(match_key(c.text))
        if ids:
            to_true[c.id] = ids.pop(0)
    true_by = truth.by_id()
    got_by_true = {to_true[c.id]: c for c in got.comments if c.id in to_true}

    n = Counts(threads=[thread.id], kinds=[thread_kind(truth)])
    n.layout_ok = int(parsed.meta.get("layout", {}).get("name") == layout)
    depth = truth.depth()
    order = [c.id for c in truth.comments]
    for k, tc in enumerate(truth.comments):
        n.comments += 1
        n.baseline_root_ok += tc.parent_id is None
        n.baseline_previous_ok += tc.parent_id == (order[k - 1] if k else None)
        top = tc.parent_id is None
        n.top_level += top
        n.nested += not top
        gc = got_by_true.get(tc.id)
        if gc is None:
            (
                n.__setattr__("dropped_authors", n.dropped_authors + 1)
                if tc.id in dropped
                else n.__setattr__("kept_authors", n.kept_authors + 1)
            )
            continue
        n.whole += 1
        parent = None if gc.parent_id is None else to_true.get(gc.parent_id, "?")
        ok = parent == tc.parent_id
        n.parent_ok += ok
        n.top_level_ok += ok and top
        n.nested_ok += ok and not top
        d = depth.get(tc.id, 1) - 1  # 0 = top level
        n.by_depth[f"d{d}"] += 1
        n.by_depth[f"d{d}_ok"] += ok
        n.links.append((float(gc.parent_confidence), ok))
        if any(k in gc.meta for k in ("reply_to", "quoted", "depth")):
            n.marked += 1
            n.marked_ok += ok
        if tc.id in dropped:
            n.dropped_authors += 1
            n.dropped_authors_named += gc.author is not None
            n.dropped_authors_ok += _same_author(gc.author, true_by[tc.id].author)
        else:
            n.kept_authors += 1
            n.kept_authors_ok += _same_author(gc.author, true_by[tc.id].author)
    return n


MARKER_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "reference": (("mention", "quote"), "@"),
    "disqus": (("mention", "quote"), "@"),
    "reddit": (("mention", "quote"), "u/"),
    "forum": (("mention", "quote", "in reply to"), "@"),
}
"""What repliers type on each layout's pages (and how they name someone); ``in reply to`` is
printed by the forum itself."""


def rendering(
    truth: Thread,
    layout: str = "reference",
    markers: float = 0.0,
    seed: int = 0,
    drop: Callable[[Comment], bool] | None = None,
) -> tuple[Thread, str]:
    """The thread as the page shows it (a ``markers`` share of replies open with a typed marker
    or, on a forum, carry "in reply to X") and its flat text in ``layout``."""
    kinds, handle = MARKER_KINDS.get(layout, (("mention", "quote"), "@"))
    shown = with_markers(truth, markers, kinds, seed, handle) if markers else truth
    flat = render_flat(shown, drop_author=drop, layout=layout, reply_to=lambda c: c.meta.get("marker") == "in reply to")
    return shown, flat


def match_key(text: str) -> str:
    """Text as flat rendering keeps it: trailing spaces of lines are not preserved."""
    return "\n".join(line.rstrip() for line in clean_text(text.replace("\r\n", "\n")).split("\n"))


def _same_author(got: str | None, want: str | None) -> bool:
    """Exact, or the inferred name is a token of the true display name ("John" for "John Smith")."""
    if got is None or want is None:
        return False
    if got == want:
        return True
    tokens = {t.lower() for t in want.replace("_", " ").replace("-", " ").split()}
    return got.lower() in tokens or got.lower() == want.lower()


def evaluate(
    threads: Sequence[Thread],
    drop_fraction: float = 0.0,
    seed: int = 0,
    embed: Embed | None = None,
    weights: ReplyWeights | LinkScorer | None = None,
    beam: int = 8,
    layout: str = "reference",
    markers: float = 0.0,
) -> Counts:
    total = Counts()
    for t in threads:
        total.add(evaluate_thread(t, drop_fraction, seed, embed, weights, beam, layout, markers))
    return total
