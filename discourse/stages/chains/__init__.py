"""``chains.v1``: argument chains between pairs of users, each with a summary citing its comments.

Every pair of users who reply to each other at least ``min_replies`` times: their exchange in
order across branches, each side's main position (TextRank over the sentence vectors of the
shared encoder pass), the stance turn by turn, concessions, the toxicity trend and how it ended.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from discourse.core.engine import Doc, Resources
from discourse.core.layers import register_layer
from discourse.core.stage import stage
from discourse.stages.chains.find import find_chains
from discourse.stages.chains.result import Chain
from discourse.stages.chains.summarize import summarize_chain
from discourse.stages.encode import Encoded, embeddings

register_layer("chains", "thread", Chain, many=True, doc="argument chains with cited summaries")


@dataclass(frozen=True)
class ChainsConfig:
    min_replies: int = 2  # replies between two users (each side at least once) that make a chain
    toxic_threshold: float = 0.5  # an exchange whose last turns reach this, rising, has escalated

    def __post_init__(self) -> None:
        if self.min_replies < 2 or not 0.0 <= self.toxic_threshold <= 1.0:
            raise ValueError("min_replies must be at least 2 and toxic_threshold in 0..1")


class _Sentences(Mapping[str, tuple[list[tuple[int, int]], np.ndarray]]):
    """A comment id's sentence spans and vectors, read from the encoder pass when asked: the
    summaries read the sentences of a few comments, and building the lists of every comment of a
    100,000-comment thread up front took 0.35 GB."""

    def __init__(self, enc: Encoded, ids: Sequence[str]) -> None:
        self._enc = enc
        self._row = {cid: k + 1 for k, cid in enumerate(ids)}  # row 0 is the article

    def __getitem__(self, cid: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        k = self._row[cid]
        return self._enc.sentence_spans[k], self._enc.sentence_vectors[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


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
            sentences = _Sentences(enc, [c.id for c in t.comments])
            byid = t.by_id()  # once per thread: the chains of a huge thread share it
            chains = tuple(
                summarize_chain(sk, t, doc.annotations, sentences, self.config.toxic_threshold, byid)
                for sk in find_chains(t, self.config.min_replies)
            )
            doc.annotations.put("chains", chains)
