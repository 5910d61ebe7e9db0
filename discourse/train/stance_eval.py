"""Held-out evaluation of the selected stance configuration, fitted on the selection part only,
beside baselines: the head without the cue rule, a cues-only head, cues-only rules, the best
configuration of the other head kind, and the majority class per dataset."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from discourse.stages.stance.features import CUE_FEATURES
from discourse.stages.stance.model import LABELS, apply_cue_rule, explicit_cue
from discourse.train.heads import fit_linear_head
from discourse.train.stance_data import DATASETS
from discourse.train.stance_features import VARIANTS, StanceMatrix, block_columns
from discourse.train.stance_metrics import cue_accuracy, cues_only_label, group_bootstrap, log_loss, scores
from discourse.train.stance_select import Entry, Part, config_name, fit_config

NAME = "stance-minilm-v1"
MAIN = f"{NAME} (head + cue rule)"
"""The shipped system: the head with the explicit-cue rule."""
HEAD_ONLY = "head only (no cue rule)"


@dataclass(frozen=True)
class HeldOut:
    """Predictions of every system on the held-out rows, and the shipped head's probabilities."""

    preds: dict[str, np.ndarray]
    p_head: np.ndarray
    p_rule: np.ndarray


def _labels_of(proba: np.ndarray) -> np.ndarray:
    return np.asarray(LABELS)[proba.argmax(1)]


def predict_held_out(
    best: Entry,
    others: Mapping[str, Entry],
    weights: Mapping[float, float],
    sel: Part,
    held: Part,
    dim: int,
    cue_C: float,
    seed: int,
) -> HeldOut:
    """Every system fitted on ``sel`` and run on ``held``; ``others`` are the best entries of
    the other head kinds (for comparison only)."""
    cols = block_columns(dim, VARIANTS[best["variant"]])
    p_head = fit_config(best, sel.X[:, cols], sel.y, seed).predict_proba(held.X[:, cols])
    p_rule = apply_cue_rule(p_head, held.cues, weights)
    cue_cols = block_columns(dim, ())
    cue_head = fit_linear_head(sel.X[:, cue_cols], sel.y, LABELS, C=cue_C)
    p_cues = cue_head.predict_proba(held.X[:, cue_cols])
    preds = {
        MAIN: _labels_of(p_rule),
        HEAD_ONLY: _labels_of(p_head),
        f"cues-only head ({len(CUE_FEATURES)} cue features, LR)": _labels_of(p_cues),
        "cues-only rules": np.array([cues_only_label(c) for c in held.cues]),
    }
    for kind, entry in others.items():
        c = block_columns(dim, VARIANTS[entry["variant"]])
        p = apply_cue_rule(fit_config(entry, sel.X[:, c], sel.y, seed).predict_proba(held.X[:, c]), held.cues, weights)
        preds[f"best {kind} by CV ({entry['variant']}, {config_name(entry)}, + cue rule)"] = _labels_of(p)
    majority = {ds: Counter(sel.y[sel.datasets == ds]).most_common(1)[0][0] for ds in DATASETS}
    preds["majority class (per dataset)"] = np.array([majority[ds] for ds in held.datasets])
    return HeldOut(preds, p_head, p_rule)


def score_systems(preds: Mapping[str, np.ndarray], held: Part) -> dict[str, Any]:
    """Per system, per dataset and overall: :func:`scores` plus a 95% group-bootstrap interval."""
    out: dict[str, Any] = {}
    for system, pred in preds.items():
        block: dict[str, Any] = {}
        for ds in (*DATASETS, "overall"):
            m = np.ones(len(held.y), dtype=bool) if ds == "overall" else held.datasets == ds
            s = scores(held.y[m], pred[m])
            s["macro_f1_95ci_group_bootstrap"] = group_bootstrap(held.y[m], pred[m], held.groups[m])
            block[ds] = s
        out[system] = block
        print(
            f"held-out {system:38s} "
            + "  ".join(f"{ds.split('-')[0]} {block[ds]['macro_f1']:.3f}" for ds in (*DATASETS, "overall")),
            flush=True,
        )
    return out


def split_summary(m: StanceMatrix, held: np.ndarray) -> dict[str, Any]:
    """Rows, groups and held-out labels of each dataset on both sides of the split."""
    sel = ~held
    return {
        ds: {
            "held_out_rows": int((held & (m.datasets == ds)).sum()),
            "held_out_groups": len(set(m.groups[held & (m.datasets == ds)])),
            "selection_rows": int((sel & (m.datasets == ds)).sum()),
            "selection_groups": len(set(m.groups[sel & (m.datasets == ds)])),
            "held_out_labels": dict(Counter(m.y[held & (m.datasets == ds)])),
        }
        for ds in DATASETS
    }


def evaluate_held_out(result: HeldOut, held: Part) -> tuple[dict[str, Any], dict[str, float], dict[str, Any]]:
    """The held-out scores of every system, the shipped head's log-loss with and without the
    rule, and how the explicit cues fare on the held-out rows."""
    held_out = score_systems(result.preds, held)
    losses = {"head_only": log_loss(held.y, result.p_head), "with_cue_rule": log_loss(held.y, result.p_rule)}
    cue_cover = {
        "rows_with_explicit_cue_held_out": int(sum(explicit_cue(c) is not None for c in held.cues)),
        "explicit_cue_label_accuracy_held_out": cue_accuracy(held.cues, held.y),
    }
    return held_out, losses, cue_cover


def metrics_for_meta(held_out: Mapping[str, Any]) -> dict[str, Any]:
    """The shipped system's held-out scores as ``model.json`` records them."""
    return {
        "held_out": {
            ds: {k: held_out[MAIN][ds][k] for k in ("n", "macro_f1", "f1", "accuracy")} for ds in (*DATASETS, "overall")
        },
        "note": "held-out scores are of the same configuration fitted on the selection part only; "
        "the shipped head is refitted on all rows",
    }
