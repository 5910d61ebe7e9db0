"""Pair features of a comment and each candidate parent, given the depth-first path above it.

A flattened nested section is a preorder listing: comment *i* answers the article or a comment on
the path from the article to comment *i-1*. :class:`PathFeatures` computes, for one comment and one
such path, a row of ``FEATURES`` per candidate (the article first, then the path from the nearest
comment up). Everything a row reads is either fixed for the thread (texts, authors, vectors,
addressing) or read off the path, so two decoding hypotheses with the same path get the same rows
(the beam in :mod:`~discourse.stages.reply_graph.decode` merges them).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from discourse.core.thread import Comment
from discourse.stages.reply_graph.addressing import addressed_names, name_tokens
from discourse.stages.reply_graph.shingles import Shingles, shingle_hashes

FEATURES: tuple[str, ...] = (
    "root",  # the candidate is the article
    "previous",  # the candidate is comment i-1
    "distance",  # steps up the path from comment i-1 (0 for it and for the article)
    "log_distance",
    "candidate_depth",  # depth of the candidate in the tree (0 = top level; 0 for the article)
    "addressed",  # the comment addresses the candidate's author by a vocative ("Hello X", "X thank you")
    "mentioned",  # the candidate's author is named in the comment's opening ("X: ...", "@X")
    "addresses_other",  # it addresses or names a participant who is not the candidate's author
    "same_author",  # the candidate has the comment's own author
    "turn_taking",  # the candidate was answering the comment's author (A -> B -> A)
    "candidate_addresses_me",  # the candidate addressed or named the comment's author
    "similarity",  # MiniLM cosine to the candidate (to the article, or the title, for the root)
    "similarity_gap",  # similarity minus the best similarity among the candidates
    "most_similar",  # the candidate is the most similar one
    "root_unscored",  # root only: no article or title to compare with
    "quote",  # the comment repeats six or more consecutive words of the candidate (or a "> " line of it)
    "candidate_question",  # the candidate asks a question
    "candidate_author_known",
    "candidate_first_of_author",  # the candidate is its author's first comment
    "candidate_is_last_of_author",  # no later comment (before i) by the candidate's author
    # comment-level (the same on every row: they shape how much the others count)
    "author_known",
    "new_participant",  # the comment's author has not spoken before and it addresses no one
    "spoke_before",
    "reply_cue",  # opens like a reply ("Again, I disagree", "Thank you", "you ...")
    "question",
    "log_length",
    "log_candidates",
    "two_person_share",  # share of the comments so far written by the two most active authors
    "log_authors",  # distinct authors so far
    "has_article",
    "chat_like",  # the thread's comments are short (median under 80 characters): chat or tweets
    "log_thread_length",  # comments in the thread
    "log_median_length",  # median characters per comment in the thread
    "position",  # i / len(thread)
    "previous_same_author",  # comment i-1 has the comment's own author (a continued post)
    "indented",  # the text opens with wiki-style indentation (":", "::", "*:")
    "indent_match",  # that indentation is the depth the comment would have under the candidate
    "indent_gap",  # |indentation - that depth|, when indented
)
COL = {name: k for k, name in enumerate(FEATURES)}

_WORD = re.compile(r"\w+")
_REPLY_CUE = re.compile(
    r"^\W*(?:again|agreed?|disagree|i (?:still )?(?:dis)?agree|thanks?|thank you|ok(?:ay)?|yes|no|nope|yeah|yep|"
    r"exactly|true|wrong|indeed|lol|haha|progress|well said|fair|sure|right|so|but|and|why|what)\b|"
    r"\b(?:you|your|you're|u)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*|\w+")
INDENT = re.compile(r"^[:*#]+")
_QUOTE_LINE = re.compile(r"^\s*(?:>|&gt;)\s?(.+)$", re.MULTILINE)


def _opening(text: str, words: int = 20) -> str:
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return " ".join(first.split()[:words])


def _edges(text: str, head: int = 2000, tail: int = 400) -> str:
    return text if len(text) <= head + tail else text[:head] + "\n" + text[-tail:]


def _quoted(text: str) -> frozenset[int]:
    """Shingles (of 4 words) of the lines a comment quotes with "> "."""
    words = [w.lower() for m in _QUOTE_LINE.finditer(text) for w in _WORD.findall(m.group(1))]
    return frozenset(hash(tuple(words[k : k + 4])) for k in range(len(words) - 3))


@dataclass(frozen=True)
class Node:
    """One comment on a hypothesised depth-first path (a persistent linked list: popping the
    path is pointing at an ancestor, so no path is ever copied)."""

    index: int
    up: Node | None
    depth: int


def path_of(node: Node | None, limit: int) -> list[Node]:
    out: list[Node] = []
    while node is not None and len(out) < limit:
        out.append(node)
        node = node.up
    return out


class PathFeatures:
    """Everything fixed for a thread, and the feature rows of (comment, path)."""

    def __init__(
        self,
        comments: Sequence[Comment],
        authors: Sequence[str | None],
        vecs: np.ndarray | None,
        article_vec: np.ndarray | None,
        max_depth: int = 40,
        title_vec: np.ndarray | None = None,
    ) -> None:
        """``article_vec``: the article's vector, or None without one; ``title_vec`` then stands
        in for it (the root's similarity is to the title: ``has_article`` tells them apart)."""
        n = len(comments)
        self.n = n
        self.max_depth = max_depth
        self.vecs = vecs
        self.has_article = article_vec is not None
        ids: dict[str, int] = {}
        self.author = np.array([ids.setdefault(a, len(ids)) if a else -1 for a in authors], dtype=np.int64)
        by_token: dict[str, list[int]] = {}
        for name, aid in ids.items():
            for t in name_tokens(name):
                by_token.setdefault(t, []).append(aid)
        self.addressed: list[frozenset[int]] = []
        self.mentioned: list[frozenset[int]] = []
        self.cue = np.zeros(n, dtype=bool)
        self.question = np.zeros(n, dtype=bool)
        self.length = np.zeros(n)
        self.indent = np.array([len(m.group(0)) if (m := INDENT.match(c.text)) else 0 for c in comments])
        self.quotes: list[frozenset[int]] = []
        self.shingles = Shingles([c.text for c in comments])
        for i, c in enumerate(comments):
            text = c.text
            names = addressed_names(_edges(text))
            self.addressed.append(frozenset(aid for m in names for aid in by_token.get(m.lower(), ())))
            head = {w.lower().strip("'’-") for w in _TOKEN.findall(text[:80])}
            self.mentioned.append(frozenset(aid for w in head for aid in by_token.get(w, ())))
            self.cue[i] = bool(_REPLY_CUE.search(_opening(text)))
            self.question[i] = "?" in text
            self.length[i] = math.log1p(len(text))
            self.quotes.append(_quoted(text))
        self._texts = [c.text for c in comments]
        self._small: dict[int, frozenset[int]] = {}  # 4-word shingles, only of comments someone quotes
        self.first_of_author = np.zeros(n, dtype=bool)
        self.spoke_before = np.zeros(n, dtype=bool)
        self.two_share = np.zeros(n)
        self.n_authors = np.zeros(n)
        seen: Counter[int] = Counter()
        total = 0
        top: list[int] = []  # the (at most) two most active authors so far
        for i, a in enumerate(self.author.tolist()):
            if a >= 0:
                self.first_of_author[i] = seen[a] == 0
                self.spoke_before[i] = seen[a] > 0
                seen[a] += 1
                total += 1
                if a not in top:
                    top.append(a)
                top = sorted(top, key=lambda x: -seen[x])[:2]
            self.two_share[i] = sum(seen[x] for x in top) / total if total else 0.0
            self.n_authors[i] = math.log1p(len(seen))
        nxt = np.full(n, n, dtype=np.int64)
        last: dict[int, int] = {}
        for i in range(n - 1, -1, -1):
            a = int(self.author[i])
            if a >= 0:
                nxt[i] = last.get(a, n)
                last[a] = i
        self.next_same = nxt
        med = float(np.median([len(c.text) for c in comments])) if n else 0.0
        self.chat_like = float(med < 80)
        self.log_median = math.log1p(med)
        root_vec = article_vec if article_vec is not None else title_vec
        self.art_sim = (vecs @ root_vec) if vecs is not None and root_vec is not None else None
        self._quote_of = -1  # the comment whose answers _quote_cache holds (the decoder moves on)
        self._quote_cache: dict[int, bool] = {}

    def _quote(self, i: int, j: int) -> bool:
        if i != self._quote_of:
            self._quote_of, self._quote_cache = i, {}
        hit = self._quote_cache.get(j)
        if hit is None:
            hit = self.shingles.overlap(i, j)
            if not hit and self.quotes[i]:
                if j not in self._small:
                    self._small[j] = shingle_hashes(self._texts[j], 4)
                hit = bool(self.quotes[i] & self._small[j])
            self._quote_cache[j] = hit
        return hit

    def rows(self, i: int, top: Node | None) -> tuple[list[Node | None], np.ndarray]:
        """Candidates of comment ``i`` (None = the article, then the path nodes nearest first)
        and their (len(candidates), len(FEATURES)) rows."""
        path = path_of(top, self.max_depth)
        cands: list[Node | None] = [None, *path]
        m = len(cands)
        f = np.zeros((m, len(FEATURES)), dtype=np.float64)
        me = int(self.author[i])
        spoken = self.addressed[i] | self.mentioned[i]
        # comment-level
        f[:, COL["author_known"]] = me >= 0
        f[:, COL["spoke_before"]] = self.spoke_before[i]
        f[:, COL["reply_cue"]] = self.cue[i]
        f[:, COL["question"]] = self.question[i]
        f[:, COL["log_length"]] = self.length[i]
        f[:, COL["log_candidates"]] = math.log(m)
        f[:, COL["two_person_share"]] = self.two_share[i]
        f[:, COL["log_authors"]] = self.n_authors[i]
        f[:, COL["has_article"]] = self.has_article
        f[:, COL["chat_like"]] = self.chat_like
        f[:, COL["log_thread_length"]] = math.log1p(self.n)
        f[:, COL["log_median_length"]] = self.log_median
        f[:, COL["position"]] = i / self.n
        f[:, COL["previous_same_author"]] = i > 0 and me >= 0 and int(self.author[i - 1]) == me
        ind = int(self.indent[i])
        if ind:
            f[:, COL["indented"]] = 1.0
            child = np.array([0, *(nd.depth + 1 for nd in path)])
            f[:, COL["indent_match"]] = child == ind
            f[:, COL["indent_gap"]] = np.minimum(np.abs(child - ind), 5)
        f[:, COL["new_participant"]] = bool(self.first_of_author[i] and not spoken)
        # the article
        f[0, COL["root"]] = 1.0
        if self.art_sim is not None:
            f[0, COL["similarity"]] = self.art_sim[i]
        elif self.vecs is not None:
            f[0, COL["root_unscored"]] = 1.0
        if path:
            idx = np.array([nd.index for nd in path], dtype=np.int64)
            r = np.arange(len(path))
            f[1, COL["previous"]] = 1.0
            f[1:, COL["distance"]] = r
            f[1:, COL["log_distance"]] = np.log1p(r)
            f[1:, COL["candidate_depth"]] = [nd.depth for nd in path]
            other = self.author[idx]
            known = other >= 0
            f[1:, COL["candidate_author_known"]] = known
            f[1:, COL["same_author"]] = known & (other == me) & (me >= 0)
            hit_a = np.array([o in self.addressed[i] for o in other.tolist()]) & known
            hit_m = np.array([o in self.mentioned[i] for o in other.tolist()]) & known
            f[1:, COL["addressed"]] = hit_a
            f[1:, COL["mentioned"]] = hit_m
            f[1:, COL["addresses_other"]] = bool(spoken) & ~(hit_a | hit_m)
            if me >= 0:
                gp = np.array([self.author[nd.up.index] if nd.up is not None else -2 for nd in path])
                f[1:, COL["turn_taking"]] = (gp == me) & (other != me)
                f[1:, COL["candidate_addresses_me"]] = [
                    me in self.addressed[j] or me in self.mentioned[j] for j in idx.tolist()
                ]
            f[1:, COL["quote"]] = [self._quote(i, j) for j in idx.tolist()]
            f[1:, COL["candidate_question"]] = self.question[idx]
            f[1:, COL["candidate_first_of_author"]] = self.first_of_author[idx]
            f[1:, COL["candidate_is_last_of_author"]] = known & (self.next_same[idx] >= i)
            if self.vecs is not None:
                f[1:, COL["similarity"]] = self.vecs[idx] @ self.vecs[i]
        if self.vecs is not None:
            sims = f[:, COL["similarity"]].copy()
            if self.art_sim is None:
                sims[0] = -np.inf
            best = sims.max() if m > 1 or self.art_sim is not None else 0.0
            if np.isfinite(best):
                f[:, COL["similarity_gap"]] = np.where(np.isfinite(sims), sims - best, -1.0)
                f[int(np.argmax(sims)), COL["most_similar"]] = 1.0
        return cands, f
