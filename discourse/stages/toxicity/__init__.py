"""``toxicity.v1``: every comment's toxicity, with the model and the words that drove it.

The default model is tox-block 0.1.2 (kind ``toxblock``: the Keras BiLSTM ported exactly to
torch, six Jigsaw labels). The opt-in ``tox-minilm-v1`` (kind ``toxicity_head``) is a logistic
head over the shared encoder vector and tox-block's six label logits, blended with tox-block's
max: it needs ``encode.v1`` earlier in the pipeline and runs tox-block (its ``feature_model``)
itself. Any Hugging Face sequence classifier can
replace both (``model: {hf_model: <folder>}``). Texts of every thread in a group go through the
models together; tox-block reads a long comment in windows (see :mod:`.windows`).

Evidence (the words that drove a score, as character offsets) comes from the span model
``tox-spans-v1`` (:mod:`.evidence`): ``encode.v1`` scores every token with its layer-3 probe in the
shared pass, and the stage stacks that with a lexicon and tox-block's single-word table, running no
model again. Without those token scores (no ``encode.v1``, ``token_probe: null``, another encoder)
the words come from tox-block's occlusion (:meth:`~.toxblock.ToxBlockClassifier.explain`).

With ``context`` (default) a reply is scored on its own words: what it quotes (``>`` lines, runs of
six or more of its parent's words) is left out of its score and its evidence (:mod:`.context`).

tox-block's results (best window per text, and occlusion words) go through the run's result cache
(kinds ``toxicity.v1`` and ``toxicity.explain.v1``): tox-block is batch-invariant (every forward one
shape on one thread), so a second night scores only the texts it has not seen, with the same bits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from discourse.core.cache import cached_map, content_key
from discourse.core.engine import Doc, Resources
from discourse.core.errors import ConfigError
from discourse.core.layers import register_layer
from discourse.core.models import Loaded, ModelSource, ModelSpec, load_model, model_source, register_model_kind
from discourse.core.stage import stage
from discourse.stages.toxicity.context import own_words, quoted_spans
from discourse.stages.toxicity.evidence import SpanModel, load_span_model, token_evidence
from discourse.stages.toxicity.result import ToxicityResult
from discourse.stages.toxicity.scoring import overall_toxicity
from discourse.stages.toxicity.windows import Windowed, score_windowed, word_spans
from discourse.text import scrub_surrogates

register_layer("toxicity", "comment", ToxicityResult, doc="overall score, per-label scores, model, evidence words")

TOXBLOCK = "tox-block-0.1.2"
DEFAULT_MODEL = TOXBLOCK
SPAN_MODEL = "tox-spans-v1"
"""tox-block stays the default: the opt-in head tox-minilm-v1 ranks better across sources (see its card)
but scores civil disagreement on the reference thread as toxic (0.71, 0.91) and drops the attack on the
commenters to 5th in the queue (tox-block: 1st)."""


def _build_toxblock(source: ModelSource) -> Any:
    from discourse.stages.toxicity.toxblock import BATCH_SIZE, ToxBlockClassifier

    return ToxBlockClassifier(
        source.record.name if source.record else TOXBLOCK,
        folder=source.folder,
        batch_size=source.spec.batch_size or BATCH_SIZE,
        record=source.record,
    )


def _build_head(source: ModelSource) -> Any:
    from discourse.stages.toxicity.head import ToxicityHead

    assert source.folder is not None
    return ToxicityHead(source.record.name if source.record else DEFAULT_MODEL, source.folder, source.record)


register_model_kind("toxblock", _build_toxblock, inputs="text", explains=True, task="toxicity")
register_model_kind("toxicity_head", _build_head, inputs="encoded_text", task="toxicity")


@dataclass(frozen=True)
class Calibration:
    """A site's Platt map of the head's blended score ``z``: ``p = sigmoid(a z + b)``
    (``discourse calibrate`` writes it), and the decision threshold on ``p`` it chose."""

    a: float
    b: float
    threshold: float = 0.5  # flag at or above this calibrated score
    thresholds: Mapping[str, float] | None = None  # per product label (insult, threat, ...), on its raw score


@dataclass(frozen=True)
class ToxicityConfig:
    model: ModelSpec = ModelSpec(name=DEFAULT_MODEL)  # or {name: tox-block-0.1.2}, {hf_model: "<folder>"}
    feature_model: ModelSpec = ModelSpec(name=TOXBLOCK)  # what a toxicity_head model reads labels from
    explain_above: float = 0.2  # find the words that drove scores at or above this
    evidence_model: ModelSpec | None = ModelSpec(name=SPAN_MODEL)  # reads encode.v1's token scores; null = occlusion
    calibration: Calibration | None = None  # a site's Platt map for the head; None = the shipped one
    window_words: int = 80  # tox-block reads a comment of more than window_above words in windows
    window_stride: int = 40
    window_above: int = 90
    context: bool = True  # score a reply on its own words (its ">" quotes and copies of its parent left out)

    def __post_init__(self) -> None:
        if not 0.0 <= self.explain_above <= 1.0:
            raise ValueError("explain_above must be in 0..1")
        if not 1 <= self.window_stride <= self.window_words <= self.window_above:
            raise ValueError("need 1 <= window_stride <= window_words <= window_above")


TokenRow = tuple[Any, int]
"""A comment's place in the shared pass's token scores: (its thread's TokenScores, its row)."""
CACHE_KIND = "toxicity.v1"
"""Result-cache kind of tox-block's best window per text (scores and character range)."""
EXPLAIN_KIND = "toxicity.explain.v1"
"""Result-cache kind of tox-block's occlusion words per scored window."""


def _identity(model: Any, *settings: object) -> str:
    """What a tox-block result depends on besides its text: the model files' sha256, the rows of
    its fixed forward shape, the package version and the caller's settings."""
    from discourse import __version__

    record = model.record()
    return json.dumps([sorted(record.files.items()), record.version, model.batch_size, __version__, *settings])


@stage("toxicity.v1", config=ToxicityConfig, requires=("text",), assigns=("toxicity",))
class ToxicityStage:
    """Score every comment of every thread in the group in one batched pass."""

    def __init__(self, config: ToxicityConfig, resources: Resources) -> None:
        self.config = config
        self.resources = resources

    def _load(self, spec: ModelSpec) -> Loaded:
        return self.resources.get(f"toxicity:{spec}", lambda: load_model(spec, task="toxicity"))

    def _windowed(self, model: Any, texts: list[str]) -> list[Windowed]:
        """tox-block's best window per text. A text the run's result cache holds for the same model
        files and window settings is not scored again: tox-block runs every forward at one shape on
        one thread, so a text's scores are the same bits whatever shares its batch."""
        c = self.config
        identity = _identity(model, c.window_words, c.window_stride, c.window_above)
        keys = [content_key(CACHE_KIND, identity, t) for t in texts]

        def compute(idx: list[int]) -> list[Windowed]:
            part = [texts[i] for i in idx]
            return score_windowed(model.predict_batch, part, c.window_words, c.window_stride, c.window_above)

        return cached_map(self.resources.results, CACHE_KIND, keys, compute, dump=_dump_windowed, load=_load_windowed)

    def _explained(self, model: Any, pieces: list[str]) -> list[tuple[str, ...]]:
        """tox-block's occlusion words per piece, through the result cache like its scores."""
        identity = _identity(model)
        keys = [content_key(EXPLAIN_KIND, identity, p) for p in pieces]

        def compute(idx: list[int]) -> list[tuple[str, ...]]:
            return [tuple(w) for w in model.explain([pieces[i] for i in idx])]

        return cached_map(
            self.resources.results,
            EXPLAIN_KIND,
            keys,
            compute,
            dump=lambda words: json.dumps(list(words)).encode("utf-8"),
            load=lambda b: tuple(json.loads(b)),
        )

    @staticmethod
    def _own_texts(docs: Sequence[Doc]) -> list[str]:
        """Every comment's text with what it quotes blanked out (same length, same offsets)."""
        out: list[str] = []
        for d in docs:
            byid = d.thread.by_id()
            for c in d.thread.comments:
                parent = byid.get(c.parent_id) if c.parent_id is not None else None
                out.append(own_words(c.text, quoted_spans(c.text, parent.text if parent else None)))
        return out

    def _span_model(self) -> SpanModel | None:
        spec = self.config.evidence_model
        if spec is None:
            return None

        def build() -> SpanModel:
            source, _ = model_source(spec)
            assert source.folder is not None
            name = source.record.name if source.record else str(spec.name or spec.path)
            return load_span_model(source.folder, name, source.record)

        return self.resources.get(f"toxicity-spans:{spec}", build)

    def _token_rows(self, docs: Sequence[Doc]) -> list[TokenRow | None]:
        """Per comment of the group: where its tokens' offsets and probe logits from the shared pass
        are (its thread's token scores and its row), when the span model's probe made them (else
        None: occlusion explains it). Only the comments that get evidence read them."""
        span = self._span_model()
        out: list[TokenRow | None] = []
        for d in docs:
            ts = d.annotations.value("token_scores") if d.annotations.has_value("token_scores") else None
            usable = span is not None and ts is not None and ts.store is not None and ts.probe == span.name
            for k, c in enumerate(d.thread.comments, start=1):
                same = usable and len(scrub_surrogates(c.text)) == len(c.text)  # offsets are into the same text
                out.append((ts, k) if same else None)
        return out

    def _evidence(
        self,
        loaded: Loaded,
        texts: list[str],
        scored: list[Windowed],
        overall: list[float],
        tokens: Sequence[TokenRow | None],
    ) -> list[Any]:
        """Per text: (words, spans) for the comments scoring at least ``explain_above``: from the
        token scores of the shared pass where there are any, else by occlusion."""
        out: list[Any] = [((), ())] * len(texts)
        hot = [k for k, o in enumerate(overall) if o >= self.config.explain_above]
        span = self._span_model() if any(tokens[k] is not None for k in hot) else None
        if span is not None:
            known_ids = self._load(ModelSpec(name=span.toxblock)).model.known_ids
            for k in hot:
                row = tokens[k]
                if row is not None:
                    ts, at = row
                    out[k] = token_evidence(span, texts[k], ts.spans(at), ts.scores(at), known_ids, scored[k].span)
        rest = [k for k in hot if tokens[k] is None]
        if not rest or not loaded.kind.explains:
            return out
        pieces = [texts[k][scored[k].span[0] : scored[k].span[1]] for k in rest]
        model = loaded.model
        explained = self._explained(model, pieces) if loaded.kind.name == "toxblock" else model.explain(pieces)
        for k, words in zip(rest, explained, strict=True):
            out[k] = (tuple(words), tuple(word_spans(texts[k], words, scored[k].span)))
        return out

    def __call__(self, docs: Sequence[Doc]) -> None:
        if not docs:
            return
        loaded = self._load(self.config.model)
        texts = self._own_texts(docs) if self.config.context else [c.text for d in docs for c in d.thread.comments]
        tokens = self._token_rows(docs)
        if loaded.kind.inputs == "encoded_text":
            results, records = self._with_head(loaded, docs, texts, tokens)
        elif loaded.kind.inputs in ("text", "text_or_pair"):
            results, records = self._alone(loaded, texts, tokens)
        else:
            raise ConfigError(
                f"toxicity.v1 needs a model that reads texts or encoded texts; {loaded.kind.name} reads"
                f" {loaded.kind.inputs}"
            )
        span = self._span_model() if any(t is not None for t in tokens) else None
        if span is not None and span.record is not None:
            records.append(span.record)
        at = 0
        for d in docs:
            for record in records:
                d.use_model(record)
            for c in d.thread.comments:
                d.annotations.set(c.id, "toxicity", results[at])
                at += 1

    def _alone(
        self, loaded: Loaded, texts: list[str], tokens: Sequence[TokenRow | None]
    ) -> tuple[list[ToxicityResult], list[Any]]:
        """A text model on its own: tox-block windowed, any other model on the whole text."""
        model = loaded.model
        if loaded.kind.name == "toxblock":
            scored = self._windowed(model, texts)
        else:
            scored = [Windowed(dict(s), (0, len(t))) for s, t in zip(model.predict_batch(texts), texts, strict=True)]
        overall = [overall_toxicity(s.scores) for s in scored]
        evidence = self._evidence(loaded, texts, scored, overall, tokens)
        results = [
            ToxicityResult(o, s.scores, model.name, words, spans)
            for o, s, (words, spans) in zip(overall, scored, evidence, strict=True)
        ]
        return results, [loaded.record or model.record()]

    def _with_head(
        self,
        loaded: Loaded,
        docs: Sequence[Doc],
        texts: list[str],
        tokens: Sequence[TokenRow | None],
    ) -> tuple[list[ToxicityResult], list[Any]]:
        """The head over the shared encoder vectors and the feature model's windowed labels."""
        from discourse.stages.encode import embeddings
        from discourse.stages.toxicity.head import product_labels

        head = loaded.model
        if not all(d.annotations.has_value("embeddings") for d in docs):
            raise ConfigError(f"toxicity.v1 with {head.name} reads the shared encoder vectors: put encode.v1 before it")
        features = self._load(self.config.feature_model)
        if features.kind.name != "toxblock":
            raise ConfigError(f"toxicity.v1: the feature model of {head.name} must be a toxblock model")
        vectors = np.concatenate([embeddings(d).vectors[1:] for d in docs])
        scored = self._windowed(features.model, texts)
        cal = self.config.calibration
        overall = [float(p) for p in head.predict(vectors, [s.scores for s in scored], (cal.a, cal.b) if cal else None)]
        evidence = self._evidence(features, texts, scored, overall, tokens)
        results = [
            ToxicityResult(o, {**s.scores, **product_labels(o, s.scores)}, head.name, words, spans)
            for o, s, (words, spans) in zip(overall, scored, evidence, strict=True)
        ]
        return results, [features.record or features.model.record(), loaded.record or head.record()]


def _dump_windowed(w: Windowed) -> bytes:
    return json.dumps([w.scores, list(w.span)]).encode("utf-8")  # floats round-trip exactly through JSON


def _load_windowed(b: bytes) -> Windowed:
    scores, span = json.loads(b)
    return Windowed({str(k): float(v) for k, v in scores.items()}, (int(span[0]), int(span[1])))
