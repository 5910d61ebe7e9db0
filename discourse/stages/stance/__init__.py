"""``stance.v1``: each reply's stance toward its parent (a top-level comment's toward the
article): agree / disagree / neutral / query, with the model and the cue that decided it.

Model kinds: ``stance_pair`` (``stance-pair-minilm-v1``, a cross-encoder that reads target and reply
together, every pair of the group in one length-sorted pass, with the deciding reply sentence as
evidence; see :mod:`~discourse.stages.stance.pair_model`), and ``linear_head`` / ``mlp_head``
(``stance-minilm-v1``, a head over the shared encoder vectors plus lexical cue features: no second
encoder run). For every kind an explicit cue ("I disagree") decides the label. A user's Hugging
Face classifier (``model: {hf_model: <folder>, labels: [...]}``) runs through ``stance_pair``,
reading (target, reply) like an NLI model reads (premise, hypothesis).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from discourse.core.cache import cached_map, content_key
from discourse.core.engine import Doc, Resources
from discourse.core.errors import ConfigError
from discourse.core.layers import register_layer
from discourse.core.models import Loaded, ModelSource, ModelSpec, load_model, register_model_kind
from discourse.core.stage import stage
from discourse.stages.encode import embeddings
from discourse.stages.stance.cues import MAX_SCAN_CHARS, cue_scope
from discourse.stages.stance.model import GatheredRows
from discourse.stages.stance.result import StanceResult

register_layer("stance", "comment", StanceResult, doc="label, every label's score, target, model, evidence")

DEFAULT_MODEL = "stance-pair-minilm-v1"
HEAD_MODEL = "stance-minilm-v1"


def _build_head(source: ModelSource) -> Any:
    from discourse.stages.stance.model import StanceClassifier

    name = source.record.name if source.record else HEAD_MODEL
    return StanceClassifier(name, folder=source.folder, record=source.record)


for _kind in ("linear_head", "mlp_head"):
    register_model_kind(_kind, _build_head, inputs="encoded_pair", explains=True, task="stance")


def build_pair_model(source: ModelSource) -> Any:
    """A :class:`~discourse.stages.stance.pair_model.StancePairClassifier` for a shipped or local pair
    folder, or a user's Hugging Face classifier (``hf_model``); labels come from the spec or the files."""
    from discourse.stages.stance.pair_model import StancePairClassifier

    spec = source.spec
    if spec.hf_model:
        return StancePairClassifier(
            hf_model=spec.hf_model, labels=spec.labels, batch_size=spec.batch_size or 32, max_length=spec.max_length
        )
    name = source.record.name if source.record else str(spec.name or spec.path)
    return StancePairClassifier(
        name,
        folder=source.folder,
        record=source.record,
        labels=spec.labels,
        batch_size=spec.batch_size or 32,
        max_length=spec.max_length,
    )


PAIR_KIND = register_model_kind("stance_pair", build_pair_model, inputs="text_pair", explains=True, task="stance")


CACHE_KIND = "stance.v1"


@dataclass(frozen=True)
class StanceConfig:
    model: ModelSpec = ModelSpec(name=DEFAULT_MODEL)  # or {hf_model: "<folder>", labels: [...]}
    sentence_evidence: bool = True  # pair models: name the reply sentence that decided the label


def _record(loaded: Loaded) -> Any:
    """What the run used: the pair model's own record names the runtime that ran it (OpenVINO or torch)."""
    if loaded.kind.name == PAIR_KIND.name:
        return loaded.model.record()
    return loaded.record or loaded.model.record()


def _load(spec: ModelSpec) -> Loaded:
    """A user's Hugging Face classifier reads (target, reply) through the pair kind, with the cue rule
    and the deciding sentence; every other spec is built by the kind its model.json names."""
    if spec.hf_model:
        return Loaded(build_pair_model(ModelSource(spec, None, None, {})), PAIR_KIND, None)
    return load_model(spec, task="stance")


@stage("stance.v1", config=StanceConfig, requires=("structure", "embeddings"), assigns=("stance",))
class StanceStage:
    """Stance of every comment toward what it answers, for every thread in the group at once."""

    def __init__(self, config: StanceConfig, resources: Resources) -> None:
        self.config = config
        self.resources = resources

    def _pairs(
        self, loaded: Loaded, pairs: list[tuple[str, str]], explain: bool
    ) -> tuple[list[dict[str, float]], list[tuple[str, ...]] | None]:
        """Scores (and deciding evidence) of ``(reply, target)`` pairs; a pair the run's result
        cache holds for the same model files and settings is not scored again (the pair pass is
        batch-invariant, so a cached result equals a fresh one)."""
        from discourse import __version__  # the cue rule is code: a new version scores afresh

        model = loaded.model
        record = _record(loaded)  # its runtime too: OpenVINO and torch differ in the last bits
        identity = json.dumps(
            [sorted(record.files.items()), record.version, str(self.config), __version__, explain, record.runtime],
            sort_keys=True,
        )
        keys = [content_key(CACHE_KIND, identity, r, t) for r, t in pairs]

        def compute(idx: list[int]) -> list[tuple[dict[str, float], tuple[str, ...]]]:
            part = [pairs[i] for i in idx]
            if explain:
                s, e = model.predict_explained(part)
                return list(zip(s, e, strict=True))
            return [(s, ()) for s in model.predict_batch(part)]

        done = cached_map(
            self.resources.results,
            CACHE_KIND,
            keys,
            compute,
            dump=lambda r: json.dumps([r[0], list(r[1])]).encode("utf-8"),
            load=lambda b: (lambda v: (dict(v[0]), tuple(v[1])))(json.loads(b)),
        )
        return [s for s, _ in done], ([e for _, e in done] if explain else None)

    def _model(self) -> Loaded:
        spec = self.config.model
        return self.resources.get(f"stance:{spec}", lambda: _load(spec))

    def __call__(self, docs: Sequence[Doc]) -> None:
        with cue_scope():  # features, cue rule and evidence read each comment's cues once
            self._run(docs)

    def _run(self, docs: Sequence[Doc]) -> None:
        loaded = self._model()
        model = loaded.model
        comments = [(d, k, c) for d in docs for k, c in enumerate(d.thread.comments)]
        if not comments:
            return
        explained: list[tuple[str, ...]] | None = None
        texts = [c.text for _, _, c in comments]
        if loaded.kind.inputs == "encoded_pair":
            sources, reply_rows, target_rows = [], [], []
            for k, d in enumerate(docs):
                sources.append(embeddings(d).vectors)
                at = {c.id: j + 1 for j, c in enumerate(d.thread.comments)}
                reply_rows.append(np.stack([np.full(len(at), k), np.arange(1, len(at) + 1)], axis=1))
                parents = [0 if c.parent_id is None else at[c.parent_id] for c in d.thread.comments]
                target_rows.append(np.stack([np.full(len(at), k), np.asarray(parents, dtype=np.int64)], axis=1))
            reply = GatheredRows(sources, np.concatenate(reply_rows))
            target = GatheredRows(sources, np.concatenate(target_rows))
            scores = model.predict_encoded(reply, target, texts)
        elif loaded.kind.inputs in ("text_pair", "text_or_pair"):
            pairs: list[tuple[str, str]] = []
            for d in docs:
                byid = d.thread.by_id()
                root = d.thread.article or d.thread.title
                pairs.extend(
                    (c.text, root if c.parent_id is None else byid[c.parent_id].text) for c in d.thread.comments
                )
            explain = loaded.kind.name == PAIR_KIND.name and self.config.sentence_evidence
            scores, explained = self._pairs(loaded, pairs, explain)
        else:
            raise ConfigError(
                f"stance.v1 needs a model that reads (reply, target) pairs; "
                f"{loaded.kind.name} reads {loaded.kind.inputs}"
            )
        record = _record(loaded)
        for d in docs:
            d.use_model(record)
        for i, ((d, _, c), s) in enumerate(zip(comments, scores, strict=True)):
            label = max(s, key=lambda k: s[k])
            if explained is not None:
                ev = explained[i]
            else:
                ev = tuple(model.evidence(c.text, label)) if loaded.kind.explains else ()
            d.annotations.set(c.id, "stance", StanceResult(label, dict(s), c.parent_id, model.name, ev))
            if len(c.text) > MAX_SCAN_CHARS:
                d.warn(f"comment {c.id}: only its first {MAX_SCAN_CHARS:,} characters were read for stance cues")
