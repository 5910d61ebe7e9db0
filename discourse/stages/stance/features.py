"""Features of a (reply, target) pair for the stance head.

``[r, t, r*t, |r-t|]`` from the shared encoder pass (L2-normalised vectors), followed
by a few explicit lexical features of the reply (``CUE_FEATURES``). The order is part
of a trained head's contract and is recorded in its ``model.json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from discourse.stages.stance.cues import CUE_LABELS, MAX_SCAN_CHARS, cue_strengths
from discourse.text import sentences

CUE_FEATURES: tuple[str, ...] = (
    *(f"cue_{label}" for label in CUE_LABELS),  # strongest cue of each kind, 0..1
    "ends_with_question",  # last sentence ends in "?"
    "question_share",  # share of sentences that end in "?"
    "log_words",  # log(1 + words) / 5
)


def feature_names(dim: int) -> list[str]:
    blocks = ("r", "t", "rt", "absdiff")
    return [f"{b}[{i}]" for b in blocks for i in range(dim)] + list(CUE_FEATURES)


def cue_features(text: str) -> list[float]:
    strengths = cue_strengths(text)
    sents = [s.rstrip("\"')]* ") for s in sentences(text[:MAX_SCAN_CHARS])]
    n_q = sum(s.endswith("?") for s in sents)
    return [
        *(strengths[label] for label in CUE_LABELS),
        float(bool(sents) and sents[-1].endswith("?")),
        n_q / len(sents) if sents else 0.0,
        math.log1p(len(text.split())) / 5.0,
    ]


def pair_features(reply_vecs: np.ndarray, target_vecs: np.ndarray, reply_texts: Sequence[str]) -> np.ndarray:
    """(n, 4 * dim + len(CUE_FEATURES)) float32 feature matrix."""
    r = np.asarray(reply_vecs, dtype=np.float32)
    t = np.asarray(target_vecs, dtype=np.float32)
    if r.shape != t.shape or r.ndim != 2 or len(reply_texts) != r.shape[0]:
        raise ValueError(
            f"pair_features: reply {r.shape}, target {t.shape} and {len(reply_texts)} texts do not line up"
        )
    cues = np.array([cue_features(x) for x in reply_texts], dtype=np.float32)
    cues = cues.reshape(len(reply_texts), len(CUE_FEATURES))
    return np.concatenate([r, t, r * t, np.abs(r - t), cues], axis=1)
