"""``attention.v1``'s settings: the priority cut-offs and one threshold per attribute."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


def _in_unit(obj: object, *, open_low: bool) -> None:
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        v = getattr(obj, f.name)
        if not isinstance(v, float):  # the config loader makes every number of a float field a float
            continue
        ok = (0.0 < v <= 1.0) if open_low else (0.0 <= v <= 1.0)
        if not ok:
            raise ValueError(f"{f.name} must be in {'(0, 1]' if open_low else '[0, 1]'}, got {v}")


@dataclass(frozen=True)
class AttentionThresholds:
    """The score at or above which each attribute gives its reason code. Labels are read from
    the toxicity model: the product names when present, else tox-block's raw ones
    (``identity_attack``/``identity_hate``, ``profanity``/``obscene``,
    ``severe_toxicity``/``severe_toxic``); ``toxicity`` is the overall score."""

    toxicity: float = 0.5  # TOXIC (below it, from the watch level: borderline TOXIC)
    insult: float = 0.5  # INSULT
    threat: float = 0.3  # THREAT
    identity_attack: float = 0.3  # IDENTITY_ATTACK
    severe_toxicity: float = 0.5  # TOXIC, ranked as severe
    profanity: float = 0.8  # PROFANITY

    def __post_init__(self) -> None:
        _in_unit(self, open_low=True)  # 0 would give every comment the code


@dataclass(frozen=True)
class AttentionConfig:
    flag_threshold: float = 0.5  # priority at or above: flagged (needs attention)
    watch_threshold: float = 0.2  # priority at or above: listed; toxicity at or above: borderline
    max_items: int = 25
    thresholds: AttentionThresholds = field(default_factory=AttentionThresholds)
    link_confidence: float = 0.7  # a flagged comment of an inferred thread whose link is less sure: LOW_CONFIDENCE_LINK

    def __post_init__(self) -> None:
        _in_unit(self, open_low=False)
        if not self.watch_threshold <= self.flag_threshold:
            raise ValueError("need 0 <= watch_threshold <= flag_threshold <= 1")
        if self.max_items < 1:
            raise ValueError("max_items must be at least 1")
