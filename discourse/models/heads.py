"""Heads on encoder features, evaluated in numpy: a multinomial logistic regression
(:class:`LinearHead`) and a one-hidden-layer ReLU network (:class:`MLPHead`).

Weights live in ``model.safetensors`` (linear: ``coef`` (k, d), ``intercept`` (k,);
MLP: ``W1`` (d, h), ``b1`` (h,), ``W2`` (h, k), ``b2`` (k,); both optionally ``mean`` /
``scale`` (d,) for feature standardisation); everything else (``head`` kind, labels,
feature spec, encoder, library versions, training data, metrics) in ``model.json``.
Training uses scikit-learn and exports the arrays; nothing is ever pickled, and
prediction needs only numpy. :func:`load_head` picks the class from ``model.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from discourse.core.errors import ModelError

WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"


class _Head:
    """Lazy loading, standardisation, labels and atomic saving shared by the heads.

    Subclasses name their weight arrays in ``ARRAYS`` (stored as ``<name>_`` attributes),
    check their shapes in :meth:`_check_arrays` and map standardised features to logits
    in :meth:`_logits`.
    """

    KIND: ClassVar[str] = ""
    ARRAYS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = folder
        for name in self.ARRAYS:
            setattr(self, f"{name}_", None)
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.meta_: dict[str, Any] | None = None

    def _arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, f"{name}_") for name in self.ARRAYS}

    def _set_arrays(
        self,
        arrays: Mapping[str, Any],
        labels: Sequence[str],
        mean: np.ndarray | None,
        scale: np.ndarray | None,
        meta: Mapping[str, Any] | None,
    ) -> None:
        for name in self.ARRAYS:
            setattr(self, f"{name}_", np.asarray(arrays[name], dtype=np.float32))
        self.mean_ = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.scale_ = None if scale is None else np.asarray(scale, dtype=np.float32)
        self.meta_ = {**(meta or {}), "labels": list(labels)}
        self._check()

    # -- loading ------------------------------------------------------------------
    def _load(self) -> None:
        if self.meta_ is not None:
            return
        if self.folder is None:
            raise ModelError(f"{type(self).__name__} has neither a folder nor arrays")
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        folder = Path(self.folder)
        try:
            tensors = load_file(str(folder / WEIGHTS_FILE))
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, SafetensorError) as exc:
            raise ModelError(f"could not load {self.KIND} head from {folder}: {exc}") from exc
        missing = [name for name in self.ARRAYS if name not in tensors]
        if missing:
            raise ModelError(f"{self.KIND} head in {folder}: {WEIGHTS_FILE} lacks {missing}")
        for name in self.ARRAYS:
            setattr(self, f"{name}_", tensors[name].astype(np.float32))
        self.mean_ = tensors.get("mean")
        self.scale_ = tensors.get("scale")
        self.meta_ = meta
        self._check()

    def _check(self) -> None:
        assert self.meta_ is not None
        d = self._check_arrays(len(self.meta_.get("labels", [])))
        for name, arr in (("mean", self.mean_), ("scale", self.scale_)):
            if arr is not None and arr.shape != (d,):
                raise ModelError(f"{self.KIND} head: {name} has shape {arr.shape}, expected ({d},)")

    def _check_arrays(self, k: int) -> int:
        """Raise ModelError unless the arrays fit ``k`` labels; return the number of features."""
        raise NotImplementedError

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
        return self._check_arrays(len(self.labels))

    # -- prediction ---------------------------------------------------------------
    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Logits (n, k)."""
        d = self.n_features
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != d:
            raise ModelError(f"{self.KIND} head expects (n, {d}) features, got {X.shape}")
        if self.mean_ is not None:
            X = X - self.mean_
        if self.scale_ is not None:
            X = X / self.scale_
        return self._logits(X)

    def _logits(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return softmax(self.decision_function(X))

    # -- saving -------------------------------------------------------------------
    def save(self, folder: Path | str, meta: Mapping[str, Any] | None = None) -> Path:
        """Write ``model.safetensors`` and ``model.json`` atomically; return the folder."""
        self._load()
        assert self.meta_ is not None
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = self._arrays()
        if self.mean_ is not None:
            tensors["mean"] = self.mean_
        if self.scale_ is not None:
            tensors["scale"] = self.scale_
        self.meta_ = {**self.meta_, **(meta or {}), "labels": list(self.meta_["labels"]), "head": self.KIND}
        self.meta_["n_features"] = self.n_features
        tmp = folder / (WEIGHTS_FILE + ".tmp")
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp))
        os.replace(tmp, folder / WEIGHTS_FILE)
        tmp = folder / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(self.meta_, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, folder / META_FILE)
        self.folder = folder
        return folder


class LinearHead(_Head):
    """``predict_proba(X) = softmax(((X - mean) / scale) @ coef.T + intercept)``.

    Construct with a folder (weights load on first use) or with :meth:`from_arrays`.
    """

    KIND = "linear"
    ARRAYS = ("coef", "intercept")
    coef_: np.ndarray | None
    intercept_: np.ndarray | None

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
        head._set_arrays({"coef": coef, "intercept": intercept}, labels, mean, scale, meta)
        return head

    def _check_arrays(self, k: int) -> int:
        assert self.coef_ is not None and self.intercept_ is not None
        if self.coef_.ndim != 2 or self.coef_.shape[0] != k or self.intercept_.shape != (k,):
            raise ModelError(f"linear head: {k} labels but coef {self.coef_.shape}, intercept {self.intercept_.shape}")
        return int(self.coef_.shape[1])

    def _logits(self, X: np.ndarray) -> np.ndarray:
        assert self.coef_ is not None and self.intercept_ is not None
        return X @ self.coef_.T + self.intercept_


class MLPHead(_Head):
    """``predict_proba(X) = softmax(relu(((X - mean) / scale) @ W1 + b1) @ W2 + b2)``.

    One hidden layer, the layout of scikit-learn's ``MLPClassifier.coefs_`` /
    ``intercepts_``. Construct with a folder (weights load on first use) or with
    :meth:`from_arrays`.
    """

    KIND = "mlp"
    ARRAYS = ("W1", "b1", "W2", "b2")
    W1_: np.ndarray | None
    b1_: np.ndarray | None
    W2_: np.ndarray | None
    b2_: np.ndarray | None

    @classmethod
    def from_arrays(
        cls,
        W1: np.ndarray,
        b1: np.ndarray,
        W2: np.ndarray,
        b2: np.ndarray,
        labels: Sequence[str],
        mean: np.ndarray | None = None,
        scale: np.ndarray | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> MLPHead:
        head = cls()
        head._set_arrays({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, labels, mean, scale, meta)
        return head

    def _check_arrays(self, k: int) -> int:
        W1, b1, W2, b2 = self.W1_, self.b1_, self.W2_, self.b2_
        assert W1 is not None and b1 is not None and W2 is not None and b2 is not None
        if (
            W1.ndim != 2
            or W2.ndim != 2
            or b1.shape != (W1.shape[1],)
            or W2.shape != (W1.shape[1], k)
            or b2.shape != (k,)
        ):
            raise ModelError(f"mlp head: {k} labels but W1 {W1.shape}, b1 {b1.shape}, W2 {W2.shape}, b2 {b2.shape}")
        return int(W1.shape[0])

    @property
    def hidden(self) -> int:
        self._load()
        assert self.W1_ is not None
        return int(self.W1_.shape[1])

    def _logits(self, X: np.ndarray) -> np.ndarray:
        assert self.W1_ is not None and self.b1_ is not None and self.W2_ is not None and self.b2_ is not None
        return np.maximum(X @ self.W1_ + self.b1_, 0.0) @ self.W2_ + self.b2_


HEADS: dict[str, type[_Head]] = {"linear": LinearHead, "mlp": MLPHead}
Head = LinearHead | MLPHead


def load_head(folder: Path | str) -> Head:
    """The head saved in ``folder``, of the kind ``model.json`` names (``head``; a file
    without it is a linear head, as written before MLP heads existed). Weights load lazily."""
    path = Path(folder) / META_FILE
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("head", "linear")
    except (OSError, ValueError, AttributeError) as exc:
        raise ModelError(f"could not read {path}: {exc}") from exc
    if kind not in HEADS:
        raise ModelError(f"{path}: unknown head kind {kind!r} (expected one of {', '.join(HEADS)})")
    return HEADS[kind](folder)  # type: ignore[return-value]


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# -- training (scikit-learn; not needed at prediction time) --------------------------
def library_versions() -> dict[str, str]:
    import safetensors
    import sklearn

    return {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "safetensors": safetensors.__version__}


def _standardize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-8] = 1.0
    return (X - mean) / scale, mean, scale


def fit_linear_head(
    X: np.ndarray,
    y: Sequence[str],
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
    missing = set(labels) - set(clf.classes_)
    if missing:
        raise ModelError(f"training data has no examples of {sorted(missing)}")
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
    y: Sequence[str],
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
    missing = set(labels) - set(y_arr)
    if missing:
        raise ModelError(f"training data has no examples of {sorted(missing)}")
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
            out[epoch] = export_mlp(
                clf,
                labels,
                mean,
                scale,
                {
                    "hidden": hidden,
                    "alpha": alpha,
                    "epochs": epoch,
                    "batch_size": batch_size,
                    "learning_rate": learning_rate,
                    "seed": seed,
                    "class_weight": "balanced (per-row weights)",
                    "standardize": True,
                    "versions": library_versions(),
                },
            )
    return out


def export_mlp(
    clf: Any,
    labels: Sequence[str],
    mean: np.ndarray | None,
    scale: np.ndarray | None,
    meta: Mapping[str, Any] | None = None,
) -> MLPHead:
    """An :class:`MLPHead` from a fitted one-hidden-layer ReLU ``MLPClassifier`` (4+ classes)."""
    if clf.activation != "relu" or len(clf.coefs_) != 2 or clf.out_activation_ != "softmax":
        raise ModelError("export_mlp needs a one-hidden-layer ReLU MLPClassifier with a softmax output")
    order = [list(clf.classes_).index(label) for label in labels]
    W1, W2 = clf.coefs_
    b1, b2 = clf.intercepts_
    return MLPHead.from_arrays(W1, b1, W2[:, order], b2[order], labels, mean, scale, meta)


def fit_mlp_head(
    X: np.ndarray, y: Sequence[str], labels: Sequence[str], hidden: int, alpha: float, epochs: int, seed: int = 0
) -> MLPHead:
    """:func:`mlp_checkpoints` at one epoch count."""
    return mlp_checkpoints(X, y, labels, hidden, alpha, [epochs], seed)[epochs]


def _grouped_folds(
    X: np.ndarray, y: np.ndarray, groups: Sequence[str], n_splits: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(cv.split(X, y, np.asarray(groups)))


def _place(out: np.ndarray, test: np.ndarray, proba: np.ndarray, present: Sequence[str], labels: Sequence[str]) -> None:
    for j, label in enumerate(present):
        out[test, list(labels).index(label)] = proba[:, j]


def grouped_oof_proba(
    X: np.ndarray,
    y: Sequence[str],
    groups: Sequence[str],
    labels: Sequence[str],
    C: float,
    n_splits: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Out-of-fold probabilities (n, k) from stratified GROUPED k-fold: no group is ever
    on both sides of a fold. A class missing from a training fold gets probability 0."""
    y_arr = np.asarray(y)
    out = np.zeros((len(y_arr), len(labels)), dtype=np.float64)
    for train, test in _grouped_folds(X, y_arr, groups, n_splits, seed):
        present = [label for label in labels if label in set(y_arr[train])]
        head = fit_linear_head(X[train], y_arr[train], present, C)
        _place(out, test, head.predict_proba(X[test]), present, labels)
    return out


def grouped_oof_proba_mlp(
    X: np.ndarray,
    y: Sequence[str],
    groups: Sequence[str],
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
    for train, test in _grouped_folds(X, y_arr, groups, n_splits, seed):
        present = [label for label in labels if label in set(y_arr[train])]
        heads = mlp_checkpoints(X[train], y_arr[train], present, hidden, alpha, epochs, seed)
        for e, head in heads.items():
            _place(out[e], test, head.predict_proba(X[test]), present, labels)
    return out


def select_C(
    X: np.ndarray,
    y: Sequence[str],
    groups: Sequence[str],
    labels: Sequence[str],
    Cs: Sequence[float],
    n_splits: int = 5,
    seed: int = 0,
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
