"""The ``toxicity`` layer's value for one comment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ToxicityResult:
    """``score`` is the overall toxicity in 0..1; ``labels`` every per-label score;
    ``evidence`` the words that drove the score most (where the model can say) and
    ``evidence_spans`` their occurrences as ``[begin, end)`` character offsets into the verbatim
    text (adjacent words merged into one span)."""

    score: float
    labels: Mapping[str, float]
    model: str
    evidence: tuple[str, ...] = ()
    evidence_spans: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "score": round(float(self.score), 6),
            "labels": {k: round(float(v), 6) for k, v in self.labels.items()},
            "model": self.model,
            "evidence": list(self.evidence),
            "evidence_spans": [[int(b), int(e)] for b, e in self.evidence_spans],
        }
