"""Evidence against human spans: per-post character F1 (SemEval-2021 Task 5) of the evidence
``toxicity.v1`` emits (tox-block's occlusion words of the best window, every occurrence as
character offsets), on the held-out toxic-spans posts, and the long-comment case."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.stages.toxicity.windows import char_f1, score_windowed, span_chars, word_spans

LONG_CASE_TOXIC = "You are a pathetic idiot and everyone here hates you."
LONG_CASE_FILLER = (
    "The council met on Tuesday to discuss the budget for the coming year and the plans for the park "
    "near the river where families often walk in the evening after work and school"
).split()


def held_out_posts(groups: np.ndarray, test_size: float = 0.2, seed: int = 0) -> np.ndarray:
    """Indices (into ``groups``) of the held-out posts: a grouped 20 % split, seed 0."""
    from sklearn.model_selection import GroupShuffleSplit

    split = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    _, test = next(split.split(np.zeros(len(groups)), groups=groups))
    return np.sort(test)


def evidence_spans(model: Any, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
    """What the stage emits for each text (every text explained, whatever its score)."""
    scored = score_windowed(model.predict_batch, list(texts))
    pieces = [t[s.span[0] : s.span[1]] for t, s in zip(texts, scored, strict=True)]
    words = model.explain(pieces)
    return [word_spans(t, w, s.span) for t, w, s in zip(texts, words, scored, strict=True)]


def span_f1(model: Any, texts: Sequence[str], gold: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Mean per-post character F1, with a 95 % bootstrap interval over posts."""
    pred = evidence_spans(model, texts)
    f1 = np.array([char_f1(span_chars(p), set(g)) for p, g in zip(pred, gold, strict=True)])
    rng = np.random.default_rng(0)
    boot = [f1[rng.integers(0, len(f1), len(f1))].mean() for _ in range(1000)]
    return {
        "posts": len(f1),
        "posts_with_empty_gold": int(sum(not g for g in gold)),
        "char_f1": float(f1.mean()),
        "ci": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))],
        "char_f1_nonempty_gold": float(f1[[bool(g) for g in gold]].mean()),
    }


def long_case_text() -> str:
    """A toxic sentence followed by 260 ordinary words."""
    filler = (LONG_CASE_FILLER * (260 // len(LONG_CASE_FILLER) + 1))[:260]
    return LONG_CASE_TOXIC + " " + " ".join(filler) + "."


def long_case(model: Any) -> dict[str, Any]:
    """tox-block's max label on the long text read whole (its last 100 words) and in windows."""
    text = long_case_text()
    whole = max(model.predict_batch([text])[0].values())
    best = score_windowed(model.predict_batch, [text])[0]
    words = model.explain([text[best.span[0] : best.span[1]]])[0]
    return {
        "text_words": len(text.split()),
        "toxblock_last_100_words": float(whole),
        "toxblock_windowed": float(max(best.scores.values())),
        "window": list(best.span),
        "evidence": list(words),
        "evidence_spans": [list(s) for s in word_spans(text, words, best.span)],
    }


def long_case_stage(model_folder: Path, encoder: str, dtype: str = "auto", max_length: int = 256) -> dict[str, Any]:
    """``toxicity.v1``'s score of the long text with the head in ``model_folder`` (the whole stage:
    the encoder vector and tox-block's best window)."""
    import discourse
    from discourse.core.thread import Comment, Thread

    cfg = {
        "pipeline": ["encode.v1", "toxicity.v1"],
        "stages": {
            "encode.v1": {"model": encoder, "dtype": dtype, "max_length": max_length},
            "toxicity.v1": {"model": {"path": str(model_folder)}},
        },
    }
    thread = Thread(id="long", title="", comments=(Comment("c1", long_case_text()),))
    tox = discourse.analyze(thread, config=cfg).toxicity("c1")
    return {"stage_score": float(tox.score), "stage_evidence": list(tox.evidence)}
