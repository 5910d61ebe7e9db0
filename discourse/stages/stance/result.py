"""The ``stance`` layer's value for one comment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StanceResult:
    """Stance of a comment toward ``target_id`` (its parent; None = the article)."""

    label: str
    scores: Mapping[str, float]
    target_id: str | None
    model: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "scores": {k: round(float(v), 6) for k, v in self.scores.items()},
            "target_id": self.target_id,
            "model": self.model,
            "evidence": list(self.evidence),
        }
