"""The ``attention`` layer: what a moderator should look at first, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
