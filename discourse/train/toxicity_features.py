"""The head's inputs for a list of texts, computed exactly as ``toxicity.v1`` does at run time:
the shared encoder's vector and tox-block's six raw scores of the highest-scoring window."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from discourse.stages.toxicity.head import FEATURE_LABELS
from discourse.stages.toxicity.windows import score_windowed


def _key(kind: str, texts: Sequence[str]) -> str:
    h = hashlib.sha256(kind.encode())
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass") + b"\x00")
    return h.hexdigest()[:20]


def cached(cache: Path | None, kind: str, texts: Sequence[str], compute: object) -> np.ndarray:
    """``compute(texts)`` (a float array), stored under ``cache`` by the texts' hash when given."""
    path = cache / f"{kind.replace(':', '_').replace('/', '_')}-{_key(kind, texts)}.npy" if cache else None
    if path is not None and path.exists():
        return np.load(path)
    out = np.asarray(compute(texts))  # type: ignore[operator]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
    return out


def encode(texts: Sequence[str], encoder: str, dtype: str = "auto", max_length: int = 256) -> np.ndarray:
    """(n, d) float32: the shared encoder's L2-normalised mean vectors."""
    from discourse.stages.encode.encoder import SentenceEncoder

    return SentenceEncoder(encoder, max_length, 64, dtype).encode(list(texts)).vectors


def toxblock_scores(texts: Sequence[str], name: str = "tox-block-0.1.2") -> np.ndarray:
    """(n, 6) raw scores in :data:`FEATURE_LABELS` order, of each text's best window."""
    from discourse.core.models import ModelSpec, load_model

    model = load_model(ModelSpec(name=name), task="toxicity").model
    rows = score_windowed(model.predict_batch, list(texts))
    return np.array([[r.scores[k] for k in FEATURE_LABELS] for r in rows], dtype=np.float64)


def features(
    texts: Sequence[str], encoder: str, cache: Path | None = None, dtype: str = "auto", max_length: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, tox-block scores) of ``texts``."""
    kind = f"vec-{encoder}-{dtype}" + (f"-{max_length}" if max_length != 256 else "")
    vectors = cached(cache, kind, texts, lambda t: encode(t, encoder, dtype, max_length))
    tox = cached(cache, "toxblock-windowed", texts, toxblock_scores)
    return vectors.astype(np.float64), tox
