"""``toxicity.v1``: every comment's toxicity, with the model and the words that drove it.

The default model is tox-block 0.1.2 (model kind ``toxblock``: the Keras BiLSTM ported exactly
to torch, six Jigsaw labels, shipped in ``models/``); any Hugging Face sequence classifier can
replace it (``model: {hf_model: <folder>}``). Texts of every thread in a group go through the
model together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from discourse.core.engine import Doc, Resources
from discourse.core.errors import ConfigError
from discourse.core.layers import register_layer
from discourse.core.models import Loaded, ModelSource, ModelSpec, load_model, register_model_kind
from discourse.core.stage import stage
from discourse.stages.toxicity.result import ToxicityResult
from discourse.stages.toxicity.scoring import overall_toxicity

register_layer("toxicity", "comment", ToxicityResult, doc="overall score, per-label scores, model, evidence words")

DEFAULT_MODEL = "tox-block-0.1.2"


def _build_toxblock(source: ModelSource) -> Any:
    from discourse.stages.toxicity.toxblock import BATCH_SIZE, ToxBlockClassifier

    return ToxBlockClassifier(
        source.record.name if source.record else DEFAULT_MODEL,
        folder=source.folder,
        batch_size=source.spec.batch_size or BATCH_SIZE,
        record=source.record,
    )


register_model_kind("toxblock", _build_toxblock, inputs="text", explains=True, task="toxicity")


@dataclass(frozen=True)
class ToxicityConfig:
    model: ModelSpec = ModelSpec(name=DEFAULT_MODEL)  # or {hf_model: "<folder or cached hub id>", labels: [...]}
    explain_above: float = 0.2  # find the words that drove scores at or above this

    def __post_init__(self) -> None:
        if not 0.0 <= self.explain_above <= 1.0:
            raise ValueError("explain_above must be in 0..1")


@stage("toxicity.v1", config=ToxicityConfig, requires=("text",), assigns=("toxicity",))
class ToxicityStage:
    """Score every comment of every thread in the group in one batched pass."""

    def __init__(self, config: ToxicityConfig, resources: Resources) -> None:
        self.config = config
        self.resources = resources

    def _model(self) -> Loaded:
        spec = self.config.model
        return self.resources.get(f"toxicity:{spec}", lambda: load_model(spec, task="toxicity"))

    def __call__(self, docs: Sequence[Doc]) -> None:
        loaded = self._model()
        if loaded.kind.inputs not in ("text", "text_or_pair"):
            raise ConfigError(
                f"toxicity.v1 needs a model that reads texts; {loaded.kind.name} reads {loaded.kind.inputs}"
            )
        model = loaded.model
        texts = [c.text for d in docs for c in d.thread.comments]
        scores = model.predict_batch(texts) if texts else []
        overall = [overall_toxicity(s) for s in scores]
        evidence: list[tuple[str, ...]] = [()] * len(texts)
        hot = [k for k, o in enumerate(overall) if o >= self.config.explain_above]
        if hot and loaded.kind.explains:
            for k, ev in zip(hot, model.explain([texts[k] for k in hot]), strict=True):
                evidence[k] = tuple(ev)
        record = loaded.record or model.record()
        at = 0
        for d in docs:
            d.use_model(record)
            for c in d.thread.comments:
                d.annotations.set(
                    c.id, "toxicity", ToxicityResult(overall[at], dict(scores[at]), model.name, evidence[at])
                )
                at += 1
