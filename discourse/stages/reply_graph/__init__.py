"""``reply_graph.v1``: who answers whom, for threads whose export lost it (scraped flat text).

The candidates for a comment's parent are the article and the comments on the depth-first
path above it; a learned scorer (``models/reply-links-v2``, model kind ``reply_link_scorer``)
scores them and a beam over the whole thread picks the best sequence of links, each with a
calibrated confidence and the evidence. News-site style threads (an article, long comments, no
wiki indentation) go to its linear fallback: ``models/reply-links-v1``'s weights (kind
``reply_links``, decoded greedily; ``weights`` overrides them). Authors lost with their author
line are inferred only on firm evidence. Threads whose structure is known pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from discourse.core.engine import Doc, Resources
from discourse.core.errors import ConfigError
from discourse.core.layers import register_layer
from discourse.core.modelfiles import ModelRecord
from discourse.core.models import ModelSource, ModelSpec, load_model, register_model_kind
from discourse.core.stage import stage
from discourse.stages.encode import embeddings
from discourse.stages.reply_graph.links import (
    LINK_FEATURES,
    MAX_DEPTH,
    ReplyWeights,
    infer_structure,
    weights_from_meta,
)
from discourse.stages.reply_graph.scorer import LinkScorer


@dataclass(frozen=True)
class Structure:
    """How a thread's reply links were found (working state; analysis.json has
    ``thread.structure_inferred`` and every link's confidence and evidence)."""

    inferred: bool


register_layer("structure", "thread", Structure, public=False, doc="how the reply links were found")


def _build_reply_links(source: ModelSource) -> ReplyWeights:
    return weights_from_meta(source.meta, source.spec.name or str(source.spec.path))


def _build_link_scorer(source: ModelSource) -> LinkScorer:
    return LinkScorer.from_meta(source.meta, source.spec.name or str(source.spec.path))


register_model_kind("reply_links", _build_reply_links, inputs="thread", task="reply_links")
register_model_kind("reply_link_scorer", _build_link_scorer, inputs="thread", task="reply_links")

Scorer = ReplyWeights | LinkScorer
"""A learned scorer (beam-decoded) or linear weights (greedy)."""


def load_reply_weights(
    model: ModelSpec | str | None, overrides: Mapping[str, float] | None = None
) -> tuple[Scorer, ModelRecord | None]:
    """The scorer of a reply-link model (sha256-checked): a learned :class:`LinkScorer`, or
    linear weights with ``overrides`` applied (the hand-set prior when ``model`` is None)."""
    if model is None:
        return ReplyWeights.from_config(overrides), None
    spec = ModelSpec(name=model) if isinstance(model, str) else model
    loaded = load_model(spec, task="reply_links")
    if isinstance(loaded.model, LinkScorer):
        scorer = loaded.model
        if overrides:
            if scorer.fallback is None:
                raise ConfigError(
                    f"reply_graph.v1: 'weights' sets a linear model's weights; {scorer.name} is learned only"
                )
            scorer = replace(scorer, fallback=ReplyWeights.from_config(overrides, scorer.fallback))
        return scorer, loaded.record
    return ReplyWeights.from_config(overrides, loaded.model), loaded.record


@dataclass(frozen=True)
class ReplyGraphConfig:
    model: ModelSpec | None = ModelSpec(name="reply-links-v2")  # null = the hand-set prior in ReplyWeights
    weights: Mapping[str, float] = field(default_factory=dict)  # the linear scorer's (or fallback's): {similarity: 4.0}
    max_depth: int = MAX_DEPTH  # candidates: the article and at most this many comments up the path
    beam: int = 8  # hypotheses kept by the whole-thread decoder (learned models; 1 = greedy)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(LINK_FEATURES))
        if unknown:
            raise ValueError(f"unknown reply-link weight(s) {unknown}; known: {', '.join(LINK_FEATURES)}")
        if self.max_depth < 1:
            raise ValueError("max_depth must be at least 1")
        if self.beam < 1:
            raise ValueError("beam must be at least 1")


@stage("reply_graph.v1", config=ReplyGraphConfig, requires=("embeddings",), assigns=("structure",))
class ReplyGraphStage:
    """Infer reply links and lost authors where the input has none."""

    def __init__(self, config: ReplyGraphConfig, resources: Resources) -> None:
        self.config = config
        self.resources = resources

    def _weights(self) -> tuple[Scorer, ModelRecord | None]:
        cfg = self.config
        return self.resources.get(f"reply_links:{cfg}", lambda: load_reply_weights(cfg.model, cfg.weights))

    def __call__(self, docs: Sequence[Doc]) -> None:
        for doc in docs:
            if doc.thread.structure_known:
                doc.annotations.put("structure", Structure(inferred=False))
                continue
            weights, record = self._weights()
            if record is not None:
                doc.use_model(record)
            v = embeddings(doc).vectors
            has_article = bool(doc.thread.article)
            doc.thread = infer_structure(
                doc.thread,
                v[1:],
                v[0] if has_article else None,
                weights,
                max_depth=self.config.max_depth,
                beam=self.config.beam,
                title_vector=None if has_article else v[0],
            )
            doc.annotations.put("structure", Structure(inferred=True))
