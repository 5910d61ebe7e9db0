"""The result of analysing one thread, and its public JSON contract.

``Analysis.to_json()`` is the analysis.json contract documented in
docs/analysis-schema.md; any change to its shape bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from discourse.annotations import Annotations, StanceResult, ToxicityResult
from discourse.model import Thread
from discourse.models.registry import ModelRecord

SCHEMA_VERSION = "1.0"


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


@dataclass(frozen=True, slots=True)
class AttentionItem:
    """A comment a moderator should look at, with a priority in 0..1 and reasons."""

    comment_id: str
    priority: float
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "comment_id": self.comment_id,
            "priority": round(float(self.priority), 6),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Analysis:
    thread: Thread
    annotations: Annotations
    chains: tuple[Chain, ...] = ()
    attention: tuple[AttentionItem, ...] = ()
    models: tuple[ModelRecord, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)

    def toxicity(self, comment_id: str) -> ToxicityResult | None:
        return self.annotations.get(comment_id, "toxicity")  # type: ignore[no-any-return]

    def stance(self, comment_id: str) -> StanceResult | None:
        return self.annotations.get(comment_id, "stance")  # type: ignore[no-any-return]

    def to_json(self) -> dict[str, Any]:
        t = self.thread
        comments = []
        for c in t.comments:
            tox = self.toxicity(c.id)
            st = self.stance(c.id)
            comments.append(
                {
                    "id": c.id,
                    "author": c.author,
                    "author_inferred": c.author_inferred,
                    "author_evidence": c.meta.get("author_evidence"),
                    "parent_id": c.parent_id,
                    "parent_confidence": round(float(c.parent_confidence), 6),
                    "parent_evidence": list(c.parent_evidence),
                    "created": c.created,
                    "text": c.text,
                    "toxicity": tox.to_json() if tox else None,
                    "stance": st.to_json() if st else None,
                }
            )
        return {
            "schema_version": SCHEMA_VERSION,
            "thread": {
                "id": t.id,
                "title": t.title,
                "source_format": t.source_format,
                "article": t.article,
                "structure_inferred": not t.structure_known,
            },
            "comments": comments,
            "chains": [c.to_json() for c in self.chains],
            "attention": [a.to_json() for a in self.attention],
            "models": [m.to_json() for m in self.models],
            "config": dict(self.config),
            "warnings": list(self.thread.warnings) + [w for w in self.warnings if w not in self.thread.warnings],
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
        }
