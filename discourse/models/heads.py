"""Heads on encoder features, evaluated in numpy: a multinomial logistic regression
(:class:`LinearHead`) and a one-hidden-layer ReLU network (:class:`MLPHead`).

Weights live in ``model.safetensors`` (linear: ``coef`` (k, d), ``intercept`` (k,);
MLP: ``W1`` (d, h), ``b1`` (h,), ``W2`` (h, k), ``b2`` (k,); both optionally ``mean`` /
``scale`` (d,) for feature standardisation); everything else (``head`` kind, labels,
feature spec, encoder, library versions, training data, metrics) in ``model.json``.
Fitting (scikit-learn, exporting the arrays) lives in :mod:`discourse.train.heads`; nothing
is ever pickled, and prediction needs only numpy. :func:`load_head` picks the class from
``model.json``.
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
