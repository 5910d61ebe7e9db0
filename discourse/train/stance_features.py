"""The stance training matrix: every labelled (reply, target) pair as the features the shipped
head reads (:func:`~discourse.stages.stance.features.pair_features`), with its label, group and
dataset, and the feature-block variants model selection compares.

Every distinct text is embedded ONCE with the shared :class:`SentenceEncoder`; the vectors are
cached in an ``.npz`` outside the repository, keyed by a hash of the texts and the encoder settings.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from discourse.stages.stance.cues import Cue, find_cues
from discourse.stages.stance.features import CUE_FEATURES, pair_features
from discourse.stages.stance.model import FEATURE_BLOCKS
from discourse.train.stance_data import DATASETS, StanceRow

VARIANTS: dict[str, tuple[str, ...]] = {
    "full": ("r", "t", "rt", "absdiff"),
    "no_target_block": ("r", "rt", "absdiff"),
    "reply_only": ("r",),
    "cues_only": (),
}
"""Feature-block sets compared by model selection; the cue features are always in."""


def cache_key(texts: Sequence[str], encoder: Any) -> str:
    """16 hex digits naming the texts (in sorted order) and the encoder settings."""
    parts = [encoder.model, str(encoder.max_length), encoder.dtype, *texts]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]


def embed_texts(texts: Sequence[str], cache_dir: Path, encoder: Any) -> dict[str, np.ndarray]:
    """Vectors for every distinct text, from the cache when the texts and settings match."""
    uniq = sorted(set(texts))
    path = cache_dir / f"stance-embeddings-{cache_key(uniq, encoder)}.npz"
    if path.exists():
        vecs = np.load(path)["vectors"]
        print(f"embeddings: {len(uniq)} texts from cache {path}", flush=True)
    else:
        t0 = time.perf_counter()
        vecs = encoder.encode(uniq).vectors
        dt = time.perf_counter() - t0
        print(f"embeddings: {len(uniq)} texts in {dt:.0f}s ({len(uniq) / dt:.0f}/s)", flush=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, vectors=vecs)
        tmp.replace(path)
    return dict(zip(uniq, vecs, strict=True))


def block_columns(dim: int, blocks: Sequence[str]) -> np.ndarray:
    """Column indices of ``pair_features`` for the chosen vector blocks plus all cue features."""
    cols = [np.arange(k * dim, (k + 1) * dim) for k, b in enumerate(FEATURE_BLOCKS) if b in blocks]
    cols.append(np.arange(len(FEATURE_BLOCKS) * dim, len(FEATURE_BLOCKS) * dim + len(CUE_FEATURES)))
    return np.concatenate(cols)


@dataclass(frozen=True)
class StanceMatrix:
    """Row ``i`` of every field describes the same labelled pair (datasets in ``DATASETS`` order)."""

    R: np.ndarray  # (n, dim) reply vectors
    T: np.ndarray  # (n, dim) target vectors
    replies: list[str]
    X: np.ndarray  # (n, 4 * dim + len(CUE_FEATURES)) pair features
    y: np.ndarray  # labels
    groups: np.ndarray  # "<dataset>|<group>": what a split keeps together
    datasets: np.ndarray
    cues: list[list[Cue]]  # find_cues of every reply

    @property
    def dim(self) -> int:
        return int(self.R.shape[1])

    def columns(self, variant: str) -> np.ndarray:
        return block_columns(self.dim, VARIANTS[variant])


def labelled_rows(data: Mapping[str, Sequence[StanceRow]]) -> list[tuple[str, StanceRow]]:
    """(dataset, row) pairs in ``DATASETS`` order."""
    return [(ds, r) for ds in DATASETS for r in data[ds]]


def stance_matrix(rows: Sequence[tuple[str, StanceRow]], vectors: Mapping[str, np.ndarray]) -> StanceMatrix:
    """The features, labels, groups and cues of ``rows``, from the vectors of their texts."""
    replies = [r.reply_text for _, r in rows]
    R = np.stack([vectors[r.reply_text] for _, r in rows])
    T = np.stack([vectors[r.target_text] for _, r in rows])
    return StanceMatrix(
        R=R,
        T=T,
        replies=replies,
        X=pair_features(R, T, replies),
        y=np.array([r.label for _, r in rows]),
        groups=np.array([f"{ds}|{r.group}" for ds, r in rows]),
        datasets=np.array([ds for ds, _ in rows]),
        cues=[find_cues(t) for t in replies],
    )
