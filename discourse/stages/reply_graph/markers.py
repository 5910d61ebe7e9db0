"""Explicit reply markers the page kept, as constraints on a comment's parent.

The flat parser (:mod:`discourse.formats.markers`, the layout profiles) leaves in a comment's
``meta``: ``depth`` ("level 3": 1 = top level), ``reply_to`` (the author named by "in reply to X",
"@X" on its own line or "X wrote:") and ``quoted`` (the text of a "> ..." block). Where a marker
is there, only the candidates it allows may be chosen (a very strong constraint, not the learned
scorer's weights: the scorer's probabilities are renormalised over the allowed candidates):

* depth d: the candidates at depth d - 2 (the article for d = 1);
* quoted text: the candidates whose own text (not the lines they quote) holds the most of the
  quoted words;
* a name: the candidates written by that author (and comments without an author line nearer than
  those); a name no author line carries: the comments without one, or, but for a page's "in reply
  to", the article (its author may be named: "@cnn" answering CNN's tweet).

Markers are applied in that order, a later one only where it agrees with the earlier ones. When
a marker points at one earlier comment only (the one best holder of the quote, the only comment
of the named author), every comment between the two descends from it in a preorder listing: their
parents must be that comment or later ones (:attr:`Constraints.floor`), which keeps it on the
path until the reply comes. A hypothesis whose path cannot honour a marker that something in the
thread could satisfy pays :data:`MISS`; a name that matches no one constrains nothing.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from discourse.core.thread import Comment
from discourse.stages.reply_graph.addressing import name_tokens

PENALTY = 30.0
"""Log-probability taken from a candidate a marker rules out (e^-30: never chosen while one is allowed)."""
MISS = 8.0
"""Log-score taken from a decoding hypothesis whose path holds no candidate a marker allows."""

_WORD = re.compile(r"\w+")
GRAMS_KEPT = 2048
"""Word-run sets of this many candidate comments are kept between questions (a depth-first decoder
asks about the path it is on, so the same few come back); all of them, as Python sets of tuples,
took 1 GB on a 100,000-comment thread."""


@dataclass(frozen=True)
class Marker:
    kind: str  # "level", "in reply to", "mention", "quote"
    depth: int | None = None
    reply_to: str | None = None
    quoted: frozenset[tuple[str, ...]] = frozenset()

    def describe(self) -> str:
        if self.kind == "level":
            return f"the page shows it at level {self.depth}"
        if self.reply_to:
            return f"marked on the page: {self.kind} {self.reply_to}"
        return "quotes it"


_QUOTED_LINE = re.compile(r"^\s*(?:>|&gt;).*$", re.MULTILINE)


def _own_words(text: str) -> str:
    """A comment's text without the lines it quotes: a comment that quoted something is not its source."""
    return _QUOTED_LINE.sub("", text)


def _grams(text: str, n: int = 4) -> frozenset[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text[:20_000])]
    if len(words) < n:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[k : k + n]) for k in range(len(words) - n + 1))


def markers_of(comments: Sequence[Comment]) -> list[Marker | None]:
    out: list[Marker | None] = []
    for c in comments:
        meta = c.meta
        depth = meta.get("depth")
        reply_to = meta.get("reply_to")
        quoted = meta.get("quoted")
        if not (isinstance(depth, int) or isinstance(reply_to, str) or isinstance(quoted, str)):
            out.append(None)
            continue
        kind = "level" if isinstance(depth, int) else str(meta.get("reply_marker") or "quote")
        out.append(
            Marker(
                kind=kind,
                depth=depth if isinstance(depth, int) and depth > 0 else None,
                reply_to=reply_to if isinstance(reply_to, str) and reply_to.strip() else None,
                quoted=_grams(quoted) if isinstance(quoted, str) else frozenset(),
            )
        )
    return out


def _key(name: str) -> str:
    return name.lower().lstrip("@")


def _same(name: str, author: str | None) -> bool:
    return bool(author) and _key(name) in name_tokens(author)


_Mask = tuple[np.ndarray, bool]
"""(the candidates a marker allows, whether anything earlier in the thread could satisfy it)"""


class Constraints:
    """Which candidates each comment's markers allow, given the authors known so far."""

    def __init__(self, comments: Sequence[Comment], authors: Sequence[str | None]) -> None:
        self.markers = markers_of(comments)
        self.any = any(m is not None for m in self.markers)
        self.authors = list(authors)
        self._texts = [c.text for c in comments]
        self._grams: OrderedDict[int, frozenset[tuple[str, ...]]] = OrderedDict()  # at most GRAMS_KEPT
        self._first: dict[tuple[str, ...], list[int]] | None = None
        self._by_name: dict[str, list[int]] = {}  # a name (or a token of it) -> the comments by its author
        for j, a in enumerate(self.authors):
            for key in name_tokens(a):
                self._by_name.setdefault(key, []).append(j)
        self.floor = self._floors() if self.any else {}

    def _overlap(self, m: Marker, j: int) -> int:
        grams = self._grams.get(j)
        if grams is None:
            grams = self._grams[j] = _grams(_own_words(self._texts[j]))
            if len(self._grams) > GRAMS_KEPT:
                self._grams.popitem(last=False)
        else:
            self._grams.move_to_end(j)
        return len(m.quoted & grams)

    def _first_quoted(self) -> dict[tuple[str, ...], list[int]]:
        """For every quoted word run, the comments that hold it (built once, when asked)."""
        if self._first is None:
            wanted = frozenset().union(*(m.quoted for m in self.markers if m is not None))
            self._first = {}
            if wanted:
                for j, text in enumerate(self._texts):
                    for g in _grams(_own_words(text)) & wanted:
                        self._first.setdefault(g, []).append(j)
        return self._first

    def _masks(self, i: int, m: Marker, cands: Sequence[int | None], depths: Sequence[int]) -> list[_Mask]:
        out: list[_Mask] = []
        if m.depth is not None:
            out.append((np.array([d == m.depth - 2 for d in depths]), True))
        if m.quoted:
            hits = np.array([0 if j is None else self._overlap(m, j) for j in cands])
            first = self._first_quoted()
            somewhere = any(first.get(g, [i])[0] < i for g in m.quoted)
            out.append((hits == hits.max() if hits.max() > 0 else np.zeros(len(cands), dtype=bool), somewhere))
        if m.reply_to:
            name = m.reply_to
            # that author's comments, or one whose author line was lost (it may be theirs) nearer than those
            mask = np.array([j is not None and _same(name, self.authors[j]) for j in cands])
            near = max((j for j, ok in zip(cands, mask.tolist(), strict=True) if ok and j is not None), default=-1)
            mask |= np.array([j is not None and j > near and not self.authors[j] for j in cands])
            by = self._by_name.get(_key(name), [])
            if by:
                out.append((mask, by[0] < i))
            else:  # nobody of that name has an author line: a comment that lost its own, or (unless the page
                # printed "in reply to", which it does for comments only) the article's author ("@cnn")
                root = m.kind != "in reply to"
                out.append((np.array([(root if j is None else not self.authors[j]) for j in cands]), False))
        return out

    def target(self, i: int) -> int | None:
        """The one earlier comment a marker of comment ``i`` points at, when only one fits: the best
        holder of the quoted words, else the only earlier comment by the author it names."""
        m = self.markers[i]
        if m is None:
            return None
        if m.quoted:
            first = self._first_quoted()
            hits = Counter(j for g in m.quoted for j in first.get(g, ()) if j < i)
            if hits:
                (best, n), *rest = hits.most_common(2)
                if not rest or rest[0][1] < n:
                    return best
        if m.reply_to and m.kind != "quote":  # "X wrote:" may quote anyone; its text said whom
            by = self._by_name.get(_key(m.reply_to), [])
            by = by[: bisect_left(by, i)]
            if len(by) == 1:
                return by[0]
        return None

    def _floors(self) -> dict[int, int]:
        """Comments between a marked reply and the one comment it answers are that comment's
        descendants (a preorder listing): for each, the earliest index its parent may have."""
        spans = sorted((j, i) for i in range(len(self.markers)) if (j := self.target(i)) is not None)
        out: dict[int, int] = {}
        active: list[tuple[int, int]] = []  # (-target, reply)
        s = 0
        for k in range(len(self.markers)):
            while s < len(spans) and spans[s][0] < k:
                heapq.heappush(active, (-spans[s][0], spans[s][1]))
                s += 1
            # an interval (j, i) covers j < k < i; drop those that ended
            live = [(t, r) for t, r in active if r > k]
            if len(live) != len(active):
                active = live
                heapq.heapify(active)
            if active:
                out[k] = -active[0][0]
        return out

    def allowed(self, i: int, cands: Sequence[int | None], depths: Sequence[int]) -> np.ndarray | None:
        """A boolean mask over ``cands`` (None = the article; ``depths``: each candidate's depth,
        0 = top level, -1 for the article): all False when the strongest marker that could be
        honoured somewhere in the thread allows none of them; None when nothing constrains
        comment ``i``. Weaker markers narrow the choice only where they agree with stronger ones."""
        m = self.markers[i] if i < len(self.markers) else None
        if m is None and i not in self.floor:
            return None
        ok: np.ndarray | None = None
        masks = self._masks(i, m, cands, depths) if m is not None else []
        if i in self.floor:  # inside a marked reply's span: keep the comment it answers on the path
            at = 1 if m is not None and m.depth is not None else 0  # after the page's own depth, if any
            masks.insert(at, (np.array([j is not None and j >= self.floor[i] for j in cands]), True))
        for mask, somewhere in masks:
            if not mask.any():
                if somewhere and ok is None:
                    return mask  # this path cannot honour it: the hypothesis pays MISS
                continue
            if ok is None:
                ok = mask
            elif (ok & mask).any():
                ok = ok & mask
        return ok

    def evidence(self, i: int) -> str | None:
        m = self.markers[i] if i < len(self.markers) else None
        return m.describe() if m is not None else None


def apply(logp: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, float]:
    """The candidates' log-probabilities renormalised over those ``mask`` allows, and the penalty of
    the hypothesis (:data:`MISS` when the mask allows none)."""
    if mask is None:
        return logp, 0.0
    if not mask.any():
        return logp, -MISS
    z = np.where(mask, logp, logp - PENALTY)
    z = z - z.max()
    return z - np.log(np.exp(z).sum()), 0.0
