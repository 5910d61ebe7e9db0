"""Extractive chain summaries a moderator reads in 20 seconds.

Each side's main position is the TextRank-central sentence of its turns: PageRank
(networkx) over a graph of that side's sentences weighted by MiniLM cosine
similarity, using the sentence vectors of the shared encoder pass. Every summary
sentence cites the comment ids it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from discourse.core.layers import Annotations
from discourse.core.thread import Comment, Thread
from discourse.stages.chains.find import OUTCOME_TEXT, ChainSkeleton, concession, disengagement, outcome, slope
from discourse.stages.chains.result import Chain, SummarySentence, Turn
from discourse.stages.stance.result import StanceResult
from discourse.stages.toxicity.result import ToxicityResult

MAX_TEXTRANK = 2000
"""Sentences of one side ranked by TextRank (a square matrix); more: linear degree centrality."""

SentenceIndex = Mapping[str, tuple[list[tuple[int, int]], np.ndarray]]
"""comment id -> (sentence character spans, L2-normalised sentence vectors)."""

_PHATIC = re.compile(
    r"^\W*(?:hello|hi|hey|thanks?|thank you|ok(?:ay)?|a good (?:day|evening)|i wish|good (?:day|evening))\b"
    r"[^.!?]{0,40}[.!?]?\s*$",
    re.IGNORECASE,
)


def _quote(text: str, limit: int = 30) -> str:
    words = " ".join(text.split()).split(" ")
    out = " ".join(words[:limit])
    return out + ("…" if len(words) > limit else "")


def textrank(sim: np.ndarray, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    """PageRank over a weighted similarity graph (TextRank), by power iteration in numpy.

    Same definition as ``networkx.pagerank(nx.from_numpy_array(sim), weight="weight")``
    (dangling nodes spread uniformly), without building a graph object for every chain side:
    summaries of thousands of chains call this once per side."""
    n = sim.shape[0]
    out = sim.sum(axis=1)
    dangling = out == 0
    trans = np.divide(sim, out[:, None], out=np.zeros_like(sim, dtype=np.float64), where=out[:, None] > 0)
    r = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        nxt = damping * (r @ trans + r[dangling].sum() / n) + (1 - damping) / n
        if np.abs(nxt - r).sum() < n * tol:
            return nxt
        r = nxt
    return r


def central_sentence(
    ids: list[str],
    thread: Thread,
    sentences: SentenceIndex,
    toxicity: Mapping[str, float] | None = None,
    byid: Mapping[str, Comment] | None = None,
) -> tuple[str, str] | None:
    """(sentence, comment id) of the most central substantive sentence in ``ids``.

    A position is argued, not shouted: a sentence's TextRank score is scaled by
    ``1 - 0.9 * toxicity`` of its comment, so an insult does not stand for a side's view
    when a civil sentence says it. Past :data:`MAX_TEXTRANK` sentences (one side of a huge
    two-person thread) the similarity matrix would grow with the square of the side, so the
    score is the sentence's summed similarity to all the others instead (degree centrality over
    unclipped similarities, floored at 0; linear time: one dot product with the sum of the vectors).
    ``byid`` is ``thread.by_id()`` when the caller has it (building it is linear in the thread)."""
    byid = byid if byid is not None else thread.by_id()
    items: list[tuple[str, str, np.ndarray]] = []
    for cid in ids:
        spans, vecs = sentences.get(cid, ([], np.zeros((0, 1))))
        text = byid[cid].text
        for (s, e), v in zip(spans, vecs, strict=False):
            sent = text[s:e]
            if len(sent.split()) >= 5 and not _PHATIC.match(sent):
                items.append((sent, cid, v))
    if not items:
        # fall back to the longest sentence-ish text
        for cid in ids:
            t = byid[cid].text.strip()
            if t:
                items.append((t, cid, np.zeros(1)))
        if not items:
            return None
        sent, cid, _ = max(items, key=lambda x: len(x[0]))
        return sent, cid
    if len(items) == 1:
        return items[0][0], items[0][1]
    mat = np.stack([v for _, _, v in items]).astype(np.float32)
    if len(items) > MAX_TEXTRANK:
        summed = mat @ mat.sum(axis=0) - np.einsum("ij,ij->i", mat, mat)
        rank = np.clip(summed.astype(np.float64), 0.0, None)  # scores >= 0, as TextRank's
    else:
        sim = np.clip(mat @ mat.T, 0.0, None)
        np.fill_diagonal(sim, 0.0)
        rank = textrank(sim)
    if toxicity:
        rank = rank * np.array([1.0 - 0.9 * float(toxicity.get(cid, 0.0)) for _, cid, _ in items])
    best = max(range(len(rank)), key=lambda k: (rank[k], -k))
    return items[best][0], items[best][1]


def _ids_text(ids: list[str]) -> str:
    return ", ".join(ids)


def summarize_chain(
    sk: ChainSkeleton,
    thread: Thread,
    annotations: Annotations,
    sentences: SentenceIndex,
    toxic_threshold: float = 0.5,
    byid: Mapping[str, Comment] | None = None,
) -> Chain:
    """The chain of skeleton ``sk`` with its turns, outcome and cited summary. ``byid`` is
    ``thread.by_id()`` when the caller has it: building it per chain made a thread with thousands
    of chains quadratic."""
    byid = byid if byid is not None else thread.by_id()
    position = {cid: k for k, cid in enumerate(sk.comment_ids)}
    a, b = sk.participants
    turns: list[Turn] = []
    raw: list[tuple[str, str | None, float | None, str | None, str | None]] = []
    for cid in sk.comment_ids:
        c = byid[cid]
        st: StanceResult | None = annotations.get(cid, "stance")
        tx: ToxicityResult | None = annotations.get(cid, "toxicity")
        conc = concession(c.text)
        turns.append(Turn(cid, c.author or "", c.parent_id, st.label if st else None, tx.score if tx else None, conc))
        raw.append((c.author or "", st.label if st else None, tx.score if tx else None, conc, disengagement(c.text)))
    label = outcome(raw, toxic_threshold)
    tox = [t.toxicity or 0.0 for t in turns]
    esc = slope(tox)
    summary: list[SummarySentence] = []
    first, last = sk.comment_ids[0], sk.comment_ids[-1]
    opener = f", starting with {byid[first].author}'s reply to {sk.opening_id}" if sk.opening_id else ""
    summary.append(
        SummarySentence(
            f"{a} and {b} exchanged {len(turns)} replies ({first}–{last}){opener}.",
            (sk.opening_id, first) if sk.opening_id else (first,),
        )
    )
    for who in (a, b):
        mine = [t.comment_id for t in turns if t.author == who]
        if sk.opening_id and byid[sk.opening_id].author == who:
            mine = [sk.opening_id, *mine]
        side_tox = {cid: (r.score if (r := annotations.get(cid, "toxicity")) else 0.0) for cid in mine}
        pos = central_sentence(mine, thread, sentences, side_tox, byid)
        if pos:
            summary.append(SummarySentence(f"{who}'s main position: “{_quote(pos[0])}”", (pos[1],)))
    for who in (a, b):
        by_label: dict[str, list[str]] = {}
        for t in turns:
            if t.author == who and t.stance:
                by_label.setdefault(t.stance, []).append(t.comment_id)
        if by_label:
            parts = [
                f"{lab} in {_ids_text(ids)}" for lab, ids in sorted(by_label.items(), key=lambda kv: position[kv[1][0]])
            ]
            cites = tuple(cid for ids in by_label.values() for cid in ids)
            summary.append(
                SummarySentence(
                    f"{who}'s stance toward the other, turn by turn: {'; '.join(parts)}.",
                    tuple(sorted(cites, key=position.__getitem__)),
                )
            )
    conceding = [t for t in turns if t.concession]
    if conceding:
        summary.append(
            SummarySentence(
                "Concessions: " + "; ".join(f"{t.author} — “{t.concession}” ({t.comment_id})" for t in conceding) + ".",
                tuple(t.comment_id for t in conceding),
            )
        )
    if any(t.toxicity is not None for t in turns):
        peak = max(turns, key=lambda t: t.toxicity or 0.0)
        tone = (
            "escalated"
            if esc > 0.05 and (peak.toxicity or 0) >= toxic_threshold
            else ("stayed civil" if (peak.toxicity or 0) < toxic_threshold else "turned hostile at times")
        )
        summary.append(
            SummarySentence(
                f"Tone {tone}: toxicity peaked at {peak.toxicity or 0:.2f} in {peak.comment_id}"
                f" (trend {esc:+.3f} per turn).",
                (peak.comment_id,),
            )
        )
    ending = byid[last]
    summary.append(
        SummarySentence(
            f"Outcome: {OUTCOME_TEXT[label]}; last word to {ending.author}: “{_quote(ending.text, 20)}”",
            (last,),
        )
    )
    return Chain(
        participants=(a, b),
        comment_ids=sk.comment_ids,
        turns=tuple(turns),
        summary=tuple(summary),
        outcome=label,
        opening_id=sk.opening_id,
        escalation=esc,
    )
