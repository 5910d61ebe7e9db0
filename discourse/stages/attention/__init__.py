"""``attention.v1``: what a moderator should look at first, and why.

A priority in 0..1 per comment with reason codes (THREAT, IDENTITY_ATTACK, INSULT, TOXIC,
PROFANITY, HEATED_DISAGREEMENT, ESCALATION, LOW_CONFIDENCE_LINK): attacks aimed at people in the
thread first, swearing at nobody last; every reason sentence names its code, score and model.
"""

from __future__ import annotations

from collections.abc import Sequence

from discourse.core.engine import Doc, Resources
from discourse.core.layers import register_layer
from discourse.core.stage import stage
from discourse.stages.attention.config import AttentionConfig, AttentionThresholds
from discourse.stages.attention.rank import rank_attention
from discourse.stages.attention.result import CODES, AttentionItem, AttentionQueue

register_layer("attention", "thread", AttentionQueue, doc="the comments to look at first, with reason codes")

__all__ = ["CODES", "AttentionConfig", "AttentionItem", "AttentionQueue", "AttentionThresholds"]


@stage("attention.v1", config=AttentionConfig, requires=("toxicity", "stance", "chains"), assigns=("attention",))
class AttentionStage:
    """Rank each thread's comments for a moderator."""

    def __init__(self, config: AttentionConfig, resources: Resources) -> None:
        self.config = config

    def __call__(self, docs: Sequence[Doc]) -> None:
        cfg = self.config
        for doc in docs:
            items = rank_attention(doc.thread, doc.annotations, doc.annotations.value("chains", ()), cfg)
            doc.annotations.put("attention", AttentionQueue(items, cfg.flag_threshold, cfg.watch_threshold))
