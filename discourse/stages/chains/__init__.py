"""``chains.v1``: argument chains between pairs of users, each with a summary citing its comments.

Every pair of users who reply to each other at least ``min_replies`` times: their exchange in
order across branches, each side's main position (TextRank over the sentence vectors of the
shared encoder pass), the stance turn by turn, concessions, the toxicity trend and how it ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from discourse.core.engine import Doc, Resources
from discourse.core.layers import register_layer
from discourse.core.stage import stage
from discourse.stages.chains.find import find_chains
from discourse.stages.chains.result import Chain
from discourse.stages.chains.summarize import summarize_chain
from discourse.stages.encode import embeddings

register_layer("chains", "thread", Chain, many=True, doc="argument chains with cited summaries")


@dataclass(frozen=True)
class ChainsConfig:
    min_replies: int = 2  # replies between two users (each side at least once) that make a chain
    toxic_threshold: float = 0.5  # an exchange whose last turns reach this, rising, has escalated

    def __post_init__(self) -> None:
        if self.min_replies < 2 or not 0.0 <= self.toxic_threshold <= 1.0:
            raise ValueError("min_replies must be at least 2 and toxic_threshold in 0..1")


@stage(
    "chains.v1", config=ChainsConfig, requires=("structure", "embeddings", "stance", "toxicity"), assigns=("chains",)
)
class ChainsStage:
    """Find and summarise the argument chains of each thread."""

    def __init__(self, config: ChainsConfig, resources: Resources) -> None:
        self.config = config

    def __call__(self, docs: Sequence[Doc]) -> None:
        for doc in docs:
            t = doc.thread
            enc = embeddings(doc)
            sentences = {
                c.id: (enc.sentence_spans[k + 1], enc.sentence_vectors[k + 1]) for k, c in enumerate(t.comments)
            }
            byid = t.by_id()  # once per thread: the chains of a huge thread share it
            chains = tuple(
                summarize_chain(sk, t, doc.annotations, sentences, self.config.toxic_threshold, byid)
                for sk in find_chains(t, self.config.min_replies)
            )
            doc.annotations.put("chains", chains)
