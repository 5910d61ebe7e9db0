"""Argument chains: pairs of users who reply to each other at least twice.

A chain is every reply from one participant to the other, in document order,
across branches; ``opening_id`` is the comment the first of them answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from discourse.core.thread import Thread

_CONCESSION = re.compile(
    r"\b(?:you(?:'re| are) (?:right|correct)|you (?:may|might|could) (?:be|have a) (?:right|point)|"
    r"(?:good|fair|valid) point|points? (?:are|is) (?:respected|taken|well taken)|point taken|fair enough|"
    r"i (?:stand corrected|concede|was wrong)|i (?:will|can|'ll) (?:take|accept) (?:it|that)|"
    r"i (?:see|get) (?:your|what you)|makes sense|agreed|i agree)\b",
    re.IGNORECASE,
)
_DISENGAGE = re.compile(
    r"\b(?:let (?:this|it) go|agree to disagree|leave it (?:there|at that)|see how (?:things|it) (?:turn|play)s? out|"
    r"(?:we'?ll|we will|let'?s) (?:see|wait)|i'?m done|not worth (?:it|arguing)|end of discussion|moving on|"
    r"stick to your guns|whatever you say)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ChainSkeleton:
    participants: tuple[str, str]
    comment_ids: tuple[str, ...]
    opening_id: str | None


def find_chains(thread: Thread, min_replies: int = 2) -> list[ChainSkeleton]:
    """Every pair of distinct known authors with at least ``min_replies`` replies
    between them, each side replying at least once."""
    byid = thread.by_id()
    pairs: dict[frozenset[str], list[str]] = {}
    directions: dict[frozenset[str], set[str]] = {}
    for c in thread.comments:
        if c.parent_id is None or c.parent_id not in byid:
            continue
        a, b = c.author, byid[c.parent_id].author
        if not a or not b or a == b:
            continue
        key = frozenset((a, b))
        pairs.setdefault(key, []).append(c.id)
        directions.setdefault(key, set()).add(a)
    chains: list[ChainSkeleton] = []
    for key, ids in pairs.items():
        if len(ids) < min_replies or len(directions[key]) < 2:
            continue
        opening = byid[ids[0]].parent_id
        first_author = byid[opening].author if opening else byid[ids[0]].author
        other = next(x for x in key if x != first_author) if first_author in key else None
        participants = (first_author, other) if other else tuple(sorted(key))
        chains.append(ChainSkeleton(participants, tuple(ids), opening))  # type: ignore[arg-type]
    order = {c.id: k for k, c in enumerate(thread.comments)}
    chains.sort(key=lambda ch: order[ch.comment_ids[0]])
    return chains


def concession(text: str) -> str | None:
    m = _CONCESSION.search(text)
    return m.group(0) if m else None


def disengagement(text: str) -> str | None:
    m = _DISENGAGE.search(text)
    return m.group(0) if m else None


def slope(values: list[float]) -> float:
    """Least-squares slope per step (0 for fewer than two values)."""
    n = len(values)
    if n < 2:
        return 0.0
    mx = (n - 1) / 2
    my = sum(values) / n
    num = sum((k - mx) * (v - my) for k, v in enumerate(values))
    den = sum((k - mx) ** 2 for k in range(n))
    return num / den


def outcome(
    turns: list[tuple[str, str | None, float | None, str | None, str | None]],
    toxic_threshold: float = 0.5,
) -> str:
    """Label how an exchange ended, from (author, stance, toxicity, concession, disengagement)
    per turn. One of: escalated, concession, agree_to_disagree, agreement, unresolved."""
    tox = [t[2] or 0.0 for t in turns]
    tail = turns[-max(1, len(turns) // 3) :]
    if max(tox[-2:]) >= toxic_threshold and slope(tox) > 0:
        return "escalated"
    if any(t[3] for t in tail):
        return "concession"
    if any(t[4] for t in turns) and any(t[1] == "disagree" for t in turns):
        return "agree_to_disagree"
    if all(t[1] == "agree" for t in tail):
        return "agreement"
    return "unresolved"


OUTCOME_TEXT: Mapping[str, str] = {
    "escalated": "the exchange escalated: toxicity rose toward the end",
    "concession": "it ended on a concession",
    "agree_to_disagree": "they agreed to disagree and let it go",
    "agreement": "it ended in agreement",
    "unresolved": "it ended unresolved",
}
