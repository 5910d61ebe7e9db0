"""Which toxicity model a config names, and how its label scores become one overall score.

A ``toxicity.v1`` model spec is one of::

    {"name": "tox-block-0.1.2"}                       # shipped, sha256-checked via models/registry.json
    {"hf_model": "<local folder or cached hub id>",   # any Hugging Face sequence classifier
     "labels": ["non-toxic", "toxic"],                # optional: rename classes in id order
     "batch_size": 32, "max_length": 256}             # optional

``hf_model`` wins over ``name``: a user config is deep-merged over the default one, so a spec
that gives ``hf_model`` also carries the default ``name`` (which is then ignored).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from discourse.errors import ConfigError, ModelError
from discourse.models.base import Classifier

NON_TOXIC_LABELS = frozenset(
    {
        "neutral",
        "nontoxic",
        "nottoxic",
        "normal",
        "clean",
        "none",
        "safe",
        "acceptable",
        "nonoffensive",
        "notoffensive",
        "nonabusive",
        "notabusive",
        "nonhate",
        "nothate",
        "nohate",
    }
)
"""Label names (lower-cased, with ``-``, ``_`` and spaces removed) that mean "not toxic"."""

_HF_KEYS = {"hf_model", "labels", "batch_size", "max_length", "name"}
_SHIPPED_KEYS = {"name", "batch_size"}


def build_toxicity_model(spec: Mapping[str, Any]) -> Classifier:
    """Build (but do not load) the classifier a ``toxicity.v1`` model spec names."""
    spec = dict(spec)
    if "hf_model" in spec:
        unknown = set(spec) - _HF_KEYS
        if unknown:
            raise ConfigError(f"toxicity model spec: unknown key(s) {sorted(unknown)} next to hf_model")
        from discourse.models.hf import HFSequenceClassifier

        labels = spec.get("labels")
        return HFSequenceClassifier(
            str(spec["hf_model"]),
            labels=None if labels is None else list(labels),
            batch_size=int(spec.get("batch_size", 32)),
            max_length=int(spec.get("max_length", 256)),
        )
    if "name" in spec:
        unknown = set(spec) - _SHIPPED_KEYS
        if unknown:
            raise ConfigError(f"toxicity model spec: unknown key(s) {sorted(unknown)} next to name")
        from discourse.models.registry import load_registry
        from discourse.models.toxblock import ToxBlockClassifier

        name = str(spec["name"])
        entry = load_registry().get(name)
        if entry is None:
            shipped = ", ".join(sorted(load_registry()))
            raise ModelError(f"unknown toxicity model {name!r}; shipped: {shipped}")
        if entry.get("kind") != "toxblock":
            raise ConfigError(f"model {name!r} is a {entry.get('kind')!r} model, not a toxicity model")
        return ToxBlockClassifier(name, batch_size=int(spec.get("batch_size", 256)))
    raise ConfigError("a toxicity model spec needs 'name' (a shipped model) or 'hf_model' (a folder or hub id)")


def _norm(label: str) -> str:
    return re.sub(r"[\s_\-]+", "", label.lower())


def non_toxic_labels(labels: Any) -> list[str]:
    """The labels that mean "not toxic": names in :data:`NON_TOXIC_LABELS`, and ``LABEL_0``
    when every label is a generic ``LABEL_k`` (classifiers conventionally put the
    negative class first)."""
    labels = list(labels)
    named = [k for k in labels if _norm(k) in NON_TOXIC_LABELS]
    if named:
        return named
    if labels and all(re.fullmatch(r"LABEL_\d+", k) for k in labels) and "LABEL_0" in labels:
        return ["LABEL_0"]
    return []


def overall_toxicity(scores: Mapping[str, float]) -> float:
    """One score in 0..1 from a model's per-label scores.

    * If some labels mean "not toxic" (see :func:`non_toxic_labels`; e.g. ``normal`` in a
      normal / offensive / hate softmax): ``1 - p(not toxic)``, the probability mass on the
      toxic classes, summing the non-toxic labels if there are several.
    * Otherwise (tox-block's six Jigsaw sigmoids, any multi-label model): the maximum over labels.
    """
    if not scores:
        return 0.0
    neg = non_toxic_labels(scores)
    value = 1.0 - sum(float(scores[k]) for k in neg) if neg else max(float(v) for v in scores.values())
    return min(1.0, max(0.0, value))
