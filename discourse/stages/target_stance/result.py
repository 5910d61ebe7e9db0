"""The ``target_stance`` layer's value for one comment: its stance toward each configured target it
mentions (none of them: empty)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TargetStance:
    """Stance toward one named target, from the sentence that decided it."""

    target: str
    label: str  # favor | against | none
    scores: Mapping[str, float]
    sentence: str  # exactly text[start:end]
    start: int
    end: int
    model: str

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "label": self.label,
            "scores": {k: round(float(v), 6) for k, v in self.scores.items()},
            "evidence": {"sentence": self.sentence, "start": self.start, "end": self.end},
            "model": self.model,
        }


@dataclass(frozen=True, slots=True)
class TargetStances:
    """One comment's stances, in the order of the config's targets."""

    items: tuple[TargetStance, ...] = ()

    def __iter__(self) -> Iterator[TargetStance]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_json(self) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.items]
