"""The toxicity head (model kind ``toxicity_head``): a logistic head on the shared encoder vector
plus a feature model's six label logits (tox-block), blended with the feature model's max.

``model.safetensors`` holds ``weight`` (d + 6,) and ``bias`` (1,) with the feature
standardisation folded in; ``model.json`` holds the blend constants and a Platt map::

    head = [vector, logit(tox6)] . weight + bias
    z    = (1 - beta) * (head - head_mean) / head_std + beta * (logit(max tox6) - tox_mean) / tox_std
    p    = sigmoid(a * z + b)          # (a, b): the shipped Platt map, or a site's calibration

``z`` is a ranking score; ``p`` is a probability only as far as the Platt map fits the site
(see the model card). Prediction is numpy only; weights load on first use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.core.errors import ModelError
from discourse.core.modelfiles import ModelRecord

FEATURE_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")

PRODUCT_LABELS = {  # product label -> the feature model's label it is read from
    "severe_toxicity": "severe_toxic",
    "insult": "insult",
    "threat": "threat",
    "identity_attack": "identity_hate",
    "profanity": "obscene",
}
"""``toxicity`` itself is the head's overall score; the others are tox-block's raw scores."""


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) with p clipped to [1e-6, 1 - 1e-6]."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def product_labels(score: float, tox: Mapping[str, float]) -> dict[str, float]:
    """The product's six labels from the overall score and the feature model's raw labels."""
    out = {"toxicity": float(score)}
    out.update({k: float(tox[v]) for k, v in PRODUCT_LABELS.items() if v in tox})
    return out


class ToxicityHead:
    """A blended logistic head over ``[encoder vector, logit(feature scores)]``.

    Parameters are stored only; ``model.json`` and the weights load on first use.
    """

    def __init__(self, name: str, folder: Path | str, record: ModelRecord | None = None) -> None:
        self.name = name
        self.folder = Path(folder)
        self.verified = record
        self.meta_: dict[str, Any] | None = None
        self.weight_: np.ndarray | None = None
        self.bias_: float = 0.0

    def _load(self) -> dict[str, Any]:
        if self.meta_ is not None:
            return self.meta_
        try:
            meta = json.loads((self.folder / "model.json").read_text(encoding="utf-8"))
            from safetensors.numpy import load_file

            arrays = load_file(str(self.folder / "model.safetensors"))
            self.weight_ = np.asarray(arrays["weight"], dtype=np.float64).reshape(-1)
            self.bias_ = float(np.asarray(arrays["bias"], dtype=np.float64).reshape(-1)[0])
            blend = meta["blend"]
            for key in ("beta", "head_mean", "head_std", "tox_mean", "tox_std"):
                float(blend[key])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"model {self.name}: cannot load the toxicity head in {self.folder}: {exc}") from exc
        self.meta_ = meta
        return meta

    @property
    def feature_labels(self) -> tuple[str, ...]:
        return tuple(self._load().get("feature_labels", FEATURE_LABELS))

    @property
    def feature_model(self) -> str:
        return str(self._load().get("feature_model", "tox-block-0.1.2"))

    @property
    def platt(self) -> tuple[float, float]:
        p = self._load().get("platt", {"a": 1.0, "b": 0.0})
        return float(p["a"]), float(p["b"])

    def record(self) -> ModelRecord:
        if self.verified is None:
            from discourse.core.modelfiles import record_folder

            self.verified = record_folder(self.name, "local-folder", self.folder)
        return self.verified

    def features(self, vectors: np.ndarray, tox: Sequence[Mapping[str, float]]) -> np.ndarray:
        """(n, d + 6): the encoder vectors beside the logits of the feature model's labels."""
        labels = self.feature_labels
        t = np.array([[row[k] for k in labels] for row in tox], dtype=np.float64).reshape(len(tox), len(labels))
        return np.hstack([np.asarray(vectors, dtype=np.float64), logit(t)])

    def blend_z(self, vectors: np.ndarray, tox: Sequence[Mapping[str, float]]) -> np.ndarray:
        """The blended ranking score ``z`` of each row."""
        meta = self._load()
        assert self.weight_ is not None
        X = self.features(vectors, tox)
        if X.shape[1] != len(self.weight_):
            raise ModelError(f"model {self.name}: {len(self.weight_)} weights but {X.shape[1]} features")
        b = meta["blend"]
        head = X @ self.weight_ + self.bias_
        tmax = X[:, -len(self.feature_labels) :].max(axis=1)
        beta = float(b["beta"])
        return (1 - beta) * (head - b["head_mean"]) / b["head_std"] + beta * (tmax - b["tox_mean"]) / b["tox_std"]

    def predict(
        self, vectors: np.ndarray, tox: Sequence[Mapping[str, float]], calibration: tuple[float, float] | None = None
    ) -> np.ndarray:
        """The overall score in 0..1: ``sigmoid(a z + b)`` with the site's (a, b) or the shipped Platt map."""
        a, b = calibration or self.platt
        return sigmoid(a * self.blend_z(vectors, tox) + b)
