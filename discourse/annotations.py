"""Model outputs live beside the data, keyed by comment id and a registered key.

Like spaCy's extension attributes: a key must be registered with its type before
it is written; writing an unknown key or a value of the wrong type is an error.
The parsed Thread is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from discourse.errors import PipelineError


@dataclass(frozen=True, slots=True)
class ToxicityResult:
    """``score`` is the overall toxicity in 0..1; ``labels`` every per-label score;
    ``evidence`` the words that drove the score most (where the model can say)."""

    score: float
    labels: Mapping[str, float]
    model: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "score": round(float(self.score), 6),
            "labels": {k: round(float(v), 6) for k, v in self.labels.items()},
            "model": self.model,
            "evidence": list(self.evidence),
        }


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


_REGISTRY: dict[str, type] = {}


def register_key(name: str, type_: type) -> None:
    if name in _REGISTRY and _REGISTRY[name] is not type_:
        raise PipelineError(f"annotation key {name!r} already registered with type {_REGISTRY[name].__name__}")
    _REGISTRY[name] = type_


register_key("toxicity", ToxicityResult)
register_key("stance", StanceResult)


@dataclass
class Annotations:
    """comment id -> key -> value, for registered keys only."""

    _data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def set(self, comment_id: str, key: str, value: Any) -> None:
        if key not in _REGISTRY:
            raise PipelineError(f"unregistered annotation key {key!r}; register_key() it first")
        if not isinstance(value, _REGISTRY[key]):
            raise PipelineError(f"annotation {key!r} must be {_REGISTRY[key].__name__}, got {type(value).__name__}")
        self._data.setdefault(comment_id, {})[key] = value

    def get(self, comment_id: str, key: str, default: Any = None) -> Any:
        if key not in _REGISTRY:
            raise PipelineError(f"unregistered annotation key {key!r}")
        return self._data.get(comment_id, {}).get(key, default)

    def has(self, key: str) -> bool:
        return any(key in v for v in self._data.values())

    def items(self, key: str) -> Iterator[tuple[str, Any]]:
        for cid, values in self._data.items():
            if key in values:
                yield cid, values[key]
