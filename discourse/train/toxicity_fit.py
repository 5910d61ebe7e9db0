"""Fitting the toxicity head (variant "g" of the offline experiment) and measuring it.

The head is an L2 logistic regression on ``[vector, logit(tox-block's six scores)]`` with
source-balanced weights; its logit is z-scored and blended with tox-block's z-scored max
logit: ``z = (1 - beta) z_head + beta z_tox``. C and beta are chosen by an inner
leave-one-source-out over the training sources that have both classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from discourse.stages.toxicity.head import logit, sigmoid

SOURCE_CAP = 5000  # a source's total training weight is proportional to min(rows, SOURCE_CAP)
CS = (0.001, 0.01)
BETAS = (0.0, 0.25, 0.5, 0.75, 1.0)
INNER_MIN_ROWS = 1000  # a source validates an inner choice only with this many rows and both classes


@dataclass
class Data:
    """The training table as arrays: vectors (n, d), tox-block raw scores (n, 6), labels and sources."""

    vectors: np.ndarray
    tox: np.ndarray
    label: np.ndarray
    source: np.ndarray
    group: np.ndarray

    def X(self, idx: np.ndarray) -> np.ndarray:
        return np.hstack([self.vectors[idx], logit(self.tox[idx])])

    def tox_max(self, idx: np.ndarray) -> np.ndarray:
        return logit(self.tox[idx].max(axis=1))


def train_weights(source: np.ndarray, label: np.ndarray, cap: int = SOURCE_CAP) -> np.ndarray:
    """Each source weighs ~min(n, cap), split equally between its classes; then both classes
    are rescaled to equal totals; mean weight 1."""
    w = np.zeros(len(label), dtype=np.float64)
    for s in np.unique(source):
        m = source == s
        classes = np.unique(label[m])
        for c in classes:
            mc = m & (label == c)
            w[mc] = min(int(m.sum()), cap) / len(classes) / mc.sum()
    for c in (0, 1):
        if (label == c).any():
            w[label == c] *= 0.5 / w[label == c].sum()
    return w * len(w) / w.sum()


@dataclass
class Blend:
    """A fitted head with the scaler folded in, and the blend's z-score statistics."""

    weight: np.ndarray
    bias: float
    stats: tuple[float, float, float, float]  # head mean, head std, tox max-logit mean, std

    def head(self, data: Data, idx: np.ndarray) -> np.ndarray:
        return data.X(idx) @ self.weight + self.bias

    def z(self, data: Data, idx: np.ndarray, beta: float) -> np.ndarray:
        hm, hs, tm, ts = self.stats
        return (1 - beta) * (self.head(data, idx) - hm) / hs + beta * (data.tox_max(idx) - tm) / ts


def fit_blend(data: Data, idx: np.ndarray, C: float) -> Blend:
    """Standardise, fit the weighted logistic regression on rows ``idx``, fold the scaler in."""
    from sklearn.linear_model import LogisticRegression

    X = data.X(idx)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale < 1e-8] = 1.0
    y = data.label[idx]
    lr = LogisticRegression(C=C, max_iter=2000)
    lr.fit((X - mean) / scale, y, sample_weight=train_weights(data.source[idx], y))
    weight = lr.coef_[0] / scale
    bias = float(lr.intercept_[0] - (lr.coef_[0] * mean / scale).sum())
    head = X @ weight + bias
    t = data.tox_max(idx)
    return Blend(weight, bias, (float(head.mean()), float(head.std()), float(t.mean()), float(t.std())))


def auroc(y: np.ndarray, s: np.ndarray) -> float:
    return float(roc_auc_score(y, s)) if len(np.unique(y)) == 2 else float("nan")


def inner_sources(data: Data, idx: np.ndarray, min_rows: int = INNER_MIN_ROWS) -> list[str]:
    """The training sources that can validate a choice (both classes, at least ``min_rows``)."""
    out = []
    for s in sorted(set(data.source[idx].tolist())):
        m = idx[data.source[idx] == s]
        if len(m) >= min_rows and len(np.unique(data.label[m])) == 2:
            out.append(s)
    return out


def select(
    data: Data,
    idx: np.ndarray,
    cs: Sequence[float] = CS,
    betas: Sequence[float] = BETAS,
    min_rows: int = INNER_MIN_ROWS,
) -> dict:
    """(C, beta) with the best mean AUROC over an inner leave-one-source-out on rows ``idx``
    (with no source to validate on: the smallest C and the second beta)."""
    grid: dict[tuple[float, float], list[float]] = {(c, b): [] for c in cs for b in betas}
    for v in inner_sources(data, idx, min_rows):
        tr, va = idx[data.source[idx] != v], idx[data.source[idx] == v]
        for c in cs:
            m = fit_blend(data, tr, c)
            for b in betas:
                grid[(c, b)].append(auroc(data.label[va], m.z(data, va, b)))
    if not any(grid.values()):
        return {"C": cs[0], "beta": betas[min(1, len(betas) - 1)], "inner": {}}
    mean = {k: float(np.mean(v)) for k, v in grid.items()}
    best = max(mean, key=lambda k: mean[k])
    return {"C": best[0], "beta": best[1], "inner": {f"C={c} beta={b}": v for (c, b), v in mean.items()}}


def auroc_ci(y: np.ndarray, s: np.ndarray, groups: np.ndarray, n_boot: int = 500, seed: int = 0) -> list[float]:
    """95% interval of AUROC from a bootstrap over groups."""
    rng = np.random.default_rng(seed)
    _, inv = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inv == g) for g in range(inv.max() + 1)]
    vals = []
    for _ in range(n_boot):
        idx = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        if len(np.unique(y[idx])) == 2:
            vals.append(roc_auc_score(y[idx], s[idx]))
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))] if vals else [float("nan")] * 2


def loso(data: Data, held_out: Sequence[str], n_boot: int = 500, min_rows: int = INNER_MIN_ROWS) -> dict:
    """Per held-out source S: train on every other source (choices by inner LOSO on them only),
    score S; the blend beside tox-block's max alone. Also returns each S's blended scores."""
    out: dict = {}
    for s in held_out:
        tr, te = np.flatnonzero(data.source != s), np.flatnonzero(data.source == s)
        choice = select(data, tr, min_rows=min_rows)
        z = fit_blend(data, tr, choice["C"]).z(data, te, choice["beta"])
        y, g = data.label[te], data.group[te]
        tb = data.tox_max(te)
        out[s] = {
            "n": len(te),
            "positives": int(y.sum()),
            "C": choice["C"],
            "beta": choice["beta"],
            "auroc": auroc(y, z),
            "ci": auroc_ci(y, z, g, n_boot),
            "toxblock_auroc": auroc(y, tb),
            "toxblock_ci": auroc_ci(y, tb, g, n_boot),
            "z": z,
        }
    return out


def fit_platt(z: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float]:
    """``p = sigmoid(a z + b)`` by (almost unregularised) logistic regression."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        raise ValueError("calibration needs labelled examples of both classes")
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(z[:, None], y, sample_weight=weight)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def equal_source_weights(source: np.ndarray) -> np.ndarray:
    w = np.zeros(len(source))
    for s in np.unique(source):
        w[source == s] = 1.0 / (source == s).sum()
    return w * len(w) / w.sum()


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Per equal-width bin of ``p``: rows, mean prediction, observed rate."""
    b = np.clip((p * bins).astype(int), 0, bins - 1)
    return [
        {"bin": f"{k / bins:.1f}-{(k + 1) / bins:.1f}", "n": int((b == k).sum()),
         "mean_p": float(p[b == k].mean()), "observed": float(y[b == k].mean())}
        for k in range(bins) if (b == k).any()
    ]  # fmt: skip


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width bins."""
    return float(sum(r["n"] * abs(r["mean_p"] - r["observed"]) for r in reliability(y, p, bins)) / max(len(y), 1))


def probability(z: np.ndarray, platt: tuple[float, float]) -> np.ndarray:
    return sigmoid(platt[0] * z + platt[1])
