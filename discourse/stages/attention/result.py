"""The ``attention`` layer: what a moderator should look at first, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CODES = (
    "THREAT",
    "IDENTITY_ATTACK",
    "INSULT",
    "TOXIC",
    "PROFANITY",
    "HEATED_DISAGREEMENT",
    "ESCALATION",
    "LOW_CONFIDENCE_LINK",
)
"""Every reason code, most severe first (an item lists its codes in this order)."""

TARGETS = ("commenter", "commenters")
"""Who a flagged comment is aimed at: its parent's author (addressed in the second person or by
name) or the thread's commenters as a group ("trolls", "shills"); ``None`` when neither."""


@dataclass(frozen=True, slots=True)
class AttentionItem:
    """A comment a moderator should look at, with a priority in 0..1, reason codes and the
    reasons as sentences (each names its code and the score and model behind it)."""

    comment_id: str
    priority: float
    reasons: tuple[str, ...]
    codes: tuple[str, ...] = ()
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "comment_id": self.comment_id,
            "priority": round(float(self.priority), 6),
            "codes": list(self.codes),
            "target": self.target,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class AttentionQueue:
    """A thread's items, highest priority first, with the thresholds that made them."""

    items: tuple[AttentionItem, ...]
    flag_threshold: float
    watch_threshold: float

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k: int) -> AttentionItem:
        return self.items[k]

    def flagged(self) -> int:
        return sum(1 for it in self.items if it.priority >= self.flag_threshold)

    def to_json(self) -> list[dict[str, Any]]:
        return [it.to_json() for it in self.items]
