"""Rebuild reply links (and lost authors) for threads whose structure is unknown.

A nested comment section flattened by a scraper is a *preorder* (depth-first)
listing, so the parent of comment *i* is the article or a comment on the path from
the article to comment *i-1*. Each candidate on that path is scored from
measurable signals, and a softmax over the candidates gives the link and its
confidence in 0..1. Two scorers:

* the learned :class:`~.scorer.LinkScorer` (``models/reply-links-v2``) over
  :data:`~.features.FEATURES`, decoded over the whole thread by the beam in :mod:`.decode`,
  its confidences calibrated; news-site style threads go to its linear fallback;
* the linear :class:`~.weights.ReplyWeights` over ``LINK_FEATURES`` (who is addressed by
  name, turn-taking, MiniLM similarity, quoting, position on the path, first comment of a
  newcomer, reply-like openings; ``models/reply-links-v1``), decoded greedily; each weight
  can be overridden from the config.

Authors lost with their author line are inferred in rounds (links are decoded again after
each): from the name later replies address the comment by ("John thank you" answering it), a
signature, turn-taking (an anonymous reply inside an A↔B exchange answering A is B's), a
reply naming a known participant, a two-person thread (:mod:`.authors`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from discourse.core.thread import Comment, Thread
from discourse.stages.reply_graph.addressing import addressed_names, name_tokens
from discourse.stages.reply_graph.authors import addressed_known, signatures, two_person
from discourse.stages.reply_graph.decode import beam_decode
from discourse.stages.reply_graph.features import COL, Node, PathFeatures
from discourse.stages.reply_graph.markers import Constraints, apply
from discourse.stages.reply_graph.scorer import LinkScorer
from discourse.stages.reply_graph.shingles import Shingles
from discourse.stages.reply_graph.weights import LINK_FEATURES, ReplyWeights, weights_from_meta

__all__ = ["LINK_FEATURES", "Candidates", "ReplyWeights", "infer_structure", "weights_from_meta"]

_REPLY_CUE = re.compile(
    r"^\W*(?:again|agreed?|disagree|i (?:still )?(?:dis)?agree|thanks?|thank you|ok(?:ay)?|yes|no|nope|"
    r"exactly|true|wrong|indeed|lol|haha|progress|well said|fair)\b|\b(?:you|your|you're|u)\b",
    re.IGNORECASE,
)
_EVIDENCE = {
    "previous": "directly follows",
    "new_participant": "first comment of its author, addresses no one",
    "quote": "quotes it",
}


def _edges(text: str, head: int = 2000, tail: int = 400) -> str:
    """Where people address each other: the start and the end of a comment."""
    return text if len(text) <= head + tail else text[:head] + "\n" + text[-tail:]


def _opening(text: str, words: int = 20) -> str:
    """The first sentence (at most ``words`` words) of a comment."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return " ".join(first.split()[:words])


@dataclass
class _State:
    authors: list[str | None]
    inferred: list[bool]
    author_evidence: list[str]


def _matches(name: str, author: str | None) -> bool:
    return bool(author) and name.lower() in name_tokens(author)


MAX_DEPTH = 40
"""Candidates are the article and at most this many comments up the preorder path: real
threads nest far less deeply, and the cap keeps a long flat thread linear in its length."""

Link = tuple[int | None, float, tuple[str, ...]]
"""(parent index or None for the article, confidence, evidence)."""


@dataclass(frozen=True)
class TextSignals:
    """What the link features read from the texts alone: computed once per thread, whatever
    the rounds of author inference change."""

    shingles: Shingles
    names: list[tuple[str, ...]]
    cue: list[bool]

    @classmethod
    def of(cls, comments: Sequence[Comment]) -> TextSignals:
        return cls(
            Shingles([c.text for c in comments]),
            [addressed_names(_edges(c.text)) for c in comments],
            [bool(_REPLY_CUE.search(_opening(c.text))) for c in comments],
        )


class Candidates:
    """Features of every candidate parent of each comment, given the parents so far."""

    def __init__(
        self,
        comments: tuple[Comment, ...],
        authors: list[str | None],
        vecs: np.ndarray | None,
        article_vec: np.ndarray | None,
        max_depth: int = MAX_DEPTH,
        signals: TextSignals | None = None,
    ) -> None:
        self.comments = comments
        self.max_depth = max_depth
        self.authors = authors
        self.vecs = vecs
        self.article_vec = article_vec
        signals = signals or TextSignals.of(comments)
        self.shingles, self.names, self.cue = signals.shingles, signals.names, signals.cue
        known = {a for a in authors if a}
        self.known_names = [[m for m in ns if any(_matches(m, a) for a in known)] for ns in self.names]
        self.first_of_author: list[bool] = []
        seen: set[str] = set()
        for a in authors:
            self.first_of_author.append(bool(a) and a not in seen)
            if a:
                seen.add(a)

    def features(self, i: int, parents: Sequence[int | None]) -> tuple[list[int | None], np.ndarray]:
        """Candidates for comment ``i`` (None = the article, then the path from comment i-1 up)
        and their (m, len(LINK_FEATURES)) feature matrix."""
        path: list[int] = []
        j = i - 1 if i > 0 else None
        while j is not None and len(path) < self.max_depth:
            path.append(j)
            j = parents[j]
        cands: list[int | None] = [None, *path]
        f = np.zeros((len(cands), len(LINK_FEATURES)), dtype=np.float64)
        col = {name: k for k, name in enumerate(LINK_FEATURES)}
        me = self.authors[i]
        names = self.names[i]
        f[0, col["root"]] = 1.0
        f[0, col["new_participant"]] = float(not names and self.first_of_author[i])
        f[0, col["reply_cue"]] = float(self.cue[i])
        if self.vecs is not None and self.article_vec is not None:
            f[0, col["similarity"]] = float(self.vecs[i] @ self.article_vec)
        elif self.vecs is not None:
            f[0, col["root_unscored"]] = 1.0
        sims = self.vecs[path] @ self.vecs[i] if self.vecs is not None and path else None
        for r, j in enumerate(path, start=1):
            other = self.authors[j]
            f[r, col["previous"]] = float(r == 1)
            f[r, col["path_depth"]] = float(r - 1)
            hit = bool(other) and any(_matches(m, other) for m in names)
            f[r, col["addressed"]] = float(hit)
            f[r, col["addresses_other"]] = float(not hit and bool(self.known_names[i]))
            f[r, col["same_author"]] = float(bool(me) and me == other)
            gp = parents[j]
            f[r, col["turn_taking"]] = float(bool(me) and gp is not None and self.authors[gp] == me and other != me)
            if sims is not None:
                f[r, col["similarity"]] = float(sims[r - 1])
            f[r, col["quote"]] = float(self.shingles.overlap(i, j))
        if self.vecs is not None and len(cands) > 1:
            sims = f[:, col["similarity"]]
            if self.article_vec is None:
                sims = np.where(np.arange(len(cands)) == 0, -np.inf, sims)
            f[int(np.argmax(sims)), col["most_similar"]] = 1.0
        return cands, f

    def evidence(self, j: int | None, row: np.ndarray, w: np.ndarray) -> tuple[str, ...]:
        """The signals that pushed this candidate up, strongest first."""
        out: list[tuple[float, str]] = []
        for k, name in enumerate(LINK_FEATURES):
            contrib = row[k] * w[k]
            if row[k] == 0 or contrib <= 0 or name in ("root", "path_depth", "root_unscored"):
                continue
            other = self.authors[j] if j is not None else None
            if name == "addressed":
                text = f"addresses {other}"
            elif name == "turn_taking":
                text = f"turn-taking with {other or 'unknown'}"
            elif name == "similarity":
                text = f"similarity {'to article ' if j is None else ''}{row[k]:.2f}"
            elif name == "most_similar":
                text = "most similar candidate"
            else:
                text = _EVIDENCE.get(name, name.replace("_", " "))
            out.append((contrib, text))
        return tuple(t for _, t in sorted(out, key=lambda x: -x[0]))


def _link(
    comments: tuple[Comment, ...],
    authors: list[str | None],
    vecs: np.ndarray | None,
    article_vec: np.ndarray | None,
    w: ReplyWeights,
    max_depth: int = MAX_DEPTH,
    signals: TextSignals | None = None,
) -> list[Link]:
    """Greedy left-to-right decoding: each comment takes its most probable candidate (among
    those an explicit marker allows)."""
    cands = Candidates(comments, authors, vecs, article_vec, max_depth, signals)
    marks = Constraints(comments, authors)
    wv = w.vector()
    parents: list[int | None] = []
    depth: list[int] = []
    out: list[Link] = []
    for i in range(len(comments)):
        options, f = cands.features(i, parents)
        scores = f @ wv
        z = scores - scores.max()
        logp = z - np.log(np.exp(z).sum())
        mask = marks.allowed(i, options, [-1 if j is None else depth[j] for j in options]) if marks.any else None
        p = np.exp(apply(logp, mask)[0])
        best = int(np.argmax(p))
        parent = options[best]
        parents.append(parent)
        depth.append(0 if parent is None else depth[parent] + 1)
        ev = cands.evidence(parent, f[best], wv)
        if mask is not None and mask[best]:
            ev = (str(marks.evidence(i)), *ev)
        out.append((parent, float(p[best]), ev))
    return out


def _learned_evidence(row: np.ndarray, parent: int | None, authors: Sequence[str | None]) -> tuple[str, ...]:
    """The signals in a chosen link's feature row, strongest kinds first."""
    who = authors[parent] if parent is not None else None
    out: list[str] = []
    if row[COL["addressed"]] or row[COL["mentioned"]]:
        out.append(f"addresses {who}")
    if row[COL["quote"]]:
        out.append("quotes it")
    if row[COL["turn_taking"]]:
        out.append(f"turn-taking with {who or 'unknown'}")
    if row[COL["candidate_addresses_me"]]:
        out.append(f"{who or 'it'} addressed this author")
    if parent is None and row[COL["new_participant"]]:
        out.append("first comment of its author, addresses no one")
    if row[COL["most_similar"]]:
        where = "the article" if parent is None else "it"
        out.append(f"most similar to {where} ({row[COL['similarity']]:.2f})")
    if row[COL["previous"]]:
        out.append("directly follows")
    return tuple(out)


def _link_learned(
    comments: tuple[Comment, ...],
    authors: list[str | None],
    vecs: np.ndarray | None,
    article_vec: np.ndarray | None,
    scorer: LinkScorer,
    max_depth: int = MAX_DEPTH,
    beam: int = 8,
    title_vec: np.ndarray | None = None,
) -> list[Link]:
    """Beam decoding of the whole thread under the learned scorer; calibrated confidences."""
    feats = PathFeatures(comments, authors, vecs, article_vec, max_depth, title_vec)
    marks = Constraints(comments, authors)

    def constrain(i: int, cands: list[Node | None], logp: np.ndarray) -> tuple[np.ndarray, float]:
        mask = marks.allowed(i, [c.index if c else None for c in cands], [c.depth if c else -1 for c in cands])
        return apply(logp, mask)

    dec = beam_decode(feats, scorer.log_probs, beam=beam, constrain=constrain if marks.any else None)
    conf = scorer.confidence(np.array(dec.probs)) if dec.probs else np.zeros(0)
    depth: list[int] = []
    out: list[Link] = []
    for i, (p, c, row) in enumerate(zip(dec.parents, conf.tolist(), dec.rows, strict=True)):
        ev = _learned_evidence(row, p, authors)
        if marks.any:
            mask = marks.allowed(i, [p], [-1 if p is None else depth[p]])
            if mask is not None and mask[0]:
                ev = (str(marks.evidence(i)), *ev)
        depth.append(0 if p is None else depth[p] + 1)
        out.append((p, float(c), ev))
    return out


AUTHOR_LINK_CONFIDENCE = 0.8
"""With a learned (calibrated) scorer, author evidence read through a reply link counts only when
the link is at least this sure: on held-out threads this took turn-taking from 51% to 79% right
and naming from 85% to 92% (reports/reply_graph.md)."""


def _infer_authors(
    comments: tuple[Comment, ...],
    st: _State,
    links: list[tuple[int | None, float, tuple[str, ...]]],
    min_conf: float = 0.0,
) -> bool:
    """One round of author inference; returns True when anything changed. Evidence that runs
    through a reply link (the reply that names the comment, the exchange it continues) counts
    only when those links have confidence ``min_conf`` or more."""
    parents = [lk[0] if lk[1] >= min_conf else None for lk in links]
    # 0. A signature closing the comment ("— John").
    changed = _assign(st, signatures(comments, st.authors))
    known_tokens: set[str] = set().union(*(name_tokens(a) for a in {a for a in st.authors if a}))
    # 1. Addressing: a reply names someone who is not a known author -> the anonymous comment it answers.
    #    A name the page marks ("in reply to X", "@X" on its own line, "X wrote:") counts first.
    votes: dict[int, Counter[str]] = {}
    why: dict[tuple[int, str], str] = {}
    for y, c in enumerate(comments):
        marked = c.meta.get("reply_to")
        target = parents[y]
        if isinstance(marked, str) and marked.strip() and target is not None and st.authors[target] is None:
            name = marked.strip().lstrip("@")
            if name.lower() not in known_tokens:
                votes.setdefault(target, Counter())[name] += 2
                why.setdefault((target, name), f"{comments[y].id} ({c.meta.get('reply_marker') or 'marker'})")
        for name in addressed_names(_edges(c.text), strict=True):
            if name.lower() in known_tokens or (st.authors[y] and _matches(name, st.authors[y])):
                continue
            target = parents[y]  # only the comment it answers: further up the path, names go astray
            if target is not None and st.authors[target] is None:
                votes.setdefault(target, Counter())[name] += 1
                why.setdefault((target, name), comments[y].id)
    for x, counter in votes.items():
        name, _ = counter.most_common(1)[0]
        st.authors[x], st.inferred[x] = name, True
        st.author_evidence[x] = f"addressed as {name} by {why[(x, name)]}"
        changed = True
    # 2. Turn-taking: anonymous x answers P, who was answering Q, and P and Q already replied to
    #    each other at least twice (an established exchange) -> x is Q.
    pair_replies: Counter[frozenset[str]] = Counter()
    for y, p in enumerate(parents):
        a, b = st.authors[y], (st.authors[p] if p is not None else None)
        if a and b and a != b:
            pair_replies[frozenset((a, b))] += 1
    for x in range(len(comments)):
        if st.authors[x] is not None:
            continue
        p = parents[x]
        if p is None or st.authors[p] is None:
            continue
        q = parents[p]
        pa, qa = st.authors[p], (st.authors[q] if q is not None else None)
        if pa and qa and qa != pa and pair_replies[frozenset((pa, qa))] >= 2:
            st.authors[x], st.inferred[x] = qa, True
            st.author_evidence[x] = f"turn-taking: answers {pa} in an exchange with {qa}"
            changed = True
    # 3. A reply naming a known participant answers their comment; a thread of two known people.
    changed = _assign(st, addressed_known(comments, st.authors, parents)) or changed
    return _assign(st, two_person(comments, st.authors, parents)) or changed


def _assign(st: _State, found: Mapping[int, tuple[str, str]]) -> bool:
    for x, (name, why) in found.items():
        st.authors[x], st.inferred[x], st.author_evidence[x] = name, True, why
    return bool(found)


def infer_structure(
    thread: Thread,
    vectors: np.ndarray | None = None,
    article_vector: np.ndarray | None = None,
    weights: ReplyWeights | LinkScorer | None = None,
    max_rounds: int = 3,
    max_depth: int = MAX_DEPTH,
    beam: int = 8,
    title_vector: np.ndarray | None = None,
) -> Thread:
    """Return a new Thread with inferred parent links (and inferred authors).

    ``vectors`` are L2-normalised comment embeddings in thread order (optional);
    ``article_vector`` the article's (None without one: ``title_vector`` then stands in for the
    learned scorer). ``weights``:
    a learned :class:`LinkScorer` (whole-thread beam decoding, ``beam`` hypotheses) or the
    linear :class:`ReplyWeights` (greedy; the hand-set prior when None).
    Threads whose structure is known are returned unchanged.
    """
    if thread.structure_known or not thread.comments:
        return thread
    with addressed_names.scope():  # every round of author inference reads the same names
        return _infer_structure(thread, vectors, article_vector, weights, max_rounds, max_depth, beam, title_vector)


def _infer_structure(
    thread: Thread,
    vectors: np.ndarray | None,
    article_vector: np.ndarray | None,
    weights: ReplyWeights | LinkScorer | None,
    max_rounds: int,
    max_depth: int,
    beam: int,
    title_vector: np.ndarray | None,
) -> Thread:
    comments = thread.comments
    st = _State([c.author for c in comments], [c.author_inferred for c in comments], [""] * len(comments))
    signals = TextSignals.of(comments)

    scorer: ReplyWeights | LinkScorer = weights or ReplyWeights()
    if isinstance(scorer, LinkScorer) and scorer.fallback is not None:
        if scorer.routes_to_fallback(comments, bool(thread.article)):
            scorer = scorer.fallback

    def link() -> list[Link]:
        if isinstance(scorer, LinkScorer):
            return _link_learned(comments, st.authors, vectors, article_vector, scorer, max_depth, beam, title_vector)
        return _link(comments, st.authors, vectors, article_vector, scorer, max_depth, signals)

    links = link()
    floor = AUTHOR_LINK_CONFIDENCE if isinstance(scorer, LinkScorer) else 0.0
    for _ in range(max_rounds):
        if not _infer_authors(comments, st, links, floor):
            break
        links = link()
    new: list[Comment] = []
    for k, (c, (parent, conf, ev)) in enumerate(zip(comments, links, strict=True)):
        meta = dict(c.meta)
        if st.author_evidence[k]:
            meta["author_evidence"] = st.author_evidence[k]
        new.append(
            replace(
                c,
                author=st.authors[k],
                author_inferred=st.inferred[k],
                parent_id=None if parent is None else comments[parent].id,
                parent_confidence=round(conf, 4) if not math.isnan(conf) else 0.0,
                parent_evidence=ev,
                meta=meta,
            )
        )
    inferred = sum(st.inferred)
    notes = []
    if inferred:
        notes.append(f"inferred the author of {inferred} comment(s) from addressing and turn-taking")
    return replace(thread, comments=tuple(new), warnings=thread.warnings + tuple(notes))
