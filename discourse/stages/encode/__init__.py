"""``encode.v1``: the one shared encoder pass over every comment (and the article).

All threads of a group are encoded together in one length-sorted pass; each thread gets its
rows as the ``embeddings`` layer (working state, not in analysis.json), which the reply graph,
stance and chain summaries read instead of encoding again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from discourse.core.engine import Doc, Resources
from discourse.core.layers import register_layer
from discourse.core.stage import stage
from discourse.core.thread import Thread
from discourse.stages.encode.encoder import (
    BATCH_SIZE,
    DEFAULT_ENCODER,
    MAX_LENGTH,
    MAX_TOKENS_PER_TEXT,
    Encoded,
    SentenceEncoder,
)
from discourse.text import scrub_surrogates

register_layer(
    "embeddings",
    "thread",
    Encoded,
    public=False,
    doc="row 0 the article (or title), row k+1 comment k, from the shared encoder pass",
)


@dataclass(frozen=True)
class EncodeConfig:
    model: str = DEFAULT_ENCODER  # "package:<module>", a local folder or a cached Hugging Face id
    max_length: int = MAX_LENGTH  # MiniLM was trained at 256 tokens
    batch_size: int = BATCH_SIZE
    dtype: Literal["auto", "fp32", "bf16"] = "auto"  # auto = bf16 where the CPU has it
    max_tokens_per_text: int = MAX_TOKENS_PER_TEXT  # longer comments are encoded up to this, with a warning

    def __post_init__(self) -> None:
        if self.max_length < 8 or self.batch_size < 1 or self.max_tokens_per_text < self.max_length:
            raise ValueError("need max_length >= 8, batch_size >= 1 and max_tokens_per_text >= max_length")


def encoder_texts(thread: Thread) -> list[str]:
    """What the one encoder pass reads for a thread: the article (or title), then every comment
    (lone surrogates replaced: a Thread built in Python may hold them; parsers already warn)."""
    return [scrub_surrogates(t) for t in [thread.article or thread.title or "", *(c.text for c in thread.comments)]]


def shared_encoder(config: EncodeConfig, resources: Resources) -> SentenceEncoder:
    return resources.get(
        f"encoder:{config}",
        lambda: SentenceEncoder(
            config.model, config.max_length, config.batch_size, config.dtype, config.max_tokens_per_text
        ),
    )


def embeddings(doc: Doc) -> Encoded:
    """The thread's rows of the shared pass (for stages that require ``embeddings``)."""
    return doc.annotations.value("embeddings")


@stage("encode.v1", config=EncodeConfig, requires=("text",), assigns=("embeddings",))
class EncodeStage:
    """One length-sorted encoder pass over every text of every thread in the group."""

    def __init__(self, config: EncodeConfig, resources: Resources) -> None:
        self.encoder = shared_encoder(config, resources)

    def __call__(self, docs: Sequence[Doc]) -> None:
        texts = [x for d in docs for x in encoder_texts(d.thread)]
        encoded = self.encoder.encode(texts)
        record = self.encoder.record()
        at = 0
        for d in docs:
            k = len(d.thread.comments) + 1
            rows = encoded.rows(at, at + k)
            at += k
            d.annotations.put("embeddings", rows)
            d.use_model(record)
            for c, capped in zip(d.thread.comments, rows.capped[1:], strict=True):
                if capped:
                    d.warn(
                        f"comment {c.id} is long ({len(c.text):,} characters); only its first "
                        f"{self.encoder.max_tokens_per_text} tokens were encoded (text kept whole)"
                    )
