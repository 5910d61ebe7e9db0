"""Rebuild reply links (and lost authors) for threads whose structure is unknown.

A nested comment section flattened by a scraper is a *preorder* (depth-first)
listing, so the parent of comment *i* is the article or a comment on the path from
the article to comment *i-1*. Each candidate on that path is scored from
measurable signals, and a softmax over the candidates gives the link and its
confidence in 0..1:

==================  =====================================================
signal              meaning
==================  =====================================================
recency             candidates deeper on the path (closer to *i-1*) first
addressed           *i* addresses the candidate's author by name
addresses_other     *i* addresses someone, not this candidate's author
self_reply          same author (rare in real threads)
turn_taking         candidate answered *i*'s author (A → B → A)
similarity          MiniLM cosine between *i* and the candidate (article for root)
quote               *i* repeats six or more consecutive words of the candidate
new_participant     first comment of a known author who addresses no one → article
reply_cue           opens like a reply ("Again, I disagree", "Thank you", "you …") → not the article
==================  =====================================================

Authors lost with their author line are inferred in two passes: from the name
later replies address the comment by ("John thank you" answering it), then from
turn-taking (an anonymous reply inside an A↔B exchange answering A is B's).
Weights are in ``ReplyWeights`` and can be set from the config.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, fields, replace

import numpy as np

from discourse.model import Comment, Thread
from discourse.stages.addressing import addressed_names, name_tokens


@dataclass(frozen=True, slots=True)
class ReplyWeights:
    recency: float = 1.0
    depth_step: float = -0.5
    addressed: float = 4.0
    addresses_other: float = -1.5
    self_reply: float = -2.5
    turn_taking: float = 1.5
    similarity: float = 5.0
    similarity_center: float = 0.3
    quote: float = 4.0
    new_participant: float = 1.5
    reply_cue: float = -1.5
    root_bias: float = 0.0

    @classmethod
    def from_config(cls, cfg: dict[str, float] | None) -> ReplyWeights:
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in (cfg or {}).items() if k in names})


_WORD = re.compile(r"\w+")
_REPLY_CUE = re.compile(
    r"^\W*(?:again|agreed?|disagree|i (?:still )?(?:dis)?agree|thanks?|thank you|ok(?:ay)?|yes|no|nope|"
    r"exactly|true|wrong|indeed|lol|haha|progress|well said|fair)\b|\b(?:you|your|you're|u)\b",
    re.IGNORECASE,
)


def _edges(text: str, head: int = 2000, tail: int = 400) -> str:
    """Where people address each other: the start and the end of a comment."""
    return text if len(text) <= head + tail else text[:head] + "\n" + text[-tail:]


def _opening(text: str, words: int = 20) -> str:
    """The first sentence (at most ``words`` words) of a comment."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return " ".join(first.split()[:words])


def _shingles(text: str, n: int = 6, limit: int = 20_000) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text[:limit])]
    return {tuple(words[k : k + n]) for k in range(len(words) - n + 1)}


@dataclass
class _State:
    authors: list[str | None]
    inferred: list[bool]
    author_evidence: list[str]


def _matches(name: str, author: str | None) -> bool:
    return bool(author) and name.lower() in name_tokens(author)


def _link(
    comments: tuple[Comment, ...],
    authors: list[str | None],
    vecs: np.ndarray | None,
    article_vec: np.ndarray | None,
    w: ReplyWeights,
) -> list[tuple[int | None, float, tuple[str, ...]]]:
    """Return (parent index or None for the article, confidence, evidence) per comment."""
    n = len(comments)
    parents: list[int | None] = []
    out: list[tuple[int | None, float, tuple[str, ...]]] = []
    seen_authors: set[str] = set()
    shingles = [_shingles(c.text) for c in comments]
    known = {a for a in authors if a}
    for i in range(n):
        # path from root to i-1 (preorder constraint)
        path: list[int] = []
        j = i - 1 if i > 0 else None
        while j is not None:
            path.append(j)
            j = parents[j]
        names = addressed_names(_edges(comments[i].text))
        known_names = [m for m in names if any(_matches(m, a) for a in known)]
        me = authors[i]
        cand: list[tuple[int | None, float, list[str]]] = []
        # the article
        ev: list[str] = []
        s = w.root_bias
        if vecs is not None and article_vec is not None:
            sim = float(vecs[i] @ article_vec)
            s += w.similarity * (sim - w.similarity_center)
            ev.append(f"similarity to article {sim:.2f}")
        if not names and me is not None and me not in seen_authors:
            s += w.new_participant
            ev.append("first comment of its author, addresses no one")
        if _REPLY_CUE.search(_opening(comments[i].text)):
            s += w.reply_cue
        cand.append((None, s, ev))
        for depth, j in enumerate(path):
            ev = []
            s = w.recency + w.depth_step * depth
            if depth == 0:
                ev.append("directly follows")
            other = authors[j]
            if other and any(_matches(m, other) for m in names):
                s += w.addressed
                ev.append(f"addresses {other}")
            elif known_names:
                s += w.addresses_other
            if me and other and me == other:
                s += w.self_reply
                ev.append("same author")
            gp = parents[j]
            if me and gp is not None and authors[gp] == me and other != me:
                s += w.turn_taking
                ev.append(f"turn-taking with {other or 'unknown'}")
            if vecs is not None:
                sim = float(vecs[i] @ vecs[j])
                s += w.similarity * (sim - w.similarity_center)
                ev.append(f"similarity {sim:.2f}")
            if shingles[i] & shingles[j]:
                s += w.quote
                ev.append("quotes it")
            cand.append((j, s, ev))
        scores = np.array([c[1] for c in cand])
        p = np.exp(scores - scores.max())
        p /= p.sum()
        best = int(np.argmax(p))
        parent, _, evidence = cand[best]
        parents.append(parent)
        out.append((parent, float(p[best]), tuple(evidence)))
        if me:
            seen_authors.add(me)
    return out


def _infer_authors(
    comments: tuple[Comment, ...], st: _State, links: list[tuple[int | None, float, tuple[str, ...]]]
) -> bool:
    """One round of author inference; returns True when anything changed."""
    changed = False
    parents = [lk[0] for lk in links]
    known = {a for a in st.authors if a}
    # 1. Addressing: a reply names someone who is not a known author -> the anonymous comment it answers.
    votes: dict[int, Counter[str]] = {}
    why: dict[tuple[int, str], str] = {}
    for y, c in enumerate(comments):
        for name in addressed_names(_edges(c.text)):
            if any(_matches(name, a) for a in known) or (st.authors[y] and _matches(name, st.authors[y])):
                continue
            target = parents[y]
            if target is None or st.authors[target] is not None:
                # nearest anonymous comment on y's path
                j = parents[y]
                while j is not None and st.authors[j] is not None:
                    j = parents[j]
                target = j
            if target is not None and st.authors[target] is None:
                votes.setdefault(target, Counter())[name] += 1
                why.setdefault((target, name), comments[y].id)
    for x, counter in votes.items():
        name, _ = counter.most_common(1)[0]
        st.authors[x], st.inferred[x] = name, True
        st.author_evidence[x] = f"addressed as {name} by {why[(x, name)]}"
        changed = True
    # 2. Turn-taking: anonymous x answers P, who was answering Q -> x is Q.
    for x, c in enumerate(comments):
        if st.authors[x] is not None:
            continue
        p = parents[x]
        if p is None or st.authors[p] is None:
            continue
        q = parents[p]
        if q is not None and st.authors[q] and st.authors[q] != st.authors[p]:
            st.authors[x], st.inferred[x] = st.authors[q], True
            st.author_evidence[x] = f"turn-taking: answers {st.authors[p]} in an exchange with {st.authors[q]}"
            changed = True
    return changed


def infer_structure(
    thread: Thread,
    vectors: np.ndarray | None = None,
    article_vector: np.ndarray | None = None,
    weights: ReplyWeights | None = None,
    max_rounds: int = 3,
) -> Thread:
    """Return a new Thread with inferred parent links (and inferred authors).

    ``vectors`` are L2-normalised comment embeddings in thread order (optional).
    Threads whose structure is known are returned unchanged.
    """
    if thread.structure_known or not thread.comments:
        return thread
    w = weights or ReplyWeights()
    comments = thread.comments
    st = _State([c.author for c in comments], [c.author_inferred for c in comments], [""] * len(comments))
    links = _link(comments, st.authors, vectors, article_vector, w)
    for _ in range(max_rounds):
        if not _infer_authors(comments, st, links):
            break
        links = _link(comments, st.authors, vectors, article_vector, w)
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
