"""Fitting the numpy heads of :mod:`discourse.models.heads` with scikit-learn, and grouped
cross-validation over them. Not needed at prediction time.

Every fit is class-balanced and standardises the features; the fitted arrays are exported
into a :class:`~discourse.models.heads.LinearHead` or :class:`~discourse.models.heads.MLPHead`
with the library versions recorded in its ``meta``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from discourse.core.errors import ModelError
from discourse.models.heads import Head, LinearHead, MLPHead

Labels = Sequence[str] | np.ndarray
"""One label per row: a list or a numpy array of strings."""


def library_versions() -> dict[str, str]:
    import safetensors
    import sklearn

    return {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "safetensors": safetensors.__version__}


def _standardize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X - mean) / scale column by column, with the mean and scale (constant columns keep scale 1)."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-8] = 1.0
    return (X - mean) / scale, mean, scale


def _require_labels(y: np.ndarray, labels: Sequence[str]) -> None:
    missing = set(labels) - set(y.tolist())
    if missing:
        raise ModelError(f"training data has no examples of {sorted(missing)}")


def fit_linear_head(
    X: np.ndarray,
    y: Labels,
    labels: Sequence[str],
    C: float,
    standardize: bool = True,
    max_iter: int = 3000,
) -> LinearHead:
    """Fit a class-balanced multinomial logistic regression and export it as a LinearHead."""
    from sklearn.linear_model import LogisticRegression

    X = np.asarray(X, dtype=np.float64)
    mean = scale = None
    if standardize:
        X, mean, scale = _standardize(X)
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=max_iter)
    clf.fit(X, np.asarray(y))
    _require_labels(np.asarray(clf.classes_), labels)
    order = [list(clf.classes_).index(label) for label in labels]
    return LinearHead.from_arrays(
        clf.coef_[order],
        clf.intercept_[order],
        labels,
        mean,
        scale,
        {"C": C, "standardize": standardize, "versions": library_versions()},
    )


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Per-row weights n / (k * count(label)): scikit-learn's ``class_weight="balanced"``."""
    uniq, inv, counts = np.unique(y, return_inverse=True, return_counts=True)
    return (len(y) / (len(uniq) * counts))[inv]


def mlp_checkpoints(
    X: np.ndarray,
    y: Labels,
    labels: Sequence[str],
    hidden: int,
    alpha: float,
    epochs: Sequence[int],
    seed: int = 0,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
) -> dict[int, MLPHead]:
    """Train one class-balanced (per-row weights) ReLU MLP with Adam for ``max(epochs)``
    epochs over standardised features, exporting an :class:`MLPHead` after each epoch
    count in ``epochs``. One run yields every checkpoint, so epochs can be chosen by CV."""
    from sklearn.neural_network import MLPClassifier

    Xs, mean, scale = _standardize(X)
    y_arr = np.asarray(y)
    _require_labels(y_arr, labels)
    weights = balanced_weights(y_arr)
    clf = MLPClassifier(
        hidden_layer_sizes=(hidden,),
        activation="relu",
        solver="adam",
        alpha=alpha,
        batch_size=min(batch_size, len(y_arr)),
        learning_rate_init=learning_rate,
        random_state=seed,
        shuffle=True,
    )
    out: dict[int, MLPHead] = {}
    wanted = set(epochs)
    for epoch in range(1, max(epochs) + 1):
        clf.partial_fit(Xs, y_arr, sample_weight=weights, classes=sorted(set(labels)))
        if epoch in wanted:
            meta = {
                "hidden": hidden,
                "alpha": alpha,
                "epochs": epoch,
                "batch_size": batch_size,
                "learning_rate": learning_rate,
                "seed": seed,
                "class_weight": "balanced (per-row weights)",
                "standardize": True,
                "versions": library_versions(),
            }
            out[epoch] = export_mlp(clf, labels, mean, scale, meta)
    return out


def export_mlp(
    clf: Any,
    labels: Sequence[str],
    mean: np.ndarray | None,
    scale: np.ndarray | None,
    meta: Mapping[str, Any] | None = None,
) -> MLPHead:
    """An :class:`MLPHead` from a fitted one-hidden-layer ReLU ``MLPClassifier`` (3+ classes)."""
    if clf.activation != "relu" or len(clf.coefs_) != 2 or clf.out_activation_ != "softmax":
        raise ModelError("export_mlp needs a one-hidden-layer ReLU MLPClassifier with a softmax output")
    order = [list(clf.classes_).index(label) for label in labels]
    W1, W2 = clf.coefs_
    b1, b2 = clf.intercepts_
    return MLPHead.from_arrays(W1, b1, W2[:, order], b2[order], labels, mean, scale, meta)


def fit_mlp_head(
    X: np.ndarray, y: Labels, labels: Sequence[str], hidden: int, alpha: float, epochs: int, seed: int = 0
) -> MLPHead:
    """:func:`mlp_checkpoints` at one epoch count."""
    return mlp_checkpoints(X, y, labels, hidden, alpha, [epochs], seed)[epochs]


def expand_head(head: Head, cols: np.ndarray, n_features: int, meta: Mapping[str, Any]) -> Head:
    """The same head over ``n_features`` columns, of which it read ``cols``: the other columns
    get zero weight (and mean 0, scale 1), so its predictions on the full matrix are unchanged."""
    mean = np.zeros(n_features, dtype=np.float32)
    scale = np.ones(n_features, dtype=np.float32)
    if head.mean_ is not None:
        mean[cols] = head.mean_
    if head.scale_ is not None:
        scale[cols] = head.scale_
    if isinstance(head, MLPHead):
        assert head.W1_ is not None and head.b1_ is not None and head.W2_ is not None and head.b2_ is not None
        W1 = np.zeros((n_features, head.W1_.shape[1]), dtype=np.float32)
        W1[cols] = head.W1_
        return MLPHead.from_arrays(W1, head.b1_, head.W2_, head.b2_, head.labels, mean, scale, {**head.meta, **meta})
    assert head.coef_ is not None and head.intercept_ is not None
    coef = np.zeros((head.coef_.shape[0], n_features), dtype=np.float32)
    coef[:, cols] = head.coef_
    return LinearHead.from_arrays(coef, head.intercept_, head.labels, mean, scale, {**head.meta, **meta})


# -- grouped cross-validation ---------------------------------------------------------------
def grouped_folds(
    X: np.ndarray, y: np.ndarray, groups: Labels, n_splits: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified grouped k-fold (train, test) index pairs: no group is on both sides of a fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(cv.split(X, y, np.asarray(groups)))


def _place(out: np.ndarray, test: np.ndarray, proba: np.ndarray, present: Sequence[str], labels: Sequence[str]) -> None:
    for j, label in enumerate(present):
        out[test, list(labels).index(label)] = proba[:, j]


def grouped_oof_proba(
    X: np.ndarray,
    y: Labels,
    groups: Labels,
    labels: Sequence[str],
    C: float,
    n_splits: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Out-of-fold probabilities (n, k) of linear heads from :func:`grouped_folds`.
    A class missing from a training fold gets probability 0."""
    y_arr = np.asarray(y)
    out = np.zeros((len(y_arr), len(labels)), dtype=np.float64)
    for train, test in grouped_folds(X, y_arr, groups, n_splits, seed):
        present = [label for label in labels if label in set(y_arr[train])]
        head = fit_linear_head(X[train], y_arr[train], present, C)
        _place(out, test, head.predict_proba(X[test]), present, labels)
    return out


def grouped_oof_proba_mlp(
    X: np.ndarray,
    y: Labels,
    groups: Labels,
    labels: Sequence[str],
    hidden: int,
    alpha: float,
    epochs: Sequence[int],
    n_splits: int = 5,
    seed: int = 0,
) -> dict[int, np.ndarray]:
    """Like :func:`grouped_oof_proba` for an MLP, with the out-of-fold probabilities at
    every epoch count in ``epochs`` (same folds as the linear head for the same seed)."""
    y_arr = np.asarray(y)
    out = {e: np.zeros((len(y_arr), len(labels)), dtype=np.float64) for e in epochs}
    for train, test in grouped_folds(X, y_arr, groups, n_splits, seed):
        present = [label for label in labels if label in set(y_arr[train])]
        heads = mlp_checkpoints(X[train], y_arr[train], present, hidden, alpha, epochs, seed)
        for e, head in heads.items():
            _place(out[e], test, head.predict_proba(X[test]), present, labels)
    return out
