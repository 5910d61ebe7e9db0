"""Scores for the stance model and its baselines: macro-F1 with group-bootstrap intervals,
per-class F1, confusion, log-loss; the cues-only rule baseline; how often explicit cues agree
with the gold label."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from discourse.stages.stance.cues import Cue
from discourse.stages.stance.model import EXPLICIT_LABELS, LABELS, explicit_cue


def scores(y: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Macro-F1 over the labels present in ``y``, per-class F1, accuracy and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, f1_score

    y_arr, p_arr = np.asarray(y), np.asarray(pred)
    present = [lab for lab in labels if lab in set(y_arr)]
    per = f1_score(y_arr, p_arr, labels=list(labels), average=None, zero_division=0)
    return {
        "n": len(y_arr),
        "support": {lab: int((y_arr == lab).sum()) for lab in labels},
        "macro_f1": float(f1_score(y_arr, p_arr, labels=present, average="macro", zero_division=0)),
        "macro_f1_labels": present,
        "accuracy": float((y_arr == p_arr).mean()),
        "f1": {lab: float(f) for lab, f in zip(labels, per, strict=True)},
        "confusion": {
            "labels": list(labels),
            "rows_gold_cols_pred": confusion_matrix(y_arr, p_arr, labels=list(labels)).tolist(),
        },
    }


def macro_f1(y: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> float:
    """Mean F1 over ``labels`` (a label never gold nor predicted scores 0): fast, for CV and bootstraps."""
    f = []
    for lab in labels:
        tp = float(np.sum((y == lab) & (pred == lab)))
        denom = float(np.sum(y == lab) + np.sum(pred == lab))
        f.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(f))


def group_bootstrap(
    y: np.ndarray, pred: np.ndarray, groups: np.ndarray, n: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% interval of macro-F1 (over the labels present in ``y``) resampling whole groups."""
    rng = np.random.default_rng(seed)
    labels = [lab for lab in LABELS if lab in set(y)]
    uniq, inv = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inv == g) for g in range(len(uniq))]
    vals = []
    for _ in range(n):
        pick = rng.integers(0, len(uniq), len(uniq))
        idx = np.concatenate([members[g] for g in pick])
        vals.append(macro_f1(y[idx], pred[idx], labels))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return float(lo), float(hi)


def log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean negative log-probability of the gold label (columns in ``LABELS`` order)."""
    idx = np.array([LABELS.index(lab) for lab in y])
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), idx], 1e-12, 1.0))))


def cues_only_label(cues: Sequence[Cue]) -> str:
    """Rules alone: the strongest agree/disagree/query/concession cue of strength >= 0.5
    (concession counts as agree); a tie between labels, or no such cue, is neutral."""
    strong = [c for c in cues if c.strength >= 0.5]
    if not strong:
        return "neutral"
    top = max(c.strength for c in strong)
    labs = {"agree" if c.label == "concession" else c.label for c in strong if c.strength == top}
    return labs.pop() if len(labs) == 1 else "neutral"


def cue_accuracy(cues: Sequence[Sequence[Cue]], y: np.ndarray) -> dict[str, Any]:
    """Per explicit-cue label: rows it decides, how many of them carry it as gold, and their gold labels."""
    out: dict[str, Any] = {}
    for lab in EXPLICIT_LABELS:
        idx = [i for i, c in enumerate(cues) if (e := explicit_cue(c)) is not None and e.label == lab]
        out[lab] = {
            "rows": len(idx),
            "gold_agrees": int(sum(y[i] == lab for i in idx)),
            "gold": dict(Counter(y[idx].tolist())),
        }
    return out
