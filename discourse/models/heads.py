"""Linear heads on encoder features: multinomial logistic regression in numpy.

Weights live in ``model.safetensors`` (``coef`` (k, d), ``intercept`` (k,), and
optionally ``mean`` / ``scale`` (d,) for feature standardisation); everything else
(labels, feature spec, encoder, library versions, training data, metrics) in
``model.json``. Training uses scikit-learn and exports the coefficients; nothing is
ever pickled, and prediction needs only numpy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.errors import ModelError

WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"


class LinearHead:
    """``predict_proba(X) = softmax(((X - mean) / scale) @ coef.T + intercept)``.

    Construct with a folder (weights load on first use) or with :meth:`from_arrays`.
    """

    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = folder
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.meta_: dict[str, Any] | None = None

    @classmethod
    def from_arrays(
        cls,
        coef: np.ndarray,
        intercept: np.ndarray,
        labels: Sequence[str],
        mean: np.ndarray | None = None,
        scale: np.ndarray | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> LinearHead:
        head = cls()
        head.coef_ = np.asarray(coef, dtype=np.float32)
        head.intercept_ = np.asarray(intercept, dtype=np.float32)
        head.mean_ = None if mean is None else np.asarray(mean, dtype=np.float32)
        head.scale_ = None if scale is None else np.asarray(scale, dtype=np.float32)
        head.meta_ = {**(meta or {}), "labels": list(labels)}
        head._check()
        return head

    # -- loading ------------------------------------------------------------------
    def _load(self) -> None:
        if self.coef_ is not None:
            return
        if self.folder is None:
            raise ModelError("LinearHead has neither a folder nor arrays")
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        folder = Path(self.folder)
        try:
            tensors = load_file(str(folder / WEIGHTS_FILE))
            self.meta_ = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, SafetensorError) as exc:
            raise ModelError(f"could not load linear head from {folder}: {exc}") from exc
        self.coef_ = tensors["coef"].astype(np.float32)
        self.intercept_ = tensors["intercept"].astype(np.float32)
        self.mean_ = tensors.get("mean")
        self.scale_ = tensors.get("scale")
        self._check()

    def _check(self) -> None:
        assert self.coef_ is not None and self.intercept_ is not None and self.meta_ is not None
        k, d = self.coef_.shape
        labels = self.meta_.get("labels", [])
        if len(labels) != k or self.intercept_.shape != (k,):
            raise ModelError(f"linear head: {len(labels)} labels but coef {self.coef_.shape}, "
                             f"intercept {self.intercept_.shape}")
        for name, arr in (("mean", self.mean_), ("scale", self.scale_)):
            if arr is not None and arr.shape != (d,):
                raise ModelError(f"linear head: {name} has shape {arr.shape}, expected ({d},)")

    @property
    def labels(self) -> tuple[str, ...]:
        self._load()
        assert self.meta_ is not None
        return tuple(self.meta_["labels"])

    @property
    def meta(self) -> dict[str, Any]:
        self._load()
        assert self.meta_ is not None
        return self.meta_

    @property
    def n_features(self) -> int:
        self._load()
        assert self.coef_ is not None
        return int(self.coef_.shape[1])

    # -- prediction ---------------------------------------------------------------
    def decision_function(self, X: np.ndarray) -> np.ndarray:
        self._load()
        assert self.coef_ is not None and self.intercept_ is not None
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.coef_.shape[1]:
            raise ModelError(f"linear head expects (n, {self.coef_.shape[1]}) features, got {X.shape}")
        if self.mean_ is not None:
            X = X - self.mean_
        if self.scale_ is not None:
            X = X / self.scale_
        return X @ self.coef_.T + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return softmax(self.decision_function(X))

    # -- saving -------------------------------------------------------------------
    def save(self, folder: Path | str, meta: Mapping[str, Any] | None = None) -> Path:
        """Write ``model.safetensors`` and ``model.json`` atomically; return the folder."""
        self._load()
        assert self.coef_ is not None and self.intercept_ is not None and self.meta_ is not None
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {"coef": self.coef_, "intercept": self.intercept_}
        if self.mean_ is not None:
            tensors["mean"] = self.mean_
        if self.scale_ is not None:
            tensors["scale"] = self.scale_
        self.meta_ = {**self.meta_, **(meta or {}), "labels": list(self.meta_["labels"])}
        self.meta_["n_features"] = int(self.coef_.shape[1])
        tmp = folder / (WEIGHTS_FILE + ".tmp")
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp))
        os.replace(tmp, folder / WEIGHTS_FILE)
        tmp = folder / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(self.meta_, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, folder / META_FILE)
        self.folder = folder
        return folder


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# -- training (scikit-learn; not needed at prediction time) --------------------------
def library_versions() -> dict[str, str]:
    import safetensors
    import sklearn

    return {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "safetensors": safetensors.__version__}


def fit_linear_head(
    X: np.ndarray, y: Sequence[str], labels: Sequence[str], C: float, standardize: bool = True,
    max_iter: int = 3000,
) -> LinearHead:
    """Fit a class-balanced multinomial logistic regression and export it as a LinearHead."""
    from sklearn.linear_model import LogisticRegression

    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0) if standardize else None
    scale = None
    if standardize:
        scale = X.std(axis=0)
        scale[scale < 1e-8] = 1.0
        X = (X - mean) / scale
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=max_iter)
    clf.fit(X, np.asarray(y))
    missing = set(labels) - set(clf.classes_)
    if missing:
        raise ModelError(f"training data has no examples of {sorted(missing)}")
    order = [list(clf.classes_).index(label) for label in labels]
    return LinearHead.from_arrays(clf.coef_[order], clf.intercept_[order], labels, mean, scale,
                                  {"C": C, "standardize": standardize, "versions": library_versions()})


def grouped_oof_proba(
    X: np.ndarray, y: Sequence[str], groups: Sequence[str], labels: Sequence[str], C: float,
    n_splits: int = 5, seed: int = 0,
) -> np.ndarray:
    """Out-of-fold probabilities (n, k) from stratified GROUPED k-fold: no group is ever
    on both sides of a fold. A class missing from a training fold gets probability 0."""
    from sklearn.model_selection import StratifiedGroupKFold

    y_arr = np.asarray(y)
    out = np.zeros((len(y_arr), len(labels)), dtype=np.float64)
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for train, test in cv.split(X, y_arr, np.asarray(groups)):
        present = [label for label in labels if label in set(y_arr[train])]
        head = fit_linear_head(X[train], y_arr[train], present, C)
        proba = head.predict_proba(X[test])
        for j, label in enumerate(present):
            out[test, list(labels).index(label)] = proba[:, j]
    return out


def select_C(
    X: np.ndarray, y: Sequence[str], groups: Sequence[str], labels: Sequence[str], Cs: Sequence[float],
    n_splits: int = 5, seed: int = 0,
) -> tuple[float, dict[float, float], np.ndarray]:
    """Pick C by macro-F1 of grouped out-of-fold predictions.
    Returns (best C, macro-F1 per C, out-of-fold probabilities at the best C)."""
    from sklearn.metrics import f1_score

    scores: dict[float, float] = {}
    oofs: dict[float, np.ndarray] = {}
    for C in Cs:
        oof = grouped_oof_proba(X, y, groups, labels, C, n_splits, seed)
        pred = np.asarray(labels)[oof.argmax(axis=1)]
        scores[C] = float(f1_score(np.asarray(y), pred, labels=list(labels), average="macro", zero_division=0))
        oofs[C] = oof
    best = max(Cs, key=lambda c: (scores[c], -c))
    return best, scores, oofs[best]
