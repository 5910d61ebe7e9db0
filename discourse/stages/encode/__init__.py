"""``encode.v1``: the one shared encoder pass over every comment (and the article).

All threads of a group are encoded together in one length-sorted pass; each thread gets its
rows as the ``embeddings`` layer (working state, not in analysis.json), which the reply graph,
stance and chain summaries read instead of encoding again. With a ``token_probe`` (default: the
toxicity evidence probe ``tox-spans-v1``, applied only with the encoder it was trained on) the same
pass also scores every token from one intermediate layer: the ``token_scores`` layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from discourse.core.engine import Doc, Resources
from discourse.core.errors import ModelError
from discourse.core.layers import register_layer
from discourse.core.modelfiles import ModelRecord
from discourse.core.models import ModelSpec, model_source
from discourse.core.stage import stage
from discourse.core.thread import Thread
from discourse.stages.encode.cached import encode_texts
from discourse.stages.encode.encoder import (
    BATCH_SIZE,
    DEFAULT_ENCODER,
    MAX_LENGTH,
    MAX_TOKENS_PER_TEXT,
    Encoded,
    SentenceEncoder,
    TokenProbe,
)
from discourse.stages.encode.store import SentenceStore
from discourse.text import scrub_surrogates

register_layer(
    "embeddings",
    "thread",
    Encoded,
    public=False,
    doc="row 0 the article (or title), row k+1 comment k, from the shared encoder pass",
)

TOKEN_PROBE = "tox-spans-v1"


@dataclass(frozen=True)
class TokenScores:
    """Per text of a thread (row 0 the article, row k+1 comment k): every encoded token's
    character offsets and the token probe's output (float16), from the shared pass. ``store`` is
    None when no probe ran (none configured, or the probe was trained on another encoder)."""

    probe: str | None
    store: SentenceStore | None

    def spans(self, row: int) -> np.ndarray:
        """(tokens, 2) character offsets of text ``row``'s tokens."""
        assert self.store is not None
        return np.asarray(self.store.spans(row), dtype=np.int64).reshape(-1, 2)

    def scores(self, row: int) -> np.ndarray:
        """(tokens,) float32: the probe's first output for each token of text ``row``."""
        assert self.store is not None
        return np.asarray(self.store.vectors(row), dtype=np.float32)[:, 0]


register_layer(
    "token_scores",
    "thread",
    TokenScores,
    public=False,
    doc="per token of every text: character offsets and the token probe's score, from the shared pass",
)


@dataclass(frozen=True)
class EncodeConfig:
    model: str = DEFAULT_ENCODER  # "package:<module>", a local folder or a cached Hugging Face id
    max_length: int = MAX_LENGTH  # MiniLM was trained at 256 tokens
    batch_size: int = BATCH_SIZE
    dtype: Literal["auto", "fp32", "bf16"] = "auto"  # auto = bf16 where the CPU has it
    max_tokens_per_text: int = MAX_TOKENS_PER_TEXT  # longer comments are encoded up to this, with a warning
    token_probe: ModelSpec | None = ModelSpec(name=TOKEN_PROBE)  # per-token scores from the same pass; null = none
    backend: Literal["auto", "torch", "openvino"] = "auto"  # auto = OpenVINO where installed and the CPU has bf16

    def __post_init__(self) -> None:
        if self.max_length < 8 or self.batch_size < 1 or self.max_tokens_per_text < self.max_length:
            raise ValueError("need max_length >= 8, batch_size >= 1 and max_tokens_per_text >= max_length")


def encoder_texts(thread: Thread) -> list[str]:
    """What the one encoder pass reads for a thread: the article (or title), then every comment
    (lone surrogates replaced: a Thread built in Python may hold them; parsers already warn)."""
    return [scrub_surrogates(t) for t in [thread.article or thread.title or "", *(c.text for c in thread.comments)]]


def load_token_probe(spec: ModelSpec, encoder: str) -> tuple[TokenProbe, ModelRecord | None] | None:
    """The probe a model folder carries (``token_probe`` in its model.json, weights
    ``probe_weight`` / ``probe_bias`` in model.safetensors), or None when it was trained on
    another encoder than ``encoder`` (a probe reads one encoder's layer and nothing else)."""
    source, _ = model_source(spec)
    label = spec.name or spec.path or ""
    meta = source.meta.get("token_probe")
    if not isinstance(meta, dict) or not isinstance(meta.get("layer"), int):
        raise ModelError(f"model {label}: model.json has no token_probe section with a layer")
    if meta.get("encoder") != encoder:
        return None
    assert source.folder is not None
    try:
        from safetensors.numpy import load_file

        w = load_file(str(Path(source.folder) / "model.safetensors"))
        weight, bias = w["probe_weight"], w["probe_bias"]
    except Exception as exc:  # noqa: BLE001 - any failure means unusable weights
        raise ModelError(f"model {label}: could not read probe_weight/probe_bias: {exc}") from exc
    weight = weight.reshape(weight.shape[0], -1).astype(np.float32)
    name = source.record.name if source.record else label
    return TokenProbe(int(meta["layer"]), weight, bias.reshape(-1).astype(np.float32), name), source.record


def shared_encoder(config: EncodeConfig, resources: Resources) -> SentenceEncoder:
    def build() -> SentenceEncoder:
        probe = load_token_probe(config.token_probe, config.model) if config.token_probe else None
        enc = SentenceEncoder(
            config.model,
            config.max_length,
            config.batch_size,
            config.dtype,
            config.max_tokens_per_text,
            token_probe=probe[0] if probe else None,
            backend=config.backend,
        )
        enc.token_probe_record = probe[1] if probe else None
        return enc

    return resources.get(f"encoder:{config}", build)


def embeddings(doc: Doc) -> Encoded:
    """The thread's rows of the shared pass (for stages that require ``embeddings``)."""
    return doc.annotations.value("embeddings")


@stage("encode.v1", config=EncodeConfig, requires=("text",), assigns=("embeddings", "token_scores"))
class EncodeStage:
    """One length-sorted encoder pass over every text of every thread in the group."""

    def __init__(self, config: EncodeConfig, resources: Resources) -> None:
        self.encoder = shared_encoder(config, resources)
        self.resources = resources

    def __call__(self, docs: Sequence[Doc]) -> None:
        texts = [x for d in docs for x in encoder_texts(d.thread)]
        # each distinct text once; cached ones never
        encoded = encode_texts(self.encoder, texts, self.resources.results, self.resources.report)
        record = self.encoder.record()
        probe = self.encoder.token_probe
        probe_record = self.encoder.token_probe_record
        at = 0
        for d in docs:
            k = len(d.thread.comments) + 1
            rows = encoded.rows(at, at + k)
            at += k
            d.annotations.put("embeddings", rows)
            d.annotations.put("token_scores", TokenScores(probe.name if probe else None, rows.tokens))
            d.use_model(record)
            if probe_record is not None:
                d.use_model(probe_record)
            for c, capped in zip(d.thread.comments, rows.capped[1:], strict=True):
                if capped:
                    d.warn(
                        f"comment {c.id} is long ({len(c.text):,} characters); only its first "
                        f"{self.encoder.max_tokens_per_text} tokens were encoded (text kept whole)"
                    )
