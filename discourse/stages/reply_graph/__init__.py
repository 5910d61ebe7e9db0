"""``reply_graph.v1``: who answers whom, for threads whose export lost it (scraped flat text).

The candidates for a comment's parent are the article and the comments on the depth-first
path above it; a fitted scorer (``models/reply-links-v1``, model kind ``reply_links``) picks
one, with a confidence and the evidence. Authors lost with their author line are inferred
only on firm evidence. Threads whose structure is known pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from discourse.core.engine import Doc, Resources
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


@dataclass(frozen=True)
class Structure:
    """How a thread's reply links were found (working state; analysis.json has
    ``thread.structure_inferred`` and every link's confidence and evidence)."""

    inferred: bool


register_layer("structure", "thread", Structure, public=False, doc="how the reply links were found")


def _build_reply_links(source: ModelSource) -> ReplyWeights:
    return weights_from_meta(source.meta, source.spec.name or str(source.spec.path))


register_model_kind("reply_links", _build_reply_links, inputs="thread", task="reply_links")


def load_reply_weights(
    model: ModelSpec | str | None, overrides: Mapping[str, float] | None = None
) -> tuple[ReplyWeights, ModelRecord | None]:
    """The fitted weights of a reply-link model (sha256-checked) with ``overrides`` applied;
    the hand-set prior when ``model`` is None."""
    if model is None:
        return ReplyWeights.from_config(overrides), None
    spec = ModelSpec(name=model) if isinstance(model, str) else model
    loaded = load_model(spec, task="reply_links")
    return ReplyWeights.from_config(overrides, loaded.model), loaded.record


@dataclass(frozen=True)
class ReplyGraphConfig:
    model: ModelSpec | None = ModelSpec(name="reply-links-v1")  # null = the hand-set prior in ReplyWeights
    weights: Mapping[str, float] = field(default_factory=dict)  # override single weights, e.g. {similarity: 4.0}
    max_depth: int = MAX_DEPTH  # candidates: the article and at most this many comments up the path

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(LINK_FEATURES))
        if unknown:
            raise ValueError(f"unknown reply-link weight(s) {unknown}; known: {', '.join(LINK_FEATURES)}")
        if self.max_depth < 1:
            raise ValueError("max_depth must be at least 1")


@stage("reply_graph.v1", config=ReplyGraphConfig, requires=("embeddings",), assigns=("structure",))
class ReplyGraphStage:
    """Infer reply links and lost authors where the input has none."""

    def __init__(self, config: ReplyGraphConfig, resources: Resources) -> None:
        self.config = config
        self.resources = resources

    def _weights(self) -> tuple[ReplyWeights, ModelRecord | None]:
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
            doc.thread = infer_structure(
                doc.thread, v[1:], v[0] if doc.thread.article else None, weights, max_depth=self.config.max_depth
            )
            doc.annotations.put("structure", Structure(inferred=True))
