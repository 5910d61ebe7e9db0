"""The ``chains`` layer: argument chains between pairs of users, with cited summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of an argument chain."""

    comment_id: str
    author: str
    reply_to_id: str | None
    stance: str | None
    toxicity: float | None
    concession: str | None = None  # the conceding phrase, if any

    def to_json(self) -> dict[str, Any]:
        return {
            "comment_id": self.comment_id,
            "author": self.author,
            "reply_to_id": self.reply_to_id,
            "stance": self.stance,
            "toxicity": None if self.toxicity is None else round(float(self.toxicity), 6),
            "concession": self.concession,
        }


@dataclass(frozen=True, slots=True)
class SummarySentence:
    text: str
    citations: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "citations": list(self.citations)}


@dataclass(frozen=True, slots=True)
class Chain:
    """An alternating exchange between two users who reply to each other at least twice."""

    participants: tuple[str, str]
    comment_ids: tuple[str, ...]
    turns: tuple[Turn, ...]
    summary: tuple[SummarySentence, ...]
    outcome: str
    opening_id: str | None = None  # the comment the exchange first answers
    escalation: float = 0.0  # toxicity slope per turn

    @property
    def citations(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.summary:
            for c in s.citations:
                seen.setdefault(c, None)
        return tuple(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "participants": list(self.participants),
            "comment_ids": list(self.comment_ids),
            "opening_id": self.opening_id,
            "turns": [t.to_json() for t in self.turns],
            "summary": [s.to_json() for s in self.summary],
            "citations": list(self.citations),
            "outcome": self.outcome,
            "escalation": round(float(self.escalation), 6),
        }
