"""Whole-thread decoding of reply links: a beam over depth-first paths.

In a preorder listing, comment *i* answers the article or a comment on the current path, and
choosing one pops the path down to it before *i* is pushed. A hypothesis is therefore a path
(a :class:`~.features.Node` chain) plus its summed log-probability; each step expands every
hypothesis by every candidate, merges hypotheses whose paths look the same to the features
(the nearest ``max_depth + 1`` comments and the depth) and keeps the best ``beam`` of them. A
clue late in the thread (a reply naming someone, a quote) can so revive a path an early greedy
choice had closed. Cost: ``len(thread) x beam x candidates``, linear in the thread's length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from discourse.stages.reply_graph.features import Node, PathFeatures, path_of

Scores = Callable[[np.ndarray], np.ndarray]
"""Feature rows of one comment's candidates -> their log-probabilities."""
Constrain = Callable[[int, list[Node | None], np.ndarray], tuple[np.ndarray, float]]
"""(comment, its candidates, their log-probabilities) -> the log-probabilities an explicit marker
leaves (renormalised over the candidates it allows) and the hypothesis' penalty (:mod:`.markers`)."""


@dataclass(frozen=True)
class Decoded:
    """The best sequence of choices: per comment its parent (None = the article), the
    probability of that choice where it was made, and its feature row."""

    parents: list[int | None]
    probs: list[float]
    rows: list[np.ndarray]


@dataclass(frozen=True)
class _Hyp:
    score: float
    top: Node | None
    back: _Back | None


@dataclass(frozen=True)
class _Back:
    parent: int | None
    prob: float
    row: np.ndarray
    prev: _Back | None


def _key(top: Node | None, width: int) -> tuple[int, ...]:
    return (top.depth if top else -1, *(nd.index for nd in path_of(top, width)))


def beam_decode(
    feats: PathFeatures, scores: Scores, beam: int = 8, expand: int = 4, constrain: Constrain | None = None
) -> Decoded:
    """The best-scoring sequence of parent choices found by the beam (``beam=1`` is greedy);
    each hypothesis is expanded by its ``expand`` most probable candidates (after ``constrain``)."""
    hyps = [_Hyp(0.0, None, None)]
    width = feats.max_depth + 1
    for i in range(feats.n):
        best: dict[tuple[int, ...], _Hyp] = {}
        for h in hyps:
            cands, rows = feats.rows(i, h.top)
            logp = scores(rows)
            penalty = 0.0
            if constrain is not None:
                logp, penalty = constrain(i, cands, logp)
            order = np.argsort(-logp)[: max(1, expand)]
            for k in order.tolist():
                c = cands[k]
                top = Node(i, c, 0 if c is None else c.depth + 1)
                s = h.score + float(logp[k]) + penalty
                key = _key(top, width)
                old = best.get(key)
                if old is None or s > old.score:
                    back = _Back(None if c is None else c.index, float(np.exp(logp[k])), rows[k], h.back)
                    best[key] = _Hyp(s, top, back)
        hyps = sorted(best.values(), key=lambda x: -x.score)[:beam]
    parents: list[int | None] = []
    probs: list[float] = []
    rows_out: list[np.ndarray] = []
    b = hyps[0].back if hyps else None
    while b is not None:
        parents.append(b.parent)
        probs.append(b.prob)
        rows_out.append(b.row)
        b = b.prev
    return Decoded(parents[::-1], probs[::-1], rows_out[::-1])
