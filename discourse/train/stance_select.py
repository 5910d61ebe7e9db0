"""Model selection for the stance head, on the selection part only.

About 20% of the GROUPS of every dataset are held out first (:func:`held_out_mask`). On the
rest, every candidate (linear head x C, or MLP x hidden size x alpha x epochs, each over a
feature-block variant) is scored by grouped k-fold cross-validation, the same folds for all:
pooled 4-label macro-F1 of the out-of-fold predictions with the explicit-cue rule applied.
The cue-rule weights are then picked by out-of-fold log-loss.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from discourse.models.heads import Head
from discourse.stages.stance.cues import Cue
from discourse.stages.stance.model import EXPLICIT_MIN_STRENGTH, LABELS, apply_cue_rule, explicit_cue
from discourse.train.heads import Labels, fit_linear_head, fit_mlp_head, grouped_oof_proba, grouped_oof_proba_mlp
from discourse.train.stance_data import DATASETS
from discourse.train.stance_features import VARIANTS, StanceMatrix, block_columns
from discourse.train.stance_metrics import log_loss, macro_f1

Entry = dict[str, Any]
"""One CV candidate: ``head``, ``variant`` and its hyper-parameters, then its CV scores."""

PROBE = {1.0: 0.75, EXPLICIT_MIN_STRENGTH: 0.75}
"""Cue-rule weights used while scoring candidates: any weight > 0.5 gives the same arg-max."""

WEIGHT_GRID = [0.51, *(round(w, 2) for w in np.arange(0.55, 1.0, 0.05))]
"""Cue-rule weights tried: every one above 0.5, so the cue label always wins."""


@dataclass(frozen=True)
class SearchSpace:
    Cs: Sequence[float] = (0.0001, 0.0003, 0.001, 0.003, 0.01)
    variants: Sequence[str] = tuple(VARIANTS)
    mlp_hidden: Sequence[int] = (64, 128)  # empty: linear heads only
    mlp_alphas: Sequence[float] = (0.1, 1.0, 10.0)
    mlp_epochs: Sequence[int] = (5, 10, 20, 40, 80)  # scored from one training run per fold
    mlp_variants: Sequence[str] = ("full", "no_target_block", "reply_only")
    folds: int = 5
    seed: int = 0


# -- the held-out split ---------------------------------------------------------------------
def held_out_mask(
    datasets: np.ndarray, y: np.ndarray, groups: np.ndarray, fraction_folds: int, seed: int
) -> np.ndarray:
    """True for rows held out: one fold of a stratified grouped k-fold per dataset."""
    from sklearn.model_selection import StratifiedGroupKFold

    mask = np.zeros(len(y), dtype=bool)
    for ds in DATASETS:
        idx = np.flatnonzero(datasets == ds)
        cv = StratifiedGroupKFold(n_splits=fraction_folds, shuffle=True, random_state=seed)
        _, test = next(cv.split(idx, y[idx], groups[idx]))
        mask[idx[test]] = True
    return mask


@dataclass(frozen=True)
class Part:
    """The rows of a :class:`StanceMatrix` under a mask (the selection or the held-out part)."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    datasets: np.ndarray
    cues: list[list[Cue]] = field(repr=False)

    @classmethod
    def of(cls, m: StanceMatrix, mask: np.ndarray) -> Part:
        cues = [c for c, keep in zip(m.cues, mask, strict=True) if keep]
        return cls(m.X[mask], m.y[mask], m.groups[mask], m.datasets[mask], cues)


# -- candidates ----------------------------------------------------------------------------------
def config_name(entry: Entry) -> str:
    if entry["head"] == "mlp":
        return f"mlp h={entry['hidden']} alpha={entry['alpha']:g} epochs={entry['epochs']}"
    return f"linear C={entry['C']:g}"


def fit_config(entry: Entry, X: np.ndarray, y: Labels, seed: int) -> Head:
    """Fit the head a CV table entry describes (on the columns already selected)."""
    if entry["head"] == "mlp":
        return fit_mlp_head(X, y, LABELS, entry["hidden"], entry["alpha"], entry["epochs"], seed)
    return fit_linear_head(X, y, LABELS, entry["C"])


def candidates(sel: Part, dim: int, space: SearchSpace) -> Iterator[tuple[Entry, np.ndarray, float]]:
    """Every candidate with its grouped out-of-fold probabilities and the seconds spent so far on its run."""
    for variant in space.variants:
        cols = block_columns(dim, VARIANTS[variant])
        for C in space.Cs:
            t0 = time.perf_counter()
            oof = grouped_oof_proba(sel.X[:, cols], sel.y, sel.groups, LABELS, C, space.folds, space.seed)
            yield {"head": "linear", "variant": variant, "C": C}, oof, time.perf_counter() - t0
    for variant in space.mlp_variants if space.mlp_hidden else ():
        cols = block_columns(dim, VARIANTS[variant])
        for hidden in space.mlp_hidden:
            for alpha in space.mlp_alphas:
                t0 = time.perf_counter()
                by_epoch = grouped_oof_proba_mlp(
                    sel.X[:, cols], sel.y, sel.groups, LABELS, hidden, alpha, space.mlp_epochs, space.folds, space.seed
                )
                for epochs, oof in by_epoch.items():
                    entry = {"head": "mlp", "variant": variant, "hidden": hidden, "alpha": alpha, "epochs": epochs}
                    yield entry, oof, time.perf_counter() - t0


def score_oof(entry: Entry, oof: np.ndarray, sel: Part) -> Entry:
    """``entry`` with the macro-F1 of its out-of-fold predictions, head alone and with the cue rule."""
    head_pred = np.asarray(LABELS)[oof.argmax(1)]
    rule_pred = np.asarray(LABELS)[apply_cue_rule(oof, sel.cues, PROBE).argmax(1)]
    per_dataset = {}
    for ds in DATASETS:
        m = sel.datasets == ds
        per_dataset[ds] = macro_f1(sel.y[m], rule_pred[m], [lab for lab in LABELS if lab in set(sel.y[m])])
    return {
        **entry,
        "macro_f1_head": macro_f1(sel.y, head_pred, LABELS),
        "macro_f1_with_rule": macro_f1(sel.y, rule_pred, LABELS),
        "per_dataset_with_rule": per_dataset,
    }


def cross_validate(sel: Part, dim: int, space: SearchSpace) -> tuple[list[Entry], list[np.ndarray]]:
    """The CV table (one scored entry per candidate) and the out-of-fold probabilities of each."""
    table: list[Entry] = []
    oofs: list[np.ndarray] = []
    for entry, oof, seconds in candidates(sel, dim, space):
        entry = score_oof(entry, oof, sel)
        table.append(entry)
        oofs.append(oof)
        print(
            f"cv {entry['variant']:16s} {config_name(entry):32s} head {entry['macro_f1_head']:.3f} "
            f"rule {entry['macro_f1_with_rule']:.3f} ({seconds:.0f}s)",
            flush=True,
        )
    return table, oofs


# -- choosing ----------------------------------------------------------------------------------
def selection_key(entry: Entry) -> tuple[float, bool, float]:
    """Best CV macro-F1 with the rule; ties go to the linear head, then to the simpler fit."""
    simpler = -entry["C"] if entry["head"] == "linear" else -entry["hidden"] * entry["epochs"] / entry["alpha"]
    return entry["macro_f1_with_rule"], entry["head"] == "linear", simpler


def best_index(table: Sequence[Entry]) -> int:
    """The position of the selected candidate (the first of equals)."""
    return max(range(len(table)), key=lambda i: selection_key(table[i]))


def best_by_head(table: Sequence[Entry]) -> dict[str, Entry]:
    """The best candidate of each head kind that was tried."""
    return {
        kind: max((e for e in table if e["head"] == kind), key=selection_key)
        for kind in ("linear", "mlp")
        if any(e["head"] == kind for e in table)
    }


def best_cue_C(table: Sequence[Entry], Cs: Sequence[float]) -> float:
    """C of the best cues-only linear candidate (head alone; ties to the smaller C), for the
    cues-only baseline; the middle of ``Cs`` when that variant was not tried."""
    cands = [e for e in table if e["variant"] == "cues_only" and e["head"] == "linear"]
    if not cands:
        return float(Cs[len(Cs) // 2])
    return float(max(cands, key=lambda e: (e["macro_f1_head"], -e["C"]))["C"])


# -- the cue rule's weights ------------------------------------------------------------------------
def tier_rows(cues: Sequence[Sequence[Cue]], tier: float) -> list[int]:
    """Rows whose explicit cue is of this strength tier (1.0: first-person verbs; 0.8: formulas)."""
    top = tier >= 1.0
    return [i for i, c in enumerate(cues) if (e := explicit_cue(c)) is not None and (e.strength >= 1.0) == top]


def scan_tier(oof: np.ndarray, cues: Sequence[Sequence[Cue]], y: np.ndarray, rows: Sequence[int]) -> dict[str, float]:
    """Log-loss on ``rows`` of the out-of-fold probabilities blended at every grid weight, and head alone."""
    scan = {}
    for w in WEIGHT_GRID:
        blended = apply_cue_rule(oof[rows], [cues[i] for i in rows], {1.0: w, EXPLICIT_MIN_STRENGTH: w})
        scan[str(w)] = log_loss(y[rows], blended)
    scan["head_only"] = log_loss(y[rows], oof[rows])
    return scan


def cue_rule_weights(
    oof: np.ndarray, cues: Sequence[Sequence[Cue]], y: np.ndarray
) -> tuple[dict[float, float], dict[str, dict[str, float]]]:
    """Per tier, the grid weight of lowest log-loss on the rows the tier decides, and the scans."""
    weights: dict[float, float] = {}
    weight_scan: dict[str, dict[str, float]] = {}
    for tier in (1.0, EXPLICIT_MIN_STRENGTH):
        rows = tier_rows(cues, tier)
        scan = scan_tier(oof, cues, y, rows)
        weight_scan[f"{tier:g}"] = {**scan, "n_rows": float(len(rows))}
        weights[tier] = float(min(WEIGHT_GRID, key=lambda w: scan[str(w)]))
        print(
            f"tier {tier:g}: {len(rows)} rows, w={weights[tier]}, "
            f"log-loss {scan[str(weights[tier])]:.3f} "
            f"(head only {scan['head_only']:.3f})",
            flush=True,
        )
    return weights, weight_scan


# -- all of it ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    table: list[Entry]  # every candidate, scored
    best: Entry  # the chosen one
    oof: np.ndarray  # its out-of-fold probabilities
    by_head: dict[str, Entry]  # the best candidate of each head kind
    weights: dict[float, float]  # cue-rule weight per strength tier
    weight_scan: dict[str, dict[str, float]]  # log-loss per tier and weight

    def record(self, space: SearchSpace) -> dict[str, Any]:
        """What ``reports/stance.json`` keeps under ``selection``."""
        best = self.best
        return {
            "criterion": "pooled 4-label macro-F1 of grouped out-of-fold predictions with the cue rule",
            "folds": space.folds,
            "seed": space.seed,
            "head": best["head"],
            "variant": best["variant"],
            "blocks": list(VARIANTS[best["variant"]]),
            "config": config_name(best),
            "hyperparameters": {k: best[k] for k in ("C", "hidden", "alpha", "epochs") if k in best},
            "best_by_head": {
                kind: {"variant": e["variant"], "config": config_name(e), "macro_f1_with_rule": e["macro_f1_with_rule"]}
                for kind, e in self.by_head.items()
            },
            "cv": self.table,
            "cue_rule_weight_scan_log_loss": self.weight_scan,
        }


def select(sel: Part, dim: int, space: SearchSpace) -> Selection:
    """Grouped CV over every candidate, the best of them, and the cue-rule weights for it."""
    table, oofs = cross_validate(sel, dim, space)
    i = best_index(table)
    best = table[i]
    print(f"selected {best['variant']} {config_name(best)}", flush=True)
    weights, scan = cue_rule_weights(oofs[i], sel.cues, sel.y)
    return Selection(table, best, oofs[i], best_by_head(table), weights, scan)
