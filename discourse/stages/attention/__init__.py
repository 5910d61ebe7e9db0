"""``attention.v1``: what a moderator should look at first, and why.

A priority in 0..1 per comment from its toxicity (overall and the severe labels), a heated
disagreement (its stance) and an escalating chain; every reason names the score and the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from discourse.core.engine import Doc, Resources
from discourse.core.layers import register_layer
from discourse.core.stage import stage
from discourse.stages.attention.rank import rank_attention
from discourse.stages.attention.result import AttentionItem, AttentionQueue

register_layer("attention", "thread", AttentionQueue, doc="the comments to look at first, with reasons")

__all__ = ["AttentionConfig", "AttentionItem", "AttentionQueue"]


@dataclass(frozen=True)
class AttentionConfig:
    flag_threshold: float = 0.5  # toxicity at or above: needs attention
    watch_threshold: float = 0.2  # listed below the flagged ones
    max_items: int = 25

    def __post_init__(self) -> None:
        if not 0.0 <= self.watch_threshold <= self.flag_threshold <= 1.0:
            raise ValueError("need 0 <= watch_threshold <= flag_threshold <= 1")
        if self.max_items < 1:
            raise ValueError("max_items must be at least 1")


@stage("attention.v1", config=AttentionConfig, requires=("toxicity", "stance", "chains"), assigns=("attention",))
class AttentionStage:
    """Rank each thread's comments for a moderator."""

    def __init__(self, config: AttentionConfig, resources: Resources) -> None:
        self.config = config

    def __call__(self, docs: Sequence[Doc]) -> None:
        cfg = self.config
        for doc in docs:
            items = rank_attention(
                doc.thread,
                doc.annotations,
                doc.annotations.value("chains", ()),
                cfg.flag_threshold,
                cfg.watch_threshold,
                cfg.max_items,
            )
            doc.annotations.put("attention", AttentionQueue(items, cfg.flag_threshold, cfg.watch_threshold))
